/*
 * A server's key records surrounded by forgeries (docs/SECURITY.md): garbage, a
 * genuine record with one byte changed, a copy moved to another sequence, a
 * record wrapping another master key under another passphrase and signed by
 * another key, one at 9999999999, one asking for scrypt with N=2^30 (or 2^20).
 * The victim still rebuilds from a fresh state folder and restores, another
 * server still restores it with its passphrase, a change of passphrase takes
 * the first free name above the genuine record, and squatted data source names
 * block nothing. A legacy area (version 1 records, as the code before signing
 * keys wrote them) rebuilds the same, and once the owner certifies its signing
 * key (ob_server_signer_certify) forgeries are skipped without scrypt.
 */
#include "testutil.h"
#include "agent/repo_open.h"
#include "vault/serverkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *PP = "the victim's passphrase";
static const char *PP2 = "the victim's second passphrase";
static const char *OTHER_PP = "the forger's own passphrase";

typedef struct warnings {
	size_t n;
	char text[64][400];
} warnings;

static void collect(const char *what, const char *why, void *payload)
{
	warnings *w = payload;

	if (w->n < 64)
		snprintf(w->text[w->n++], sizeof(w->text[0]), "%s: %s", what, why);
}

static int warned(const warnings *w, const char *what, const char *why)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strstr(w->text[i], what) && (!why || strstr(w->text[i], why)))
			return 1;
	return 0;
}

static void key_object(char *out, size_t size, const char *server, int64_t seq)
{
	char id[33];

	ob_vault_server_id(id, server);
	snprintf(out, size, "servers/%s/keys/%010lld", id, (long long)seq);
}

/* Write an object as any agent can: create-only, any name, any bytes. */
static void forge(const char *vault_path, const char *name, const char *data, size_t len)
{
	ob_vault_conn vc;

	assert_ok(ob_vault_conn_open(&vc, vault_path));
	assert_ok(vc.be->put(vc.be, name, data, len));
	ob_vault_conn_dispose(&vc);
}

static char *read_object(const char *vault_path, const char *name, size_t *len)
{
	ob_vault_conn vc;
	char *text = NULL;

	assert_ok(ob_vault_conn_open(&vc, vault_path));
	assert_ok(ob_vault_read(&text, len, &vc, name));
	ob_vault_conn_dispose(&vc);
	return text;
}

static int object_exists(const char *vault_path, const char *name)
{
	ob_vault_conn vc;
	uint64_t size;
	int rc;

	assert_ok(ob_vault_conn_open(&vc, vault_path));
	rc = vc.be->stat(&size, vc.be, name);
	ob_error_clear();
	ob_vault_conn_dispose(&vc);
	return rc == 0;
}

/* Replace the first occurrence of from by to in text (same length or not); returns a new buffer. */
static char *replaced(const char *text, size_t len, const char *from, const char *to, size_t *out_len)
{
	const char *p = strstr(text, from);
	char *out;

	assert_non_null(p);
	out = malloc(len - strlen(from) + strlen(to) + 1);
	memcpy(out, text, (size_t)(p - text));
	memcpy(out + (p - text), to, strlen(to));
	memcpy(out + (p - text) + strlen(to), p + strlen(from), len - (size_t)(p - text) - strlen(from) + 1);
	*out_len = len - strlen(from) + strlen(to);
	return out;
}

/*
 * The forgeries around the victim's genuine record at seq 1, at 2..6 and
 * 9999999999. v2_forgery: the record wrapping another master key, signed by
 * another key, is written through the same writer as a genuine one.
 */
