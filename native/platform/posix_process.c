/* This process and what it hands to the processes it starts (platform/process.h), for POSIX systems. */
#define _GNU_SOURCE
#include "platform/process.h"
#include "platform/posix_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

int64_t ob_process_id(void)
{
	return (int64_t)getpid();
}

const char *const *ob_process_environment(void)
{
	return (const char *const *)environ;
}

int ob_process_runnable(const char *path)
{
	return access(path, X_OK) == 0;
}

int ob_process_pipe_with(int *out_fd, const void *data, size_t len)
{
	int fds[2], err;

	*out_fd = -1;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return ob_posix_failed(errno);
	if (write(fds[1], data, len) != (ssize_t)len) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		return ob_posix_failed(err);
	}
	close(fds[1]);
	*out_fd = fds[0];
	return 0;
}

void ob_process_read_fd(size_t *out_got, int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*out_got = got;
}
