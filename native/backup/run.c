/* The run: a backup from start to its recovery point. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"
#include "platform/platform.h"
#include "agent/damage.h"
#include "agent/locate.h"
#include "util/env.h"
#include "vault/serverkey.h"
#include "vault/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNCLEAN_KEY "backup.running"

typedef struct point_walk {
	ob_locator *loc;
	ob_idset seen;
	int error;
	char missing[96];
} point_walk;

static int walk_tree(point_walk *w, const uint8_t *id);

static int walk_cb(const ob_entry *e, void *payload)
{
	point_walk *w = payload;
	ob_blob_loc where;
	size_t i;

	if (e->type == OB_TREE_FILE) {
		for (i = 0; i < e->chunk_count; i++)
			if (ob_locator_find(&where, w->loc, e->chunks + OB_ID_BYTES * i) < 0) {
				w->error = OB_ECORRUPT;
				snprintf(w->missing, sizeof(w->missing), "%.*s", (int)(e->name_len < 80 ? e->name_len : 80), e->name);
				return 1;
			}
	} else if (e->type == OB_TREE_DIR) {
		int fresh = ob_idset_add(&w->seen, e->subtree);
		if (fresh < 0) {
			w->error = OB_ENOMEM;
			return 1;
		}
		if (fresh && walk_tree(w, e->subtree) < 0)
			return 1;
	}
	return 0;
}

static int walk_tree(point_walk *w, const uint8_t *id)
{
	uint8_t *tree = NULL;
	size_t len;
	int error;

	if ((error = ob_fetch_blob(&tree, &len, w->loc, OB_BLOB_TREE, id)) < 0) {
		snprintf(w->missing, sizeof(w->missing), "a folder");
		return w->error = error;
	}
	error = ob_tree_parse(tree, len, walk_cb, w);
	free(tree);
	if (w->error < 0)
		return w->error;
	return error < 0 ? (w->error = error) : 0;
}

/*
 * Vault maintenance by another agent of this server may have run while this
 * backup did (the generation changed): it may have deleted packs the run reused
 * or stored, or index objects that named the run's own new packs. Before the
 * run's last index object, the caches are checked against the vault as it is
 * now (the run's packs still stored stay, to be indexed next), and every blob
 * the point is to name must be found there; otherwise nothing is committed.
 */
static int check_generation(state *s)
{
	ob_agent *agent = s->prm->agent;
	ob_locator loc;
	point_walk w;
	uint64_t gen = 0;
	size_t k;
	int error, ended = 0, waited;

	if ((error = ob_cache_generation(&gen, &ended, agent, s->repo)) < 0)
		return error;
	if (gen == s->generation && !s->generation_open)
		return 0;
	/* A run that is still deleting could delete what a check finds now: wait for its end (10 minutes at most). */
	for (waited = 0; !ended && waited < 600 && !ob_backup_cancelled(s); waited++) {
		ob_platform_sleep_ms(1000);
		if ((error = ob_cache_generation(&gen, &ended, agent, s->repo)) < 0)
			return error;
	}
	if (!ended)
		return ob_err(OB_ELOCKED, OB_ERRCLASS_JOB,
			"Vault maintenance of this server by another agent has not ended (generation %llu): no recovery point was "
			"made. Run the backup again when it has ended; a maintenance run that was stopped is finished by the next one.",
			(unsigned long long)gen);
	if ((error = ob_cache_validate(agent, s->repo, &s->generation, &s->generation_open)) < 0)
		return error;
	if ((error = ob_locator_catalog(&loc, agent, s->repo)) < 0)
		return error;
	loc.synced = 1;   /* the cache was just filled from the index: a miss is a miss */
	memset(&w, 0, sizeof(w));
	w.loc = &loc;
	for (k = 0; k < s->prm->source_count && error == 0; k++)
		error = walk_tree(&w, s->roots[k]);
	ob_idset_dispose(&w.seen);
	ob_locator_dispose(&loc);
	if (error == OB_ECORRUPT)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_JOB,
			"Vault maintenance of this server (from another agent) ran during this backup and deleted data the backup "
			"reused or stored (%s): no recovery point was made. Run the backup again: it uploads what is missing.", w.missing);
	return error;
}

