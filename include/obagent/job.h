/*
 * obagent: jobs. A backup or a recovery runs as a job: a worker process that
 * outlives whoever started it, records its progress in the catalog, and stops
 * when asked from any process. One job at a time per server (docs/JOBS.md).
 */
#ifndef OBAGENT_JOB_H
#define OBAGENT_JOB_H

#include "common.h"
#include "agent.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ob_job_type {
	OB_JOB_BACKUP = 1,
	OB_JOB_RECOVERY = 2,
	OB_JOB_MOUNT = 3,       /**< a recovery point mounted for browsing (ob_recovery_mount_start) */
	OB_JOB_DRILL = 4         /**< a restore drill (obagent/drill.h); 3 is OB_JOB_MOUNT */
} ob_job_type;

/** Job states, named as MARS names them (ob_job_state_name). */
typedef enum ob_job_state {
	OB_JOB_INPROGRESS = 1,
	OB_JOB_COMPLETED = 2,
	OB_JOB_COMPLETED_WITH_WARNING = 3,
	OB_JOB_FAILED = 4,
	OB_JOB_ABORTED = 5
} ob_job_state;

/** "InProgress", "Completed", "CompletedWithWarning", "Failed", "Aborted". Static. */
OB_EXTERN(const char *) ob_job_state_name(int state);

/** What a job is doing and has done. */
typedef struct ob_job_info {
	unsigned int version;
	char *job_id;            /**< a GUID */
	int type;                /**< ob_job_type */
	int state;               /**< ob_job_state */
	int64_t start_time;      /**< seconds since 1970 UTC */
	int64_t end_time;        /**< 0 while running */
	char *phase;             /**< MARS's progress message of the current step */
	int error_code;          /**< ob_error_code of a failure, else 0 */
	char *error_message;     /**< what went wrong, or NULL */
	uint64_t files_scanned;
	uint64_t files_done;
	uint64_t files_failed;
	uint64_t bytes_scanned;  /**< bytes of the files looked at */
	uint64_t bytes_done;     /**< bytes read and in the vault (a backup's new blocks count once their pack is stored) */
	uint64_t bytes_uploaded; /**< bytes written to the vault */
	int64_t datasource_id;   /**< the data source being worked on (0: none) */
	char *datasources;       /**< data source names, newline-separated */
	char *recovery_point;    /**< the recovery point the job made or used, or NULL */
} ob_job_info;

#define OB_JOB_INFO_VERSION 1

/**
 * How far a job is, 0 to 100, or -1 while nothing is known yet: bytes_done of
 * bytes_scanned, so that a backup's share grows as its data reaches the vault,
 * not as it is read (a throttled backup reads far ahead of what it has stored).
 * At most 99 while the job runs; 100 once it completed.
 */
OB_EXTERN(int) ob_job_percent_complete(const ob_job_info *info);

/** The number of lines in MARS's backup sequence ("Initializing" .. "Job completed."). */
#define OB_JOB_PHASE_LINES_MAX 7

/**
 * The progress lines a follower of a backup job (Start-OBBackup, `obagent
 * backup`) writes for the phase it sees now, in MARS's fixed order (mars.md
 * 1.4: "Initializing", "Taking snapshot of volumes...", ... "Job completed.").
 * A phase shorter than one poll is never seen, yet it ran: seeing a later phase
 * of the sequence gives the earlier lines not yet written first, so the lines
 * come in order, each once, and never one for a phase not reached. *written is
 * the follower's own state: -1 before any line, then the place in the sequence
 * of the last line written. Fills out[0..n) (static strings, n <= max; with a
 * small max, call again for the rest) and returns n: 0 when phase was written
 * already or comes before the last line written. Returns -1 when phase is not
 * one of the sequence ("Job failed.", "Job stopped.", a recovery's phases) or an
 * argument is NULL: the follower writes such a text as it is, once per change.
 */
OB_EXTERN(int) ob_job_phase_lines(const char **out, size_t max, int *written, const char *phase);

OB_EXTERN(void) ob_job_info_free(ob_job_info *info);
/** Free an array from ob_job_list. */
OB_EXTERN(void) ob_job_list_free(ob_job_info **list, size_t count);

/**
 * Start a backup of the committed policy as a job; returns once the worker has
 * taken the server's job lock. OB_ELOCKED when another job is in progress,
 * OB_ENOTFOUND without a policy, OB_ENOKEY without a passphrase.
 * retain_until: keep this recovery point at least until then (0: by policy).
 */
OB_EXTERN(int) ob_backup_start(ob_job_info **out, ob_agent *agent, int64_t retain_until);

/**
 * Start a System State backup (Start-OBSystemStateBackup): the job captures the
 * system's state into a staging folder inside the agent's state folder, then
 * backs it up as the "System State" data source. OB_ENOTFOUND without a System
 * State policy.
 */
OB_EXTERN(int) ob_systemstate_backup_start(ob_job_info **out, ob_agent *agent);

