/* Internal: what other parts of the engine need of the agent. */
#ifndef OB_NATIVE_AGENT_INTERNAL_H
#define OB_NATIVE_AGENT_INTERNAL_H

#include "obagent/agent.h"
#include "catalog/catalog.h"
#include "vault/crypto.h"

struct ob_agent {
	char *home;
	char *server_name;
	char *secrets_dir;
	ob_catalog *cat;
};

/** This server's master key, from the agent's key file (OB_ENOKEY when none). */
int ob_agent_master_key(uint8_t master[OB_MASTER_KEY_BYTES], ob_agent *agent, const ob_registration *reg);
/** The same, and the sequence of the keys/<seq> record it came from (0 when the key file does not say). */
int ob_agent_master_key_seq(uint8_t master[OB_MASTER_KEY_BYTES], int64_t *out_seq, ob_agent *agent,
	const ob_registration *reg);

/**
 * Check a security PIN from the vault owner for a sensitive operation (what:
 * "Deleting backups", named in the message when the PIN is missing). 0 when the
 * PIN is valid; OB_EAUTH missing, malformed or wrong; OB_EEXPIRED expired.
 */
int ob_agent_pin_check(ob_agent *agent, const char *security_pin, const char *what);

#endif
