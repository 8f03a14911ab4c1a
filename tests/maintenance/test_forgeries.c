/*
 * What another server can write into this server's area of a local vault with
 * an agent's rights (create-only puts of any name and bytes, docs/SECURITY.md)
 * harms nothing that maintenance, backups, restores and tests do:
 *  - generation objects: an unsigned generation/9999999999 and an N+1 without
 *    an end (backups go on without waiting; maintenance takes a signed number);
 *  - prune marks with an old marked_at on live and unused packs (no live pack
 *    goes, with the default grace or none; the grace of an unused one starts
 *    when maintenance replaces the mark with its own);
 *  - index objects: random bytes named by their hash, another server's genuine
 *    index object, an object not named by its hash (skipped with a warning by
 *    the backup's cache check, a restore, a test and maintenance, which keeps them);
 *  - a vault as today's format leaves it (unsigned generation records and prune
 *    marks) backs up and maintains.
 * The victim is a real server with a real worker; the attacker writes through
 * ob_backend_local_new on the vault folder, as an agent would.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "obagent/sys/backend.h"
#include "vault/crypto.h"
#include "vault/vault_internal.h"
#ifdef _WIN32
#include "platform/platform.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *PP = "forgery test passphrase";
static const char *APP = "attacker test passphrase";
static ob_test_server srv;           /* the victim */
static ob_agent *attacker;           /* another server of the vault */
static char *attacker_src, victim_id[33], attacker_id[33];
static ob_backend *be;               /* the attacker's hands on the vault */
static char *points[2];

static void write_file(const char *root, const char *rel, const void *data, size_t len)
{
	char *p = ob_test_path(root, rel);

	ob_test_write(p, data, len);
	free(p);
}

static void put(const char *name, const void *data, size_t len)
{
	assert_ok(be->put(be, name, data, len));
}

static void put_text(const char *name, const char *text)
{
	put(name, text, strlen(text));
}

/* Random bytes stored under <prefix><their SHA-256 in hex>[/...]; the hex in out. */
static void put_random_named_by_hash(char out[65], const char *fmt_prefix, size_t len, int pack)
{
	uint8_t *data = malloc(len), digest[32];
	char name[256];

	assert_non_null(data);
	assert_ok(ob_random(data, len));
	ob_sha256(digest, data, len);
	ob_hex_encode(out, digest, 32);
	if (pack)
		snprintf(name, sizeof(name), "%s%.2s/%s", fmt_prefix, out, out);
	else
		snprintf(name, sizeof(name), "%s%s", fmt_prefix, out);
	put(name, data, len);
	free(data);
}

/* The names of the objects under prefix (stripped of it). */
static void list(ob_name_list *out, const char *prefix)
{
	assert_ok(ob_vault_list_names(out, be, prefix, strlen(prefix)));
}

static int exists(const char *name)
{
	uint64_t size;
	int rc = be->stat(&size, be, name);

	ob_error_clear();
	return rc == 0;
}

static char *read_object(const char *name)
{
	void *data = NULL;
	size_t len = 0;
	char *text;

	assert_ok(be->get(&data, &len, be, name, 0, 0));
	assert_non_null(text = malloc(len + 1));
	memcpy(text, data, len);
	text[len] = '\0';
	free(data);
	return text;
}

/* Restore a point of the victim into a new folder and compare it with the source as it was (expect: a folder). */
static void restore_matches(ob_agent *a, const char *point, const char *expect, const char *tag)
{
	ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
	char *out = ob_test_path(srv.dir, tag), *failed = NULL, cmd[4096];
	ob_recovery_point **pts = NULL;
	size_t n = 0, i;

	assert_ok(ob_recovery_points(&pts, &n, a));
	for (i = 0; i < n && strcmp(pts[i]->id, point); i++)
		;
	assert_true(i < n);
	ro.point_id = point;
	ro.datasource_id = strtoll(pts[i]->datasource_ids, NULL, 10);
	ro.item = ob_test_rel(srv.src);
	ro.destination = out;
	assert_ok(ob_restore(&failed, a, &ro));
	ob_str_free(failed);
#ifdef _WIN32
	{
		char *got = ob_test_path(out, ob_test_rel(srv.src));
		(void)cmd;
		assert_true(ob_test_trees_equal(expect, got));
		free(got);
	}
#else
	snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s/%s'", expect, out, ob_test_rel(srv.src));
	assert_int_equal(system(cmd), 0);
#endif
	ob_recovery_points_free(pts, n);
	free(out);
}

