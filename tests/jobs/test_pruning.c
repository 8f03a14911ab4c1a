/*
 * A policy removed with pruning (Remove-OBPolicy -EnablePruning): its retention
 * rules outlive it, and its points age out by them at the service's pass (once
 * a day) and after every backup of the other kind; the newest stays. Removed
 * without pruning, nothing ages out; a new policy of the kind replaces the kept
 * rules. The clock is stepped with OBAGENT_NOW.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400
#define HOUR 3600

static const int64_t T0 = 1767225600;  /* 2026-01-01T00:00:00Z */

static void set_now(int64_t t)
{
	char text[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_ok(ob_env_set("OBAGENT_NOW", text));
}

static ob_retention days(int n)
{
	ob_retention r;

	memset(&r, 0, sizeof(r));
	r.version = OB_RETENTION_VERSION;
	r.days = n;
	return r;
}

/* How many listed points of kind, and the time of the oldest (0 when none). */
static size_t points_of(ob_agent *a, const char *kind, int64_t *oldest)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0, i, k = 0;

	if (oldest)
		*oldest = 0;
	assert_ok(ob_recovery_points(&pts, &n, a));
	for (i = 0; i < n; i++)
		if (!strcmp(pts[i]->kind, kind)) {
			k++;
			if (oldest && (*oldest == 0 || pts[i]->backup_time < *oldest))
				*oldest = pts[i]->backup_time;
		}
	ob_recovery_points_free(pts, n);
	return k;
}

static void backup_at(ob_agent *a, int64_t t, int system_state)
{
	ob_job_info *j = NULL;

	set_now(t);
	if (system_state) {
		assert_ok(ob_systemstate_backup_start(&j, a));
		j = ob_test_job_wait(a, j);
	} else {
		j = ob_test_backup(a);
	}
	if (j->state != OB_JOB_COMPLETED && j->state != OB_JOB_COMPLETED_WITH_WARNING)
		fail_msg("backup ended %s: %s", ob_job_state_name(j->state), j->error_message ? j->error_message : "");
	ob_job_info_free(j);
}

/* One service step at t; no backup is due (no schedule anywhere). */
static void tick_at(ob_agent *a, int64_t t)
{
	ob_job_info *j = NULL;
	int64_t next = 0;

	set_now(t);
	assert_ok(ob_schedule_run_due(&j, &next, a));
	assert_null(j);
}

/* A server with a files and folders policy keeping 7 days, and points at T0, T0 + 1 day, T0 + 2 days. */
static void three_points(ob_test_server *s, const char *tag)
{
	ob_retention r = days(7);
	char *f;

	setenv("TZ", "UTC", 1);
	tzset();
	ob_test_server_folders(s, tag);
	f = ob_test_path(s->src, "a.txt");
	ob_test_write(f, "a\n", 2);
	ob_test_server_register(s, "home", OBAGENT_WORKER_PATH, tag, "PruningTest", "pruning test passphrase");
	set_now(T0);
	assert_ok(ob_policy_set_protection(s->agent, NULL, &r));
	backup_at(s->agent, T0, 0);
	ob_test_write(f, "b\n", 2);
	backup_at(s->agent, T0 + DAY, 0);
	ob_test_write(f, "c\n", 2);
	backup_at(s->agent, T0 + 2 * DAY, 0);
	assert_int_equal(points_of(s->agent, "FileFolder", NULL), 3);
	free(f);
}

