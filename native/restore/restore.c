/* Restoring items of a recovery point: a tree walker and worker threads writing chunks in place. */
#define _GNU_SOURCE
#include "restore/restore.h"
#include "vault/snapshot.h"
#include "util/env.h"
#include "util/error.h"
#include "vault/tree.h"
#include "platform/apply.h"
#include "platform/file.h"
#include "platform/platform.h"
#include "platform/process.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKERS 2
#define REMOTE_WORKERS 4   /* a remote vault answers each ranged get after a round trip: keep more in flight */
#define QUEUE_MAX 64
#define HOLE_MIN 512        /* the smallest and largest block a hole is made of */
#define HOLE_MAX 65536

/* ---- state ---- */

/* A restored folder: its metadata is applied once its walk and its files are done. */
typedef struct rdir {
	ob_file *fd;
	uint8_t *meta;
	size_t meta_len;
	size_t pending;
} rdir;

typedef struct rfile {
	rdir *dir;              /* its folder, or NULL at the top */
	ob_file *dirfd;
	ob_file *fd;
	char tmp[64];
	char *final;            /* name in its folder */
	char *path;             /* full path, for messages and links */
	uint8_t *meta;          /* the encoded entry, for its metadata */
	size_t meta_len;
	uint64_t size;
	int sparse;             /* the source was sparse: zero blocks stay holes */
	size_t blksize;         /* the file system's block, for holes */
	size_t pending;
	int failed;
	int code;               /* the failure's code: OB_ECORRUPT is damage in the vault */
	char reason[512];
} rfile;

typedef struct task {
	rfile *f;
	uint64_t offset;
	uint8_t id[OB_ID_BYTES];
	ob_blob_loc loc;
	struct task *next;
} task;

typedef struct deferred {
	char *path;             /* a link to make, for messages */
	char *name;             /* its name in its folder */
	ob_file *dirfd;         /* its folder (a copy) */
	rdir *dir;              /* held until the link is made */
	size_t first;           /* the first name of the file, in rstate's firsts */
	struct deferred *next;
} deferred;

/*
 * The first name of a hard-linked file: the stored file (dev, ino), where it was restored (its
 * folder and name) and what was made (made_dev, made_ino: the temporary it was written to).
 */
typedef struct first_name {
	uint64_t dev, ino, made_dev, made_ino;
	ob_file *dirfd;
	char *name;
	int made;
} first_name;

typedef struct rstate {
	const ob_restore_run *run;
	int64_t now;
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* tasks available, or room */
	task *head, *tail;
	size_t queued;
	int closing;
	int corrupt, failures;
	deferred *links;
	first_name *firsts;
	size_t nfirsts, firsts_cap;
	int fatal;
	ob_file *destfd;          /* the destination, opened when the first item is found */
	char *dest;               /* its real path */
	int dest_failed;          /* the destination could not be made or opened */
} rstate;

static int cancelled(rstate *s)
{
	return atomic_load(&s->run->progress->cancel) != 0;
}

