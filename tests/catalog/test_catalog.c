/* The catalog: fresh creation, upgrade from an old schema, refusal of a newer one. */
#include "testutil.h"
#include "catalog/statement.h"
#include "catalog/catalog.h"
#ifdef _WIN32
#include "platform/platform.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int table_exists(ob_catalog *cat, const char *name)
{
	sqlite3_stmt *st;
	int found;

	assert_int_equal(sqlite3_prepare_v2(ob_catalog_db(cat),
		"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static void test_fresh_catalog_is_latest(void **state)
{
	char *dir = ob_test_tempdir("catalog"), *path = ob_test_path(dir, "catalog.db");
	ob_catalog *cat;
	struct stat st;

	(void)state;
	assert_ok(ob_catalog_open(&cat, path));
	assert_int_equal(ob_catalog_version(cat), ob_catalog_latest_version());
	assert_true(table_exists(cat, "settings"));
	assert_true(table_exists(cat, "registration"));
	assert_true(table_exists(cat, "encryption"));
#ifndef _WIN32
	assert_int_equal(stat(path, &st), 0);
	/* POSIX: owner-only (Windows has no mode bits; its state folder has a protected DACL instead). */
	assert_int_equal(st.st_mode & 077, 0);
#else
	(void)st;
	assert_int_equal(ob_platform_exists(path), 1);   /* the engine's "/C:/..." path, which stat() does not take */
#endif
	ob_catalog_free(cat);
	/* Opening again changes nothing. */
	assert_ok(ob_catalog_open(&cat, path));
	assert_int_equal(ob_catalog_version(cat), ob_catalog_latest_version());
	ob_catalog_free(cat);
	ob_test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_upgrade_keeps_data(void **state)
{
	char *dir = ob_test_tempdir("catalog"), *path = ob_test_path(dir, "catalog.db");
	ob_catalog *cat;
	char *value;

	(void)state;
	assert_ok(ob_catalog_open_at(&cat, path, 1));
	assert_int_equal(ob_catalog_version(cat), 1);
	assert_false(table_exists(cat, "encryption"));
	assert_ok(ob_catalog_setting_set(cat, "proxy.server", "proxy.example"));
	assert_ok(ob_catalog_exec(cat, "INSERT INTO registration VALUES (1, 'v', 'vault', '/v', 'Local', 's', 'srv', 1, 2)"));
	ob_catalog_free(cat);

	assert_ok(ob_catalog_open(&cat, path));
	assert_int_equal(ob_catalog_version(cat), ob_catalog_latest_version());
	assert_true(table_exists(cat, "encryption"));
	assert_ok(ob_catalog_setting_get(&value, cat, "proxy.server"));
	assert_string_equal(value, "proxy.example");
	free(value);
	ob_catalog_free(cat);
	ob_test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_newer_catalog_is_refused(void **state)
{
	char *dir = ob_test_tempdir("catalog"), *path = ob_test_path(dir, "catalog.db");
	ob_catalog *cat;

	(void)state;
	assert_ok(ob_catalog_open(&cat, path));
	assert_ok(ob_catalog_exec(cat, "PRAGMA user_version = 999"));
	ob_catalog_free(cat);
	assert_int_equal(ob_catalog_open(&cat, path), OB_EINVALID);
	assert_null(cat);
	assert_non_null(strstr(ob_error_last(), "newer"));
	ob_test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_garbage_file_is_refused(void **state)
{
	char *dir = ob_test_tempdir("catalog"), *path = ob_test_path(dir, "catalog.db");
	ob_catalog *cat;
	char junk[4096];

	(void)state;
	memset(junk, 'x', sizeof(junk));
	ob_test_write(path, junk, sizeof(junk));
	assert_int_equal(ob_catalog_open(&cat, path), OB_ECORRUPT);
	assert_non_null(strstr(ob_error_last(), "SQLite"));
	ob_test_rmtree(dir);
	free(path);
	free(dir);
}

/* Commits are durable: WAL with synchronous=FULL (2), so a power loss cannot take back a commit. */
static void test_commits_are_durable(void **state)
{
	char *dir = ob_test_tempdir("catalog"), *path = ob_test_path(dir, "catalog.db");
	ob_catalog *cat;
	sqlite3_stmt *st;

	(void)state;
	assert_ok(ob_catalog_open(&cat, path));
	assert_int_equal(sqlite3_prepare_v2(ob_catalog_db(cat), "PRAGMA synchronous", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(ob_catalog_db(cat), "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	ob_catalog_free(cat);
	ob_test_rmtree(dir);
	free(path);
	free(dir);
}

/*
 * A COMMIT that fails (here: another statement of the connection is still an active
 * writer, as a job monitor's UPDATE ... RETURNING was while the backup's syncer
 * committed from another thread) must not leave the connection inside the
 * transaction: what the process records next (the job's end) would join a
 * transaction that is never committed, and the job would read as killed.
 */
static void test_failed_commit_ends_the_transaction(void **state)
{
	char *dir = ob_test_tempdir("catalog"), *path = ob_test_path(dir, "catalog.db");
	ob_catalog *cat;
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v = NULL;

	(void)state;
	assert_ok(ob_catalog_open(&cat, path));
	db = ob_catalog_db(cat);
	assert_ok(ob_catalog_setting_set(cat, "k", "before"));
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE settings SET value = 'inside' WHERE name = 'k'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE settings SET value = value WHERE name = 'k' RETURNING value", -1, &st,
		NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);   /* an active writer */
	assert_ob(OB_ERROR, ob_catalog_db_end(db, 0, "Cannot record"));
	assert_non_null(strstr(ob_error_last(), "Cannot record"));
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_get_autocommit(db), 1);   /* rolled back, not left open */
	assert_ok(ob_catalog_setting_get(&v, cat, "k"));
	assert_string_equal(v, "before");
	free(v);

	/* ob_catalog_commit ends it the same way. */
	assert_ok(ob_catalog_begin(cat));
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE settings SET value = value WHERE name = 'k' RETURNING value", -1, &st,
		NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(ob_catalog_commit(cat) < 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_get_autocommit(db), 1);

	ob_catalog_free(cat);
	ob_test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_settings(void **state)
{
	char *dir = ob_test_tempdir("catalog"), *path = ob_test_path(dir, "catalog.db");
	ob_catalog *cat;
	char *value;

	(void)state;
	assert_ok(ob_catalog_open(&cat, path));
	assert_int_equal(ob_catalog_setting_get(&value, cat, "a"), OB_ENOTFOUND);
	assert_ok(ob_catalog_setting_set(cat, "a", "1"));
	assert_ok(ob_catalog_setting_set(cat, "a", "2"));
	assert_ok(ob_catalog_setting_get(&value, cat, "a"));
	assert_string_equal(value, "2");
	free(value);
	assert_ok(ob_catalog_setting_delete(cat, "a"));
	assert_int_equal(ob_catalog_setting_get(&value, cat, "a"), OB_ENOTFOUND);
	ob_catalog_free(cat);
	ob_test_rmtree(dir);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_catalog_is_latest),
		cmocka_unit_test(test_upgrade_keeps_data),
		cmocka_unit_test(test_newer_catalog_is_refused),
		cmocka_unit_test(test_garbage_file_is_refused),
		cmocka_unit_test(test_failed_commit_ends_the_transaction),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_commits_are_durable),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
