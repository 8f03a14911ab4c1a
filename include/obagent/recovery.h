/*
 * obagent: recovery points, and reading them back.
 *
 * A recovery point is one successful backup of a server: for each data source
 * the tree of files, folders and links as they were, with their metadata.
 */
#ifndef OBAGENT_RECOVERY_H
#define OBAGENT_RECOVERY_H

#include "common.h"
#include "agent.h"
#include "job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ob_recovery_point {
	unsigned int version;
	char *id;               /**< the point's id in the vault */
	int64_t backup_time;    /**< seconds since 1970 UTC */
	char *server_name;
	char *kind;             /**< "FileFolder" (later also "SystemState") */
	char *datasources;      /**< data source names, newline-separated */
	char *datasource_ids;   /**< their ids, newline-separated, same order */
	uint64_t files;         /**< files in the point */
	uint64_t bytes;         /**< bytes of those files */
	int64_t retain_until;   /**< kept at least until (0: by policy) */
	char *job_id;           /**< the job that made it */
	int64_t deleted_at;     /**< soft-deleted at (0: not deleted) */
	int64_t purge_after;    /**< a soft-deleted point's space is reclaimed after this */
	/* version 2 */
	int damaged;            /**< 1: the point's record cannot be read (damaged or forged); only id,
	                             backup_time (from its name) and server_name are then known */
	char *problem;          /**< why, when damaged; else a warning about a sound point (a deletion
	                             marker that does not count was ignored: lines), or NULL */
	/* version 3 */
	int sealed;             /**< 1: listed without the server's key (ob_recovery_points_of) and the
	                             point has no summary: only id, backup_time and server_name are known,
	                             problem says so; the point itself is not known to be damaged */
} ob_recovery_point;

#define OB_RECOVERY_POINT_VERSION 3

/**
 * This server's recovery points, newest first. *out is an array of count
 * pointers: ob_recovery_points_free. A point whose record cannot be read is
 * listed too, with damaged set (nothing can be restored from it; callers warn).
 */
OB_EXTERN(int) ob_recovery_points(ob_recovery_point ***out, size_t *out_count, ob_agent *agent);
OB_EXTERN(void) ob_recovery_points_free(ob_recovery_point **list, size_t count);

/**
 * This server's recovery points including the soft-deleted ones (deleted_at
 * set), newest first: what the vault owner sees and can still restore from.
 */
OB_EXTERN(int) ob_recovery_points_all(ob_recovery_point ***out, size_t *out_count, ob_agent *agent);

/**
 * Soft-delete a recovery point of this server, after checking a security PIN
 * from the vault owner (as ob_policy_delete_backups does): it leaves the
 * listings, stays restorable, and its space is reclaimed by vault maintenance
 * after OB_SOFT_DELETE_DAYS days unless the vault owner undeletes it
 * (ob_vault_undelete). A missing, wrong or expired PIN deletes nothing
 * (OB_EAUTH, OB_EEXPIRED).
 */
OB_EXTERN(int) ob_recovery_point_remove(ob_agent *agent, const char *point_id, const char *reason,
	const char *security_pin);

/**
 * Deprecated: ob_recovery_point_remove without a PIN, so it always refuses
 * (OB_EAUTH). Kept for the ABI.
 */
OB_EXTERN(int) ob_recovery_point_delete(ob_agent *agent, const char *point_id, const char *reason);

#define OB_SOFT_DELETE_DAYS 14

/** Bytes this server stores in its vault (packs, indexes, points), measured from the vault. */
OB_EXTERN(int) ob_machine_usage(uint64_t *out_bytes, ob_agent *agent);

/** What to do when a restored item exists at the destination (MARS's -OverwriteType). */
typedef enum ob_overwrite {
	OB_OVERWRITE_CREATE_COPY = 0,   /**< restore beside it as "<yyyy-MM-dd HH-mm> Copy of <name>" */
	OB_OVERWRITE_SKIP = 1,
	OB_OVERWRITE_OVERWRITE = 2
} ob_overwrite;

typedef struct ob_restore_options {
	unsigned int version;
	const char *point_id;       /**< the recovery point */
	int64_t datasource_id;      /**< the data source within it */
	const char *item;           /**< path of the item, relative to the data source ("" = all of it) */
	const char *destination;    /**< folder to restore into */
	int overwrite;              /**< ob_overwrite */
	int skip_security;          /**< 1: do not restore owner, group, ACLs and extended attributes */
	/* version 2 */
	int special_files;          /**< 1: also make device nodes and give files their set-user-id and
	                                 set-group-id bits, as stored (tar's --same-permissions); 0 (and
	                                 version 1): neither, each listed as a warning (docs/FORMAT.md, "Trees") */
} ob_restore_options;