static void verifying(void *payload)
{
	ob_progress_enter(((state *)payload)->pg, OB_PHASE_VERIFY);
}

static int failed_cb(const char *what, const char *reason, void *payload)
{
	state *s = payload;

	return s->prm->on_failed ? s->prm->on_failed(what, reason, s->prm->payload) : 0;
}

/* The recovery point: the snapshot object naming the run's folder trees. */
static int write_snapshot(char **out_point, state *s, int64_t now)
{
	const ob_backup_params *prm = s->prm;
	ob_snapshot_source src[8];
	ob_snapshot_info info;
	uint64_t stored = 0;
	size_t i;
	int error;

	for (i = 0; i < prm->source_count; i++) {
		src[i].id = prm->sources[i].id;
		src[i].name = prm->sources[i].name;
		src[i].tree = s->roots[i];
	}
	memset(&info, 0, sizeof(info));
	info.time = now;
	info.kind = prm->kind;
	info.job = prm->job_id;
	info.retain_until = prm->retain_until;
	info.files = s->files_total;
	info.bytes = s->bytes_total;
	info.sources = src;
	info.source_count = prm->source_count;
	info.verifying = verifying;
	info.on_warning = failed_cb;
	info.payload = s;
	if ((error = ob_snapshot_write(out_point, &stored, s->repo, &info)) == 0)
		atomic_fetch_add(&s->pg->bytes_uploaded, stored);
	return error;
}
int ob_backup_run(char **out_point, const ob_backup_params *prm)
{
	state s;
	pthread_t workers[WORKERS], uploaders[REMOTE_UPLOADERS], syncer;
	int started = 0, up_started = 0, sync_started = 0, unclean_set = 0, error = 0, i;
	size_t k;
	int64_t now;

	*out_point = NULL;
	if (prm->source_count == 0 || prm->source_count > 8)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A backup needs 1 to 8 data sources.");
	memset(&s, 0, sizeof(s));
	s.prm = prm;
	s.repo = prm->repo;
	s.pg = prm->progress;
	pthread_mutex_init(&s.lock, NULL);
	ob_queue_init(&s.items, &s.lock, INFLIGHT_ITEMS, INFLIGHT_BYTES);
	ob_queue_init(&s.uploads, &s.lock, 0, 0);   /* bounded once the uploaders are counted */
	ob_queue_init(&s.written, &s.lock, 0, 0);
	if ((error = ob_clock_now(&now)) < 0)
		goto cleanup;
	/* A caller that fixed its view of the sources entered the snapshot phase; a bare run has nothing to fix. */
	ob_progress_enter(s.pg, OB_PHASE_PREPARE);
	/*
	 * Nothing is deduplicated against a cache the vault has not confirmed: when
	 * maintenance (of any agent of this server) deleted data since the caches were
	 * checked, or they were never checked (a lost or rolled-back state folder, a
	 * second agent), they are checked against the current index first.
	 */
	if ((error = ob_cache_check(prm->agent, prm->repo, &s.generation, &s.generation_open)) < 0)
		goto cleanup;
	/* A run that did not end (killed, crashed, power loss) may have stored packs it never recorded. */
	{
		char *unclean = NULL;
		if (ob_catalog_setting_get(&unclean, prm->agent->cat, UNCLEAN_KEY) == 0 &&
		    (error = ob_backup_recover_orphans(&s)) < 0) {
			free(unclean);
			goto cleanup;
		}
		free(unclean);
		ob_error_clear();
		if ((error = ob_catalog_setting_set(prm->agent->cat, UNCLEAN_KEY, "1")) < 0)
			goto cleanup;
		unclean_set = 1;
	}
	/* Chunks stored by an interrupted run are named by no index yet: index them first. */
	if ((error = ob_backup_flush_index(prm->agent, prm->repo)) < 0)
		goto cleanup;
	/*
	 * The data sources are named in the clear, so that other servers can list them
	 * without a key, and signed, so that they can tell ours from a forgery. A name
	 * another object took does not fail the backup: the record goes under another.
	 */
	for (k = 0; k < prm->source_count; k++)
		if ((error = ob_source_ensure(prm->repo, prm->sources[k].id, prm->sources[k].name,
			prm->kind ? prm->kind : "FileFolder")) < 0)
			goto cleanup;
	/* The change-detection metadata the transfer reads: MARS's metadata VHD plays that part. */
	ob_progress_enter(s.pg, OB_PHASE_METADATA);
	if ((error = ob_chunk_lookup_open(&s.has_chunk, prm->agent->cat)) < 0)
		goto cleanup;
	/* A first backup asks the cache nothing: one read transaction per chunk is most of its catalog work. */
	s.cache_empty = ob_chunk_cache_empty(prm->agent->cat);
	if ((error = ob_damage_prepare_backup(&s.damaged, prm->agent)) < 0)
		goto cleanup;
	/* Rows staged by a run that did not commit its point are not to be trusted. */
	if ((error = ob_file_cache_stage_clear(prm->agent->cat)) < 0)
		goto cleanup;

	ob_progress_enter(s.pg, OB_PHASE_TRANSFER);
	if (pthread_create(&syncer, NULL, ob_backup_syncer_main, &s) != 0) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the sync thread.");
		goto cleanup;
	}
	sync_started = 1;
	/* A local vault is a disk that one writer keeps busy; a remote one answers each request after a round trip. */
	s.uploaders = (s.repo->vc.be->capabilities(s.repo->vc.be) & OB_BACKEND_CAP_REMOTE) ? REMOTE_UPLOADERS : 1;
	s.uploaders_active = s.uploaders;
	s.uploads.max_items = (size_t)UPLOAD_QUEUE * (size_t)s.uploaders;
	for (i = 0; i < s.uploaders; i++) {
		if (pthread_create(&uploaders[i], NULL, ob_backup_uploader_main, &s) != 0)
			break;
		up_started++;
	}
	if (up_started < s.uploaders) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the upload threads.");
		pthread_mutex_lock(&s.lock);
		s.uploaders_active -= s.uploaders - up_started;   /* those never started */
		ob_queue_close(&s.uploads);
		ob_backup_fail(&s, error);
		if (up_started == 0)
			ob_queue_close(&s.written);
		pthread_mutex_unlock(&s.lock);
		for (i = 0; i < up_started; i++)
			pthread_join(uploaders[i], NULL);
		pthread_join(syncer, NULL);
		up_started = 0;
		goto cleanup;
	}
	for (i = 0; i < WORKERS; i++) {
		if (pthread_create(&workers[i], NULL, ob_backup_worker_main, &s) != 0)
			break;
		s.workers_active++;
		started++;
	}
	if (started == 0) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the worker threads.");
		goto stop;
	}
	for (k = 0; k < prm->source_count && error == 0 && !ob_backup_cancelled(&s); k++)
		error = ob_backup_scan_source(&s, k);

