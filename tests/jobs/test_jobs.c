/*
 * What a backup job says is what the vault holds (a real worker process, a real
 * vault; faults come from tests/support/faultfs.c, preloaded into the worker):
 * points committed within one second list in commit order and "the newest"
 * restores the last version; a point that is committed is never under a Failed
 * job; a failed backup reports the bytes it stored and does not block vault
 * maintenance; a second backup is refused while one runs; ob_job_wait returns
 * when the job ends.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "vault/crypto.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *dir, *src, *vault_path;
static ob_agent *agent;
static const char *PP = "jobs test passphrase!!";

static ob_test_server srv;   /* dir, src, vault_path and agent are borrowed from it */

/* A fresh vault and agent for each test, backing up src. */
static int setup(void **state)
{
	(void)state;
	ob_test_server_folders(&srv, "jobs");
	dir = srv.dir;
	src = srv.src;
	vault_path = srv.vault_path;
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "jobs-test", "JobsTest", PP);
	agent = srv.agent;
	return 0;
}

static void uninject(void);

static int teardown(void **state)
{
	(void)state;
	uninject();
	ob_env_set("OBAGENT_NOW", NULL);
	ob_test_server_dispose(&srv);
	agent = NULL;
	dir = src = vault_path = NULL;
	return 0;
}

/* The worker of the next job starts with faultfs preloaded (this process is not affected). */
static void inject(const char *name, const char *value)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[1024];

	/* Under AddressSanitizer, a preloaded library ahead of its runtime is allowed (faultfs only wraps calls). */
	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	setenv("LD_PRELOAD", OBAGENT_FAULTFS_PATH, 1);
	setenv(name, value, 1);
	/* A worker gets only the variables it needs: faultfs's settings are asked for by name. */
	setenv("OBAGENT_WORKER_ENV", "OBFAULT_FSYNC_DIR OBFAULT_FSYNC_FILE OBFAULT_CREATE OBFAULT_CREATE_AFTER", 1);
}

/* Later workers start without faults. */
static void uninject(void)
{
	unsetenv("LD_PRELOAD");
	unsetenv("OBAGENT_WORKER_ENV");
	unsetenv("OBFAULT_FSYNC_DIR");
	unsetenv("OBFAULT_FSYNC_FILE");
	unsetenv("OBFAULT_CREATE");
	unsetenv("OBFAULT_CREATE_AFTER");
}

/* Run a backup job to its end (polling, with a bound no loaded machine reaches); returns its final info. */
static ob_job_info *backup_now(void)
{
	ob_job_info *j = ob_test_backup(agent);

	assert_int_not_equal(j->state, OB_JOB_INPROGRESS);
	return j;
}

static void write_version(int v)
{
	char *p = ob_test_path(src, "version.txt"), text[64];
	int n = snprintf(text, sizeof(text), "version %d\n", v);

	ob_test_write(p, text, (size_t)n);
	free(p);
}

/* Restore version.txt of a point and return its text (malloc'd). */
static char *restored_version(const char *point, const char *tag)
{
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	ob_recovery_point **pts = NULL;
	size_t n = 0;
	char *out = ob_test_path(dir, tag), *failed = NULL, *item, *file, *text;

	assert_ok(ob_recovery_points(&pts, &n, agent));
	assert_true(n >= 1);
	item = ob_test_path(src + 1, "version.txt");
	o.point_id = point;
	o.datasource_id = strtoll(pts[0]->datasource_ids, NULL, 10);
	o.item = item;
	o.destination = out;
	assert_ob(0, ob_restore(&failed, agent, &o));
	assert_null(failed);
	file = ob_test_path(out, item);
	text = ob_test_read(file, NULL);
	ob_recovery_points_free(pts, n);
	free(file);
	free(item);
	free(out);
	return text;
}

static double real_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define VERSIONS_MAX 40

/*
 * Backups within one second of the library's clock: first with the clock pinned
 * (OBAGENT_NOW, as the scheduler's tests simulate time), so that every backup
 * starts in the same second, for as long as it takes the real clock to pass a
 * second (a name that took its nanoseconds from the real clock would then sort
 * out of order); then on the real clock, back to back. Listed newest first, the
 * points are in reverse commit order, and the newest restores the last version.
 */
