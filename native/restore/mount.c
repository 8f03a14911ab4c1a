/* A recovery point as a read-only file system: folders from the tree objects, files chunk by chunk (restore/mount.h). */
#include "restore/mount.h"
#include "vault/snapshot.h"
#include "vault/tree.h"
#include "platform/file.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

/* ---- the caches: a hash table and a most-recently-used list each ---- */

/* What both caches keep of an entry, first in it: the id it is found by, its cost, its links. */
typedef struct lru_node {
	uint8_t id[OB_ID_BYTES];
	size_t cost;
	struct lru_node *prev, *next, *hnext;
} lru_node;

/* At most max bytes of entries; the least recently used goes first (free_node frees one). */
typedef struct lru {
	lru_node *table[BUCKETS], *head, *tail;
	size_t bytes, max;
	void (*free_node)(lru_node *n);
} lru;

typedef struct tnode {
	lru_node node;
	uint8_t *blob;
	ob_entry *e;            /* sorted by name, pointing into blob */
	size_t n;
} tnode;

typedef struct cnode {
	lru_node node;
	uint8_t *data;
	size_t len;
} cnode;

struct ob_mount_fs {
	ob_mount_config cfg;
	uint8_t root[OB_ID_BYTES];
	int64_t backup_time_ns;
	lru trees, chunks;
	char **reported;        /* damaged items reported already */
	size_t nreported;
};

static size_t bucket(const uint8_t *id)
{
	return ((size_t)id[0] | (size_t)id[1] << 8) % BUCKETS;
}

static void lru_unlink(lru *c, lru_node *n)
{
	lru_node **pp = &c->table[bucket(n->id)];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	if (n->prev)
		n->prev->next = n->next;
	else
		c->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		c->tail = n->prev;
	n->prev = n->next = n->hnext = NULL;
	c->bytes -= n->cost;
}

/* Put n (its id and cost set) in front; older entries go while over the bound, never n itself. */
static void lru_insert(lru *c, lru_node *n)
{
	n->hnext = c->table[bucket(n->id)];
	c->table[bucket(n->id)] = n;
	n->prev = NULL;
	n->next = c->head;
	if (c->head)
		c->head->prev = n;
	c->head = n;
	if (!c->tail)
		c->tail = n;
	c->bytes += n->cost;
	while (c->bytes > c->max && c->tail && c->tail != n) {
		lru_node *old = c->tail;
		lru_unlink(c, old);
		c->free_node(old);
	}
}

/* The entry of id, now the most recently used, or NULL. */
static lru_node *lru_find(lru *c, const uint8_t *id)
{
	lru_node *n;

	for (n = c->table[bucket(id)]; n; n = n->hnext)
		if (!memcmp(n->id, id, OB_ID_BYTES)) {
			lru_unlink(c, n);
			lru_insert(c, n);
			return n;
		}
	return NULL;
}

static void lru_clear(lru *c)
{
	while (c->head) {
		lru_node *n = c->head;
		lru_unlink(c, n);
		c->free_node(n);
	}
}

/* Report a damaged item once. */
static void report(ob_mount_fs *fs, const char *path, const char *why)
{
	size_t i;
	char **grown, *copy;

	for (i = 0; i < fs->nreported; i++)
		if (!strcmp(fs->reported[i], path))
			return;
	if ((grown = realloc(fs->reported, (fs->nreported + 1) * sizeof(*grown))) && (copy = strdup(path))) {
		fs->reported = grown;
		fs->reported[fs->nreported++] = copy;
	} else if (grown) {
		fs->reported = grown;
	}
	if (fs->cfg.progress)
		atomic_fetch_add(&fs->cfg.progress->files_failed, 1);
	if (fs->cfg.on_failed)
		fs->cfg.on_failed(path, why, fs->cfg.payload);
	fprintf(stderr, "obagent: mount: %s: %s\n", path, why);
}

static void tnode_free(lru_node *n)
{
	tnode *t = (tnode *)n;

	free(t->blob);
	free(t->e);
	free(t);
}

static void cnode_free(lru_node *n)
{
	cnode *c = (cnode *)n;

	free(c->data);
	free(c);
}

typedef struct collect {
	ob_entry *e;
	size_t n, cap;
	int error;
} collect;

static int collect_cb(const ob_entry *e, void *payload)
{
	collect *c = payload;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		ob_entry *g = realloc(c->e, cap * sizeof(*g));
		if (!g)
			return c->error = ob_err_nomem();
		c->e = g;
		c->cap = cap;
	}
	c->e[c->n++] = *e;
	return 0;
}

