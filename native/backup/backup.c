/* The backup pipeline: scan, chunk, deduplicate, compress, seal, pack, upload; then index and point. */
#define _GNU_SOURCE
#include "backup/backup.h"
#include "agent/damage.h"
#include "util/env.h"
#include "util/error.h"
#include "util/idset.h"
#include "agent/locate.h"
#include "vault/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 2
#define INFLIGHT_BYTES (16u << 20)
#define INFLIGHT_ITEMS 512
#define UPLOAD_QUEUE 1         /* packs queued or being sent, per uploader */
#define REMOTE_UPLOADERS 3     /* a remote vault takes packs over several connections at once */
#define READ_WINDOW (6u << 20)
#define PACK_CAP (OB_PACK_TARGET + OB_CHUNK_MAX + (2u << 20))   /* a full pack, its last blob, a header */
#define POOL_MAX 3
#define SYNC_BATCH 1          /* sync as soon as a pack is written: the syncs overlap the next writes */
#define BATCH_ITEMS 64
#define BATCH_BYTES (4u << 20)
#define POP_MAX 16
#define INDEX_EVERY 16384      /* the syncer writes an index object once this many blobs are recorded */

/* ---- selection rules ---- */

typedef struct rule {
	char *base;        /* the folder (wildcard rules) or the path */
	size_t base_len;
	char *pattern;     /* last component with wildcards, or NULL */
	int exclude;
	int recursive;
} rule;

typedef struct ruleset {
	rule *r;
	size_t n;
} ruleset;

static void rules_dispose(ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->r[i].base);
		free(rs->r[i].pattern);
	}
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

static int rules_build(ruleset *rs, const ob_backup_source *src)
{
	size_t i;

	memset(rs, 0, sizeof(*rs));
	if (!(rs->r = calloc(src->spec_count ? src->spec_count : 1, sizeof(rule))))
		return ob_err_nomem();
	for (i = 0; i < src->spec_count; i++) {
		const char *spec = src->specs[i].spec, *slash = strrchr(spec, '/');
		rule *r = &rs->r[rs->n++];
		r->exclude = src->specs[i].is_exclude;
		r->recursive = src->specs[i].is_recursive;
		if (slash && strpbrk(slash + 1, "*?[")) {
			r->base = slash == spec ? ob_strdup("/") : strndup(spec, (size_t)(slash - spec));
			r->pattern = ob_strdup(slash + 1);
			if (!r->base || !r->pattern)
				return ob_err_nomem();
		} else if (!(r->base = ob_strdup(spec))) {
			return OB_ENOMEM;
		}
		r->base_len = strlen(r->base);
	}
	return 0;
}

/*
 * Whether a file name matches a rule's pattern, with MARS's (Windows's) reading:
 * '*' matches a leading dot too, and a pattern ending in ".*" also matches the
 * name without an extension, so "*.*" is every file and "report.*" takes "report".
 */
static int name_matches(const char *pattern, const char *name)
{
	size_t pl = strlen(pattern);
	char stem[256]; /* one path component */

	if (fnmatch(pattern, name, 0) == 0)
		return 1;
	if (pl < 2 || pattern[pl - 2] != '.' || pattern[pl - 1] != '*' || pl - 2 >= sizeof(stem) || strchr(name, '.'))
		return 0;
	memcpy(stem, pattern, pl - 2);
	stem[pl - 2] = '\0';
	return fnmatch(stem, name, 0) == 0;
}

/* Is path p (length n) equal to or below folder base? */
static int under(const char *p, size_t n, const char *base, size_t bl)
{
	if (bl == 1 && base[0] == '/')
		return 1;
	return n >= bl && memcmp(p, base, bl) == 0 && (n == bl || p[bl] == '/');
}

static size_t parent_len(const char *p, size_t n)
{
	while (n > 1 && p[n - 1] != '/')
		n--;
	return n > 1 ? n - 1 : 1;
}

/*
 * Whether a path is selected: the most specific matching rule decides (the
 * longest base; a wildcard rule is more specific than its folder; an exclusion
 * wins a tie). 1 selected, 0 not.
 */
static int selected(const ruleset *rs, const char *p, size_t n, int is_dir)
{
	size_t i, pl = parent_len(p, n), best = 0;
	int found = 0, verdict = 0;
	const char *name = p + (pl == 1 ? 1 : pl + 1);

	for (i = 0; i < rs->n; i++) {
		const rule *r = &rs->r[i];
		size_t score;
		if (r->pattern) {
			int in_dir = pl == r->base_len && memcmp(p, r->base, pl) == 0;
			/* An inclusion's pattern names files (as MARS's C:\dir\*.*): folders are only walked through. */
			if (is_dir && !r->exclude)
				continue;
			if (!(in_dir || (r->recursive && under(p, pl, r->base, r->base_len))))
				continue;
			if (!name_matches(r->pattern, name))
				continue;
			score = 2 * r->base_len + 1;
		} else if (n == r->base_len && memcmp(p, r->base, n) == 0) {
			score = 2 * r->base_len;
		} else if (under(p, n, r->base, r->base_len)) {
			/* Below the rule's folder: recursive rules cover all, others the folder's own files. */
			if (!r->recursive && (is_dir || pl != r->base_len))
				continue;
			score = 2 * r->base_len;
		} else {
			continue;
		}
		if (!found || score > best || (score == best && r->exclude)) {
			best = score;
			verdict = !r->exclude;
			found = 1;
		}
	}
	return found && verdict;
}

/*
 * Whether an exclusion keeps folder p (length n) out although the wildcard
 * inclusion r matches file names below it: a recursive exclusion of p or of a
 * folder above it that is more specific than r (selected's scores), or a
 * wildcard exclusion that names p and is at least as specific (as a folder that
 * an exclusion names is not walked into).
 */
static int excluded_below(const ruleset *rs, const rule *r, const char *p, size_t n)
{
	size_t i, pl = parent_len(p, n);
	const char *name = p + (pl == 1 ? 1 : pl + 1);

	for (i = 0; i < rs->n; i++) {
		const rule *e = &rs->r[i];
		if (!e->exclude)
			continue;
		if (e->pattern) {
			int in_dir = pl == e->base_len && memcmp(p, e->base, pl) == 0;
			if ((in_dir || (e->recursive && under(p, pl, e->base, e->base_len))) && e->base_len >= r->base_len &&
			    name_matches(e->pattern, name))
				return 1;
		} else if (e->recursive && e->base_len > r->base_len && under(p, n, e->base, e->base_len)) {
			return 1;
		}
	}
	return 0;
}

/*
 * Whether folder p can hold a file that an inclusion selects: some inclusion
 * lies strictly below it, or p is the folder of a wildcard inclusion (or, when
 * that one is recursive, one of its subfolders) and no exclusion keeps p's files out.
 */
static int leads_to_inclusion(const ruleset *rs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const rule *r = &rs->r[i];
		if (r->exclude)
			continue;
		if (r->base_len > n && under(r->base, r->base_len, p, n))
			return 1;
		if (r->pattern && ((n == r->base_len && memcmp(p, r->base, n) == 0) ||
		    (r->recursive && under(p, n, r->base, r->base_len))) && !excluded_below(rs, r, p, n))
			return 1;
	}
	return 0;
}

/*
 * Whether a path can matter at all: it lies on the way to an inclusion or below
 * one. Only those are looked at, so a walk down to /srv/data never touches /srv's
 * other entries.
 */
static int worth_looking(const ruleset *rs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const rule *r = &rs->r[i];
		if (!r->exclude && (under(p, n, r->base, r->base_len) || under(r->base, r->base_len, p, n)))
			return 1;
	}
	return 0;
}

/* ---- the pipeline's state ---- */

typedef struct dirnode dirnode;
typedef struct filejob filejob;

struct dirnode {
	dirnode *parent;
	ob_buf meta;             /* this folder's encoded entry, less its subtree id (filled at the end) */
	ob_entry e;              /* this folder's own metadata */
	char *name;
	char *user, *group;
	uint8_t *xattrs;
	size_t xattrs_len;
	uint32_t xattr_count;
	ob_tree_builder tb;
	size_t pending;          /* scan + unfinished files + unfinished subfolders */
	int is_root;
	size_t source;           /* index of its data source */
};

struct filejob {
	dirnode *dir;
	ob_entry e;
	char *name, *user, *group;
	uint8_t *xattrs;
	size_t xattrs_len;
	uint32_t xattr_count;
	uint8_t *ids;
	size_t ids_cap, chunks;
	size_t pending;          /* reading + unfinished chunks */
	char *cache_dir;         /* for the file cache: folder path */
	int cacheable;
	int dropped;             /* could not be read: left out of the tree */
};

