/*
 * Bandwidth throttling: the rate in force switches at the work-hour boundaries, a small limit
 * holds, and another server's data restored here is held to it like this server's own.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "storage/throttle.h"
#include "restore/restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void test_rate_follows_work_hours(void **state)
{
	ob_throttle_settings s = { 0x3e, 9 * 60, 18 * 60, 100000, 900000 };  /* Monday to Friday, 09:00-18:00 */
	int64_t monday = 1767571200;  /* 2026-01-05T00:00:00Z, a Monday */

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(ob_throttle_rate_at(&s, monday + 8 * 3600 + 59 * 60), 900000);
	assert_int_equal(ob_throttle_rate_at(&s, monday + 9 * 3600), 100000);
	assert_int_equal(ob_throttle_rate_at(&s, monday + 17 * 3600 + 59 * 60), 100000);
	assert_int_equal(ob_throttle_rate_at(&s, monday + 18 * 3600), 900000);
	assert_int_equal(ob_throttle_rate_at(&s, monday - 86400 + 12 * 3600), 900000);  /* Sunday noon */
	assert_int_equal(ob_throttle_rate_at(&s, monday + 5 * 86400 + 12 * 3600), 900000);  /* Saturday noon */
}

static void test_small_limit_holds(void **state)
{
	ob_throttle_settings s = { 0x7f, 0, 24 * 60, 1u << 20, 1u << 20 };  /* 1 MiB/s at all times */
	char *dir = ob_test_tempdir("throttle");
	ob_backend *be;
	uint8_t *buf = calloc(1, 1u << 20);
	struct timespec a, b;
	double elapsed;
	void *data;
	size_t len;
	int i;

	(void)state;
	assert_ok(ob_backend_local_new(&be, dir));
	assert_ok(ob_backend_throttle_wrap(&be, &s));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "obj%d", i);
		assert_ok(be->put(be, name, buf, 1u << 20));
	}
	assert_ok(be->get(&data, &len, be, "obj0", 0, 0));
	free(data);
	clock_gettime(CLOCK_MONOTONIC, &b);
	elapsed = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	/* 4 MiB through a 1 MiB/s link: the first slice goes at once, the rest wait their turn. */
	assert_true(elapsed >= 2.9);
	be->free(be);
	ob_test_rmtree(dir);
	free(dir);
	free(buf);
}

/*
 * A fake clock: sleeping moves it on. Before each move it notes how many bytes the
 * vault folder holds, so the bytes written by every moment of the fake time are
 * known without any wall-clock measurement.
 */
#define MAX_SAMPLES 4096
typedef struct {
	double now;
	const char *dir;
	size_t n;
	double at[MAX_SAMPLES];
	uint64_t bytes[MAX_SAMPLES];
	double longest_sleep;
	int sleeps;
} fake_clock;

static uint64_t walked;

static int add_size(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F)
		walked += (uint64_t)st->st_size;
	return 0;
}

static uint64_t bytes_in(const char *dir)
{
#ifdef _WIN32
	(void)add_size;
	return ob_test_tree_bytes(dir);   /* nftw takes no "/C:/..." path */
#endif
	walked = 0;
	assert_int_equal(nftw(dir, add_size, 16, FTW_PHYS), 0);
	return walked;
}

static void sample(fake_clock *c)
{
	assert_true(c->n < MAX_SAMPLES);
	c->at[c->n] = c->now;
	c->bytes[c->n] = bytes_in(c->dir);
	c->n++;
}

static double fake_now(void *payload)
{
	return ((fake_clock *)payload)->now;
}

static void fake_sleep(void *payload, double seconds)
{
	fake_clock *c = payload;

	if (c->dir)
		sample(c);
	if (seconds > c->longest_sleep)
		c->longest_sleep = seconds;
	c->sleeps++;
	c->now += seconds;
}

/* Bytes on disk by the end of moments before t (the last sample before t). */
static uint64_t written_before(const fake_clock *c, double t)
{
	uint64_t b = 0;
	size_t i;

	for (i = 0; i < c->n && c->at[i] < t; i++)
		b = c->bytes[i];
	return b;
}

/*
 * A pack of 8 MiB through a 1 MiB/s limit: the bytes written within every second
 * of the transfer are the rate (give or take one slice of an eighth of it), not
 * the whole pack at once and then nothing (as it went before, when the local back
 * end wrote whole packs after the throttle's wait). Reading it back is paced too.
 */
