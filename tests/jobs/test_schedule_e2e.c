/*
 * Sixty simulated days of scheduled backups (the clock stepped with OBAGENT_NOW):
 * each due time runs one backup, a paused policy runs none, a machine that was
 * off catches up once, and afterwards exactly the points the retention policy
 * keeps are listed, each restorable; expired ones are soft-deleted and can be
 * undeleted by the vault owner.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *dir, *src, *vault_path;
static ob_agent *agent;
static char *home_dir;
static const char *PP = "schedule test passphrase";

static void set_now(int64_t t)
{
	char text[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_ok(ob_env_set("OBAGENT_NOW", text));
}

/* One scheduler step; waits for the backup it started. Returns 1 when one ran. */
static int tick(void)
{
	ob_job_info *j = NULL;
	int64_t next = 0;
	int i;

	assert_ok(ob_schedule_run_due(&j, &next, agent));
	if (!j)
		return 0;
	for (i = 0; i < 60000 && j->state == OB_JOB_INPROGRESS; i++) {
		char *id = strdup(j->job_id);
		ob_job_info_free(j);
		usleep(10000);
		assert_ok(ob_job_get(&j, agent, id));
		free(id);
	}
	if (j->state != OB_JOB_COMPLETED)
		fail_msg("scheduled job ended %s: %s", ob_job_state_name(j->state), j->error_message ? j->error_message : "");
	ob_job_info_free(j);
	/*
	 * The worker records the end of its job, then exits, which frees the job lock. A due
	 * run that finds the lock held is refused (as MARS skips a run while a backup is in
	 * progress), so wait for the exit: the next simulated day must not race it.
	 */
	{
		char *lock = ob_test_path(home_dir, "job.lock");
#ifdef _WIN32
		/* Windows has no flock: the platform's own lock (LockFileEx), as the engine takes it. */
		int fd = -1;
		for (i = 0; i < 60000 && ob_platform_lock_try(&fd, lock) == OB_ELOCKED; i++) {
			ob_error_clear();
			ob_platform_sleep_ms(10);
		}
		ob_error_clear();
		ob_platform_close(fd);
#else
		int fd = open(lock, O_RDWR);
		for (i = 0; fd >= 0 && i < 60000 && flock(fd, LOCK_EX | LOCK_NB) != 0; i++)
			usleep(10000);
		if (fd >= 0)
			close(fd);
#endif
		free(lock);
	}
	return 1;
}