static void forge_around(const char *vault_path, const char *server)
{
	char name[128], *genuine, *changed, *slow;
	size_t len, clen, slen;
	ob_vault_conn vc;
	uint8_t other[OB_MASTER_KEY_BYTES];
	char id[33];

	key_object(name, sizeof(name), server, 1);
	genuine = read_object(vault_path, name, &len);
	key_object(name, sizeof(name), server, 2);
	forge(vault_path, name, "not a record at all\n", 20);
	/* One byte of the wrapped key changed. */
	changed = malloc(len);
	memcpy(changed, genuine, len);
	{
		char *w = strstr(changed, "wrapped_key=") + 14;
		*w = (char)(*w == 'A' ? 'B' : 'A');
	}
	key_object(name, sizeof(name), server, 3);
	forge(vault_path, name, changed, len);
	/* The genuine record copied as it is to the next free number. */
	key_object(name, sizeof(name), server, 4);
	forge(vault_path, name, genuine, len);
	/* Another master key under another passphrase, signed by its own key, and again at the last number. */
	assert_ok(ob_random(other, sizeof(other)));
	ob_vault_server_id(id, server);
	assert_ok(ob_vault_conn_open(&vc, vault_path));
	assert_ok(ob_server_key_write(&vc, id, 5, other, (const uint8_t *)OTHER_PP, strlen(OTHER_PP), 1000));
	assert_ok(ob_server_key_write(&vc, id, 9999999999LL, other, (const uint8_t *)OTHER_PP, strlen(OTHER_PP), 1000));
	ob_vault_conn_dispose(&vc);
	/* A record that asks for scrypt with N=2^30 (a reader that ran it would never end). */
	slow = replaced(genuine, len, "kdf_log2_n=15", "kdf_log2_n=30", &slen);
	key_object(name, sizeof(name), server, 6);
	forge(vault_path, name, slow, slen);
	ob_wipe(other, sizeof(other));
	free(slow);
	free(changed);
	free(genuine);
}

static ob_agent *agent_for(ob_test_server *s, const char *home, const char *server)
{
	ob_agent *a;
	ob_vault *v;
	char *cred, *h = ob_test_path(s->dir, home);

	ob_env_set("OBAGENT_SERVER_NAME", server);
	assert_ok(ob_agent_open(&a, h));
	assert_ok(ob_vault_open(&v, s->vault_path));
	assert_ok(ob_vault_credentials_issue(&cred, v, s->creds, 10));
	assert_ok(ob_agent_register(NULL, a, cred));
	ob_str_free(cred);
	ob_vault_free(v);
	free(h);
	return a;
}

/* The id of the (only) data source of a's committed policy. */
static int64_t policy_source_id(ob_agent *a)
{
	ob_policy *policy;
	int64_t id;

	assert_ok(ob_policy_get(&policy, a));
	assert_int_equal(ob_policy_datasource_count(policy), 1);
	id = ob_policy_datasource_id(policy, 0);
	ob_policy_free(policy);
	return id;
}

static void commit_policy(ob_test_server *s, ob_agent *a)
{
	ob_filespec_input spec;
	ob_policy *policy;

	spec.spec = s->src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, a, &spec, 1));
	ob_policy_free(policy);
}

static char *new_pin(ob_test_server *s)
{
	ob_vault *v;
	char *pin;
	int64_t expires;

	assert_ok(ob_vault_open(&v, s->vault_path));
	assert_ok(ob_vault_security_pin_new(&pin, &expires, v));
	ob_vault_free(v);
	return pin;
}

/* Restore everything of the newest point of server (NULL: a's own) into dest; the file must come back. */
static void restore_check(ob_test_server *s, ob_agent *a, const char *server, const char *pp, const char *dest)
{
	ob_recovery *rec = NULL;
	ob_recovery_point **pts = NULL;
	ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
	const char *items[1] = { "" };
	ob_job_info *j = NULL;
	size_t n = 0, len;
	char *back, *file, *rel;

	assert_ok(ob_recovery_open(&rec, a, server, (const uint8_t *)pp, pp ? strlen(pp) : 0));
	assert_ok(ob_recovery_list_points(&pts, &n, rec));
	assert_true(n >= 1);
	req.server_name = server;
	req.passphrase = (const uint8_t *)pp;
	req.passphrase_len = pp ? strlen(pp) : 0;
	req.point_id = pts[0]->id;
	req.datasource_id = strtoll(pts[0]->datasource_ids, NULL, 10);
	req.items = items;
	req.item_count = 1;
	req.destination = dest;
	assert_ok(ob_recovery_start(&j, a, &req));
	j = ob_test_job_wait(a, j);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	rel = ob_test_path(dest, ob_test_rel(s->src));
	file = ob_test_path(rel, "ledger.txt");
	back = ob_test_read(file, &len);
	assert_string_equal(back, "the victim's ledger\n");
	free(back);
	free(file);
	free(rel);
	ob_recovery_points_free(pts, n);
	ob_recovery_free(rec);
}

