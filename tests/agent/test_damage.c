/*
 * Damage and healing: a flipped byte in a pack shared by four files makes
 * Test-OBRecoveryPoint (ob_recovery_test) name all four; the next backup stores
 * the damaged blob again from the source, so its point tests healthy and the old
 * point, which names the same blob id, tests healthy and restores too; data the
 * source no longer has is reported once as not healed.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "agent/locate.h"
#include "agent/repo_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *src, *vault_path, *creds;
static ob_agent *agent, *other;
static const char *PP = "damage test passphrase";
static uint8_t *shared;
#define SHARED_BYTES (2u << 20)

static void put(const char *rel, const void *data, size_t len)
{
	char *p = ob_test_path(src, rel);
	ob_test_write(p, data, len);
	free(p);
}

static void make_dir(const char *rel)
{
	char *p = ob_test_path(src, rel);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static ob_job_info *backup(void)
{
	return ob_test_backup(agent);
}

/* A backup that must end in state; returns its point (malloc'd). */
static char *backup_point(int state)
{
	ob_job_info *j = backup();
	char *point;

	if ((int)j->state != state) {
		char *files = NULL;
		ob_job_failed_files(&files, agent, j->job_id);
		print_error("job %s ended %d: %s\n%s", j->job_id, (int)j->state, j->error_message ? j->error_message : "",
			files ? files : "");
		ob_str_free(files);
	}
	assert_int_equal(j->state, state);
	point = strdup(j->recovery_point);
	ob_job_info_free(j);
	return point;
}

/* Flip one byte in the middle of the largest pack of the vault; its path is left in damaged_pack. */
static char damaged_pack[4096];

static void flip_largest_pack(void)
{
#ifdef _WIN32
	/* No shell on Windows: the same steps on the platform layer (tests/support/testutil.c). */
	char *servers = ob_test_path(vault_path, "servers"), *largest = ob_test_find_file(servers, "packs", NULL);

	assert_non_null(largest);
	snprintf(damaged_pack, sizeof(damaged_pack), "%s", largest);
	ob_test_flip_byte(largest, -1);
	free(largest);
	free(servers);
#else
	char cmd[4096];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls -S %s/servers/*/packs/*/* | head -n 1", vault_path);
	assert_non_null(f = popen(cmd, "r"));
	assert_non_null(fgets(damaged_pack, sizeof(damaged_pack), f));
	pclose(f);
	damaged_pack[strcspn(damaged_pack, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd), "f=$(ls -S %s/servers/*/packs/*/* | head -n 1) && s=$(stat -c %%s \"$f\") && "
		"b=$(dd if=\"$f\" bs=1 skip=$((s / 2)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ') && "
		"printf \"\\\\$(printf %%o $(( (b + 1) %% 256 )))\" | dd of=\"$f\" bs=1 seek=$((s / 2)) conv=notrunc 2>/dev/null",
		vault_path);
	assert_int_equal(system(cmd), 0);
#endif
}

/* Test a point (through another server's agent when a is not NULL): its return code, and the report (malloc'd). */
static int test_point_as(ob_agent *a, const char *point, char **report)
{
	ob_recovery *rec = NULL;
	uint64_t objects = 0;
	int rc;

	if (a)
		assert_ok(ob_recovery_open(&rec, a, "damage-server", (const uint8_t *)PP, strlen(PP)));
	else
		assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	rc = ob_recovery_test(report, &objects, rec, point);
	assert_true(objects > 0);
	ob_recovery_free(rec);
	return rc;
}

static int test_point(const char *point, char **report)
{
	return test_point_as(NULL, point, report);
}

/* A second server of the vault: it reads this server's points from the vault's index objects alone. */
static ob_agent *other_server(void)
{
	ob_vault *v;
	char *cred = NULL, *home;

	if (other)
		return other;
	home = ob_test_path(dir, "home-other");
	assert_ok(ob_vault_open(&v, vault_path));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	ob_env_set("OBAGENT_SERVER_NAME", "other-server");
	assert_ok(ob_agent_open(&other, home));
	ob_env_set("OBAGENT_SERVER_NAME", "damage-server");
	assert_ok(ob_agent_register(NULL, other, cred));
	ob_str_free(cred);
	ob_vault_free(v);
	free(home);
	return other;
}

static ob_test_server srv;   /* dir, src, vault_path, creds and agent are borrowed from it */

