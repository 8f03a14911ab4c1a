/* Bandwidth throttling: the rate in force switches at the work-hour boundaries, and a small limit holds. */
#define _GNU_SOURCE
#include "testutil.h"
#include "backend_throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	/* 4 MiB through a 1 MiB/s link: the first MiB goes at once, the other three wait their turn. */
	assert_true(elapsed >= 2.9);
	be->free(be);
	ob_test_rmtree(dir);
	free(dir);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_follows_work_hours),
		cmocka_unit_test(test_small_limit_holds),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
