/*
 * Backups end to end through the public API (a real worker process, a real
 * vault): every byte and metadata field of a tricky tree comes back; an
 * unchanged tree is not read again; an unreadable file gives a warning; a file
 * that changes while it is read comes back as it was read; the holes of a
 * sparse file are not read.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "catalog/statement.h"
#include "backup/backup.h"
#include "agent/agent_internal.h"
#include "agent/repo_open.h"
#include "catalog/catalog.h"
#include "agent/locate.h"
#include "restore/restore.h"
#include "vault/snapshot.h"
#include "vault/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mount.h>
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
	{
		char *vol = ob_test_path(dir, "vol");
		umount2(vol, MNT_DETACH);   /* test_unmounted_volume_is_reported, when it failed half-way */
		free(vol);
		vol = ob_test_path(src, "inner");
		umount2(vol, MNT_DETACH);   /* test_nested_mount_not_followed, likewise */
		free(vol);
	}
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
	o.item = ob_test_rel(src);
	o.destination = out;
	assert_ob(0, ob_restore(&failed, agent, &o));
	assert_null(failed);
	restored = ob_test_path(out, ob_test_rel(src));
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

/* A backup of one folder, in this process; returns its point (free it). *pg receives its counters. */
static char *backup_folder_here_counted(const char *folder, ob_backup_progress *pg)
{
	ob_repo repo;
	ob_backup_source source = { 0 };
	ob_filespec_input spec = { folder, 0, 1 };
	ob_backup_params prm;
	ob_policy *policy;
	char *point = NULL;

	assert_ok(ob_policy_get(&policy, agent));
	assert_ok(ob_agent_repo_open(&repo, agent, NULL));
	memset(pg, 0, sizeof(*pg));
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
	prm.progress = pg;
	assert_ok(ob_backup_run(&point, &prm));
	ob_repo_dispose(&repo);
	ob_policy_free(policy);
	return point;
}

/* The same, for a backup that must read every file. */
static char *backup_folder_here(const char *folder)
{
	ob_backup_progress pg;
	char *point = backup_folder_here_counted(folder, &pg);

	assert_int_equal(atomic_load(&pg.files_failed), 0);
	return point;
}

