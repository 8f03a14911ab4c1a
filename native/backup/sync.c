/* The syncer: stored packs made durable, then recorded in the chunk cache; index objects; orphaned packs. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"
#include "agent/damage.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct recorded {
	const ob_pack_entry *e;
	const uint8_t *pack;
} recorded;

static int recorded_cmp(const void *a, const void *b)
{
	return memcmp(((const recorded *)a)->e->id, ((const recorded *)b)->e->id, OB_ID_BYTES);
}

/*
 * Record the blobs of stored (and synced) packs in the chunk cache, and stage the
 * file cache rows of the files finished so far, in one transaction. Frees files.
 */
static int record_packs(state *s, sqlite3_stmt *ins, sqlite3_stmt *stage, pack_out *list, cache_update *files)
{
	pack_out *po;
	recorded *v;
	size_t n = 0, i, k;
	int error = 0;

	for (po = list; po; po = pack_next(po))
		n += po->p.count;
	if (!(v = malloc((n ? n : 1) * sizeof(*v)))) {
		ob_backup_free_cache_list(files);
		return ob_err_nomem();
	}
	n = 0;
	for (po = list; po; po = pack_next(po))
		for (i = 0; i < po->p.count; i++) {
			v[n].e = &po->p.entries[i];
			v[n++].pack = po->pack_id;
		}
	/* In id order: each page of the table is visited once, not once per blob (ids are random). */
	qsort(v, n, sizeof(*v), recorded_cmp);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		free(v);
		ob_backup_free_cache_list(files);
		return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(s->db));
	}
	for (k = 0; k < n && error == 0; k++) {
		const ob_pack_entry *e = v[k].e;
		sqlite3_reset(ins);
		sqlite3_bind_blob(ins, 1, e->id, OB_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int(ins, 2, e->type);
		sqlite3_bind_blob(ins, 3, v[k].pack, OB_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, e->offset);
		sqlite3_bind_int64(ins, 5, e->length);
		sqlite3_bind_int64(ins, 6, e->raw_length);
		if (sqlite3_step(ins) != SQLITE_DONE)
			error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(s->db));
	}
	free(v);
	if (error == 0)
		error = ob_backup_stage_cache(s, stage, files);
	else
		ob_backup_free_cache_list(files);
	if (sqlite3_exec(s->db, error ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !error)
		error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(s->db));
	return error;
}

/* The file bytes of the data blobs in a batch of packs (before compression). */
static uint64_t data_bytes(const pack_out *batch)
{
	uint64_t n = 0;
	size_t i;

	for (; batch; batch = pack_next(batch))
		for (i = 0; i < batch->p.count; i++)
			if (batch->p.entries[i].type == OB_BLOB_DATA)
				n += batch->p.entries[i].raw_length;
	return n;
}

/*
 * The syncer: makes written packs durable in batches, then records their blobs.
 * A blob is recorded only once its pack is durable, so that neither a crash nor
 * a power loss can leave the cache naming data the vault lacks.
 */
void *ob_backup_syncer_main(void *arg)
{
	state *s = arg;
	sqlite3_stmt *ins = NULL, *stage = NULL;
	ob_backend *be = s->repo->vc.be;

	if (sqlite3_prepare_v2(s->db, OB_DAMAGE_CHUNK_UPSERT("0"), -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, STAGE_SQL, -1, &stage, NULL) != SQLITE_OK) {
		pthread_mutex_lock(&s->lock);
		ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(s->db));
		ob_backup_fail(s, OB_ERROR);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		pack_out *batch, *po, *next;
		cache_update *files;
		int error = 0;

		/* All that is stored so far, as soon as there is a pack: the syncs overlap the next writes. */
		if (!(batch = (pack_out *)ob_queue_pop(&s->written, SIZE_MAX, SIZE_MAX, 0, NULL)))
			break;
		files = s->cache_updates;     /* the rows of the files finished so far go with this batch */
		s->cache_updates = NULL;
		pthread_mutex_unlock(&s->lock);

		if (s->error)
			error = s->error;
		else if (be->sync && (error = be->sync(be)) < 0)
			;
		else if (!ins || !stage)
			error = OB_ERROR;
		else {
			size_t recorded_now = 0;
			for (po = batch; po; po = pack_next(po))
				recorded_now += po->p.count;
			error = record_packs(s, ins, stage, batch, files);
			files = NULL;
			/* Index objects as the blobs add up, not all at the end: the end is the part no thread overlaps. */
			if (error == 0 && (s->unindexed += recorded_now) >= INDEX_EVERY) {
				error = ob_backup_flush_index(s->prm->agent, s->repo);
				s->unindexed = 0;
			}
		}
		ob_backup_free_cache_list(files);
		/* Bytes uploaded count as each pack is stored (the uploader); progress counts new data once it is synced. */
		if (error == 0)
			atomic_fetch_sub(&s->pg->bytes_unstored, data_bytes(batch));

		pthread_mutex_lock(&s->lock);
		if (error < 0)
			ob_backup_fail(s, error);
		for (po = batch; po; po = next) {
			next = pack_next(po);
			ob_packer_dispose(&po->p);
			free(po);
		}
	}
	pthread_mutex_unlock(&s->lock);
	sqlite3_finalize(ins);
	sqlite3_finalize(stage);
	return NULL;
}