typedef struct item {
	filejob *file;
	size_t index;
	uint8_t *data;           /* NULL: the all-zero chunk (state's zeros, zero_len bytes) */
	size_t len;
	struct item *next;
} item;

typedef struct pack_out {
	ob_packer p;
	uint8_t pack_id[OB_ID_BYTES];
	uint64_t size;
	struct pack_out *next;
} pack_out;

typedef struct cache_update {
	int64_t ds;
	char *dir;
	char *name;
	uint64_t size;
	int64_t mtime_ns, ctime_ns;
	uint64_t inode;
	uint8_t *entry;
	size_t entry_len;
	struct cache_update *next;
} cache_update;

typedef struct state {
	const ob_backup_params *prm;
	item *bhead, *btail;          /* the scanner's batch, not yet queued */
	size_t bcount, bbytes;
	ob_repo *repo;
	sqlite3 *db;
	ob_backup_progress *pg;

	pthread_mutex_t lock;         /* queue, trees, files, known ids, packers, cache list */
	pthread_cond_t queue_cond;    /* items available or done */
	pthread_cond_t space_cond;    /* room in the queue */
	pthread_cond_t upload_cond;   /* upload queue changes */
	item *head, *tail;
	size_t queued_items, queued_bytes;
	int scan_done;
	int workers_active;

	ob_idset known;
	ob_packer packer[2];          /* data, trees */
	pack_out *uploads, *uploads_tail;
	size_t uploads_queued;
	int uploader_done;
	int uploaders, uploaders_active;   /* upload threads, and those still running */
	pack_out *written, *written_tail;  /* stored, waiting for a sync before being recorded */
	size_t nwritten;
	int writer_done;
	pthread_cond_t sync_cond;
	uint8_t *pool[POOL_MAX];           /* pack buffers, reused: no page faults per pack */
	size_t npool;

	int error;                    /* first fatal error */
	char error_text[1024];

	uint8_t roots[8][OB_ID_BYTES];
	int root_done[8];
	uint64_t files_total, bytes_total;
	cache_update *cache_updates;

	sqlite3_stmt *has_chunk;
	ob_idset damaged;             /* blobs whose cached copy is damaged: stored again (native/agent/damage.h) */
	int cache_empty;              /* the chunk cache held nothing when the run started */
	uint64_t generation;          /* the vault generation the caches were checked at */
	int generation_open;          /* ... while the maintenance run that took it may have been deleting */
	size_t unindexed;             /* blobs the syncer recorded since the last index object */

	/* The chunk a run of zeros at a chunk's start gives (a sparse file's holes), made once. */
	uint8_t *zeros;               /* OB_CHUNK_MAX zero bytes */
	size_t zero_len;              /* its length (the chunker's cut in zeros); 0 until made */
	uint8_t zero_id[OB_ID_BYTES];
} state;

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

static void fail(state *s, int code)
{
	if (!s->error) {
		s->error = code;
		snprintf(s->error_text, sizeof(s->error_text), "%s", ob_error_last());
	}
	atomic_store(&s->pg->cancel, 1);
}

static int cancelled(state *s)
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
	sqlite3_reset(s->has_chunk);
	sqlite3_bind_blob(s->has_chunk, 1, id, OB_ID_BYTES, SQLITE_STATIC);
	found = sqlite3_step(s->has_chunk) == SQLITE_ROW && !ob_idset_has(&s->damaged, id);
	sqlite3_reset(s->has_chunk);
	if (ob_idset_add(&s->known, id) < 0)
		return -1;
	return !found;
}

/* Put a finished pack on the upload queue (s->lock held); waits while the queue is full. */
static int queue_pack(state *s, int which)
{
	pack_out *po;

	if (!s->packer[which].count)
		return 0;
	if (!(po = calloc(1, sizeof(*po))))
		return ob_err_nomem();
	po->p = s->packer[which];
	memset(&s->packer[which], 0, sizeof(s->packer[which]));
	while (s->uploads_queued >= (size_t)UPLOAD_QUEUE * (size_t)s->uploaders && !s->error)
		pthread_cond_wait(&s->upload_cond, &s->lock);
	if (s->uploads_tail)
		s->uploads_tail->next = po;
	else
		s->uploads = po;
	s->uploads_tail = po;
	s->uploads_queued++;
	pthread_cond_broadcast(&s->upload_cond);
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
static void pack_release(state *s, ob_packer *p)
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
		error = queue_pack(s, type);
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

static void dirnode_free(dirnode *d)
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
static int finish_dir(state *s, ob_compressor *c, dirnode *d)
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
			dirnode_free(d);
			return 0;
		}
		d->e.subtree = id;
		if ((error = ob_entry_encode(&enc, &d->e)) == 0)
			error = ob_tree_builder_add(&parent->tb, (uint8_t *)enc.data, enc.len);
		ob_buf_dispose(&enc);
		dirnode_free(d);
		if (error < 0)
			return error;
		if (--parent->pending > 0)
			return 0;
		d = parent;
	}
	return 0;
}

static void filejob_free(filejob *f)
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
static int finish_file(state *s, ob_compressor *c, filejob *f)
{
	ob_buf enc = OB_BUF_INIT;
	dirnode *d = f->dir;
	int error;

	if (f->dropped) {
		filejob_free(f);
		return --d->pending == 0 ? finish_dir(s, c, d) : 0;
	}
	f->e.chunks = f->ids;
	f->e.chunk_count = f->chunks;
	if ((error = ob_entry_encode(&enc, &f->e)) == 0)
		error = ob_tree_builder_add(&d->tb, (uint8_t *)enc.data, enc.len);
	if (error == 0 && f->cacheable) {
		cache_update *u = calloc(1, sizeof(*u));
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
	filejob_free(f);
	if (error < 0)
		return error;
	if (--d->pending == 0)
		return finish_dir(s, c, d);
	return 0;
}

/*
 * A worker takes up to POP_MAX chunks at a time and goes through the lock twice
 * for all of them, not twice per chunk: hash them all, claim the new ids under the
 * lock, seal the new ones outside it, then add them to the pack and finish files
 * under the lock. With many small files, waiting for the lock was most of the time.
 */
static void *worker_main(void *arg)
{
	state *s = arg;
	ob_compressor c = { 0 };
	item *batch[POP_MAX];
	uint8_t ids[POP_MAX][OB_ID_BYTES], *sealed[POP_MAX];
	size_t sealed_len[POP_MAX];
	int is_new[POP_MAX];

	pthread_mutex_lock(&s->lock);
	for (;;) {
		size_t n = 0, i, taken = 0;
		int error = 0;

		while (!s->head && !s->scan_done)
			pthread_cond_wait(&s->queue_cond, &s->lock);
		while (n < POP_MAX && s->head && taken < (512u << 10)) {
			item *x = s->head;
			taken += x->len;
			s->head = x->next;
			x->next = NULL;
			batch[n++] = x;
			s->queued_items--;
			s->queued_bytes -= x->len;
		}
		if (!s->head)
			s->tail = NULL;
		if (!n)
			break;
		pthread_cond_broadcast(&s->space_cond);
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
					error = finish_file(s, &c, f);
			}
		}
		if (error < 0)
			fail(s, error);
		for (i = 0; i < n; i++)
			free(sealed[i]);
release:
		for (i = 0; i < n; i++) {
			free(batch[i]->data);
			free(batch[i]);
		}
	}
	s->workers_active--;
	pthread_cond_broadcast(&s->queue_cond);
	pthread_mutex_unlock(&s->lock);
	ob_compressor_dispose(&c);
	return NULL;
}

static void free_cache_list(cache_update *u)
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
static int stage_cache(state *s, sqlite3_stmt *ins, cache_update *list)
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
		free_cache_list(u);
	}
	return error;
}

#define STAGE_SQL "INSERT OR REPLACE INTO file_cache_stage (datasource_id, dir, name, size, mtime_ns, " \
	"ctime_ns, inode, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"

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

	for (po = list; po; po = po->next)
		n += po->p.count;
	if (!(v = malloc((n ? n : 1) * sizeof(*v)))) {
		free_cache_list(files);
		return ob_err_nomem();
	}
	n = 0;
	for (po = list; po; po = po->next)
		for (i = 0; i < po->p.count; i++) {
			v[n].e = &po->p.entries[i];
			v[n++].pack = po->pack_id;
		}
	/* In id order: each page of the table is visited once, not once per blob (ids are random). */
	qsort(v, n, sizeof(*v), recorded_cmp);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		free(v);
		free_cache_list(files);
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
		error = stage_cache(s, stage, files);
	else
		free_cache_list(files);
	if (sqlite3_exec(s->db, error ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !error)
		error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(s->db));
	return error;
}

