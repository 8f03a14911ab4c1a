#define _GNU_SOURCE
/*
 * The whole backup pipeline and the restore over the in-memory back end
 * (tests/support/memory_backend.h): ob_backup_run (scan, chunk, dedupe, seal,
 * pack, upload, sync, index objects, the point) and ob_restore_execute of what
 * it stored, in this process, with no vault on disk and no worker. The agent
 * (catalog, chunk and file caches) is a real registered one; only its area is
 * in memory, so these run in well under a second.
 */
#include "testutil.h"
#include "memory_backend.h"
#include "backup/backup.h"
#include "restore/restore.h"
#include "obagent/policy.h"
#include "util/progress.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PP "pipeline passphrase 0123456789"

static ob_test_server s;

static int setup(void **state)
{
	(void)state;
	ob_test_server_folders(&s, "pipeline");
	ob_test_server_register(&s, "home", OBAGENT_WORKER_PATH, "pipeline-test", "PipelineTest", PP);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_test_server_dispose(&s);
	return 0;
}

/* A file of len bytes under src (half random, half text) at rel. */
static void put_file(const char *rel, size_t len)
{
	char *path = ob_test_path(s.src, rel);
	uint8_t *d = malloc(len ? len : 1);
	size_t i;

	assert_non_null(d);
	assert_ok(ob_random(d, len / 2));
	for (i = len / 2; i < len; i++)
		d[i] = (uint8_t)("every good boy deserves fudge\n"[i % 30]);
	ob_test_write(path, d, len);
	free(d);
	free(path);
}

/* Back up src into repo, in this process; *pg receives the counters; the point (free it). */
static char *backup_to(ob_repo *repo, ob_backup_progress *pg, int64_t *out_ds)
{
	ob_backup_source source = { 0 };
	ob_filespec_input spec = { s.src, 0, 1 };
	ob_backup_params prm;
	ob_policy *policy;
	char *point = NULL;

	assert_ok(ob_policy_get(&policy, s.agent));
	memset(pg, 0, sizeof(*pg));
	source.id = ob_policy_datasource_id(policy, 0);
	source.name = ob_policy_datasource_name(policy, 0);
	source.specs = &spec;
	source.spec_count = 1;
	memset(&prm, 0, sizeof(prm));
	prm.agent = s.agent;
	prm.repo = repo;
	prm.sources = &source;
	prm.source_count = 1;
	prm.kind = "FileFolder";
	prm.progress = pg;
	assert_ok(ob_backup_run(&point, &prm));
	assert_non_null(point);
	*out_ds = source.id;
	ob_policy_free(policy);
	return point;
}

/* Restore all of a point from repo (read through its index objects alone) into dest. */
static void restore_from(ob_repo *repo, const char *point, int64_t ds, const char *dest)
{
	ob_locator loc;
	ob_restore_progress pg;
	ob_restore_run run;
	const char *all[] = { "" };

	assert_ok(ob_locator_memory(&loc, repo));
	memset(&pg, 0, sizeof(pg));
	memset(&run, 0, sizeof(run));
	run.repo = repo;
	run.locator = &loc;
	run.point_id = point;
	run.datasource_id = ds;
	run.items = all;
	run.item_count = 1;
	run.destination = dest;
	run.progress = &pg;
	assert_ok(ob_restore_execute(&run));
	ob_locator_dispose(&loc);
}

/* The restored copy of src/rel (under dest, at src's path) has src/rel's bytes. */
static void assert_same_file(const char *dest, const char *rel)
{
	char *orig = ob_test_path(s.src, rel), *copy_dir = ob_test_path(dest, ob_test_rel(s.src)), *copy = ob_test_path(copy_dir, rel);
	size_t la, lb;
	char *a = ob_test_read(orig, &la), *b = ob_test_read(copy, &lb);

	assert_non_null(b);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	free(orig);
	free(copy);
	free(copy_dir);
}

