/*
 * The scheduler's step (ob_schedule_run_due, run by `obagent service`): for each
 * kind of policy, start its backup job when a scheduled time was missed; and,
 * once a day, the pruning pass of a kind whose policy was removed with pruning
 * (its points age out by the rules the removal kept: docs/RETENTION.md).
 */
#include "obagent/job.h"
#include "obagent/policy.h"
#include "agent/agent_internal.h"
#include "agent/lock.h"
#include "jobs/mount.h"
#include "agent/repo_open.h"
#include "catalog/policy.h"
#include "catalog/scheduler.h"
#include "util/env.h"
#include "util/error.h"
#include "util/util.h"
#include "policy/policy_internal.h"
#include "policy/expiry.h"
#include "platform/platform.h"
#include "jobs/drill_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A due run that could not start is still a job in the history, as MARS shows it. */
static void record_refused(ob_agent *agent, int64_t now, const char *message)
{
	char id[37];

	ob_guid_new(id);
	ob_catalog_job_record_refused(agent->cat, id, now, OB_ELOCKED, message);
}

/* One kind's step: *out the started job or NULL; *out_next its next time (0: none). */
static int run_due_kind(ob_job_info **out, int64_t *out_next, ob_agent *agent, const char *kind, int64_t now)
{
	ob_policy *policy = NULL;
	ob_schedule sched;
	char *last_text = NULL, num[32], key[64];
	int64_t last, slot = 0;
	int missed = 0, error, system_state = !strcmp(kind, "SystemState");

	*out = NULL;
	*out_next = 0;
	error = ob_policy_get_kind(&policy, agent, kind);
	if (error == OB_ENOTFOUND) {
		ob_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	if (ob_policy_schedule(&sched, policy) < 0) {
		ob_error_clear();
		goto done;  /* no schedule: nothing runs by itself */
	}
	if (ob_schedule_next(out_next, &sched, now) < 0)
		*out_next = 0;
	if (ob_policy_state_get(policy) == OB_POLICY_PAUSED)
		goto done;
	/* The last scheduled run, or else the policy's commit: a new policy does not run for times before it. */
	snprintf(key, sizeof(key), "schedule.last_run.%s", kind);
	last = ob_catalog_policy_modified_at(agent->cat, kind);
	if (ob_catalog_setting_get(&last_text, agent->cat, key) == 0) {
		int64_t t;
		if (ob_parse_i64(&t, last_text) == 0 && t > last)
			last = t;
	}
	ob_error_clear();
	if ((error = ob_schedule_missed(&missed, &slot, &sched, last, now)) < 0 || !missed)
		goto done;
	/* Remember the run before starting it: one run for any number of missed times, never a burst. */
	snprintf(num, sizeof(num), "%lld", (long long)now);
	if ((error = ob_catalog_setting_set(agent->cat, key, num)) < 0)
		goto done;
	error = system_state ? ob_systemstate_backup_start(out, agent) : ob_backup_start(out, agent, 0);
	if (error == OB_ELOCKED) {
		record_refused(agent, now, ob_error_last());
		ob_error_clear();
		error = 0;
	}
done:
	free(last_text);
	ob_policy_free(policy);
	return error;
}

/* How often the service runs the pruning pass of a kind without a policy. */
#define PRUNING_INTERVAL 86400

/*
 * The pruning pass of kind, when no policy of it is set, a removal with pruning
 * kept its rules, and the last pass is a day old (or never ran, or lies ahead of
 * a clock set back). A pass that fails is recorded as well: it is tried again the
 * next day and after every backup of the other kind, not at every step.
 */
static int prune_due_kind(ob_agent *agent, const char *kind, int64_t now)
{
	ob_policy *policy = NULL;
	ob_repo repo;
	char *text = NULL;
	int64_t last = 0;
	int fd = -1, ran = 0, error;

	if ((error = ob_policy_get_kind(&policy, agent, kind)) != OB_ENOTFOUND) {
		ob_policy_free(policy);
		return error < 0 ? error : 0;  /* a policy: its own backups apply its retention */
	}
	ob_error_clear();
	error = ob_catalog_pruning_get(&text, &last, agent->cat, kind);
	free(text);
	if (error == OB_ENOTFOUND)
		return 0;
	if (error < 0)
		return error;
	if (last > 0 && last <= now && now - last < PRUNING_INTERVAL)
		return 0;
	/* One job at a time: while one runs, the next step tries again (a backup runs this pass itself as it ends). */
	if ((error = ob_job_lock_take(&fd, agent)) == OB_ELOCKED) {
		ob_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	if ((error = ob_agent_repo_open(&repo, agent, NULL)) == 0) {
		error = ob_retention_apply_pruning(agent, &repo, kind, now, NULL);
		ran = error == 0;
		ob_repo_dispose(&repo);
	} else if (error == OB_ENOKEY) {
		ob_error_clear();
		error = 0;  /* no passphrase was ever set: no backups, nothing to age out */
	}
	if (!ran) {
		/* A pass that ran records itself; here one that failed, or found nothing to open. */
		char *message = error < 0 ? ob_strdup(ob_error_last()) : NULL;
		ob_catalog_pruning_passed(agent->cat, kind, now);
		if (message) {
			ob_err(error, OB_ERRCLASS_JOB, "The pruning pass of the %s points failed: %s", kind, message);
			free(message);
		}
	}
	ob_platform_close(fd);
	return error;
}

int ob_schedule_run_due(ob_job_info **out, int64_t *out_next, ob_agent *agent)
{
	ob_job_info *job = NULL;
	int64_t now, next_ff = 0, next_ss = 0, next_drill = 0;
	int error;

	if (out)
		*out = NULL;
	if (out_next)
		*out_next = 0;
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	/* A mount whose worker died: Failed, its stale mount point unmounted (docs/MOUNT.md). */
	ob_mount_reap(agent);
	/* Files and folders first; System State when files and folders did not start a job. */
	if ((error = run_due_kind(&job, &next_ff, agent, "FileFolder", now)) < 0)
		return error;
	if (!job && (error = run_due_kind(&job, &next_ss, agent, "SystemState", now)) < 0)
		return error;
	/* A due drill runs like a due backup; when a backup started now, at the next step after it. */
	if (!job && (error = ob_drill_run_due(&job, &next_drill, agent, now)) < 0)
		return error;
	/* A job started now holds the lock and runs the pruning passes itself when it ends. */
	if (!job && (error = prune_due_kind(agent, "FileFolder", now)) == 0)
		error = prune_due_kind(agent, "SystemState", now);
	if (out_next) {
		int64_t t = next_ff && next_ss ? (next_ff < next_ss ? next_ff : next_ss) : (next_ff ? next_ff : next_ss);
		*out_next = t && next_drill ? (t < next_drill ? t : next_drill) : (t ? t : next_drill);
	}
	if (out)
		*out = job;
	else
		ob_job_info_free(job);
	return error;
}

int ob_schedule_next_run(int64_t *out, ob_agent *agent, int system_state)
{
	ob_policy *policy = NULL;
	ob_schedule sched;
	int64_t now, next = 0;
	int error;

	if (!out || !agent)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "ob_schedule_next_run needs an out pointer and an agent.");
	*out = 0;
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	error = ob_policy_get_kind(&policy, agent, system_state ? "SystemState" : "FileFolder");
	if (error == OB_ENOTFOUND) {
		ob_error_clear();
		return 0;  /* no policy: nothing runs */
	}
	if (error < 0)
		return error;
	if (ob_policy_state_get(policy) == OB_POLICY_PAUSED)
		goto done;
	if (ob_policy_schedule(&sched, policy) < 0) {
		ob_error_clear();
		goto done;  /* no schedule: nothing runs by itself */
	}
	if ((error = ob_schedule_next(&next, &sched, now)) < 0)
		goto done;
	*out = next;
done:
	ob_policy_free(policy);
	return error;
}