static void test_local_writes_follow_the_rate_each_second(void **state)
{
	const uint32_t rate = 1u << 20;
	ob_throttle_settings s = { 0x7f, 0, 24 * 60, rate, rate };
	const size_t len = 8u << 20, slice = ob_throttle_slice(rate);
	fake_clock *c = calloc(1, sizeof(*c));
	char *dir = ob_test_tempdir("throttle-smooth");
	ob_throttle_clock clock = { fake_now, fake_sleep, c };
	ob_backend *be;
	uint8_t *buf;
	void *data;
	size_t got, i;
	double end, t0;
	int w;

	(void)state;
	assert_int_equal(slice, rate / 8);
	assert_int_equal(posix_memalign((void **)&buf, 4096, len), 0);  /* page-aligned: the O_DIRECT path */
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + i / 4096);
	c->now = 1000.0;
	c->dir = dir;
	assert_ok(ob_backend_local_new(&be, dir));
	assert_ok(ob_backend_throttle_wrap_clock(&be, &s, &clock));
	t0 = c->now;
	assert_ok(be->put_nosync(be, "pack-a", buf, len));
	sample(c);
	end = c->now;
	/* The last slice goes after (len - slice) / rate seconds. */
	assert_true(end - t0 > (double)(len - slice) / rate - 0.01);
	assert_true(end - t0 < (double)len / rate + 0.01);
	for (w = 0; t0 + w < end; w++) {
		uint64_t in_window = written_before(c, t0 + w + 1) - written_before(c, t0 + w);
		print_message("second %d: %llu bytes\n", w, (unsigned long long)in_window);
		assert_true(in_window <= rate + slice);
		if (t0 + w + 1 <= end)
			assert_true(in_window >= rate - slice);
	}
	assert_ok(be->sync(be));
	assert_int_equal(bytes_in(dir), len);

	/* A durable put goes the same way. */
	c->n = 0;
	sample(c);     /* what is there already */
	c->now += 0.001;
	t0 = c->now;
	assert_ok(be->put(be, "pack-b", buf, len / 2));
	sample(c);
	for (w = 0; t0 + w < c->now; w++)
		assert_true(written_before(c, t0 + w + 1) - written_before(c, t0 + w) <= rate + slice);
	assert_true(c->now - t0 > (double)(len / 2) / rate - 0.2);

	/* Reading: never more than a slice's wait at a time, the whole read at the rate. */
	c->dir = NULL;
	c->longest_sleep = 0;
	c->sleeps = 0;
	t0 = c->now;
	assert_ok(be->get(&data, &got, be, "pack-a", 0, 0));
	assert_int_equal(got, len);
	assert_memory_equal(data, buf, len);
	free(data);
	assert_true(c->sleeps >= (int)(len / slice) - 2);
	assert_true(c->longest_sleep <= (double)slice / rate + 0.01);
	assert_true(c->now - t0 > (double)(len - 2 * slice) / rate);
	be->free(be);
	ob_test_rmtree(dir);
	free(dir);
	free(buf);
	free(c);
}

static void test_percent_of_a_job(void **state)
{
	ob_job_info j;

	(void)state;
	memset(&j, 0, sizeof(j));
	j.state = OB_JOB_INPROGRESS;
	assert_int_equal(ob_job_percent_complete(NULL), -1);
	assert_int_equal(ob_job_percent_complete(&j), -1);          /* nothing found yet */
	j.bytes_scanned = 1000;
	j.bytes_done = 250;
	assert_int_equal(ob_job_percent_complete(&j), 25);
	j.bytes_done = 1000;
	assert_int_equal(ob_job_percent_complete(&j), 99);          /* the point is not written yet */
	j.state = OB_JOB_COMPLETED;
	assert_int_equal(ob_job_percent_complete(&j), 100);
	j.state = OB_JOB_FAILED;
	j.bytes_done = 400;
	assert_int_equal(ob_job_percent_complete(&j), 40);
}

/* Incompressible bytes (xorshift), so that what is uploaded is what is read. */
static void random_file(const char *path, size_t len, uint64_t seed)
{
	uint64_t *buf = malloc(len), x = seed | 1;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
	ob_test_write(path, buf, len);
	free(buf);
}

/*
 * A throttled backup reads its 36 MiB well ahead of the vault (a pack is read in
 * a moment, and stored in two seconds at 8 MiB/s). Its percentage must follow what
 * reached the vault: it never runs more than 10 points ahead of the share of the
 * bytes uploaded so far. It used to count the bytes read, and stood at 44 % and
 * more while nothing was stored, then at 99 % for most of the run.
 */
