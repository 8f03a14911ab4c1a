/*
 * The storage conformance suite, run here against the local-directory back end.
 * Every back end (Azure Blob too) runs the same cases through ob_conformance_run.
 */
#include "testutil.h"
#include "conformance.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ob_conformance_factory *factory;

static int setup(void **state)
{
	*state = factory->make(factory->payload);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	ob_backend *be = *state;

	be->free(be);
	factory->destroy(factory->payload);
	return 0;
}

static void test_put_then_get(void **state)
{
	ob_backend *be = *state;
	void *data;
	size_t len;
	uint64_t size;

	assert_ok(be->put(be, "data/ab/object-1", "hello world", 11));
	assert_ok(be->get(&data, &len, be, "data/ab/object-1", 0, 0));
	assert_int_equal(len, 11);
	assert_memory_equal(data, "hello world", 11);
	free(data);
	assert_ok(be->stat(&size, be, "data/ab/object-1"));
	assert_int_equal(size, 11);
}

static void test_put_is_create_only(void **state)
{
	ob_backend *be = *state;
	void *data;
	size_t len;

	assert_ok(be->put(be, "config", "first", 5));
	assert_ob(OB_EEXISTS, be->put(be, "config", "second!", 7));
	assert_ok(be->get(&data, &len, be, "config", 0, 0));
	assert_int_equal(len, 5);
	assert_memory_equal(data, "first", 5);
	free(data);
}

static void test_ranges(void **state)
{
	ob_backend *be = *state;
	void *data;
	size_t len;

	assert_ok(be->put(be, "r", "0123456789", 10));
	assert_ok(be->get(&data, &len, be, "r", 3, 4));
	assert_int_equal(len, 4);
	assert_memory_equal(data, "3456", 4);
	free(data);
	assert_ok(be->get(&data, &len, be, "r", 7, 0));
	assert_int_equal(len, 3);
	assert_memory_equal(data, "789", 3);
	free(data);
	assert_ob(OB_EINVALID, be->get(&data, &len, be, "r", 8, 5));
	assert_ob(OB_EINVALID, be->get(&data, &len, be, "r", 11, 0));
}

static void test_empty_and_large_objects(void **state)
{
	ob_backend *be = *state;
	size_t big = 5u << 20, len, i;
	uint8_t *buf = malloc(big);
	void *data;

	assert_non_null(buf);
	for (i = 0; i < big; i++)
		buf[i] = (uint8_t)(i * 31 + (i >> 13));
	assert_ok(be->put(be, "empty", "", 0));
	assert_ok(be->get(&data, &len, be, "empty", 0, 0));
	assert_int_equal(len, 0);
	free(data);
	assert_ok(be->put(be, "big", buf, big));
	assert_ok(be->get(&data, &len, be, "big", 0, 0));
	assert_int_equal(len, big);
	assert_memory_equal(data, buf, big);
	free(data);
	free(buf);
}

static void test_missing_objects(void **state)
{
	ob_backend *be = *state;
	void *data;
	size_t len;
	uint64_t size;

	assert_ob(OB_ENOTFOUND, be->get(&data, &len, be, "nope", 0, 0));
	assert_ob(OB_ENOTFOUND, be->stat(&size, be, "nope"));
	assert_ob(OB_ENOTFOUND, be->stat(&size, be, "dir/nope"));
}

typedef struct {
	char names[64][64];
	uint64_t sizes[64];
	int count;
} listing;

static int collect(const char *name, uint64_t size, void *payload)
{
	listing *l = payload;

	if (l->count < 64) {
		snprintf(l->names[l->count], 64, "%s", name);
		l->sizes[l->count] = size;
		l->count++;
	}
	return 0;
}

static int has(listing *l, const char *name)
{
	int i;

	for (i = 0; i < l->count; i++)
		if (strcmp(l->names[i], name) == 0)
			return 1;
	return 0;
}

static void test_list_by_prefix(void **state)
{
	ob_backend *be = *state;
	listing l;

	assert_ok(be->put(be, "keys/0000000001", "a", 1));
	assert_ok(be->put(be, "keys/0000000002", "bb", 2));
	assert_ok(be->put(be, "keysafe", "c", 1));
	assert_ok(be->put(be, "data/00/x", "d", 1));
	memset(&l, 0, sizeof(l));
	assert_ok(be->list(be, "keys/", collect, &l));
	assert_int_equal(l.count, 2);
	assert_true(has(&l, "keys/0000000001"));
	assert_true(has(&l, "keys/0000000002"));
	memset(&l, 0, sizeof(l));
	assert_ok(be->list(be, "keys", collect, &l));
	assert_int_equal(l.count, 3);
	memset(&l, 0, sizeof(l));
	assert_ok(be->list(be, "", collect, &l));
	assert_int_equal(l.count, 4);
	memset(&l, 0, sizeof(l));
	assert_ok(be->list(be, "absent/", collect, &l));
	assert_int_equal(l.count, 0);
}

