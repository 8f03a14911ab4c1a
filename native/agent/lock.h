/*
 * Internal: this server's job lock, one job at a time (a backup, a recovery,
 * vault maintenance). The lock is a file in the agent's home held with an
 * exclusive lock (platform/platform.h); a job's worker holds it until it has
 * recorded the job's end. Jobs (jobs/) and maintenance (maintenance/) use it.
 */
#ifndef OB_NATIVE_AGENT_LOCK_H
#define OB_NATIVE_AGENT_LOCK_H

#include "agent/agent_internal.h"

/** The lock file's path (malloc'd; NULL when out of memory). */
char *ob_job_lock_path(ob_agent *agent);

/**
 * A job recorded InProgress whose process is gone (killed, crashed, machine
 * restarted: the lock is free) is marked Failed, so that it never blocks or lies.
 * Never fails: what cannot be read is left for the next look.
 */
void ob_job_lock_reap(ob_agent *agent);

/** Take this server's job lock (*out_fd holds it; close to release), or OB_ELOCKED naming the job that holds it. */
int ob_job_lock_take(int *out_fd, ob_agent *agent);

/** Take the lock without waiting and without reaping (a worker started by hand), or OB_ELOCKED naming the job. */
int ob_job_lock_try(int *out_fd, ob_agent *agent);

#endif
