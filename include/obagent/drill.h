/*
 * obagent: restore drills. A drill is a job (JobType RecoveryDrill) that proves
 * the newest recovery point can be restored: it checks the point in full (as
 * ob_recovery_test does), restores a random sample of its files into a scratch
 * folder in the state folder, compares each with what the point records, and
 * deletes the scratch folder (docs/JOBS.md, "The drill job").
 */
#ifndef OBAGENT_DRILL_H
#define OBAGENT_DRILL_H

#include "common.h"
#include "agent.h"
#include "job.h"
#include "schedule.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The sample a drill restores: this many files at most ... */
#define OB_DRILL_SAMPLE_FILES 20
/** ... and at most this many bytes of them, whichever comes first (docs/JOBS.md). */
#define OB_DRILL_SAMPLE_BYTES (256ull * 1024 * 1024)

/**
 * Start a drill of this server's newest recovery point as a job; returns once
 * the worker holds the job lock (one job at a time: OB_ELOCKED while another
 * runs). OB_ENOTFOUND when the server has no recovery point, OB_ENOKEY without
 * a passphrase. The job ends Completed, or Failed with every file or vault
 * object that did not match among its failed items (ob_job_failed_files).
 */
OB_EXTERN(int) ob_drill_start(ob_job_info **out, ob_agent *agent);

/** The drill schedule and the last drill's outcome (ob_drill_get). */
typedef struct ob_drill_info {
	unsigned int version;
	int scheduled;            /**< 1: drills run by themselves on days and times */
	unsigned int days;        /**< OB_SUNDAY | ... (schedule.h) */
	size_t time_count;        /**< 0 .. OB_SCHEDULE_MAX_TIMES */
	int times[OB_SCHEDULE_MAX_TIMES]; /**< minutes after midnight, sorted */
	int64_t next_run;         /**< the next scheduled drill, seconds since 1970 UTC (0: none) */
	char *last_job_id;        /**< the last drill's job, or NULL when none ran */
	int last_state;           /**< its ob_job_state (0: none) */
	int64_t last_time;        /**< when it ended (0: none) */
	char *last_message;       /**< why it failed, or NULL */
	uint64_t sample_files;    /**< OB_DRILL_SAMPLE_FILES */
	uint64_t sample_bytes;    /**< OB_DRILL_SAMPLE_BYTES */
} ob_drill_info;

#define OB_DRILL_INFO_VERSION 1

OB_EXTERN(int) ob_drill_get(ob_drill_info **out, ob_agent *agent);
OB_EXTERN(void) ob_drill_info_free(ob_drill_info *info);

/**
 * Set when drills run by themselves: on the days (OB_SUNDAY | ...) at the times
 * (1 .. OB_SCHEDULE_MAX_TIMES minutes after midnight, local time, distinct), every
 * week; days 0 with time_count 0 removes the schedule. OB_EINVALID, naming the
 * parameter, otherwise. The service (ob_schedule_run_due) runs a due drill as it
 * runs a due backup: one catch-up, never a burst.
 */
OB_EXTERN(int) ob_drill_schedule_set(ob_agent *agent, unsigned int days, const int *times, size_t time_count);

#ifdef __cplusplus
}
#endif
#endif
