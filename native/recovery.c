/* Recovery points: listing, usage, and restoring items into a folder. */
#define _GNU_SOURCE
#include "obagent/recovery.h"
#include "agent_internal.h"
#include "env.h"
#include "error.h"
#include "repo.h"
#include "tree.h"
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define SNAPSHOT_AAD_PREFIX "obagent-snapshot-v1|"

void ob_recovery_points_free(ob_recovery_point **list, size_t count)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < count; i++) {
		ob_recovery_point *p = list[i];
		if (!p)
			continue;
		free(p->id);
		free(p->server_name);
		free(p->kind);
		free(p->datasources);
		free(p->datasource_ids);
		free(p->job_id);
		free(p);
	}
	free(list);
}

/* Read and open one snapshot object: its record. */
static int snapshot_read(ob_kv *kv, const ob_repo *r, const char *point_id)
{
	char name[200], aad[256];
	void *sealed = NULL;
	uint8_t *plain = NULL;
	size_t sealed_len, plen;
	int error;

	memset(kv, 0, sizeof(*kv));
	if (!point_id || !*point_id || strchr(point_id, '/') || strlen(point_id) > 64)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not a recovery point id.", point_id ? point_id : "");
	snprintf(name, sizeof(name), "%ssnapshots/%s", r->prefix, point_id);
	snprintf(aad, sizeof(aad), SNAPSHOT_AAD_PREFIX "%s", point_id);
	if ((error = r->vc.be->get(&sealed, &sealed_len, r->vc.be, name, 0, 0)) < 0) {
		if (error == OB_ENOTFOUND)
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "There is no recovery point '%s'.", point_id);
		return error;
	}
	if ((error = ob_object_open(&plain, &plen, r, aad, sealed, sealed_len)) < 0)
		goto done;
	if ((error = ob_kv_parse(kv, (char *)plain, plen)) < 0 || strcmp(kv->kind, "snapshot") != 0) {
		ob_kv_dispose(kv);
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Recovery point '%s' is damaged.", point_id);
	}
done:
	free(sealed);
	free(plain);
	return error;
}

typedef struct name_list {
	char **v;
	size_t n, cap;
	const char *prefix;
} name_list;

static int collect_name(const char *name, uint64_t size, void *payload)
{
	name_list *l = payload;

	(void)size;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return ob_err_nomem();
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name + strlen(l->prefix))))
		return ob_err_nomem();
	l->n++;
	return 0;
}

static void name_list_dispose(name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int by_name_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

static int point_from_kv(ob_recovery_point **out, const ob_kv *kv, const char *id)
{
	ob_recovery_point *p = calloc(1, sizeof(*p));
	ob_buf names = OB_BUF_INIT, ids = OB_BUF_INIT;
	int64_t v, count = 0, i;
	char key[32];

	*out = NULL;
	if (!p)
		return ob_err_nomem();
	p->version = OB_RECOVERY_POINT_VERSION;
	p->id = strdup(id);
	p->server_name = strdup(ob_kv_get(kv, "server") ? ob_kv_get(kv, "server") : "");
	p->kind = strdup(ob_kv_get(kv, "kind") ? ob_kv_get(kv, "kind") : "FileFolder");
	p->job_id = strdup(ob_kv_get(kv, "job") ? ob_kv_get(kv, "job") : "");
	if (ob_kv_get_i64(&v, kv, "time") == 0)
		p->backup_time = v;
	if (ob_kv_get_i64(&v, kv, "files") == 0)
		p->files = (uint64_t)v;
	if (ob_kv_get_i64(&v, kv, "bytes") == 0)
		p->bytes = (uint64_t)v;
	if (ob_kv_get_i64(&v, kv, "retain_until") == 0)
		p->retain_until = v;
	ob_kv_get_i64(&count, kv, "datasources");
	for (i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "ds%lld_name", (long long)i);
		ob_buf_printf(&names, "%s%s", i ? "\n" : "", ob_kv_get(kv, key) ? ob_kv_get(kv, key) : "");
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		ob_buf_printf(&ids, "%s%s", i ? "\n" : "", ob_kv_get(kv, key) ? ob_kv_get(kv, key) : "");
	}
	p->datasources = ob_buf_detach(&names);
	p->datasource_ids = ob_buf_detach(&ids);
	ob_error_clear();
	if (!p->id || !p->server_name || !p->kind || !p->job_id || !p->datasources || !p->datasource_ids) {
		ob_recovery_points_free(&p, 1);
		return ob_err_nomem();
	}
	*out = p;
	return 0;
}

