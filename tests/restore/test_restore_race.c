/*
 * A restore cannot be turned against root: a local user who owns a folder that root backs up
 * fills it with fifos (mode 0666); while root restores that folder over itself (overwrite), a
 * process of that user swaps every fifo it sees, under any name, for a symlink to a root-owned
 * 0600 file, the moment inotify tells it of the name. Afterwards that file is still root's, 0600,
 * with its content: every metadata call of the restore acted on what the restore made, never on
 * what a name held a moment later. Needs root (skipped otherwise). Bounded by work: the attacker
 * acts on the events the restore causes and stops when the restore has ended. And a further name
 * of a hard-linked file is never linked through a path whose folders that user swapped.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIFOS 3000
#define NOBODY 65534
#define SECRET "root's secret, 0600\n"

static ob_test_server srv;

/* Swap the entry name of folder dfd for a link to victim when it is a fifo: 1 when swapped. */
static int swap(int dfd, const char *name, const char *victim, unsigned long n)
{
	struct stat st;
	char tmp[64];

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISFIFO(st.st_mode))
		return 0;
	snprintf(tmp, sizeof(tmp), "x%d-%lu", (int)getpid(), n);
	if (symlinkat(victim, dfd, tmp) == 0 && renameat(dfd, tmp, dfd, name) == 0)
		return 1;
	unlinkat(dfd, tmp, 0);
	return 0;
}

/*
 * The attacker, as the folder's owner: told by inotify of every name made or moved into the
 * folder, under any name (the restore's temporaries too), it swaps each fifo for a link to
 * victim at once, until the restore has ended (a byte on stop_fd, or its end closed). Bounded
 * by the events the restore causes.
 */
