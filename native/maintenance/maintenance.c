/*
 * Vault maintenance for one server: purge soft-deleted points past their days,
 * then prune what no point uses (mark, and delete in a later run), and repack
 * packs that are mostly unused. New objects are written before old ones are
 * deleted, and old index objects before the packs they name, so a run killed
 * at any moment leaves every kept point restorable.
 */
#include "obagent/recovery.h"
#include "agent/agent_internal.h"
#include "catalog/chunks.h"
#include "agent/repo_open.h"
#include "util/env.h"
#include "util/error.h"
#include "agent/damage.h"
#include "util/idset.h"
#include "agent/lock.h"
#include "agent/locate.h"
#include "backup/backup.h"
#include "vault/serverkey.h"
#include "vault/snapshot.h"
#include "vault/tree.h"
#include "vault/vault_internal.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNCLEAN_KEY "backup.running"

typedef struct walk {
	ob_locator *loc;
	ob_idset *live;
	int error;
} walk;

static int mark_tree(walk *w, const uint8_t *id);

static int mark_cb(const ob_entry *e, void *payload)
{
	walk *w = payload;
	size_t i;

	if (e->type == OB_TREE_FILE) {
		for (i = 0; i < e->chunk_count; i++)
			if (ob_idset_add(w->live, e->chunks + 32 * i) < 0) {
				w->error = OB_ENOMEM;
				return 1;
			}
	} else if (e->type == OB_TREE_DIR) {
		int fresh = ob_idset_add(w->live, e->subtree);
		if (fresh < 0 || (fresh && (w->error = mark_tree(w, e->subtree)) < 0))
			return 1;
	}
	return 0;
}

/* Mark a tree and everything below it live. A tree that cannot be read is an error: prune nothing then. */
static int mark_tree(walk *w, const uint8_t *id)
{
	uint8_t *tree = NULL;
	size_t len;
	int error;

	if ((error = ob_fetch_blob(&tree, &len, w->loc, OB_BLOB_TREE, id)) < 0)
		return ob_err(error, OB_ERRCLASS_VAULT,
			"Maintenance stopped without deleting anything: a folder tree of a kept point cannot be read (%s). "
			"Run Test-OBRecoveryPoint on the points to find the damage.", ob_error_last());
	error = ob_tree_parse(tree, len, mark_cb, w);
	free(tree);
	return w->error < 0 ? w->error : error;
}

/*
 * Before anything is deleted, the agent forgets where blobs are: a run killed
 * after deleting would otherwise leave a cache that names packs gone, and
 * restores trust it (readers refill it from the vault's index on a miss). The
 * file cache stays: the generation this run took tells the next backup to check
 * it, and the end of this run checks it against the new index.
 */
static int forget_caches(ob_agent *agent, ob_repo *r, int *forgotten)
{
	char key[160];
	int error;

	if (*forgotten)
		return 0;
	ob_cache_generation_key(key, sizeof(key), r);
	if ((error = ob_catalog_setting_delete(agent->cat, key)) < 0 ||
	    (error = ob_catalog_chunks_forget_all(agent->cat)) < 0)
		return error;
	*forgotten = 1;
	return 0;
}

/*
 * Copies known damaged (native/agent/damage.h): such a copy is not live when the index
 * names another copy of its blob that is not known damaged (a backup stored it
 * again), so that maintenance drops it and keeps the sound one.
 */
typedef struct damaged_copies {
	ob_idset ids;
	uint8_t (*list)[64];
	size_t count;
	const ob_locator *loc;
} damaged_copies;

static int copy_live(const damaged_copies *d, const ob_idset *live, const ob_index_entry *e)
{
	ob_blob_loc other;
	size_t nth;

	if (!ob_idset_has(live, e->blob.id))
		return 0;
	if (!ob_idset_has(&d->ids, e->blob.id) || !ob_damage_has(d->list, d->count, e->blob.id, e->pack))
		return 1;
	for (nth = 0; ob_locator_copy(&other, d->loc, e->blob.id, nth) == 0; nth++)
		if (memcmp(other.pack, e->pack, OB_ID_BYTES) && !ob_damage_has(d->list, d->count, e->blob.id, other.pack))
			return 0;
	return 1;  /* the only copy: kept, damaged as it is */
}

