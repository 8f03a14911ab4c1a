/* The platform layer for Linux and other POSIX systems. */
#define _GNU_SOURCE
#include "platform/platform.h"
#include "platform/posix_internal.h"
#include "platform/common_internal.h"
#include "util/error.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <sys/file.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif
#include <poll.h>
#include <time.h>
#include <sys/wait.h>
#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

int ob_platform_hostname(char **out)
{
	char name[256];

	if (gethostname(name, sizeof(name)) != 0)
		return ob_err_os(errno, "Cannot read the host name", "");
	name[sizeof(name) - 1] = '\0';
	*out = ob_strdup(name);
	return *out ? 0 : OB_ENOMEM;
}

int ob_platform_default_home(char **out)
{
	const char *xdg, *home;
	ob_buf b = OB_BUF_INIT;
	int error;

	if (geteuid() == 0) {
		*out = ob_strdup("/var/lib/obagent");
		return *out ? 0 : OB_ENOMEM;
	}
	xdg = getenv("XDG_STATE_HOME");
	home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		error = ob_buf_printf(&b, "%s/obagent", xdg);
	else if (home && home[0] == '/')
		error = ob_buf_printf(&b, "%s/.local/state/obagent", home);
	else
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"Cannot find a folder for the agent's state: set OBAGENT_HOME, XDG_STATE_HOME or HOME.");
	if (error < 0)
		return error;
	*out = ob_buf_detach(&b);
	return 0;
}

int ob_platform_path_is_absolute(const char *path)
{
	return path && path[0] == '/';
}

char *ob_platform_path_internal(const char *path)
{
	return ob_strdup(path);
}

int ob_platform_realpath(char **out, const char *path)
{
	char *r = realpath(path, NULL);

	if (!r) {
		int err = errno;
		ob_posix_failed(err);   /* a caller may word the failure its own way (ob_platform_fail) */
		return ob_err_os(err, "Cannot resolve the path", path);
	}
	*out = r;
	return 0;
}

static int sync_parent(const char *path);

int ob_platform_mkdir_p(const char *path, unsigned int mode)
{
	char *copy = ob_strdup(path), *p;
	int error = 0;

	if (!copy)
		return OB_ENOMEM;
	for (p = copy + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(copy, (mode_t)mode) == 0) {
				/* A new folder is durable once its parent is: files synced into it are not reachable before. */
				if ((error = sync_parent(copy)) < 0)
					break;
			} else if (errno != EEXIST) {
				error = ob_err_os(errno, "Cannot create the folder", copy);
				break;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	if (!error) {
		struct stat st;
		if (stat(path, &st) != 0)
			error = ob_err_os(errno, "Cannot create the folder", path);
		else if (!S_ISDIR(st.st_mode))
			error = ob_err(OB_EINVALID, OB_ERRCLASS_OS, "'%s' exists and is not a folder.", path);
	}
	free(copy);
	return error;
}

int ob_platform_dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d) {
		if (errno == ENOENT)
			return OB_ENOTFOUND;
		return ob_err_os(errno, "Cannot open the folder", path);
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

int ob_platform_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

char *ob_platform_join(const char *a, const char *b)
{
	ob_buf out = OB_BUF_INIT;
	size_t alen = strlen(a);

	if (ob_buf_put(&out, a, alen) < 0 ||
	    ((alen == 0 || a[alen - 1] != '/') && ob_buf_puts(&out, "/") < 0) ||
	    ob_buf_puts(&out, b) < 0) {
		ob_buf_dispose(&out);
		return NULL;
	}
	return ob_buf_detach(&out);
}

static int sync_parent(const char *path)
{
	char *copy = ob_strdup(path), *slash;
	int fd, error = 0;

	if (!copy)
		return OB_ENOMEM;
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(copy, ".");
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		error = ob_err_os(errno, "Cannot sync the folder", copy);
	if (fd >= 0)
		close(fd);
	free(copy);
	return error;
}

int ob_platform_sync_parent(const char *path)
{
	return sync_parent(path);
}

int ob_platform_sync_paths(char *const *paths, size_t count)
{
	size_t i, j;
	int error = 0;

	for (i = 0; i < count && error == 0; i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0)
			error = ob_err_os(errno, "Cannot sync the file", paths[i]);
		if (fd >= 0)
			close(fd);
	}
	/* Each distinct folder once (paths of one folder usually come together). */
	for (i = 0; i < count && error == 0; i++) {
		const char *slash = strrchr(paths[i], '/');
		size_t dl = slash ? (size_t)(slash - paths[i]) : 0;
		int seen = 0;
		for (j = 0; j < i && !seen; j++) {
			const char *s2 = strrchr(paths[j], '/');
			seen = s2 && (size_t)(s2 - paths[j]) == dl && memcmp(paths[j], paths[i], dl) == 0;
		}
		if (!seen)
			error = sync_parent(paths[i]);
	}
	return error;
}

