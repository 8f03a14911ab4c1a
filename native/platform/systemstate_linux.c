/*
 * System State capture for Linux: /etc, packages, systemd, cron, boot,
 * accounts, network, and the machine facts of manifest.json. Tools run by
 * fork/exec with a fixed PATH and no shell; a missing tool is noted, not fatal.
 *
 * Consistency: Linux has no system-wide snapshot to ask for here (Windows
 * Server Backup takes a VSS snapshot), so the capture is one quick pass and
 * each file is checked for change while it was read; a file that keeps
 * changing is copied as read and listed in the report.
 */
#define _GNU_SOURCE
#include "platform/systemstate.h"
#include "util/error.h"
#include "platform/platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define SECURE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define COMMAND_TIMEOUT_MS 120000
#define COPY_BLOCK 65536

/* ------------------------------------------------------------------ paths */

/* root + rel (rel starts with '/'), malloc'd. */
static char *src_path(const ob_ss *ss, const char *rel)
{
	ob_buf b = OB_BUF_INIT;

	if (ob_buf_printf(&b, "%s%s", ss->root, rel) < 0)
		return NULL;
	return ob_buf_detach(&b);
}

static char *stage_path(const ob_ss *ss, const char *rel)
{
	return ob_platform_join(ss->staging, rel);
}

static int stage_mkdir(const ob_ss *ss, const char *rel)
{
	char *p = stage_path(ss, rel);
	int error = 0;

	if (!p)
		return OB_ENOMEM;
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		error = ob_err_os(errno, "Cannot create a folder of the System State capture", p);
	free(p);
	return error;
}

/* ------------------------------------------------------------------ emptying */

static int empty_at(int dfd, const char *shown)
{
	DIR *d;
	struct dirent *e;
	int error = 0;

	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return ob_err_os(errno, "Cannot list the folder", shown);
	}
	while (!error && (errno = 0, e = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			error = ob_err_os(errno, "Cannot examine an entry of the folder", shown);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int child;
			/* A copied folder may be read-only (0555): make it ours to empty. */
			fchmodat(dirfd(d), e->d_name, 0700, 0);
			child = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (child < 0)
				error = ob_err_os(errno, "Cannot open a folder to empty it in", shown);
			else
				error = empty_at(child, shown);
			if (!error && unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0)
				error = ob_err_os(errno, "Cannot remove a folder in", shown);
		} else if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
			error = ob_err_os(errno, "Cannot remove a file in", shown);
		}
	}
	if (!error && errno != 0)
		error = ob_err_os(errno, "Cannot list the folder", shown);
	closedir(d);
	return error;
}

int ob_systemstate_platform_empty(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return ob_err_os(errno, "Cannot open the System State staging folder", dir);
	return empty_at(fd, dir);
}

/* ------------------------------------------------------------------ copying */

/* Copy extended attributes; what the destination refuses (security.*, trusted.* as a user) is left out. */
static void copy_xattrs_fd(int sfd, int dfd)
{
	char *names = NULL, *value = NULL, *p;
	ssize_t n;

	n = flistxattr(sfd, NULL, 0);
	if (n <= 0 || !(names = malloc((size_t)n)))
		return;
	n = flistxattr(sfd, names, (size_t)n);
	for (p = names; n > 0 && p < names + n; p += strlen(p) + 1) {
		ssize_t vl = fgetxattr(sfd, p, NULL, 0);
		char *v;
		if (vl < 0 || !(v = realloc(value, (size_t)vl + 1)))
			continue;
		value = v;
		vl = fgetxattr(sfd, p, value, (size_t)vl);
		if (vl >= 0)
			fsetxattr(dfd, p, value, (size_t)vl, 0);
	}
	free(value);
	free(names);
}

static void copy_xattrs_link(const char *src, const char *dst)
{
	char *names = NULL, *value = NULL, *p;
	ssize_t n;

	n = llistxattr(src, NULL, 0);
	if (n <= 0 || !(names = malloc((size_t)n)))
		return;
	n = llistxattr(src, names, (size_t)n);
	for (p = names; n > 0 && p < names + n; p += strlen(p) + 1) {
		ssize_t vl = lgetxattr(src, p, NULL, 0);
		char *v;
		if (vl < 0 || !(v = realloc(value, (size_t)vl + 1)))
			continue;
		value = v;
		vl = lgetxattr(src, p, value, (size_t)vl);
		if (vl >= 0)
			lsetxattr(dst, p, value, (size_t)vl, 0);
	}
	free(value);
	free(names);
}