/* The file bytes of the data blobs in a batch of packs (before compression). */
static uint64_t data_bytes(const pack_out *batch)
{
	uint64_t n = 0;
	size_t i;

	for (; batch; batch = batch->next)
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
static void *syncer_main(void *arg)
{
	state *s = arg;
	sqlite3_stmt *ins = NULL, *stage = NULL;
	ob_backend *be = s->repo->vc.be;

	if (sqlite3_prepare_v2(s->db, OB_DAMAGE_CHUNK_UPSERT("0"), -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, STAGE_SQL, -1, &stage, NULL) != SQLITE_OK) {
		pthread_mutex_lock(&s->lock);
		ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot record stored chunks: %s.", sqlite3_errmsg(s->db));
		fail(s, OB_ERROR);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		pack_out *batch, *po, *next;
		cache_update *files;
		int error = 0;

		while (s->nwritten < SYNC_BATCH && !s->writer_done)
			pthread_cond_wait(&s->sync_cond, &s->lock);
		if (!s->written)
			break;
		batch = s->written;
		s->written = s->written_tail = NULL;
		s->nwritten = 0;
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
			for (po = batch; po; po = po->next)
				recorded_now += po->p.count;
			error = record_packs(s, ins, stage, batch, files);
			files = NULL;
			/* Index objects as the blobs add up, not all at the end: the end is the part no thread overlaps. */
			if (error == 0 && (s->unindexed += recorded_now) >= INDEX_EVERY) {
				error = ob_backup_flush_index(s->prm->agent, s->repo);
				s->unindexed = 0;
			}
		}
		free_cache_list(files);
		/* Bytes uploaded count as each pack is stored (the uploader); progress counts new data once it is synced. */
		if (error == 0)
			atomic_fetch_sub(&s->pg->bytes_unstored, data_bytes(batch));

		pthread_mutex_lock(&s->lock);
		if (error < 0)
			fail(s, error);
		for (po = batch; po; po = next) {
			next = po->next;
			ob_packer_dispose(&po->p);
			free(po);
		}
	}
	pthread_mutex_unlock(&s->lock);
	sqlite3_finalize(ins);
	sqlite3_finalize(stage);
	return NULL;
}

static void *uploader_main(void *arg)
{
	state *s = arg;
	ob_backend *be = s->repo->vc.be;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		pack_out *po;
		char name[160];
		int error;

		while (!s->uploads && !s->uploader_done)
			pthread_cond_wait(&s->upload_cond, &s->lock);
		if (!s->uploads)
			break;
		po = s->uploads;
		s->uploads = po->next;
		if (!s->uploads)
			s->uploads_tail = NULL;
		pthread_mutex_unlock(&s->lock);

		error = s->error ? s->error : ob_packer_finish(&po->p, s->repo, po->pack_id);
		if (error == 0) {
			ob_repo_pack_name(name, sizeof(name), s->repo, po->pack_id);
			po->size = po->p.data.len;
			error = be->put_nosync ? be->put_nosync(be, name, po->p.data.data, po->p.data.len)
					       : be->put(be, name, po->p.data.data, po->p.data.len);
			if (error == OB_EEXISTS) {
				ob_error_clear();
				error = 0;  /* the same bytes are there already */
			} else if (error == 0) {
				/* Counted once stored, even if the run fails later: a failed job says what it uploaded. */
				atomic_fetch_add(&s->pg->bytes_uploaded, po->size);
			}
		}

		pthread_mutex_lock(&s->lock);
		if (error < 0)
			fail(s, error);
		s->uploads_queued--;
		pthread_cond_broadcast(&s->upload_cond);
		/* The bytes are stored: keep only the blob list for the syncer. */
		pack_release(s, &(ob_packer){ po->p.data, NULL, 0, 0, 0 });
		po->p.data.data = NULL;
		po->p.data.len = po->p.data.cap = 0;
		po->next = NULL;
		if (s->written_tail)
			s->written_tail->next = po;
		else
			s->written = po;
		s->written_tail = po;
		s->nwritten++;
		pthread_cond_signal(&s->sync_cond);
	}
	if (--s->uploaders_active == 0) {
		s->writer_done = 1;   /* the last uploader out: the syncer may finish */
		pthread_cond_signal(&s->sync_cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Queue the scanner's batch for the workers (one wake-up per batch); waits while too much is in flight. */
static void flush_batch(state *s)
{
	if (!s->bhead)
		return;
	pthread_mutex_lock(&s->lock);
	while ((s->queued_items + s->bcount > INFLIGHT_ITEMS || s->queued_bytes + s->bbytes > INFLIGHT_BYTES) &&
	       s->queued_items > 0 && !s->error)
		pthread_cond_wait(&s->space_cond, &s->lock);
	if (s->tail)
		s->tail->next = s->bhead;
	else
		s->head = s->bhead;
	s->tail = s->btail;
	s->queued_items += s->bcount;
	s->queued_bytes += s->bbytes;
	s->bhead = s->btail = NULL;
	s->bcount = s->bbytes = 0;
	pthread_cond_broadcast(&s->queue_cond);
	pthread_mutex_unlock(&s->lock);
}

/* Hand a chunk to the workers, through the scanner's batch (data NULL: the all-zero chunk). */
static int submit(state *s, filejob *f, uint8_t *data, size_t len)
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
	it->next = NULL;
	f->pending++;
	pthread_mutex_unlock(&s->lock);
	if (s->btail)
		s->btail->next = it;
	else
		s->bhead = it;
	s->btail = it;
	s->bcount++;
	s->bbytes += len;
	if (s->bcount >= BATCH_ITEMS || s->bbytes >= BATCH_BYTES)
		flush_batch(s);
	return 0;
}

/* ---- metadata ---- */

typedef struct idname {
	uint32_t id;
	char *name;
} idname;

typedef struct namecache {
	idname users[64], groups[64];
	size_t nusers, ngroups;
} namecache;

static const char *user_name(namecache *n, uint32_t uid)
{
	size_t i;
	struct passwd pw, *res = NULL;
	char buf[1024];

	for (i = 0; i < n->nusers; i++)
		if (n->users[i].id == uid)
			return n->users[i].name;
	getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
	if (n->nusers == 64)
		return res ? "" : "";
	n->users[n->nusers].id = uid;
	n->users[n->nusers].name = strdup(res ? res->pw_name : "");
	return n->users[n->nusers++].name ? n->users[n->nusers - 1].name : "";
}

static const char *group_name(namecache *n, uint32_t gid)
{
	size_t i;
	struct group gr, *res = NULL;
	char buf[4096];

	for (i = 0; i < n->ngroups; i++)
		if (n->groups[i].id == gid)
			return n->groups[i].name;
	getgrgid_r(gid, &gr, buf, sizeof(buf), &res);
	if (n->ngroups == 64)
		return "";
	n->groups[n->ngroups].id = gid;
	n->groups[n->ngroups].name = strdup(res ? res->gr_name : "");
	return n->groups[n->ngroups++].name ? n->groups[n->ngroups - 1].name : "";
}

static void names_dispose(namecache *n)
{
	size_t i;

	for (i = 0; i < n->nusers; i++)
		free(n->users[i].name);
	for (i = 0; i < n->ngroups; i++)
		free(n->groups[i].name);
}

/* Read extended attributes (ACLs included: system.posix_acl_*) of an open file or folder. */
static int read_xattrs(uint8_t **out, size_t *out_len, uint32_t *out_count, int fd)
{
	ob_buf b = OB_BUF_INIT;
	char *list = NULL, *p;
	ssize_t n;
	uint32_t count = 0;

	*out = NULL;
	*out_len = 0;
	*out_count = 0;
	n = flistxattr(fd, NULL, 0);
	if (n <= 0)
		return 0;  /* none, or not supported here */
	if (!(list = malloc((size_t)n + 1)))
		return ob_err_nomem();
	n = flistxattr(fd, list, (size_t)n);
	for (p = list; n > 0 && p < list + n; p += strlen(p) + 1) {
		ssize_t vl = fgetxattr(fd, p, NULL, 0);
		uint8_t *v;
		size_t nl = strlen(p);
		if (vl < 0 || nl == 0 || nl > 0xffff)
			continue;
		if (!(v = malloc((size_t)vl + 1)))
			break;
		vl = fgetxattr(fd, p, v, (size_t)vl);
		if (vl >= 0) {
			uint8_t h[2] = { (uint8_t)nl, (uint8_t)(nl >> 8) };
			uint8_t l[4] = { (uint8_t)vl, (uint8_t)(vl >> 8), (uint8_t)(vl >> 16), (uint8_t)(vl >> 24) };
			ob_buf_put(&b, h, 2);
			ob_buf_put(&b, p, nl);
			ob_buf_put(&b, l, 4);
			ob_buf_put(&b, v, (size_t)vl);
			count++;
		}
		free(v);
	}
	free(list);
	*out_len = b.len;
	*out = (uint8_t *)ob_buf_detach(&b);
	*out_count = count;
	return 0;
}

static uint8_t entry_type(mode_t m)
{
	if (S_ISREG(m)) return OB_TREE_FILE;
	if (S_ISDIR(m)) return OB_TREE_DIR;
	if (S_ISLNK(m)) return OB_TREE_SYMLINK;
	if (S_ISFIFO(m)) return OB_TREE_FIFO;
	if (S_ISCHR(m)) return OB_TREE_CHARDEV;
	if (S_ISBLK(m)) return OB_TREE_BLOCKDEV;
	return OB_TREE_SOCKET;
}

static void fill_meta(ob_entry *e, namecache *nm, const char *name, const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->type = entry_type(st->st_mode);
	e->name = name;
	e->name_len = strlen(name);
	e->mode = (uint32_t)st->st_mode;
	e->uid = (uint32_t)st->st_uid;
	e->gid = (uint32_t)st->st_gid;
	e->user = user_name(nm, e->uid);
	e->user_len = strlen(e->user);
	e->group = group_name(nm, e->gid);
	e->group_len = strlen(e->group);
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	e->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	e->inode = (uint64_t)st->st_ino;
	e->dev = (uint64_t)st->st_dev;
	e->nlink = (uint32_t)st->st_nlink;
	e->rdev = (uint64_t)st->st_rdev;
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size)
		e->flags |= OB_ENTRY_SPARSE;
}

