/*
 * Backups end to end through the public API (a real worker process, a real
 * vault): every byte and metadata field of a tricky tree comes back; an
 * unchanged tree is not read again; an unreadable file gives a warning.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "backup.h"
#include "agent_internal.h"
#include "catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static char *dir, *src, *vault_path;
static ob_agent *agent;
static const char *PP = "backup test passphrase!";

static void mkfile(const char *rel, const void *data, size_t len)
{
	char *p = ob_test_path(src, rel);
	ob_test_write(p, data, len);
	free(p);
}

static void mkdir_rel(const char *rel)
{
	char *p = ob_test_path(src, rel);
	assert_int_equal(mkdir(p, 0750), 0);
	free(p);
}

static void build_tree(void)
{
	char *p, *q, name[300];
	uint8_t *big = malloc(5u << 20);
	size_t i;
	int fd;

	for (i = 0; i < (5u << 20); i++)
		big[i] = (uint8_t)((i * 2654435761u) >> 13);
	mkfile("empty", "", 0);
	mkfile("small.txt", "hello, world\n", 13);
	mkfile("big.bin", big, 5u << 20);
	mkdir_rel("sub");
	mkdir_rel("sub/deeper");
	mkfile("sub/deeper/text.log", big, 300000);
	/* Names the OS allows: spaces, newlines, UTF-8, a leading dash. */
	mkfile("sub/with space", "a", 1);
	mkfile("sub/new\nline", "b", 1);
	mkfile("sub/\xc3\xa9t\xc3\xa9 \xe2\x9c\x93", "c", 1);
	mkfile("sub/-dash", "d", 1);
	/* A sparse file: 8 MiB with data only at the end. */
	p = ob_test_path(src, "sparse.img");
	fd = open(p, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "tail", 4, 8u << 20), 4);
	close(fd);
	free(p);
	/* Hard links, a symlink, a fifo, xattrs. */
	p = ob_test_path(src, "small.txt");
	q = ob_test_path(src, "sub/hardlink");
	assert_int_equal(link(p, q), 0);
	assert_int_equal(setxattr(p, "user.note", "kept", 4, 0), 0);
	free(q);
	q = ob_test_path(src, "symlink");
	assert_int_equal(symlink("sub/deeper/text.log", q), 0);
	free(q);
	q = ob_test_path(src, "fifo");
	assert_int_equal(mkfifo(q, 0600), 0);
	free(q);
	assert_int_equal(chmod(p, 0604), 0);
	free(p);
	/* A deep path, longer than PATH_MAX in total. */
	p = ob_test_path(src, "deep");
	assert_int_equal(mkdir(p, 0755), 0);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	free(p);
	memset(name, 'n', 200);
	name[200] = '\0';
	for (i = 0; i < 25; i++) {
		int next;
		assert_int_equal(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
	}
	assert_int_equal(write(openat(fd, "bottom", O_WRONLY | O_CREAT, 0600), "deep!", 5), 5);
	close(fd);
	free(big);
}

static int setup(void **state)
{
	ob_vault *v;
	char *cred, *home, *creds;
	ob_filespec_input spec;
	ob_policy *policy;

	(void)state;
	dir = ob_test_tempdir("backup");
	src = ob_test_path(dir, "src");
	vault_path = ob_test_path(dir, "vault");
	home = ob_test_path(dir, "home");
	creds = ob_test_path(dir, "creds");
	assert_int_equal(mkdir(src, 0755), 0);
	build_tree();
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_SERVER_NAME", "backup-test");
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, vault_path, "BackupTest"));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	assert_ok(ob_agent_open(&agent, home));
	assert_ok(ob_agent_register(NULL, agent, cred));
	assert_ok(ob_agent_set_passphrase(agent, (const uint8_t *)PP, strlen(PP), NULL));
	spec.spec = src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, agent, &spec, 1));
	ob_policy_free(policy);
	ob_str_free(cred);
	ob_vault_free(v);
	free(home);
	free(creds);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_agent_free(agent);
	ob_test_rmtree(dir);
	free(dir);
	free(src);
	free(vault_path);
	return 0;
}

