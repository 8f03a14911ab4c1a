/*
 * Internal: restoring items of a recovery point into a folder. The walker goes
 * through the trees, makes folders and temporary files, and hands chunks to
 * worker threads that fetch, open, check and write them in place; a file is
 * renamed into place only once all of it is written, so nothing half-written
 * ever carries a real name.
 */
#ifndef OB_NATIVE_RESTORE_H
#define OB_NATIVE_RESTORE_H

#include "obagent/recovery.h"
#include "util/progress.h"
#include "agent/locate.h"

/* The job's live counters (bytes_scanned counts the bytes to restore as they are found). */
typedef ob_progress ob_restore_progress;

typedef int (*ob_restore_failed_cb)(const char *path, const char *reason, void *payload);

typedef struct ob_restore_run {
	ob_repo *repo;
	ob_locator *locator;
	const char *point_id;
	int64_t datasource_id;
	const char *const *items;     /* relative to the data source root; "" = all */
	size_t item_count;
	const char *destination;      /* absolute folder */
	int overwrite;
	int skip_security;
	ob_restore_progress *progress;
	ob_restore_failed_cb on_failed;
	void *payload;
} ob_restore_run;

/**
 * Restore. 0 when everything was restored; OB_ECORRUPT (damaged vault data) or
 * OB_EIO when some items failed (each reported through on_failed); another code
 * when nothing could be done; OB_ECANCELLED when stopped (what was restored stays).
 */
int ob_restore_execute(const ob_restore_run *run);

/** Read and open a recovery point's record. */
int ob_snapshot_read(ob_kv *kv, const ob_repo *r, const char *point_id);
/** The root tree of a data source in a point (datasource_id 0: the only one). */
int ob_snapshot_root(uint8_t root[OB_ID_BYTES], char **out_name, const ob_kv *kv, int64_t datasource_id);

/* What ob_repo_list_points lists besides the sound, undeleted points. */
#define OB_POINTS_DELETED 1   /* soft-deleted points, deleted_at set */
#define OB_POINTS_DAMAGED 2   /* points whose record cannot be read, damaged set */

/** The points of a server's area, newest first; flags: OB_POINTS_*. */
int ob_repo_list_points(ob_recovery_point ***out, size_t *out_count, ob_repo *repo, int flags);
/** Write a point's deletion marker (soft delete). */
int ob_recovery_point_mark_deleted(ob_repo *repo, const char *point_id, const char *reason, int64_t now);

/** Soft-delete the points the retention policy no longer keeps (native/jobs/scheduler.c). */
int ob_retention_apply(ob_agent *agent, ob_repo *repo, int64_t now, size_t *out_expired);
int ob_retention_apply_kind(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired);
/** Free one recovery point record. */
void ob_recovery_points_free_one(ob_recovery_point *p);

/* Recovery sessions, for the job worker. */
int ob_recovery_unwrap(uint8_t master[OB_MASTER_KEY_BYTES], ob_agent *agent, const char *server_name,
	const uint8_t *passphrase, size_t passphrase_len);
int ob_recovery_open_key(ob_recovery **out, ob_agent *agent, const char *server_name, const uint8_t *master);
ob_repo *ob_recovery_repo(ob_recovery *rec);
ob_locator *ob_recovery_locator(ob_recovery *rec);

#endif
