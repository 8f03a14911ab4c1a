#define _GNU_SOURCE
/* Jobs: records in the catalog, one at a time per server, run by a detached worker process. */
#include "obagent/job.h"
#include "obagent/policy.h"
#include "agent/agent_internal.h"
#include "agent/repo_open.h"
#include "catalog/jobs.h"
#include "backup/backup.h"
#include "util/env.h"
#include "util/error.h"
#include "vault/repo.h"
#include "restore/restore.h"
#include "jobs/mount.h"
#include "vault/snapshot.h"
#include "policy/expiry.h"
#include "obagent/systemstate.h"
#include "agent/lock.h"
#include "policy/policy_internal.h"
#include "platform/file.h"
#include "platform/platform.h"
#include "platform/process.h"
#include "catalog/drill.h"
#include "jobs/drill_internal.h"
#include "jobs/ended.h"
#include "obagent/drill.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


const char *ob_job_state_name(int state)
{
	switch (state) {
	case OB_JOB_INPROGRESS: return "InProgress";
	case OB_JOB_COMPLETED: return "Completed";
	case OB_JOB_COMPLETED_WITH_WARNING: return "CompletedWithWarning";
	case OB_JOB_FAILED: return "Failed";
	case OB_JOB_ABORTED: return "Aborted";
	default: return "Unknown";
	}
}

int ob_job_percent_complete(const ob_job_info *j)
{
	uint64_t pct;

	if (!j)
		return -1;
	if (j->state == OB_JOB_COMPLETED || j->state == OB_JOB_COMPLETED_WITH_WARNING)
		return 100;
	if (!j->bytes_scanned)
		return -1;
	pct = j->bytes_done >= j->bytes_scanned ? 100 : j->bytes_done * 100 / j->bytes_scanned;
	if (j->state == OB_JOB_INPROGRESS && pct > 99)
		pct = 99;   /* the point's metadata and its check are still to come */
	return (int)pct;
}

/*
 * MARS's backup sequence is the engine's backup phases, OB_PHASE_INIT to
 * OB_PHASE_DONE, in the order a backup enters them (util/progress.c).
 */
int ob_job_phase_lines(const char **out, size_t max, int *written, const char *phase)
{
	int at, i, n = 0;

	if (!written || !phase || (max && !out))
		return -1;
	for (at = OB_PHASE_INIT; at <= OB_PHASE_DONE; at++)
		if (!strcmp(phase, ob_progress_phase_text[at]))
			break;
	if (at > OB_PHASE_DONE)
		return -1;
	if (*written < -1)
		*written = -1;
	for (i = *written + 1; i <= at && (size_t)n < max; i++)
		out[n++] = ob_progress_phase_text[i];
	*written += n;
	return n;
}

void ob_job_info_free(ob_job_info *j)
{
	if (!j)
		return;
	free(j->job_id);
	free(j->phase);
	free(j->error_message);
	free(j->datasources);
	free(j->recovery_point);
	free(j);
}

void ob_job_list_free(ob_job_info **list, size_t count)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < count; i++)
		ob_job_info_free(list[i]);
	free(list);
}

/* Jobs whose process is gone are marked Failed: mounts (their stale mount points unmounted), then the others. */
static void reap(ob_agent *agent)
{
	ob_mount_reap(agent);
	ob_job_lock_reap(agent);
}

static char *dup_text(const char *t)
{
	return t ? strdup(t) : NULL;
}

static ob_job_info *row_to_info(const ob_catalog_job *row)
{
	ob_job_info *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->version = OB_JOB_INFO_VERSION;
	j->job_id = dup_text(row->id);
	j->type = row->type;
	j->state = row->state;
	j->start_time = row->start_time;
	j->end_time = row->end_time;
	j->phase = dup_text(row->phase);
	j->error_code = row->error_code;
	j->error_message = dup_text(row->error_message);
	j->files_scanned = (uint64_t)row->files_scanned;
	j->files_done = (uint64_t)row->files_done;
	j->files_failed = (uint64_t)row->files_failed;
	j->bytes_scanned = (uint64_t)row->bytes_scanned;
	j->bytes_done = (uint64_t)row->bytes_done;
	j->bytes_uploaded = (uint64_t)row->bytes_uploaded;
	j->datasource_id = row->datasource_id;
	j->datasources = dup_text(row->datasources);
	j->recovery_point = dup_text(row->recovery_point);
	if (!j->job_id) {
		ob_job_info_free(j);
		return NULL;
	}
	return j;
}

static int info_cb(const ob_catalog_job *row, void *payload)
{
	ob_job_info **out = payload;

	return (*out = row_to_info(row)) ? 0 : ob_err_nomem();
}

/* The latest job with this id, or (id NULL) the job in progress: OB_ENOTFOUND, no message, when none. */
static int query_one(ob_job_info **out, ob_agent *agent, const char *id)
{
	*out = NULL;
	return ob_catalog_job_get(agent->cat, id, info_cb, out);
}

