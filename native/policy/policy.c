/*
 * The file and folder policy of this server: file specs (inclusions and
 * exclusions), grouped by data source (the volume that holds them), kept in
 * the catalog (tables policy, datasource, filespec, policy_removal; migration 3).
 */
#include "policy/policy_internal.h"
#include "agent/agent_internal.h"
#include "catalog/policy.h"
#include "vault/crypto.h"
#include "util/env.h"
#include "util/error.h"
#include "vault/vault_internal.h"
#include "util/util.h"
#include "platform/file.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATASOURCE_ID_MASK UINT64_C(0x3fffffffffffffff)

typedef struct policy_spec {
	char *spec;
	int is_exclude;
	int is_recursive;
} policy_spec;

typedef struct policy_ds {
	int64_t id;
	char *name;
	policy_spec *specs;
	size_t count;
} policy_ds;

struct ob_policy {
	char *name;
	int state;
	char *schedule;     /* text forms, or NULL */
	char *retention;
	policy_ds *ds;
	size_t ds_count;
};

/* One file spec of a commit, with what the checks and the grouping need. */
typedef struct spec_item {
	char *path;     /* normalised */
	char *base;     /* the folder it starts from: path, or its parent when the last component has wildcards */
	char *real;     /* realpath of base when it exists, else a copy of base */
	char *volume;   /* the data source it belongs to */
	int is_exclude;
	int is_recursive;
	int wild;
} spec_item;

/* ---- paths ---- */

static int has_wildcard(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?')
			return 1;
	return 0;
}

int ob_policy_path_within(const char *path, const char *base)
{
	size_t n = strlen(base);

	if (strcmp(base, "/") == 0)
		return path[0] == '/';
	/* Without case on Windows ("c:/Data" is within "/C:/data"), byte for byte on POSIX. */
	return strlen(path) >= n && (path[n] == '\0' || path[n] == '/') && ob_platform_names_equal(path, n, base, n);
}

int ob_filespec_check(char **out_normalized, const char *spec, int is_exclude)
{
	const char *kind = is_exclude ? "exclusion" : "inclusion";
	ob_buf b = OB_BUF_INIT;
	const char *p, *next;
	char *internal = NULL;
	int error = 0;

	if (out_normalized)
		*out_normalized = NULL;
	if (!spec || !*spec)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"A file spec is empty. Give the absolute path of a file or folder.");
	if (!ob_platform_path_is_absolute(spec))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The %s '%s' is a relative path. Give the absolute path of the file or folder.", kind, spec);
	/* The engine's form: on Windows "C:\data" is "/C:/data" (platform.h); elsewhere the path itself. */
	if (!(internal = ob_platform_path_internal(spec)))
		return ob_err_nomem();
	for (p = internal; *p; p = next) {
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		next = strchr(p, '/');
		if (!next)
			next = p + strlen(p);
		n = (size_t)(next - p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"The %s '%s' has a '.' or '..' component. Give the path without them.", kind, spec);
			goto done;
		}
		if (has_wildcard(p, n)) {
			const char *rest = next;

			while (*rest == '/')
				rest++;
			if (*rest) {
				error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
					"The %s '%s' has a wildcard ('*' or '?') before its last component. "
					"Wildcards are allowed only in the file name, as in '/data/*.log'.", kind, spec);
				goto done;
			}
		}
		if ((error = ob_buf_put(&b, "/", 1)) < 0 || (error = ob_buf_put(&b, p, n)) < 0)
			goto done;
	}
	if (b.len == 0 && (error = ob_buf_put(&b, "/", 1)) < 0)
		goto done;
	if (out_normalized)
		*out_normalized = ob_buf_detach(&b);
done:
	free(internal);
	ob_buf_dispose(&b);
	return error;
}

/* The parent folder of a normalised path ("/" for "/" and for "/x"). */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	char *out;

	if (n == 0)
		return ob_strdup("/");
	if (!(out = malloc(n + 1))) {
		ob_err_nomem();
		return NULL;
	}
	memcpy(out, path, n);
	out[n] = '\0';
	return out;
}