static void test_pruning_by_the_service(void **state)
{
	ob_test_server s;
	ob_retention kept;
	ob_policy *p = NULL;
	int64_t oldest;

	(void)state;
	three_points(&s, "prune-service");
	assert_ob(OB_ENOTFOUND, ob_policy_pruning_retention(&kept, s.agent, "FileFolder"));
	assert_ob(OB_EINVALID, ob_policy_remove_pruning(s.agent, "Files"));
	assert_non_null(strstr(ob_error_last(), "\"FileFolder\" or \"SystemState\""));
	set_now(T0 + 2 * DAY + HOUR);
	assert_ok(ob_policy_remove_pruning(s.agent, "FileFolder"));
	assert_ob(OB_ENOTFOUND, ob_policy_get(&p, s.agent));
	assert_ob(OB_ENOTFOUND, ob_policy_remove_pruning(s.agent, "FileFolder"));
	assert_ok(ob_policy_pruning_retention(&kept, s.agent, "FileFolder"));
	assert_int_equal(kept.days, 7);

	/* All three within their 7 days: the pass deletes nothing. */
	tick_at(s.agent, T0 + 2 * DAY + 2 * HOUR);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 3);
	/* T0's point expired at T0 + 7 days; the last pass was 5.4 days ago: this one prunes it. */
	tick_at(s.agent, T0 + 7 * DAY + 12 * HOUR);
	assert_int_equal(points_of(s.agent, "FileFolder", &oldest), 2);
	assert_true(oldest == T0 + DAY);
	/* T0 + 1 day's expires at T0 + 8 days, but the next pass is a day after the last: not yet at 18 hours... */
	tick_at(s.agent, T0 + 8 * DAY + 6 * HOUR);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 2);
	/* ...and at 25 hours, it goes. */
	tick_at(s.agent, T0 + 8 * DAY + 13 * HOUR);
	assert_int_equal(points_of(s.agent, "FileFolder", &oldest), 1);
	assert_true(oldest == T0 + 2 * DAY);
	/* The newest stays, however old (the safety net of docs/RETENTION.md). */
	tick_at(s.agent, T0 + 60 * DAY);
	assert_int_equal(points_of(s.agent, "FileFolder", &oldest), 1);
	assert_true(oldest == T0 + 2 * DAY);
	/* The pruned points are soft-deleted, as retention deletes them: the owner can bring them back. */
	{
		ob_recovery_point **pts = NULL;
		size_t n = 0, i, deleted = 0;
		assert_ok(ob_recovery_points_all(&pts, &n, s.agent));
		assert_int_equal(n, 3);
		for (i = 0; i < n; i++)
			deleted += pts[i]->deleted_at != 0;
		assert_int_equal(deleted, 2);
		ob_recovery_points_free(pts, n);
	}
	ob_test_server_dispose(&s);
}

/* A pass that cannot reach the vault says so once, and is tried again the next day. */
static void test_failed_pass_reported_once(void **state)
{
	ob_test_server s;
	ob_job_info *j = NULL;
	int64_t next = 0;
	char *moved;

	(void)state;
	three_points(&s, "prune-fail");
	set_now(T0 + 2 * DAY + HOUR);
	assert_ok(ob_policy_remove_pruning(s.agent, "FileFolder"));
	moved = ob_test_path(s.dir, "vault.away");
	assert_int_equal(rename(s.vault_path, moved), 0);
	set_now(T0 + 7 * DAY + 12 * HOUR);
	assert_true(ob_schedule_run_due(&j, &next, s.agent) < 0);
	assert_null(j);
	assert_non_null(strstr(ob_error_last(), "pruning pass of the FileFolder points failed"));
	/* Within the day: not tried again, no error. */
	tick_at(s.agent, T0 + 8 * DAY);
	assert_int_equal(rename(moved, s.vault_path), 0);
	tick_at(s.agent, T0 + 8 * DAY + 6 * HOUR);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 3);
	/* A day after the failed one: it runs, and prunes both points past their 7 days. */
	tick_at(s.agent, T0 + 8 * DAY + 13 * HOUR);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 1);
	free(moved);
	ob_test_server_dispose(&s);
}

static void test_no_pruning_without_the_switch(void **state)
{
	ob_test_server s;
	ob_retention kept;

	(void)state;
	three_points(&s, "prune-none");
	set_now(T0 + 2 * DAY + HOUR);
	assert_ok(ob_policy_remove(s.agent, 0));
	assert_ob(OB_ENOTFOUND, ob_policy_pruning_retention(&kept, s.agent, "FileFolder"));
	tick_at(s.agent, T0 + 30 * DAY);
	tick_at(s.agent, T0 + 60 * DAY);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 3);
	ob_test_server_dispose(&s);
}

