/* The job records in the catalog. */
#include "catalog/jobs.h"
#include "catalog/statement.h"
#include "obagent/job.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_COLUMNS "id, type, state, start_time, end_time, phase, error_code, error_message, files_scanned, " \
	"files_done, files_failed, bytes_scanned, bytes_done, bytes_uploaded, datasource_id, datasources, " \
	"recovery_point, pid"

struct ob_catalog_failed_files {
	sqlite3_stmt *ins;
};

static void row_read(ob_catalog_job *j, sqlite3_stmt *st)
{
	j->id = (const char *)sqlite3_column_text(st, 0);
	j->type = sqlite3_column_int(st, 1);
	j->state = sqlite3_column_int(st, 2);
	j->start_time = sqlite3_column_int64(st, 3);
	j->end_time = sqlite3_column_int64(st, 4);
	j->phase = (const char *)sqlite3_column_text(st, 5);
	j->error_code = sqlite3_column_int(st, 6);
	j->error_message = (const char *)sqlite3_column_text(st, 7);
	j->files_scanned = sqlite3_column_int64(st, 8);
	j->files_done = sqlite3_column_int64(st, 9);
	j->files_failed = sqlite3_column_int64(st, 10);
	j->bytes_scanned = sqlite3_column_int64(st, 11);
	j->bytes_done = sqlite3_column_int64(st, 12);
	j->bytes_uploaded = sqlite3_column_int64(st, 13);
	j->datasource_id = sqlite3_column_int64(st, 14);
	j->datasources = (const char *)sqlite3_column_text(st, 15);
	j->recovery_point = (const char *)sqlite3_column_text(st, 16);
	j->pid = sqlite3_column_int64(st, 17);
}

int ob_catalog_job_get(ob_catalog *cat, const char *id, ob_catalog_job_cb cb, void *payload)
{
	sqlite3_stmt *st;
	char sql[512];
	int rc, error = 0;

	snprintf(sql, sizeof(sql), "SELECT " JOB_COLUMNS " FROM job WHERE %s ORDER BY start_time DESC LIMIT 1",
		id ? "id = ?1" : "state = 1 AND type <> 3");
	if ((error = ob_catalog_prepare(&st, cat, sql, "Cannot read the jobs")) < 0)
		return error;
	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ob_catalog_job j;
		row_read(&j, st);
		error = cb(&j, payload);
	} else if (rc == SQLITE_DONE) {
		error = OB_ENOTFOUND;
	} else {
		error = ob_catalog_fail(cat, "Cannot read the jobs");
	}
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_jobs_list(ob_catalog *cat, int filter, int64_t limit, ob_catalog_job_cb cb, void *payload)
{
	sqlite3_stmt *st;
	const char *where = filter == OB_JOB_FILTER_SUCCESSFUL ? "state IN (2, 3)"
			  : filter == OB_JOB_FILTER_FAILED ? "state IN (4, 5)" : "state <> 1";
	char sql[512];
	int error = 0;

	snprintf(sql, sizeof(sql), "SELECT " JOB_COLUMNS " FROM job WHERE %s ORDER BY start_time DESC, rowid DESC LIMIT ?1",
		where);
	if ((error = ob_catalog_prepare(&st, cat, sql, "Cannot read the jobs")) < 0)
		return error;
	sqlite3_bind_int64(st, 1, limit);
	while (error == 0 && sqlite3_step(st) == SQLITE_ROW) {
		ob_catalog_job j;
		row_read(&j, st);
		error = cb(&j, payload);
	}
	sqlite3_finalize(st);
	return error < 0 ? error : 0;
}

int ob_catalog_job_request_stop(int *out_changes, ob_catalog *cat, const char *id)
{
	return ob_catalog_run(out_changes, cat, "Cannot stop the job",
		"UPDATE job SET cancel_requested = 1 WHERE id = ?1 AND state = 1", "t", id);
}

int ob_catalog_job_failed_files(ob_catalog *cat, const char *id,
	int (*cb)(const char *path, const char *reason, void *payload), void *payload)
{
	sqlite3_stmt *st;
	int error;

	if ((error = ob_catalog_prepare(&st, cat, "SELECT path, reason FROM job_failed_file WHERE job_id = ?1 ORDER BY rowid",
		"Cannot read the job's failed files")) < 0)
		return error;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (error == 0 && sqlite3_step(st) == SQLITE_ROW)
		error = cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), payload);
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_job_add_backup(ob_catalog *cat, const char *id, int64_t now, const char *datasources,
	int64_t retain_until, const char *params)
{
	return ob_catalog_run(NULL, cat, "Cannot record the job", "INSERT INTO job (id, type, state, start_time, phase, "
		"datasources, retain_until, params) VALUES (?1, 1, 1, ?2, 'Initializing', ?3, ?4, ?5)", "tItIt",
		id, now, datasources, retain_until, params);
}

