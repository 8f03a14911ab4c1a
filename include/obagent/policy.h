/*
 * obagent: the file and folder backup policy of this server.
 *
 * A policy lists file specs (inclusions and exclusions). Committing it groups
 * them by data source: the mount point (volume) that holds each path, as MARS
 * groups them by volume. A schedule and a retention policy attach to the
 * committed policy (ob_policy_set_protection); it works without them.
 */
#ifndef OBAGENT_POLICY_H
#define OBAGENT_POLICY_H

#include "common.h"
#include "agent.h"
#include "schedule.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A committed policy, read-only. */
typedef struct ob_policy ob_policy;

/** Policy states (MARS: Valid, Paused). */
typedef enum ob_policy_state {
	OB_POLICY_VALID = 0,
	OB_POLICY_PAUSED = 1
} ob_policy_state;

/** One file spec given to ob_policy_commit. */
typedef struct ob_filespec_input {
	const char *spec;     /**< absolute path; '*' and '?' allowed in the last component */
	int is_exclude;
	int is_recursive;
} ob_filespec_input;

/**
 * Check one file spec before it goes into a policy: absolute, no empty or '..'
 * components, wildcards only in the last component. *out_normalized (may be
 * NULL) receives the normalised path (ob_str_free).
 */
OB_EXTERN(int) ob_filespec_check(char **out_normalized, const char *spec, int is_exclude);

/**
 * Commit this server's file and folder policy, replacing the previous one.
 * Refusals (OB_EINVALID): a relative path, an exclusion outside every
 * inclusion, a policy with no inclusion, an inclusion that holds the agent's
 * state folder or the vault, a wildcard inclusion whose folder is a file. An
 * inclusion that does not exist is accepted, as in MARS (a volume mounted
 * later): a backup that finds an inclusion missing lists it in the job's
 * failed items and ends CompletedWithWarning, or Failed when none is left.
 * A wildcard inclusion (a last component such as '*.log') selects the files whose names match
 * in its folder and, when recursive, in every subfolder. Needs a registration
 * (OB_ENOTREG). A policy keeps its name and its data sources keep their ids
 * across commits.
 */
OB_EXTERN(int) ob_policy_commit(ob_policy **out, ob_agent *agent, const ob_filespec_input *specs, size_t count);

/** The committed policy, or OB_ENOTFOUND. *out: ob_policy_free. */
OB_EXTERN(int) ob_policy_get(ob_policy **out, ob_agent *agent);

/** Pause (OB_POLICY_PAUSED) or resume (OB_POLICY_VALID) protection. */
OB_EXTERN(int) ob_policy_set_state(ob_agent *agent, int state);

/**
 * Remove the policy: protection stops, the data stays. delete_backup records
 * the request to delete this server's recovery points (carried out by vault
 * maintenance).
 */
OB_EXTERN(int) ob_policy_remove(ob_agent *agent, int delete_backup);

/**
 * Remove the policy of kind ("FileFolder" or "SystemState") with pruning
 * (Remove-OBPolicy -EnablePruning): protection stops, nothing is deleted now,
 * and the policy's retention rules are kept so that its recovery points still
 * age out, by the same rules, at the pass the service runs once a day and after
 * every backup of the other kind (docs/RETENTION.md, "Pruning"). A policy without
 * a retention leaves nothing to age out by. Committing a policy of the kind
 * later replaces the kept rules; removing one without pruning keeps none.
 * OB_ENOTFOUND when no policy of the kind is set; OB_EINVALID for another kind.
 */
OB_EXTERN(int) ob_policy_remove_pruning(ob_agent *agent, const char *kind);

/**
 * The retention rules kept for kind's points by ob_policy_remove_pruning, into
 * *out; OB_ENOTFOUND when none are kept (a policy of the kind is set, or the last
 * one was removed without pruning).
 */
OB_EXTERN(int) ob_policy_pruning_retention(ob_retention *out, ob_agent *agent, const char *kind);

