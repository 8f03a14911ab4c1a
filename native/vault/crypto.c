/* Cryptography over OpenSSL 3: scrypt, AES-256-GCM, Ed25519, SHA-256, HMAC. */
#include "vault/crypto.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <pthread.h>

/*
 * Algorithms fetched once: OpenSSL 3 looks an algorithm up on every implicit use
 * (EVP_aes_256_gcm(), EVP_sha256()), which costs more than sealing a small blob.
 */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_gcm;
static EVP_MAC *hmac;

/* Per-thread contexts, reused from call to call, freed when their thread ends. */
typedef struct thread_ctx {
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
	uint8_t mac_key[32];
	int mac_key_set;
} thread_ctx;

static pthread_key_t ctx_key;

static void thread_ctx_free(void *p)
{
	thread_ctx *t = p;

	EVP_CIPHER_CTX_free(t->cipher);
	EVP_MAC_CTX_free(t->mac);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

static void fetch_algorithms(void)
{
	aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	pthread_key_create(&ctx_key, thread_ctx_free);
}

static thread_ctx *this_thread(void)
{
	thread_ctx *t;

	pthread_once(&fetch_once, fetch_algorithms);
	if ((t = pthread_getspecific(ctx_key)) != NULL)
		return t;
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	if (pthread_setspecific(ctx_key, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

const ob_kdf_params OB_KDF_PASSPHRASE = { 15, 8, 1 };
const ob_kdf_params OB_KDF_PIN = { 14, 8, 1 };

static int crypto_fail(const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[256] = "";

	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "%s failed (OpenSSL: %s).", what, e ? detail : "no detail");
}

int ob_random(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return crypto_fail("Random generation");
	return 0;
}

int ob_kdf_scrypt(uint8_t *out, size_t out_len, const uint8_t *secret, size_t secret_len,
	const uint8_t *salt, size_t salt_len, const ob_kdf_params *params)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	OSSL_PARAM p[7], *q = p;
	uint64_t n;
	uint32_t r, par;
	uint64_t maxmem = (uint64_t)1 << 30;
	int error = 0;

	if (params->log2_n < 10 || params->log2_n > 22 || params->r < 1 || params->r > 32 ||
	    params->p < 1 || params->p > 16)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "scrypt parameters out of range (N=2^%d, r=%d, p=%d).",
			params->log2_n, params->r, params->p);
	n = (uint64_t)1 << params->log2_n;
	r = (uint32_t)params->r;
	par = (uint32_t)params->p;

	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	if (!kdf)
		return crypto_fail("Loading scrypt");
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return crypto_fail("scrypt");
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)secret, secret_len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, p) <= 0)
		error = crypto_fail("scrypt key derivation");
	EVP_KDF_CTX_free(ctx);
	return error;
}

/*
 * AES-256-GCM over the concatenation of up to two pieces (a header byte and a
 * payload, say), each written to its own place: out1 takes len1 bytes, out2 len2
 * (sealing writes the tag after out2's bytes; opening checks tag_in).
 */
static int aead2(int enc, uint8_t *out1, uint8_t *out2, const uint8_t *key, const uint8_t *nonce, const void *aad,
	size_t aad_len, const uint8_t *in1, size_t len1, const uint8_t *in2, size_t len2, const uint8_t *tag_in)
{
	EVP_CIPHER_CTX *ctx;
	thread_ctx *t = this_thread();
	int n, error = 0;

	if (!t)
		return ob_err_nomem();
	if (!aes_gcm)
		return crypto_fail("Loading AES-256-GCM");
	if (!t->cipher && !(t->cipher = EVP_CIPHER_CTX_new()))
		return crypto_fail("AES-GCM");
	ctx = t->cipher;
	if (len1 > INT32_MAX || len2 > INT32_MAX || aad_len > INT32_MAX)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CRYPTO, "Object too large to seal or open.");
	if (EVP_CipherInit_ex2(ctx, aes_gcm, key, nonce, enc, NULL) != 1 ||
	    (aad_len && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
	    (len1 && EVP_CipherUpdate(ctx, out1, &n, in1, (int)len1) != 1) ||
	    (len2 && EVP_CipherUpdate(ctx, out2, &n, in2, (int)len2) != 1))
		return crypto_fail("AES-GCM");
	if (enc) {
		if (EVP_CipherFinal_ex(ctx, out2 + len2, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, OB_AEAD_TAG_BYTES, out2 + len2) != 1)
			error = crypto_fail("AES-GCM");
	} else {
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, OB_AEAD_TAG_BYTES, (void *)tag_in) != 1 ||
		    EVP_CipherFinal_ex(ctx, out2 + len2, &n) != 1) {
			ERR_clear_error();
			ob_wipe(out1, len1);
			ob_wipe(out2, len2);
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "Authentication failed: the data was changed or the key is wrong.");
		}
	}
	return error;
}