typedef struct pack_stat {
	uint8_t id[OB_ID_BYTES];
	uint64_t total, live;
} pack_stat;

static int by_pack(const void *a, const void *b)
{
	return memcmp(((const ob_index_entry *)a)->pack, ((const ob_index_entry *)b)->pack, OB_ID_BYTES);
}

static int remove_object(ob_repo *r, const char *name, uint64_t *bytes)
{
	uint64_t size = 0;
	int error;

	r->vc.be->stat(&size, r->vc.be, name);
	error = r->vc.be->remove(r->vc.be, name);
	if (error == OB_ENOTFOUND) {
		ob_error_clear();
		return 0;
	}
	if (error == 0 && bytes)
		*bytes += size;
	return error;
}

/*
 * Before a marked pack goes: does it hold a blob a point needs that the new index
 * does not name? A backup of another agent of this server that reused a blob
 * while a run left it out (or whose index object a run removed) makes such a
 * point. Those blobs are indexed again from the pack's own header: 1 (keep the
 * pack), 0 (nothing needed: delete it), or an error. A damaged header says
 * nothing can be read from the pack anyway: 0.
 */
static int still_needed(ob_repo *r, const uint8_t pack[OB_ID_BYTES], const ob_idset *live, const ob_idset *indexed)
{
	ob_pack_entry *pe = NULL;
	ob_index_entry *keep = NULL;
	size_t pn = 0, nkeep = 0, k;
	int error;

	if ((error = ob_pack_read_header(&pe, &pn, r, pack)) < 0) {
		if (error != OB_ECORRUPT && error != OB_ENOTFOUND && error != OB_EINVALID)
			return error;
		ob_error_clear();
		return 0;
	}
	if (!(keep = malloc((pn ? pn : 1) * sizeof(*keep)))) {
		free(pe);
		return ob_err_nomem();
	}
	for (k = 0; k < pn; k++)
		if (ob_idset_has(live, pe[k].id) && !ob_idset_has(indexed, pe[k].id)) {
			/*
			 * Indexed again only when the blob itself opens there: a header opens
			 * wherever it is copied (its sealing names no pack), so a forged pack
			 * may carry a genuine header over bytes that are not the blobs.
			 */
			ob_blob_loc at;
			uint8_t *data = NULL;
			size_t dlen = 0;
			int rc;
			memcpy(at.pack, pack, OB_ID_BYTES);
			at.offset = pe[k].offset;
			at.length = pe[k].length;
			at.raw_length = pe[k].raw_length;
			at.type = pe[k].type;
			rc = ob_fetch_blob_at(&data, &dlen, r, &at, pe[k].type, pe[k].id);
			free(data);
			if (rc == OB_ENOMEM) {
				free(pe);
				free(keep);
				return rc;
			}
			ob_error_clear();
			if (rc < 0)
				continue;
			keep[nkeep].blob = pe[k];
			memcpy(keep[nkeep].pack, pack, OB_ID_BYTES);
			nkeep++;
		}
	error = nkeep ? ob_index_write(r, keep, nkeep, NULL) : 0;
	free(pe);
	free(keep);
	return error < 0 ? error : nkeep > 0;
}

/* Add a warning line to the report; once they no longer fit, the text ends with "...". */
static void report_warn(ob_maintenance_report *rep, const char *text)
{
	size_t used = strlen(rep->warnings), cap = sizeof(rep->warnings);

	if (used >= 3 && strcmp(rep->warnings + used - 3, "...") == 0)
		return;
	if (used + 1 + strlen(text) + 1 > cap) {
		snprintf(rep->warnings + (used + 4 <= cap ? used : cap - 4), 4, "...");
		return;
	}
	snprintf(rep->warnings + used, cap - used, "%s%s", used ? "\n" : "", text);
}

/*
 * Purge the soft-deleted points whose 14 days are over, counted from the time
 * the storage recorded their marker (which no agent can set), never from what
 * a marker says; a marker that does not count (unsigned, forged, another
 * point's, undeleted) purges nothing.
 */