OB_EXTERN(void) ob_policy_free(ob_policy *policy);

/** The policy's name (a GUID). Borrowed. */
OB_EXTERN(const char *) ob_policy_name(const ob_policy *policy);
/** OB_POLICY_VALID or OB_POLICY_PAUSED. */
OB_EXTERN(int) ob_policy_state_get(const ob_policy *policy);
/** Number of data sources. */
OB_EXTERN(size_t) ob_policy_datasource_count(const ob_policy *policy);
/** A data source's id (a positive 64-bit number). */
OB_EXTERN(int64_t) ob_policy_datasource_id(const ob_policy *policy, size_t ds);
/** A data source's name: the mount point. Borrowed. */
OB_EXTERN(const char *) ob_policy_datasource_name(const ob_policy *policy, size_t ds);
/** Number of file specs of a data source. */
OB_EXTERN(size_t) ob_policy_filespec_count(const ob_policy *policy, size_t ds);
/** A file spec of a data source: its text (borrowed), exclusion and recursion flags. */
OB_EXTERN(int) ob_policy_filespec(const ob_policy *policy, size_t ds, size_t index,
	const char **out_spec, int *out_is_exclude, int *out_is_recursive);

/**
 * Attach a schedule and a retention policy to the committed policy, both
 * validated (the retention against the schedule: long-term times must be
 * scheduled times). NULL removes that part. A schedule without an anchor date
 * (anchor_date 0) is anchored on today. OB_ENOTFOUND without a policy.
 */
OB_EXTERN(int) ob_policy_set_protection(ob_agent *agent, const ob_schedule *schedule, const ob_retention *retention);

/** The policy's schedule into *out; OB_ENOTFOUND when it has none. */
OB_EXTERN(int) ob_policy_schedule(ob_schedule *out, const ob_policy *policy);
/** The policy's retention into *out; OB_ENOTFOUND when it has none. */
OB_EXTERN(int) ob_policy_retention(ob_retention *out, const ob_policy *policy);

/* ---- the System State policy (a policy of its own, as in MARS) ---- */

/** The data source id and name of System State in recovery points. */
#define OB_SYSTEMSTATE_DATASOURCE_ID 1
#define OB_SYSTEMSTATE_DATASOURCE_NAME "System State"

/**
 * Commit this server's System State policy with its schedule (at most once a
 * day: schedule->system_state is forced on) and retention (both validated; NULL
 * leaves that part out). Keeps the policy's name across commits. Needs a
 * registration (OB_ENOTREG).
 */
OB_EXTERN(int) ob_systemstate_policy_commit(ob_policy **out, ob_agent *agent, const ob_schedule *schedule,
	const ob_retention *retention);
/**
 * Pause (OB_POLICY_PAUSED) or resume (OB_POLICY_VALID) the System State
 * policy. Its state is its own: the file and folder policy's stays as it is.
 * OB_ENOTFOUND when no System State policy is committed.
 */
OB_EXTERN(int) ob_systemstate_policy_set_state(ob_agent *agent, int state);
/** The committed System State policy (no file specs), or OB_ENOTFOUND. */
OB_EXTERN(int) ob_systemstate_policy_get(ob_policy **out, ob_agent *agent);
/**
 * Remove the System State policy: its schedule stops, its data stays; with
 * delete_backup its recovery points are soft-deleted, which needs a valid
 * security PIN from the vault owner.
 */
OB_EXTERN(int) ob_systemstate_policy_remove(ob_agent *agent, int delete_backup, const char *security_pin);

/**
 * Soft-delete every recovery point of one kind ("FileFolder" or "SystemState")
 * of this server, after checking a security PIN (Remove-OBPolicy -DeleteBackup).
 */
OB_EXTERN(int) ob_policy_delete_backups(ob_agent *agent, const char *kind, const char *security_pin);

#ifdef __cplusplus
}
#endif
#endif
