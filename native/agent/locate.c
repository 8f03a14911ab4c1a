/* Finding blobs: the catalog's chunk cache for this server, index objects for others. */
#include "agent/locate.h"
#include "agent/damage.h"
#include "util/error.h"
#include "util/idset.h"
#include "vault/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*index_cb)(const ob_index_entry *e, size_t n, void *payload);

/* Read every index object of a server; a damaged one is skipped (what it names then fails alone). */
static int each_index(ob_repo *repo, index_cb cb, void *payload)
{
	ob_name_list l;
	char prefix[96];
	size_t i;
	int error;

	snprintf(prefix, sizeof(prefix), "%sindex/", repo->prefix);
	if ((error = ob_vault_list_names(&l, repo->vc.be, prefix, 0)) < 0)
		return error;
	for (i = 0; i < l.n && error == 0; i++) {
		ob_index_entry *e = NULL;
		size_t n = 0;
		if (ob_index_read(&e, &n, repo, l.v[i]) < 0) {
			ob_error_clear();
			continue;
		}
		error = cb(e, n, payload);
		free(e);
	}
	ob_name_list_dispose(&l);
	return error;
}

typedef struct fill {
	sqlite3_stmt *ins;
	const ob_idset *stored;   /* when non-NULL: entries whose pack is not in it are skipped */
} fill;

