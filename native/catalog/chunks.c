/* The chunk cache in the catalog: filling it from index objects, lookups, and the checks against the vault. */
#include "catalog/chunks.h"
#include "catalog/statement.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

struct ob_catalog_chunk_fill {
	ob_catalog *cat;
	sqlite3_stmt *ins;
};

struct ob_catalog_chunk_query {
	sqlite3_stmt *q;
};

struct ob_catalog_chunk_probe {
	sqlite3_stmt *has;
};

int ob_catalog_chunk_fill_open(ob_catalog_chunk_fill **out, ob_catalog *cat)
{
	ob_catalog_chunk_fill *f;
	int error;

	*out = NULL;
	if (!(f = calloc(1, sizeof(*f))))
		return ob_err_nomem();
	f->cat = cat;
	/*
	 * Where the index says a blob is wins (maintenance may have moved it to another pack),
	 * but a copy known damaged never replaces a sound one: a blob the index names twice
	 * (a damaged copy, and the one a backup stored again) keeps the sound copy (the upsert in catalog/backup.c).
	 */
#define CACHED_DAMAGED "EXISTS (SELECT 1 FROM damaged_blob d WHERE d.id = chunk.id AND d.pack = chunk.pack)"
#define NEW_DAMAGED "EXISTS (SELECT 1 FROM damaged_blob d WHERE d.id = excluded.id AND d.pack = excluded.pack)"
#define TAKE(col) col " = CASE WHEN " NEW_DAMAGED " AND NOT " CACHED_DAMAGED " THEN chunk." col " ELSE excluded." col " END"
	if ((error = ob_catalog_prepare(&f->ins, cat, "INSERT INTO chunk (id, type, pack, offset, length, raw_length, "
		"indexed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) ON CONFLICT (id) DO UPDATE SET type = excluded.type, "
		TAKE("offset") ", " TAKE("length") ", " TAKE("raw_length") ", " TAKE("pack") ", indexed = 1",
		"Cannot fill the chunk cache")) < 0) {
		free(f);
		return error;
	}
	*out = f;
	return 0;
}

int ob_catalog_chunk_fill_batch(ob_catalog_chunk_fill *f, size_t n,
	int (*row)(ob_catalog_chunk *out, size_t i, void *payload), void *payload)
{
	sqlite3 *db = ob_catalog_db(f->cat);
	size_t j;

	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (j = 0; j < n; j++) {
		ob_catalog_chunk c;
		if (row(&c, j, payload))
			continue;
		sqlite3_reset(f->ins);
		ob_catalog_bind(f->ins, "bibIII", c.id, c.type, c.pack, c.offset, c.length, c.raw_length);
		if (sqlite3_step(f->ins) != SQLITE_DONE) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot fill the chunk cache: %s.", sqlite3_errmsg(db));
		}
	}
	/* A fill that does not commit is not fatal: the next check fills again. */
	if (ob_catalog_db_end(db, 0, "Cannot fill the chunk cache") < 0)
		ob_error_clear();
	return 0;
}

void ob_catalog_chunk_fill_free(ob_catalog_chunk_fill *f)
{
	if (!f)
		return;
	sqlite3_finalize(f->ins);
	free(f);
}

int ob_catalog_chunk_query_open(ob_catalog_chunk_query **out, ob_catalog *cat)
{
	ob_catalog_chunk_query *q;
	int error;

	*out = NULL;
	if (!(q = calloc(1, sizeof(*q))))
		return ob_err_nomem();
	if ((error = ob_catalog_prepare(&q->q, cat, "SELECT pack, offset, length, raw_length, type FROM chunk WHERE id = ?1",
		"Cannot read the chunk cache")) < 0) {
		free(q);
		return error;
	}
	*out = q;
	return 0;
}

int ob_catalog_chunk_query_find(ob_catalog_chunk *out, ob_catalog_chunk_query *q, const uint8_t id[32])
{
	int rc, found = 0;

	sqlite3_reset(q->q);
	sqlite3_bind_blob(q->q, 1, id, 32, SQLITE_STATIC);
	rc = sqlite3_step(q->q);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(q->q, 0) == 32) {
		memcpy(out->pack, sqlite3_column_blob(q->q, 0), 32);
		out->offset = sqlite3_column_int64(q->q, 1);
		out->length = sqlite3_column_int64(q->q, 2);
		out->raw_length = sqlite3_column_int64(q->q, 3);
		out->type = sqlite3_column_int(q->q, 4);
		found = 1;
	}
	sqlite3_reset(q->q);
	return found;
}

void ob_catalog_chunk_query_free(ob_catalog_chunk_query *q)
{
	if (!q)
		return;
	sqlite3_finalize(q->q);
	free(q);
}

int ob_catalog_chunks_unconfirm(ob_catalog *cat)
{
	return ob_catalog_exec(cat, "UPDATE chunk SET indexed = 2 WHERE indexed = 1");
}

int ob_catalog_chunks_forget_indexed(ob_catalog *cat)
{
	return ob_catalog_exec(cat, "DELETE FROM chunk WHERE indexed = 1");
}

int ob_catalog_chunks_forget_all(ob_catalog *cat)
{
	return ob_catalog_exec(cat, "DELETE FROM chunk");
}