#define OB_RESTORE_OPTIONS_VERSION 2
#define OB_RESTORE_OPTIONS_INIT { OB_RESTORE_OPTIONS_VERSION, NULL, 0, "", NULL, OB_OVERWRITE_CREATE_COPY, 0, 0 }

/**
 * Restore an item of a recovery point into a folder, in this process (options of
 * version 1 or 2). Files it cannot restore are listed in *out_failed ("path<TAB>reason"
 * lines, may be NULL: ob_str_free); the return is 0 when all were restored, OB_ECORRUPT
 * when some failed because vault data was damaged or missing. What was left out on
 * purpose (device nodes, set-id bits, without special_files) is listed there too, with
 * a return of 0: warnings.
 */
OB_EXTERN(int) ob_restore(char **out_failed, ob_agent *agent, const ob_restore_options *opts);


/* ---- other servers, sources, browsing, searching, testing ---- */

/** A server whose backups are in this server's vault (MARS's OBBackupServer). */
typedef struct ob_backup_server {
	unsigned int version;
	char *server_name;
	char *server_id;
	int64_t registered_at;   /**< when it first registered to the vault */
	int is_this_server;
} ob_backup_server;

#define OB_BACKUP_SERVER_VERSION 1

/** Every server registered to this server's vault, this one included (flagged). */
OB_EXTERN(int) ob_backup_servers(ob_backup_server ***out, size_t *out_count, ob_agent *agent);
OB_EXTERN(void) ob_backup_servers_free(ob_backup_server **list, size_t count);

/** A data source of a server that has recovery points (MARS's OBRecoverableSource). */
typedef struct ob_recovery_source {
	unsigned int version;
	char *server_name;
	int64_t datasource_id;
	char *name;              /**< the mount point, e.g. "/" or "/srv" */
	char *kind;              /**< "FileFolder" */
} ob_recovery_source;

#define OB_RECOVERY_SOURCE_VERSION 1

/**
 * The data sources of a server (server_name NULL: this server). Works for
 * another server without its passphrase: sources are named in the clear.
 */
OB_EXTERN(int) ob_recovery_sources(ob_recovery_source ***out, size_t *out_count, ob_agent *agent, const char *server_name);
OB_EXTERN(void) ob_recovery_sources_free(ob_recovery_source **list, size_t count);

/**
 * A recovery session over one server's backups: this server's (server_name
 * NULL, no passphrase needed) or another's, opened with that server's
 * passphrase (OB_EPASSPHRASE when it does not open the key, OB_ENOTFOUND when
 * the vault has no such server, OB_ENOKEY when it never set one).
 */
typedef struct ob_recovery ob_recovery;

OB_EXTERN(int) ob_recovery_open(ob_recovery **out, ob_agent *agent, const char *server_name,
	const uint8_t *passphrase, size_t passphrase_len);
OB_EXTERN(void) ob_recovery_free(ob_recovery *rec);

/**
 * Another server's recovery points (or this server's: server_name NULL), newest
 * first, listed without its key or passphrase, as MARS lists an alternate
 * server's points (the passphrase is needed only where content is read: browse,
 * search, restore). Each point's details come from its summary, signed by that
 * server and checked with its area's anchor; a point without a genuine summary
 * is listed with sealed set. Points soft-deleted by a marker that counts are left
 * out; damaged points are not told apart from sealed ones (that needs the key).
 * A server that never set a passphrase has no points: an empty list.
 * An area without an anchor (never signed by an obagent that has signing keys)
 * cannot be listed so: OB_ENOKEY, saying to give the passphrase.
 */
OB_EXTERN(int) ob_recovery_points_of(ob_recovery_point ***out, size_t *out_count, ob_agent *agent,
	const char *server_name);

/** The session's recovery points, newest first (ob_recovery_points_free). */
OB_EXTERN(int) ob_recovery_list_points(ob_recovery_point ***out, size_t *out_count, ob_recovery *rec);

