/*
 * Registration and the passphrase through the public API: the journey and each
 * refusal (expired, tampered, superseded, foreign vault, PIN missing/wrong/expired).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

typedef struct {
	char *dir;
	char *vault_path;
	char *out;
	ob_vault *vault;
} fixture;

static const char *PP = "0123456789abcdef-first";
static const char *PP2 = "a second passphrase, long enough";

static char *home(fixture *f, const char *name)
{
	return ob_test_path(f->dir, name);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = ob_test_tempdir("reg");
	f->vault_path = ob_test_path(f->dir, "vault");
	f->out = ob_test_path(f->dir, "creds");
	ob_env_set("OBAGENT_NOW", NULL);
	ob_env_set("OBAGENT_SERVER_NAME", "server-a");
	if (ob_vault_create(&f->vault, f->vault_path, "TestVault") < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ob_env_set("OBAGENT_NOW", NULL);
	ob_vault_free(f->vault);
	ob_test_rmtree(f->dir);
	free(f->dir);
	free(f->vault_path);
	free(f->out);
	free(f);
	return 0;
}

static ob_agent *open_agent(fixture *f, const char *name)
{
	ob_agent *a;
	char *h = home(f, name);

	assert_ok(ob_agent_open(&a, h));
	free(h);
	return a;
}

static void set_now_offset(int64_t seconds)
{
	char text[32];
	time_t t = time(NULL) + (time_t)seconds;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_ok(ob_env_set("OBAGENT_NOW", text));
}

static void test_journey(void **state)
{
	fixture *f = *state;
	char *cred;
	ob_agent *a = open_agent(f, "home-a");
	ob_registration *reg;
	ob_machine_settings *s;
	size_t servers;

	assert_ob(OB_ENOTREG, ob_agent_registration(&reg, a));
	assert_ob(OB_ENOTREG, ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_vault_credentials_issue(&cred, f->vault, f->out, 10));
	assert_ok(ob_agent_register(&reg, a, cred));
	assert_string_equal(reg->vault_name, "TestVault");
	assert_string_equal(reg->server_name, "server-a");
	assert_string_equal(reg->vault_id, ob_vault_id(f->vault));
	ob_registration_free(reg);
	assert_ok(ob_vault_server_count(&servers, f->vault));
	assert_int_equal(servers, 1);

	assert_ok(ob_agent_settings(&s, a));
	assert_int_equal(s->encryption_key_set, 0);
	ob_machine_settings_free(s);
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_agent_settings(&s, a));
	assert_int_equal(s->encryption_key_set, 1);
	ob_machine_settings_free(s);

	/* Registering again to the same vault is fine (and keeps the key). */
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ok(ob_agent_settings(&s, a));
	assert_int_equal(s->encryption_key_set, 1);
	ob_machine_settings_free(s);
	ob_str_free(cred);
	ob_agent_free(a);
}

static void test_refusals_of_the_path(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-b");
	char *txt = ob_test_path(f->dir, "creds.txt");

	ob_test_write(txt, "x", 1);
	assert_ob(OB_EINVALID, ob_agent_register(NULL, a, "relative/Vault.VaultCredentials"));
	assert_non_null(strstr(ob_error_last(), "relative"));
	assert_ob(OB_EINVALID, ob_agent_register(NULL, a, txt));
	assert_non_null(strstr(ob_error_last(), ".VaultCredentials"));
	free(txt);
	txt = ob_test_path(f->dir, "absent.VaultCredentials");
	assert_ob(OB_ENOTFOUND, ob_agent_register(NULL, a, txt));
	ob_test_write(txt, "garbage", 7);
	assert_ob(OB_EINVALID, ob_agent_register(NULL, a, txt));
	assert_non_null(strstr(ob_error_last(), "malformed"));
	free(txt);
	ob_agent_free(a);
}

static void test_tampered_file(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-c");
	char *cred, *xml, *p;
	size_t len;

	assert_ok(ob_vault_credentials_issue(&cred, f->vault, f->out, 1));
	xml = ob_test_read(cred, &len);
	/* Stretch the expiry by a year: the signature no longer matches. */
	p = strstr(xml, "<ExpiresAt>") + 11;
	p[3] = (char)(p[3] == '9' ? '0' : p[3] + 1);
	ob_test_write(cred, xml, len);
	assert_ob(OB_EAUTH, ob_agent_register(NULL, a, cred));
	assert_non_null(strstr(ob_error_last(), "changed"));
	free(xml);
	ob_str_free(cred);
	ob_agent_free(a);
}

