/*
 * The recovery API of the agent: this server's points (deleting them, the
 * vault usage), the sources of a server, recovery sessions (this server's or
 * another's area), browsing, searching and testing a point, and a restore in
 * this process. Points are read and listed by vault/snapshot.c.
 */
#define _GNU_SOURCE
#include "obagent/recovery.h"
#include "agent/agent_internal.h"
#include "agent/repo_open.h"
#include "agent/damage.h"
#include "util/env.h"
#include "util/error.h"
#include "util/idset.h"
#include "agent/locate.h"
#include "vault/repo.h"
#include "vault/serverkey.h"
#include "restore/restore.h"
#include "vault/snapshot.h"
#include "vault/tree.h"
#include "platform/platform.h"
#include "platform/process.h"

#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ob_recovery_points_all(ob_recovery_point ***out, size_t *out_count, ob_agent *agent)
{
	ob_repo repo;
	int error;

	*out = NULL;
	*out_count = 0;
	if ((error = ob_agent_repo_open(&repo, agent, NULL)) < 0)
		return error;
	error = ob_repo_list_points(out, out_count, &repo, OB_POINTS_DELETED | OB_POINTS_DAMAGED);
	ob_repo_dispose(&repo);
	return error;
}

int ob_recovery_point_delete(ob_agent *agent, const char *point_id, const char *reason)
{
	/* Without a PIN, the PIN on deleting a policy's backups could be sidestepped point by point. */
	return ob_recovery_point_remove(agent, point_id, reason, NULL);
}

int ob_recovery_point_remove(ob_agent *agent, const char *point_id, const char *reason, const char *security_pin)
{
	ob_repo repo;
	int64_t now;
	int error;

	char name[200];
	uint64_t size;

	if ((error = ob_clock_now(&now)) < 0 || (error = ob_agent_repo_open(&repo, agent, NULL)) < 0)
		return error;
	/* A PIN works once: it is spent only on a point that is there to delete. */
	if (!point_id || !*point_id || strchr(point_id, '/') || strlen(point_id) > 64)
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not a recovery point id.", point_id ? point_id : "");
	else {
		snprintf(name, sizeof(name), "%ssnapshots/%s", repo.prefix, point_id);
		if ((error = repo.vc.be->stat(&size, repo.vc.be, name)) == OB_ENOTFOUND)
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT,
				"There is no recovery point '%s'; the security PIN was not used.", point_id);
	}
	if (error == 0 && (error = ob_agent_pin_check(agent, security_pin, "Deleting a recovery point")) == 0)
		error = ob_recovery_point_mark_deleted(&repo, point_id, reason, now);
	ob_repo_dispose(&repo);
	return error;
}

int ob_recovery_points(ob_recovery_point ***out, size_t *out_count, ob_agent *agent)
{
	ob_repo repo;
	int error;

	*out = NULL;
	*out_count = 0;
	if ((error = ob_agent_repo_open(&repo, agent, NULL)) < 0)
		return error;
	error = ob_repo_list_points(out, out_count, &repo, OB_POINTS_DAMAGED);
	ob_repo_dispose(&repo);
	return error;
}

static int add_size(const char *name, uint64_t size, void *payload)
{
	(void)name;
	*(uint64_t *)payload += size;
	return 0;
}

int ob_machine_usage(uint64_t *out_bytes, ob_agent *agent)
{
	ob_registration *reg = NULL;
	ob_vault_conn vc;
	char prefix[64];
	uint64_t total = 0;
	int error;

	*out_bytes = 0;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_vault_conn_open(&vc, reg->vault_location)) == 0) {
		snprintf(prefix, sizeof(prefix), OB_PREFIX_SERVERS "%s/", reg->server_id);
		error = vc.be->list(vc.be, prefix, add_size, &total);
		ob_vault_conn_dispose(&vc);
	}
	ob_registration_free(reg);
	if (error == 0)
		*out_bytes = total;
	return error;
}


/* ---- sources ---- */

static void source_free(void *item)
{
	ob_recovery_source *s = item;

	if (!s)
		return;
	free(s->server_name);
	free(s->name);
	free(s->kind);
	free(s);
}

void ob_recovery_sources_free(ob_recovery_source **list, size_t count)
{
	ob_list_free(list, count, source_free);
}

