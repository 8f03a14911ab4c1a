/*
 * Internal: opening a vault area for this agent. The registration names the
 * vault, a key opens the area, and the machine's bandwidth settings
 * (Set-OBMachineSetting -WorkHourBandwidth ...) hold every transfer to and from
 * it: this server's own area, and another server's opened to restore from it.
 * vault/repo.h opens an area with a key and knows nothing of the agent.
 */
#ifndef OB_NATIVE_AGENT_REPO_OPEN_H
#define OB_NATIVE_AGENT_REPO_OPEN_H

#include "agent/agent_internal.h"
#include "vault/repo.h"

/**
 * Open this server's area with its local key. r: ob_repo_dispose; *out_reg
 * (may be NULL): the registration, ob_registration_free. OB_EFOREIGN when the
 * vault is not the one this server registered to.
 */
int ob_agent_repo_open(ob_repo *r, ob_agent *agent, ob_registration **out_reg);

/**
 * Open another server's area of the vault this server is registered to, with
 * that server's master key (from ob_recovery_unwrap). r: ob_repo_dispose.
 */
int ob_agent_repo_open_server(ob_repo *r, ob_agent *agent, const char *server_name,
	const uint8_t master[OB_MASTER_KEY_BYTES]);

#endif
