/*
 * Restore drills (a real worker process, a real vault): a drill over a good
 * point completes, restores a sample and leaves no scratch folder; over a pack
 * with one byte changed it fails naming the damaged file; it takes the job lock
 * like any job; the comparison names a restored copy that differs from what
 * the backup recorded (its size, or the byte it differs from); its schedule runs one catch-up drill from the service's step
 * (the clock pinned with OBAGENT_NOW), and bad schedules are refused.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "agent/agent_internal.h"
#include "agent/lock.h"
#include "agent/repo_open.h"
#include "catalog/statement.h"
#include "jobs/drill_internal.h"
#include "vault/repo.h"
#include "vault/tree.h"
#include "vault/vault_internal.h"
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

/* What the backup recorded of a file (its tree entry, kept in the file cache): *buf holds it (free). */
static void recorded_entry(ob_entry *e, uint8_t **buf, const char *name)
{
	sqlite3_stmt *st;
	size_t len;

	assert_int_equal(sqlite3_prepare_v2(ob_catalog_db(srv.agent->cat), "SELECT entry FROM file_cache WHERE name = ?1",
		-1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	len = (size_t)sqlite3_column_bytes(st, 0);
	assert_non_null(*buf = malloc(len));
	memcpy(*buf, sqlite3_column_blob(st, 0), len);
	sqlite3_finalize(st);
	assert_ok(ob_entry_decode(e, *buf, len));
}

/* Change one byte inside the sealed blob of the first chunk of name, in its pack, to another value. */
static void damage_first_chunk_of(const char *name)
{
	ob_repo repo;
	ob_name_list l = { 0 };
	ob_entry fe;
	uint8_t *buf = NULL;
	char prefix[96];
	size_t i, k, changed = 0;

	recorded_entry(&fe, &buf, name);
	assert_true(fe.chunk_count >= 1);
	assert_ok(ob_agent_repo_open(&repo, srv.agent, NULL));
	snprintf(prefix, sizeof(prefix), "%spacks/", repo.prefix);
	assert_ok(ob_vault_list_names(&l, repo.vc.be, prefix, strlen(prefix) + 3));
	for (i = 0; i < l.n; i++) {
		ob_pack_entry *pe = NULL;
		uint8_t pack[OB_ID_BYTES];
		size_t n = 0;
		assert_ok(ob_id_parse(pack, l.v[i]));
		assert_ok(ob_pack_read_header(&pe, &n, &repo, pack));
		for (k = 0; k < n; k++) {
			char cmd[4096];
			unsigned int at;
			if (memcmp(pe[k].id, fe.chunks, OB_ID_BYTES))
				continue;
			at = pe[k].offset + pe[k].length / 2;
			snprintf(cmd, sizeof(cmd), "f=$(ls %s/servers/*/packs/*/%s) && b=$(dd if=\"$f\" bs=1 skip=%u count=1 "
				"2>/dev/null | od -An -tu1 | tr -d ' ') && printf \"\\\\$(printf %%o $(( (b + 1) %% 256 )))\" | "
				"dd of=\"$f\" bs=1 seek=%u conv=notrunc 2>/dev/null", srv.vault_path, l.v[i], at, at);
			assert_int_equal(system(cmd), 0);
			changed++;
		}
		free(pe);
	}
	assert_int_equal(changed, 1);
	ob_name_list_dispose(&l);
	ob_repo_dispose(&repo);
	free(buf);
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
	damage_first_chunk_of("big.bin");
	j = drill();
	assert_int_equal(j->state, OB_JOB_FAILED);
	assert_int_equal(j->error_code, OB_ECORRUPT);
	assert_non_null(j->error_message);
	assert_non_null(strstr(j->error_message, "big.bin"));
	assert_ok(ob_job_failed_files(&failed, srv.agent, j->job_id));
	assert_non_null(strstr(failed, "/sub/big.bin\t"));
	/* Only big.bin uses that chunk: the healthy files are not named. */
	assert_null(strstr(failed, ".txt"));
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

/* The comparison against what the backup recorded of sub/big.bin (its tree entry, kept in the file cache). */
static void test_compare_names_a_copy_that_differs(void **state)
{
	ob_job_info *b;
	ob_entry e;
	ob_repo repo;
	uint8_t *entry = NULL;
	char why[512], *orig, *copy, *data;
	size_t len;

	(void)state;
	fill_source();
	b = ob_test_backup(srv.agent);
	assert_int_equal(b->state, OB_JOB_COMPLETED);
	ob_job_info_free(b);
	recorded_entry(&e, &entry, "big.bin");
	assert_true(e.chunk_count >= 2);
	assert_ok(ob_agent_repo_open(&repo, srv.agent, NULL));

	orig = ob_test_path(srv.src, "sub/big.bin");
	copy = ob_test_path(srv.dir, "copy.bin");
	assert_int_equal(ob_drill_compare_file(why, sizeof(why), &repo, orig, e.size, e.chunks, e.chunk_count), 0);
	data = ob_test_read(orig, &len);
	assert_int_equal(len, e.size);
	/* One byte changed at the end: the same size, the last block differs. */
	data[len - 1] ^= 0x5a;
	ob_test_write(copy, data, len);
	assert_int_equal(ob_drill_compare_file(why, sizeof(why), &repo, copy, e.size, e.chunks, e.chunk_count), 1);
	assert_non_null(strstr(why, "differs from what the recovery point records"));
	assert_null(strstr(why, "from byte 0 "));
	/* One byte changed at the start: it differs from byte 0 on. */
	data[len - 1] ^= 0x5a;
	data[0] ^= 0x01;
	ob_test_write(copy, data, len);
	assert_int_equal(ob_drill_compare_file(why, sizeof(why), &repo, copy, e.size, e.chunks, e.chunk_count), 1);
	assert_non_null(strstr(why, "from byte 0 on (block 1 of"));
	/* Shorter: named by its size. */
	data[0] ^= 0x01;
	ob_test_write(copy, data, len - 10);
	assert_int_equal(ob_drill_compare_file(why, sizeof(why), &repo, copy, e.size, e.chunks, e.chunk_count), 1);
	assert_non_null(strstr(why, "bytes; the recovery point records"));
	/* The same bytes again match; a missing copy does not. */
	ob_test_write(copy, data, len);
	assert_int_equal(ob_drill_compare_file(why, sizeof(why), &repo, copy, e.size, e.chunks, e.chunk_count), 0);
	unlink(copy);
	assert_int_equal(ob_drill_compare_file(why, sizeof(why), &repo, copy, e.size, e.chunks, e.chunk_count), 1);
	assert_non_null(strstr(why, "could not open"));
	ob_repo_dispose(&repo);
	free(data);
	free(copy);
	free(orig);
	free(entry);
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
		cmocka_unit_test_setup_teardown(test_compare_names_a_copy_that_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill_takes_the_job_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduled_drill_runs_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