/* Run a backup job to its end; returns its final info. */
static ob_job_info *backup_now(void)
{
	ob_job_info *j = NULL;
	char *id;
	int i;

	assert_ok(ob_backup_start(&j, agent, 0));
	id = strdup(j->job_id);
	for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
		ob_job_info_free(j);
		usleep(20000);
		assert_ok(ob_job_get(&j, agent, id));
	}
	free(id);
	if (j->state == OB_JOB_FAILED)
		print_error("job failed: %s\n", j->error_message ? j->error_message : "");
	if (j->state == OB_JOB_COMPLETED_WITH_WARNING) {
		char *failed = NULL;
		ob_job_failed_files(&failed, agent, j->job_id);
		print_error("job warnings: %s\n", failed ? failed : "");
		ob_str_free(failed);
	}
	return j;
}

/* Compare two trees entry by entry: type, mode, owner, size, mtime, bytes, link targets, xattrs. */
static void compare_trees(int a, int b, const char *where);

static void compare_entry(int da, int db, const char *name, const char *where)
{
	struct stat sa, sb;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", where, name);
	assert_int_equal(fstatat(da, name, &sa, AT_SYMLINK_NOFOLLOW), 0);
	if (fstatat(db, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		fail_msg("missing after restore: %s", path);
	assert_int_equal(sa.st_mode, sb.st_mode);
	assert_int_equal(sa.st_uid, sb.st_uid);
	assert_int_equal(sa.st_gid, sb.st_gid);
	if (!S_ISDIR(sa.st_mode))
		assert_int_equal(sa.st_size, sb.st_size);
	if (!S_ISLNK(sa.st_mode)) {
		if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
			fail_msg("mtime differs: %s", path);
	}
	if (S_ISREG(sa.st_mode)) {
		int fa = openat(da, name, O_RDONLY), fb = openat(db, name, O_RDONLY);
		char xa[4096], xb[4096];
		ssize_t la, lb;
		static char ba[1 << 16], bb[1 << 16];
		assert_true(fa >= 0 && fb >= 0);
		for (;;) {
			ssize_t na = read(fa, ba, sizeof(ba)), nb = read(fb, bb, sizeof(bb));
			assert_int_equal(na, nb);
			if (na <= 0)
				break;
			if (memcmp(ba, bb, (size_t)na) != 0)
				fail_msg("content differs: %s", path);
		}
		la = flistxattr(fa, xa, sizeof(xa));
		lb = flistxattr(fb, xb, sizeof(xb));
		assert_int_equal(la, lb);
		if (la > 0)
			assert_memory_equal(xa, xb, (size_t)la);
		if (sa.st_blocks * 512 < sa.st_size)
			assert_true(sb.st_blocks * 512 < sb.st_size);  /* sparse stays sparse */
		close(fa);
		close(fb);
	} else if (S_ISLNK(sa.st_mode)) {
		char ta[4096], tb[4096];
		ssize_t la = readlinkat(da, name, ta, sizeof(ta)), lb = readlinkat(db, name, tb, sizeof(tb));
		assert_int_equal(la, lb);
		assert_memory_equal(ta, tb, (size_t)la);
	} else if (S_ISDIR(sa.st_mode)) {
		int ca = openat(da, name, O_RDONLY | O_DIRECTORY), cb = openat(db, name, O_RDONLY | O_DIRECTORY);
		assert_true(ca >= 0 && cb >= 0);
		compare_trees(ca, cb, path);
		close(ca);
		close(cb);
	}
}

static void compare_trees(int a, int b, const char *where)
{
	DIR *d = fdopendir(dup(a));
	struct dirent *e;
	size_t na = 0, nb = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		compare_entry(a, b, e->d_name, where);
		na++;
	}
	closedir(d);
	d = fdopendir(dup(b));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			nb++;
	closedir(d);
	if (na != nb)
		fail_msg("%s: %zu entries backed up, %zu restored", where, na, nb);
}

static void restore_and_compare(const char *point, const char *tag)
{
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	ob_recovery_point **pts = NULL;
	size_t n = 0;
	char *out = ob_test_path(dir, tag), *failed = NULL, *restored;
	int a, b;

	assert_ok(ob_recovery_points(&pts, &n, agent));
	assert_true(n >= 1);
	o.point_id = point;
	o.datasource_id = strtoll(pts[0]->datasource_ids, NULL, 10);
	o.item = src + 1;
	o.destination = out;
	assert_ob(0, ob_restore(&failed, agent, &o));
	assert_null(failed);
	restored = ob_test_path(out, src + 1);
	a = open(src, O_RDONLY | O_DIRECTORY);
	b = open(restored, O_RDONLY | O_DIRECTORY);
	assert_true(a >= 0 && b >= 0);
	compare_trees(a, b, src);
	close(a);
	close(b);
	{
		struct stat s1, s2;
		char *p1 = ob_test_path(restored, "small.txt"), *p2 = ob_test_path(restored, "sub/hardlink");
		assert_int_equal(stat(p1, &s1), 0);
		assert_int_equal(stat(p2, &s2), 0);
		assert_int_equal(s1.st_ino, s2.st_ino);  /* hard links come back as links */
		free(p1);
		free(p2);
	}
	ob_recovery_points_free(pts, n);
	free(restored);
	free(out);
}

static void test_round_trip_every_byte_and_field(void **state)
{
	ob_job_info *j;

	(void)state;
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_non_null(j->recovery_point);
	assert_true(j->files_done >= 12);
	restore_and_compare(j->recovery_point, "restore1");
	ob_job_info_free(j);
}

static void test_unchanged_tree_is_not_read_again(void **state)
{
	ob_job_info *j1, *j2;
	uint64_t before, after;
	ob_repo repo;
	ob_backup_progress pg;
	ob_backup_source source = { 0 };
	ob_filespec_input spec = { src, 0, 1 };
	ob_backup_params prm;
	ob_policy *policy;
	char *point = NULL;

	(void)state;
	j1 = backup_now();
	assert_int_equal(j1->state, OB_JOB_COMPLETED);
	assert_ok(ob_machine_usage(&before, agent));
	j2 = backup_now();
	assert_int_equal(j2->state, OB_JOB_COMPLETED);
	assert_ok(ob_machine_usage(&after, agent));
	/* Only the new recovery point's small object is added. */
	assert_true(after - before < 4096);
	assert_true(j2->bytes_uploaded < 4096);
	restore_and_compare(j2->recovery_point, "restore2");

	/* In-process, the counters show every file came from the cache: one stat, no read. */
	assert_ok(ob_policy_get(&policy, agent));
	assert_ok(ob_repo_open(&repo, agent, NULL));
	memset(&pg, 0, sizeof(pg));
	source.id = ob_policy_datasource_id(policy, 0);
	source.name = ob_policy_datasource_name(policy, 0);
	source.specs = &spec;
	source.spec_count = 1;
	memset(&prm, 0, sizeof(prm));
	prm.agent = agent;
	prm.repo = &repo;
	prm.sources = &source;
	prm.source_count = 1;
	prm.kind = "FileFolder";
	prm.progress = &pg;
	assert_ok(ob_backup_run(&point, &prm));
	assert_int_equal(atomic_load(&pg.files_cached), 11);  /* every regular file of build_tree */
	free(point);
	ob_repo_dispose(&repo);
	ob_policy_free(policy);
	ob_job_info_free(j1);
	ob_job_info_free(j2);
}

static void test_changed_file_is_backed_up(void **state)
{
	ob_job_info *j;
	char *p = ob_test_path(src, "small.txt");

	(void)state;
	ob_test_write(p, "changed content\n", 16);
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	restore_and_compare(j->recovery_point, "restore3");
	free(p);
	ob_job_info_free(j);
}

/*
 * A run killed before its point leaves file cache rows in the staging table. The
 * next run must not trust them: here a staged row claims small.txt, with its real
 * size, times and inode, and a forged entry naming a chunk that does not exist.
 */
static void test_rows_staged_by_an_unfinished_run_are_not_trusted(void **state)
{
	ob_job_info *j;
	sqlite3 *db = ob_catalog_db(agent->cat);
	sqlite3_stmt *st;
	struct stat sb;
	char *p = ob_test_path(src, "small.txt");
	const uint8_t forged[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int i;

	(void)state;
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO file_cache_stage (datasource_id, dir, name, "
		"size, mtime_ns, ctime_ns, inode, entry) SELECT datasource_id, dir, name, size, mtime_ns, ctime_ns, inode, ?1 "
		"FROM file_cache WHERE name = 'small.txt'", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, forged, sizeof(forged), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_changes(db), 1);
	for (i = 0; i < 2; i++) {
		j = backup_now();
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		restore_and_compare(j->recovery_point, i ? "restore-staged-2" : "restore-staged-1");
		ob_job_info_free(j);
	}
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM file_cache_stage), "
		"(SELECT count(*) FROM file_cache WHERE entry = ?1)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, forged, sizeof(forged), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	assert_int_equal(sqlite3_column_int(st, 1), 0);
	sqlite3_finalize(st);
	free(p);
}

/*
 * A backup of more blobs than one index object's worth written during the run
 * (16,384): with the chunk cache emptied, a restore finds every blob through the
 * index objects in the vault alone, so the ones written mid-run are complete.
 */
static void test_index_objects_written_during_the_run_name_every_blob(void **state)
{
	ob_job_info *j;
	char *many = ob_test_path(src, "many"), name[64], body[64];
	int i, n;

	(void)state;
	assert_int_equal(mkdir(many, 0755), 0);
	for (i = 0; i < 17000; i++) {
		char *p;
		snprintf(name, sizeof(name), "f%05d", i);
		n = snprintf(body, sizeof(body), "small file number %d\n", i);
		p = ob_test_path(many, name);
		ob_test_write(p, body, (size_t)n);
		free(p);
	}
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_ok(ob_catalog_exec(agent->cat, "DELETE FROM chunk"));
	restore_and_compare(j->recovery_point, "restore-indexed");
	ob_job_info_free(j);
	ob_test_rmtree(many);
	free(many);
}

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

static void test_unreadable_file_gives_a_warning(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	if (getuid() != 0)
		skip();
	/* Root reads everything: run a whole agent as 'nobody', with a file only root may read. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *base = ob_test_path(dir, "nobody"), *home, *vault, *creds, *data, *secret, *cred = NULL, *failed = NULL;
		ob_vault *v = NULL;
		ob_agent *a = NULL;
		ob_policy *pol = NULL;
		ob_job_info *j = NULL;
		ob_filespec_input spec;
		int i;
		chmod(dir, 0755);  /* the test's own temporary folder: let 'nobody' in */
		mkdir(base, 0777);
		chmod(base, 0777);
		data = ob_test_path(base, "data");
		mkdir(data, 0777);
		chmod(data, 0777);
		secret = ob_test_path(data, "secret");
		ob_test_write(secret, "root only", 9);
		chmod(secret, 0600);
		{
			char *open_file = ob_test_path(data, "open");
			ob_test_write(open_file, "anyone", 6);
			chmod(open_file, 0644);
			free(open_file);
		}
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		home = ob_test_path(base, "home");
		vault = ob_test_path(base, "vault");
		creds = ob_test_path(base, "creds");
		if (ob_vault_create(&v, vault, "Nobody") < 0 || ob_vault_credentials_issue(&cred, v, creds, 1) < 0 ||
		    ob_agent_open(&a, home) < 0 || ob_agent_register(NULL, a, cred) < 0 ||
		    ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL) < 0)
			_exit(11);
		spec.spec = data;
		spec.is_exclude = 0;
		spec.is_recursive = 1;
		if (ob_policy_commit(&pol, a, &spec, 1) < 0 || ob_backup_start(&j, a, 0) < 0)
			_exit(12);
		for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
			char *id = strdup(j->job_id);
			ob_job_info_free(j);
			usleep(20000);
			if (ob_job_get(&j, a, id) < 0)
				_exit(13);
			free(id);
		}
		if (j->state != OB_JOB_COMPLETED_WITH_WARNING)
			_exit(14);
		if (ob_job_failed_files(&failed, a, j->job_id) < 0 || !strstr(failed, "secret") ||
		    !strstr(failed, "Permission denied") || strstr(failed, "open\t"))
			_exit(15);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_byte_and_field),
		cmocka_unit_test(test_unchanged_tree_is_not_read_again),
		cmocka_unit_test(test_changed_file_is_backed_up),
		cmocka_unit_test(test_rows_staged_by_an_unfinished_run_are_not_trusted),
		cmocka_unit_test(test_second_backup_is_refused_while_one_runs),
		cmocka_unit_test(test_unreadable_file_gives_a_warning),
		cmocka_unit_test(test_index_objects_written_during_the_run_name_every_blob),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
