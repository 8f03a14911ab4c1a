/*
 * A job worker keeps its keys to itself (docs/SECURITY.md, docs/JOBS.md): started by a process
 * that allows core files of any size and holds a passphrase, an owner's key and a variable of its
 * own in its environment, the running worker's environment holds none of them (and holds what it
 * needs: the search path, the time zone, the agent's home), it works from `/`, its core limit is
 * 0, and killed with SIGSEGV in the middle of a backup it leaves no core file anywhere it could
 * (its folder, the caller's, the state folder). A process of the same test that is not hardened
 * shows that this machine does write core files, so the check can fail. The runner (`obagent
 * backup`, which follows its job) takes the passphrase and the key out of its own environment:
 * its /proc/<pid>/environ no longer holds their values.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECRET_PP "harden test passphrase, secret"
#define SECRET_KEY "T3duZXIga2V5IHRoYXQgbXVzdCBub3QgbGVhaw=="
#define UNNEEDED "OBTEST_CALLER_ONLY"

static ob_test_server srv;
static char *caller_dir;

/* A throttled vault and 8 MiB to back up: the worker is still at work long after the test looked. */
static int setup(void **state)
{
	char *big;
	uint8_t *data;
	size_t i, len = 8u << 20;
	struct rlimit any = { RLIM_INFINITY, RLIM_INFINITY };

	(void)state;
	ob_test_server_folders(&srv, "harden");
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "harden-test", "HardenTest", "harden test passphrase 12");
	assert_ok(ob_agent_set_throttle(srv.agent, 0x7f, 0, 24 * 60, OB_BANDWIDTH_MIN, OB_BANDWIDTH_MIN));
	big = ob_test_path(srv.src, "big.bin");
	data = malloc(len);
	assert_non_null(data);
	srand(12);
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(rand() >> 7);
	ob_test_write(big, data, len);
	free(data);
	free(big);
	/* The caller allows cores of any size (as `ulimit -c unlimited`) and works from a folder of its own. */
	if (setrlimit(RLIMIT_CORE, &any) != 0) {
		getrlimit(RLIMIT_CORE, &any);
		any.rlim_cur = any.rlim_max;
		assert_int_equal(setrlimit(RLIMIT_CORE, &any), 0);
	}
	caller_dir = ob_test_path(srv.dir, "caller");
	assert_int_equal(mkdir(caller_dir, 0700), 0);
	assert_int_equal(chdir(caller_dir), 0);
	setenv("OBAGENT_PASSPHRASE", SECRET_PP, 1);
	setenv("OBAGENT_OWNER_KEY", SECRET_KEY, 1);
	setenv(UNNEEDED, "the caller's own", 1);
	setenv("TZ", "UTC", 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(chdir("/"), 0);
	unsetenv("OBAGENT_PASSPHRASE");
	unsetenv("OBAGENT_OWNER_KEY");
	unsetenv(UNNEEDED);
	ob_test_server_dispose(&srv);
	free(caller_dir);
	caller_dir = NULL;
	return 0;
}