stop:
	pthread_mutex_lock(&s.lock);
	if (error < 0)
		ob_backup_fail(&s, error);
	ob_queue_close(&s.items);
	pthread_mutex_unlock(&s.lock);
	for (i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	pthread_mutex_lock(&s.lock);
	if (!s.error && !ob_backup_cancelled(&s)) {
		int e1 = ob_backup_queue_pack(&s, OB_BLOB_DATA), e2 = e1 ? e1 : ob_backup_queue_pack(&s, OB_BLOB_TREE);
		if (e2 < 0)
			ob_backup_fail(&s, e2);
	}
	ob_queue_close(&s.uploads);
	pthread_mutex_unlock(&s.lock);
	for (i = 0; i < up_started; i++)
		pthread_join(uploaders[i], NULL);
	if (sync_started && up_started)
		pthread_join(syncer, NULL);

	if (s.error) {
		error = s.error;
		ob_err(error, OB_ERRCLASS_JOB, "%s", s.error_text);
		goto cleanup;
	}
	if (ob_backup_cancelled(&s)) {
		ob_catalog_setting_delete(prm->agent->cat, UNCLEAN_KEY);  /* stopped cleanly: all it stored is recorded */
		error = ob_err(OB_ECANCELLED, OB_ERRCLASS_JOB,
			"The backup was stopped. What it uploaded stays in the vault and is not uploaded again by the next backup.");
		goto cleanup;
	}
	for (k = 0; k < prm->source_count; k++)
		if (!s.root_done[k]) {
			error = ob_err(OB_ERROR, OB_ERRCLASS_JOB, "The backup of '%s' did not complete its folder tree.",
				prm->sources[k].name);
			goto cleanup;
		}
	/* All data is stored: the point's blobs are checked against the vault, then the point is written and read back. */
	ob_progress_enter(s.pg, OB_PHASE_VERIFY);
	if ((error = check_generation(&s)) < 0 || (error = ob_backup_flush_index(prm->agent, prm->repo)) < 0 ||
	    (error = write_snapshot(out_point, &s, now)) < 0)
		goto cleanup;
	/* The point is committed: what fails now is a warning, never a Failed job beside a healthy point. */
	if ((error = ob_backup_write_cache(&s)) < 0) {
		if (prm->on_failed)
			prm->on_failed("file cache", ob_error_last(), prm->payload);
		ob_error_clear();
		error = 0;
	}
	{
		/* Blobs known damaged that the source no longer has: named once (native/agent/damage.h). */
		uint64_t unhealed = 0;
		if (ob_damage_report_unhealed(&unhealed, prm->agent, prm->on_failed, prm->payload) < 0) {
			if (prm->on_failed)
				prm->on_failed("damaged blobs", ob_error_last(), prm->payload);
			ob_error_clear();
		}
		atomic_fetch_add(&s.pg->files_failed, unhealed);
	}
	ob_progress_enter(s.pg, OB_PHASE_DONE);
	ob_catalog_setting_delete(prm->agent->cat, UNCLEAN_KEY);

cleanup:
	/*
	 * Vault objects skipped on the way (damaged or forged index objects): in the
	 * worker's log, not the job's items. Whatever they held that this run needed
	 * was stored again or fails its own item, so the state stays true without
	 * them, and another server cannot make this server's jobs warn.
	 */
	ob_repo_skipped_take(prm->repo, ob_repo_skip_to_stderr, NULL, NULL);
	/*
	 * A run that failed (rather than being killed) records the packs it stored and
	 * did not record, so that it leaves nothing for the next run to recover and
	 * vault maintenance need not wait for another backup. Its error stays the job's.
	 */
	if (error < 0 && error != OB_ECANCELLED && unclean_set) {
		char text[1024];
		int klass = ob_error_last_class();
		snprintf(text, sizeof(text), "%s", ob_error_last());
		if (ob_backup_recover_orphans(&s) == 0)
			ob_catalog_setting_delete(prm->agent->cat, UNCLEAN_KEY);
		ob_err(error, (ob_error_class)klass, "%s", text);
	}
	/* Leftovers after a failure: queued items, packers. */
	{
		ob_queue_node *x = ob_queue_take_all(&s.items), *next;
		for (; x; x = next) {
			next = x->next;
			free(((item *)x)->data);
			free(x);
		}
	}
	for (k = 0; k < 2; k++) {
		pack_out *po = (pack_out *)ob_queue_take_all(k ? &s.written : &s.uploads), *next;
		for (; po; po = next) {
			next = pack_next(po);
			ob_packer_dispose(&po->p);
			free(po);
		}
	}
	ob_packer_dispose(&s.packer[0]);
	ob_packer_dispose(&s.packer[1]);
	while (s.npool)
		free(s.pool[--s.npool]);
	free(s.zeros);
	ob_backup_free_cache_updates(&s);
	ob_idset_dispose(&s.known);
	ob_idset_dispose(&s.damaged);
	ob_chunk_lookup_free(s.has_chunk);
	pthread_mutex_destroy(&s.lock);
	ob_queue_dispose(&s.items);
	ob_queue_dispose(&s.uploads);
	ob_queue_dispose(&s.written);
	if (error < 0) {
		free(*out_point);
		*out_point = NULL;
	}
	return error;
}

