#define _GNU_SOURCE
/* Mount jobs: a recovery point served as a read-only file system by a worker of its own (jobs/mount.h). */
#include "jobs/mount.h"
#include "catalog/jobs.h"
#include "catalog/mounts.h"
#include "restore/mount.h"
#include "vault/crypto.h"
#include "vault/snapshot.h"
#include "util/env.h"
#include "util/error.h"
#include "platform/file.h"
#include "platform/mount.h"
#include "platform/platform.h"
#include "platform/process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define START_WAIT_MS 120000   /* a mount that is not up after this long failed to start */
#define STEP_MS 50

static char *mounts_dir(ob_agent *agent)
{
	return ob_platform_join(agent->home, "mounts");
}

static char *lock_path(ob_agent *agent, const char *job_id)
{
	char name[64], *dir = mounts_dir(agent), *p;

	if (!dir)
		return NULL;
	snprintf(name, sizeof(name), "%s.lock", job_id);
	p = ob_platform_join(dir, name);
	free(dir);
	return p;
}

int ob_mount_lock_try(int *out_fd, ob_agent *agent, const char *job_id)
{
	char *path = lock_path(agent, job_id);
	int error;

	*out_fd = -1;
	if (!path)
		return ob_err_nomem();
	error = ob_platform_lock_try(out_fd, path);
	free(path);
	if (error == OB_ELOCKED)
		return ob_err(OB_ELOCKED, OB_ERRCLASS_JOB, "Mount job %s is being served already.", job_id);
	return error;
}

/* Remove a mount's own folder (<state>/mounts/<id>, once unmounted and empty) and its lock file. */
static void remove_own(ob_agent *agent, const char *job_id, int folder_too)
{
	char *dir = mounts_dir(agent), *lock = lock_path(agent, job_id);
	ob_file *d = NULL;

	if (folder_too && dir && ob_file_open_dir(&d, dir) == 0) {
		ob_file_remove_at(d, job_id, 1);
		ob_file_close(d);
	}
	if (lock)
		ob_platform_remove_file(lock);
	free(dir);
	free(lock);
	ob_error_clear();
}

static int reap_one(const char *id, const char *params, void *payload)
{
	ob_agent *agent = payload;
	ob_kv kv;
	char *path = lock_path(agent, id);
	int fd = -1, held;
	int64_t now = 0, own = 0;

	if (!path)
		return 0;
	held = ob_platform_lock_try(&fd, path) == OB_ELOCKED;
	free(path);
	ob_error_clear();
	if (held)
		return 0;
	/* Its worker is gone: the kernel may still show its mount point ("Transport endpoint is not connected"). */
	if (params && ob_kv_parse(&kv, params, strlen(params)) == 0) {
		const char *where = ob_kv_get(&kv, "path");
		if (where && *where)
			ob_platform_unmount(where, 1);
		ob_kv_get_i64(&own, &kv, "own_folder");
		ob_kv_dispose(&kv);
	}
	ob_clock_now(&now);
	ob_catalog_mount_fail(agent->cat, id, now, OB_EIO,
		"The mount's process ended unexpectedly (killed, crashed or the machine stopped); its mount point was "
		"unmounted. Mount the recovery point again.");
	ob_platform_close(fd);
	remove_own(agent, id, own == 1);
	return 0;
}

