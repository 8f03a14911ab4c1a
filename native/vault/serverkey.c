/*
 * A server's key records, its anchor, the owner's signer record and the signed
 * data source records (vault/serverkey.h; docs/SECURITY.md). Every check that
 * costs nothing (parse, place, signature) runs before scrypt, and scrypt runs
 * only with parameters this agent would choose or that the anchor signed.
 */
#include "vault/serverkey.h"
#include "vault/snapshot.h"
#include "util/env.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_AAD_FMT "obagent-server-key-v1|%s|%s|%lld"
#define FIRST_SEQ 1
#define MAX_SEQ 9999999999LL

void ob_warn_stderr(const char *what, const char *why, void *payload)
{
	(void)payload;
	fprintf(stderr, "obagent: warning: %s: %s\n", what, why);
}

static void warn(ob_warn_fn fn, void *payload, const char *what, const char *why)
{
	if (fn)
		fn(what, why, payload);
}

/* Warn about an object, the reason being the last error's text; the error is cleared. */
static void warn_last(ob_warn_fn fn, void *payload, const char *what, const char *prefix)
{
	char why[512];

	snprintf(why, sizeof(why), "%s%s", prefix, ob_error_last());
	ob_error_clear();
	warn(fn, payload, what, why);
}

/* Read an object that may be absent: 0 with *text NULL when it is. */
static int read_optional(char **text, size_t *len, ob_vault_conn *vc, const char *name)
{
	int error = ob_vault_read(text, len, vc, name);

	if (error == OB_ENOTFOUND) {
		ob_error_clear();
		*text = NULL;
		*len = 0;
		return 0;
	}
	return error;
}

static int copy_field(char *out, size_t size, const ob_kv *kv, const char *key)
{
	const char *v = ob_kv_get(kv, key);

	if (!v || strlen(v) >= size)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int get_key32(uint8_t out[32], const ob_kv *kv, const char *key)
{
	uint8_t *b = NULL;
	size_t n;

	if (ob_kv_get_b64(&b, &n, kv, key, 32) < 0)
		return -1;
	memcpy(out, b, 32);
	free(b);
	return 0;
}

static int b64_len_ok(const ob_kv *kv, const char *key, size_t want, size_t min)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int ok = ob_kv_get_b64(&b, &n, kv, key, want) == 0 && n >= min;

	free(b);
	return ok;
}

int ob_server_key_parse(ob_server_key_record *out, const char *text, size_t len)
{
	ob_kv kv;
	const char *kdf, *cipher;
	int64_t n, r, p;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = ob_kv_parse(&kv, text, len)) < 0)
		return error;
	error = OB_ECORRUPT;
	kdf = ob_kv_get(&kv, "kdf");
	cipher = ob_kv_get(&kv, "cipher");
	if (strcmp(kv.kind, "server-key") != 0 || (kv.version != 1 && kv.version != 2) || !kdf ||
	    strcmp(kdf, "scrypt") != 0 || !cipher || strcmp(cipher, "aes-256-gcm") != 0 ||
	    ob_kv_get_i64(&n, &kv, "kdf_log2_n") < 0 || ob_kv_get_i64(&r, &kv, "kdf_r") < 0 ||
	    ob_kv_get_i64(&p, &kv, "kdf_p") < 0 || n < 0 || n > 64 || r < 0 || r > 64 || p < 0 || p > 64 ||
	    !b64_len_ok(&kv, "salt", 0, 8) || !b64_len_ok(&kv, "nonce", OB_AEAD_NONCE_BYTES, 0) ||
	    !b64_len_ok(&kv, "wrapped_key", OB_MASTER_KEY_BYTES + OB_AEAD_TAG_BYTES, 0))
		goto done;
	out->version = kv.version;
	out->kdf.log2_n = (int)n;
	out->kdf.r = (int)r;
	out->kdf.p = (int)p;
	if (kv.version == 2 &&
	    (ob_kv_get_i64(&out->sequence, &kv, "sequence") < 0 || out->sequence < FIRST_SEQ || out->sequence > MAX_SEQ ||
	     copy_field(out->vault_id, sizeof(out->vault_id), &kv, "vault_id") < 0 ||
	     copy_field(out->server_id, sizeof(out->server_id), &kv, "server_id") < 0 ||
	     get_key32(out->signing_key, &kv, "signing_key") < 0 || !ob_kv_get(&kv, "signature")))
		goto done;
	error = 0;