int ob_catalog_job_add_recovery(ob_catalog *cat, const char *id, int64_t now, const char *datasources,
	const char *params, const char *point)
{
	return ob_catalog_run(NULL, cat, "Cannot record the job", "INSERT INTO job (id, type, state, start_time, phase, "
		"datasources, params, recovery_point) VALUES (?1, 2, 1, ?2, 'Estimating size of backup items...', ?3, ?4, ?5)",
		"tIttt", id, now, datasources, params, point);
}

void ob_catalog_job_mark_failed(ob_catalog *cat, const char *id, int64_t now, int code, const char *message)
{
	sqlite3_stmt *up;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "UPDATE job SET state = 4, end_time = ?2, error_code = ?3, "
		"error_message = ?4 WHERE id = ?1", -1, &up, NULL) != SQLITE_OK)
		return;
	ob_catalog_bind(up, "tIit", id, now, code, message);
	sqlite3_step(up);
	sqlite3_finalize(up);
}

int ob_catalog_job_to_run(int *out_type, int64_t *out_retain_until, int *out_state, char **out_params,
	ob_catalog *cat, const char *id)
{
	sqlite3_stmt *st;
	const unsigned char *params;
	int error;

	*out_params = NULL;
	if ((error = ob_catalog_prepare(&st, cat, "SELECT type, retain_until, state, params FROM job WHERE id = ?1",
		"Cannot read the job")) < 0)
		return error;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return OB_ENOTFOUND;
	}
	*out_type = sqlite3_column_int(st, 0);
	*out_retain_until = sqlite3_column_int64(st, 1);
	*out_state = sqlite3_column_int(st, 2);
	if ((params = sqlite3_column_text(st, 3)))
		*out_params = strdup((const char *)params);
	sqlite3_finalize(st);
	return 0;
}

void ob_catalog_job_set_pid(ob_catalog *cat, const char *id, int64_t pid)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "UPDATE job SET pid = ?2 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return;
	ob_catalog_bind(st, "tI", id, pid);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

void ob_catalog_job_progress_save(int *out_cancel, ob_catalog *cat, const char *id, const ob_catalog_job_progress *p)
{
	sqlite3_stmt *st;

	*out_cancel = 0;
	/*
	 * The update runs to its end inside one sqlite3_step, and the read of the cancel flag is a
	 * statement of its own. The backup's syncer commits its transactions on this same connection
	 * from another thread; an UPDATE ... RETURNING would stay an active writer between its step
	 * and its finalize, and a COMMIT that lands there fails ("SQL statements in progress").
	 */
	if (sqlite3_prepare_v2(ob_catalog_db(cat), "UPDATE job SET files_scanned = ?2, files_done = ?3, files_failed = ?4, "
		"bytes_scanned = ?5, bytes_done = ?6, bytes_uploaded = ?7, datasource_id = ?8, phase = ?9 "
		"WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return;
	ob_catalog_bind(st, "tIIIIIIIt", id, p->files_scanned, p->files_done, p->files_failed, p->bytes_scanned,
		p->bytes_done, p->bytes_uploaded, p->datasource_id, p->phase);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(ob_catalog_db(cat), "SELECT cancel_requested FROM job WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return;
	ob_catalog_bind(st, "t", id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0))
		*out_cancel = 1;
	sqlite3_finalize(st);
}

void ob_catalog_job_finish(ob_catalog *cat, const char *id, int state, int64_t now, int code, const char *message,
	const char *point, const char *phase, int64_t files_failed)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "UPDATE job SET state = ?2, end_time = ?3, error_code = ?4, error_message = ?5, "
		"recovery_point = COALESCE(?6, recovery_point), phase = ?7, files_failed = ?8 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return;
	ob_catalog_bind(st, "tiIitttI", id, state, now, code, message, point, phase, files_failed);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

ob_catalog_failed_files *ob_catalog_failed_files_open(ob_catalog *cat, const char *job_id)
{
	ob_catalog_failed_files *ff = calloc(1, sizeof(*ff));

	if (!ff)
		return NULL;
	sqlite3_prepare_v2(ob_catalog_db(cat), "INSERT INTO job_failed_file (job_id, path, reason) VALUES (?1, ?2, ?3)", -1,
		&ff->ins, NULL);
	if (!ff->ins) {
		free(ff);
		return NULL;
	}
	sqlite3_bind_text(ff->ins, 1, job_id, -1, SQLITE_TRANSIENT);
	return ff;
}

void ob_catalog_failed_files_add(ob_catalog_failed_files *ff, const char *path, const char *reason)
{
	sqlite3_reset(ff->ins);
	sqlite3_bind_text(ff->ins, 2, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ff->ins, 3, reason, -1, SQLITE_TRANSIENT);
	sqlite3_step(ff->ins);
}

void ob_catalog_failed_files_free(ob_catalog_failed_files *ff)
{
	if (!ff)
		return;
	sqlite3_finalize(ff->ins);
	free(ff);
}
