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

static int by_name_desc(const void *a, const void *b);

/*
 * The time in a point's name: when it is committed, seconds and nanoseconds from
 * one clock reading, so that names sort in commit order and "the newest point" is
 * the last one committed. A clock that stands still (OBAGENT_NOW) or steps back
 * still names the point after every genuine point in the vault: one nanosecond
 * after the newest (a name of the older form, time-random, is passed by a whole
 * second). Genuine: a name that opens as a point of this server. Any agent can
 * create a name here, so one that does not open (a forged 999999999999-...) is
 * passed over, newest first, and never decides the next name.
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
	if (l.n)
		qsort(l.v, l.n, sizeof(char *), by_name_desc);
	snprintf(mine, sizeof(mine), "%012lld-%09ld-", (long long)*out_sec, *out_nsec);
	for (i = 0; i < l.n && !newest; i++) {
		ob_kv kv;
		for (k = 0; k < 12 && l.v[i][k] >= '0' && l.v[i][k] <= '9'; k++)
			;
		if (k != 12)
			continue;
		/* Only names at or after the clock's can move the name on: those before are never read. */
		if (strncmp(l.v[i], mine, strlen(mine)) < 0)
			break;
		if ((error = ob_snapshot_read(&kv, r, l.v[i])) == 0) {
			ob_kv_dispose(&kv);
			newest = l.v[i];
		} else if (error == OB_ENOTFOUND || error == OB_ECORRUPT || error == OB_EINVALID) {
			ob_error_clear();  /* purged meanwhile, damaged or forged: not a point to follow */
			error = 0;
		} else {
			ob_name_list_dispose(&l);
			return error;
		}
	}
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

/* ---- point summaries ---- */

#define SUMMARY_KIND "point-summary"

/* Whether a name under deleted/ or summaries/ is one of point_id's: "<point>" or "<point>.<nonce>". */
static int marker_of(const char *marker_name, const char *point_id);

/*
 * A point's summary (FORMAT.md, "Point summaries"): what its record says but the
 * trees, in the clear and signed by the server's key, so that another server of
 * the vault lists the point without this server's passphrase, as MARS does.
 */
static int summary_record(ob_buf *rec, const ob_repo *r, const char *point_id, const ob_kv *point)
{
	static const char *const fields[] = { "time", "server", "kind", "job", "retain_until", "files", "bytes", "datasources" };
	int64_t count = 0, i;
	char key[32];
	size_t f;
	int error;

	if ((error = ob_kv_begin(rec, SUMMARY_KIND, 1)) < 0 ||
	    (error = ob_kv_add(rec, "point", point_id)) < 0 ||
	    (error = ob_kv_add(rec, "server_id", r->server_id)) < 0 ||
	    (error = ob_kv_add(rec, "vault", r->vc.id ? r->vc.id : "")) < 0)
		return error;
	for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		if ((error = ob_kv_add(rec, fields[f], ob_kv_get(point, fields[f]) ? ob_kv_get(point, fields[f]) : "")) < 0)
			return error;
	ob_kv_get_i64(&count, point, "datasources");
	ob_error_clear();
	for (i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		if ((error = ob_kv_add(rec, key, ob_kv_get(point, key) ? ob_kv_get(point, key) : "")) < 0)
			return error;
		snprintf(key, sizeof(key), "ds%lld_name", (long long)i);
		if ((error = ob_kv_add(rec, key, ob_kv_get(point, key) ? ob_kv_get(point, key) : "")) < 0)
			return error;
	}
	return ob_record_sign(rec, r->sign_private);
}

/*
 * Write a committed point's summary at summaries/<point>, or, when something
 * already holds that name (a point id is known only once the point is listed, so
 * only a backfill can meet a squatter), at summaries/<point>.<16 hex random>.
 */
static int summary_write(const ob_repo *r, const char *point_id, const ob_kv *point)
{
	ob_buf rec = OB_BUF_INIT;
	char name[300], rnd_hex[17];
	uint8_t rnd[8];
	int error;

	if ((error = summary_record(&rec, r, point_id, point)) < 0)
		goto done;
	snprintf(name, sizeof(name), "%ssummaries/%s", r->prefix, point_id);
	if ((error = r->vc.be->put(r->vc.be, name, rec.data, rec.len)) == OB_EEXISTS) {
		ob_error_clear();
		if ((error = ob_random(rnd, sizeof(rnd))) < 0)
			goto done;
		ob_hex_encode(rnd_hex, rnd, sizeof(rnd));
		snprintf(name, sizeof(name), "%ssummaries/%s.%s", r->prefix, point_id, rnd_hex);
		error = r->vc.be->put(r->vc.be, name, rec.data, rec.len);
	}
done:
	ob_buf_dispose(&rec);
	return error;
}

