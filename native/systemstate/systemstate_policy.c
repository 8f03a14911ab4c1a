/* The System State policy: a policy of its own (kind SystemState), with a schedule and a retention. */
#include "obagent/policy.h"
#include "agent/agent_internal.h"
#include "agent/repo_open.h"
#include "catalog/policy.h"
#include "util/env.h"
#include "util/error.h"
#include "policy/policy_internal.h"
#include "vault/snapshot.h"
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND "SystemState"

int ob_systemstate_policy_commit(ob_policy **out, ob_agent *agent, const ob_schedule *schedule, const ob_retention *retention)
{
	ob_registration *reg = NULL;
	ob_schedule sched;
	char *stext = NULL, *rtext = NULL, guid[37];
	int64_t now;
	int error;

	if (out)
		*out = NULL;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_clock_now(&now)) < 0)
		goto done;
	if (schedule) {
		sched = *schedule;
		sched.system_state = 1;
		if (sched.anchor_date == 0 && (error = ob_schedule_set_anchor(&sched, now)) < 0)
			goto done;
		if ((error = ob_schedule_validate(&sched)) < 0 || (error = ob_schedule_to_string(&stext, &sched)) < 0)
			goto done;
	}
	if (retention && ((error = ob_retention_validate(retention, schedule ? &sched : NULL)) < 0 ||
		(error = ob_retention_to_string(&rtext, retention)) < 0))
		goto done;
	ob_guid_new(guid);
	if ((error = ob_catalog_systemstate_policy_save(agent->cat, guid, stext, rtext, now)) < 0)
		goto done;
	if (out)
		error = ob_systemstate_policy_get(out, agent);
done:
	free(stext);
	free(rtext);
	ob_registration_free(reg);
	return error;
}

/* The policy struct is policy.c's: read it through the kind-generic reader there. */
int ob_systemstate_policy_get(ob_policy **out, ob_agent *agent)
{
	int error = ob_policy_get_kind(out, agent, KIND);

	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID,
			"No System State policy is set on this server. Make one with New-OBPolicy | Add-OBSystemState and "
			"commit it with Set-OBSystemStatePolicy.");
	return error;
}

int ob_systemstate_policy_set_state(ob_agent *agent, int state)
{
	int error = ob_policy_set_state_kind(agent, KIND, state);

	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID,
			"No System State policy is set on this server. Make one with New-OBPolicy | Add-OBSystemState and "
			"commit it with Set-OBSystemStatePolicy.");
	return error;
}

int ob_policy_delete_backups(ob_agent *agent, const char *kind, const char *security_pin)
{
	ob_repo repo;
	ob_recovery_point **pts = NULL;
	size_t n = 0, i;
	int64_t now;
	int error;

	if ((error = ob_clock_now(&now)) < 0 || (error = ob_agent_pin_check(agent, security_pin, "Deleting backups")) < 0)
		return error;
	if ((error = ob_agent_repo_open(&repo, agent, NULL)) < 0) {
		if (error == OB_ENOKEY) {
			ob_error_clear();
			return 0;  /* no passphrase was ever set: there are no backups to delete */
		}
		return error;
	}
	if ((error = ob_repo_list_points(&pts, &n, &repo, OB_POINTS_DAMAGED)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++)
		if (!kind || strcmp(pts[i]->kind, kind) == 0 || pts[i]->damaged)
			error = ob_recovery_point_mark_deleted(&repo, pts[i]->id,
				"deleted with the policy (Remove-OBPolicy -DeleteBackup)", now);
done:
	ob_recovery_points_free(pts, n);
	ob_repo_dispose(&repo);
	return error;
}

int ob_systemstate_policy_remove(ob_agent *agent, int delete_backup, const char *security_pin)
{
	int error;

	if (delete_backup && (error = ob_policy_delete_backups(agent, KIND, security_pin)) < 0)
		return error;
	return ob_policy_remove_kind(agent, KIND, delete_backup, 0);
}
