/*
 * Internal: snapshots, the vault's recovery point objects (docs/FORMAT.md,
 * "Snapshots"): snapshots/<time>-<random>, a sealed record naming each data
 * source's folder tree; the listing of a server's points and their soft-delete
 * markers. Vault format only: nothing here knows the agent.
 */
#ifndef OB_NATIVE_VAULT_SNAPSHOT_H
#define OB_NATIVE_VAULT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "obagent/recovery.h"
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

/* ---- reading and listing ---- */

/** Read and open a recovery point's record (kv: ob_kv_dispose). */
int ob_snapshot_read(ob_kv *kv, const ob_repo *r, const char *point_id);
/** The root tree of a data source in a point (datasource_id 0: the only one); *out_name (may be NULL) malloc'd. */
int ob_snapshot_root(uint8_t root[OB_ID_BYTES], char **out_name, const ob_kv *kv, int64_t datasource_id);

/* What ob_repo_list_points lists besides the sound, undeleted points. */
#define OB_POINTS_DELETED 1   /* soft-deleted points, deleted_at set */
#define OB_POINTS_DAMAGED 2   /* points whose record cannot be read, damaged set */
/*
 * Read the points' signed summaries instead of their sealed records: a listing
 * without the server's key (repo->sign_public must be the area's anchor; no other
 * key is used). A point without a genuine summary is listed sealed.
 */
#define OB_POINTS_SUMMARY 4

/** The points of a server's area, newest first; flags: OB_POINTS_*. *out: ob_recovery_points_free. */
int ob_repo_list_points(ob_recovery_point ***out, size_t *out_count, ob_repo *repo, int flags);
/**
 * Write a point's deletion marker (soft delete: `deletion` 2, signed by the
 * server's key; maintenance purges the point OB_SOFT_DELETE_DAYS days after the
 * storage's time of the marker). deleted/<point>, or deleted/<point>.<nonce>
 * when something that does not count holds that name. Deleted already: 0.
 */
int ob_recovery_point_mark_deleted(ob_repo *repo, const char *point_id, const char *reason, int64_t now);

/* ---- deletion markers (docs/FORMAT.md, "Soft delete") ---- */

/** A marker that counts, as ob_deletion_check read it. */
typedef struct ob_deletion {
	char point[65];
	int64_t deleted_at;           /* the writer's word: shown, never used to purge */
	int owner;                    /* 1: signed by the vault owner, 0: by the server */
	uint8_t sha256[32];           /* ob_deletion_hash: what an undeletion names */
} ob_deletion;

/**
 * What an undeletion names a marker by: SHA-256 of its signed bytes (all before
 * its signature line). Not of every byte: an Ed25519 signature has more than
 * one base64 spelling, and a respelled copy must stay void.
 */
void ob_deletion_hash(uint8_t out[32], const char *text, size_t len);

/**
 * Check a marker's bytes, stored as deleted/<marker_name>: 0 when it is a
 * `deletion` 2 record of the point its name gives (marker_name is "<point>" or
 * "<point>.<its nonce>"), for this vault and server, whose signature verifies
 * with the server's key (signer=server) or the owner's (signer=owner). Else
 * OB_ECORRUPT or OB_EAUTH, the last error saying why (in a phrase). Undeletions
 * are not looked at here (ob_undeletion_check).
 */
int ob_deletion_check(ob_deletion *out, const char *text, size_t len, const char *marker_name,
	const char *vault_id, const char *server_id, const uint8_t server_public[OB_SIGN_PUBLIC_BYTES],
	const uint8_t owner_public[OB_SIGN_PUBLIC_BYTES]);
/** 0 when text is an owner-signed `undeletion` 1 of point_id naming the marker whose SHA-256 is marker_hex. */
int ob_undeletion_check(const char *text, size_t len, const char *point_id, const char *marker_hex,
	const uint8_t owner_public[OB_SIGN_PUBLIC_BYTES]);

/** A point's deletion, from all its markers. */
typedef struct ob_point_deletion {
	int deleted;                  /* a marker counts */
	int64_t deleted_at;           /* the earliest such marker's deleted_at (its writer's word) */
	int64_t created;              /* the storage's time of the earliest that counts; 0: the back end has none */
	char *ignored;                /* malloc'd: a warning per marker ignored, one a line; NULL: none */
} ob_point_deletion;

/**
 * Read the markers of point_id among markers (the names under deleted/) and
 * whether the owner undeleted them (undeleted: the names under undeleted/).
 * Only I/O errors fail. st: ob_point_deletion_dispose.
 */
int ob_point_deletion_read(ob_point_deletion *st, const ob_repo *repo, const char *point_id,
	const ob_name_list *markers, const ob_name_list *undeleted);
void ob_point_deletion_dispose(ob_point_deletion *st);
/** Free one recovery point record (NULL is fine). */
void ob_recovery_points_free_one(ob_recovery_point *p);

#endif
