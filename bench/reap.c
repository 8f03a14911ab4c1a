/*
 * reap CMD [ARGS...]: run CMD and wait for it AND for every process it leaves behind.
 *
 * `obagent backup` starts the real work in a detached worker (fork, setsid, fork, exec
 * `obagent run-job`) whose parent exits at once, so the worker is re-parented away from the
 * client and `/usr/bin/time obagent backup` would see neither its CPU time nor its memory.
 * This wrapper marks itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER): orphaned
 * descendants are re-parented to it instead of init, and it wait4()s for them all. Because it
 * waits for them, their rusage is folded into its own RUSAGE_CHILDREN, so GNU time around
 * `reap obagent backup` reports: wall = until the last process of the tree has exited,
 * user/sys = the CPU time of the whole tree (client, middle process, worker),
 * max RSS = the largest peak RSS of any single process of the tree (the worker).
 * One line per reaped process goes to stderr. Exit status: the command's own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	pid_t cmd, pid;
	int status, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: reap CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		perror("reap: prctl");
		return 2;
	}
	cmd = fork();
	if (cmd < 0) {
		perror("reap: fork");
		return 2;
	}
	if (cmd == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	for (;;) {
		pid = wait4(-1, &status, 0, &ru);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: the whole tree has exited */
		}
		fprintf(stderr, "reap: pid %d (%s) user %.3f s sys %.3f s maxrss %ld KiB\n", (int)pid,
			pid == cmd ? "command" : "orphaned descendant",
			ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
			ru.ru_maxrss);
		if (pid == cmd)
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	return rc;
}
