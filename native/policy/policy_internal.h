/* Internal: what other parts of the engine need of the policy subsystem. */
#ifndef OB_NATIVE_POLICY_INTERNAL_H
#define OB_NATIVE_POLICY_INTERNAL_H

#include "obagent/policy.h"

/** The kind of the file and folder policy and of its data sources in the catalog. */
#define OB_POLICY_KIND_FILEFOLDER "FileFolder"
/** The kind of the System State policy. */
#define OB_POLICY_KIND_SYSTEMSTATE "SystemState"

/** The committed policy of a kind ("FileFolder", "SystemState"); OB_ENOTFOUND when none. *out: ob_policy_free. */
int ob_policy_get_kind(ob_policy **out, ob_agent *agent, const char *kind);

/**
 * Pause (OB_POLICY_PAUSED) or resume (OB_POLICY_VALID) the committed policy of one kind; the other
 * kind keeps its own state. OB_EINVALID for an unknown state; OB_ENOTFOUND, with no message set,
 * when no policy of that kind is committed (the caller says which policy is missing).
 */
int ob_policy_set_state_kind(ob_agent *agent, const char *kind, int state);

/**
 * Remove the policy of kind (delete_backup: record that its backups are to be
 * deleted; enable_pruning: keep its retention rules so that its points still age
 * out, docs/RETENTION.md "Pruning"). OB_ENOTFOUND naming the policy when none.
 */
int ob_policy_remove_kind(ob_agent *agent, const char *kind, int delete_backup, int enable_pruning);

/**
 * The data source (volume) that holds an absolute, normalised path: the longest
 * mount point of this process's mount table that is the path or one of its
 * parents; "/" when the table cannot be read. *out malloc'd.
 */
int ob_policy_volume_of(char **out, const char *path);

/**
 * Whether the inclusion spec (normalised) of the data source volume can be
 * backed up now: *out_missing is NULL when it can, else a malloc'd sentence
 * saying why not and what to do (the volume is not mounted, the folder does not
 * exist, it is on another volume now...). < 0 only for an allocation failure.
 */
int ob_policy_inclusion_missing(char **out_missing, const char *volume, const char *spec);

/** Whether path is base itself or lies below it (both normalised). */
int ob_policy_path_within(const char *path, const char *base);

#endif
