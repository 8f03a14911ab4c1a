/*
 * The agent's secrets at rest (docs/CATALOG.md, docs/SECURITY.md): sealed with a key derived from
 * local.key and the machine's identity. A master key sealed as agents sealed it before the binding
 * (version 1: local.key alone) opens once, the same key, and is sealed again bound; one sealed with
 * another local.key (or on another machine: tests/e2e/machine.sh) is refused with OB_ENOKEY and a
 * message that says to set the passphrase again, which then works; a bound secret moved under
 * another secret's name does not open.
 */
#include "testutil.h"
#include "agent/agent_internal.h"
#include "util/util.h"
#include "vault/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *PP = "secrets test passphrase 123";
static ob_test_server srv;
static char *secrets;

static int setup(void **state)
{
	(void)state;
	ob_test_server_folders(&srv, "secrets");
	ob_test_server_register(&srv, "home", "/nonexistent/obagent", "secrets-test", "SecretsTest", PP);
	secrets = ob_test_path(srv.dir, "home/secrets");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_test_server_dispose(&srv);
	free(secrets);
	secrets = NULL;
	return 0;
}

static char *secret_file(const char *name)
{
	return ob_test_path(secrets, name);
}

static void master_key(uint8_t out[OB_MASTER_KEY_BYTES], ob_agent *a)
{
	ob_registration *reg = NULL;

	assert_ok(ob_agent_registration(&reg, a));
	assert_ok(ob_agent_master_key(out, a, reg));
	ob_registration_free(reg);
}

static ob_agent *reopen(void)
{
	char *home = ob_test_path(srv.dir, "home");

	ob_agent_free(srv.agent);
	assert_ok(ob_agent_open(&srv.agent, home));
	free(home);
	return srv.agent;
}

/* Seal master.key as agents did before the binding: nonce, AES-256-GCM under local.key's bytes, "obagent-local-secret-v1". */
static void write_version1(const uint8_t master[OB_MASTER_KEY_BYTES])
{
	ob_registration *reg = NULL;
	ob_buf rec = OB_BUF_INIT;
	char *lk = secret_file("local.key"), *mk = secret_file("master.key"), *local, *key64;
	uint8_t *sealed;
	size_t len = 0;
	const char *aad = "obagent-local-secret-v1";

	assert_ok(ob_agent_registration(&reg, srv.agent));
	local = ob_test_read(lk, &len);
	assert_int_equal(len, 32);
	key64 = ob_base64_encode(master, OB_MASTER_KEY_BYTES);
	assert_ok(ob_kv_begin(&rec, "local-key", 1));
	assert_ok(ob_kv_add(&rec, "vault_id", reg->vault_id));
	assert_ok(ob_kv_add(&rec, "server_id", reg->server_id));
	assert_ok(ob_kv_add_i64(&rec, "key_sequence", 1));
	assert_ok(ob_kv_add(&rec, "master_key", key64));
	sealed = malloc(OB_AEAD_NONCE_BYTES + rec.len + OB_AEAD_TAG_BYTES);
	assert_ok(ob_random(sealed, OB_AEAD_NONCE_BYTES));
	assert_ok(ob_aead_seal(sealed + OB_AEAD_NONCE_BYTES, (const uint8_t *)local, sealed, aad, strlen(aad),
		rec.data, rec.len));
	ob_test_write(mk, sealed, OB_AEAD_NONCE_BYTES + rec.len + OB_AEAD_TAG_BYTES);
	free(sealed);
	free(key64);
	free(local);
	ob_buf_dispose(&rec);
	ob_registration_free(reg);
	free(lk);
	free(mk);
}

/* Whether this machine has an identity the secrets are bound to (else they are sealed as version 1). */
static int has_machine_id(void)
{
	const char *paths[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };
	struct stat st;
	int i;

	for (i = 0; i < 2; i++)
		if (stat(paths[i], &st) == 0 && st.st_size >= 32)
			return 1;
	return 0;
}

