/*
 * Recovery through the public API: browsing and searching, a damaged vault
 * (only the files that need the damage fail), another server's backups with
 * its passphrase, a lost cache folder, names crafted to escape the
 * destination (they never do), set-id bits without their owner, device
 * nodes and set-id bits only when asked for (special_files), sparse
 * files, a folder whose tree cannot be read, stale temporaries of an
 * interrupted restore, an item that is not in the point, and file sizes the
 * chunks do not add up to.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "agent/repo_open.h"
#include "vault/tree.h"
#include "platform/platform.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
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

static ob_test_server srv;   /* dir, src, vault_path, creds and agent are borrowed from it */

static int setup(void **state)
{
	char *p;
	ob_job_info *j;

	(void)state;
	ob_test_server_folders(&srv, "recovery");
	dir = srv.dir;
	src = srv.src;
	vault_path = srv.vault_path;
	creds = srv.creds;
	p = ob_test_path(src, "docs");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	put("docs/report.txt", "quarterly report\n");
	put("docs/finance-2025.xls", "numbers\n");
	put("docs/finance-2026.xls", "more numbers\n");
	put("notes.txt", "notes\n");
	ob_test_server_register(&srv, "home-a", OBAGENT_WORKER_PATH, "server-a", "RecoveryTest", PP);
	agent = srv.agent;
	j = ob_test_backup(agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_test_server_dispose(&srv);
	agent = NULL;
	dir = src = vault_path = creds = NULL;
	return 0;
}

static void test_browse_and_search(void **state)
{
	ob_recovery *rec = NULL;
	ob_recoverable_item **items = NULL;
	size_t n = 0;
	char *point, *folder = ob_test_path(ob_test_rel(src), "docs");
	int64_t ds;

	(void)state;
	ob_test_newest_point(agent, &point, &ds);
	assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	assert_ok(ob_recovery_browse(&items, &n, rec, point, ds, folder));
	assert_int_equal(n, 3);
	assert_string_equal(items[0]->name, "finance-2025.xls");
	assert_false(items[0]->is_dir);
	assert_int_equal(items[2]->size, 17);
	ob_recoverable_items_free(items, n);
	assert_ok(ob_recovery_search(&items, &n, rec, point, ds, ob_test_rel(src), "FINANCE*", 0));
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
	char *point, *out = ob_test_path(dir, "out-job"), *item = ob_test_path(ob_test_rel(src), "notes.txt"), *restored, *text;
	const char *items[1];
	int64_t ds;
	size_t len;

	(void)state;
	ob_test_newest_point(agent, &point, &ds);
	items[0] = item;
	req.point_id = point;
	req.datasource_id = ds;
	req.items = items;
	req.item_count = 1;
	req.destination = out;
	req.overwrite = OB_OVERWRITE_CREATE_COPY;
	assert_ok(ob_recovery_start(&j, agent, &req));
	assert_int_equal(j->type, OB_JOB_RECOVERY);
	j = ob_test_job_wait(agent, j);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	restored = ob_test_path(out, item);
	text = ob_test_read(restored, &len);
	assert_string_equal(text, "notes\n");
	free(text);
	/* Again: CreateCopy puts a copy beside it. */
	assert_ok(ob_recovery_start(&j, agent, &req));
	j = ob_test_job_wait(agent, j);
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
	j = ob_test_backup(agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_test_newest_point(agent, &point, &ds);
	free(point);
	point = strdup(j->recovery_point);  /* points made in the same second list in any order */
	ob_job_info_free(j);
	assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	assert_ok(ob_recovery_test(&report, &objects, rec, point));
	assert_string_equal(report, "");
	assert_true(objects > 3);
	ob_str_free(report);
	/* Flip a byte in the biggest pack: the big file's data. */
	/* The byte is changed to another value (writing a fixed one would change nothing 1 time in 256). */
	snprintf(cmd, sizeof(cmd), "f=$(ls -S %s/servers/*/packs/*/* | head -n 1) && "
		"b=$(dd if=\"$f\" bs=1 skip=1000 count=1 2>/dev/null | od -An -tu1 | tr -d ' ') && "
		"printf \"\\\\$(printf %%o $(( (b + 1) %% 256 )))\" | dd of=\"$f\" bs=1 seek=1000 conv=notrunc 2>/dev/null",
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
	o.item = ob_test_rel(src);
	o.destination = out;
	assert_ob(OB_ECORRUPT, ob_restore(&failed, agent, &o));
	assert_non_null(failed);
	assert_non_null(strstr(failed, "big.bin"));
	{
		char *notes = ob_test_path(out, ob_test_rel(src)), *p1 = ob_test_path(notes, "notes.txt"), *p2 = ob_test_path(notes, "big.bin");
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
	items[0] = ob_test_rel(src);
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
	j = ob_test_job_wait(b, j);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	restored = ob_test_path(out, ob_test_rel(src));
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
	j = ob_test_backup(c);
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
	assert_ok(ob_agent_repo_open(&repo, agent, &reg));
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

/*
 * Store a point "000000000002-<tag>" of data source 78 whose root holds one file
 * per name, each made of the chunk "x" (1 byte) and recording sizes[i].
 */
static char *forge_point(const char *tag, const char *const *names, const uint64_t *sizes, size_t n)
{
	ob_repo repo;
	ob_registration *reg = NULL;
	ob_tree_builder tb = { 0 };
	ob_buf tree = OB_BUF_INIT, enc = OB_BUF_INIT, rec = OB_BUF_INIT, sealed = OB_BUF_INIT;
	ob_packer pk = { 0 };
	uint8_t chunk_id[32], tree_id[32], pack_id[32], sealed_blob[256], *sb;
	size_t sealed_len, i;
	ob_index_entry ie[2];
	char packname[200], snapname[200], hex[65], aad[256], *point = malloc(64);

	snprintf(point, 64, "000000000002-%s", tag);
	assert_ok(ob_agent_repo_open(&repo, agent, &reg));
	ob_repo_blob_id(chunk_id, &repo, "x", 1);
	assert_ok(ob_blob_seal(sealed_blob, &sealed_len, &repo, NULL, OB_BLOB_DATA, chunk_id, (const uint8_t *)"x", 1));
	assert_ok(ob_packer_add(&pk, OB_BLOB_DATA, chunk_id, sealed_blob, sealed_len, 1));
	for (i = 0; i < n; i++) {
		ob_entry e;
		memset(&e, 0, sizeof(e));
		e.type = OB_TREE_FILE;
		e.name = names[i];
		e.name_len = strlen(names[i]);
		e.mode = 0100644;
		e.size = sizes[i];
		e.chunks = chunk_id;
		e.chunk_count = 1;
		enc.len = 0;
		assert_ok(ob_entry_encode(&enc, &e));
		assert_ok(ob_tree_builder_add(&tb, (uint8_t *)enc.data, enc.len));
	}
	assert_ok(ob_tree_builder_finish(&tree, &tb));
	ob_repo_blob_id(tree_id, &repo, tree.data, tree.len);
	sb = malloc(tree.len + OB_BLOB_OVERHEAD);
	assert_ok(ob_blob_seal(sb, &sealed_len, &repo, NULL, OB_BLOB_TREE, tree_id, (uint8_t *)tree.data, tree.len));
	assert_ok(ob_packer_add(&pk, OB_BLOB_TREE, tree_id, sb, sealed_len, tree.len));
	free(sb);
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
	assert_ok(ob_kv_add_i64(&rec, "time", 2));
	assert_ok(ob_kv_add_i64(&rec, "datasources", 1));
	assert_ok(ob_kv_add_i64(&rec, "ds0_id", 78));
	assert_ok(ob_kv_add(&rec, "ds0_name", "/"));
	assert_ok(ob_kv_add(&rec, "ds0_tree", hex));
	snprintf(aad, sizeof(aad), "obagent-snapshot-v1|%s", point);
	assert_ok(ob_object_seal(&sealed, &repo, aad, rec.data, rec.len));
	snprintf(snapname, sizeof(snapname), "%ssnapshots/%s", repo.prefix, point);
	assert_ok(repo.vc.be->put(repo.vc.be, snapname, sealed.data, sealed.len));
	ob_packer_dispose(&pk);
	ob_tree_builder_dispose(&tb);
	ob_buf_dispose(&tree);
	ob_buf_dispose(&enc);
	ob_buf_dispose(&rec);
	ob_buf_dispose(&sealed);
	ob_registration_free(reg);
	ob_repo_dispose(&repo);
	return point;
}

/*
 * A file entry whose chunks do not add up to its recorded size cannot be
 * restored: testing the point says it is damaged and names that file only
 * (every chunk is there and authentic, so only the sizes tell).
 */
static void test_chunks_that_do_not_add_up_are_damage(void **state)
{
	const char *names[] = { "grew.log", "right.txt", "shrank.log" };
	const uint64_t sizes[] = { 5, 1, 0 };
	char *point, *report = NULL, *failed = NULL, *out = ob_test_path(dir, "out-sizes"), *p;
	ob_recovery *rec = NULL;
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	uint64_t objects = 0;
	struct stat st;

	(void)state;
	point = forge_point("sizes", names, sizes, 3);
	assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	assert_ob(OB_ECORRUPT, ob_recovery_test(&report, &objects, rec, point));
	assert_non_null(strstr(report, "/grew.log\tits chunks hold 1 bytes, but the file's recorded size is 5"));
	assert_non_null(strstr(report, "/shrank.log\tits chunks hold 1 bytes, but the file's recorded size is 0"));
	assert_null(strstr(report, "right.txt"));
	ob_str_free(report);
	/* What the test says is what a restore finds: the two fail, the right one comes back. */
	o.point_id = point;
	o.datasource_id = 78;
	o.destination = out;
	assert_ob(OB_ECORRUPT, ob_restore(&failed, agent, &o));
	assert_non_null(strstr(failed, "grew.log"));
	assert_non_null(strstr(failed, "shrank.log"));
	assert_null(strstr(failed, "right.txt"));
	p = ob_test_path(out, "right.txt");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 1);
	free(p);
	ob_str_free(failed);
	ob_recovery_free(rec);
	free(point);
	free(out);
}

/* A backup of src now: its point. */
static char *backup_point(void)
{
	ob_job_info *j = ob_test_backup(agent);
	char *point;

	assert_int_equal(j->state, OB_JOB_COMPLETED);
	point = strdup(j->recovery_point);  /* points made in the same second list in any order */
	ob_job_info_free(j);
	return point;
}

/* Restore one item of a point as a job; the finished job. */
static ob_job_info *restore_job_with(const char *point, const char *item, const char *dest, int skip_security,
	int special_files)
{
	ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
	ob_job_info *j = NULL;
	const char *items[1];

	items[0] = item;
	req.point_id = point;
	req.datasource_id = 0;
	req.items = items;
	req.item_count = 1;
	req.destination = dest;
	req.overwrite = OB_OVERWRITE_OVERWRITE;
	req.skip_security = skip_security;
	req.special_files = special_files;
	assert_ok(ob_recovery_start(&j, agent, &req));
	return ob_test_job_wait(agent, j);
}

static ob_job_info *restore_job(const char *point, const char *item, const char *dest, int skip_security)
{
	return restore_job_with(point, item, dest, skip_security, 0);
}

static void test_set_id_bits_need_their_owner(void **state)
{
	char *folder = ob_test_path(src, "setid"), *file = ob_test_path(folder, "tool"), *point;
	char *out = ob_test_path(dir, "out-setid"), *restored = NULL, *item = ob_test_path(ob_test_rel(src), "setid/tool");
	ob_job_info *j;
	struct stat st;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: a file of another owner cannot be made; skipped\n");
		skip();
	}
	assert_int_equal(mkdir(folder, 0755), 0);
	ob_test_write(file, "#!/bin/sh\n", 10);
	assert_int_equal(chown(file, 65534, 65534), 0);
	assert_int_equal(chmod(file, 06755), 0);
	point = backup_point();
	restored = ob_test_path(out, item);

	/* Without its owner: never a set-id file of the restoring user. */
	j = restore_job(point, item, out, 1);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	assert_int_equal(lstat(restored, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_mode & 07777, 0755);

	/* With its owner (root may give it back), and asked for: the bits come back too. */
	j = restore_job_with(point, item, out, 0, 1);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	assert_int_equal(lstat(restored, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_mode & 07777, 06755);

	ob_test_rmtree(folder);
	free(folder);
	free(file);
	free(out);
	free(restored);
	free(item);
	free(point);
}

/* The job's failed items: "path<TAB>reason" lines (ob_str_free). */
static char *failed_items(const ob_job_info *j)
{
	char *f = NULL;

	assert_ok(ob_job_failed_files(&f, agent, j->job_id));
	return f ? f : strdup("");
}

static void test_device_nodes_and_set_id_bits_only_when_asked(void **state)
{
	char *folder = ob_test_path(src, "special"), *dev = ob_test_path(folder, "disk"), *tool = ob_test_path(folder, "tool");
	char *fifo = ob_test_path(folder, "pipe"), *item = ob_test_path(ob_test_rel(src), "special"), *point, *list, *line;
	char *out1 = ob_test_path(dir, "out-special-1"), *out2 = ob_test_path(dir, "out-special-2");
	char *out3 = ob_test_path(dir, "out-special-3"), *got, *failed = NULL;
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	int64_t ds = 0;
	ob_job_info *j;
	struct stat st;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: a device node cannot be made; skipped\n");
		skip();
	}
	assert_int_equal(mkdir(folder, 0755), 0);
	assert_int_equal(mknod(dev, S_IFBLK | 0666, makedev(8, 0)), 0);
	assert_int_equal(chmod(dev, 0666), 0);
	ob_test_write(tool, "#!/bin/sh\n", 10);
	assert_int_equal(chown(tool, 65534, 65534), 0);
	assert_int_equal(chmod(tool, 04755), 0);
	assert_int_equal(mkfifo(fifo, 0640), 0);
	assert_int_equal(lchown(fifo, 65534, 65534), 0);
	point = backup_point();

	/* Not asked for: no device node, the tool without its bit, each a warning; the rest as stored. */
	j = restore_job(point, item, out1, 0);
	assert_int_equal(j->state, OB_JOB_COMPLETED_WITH_WARNING);
	list = failed_items(j);
	ob_job_info_free(j);
	line = strstr(list, "special/disk\t");
	assert_non_null(line);
	assert_non_null(strstr(line, "block device node (8:0) was not restored"));
	line = strstr(list, "special/tool\t");
	assert_non_null(line);
	assert_non_null(strstr(line, "without its set-user-id and set-group-id bits"));
	free(list);
	got = ob_test_path(out1, item);
	free(dev);
	dev = ob_test_path(got, "disk");
	assert_int_equal(lstat(dev, &st), -1);
	free(tool);
	tool = ob_test_path(got, "tool");
	assert_int_equal(lstat(tool, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_mode & 07777, 0755);
	free(fifo);
	fifo = ob_test_path(got, "pipe");
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 65534);
	free(got);

	/* Asked for: both as stored, and no warning. */
	j = restore_job_with(point, item, out2, 0, 1);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	got = ob_test_path(out2, item);
	free(dev);
	dev = ob_test_path(got, "disk");
	assert_int_equal(lstat(dev, &st), 0);
	assert_true(S_ISBLK(st.st_mode));
	assert_int_equal(major(st.st_rdev), 8);
	assert_int_equal(minor(st.st_rdev), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
	free(tool);
	tool = ob_test_path(got, "tool");
	assert_int_equal(lstat(tool, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_uid, 65534);
	free(got);

	/* In this process with options of version 1 (before special_files): as not asked for, and 0. */
	o.version = 1;
	o.point_id = point;
	o.datasource_id = ds;
	o.item = item;
	o.destination = out3;
	o.special_files = 1;   /* not read: version 1 has no such member */
	assert_ok(ob_restore(&failed, agent, &o));
	assert_non_null(failed);
	assert_non_null(strstr(failed, "device node"));
	assert_non_null(strstr(failed, "set-user-id"));
	got = ob_test_path(out3, item);
	free(dev);
	dev = ob_test_path(got, "disk");
	assert_int_equal(lstat(dev, &st), -1);
	free(got);

	ob_str_free(failed);
	ob_test_rmtree(folder);
	free(folder);
	free(dev);
	free(tool);
	free(fifo);
	free(item);
	free(out1);
	free(out2);
	free(out3);
	free(point);
}

static void test_sparse_file_stays_sparse(void **state)
{
	char *folder = ob_test_path(src, "sparse"), *file = ob_test_path(folder, "holes.bin"), *point;
	char *out = ob_test_path(dir, "out-sparse"), *restored, *item = ob_test_path(ob_test_rel(src), "sparse");
	char *a, *b;
	uint8_t data[4096];
	size_t la, lb;
	ob_job_info *j;
	struct stat ss, rs;
	int fd;

	(void)state;
	assert_int_equal(mkdir(folder, 0755), 0);
	/* 50 MiB with 8 KiB of data: 4 KiB at 1 MiB, 4 KiB at 30 MiB. */
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 50 << 20), 0);
	assert_ok(ob_random(data, sizeof(data)));
	assert_int_equal(pwrite(fd, data, sizeof(data), 1 << 20), (ssize_t)sizeof(data));
	assert_ok(ob_random(data, sizeof(data)));
	assert_int_equal(pwrite(fd, data, sizeof(data), 30 << 20), (ssize_t)sizeof(data));
	assert_int_equal(close(fd), 0);
	assert_int_equal(stat(file, &ss), 0);
	if ((uint64_t)ss.st_blocks * 512 >= (1u << 20)) {
		print_message("the test folder's file system has no holes; skipped\n");
		ob_test_rmtree(folder);
		skip();
	}
	point = backup_point();
	j = restore_job(point, item, out, 0);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);

	restored = ob_test_path(out, ob_test_rel(src));
	{
		char *p = ob_test_path(restored, "sparse/holes.bin");
		free(restored);
		restored = p;
	}
	assert_int_equal(stat(restored, &rs), 0);
	assert_int_equal(rs.st_size, ss.st_size);
	/* As few blocks as the source (a block or two more at most), the same bytes. */
	print_message("allocated: source %lld bytes, restored %lld bytes\n", (long long)ss.st_blocks * 512,
		(long long)rs.st_blocks * 512);
	assert_true((uint64_t)rs.st_blocks * 512 <= (uint64_t)ss.st_blocks * 512 + 65536);
	a = ob_test_read(file, &la);
	b = ob_test_read(restored, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);

	/* Over an existing dense file of the same name: the bytes are the source's, holes and all. */
	{
		uint8_t *ones = malloc(4u << 20);
		memset(ones, 0xff, 4u << 20);
		ob_test_write(restored, ones, 4u << 20);
		free(ones);
	}
	j = restore_job(point, item, out, 0);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	a = ob_test_read(file, &la);
	b = ob_test_read(restored, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	assert_int_equal(stat(restored, &rs), 0);
	assert_true((uint64_t)rs.st_blocks * 512 <= (uint64_t)ss.st_blocks * 512 + 65536);

	ob_test_rmtree(folder);
	free(folder);
	free(file);
	free(out);
	free(restored);
	free(item);
	free(point);
}

/* Every pack file of the vault, one per line. */
static char *list_packs(void)
{
	char cmd[4096], *text;
	size_t len;
	char *listing = ob_test_path(dir, "packs.txt");

	snprintf(cmd, sizeof(cmd), "ls -d %s/servers/*/packs/*/* > %s", vault_path, listing);
	assert_int_equal(system(cmd), 0);
	text = ob_test_read(listing, &len);
	unlink(listing);
	free(listing);
	return text;
}

/* Make every pack named in a listing unreadable (a folder in its place), or put them back. */
static void packs_unreadable(const char *listing, int unreadable)
{
	char *copy = strdup(listing), *line, *save = NULL, saved[4200];

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		snprintf(saved, sizeof(saved), "%s.saved", line);
		if (unreadable) {
			assert_int_equal(rename(line, saved), 0);
			assert_int_equal(mkdir(line, 0755), 0);
		} else {
			assert_int_equal(rmdir(line), 0);
			assert_int_equal(rename(saved, line), 0);
		}
	}
	free(copy);
}

static void test_unreadable_folder_tree_fails_only_that_folder(void **state)
{
	char *w2 = ob_test_path(src, "w2"), *bad = ob_test_path(src, "w2/bad"), *good = ob_test_path(src, "w2/good");
	char *out = ob_test_path(dir, "out-w2"), *item = ob_test_path(ob_test_rel(src), "w2"), *restored = ob_test_path(out, item);
	char *point, *old_packs, *failed = NULL, *p;
	ob_job_info *j;
	struct stat st;
	int i;

	(void)state;
	assert_int_equal(mkdir(w2, 0755), 0);
	assert_int_equal(mkdir(bad, 0755), 0);
	assert_int_equal(mkdir(good, 0755), 0);
	for (i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "w2/bad/f%d.txt", i);
		put(name, "in a folder whose tree will be unreadable\n");
	}
	put("w2/good/old.txt", "old\n");
	free(backup_point());
	/* The next point shares w2/bad's tree with this one, and has new trees for w2 and w2/good. */
	old_packs = list_packs();
	p = ob_test_path(good, "old.txt");
	unlink(p);
	free(p);
	for (i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "w2/good/new%d.txt", i);
		put(name, "new in the second point\n");
	}
	point = backup_point();
	/* Every pack of the first points cannot be read any more: w2/bad's tree is in one of them. */
	packs_unreadable(old_packs, 1);
	j = restore_job(point, item, out, 0);
	packs_unreadable(old_packs, 0);
	assert_int_equal(j->state, OB_JOB_COMPLETED_WITH_WARNING);
	assert_int_equal(j->files_done, 3);
	assert_ok(ob_job_failed_files(&failed, agent, j->job_id));
	assert_non_null(strstr(failed, "w2/bad"));
	assert_null(strstr(failed, "good"));
	ob_str_free(failed);
	ob_job_info_free(j);
	for (i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "good/new%d.txt", i);
		p = ob_test_path(restored, name);
		assert_int_equal(stat(p, &st), 0);
		free(p);
	}
	/* The folder that failed is not left behind empty. */
	p = ob_test_path(restored, "bad");
	assert_int_not_equal(stat(p, &st), 0);
	free(p);

	/* Nothing restorable at all: the job fails. */
	packs_unreadable(old_packs, 1);
	{
		char *bad_item = ob_test_path(ob_test_rel(src), "w2/bad");
		char *out2 = ob_test_path(dir, "out-w2-bad");
		j = restore_job(point, bad_item, out2, 0);
		packs_unreadable(old_packs, 0);
		assert_int_equal(j->state, OB_JOB_FAILED);
		ob_job_info_free(j);
		free(bad_item);
		free(out2);
	}
	/* Two items, one below the unreadable tree: that one fails, the other restores. */
	packs_unreadable(old_packs, 1);
	{
		ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
		char *bad_file = ob_test_path(ob_test_rel(src), "w2/bad/f0.txt"), *good_file = ob_test_path(ob_test_rel(src), "w2/good/new0.txt");
		char *out3 = ob_test_path(dir, "out-w2-two"), *got = ob_test_path(out3, good_file);
		const char *items[2];
		items[0] = bad_file;
		items[1] = good_file;
		req.point_id = point;
		req.items = items;
		req.item_count = 2;
		req.destination = out3;
		j = NULL;
		assert_ok(ob_recovery_start(&j, agent, &req));
		j = ob_test_job_wait(agent, j);
		packs_unreadable(old_packs, 0);
		assert_int_equal(j->state, OB_JOB_COMPLETED_WITH_WARNING);
		assert_int_equal(j->files_failed, 1);
		assert_int_equal(stat(got, &st), 0);
		ob_job_info_free(j);
		free(bad_file);
		free(good_file);
		free(out3);
		free(got);
	}
	ob_test_rmtree(w2);
	ob_str_free(old_packs);
	free(w2);
	free(bad);
	free(good);
	free(out);
	free(item);
	free(restored);
	free(point);
}