int ob_job_get(ob_job_info **out, ob_agent *agent, const char *job_id)
{
	int error;

	reap(agent);
	error = query_one(out, agent, job_id ? job_id : "");
	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB, "There is no job '%s'.", job_id ? job_id : "");
	return error;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ob_job_wait(ob_job_info **out, ob_agent *agent, const char *job_id, unsigned int timeout_ms)
{
	char *path;
	int watch = -1, error;
	int64_t deadline = now_ms() + timeout_ms;

	*out = NULL;
	/* A job whose process is gone is marked first; the watch starts after (reaping opens the lock). */
	reap(agent);
	if (!(path = ob_job_lock_path(agent)))
		return ob_err_nomem();
	ob_platform_watch_open(&watch, path);
	free(path);
	for (;;) {
		int64_t left;
		if ((error = query_one(out, agent, job_id ? job_id : "")) < 0)
			break;
		left = deadline - now_ms();
		if ((*out)->state != OB_JOB_INPROGRESS || left <= 0)
			break;
		ob_job_info_free(*out);
		*out = NULL;
		/* The worker closes the lock right after it records the job's end. */
		ob_platform_watch_wait(watch, (int)left);
	}
	ob_platform_watch_close(watch);
	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB, "There is no job '%s'.", job_id ? job_id : "");
	return error;
}

int ob_job_current(ob_job_info **out, ob_agent *agent)
{
	int error;

	reap(agent);
	error = query_one(out, agent, NULL);
	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB, "No job is in progress.");
	return error;
}

typedef struct job_list {
	ob_job_info **v;
	size_t n, cap;
} job_list;

static int list_cb(const ob_catalog_job *row, void *payload)
{
	job_list *l = payload;

	if (!(l->v[l->n] = row_to_info(row)))
		return ob_err_nomem();
	return ++l->n < l->cap ? 0 : 1;
}

int ob_job_list(ob_job_info ***out, size_t *out_count, ob_agent *agent, size_t max, int filter)
{
	job_list l = { NULL, 0, max > 4096 ? 4096 : max };
	int error;

	*out = NULL;
	*out_count = 0;
	reap(agent);
	if (max == 0)
		return 0;
	if (!(l.v = calloc(l.cap, sizeof(*l.v))))
		return ob_err_nomem();
	if ((error = ob_catalog_jobs_list(agent->cat, filter, (int64_t)(max > INT32_MAX ? INT32_MAX : max), list_cb, &l)) < 0) {
		ob_job_list_free(l.v, l.n);
		return error;
	}
	*out = l.v;
	*out_count = l.n;
	return 0;
}

int ob_job_stop(ob_agent *agent, const char *job_id)
{
	int changed = 0, error;

	reap(agent);
	if ((error = ob_catalog_job_request_stop(&changed, agent->cat, job_id ? job_id : "")) < 0)
		return error;
	if (!changed)
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB, "Job '%s' is not in progress.", job_id ? job_id : "");
	return 0;
}

static int failed_file_cb(const char *path, const char *reason, void *payload)
{
	return ob_buf_printf(payload, "%s\t%s\n", path, reason);
}

int ob_job_failed_files(char **out, ob_agent *agent, const char *job_id)
{
	ob_buf b = OB_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = ob_catalog_job_failed_files(agent->cat, job_id ? job_id : "", failed_file_cb, &b)) < 0) {
		ob_buf_dispose(&b);
		return error;
	}
	*out = ob_buf_detach(&b);
	return *out ? 0 : ob_err_nomem();
}

/* ---- starting a job ---- */

static int worker_path(char **out)
{
	char *dir = NULL;
	int error;

	if ((*out = ob_env_get("OBAGENT_WORKER")) != NULL)
		return 0;
	if ((error = ob_platform_library_dir(&dir)) < 0)
		return error;
	*out = ob_platform_join(dir, OB_PLATFORM_RUNNER);
	free(dir);
	if (!*out)
		return ob_err_nomem();
	if (!ob_process_runnable(*out)) {
		error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB,
			"The job runner '%s' is missing: obagent is not installed whole. Reinstall it.", *out);
		free(*out);
		*out = NULL;
	}
	return error;
}

/*
 * Whether the host asked, in OBAGENT_WORKER_ENV (names separated by spaces, commas or colons), to
 * hand this variable to its workers as well: a preloaded library's settings, in tests. No OBAGENT_
 * variable passes so (spawn_worker sets the agent's own), so neither a passphrase nor a key does.
 */
static int env_asked(const char *entry, const char *asked)
{
	const char *eq = strchr(entry, '='), *p = asked;
	size_t len = eq ? (size_t)(eq - entry) : 0;

	if (!asked || !len || !strncmp(entry, "OBAGENT_", 8))
		return 0;
	while (*p) {
		size_t n = strcspn(p, " ,:");
		if (n == len && strncmp(p, entry, len) == 0)
			return 1;
		p += n;
		p += strspn(p, " ,:");
	}
	return 0;
}