/*
 * After a run that did not end: find packs in the vault that no chunk record
 * names (written, then the run died before recording them), check each one
 * whole (its name is the SHA-256 of its bytes; a pack cut short by a power loss
 * fails that and stays garbage for maintenance) and record its blobs, so that
 * nothing already stored is uploaded again.
 */
int ob_backup_recover_orphans(state *s)
{
	ob_repo *repo = s->prm->repo;
	ob_name_list l = { 0 };
	ob_idset known = OB_IDSET_INIT;
	sqlite3_stmt *q = NULL, *ins = NULL;
	char prefix[96];
	size_t i, j;
	int error;

	if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT pack FROM chunk", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO chunk (id, type, pack, offset, length, raw_length, indexed) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)", -1, &ins, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(s->prm->agent->cat, "Cannot read the chunk cache");
		goto done;
	}
	while (sqlite3_step(q) == SQLITE_ROW)
		if (sqlite3_column_bytes(q, 0) == OB_ID_BYTES && ob_idset_add(&known, sqlite3_column_blob(q, 0)) < 0) {
			error = OB_ENOMEM;
			goto done;
		}
	snprintf(prefix, sizeof(prefix), "%spacks/", repo->prefix);
	if ((error = ob_vault_list_names(&l, repo->vc.be, prefix, strlen(prefix) + 3)) < 0)
		goto done;
	/* Our job lock means no put of ours is under way: what interrupted puts left can go. */
	if (repo->vc.be->cleanup)
		repo->vc.be->cleanup(repo->vc.be, prefix);
	for (i = 0; i < l.n && error == 0; i++) {
		uint8_t id[OB_ID_BYTES], digest[32];
		void *data = NULL;
		size_t len;
		char name[200];
		ob_pack_entry *e = NULL;
		size_t n = 0;
		if (ob_id_parse(id, l.v[i]) < 0 || ob_idset_has(&known, id))
			continue;
		ob_repo_pack_name(name, sizeof(name), repo, id);
		if (repo->vc.be->get(&data, &len, repo->vc.be, name, 0, 0) < 0) {
			ob_error_clear();
			continue;
		}
		ob_sha256(digest, data, len);
		free(data);
		if (memcmp(digest, id, OB_ID_BYTES) != 0 || ob_pack_read_header(&e, &n, repo, id) < 0) {
			ob_error_clear();
			continue;  /* incomplete or not ours: left for maintenance */
		}
		sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		for (j = 0; j < n; j++) {
			sqlite3_reset(ins);
			sqlite3_bind_blob(ins, 1, e[j].id, OB_ID_BYTES, SQLITE_STATIC);
			sqlite3_bind_int(ins, 2, e[j].type);
			sqlite3_bind_blob(ins, 3, id, OB_ID_BYTES, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 4, e[j].offset);
			sqlite3_bind_int64(ins, 5, e[j].length);
			sqlite3_bind_int64(ins, 6, e[j].raw_length);
			if (sqlite3_step(ins) != SQLITE_DONE)
				error = ob_catalog_fail(s->prm->agent->cat, "Cannot record recovered chunks");
		}
		sqlite3_exec(s->db, error ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
		free(e);
	}
done:
	sqlite3_finalize(q);
	sqlite3_finalize(ins);
	ob_idset_dispose(&known);
	ob_name_list_dispose(&l);
	return error;
}

int ob_backup_flush_index(ob_agent *agent, ob_repo *repo)
{
	sqlite3 *db = ob_catalog_db(agent->cat);
	sqlite3_stmt *q = NULL;
	ob_index_entry *v = NULL;
	size_t n = 0, cap = 0;
	int error = 0, rc;

	if (sqlite3_prepare_v2(db, "SELECT id, type, pack, offset, length, raw_length FROM chunk WHERE indexed = 0",
		-1, &q, NULL) != SQLITE_OK)
		return ob_catalog_fail(agent->cat, "Cannot read the chunk cache");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			ob_index_entry *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				error = ob_err_nomem();
				break;
			}
			v = nv;
			cap = ncap;
		}
		if (sqlite3_column_bytes(q, 0) != OB_ID_BYTES || sqlite3_column_bytes(q, 2) != OB_ID_BYTES)
			continue;
		memcpy(v[n].blob.id, sqlite3_column_blob(q, 0), OB_ID_BYTES);
		v[n].blob.type = (uint8_t)sqlite3_column_int(q, 1);
		memcpy(v[n].pack, sqlite3_column_blob(q, 2), OB_ID_BYTES);
		v[n].blob.offset = (uint32_t)sqlite3_column_int64(q, 3);
		v[n].blob.length = (uint32_t)sqlite3_column_int64(q, 4);
		v[n].blob.raw_length = (uint32_t)sqlite3_column_int64(q, 5);
		n++;
	}
	sqlite3_finalize(q);
	if (error == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		error = ob_catalog_fail(agent->cat, "Cannot read the chunk cache");
	if (error == 0)
		error = ob_index_write_all(repo, v, n);
	if (error == 0 && n > 0)
		error = ob_catalog_exec(agent->cat, "UPDATE chunk SET indexed = 1 WHERE indexed = 0");
	free(v);
	return error;
}