/* ---- the file cache of one folder ---- */

typedef struct cached {
	char *name;
	uint64_t size, inode;
	int64_t mtime_ns, ctime_ns;
	uint8_t *entry;
	size_t entry_len;
} cached;

typedef struct dircache {
	cached *v;
	size_t n;
} dircache;

static void dircache_dispose(dircache *dc)
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

static void dircache_load(dircache *dc, sqlite3_stmt *q, int64_t ds, const char *dir)
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

static const cached *dircache_find(const dircache *dc, const char *name)
{
	cached key = { (char *)name, 0, 0, 0, 0, NULL, 0 };

	return dc->n ? bsearch(&key, dc->v, dc->n, sizeof(cached), cached_cmp) : NULL;
}

/* ---- the scanner ---- */

typedef struct scanner {
	state *s;
	const ob_backup_source *src;
	size_t source;
	ruleset rules;
	dev_t dev;
	namecache nm;
	uint8_t *window;
	sqlite3_stmt *cache_q;
	int cache_none;          /* the file cache holds nothing for this data source: nothing to look up */
	ob_compressor c;
} scanner;

static int report_failed(scanner *sc, const char *path, const char *reason)
{
	atomic_fetch_add(&sc->s->pg->files_failed, 1);
	if (sc->s->prm->on_failed)
		return sc->s->prm->on_failed(path, reason, sc->s->prm->payload);
	return 0;
}