static int unreadable_errno(ob_ss *ss, const char *shown, const char *what, int err)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "%s: %s (errno %d)", what, strerror(err), err);
	return ob_ss_unreadable(ss, shown, reason);
}

static int same_version(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ino == b->st_ino;
}

/*
 * Copy the regular file src to dst (created). Read problems go to the report;
 * negative only for write problems in the staging folder.
 */
static int copy_file(ob_ss *ss, const char *src, const char *dst, const char *shown, int follow)
{
	struct stat before, after;
	struct timespec times[2];
	char *block = NULL;
	int sfd, dfd = -1, error = 0, attempt, consistent = 0;

	sfd = open(src, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (sfd < 0)
		return unreadable_errno(ss, shown, "cannot open", errno);
	if (fstat(sfd, &before) != 0) {
		error = unreadable_errno(ss, shown, "cannot examine", errno);
		close(sfd);
		return error;
	}
	if (!S_ISREG(before.st_mode)) {
		close(sfd);  /* replaced by something else since it was listed */
		return 0;
	}
	if (!(block = malloc(COPY_BLOCK))) {
		close(sfd);
		return ob_err_nomem();
	}
	dfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (dfd < 0) {
		error = ob_err_os(errno, "Cannot create a file of the System State capture", dst);
		goto done;
	}
	for (attempt = 0; attempt < 2 && !consistent; attempt++) {
		ssize_t n;
		if (attempt > 0 && (lseek(sfd, 0, SEEK_SET) < 0 || ftruncate(dfd, 0) != 0 || lseek(dfd, 0, SEEK_SET) < 0)) {
			error = ob_err_os(errno, "Cannot rewrite a file of the System State capture", dst);
			goto done;
		}
		while ((n = read(sfd, block, COPY_BLOCK)) != 0) {
			char *p = block;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				error = unreadable_errno(ss, shown, "cannot read", errno);
				close(dfd);
				dfd = -1;
				unlink(dst);
				goto done;
			}
			while (n > 0) {
				ssize_t w = write(dfd, p, (size_t)n);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					error = ob_err_os(errno, "Cannot write a file of the System State capture", dst);
					goto done;
				}
				p += w;
				n -= w;
			}
		}
		if (fstat(sfd, &after) == 0 && same_version(&before, &after))
			consistent = 1;
		else
			before = after;
	}
	if (!consistent && (error = ob_ss_unreadable(ss, shown,
		"changed while it was being read: the copy may not be consistent")) < 0)
		goto done;
	copy_xattrs_fd(sfd, dfd);
	if (geteuid() == 0 && fchown(dfd, before.st_uid, before.st_gid) != 0) {
		/* Kept as the capturing user; manifest "owners_preserved" tells. */
	}
	if (fchmod(dfd, before.st_mode & 07777) != 0) {
		error = ob_err_os(errno, "Cannot set the mode of a file of the System State capture", dst);
		goto done;
	}
	times[0] = before.st_atim;
	times[1] = before.st_mtim;
	futimens(dfd, times);
done:
	if (dfd >= 0)
		close(dfd);
	close(sfd);
	free(block);
	return error;
}

static int copy_entry(ob_ss *ss, const char *src, const char *dst, const char *shown, int follow);

static int copy_dir(ob_ss *ss, const char *src, const char *dst, const char *shown, const struct stat *st)
{
	struct timespec times[2];
	DIR *d = NULL;
	struct dirent *e;
	int sfd, dfd, error = 0;

	if (mkdir(dst, 0700) != 0 && errno != EEXIST)
		return ob_err_os(errno, "Cannot create a folder of the System State capture", dst);
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sfd < 0 && errno == ELOOP)
		sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);  /* a followed link */
	if (sfd < 0 || !(d = fdopendir(sfd))) {
		error = unreadable_errno(ss, shown, "cannot list the folder", errno);
		if (sfd >= 0)
			close(sfd);
		goto meta;
	}
	while (!error && (errno = 0, e = readdir(d)) != NULL) {
		ob_buf s = OB_BUF_INIT, t = OB_BUF_INIT, w = OB_BUF_INIT;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (ob_buf_printf(&s, "%s/%s", src, e->d_name) < 0 || ob_buf_printf(&t, "%s/%s", dst, e->d_name) < 0 ||
		    ob_buf_printf(&w, "%s/%s", shown, e->d_name) < 0)
			error = OB_ENOMEM;
		else
			error = copy_entry(ss, s.data, t.data, w.data, 0);
		ob_buf_dispose(&s);
		ob_buf_dispose(&t);
		ob_buf_dispose(&w);
	}
	if (!error && errno != 0)
		error = unreadable_errno(ss, shown, "cannot list the whole folder", errno);
