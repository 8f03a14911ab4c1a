/*
 * The mount's file system (restore/mount.c) without FUSE: its answers called directly, with both
 * caches bounded to one byte, so that every lookup and every chunk evicts what came before. Files
 * of several chunks, read in interleaved pieces from two open handles and at scattered offsets,
 * must give the source's bytes exactly; folders listed again after eviction give the same names.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "restore/mount.h"

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

static ob_test_server srv;

static void put_random(const char *rel, size_t len, unsigned int seed)
{
	char *p = ob_test_path(srv.src, rel);
	uint8_t *b = malloc(len);
	size_t i;

	assert_non_null(b);
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(rand_r(&seed) >> 7);
	ob_test_write(p, b, len);
	free(b);
	free(p);
}

/* The path of a source file as the mount shows it: below the data source's root. */
static char *mount_path(const char *rel)
{
	char *full = ob_test_path(srv.src, rel), *out;
	const char *in_ds = ob_test_rel(full);

	assert_true(asprintf(&out, "/%s", in_ds) > 0);
	free(full);
	return out;
}

typedef struct names {
	char list[16][64];
	int n;
} names;

static int fill(void *payload, const char *name, const ob_mount_attr *attr)
{
	names *ns = payload;

	(void)attr;
	if (ns->n < 16)
		snprintf(ns->list[ns->n++], sizeof(ns->list[0]), "%s", name);
	return 0;
}

static int has(const names *ns, const char *name)
{
	for (int i = 0; i < ns->n; i++)
		if (!strcmp(ns->list[i], name))
			return 1;
	return 0;
}

static void read_all_interleaved(ob_mount_fs *fs, const char *const *rels, int nfiles)
{
	void *h[2] = { NULL, NULL };
	uint8_t *want[2];
	size_t want_len[2], done[2] = { 0, 0 };
	char buf[70000];

	assert_int_equal(nfiles, 2);
	for (int i = 0; i < 2; i++) {
		char *mp = mount_path(rels[i]), *sp = ob_test_path(srv.src, rels[i]);
		ob_mount_attr a;
		assert_int_equal(ob_mount_fs_ops.getattr(fs, mp, &a), 0);
		want[i] = (uint8_t *)ob_test_read(sp, &want_len[i]);
		assert_int_equal(a.size, want_len[i]);
		assert_int_equal(ob_mount_fs_ops.open(fs, mp, &h[i]), 0);
		free(mp);
		free(sp);
	}
	/* Pieces of each in turn: each read needs chunks the other's evicted. */
	while (done[0] < want_len[0] || done[1] < want_len[1])
		for (int i = 0; i < 2; i++) {
			int64_t got = ob_mount_fs_ops.read(fs, h[i], buf, sizeof(buf), done[i]);
			assert_true(got >= 0);
			if (done[i] >= want_len[i]) {
				assert_int_equal(got, 0);
				continue;
			}
			assert_true(got > 0);
			assert_memory_equal(buf, want[i] + done[i], (size_t)got);
			done[i] += (size_t)got;
		}
	/* Scattered offsets, backwards, across chunk boundaries. */
	for (size_t off = want_len[0] - 1000; off > 5000; off = off * 7 / 10) {
		int64_t got = ob_mount_fs_ops.read(fs, h[0], buf, 3000, off);
		assert_true(got > 0);
		assert_memory_equal(buf, want[0] + off, (size_t)got);
	}
	for (int i = 0; i < 2; i++) {
		ob_mount_fs_ops.release(fs, h[i]);
		free(want[i]);
	}
}

static void test_tiny_caches(void **state)
{
	ob_recovery *rec = NULL;
	ob_mount_fs *fs = NULL;
	ob_mount_config cfg;
	char *point = NULL, *mp;
	int64_t ds = 0;
	const char *files[] = { "big/a.bin", "big/b.bin" };

	(void)state;
	ob_test_newest_point(srv.agent, &point, &ds);
	assert_int_equal(ob_recovery_open(&rec, srv.agent, NULL, NULL, 0), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.repo = ob_recovery_repo(rec);
	cfg.locator = ob_recovery_locator(rec);
	cfg.point_id = point;
	cfg.datasource_id = ds;
	cfg.chunk_cache_bytes = 1;
	cfg.tree_cache_bytes = 1;
	assert_int_equal(ob_mount_fs_open(&fs, &cfg), 0);

	for (int round = 0; round < 2; round++) {
		names ns = { .n = 0 };
		char *deep = mount_path("tree/one/two");
		assert_int_equal(ob_mount_fs_ops.readdir(fs, deep, fill, &ns), 0);
		assert_true(has(&ns, "leaf.txt") && has(&ns, "three"));
		free(deep);
		read_all_interleaved(fs, files, 2);
	}
	mp = mount_path("tree/one/two/three/last.txt");
	{
		void *h = NULL;
		char buf[64];
		assert_int_equal(ob_mount_fs_ops.open(fs, mp, &h), 0);
		assert_int_equal(ob_mount_fs_ops.read(fs, h, buf, sizeof(buf), 0), 5);
		assert_memory_equal(buf, "last\n", 5);
		ob_mount_fs_ops.release(fs, h);
	}
	free(mp);
	ob_mount_fs_free(fs);
	ob_recovery_free(rec);
	free(point);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiny_caches),
	};
	char *p;
	ob_job_info *j;
	int rc;

	ob_test_server_folders(&srv, "mountfs");
	for (const char *d = "big\0tree\0tree/one\0tree/one/two\0tree/one/two/three\0"; *d; d += strlen(d) + 1) {
		p = ob_test_path(srv.src, d);
		assert_int_equal(mkdir(p, 0755), 0);
		free(p);
	}
	put_random("big/a.bin", 5 * 1024 * 1024 + 4321, 1);
	put_random("big/b.bin", 3 * 1024 * 1024 + 77, 2);
	p = ob_test_path(srv.src, "tree/one/two/leaf.txt");
	ob_test_write(p, "leaf\n", 5);
	free(p);
	p = ob_test_path(srv.src, "tree/one/two/three/last.txt");
	ob_test_write(p, "last\n", 5);
	free(p);
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "mount-fs", "MountFsTest", "mount fs test passphrase");
	j = ob_test_backup(srv.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ob_test_server_dispose(&srv);
	return rc;
}