static void put_ledger(ob_test_server *s)
{
	char *p = ob_test_path(s->src, "ledger.txt");

	ob_test_write(p, "the victim's ledger\n", 20);
	free(p);
}

/* The victim's key, opened through the one reader with warnings collected. */
static int open_key(ob_test_server *s, const char *server, const char *pp, ob_server_key_info *info, warnings *w,
	int64_t *seq)
{
	ob_vault_conn vc;
	uint8_t master[OB_MASTER_KEY_BYTES];
	char id[33];
	int rc;

	ob_vault_server_id(id, server);
	assert_ok(ob_vault_conn_open(&vc, s->vault_path));
	memset(w, 0, sizeof(*w));
	rc = ob_server_key_open(master, seq, info, &vc, id, (const uint8_t *)pp, strlen(pp), collect, w);
	ob_wipe(master, sizeof(master));
	ob_vault_conn_dispose(&vc);
	return rc;
}

static void assert_forgeries_warned(const warnings *w, const char *server, int by_signature)
{
	char name[128];
	int64_t seqs[] = { 2, 3, 4, 5, 6, 9999999999LL };
	size_t i;

	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		key_object(name, sizeof(name), server, seqs[i]);
		if (!warned(w, name, by_signature ? "skipped" : NULL)) {
			size_t k;
			for (k = 0; k < w->n; k++)
				print_error("warning: %s\n", w->text[k]);
			fail_msg("no warning about %s", name);
		}
		if (by_signature && seqs[i] != 2)
			assert_true(warned(w, name, "without trying the passphrase"));
	}
}

