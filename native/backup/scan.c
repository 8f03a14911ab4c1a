/* The scanner: walks a data source, takes what the selection rules select, and reads changed files into chunks. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"
#include "platform/scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

	for (i = 0; i < n->nusers; i++)
		if (n->users[i].id == uid)
			return n->users[i].name;
	if (n->nusers == 64)
		return "";
	n->users[n->nusers].id = uid;
	n->users[n->nusers].name = ob_scan_user_name(uid);
	return n->users[n->nusers++].name ? n->users[n->nusers - 1].name : "";
}

static const char *group_name(namecache *n, uint32_t gid)
{
	size_t i;

	for (i = 0; i < n->ngroups; i++)
		if (n->groups[i].id == gid)
			return n->groups[i].name;
	if (n->ngroups == 64)
		return "";
	n->groups[n->ngroups].id = gid;
	n->groups[n->ngroups].name = ob_scan_group_name(gid);
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

typedef struct xattr_list {
	ob_buf b;
	uint32_t count;
} xattr_list;

/* One attribute in the tree's form (docs/FORMAT.md, "Trees"): u16 name length, name, u32 value length, value. */
static void xattr_add(void *payload, const char *name, size_t nl, const uint8_t *v, size_t vl)
{
	xattr_list *x = payload;
	uint8_t h[2] = { (uint8_t)nl, (uint8_t)(nl >> 8) };
	uint8_t l[4] = { (uint8_t)vl, (uint8_t)(vl >> 8), (uint8_t)(vl >> 16), (uint8_t)(vl >> 24) };

	ob_buf_put(&x->b, h, 2);
	ob_buf_put(&x->b, name, nl);
	ob_buf_put(&x->b, l, 4);
	ob_buf_put(&x->b, v, vl);
	x->count++;
}

/* Read extended attributes (ACLs included) of an open file or folder. */
static int read_xattrs(uint8_t **out, size_t *out_len, uint32_t *out_count, int fd)
{
	xattr_list x = { OB_BUF_INIT, 0 };
	int error = ob_scan_xattrs(fd, xattr_add, &x);

	*out_len = x.b.len;
	*out = (uint8_t *)ob_buf_detach(&x.b);
	*out_count = x.count;
	if (error < 0) {
		free(*out);
		*out = NULL;
		*out_len = 0;
		*out_count = 0;
	}
	return error;
}

static uint8_t entry_type(int kind)
{
	switch (kind) {
	case OB_SCAN_FILE: return OB_TREE_FILE;
	case OB_SCAN_DIR: return OB_TREE_DIR;
	case OB_SCAN_SYMLINK: return OB_TREE_SYMLINK;
	case OB_SCAN_FIFO: return OB_TREE_FIFO;
	case OB_SCAN_CHARDEV: return OB_TREE_CHARDEV;
	case OB_SCAN_BLOCKDEV: return OB_TREE_BLOCKDEV;
	default: return OB_TREE_SOCKET;
	}
}

static void fill_meta(ob_entry *e, namecache *nm, const char *name, const ob_scan_stat *st)
{
	memset(e, 0, sizeof(*e));
	e->type = entry_type(st->kind);
	e->name = name;
	e->name_len = strlen(name);
	e->mode = st->mode;
	e->uid = st->uid;
	e->gid = st->gid;
	e->user = user_name(nm, e->uid);
	e->user_len = strlen(e->user);
	e->group = group_name(nm, e->gid);
	e->group_len = strlen(e->group);
	e->mtime_ns = st->mtime_ns;
	e->ctime_ns = st->ctime_ns;
	e->size = st->kind == OB_SCAN_FILE ? st->size : 0;
	e->inode = st->inode;
	e->dev = st->dev;
	e->nlink = st->nlink;
	e->rdev = st->rdev;
	if (st->sparse)
		e->flags |= OB_ENTRY_SPARSE;
}

/* ---- the scanner ---- */

