/* One server's area of a vault: keys, sealed blobs and objects, packs, index objects. */
#include "vault/repo.h"
#include "util/error.h"
#include "util/idset.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#define BLOB_RAW 0
#define BLOB_ZLIB 1
#define PACK_MAGIC "OBPK"
#define INDEX_MAGIC "OBIX"
#define PACK_HEADER_AAD "obagent-pack-header-v1"
#define INDEX_AAD "obagent-index-v1"
#define PACK_ENTRY_BYTES (1 + OB_ID_BYTES + 12)
#define INDEX_ENTRY_BYTES (PACK_ENTRY_BYTES + OB_ID_BYTES)

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void ob_id_hex(char out[65], const uint8_t id[OB_ID_BYTES])
{
	ob_hex_encode(out, id, OB_ID_BYTES);
}

int ob_id_parse(uint8_t id[OB_ID_BYTES], const char *hex)
{
	size_t i;

	if (!hex || strlen(hex) != 2 * OB_ID_BYTES)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not an id.", hex ? hex : "");
	for (i = 0; i < OB_ID_BYTES; i++) {
		unsigned int v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not an id.", hex);
		id[i] = (uint8_t)v;
	}
	return 0;
}

static int hkdf(uint8_t *out, size_t len, const uint8_t *key, size_t key_len, const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5], *q = p;
	int error = 0;

	EVP_KDF_free(kdf);
	if (!ctx)
		return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "HKDF is not available in OpenSSL.");
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)"obagent", 7);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, len, p) <= 0)
		error = ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "HKDF key derivation failed.");
	EVP_KDF_CTX_free(ctx);
	return error;
}

int ob_server_sign_key(uint8_t priv[OB_SIGN_PRIVATE_BYTES], uint8_t pub[OB_SIGN_PUBLIC_BYTES],
	const uint8_t master[OB_MASTER_KEY_BYTES])
{
	int error;

	if ((error = hkdf(priv, OB_SIGN_PRIVATE_BYTES, master, OB_MASTER_KEY_BYTES, "obagent signing key")) < 0 ||
	    (error = ob_sign_public(pub, priv)) < 0)
		ob_wipe(priv, OB_SIGN_PRIVATE_BYTES);
	return error;
}

int ob_repo_open_key(ob_repo *r, const char *location, const char *server_id, const char *server_name,
	const uint8_t master[OB_MASTER_KEY_BYTES])
{
	uint8_t seed[32];
	int error;

	memset(r, 0, sizeof(*r));
	if ((error = ob_vault_conn_open(&r->vc, location)) < 0)
		return error;
	snprintf(r->server_id, sizeof(r->server_id), "%s", server_id);
	snprintf(r->prefix, sizeof(r->prefix), OB_PREFIX_SERVERS "%s/", server_id);
	if (!(r->server_name = ob_strdup(server_name))) {
		error = OB_ENOMEM;
		goto fail;
	}
	if ((error = hkdf(r->enc_key, sizeof(r->enc_key), master, OB_MASTER_KEY_BYTES, "obagent encryption key")) < 0 ||
	    (error = hkdf(r->id_key, sizeof(r->id_key), master, OB_MASTER_KEY_BYTES, "obagent id key")) < 0 ||
	    (error = hkdf(seed, sizeof(seed), master, OB_MASTER_KEY_BYTES, "obagent chunker seed")) < 0 ||
	    (error = ob_server_sign_key(r->sign_private, r->sign_public, master)) < 0)
		goto fail;
	ob_chunker_init(&r->chunker, seed, OB_CHUNK_MIN, OB_CHUNK_AVG, OB_CHUNK_MAX);
	ob_wipe(seed, sizeof(seed));
	return 0;
fail:
	ob_repo_dispose(r);
	return error;
}

static void skips_free(struct ob_repo_skips *k);

void ob_repo_dispose(ob_repo *r)
{
	skips_free(r->skipped);
	ob_vault_conn_dispose(&r->vc);
	free(r->server_name);
	ob_wipe(r, sizeof(*r));
}

void ob_repo_blob_id(uint8_t id[OB_ID_BYTES], const ob_repo *r, const void *data, size_t len)
{
	ob_hmac_sha256(id, r->id_key, sizeof(r->id_key), data, len);
}

void ob_compressor_dispose(ob_compressor *c)
{
	libdeflate_free_compressor(c->z);
	free(c->scratch);
	memset(c, 0, sizeof(*c));
}