static void test_forged_key_records_around_a_victim(void **state)
{
	ob_test_server s;
	ob_agent *a2, *a3, *b;
	ob_job_info *j;
	ob_recovery_source **sources = NULL;
	ob_recovery_point **before = NULL, **after = NULL;
	ob_server_key_info info;
	warnings w;
	size_t n = 0, nb = 0, na = 0;
	int64_t seq = 0, dsid;
	char id[33], name[160], *pin, *out;

	(void)state;
	ob_test_server_folders(&s, "keys");
	put_ledger(&s);
	ob_test_server_register(&s, "home-a", OBAGENT_WORKER_PATH, "victim", "KeysVault", PP);
	/* Data source names squatted before the victim's first backup: its backup must not fail. */
	ob_vault_server_id(id, "victim");
	dsid = policy_source_id(s.agent);
	{
		char text[128];
		int len = snprintf(text, sizeof(text), "obagent-source 1\nid=%lld\nname=/forged\nkind=FileFolder\n",
			(long long)dsid);
		snprintf(name, sizeof(name), "servers/%s/sources/%lld", id, (long long)dsid);
		forge(s.vault_path, name, text, (size_t)len);
	}
	{
		/* And the other form of the name, signed by another key. */
		ob_buf rec = OB_BUF_INIT;
		uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
		assert_ok(ob_sign_keygen(priv, pub));
		assert_ok(ob_kv_begin(&rec, "source", 2));
		assert_ok(ob_kv_add_i64(&rec, "id", dsid));
		assert_ok(ob_kv_add(&rec, "name", "/forged"));
		assert_ok(ob_kv_add(&rec, "kind", "FileFolder"));
		assert_ok(ob_record_sign(&rec, priv));
		snprintf(name, sizeof(name), "servers/%s/sources/%lld-0123456789abcdef", id, (long long)dsid);
		forge(s.vault_path, name, rec.data, rec.len);
		ob_buf_dispose(&rec);
	}
	j = ob_test_backup(s.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	assert_ok(ob_recovery_points(&before, &nb, s.agent));

	forge_around(s.vault_path, "victim");
	assert_ok(open_key(&s, "victim", PP, &info, &w, &seq));
	assert_int_equal(seq, 1);
	assert_int_equal(info.anchored, 1);
	assert_int_equal(info.records, 7);
	assert_int_equal(info.tried, 1);                /* scrypt ran once: on the genuine record */
	assert_forgeries_warned(&w, "victim", 1);
	assert_ob(OB_EPASSPHRASE, open_key(&s, "victim", OTHER_PP, &info, &w, &seq));
	assert_int_equal(info.tried, 1);                /* the genuine record, which the wrong passphrase does not open */

	/* The victim rebuilds: a fresh state folder, registered again, the same passphrase. */
	a2 = agent_for(&s, "home-a2", "victim");
	assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(a2, (const uint8_t *)OTHER_PP, strlen(OTHER_PP), NULL));
	assert_ok(ob_agent_set_passphrase(a2, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_recovery_points(&after, &na, a2));
	assert_int_equal(na, nb);
	assert_string_equal(after[0]->id, before[0]->id);
	out = ob_test_path(s.dir, "out-own");
	restore_check(&s, a2, NULL, NULL, out);
	free(out);
	commit_policy(&s, a2);
	j = ob_test_backup(a2);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	{
		/* The squatted name made the first backup write its record under another; the next one found it. */
		ob_vault_conn vc;
		ob_name_list l;
		assert_ok(ob_vault_conn_open(&vc, s.vault_path));
		snprintf(name, sizeof(name), "servers/%s/sources/%lld-", id, (long long)dsid);
		assert_ok(ob_vault_list_names(&l, vc.be, name, 0));
		assert_int_equal(l.n, 2);            /* the forger's and the server's own */
		ob_name_list_dispose(&l);
		ob_vault_conn_dispose(&vc);
	}

	/* Another server lists the genuine source (not the squatters') and restores with the victim's passphrase. */
	b = agent_for(&s, "home-b", "server-b");
	assert_ok(ob_recovery_sources(&sources, &n, b, "victim"));
	assert_int_equal(n, 1);
	assert_string_not_equal(sources[0]->name, "/forged");
	assert_int_equal(sources[0]->datasource_id, dsid);
	assert_int_equal(sources[0]->datasource_id, strtoll(before[0]->datasource_ids, NULL, 10));
	ob_recovery_sources_free(sources, n);
	out = ob_test_path(s.dir, "out-other");
	restore_check(&s, b, "victim", PP, out);
	free(out);

	/* A change of passphrase takes the first free name above the genuine record: 7, not 10000000000. */
	pin = new_pin(&s);
	assert_ok(ob_agent_set_passphrase(a2, (const uint8_t *)PP2, strlen(PP2), pin));
	ob_str_free(pin);
	key_object(name, sizeof(name), "victim", 7);
	assert_true(object_exists(s.vault_path, name));
	key_object(name, sizeof(name), "victim", 8);
	assert_false(object_exists(s.vault_path, name));

	/* And rebuilds again: only the new passphrase opens the key. */
	a3 = agent_for(&s, "home-a3", "victim");
	assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(a3, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_agent_set_passphrase(a3, (const uint8_t *)PP2, strlen(PP2), NULL));
	out = ob_test_path(s.dir, "out-own2");
	restore_check(&s, a3, NULL, NULL, out);
	free(out);
	out = ob_test_path(s.dir, "out-other2");
	restore_check(&s, b, "victim", PP2, out);
	free(out);
	assert_ok(open_key(&s, "victim", PP2, &info, &w, &seq));
	assert_int_equal(seq, 7);
	assert_int_equal(info.tried, 1);

	ob_recovery_points_free(before, nb);
	ob_recovery_points_free(after, na);
	ob_agent_free(a2);
	ob_agent_free(a3);
	ob_agent_free(b);
	ob_test_server_dispose(&s);
}

static void test_a_new_server_whose_name_is_taken(void **state)
{
	ob_test_server s;
	ob_agent *c;
	ob_vault_conn vc;
	uint8_t other[OB_MASTER_KEY_BYTES];
	char id[33];

	(void)state;
	ob_test_server_folders(&s, "keys-taken");
	ob_test_server_register(&s, "home-a", OBAGENT_WORKER_PATH, "victim", "KeysVault", PP);
	/* Someone took "newcomer" before it registered: its first key record is theirs. */
	ob_vault_server_id(id, "newcomer");
	assert_ok(ob_random(other, sizeof(other)));
	assert_ok(ob_vault_conn_open(&vc, s.vault_path));
	assert_ok(ob_server_key_write(&vc, id, 1, other, (const uint8_t *)OTHER_PP, strlen(OTHER_PP), 1000));
	ob_vault_conn_dispose(&vc);
	c = agent_for(&s, "home-c", "newcomer");
	assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(c, (const uint8_t *)PP, strlen(PP), NULL));
	assert_non_null(strstr(ob_error_last(), "Give the passphrase last set for this server"));
	assert_non_null(strstr(ob_error_last(), "already taken"));
	assert_non_null(strstr(ob_error_last(), "another name"));
	ob_wipe(other, sizeof(other));
	ob_agent_free(c);
	ob_test_server_dispose(&s);
}