static int aead(int enc, uint8_t *out, const uint8_t *key, const uint8_t *nonce,
	const void *aad, size_t aad_len, const uint8_t *in, size_t len)
{
	size_t body = enc ? len : len - OB_AEAD_TAG_BYTES;

	return aead2(enc, out, out, key, nonce, aad, aad_len, NULL, 0, in, body, enc ? NULL : in + body);
}

int ob_aead_open2(uint8_t *out1, size_t len1, uint8_t *out2, const uint8_t key[OB_AEAD_KEY_BYTES],
	const uint8_t nonce[OB_AEAD_NONCE_BYTES], const void *aad, size_t aad_len, const uint8_t *in, size_t len)
{
	size_t len2;

	if (len < OB_AEAD_TAG_BYTES + len1)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "Sealed data is truncated.");
	len2 = len - OB_AEAD_TAG_BYTES - len1;
	return aead2(0, out1, out2, key, nonce, aad, aad_len, in, len1, in + len1, len2, in + len1 + len2);
}

int ob_aead_seal2(uint8_t *out, const uint8_t key[OB_AEAD_KEY_BYTES], const uint8_t nonce[OB_AEAD_NONCE_BYTES],
	const void *aad, size_t aad_len, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	return aead2(1, out, out + a_len, key, nonce, aad, aad_len, a, a_len, b, b_len, NULL);
}

int ob_aead_seal(uint8_t *out, const uint8_t key[OB_AEAD_KEY_BYTES], const uint8_t nonce[OB_AEAD_NONCE_BYTES],
	const void *aad, size_t aad_len, const uint8_t *plain, size_t len)
{
	return aead(1, out, key, nonce, aad, aad_len, plain, len);
}

int ob_aead_open(uint8_t *out, const uint8_t key[OB_AEAD_KEY_BYTES], const uint8_t nonce[OB_AEAD_NONCE_BYTES],
	const void *aad, size_t aad_len, const uint8_t *in, size_t len)
{
	if (len < OB_AEAD_TAG_BYTES)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "Sealed data is truncated.");
	return aead(0, out, key, nonce, aad, aad_len, in, len);
}

int ob_sign_keygen(uint8_t priv[OB_SIGN_PRIVATE_BYTES], uint8_t pub[OB_SIGN_PUBLIC_BYTES])
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	size_t plen = OB_SIGN_PRIVATE_BYTES, qlen = OB_SIGN_PUBLIC_BYTES;
	int error = 0;

	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1 ||
	    EVP_PKEY_get_raw_private_key(key, priv, &plen) != 1 ||
	    EVP_PKEY_get_raw_public_key(key, pub, &qlen) != 1)
		error = crypto_fail("Ed25519 key generation");
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	return error;
}

int ob_sign_public(uint8_t pub[OB_SIGN_PUBLIC_BYTES], const uint8_t priv[OB_SIGN_PRIVATE_BYTES])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, OB_SIGN_PRIVATE_BYTES);
	size_t qlen = OB_SIGN_PUBLIC_BYTES;
	int error = 0;

	if (!key || EVP_PKEY_get_raw_public_key(key, pub, &qlen) != 1)
		error = crypto_fail("Ed25519 public key");
	EVP_PKEY_free(key);
	return error;
}

int ob_sign(uint8_t sig[OB_SIGN_BYTES], const uint8_t priv[OB_SIGN_PRIVATE_BYTES], const void *msg, size_t len)
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, OB_SIGN_PRIVATE_BYTES);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t slen = OB_SIGN_BYTES;
	int error = 0;

	if (!key || !md || EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &slen, msg, len) != 1)
		error = crypto_fail("Ed25519 signing");
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return error;
}

int ob_verify(const uint8_t pub[OB_SIGN_PUBLIC_BYTES], const void *msg, size_t len, const uint8_t sig[OB_SIGN_BYTES])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, OB_SIGN_PUBLIC_BYTES);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int error = 0;

	if (!key || !md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) != 1)
		error = crypto_fail("Ed25519 verification");
	else if (EVP_DigestVerify(md, sig, OB_SIGN_BYTES, msg, len) != 1) {
		ERR_clear_error();
		error = ob_err(OB_EAUTH, OB_ERRCLASS_CRYPTO, "The signature does not match.");
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return error;
}

void ob_sha256(uint8_t out[32], const void *data, size_t len)
{
	SHA256(data, len, out);
}

