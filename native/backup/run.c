/* The run: a backup from start to its recovery point. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"
#include "agent/damage.h"
#include "agent/locate.h"
#include "util/env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const ob_backup_phase_text[] = {
	"Initializing",
	"Preparing storage...",
	"Data transfer is in progress...",
	"Generating backup metadata information...",
	"Data transfer completed ... Verifying data integrity...",
	"Job completed.",
	"Estimating size of backup items...",
	"Recovery of the data is in progress...",
};

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
		sleep(1);
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

/*
 * The time in a point's name: when it is committed, seconds and nanoseconds from
 * one clock reading, so that names sort in commit order and "the newest point" is
 * the last one committed. A clock that stands still (OBAGENT_NOW) or steps back
 * still names the point after every point in the vault: one nanosecond after the
 * newest (a name of the older form, time-random, is passed by a whole second).
 */
static int point_time(int64_t *out_sec, long *out_nsec, state *s)
{
	ob_name_list l = { 0 };
	char prefix[96], mine[32];
	const char *newest = NULL;
	size_t i, k;
	int error;

	if ((error = ob_clock_now_ns(out_sec, out_nsec)) < 0)
		return error;
	snprintf(prefix, sizeof(prefix), "%ssnapshots/", s->repo->prefix);
	if ((error = ob_vault_list_names(&l, s->repo->vc.be, prefix, strlen(prefix))) < 0)
		return error;
	for (i = 0; i < l.n; i++) {
		for (k = 0; k < 12 && l.v[i][k] >= '0' && l.v[i][k] <= '9'; k++)
			;
		if (k == 12 && (!newest || strcmp(l.v[i], newest) > 0))
			newest = l.v[i];
	}
	snprintf(mine, sizeof(mine), "%012lld-%09ld-", (long long)*out_sec, *out_nsec);
	if (newest && strncmp(mine, newest, strlen(mine)) <= 0) {
		int64_t sec = strtoll(newest, NULL, 10);
		long nsec = -1;
		for (k = 13; k < 22 && newest[12] == '-' && newest[k] >= '0' && newest[k] <= '9'; k++)
			;
		if (k == 22 && newest[22] == '-')
			nsec = strtol(newest + 13, NULL, 10);
		if (nsec < 0 || nsec >= 999999999L) {
			sec++;
			nsec = 0;
		} else {
			nsec++;
		}
		*out_sec = sec;
		*out_nsec = nsec;
	}
	ob_name_list_dispose(&l);
	return 0;
}

static int write_snapshot(char **out_point, state *s, int64_t now)
{
	const ob_backup_params *prm = s->prm;
	ob_buf rec = OB_BUF_INIT, sealed = OB_BUF_INIT;
	char name[200], key[32], hex[65], aad[256], rnd_hex[17];
	uint8_t rnd[8];
	char put_text[1024] = "";
	int64_t sec;
	long nsec;
	size_t i;
	int error, put_error;

	if ((error = ob_random(rnd, sizeof(rnd))) < 0 || (error = point_time(&sec, &nsec, s)) < 0)
		return error;
	ob_hex_encode(rnd_hex, rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "%ssnapshots/%012lld-%09ld-%s", s->repo->prefix, (long long)sec, nsec, rnd_hex);
	if ((error = ob_kv_begin(&rec, "snapshot", 1)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "time", now)) < 0 ||
	    (error = ob_kv_add(&rec, "server", s->repo->server_name)) < 0 ||
	    (error = ob_kv_add(&rec, "kind", prm->kind ? prm->kind : "FileFolder")) < 0 ||
	    (error = ob_kv_add(&rec, "job", prm->job_id ? prm->job_id : "")) < 0 ||
	    (error = ob_kv_add_i64(&rec, "retain_until", prm->retain_until)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "files", (int64_t)s->files_total)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "bytes", (int64_t)s->bytes_total)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "datasources", (int64_t)prm->source_count)) < 0)
		goto done;
	for (i = 0; i < prm->source_count; i++) {
		snprintf(key, sizeof(key), "ds%zu_id", i);
		if ((error = ob_kv_add_i64(&rec, key, prm->sources[i].id)) < 0)
			goto done;
		snprintf(key, sizeof(key), "ds%zu_name", i);
		if ((error = ob_kv_add(&rec, key, prm->sources[i].name)) < 0)
			goto done;
		snprintf(key, sizeof(key), "ds%zu_tree", i);
		ob_id_hex(hex, s->roots[i]);
		if ((error = ob_kv_add(&rec, key, hex)) < 0)
			goto done;
	}
	snprintf(aad, sizeof(aad), "obagent-snapshot-v1|%s", name + strlen(s->repo->prefix) + strlen("snapshots/"));
	if ((error = ob_object_seal(&sealed, s->repo, aad, rec.data, rec.len)) < 0)
		goto done;
	put_error = s->repo->vc.be->put(s->repo->vc.be, name, sealed.data, sealed.len);
	if (put_error < 0)
		snprintf(put_text, sizeof(put_text), "%s", ob_error_last());
	/* Verify: the point reads back and opens. */
	atomic_store(&s->pg->phase, OB_PHASE_VERIFY);
	{
		void *back = NULL;
		size_t back_len;
		uint8_t *plain = NULL;
		size_t plen;
		if ((error = s->repo->vc.be->get(&back, &back_len, s->repo->vc.be, name, 0, 0)) == 0)
			error = ob_object_open(&plain, &plen, s->repo, aad, back, back_len);
		free(back);
		free(plain);
	}
	/*
	 * One truth: a point that reads back whole is committed, whatever the put said
	 * (it can fail after the object is in place, e.g. syncing its folder); the
	 * job then warns instead of failing. A put that failed and left no whole point
	 * fails the job, and what it left is removed, so no point of a Failed job lists.
	 */
	if (put_error == OB_EEXISTS && error == 0) {
		ob_error_clear();  /* a retried put found its own first attempt: the name holds 64 random bits */
	} else if (put_error < 0 && error == 0) {
		char what[128];
		ob_buf reason = OB_BUF_INIT;
		snprintf(what, sizeof(what), "recovery point %s", name + strlen(s->repo->prefix) + strlen("snapshots/"));
		if (ob_buf_printf(&reason, "%s The point was written and reads back whole, but the vault did not confirm it "
			"is stored durably: check the vault's disk or storage.", put_text) == 0 && prm->on_failed)
			prm->on_failed(what, reason.data, prm->payload);
		ob_buf_dispose(&reason);
		ob_error_clear();
	} else if (put_error < 0 || error < 0) {
		if (put_error == 0) {
			put_error = error;
			snprintf(put_text, sizeof(put_text), "%s", ob_error_last());
		}
		if (put_error != OB_EEXISTS && s->repo->vc.be->remove)
			s->repo->vc.be->remove(s->repo->vc.be, name);
		error = ob_err(put_error, OB_ERRCLASS_VAULT, "%s", put_text);
		goto done;
	}
	atomic_fetch_add(&s->pg->bytes_uploaded, sealed.len);
	if (!(*out_point = ob_strdup(name + strlen(s->repo->prefix) + strlen("snapshots/"))))
		error = OB_ENOMEM;