static void test_unchanged_tree_is_not_read_again(void **state)
{
	ob_job_info *j1, *j2;
	uint64_t before, after;
	ob_backup_progress pg;
	char *point;

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
	point = backup_folder_here_counted(src, &pg);
	assert_int_equal(atomic_load(&pg.files_cached), 11);  /* every regular file of build_tree */
	free(point);
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


/* ---- what the policy names, and what a backup does when it is not there ---- */

/* Commit a policy; *out_ds receives the data source id and volume of its first data source. */
static void commit(const ob_filespec_input *specs, size_t n, int64_t *out_ds, char **out_volume)
{
	ob_policy *p = NULL;

	assert_ok(ob_policy_commit(&p, agent, specs, n));
	if (out_ds)
		*out_ds = ob_policy_datasource_id(p, 0);
	if (out_volume)
		*out_volume = strdup(ob_policy_datasource_name(p, 0));
	ob_policy_free(p);
}

/* The setup's policy again, for the tests that follow. */
static void commit_setup_policy(void)
{
	ob_filespec_input spec = { src, 0, 1 };

	commit(&spec, 1, NULL, NULL);
}

/* Restore folder (absolute) of point into a new folder tag; returns the restored copy's path (free). */
static char *restore_folder(const char *point, int64_t ds, const char *volume, const char *folder, const char *tag)
{
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	char *out = ob_test_path(dir, tag), *failed = NULL, *copy;
	const char *item = folder + strlen(volume);

	while (*item == '/')
		item++;
	o.point_id = point;
	o.datasource_id = ds;
	o.item = item;
	o.destination = out;
	assert_ob(0, ob_restore(&failed, agent, &o));
	assert_null(failed);
	copy = ob_test_path(out, item);
	free(out);
	return copy;
}

static int present(const char *folder, const char *rel)
{
	char *p = ob_test_path(folder, rel);
	struct stat st;
	int yes = lstat(p, &st) == 0;

	free(p);
	return yes;
}

static void write_in(const char *folder, const char *rel, const char *text)
{
	char *p = ob_test_path(folder, rel);

	ob_test_write(p, text, strlen(text));
	free(p);
}

static void mkdir_in(const char *folder, const char *rel)
{
	char *p = ob_test_path(folder, rel);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void test_wildcard_inclusion_backs_up_matching_files(void **state)
{
	char *wild = ob_test_path(dir, "wild"), *pattern, *skip, *volume = NULL, *copy;
	ob_filespec_input specs[2];
	ob_job_info *j;
	int64_t ds;

	(void)state;
	assert_int_equal(mkdir(wild, 0755), 0);
	write_in(wild, "a.log", "a");
	write_in(wild, "b.txt", "b");
	mkdir_in(wild, "sub");
	write_in(wild, "sub/c.log", "c");
	write_in(wild, "sub/d.txt", "d");
	mkdir_in(wild, "sub/deeper");
	write_in(wild, "sub/deeper/e.log", "e");
	mkdir_in(wild, "skip");
	write_in(wild, "skip/f.log", "f");
	mkdir_in(wild, "x.log");            /* a folder whose name matches: the pattern names files */
	write_in(wild, "x.log/g.txt", "g");
	write_in(wild, "x.log/h.log", "h");
	pattern = ob_test_path(wild, "*.log");
	skip = ob_test_path(wild, "skip");

	/* Recursive (the default): the matching files of the folder and of every subfolder, less the exclusion. */
	specs[0].spec = pattern;
	specs[0].is_exclude = 0;
	specs[0].is_recursive = 1;
	specs[1].spec = skip;
	specs[1].is_exclude = 1;
	specs[1].is_recursive = 1;
	commit(specs, 2, &ds, &volume);
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_int_equal(j->files_scanned, 4);
	copy = restore_folder(j->recovery_point, ds, volume, wild, "wild-recursive");
	assert_true(present(copy, "a.log"));
	assert_true(present(copy, "sub/c.log"));
	assert_true(present(copy, "sub/deeper/e.log"));
	assert_true(present(copy, "x.log/h.log"));
	assert_false(present(copy, "b.txt"));
	assert_false(present(copy, "sub/d.txt"));
	assert_false(present(copy, "skip"));
	assert_false(present(copy, "x.log/g.txt"));
	free(copy);
	ob_job_info_free(j);

	/* -NonRecursive: the folder's own matching files only. */
	specs[0].is_recursive = 0;
	commit(specs, 1, &ds, NULL);
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_int_equal(j->files_scanned, 1);
	copy = restore_folder(j->recovery_point, ds, volume, wild, "wild-flat");
	assert_true(present(copy, "a.log"));
	assert_false(present(copy, "b.txt"));
	assert_false(present(copy, "sub"));
	assert_false(present(copy, "x.log"));
	free(copy);
	ob_job_info_free(j);

	/* MARS's own form, *.*: every file (as on Windows: with or without an extension, a leading dot too). */
	free(pattern);
	pattern = ob_test_path(wild, "*.*");
	write_in(wild, "README", "r");
	write_in(wild, ".hidden", "i");
	specs[0].spec = pattern;
	specs[0].is_recursive = 0;
	commit(specs, 1, &ds, NULL);
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_int_equal(j->files_scanned, 4);
	copy = restore_folder(j->recovery_point, ds, volume, wild, "wild-star-dot-star");
	assert_true(present(copy, "a.log"));
	assert_true(present(copy, "b.txt"));
	assert_true(present(copy, "README"));
	assert_true(present(copy, ".hidden"));
	assert_false(present(copy, "sub"));
	free(copy);
	ob_job_info_free(j);

	commit_setup_policy();
	free(volume);
	free(pattern);
	free(skip);
	free(wild);
}

static int point_count(void)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0;

	assert_ok(ob_recovery_points(&pts, &n, agent));
	ob_recovery_points_free(pts, n);
	return (int)n;
}

static char *failed_items(const ob_job_info *j)
{
	char *failed = NULL;

	assert_ok(ob_job_failed_files(&failed, agent, j->job_id));
	assert_non_null(failed);
	return failed;
}

static void test_missing_folder_warns_and_none_left_fails(void **state)
{
	char *kept = ob_test_path(dir, "kept"), *gone = ob_test_path(dir, "gone"), *volume = NULL, *copy, *failed;
	ob_filespec_input specs[2];
	ob_job_info *j;
	int64_t ds;
	int points;

	(void)state;
	assert_int_equal(mkdir(kept, 0755), 0);
	assert_int_equal(mkdir(gone, 0755), 0);
	write_in(kept, "k", "kept");
	write_in(gone, "g", "gone");
	specs[0].spec = kept;
	specs[1].spec = gone;
	specs[0].is_exclude = specs[1].is_exclude = 0;
	specs[0].is_recursive = specs[1].is_recursive = 1;
	commit(specs, 2, &ds, &volume);
	ob_test_rmtree(gone);

	/* One of two is gone: the job says so, names it, and the point holds the other one. */
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED_WITH_WARNING);
	assert_int_equal(j->files_failed, 1);
	failed = failed_items(j);
	assert_non_null(strstr(failed, gone));
	assert_non_null(strstr(failed, "does not exist"));
	assert_null(strstr(failed, kept));
	ob_str_free(failed);
	copy = restore_folder(j->recovery_point, ds, volume, kept, "kept-restored");
	assert_true(present(copy, "k"));
	free(copy);
	ob_job_info_free(j);

	/* None is left: the job fails, names them, and makes no point. */
	ob_test_rmtree(kept);
	points = point_count();
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_FAILED);
	assert_int_equal(j->error_code, OB_ENOTFOUND);
	assert_non_null(j->error_message);
	assert_non_null(strstr(j->error_message, "Nothing was backed up"));
	assert_non_null(strstr(j->error_message, kept));
	assert_null(j->recovery_point);
	failed = failed_items(j);
	assert_non_null(strstr(failed, kept));
	assert_non_null(strstr(failed, gone));
	ob_str_free(failed);
	assert_int_equal(point_count(), points);
	ob_job_info_free(j);

	commit_setup_policy();
	free(volume);
	free(kept);
	free(gone);
}

