/*
 * Internal to catalog/: the SQLite handle and running one statement. The topic
 * files (catalog/<topic>.c) share this instead of each pasting prepare, bind,
 * step and finalize. Nothing outside catalog/ includes it (tests/support/layers.sh
 * checks): the rest of the engine asks the catalog's topic functions, never SQL.
 * White-box tests may include it to look at or forge rows.
 */
#ifndef OB_NATIVE_CATALOG_STATEMENT_H
#define OB_NATIVE_CATALOG_STATEMENT_H

#include "catalog/catalog.h"

#include <sqlite3.h>

#include <stdint.h>

/*
 * The columns of file_cache and of file_cache_stage, which must stay alike: a
 * first backup turns the staged table into the file cache by renaming it.
 */
#define FILE_CACHE_COLUMNS \
	"datasource_id INTEGER NOT NULL, dir TEXT NOT NULL, name TEXT NOT NULL," \
	" size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL," \
	" inode INTEGER NOT NULL, entry BLOB NOT NULL," \
	" PRIMARY KEY (datasource_id, dir, name)"


/** The open database (only catalog/ and white-box tests use it). */
sqlite3 *ob_catalog_db(ob_catalog *cat);
/** Run SQL with no result rows. */
int ob_catalog_exec(ob_catalog *cat, const char *sql);
/** Report a SQLite failure as an error (with SQLite's code and message). */
int ob_catalog_fail(ob_catalog *cat, const char *what);

/**
 * End a transaction begun on db: ROLLBACK when error < 0 (and return error), else
 * COMMIT. A COMMIT that fails is reported with what and rolled back: SQLite stays
 * inside the transaction after a failed COMMIT, and whatever this connection ran
 * next (the job's end, recorded by the same process) would join a transaction
 * that is never committed.
 */
int ob_catalog_db_end(sqlite3 *db, int error, const char *what);

/*
 * Prepare sql, bind the arguments that follow as binds describes them (one
 * letter each, for ?1, ?2, ...: 't' const char * (NULL binds NULL), 'i' int,
 * 'I' int64_t, 'b' const uint8_t * of 32 bytes), step it once and finalize it.
 * A statement that fails to prepare or to run is reported with what
 * (ob_catalog_fail). *out_changes (may be NULL): the rows it changed.
 */
int ob_catalog_run(int *out_changes, ob_catalog *cat, const char *what, const char *sql, const char *binds, ...);

/* The same binding for a statement the caller prepared and steps (reset first). */
void ob_catalog_bind(sqlite3_stmt *st, const char *binds, ...);

/* Prepare sql on cat; a failure is reported with what (ob_catalog_fail). */
int ob_catalog_prepare(sqlite3_stmt **out, ob_catalog *cat, const char *sql, const char *what);

/* A column's text, copied (NULL when out of memory). */
char *ob_catalog_column_dup(sqlite3_stmt *st, int i);

#endif
