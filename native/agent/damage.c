/* Blobs known to be damaged: recorded by tests and readers, stored again by backups. */
#include "agent/damage.h"
#include "util/env.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More damaged blobs than this: the whole file cache is forgotten (one scan per blob would cost more than reading). */
#define DAMAGE_SCAN_MAX 64

int ob_damage_record(ob_agent *agent, const uint8_t id[32], int type, const uint8_t pack[32], const char *path,
	const char *problem)
{
	int64_t now = 0;

	ob_clock_now(&now);
	return ob_catalog_damage_record(agent->cat, id, type, pack, path, problem, now);
}

int ob_damage_prepare_backup(ob_idset *out, ob_agent *agent)
{
	ob_idset set = OB_IDSET_INIT;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = ob_catalog_damage_unhealed(&set, agent->cat)) < 0 || set.count == 0)
		goto done;
	/* A file whose cached entry names a damaged blob is read again (its data is what heals the blob). */
	if (set.count > DAMAGE_SCAN_MAX)
		error = ob_catalog_file_cache_forget_all(agent->cat);
	else
		error = ob_catalog_file_cache_forget_blobs(agent->cat, &set);
done:
	if (error < 0) {
		ob_idset_dispose(&set);
		return error;
	}
	*out = set;
	return 0;
}

typedef struct report {
	int (*cb)(const char *path, const char *reason, void *payload);
	void *payload;
} report;

static int report_cb(const char *path, void *payload)
{
	report *r = payload;

	return r->cb(path, "damaged in the vault and not healed: the source no longer has this data, so older recovery points "
		"cannot restore it (Test-OBRecoveryPoint names them)", r->payload);
}

int ob_damage_report_unhealed(uint64_t *out_count, ob_agent *agent,
	int (*cb)(const char *path, const char *reason, void *payload), void *payload)
{
	report r = { cb, payload };

	return ob_catalog_damage_report_unhealed(out_count, agent->cat, cb ? report_cb : NULL, &r);
}

int ob_damage_list(uint8_t (**out)[64], size_t *out_count, ob_agent *agent)
{
	return ob_catalog_damage_list(out, out_count, agent->cat);
}

int ob_damage_has(const uint8_t (*list)[64], size_t count, const uint8_t id[32], const uint8_t pack[32])
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!memcmp(list[i], id, 32) && !memcmp(list[i] + 32, pack, 32))
			return 1;
	return 0;
}
