/* The job table as the job lock sees it (catalog/joblock.h). */
#include "catalog/joblock.h"
#include "catalog/statement.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

int ob_catalog_job_in_progress(ob_catalog *cat, char **out_id, int64_t *out_start_time)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (out_id)
		*out_id = NULL;
	if (sqlite3_prepare_v2(ob_catalog_db(cat), "SELECT id, start_time FROM job WHERE state = 1 AND type <> 3 "
		"ORDER BY start_time DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot read the jobs");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = 1;
		if (out_start_time)
			*out_start_time = sqlite3_column_int64(st, 1);
		if (out_id && !(*out_id = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "")))
			found = ob_err_nomem();
	} else if (rc != SQLITE_DONE) {
		found = ob_catalog_fail(cat, "Cannot read the jobs");
	}
	sqlite3_finalize(st);
	return found;
}

int ob_catalog_jobs_fail_in_progress(ob_catalog *cat, int64_t now, int error_code, const char *error_message)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "UPDATE job SET state = 4, end_time = ?1, error_code = ?2, "
		"error_message = ?3, phase = 'Job failed.' WHERE state = 1 AND type <> 3", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot update the jobs");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, error_code);
	sqlite3_bind_text(st, 3, error_message, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : ob_catalog_fail(cat, "Cannot update the jobs");
}