static void test_expired_and_superseded(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-d");
	char *older, *newer, *older_copy;
	size_t len;
	char *xml;

	assert_ok(ob_vault_credentials_issue(&older, f->vault, f->out, 2));
	/* Keep the older file under another name: the newer one has the same name today. */
	xml = ob_test_read(older, &len);
	older_copy = ob_test_path(f->dir, "older.VaultCredentials");
	ob_test_write(older_copy, xml, len);
	free(xml);
	assert_ok(ob_vault_credentials_issue(&newer, f->vault, f->out, 2));

	assert_ob(OB_ESUPERSEDED, ob_agent_register(NULL, a, older_copy));
	assert_non_null(strstr(ob_error_last(), "newer"));
	set_now_offset(3 * 86400);
	assert_ob(OB_EEXPIRED, ob_agent_register(NULL, a, newer));
	assert_non_null(strstr(ob_error_last(), "expired"));
	assert_ok(ob_env_set("OBAGENT_NOW", NULL));
	assert_ok(ob_agent_register(NULL, a, newer));
	free(older_copy);
	ob_str_free(older);
	ob_str_free(newer);
	ob_agent_free(a);
}

static void test_foreign_vault(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-e");
	ob_vault *other;
	char *other_path = ob_test_path(f->dir, "other"), *cred1, *cred2;

	assert_ok(ob_vault_create(&other, other_path, "Other"));
	assert_ok(ob_vault_credentials_issue(&cred1, f->vault, f->out, 10));
	assert_ok(ob_vault_credentials_issue(&cred2, other, f->dir, 10));
	assert_ok(ob_agent_register(NULL, a, cred1));
	assert_ob(OB_EFOREIGN, ob_agent_register(NULL, a, cred2));
	assert_non_null(strstr(ob_error_last(), "TestVault"));
	ob_vault_free(other);
	ob_str_free(cred1);
	ob_str_free(cred2);
	free(other_path);
	ob_agent_free(a);
}

/* The vault a credentials file names, read without registering: compared with the registration. */
static void test_credentials_vault(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-cv");
	ob_vault *other;
	ob_registration *reg;
	char *other_path = ob_test_path(f->dir, "other"), *cred_a, *cred_b, *id_a, *name_a, *id_b, *name_b;
	char *missing = ob_test_path(f->dir, "missing.VaultCredentials");
	char *junk = ob_test_path(f->dir, "junk.VaultCredentials");

	assert_ok(ob_vault_create(&other, other_path, "OtherVault"));
	assert_ok(ob_vault_credentials_issue(&cred_a, f->vault, f->out, 2));
	assert_ok(ob_vault_credentials_issue(&cred_b, other, f->dir, 2));
	assert_ok(ob_agent_register(NULL, a, cred_a));
	assert_ok(ob_agent_registration(&reg, a));
	assert_ok(ob_credentials_vault(&id_a, &name_a, cred_a));
	assert_ok(ob_credentials_vault(&id_b, &name_b, cred_b));
	assert_string_equal(id_a, reg->vault_id);
	assert_string_equal(name_a, "TestVault");
	assert_string_not_equal(id_b, reg->vault_id);
	assert_string_equal(name_b, "OtherVault");
	ob_str_free(id_a);
	ob_str_free(name_a);
	/* An expired file still names its vault; either output may be NULL. */
	set_now_offset(30 * 86400);
	assert_ob(OB_EEXPIRED, ob_agent_register(NULL, a, cred_a));
	assert_ok(ob_credentials_vault(&id_a, NULL, cred_a));
	assert_string_equal(id_a, reg->vault_id);
	ob_str_free(id_a);
	assert_ok(ob_env_set("OBAGENT_NOW", NULL));
	/* Refusals: a missing file, a malformed one, a relative path, another extension. */
	assert_ob(OB_ENOTFOUND, ob_credentials_vault(&id_a, &name_a, missing));
	assert_null(id_a);
	ob_test_write(junk, "<not a credentials file", 23);
	assert_ob(OB_EINVALID, ob_credentials_vault(&id_a, &name_a, junk));
	assert_ob(OB_EINVALID, ob_credentials_vault(&id_a, &name_a, "relative.VaultCredentials"));
	assert_non_null(strstr(ob_error_last(), "relative"));
	assert_ob(OB_EINVALID, ob_credentials_vault(&id_a, &name_a, "/tmp/file.xml"));
	assert_ob(OB_EINVALID, ob_credentials_vault(&id_a, &name_a, NULL));
	ob_registration_free(reg);
	ob_str_free(id_b);
	ob_str_free(name_b);
	ob_vault_free(other);
	ob_str_free(cred_a);
	ob_str_free(cred_b);
	free(other_path);
	free(missing);
	free(junk);
	ob_agent_free(a);
}

