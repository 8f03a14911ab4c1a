/*
 * The file and folder policy through the public API: file spec checks, commit
 * and read back, names and data source ids kept across commits, the user's
 * order, every refusal, pause and resume, removal.
 */
#include "testutil.h"
#include "catalog/statement.h"
#include "obagent/policy.h"
#include "agent/agent_internal.h"
#include "policy/policy_internal.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
	char *dir;
	char *vault_path;
	char *home;
	char *data;
	ob_vault *vault;
	ob_agent *agent;
} fixture;

static char *sub(fixture *f, const char *name)
{
	return ob_test_path(f->dir, name);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char *creds, *cred, *p;

	f->dir = ob_test_tempdir("policy");
	f->vault_path = sub(f, "vault");
	f->home = sub(f, "home");
	f->data = sub(f, "data");
	ob_env_set("OBAGENT_NOW", NULL);
	ob_env_set("OBAGENT_SERVER_NAME", "server-policy");
	if (ob_vault_create(&f->vault, f->vault_path, "PolicyVault") < 0)
		return -1;
	creds = sub(f, "creds");
	if (ob_vault_credentials_issue(&cred, f->vault, creds, 1) < 0 || ob_agent_open(&f->agent, f->home) < 0 ||
	    ob_agent_register(NULL, f->agent, cred) < 0)
		return -1;
	ob_str_free(cred);
	free(creds);
	mkdir(f->data, 0700);
	p = ob_test_path(f->data, "a.txt");
	ob_test_write(p, "a", 1);
	free(p);
	p = ob_test_path(f->data, "skip");
	mkdir(p, 0700);
	free(p);
	p = ob_test_path(f->data, "more");
	mkdir(p, 0700);
	free(p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ob_agent_free(f->agent);
	ob_vault_free(f->vault);
	ob_test_rmtree(f->dir);
	free(f->dir);
	free(f->vault_path);
	free(f->home);
	free(f->data);
	free(f);
	return 0;
}

/* A path under the data folder, kept in a small ring so that tests can use several at once. */
static const char *data_path(fixture *f, const char *rel)
{
	static char ring[8][1024];
	static int next;
	char *slot = ring[next++ % 8];

	snprintf(slot, sizeof(ring[0]), "%s%s%s", f->data, *rel ? "/" : "", rel);
	return slot;
}

/* An absolute path's root: a drive on Windows ("/srv" alone names no volume there), nothing on POSIX. */
#ifdef _WIN32
#define R "/C:"
#else
#define R ""
#endif

static void test_filespec_check(void **state)
{
	char *n;

	(void)state;
	assert_ok(ob_filespec_check(&n, "//srv//data///", 0));
#ifdef _WIN32
	assert_string_equal(n, "/UNC/srv/data");   /* a leading "//" is a share on Windows */
#else
	assert_string_equal(n, "/srv/data");
#endif
	ob_str_free(n);
	assert_ok(ob_filespec_check(&n, "/", 0));
	assert_string_equal(n, "/");
	ob_str_free(n);
#ifndef _WIN32   /* a leading "//" names a share on Windows (above) */
	assert_ok(ob_filespec_check(&n, "///", 1));
	assert_string_equal(n, "/");
	ob_str_free(n);
#endif
	assert_ok(ob_filespec_check(&n, R "/srv/logs/*.log", 1));
	assert_string_equal(n, R "/srv/logs/*.log");
	ob_str_free(n);
	assert_ok(ob_filespec_check(NULL, R "/srv/a?c", 0));

	assert_ob(OB_EINVALID, ob_filespec_check(&n, "srv/data", 0));
	assert_null(n);
	assert_non_null(strstr(ob_error_last(), "relative"));
	assert_ob(OB_EINVALID, ob_filespec_check(&n, "", 0));
	assert_ob(OB_EINVALID, ob_filespec_check(&n, NULL, 0));
	assert_ob(OB_EINVALID, ob_filespec_check(&n, R "/srv/../etc", 0));
	assert_non_null(strstr(ob_error_last(), "'..'"));
	assert_ob(OB_EINVALID, ob_filespec_check(&n, R "/srv/./data", 1));
	assert_ob(OB_EINVALID, ob_filespec_check(&n, R "/srv/*/data", 1));
	assert_non_null(strstr(ob_error_last(), "last component"));
	assert_ob(OB_EINVALID, ob_filespec_check(&n, R "/sr?/x.txt", 0));
}

static void test_path_helpers(void **state)
{
	char *v;

	(void)state;
	assert_true(ob_policy_path_within("/a/b", "/a"));
	assert_true(ob_policy_path_within("/a", "/a"));
	assert_true(ob_policy_path_within("/a", "/"));
	assert_false(ob_policy_path_within("/ab", "/a"));
	assert_false(ob_policy_path_within("/a", "/a/b"));
	assert_ok(ob_policy_volume_of(&v, "/"));
	assert_string_equal(v, "/");
	ob_str_free(v);
#ifndef _WIN32   /* Windows has no /proc (and Wine would find Linux's through its Z: drive, not as a volume) */
	if (ob_platform_exists("/proc/self/mountinfo") == 1) {
		assert_ok(ob_policy_volume_of(&v, "/proc/self/status"));
		assert_string_equal(v, "/proc");
		ob_str_free(v);
	}
#endif
}

/* What a backup asks of each inclusion before it scans: is it there, on the volume the policy names? */
static void test_inclusion_missing(void **state)
{
	char *d = ob_test_tempdir("missing"), *file = ob_test_path(d, "file"), *gone = ob_test_path(d, "gone"),
		*wild_gone = ob_test_path(d, "gone/*.log"), *wild_file = ob_test_path(d, "file/*.log"),
		*wild = ob_test_path(d, "*.log"), *vol = NULL, *why = NULL;

	(void)state;
	ob_test_write(file, "x", 1);
	assert_ok(ob_policy_volume_of(&vol, d));
	assert_ok(ob_policy_inclusion_missing(&why, vol, d));
	assert_null(why);
	assert_ok(ob_policy_inclusion_missing(&why, vol, file));
	assert_null(why);
	assert_ok(ob_policy_inclusion_missing(&why, vol, wild));
	assert_null(why);
	assert_ok(ob_policy_inclusion_missing(&why, vol, gone));
	assert_non_null(why);
	assert_non_null(strstr(why, "does not exist"));
	assert_non_null(strstr(why, gone));
	ob_str_free(why);
	assert_ok(ob_policy_inclusion_missing(&why, vol, wild_gone));
	assert_non_null(strstr(why, "Its folder does not exist"));
	ob_str_free(why);
	assert_ok(ob_policy_inclusion_missing(&why, vol, wild_file));
	assert_non_null(strstr(why, "is not a folder"));   /* its folder is a file */
	ob_str_free(why);
	/* The policy's volume is not in the mount table any more. */
	{
		char *unmounted = ob_test_path(d, "volume");
		assert_ok(ob_policy_inclusion_missing(&why, unmounted, file));
		assert_non_null(strstr(why, "not mounted"));
		ob_str_free(why);
		free(unmounted);
	}
	/* The path is on another mount now than the one the policy names. */
#ifndef _WIN32   /* as in test_path_helpers: no /proc on Windows */
	if (ob_platform_exists("/proc/self/mountinfo") == 1) {
		assert_ok(ob_policy_inclusion_missing(&why, "/", "/proc/self"));
		assert_non_null(strstr(why, "another volume now ('/proc')"));
		ob_str_free(why);
	}
#endif
	ob_str_free(vol);
	ob_test_rmtree(d);
	free(d);
	free(file);
	free(gone);
	free(wild_gone);
	free(wild_file);
	free(wild);
}

static void test_commit_and_read_back(void **state)
{
	fixture *f = *state;
	ob_filespec_input in[] = {
		{ data_path(f, "more"), 0, 0 },
		{ data_path(f, "skip"), 1, 1 },
		{ data_path(f, ""), 0, 1 },
		{ data_path(f, "*.tmp"), 1, 1 },
		{ data_path(f, "*.txt"), 0, 1 },
	};
	ob_policy *p, *q;
	const char *spec;
	char *vol;
	int ex, rec;
	size_t i;

	assert_ob(OB_ENOTFOUND, ob_policy_get(&p, f->agent));
	assert_null(p);
	assert_ok(ob_policy_commit(&p, f->agent, in, 5));
	assert_int_equal(strlen(ob_policy_name(p)), 36);
	assert_int_equal(ob_policy_name(p)[14], '4');
	assert_int_equal(ob_policy_state_get(p), OB_POLICY_VALID);
	assert_int_equal(ob_policy_datasource_count(p), 1);
	assert_true(ob_policy_datasource_id(p, 0) > 0);
	assert_ok(ob_policy_volume_of(&vol, f->data));
	assert_string_equal(ob_policy_datasource_name(p, 0), vol);
	ob_str_free(vol);
	assert_int_equal(ob_policy_filespec_count(p, 0), 5);
	for (i = 0; i < 5; i++) {
		assert_ok(ob_policy_filespec(p, 0, i, &spec, &ex, &rec));
		assert_string_equal(spec, in[i].spec);
		assert_int_equal(ex, in[i].is_exclude);
		assert_int_equal(rec, in[i].is_recursive);
	}
	assert_ob(OB_EINVALID, ob_policy_filespec(p, 0, 5, &spec, &ex, &rec));
	assert_ob(OB_EINVALID, ob_policy_filespec(p, 1, 0, &spec, &ex, &rec));

	/* Read back from a fresh handle: the same. */
	assert_ok(ob_policy_get(&q, f->agent));
	assert_string_equal(ob_policy_name(q), ob_policy_name(p));
	assert_int_equal(ob_policy_datasource_id(q, 0), ob_policy_datasource_id(p, 0));
	assert_int_equal(ob_policy_filespec_count(q, 0), 5);
	assert_ok(ob_policy_filespec(q, 0, 1, &spec, &ex, &rec));
	assert_string_equal(spec, data_path(f, "skip"));
	assert_int_equal(ex, 1);
	ob_policy_free(q);
	ob_policy_free(p);
	ob_policy_free(NULL);
}

static void test_name_and_ids_kept(void **state)
{
	fixture *f = *state;
	char *first = NULL;
	ob_filespec_input one[] = { { data_path(f, ""), 0, 1 } };
	ob_filespec_input two[] = { { data_path(f, "more"), 0, 1 }, { data_path(f, "skip"), 0, 1 } };
	ob_policy *p, *q;
	const char *spec;
	int64_t id;

	assert_ok(ob_policy_commit(&p, f->agent, one, 1));
	first = strdup(ob_policy_name(p));
	id = ob_policy_datasource_id(p, 0);
	assert_ok(ob_policy_commit(&q, f->agent, two, 2));
	assert_string_equal(ob_policy_name(q), first);
	assert_int_equal(ob_policy_datasource_id(q, 0), id);
	/* The previous file specs are replaced, not added to. */
	assert_int_equal(ob_policy_filespec_count(q, 0), 2);
	assert_ok(ob_policy_filespec(q, 0, 0, &spec, NULL, NULL));
	assert_string_equal(spec, data_path(f, "more"));
	ob_policy_free(q);
	/* Committing without reading back is fine too. */
	assert_ok(ob_policy_commit(NULL, f->agent, one, 1));
	assert_ok(ob_policy_get(&q, f->agent));
	assert_string_equal(ob_policy_name(q), first);
	assert_int_equal(ob_policy_filespec_count(q, 0), 1);
	ob_policy_free(q);
	ob_policy_free(p);
	free(first);
}

static void test_refusals(void **state)
{
	fixture *f = *state;
	ob_agent *other;
	char *h = ob_test_path(f->dir, "unregistered");
	ob_policy *p;
	ob_filespec_input ok[] = { { data_path(f, ""), 0, 1 } };
	ob_filespec_input relative[] = { { "data/x", 0, 1 } };
	ob_filespec_input missing[] = { { data_path(f, "absent"), 0, 1 } };
	ob_filespec_input missing_parent[] = { { data_path(f, "absent/*.txt"), 0, 1 } };
	ob_filespec_input outside[] = { { data_path(f, "more"), 0, 1 }, { data_path(f, "skip"), 1, 1 } };
	ob_filespec_input only_exclusions[] = { { data_path(f, "skip"), 1, 1 } };
	ob_filespec_input twice[] = { { data_path(f, "more"), 0, 1 }, { data_path(f, "more/"), 0, 0 } };
	ob_filespec_input dots[] = { { data_path(f, "more/../skip"), 0, 1 } };

	assert_ok(ob_agent_open(&other, h));
	assert_ob(OB_ENOTREG, ob_policy_commit(&p, other, ok, 1));
	assert_null(p);
	assert_non_null(strstr(ob_error_last(), "Start-OBRegistration"));
	ob_agent_free(other);
	free(h);

	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, relative, 1));
	assert_non_null(strstr(ob_error_last(), "relative"));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, outside, 2));
	assert_non_null(strstr(ob_error_last(), "is outside every inclusion"));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, only_exclusions, 1));
	assert_non_null(strstr(ob_error_last(), "no inclusion"));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, ok, 0));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, NULL, 0));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, twice, 2));
	assert_non_null(strstr(ob_error_last(), "twice"));
