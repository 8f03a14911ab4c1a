/* The policies in the catalog: policy rows, data sources, file specs, removals. */
#include "catalog/policy.h"
#include "catalog/statement.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* The System State policy's kind, written into its statements (OB_POLICY_KIND_SYSTEMSTATE). */
#define SYSTEMSTATE "SystemState"

void ob_catalog_policy_dispose(ob_catalog_policy *p)
{
	free(p->name);
	free(p->schedule);
	free(p->retention);
	memset(p, 0, sizeof(*p));
}

int ob_catalog_policy_get(ob_catalog_policy *out, ob_catalog *cat, const char *kind)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	memset(out, 0, sizeof(*out));
	if ((error = ob_catalog_prepare(&st, cat, "SELECT name, state, schedule, retention FROM policy WHERE kind = ?1",
		"Cannot read the policy")) < 0)
		return error;
	ob_catalog_bind(st, "t", kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		error = OB_ENOTFOUND;
	} else if (rc != SQLITE_ROW) {
		error = ob_catalog_fail(cat, "Cannot read the policy");
	} else {
		out->state = sqlite3_column_int(st, 1);
		if (sqlite3_column_type(st, 2) == SQLITE_TEXT)
			out->schedule = ob_catalog_column_dup(st, 2);
		if (sqlite3_column_type(st, 3) == SQLITE_TEXT)
			out->retention = ob_catalog_column_dup(st, 3);
		if (!(out->name = ob_catalog_column_dup(st, 0)))
			error = OB_ENOMEM;
	}
	sqlite3_finalize(st);
	if (error < 0)
		ob_catalog_policy_dispose(out);
	return error;
}