meta:
	if (error < 0) {
		if (d)
			closedir(d);
		return error;
	}
	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0) {
		error = ob_err_os(errno, "Cannot open a folder of the System State capture", dst);
	} else {
		if (d)
			copy_xattrs_fd(dirfd(d), dfd);
		if (geteuid() == 0 && fchown(dfd, st->st_uid, st->st_gid) != 0) {
			/* see copy_file */
		}
		if (fchmod(dfd, st->st_mode & 07777) != 0)
			error = ob_err_os(errno, "Cannot set the mode of a folder of the System State capture", dst);
		times[0] = st->st_atim;
		times[1] = st->st_mtim;
		futimens(dfd, times);
		close(dfd);
	}
	if (d)
		closedir(d);
	return error;
}

static int copy_link(ob_ss *ss, const char *src, const char *dst, const char *shown, const struct stat *st)
{
	struct timespec times[2];
	char *target;
	ssize_t n;
	size_t cap = (size_t)st->st_size + 1 > 256 ? (size_t)st->st_size + 1 : 256;
	int error = 0;

	if (!(target = malloc(cap)))
		return ob_err_nomem();
	n = readlink(src, target, cap - 1);
	if (n < 0) {
		error = unreadable_errno(ss, shown, "cannot read the link", errno);
		goto done;
	}
	target[n] = '\0';
	if (symlink(target, dst) != 0) {
		error = ob_err_os(errno, "Cannot create a link of the System State capture", dst);
		goto done;
	}
	copy_xattrs_link(src, dst);
	if (geteuid() == 0 && lchown(dst, st->st_uid, st->st_gid) != 0) {
		/* see copy_file */
	}
	times[0] = st->st_atim;
	times[1] = st->st_mtim;
	utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW);
done:
	free(target);
	return error;
}

/*
 * Copy one entry of any kind (follow: follow a link at src itself). 1 when src
 * does not exist, 0 when copied or noted, negative to stop.
 */
static int copy_entry(ob_ss *ss, const char *src, const char *dst, const char *shown, int follow)
{
	struct stat st;

	if ((follow ? stat(src, &st) : lstat(src, &st)) != 0) {
		if (errno == ENOENT)
			return 1;
		return unreadable_errno(ss, shown, "cannot examine", errno);
	}
	if (S_ISDIR(st.st_mode)) {
		if ((unsigned long long)st.st_dev == ss->staging_dev && (unsigned long long)st.st_ino == ss->staging_ino)
			return 0;  /* the staging folder itself, inside what is captured */
		return copy_dir(ss, src, dst, shown, &st);
	}
	if (S_ISREG(st.st_mode))
		return copy_file(ss, src, dst, shown, follow);
	if (S_ISLNK(st.st_mode))
		return copy_link(ss, src, dst, shown, &st);
	return 0;  /* sockets, fifos, devices: not configuration */
}

/* Copy root+rel into staging item; noted as captured, or unavailable when absent. */
static int capture_path(ob_ss *ss, const char *rel, const char *item, int follow)
{
	char *src = src_path(ss, rel), *dst = stage_path(ss, item);
	int error;

	if (!src || !dst) {
		error = OB_ENOMEM;
		goto done;
	}
	error = copy_entry(ss, src, dst, rel, follow);
	if (error == 1)
		error = ob_ss_unavailable(ss, item, "absent on this system");
	else if (error == 0)
		error = ob_ss_captured(ss, item, rel);
done:
	free(src);
	free(dst);
	return error;
}

/* ------------------------------------------------------------------ commands */

