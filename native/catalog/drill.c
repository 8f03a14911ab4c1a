/* Restore drills in the catalog (catalog/drill.h). */
#include "catalog/drill.h"
#include "catalog/statement.h"
#include "obagent/job.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

int ob_catalog_drill_get(ob_catalog_drill *out, ob_catalog *cat)
{
	sqlite3_stmt *st;
	int error, rc;

	memset(out, 0, sizeof(*out));
	if ((error = ob_catalog_prepare(&st, cat, "SELECT schedule, modified_at, last_run, last_job, last_state, last_end, "
		"last_message FROM drill WHERE id = 1", "Cannot read the drill settings")) < 0)
		return error;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL && !(out->schedule = ob_catalog_column_dup(st, 0)))
			error = ob_err_nomem();
		out->modified_at = sqlite3_column_int64(st, 1);
		out->last_run = sqlite3_column_int64(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL && !(out->last_job = ob_catalog_column_dup(st, 3)))
			error = ob_err_nomem();
		out->last_state = sqlite3_column_int(st, 4);
		out->last_end = sqlite3_column_int64(st, 5);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL && !(out->last_message = ob_catalog_column_dup(st, 6)))
			error = ob_err_nomem();
	} else if (rc != SQLITE_DONE) {
		error = ob_catalog_fail(cat, "Cannot read the drill settings");
	}
	sqlite3_finalize(st);
	if (error < 0)
		ob_catalog_drill_dispose(out);
	return error;
}

void ob_catalog_drill_dispose(ob_catalog_drill *d)
{
	free(d->schedule);
	free(d->last_job);
	free(d->last_message);
	memset(d, 0, sizeof(*d));
}

int ob_catalog_drill_schedule_set(ob_catalog *cat, const char *schedule, int64_t now)
{
	/* A new schedule runs only for times after it was set: last_run starts over. */
	return ob_catalog_run(NULL, cat, "Cannot save the drill schedule",
		"INSERT INTO drill (id, schedule, modified_at, last_run) VALUES (1, ?1, ?2, 0) "
		"ON CONFLICT (id) DO UPDATE SET schedule = ?1, modified_at = ?2, last_run = 0", "tI", schedule, now);
}

int ob_catalog_drill_last_run_set(ob_catalog *cat, int64_t t)
{
	return ob_catalog_run(NULL, cat, "Cannot save the drill schedule",
		"INSERT INTO drill (id, last_run) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET last_run = ?1", "I", t);
}

int ob_catalog_drill_outcome(ob_catalog *cat, const char *job_id, int state, int64_t end, const char *message)
{
	return ob_catalog_run(NULL, cat, "Cannot record the drill's outcome",
		"INSERT INTO drill (id, last_job, last_state, last_end, last_message) VALUES (1, ?1, ?2, ?3, ?4) "
		"ON CONFLICT (id) DO UPDATE SET last_job = ?1, last_state = ?2, last_end = ?3, last_message = ?4",
		"tiIt", job_id, state, end, message);
}

int ob_catalog_job_add_drill(ob_catalog *cat, const char *id, int64_t now, const char *datasources, const char *point)
{
	return ob_catalog_run(NULL, cat, "Cannot record the job", "INSERT INTO job (id, type, state, start_time, phase, "
		"datasources, recovery_point, params) VALUES (?1, ?2, 1, ?3, 'Initializing', ?4, ?5, ?5)",
		"tiItt", id, OB_JOB_DRILL, now, datasources, point);
}

int ob_catalog_drill_record_refused(ob_catalog *cat, const char *id, int64_t now, int error_code, const char *message)
{
	return ob_catalog_run(NULL, cat, "Cannot record the job", "INSERT INTO job (id, type, state, start_time, end_time, "
		"phase, error_code, error_message) VALUES (?1, ?2, 4, ?3, ?3, 'Job failed.', ?4, ?5)",
		"tiIit", id, OB_JOB_DRILL, now, error_code, message);
}