typedef struct volume_ctx {
	const char *path;
	char *best;             /* the longest mount point that holds path so far */
	size_t best_len;
} volume_ctx;

static int volume_cb(const char *mount_point, void *payload)
{
	volume_ctx *v = payload;

	if (!ob_policy_path_within(v->path, mount_point))
		return 0;
	if (!v->best || strlen(mount_point) > v->best_len) {
		free(v->best);
		if (!(v->best = ob_strdup(mount_point)))
			return OB_ENOMEM;
		v->best_len = strlen(v->best);
	}
	return 0;
}

int ob_policy_volume_of(char **out, const char *path)
{
	volume_ctx v = { path, NULL, 0 };
	int error;

	*out = NULL;
	if ((error = ob_file_mount_points(volume_cb, &v)) < 0) {
		free(v.best);
		return error;
	}
	if (!v.best && !(v.best = ob_strdup("/")))
		return OB_ENOMEM;
	*out = v.best;
	return 0;
}

int ob_policy_inclusion_missing(char **out_missing, const char *volume, const char *spec)
{
	const char *last = strrchr(spec, '/');
	int wild = last && has_wildcard(last + 1, strlen(last + 1));
	char *base = wild ? parent_of(spec) : ob_strdup(spec), *vol = NULL;
	ob_buf b = OB_BUF_INIT;
	ob_file_info st;
	int error, looked;

	*out_missing = NULL;
	if (!base)
		return OB_ENOMEM;
	if ((error = ob_policy_volume_of(&vol, base)) < 0)
		goto done;
	if (strcmp(vol, volume) != 0 && ob_policy_path_within(volume, vol))
		error = ob_buf_printf(&b, "The volume '%s' that holds it is not mounted (or its mount point is gone): "
			"mount it, or remove '%s' from the policy (Set-OBPolicy).", volume, spec);
	else if (strcmp(vol, volume) != 0)
		error = ob_buf_printf(&b, "It is on another volume now ('%s'), which this policy does not back up: "
			"commit the policy again (Get-OBPolicy | Set-OBPolicy).", vol);
	else if ((looked = ob_file_stat_path(&st, base, 0)) < 0)
		error = looked == OB_ENOTFOUND
			? ob_buf_printf(&b, "%s does not exist (deleted, or a share or volume that is gone): "
				"restore it, or remove '%s' from the policy (Set-OBPolicy).", wild ? "Its folder" : "It", spec)
			: ob_buf_printf(&b, "It cannot be looked at: %s.", ob_platform_reason());
	else if (wild && st.type != OB_FILE_DIR)
		error = ob_buf_printf(&b, "'%s' is not a folder any more.", base);
	if (error == 0 && b.len)
		*out_missing = ob_buf_detach(&b);
done:
	ob_buf_dispose(&b);
	free(vol);
	free(base);
	return error;
}

/* ---- the policy handle ---- */

void ob_policy_free(ob_policy *policy)
{
	size_t i, j;

	if (!policy)
		return;
	for (i = 0; i < policy->ds_count; i++) {
		for (j = 0; j < policy->ds[i].count; j++)
			free(policy->ds[i].specs[j].spec);
		free(policy->ds[i].specs);
		free(policy->ds[i].name);
	}
	free(policy->ds);
	free(policy->name);
	free(policy->schedule);
	free(policy->retention);
	free(policy);
}

const char *ob_policy_name(const ob_policy *policy) { return policy ? policy->name : NULL; }
int ob_policy_state_get(const ob_policy *policy) { return policy ? policy->state : OB_POLICY_VALID; }
size_t ob_policy_datasource_count(const ob_policy *policy) { return policy ? policy->ds_count : 0; }

int64_t ob_policy_datasource_id(const ob_policy *policy, size_t ds)
{
	return policy && ds < policy->ds_count ? policy->ds[ds].id : 0;
}