static int open_noatime(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_NOATIME | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/*
 * Holes. A chunk that starts in a hole reaching at least zero_len bytes further
 * is the chunk reading those zeros would give (the Gear hash of a chunk skips its
 * first OB_CHUNK_MIN bytes and then sees only zeros), so it is handed on by its
 * id, made once per run, without reading, chunking or hashing 4 MiB of zeros.
 * Other bytes of a hole are zeros in the window, never read from the disk. The
 * chunks and their ids are those of reading the file: nothing in the vault changes.
 */
static int zero_chunk_init(state *s)
{
	size_t len;

	if (s->zero_len)
		return 0;
	if (!(s->zeros = calloc(1, OB_CHUNK_MAX)))
		return ob_err_nomem();
	len = ob_chunker_cut(&s->repo->chunker, s->zeros, OB_CHUNK_MAX, 0);   /* never 0: max bytes are there */
	ob_repo_blob_id(s->zero_id, s->repo, s->zeros, len);
	s->zero_len = len;
	return 0;
}

/*
 * What the file holds at pos: data or a hole (*hole), up to *end (at most limit,
 * and past pos). 1 when the file now ends at pos (it shrank), -errno. Where the
 * file system cannot tell (no SEEK_DATA), all of it is data.
 */
static int next_extent(int fd, uint64_t pos, uint64_t limit, uint64_t *end, int *hole)
{
	off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;
	struct stat st;

	*hole = 0;
	*end = limit;
	if (d < 0) {
		if (errno != ENXIO)
			return 0;
		/* No data from pos on: a hole to the end of the file, or the end itself. */
		if (fstat(fd, &st) != 0)
			return -errno;
		if ((uint64_t)st.st_size <= pos)
			return 1;
		*hole = 1;
		if ((uint64_t)st.st_size < limit)
			*end = (uint64_t)st.st_size;
		return 0;
	}
	if ((uint64_t)d > pos) {
		*hole = 1;
		if ((uint64_t)d < limit)
			*end = (uint64_t)d;
		return 0;
	}
	h = lseek(fd, (off_t)pos, SEEK_HOLE);
	if (h > (off_t)pos && (uint64_t)h < limit)
		*end = (uint64_t)h;
	return 0;
}

/* Read a regular file into chunks. The file job owns the entry; the folder waits on it. */
static int scan_file(scanner *sc, dirnode *d, int dirfd, const char *name, const char *path, const char *dirpath,
	const struct stat *st0)
{
	state *s = sc->s;
	filejob *f;
	struct stat st;
	size_t have = 0, start = 0;
	uint64_t limit, rpos = 0, stored = 0;   /* the size at open, where reading is, what the chunks hold */
	uint64_t ext_end = 0, hole_lo = 0, hole_hi = 0;   /* the extent rpos is in; the last hole met */
	int fd, eof = 0, error = 0, rerr = 0, changed = 0, in_hole = 0;   /* rerr: a read's errno */

	/* Non-blocking: a FIFO put in the file's place since the scan must not hang the backup (it is refused below). */
	fd = open_noatime(dirfd, name, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return report_failed(sc, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return report_failed(sc, path, "changed into something other than a file while being read");
	}
	(void)st0;
	if (!(f = calloc(1, sizeof(*f))) || !(f->name = strdup(name)) || !(f->cache_dir = strdup(dirpath))) {
		close(fd);
		if (f)
			filejob_free(f);
		return ob_err_nomem();
	}
	f->dir = d;
	fill_meta(&f->e, &sc->nm, f->name, &st);
	f->user = strndup(f->e.user, f->e.user_len);
	f->group = strndup(f->e.group, f->e.group_len);
	f->e.user = f->user;
	f->e.group = f->group;
	read_xattrs(&f->xattrs, &f->xattrs_len, &f->xattr_count, fd);
	f->e.xattrs = f->xattrs;
	f->e.xattrs_len = f->xattrs_len;
	f->e.xattr_count = f->xattr_count;
	f->cacheable = 1;
	f->pending = 1;  /* held while reading */
	if ((uint64_t)st.st_size > OB_CHUNK_MIN)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);   /* read ahead further; a small file is one read */

	pthread_mutex_lock(&s->lock);
	d->pending++;
	pthread_mutex_unlock(&s->lock);

	/*
	 * The copy is the file's first st_size bytes as read, no more: a log that grows
	 * while it is read gives the prefix it had at open (reading on could never end),
	 * one that shrinks gives what was there. The entry records what the chunks hold.
	 */
	limit = (uint64_t)st.st_size;
	if (limit <= OB_CHUNK_MIN) {
		/* Small files are one chunk: read them whole, no copy. */
		size_t want = (size_t)st.st_size, got = 0;
		uint8_t *buf = malloc(want ? want : 1);
		if (!buf) {
			error = ob_err_nomem();
		} else {
			while (got < want) {
				ssize_t n = read(fd, buf + got, want - got);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					if (n < 0)
						rerr = errno;
					break;
				}
				got += (size_t)n;
			}
			if (!rerr && got < want)
				changed = 1;
			stored = got;
			if (!rerr && got > 0)
				error = submit(s, f, buf, got);
			else
				free(buf);
		}
	} else {
		while (error == 0 && !cancelled(s)) {
			size_t cut;
			uint64_t off = rpos - (have - start);   /* where the next chunk starts */
			if (s->zero_len && off >= hole_lo && off + s->zero_len <= hole_hi) {
				/* A chunk of the hole's zeros (hole_hi is at most limit). */
				if ((error = submit(s, f, NULL, s->zero_len)) < 0)
					break;
				stored += s->zero_len;
				if (have - start >= s->zero_len) {
					start += s->zero_len;
				} else {
					rpos = off + s->zero_len;   /* still in the hole, the extent rpos was in */
					have = start = 0;
				}
				continue;
			}
			if (!eof && have - start < OB_CHUNK_MAX) {
				if (start > 0) {
					memmove(sc->window, sc->window + start, have - start);
					have -= start;
					start = 0;
				}
				while (have < READ_WINDOW) {
					size_t want = READ_WINDOW - have;
					ssize_t n;
					if (rpos >= limit) {
						eof = 1;
						break;
					}
					if (rpos >= ext_end) {
						int rc = next_extent(fd, rpos, limit, &ext_end, &in_hole);
						if (rc != 0) {
							if (rc < 0)
								rerr = -rc;
							else
								eof = 1;
							break;
						}
						if (in_hole) {
							hole_lo = rpos;
							hole_hi = ext_end;
							if (ext_end - rpos > OB_CHUNK_MIN && (error = zero_chunk_init(s)) < 0)
								break;
						}
					}
					if (want > ext_end - rpos)
						want = (size_t)(ext_end - rpos);
					if (in_hole) {
						memset(sc->window + have, 0, want);
						n = (ssize_t)want;
					} else {
						n = pread(fd, sc->window + have, want, (off_t)rpos);
					}
					if (n < 0 && errno == EINTR)
						continue;
					if (n < 0) {
						rerr = errno;
						break;
					}
					if (n == 0) {
						eof = 1;
						break;
					}
					have += (size_t)n;
					rpos += (uint64_t)n;
				}
				if (error || rerr)
					break;
			}
			if (have == start)
				break;
			cut = ob_chunker_cut(&s->repo->chunker, sc->window + start, have - start, eof);
			if (cut == 0)
				continue;
			uint8_t *copy = malloc(cut);
			if (!copy) {
				error = ob_err_nomem();
				break;
			}
			memcpy(copy, sc->window + start, cut);
			start += cut;
			stored += cut;
			error = submit(s, f, copy, cut);
		}
	}
	if (error == 0 && !rerr) {
		struct stat after;
		if (stored != limit && !cancelled(s))
			changed = 1;   /* it shrank while being read */
		if (fstat(fd, &after) == 0 &&
		    (after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec ||
		     after.st_mtim.tv_nsec != st.st_mtim.tv_nsec))
			changed = 1;
	}
	close(fd);
	atomic_fetch_add(&s->pg->bytes_scanned, (uint64_t)st.st_size);

	pthread_mutex_lock(&s->lock);
	if (rerr) {
		/* A read error: the file is listed as failed and left out; its chunks are discarded. */
		f->cacheable = 0;
		f->dropped = 1;
		pthread_mutex_unlock(&s->lock);
		report_failed(sc, path, strerror(rerr));
		pthread_mutex_lock(&s->lock);
	} else {
		if (changed) {
			f->cacheable = 0;
			pthread_mutex_unlock(&s->lock);
			report_failed(sc, path, "changed while being read; the backed-up copy may be inconsistent");
			pthread_mutex_lock(&s->lock);
		}
		f->e.size = stored;
		sc->s->files_total++;
		sc->s->bytes_total += stored;
	}
	if (--f->pending == 0) {
		int finished = finish_file(s, &sc->c, f);
		if (error == 0)
			error = finished;
	}
	pthread_mutex_unlock(&s->lock);
	return error;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_entry(state *s, dirnode *d, const ob_entry *e)
{
	ob_buf enc = OB_BUF_INIT;
	int error;

	if ((error = ob_entry_encode(&enc, e)) == 0) {
		pthread_mutex_lock(&s->lock);
		error = ob_tree_builder_add(&d->tb, (uint8_t *)enc.data, enc.len);
		pthread_mutex_unlock(&s->lock);
	}
	ob_buf_dispose(&enc);
	return error;
}

static int dirnode_new(dirnode **out, scanner *sc, dirnode *parent, const char *name, const struct stat *st, int fd)
{
	dirnode *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d || !(d->name = strdup(name)))
		goto nomem;
	d->parent = parent;
	d->is_root = parent == NULL;
	d->source = sc->source;
	d->pending = 1;  /* held while scanning */
	fill_meta(&d->e, &sc->nm, d->name, st);
	if (!(d->user = strndup(d->e.user, d->e.user_len)) || !(d->group = strndup(d->e.group, d->e.group_len)))
		goto nomem;
	d->e.user = d->user;
	d->e.group = d->group;
	read_xattrs(&d->xattrs, &d->xattrs_len, &d->xattr_count, fd);
	d->e.xattrs = d->xattrs;
	d->e.xattrs_len = d->xattrs_len;
	d->e.xattr_count = d->xattr_count;
	*out = d;
	return 0;
nomem:
	if (d)
		dirnode_free(d);
	return ob_err_nomem();
}

static int scan_dir(scanner *sc, dirnode *d, int fd, ob_buf *path);

/* One entry of a folder. */
static int scan_entry(scanner *sc, dirnode *d, int dirfd, const char *name, ob_buf *path, const dircache *dc)
{
	state *s = sc->s;
	size_t keep = path->len;
	struct stat st;
	int error = 0;

	if ((path->len > 1 && (error = ob_buf_puts(path, "/")) < 0) || (error = ob_buf_puts(path, name)) < 0)
		return error;
	if (!worth_looking(&sc->rules, path->data, path->len))
		goto done;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		error = report_failed(sc, path->data, errno == ENOENT ? "vanished during the backup" : strerror(errno));
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		int inc = selected(&sc->rules, path->data, path->len, 1);
		int fd;
		dirnode *child;
		if (st.st_dev != sc->dev)
			goto done;  /* another volume: another data source */
		if (!inc && !leads_to_inclusion(&sc->rules, path->data, path->len))
			goto done;
		fd = open_noatime(dirfd, name, O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			error = report_failed(sc, path->data, strerror(errno));
			goto done;
		}
		if ((error = dirnode_new(&child, sc, d, name, &st, fd)) < 0) {
			close(fd);
			goto done;
		}
		pthread_mutex_lock(&s->lock);
		d->pending++;
		pthread_mutex_unlock(&s->lock);
		error = scan_dir(sc, child, fd, path);
		close(fd);
		goto done;
	}
	if (!selected(&sc->rules, path->data, path->len, 0))
		goto done;
	atomic_fetch_add(&s->pg->files_scanned, 1);
	if (S_ISREG(st.st_mode)) {
		const cached *c = dircache_find(dc, name);
		int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		int64_t ct = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
		if (c && c->size == (uint64_t)st.st_size && c->mtime_ns == mt && c->ctime_ns == ct &&
		    c->inode == (uint64_t)st.st_ino) {
			/* Unchanged since the last backup: one stat, no read. */
			pthread_mutex_lock(&s->lock);
			error = ob_tree_builder_add(&d->tb, c->entry, c->entry_len);
			s->files_total++;
			s->bytes_total += (uint64_t)st.st_size;
			pthread_mutex_unlock(&s->lock);
			atomic_fetch_add(&s->pg->files_done, 1);
			atomic_fetch_add(&s->pg->files_cached, 1);
			atomic_fetch_add(&s->pg->bytes_scanned, (uint64_t)st.st_size);
			atomic_fetch_add(&s->pg->bytes_done, (uint64_t)st.st_size);
			goto done;
		}
		{
			char *dirpath = strndup(path->data, keep);
			error = dirpath ? scan_file(sc, d, dirfd, name, path->data, dirpath, &st) : ob_err_nomem();
			free(dirpath);
		}
		goto done;
	}
	{
		ob_entry e;
		char target[4096];
		fill_meta(&e, &sc->nm, name, &st);
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
			if (n < 0 || (size_t)n >= sizeof(target)) {
				error = report_failed(sc, path->data, n < 0 ? strerror(errno) : "link target too long");
				goto done;
			}
			e.target = target;
			e.target_len = (size_t)n;
		}
		error = add_entry(s, d, &e);
		s->files_total++;
		atomic_fetch_add(&s->pg->files_done, 1);
	}
done:
	path->len = keep;
	path->data[keep] = '\0';
	return error;
}