/*
 * A folder's parsed tree: valid until the next call (the newest is never evicted by its own
 * insertion, so a caller holds one tree at a time). OB_ECORRUPT when it is damaged or missing.
 */
static int get_tree(tnode **out, ob_mount_fs *fs, const uint8_t id[OB_ID_BYTES])
{
	tnode *t;
	collect c = { NULL, 0, 0, 0 };
	size_t len = 0;
	int error;

	if ((t = (tnode *)lru_find(&fs->trees, id)) != NULL) {
		*out = t;
		return 0;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return ob_err_nomem();
	memcpy(t->node.id, id, OB_ID_BYTES);
	if ((error = ob_fetch_blob(&t->blob, &len, fs->cfg.locator, OB_BLOB_TREE, id)) < 0) {
		free(t);
		return error;
	}
	error = ob_tree_parse(t->blob, len, collect_cb, &c);
	if (error < 0 || c.error < 0) {
		free(c.e);
		tnode_free(&t->node);
		return c.error < 0 ? c.error : error;
	}
	t->e = c.e;
	t->n = c.n;
	t->node.cost = len + c.cap * sizeof(ob_entry) + sizeof(*t);
	lru_insert(&fs->trees, &t->node);
	*out = t;
	return 0;
}

/* An entry of a tree by name (the tree is sorted bytewise, as ob_tree_builder sorts it). */
static const ob_entry *find_entry(const tnode *t, const char *name, size_t len)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const ob_entry *e = &t->e[mid];
		int c = memcmp(e->name, name, e->name_len < len ? e->name_len : len);
		if (c == 0)
			c = e->name_len < len ? -1 : e->name_len > len ? 1 : 0;
		if (c == 0)
			return e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The entry a path names ("/" is the root: *out_root 1, out untouched). The entry points into
 * the cached tree of its folder: valid until the next cache call. A folder on the way whose
 * tree is damaged gives OB_ECORRUPT, reported.
 */
static int resolve(const ob_entry **out, int *out_root, ob_mount_fs *fs, const char *path)
{
	uint8_t cur[OB_ID_BYTES];
	const char *p = path;
	const ob_entry *e = NULL;
	tnode *t;
	int error;

	*out_root = 0;
	while (*p == '/')
		p++;
	if (!*p) {
		*out_root = 1;
		return 0;
	}
	memcpy(cur, fs->root, OB_ID_BYTES);
	for (;;) {
		size_t len = strcspn(p, "/");
		if ((error = get_tree(&t, fs, cur)) < 0) {
			if (error == OB_ECORRUPT) {
				char folder[4096];
				snprintf(folder, sizeof(folder), "/%.*s", (int)(p - path > 1 ? p - path - 2 : 0), path + 1);
				report(fs, folder, ob_error_last());
			}
			return error;
		}
		if (!(e = find_entry(t, p, len)))
			return OB_ENOTFOUND;
		p += len;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (e->type != OB_TREE_DIR)
			return OB_ENOTFOUND;
		memcpy(cur, e->subtree, OB_ID_BYTES);
	}
	*out = e;
	return 0;
}

/* ---- attributes ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * Inode numbers: every name of a file the tree records with the same (dev, inode) gets the same
 * number, a hash of the pair; an entry without one (inode 0) gets a hash of its folder's tree and
 * its name. 1 is the root's; 0 and 1 are never given otherwise.
 */
static uint64_t entry_ino(const ob_entry *e, const uint8_t *folder)
{
	uint64_t h;
	size_t i;

	if (e->inode) {
		h = mix64(mix64(e->dev) ^ e->inode);
	} else {
		h = 0xcbf29ce484222325ULL;
		for (i = 0; i < 8; i++)
			h = (h ^ folder[i]) * 0x100000001b3ULL;
		for (i = 0; i < e->name_len; i++)
			h = (h ^ (uint8_t)e->name[i]) * 0x100000001b3ULL;
		h = mix64(h) | (1ULL << 63);
	}
	return h <= 1 ? h + 2 : h;
}

static int kind_of(int type)
{
	switch (type) {
	case OB_TREE_FILE: return OB_FILE_REGULAR;
	case OB_TREE_DIR: return OB_FILE_DIR;
	case OB_TREE_SYMLINK: return OB_FILE_SYMLINK;
	case OB_TREE_FIFO: return OB_FILE_FIFO;
	case OB_TREE_CHARDEV: return OB_FILE_CHARDEV;
	case OB_TREE_BLOCKDEV: return OB_FILE_BLOCKDEV;
	case OB_TREE_SOCKET: return OB_FILE_SOCKET;
	default: return OB_FILE_OTHER;
	}
}

static void entry_attr(ob_mount_attr *a, const ob_entry *e, const uint8_t *folder)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind_of(e->type);
	a->perm = e->mode & 07777;
	a->ino = entry_ino(e, folder);
	a->size = e->type == OB_TREE_FILE ? e->size : e->type == OB_TREE_SYMLINK ? e->target_len : 0;
	a->rdev = e->rdev;
	a->nlink = e->nlink ? e->nlink : e->type == OB_TREE_DIR ? 2 : 1;
	a->uid = e->uid;
	a->gid = e->gid;
	a->mtime_ns = e->mtime_ns;
	a->ctime_ns = e->ctime_ns ? e->ctime_ns : e->mtime_ns;
}

