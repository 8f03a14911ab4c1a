/*
 * Internal: the policies in the catalog (tables policy, datasource, filespec,
 * policy_removal; migration 3; pruning, migration 7). policy/policy.c and systemstate/ say what a
 * policy means; this file only stores it. kind is a policy kind
 * (OB_POLICY_KIND_*: "FileFolder", "SystemState").
 */
#ifndef OB_NATIVE_CATALOG_POLICY_H
#define OB_NATIVE_CATALOG_POLICY_H

#include "catalog/catalog.h"

#include <stddef.h>
#include <stdint.h>

/* A policy row; strings malloc'd (ob_catalog_policy_dispose), schedule and retention NULL when unset. */
typedef struct ob_catalog_policy {
	char *name;
	int state;
	char *schedule, *retention;   /* text forms */
} ob_catalog_policy;

/* One file spec of a policy, in the order of its position. */
typedef struct ob_catalog_filespec {
	int64_t datasource_id;
	const char *spec;
	int is_exclude, is_recursive;
} ob_catalog_filespec;

/** The policy of kind: OB_ENOTFOUND, with no message, when there is none (the caller says so). */
int ob_catalog_policy_get(ob_catalog_policy *out, ob_catalog *cat, const char *kind);
void ob_catalog_policy_dispose(ob_catalog_policy *p);

/**
 * The file specs of the policy of kind, in position order, each with the id and
 * name of its data source, given to cb (a failure of cb stops and is returned).
 */
int ob_catalog_policy_filespecs(ob_catalog *cat, const char *kind,
	int (*cb)(int64_t datasource_id, const char *datasource_name, const char *spec, int is_exclude, int is_recursive,
		void *payload), void *payload);

/** The id of the data source (kind, name): OB_ENOTFOUND, with no message, when there is none. */
int ob_catalog_datasource_find(int64_t *out, ob_catalog *cat, const char *kind, const char *name);
/** Add the data source (id, kind, name) unless one has the id already: *out_added 1 when added. */
int ob_catalog_datasource_add(int *out_added, ob_catalog *cat, int64_t id, const char *kind, const char *name);

/**
 * Inside the caller's transaction: the file specs of kind become specs (their
 * positions 0 .. count - 1), and the policy row of kind is made (named name,
 * state Valid) unless there is one; either way its modified time is now.
 */
int ob_catalog_policy_save_filespecs(ob_catalog *cat, const char *kind, const ob_catalog_filespec *specs, size_t count,
	const char *name, int64_t now);

/** The state of the policy of kind; *out_changes 0 when there is no such policy. */
int ob_catalog_policy_set_state(int *out_changes, ob_catalog *cat, const char *kind, int state, int64_t now);
/** The schedule and retention (text forms, NULL for none) of the policy of kind; *out_changes 0 when none. */
int ob_catalog_policy_set_protection(int *out_changes, ob_catalog *cat, const char *kind, const char *schedule,
	const char *retention, int64_t now);

/**
 * In one transaction: remove the policy of kind and its file specs, and record
 * the removal (delete_backup: the backups are to be deleted too). With
 * enable_pruning its retention text (if it has one) is kept in the pruning
 * table, so that its points still age out; without, rules kept before for the
 * kind are dropped. OB_ENOTFOUND, with no message, when there is no such policy.
 */
int ob_catalog_policy_remove(ob_catalog *cat, const char *kind, int delete_backup, int enable_pruning, int64_t now);

/**
 * The retention text kept for kind by a removal with pruning (*out_retention
 * malloc'd) and when its last pass ran (*out_last_pass, 0: never; may be NULL).
 * OB_ENOTFOUND, with no message, when none is kept. Committing a policy of the
 * kind drops it (its own retention replaces it).
 */
int ob_catalog_pruning_get(char **out_retention, int64_t *out_last_pass, ob_catalog *cat, const char *kind);
/** Record that the pruning pass of kind ran at now. */
int ob_catalog_pruning_passed(ob_catalog *cat, const char *kind, int64_t now);

/** The System State policy: made (named name) or updated with its schedule and retention (NULL for none). */
int ob_catalog_systemstate_policy_save(ob_catalog *cat, const char *name, const char *schedule, const char *retention,
	int64_t now);

#endif