/* "NAME=value" into a malloc'd string, or NULL. */
static char *env_entry(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *e = malloc(n);

	if (e)
		snprintf(e, n, "%s=%s", name, value);
	return e;
}

static int spawn_worker(ob_agent *agent, const char *job_id, int lock_fd, int key_fd)
{
	char *worker = NULL, *log = NULL, fdtext[16], keytext[16], *now = ob_env_get("OBAGENT_NOW");
	char *asked = ob_env_get("OBAGENT_WORKER_ENV");
	const char *argv[10];
	int keep[2] = { lock_fd, key_fd };
	char **envp = NULL, *home_var = NULL, *name_var = NULL, *now_var = NULL;
	const char *const *env = ob_process_environment();
	size_t n = 0, i;
	int error;

	if ((error = worker_path(&worker)) < 0)
		goto done;
	if (!(log = ob_platform_join(agent->home, "worker.log"))) {
		error = ob_err_nomem();
		goto done;
	}
	snprintf(fdtext, sizeof(fdtext), "%d", lock_fd);
	argv[0] = worker;
	argv[1] = "run-job";
	argv[2] = "--job";
	argv[3] = job_id;
	argv[4] = "--lock-fd";
	argv[5] = fdtext;
	argv[6] = NULL;
	if (key_fd >= 0) {
		snprintf(keytext, sizeof(keytext), "%d", key_fd);
		argv[6] = "--key-fd";
		argv[7] = keytext;
		argv[8] = NULL;
	}
	/*
	 * The worker holds the server's keys and outlives its caller: it is given an environment of its
	 * own, this agent's home, name and clock and only what it needs to run (the search path,
	 * locale, time zone: ob_process_env_needed), whatever the caller's holds (a passphrase in
	 * OBAGENT_PASSPHRASE, an owner's key in OBAGENT_OWNER_KEY, anything else of the caller's).
	 */
	for (n = 0; env && env[n]; n++)
		;
	if (!(envp = calloc(n + 4, sizeof(char *)))) {
		error = ob_err_nomem();
		goto done;
	}
	home_var = env_entry("OBAGENT_HOME", agent->home);
	name_var = env_entry("OBAGENT_SERVER_NAME", agent->server_name);
	if (!home_var || !name_var || (now && !(now_var = env_entry("OBAGENT_NOW", now)))) {
		error = ob_err_nomem();
		goto done;
	}
	n = 0;
	envp[n++] = home_var;
	envp[n++] = name_var;
	if (now_var)
		envp[n++] = now_var;
	for (i = 0; env && env[i]; i++)
		if (ob_process_env_needed(env[i]) || env_asked(env[i], asked))
			envp[n++] = (char *)env[i];
	envp[n] = NULL;
	error = ob_platform_spawn_detached(argv, (const char *const *)envp, keep, key_fd >= 0 ? 2 : 1, log);
done:
	free(worker);
	free(log);
	free(now);
	free(asked);
	free(home_var);
	free(name_var);
	free(now_var);
	free(envp);
	return error;
}

static int mark_failed(ob_agent *agent, const char *id, int error, int64_t now)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", ob_error_last());
	ob_catalog_job_mark_failed(agent->cat, id, now, error, msg);
	ob_jobs_ended(agent, id);
	return ob_err(error, OB_ERRCLASS_JOB, "%s", msg);
}

static int start_backup(ob_job_info **out, ob_agent *agent, int system_state, int64_t retain_until);

int ob_backup_start(ob_job_info **out, ob_agent *agent, int64_t retain_until)
{
	return start_backup(out, agent, 0, retain_until);
}

int ob_systemstate_backup_start(ob_job_info **out, ob_agent *agent)
{
	return start_backup(out, agent, 1, 0);
}

static int start_backup(ob_job_info **out, ob_agent *agent, int system_state, int64_t retain_until)
{
	ob_registration *reg = NULL;
	ob_policy *policy = NULL;
	uint8_t master[OB_MASTER_KEY_BYTES];
	ob_buf names = OB_BUF_INIT;
	char id[37], *path = NULL;
	int64_t now;
	int lock_fd = -1, error;
	size_t i;

	if (out)
		*out = NULL;
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_agent_master_key(master, agent, reg)) < 0)
		goto done;
	if ((error = system_state ? ob_systemstate_policy_get(&policy, agent) : ob_policy_get(&policy, agent)) < 0) {
		if (error == OB_ENOTFOUND && !system_state)
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB,
				"This server has no backup policy. Create one with New-OBPolicy, Add-OBFileSpec and Set-OBPolicy.");
		goto done;
	}
	if (retain_until != 0 && retain_until <= now) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "RetainUntil must be in the future.");
		goto done;
	}
	if (system_state && (error = ob_buf_puts(&names, OB_SYSTEMSTATE_DATASOURCE_NAME)) < 0)
		goto done;
	for (i = 0; i < ob_policy_datasource_count(policy); i++)
		if ((error = ob_buf_printf(&names, "%s%s", i ? "\n" : "", ob_policy_datasource_name(policy, i))) < 0)
			goto done;
	if ((error = ob_job_lock_take(&lock_fd, agent)) < 0)
		goto done;
	ob_guid_new(id);
	if ((error = ob_catalog_job_add_backup(agent->cat, id, now, names.data ? names.data : "", retain_until,
		system_state ? "SystemState" : "FileFolder")) < 0)
		goto done;
	if ((error = spawn_worker(agent, id, lock_fd, -1)) < 0) {
		mark_failed(agent, id, error, now);
		goto done;
	}
	if (out)
		error = query_one(out, agent, id);