/*
 * The genuine summary of point_id among the names listed under summaries/: one
 * that verifies with the area's signing key (r->sign_public) and names this
 * point, server and vault. OB_ENOTFOUND (no message) when there is none; the
 * others are skipped.
 */
static int summary_read(ob_kv *kv, const ob_repo *r, const char *point_id, const ob_name_list *names)
{
	char name[300];
	size_t i;
	int error;

	memset(kv, 0, sizeof(*kv));
	for (i = 0; names && i < names->n; i++) {
		char *text = NULL;
		size_t len = 0;
		if (!marker_of(names->v[i], point_id))
			continue;
		snprintf(name, sizeof(name), "%ssummaries/%s", r->prefix, names->v[i]);
		if ((error = ob_vault_read(&text, &len, (ob_vault_conn *)&r->vc, name)) == OB_ENOTFOUND) {
			ob_error_clear();
			continue;
		}
		if (error < 0)
			return error;
		if (ob_record_verify(r->sign_public, text, len) >= 0 && ob_kv_parse(kv, text, len) == 0) {
			if (strcmp(kv->kind, SUMMARY_KIND) == 0 && kv->version == 1 && ob_kv_get(kv, "point") &&
			    strcmp(ob_kv_get(kv, "point"), point_id) == 0 && ob_kv_get(kv, "server_id") &&
			    strcmp(ob_kv_get(kv, "server_id"), r->server_id) == 0 && ob_kv_get(kv, "vault") &&
			    strcmp(ob_kv_get(kv, "vault"), r->vc.id ? r->vc.id : "") == 0) {
				free(text);
				return 0;
			}
			ob_kv_dispose(kv);
		}
		ob_error_clear();  /* forged, another point's, or damaged: not this point's summary */
		free(text);
	}
	return OB_ENOTFOUND;
}

/*
 * Give the points written before summaries existed theirs (each once: a point
 * any summaries/ name is about is passed over). Best effort, after a backup's own
 * point: what cannot be read or written now is tried again by the next backup.
 */
static void summaries_backfill(const ob_repo *r)
{
	ob_name_list points = { 0 }, names = { 0 };
	char prefix[96];
	size_t i, j;

	snprintf(prefix, sizeof(prefix), "%ssnapshots/", r->prefix);
	if (ob_vault_list_names(&points, r->vc.be, prefix, strlen(prefix)) == 0) {
		snprintf(prefix, sizeof(prefix), "%ssummaries/", r->prefix);
		if (ob_vault_list_names(&names, r->vc.be, prefix, strlen(prefix)) == 0) {
			for (i = 0; i < points.n; i++) {
				ob_kv kv;
				int covered = 0;
				for (j = 0; j < names.n && !covered; j++)
					covered = marker_of(names.v[j], points.v[i]);
				if (covered || ob_snapshot_read(&kv, r, points.v[i]) < 0)
					continue;
				summary_write(r, points.v[i], &kv);
				ob_kv_dispose(&kv);
			}
		}
	}
	ob_name_list_dispose(&points);
	ob_name_list_dispose(&names);
	ob_error_clear();
}

