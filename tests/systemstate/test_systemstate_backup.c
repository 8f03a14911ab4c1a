/*
 * System State through the public API: its own policy (once a day), a backup
 * job that captures and backs up, a point whose data source is "System State",
 * restored as files and compared with the live system; removing the policy
 * keeps the data unless asked, and deleting needs a security PIN.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ob_job_info *wait_job(ob_agent *a, ob_job_info *j)
{
	int i;

	for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
		char *id = strdup(j->job_id);
		ob_job_info_free(j);
		usleep(20000);
		assert_ok(ob_job_get(&j, a, id));
		free(id);
	}
	return j;
}

static void test_system_state(void **state)
{
	char *dir = ob_test_tempdir("ss"), *vpath = ob_test_path(dir, "vault"), *home = ob_test_path(dir, "home");
	char *creds = ob_test_path(dir, "creds"), *cred = NULL, *out = ob_test_path(dir, "out"), *pin = NULL;
	ob_vault *v = NULL;
	ob_agent *a = NULL;
	ob_policy *p = NULL;
	ob_schedule sched = OB_SCHEDULE_INIT;
	ob_job_info *j = NULL;
	ob_recovery_point **pts = NULL;
	size_t n = 0, i;
	int64_t expires;
	const char *pp = "system state passphrase";

	(void)state;
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_SERVER_NAME", "ss-test");
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, vpath, "SystemStateTest"));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	assert_ok(ob_agent_open(&a, home));
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)pp, strlen(pp), NULL));
	assert_ob(OB_ENOTFOUND, ob_systemstate_backup_start(&j, a));

	/* Once a day at most. */
	sched.days = 0x7f;
	sched.time_count = 2;
	sched.times[0] = 2 * 60;
	sched.times[1] = 14 * 60;
	assert_ob(OB_EINVALID, ob_systemstate_policy_commit(&p, a, &sched, NULL));
	assert_non_null(strstr(ob_error_last(), "once a day"));
	sched.time_count = 1;
	assert_ok(ob_systemstate_policy_commit(&p, a, &sched, NULL));
	ob_policy_free(p);
	assert_ok(ob_systemstate_policy_get(&p, a));
	{
		ob_schedule back;
		assert_ok(ob_policy_schedule(&back, p));
		assert_int_equal(back.times[0], 120);
		assert_true(back.system_state);
	}
	ob_policy_free(p);

	assert_ok(ob_systemstate_backup_start(&j, a));
	j = wait_job(a, j);
	if (j->state != OB_JOB_COMPLETED && j->state != OB_JOB_COMPLETED_WITH_WARNING)
		fail_msg("System State backup ended %s: %s", ob_job_state_name(j->state), j->error_message ? j->error_message : "");
	ob_job_info_free(j);

	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_int_equal(n, 1);
	assert_string_equal(pts[0]->kind, "SystemState");
	assert_string_equal(pts[0]->datasources, "System State");
	{
		/* Restored as files: the capture's copy of /etc matches the live one. */
		ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
		char *failed = NULL, *restored, *live, *copy, *manifest;
		size_t l1, l2;
		struct stat st;
		o.point_id = pts[0]->id;
		o.datasource_id = OB_SYSTEMSTATE_DATASOURCE_ID;
		o.destination = out;
		assert_ok(ob_restore(&failed, a, &o));
		restored = ob_test_path(out, "etc/hostname");
		if (stat("/etc/hostname", &st) == 0) {
			live = ob_test_read("/etc/hostname", &l1);
			copy = ob_test_read(restored, &l2);
			assert_int_equal(l1, l2);
			assert_memory_equal(live, copy, l1);
			free(live);
			free(copy);
		}
		manifest = ob_test_path(out, "manifest.json");
		assert_int_equal(stat(manifest, &st), 0);
		free(manifest);
		free(restored);
	}
	ob_recovery_points_free(pts, n);

	/* Removing the policy keeps the data; deleting it needs a PIN. */
	assert_ob(OB_EAUTH, ob_systemstate_policy_remove(a, 1, NULL));
	assert_ok(ob_systemstate_policy_remove(a, 0, NULL));
	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_int_equal(n, 1);
	ob_recovery_points_free(pts, n);
	assert_ok(ob_systemstate_policy_commit(&p, a, &sched, NULL));
	ob_policy_free(p);
	assert_ok(ob_vault_security_pin_new(&pin, &expires, v));
	assert_ok(ob_systemstate_policy_remove(a, 1, pin));
	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_int_equal(n, 0);
	ob_recovery_points_free(pts, n);
	assert_ok(ob_recovery_points_all(&pts, &n, a));
	assert_int_equal(n, 1);
	assert_true(pts[0]->deleted_at > 0);
	/*
	 * purge_after is the storage's time of the marker + 14 days (docs/FORMAT.md, "Soft
	 * delete"): the file's ctime, from the kernel's coarse clock, which may be a tick
	 * behind the clock deleted_at was read from, so a second less at a second's edge.
	 */
	for (i = 0; i < n; i++)
		assert_true(pts[i]->purge_after >= pts[i]->deleted_at + 14 * 86400 - 1);
	ob_recovery_points_free(pts, n);

	ob_str_free(pin);
	ob_str_free(cred);
	ob_agent_free(a);
	ob_vault_free(v);
	ob_test_rmtree(dir);
	free(dir);
	free(vpath);
	free(home);
	free(creds);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_state),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