static int scan_dir(scanner *sc, dirnode *d, int fd, ob_buf *path)
{
	state *s = sc->s;
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	dircache dc;
	int dfd, error = 0;

	/* fdopendir takes the descriptor: give it a copy. */
	if ((dfd = dup(fd)) < 0 || !(dir = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		error = report_failed(sc, path->data, strerror(errno));
		goto finish;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **v = realloc(names, ncap * sizeof(*v));
			if (!v) {
				error = ob_err_nomem();
				break;
			}
			names = v;
			cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name))) {
			error = ob_err_nomem();
			break;
		}
		n++;
	}
	closedir(dir);
	if (n > 1)
		qsort(names, n, sizeof(char *), name_cmp);
	if (sc->cache_none)
		memset(&dc, 0, sizeof(dc));
	else
		dircache_load(&dc, sc->cache_q, sc->src->id, path->data);
	for (i = 0; i < n && error == 0 && !cancelled(s); i++)
		error = scan_entry(sc, d, fd, names[i], path, &dc);
	dircache_dispose(&dc);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
finish:
	pthread_mutex_lock(&s->lock);
	if (error == 0 && --d->pending == 0)
		error = finish_dir(s, &sc->c, d);
	pthread_mutex_unlock(&s->lock);
	return error;
}

/* ---- the run ---- */

#define UNCLEAN_KEY "backup.running"

/*
 * After a run that did not end: find packs in the vault that no chunk record
 * names (written, then the run died before recording them), check each one
 * whole (its name is the SHA-256 of its bytes; a pack cut short by a power loss
 * fails that and stays garbage for maintenance) and record its blobs, so that
 * nothing already stored is uploaded again.
 */
static int recover_orphans(state *s)
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

typedef struct point_walk {
	ob_locator *loc;
	ob_idset seen;
	int error;
	char missing[96];
} point_walk;

static int walk_tree(point_walk *w, const uint8_t *id);

static int walk_cb(const ob_entry *e, void *payload)
{
	point_walk *w = payload;
	ob_blob_loc where;
	size_t i;

	if (e->type == OB_TREE_FILE) {
		for (i = 0; i < e->chunk_count; i++)
			if (ob_locator_find(&where, w->loc, e->chunks + OB_ID_BYTES * i) < 0) {
				w->error = OB_ECORRUPT;
				snprintf(w->missing, sizeof(w->missing), "%.*s", (int)(e->name_len < 80 ? e->name_len : 80), e->name);
				return 1;
			}
	} else if (e->type == OB_TREE_DIR) {
		int fresh = ob_idset_add(&w->seen, e->subtree);
		if (fresh < 0) {
			w->error = OB_ENOMEM;
			return 1;
		}
		if (fresh && walk_tree(w, e->subtree) < 0)
			return 1;
	}
	return 0;
}

static int walk_tree(point_walk *w, const uint8_t *id)
{
	uint8_t *tree = NULL;
	size_t len;
	int error;

	if ((error = ob_fetch_blob(&tree, &len, w->loc, OB_BLOB_TREE, id)) < 0) {
		snprintf(w->missing, sizeof(w->missing), "a folder");
		return w->error = error;
	}
	error = ob_tree_parse(tree, len, walk_cb, w);
	free(tree);
	if (w->error < 0)
		return w->error;
	return error < 0 ? (w->error = error) : 0;
}

/*
 * Vault maintenance by another agent of this server may have run while this
 * backup did (the generation changed): it may have deleted packs the run reused
 * or stored, or index objects that named the run's own new packs. Before the
 * run's last index object, the caches are checked against the vault as it is
 * now (the run's packs still stored stay, to be indexed next), and every blob
 * the point is to name must be found there; otherwise nothing is committed.
 */
static int check_generation(state *s)
{
	ob_agent *agent = s->prm->agent;
	ob_locator loc;
	point_walk w;
	uint64_t gen = 0;
	size_t k;
	int error, ended = 0, waited;

	if ((error = ob_cache_generation(&gen, &ended, agent, s->repo)) < 0)
		return error;
	if (gen == s->generation && !s->generation_open)
		return 0;
	/* A run that is still deleting could delete what a check finds now: wait for its end (10 minutes at most). */
	for (waited = 0; !ended && waited < 600 && !cancelled(s); waited++) {
		sleep(1);
		if ((error = ob_cache_generation(&gen, &ended, agent, s->repo)) < 0)
			return error;
	}
	if (!ended)
		return ob_err(OB_ELOCKED, OB_ERRCLASS_JOB,
			"Vault maintenance of this server by another agent has not ended (generation %llu): no recovery point was "
			"made. Run the backup again when it has ended; a maintenance run that was stopped is finished by the next one.",
			(unsigned long long)gen);
	if ((error = ob_cache_validate(agent, s->repo, &s->generation, &s->generation_open)) < 0)
		return error;
	if ((error = ob_locator_catalog(&loc, agent, s->repo)) < 0)
		return error;
	loc.synced = 1;   /* the cache was just filled from the index: a miss is a miss */
	memset(&w, 0, sizeof(w));
	w.loc = &loc;
	for (k = 0; k < s->prm->source_count && error == 0; k++)
		error = walk_tree(&w, s->roots[k]);
	ob_idset_dispose(&w.seen);
	ob_locator_dispose(&loc);
	if (error == OB_ECORRUPT)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_JOB,
			"Vault maintenance of this server (from another agent) ran during this backup and deleted data the backup "
			"reused or stored (%s): no recovery point was made. Run the backup again: it uploads what is missing.", w.missing);
	return error;
}

/*
 * The time in a point's name: when it is committed, seconds and nanoseconds from
 * one clock reading, so that names sort in commit order and "the newest point" is
 * the last one committed. A clock that stands still (OBAGENT_NOW) or steps back
 * still names the point after every point in the vault: one nanosecond after the
 * newest (a name of the older form, time-random, is passed by a whole second).
 */
static int point_time(int64_t *out_sec, long *out_nsec, state *s)
{
	ob_name_list l = { 0 };
	char prefix[96], mine[32];
	const char *newest = NULL;
	size_t i, k;
	int error;

	if ((error = ob_clock_now_ns(out_sec, out_nsec)) < 0)
		return error;
	snprintf(prefix, sizeof(prefix), "%ssnapshots/", s->repo->prefix);
	if ((error = ob_vault_list_names(&l, s->repo->vc.be, prefix, strlen(prefix))) < 0)
		return error;
	for (i = 0; i < l.n; i++) {
		for (k = 0; k < 12 && l.v[i][k] >= '0' && l.v[i][k] <= '9'; k++)
			;
		if (k == 12 && (!newest || strcmp(l.v[i], newest) > 0))
			newest = l.v[i];
	}
	snprintf(mine, sizeof(mine), "%012lld-%09ld-", (long long)*out_sec, *out_nsec);
	if (newest && strncmp(mine, newest, strlen(mine)) <= 0) {
		int64_t sec = strtoll(newest, NULL, 10);
		long nsec = -1;
		for (k = 13; k < 22 && newest[12] == '-' && newest[k] >= '0' && newest[k] <= '9'; k++)
			;
		if (k == 22 && newest[22] == '-')
			nsec = strtol(newest + 13, NULL, 10);
		if (nsec < 0 || nsec >= 999999999L) {
			sec++;
			nsec = 0;
		} else {
			nsec++;
		}
		*out_sec = sec;
		*out_nsec = nsec;
	}
	ob_name_list_dispose(&l);
	return 0;
}

