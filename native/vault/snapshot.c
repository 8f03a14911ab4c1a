/* Snapshots, the recovery point objects (vault/snapshot.h). */
#include "vault/snapshot.h"
#include "util/env.h"
#include "util/error.h"
#include "vault/crypto.h"
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

/*
 * The time in a point's name: when it is committed, seconds and nanoseconds from
 * one clock reading, so that names sort in commit order and "the newest point" is
 * the last one committed. A clock that stands still (OBAGENT_NOW) or steps back
 * still names the point after every point in the vault: one nanosecond after the
 * newest (a name of the older form, time-random, is passed by a whole second).
 */
static int point_time(int64_t *out_sec, long *out_nsec, const ob_repo *r)
{
	ob_name_list l = { 0 };
	char prefix[96], mine[32];
	const char *newest = NULL;
	size_t i, k;
	int error;

	if ((error = ob_clock_now_ns(out_sec, out_nsec)) < 0)
		return error;
	snprintf(prefix, sizeof(prefix), "%ssnapshots/", r->prefix);
	if ((error = ob_vault_list_names(&l, r->vc.be, prefix, strlen(prefix))) < 0)
		return error;
	for (i = 0; i < l.n; i++) {
		for (k = 0; k < 12 && l.v[i][k] >= '0' && l.v[i][k] <= '9'; k++)
			;
		if (k == 12 && (!newest || strcmp(l.v[i], newest) > 0))
			newest = l.v[i];
	}
	snprintf(mine, sizeof(mine), "%012lld-%09ld-", (long long)*out_sec, *out_nsec);
	if (newest && strncmp(mine, newest, strlen(mine)) <= 0) {
		int64_t sec = strtoll(newest, NULL, 10);
		long nsec = -1;
		for (k = 13; k < 22 && newest[12] == '-' && newest[k] >= '0' && newest[k] <= '9'; k++)
			;
		if (k == 22 && newest[22] == '-')
			nsec = strtol(newest + 13, NULL, 10);
		if (nsec < 0 || nsec >= 999999999L) {
			sec++;
			nsec = 0;
		} else {
			nsec++;
		}
		*out_sec = sec;
		*out_nsec = nsec;
	}
	ob_name_list_dispose(&l);
	return 0;
}

int ob_snapshot_write(char **out_id, uint64_t *out_bytes, const ob_repo *r, const ob_snapshot_info *info)
{
	ob_buf rec = OB_BUF_INIT, sealed = OB_BUF_INIT;
	char name[200], key[32], hex[65], aad[256], rnd_hex[17];
	uint8_t rnd[8];
	char put_text[1024] = "";
	int64_t sec;
	long nsec;
	size_t i;
	int error, put_error;

	if ((error = ob_random(rnd, sizeof(rnd))) < 0 || (error = point_time(&sec, &nsec, r)) < 0)
		return error;
	ob_hex_encode(rnd_hex, rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "%ssnapshots/%012lld-%09ld-%s", r->prefix, (long long)sec, nsec, rnd_hex);
	if ((error = ob_kv_begin(&rec, "snapshot", 1)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "time", info->time)) < 0 ||
	    (error = ob_kv_add(&rec, "server", r->server_name)) < 0 ||
	    (error = ob_kv_add(&rec, "kind", info->kind ? info->kind : "FileFolder")) < 0 ||
	    (error = ob_kv_add(&rec, "job", info->job ? info->job : "")) < 0 ||
	    (error = ob_kv_add_i64(&rec, "retain_until", info->retain_until)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "files", (int64_t)info->files)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "bytes", (int64_t)info->bytes)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "datasources", (int64_t)info->source_count)) < 0)
		goto done;
	for (i = 0; i < info->source_count; i++) {
		snprintf(key, sizeof(key), "ds%zu_id", i);
		if ((error = ob_kv_add_i64(&rec, key, info->sources[i].id)) < 0)
			goto done;
		snprintf(key, sizeof(key), "ds%zu_name", i);
		if ((error = ob_kv_add(&rec, key, info->sources[i].name)) < 0)
			goto done;
		snprintf(key, sizeof(key), "ds%zu_tree", i);
		ob_id_hex(hex, info->sources[i].tree);
		if ((error = ob_kv_add(&rec, key, hex)) < 0)
			goto done;
	}
	snprintf(aad, sizeof(aad), "obagent-snapshot-v1|%s", name + strlen(r->prefix) + strlen("snapshots/"));
	if ((error = ob_object_seal(&sealed, r, aad, rec.data, rec.len)) < 0)
		goto done;
	put_error = r->vc.be->put(r->vc.be, name, sealed.data, sealed.len);
	if (put_error < 0)
		snprintf(put_text, sizeof(put_text), "%s", ob_error_last());
	/* Verify: the point reads back and opens. */
	if (info->verifying)
		info->verifying(info->payload);
	{
		void *back = NULL;
		size_t back_len;
		uint8_t *plain = NULL;
		size_t plen;
		if ((error = r->vc.be->get(&back, &back_len, r->vc.be, name, 0, 0)) == 0)
			error = ob_object_open(&plain, &plen, r, aad, back, back_len);
		free(back);
		free(plain);
	}
	/*
	 * One truth: a point that reads back whole is committed, whatever the put said
	 * (it can fail after the object is in place, e.g. syncing its folder); the
	 * job then warns instead of failing. A put that failed and left no whole point
	 * fails the job, and what it left is removed, so no point of a Failed job lists.
	 */
	if (put_error == OB_EEXISTS && error == 0) {
		ob_error_clear();  /* a retried put found its own first attempt: the name holds 64 random bits */
	} else if (put_error < 0 && error == 0) {
		char what[128];
		ob_buf reason = OB_BUF_INIT;
		snprintf(what, sizeof(what), "recovery point %s", name + strlen(r->prefix) + strlen("snapshots/"));
		if (ob_buf_printf(&reason, "%s The point was written and reads back whole, but the vault did not confirm it "
			"is stored durably: check the vault's disk or storage.", put_text) == 0 && info->on_warning)
			info->on_warning(what, reason.data, info->payload);
		ob_buf_dispose(&reason);
		ob_error_clear();
	} else if (put_error < 0 || error < 0) {
		if (put_error == 0) {
			put_error = error;
			snprintf(put_text, sizeof(put_text), "%s", ob_error_last());
		}
		if (put_error != OB_EEXISTS && r->vc.be->remove)
			r->vc.be->remove(r->vc.be, name);
		error = ob_err(put_error, OB_ERRCLASS_VAULT, "%s", put_text);
		goto done;
	}
	if (out_bytes)
		*out_bytes = sealed.len;
	if (!(*out_id = ob_strdup(name + strlen(r->prefix) + strlen("snapshots/"))))
		error = OB_ENOMEM;
done:
	ob_buf_dispose(&rec);
	ob_buf_dispose(&sealed);
	return error;
}
