/*
 * Internal: the job records in the catalog (tables job and job_failed_file;
 * migration 4). jobs/jobs.c says what a job does; this file stores its record.
 * Job states and types are those of obagent/job.h (OB_JOB_*).
 */
#ifndef OB_NATIVE_CATALOG_JOBS_H
#define OB_NATIVE_CATALOG_JOBS_H

#include "catalog/catalog.h"

#include <stddef.h>
#include <stdint.h>

/* A job row as read: the strings (NULL when unset) live until the callback given it returns. */
typedef struct ob_catalog_job {
	const char *id;
	int type, state;
	int64_t start_time, end_time;
	const char *phase;
	int error_code;
	const char *error_message;
	int64_t files_scanned, files_done, files_failed;
	int64_t bytes_scanned, bytes_done, bytes_uploaded;
	int64_t datasource_id;
	const char *datasources, *recovery_point;
	int64_t pid;
} ob_catalog_job;

/* Given each row read; a negative result stops and is returned, a positive one stops (ob_catalog_jobs_list). */
typedef int (*ob_catalog_job_cb)(const ob_catalog_job *job, void *payload);

/**
 * The latest job with this id, or (id NULL) the latest job in progress, given
 * to cb. OB_ENOTFOUND, with no message, when there is none.
 */
int ob_catalog_job_get(ob_catalog *cat, const char *id, ob_catalog_job_cb cb, void *payload);
/**
 * Jobs not in progress, newest first, at most limit: all of them, or only the
 * successful or failed ones (filter, OB_JOB_FILTER_*), each given to cb.
 */
int ob_catalog_jobs_list(ob_catalog *cat, int filter, int64_t limit, ob_catalog_job_cb cb, void *payload);

/* Whether a job is recorded in progress, and failing such jobs, are the job lock's (catalog/joblock.h). */

/** Ask the job in progress with this id to stop; *out_changes 0 when no such job is in progress. */
int ob_catalog_job_request_stop(int *out_changes, ob_catalog *cat, const char *id);

/** The failed files recorded for a job, in the order recorded, each given to cb (a failure of cb stops). */
int ob_catalog_job_failed_files(ob_catalog *cat, const char *id,
	int (*cb)(const char *path, const char *reason, void *payload), void *payload);

/** Record a new backup job in progress (params: the kind of policy it backs up). */
int ob_catalog_job_add_backup(ob_catalog *cat, const char *id, int64_t now, const char *datasources,
	int64_t retain_until, const char *params);
/** Record a new recovery job in progress. */
int ob_catalog_job_add_recovery(ob_catalog *cat, const char *id, int64_t now, const char *datasources,
	const char *params, const char *point);
/** A job that could not start becomes Failed (failures are ignored: the caller reports the first). */
void ob_catalog_job_mark_failed(ob_catalog *cat, const char *id, int64_t now, int code, const char *message);

/**
 * What the worker needs of its job: type, retain_until, state and params (*out_params
 * malloc'd, NULL when unset). OB_ENOTFOUND, with no message, when there is no such job.
 */
int ob_catalog_job_to_run(int *out_type, int64_t *out_retain_until, int *out_state, char **out_params,
	ob_catalog *cat, const char *id);
/** The process running the job (failures are ignored). */
void ob_catalog_job_set_pid(ob_catalog *cat, const char *id, int64_t pid);

/* The progress of a running job. */
typedef struct ob_catalog_job_progress {
	int64_t files_scanned, files_done, files_failed;
	int64_t bytes_scanned, bytes_done, bytes_uploaded;
	int64_t datasource_id;
	const char *phase;
} ob_catalog_job_progress;

/** Save the progress; *out_cancel 1 when a stop was asked for (failures are ignored: the next tick tries again). */
void ob_catalog_job_progress_save(int *out_cancel, ob_catalog *cat, const char *id, const ob_catalog_job_progress *p);

/** The end of a job: state, end time, error (code 0, message NULL when none), point (NULL keeps it), phase. */
void ob_catalog_job_finish(ob_catalog *cat, const char *id, int state, int64_t now, int code, const char *message,
	const char *point, const char *phase, int64_t files_failed);

/* Recording the files a job could not handle, one statement for the whole job. */
typedef struct ob_catalog_failed_files ob_catalog_failed_files;

/** NULL when the statement cannot be made: the job then records none (as it records them best effort). */
ob_catalog_failed_files *ob_catalog_failed_files_open(ob_catalog *cat, const char *job_id);
void ob_catalog_failed_files_add(ob_catalog_failed_files *ff, const char *path, const char *reason);
void ob_catalog_failed_files_free(ob_catalog_failed_files *ff);

#endif
