/*
 * Internal: what the scheduler's step (jobs/scheduler.c) reads and writes of
 * the catalog besides settings: when a policy was committed, and the record of
 * a due run that could not start.
 */
#ifndef OB_NATIVE_CATALOG_SCHEDULER_H
#define OB_NATIVE_CATALOG_SCHEDULER_H

#include "catalog/catalog.h"

/** When the policy of a kind was last committed (modified_at); 0 when there is none or it cannot be read. */
int64_t ob_catalog_policy_modified_at(ob_catalog *cat, const char *kind);

/**
 * Record a backup job (id: a new GUID) that failed at now before it started,
 * with error_code and error_message: a due run that could not start is still a
 * job in the history.
 */
int ob_catalog_job_record_refused(ob_catalog *cat, const char *id, int64_t now, int error_code, const char *error_message);

#endif
