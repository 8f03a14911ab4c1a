/* Finding blobs: the catalog's chunk cache for this server, index objects for others. */
#include "agent/locate.h"
#include "agent/damage.h"
#include "util/error.h"
#include "util/idset.h"
#include "vault/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*index_cb)(const ob_index_entry *e, size_t n, void *payload);

void ob_index_skip(const ob_repo *repo, const char *name, const char *why)
{
	/* The reader's own message names the object again: the note says what matters, once. */
	(void)why;
	ob_repo_skip(repo, name, "skipped: an index object that does not open with this server's key or is not named "
		"by its hash (damaged, or written by another server)");
}

/*
 * Read every index object of a server. One that does not open (damaged, or
 * forged: any agent can create objects in any area, docs/SECURITY.md) or whose
 * name is not its hash is skipped and noted for a warning (ob_repo_skip): what
 * it names then fails alone, and nothing fails because of it. One removed since
 * the listing (maintenance) is skipped quietly.
 */
static int each_index(ob_repo *repo, index_cb cb, void *payload)
{
	ob_name_list l;
	char prefix[96];
	size_t i;
	int error;

	snprintf(prefix, sizeof(prefix), "%sindex/", repo->prefix);
	if ((error = ob_vault_list_names(&l, repo->vc.be, prefix, 0)) < 0)
		return error;
	for (i = 0; i < l.n && error == 0; i++) {
		ob_index_entry *e = NULL;
		size_t n = 0;
		int rc = ob_index_read(&e, &n, repo, l.v[i]);
		if (rc == OB_ENOMEM) {
			error = rc;
			break;
		}
		if (rc < 0) {
			if (rc != OB_ENOTFOUND)
				ob_index_skip(repo, l.v[i], ob_error_last());
			ob_error_clear();
			continue;
		}
		error = cb(e, n, payload);
		free(e);
	}
	ob_name_list_dispose(&l);
	return error;
}

typedef struct fill {
	ob_catalog_chunk_fill *fill;
	const ob_idset *stored;   /* when non-NULL: entries whose pack is not in it are skipped */
	const ob_index_entry *e;
} fill;

static int row_cb(ob_catalog_chunk *out, size_t j, void *payload)
{
	const fill *f = payload;
	const ob_index_entry *e = &f->e[j];

	if (f->stored && !ob_idset_has(f->stored, e->pack))
		return 1;
	memcpy(out->id, e->blob.id, OB_ID_BYTES);
	memcpy(out->pack, e->pack, OB_ID_BYTES);
	out->type = e->blob.type;
	out->offset = e->blob.offset;
	out->length = e->blob.length;
	out->raw_length = e->blob.raw_length;
	return 0;
}

/* One transaction per index object. */
static int insert_cb(const ob_index_entry *e, size_t n, void *payload)
{
	fill *f = payload;

	f->e = e;
	return ob_catalog_chunk_fill_batch(f->fill, n, row_cb, f);
}

static int sync_catalog(ob_agent *agent, ob_repo *repo, const ob_idset *stored)
{
	fill f = { NULL, stored, NULL };
	int error;

	if ((error = ob_catalog_chunk_fill_open(&f.fill, agent->cat)) < 0)
		return error;
	error = each_index(repo, insert_cb, &f);
	ob_catalog_chunk_fill_free(f.fill);
	return error;
}

int ob_locator_sync_catalog(ob_agent *agent, ob_repo *repo)
{
	return sync_catalog(agent, repo, NULL);
}

typedef struct pack_list {
	ob_idset *set;
	int error;
} pack_list;

static int pack_cb(const char *name, uint64_t size, void *payload)
{
	pack_list *pl = payload;
	const char *base = strrchr(name, '/');
	uint8_t id[OB_ID_BYTES];

	(void)size;
	if (base && ob_id_parse(id, base + 1) == 0 && ob_idset_add(pl->set, id) < 0)
		return pl->error = OB_ENOMEM;
	ob_error_clear();
	return 0;
}

/* The packs stored in this server's area now: one listing. */
static int stored_packs(ob_idset *out, ob_repo *repo)
{
	pack_list pl = { out, 0 };
	char prefix[96];
	int error;

	snprintf(prefix, sizeof(prefix), "%spacks/", repo->prefix);
	error = repo->vc.be->list(repo->vc.be, prefix, pack_cb, &pl);
	return pl.error < 0 ? pl.error : error;
}