static int purge_points(ob_repo *r, int64_t now, ob_maintenance_report *rep)
{
	ob_name_list marks = { 0 }, undeleted = { 0 }, summaries = { 0 };
	char prefix[96], uprefix[96], sprefix[96], name[300], point[80];
	ob_backend *be = r->vc.be;
	int timed = be->version >= 3 && be->stat_created;
	size_t i, j, untimed = 0;
	int error;

	snprintf(prefix, sizeof(prefix), "%sdeleted/", r->prefix);
	snprintf(uprefix, sizeof(uprefix), "%sundeleted/", r->prefix);
	snprintf(sprefix, sizeof(sprefix), "%ssummaries/", r->prefix);
	if ((error = ob_vault_list_names(&marks, be, prefix, strlen(prefix))) < 0 ||
	    (marks.n && (error = ob_vault_list_names(&undeleted, be, uprefix, strlen(uprefix))) < 0) ||
	    (marks.n && (error = ob_vault_list_names(&summaries, be, sprefix, strlen(sprefix))) < 0))
		goto done;
	for (i = 0; i < marks.n && error == 0; i++) {
		ob_point_deletion del;
		size_t plen = strcspn(marks.v[i], ".");
		int first = 1;
		if (plen >= sizeof(point))
			continue;
		memcpy(point, marks.v[i], plen);
		point[plen] = '\0';
		/* One pass per point, at its first marker. */
		for (j = 0; j < i && first; j++)
			first = strncmp(marks.v[j], point, plen) != 0 || (marks.v[j][plen] != '\0' && marks.v[j][plen] != '.');
		if (!first)
			continue;
		if ((error = ob_point_deletion_read(&del, r, point, &marks, &undeleted)) < 0)
			break;
		if (del.ignored) {
			char *line = del.ignored, *nl;
			for (; line && *line; line = nl ? nl + 1 : NULL) {
				if ((nl = strchr(line, '\n')))
					*nl = '\0';
				report_warn(rep, line);
			}
		}
		if (!del.deleted || (timed && del.created + (int64_t)OB_SOFT_DELETE_DAYS * 86400 > now)) {
			ob_point_deletion_dispose(&del);
			continue;
		}
		ob_point_deletion_dispose(&del);
		if (!timed) {
			untimed++;
			continue;
		}
		/* The point first, then its markers: a crash between leaves markers for nothing, removed next time. */
		snprintf(name, sizeof(name), "%ssnapshots/%s", r->prefix, point);
		if ((error = remove_object(r, name, &rep->bytes_reclaimed)) < 0)
			break;
		/* Its summaries (FORMAT.md, "Point summaries"), then its markers. */
		for (j = 0; j < summaries.n && error == 0; j++)
			if (strncmp(summaries.v[j], point, plen) == 0 && (summaries.v[j][plen] == '\0' || summaries.v[j][plen] == '.')) {
				snprintf(name, sizeof(name), "%s%s", sprefix, summaries.v[j]);
				error = remove_object(r, name, &rep->bytes_reclaimed);
			}
		for (j = i; j < marks.n && error == 0; j++)
			if (strncmp(marks.v[j], point, plen) == 0 && (marks.v[j][plen] == '\0' || marks.v[j][plen] == '.')) {
				snprintf(name, sizeof(name), "%s%s", prefix, marks.v[j]);
				error = remove_object(r, name, NULL);
			}
		if (error == 0)
			rep->points_purged++;
	}
	if (untimed) {
		char text[400];
		snprintf(text, sizeof(text), "%zu soft-deleted point(s) were not purged: this vault's storage cannot tell when "
			"their deletion was written, and the 14 days are measured by the storage, never by the marker.", untimed);
		report_warn(rep, text);
	}
done:
	ob_name_list_dispose(&marks);
	ob_name_list_dispose(&undeleted);
	ob_name_list_dispose(&summaries);
	return error;
}