/*
 * Are the bytes close to uniform (random or already compressed data), so that
 * deflate would spend its time for nothing? The collision entropy of the byte
 * histogram, -log2(sum(c^2) / n^2), above 7 bits says so: uniform bytes give 7.6
 * (n = 512) to 8, text 4 to 5.5. Counting costs about 1/40 of deflating.
 */
static int looks_random(const uint8_t *data, size_t len)
{
	uint32_t count[256] = { 0 };
	uint64_t sum = 0;
	size_t i;

	if (len < 512)
		return 0;
	for (i = 0; i < len; i++)
		count[data[i]]++;
	for (i = 0; i < 256; i++)
		sum += (uint64_t)count[i] * count[i];
	return sum * 128 < (uint64_t)len * len;
}

static int scratch_reserve(ob_compressor *c, size_t need)
{
	if (need <= c->scratch_cap)
		return 0;
	free(c->scratch);
	if (!(c->scratch = malloc(need))) {
		c->scratch_cap = 0;
		return -1;
	}
	c->scratch_cap = need;
	return 0;
}

/*
 * Compress into c->scratch; returns the compressed size, or 0 when it does not pay:
 * when it would not save 1/32 (the output would not fit in that much room), or
 * when the bytes look random (small chunks) or a 16 KiB probe of the start does
 * not shrink by 1/16 (large ones: random or already compressed data).
 */
static size_t try_compress(ob_compressor *c, const uint8_t *data, size_t len)
{
	const size_t probe = 16384;

	if (len < 64)
		return 0;
	if (len <= 4 * probe && looks_random(data, len))
		return 0;
	if (!c->z && !(c->z = libdeflate_alloc_compressor(1)))
		return 0;
	if (scratch_reserve(c, len < 65536 ? 65536 : len) < 0)
		return 0;
	if (len > 4 * probe && libdeflate_zlib_compress(c->z, data, probe, c->scratch, probe * 15 / 16) == 0)
		return 0;
	return libdeflate_zlib_compress(c->z, data, len, c->scratch, len - len / 32 - 1);
}

static void blob_aad(uint8_t aad[1 + OB_ID_BYTES], int type, const uint8_t id[OB_ID_BYTES])
{
	aad[0] = (uint8_t)type;
	memcpy(aad + 1, id, OB_ID_BYTES);
}

int ob_blob_seal(uint8_t *out, size_t *out_len, const ob_repo *r, ob_compressor *c, int type,
	const uint8_t id[OB_ID_BYTES], const uint8_t *data, size_t len)
{
	uint8_t aad[1 + OB_ID_BYTES], flag;
	size_t zlen = c ? try_compress(c, data, len) : 0, plen = zlen ? zlen : len;
	int error;

	/* The plaintext is a flag byte and the payload, sealed after the nonce, without a copy. */
	flag = zlen ? BLOB_ZLIB : BLOB_RAW;
	blob_aad(aad, type, id);
	if ((error = ob_random(out, OB_AEAD_NONCE_BYTES)) == 0 &&
	    (error = ob_aead_seal2(out + OB_AEAD_NONCE_BYTES, r->enc_key, out, aad, sizeof(aad), &flag, 1,
		zlen ? c->scratch : data, plen)) == 0)
		*out_len = OB_AEAD_NONCE_BYTES + 1 + plen + OB_AEAD_TAG_BYTES;
	return error;
}

