/*
 * Restore drills (a real worker process, a real vault): a drill over a good
 * point completes, restores a sample and leaves no scratch folder; over a pack
 * with one byte changed it fails naming the damaged file; it takes the job lock
 * like any job; its schedule runs one catch-up drill from the service's step
 * (the clock pinned with OBAGENT_NOW), and bad schedules are refused.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "agent/lock.h"
#include "platform/platform.h"
#include "vault/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static ob_test_server srv;
static const char *PP = "drill test passphrase!!";

static int setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	ob_test_server_folders(&srv, "drill");
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "drill-test", "DrillTest", PP);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_env_set("OBAGENT_NOW", NULL);
	ob_test_server_dispose(&srv);
	return 0;
}

/* Files of random content: many small ones, and big.bin of several chunks. */
static void fill_source(void)
{
	static uint8_t buf[3 * 1024 * 1024 + 123];
	char name[64], *path;
	int i;

	for (i = 0; i < 30; i++) {
		size_t len = 100 + (size_t)i * 977;
		ob_random(buf, len);
		snprintf(name, sizeof(name), "file%02d.txt", i);
		path = ob_test_path(srv.src, name);
		ob_test_write(path, buf, len);
		free(path);
	}
	path = ob_test_path(srv.src, "sub");
	assert_int_equal(ob_platform_mkdir_p(path, 0755), 0);
	free(path);
	path = ob_test_path(srv.src, "sub/empty.txt");
	ob_test_write(path, "", 0);
	free(path);
	ob_random(buf, sizeof(buf));
	path = ob_test_path(srv.src, "sub/big.bin");
	ob_test_write(path, buf, sizeof(buf));
	free(path);
}

static ob_job_info *drill(void)
{
	ob_job_info *j = NULL;

	assert_ok(ob_drill_start(&j, srv.agent));
	assert_non_null(j);
	assert_int_equal(j->type, OB_JOB_DRILL);
	return ob_test_job_wait(srv.agent, j);
}

static int scratch_exists(void)
{
	char *p = ob_test_path(ob_agent_home(srv.agent), "drill");
	int e = access(p, F_OK) == 0;

	free(p);
	return e;
}

static void test_drill_over_a_good_point_completes(void **state)
{
	ob_job_info *b, *j, *again;
	ob_drill_info *info = NULL;
	char *point = NULL, *failed = NULL;
	int64_t ds;

	(void)state;
	fill_source();
	b = ob_test_backup(srv.agent);
	assert_int_equal(b->state, OB_JOB_COMPLETED);
	ob_test_newest_point(srv.agent, &point, &ds);
	j = drill();
	if (j->state != OB_JOB_COMPLETED)
		print_error("drill: %s\n", j->error_message ? j->error_message : "");
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_string_equal(j->recovery_point, point);
	/* The sample was restored: 20 of the 32 files (the byte budget is far away). */
	assert_int_equal(j->files_done, OB_DRILL_SAMPLE_FILES);
	assert_ok(ob_job_failed_files(&failed, srv.agent, j->job_id));
	assert_string_equal(failed, "");
	assert_false(scratch_exists());
	/* Get-OBJob shows it with its type. */
	assert_ok(ob_job_get(&again, srv.agent, j->job_id));
	assert_int_equal(again->type, OB_JOB_DRILL);
	/* The outcome is recorded where the report and notifications will read it. */
	assert_ok(ob_drill_get(&info, srv.agent));
	assert_string_equal(info->last_job_id, j->job_id);
	assert_int_equal(info->last_state, OB_JOB_COMPLETED);
	assert_true(info->last_time > 0);
	assert_null(info->last_message);
	assert_int_equal(info->scheduled, 0);
	ob_drill_info_free(info);
	ob_str_free(failed);
	ob_job_info_free(again);
	ob_job_info_free(j);
	ob_job_info_free(b);
	free(point);
}

/* Change one byte in the middle of the largest pack (which holds big.bin) to another value. */
static void damage_largest_pack(void)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "f=$(ls -S %s/servers/*/packs/*/* | head -n 1) && s=$(stat -c %%s \"$f\") && "
		"b=$(dd if=\"$f\" bs=1 skip=$((s / 2)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ') && "
		"printf \"\\\\$(printf %%o $(( (b + 1) %% 256 )))\" | dd of=\"$f\" bs=1 seek=$((s / 2)) conv=notrunc 2>/dev/null",
		srv.vault_path);
	assert_int_equal(system(cmd), 0);
}