static void test_secret_sealed_before_the_binding_opens_once_and_is_sealed_again(void **state)
{
	uint8_t master[OB_MASTER_KEY_BYTES], again[OB_MASTER_KEY_BYTES];
	char *mk = secret_file("master.key"), *lk = secret_file("local.key"), *text, *local_before, *local_after;
	size_t len = 0, before_len = 0, after_len = 0;

	(void)state;
	if (!has_machine_id()) {
		print_message("This machine has no identity: its secrets are not bound (version 1); nothing to upgrade.\n");
		free(mk);
		free(lk);
		return;
	}
	master_key(master, srv.agent);
	text = ob_test_read(mk, &len);
	assert_memory_equal(text, "OBS2", 4);   /* sealed bound to the machine */
	free(text);
	write_version1(master);
	local_before = ob_test_read(lk, &before_len);
	/* A new process (the next job's worker, a new session) opens it and seals it again. */
	master_key(again, reopen());
	assert_memory_equal(again, master, OB_MASTER_KEY_BYTES);
	text = ob_test_read(mk, &len);
	assert_memory_equal(text, "OBS2", 4);
	free(text);
	master_key(again, reopen());
	assert_memory_equal(again, master, OB_MASTER_KEY_BYTES);
	local_after = ob_test_read(lk, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(local_after, local_before, before_len);   /* local.key stays: only the sealing changed */
	free(local_before);
	free(local_after);
	free(mk);
	free(lk);
}

static void test_secret_of_another_local_key_is_refused_and_set_again(void **state)
{
	char *lk = secret_file("local.key");
	uint8_t fresh[32], master[OB_MASTER_KEY_BYTES];
	ob_machine_settings *s = NULL;

	(void)state;
	/* Another local.key: what another machine's folder, or a folder put together from two, looks like. */
	assert_ok(ob_random(fresh, sizeof(fresh)));
	ob_test_write(lk, fresh, sizeof(fresh));
	reopen();
	{
		ob_registration *reg = NULL;
		assert_ok(ob_agent_registration(&reg, srv.agent));
		assert_ob(has_machine_id() ? OB_ENOKEY : OB_ECORRUPT, ob_agent_master_key(master, srv.agent, reg));
		assert_non_null(strstr(ob_error_last(), "master.key"));
		assert_non_null(strstr(ob_error_last(), "Set the encryption passphrase again"));
		ob_registration_free(reg);
	}
	assert_ok(ob_agent_settings(&s, srv.agent));
	assert_int_equal(s->encryption_key_set, 0);   /* Get-OBMachineSetting: NotSet */
	ob_machine_settings_free(s);
	/* Setting the passphrase again opens the server's key from the vault, sealed anew here. */
	assert_ok(ob_agent_set_passphrase(srv.agent, (const uint8_t *)PP, strlen(PP), NULL));
	master_key(master, reopen());
	free(lk);
}

static void test_bound_secret_under_another_name_does_not_open(void **state)
{
	char *mk = secret_file("master.key"), *pw = secret_file("proxy-password"), *data;
	size_t len = 0;
	ob_machine_settings *s = NULL;

	(void)state;
	if (!has_machine_id()) {
		free(mk);
		free(pw);
		return;
	}
	assert_ok(ob_agent_set_proxy(srv.agent, "proxy.example", 3128, "user", (const uint8_t *)"proxy secret", 12));
	data = ob_test_read(pw, &len);
	ob_test_write(mk, data, len);   /* the proxy password's file where the master key's was */
	free(data);
	{
		ob_registration *reg = NULL;
		uint8_t master[OB_MASTER_KEY_BYTES];
		assert_ok(ob_agent_registration(&reg, reopen()));
		assert_ob(OB_ECORRUPT, ob_agent_master_key(master, srv.agent, reg));
		assert_non_null(strstr(ob_error_last(), "cannot be opened"));
		ob_registration_free(reg);
	}
	assert_ok(ob_agent_settings(&s, srv.agent));
	assert_int_equal(s->encryption_key_set, 0);
	ob_machine_settings_free(s);
	free(mk);
	free(pw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_secret_sealed_before_the_binding_opens_once_and_is_sealed_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_of_another_local_key_is_refused_and_set_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_secret_under_another_name_does_not_open, setup, teardown),
	};

	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