int ob_blob_open(uint8_t **out, size_t *out_len, const ob_repo *r, int type, const uint8_t id[OB_ID_BYTES],
	const uint8_t *sealed, size_t sealed_len, size_t raw_len)
{
	uint8_t aad[1 + OB_ID_BYTES], flag = 0xff, *zbuf = NULL, *data = NULL, check[OB_ID_BYTES];
	size_t plen;
	char hex[65];
	int error, raw;

	*out = NULL;
	*out_len = 0;
	ob_id_hex(hex, id);
	if (sealed_len < OB_BLOB_OVERHEAD)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Blob %.16s is truncated.", hex);
	plen = sealed_len - OB_AEAD_NONCE_BYTES - OB_AEAD_TAG_BYTES - 1;   /* the payload, after the flag */
	if (plen > raw_len)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Blob %.16s has the wrong size.", hex);
	/*
	 * A payload as long as the data is stored raw (the writer compresses only when
	 * it saves): it is decrypted straight into the result, with no copy.
	 */
	raw = plen == raw_len;
	if (!(data = malloc(raw_len ? raw_len : 1)) || (!raw && !(zbuf = malloc(plen ? plen : 1)))) {
		error = ob_err_nomem();
		goto done;
	}
	blob_aad(aad, type, id);
	if (ob_aead_open2(&flag, 1, raw ? data : zbuf, r->enc_key, sealed, aad, sizeof(aad),
		sealed + OB_AEAD_NONCE_BYTES, sealed_len - OB_AEAD_NONCE_BYTES) < 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Blob %.16s fails authentication: the vault data was changed or damaged.", hex);
		goto done;
	}
	if (flag == BLOB_RAW) {
		if (!raw) {
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Blob %.16s has the wrong size.", hex);
			goto done;
		}
	} else if (flag == BLOB_ZLIB && !raw) {
		struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
		size_t got = 0;
		enum libdeflate_result res;
		if (!d) {
			error = ob_err_nomem();
			goto done;
		}
		res = libdeflate_zlib_decompress(d, zbuf, plen, data, raw_len, &got);
		libdeflate_free_decompressor(d);
		if (res != LIBDEFLATE_SUCCESS || got != raw_len) {
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Blob %.16s does not decompress.", hex);
			goto done;
		}
	} else {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Blob %.16s has an unknown encoding.", hex);
		goto done;
	}
	ob_repo_blob_id(check, r, data, raw_len);
	if (ob_ct_compare(check, id, OB_ID_BYTES) != 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Blob %.16s does not match its id.", hex);
		goto done;
	}
	*out = data;
	*out_len = raw_len;
	data = NULL;
	error = 0;
done:
	free(zbuf);
	free(data);
	return error;
}

int ob_object_seal(ob_buf *out, const ob_repo *r, const char *aad, const void *data, size_t len)
{
	int error;

	if ((error = ob_buf_grow(out, OB_AEAD_NONCE_BYTES + len + OB_AEAD_TAG_BYTES)) < 0)
		return error;
	uint8_t *p = (uint8_t *)out->data + out->len;
	if ((error = ob_random(p, OB_AEAD_NONCE_BYTES)) < 0 ||
	    (error = ob_aead_seal(p + OB_AEAD_NONCE_BYTES, r->enc_key, p, aad, strlen(aad), data, len)) < 0)
		return error;
	out->len += OB_AEAD_NONCE_BYTES + len + OB_AEAD_TAG_BYTES;
	out->data[out->len] = '\0';
	return 0;
}

int ob_object_open(uint8_t **out, size_t *out_len, const ob_repo *r, const char *aad, const uint8_t *sealed, size_t len)
{
	uint8_t *plain;
	size_t plen;

	*out = NULL;
	*out_len = 0;
	if (len < OB_AEAD_NONCE_BYTES + OB_AEAD_TAG_BYTES)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Vault object is truncated.");
	plen = len - OB_AEAD_NONCE_BYTES - OB_AEAD_TAG_BYTES;
	if (!(plain = malloc(plen + 1)))
		return ob_err_nomem();
	if (ob_aead_open(plain, r->enc_key, sealed, aad, strlen(aad), sealed + OB_AEAD_NONCE_BYTES,
		len - OB_AEAD_NONCE_BYTES) < 0) {
		free(plain);
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT,
			"Vault object fails authentication: it was changed or damaged, or belongs to another key.");
	}
	plain[plen] = 0;
	*out = plain;
	*out_len = plen;
	return 0;
}

/* ---- packs ---- */

int ob_packer_add(ob_packer *p, int type, const uint8_t id[OB_ID_BYTES], const uint8_t *sealed, size_t sealed_len,
	size_t raw_len)
{
	int error;

	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		ob_pack_entry *e = realloc(p->entries, cap * sizeof(*e));
		if (!e)
			return ob_err_nomem();
		p->entries = e;
		p->cap = cap;
	}
	if (p->data.len + sealed_len > UINT32_MAX)
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Pack too large.");
	ob_pack_entry *e = &p->entries[p->count];
	e->type = (uint8_t)type;
	memcpy(e->id, id, OB_ID_BYTES);
	e->offset = (uint32_t)p->data.len;
	e->length = (uint32_t)sealed_len;
	e->raw_length = (uint32_t)raw_len;
	if ((error = ob_buf_put(&p->data, sealed, sealed_len)) < 0)
		return error;
	p->count++;
	p->raw_bytes += raw_len;
	return 0;
}