static void test_unmounted_volume_is_reported(void **state)
{
	char *vol = ob_test_path(dir, "vol"), *data = ob_test_path(vol, "data"), *failed;
	ob_filespec_input specs[2];
	ob_job_info *j;

	(void)state;
	assert_int_equal(mkdir(vol, 0755), 0);
	if (mount("obagent-test", vol, "tmpfs", 0, "size=1m") != 0) {
		free(data);
		free(vol);
		skip();   /* no right to mount here */
	}
	assert_int_equal(mkdir(data, 0755), 0);
	write_in(data, "on-the-volume", "v");
	specs[0].spec = src;
	specs[1].spec = data;
	specs[0].is_exclude = specs[1].is_exclude = 0;
	specs[0].is_recursive = specs[1].is_recursive = 1;
	commit(specs, 2, NULL, NULL);
	assert_int_equal(umount(vol), 0);
	/* What is left in the bare mount point is not the volume's data. */
	assert_int_equal(mkdir(data, 0755), 0);
	write_in(data, "stale", "s");

	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED_WITH_WARNING);
	failed = failed_items(j);
	assert_non_null(strstr(failed, data));
	assert_non_null(strstr(failed, "not mounted"));
	ob_str_free(failed);
	ob_job_info_free(j);

	commit_setup_policy();
	free(data);
	free(vol);
}

/*
 * A file system mounted inside a protected folder is another volume's: not followed, and no
 * warning (as MARS). (Mounted in place of an inclusion or a folder on the way to one: the
 * policy's check names it, test_unmounted_volume_is_reported and test_policy.)
 */
