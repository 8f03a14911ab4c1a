/* The local-directory storage back end: one file per object, create-only puts. */
#include "obagent/sys/backend.h"
#include "util/error.h"
#include "util/util.h"
#include "platform/file.h"
#include "platform/platform.h"

#include <pthread.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	ob_backend parent;
	char *root;
	pthread_mutex_t lock;     /* the paths stored but not yet synced */
	char **unsynced;
	size_t nunsynced, cap;
	ob_backend_pace_cb pace;  /* set before any transfer (set_pacer); NULL: objects go at once */
	void *pace_payload;
} local_backend;

#define OB_NAME_MAX 1024

int ob_backend_name_valid(const char *name)
{
	size_t len, i, comp = 0;

	if (!name || !(len = strlen(name)) || len > OB_NAME_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		char c = name[i];
		if (c == '/' || c == '\0') {
			if (comp == 0)
				return 0;
			comp = 0;
			continue;
		}
		if (comp == 0 && c == '.')
			return 0;  /* no hidden names, no "." or ".." */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
		comp++;
	}
	return 1;
}

static int check_name(const char *name)
{
	if (!ob_backend_name_valid(name))
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not a valid object name.", name ? name : "");
	return 0;
}

static char *object_path(local_backend *lb, const char *name)
{
	char *p = ob_platform_join(lb->root, name);

	if (!p)
		ob_err_nomem();
	return p;
}

static int put_impl(ob_backend *be, const char *name, const void *data, size_t len, int durable)
{
	local_backend *lb = (local_backend *)be;
	char *path, *slash;
	int error;

	if ((error = check_name(name)) < 0)
		return error;
	if (!(path = object_path(lb, name)))
		return OB_ENOMEM;
	slash = strrchr(path, '/');
	*slash = '\0';
	error = ob_platform_mkdir_p(path, 0700);
	*slash = '/';
	if (error == 0)
		error = ob_platform_write_file_paced(path, data, len, 0600, durable, lb->pace, lb->pace_payload);
	if (error == OB_EEXISTS)
		error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Object '%s' exists already.", name);
	if (error == 0 && !durable) {
		pthread_mutex_lock(&lb->lock);
		if (lb->nunsynced == lb->cap) {
			size_t cap = lb->cap ? lb->cap * 2 : 16;
			char **v = realloc(lb->unsynced, cap * sizeof(*v));
			if (v) {
				lb->unsynced = v;
				lb->cap = cap;
			}
		}
		if (lb->nunsynced < lb->cap) {
			lb->unsynced[lb->nunsynced++] = path;
			path = NULL;
		} else {
			error = ob_err_nomem();
		}
		pthread_mutex_unlock(&lb->lock);
	}
	free(path);
	return error;
}

static int local_put(ob_backend *be, const char *name, const void *data, size_t len)
{
	return put_impl(be, name, data, len, 1);
}

static int local_put_nosync(ob_backend *be, const char *name, const void *data, size_t len)
{
	return put_impl(be, name, data, len, 0);
}

static int local_sync(ob_backend *be)
{
	local_backend *lb = (local_backend *)be;
	char **paths;
	size_t n, i;
	int error;

	pthread_mutex_lock(&lb->lock);
	paths = lb->unsynced;
	n = lb->nunsynced;
	lb->unsynced = NULL;
	lb->nunsynced = lb->cap = 0;
	pthread_mutex_unlock(&lb->lock);
	error = ob_platform_sync_paths(paths, n);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return error;
}

