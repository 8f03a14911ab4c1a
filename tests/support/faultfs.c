/*
 * Fault injection for tests, loaded with LD_PRELOAD into the job worker: the
 * real engine, the real vault, and one system call that fails the way a sick
 * disk or a full one does. Nothing is injected unless a variable asks:
 *
 *   OBFAULT_FSYNC_DIR=SUFFIX    fsync of a folder whose path ends with SUFFIX fails (EIO)
 *   OBFAULT_FSYNC_FILE=PART     fsync of a file whose path holds PART fails (EIO)
 *   OBFAULT_CREATE=PART         creating a file whose path holds PART fails (ENOSPC) ...
 *   OBFAULT_CREATE_AFTER=N      ... once N such files were created (default 0)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_long created;

static int fd_path(int fd, char *out, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, out, size - 1)) < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

int fsync(int fd)
{
	static int (*real)(int);
	const char *suffix = getenv("OBFAULT_FSYNC_DIR"), *part = getenv("OBFAULT_FSYNC_FILE");
	struct stat st;
	char path[PATH_MAX];

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (part && *part && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fd_path(fd, path, sizeof(path)) == 0 &&
	    strstr(path, part)) {
		errno = EIO;
		return -1;
	}
	if (suffix && *suffix && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && fd_path(fd, path, sizeof(path)) == 0) {
		size_t pl = strlen(path), sl = strlen(suffix);
		if (pl >= sl && strcmp(path + pl - sl, suffix) == 0) {
			errno = EIO;
			return -1;
		}
	}
	return real(fd);
}

/* 1 when this creation is to fail. */
static int create_fails(const char *path, int flags)
{
	const char *part = getenv("OBFAULT_CREATE"), *after = getenv("OBFAULT_CREATE_AFTER");

	if (!(flags & O_CREAT) || !part || !*part || !path || !strstr(path, part))
		return 0;
	return atomic_fetch_add(&created, 1) >= (after ? atol(after) : 0);
}

#define OPEN_WRAPPER(fn, sig, call)                                              \
	int fn sig                                                                   \
	{                                                                            \
		static int (*real) sig;                                                  \
		mode_t mode = 0;                                                         \
		if (flags & O_CREAT) {                                                   \
			va_list ap;                                                          \
			va_start(ap, flags);                                                 \
			mode = (mode_t)va_arg(ap, int);                                      \
			va_end(ap);                                                          \
		}                                                                        \
		if (!real)                                                               \
			real = (int (*) sig)dlsym(RTLD_NEXT, #fn);                           \
		if (create_fails(path, flags)) {                                         \
			errno = ENOSPC;                                                      \
			return -1;                                                           \
		}                                                                        \
		return call;                                                             \
	}

OPEN_WRAPPER(open, (const char *path, int flags, ...), real(path, flags, mode))
OPEN_WRAPPER(open64, (const char *path, int flags, ...), real(path, flags, mode))
OPEN_WRAPPER(openat, (int dirfd, const char *path, int flags, ...), real(dirfd, path, flags, mode))
OPEN_WRAPPER(openat64, (int dirfd, const char *path, int flags, ...), real(dirfd, path, flags, mode))
