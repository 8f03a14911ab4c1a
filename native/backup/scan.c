/* The scanner: walks a data source, takes what the selection rules select, and reads changed files into chunks. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

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
/* ---- the scanner ---- */

typedef struct scanner {
	state *s;
	const ob_backup_source *src;
	size_t source;
	ruleset rules;
	dev_t dev;
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
			error = ob_backup_submit(s, f, copy, cut);
		}
	}
	if (error == 0 && !rerr) {
		struct stat after;
		if (stored != limit && !ob_backup_cancelled(s))
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
		ob_backup_dirnode_free(d);
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
	if (!ob_rules_worth_looking(&sc->rules, path->data, path->len))
		goto done;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		error = report_failed(sc, path->data, errno == ENOENT ? "vanished during the backup" : strerror(errno));
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		int inc = ob_rules_selected(&sc->rules, path->data, path->len, 1);
		int fd;
		dirnode *child;
		if (st.st_dev != sc->dev)
			goto done;  /* another volume: another data source */
		if (!inc && !ob_rules_lead_to_inclusion(&sc->rules, path->data, path->len))
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
	if (!ob_rules_selected(&sc->rules, path->data, path->len, 0))
		goto done;
	atomic_fetch_add(&s->pg->files_scanned, 1);
	if (S_ISREG(st.st_mode)) {
		const cached *c = ob_backup_dircache_find(dc, name);
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
		ob_backup_dircache_load(&dc, sc->cache_q, sc->src->id, path->data);
	for (i = 0; i < n && error == 0 && !ob_backup_cancelled(s); i++)
		error = scan_entry(sc, d, fd, names[i], path, &dc);
	ob_backup_dircache_dispose(&dc);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
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
	struct stat st;
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
	ob_backup_flush_batch(s);  /* whatever is left in the batch, even after an error: workers drain it */
done:
	if (root)
		ob_backup_dirnode_free(root);
	if (fd >= 0)
		close(fd);
	ob_file_cache_reader_free(sc.cache_q);
	ob_compressor_dispose(&sc.c);
	free(sc.window);
	names_dispose(&sc.nm);
	ob_rules_dispose(&sc.rules);
	ob_buf_dispose(&path);
	return error;
}