static void test_new_policy_replaces_the_kept_rules(void **state)
{
	ob_test_server s;
	ob_retention kept, longer = days(90);
	ob_filespec_input spec;
	ob_policy *p = NULL;

	(void)state;
	three_points(&s, "prune-replaced");
	set_now(T0 + 2 * DAY + HOUR);
	assert_ok(ob_policy_remove_pruning(s.agent, "FileFolder"));
	/* A new policy, with 90 days: the kept 7 days are gone, and its own rule is the one that applies. */
	spec.spec = s.src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&p, s.agent, &spec, 1));
	ob_policy_free(p);
	assert_ob(OB_ENOTFOUND, ob_policy_pruning_retention(&kept, s.agent, "FileFolder"));
	assert_ok(ob_policy_set_protection(s.agent, NULL, &longer));
	tick_at(s.agent, T0 + 20 * DAY);
	backup_at(s.agent, T0 + 20 * DAY + HOUR, 0);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 4);
	/* Removed again without pruning: nothing ages out, not even by the rules kept before. */
	assert_ok(ob_policy_remove(s.agent, 0));
	tick_at(s.agent, T0 + 200 * DAY);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 4);
	ob_test_server_dispose(&s);
}

/* System State removed with pruning: its points age out after a backup of files and folders. */
static void test_system_state_pruned_after_a_file_backup(void **state)
{
	ob_test_server s;
	ob_schedule sched = OB_SCHEDULE_INIT;
	ob_retention r = days(7), kept;
	ob_policy *p = NULL;
	int64_t oldest;

	(void)state;
#ifdef _WIN32
	/* System State on Windows is Windows Server Backup's, which obagent refuses to drive yet
	 * (platform/systemstate_windows.c): there are no System State points to prune. */
	skip();
#endif
	setenv("TZ", "UTC", 1);
	tzset();
	ob_test_server_folders(&s, "prune-ss");
	{
		char *f = ob_test_path(s.src, "a.txt");
		ob_test_write(f, "a\n", 2);
		free(f);
	}
	ob_test_server_register(&s, "home", OBAGENT_WORKER_PATH, "prune-ss", "PruningTest", "pruning test passphrase");
	set_now(T0);
	sched.days = 0x7f;
	sched.time_count = 1;
	sched.times[0] = 2 * 60;
	assert_ok(ob_systemstate_policy_commit(&p, s.agent, &sched, &r));
	ob_policy_free(p);
	backup_at(s.agent, T0 + 2 * HOUR, 1);
	backup_at(s.agent, T0 + DAY + 2 * HOUR, 1);
	assert_int_equal(points_of(s.agent, "SystemState", NULL), 2);
	assert_ok(ob_policy_remove_pruning(s.agent, "SystemState"));
	assert_ob(OB_ENOTFOUND, ob_systemstate_policy_get(&p, s.agent));
	assert_ok(ob_policy_pruning_retention(&kept, s.agent, "SystemState"));
	/* Files and folders keep their own (no retention: nothing of theirs expires). */
	backup_at(s.agent, T0 + 3 * DAY, 0);
	assert_int_equal(points_of(s.agent, "SystemState", NULL), 2);
	backup_at(s.agent, T0 + 7 * DAY + 3 * HOUR, 0);
	assert_int_equal(points_of(s.agent, "SystemState", &oldest), 1);
	assert_true(oldest >= T0 + DAY + 2 * HOUR);
	assert_int_equal(points_of(s.agent, "FileFolder", NULL), 2);
	/* A new System State policy replaces the kept rules. */
	assert_ok(ob_systemstate_policy_commit(&p, s.agent, &sched, NULL));
	ob_policy_free(p);
	assert_ob(OB_ENOTFOUND, ob_policy_pruning_retention(&kept, s.agent, "SystemState"));
	ob_test_server_dispose(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pruning_by_the_service),
		cmocka_unit_test(test_failed_pass_reported_once),
		cmocka_unit_test(test_no_pruning_without_the_switch),
		cmocka_unit_test(test_new_policy_replaces_the_kept_rules),
		cmocka_unit_test(test_system_state_pruned_after_a_file_backup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
