/* The pipeline: chunks to blobs (hash, deduplicate, compress, seal), packs, and finished files and folder trees. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ob_backup_fail(state *s, int code)
{
	if (!s->error) {
		s->error = code;
		snprintf(s->error_text, sizeof(s->error_text), "%s", ob_error_last());
	}
	atomic_store(&s->pg->cancel, 1);
	/* Whoever waits for room in a queue goes on: the consumers drain what is queued. */
	ob_queue_stop(&s->items);
	ob_queue_stop(&s->uploads);
}

int ob_backup_cancelled(state *s)
{
	return atomic_load(&s->pg->cancel) != 0;
}

/* Is this blob new? Called with s->lock held; marks it known. */
static int claim_blob(state *s, const uint8_t *id)
{
	int found = 0;

	if (ob_idset_has(&s->known, id))
		return 0;
	if (s->cache_empty) {
		/* Nothing stored before this run: only this run's own blobs, all in s->known, can repeat. */
		return ob_idset_add(&s->known, id) < 0 ? -1 : 1;
	}
	found = ob_chunk_lookup_has(s->has_chunk, id) && !ob_idset_has(&s->damaged, id);
	if (ob_idset_add(&s->known, id) < 0)
		return -1;
	return !found;
}

/* Put a finished pack on the upload queue (s->lock held); waits while the queue is full. */
int ob_backup_queue_pack(state *s, int which)
{
	pack_out *po;

	if (!s->packer[which].count)
		return 0;
	if (!(po = calloc(1, sizeof(*po))))
		return ob_err_nomem();
	po->p = s->packer[which];
	memset(&s->packer[which], 0, sizeof(s->packer[which]));
	ob_queue_push(&s->uploads, &po->node, &po->node, 1, 0);
	return 0;
}

/* A data pack starts in a pooled buffer of its full size (s->lock held). */
static int packer_ready(state *s, int type)
{
	ob_packer *p = &s->packer[type];

	if (type != OB_BLOB_DATA || p->data.data)
		return 0;
	if (s->npool) {
		p->data.data = (char *)s->pool[--s->npool];
	} else {
		/* Page-aligned: a local vault writes whole pages of it straight to the disk. */
		void *buf = NULL;
		if (posix_memalign(&buf, 4096, PACK_CAP) != 0)
			return ob_err_nomem();
		p->data.data = buf;
	}
	p->data.cap = PACK_CAP;
	p->data.len = 0;
	p->data.data[0] = '\0';
	return 0;
}

/* Give a pack's buffer back to the pool (s->lock held). */
void ob_backup_pack_release(state *s, ob_packer *p)
{
	if (p->data.data && p->data.cap == PACK_CAP && s->npool < POOL_MAX) {
		s->pool[s->npool++] = (uint8_t *)p->data.data;
		p->data.data = NULL;
	}
	ob_packer_dispose(p);
}

/* Add a sealed blob to its packer; a full pack goes to the upload queue (s->lock held). */
static int add_sealed(state *s, int type, const uint8_t *id, const uint8_t *sealed, size_t sealed_len, size_t len)
{
	int error = packer_ready(s, type);

	if (error == 0)
		error = ob_packer_add(&s->packer[type], type, id, sealed, sealed_len, len);
	if (error == 0 && s->packer[type].data.len >= OB_PACK_TARGET)
		error = ob_backup_queue_pack(s, type);
	return error;
}

/* Seal a blob and add it to its packer (s->lock held for the packer part). */
static int store_blob(state *s, ob_compressor *c, int type, const uint8_t *id, const uint8_t *data, size_t len, int locked)
{
	uint8_t *sealed = malloc(len + OB_BLOB_OVERHEAD);
	size_t sealed_len;
	int error;

	if (!sealed)
		return ob_err_nomem();
	if (locked)
		pthread_mutex_unlock(&s->lock);
	error = ob_blob_seal(sealed, &sealed_len, s->repo, c, type, id, data, len);
	pthread_mutex_lock(&s->lock);
	if (error == 0)
		error = add_sealed(s, type, id, sealed, sealed_len, len);
	if (!locked)
		pthread_mutex_unlock(&s->lock);
	free(sealed);
	return error;
}