int ob_catalog_file_cache_stage_clear(ob_catalog *cat)
{
	return ob_catalog_exec(cat, "DELETE FROM file_cache_stage");
}

/*
 * Every row whose pack is not stored goes, whatever named it (an index object
 * written for a pack that maintenance deleted meanwhile too); rows the index no
 * longer names (indexed = 2 here) whose pack is stored stay, as not yet indexed.
 */
int ob_catalog_chunks_keep_stored(ob_catalog *cat, const ob_idset *stored)
{
	sqlite3_stmt *q = NULL, *del = NULL;
	uint8_t (*gone)[32] = NULL;
	size_t n = 0, cap = 0, i;
	int error = 0, rc;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "SELECT DISTINCT pack FROM chunk", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ob_catalog_db(cat), "DELETE FROM chunk WHERE pack = ?1", -1, &del, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(cat, "Cannot check the chunk cache");
		goto done;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const void *pack = sqlite3_column_blob(q, 0);
		if (sqlite3_column_bytes(q, 0) != 32 || ob_idset_has(stored, pack))
			continue;   /* stored; or a malformed id, dropped below */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *v = realloc(gone, ncap * 32);
			if (!v) {
				error = ob_err_nomem();
				goto done;
			}
			gone = v;
			cap = ncap;
		}
		memcpy(gone[n++], pack, 32);
	}
	if (rc != SQLITE_DONE) {
		error = ob_catalog_fail(cat, "Cannot check the chunk cache");
		goto done;
	}
	if ((error = ob_catalog_begin(cat)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		sqlite3_reset(del);
		sqlite3_bind_blob(del, 1, gone[i], 32, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			error = ob_catalog_fail(cat, "Cannot update the chunk cache");
	}
	/* Pack ids of another length (none are written) name nothing stored either. */
	if (error == 0)
		error = ob_catalog_exec(cat, "DELETE FROM chunk WHERE length(pack) != 32");
	if (error == 0)
		error = ob_catalog_exec(cat, "UPDATE chunk SET indexed = 0 WHERE indexed = 2");
	if (error == 0)
		error = ob_catalog_commit(cat);
	else
		ob_catalog_rollback(cat);
done:
	sqlite3_finalize(q);
	sqlite3_finalize(del);
	free(gone);
	return error;
}

int ob_catalog_chunk_probe_has(ob_catalog_chunk_probe *probe, const uint8_t id[32])
{
	int found;

	sqlite3_reset(probe->has);
	sqlite3_bind_blob(probe->has, 1, id, 32, SQLITE_STATIC);
	found = sqlite3_step(probe->has) == SQLITE_ROW;
	sqlite3_reset(probe->has);
	return found;
}

typedef struct fc_key {
	int64_t ds;
	char *dir, *name;
} fc_key;

int ob_catalog_file_cache_drop(ob_catalog *cat,
	int (*drop)(const void *entry, size_t len, ob_catalog_chunk_probe *probe, void *payload), void *payload)
{
	sqlite3 *db = ob_catalog_db(cat);
	sqlite3_stmt *q = NULL, *del = NULL;
	ob_catalog_chunk_probe probe = { NULL };
	fc_key *bad = NULL;
	size_t n = 0, cap = 0, i;
	int error = 0, rc;

	if (sqlite3_prepare_v2(db, "SELECT datasource_id, dir, name, entry FROM file_cache", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT 1 FROM chunk WHERE id = ?1", -1, &probe.has, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM file_cache WHERE datasource_id = ?1 AND dir = ?2 AND name = ?3",
		-1, &del, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(cat, "Cannot check the file cache");
		goto done;
	}
	/* First the rows to drop (a table is not changed while a query reads it), then one transaction. */
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (!drop(sqlite3_column_blob(q, 3), (size_t)sqlite3_column_bytes(q, 3), &probe, payload))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			fc_key *v = realloc(bad, ncap * sizeof(*v));
			if (!v) {
				error = ob_err_nomem();
				goto done;
			}
			bad = v;
			cap = ncap;
		}
		bad[n].ds = sqlite3_column_int64(q, 0);
		bad[n].dir = ob_strdup((const char *)sqlite3_column_text(q, 1));
		bad[n].name = ob_strdup((const char *)sqlite3_column_text(q, 2));
		if (!bad[n].dir || !bad[n].name) {
			free(bad[n].dir);
			free(bad[n].name);
			error = ob_err_nomem();
			goto done;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		error = ob_catalog_fail(cat, "Cannot check the file cache");
		goto done;
	}
	sqlite3_reset(q);
	if (n == 0 || (error = ob_catalog_begin(cat)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 1, bad[i].ds);
		sqlite3_bind_text(del, 2, bad[i].dir, -1, SQLITE_STATIC);
		sqlite3_bind_text(del, 3, bad[i].name, -1, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			error = ob_catalog_fail(cat, "Cannot update the file cache");
	}
	sqlite3_reset(del);
	if (error == 0)
		error = ob_catalog_commit(cat);
	else
		ob_catalog_rollback(cat);
done:
	for (i = 0; i < n; i++) {
		free(bad[i].dir);
		free(bad[i].name);
	}
	free(bad);
	sqlite3_finalize(q);
	sqlite3_finalize(probe.has);
	sqlite3_finalize(del);
	return error;
}
