#define _GNU_SOURCE
/*
 * Restore drills (docs/JOBS.md, "The drill job"): the full check of the newest
 * point, a random sample of its files restored into a scratch folder and
 * compared with what the point records, the scratch folder removed. The
 * comparison re-chunks each restored file with the server's chunker and hashes
 * each chunk into its id with the server's id key (ob_repo_blob_id): the ids a
 * file's tree entry lists are keyed hashes of its content at backup time, so
 * the restored bytes match exactly when they give the same list.
 */
#include "obagent/drill.h"
#include "obagent/recovery.h"
#include "agent/agent_internal.h"
#include "agent/lock.h"
#include "agent/locate.h"
#include "catalog/drill.h"
#include "jobs/drill_internal.h"
#include "restore/restore.h"
#include "vault/chunker.h"
#include "vault/crypto.h"
#include "vault/repo.h"
#include "vault/snapshot.h"
#include "vault/tree.h"
#include "util/env.h"
#include "util/error.h"
#include "util/util.h"
#include "platform/file.h"
#include "platform/platform.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the sample ---- */

typedef struct sample_file {
	int64_t ds;            /* its data source */
	char *rel;             /* relative to the data source's root, '/'-separated */
	char *shown;           /* as the check names it: the data source's name and rel */
	uint64_t size;
	uint8_t *chunks;       /* chunk_count * 32 bytes: what the point records */
	size_t chunk_count;
} sample_file;

typedef struct walk_ctx {
	ob_recovery *rec;
	const char *damaged;   /* the check's report: files named there are not sampled again */
	int64_t ds;
	const char *ds_name;
	char *folder;          /* relative, "" at the root */
	sample_file pick[OB_DRILL_SAMPLE_FILES];
	size_t npick;
	uint64_t seen;         /* files met */
	uint64_t rng;
	int error;
} walk_ctx;

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: a uniform enough choice of files; the seed is random (ob_random). */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void sample_dispose(sample_file *f)
{
	free(f->rel);
	free(f->shown);
	free(f->chunks);
	memset(f, 0, sizeof(*f));
}