static void test_nested_mount_not_followed(void **state)
{
	char *inner = ob_test_path(src, "inner"), *failed;
	ob_filespec_input spec;
	ob_job_info *j;

	(void)state;
	assert_int_equal(mkdir(inner, 0755), 0);
	if (mount("obagent-test", inner, "tmpfs", 0, "size=1m") != 0) {
		rmdir(inner);
		free(inner);
		skip();   /* no right to mount here */
	}
	write_in(inner, "elsewhere", "e");
	spec.spec = src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	commit(&spec, 1, NULL, NULL);
	j = backup_now();
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	failed = failed_items(j);
	assert_true(!failed || !strstr(failed, "inner"));
	ob_str_free(failed);
	ob_job_info_free(j);

	assert_int_equal(umount(inner), 0);
	assert_int_equal(rmdir(inner), 0);
	commit_setup_policy();
	free(inner);
}

/* ---- files that change while they are read ---- */

#define CHANGING_SIZE (20u << 20)

static uint8_t pattern_at(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static void write_pattern(int fd, uint64_t off, size_t len)
{
	uint8_t buf[65536];
	size_t done = 0, i, n;

	while (done < len) {
		n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = pattern_at(off + done + i);
		if (pwrite(fd, buf, n, (off_t)(off + done)) != (ssize_t)n)
			_exit(20);
		done += n;
	}
}

/*
 * A child that waits until someone opens path (the backup), then keeps it
 * changing until killed: growing by 64 KiB steps up to 64 MiB, or shrinking by
 * 128 KiB steps down to 1 MiB. Returns once the child watches the file.
 */
static pid_t start_writer(const char *path, int grow)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char ev[4096];
		int in = inotify_init1(IN_CLOEXEC), fd = open(path, O_WRONLY | O_CLOEXEC);
		if (in < 0 || fd < 0 || inotify_add_watch(in, path, IN_OPEN) < 0)
			_exit(21);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(22);
		if (read(in, ev, sizeof(ev)) <= 0)
			_exit(23);
		for (;;) {
			struct stat st;
			if (fstat(fd, &st) != 0)
				_exit(24);
			if (grow && st.st_size < (64 << 20))
				write_pattern(fd, (uint64_t)st.st_size, 65536);
			else if (!grow && st.st_size > (1 << 20) && ftruncate(fd, st.st_size - (128 << 10)) != 0)
				_exit(25);
			usleep(200);
		}
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void stop_writer(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));  /* it ran until killed: no write of it failed */
}

/* The restored file is the pattern's first `size` bytes. */
static void assert_pattern_prefix(const char *path, uint64_t size)
{
	size_t len, i;
	uint8_t *data = (uint8_t *)ob_test_read(path, &len);

	assert_int_equal(len, size);
	for (i = 0; i < len; i++)
		if (data[i] != pattern_at(i))
			fail_msg("%s differs from what was read at byte %zu", path, i);
	free(data);
}

/*
 * A log that grows and a file that shrinks while the backup reads them: the
 * job warns, and the point holds a copy that tests healthy and restores, the
 * size the entry records being the bytes its chunks hold (for the growing one
 * its size at open, for the shrinking one what was left to read).
 */
