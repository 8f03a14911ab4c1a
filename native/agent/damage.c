/* Blobs known to be damaged: recorded by tests and readers, stored again by backups. */
#include "agent/damage.h"
#include "util/env.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More damaged blobs than this: the whole file cache is forgotten (one scan per blob would cost more than reading). */
#define DAMAGE_SCAN_MAX 64

/* Blobs whose cached location is a damaged copy. */
#define UNHEALED_SQL "SELECT d.id FROM damaged_blob d JOIN chunk c ON c.id = d.id AND c.pack = d.pack"

int ob_damage_record(ob_agent *agent, const uint8_t id[32], int type, const uint8_t pack[32], const char *path,
	const char *problem)
{
	sqlite3 *db = ob_catalog_db(agent->cat);
	sqlite3_stmt *st = NULL;
	int64_t now = 0;
	int error = 0;

	ob_clock_now(&now);
	if (sqlite3_prepare_v2(db, "INSERT INTO damaged_blob (id, pack, type, found_at, problem) VALUES (?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT (id, pack) DO UPDATE SET problem = excluded.problem", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot record a damaged blob");
	sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, pack, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, type);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_text(st, 5, problem ? problem : "damaged", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ob_catalog_fail(agent->cat, "Cannot record a damaged blob");
	sqlite3_finalize(st);
	if (error < 0 || !path || !*path)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO damaged_item (id, path) VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot record a damaged blob");
	sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ob_catalog_fail(agent->cat, "Cannot record a damaged blob");
	sqlite3_finalize(st);
	return error;
}

int ob_damage_prepare_backup(ob_idset *out, ob_agent *agent)
{
	sqlite3 *db = ob_catalog_db(agent->cat);
	sqlite3_stmt *q = NULL, *del = NULL;
	ob_idset set = OB_IDSET_INIT;
	int rc, error = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db, UNHEALED_SQL, -1, &q, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot read the damaged blobs");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (sqlite3_column_bytes(q, 0) == 32 && ob_idset_add(&set, sqlite3_column_blob(q, 0)) < 0) {
			error = ob_err_nomem();
			break;
		}
	if (error == 0 && rc != SQLITE_DONE)
		error = ob_catalog_fail(agent->cat, "Cannot read the damaged blobs");
	sqlite3_finalize(q);
	if (error < 0 || set.count == 0)
		goto done;
	/* A file whose cached entry names a damaged blob is read again (its data is what heals the blob). */
	if (set.count > DAMAGE_SCAN_MAX) {
		error = ob_catalog_exec(agent->cat, "DELETE FROM file_cache");
		goto done;
	}
	if (sqlite3_prepare_v2(db, "DELETE FROM file_cache WHERE instr(entry, ?1) > 0", -1, &del, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(agent->cat, "Cannot update the file cache");
		goto done;
	}
	for (i = 0; i < set.cap && error == 0; i++) {
		if (!set.used[i])
			continue;
		sqlite3_reset(del);
		sqlite3_bind_blob(del, 1, set.ids[i], 32, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			error = ob_catalog_fail(agent->cat, "Cannot update the file cache");
	}
	sqlite3_finalize(del);
done:
	if (error < 0) {
		ob_idset_dispose(&set);
		return error;
	}
	*out = set;
	return 0;
}

int ob_damage_report_unhealed(uint64_t *out_count, ob_agent *agent,
	int (*cb)(const char *path, const char *reason, void *payload), void *payload)
{
	sqlite3 *db = ob_catalog_db(agent->cat);
	sqlite3_stmt *q = NULL;
	int rc, error = 0;

	*out_count = 0;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT i.path FROM damaged_item i JOIN (" UNHEALED_SQL ") u ON u.id = i.id "
		"WHERE i.reported = 0 ORDER BY i.path", -1, &q, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot read the damaged blobs");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && error == 0) {
		(*out_count)++;
		if (cb)
			error = cb((const char *)sqlite3_column_text(q, 0),
				"damaged in the vault and not healed: the source no longer has this data, so older recovery points "
				"cannot restore it (Test-OBRecoveryPoint names them)", payload);
	}
	if (error == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		error = ob_catalog_fail(agent->cat, "Cannot read the damaged blobs");
	sqlite3_finalize(q);
	if (error == 0 && *out_count)
		error = ob_catalog_exec(agent->cat, "UPDATE damaged_item SET reported = 1 WHERE reported = 0 AND id IN (" UNHEALED_SQL ")");
	return error;
}

int ob_damage_list(uint8_t (**out)[64], size_t *out_count, ob_agent *agent)
{
	sqlite3_stmt *q = NULL;
	uint8_t (*v)[64] = NULL;
	size_t n = 0, cap = 0;
	int rc, error = 0;

	*out = NULL;
	*out_count = 0;
	if (sqlite3_prepare_v2(ob_catalog_db(agent->cat), "SELECT id, pack FROM damaged_blob", -1, &q, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot read the damaged blobs");
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
		error = ob_catalog_fail(agent->cat, "Cannot read the damaged blobs");
	sqlite3_finalize(q);
	if (error < 0) {
		free(v);
		return error;
	}
	*out = v;
	*out_count = n;
	return 0;
}

int ob_damage_has(const uint8_t (*list)[64], size_t count, const uint8_t id[32], const uint8_t pack[32])
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!memcmp(list[i], id, 32) && !memcmp(list[i] + 32, pack, 32))
			return 1;
	return 0;
}
