/*
 * Internal: what happens once a job's end is in the catalog. One call, from every place a
 * job ends (the worker, a start that failed after the job was recorded), so that whatever
 * reports a job's end (the vault's job summaries, the notifications) reads the finished
 * row and never a half-written one. Jobs whose process died are marked by reaping; the
 * service's step sweeps those (they have no process left to call this).
 */
#ifndef OB_NATIVE_JOBS_ENDED_H
#define OB_NATIVE_JOBS_ENDED_H

#include "obagent/agent.h"

/** The job job_id has ended and its row says how. Never fails the job: errors are cleared. */
void ob_jobs_ended(ob_agent *agent, const char *job_id);

#endif