/*
 * The settings name owner-signed generations (version 2 records): a number
 * recorded from the unsigned records of older versions, which readers now
 * ignore, must never be taken for the same number signed later (a legacy "1"
 * and the owner's first signed 1 are not the same state), so those settings
 * are left behind and every agent checks its caches once after the upgrade.
 */
void ob_cache_generation_key(char *out, size_t size, const ob_repo *repo)
{
	snprintf(out, size, "chunk_cache.signed_generation.%s.%s", repo->vc.id, repo->server_id);
}

void ob_cache_own_generation_key(char *out, size_t size, const ob_repo *repo)
{
	snprintf(out, size, "maintenance.signed_generation.%s.%s", repo->vc.id, repo->server_id);
}

int ob_cache_generation(uint64_t *out, int *ended, ob_agent *agent, const ob_repo *repo)
{
	char key[160], *own = NULL;
	int error;

	if ((error = ob_repo_generation(out, ended, repo)) < 0 || *ended)
		return error;
	/* Taken by this agent's own maintenance: the caller holds the job lock, so that run is over. */
	ob_cache_own_generation_key(key, sizeof(key), repo);
	if (ob_catalog_setting_get(&own, agent->cat, key) == 0 && strtoull(own, NULL, 10) == *out)
		*ended = 1;
	free(own);
	ob_error_clear();
	return 0;
}

/* A file cache row goes when its entry does not decode, or names a blob the chunk cache no longer has. */
static int names_missing(const void *entry, size_t len, ob_catalog_chunk_probe *probe, void *payload)
{
	ob_entry e;
	size_t k;
	int drop = ob_entry_decode(&e, entry, len) < 0;

	(void)payload;
	ob_error_clear();
	for (k = 0; !drop && e.type == OB_TREE_FILE && k < e.chunk_count; k++)
		drop = !ob_catalog_chunk_probe_has(probe, e.chunks + OB_ID_BYTES * k);
	return drop;
}

int ob_cache_validate(ob_agent *agent, ob_repo *repo, uint64_t *out_generation, int *out_open)
{
	char key[160], value[32];
	ob_idset stored = OB_IDSET_INIT;
	uint64_t gen = 0;
	int error, ended = 0;

	/*
	 * The recorded generation goes first, durably: a run that stops half-way
	 * leaves no mark that the caches were checked, so the next one checks again.
	 * The generation is read before the index, so that a maintenance run that
	 * starts meanwhile leaves a newer number than the one recorded here.
	 */
	ob_cache_generation_key(key, sizeof(key), repo);
	if ((error = ob_catalog_setting_delete(agent->cat, key)) < 0 ||
	    (error = ob_cache_generation(&gen, &ended, agent, repo)) < 0 ||
	    (error = stored_packs(&stored, repo)) < 0 ||
	    (error = ob_catalog_chunks_unconfirm(agent->cat)) < 0 ||
	    (error = sync_catalog(agent, repo, &stored)) < 0 ||
	    (error = ob_catalog_chunks_keep_stored(agent->cat, &stored)) < 0 ||
	    (error = ob_catalog_file_cache_drop(agent->cat, names_missing, NULL)) < 0 ||
	    (error = ob_catalog_file_cache_stage_clear(agent->cat)) < 0)
		goto done;
	/* A check made while a run of another agent may still be deleting is not recorded: the next one checks again. */
	snprintf(value, sizeof(value), "%llu", (unsigned long long)gen);
	if (ended && (error = ob_catalog_setting_set(agent->cat, key, value)) < 0)
		goto done;
	if (out_generation)
		*out_generation = gen;
	if (out_open)
		*out_open = !ended;
done:
	ob_idset_dispose(&stored);
	return error;
}

int ob_cache_check(ob_agent *agent, ob_repo *repo, uint64_t *out_generation, int *out_open)
{
	char key[160], *recorded = NULL;
	uint64_t gen = 0;
	int error;

	if (out_open)
		*out_open = 0;
	ob_cache_generation_key(key, sizeof(key), repo);
	if ((error = ob_repo_generation(&gen, NULL, repo)) < 0)
		return error;
	error = ob_catalog_setting_get(&recorded, agent->cat, key);
	if (error < 0 && error != OB_ENOTFOUND)
		return error;
	ob_error_clear();
	if (error == 0 && strtoull(recorded, NULL, 10) == gen && *recorded) {
		free(recorded);
		if (out_generation)
			*out_generation = gen;
		return 0;
	}
	free(recorded);
	return ob_cache_validate(agent, repo, out_generation, out_open);
}