/* A server of this server's vault by name (NULL: this server): its id, and whether it exists. */
static int find_server(char id[33], char **out_name, ob_agent *agent, ob_vault_conn *vc, const char *server_name)
{
	ob_registration *reg = NULL;
	char record[96];
	uint64_t size;
	int error;

	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	error = ob_vault_conn_open(vc, reg->vault_location);
	if (error == 0) {
		if (!server_name || !*server_name) {
			snprintf(id, 33, "%s", reg->server_id);
			*out_name = strdup(reg->server_name);
		} else {
			ob_vault_server_id(id, server_name);
			*out_name = strdup(server_name);
			snprintf(record, sizeof(record), OB_PREFIX_SERVERS "%s/server", id);
			if (vc->be->stat(&size, vc->be, record) < 0) {
				ob_vault_conn_dispose(vc);
				free(*out_name);
				*out_name = NULL;
				error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT,
					"No server named '%s' is registered to vault '%s'. Get-OBAlternateBackupServer lists them.",
					server_name, reg->vault_name);
			}
		}
	}
	ob_registration_free(reg);
	return error;
}

/*
 * The data sources of a server, listed without its key: only records signed with
 * its anchor (in an area that has one) count; the others are left out with a
 * warning on stderr.
 */
int ob_recovery_sources(ob_recovery_source ***out, size_t *out_count, ob_agent *agent, const char *server_name)
{
	ob_vault_conn vc;
	char id[33], *name = NULL;
	ob_source_record *recs = NULL;
	ob_recovery_source **v = NULL;
	size_t nrecs = 0, n = 0, i;
	int error;

	*out = NULL;
	*out_count = 0;
	if ((error = find_server(id, &name, agent, &vc, server_name)) < 0)
		return error;
	if ((error = ob_source_list(&recs, &nrecs, &vc, id, ob_warn_stderr, NULL)) < 0)
		goto done;
	if (!(v = calloc(nrecs ? nrecs : 1, sizeof(*v)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < nrecs; i++) {
		if (!(v[n] = calloc(1, sizeof(**v)))) {
			error = ob_err_nomem();
			goto done;
		}
		v[n]->version = OB_RECOVERY_SOURCE_VERSION;
		v[n]->datasource_id = recs[i].id;
		n++;
		if (!(v[n - 1]->server_name = strdup(name ? name : "")) || !(v[n - 1]->name = strdup(recs[i].name)) ||
		    !(v[n - 1]->kind = strdup(recs[i].kind))) {
			error = ob_err_nomem();
			goto done;
		}
	}
	*out = v;
	*out_count = n;
	v = NULL;
done:
	ob_recovery_sources_free(v, n);
	ob_source_records_free(recs, nrecs);
	ob_vault_conn_dispose(&vc);
	free(name);
	return error;
}

int ob_recovery_points_of(ob_recovery_point ***out, size_t *out_count, ob_agent *agent, const char *server_name)
{
	ob_repo repo;
	char *name = NULL;
	int have_key = 0, error;

	*out = NULL;
	*out_count = 0;
	memset(&repo, 0, sizeof(repo));
	/* A repo without keys: the area's anchor is the only key in it, and only to verify. */
	if ((error = find_server(repo.server_id, &name, agent, &repo.vc, server_name)) < 0)
		return error;
	repo.server_name = name;
	snprintf(repo.prefix, sizeof(repo.prefix), OB_PREFIX_SERVERS "%s/", repo.server_id);
	/* A server that never set a passphrase has no backups: nothing to list. */
	if ((error = ob_server_key_exists(&have_key, &repo.vc, repo.server_id)) < 0 || !have_key) {
		ob_repo_dispose(&repo);
		return error;
	}
	if ((error = ob_server_anchor_public(repo.sign_public, &repo.vc, repo.server_id)) == OB_ENOTFOUND)
		error = ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO, "The backups of server '%s' can be listed only with its encryption "
			"passphrase (-EncryptionPassphrase): its area has no signing key yet (it was written by an obagent older "
			"than signing keys, and the vault owner has not run maintenance since).", name);
	if (error == 0)
		error = ob_repo_list_points(out, out_count, &repo, OB_POINTS_SUMMARY);
	ob_repo_dispose(&repo);
	return error;
}

/* ---- sessions ---- */

struct ob_recovery {
	ob_agent *agent;
	ob_repo repo;
	ob_locator locator;
	int this_server;
};

/*
 * Open another server's key with its passphrase: the newest genuine key record
 * that opens (vault/serverkey.h); forged ones are skipped, with a warning on
 * stderr (the caller's console, or the job worker's log).
 */
static int unwrap_server_key(uint8_t master[OB_MASTER_KEY_BYTES], ob_vault_conn *vc, const char *server_id,
	const char *server_name, const uint8_t *passphrase, size_t passphrase_len)
{
	int have, error;

	if ((error = ob_server_key_exists(&have, vc, server_id)) < 0)
		return error;
	if (!have)
		return ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO, "Server '%s' never set an encryption passphrase: it has no backups.",
			server_name);
	if (!passphrase || passphrase_len == 0)
		return ob_err(OB_EPASSPHRASE, OB_ERRCLASS_CRYPTO,
			"Reading the backups of server '%s' needs its encryption passphrase (-EncryptionPassphrase).", server_name);
	error = ob_server_key_open(master, NULL, NULL, vc, server_id, passphrase, passphrase_len, ob_warn_stderr, NULL);
	if (error == OB_ENOTFOUND)
		error = ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO, "Server '%s' never set an encryption passphrase: it has no backups.",
			server_name);
	if (error == OB_EPASSPHRASE)
		error = ob_err(OB_EPASSPHRASE, OB_ERRCLASS_CRYPTO,
			"The passphrase does not open the backups of server '%s'. Give the passphrase last set on that server.", server_name);
	return error;
}

