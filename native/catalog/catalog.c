/* The agent's catalog: SQLite, versioned migrations, settings. */
#include "catalog/catalog.h"
#include "catalog/statement.h"
#include "util/error.h"
#include "util/util.h"
#include "platform/file.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ob_catalog {
	sqlite3 *db;
	char *path;
};

/*
 * Migrations, in order: migrations[i] takes the schema from version i to i + 1.
 * Never edit a published one; add a new one at the end.
 */
static const char *const migrations[] = {
	/* 1: registration and machine settings */
	"CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE registration ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  vault_id TEXT NOT NULL, vault_name TEXT NOT NULL, vault_location TEXT NOT NULL,"
	"  storage_type TEXT NOT NULL, server_id TEXT NOT NULL, server_name TEXT NOT NULL,"
	"  credentials_sequence INTEGER NOT NULL, registered_at INTEGER NOT NULL);",
	/* 2: the encryption state of this server (the key itself is in secrets/) */
	"CREATE TABLE encryption ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  vault_id TEXT NOT NULL, server_id TEXT NOT NULL,"
	"  key_sequence INTEGER NOT NULL, set_at INTEGER NOT NULL);",
	/* 3: policies (file/folder now, System State later), data sources, file specs */
	"CREATE TABLE policy ("
	"  kind TEXT PRIMARY KEY CHECK (kind IN ('FileFolder', 'SystemState')),"
	"  name TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
	"  schedule TEXT, retention TEXT,"
	"  created_at INTEGER NOT NULL, modified_at INTEGER NOT NULL);"
	"CREATE TABLE datasource ("
	"  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,"
	"  UNIQUE (kind, name));"
	"CREATE TABLE filespec ("
	"  id INTEGER PRIMARY KEY, datasource_id INTEGER NOT NULL REFERENCES datasource (id),"
	"  position INTEGER NOT NULL, spec TEXT NOT NULL,"
	"  is_exclude INTEGER NOT NULL, is_recursive INTEGER NOT NULL);"
	"CREATE INDEX filespec_by_datasource ON filespec (datasource_id, position);"
	"CREATE TABLE policy_removal ("
	"  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, policy_name TEXT NOT NULL,"
	"  delete_backup INTEGER NOT NULL, requested_at INTEGER NOT NULL, done_at INTEGER);",
	/* 4: jobs, and the caches that make backups fast (all rebuildable from the vault) */
	"CREATE TABLE job ("
	"  id TEXT PRIMARY KEY, type INTEGER NOT NULL, state INTEGER NOT NULL,"
	"  start_time INTEGER NOT NULL, end_time INTEGER NOT NULL DEFAULT 0,"
	"  phase TEXT, error_code INTEGER NOT NULL DEFAULT 0, error_message TEXT,"
	"  files_scanned INTEGER NOT NULL DEFAULT 0, files_done INTEGER NOT NULL DEFAULT 0,"
	"  files_failed INTEGER NOT NULL DEFAULT 0, bytes_scanned INTEGER NOT NULL DEFAULT 0,"
	"  bytes_done INTEGER NOT NULL DEFAULT 0, bytes_uploaded INTEGER NOT NULL DEFAULT 0,"
	"  datasource_id INTEGER NOT NULL DEFAULT 0, datasources TEXT, recovery_point TEXT,"
	"  pid INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  retain_until INTEGER NOT NULL DEFAULT 0, params TEXT);"
	"CREATE INDEX job_by_start ON job (start_time);"
	"CREATE TABLE job_failed_file (job_id TEXT NOT NULL, path TEXT NOT NULL, reason TEXT NOT NULL);"
	"CREATE INDEX job_failed_file_by_job ON job_failed_file (job_id);"
	"CREATE TABLE chunk ("
	"  id BLOB PRIMARY KEY, type INTEGER NOT NULL, pack BLOB NOT NULL,"
	"  offset INTEGER NOT NULL, length INTEGER NOT NULL, raw_length INTEGER NOT NULL,"
	"  indexed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX chunk_unindexed ON chunk (indexed) WHERE indexed = 0;"
	"CREATE TABLE file_cache ("
	"  datasource_id INTEGER NOT NULL, dir TEXT NOT NULL, name TEXT NOT NULL,"
	"  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
	"  inode INTEGER NOT NULL, entry BLOB NOT NULL,"
	"  PRIMARY KEY (datasource_id, dir, name)) WITHOUT ROWID;",
	/* 5: file cache rows of the backup in progress, moved into file_cache when its point is committed */
	"CREATE TABLE file_cache_stage (" FILE_CACHE_COLUMNS ") WITHOUT ROWID;",
	/* 6: blobs found damaged in the vault (which copy, when, what), and the items a test found needing them */
	"CREATE TABLE damaged_blob ("
	"  id BLOB NOT NULL, pack BLOB NOT NULL, type INTEGER NOT NULL,"
	"  found_at INTEGER NOT NULL, problem TEXT NOT NULL,"
	"  PRIMARY KEY (id, pack)) WITHOUT ROWID;"
	"CREATE TABLE damaged_item ("
	"  id BLOB NOT NULL, path TEXT NOT NULL, reported INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (id, path)) WITHOUT ROWID;",
	/* 7: the retention rules a policy removed with pruning leaves behind (Remove-OBPolicy -EnablePruning) */
	"CREATE TABLE pruning ("
	"  kind TEXT PRIMARY KEY CHECK (kind IN ('FileFolder', 'SystemState')),"
	"  policy_name TEXT NOT NULL, retention TEXT NOT NULL,"
	"  removed_at INTEGER NOT NULL, last_pass INTEGER NOT NULL DEFAULT 0);"
	"ALTER TABLE policy_removal ADD COLUMN enable_pruning INTEGER NOT NULL DEFAULT 0;",
	/* 8: restore drills: their schedule (Set-OBRecoveryDrill), the last scheduled run, the last drill's outcome */
	"CREATE TABLE drill ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  schedule TEXT, modified_at INTEGER NOT NULL DEFAULT 0, last_run INTEGER NOT NULL DEFAULT 0,"
	"  last_job TEXT, last_state INTEGER NOT NULL DEFAULT 0, last_end INTEGER NOT NULL DEFAULT 0,"
	"  last_message TEXT);",
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

int ob_catalog_latest_version(void)
{
	return MIGRATION_COUNT;
}

int ob_catalog_fail(ob_catalog *cat, const char *what)
{
	int rc = sqlite3_extended_errcode(cat->db);
	int code = OB_ERROR;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = OB_ELOCKED;
		break;
	case SQLITE_FULL:
		code = OB_ENOSPC;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = OB_ECORRUPT;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		code = OB_EACCESS;
		break;
	case SQLITE_IOERR:
		code = OB_EIO;
		break;
	case SQLITE_NOMEM:
		code = OB_ENOMEM;
		break;
	}
	return ob_err(code, OB_ERRCLASS_CATALOG, "%s: catalog '%s': %s (SQLite %d).", what,
		cat->path ? cat->path : "", sqlite3_errmsg(cat->db), rc);
}