int ob_recovery_points(ob_recovery_point ***out, size_t *out_count, ob_agent *agent)
{
	ob_repo repo;
	name_list l = { 0 };
	char prefix[96];
	ob_recovery_point **v = NULL;
	size_t n = 0, i;
	int error;

	*out = NULL;
	*out_count = 0;
	if ((error = ob_repo_open(&repo, agent, NULL)) < 0)
		return error;
	snprintf(prefix, sizeof(prefix), "%ssnapshots/", repo.prefix);
	l.prefix = prefix;
	if ((error = repo.vc.be->list(repo.vc.be, prefix, collect_name, &l)) < 0)
		goto done;
	/* Names start with the time: newest first is reverse name order. */
	qsort(l.v, l.n, sizeof(char *), by_name_desc);
	if (!(v = calloc(l.n ? l.n : 1, sizeof(*v)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		ob_kv kv;
		if ((error = snapshot_read(&kv, &repo, l.v[i])) < 0)
			goto done;
		error = point_from_kv(&v[n], &kv, l.v[i]);
		ob_kv_dispose(&kv);
		if (error < 0)
			goto done;
		n++;
	}
	*out = v;
	*out_count = n;
	v = NULL;
done:
	ob_recovery_points_free(v, n);
	name_list_dispose(&l);
	ob_repo_dispose(&repo);
	return error;
}

static int add_size(const char *name, uint64_t size, void *payload)
{
	(void)name;
	*(uint64_t *)payload += size;
	return 0;
}

int ob_machine_usage(uint64_t *out_bytes, ob_agent *agent)
{
	ob_registration *reg = NULL;
	ob_vault_conn vc;
	char prefix[64];
	uint64_t total = 0;
	int error;

	*out_bytes = 0;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_vault_conn_open(&vc, reg->vault_location)) == 0) {
		snprintf(prefix, sizeof(prefix), OB_PREFIX_SERVERS "%s/", reg->server_id);
		error = vc.be->list(vc.be, prefix, add_size, &total);
		ob_vault_conn_dispose(&vc);
	}
	ob_registration_free(reg);
	if (error == 0)
		*out_bytes = total;
	return error;
}

/* ---- restore ---- */

typedef struct link_seen {
	uint64_t dev, inode;
	char *path;
} link_seen;

typedef struct restorer {
	ob_agent *agent;
	ob_repo *repo;
	sqlite3_stmt *loc;
	const ob_restore_options *opts;
	ob_buf failed;
	int corrupt;
	int index_loaded;
	int64_t now;
	link_seen *links;
	size_t nlinks, links_cap;
	char pack_name[160];
	uint8_t pack_id[OB_ID_BYTES];
} restorer;

static int add_failed(restorer *rs, const char *path, const char *reason)
{
	return ob_buf_printf(&rs->failed, "%s\t%s\n", path, reason);
}

/* Fill the chunk cache from every index object in the vault (after a lost cache folder). */
static int load_index(restorer *rs)
{
	ob_repo *r = rs->repo;
	sqlite3 *db = ob_catalog_db(rs->agent->cat);
	sqlite3_stmt *ins = NULL;
	name_list l = { 0 };
	char prefix[96];
	size_t i, j;
	int error;

	rs->index_loaded = 1;
	snprintf(prefix, sizeof(prefix), "%sindex/", r->prefix);
	l.prefix = r->prefix;
	if ((error = r->vc.be->list(r->vc.be, prefix, collect_name, &l)) < 0)
		goto done;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO chunk (id, type, pack, offset, length, raw_length, indexed) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)", -1, &ins, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(rs->agent->cat, "Cannot rebuild the chunk cache");
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		ob_index_entry *e = NULL;
		size_t n = 0;
		char name[200];
		snprintf(name, sizeof(name), "%s%s", r->prefix, l.v[i]);
		if (ob_index_read(&e, &n, r, name) < 0)
			continue;  /* a damaged index: the files that need it fail, the rest restore */
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		for (j = 0; j < n; j++) {
			sqlite3_reset(ins);
			sqlite3_bind_blob(ins, 1, e[j].blob.id, OB_ID_BYTES, SQLITE_STATIC);
			sqlite3_bind_int(ins, 2, e[j].blob.type);
			sqlite3_bind_blob(ins, 3, e[j].pack, OB_ID_BYTES, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 4, e[j].blob.offset);
			sqlite3_bind_int64(ins, 5, e[j].blob.length);
			sqlite3_bind_int64(ins, 6, e[j].blob.raw_length);
			sqlite3_step(ins);
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		free(e);
	}
	ob_error_clear();