int ob_snapshot_write(char **out_id, uint64_t *out_bytes, const ob_repo *r, const ob_snapshot_info *info)
{
	ob_buf rec = OB_BUF_INIT, sealed = OB_BUF_INIT;
	char name[200], key[32], hex[65], aad[256], rnd_hex[17];
	uint8_t rnd[8];
	char put_text[1024] = "";
	ob_kv kv;
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
	if (!(*out_id = ob_strdup(name + strlen(r->prefix) + strlen("snapshots/")))) {
		error = OB_ENOMEM;
		goto done;
	}
	/* The point is committed: a summary that cannot be written is a warning (other servers list it as sealed). */
	if ((error = ob_kv_parse(&kv, (const char *)rec.data, rec.len)) == 0) {
		error = summary_write(r, *out_id, &kv);
		ob_kv_dispose(&kv);
	}
	if (error < 0) {
		error = 0;
		char what[128];
		ob_buf reason = OB_BUF_INIT;
		snprintf(what, sizeof(what), "summary of recovery point %s", *out_id);
		if (ob_buf_printf(&reason, "%s The point is stored and restores; other servers of the vault list it without its "
			"details until this server's next backup writes the summary.", ob_error_last()) == 0 && info->on_warning)
			info->on_warning(what, reason.data, info->payload);
		ob_buf_dispose(&reason);
		ob_error_clear();
	} else {
		summaries_backfill(r);
	}
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

/*
 * A point listed without the key and without a genuine summary (written by an
 * older obagent, or its summary not written yet): its time from its name, sealed
 * set; its details need the server's passphrase.
 */
static int sealed_point(ob_recovery_point **out, const ob_repo *repo, const char *id)
{
	int error = damaged_point(out, repo, id, "Its details are sealed with the server's key: it has no summary that other "
		"servers can read (it was written by an older obagent, or its summary is not written yet). Give the server's "
		"encryption passphrase (-EncryptionPassphrase) to list them; the point restores as any other.");

	if (error == 0) {
		(*out)->damaged = 0;
		(*out)->sealed = 1;
	}
	return error;
}

/* ---- deletion markers ---- */

#define DELETION_KIND "deletion"
#define UNDELETION_KIND "undeletion"

void ob_deletion_hash(uint8_t out[32], const char *text, size_t len)
{
	size_t signed_len = len, i;

	/* The bytes before the last "signature=" line: the signature's text can vary (base64's spare bits), they cannot. */
	for (i = len; i > 0; i--)
		if ((i == 1 || text[i - 2] == '\n') && len - (i - 1) > 10 && memcmp(text + i - 1, "signature=", 10) == 0) {
			signed_len = i - 1;
			break;
		}
	ob_sha256(out, text, signed_len);
}

/* Whether a name under deleted/ is a marker of point_id: "<point>" or "<point>.<nonce>". */
static int marker_of(const char *marker_name, const char *point_id)
{
	size_t n = strlen(point_id);

	return strncmp(marker_name, point_id, n) == 0 && (marker_name[n] == '\0' || marker_name[n] == '.');
}

int ob_deletion_check(ob_deletion *out, const char *text, size_t len, const char *marker_name,
	const char *vault_id, const char *server_id, const uint8_t server_public[OB_SIGN_PUBLIC_BYTES],
	const uint8_t owner_public[OB_SIGN_PUBLIC_BYTES])
{
	ob_kv kv;
	const char *point, *signer, *nonce, *dot;
	size_t plen;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!text || ob_kv_parse(&kv, text, len) < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "it is not a record");
	if (strcmp(kv.kind, DELETION_KIND) != 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "it is not a deletion marker");
		goto done;
	}
	if (kv.version != 2) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT,
			"it is an unsigned marker (version %d, of an older obagent or forged)", kv.version);
		goto done;
	}
	point = ob_kv_get(&kv, "point");
	signer = ob_kv_get(&kv, "signer");
	nonce = ob_kv_get(&kv, "nonce");
	if (!point || !signer || !nonce || !*nonce || !ob_kv_get(&kv, "server") || !ob_kv_get(&kv, "vault") ||
	    ob_kv_get_i64(&out->deleted_at, &kv, "deleted_at") < 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "the marker is malformed");
		goto done;
	}
	/* Its name: the point, or the point and this marker's nonce (when a forgery held the plain name). */
	dot = strchr(marker_name, '.');
	plen = dot ? (size_t)(dot - marker_name) : strlen(marker_name);
	if (strlen(point) != plen || strncmp(point, marker_name, plen) != 0 || (dot && strcmp(dot + 1, nonce) != 0)) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "it names another recovery point (%s)", point);
		goto done;
	}
	if (strcmp(ob_kv_get(&kv, "server"), server_id) != 0 || strcmp(ob_kv_get(&kv, "vault"), vault_id) != 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "it was written for another server or vault");
		goto done;
	}
	if (strcmp(signer, "server") == 0)
		out->owner = 0;
	else if (strcmp(signer, "owner") == 0)
		out->owner = 1;
	else {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "its signer '%s' is unknown", signer);
		goto done;
	}
	if (ob_record_verify(out->owner ? owner_public : server_public, text, len) < 0) {
		error = ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "its signature is not the %s's", out->owner ? "vault owner" : "server");
		goto done;
	}
	snprintf(out->point, sizeof(out->point), "%s", point);
	ob_deletion_hash(out->sha256, text, len);