/* A prune mark, owner-signed (prune-mark 2): this area, this pack, when. */
static int mark_put(ob_repo *r, const uint8_t owner_private[OB_SIGN_PRIVATE_BYTES], const char *name, const char *pack_hex,
	int64_t now)
{
	ob_buf rec = OB_BUF_INIT;
	int error;

	if ((error = ob_area_record_begin(&rec, r, "prune-mark")) == 0 && (error = ob_kv_add(&rec, "pack", pack_hex)) == 0 &&
	    (error = ob_kv_add_i64(&rec, "marked_at", now)) == 0 && (error = ob_record_sign(&rec, owner_private)) == 0)
		error = r->vc.be->put(r->vc.be, name, rec.data, rec.len);
	ob_buf_dispose(&rec);
	return error;
}

/*
 * When a mark says its pack was marked: 1 and *marked for a genuine one (signed
 * by the owner, of this area and this pack), 0 for anything else (unsigned marks
 * of older versions, forgeries: the pack is then treated as not marked).
 */
/*
 * A genuine mark's time: its marked_at, or the storage's own time of the mark when
 * that is later and not past now (a genuine mark saved and written back later,
 * a replay, starts its grace when it was really written; a clock behind the
 * storage's keeps marked_at).
 */
static int mark_read(int64_t *marked, ob_repo *r, const char *name, const char *pack_hex, int64_t now)
{
	ob_kv kv;
	const char *pack;
	int64_t created;
	int genuine;

	if (ob_area_record_read(&kv, r, name, "prune-mark") < 0) {
		ob_error_clear();
		return 0;
	}
	pack = ob_kv_get(&kv, "pack");
	genuine = pack && !strcmp(pack, pack_hex) && ob_kv_get_i64(marked, &kv, "marked_at") == 0;
	ob_kv_dispose(&kv);
	if (genuine && r->vc.be->version >= 3 && r->vc.be->stat_created &&
	    r->vc.be->stat_created(&created, r->vc.be, name) == 0 && created > *marked && created <= now)
		*marked = created;
	ob_error_clear();
	return genuine;
}

