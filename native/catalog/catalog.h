/*
 * Internal: the agent's catalog, a SQLite database in the state folder, with
 * versioned schema migrations (docs/CATALOG.md). The vault is the truth; the
 * catalog holds what the agent needs to be fast and its local settings.
 */
#ifndef OB_NATIVE_CATALOG_H
#define OB_NATIVE_CATALOG_H

#include <stdint.h>

typedef struct ob_catalog ob_catalog;

/** The schema version this build writes. */
int ob_catalog_latest_version(void);

/** Open (creating) and migrate to the latest version. */
int ob_catalog_open(ob_catalog **out, const char *path);
/**
 * Open and migrate only up to target_version (tests use it to build an old
 * catalog). A catalog newer than this build knows is refused (OB_EINVALID).
 */
int ob_catalog_open_at(ob_catalog **out, const char *path, int target_version);
void ob_catalog_free(ob_catalog *cat);

/** The schema version of an open catalog. */
int ob_catalog_version(ob_catalog *cat);

/** Settings: small named strings. get: *out malloc'd, OB_ENOTFOUND when unset. */
int ob_catalog_setting_get(char **out, ob_catalog *cat, const char *name);
int ob_catalog_setting_set(ob_catalog *cat, const char *name, const char *value);
int ob_catalog_setting_delete(ob_catalog *cat, const char *name);

/** Start SQLite once per process (ob_init). */
void ob_catalog_init(void);

/**
 * A write transaction: begin takes the write lock now (BEGIN IMMEDIATE), so a
 * second writer waits here rather than failing half-way; commit makes it
 * durable. rollback reports nothing: the caller reports the failure that made
 * it roll back.
 */
int ob_catalog_begin(ob_catalog *cat);
int ob_catalog_commit(ob_catalog *cat);
void ob_catalog_rollback(ob_catalog *cat);


#endif