done:
	ob_kv_dispose(&kv);
	if (error < 0)
		memset(out, 0, sizeof(*out));
	return error;
}

int ob_undeletion_check(const char *text, size_t len, const char *point_id, const char *marker_hex,
	const uint8_t owner_public[OB_SIGN_PUBLIC_BYTES])
{
	ob_kv kv;
	int error = 0;

	if (!text || ob_record_verify(owner_public, text, len) < 0)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "the undeletion is not signed by the vault owner");
	if (ob_kv_parse(&kv, text, len) < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "the undeletion is malformed");
	if (strcmp(kv.kind, UNDELETION_KIND) != 0 || kv.version != 1 || !ob_kv_get(&kv, "point") || !ob_kv_get(&kv, "marker") ||
	    strcmp(ob_kv_get(&kv, "point"), point_id) != 0 || strcmp(ob_kv_get(&kv, "marker"), marker_hex) != 0)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "the undeletion names another marker");
	ob_kv_dispose(&kv);
	return error;
}

static int has_name(const ob_name_list *l, const char *name)
{
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 1;
	return 0;
}

/* Note one ignored marker in st->ignored (best effort: a warning, never a failure). */
static void ignored(ob_point_deletion *st, const ob_repo *repo, const char *marker_name, const char *why)
{
	ob_buf b = OB_BUF_INIT;

	if (ob_buf_printf(&b, "%s%sThe deletion marker %sdeleted/%s was ignored: %s. The point is kept and listed as not "
		"deleted; if it should be deleted, delete it again.", st->ignored ? st->ignored : "", st->ignored ? "\n" : "",
		repo->prefix, marker_name, why) == 0) {
		free(st->ignored);
		st->ignored = ob_buf_detach(&b);
	}
	ob_buf_dispose(&b);
}

int ob_point_deletion_read(ob_point_deletion *st, const ob_repo *repo, const char *point_id,
	const ob_name_list *markers, const ob_name_list *undeleted)
{
	ob_backend *be = repo->vc.be;
	char mname[300], uname[300], hex[65];
	size_t i;
	int error = 0;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < markers->n && error == 0; i++) {
		char *text = NULL;
		size_t len = 0;
		ob_deletion d;
		int64_t created = 0;
		if (!marker_of(markers->v[i], point_id))
			continue;
		snprintf(mname, sizeof(mname), "%sdeleted/%s", repo->prefix, markers->v[i]);
		if ((error = ob_vault_read(&text, &len, (ob_vault_conn *)&repo->vc, mname)) == OB_ENOTFOUND) {
			ob_error_clear();  /* removed since the listing (purged, undeleted) */
			error = 0;
			continue;
		}
		if (error < 0)
			break;
		if (ob_deletion_check(&d, text, len, markers->v[i], repo->vc.id, repo->server_id, repo->sign_public,
			repo->vc.owner_public) < 0) {
			ignored(st, repo, markers->v[i], ob_error_last());
			ob_error_clear();
			free(text);
			continue;
		}
		free(text);
		text = NULL;
		/* A marker the owner undeleted is void: a copy of its bytes written back later hides nothing. */
		ob_hex_encode(hex, d.sha256, sizeof(d.sha256));
		if (has_name(undeleted, hex)) {
			int revoked;
			snprintf(uname, sizeof(uname), "%sundeleted/%s", repo->prefix, hex);
			revoked = ob_vault_read(&text, &len, (ob_vault_conn *)&repo->vc, uname) == 0 &&
				ob_undeletion_check(text, len, point_id, hex, repo->vc.owner_public) == 0;
			free(text);
			ob_error_clear();
			if (revoked) {
				ignored(st, repo, markers->v[i], "the vault owner undeleted the point, and this is a copy of that marker");
				continue;
			}
		}
		/* The storage's time of the marker: the 14 days run from it, not from what the marker says. */
		if (be->version >= 3 && be->stat_created) {
			if ((error = be->stat_created(&created, be, mname)) == OB_ENOTFOUND) {
				ob_error_clear();
				error = 0;
				continue;
			}
			if (error < 0)
				break;
		}
		if (!st->deleted || d.deleted_at < st->deleted_at)
			st->deleted_at = d.deleted_at > 0 ? d.deleted_at : 1;
		if (created > 0 && (!st->created || created < st->created))
			st->created = created;
		st->deleted = 1;
	}
	return error;
}