static void make_file_aged(const char *path, int64_t age)
{
	struct timeval tv[2];

	ob_test_write(path, "partial", 7);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= (time_t)age;
	tv[1] = tv[0];
	assert_int_equal(utimes(path, tv), 0);
}

static void test_stale_temporaries_go(void **state)
{
	char *point, *out = ob_test_path(dir, "out-stale"), *restored = ob_test_path(out, ob_test_rel(src)), *docs, *p;
	char name[128];
	const char *gone[5], *kept[4];
	size_t ngone = 0, nkept = 0, i;
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	char *failed = NULL;
	struct stat st;
	pid_t dead, zombie;
	int status;

	(void)state;
	/* A process that is gone: the one an interrupted restore ran in. */
	dead = fork();
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, &status, 0), dead);
	/* And one killed but not reaped yet (a zombie: its parent, or an init that never reaps, has not waited). */
	zombie = fork();
	assert_true(zombie >= 0);
	if (zombie == 0)
		_exit(0);
	{
		siginfo_t info;
		assert_int_equal(waitid(P_PID, (id_t)zombie, &info, WEXITED | WNOWAIT), 0);  /* exited, left unreaped */
	}
	point = backup_point();
	docs = ob_test_path(restored, "docs");
	assert_ok(ob_platform_mkdir_p(docs, 0755));
	/* What an interrupted restore leaves (its process gone, or an older agent's names a day old) ... */
	snprintf(name, sizeof(name), "%s/.obagent-restore-%d-0123456789ab", restored, (int)dead);
	gone[ngone++] = strdup(name);
	snprintf(name, sizeof(name), "%s/.obagent-restore-%d-ba9876543210", docs, (int)dead);
	gone[ngone++] = strdup(name);
	snprintf(name, sizeof(name), "%s/.obagent-restore-00112233aabb", docs);
	gone[ngone++] = strdup(name);
	snprintf(name, sizeof(name), "%s/.obagent-restore-%d-00112233aabb", docs, (int)zombie);
	gone[ngone++] = strdup(name);
	/* ... and what must stay: a live restore's, a fresh one of the older form, a name not ours. */
	snprintf(name, sizeof(name), "%s/.obagent-restore-%d-0123456789ab", docs, (int)getppid());
	kept[nkept++] = strdup(name);
	snprintf(name, sizeof(name), "%s/.obagent-restore-ccddeeff0011", docs);
	kept[nkept++] = strdup(name);
	snprintf(name, sizeof(name), "%s/.obagent-restore-notes.txt", restored);
	kept[nkept++] = strdup(name);
	for (i = 0; i < ngone; i++)
		make_file_aged(gone[i], i == 2 ? 3 * 86400 : 0);
	for (i = 0; i < nkept; i++)
		make_file_aged(kept[i], 3 * 86400 * (i != 1));
	o.point_id = point;
	o.item = ob_test_rel(src);
	o.destination = out;
	o.overwrite = OB_OVERWRITE_OVERWRITE;
	assert_ok(ob_restore(&failed, agent, &o));
	assert_null(failed);
	for (i = 0; i < ngone; i++) {
		if (stat(gone[i], &st) == 0)
			fail_msg("'%s' is still there", gone[i]);
		free((char *)gone[i]);
	}
	for (i = 0; i < nkept; i++) {
		if (stat(kept[i], &st) != 0)
			fail_msg("'%s' was removed", kept[i]);
		free((char *)kept[i]);
	}
	assert_int_equal(waitpid(zombie, &status, 0), zombie);
	p = ob_test_path(restored, "notes.txt");
	assert_int_equal(stat(p, &st), 0);
	free(p);

	/* An item that is not in the point makes nothing, not even the destination. */
	free(out);
	out = ob_test_path(dir, "out-not-found");
	o.item = "no/such/item";
	o.destination = out;
	assert_ob(OB_ENOTFOUND, ob_restore(&failed, agent, &o));
	ob_str_free(failed);
	assert_int_not_equal(stat(out, &st), 0);
	{
		/* Through a job, with two items that are both missing: it fails, nothing is made. */
		ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
		const char *items[2] = { "no/such/item", "nor/this" };
		ob_job_info *j = NULL;
		req.point_id = point;
		req.items = items;
		req.item_count = 2;
		req.destination = out;
		assert_ok(ob_recovery_start(&j, agent, &req));
		j = ob_test_job_wait(agent, j);
		assert_int_equal(j->state, OB_JOB_FAILED);
		assert_int_equal(j->files_failed, 2);
		ob_job_info_free(j);
		assert_int_not_equal(stat(out, &st), 0);
	}
	free(docs);
	free(restored);
	free(out);
	free(point);
}

