/* This process and what it hands to the processes it starts (platform/process.h), for POSIX systems. */
#define _GNU_SOURCE
#include "platform/process.h"
#include "platform/posix_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

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

int ob_platform_process_harden(int work_from_root)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return ob_posix_failed(errno);
#ifdef __linux__
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return ob_posix_failed(errno);
#endif
	if (work_from_root && chdir("/") != 0)
		return ob_posix_failed(errno);
	return 0;
}

/* What a process needs to run as its parent does; everything else stays with the parent. */
static const char *const needed_names[] = { "PATH", "HOME", "USER", "LOGNAME", "TZ", "LANG", "LANGUAGE", "TMPDIR",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "OPENSSL_CONF", "LD_LIBRARY_PATH", "LD_PRELOAD", "ASAN_OPTIONS", "LSAN_OPTIONS",
	"UBSAN_OPTIONS", "TSAN_OPTIONS" };

int ob_process_env_needed(const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t len, i;

	if (!eq)
		return 0;
	len = (size_t)(eq - entry);
	if (len > 3 && strncmp(entry, "LC_", 3) == 0)
		return 1;
	for (i = 0; i < sizeof(needed_names) / sizeof(needed_names[0]); i++)
		if (strlen(needed_names[i]) == len && strncmp(entry, needed_names[i], len) == 0)
			return 1;
	return 0;
}