static void test_backup_and_restore_through_memory(void **state)
{
	ob_repo repo;
	ob_backup_progress pg;
	char *point, *dest = ob_test_path(s.dir, "out"), *sub = ob_test_path(s.src, "sub"), *link = ob_test_path(s.src, "link");
	char *copy_link = NULL, target[64];
	int64_t ds = 0;
	ssize_t n;

	(void)state;
	assert_int_equal(mkdir(sub, 0755), 0);
	put_file("small.txt", 100);
	put_file("empty", 0);
	put_file("sub/big.bin", 5u << 20);   /* more than OB_CHUNK_MAX: several chunks */
#ifndef _WIN32   /* a symbolic link needs a privilege on Windows, and Wine's are not Windows' */
	assert_int_equal(symlink("sub/big.bin", link), 0);
#endif
	ob_test_memory_repo(&repo, OB_BACKEND_CAP_RANGE_GET);

	point = backup_to(&repo, &pg, &ds);
	assert_int_equal(atomic_load(&pg.files_failed), 0);
#ifdef _WIN32
	assert_true(atomic_load(&pg.files_done) >= 3);   /* no link (above) */
#else
	assert_true(atomic_load(&pg.files_done) >= 4);
#endif
	/* Packs, index objects and the point are in the back end; nothing was left unstored. */
	{
		char prefix[96];
		snprintf(prefix, sizeof(prefix), "%spacks/", repo.prefix);
		assert_true(ob_test_memory_backend_count(repo.vc.be, prefix) >= 1);
		snprintf(prefix, sizeof(prefix), "%sindex/", repo.prefix);
		assert_true(ob_test_memory_backend_count(repo.vc.be, prefix) >= 1);
		snprintf(prefix, sizeof(prefix), "%ssnapshots/", repo.prefix);
		assert_int_equal(ob_test_memory_backend_count(repo.vc.be, prefix), 1);
	}
	assert_int_equal(atomic_load(&pg.bytes_unstored), 0);

	assert_int_equal(mkdir(dest, 0755), 0);
	restore_from(&repo, point, ds, dest);
	assert_same_file(dest, "small.txt");
	assert_same_file(dest, "empty");
	assert_same_file(dest, "sub/big.bin");
#ifndef _WIN32
	{
		char *copy_dir = ob_test_path(dest, ob_test_rel(s.src));
		copy_link = ob_test_path(copy_dir, "link");
		free(copy_dir);
	}
	n = readlink(copy_link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "sub/big.bin");
#else
	(void)n;
	(void)target;
#endif

	free(copy_link);
	free(point);
	ob_repo_dispose(&repo);
	free(dest);
	free(sub);
	free(link);
}

/* Collect the pack ids under a prefix (names packs/<hh>/<hex id>). */
static int collect_pack(const char *name, uint64_t size, void *payload)
{
	ob_name_list *l = payload;
	const char *slash = strrchr(name, '/');
	char **v;

	(void)size;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		v = realloc(l->v, l->cap * sizeof(*v));
		assert_non_null(v);
		l->v = v;
	}
	l->v[l->n] = strdup(slash ? slash + 1 : name);
	assert_non_null(l->v[l->n]);
	l->n++;
	return 0;
}

static int listed(const ob_name_list *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], id) == 0)
			return 1;
	return 0;
}

/*
 * Nothing changed: the file cache answers for both files and no file data is
 * stored again. New tree blobs are allowed: the point records the folders from
 * the mount point down, and an ancestor such as /tmp changes whenever anything
 * else on the machine creates a file there (other tests running beside this one).
 */
static void test_unchanged_backup_stores_no_pack(void **state)
{
	ob_repo repo;
	ob_backup_progress pg;
	ob_name_list before = { 0 }, after = { 0 };
	char *p1, *p2, prefix[96];
	size_t i, k;
	int64_t ds = 0;

	(void)state;
	put_file("a.bin", 3u << 20);
	put_file("b.txt", 4000);
	ob_test_memory_repo(&repo, OB_BACKEND_CAP_RANGE_GET);
	p1 = backup_to(&repo, &pg, &ds);
	snprintf(prefix, sizeof(prefix), "%spacks/", repo.prefix);
	assert_int_equal(repo.vc.be->list(repo.vc.be, prefix, collect_pack, &before), 0);
	assert_true(before.n >= 1);

	p2 = backup_to(&repo, &pg, &ds);
	assert_string_not_equal(p1, p2);
	assert_int_equal(atomic_load(&pg.files_cached), 2);
	assert_int_equal(repo.vc.be->list(repo.vc.be, prefix, collect_pack, &after), 0);
	for (i = 0; i < after.n; i++) {
		uint8_t id[OB_ID_BYTES];
		ob_pack_entry *e = NULL;
		size_t n = 0;
		if (listed(&before, after.v[i]))
			continue;
		assert_int_equal(ob_id_parse(id, after.v[i]), 0);
		assert_ob(0, ob_pack_read_header(&e, &n, &repo, id));
		for (k = 0; k < n; k++)
			assert_int_equal(e[k].type, OB_BLOB_TREE);
		free(e);
	}
	snprintf(prefix, sizeof(prefix), "%ssnapshots/", repo.prefix);
	assert_int_equal(ob_test_memory_backend_count(repo.vc.be, prefix), 2);

	ob_name_list_dispose(&before);
	ob_name_list_dispose(&after);
	free(p1);
	free(p2);
	ob_repo_dispose(&repo);
}