done:
	ob_kv_dispose(&kv);
	if (error < 0) {
		memset(out, 0, sizeof(*out));
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The key record is malformed.");
	}
	return 0;
}

static void key_name(char *out, size_t size, const char *server_id, int64_t seq)
{
	snprintf(out, size, OB_PREFIX_SERVERS "%s/keys/%010lld", server_id, (long long)seq);
}

static int kdf_is_ours(const ob_kdf_params *k)
{
	return k->log2_n == OB_KDF_PASSPHRASE.log2_n && k->r == OB_KDF_PASSPHRASE.r && k->p == OB_KDF_PASSPHRASE.p;
}

/*
 * A version 2 record in its place, signed by pub: its fields name this vault,
 * server and sequence (so a copy moved to another name fails here, not after
 * scrypt) and its signature verifies. Leaves an error message when not.
 */
static int v2_genuine(const ob_server_key_record *k, const char *text, size_t len, const uint8_t pub[32],
	ob_vault_conn *vc, const char *server_id, int64_t seq)
{
	if (k->version != 2)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "it is a version 1 record, which carries no signature.");
	if (k->sequence != seq || strcmp(k->vault_id, vc->id) != 0 || strcmp(k->server_id, server_id) != 0)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "it names another vault, server or sequence (a copy moved here).");
	if (ob_ct_compare(k->signing_key, pub, 32) != 0)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "it names another signing key than the server's.");
	if (ob_record_verify(pub, text, len) < 0)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "its signature does not verify with the server's signing key.");
	return 0;
}

/* ---- the signer record ---- */