static void attack(const char *folder, const char *victim, int ready_fd, int stop_fd)
{
	int dfd, ino;
	unsigned long swaps = 0, events = 0;
	char c = 1;
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0 || (dfd = open(folder, O_RDONLY | O_DIRECTORY)) < 0 ||
	    (ino = inotify_init1(IN_CLOEXEC)) < 0 || inotify_add_watch(ino, folder, IN_CREATE | IN_MOVED_TO) < 0)
		_exit(2);
	if (write(ready_fd, &c, 1) != 1)
		_exit(2);
	for (;;) {
		struct pollfd p[2] = { { ino, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
		ssize_t n, at;
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		if ((n = read(ino, buf, sizeof(buf))) <= 0)
			continue;
		for (at = 0; at < n; ) {
			struct inotify_event *e = (struct inotify_event *)(buf + at);
			events++;
			if (e->len && e->name[0] != 'x')
				swaps += (unsigned long)swap(dfd, e->name, victim, swaps + events);
			at += (ssize_t)(sizeof(*e) + e->len);
		}
	}
	/* The exit status says whether anything was swapped: a test in which nothing was proves nothing. */
	_exit(swaps > 0 ? 0 : 3);
}

static void test_swapped_fifos_never_reach_roots_file(void **state)
{
	char *folder = ob_test_path(srv.src, "attacker"), *victim = ob_test_path(srv.dir, "victim");
	char *item = ob_test_path(srv.src + 1, "attacker"), *failed = NULL, *point = NULL, *content;
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	ob_job_info *j;
	int64_t ds = 0;
	int ready[2], stop[2], status, i;
	struct stat st;
	size_t len;
	pid_t pid;
	char c;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: another user's folder cannot be made; skipped\n");
		skip();
	}
	/* The user's folder, reachable by them; root's file, which they cannot read or change. */
	assert_int_equal(chmod(srv.dir, 0711), 0);
	assert_int_equal(chmod(srv.src, 0711), 0);
	assert_int_equal(mkdir(folder, 0755), 0);
	assert_int_equal(chown(folder, NOBODY, NOBODY), 0);
	for (i = 0; i < FIFOS; i++) {
		char name[32], *p;
		snprintf(name, sizeof(name), "f%05d", i);
		p = ob_test_path(folder, name);
		assert_int_equal(mkfifo(p, 0666), 0);
		assert_int_equal(chmod(p, 0666), 0);
		assert_int_equal(lchown(p, NOBODY, NOBODY), 0);
		free(p);
	}
	ob_test_write(victim, SECRET, strlen(SECRET));
	assert_int_equal(chmod(victim, 0600), 0);
	j = ob_test_backup(srv.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	ob_test_newest_point(srv.agent, &point, &ds);

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(stop), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(stop[1]);
		attack(folder, victim, ready[1], stop[0]);
	}
	close(ready[1]);
	close(stop[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);   /* the attacker is at work */

	/* Root restores the folder over itself. Items the attacker replaced may fail; that is theirs. */
	o.point_id = point;
	o.datasource_id = ds;
	o.item = item;
	o.destination = "/";
	o.overwrite = OB_OVERWRITE_OVERWRITE;
	ob_restore(&failed, srv.agent, &o);
	ob_error_clear();
	c = 1;
	assert_int_equal(write(stop[1], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);   /* it swapped fifos for links */

	/* Root's file is as it was. */
	assert_int_equal(lstat(victim, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != 0600 || st.st_uid != 0 || st.st_gid != 0)
		fail_msg("root's file was changed through a swapped name: mode %o, owner %u:%u",
			(unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
	content = ob_test_read(victim, &len);
	assert_int_equal(len, strlen(SECRET));
	assert_memory_equal(content, SECRET, len);
	free(content);

	close(ready[0]);
	close(stop[1]);
	ob_str_free(failed);
	free(point);
	free(item);
	free(victim);
	free(folder);
}

/*
 * The attacker of hard links: when the restore has put the first name a/victim in place, it
 * moves its folder a aside and puts a link to root's folder there, which holds a file of that
 * name. A restore that linked the further name b/second through the path <folder>/a/victim would
 * give the user's folder a name of root's file.
 */
static void attack_links(const char *folder, const char *root_dir, int ready_fd, int stop_fd)
{
	int dfd, ino, swapped = 0;
	char c = 1, *a;
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));

	a = ob_test_path(folder, "a");
	if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0 || (dfd = open(folder, O_RDONLY | O_DIRECTORY)) < 0 ||
	    (ino = inotify_init1(IN_CLOEXEC)) < 0 || inotify_add_watch(ino, a, IN_MOVED_TO) < 0)
		_exit(2);
	if (write(ready_fd, &c, 1) != 1)
		_exit(2);
	while (!swapped) {
		struct pollfd p[2] = { { ino, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
		ssize_t n, at;
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		if ((n = read(ino, buf, sizeof(buf))) <= 0)
			continue;
		for (at = 0; at < n && !swapped; ) {
			struct inotify_event *e = (struct inotify_event *)(buf + at);
			if (e->len && !strcmp(e->name, "victim") && renameat(dfd, "a", dfd, "a.old") == 0 &&
			    symlinkat(root_dir, dfd, "a") == 0)
				swapped = 1;
			at += (ssize_t)(sizeof(*e) + e->len);
		}
	}
	_exit(swapped ? 0 : 3);
}

static void test_hard_link_never_names_roots_file(void **state)
{
	char *folder = ob_test_path(srv.src, "linker"), *root_dir = ob_test_path(srv.dir, "rootdir");
	char *item = ob_test_path(srv.src + 1, "linker"), *failed = NULL, *point = NULL, *p, *q;
	char *victim = ob_test_path(root_dir, "victim");
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	ob_job_info *j;
	int64_t ds = 0;
	int ready[2], stop[2], status, i;
	struct stat st, st2;
	pid_t pid;
	char c;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: another user's folder cannot be made; skipped\n");
		skip();
	}
	assert_int_equal(chmod(srv.dir, 0711), 0);
	assert_int_equal(chmod(srv.src, 0711), 0);
	/* The user's folder: a/victim, and b/second another name of it, after many files to restore. */
	assert_int_equal(mkdir(folder, 0755), 0);
	p = ob_test_path(folder, "a");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	free(p);
	p = ob_test_path(folder, "b");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	for (i = 0; i < FIFOS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%05d", i);
		q = ob_test_path(p, name);
		ob_test_write(q, name, strlen(name));
		free(q);
	}
	free(p);
	p = ob_test_path(folder, "a/victim");
	q = ob_test_path(folder, "b/second");
	ob_test_write(p, "the user's\n", 11);
	assert_int_equal(link(p, q), 0);
	free(p);
	free(q);
	assert_int_equal(chown(folder, NOBODY, NOBODY), 0);
	/* Root's folder, with a file of the first name. */
	assert_int_equal(mkdir(root_dir, 0700), 0);
	ob_test_write(victim, SECRET, strlen(SECRET));
	assert_int_equal(chmod(victim, 0600), 0);
	j = ob_test_backup(srv.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	ob_test_newest_point(srv.agent, &point, &ds);

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(stop), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(stop[1]);
		attack_links(folder, root_dir, ready[1], stop[0]);
	}
	close(ready[1]);
	close(stop[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	o.point_id = point;
	o.datasource_id = ds;
	o.item = item;
	o.destination = "/";
	o.overwrite = OB_OVERWRITE_OVERWRITE;
	ob_restore(&failed, srv.agent, &o);
	ob_error_clear();
	c = 1;
	if (write(stop[1], &c, 1) != 1)
		assert_int_equal(errno, EPIPE);   /* it has done its part and left */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);   /* it put the link in the way in time */

	/* Root's file has its one name; b/second is the restored file, another name of a.old/victim. */
	assert_int_equal(lstat(victim, &st), 0);
	if (st.st_nlink != 1)
		fail_msg("the restore gave root's file a further name in the user's folder (%u names)", (unsigned)st.st_nlink);
	p = ob_test_path(folder, "b/second");
	q = ob_test_path(folder, "a.old/victim");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(lstat(q, &st2), 0);
	assert_true(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
	free(p);
	free(q);

	close(ready[0]);
	close(stop[1]);
	ob_str_free(failed);
	free(point);
	free(item);
	free(victim);
	free(root_dir);
	free(folder);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);   /* an attacker that has left closes its end of the stop pipe */
	ob_test_server_folders(&srv, "race");
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "race-server", "RaceTest", "race test passphrase 1234");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_test_server_dispose(&srv);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swapped_fifos_never_reach_roots_file),
		cmocka_unit_test(test_hard_link_never_names_roots_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
