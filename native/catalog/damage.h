/*
 * Internal: the catalog's record of blobs found damaged in the vault (tables
 * damaged_blob and damaged_item; migration 6), and what it changes in the
 * caches (agent/damage.h says what the agent does with it).
 */
#ifndef OB_NATIVE_CATALOG_DAMAGE_H
#define OB_NATIVE_CATALOG_DAMAGE_H

#include "catalog/catalog.h"
#include "util/idset.h"

#include <stddef.h>
#include <stdint.h>

/**
 * Record that the copy of blob id (of type OB_BLOB_*) in pack is damaged (found
 * at now; problem may be NULL), and that path (may be NULL or empty) needs it.
 */
int ob_catalog_damage_record(ob_catalog *cat, const uint8_t id[32], int type, const uint8_t pack[32], const char *path,
	const char *problem, int64_t now);

/** Add to *set the blobs whose location in the chunk cache is a copy known damaged. */
int ob_catalog_damage_unhealed(ob_idset *set, ob_catalog *cat);

/** The file cache forgets every file (forget_all), or the files whose cached entry names a blob of set. */
int ob_catalog_file_cache_forget_all(ob_catalog *cat);
int ob_catalog_file_cache_forget_blobs(ob_catalog *cat, const ob_idset *set);

/**
 * The items not yet reported that need a blob still known damaged, in path
 * order, each given to cb (a failure of cb stops the walk and is returned);
 * then, when there were any, they are marked reported. *out_count: how many.
 */
int ob_catalog_damage_report_unhealed(uint64_t *out_count, ob_catalog *cat,
	int (*cb)(const char *path, void *payload), void *payload);

/** Every copy known damaged: *out (free) is an array of count (blob id, pack id) pairs, 64 bytes each. */
int ob_catalog_damage_list(uint8_t (**out)[64], size_t *out_count, ob_catalog *cat);

#endif
