/* Bandwidth throttling: the rate in force switches at the work-hour boundaries, and a small limit holds. */
#define _GNU_SOURCE
#include "testutil.h"
#include "storage/throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_follows_work_hours),
		cmocka_unit_test(test_small_limit_holds),
		cmocka_unit_test(test_local_writes_follow_the_rate_each_second),
		cmocka_unit_test(test_percent_of_a_job),
		cmocka_unit_test(test_backup_percent_follows_the_vault),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