done:
	sqlite3_finalize(ins);
	name_list_dispose(&l);
	return error;
}

/* Fetch a blob by id: locate it, read its bytes from its pack, open and check it. */
static int fetch_blob(uint8_t **out, size_t *out_len, restorer *rs, int type, const uint8_t *id)
{
	uint8_t pack[OB_ID_BYTES];
	int64_t offset, length, raw;
	void *sealed = NULL;
	size_t sealed_len;
	char hex[65];
	int rc, error;

	for (;;) {
		sqlite3_reset(rs->loc);
		sqlite3_bind_blob(rs->loc, 1, id, OB_ID_BYTES, SQLITE_STATIC);
		rc = sqlite3_step(rs->loc);
		if (rc == SQLITE_ROW && sqlite3_column_bytes(rs->loc, 0) == OB_ID_BYTES)
			break;
		sqlite3_reset(rs->loc);
		if (rs->index_loaded) {
			ob_id_hex(hex, id);
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT,
				"The vault has no %s %.16s: it is missing from every index.", type == OB_BLOB_TREE ? "folder tree" : "chunk", hex);
		}
		if ((error = load_index(rs)) < 0)
			return error;
	}
	memcpy(pack, sqlite3_column_blob(rs->loc, 0), OB_ID_BYTES);
	offset = sqlite3_column_int64(rs->loc, 1);
	length = sqlite3_column_int64(rs->loc, 2);
	raw = sqlite3_column_int64(rs->loc, 3);
	sqlite3_reset(rs->loc);
	if (memcmp(pack, rs->pack_id, OB_ID_BYTES) != 0) {
		memcpy(rs->pack_id, pack, OB_ID_BYTES);
		ob_repo_pack_name(rs->pack_name, sizeof(rs->pack_name), rs->repo, pack);
	}
	error = rs->repo->vc.be->get(&sealed, &sealed_len, rs->repo->vc.be, rs->pack_name, (uint64_t)offset, (size_t)length);
	if (error < 0) {
		ob_id_hex(hex, pack);
		if (error == OB_ENOTFOUND || error == OB_EINVALID)
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Pack %.16s is missing or truncated in the vault.", hex);
		return error;
	}
	error = ob_blob_open(out, out_len, rs->repo, type, id, sealed, sealed_len, (size_t)raw);
	free(sealed);
	return error;
}

/* A name from the vault may only name a child: never '', '.', '..', or anything with '/' or NUL. */
static int safe_name(const char *name, size_t len)
{
	if (len == 0 || len > 255 || memchr(name, '/', len) || memchr(name, '\0', len))
		return 0;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return 1;
}

static uid_t owner_uid(const ob_entry *e)
{
	char name[256];
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (e->user_len && e->user_len < sizeof(name)) {
		memcpy(name, e->user, e->user_len);
		name[e->user_len] = '\0';
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res)
			return res->pw_uid;
	}
	return (uid_t)e->uid;
}

static gid_t owner_gid(const ob_entry *e)
{
	char name[256];
	struct group gr, *res = NULL;
	char buf[4096];

	if (e->group_len && e->group_len < sizeof(name)) {
		memcpy(name, e->group, e->group_len);
		name[e->group_len] = '\0';
		if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res)
			return res->gr_gid;
	}
	return (gid_t)e->gid;
}

static void apply_xattrs(const ob_entry *e, int fd)
{
	size_t pos = 0, nl, vl;
	const char *n;
	const uint8_t *v;
	char name[65536 + 1];

	while (ob_xattr_next(e, &pos, &n, &nl, &v, &vl) == 1) {
		memcpy(name, n, nl);
		name[nl] = '\0';
		fsetxattr(fd, name, v, vl, 0);
	}
}

