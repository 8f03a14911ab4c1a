/*
 * Private to native/backup/: what its pieces share. selection.c (the rules),
 * scan.c (the scanner, the only thread that reads the file system), pipeline.c
 * (the workers: chunks to sealed blobs in packs; finished files and folder
 * trees), upload.c (packs to the vault), sync.c (stored packs made durable and
 * recorded; index objects), filecache.c, run.c (ob_backup_run and its point).
 * Threads: pthreads; what they share is under state.lock (the progress counters are atomics).
 */
#ifndef OB_NATIVE_BACKUP_INTERNAL_H
#define OB_NATIVE_BACKUP_INTERNAL_H

#include "agent/agent_internal.h"
#include "backup/backup.h"
#include "catalog/backup.h"
#include "util/error.h"
#include "util/idset.h"
#include "util/queue.h"
#include "vault/tree.h"

#include <pthread.h>

#define WORKERS 2
#define INFLIGHT_BYTES (16u << 20)
#define INFLIGHT_ITEMS 512
#define UPLOAD_QUEUE 1         /* packs queued or being sent, per uploader */
#define REMOTE_UPLOADERS 3     /* a remote vault takes packs over several connections at once */
#define READ_WINDOW (6u << 20)
#define PACK_CAP (OB_PACK_TARGET + OB_CHUNK_MAX + (2u << 20))   /* a full pack, its last blob, a header */
#define POOL_MAX 3
#define BATCH_ITEMS 64
#define BATCH_BYTES (4u << 20)
#define POP_MAX 16
#define INDEX_EVERY 16384      /* the syncer writes an index object once this many blobs are recorded */

/* ---- selection rules (selection.c) ---- */

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

int ob_rules_build(ruleset *rs, const ob_backup_source *src);
void ob_rules_dispose(ruleset *rs);
/* Whether a path is selected (1) or not (0): the most specific matching rule decides. */
int ob_rules_selected(const ruleset *rs, const char *p, size_t n, int is_dir);
/* Whether folder p can hold a file that an inclusion selects. */
int ob_rules_lead_to_inclusion(const ruleset *rs, const char *p, size_t n);
/* Whether a path can matter at all: on the way to an inclusion or below one. */
int ob_rules_worth_looking(const ruleset *rs, const char *p, size_t n);

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
	ob_queue_node node;      /* first: the workers' queue links items by it (node.bytes = len) */
	filejob *file;
	size_t index;
	uint8_t *data;           /* NULL: the all-zero chunk (state's zeros, zero_len bytes) */
	size_t len;
} item;

typedef struct pack_out {
	ob_queue_node node;      /* first: the upload and sync queues link packs by it */
	ob_packer p;
	uint8_t pack_id[OB_ID_BYTES];
	uint64_t size;
} pack_out;

/* The next pack of a chain taken from a queue. */
static inline pack_out *pack_next(const pack_out *po)
{
	return (pack_out *)po->node.next;
}

typedef struct state {
	const ob_backup_params *prm;
	item *bhead, *btail;          /* the scanner's batch, not yet queued */
	size_t bcount, bbytes;
	ob_repo *repo;
	ob_backup_progress *pg;

	pthread_mutex_t lock;         /* queues, trees, files, known ids, packers, cache list */
	ob_queue items;               /* chunks for the workers: bounded by INFLIGHT_ITEMS and INFLIGHT_BYTES */
	int workers_active;

	ob_idset known;
	ob_packer packer[2];          /* data, trees */
	ob_queue uploads;                  /* full packs, queued or being sent: UPLOAD_QUEUE per uploader */
	int uploaders, uploaders_active;   /* upload threads, and those still running */
	ob_queue written;                  /* stored, waiting for a sync before being recorded (no bound) */
	uint8_t *pool[POOL_MAX];           /* pack buffers, reused: no page faults per pack */
	size_t npool;

	int error;                    /* first fatal error */
	char error_text[1024];

	uint8_t roots[8][OB_ID_BYTES];
	int root_done[8];
	uint64_t files_total, bytes_total;
	ob_file_row *cache_updates;   /* rows of finished files, for the syncer to stage */

	ob_chunk_lookup *has_chunk;
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

/* ---- the file cache of one folder (filecache.c) ---- */

/* A file cache row of the folder being scanned. */

typedef struct cached {
	char *name;
	uint64_t size, inode;
	int64_t mtime_ns, ctime_ns;
	uint8_t *entry;
	size_t entry_len;
} cached;

typedef struct dircache {
	cached *v;
	size_t n, cap;
} dircache;

/* ---- pipeline.c ---- */

/* Record the first fatal error and stop the run. */
void ob_backup_fail(state *s, int code);
int ob_backup_cancelled(state *s);
/* Put a finished pack on the upload queue (s->lock held); waits while the queue is full. */
int ob_backup_queue_pack(state *s, int which);
/* Give a pack's buffer back to the pool (s->lock held). */
void ob_backup_pack_release(state *s, ob_packer *p);
void ob_backup_dirnode_free(dirnode *d);
void ob_backup_filejob_free(filejob *f);
/* A folder's contents are complete: seal its tree, add its entry to its parent (s->lock held). */
int ob_backup_finish_dir(state *s, ob_compressor *c, dirnode *d);
/* A file's chunks are all stored: add its entry to its folder (s->lock held). */
int ob_backup_finish_file(state *s, ob_compressor *c, filejob *f);
/* Queue the scanner's batch for the workers; waits while too much is in flight. */
void ob_backup_flush_batch(state *s);
/* Hand a chunk to the workers (data NULL: the all-zero chunk; taken, also on failure). */
int ob_backup_submit(state *s, filejob *f, uint8_t *data, size_t len);
void *ob_backup_worker_main(void *arg);

/* ---- upload.c, sync.c ---- */

void *ob_backup_uploader_main(void *arg);
void *ob_backup_syncer_main(void *arg);
/* After a run that did not end: record the blobs of stored packs no chunk record names. */
int ob_backup_recover_orphans(state *s);

/* ---- filecache.c ---- */

void ob_backup_free_cache_list(ob_file_row *u);
/* The cached rows of one folder (none when out of memory: its files are read). */
void ob_backup_dircache_load(dircache *dc, ob_file_cache_reader *r, int64_t ds, const char *dir);
void ob_backup_dircache_dispose(dircache *dc);
const cached *ob_backup_dircache_find(const dircache *dc, const char *name);
/* The point is committed: the staged rows become the file cache. */
int ob_backup_write_cache(state *s);
void ob_backup_free_cache_updates(state *s);

/* ---- scan.c ---- */

/* Scan data source index into the pipeline. */
int ob_backup_scan_source(state *s, size_t index);

#endif