static void test_passphrase_rules_and_pin(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-f"), *b;
	char *cred, *pin, *pin2;
	int64_t expires;
	ob_machine_settings *s;

	assert_ok(ob_vault_credentials_issue(&cred, f->vault, f->out, 10));
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ob(OB_EINVALID, ob_agent_set_passphrase(a, (const uint8_t *)"too short", 9, NULL));
	assert_ob(OB_EINVALID, ob_agent_set_passphrase(a, (const uint8_t *)"caf\xc3\xa9 is not ascii at all", 25, NULL));
	assert_ok(ob_agent_settings(&s, a));
	assert_int_equal(s->encryption_key_set, 0);
	ob_machine_settings_free(s);
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), " "));

	/* Changing needs a PIN: missing, wrong, expired all refused. */
	assert_ob(OB_EAUTH, ob_agent_set_passphrase(a, (const uint8_t *)PP2, strlen(PP2), NULL));
	assert_non_null(strstr(ob_error_last(), "PIN"));
	assert_ob(OB_EAUTH, ob_agent_set_passphrase(a, (const uint8_t *)PP2, strlen(PP2), "12345678"));
	assert_ob(OB_EAUTH, ob_agent_set_passphrase(a, (const uint8_t *)PP2, strlen(PP2), "abc"));
	assert_ok(ob_vault_security_pin_new(&pin, &expires, f->vault));
	assert_int_equal(strlen(pin), 8);
	set_now_offset(6 * 60);
	assert_ob(OB_EEXPIRED, ob_agent_set_passphrase(a, (const uint8_t *)PP2, strlen(PP2), pin));
	assert_ok(ob_env_set("OBAGENT_NOW", NULL));

	/* Nothing changed so far: a second agent of the same server opens the key with PP only. */
	b = open_agent(f, "home-f2");
	assert_ok(ob_agent_register(NULL, b, cred));
	assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(b, (const uint8_t *)PP2, strlen(PP2), NULL));
	assert_ok(ob_agent_set_passphrase(b, (const uint8_t *)PP, strlen(PP), NULL));
	ob_agent_free(b);

	/* With a current PIN the change goes through, and then only PP2 opens the key. */
	assert_ok(ob_vault_security_pin_new(&pin2, &expires, f->vault));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP2, strlen(PP2), pin2));
	b = open_agent(f, "home-f3");
	assert_ok(ob_agent_register(NULL, b, cred));
	assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(b, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_agent_set_passphrase(b, (const uint8_t *)PP2, strlen(PP2), NULL));
	ob_agent_free(b);

	ob_str_free(pin);
	ob_str_free(pin2);
	ob_str_free(cred);
	ob_agent_free(a);
}

/* ob_agent_check_passphrase: only the passphrase last set is "this one"; nothing is changed. */
static void test_passphrase_check(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-k"), *b;
	char *cred, *pin;
	int64_t expires;
	ob_machine_settings *s;

	assert_ob(OB_ENOTREG, ob_agent_check_passphrase(a, (const uint8_t *)PP, strlen(PP)));
	assert_ok(ob_vault_credentials_issue(&cred, f->vault, f->out, 10));
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ob(OB_ENOKEY, ob_agent_check_passphrase(a, (const uint8_t *)PP, strlen(PP)));
	assert_non_null(strstr(ob_error_last(), "Set-OBMachineSetting"));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL));

	assert_ok(ob_agent_check_passphrase(a, (const uint8_t *)PP, strlen(PP)));
	assert_ob(OB_EPASSPHRASE, ob_agent_check_passphrase(a, (const uint8_t *)PP2, strlen(PP2)));
	assert_non_null(strstr(ob_error_last(), "not the one set"));
	/* One byte short of the passphrase, and one byte more: not it. */
	assert_ob(OB_EPASSPHRASE, ob_agent_check_passphrase(a, (const uint8_t *)PP, strlen(PP) - 1));
	assert_ob(OB_EINVALID, ob_agent_check_passphrase(a, (const uint8_t *)"too short", 9));
	assert_ob(OB_EINVALID, ob_agent_check_passphrase(a, NULL, 0));
	/* A check changes nothing: still set, still PP. */
	assert_ok(ob_agent_settings(&s, a));
	assert_int_equal(s->encryption_key_set, 1);
	ob_machine_settings_free(s);
	assert_ok(ob_agent_check_passphrase(a, (const uint8_t *)PP, strlen(PP)));

	/* Changed (with a PIN): the new one checks, the old one no longer does, though its wrap stays in the vault. */
	assert_ok(ob_vault_security_pin_new(&pin, &expires, f->vault));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP2, strlen(PP2), pin));
	assert_ok(ob_agent_check_passphrase(a, (const uint8_t *)PP2, strlen(PP2)));
	assert_ob(OB_EPASSPHRASE, ob_agent_check_passphrase(a, (const uint8_t *)PP, strlen(PP)));

	/* Another agent of the same server (registered again, no passphrase set there yet): no key on it. */
	b = open_agent(f, "home-k2");
	assert_ok(ob_agent_register(NULL, b, cred));
	assert_ob(OB_ENOKEY, ob_agent_check_passphrase(b, (const uint8_t *)PP2, strlen(PP2)));
	assert_ok(ob_agent_set_passphrase(b, (const uint8_t *)PP2, strlen(PP2), NULL));
	assert_ok(ob_agent_check_passphrase(b, (const uint8_t *)PP2, strlen(PP2)));
	assert_ob(OB_EPASSPHRASE, ob_agent_check_passphrase(b, (const uint8_t *)PP, strlen(PP)));
	ob_agent_free(b);

	ob_str_free(pin);
	ob_str_free(cred);
	ob_agent_free(a);
}

