/*
 * Internal: mount jobs (docs/MOUNT.md, docs/JOBS.md "The mount job"). A mount runs beside the
 * server's one-at-a-time job: it holds a lock of its own, <state>/mounts/<job id>.lock, for as
 * long as its worker serves the file system, and a mount recorded InProgress whose lock is free
 * had its worker die: it is marked Failed and its stale mount point unmounted (ob_mount_reap).
 */
#ifndef OB_NATIVE_JOBS_MOUNT_H
#define OB_NATIVE_JOBS_MOUNT_H

#include "obagent/recovery.h"
#include "agent/agent_internal.h"
#include "restore/restore.h"

/** Mount jobs whose worker is gone: Failed, and their mount points unmounted. Never fails. */
void ob_mount_reap(ob_agent *agent);

/** Take a mount job's own lock (a worker started by hand), or OB_ELOCKED. */
int ob_mount_lock_try(int *out_fd, ob_agent *agent, const char *job_id);

/**
 * The worker's body: mount, serve until stopped (pg->cancel), unmounted from outside or expired,
 * then unmount. 0 when it was dismounted so; damaged items read meanwhile go to on_failed.
 */
int ob_mount_job_run(ob_agent *agent, const char *job_id, const char *params, int key_fd, ob_restore_progress *pg,
	ob_restore_failed_cb on_failed, void *payload);

/** jobs.c's worker start (the `obagent run-job` process), for the mount's starter. */
int ob_jobs_spawn_worker(ob_agent *agent, const char *job_id, int lock_fd, int key_fd);

#endif
