/*
 * The in-memory back end (memory_backend.h): an unsorted table of objects under
 * one mutex. Tests hold a few hundred objects at most, so a linear search is
 * simpler than anything faster and costs nothing that shows.
 */
#include "memory_backend.h"
#include "testutil.h"
#include "vault/crypto.h"
#include "util/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct object {
	char *name;
	uint8_t *data;
	size_t len;
	int64_t created;     /* the real time of the put, as a storage service records it */
} object;

typedef struct memory_backend {
	ob_backend parent;
	unsigned int caps;
	pthread_mutex_t lock;
	object *v;
	size_t n, cap;
} memory_backend;

/* The index of name, or -1 (the caller holds the lock). */
static long find(const memory_backend *mb, const char *name)
{
	size_t i;

	for (i = 0; i < mb->n; i++)
		if (strcmp(mb->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int check_name(const char *name)
{
	if (!name || !ob_backend_name_valid(name))
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not a valid object name.", name ? name : "");
	return 0;
}

static int not_found(const char *name)
{
	return ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Object '%s' is not in the vault.", name);
}

static int memory_put(ob_backend *be, const char *name, const void *data, size_t len)
{
	memory_backend *mb = (memory_backend *)be;
	object o = { NULL, NULL, len, (int64_t)time(NULL) };
	int error = 0;

	if ((error = check_name(name)) < 0)
		return error;
	/* Copied before the lock is taken, so that a racing put sees the object whole or not at all. */
	if (!(o.name = strdup(name)) || !(o.data = malloc(len ? len : 1))) {
		free(o.name);
		return ob_err_nomem();
	}
	if (len)
		memcpy(o.data, data, len);
	pthread_mutex_lock(&mb->lock);
	if (find(mb, name) >= 0) {
		error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Object '%s' exists already.", name);
	} else if (mb->n == mb->cap) {
		size_t cap = mb->cap ? mb->cap * 2 : 64;
		object *v = realloc(mb->v, cap * sizeof(*v));
		if (!v)
			error = ob_err_nomem();
		else {
			mb->v = v;
			mb->cap = cap;
		}
	}
	if (error == 0)
		mb->v[mb->n++] = o;
	pthread_mutex_unlock(&mb->lock);
	if (error < 0) {
		free(o.name);
		free(o.data);
	}
	return error;
}

static int memory_get(void **out, size_t *out_len, ob_backend *be, const char *name, uint64_t offset, size_t len)
{
	memory_backend *mb = (memory_backend *)be;
	uint8_t *buf = NULL;
	long i;
	int error = 0;

	*out = NULL;
	*out_len = 0;
	if ((error = check_name(name)) < 0)
		return error;
	pthread_mutex_lock(&mb->lock);
	if ((i = find(mb, name)) < 0)
		error = not_found(name);
	else if (offset > mb->v[i].len || (len && offset + len > mb->v[i].len))
		error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Range %llu+%zu is past the end of '%s' (%zu bytes).",
			(unsigned long long)offset, len, name, mb->v[i].len);
	else {
		if (!len)
			len = mb->v[i].len - (size_t)offset;
		if (!(buf = malloc(len ? len : 1)))
			error = ob_err_nomem();
		else if (len)
			memcpy(buf, mb->v[i].data + offset, len);
	}
	pthread_mutex_unlock(&mb->lock);
	if (error == 0) {
		*out = buf;
		*out_len = len;
	}
	return error;
}

/* An object's size and creation time, read under the lock. */
static int memory_stat_both(uint64_t *out_size, int64_t *out_created, ob_backend *be, const char *name)
{
	memory_backend *mb = (memory_backend *)be;
	long i;
	int error = 0;

	*out_size = 0;
	*out_created = 0;
	if ((error = check_name(name)) < 0)
		return error;
	pthread_mutex_lock(&mb->lock);
	if ((i = find(mb, name)) < 0) {
		error = not_found(name);
	} else {
		*out_size = mb->v[i].len;
		*out_created = mb->v[i].created;
	}
	pthread_mutex_unlock(&mb->lock);
	return error;
}

static int memory_stat(uint64_t *out_size, ob_backend *be, const char *name)
{
	int64_t created;

	return memory_stat_both(out_size, &created, be, name);
}

/*
 * The names and sizes are copied out under the lock and the callback runs
 * after it, so that a callback may call the back end (as the vault layer's
 * listers do).
 */
static int memory_list(ob_backend *be, const char *prefix, ob_backend_list_cb cb, void *payload)
{
	memory_backend *mb = (memory_backend *)be;
	size_t plen = strlen(prefix), i, n = 0;
	object *snap;
	int error = 0;

	pthread_mutex_lock(&mb->lock);
	snap = calloc(mb->n ? mb->n : 1, sizeof(*snap));
	for (i = 0; snap && i < mb->n; i++) {
		if (strncmp(mb->v[i].name, prefix, plen) != 0)
			continue;
		if (!(snap[n].name = strdup(mb->v[i].name)))
			break;
		snap[n++].len = mb->v[i].len;
	}
	if (!snap || i < mb->n)
		error = ob_err_nomem();
	pthread_mutex_unlock(&mb->lock);
	for (i = 0; error == 0 && i < n; i++)
		error = cb(snap[i].name, snap[i].len, payload);
	for (i = 0; i < n; i++)
		free(snap[i].name);
	free(snap);
	return error;
}

static int memory_remove(ob_backend *be, const char *name)
{
	memory_backend *mb = (memory_backend *)be;
	long i;
	int error = 0;

	if (!(mb->caps & OB_BACKEND_CAP_DELETE))
		return ob_err(OB_EACCESS, OB_ERRCLASS_VAULT, "These credentials cannot delete '%s'.", name ? name : "");
	if ((error = check_name(name)) < 0)
		return error;
	pthread_mutex_lock(&mb->lock);
	if ((i = find(mb, name)) < 0)
		error = not_found(name);
	else {
		free(mb->v[i].name);
		free(mb->v[i].data);
		mb->v[i] = mb->v[--mb->n];
	}
	pthread_mutex_unlock(&mb->lock);
	return error;
}

static unsigned int memory_capabilities(ob_backend *be)
{
	return ((memory_backend *)be)->caps;
}

static void memory_free(ob_backend *be)
{
	memory_backend *mb = (memory_backend *)be;
	size_t i;

	if (!mb)
		return;
	for (i = 0; i < mb->n; i++) {
		free(mb->v[i].name);
		free(mb->v[i].data);
	}
	free(mb->v);
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

static int memory_stat_created(int64_t *out, ob_backend *be, const char *name)
{
	uint64_t size;

	return memory_stat_both(&size, out, be, name);
}

int ob_test_memory_backend_set_created(ob_backend *be, const char *name, int64_t when)
{
	memory_backend *mb = (memory_backend *)be;
	long i;
	int error = 0;

	pthread_mutex_lock(&mb->lock);
	if ((i = find(mb, name)) < 0)
		error = not_found(name);
	else
		mb->v[i].created = when;
	pthread_mutex_unlock(&mb->lock);
	return error;
}

int ob_test_memory_backend_new(ob_backend **out, unsigned int caps)
{
	memory_backend *mb = calloc(1, sizeof(*mb));

	*out = NULL;
	if (!mb)
		return ob_err_nomem();
	pthread_mutex_init(&mb->lock, NULL);
	mb->caps = caps & ~OB_BACKEND_CAP_LOCAL;   /* the data is in no file system */
	mb->parent.version = OB_BACKEND_VERSION;
	mb->parent.put = memory_put;
	mb->parent.get = memory_get;
	mb->parent.stat = memory_stat;
	mb->parent.list = memory_list;
	mb->parent.remove = memory_remove;
	mb->parent.capabilities = memory_capabilities;
	mb->parent.free = memory_free;
	mb->parent.stat_created = memory_stat_created;
	/* put_nosync, sync, cleanup, set_pacer: none (every put is whole and "durable" at once). */
	*out = &mb->parent;
	return 0;
}

size_t ob_test_memory_backend_count(ob_backend *be, const char *prefix)
{
	memory_backend *mb = (memory_backend *)be;
	size_t i, n = 0, plen = strlen(prefix);

	pthread_mutex_lock(&mb->lock);
	for (i = 0; i < mb->n; i++)
		n += strncmp(mb->v[i].name, prefix, plen) == 0;
	pthread_mutex_unlock(&mb->lock);
	return n;
}

int ob_test_memory_backend_flip(ob_backend *be, const char *name, uint64_t offset)
{
	memory_backend *mb = (memory_backend *)be;
	long i;
	int error = 0;

	pthread_mutex_lock(&mb->lock);
	if ((i = find(mb, name)) < 0)
		error = not_found(name);
	else if (offset >= mb->v[i].len)
		error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Offset %llu is past the end of '%s'.",
			(unsigned long long)offset, name);
	else
		mb->v[i].data[offset]++;
	pthread_mutex_unlock(&mb->lock);
	return error;
}

void ob_test_memory_repo(ob_repo *r, unsigned int caps)
{
	uint8_t seed[32];

	memset(r, 0, sizeof(*r));
	assert_ok(ob_test_memory_backend_new(&r->vc.be, caps));
	snprintf(r->server_id, sizeof(r->server_id), "%s", OB_TEST_MEMORY_SERVER_ID);
	snprintf(r->prefix, sizeof(r->prefix), "servers/%s/", OB_TEST_MEMORY_SERVER_ID);
	assert_non_null(r->server_name = strdup("memory-server"));
	assert_ok(ob_random(r->enc_key, sizeof(r->enc_key)));
	assert_ok(ob_random(r->id_key, sizeof(r->id_key)));
	assert_ok(ob_random(seed, sizeof(seed)));
	ob_chunker_init(&r->chunker, seed, OB_CHUNK_MIN, OB_CHUNK_AVG, OB_CHUNK_MAX);
}