static int setup(void **state)
{
	(void)state;
	ob_test_server_folders(&srv, "damage");
	dir = srv.dir;
	src = srv.src;
	vault_path = srv.vault_path;
	creds = srv.creds;
	shared = malloc(SHARED_BYTES);
	assert_ok(ob_random(shared, SHARED_BYTES));
	/* Four files, in three folders, with the same data: one set of blobs in one pack. */
	make_dir("a");
	make_dir("b");
	make_dir("b/c");
	put("a/one.bin", shared, SHARED_BYTES);
	put("a/two.bin", shared, SHARED_BYTES);
	put("b/three.bin", shared, SHARED_BYTES);
	put("b/c/four.bin", shared, SHARED_BYTES);
	put("other.txt", "other\n", 6);
	ob_test_server_register(&srv, "home", OBAGENT_WORKER_PATH, "damage-server", "DamageTest", PP);
	agent = srv.agent;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_agent_free(other);
	other = NULL;
	ob_test_server_dispose(&srv);
	agent = NULL;
	dir = src = vault_path = creds = NULL;
	free(shared);
	shared = NULL;
	return 0;
}

static void test_every_file_named_then_healed(void **state)
{
	char *p1, *p2, *report = NULL, *out = ob_test_path(dir, "out"), *restored, *restored2, *data;
	const char *names[] = { "a/one.bin", "a/two.bin", "b/three.bin", "b/c/four.bin" };
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	char *failed = NULL, item[4096];
	size_t i, len = 0;

	(void)state;
	p1 = backup_point(OB_JOB_COMPLETED);
	assert_ok(test_point(p1, &report));
	assert_string_equal(report, "");
	ob_str_free(report);

	flip_largest_pack();
	assert_ob(OB_ECORRUPT, test_point(p1, &report));
	for (i = 0; i < 4; i++) {
		char *p = ob_test_path(src, names[i]);
		if (!strstr(report, p))
			print_error("%s is not named in:\n%s", p, report);
		assert_non_null(strstr(report, p));
		free(p);
	}
	assert_null(strstr(report, "other.txt"));
	ob_str_free(report);

	/* The next backup stores the damaged blob again from the source: nothing is left unhealed. */
	p2 = backup_point(OB_JOB_COMPLETED);
	assert_ok(test_point(p2, &report));
	assert_string_equal(report, "");
	ob_str_free(report);
	/* The old point names the same blob id: it finds the new copy. */
	assert_ok(test_point(p1, &report));
	assert_string_equal(report, "");
	ob_str_free(report);
	snprintf(item, sizeof(item), "%s/b/c/four.bin", ob_test_rel(src));
	o.point_id = p1;
	o.item = item;
	o.destination = out;
	assert_ok(ob_restore(&failed, agent, &o));
	assert_null(failed);
	restored = malloc(strlen(out) + strlen(item) + 2);
	sprintf(restored, "%s/%s", out, item);
	data = ob_test_read(restored, &len);
	assert_int_equal(len, SHARED_BYTES);
	assert_memory_equal(data, shared, SHARED_BYTES);
	free(data);
	/* Another server reads the index, which names both copies: it finds the sound one, to test and to restore. */
	assert_ok(test_point_as(other_server(), p1, &report));
	ob_str_free(report);
	{
		ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
		ob_recovery *rec = NULL;
		ob_recovery_point **pts = NULL;
		ob_job_info *j = NULL;
		const char *items[1] = { item };
		char *alt = ob_test_path(dir, "out-other"), *id;
		size_t n = 0, k;
		assert_ok(ob_recovery_open(&rec, other, "damage-server", (const uint8_t *)PP, strlen(PP)));
		assert_ok(ob_recovery_list_points(&pts, &n, rec));
		for (k = 0; k < n && strcmp(pts[k]->id, p1); k++)
			;
		assert_true(k < n);
		req.server_name = "damage-server";
		req.passphrase = (const uint8_t *)PP;
		req.passphrase_len = strlen(PP);
		req.point_id = p1;
		req.datasource_id = strtoll(pts[k]->datasource_ids, NULL, 10);
		req.items = items;
		req.item_count = 1;
		req.destination = alt;
		assert_ok(ob_recovery_start(&j, other, &req));
		id = strdup(j->job_id);
		for (k = 0; k < 6000 && j->state == OB_JOB_INPROGRESS; k++) {
			ob_job_info_free(j);
			usleep(20000);
			assert_ok(ob_job_get(&j, other, id));
		}
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		ob_job_info_free(j);
		free(id);
		restored2 = malloc(strlen(alt) + strlen(item) + 2);
		sprintf(restored2, "%s/%s", alt, item);
		data = ob_test_read(restored2, &len);
		assert_int_equal(len, SHARED_BYTES);
		assert_memory_equal(data, shared, SHARED_BYTES);
		free(data);
		free(restored2);
		ob_recovery_points_free(pts, n);
		ob_recovery_free(rec);
		free(alt);
	}
	/* Maintenance drops the damaged copy and keeps the sound one. */
	{
		ob_maintenance_options mo = OB_MAINTENANCE_OPTIONS_INIT;
		ob_maintenance_report *r = NULL;
		mo.grace_seconds = 0;
		for (i = 0; i < 2; i++) {
			assert_ok(ob_maintenance_run(&r, agent, &mo));
			free(r);
			r = NULL;
		}
	}
	assert_int_not_equal(access(damaged_pack, F_OK), 0);
	assert_ok(test_point(p1, &report));
	ob_str_free(report);
	assert_ok(test_point_as(other_server(), p1, &report));
	ob_str_free(report);
	free(restored);
	free(out);
	free(p1);
	free(p2);
}

