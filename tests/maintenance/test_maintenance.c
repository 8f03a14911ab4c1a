/*
 * Vault maintenance through the public API (a real worker process, a real
 * vault): deleting a point is a soft delete that needs the vault owner's
 * security PIN, the first step of what maintenance purges after its days.
 * End to end, maintenance is tested by tests/e2e/prune.sh (purge after 14
 * days, kill -9 at 20 moments), tests/e2e/stale_cache.sh (generations),
 * tests/pester/Maintenance.Tests.ps1 (the cmdlets), test_damage (a damaged
 * copy dropped), test_jobs (a failed backup does not block it) and
 * test_azure_journey (the owner's key on Azure).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static char *vault_path;
static ob_agent *agent;
static const char *PP = "maintenance test passphrase";
static ob_test_server srv;   /* vault_path and agent are borrowed from it */

/* One server, one point. */
static int setup(void **state)
{
	char *p;
	ob_job_info *j;

	(void)state;
	ob_test_server_folders(&srv, "maintenance");
	vault_path = srv.vault_path;
	p = ob_test_path(srv.src, "notes.txt");
	ob_test_write(p, "notes\n", 6);
	free(p);
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "maintenance-server", "MaintenanceTest", PP);
	agent = srv.agent;
	j = ob_test_backup(agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_test_server_dispose(&srv);
	agent = NULL;
	vault_path = NULL;
	return 0;
}

/* Deleting a point needs the vault owner's PIN, as deleting a policy's backups does. */
static void test_delete_point_needs_a_pin(void **state)
{
	ob_recovery_point **pts = NULL;
	ob_vault *v = NULL;
	char *point, *pin = NULL;
	int64_t ds, expires = 0;
	size_t n = 0, i;
	int deleted = 0;

	(void)state;
	ob_test_newest_point(agent, &point, &ds);
	assert_ob(OB_EAUTH, ob_recovery_point_delete(agent, point, "test"));
	assert_non_null(strstr(ob_error_last(), "needs a security PIN"));
	assert_ob(OB_EAUTH, ob_recovery_point_remove(agent, point, "test", NULL));
	assert_ob(OB_EAUTH, ob_recovery_point_remove(agent, point, "test", " "));
	assert_ob(OB_EAUTH, ob_recovery_point_remove(agent, point, "test", "12345678"));
	assert_non_null(strstr(ob_error_last(), "incorrect"));
	assert_ob(OB_EAUTH, ob_recovery_point_remove(agent, point, "test", "1234"));
	assert_ok(ob_recovery_points(&pts, &n, agent));
	assert_true(n >= 1 && !strcmp(pts[0]->id, point));
	ob_recovery_points_free(pts, n);
	assert_ok(ob_vault_open(&v, vault_path));
	assert_ok(ob_vault_security_pin_new(&pin, &expires, v));
	/* A point that is not there spends no PIN: the same PIN then deletes the real one, once. */
	assert_ob(OB_ENOTFOUND, ob_recovery_point_remove(agent, "000000000000-000000000-0000000000000000", "test", pin));
	assert_non_null(strstr(ob_error_last(), "was not used"));
	assert_ok(ob_recovery_point_remove(agent, point, "test", pin));
	assert_ob(OB_EAUTH, ob_recovery_point_remove(agent, point, "test", pin));
	assert_non_null(strstr(ob_error_last(), "already used"));
	assert_ok(ob_recovery_points_all(&pts, &n, agent));
	for (i = 0; i < n; i++)
		if (!strcmp(pts[i]->id, point))
			deleted = pts[i]->deleted_at > 0;
	assert_true(deleted);
	ob_recovery_points_free(pts, n);
	ob_str_free(pin);
	ob_vault_free(v);
	free(point);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_point_needs_a_pin),
	};

	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