static void test_sixty_days(void **state)
{
	ob_vault *v;
	char *cred, *home, *creds, *p;
	ob_filespec_input spec;
	ob_policy *policy;
	ob_schedule sched = OB_SCHEDULE_INIT;
	ob_retention ret;
	ob_recovery_point **pts = NULL, **all = NULL;
	size_t n = 0, nall = 0, i, runs = 0, kept = 0;
	int64_t start = 1767225600;  /* 2026-01-01T00:00:00Z, a Thursday */
	int day;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	dir = ob_test_tempdir("sched");
	src = ob_test_path(dir, "src");
	vault_path = ob_test_path(dir, "vault");
	home = ob_test_path(dir, "home");
	home_dir = home;
	creds = ob_test_path(dir, "creds");
	assert_int_equal(mkdir(src, 0755), 0);
	p = ob_test_path(src, "day.txt");
	ob_test_write(p, "day 0\n", 6);
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_SERVER_NAME", "sched-test");
	set_now(start);
	assert_ok(ob_vault_create(&v, vault_path, "ScheduleTest"));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	assert_ok(ob_agent_open(&agent, home));
	assert_ok(ob_agent_register(NULL, agent, cred));
	assert_ok(ob_agent_set_passphrase(agent, (const uint8_t *)PP, strlen(PP), NULL));
	spec.spec = src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, agent, &spec, 1));
	ob_policy_free(policy);
	/* Every day at 21:00; keep 7 days, and Sundays 21:00 for 4 weeks. */
	sched.days = 0x7f;
	sched.time_count = 1;
	sched.times[0] = 21 * 60;
	memset(&ret, 0, sizeof(ret));
	ret.version = OB_RETENTION_VERSION;
	ret.days = 7;
	ret.weekly.count = 4;
	ret.weekly.days_of_week = 0x1;
	ret.weekly.time_count = 1;
	ret.weekly.times[0] = 21 * 60;
	assert_ok(ob_policy_set_protection(agent, &sched, &ret));
	/* A bad retention is refused with the range named. */
	{
		ob_retention bad = ret;
		bad.days = 5;
		assert_ob(OB_EINVALID, ob_policy_set_protection(agent, &sched, &bad));
		assert_non_null(strstr(ob_error_last(), "7 to 9999"));
	}

	for (day = 0; day < 60; day++) {
		int64_t t = start + (int64_t)day * 86400;
		char text[32];
		snprintf(text, sizeof(text), "day %d\n", day);
		ob_test_write(p, text, strlen(text));
		/* Before the time: nothing (but on the day the machine comes back: one catch-up run for
		 * all the days it missed, not a burst); just after: one run; again: nothing. */
		if (day >= 20 && day < 24)
			continue;  /* the machine is off for four days */
		set_now(t + 20 * 3600 + 59 * 60);
		if (day == 24)
			runs += (size_t)tick();
		assert_int_equal(tick(), 0);
		if (day == 30)
			assert_ok(ob_policy_set_state(agent, OB_POLICY_PAUSED));
		if (day == 32)
			assert_ok(ob_policy_set_state(agent, OB_POLICY_VALID));
		set_now(t + 21 * 3600 + 60);
		runs += (size_t)tick();
		assert_int_equal(tick(), 0);
	}
	/* 60 days, 4 off (one catch-up on day 24 covers them all), 2 paused (their runs fold into day 32's). */
	assert_int_equal(runs, 60 - 4 + 1 - 2);

	/* The points listed are exactly those the retention keeps now. */
	assert_ok(ob_recovery_points(&pts, &n, agent));
	assert_ok(ob_recovery_points_all(&all, &nall, agent));
	assert_int_equal(nall, runs);
	{
		ob_point_time *times = calloc(nall, sizeof(*times));
		uint8_t *keep = calloc(nall, 1);
		for (i = 0; i < nall; i++)
			times[i].time = all[i]->backup_time;
		assert_ok(ob_retention_select(keep, times, nall, &ret, start + 59 * 86400 + 21 * 3600 + 60));
		for (i = 0; i < nall; i++) {
			assert_int_equal(keep[i] != 0, all[i]->deleted_at == 0);
			kept += keep[i] != 0;
		}
		free(times);
		free(keep);
	}
	assert_int_equal(n, kept);
	assert_true(kept >= 7 && kept < 15);
	/* Each kept point restores. */
	for (i = 0; i < n; i++) {
		ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
		char tag[32], *out, *failed = NULL;
		snprintf(tag, sizeof(tag), "out%zu", i);
		out = ob_test_path(dir, tag);
		o.point_id = pts[i]->id;
		o.item = ob_test_rel(src);
		o.destination = out;
		assert_ok(ob_restore(&failed, agent, &o));
		free(out);
	}
	/* The owner undeletes an expired point: it is listed again. */
	for (i = 0; i < nall && all[i]->deleted_at == 0; i++)
		;
	assert_true(i < nall);
	assert_ok(ob_vault_undelete(v, "sched-test", all[i]->id));
	assert_ob(OB_ENOTFOUND, ob_vault_undelete(v, "sched-test", all[i]->id));
	ob_recovery_points_free(pts, n);
	assert_ok(ob_recovery_points(&pts, &n, agent));
	assert_int_equal(n, kept + 1);

	ob_recovery_points_free(pts, n);
	ob_recovery_points_free(all, nall);
	ob_vault_free(v);
	ob_str_free(cred);
	ob_agent_free(agent);
	ob_env_set("OBAGENT_NOW", NULL);
	ob_test_rmtree(dir);
	free(dir);
	free(src);
	free(vault_path);
	free(home);
	free(creds);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sixty_days),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
