/*
 * Internal: expiry, retention applied to a server's area after a backup. Each
 * point the policy no longer keeps is soft-deleted (it leaves the listings;
 * maintenance reclaims it after OB_SOFT_DELETE_DAYS days unless the owner
 * undeletes it). No retention, no expiry. A policy removed with pruning leaves
 * its rules behind, and its points still expire by them (docs/RETENTION.md).
 */
#ifndef OB_NATIVE_POLICY_EXPIRY_H
#define OB_NATIVE_POLICY_EXPIRY_H

#include "agent/agent_internal.h"
#include "vault/repo.h"

/** Expire the file and folder points (*out_expired, may be NULL: how many). */
int ob_retention_apply(ob_agent *agent, ob_repo *repo, int64_t now, size_t *out_expired);
/**
 * Expire the points of one kind ("FileFolder", "SystemState"), each kind by its
 * own policy's retention; with no policy of the kind, by the rules its removal
 * with pruning kept (none kept: nothing expires).
 */
int ob_retention_apply_kind(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired);
/**
 * The pruning pass of one kind: only when no policy of the kind is set and a
 * removal with pruning kept its rules (then as ob_retention_apply_kind, and the
 * pass is recorded); else nothing. Run after a backup of the other kind and by
 * the service once a day.
 */
int ob_retention_apply_pruning(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired);

#endif