/* A whole /proc file (its NULs kept) into a malloc'd buffer; NULL when it cannot be read. */
static char *proc_read(pid_t pid, const char *what, size_t *out_len)
{
	char path[64], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		if ((n = read(fd, buf + len, 4096)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (out_len)
		*out_len = len;
	return buf;
}

/* Whether the NUL-separated block holds the n bytes of needle anywhere. */
static int block_has_n(const char *block, size_t len, const char *needle, size_t n)
{
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(block + i, needle, n) == 0)
			return 1;
	return 0;
}

static int block_has(const char *block, size_t len, const char *needle)
{
	return block_has_n(block, len, needle, strlen(needle));
}

/* Whether the environment block has a variable NAME (NAME=... at the start of an entry). */
static int env_has(const char *block, size_t len, const char *name)
{
	size_t n = strlen(name), i = 0;

	while (i < len) {
		size_t e = strlen(block + i);
		if (e > n && memcmp(block + i, name, n) == 0 && block[i + n] == '=')
			return 1;
		i += e + 1;
	}
	return 0;
}

/* The process running "run-job --job <id>" (polling, up to a minute): its pid. */
static pid_t find_worker(const char *job_id)
{
	char want[128];
	size_t want_len = (size_t)snprintf(want, sizeof(want), "run-job%c--job%c%s", 0, 0, job_id) + 1;
	int round;

	for (round = 0; round < 6000; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		pid_t found = 0;
		assert_non_null(d);
		while (!found && (e = readdir(d)) != NULL) {
			char *cmd;
			size_t len = 0;
			pid_t pid = (pid_t)atoi(e->d_name);
			if (pid <= 0 || !(cmd = proc_read(pid, "cmdline", &len)))
				continue;
			if (block_has_n(cmd, len, want, want_len))
				found = pid;
			free(cmd);
		}
		closedir(d);
		if (found)
			return found;
		usleep(10000);
	}
	fail_msg("The worker of job %s never appeared.", job_id);
	return 0;
}

/* Wait (up to a minute) until the job's worker reports progress: it is in the middle of the backup. */
static ob_job_info *wait_working(ob_job_info *j)
{
	char *id = strdup(j->job_id);
	int i;

	for (i = 0; i < 6000 && j->state == OB_JOB_INPROGRESS && j->files_scanned == 0; i++) {
		ob_job_info_free(j);
		usleep(10000);
		assert_ok(ob_job_get(&j, srv.agent, id));
	}
	free(id);
	assert_int_equal(j->state, OB_JOB_INPROGRESS);
	assert_true(j->files_scanned > 0);
	return j;
}

/* Whether a process is gone or a zombie (it has dumped, or not, and exited). */
static int ended(pid_t pid)
{
	char *stat = proc_read(pid, "stat", NULL), *paren;
	int gone = !stat || ((paren = strrchr(stat, ')')) && (paren[2] == 'Z' || paren[2] == 'X'));

	free(stat);
	return gone;
}

static void wait_ended(pid_t pid)
{
	int i;

	for (i = 0; i < 6000 && !ended(pid); i++)
		usleep(10000);
	assert_true(ended(pid));
}

/* The names in folder that a core of pid could have: "core", "core.<pid>" (core_uses_pid). */
static int core_in(const char *folder, pid_t pid, time_t since)
{
	char a[4096], b[4096];
	struct stat st;

	snprintf(a, sizeof(a), "%s/core", folder);
	snprintf(b, sizeof(b), "%s/core.%d", folder, (int)pid);
	return (stat(a, &st) == 0 && st.st_mtime >= since) || stat(b, &st) == 0;
}

/*
 * Whether this machine writes a core file for a process that is not hardened: a child of the test,
 * in the caller's folder, with the caller's limits, crashed with SIGSEGV. 0 when the core pattern
 * hands cores to a program (then only the limits and the environment can be checked).
 */
static int cores_are_written(void)
{
	char *pattern = ob_test_read("/proc/sys/kernel/core_pattern", NULL);
	time_t since = time(NULL) - 1;
	int status, written;
	pid_t child;

	if (pattern[0] == '|') {
		print_message("The core pattern hands cores to %s: no core file to look for; checking the limits.\n", pattern + 1);
		free(pattern);
		return 0;
	}
	free(pattern);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	written = core_in(caller_dir, child, since);
	assert_true(written);   /* the pattern writes into the process's folder: a crash leaves a core here */
	{
		char p[4096];
		snprintf(p, sizeof(p), "%s/core", caller_dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/core.%d", caller_dir, (int)child);
		unlink(p);
	}
	return written;
}

static void assert_worker_env_clean(pid_t pid)
{
	size_t len = 0;
	char *env = proc_read(pid, "environ", &len), cwd[4096], link[64], *limits, *line, soft[64], hard[64];
	ssize_t n;

	assert_non_null(env);
	assert_false(env_has(env, len, "OBAGENT_PASSPHRASE"));
	assert_false(env_has(env, len, "OBAGENT_OWNER_KEY"));
	assert_false(env_has(env, len, UNNEEDED));
	assert_false(block_has(env, len, SECRET_PP));
	assert_false(block_has(env, len, SECRET_KEY));
	assert_true(env_has(env, len, "PATH"));
	assert_true(env_has(env, len, "TZ"));
	assert_true(env_has(env, len, "OBAGENT_HOME"));
	free(env);
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	assert_true(n > 0);
	cwd[n] = '\0';
	assert_string_equal(cwd, "/");
	limits = proc_read(pid, "limits", NULL);
	assert_non_null(limits);
	line = strstr(limits, "Max core file size");
	assert_non_null(line);
	assert_int_equal(sscanf(line + strlen("Max core file size"), "%63s %63s", soft, hard), 2);
	assert_string_equal(soft, "0");
	assert_string_equal(hard, "0");
	free(limits);
}

static void test_worker_has_no_secrets_in_env_and_leaves_no_core(void **state)
{
	ob_job_info *j = NULL;
	char *home = ob_test_path(srv.dir, "home");
	int cores = cores_are_written();
	time_t since = time(NULL) - 1;
	pid_t pid;

	(void)state;
	assert_ok(ob_backup_start(&j, srv.agent, 0));
	j = wait_working(j);
	pid = find_worker(j->job_id);
	/* Stopped where it is (still backing up: throttled), looked at, then crashed. */
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_false(ended(pid));
	assert_worker_env_clean(pid);
	assert_int_equal(kill(pid, SIGSEGV), 0);
	assert_int_equal(kill(pid, SIGCONT), 0);
	wait_ended(pid);
	if (cores) {
		assert_false(core_in("/", pid, since));
		assert_false(core_in(caller_dir, pid, since));
		assert_false(core_in(home, pid, since));
	}
	/* The crashed job ends Failed (its lock is free), as any killed worker's. */
	j = ob_test_job_wait(srv.agent, j);
	assert_int_equal(j->state, OB_JOB_FAILED);
	ob_job_info_free(j);
	free(home);
}

/* The runner, following its backup, no longer holds the passphrase or the key in its environment. */
static void test_runner_takes_secrets_out_of_its_environment(void **state)
{
	char *home = ob_test_path(srv.dir, "home"), *env = NULL;
	size_t len = 0;
	pid_t runner, worker;
	ob_job_info *cur = NULL;
	int status, i;

	(void)state;
	setenv("OBAGENT_HOME", home, 1);
	setenv("OBAGENT_SERVER_NAME", "harden-test", 1);
	runner = fork();
	assert_true(runner >= 0);
	if (runner == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execl(OBAGENT_WORKER_PATH, OBAGENT_WORKER_PATH, "backup", (char *)NULL);
		_exit(127);
	}
	unsetenv("OBAGENT_HOME");
	unsetenv("OBAGENT_SERVER_NAME");
	/* The runner started the job: its worker runs, and the runner follows it. */
	for (i = 0; i < 6000 && ob_job_current(&cur, srv.agent) != 0; i++) {
		ob_error_clear();
		usleep(10000);
	}
	assert_non_null(cur);
	cur = wait_working(cur);
	worker = find_worker(cur->job_id);
	assert_worker_env_clean(worker);
	env = proc_read(runner, "environ", &len);
	assert_non_null(env);
	assert_false(block_has(env, len, SECRET_PP));
	assert_false(block_has(env, len, SECRET_KEY));
	assert_true(block_has(env, len, UNNEEDED));   /* what is not a secret stays, for the runner itself */
	free(env);
	/* A killed worker's job ends Failed, and the runner that followed it exits. */
	assert_int_equal(kill(worker, SIGKILL), 0);
	assert_int_equal(waitpid(runner, &status, 0), runner);
	assert_true(WIFEXITED(status));
	ob_job_info_free(cur);
	free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worker_has_no_secrets_in_env_and_leaves_no_core, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runner_takes_secrets_out_of_its_environment, setup, teardown),
	};

	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