#define DIRECT_ALIGN 4096
#define DIRECT_MIN (1u << 20)

int ob_platform_write_file_impl(const char *path, const void *data, size_t len, unsigned int mode, int replace,
	int durable, ob_platform_pace_cb pace, void *payload)
{
	ob_buf tmp = OB_BUF_INIT;
	unsigned char rnd[8];
	char hex[17];
	const char *p = data;
	size_t left = len;
	int fd = -1, error = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "The random generator failed.");
	ob_hex_encode(hex, rnd, sizeof(rnd));
	{
		/* The temporary file is hidden (a leading dot) beside the target. */
		const char *base = strrchr(path, '/');
		size_t dirlen = base ? (size_t)(base - path) + 1 : 0;
		base = base ? base + 1 : path;
		if ((error = ob_buf_put(&tmp, path, dirlen)) < 0 ||
		    (error = ob_buf_printf(&tmp, ".%s.tmp-%s", base, hex)) < 0) {
			ob_buf_dispose(&tmp);
			return error;
		}
	}

	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		error = ob_err_os(errno, "Cannot create the file", tmp.data);
		goto done;
	}
#ifdef O_DIRECT
	/*
	 * A large buffer aligned to pages (a pack) goes to the disk without a copy into
	 * the page cache, which cost more CPU than sealing it: its whole pages with
	 * O_DIRECT, the tail normally. Where the file system refuses, it is written
	 * the usual way.
	 */
	if (len >= DIRECT_MIN && ((uintptr_t)data % DIRECT_ALIGN) == 0) {
		int fl = fcntl(fd, F_GETFL);
		size_t whole = len & ~(size_t)(DIRECT_ALIGN - 1);
		if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0) {
			while (left > len - whole) {
				size_t want = ob_platform_paced(pace, payload, left - (len - whole));
				ssize_t n;
				if (want % DIRECT_ALIGN)
					want -= want % DIRECT_ALIGN;   /* a pacer grants whole pages; if not, the rest goes normally */
				if (!want)
					break;
				n = write(fd, p, want);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0 || (size_t)n % DIRECT_ALIGN != 0) {
					/* Refused (or a short write, which would leave the rest unaligned): go on normally. */
					if (n > 0) {
						p += n;
						left -= (size_t)n;
					}
					break;
				}
				p += n;
				left -= (size_t)n;
			}
			if (fcntl(fd, F_SETFL, fl) != 0) {
				error = ob_err_os(errno, "Cannot write the file", path);
				goto done;
			}
		}
	}
#endif
	while (left > 0) {
		ssize_t n = write(fd, p, ob_platform_paced(pace, payload, left));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = ob_err_os(errno, "Cannot write the file", path);
			goto done;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || (durable && fsync(fd) != 0)) {
		error = ob_err_os(errno, "Cannot write the file", path);
		goto done;
	}
	if (close(fd) != 0) {
		fd = -1;
		error = ob_err_os(errno, "Cannot write the file", path);
		goto done;
	}
	fd = -1;
	if (replace) {
		if (rename(tmp.data, path) != 0) {
			error = ob_err_os(errno, "Cannot write the file", path);
			goto done;
		}
	} else {
		if (link(tmp.data, path) != 0) {
			if (errno == EEXIST)
				error = ob_err(OB_EEXISTS, OB_ERRCLASS_OS, "'%s' exists already.", path);
			else
				error = ob_err_os(errno, "Cannot write the file", path);
			goto done;
		}
		unlink(tmp.data);
	}
	error = durable ? sync_parent(path) : 0;

done:
	if (fd >= 0)
		close(fd);
	if (error < 0)
		unlink(tmp.data);
	ob_buf_dispose(&tmp);
	return error;
}