#ifdef _WIN32
	/* Names without case on Windows (as MARS): "MORE" is the folder "more", so the spec is there twice. */
	{
		ob_filespec_input twice_case[] = { { data_path(f, "more"), 0, 1 }, { data_path(f, "MORE"), 0, 1 } };
		assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, twice_case, 2));
		assert_non_null(strstr(ob_error_last(), "twice"));
	}
#endif
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, dots, 1));
	/* Nothing was committed by any of them. */
	assert_ob(OB_ENOTFOUND, ob_policy_get(&p, f->agent));
	/* A folder that does not exist (yet, or any more) is no refusal, as in MARS: the backup reports it missing. */
	assert_ok(ob_policy_commit(&p, f->agent, missing, 1));
	ob_policy_free(p);
	assert_ok(ob_policy_commit(&p, f->agent, missing_parent, 1));
	ob_policy_free(p);
}

static void test_state_folder_and_vault(void **state)
{
	fixture *f = *state;
	ob_policy *p;
	ob_filespec_input all[] = { { f->dir, 0, 1 } };
	ob_filespec_input vault_only[] = { { f->dir, 0, 1 }, { f->vault_path, 1, 1 } };
	ob_filespec_input home_only[] = { { f->dir, 0, 1 }, { f->home, 1, 1 } };
	ob_filespec_input non_recursive[] = { { f->dir, 0, 1 }, { f->home, 1, 0 }, { f->vault_path, 1, 1 } };
	ob_filespec_input both[] = { { f->dir, 0, 1 }, { f->home, 1, 1 }, { f->vault_path, 1, 1 } };
	char *parent_excl = ob_test_path(f->dir, "*");
	ob_filespec_input wildcard_excl[] = { { f->dir, 0, 1 }, { parent_excl, 1, 1 } };
	ob_filespec_input inside_home[] = { { f->home, 0, 1 } };

	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, all, 1));
	assert_non_null(strstr(ob_error_last(), "state folder"));
	assert_non_null(strstr(ob_error_last(), "-Exclude"));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, vault_only, 2));
	assert_non_null(strstr(ob_error_last(), "state folder"));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, home_only, 2));
	assert_non_null(strstr(ob_error_last(), "vault folder"));
	assert_non_null(strstr(ob_error_last(), f->vault_path));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, non_recursive, 3));
	/* A wildcard exclusion does not count: it names files, not the folder. */
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, wildcard_excl, 2));
	assert_ob(OB_EINVALID, ob_policy_commit(&p, f->agent, inside_home, 1));
	assert_ok(ob_policy_commit(&p, f->agent, both, 3));
	assert_int_equal(ob_policy_filespec_count(p, 0), 3);
	ob_policy_free(p);
	free(parent_excl);
}

