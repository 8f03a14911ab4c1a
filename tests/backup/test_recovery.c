/*
 * Recovery through the public API: browsing and searching, a damaged vault
 * (only the files that need the damage fail), another server's backups with
 * its passphrase, a lost cache folder, and names crafted to escape the
 * destination (they never do).
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "repo.h"
#include "tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *src, *vault_path, *creds;
static ob_agent *agent;
static const char *PP = "recovery test passphrase";

static void put(const char *rel, const char *text)
{
	char *p = ob_test_path(src, rel);
	ob_test_write(p, text, strlen(text));
	free(p);
}

static ob_job_info *wait_job(ob_agent *a, ob_job_info *j)
{
	char *id = strdup(j->job_id);
	int i;

	for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
		ob_job_info_free(j);
		usleep(20000);
		assert_ok(ob_job_get(&j, a, id));
	}
	free(id);
	return j;
}

static ob_job_info *backup(ob_agent *a)
{
	ob_job_info *j = NULL;

	assert_ok(ob_backup_start(&j, a, 0));
	return wait_job(a, j);
}

static int setup(void **state)
{
	ob_vault *v;
	char *cred, *home, *p;
	ob_filespec_input spec;
	ob_policy *policy;
	ob_job_info *j;

	(void)state;
	dir = ob_test_tempdir("recovery");
	src = ob_test_path(dir, "src");
	vault_path = ob_test_path(dir, "vault");
	creds = ob_test_path(dir, "creds");
	home = ob_test_path(dir, "home-a");
	assert_int_equal(mkdir(src, 0755), 0);
	p = ob_test_path(src, "docs");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	put("docs/report.txt", "quarterly report\n");
	put("docs/finance-2025.xls", "numbers\n");
	put("docs/finance-2026.xls", "more numbers\n");
	put("notes.txt", "notes\n");
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_SERVER_NAME", "server-a");
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, vault_path, "RecoveryTest"));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	assert_ok(ob_agent_open(&agent, home));
	assert_ok(ob_agent_register(NULL, agent, cred));
	assert_ok(ob_agent_set_passphrase(agent, (const uint8_t *)PP, strlen(PP), NULL));
	spec.spec = src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, agent, &spec, 1));
	ob_policy_free(policy);
	j = backup(agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	ob_str_free(cred);
	ob_vault_free(v);
	free(home);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_agent_free(agent);
	ob_test_rmtree(dir);
	free(dir);
	free(src);
	free(vault_path);
	free(creds);
	return 0;
}

static void newest_point(ob_agent *a, char **point, int64_t *ds)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0;

	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_true(n >= 1);
	*point = strdup(pts[0]->id);
	*ds = strtoll(pts[0]->datasource_ids, NULL, 10);
	ob_recovery_points_free(pts, n);
}

static void test_browse_and_search(void **state)
{
	ob_recovery *rec = NULL;
	ob_recoverable_item **items = NULL;
	size_t n = 0;
	char *point, *folder = ob_test_path(src + 1, "docs");
	int64_t ds;

	(void)state;
	newest_point(agent, &point, &ds);
	assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	assert_ok(ob_recovery_browse(&items, &n, rec, point, ds, folder));
	assert_int_equal(n, 3);
	assert_string_equal(items[0]->name, "finance-2025.xls");
	assert_false(items[0]->is_dir);
	assert_int_equal(items[2]->size, 17);
	ob_recoverable_items_free(items, n);
	assert_ok(ob_recovery_search(&items, &n, rec, point, ds, src + 1, "FINANCE*", 0));
	assert_int_equal(n, 2);
	assert_non_null(strstr(items[0]->path, "docs/finance-2025.xls"));
	ob_recoverable_items_free(items, n);
	assert_ok(ob_recovery_search(&items, &n, rec, point, ds, "", "*.txt", 1));
	assert_int_equal(n, 1);
	ob_recoverable_items_free(items, n);
	assert_ob(OB_ENOTFOUND, ob_recovery_browse(&items, &n, rec, point, ds, "no/such/folder"));
	assert_ob(OB_ENOTFOUND, ob_recovery_browse(&items, &n, rec, "000000000000-0000000000000000", ds, ""));
	ob_recovery_free(rec);
	free(folder);
	free(point);
}

static void test_recovery_job_and_overwrite_options(void **state)
{
	ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
	ob_job_info *j = NULL;
	char *point, *out = ob_test_path(dir, "out-job"), *item = ob_test_path(src + 1, "notes.txt"), *restored, *text;
	const char *items[1];
	int64_t ds;
	size_t len;

	(void)state;
	newest_point(agent, &point, &ds);
	items[0] = item;
	req.point_id = point;
	req.datasource_id = ds;
	req.items = items;
	req.item_count = 1;
	req.destination = out;
	req.overwrite = OB_OVERWRITE_CREATE_COPY;
	assert_ok(ob_recovery_start(&j, agent, &req));
	assert_int_equal(j->type, OB_JOB_RECOVERY);
	j = wait_job(agent, j);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	restored = ob_test_path(out, item);
	text = ob_test_read(restored, &len);
	assert_string_equal(text, "notes\n");
	free(text);
	/* Again: CreateCopy puts a copy beside it. */
	assert_ok(ob_recovery_start(&j, agent, &req));
	j = wait_job(agent, j);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	{
		char *parent = strdup(restored), *slash = strrchr(parent, '/');
		DIR *d;
		struct dirent *e;
		int copies = 0;
		*slash = '\0';
		d = opendir(parent);
		while ((e = readdir(d)) != NULL)
			if (strstr(e->d_name, " Copy of notes.txt"))
				copies++;
		closedir(d);
		assert_int_equal(copies, 1);
		free(parent);
	}
	free(restored);
	free(out);
	free(item);
	free(point);
}