/* The phases a run entered, as their texts, one per line. */
static void history_text(char *out, size_t size, const ob_backup_progress *pg)
{
	int h[16];
	size_t n = ob_progress_history(pg, h, 16), i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s\n", ob_progress_phase_text[h[i]]);
}

/*
 * A run enters MARS's phases in MARS's order (mars.md 1.4): storage, the
 * change-detection metadata, the transfer, the check of what the point names,
 * done. The snapshot phase belongs to the job, which fixes the sources before
 * the run (native/jobs/jobs.c); "Initializing" is the job's record at its start.
 */
static void test_backup_enters_mars_phases_in_order(void **state)
{
	ob_repo repo;
	ob_backup_progress pg;
	char *point, text[1024];
	int64_t ds = 0;

	(void)state;
	put_file("a.txt", 5000);
	ob_test_memory_repo(&repo, OB_BACKEND_CAP_RANGE_GET);
	point = backup_to(&repo, &pg, &ds);
	history_text(text, sizeof(text), &pg);
	assert_string_equal(text,
		"Preparing storage...\n"
		"Generating backup metadata information and preparing the metadata VHD...\n"
		"Data transfer is in progress...\n"
		"Data transfer completed ... Verifying data integrity...\n"
		"Job completed.\n");
	assert_int_equal(atomic_load(&pg.phase), OB_PHASE_DONE);
	free(point);
	ob_repo_dispose(&repo);
}

/* A run that is stopped never claims the verification or the end. */
static void test_stopped_backup_stops_short_of_verify(void **state)
{
	ob_repo repo;
	ob_backup_progress pg;
	ob_backup_source source = { 0 };
	ob_filespec_input spec = { s.src, 0, 1 };
	ob_backup_params prm;
	ob_policy *policy;
	char *point = NULL, text[1024];

	(void)state;
	put_file("a.txt", 5000);
	ob_test_memory_repo(&repo, OB_BACKEND_CAP_RANGE_GET);
	assert_ok(ob_policy_get(&policy, s.agent));
	memset(&pg, 0, sizeof(pg));
	atomic_store(&pg.cancel, 1);
	source.id = ob_policy_datasource_id(policy, 0);
	source.name = ob_policy_datasource_name(policy, 0);
	source.specs = &spec;
	source.spec_count = 1;
	memset(&prm, 0, sizeof(prm));
	prm.agent = s.agent;
	prm.repo = &repo;
	prm.sources = &source;
	prm.source_count = 1;
	prm.kind = "FileFolder";
	prm.progress = &pg;
	assert_int_equal(ob_backup_run(&point, &prm), OB_ECANCELLED);
	assert_null(point);
	history_text(text, sizeof(text), &pg);
	assert_null(strstr(text, "Verifying"));
	assert_null(strstr(text, "Job completed."));
	assert_non_null(strstr(text, "Preparing storage..."));
	ob_policy_free(policy);
	ob_repo_dispose(&repo);
}

/* The history records each phase once per entry, in order, and ignores what is no phase. */
static void test_progress_history(void **state)
{
	ob_backup_progress pg;
	int h[20];
	size_t n, i;

	(void)state;
	memset(&pg, 0, sizeof(pg));
	assert_int_equal(ob_progress_history(&pg, h, 20), 0);
	ob_progress_enter(&pg, OB_PHASE_INIT);
	ob_progress_enter(&pg, OB_PHASE_SNAPSHOT);
	ob_progress_enter(&pg, OB_PHASE_SNAPSHOT);   /* entered again: once */
	ob_progress_enter(&pg, -1);
	ob_progress_enter(&pg, OB_PHASE_COUNT);
	ob_progress_enter(&pg, OB_PHASE_RECOVER);
	n = ob_progress_history(&pg, h, 20);
	assert_int_equal(n, 3);
	assert_int_equal(h[0], OB_PHASE_INIT);
	assert_int_equal(h[1], OB_PHASE_SNAPSHOT);
	assert_int_equal(h[2], OB_PHASE_RECOVER);
	assert_int_equal(atomic_load(&pg.phase), OB_PHASE_RECOVER);
	for (i = 0; i < 20; i++)
		ob_progress_enter(&pg, (int)(i % 2 ? OB_PHASE_TRANSFER : OB_PHASE_VERIFY));
	assert_int_equal(ob_progress_history(&pg, h, 20), 16);   /* the first 16 are kept */
	assert_int_equal(h[3], OB_PHASE_VERIFY);
	assert_int_equal(h[4], OB_PHASE_TRANSFER);
	assert_int_equal(ob_progress_history(&pg, h, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_and_restore_through_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_backup_stores_no_pack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_enters_mars_phases_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_backup_stops_short_of_verify, setup, teardown),
		cmocka_unit_test(test_progress_history),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
