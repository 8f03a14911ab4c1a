/*
 * Internal: the live counters of a job (a backup, a recovery), written by the
 * run and read by the job monitor (jobs/jobs.c), and the phases it goes through.
 */
#ifndef OB_NATIVE_UTIL_PROGRESS_H
#define OB_NATIVE_UTIL_PROGRESS_H

#include <stdatomic.h>

typedef struct ob_progress {
	atomic_uint_fast64_t files_scanned, files_done, files_failed;
	atomic_uint_fast64_t bytes_scanned, bytes_done, bytes_uploaded;
	atomic_uint_fast64_t files_cached;   /* unchanged since the last backup: not read */
	atomic_uint_fast64_t bytes_unstored; /* of bytes_done, those in new blobs not yet stored in the vault */
	atomic_int_fast64_t datasource_id;
	atomic_int cancel;            /* set to stop the run */
	atomic_int phase;             /* OB_PHASE_*, an index into ob_progress_phase_text */
} ob_progress;

enum {
	OB_PHASE_INIT = 0,
	OB_PHASE_PREPARE,
	OB_PHASE_TRANSFER,
	OB_PHASE_METADATA,
	OB_PHASE_VERIFY,
	OB_PHASE_DONE,
	OB_PHASE_ESTIMATE,       /* recoveries */
	OB_PHASE_RECOVER
};
/** What a job record shows for each phase (MARS's texts). */
extern const char *const ob_progress_phase_text[];

#endif