int ob_platform_read_file(char **out, size_t *out_len, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int error = 0;

	*out = NULL;
	*out_len = 0;
	if (fd < 0)
		return ob_err_os(errno, "Cannot open the file", path);
	if (fstat(fd, &st) != 0) {
		error = ob_err_os(errno, "Cannot read the file", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_OS, "'%s' is not a regular file.", path);
		goto done;
	}
	if ((uint64_t)st.st_size > max) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"'%s' is %lld bytes, more than the %zu expected.", path, (long long)st.st_size, max);
		goto done;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		error = ob_err_nomem();
		goto done;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ob_err_os(errno, "Cannot read the file", path);
			goto done;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*out_len = got;
	buf = NULL;
done:
	free(buf);
	close(fd);
	return error;
}

int ob_platform_remove_file(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return ob_err_os(errno, "Cannot remove the file", path);
	return 0;
}

/* local.key of the secrets folder: 32 random bytes, made on first use when create is set. */
static int local_key_file(uint8_t key[32], const char *secrets_dir, int create)
{
	char *path = ob_platform_join(secrets_dir, "local.key"), *data = NULL;
	size_t len = 0;
	int error;

	if (!path)
		return ob_err_nomem();
	error = ob_platform_read_file(&data, &len, path, 64);
	if (error == OB_ENOTFOUND && create) {
		uint8_t fresh[32];
		ob_error_clear();
		if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
			free(path);
			return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "The random generator failed.");
		}
		error = ob_platform_write_file(path, fresh, sizeof(fresh), 0600, 0);
		ob_wipe(fresh, sizeof(fresh));
		if (error == 0 || error == OB_EEXISTS)
			error = ob_platform_read_file(&data, &len, path, 64);
	}
	free(path);
	if (error < 0)
		return error;
	if (len != 32) {
		ob_wipe(data, len);
		free(data);
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "The agent's local key file is damaged.");
	}
	memcpy(key, data, 32);
	ob_wipe(data, len);
	free(data);
	return 0;
}

/*
 * The machine's identity, as systemd and D-Bus keep it: /etc/machine-id, else
 * /var/lib/dbus/machine-id, 32 hex digits (an empty or "uninitialized" file, as on a first
 * boot or in a bare container, is none). 1 when found, 0 when the machine has none.
 */
static int machine_id(char out[33])
{
	static const char *const paths[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };
	size_t i, k;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char buf[64];
		ssize_t n;
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n < 32 || (n > 32 && buf[32] != '\n'))
			continue;
		for (k = 0; k < 32 && isxdigit((unsigned char)buf[k]); k++)
			out[k] = (char)tolower((unsigned char)buf[k]);
		if (k < 32)
			continue;
		out[32] = '\0';
		return 1;
	}
	return 0;
}

int ob_platform_local_key(uint8_t key[32], int *out_bound, const char *secrets_dir)
{
	uint8_t file_key[32];
	char id[33], label[64];
	unsigned int len = 32;
	int error;

	*out_bound = 0;
	if ((error = local_key_file(file_key, secrets_dir, 1)) < 0)
		return error;
	if (!machine_id(id)) {
		memcpy(key, file_key, 32);
		ob_wipe(file_key, sizeof(file_key));
		return 0;
	}
	/* HMAC-SHA-256 keyed with local.key over the machine's identity: neither alone gives the key. */
	snprintf(label, sizeof(label), "obagent-local-key-v2|%s", id);
	if (!HMAC(EVP_sha256(), file_key, sizeof(file_key), (const unsigned char *)label, strlen(label), key, &len) ||
	    len != 32)
		error = ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "Cannot derive the agent's local key (HMAC failed).");
	else
		*out_bound = 1;
	ob_wipe(file_key, sizeof(file_key));
	ob_wipe(label, sizeof(label));
	return error;
}

int ob_platform_local_key_unbound(uint8_t key[32], const char *secrets_dir)
{
	return local_key_file(key, secrets_dir, 0);
}

int ob_platform_lock_try(int *out_fd, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	*out_fd = -1;
	if (fd < 0)
		return ob_err_os(errno, "Cannot open the lock file", path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK)
			return OB_ELOCKED;
		return ob_err_os(err, "Cannot lock", path);
	}
	*out_fd = fd;
	return 0;
}

void ob_platform_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int ob_platform_name_match(const char *pattern, const char *name, int casefold)
{
	return fnmatch(pattern, name, casefold ? FNM_CASEFOLD : 0) == 0;
}

