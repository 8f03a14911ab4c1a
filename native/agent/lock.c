/* This server's job lock: one job at a time (agent/lock.h). */
#include "agent/lock.h"
#include "catalog/joblock.h"
#include "util/env.h"
#include "util/error.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>

char *ob_job_lock_path(ob_agent *agent)
{
	return ob_platform_join(agent->home, "job.lock");
}

void ob_job_lock_reap(ob_agent *agent)
{
	char *path;
	int fd, held_elsewhere, running;
	int64_t now = 0;

	if ((running = ob_catalog_job_in_progress(agent->cat, NULL, NULL)) <= 0) {
		if (running < 0)
			ob_error_clear();
		return;
	}
	if (!(path = ob_job_lock_path(agent)))
		return;
	held_elsewhere = ob_platform_lock_try(&fd, path) == OB_ELOCKED;
	free(path);
	if (held_elsewhere) {
		ob_error_clear();
		return;
	}
	if (fd >= 0) {
		ob_clock_now(&now);
		ob_catalog_jobs_fail_in_progress(agent->cat, now, OB_EIO,
			"The job's process ended unexpectedly (killed, crashed or the machine stopped). "
			"Run the job again: data already stored is not uploaded again.");
		ob_platform_close(fd);
	}
	ob_error_clear();
}

/* The lock is held: name the job in progress when the catalog records one. */
static int busy_error(ob_agent *agent)
{
	char *id = NULL, when[21];
	int64_t start = 0;

	if (ob_catalog_job_in_progress(agent->cat, &id, &start) == 1) {
		ob_time_format_utc(when, start);
		ob_err(OB_ELOCKED, OB_ERRCLASS_JOB,
			"Another job is in progress (job %s, started %s). Wait for it to finish, or stop it with Stop-OBJob.",
			id, when);
		free(id);
		return OB_ELOCKED;
	}
	return ob_err(OB_ELOCKED, OB_ERRCLASS_JOB,
		"Another job is in progress on this server. Wait for it to finish, or stop it with Stop-OBJob.");
}

/* 1 when the catalog records a job in progress. */
static int job_recorded_running(ob_agent *agent)
{
	int running = ob_catalog_job_in_progress(agent->cat, NULL, NULL) == 1;

	ob_error_clear();
	return running;
}

/*
 * A worker records the end of its job and then exits, which frees the lock: a
 * start right after a job ended (a script's next Start-OBBackup, on a loaded
 * machine) waits up to 10 s for that exit instead of failing. While a job is
 * recorded in progress, a start is refused at once.
 */
int ob_job_lock_take(int *out_fd, ob_agent *agent)
{
	char *path;
	int error, i;

	*out_fd = -1;
	ob_job_lock_reap(agent);
	if (!(path = ob_job_lock_path(agent)))
		return ob_err_nomem();
	for (i = 0; (error = ob_platform_lock_try(out_fd, path)) == OB_ELOCKED && i < 200; i++) {
		if (job_recorded_running(agent))
			break;
		ob_error_clear();
		ob_platform_sleep_ms(50);
	}
	free(path);
	if (error == OB_ELOCKED)
		error = busy_error(agent);
	return error;
}

int ob_job_lock_try(int *out_fd, ob_agent *agent)
{
	char *path;
	int error;

	*out_fd = -1;
	if (!(path = ob_job_lock_path(agent)))
		return ob_err_nomem();
	error = ob_platform_lock_try(out_fd, path);
	free(path);
	return error == OB_ELOCKED ? busy_error(agent) : error;
}