void ob_mount_reap(ob_agent *agent)
{
	ob_catalog_mounts_in_progress(agent->cat, reap_one, agent);
	ob_error_clear();
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- starting ---- */

int ob_recovery_mount_start(ob_job_info **out, char **out_path, ob_agent *agent, const ob_mount_request *req)
{
	ob_recovery *rec = NULL;
	ob_buf params = OB_BUF_INIT;
	uint8_t master[OB_MASTER_KEY_BYTES];
	char id[37], *path = NULL, *ds_name = NULL, *dir = NULL, *lock = NULL;
	ob_job_info *j = NULL;
	int64_t now, expiry, start;
	int lock_fd = -1, key_fd = -1, other, own_folder, error;

	if (out)
		*out = NULL;
	if (out_path)
		*out_path = NULL;
	memset(master, 0, sizeof(master));
	if (!req || req->version < 1 || req->version > OB_MOUNT_REQUEST_VERSION || !req->point_id || !*req->point_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A mount needs a recovery point.");
	if (req->expiry_seconds < 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The mount's expiry must be a positive number of seconds (0: 6 hours).");
	if (req->mount_path && *req->mount_path && !ob_platform_path_is_absolute(req->mount_path))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The mount folder '%s' must be an absolute path.", req->mount_path);
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	expiry = req->expiry_seconds ? req->expiry_seconds : OB_MOUNT_EXPIRY_DEFAULT;
	ob_mount_reap(agent);
	other = req->server_name && *req->server_name && strcmp(req->server_name, agent->server_name) != 0;
	/* Check what can be checked before the job starts: the key, the point, the data source. */
	if ((error = ob_recovery_open_checked(&rec, &ds_name, master, agent, other ? req->server_name : NULL,
	    req->passphrase, req->passphrase_len, req->point_id, req->datasource_id)) < 0)
		goto done;

	ob_guid_new(id);
	own_folder = !(req->mount_path && *req->mount_path);
	if (!(dir = mounts_dir(agent))) {
		error = ob_err_nomem();
		goto done;
	}
	if ((error = ob_platform_mkdir_p(dir, 0700)) < 0)
		goto done;
	if (own_folder) {
		path = ob_platform_join(dir, id);
	} else {
		path = ob_platform_path_internal(req->mount_path);
	}
	if (!path) {
		error = ob_err_nomem();
		goto done;
	}
	if (!own_folder && ob_platform_is_mounted(path)) {
		error = ob_err(OB_EEXISTS, OB_ERRCLASS_INVALID, "Something is mounted at '%s' already; give another folder, "
			"or unmount it first.", path);
		goto done;
	}
	if ((error = ob_platform_mkdir_p(path, 0700)) < 0)
		goto done;
	if (ob_platform_dir_is_empty(path) != 1) {
		error = ob_err(OB_EEXISTS, OB_ERRCLASS_INVALID, "The mount folder '%s' is not empty: give an empty folder.", path);
		goto done;
	}
	if (!(lock = lock_path(agent, id))) {
		error = ob_err_nomem();
		goto done;
	}
	if ((error = ob_platform_lock_try(&lock_fd, lock)) < 0)
		goto done;
	if ((error = ob_kv_begin(&params, "mount-request", 1)) < 0 ||
	    (error = ob_kv_add(&params, "server", other ? req->server_name : "")) < 0 ||
	    (error = ob_kv_add(&params, "point", req->point_id)) < 0 ||
	    (error = ob_kv_add_i64(&params, "datasource", req->datasource_id)) < 0 ||
	    (error = ob_kv_add(&params, "path", path)) < 0 ||
	    (error = ob_kv_add_i64(&params, "own_folder", own_folder)) < 0 ||
	    (error = ob_kv_add_i64(&params, "expiry_seconds", expiry)) < 0 ||
	    (error = ob_kv_add_i64(&params, "expires", now + expiry)) < 0)
		goto done;
	if ((error = ob_catalog_job_add_mount(agent->cat, id, now, ds_name, params.data, req->point_id, now + expiry)) < 0)
		goto done;
	if (other && ob_process_pipe_with(&key_fd, master, sizeof(master)) < 0) {
		error = ob_platform_fail("Cannot hand the key to the job", "");
		ob_catalog_mount_fail(agent->cat, id, now, error, ob_error_last());
		goto done;
	}
	if ((error = ob_jobs_spawn_worker(agent, id, lock_fd, key_fd)) < 0) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", ob_error_last());
		ob_catalog_mount_fail(agent->cat, id, now, error, msg);
		ob_err(error, OB_ERRCLASS_JOB, "%s", msg);
		goto done;
	}
	ob_platform_close(lock_fd);  /* the worker holds its own copy now */
	lock_fd = -1;
	/* Back once the point is mounted, or with the worker's error. */
	start = mono_ms();
	for (;;) {
		ob_job_info_free(j);
		j = NULL;
		if ((error = ob_job_get(&j, agent, id)) < 0)
			goto done;
		if (j->state != OB_JOB_INPROGRESS) {
			error = ob_err(j->error_code < 0 ? j->error_code : OB_ERROR, OB_ERRCLASS_JOB, "%s",
				j->error_message ? j->error_message : "The recovery point could not be mounted.");
			goto done;
		}
		if (j->phase && !strcmp(j->phase, ob_progress_phase_text[OB_PHASE_MOUNTED]))
			break;
		if (mono_ms() - start > START_WAIT_MS) {
			ob_job_stop(agent, id);
			error = ob_err(OB_EIO, OB_ERRCLASS_JOB, "The recovery point was not mounted after %d seconds; the mount "
				"job %s was stopped (its log: worker.log in the state folder).", START_WAIT_MS / 1000, id);
			goto done;
		}
		ob_platform_sleep_ms(STEP_MS);
	}
	if (out_path) {
		*out_path = path;
		path = NULL;
	}
	if (out) {
		*out = j;
		j = NULL;
	}
	error = 0;
done:
	ob_job_info_free(j);
	ob_platform_close(key_fd);
	ob_platform_close(lock_fd);
	ob_wipe(master, sizeof(master));
	ob_buf_dispose(&params);
	ob_recovery_free(rec);
	free(ds_name);
	free(dir);
	free(lock);
	free(path);
	return error;
}

/* ---- what a mount job records ---- */

static int mount_params(ob_kv *kv, int *out_state, ob_agent *agent, const char *job_id)
{
	int type = 0, state = 0, error;
	int64_t ru = 0;
	char *params = NULL;

	if (!job_id || !*job_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Give the mount job's id.");
	error = ob_catalog_job_to_run(&type, &ru, &state, &params, agent->cat, job_id);
	if (error == OB_ENOTFOUND || (error == 0 && type != OB_JOB_MOUNT)) {
		free(params);
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB, "There is no mount job '%s'.", job_id);
	}
	if (error < 0)
		return error;
	error = params ? ob_kv_parse(kv, params, strlen(params)) : OB_ECORRUPT;
	free(params);
	if (error < 0 || strcmp(kv->kind, "mount-request") != 0) {
		if (error == 0)
			ob_kv_dispose(kv);
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_JOB, "The mount job's record is damaged.");
	}
	if (out_state)
		*out_state = state;
	return 0;
}

int ob_recovery_mount_path(char **out_path, int64_t *out_expires, ob_agent *agent, const char *job_id)
{
	ob_kv kv;
	int error;

	*out_path = NULL;
	if ((error = mount_params(&kv, NULL, agent, job_id)) < 0)
		return error;
	if (out_expires && ob_kv_get_i64(out_expires, &kv, "expires") < 0)
		*out_expires = 0;
	*out_path = strdup(ob_kv_get(&kv, "path") ? ob_kv_get(&kv, "path") : "");
	ob_kv_dispose(&kv);
	ob_error_clear();
	return *out_path ? 0 : ob_err_nomem();
}

int ob_recovery_unmount(ob_agent *agent, const char *job_id, unsigned int timeout_ms)
{
	ob_kv kv;
	ob_job_info *j = NULL;
	int state = 0, error;
	int64_t start;
	char *path = NULL;

	ob_mount_reap(agent);
	if ((error = mount_params(&kv, &state, agent, job_id)) < 0)
		return error;
	path = strdup(ob_kv_get(&kv, "path") ? ob_kv_get(&kv, "path") : "");
	ob_kv_dispose(&kv);
	if (!path)
		return ob_err_nomem();
	if (state != OB_JOB_INPROGRESS) {
		free(path);
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_JOB, "Mount job '%s' is not in progress: the point is not mounted.", job_id);
	}
	/* Unmounting ends the worker's file system; the worker then records the job's end. */
	error = ob_platform_unmount(path, 0);
	free(path);
	if (error < 0)
		return error;
	start = mono_ms();
	for (;;) {
		if ((error = ob_job_get(&j, agent, job_id)) < 0)
			return error;
		state = j->state;
		ob_job_info_free(j);
		if (state != OB_JOB_INPROGRESS)
			return 0;
		if (mono_ms() - start > (timeout_ms ? timeout_ms : 60000))
			return ob_err(OB_EIO, OB_ERRCLASS_JOB, "The point was unmounted, but mount job %s has not recorded its end "
				"yet.", job_id);
		ob_platform_sleep_ms(STEP_MS);
	}
}