int ob_platform_names_casefold(void)
{
	return 0;
}

int ob_platform_names_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

void ob_platform_sleep_ms(unsigned int ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int ob_platform_spawn_detached(const char *const *argv, const char *const *envp, const int *keep_fds, size_t keep_count,
	const char *log_path)
{
	int pipefd[2], status;
	pid_t child;
	ssize_t n;
	int child_errno = 0;

	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return ob_err_os(errno, "Cannot start the job process", argv[0]);
	child = fork();
	if (child < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return ob_err_os(errno, "Cannot start the job process", argv[0]);
	}
	if (child == 0) {
		/* The middle process: a new session, then the worker as its child, then exit. */
		pid_t worker;
		int fd, maxfd;
		setsid();
		worker = fork();
		if (worker != 0)
			_exit(worker < 0 ? 1 : 0);
		signal(SIGPIPE, SIG_DFL);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != 0) {
			dup2(fd, 0);
			close(fd);
		}
		fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		maxfd = (int)sysconf(_SC_OPEN_MAX);
		if (maxfd < 0 || maxfd > 65536)
			maxfd = 65536;
		for (fd = 3; fd < maxfd; fd++) {
			size_t k;
			int keep = fd == pipefd[1];
			for (k = 0; k < keep_count; k++)
				keep |= fd == keep_fds[k];
			if (!keep)
				close(fd);
		}
		{
			size_t k;
			for (k = 0; k < keep_count; k++)
				if (keep_fds[k] >= 0)
					fcntl(keep_fds[k], F_SETFD, 0);
		}
		execve(argv[0], (char *const *)argv, (char *const *)envp);
		child_errno = errno;
		n = write(pipefd[1], &child_errno, sizeof(child_errno));
		(void)n;
		_exit(127);
	}
	close(pipefd[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	/* EOF on the pipe: exec succeeded (the write end closed on exec). */
	do {
		n = read(pipefd[0], &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(child_errno))
		return ob_err_os(child_errno, "Cannot run the job process", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ob_err(OB_EIO, OB_ERRCLASS_OS, "Cannot start the job process '%s'.", argv[0]);
	return 0;
}

int ob_platform_watch_open(int *out, const char *path)
{
	*out = -1;
#ifdef __linux__
	{
		int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd >= 0 && inotify_add_watch(fd, path, IN_CLOSE_WRITE | IN_DELETE_SELF) < 0) {
			close(fd);
			fd = -1;
		}
		*out = fd;
	}
#else
	(void)path;
#endif
	return 0;
}

int ob_platform_watch_wait(int watch, int timeout_ms)
{
	struct pollfd p;
	char buf[4096];
	int n;

	if (watch < 0) {
		/* Nothing to watch: look again soon. */
		struct timespec ts = { 0, (long)(timeout_ms < 50 ? timeout_ms : 50) * 1000000L };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return 1;
	}
	p.fd = watch;
	p.events = POLLIN;
	p.revents = 0;
	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? 1 : 0;
	while (read(watch, buf, sizeof(buf)) > 0)
		;  /* drain: one look at the job answers them all */
	return 1;
}

void ob_platform_watch_close(int watch)
{
	if (watch >= 0)
		close(watch);
}

int ob_platform_process_alive(int64_t pid)
{
	if (pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return 0;
#ifdef __linux__
	{
		/* A zombie (killed, not yet reaped by a parent or an init that may never reap it) acts no more. */
		char path[64], buf[512], *close_paren;
		int fd;
		ssize_t n;
		snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				/* "pid (comm) S ...": the state follows the last ')' (comm may hold one). */
				if ((close_paren = strrchr(buf, ')')) != NULL && close_paren[1] == ' ' &&
				    (close_paren[2] == 'Z' || close_paren[2] == 'X'))
					return 0;
			}
		}
	}
#endif
	return 1;
}

int ob_platform_library_dir(char **out)
{
	Dl_info info;
	char *copy, *slash;

	if (!dladdr((void *)ob_platform_library_dir, &info) || !info.dli_fname)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_OS, "Cannot find where libobagent is installed.");
	if (!(copy = realpath(info.dli_fname, NULL)))
		return ob_err_os(errno, "Cannot resolve the path", info.dli_fname);
	slash = strrchr(copy, '/');
	if (slash)
		*slash = '\0';
	*out = copy;
	return 0;
}
