/*
 * Internal: what restore drills keep in the catalog (table drill, migration 8):
 * their schedule, the last scheduled run, the last drill's outcome; and the
 * drill job's record (jobs/drill.c says what a drill does).
 */
#ifndef OB_NATIVE_CATALOG_DRILL_H
#define OB_NATIVE_CATALOG_DRILL_H

#include "catalog/catalog.h"

#include <stdint.h>

/** The drill row as read (strings malloc'd, NULL when unset; all zero/NULL when there is no row). */
typedef struct ob_catalog_drill {
	char *schedule;          /* ob_schedule_to_string text, NULL: no schedule */
	int64_t modified_at;     /* when the schedule was set */
	int64_t last_run;        /* when the service last started a scheduled drill */
	char *last_job;
	int last_state;
	int64_t last_end;
	char *last_message;
} ob_catalog_drill;

int ob_catalog_drill_get(ob_catalog_drill *out, ob_catalog *cat);
void ob_catalog_drill_dispose(ob_catalog_drill *d);
/** Set (schedule text) or remove (NULL) the drill schedule, at now. */
int ob_catalog_drill_schedule_set(ob_catalog *cat, const char *schedule, int64_t now);
/** Remember that the service started a scheduled drill at t (before it starts it). */
int ob_catalog_drill_last_run_set(ob_catalog *cat, int64_t t);
/** The outcome of a drill job that ended. */
int ob_catalog_drill_outcome(ob_catalog *cat, const char *job_id, int state, int64_t end, const char *message);
/** Record a new drill job (type 4) in progress, on point. */
int ob_catalog_job_add_drill(ob_catalog *cat, const char *id, int64_t now, const char *datasources, const char *point);
/** A scheduled drill that could not start (another job in progress) is a failed drill job in the history. */
int ob_catalog_drill_record_refused(ob_catalog *cat, const char *id, int64_t now, int error_code, const char *message);

#endif
