/*
 * Internal: what the job lock (agent/lock.c) reads and writes of the job table:
 * whether a job is recorded in progress, and marking such jobs failed when the
 * lock shows their process is gone.
 */
#ifndef OB_NATIVE_CATALOG_JOBLOCK_H
#define OB_NATIVE_CATALOG_JOBLOCK_H

#include "catalog/catalog.h"

/**
 * 1 when a job is recorded in progress (the newest such: *out_id, malloc'd, when
 * out_id is not NULL, and *out_start_time when that is not NULL), 0 when none,
 * < 0 when the catalog cannot be read (recorded) or OB_ENOMEM.
 */
int ob_catalog_job_in_progress(ob_catalog *cat, char **out_id, int64_t *out_start_time);

/** Mark every job recorded in progress failed at now, with error_code and error_message. */
int ob_catalog_jobs_fail_in_progress(ob_catalog *cat, int64_t now, int error_code, const char *error_message);

#endif