int ob_locator_catalog(ob_locator *l, ob_agent *agent, ob_repo *repo)
{
	memset(l, 0, sizeof(*l));
	l->repo = repo;
	l->agent = agent;
	return ob_catalog_chunk_query_open(&l->q, agent->cat);
}

static uint64_t id_hash(const uint8_t *id)
{
	uint64_t h;

	memcpy(&h, id, 8);
	return h;
}

static int mem_put(ob_locator *l, const uint8_t *id, const ob_blob_loc *loc)
{
	size_t i;

	if ((l->count + 1) * 4 > l->cap * 3) {
		ob_locator bigger;
		memset(&bigger, 0, sizeof(bigger));
		bigger.cap = l->cap ? l->cap * 2 : 4096;
		bigger.ids = malloc(bigger.cap * OB_ID_BYTES);
		bigger.locs = malloc(bigger.cap * sizeof(ob_blob_loc));
		bigger.used = calloc(bigger.cap, 1);
		if (!bigger.ids || !bigger.locs || !bigger.used) {
			free(bigger.ids);
			free(bigger.locs);
			free(bigger.used);
			return ob_err_nomem();
		}
		for (i = 0; i < l->cap; i++)
			if (l->used[i])
				mem_put(&bigger, l->ids[i], &l->locs[i]);
		free(l->ids);
		free(l->locs);
		free(l->used);
		l->ids = bigger.ids;
		l->locs = bigger.locs;
		l->used = bigger.used;
		l->cap = bigger.cap;
	}
	/* Every copy is kept (a blob stored again after damage has two); the same copy once. */
	for (i = id_hash(id) & (l->cap - 1); l->used[i]; i = (i + 1) & (l->cap - 1))
		if (memcmp(l->ids[i], id, OB_ID_BYTES) == 0 && !memcmp(l->locs[i].pack, loc->pack, OB_ID_BYTES) &&
		    l->locs[i].offset == loc->offset)
			return 0;
	memcpy(l->ids[i], id, OB_ID_BYTES);
	l->locs[i] = *loc;
	l->used[i] = 1;
	l->count++;
	return 0;
}

static int mem_cb(const ob_index_entry *e, size_t n, void *payload)
{
	ob_locator *l = payload;
	size_t j;
	int error;

	for (j = 0; j < n; j++) {
		ob_blob_loc loc;
		memcpy(loc.pack, e[j].pack, OB_ID_BYTES);
		loc.offset = e[j].blob.offset;
		loc.length = e[j].blob.length;
		loc.raw_length = e[j].blob.raw_length;
		loc.type = e[j].blob.type;
		if ((error = mem_put(l, e[j].blob.id, &loc)) < 0)
			return error;
	}
	return 0;
}

int ob_locator_memory(ob_locator *l, ob_repo *repo)
{
	int error;

	memset(l, 0, sizeof(*l));
	l->repo = repo;
	if ((error = each_index(repo, mem_cb, l)) < 0)
		ob_locator_dispose(l);
	return error;
}

void ob_locator_dispose(ob_locator *l)
{
	ob_catalog_chunk_query_free(l->q);
	free(l->ids);
	free(l->locs);
	free(l->used);
	memset(l, 0, sizeof(*l));
}

int ob_locator_copy(ob_blob_loc *out, const ob_locator *l, const uint8_t id[OB_ID_BYTES], size_t nth)
{
	size_t i;

	if (l->agent || !l->cap)
		return OB_ENOTFOUND;
	for (i = id_hash(id) & (l->cap - 1); l->used[i]; i = (i + 1) & (l->cap - 1))
		if (memcmp(l->ids[i], id, OB_ID_BYTES) == 0 && nth-- == 0) {
			*out = l->locs[i];
			return 0;
		}
	return OB_ENOTFOUND;
}

