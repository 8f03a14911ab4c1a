/* The backup's SQL: chunk cache, file cache and its staging (catalog/backup.h). */
#include "catalog/backup.h"
#include "catalog/statement.h"
#include "util/error.h"

#include <sqlite3.h>
#include <stdlib.h>

/*
 * The chunk cache's upsert for a blob just stored: a row that names a damaged
 * copy is replaced by the new copy (and marked for a new index object); any
 * other existing row is kept.
 */
#define CHUNK_UPSERT \
	"INSERT INTO chunk (id, type, pack, offset, length, raw_length, indexed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) " \
	"ON CONFLICT (id) DO UPDATE SET pack = excluded.pack, offset = excluded.offset, length = excluded.length, " \
	"raw_length = excluded.raw_length, indexed = excluded.indexed " \
	"WHERE EXISTS (SELECT 1 FROM damaged_blob d WHERE d.id = chunk.id AND d.pack = chunk.pack) " \
	"AND NOT EXISTS (SELECT 1 FROM damaged_blob d WHERE d.id = excluded.id AND d.pack = excluded.pack)"

#define STAGE_SQL "INSERT OR REPLACE INTO file_cache_stage (datasource_id, dir, name, size, mtime_ns, " \
	"ctime_ns, inode, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"

/* 1 when the query (with ?1 bound to arg, if it has it) returns no row; 0 when it does, or fails. */
static int no_rows(sqlite3 *db, const char *sql, int64_t arg)
{
	sqlite3_stmt *q = NULL;
	int none = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_bind_parameter_count(q) > 0)
			sqlite3_bind_int64(q, 1, arg);
		none = sqlite3_step(q) == SQLITE_DONE;
	}
	sqlite3_finalize(q);
	return none;
}

static void bind_chunk(sqlite3_stmt *q, const ob_chunk_row *r)
{
	sqlite3_reset(q);
	sqlite3_bind_blob(q, 1, r->id, 32, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, r->type);
	sqlite3_bind_blob(q, 3, r->pack, 32, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, r->offset);
	sqlite3_bind_int64(q, 5, r->length);
	sqlite3_bind_int64(q, 6, r->raw_length);
}

/* Stage file rows (in the caller's transaction). */
static int stage_files(sqlite3 *db, sqlite3_stmt *ins, const ob_file_row *u)
{
	for (; u; u = u->next) {
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, u->ds);
		sqlite3_bind_text(ins, 2, u->dir, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, u->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, (int64_t)u->size);
		sqlite3_bind_int64(ins, 5, u->mtime_ns);
		sqlite3_bind_int64(ins, 6, u->ctime_ns);
		sqlite3_bind_int64(ins, 7, (int64_t)u->inode);
		sqlite3_bind_blob(ins, 8, u->entry, (int)u->entry_len, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			sqlite3_reset(ins);
			return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(db));
		}
		sqlite3_reset(ins);
	}
	return 0;
}

/* ---- the chunk cache ---- */

int ob_chunk_cache_empty(ob_catalog *cat)
{
	return no_rows(ob_catalog_db(cat), "SELECT 1 FROM chunk LIMIT 1", 0);
}

struct ob_chunk_lookup {
	sqlite3_stmt *q;
};

int ob_chunk_lookup_open(ob_chunk_lookup **out, ob_catalog *cat)
{
	sqlite3 *db = ob_catalog_db(cat);
	ob_chunk_lookup *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return ob_err_nomem();
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM chunk WHERE id = ?1", -1, &l->q, NULL) != SQLITE_OK) {
		ob_chunk_lookup_free(l);
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot read the chunk cache: %s.", sqlite3_errmsg(db));
	}
	*out = l;
	return 0;
}

int ob_chunk_lookup_has(ob_chunk_lookup *l, const uint8_t id[32])
{
	int found;

	sqlite3_reset(l->q);
	sqlite3_bind_blob(l->q, 1, id, 32, SQLITE_STATIC);
	found = sqlite3_step(l->q) == SQLITE_ROW;
	sqlite3_reset(l->q);
	return found;
}