int ob_recovery_unwrap(uint8_t master[OB_MASTER_KEY_BYTES], ob_agent *agent, const char *server_name,
	const uint8_t *passphrase, size_t passphrase_len)
{
	ob_vault_conn vc;
	char id[33], *name = NULL;
	int error;

	if ((error = find_server(id, &name, agent, &vc, server_name)) < 0)
		return error;
	error = unwrap_server_key(master, &vc, id, server_name, passphrase, passphrase_len);
	ob_vault_conn_dispose(&vc);
	free(name);
	return error;
}

int ob_recovery_open(ob_recovery **out, ob_agent *agent, const char *server_name, const uint8_t *passphrase,
	size_t passphrase_len)
{
	ob_recovery *rec;
	ob_registration *reg = NULL;
	int error;

	*out = NULL;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if (!server_name || !*server_name || strcasecmp(server_name, reg->server_name) == 0) {
		ob_registration_free(reg);
		if (!(rec = calloc(1, sizeof(*rec))))
			return ob_err_nomem();
		rec->agent = agent;
		rec->this_server = 1;
		if ((error = ob_agent_repo_open(&rec->repo, agent, NULL)) < 0) {
			free(rec);
			return error;
		}
		if ((error = ob_locator_catalog(&rec->locator, agent, &rec->repo)) < 0) {
			ob_repo_dispose(&rec->repo);
			free(rec);
			return error;
		}
		*out = rec;
		return 0;
	}
	ob_registration_free(reg);
	{
		uint8_t master[OB_MASTER_KEY_BYTES];
		if ((error = ob_recovery_unwrap(master, agent, server_name, passphrase, passphrase_len)) == 0)
			error = ob_recovery_open_key(out, agent, server_name, master);
		ob_wipe(master, sizeof(master));
	}
	return error;
}

/*
 * Open another server's area with its master key (the job worker gets it through a
 * pipe), held to this machine's bandwidth settings like this server's own.
 */
int ob_recovery_open_key(ob_recovery **out, ob_agent *agent, const char *server_name, const uint8_t *master)
{
	ob_recovery *rec;
	int error;

	*out = NULL;
	if (!(rec = calloc(1, sizeof(*rec))))
		return ob_err_nomem();
	rec->agent = agent;
	if ((error = ob_agent_repo_open_server(&rec->repo, agent, server_name, master)) == 0 &&
	    (error = ob_locator_memory(&rec->locator, &rec->repo)) < 0)
		ob_repo_dispose(&rec->repo);
	if (error < 0) {
		free(rec);
		return error;
	}
	*out = rec;
	return 0;
}

int ob_recovery_open_checked(ob_recovery **out, char **out_ds_name, uint8_t master[OB_MASTER_KEY_BYTES],
	ob_agent *agent, const char *other_server, const uint8_t *passphrase, size_t passphrase_len, const char *point_id,
	int64_t datasource_id)
{
	ob_recovery *rec = NULL;
	ob_kv kv = { 0 };
	uint8_t root[OB_ID_BYTES];
	int error;

	*out = NULL;
	*out_ds_name = NULL;
	if (other_server) {
		if ((error = ob_recovery_unwrap(master, agent, other_server, passphrase, passphrase_len)) < 0)
			return error;
		error = ob_recovery_open_key(&rec, agent, other_server, master);
	} else {
		error = ob_recovery_open(&rec, agent, NULL, NULL, 0);
	}
	if (error == 0 && (error = ob_snapshot_read(&kv, ob_recovery_repo(rec), point_id)) == 0)
		error = ob_snapshot_root(root, out_ds_name, &kv, datasource_id);
	ob_kv_dispose(&kv);
	if (error < 0) {
		ob_recovery_free(rec);
		return error;
	}
	*out = rec;
	return 0;
}