const char *ob_policy_datasource_name(const ob_policy *policy, size_t ds)
{
	return policy && ds < policy->ds_count ? policy->ds[ds].name : NULL;
}

size_t ob_policy_filespec_count(const ob_policy *policy, size_t ds)
{
	return policy && ds < policy->ds_count ? policy->ds[ds].count : 0;
}

int ob_policy_filespec(const ob_policy *policy, size_t ds, size_t index,
	const char **out_spec, int *out_is_exclude, int *out_is_recursive)
{
	const policy_spec *s;

	if (!policy || ds >= policy->ds_count || index >= policy->ds[ds].count)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No file spec %zu in data source %zu of the policy.", index, ds);
	s = &policy->ds[ds].specs[index];
	if (out_spec)
		*out_spec = s->spec;
	if (out_is_exclude)
		*out_is_exclude = s->is_exclude;
	if (out_is_recursive)
		*out_is_recursive = s->is_recursive;
	return 0;
}

/* Append a file spec to the data source (id, name), adding the data source when it is new. */
static int policy_add(ob_policy *p, int64_t id, const char *name, const char *spec, int is_exclude, int is_recursive)
{
	policy_ds *d = NULL;
	policy_spec *specs;
	size_t i;

	for (i = 0; i < p->ds_count; i++)
		if (p->ds[i].id == id)
			d = &p->ds[i];
	if (!d) {
		policy_ds *grown = realloc(p->ds, (p->ds_count + 1) * sizeof(*grown));

		if (!grown)
			return ob_err_nomem();
		p->ds = grown;
		d = &p->ds[p->ds_count];
		memset(d, 0, sizeof(*d));
		d->id = id;
		if (!(d->name = ob_strdup(name)))
			return OB_ENOMEM;
		p->ds_count++;
	}
	if (!(specs = realloc(d->specs, (d->count + 1) * sizeof(*specs))))
		return ob_err_nomem();
	d->specs = specs;
	if (!(specs[d->count].spec = ob_strdup(spec)))
		return OB_ENOMEM;
	specs[d->count].is_exclude = is_exclude;
	specs[d->count].is_recursive = is_recursive;
	d->count++;
	return 0;
}

int ob_policy_get_kind(ob_policy **out, ob_agent *agent, const char *kind);

int ob_policy_get(ob_policy **out, ob_agent *agent)
{
	return ob_policy_get_kind(out, agent, OB_POLICY_KIND_FILEFOLDER);
}

static int add_cb(int64_t id, const char *name, const char *spec, int is_exclude, int is_recursive, void *payload)
{
	return policy_add(payload, id, name, spec, is_exclude, is_recursive);
}

int ob_policy_get_kind(ob_policy **out, ob_agent *agent, const char *kind)
{
	ob_catalog_policy row;
	ob_policy *p = NULL;
	int error;

	*out = NULL;
	error = ob_catalog_policy_get(&row, agent->cat, kind);
	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID,
			"No backup policy is set on this server. Make one with New-OBPolicy, New-OBFileSpec and Add-OBFileSpec, "
			"then commit it with Set-OBPolicy.");
	if (error < 0)
		return error;
	if (!(p = calloc(1, sizeof(*p)))) {
		ob_catalog_policy_dispose(&row);
		return ob_err_nomem();
	}
	/* The row's strings pass to p. */
	p->name = row.name;
	p->state = row.state;
	p->schedule = row.schedule;
	p->retention = row.retention;
	if ((error = ob_catalog_policy_filespecs(agent->cat, kind, add_cb, p)) < 0) {
		ob_policy_free(p);
		return error;
	}
	*out = p;
	return 0;
}

/* ---- commit ---- */

static void items_free(spec_item *items, size_t count)
{
	size_t i;

	if (!items)
		return;
	for (i = 0; i < count; i++) {
		free(items[i].path);
		free(items[i].base);
		free(items[i].real);
		free(items[i].volume);
	}
	free(items);
}