void ob_chunk_lookup_free(ob_chunk_lookup *l)
{
	if (!l)
		return;
	sqlite3_finalize(l->q);
	free(l);
}

struct ob_chunk_recorder {
	sqlite3 *db;
	sqlite3_stmt *ins, *stage;
};

int ob_chunk_recorder_open(ob_chunk_recorder **out, ob_catalog *cat)
{
	ob_chunk_recorder *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return ob_err_nomem();
	r->db = ob_catalog_db(cat);
	if (sqlite3_prepare_v2(r->db, CHUNK_UPSERT, -1, &r->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, STAGE_SQL, -1, &r->stage, NULL) != SQLITE_OK) {
		int error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(r->db));
		ob_chunk_recorder_free(r);
		return error;
	}
	*out = r;
	return 0;
}

int ob_chunk_record(ob_chunk_recorder *r, const ob_chunk_row *rows, size_t count, const ob_file_row *files)
{
	size_t k;
	int error = 0;

	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(r->db));
	for (k = 0; k < count && error == 0; k++) {
		bind_chunk(r->ins, &rows[k]);
		if (sqlite3_step(r->ins) != SQLITE_DONE)
			error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(r->db));
	}
	if (error == 0)
		error = stage_files(r->db, r->stage, files);
	return ob_catalog_db_end(r->db, error, "Cannot record stored chunks");
}

void ob_chunk_recorder_free(ob_chunk_recorder *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->ins);
	sqlite3_finalize(r->stage);
	free(r);
}

int ob_chunk_known_packs(ob_idset *out, ob_catalog *cat)
{
	sqlite3_stmt *q = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "SELECT DISTINCT pack FROM chunk", -1, &q, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot read the chunk cache");
	while (sqlite3_step(q) == SQLITE_ROW)
		if (sqlite3_column_bytes(q, 0) == 32 && ob_idset_add(out, sqlite3_column_blob(q, 0)) < 0) {
			error = OB_ENOMEM;
			break;
		}
	sqlite3_finalize(q);
	return error;
}

int ob_chunk_record_recovered(ob_catalog *cat, const ob_chunk_row *rows, size_t count)
{
	sqlite3 *db = ob_catalog_db(cat);
	sqlite3_stmt *ins = NULL;
	size_t j;
	int error = 0;

	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO chunk (id, type, pack, offset, length, raw_length, indexed) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)", -1, &ins, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot read the chunk cache");
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (j = 0; j < count; j++) {
		bind_chunk(ins, &rows[j]);
		if (sqlite3_step(ins) != SQLITE_DONE)
			error = ob_catalog_fail(cat, "Cannot record recovered chunks");
	}
	sqlite3_finalize(ins);
	return ob_catalog_db_end(db, error, "Cannot record recovered chunks");
}

int ob_chunk_each_unindexed(ob_catalog *cat, ob_chunk_row_cb cb, void *payload)
{
	sqlite3_stmt *q = NULL;
	int error = 0, rc;

	if (sqlite3_prepare_v2(ob_catalog_db(cat), "SELECT id, type, pack, offset, length, raw_length FROM chunk "
		"WHERE indexed = 0", -1, &q, NULL) != SQLITE_OK)
		return ob_catalog_fail(cat, "Cannot read the chunk cache");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ob_chunk_row row;
		if (sqlite3_column_bytes(q, 0) != 32 || sqlite3_column_bytes(q, 2) != 32)
			continue;
		row.id = sqlite3_column_blob(q, 0);
		row.type = sqlite3_column_int(q, 1);
		row.pack = sqlite3_column_blob(q, 2);
		row.offset = sqlite3_column_int64(q, 3);
		row.length = sqlite3_column_int64(q, 4);
		row.raw_length = sqlite3_column_int64(q, 5);
		if ((error = cb(&row, payload)) < 0)
			break;
	}
	if (error == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		error = ob_catalog_fail(cat, "Cannot read the chunk cache");
	sqlite3_finalize(q);
	return error;
}