done:
	ob_platform_close(lock_fd);  /* the worker holds its own copy now */
	ob_wipe(master, sizeof(master));
	free(path);
	ob_buf_dispose(&names);
	ob_policy_free(policy);
	ob_registration_free(reg);
	return error;
}

/* ---- drill jobs (jobs/drill.c does the work) ---- */

int ob_drill_start(ob_job_info **out, ob_agent *agent)
{
	ob_registration *reg = NULL;
	ob_recovery_point **points = NULL;
	uint8_t master[OB_MASTER_KEY_BYTES];
	size_t count = 0;
	char id[37];
	int64_t now;
	int lock_fd = -1, error;

	if (out)
		*out = NULL;
	if (!agent)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "ob_drill_start needs an agent.");
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_agent_master_key(master, agent, reg)) < 0)
		goto done;
	/* The newest point, damaged or not: a drill over a point that cannot be read fails naming it. */
	if ((error = ob_recovery_points(&points, &count, agent)) < 0)
		goto done;
	if (count == 0) {
		error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB,
			"This server has no recovery point to drill. Back up first (Start-OBBackup), then start the drill.");
		goto done;
	}
	if ((error = ob_job_lock_take(&lock_fd, agent)) < 0)
		goto done;
	ob_guid_new(id);
	if ((error = ob_catalog_job_add_drill(agent->cat, id, now, points[0]->datasources ? points[0]->datasources : "",
		points[0]->id)) < 0)
		goto done;
	if ((error = spawn_worker(agent, id, lock_fd, -1)) < 0) {
		mark_failed(agent, id, error, now);
		ob_drill_outcome(agent, id, OB_JOB_FAILED, now, ob_error_last());
		goto done;
	}
	if (out)
		error = query_one(out, agent, id);
done:
	ob_platform_close(lock_fd);  /* the worker holds its own copy now */
	ob_wipe(master, sizeof(master));
	ob_recovery_points_free(points, count);
	ob_registration_free(reg);
	return error;
}

/* ---- running a job (the worker) ---- */

typedef struct monitor {
	ob_agent *agent;
	const char *job_id;
	ob_backup_progress *pg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
} monitor;

static void monitor_tick(monitor *m)
{
	ob_catalog_job_progress p;
	int phase = atomic_load(&m->pg->phase), cancel = 0;

	p.files_scanned = (int64_t)atomic_load(&m->pg->files_scanned);
	p.files_done = (int64_t)atomic_load(&m->pg->files_done);
	p.files_failed = (int64_t)atomic_load(&m->pg->files_failed);
	p.bytes_scanned = (int64_t)atomic_load(&m->pg->bytes_scanned);
	{
		/* Done is what the vault holds: a block read but waiting in a pack to be stored is not done yet. */
		uint64_t unstored = atomic_load(&m->pg->bytes_unstored), done = atomic_load(&m->pg->bytes_done);
		p.bytes_done = (int64_t)(done > unstored ? done - unstored : 0);
	}
	p.bytes_uploaded = (int64_t)atomic_load(&m->pg->bytes_uploaded);
	p.datasource_id = (int64_t)atomic_load(&m->pg->datasource_id);
	p.phase = ob_progress_phase_text[phase];
	ob_catalog_job_progress_save(&cancel, m->agent->cat, m->job_id, &p);
	if (cancel)
		atomic_store(&m->pg->cancel, 1);
}

