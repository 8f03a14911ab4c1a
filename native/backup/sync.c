/* The syncer: stored packs made durable, then recorded in the chunk cache; index objects; orphaned packs. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int row_cmp(const void *a, const void *b)
{
	return memcmp(((const ob_chunk_row *)a)->id, ((const ob_chunk_row *)b)->id, OB_ID_BYTES);
}

static void pack_row(ob_chunk_row *r, const ob_pack_entry *e, const uint8_t *pack)
{
	r->id = e->id;
	r->type = e->type;
	r->pack = pack;
	r->offset = e->offset;
	r->length = e->length;
	r->raw_length = e->raw_length;
}

/*
 * Record the blobs of stored (and synced) packs in the chunk cache, and stage the
 * file cache rows of the files finished so far, in one transaction. Frees files.
 */
static int record_packs(ob_chunk_recorder *rec, pack_out *list, ob_file_row *files)
{
	pack_out *po;
	ob_chunk_row *v;
	size_t n = 0, i;
	int error;

	for (po = list; po; po = pack_next(po))
		n += po->p.count;
	if (!(v = malloc((n ? n : 1) * sizeof(*v)))) {
		ob_backup_free_cache_list(files);
		return ob_err_nomem();
	}
	n = 0;
	for (po = list; po; po = pack_next(po))
		for (i = 0; i < po->p.count; i++)
			pack_row(&v[n++], &po->p.entries[i], po->pack_id);
	/* In id order: each page of the table is visited once, not once per blob (ids are random). */
	qsort(v, n, sizeof(*v), row_cmp);
	error = ob_chunk_record(rec, v, n, files);
	free(v);
	ob_backup_free_cache_list(files);
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
	ob_chunk_recorder *rec = NULL;
	ob_backend *be = s->repo->vc.be;

	if (ob_chunk_recorder_open(&rec, s->prm->agent->cat) < 0) {
		pthread_mutex_lock(&s->lock);
		ob_backup_fail(s, OB_ERROR);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		pack_out *batch, *po, *next;
		ob_file_row *files;
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
		else if (!rec)
			error = OB_ERROR;
		else {
			size_t recorded_now = 0;
			for (po = batch; po; po = pack_next(po))
				recorded_now += po->p.count;
			error = record_packs(rec, batch, files);
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
	ob_chunk_recorder_free(rec);
	return NULL;
}

/*
 * Whether every blob a pack's header names opens from the pack's bytes and is
 * the blob named. The header alone proves nothing: its sealing names no pack, so
 * anyone can put a copy of a genuine header after bytes of their own, name the
 * result by its hash (docs/SECURITY.md) and have its blobs recorded here.
 */
static int blobs_open(const ob_repo *repo, const ob_pack_entry *e, size_t n, const uint8_t *data, size_t len)
{
	size_t j;

	for (j = 0; j < n; j++) {
		uint8_t *plain = NULL;
		size_t plen = 0;
		int rc;
		if ((uint64_t)e[j].offset + e[j].length > len)
			return 0;
		rc = ob_blob_open(&plain, &plen, repo, e[j].type, e[j].id, data + e[j].offset, e[j].length, e[j].raw_length);
		free(plain);
		if (rc < 0)
			return 0;
	}
	return 1;
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
	char prefix[96];
	size_t i, j;
	int error;

	if ((error = ob_chunk_known_packs(&known, s->prm->agent->cat)) < 0)
		goto done;
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
		if (memcmp(digest, id, OB_ID_BYTES) != 0 || ob_pack_read_header(&e, &n, repo, id) < 0 ||
		    !blobs_open(repo, e, n, data, len)) {
			ob_error_clear();
			free(data);
			free(e);
			continue;  /* incomplete or not ours: left for maintenance */
		}
		free(data);
		{
			ob_chunk_row *rows = malloc((n ? n : 1) * sizeof(*rows));
			if (!rows) {
				error = ob_err_nomem();
			} else {
				for (j = 0; j < n; j++)
					pack_row(&rows[j], &e[j], id);
				error = ob_chunk_record_recovered(s->prm->agent->cat, rows, n);
				free(rows);
			}
		}
		free(e);
	}
done:
	ob_idset_dispose(&known);
	ob_name_list_dispose(&l);
	return error;
}

typedef struct unindexed {
	ob_index_entry *v;
	size_t n, cap;
} unindexed;

static int unindexed_add(const ob_chunk_row *row, void *payload)
{
	unindexed *u = payload;
	ob_index_entry *x;

	if (u->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 1024;
		ob_index_entry *nv = realloc(u->v, ncap * sizeof(*nv));
		if (!nv)
			return ob_err_nomem();
		u->v = nv;
		u->cap = ncap;
	}
	x = &u->v[u->n++];
	memcpy(x->blob.id, row->id, OB_ID_BYTES);
	x->blob.type = (uint8_t)row->type;
	memcpy(x->pack, row->pack, OB_ID_BYTES);
	x->blob.offset = (uint32_t)row->offset;
	x->blob.length = (uint32_t)row->length;
	x->blob.raw_length = (uint32_t)row->raw_length;
	return 0;
}

int ob_backup_flush_index(ob_agent *agent, ob_repo *repo)
{
	unindexed u = { NULL, 0, 0 };
	int error = ob_chunk_each_unindexed(agent->cat, unindexed_add, &u);

	if (error == 0)
		error = ob_index_write_all(repo, u.v, u.n);
	if (error == 0 && u.n > 0)
		error = ob_chunk_mark_indexed(agent->cat);
	free(u.v);
	return error;
}