static int entries_encode(ob_buf *out, const char *magic, const ob_pack_entry *e, const uint8_t (*packs)[OB_ID_BYTES],
	size_t count)
{
	uint8_t head[9], rec[INDEX_ENTRY_BYTES];
	size_t i, rlen = packs ? INDEX_ENTRY_BYTES : PACK_ENTRY_BYTES;
	int error;

	memcpy(head, magic, 4);
	head[4] = 1;
	put32(head + 5, (uint32_t)count);
	if ((error = ob_buf_put(out, head, sizeof(head))) < 0 || (error = ob_buf_grow(out, count * rlen)) < 0)
		return error;
	for (i = 0; i < count; i++) {
		rec[0] = e[i].type;
		memcpy(rec + 1, e[i].id, OB_ID_BYTES);
		put32(rec + 1 + OB_ID_BYTES, e[i].offset);
		put32(rec + 5 + OB_ID_BYTES, e[i].length);
		put32(rec + 9 + OB_ID_BYTES, e[i].raw_length);
		if (packs)
			memcpy(rec + PACK_ENTRY_BYTES, packs[i], OB_ID_BYTES);
		ob_buf_put(out, rec, rlen);
	}
	return 0;
}

/* Parse entries; with packs (index objects) each entry carries its pack id. */
static int entries_decode(ob_pack_entry *e, uint8_t (*packs)[OB_ID_BYTES], size_t *count, const char *magic,
	const uint8_t *data, size_t len, size_t max)
{
	size_t rlen = packs ? INDEX_ENTRY_BYTES : PACK_ENTRY_BYTES, n, i;

	if (len < 9 || memcmp(data, magic, 4) != 0 || data[4] != 1)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A %s header is malformed.", packs ? "index" : "pack");
	n = get32(data + 5);
	if (n > max || (len - 9) / rlen != n || (len - 9) % rlen != 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A %s header has the wrong length.", packs ? "index" : "pack");
	for (i = 0; i < n; i++) {
		const uint8_t *rec = data + 9 + i * rlen;
		e[i].type = rec[0];
		memcpy(e[i].id, rec + 1, OB_ID_BYTES);
		e[i].offset = get32(rec + 1 + OB_ID_BYTES);
		e[i].length = get32(rec + 5 + OB_ID_BYTES);
		e[i].raw_length = get32(rec + 9 + OB_ID_BYTES);
		if (packs)
			memcpy(packs[i], rec + PACK_ENTRY_BYTES, OB_ID_BYTES);
		if (e[i].type > OB_BLOB_TREE || e[i].length < OB_BLOB_OVERHEAD)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A %s entry is malformed.", packs ? "index" : "pack");
	}
	*count = n;
	return 0;
}

int ob_packer_finish(ob_packer *p, const ob_repo *r, uint8_t pack_id[OB_ID_BYTES])
{
	ob_buf header = OB_BUF_INIT, sealed = OB_BUF_INIT;
	uint8_t len4[4];
	int error;

	if ((error = entries_encode(&header, PACK_MAGIC, p->entries, NULL, p->count)) < 0 ||
	    (error = ob_object_seal(&sealed, r, PACK_HEADER_AAD, header.data, header.len)) < 0 ||
	    (error = ob_buf_put(&p->data, sealed.data, sealed.len)) < 0)
		goto done;
	put32(len4, (uint32_t)sealed.len);
	if ((error = ob_buf_put(&p->data, len4, 4)) < 0)
		goto done;
	ob_sha256(pack_id, p->data.data, p->data.len);
done:
	ob_buf_dispose(&header);
	ob_buf_dispose(&sealed);
	return error;
}

void ob_packer_dispose(ob_packer *p)
{
	free(p->data.data);
	free(p->entries);
	memset(p, 0, sizeof(*p));
}

void ob_repo_pack_name(char *out, size_t size, const ob_repo *r, const uint8_t pack_id[OB_ID_BYTES])
{
	char hex[65];

	ob_id_hex(hex, pack_id);
	snprintf(out, size, "%spacks/%.2s/%s", r->prefix, hex, hex);
}

int ob_pack_read_header(ob_pack_entry **out, size_t *out_count, const ob_repo *r, const uint8_t pack_id[OB_ID_BYTES])
{
	char name[160];
	uint64_t size;
	void *tail = NULL, *sealed = NULL;
	uint8_t *plain = NULL;
	size_t tail_len, sealed_len, plen;
	uint32_t hlen;
	int error;

	*out = NULL;
	*out_count = 0;
	ob_repo_pack_name(name, sizeof(name), r, pack_id);
	if ((error = r->vc.be->stat(&size, r->vc.be, name)) < 0)
		return error;
	if (size < 4 + OB_AEAD_NONCE_BYTES + OB_AEAD_TAG_BYTES + 9)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Pack %s is truncated.", name);
	if ((error = r->vc.be->get(&tail, &tail_len, r->vc.be, name, size - 4, 4)) < 0)
		return error;
	hlen = get32(tail);
	free(tail);
	if (hlen > size - 4 || hlen < OB_AEAD_NONCE_BYTES + OB_AEAD_TAG_BYTES + 9)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Pack %s has a bad header length.", name);
	if ((error = r->vc.be->get(&sealed, &sealed_len, r->vc.be, name, size - 4 - hlen, hlen)) < 0)
		return error;
	if ((error = ob_object_open(&plain, &plen, r, PACK_HEADER_AAD, sealed, sealed_len)) == 0)
		error = ob_pack_header_decode(out, out_count, plain, plen);
	free(plain);
	free(sealed);
	return error;
}

int ob_index_write(const ob_repo *r, const ob_index_entry *entries, size_t count, uint64_t *out_bytes)
{
	ob_buf plain = OB_BUF_INIT, sealed = OB_BUF_INIT;
	ob_pack_entry *e = malloc((count ? count : 1) * sizeof(*e));
	uint8_t (*packs)[OB_ID_BYTES] = malloc((count ? count : 1) * OB_ID_BYTES), digest[32];
	char name[160], hex[65];
	size_t i;
	int error;

	if (!e || !packs) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < count; i++) {
		e[i] = entries[i].blob;
		memcpy(packs[i], entries[i].pack, OB_ID_BYTES);
	}
	if ((error = entries_encode(&plain, INDEX_MAGIC, e, (const uint8_t (*)[OB_ID_BYTES])packs, count)) < 0 ||
	    (error = ob_object_seal(&sealed, r, INDEX_AAD, plain.data, plain.len)) < 0)
		goto done;
	ob_sha256(digest, sealed.data, sealed.len);
	ob_id_hex(hex, digest);
	snprintf(name, sizeof(name), "%sindex/%s", r->prefix, hex);
	error = r->vc.be->put(r->vc.be, name, sealed.data, sealed.len);
	if (error == OB_EEXISTS)
		error = 0;
	if (error == 0 && out_bytes)
		*out_bytes = sealed.len;
done:
	ob_buf_dispose(&plain);
	ob_buf_dispose(&sealed);
	free(e);
	free(packs);
	return error;
}