/* Report a failed item (s->lock not held). */
static int report(rstate *s, const char *path, const char *reason, int corrupt)
{
	pthread_mutex_lock(&s->lock);
	s->failures++;
	if (corrupt)
		s->corrupt = 1;
	atomic_fetch_add(&s->run->progress->files_failed, 1);
	if (s->run->on_failed)
		s->run->on_failed(path, reason, s->run->payload);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/*
 * Report what was left out of an item on purpose (s->lock not held): listed with the failed
 * items (the job ends CompletedWithWarning), but not a failure of the restore.
 */
static void warn(rstate *s, const char *path, const char *what)
{
	pthread_mutex_lock(&s->lock);
	if (s->run->on_failed)
		s->run->on_failed(path, what, s->run->payload);
	pthread_mutex_unlock(&s->lock);
}

#define SET_ID_LEFT_OUT "restored without its set-user-id and set-group-id bits (a restore gives them back only " \
	"when asked: --special-files, Start-OBRecovery -RestoreSpecialFiles)"

/* Errors after which nothing else can be restored either; any other fails one item. */
static int fatal_error(int error)
{
	return error == OB_ENOMEM || error == OB_ECANCELLED || error == OB_ENOSPC;
}

#define TMP_PREFIX ".obagent-restore-"

/*
 * Remove the temporaries that restores which ended before finishing (killed, crashed, the
 * machine stopped) left in a folder. Only obagent's names, never a folder (files, and the links,
 * fifos, sockets and device nodes that are made under such names too), and only ones no
 * live restore owns: a temporary's name carries the id of the process writing it
 * (".obagent-restore-<pid>-<random>"), and it is stale once that process is gone; this process's
 * own are never touched. A name of the older form without a process id is stale once it has not
 * been written for a day.
 */
static void sweep_stale(rstate *s, ob_file *dirfd)
{
	ob_dir *d;
	const char *d_name;
	size_t plen = strlen(TMP_PREFIX);

	if (ob_dir_open_file(&d, dirfd) < 0)
		return;
	while (ob_dir_next(d, &d_name) == 1) {
		const char *rest = d_name + plen, *p;
		char *end;
		ob_file_info st;
		long long pid;
		int stale = 0;
		if (strncmp(d_name, TMP_PREFIX, plen) != 0)
			continue;
		if (ob_file_stat_at(&st, dirfd, d_name) < 0 || st.type == OB_FILE_DIR || st.type == OB_FILE_OTHER)
			continue;
		pid = strtoll(rest, &end, 10);
		if (end != rest && *end == '-' && strspn(end + 1, "0123456789abcdef") == 12 && end[13] == '\0') {
			stale = pid > 0 && pid != (long long)ob_process_id() && !ob_platform_process_alive(pid);
		} else {
			for (p = rest; *p && strchr("0123456789abcdef", *p); p++)
				;
			stale = p - rest == 12 && !*p && st.mtime < s->now - 86400;
		}
		if (stale)
			ob_file_remove_at(dirfd, d_name, 0);
	}
	ob_dir_close(d);
}

static int safe_name(const char *name, size_t len)
{
	if (len == 0 || len > 255 || memchr(name, '/', len) || memchr(name, '\0', len))
		return 0;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return 1;
}

/* Give an entry its owner back: 1 when it has it. */
static int give_owner(const ob_entry *e, ob_file *f)
{
	ob_owner o;

	o.user = e->user;
	o.user_len = e->user_len;
	o.group = e->group;
	o.group_len = e->group_len;
	o.uid = e->uid;
	o.gid = e->gid;
	return ob_apply_owner(f, &o);
}

/*
 * The permission bits to give an entry; *out_left_out set when its set-id bits were left out
 * for want of special_files alone (a warning). Set-user-id and set-group-id bits are kept only
 * when its owner was restored: a file owned by nobody must never come back as a set-id file of
 * the user who restores it (as `tar --no-same-owner` does). And only when asked for
 * (special_files), as tar keeps them only with --same-permissions: a forged point, or another
 * server's, must not plant a set-id program. A folder keeps them: there they only choose the
 * group of what is made in it, and grant no one anything.
 */
static unsigned int restored_mode(const ob_restore_run *run, const ob_entry *e, int owner_restored, int *out_left_out)
{
	unsigned int mode = e->mode & 07777;

	if (!owner_restored)
		return mode & ~(unsigned int)06000;   /* the format's mode is POSIX's: 06000 is set-id */
	if (!run->special_files && e->type != OB_TREE_DIR && (mode & 06000)) {
		*out_left_out = 1;
		return mode & ~(unsigned int)06000;
	}
	return mode;
}

/*
 * Owner, mode, extended attributes (ACLs), times, in that order so that none undoes another, on
 * the object f holds: a file or folder open, or the entry a restore just made (a link, fifo,
 * device, socket: ob_file_open_made_at), never a name. 1 when set-id bits were left out.
 */
static int apply_meta(const ob_restore_run *run, const ob_entry *e, ob_file *f)
{
	int owned = 0, left_out = 0;

	/* Not root, or skipped: the restoring user stays owner, and the set-id bits go. */
	if (!run->skip_security)
		owned = give_owner(e, f);
	if (e->type != OB_TREE_SYMLINK)
		ob_apply_mode(f, restored_mode(run, e, owned, &left_out));
	if (!run->skip_security) {
		size_t pos = 0, nl, vl;
		const char *n;
		const uint8_t *v;
		while (ob_xattr_next(e, &pos, &n, &nl, &v, &vl) == 1)
			ob_apply_xattr(f, n, nl, v, vl);
	}
	ob_apply_mtime(f, e->mtime_ns);
	return left_out;
}

/* A name for a temporary of this process in a folder: ".obagent-restore-<pid>-<random>". */
static void temp_name(char out[64])
{
	uint8_t rnd[6];
	char rhex[13];

	ob_random(rnd, sizeof(rnd));
	ob_hex_encode(rhex, rnd, sizeof(rnd));
	snprintf(out, 64, TMP_PREFIX "%lld-%s", (long long)ob_process_id(), rhex);
}

/* The name to restore under, per the overwrite option; *out NULL: skip it. */
static int target_name(char **out, rstate *s, ob_file *dirfd, const char *name, int is_dir)
{
	ob_file_info st;
	char stamp[32], candidate[512];
	struct tm tm;
	time_t t = (time_t)s->now;
	int k;

	*out = NULL;
	if (ob_file_stat_at(&st, dirfd, name) < 0 || (is_dir && st.type == OB_FILE_DIR) ||
	    s->run->overwrite == OB_OVERWRITE_OVERWRITE)
		return (*out = strdup(name)) ? 0 : ob_err_nomem();
	if (s->run->overwrite == OB_OVERWRITE_SKIP)
		return 0;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H-%M", &tm);
	for (k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(candidate, sizeof(candidate), "%s Copy of %s", stamp, name);
		else
			snprintf(candidate, sizeof(candidate), "%s Copy (%d) of %s", stamp, k, name);
		if (ob_file_stat_at(&st, dirfd, candidate) < 0)
			return (*out = strdup(candidate)) ? 0 : ob_err_nomem();
	}
	return ob_err(OB_EEXISTS, OB_ERRCLASS_JOB, "Too many copies of '%s' exist already.", name);
}

static const uint8_t zero_block[HOLE_MAX];

/* Write all of a span at an offset of a restored file. */
static int write_span(rfile *f, const uint8_t *p, size_t len, uint64_t offset)
{
	if (ob_file_write_at(f->fd, p, len, offset) < 0)
		return ob_platform_fail("Cannot write", f->path);
	return 0;
}

/*
 * Write a chunk at its offset. The file is always a temporary made for this restore, so what is
 * never written reads as zeros: in a file that was sparse, every file-system block of the chunk
 * that holds only zeros is left unwritten and stays a hole (the tail is made by ftruncate). A
 * file system without holes fills them with zeros itself; the bytes are the same either way.
 */
static int write_chunk(rfile *f, const uint8_t *data, size_t len, uint64_t offset)
{
	size_t at = 0, run = 0;   /* [run, at) is data still to write */
	int error;

	if (!f->sparse)
		return write_span(f, data, len, offset);
	while (at < len) {
		/* One block of the file, or the part of it that this chunk holds. */
		size_t end = at + (f->blksize - (size_t)((offset + at) % f->blksize));
		if (end > len)
			end = len;
		if (memcmp(data + at, zero_block, end - at) == 0) {
			if (at > run && (error = write_span(f, data + run, at - run, offset + run)) < 0)
				return error;
			run = end;
		}
		at = end;
	}
	return at > run ? write_span(f, data + run, at - run, offset + run) : 0;
}

/* Drop one hold on a folder (s->lock held); the last one applies its metadata. */
static void rdir_release(rstate *s, rdir *d)
{
	ob_entry e;

	if (!d || --d->pending > 0)
		return;
	if (ob_entry_decode(&e, d->meta, d->meta_len) == 0)
		apply_meta(s->run, &e, d->fd);
	ob_file_close(d->fd);
	free(d->meta);
	free(d);
}

static void rfile_free(rfile *f)
{
	ob_file_close(f->dirfd);
	free(f->final);
	free(f->path);
	free(f->meta);
	free(f);
}

/* All of a file is written (or it failed): put it in place, or remove it. */
static void finish_file(rstate *s, rfile *f)
{
	const ob_restore_run *run = s->run;
	int ok = !f->failed, left_out = 0;
	ob_entry e;

	if (ok && ob_file_truncate(f->fd, f->size) < 0) {
		ok = 0;
		snprintf(f->reason, sizeof(f->reason), "cannot write: %s", ob_platform_reason());
	}
	if (ok && ob_entry_decode(&e, f->meta, f->meta_len) == 0)
		left_out = apply_meta(run, &e, f->fd);
	ob_file_close(f->fd);
	f->fd = NULL;
	if (ok && ob_file_rename_at(f->dirfd, f->tmp, f->final) < 0) {
		ok = 0;
		snprintf(f->reason, sizeof(f->reason), "cannot put the restored file in place: %s", ob_platform_reason());
	}
	if (!ok) {
		ob_file_remove_at(f->dirfd, f->tmp, 0);  /* nothing half-written is left behind */
		if (!cancelled(s) || f->reason[0])
			report(s, f->path, f->reason[0] ? f->reason : "stopped", f->code == OB_ECORRUPT);
	} else {
		atomic_fetch_add(&run->progress->files_done, 1);
		if (left_out)
			warn(s, f->path, SET_ID_LEFT_OUT);
	}
	pthread_mutex_lock(&s->lock);
	rdir_release(s, f->dir);
	pthread_mutex_unlock(&s->lock);
	rfile_free(f);
}

static void *worker(void *arg)
{
	rstate *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		task *t;
		rfile *f;
		uint8_t *data = NULL;
		size_t len = 0;
		int error = 0, done;

		while (!s->head && !s->closing)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->head)
			break;
		t = s->head;
		s->head = t->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		pthread_cond_broadcast(&s->cond);
		f = t->f;
		if (!f->failed && !cancelled(s)) {
			pthread_mutex_unlock(&s->lock);
			error = ob_fetch_blob_at(&data, &len, s->run->repo, &t->loc, OB_BLOB_DATA, t->id);
			if (error == OB_ECORRUPT && ob_fetch_blob_other(&data, &len, s->run->locator, &t->loc, OB_BLOB_DATA, t->id) == 0)
				error = 0;  /* a sound copy (docs/FORMAT.md, "Damage and healing") */
			if (error == 0)
				error = write_chunk(f, data, len, t->offset);
			if (error == 0)
				atomic_fetch_add(&s->run->progress->bytes_done, len);
			free(data);
			pthread_mutex_lock(&s->lock);
			if (error < 0 && !f->failed) {
				f->failed = 1;
				f->code = error;
				snprintf(f->reason, sizeof(f->reason), "%s", ob_error_last());
				if (error == OB_ENOSPC)
					s->fatal = OB_ENOSPC;
			}
		} else if (!f->failed) {
			f->failed = 1;
		}
		done = --f->pending == 0;
		free(t);
		if (done) {
			pthread_mutex_unlock(&s->lock);
			finish_file(s, f);
			pthread_mutex_lock(&s->lock);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int enqueue(rstate *s, rfile *f, uint64_t offset, const uint8_t *id, const ob_blob_loc *loc)
{
	task *t = malloc(sizeof(*t));

	if (!t)
		return ob_err_nomem();
	t->f = f;
	t->offset = offset;
	memcpy(t->id, id, OB_ID_BYTES);
	t->loc = *loc;
	t->next = NULL;
	pthread_mutex_lock(&s->lock);
	while (s->queued >= QUEUE_MAX)
		pthread_cond_wait(&s->cond, &s->lock);
	f->pending++;
	if (s->tail)
		s->tail->next = t;
	else
		s->head = t;
	s->tail = t;
	s->queued++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int defer_link(rstate *s, rdir *dir, ob_file *dirfd, const char *name, const char *path, size_t first)
{
	deferred *d = calloc(1, sizeof(*d));

	if (!d || !(d->path = strdup(path)) || !(d->name = strdup(name)) || ob_file_dup(&d->dirfd, dirfd) < 0) {
		if (d) {
			free(d->path);
			free(d->name);
			free(d);
		}
		return ob_err_nomem();
	}
	d->first = first;
	pthread_mutex_lock(&s->lock);
	d->dir = dir;
	if (dir)
		dir->pending++;  /* its metadata waits for the link */
	d->next = s->links;
	s->links = d;
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&s->run->progress->files_scanned, 1);
	return 0;
}

static int restore_entry(rstate *s, rdir *parent, ob_file *dirfd, const char *dirpath, const ob_entry *e);

typedef struct walk_ctx {
	rstate *s;
	rdir *dir;
	ob_file *dirfd;
	const char *dirpath;
	int error;
} walk_ctx;

static int walk_cb(const ob_entry *e, void *payload)
{
	walk_ctx *w = payload;
	int error;

	if (cancelled(w->s))
		return 1;
	if ((error = restore_entry(w->s, w->dir, w->dirfd, w->dirpath, e)) < 0) {
		if (fatal_error(error)) {
			w->error = error;
			return 1;
		}
		/* Whatever else kept this entry from being restored fails it alone. */
		{
			char path[4096];
			snprintf(path, sizeof(path), "%s/%.*s", w->dirpath, (int)e->name_len, e->name);
			report(w->s, path, ob_error_last(), error == OB_ECORRUPT);
		}
	}
	return 0;
}

/* Restore a folder's entries; 1 when its tree could not be read (a failed item, reported). */
static int restore_tree(rstate *s, rdir *dir, ob_file *dirfd, const char *dirpath, const uint8_t *tree_id)
{
	uint8_t *tree = NULL;
	size_t len;
	walk_ctx w = { s, dir, dirfd, dirpath, 0 };
	int error;

	if ((error = ob_fetch_blob(&tree, &len, s->run->locator, OB_BLOB_TREE, tree_id)) < 0) {
		/* The folder fails, whatever kept its tree from being read; the rest goes on. */
		if (fatal_error(error))
			return error;
		report(s, dirpath, ob_error_last(), error == OB_ECORRUPT);
		return 1;
	}
	error = ob_tree_parse(tree, len, walk_cb, &w);
	free(tree);
	if (w.error < 0)
		return w.error;
	if (error == OB_ECORRUPT)
		return report(s, dirpath, ob_error_last(), 1);
	return error < 0 ? error : 0;
}

static int restore_file(rstate *s, rdir *parent, ob_file *dirfd, const char *dirpath, const char *name, const ob_entry *e)
{
	rfile *f;
	uint64_t offset = 0;
	size_t i, first = (size_t)-1;
	int error = 0;
	ob_buf enc = OB_BUF_INIT;

	if (!(f = calloc(1, sizeof(*f))))
		return ob_err_nomem();
	if (!(f->final = strdup(name)) || !(f->path = malloc(strlen(dirpath) + strlen(name) + 2))) {
		rfile_free(f);
		return ob_err_nomem();
	}
	sprintf(f->path, "%s/%s", dirpath, name);
	/* A further name of a hard-linked file is linked to the first, at the end. */
	if (e->nlink > 1) {
		for (i = 0; i < s->nfirsts; i++)
			if (s->firsts[i].dev == e->dev && s->firsts[i].ino == e->inode) {
				error = defer_link(s, parent, dirfd, name, f->path, i);
				rfile_free(f);
				return error;
			}
		if (s->nfirsts == s->firsts_cap) {
			size_t cap = s->firsts_cap ? s->firsts_cap * 2 : 16;
			void *v = realloc(s->firsts, cap * sizeof(*s->firsts));
			if (!v) {
				rfile_free(f);
				return ob_err_nomem();
			}
			s->firsts = v;
			s->firsts_cap = cap;
		}
		memset(&s->firsts[s->nfirsts], 0, sizeof(s->firsts[0]));
		s->firsts[s->nfirsts].dev = e->dev;
		s->firsts[s->nfirsts].ino = e->inode;
		if ((s->firsts[s->nfirsts].name = strdup(name)) != NULL) {
			if (ob_file_dup(&s->firsts[s->nfirsts].dirfd, dirfd) == 0)
				first = s->nfirsts++;
			else
				free(s->firsts[s->nfirsts].name);
		}
	}
	f->size = e->size;
	f->sparse = (e->flags & OB_ENTRY_SPARSE) != 0;
	if ((error = ob_entry_encode(&enc, e)) < 0) {
		rfile_free(f);
		return error;
	}
	f->meta_len = enc.len;
	f->meta = (uint8_t *)ob_buf_detach(&enc);
	temp_name(f->tmp);
	if (ob_file_dup(&f->dirfd, dirfd) < 0 || ob_file_create_at(&f->fd, dirfd, f->tmp, 0600) < 0) {
		report(s, f->path, ob_platform_reason(), 0);
		rfile_free(f);
		return 0;
	}
	if (first != (size_t)-1) {
		/* Which file was made: its further names are linked to this one, not to what its name holds later. */
		ob_file_info st;
		if (ob_file_stat(&st, f->fd) == 0) {
			s->firsts[first].made_dev = st.dev;
			s->firsts[first].made_ino = st.ino;
			s->firsts[first].made = 1;
		}
	}
	if (f->sparse) {
		ob_file_info st;
		ob_file_allow_holes(f->fd);
		f->blksize = ob_file_stat(&st, f->fd) == 0 ? st.block_size : 4096;
		if (f->blksize < HOLE_MIN || f->blksize > HOLE_MAX || (f->blksize & (f->blksize - 1)))
			f->blksize = 4096;
	}
	atomic_fetch_add(&s->run->progress->bytes_scanned, e->size);
	atomic_fetch_add(&s->run->progress->files_scanned, 1);
	f->pending = 1;  /* held while its chunks are handed out */
	if (parent) {
		pthread_mutex_lock(&s->lock);
		parent->pending++;
		pthread_mutex_unlock(&s->lock);
		f->dir = parent;
	}
	for (i = 0; i < e->chunk_count && !f->failed && !cancelled(s); i++) {
		ob_blob_loc loc;
		const uint8_t *id = e->chunks + 32 * i;
		if ((f->code = ob_locator_find(&loc, s->run->locator, id)) < 0) {
			pthread_mutex_lock(&s->lock);
			f->failed = 1;
			snprintf(f->reason, sizeof(f->reason), "%s", ob_error_last());
			pthread_mutex_unlock(&s->lock);
			break;
		}
		if ((error = enqueue(s, f, offset, id, &loc)) < 0)
			break;
		offset += loc.raw_length;
	}
	pthread_mutex_lock(&s->lock);
	if (!f->failed && offset != f->size && !cancelled(s) && error == 0) {
		f->failed = 1;
		f->code = OB_ECORRUPT;
		snprintf(f->reason, sizeof(f->reason), "the vault's chunks do not add up to the file's size");
	}
	if (cancelled(s))
		f->failed = 1;
	if (--f->pending == 0) {
		pthread_mutex_unlock(&s->lock);
		finish_file(s, f);
	} else {
		pthread_mutex_unlock(&s->lock);
	}
	return error;
}

/*
 * Restore a link, fifo, socket or device node: made under a temporary name, given its metadata
 * through a handle on what was made (never through its name, which the folder's owner may swap
 * for a link to another's file between two calls), and renamed into place, as a file is.
 */
static int restore_node(rstate *s, ob_file *dirfd, const char *path, const char *target, const ob_entry *e)
{
	char tmp[64];
	ob_file *h = NULL;
	int kind = e->type == OB_TREE_SYMLINK ? OB_FILE_SYMLINK : e->type == OB_TREE_FIFO ? OB_FILE_FIFO
		: e->type == OB_TREE_CHARDEV ? OB_FILE_CHARDEV : e->type == OB_TREE_BLOCKDEV ? OB_FILE_BLOCKDEV : OB_FILE_SOCKET;
	int rc, left_out;

	temp_name(tmp);
	if (kind == OB_FILE_SYMLINK) {
		char link[4097];
		size_t n = e->target_len < 4096 ? e->target_len : 4096;
		memcpy(link, e->target, n);
		link[n] = '\0';
		rc = ob_file_symlink_at(dirfd, tmp, link);
	} else {
		/* Only its owner may use it until it has its own mode. */
		rc = ob_file_make_node_at(dirfd, tmp, kind, 0600, e->rdev);
	}
	if (rc < 0)
		return report(s, path, ob_platform_reason(), 0);
	atomic_fetch_add(&s->run->progress->files_scanned, 1);
	if (ob_file_open_made_at(&h, dirfd, tmp, kind) < 0) {
		if (ob_platform_failure() == OB_FAILURE_REPLACED)
			return report(s, path, "another user replaced it while it was being restored; what they put there was left alone", 0);
		rc = report(s, path, ob_platform_reason(), 0);
		ob_file_remove_at(dirfd, tmp, 0);
		return rc;
	}
	left_out = apply_meta(s->run, e, h);
	ob_file_close(h);
	if (ob_file_rename_at(dirfd, tmp, target) < 0) {
		char reason[512];
		snprintf(reason, sizeof(reason), "cannot put the restored entry in place: %s", ob_platform_reason());
		ob_file_remove_at(dirfd, tmp, 0);
		return report(s, path, reason, 0);
	}
	atomic_fetch_add(&s->run->progress->files_done, 1);
	if (left_out)
		warn(s, path, SET_ID_LEFT_OUT);
	return 0;
}

static int restore_entry(rstate *s, rdir *parent, ob_file *dirfd, const char *dirpath, const ob_entry *e)
{
	char name[256], *target = NULL, *path;
	int error = 0;

	if (!safe_name(e->name, e->name_len))
		return report(s, dirpath, "the vault names an entry that is not a plain name ('..', '/', empty); it was not restored", 1);
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	if ((e->type == OB_TREE_CHARDEV || e->type == OB_TREE_BLOCKDEV) && !s->run->special_files) {
		/* Nothing is made, nothing at the destination is touched: a device node from a forged
		 * point, or another server's, would give whoever can open it that device. */
		char path0[4096], why[256];
		snprintf(path0, sizeof(path0), "%s/%s", dirpath, name);
		snprintf(why, sizeof(why), "a %s device node (%u:%u) was not restored: a restore makes device nodes only "
			"when asked (--special-files, Start-OBRecovery -RestoreSpecialFiles)", e->type == OB_TREE_CHARDEV
			? "character" : "block", ob_file_rdev_major(e->rdev), ob_file_rdev_minor(e->rdev));
		atomic_fetch_add(&s->run->progress->files_scanned, 1);
		warn(s, path0, why);
		return 0;
	}
	if ((error = target_name(&target, s, dirfd, name, e->type == OB_TREE_DIR)) < 0 || !target)
		return error;
	if (!(path = malloc(strlen(dirpath) + strlen(target) + 2))) {
		free(target);
		return ob_err_nomem();
	}
	sprintf(path, "%s/%s", dirpath, target);
	switch (e->type) {
	case OB_TREE_DIR: {
		ob_file *fd;
		int existed = 0;
		if ((error = ob_file_mkdir_at(dirfd, target, 0700)) < 0) {
			if (error != OB_EEXISTS) {
				error = report(s, path, ob_platform_reason(), 0);
				break;
			}
			error = 0;
			existed = 1;
		}
		if (ob_file_open_dir_at(&fd, dirfd, target) < 0) {
			error = report(s, path, ob_platform_failure() == OB_FAILURE_IN_THE_WAY
				? "a link or a file of that name is in the way; it was left alone" : ob_platform_reason(), 0);
			break;
		}
		{
			rdir *d = calloc(1, sizeof(*d));
			ob_buf enc = OB_BUF_INIT;
			if (!d || ob_entry_encode(&enc, e) < 0) {
				free(d);
				ob_file_close(fd);
				ob_buf_dispose(&enc);
				error = ob_err_nomem();
				break;
			}
			d->fd = fd;
			d->meta_len = enc.len;
			d->meta = (uint8_t *)ob_buf_detach(&enc);
			d->pending = 1;  /* held while its tree is walked */
			if (existed)
				sweep_stale(s, fd);
			error = restore_tree(s, d, fd, path, e->subtree);
			pthread_mutex_lock(&s->lock);
			rdir_release(s, d);
			pthread_mutex_unlock(&s->lock);
			if (error == 1) {
				/* Its tree could not be read: a folder made for it goes again (it is empty). */
				if (!existed)
					ob_file_remove_at(dirfd, target, 1);
				error = 0;
			}
		}
		break;
	}
	case OB_TREE_FILE:
		error = restore_file(s, parent, dirfd, dirpath, target, e);
		break;
	default:
		error = restore_node(s, dirfd, path, target, e);
		break;
	}
	free(path);
	free(target);
	return error;
}

typedef struct find_ctx {
	const char *name;
	size_t len;
	ob_entry found;
	int hit;
} find_ctx;

static int find_cb(const ob_entry *e, void *payload)
{
	find_ctx *f = payload;

	/* As the platform's names compare: without case on Windows (a restore item as MARS takes it). */
	if (ob_platform_names_equal(e->name, e->name_len, f->name, f->len)) {
		f->found = *e;
		f->hit = 1;
		return 1;
	}
	return 0;
}

/* Make the folders of a relative path below base (never following a link); *out_fd opens the last. */
static int open_dest_path(ob_file **out_fd, ob_file *base, const char *rel, size_t len)
{
	char part[256];
	size_t at = 0;
	ob_file *fd;

	*out_fd = NULL;
	if (ob_file_dup(&fd, base) < 0)
		return ob_platform_fail("Cannot open the destination", "");
	while (at < len) {
		size_t end = at;
		ob_file *next;
		int rc;
		while (end < len && rel[end] != '/')
			end++;
		if (end > at) {
			if (end - at >= sizeof(part) || !safe_name(rel + at, end - at)) {
				ob_file_close(fd);
				return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The item path holds a component that is not a plain name.");
			}
			memcpy(part, rel + at, end - at);
			part[end - at] = '\0';
			if ((rc = ob_file_mkdir_at(fd, part, 0755)) < 0 && rc != OB_EEXISTS) {
				ob_file_close(fd);
				return ob_platform_fail("Cannot create the folder", part);
			}
			rc = ob_file_open_dir_at(&next, fd, part);
			ob_file_close(fd);
			if (rc < 0)
				return ob_platform_fail("Cannot open the folder (a link or file may be in the way)", part);
			fd = next;
		}
		at = end + 1;
	}
	*out_fd = fd;
	return 0;
}

/* Make and open the destination folder, once something is to be restored into it. */
static int open_destination(rstate *s)
{
	const char *want = s->run->destination;
	int existed, error;

	if (s->destfd)
		return 0;
	s->dest_failed = 1;  /* until it is open: nothing else can be restored either */
	existed = ob_platform_exists(want);
	if ((error = ob_platform_mkdir_p(want, 0755)) < 0)
		return error;
	free(s->dest);
	s->dest = NULL;
	if (ob_platform_realpath(&s->dest, want) < 0)
		return ob_platform_fail("Cannot open the destination", want);
	if (ob_file_open_dir(&s->destfd, s->dest) < 0)
		return ob_platform_fail("Cannot open the destination", s->dest);
	s->dest_failed = 0;
	if (existed)
		sweep_stale(s, s->destfd);
	return 0;
}

/*
 * Find an item by its relative path and restore it under the same relative path below the
 * destination. Nothing is made for an item that is not in the point, or whose folders cannot be
 * read, the destination included.
 */
static int restore_item(rstate *s, const uint8_t *root, const char *item)
{
	uint8_t cur[OB_ID_BYTES], *tree = NULL;
	ob_entry hit;
	size_t at = 0, last = 0, len;
	char *parent_path = NULL;
	ob_file *parentfd = NULL;
	int error = 0;

	while (*item == '/')
		item++;
	if (!*item) {
		if ((error = open_destination(s)) < 0)
			return error;
		error = restore_tree(s, NULL, s->destfd, s->dest, root);
		return error == 1 ? 0 : error;
	}
	memcpy(cur, root, OB_ID_BYTES);
	for (;;) {
		find_ctx f;
		size_t end = at;
		while (item[end] && item[end] != '/')
			end++;
		memset(&f, 0, sizeof(f));
		f.name = item + at;
		f.len = end - at;
		free(tree);
		tree = NULL;
		if ((error = ob_fetch_blob(&tree, &len, s->run->locator, OB_BLOB_TREE, cur)) < 0)
			goto done;
		if ((error = ob_tree_parse(tree, len, find_cb, &f)) < 0 && !f.hit)
			goto done;
		error = 0;
		if (!f.hit) {
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "'%s' is not in recovery point '%s'.", item, s->run->point_id);
			goto done;
		}
		last = at;
		hit = f.found;
		while (item[end] == '/')
			end++;
		if (!item[end])
			break;
		if (hit.type != OB_TREE_DIR) {
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "'%.*s' is not a folder in the recovery point.", (int)at, item);
			goto done;
		}
		memcpy(cur, hit.subtree, OB_ID_BYTES);
		at = end;
	}
	if ((error = open_destination(s)) < 0 || (error = open_dest_path(&parentfd, s->destfd, item, last)) < 0)
		goto done;
	if (!(parent_path = malloc(strlen(s->dest) + last + 2))) {
		error = ob_err_nomem();
		goto done;
	}
	sprintf(parent_path, "%s%s%.*s", s->dest, last ? "/" : "", (int)(last ? last - 1 : 0), item);
	sweep_stale(s, parentfd);
	error = restore_entry(s, NULL, parentfd, parent_path, &hit);
done:
	free(parent_path);
	free(tree);
	ob_file_close(parentfd);
	return error;
}

