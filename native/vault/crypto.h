/*
 * Internal: the cryptography of obagent, over OpenSSL 3 (docs/FORMAT.md, "Keys").
 *  - scrypt (memory-hard) derives a key-encryption key from the passphrase;
 *  - AES-256-GCM seals every secret and object;
 *  - Ed25519 signs what the vault owner issues (credentials, PINs, the config);
 *  - HMAC-SHA-256 and SHA-256 for ids.
 */
#ifndef OB_NATIVE_CRYPTO_H
#define OB_NATIVE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define OB_AEAD_KEY_BYTES 32
#define OB_AEAD_NONCE_BYTES 12
#define OB_AEAD_TAG_BYTES 16
#define OB_SIGN_PRIVATE_BYTES 32
#define OB_SIGN_PUBLIC_BYTES 32
#define OB_SIGN_BYTES 64
#define OB_MASTER_KEY_BYTES 64
#define OB_SALT_BYTES 16

/** scrypt cost parameters, stored beside what they protect. */
typedef struct ob_kdf_params {
	int log2_n;
	int r;
	int p;
} ob_kdf_params;

/** The parameters for new passphrase wraps (N = 2^15, r = 8, p = 1: 32 MiB). */
extern const ob_kdf_params OB_KDF_PASSPHRASE;
/** The parameters for security PIN hashes (N = 2^14). */
extern const ob_kdf_params OB_KDF_PIN;

int ob_random(void *buf, size_t len);
int ob_kdf_scrypt(uint8_t *out, size_t out_len, const uint8_t *secret, size_t secret_len,
	const uint8_t *salt, size_t salt_len, const ob_kdf_params *params);

/** Seal: out receives len + OB_AEAD_TAG_BYTES bytes (ciphertext then tag). */
int ob_aead_seal(uint8_t *out, const uint8_t key[OB_AEAD_KEY_BYTES], const uint8_t nonce[OB_AEAD_NONCE_BYTES],
	const void *aad, size_t aad_len, const uint8_t *plain, size_t len);
/** Seal the concatenation a | b without copying it: out receives a_len + b_len + tag bytes. */
int ob_aead_seal2(uint8_t *out, const uint8_t key[OB_AEAD_KEY_BYTES], const uint8_t nonce[OB_AEAD_NONCE_BYTES],
	const void *aad, size_t aad_len, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);
/** Open: in is len bytes of ciphertext and tag; out receives len - tag. OB_ECORRUPT on mismatch. */
/** Open into two places: the first len1 plaintext bytes to out1, the rest (len - len1 - tag) to out2. */
int ob_aead_open2(uint8_t *out1, size_t len1, uint8_t *out2, const uint8_t key[OB_AEAD_KEY_BYTES],
	const uint8_t nonce[OB_AEAD_NONCE_BYTES], const void *aad, size_t aad_len, const uint8_t *in, size_t len);
int ob_aead_open(uint8_t *out, const uint8_t key[OB_AEAD_KEY_BYTES], const uint8_t nonce[OB_AEAD_NONCE_BYTES],
	const void *aad, size_t aad_len, const uint8_t *in, size_t len);

int ob_sign_keygen(uint8_t priv[OB_SIGN_PRIVATE_BYTES], uint8_t pub[OB_SIGN_PUBLIC_BYTES]);
/** The public half of an Ed25519 private key (its 32-byte seed), e.g. one derived from a master key. */
int ob_sign_public(uint8_t pub[OB_SIGN_PUBLIC_BYTES], const uint8_t priv[OB_SIGN_PRIVATE_BYTES]);
int ob_sign(uint8_t sig[OB_SIGN_BYTES], const uint8_t priv[OB_SIGN_PRIVATE_BYTES], const void *msg, size_t len);
/** 0 when the signature is good, OB_EAUTH when not. */
int ob_verify(const uint8_t pub[OB_SIGN_PUBLIC_BYTES], const void *msg, size_t len, const uint8_t sig[OB_SIGN_BYTES]);

void ob_sha256(uint8_t out[32], const void *data, size_t len);
int ob_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len, const void *data, size_t len);

/** A random (version 4) GUID in its text form, 36 characters and a NUL. */
int ob_guid_new(char out[37]);

/** Constant-time comparison: 0 when equal. */
int ob_ct_compare(const void *a, const void *b, size_t len);

/**
 * Wrap a master key with a passphrase into a "server-key" record (appended to
 * rec). aad binds the record to its place (vault, server, sequence).
 */
int ob_key_wrap(ob_buf *rec, const uint8_t master[OB_MASTER_KEY_BYTES], const uint8_t *passphrase,
	size_t passphrase_len, const char *aad, const ob_kdf_params *params, int64_t created);
/** The fields of a wrap (kdf ... created), appended to a record the caller began (server-key 2). */
int ob_key_wrap_fields(ob_buf *rec, const uint8_t master[OB_MASTER_KEY_BYTES], const uint8_t *passphrase,
	size_t passphrase_len, const char *aad, const ob_kdf_params *params, int64_t created);
/**
 * Unwrap a "server-key" record (version 1 or 2: the same fields; what version 2
 * adds is checked by vault/serverkey.h, which every reader goes through). OB_EPASSPHRASE when the passphrase does not open
 * it (or the record was changed: the two cannot be told apart), OB_ECORRUPT when
 * the record is malformed.
 */
int ob_key_unwrap(uint8_t master[OB_MASTER_KEY_BYTES], const char *rec, size_t rec_len,
	const uint8_t *passphrase, size_t passphrase_len, const char *aad);

/**
 * Sign a key=value record: appends "signature=<base64>" over the bytes before it.
 * ob_record_verify checks and returns the length of the signed part.
 */
int ob_record_sign(ob_buf *rec, const uint8_t priv[OB_SIGN_PRIVATE_BYTES]);
int ob_record_verify(const uint8_t pub[OB_SIGN_PUBLIC_BYTES], const char *rec, size_t len);

#endif
