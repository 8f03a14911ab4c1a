/*
 * Snapshots, the recovery point objects (vault/snapshot.h): writing a point's
 * record, reading and opening it, listing the points (deleted and damaged ones
 * when asked), and the soft-delete markers.
 */
#include "vault/snapshot.h"
#include "util/env.h"
#include "util/error.h"
#include "vault/crypto.h"
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A snapshot is sealed bound to its name: the additional data is this prefix and the point id. */
#define SNAPSHOT_AAD_PREFIX "obagent-snapshot-v1|"

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
	snprintf(aad, sizeof(aad), SNAPSHOT_AAD_PREFIX "%s", name + strlen(r->prefix) + strlen("snapshots/"));
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

/* ---- reading and listing ---- */

int ob_snapshot_read(ob_kv *kv, const ob_repo *r, const char *point_id)
{
	char name[200], aad[256];
	void *sealed = NULL;
	uint8_t *plain = NULL;
	size_t sealed_len, plen;
	int error;

	memset(kv, 0, sizeof(*kv));
	if (!point_id || !*point_id || strchr(point_id, '/') || strlen(point_id) > 64)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not a recovery point id.", point_id ? point_id : "");
	snprintf(name, sizeof(name), "%ssnapshots/%s", r->prefix, point_id);
	snprintf(aad, sizeof(aad), SNAPSHOT_AAD_PREFIX "%s", point_id);
	if ((error = r->vc.be->get(&sealed, &sealed_len, r->vc.be, name, 0, 0)) < 0) {
		if (error == OB_ENOTFOUND)
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "There is no recovery point '%s'.", point_id);
		return error;
	}
	if ((error = ob_object_open(&plain, &plen, r, aad, sealed, sealed_len)) < 0)
		goto done;
	if ((error = ob_kv_parse(kv, (char *)plain, plen)) < 0 || strcmp(kv->kind, "snapshot") != 0) {
		ob_kv_dispose(kv);
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Recovery point '%s' is damaged.", point_id);
	}
done:
	free(sealed);
	free(plain);
	return error;
}

int ob_snapshot_root(uint8_t root[OB_ID_BYTES], char **out_name, const ob_kv *kv, int64_t datasource_id)
{
	int64_t count = 0, i, id;
	char key[32];

	ob_kv_get_i64(&count, kv, "datasources");
	for (i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		if (ob_kv_get_i64(&id, kv, key) < 0)
			break;
		if (id != datasource_id && !(datasource_id == 0 && count == 1))
			continue;
		snprintf(key, sizeof(key), "ds%lld_tree", (long long)i);
		if (ob_id_parse(root, ob_kv_get(kv, key)) < 0)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The recovery point's record is damaged.");
		if (out_name) {
			snprintf(key, sizeof(key), "ds%lld_name", (long long)i);
			*out_name = strdup(ob_kv_get(kv, key) ? ob_kv_get(kv, key) : "");
		}
		return 0;
	}
	return ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "The recovery point holds no data source %lld.", (long long)datasource_id);
}

void ob_recovery_points_free_one(ob_recovery_point *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->server_name);
	free(p->kind);
	free(p->datasources);
	free(p->datasource_ids);
	free(p->job_id);
	free(p->problem);
	free(p);
}

static void point_free(void *p)
{
	ob_recovery_points_free_one(p);
}

void ob_recovery_points_free(ob_recovery_point **list, size_t count)
{
	ob_list_free(list, count, point_free);
}

static int by_name_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

static int point_from_kv(ob_recovery_point **out, const ob_kv *kv, const char *id)
{
	ob_recovery_point *p = calloc(1, sizeof(*p));
	ob_buf names = OB_BUF_INIT, ids = OB_BUF_INIT;
	int64_t v, count = 0, i;
	char key[32];

	*out = NULL;
	if (!p)
		return ob_err_nomem();
	p->version = OB_RECOVERY_POINT_VERSION;
	p->id = strdup(id);
	p->server_name = strdup(ob_kv_get(kv, "server") ? ob_kv_get(kv, "server") : "");
	p->kind = strdup(ob_kv_get(kv, "kind") ? ob_kv_get(kv, "kind") : "FileFolder");
	p->job_id = strdup(ob_kv_get(kv, "job") ? ob_kv_get(kv, "job") : "");
	if (ob_kv_get_i64(&v, kv, "time") == 0)
		p->backup_time = v;
	if (ob_kv_get_i64(&v, kv, "files") == 0)
		p->files = (uint64_t)v;
	if (ob_kv_get_i64(&v, kv, "bytes") == 0)
		p->bytes = (uint64_t)v;
	if (ob_kv_get_i64(&v, kv, "retain_until") == 0)
		p->retain_until = v;
	ob_kv_get_i64(&count, kv, "datasources");
	for (i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "ds%lld_name", (long long)i);
		ob_buf_printf(&names, "%s%s", i ? "\n" : "", ob_kv_get(kv, key) ? ob_kv_get(kv, key) : "");
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		ob_buf_printf(&ids, "%s%s", i ? "\n" : "", ob_kv_get(kv, key) ? ob_kv_get(kv, key) : "");
	}
	p->datasources = ob_buf_detach(&names);
	p->datasource_ids = ob_buf_detach(&ids);
	ob_error_clear();
	if (!p->id || !p->server_name || !p->kind || !p->job_id || !p->datasources || !p->datasource_ids) {
		ob_recovery_points_free(&p, 1);
		return ob_err_nomem();
	}
	*out = p;
	return 0;
}