static void test_pause_and_resume(void **state)
{
	fixture *f = *state;
	ob_filespec_input in[] = { { data_path(f, ""), 0, 1 } };
	ob_policy *p;

	assert_ob(OB_ENOTFOUND, ob_policy_set_state(f->agent, OB_POLICY_PAUSED));
	assert_ok(ob_policy_commit(NULL, f->agent, in, 1));
	assert_ok(ob_policy_set_state(f->agent, OB_POLICY_PAUSED));
	assert_ok(ob_policy_get(&p, f->agent));
	assert_int_equal(ob_policy_state_get(p), OB_POLICY_PAUSED);
	ob_policy_free(p);
	/* A commit keeps the state. */
	assert_ok(ob_policy_commit(&p, f->agent, in, 1));
	assert_int_equal(ob_policy_state_get(p), OB_POLICY_PAUSED);
	ob_policy_free(p);
	assert_ok(ob_policy_set_state(f->agent, OB_POLICY_VALID));
	assert_ok(ob_policy_get(&p, f->agent));
	assert_int_equal(ob_policy_state_get(p), OB_POLICY_VALID);
	ob_policy_free(p);
	assert_ob(OB_EINVALID, ob_policy_set_state(f->agent, 7));
}

static int count_rows(fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(ob_catalog_db(f->agent->cat), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_remove(void **state)
{
	fixture *f = *state;
	ob_filespec_input in[] = { { data_path(f, ""), 0, 1 } };
	ob_policy *p, *q;

	assert_ob(OB_ENOTFOUND, ob_policy_remove(f->agent, 0));
	assert_ok(ob_policy_commit(&p, f->agent, in, 1));
	assert_ok(ob_policy_remove(f->agent, 0));
	assert_ob(OB_ENOTFOUND, ob_policy_get(&q, f->agent));
	assert_ob(OB_ENOTFOUND, ob_policy_set_state(f->agent, OB_POLICY_PAUSED));
	assert_ob(OB_ENOTFOUND, ob_policy_remove(f->agent, 1));
	assert_int_equal(count_rows(f, "SELECT count(*) FROM filespec"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM datasource"), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM policy_removal WHERE delete_backup = 0 AND done_at IS NULL"), 1);

	/* A new policy: a new name, the same data source id. */
	assert_ok(ob_policy_commit(&q, f->agent, in, 1));
	assert_string_not_equal(ob_policy_name(q), ob_policy_name(p));
	assert_int_equal(ob_policy_datasource_id(q, 0), ob_policy_datasource_id(p, 0));
	assert_ok(ob_policy_remove(f->agent, 1));
	assert_int_equal(count_rows(f, "SELECT count(*) FROM policy_removal WHERE delete_backup = 1"), 1);
	ob_policy_free(q);
	ob_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filespec_check),
		cmocka_unit_test(test_path_helpers),
		cmocka_unit_test(test_inclusion_missing),
		cmocka_unit_test_setup_teardown(test_commit_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_and_ids_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_folder_and_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
