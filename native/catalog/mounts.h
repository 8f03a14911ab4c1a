/*
 * Internal: the job rows of mounted recovery points (type OB_JOB_MOUNT, docs/MOUNT.md). A mount
 * is a job that runs beside the others: it never counts as "the job in progress" of the job
 * lock (catalog/joblock.h leaves it out). Its params hold where it is mounted; its
 * retain_until column holds when it expires.
 */
#ifndef OB_NATIVE_CATALOG_MOUNTS_H
#define OB_NATIVE_CATALOG_MOUNTS_H

#include "catalog/catalog.h"

#include <stdint.h>

/** Record a new mount job in progress. */
int ob_catalog_job_add_mount(ob_catalog *cat, const char *id, int64_t now, const char *datasources,
	const char *params, const char *point, int64_t expires);

/** Each mount job in progress, newest first: cb(id, params, payload); a nonzero result stops (and a negative is returned). */
int ob_catalog_mounts_in_progress(ob_catalog *cat, int (*cb)(const char *id, const char *params, void *payload),
	void *payload);

/** A mount job in progress becomes Failed (its process is gone), with phase "Job failed.". */
void ob_catalog_mount_fail(ob_catalog *cat, const char *id, int64_t now, int code, const char *message);

#endif