static void test_backup_percent_follows_the_vault(void **state)
{
	enum { MAX = 20000 };
	char *dir = ob_test_tempdir("throttle-percent"), *src = ob_test_path(dir, "src"), *vault = ob_test_path(dir, "vault");
	char *home = ob_test_path(dir, "home"), *creds = ob_test_path(dir, "creds"), *cred = NULL, *id, name[32];
	int *pct = calloc(MAX, sizeof(int));
	uint64_t *up = calloc(MAX, sizeof(uint64_t)), final_up;
	ob_filespec_input spec;
	ob_policy *policy = NULL;
	ob_job_info *j = NULL;
	ob_agent *a = NULL;
	ob_vault *v = NULL;
	size_t n = 0, i, ahead = 0, midway = 0;
	int k;

	(void)state;
	assert_int_equal(mkdir(src, 0755), 0);
	for (k = 0; k < 3; k++) {
		char *p;
		snprintf(name, sizeof(name), "part%d.bin", k);
		p = ob_test_path(src, name);
		random_file(p, 12u << 20, 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1));
		free(p);
	}
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_SERVER_NAME", "throttle-test");
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, vault, "ThrottleTest"));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	assert_ok(ob_agent_open(&a, home));
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)"throttle test passphrase", 24, NULL));
	assert_ok(ob_agent_set_throttle(a, 0x7f, 0, 24 * 60, 8u << 20, 8u << 20));
	spec.spec = src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, a, &spec, 1));

	assert_ok(ob_backup_start(&j, a, 0));
	id = strdup(j->job_id);
	for (k = 0; k < 60000 && j->state == OB_JOB_INPROGRESS; k++) {   /* up to 20 minutes */
		if (j->bytes_scanned && n < MAX) {
			pct[n] = ob_job_percent_complete(j);
			up[n] = j->bytes_uploaded;
			n++;
		}
		ob_job_info_free(j);
		usleep(20000);
		assert_ok(ob_job_get(&j, a, id));
	}
	if (j->state != OB_JOB_COMPLETED)
		fail_msg("the backup ended %s: %s", ob_job_state_name(j->state), j->error_message ? j->error_message : "");
	assert_int_equal(ob_job_percent_complete(j), 100);
	final_up = j->bytes_uploaded;
	assert_true(final_up >= (36u << 20));
	assert_true(n >= 3);
	for (i = 0; i < n; i++) {
		int stored = (int)(up[i] * 100 / final_up);
		if (pct[i] > stored + 10) {
			print_error("sample %zu: %d %% shown with %d %% of the bytes uploaded\n", i, pct[i], stored);
			ahead++;
		}
		if (pct[i] >= 20 && pct[i] <= 90)
			midway++;
	}
	print_message("%zu samples of a throttled backup, none more than 10 points ahead of the upload\n", n);
	assert_int_equal(ahead, 0);
	assert_true(midway > 0);   /* it moved while the packs went, not from 0 to 100 at the end */
	assert_int_equal(j->bytes_done, j->bytes_scanned);   /* all of it stored in the end */

	ob_job_info_free(j);
	free(id);
	ob_policy_free(policy);
	ob_agent_free(a);
	ob_vault_free(v);
	ob_str_free(cred);
	ob_test_rmtree(dir);
	free(dir);
	free(src);
	free(vault);
	free(home);
	free(creds);
	free(pct);
	free(up);
}

/* A fake clock for transfers on several threads: sleeping moves it on at once. */
typedef struct {
	pthread_mutex_t lock;
	double now;
	double longest_sleep;
	int sleeps;
} shared_clock;

static double shared_now(void *payload)
{
	shared_clock *c = payload;
	double now;

	pthread_mutex_lock(&c->lock);
	now = c->now;
	pthread_mutex_unlock(&c->lock);
	return now;
}

static void shared_sleep(void *payload, double seconds)
{
	shared_clock *c = payload;

	pthread_mutex_lock(&c->lock);
	c->now += seconds;
	c->sleeps++;
	if (seconds > c->longest_sleep)
		c->longest_sleep = seconds;
	pthread_mutex_unlock(&c->lock);
}

static int count_failed(const char *path, const char *reason, void *payload)
{
	(void)path;
	(void)reason;
	(*(int *)payload)++;
	return 0;
}

/*
 * Restoring another server's point (Recover-OBFile of server-a on server-b) reads
 * that server's packs through server-b's bandwidth settings, as server-b's own
 * restores do. It used to open the other server's area straight from the vault,
 * unthrottled: a 1 MiB/s limit let a 3 MiB restore go at once. On a fake clock,
 * the restore's waits add up to the time its bytes take at the rate.
 */