done:
	ob_buf_dispose(&rec);
	ob_buf_dispose(&sealed);
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
	atomic_store(&s.pg->phase, OB_PHASE_PREPARE);
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
	/* The data sources are named in the clear, so that other servers can list them without a key. */
	for (k = 0; k < prm->source_count; k++) {
		ob_buf rec = OB_BUF_INIT;
		char name[160];
		snprintf(name, sizeof(name), "%ssources/%lld", prm->repo->prefix, (long long)prm->sources[k].id);
		if ((error = ob_kv_begin(&rec, "source", 1)) == 0 &&
		    (error = ob_kv_add_i64(&rec, "id", prm->sources[k].id)) == 0 &&
		    (error = ob_kv_add(&rec, "name", prm->sources[k].name)) == 0 &&
		    (error = ob_kv_add(&rec, "kind", prm->kind ? prm->kind : "FileFolder")) == 0)
			error = prm->repo->vc.be->put(prm->repo->vc.be, name, rec.data, rec.len);
		ob_buf_dispose(&rec);
		if (error == OB_EEXISTS) {
			ob_error_clear();
			error = 0;
		}
		if (error < 0)
			goto cleanup;
	}
	if ((error = ob_chunk_lookup_open(&s.has_chunk, prm->agent->cat)) < 0)
		goto cleanup;
	/* A first backup asks the cache nothing: one read transaction per chunk is most of its catalog work. */
	s.cache_empty = ob_chunk_cache_empty(prm->agent->cat);
	if ((error = ob_damage_prepare_backup(&s.damaged, prm->agent)) < 0)
		goto cleanup;
	/* Rows staged by a run that did not commit its point are not to be trusted. */
	if ((error = ob_file_cache_stage_clear(prm->agent->cat)) < 0)
		goto cleanup;

	atomic_store(&s.pg->phase, OB_PHASE_TRANSFER);
	if (pthread_create(&syncer, NULL, ob_backup_syncer_main, &s) != 0) {
		error = ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the sync thread.");
		goto cleanup;
	}
	sync_started = 1;
	/* A local vault is a disk that one writer keeps busy; a remote one answers each request after a round trip. */
	s.uploaders = s.repo->vc.azure ? REMOTE_UPLOADERS : 1;
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
	atomic_store(&s.pg->phase, OB_PHASE_METADATA);
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
	atomic_store(&s.pg->phase, OB_PHASE_DONE);
	ob_catalog_setting_delete(prm->agent->cat, UNCLEAN_KEY);

cleanup:
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

