/*
 * Internal to catalog/: running one statement. The topic files (catalog/<topic>.c)
 * share this instead of each pasting prepare, bind, step and finalize; nothing
 * outside catalog/ includes it.
 */
#ifndef OB_NATIVE_CATALOG_STATEMENT_H
#define OB_NATIVE_CATALOG_STATEMENT_H

#include "catalog/catalog.h"

#include <stdint.h>

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
