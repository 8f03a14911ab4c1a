/*
 * Internal: the backup pipeline. The scanner walks each data source and reads
 * changed files into content-defined chunks; workers hash, deduplicate,
 * compress and seal them; an uploader writes full packs; folder trees are
 * sealed as their contents complete. Then the index, then the recovery point.
 */
#ifndef OB_NATIVE_BACKUP_H
#define OB_NATIVE_BACKUP_H

#include "obagent/policy.h"
#include "util/progress.h"
#include "vault/repo.h"

typedef struct ob_backup_source {
	int64_t id;
	const char *name;             /* the mount point, or "System State" */
	const char *root;             /* where to scan from when it is not name (System State's staging folder) */
	const ob_filespec_input *specs;
	size_t spec_count;
} ob_backup_source;

/** Live counters of a backup, read by the job monitor (util/progress.h). */
typedef ob_progress ob_backup_progress;

/** A file the backup could not read. */
typedef int (*ob_backup_failed_cb)(const char *path, const char *reason, void *payload);

typedef struct ob_backup_params {
	ob_agent *agent;
	ob_repo *repo;
	const ob_backup_source *sources;
	size_t source_count;
	const char *job_id;
	const char *kind;             /* "FileFolder" */
	int64_t retain_until;
	ob_backup_progress *progress;
	ob_backup_failed_cb on_failed;
	void *payload;
} ob_backup_params;

/**
 * Run a backup. *out_point (malloc'd) receives the new recovery point's id.
 * OB_ECANCELLED when stopped (what was uploaded stays and is reused).
 */
int ob_backup_run(char **out_point, const ob_backup_params *params);

/** Write an index object for every chunk the catalog knows that no index names yet. */
int ob_backup_flush_index(ob_agent *agent, ob_repo *repo);

#endif