int ob_server_signer_parse(ob_server_anchor *out, char server_id[40], char vault_id[40], const char *text,
	size_t len)
{
	ob_kv kv;
	const char *hex;
	int error = OB_ECORRUPT;

	memset(out, 0, sizeof(*out));
	if (ob_kv_parse(&kv, text, len) < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The signer record is malformed.");
	if (strcmp(kv.kind, "signer") != 0 || kv.version != 1 || copy_field(server_id, 40, &kv, "server") < 0 ||
	    copy_field(vault_id, 40, &kv, "vault") < 0 || get_key32(out->pub, &kv, "signing_key") < 0 ||
	    !ob_kv_get(&kv, "signature"))
		goto done;
	if ((hex = ob_kv_get(&kv, "key_sha256")) != NULL) {
		size_t i;
		if (strlen(hex) != 64 || ob_kv_get_i64(&out->key_sequence, &kv, "key_sequence") < 0 ||
		    out->key_sequence < FIRST_SEQ || out->key_sequence > MAX_SEQ)
			goto done;
		for (i = 0; i < 32; i++) {
			unsigned int byte;
			if (sscanf(hex + 2 * i, "%2x", &byte) != 1 || !strchr("0123456789abcdef", hex[2 * i]) ||
			    !strchr("0123456789abcdef", hex[2 * i + 1]))
				goto done;
			out->key_sha256[i] = (uint8_t)byte;
		}
	}
	out->found = 1;
	out->from_signer = 1;
	error = 0;
done:
	ob_kv_dispose(&kv);
	if (error < 0) {
		memset(out, 0, sizeof(*out));
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The signer record is malformed.");
	}
	return 0;
}

static void signer_name(char *out, size_t size, const char *server_id)
{
	snprintf(out, size, OB_PREFIX_SERVERS "%s/signer", server_id);
}

/* The owner's signer record, when one is there and genuine (*out found 0 otherwise). */
static int signer_read(ob_server_anchor *out, int *present, ob_vault_conn *vc, const char *server_id, ob_warn_fn fn,
	void *payload)
{
	char name[128], sid[40], vid[40], *text = NULL;
	size_t len;
	int error;

	memset(out, 0, sizeof(*out));
	*present = 0;
	signer_name(name, sizeof(name), server_id);
	if ((error = read_optional(&text, &len, vc, name)) < 0 || !text)
		return error;
	*present = 1;
	if (ob_server_signer_parse(out, sid, vid, text, len) < 0) {
		warn_last(fn, payload, name, "ignored: ");
	} else if (strcmp(sid, server_id) != 0 || strcmp(vid, vc->id) != 0) {
		memset(out, 0, sizeof(*out));
		warn(fn, payload, name, "ignored: it names another server or vault.");
	} else if (ob_record_verify(vc->owner_public, text, len) < 0) {
		memset(out, 0, sizeof(*out));
		ob_error_clear();
		warn(fn, payload, name, "ignored: it is not signed by the vault owner.");
	}
	free(text);
	return 0;
}

int ob_server_anchor_find(ob_server_anchor *out, ob_vault_conn *vc, const char *server_id, ob_warn_fn fn,
	void *payload)
{
	char name[128], *text = NULL;
	size_t len;
	ob_server_key_record k;
	int error, present;

	memset(out, 0, sizeof(*out));
	key_name(name, sizeof(name), server_id, FIRST_SEQ);
	if ((error = read_optional(&text, &len, vc, name)) < 0)
		return error;
	if (text && ob_server_key_parse(&k, text, len) == 0 && k.version == 2) {
		if (v2_genuine(&k, text, len, k.signing_key, vc, server_id, FIRST_SEQ) == 0) {
			out->found = 1;
			memcpy(out->pub, k.signing_key, 32);
			free(text);
			return 0;
		}
		warn_last(fn, payload, name, "not taken as the server's first key record: ");
	}
	ob_error_clear();
	free(text);
	return signer_read(out, &present, vc, server_id, fn, payload);
}

int ob_server_anchor_public(uint8_t pub[OB_SIGN_PUBLIC_BYTES], ob_vault_conn *vc, const char *server_id)
{
	ob_server_anchor a;
	int error;

	if ((error = ob_server_anchor_find(&a, vc, server_id, ob_warn_stderr, NULL)) < 0)
		return error;
	if (!a.found)
		return OB_ENOTFOUND;
	memcpy(pub, a.pub, 32);
	return 0;
}

/* ---- listing key records ---- */

static int seq_parse(int64_t *out, const char *s)
{
	size_t i;

	if (strlen(s) != 10)
		return -1;
	for (i = 0; i < 10; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	return ob_parse_i64(out, s) == 0 && *out >= FIRST_SEQ ? 0 : -1;
}

static int cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The sequences of the keys/<seq> names, newest first (*out malloc'd). */
static int key_seqs(int64_t **out, size_t *out_n, ob_vault_conn *vc, const char *server_id)
{
	char prefix[96];
	ob_name_list l;
	int64_t *v;
	size_t i, n = 0;
	int error;

	*out = NULL;
	*out_n = 0;
	snprintf(prefix, sizeof(prefix), OB_PREFIX_SERVERS "%s/keys/", server_id);
	if ((error = ob_vault_list_names(&l, vc->be, prefix, strlen(prefix))) < 0)
		return error;
	if (!(v = malloc((l.n ? l.n : 1) * sizeof(*v)))) {
		ob_name_list_dispose(&l);
		return ob_err_nomem();
	}
	for (i = 0; i < l.n; i++)
		if (seq_parse(&v[n], l.v[i]) == 0)
			n++;
	ob_name_list_dispose(&l);
	qsort(v, n, sizeof(*v), cmp_desc);
	*out = v;
	*out_n = n;
	return 0;
}

int ob_server_key_exists(int *out, ob_vault_conn *vc, const char *server_id)
{
	int64_t *v;
	size_t n;
	int error;

	*out = 0;
	if ((error = key_seqs(&v, &n, vc, server_id)) < 0)
		return error;
	*out = n > 0;
	free(v);
	return 0;
}

/* ---- opening the key ---- */

/*
 * Whether to try a record with the passphrase (1), skip it (0, with the reason
 * as the last error), and whether it is known genuine (then a passphrase that
 * does not open it is simply wrong: the search ends).
 */
static int candidate(int *genuine, const ob_server_key_record *k, const char *text, size_t len,
	const ob_server_anchor *a, ob_vault_conn *vc, const char *server_id, int64_t seq)
{
	*genuine = 0;
	if (a->found && k->version == 2) {
		if (v2_genuine(k, text, len, a->pub, vc, server_id, seq) < 0)
			return 0;
		*genuine = 1;
		return 1;
	}
	if (a->found && !a->from_signer) {
		ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "it is a version 1 record in an area whose first key record is signed.");
		return 0;
	}
	if (a->found && a->key_sequence) {
		/* The owner vouched for one version 1 wrap: the one the server's agent had its key from. */
		uint8_t digest[32];
		ob_sha256(digest, text, len);
		if (seq != a->key_sequence || ob_ct_compare(digest, a->key_sha256, 32) != 0) {
			ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "it is a version 1 record that the owner's signer record does not name.");
			return 0;
		}
		*genuine = 1;
		return 1;
	}
	/* No way to tell (a legacy area): try it, but never with a cost this agent would not choose. */
	if (!kdf_is_ours(&k->kdf)) {
		ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "its scrypt parameters (N=2^%d, r=%d, p=%d) are not the ones obagent writes; "
			"not tried.", k->kdf.log2_n, k->kdf.r, k->kdf.p);
		return 0;
	}
	if (k->version == 2 && v2_genuine(k, text, len, k->signing_key, vc, server_id, seq) < 0)
		return 0;
	return 1;
}

