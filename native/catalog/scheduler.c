/* The scheduler's queries (catalog/scheduler.h). */
#include "catalog/scheduler.h"
#include "catalog/statement.h"

#include <stddef.h>

int64_t ob_catalog_policy_modified_at(ob_catalog *cat, const char *kind)
{
	sqlite3_stmt *st;
	int64_t t = 0;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "SELECT modified_at FROM policy WHERE kind = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			t = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return t;
}

int ob_catalog_job_record_refused(ob_catalog *cat, const char *id, int64_t now, int error_code, const char *error_message)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "INSERT INTO job (id, type, state, start_time, end_time, phase, "
		"error_code, error_message) VALUES (?1, 1, 4, ?2, ?2, 'Job failed.', ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot record the job");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, error_code);
	sqlite3_bind_text(st, 4, error_message, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : ob_catalog_fail(cat, "Cannot record the job");
}
