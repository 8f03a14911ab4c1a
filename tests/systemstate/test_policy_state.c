/*
 * The System State policy's state is its own (issue 13): pausing it leaves the
 * file and folder policy Valid and the other way round; with no file policy,
 * pausing System State works; the scheduler (clock stepped with OBAGENT_NOW)
 * skips only the paused kind.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static ob_agent *agent;
static char *home_dir;

static void set_now(int64_t t)
{
	char text[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_ok(ob_env_set("OBAGENT_NOW", text));
}

/* One scheduler step: NULL when nothing ran, else the data sources of the job it ran (to free). */
static char *tick(void)
{
	ob_job_info *j = NULL;
	int64_t next = 0;
	char *ds, *lock;
	int i, fd;

	assert_ok(ob_schedule_run_due(&j, &next, agent));
	assert_true(next > 0);  /* a paused policy still has a next time */
	if (!j)
		return NULL;
	for (i = 0; i < 60000 && j->state == OB_JOB_INPROGRESS; i++) {
		char *id = strdup(j->job_id);
		ob_job_info_free(j);
		usleep(10000);
		assert_ok(ob_job_get(&j, agent, id));
		free(id);
	}
	if (j->state != OB_JOB_COMPLETED && j->state != OB_JOB_COMPLETED_WITH_WARNING)
		fail_msg("scheduled job ended %s: %s", ob_job_state_name(j->state), j->error_message ? j->error_message : "");
	ds = strdup(j->datasources ? j->datasources : "");
	ob_job_info_free(j);
	/* Wait for the worker's exit (it frees the job lock), as test_schedule_e2e does. */
	lock = ob_test_path(home_dir, "job.lock");
	fd = open(lock, O_RDWR);
	for (i = 0; fd >= 0 && i < 60000 && flock(fd, LOCK_EX | LOCK_NB) != 0; i++)
		usleep(10000);
	if (fd >= 0)
		close(fd);
	free(lock);
	return ds;
}

static int file_state(void)
{
	ob_policy *p = NULL;
	int s;

	assert_ok(ob_policy_get(&p, agent));
	s = ob_policy_state_get(p);
	ob_policy_free(p);
	return s;
}

static int ss_state(void)
{
	ob_policy *p = NULL;
	int s;

	assert_ok(ob_systemstate_policy_get(&p, agent));
	s = ob_policy_state_get(p);
	ob_policy_free(p);
	return s;
}

static void test_states_apart(void **state)
{
	char *dir = ob_test_tempdir("ssstate"), *vpath = ob_test_path(dir, "vault"), *creds = ob_test_path(dir, "creds");
	char *src = ob_test_path(dir, "src"), *f, *cred = NULL, *ran;
	ob_vault *v = NULL;
	ob_policy *p = NULL;
	ob_schedule sched = OB_SCHEDULE_INIT;
	ob_filespec_input spec;
	int64_t start = 1767225600;  /* 2026-01-01T00:00:00Z */
	const char *pp = "policy state passphrase";

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	home_dir = ob_test_path(dir, "home");
	assert_int_equal(mkdir(src, 0755), 0);
	f = ob_test_path(src, "a.txt");
	ob_test_write(f, "a\n", 2);
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_SERVER_NAME", "ss-state-test");
	set_now(start);
	assert_ok(ob_vault_create(&v, vpath, "PolicyStateTest"));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	assert_ok(ob_agent_open(&agent, home_dir));
	assert_ok(ob_agent_register(NULL, agent, cred));
	assert_ok(ob_agent_set_passphrase(agent, (const uint8_t *)pp, strlen(pp), NULL));

	/* No System State policy yet: a clear not-found; a bad state is refused. */
	assert_ob(OB_ENOTFOUND, ob_systemstate_policy_set_state(agent, OB_POLICY_PAUSED));
	assert_non_null(strstr(ob_error_last(), "Set-OBSystemStatePolicy"));

	/* Every day at 02:00, both kinds. */
	sched.days = 0x7f;
	sched.time_count = 1;
	sched.times[0] = 2 * 60;
	assert_ok(ob_systemstate_policy_commit(&p, agent, &sched, NULL));
	ob_policy_free(p);
	assert_ob(OB_EINVALID, ob_systemstate_policy_set_state(agent, 7));

	/* No file policy: pausing System State works and the file policy is still absent. */
	assert_ok(ob_systemstate_policy_set_state(agent, OB_POLICY_PAUSED));
	assert_int_equal(ss_state(), OB_POLICY_PAUSED);
	assert_ob(OB_ENOTFOUND, ob_policy_get(&p, agent));
	ob_error_clear();
	/* A new commit of the System State policy keeps its state (MARS: Set-OBPolicyState, then Set-OBSystemStatePolicy). */
	assert_ok(ob_systemstate_policy_commit(&p, agent, &sched, NULL));
	assert_int_equal(ob_policy_state_get(p), OB_POLICY_PAUSED);
	ob_policy_free(p);
	set_now(start + 3 * 3600);
	assert_null(tick());  /* due, but paused */

	/* A file policy: Valid, while System State stays Paused. */
	spec.spec = src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&p, agent, &spec, 1));
	ob_policy_free(p);
	assert_ok(ob_policy_set_protection(agent, &sched, NULL));
	assert_int_equal(file_state(), OB_POLICY_VALID);
	assert_int_equal(ss_state(), OB_POLICY_PAUSED);

	/* Pausing the file policy does not touch System State, and the other way round. */
	assert_ok(ob_policy_set_state(agent, OB_POLICY_PAUSED));
	assert_int_equal(file_state(), OB_POLICY_PAUSED);
	assert_int_equal(ss_state(), OB_POLICY_PAUSED);
	assert_ok(ob_systemstate_policy_set_state(agent, OB_POLICY_VALID));
	assert_int_equal(ss_state(), OB_POLICY_VALID);
	assert_int_equal(file_state(), OB_POLICY_PAUSED);

	/* Day 1: the file policy is paused, System State runs. */
	set_now(start + 86400 + 3 * 3600);
	ran = tick();
	assert_non_null(ran);
	assert_string_equal(ran, OB_SYSTEMSTATE_DATASOURCE_NAME);
	free(ran);
	assert_null(tick());

	/* Day 2: System State paused, files resumed: only files run. */
	assert_ok(ob_systemstate_policy_set_state(agent, OB_POLICY_PAUSED));
	assert_ok(ob_policy_set_state(agent, OB_POLICY_VALID));
	assert_int_equal(file_state(), OB_POLICY_VALID);
	assert_int_equal(ss_state(), OB_POLICY_PAUSED);
	set_now(start + 2 * 86400 + 3 * 3600);
	ran = tick();
	assert_non_null(ran);
	assert_null(strstr(ran, OB_SYSTEMSTATE_DATASOURCE_NAME));
	free(ran);
	assert_null(tick());

	/* Removing the System State policy leaves the file policy as it was. */
	assert_ok(ob_systemstate_policy_remove(agent, 0, NULL));
	assert_int_equal(file_state(), OB_POLICY_VALID);
	assert_ob(OB_ENOTFOUND, ob_systemstate_policy_set_state(agent, OB_POLICY_VALID));

	ob_str_free(cred);
	ob_agent_free(agent);
	ob_vault_free(v);
	ob_test_rmtree(dir);
	free(dir);
	free(vpath);
	free(creds);
	free(src);
	free(f);
	free(home_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_apart),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