static void test_points_of_one_second_list_in_commit_order(void **state)
{
	char *jobs[VERSIONS_MAX], *text, expect[64];
	ob_recovery_point **pts = NULL;
	size_t n = 0, i;
	int v = 0, crossed = 0;
	double last_end = 0;

	(void)state;
	ob_env_set("OBAGENT_NOW", "2026-06-01T12:00:00Z");
	while (v < VERSIONS_MAX - 4 && (v < 4 || !crossed)) {
		ob_job_info *j;
		double end;
		write_version(v);
		j = backup_now();
		end = real_time();
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		jobs[v++] = strdup(j->job_id);
		ob_job_info_free(j);
		/* Two backups less than a second apart, in different real seconds. */
		if (last_end > 0 && (long)end != (long)last_end && end - last_end < 1.0)
			crossed = 1;
		last_end = end;
	}
	ob_env_set("OBAGENT_NOW", NULL);
	for (i = 0; i < 3; i++) {
		ob_job_info *j;
		write_version(v);
		j = backup_now();
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		jobs[v++] = strdup(j->job_id);
		ob_job_info_free(j);
	}
	assert_ok(ob_recovery_points(&pts, &n, agent));
	assert_int_equal(n, (size_t)v);
	for (i = 0; i < n; i++) {
		if (strcmp(pts[i]->job_id, jobs[v - 1 - i]) != 0)
			print_error("point %zu of %zu (%s) is from job %s, expected the job committed %zu-th last (%s)\n",
				i, n, pts[i]->id, pts[i]->job_id, i + 1, jobs[v - 1 - i]);
		assert_string_equal(pts[i]->job_id, jobs[v - 1 - i]);
	}
	text = restored_version(pts[0]->id, "newest");
	snprintf(expect, sizeof(expect), "version %d\n", v - 1);
	assert_string_equal(text, expect);
	free(text);
	ob_recovery_points_free(pts, n);
	for (i = 0; i < (size_t)v; i++)
		free(jobs[i]);
}

/*
 * The point is written and reads back, then the folder it is in cannot be synced:
 * the point is there and healthy, so the job is not Failed. It ends with a
 * warning that names the sync error, and it names its point.
 */
static void test_point_committed_when_folder_sync_fails_is_not_a_failed_job(void **state)
{
	ob_recovery_point **pts = NULL;
	ob_recovery *rec = NULL;
	ob_job_info *j;
	size_t n = 0;
	uint64_t objects = 0;
	char *failed = NULL, *report = NULL, *text;

	(void)state;
	write_version(1);
	inject("OBFAULT_FSYNC_DIR", "/snapshots");
	j = backup_now();
	uninject();
	assert_ok(ob_recovery_points(&pts, &n, agent));
	assert_int_equal(n, 1);
	if (j->state != OB_JOB_COMPLETED_WITH_WARNING)
		print_error("job %s: %s\n", ob_job_state_name(j->state), j->error_message ? j->error_message : "");
	assert_int_equal(j->state, OB_JOB_COMPLETED_WITH_WARNING);
	assert_non_null(j->recovery_point);
	assert_string_equal(j->recovery_point, pts[0]->id);
	assert_ok(ob_job_failed_files(&failed, agent, j->job_id));
	assert_non_null(strstr(failed, "Cannot sync the folder"));
	/* The point is whole: every object checks, and it restores. */
	assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	assert_ok(ob_recovery_test(&report, &objects, rec, pts[0]->id));
	assert_true(objects > 0);
	text = restored_version(pts[0]->id, "out");
	assert_string_equal(text, "version 1\n");
	free(text);
	ob_str_free(report);
	ob_str_free(failed);
	ob_recovery_free(rec);
	ob_recovery_points_free(pts, n);
	ob_job_info_free(j);
}

static uint64_t pack_total;

static int add_pack(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_F && strstr(path, "/packs/") && path[ftw->base] != '.')
		pack_total += (uint64_t)st->st_size;
	return 0;
}