static int prune(ob_agent *agent, ob_repo *r, const uint8_t owner_private[OB_SIGN_PRIVATE_BYTES], int64_t now,
	const ob_maintenance_options *opts, ob_maintenance_report *rep)
{
	ob_locator loc;
	ob_idset live = OB_IDSET_INIT, indexed_packs = { 0 };
	damaged_copies dmg = { OB_IDSET_INIT, NULL, 0, NULL };
	ob_recovery_point **pts = NULL;
	ob_index_entry *all = NULL, *out = NULL;
	ob_name_list idx = { 0 }, packs = { 0 }, marks = { 0 };
	size_t npts = 0, n = 0, nout = 0, i, j;
	char prefix[96], name[200];
	int64_t grace = opts->grace_seconds < 0 ? 3600 : opts->grace_seconds;
	unsigned int threshold = opts->repack_percent ? opts->repack_percent : 25;
	int error, changed = 0, forgotten = 0;

	/*
	 * Everything every remaining point (soft-deleted ones too, until purged) needs
	 * is live. The points are listed first, then the index objects, then read: a
	 * point listed here had its index objects written before it, so they are read
	 * too; and only index objects listed here can be removed below, never one that
	 * a backup of another agent wrote while this run went on.
	 */
	memset(&loc, 0, sizeof(loc));
	snprintf(prefix, sizeof(prefix), "%sindex/", r->prefix);
	if ((error = ob_repo_list_points(&pts, &npts, r, 1)) < 0 ||
	    (error = ob_vault_list_names(&idx, r->vc.be, prefix, 0)) < 0 ||
	    (error = ob_locator_memory(&loc, r)) < 0)
		goto done;
	for (i = 0; i < npts && error == 0; i++) {
		ob_kv kv;
		int64_t count = 0, k;
		if ((error = ob_snapshot_read(&kv, r, pts[i]->id)) < 0)
			break;
		ob_kv_get_i64(&count, &kv, "datasources");
		for (k = 0; k < count && error == 0; k++) {
			uint8_t root[OB_ID_BYTES];
			char key[32];
			walk w = { &loc, &live, 0 };
			snprintf(key, sizeof(key), "ds%lld_tree", (long long)k);
			if (ob_id_parse(root, ob_kv_get(&kv, key)) < 0)
				error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Recovery point '%s' is damaged: maintenance stopped.", pts[i]->id);
			else if ((error = ob_idset_add(&live, root)) == 1)
				error = mark_tree(&w, root);
			else if (error == 0)
				error = 0;
		}
		ob_kv_dispose(&kv);
	}
	if (error < 0)
		goto done;

	/* Every blob the index names, grouped by pack. */
	n = loc.count;
	if (!(all = malloc((n ? n : 1) * sizeof(*all))) || !(out = malloc((n ? n : 1) * sizeof(*out)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0, j = 0; i < loc.cap; i++)
		if (loc.used[i]) {
			memcpy(all[j].blob.id, loc.ids[i], OB_ID_BYTES);
			all[j].blob.type = loc.locs[i].type;
			all[j].blob.offset = loc.locs[i].offset;
			all[j].blob.length = loc.locs[i].length;
			all[j].blob.raw_length = loc.locs[i].raw_length;
			memcpy(all[j].pack, loc.locs[i].pack, OB_ID_BYTES);
			j++;
		}
	qsort(all, n, sizeof(*all), by_pack);
	dmg.loc = &loc;
	if ((error = ob_damage_list(&dmg.list, &dmg.count, agent)) < 0)
		goto done;
	for (i = 0; i < dmg.count; i++)
		if (ob_idset_add(&dmg.ids, dmg.list[i]) < 0) {
			error = ob_err_nomem();
			goto done;
		}

	/* Per pack: keep it, repack its live blobs, or leave it to the marks. */
	for (i = 0; i < n && error == 0; ) {
		size_t end = i;
		uint64_t total = 0, used = 0;
		while (end < n && !memcmp(all[end].pack, all[i].pack, OB_ID_BYTES)) {
			total += all[end].blob.length;
			if (copy_live(&dmg, &live, &all[end]))
				used += all[end].blob.length;
			end++;
		}
		if ((error = ob_idset_add(&indexed_packs, all[i].pack)) < 0)
			break;
		error = 0;
		if (used == total) {
			for (j = i; j < end; j++)
				out[nout++] = all[j];
		} else if (used > 0 && (total - used) * 100 >= (uint64_t)threshold * total) {
			/* Repack: the live blobs' sealed bytes move as they are (their sealing names the blob, not the pack). */
			ob_packer pk = { 0 };
			uint8_t new_id[OB_ID_BYTES];
			char pname[200];
			for (j = i; j < end && error == 0; j++) {
				void *sealed = NULL;
				size_t slen;
				if (!copy_live(&dmg, &live, &all[j]))
					continue;
				ob_repo_pack_name(pname, sizeof(pname), r, all[j].pack);
				if ((error = r->vc.be->get(&sealed, &slen, r->vc.be, pname, all[j].blob.offset, all[j].blob.length)) == 0)
					error = ob_packer_add(&pk, all[j].blob.type, all[j].blob.id, sealed, slen, all[j].blob.raw_length);
				free(sealed);
			}
			if (error == 0 && (error = ob_packer_finish(&pk, r, new_id)) == 0) {
				ob_repo_pack_name(pname, sizeof(pname), r, new_id);
				error = r->vc.be->put(r->vc.be, pname, pk.data.data, pk.data.len);
				if (error == OB_EEXISTS) {
					ob_error_clear();
					error = 0;
				}
			}
			for (j = 0; error == 0 && j < pk.count; j++) {
				out[nout].blob = pk.entries[j];
				memcpy(out[nout].pack, new_id, OB_ID_BYTES);
				nout++;
			}
			if (error == 0) {
				rep->packs_repacked++;
				changed = 1;
			}
			ob_packer_dispose(&pk);
		} else {
			for (j = i; j < end; j++)
				if (copy_live(&dmg, &live, &all[j]))
					out[nout++] = all[j];
			if (used < total)
				changed = 1;
		}
		i = end;
	}
	if (error < 0)
		goto done;

	if (changed) {
		/* The new index first, then the old index objects, and only then (below, and in later runs) packs. */
		ob_idset out_ids = OB_IDSET_INIT;
		for (i = 0; i < nout; i++)
			if (ob_idset_add(&out_ids, out[i].blob.id) < 0) {
				ob_idset_dispose(&out_ids);
				error = OB_ENOMEM;
				goto done;
			}
		if ((error = ob_index_write_all(r, out, nout)) < 0)
			goto done;
		if ((error = forget_caches(agent, r, &forgotten)) < 0) {
			ob_idset_dispose(&out_ids);
			goto done;
		}
		for (i = 0; i < idx.n && error == 0; i++) {
			ob_index_entry *e = NULL;
			size_t en = 0, k;
			int obsolete = 0;
			/*
			 * An old index object goes only when everything live it names is in the
			 * new one. One that does not open stays (docs/FORMAT.md, "Maintenance"):
			 * what cannot be read cannot be known to be unneeded.
			 */
			int rc = ob_index_read(&e, &en, r, idx.v[i]);
			if (rc == 0) {
				obsolete = 1;
				for (k = 0; k < en && obsolete; k++)
					if (ob_idset_has(&live, e[k].blob.id) && !ob_idset_has(&out_ids, e[k].blob.id))
						obsolete = 0;
				free(e);
			} else if (rc != OB_ENOTFOUND) {
				ob_index_skip(r, idx.v[i], ob_error_last());
			}
			ob_error_clear();
			if (obsolete)
				error = remove_object(r, idx.v[i], &rep->bytes_reclaimed);
		}
		ob_idset_dispose(&out_ids);
		if (error < 0)
			goto done;
		/*
		 * Repacked packs are named by no index now: they are marked below like
		 * unused ones and deleted after the grace, not at once, because a backup
		 * of another agent of this server may be reusing a blob this run left out.
		 */
	}

	/* Packs no index names any more (unused, or orphans of interrupted runs): marked now, deleted after the grace. */
	snprintf(prefix, sizeof(prefix), "%spacks/", r->prefix);
	if ((error = ob_vault_list_names(&packs, r->vc.be, prefix, strlen(prefix) + 3)) < 0)
		goto done;
	{
		ob_idset in_new = OB_IDSET_INIT, in_new_blobs = OB_IDSET_INIT, stored = OB_IDSET_INIT;
		for (i = 0; i < nout; i++)
			if (ob_idset_add(&in_new, out[i].pack) < 0 || ob_idset_add(&in_new_blobs, out[i].blob.id) < 0) {
				ob_idset_dispose(&in_new);
				ob_idset_dispose(&in_new_blobs);
				error = OB_ENOMEM;
				goto done;
			}
		snprintf(prefix, sizeof(prefix), "%sprune/", r->prefix);
		for (i = 0; i < packs.n && error == 0; i++) {
			uint8_t id[OB_ID_BYTES];
			if (ob_id_parse(id, packs.v[i]) < 0) {
				ob_error_clear();
				continue;
			}
			if (ob_idset_add(&stored, id) < 0) {
				error = ob_err_nomem();
				break;
			}
			if (ob_idset_has(&in_new, id))
				continue;
			if (!changed && ob_idset_has(&indexed_packs, id)) {
				/* Nothing was rewritten: a pack the index names is still needed. */
				continue;
			}
			snprintf(name, sizeof(name), "%s%s", prefix, packs.v[i]);
			error = mark_put(r, owner_private, name, packs.v[i], now);
			/* A mark there already that is not genuine is replaced below. */
			if (error == OB_EEXISTS) {
				ob_error_clear();
				error = 0;
			} else if (error == 0) {
				rep->packs_marked++;
			}
		}
		/* Marks whose grace is over: delete the pack if still unused, then the mark. */
		if (error == 0 && (error = ob_vault_list_names(&marks, r->vc.be, prefix, strlen(prefix))) == 0) {
			for (i = 0; i < marks.n && error == 0; i++) {
				uint8_t id[OB_ID_BYTES];
				int64_t marked = now;
				int genuine;
				if (ob_id_parse(id, marks.v[i]) < 0) {
					ob_error_clear();
					continue;
				}
				snprintf(name, sizeof(name), "%s%s", prefix, marks.v[i]);
				genuine = mark_read(&marked, r, name, marks.v[i], now);
				if (ob_idset_has(&in_new, id)) {
					error = remove_object(r, name, NULL);  /* used again (or never unused): unmark */
					if (!genuine && error == 0)
						ob_repo_skip(r, name, "removed: a prune mark not signed by the vault owner on a pack in use");
					continue;
				}
				if (!genuine) {
					/*
					 * Not the owner's (an older version's, or forged, maybe with an old
					 * marked_at to cut the grace short): the pack counts as not marked. The
					 * mark goes, and a pack still stored gets a genuine one: its grace starts now.
					 */
					if ((error = remove_object(r, name, NULL)) < 0)
						break;
					if (!ob_idset_has(&stored, id))
						continue;
					if ((error = mark_put(r, owner_private, name, marks.v[i], now)) == OB_EEXISTS) {
						ob_error_clear();
						error = 0;   /* written again meanwhile: the next run replaces it */
						continue;
					}
					if (error < 0)
						break;
					ob_repo_skip(r, name, "replaced: a prune mark not signed by the vault owner (its grace starts now)");
					rep->packs_marked++;
					marked = now;
				}
				if (now < marked + grace)
					continue;
				if ((error = still_needed(r, id, &live, &in_new_blobs)) != 0) {
					/* A blob a point needs, in no index: indexed again, the pack unmarked. */
					if (error > 0)
						error = remove_object(r, name, NULL);
					continue;
				}
				if ((error = forget_caches(agent, r, &forgotten)) < 0)
					break;
				{
					char pname[200];
					ob_repo_pack_name(pname, sizeof(pname), r, id);
					if ((error = remove_object(r, pname, &rep->bytes_reclaimed)) == 0 &&
					    (error = remove_object(r, name, NULL)) == 0)
						rep->packs_deleted++;
				}
			}
		}
		ob_idset_dispose(&in_new);
		ob_idset_dispose(&in_new_blobs);
		ob_idset_dispose(&stored);
	}
	if (error < 0)
		goto done;

	/* The caches are checked against the new index (the chunk cache, forgotten before the first deletion, is filled again). */
	if ((error = ob_cache_validate(agent, r, NULL, NULL)) < 0)
		goto done;
done:
	ob_name_list_dispose(&idx);
	ob_name_list_dispose(&packs);
	ob_name_list_dispose(&marks);
	free(all);
	free(out);
	ob_idset_dispose(&live);
	ob_idset_dispose(&dmg.ids);
	free(dmg.list);
	ob_idset_dispose(&indexed_packs);
	ob_recovery_points_free(pts, npts);
	ob_locator_dispose(&loc);
	return error;
}

/* One warning line per object (objects_skipped counts them all, the lines as many as fit). */
static int report_skip(const char *name, const char *why, void *payload)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s: %s", name, why);
	report_warn(payload, line);
	return 0;
}

static int add_size(const char *name, uint64_t size, void *payload)
{
	(void)name;
	*(uint64_t *)payload += size;
	return 0;
}

int ob_maintenance_run(ob_maintenance_report **out, ob_agent *agent, const ob_maintenance_options *opts)
{
	ob_maintenance_options defaults = OB_MAINTENANCE_OPTIONS_INIT;
	ob_maintenance_report *rep;
	ob_registration *reg = NULL;
	ob_repo repo;
	char *unclean = NULL, *saved_access = NULL;
	uint64_t generation = 0;
	uint8_t owner_private[OB_SIGN_PRIVATE_BYTES];
	int64_t now;
	int lock_fd = -1, error, repo_open = 0, overridden = 0, have_owner = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != OB_MAINTENANCE_OPTIONS_VERSION)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Unknown maintenance options version.");
	if (!(rep = calloc(1, sizeof(*rep))))
		return ob_err_nomem();
	rep->version = OB_MAINTENANCE_REPORT_VERSION;
	rep->warnings[0] = '\0';
	if ((error = ob_clock_now(&now)) < 0 || (error = ob_agent_registration(&reg, agent)) < 0)
		goto done;
	if ((error = ob_job_lock_take(&lock_fd, agent)) < 0)
		goto done;
	if (ob_catalog_setting_get(&unclean, agent->cat, UNCLEAN_KEY) == 0) {
		error = ob_err(OB_ELOCKED, OB_ERRCLASS_JOB,
			"A backup of this server was interrupted before it could record what it stored: run a backup first "
			"(it resumes where it stopped), then maintenance.");
		goto done;
	}
	ob_error_clear();
	if (opts->owner_key && *opts->owner_key) {
		/* The owner's key for this run only: the agent's own access comes back after. */
		ob_buf access = OB_BUF_INIT;
		saved_access = ob_vault_access_get(reg->vault_location);
		overridden = 1;
		if ((error = ob_buf_printf(&access, "key:%s", opts->owner_key)) == 0)
			error = ob_vault_access_set(reg->vault_location, access.data);
		ob_buf_dispose(&access);
		if (error < 0)
			goto done;
	}
	if ((error = ob_agent_repo_open(&repo, agent, NULL)) < 0)
		goto done;
	repo_open = 1;
	if (!(repo.vc.be->capabilities(repo.vc.be) & OB_BACKEND_CAP_DELETE)) {
		error = ob_err(OB_EACCESS, OB_ERRCLASS_VAULT,
			"Maintenance deletes data, which this server's access token cannot do: give the vault owner's storage account key.");
		goto done;
	}
	/*
	 * The owner's signing key, through the owner's access just opened: the
	 * generation and prune marks it writes are the owner's, so that no agent can
	 * forge them for another server (docs/SECURITY.md).
	 */
	if ((error = ob_vault_conn_owner_key(owner_private, &repo.vc)) < 0)
		goto done;
	have_owner = 1;
	/*
	 * An area set up before signing keys gets the owner's certificate of this
	 * server's key (servers/<id>/signer): from then on forged key records are
	 * skipped by their signature, without scrypt (docs/SECURITY.md, upgrading).
	 */
	if ((error = ob_server_signer_certify(&repo, owner_private)) < 0)
		goto done;
	error = 0;
	/*
	 * The caches are checked first (a rolled-back state folder must not index
	 * packs that are gone); then a new generation is taken before anything is
	 * read or deleted: every backup that checked its caches at an older one
	 * checks them again, and one that committed its point before this number
	 * existed has its point seen by the listing below.
	 */
	if ((error = ob_cache_check(agent, &repo, NULL, NULL)) < 0 || (error = ob_backup_flush_index(agent, &repo)) < 0 ||
	    (error = ob_repo_generation_bump(&generation, &repo, owner_private, now)) < 0)
		goto done;
	{
		/* This agent's own: its backups (which wait for the job lock) know this run is over. */
		char key[160], value[32];
		ob_cache_own_generation_key(key, sizeof(key), &repo);
		snprintf(value, sizeof(value), "%llu", (unsigned long long)generation);
		if ((error = ob_catalog_setting_set(agent->cat, key, value)) < 0)
			goto done;
	}
	error = purge_points(&repo, now, rep);
	if (error == 0)
		error = prune(agent, &repo, owner_private, now, opts, rep);
	/* Whatever happened, this run deletes nothing more: backups that waited may go on. */
	{
		int end = ob_repo_generation_end(&repo, owner_private, generation, now);
		if (error == 0)
			error = end;
	}
	if (error < 0)
		goto done;
	{
		uint64_t total = 0;
		repo.vc.be->list(repo.vc.be, repo.prefix, add_size, &total);
		rep->bytes_in_use = total;
	}
	/* What the run skipped, removed or replaced because it was not genuine: the report says so. */
	{
		size_t skipped = 0;
		ob_repo_skipped_take(&repo, report_skip, rep, &skipped);
		rep->objects_skipped = skipped;
	}
done:
	if (have_owner)
		ob_wipe(owner_private, sizeof(owner_private));
	if (repo_open)
		ob_repo_dispose(&repo);
	if (overridden) {
		ob_vault_access_set(reg->vault_location, saved_access);
		if (saved_access) {
			ob_wipe(saved_access, strlen(saved_access));
			free(saved_access);
		}
	}
	ob_platform_close(lock_fd);
	free(unclean);
	ob_registration_free(reg);
	if (error < 0) {
		free(rep);
		return error;
	}
	*out = rep;
	return 0;
}
