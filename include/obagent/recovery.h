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
} ob_recovery_point;

#define OB_RECOVERY_POINT_VERSION 1

/**
 * This server's recovery points, newest first. *out is an array of count
 * pointers: ob_recovery_points_free.
 */
OB_EXTERN(int) ob_recovery_points(ob_recovery_point ***out, size_t *out_count, ob_agent *agent);
OB_EXTERN(void) ob_recovery_points_free(ob_recovery_point **list, size_t count);

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
} ob_restore_options;

#define OB_RESTORE_OPTIONS_VERSION 1
#define OB_RESTORE_OPTIONS_INIT { OB_RESTORE_OPTIONS_VERSION, NULL, 0, "", NULL, OB_OVERWRITE_CREATE_COPY, 0 }

/**
 * Restore an item of a recovery point into a folder, in this process. Files it
 * cannot restore are listed in *out_failed ("path<TAB>reason" lines, may be
 * NULL: ob_str_free); the return is 0 when all were restored, OB_ECORRUPT when
 * some failed because vault data was damaged or missing.
 */
OB_EXTERN(int) ob_restore(char **out_failed, ob_agent *agent, const ob_restore_options *opts);

#ifdef __cplusplus
}
#endif
#endif