static void *monitor_main(void *arg)
{
	monitor *m = arg;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		struct timespec ts;
		pthread_mutex_unlock(&m->lock);
		monitor_tick(m);
		pthread_mutex_lock(&m->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!m->stop)
			pthread_cond_timedwait(&m->cond, &m->lock, &ts);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

typedef struct failed_ctx {
	ob_catalog_failed_files *ins;
	uint64_t count;
} failed_ctx;

static int record_failed(const char *path, const char *reason, void *payload)
{
	failed_ctx *fc = payload;

	fc->count++;
	if (!fc->ins)
		return 0;
	ob_catalog_failed_files_add(fc->ins, path, reason);
	return 0;
}

/*
 * Retention runs after the point is committed: if it fails, the job warns (the
 * point is there and healthy, so the job is not Failed; the next backup expires
 * what this one did not).
 */
static int retention_warns(int error, failed_ctx *fc)
{
	if (error < 0) {
		record_failed("retention", ob_error_last(), fc);
		ob_error_clear();
	}
	return 0;
}

/* Capture the system's state into the staging folder, then back that up as the System State data source. */
static int run_systemstate_backup(ob_agent *agent, const char *job_id, ob_backup_progress *pg, failed_ctx *fc,
	char **out_point)
{
	ob_repo repo;
	ob_backup_source source;
	ob_filespec_input spec;
	ob_backup_params prm;
	char *staging = ob_platform_join(agent->home, "systemstate"), *report = NULL, *line, *next;
	int error;

	if (!staging)
		return ob_err_nomem();
	/* The capture is the point in time the backup stores: MARS's snapshot. */
	ob_progress_enter(pg, OB_PHASE_SNAPSHOT);
	if ((error = ob_systemstate_capture(&report, staging, NULL)) < 0)
		goto done;
	/* What could not be read is listed in the job: it completes with a warning. */
	for (line = report; line && *line; line = next) {
		char *tab;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if ((tab = strchr(line, '\t')) != NULL) {
			*tab = '\0';
			record_failed(line, tab + 1, fc);
		}
	}
	if ((error = ob_agent_repo_open(&repo, agent, NULL)) < 0)
		goto done;
	spec.spec = staging;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	source.id = OB_SYSTEMSTATE_DATASOURCE_ID;
	source.name = OB_SYSTEMSTATE_DATASOURCE_NAME;
	source.root = staging;
	source.specs = &spec;
	source.spec_count = 1;
	memset(&prm, 0, sizeof(prm));
	prm.agent = agent;
	prm.repo = &repo;
	prm.sources = &source;
	prm.source_count = 1;
	prm.job_id = job_id;
	prm.kind = "SystemState";
	prm.progress = pg;
	prm.on_failed = record_failed;
	prm.payload = fc;
	error = ob_backup_run(out_point, &prm);
	if (error == 0) {
		int64_t now = 0;
		ob_clock_now(&now);
		error = retention_warns(ob_retention_apply_kind(agent, &repo, "SystemState", now, NULL), fc);
		/* Points of a file and folder policy removed with pruning age out after any backup. */
		retention_warns(ob_retention_apply_pruning(agent, &repo, "FileFolder", now, NULL), fc);
	}
	ob_repo_dispose(&repo);
done:
	ob_str_free(report);
	free(staging);
	return error;
}

/*
 * A folder the policy protects that cannot be backed up now (a volume not
 * mounted, a deleted folder or share) is listed in the job's failed items, so
 * the job ends CompletedWithWarning; a data source left with no inclusion is not
 * scanned. When none is left, nothing is backed up and the job fails (OB_ENOTFOUND)
 * naming them. sources[0..*out_kept) are those to back up, in order.
 */
static int drop_missing(ob_backup_source *sources, size_t *out_kept, size_t n, failed_ctx *fc)
{
	ob_buf names = OB_BUF_INIT;
	size_t i, j, kept = 0, missing = 0;
	char *why = NULL, *first_why = NULL;
	int error = 0;

	for (i = 0; i < n && error == 0; i++) {
		size_t present = 0;
		for (j = 0; j < sources[i].spec_count && error == 0; j++) {
			const ob_filespec_input *sp = &sources[i].specs[j];
			if (sp->is_exclude)
				continue;
			if ((error = ob_policy_inclusion_missing(&why, sources[i].name, sp->spec)) < 0)
				break;
			if (!why) {
				present++;
				continue;
			}
			record_failed(sp->spec, why, fc);
			if (missing++ < 3)
				error = ob_buf_printf(&names, "%s'%s'", missing > 1 ? ", " : "", sp->spec);
			if (!first_why) {
				first_why = why;
				why = NULL;
			}
			free(why);
			why = NULL;
		}
		if (present)
			sources[kept++] = sources[i];
	}
	if (error == 0 && kept == 0)
		error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB,
			"Nothing was backed up: no folder that the policy protects can be read now (%s%s). %s",
			names.data ? names.data : "", missing > 3 ? ", ..." : "", first_why ? first_why : "");
	*out_kept = kept;
	free(first_why);
	ob_buf_dispose(&names);
	return error;
}