static char *find_tool(const char *name)
{
	const char *p = SECURE_PATH;

	while (*p) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		ob_buf b = OB_BUF_INIT;
		if (ob_buf_printf(&b, "%.*s/%s", (int)n, p, name) < 0)
			return NULL;
		if (access(b.data, X_OK) == 0)
			return ob_buf_detach(&b);
		ob_buf_dispose(&b);
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}

static void close_from(int lowest)
{
#if defined(SYS_close_range)
	if (syscall(SYS_close_range, (unsigned int)lowest, ~0U, 0) == 0)
		return;
#endif
	{
		long max = sysconf(_SC_OPEN_MAX), fd;
		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = lowest; fd < max; fd++)
			close((int)fd);
	}
}

static int join_argv(ob_buf *b, char *const *argv)
{
	size_t i;
	int error = 0;

	for (i = 0; argv[i] && error == 0; i++)
		error = ob_buf_printf(b, "%s%s", i ? " " : "", argv[i]);
	return error;
}

/*
 * Run argv[0] (a tool name, looked up in a fixed PATH) with its standard output
 * into the staging file item. Noted as captured, or unavailable when the tool is
 * missing, fails or hangs. Negative only when the staging folder cannot be written.
 */
static int run_tool(ob_ss *ss, char *const *argv, const char *item)
{
	static char *const envp[] = { "PATH=" SECURE_PATH, "LC_ALL=C", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0",
		"PAGER=cat", "TERM=dumb", NULL };
	char *tool = NULL, *out = NULL;
	char err_text[512];
	size_t err_len = 0;
	ob_buf line = OB_BUF_INIT, reason = OB_BUF_INIT;
	int pipefd[2] = { -1, -1 }, outfd = -1, nullfd = -1, status = 0, error = 0, timed_out = 0;
	pid_t pid;
	struct timespec start, now;

	if ((error = join_argv(&line, argv)) < 0)
		goto done;
	if (!ss->run_commands) {
		error = ob_ss_unavailable(ss, item, "not run: commands disabled for this capture");
		goto done;
	}
	if (!(tool = find_tool(argv[0]))) {
		error = ob_buf_printf(&reason, "%s is not installed", argv[0]);
		if (!error)
			error = ob_ss_unavailable(ss, item, reason.data);
		goto done;
	}
	if (!(out = stage_path(ss, item))) {
		error = OB_ENOMEM;
		goto done;
	}
	outfd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (outfd < 0) {
		error = ob_err_os(errno, "Cannot create a file of the System State capture", out);
		goto done;
	}
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0 || pipe2(pipefd, O_CLOEXEC) != 0) {
		error = ob_err_os(errno, "Cannot prepare to run", tool);
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		error = ob_err_os(errno, "Cannot start", tool);
		goto done;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls from here. */
		if (dup2(nullfd, 0) < 0 || dup2(outfd, 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(126);
		close_from(3);
		execve(tool, argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { pipefd[0], POLLIN, 0 };
		long waited;
		char chunk[512];
		ssize_t n;
		int r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (long)((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (waited >= COMMAND_TIMEOUT_MS) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		r = poll(&pfd, 1, (int)(COMMAND_TIMEOUT_MS - waited));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (err_len < sizeof(err_text) - 1) {
			size_t take = (size_t)n < sizeof(err_text) - 1 - err_len ? (size_t)n : sizeof(err_text) - 1 - err_len;
			memcpy(err_text + err_len, chunk, take);
			err_len += take;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	err_text[err_len] = '\0';
	{
		char *nl = strchr(err_text, '\n');
		if (nl)
			*nl = '\0';
	}
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		error = ob_ss_captured(ss, item, line.data);
		goto done;
	}
	if (timed_out)
		error = ob_buf_printf(&reason, "'%s' did not finish within %d seconds", line.data, COMMAND_TIMEOUT_MS / 1000);
	else if (WIFEXITED(status))
		error = ob_buf_printf(&reason, "'%s' failed (exit %d)%s%s", line.data, WEXITSTATUS(status),
			err_text[0] ? ": " : "", err_text);
	else
		error = ob_buf_printf(&reason, "'%s' was killed by signal %d", line.data, WTERMSIG(status));
	if (!error)
		error = ob_ss_unavailable(ss, item, reason.data);
	close(outfd);
	outfd = -1;
	unlink(out);  /* no half output beside a note that says it failed */
done:
	if (outfd >= 0)
		close(outfd);
	if (nullfd >= 0)
		close(nullfd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	ob_buf_dispose(&line);
	ob_buf_dispose(&reason);
	free(tool);
	free(out);
	return error;
}

/* ------------------------------------------------------------------ the parts */

static int exists_under_root(const ob_ss *ss, const char *rel)
{
	char *p = src_path(ss, rel);
	int r = p ? ob_platform_exists(p) : 0;

	free(p);
	return r;
}

static int capture_packages(ob_ss *ss)
{
	ob_buf opt = OB_BUF_INIT;
	int error, any = 0;

	if ((error = stage_mkdir(ss, "packages")) < 0)
		return error;
	if (exists_under_root(ss, "/var/lib/dpkg/status")) {
		char fmt[] = "--showformat=${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n";
		char *argv[6];
		int i = 0;
		any = 1;
		argv[i++] = "dpkg-query";
		if (!ss->is_live) {
			if ((error = ob_buf_printf(&opt, "--admindir=%s/var/lib/dpkg", ss->root)) < 0)
				return error;
			argv[i++] = opt.data;
		}
		argv[i++] = "-W";
		argv[i++] = fmt;
		argv[i] = NULL;
		if ((error = run_tool(ss, argv, "packages/dpkg.tsv")) < 0)
			goto done;
		if (ss->is_live) {
			char *mark[] = { "apt-mark", "showmanual", NULL };
			error = run_tool(ss, mark, "packages/apt-manual.txt");
		} else {
			error = ob_ss_unavailable(ss, "packages/apt-manual.txt", "only read from the running system");
		}
		if (error < 0)
			goto done;
	}
	if (exists_under_root(ss, "/var/lib/rpm") || exists_under_root(ss, "/usr/lib/sysimage/rpm")) {
		char qf[] = "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\tinstalled\n";
		char *argv[6];
		int i = 0;
		any = 1;
		ob_buf_dispose(&opt);
		argv[i++] = "rpm";
		if (!ss->is_live) {
			if ((error = ob_buf_printf(&opt, "--root=%s", ss->root)) < 0)
				return error;
			argv[i++] = opt.data;
		}
		argv[i++] = "-qa";
		argv[i++] = "--qf";
		argv[i++] = qf;
		argv[i] = NULL;
		if ((error = run_tool(ss, argv, "packages/rpm.tsv")) < 0)
			goto done;
		if (ss->is_live) {
			char *user[] = { "dnf", "-C", "-q", "repoquery", "--userinstalled", "--qf", "%{name}", NULL };
			error = run_tool(ss, user, "packages/dnf-userinstalled.txt");
		}
		if (error < 0)
			goto done;
	}
	if (!any)
		error = ob_ss_unavailable(ss, "packages", "no dpkg or rpm package database on this system");
done:
	ob_buf_dispose(&opt);
	return error;
}

static int systemd_running(const ob_ss *ss)
{
	struct stat st;

	return ss->is_live && lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

static int capture_systemd(ob_ss *ss)
{
	ob_buf opt = OB_BUF_INIT;
	char *argv[8];
	int error, i = 0;

	if ((error = stage_mkdir(ss, "systemd")) < 0)
		return error;
	if (!exists_under_root(ss, "/etc/systemd") && !exists_under_root(ss, "/lib/systemd") &&
	    !exists_under_root(ss, "/usr/lib/systemd"))
		return ob_ss_unavailable(ss, "systemd", "systemd is not installed on this system");
	argv[i++] = "systemctl";
	if (!ss->is_live) {
		if ((error = ob_buf_printf(&opt, "--root=%s", ss->root)) < 0)
			return error;
		argv[i++] = opt.data;
	}
	argv[i++] = "list-unit-files";
	argv[i++] = "--no-pager";
	argv[i++] = "--plain";
	argv[i++] = "--no-legend";
	argv[i] = NULL;
	if ((error = run_tool(ss, argv, "systemd/unit-files.txt")) < 0)
		goto done;
	i = ss->is_live ? 1 : 2;
	argv[i++] = "get-default";
	argv[i] = NULL;
	if ((error = run_tool(ss, argv, "systemd/default-target.txt")) < 0)
		goto done;
	if (!systemd_running(ss))
		error = ob_ss_unavailable(ss, "systemd/runtime", ss->is_live ?
			"systemd is not running (a container?): unit-file states only, no runtime state" :
			"not the running system: unit-file states only");
done:
	ob_buf_dispose(&opt);
	return error;
}

static int capture_cron(ob_ss *ss)
{
	int error;

	if ((error = stage_mkdir(ss, "cron")) < 0)
		return error;
	/* Debian keeps crontabs in /var/spool/cron/crontabs, Red Hat in /var/spool/cron. */
	if ((error = capture_path(ss, "/var/spool/cron", "cron/spool", 0)) < 0)
		return error;
	if (systemd_running(ss)) {
		char *argv[] = { "systemctl", "list-timers", "--all", "--no-pager", NULL };
		return run_tool(ss, argv, "cron/timers.txt");
	}
	return ob_ss_unavailable(ss, "cron/timers.txt", "systemd is not running here: no timers to list");
}

static int capture_boot(ob_ss *ss)
{
	int error;

	if ((error = stage_mkdir(ss, "boot")) < 0)
		return error;
	if (exists_under_root(ss, "/boot/grub/grub.cfg"))
		error = capture_path(ss, "/boot/grub/grub.cfg", "boot/grub.cfg", 1);
	else if (exists_under_root(ss, "/boot/grub2/grub.cfg"))
		error = capture_path(ss, "/boot/grub2/grub.cfg", "boot/grub.cfg", 1);
	else
		error = ob_ss_unavailable(ss, "boot/grub.cfg", "no /boot/grub/grub.cfg or /boot/grub2/grub.cfg");
	if (error < 0)
		return error;
	return capture_path(ss, "/proc/cmdline", "boot/cmdline", 1);
}

static int capture_accounts(ob_ss *ss)
{
	static const char *const names[] = { "passwd", "group", "shadow", "gshadow" };
	size_t i;
	int error;

	if ((error = stage_mkdir(ss, "accounts")) < 0)
		return error;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char rel[32], item[32];
		snprintf(rel, sizeof(rel), "/etc/%s", names[i]);
		snprintf(item, sizeof(item), "accounts/%s", names[i]);
		if ((error = capture_path(ss, rel, item, 0)) < 0)
			return error;
	}
	return 0;
}

static int capture_network(ob_ss *ss)
{
	static const char *const files[] = { "hostname", "hosts", "resolv.conf" };
	size_t i;
	int error;

	if ((error = stage_mkdir(ss, "network")) < 0)
		return error;
	if (ss->is_live) {
		char *addr[] = { "ip", "-json", "addr", NULL };
		char *route[] = { "ip", "-json", "route", NULL };
		if ((error = run_tool(ss, addr, "network/ip-addr.json")) < 0 ||
		    (error = run_tool(ss, route, "network/ip-route.json")) < 0)
			return error;
	} else if ((error = ob_ss_unavailable(ss, "network/ip-addr.json", "only read from the running system")) < 0 ||
		   (error = ob_ss_unavailable(ss, "network/ip-route.json", "only read from the running system")) < 0) {
		return error;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[32], item[32];
		snprintf(rel, sizeof(rel), "/etc/%s", files[i]);
		snprintf(item, sizeof(item), "network/%s", files[i]);
		/* The running system's resolv.conf is often a link into /run: keep what it says. */
		if ((error = capture_path(ss, rel, item, ss->is_live)) < 0)
			return error;
	}
	return 0;
}

/* ------------------------------------------------------------------ manifest facts */

static int field_str(ob_ss *ss, const char *key, const char *value)
{
	int error = ob_buf_printf(&ss->fields, ",\n  \"%s\": ", key);

	return error < 0 ? error : ob_json_put_str(&ss->fields, value);
}

/* A small file read to its end (files of /proc report a size of 0); NULL when absent or unreadable. */
static char *read_small(const char *path)
{
	ob_buf b = OB_BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len > (1u << 20) || ob_buf_put(&b, chunk, (size_t)n) < 0) {
			close(fd);
			ob_buf_dispose(&b);
			ob_error_clear();
			return NULL;
		}
	}
	close(fd);
	if (!b.data && ob_buf_puts(&b, "") < 0) {
		ob_error_clear();
		return NULL;
	}
	return ob_buf_detach(&b);
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* os-release: KEY=value, value maybe quoted "..." (with \ escapes) or '...'. */
static int field_os_release(ob_ss *ss)
{
	char *path = src_path(ss, "/etc/os-release"), *text = NULL, *line, *next;
	int error, first = 1;

	if (!path)
		return OB_ENOMEM;
	if (!(text = read_small(path))) {
		free(path);
		if (!(path = src_path(ss, "/usr/lib/os-release")))
			return OB_ENOMEM;
		text = read_small(path);
	}
	free(path);
	if (!text)
		return ob_buf_puts(&ss->fields, ",\n  \"os_release\": null");
	if ((error = ob_buf_puts(&ss->fields, ",\n  \"os_release\": {")) < 0)
		goto done;
	for (line = text; line && *line; line = next) {
		char *eq, *v, *w;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '#' || !(eq = strchr(line, '=')) || eq == line)
			continue;
		*eq = '\0';
		trim(eq + 1);
		v = w = eq + 1;
		if (*v == '"' || *v == '\'') {
			char q = *v++;
			for (; *v && *v != q; v++) {
				if (q == '"' && *v == '\\' && v[1])
					v++;
				*w++ = *v;
			}
			*w = '\0';
			v = eq + 1;
		}
		if ((error = ob_buf_puts(&ss->fields, first ? "\n    " : ",\n    ")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, line)) < 0 || (error = ob_buf_puts(&ss->fields, ": ")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, v)) < 0)
			goto done;
		first = 0;
	}
	error = ob_buf_puts(&ss->fields, first ? "}" : "\n  }");
done:
	free(text);
	return error;
}

static int field_host(ob_ss *ss)
{
	char *name = NULL, *path;
	int error;

	if (ss->is_live) {
		if ((error = ob_platform_hostname(&name)) < 0)
			return error;
	} else {
		if (!(path = src_path(ss, "/etc/hostname")))
			return OB_ENOMEM;
		name = read_small(path);
		free(path);
		if (name)
			trim(name);
	}
	error = field_str(ss, "host_name", name);
	free(name);
	return error;
}

static int field_kernel(ob_ss *ss)
{
	struct utsname u;
	int error;

	if (uname(&u) != 0)
		return ob_buf_puts(&ss->fields, ",\n  \"kernel\": null,\n  \"architecture\": null");
	if ((error = ob_buf_puts(&ss->fields, ",\n  \"kernel\": {\"name\": ")) < 0 ||
	    (error = ob_json_put_str(&ss->fields, u.sysname)) < 0 ||
	    (error = ob_buf_puts(&ss->fields, ", \"release\": ")) < 0 ||
	    (error = ob_json_put_str(&ss->fields, u.release)) < 0 ||
	    (error = ob_buf_puts(&ss->fields, ", \"version\": ")) < 0 ||
	    (error = ob_json_put_str(&ss->fields, u.version)) < 0 ||
	    (error = ob_buf_puts(&ss->fields, "}")) < 0)
		return error;
	return field_str(ss, "architecture", u.machine);
}

/* /proc/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static int field_mounts(ob_ss *ss)
{
	char *path = src_path(ss, "/proc/mounts"), *text, *line, *next;
	int error, first = 1;

	if (!path)
		return OB_ENOMEM;
	text = read_small(path);
	free(path);
	if (!text)
		return ob_buf_puts(&ss->fields, ",\n  \"mounts\": null");
	if ((error = ob_buf_puts(&ss->fields, ",\n  \"mounts\": [")) < 0)
		goto done;
	for (line = text; line && *line; line = next) {
		char *f[4], *save = NULL;
		int k;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (k = 0; k < 4; k++)
			if (!(f[k] = strtok_r(k ? NULL : line, " ", &save)))
				break;
		if (k < 4)
			continue;
		unescape_octal(f[0]);
		unescape_octal(f[1]);
		if ((error = ob_buf_puts(&ss->fields, first ? "\n    {\"device\": " : ",\n    {\"device\": ")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, f[0])) < 0 ||
		    (error = ob_buf_puts(&ss->fields, ", \"mount_point\": ")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, f[1])) < 0 ||
		    (error = ob_buf_puts(&ss->fields, ", \"type\": ")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, f[2])) < 0 ||
		    (error = ob_buf_puts(&ss->fields, ", \"options\": ")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, f[3])) < 0 ||
		    (error = ob_buf_puts(&ss->fields, "}")) < 0)
			goto done;
		first = 0;
	}
	error = ob_buf_puts(&ss->fields, first ? "]" : "\n  ]");
done:
	free(text);
	return error;
}

static char *sys_block_value(const ob_ss *ss, const char *disk, const char *leaf)
{
	ob_buf b = OB_BUF_INIT;
	char *v;

	if (ob_buf_printf(&b, "%s/sys/block/%s/%s", ss->root, disk, leaf) < 0)
		return NULL;
	v = read_small(b.data);
	ob_buf_dispose(&b);
	if (v)
		trim(v);
	return v;
}

static int field_disks(ob_ss *ss)
{
	char *path = src_path(ss, "/sys/block");
	DIR *d;
	struct dirent *e;
	int error = 0, first = 1;

	if (!path)
		return OB_ENOMEM;
	d = opendir(path);
	free(path);
	if (!d)
		return ob_buf_puts(&ss->fields, ",\n  \"disks\": null");
	if ((error = ob_buf_puts(&ss->fields, ",\n  \"disks\": [")) < 0)
		goto done;
	while ((e = readdir(d)) != NULL) {
		char *size, *removable, *ro, *model;
		long long sectors = 0;
		if (e->d_name[0] == '.')
			continue;
		size = sys_block_value(ss, e->d_name, "size");
		removable = sys_block_value(ss, e->d_name, "removable");
		ro = sys_block_value(ss, e->d_name, "ro");
		model = sys_block_value(ss, e->d_name, "device/model");
		if (size)
			sectors = strtoll(size, NULL, 10);
		/* /sys/block sizes are in 512-byte sectors whatever the device's own sector size. */
		if ((error = ob_buf_puts(&ss->fields, first ? "\n    {\"name\": " : ",\n    {\"name\": ")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, e->d_name)) < 0 ||
		    (error = ob_buf_printf(&ss->fields, ", \"size_bytes\": %lld, \"removable\": %s, \"read_only\": %s, \"model\": ",
			sectors * 512, removable && removable[0] == '1' ? "true" : "false",
			ro && ro[0] == '1' ? "true" : "false")) < 0 ||
		    (error = ob_json_put_str(&ss->fields, model)) < 0 ||
		    (error = ob_buf_puts(&ss->fields, "}")) < 0) {
			free(size), free(removable), free(ro), free(model);
			goto done;
		}
		free(size), free(removable), free(ro), free(model);
		first = 0;
	}
	error = ob_buf_puts(&ss->fields, first ? "]" : "\n  ]");
