/*
 * ob_schedule_next_run: the committed policy's next scheduled backup, the
 * moment the service starts it (GetNextRunTimeOfScheduledTask in MARS), with
 * the clock pinned by OBAGENT_NOW: none before a policy or a schedule exists,
 * a weekly frequency skips the weeks in between, several times a day give the
 * next one of the day, a paused policy has none until resumed.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
	char *dir;
	char *home;
	char *data;
	ob_vault *vault;
	ob_agent *agent;
} fixture;

static void set_now(int64_t t)
{
	char text[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_ok(ob_env_set("OBAGENT_NOW", text));
}

/* 2026-01-01T00:00:00Z, a Thursday. */
static const int64_t START = 1767225600;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char *creds, *cred, *vault_path, *p;

	setenv("TZ", "UTC", 1);
	tzset();
	f->dir = ob_test_tempdir("nextrun");
	vault_path = ob_test_path(f->dir, "vault");
	f->home = ob_test_path(f->dir, "home");
	f->data = ob_test_path(f->dir, "data");
	creds = ob_test_path(f->dir, "creds");
	ob_env_set("OBAGENT_SERVER_NAME", "server-nextrun");
	set_now(START);
	if (ob_vault_create(&f->vault, vault_path, "NextRunVault") < 0 ||
	    ob_vault_credentials_issue(&cred, f->vault, creds, 1) < 0 || ob_agent_open(&f->agent, f->home) < 0 ||
	    ob_agent_register(NULL, f->agent, cred) < 0)
		return -1;
	ob_str_free(cred);
	free(creds);
	free(vault_path);
	mkdir(f->data, 0700);
	p = ob_test_path(f->data, "a.txt");
	ob_test_write(p, "a", 1);
	free(p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ob_agent_free(f->agent);
	ob_vault_free(f->vault);
	ob_test_rmtree(f->dir);
	free(f->dir);
	free(f->home);
	free(f->data);
	free(f);
	ob_env_set("OBAGENT_NOW", NULL);
	return 0;
}

static void commit(fixture *f, const ob_schedule *sched)
{
	ob_filespec_input in[] = { { f->data, 0, 1 } };
	ob_schedule s = *sched;
	ob_retention ret;

	memset(&ret, 0, sizeof(ret));
	ret.version = OB_RETENTION_VERSION;
	ret.days = 7;
	assert_ok(ob_policy_commit(NULL, f->agent, in, 1));
	assert_ok(ob_policy_set_protection(f->agent, &s, &ret));
}

static int64_t next_run(fixture *f)
{
	int64_t t = -1;

	assert_ok(ob_schedule_next_run(&t, f->agent, 0));
	return t;
}

static void test_none_without_policy(void **state)
{
	fixture *f = *state;
	ob_filespec_input in[] = { { f->data, 0, 1 } };
	int64_t t = -1;

	assert_int_equal(next_run(f), 0);
	assert_ok(ob_schedule_next_run(&t, f->agent, 1));
	assert_int_equal(t, 0);
	/* A policy without a schedule runs only on demand. */
	assert_ok(ob_policy_commit(NULL, f->agent, in, 1));
	assert_int_equal(next_run(f), 0);
	assert_ob(OB_EINVALID, ob_schedule_next_run(NULL, f->agent, 0));
}

static void test_weekly_frequency(void **state)
{
	fixture *f = *state;
	ob_schedule sched = OB_SCHEDULE_INIT;

	/* Every second week on Monday at 09:30, committed on Thursday 2026-01-01 (week 0). */
	sched.days = OB_MONDAY;
	sched.times[0] = 9 * 60 + 30;
	sched.weekly_frequency = 2;
	commit(f, &sched);
	/* Monday 2026-01-05 is in week 1: skipped; Monday 2026-01-12 09:30 is week 2. */
	assert_int_equal(next_run(f), START + 11 * 86400 + 9 * 3600 + 30 * 60);
	/* At that very moment the next is two weeks on (strictly after now). */
	set_now(START + 11 * 86400 + 9 * 3600 + 30 * 60);
	assert_int_equal(next_run(f), START + 25 * 86400 + 9 * 3600 + 30 * 60);
}

static void test_several_times_a_day(void **state)
{
	fixture *f = *state;
	ob_schedule sched = OB_SCHEDULE_INIT;

	sched.days = OB_EVERY_DAY;
	sched.time_count = 3;
	sched.times[0] = 21 * 60;
	sched.times[1] = 6 * 60;
	sched.times[2] = 13 * 60 + 30;
	commit(f, &sched);
	assert_int_equal(next_run(f), START + 6 * 3600);
	set_now(START + 7 * 3600);
	assert_int_equal(next_run(f), START + 13 * 3600 + 30 * 60);
	set_now(START + 13 * 3600 + 30 * 60);
	assert_int_equal(next_run(f), START + 21 * 3600);
	set_now(START + 22 * 3600);
	assert_int_equal(next_run(f), START + 86400 + 6 * 3600);
	/* The System State policy is not the file policy: none is committed. */
	{
		int64_t t = -1;
		assert_ok(ob_schedule_next_run(&t, f->agent, 1));
		assert_int_equal(t, 0);
	}
}

static void test_paused_has_none(void **state)
{
	fixture *f = *state;
	ob_schedule sched = OB_SCHEDULE_INIT;  /* Sundays 21:00 */

	commit(f, &sched);
	assert_int_equal(next_run(f), START + 3 * 86400 + 21 * 3600);
	assert_ok(ob_policy_set_state(f->agent, OB_POLICY_PAUSED));
	assert_int_equal(next_run(f), 0);
	assert_ok(ob_policy_set_state(f->agent, OB_POLICY_VALID));
	assert_int_equal(next_run(f), START + 3 * 86400 + 21 * 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_none_without_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weekly_frequency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_times_a_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused_has_none, setup, teardown),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