static void test_drill_over_damaged_data_fails_naming_it(void **state)
{
	ob_job_info *b, *j;
	ob_drill_info *info = NULL;
	char *failed = NULL;

	(void)state;
	fill_source();
	b = ob_test_backup(srv.agent);
	assert_int_equal(b->state, OB_JOB_COMPLETED);
	damage_largest_pack();
	j = drill();
	assert_int_equal(j->state, OB_JOB_FAILED);
	assert_int_equal(j->error_code, OB_ECORRUPT);
	assert_non_null(j->error_message);
	assert_non_null(strstr(j->error_message, "big.bin"));
	assert_ok(ob_job_failed_files(&failed, srv.agent, j->job_id));
	assert_non_null(strstr(failed, "/sub/big.bin\t"));
	/* The healthy files are not named. */
	assert_null(strstr(failed, "file00.txt"));
	assert_false(scratch_exists());
	assert_ok(ob_drill_get(&info, srv.agent));
	assert_int_equal(info->last_state, OB_JOB_FAILED);
	assert_non_null(info->last_message);
	assert_non_null(strstr(info->last_message, "big.bin"));
	ob_drill_info_free(info);
	ob_str_free(failed);
	ob_job_info_free(j);
	ob_job_info_free(b);
}

static void test_drill_takes_the_job_lock(void **state)
{
	ob_job_info *b, *j = NULL;
	int fd = -1;

	(void)state;
	/* No point yet: a clear refusal. */
	assert_ob(OB_ENOTFOUND, ob_drill_start(&j, srv.agent));
	assert_non_null(strstr(ob_error_last(), "Back up first"));
	fill_source();
	b = ob_test_backup(srv.agent);
	assert_ok(ob_job_lock_take(&fd, srv.agent));
	assert_ob(OB_ELOCKED, ob_drill_start(&j, srv.agent));
	assert_null(j);
	close(fd);
	ob_job_info_free(b);
}

static void set_now(const char *text)
{
	assert_ok(ob_env_set("OBAGENT_NOW", text));
}

/* One service step: the type of the job it started (waited for), or 0. */
static int step(void)
{
	ob_job_info *j = NULL;
	int64_t next = 0;
	int type;

	assert_ok(ob_schedule_run_due(&j, &next, srv.agent));
	if (!j)
		return 0;
	j = ob_test_job_wait(srv.agent, j);
	type = j->type;
	if (type == OB_JOB_DRILL)
		assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	return type;
}

static void test_scheduled_drill_runs_once(void **state)
{
	ob_drill_info *info = NULL;
	ob_job_info *b;
	int times[2] = { 2 * 60, 14 * 60 + 30 }, bad[4] = { 60, 120, 180, 240 }, oob = 1440, drills = 0, i, t;

	(void)state;
	fill_source();
	set_now("2026-03-02T00:30:00Z");   /* a Monday */
	b = ob_test_backup(srv.agent);
	ob_job_info_free(b);
	/* Bad schedules are refused, naming the parameter. */
	assert_ob(OB_EINVALID, ob_drill_schedule_set(srv.agent, 0, times, 1));
	assert_non_null(strstr(ob_error_last(), "DaysOfWeek"));
	assert_ob(OB_EINVALID, ob_drill_schedule_set(srv.agent, OB_MONDAY, NULL, 0));
	assert_non_null(strstr(ob_error_last(), "TimesOfDay"));
	assert_ob(OB_EINVALID, ob_drill_schedule_set(srv.agent, OB_MONDAY, bad, 4));
	assert_ob(OB_EINVALID, ob_drill_schedule_set(srv.agent, OB_MONDAY, &oob, 1));
	assert_ok(ob_drill_schedule_set(srv.agent, OB_MONDAY | OB_WEDNESDAY, times, 2));
	assert_ok(ob_drill_get(&info, srv.agent));
	assert_int_equal(info->scheduled, 1);
	assert_int_equal(info->days, OB_MONDAY | OB_WEDNESDAY);
	assert_int_equal(info->time_count, 2);
	assert_int_equal(info->times[0], 120);
	assert_int_equal(info->times[1], 870);
	assert_int_equal(info->next_run, 1772416800);   /* 2026-03-02T02:00:00Z */
	ob_drill_info_free(info);
	/* Nothing is due before the first time. */
	set_now("2026-03-02T01:59:00Z");
	assert_int_equal(step(), 0);
	/* Off for days: many times were missed, one drill catches up (a backup due too may come first). */
	set_now("2026-03-05T03:00:00Z");
	for (i = 0; i < 4; i++)
		if ((t = step()) == OB_JOB_DRILL)
			drills++;
	assert_int_equal(drills, 1);
	assert_ok(ob_drill_get(&info, srv.agent));
	assert_int_equal(info->last_state, OB_JOB_COMPLETED);
	ob_drill_info_free(info);
	/* Removing the schedule stops the drills. */
	assert_ok(ob_drill_schedule_set(srv.agent, 0, NULL, 0));
	set_now("2026-03-09T03:00:00Z");
	for (i = 0; i < 3; i++)
		assert_int_not_equal(step(), OB_JOB_DRILL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drill_over_a_good_point_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill_over_damaged_data_fails_naming_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill_takes_the_job_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduled_drill_runs_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
