/*
 * Expiry: after a backup, the points the retention policy no longer keeps are
 * soft-deleted (ob_retention_select in retention.c decides which).
 */
#include "policy/expiry.h"
#include "policy/policy_internal.h"
#include "util/error.h"
#include "vault/snapshot.h"

#include <stdlib.h>
#include <string.h>

int ob_retention_apply(ob_agent *agent, ob_repo *repo, int64_t now, size_t *out_expired)
{
	return ob_retention_apply_kind(agent, repo, "FileFolder", now, out_expired);
}

/* Each kind of point follows its own policy's retention (files and folders, System State). */
int ob_retention_apply_kind(ob_agent *agent, ob_repo *repo, const char *kind, int64_t now, size_t *out_expired)
{
	ob_policy *policy = NULL;
	ob_retention r;
	ob_recovery_point **pts = NULL;
	ob_point_time *times = NULL;
	uint8_t *keep = NULL;
	size_t n = 0, i, expired = 0;
	int error;

	if (out_expired)
		*out_expired = 0;
	if ((error = ob_policy_get_kind(&policy, agent, kind)) < 0 || ob_policy_retention(&r, policy) < 0) {
		ob_policy_free(policy);
		ob_error_clear();
		return 0;
	}
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
	if ((error = ob_retention_select(keep, times, n, &r, now)) < 0)
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
	ob_policy_free(policy);
	return error;
}