int ob_recovery_open_for_worker(ob_recovery **out, ob_agent *agent, const char *server_name, int key_fd,
	const char *what)
{
	uint8_t master[OB_MASTER_KEY_BYTES];
	size_t got = 0;
	int error;

	*out = NULL;
	if (!server_name || !*server_name)
		return ob_recovery_open(out, agent, NULL, NULL, 0);
	if (key_fd >= 0)
		ob_process_read_fd(&got, key_fd, master, sizeof(master));
	if (got != sizeof(master))
		error = ob_err(OB_EAUTH, OB_ERRCLASS_JOB, "The %s job did not receive the other server's key.", what);
	else
		error = ob_recovery_open_key(out, agent, server_name, master);
	ob_wipe(master, sizeof(master));
	return error;
}

void ob_recovery_free(ob_recovery *rec)
{
	if (!rec)
		return;
	ob_locator_dispose(&rec->locator);
	ob_repo_dispose(&rec->repo);
	free(rec);
}

int ob_recovery_list_points(ob_recovery_point ***out, size_t *out_count, ob_recovery *rec)
{
	return ob_repo_list_points(out, out_count, &rec->repo, OB_POINTS_DAMAGED);
}

/* ---- browsing and searching ---- */

static void item_free(void *item)
{
	ob_recoverable_item *x = item;

	if (!x)
		return;
	free(x->path);
	free(x->name);
	free(x);
}

void ob_recoverable_items_free(ob_recoverable_item **list, size_t count)
{
	ob_list_free(list, count, item_free);
}

typedef struct itemlist {
	ob_recoverable_item **v;
	size_t n, cap, max;
} itemlist;

static int item_add(itemlist *it, const char *folder, const ob_entry *e)
{
	ob_recoverable_item *x;
	size_t flen = strlen(folder);

	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64;
		ob_recoverable_item **v = realloc(it->v, cap * sizeof(*v));
		if (!v)
			return ob_err_nomem();
		it->v = v;
		it->cap = cap;
	}
	if (!(x = calloc(1, sizeof(*x))) || !(x->name = strndup(e->name, e->name_len)) ||
	    !(x->path = malloc(flen + e->name_len + 2))) {
		if (x) {
			free(x->name);
			free(x);
		}
		return ob_err_nomem();
	}
	sprintf(x->path, "%s%s%s", folder, flen ? "/" : "", x->name);
	x->version = OB_RECOVERABLE_ITEM_VERSION;
	x->is_dir = e->type == OB_TREE_DIR;
	x->size = e->size;
	x->mtime = e->mtime_ns / 1000000000;
	it->v[it->n++] = x;
	return 0;
}

/* The tree of a folder in a point. */
static int folder_tree(uint8_t tree_id[OB_ID_BYTES], ob_recovery *rec, const char *point_id, int64_t ds, const char *folder)
{
	ob_kv kv;
	uint8_t *tree = NULL;
	size_t len, at = 0;
	int error;

	if ((error = ob_snapshot_read(&kv, &rec->repo, point_id)) < 0)
		return error;
	error = ob_snapshot_root(tree_id, NULL, &kv, ds);
	ob_kv_dispose(&kv);
	while (error == 0 && folder[at]) {
		size_t end = at;
		ob_entry found;
		int hit = 0;
		while (folder[end] && folder[end] != '/')
			end++;
		if (end > at) {
			if ((error = ob_fetch_blob(&tree, &len, &rec->locator, OB_BLOB_TREE, tree_id)) < 0)
				break;
			{
				size_t pos = 9;
				/* Walk the tree's entries for the name (the tree is sorted; a linear pass is enough here). */
				while (pos + 4 <= len) {
					size_t elen = (size_t)tree[pos] | (size_t)tree[pos + 1] << 8 | (size_t)tree[pos + 2] << 16 |
						(size_t)tree[pos + 3] << 24;
					if (pos + 4 + elen > len || ob_entry_decode(&found, tree + pos + 4, elen) < 0) {
						error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A folder tree of the point is damaged.");
						break;
					}
					if (ob_platform_names_equal(found.name, found.name_len, folder + at, end - at)) {
						hit = 1;
						break;
					}
					pos += 4 + elen;
				}
			}
			if (error == 0 && (!hit || found.type != OB_TREE_DIR))
				error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "'%s' is not a folder in the recovery point.", folder);
			if (error == 0)
				memcpy(tree_id, found.subtree, OB_ID_BYTES);
			free(tree);
			tree = NULL;
		}
		at = folder[end] ? end + 1 : end;
	}
	return error;
}