int ob_server_key_open(uint8_t master[OB_MASTER_KEY_BYTES], int64_t *out_seq, ob_server_key_info *info,
	ob_vault_conn *vc, const char *server_id, const uint8_t *passphrase, size_t passphrase_len, ob_warn_fn fn,
	void *payload)
{
	ob_server_anchor a;
	ob_server_key_info local = { 0 };
	int64_t *seqs = NULL, *failed = NULL;
	size_t n = 0, i, nfailed = 0;
	int error;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	if ((error = key_seqs(&seqs, &n, vc, server_id)) < 0)
		return error;
	info->records = n;
	if (n == 0) {
		free(seqs);
		return OB_ENOTFOUND;
	}
	if ((error = ob_server_anchor_find(&a, vc, server_id, fn, payload)) < 0)
		goto done;
	info->anchored = a.found;
	if (!(failed = malloc(n * sizeof(*failed)))) {
		error = ob_err_nomem();
		goto done;
	}
	error = OB_EPASSPHRASE;
	for (i = 0; i < n; i++) {
		char name[128], aad[256], *text = NULL;
		size_t len;
		ob_server_key_record k;
		uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
		int genuine, rc;

		key_name(name, sizeof(name), server_id, seqs[i]);
		if ((rc = read_optional(&text, &len, vc, name)) < 0) {
			error = rc;
			goto done;
		}
		if (!text)
			continue;
		if (ob_server_key_parse(&k, text, len) < 0) {
			free(text);
			warn_last(fn, payload, name, "skipped: ");
			continue;
		}
		if (!candidate(&genuine, &k, text, len, &a, vc, server_id, seqs[i])) {
			free(text);
			warn_last(fn, payload, name, "skipped without trying the passphrase: ");
			continue;
		}
		info->tried++;
		snprintf(aad, sizeof(aad), KEY_AAD_FMT, vc->id, server_id, (long long)seqs[i]);
		rc = ob_key_unwrap(master, text, len, passphrase, passphrase_len, aad);
		free(text);
		if (rc == OB_EPASSPHRASE && genuine) {
			/* The newest genuine wrap is the key: an older passphrase does not open it. */
			ob_error_clear();
			break;
		}
		if (rc == OB_EPASSPHRASE) {
			ob_error_clear();
			failed[nfailed++] = seqs[i];
			continue;
		}
		if (rc < 0) {
			warn_last(fn, payload, name, "skipped: ");
			continue;
		}
		if ((rc = ob_server_sign_key(priv, pub, master)) < 0) {
			ob_wipe(master, OB_MASTER_KEY_BYTES);
			error = rc;
			goto done;
		}
		ob_wipe(priv, sizeof(priv));
		if ((a.found && ob_ct_compare(pub, a.pub, 32) != 0) ||
		    (!a.found && k.version == 2 && ob_ct_compare(pub, k.signing_key, 32) != 0)) {
			ob_wipe(master, OB_MASTER_KEY_BYTES);
			warn(fn, payload, name, "skipped: it opens with the passphrase, but to another key than the server's "
				"(its signing key does not match).");
			if (genuine)
				break;
			continue;
		}
		if (out_seq)
			*out_seq = seqs[i];
		error = 0;
		break;
	}
	if (error == 0) {
		/* Newer records that the passphrase that opened an older one does not open: changed or forged. */
		for (i = 0; i < nfailed; i++) {
			char name[128];
			key_name(name, sizeof(name), server_id, failed[i]);
			warn(fn, payload, name, "skipped: it does not open with the passphrase that opens an older key record "
				"of this server (changed or forged).");
		}
	} else if (error == OB_EPASSPHRASE) {
		error = ob_err(OB_EPASSPHRASE, OB_ERRCLASS_CRYPTO,
			"The passphrase does not open this server's key. Give the passphrase last set for this server.");
	}
done:
	free(seqs);
	free(failed);
	return error;
}