static int local_get(void **out, size_t *out_len, ob_backend *be, const char *name, uint64_t offset, size_t len)
{
	local_backend *lb = (local_backend *)be;
	char *path, *buf = NULL;
	ob_file *fd = NULL;
	ob_file_info st;
	size_t got = 0;
	int error = 0;

	*out = NULL;
	*out_len = 0;
	if ((error = check_name(name)) < 0)
		return error;
	if (!(path = object_path(lb, name)))
		return OB_ENOMEM;
	if (ob_file_open(&fd, path) < 0) {
		error = ob_platform_failure() == OB_FAILURE_ABSENT
			? ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Object '%s' is not in the vault.", name)
			: ob_platform_fail("Cannot open the object", path);
		goto done;
	}
	if (ob_file_stat(&st, fd) < 0) {
		error = ob_platform_fail("Cannot read the object", path);
		goto done;
	}
	if (offset > st.size || (len && offset + len > st.size)) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Range %llu+%zu is past the end of '%s' (%lld bytes).",
			(unsigned long long)offset, len, name, (long long)st.size);
		goto done;
	}
	if (!len)
		len = (size_t)(st.size - offset);
	if (!(buf = malloc(len ? len : 1))) {
		error = ob_err_nomem();
		goto done;
	}
	while (got < len) {
		size_t want = len - got, n;
		if (lb->pace) {
			size_t grant = lb->pace(lb->pace_payload, want);
			if (grant && grant < want)
				want = grant;
		}
		if (ob_file_read_at(&n, fd, buf + got, want, offset + got) < 0) {
			error = ob_platform_fail("Cannot read the object", path);
			goto done;
		}
		if (n == 0) {
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Object '%s' shrank while being read.", name);
			goto done;
		}
		got += n;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
done:
	ob_file_close(fd);
	free(buf);
	free(path);
	return error;
}

/* Stat an object: a regular file under the root, or OB_ENOTFOUND. */
static int object_stat(ob_file_info *st, local_backend *lb, const char *name)
{
	char *path;
	int error = 0;

	if ((error = check_name(name)) < 0)
		return error;
	if (!(path = object_path(lb, name)))
		return OB_ENOMEM;
	if (ob_file_stat_path(st, path, 1) < 0)
		error = ob_platform_failure() == OB_FAILURE_ABSENT
			? ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Object '%s' is not in the vault.", name)
			: ob_platform_fail("Cannot stat the object", path);
	else if (st->type != OB_FILE_REGULAR)
		error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Object '%s' is not in the vault.", name);
	free(path);
	return error;
}

static int local_stat(uint64_t *out_size, ob_backend *be, const char *name)
{
	ob_file_info st;
	int error;

	if ((error = object_stat(&st, (local_backend *)be, name)) == 0)
		*out_size = st.size;
	return error;
}

/*
 * The storage's time of an object: its status-change time. A put links the
 * synced temporary file into place, which sets it; utimensat cannot set it,
 * and anything later (chmod, another link) only moves it forward.
 */
static int local_stat_created(int64_t *out, ob_backend *be, const char *name)
{
	ob_file_info st;
	int error;

	if ((error = object_stat(&st, (local_backend *)be, name)) == 0)
		*out = st.ctime;
	return error;
}

/* Walk dir (the folder of relative name rel) and report files whose names start with prefix. */
static int walk(local_backend *lb, ob_buf *rel, const char *prefix, ob_backend_list_cb cb, void *payload)
{
	char *dirpath = rel->len ? ob_platform_join(lb->root, rel->data) : ob_strdup(lb->root);
	ob_dir *d;
	const char *d_name;
	int error = 0;

	if (!dirpath)
		return OB_ENOMEM;
	if ((error = ob_dir_open(&d, dirpath)) < 0) {
		error = error == OB_ENOTFOUND ? 0 : ob_platform_fail("Cannot list the folder", dirpath);
		free(dirpath);
		return error;
	}
	while (!error && ob_dir_next(d, &d_name) == 1) {
		size_t keep = rel->len, plen = strlen(prefix), cmp;
		ob_file_info st;
		char *full;

		if (d_name[0] == '.')
			continue;  /* temporary files of puts under way */
		if ((error = ob_buf_puts(rel, d_name)) < 0)
			break;
		/* Prune: only go on while the name so far agrees with the prefix. */
		cmp = rel->len < plen ? rel->len : plen;
		if (strncmp(rel->data, prefix, cmp) != 0) {
			rel->len = keep;
			rel->data[keep] = '\0';
			continue;
		}
		if (!(full = ob_platform_join(lb->root, rel->data))) {
			error = OB_ENOMEM;
			break;
		}
		if (ob_file_stat_path(&st, full, 0) == 0) {
			if (st.type == OB_FILE_DIR) {
				if ((error = ob_buf_puts(rel, "/")) == 0)
					error = walk(lb, rel, prefix, cb, payload);
			} else if (st.type == OB_FILE_REGULAR && rel->len >= plen && ob_backend_name_valid(rel->data)) {
				error = cb(rel->data, st.size, payload);
			}
		}
		free(full);
		rel->len = keep;
		rel->data[keep] = '\0';
	}
	ob_dir_close(d);
	free(dirpath);
	return error;
}