int ob_catalog_exec(ob_catalog *cat, const char *sql)
{
	if (sqlite3_exec(cat->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Catalog update failed");
	return 0;
}

void ob_catalog_init(void)
{
	sqlite3_initialize();
}

int ob_catalog_begin(ob_catalog *cat)
{
	return ob_catalog_exec(cat, "BEGIN IMMEDIATE");
}

int ob_catalog_commit(ob_catalog *cat)
{
	int error = ob_catalog_exec(cat, "COMMIT");

	/* A COMMIT that fails leaves SQLite inside the transaction: end it, so that nothing joins it later. */
	if (error < 0)
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	return error;
}

void ob_catalog_rollback(ob_catalog *cat)
{
	sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
}

int ob_catalog_version(ob_catalog *cat)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(cat->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot read the catalog version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v < 0 ? ob_catalog_fail(cat, "Cannot read the catalog version") : v;
}

static int migrate(ob_catalog *cat, int target)
{
	int version, error = 0;
	char sql[64];

	/* One writer migrates; others wait on the lock, then see the new version. */
	if ((error = ob_catalog_exec(cat, "BEGIN IMMEDIATE")) < 0)
		return error;
	if ((version = ob_catalog_version(cat)) < 0) {
		error = version;
		goto done;
	}
	if (version > MIGRATION_COUNT) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_CATALOG,
			"The catalog '%s' has schema version %d, newer than this obagent knows (%d). Update obagent.",
			cat->path, version, MIGRATION_COUNT);
		goto done;
	}
	for (; version < target; version++) {
		if ((error = ob_catalog_exec(cat, migrations[version])) < 0)
			goto done;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((error = ob_catalog_exec(cat, sql)) < 0)
			goto done;
	}
done:
	if (error < 0) {
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		return error;
	}
	return ob_catalog_exec(cat, "COMMIT");
}