/* Owner, mode, extended attributes (ACLs), times: in that order, so that none undoes another. */
static void apply_meta(restorer *rs, const ob_entry *e, int fd)
{
	struct timespec ts[2];

	if (!rs->opts->skip_security && fchown(fd, owner_uid(e), owner_gid(e)) != 0) {
		/* Not root: the file keeps the restoring user as owner. */
	}
	fchmod(fd, (mode_t)(e->mode & 07777));
	if (!rs->opts->skip_security)
		apply_xattrs(e, fd);
	ts[0].tv_sec = (time_t)(e->mtime_ns / 1000000000);
	ts[0].tv_nsec = (long)(e->mtime_ns % 1000000000);
	ts[1] = ts[0];
	futimens(fd, ts);
}

/* The same for what cannot be opened (links, fifos, devices): by name, never following a link. */
static void apply_meta_at(restorer *rs, const ob_entry *e, int dirfd, const char *name)
{
	struct timespec ts[2];

	if (!rs->opts->skip_security && fchownat(dirfd, name, owner_uid(e), owner_gid(e), AT_SYMLINK_NOFOLLOW) != 0) {
		/* Not root: the restoring user stays owner. */
	}
	if (e->type != OB_TREE_SYMLINK)
		fchmodat(dirfd, name, (mode_t)(e->mode & 07777), 0);
	ts[0].tv_sec = (time_t)(e->mtime_ns / 1000000000);
	ts[0].tv_nsec = (long)(e->mtime_ns % 1000000000);
	ts[1] = ts[0];
	utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* The name to restore under, per the overwrite option; NULL name_out = skip. */
static int target_name(char **out, restorer *rs, int dirfd, const char *name, int is_dir)
{
	struct stat st;
	char stamp[32];
	struct tm tm;
	time_t t = (time_t)rs->now;
	int k;

	*out = NULL;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return (*out = strdup(name)) ? 0 : ob_err_nomem();
	if (is_dir && S_ISDIR(st.st_mode))
		return (*out = strdup(name)) ? 0 : ob_err_nomem();  /* folders merge */
	if (rs->opts->overwrite == OB_OVERWRITE_SKIP)
		return 0;
	if (rs->opts->overwrite == OB_OVERWRITE_OVERWRITE)
		return (*out = strdup(name)) ? 0 : ob_err_nomem();
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H-%M", &tm);
	for (k = 1; k < 1000; k++) {
		char candidate[512];
		if (k == 1)
			snprintf(candidate, sizeof(candidate), "%s Copy of %s", stamp, name);
		else
			snprintf(candidate, sizeof(candidate), "%s Copy (%d) of %s", stamp, k, name);
		if (fstatat(dirfd, candidate, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return (*out = strdup(candidate)) ? 0 : ob_err_nomem();
	}
	return ob_err(OB_EEXISTS, OB_ERRCLASS_JOB, "Too many copies of '%s' exist already.", name);
}

static int is_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int restore_entry(restorer *rs, int dirfd, const char *dirpath, const ob_entry *e);

/* Write a file into a temporary name beside its target, then rename it into place. */
static int restore_file(restorer *rs, int dirfd, const char *dirpath, const char *name, const ob_entry *e)
{
	char tmp[64], path[8192];
	uint8_t rnd[6];
	char rhex[13];
	int fd, error = 0;
	size_t i;
	uint64_t written = 0;

	snprintf(path, sizeof(path), "%s/%s", dirpath, name);
	/* A second name of a hard-linked file restores as a link to the first. */
	if (e->nlink > 1) {
		for (i = 0; i < rs->nlinks; i++)
			if (rs->links[i].dev == e->dev && rs->links[i].inode == e->inode) {
				if (rs->opts->overwrite == OB_OVERWRITE_OVERWRITE)
					unlinkat(dirfd, name, 0);
				if (linkat(AT_FDCWD, rs->links[i].path, dirfd, name, 0) == 0)
					return 0;
				break;
			}
	}
	ob_random(rnd, sizeof(rnd));
	ob_hex_encode(rhex, rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), ".obagent-restore-%s", rhex);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return add_failed(rs, path, strerror(errno));
	for (i = 0; i < e->chunk_count && error == 0; i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		if ((error = fetch_blob(&data, &len, rs, OB_BLOB_DATA, e->chunks + 32 * i)) < 0)
			break;
		if ((e->flags & OB_ENTRY_SPARSE) && is_zero(data, len)) {
			if (lseek(fd, (off_t)len, SEEK_CUR) < 0)
				error = ob_err_os(errno, "Cannot write", path);
		} else {
			size_t off = 0;
			while (off < len) {
				ssize_t n = write(fd, data + off, len - off);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					error = ob_err_os(errno, "Cannot write", path);
					break;
				}
				off += (size_t)n;
			}
		}
		written += len;
		free(data);
	}
	if (error == 0 && ftruncate(fd, (off_t)written) != 0)
		error = ob_err_os(errno, "Cannot write", path);
	if (error == 0 && written != e->size)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The restored size differs from the backed-up size.");
	if (error == 0) {
		apply_meta(rs, e, fd);
		if (fsync(fd) != 0)
			error = ob_err_os(errno, "Cannot write", path);
	}
	close(fd);
	if (error == 0 && renameat(dirfd, tmp, dirfd, name) != 0)
		error = ob_err_os(errno, "Cannot put the restored file in place", path);
	if (error < 0) {
		unlinkat(dirfd, tmp, 0);  /* nothing half-written is left behind */
		if (error == OB_ECORRUPT)
			rs->corrupt = 1;
		if (error == OB_ENOSPC || error == OB_ENOMEM)
			return error;  /* the next files would fail the same way */
		return add_failed(rs, path, ob_error_last());
	}
	if (e->nlink > 1) {
		if (rs->nlinks == rs->links_cap) {
			size_t cap = rs->links_cap ? rs->links_cap * 2 : 16;
			link_seen *v = realloc(rs->links, cap * sizeof(*v));
			if (!v)
				return ob_err_nomem();
			rs->links = v;
			rs->links_cap = cap;
		}
		rs->links[rs->nlinks].dev = e->dev;
		rs->links[rs->nlinks].inode = e->inode;
		if ((rs->links[rs->nlinks].path = strdup(path)) != NULL)
			rs->nlinks++;
	}
	return 0;
}

typedef struct walk_ctx {
	restorer *rs;
	int dirfd;
	const char *dirpath;
	int error;
} walk_ctx;

static int walk_cb(const ob_entry *e, void *payload)
{
	walk_ctx *w = payload;
	int error = restore_entry(w->rs, w->dirfd, w->dirpath, e);

	if (error < 0) {
		w->error = error;
		return 1;
	}
	return 0;
}

/* Restore the contents of a tree into an open folder. */
static int restore_tree(restorer *rs, int dirfd, const char *dirpath, const uint8_t *tree_id)
{
	uint8_t *tree = NULL;
	size_t len;
	walk_ctx w = { rs, dirfd, dirpath, 0 };
	int error;

	if ((error = fetch_blob(&tree, &len, rs, OB_BLOB_TREE, tree_id)) < 0) {
		if (error == OB_ECORRUPT) {
			rs->corrupt = 1;
			return add_failed(rs, dirpath, ob_error_last());
		}
		return error;
	}
	error = ob_tree_parse(tree, len, walk_cb, &w);
	free(tree);
	if (w.error < 0)
		return w.error;
	if (error == OB_ECORRUPT) {
		rs->corrupt = 1;
		return add_failed(rs, dirpath, ob_error_last());
	}
	return error < 0 ? error : 0;
}

static int restore_entry(restorer *rs, int dirfd, const char *dirpath, const ob_entry *e)
{
	char name[256], *target = NULL, path[8192];
	int error = 0;

	if (!safe_name(e->name, e->name_len)) {
		rs->corrupt = 1;
		return add_failed(rs, dirpath, "the vault names an entry that is not a plain name ('..', '/', empty); it was not restored");
	}
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dirpath, name);
	if ((error = target_name(&target, rs, dirfd, name, e->type == OB_TREE_DIR)) < 0 || !target)
		return error;
	switch (e->type) {
	case OB_TREE_DIR: {
		int fd;
		if (mkdirat(dirfd, target, 0700) != 0 && errno != EEXIST) {
			error = add_failed(rs, path, strerror(errno));
			break;
		}
		fd = openat(dirfd, target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			error = add_failed(rs, path, errno == ELOOP || errno == ENOTDIR
				? "a link or file of that name is in the way; it was left alone" : strerror(errno));
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dirpath, target);
		error = restore_tree(rs, fd, path, e->subtree);
		if (error == 0)
			apply_meta(rs, e, fd);
		close(fd);
		break;
	}
	case OB_TREE_FILE:
		error = restore_file(rs, dirfd, dirpath, target, e);
		break;
	case OB_TREE_SYMLINK: {
		char link[4097];
		size_t n = e->target_len < 4096 ? e->target_len : 4096;
		memcpy(link, e->target, n);
		link[n] = '\0';
		if (rs->opts->overwrite == OB_OVERWRITE_OVERWRITE)
			unlinkat(dirfd, target, 0);
		if (symlinkat(link, dirfd, target) != 0) {
			error = add_failed(rs, path, strerror(errno));
			break;
		}
		apply_meta_at(rs, e, dirfd, target);
		break;
	}
	default: {
		mode_t kind = e->type == OB_TREE_FIFO ? S_IFIFO : e->type == OB_TREE_CHARDEV ? S_IFCHR
			: e->type == OB_TREE_BLOCKDEV ? S_IFBLK : S_IFSOCK;
		if (rs->opts->overwrite == OB_OVERWRITE_OVERWRITE)
			unlinkat(dirfd, target, 0);
		if (mknodat(dirfd, target, kind | (e->mode & 07777), (dev_t)e->rdev) != 0) {
			error = add_failed(rs, path, strerror(errno));
			break;
		}
		apply_meta_at(rs, e, dirfd, target);
		break;
	}
	}
	free(target);
	return error;
}