static ob_maintenance_report *maintain(ob_agent *a, int64_t grace)
{
	ob_maintenance_options mo = OB_MAINTENANCE_OPTIONS_INIT;
	ob_maintenance_report *rep = NULL;

	mo.grace_seconds = grace;
	assert_ok(ob_maintenance_run(&rep, a, &mo));
	assert_int_equal(rep->version, OB_MAINTENANCE_REPORT_VERSION);
	return rep;
}

/*
 * The victim: two points (the first with a file the second no longer has, a
 * symlink, a subfolder), copies of its source as each was; the attacker: a
 * server of its own with one point.
 */
static int setup(void **state)
{
	ob_vault *v;
	char *cred = NULL, *home, *copy, cmd[4096];
	uint8_t big[300000];
	ob_job_info *j;
	int k;

	(void)state;
	ob_test_server_folders(&srv, "forgeries");
	write_file(srv.src, "a.txt", "alpha\n", 6);
	assert_ok(ob_random(big, sizeof(big)));
	write_file(srv.src, "big.bin", big, sizeof(big));
	{
		char *sub = ob_test_path(srv.src, "sub"), *link = ob_test_path(srv.src, "link");
#ifdef _WIN32
		/* No link on Windows: a symbolic link needs a privilege there, and Wine's are not Windows'. */
		assert_ok(ob_platform_mkdir_p(sub, 0755));
#else
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && ln -s a.txt '%s'", sub, link);
		assert_int_equal(system(cmd), 0);
#endif
		free(sub);
		free(link);
	}
	write_file(srv.src, "sub/c.txt", "charlie\n", 8);
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "victim-server", "ForgeryTest", PP);
	ob_vault_server_id(victim_id, "victim-server");
	for (k = 0; k < 2; k++) {
		char tag[16];
		j = ob_test_backup(srv.agent);
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		points[k] = strdup(j->recovery_point);
		ob_job_info_free(j);
		snprintf(tag, sizeof(tag), "copy%d", k);
		copy = ob_test_path(srv.dir, tag);
#ifdef _WIN32
		ob_test_copy_tree(srv.src, copy);
#else
		snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", srv.src, copy);
		assert_int_equal(system(cmd), 0);
#endif
		free(copy);
		if (k == 0) {
			/* The second point: big.bin gone (its pack stays live for the first), a file added. */
#ifdef _WIN32
			{
				char *big_path = ob_test_path(srv.src, "big.bin");
				assert_int_equal(unlink(big_path), 0);
				free(big_path);
			}
#else
			snprintf(cmd, sizeof(cmd), "rm '%s/big.bin'", srv.src);
			assert_int_equal(system(cmd), 0);
#endif
			write_file(srv.src, "d.txt", "delta\n", 6);
		}
	}

	/* The attacker, registered with a credentials file of the same vault, with a point of its own. */
	assert_ok(ob_vault_open(&v, srv.vault_path));
	assert_ok(ob_vault_credentials_issue(&cred, v, srv.creds, 10));
	ob_vault_free(v);
	home = ob_test_path(srv.dir, "home-attacker");
	attacker_src = ob_test_path(srv.dir, "attacker-src");
#ifdef _WIN32
	(void)cmd;
	assert_ok(ob_platform_mkdir_p(attacker_src, 0755));
#else
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", attacker_src);
	assert_int_equal(system(cmd), 0);
#endif
	write_file(attacker_src, "x.txt", "the attacker's own data\n", 24);
	ob_env_set("OBAGENT_SERVER_NAME", "attacker-server");
	assert_ok(ob_agent_open(&attacker, home));
	assert_ok(ob_agent_register(NULL, attacker, cred));
	assert_ok(ob_agent_set_passphrase(attacker, (const uint8_t *)APP, strlen(APP), NULL));
	{
		ob_filespec_input spec = { attacker_src, 0, 1 };
		ob_policy *policy;
		assert_ok(ob_policy_commit(&policy, attacker, &spec, 1));
		ob_policy_free(policy);
	}
	j = ob_test_backup(attacker);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	ob_vault_server_id(attacker_id, "attacker-server");
	ob_env_set("OBAGENT_SERVER_NAME", "victim-server");
	assert_ok(ob_backend_local_new(&be, srv.vault_path));
	ob_str_free(cred);
	free(home);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	be->free(be);
	ob_agent_free(attacker);
	free(attacker_src);
	free(points[0]);
	free(points[1]);
	ob_test_server_dispose(&srv);
	return 0;
}

