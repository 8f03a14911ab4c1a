/*
 * Internal: the restore drill's body (jobs/drill.c), for the job worker
 * (jobs/jobs.c) and the scheduler's step (jobs/scheduler.c).
 */
#ifndef OB_NATIVE_JOBS_DRILL_INTERNAL_H
#define OB_NATIVE_JOBS_DRILL_INTERNAL_H

#include "obagent/drill.h"
#include "util/progress.h"

#include <stddef.h>
#include <stdint.h>

typedef int (*ob_drill_failed_cb)(const char *path, const char *reason, void *payload);

/**
 * Run a drill of point_id in this process (the worker's body): the full check, the
 * sample restored into <state folder>/drill and compared, the scratch folder removed.
 * Every file or object that did not match goes to on_failed; the return is then
 * OB_ECORRUPT with a message naming the first ones. 0 when everything matched (a
 * scratch folder that could not be removed is a failed item then: a warning).
 */
int ob_drill_run(ob_agent *agent, const char *point_id, ob_progress *pg, ob_drill_failed_cb on_failed, void *payload);

/**
 * Compare the file at path with what a point records of it: its size, and the ids of
 * its chunks (chunk_count * 32 bytes), the file re-chunked with repo's chunker and each
 * chunk hashed with repo's id key. 0 when it matches; 1 when not, why saying how (the
 * size, the first byte of the first chunk that differs, a file that cannot be read);
 * < 0 only when out of memory.
 */
struct ob_repo;
int ob_drill_compare_file(char *why, size_t why_size, struct ob_repo *repo, const char *path, uint64_t size,
	const uint8_t *chunks, size_t chunk_count);

/**
 * Where a drill's result goes once its job has ended: the catalog's drill row (what
 * ob_drill_get reports). The one place the fleet report and notifications will hook
 * into (issue 17): failures here are ignored, the job's own record is the truth.
 */
void ob_drill_outcome(ob_agent *agent, const char *job_id, int state, int64_t end, const char *message);

/**
 * The scheduler's part: when the drill schedule has a time in (last run, now], start
 * ONE drill (a catch-up, not a burst) and remember the run first. *out the started
 * job or NULL; *out_next the next scheduled drill (0: none). A due drill that finds
 * another job running is recorded as a Failed drill job.
 */
int ob_drill_run_due(ob_job_info **out, int64_t *out_next, ob_agent *agent, int64_t now);

#endif