typedef struct list_ctx {
	itemlist *it;
	const char *folder;
	int error;
} list_ctx;

static int list_cb(const ob_entry *e, void *payload)
{
	list_ctx *c = payload;

	if ((c->error = item_add(c->it, c->folder, e)) < 0)
		return 1;
	return 0;
}

static const char *trim_folder(const char *f)
{
	while (f && *f == '/')
		f++;
	return f ? f : "";
}

int ob_recovery_browse(ob_recoverable_item ***out, size_t *out_count, ob_recovery *rec, const char *point_id,
	int64_t datasource_id, const char *folder)
{
	uint8_t id[OB_ID_BYTES], *tree = NULL;
	size_t len;
	itemlist it = { 0 };
	char *f = strdup(trim_folder(folder));
	list_ctx c;
	int error;

	*out = NULL;
	*out_count = 0;
	if (!f)
		return ob_err_nomem();
	while (*f && f[strlen(f) - 1] == '/')
		f[strlen(f) - 1] = '\0';
	if ((error = folder_tree(id, rec, point_id, datasource_id, f)) == 0 &&
	    (error = ob_fetch_blob(&tree, &len, &rec->locator, OB_BLOB_TREE, id)) == 0) {
		c.it = &it;
		c.folder = f;
		c.error = 0;
		error = ob_tree_parse(tree, len, list_cb, &c);
		if (c.error < 0)
			error = c.error;
	}
	free(tree);
	free(f);
	if (error < 0) {
		ob_recoverable_items_free(it.v, it.n);
		return error;
	}
	*out = it.v;
	*out_count = it.n;
	return 0;
}

typedef struct search_ctx {
	ob_recovery *rec;
	itemlist *it;
	const char *pattern;
	char *folder;
	int error;
} search_ctx;

static int search_tree(search_ctx *c, const uint8_t *tree_id, const char *folder);

static int search_cb(const ob_entry *e, void *payload)
{
	search_ctx *c = payload;
	char name[256];

	if (c->it->max && c->it->n >= c->it->max)
		return 1;
	if (e->name_len < sizeof(name)) {
		memcpy(name, e->name, e->name_len);
		name[e->name_len] = '\0';
		if (ob_platform_name_match(c->pattern, name, 1) && (c->error = item_add(c->it, c->folder, e)) < 0)
			return 1;
		if (e->type == OB_TREE_DIR) {
			char *sub = malloc(strlen(c->folder) + e->name_len + 2);
			char *saved = c->folder;
			if (!sub) {
				c->error = ob_err_nomem();
				return 1;
			}
			sprintf(sub, "%s%s%s", saved, *saved ? "/" : "", name);
			c->folder = sub;
			c->error = search_tree(c, e->subtree, sub);
			c->folder = saved;
			free(sub);
			if (c->error < 0)
				return 1;
		}
	}
	return 0;
}

static int search_tree(search_ctx *c, const uint8_t *tree_id, const char *folder)
{
	uint8_t *tree = NULL;
	size_t len;
	int error;

	(void)folder;
	if ((error = ob_fetch_blob(&tree, &len, &c->rec->locator, OB_BLOB_TREE, tree_id)) < 0)
		return error;
	error = ob_tree_parse(tree, len, search_cb, c);
	free(tree);
	if (c->error < 0)
		return c->error;
	return error < 0 ? error : 0;
}

int ob_recovery_search(ob_recoverable_item ***out, size_t *out_count, ob_recovery *rec, const char *point_id,
	int64_t datasource_id, const char *location, const char *pattern, size_t max)
{
	uint8_t id[OB_ID_BYTES];
	itemlist it = { 0 };
	search_ctx c;
	char *f = strdup(trim_folder(location));
	int error;

	*out = NULL;
	*out_count = 0;
	if (!f)
		return ob_err_nomem();
	while (*f && f[strlen(f) - 1] == '/')
		f[strlen(f) - 1] = '\0';
	if (!pattern || !*pattern)
		pattern = "*";
	it.max = max;
	memset(&c, 0, sizeof(c));
	c.rec = rec;
	c.it = &it;
	c.pattern = pattern;
	c.folder = f;
	if ((error = folder_tree(id, rec, point_id, datasource_id, f)) == 0)
		error = search_tree(&c, id, f);
	free(f);
	if (error < 0) {
		ob_recoverable_items_free(it.v, it.n);
		return error;
	}
	*out = it.v;
	*out_count = it.n;
	return 0;
}