/* ---- writing ---- */

int ob_server_key_next_seq(int64_t *out, ob_vault_conn *vc, const char *server_id,
	const uint8_t master[OB_MASTER_KEY_BYTES], int64_t known)
{
	uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	int64_t *seqs = NULL, highest = known > 0 ? known : 0, next;
	size_t n = 0, i;
	int error;

	if ((error = ob_server_sign_key(priv, pub, master)) < 0)
		return error;
	ob_wipe(priv, sizeof(priv));
	if ((error = key_seqs(&seqs, &n, vc, server_id)) < 0)
		return error;
	/* Newest first: the first genuine one above what is known is the highest. */
	for (i = 0; i < n && seqs[i] > highest; i++) {
		char name[128], *text = NULL;
		size_t len;
		ob_server_key_record k;
		key_name(name, sizeof(name), server_id, seqs[i]);
		if ((error = read_optional(&text, &len, vc, name)) < 0)
			goto done;
		if (text && ob_server_key_parse(&k, text, len) == 0 &&
		    v2_genuine(&k, text, len, pub, vc, server_id, seqs[i]) == 0) {
			highest = seqs[i];
			free(text);
			break;
		}
		ob_error_clear();
		free(text);
	}
	/* The first name above it that nothing holds; seqs are sorted newest first. */
	next = highest + 1;
	for (i = n; i-- > 0;)
		if (seqs[i] == next)
			next++;
		else if (seqs[i] > next)
			break;
	if (next > MAX_SEQ) {
		error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "This server's key records have no free sequence number left.");
		goto done;
	}
	*out = next;
done:
	free(seqs);
	return error;
}

int ob_server_key_write(ob_vault_conn *vc, const char *server_id, int64_t seq, const uint8_t master[OB_MASTER_KEY_BYTES],
	const uint8_t *passphrase, size_t passphrase_len, int64_t now)
{
	uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	char name[128], aad[256], *pub64 = NULL;
	ob_buf rec = OB_BUF_INIT;
	int error;

	if ((error = ob_server_sign_key(priv, pub, master)) < 0)
		return error;
	key_name(name, sizeof(name), server_id, seq);
	snprintf(aad, sizeof(aad), KEY_AAD_FMT, vc->id, server_id, (long long)seq);
	if (!(pub64 = ob_base64_encode(pub, sizeof(pub)))) {
		error = ob_err_nomem();
		goto done;
	}
	if ((error = ob_kv_begin(&rec, "server-key", 2)) < 0 ||
	    (error = ob_kv_add(&rec, "vault_id", vc->id)) < 0 ||
	    (error = ob_kv_add(&rec, "server_id", server_id)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "sequence", seq)) < 0 ||
	    (error = ob_key_wrap_fields(&rec, master, passphrase, passphrase_len, aad, &OB_KDF_PASSPHRASE, now)) < 0 ||
	    (error = ob_kv_add(&rec, "signing_key", pub64)) < 0 ||
	    (error = ob_record_sign(&rec, priv)) < 0)
		goto done;
	error = vc->be->put(vc->be, name, rec.data, rec.len);
done:
	ob_wipe(priv, sizeof(priv));
	free(pub64);
	ob_buf_dispose(&rec);
	return error;
}

/* ---- the owner's certificate ---- */

