/* Blobs known to be damaged, in the catalog: recorded by tests and readers, stored again by backups. */
#include "catalog/damage.h"
#include "catalog/statement.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

/* Blobs whose cached location is a damaged copy. */
#define UNHEALED_SQL "SELECT d.id FROM damaged_blob d JOIN chunk c ON c.id = d.id AND c.pack = d.pack"

int ob_catalog_damage_record(ob_catalog *cat, const uint8_t id[32], int type, const uint8_t pack[32], const char *path,
	const char *problem, int64_t now)
{
	int error;

	if ((error = ob_catalog_run(NULL, cat, "Cannot record a damaged blob",
		"INSERT INTO damaged_blob (id, pack, type, found_at, problem) VALUES (?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT (id, pack) DO UPDATE SET problem = excluded.problem",
		"bbiIt", id, pack, type, now, problem ? problem : "damaged")) < 0 || !path || !*path)
		return error;
	return ob_catalog_run(NULL, cat, "Cannot record a damaged blob",
		"INSERT OR IGNORE INTO damaged_item (id, path) VALUES (?1, ?2)", "bt", id, path);
}

int ob_catalog_damage_unhealed(ob_idset *set, ob_catalog *cat)
{
	sqlite3_stmt *q = NULL;
	int rc, error;

	if ((error = ob_catalog_prepare(&q, cat, UNHEALED_SQL, "Cannot read the damaged blobs")) < 0)
		return error;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (sqlite3_column_bytes(q, 0) == 32 && ob_idset_add(set, sqlite3_column_blob(q, 0)) < 0) {
			error = ob_err_nomem();
			break;
		}
	if (error == 0 && rc != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot read the damaged blobs");
	sqlite3_finalize(q);
	return error;
}

int ob_catalog_file_cache_forget_all(ob_catalog *cat)
{
	return ob_catalog_exec(cat, "DELETE FROM file_cache");
}

int ob_catalog_file_cache_forget_blobs(ob_catalog *cat, const ob_idset *set)
{
	sqlite3_stmt *del = NULL;
	size_t i;
	int error;

	if ((error = ob_catalog_prepare(&del, cat, "DELETE FROM file_cache WHERE instr(entry, ?1) > 0",
		"Cannot update the file cache")) < 0)
		return error;
	for (i = 0; i < set->cap && error == 0; i++) {
		if (!set->used[i])
			continue;
		sqlite3_reset(del);
		sqlite3_bind_blob(del, 1, set->ids[i], 32, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			error = ob_catalog_fail(cat, "Cannot update the file cache");
	}
	sqlite3_finalize(del);
	return error;
}

int ob_catalog_damage_report_unhealed(uint64_t *out_count, ob_catalog *cat,
	int (*cb)(const char *path, void *payload), void *payload)
{
	sqlite3_stmt *q = NULL;
	int rc, error;

	*out_count = 0;
	if ((error = ob_catalog_prepare(&q, cat, "SELECT DISTINCT i.path FROM damaged_item i JOIN (" UNHEALED_SQL ") u "
		"ON u.id = i.id WHERE i.reported = 0 ORDER BY i.path", "Cannot read the damaged blobs")) < 0)
		return error;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && error == 0) {
		(*out_count)++;
		if (cb)
			error = cb((const char *)sqlite3_column_text(q, 0), payload);
	}
	if (error == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		error = ob_catalog_fail(cat, "Cannot read the damaged blobs");
	sqlite3_finalize(q);
	if (error == 0 && *out_count)
		error = ob_catalog_exec(cat, "UPDATE damaged_item SET reported = 1 WHERE reported = 0 AND id IN (" UNHEALED_SQL ")");
	return error;
}

int ob_catalog_damage_list(uint8_t (**out)[64], size_t *out_count, ob_catalog *cat)
{
	sqlite3_stmt *q = NULL;
	uint8_t (*v)[64] = NULL;
	size_t n = 0, cap = 0;
	int rc, error;

	*out = NULL;
	*out_count = 0;
	if ((error = ob_catalog_prepare(&q, cat, "SELECT id, pack FROM damaged_blob", "Cannot read the damaged blobs")) < 0)
		return error;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 0) != 32 || sqlite3_column_bytes(q, 1) != 32)
			continue;
		if (n == cap) {
			uint8_t (*bigger)[64] = realloc(v, (cap = cap ? cap * 2 : 16) * 64);
			if (!bigger) {
				error = ob_err_nomem();
				break;
			}
			v = bigger;
		}
		memcpy(v[n], sqlite3_column_blob(q, 0), 32);
		memcpy(v[n++] + 32, sqlite3_column_blob(q, 1), 32);
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot read the damaged blobs");
	sqlite3_finalize(q);
	if (error < 0) {
		free(v);
		return error;
	}
	*out = v;
	*out_count = n;
	return 0;
}