/* ---- testing a point ---- */

/*
 * The walk reads every tree and every chunk a point needs, each blob once, and
 * names every item a damaged blob hits: a file that needs a damaged chunk (even
 * when another file found that chunk first), a folder whose own listing is
 * damaged (nothing under it can be restored from this point). A subtree is
 * skipped when met again only if nothing under it was damaged, so that every
 * path to damage is named. On this server, each damaged copy is recorded in the
 * catalog (native/agent/damage.h), so that the next backup stores it again.
 */

typedef struct bad_blob {
	uint8_t id[OB_ID_BYTES];
	char *problem;
} bad_blob;

typedef struct test_ctx {
	ob_recovery *rec;
	ob_buf report;
	uint64_t objects;
	size_t damaged;      /* items named so far */
	char *folder;
	int error;
	ob_idset seen;       /* blobs checked (sound or not) */
	ob_idset clean;      /* trees with nothing damaged at or under them */
	ob_idset bad_ids;    /* blobs found damaged ... */
	bad_blob *bad;       /* ... and what was wrong with each */
	size_t nbad, capbad;
} test_ctx;

static int test_tree(test_ctx *t, const uint8_t *tree_id, const char *where);

/*
 * A file's chunks must hold exactly its recorded size, or its restore fails.
 * Chunks that no index names are left to the chunk check (they are damage of
 * their own). 1 when the file is reported, 0 when it adds up, OB_ENOMEM.
 */
static int test_file_size(test_ctx *t, const ob_entry *e, const char *path)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < e->chunk_count; i++) {
		ob_blob_loc loc;
		if (ob_locator_find(&loc, &t->rec->locator, e->chunks + 32 * i) < 0) {
			ob_error_clear();
			return 0;
		}
		total += loc.raw_length;
	}
	if (total == e->size)
		return 0;
	if (ob_buf_printf(&t->report, "%s\tits chunks hold %llu bytes, but the file's recorded size is %llu: it cannot be restored\n",
		path, (unsigned long long)total, (unsigned long long)e->size) < 0)
		return ob_err_nomem();
	t->damaged++;
	return 1;
}

/* Name a damaged item. */
static int test_report(test_ctx *t, const char *path, const char *problem)
{
	t->damaged++;
	return ob_buf_printf(&t->report, "%s\t%s\n", path, problem);
}

static const char *bad_problem(const test_ctx *t, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < t->nbad; i++)
		if (!memcmp(t->bad[i].id, id, OB_ID_BYTES))
			return t->bad[i].problem;
	return "damaged";
}

/* On this server, remember the damaged copy and the item that needs it (native/agent/damage.h). */
static void test_record(test_ctx *t, int type, const uint8_t *id, const char *path, const char *problem)
{
	ob_blob_loc loc;

	if (!t->rec->this_server || !t->rec->locator.agent || ob_locator_find(&loc, &t->rec->locator, id) < 0 ||
	    ob_damage_record(t->rec->agent, id, type, loc.pack, path, problem) < 0)
		ob_error_clear();  /* the report is the result; the record only helps the next backup */
}

/*
 * Check one blob: 0 when sound, 1 when damaged (*problem, borrowed from t),
 * < 0 when the vault cannot be read at all. out: the blob (trees), else NULL.
 */
static int test_blob(const char **problem, test_ctx *t, int type, const uint8_t *id, const char *path,
	uint8_t **out, size_t *out_len)
{
	uint8_t *data = NULL;
	size_t len;
	int fresh, rc;

	if (out)
		*out = NULL;
	if (ob_idset_has(&t->bad_ids, id)) {
		*problem = bad_problem(t, id);
		test_record(t, type, id, path, *problem);
		return 1;
	}
	if ((fresh = ob_idset_add(&t->seen, id)) < 0)
		return ob_err_nomem();
	if (!fresh && !out)
		return 0;
	if (fresh)
		t->objects++;
	rc = ob_fetch_blob(&data, &len, &t->rec->locator, type, id);
	if (rc == OB_ECORRUPT) {
		bad_blob *v = t->bad;
		if (t->nbad == t->capbad) {
			size_t cap = t->capbad ? t->capbad * 2 : 16;
			if (!(v = realloc(t->bad, cap * sizeof(*v))))
				return ob_err_nomem();
			t->bad = v;
			t->capbad = cap;
		}
		memcpy(v[t->nbad].id, id, OB_ID_BYTES);
		if (!(v[t->nbad].problem = strdup(ob_error_last())) || ob_idset_add(&t->bad_ids, id) < 0) {
			free(v[t->nbad].problem);
			return ob_err_nomem();
		}
		*problem = v[t->nbad++].problem;
		ob_error_clear();
		test_record(t, type, id, path, *problem);
		return 1;
	}
	if (rc < 0)
		return rc;
	if (out) {
		*out = data;
		*out_len = len;
	} else {
		free(data);
	}
	return 0;
}