static void test_damage_fails_only_what_needs_it(void **state)
{
	ob_recovery *rec = NULL;
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	char *point, *report = NULL, *failed = NULL, *out = ob_test_path(dir, "out-damaged"), *big = ob_test_path(src, "big.bin");
	uint8_t *data = malloc(3u << 20);
	uint64_t objects = 0;
	int64_t ds;
	ob_job_info *j;
	char cmd[4096];

	(void)state;
	/* A point whose large file sits in a pack of its own. */
	assert_ok(ob_random(data, 3u << 20));
	ob_test_write(big, data, 3u << 20);
	j = backup(agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	newest_point(agent, &point, &ds);
	free(point);
	point = strdup(j->recovery_point);  /* points made in the same second list in any order */
	ob_job_info_free(j);
	assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	assert_ok(ob_recovery_test(&report, &objects, rec, point));
	assert_string_equal(report, "");
	assert_true(objects > 3);
	ob_str_free(report);
	/* Flip a byte in the biggest pack: the big file's data. */
	snprintf(cmd, sizeof(cmd), "f=$(ls -S %s/servers/*/packs/*/* | head -n 1) && printf '\\377' | dd of=\"$f\" bs=1 seek=1000 conv=notrunc 2>/dev/null",
		vault_path);
	assert_int_equal(system(cmd), 0);
	assert_ob(OB_ECORRUPT, ob_recovery_test(&report, &objects, rec, point));
	assert_non_null(strstr(report, "big.bin"));
	assert_null(strstr(report, "notes.txt"));
	ob_str_free(report);
	ob_recovery_free(rec);
	/* A restore brings back everything else, names the damaged file and leaves no part of it. */
	o.point_id = point;
	o.datasource_id = 0;  /* the point's only data source */
	o.item = src + 1;
	o.destination = out;
	assert_ob(OB_ECORRUPT, ob_restore(&failed, agent, &o));
	assert_non_null(failed);
	assert_non_null(strstr(failed, "big.bin"));
	{
		char *notes = ob_test_path(out, src + 1), *p1 = ob_test_path(notes, "notes.txt"), *p2 = ob_test_path(notes, "big.bin");
		struct stat st;
		assert_int_equal(stat(p1, &st), 0);
		assert_int_not_equal(stat(p2, &st), 0);
		free(notes);
		free(p1);
		free(p2);
	}
	ob_str_free(failed);
	unlink(big);
	free(big);
	free(data);
	free(out);
	free(point);
}

static void test_alternate_server(void **state)
{
	ob_vault *v;
	ob_agent *b = NULL;
	char *cred = NULL, *home = ob_test_path(dir, "home-b"), *out = ob_test_path(dir, "out-alt"), *restored, *text;
	ob_backup_server **servers = NULL;
	ob_recovery_source **sources = NULL;
	ob_recovery *rec = NULL;
	ob_recovery_point **pts = NULL;
	ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
	ob_job_info *j = NULL;
	const char *items[1];
	size_t n = 0, i;
	int found = 0;

	(void)state;
	assert_ok(ob_vault_open(&v, vault_path));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	ob_env_set("OBAGENT_SERVER_NAME", "server-b");
	assert_ok(ob_agent_open(&b, home));
	ob_env_set("OBAGENT_SERVER_NAME", "server-a");
	assert_ok(ob_agent_register(NULL, b, cred));
	assert_ok(ob_backup_servers(&servers, &n, b));
	for (i = 0; i < n; i++)
		if (!strcmp(servers[i]->server_name, "server-a") && !servers[i]->is_this_server)
			found = 1;
	assert_true(found);
	ob_backup_servers_free(servers, n);
	assert_ok(ob_recovery_sources(&sources, &n, b, "server-a"));
	assert_int_equal(n, 1);
	ob_recovery_sources_free(sources, n);
	assert_ob(OB_ENOTFOUND, ob_recovery_sources(&sources, &n, b, "no-such-server"));
	/* Without its passphrase, or with a wrong one, nothing opens. */
	assert_ob(OB_EPASSPHRASE, ob_recovery_open(&rec, b, "server-a", NULL, 0));
	assert_ob(OB_EPASSPHRASE, ob_recovery_open(&rec, b, "server-a", (const uint8_t *)"wrong passphrase!!", 18));
	assert_ok(ob_recovery_open(&rec, b, "server-a", (const uint8_t *)PP, strlen(PP)));
	assert_ok(ob_recovery_list_points(&pts, &n, rec));
	assert_true(n >= 1);
	items[0] = src + 1;
	req.server_name = "server-a";
	req.passphrase = (const uint8_t *)"wrong passphrase!!";
	req.passphrase_len = 18;
	req.point_id = pts[0]->id;
	req.datasource_id = strtoll(pts[0]->datasource_ids, NULL, 10);
	req.items = items;
	req.item_count = 1;
	req.destination = out;
	assert_ob(OB_EPASSPHRASE, ob_recovery_start(&j, b, &req));
	{
		struct stat st;
		assert_int_not_equal(stat(out, &st), 0);  /* nothing written */
	}
	req.destination = NULL;
	req.passphrase = (const uint8_t *)PP;
	req.passphrase_len = strlen(PP);
	assert_ob(OB_EINVALID, ob_recovery_start(&j, b, &req));  /* no original location here */
	req.destination = out;
	assert_ok(ob_recovery_start(&j, b, &req));
	j = wait_job(b, j);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	restored = ob_test_path(out, src + 1);
	{
		char *p = ob_test_path(restored, "docs/report.txt");
		size_t len;
		text = ob_test_read(p, &len);
		assert_string_equal(text, "quarterly report\n");
		free(text);
		free(p);
	}
	ob_recovery_points_free(pts, n);
	ob_recovery_free(rec);
	ob_agent_free(b);
	ob_vault_free(v);
	ob_str_free(cred);
	free(restored);
	free(home);
	free(out);
}

static void test_lost_cache_folder(void **state)
{
	ob_vault *v;
	ob_agent *c = NULL;
	char *cred = NULL, *home = ob_test_path(dir, "home-a2");
	ob_recovery_point **before = NULL, **after = NULL;
	size_t nb = 0, na = 0;
	ob_job_info *j;

	(void)state;
	assert_ok(ob_recovery_points(&before, &nb, agent));
	/* The same server, its state folder gone: register again, same passphrase. */
	assert_ok(ob_vault_open(&v, vault_path));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	assert_ok(ob_agent_open(&c, home));
	assert_ok(ob_agent_register(NULL, c, cred));
	assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(c, (const uint8_t *)"not the passphrase", 18, NULL));
	assert_ok(ob_agent_set_passphrase(c, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_recovery_points(&after, &na, c));
	assert_int_equal(na, nb);
	/* The next backup is incremental: it finds the chunks in the vault. */
	{
		ob_filespec_input spec = { src, 0, 1 };
		ob_policy *policy;
		assert_ok(ob_policy_commit(&policy, c, &spec, 1));
		ob_policy_free(policy);
	}
	j = backup(c);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	assert_true(j->bytes_uploaded < 16384);
	ob_job_info_free(j);
	{
		/* The rebuilt agent gives the volume the id it had: still one source. */
		ob_recovery_source **sources = NULL;
		size_t ns = 0;
		assert_ok(ob_recovery_sources(&sources, &ns, c, NULL));
		assert_int_equal(ns, 1);
		ob_recovery_sources_free(sources, ns);
	}
	ob_recovery_points_free(before, nb);
	ob_recovery_points_free(after, na);
	ob_agent_free(c);
	ob_vault_free(v);
	ob_str_free(cred);
	free(home);
}

/* A recovery point whose tree names entries crafted to escape: they must not. */
static void test_crafted_names_never_escape(void **state)
{
	ob_repo repo;
	ob_registration *reg = NULL;
	ob_tree_builder tb = { 0 };
	ob_buf tree = OB_BUF_INIT, enc = OB_BUF_INIT, rec = OB_BUF_INIT, sealed = OB_BUF_INIT;
	ob_packer pk = { 0 };
	const char *names[] = { "..", "../escaped", "/etc/escaped", "a/b", ".", "ok" };
	uint8_t chunk_id[32], tree_id[32], pack_id[32], sealed_blob[256];
	size_t sealed_len, i;
	ob_index_entry ie[2];
	char packname[200], snapname[200], hex[65], aad[256];
	char *out = ob_test_path(dir, "jail/out"), *jail = ob_test_path(dir, "jail"), *failed = NULL;
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	int count = 0;

	(void)state;
	assert_ok(ob_repo_open(&repo, agent, &reg));
	ob_repo_blob_id(chunk_id, &repo, "x", 1);
	assert_ok(ob_blob_seal(sealed_blob, &sealed_len, &repo, NULL, OB_BLOB_DATA, chunk_id, (const uint8_t *)"x", 1));
	assert_ok(ob_packer_add(&pk, OB_BLOB_DATA, chunk_id, sealed_blob, sealed_len, 1));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ob_entry e;
		memset(&e, 0, sizeof(e));
		e.type = OB_TREE_FILE;
		e.name = names[i];
		e.name_len = strlen(names[i]);
		e.mode = 0100644;
		e.size = 1;
		e.chunks = chunk_id;
		e.chunk_count = 1;
		enc.len = 0;
		assert_ok(ob_entry_encode(&enc, &e));
		assert_ok(ob_tree_builder_add(&tb, (uint8_t *)enc.data, enc.len));
	}
	assert_ok(ob_tree_builder_finish(&tree, &tb));
	ob_repo_blob_id(tree_id, &repo, tree.data, tree.len);
	{
		uint8_t *sb = malloc(tree.len + OB_BLOB_OVERHEAD);
		assert_ok(ob_blob_seal(sb, &sealed_len, &repo, NULL, OB_BLOB_TREE, tree_id, (uint8_t *)tree.data, tree.len));
		assert_ok(ob_packer_add(&pk, OB_BLOB_TREE, tree_id, sb, sealed_len, tree.len));
		free(sb);
	}
	assert_ok(ob_packer_finish(&pk, &repo, pack_id));
	ob_repo_pack_name(packname, sizeof(packname), &repo, pack_id);
	assert_ok(repo.vc.be->put(repo.vc.be, packname, pk.data.data, pk.data.len));
	for (i = 0; i < 2; i++) {
		ie[i].blob = pk.entries[i];
		memcpy(ie[i].pack, pack_id, 32);
	}
	assert_ok(ob_index_write(&repo, ie, 2, NULL));
	ob_id_hex(hex, tree_id);
	assert_ok(ob_kv_begin(&rec, "snapshot", 1));
	assert_ok(ob_kv_add_i64(&rec, "time", 1));
	assert_ok(ob_kv_add_i64(&rec, "datasources", 1));
	assert_ok(ob_kv_add_i64(&rec, "ds0_id", 77));
	assert_ok(ob_kv_add(&rec, "ds0_name", "/"));
	assert_ok(ob_kv_add(&rec, "ds0_tree", hex));
	snprintf(aad, sizeof(aad), "obagent-snapshot-v1|000000000001-crafted");
	assert_ok(ob_object_seal(&sealed, &repo, aad, rec.data, rec.len));
	snprintf(snapname, sizeof(snapname), "%ssnapshots/000000000001-crafted", repo.prefix);
	assert_ok(repo.vc.be->put(repo.vc.be, snapname, sealed.data, sealed.len));

	o.point_id = "000000000001-crafted";
	o.datasource_id = 77;
	o.destination = out;
	assert_true(ob_restore(&failed, agent, &o) < 0);
	assert_non_null(failed);
	{
		/* Only "ok" was written, inside the destination; the jail holds nothing else. */
		DIR *d = opendir(jail);
		struct dirent *e;
		char *okp = ob_test_path(out, "ok");
		struct stat st;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				count++;
		closedir(d);
		assert_int_equal(count, 1);
		assert_int_equal(stat(okp, &st), 0);
		free(okp);
		d = opendir(out);
		count = 0;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				count++;
		closedir(d);
		assert_int_equal(count, 1);
		assert_int_not_equal(stat("/etc/escaped", &st), 0);
	}
	ob_str_free(failed);
	ob_packer_dispose(&pk);
	ob_tree_builder_dispose(&tb);
	ob_buf_dispose(&tree);
	ob_buf_dispose(&enc);
	ob_buf_dispose(&rec);
	ob_buf_dispose(&sealed);
	ob_registration_free(reg);
	ob_repo_dispose(&repo);
	free(out);
	free(jail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_browse_and_search),
		cmocka_unit_test(test_recovery_job_and_overwrite_options),
		cmocka_unit_test(test_alternate_server),
		cmocka_unit_test(test_lost_cache_folder),
		cmocka_unit_test(test_crafted_names_never_escape),
		cmocka_unit_test(test_damage_fails_only_what_needs_it),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
