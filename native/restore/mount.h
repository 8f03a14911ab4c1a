/*
 * Internal: a recovery point as a read-only file system (docs/MOUNT.md). Folders are listed
 * from the point's tree objects, kept parsed in a bounded cache; a file's bytes are fetched
 * chunk by chunk as they are read, each chunk opened and checked as a restore checks it,
 * through a bounded chunk cache. A damaged chunk fails the read that needs it (an I/O error)
 * and is reported through on_failed, once per file; no wrong byte is ever returned. The
 * platform layer (platform/mount.h) serves the answers to the OS.
 */
#ifndef OB_NATIVE_RESTORE_MOUNT_H
#define OB_NATIVE_RESTORE_MOUNT_H

#include "restore/restore.h"
#include "platform/mount.h"

#define OB_MOUNT_CHUNK_CACHE_BYTES (64u << 20)   /* opened chunks kept, most recently used first */
#define OB_MOUNT_TREE_CACHE_BYTES (32u << 20)    /* parsed folders kept */

typedef struct ob_mount_config {
	ob_repo *repo;
	ob_locator *locator;
	const char *point_id;
	int64_t datasource_id;
	size_t chunk_cache_bytes;     /* 0: OB_MOUNT_CHUNK_CACHE_BYTES */
	size_t tree_cache_bytes;      /* 0: OB_MOUNT_TREE_CACHE_BYTES */
	ob_restore_progress *progress; /* files_done counts files opened, bytes_done bytes read (may be NULL) */
	ob_restore_failed_cb on_failed;   /* damaged items, as found (may be NULL) */
	void *payload;
} ob_mount_config;

typedef struct ob_mount_fs ob_mount_fs;

/* Open a point's data source as a file system (reads the point's record and its root folder). */
int ob_mount_fs_open(ob_mount_fs **out, const ob_mount_config *cfg);
void ob_mount_fs_free(ob_mount_fs *fs);

/* The answers, for ob_platform_mount_start with the ob_mount_fs as payload. One thread at a time. */
extern const ob_mount_ops ob_mount_fs_ops;

#endif
