/*
 * Internal: what the job worker needs of restore. Restoring items of a
 * recovery point into a folder (restore.c): the walker goes through the trees,
 * makes folders and temporary files, and hands chunks to worker threads that
 * fetch, open, check and write them in place; a file is renamed into place
 * only once all of it is written, so nothing half-written ever carries a real
 * name. And recovery sessions on this server's or another server's area
 * (recovery.c).
 */
#ifndef OB_NATIVE_RESTORE_H
#define OB_NATIVE_RESTORE_H

#include "obagent/recovery.h"
#include "util/progress.h"
#include "agent/locate.h"

/* The job's live counters (bytes_scanned counts the bytes to restore as they are found). */
typedef ob_progress ob_restore_progress;

/* An item that failed, or that was restored with a warning (what was left out of it, and why). */
typedef int (*ob_restore_failed_cb)(const char *path, const char *reason, void *payload);

typedef struct ob_restore_run {
	ob_repo *repo;
	ob_locator *locator;
	const char *point_id;
	int64_t datasource_id;
	const char *const *items;     /* relative to the data source root; "" = all */
	size_t item_count;
	const char *destination;      /* absolute folder */
	int overwrite;
	int skip_security;
	int special_files;            /* make device nodes, keep set-id bits (else each is a warning) */
	ob_restore_progress *progress;
	ob_restore_failed_cb on_failed;
	void *payload;
} ob_restore_run;

/**
 * Restore. 0 when everything was restored (warnings, reported through on_failed too, do
 * not change that); OB_ECORRUPT (damaged vault data) or
 * OB_EIO when some items failed (each reported through on_failed); another code
 * when nothing could be done; OB_ECANCELLED when stopped (what was restored stays).
 */
int ob_restore_execute(const ob_restore_run *run);

/* Recovery sessions, for the job worker. */
int ob_recovery_unwrap(uint8_t master[OB_MASTER_KEY_BYTES], ob_agent *agent, const char *server_name,
	const uint8_t *passphrase, size_t passphrase_len);
int ob_recovery_open_key(ob_recovery **out, ob_agent *agent, const char *server_name, const uint8_t *master);
/**
 * What the starter of a recovery or mount job checks before the job starts: the key (another
 * server's, when other_server is given, unwrapped with its passphrase into master, which the
 * worker is then handed), the point and its data source (*out_ds_name, malloc'd). On failure
 * nothing is left to free.
 */
int ob_recovery_open_checked(ob_recovery **out, char **out_ds_name, uint8_t master[OB_MASTER_KEY_BYTES],
	ob_agent *agent, const char *other_server, const uint8_t *passphrase, size_t passphrase_len, const char *point_id,
	int64_t datasource_id);
/**
 * A job worker's recovery session: this server's area, or (server_name given) another server's,
 * whose master key the starter passed down key_fd (read, used, wiped). what names the job in the
 * error when the key did not come ("recovery", "mount").
 */
int ob_recovery_open_for_worker(ob_recovery **out, ob_agent *agent, const char *server_name, int key_fd,
	const char *what);
ob_repo *ob_recovery_repo(ob_recovery *rec);
ob_locator *ob_recovery_locator(ob_recovery *rec);

#endif