int ob_chunk_mark_indexed(ob_catalog *cat)
{
	return ob_catalog_exec(cat, "UPDATE chunk SET indexed = 1 WHERE indexed = 0");
}

/* ---- the file cache ---- */

int ob_file_cache_empty(ob_catalog *cat, int64_t ds)
{
	return no_rows(ob_catalog_db(cat), "SELECT 1 FROM file_cache WHERE datasource_id = ?1 LIMIT 1", ds);
}

struct ob_file_cache_reader {
	sqlite3_stmt *q;
};

int ob_file_cache_reader_open(ob_file_cache_reader **out, ob_catalog *cat)
{
	sqlite3 *db = ob_catalog_db(cat);
	ob_file_cache_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return ob_err_nomem();
	if (sqlite3_prepare_v2(db, "SELECT name, size, mtime_ns, ctime_ns, inode, entry FROM file_cache "
		"WHERE datasource_id = ?1 AND dir = ?2", -1, &r->q, NULL) != SQLITE_OK) {
		ob_file_cache_reader_free(r);
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot read the file cache: %s.", sqlite3_errmsg(db));
	}
	*out = r;
	return 0;
}

void ob_file_cache_read_dir(ob_file_cache_reader *r, int64_t ds, const char *dir, ob_file_row_cb cb, void *payload)
{
	sqlite3_stmt *q = r->q;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, ds);
	sqlite3_bind_text(q, 2, dir, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		ob_file_row row = { 0 };
		row.ds = ds;
		row.dir = (char *)dir;
		row.name = (char *)sqlite3_column_text(q, 0);
		row.size = (uint64_t)sqlite3_column_int64(q, 1);
		row.mtime_ns = sqlite3_column_int64(q, 2);
		row.ctime_ns = sqlite3_column_int64(q, 3);
		row.inode = (uint64_t)sqlite3_column_int64(q, 4);
		row.entry_len = (size_t)sqlite3_column_bytes(q, 5);
		row.entry = (uint8_t *)sqlite3_column_blob(q, 5);
		if (cb(&row, payload) != 0)
			break;
	}
	sqlite3_reset(q);
}

void ob_file_cache_reader_free(ob_file_cache_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->q);
	free(r);
}

int ob_file_cache_stage_clear(ob_catalog *cat)
{
	sqlite3 *db = ob_catalog_db(cat);

	if (sqlite3_exec(db, "DELETE FROM file_cache_stage", NULL, NULL, NULL) != SQLITE_OK)
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot prepare the file cache: %s.", sqlite3_errmsg(db));
	return 0;
}

int ob_file_cache_commit(ob_catalog *cat, const ob_file_row *rows)
{
	sqlite3 *db = ob_catalog_db(cat);
	sqlite3_stmt *ins = NULL;
	int error;

	if (sqlite3_prepare_v2(db, STAGE_SQL, -1, &ins, NULL) != SQLITE_OK)
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(db));
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_finalize(ins);
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(db));
	}
	error = stage_files(db, ins, rows);
	sqlite3_finalize(ins);
	if (error == 0) {
		/*
		 * An empty file cache (a first backup) becomes the staged table, renamed,
		 * rather than a copy of every row; otherwise the staged rows are merged in.
		 */
		int empty = no_rows(db, "SELECT 1 FROM file_cache LIMIT 1", 0);
		if (sqlite3_exec(db, empty ? "DROP TABLE file_cache; ALTER TABLE file_cache_stage RENAME TO file_cache; "
			"CREATE TABLE file_cache_stage (" FILE_CACHE_COLUMNS ") WITHOUT ROWID"
			: "INSERT OR REPLACE INTO file_cache SELECT * FROM file_cache_stage; DELETE FROM file_cache_stage",
			NULL, NULL, NULL) != SQLITE_OK)
			error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(db));
	}
	return ob_catalog_db_end(db, error, "Cannot update the file cache");
}