void ob_backup_dirnode_free(dirnode *d)
{
	ob_buf_dispose(&d->meta);
	ob_tree_builder_dispose(&d->tb);
	free(d->name);
	free(d->user);
	free(d->group);
	free(d->xattrs);
	free(d);
}

/* A folder's contents are complete: seal its tree, add its entry to its parent (s->lock held). */
int ob_backup_finish_dir(state *s, ob_compressor *c, dirnode *d)
{
	while (d) {
		ob_buf tree = OB_BUF_INIT, enc = OB_BUF_INIT;
		uint8_t id[OB_ID_BYTES];
		dirnode *parent = d->parent;
		int error, is_new;

		if ((error = ob_tree_builder_finish(&tree, &d->tb)) < 0)
			return error;
		ob_repo_blob_id(id, s->repo, tree.data, tree.len);
		is_new = claim_blob(s, id);
		if (is_new < 0 || (is_new && (error = store_blob(s, c, OB_BLOB_TREE, id, (uint8_t *)tree.data, tree.len, 1)) < 0)) {
			ob_buf_dispose(&tree);
			return is_new < 0 ? OB_ENOMEM : error;
		}
		ob_buf_dispose(&tree);
		if (d->is_root) {
			memcpy(s->roots[d->source], id, OB_ID_BYTES);
			s->root_done[d->source] = 1;
			ob_backup_dirnode_free(d);
			return 0;
		}
		d->e.subtree = id;
		if ((error = ob_entry_encode(&enc, &d->e)) == 0)
			error = ob_tree_builder_add(&parent->tb, (uint8_t *)enc.data, enc.len);
		ob_buf_dispose(&enc);
		ob_backup_dirnode_free(d);
		if (error < 0)
			return error;
		if (--parent->pending > 0)
			return 0;
		d = parent;
	}
	return 0;
}

void ob_backup_filejob_free(filejob *f)
{
	free(f->name);
	free(f->user);
	free(f->group);
	free(f->xattrs);
	free(f->ids);
	free(f->cache_dir);
	free(f);
}

/* A file's chunks are all stored: add its entry to its folder (s->lock held). */
int ob_backup_finish_file(state *s, ob_compressor *c, filejob *f)
{
	ob_buf enc = OB_BUF_INIT;
	dirnode *d = f->dir;
	int error;

	if (f->dropped) {
		ob_backup_filejob_free(f);
		return --d->pending == 0 ? ob_backup_finish_dir(s, c, d) : 0;
	}
	f->e.chunks = f->ids;
	f->e.chunk_count = f->chunks;
	if ((error = ob_entry_encode(&enc, &f->e)) == 0)
		error = ob_tree_builder_add(&d->tb, (uint8_t *)enc.data, enc.len);
	if (error == 0 && f->cacheable) {
		ob_file_row *u = calloc(1, sizeof(*u));
		if (!u) {
			error = ob_err_nomem();
		} else {
			u->ds = s->prm->sources[d->source].id;
			u->dir = f->cache_dir;
			f->cache_dir = NULL;
			u->name = f->name;
			f->name = NULL;
			u->size = f->e.size;
			u->mtime_ns = f->e.mtime_ns;
			u->ctime_ns = f->e.ctime_ns;
			u->inode = f->e.inode;
			u->entry_len = enc.len;
			u->entry = (uint8_t *)ob_buf_detach(&enc);
			u->next = s->cache_updates;
			s->cache_updates = u;
		}
	}
	ob_buf_dispose(&enc);
	atomic_fetch_add(&s->pg->files_done, 1);
	ob_backup_filejob_free(f);
	if (error < 0)
		return error;
	if (--d->pending == 0)
		return ob_backup_finish_dir(s, c, d);
	return 0;
}

/*
 * A worker takes up to POP_MAX chunks at a time and goes through the lock twice
 * for all of them, not twice per chunk: hash them all, claim the new ids under the
 * lock, seal the new ones outside it, then add them to the pack and finish files
 * under the lock. With many small files, waiting for the lock was most of the time.
 */