/** A file or folder inside a recovery point (MARS's OBRecoverableItem). */
typedef struct ob_recoverable_item {
	unsigned int version;
	char *path;              /**< relative to the data source's root, '/'-separated, no leading '/' */
	char *name;              /**< the last component */
	int is_dir;
	uint64_t size;
	int64_t mtime;           /**< seconds since 1970 UTC */
} ob_recoverable_item;

#define OB_RECOVERABLE_ITEM_VERSION 1

OB_EXTERN(void) ob_recoverable_items_free(ob_recoverable_item **list, size_t count);

/** The items in one folder of a point ("" is the data source's root), sorted by name. */
OB_EXTERN(int) ob_recovery_browse(ob_recoverable_item ***out, size_t *out_count, ob_recovery *rec,
	const char *point_id, int64_t datasource_id, const char *folder);

/**
 * Items below location (a folder, relative to the data source's root) whose
 * names match pattern ('*' and '?' wildcards, case-insensitive), depth first,
 * at most max (0: no limit).
 */
OB_EXTERN(int) ob_recovery_search(ob_recoverable_item ***out, size_t *out_count, ob_recovery *rec,
	const char *point_id, int64_t datasource_id, const char *location, const char *pattern, size_t max);

/**
 * Read and authenticate every object a point needs (trees, chunks), writing
 * nothing. *out_report (ob_str_free) lists damage, one "path<TAB>what" line per
 * item a damaged blob hits: every file that needs a damaged chunk, every folder
 * whose tree is damaged, "(recovery point)" when the point's record itself
 * cannot be read; empty when healthy. Returns 0 when healthy, OB_ECORRUPT when
 * damaged. On this server, damaged copies are recorded so that the next backup
 * stores them again (docs/FORMAT.md, "Damage and healing").
 */
OB_EXTERN(int) ob_recovery_test(char **out_report, uint64_t *out_objects, ob_recovery *rec, const char *point_id);

/**
 * The vault objects this session skipped since it opened or since the last call
 * (index objects that do not open or are not named by their hash: damaged, or
 * forged by another server; docs/SECURITY.md), one "name<TAB>what" line each, in
 * *out (ob_str_free); empty when none. They fail nothing: what they would name is
 * found elsewhere or reported as damage. Callers show them as warnings.
 */
OB_EXTERN(int) ob_recovery_warnings(char **out, ob_recovery *rec);

/** A recovery to run as a job (Start-OBRecovery). */
typedef struct ob_recovery_request {
	unsigned int version;
	const char *server_name;        /**< NULL: this server */
	const uint8_t *passphrase;      /**< that server's passphrase (needed for another server) */
	size_t passphrase_len;
	const char *point_id;
	int64_t datasource_id;
	const char *const *items;       /**< paths relative to the data source's root ("" = all) */
	size_t item_count;
	const char *destination;        /**< NULL: the original location (this server only) */
	int overwrite;                  /**< ob_overwrite */
	int skip_security;
	/* version 2 */
	int special_files;              /**< as in ob_restore_options; 0 with version 1 */
} ob_recovery_request;

#define OB_RECOVERY_REQUEST_VERSION 2

/**
 * Start a recovery job (JobType Recovery): it runs in the job worker, one job
 * at a time, shows progress and stops on ob_job_stop, keeping what it restored.
 * Items that fail are listed in the job (ob_job_failed_files) and the job ends
 * CompletedWithWarning, as it does when device nodes or set-id bits were left out
 * (special_files 0), each listed the same way. Requests of version 1 or 2. Another server's key travels to the worker through a
 * pipe, never through a file.
 */
OB_EXTERN(int) ob_recovery_start(ob_job_info **out, ob_agent *agent, const ob_recovery_request *req);

/* ---- instant restore: a recovery point mounted as a read-only file system ---- */

/** A recovery point to mount (Start-OBRecoveryMount). */
typedef struct ob_mount_request {
	unsigned int version;
	const char *server_name;        /**< NULL: this server */
	const uint8_t *passphrase;      /**< that server's passphrase (needed for another server) */
	size_t passphrase_len;
	const char *point_id;
	int64_t datasource_id;          /**< the data source of the point to mount */
	const char *mount_path;         /**< an empty folder (made when missing), or NULL: <state folder>/mounts/<job id> */
	int64_t expiry_seconds;         /**< unmounted by itself after this long (0: OB_MOUNT_EXPIRY_DEFAULT, 6 hours as MARS) */
} ob_mount_request;

