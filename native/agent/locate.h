/*
 * Internal: finding blobs. A locator answers "which pack, where" for a blob id
 * of one server: for this server from the catalog's chunk cache (filled from
 * the vault's index objects when the cache lacks them), for another server
 * from its index objects, read into memory for the session.
 */
#ifndef OB_NATIVE_LOCATE_H
#define OB_NATIVE_LOCATE_H

#include "agent/agent_internal.h"
#include "catalog/chunks.h"
#include "vault/repo.h"

typedef struct ob_blob_loc {
	uint8_t pack[OB_ID_BYTES];
	uint32_t offset, length, raw_length;
	uint8_t type;
} ob_blob_loc;

typedef struct ob_locator {
	ob_repo *repo;
	ob_agent *agent;          /* catalog mode when non-NULL */
	ob_catalog_chunk_query *q;
	int synced;
	/* memory mode */
	uint8_t (*ids)[OB_ID_BYTES];
	ob_blob_loc *locs;
	uint8_t *used;
	size_t cap, count;
} ob_locator;

/**
 * Note an index object that a reader skipped (it does not open, or is not named
 * by its hash) for the warning of whoever shows the result (ob_repo_skip).
 */
void ob_index_skip(const ob_repo *repo, const char *name, const char *why);

/** A locator over this agent's catalog (this server). */
int ob_locator_catalog(ob_locator *l, ob_agent *agent, ob_repo *repo);
/** A locator over a server's index objects, read now into memory. */
int ob_locator_memory(ob_locator *l, ob_repo *repo);
void ob_locator_dispose(ob_locator *l);

/**
 * Memory mode: the nth copy of a blob the index objects name (a blob stored
 * again after damage has two); OB_ENOTFOUND past the last, or in catalog mode.
 */
int ob_locator_copy(ob_blob_loc *out, const ob_locator *l, const uint8_t id[OB_ID_BYTES], size_t nth);

/** Where a blob is: OB_ECORRUPT when no index names it. */
int ob_locator_find(ob_blob_loc *out, ob_locator *l, const uint8_t id[OB_ID_BYTES]);

/** Read, open and check a blob. */
int ob_fetch_blob(uint8_t **out, size_t *out_len, ob_locator *l, int type, const uint8_t id[OB_ID_BYTES]);
/**
 * After the copy at failed did not authenticate (OB_ECORRUPT): read another copy
 * the index objects name, if any (memory mode; read-only, so any thread may call).
 * OB_ECORRUPT when no other copy reads.
 */
int ob_fetch_blob_other(uint8_t **out, size_t *out_len, const ob_locator *l, const ob_blob_loc *failed, int type,
	const uint8_t id[OB_ID_BYTES]);

/** The same with a known location (threads share no statement). */
int ob_fetch_blob_at(uint8_t **out, size_t *out_len, ob_repo *repo, const ob_blob_loc *loc, int type,
	const uint8_t id[OB_ID_BYTES]);

/**
 * Make the catalog's chunk cache hold every blob the vault's index objects name
 * for this server, where they name it (after a lost cache folder, or a second
 * agent of the same server). Adds and corrects rows; removes none.
 */
int ob_locator_sync_catalog(ob_agent *agent, ob_repo *repo);

/**
 * Check the caches against the vault (docs/CATALOG.md, "The vault is the truth"):
 * the packs stored are listed once; the chunk cache is filled from the current
 * index objects (entries whose pack is not stored are skipped); every row whose
 * pack is not stored is dropped, and a row no index names whose pack is stored is
 * kept as not yet indexed; file cache rows that name a blob no longer in the
 * chunk cache are dropped. Records the vault generation read before anything
 * else (*out_generation, may be NULL).
 */
int ob_cache_validate(ob_agent *agent, ob_repo *repo, uint64_t *out_generation, int *out_open);
/** ob_cache_validate, unless the caches were checked at the vault's current generation already. */
int ob_cache_check(ob_agent *agent, ob_repo *repo, uint64_t *out_generation, int *out_open);
/*
 * (*out_open, may be NULL: 1 when the maintenance run that took the generation
 * may still be deleting; the check is then not recorded, and a backup checks
 * again before its point.)
 */
/** The vault generation, and whether its run has ended (or was this agent's own, now over). */
int ob_cache_generation(uint64_t *out, int *ended, ob_agent *agent, const ob_repo *repo);
/** The setting that records the generation the caches were checked at. */
void ob_cache_generation_key(char *out, size_t size, const ob_repo *repo);
/** The setting that records the generation this agent's maintenance took last. */
void ob_cache_own_generation_key(char *out, size_t size, const ob_repo *repo);

#endif