/* Whether the check's report names path (one "path<TAB>what" line each). */
static int report_names(const char *report, const char *path)
{
	size_t n = strlen(path);
	const char *p = report;

	while (p && *p) {
		if (!strncmp(p, path, n) && p[n] == '\t')
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static char *join_rel(const char *folder, const char *name, size_t len)
{
	size_t fl = strlen(folder);
	char *s = malloc(fl + len + 2);

	if (!s)
		return NULL;
	if (fl)
		sprintf(s, "%s/%.*s", folder, (int)len, name);
	else
		sprintf(s, "%.*s", (int)len, name);
	return s;
}

static int walk_tree(walk_ctx *w, const uint8_t *tree_id);

/* A file joins the reservoir: the first ones fill it, then each replaces one with the odds that keep it uniform. */
static int offer_file(walk_ctx *w, const ob_entry *e, const char *rel)
{
	sample_file f;
	size_t slot;
	const char *root = strcmp(w->ds_name, "/") ? w->ds_name : "";

	w->seen++;
	if (w->npick < OB_DRILL_SAMPLE_FILES) {
		slot = w->npick;
	} else {
		uint64_t r = rng_next(&w->rng) % w->seen;
		if (r >= OB_DRILL_SAMPLE_FILES)
			return 0;
		slot = (size_t)r;
	}
	memset(&f, 0, sizeof(f));
	f.ds = w->ds;
	f.size = e->size;
	f.chunk_count = e->chunk_count;
	f.rel = strdup(rel);
	f.shown = malloc(strlen(root) + strlen(rel) + 2);
	f.chunks = malloc(e->chunk_count ? e->chunk_count * OB_ID_BYTES : 1);
	if (!f.rel || !f.shown || !f.chunks) {
		sample_dispose(&f);
		return ob_err_nomem();
	}
	sprintf(f.shown, "%s/%s", root, rel);
	if (e->chunk_count)
		memcpy(f.chunks, e->chunks, e->chunk_count * OB_ID_BYTES);
	if (slot < w->npick)
		sample_dispose(&w->pick[slot]);
	else
		w->npick++;
	w->pick[slot] = f;
	return 0;
}

static int walk_cb(const ob_entry *e, void *payload)
{
	walk_ctx *w = payload;
	char *rel = join_rel(w->folder, e->name, e->name_len);

	if (!rel) {
		w->error = ob_err_nomem();
		return 1;
	}
	if (e->type == OB_TREE_DIR) {
		char *saved = w->folder;
		int rc;
		w->folder = rel;
		if ((rc = walk_tree(w, e->subtree)) < 0)
			w->error = rc;
		w->folder = saved;
	} else if (e->type == OB_TREE_FILE && e->nlink <= 1) {
		/* A further name of a hard-linked file restores as a link to its first name: those are left out. */
		const char *root = strcmp(w->ds_name, "/") ? w->ds_name : "";
		char *shown = malloc(strlen(root) + strlen(rel) + 2);
		if (!shown) {
			w->error = ob_err_nomem();
		} else {
			sprintf(shown, "%s/%s", root, rel);
			if (!report_names(w->damaged, shown))
				w->error = offer_file(w, e, rel);
			free(shown);
		}
	}
	free(rel);
	return w->error < 0 ? 1 : 0;
}

static int walk_tree(walk_ctx *w, const uint8_t *tree_id)
{
	uint8_t *tree = NULL;
	size_t len;
	int rc;

	rc = ob_fetch_blob(&tree, &len, ob_recovery_locator(w->rec), OB_BLOB_TREE, tree_id);
	if (rc == OB_ECORRUPT) {
		/* The check named this folder already. */
		ob_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = ob_tree_parse(tree, len, walk_cb, w);
	free(tree);
	if (w->error < 0)
		return w->error;
	if (rc == OB_ECORRUPT) {
		ob_error_clear();
		return 0;
	}
	return rc < 0 ? rc : 0;
}

/*
 * The files to restore: the reservoir in random order, taken while fewer than
 * OB_DRILL_SAMPLE_FILES are taken and their bytes stay within OB_DRILL_SAMPLE_BYTES
 * (a file that would go over is passed over); when none fits, the smallest one alone.
 * take[i] is set for those taken.
 */
static void choose(walk_ctx *w, int *take)
{
	uint64_t bytes = 0;
	size_t i, taken = 0, smallest = 0;

	for (i = w->npick; i > 1; i--) {
		size_t j = (size_t)(rng_next(&w->rng) % i);
		sample_file t = w->pick[i - 1];
		w->pick[i - 1] = w->pick[j];
		w->pick[j] = t;
	}
	for (i = 0; i < w->npick; i++) {
		take[i] = 0;
		if (w->pick[i].size < w->pick[smallest].size)
			smallest = i;
		if (taken < OB_DRILL_SAMPLE_FILES && w->pick[i].size <= OB_DRILL_SAMPLE_BYTES - bytes) {
			take[i] = 1;
			taken++;
			bytes += w->pick[i].size;
		}
	}
	if (!taken && w->npick)
		take[smallest] = 1;
}

/* ---- comparing a restored file with the point ---- */

int ob_drill_compare_file(char *why, size_t why_size, ob_repo *repo, const char *path, uint64_t size,
	const uint8_t *chunks, size_t chunk_count)
{
	const size_t cap = 2 * OB_CHUNK_MAX;
	ob_file *h = NULL;
	ob_file_info st;
	uint8_t *buf, id[OB_ID_BYTES];
	size_t have = 0, start = 0, k = 0;
	uint64_t off = 0, pos = 0;
	int eof = 0, rc = 0;

	if (ob_file_open(&h, path) < 0) {
		snprintf(why, why_size, "the drill could not open the restored copy: %s", ob_platform_reason());
		return 1;
	}
	if (ob_file_stat(&st, h) < 0) {
		snprintf(why, why_size, "the drill could not look at the restored copy: %s", ob_platform_reason());
		ob_file_close(h);
		return 1;
	}
	if (st.size != size) {
		snprintf(why, why_size, "the restored copy is %" PRIu64 " bytes; the recovery point records %" PRIu64 " bytes",
			st.size, size);
		ob_file_close(h);
		return 1;
	}
	if (!(buf = malloc(cap))) {
		ob_file_close(h);
		return ob_err_nomem();
	}
	for (;;) {
		size_t cut;
		if (!eof && have - start < OB_CHUNK_MAX) {
			memmove(buf, buf + start, have - start);
			have -= start;
			start = 0;
			while (have < cap && !eof) {
				size_t got = 0;
				if (ob_file_read_at(&got, h, buf + have, cap - have, off) < 0) {
					snprintf(why, why_size, "the drill could not read the restored copy: %s", ob_platform_reason());
					rc = 1;
					goto done;
				}
				if (got == 0)
					eof = 1;
				have += got;
				off += got;
			}
		}
		if (have == start)
			break;
		if ((cut = ob_chunker_cut(&repo->chunker, buf + start, have - start, eof)) == 0)
			cut = have - start;   /* not reached: with OB_CHUNK_MAX bytes or the end there is a cut */
		ob_repo_blob_id(id, repo, buf + start, cut);
		if (k >= chunk_count || memcmp(id, chunks + k * OB_ID_BYTES, OB_ID_BYTES)) {
			snprintf(why, why_size, "the restored content differs from what the recovery point records, from byte "
				"%" PRIu64 " on (block %zu of %zu)", pos, k + 1, chunk_count);
			rc = 1;
			goto done;
		}
		k++;
		start += cut;
		pos += cut;
	}
	if (k != chunk_count) {
		snprintf(why, why_size, "the restored content ends after %zu of the %zu blocks the recovery point records",
			k, chunk_count);
		rc = 1;
	}
done:
	free(buf);
	ob_file_close(h);
	return rc;
}

/* ---- the scratch folder ---- */

/* Remove name of parent and all below it (never following a link). */
static int remove_tree_at(ob_file *parent, const char *name)
{
	ob_file_info st;
	ob_file *d = NULL;
	ob_dir *ls = NULL;
	char **names = NULL;
	const char *n;
	size_t count = 0, cap = 0, i;
	int error = 0;

	if (ob_file_stat_at(&st, parent, name) < 0)
		return ob_platform_failure() == OB_FAILURE_ABSENT ? 0 : ob_platform_fail("Cannot look at", name);
	if (st.type != OB_FILE_DIR)
		return ob_file_remove_at(parent, name, 0) < 0 ? ob_platform_fail("Cannot remove", name) : 0;
	if (ob_file_open_dir_at(&d, parent, name) < 0 || ob_dir_open_file(&ls, d) < 0) {
		ob_file_close(d);
		return ob_platform_fail("Cannot open", name);
	}
	/* The names first: removing while listing may skip some. */
	while (error == 0 && ob_dir_next(ls, &n) == 1) {
		if (count == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*v));
			if (!v) {
				error = ob_err_nomem();
				break;
			}
			names = v;
		}
		if (!(names[count] = strdup(n)))
			error = ob_err_nomem();
		else
			count++;
	}
	ob_dir_close(ls);
	for (i = 0; i < count; i++) {
		if (error == 0)
			error = remove_tree_at(d, names[i]);
		free(names[i]);
	}
	free(names);
	ob_file_close(d);
	if (error == 0 && ob_file_remove_at(parent, name, 1) < 0)
		error = ob_platform_fail("Cannot remove", name);
	return error;
}

#define SCRATCH "drill"

static int scratch_remove(ob_agent *agent)
{
	ob_file *home = NULL;
	int error;

	if (ob_file_open_dir(&home, agent->home) < 0)
		return ob_platform_fail("Cannot open the state folder", agent->home);
	error = remove_tree_at(home, SCRATCH);
	ob_file_close(home);
	return error;
}

/* ---- the run ---- */

typedef struct drill_ctx {
	ob_drill_failed_cb on_failed;
	void *payload;
	size_t problems;
	ob_buf first;          /* the first problems, for the job's message */
} drill_ctx;

static int problem(drill_ctx *c, const char *path, const char *reason)
{
	c->problems++;
	if (c->problems <= 3)
		ob_buf_printf(&c->first, "%s'%s' (%s)", c->problems > 1 ? "; " : "", path, reason);
	return c->on_failed ? c->on_failed(path, reason, c->payload) : 0;
}

/* What the restore of the sample could not restore. */
static int restore_failed(const char *path, const char *reason, void *payload)
{
	ob_buf msg = OB_BUF_INIT;
	int rc;

	if (ob_buf_printf(&msg, "the drill could not restore it: %s", reason) < 0)
		return ob_err_nomem();
	rc = problem(payload, path, msg.data);
	ob_buf_dispose(&msg);
	return rc;
}

/* The check's report as problems: every file whose chunks, every folder whose listing, is damaged. */
static int report_problems(drill_ctx *c, char *report)
{
	char *line, *next;
	int error = 0;

	for (line = report; line && *line && error == 0; line = next) {
		char *tab;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if ((tab = strchr(line, '\t')) != NULL) {
			*tab = '\0';
			error = problem(c, line, tab + 1);
			*tab = '\t';
		}
		if (next)
			next[-1] = '\n';
	}
	return error;
}

int ob_drill_run(ob_agent *agent, const char *point_id, ob_progress *pg, ob_drill_failed_cb on_failed, void *payload)
{
	ob_recovery *rec = NULL;
	ob_kv kv;
	drill_ctx c;
	walk_ctx w;
	int take[OB_DRILL_SAMPLE_FILES];
	char *report = NULL, *scratch = NULL, key[32];
	uint64_t objects = 0;
	int64_t count = 0, i;
	size_t k;
	int error, kv_open = 0, cancelled = 0;

	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	c.on_failed = on_failed;
	c.payload = payload;
	if (!point_id || !*point_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_JOB, "The drill job names no recovery point.");
	if ((error = ob_recovery_open(&rec, agent, NULL, NULL, 0)) < 0)
		return error;

	/* 1. The point in full, as Test-OBRecoveryPoint checks it. */
	ob_progress_enter(pg, OB_PHASE_DRILL_CHECK);
	error = ob_recovery_test(&report, &objects, rec, point_id);
	if (error < 0 && error != OB_ECORRUPT)
		goto done;
	ob_error_clear();
	if ((error = report_problems(&c, report)) < 0)
		goto done;
	if (atomic_load(&pg->cancel)) {
		cancelled = 1;
		goto done;
	}

	/* 2. A random sample of its files, restored into the scratch folder and compared. */
	ob_progress_enter(pg, OB_PHASE_DRILL_SAMPLE);
	if ((error = ob_snapshot_read(&kv, ob_recovery_repo(rec), point_id)) == OB_ECORRUPT) {
		ob_error_clear();
		error = 0;   /* the check named the point's record: nothing in it can be sampled */
		goto check_done;
	}
	if (error < 0)
		goto done;
	kv_open = 1;
	w.rec = rec;
	w.damaged = report ? report : "";
	if ((error = ob_random(&w.rng, sizeof(w.rng))) < 0)
		goto done;
	w.rng |= 1;
	ob_kv_get_i64(&count, &kv, "datasources");
	for (i = 0; i < count; i++) {
		uint8_t root[OB_ID_BYTES];
		char *name = NULL;
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		if (ob_kv_get_i64(&w.ds, &kv, key) < 0 || ob_snapshot_root(root, &name, &kv, w.ds) < 0) {
			ob_error_clear();
			continue;   /* the check named it */
		}
		w.ds_name = name;
		w.folder = "";
		error = walk_tree(&w, root);
		w.ds_name = NULL;
		free(name);
		if (error < 0)
			goto done;
	}
	choose(&w, take);
	if ((error = scratch_remove(agent)) < 0 || !(scratch = ob_platform_join(agent->home, SCRATCH)) ||
	    (error = ob_platform_mkdir_p(scratch, 0700)) < 0) {
		if (!scratch && error == 0)
			error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < count && !cancelled; i++) {
		ob_restore_run run;
		const char *items[OB_DRILL_SAMPLE_FILES];
		char sub[40], *dest = NULL;
		int64_t ds;
		size_t n = 0;
		snprintf(key, sizeof(key), "ds%lld_id", (long long)i);
		if (ob_kv_get_i64(&ds, &kv, key) < 0)
			continue;
		for (k = 0; k < w.npick; k++)
			if (take[k] && w.pick[k].ds == ds)
				items[n++] = w.pick[k].rel;
		if (!n)
			continue;
		snprintf(sub, sizeof(sub), "ds%lld", (long long)ds);
		if (!(dest = ob_platform_join(scratch, sub))) {
			error = ob_err_nomem();
			goto cleanup;
		}
		memset(&run, 0, sizeof(run));
		run.repo = ob_recovery_repo(rec);
		run.locator = ob_recovery_locator(rec);
		run.point_id = point_id;
		run.datasource_id = ds;
		run.items = items;
		run.item_count = n;
		run.destination = dest;
		run.overwrite = OB_OVERWRITE_OVERWRITE;
		run.skip_security = 1;   /* the content is drilled; owners need not exist here */
		run.progress = pg;
		run.on_failed = restore_failed;
		run.payload = &c;
		error = ob_restore_execute(&run);
		ob_repo_skipped_take(run.repo, ob_repo_skip_to_stderr, NULL, NULL);
		if (error == OB_ECANCELLED) {
			cancelled = 1;
			error = 0;
		} else if (error == OB_ECORRUPT || error == OB_EIO) {
			ob_error_clear();   /* each failed item was reported */
			error = 0;
		} else if (error < 0) {
			free(dest);
			goto cleanup;
		}
		for (k = 0; k < w.npick && !cancelled; k++) {
			char why[512], *path;
			int rc;
			if (!take[k] || w.pick[k].ds != ds)
				continue;
			if (!(path = ob_platform_join(dest, w.pick[k].rel))) {
				error = ob_err_nomem();
				break;
			}
			rc = ob_drill_compare_file(why, sizeof(why), ob_recovery_repo(rec), path, w.pick[k].size, w.pick[k].chunks,
				w.pick[k].chunk_count);
			free(path);
			if (rc < 0) {
				error = rc;
				break;
			}
			if (rc == 1 && (error = problem(&c, w.pick[k].shown, why)) < 0)
				break;
		}
		free(dest);
		if (error < 0)
			goto cleanup;
	}
cleanup:
	/* 3. The scratch folder goes, whatever happened: what could not be removed is a warning. */
	{
		int rm = scratch_remove(agent);
		if (rm < 0) {
			if (on_failed)
				on_failed(scratch ? scratch : SCRATCH, ob_error_last(), payload);
			ob_error_clear();
		}
	}
	if (error < 0)
		goto done;
check_done:
	if (cancelled || atomic_load(&pg->cancel)) {
		error = ob_err(OB_ECANCELLED, OB_ERRCLASS_JOB, "The recovery drill was stopped.");
		goto done;
	}
	if (c.problems)
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The recovery drill of recovery point %s failed: %zu item(s) did "
			"not match what the point records: %s%s. The job's failed items (Get-OBJob) list them all; run "
			"Test-OBRecoveryPoint and back up again.", point_id, c.problems, c.first.data ? c.first.data : "",
			c.problems > 3 ? "; ..." : "");
done:
	if (cancelled && error == 0)
		error = ob_err(OB_ECANCELLED, OB_ERRCLASS_JOB, "The recovery drill was stopped.");
	for (k = 0; k < w.npick; k++)
		sample_dispose(&w.pick[k]);
	if (kv_open)
		ob_kv_dispose(&kv);
	ob_buf_dispose(&c.first);
	free(scratch);
	ob_str_free(report);
	ob_recovery_free(rec);
	return error;
}