static char *copy_path(int k)
{
	char tag[16];

	snprintf(tag, sizeof(tag), "copy%d", k);
	return ob_test_path(srv.dir, tag);
}

/* The generation objects of an area, checked: each one the owner's (version 2, signed), none forged left. */
static void generation_is_signed(const char *server_id, const char *expect_first)
{
	ob_name_list l;
	char prefix[128], name[256];
	size_t i;

	snprintf(prefix, sizeof(prefix), "servers/%s/generation/", server_id);
	list(&l, prefix);
	assert_int_equal(l.n, 2);   /* <N> and <N>.end */
	for (i = 0; i < l.n; i++) {
		char *text;
		snprintf(name, sizeof(name), "%s%s", prefix, l.v[i]);
		text = read_object(name);
		assert_non_null(strstr(text, " 2\n"));
		assert_non_null(strstr(text, "\nsignature="));
		assert_non_null(strstr(text, server_id));
		free(text);
		assert_int_equal(strncmp(l.v[i], expect_first, 10), 0);
	}
	ob_name_list_dispose(&l);
}

static void test_forged_generation(void **state)
{
	char name[256];
	ob_maintenance_report *rep;
	ob_job_info *j;

	(void)state;
	/* Today's attack: an unsigned 9999999999 (no N+1 above it) and an N+1 with no end (backups wait, then fail). */
	snprintf(name, sizeof(name), "servers/%s/generation/9999999999", victim_id);
	put_text(name, "obagent-generation 1\ngeneration=9999999999\nat=1\n");
	snprintf(name, sizeof(name), "servers/%s/generation/0000000001", victim_id);
	put_text(name, "obagent-generation 1\ngeneration=1\nat=1\n");
	/* The victim's backup completes: the forgeries are not its generation, and nothing holds it open. */
	j = ob_test_backup(srv.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	/* Its maintenance works and takes a signed generation: 1 (the forgery there goes), and 9999999999 is gone. */
	rep = maintain(srv.agent, -1);
	assert_true(rep->objects_skipped >= 2);
	assert_non_null(strstr(rep->warnings, "generation/9999999999"));
	free(rep);
	generation_is_signed(victim_id, "0000000001");
	/* Again with N+1 forged after it: the next backup goes on, the next run removes the forged 2 and takes it. */
	snprintf(name, sizeof(name), "servers/%s/generation/0000000002", victim_id);
	put_text(name, "obagent-generation 1\ngeneration=2\nat=1\n");
	j = ob_test_backup(srv.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	free(maintain(srv.agent, -1));
	generation_is_signed(victim_id, "0000000002");
	j = ob_test_backup(srv.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
}

static void test_forged_prune_marks(void **state)
{
	ob_name_list packs;
	char prefix[128], name[256], forged[65], *c0 = copy_path(0), *c1 = copy_path(1);
	uint8_t other[OB_SIGN_PRIVATE_BYTES], other_pub[OB_SIGN_PUBLIC_BYTES];
	ob_maintenance_report *rep;
	size_t i, genuine;

	(void)state;
	snprintf(prefix, sizeof(prefix), "servers/%s/packs/", victim_id);
	list(&packs, prefix);
	genuine = packs.n;
	assert_true(genuine >= 3);
	/* A pack the victim never wrote, named by its hash: unused. */
	put_random_named_by_hash(forged, prefix, 5000, 1);
	/* Marks with marked_at=1 on every pack: unsigned (today's format), and one signed by another key. */
	assert_ok(ob_sign_keygen(other, other_pub));
	for (i = 0; i <= packs.n; i++) {
		const char *hex = i < packs.n ? packs.v[i] + 3 : forged;
		ob_buf rec = OB_BUF_INIT;
		snprintf(name, sizeof(name), "servers/%s/prune/%s", victim_id, hex);
		if (i == 0) {
			assert_ok(ob_kv_begin(&rec, "prune-mark", 2));
			assert_ok(ob_kv_add(&rec, "server", victim_id));
			assert_ok(ob_kv_add(&rec, "pack", hex));
			assert_ok(ob_kv_add_i64(&rec, "marked_at", 1));
			assert_ok(ob_record_sign(&rec, other));
		} else {
			assert_ok(ob_kv_begin(&rec, "prune-mark", 1));
			assert_ok(ob_kv_add_i64(&rec, "marked_at", 1));
		}
		put(name, rec.data, rec.len);
		ob_buf_dispose(&rec);
	}
	ob_wipe(other, sizeof(other));

	/* The default grace: nothing goes; the live packs' marks are removed, the unused one's replaced by the owner's. */
	rep = maintain(srv.agent, -1);
	assert_int_equal(rep->packs_deleted, 0);
	assert_true(rep->objects_skipped >= genuine + 1);
	free(rep);
	for (i = 0; i < packs.n; i++) {
		snprintf(name, sizeof(name), "%s%s", prefix, packs.v[i]);
		assert_true(exists(name));
		snprintf(name, sizeof(name), "servers/%s/prune/%s", victim_id, packs.v[i] + 3);
		assert_false(exists(name));
	}
	snprintf(name, sizeof(name), "%s%.2s/%s", prefix, forged, forged);
	assert_true(exists(name));
	snprintf(name, sizeof(name), "servers/%s/prune/%s", victim_id, forged);
	{
		char *text = read_object(name);
		assert_non_null(strstr(text, "obagent-prune-mark 2\n"));
		assert_non_null(strstr(text, "\nsignature="));
		assert_null(strstr(text, "marked_at=1\n"));
		free(text);
	}
	restore_matches(srv.agent, points[0], c0, "out-marks-0");
	restore_matches(srv.agent, points[1], c1, "out-marks-1");

	/* No grace, and forged marks again: still no live pack goes; the unused forged pack is pruned like any other. */
	for (i = 0; i < packs.n; i++) {
		snprintf(name, sizeof(name), "servers/%s/prune/%s", victim_id, packs.v[i] + 3);
		put_text(name, "obagent-prune-mark 1\nmarked_at=1\n");
	}
	rep = maintain(srv.agent, 0);
	assert_int_equal(rep->packs_deleted, 1);
	free(rep);
	for (i = 0; i < packs.n; i++) {
		snprintf(name, sizeof(name), "%s%s", prefix, packs.v[i]);
		assert_true(exists(name));
	}
	snprintf(name, sizeof(name), "%s%.2s/%s", prefix, forged, forged);
	assert_false(exists(name));
	restore_matches(srv.agent, points[0], c0, "out-marks-2");
	restore_matches(srv.agent, points[1], c1, "out-marks-3");
	ob_name_list_dispose(&packs);
	free(c0);
	free(c1);
}

/* The job's failed items: the lines that name an index object. */
static size_t failed_index_lines(ob_agent *a, const char *job_id)
{
	char *text = NULL, *p;
	size_t n = 0;

	assert_ok(ob_job_failed_files(&text, a, job_id));
	for (p = text; (p = strstr(p, "/index/")) != NULL; p++)
		n++;
	ob_str_free(text);
	return n;
}

static void test_forged_index_objects(void **state)
{
	ob_name_list mine;
	char prefix[128], name[256], junk[65], *c1 = copy_path(1), *home, *cred = NULL;
	ob_maintenance_report *rep;
	ob_agent *rebuilt = NULL;
	ob_job_info *j;
	ob_vault *v;

	(void)state;
	/* Random bytes named by their hash; the attacker's genuine index object copied in under its own name. */
	snprintf(prefix, sizeof(prefix), "servers/%s/index/", victim_id);
	put_random_named_by_hash(junk, prefix, 700, 0);
	snprintf(name, sizeof(name), "servers/%s/index/", attacker_id);
	list(&mine, name);
	assert_true(mine.n >= 1);
	{
		char from[256];
		void *data = NULL;
		size_t len = 0;
		snprintf(from, sizeof(from), "servers/%s/index/%s", attacker_id, mine.v[0]);
		assert_ok(be->get(&data, &len, be, from, 0, 0));
		snprintf(name, sizeof(name), "%s%s", prefix, mine.v[0]);
		put(name, data, len);
		free(data);
	}
	ob_name_list_dispose(&mine);
	/* And one of the victim's own under a name that is not its hash. */
	list(&mine, prefix);
	{
		void *data = NULL;
		size_t len = 0;
		size_t k;
		for (k = 0; k < mine.n && (!strcmp(mine.v[k], junk) || strlen(mine.v[k]) != 64); k++)
			;
		assert_true(k < mine.n);
		snprintf(name, sizeof(name), "%s%s", prefix, mine.v[k]);
		assert_ok(be->get(&data, &len, be, name, 0, 0));
		snprintf(name, sizeof(name), "%s%064d", prefix, 7);
		put(name, data, len);
		free(data);
	}
	ob_name_list_dispose(&mine);

	/* The victim rebuilt after losing its state folder: its backup checks its caches, reading every index object. */
	assert_ok(ob_vault_open(&v, srv.vault_path));
	assert_ok(ob_vault_credentials_issue(&cred, v, srv.creds, 10));
	ob_vault_free(v);
	home = ob_test_path(srv.dir, "home-rebuilt");
	assert_ok(ob_agent_open(&rebuilt, home));
	assert_ok(ob_agent_register(NULL, rebuilt, cred));
	assert_ok(ob_agent_set_passphrase(rebuilt, (const uint8_t *)PP, strlen(PP), NULL));
	{
		/* A test of a point first (its first lookups read the index): healthy, with warnings. */
		ob_recovery *rec = NULL;
		char *report = NULL, *warnings = NULL;
		uint64_t objects = 0;
		assert_ok(ob_recovery_open(&rec, rebuilt, NULL, NULL, 0));
		assert_ok(ob_recovery_test(&report, &objects, rec, points[1]));
		assert_string_equal(report, "");
		assert_ok(ob_recovery_warnings(&warnings, rec));
		assert_non_null(strstr(warnings, junk));
		assert_non_null(strstr(warnings, "/index/0000000000"));
		ob_str_free(warnings);
		assert_ok(ob_recovery_warnings(&warnings, rec));
		assert_string_equal(warnings, "");   /* each once */
		ob_str_free(warnings);
		ob_str_free(report);
		ob_recovery_free(rec);
	}
	{
		ob_filespec_input spec = { srv.src, 0, 1 };
		ob_policy *policy;
		assert_ok(ob_policy_commit(&policy, rebuilt, &spec, 1));
		ob_policy_free(policy);
	}
	/* The backup completes: what the forgeries hold is nothing it needs, and they are not its items (the worker logs them). */
	j = ob_test_backup(rebuilt);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_int_equal(failed_index_lines(rebuilt, j->job_id), 0);
	ob_job_info_free(j);
	restore_matches(rebuilt, points[1], c1, "out-index-0");

	/* Another server restores the victim's point with its passphrase: the job completes, the files are whole. */
	{
		ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
		ob_recovery_point **pts = NULL;
		ob_recovery *rec = NULL;
		size_t n = 0, i;
		const char *items[1];
		char *out = ob_test_path(srv.dir, "out-index-other"), cmd[4096];
		ob_env_set("OBAGENT_SERVER_NAME", "attacker-server");
		assert_ok(ob_recovery_open(&rec, attacker, "victim-server", (const uint8_t *)PP, strlen(PP)));
		assert_ok(ob_recovery_list_points(&pts, &n, rec));
		for (i = 0; i < n && strcmp(pts[i]->id, points[1]); i++)
			;
		assert_true(i < n);
		items[0] = ob_test_rel(srv.src);
		req.server_name = "victim-server";
		req.passphrase = (const uint8_t *)PP;
		req.passphrase_len = strlen(PP);
		req.point_id = points[1];
		req.datasource_id = strtoll(pts[i]->datasource_ids, NULL, 10);
		req.items = items;
		req.item_count = 1;
		req.destination = out;
		assert_ok(ob_recovery_start(&j, attacker, &req));
		j = ob_test_job_wait(attacker, j);
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		assert_int_equal(failed_index_lines(attacker, j->job_id), 0);
		ob_job_info_free(j);
#ifdef _WIN32
		{
			char *got = ob_test_path(out, ob_test_rel(srv.src));
			(void)cmd;
			assert_true(ob_test_trees_equal(c1, got));
			free(got);
		}
#else
		snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s/%s'", c1, out, ob_test_rel(srv.src));
		assert_int_equal(system(cmd), 0);
#endif
		ob_recovery_points_free(pts, n);
		ob_recovery_free(rec);
		free(out);
		ob_env_set("OBAGENT_SERVER_NAME", "victim-server");
	}

	/* Maintenance completes, warns, and keeps what it cannot read (it cannot know it is unneeded). */
	rep = maintain(srv.agent, 0);
	assert_true(rep->objects_skipped >= 3);
	assert_non_null(strstr(rep->warnings, junk));
	free(rep);
	snprintf(name, sizeof(name), "%s%s", prefix, junk);
	assert_true(exists(name));
	{
		char *c0 = copy_path(0);
		restore_matches(srv.agent, points[0], c0, "out-index-1");
		free(c0);
	}
	restore_matches(srv.agent, points[1], c1, "out-index-2");
	j = ob_test_backup(srv.agent);
	assert_true(j->state == OB_JOB_COMPLETED || j->state == OB_JOB_COMPLETED_WITH_WARNING);
	ob_job_info_free(j);
	ob_agent_free(rebuilt);
	ob_str_free(cred);
	free(home);
	free(c1);
}

/*
 * A vault as today's format leaves it: the attacker's area (a server like any
 * other here) gets the unsigned generation records and prune mark that older
 * versions wrote. It backs up (generation 0 to it: one cache check) and its
 * owner's maintenance takes a signed generation and replaces the mark.
 */
static void test_legacy_area(void **state)
{
	ob_name_list packs;
	char name[256], prefix[128];
	ob_maintenance_report *rep;
	ob_job_info *j;

	(void)state;
	ob_env_set("OBAGENT_SERVER_NAME", "attacker-server");
	snprintf(name, sizeof(name), "servers/%s/generation/0000000004", attacker_id);
	put_text(name, "obagent-generation 1\ngeneration=4\nat=1700000000\n");
	snprintf(name, sizeof(name), "servers/%s/generation/0000000004.end", attacker_id);
	put_text(name, "obagent-generation-end 1\ngeneration=4\nat=1700000001\n");
	snprintf(prefix, sizeof(prefix), "servers/%s/packs/", attacker_id);
	list(&packs, prefix);
	assert_true(packs.n >= 1);
	snprintf(name, sizeof(name), "servers/%s/prune/%s", attacker_id, packs.v[0] + 3);
	put_text(name, "obagent-prune-mark 1\nmarked_at=1700000000\n");
	write_file(attacker_src, "y.txt", "more\n", 5);
	j = ob_test_backup(attacker);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	rep = maintain(attacker, 0);
	assert_int_equal(rep->packs_deleted, 0);
	free(rep);
	generation_is_signed(attacker_id, "0000000001");
	assert_false(exists(name));   /* the pack is live: the old mark went, none replaced it */
	snprintf(name, sizeof(name), "%s%s", prefix, packs.v[0]);
	assert_true(exists(name));
	j = ob_test_backup(attacker);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	{
		ob_recovery *rec = NULL;
		ob_recovery_point **pts = NULL;
		char *report = NULL;
		uint64_t objects = 0;
		size_t n = 0;
		assert_ok(ob_recovery_points(&pts, &n, attacker));
		assert_true(n >= 2);
		assert_ok(ob_recovery_open(&rec, attacker, NULL, NULL, 0));
		assert_ok(ob_recovery_test(&report, &objects, rec, pts[n - 1]->id));
		ob_str_free(report);
		ob_recovery_free(rec);
		ob_recovery_points_free(pts, n);
	}
	ob_name_list_dispose(&packs);
	ob_env_set("OBAGENT_SERVER_NAME", "victim-server");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_generation),
		cmocka_unit_test(test_forged_prune_marks),
		cmocka_unit_test(test_forged_index_objects),
		cmocka_unit_test(test_legacy_area),
	};

	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