/* Normalise every spec and work out its base folder. */
static int items_build(spec_item **out, const ob_filespec_input *specs, size_t count)
{
	spec_item *items;
	size_t i;
	int error = 0;

	if (!(items = calloc(count ? count : 1, sizeof(*items))))
		return ob_err_nomem();
	for (i = 0; i < count; i++) {
		spec_item *it = &items[i];
		const char *last;

		it->is_exclude = specs[i].is_exclude != 0;
		it->is_recursive = specs[i].is_recursive != 0;
		if ((error = ob_filespec_check(&it->path, specs[i].spec, it->is_exclude)) < 0)
			goto done;
		last = strrchr(it->path, '/') + 1;
		it->wild = has_wildcard(last, strlen(last));
		if (!(it->base = it->wild ? parent_of(it->path) : ob_strdup(it->path))) {
			error = OB_ENOMEM;
			goto done;
		}
		if (ob_platform_realpath(&it->real, it->base) < 0) {
			ob_error_clear();
			if (!(it->real = ob_strdup(it->base))) {
				error = OB_ENOMEM;
				goto done;
			}
		}
	}
done:
	if (error < 0) {
		items_free(items, count);
		return error;
	}
	*out = items;
	return 0;
}

/*
 * An inclusion that does not exist is accepted, as MARS does (a volume mounted
 * later, a share that is back tomorrow): the module warns, and a backup that
 * finds it missing ends CompletedWithWarning and lists it.
 */
static int check_inclusion_exists(const spec_item *it)
{
	ob_file_info st;
	int error;

	if ((error = ob_file_stat_path(&st, it->wild ? it->base : it->path, 1)) < 0) {
		if (error != OB_ENOTFOUND)
			return ob_platform_fail("Cannot look at the inclusion", it->path);
		return 0;
	}
	if (it->wild && st.type != OB_FILE_DIR)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The inclusion '%s' has a wildcard, but '%s' is not a folder.", it->path, it->base);
	return 0;
}

/* Whether the inclusion inc covers the exclusion exc. */
static int inclusion_covers(const spec_item *inc, const spec_item *exc)
{
	if (ob_policy_path_within(exc->base, inc->base) || ob_policy_path_within(exc->real, inc->real))
		return 1;
	/* A recursive wildcard exclusion above an inclusion still applies inside it. */
	return exc->wild && exc->is_recursive && ob_policy_path_within(inc->base, exc->base);
}

/*
 * Refuse an inclusion that holds folder (the agent's state folder, the vault)
 * unless a recursive exclusion covers that folder or one of its parents.
 */
static int check_protected(const spec_item *items, size_t count, const char *folder, const char *what)
{
	size_t i, j;

	if (!folder || !*folder)
		return 0;
	for (i = 0; i < count; i++) {
		int covered = 0;

		if (items[i].is_exclude ||
		    !(ob_policy_path_within(folder, items[i].real) || ob_policy_path_within(folder, items[i].base)))
			continue;
		for (j = 0; j < count && !covered; j++)
			covered = items[j].is_exclude && !items[j].wild && items[j].is_recursive &&
				(ob_policy_path_within(folder, items[j].real) || ob_policy_path_within(folder, items[j].base));
		if (!covered)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"The inclusion '%s' holds %s '%s', which must not be backed up. Add an exclusion for it: "
				"New-OBFileSpec -FileSpec '%s' -Exclude.", items[i].path, what, folder, folder);
	}
	return 0;
}

/* The realpath of a folder, or a copy of it when it cannot be resolved. */
static char *resolved(const char *path)
{
	char *r = NULL;

	if (!path)
		return NULL;
	if (ob_platform_realpath(&r, path) < 0) {
		ob_error_clear();
		r = ob_strdup(path);
	}
	return r;
}