/* Bytes of the packs stored in the vault. */
static uint64_t vault_pack_bytes(void)
{
	pack_total = 0;
	nftw(vault_path, add_pack, 16, FTW_PHYS);
	return pack_total;
}

/*
 * The vault fills up after two packs: the job fails, says it uploaded what those
 * packs hold, and vault maintenance runs (a failed backup is not an interrupted
 * one). The next backup completes.
 */
static void test_failed_backup_reports_its_upload_and_does_not_block_maintenance(void **state)
{
	ob_maintenance_report *rep = NULL;
	ob_job_info *j, *k;
	uint8_t *data = malloc(20u << 20);
	uint64_t stored;
	char *p;
	int i;

	(void)state;
	assert_non_null(data);
	for (i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "random%d.bin", i);
		assert_ok(ob_random(data, 20u << 20));
		p = ob_test_path(src, name);
		ob_test_write(p, data, 20u << 20);
		free(p);
	}
	write_version(1);
	inject("OBFAULT_CREATE", "/packs/");
	setenv("OBFAULT_CREATE_AFTER", "2", 1);
	j = backup_now();
	uninject();
	assert_int_equal(j->state, OB_JOB_FAILED);
	assert_non_null(strstr(j->error_message, "No space left"));
	stored = vault_pack_bytes();
	assert_true(stored > (16u << 20));
	assert_int_equal(j->bytes_uploaded, stored);

	assert_ok(ob_maintenance_run(&rep, agent, NULL));
	free(rep);

	k = backup_now();
	if (k->state != OB_JOB_COMPLETED)
		print_error("job %s: %s\n", ob_job_state_name(k->state), k->error_message ? k->error_message : "");
	assert_int_equal(k->state, OB_JOB_COMPLETED);
	p = restored_version(k->recovery_point, "out");
	assert_string_equal(p, "version 1\n");
	free(p);
	ob_job_info_free(k);
	ob_job_info_free(j);
	free(data);
}

/*
 * The vault's disk cannot sync the packs: the job fails, and it says how much it
 * wrote to the vault (it said "uploaded 0" when the first sync failed).
 */
static void test_failed_backup_counts_what_it_wrote(void **state)
{
	ob_job_info *j;
	uint8_t *data = malloc(24u << 20);
	uint64_t stored;
	char *p = ob_test_path(src, "random.bin");

	(void)state;
	assert_non_null(data);
	assert_ok(ob_random(data, 24u << 20));
	ob_test_write(p, data, 24u << 20);
	inject("OBFAULT_FSYNC_FILE", "/packs/");
	j = backup_now();
	uninject();
	assert_int_equal(j->state, OB_JOB_FAILED);
	assert_non_null(strstr(j->error_message, "Cannot sync the file"));
	stored = vault_pack_bytes();
	assert_true(stored > 0);
	assert_int_equal(j->bytes_uploaded, stored);
	ob_job_info_free(j);
	free(data);
	free(p);
}

static void *release_later(void *arg)
{
	usleep(500000);
	close(*(int *)arg);
	return NULL;
}

/*
 * A worker records its job's end, then exits, freeing the job lock: a backup
 * started in between (a script's next Start-OBBackup) waits for the exit instead
 * of failing with "another job is in progress". Here this process holds the lock,
 * with no job recorded in progress, and lets it go half a second later.
 */
static void test_start_right_after_a_job_ended_waits_for_its_exit(void **state)
{
	ob_job_info *j = NULL;
	pthread_t t;
	char *lock = ob_test_path(dir, "home/job.lock");
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	(void)state;
	write_version(1);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(pthread_create(&t, NULL, release_later, &fd), 0);
	assert_ok(ob_backup_start(&j, agent, 0));
	pthread_join(t, NULL);
	ob_job_info_free(j);
	j = NULL;
	/* Let that job end, then check it completed. */
	{
		ob_job_info **list = NULL;
		size_t n = 0;
		int i;
		for (i = 0; i < 30000 && n == 0; i++) {
			ob_job_list_free(list, n);
			usleep(20000);
			assert_ok(ob_job_list(&list, &n, agent, 1, OB_JOB_FILTER_ALL));
		}
		assert_int_equal(n, 1);
		assert_int_equal(list[0]->state, OB_JOB_COMPLETED);
		ob_job_list_free(list, n);
	}
	free(lock);
}