/* ---- outcome, schedule ---- */

void ob_drill_outcome(ob_agent *agent, const char *job_id, int state, int64_t end, const char *message)
{
	/* The fleet report and the notifications (issue 17) take the outcome from here. */
	if (ob_catalog_drill_outcome(agent->cat, job_id, state, end, message) < 0)
		ob_error_clear();
}

/* The stored schedule text of days and times: weekly, anchored nowhere in particular. */
static int drill_schedule(ob_schedule *out, unsigned int days, const int *times, size_t n)
{
	ob_schedule s = OB_SCHEDULE_INIT;
	size_t i;

	s.days = days;
	s.time_count = n;
	for (i = 0; i < n && i < OB_SCHEDULE_MAX_TIMES; i++)
		s.times[i] = times[i];
	s.weekly_frequency = 1;
	s.anchor_date = 0;
	*out = s;
	return ob_schedule_validate(out);
}

int ob_drill_schedule_set(ob_agent *agent, unsigned int days, const int *times, size_t time_count)
{
	ob_schedule s;
	char *text = NULL;
	int64_t now;
	int error;

	if (!agent)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "ob_drill_schedule_set needs an agent.");
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if (days == 0 && time_count == 0)
		return ob_catalog_drill_schedule_set(agent->cat, NULL, now);
	if (days == 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "DaysOfWeek: give at least one day for the drills.");
	if (time_count == 0 || !times)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "TimesOfDay: give at least one time of day for the drills.");
	if (time_count > OB_SCHEDULE_MAX_TIMES)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "TimesOfDay: drills run at most %d times a day.",
			OB_SCHEDULE_MAX_TIMES);
	if ((error = drill_schedule(&s, days, times, time_count)) < 0)
		return error;
	if ((error = ob_schedule_to_string(&text, &s)) < 0)
		return error;
	error = ob_catalog_drill_schedule_set(agent->cat, text, now);
	ob_str_free(text);
	return error;
}