/* Every refusal of ob_policy_commit that does not need the catalog. */
static int items_check(spec_item *items, size_t count, const char *home, const char *vault)
{
	size_t i, j, inclusions = 0;
	int error;

	for (i = 0; i < count; i++) {
		for (j = 0; j < i; j++)
			if (ob_platform_names_equal(items[i].path, strlen(items[i].path), items[j].path, strlen(items[j].path)))
				return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
					"The file spec '%s' is in the policy twice. Keep only one of them.", items[i].path);
		if (!items[i].is_exclude) {
			inclusions++;
			if ((error = check_inclusion_exists(&items[i])) < 0)
				return error;
		}
	}
	if (inclusions == 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The policy has no inclusion. Add at least one file or folder to back up "
			"(New-OBFileSpec -FileSpec <path>, then Add-OBFileSpec).");
	for (i = 0; i < count; i++) {
		int covered = 0;

		if (!items[i].is_exclude)
			continue;
		for (j = 0; j < count && !covered; j++)
			covered = !items[j].is_exclude && inclusion_covers(&items[j], &items[i]);
		if (!covered)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"The exclusion '%s' is outside every inclusion. Remove it, or include a folder that holds it.",
				items[i].path);
	}
	if ((error = check_protected(items, count, home, "the agent's state folder")) < 0 ||
	    (error = check_protected(items, count, vault, "the vault folder")) < 0)
		return error;
	return 0;
}

/*
 * Group by data source: an inclusion belongs to its volume; an exclusion to its
 * volume too when an inclusion is there, else to the volume of the deepest
 * inclusion that covers it (so that every data source has an inclusion).
 */
static int items_group(spec_item *items, size_t count)
{
	size_t i, j;
	int error;

	for (i = 0; i < count; i++)
		if (!items[i].is_exclude && (error = ob_policy_volume_of(&items[i].volume, items[i].base)) < 0)
			return error;
	for (i = 0; i < count; i++) {
		const spec_item *deepest = NULL;
		char *vol = NULL;
		int has_inclusion = 0;

		if (!items[i].is_exclude)
			continue;
		if ((error = ob_policy_volume_of(&vol, items[i].base)) < 0)
			return error;
		for (j = 0; j < count; j++) {
			if (items[j].is_exclude)
				continue;
			if (strcmp(items[j].volume, vol) == 0)
				has_inclusion = 1;
			if (inclusion_covers(&items[j], &items[i]) &&
			    (!deepest || strlen(items[j].base) > strlen(deepest->base)))
				deepest = &items[j];
		}
		if (!has_inclusion && deepest) {
			free(vol);
			if (!(vol = ob_strdup(deepest->volume)))
				return OB_ENOMEM;
		}
		items[i].volume = vol;
	}
	return 0;
}

/*
 * The id of the FileFolder data source named name. A new one is derived from the
 * server and the mount point (positive, 62 bits), so that an agent rebuilt after
 * losing its cache folder gives its volumes the ids they had; random on a clash.
 */
static int datasource_id(int64_t *out, ob_agent *agent, const char *name)
{
	int attempt, added, error;

	error = ob_catalog_datasource_find(out, agent->cat, OB_POLICY_KIND_FILEFOLDER, name);
	if (error != OB_ENOTFOUND)
		return error;
	for (attempt = 0; attempt < 8; attempt++) {
		uint64_t r = 0;

		if (attempt == 0) {
			ob_buf b = OB_BUF_INIT;
			uint8_t digest[32];
			char sid[33];
			ob_vault_server_id(sid, agent->server_name);
			if ((error = ob_buf_printf(&b, "obagent-datasource:%s:%s:%s", sid, OB_POLICY_KIND_FILEFOLDER, name)) < 0)
				return error;
			ob_sha256(digest, b.data, b.len);
			ob_buf_dispose(&b);
			memcpy(&r, digest, sizeof(r));
		} else if ((error = ob_random(&r, sizeof(r))) < 0) {
			return error;
		}
		r &= DATASOURCE_ID_MASK;
		if (r == 0)
			continue;
		if ((error = ob_catalog_datasource_add(&added, agent->cat, (int64_t)r, OB_POLICY_KIND_FILEFOLDER, name)) < 0)
			return error;
		if (added) {
			*out = (int64_t)r;
			return 0;
		}
	}
	return ob_err(OB_ERROR, OB_ERRCLASS_CATALOG, "Cannot choose an id for the data source '%s'. Try again.", name);
}