static void root_attr(ob_mount_fs *fs, ob_mount_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->kind = OB_FILE_DIR;
	a->perm = 0555;
	a->ino = 1;
	a->nlink = 2;
	a->mtime_ns = a->ctime_ns = fs->backup_time_ns;
}

/* The tree id of the folder holding path's last component (the root's for "/a"). */
static void parent_id(uint8_t out[OB_ID_BYTES], ob_mount_fs *fs, const char *path)
{
	const char *slash = strrchr(path, '/');
	const ob_entry *e;
	int root;
	char parent[4096];

	memcpy(out, fs->root, OB_ID_BYTES);
	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(parent))
		return;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	if (resolve(&e, &root, fs, parent) == 0 && !root && e->type == OB_TREE_DIR)
		memcpy(out, e->subtree, OB_ID_BYTES);
}

static int op_getattr(void *payload, const char *path, ob_mount_attr *out)
{
	ob_mount_fs *fs = payload;
	const ob_entry *e;
	uint8_t folder[OB_ID_BYTES];
	int root, error;

	if ((error = resolve(&e, &root, fs, path)) < 0)
		return error;
	if (root) {
		root_attr(fs, out);
		return 0;
	}
	if (!e->inode) {
		parent_id(folder, fs, path);
		if ((error = resolve(&e, &root, fs, path)) < 0)
			return error;
	} else {
		memset(folder, 0, sizeof(folder));
	}
	entry_attr(out, e, folder);
	return 0;
}

