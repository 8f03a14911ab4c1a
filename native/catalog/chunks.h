/*
 * Internal: the catalog's chunk cache (table chunk: where each blob of this
 * server is, and whether an index object names it) and the checks of the
 * caches against the vault (docs/CATALOG.md, "The vault is the truth").
 * agent/locate.c decides what to fill and when; this file holds the SQL.
 */
#ifndef OB_NATIVE_CATALOG_CHUNKS_H
#define OB_NATIVE_CATALOG_CHUNKS_H

#include "catalog/catalog.h"
#include "util/idset.h"

#include <stddef.h>
#include <stdint.h>

/* One row of the chunk cache. */
typedef struct ob_catalog_chunk {
	uint8_t id[32];
	uint8_t pack[32];
	int64_t offset, length, raw_length;
	int type;   /* OB_BLOB_* */
} ob_catalog_chunk;

/*
 * Filling the chunk cache from index objects: where the index says a blob is
 * wins (maintenance may have moved it), but a copy known damaged never replaces
 * a sound one (the upsert in catalog/backup.c). Rows filled are marked indexed.
 */
typedef struct ob_catalog_chunk_fill ob_catalog_chunk_fill;

int ob_catalog_chunk_fill_open(ob_catalog_chunk_fill **out, ob_catalog *cat);
/**
 * One transaction over the n rows row() gives (i = 0 .. n - 1; row returns 1
 * to skip i). A row that fails to save rolls the transaction back (OB_ERROR).
 */
int ob_catalog_chunk_fill_batch(ob_catalog_chunk_fill *f, size_t n,
	int (*row)(ob_catalog_chunk *out, size_t i, void *payload), void *payload);
void ob_catalog_chunk_fill_free(ob_catalog_chunk_fill *f);

/* Looking blobs up in the chunk cache, one statement kept for many lookups (one thread at a time). */
typedef struct ob_catalog_chunk_query ob_catalog_chunk_query;

int ob_catalog_chunk_query_open(ob_catalog_chunk_query **out, ob_catalog *cat);
/** 1 and *out (all but out->id) when the cache has blob id, else 0. */
int ob_catalog_chunk_query_find(ob_catalog_chunk *out, ob_catalog_chunk_query *q, const uint8_t id[32]);
void ob_catalog_chunk_query_free(ob_catalog_chunk_query *q);

/** Before a check: every indexed row is marked as not yet confirmed by an index object (indexed 1 -> 2). */
int ob_catalog_chunks_unconfirm(ob_catalog *cat);
/**
 * After the fill of a check, in one transaction: every row whose pack is not in
 * stored goes (and any with a malformed pack id); rows still unconfirmed whose
 * pack is stored stay, as not yet indexed (2 -> 0).
 */
int ob_catalog_chunks_keep_stored(ob_catalog *cat, const ob_idset *stored);
/** Forget every row an index object named (indexed = 1), before reading the index again. */
int ob_catalog_chunks_forget_indexed(ob_catalog *cat);
/** Forget the whole chunk cache (maintenance, before it moves blobs: the next backup reads the index again). */
int ob_catalog_chunks_forget_all(ob_catalog *cat);

/* Asking the chunk cache whether it has a blob, for ob_catalog_file_cache_drop's callback. */
typedef struct ob_catalog_chunk_probe ob_catalog_chunk_probe;
int ob_catalog_chunk_probe_has(ob_catalog_chunk_probe *probe, const uint8_t id[32]);

/**
 * Drop, in one transaction, the file cache rows for which drop() returns
 * nonzero; drop gets the row's encoded entry and a probe of the chunk cache.
 */
int ob_catalog_file_cache_drop(ob_catalog *cat,
	int (*drop)(const void *entry, size_t len, ob_catalog_chunk_probe *probe, void *payload), void *payload);
/** Empty the staged file cache (file_cache_stage: the rows of a backup not yet committed). */
int ob_catalog_file_cache_stage_clear(ob_catalog *cat);

#endif
