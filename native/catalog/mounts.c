/* The job rows of mounted recovery points (catalog/mounts.h). */
#include "catalog/mounts.h"
#include "catalog/statement.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

int ob_catalog_job_add_mount(ob_catalog *cat, const char *id, int64_t now, const char *datasources,
	const char *params, const char *point, int64_t expires)
{
	return ob_catalog_run(NULL, cat, "Cannot record the job", "INSERT INTO job (id, type, state, start_time, phase, "
		"datasources, params, recovery_point, retain_until) VALUES (?1, 3, 1, ?2, 'Mounting the recovery volume...', "
		"?3, ?4, ?5, ?6)", "tItttI", id, now, datasources, params, point, expires);
}

int ob_catalog_mounts_in_progress(ob_catalog *cat, int (*cb)(const char *id, const char *params, void *payload),
	void *payload)
{
	sqlite3_stmt *st;
	char **ids = NULL, **params = NULL;
	size_t n = 0, cap = 0, i;
	int rc, error = 0;

	/* Read them all first: the callback may write to the table. */
	if (sqlite3_prepare_v2(ob_catalog_db(cat), "SELECT id, params FROM job WHERE state = 1 AND type = 3 "
		"ORDER BY start_time DESC", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot read the jobs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0), *p = (const char *)sqlite3_column_text(st, 1);
		if (n == cap) {
			size_t c = cap ? cap * 2 : 8;
			char **a = realloc(ids, c * sizeof(*a)), **b = a ? realloc(params, c * sizeof(*b)) : NULL;
			if (a)
				ids = a;
			if (b)
				params = b;
			if (!a || !b) {
				error = ob_err_nomem();
				break;
			}
			cap = c;
		}
		ids[n] = strdup(id ? id : "");
		params[n] = strdup(p ? p : "");
		n++;
		if (!ids[n - 1] || !params[n - 1]) {
			error = ob_err_nomem();
			break;
		}
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot read the jobs");
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		if (error == 0) {
			int r = cb(ids[i], params[i], payload);
			if (r < 0)
				error = r;
			else if (r > 0)
				error = 1;
		}
		free(ids[i]);
		free(params[i]);
	}
	free(ids);
	free(params);
	return error < 0 ? error : 0;
}

void ob_catalog_mount_fail(ob_catalog *cat, const char *id, int64_t now, int code, const char *message)
{
	ob_catalog_run(NULL, cat, "Cannot update the job", "UPDATE job SET state = 4, end_time = ?2, error_code = ?3, "
		"error_message = ?4, phase = 'Job failed.' WHERE id = ?1 AND state = 1", "tIit", id, now, code, message);
	ob_error_clear();
}