static int safe_name(const char *name, size_t len)
{
	if (len == 0 || len > 255 || memchr(name, '/', len) || memchr(name, '\0', len))
		return 0;
	return !((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'));
}

static int op_readdir(void *payload, const char *path, ob_mount_fill fill, void *fill_payload)
{
	ob_mount_fs *fs = payload;
	const ob_entry *e;
	uint8_t id[OB_ID_BYTES];
	tnode *t;
	size_t i;
	int root, error;

	if ((error = resolve(&e, &root, fs, path)) < 0)
		return error;
	if (!root && e->type != OB_TREE_DIR)
		return OB_EINVALID;
	memcpy(id, root ? fs->root : e->subtree, OB_ID_BYTES);
	if ((error = get_tree(&t, fs, id)) < 0) {
		if (error == OB_ECORRUPT)
			report(fs, path, ob_error_last());
		return error;
	}
	for (i = 0; i < t->n; i++) {
		char name[256];
		ob_mount_attr a;
		if (!safe_name(t->e[i].name, t->e[i].name_len)) {
			report(fs, path, "the vault names an entry of this folder that is not a plain name ('..', '/', empty); "
				"it is not shown");
			continue;
		}
		memcpy(name, t->e[i].name, t->e[i].name_len);
		name[t->e[i].name_len] = '\0';
		entry_attr(&a, &t->e[i], id);
		if (fill(fill_payload, name, &a))
			break;
	}
	return 0;
}

static int op_readlink(void *payload, const char *path, char *buf, size_t size)
{
	ob_mount_fs *fs = payload;
	const ob_entry *e;
	int root, error;
	size_t n;

	if ((error = resolve(&e, &root, fs, path)) < 0)
		return error;
	if (root || e->type != OB_TREE_SYMLINK || !size)
		return OB_EINVALID;
	n = e->target_len < size - 1 ? e->target_len : size - 1;
	memcpy(buf, e->target, n);
	buf[n] = '\0';
	return 0;
}

static int64_t op_getxattr(void *payload, const char *path, const char *name, void *buf, size_t size)
{
	ob_mount_fs *fs = payload;
	const ob_entry *e;
	size_t pos = 0, nl, vl, want = strlen(name);
	const char *n;
	const uint8_t *v;
	int root, error;

	if ((error = resolve(&e, &root, fs, path)) < 0)
		return error;
	if (root)
		return OB_EEXISTS;
	while ((error = ob_xattr_next(e, &pos, &n, &nl, &v, &vl)) == 1) {
		if (nl != want || memcmp(n, name, nl) != 0)
			continue;
		if (!size)
			return (int64_t)vl;
		if (size < vl)
			return OB_ENOSPC;
		memcpy(buf, v, vl);
		return (int64_t)vl;
	}
	return error < 0 ? OB_ECORRUPT : OB_EEXISTS;
}

static int64_t op_listxattr(void *payload, const char *path, char *buf, size_t size)
{
	ob_mount_fs *fs = payload;
	const ob_entry *e;
	size_t pos = 0, nl, vl, total = 0;
	const char *n;
	const uint8_t *v;
	int root, error;

	if ((error = resolve(&e, &root, fs, path)) < 0)
		return error;
	if (root)
		return 0;
	while ((error = ob_xattr_next(e, &pos, &n, &nl, &v, &vl)) == 1) {
		if (memchr(n, '\0', nl))
			continue;
		if (size) {
			if (total + nl + 1 > size)
				return OB_ENOSPC;
			memcpy(buf + total, n, nl);
			buf[total + nl] = '\0';
		}
		total += nl + 1;
	}
	return error < 0 ? OB_ECORRUPT : (int64_t)total;
}

/* ---- files ---- */

typedef struct fhandle {
	char *path;
	uint64_t size;
	size_t n;               /* chunks */
	uint8_t *ids;           /* n * 32 */
	ob_blob_loc *locs;
	uint64_t *offs;         /* offs[i]: where chunk i starts; known for i <= known */
	size_t known;
	int failed;             /* a chunk of it is damaged or missing: its reads past there fail */
} fhandle;

static int op_open(void *payload, const char *path, void **out)
{
	ob_mount_fs *fs = payload;
	const ob_entry *e;
	fhandle *h;
	int root, error;

	*out = NULL;
	if ((error = resolve(&e, &root, fs, path)) < 0)
		return error;
	if (root || e->type != OB_TREE_FILE)
		return OB_EINVALID;
	if (!(h = calloc(1, sizeof(*h))) || !(h->path = strdup(path)) ||
	    !(h->ids = malloc(e->chunk_count * OB_ID_BYTES + 1)) ||
	    !(h->locs = calloc(e->chunk_count + 1, sizeof(*h->locs))) ||
	    !(h->offs = calloc(e->chunk_count + 1, sizeof(*h->offs)))) {
		if (h) {
			free(h->path);
			free(h->ids);
			free(h->locs);
			free(h);
		}
		return ob_err_nomem();
	}
	h->size = e->size;
	h->n = e->chunk_count;
	memcpy(h->ids, e->chunks, e->chunk_count * OB_ID_BYTES);
	if (fs->cfg.progress)
		atomic_fetch_add(&fs->cfg.progress->files_done, 1);
	*out = h;
	return 0;
}

static void op_release(void *payload, void *handle)
{
	fhandle *h = handle;

	(void)payload;
	if (!h)
		return;
	free(h->path);
	free(h->ids);
	free(h->locs);
	free(h->offs);
	free(h);
}

/* Locate chunks until the one holding offset is known; *out_i is it. */
static int chunk_at(size_t *out_i, ob_mount_fs *fs, fhandle *h, uint64_t offset)
{
	size_t lo, hi;

	while (h->known < h->n && h->offs[h->known] <= offset) {
		ob_blob_loc *loc = &h->locs[h->known];
		if (ob_locator_find(loc, fs->cfg.locator, h->ids + OB_ID_BYTES * h->known) < 0) {
			report(fs, h->path, ob_error_last());
			h->failed = 1;
			return OB_ECORRUPT;
		}
		h->offs[h->known + 1] = h->offs[h->known] + loc->raw_length;
		h->known++;
		if (h->known == h->n && h->offs[h->n] != h->size) {
			report(fs, h->path, "the vault's chunks do not add up to the file's size");
			h->failed = 1;
			return OB_ECORRUPT;
		}
	}
	/* The last chunk i < known with offs[i] <= offset. */
	lo = 0;
	hi = h->known;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->offs[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	if (h->known == 0 || h->offs[lo] > offset || offset >= h->offs[lo + 1]) {
		report(fs, h->path, "the vault's chunks do not add up to the file's size");
		h->failed = 1;
		return OB_ECORRUPT;
	}
	*out_i = lo;
	return 0;
}

/* A chunk's bytes, opened and checked (from the cache, or fetched): valid until the next call. */
static int get_chunk(cnode **out, ob_mount_fs *fs, fhandle *h, size_t i)
{
	const uint8_t *id = h->ids + OB_ID_BYTES * i;
	const ob_blob_loc *loc = &h->locs[i];
	uint8_t *data = NULL;
	size_t len = 0;
	cnode *c;
	int error;

	if ((c = (cnode *)lru_find(&fs->chunks, id)) != NULL) {
		*out = c;
		return 0;
	}
	error = ob_fetch_blob_at(&data, &len, fs->cfg.repo, loc, OB_BLOB_DATA, id);
	if (error == OB_ECORRUPT && ob_fetch_blob_other(&data, &len, fs->cfg.locator, loc, OB_BLOB_DATA, id) == 0)
		error = 0;  /* a sound copy (docs/FORMAT.md, "Damage and healing") */
	if (error == 0 && len != loc->raw_length) {
		free(data);
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A chunk of the file is not the length its index names.");
	}
	if (error < 0) {
		report(fs, h->path, ob_error_last());
		return error;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		free(data);
		return ob_err_nomem();
	}
	memcpy(c->node.id, id, OB_ID_BYTES);
	c->data = data;
	c->len = len;
	c->node.cost = len;
	lru_insert(&fs->chunks, &c->node);
	*out = c;
	return 0;
}

static int64_t op_read(void *payload, void *handle, char *buf, size_t size, uint64_t offset)
{
	ob_mount_fs *fs = payload;
	fhandle *h = handle;
	size_t done = 0;
	int error;

	if (!h)
		return OB_EINVALID;
	if (offset >= h->size)
		return 0;
	if (size > h->size - offset)
		size = (size_t)(h->size - offset);
	while (done < size) {
		size_t i, at, n;
		cnode *c = NULL;
		if ((error = chunk_at(&i, fs, h, offset + done)) < 0 || (error = get_chunk(&c, fs, h, i)) < 0)
			return error == OB_ENOMEM ? OB_ENOMEM : OB_EIO;
		at = (size_t)(offset + done - h->offs[i]);
		n = c->len - at < size - done ? c->len - at : size - done;
		memcpy(buf + done, c->data + at, n);
		done += n;
	}
	if (fs->cfg.progress)
		atomic_fetch_add(&fs->cfg.progress->bytes_done, done);
	return (int64_t)done;
}

const ob_mount_ops ob_mount_fs_ops = {
	op_getattr,
	op_readdir,
	op_readlink,
	op_open,
	op_read,
	op_release,
	op_getxattr,
	op_listxattr,
};

int ob_mount_fs_open(ob_mount_fs **out, const ob_mount_config *cfg)
{
	ob_mount_fs *fs;
	ob_kv kv = { 0 };
	tnode *t;
	int64_t when = 0;
	int error;

	*out = NULL;
	if (!(fs = calloc(1, sizeof(*fs))))
		return ob_err_nomem();
	fs->cfg = *cfg;
	fs->chunks.max = cfg->chunk_cache_bytes ? cfg->chunk_cache_bytes : OB_MOUNT_CHUNK_CACHE_BYTES;
	fs->chunks.free_node = cnode_free;
	fs->trees.max = cfg->tree_cache_bytes ? cfg->tree_cache_bytes : OB_MOUNT_TREE_CACHE_BYTES;
	fs->trees.free_node = tnode_free;
	if ((error = ob_snapshot_read(&kv, cfg->repo, cfg->point_id)) < 0) {
		free(fs);
		return error;
	}
	error = ob_snapshot_root(fs->root, NULL, &kv, cfg->datasource_id);
	if (error == 0 && ob_kv_get_i64(&when, &kv, "time") == 0)
		fs->backup_time_ns = when * 1000000000LL;
	ob_kv_dispose(&kv);
	/* The root folder is read now: a point whose root is damaged does not mount. */
	if (error == 0)
		error = get_tree(&t, fs, fs->root);
	if (error < 0) {
		ob_mount_fs_free(fs);
		return error;
	}
	*out = fs;
	return 0;
}

void ob_mount_fs_free(ob_mount_fs *fs)
{
	size_t i;

	if (!fs)
		return;
	lru_clear(&fs->trees);
	lru_clear(&fs->chunks);
	for (i = 0; i < fs->nreported; i++)
		free(fs->reported[i]);
	free(fs->reported);
	free(fs);
}