/* Inside a transaction: the policy row, the data sources and the file specs. */
static int commit_rows(ob_agent *agent, const spec_item *items, size_t count, int64_t now)
{
	ob_catalog_filespec *rows = NULL;
	char guid[37];
	size_t i;
	int error;

	if (!(rows = calloc(count, sizeof(*rows))))
		return ob_err_nomem();
	for (i = 0; i < count; i++) {
		if ((error = datasource_id(&rows[i].datasource_id, agent, items[i].volume)) < 0)
			goto done;
		rows[i].spec = items[i].path;
		rows[i].is_exclude = items[i].is_exclude;
		rows[i].is_recursive = items[i].is_recursive;
	}
	/* The name is made once; a later commit keeps it (and the state). */
	if ((error = ob_guid_new(guid)) < 0)
		goto done;
	error = ob_catalog_policy_save_filespecs(agent->cat, OB_POLICY_KIND_FILEFOLDER, rows, count, guid, now);
done:
	free(rows);
	return error;
}

int ob_policy_commit(ob_policy **out, ob_agent *agent, const ob_filespec_input *specs, size_t count)
{
	ob_registration *reg = NULL;
	spec_item *items = NULL;
	char *home = NULL, *vault = NULL;
	int64_t now;
	int error, in_tx = 0;

	if (out)
		*out = NULL;
	if (count > 0 && !specs)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No file specs were given.");
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_clock_now(&now)) < 0 || (error = items_build(&items, specs, count)) < 0)
		goto done;
	if (!(home = resolved(ob_agent_home(agent)))) {
		error = OB_ENOMEM;
		goto done;
	}
	if (strcmp(reg->storage_type, "Local") == 0 && !(vault = resolved(reg->vault_location))) {
		error = OB_ENOMEM;
		goto done;
	}
	if ((error = items_check(items, count, home, vault)) < 0 || (error = items_group(items, count)) < 0)
		goto done;
	if ((error = ob_catalog_begin(agent->cat)) < 0)
		goto done;
	in_tx = 1;
	if ((error = commit_rows(agent, items, count, now)) < 0 || (error = ob_catalog_commit(agent->cat)) < 0)
		goto done;
	in_tx = 0;
	if (out)
		error = ob_policy_get(out, agent);
done:
	if (in_tx)
		ob_catalog_rollback(agent->cat);
	items_free(items, count);
	free(home);
	free(vault);
	ob_registration_free(reg);
	return error;
}

/* ---- state and removal ---- */

static int no_policy(void)
{
	return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID,
		"No backup policy is set on this server. Commit one first with Set-OBPolicy.");
}

int ob_policy_set_state_kind(ob_agent *agent, const char *kind, int state)
{
	int64_t now;
	int changes = 0, error;

	if (state != OB_POLICY_VALID && state != OB_POLICY_PAUSED)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"Unknown policy state %d: use Valid (0) to resume or Paused (1) to pause.", state);
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	/* The row of this kind only: the other policy keeps its own state. */
	if ((error = ob_catalog_policy_set_state(&changes, agent->cat, kind, state, now)) < 0)
		return error;
	return changes == 0 ? OB_ENOTFOUND : 0;
}

int ob_policy_set_state(ob_agent *agent, int state)
{
	int error = ob_policy_set_state_kind(agent, OB_POLICY_KIND_FILEFOLDER, state);

	return error == OB_ENOTFOUND ? no_policy() : error;
}

