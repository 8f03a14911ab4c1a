/* Content-defined chunking: bounds, determinism, and boundaries that survive an insertion. */
#include "testutil.h"
#include "vault/chunker.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *random_data(size_t n, unsigned int seed)
{
	uint8_t *d = malloc(n);
	size_t i;

	assert_non_null(d);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		d[i] = (uint8_t)(seed >> 16);
	}
	return d;
}

/* Cut a buffer into chunks; returns their count and fills cut offsets (ends). */
static size_t cut_all(const ob_chunker *c, const uint8_t *d, size_t n, size_t *ends, size_t max_ends)
{
	size_t at = 0, k = 0;

	while (at < n && k < max_ends) {
		size_t len = ob_chunker_cut(c, d + at, n - at, 1);
		assert_true(len > 0);
		at += len;
		ends[k++] = at;
	}
	return k;
}

static void test_bounds(void **state)
{
	uint8_t seed[32] = { 1 };
	ob_chunker c;
	size_t n = 64u << 20, ends[1024], k, i, prev = 0, total = 0;
	uint8_t *d = random_data(n, 7);

	(void)state;
	ob_chunker_init(&c, seed, OB_CHUNK_MIN, OB_CHUNK_AVG, OB_CHUNK_MAX);
	k = cut_all(&c, d, n, ends, 1024);
	for (i = 0; i < k; i++) {
		size_t len = ends[i] - prev;
		if (i + 1 < k)
			assert_true(len >= OB_CHUNK_MIN);
		assert_true(len <= OB_CHUNK_MAX);
		total += len;
		prev = ends[i];
	}
	assert_int_equal(total, n);
	/* The average lands near 1 MiB (normalised chunking keeps it within a factor of 2). */
	assert_true(n / k > OB_CHUNK_AVG / 2 && n / k < OB_CHUNK_AVG * 2);
	free(d);
}

static void test_needs_more_data(void **state)
{
	uint8_t seed[32] = { 2 }, zero[1000] = { 0 };
	ob_chunker c;

	(void)state;
	ob_chunker_init(&c, seed, OB_CHUNK_MIN, OB_CHUNK_AVG, OB_CHUNK_MAX);
	assert_int_equal(ob_chunker_cut(&c, zero, sizeof(zero), 0), 0);
	assert_int_equal(ob_chunker_cut(&c, zero, sizeof(zero), 1), sizeof(zero));
}

static void test_boundaries_resync_after_insertion(void **state)
{
	uint8_t seed[32] = { 3 };
	ob_chunker c;
	size_t n = 32u << 20, ins = 12345, at = 10u << 20, a[512], b[512], ka, kb, i, j, shared = 0, eligible = 0;
	uint8_t *d = random_data(n, 11), *e = malloc(n + ins);

	(void)state;
	assert_non_null(e);
	memcpy(e, d, at);
	memset(e + at, 0x5a, ins);
	memcpy(e + at + ins, d + at, n - at);
	ob_chunker_init(&c, seed, OB_CHUNK_MIN, OB_CHUNK_AVG, OB_CHUNK_MAX);
	ka = cut_all(&c, d, n, a, 512);
	kb = cut_all(&c, e, n + ins, b, 512);
	/* Boundaries before the insertion are identical; after it, they come back shifted by ins. */
	for (i = 0; i < ka; i++) {
		if (!(a[i] < at || a[i] > at + 2 * OB_CHUNK_MAX))
			continue;
		eligible++;
		for (j = 0; j < kb; j++)
			if ((a[i] < at && b[j] == a[i]) || (a[i] > at && b[j] == a[i] + ins))
				shared++;
	}
	assert_true(eligible > ka / 2);
	assert_int_equal(shared, eligible);
	free(d);
	free(e);
}

static void test_seed_changes_boundaries(void **state)
{
	uint8_t s1[32] = { 4 }, s2[32] = { 5 };
	ob_chunker c1, c2;
	size_t n = 16u << 20, a[128], b[128], ka, kb;
	uint8_t *d = random_data(n, 13);

	(void)state;
	ob_chunker_init(&c1, s1, OB_CHUNK_MIN, OB_CHUNK_AVG, OB_CHUNK_MAX);
	ob_chunker_init(&c2, s2, OB_CHUNK_MIN, OB_CHUNK_AVG, OB_CHUNK_MAX);
	ka = cut_all(&c1, d, n, a, 128);
	kb = cut_all(&c2, d, n, b, 128);
	assert_false(ka == kb && memcmp(a, b, ka * sizeof(size_t)) == 0);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_needs_more_data),
		cmocka_unit_test(test_boundaries_resync_after_insertion),
		cmocka_unit_test(test_seed_changes_boundaries),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