/* An entry that cannot be given a name (every copy name taken) fails alone; the rest restores. */
static void test_entry_without_a_name_fails_alone(void **state)
{
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	char *point, *failed = NULL, *out = ob_test_path(dir, "out-copies"), *restored = ob_test_path(out, ob_test_rel(src));
	char *docs = ob_test_path(restored, "docs"), *p, name[512], stamp[32];
	struct stat st;
	struct tm tm;
	time_t now = time(NULL), t;
	int m, k;

	(void)state;
	point = backup_point();
	assert_ok(ob_platform_mkdir_p(docs, 0755));
	p = ob_test_path(docs, "report.txt");
	ob_test_write(p, "local", 5);
	free(p);
	/* Every copy name of report.txt for this minute and the next (the restore stamps its start). */
	for (m = 0; m < 2; m++) {
		t = now + 60 * m;
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H-%M", &tm);
		for (k = 1; k < 1000; k++) {
			if (k == 1)
				snprintf(name, sizeof(name), "%s/%s Copy of report.txt", docs, stamp);
			else
				snprintf(name, sizeof(name), "%s/%s Copy (%d) of report.txt", docs, stamp, k);
			ob_test_write(name, "", 0);
		}
	}
	o.point_id = point;
	o.item = ob_test_rel(src);
	o.destination = out;
	o.overwrite = OB_OVERWRITE_CREATE_COPY;
	assert_ob(OB_EIO, ob_restore(&failed, agent, &o));
	assert_non_null(failed);
	assert_non_null(strstr(failed, "report.txt"));
	assert_null(strstr(failed, "notes.txt"));
	ob_str_free(failed);
	/* What comes after it in the point was restored. */
	p = ob_test_path(restored, "notes.txt");
	assert_int_equal(stat(p, &st), 0);
	free(p);
	ob_test_rmtree(out);
	free(docs);
	free(restored);
	free(out);
	free(point);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_browse_and_search),
		cmocka_unit_test(test_recovery_job_and_overwrite_options),
		cmocka_unit_test(test_alternate_server),
		cmocka_unit_test(test_lost_cache_folder),
		cmocka_unit_test(test_crafted_names_never_escape),
		cmocka_unit_test(test_set_id_bits_need_their_owner),
		cmocka_unit_test(test_device_nodes_and_set_id_bits_only_when_asked),
		cmocka_unit_test(test_sparse_file_stays_sparse),
		cmocka_unit_test(test_unreadable_folder_tree_fails_only_that_folder),
		cmocka_unit_test(test_stale_temporaries_go),
		cmocka_unit_test(test_entry_without_a_name_fails_alone),
		cmocka_unit_test(test_chunks_that_do_not_add_up_are_damage),
		cmocka_unit_test(test_damage_fails_only_what_needs_it),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