static void test_other_servers_restore_is_throttled(void **state)
{
	const uint32_t rate = 1u << 20;
	const size_t len = 3u << 20, slice = ob_throttle_slice(rate);
	const char *pp = "throttle test passphrase";
	char *dir = ob_test_tempdir("throttle-other"), *src = ob_test_path(dir, "src"), *vault = ob_test_path(dir, "vault");
	char *home_a = ob_test_path(dir, "home-a"), *home_b = ob_test_path(dir, "home-b"), *creds = ob_test_path(dir, "creds");
	char *out = ob_test_path(dir, "out"), *file = ob_test_path(src, "big.bin"), *cred = NULL, *restored, *want, *got;
	shared_clock c = { PTHREAD_MUTEX_INITIALIZER, 1000.0, 0, 0 };
	ob_throttle_clock clock = { shared_now, shared_sleep, &c };
	ob_restore_progress pg;
	ob_restore_run run;
	ob_recovery_point **pts = NULL;
	ob_recovery *rec = NULL;
	ob_filespec_input spec;
	ob_policy *policy = NULL;
	ob_job_info *j = NULL;
	ob_agent *a = NULL, *b = NULL;
	ob_vault *v = NULL;
	const char *items[1];
	size_t n = 0, want_len, got_len;
	int failed = 0;

	(void)state;
	assert_int_equal(mkdir(src, 0755), 0);
	random_file(file, len, 0x2545f4914f6cdd1dull);
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, vault, "ThrottleOther"));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));

	/* server-a backs up, unthrottled. */
	ob_env_set("OBAGENT_SERVER_NAME", "server-a");
	assert_ok(ob_agent_open(&a, home_a));
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)pp, strlen(pp), NULL));
	spec.spec = src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, a, &spec, 1));
	assert_ok(ob_backup_start(&j, a, 0));
	{
		char *id = strdup(j->job_id);
		while (j->state == OB_JOB_INPROGRESS) {
			ob_job_info_free(j);
			assert_ok(ob_job_wait(&j, a, id, 60000));
		}
		free(id);
	}
	assert_int_equal(j->state, OB_JOB_COMPLETED);

	/* server-b, held to 1 MiB/s, restores server-a's point in this process. */
	ob_env_set("OBAGENT_SERVER_NAME", "server-b");
	assert_ok(ob_agent_open(&b, home_b));
	assert_ok(ob_agent_register(NULL, b, cred));
	assert_ok(ob_agent_set_throttle(b, 0x7f, 0, 24 * 60, rate, rate));
	ob_throttle_clock_override(&clock);
	assert_ok(ob_recovery_open(&rec, b, "server-a", (const uint8_t *)pp, strlen(pp)));
	assert_ok(ob_recovery_list_points(&pts, &n, rec));
	assert_true(n >= 1);
	items[0] = ob_test_rel(src);
	memset(&pg, 0, sizeof(pg));
	memset(&run, 0, sizeof(run));
	run.repo = ob_recovery_repo(rec);
	run.locator = ob_recovery_locator(rec);
	run.point_id = pts[0]->id;
	run.datasource_id = strtoll(pts[0]->datasource_ids, NULL, 10);
	run.items = items;
	run.item_count = 1;
	run.destination = out;
	run.progress = &pg;
	run.on_failed = count_failed;
	run.payload = &failed;
	assert_int_equal(mkdir(out, 0755), 0);
	assert_ok(ob_restore_execute(&run));
	ob_throttle_clock_override(NULL);
	assert_int_equal(failed, 0);
	restored = ob_test_path(out, ob_test_rel(file));
	want = ob_test_read(file, &want_len);
	got = ob_test_read(restored, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);

	/* Every byte read waited its turn: the restore took its bytes' time at the rate, a slice at a time. */
	print_message("restore of another server's %zu bytes: %.2f s on the throttle's clock, %d waits\n", len,
		c.now - 1000.0, c.sleeps);
	assert_true(c.now - 1000.0 >= (double)(len - 2 * slice) / rate);
	assert_true(c.longest_sleep <= (double)slice / rate + 0.01);

	free(want);
	free(got);
	free(restored);
	ob_recovery_points_free(pts, n);
	ob_recovery_free(rec);
	ob_job_info_free(j);
	ob_policy_free(policy);
	ob_agent_free(a);
	ob_agent_free(b);
	ob_vault_free(v);
	ob_str_free(cred);
	ob_test_rmtree(dir);
	free(dir);
	free(src);
	free(vault);
	free(home_a);
	free(home_b);
	free(creds);
	free(out);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_follows_work_hours),
		cmocka_unit_test(test_small_limit_holds),
		cmocka_unit_test(test_local_writes_follow_the_rate_each_second),
		cmocka_unit_test(test_percent_of_a_job),
		cmocka_unit_test(test_backup_percent_follows_the_vault),
		cmocka_unit_test(test_other_servers_restore_is_throttled),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