/* A point whose record cannot be read: what its name and the area tell (names start with the time). */
static int damaged_point(ob_recovery_point **out, const ob_repo *repo, const char *id, const char *problem)
{
	ob_recovery_point *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return ob_err_nomem();
	p->version = OB_RECOVERY_POINT_VERSION;
	p->backup_time = strtoll(id, NULL, 10);
	p->damaged = 1;
	p->id = strdup(id);
	p->server_name = strdup(repo->server_name ? repo->server_name : "");
	p->kind = strdup("");
	p->job_id = strdup("");
	p->datasources = strdup("");
	p->datasource_ids = strdup("");
	p->problem = strdup(problem);
	if (!p->id || !p->server_name || !p->kind || !p->job_id || !p->datasources || !p->datasource_ids || !p->problem) {
		ob_recovery_points_free_one(p);
		return ob_err_nomem();
	}
	*out = p;
	return 0;
}

/* Read a point's deletion marker, if any: 1 and the times when it has one. */
static int deletion_marker(const ob_repo *repo, const char *point_id, int64_t *deleted_at, int64_t *purge_after)
{
	char name[200], *text = NULL;
	size_t len;
	ob_kv kv;
	int found = 0;

	snprintf(name, sizeof(name), "%sdeleted/%s", repo->prefix, point_id);
	if (ob_vault_read(&text, &len, (ob_vault_conn *)&repo->vc, name) == 0 && ob_kv_parse(&kv, text, len) == 0) {
		found = 1;
		if (ob_kv_get_i64(deleted_at, &kv, "deleted_at") < 0)
			*deleted_at = 1;
		if (ob_kv_get_i64(purge_after, &kv, "purge_after") < 0)
			*purge_after = *deleted_at + OB_SOFT_DELETE_DAYS * 86400;
		ob_kv_dispose(&kv);
	}
	free(text);
	ob_error_clear();
	return found;
}

/* The recovery points in a server's area, newest first; a damaged one only with OB_POINTS_DAMAGED. */
int ob_repo_list_points(ob_recovery_point ***out, size_t *out_count, ob_repo *repo, int flags)
{
	ob_name_list l = { 0 }, dl = { 0 };
	char prefix[96];
	ob_recovery_point **v = NULL;
	size_t n = 0, i, j;
	int error;

	*out = NULL;
	*out_count = 0;
	snprintf(prefix, sizeof(prefix), "%ssnapshots/", repo->prefix);
	if ((error = ob_vault_list_names(&l, repo->vc.be, prefix, strlen(prefix))) < 0)
		goto done;
	snprintf(prefix, sizeof(prefix), "%sdeleted/", repo->prefix);
	if ((error = ob_vault_list_names(&dl, repo->vc.be, prefix, strlen(prefix))) < 0)
		goto done;
	/* Names start with the time: newest first is reverse name order. */
	if (l.n)
		qsort(l.v, l.n, sizeof(char *), by_name_desc);
	if (!(v = calloc(l.n ? l.n : 1, sizeof(*v)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		ob_kv kv;
		int deleted = 0;
		for (j = 0; j < dl.n && !deleted; j++)
			deleted = strcmp(dl.v[j], l.v[i]) == 0;
		if (deleted && !(flags & OB_POINTS_DELETED))
			continue;
		if ((error = ob_snapshot_read(&kv, repo, l.v[i])) == OB_ENOTFOUND) {
			ob_error_clear();  /* purged since the listing */
			error = 0;
			continue;
		}
		if (error == OB_ECORRUPT || error == OB_EINVALID) {
			/* Damaged or forged: listed as damaged when asked (internal walks leave it out). */
			if (!(flags & OB_POINTS_DAMAGED)) {
				ob_error_clear();
				error = 0;
				continue;
			}
			if ((error = damaged_point(&v[n], repo, l.v[i], ob_error_last())) == 0)
				ob_error_clear();
		} else if (error < 0) {
			goto done;
		} else {
			error = point_from_kv(&v[n], &kv, l.v[i]);
			ob_kv_dispose(&kv);
		}
		if (error < 0)
			goto done;
		if (deleted)
			deletion_marker(repo, l.v[i], &v[n]->deleted_at, &v[n]->purge_after);
		n++;
	}
	*out = v;
	*out_count = n;
	v = NULL;
done:
	ob_recovery_points_free(v, n);
	ob_name_list_dispose(&l);
	ob_name_list_dispose(&dl);
	return error;
}

int ob_recovery_point_mark_deleted(ob_repo *repo, const char *point_id, const char *reason, int64_t now)
{
	ob_buf rec = OB_BUF_INIT;
	char name[200];
	uint64_t size;
	int error;

	if (!point_id || !*point_id || strchr(point_id, '/') || strlen(point_id) > 64)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not a recovery point id.", point_id ? point_id : "");
	snprintf(name, sizeof(name), "%ssnapshots/%s", repo->prefix, point_id);
	if ((error = repo->vc.be->stat(&size, repo->vc.be, name)) < 0)
		return error == OB_ENOTFOUND ? ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "There is no recovery point '%s'.", point_id) : error;
	snprintf(name, sizeof(name), "%sdeleted/%s", repo->prefix, point_id);
	if ((error = ob_kv_begin(&rec, "deletion", 1)) == 0 &&
	    (error = ob_kv_add(&rec, "point", point_id)) == 0 &&
	    (error = ob_kv_add_i64(&rec, "deleted_at", now)) == 0 &&
	    (error = ob_kv_add_i64(&rec, "purge_after", now + (int64_t)OB_SOFT_DELETE_DAYS * 86400)) == 0 &&
	    (error = ob_kv_add(&rec, "reason", reason ? reason : "deleted")) == 0)
		error = repo->vc.be->put(repo->vc.be, name, rec.data, rec.len);
	if (error == OB_EEXISTS) {
		ob_error_clear();
		error = 0;  /* deleted already */
	}
	ob_buf_dispose(&rec);
	return error;
}