int ob_index_write_all(const ob_repo *r, const ob_index_entry *entries, size_t count)
{
	size_t at;
	int error = 0;

	for (at = 0; error == 0 && at < count; at += OB_INDEX_BATCH)
		error = ob_index_write(r, entries + at, count - at < OB_INDEX_BATCH ? count - at : OB_INDEX_BATCH, NULL);
	return error;
}

int ob_index_read(ob_index_entry **out, size_t *out_count, const ob_repo *r, const char *name)
{
	void *sealed = NULL;
	uint8_t *plain = NULL, digest[32];
	size_t sealed_len, plen;
	const char *base = strrchr(name, '/');
	char hex[65];
	int error;

	*out = NULL;
	*out_count = 0;
	if ((error = r->vc.be->get(&sealed, &sealed_len, r->vc.be, name, 0, 0)) < 0)
		return error;
	ob_sha256(digest, sealed, sealed_len);
	ob_id_hex(hex, digest);
	if (!base || strcmp(base + 1, hex) != 0)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Index object %s does not match its name.", name);
	else if ((error = ob_object_open(&plain, &plen, r, INDEX_AAD, sealed, sealed_len)) == 0)
		error = ob_index_decode(out, out_count, plain, plen);
	free(sealed);
	free(plain);
	return error;
}

int ob_index_decode(ob_index_entry **out, size_t *out_count, const uint8_t *plain, size_t len)
{
	size_t n = len >= 9 ? get32(plain + 5) : 0, count = 0, i;
	ob_pack_entry *e;
	uint8_t (*packs)[OB_ID_BYTES];
	ob_index_entry *result;
	int error;

	*out = NULL;
	*out_count = 0;
	if (n > len / INDEX_ENTRY_BYTES)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "An index header has the wrong length.");
	e = calloc(n ? n : 1, sizeof(*e));
	packs = calloc(n ? n : 1, OB_ID_BYTES);
	result = calloc(n ? n : 1, sizeof(*result));
	if (!e || !packs || !result) {
		error = ob_err_nomem();
		goto done;
	}
	if ((error = entries_decode(e, packs, &count, INDEX_MAGIC, plain, len, n)) < 0)
		goto done;
	for (i = 0; i < count; i++) {
		result[i].blob = e[i];
		memcpy(result[i].pack, packs[i], OB_ID_BYTES);
	}
	*out = result;
	*out_count = count;
	result = NULL;
