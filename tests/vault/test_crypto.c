/* KDF, AEAD, key wrapping and signatures: known answers, round trips, tampering. */
#include "testutil.h"
#include "vault/crypto.h"

#include <stdlib.h>
#include <string.h>

static const ob_kdf_params fast = { 10, 8, 1 };

static void test_scrypt_known_answer(void **state)
{
	/* RFC 7914, section 12, second vector. */
	static const uint8_t expected[64] = {
		0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56, 0xe7, 0x19, 0x0d, 0x01, 0xe9, 0xfe,
		0x7c, 0x6a, 0xd7, 0xcb, 0xc8, 0x23, 0x78, 0x30, 0xe7, 0x73, 0x76, 0x63, 0x4b, 0x37, 0x31, 0x62,
		0x2e, 0xaf, 0x30, 0xd9, 0x2e, 0x22, 0xa3, 0x88, 0x6f, 0xf1, 0x09, 0x27, 0x9d, 0x98, 0x30, 0xda,
		0xc7, 0x27, 0xaf, 0xb9, 0x4a, 0x83, 0xee, 0x6d, 0x83, 0x60, 0xcb, 0xdf, 0xa2, 0xcc, 0x06, 0x40,
	};
	const ob_kdf_params p = { 10, 8, 16 };
	uint8_t out[64];

	(void)state;
	assert_ok(ob_kdf_scrypt(out, sizeof(out), (const uint8_t *)"password", 8, (const uint8_t *)"NaCl", 4, &p));
	assert_memory_equal(out, expected, sizeof(out));
}

static void test_scrypt_refuses_absurd_parameters(void **state)
{
	const ob_kdf_params p = { 40, 8, 1 };
	uint8_t out[32];

	(void)state;
	assert_int_equal(ob_kdf_scrypt(out, sizeof(out), (const uint8_t *)"x", 1, (const uint8_t *)"salt", 4, &p), OB_ECORRUPT);
}

static void test_aead_round_trip_and_tamper(void **state)
{
	uint8_t key[32], nonce[12], plain[1000], sealed[1016], opened[1000];
	size_t i;

	(void)state;
	assert_ok(ob_random(key, sizeof(key)));
	assert_ok(ob_random(nonce, sizeof(nonce)));
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	assert_ok(ob_aead_seal(sealed, key, nonce, "aad", 3, plain, sizeof(plain)));
	assert_ok(ob_aead_open(opened, key, nonce, "aad", 3, sealed, sizeof(sealed)));
	assert_memory_equal(opened, plain, sizeof(plain));
	/* A changed byte anywhere, other associated data, or a cut: all detected. */
	for (i = 0; i < sizeof(sealed); i += 97) {
		sealed[i] ^= 1;
		assert_int_equal(ob_aead_open(opened, key, nonce, "aad", 3, sealed, sizeof(sealed)), OB_ECORRUPT);
		sealed[i] ^= 1;
	}
	assert_int_equal(ob_aead_open(opened, key, nonce, "aaD", 3, sealed, sizeof(sealed)), OB_ECORRUPT);
	assert_int_equal(ob_aead_open(opened, key, nonce, "aad", 3, sealed, sizeof(sealed) - 1), OB_ECORRUPT);
	assert_int_equal(ob_aead_open(opened, key, nonce, "aad", 3, sealed, 10), OB_ECORRUPT);
}

static void test_key_wrap_round_trip(void **state)
{
	uint8_t master[OB_MASTER_KEY_BYTES], back[OB_MASTER_KEY_BYTES];
	const char *pp = "correct horse battery staple";
	ob_buf rec = OB_BUF_INIT;

	(void)state;
	assert_ok(ob_random(master, sizeof(master)));
	assert_ok(ob_key_wrap(&rec, master, (const uint8_t *)pp, strlen(pp), "vault|server|1", &fast, 100));
	assert_null(strstr(rec.data, pp));
	assert_non_null(strstr(rec.data, "kdf_log2_n=10"));
	assert_ok(ob_key_unwrap(back, rec.data, rec.len, (const uint8_t *)pp, strlen(pp), "vault|server|1"));
	assert_memory_equal(back, master, sizeof(master));
	/* Wrong passphrase, or the wrap moved to another place (aad): refused. */
	assert_int_equal(ob_key_unwrap(back, rec.data, rec.len, (const uint8_t *)"wrong passphrase!!", 18, "vault|server|1"),
		OB_EPASSPHRASE);
	assert_int_equal(ob_key_unwrap(back, rec.data, rec.len, (const uint8_t *)pp, strlen(pp), "vault|server|2"),
		OB_EPASSPHRASE);
	ob_buf_dispose(&rec);
}

static void test_key_wrap_detects_tampering(void **state)
{
	uint8_t master[OB_MASTER_KEY_BYTES], back[OB_MASTER_KEY_BYTES];
	const char *pp = "0123456789abcdef";
	ob_buf rec = OB_BUF_INIT;
	char *p;

	(void)state;
	assert_ok(ob_random(master, sizeof(master)));
	assert_ok(ob_key_wrap(&rec, master, (const uint8_t *)pp, 16, "a", &fast, 1));
	p = strstr(rec.data, "wrapped_key=") + 12;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(ob_key_unwrap(back, rec.data, rec.len, (const uint8_t *)pp, 16, "a"), OB_EPASSPHRASE);
	assert_int_equal(ob_key_unwrap(back, "garbage", 7, (const uint8_t *)pp, 16, "a"), OB_ECORRUPT);
	assert_int_equal(ob_key_unwrap(back, rec.data, rec.len / 2, (const uint8_t *)pp, 16, "a"), OB_ECORRUPT);
	ob_buf_dispose(&rec);
}

static void test_signatures(void **state)
{
	uint8_t priv[32], pub[32], priv2[32], pub2[32], sig[64];
	ob_buf rec = OB_BUF_INIT;

	(void)state;
	assert_ok(ob_sign_keygen(priv, pub));
	assert_ok(ob_sign_keygen(priv2, pub2));
	assert_ok(ob_sign(sig, priv, "message", 7));
	assert_ok(ob_verify(pub, "message", 7, sig));
	assert_int_equal(ob_verify(pub, "messagE", 7, sig), OB_EAUTH);
	assert_int_equal(ob_verify(pub2, "message", 7, sig), OB_EAUTH);

	assert_ok(ob_kv_begin(&rec, "pin", 1));
	assert_ok(ob_kv_add(&rec, "expires", "100"));
	assert_ok(ob_record_sign(&rec, priv));
	assert_true(ob_record_verify(pub, rec.data, rec.len) > 0);
	assert_int_equal(ob_record_verify(pub2, rec.data, rec.len), OB_EAUTH);
	rec.data[rec.len - 5] ^= 1;
	assert_true(ob_record_verify(pub, rec.data, rec.len) < 0);
	rec.data[rec.len - 5] ^= 1;
	rec.data[20] = '9';
	assert_int_equal(ob_record_verify(pub, rec.data, rec.len), OB_EAUTH);
	assert_int_equal(ob_record_verify(pub, "obagent-pin 1\n", 14), OB_ECORRUPT);
	ob_buf_dispose(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrypt_known_answer),
		cmocka_unit_test(test_scrypt_refuses_absurd_parameters),
		cmocka_unit_test(test_aead_round_trip_and_tamper),
		cmocka_unit_test(test_key_wrap_round_trip),
		cmocka_unit_test(test_key_wrap_detects_tampering),
		cmocka_unit_test(test_signatures),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