static void test_file_changing_while_read_restores_what_was_read(void **state)
{
	char *changing = ob_test_path(src, "changing"), *grow = ob_test_path(changing, "grow.log"),
		*shrink = ob_test_path(changing, "shrink.bin"), item[4096];
	int trial, warned_grow = 0, warned_shrink = 0;

	(void)state;
	snprintf(item, sizeof(item), "%s/changing", ob_test_rel(src));
	assert_int_equal(mkdir(changing, 0755), 0);
	for (trial = 0; trial < 10 && !(warned_grow && warned_shrink); trial++) {
		ob_job_info *j;
		ob_recovery *rec = NULL;
		ob_recoverable_item **items = NULL;
		ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
		char *report = NULL, *failed = NULL, tag[32], *out, *restored, *p;
		uint64_t objects = 0, grow_size = 0, shrink_size = 0;
		size_t n = 0, i;
		int64_t ds;
		pid_t wg, ws;
		int fd;

		unlink(grow);
		unlink(shrink);
		fd = open(grow, O_WRONLY | O_CREAT | O_EXCL, 0644);
		write_pattern(fd, 0, CHANGING_SIZE);
		close(fd);
		fd = open(shrink, O_WRONLY | O_CREAT | O_EXCL, 0644);
		write_pattern(fd, 0, CHANGING_SIZE);
		close(fd);
		wg = start_writer(grow, 1);
		ws = start_writer(shrink, 0);
		j = backup_now();
		stop_writer(wg);
		stop_writer(ws);
		assert_true(j->state == OB_JOB_COMPLETED || j->state == OB_JOB_COMPLETED_WITH_WARNING);
		assert_ok(ob_job_failed_files(&failed, agent, j->job_id));
		for (p = failed; p && (p = strstr(p, "changed while being read")) != NULL; p++) {
			const char *line = p;
			while (line > failed && line[-1] != '\n')
				line--;
			if (!strncmp(line, grow, strlen(grow)))
				warned_grow = 1;
			if (!strncmp(line, shrink, strlen(shrink)))
				warned_shrink = 1;
		}
		ob_str_free(failed);
		failed = NULL;

		/* The point tests healthy and records the sizes of what was read. */
		assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
		assert_ok(ob_recovery_test(&report, &objects, rec, j->recovery_point));
		assert_string_equal(report, "");
		ob_str_free(report);
		{
			ob_recovery_point **pts = NULL;
			size_t np = 0;
			assert_ok(ob_recovery_points(&pts, &np, agent));
			assert_true(np >= 1);
			ds = strtoll(pts[0]->datasource_ids, NULL, 10);
			ob_recovery_points_free(pts, np);
		}
		assert_ok(ob_recovery_browse(&items, &n, rec, j->recovery_point, ds, item));
		for (i = 0; i < n; i++) {
			if (!strcmp(items[i]->name, "grow.log"))
				grow_size = items[i]->size;
			if (!strcmp(items[i]->name, "shrink.bin"))
				shrink_size = items[i]->size;
		}
		ob_recoverable_items_free(items, n);
		ob_recovery_free(rec);
		assert_true(grow_size >= CHANGING_SIZE);   /* its size when the backup opened it */
		assert_true(shrink_size <= CHANGING_SIZE);

		/* Both restore, each the size recorded and a prefix of the file's content. */
		snprintf(tag, sizeof(tag), "out-changing-%d", trial);
		out = ob_test_path(dir, tag);
		o.point_id = j->recovery_point;
		o.datasource_id = ds;
		o.item = item;
		o.destination = out;
		assert_ob(0, ob_restore(&failed, agent, &o));
		assert_null(failed);
		restored = ob_test_path(out, item);
		p = ob_test_path(restored, "grow.log");
		assert_pattern_prefix(p, grow_size);
		free(p);
		p = ob_test_path(restored, "shrink.bin");
		assert_pattern_prefix(p, shrink_size);
		free(p);
		ob_test_rmtree(out);
		free(restored);
		free(out);
		ob_job_info_free(j);
	}
	/* The writers did change both files while they were read, in some run. */
	assert_true(warned_grow);
	assert_true(warned_shrink);
	ob_test_rmtree(changing);
	free(grow);
	free(shrink);
	free(changing);
}

/* ---- sparse files ---- */

/* Bytes this process has read through read(2) and pread(2), disk or page cache. */
static uint64_t bytes_read_by_me(void)
{
	char buf[1024], *at;
	size_t len;
	FILE *f = fopen("/proc/self/io", "r");

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	at = strstr(buf, "rchar: ");
	assert_non_null(at);
	return strtoull(at + 7, NULL, 10);
}

typedef struct find_ctx {
	const char *name;
	size_t name_len;
	ob_entry found;
	uint8_t *chunks;         /* a copy: the entry points into its tree blob */
	int hit;
} find_ctx;