static int run_backup(ob_agent *agent, const char *job_id, int64_t retain_until, ob_backup_progress *pg,
	failed_ctx *fc, char **out_point)
{
	ob_repo repo;
	ob_policy *policy = NULL;
	ob_backup_source *sources = NULL;
	ob_filespec_input **specs = NULL;
	size_t n = 0, i, j, kept = 0;
	ob_backup_params prm;
	int error;

	if ((error = ob_agent_repo_open(&repo, agent, NULL)) < 0)
		return error;
	/* The backup fixes its view of the sources: the committed policy and which of its folders are there now. */
	ob_progress_enter(pg, OB_PHASE_SNAPSHOT);
	if ((error = ob_policy_get(&policy, agent)) < 0)
		goto done;
	n = ob_policy_datasource_count(policy);
	sources = calloc(n ? n : 1, sizeof(*sources));
	specs = calloc(n ? n : 1, sizeof(*specs));
	if (!sources || !specs) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < n; i++) {
		size_t count = ob_policy_filespec_count(policy, i);
		sources[i].id = ob_policy_datasource_id(policy, i);
		sources[i].name = ob_policy_datasource_name(policy, i);
		if (!(specs[i] = calloc(count ? count : 1, sizeof(ob_filespec_input)))) {
			error = ob_err_nomem();
			goto done;
		}
		for (j = 0; j < count; j++)
			ob_policy_filespec(policy, i, j, &specs[i][j].spec, &specs[i][j].is_exclude, &specs[i][j].is_recursive);
		sources[i].specs = specs[i];
		sources[i].spec_count = count;
	}
	if ((error = drop_missing(sources, &kept, n, fc)) < 0)
		goto done;
	memset(&prm, 0, sizeof(prm));
	prm.agent = agent;
	prm.repo = &repo;
	prm.sources = sources;
	prm.source_count = kept;
	prm.job_id = job_id;
	prm.kind = "FileFolder";
	prm.retain_until = retain_until;
	prm.progress = pg;
	prm.on_failed = record_failed;
	prm.payload = fc;
	error = ob_backup_run(out_point, &prm);
	if (error == 0) {
		/* After each backup, what the retention policy no longer keeps expires (soft delete). */
		int64_t now = 0;
		ob_clock_now(&now);
		error = retention_warns(ob_retention_apply(agent, &repo, now, NULL), fc);
		/* And those of a System State policy removed with pruning. */
		retention_warns(ob_retention_apply_pruning(agent, &repo, "SystemState", now, NULL), fc);
	}
done:
	if (specs)
		for (i = 0; i < n; i++)
			free(specs[i]);
	free(specs);
	free(sources);
	ob_policy_free(policy);
	ob_repo_dispose(&repo);
	return error;
}

/* ---- recovery jobs ---- */

int ob_recovery_start(ob_job_info **out, ob_agent *agent, const ob_recovery_request *req)
{
	ob_recovery *rec = NULL;
	ob_buf params = OB_BUF_INIT;
	uint8_t master[OB_MASTER_KEY_BYTES];
	char id[37], *path = NULL, *ds_name = NULL, *dest_internal = NULL, key[32];
	const char *dest;
	int64_t now;
	int lock_fd = -1, key_fd = -1, other, error;
	size_t i;

	if (out)
		*out = NULL;
	if (!req || req->version < 1 || req->version > OB_RECOVERY_REQUEST_VERSION || !req->point_id || (req->item_count && !req->items))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A recovery needs a recovery point and items.");
	if (req->overwrite < OB_OVERWRITE_CREATE_COPY || req->overwrite > OB_OVERWRITE_OVERWRITE)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Unknown overwrite option %d.", req->overwrite);
	if (req->destination && !ob_platform_path_is_absolute(req->destination))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The destination '%s' must be an absolute path.", req->destination);
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	other = req->server_name && *req->server_name && strcmp(req->server_name, agent->server_name) != 0;
	if (other && !req->destination)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"Another server's data has no original location here: give a destination (New-OBRecoveryOption -DestinationPath).");
	/* Check everything that can be checked before the job starts: the key, the point, the data source. */
	if ((error = ob_recovery_open_checked(&rec, &ds_name, master, agent, other ? req->server_name : NULL,
	    req->passphrase, req->passphrase_len, req->point_id, req->datasource_id)) < 0)
		goto done;
	/* The destination in the engine's form (a Windows "D:\restore" is "/D:/restore": ob_platform_path_internal). */
	if (req->destination && !(dest_internal = ob_platform_path_internal(req->destination))) {
		error = ob_err_nomem();
		goto done;
	}
	dest = dest_internal ? dest_internal : ds_name;

	if ((error = ob_kv_begin(&params, "recovery-request", 1)) < 0 ||
	    (error = ob_kv_add(&params, "server", other ? req->server_name : "")) < 0 ||
	    (error = ob_kv_add(&params, "point", req->point_id)) < 0 ||
	    (error = ob_kv_add_i64(&params, "datasource", req->datasource_id)) < 0 ||
	    (error = ob_kv_add(&params, "destination", dest)) < 0 ||
	    (error = ob_kv_add_i64(&params, "overwrite", req->overwrite)) < 0 ||
	    (error = ob_kv_add_i64(&params, "skip_security", req->skip_security ? 1 : 0)) < 0 ||
	    (error = ob_kv_add_i64(&params, "special_files", req->version >= 2 && req->special_files ? 1 : 0)) < 0 ||
	    (error = ob_kv_add_i64(&params, "items", (int64_t)req->item_count)) < 0)
		goto done;
	if (req->item_count > 400) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "At most 400 items per recovery; restore their folder instead.");
		goto done;
	}
	for (i = 0; i < req->item_count; i++) {
		char *b64 = ob_base64_encode((const uint8_t *)(req->items[i] ? req->items[i] : ""),
			req->items[i] ? strlen(req->items[i]) : 0);
		if (!b64) {
			error = OB_ENOMEM;
			goto done;
		}
		snprintf(key, sizeof(key), "item%zu", i);
		error = ob_kv_add(&params, key, b64);
		free(b64);
		if (error < 0)
			goto done;
	}

	if ((error = ob_job_lock_take(&lock_fd, agent)) < 0)
		goto done;
	ob_guid_new(id);
	if ((error = ob_catalog_job_add_recovery(agent->cat, id, now, ds_name, params.data, req->point_id)) < 0)
		goto done;
	if (other) {
		/* The key goes to the worker through a pipe: never through a file or the catalog. */
		if (ob_process_pipe_with(&key_fd, master, sizeof(master)) < 0) {
			error = mark_failed(agent, id, ob_platform_fail("Cannot hand the key to the job", ""), now);
			goto done;
		}
	}
	if ((error = spawn_worker(agent, id, lock_fd, key_fd)) < 0) {
		mark_failed(agent, id, error, now);
		goto done;
	}
	if (out)
		error = query_one(out, agent, id);
