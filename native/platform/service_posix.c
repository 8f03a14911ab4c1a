/*
 * platform/service.h on POSIX: the service runs in this process (systemd starts it as it is,
 * samples/obagent.service); SIGTERM and SIGINT write a byte to a pipe that the wait polls, so a
 * stop asked just before the wait began is not missed.
 */
#include "platform/service.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	int saved = errno;
	char b = 1;

	(void)sig;
	stop_asked = 1;
	if (stop_pipe[1] >= 0 && write(stop_pipe[1], &b, 1) < 0) {
		/* full pipe: a stop is already pending */
	}
	errno = saved;
}

int ob_platform_service_run(const char *name, ob_platform_service_body body, void *payload)
{
	struct sigaction sa;

	(void)name;
	if (stop_pipe[0] < 0) {
		if (pipe(stop_pipe) < 0)
			return OB_EIO;
		for (int i = 0; i < 2; i++) {
			fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC);
			fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return body(payload);
}

int ob_platform_service_wait(unsigned int ms)
{
	struct pollfd p;

	if (stop_asked)
		return 1;
	if (stop_pipe[0] < 0)
		return usleep((useconds_t)ms * 1000), stop_asked ? 1 : 0;
	p.fd = stop_pipe[0];
	p.events = POLLIN;
	p.revents = 0;
	while (poll(&p, 1, (int)ms) < 0 && errno == EINTR && !stop_asked) {
		/* another signal: wait on (the rest of the time is not tracked; the caller's pause is short) */
	}
	return stop_asked ? 1 : 0;
}

int ob_platform_service_managed(void)
{
	return 0;
}