int ob_catalog_open_at(ob_catalog **out, const char *path, int target_version)
{
	ob_catalog *cat;
	int rc, error, fresh;

	*out = NULL;
	if (target_version < 0 || target_version > MIGRATION_COUNT)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CATALOG, "No catalog schema version %d.", target_version);
	if (!(cat = calloc(1, sizeof(*cat))) || !(cat->path = ob_strdup(path))) {
		free(cat);
		return ob_err_nomem();
	}
	fresh = !ob_platform_exists(path);
	rc = sqlite3_open_v2(path, &cat->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		error = cat->db ? ob_catalog_fail(cat, "Cannot open the catalog")
				: ob_err(OB_ENOMEM, OB_ERRCLASS_CATALOG, "Cannot open the catalog: out of memory.");
		goto fail;
	}
	ob_file_chmod(path, 0600);
	sqlite3_busy_timeout(cat->db, 30000);
	/*
	 * FULL: a commit is on the disk when it returns (the WAL is synced at each
	 * commit, not only at checkpoints), so a power loss cannot take back what the
	 * agent recorded, such as the vault generation its caches were checked at
	 * (docs/CATALOG.md, "Durability").
	 */
	if ((error = ob_catalog_exec(cat, "PRAGMA journal_mode = WAL")) < 0 ||
	    (error = ob_catalog_exec(cat, "PRAGMA synchronous = FULL")) < 0 ||
	    (error = ob_catalog_exec(cat, "PRAGMA foreign_keys = ON")) < 0)
		goto fail;
	if ((error = migrate(cat, target_version)) < 0)
		goto fail;
	/* A new catalog's files are durable once the state folder's entries for them are. */
	if (fresh && (error = ob_platform_sync_parent(path)) < 0)
		goto fail;
	*out = cat;
	return 0;
fail:
	ob_catalog_free(cat);
	return error;
}

int ob_catalog_open(ob_catalog **out, const char *path)
{
	return ob_catalog_open_at(out, path, MIGRATION_COUNT);
}

void ob_catalog_free(ob_catalog *cat)
{
	if (!cat)
		return;
	if (cat->db)
		sqlite3_close_v2(cat->db);
	free(cat->path);
	free(cat);
}

sqlite3 *ob_catalog_db(ob_catalog *cat)
{
	return cat->db;
}

int ob_catalog_setting_get(char **out, ob_catalog *cat, const char *name)
{
	sqlite3_stmt *st;
	int rc, error = 0;

	*out = NULL;
	if (sqlite3_prepare_v2(cat->db, "SELECT value FROM settings WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot read a setting");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (!(*out = ob_strdup((const char *)sqlite3_column_text(st, 0))))
			error = OB_ENOMEM;
	} else if (rc == SQLITE_DONE) {
		error = OB_ENOTFOUND;
	} else {
		error = ob_catalog_fail(cat, "Cannot read a setting");
	}
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_setting_set(ob_catalog *cat, const char *name, const char *value)
{
	sqlite3_stmt *st;
	int error = 0;

	if (sqlite3_prepare_v2(cat->db, "INSERT INTO settings (name, value) VALUES (?1, ?2) "
		"ON CONFLICT (name) DO UPDATE SET value = excluded.value", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot save a setting");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot save a setting");
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_setting_delete(ob_catalog *cat, const char *name)
{
	sqlite3_stmt *st;
	int error = 0;

	if (sqlite3_prepare_v2(cat->db, "DELETE FROM settings WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot remove a setting");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot remove a setting");
	sqlite3_finalize(st);
	return error;
}