/* A file: every chunk it needs. Named once, with the first damaged chunk's problem. */
static int test_file(test_ctx *t, const ob_entry *e, const char *path)
{
	const char *problem;
	size_t i;
	int rc;

	for (i = 0; i < e->chunk_count; i++) {
		if ((rc = test_blob(&problem, t, OB_BLOB_DATA, e->chunks + 32 * i, path, NULL, NULL)) < 0)
			return rc;
		if (rc == 1)
			return test_report(t, path, problem);
	}
	return 0;
}

static int test_cb(const ob_entry *e, void *payload)
{
	test_ctx *t = payload;
	char *path = malloc(strlen(t->folder) + e->name_len + 2);

	if (!path) {
		t->error = ob_err_nomem();
		return 1;
	}
	sprintf(path, "%s/%.*s", t->folder, (int)e->name_len, e->name);
	if (e->type == OB_TREE_FILE) {
		/* A file whose chunks do not add up is reported once; its chunks are checked with other files'. */
		int rc = test_file_size(t, e, path);
		if (rc == 0)
			rc = test_file(t, e, path);
		if (rc < 0)
			t->error = rc;
	} else if (e->type == OB_TREE_DIR) {
		char *saved = t->folder;
		int rc;
		t->folder = path;
		if ((rc = test_tree(t, e->subtree, path)) < 0)
			t->error = rc;
		t->folder = saved;
	}
	free(path);
	return t->error < 0 ? 1 : 0;
}