static int find_cb(const ob_entry *e, void *payload)
{
	find_ctx *c = payload;

	if (e->name_len != c->name_len || memcmp(e->name, c->name, c->name_len))
		return 0;
	c->found = *e;
	c->hit = 1;
	if (e->type == OB_TREE_FILE) {
		c->chunks = malloc(e->chunk_count * 32 + 1);
		memcpy(c->chunks, e->chunks, e->chunk_count * 32);
	} else if (e->type == OB_TREE_DIR) {
		c->chunks = malloc(32);
		memcpy(c->chunks, e->subtree, 32);
	}
	return 1;
}

/* The chunk ids of the file at path (from the data source's root) in a point: *count of them (free the result). */
static uint8_t *file_chunks(size_t *count, const char *point, const char *path)
{
	ob_repo repo;
	ob_locator loc;
	ob_kv kv;
	uint8_t id[32], *tree = NULL;
	size_t len;
	const char *at = path;

	assert_ok(ob_agent_repo_open(&repo, agent, NULL));
	assert_ok(ob_locator_catalog(&loc, agent, &repo));
	assert_ok(ob_snapshot_read(&kv, &repo, point));
	assert_ok(ob_snapshot_root(id, NULL, &kv, 0));
	ob_kv_dispose(&kv);
	for (;;) {
		const char *slash = strchr(at, '/');
		find_ctx c;
		memset(&c, 0, sizeof(c));
		c.name = at;
		c.name_len = slash ? (size_t)(slash - at) : strlen(at);
		assert_ok(ob_fetch_blob(&tree, &len, &loc, OB_BLOB_TREE, id));
		assert_true(ob_tree_parse(tree, len, find_cb, &c) >= 0);
		free(tree);
		assert_true(c.hit);
		if (!slash) {
			assert_int_equal(c.found.type, OB_TREE_FILE);
			*count = c.found.chunk_count;
			ob_locator_dispose(&loc);
			ob_repo_dispose(&repo);
			return c.chunks;
		}
		assert_int_equal(c.found.type, OB_TREE_DIR);
		memcpy(id, c.chunks, 32);
		free(c.chunks);
		at = slash + 1;
	}
}

/* Two files hold the same bytes: compared over every data extent of either (holes read as zeros). */
static void assert_same_bytes(const char *pa, const char *pb)
{
	int fa = open(pa, O_RDONLY), fb = open(pb, O_RDONLY), k;
	struct stat sa, sb;
	uint8_t *ba = malloc(1u << 20), *bb = malloc(1u << 20);

	assert_true(fa >= 0 && fb >= 0);
	assert_int_equal(fstat(fa, &sa), 0);
	assert_int_equal(fstat(fb, &sb), 0);
	assert_int_equal(sa.st_size, sb.st_size);
	for (k = 0; k < 2; k++) {
		int fd = k ? fb : fa;
		off_t pos = 0, d, h;
		while ((d = lseek(fd, pos, SEEK_DATA)) >= 0) {
			h = lseek(fd, d, SEEK_HOLE);
			assert_true(h > d);
			for (pos = d; pos < h;) {
				size_t n = (size_t)(h - pos) < (1u << 20) ? (size_t)(h - pos) : (1u << 20);
				assert_int_equal(pread(fa, ba, n, pos), (ssize_t)n);
				assert_int_equal(pread(fb, bb, n, pos), (ssize_t)n);
				if (memcmp(ba, bb, n))
					fail_msg("%s and %s differ near byte %lld", pa, pb, (long long)pos);
				pos += (off_t)n;
			}
		}
	}
	close(fa);
	close(fb);
	free(ba);
	free(bb);
}

