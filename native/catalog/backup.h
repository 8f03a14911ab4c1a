/*
 * Internal: the backup's SQL (docs/CATALOG.md): the chunk cache (the blobs the
 * vault holds and where), the file cache (what the last backup read) and its
 * staging table. Plain C arguments; no statement leaves catalog/. The handles
 * below (a lookup, a recorder, a reader) keep their statements prepared for a
 * run; each is used by one thread at a time.
 */
#ifndef OB_NATIVE_CATALOG_BACKUP_H
#define OB_NATIVE_CATALOG_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "util/idset.h"

/** A chunk cache row: a blob and where it is stored. Its pointers are the caller's (or valid during a callback). */
typedef struct ob_chunk_row {
	const uint8_t *id;          /* 32 bytes */
	int type;
	const uint8_t *pack;        /* 32 bytes */
	int64_t offset, length, raw_length;
} ob_chunk_row;

/** A file cache row: a file a backup read and its encoded tree entry; lists are linked by next. */
typedef struct ob_file_row {
	int64_t ds;                 /* the data source */
	char *dir;                  /* the folder's path */
	char *name;
	uint64_t size;
	int64_t mtime_ns, ctime_ns;
	uint64_t inode;
	uint8_t *entry;
	size_t entry_len;
	struct ob_file_row *next;
} ob_file_row;

/* ---- the chunk cache ---- */

/** 1 when the chunk cache holds no row; 0 when it does (or cannot tell). */
int ob_chunk_cache_empty(ob_catalog *cat);

/** Whether the chunk cache has a blob. */
typedef struct ob_chunk_lookup ob_chunk_lookup;
int ob_chunk_lookup_open(ob_chunk_lookup **out, ob_catalog *cat);
/** 1 when a row names the blob, 0 when none does (or cannot tell). */
int ob_chunk_lookup_has(ob_chunk_lookup *l, const uint8_t id[32]);
void ob_chunk_lookup_free(ob_chunk_lookup *l);

/**
 * Recording stored blobs. A row that names a copy known damaged is replaced by
 * the new copy; any other existing row is kept. New rows are not yet indexed.
 */
typedef struct ob_chunk_recorder ob_chunk_recorder;
int ob_chunk_recorder_open(ob_chunk_recorder **out, ob_catalog *cat);
/**
 * In one transaction: the rows (in the order given: in id order each page of the
 * table is visited once), and the file rows staged (file_cache_stage) to become
 * the file cache when the point is committed (ob_file_cache_commit).
 */
int ob_chunk_record(ob_chunk_recorder *r, const ob_chunk_row *rows, size_t count, const ob_file_row *files);
void ob_chunk_recorder_free(ob_chunk_recorder *r);

/** The packs that chunk rows name, added to *out. */
int ob_chunk_known_packs(ob_idset *out, ob_catalog *cat);
/** Rows for blobs found in a pack no row named (an interrupted run's), in one transaction; existing rows stay. */
int ob_chunk_record_recovered(ob_catalog *cat, const ob_chunk_row *rows, size_t count);

/** Each row that no index object names yet (rows of a malformed id or pack are skipped); cb < 0 stops with it. */
typedef int (*ob_chunk_row_cb)(const ob_chunk_row *row, void *payload);
int ob_chunk_each_unindexed(ob_catalog *cat, ob_chunk_row_cb cb, void *payload);
/** Index objects now name every row. */
int ob_chunk_mark_indexed(ob_catalog *cat);

/* ---- the file cache ---- */

/** 1 when the file cache holds nothing for data source ds; 0 when it does (or cannot tell). */
int ob_file_cache_empty(ob_catalog *cat, int64_t ds);

/** Reading the file cache one folder at a time. */
typedef struct ob_file_cache_reader ob_file_cache_reader;
int ob_file_cache_reader_open(ob_file_cache_reader **out, ob_catalog *cat);
/** cb for each row of folder dir of data source ds (its next is NULL); non-zero from cb stops. */
typedef int (*ob_file_row_cb)(const ob_file_row *row, void *payload);
void ob_file_cache_read_dir(ob_file_cache_reader *r, int64_t ds, const char *dir, ob_file_row_cb cb, void *payload);
void ob_file_cache_reader_free(ob_file_cache_reader *r);

/** Drop the rows a run that did not commit its point staged: they are not to be trusted. */
int ob_file_cache_stage_clear(ob_catalog *cat);
/** The point is committed: stage the rows given, and every staged row becomes the file cache, in one transaction. */
int ob_file_cache_commit(ob_catalog *cat, const ob_file_row *rows);

#endif