/* The key records today's code wrote before signing keys: version 1, at seq 1. */
static void write_legacy_key(ob_test_server *s, const char *server, const uint8_t master[OB_MASTER_KEY_BYTES])
{
	ob_vault_conn vc;
	ob_buf rec = OB_BUF_INIT;
	char id[33], name[128], aad[256];

	ob_vault_server_id(id, server);
	assert_ok(ob_vault_conn_open(&vc, s->vault_path));
	snprintf(aad, sizeof(aad), "obagent-server-key-v1|%s|%s|1", vc.id, id);
	assert_ok(ob_key_wrap(&rec, master, (const uint8_t *)PP, strlen(PP), aad, &OB_KDF_PASSPHRASE, 1000));
	key_object(name, sizeof(name), server, 1);
	assert_ok(vc.be->put(vc.be, name, rec.data, rec.len));
	ob_buf_dispose(&rec);
	ob_vault_conn_dispose(&vc);
}

static void test_legacy_area_and_the_owners_certificate(void **state)
{
	ob_test_server s;
	ob_agent *a, *a2, *a3, *b;
	ob_job_info *j;
	ob_repo r;
	ob_server_key_info info;
	warnings w;
	uint8_t master[OB_MASTER_KEY_BYTES], owner[OB_SIGN_PRIVATE_BYTES];
	ob_vault_conn vc;
	ob_vault *v;
	ob_recovery_source **sources = NULL;
	size_t n = 0;
	int64_t seq = 0, dsid;
	char id[33], name[160], *pin, *out, *cred;

	(void)state;
	ob_test_server_folders(&s, "keys-legacy");
	put_ledger(&s);
	/* A vault and a server as the code before signing keys left them: a version 1 wrap, a version 1 source. */
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, s.vault_path, "LegacyVault"));
	assert_ok(ob_vault_credentials_issue(&cred, v, s.creds, 10));
	ob_str_free(cred);
	ob_vault_free(v);
	assert_ok(ob_random(master, sizeof(master)));
	write_legacy_key(&s, "victim", master);
	ob_wipe(master, sizeof(master));
	a = agent_for(&s, "home-a", "victim");
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL));
	commit_policy(&s, a);
	ob_vault_server_id(id, "victim");
	dsid = policy_source_id(a);
	{
		/* Its unsigned source record (under a name that tells it from the genuine one in this test). */
		char text[256];
		int len = snprintf(text, sizeof(text), "obagent-source 1\nid=%lld\nname=/legacy-name\nkind=FileFolder\n",
			(long long)dsid);
		snprintf(name, sizeof(name), "servers/%s/sources/%lld", id, (long long)dsid);
		forge(s.vault_path, name, text, (size_t)len);
	}
	j = ob_test_backup(a);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	{
		/* The code before signing keys wrote no signed source: take away the one this backup wrote. */
		ob_name_list l;
		size_t i;
		assert_ok(ob_vault_conn_open(&vc, s.vault_path));
		snprintf(name, sizeof(name), "servers/%s/sources/%lld-", id, (long long)dsid);
		assert_ok(ob_vault_list_names(&l, vc.be, name, 0));
		assert_int_equal(l.n, 1);
		for (i = 0; i < l.n; i++)
			assert_ok(vc.be->remove(vc.be, l.v[i]));
		ob_name_list_dispose(&l);
		ob_vault_conn_dispose(&vc);
	}

	/* Forgeries around it; without an anchor each well-formed one costs a scrypt, the N=2^30 one none. */
	forge_around(s.vault_path, "victim");
	assert_ok(open_key(&s, "victim", PP, &info, &w, &seq));
	assert_int_equal(seq, 1);
	assert_int_equal(info.anchored, 0);
	assert_true(info.tried >= 2 && info.tried <= 5);
	assert_forgeries_warned(&w, "victim", 0);
	key_object(name, sizeof(name), "victim", 6);
	assert_true(warned(&w, name, "not tried"));

	a2 = agent_for(&s, "home-a2", "victim");
	assert_ok(ob_agent_set_passphrase(a2, (const uint8_t *)PP, strlen(PP), NULL));
	out = ob_test_path(s.dir, "out-legacy");
	restore_check(&s, a2, NULL, NULL, out);
	free(out);
	b = agent_for(&s, "home-b", "server-b");
	out = ob_test_path(s.dir, "out-legacy-other");
	restore_check(&s, b, "victim", PP, out);
	free(out);
	assert_ok(ob_recovery_sources(&sources, &n, b, "victim"));
	assert_int_equal(n, 1);
	assert_string_equal(sources[0]->name, "/legacy-name");   /* unsigned, as a legacy area's are */
	ob_recovery_sources_free(sources, n);

	/* The owner certifies the signing key; a forged signer in the way is removed first. */
	snprintf(name, sizeof(name), "servers/%s/signer", id);
	forge(s.vault_path, name, "obagent-signer 1\nserver=x\n", 26);
	assert_ok(ob_agent_repo_open(&r, a2, NULL));
	assert_int_equal(r.key_sequence, 1);
	assert_ok(ob_vault_conn_owner_key(owner, &r.vc));
	{
		uint8_t not_owner[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
		assert_ok(ob_sign_keygen(not_owner, pub));
		assert_ob(OB_EAUTH, ob_server_signer_certify(&r, not_owner));
	}
	assert_ob(1, ob_server_signer_certify(&r, owner));
	assert_ob(0, ob_server_signer_certify(&r, owner));
	ob_wipe(owner, sizeof(owner));
	ob_repo_dispose(&r);
	{
		uint8_t pub[OB_SIGN_PUBLIC_BYTES];
		assert_ok(ob_vault_conn_open(&vc, s.vault_path));
		assert_ok(ob_server_anchor_public(pub, &vc, id));
		ob_vault_conn_dispose(&vc);
	}

	/* Now forgeries are skipped by signature: scrypt runs once, on the wrap the owner named. */
	assert_ok(open_key(&s, "victim", PP, &info, &w, &seq));
	assert_int_equal(seq, 1);
	assert_int_equal(info.anchored, 1);
	assert_int_equal(info.tried, 1);
	assert_forgeries_warned(&w, "victim", 1);
	/* The sources: the version 1 record no longer counts; the certificate signed the one the point names. */
	assert_ok(ob_recovery_sources(&sources, &n, b, "victim"));
	assert_int_equal(n, 1);
	assert_string_not_equal(sources[0]->name, "/legacy-name");
	ob_recovery_sources_free(sources, n);

	/* A change of passphrase in the certified area, and a rebuild with the new one. */
	pin = new_pin(&s);
	assert_ok(ob_agent_set_passphrase(a2, (const uint8_t *)PP2, strlen(PP2), pin));
	ob_str_free(pin);
	key_object(name, sizeof(name), "victim", 7);
	assert_true(object_exists(s.vault_path, name));
	a3 = agent_for(&s, "home-a3", "victim");
	assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(a3, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_agent_set_passphrase(a3, (const uint8_t *)PP2, strlen(PP2), NULL));
	out = ob_test_path(s.dir, "out-legacy2");
	restore_check(&s, a3, NULL, NULL, out);
	free(out);

	ob_agent_free(a);
	ob_agent_free(a2);
	ob_agent_free(a3);
	ob_agent_free(b);
	ob_test_server_dispose(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_key_records_around_a_victim),
		cmocka_unit_test(test_a_new_server_whose_name_is_taken),
		cmocka_unit_test(test_legacy_area_and_the_owners_certificate),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