typedef struct find_ctx {
	const char *name;
	size_t len;
	ob_entry found;
	uint8_t *copy;   /* the tree blob, kept while found points into it */
	int hit;
} find_ctx;

static int find_cb(const ob_entry *e, void *payload)
{
	find_ctx *f = payload;

	if (e->name_len == f->len && memcmp(e->name, f->name, f->len) == 0) {
		f->found = *e;
		f->hit = 1;
		return 1;
	}
	return 0;
}

/* Make a folder (and its parents) below dest, without following links. */
static int open_dest_path(int *out_fd, int base, const char *rel, size_t len)
{
	char part[256];
	size_t at = 0;
	int fd = dup(base);

	*out_fd = -1;
	if (fd < 0)
		return ob_err_os(errno, "Cannot open the destination", "");
	while (at < len) {
		size_t end = at;
		int next;
		while (end < len && rel[end] != '/')
			end++;
		if (end - at >= sizeof(part) || !safe_name(rel + at, end - at)) {
			close(fd);
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The item path holds a component that is not a plain name.");
		}
		memcpy(part, rel + at, end - at);
		part[end - at] = '\0';
		if (mkdirat(fd, part, 0755) != 0 && errno != EEXIST) {
			int err = errno;
			close(fd);
			return ob_err_os(err, "Cannot create the folder", part);
		}
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return ob_err_os(errno, "Cannot open the folder", part);
		fd = next;
		at = end + 1;
	}
	*out_fd = fd;
	return 0;
}