static int write_snapshot(char **out_point, state *s, int64_t now)
{
	const ob_backup_params *prm = s->prm;
	ob_buf rec = OB_BUF_INIT, sealed = OB_BUF_INIT;
	char name[200], key[32], hex[65], aad[256], rnd_hex[17];
	uint8_t rnd[8];
	char put_text[1024] = "";
	int64_t sec;
	long nsec;
	size_t i;
	int error, put_error;

	if ((error = ob_random(rnd, sizeof(rnd))) < 0 || (error = point_time(&sec, &nsec, s)) < 0)
		return error;
	ob_hex_encode(rnd_hex, rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "%ssnapshots/%012lld-%09ld-%s", s->repo->prefix, (long long)sec, nsec, rnd_hex);
	if ((error = ob_kv_begin(&rec, "snapshot", 1)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "time", now)) < 0 ||
	    (error = ob_kv_add(&rec, "server", s->repo->server_name)) < 0 ||
	    (error = ob_kv_add(&rec, "kind", prm->kind ? prm->kind : "FileFolder")) < 0 ||
	    (error = ob_kv_add(&rec, "job", prm->job_id ? prm->job_id : "")) < 0 ||
	    (error = ob_kv_add_i64(&rec, "retain_until", prm->retain_until)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "files", (int64_t)s->files_total)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "bytes", (int64_t)s->bytes_total)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "datasources", (int64_t)prm->source_count)) < 0)
		goto done;
	for (i = 0; i < prm->source_count; i++) {
		snprintf(key, sizeof(key), "ds%zu_id", i);
		if ((error = ob_kv_add_i64(&rec, key, prm->sources[i].id)) < 0)
			goto done;
		snprintf(key, sizeof(key), "ds%zu_name", i);
		if ((error = ob_kv_add(&rec, key, prm->sources[i].name)) < 0)
			goto done;
		snprintf(key, sizeof(key), "ds%zu_tree", i);
		ob_id_hex(hex, s->roots[i]);
		if ((error = ob_kv_add(&rec, key, hex)) < 0)
			goto done;
	}
	snprintf(aad, sizeof(aad), "obagent-snapshot-v1|%s", name + strlen(s->repo->prefix) + strlen("snapshots/"));
	if ((error = ob_object_seal(&sealed, s->repo, aad, rec.data, rec.len)) < 0)
		goto done;
	put_error = s->repo->vc.be->put(s->repo->vc.be, name, sealed.data, sealed.len);
	if (put_error < 0)
		snprintf(put_text, sizeof(put_text), "%s", ob_error_last());
	/* Verify: the point reads back and opens. */
	atomic_store(&s->pg->phase, OB_PHASE_VERIFY);
	{
		void *back = NULL;
		size_t back_len;
		uint8_t *plain = NULL;
		size_t plen;
		if ((error = s->repo->vc.be->get(&back, &back_len, s->repo->vc.be, name, 0, 0)) == 0)
			error = ob_object_open(&plain, &plen, s->repo, aad, back, back_len);
		free(back);
		free(plain);
	}
	/*
	 * One truth: a point that reads back whole is committed, whatever the put said
	 * (it can fail after the object is in place, e.g. syncing its folder); the
	 * job then warns instead of failing. A put that failed and left no whole point
	 * fails the job, and what it left is removed, so no point of a Failed job lists.
	 */
	if (put_error == OB_EEXISTS && error == 0) {
		ob_error_clear();  /* a retried put found its own first attempt: the name holds 64 random bits */
	} else if (put_error < 0 && error == 0) {
		char what[128];
		ob_buf reason = OB_BUF_INIT;
		snprintf(what, sizeof(what), "recovery point %s", name + strlen(s->repo->prefix) + strlen("snapshots/"));
		if (ob_buf_printf(&reason, "%s The point was written and reads back whole, but the vault did not confirm it "
			"is stored durably: check the vault's disk or storage.", put_text) == 0 && prm->on_failed)
			prm->on_failed(what, reason.data, prm->payload);
		ob_buf_dispose(&reason);
		ob_error_clear();
	} else if (put_error < 0 || error < 0) {
		if (put_error == 0) {
			put_error = error;
			snprintf(put_text, sizeof(put_text), "%s", ob_error_last());
		}
		if (put_error != OB_EEXISTS && s->repo->vc.be->remove)
			s->repo->vc.be->remove(s->repo->vc.be, name);
		error = ob_err(put_error, OB_ERRCLASS_VAULT, "%s", put_text);
		goto done;
	}
	atomic_fetch_add(&s->pg->bytes_uploaded, sealed.len);
	if (!(*out_point = ob_strdup(name + strlen(s->repo->prefix) + strlen("snapshots/"))))
		error = OB_ENOMEM;
done:
	ob_buf_dispose(&rec);
	ob_buf_dispose(&sealed);
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
	/* Index objects of up to 65536 entries each (a little over 5 MiB). */
	{
		size_t at;
		for (at = 0; error == 0 && at < n; at += 65536)
			error = ob_index_write(repo, v + at, n - at < 65536 ? n - at : 65536, NULL);
	}
	if (error == 0 && n > 0)
		error = ob_catalog_exec(agent->cat, "UPDATE chunk SET indexed = 1 WHERE indexed = 0");
	free(v);
	return error;
}

/* The point is committed: the rows of the files it read become the file cache, in one transaction. */
static int write_cache(state *s)
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
	error = stage_cache(s, ins, rest);
	sqlite3_finalize(ins);
	if (error == 0) {
		/*
		 * An empty file cache (a first backup) becomes the staged table, renamed,
		 * rather than a copy of every row; otherwise the staged rows are merged in.
		 */
		int empty = no_rows(s->db, "SELECT 1 FROM file_cache LIMIT 1", 0);
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

static void free_cache_updates(state *s)
{
	free_cache_list(s->cache_updates);
	s->cache_updates = NULL;
}

static int scan_source(state *s, size_t index)
{
	const ob_backup_source *src = &s->prm->sources[index];
	scanner sc;
	ob_buf path = OB_BUF_INIT;
	dirnode *root = NULL;
	struct stat st;
	int fd = -1, error;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.src = src;
	sc.source = index;
	atomic_store(&s->pg->datasource_id, src->id);
	if ((error = rules_build(&sc.rules, src)) < 0)
		goto done;
	if (!(sc.window = malloc(READ_WINDOW))) {
		error = ob_err_nomem();
		goto done;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT name, size, mtime_ns, ctime_ns, inode, entry FROM file_cache "
		"WHERE datasource_id = ?1 AND dir = ?2", -1, &sc.cache_q, NULL) != SQLITE_OK) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot read the file cache: %s.", sqlite3_errmsg(s->db));
		goto done;
	}
	/* A first backup of this source: no query per folder (each waits for the catalog while the syncer writes). */
	sc.cache_none = no_rows(s->db, "SELECT 1 FROM file_cache WHERE datasource_id = ?1 LIMIT 1", src->id);
	fd = open(src->root ? src->root : src->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		error = ob_err_os(errno, "Cannot open the data source", src->root ? src->root : src->name);
		goto done;
	}
	sc.dev = st.st_dev;
	if ((error = dirnode_new(&root, &sc, NULL, "/", &st, fd)) < 0 ||
	    (error = ob_buf_puts(&path, src->root ? src->root : src->name)) < 0)
		goto done;
	error = scan_dir(&sc, root, fd, &path);
	root = NULL;  /* owned by the pipeline now */
	flush_batch(s);  /* whatever is left in the batch, even after an error: workers drain it */
done:
	if (root)
		dirnode_free(root);
	if (fd >= 0)
		close(fd);
	sqlite3_finalize(sc.cache_q);
	ob_compressor_dispose(&sc.c);
	free(sc.window);
	names_dispose(&sc.nm);
	rules_dispose(&sc.rules);
	ob_buf_dispose(&path);
	return error;
}