done:
	closedir(d);
	return error;
}

/* ------------------------------------------------------------------ entry */

int ob_systemstate_platform_capture(ob_ss *ss)
{
	int error;

	/* The machine's facts first, then the configuration, in one pass. */
	if ((error = field_host(ss)) < 0 || (error = field_os_release(ss)) < 0 || (error = field_kernel(ss)) < 0 ||
	    (error = ob_buf_printf(&ss->fields, ",\n  \"systemd_running\": %s,\n  \"owners_preserved\": %s",
		systemd_running(ss) ? "true" : "false", geteuid() == 0 ? "true" : "false")) < 0 ||
	    (error = ob_buf_puts(&ss->fields,
		",\n  \"sensitive\": [\"accounts/shadow\", \"accounts/gshadow\", \"etc/shadow\", \"etc/gshadow\", \"etc/ssh\"]")) < 0 ||
	    (error = field_disks(ss)) < 0 || (error = field_mounts(ss)) < 0)
		return error;
	if ((error = capture_path(ss, "/etc", "etc", 0)) < 0 ||
	    (error = capture_packages(ss)) < 0 ||
	    (error = capture_systemd(ss)) < 0 ||
	    (error = capture_cron(ss)) < 0 ||
	    (error = capture_boot(ss)) < 0 ||
	    (error = capture_accounts(ss)) < 0 ||
	    (error = capture_network(ss)) < 0)
		return error;
	return 0;
}