typedef struct mount_list {
	ob_agent *agent;
	ob_job_info **v;
	size_t n, cap;
	int error;
} mount_list;

static int list_one(const char *id, const char *params, void *payload)
{
	mount_list *l = payload;
	ob_job_info *j = NULL;

	(void)params;
	if (ob_job_get(&j, l->agent, id) < 0 || j->state != OB_JOB_INPROGRESS) {
		ob_job_info_free(j);
		ob_error_clear();
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		ob_job_info **g = realloc(l->v, cap * sizeof(*g));
		if (!g) {
			ob_job_info_free(j);
			return l->error = ob_err_nomem();
		}
		l->v = g;
		l->cap = cap;
	}
	l->v[l->n++] = j;
	return 0;
}

int ob_recovery_mounts(ob_job_info ***out, size_t *out_count, ob_agent *agent)
{
	mount_list l = { agent, NULL, 0, 0, 0 };
	int error;

	*out = NULL;
	*out_count = 0;
	ob_mount_reap(agent);
	if ((error = ob_catalog_mounts_in_progress(agent->cat, list_one, &l)) < 0 || l.error < 0) {
		ob_job_list_free(l.v, l.n);
		return error < 0 ? error : l.error;
	}
	*out = l.v;
	*out_count = l.n;
	return 0;
}