/** A job by id (OB_ENOTFOUND). */
OB_EXTERN(int) ob_job_get(ob_job_info **out, ob_agent *agent, const char *job_id);

/**
 * A job by id once it has ended, or as it stands after timeout_ms: returns as soon as the
 * worker records the job's end (it waits on the job's lock being released, not on a fixed
 * sleep), so a caller following a job with it sees the end at once and its progress every
 * timeout_ms. *out is the caller's (ob_job_info_free). Any thread; it blocks the caller.
 */
OB_EXTERN(int) ob_job_wait(ob_job_info **out, ob_agent *agent, const char *job_id, unsigned int timeout_ms);

/** The job in progress, or OB_ENOTFOUND. */
OB_EXTERN(int) ob_job_current(ob_job_info **out, ob_agent *agent);

/** Filters for ob_job_list. */
typedef enum ob_job_filter {
	OB_JOB_FILTER_ALL = 0,
	OB_JOB_FILTER_SUCCESSFUL = 1,   /**< Completed and CompletedWithWarning */
	OB_JOB_FILTER_FAILED = 2        /**< Failed and Aborted */
} ob_job_filter;

/** The newest max finished jobs, newest first. */
OB_EXTERN(int) ob_job_list(ob_job_info ***out, size_t *out_count, ob_agent *agent, size_t max, int filter);

/** Ask a job to stop; it ends Aborted, keeping what it stored. OB_ENOTFOUND if not running. */
OB_EXTERN(int) ob_job_stop(ob_agent *agent, const char *job_id);

/**
 * The files a job could not process, one "path<TAB>reason" per line in *out
 * (ob_str_free); empty when none.
 */
OB_EXTERN(int) ob_job_failed_files(char **out, ob_agent *agent, const char *job_id);

/**
 * Run a job in this process (the worker's body; the obagent command calls it).
 * lock_fd: the job lock the starter passed down, or -1 to take it here.
 * key_fd: a pipe carrying another server's key for a recovery, or -1.
 */
OB_EXTERN(int) ob_job_run(ob_agent *agent, const char *job_id, int lock_fd, int key_fd);

/**
 * The scheduler's one step (the obagent service calls it): when the committed
 * policy has a schedule, is not paused, and a scheduled time passed since the
 * last scheduled run, start ONE backup (a machine that was off catches up once,
 * not in a burst) and remember the run. *out (may be NULL) receives the started
 * job, or NULL when nothing was due. A due run that finds another job in
 * progress is recorded as a failed job ("another job was in progress"), as MARS
 * does. *out_next (may be NULL) receives the next scheduled time (0: none).
 */
OB_EXTERN(int) ob_schedule_run_due(ob_job_info **out, int64_t *out_next, ob_agent *agent);

/** What ob_service_run tells its caller (each may be NULL). */
typedef struct ob_service_events {
	/** A scheduled backup started (job InProgress). */
	void (*started)(const ob_job_info *job, void *payload);
	/** With OB_SERVICE_WAIT: the job started by the step ended (or stood so when the service was stopped). */
	void (*ended)(const ob_job_info *job, void *payload);
	/** A step failed (the agent did not open, the catalog failed...): rc and its message; the service goes on. */
	void (*failed)(int rc, const char *message, void *payload);
	void *payload;
} ob_service_events;

#define OB_SERVICE_ONCE 1u   /**< one step, then return its result */
#define OB_SERVICE_WAIT 2u   /**< with ONCE: wait for the job the step started to end */

/**
 * The scheduler as the system's service (`obagent service`; docs/SCHEDULER.md): opens the agent
 * of home (NULL: the default state folder, or OBAGENT_HOME) and runs ob_schedule_run_due, then
 * waits until the next scheduled time, a minute at most (the policy may change), and again, until
 * the system asks it to stop: SIGTERM or SIGINT on POSIX (systemd's stop); on Windows the Service
 * Control Manager's stop or shutdown when the SCM started the process as the service named
 * OB_SERVICE_NAME, else Ctrl+C or closing the console (a scheduled task). A stop ends the wait at
 * once; a step in progress ends first (jobs are processes of their own and go on). Returns 0 when
 * stopped; with OB_SERVICE_ONCE the step's result.
 */
#define OB_SERVICE_NAME "obagent"
OB_EXTERN(int) ob_service_run(const char *home, unsigned int flags, const ob_service_events *events);

/**
 * When the committed policy's next scheduled backup runs: *out = the first
 * scheduled moment strictly after now (ob_clock_now; seconds since 1970 UTC),
 * the moment the service will start it. system_state 0: the file and folder
 * policy; nonzero: the System State policy. *out = 0 when nothing will run by
 * itself: no committed policy of that kind, a policy without a schedule, or a
 * paused policy (it runs again only once resumed). MARS's
 * CBClientCommon.GetNextRunTimeOfScheduledTask is this for files and folders.
 */
OB_EXTERN(int) ob_schedule_next_run(int64_t *out, ob_agent *agent, int system_state);

#ifdef __cplusplus
}
#endif
#endif