static int stop_at_first(const char *name, uint64_t size, void *payload)
{
	(void)name; (void)size;
	(*(int *)payload)++;
	return 7;
}

static void test_list_callback_can_stop(void **state)
{
	ob_backend *be = *state;
	int calls = 0;

	assert_ok(be->put(be, "a/1", "x", 1));
	assert_ok(be->put(be, "a/2", "x", 1));
	assert_int_equal(be->list(be, "a/", stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);
}

static void test_invalid_names(void **state)
{
	ob_backend *be = *state;
	const char *bad[] = { "", "/abs", "a//b", "../x", "a/../b", ".hidden", "a/.b", "trailing/", "sp ace", "a\\b" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(ob_backend_name_valid(bad[i]));
		assert_ob(OB_EINVALID, be->put(be, bad[i], "x", 1));
	}
	assert_true(ob_backend_name_valid("servers/0a1b/keys/0000000001"));
}

static void test_remove(void **state)
{
	ob_backend *be = *state;
	uint64_t size;

	if (!(be->capabilities(be) & OB_BACKEND_CAP_DELETE)) {
		assert_ob(OB_EACCESS, be->remove(be, "x"));
		return;
	}
	assert_ok(be->put(be, "gone", "x", 1));
	assert_ok(be->remove(be, "gone"));
	assert_ob(OB_ENOTFOUND, be->stat(&size, be, "gone"));
	assert_ob(OB_ENOTFOUND, be->remove(be, "gone"));
	/* A removed name can be created again. */
	assert_ok(be->put(be, "gone", "y", 1));
}

/* The storage's creation time: set at the put, near the real clock, unchanged by a refused put. */
static void test_stat_created(void **state)
{
	ob_backend *be = *state;
	int64_t before = (int64_t)time(NULL), created = 0, again = 0;

	if (be->version < 3 || !be->stat_created) {
		/* Optional: such a back end purges no soft-deleted point (docs/SECURITY.md). */
		return;
	}
	assert_ok(be->put(be, "deleted/marker", "m", 1));
	assert_ok(be->stat_created(&created, be, "deleted/marker"));
	/* The storage's clock, not ours: a service on this machine (Azurite), so within minutes. */
	assert_true(created >= before - 300 && created <= (int64_t)time(NULL) + 300);
	assert_ob(OB_EEXISTS, be->put(be, "deleted/marker", "other", 5));
	assert_ok(be->stat_created(&again, be, "deleted/marker"));
	assert_int_equal(again, created);
	assert_ob(OB_ENOTFOUND, be->stat_created(&again, be, "deleted/absent"));
	assert_ob(OB_EINVALID, be->stat_created(&again, be, "../escape"));
}

typedef struct {
	ob_backend *be;
	int index;
	int result;
} racer;

static void *race_put(void *arg)
{
	racer *r = arg;
	char body[32];

	snprintf(body, sizeof(body), "writer %d", r->index);
	r->result = r->be->put(r->be, "contested", body, strlen(body));
	return NULL;
}

static void test_concurrent_create_only(void **state)
{
	ob_backend *be = *state;
	pthread_t t[8];
	racer r[8];
	int i, winners = 0;
	void *data;
	size_t len;

	for (i = 0; i < 8; i++) {
		r[i].be = be;
		r[i].index = i;
		assert_int_equal(pthread_create(&t[i], NULL, race_put, &r[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		if (r[i].result == 0)
			winners++;
		else
			assert_int_equal(r[i].result, OB_EEXISTS);
	}
	assert_int_equal(winners, 1);
	assert_ok(be->get(&data, &len, be, "contested", 0, 0));
	assert_true(len >= 8 && memcmp(data, "writer ", 7) == 0);
	free(data);
}

int ob_conformance_run(const char *group, ob_conformance_factory *f)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_then_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_is_create_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_large_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_by_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_callback_can_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stat_created, setup, teardown),
	};
	factory = f;
	return _cmocka_run_group_tests(group, tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
}

/* ---- the local-directory back end (left out where another back end's test links the suite) ---- */
#ifndef OB_CONFORMANCE_SUITE_ONLY

static char *local_root;

static ob_backend *local_make(void *payload)
{
	ob_backend *be = NULL;

	(void)payload;
	local_root = ob_test_tempdir("conformance");
	if (ob_backend_local_new(&be, local_root) < 0)
		return NULL;
	return be;
}

static void local_destroy(void *payload)
{
	(void)payload;
	ob_test_rmtree(local_root);
	free(local_root);
	local_root = NULL;
}

int main(void)
{
	ob_conformance_factory local = { local_make, local_destroy, NULL };
	ob_backend *be;

	ob_init();
	/* The local back end's own promise: no temporary files are listed or left behind. */
	assert_int_equal(ob_backend_local_new(&be, "/nonexistent/obagent"), OB_ENOTFOUND);
	return ob_conformance_run("local", &local);
}
#endif