int ob_catalog_policy_filespecs(ob_catalog *cat, const char *kind,
	int (*cb)(int64_t datasource_id, const char *datasource_name, const char *spec, int is_exclude, int is_recursive,
		void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	if ((error = ob_catalog_prepare(&st, cat,
		"SELECT d.id, d.name, f.spec, f.is_exclude, f.is_recursive FROM filespec f "
		"JOIN datasource d ON d.id = f.datasource_id WHERE d.kind = ?1 ORDER BY f.position",
		"Cannot read the policy's file specs")) < 0)
		return error;
	ob_catalog_bind(st, "t", kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((error = cb(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
			(const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
			payload)) < 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot read the policy's file specs");
done:
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_datasource_find(int64_t *out, ob_catalog *cat, const char *kind, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	if ((error = ob_catalog_prepare(&st, cat, "SELECT id FROM datasource WHERE kind = ?1 AND name = ?2",
		"Cannot read the data sources")) < 0)
		return error;
	ob_catalog_bind(st, "tt", kind, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		error = OB_ENOTFOUND;
	else
		error = ob_catalog_fail(cat, "Cannot read the data sources");
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_datasource_add(int *out_added, ob_catalog *cat, int64_t id, const char *kind, const char *name)
{
	int changes = 0, error;

	*out_added = 0;
	if ((error = ob_catalog_run(&changes, cat, "Cannot save a data source",
		"INSERT OR IGNORE INTO datasource (id, kind, name) VALUES (?1, ?2, ?3)", "Itt", id, kind, name)) < 0)
		return error;
	*out_added = changes == 1;
	return 0;
}

/* The file specs of kind go; what names the step the caller is at (replace, remove). */
static int filespecs_clear(ob_catalog *cat, const char *kind, const char *what)
{
	return ob_catalog_run(NULL, cat, what,
		"DELETE FROM filespec WHERE datasource_id IN (SELECT id FROM datasource WHERE kind = ?1)", "t", kind);
}

/* A policy of kind is set: the rules a removed one left for pruning are replaced by its own. */
static int pruning_clear(ob_catalog *cat, const char *kind)
{
	return ob_catalog_run(NULL, cat, "Cannot replace the pruning rules", "DELETE FROM pruning WHERE kind = ?1", "t",
		kind);
}

int ob_catalog_policy_save_filespecs(ob_catalog *cat, const char *kind, const ob_catalog_filespec *specs, size_t count,
	const char *name, int64_t now)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int error;

	if ((error = filespecs_clear(cat, kind, "Cannot replace the file specs")) < 0)
		return error;
	if ((error = ob_catalog_prepare(&st, cat,
		"INSERT INTO filespec (datasource_id, position, spec, is_exclude, is_recursive) VALUES (?1, ?2, ?3, ?4, ?5)",
		"Cannot save the file specs")) < 0)
		return error;
	for (i = 0; i < count; i++) {
		sqlite3_reset(st);
		ob_catalog_bind(st, "IItii", specs[i].datasource_id, (int64_t)i, specs[i].spec, specs[i].is_exclude,
			specs[i].is_recursive);
		if (sqlite3_step(st) != SQLITE_DONE) {
			error = ob_catalog_fail(cat, "Cannot save the file specs");
			break;
		}
	}
	sqlite3_finalize(st);
	if (error < 0)
		return error;
	if ((error = pruning_clear(cat, kind)) < 0)
		return error;
	/* The name is made once; a later commit keeps it (and the state). */
	return ob_catalog_run(NULL, cat, "Cannot save the policy",
		"INSERT INTO policy (kind, name, state, created_at, modified_at) VALUES (?1, ?2, 0, ?3, ?3) "
		"ON CONFLICT (kind) DO UPDATE SET modified_at = excluded.modified_at", "ttI", kind, name, now);
}

int ob_catalog_policy_set_state(int *out_changes, ob_catalog *cat, const char *kind, int state, int64_t now)
{
	return ob_catalog_run(out_changes, cat, "Cannot change the policy state",
		"UPDATE policy SET state = ?1, modified_at = ?2 WHERE kind = ?3", "iIt", state, now, kind);
}

int ob_catalog_policy_set_protection(int *out_changes, ob_catalog *cat, const char *kind, const char *schedule,
	const char *retention, int64_t now)
{
	return ob_catalog_run(out_changes, cat, "Cannot save the schedule and retention",
		"UPDATE policy SET schedule = ?1, retention = ?2, modified_at = ?3 WHERE kind = ?4", "ttIt",
		schedule, retention, now, kind);
}

/* The name of the policy of kind (*out malloc'd); OB_ENOTFOUND, with no message, when none. */
static int policy_name(char **out, ob_catalog *cat, const char *kind)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	*out = NULL;
	if ((error = ob_catalog_prepare(&st, cat, "SELECT name FROM policy WHERE kind = ?1", "Cannot read the policy")) < 0)
		return error;
	ob_catalog_bind(st, "t", kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		error = OB_ENOTFOUND;
	else if (rc != SQLITE_ROW)
		error = ob_catalog_fail(cat, "Cannot read the policy");
	else if (!(*out = ob_catalog_column_dup(st, 0)))
		error = OB_ENOMEM;
	sqlite3_finalize(st);
	return error;
}

/* The retention text of the policy of kind (*out malloc'd, NULL when it has none). */
static int policy_retention(char **out, ob_catalog *cat, const char *kind)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	*out = NULL;
	if ((error = ob_catalog_prepare(&st, cat, "SELECT retention FROM policy WHERE kind = ?1",
		"Cannot read the policy")) < 0)
		return error;
	ob_catalog_bind(st, "t", kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT && !(*out = ob_catalog_column_dup(st, 0)))
		error = OB_ENOMEM;
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot read the policy");
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_policy_remove(ob_catalog *cat, const char *kind, int delete_backup, int enable_pruning, int64_t now)
{
	char *name = NULL, *retention = NULL;
	int error;

	if ((error = ob_catalog_begin(cat)) < 0)
		return error;
	if ((error = policy_name(&name, cat, kind)) < 0 ||
	    (error = policy_retention(&retention, cat, kind)) < 0 ||
	    (error = filespecs_clear(cat, kind, "Cannot remove the policy")) < 0 ||
	    (error = ob_catalog_run(NULL, cat, "Cannot remove the policy", "DELETE FROM policy WHERE kind = ?1", "t",
		kind)) < 0 ||
	    (error = pruning_clear(cat, kind)) < 0 ||
	    /* With pruning, its retention outlives it (a policy without one leaves nothing to age out by). */
	    (enable_pruning && retention && (error = ob_catalog_run(NULL, cat, "Cannot keep the retention rules for pruning",
		"INSERT INTO pruning (kind, policy_name, retention, removed_at) VALUES (?1, ?2, ?3, ?4)", "tttI",
		kind, name, retention, now)) < 0) ||
	    (error = ob_catalog_run(NULL, cat, "Cannot record the policy removal",
		"INSERT INTO policy_removal (kind, policy_name, delete_backup, requested_at, enable_pruning) "
		"VALUES (?1, ?2, ?3, ?4, ?5)", "ttiIi", kind, name, delete_backup ? 1 : 0, now, enable_pruning ? 1 : 0)) < 0 ||
	    (error = ob_catalog_commit(cat)) < 0)
		ob_catalog_rollback(cat);
	free(name);
	free(retention);
	return error;
}

int ob_catalog_pruning_get(char **out_retention, int64_t *out_last_pass, ob_catalog *cat, const char *kind)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	*out_retention = NULL;
	if (out_last_pass)
		*out_last_pass = 0;
	if ((error = ob_catalog_prepare(&st, cat, "SELECT retention, last_pass FROM pruning WHERE kind = ?1",
		"Cannot read the pruning rules")) < 0)
		return error;
	ob_catalog_bind(st, "t", kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		error = OB_ENOTFOUND;
	} else if (rc != SQLITE_ROW) {
		error = ob_catalog_fail(cat, "Cannot read the pruning rules");
	} else {
		if (out_last_pass)
			*out_last_pass = sqlite3_column_int64(st, 1);
		if (!(*out_retention = ob_catalog_column_dup(st, 0)))
			error = OB_ENOMEM;
	}
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_pruning_passed(ob_catalog *cat, const char *kind, int64_t now)
{
	return ob_catalog_run(NULL, cat, "Cannot record the pruning pass",
		"UPDATE pruning SET last_pass = ?1 WHERE kind = ?2", "It", now, kind);
}

int ob_catalog_systemstate_policy_save(ob_catalog *cat, const char *name, const char *schedule, const char *retention,
	int64_t now)
{
	int error;

	if ((error = ob_catalog_begin(cat)) < 0)
		return error;
	if ((error = pruning_clear(cat, SYSTEMSTATE)) < 0 ||
	    (error = ob_catalog_run(NULL, cat, "Cannot save the System State policy",
		"INSERT INTO policy (kind, name, state, schedule, retention, created_at, modified_at) "
		"VALUES ('" SYSTEMSTATE "', ?1, 0, ?2, ?3, ?4, ?4) ON CONFLICT (kind) DO UPDATE SET schedule = excluded.schedule, "
		"retention = excluded.retention, modified_at = excluded.modified_at", "tttI", name, schedule, retention, now)) < 0 ||
	    (error = ob_catalog_commit(cat)) < 0)
		ob_catalog_rollback(cat);
	return error;
}