/*
 * Sign the data sources the area's points name (their records open with the
 * master key, so they are genuine): the version 1 source records of a legacy
 * area no longer count once it has an anchor, and a forged one cannot be told
 * from a genuine one by anything but the points.
 */
static int sign_sources(ob_repo *r)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0, i;
	int error;

	if ((error = ob_repo_list_points(&pts, &n, r, OB_POINTS_DELETED)) < 0)
		return error;
	for (i = 0; i < n && error == 0; i++) {
		const char *names = pts[i]->datasources ? pts[i]->datasources : "";
		const char *ids = pts[i]->datasource_ids ? pts[i]->datasource_ids : "";
		while (*names && *ids && error == 0) {
			size_t nl = strcspn(names, "\n"), il = strcspn(ids, "\n");
			char name[4096], id[32];
			int64_t dsid;
			if (nl < sizeof(name) && il < sizeof(id)) {
				memcpy(name, names, nl);
				name[nl] = '\0';
				memcpy(id, ids, il);
				id[il] = '\0';
				if (ob_parse_i64(&dsid, id) == 0)
					error = ob_source_ensure(r, dsid, name, pts[i]->kind ? pts[i]->kind : "FileFolder");
			}
			names += nl + (names[nl] == '\n');
			ids += il + (ids[il] == '\n');
		}
	}
	for (i = 0; i < n; i++)
		ob_recovery_points_free_one(pts[i]);
	free(pts);
	return error;
}

int ob_server_signer_certify(ob_repo *r, const uint8_t owner_priv[OB_SIGN_PRIVATE_BYTES])
{
	ob_server_anchor a;
	uint8_t owner_pub[OB_SIGN_PUBLIC_BYTES];
	char name[128], *pub64 = NULL;
	ob_buf rec = OB_BUF_INIT;
	int error;

	if ((error = ob_sign_public(owner_pub, owner_priv)) < 0)
		return error;
	if (ob_ct_compare(owner_pub, r->vc.owner_public, 32) != 0)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "The key given is not the owner's key of vault '%s'.", r->vc.name);
	if ((error = ob_server_anchor_find(&a, &r->vc, r->server_id, ob_warn_stderr, NULL)) < 0)
		return error;
	if (a.found) {
		if (ob_ct_compare(a.pub, r->sign_public, 32) != 0)
			return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
				"The key records of server '%s' are anchored to another signing key than its master key's: "
				"its area holds another server's keys. Ask for support before deleting anything.", r->server_name);
		/* A run that wrote the signer and stopped before its sources: sign them now (each is written once). */
		return a.from_signer ? sign_sources(r) : 0;
	}
	if (!(pub64 = ob_base64_encode(r->sign_public, sizeof(r->sign_public))))
		return ob_err_nomem();
	if ((error = ob_kv_begin(&rec, "signer", 1)) < 0 ||
	    (error = ob_kv_add(&rec, "vault", r->vc.id)) < 0 ||
	    (error = ob_kv_add(&rec, "server", r->server_id)) < 0 ||
	    (error = ob_kv_add(&rec, "signing_key", pub64)) < 0)
		goto done;
	if (r->key_sequence > 0) {
		/* The version 1 wrap this agent's key came from: the one genuine wrap a reader may try. */
		char kname[128], *text = NULL, hex[65];
		size_t len;
		ob_server_key_record k;
		uint8_t digest[32];
		key_name(kname, sizeof(kname), r->server_id, r->key_sequence);
		if ((error = read_optional(&text, &len, &r->vc, kname)) < 0)
			goto done;
		if (text && ob_server_key_parse(&k, text, len) == 0 && k.version == 1) {
			ob_sha256(digest, text, len);
			ob_hex_encode(hex, digest, 32);
			if ((error = ob_kv_add_i64(&rec, "key_sequence", r->key_sequence)) < 0 ||
			    (error = ob_kv_add(&rec, "key_sha256", hex)) < 0) {
				free(text);
				goto done;
			}
		}
		ob_error_clear();
		free(text);
	}
	{
		int64_t now;
		if ((error = ob_clock_now(&now)) < 0 || (error = ob_kv_add_i64(&rec, "created", now)) < 0 ||
		    (error = ob_record_sign(&rec, owner_priv)) < 0)
			goto done;
	}
	signer_name(name, sizeof(name), r->server_id);
	error = r->vc.be->put(r->vc.be, name, rec.data, rec.len);
	if (error == OB_EEXISTS && (r->vc.be->capabilities(r->vc.be) & OB_BACKEND_CAP_DELETE)) {
		/* Not a valid signer (the anchor would be found): a forgery squats the name. */
		ob_error_clear();
		if ((error = r->vc.be->remove(r->vc.be, name)) == 0)
			error = r->vc.be->put(r->vc.be, name, rec.data, rec.len);
	}
	if (error == OB_EEXISTS)
		error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT,
			"Another object holds '%s', where the owner certifies server '%s': run maintenance with the vault owner's "
			"storage account key, which can remove it.", name, r->server_name);
	if (error == 0 && (error = sign_sources(r)) == 0)
		error = 1;