done:
	ob_platform_close(key_fd);
	ob_platform_close(lock_fd);
	ob_wipe(master, sizeof(master));
	ob_buf_dispose(&params);
	ob_recovery_free(rec);
	free(ds_name);
	free(dest_internal);
	free(path);
	return error;
}

static int run_recovery(ob_agent *agent, const char *params, int key_fd, ob_backup_progress *pg, failed_ctx *fc)
{
	ob_kv kv;
	ob_recovery *rec = NULL;
	ob_restore_run run;
	const char *server;
	char **items = NULL, key[32];
	int64_t count = 0, ds = 0, overwrite = 0, skip = 0, special = 0, i;
	int error;

	if (!params || (error = ob_kv_parse(&kv, params, strlen(params))) < 0 || strcmp(kv.kind, "recovery-request") != 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_JOB, "The recovery job's request is damaged.");
	server = ob_kv_get(&kv, "server");
	ob_kv_get_i64(&count, &kv, "items");
	ob_kv_get_i64(&ds, &kv, "datasource");
	ob_kv_get_i64(&overwrite, &kv, "overwrite");
	ob_kv_get_i64(&skip, &kv, "skip_security");
	ob_kv_get_i64(&special, &kv, "special_files");   /* absent in a job recorded before: 0 */
	error = ob_recovery_open_for_worker(&rec, agent, server, key_fd, "recovery");
	if (error < 0)
		goto done;
	if (!(items = calloc((size_t)(count > 0 ? count : 1), sizeof(char *)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < count; i++) {
		uint8_t *raw = NULL;
		size_t len = 0;
		snprintf(key, sizeof(key), "item%lld", (long long)i);
		if (!ob_kv_get(&kv, key) || ob_base64_decode(&raw, &len, ob_kv_get(&kv, key)) < 0 ||
		    !(items[i] = malloc(len + 1))) {
			free(raw);
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_JOB, "The recovery job's request is damaged.");
			goto done;
		}
		memcpy(items[i], raw, len);
		items[i][len] = '\0';
		free(raw);
	}
	memset(&run, 0, sizeof(run));
	run.repo = ob_recovery_repo(rec);
	run.locator = ob_recovery_locator(rec);
	run.point_id = ob_kv_get(&kv, "point");
	run.datasource_id = ds;
	run.items = (const char *const *)items;
	run.item_count = (size_t)count;
	run.destination = ob_kv_get(&kv, "destination");
	run.overwrite = (int)overwrite;
	run.skip_security = (int)skip;
	run.special_files = special == 1;
	run.progress = pg;
	run.on_failed = record_failed;
	run.payload = fc;
	ob_progress_enter(pg, OB_PHASE_RECOVER);
	error = ob_restore_execute(&run);
	/* Vault objects skipped on the way (damaged or forged index objects): in the worker's log (see backup/run.c). */
	ob_repo_skipped_take(run.repo, ob_repo_skip_to_stderr, NULL, NULL);
	/* Items that failed are listed in the job: it completes with a warning when anything else
	 * was restored, and fails when nothing was. */
	if ((error == OB_ECORRUPT || error == OB_EIO) && fc->count > 0 && atomic_load(&pg->files_done) > 0) {
		ob_error_clear();
		error = 0;
	}
	if (error == 0)
		ob_progress_enter(pg, OB_PHASE_DONE);
done:
	if (items)
		for (i = 0; i < count; i++)
			free(items[i]);
	free(items);
	ob_recovery_free(rec);
	ob_kv_dispose(&kv);
	return error;
}

int ob_job_run(ob_agent *agent, const char *job_id, int lock_fd, int key_fd)
{
	ob_backup_progress pg;
	monitor m;
	pthread_t mt;
	failed_ctx fc = { NULL, 0 };
	char *point = NULL, *params = NULL, msg[1024] = "";
	int64_t retain_until = 0, now = 0;
	int type = 0, state, error, own_lock = lock_fd < 0, mon = 0;

	memset(&pg, 0, sizeof(pg));
	/* The worker holds the server's keys: no core file, no tracing, nothing in its caller's folder. */
	if ((error = ob_platform_process_harden(1)) < 0)
		return ob_platform_fail("Cannot protect the job process's memory (core dumps, tracing)", "/");
	if (own_lock) {
		/* A worker started by hand: a mount takes its own lock, any other job the server's. */
		int t = 0, st = 0;
		int64_t ru = 0;
		char *pr = NULL;
		if (ob_catalog_job_to_run(&t, &ru, &st, &pr, agent->cat, job_id) < 0)
			ob_error_clear();
		free(pr);
		error = t == OB_JOB_MOUNT ? ob_mount_lock_try(&lock_fd, agent, job_id) : ob_job_lock_try(&lock_fd, agent);
		if (error < 0)
			return error;
	}
	error = ob_catalog_job_to_run(&type, &retain_until, &state, &params, agent->cat, job_id);
	if (error == OB_ENOTFOUND || (error == 0 && state != OB_JOB_INPROGRESS)) {
		error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB, "There is no job '%s' waiting to run.", job_id);
		goto out;
	}
	if (error < 0)
		goto out;
	ob_catalog_job_set_pid(agent->cat, job_id, ob_process_id());
	fc.ins = ob_catalog_failed_files_open(agent->cat, job_id);

	memset(&m, 0, sizeof(m));
	m.agent = agent;
	m.job_id = job_id;
	m.pg = &pg;
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	mon = pthread_create(&mt, NULL, monitor_main, &m) == 0;

	if (type == OB_JOB_BACKUP && params && !strcmp(params, "SystemState"))
		error = run_systemstate_backup(agent, job_id, &pg, &fc, &point);
	else if (type == OB_JOB_BACKUP)
		error = run_backup(agent, job_id, retain_until, &pg, &fc, &point);
	else if (type == OB_JOB_RECOVERY)
		error = run_recovery(agent, params, key_fd, &pg, &fc);
	else if (type == OB_JOB_MOUNT)
		error = ob_mount_job_run(agent, job_id, params, key_fd, &pg, record_failed, &fc);
	else if (type == OB_JOB_DRILL)
		error = ob_drill_run(agent, params, &pg, record_failed, &fc);
	else
		error = ob_err(OB_EINVALID, OB_ERRCLASS_JOB, "Job '%s' has an unknown type %d.", job_id, type);
	if (error < 0)
		snprintf(msg, sizeof(msg), "%s", ob_error_last());

	if (mon) {
		pthread_mutex_lock(&m.lock);
		m.stop = 1;
		pthread_cond_signal(&m.cond);
		pthread_mutex_unlock(&m.lock);
		pthread_join(mt, NULL);
	}
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
	monitor_tick(&m);

	state = error == OB_ECANCELLED ? OB_JOB_ABORTED : error < 0 ? OB_JOB_FAILED
		: fc.count ? OB_JOB_COMPLETED_WITH_WARNING : OB_JOB_COMPLETED;
	ob_clock_now(&now);
	/* Before the job's end is recorded: whoever sees a drill end sees its outcome. */
	if (type == OB_JOB_DRILL)
		ob_drill_outcome(agent, job_id, state, now, error < 0 ? msg : NULL);
	ob_catalog_job_finish(agent->cat, job_id, state, now, error < 0 ? error : 0, error < 0 ? msg : NULL, point,
		state == OB_JOB_ABORTED ? "Job stopped." : state == OB_JOB_FAILED ? "Job failed." : "Job completed.",
		(int64_t)fc.count);
	ob_jobs_ended(agent, job_id);
	if (error < 0)
		ob_err(error, OB_ERRCLASS_JOB, "%s", msg);
out:
	ob_catalog_failed_files_free(fc.ins);
	free(point);
	free(params);
	ob_platform_close(key_fd);
	ob_platform_close(lock_fd);
	return error;
}

int ob_jobs_spawn_worker(ob_agent *agent, const char *job_id, int lock_fd, int key_fd)
{
	return spawn_worker(agent, job_id, lock_fd, key_fd);
}