int ob_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len, const void *data, size_t len)
{
	OSSL_PARAM params[2];
	size_t olen = 32;
	thread_ctx *t = this_thread();

	if (!t)
		return ob_err_nomem();
	if (!hmac)
		return crypto_fail("Loading HMAC");
	if (!t->mac && !(t->mac = EVP_MAC_CTX_new(hmac)))
		return crypto_fail("HMAC-SHA-256");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	/* The same key as last time on this thread: reinitialise without setting it again. */
	if (key_len == 32 && t->mac_key_set && CRYPTO_memcmp(t->mac_key, key, 32) == 0) {
		if (EVP_MAC_init(t->mac, NULL, 0, NULL) != 1)
			return crypto_fail("HMAC-SHA-256");
	} else {
		if (EVP_MAC_init(t->mac, key, key_len, params) != 1)
			return crypto_fail("HMAC-SHA-256");
		t->mac_key_set = key_len == 32;
		if (t->mac_key_set)
			memcpy(t->mac_key, key, 32);
	}
	if (EVP_MAC_update(t->mac, data, len) != 1 || EVP_MAC_final(t->mac, out, &olen, 32) != 1)
		return crypto_fail("HMAC-SHA-256");
	return 0;
}

int ob_guid_new(char out[37])
{
	uint8_t b[16];
	int error;

	if ((error = ob_random(b, sizeof(b))) < 0)
		return error;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int ob_ct_compare(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0 ? 0 : 1;
}

int ob_key_wrap(ob_buf *rec, const uint8_t master[OB_MASTER_KEY_BYTES], const uint8_t *passphrase,
	size_t passphrase_len, const char *aad, const ob_kdf_params *params, int64_t created)
{
	int error;

	if ((error = ob_kv_begin(rec, "server-key", 1)) < 0)
		return error;
	return ob_key_wrap_fields(rec, master, passphrase, passphrase_len, aad, params, created);
}

int ob_key_wrap_fields(ob_buf *rec, const uint8_t master[OB_MASTER_KEY_BYTES], const uint8_t *passphrase,
	size_t passphrase_len, const char *aad, const ob_kdf_params *params, int64_t created)
{
	uint8_t salt[OB_SALT_BYTES], nonce[OB_AEAD_NONCE_BYTES], kek[OB_AEAD_KEY_BYTES];
	uint8_t wrapped[OB_MASTER_KEY_BYTES + OB_AEAD_TAG_BYTES];
	char *salt64 = NULL, *nonce64 = NULL, *wrapped64 = NULL;
	int error;

	if ((error = ob_random(salt, sizeof(salt))) < 0 || (error = ob_random(nonce, sizeof(nonce))) < 0)
		return error;
	if ((error = ob_kdf_scrypt(kek, sizeof(kek), passphrase, passphrase_len, salt, sizeof(salt), params)) < 0)
		goto done;
	if ((error = ob_aead_seal(wrapped, kek, nonce, aad, strlen(aad), master, OB_MASTER_KEY_BYTES)) < 0)
		goto done;
	salt64 = ob_base64_encode(salt, sizeof(salt));
	nonce64 = ob_base64_encode(nonce, sizeof(nonce));
	wrapped64 = ob_base64_encode(wrapped, sizeof(wrapped));
	if (!salt64 || !nonce64 || !wrapped64) {
		error = OB_ENOMEM;
		goto done;
	}
	if ((error = ob_kv_add(rec, "kdf", "scrypt")) < 0 ||
	    (error = ob_kv_add_i64(rec, "kdf_log2_n", params->log2_n)) < 0 ||
	    (error = ob_kv_add_i64(rec, "kdf_r", params->r)) < 0 ||
	    (error = ob_kv_add_i64(rec, "kdf_p", params->p)) < 0 ||
	    (error = ob_kv_add(rec, "salt", salt64)) < 0 ||
	    (error = ob_kv_add(rec, "cipher", "aes-256-gcm")) < 0 ||
	    (error = ob_kv_add(rec, "nonce", nonce64)) < 0 ||
	    (error = ob_kv_add(rec, "wrapped_key", wrapped64)) < 0 ||
	    (error = ob_kv_add_i64(rec, "created", created)) < 0)
		goto done;
done:
	ob_wipe(kek, sizeof(kek));
	free(salt64);
	free(nonce64);
	free(wrapped64);
	return error;
}

int ob_key_unwrap(uint8_t master[OB_MASTER_KEY_BYTES], const char *rec, size_t rec_len,
	const uint8_t *passphrase, size_t passphrase_len, const char *aad)
{
	ob_kv kv;
	int64_t n, r, p;
	uint8_t *salt = NULL, *nonce = NULL, *wrapped = NULL, kek[OB_AEAD_KEY_BYTES];
	size_t salt_len, nonce_len, wrapped_len;
	const char *kdf, *cipher;
	ob_kdf_params params;
	int error;

	if ((error = ob_kv_parse(&kv, rec, rec_len)) < 0)
		return error;
	kdf = ob_kv_get(&kv, "kdf");
	cipher = ob_kv_get(&kv, "cipher");
	if (strcmp(kv.kind, "server-key") != 0 || (kv.version != 1 && kv.version != 2) || !kdf || strcmp(kdf, "scrypt") != 0 ||
	    !cipher || strcmp(cipher, "aes-256-gcm") != 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "The key record is not a version 1 or 2 scrypt/AES-GCM key.");
		goto done;
	}
	if ((error = ob_kv_get_i64(&n, &kv, "kdf_log2_n")) < 0 || (error = ob_kv_get_i64(&r, &kv, "kdf_r")) < 0 ||
	    (error = ob_kv_get_i64(&p, &kv, "kdf_p")) < 0 ||
	    (error = ob_kv_get_b64(&salt, &salt_len, &kv, "salt", 0)) < 0 ||
	    (error = ob_kv_get_b64(&nonce, &nonce_len, &kv, "nonce", OB_AEAD_NONCE_BYTES)) < 0 ||
	    (error = ob_kv_get_b64(&wrapped, &wrapped_len, &kv, "wrapped_key", OB_MASTER_KEY_BYTES + OB_AEAD_TAG_BYTES)) < 0)
		goto done;
	if (n < 0 || n > 64 || r < 0 || r > 64 || p < 0 || p > 64 || salt_len < 8) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "The key record's parameters are out of range.");
		goto done;
	}
	params.log2_n = (int)n;
	params.r = (int)r;
	params.p = (int)p;
	if ((error = ob_kdf_scrypt(kek, sizeof(kek), passphrase, passphrase_len, salt, salt_len, &params)) < 0)
		goto done;
	if (ob_aead_open(master, kek, nonce, aad, strlen(aad), wrapped, wrapped_len) < 0)
		error = ob_err(OB_EPASSPHRASE, OB_ERRCLASS_CRYPTO,
			"The passphrase does not open this server's key. Give the passphrase last set for this server.");