int ob_policy_remove(ob_agent *agent, int delete_backup)
{
	int64_t now;
	int error;

	if ((error = ob_clock_now(&now)) < 0)
		return error;
	error = ob_catalog_policy_remove(agent->cat, OB_POLICY_KIND_FILEFOLDER, delete_backup, 0, now);
	return error == OB_ENOTFOUND ? no_policy() : error;
}

/* kind must name a policy kind; the message says which are. */
static int check_kind(const char *kind, const char *what)
{
	if (kind && (!strcmp(kind, OB_POLICY_KIND_FILEFOLDER) || !strcmp(kind, OB_POLICY_KIND_SYSTEMSTATE)))
		return 0;
	return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "%s needs a policy kind: \"FileFolder\" or \"SystemState\" (%s%s%s was given).",
		what, kind ? "\"" : "", kind ? kind : "NULL", kind ? "\"" : "");
}

int ob_policy_remove_kind(ob_agent *agent, const char *kind, int delete_backup, int enable_pruning)
{
	int64_t now;
	int error;

	if ((error = check_kind(kind, "Removing a policy")) < 0 || (error = ob_clock_now(&now)) < 0)
		return error;
	error = ob_catalog_policy_remove(agent->cat, kind, delete_backup, enable_pruning, now);
	if (error != OB_ENOTFOUND)
		return error;
	if (!strcmp(kind, OB_POLICY_KIND_SYSTEMSTATE))
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID, "No System State policy is set on this server.");
	return no_policy();
}

int ob_policy_remove_pruning(ob_agent *agent, const char *kind)
{
	if (!agent)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "ob_policy_remove_pruning needs an agent.");
	return ob_policy_remove_kind(agent, kind, 0, 1);
}

int ob_policy_pruning_retention(ob_retention *out, ob_agent *agent, const char *kind)
{
	char *text = NULL;
	int error;

	if (!out || !agent)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "ob_policy_pruning_retention needs an out pointer and an agent.");
	if ((error = check_kind(kind, "Reading the pruning rules")) < 0)
		return error;
	if ((error = ob_catalog_pruning_get(&text, NULL, agent->cat, kind)) == OB_ENOTFOUND)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID,
			"No retention rules are kept for the %s points: no policy of that kind was removed with pruning "
			"(Remove-OBPolicy -EnablePruning) since the last one was set.", kind);
	if (error == 0)
		error = ob_retention_from_string(out, text);
	free(text);
	return error;
}

/* ---- schedule and retention ---- */

int ob_policy_set_protection(ob_agent *agent, const ob_schedule *schedule, const ob_retention *retention)
{
	ob_schedule sched;
	char *stext = NULL, *rtext = NULL;
	int64_t now;
	int changes = 0, error;

	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if (schedule) {
		sched = *schedule;
		if (sched.anchor_date == 0 && (error = ob_schedule_set_anchor(&sched, now)) < 0)
			return error;
		if ((error = ob_schedule_validate(&sched)) < 0 || (error = ob_schedule_to_string(&stext, &sched)) < 0)
			goto done;
	}
	if (retention) {
		if ((error = ob_retention_validate(retention, schedule ? &sched : NULL)) < 0 ||
		    (error = ob_retention_to_string(&rtext, retention)) < 0)
			goto done;
	}
	if ((error = ob_catalog_policy_set_protection(&changes, agent->cat, OB_POLICY_KIND_FILEFOLDER, stext, rtext,
		now)) == 0 && changes == 0)
		error = no_policy();
done:
	free(stext);
	free(rtext);
	return error;
}

int ob_policy_schedule(ob_schedule *out, const ob_policy *policy)
{
	if (!policy || !policy->schedule)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID, "The policy has no schedule.");
	return ob_schedule_from_string(out, policy->schedule);
}

int ob_policy_retention(ob_retention *out, const ob_policy *policy)
{
	if (!policy || !policy->retention)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_INVALID, "The policy has no retention policy.");
	return ob_retention_from_string(out, policy->retention);
}