void ob_point_deletion_dispose(ob_point_deletion *st)
{
	free(st->ignored);
	memset(st, 0, sizeof(*st));
}

/* The recovery points in a server's area, newest first; a damaged one only with OB_POINTS_DAMAGED. */
int ob_repo_list_points(ob_recovery_point ***out, size_t *out_count, ob_repo *repo, int flags)
{
	ob_name_list l = { 0 }, dl = { 0 }, ul = { 0 }, sl = { 0 };
	char prefix[96];
	ob_recovery_point **v = NULL;
	size_t n = 0, i;
	int error;

	*out = NULL;
	*out_count = 0;
	snprintf(prefix, sizeof(prefix), "%ssnapshots/", repo->prefix);
	if ((error = ob_vault_list_names(&l, repo->vc.be, prefix, strlen(prefix))) < 0)
		goto done;
	snprintf(prefix, sizeof(prefix), "%sdeleted/", repo->prefix);
	if ((error = ob_vault_list_names(&dl, repo->vc.be, prefix, strlen(prefix))) < 0)
		goto done;
	snprintf(prefix, sizeof(prefix), "%sundeleted/", repo->prefix);
	if (dl.n && (error = ob_vault_list_names(&ul, repo->vc.be, prefix, strlen(prefix))) < 0)
		goto done;
	snprintf(prefix, sizeof(prefix), "%ssummaries/", repo->prefix);
	if ((flags & OB_POINTS_SUMMARY) && (error = ob_vault_list_names(&sl, repo->vc.be, prefix, strlen(prefix))) < 0)
		goto done;
	/* Names start with the time: newest first is reverse name order. */
	if (l.n)
		qsort(l.v, l.n, sizeof(char *), by_name_desc);
	if (!(v = calloc(l.n ? l.n : 1, sizeof(*v)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		ob_point_deletion del;
		ob_kv kv;
		/* Only a marker that counts deletes (ob_point_deletion_read); any other is ignored, with a warning. */
		if ((error = ob_point_deletion_read(&del, repo, l.v[i], &dl, &ul)) < 0)
			goto done;
		if (del.deleted && !(flags & OB_POINTS_DELETED)) {
			ob_point_deletion_dispose(&del);
			continue;
		}
		if (flags & OB_POINTS_SUMMARY) {
			/* Without the key: the signed summary, or the name alone (sealed). */
			if ((error = summary_read(&kv, repo, l.v[i], &sl)) == 0) {
				error = point_from_kv(&v[n], &kv, l.v[i]);
				ob_kv_dispose(&kv);
			} else if (error == OB_ENOTFOUND) {
				error = sealed_point(&v[n], repo, l.v[i]);
			}
		} else if ((error = ob_snapshot_read(&kv, repo, l.v[i])) == OB_ENOTFOUND) {
			ob_error_clear();  /* purged since the listing */
			error = 0;
			ob_point_deletion_dispose(&del);
			continue;
		} else if (error == OB_ECORRUPT || error == OB_EINVALID) {
			/* Damaged or forged: listed as damaged when asked (internal walks leave it out). */
			if (!(flags & OB_POINTS_DAMAGED)) {
				ob_error_clear();
				error = 0;
				ob_point_deletion_dispose(&del);
				continue;
			}
			if ((error = damaged_point(&v[n], repo, l.v[i], ob_error_last())) == 0)
				ob_error_clear();
		} else if (error == 0) {
			error = point_from_kv(&v[n], &kv, l.v[i]);
			ob_kv_dispose(&kv);
		}
		if (error < 0) {
			ob_point_deletion_dispose(&del);
			goto done;
		}
		if (del.deleted) {
			v[n]->deleted_at = del.deleted_at;
			/* Purged by maintenance 14 days after the storage's time; never without one. */
			v[n]->purge_after = del.created ? del.created + (int64_t)OB_SOFT_DELETE_DAYS * 86400 : 0;
		} else if (del.ignored && !v[n]->problem) {
			/* A sound point with a marker that does not count: the listing says so (problem, not damaged). */
			v[n]->problem = del.ignored;
			del.ignored = NULL;
		}
		ob_point_deletion_dispose(&del);
		n++;
	}
	*out = v;
	*out_count = n;
	v = NULL;
done:
	ob_recovery_points_free(v, n);
	ob_name_list_dispose(&l);
	ob_name_list_dispose(&dl);
	ob_name_list_dispose(&ul);
	ob_name_list_dispose(&sl);
	return error;
}

/* A marker record, signed by the server's key: bound to this vault, server and point. */
static int marker_record(ob_buf *rec, char nonce_hex[33], ob_repo *repo, const char *point_id, const char *reason, int64_t now)
{
	uint8_t nonce[16];
	int error;

	if ((error = ob_random(nonce, sizeof(nonce))) < 0)
		return error;
	ob_hex_encode(nonce_hex, nonce, sizeof(nonce));
	if ((error = ob_kv_begin(rec, DELETION_KIND, 2)) == 0 &&
	    (error = ob_kv_add(rec, "point", point_id)) == 0 &&
	    (error = ob_kv_add(rec, "server", repo->server_id)) == 0 &&
	    (error = ob_kv_add(rec, "vault", repo->vc.id)) == 0 &&
	    (error = ob_kv_add_i64(rec, "deleted_at", now)) == 0 &&
	    (error = ob_kv_add(rec, "reason", reason && *reason ? reason : "deleted")) == 0 &&
	    (error = ob_kv_add(rec, "nonce", nonce_hex)) == 0 &&
	    (error = ob_kv_add(rec, "signer", "server")) == 0)
		error = ob_record_sign(rec, repo->sign_private);
	return error;
}

int ob_recovery_point_mark_deleted(ob_repo *repo, const char *point_id, const char *reason, int64_t now)
{
	ob_buf rec = OB_BUF_INIT;
	ob_name_list one = { 0 };
	ob_point_deletion del;
	char name[200], nonce[33];
	uint64_t size;
	int error;

	if (!point_id || !*point_id || strchr(point_id, '/') || strchr(point_id, '.') || strlen(point_id) > 64)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not a recovery point id.", point_id ? point_id : "");
	snprintf(name, sizeof(name), "%ssnapshots/%s", repo->prefix, point_id);
	if ((error = repo->vc.be->stat(&size, repo->vc.be, name)) < 0)
		return error == OB_ENOTFOUND ? ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "There is no recovery point '%s'.", point_id) : error;
	if ((error = marker_record(&rec, nonce, repo, point_id, reason, now)) < 0)
		goto done;
	snprintf(name, sizeof(name), "%sdeleted/%s", repo->prefix, point_id);
	if ((error = repo->vc.be->put(repo->vc.be, name, rec.data, rec.len)) != OB_EEXISTS)
		goto done;
	/*
	 * The name is taken: by a marker of ours that counts (deleted already), or by
	 * something that does not (a forgery, an older unsigned marker, one the owner
	 * undeleted), which must not keep the point from being deleted: then the marker
	 * goes under the point's name and its nonce, which only its own record matches.
	 */
	ob_error_clear();
	if (!(one.v = calloc(1, sizeof(char *))) || !(one.v[0] = ob_strdup(point_id))) {
		error = ob_err_nomem();
		goto done;
	}
	one.n = one.cap = 1;
	{
		ob_name_list ul = { 0 };
		char prefix[96];
		snprintf(prefix, sizeof(prefix), "%sundeleted/", repo->prefix);
		if ((error = ob_vault_list_names(&ul, repo->vc.be, prefix, strlen(prefix))) == 0)
			error = ob_point_deletion_read(&del, repo, point_id, &one, &ul);
		ob_name_list_dispose(&ul);
	}
	if (error < 0)
		goto done;
	if (!del.deleted) {
		snprintf(name, sizeof(name), "%sdeleted/%s.%s", repo->prefix, point_id, nonce);
		error = repo->vc.be->put(repo->vc.be, name, rec.data, rec.len);
	}
	ob_point_deletion_dispose(&del);
done:
	if (error == OB_EEXISTS) {
		ob_error_clear();
		error = 0;  /* deleted already */
	}
	ob_name_list_dispose(&one);
	ob_buf_dispose(&rec);
	return error;
}