done:
	ob_wipe(kek, sizeof(kek));
	free(salt);
	free(nonce);
	free(wrapped);
	ob_kv_dispose(&kv);
	return error;
}

int ob_record_sign(ob_buf *rec, const uint8_t priv[OB_SIGN_PRIVATE_BYTES])
{
	uint8_t sig[OB_SIGN_BYTES];
	char *sig64;
	int error;

	if ((error = ob_sign(sig, priv, rec->data, rec->len)) < 0)
		return error;
	if (!(sig64 = ob_base64_encode(sig, sizeof(sig))))
		return OB_ENOMEM;
	error = ob_kv_add(rec, "signature", sig64);
	free(sig64);
	return error;
}

int ob_record_verify(const uint8_t pub[OB_SIGN_PUBLIC_BYTES], const char *rec, size_t len)
{
	static const char marker[] = "\nsignature=";
	const size_t mlen = sizeof(marker) - 1;
	const char *p = NULL, *s, *v;
	uint8_t *sig = NULL;
	size_t sig_len, vlen;
	char *text;
	int error;

	if (len < mlen + 2 || rec[len - 1] != '\n')
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The record has no signature.");
	/* The signature is the last line. */
	for (s = rec; (s = memchr(s, '\n', len - (size_t)(s - rec))) != NULL; s++)
		if ((size_t)(rec + len - s) > mlen && memcmp(s, marker, mlen) == 0)
			p = s;
	if (!p)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The record has no signature.");
	v = p + mlen;
	vlen = (size_t)(rec + len - 1 - v);
	if (memchr(v, '\n', vlen))
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The record's signature is not its last line.");
	if (!(text = malloc(vlen + 1)))
		return ob_err_nomem();
	memcpy(text, v, vlen);
	text[vlen] = '\0';
	error = ob_base64_decode(&sig, &sig_len, text);
	if (error == 0 && sig_len == OB_SIGN_BYTES) {
		/* One spelling only (base64's spare bits set nothing): a record's bytes are the record. */
		char *again = ob_base64_encode(sig, sig_len);
		if (!again || strcmp(again, text) != 0)
			error = again ? OB_ECORRUPT : OB_ENOMEM;
		free(again);
	}
	free(text);
	if (error < 0 || sig_len != OB_SIGN_BYTES) {
		free(sig);
		return error == OB_ENOMEM ? ob_err_nomem() : ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The record's signature is malformed.");
	}
	error = ob_verify(pub, rec, (size_t)(p - rec) + 1, sig);
	free(sig);
	if (error < 0)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT, "The record's signature does not match the vault owner's key.");
	return (int)((size_t)(p - rec) + 1);
}