static void test_what_the_source_lost_is_reported_once(void **state)
{
	uint8_t *gone = malloc(3u << 20);
	char *p3, *p4, *p5, *report = NULL, *files = NULL, *path = ob_test_path(src, "gone.bin");
	ob_job_info *j;

	(void)state;
	assert_ok(ob_random(gone, 3u << 20));
	put("gone.bin", gone, 3u << 20);
	p3 = backup_point(OB_JOB_COMPLETED);
	assert_int_equal(unlink(path), 0);
	flip_largest_pack();
	assert_ob(OB_ECORRUPT, test_point(p3, &report));
	assert_non_null(strstr(report, path));
	ob_str_free(report);

	/* The source no longer has the data: the backup says so, and its own point is healthy. */
	j = backup();
	assert_int_equal(j->state, OB_JOB_COMPLETED_WITH_WARNING);
	assert_ok(ob_job_failed_files(&files, agent, j->job_id));
	assert_non_null(strstr(files, path));
	assert_non_null(strstr(files, "not healed"));
	p4 = strdup(j->recovery_point);
	ob_job_info_free(j);
	ob_str_free(files);
	assert_ok(test_point(p4, &report));
	ob_str_free(report);
	assert_ob(OB_ECORRUPT, test_point(p3, &report));
	ob_str_free(report);
	/* Said once. */
	p5 = backup_point(OB_JOB_COMPLETED);
	free(p3);
	free(p4);
	free(p5);
	free(path);
	free(gone);
}

/* A point whose record is damaged is listed, marked damaged, and fails its test clearly. */
static void test_damaged_point_is_listed_and_fails_its_test(void **state)
{
	ob_recovery_point **pts = NULL;
	ob_recovery *rec = NULL;
	char *point, *report = NULL, cmd[4096];
	uint64_t objects = 0;
	size_t n = 0, i;
	int found = 0;

	(void)state;
	point = backup_point(OB_JOB_COMPLETED);
	/* The byte is changed to another value (writing a fixed one would change nothing 1 time in 256). */
#ifdef _WIN32
	{
		char *servers = ob_test_path(vault_path, "servers"), *snap = ob_test_find_file(servers, "snapshots", point);
		assert_non_null(snap);
		ob_test_flip_byte(snap, 20);
		free(snap);
		free(servers);
		(void)cmd;
	}
#else
	snprintf(cmd, sizeof(cmd), "f=$(ls %s/servers/*/snapshots/%s) && "
		"b=$(dd if=\"$f\" bs=1 skip=20 count=1 2>/dev/null | od -An -tu1 | tr -d ' ') && "
		"printf \"\\\\$(printf %%o $(( (b + 1) %% 256 )))\" | dd of=\"$f\" bs=1 seek=20 conv=notrunc 2>/dev/null",
		vault_path, point);
	assert_int_equal(system(cmd), 0);
#endif
	assert_ok(ob_recovery_points(&pts, &n, agent));
	for (i = 0; i < n; i++)
		if (!strcmp(pts[i]->id, point)) {
			found = 1;
			assert_int_equal(pts[i]->version, OB_RECOVERY_POINT_VERSION);
			assert_int_equal(pts[i]->damaged, 1);
			assert_non_null(pts[i]->problem);
			assert_true(pts[i]->backup_time > 0);
			assert_string_equal(pts[i]->server_name, "damage-server");
		} else {
			assert_int_equal(pts[i]->damaged, 0);
			assert_null(pts[i]->problem);
		}
	assert_true(found);
	ob_recovery_points_free(pts, n);
	found = 0;
	assert_ok(ob_recovery_points_all(&pts, &n, agent));
	for (i = 0; i < n; i++)
		found |= !strcmp(pts[i]->id, point) && pts[i]->damaged;
	assert_true(found);
	ob_recovery_points_free(pts, n);
	assert_ok(ob_recovery_open(&rec, agent, NULL, NULL, 0));
	assert_ob(OB_ECORRUPT, ob_recovery_test(&report, &objects, rec, point));
	assert_int_equal(objects, 1);
	assert_non_null(strstr(report, "(recovery point)\t"));
	assert_non_null(strstr(report, "nothing can be restored"));
	ob_str_free(report);
	ob_recovery_free(rec);
	free(point);
}