done:
	free(e);
	free(packs);
	free(result);
	return error;
}

int ob_pack_header_decode(ob_pack_entry **out, size_t *out_count, const uint8_t *plain, size_t len)
{
	size_t n = len >= 9 ? get32(plain + 5) : 0;
	ob_pack_entry *e;
	int error;

	*out = NULL;
	*out_count = 0;
	if (n > len / PACK_ENTRY_BYTES)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A pack header has the wrong length.");
	if (!(e = calloc(n ? n : 1, sizeof(*e))))
		return ob_err_nomem();
	if ((error = entries_decode(e, NULL, out_count, PACK_MAGIC, plain, len, n)) < 0) {
		free(e);
		return error;
	}
	*out = e;
	return 0;
}

/* ---- objects readers skip ---- */

struct ob_repo_skips {
	ob_idset seen;          /* SHA-256 of every name noted */
	char **lines;           /* "name\twhy", not yet taken */
	size_t n, cap;
};

/* One lock for every repo's notes: they are rare, and a repo is plain data made without one. */
static pthread_mutex_t skip_lock = PTHREAD_MUTEX_INITIALIZER;

static void skips_free(struct ob_repo_skips *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		free(k->lines[i]);
	free(k->lines);
	ob_idset_dispose(&k->seen);
	free(k);
}

void ob_repo_skip(const ob_repo *r, const char *name, const char *why)
{
	struct ob_repo_skips *k;
	uint8_t digest[32];
	ob_buf line = OB_BUF_INIT;

	ob_sha256(digest, name, strlen(name));
	pthread_mutex_lock(&skip_lock);
	/* The notes are the repo's only mutable part; the repo itself is not const (it was opened). */
	if (!(k = r->skipped) && (k = calloc(1, sizeof(*k))) != NULL)
		((ob_repo *)r)->skipped = k;
	if (k && ob_idset_add(&k->seen, digest) == 1 && ob_buf_printf(&line, "%s\t%s", name, why ? why : "") == 0) {
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 8;
			char **v = realloc(k->lines, cap * sizeof(*v));
			if (v) {
				k->lines = v;
				k->cap = cap;
			}
		}
		if (k->n < k->cap) {
			k->lines[k->n++] = line.data;
			line.data = NULL;
		}
	}
	pthread_mutex_unlock(&skip_lock);
	ob_buf_dispose(&line);
}

int ob_repo_skip_to_stderr(const char *name, const char *why, void *payload)
{
	(void)payload;
	fprintf(stderr, "obagent: warning: %s: %s\n", name, why);
	return 0;
}

int ob_repo_skipped_take(const ob_repo *r, ob_repo_skip_cb cb, void *payload, size_t *out_count)
{
	char **lines = NULL;
	size_t n = 0, i;
	int rc = 0;

	pthread_mutex_lock(&skip_lock);
	if (r->skipped) {
		lines = r->skipped->lines;
		n = r->skipped->n;
		r->skipped->lines = NULL;
		r->skipped->n = r->skipped->cap = 0;
	}
	pthread_mutex_unlock(&skip_lock);
	if (out_count)
		*out_count = n;
	for (i = 0; i < n; i++) {
		char *tab = strchr(lines[i], '\t');
		if (tab)
			*tab++ = '\0';
		if (rc == 0 && cb)
			rc = cb(lines[i], tab ? tab : "", payload);
		free(lines[i]);
	}
	free(lines);
	return rc;
}

/* ---- records only the vault owner writes in an area ---- */

#define AREA_RECORD_VERSION 2

int ob_area_record_begin(ob_buf *rec, const ob_repo *r, const char *kind)
{
	int error;

	if ((error = ob_kv_begin(rec, kind, AREA_RECORD_VERSION)) == 0 &&
	    (error = ob_kv_add(rec, "server", r->server_id)) == 0)
		error = ob_kv_add(rec, "vault", r->vc.id ? r->vc.id : "");
	return error;
}