static int test_tree(test_ctx *t, const uint8_t *tree_id, const char *where)
{
	uint8_t *tree = NULL;
	size_t len, before = t->damaged;
	const char *problem;
	int rc;

	if (ob_idset_has(&t->clean, tree_id))
		return 0;
	if ((rc = test_blob(&problem, t, OB_BLOB_TREE, tree_id, where, &tree, &len)) < 0)
		return rc;
	if (rc == 1) {
		ob_buf msg = OB_BUF_INIT;
		rc = ob_buf_printf(&msg, "the folder's listing is damaged (%s): nothing under it can be restored from this point",
			problem);
		if (rc == 0)
			rc = test_report(t, where, msg.data);
		ob_buf_dispose(&msg);
		return rc;
	}
	rc = ob_tree_parse(tree, len, test_cb, t);
	free(tree);
	if (t->error < 0)
		return t->error;
	if (rc == OB_ECORRUPT) {
		ob_buf msg = OB_BUF_INIT;
		rc = ob_buf_printf(&msg, "the folder's listing cannot be decoded (%s): what follows the damage in it cannot be "
			"restored from this point", ob_error_last());
		ob_error_clear();
		if (rc == 0)
			rc = test_report(t, where, msg.data);
		ob_buf_dispose(&msg);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (t->damaged == before && ob_idset_add(&t->clean, tree_id) < 0)
		return ob_err_nomem();
	return 0;
}

int ob_recovery_test(char **out_report, uint64_t *out_objects, ob_recovery *rec, const char *point_id)
{
	test_ctx t;
	ob_kv kv;
	int64_t count = 0, i, dsid;
	char key[32];
	size_t k;
	int error;

	if (out_report)
		*out_report = NULL;
	if (out_objects)
		*out_objects = 0;
	memset(&t, 0, sizeof(t));
	t.rec = rec;
	t.objects = 1;  /* the point's record */
	if ((error = ob_snapshot_read(&kv, &rec->repo, point_id)) == OB_ECORRUPT) {
		/* A point whose record is damaged or forged: nothing in it can be found, so nothing can be restored. */
		ob_buf msg = OB_BUF_INIT;
		if ((error = ob_buf_printf(&msg, "the recovery point's record cannot be read (%s): nothing can be restored from "
			"this point", ob_error_last())) == 0)
			error = test_report(&t, "(recovery point)", msg.data);
		ob_buf_dispose(&msg);
		ob_error_clear();
		if (error == 0)
			goto report;
	}
	if (error < 0)
		return error;
	ob_kv_get_i64(&count, &kv, "datasources");
	for (i = 0; i < count && error == 0; i++) {
		uint8_t root[OB_ID_BYTES];
		char *name = NULL;
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		if (ob_kv_get_i64(&dsid, &kv, key) < 0 || ob_snapshot_root(root, &name, &kv, dsid) < 0) {
			ob_error_clear();
			error = test_report(&t, "(recovery point)", "the point's record is damaged");
			continue;
		}
		t.folder = name && strcmp(name, "/") ? name : (char *)"";
		error = test_tree(&t, root, *t.folder ? t.folder : "/");
		free(name);
	}
	ob_kv_dispose(&kv);
report:
	ob_idset_dispose(&t.seen);
	ob_idset_dispose(&t.clean);
	ob_idset_dispose(&t.bad_ids);
	for (k = 0; k < t.nbad; k++)
		free(t.bad[k].problem);
	free(t.bad);
	if (out_objects)
		*out_objects = t.objects;
	if (error < 0) {
		ob_buf_dispose(&t.report);
		return error;
	}
	if (out_report)
		*out_report = t.report.data ? ob_buf_detach(&t.report) : strdup("");
	ob_buf_dispose(&t.report);
	if (t.damaged)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The recovery point is damaged: some of its objects are missing or changed.");
	return 0;
}

/* ---- restore (in this process) ---- */

typedef struct failed_buf {
	ob_buf b;
} failed_buf;

static int to_buf(const char *path, const char *reason, void *payload)
{
	return ob_buf_printf(&((failed_buf *)payload)->b, "%s\t%s\n", path, reason);
}

int ob_restore(char **out_failed, ob_agent *agent, const ob_restore_options *opts)
{
	ob_recovery *rec = NULL;
	ob_restore_progress pg;
	ob_restore_run run;
	failed_buf fb = { OB_BUF_INIT };
	const char *items[1];
	char *dest = NULL;
	int error;

	if (out_failed)
		*out_failed = NULL;
	if (!opts || opts->version < 1 || opts->version > OB_RESTORE_OPTIONS_VERSION || !opts->point_id || !opts->destination)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Restore options need a recovery point and a destination.");
	if (opts->overwrite < OB_OVERWRITE_CREATE_COPY || opts->overwrite > OB_OVERWRITE_OVERWRITE)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Unknown overwrite option %d.", opts->overwrite);
	/* The destination in the engine's form (on Windows "D:\restore" is "/D:/restore": platform.h). */
	if (!(dest = ob_platform_path_internal(opts->destination)))
		return ob_err_nomem();
	if ((error = ob_recovery_open(&rec, agent, NULL, NULL, 0)) < 0) {
		free(dest);
		return error;
	}
	memset(&pg, 0, sizeof(pg));
	memset(&run, 0, sizeof(run));
	items[0] = opts->item ? opts->item : "";
	run.repo = &rec->repo;
	run.locator = &rec->locator;
	run.point_id = opts->point_id;
	run.datasource_id = opts->datasource_id;
	run.items = items;
	run.item_count = 1;
	run.destination = dest;
	run.overwrite = opts->overwrite;
	run.skip_security = opts->skip_security;
	run.special_files = opts->version >= 2 && opts->special_files;
	run.progress = &pg;
	run.on_failed = to_buf;
	run.payload = &fb;
	error = ob_restore_execute(&run);
	/* Vault objects skipped on the way: on stderr, not with the items (see backup/run.c). */
	ob_repo_skipped_take(&rec->repo, ob_repo_skip_to_stderr, NULL, NULL);
	if (out_failed && fb.b.len)
		*out_failed = ob_buf_detach(&fb.b);
	ob_buf_dispose(&fb.b);
	ob_recovery_free(rec);
	free(dest);
	return error;
}

static int to_warnings(const char *name, const char *why, void *payload)
{
	return ob_buf_printf(payload, "%s\t%s\n", name, why);
}

int ob_recovery_warnings(char **out, ob_recovery *rec)
{
	ob_buf b = OB_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = ob_repo_skipped_take(&rec->repo, to_warnings, &b, NULL)) < 0) {
		ob_buf_dispose(&b);
		return error;
	}
	if (!(*out = b.data ? ob_buf_detach(&b) : strdup("")))
		return ob_err_nomem();
	return 0;
}

/* For the job worker. */
ob_repo *ob_recovery_repo(ob_recovery *rec) { return &rec->repo; }
ob_locator *ob_recovery_locator(ob_recovery *rec) { return &rec->locator; }
