/* The scheduler's step, and retention: which recovery points expire after a backup. */
#include "obagent/job.h"
#include "obagent/policy.h"
#include "agent/agent_internal.h"
#include "util/env.h"
#include "util/error.h"
#include "restore/restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/*
 * Expire what the retention policy no longer keeps: each such point is
 * soft-deleted (it leaves the listings; maintenance reclaims it after
 * OB_SOFT_DELETE_DAYS days unless the owner undeletes it). No retention, no expiry.
 */
int ob_policy_get_kind(ob_policy **out, ob_agent *agent, const char *kind);

int ob_retention_apply(ob_agent *agent, ob_repo *repo, int64_t now, size_t *out_expired)
{
	return ob_retention_apply_kind(agent, repo, "FileFolder", now, out_expired);
}

/* Each kind of point follows its own policy's retention (files and folders, System State). */
int ob_retention_apply_kind(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired)
{
	ob_policy *policy = NULL;
	ob_retention r;
	ob_recovery_point **pts = NULL;
	ob_point_time *times = NULL;
	uint8_t *keep = NULL;
	size_t n = 0, i, expired = 0;
	int error;

	if (out_expired)
		*out_expired = 0;
	if ((error = ob_policy_get_kind(&policy, agent, kind)) < 0 || ob_policy_retention(&r, policy) < 0) {
		ob_policy_free(policy);
		ob_error_clear();
		return 0;
	}
	if ((error = ob_repo_list_points(&pts, &n, repo, 0)) < 0)
		goto done;
	{
		/* Only this kind's points. */
		size_t k = 0;
		for (i = 0; i < n; i++) {
			if (!strcmp(pts[i]->kind, kind))
				pts[k++] = pts[i];
			else
				ob_recovery_points_free_one(pts[i]);
		}
		n = k;
	}
	times = calloc(n ? n : 1, sizeof(*times));
	keep = calloc(n ? n : 1, 1);
	if (!times || !keep) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < n; i++) {
		times[i].time = pts[i]->backup_time;
		times[i].retain_until = pts[i]->retain_until;
	}
	if ((error = ob_retention_select(keep, times, n, &r, now)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++)
		if (!keep[i]) {
			error = ob_recovery_point_mark_deleted(repo, pts[i]->id, "expired by the retention policy", now);
			expired++;
		}
	if (out_expired)
		*out_expired = expired;
done:
	free(times);
	free(keep);
	ob_recovery_points_free(pts, n);
	ob_policy_free(policy);
	return error;
}

static int64_t policy_modified_at(ob_agent *agent, const char *kind)
{
	sqlite3_stmt *st;
	int64_t t = 0;

	if (sqlite3_prepare_v2(ob_catalog_db(agent->cat), "SELECT modified_at FROM policy WHERE kind = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			t = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return t;
}

/* A due run that could not start is still a job in the history, as MARS shows it. */
static void record_refused(ob_agent *agent, int64_t now, const char *message)
{
	sqlite3_stmt *st;
	char id[37];

	ob_guid_new(id);
	if (sqlite3_prepare_v2(ob_catalog_db(agent->cat), "INSERT INTO job (id, type, state, start_time, end_time, phase, "
		"error_code, error_message) VALUES (?1, 1, 4, ?2, ?2, 'Job failed.', ?3, ?4)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int(st, 3, OB_ELOCKED);
		sqlite3_bind_text(st, 4, message, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
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
	last = policy_modified_at(agent, kind);
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

int ob_schedule_run_due(ob_job_info **out, int64_t *out_next, ob_agent *agent)
{
	ob_job_info *job = NULL;
	int64_t now, next_ff = 0, next_ss = 0;
	int error;

	if (out)
		*out = NULL;
	if (out_next)
		*out_next = 0;
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	/* Files and folders first; System State when files and folders did not start a job. */
	if ((error = run_due_kind(&job, &next_ff, agent, "FileFolder", now)) < 0)
		return error;
	if (!job && (error = run_due_kind(&job, &next_ss, agent, "SystemState", now)) < 0)
		return error;
	if (out_next)
		*out_next = next_ff && next_ss ? (next_ff < next_ss ? next_ff : next_ss) : (next_ff ? next_ff : next_ss);
	if (out)
		*out = job;
	else
		ob_job_info_free(job);
	return 0;
}
