/*
 * Opening a vault area for this agent (agent/repo_open.h): registration, key and
 * throttle. Both openers go through open_throttled, so that another server's
 * data read for a restore is held to the bandwidth settings like our own.
 */
#include "agent/repo_open.h"
#include "storage/throttle.h"
#include "util/error.h"

#include <string.h>

/* Hold r's transfers to the machine's bandwidth settings; r is disposed on failure. */
static int throttle(ob_repo *r, ob_agent *agent)
{
	ob_machine_settings *ms = NULL;
	int error = 0;

	if (ob_agent_settings(&ms, agent) == 0 && ms->throttle_enabled) {
		ob_throttle_settings ts;
		ts.work_days = ms->work_days;
		ts.start_minute = ms->start_work_minute;
		ts.end_minute = ms->end_work_minute;
		ts.work_bandwidth = ms->work_hour_bandwidth;
		ts.non_work_bandwidth = ms->non_work_hour_bandwidth;
		error = ob_backend_throttle_wrap(&r->vc.be, &ts);
	}
	ob_machine_settings_free(ms);
	ob_error_clear();
	if (error < 0)
		ob_repo_dispose(r);
	return error;
}

/* Open a server's area of the registered vault with its master key, throttled. */
static int open_throttled(ob_repo *r, ob_agent *agent, const ob_registration *reg, const char *server_id,
	const char *server_name, const uint8_t master[OB_MASTER_KEY_BYTES])
{
	int error = ob_repo_open_key(r, reg->vault_location, server_id, server_name, master);

	return error < 0 ? error : throttle(r, agent);
}

int ob_agent_repo_open(ob_repo *r, ob_agent *agent, ob_registration **out_reg)
{
	ob_registration *reg = NULL;
	uint8_t master[OB_MASTER_KEY_BYTES];
	int64_t seq = 0;
	int error;

	memset(r, 0, sizeof(*r));
	if (out_reg)
		*out_reg = NULL;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_agent_master_key_seq(master, &seq, agent, reg)) == 0 &&
	    (error = open_throttled(r, agent, reg, reg->server_id, reg->server_name, master)) == 0)
		r->key_sequence = seq;
	ob_wipe(master, sizeof(master));
	if (error == 0 && strcmp(r->vc.id, reg->vault_id) != 0) {
		ob_repo_dispose(r);
		error = ob_err(OB_EFOREIGN, OB_ERRCLASS_VAULT,
			"The vault at '%s' is not the vault this server registered to. Register again.", reg->vault_location);
	}
	if (error == 0 && out_reg)
		*out_reg = reg;
	else
		ob_registration_free(reg);
	return error;
}

int ob_agent_repo_open_server(ob_repo *r, ob_agent *agent, const char *server_name,
	const uint8_t master[OB_MASTER_KEY_BYTES])
{
	ob_registration *reg = NULL;
	char id[33];
	int error;

	memset(r, 0, sizeof(*r));
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	ob_vault_server_id(id, server_name);
	error = open_throttled(r, agent, reg, id, server_name, master);
	ob_registration_free(reg);
	return error;
}