int ob_restore(char **out_failed, ob_agent *agent, const ob_restore_options *opts)
{
	restorer rs;
	ob_repo repo;
	ob_kv kv = { 0 };
	uint8_t root[OB_ID_BYTES], cur[OB_ID_BYTES];
	ob_entry item_entry;
	uint8_t *tree = NULL;
	int64_t count = 0, i, id;
	const char *item = opts && opts->item ? opts->item : "";
	char key[32], *dest = NULL;
	int found = 0, error, destfd = -1, parentfd = -1, repo_open = 0;
	size_t at, last;

	if (out_failed)
		*out_failed = NULL;
	memset(&rs, 0, sizeof(rs));
	if (!opts || opts->version != OB_RESTORE_OPTIONS_VERSION || !opts->point_id || !opts->destination)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Restore options need a recovery point and a destination.");
	if (opts->overwrite < OB_OVERWRITE_CREATE_COPY || opts->overwrite > OB_OVERWRITE_OVERWRITE)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Unknown overwrite option %d.", opts->overwrite);
	if (!ob_platform_path_is_absolute(opts->destination))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The destination '%s' must be an absolute path.", opts->destination);
	rs.agent = agent;
	rs.repo = &repo;
	rs.opts = opts;
	if ((error = ob_clock_now(&rs.now)) < 0)
		return error;
	if ((error = ob_repo_open(&repo, agent, NULL)) < 0)
		return error;
	repo_open = 1;
	if (sqlite3_prepare_v2(ob_catalog_db(agent->cat), "SELECT pack, offset, length, raw_length FROM chunk WHERE id = ?1",
		-1, &rs.loc, NULL) != SQLITE_OK) {
		error = ob_catalog_fail(agent->cat, "Cannot read the chunk cache");
		goto done;
	}
	if ((error = snapshot_read(&kv, &repo, opts->point_id)) < 0)
		goto done;
	ob_kv_get_i64(&count, &kv, "datasources");
	for (i = 0; i < count && !found; i++) {
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		if (ob_kv_get_i64(&id, &kv, key) == 0 && (id == opts->datasource_id || (opts->datasource_id == 0 && count == 1))) {
			snprintf(key, sizeof(key), "ds%lld_tree", (long long)i);
			found = ob_id_parse(root, ob_kv_get(&kv, key)) == 0;
		}
	}
	if (!found) {
		error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Recovery point '%s' holds no data source %lld.",
			opts->point_id, (long long)opts->datasource_id);
		goto done;
	}
	if ((error = ob_platform_mkdir_p(opts->destination, 0755)) < 0 ||
	    (error = ob_platform_realpath(&dest, opts->destination)) < 0)
		goto done;
	destfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (destfd < 0) {
		error = ob_err_os(errno, "Cannot open the destination", dest);
		goto done;
	}
	while (*item == '/')
		item++;
	if (!*item) {
		error = restore_tree(&rs, destfd, dest, root);
		goto done;
	}
	/* Walk down the item's path through the trees, then restore the item under the same relative path. */
	memcpy(cur, root, OB_ID_BYTES);
	last = 0;
	for (at = 0;; ) {
		find_ctx f;
		size_t end = at, len;
		while (item[end] && item[end] != '/')
			end++;
		len = end - at;
		memset(&f, 0, sizeof(f));
		f.name = item + at;
		f.len = len;
		free(tree);
		tree = NULL;
		if ((error = fetch_blob(&tree, &len, &rs, OB_BLOB_TREE, cur)) < 0)
			goto done;
		if ((error = ob_tree_parse(tree, len, find_cb, &f)) < 0 && !f.hit)
			goto done;
		error = 0;
		if (!f.hit) {
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "'%s' is not in recovery point '%s'.", item, opts->point_id);
			goto done;
		}
		last = at;
		item_entry = f.found;
		if (!item[end])
			break;
		if (f.found.type != OB_TREE_DIR) {
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "'%.*s' is not a folder in the recovery point.", (int)end, item);
			goto done;
		}
		memcpy(cur, f.found.subtree, OB_ID_BYTES);
		at = end + 1;
		while (item[at] == '/')
			at++;
		if (!item[at])
			break;
	}
	{
		char parent_path[8192];
		if ((error = open_dest_path(&parentfd, destfd, item, last ? last - 1 : 0)) < 0)
			goto done;
		snprintf(parent_path, sizeof(parent_path), "%s%s%.*s", dest, last ? "/" : "", (int)(last ? last - 1 : 0), item);
		error = restore_entry(&rs, parentfd, parent_path, &item_entry);
	}
done:
	free(tree);
	if (parentfd >= 0)
		close(parentfd);
	if (destfd >= 0)
		close(destfd);
	free(dest);
	ob_kv_dispose(&kv);
	sqlite3_finalize(rs.loc);
	if (repo_open)
		ob_repo_dispose(&repo);
	for (at = 0; at < rs.nlinks; at++)
		free(rs.links[at].path);
	free(rs.links);
	if (error == 0 && rs.failed.len)
		error = ob_err(rs.corrupt ? OB_ECORRUPT : OB_EIO, OB_ERRCLASS_JOB,
			"Some items could not be restored; the others were.");
	if (out_failed && rs.failed.len)
		*out_failed = ob_buf_detach(&rs.failed);
	ob_buf_dispose(&rs.failed);
	return error;
}