int ob_backup_run(char **out_point, const ob_backup_params *prm)
{
	state s;
	pthread_t workers[WORKERS], uploaders[REMOTE_UPLOADERS], syncer;
	int started = 0, up_started = 0, sync_started = 0, unclean_set = 0, error = 0, i;
	size_t k;
	int64_t now;

	*out_point = NULL;
	if (prm->source_count == 0 || prm->source_count > 8)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A backup needs 1 to 8 data sources.");
	memset(&s, 0, sizeof(s));
	s.prm = prm;
	s.repo = prm->repo;
	s.db = ob_catalog_db(prm->agent->cat);
	s.pg = prm->progress;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.queue_cond, NULL);
	pthread_cond_init(&s.space_cond, NULL);
	pthread_cond_init(&s.upload_cond, NULL);
	pthread_cond_init(&s.sync_cond, NULL);
	if ((error = ob_clock_now(&now)) < 0)
		goto cleanup;
	atomic_store(&s.pg->phase, OB_PHASE_PREPARE);
	/*
	 * Nothing is deduplicated against a cache the vault has not confirmed: when
	 * maintenance (of any agent of this server) deleted data since the caches were
	 * checked, or they were never checked (a lost or rolled-back state folder, a
	 * second agent), they are checked against the current index first.
	 */
	if ((error = ob_cache_check(prm->agent, prm->repo, &s.generation, &s.generation_open)) < 0)
		goto cleanup;
	/* A run that did not end (killed, crashed, power loss) may have stored packs it never recorded. */
	{
		char *unclean = NULL;
		if (ob_catalog_setting_get(&unclean, prm->agent->cat, UNCLEAN_KEY) == 0 &&
		    (error = recover_orphans(&s)) < 0) {
			free(unclean);
			goto cleanup;
		}
		free(unclean);
		ob_error_clear();
		if ((error = ob_catalog_setting_set(prm->agent->cat, UNCLEAN_KEY, "1")) < 0)
			goto cleanup;
		unclean_set = 1;
	}
	/* Chunks stored by an interrupted run are named by no index yet: index them first. */
	if ((error = ob_backup_flush_index(prm->agent, prm->repo)) < 0)
		goto cleanup;
	/* The data sources are named in the clear, so that other servers can list them without a key. */
	for (k = 0; k < prm->source_count; k++) {
		ob_buf rec = OB_BUF_INIT;
		char name[160];
		snprintf(name, sizeof(name), "%ssources/%lld", prm->repo->prefix, (long long)prm->sources[k].id);
		if ((error = ob_kv_begin(&rec, "source", 1)) == 0 &&
		    (error = ob_kv_add_i64(&rec, "id", prm->sources[k].id)) == 0 &&
		    (error = ob_kv_add(&rec, "name", prm->sources[k].name)) == 0 &&
		    (error = ob_kv_add(&rec, "kind", prm->kind ? prm->kind : "FileFolder")) == 0)
			error = prm->repo->vc.be->put(prm->repo->vc.be, name, rec.data, rec.len);
		ob_buf_dispose(&rec);
		if (error == OB_EEXISTS) {
			ob_error_clear();
			error = 0;
		}
		if (error < 0)
			goto cleanup;
	}
	if (sqlite3_prepare_v2(s.db, "SELECT 1 FROM chunk WHERE id = ?1", -1, &s.has_chunk, NULL) != SQLITE_OK) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot read the chunk cache: %s.", sqlite3_errmsg(s.db));
		goto cleanup;
	}
	/* A first backup asks the cache nothing: one read transaction per chunk is most of its catalog work. */
	s.cache_empty = no_rows(s.db, "SELECT 1 FROM chunk LIMIT 1", 0);
	if ((error = ob_damage_prepare_backup(&s.damaged, prm->agent)) < 0)
		goto cleanup;
	/* Rows staged by a run that did not commit its point are not to be trusted. */
	if (sqlite3_exec(s.db, "DELETE FROM file_cache_stage", NULL, NULL, NULL) != SQLITE_OK) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot prepare the file cache: %s.", sqlite3_errmsg(s.db));
		goto cleanup;
	}

	atomic_store(&s.pg->phase, OB_PHASE_TRANSFER);
	if (pthread_create(&syncer, NULL, syncer_main, &s) != 0) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the sync thread.");
		goto cleanup;
	}
	sync_started = 1;
	/* A local vault is a disk that one writer keeps busy; a remote one answers each request after a round trip. */
	s.uploaders = s.repo->vc.azure ? REMOTE_UPLOADERS : 1;
	s.uploaders_active = s.uploaders;
	for (i = 0; i < s.uploaders; i++) {
		if (pthread_create(&uploaders[i], NULL, uploader_main, &s) != 0)
			break;
		up_started++;
	}
	if (up_started < s.uploaders) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the upload threads.");
		pthread_mutex_lock(&s.lock);
		s.uploaders_active -= s.uploaders - up_started;   /* those never started */
		s.uploader_done = 1;
		fail(&s, error);
		pthread_cond_broadcast(&s.upload_cond);
		if (up_started == 0) {
			s.writer_done = 1;
			pthread_cond_signal(&s.sync_cond);
		}
		pthread_mutex_unlock(&s.lock);
		for (i = 0; i < up_started; i++)
			pthread_join(uploaders[i], NULL);
		pthread_join(syncer, NULL);
		up_started = 0;
		goto cleanup;
	}
	for (i = 0; i < WORKERS; i++) {
		if (pthread_create(&workers[i], NULL, worker_main, &s) != 0)
			break;
		s.workers_active++;
		started++;
	}
	if (started == 0) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the worker threads.");
		goto stop;
	}
	for (k = 0; k < prm->source_count && error == 0 && !cancelled(&s); k++)
		error = scan_source(&s, k);

stop:
	pthread_mutex_lock(&s.lock);
	if (error < 0)
		fail(&s, error);
	s.scan_done = 1;
	pthread_cond_broadcast(&s.queue_cond);
	pthread_mutex_unlock(&s.lock);
	for (i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	pthread_mutex_lock(&s.lock);
	if (!s.error && !cancelled(&s)) {
		int e1 = queue_pack(&s, OB_BLOB_DATA), e2 = e1 ? e1 : queue_pack(&s, OB_BLOB_TREE);
		if (e2 < 0)
			fail(&s, e2);
	}
	s.uploader_done = 1;
	pthread_cond_broadcast(&s.upload_cond);
	pthread_mutex_unlock(&s.lock);
	for (i = 0; i < up_started; i++)
		pthread_join(uploaders[i], NULL);
	if (sync_started && up_started)
		pthread_join(syncer, NULL);

	if (s.error) {
		error = s.error;
		ob_err(error, OB_ERRCLASS_JOB, "%s", s.error_text);
		goto cleanup;
	}
	if (cancelled(&s)) {
		ob_catalog_setting_delete(prm->agent->cat, UNCLEAN_KEY);  /* stopped cleanly: all it stored is recorded */
		error = ob_err(OB_ECANCELLED, OB_ERRCLASS_JOB,
			"The backup was stopped. What it uploaded stays in the vault and is not uploaded again by the next backup.");
		goto cleanup;
	}
	for (k = 0; k < prm->source_count; k++)
		if (!s.root_done[k]) {
			error = ob_err(OB_ERROR, OB_ERRCLASS_JOB, "The backup of '%s' did not complete its folder tree.",
				prm->sources[k].name);
			goto cleanup;
		}
	atomic_store(&s.pg->phase, OB_PHASE_METADATA);
	if ((error = check_generation(&s)) < 0 || (error = ob_backup_flush_index(prm->agent, prm->repo)) < 0 ||
	    (error = write_snapshot(out_point, &s, now)) < 0)
		goto cleanup;
	/* The point is committed: what fails now is a warning, never a Failed job beside a healthy point. */
	if ((error = write_cache(&s)) < 0) {
		if (prm->on_failed)
			prm->on_failed("file cache", ob_error_last(), prm->payload);
		ob_error_clear();
		error = 0;
	}
	{
		/* Blobs known damaged that the source no longer has: named once (native/agent/damage.h). */
		uint64_t unhealed = 0;
		if (ob_damage_report_unhealed(&unhealed, prm->agent, prm->on_failed, prm->payload) < 0) {
			if (prm->on_failed)
				prm->on_failed("damaged blobs", ob_error_last(), prm->payload);
			ob_error_clear();
		}
		atomic_fetch_add(&s.pg->files_failed, unhealed);
	}
	atomic_store(&s.pg->phase, OB_PHASE_DONE);
	ob_catalog_setting_delete(prm->agent->cat, UNCLEAN_KEY);

cleanup:
	/*
	 * A run that failed (rather than being killed) records the packs it stored and
	 * did not record, so that it leaves nothing for the next run to recover and
	 * vault maintenance need not wait for another backup. Its error stays the job's.
	 */
	if (error < 0 && error != OB_ECANCELLED && unclean_set) {
		char text[1024];
		int klass = ob_error_last_class();
		snprintf(text, sizeof(text), "%s", ob_error_last());
		if (recover_orphans(&s) == 0)
			ob_catalog_setting_delete(prm->agent->cat, UNCLEAN_KEY);
		ob_err(error, (ob_error_class)klass, "%s", text);
	}
	/* Leftovers after a failure: queued items, packers. */
	while (s.head) {
		item *it = s.head;
		s.head = it->next;
		free(it->data);
		free(it);
	}
	while (s.uploads) {
		pack_out *po = s.uploads;
		s.uploads = po->next;
		ob_packer_dispose(&po->p);
		free(po);
	}
	while (s.written) {
		pack_out *po = s.written;
		s.written = po->next;
		ob_packer_dispose(&po->p);
		free(po);
	}
	ob_packer_dispose(&s.packer[0]);
	ob_packer_dispose(&s.packer[1]);
	while (s.npool)
		free(s.pool[--s.npool]);
	free(s.zeros);
	free_cache_updates(&s);
	ob_idset_dispose(&s.known);
	ob_idset_dispose(&s.damaged);
	sqlite3_finalize(s.has_chunk);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.queue_cond);
	pthread_cond_destroy(&s.space_cond);
	pthread_cond_destroy(&s.upload_cond);
	pthread_cond_destroy(&s.sync_cond);
	if (error < 0) {
		free(*out_point);
		*out_point = NULL;
	}
	return error;
}