/* Write len random bytes at off. */
static void island(int fd, uint64_t off, size_t len)
{
	uint8_t *data = malloc(len);

	assert_ok(ob_random(data, len));
	assert_int_equal(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
	free(data);
}

/*
 * A 10 GiB sparse file with three islands of data is backed up without reading
 * its holes (the process reads about its data, not 10 GiB) and restores
 * byte for byte; a sparse file and a dense copy of it give the same chunk ids.
 */
static void test_sparse_file_holes_are_not_read(void **state)
{
	char *folder = ob_test_path(src, "sparse10g"), *huge = ob_test_path(folder, "huge.img"),
		*twins = ob_test_path(src, "twins"), *ts = ob_test_path(twins, "sparse.img"), *td = ob_test_path(twins, "dense.img"),
		*point, *failed = NULL, *out = ob_test_path(dir, "out-sparse"), *restored, item[4096], rel[4096];
	const uint64_t huge_size = 10ull << 30, twin_size = 48u << 20;
	uint8_t *ids_s, *ids_d, *zeros;
	size_t ns, nd;
	uint64_t before, read_bytes;
	struct stat st;
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	int fd;

	(void)state;
	assert_int_equal(mkdir(folder, 0755), 0);
	fd = open(huge, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)huge_size), 0);
	island(fd, 0, 1u << 20);
	island(fd, (5ull << 30) + 12345, 300000);
	island(fd, huge_size - 101000, 100000);
	close(fd);
	assert_int_equal(stat(huge, &st), 0);
	if ((uint64_t)st.st_blocks * 512 > (64u << 20)) {
		ob_test_rmtree(folder);
		skip();   /* this file system does not keep holes */
	}

	/* The holes are not read: the process reads its 1.4 MB of data and some catalog pages. */
	before = bytes_read_by_me();
	point = backup_folder_here(folder);
	read_bytes = bytes_read_by_me() - before;
	if (read_bytes > (64u << 20))
		fail_msg("the backup read %llu bytes of a 10 GiB file holding 1.4 MB of data", (unsigned long long)read_bytes);
	snprintf(item, sizeof(item), "%s", folder + 1);
	o.point_id = point;
	o.datasource_id = 0;
	o.item = item;
	o.destination = out;
	assert_ob(0, ob_restore(&failed, agent, &o));
	assert_null(failed);
	restored = ob_test_path(out, ob_test_rel(src));
	{
		char *p = ob_test_path(restored, "sparse10g/huge.img");
		assert_same_bytes(huge, p);
		free(p);
	}
	ob_test_rmtree(out);
	ob_test_rmtree(folder);
	free(restored);
	free(point);

	/* A sparse file (a hole first, last and between) and a dense copy: the same chunks. */
	assert_int_equal(mkdir(twins, 0755), 0);
	fd = open(ts, O_RDWR | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)twin_size), 0);
	island(fd, (3u << 20) + 5, 100000);
	island(fd, (13u << 20) + 777, 200000);
	island(fd, 47u << 20, 300000);
	zeros = malloc(twin_size);
	assert_int_equal(pread(fd, zeros, twin_size, 0), (ssize_t)twin_size);
	close(fd);
	ob_test_write(td, zeros, twin_size);
	free(zeros);
	point = backup_folder_here(twins);
	snprintf(rel, sizeof(rel), "%s/sparse.img", twins + 1);
	ids_s = file_chunks(&ns, point, rel);
	snprintf(rel, sizeof(rel), "%s/dense.img", twins + 1);
	ids_d = file_chunks(&nd, point, rel);
	assert_true(ns >= 8);   /* several chunks of the hole's zeros */
	assert_int_equal(ns, nd);
	assert_memory_equal(ids_s, ids_d, ns * 32);
	free(ids_s);
	free(ids_d);
	free(point);
	ob_test_rmtree(twins);
	free(folder);
	free(huge);
	free(twins);
	free(ts);
	free(td);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_byte_and_field),
		cmocka_unit_test(test_unchanged_tree_is_not_read_again),
		cmocka_unit_test(test_changed_file_is_backed_up),
		cmocka_unit_test(test_rows_staged_by_an_unfinished_run_are_not_trusted),
		cmocka_unit_test(test_unreadable_file_gives_a_warning),
		cmocka_unit_test(test_index_objects_written_during_the_run_name_every_blob),
		cmocka_unit_test(test_wildcard_inclusion_backs_up_matching_files),
		cmocka_unit_test(test_missing_folder_warns_and_none_left_fails),
		cmocka_unit_test(test_unmounted_volume_is_reported),
		cmocka_unit_test(test_nested_mount_not_followed),
		cmocka_unit_test(test_file_changing_while_read_restores_what_was_read),
		cmocka_unit_test(test_sparse_file_holes_are_not_read),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