/* ---- the worker ---- */

int ob_mount_job_run(ob_agent *agent, const char *job_id, const char *params, int key_fd, ob_restore_progress *pg,
	ob_restore_failed_cb on_failed, void *payload)
{
	ob_kv kv;
	ob_recovery *rec = NULL;
	ob_mount_fs *fs = NULL;
	ob_platform_mount *m = NULL;
	ob_mount_config cfg;
	const char *server, *path;
	int64_t ds = 0, expires = 0, now = 0, own = 0, deadline;
	char fsname[128];
	int error;

	if (!params || (error = ob_kv_parse(&kv, params, strlen(params))) < 0 || strcmp(kv.kind, "mount-request") != 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_JOB, "The mount job's request is damaged.");
	ob_progress_enter(pg, OB_PHASE_MOUNTING);
	server = ob_kv_get(&kv, "server");
	path = ob_kv_get(&kv, "path");
	ob_kv_get_i64(&ds, &kv, "datasource");
	ob_kv_get_i64(&expires, &kv, "expires");
	ob_kv_get_i64(&own, &kv, "own_folder");
	if (!path || !*path) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_JOB, "The mount job's request is damaged.");
		goto done;
	}
	error = ob_recovery_open_for_worker(&rec, agent, server, key_fd, "mount");
	if (error < 0)
		goto done;
	memset(&cfg, 0, sizeof(cfg));
	cfg.repo = ob_recovery_repo(rec);
	cfg.locator = ob_recovery_locator(rec);
	cfg.point_id = ob_kv_get(&kv, "point");
	cfg.datasource_id = ds;
	cfg.progress = pg;
	cfg.on_failed = on_failed;
	cfg.payload = payload;
	if ((error = ob_mount_fs_open(&fs, &cfg)) < 0)
		goto done;
	/* A mount point left by a worker that died (this job's, run again by hand) goes first. */
	ob_platform_unmount(path, 1);
	if ((error = ob_platform_mkdir_p(path, 0700)) < 0)
		goto done;
	snprintf(fsname, sizeof(fsname), "obagent:%s", cfg.point_id ? cfg.point_id : "");
	if ((error = ob_platform_mount_start(&m, path, fsname, &ob_mount_fs_ops, fs)) < 0)
		goto done;
	ob_progress_enter(pg, OB_PHASE_MOUNTED);
	/* The expiry as a span of this process's clock (the wall clock may be set back or forth meanwhile). */
	ob_clock_now(&now);
	deadline = mono_ms() + (expires > now ? expires - now : 0) * 1000;
	while (!ob_platform_mount_wait(m, 250)) {
		if (atomic_load(&pg->cancel) || mono_ms() >= deadline)
			break;
	}
	/* Stopped, expired, or unmounted from outside: each is the mount's normal end. */
	ob_platform_mount_end(m);
	m = NULL;
	atomic_store(&pg->cancel, 0);
	error = 0;
done:
	if (m)
		ob_platform_mount_end(m);
	ob_mount_fs_free(fs);
	ob_recovery_free(rec);
	if (path && own == 1) {
		char *dir = mounts_dir(agent);
		ob_file *d = NULL;
		if (dir && !ob_platform_is_mounted(path) && ob_file_open_dir(&d, dir) == 0) {
			ob_file_remove_at(d, job_id, 1);
			ob_file_close(d);
		}
		free(dir);
	}
	ob_kv_dispose(&kv);
	return error;
}