int ob_drill_get(ob_drill_info **out, ob_agent *agent)
{
	ob_catalog_drill d;
	ob_drill_info *info;
	ob_schedule s;
	int64_t now;
	int error;

	if (!out || !agent)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "ob_drill_get needs an out pointer and an agent.");
	*out = NULL;
	if ((error = ob_clock_now(&now)) < 0 || (error = ob_catalog_drill_get(&d, agent->cat)) < 0)
		return error;
	if (!(info = calloc(1, sizeof(*info)))) {
		ob_catalog_drill_dispose(&d);
		return ob_err_nomem();
	}
	info->version = OB_DRILL_INFO_VERSION;
	info->sample_files = OB_DRILL_SAMPLE_FILES;
	info->sample_bytes = OB_DRILL_SAMPLE_BYTES;
	if (d.schedule && ob_schedule_from_string(&s, d.schedule) == 0) {
		size_t i;
		info->scheduled = 1;
		info->days = s.days;
		info->time_count = s.time_count;
		for (i = 0; i < s.time_count; i++)
			info->times[i] = s.times[i];
		if (ob_schedule_next(&info->next_run, &s, now) < 0)
			info->next_run = 0;
	}
	ob_error_clear();
	info->last_state = d.last_state;
	info->last_time = d.last_end;
	info->last_job_id = d.last_job;
	info->last_message = d.last_message;
	d.last_job = d.last_message = NULL;
	ob_catalog_drill_dispose(&d);
	*out = info;
	return 0;
}

