/*
 * Expiry: after a backup, the points the retention policy no longer keeps are
 * soft-deleted (ob_retention_select in retention.c decides which). A kind whose
 * policy was removed with pruning follows the rules the removal kept.
 */
#include "policy/expiry.h"
#include "policy/policy_internal.h"
#include "catalog/policy.h"
#include "util/error.h"
#include "vault/snapshot.h"

#include <stdlib.h>
#include <string.h>

int ob_retention_apply(ob_agent *agent, ob_repo *repo, int64_t now, size_t *out_expired)
{
	return ob_retention_apply_kind(agent, repo, "FileFolder", now, out_expired);
}

/* Soft-delete the points of kind that r no longer keeps. */
static int expire(ob_repo *repo, const char *kind, const ob_retention *r, int64_t now, size_t *out_expired)
{
	ob_recovery_point **pts = NULL;
	ob_point_time *times = NULL;
	uint8_t *keep = NULL;
	size_t n = 0, i, expired = 0;
	int error;

	if ((error = ob_repo_list_points(&pts, &n, repo, 0)) < 0)
		goto done;
	{
		/* Only this kind's points. */
		size_t k = 0;
		for (i = 0; i < n; i++) {
			if (!strcmp(pts[i]->kind, kind))
				pts[k++] = pts[i];
			else
				ob_recovery_points_free_one(pts[i]);
		}
		n = k;
	}
	times = calloc(n ? n : 1, sizeof(*times));
	keep = calloc(n ? n : 1, 1);
	if (!times || !keep) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < n; i++) {
		times[i].time = pts[i]->backup_time;
		times[i].retain_until = pts[i]->retain_until;
	}
	if ((error = ob_retention_select(keep, times, n, r, now)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++)
		if (!keep[i]) {
			error = ob_recovery_point_mark_deleted(repo, pts[i]->id, "expired by the retention policy", now);
			expired++;
		}
	if (out_expired)
		*out_expired = expired;
done:
	free(times);
	free(keep);
	ob_recovery_points_free(pts, n);
	return error;
}

/* No policy of kind: the rules a removal with pruning kept, if any (the pass is recorded). */
static int expire_pruning(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired)
{
	ob_retention r;
	char *text = NULL;
	int error;

	if ((error = ob_catalog_pruning_get(&text, NULL, agent->cat, kind)) == OB_ENOTFOUND)
		return 0;  /* removed without pruning (or never set): nothing ages out */
	if (error == 0 && (error = ob_retention_from_string(&r, text)) == 0 &&
	    (error = expire(repo, kind, &r, now, out_expired)) == 0)
		error = ob_catalog_pruning_passed(agent->cat, kind, now);
	free(text);
	return error;
}

/* Each kind of point follows its own policy's retention (files and folders, System State). */
int ob_retention_apply_kind(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired)
{
	ob_policy *policy = NULL;
	ob_retention r;
	int error;

	if (out_expired)
		*out_expired = 0;
	error = ob_policy_get_kind(&policy, agent, kind);
	if (error == OB_ENOTFOUND) {
		ob_error_clear();
		return expire_pruning(agent, repo, kind, now, out_expired);
	}
	if (error < 0 || ob_policy_retention(&r, policy) < 0) {
		/* A policy without a retention keeps everything. */
		ob_policy_free(policy);
		ob_error_clear();
		return 0;
	}
	error = expire(repo, kind, &r, now, out_expired);
	ob_policy_free(policy);
	return error;
}

int ob_retention_apply_pruning(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired)
{
	ob_policy *policy = NULL;
	int error;

	if (out_expired)
		*out_expired = 0;
	error = ob_policy_get_kind(&policy, agent, kind);
	ob_policy_free(policy);
	if (error != OB_ENOTFOUND)
		return error;  /* the policy's own backups apply its retention */
	ob_error_clear();
	return expire_pruning(agent, repo, kind, now, out_expired);
}