#define OB_MOUNT_REQUEST_VERSION 1
#define OB_MOUNT_EXPIRY_DEFAULT (6 * 3600)

/**
 * Mount a recovery point read-only (docs/MOUNT.md), as a job of type OB_JOB_MOUNT: a worker
 * process serves the file system and stays InProgress while it is mounted. Returns once the
 * point is mounted (*out_path, ob_str_free: where), or with the worker's error when it could
 * not mount. Mounts do not take the server's job lock: backups and recoveries go on while a
 * point is mounted, and several points may be mounted at once. A mount ends by ob_job_stop,
 * ob_recovery_unmount or its expiry, each Completed (CompletedWithWarning when a damaged item
 * was read: ob_job_failed_files lists it); a mount whose worker died is marked Failed and its
 * stale mount point unmounted by the next mount, job listing or service step.
 * Another server's key travels to the worker through a pipe, never through a file.
 * Where FUSE 3 is missing (or on Windows, not built yet): OB_EIO saying so.
 */
OB_EXTERN(int) ob_recovery_mount_start(ob_job_info **out, char **out_path, ob_agent *agent, const ob_mount_request *req);

/**
 * Unmount a mounted point and wait (up to timeout_ms; 0: 60 s) for its job to end (Completed).
 * OB_ELOCKED when the volume is in use (a shell inside it, a file open), OB_ENOTFOUND when the
 * job is not a mount in progress.
 */
OB_EXTERN(int) ob_recovery_unmount(ob_agent *agent, const char *job_id, unsigned int timeout_ms);

/** Where a mount job mounts (or mounted) its point (*out_path: ob_str_free) and when it expires (may be NULL). */
OB_EXTERN(int) ob_recovery_mount_path(char **out_path, int64_t *out_expires, ob_agent *agent, const char *job_id);

/** The mount jobs in progress, newest first (ob_job_list_free). */
OB_EXTERN(int) ob_recovery_mounts(ob_job_info ***out, size_t *out_count, ob_agent *agent);

/* ---- vault maintenance ---- */

typedef struct ob_maintenance_options {
	unsigned int version;
	int64_t grace_seconds;        /**< packs found unused are deleted only by a run at least this much later (-1: 3600) */
	unsigned int repack_percent;  /**< repack a pack when at least this share of it is unused (0: 25) */
	const char *owner_key;        /**< an Azure vault's storage account key (agents' tokens cannot delete) */
} ob_maintenance_options;

#define OB_MAINTENANCE_OPTIONS_VERSION 1
#define OB_MAINTENANCE_OPTIONS_INIT { OB_MAINTENANCE_OPTIONS_VERSION, -1, 0, NULL }

typedef struct ob_maintenance_report {
	unsigned int version;
	uint64_t points_purged;       /**< soft-deleted points whose 14 days were over, removed */
	uint64_t packs_marked;        /**< unused packs marked, to delete in a later run */
	uint64_t packs_deleted;
	uint64_t packs_repacked;
	uint64_t bytes_reclaimed;
	uint64_t bytes_in_use;        /**< what this server stores after the run */
	/* version 2 */
	uint64_t objects_skipped;     /**< vault objects of the area the run skipped, removed or replaced because they
	                                   do not open or are not the owner's (damaged or forged: docs/SECURITY.md) */
	/**
	 * What the run ignored or did not do, and why: one warning a line ("" none),
	 * cut short (ending "...") when they do not fit. E.g. a deletion marker that
	 * does not count, or a back end that cannot tell when a marker was stored.
	 */
	char warnings[4096];
} ob_maintenance_report;

#define OB_MAINTENANCE_REPORT_VERSION 2

/**
 * Vault maintenance for this server (it holds the server's job lock, so no
 * backup or recovery of this server runs meanwhile; other servers' areas are
 * untouched, so their backups go on). Purges soft-deleted points past their
 * 14 days, then prunes: packs no point uses are marked, and deleted by a later
 * run after grace_seconds (two phases); packs partly unused are repacked (their
 * sealed blobs copied as they are, nothing decrypted). New packs and a new
 * index are written before anything old is deleted, so a run killed at any
 * moment leaves every kept point restorable. Needs delete rights: a local vault,
 * or an Azure vault's owner key. *out: free().
 */
OB_EXTERN(int) ob_maintenance_run(ob_maintenance_report **out, ob_agent *agent, const ob_maintenance_options *opts);

#ifdef __cplusplus
}
#endif
#endif
