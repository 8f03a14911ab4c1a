/* The vault credentials file: round trip, and valid, expired, truncated, tampered and garbage input. */
#include "testutil.h"
#include "vault/credentials.h"

#include <stdlib.h>
#include <string.h>

static char *dir;
static ob_vault *vault;
static char *cred_path;

static int setup(void **state)
{
	char *vpath, *out;

	(void)state;
	dir = ob_test_tempdir("cred");
	vpath = ob_test_path(dir, "vault");
	out = ob_test_path(dir, "out");
	if (ob_vault_create(&vault, vpath, "Vault1") < 0 || ob_vault_credentials_issue(&cred_path, vault, out, 10) < 0)
		return -1;
	free(vpath);
	free(out);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_vault_free(vault);
	ob_str_free(cred_path);
	ob_test_rmtree(dir);
	free(dir);
	return 0;
}

static void test_issued_file_parses(void **state)
{
	size_t len;
	char *xml = ob_test_read(cred_path, &len);
	ob_credentials c;
	const char *base = strrchr(cred_path, '/') + 1;

	(void)state;
	assert_true(strncmp(base, "Vault1_", 7) == 0);
	assert_non_null(strstr(base, ".VaultCredentials"));
	assert_ok(ob_credentials_parse(&c, xml, len));
	assert_string_equal(c.vault_name, "Vault1");
	assert_string_equal(c.vault_id, ob_vault_id(vault));
	assert_string_equal(c.storage_location, ob_vault_location(vault));
	assert_string_equal(c.resource_type, "Local");
	assert_int_equal(c.expires_at - c.issued_at, 10 * 86400);
	assert_int_equal(c.sequence, 1);
	ob_credentials_dispose(&c);
	free(xml);
}

static void test_round_trip(void **state)
{
	ob_credentials c = { 0 }, back;
	ob_buf xml = OB_BUF_INIT, a = OB_BUF_INIT, b = OB_BUF_INIT;

	(void)state;
	c.version = 1;
	c.resource_type = "Local";
	c.vault_name = "Name & <Co> \"quoted\" 'x'";
	c.vault_id = "id";
	c.storage_location = "/srv/vaults/a b";
	c.sequence = 42;
	c.issued_at = 1000;
	c.expires_at = 2000;
	memset(c.signature, 0xab, sizeof(c.signature));
	assert_ok(ob_credentials_to_xml(&xml, &c));
	assert_ok(ob_credentials_parse(&back, xml.data, xml.len));
	assert_string_equal(back.vault_name, c.vault_name);
	assert_string_equal(back.storage_location, c.storage_location);
	assert_int_equal(back.sequence, 42);
	assert_memory_equal(back.signature, c.signature, sizeof(c.signature));
	assert_ok(ob_credentials_canonical(&a, &c));
	assert_ok(ob_credentials_canonical(&b, &back));
	assert_string_equal(a.data, b.data);
	ob_credentials_dispose(&back);
	ob_buf_dispose(&xml);
	ob_buf_dispose(&a);
	ob_buf_dispose(&b);
}

static void test_truncated_files_are_malformed(void **state)
{
	size_t len, cut;
	char *xml = ob_test_read(cred_path, &len);
	ob_credentials c;

	(void)state;
	for (cut = 0; cut < len - 1; cut++) {
		int rc = ob_credentials_parse(&c, xml, cut);
		/* Only a cut inside the final newline after the root may still parse. */
		if (rc == 0) {
			assert_true(cut >= len - 2);
			ob_credentials_dispose(&c);
		} else {
			assert_int_equal(rc, OB_EINVALID);
			assert_non_null(strstr(ob_error_last(), "malformed"));
		}
	}
	free(xml);
}

static void test_garbage_is_malformed(void **state)
{
	const char *bad[] = {
		"", "hello", "<VaultCredentials>", "<?xml version=\"1.0\"?><Other/>",
		"<VaultCredentials><Version>1</Version></VaultCredentials>",
		"<VaultCredentials><Version>1</Version><Version>1</Version></VaultCredentials>",
		"<VaultCredentials><Unknown>1</Unknown></VaultCredentials>",
		"<VaultCredentials><Version><b>1</b></Version></VaultCredentials>",
		"<VaultCredentials><Version>1</Versio></VaultCredentials>",
		"<VaultCredentials><Version>&bogus;</Version></VaultCredentials>",
		"<VaultCredentials></VaultCredentials>trailing",
		"\xff\xfe<\0V\0",
	};
	size_t i;
	ob_credentials c;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ob_credentials_parse(&c, bad[i], strlen(bad[i])), OB_EINVALID);
}

static void test_mutations_never_crash(void **state)
{
	size_t len, i;
	char *xml = ob_test_read(cred_path, &len), *copy = malloc(len);
	unsigned int seed = 7;
	ob_credentials c;

	(void)state;
	for (i = 0; i < 20000; i++) {
		int k, flips = 1 + rand_r(&seed) % 4;
		memcpy(copy, xml, len);
		for (k = 0; k < flips; k++)
			copy[rand_r(&seed) % len] = (char)(rand_r(&seed) & 0xff);
		if (ob_credentials_parse(&c, copy, len) == 0)
			ob_credentials_dispose(&c);
	}
	free(copy);
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued_file_parses),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_files_are_malformed),
		cmocka_unit_test(test_garbage_is_malformed),
		cmocka_unit_test(test_mutations_never_crash),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