static int insert_cb(const ob_index_entry *e, size_t n, void *payload)
{
	fill *f = payload;
	sqlite3_stmt *ins = f->ins;
	sqlite3 *db = sqlite3_db_handle(ins);
	size_t j;

	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (j = 0; j < n; j++) {
		if (f->stored && !ob_idset_has(f->stored, e[j].pack))
			continue;
		sqlite3_reset(ins);
		sqlite3_bind_blob(ins, 1, e[j].blob.id, OB_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int(ins, 2, e[j].blob.type);
		sqlite3_bind_blob(ins, 3, e[j].pack, OB_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, e[j].blob.offset);
		sqlite3_bind_int64(ins, 5, e[j].blob.length);
		sqlite3_bind_int64(ins, 6, e[j].blob.raw_length);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot fill the chunk cache: %s.", sqlite3_errmsg(db));
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return 0;
}

static int sync_catalog(ob_agent *agent, ob_repo *repo, const ob_idset *stored)
{
	fill f = { NULL, stored };
	int error;

	/*
	 * Where the index says a blob is wins (maintenance may have moved it to another pack),
	 * but a copy known damaged never replaces a sound one: a blob the index names twice
	 * (a damaged copy, and the one a backup stored again) keeps the sound copy (native/agent/damage.h).
	 */
#define CACHED_DAMAGED "EXISTS (SELECT 1 FROM damaged_blob d WHERE d.id = chunk.id AND d.pack = chunk.pack)"
#define NEW_DAMAGED "EXISTS (SELECT 1 FROM damaged_blob d WHERE d.id = excluded.id AND d.pack = excluded.pack)"
#define TAKE(col) col " = CASE WHEN " NEW_DAMAGED " AND NOT " CACHED_DAMAGED " THEN chunk." col " ELSE excluded." col " END"
	if (sqlite3_prepare_v2(ob_catalog_db(agent->cat), "INSERT INTO chunk (id, type, pack, offset, length, raw_length, "
		"indexed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) ON CONFLICT (id) DO UPDATE SET type = excluded.type, "
		TAKE("offset") ", " TAKE("length") ", " TAKE("raw_length") ", " TAKE("pack") ", indexed = 1", -1, &f.ins, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot fill the chunk cache");
	error = each_index(repo, insert_cb, &f);
	sqlite3_finalize(f.ins);
	return error;
}

int ob_locator_sync_catalog(ob_agent *agent, ob_repo *repo)
{
	return sync_catalog(agent, repo, NULL);
}

typedef struct pack_list {
	ob_idset *set;
	int error;
} pack_list;

static int pack_cb(const char *name, uint64_t size, void *payload)
{
	pack_list *pl = payload;
	const char *base = strrchr(name, '/');
	uint8_t id[OB_ID_BYTES];

	(void)size;
	if (base && ob_id_parse(id, base + 1) == 0 && ob_idset_add(pl->set, id) < 0)
		return pl->error = OB_ENOMEM;
	ob_error_clear();
	return 0;
}

/* The packs stored in this server's area now: one listing. */
static int stored_packs(ob_idset *out, ob_repo *repo)
{
	pack_list pl = { out, 0 };
	char prefix[96];
	int error;

	snprintf(prefix, sizeof(prefix), "%spacks/", repo->prefix);
	error = repo->vc.be->list(repo->vc.be, prefix, pack_cb, &pl);
	return pl.error < 0 ? pl.error : error;
}

void ob_cache_generation_key(char *out, size_t size, const ob_repo *repo)
{
	snprintf(out, size, "chunk_cache.generation.%s.%s", repo->vc.id, repo->server_id);
}

void ob_cache_own_generation_key(char *out, size_t size, const ob_repo *repo)
{
	snprintf(out, size, "maintenance.generation.%s.%s", repo->vc.id, repo->server_id);
}

int ob_cache_generation(uint64_t *out, int *ended, ob_agent *agent, const ob_repo *repo)
{
	char key[160], *own = NULL;
	int error;

	if ((error = ob_repo_generation(out, ended, repo)) < 0 || *ended)
		return error;
	/* Taken by this agent's own maintenance: the caller holds the job lock, so that run is over. */
	ob_cache_own_generation_key(key, sizeof(key), repo);
	if (ob_catalog_setting_get(&own, agent->cat, key) == 0 && strtoull(own, NULL, 10) == *out)
		*ended = 1;
	free(own);
	ob_error_clear();
	return 0;
}

/*
 * Every row whose pack is not stored goes, whatever named it (an index object
 * written for a pack that maintenance deleted meanwhile too); rows the index no
 * longer names (indexed = 2 here) whose pack is stored stay, as not yet indexed.
 */
static int check_stored(ob_agent *agent, const ob_idset *stored)
{
	sqlite3 *db = ob_catalog_db(agent->cat);
	sqlite3_stmt *q = NULL, *del = NULL;
	uint8_t (*gone)[OB_ID_BYTES] = NULL;
	size_t n = 0, cap = 0, i;
	int error = 0, rc;

	if (sqlite3_prepare_v2(db, "SELECT DISTINCT pack FROM chunk", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM chunk WHERE pack = ?1", -1, &del, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(agent->cat, "Cannot check the chunk cache");
		goto done;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const void *pack = sqlite3_column_blob(q, 0);
		if (sqlite3_column_bytes(q, 0) != OB_ID_BYTES || ob_idset_has(stored, pack))
			continue;   /* stored; or a malformed id, dropped below */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *v = realloc(gone, ncap * OB_ID_BYTES);
			if (!v) {
				error = ob_err_nomem();
				goto done;
			}
			gone = v;
			cap = ncap;
		}
		memcpy(gone[n++], pack, OB_ID_BYTES);
	}
	if (rc != SQLITE_DONE) {
		error = ob_catalog_fail(agent->cat, "Cannot check the chunk cache");
		goto done;
	}
	if ((error = ob_catalog_exec(agent->cat, "BEGIN IMMEDIATE")) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		sqlite3_reset(del);
		sqlite3_bind_blob(del, 1, gone[i], OB_ID_BYTES, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			error = ob_catalog_fail(agent->cat, "Cannot update the chunk cache");
	}
	/* Pack ids of another length (none are written) name nothing stored either. */
	if (error == 0)
		error = ob_catalog_exec(agent->cat, "DELETE FROM chunk WHERE length(pack) != 32");
	if (error == 0)
		error = ob_catalog_exec(agent->cat, "UPDATE chunk SET indexed = 0 WHERE indexed = 2");
	if (error == 0)
		error = ob_catalog_exec(agent->cat, "COMMIT");
	else
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
	sqlite3_finalize(q);
	sqlite3_finalize(del);
	free(gone);
	return error;
}

typedef struct fc_key {
	int64_t ds;
	char *dir, *name;
} fc_key;

/* Drop the file cache rows whose entry names a blob the chunk cache no longer has. */
static int check_file_cache(ob_agent *agent)
{
	sqlite3 *db = ob_catalog_db(agent->cat);
	sqlite3_stmt *q = NULL, *has = NULL, *del = NULL;
	fc_key *bad = NULL;
	size_t n = 0, cap = 0, i;
	int error = 0, rc;

	if (sqlite3_prepare_v2(db, "SELECT datasource_id, dir, name, entry FROM file_cache", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT 1 FROM chunk WHERE id = ?1", -1, &has, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM file_cache WHERE datasource_id = ?1 AND dir = ?2 AND name = ?3",
		-1, &del, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(agent->cat, "Cannot check the file cache");
		goto done;
	}
	/* First the rows to drop (a table is not changed while a query reads it), then one transaction. */
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ob_entry e;
		size_t k;
		int drop = ob_entry_decode(&e, sqlite3_column_blob(q, 3), (size_t)sqlite3_column_bytes(q, 3)) < 0;
		ob_error_clear();
		for (k = 0; !drop && e.type == OB_TREE_FILE && k < e.chunk_count; k++) {
			sqlite3_reset(has);
			sqlite3_bind_blob(has, 1, e.chunks + OB_ID_BYTES * k, OB_ID_BYTES, SQLITE_STATIC);
			drop = sqlite3_step(has) != SQLITE_ROW;
		}
		sqlite3_reset(has);
		if (!drop)
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
		error = ob_catalog_fail(agent->cat, "Cannot check the file cache");
		goto done;
	}
	sqlite3_reset(q);
	if (n == 0 || (error = ob_catalog_exec(agent->cat, "BEGIN IMMEDIATE")) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 1, bad[i].ds);
		sqlite3_bind_text(del, 2, bad[i].dir, -1, SQLITE_STATIC);
		sqlite3_bind_text(del, 3, bad[i].name, -1, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			error = ob_catalog_fail(agent->cat, "Cannot update the file cache");
	}
	sqlite3_reset(del);
	if (error == 0)
		error = ob_catalog_exec(agent->cat, "COMMIT");
	else
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
	for (i = 0; i < n; i++) {
		free(bad[i].dir);
		free(bad[i].name);
	}
	free(bad);
	sqlite3_finalize(q);
	sqlite3_finalize(has);
	sqlite3_finalize(del);
	return error;
}

int ob_cache_validate(ob_agent *agent, ob_repo *repo, uint64_t *out_generation, int *out_open)
{
	char key[160], value[32];
	ob_idset stored = OB_IDSET_INIT;
	uint64_t gen = 0;
	int error, ended = 0;

	/*
	 * The recorded generation goes first, durably: a run that stops half-way
	 * leaves no mark that the caches were checked, so the next one checks again.
	 * The generation is read before the index, so that a maintenance run that
	 * starts meanwhile leaves a newer number than the one recorded here.
	 */
	ob_cache_generation_key(key, sizeof(key), repo);
	if ((error = ob_catalog_setting_delete(agent->cat, key)) < 0 ||
	    (error = ob_cache_generation(&gen, &ended, agent, repo)) < 0 ||
	    (error = stored_packs(&stored, repo)) < 0 ||
	    (error = ob_catalog_exec(agent->cat, "UPDATE chunk SET indexed = 2 WHERE indexed = 1")) < 0 ||
	    (error = sync_catalog(agent, repo, &stored)) < 0 ||
	    (error = check_stored(agent, &stored)) < 0 ||
	    (error = check_file_cache(agent)) < 0 ||
	    (error = ob_catalog_exec(agent->cat, "DELETE FROM file_cache_stage")) < 0)
		goto done;
	/* A check made while a run of another agent may still be deleting is not recorded: the next one checks again. */
	snprintf(value, sizeof(value), "%llu", (unsigned long long)gen);
	if (ended && (error = ob_catalog_setting_set(agent->cat, key, value)) < 0)
		goto done;
	if (out_generation)
		*out_generation = gen;
	if (out_open)
		*out_open = !ended;
done:
	ob_idset_dispose(&stored);
	return error;
}

int ob_cache_check(ob_agent *agent, ob_repo *repo, uint64_t *out_generation, int *out_open)
{
	char key[160], *recorded = NULL;
	uint64_t gen = 0;
	int error;

	if (out_open)
		*out_open = 0;
	ob_cache_generation_key(key, sizeof(key), repo);
	if ((error = ob_repo_generation(&gen, NULL, repo)) < 0)
		return error;
	error = ob_catalog_setting_get(&recorded, agent->cat, key);
	if (error < 0 && error != OB_ENOTFOUND)
		return error;
	ob_error_clear();
	if (error == 0 && strtoull(recorded, NULL, 10) == gen && *recorded) {
		free(recorded);
		if (out_generation)
			*out_generation = gen;
		return 0;
	}
	free(recorded);
	return ob_cache_validate(agent, repo, out_generation, out_open);
}

int ob_locator_catalog(ob_locator *l, ob_agent *agent, ob_repo *repo)
{
	memset(l, 0, sizeof(*l));
	l->repo = repo;
	l->agent = agent;
	if (sqlite3_prepare_v2(ob_catalog_db(agent->cat), "SELECT pack, offset, length, raw_length, type FROM chunk WHERE id = ?1",
		-1, &l->q, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot read the chunk cache");
	return 0;
}

static uint64_t id_hash(const uint8_t *id)
{
	uint64_t h;

	memcpy(&h, id, 8);
	return h;
}

static int mem_put(ob_locator *l, const uint8_t *id, const ob_blob_loc *loc)
{
	size_t i;

	if ((l->count + 1) * 4 > l->cap * 3) {
		ob_locator bigger;
		memset(&bigger, 0, sizeof(bigger));
		bigger.cap = l->cap ? l->cap * 2 : 4096;
		bigger.ids = malloc(bigger.cap * OB_ID_BYTES);
		bigger.locs = malloc(bigger.cap * sizeof(ob_blob_loc));
		bigger.used = calloc(bigger.cap, 1);
		if (!bigger.ids || !bigger.locs || !bigger.used) {
			free(bigger.ids);
			free(bigger.locs);
			free(bigger.used);
			return ob_err_nomem();
		}
		for (i = 0; i < l->cap; i++)
			if (l->used[i])
				mem_put(&bigger, l->ids[i], &l->locs[i]);
		free(l->ids);
		free(l->locs);
		free(l->used);
		l->ids = bigger.ids;
		l->locs = bigger.locs;
		l->used = bigger.used;
		l->cap = bigger.cap;
	}
	/* Every copy is kept (a blob stored again after damage has two); the same copy once. */
	for (i = id_hash(id) & (l->cap - 1); l->used[i]; i = (i + 1) & (l->cap - 1))
		if (memcmp(l->ids[i], id, OB_ID_BYTES) == 0 && !memcmp(l->locs[i].pack, loc->pack, OB_ID_BYTES) &&
		    l->locs[i].offset == loc->offset)
			return 0;
	memcpy(l->ids[i], id, OB_ID_BYTES);
	l->locs[i] = *loc;
	l->used[i] = 1;
	l->count++;
	return 0;
}

static int mem_cb(const ob_index_entry *e, size_t n, void *payload)
{
	ob_locator *l = payload;
	size_t j;
	int error;

	for (j = 0; j < n; j++) {
		ob_blob_loc loc;
		memcpy(loc.pack, e[j].pack, OB_ID_BYTES);
		loc.offset = e[j].blob.offset;
		loc.length = e[j].blob.length;
		loc.raw_length = e[j].blob.raw_length;
		loc.type = e[j].blob.type;
		if ((error = mem_put(l, e[j].blob.id, &loc)) < 0)
			return error;
	}
	return 0;
}

int ob_locator_memory(ob_locator *l, ob_repo *repo)
{
	int error;

	memset(l, 0, sizeof(*l));
	l->repo = repo;
	if ((error = each_index(repo, mem_cb, l)) < 0)
		ob_locator_dispose(l);
	return error;
}

void ob_locator_dispose(ob_locator *l)
{
	sqlite3_finalize(l->q);
	free(l->ids);
	free(l->locs);
	free(l->used);
	memset(l, 0, sizeof(*l));
}

int ob_locator_copy(ob_blob_loc *out, const ob_locator *l, const uint8_t id[OB_ID_BYTES], size_t nth)
{
	size_t i;

	if (l->agent || !l->cap)
		return OB_ENOTFOUND;
	for (i = id_hash(id) & (l->cap - 1); l->used[i]; i = (i + 1) & (l->cap - 1))
		if (memcmp(l->ids[i], id, OB_ID_BYTES) == 0 && nth-- == 0) {
			*out = l->locs[i];
			return 0;
		}
	return OB_ENOTFOUND;
}

int ob_locator_find(ob_blob_loc *out, ob_locator *l, const uint8_t id[OB_ID_BYTES])
{
	char hex[65];

	if (!l->agent) {
		size_t i;
		if (l->cap)
			for (i = id_hash(id) & (l->cap - 1); l->used[i]; i = (i + 1) & (l->cap - 1))
				if (memcmp(l->ids[i], id, OB_ID_BYTES) == 0) {
					*out = l->locs[i];
					return 0;
				}
	} else {
		for (;;) {
			int rc;
			sqlite3_reset(l->q);
			sqlite3_bind_blob(l->q, 1, id, OB_ID_BYTES, SQLITE_STATIC);
			rc = sqlite3_step(l->q);
			if (rc == SQLITE_ROW && sqlite3_column_bytes(l->q, 0) == OB_ID_BYTES) {
				memcpy(out->pack, sqlite3_column_blob(l->q, 0), OB_ID_BYTES);
				out->offset = (uint32_t)sqlite3_column_int64(l->q, 1);
				out->length = (uint32_t)sqlite3_column_int64(l->q, 2);
				out->raw_length = (uint32_t)sqlite3_column_int64(l->q, 3);
				out->type = (uint8_t)sqlite3_column_int(l->q, 4);
				sqlite3_reset(l->q);
				return 0;
			}
			sqlite3_reset(l->q);
			if (l->synced)
				break;
			/* Not in the cache: the vault's index objects may name it (another agent wrote it). */
			l->synced = 1;
			if (ob_locator_sync_catalog(l->agent, l->repo) < 0)
				return OB_ERROR;
		}
	}
	ob_id_hex(hex, id);
	return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault has no blob %.16s: no index names it.", hex);
}

int ob_fetch_blob_at(uint8_t **out, size_t *out_len, ob_repo *repo, const ob_blob_loc *loc, int type,
	const uint8_t id[OB_ID_BYTES])
{
	char name[160], hex[65];
	void *sealed = NULL;
	size_t sealed_len;
	int error;

	ob_repo_pack_name(name, sizeof(name), repo, loc->pack);
	error = repo->vc.be->get(&sealed, &sealed_len, repo->vc.be, name, loc->offset, loc->length);
	if (error < 0) {
		ob_id_hex(hex, loc->pack);
		if (error == OB_ENOTFOUND || error == OB_EINVALID)
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Pack %.16s is missing or truncated in the vault.", hex);
		return error;
	}
	error = ob_blob_open(out, out_len, repo, type, id, sealed, sealed_len, loc->raw_length);
	free(sealed);
	return error;
}

int ob_fetch_blob_other(uint8_t **out, size_t *out_len, const ob_locator *l, const ob_blob_loc *failed, int type,
	const uint8_t id[OB_ID_BYTES])
{
	ob_blob_loc loc;
	size_t nth;
	int error = OB_ECORRUPT;

	/* The index may name another copy (stored again after this one was found damaged). */
	for (nth = 0; error == OB_ECORRUPT && ob_locator_copy(&loc, l, id, nth) == 0; nth++) {
		int again;
		if (!memcmp(loc.pack, failed->pack, OB_ID_BYTES) && loc.offset == failed->offset)
			continue;
		if ((again = ob_fetch_blob_at(out, out_len, l->repo, &loc, type, id)) == 0)
			ob_error_clear();
		if (again != OB_ECORRUPT)
			error = again;
	}
	return error;
}

int ob_fetch_blob(uint8_t **out, size_t *out_len, ob_locator *l, int type, const uint8_t id[OB_ID_BYTES])
{
	ob_blob_loc loc;
	int error;

	*out = NULL;
	if ((error = ob_locator_find(&loc, l, id)) < 0)
		return error;
	error = ob_fetch_blob_at(out, out_len, l->repo, &loc, type, id);
	if (error == OB_ECORRUPT && !l->agent)
		error = ob_fetch_blob_other(out, out_len, l, &loc, type, id);
	if (error == OB_ECORRUPT && l->agent) {
		/* Remember the damaged copy: a re-read of the index then prefers another, and backups store it again. */
		int saved = error;
		ob_buf why = OB_BUF_INIT;
		if (ob_buf_puts(&why, ob_error_last()) == 0 && ob_damage_record(l->agent, id, type, loc.pack, NULL, why.data) < 0)
			ob_error_clear();
		if (why.data)
			ob_err(saved, OB_ERRCLASS_VAULT, "%s", why.data);
		ob_buf_dispose(&why);
	}
	if (error == OB_ECORRUPT && l->agent && !l->synced) {
		/* The cache may be older than the vault (maintenance repacked it): ask the vault's index once more. */
		int saved = error;
		l->synced = 1;
		if (ob_catalog_exec(l->agent->cat, "DELETE FROM chunk WHERE indexed = 1") == 0 &&
		    ob_locator_sync_catalog(l->agent, l->repo) == 0 && ob_locator_find(&loc, l, id) == 0)
			return ob_fetch_blob_at(out, out_len, l->repo, &loc, type, id);
		error = saved;
	}
	return error;
}