int ob_area_record_parse(ob_kv *kv, const char *text, size_t len, const char *kind,
	const uint8_t owner_public[OB_SIGN_PUBLIC_BYTES], const char *server_id, const char *vault_id)
{
	const char *server, *vault;
	int error;

	memset(kv, 0, sizeof(*kv));
	/* The signature first: nothing an agent wrote is parsed further. */
	if ((error = ob_record_verify(owner_public, text, len)) < 0)
		return ob_err(error == OB_EAUTH ? OB_EAUTH : OB_ECORRUPT, OB_ERRCLASS_VAULT,
			"it is not signed by the vault owner (%s)", error == OB_EAUTH ? "the signature does not verify" : "no valid signature");
	if ((error = ob_kv_parse(kv, text, len)) < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "it is not a valid record");
	server = ob_kv_get(kv, "server");
	vault = ob_kv_get(kv, "vault");
	if (strcmp(kv->kind, kind) != 0 || kv->version != AREA_RECORD_VERSION)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "it is not a %s record of version %d", kind, AREA_RECORD_VERSION);
	else if (!server || !vault || strcmp(server, server_id) != 0 || strcmp(vault, vault_id ? vault_id : "") != 0)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "it is a record of another server or vault");
	if (error < 0)
		ob_kv_dispose(kv);
	return error;
}

int ob_area_record_read(ob_kv *kv, const ob_repo *r, const char *name, const char *kind)
{
	void *text = NULL;
	size_t len = 0;
	int error;

	memset(kv, 0, sizeof(*kv));
	if ((error = r->vc.be->get(&text, &len, r->vc.be, name, 0, 0)) < 0)
		return error;
	error = ob_area_record_parse(kv, text, len, kind, r->vc.owner_public, r->server_id, r->vc.id);
	free(text);
	return error;
}

/* ---- the vault generation ---- */

static int generation_names(ob_name_list *l, const ob_repo *r, char *prefix, size_t size)
{
	snprintf(prefix, size, "%sgeneration/", r->prefix);
	return ob_vault_list_names(l, r->vc.be, prefix, strlen(prefix));
}

/*
 * The number a generation object's name holds (ten digits, "<N>" or "<N>.end");
 * -1 for anything else. *end (may be NULL) says which of the two.
 */
static int64_t generation_number(const char *name, int *end)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < 10; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	if (name[10] != '\0' && strcmp(name + 10, ".end") != 0)
		return -1;
	if (end)
		*end = name[10] != '\0';
	return v;
}

/*
 * Whether generation/<N>[.end] is genuine: owner-signed, of this area, its
 * "generation" N. Anything else (unsigned records of older versions, forgeries,
 * a record of another area copied in) is not: 0. An error reading it: < 0.
 */
static int generation_genuine(const ob_repo *r, uint64_t n, int end)
{
	char name[160];
	ob_kv kv;
	int64_t v = -1;
	int error;

	snprintf(name, sizeof(name), "%sgeneration/%010llu%s", r->prefix, (unsigned long long)n, end ? ".end" : "");
	if ((error = ob_area_record_read(&kv, r, name, end ? "generation-end" : "generation")) < 0) {
		if (error != OB_ECORRUPT && error != OB_EAUTH && error != OB_ENOTFOUND)
			return error;
		ob_error_clear();
		return 0;
	}
	ob_kv_get_i64(&v, &kv, "generation");
	ob_kv_dispose(&kv);
	ob_error_clear();
	return v >= 0 && (uint64_t)v == n;
}