/* ---- moved here from test_backup and test_recovery: they test the job machinery ---- */

/* One backup while another runs is refused; stopping it lets the next run complete. */
static void test_second_backup_is_refused_while_one_runs(void **state)
{
	ob_job_info *j = NULL, *k = NULL;
	char *p = ob_test_path(src, "grow.bin");
	uint8_t *data = malloc(64u << 20);
	int i;

	(void)state;
	assert_ok(ob_random(data, 64u << 20));
	ob_test_write(p, data, 64u << 20);
	assert_ok(ob_backup_start(&j, agent, 0));
	assert_ob(OB_ELOCKED, ob_backup_start(&k, agent, 0));
	assert_non_null(strstr(ob_error_last(), "Another job is in progress"));
	/* Stop it: it ends Aborted, and the next run completes. */
	assert_ok(ob_job_stop(agent, j->job_id));
	for (i = 0; i < 3000; i++) {
		ob_job_info *cur = NULL;
		assert_ok(ob_job_get(&cur, agent, j->job_id));
		if (cur->state != OB_JOB_INPROGRESS) {
			assert_true(cur->state == OB_JOB_ABORTED || cur->state == OB_JOB_COMPLETED);
			ob_job_info_free(cur);
			break;
		}
		ob_job_info_free(cur);
		usleep(20000);
	}
	ob_job_info_free(j);
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	unlink(p);
	free(p);
	free(data);
}

/* The setup, and a point of src holding notes.txt (for a recovery job to wait for). */
static int setup_with_point(void **state)
{
	ob_job_info *j;
	char *p;

	setup(state);
	p = ob_test_path(src, "notes.txt");
	ob_test_write(p, "notes\n", 6);
	free(p);
	j = ob_test_backup(agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ob_job_wait returns with the job ended, long before its time-out; a job that ended returns at once. */
static void test_job_wait_returns_at_the_end(void **state)
{
	ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
	ob_job_info *j = NULL, *w = NULL;
	char *point, *out = ob_test_path(dir, "out-wait"), *item = ob_test_path(src + 1, "notes.txt");
	const char *items[1];
	int64_t ds, t0;

	(void)state;
	ob_test_newest_point(agent, &point, &ds);
	items[0] = item;
	req.point_id = point;
	req.datasource_id = ds;
	req.items = items;
	req.item_count = 1;
	req.destination = out;
	assert_ok(ob_recovery_start(&j, agent, &req));
	t0 = mono_ms();
	assert_ok(ob_job_wait(&w, agent, j->job_id, 120000));
	assert_int_not_equal(w->state, OB_JOB_INPROGRESS);
	assert_int_equal(w->state, OB_JOB_COMPLETED);
	assert_int_equal(w->files_done, 1);
	/* The job took far less than the time-out: the wait ended with it (a generous bound). */
	assert_true(mono_ms() - t0 < 60000);
	ob_job_info_free(w);
	t0 = mono_ms();
	assert_ok(ob_job_wait(&w, agent, j->job_id, 120000));
	assert_int_equal(w->state, OB_JOB_COMPLETED);
	assert_true(mono_ms() - t0 < 60000);
	ob_job_info_free(w);
	assert_ob(OB_ENOTFOUND, ob_job_wait(&w, agent, "no-such-job", 10));
	assert_null(w);
	ob_job_info_free(j);
	free(out);
	free(item);
	free(point);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_points_of_one_second_list_in_commit_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_point_committed_when_folder_sync_fails_is_not_a_failed_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_backup_reports_its_upload_and_does_not_block_maintenance, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_failed_backup_counts_what_it_wrote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_right_after_a_job_ended_waits_for_its_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_backup_is_refused_while_one_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_wait_returns_at_the_end, setup_with_point, teardown),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
