/*
 * Internal: the live counters of a job (a backup, a recovery), written by the
 * run and read by the job monitor (jobs/jobs.c), and the phases it goes through.
 */
#ifndef OB_NATIVE_UTIL_PROGRESS_H
#define OB_NATIVE_UTIL_PROGRESS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ob_progress {
	atomic_uint_fast64_t files_scanned, files_done, files_failed;
	atomic_uint_fast64_t bytes_scanned, bytes_done, bytes_uploaded;
	atomic_uint_fast64_t files_cached;   /* unchanged since the last backup: not read */
	atomic_uint_fast64_t bytes_unstored; /* of bytes_done, those in new blobs not yet stored in the vault */
	atomic_int_fast64_t datasource_id;
	atomic_int cancel;            /* set to stop the run */
	atomic_int phase;             /* OB_PHASE_*, an index into ob_progress_phase_text */
	atomic_uint_fast64_t history; /* the phases entered, in order: 4 bits each (phase + 1), oldest lowest */
} ob_progress;

enum {
	OB_PHASE_INIT = 0,
	OB_PHASE_SNAPSHOT,       /* the backup fixes its view of the sources (docs/JOBS.md) */
	OB_PHASE_PREPARE,
	OB_PHASE_METADATA,       /* the change-detection metadata the transfer uses */
	OB_PHASE_TRANSFER,
	OB_PHASE_VERIFY,
	OB_PHASE_DONE,
	OB_PHASE_ESTIMATE,       /* recoveries */
	OB_PHASE_RECOVER,
	OB_PHASE_MOUNTING,       /* mount jobs (docs/MOUNT.md) */
	OB_PHASE_MOUNTED,
	OB_PHASE_DRILL_CHECK,    /* restore drills (jobs/drill.c) */
	OB_PHASE_DRILL_SAMPLE,
	OB_PHASE_COUNT
};
/** What a job record shows for each phase (MARS's texts). */
extern const char *const ob_progress_phase_text[];

/**
 * Enter a phase: the current phase, and appended to the history unless it is
 * already the newest entry. The history keeps the first 16 phases entered.
 * One writer (the run's thread).
 */
void ob_progress_enter(ob_progress *pg, int phase);

/** The phases entered, oldest first, into out[0..max); returns how many. */
size_t ob_progress_history(const ob_progress *pg, int *out, size_t max);

#endif