typedef struct scanner {
	state *s;
	const ob_backup_source *src;
	size_t source;
	ruleset rules;
	uint64_t dev;
	namecache nm;
	uint8_t *window;
	ob_file_cache_reader *cache_q;
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

/* Read a regular file into chunks. The file job owns the entry; the folder waits on it. */
static int scan_file(scanner *sc, dirnode *d, int dirfd, const char *name, const char *path, const char *dirpath,
	const ob_scan_stat *st0)
{
	state *s = sc->s;
	filejob *f;
	ob_scan_stat st;
	size_t have = 0, start = 0;
	uint64_t limit, rpos = 0, stored = 0;   /* the size at open, where reading is, what the chunks hold */
	uint64_t ext_end = 0, hole_lo = 0, hole_hi = 0;   /* the extent rpos is in; the last hole met */
	int fd, eof = 0, error = 0, rerr = 0, changed = 0, in_hole = 0;   /* rerr: a read's OS error */

	/* Non-blocking: a FIFO put in the file's place since the scan must not hang the backup (it is refused below). */
	if ((rerr = ob_scan_open_file_at(&fd, dirfd, name)) != 0)
		return report_failed(sc, path, ob_scan_reason(rerr));
	if (ob_scan_fstat(&st, fd) != 0 || st.kind != OB_SCAN_FILE) {
		ob_scan_close(fd);
		return report_failed(sc, path, "changed into something other than a file while being read");
	}
	(void)st0;
	if (!(f = calloc(1, sizeof(*f))) || !(f->name = strdup(name)) || !(f->cache_dir = strdup(dirpath))) {
		ob_scan_close(fd);
		if (f)
			ob_backup_filejob_free(f);
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
	if (st.size > OB_CHUNK_MIN)
		ob_scan_advise_sequential(fd);   /* read ahead further; a small file is one read */

	pthread_mutex_lock(&s->lock);
	d->pending++;
	pthread_mutex_unlock(&s->lock);

	/*
	 * The copy is the file's first st_size bytes as read, no more: a log that grows
	 * while it is read gives the prefix it had at open (reading on could never end),
	 * one that shrinks gives what was there. The entry records what the chunks hold.
	 */
	limit = st.size;
	if (limit <= OB_CHUNK_MIN) {
		/* Small files are one chunk: read them whole, no copy. */
		size_t want = (size_t)st.size, got = 0;
		uint8_t *buf = malloc(want ? want : 1);
		if (!buf) {
			error = ob_err_nomem();
		} else {
			while (got < want) {
				size_t n;
				if ((rerr = ob_scan_read(&n, fd, buf + got, want - got)) != 0 || n == 0)
					break;
				got += n;
			}
			if (!rerr && got < want)
				changed = 1;
			stored = got;
			if (!rerr && got > 0)
				error = ob_backup_submit(s, f, buf, got);
			else
				free(buf);
		}
	} else {
		while (error == 0 && !ob_backup_cancelled(s)) {
			size_t cut;
			uint64_t off = rpos - (have - start);   /* where the next chunk starts */
			if (s->zero_len && off >= hole_lo && off + s->zero_len <= hole_hi) {
				/* A chunk of the hole's zeros (hole_hi is at most limit). */
				if ((error = ob_backup_submit(s, f, NULL, s->zero_len)) < 0)
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
					size_t want = READ_WINDOW - have, n;
					if (rpos >= limit) {
						eof = 1;
						break;
					}
					if (rpos >= ext_end) {
						int at_end;
						if ((rerr = ob_scan_extent(&ext_end, &in_hole, &at_end, fd, rpos, limit)) != 0)
							break;
						if (at_end) {
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
						n = want;
					} else if ((rerr = ob_scan_pread(&n, fd, sc->window + have, want, rpos)) != 0) {
						break;
					}
					if (n == 0) {
						eof = 1;
						break;
					}
					have += n;
					rpos += n;
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
			error = ob_backup_submit(s, f, copy, cut);
		}
	}
	if (error == 0 && !rerr) {
		ob_scan_stat after;
		if (stored != limit && !ob_backup_cancelled(s))
			changed = 1;   /* it shrank while being read */
		if (ob_scan_fstat(&after, fd) == 0 && (after.size != st.size || after.mtime_ns != st.mtime_ns))
			changed = 1;
	}
	ob_scan_close(fd);
	atomic_fetch_add(&s->pg->bytes_scanned, st.size);

	pthread_mutex_lock(&s->lock);
	if (rerr) {
		/* A read error: the file is listed as failed and left out; its chunks are discarded. */
		f->cacheable = 0;
		f->dropped = 1;
		pthread_mutex_unlock(&s->lock);
		report_failed(sc, path, ob_scan_reason(rerr));
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
		int finished = ob_backup_finish_file(s, &sc->c, f);
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

static int dirnode_new(dirnode **out, scanner *sc, dirnode *parent, const char *name, const ob_scan_stat *st, int fd)
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
		ob_backup_dirnode_free(d);
	return ob_err_nomem();
}

static int scan_dir(scanner *sc, dirnode *d, int fd, ob_buf *path);

/* One entry of a folder. */
static int scan_entry(scanner *sc, dirnode *d, int dirfd, const char *name, ob_buf *path, const dircache *dc)
{
	state *s = sc->s;
	size_t keep = path->len;
	ob_scan_stat st;
	int error = 0, err;

	if ((path->len > 1 && (error = ob_buf_puts(path, "/")) < 0) || (error = ob_buf_puts(path, name)) < 0)
		return error;
	if (!ob_rules_worth_looking(&sc->rules, path->data, path->len))
		goto done;
	if ((err = ob_scan_stat_at(&st, dirfd, name)) != 0) {
		error = report_failed(sc, path->data, err == ENOENT ? "vanished during the backup" : ob_scan_reason(err));
		goto done;
	}
	if (st.kind == OB_SCAN_DIR) {
		int inc = ob_rules_selected(&sc->rules, path->data, path->len, 1);
		int fd;
		dirnode *child;
		if (!inc && !ob_rules_lead_to_inclusion(&sc->rules, path->data, path->len))
			goto done;
		if (ob_scan_other_volume(sc->dev, &st)) {
			/*
			 * Another volume: another data source's. One mounted inside a protected folder is not
			 * followed (as MARS does not follow a mounted volume); one in place of an inclusion or
			 * of a folder on the way to one means what the policy names is not here: never silent.
			 */
			char *parent = strndup(path->data, keep);
			if (!parent)
				error = ob_err_nomem();
			else if (!inc || !ob_rules_selected(&sc->rules, parent, keep, 1))
				error = report_failed(sc, path->data, "is on another volume than its data source now (a file "
					"system is mounted there): remove it from the policy and add it again, so that it is "
					"backed up with its own volume");
			free(parent);
			goto done;
		}
		if ((err = ob_scan_open_dir_at(&fd, dirfd, name)) != 0) {
			error = report_failed(sc, path->data, ob_scan_reason(err));
			goto done;
		}
		if ((error = dirnode_new(&child, sc, d, name, &st, fd)) < 0) {
			ob_scan_close(fd);
			goto done;
		}
		pthread_mutex_lock(&s->lock);
		d->pending++;
		pthread_mutex_unlock(&s->lock);
		error = scan_dir(sc, child, fd, path);
		ob_scan_close(fd);
		goto done;
	}
	if (!ob_rules_selected(&sc->rules, path->data, path->len, 0))
		goto done;
	atomic_fetch_add(&s->pg->files_scanned, 1);
	if (st.kind == OB_SCAN_FILE) {
		const cached *c = ob_backup_dircache_find(dc, name);
		if (c && c->size == st.size && c->mtime_ns == st.mtime_ns && c->ctime_ns == st.ctime_ns &&
		    c->inode == st.inode) {
			/* Unchanged since the last backup: one stat, no read. */
			pthread_mutex_lock(&s->lock);
			error = ob_tree_builder_add(&d->tb, c->entry, c->entry_len);
			s->files_total++;
			s->bytes_total += st.size;
			pthread_mutex_unlock(&s->lock);
			atomic_fetch_add(&s->pg->files_done, 1);
			atomic_fetch_add(&s->pg->files_cached, 1);
			atomic_fetch_add(&s->pg->bytes_scanned, st.size);
			atomic_fetch_add(&s->pg->bytes_done, st.size);
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
		if (st.kind == OB_SCAN_SYMLINK) {
			size_t n;
			if ((err = ob_scan_readlink_at(target, sizeof(target), &n, dirfd, name)) != 0 || n >= sizeof(target)) {
				error = report_failed(sc, path->data, err ? ob_scan_reason(err) : "link target too long");
				goto done;
			}
			e.target = target;
			e.target_len = n;
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
	char **names = NULL;
	size_t n = 0, i;
	dircache dc;
	int error;

	if ((error = ob_scan_list(&names, &n, fd)) > 0)
		error = report_failed(sc, path->data, ob_scan_reason(error));
	if (error != 0)
		goto finish;
	if (n > 1)
		qsort(names, n, sizeof(char *), name_cmp);
	if (sc->cache_none)
		memset(&dc, 0, sizeof(dc));
	else
		ob_backup_dircache_load(&dc, sc->cache_q, sc->src->id, path->data);
	for (i = 0; i < n && error == 0 && !ob_backup_cancelled(s); i++)
		error = scan_entry(sc, d, fd, names[i], path, &dc);
	ob_backup_dircache_dispose(&dc);
	ob_scan_names_free(names, n);
finish:
	pthread_mutex_lock(&s->lock);
	if (error == 0 && --d->pending == 0)
		error = ob_backup_finish_dir(s, &sc->c, d);
	pthread_mutex_unlock(&s->lock);
	return error;
}

int ob_backup_scan_source(state *s, size_t index)
{
	const ob_backup_source *src = &s->prm->sources[index];
	scanner sc;
	ob_buf path = OB_BUF_INIT;
	dirnode *root = NULL;
	ob_scan_stat st;
	int fd = -1, error;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.src = src;
	sc.source = index;
	atomic_store(&s->pg->datasource_id, src->id);
	if ((error = ob_rules_build(&sc.rules, src)) < 0)
		goto done;
	if (!(sc.window = malloc(READ_WINDOW))) {
		error = ob_err_nomem();
		goto done;
	}
	if ((error = ob_file_cache_reader_open(&sc.cache_q, s->prm->agent->cat)) < 0)
		goto done;
	/* A first backup of this source: no query per folder (each waits for the catalog while the syncer writes). */
	sc.cache_none = ob_file_cache_empty(s->prm->agent->cat, src->id);
	if ((error = ob_scan_open_root(&fd, &st, src->root ? src->root : src->name)) != 0) {
		error = ob_err_os(error, "Cannot open the data source", src->root ? src->root : src->name);
		goto done;
	}
	sc.dev = st.dev;
	if ((error = dirnode_new(&root, &sc, NULL, "/", &st, fd)) < 0 ||
	    (error = ob_buf_puts(&path, src->root ? src->root : src->name)) < 0)
		goto done;
	error = scan_dir(&sc, root, fd, &path);
	root = NULL;  /* owned by the pipeline now */
	ob_backup_flush_batch(s);  /* whatever is left in the batch, even after an error: workers drain it */
done:
	if (root)
		ob_backup_dirnode_free(root);
	ob_scan_close(fd);
	ob_file_cache_reader_free(sc.cache_q);
	ob_compressor_dispose(&sc.c);
	free(sc.window);
	names_dispose(&sc.nm);
	ob_rules_dispose(&sc.rules);
	ob_buf_dispose(&path);
	return error;
}
