/* The file cache: what the last backup read, so that unchanged files are not read again. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"

#include <stdlib.h>
#include <string.h>

/* 1 when the query (with ?1 bound to arg, if it has it) returns no row; 0 when it does, or fails. */
int ob_backup_no_rows(sqlite3 *db, const char *sql, int64_t arg)
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
void ob_backup_free_cache_list(cache_update *u)
{
	cache_update *next;

	for (; u; u = next) {
		next = u->next;
		free(u->dir);
		free(u->name);
		free(u->entry);
		free(u);
	}
}

/*
 * File cache rows wait in file_cache_stage until the point is committed, so that
 * memory does not grow with the number of files: the syncer moves the rows of
 * finished files there with each batch of packs it records (in its transaction).
 * The list is taken from s under s->lock; this frees it.
 */
int ob_backup_stage_cache(state *s, sqlite3_stmt *ins, cache_update *list)
{
	cache_update *u, *next;
	int error = 0;

	for (u = list; u; u = next) {
		next = u->next;
		if (error == 0) {
			sqlite3_reset(ins);
			sqlite3_bind_int64(ins, 1, u->ds);
			sqlite3_bind_text(ins, 2, u->dir, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, u->name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 4, (int64_t)u->size);
			sqlite3_bind_int64(ins, 5, u->mtime_ns);
			sqlite3_bind_int64(ins, 6, u->ctime_ns);
			sqlite3_bind_int64(ins, 7, (int64_t)u->inode);
			sqlite3_bind_blob(ins, 8, u->entry, (int)u->entry_len, SQLITE_STATIC);
			if (sqlite3_step(ins) != SQLITE_DONE)
				error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(s->db));
			sqlite3_reset(ins);
		}
		u->next = NULL;
		ob_backup_free_cache_list(u);
	}
	return error;
}

void ob_backup_dircache_dispose(dircache *dc)
{
	size_t i;

	for (i = 0; i < dc->n; i++) {
		free(dc->v[i].name);
		free(dc->v[i].entry);
	}
	free(dc->v);
	memset(dc, 0, sizeof(*dc));
}

static int cached_cmp(const void *a, const void *b)
{
	return strcmp(((const cached *)a)->name, ((const cached *)b)->name);
}

void ob_backup_dircache_load(dircache *dc, sqlite3_stmt *q, int64_t ds, const char *dir)
{
	size_t cap = 0;

	memset(dc, 0, sizeof(*dc));
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, ds);
	sqlite3_bind_text(q, 2, dir, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		cached *c;
		if (dc->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			cached *v = realloc(dc->v, ncap * sizeof(*v));
			if (!v)
				break;
			dc->v = v;
			cap = ncap;
		}
		c = &dc->v[dc->n];
		c->name = strdup((const char *)sqlite3_column_text(q, 0));
		c->size = (uint64_t)sqlite3_column_int64(q, 1);
		c->mtime_ns = sqlite3_column_int64(q, 2);
		c->ctime_ns = sqlite3_column_int64(q, 3);
		c->inode = (uint64_t)sqlite3_column_int64(q, 4);
		c->entry_len = (size_t)sqlite3_column_bytes(q, 5);
		c->entry = malloc(c->entry_len ? c->entry_len : 1);
		if (!c->name || !c->entry) {
			free(c->name);
			free(c->entry);
			break;
		}
		memcpy(c->entry, sqlite3_column_blob(q, 5), c->entry_len);
		dc->n++;
	}
	sqlite3_reset(q);
	if (dc->n > 1)
		qsort(dc->v, dc->n, sizeof(cached), cached_cmp);
}

const cached *ob_backup_dircache_find(const dircache *dc, const char *name)
{
	cached key = { (char *)name, 0, 0, 0, 0, NULL, 0 };

	return dc->n ? bsearch(&key, dc->v, dc->n, sizeof(cached), cached_cmp) : NULL;
}
/* The point is committed: the rows of the files it read become the file cache, in one transaction. */
int ob_backup_write_cache(state *s)
{
	sqlite3_stmt *ins = NULL;
	cache_update *rest = s->cache_updates;
	int error;

	s->cache_updates = NULL;
	if (sqlite3_prepare_v2(s->db, STAGE_SQL, -1, &ins, NULL) != SQLITE_OK) {
		s->cache_updates = rest;
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(s->db));
	}
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		s->cache_updates = rest;
		sqlite3_finalize(ins);
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(s->db));
	}
	error = ob_backup_stage_cache(s, ins, rest);
	sqlite3_finalize(ins);
	if (error == 0) {
		/*
		 * An empty file cache (a first backup) becomes the staged table, renamed,
		 * rather than a copy of every row; otherwise the staged rows are merged in.
		 */
		int empty = ob_backup_no_rows(s->db, "SELECT 1 FROM file_cache LIMIT 1", 0);
		if (sqlite3_exec(s->db, empty ? "DROP TABLE file_cache; ALTER TABLE file_cache_stage RENAME TO file_cache; "
			"CREATE TABLE file_cache_stage (" FILE_CACHE_COLUMNS ") WITHOUT ROWID"
			: "INSERT OR REPLACE INTO file_cache SELECT * FROM file_cache_stage; DELETE FROM file_cache_stage",
			NULL, NULL, NULL) != SQLITE_OK)
			error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(s->db));
	}
	if (sqlite3_exec(s->db, error ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && error == 0)
		error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot update the file cache: %s.", sqlite3_errmsg(s->db));
	return error;
}

void ob_backup_free_cache_updates(state *s)
{
	ob_backup_free_cache_list(s->cache_updates);
	s->cache_updates = NULL;
}