int ob_locator_find(ob_blob_loc *out, ob_locator *l, const uint8_t id[OB_ID_BYTES])
{
	char hex[65];

	if (!l->agent) {
		size_t i;
		if (l->cap)
			for (i = id_hash(id) & (l->cap - 1); l->used[i]; i = (i + 1) & (l->cap - 1))
				if (memcmp(l->ids[i], id, OB_ID_BYTES) == 0) {
					*out = l->locs[i];
					return 0;
				}
	} else {
		for (;;) {
			ob_catalog_chunk c;
			if (ob_catalog_chunk_query_find(&c, l->q, id)) {
				memcpy(out->pack, c.pack, OB_ID_BYTES);
				out->offset = (uint32_t)c.offset;
				out->length = (uint32_t)c.length;
				out->raw_length = (uint32_t)c.raw_length;
				out->type = (uint8_t)c.type;
				return 0;
			}
			if (l->synced)
				break;
			/* Not in the cache: the vault's index objects may name it (another agent wrote it). */
			l->synced = 1;
			if (ob_locator_sync_catalog(l->agent, l->repo) < 0)
				return OB_ERROR;
		}
	}
	ob_id_hex(hex, id);
	return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault has no blob %.16s: no index names it.", hex);
}

int ob_fetch_blob_at(uint8_t **out, size_t *out_len, ob_repo *repo, const ob_blob_loc *loc, int type,
	const uint8_t id[OB_ID_BYTES])
{
	char name[160], hex[65];
	void *sealed = NULL;
	size_t sealed_len;
	int error;

	ob_repo_pack_name(name, sizeof(name), repo, loc->pack);
	error = repo->vc.be->get(&sealed, &sealed_len, repo->vc.be, name, loc->offset, loc->length);
	if (error < 0) {
		ob_id_hex(hex, loc->pack);
		if (error == OB_ENOTFOUND || error == OB_EINVALID)
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Pack %.16s is missing or truncated in the vault.", hex);
		return error;
	}
	error = ob_blob_open(out, out_len, repo, type, id, sealed, sealed_len, loc->raw_length);
	free(sealed);
	return error;
}

int ob_fetch_blob_other(uint8_t **out, size_t *out_len, const ob_locator *l, const ob_blob_loc *failed, int type,
	const uint8_t id[OB_ID_BYTES])
{
	ob_blob_loc loc;
	size_t nth;
	int error = OB_ECORRUPT;

	/* The index may name another copy (stored again after this one was found damaged). */
	for (nth = 0; error == OB_ECORRUPT && ob_locator_copy(&loc, l, id, nth) == 0; nth++) {
		int again;
		if (!memcmp(loc.pack, failed->pack, OB_ID_BYTES) && loc.offset == failed->offset)
			continue;
		if ((again = ob_fetch_blob_at(out, out_len, l->repo, &loc, type, id)) == 0)
			ob_error_clear();
		if (again != OB_ECORRUPT)
			error = again;
	}
	return error;
}

int ob_fetch_blob(uint8_t **out, size_t *out_len, ob_locator *l, int type, const uint8_t id[OB_ID_BYTES])
{
	ob_blob_loc loc;
	int error;

	*out = NULL;
	if ((error = ob_locator_find(&loc, l, id)) < 0)
		return error;
	error = ob_fetch_blob_at(out, out_len, l->repo, &loc, type, id);
	if (error == OB_ECORRUPT && !l->agent)
		error = ob_fetch_blob_other(out, out_len, l, &loc, type, id);
	if (error == OB_ECORRUPT && l->agent) {
		/* Remember the damaged copy: a re-read of the index then prefers another, and backups store it again. */
		int saved = error;
		ob_buf why = OB_BUF_INIT;
		if (ob_buf_puts(&why, ob_error_last()) == 0 && ob_damage_record(l->agent, id, type, loc.pack, NULL, why.data) < 0)
			ob_error_clear();
		if (why.data)
			ob_err(saved, OB_ERRCLASS_VAULT, "%s", why.data);
		ob_buf_dispose(&why);
	}
	if (error == OB_ECORRUPT && l->agent && !l->synced) {
		/* The cache may be older than the vault (maintenance repacked it): ask the vault's index once more. */
		int saved = error;
		l->synced = 1;
		if (ob_catalog_chunks_forget_indexed(l->agent->cat) == 0 &&
		    ob_locator_sync_catalog(l->agent, l->repo) == 0 && ob_locator_find(&loc, l, id) == 0)
			return ob_fetch_blob_at(out, out_len, l->repo, &loc, type, id);
		error = saved;
	}
	return error;
}
