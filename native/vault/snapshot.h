/*
 * Internal: snapshots, the vault's recovery point objects (docs/FORMAT.md,
 * "Snapshots"): snapshots/<time>-<random>, a sealed record naming each data
 * source's folder tree. Vault format only: nothing here knows the agent.
 */
#ifndef OB_NATIVE_SNAPSHOT_H
#define OB_NATIVE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "vault/repo.h"

/* ---- writing ---- */

/** A data source as a snapshot names it. */
typedef struct ob_snapshot_source {
	int64_t id;
	const char *name;
	const uint8_t *tree;          /* the root tree's id, OB_ID_BYTES */
} ob_snapshot_source;

/** Something that does not fail the write: what (the point), and why. */
typedef int (*ob_snapshot_warn_cb)(const char *what, const char *reason, void *payload);

/** What a new snapshot records, and who hears of its progress. */
typedef struct ob_snapshot_info {
	int64_t time;                 /* when the backup started */
	const char *kind;             /* NULL: "FileFolder" */
	const char *job;              /* NULL: none */
	int64_t retain_until;
	uint64_t files, bytes;
	const ob_snapshot_source *sources;
	size_t source_count;
	void (*verifying)(void *payload);   /* written, now read back (may be NULL) */
	ob_snapshot_warn_cb on_warning;     /* may be NULL */
	void *payload;
} ob_snapshot_info;

/**
 * Write a snapshot and read it back. Its name sorts after every snapshot in the
 * vault (commit order; see point_time in snapshot.c). A snapshot that reads
 * back whole is committed whatever the put said (a put can fail after the
 * object is in place): then on_warning says so and this returns 0. A put that
 * failed and left no whole snapshot fails, and what it left is removed.
 * *out_id (malloc'd) is the point's id (the name after snapshots/); *out_bytes
 * (may be NULL) the sealed size stored.
 */
int ob_snapshot_write(char **out_id, uint64_t *out_bytes, const ob_repo *r, const ob_snapshot_info *info);

#endif
