/*
 * Internal: snapshots, the recovery points of a server's area (docs/FORMAT.md):
 * a point's record, the listing of the points and their soft-delete markers.
 * Vault format only: nothing here knows the agent.
 */
#ifndef OB_NATIVE_VAULT_SNAPSHOT_H
#define OB_NATIVE_VAULT_SNAPSHOT_H

#include "obagent/recovery.h"
#include "vault/repo.h"

/* ---- reading and listing ---- */

/** Read and open a recovery point's record (kv: ob_kv_dispose). */
int ob_snapshot_read(ob_kv *kv, const ob_repo *r, const char *point_id);
/** The root tree of a data source in a point (datasource_id 0: the only one); *out_name (may be NULL) malloc'd. */
int ob_snapshot_root(uint8_t root[OB_ID_BYTES], char **out_name, const ob_kv *kv, int64_t datasource_id);

/* What ob_repo_list_points lists besides the sound, undeleted points. */
#define OB_POINTS_DELETED 1   /* soft-deleted points, deleted_at set */
#define OB_POINTS_DAMAGED 2   /* points whose record cannot be read, damaged set */

/** The points of a server's area, newest first; flags: OB_POINTS_*. *out: ob_recovery_points_free. */
int ob_repo_list_points(ob_recovery_point ***out, size_t *out_count, ob_repo *repo, int flags);
/** Write a point's deletion marker (soft delete; it is purged after OB_SOFT_DELETE_DAYS days). */
int ob_recovery_point_mark_deleted(ob_repo *repo, const char *point_id, const char *reason, int64_t now);
/** Free one recovery point record (NULL is fine). */
void ob_recovery_points_free_one(ob_recovery_point *p);

#endif