static void finish_deferred(rstate *s)
{
	deferred *d, *next;

	/*
	 * Further names of hard-linked files, now that the first names are in place: linked to the
	 * file the restore made, through a handle on its first name checked to be that file, never
	 * through a path, whose folders and name the folder's owner may have swapped meanwhile (for a
	 * link to /etc, say) to have root give their folder a name of root's file.
	 */
	for (d = s->links; d; d = next) {
		ob_file *h = NULL;
		ob_file_info st;
		next = d->next;
		if (!cancelled(s)) {
			first_name *fst = &s->firsts[d->first];
			if (!fst->made || ob_file_open_entry_at(&h, fst->dirfd, fst->name) < 0) {
				report(s, d->path, fst->made ? ob_platform_reason() : "its first name could not be restored", 0);
			} else if (ob_file_stat(&st, h) < 0 || st.type != OB_FILE_REGULAR || st.dev != fst->made_dev ||
			    st.ino != fst->made_ino) {
				report(s, d->path, "the first name of this hard-linked file was replaced while it was being "
					"restored (by another user?); the link was not made", 0);
			} else if (ob_file_link(h, d->dirfd, d->name, s->run->overwrite == OB_OVERWRITE_OVERWRITE) < 0) {
				report(s, d->path, ob_platform_reason(), 0);
			} else {
				atomic_fetch_add(&s->run->progress->files_done, 1);
			}
			ob_file_close(h);
		}
		pthread_mutex_lock(&s->lock);
		rdir_release(s, d->dir);
		pthread_mutex_unlock(&s->lock);
		ob_file_close(d->dirfd);
		free(d->path);
		free(d->name);
		free(d);
	}
	s->links = NULL;
}