void *ob_backup_worker_main(void *arg)
{
	state *s = arg;
	ob_compressor c = { 0 };
	item *batch[POP_MAX];
	uint8_t ids[POP_MAX][OB_ID_BYTES], *sealed[POP_MAX];
	size_t sealed_len[POP_MAX];
	int is_new[POP_MAX];

	pthread_mutex_lock(&s->lock);
	for (;;) {
		size_t n = 0, i;
		int error = 0;
		ob_queue_node *x = ob_queue_pop(&s->items, POP_MAX, 512u << 10, 0, NULL);

		for (; x; x = x->next)
			batch[n++] = (item *)x;
		if (!n)
			break;
		if (s->error)
			goto release;
		pthread_mutex_unlock(&s->lock);

		for (i = 0; i < n; i++) {
			if (batch[i]->data)
				ob_repo_blob_id(ids[i], s->repo, batch[i]->data, batch[i]->len);
			else
				memcpy(ids[i], s->zero_id, OB_ID_BYTES);
		}
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < n; i++)
			if ((is_new[i] = claim_blob(s, ids[i])) < 0)
				error = OB_ENOMEM;
		pthread_mutex_unlock(&s->lock);

		for (i = 0; i < n; i++) {
			sealed[i] = NULL;
			if (error == 0 && is_new[i] > 0) {
				if (!(sealed[i] = malloc(batch[i]->len + OB_BLOB_OVERHEAD)))
					error = ob_err_nomem();
				else
					error = ob_blob_seal(sealed[i], &sealed_len[i], s->repo, &c, OB_BLOB_DATA, ids[i],
						batch[i]->data ? batch[i]->data : s->zeros, batch[i]->len);
			}
		}
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < n && error == 0; i++) {
			filejob *f = batch[i]->file;
			if (sealed[i] && (error = add_sealed(s, OB_BLOB_DATA, ids[i], sealed[i], sealed_len[i], batch[i]->len)) == 0)
				atomic_fetch_add(&s->pg->bytes_unstored, batch[i]->len);   /* done once its pack is stored */
			if (error == 0) {
				memcpy(f->ids + batch[i]->index * OB_ID_BYTES, ids[i], OB_ID_BYTES);
				atomic_fetch_add(&s->pg->bytes_done, batch[i]->len);
				if (--f->pending == 0)
					error = ob_backup_finish_file(s, &c, f);
			}
		}
		if (error < 0)
			ob_backup_fail(s, error);
		for (i = 0; i < n; i++)
			free(sealed[i]);
release:
		for (i = 0; i < n; i++) {
			free(batch[i]->data);
			free(batch[i]);
		}
	}
	s->workers_active--;
	pthread_mutex_unlock(&s->lock);
	ob_compressor_dispose(&c);
	return NULL;
}

/* Queue the scanner's batch for the workers (one wake-up per batch); waits while too much is in flight. */
void ob_backup_flush_batch(state *s)
{
	if (!s->bhead)
		return;
	pthread_mutex_lock(&s->lock);
	ob_queue_push(&s->items, &s->bhead->node, &s->btail->node, s->bcount, s->bbytes);
	s->bhead = s->btail = NULL;
	s->bcount = s->bbytes = 0;
	pthread_mutex_unlock(&s->lock);
}

/* Hand a chunk to the workers, through the scanner's batch (data NULL: the all-zero chunk). */
int ob_backup_submit(state *s, filejob *f, uint8_t *data, size_t len)
{
	item *it = malloc(sizeof(*it));

	if (!it) {
		free(data);
		return ob_err_nomem();
	}
	pthread_mutex_lock(&s->lock);
	if (f->chunks == f->ids_cap) {
		size_t cap = f->ids_cap ? f->ids_cap * 2 : 4;
		uint8_t *ids = realloc(f->ids, cap * OB_ID_BYTES);
		if (!ids) {
			pthread_mutex_unlock(&s->lock);
			free(data);
			free(it);
			return ob_err_nomem();
		}
		f->ids = ids;
		f->ids_cap = cap;
	}
	it->file = f;
	it->index = f->chunks++;
	it->data = data;
	it->len = len;
	it->node.next = NULL;
	it->node.bytes = len;
	f->pending++;
	pthread_mutex_unlock(&s->lock);
	if (s->btail)
		s->btail->node.next = &it->node;
	else
		s->bhead = it;
	s->btail = it;
	s->bcount++;
	s->bbytes += len;
	if (s->bcount >= BATCH_ITEMS || s->bbytes >= BATCH_BYTES)
		ob_backup_flush_batch(s);
	return 0;
}