static void test_vault_create_refusals(void **state)
{
	fixture *f = *state;
	ob_vault *v;
	char *nonempty = ob_test_path(f->dir, "nonempty"), *file, *absent;

	assert_ob(OB_EEXISTS, ob_vault_create(&v, f->vault_path, "Again"));
	assert_ok(ob_vault_open(&v, f->vault_path));
	assert_string_equal(ob_vault_name(v), "TestVault");
	ob_vault_free(v);
	assert_ob(OB_EINVALID, ob_vault_create(&v, nonempty, "bad name!"));
	assert_ob(OB_EINVALID, ob_vault_create(&v, nonempty, ""));
	file = ob_test_path(f->dir, "nonempty/file.txt");
	absent = ob_test_path(f->dir, "absent");
	assert_ok(mkdir(nonempty, 0700));
	ob_test_write(file, "x", 1);
	assert_ob(OB_EINVALID, ob_vault_create(&v, nonempty, "Tmp"));
	assert_non_null(strstr(ob_error_last(), "not empty"));
	assert_ob(OB_ENOTFOUND, ob_vault_open(&v, absent));
	assert_ob(OB_ENOTFOUND, ob_vault_open(&v, nonempty));
	free(file);
	free(absent);
	free(nonempty);
}

static void test_settings_round_trip(void **state)
{
	fixture *f = *state;
	ob_agent *a = open_agent(f, "home-g");
	ob_machine_settings *s;

	assert_ok(ob_agent_set_proxy(a, "proxy.example", 3128, "user", (const uint8_t *)"secret-pw", 9));
	assert_ob(OB_EINVALID, ob_agent_set_proxy(a, "proxy.example", 70000, NULL, NULL, 0));
	assert_ok(ob_agent_set_throttle(a, 0x3e, 9 * 60, 18 * 60, 524288, 2097152));
	assert_ob(OB_EINVALID, ob_agent_set_throttle(a, 0x3e, 18 * 60, 9 * 60, 524288, 2097152));
	assert_ob(OB_EINVALID, ob_agent_set_throttle(a, 0x3e, 9 * 60, 18 * 60, 10, 2097152));
	assert_ok(ob_agent_settings(&s, a));
	assert_int_equal(s->proxy_enabled, 1);
	assert_string_equal(s->proxy_server, "proxy.example");
	assert_int_equal(s->proxy_port, 3128);
	assert_string_equal(s->proxy_username, "user");
	assert_int_equal(s->proxy_has_password, 1);
	assert_int_equal(s->throttle_enabled, 1);
	assert_int_equal(s->work_days, 0x3e);
	assert_int_equal(s->start_work_minute, 540);
	assert_int_equal(s->work_hour_bandwidth, 524288);
	ob_machine_settings_free(s);
	assert_ok(ob_agent_set_no_proxy(a));
	assert_ok(ob_agent_set_no_throttle(a));
	assert_ok(ob_agent_settings(&s, a));
	assert_int_equal(s->proxy_enabled, 0);
	assert_null(s->proxy_server);
	assert_int_equal(s->throttle_enabled, 0);
	ob_machine_settings_free(s);
	ob_agent_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_of_the_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_and_superseded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passphrase_rules_and_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passphrase_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_create_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_round_trip, setup, teardown),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