int ob_restore_execute(const ob_restore_run *run)
{
	rstate s;
	ob_kv kv = { 0 };
	uint8_t root[OB_ID_BYTES];
	pthread_t threads[REMOTE_WORKERS];
	int started = 0, error, i, nworkers = (run->repo->vc.be->capabilities(run->repo->vc.be) & OB_BACKEND_CAP_REMOTE) ? REMOTE_WORKERS : WORKERS;
	size_t k;

	memset(&s, 0, sizeof(s));
	s.run = run;
	if (!run->destination || run->destination[0] != '/')
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The destination must be an absolute path.");
	if ((error = ob_clock_now(&s.now)) < 0)
		return error;
	if ((error = ob_snapshot_read(&kv, run->repo, run->point_id)) < 0)
		return error;
	error = ob_snapshot_root(root, NULL, &kv, run->datasource_id);
	ob_kv_dispose(&kv);
	if (error < 0)
		return error;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	for (i = 0; i < nworkers; i++)
		if (pthread_create(&threads[i], NULL, worker, &s) == 0)
			started++;
	if (!started) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the restore threads.");
	} else {
		for (k = 0; k < (run->item_count ? run->item_count : 1) && error == 0 && !cancelled(&s); k++) {
			error = restore_item(&s, root, run->item_count ? run->items[k] : "");
			if (error < 0 && run->item_count > 1 && !fatal_error(error) && !s.dest_failed) {
				/* One item among several missing, its folders unreadable, ...: report it and go on. */
				report(&s, run->items[k], ob_error_last(), error == OB_ECORRUPT);
				error = 0;
			}
		}
	}
	pthread_mutex_lock(&s.lock);
	s.closing = 1;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	finish_deferred(&s);
	for (k = 0; k < s.nfirsts; k++) {
		ob_file_close(s.firsts[k].dirfd);
		free(s.firsts[k].name);
	}
	free(s.firsts);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	ob_file_close(s.destfd);
	free(s.dest);
	if (error < 0)
		return error;
	if (s.fatal)
		return ob_err(s.fatal, OB_ERRCLASS_OS, "The destination ran out of space. Free some space and restore again.");
	if (cancelled(&s))
		return ob_err(OB_ECANCELLED, OB_ERRCLASS_JOB, "The recovery was stopped. The files restored so far stay.");
	if (s.failures && !atomic_load(&run->progress->files_done))
		return ob_err(s.corrupt ? OB_ECORRUPT : OB_EIO, OB_ERRCLASS_JOB,
			"Nothing could be restored: %d item(s) failed (the job's failed items say why).", s.failures);
	if (s.failures)
		return ob_err(s.corrupt ? OB_ECORRUPT : OB_EIO, OB_ERRCLASS_JOB,
			"%d item(s) could not be restored; the others were.", s.failures);
	return 0;
}