static int local_list(ob_backend *be, const char *prefix, ob_backend_list_cb cb, void *payload)
{
	local_backend *lb = (local_backend *)be;
	ob_buf rel = OB_BUF_INIT;
	int error;

	if ((error = ob_buf_puts(&rel, "")) < 0)
		return error;
	error = walk(lb, &rel, prefix ? prefix : "", cb, payload);
	ob_buf_dispose(&rel);
	return error;
}

static int local_remove(ob_backend *be, const char *name)
{
	local_backend *lb = (local_backend *)be;
	char *path;
	int error = 0;

	if ((error = check_name(name)) < 0)
		return error;
	if (!(path = object_path(lb, name)))
		return OB_ENOMEM;
	if (ob_file_remove(path) < 0)
		error = ob_platform_failure() == OB_FAILURE_ABSENT
			? ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Object '%s' is not in the vault.", name)
			: ob_platform_fail("Cannot delete the object", path);
	free(path);
	return error;
}

/* Remove leftover temporary files (".<name>.tmp-<hex>") below a folder. */
static void remove_leftovers(const char *dir, int depth)
{
	ob_dir *d;
	const char *d_name;

	if (ob_dir_open(&d, dir) < 0 || depth > 8) {
		ob_dir_close(d);
		return;
	}
	while (ob_dir_next(d, &d_name) == 1) {
		char *path;
		ob_file_info st;
		if (!(path = ob_platform_join(dir, d_name)))
			break;
		if (ob_file_stat_path(&st, path, 0) == 0) {
			if (st.type == OB_FILE_DIR)
				remove_leftovers(path, depth + 1);
			else if (d_name[0] == '.' && strstr(d_name, ".tmp-"))
				ob_file_remove(path);
		}
		free(path);
	}
	ob_dir_close(d);
}

static int local_cleanup(ob_backend *be, const char *prefix)
{
	local_backend *lb = (local_backend *)be;
	char *dir;
	size_t n;

	if (!prefix || !*prefix)
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Cleanup needs a prefix.");
	if (!(dir = object_path(lb, prefix)))
		return OB_ENOMEM;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	remove_leftovers(dir, 0);
	free(dir);
	return 0;
}

static unsigned int local_capabilities(ob_backend *be)
{
	(void)be;
	return OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET | OB_BACKEND_CAP_LOCAL;
}

static void local_set_pacer(ob_backend *be, ob_backend_pace_cb pace, void *payload)
{
	local_backend *lb = (local_backend *)be;

	lb->pace = pace;
	lb->pace_payload = payload;
}

static void local_free(ob_backend *be)
{
	local_backend *lb = (local_backend *)be;
	size_t i;

	if (!lb)
		return;
	for (i = 0; i < lb->nunsynced; i++)
		free(lb->unsynced[i]);
	free(lb->unsynced);
	pthread_mutex_destroy(&lb->lock);
	free(lb->root);
	free(lb);
}

int ob_backend_local_new(ob_backend **out, const char *root)
{
	local_backend *lb;
	ob_file_info st;
	int error;

	*out = NULL;
	if (!root)
		return ob_err_os(EINVAL, "Cannot open the vault folder", root);
	if (ob_file_stat_path(&st, root, 1) < 0)
		return ob_platform_fail("Cannot open the vault folder", root);
	if (st.type != OB_FILE_DIR)
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not a folder.", root);
	if (!(lb = calloc(1, sizeof(*lb))))
		return ob_err_nomem();
	if ((error = ob_platform_realpath(&lb->root, root)) < 0) {
		free(lb);
		return error;
	}
	lb->parent.version = OB_BACKEND_VERSION;
	lb->parent.put = local_put;
	lb->parent.get = local_get;
	lb->parent.stat = local_stat;
	lb->parent.list = local_list;
	lb->parent.remove = local_remove;
	lb->parent.capabilities = local_capabilities;
	lb->parent.free = local_free;
	lb->parent.put_nosync = local_put_nosync;
	lb->parent.sync = local_sync;
	lb->parent.cleanup = local_cleanup;
	lb->parent.set_pacer = local_set_pacer;
	lb->parent.stat_created = local_stat_created;
	pthread_mutex_init(&lb->lock, NULL);
	*out = &lb->parent;
	return 0;
}