static int by_number_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int ob_repo_generation(uint64_t *out, int *ended, const ob_repo *r)
{
	ob_name_list l = { 0 };
	char prefix[96];
	uint64_t *nums = NULL;
	size_t i, n = 0;
	int error;

	*out = 0;
	if (ended)
		*ended = 1;
	if ((error = generation_names(&l, r, prefix, sizeof(prefix))) < 0)
		return error;
	if (!(nums = malloc((l.n ? l.n : 1) * sizeof(*nums)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		int end = 0;
		int64_t v = generation_number(l.v[i], &end);
		if (v > 0 && !end)
			nums[n++] = (uint64_t)v;
	}
	/*
	 * Newest first, and the first genuine one is the generation: the objects
	 * read are the forgeries above it (maintenance removes them) and one more.
	 */
	qsort(nums, n, sizeof(*nums), by_number_desc);
	for (i = 0; i < n && error == 0; i++) {
		if ((error = generation_genuine(r, nums[i], 0)) < 0)
			break;
		if (error == 1) {
			*out = nums[i];
			error = 0;
			break;
		}
	}
	if (error == 0 && *out && ended) {
		if ((error = generation_genuine(r, *out, 1)) >= 0) {
			*ended = error;
			error = 0;
		}
	}
done:
	free(nums);
	ob_name_list_dispose(&l);
	return error;
}

static int generation_put(const ob_repo *r, const uint8_t owner_private[OB_SIGN_PRIVATE_BYTES], uint64_t n, int end,
	int64_t now)
{
	ob_buf rec = OB_BUF_INIT;
	char name[160];
	int error;

	snprintf(name, sizeof(name), "%sgeneration/%010llu%s", r->prefix, (unsigned long long)n, end ? ".end" : "");
	if ((error = ob_area_record_begin(&rec, r, end ? "generation-end" : "generation")) == 0 &&
	    (error = ob_kv_add_i64(&rec, "generation", (int64_t)n)) == 0 &&
	    (error = ob_kv_add_i64(&rec, "at", now)) == 0 &&
	    (error = ob_record_sign(&rec, owner_private)) == 0)
		error = r->vc.be->put(r->vc.be, name, rec.data, rec.len);
	ob_buf_dispose(&rec);
	return error;
}

int ob_repo_generation_end(const ob_repo *r, const uint8_t owner_private[OB_SIGN_PRIVATE_BYTES], uint64_t generation,
	int64_t now)
{
	int error = generation_put(r, owner_private, generation, 1, now);
	char name[160];

	if (error != OB_EEXISTS)
		return error;
	ob_error_clear();
	/* One there already: ours said twice, or a forgery in its place, which goes (readers ignore it anyway). */
	if ((error = generation_genuine(r, generation, 1)) != 0)
		return error < 0 ? error : 0;
	if (!(r->vc.be->capabilities(r->vc.be) & OB_BACKEND_CAP_DELETE))
		return 0;
	snprintf(name, sizeof(name), "%sgeneration/%010llu.end", r->prefix, (unsigned long long)generation);
	if (r->vc.be->remove(r->vc.be, name) == 0 && generation_put(r, owner_private, generation, 1, now) == 0)
		return 0;
	ob_error_clear();   /* the message of an error the caller reports stays */
	return 0;
}

int ob_repo_generation_bump(uint64_t *out, const ob_repo *r, const uint8_t owner_private[OB_SIGN_PRIVATE_BYTES],
	int64_t now)
{
	ob_name_list l = { 0 };
	char prefix[96], name[160];
	uint64_t cur = 0, next;
	size_t i;
	int error = 0, attempt, taken = 0, can_delete = (r->vc.be->capabilities(r->vc.be) & OB_BACKEND_CAP_DELETE) != 0;

	*out = 0;
	if ((error = ob_repo_generation(&cur, NULL, r)) < 0)
		return error;
	/*
	 * Create-only: two runs bumping at once cannot both take a number; the later
	 * one takes the next. A number held by an object that is not genuine is not
	 * taken: the object goes (when this run can delete) and the number is tried
	 * again, else the next one is.
	 */
	next = cur + 1;
	for (attempt = 0; attempt < 64 && !taken; attempt++) {
		int genuine;
		if ((error = generation_put(r, owner_private, next, 0, now)) == 0) {
			taken = 1;
			break;
		}
		if (error != OB_EEXISTS)
			return error;
		ob_error_clear();
		if ((genuine = generation_genuine(r, next, 0)) < 0)
			return genuine;
		snprintf(name, sizeof(name), "%sgeneration/%010llu", r->prefix, (unsigned long long)next);
		if (genuine || !can_delete || r->vc.be->remove(r->vc.be, name) < 0)
			next++;
		else
			ob_repo_skip(r, name, "removed: a generation object not signed by the vault owner stood where maintenance "
				"takes its number (forged, or written by an older version)");
		ob_error_clear();
	}
	if (!taken)
		return ob_err(OB_ELOCKED, OB_ERRCLASS_VAULT,
			"Cannot start vault maintenance: other runs keep changing this server's data. Try again later.");
	*out = next;
	/*
	 * Only the newest genuine number matters: the older objects go, and so does
	 * every object here that is not genuine (a forged number above ours, a forged
	 * end); a genuine one above ours is another run's that started meanwhile.
	 */
	if (can_delete && generation_names(&l, r, prefix, sizeof(prefix)) == 0) {
		for (i = 0; i < l.n; i++) {
			int end = 0;
			int64_t v = generation_number(l.v[i], &end);
			int drop = v < 0 || (uint64_t)v < next;
			int forged = 0;
			if (!drop && !(v == (int64_t)next && !end))
				drop = forged = generation_genuine(r, (uint64_t)v, end) == 0;
			if (drop) {
				snprintf(name, sizeof(name), "%s%s", prefix, l.v[i]);
				if (r->vc.be->remove(r->vc.be, name) == 0 && forged)
					ob_repo_skip(r, name, "removed: a generation object above the area's generation that is not "
						"signed by the vault owner (forged); backups ignore such objects");
			}
		}
		ob_name_list_dispose(&l);
	}
	ob_error_clear();
	return 0;
}