done:
	free(pub64);
	ob_buf_dispose(&rec);
	return error;
}

/* ---- data sources ---- */

int ob_source_parse(ob_source_record *out, const char *text, size_t len)
{
	ob_kv kv;
	const char *name, *kind;

	memset(out, 0, sizeof(*out));
	if (ob_kv_parse(&kv, text, len) < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The data source record is malformed.");
	name = ob_kv_get(&kv, "name");
	kind = ob_kv_get(&kv, "kind");
	if (strcmp(kv.kind, "source") != 0 || (kv.version != 1 && kv.version != 2) ||
	    ob_kv_get_i64(&out->id, &kv, "id") < 0 || !name || (kv.version == 2 && (!kind || !ob_kv_get(&kv, "signature")))) {
		ob_kv_dispose(&kv);
		memset(out, 0, sizeof(*out));
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The data source record is malformed.");
	}
	out->version = kv.version;
	out->name = ob_strdup(name);
	out->kind = ob_strdup(kind ? kind : "FileFolder");
	ob_kv_dispose(&kv);
	if (!out->name || !out->kind) {
		ob_source_record_dispose(out);
		return ob_err_nomem();
	}
	return 0;
}

void ob_source_record_dispose(ob_source_record *s)
{
	free(s->name);
	free(s->kind);
	memset(s, 0, sizeof(*s));
}

void ob_source_records_free(ob_source_record *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		ob_source_record_dispose(&v[i]);
	free(v);
}

/*
 * The id a sources/ name stands for: "<id>" or "<id>-<16 hex>" (the form a
 * server writes when another object took the first). -1 for any other name.
 */
static int source_name_id(int64_t *out, const char *name)
{
	const char *dash = strchr(name, '-');
	char digits[24];
	size_t n = dash ? (size_t)(dash - name) : strlen(name), i;

	if (n == 0 || n >= sizeof(digits))
		return -1;
	for (i = 0; i < n; i++)
		if (name[i] < '0' || name[i] > '9')
			return -1;
	if (dash) {
		if (strlen(dash + 1) != 16)
			return -1;
		for (i = 1; i <= 16; i++)
			if (!strchr("0123456789abcdef", dash[i]))
				return -1;
	}
	memcpy(digits, name, n);
	digits[n] = '\0';
	return ob_parse_i64(out, digits) == 0 ? 0 : -1;
}

/* A source record at name that is genuine for pub (signed, version 2, its id the name's). */
static int source_genuine(ob_source_record *out, const char *text, size_t len, const char *leaf,
	const uint8_t *pub)
{
	int64_t id;

	if (source_name_id(&id, leaf) < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "its name is not a data source's.");
	if (ob_source_parse(out, text, len) < 0)
		return OB_ECORRUPT;
	if (out->id != id) {
		ob_source_record_dispose(out);
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "it names another data source than its name.");
	}
	if (pub && (out->version != 2 || ob_record_verify(pub, text, len) < 0)) {
		ob_source_record_dispose(out);
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "it is not signed by the server's signing key.");
	}
	return 0;
}