/* Flip a byte inside the folder tree that lists an entry named name (found through the packs' headers). */
static void flip_tree_listing(const char *name)
{
	ob_repo repo;
	ob_name_list l = { 0 };
	char prefix[96];
	size_t i, k, flipped = 0;

	assert_ok(ob_agent_repo_open(&repo, agent, NULL));
	snprintf(prefix, sizeof(prefix), "%spacks/", repo.prefix);
	assert_ok(ob_vault_list_names(&l, repo.vc.be, prefix, strlen(prefix) + 3));
	for (i = 0; i < l.n; i++) {
		ob_pack_entry *e = NULL;
		ob_blob_loc loc;
		size_t n = 0;
		assert_ok(ob_id_parse(loc.pack, l.v[i]));
		assert_ok(ob_pack_read_header(&e, &n, &repo, loc.pack));
		for (k = 0; k < n; k++) {
			uint8_t *tree = NULL;
			size_t len = 0;
			if (e[k].type != OB_BLOB_TREE)
				continue;
			loc.offset = e[k].offset;
			loc.length = e[k].length;
			loc.raw_length = e[k].raw_length;
			loc.type = e[k].type;
			assert_ok(ob_fetch_blob_at(&tree, &len, &repo, &loc, OB_BLOB_TREE, e[k].id));
			if (memmem(tree, len, name, strlen(name))) {
				unsigned int at = e[k].offset + e[k].length / 2;
#ifdef _WIN32
				char *servers = ob_test_path(vault_path, "servers"), *pack = ob_test_find_file(servers, "packs", l.v[i]);
				assert_non_null(pack);
				ob_test_flip_byte(pack, at);
				free(pack);
				free(servers);
#else
				char cmd[4096];
				snprintf(cmd, sizeof(cmd), "f=$(ls %s/servers/*/packs/*/%s) && b=$(dd if=\"$f\" bs=1 skip=%u count=1 "
					"2>/dev/null | od -An -tu1 | tr -d ' ') && printf \"\\\\$(printf %%o $(( (b + 1) %% 256 )))\" | "
					"dd of=\"$f\" bs=1 seek=%u conv=notrunc 2>/dev/null", vault_path, l.v[i], at, at);
				assert_int_equal(system(cmd), 0);
#endif
				flipped++;
			}
			free(tree);
		}
		free(e);
	}
	assert_int_equal(flipped, 1);
	ob_name_list_dispose(&l);
	ob_repo_dispose(&repo);
}

/* A damaged folder tree names the folder; the next backup stores the tree again and the old point heals. */
static void test_damaged_folder_is_named_and_healed(void **state)
{
	char *p1, *p2, *report = NULL;

	(void)state;
	p1 = backup_point(OB_JOB_COMPLETED);
	flip_tree_listing("four.bin");
	assert_ob(OB_ECORRUPT, test_point(p1, &report));
	{
		char *folder = ob_test_path(src, "b/c");
		ob_buf want = OB_BUF_INIT;
		assert_ok(ob_buf_printf(&want, "%s\tthe folder's listing is damaged", folder));
		if (!strstr(report, want.data))
			print_error("%s is not named in:\n%s", folder, report);
		assert_non_null(strstr(report, want.data));
		assert_null(strstr(report, "four.bin"));  /* inside the damaged listing: not known */
		ob_buf_dispose(&want);
		free(folder);
	}
	ob_str_free(report);
	p2 = backup_point(OB_JOB_COMPLETED);
	assert_ok(test_point(p2, &report));
	ob_str_free(report);
	assert_ok(test_point(p1, &report));
	assert_string_equal(report, "");
	ob_str_free(report);
	free(p1);
	free(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_file_named_then_healed),
		cmocka_unit_test(test_what_the_source_lost_is_reported_once),
		cmocka_unit_test(test_damaged_point_is_listed_and_fails_its_test),
		cmocka_unit_test(test_damaged_folder_is_named_and_healed),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
