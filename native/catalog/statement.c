/* Running one statement: prepare, bind, step, finalize, in one place for the topic files. */
#include "catalog/statement.h"
#include "util/error.h"
#include "util/util.h"

#include <stdarg.h>

static void bind_args(sqlite3_stmt *st, const char *binds, va_list ap)
{
	int i;

	for (i = 0; binds && binds[i]; i++) {
		switch (binds[i]) {
		case 't':
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		case 'i':
			sqlite3_bind_int(st, i + 1, va_arg(ap, int));
			break;
		case 'I':
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'b':
			sqlite3_bind_blob(st, i + 1, va_arg(ap, const uint8_t *), 32, SQLITE_STATIC);
			break;
		}
	}
}

void ob_catalog_bind(sqlite3_stmt *st, const char *binds, ...)
{
	va_list ap;

	va_start(ap, binds);
	bind_args(st, binds, ap);
	va_end(ap);
}

int ob_catalog_prepare(sqlite3_stmt **out, ob_catalog *cat, const char *sql, const char *what)
{
	if (sqlite3_prepare_v2(ob_catalog_db(cat), sql, -1, out, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, what);
	return 0;
}

int ob_catalog_run(int *out_changes, ob_catalog *cat, const char *what, const char *sql, const char *binds, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int error;

	if ((error = ob_catalog_prepare(&st, cat, sql, what)) < 0)
		return error;
	va_start(ap, binds);
	bind_args(st, binds, ap);
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ob_catalog_fail(cat, what);
	else if (out_changes)
		*out_changes = sqlite3_changes(ob_catalog_db(cat));
	sqlite3_finalize(st);
	return error;
}

char *ob_catalog_column_dup(sqlite3_stmt *st, int i)
{
	return ob_strdup((const char *)sqlite3_column_text(st, i));
}

int ob_catalog_db_end(sqlite3 *db, int error, const char *what)
{
	if (error < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return error;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "%s: %s.", what, sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return error;
}