int ob_source_ensure(const ob_repo *r, int64_t id, const char *name, const char *kind)
{
	ob_vault_conn *vc = (ob_vault_conn *)&r->vc;
	char obj[192], leaf[64], prefix[160], *text = NULL;
	ob_buf rec = OB_BUF_INIT;
	ob_source_record s;
	ob_name_list l = { 0 };
	size_t len, i;
	int error;

	snprintf(leaf, sizeof(leaf), "%lld", (long long)id);
	snprintf(obj, sizeof(obj), "%ssources/%s", r->prefix, leaf);
	if ((error = ob_kv_begin(&rec, "source", 2)) < 0 || (error = ob_kv_add_i64(&rec, "id", id)) < 0 ||
	    (error = ob_kv_add(&rec, "name", name)) < 0 || (error = ob_kv_add(&rec, "kind", kind)) < 0 ||
	    (error = ob_record_sign(&rec, r->sign_private)) < 0)
		goto done;
	error = vc->be->put(vc->be, obj, rec.data, rec.len);
	if (error != OB_EEXISTS)
		goto done;
	/* Someone wrote the name: this server (an earlier backup), or anyone (a forgery). */
	ob_error_clear();
	if ((error = read_optional(&text, &len, vc, obj)) < 0)
		goto done;
	if (text && source_genuine(&s, text, len, leaf, r->sign_public) == 0) {
		ob_source_record_dispose(&s);
		goto done;
	}
	ob_error_clear();
	snprintf(prefix, sizeof(prefix), "%ssources/%s-", r->prefix, leaf);
	if ((error = ob_vault_list_names(&l, vc->be, prefix, strlen(r->prefix) + strlen("sources/"))) < 0)
		goto done;
	for (i = 0; i < l.n; i++) {
		char full[192], *t = NULL;
		size_t tl;
		snprintf(full, sizeof(full), "%ssources/%s", r->prefix, l.v[i]);
		if ((error = read_optional(&t, &tl, vc, full)) < 0)
			goto done;
		if (t && source_genuine(&s, t, tl, l.v[i], r->sign_public) == 0) {
			ob_source_record_dispose(&s);
			free(t);
			goto done;
		}
		ob_error_clear();
		free(t);
	}
	{
		uint8_t rnd[8];
		char hex[17];
		if ((error = ob_random(rnd, sizeof(rnd))) < 0)
			goto done;
		ob_hex_encode(hex, rnd, sizeof(rnd));
		snprintf(obj, sizeof(obj), "%ssources/%s-%s", r->prefix, leaf, hex);
		error = vc->be->put(vc->be, obj, rec.data, rec.len);
	}
done:
	free(text);
	ob_name_list_dispose(&l);
	ob_buf_dispose(&rec);
	return error;
}

int ob_source_list(ob_source_record **out, size_t *out_count, ob_vault_conn *vc, const char *server_id,
	ob_warn_fn fn, void *payload)
{
	ob_server_anchor a;
	ob_name_list l = { 0 };
	ob_source_record *v = NULL;
	char prefix[96];
	size_t n = 0, i, j;
	int error;

	*out = NULL;
	*out_count = 0;
	if ((error = ob_server_anchor_find(&a, vc, server_id, fn, payload)) < 0)
		return error;
	snprintf(prefix, sizeof(prefix), OB_PREFIX_SERVERS "%s/sources/", server_id);
	if ((error = ob_vault_list_names(&l, vc->be, prefix, strlen(prefix))) < 0)
		return error;
	if (!(v = calloc(l.n ? l.n : 1, sizeof(*v)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		char full[192], *text = NULL;
		size_t len;
		ob_source_record s;
		snprintf(full, sizeof(full), "%s%s", prefix, l.v[i]);
		if ((error = read_optional(&text, &len, vc, full)) < 0)
			goto done;
		if (!text)
			continue;
		error = source_genuine(&s, text, len, l.v[i], a.found ? a.pub : NULL);
		free(text);
		if (error < 0) {
			error = 0;
			warn_last(fn, payload, full, "ignored: ");
			continue;
		}
		/* One per id; a signed record wins over an unsigned one (a legacy area). */
		for (j = 0; j < n && v[j].id != s.id; j++)
			;
		if (j < n) {
			if (v[j].version < s.version) {
				ob_source_record_dispose(&v[j]);
				v[j] = s;
			} else {
				ob_source_record_dispose(&s);
			}
			continue;
		}
		v[n++] = s;
	}
	*out = v;
	*out_count = n;
	v = NULL;
done:
	ob_source_records_free(v, n);
	ob_name_list_dispose(&l);
	return error;
}
