/*
 * Internal: expiry, retention applied to a server's area after a backup. Each
 * point the policy no longer keeps is soft-deleted (it leaves the listings;
 * maintenance reclaims it after OB_SOFT_DELETE_DAYS days unless the owner
 * undeletes it). No retention, no expiry.
 */
#ifndef OB_NATIVE_POLICY_EXPIRY_H
#define OB_NATIVE_POLICY_EXPIRY_H

#include "agent/agent_internal.h"
#include "vault/repo.h"

/** Expire the file and folder points (*out_expired, may be NULL: how many). */
int ob_retention_apply(ob_agent *agent, ob_repo *repo, int64_t now, size_t *out_expired);
/** Expire the points of one kind ("FileFolder", "SystemState"), each kind by its own policy's retention. */
int ob_retention_apply_kind(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired);

#endif