void ob_drill_info_free(ob_drill_info *info)
{
	if (!info)
		return;
	free(info->last_job_id);
	free(info->last_message);
	free(info);
}

int ob_drill_run_due(ob_job_info **out, int64_t *out_next, ob_agent *agent, int64_t now)
{
	ob_catalog_drill d;
	ob_schedule s;
	int64_t last, slot = 0;
	int missed = 0, error;

	*out = NULL;
	*out_next = 0;
	if ((error = ob_catalog_drill_get(&d, agent->cat)) < 0)
		return error;
	if (!d.schedule || ob_schedule_from_string(&s, d.schedule) < 0) {
		ob_error_clear();
		goto done;   /* no schedule: no drill runs by itself */
	}
	if (ob_schedule_next(out_next, &s, now) < 0)
		*out_next = 0;
	/* The last scheduled drill, or else when the schedule was set: no drill for times before it. */
	last = d.last_run > d.modified_at ? d.last_run : d.modified_at;
	if ((error = ob_schedule_missed(&missed, &slot, &s, last, now)) < 0 || !missed)
		goto done;
	/* Remember the run before starting it: one drill for any number of missed times. */
	if ((error = ob_catalog_drill_last_run_set(agent->cat, now)) < 0)
		goto done;
	error = ob_drill_start(out, agent);
	/* A due drill that cannot start (another job runs, no point, no passphrase) is a failed drill, never a silent one. */
	if (error == OB_ELOCKED || error == OB_ENOTFOUND || error == OB_ENOKEY) {
		char id[37];
		ob_guid_new(id);
		ob_catalog_drill_record_refused(agent->cat, id, now, error, ob_error_last());
		ob_error_clear();
		error = 0;
	}
done:
	ob_catalog_drill_dispose(&d);
	return error;
}
