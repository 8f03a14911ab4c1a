/*
 * LD_PRELOAD spy for tests: every fsync and fdatasync appends the path of its
 * descriptor (from /proc/self/fd) to the file named by FSYNC_SPY_LOG, then does
 * the real call. Used by tests/e2e/durable_dirs.sh.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void note(int fd)
{
	const char *log = getenv("FSYNC_SPY_LOG");
	char link[64], path[4096];
	ssize_t n;
	int out;

	if (!log)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 2)) <= 0)
		return;
	path[n++] = '\n';
	if ((out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	if (write(out, path, (size_t)n) < 0) {
		/* nothing to do: the test then misses a line and says so */
	}
	close(out);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	note(fd);
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	note(fd);
	return real(fd);
}
