/*
 * Internal: what differs between operating systems. posix.c implements it for
 * Linux (and other POSIX systems); a windows.c would implement the same names.
 */
#ifndef OB_NATIVE_PLATFORM_H
#define OB_NATIVE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/** The job runner's file name beside the library (the CLI, native/cli). */
#ifdef _WIN32
#define OB_PLATFORM_RUNNER "obagent.exe"
#else
#define OB_PLATFORM_RUNNER "obagent"
#endif

/** The host name into a malloc'd string. */
int ob_platform_hostname(char **out);
/** The default state folder: /var/lib/obagent for root, else XDG state home. */
int ob_platform_default_home(char **out);
/** Whether a path is absolute (a native one, or the engine's form below). */
int ob_platform_path_is_absolute(const char *path);
/**
 * A path as the engine keeps it (malloc'd; NULL when out of memory): '/'
 * separated, rooted at "/". POSIX: the path as it is. Windows: the drive is the
 * first component, "C:\data\x" is "/C:/data/x" ("C:\" is "/C:", as a mount point), and
 * "\\server\share\x" is "/UNC/server/share/x", so that every part of the engine above this layer
 * works on one form (docs/WINDOWS.md); the platform calls take either form.
 */
char *ob_platform_path_internal(const char *path);
/** Make the absolute, normalised form of an existing folder (malloc'd). */
int ob_platform_realpath(char **out, const char *path);
/**
 * Create a folder and its parents; mode applies to folders it creates, and the
 * parent of each folder it creates is synced (a power loss cannot lose it).
 */
int ob_platform_mkdir_p(const char *path, unsigned int mode);
/** 1 if the folder exists and is empty, 0 if not empty, OB_ENOTFOUND if absent. */
int ob_platform_dir_is_empty(const char *path);
/** Whether a path exists (1) or not (0). */
int ob_platform_exists(const char *path);
/**
 * Write a whole file atomically: temporary file in the same folder, synced,
 * renamed over the target (replace = 1) or linked create-only (replace = 0,
 * OB_EEXISTS when the target exists), then the folder synced.
 */
int ob_platform_write_file(const char *path, const void *data, size_t len, unsigned int mode, int replace);
/** The same without syncing anything (the caller syncs later with ob_platform_sync_paths). */
int ob_platform_write_file_nosync(const char *path, const void *data, size_t len, unsigned int mode);
/** Paces a write (the back end's ob_backend_pace_cb): how many of want bytes may go now. */
typedef size_t (*ob_platform_pace_cb)(void *payload, size_t want);
/**
 * ob_platform_write_file create-only (replace = 0), synced when durable, written
 * in the pieces that pace grants (pace NULL: at once).
 */
int ob_platform_write_file_paced(const char *path, const void *data, size_t len, unsigned int mode, int durable,
	ob_platform_pace_cb pace, void *payload);
/** Sync the folder that holds path (its new or renamed entries become durable). */
int ob_platform_sync_parent(const char *path);
/** Make files durable: each file, then each distinct parent folder. */
int ob_platform_sync_paths(char *const *paths, size_t count);
/** Read a whole file of at most max bytes (OB_EINVALID if larger). *out malloc'd, NUL-terminated. */
int ob_platform_read_file(char **out, size_t *out_len, const char *path, size_t max);
/** Remove a file (absent is fine). */
int ob_platform_remove_file(const char *path);
/**
 * The key that protects the agent's secrets at rest (32 bytes), bound to this machine as DPAPI's
 * machine scope binds Windows secrets. POSIX: HMAC-SHA-256 keyed with `local.key` (32 random
 * bytes in an owner-only file of the secrets folder, made on first use) over
 * "obagent-local-key-v2|" and the machine's identity (/etc/machine-id, else
 * /var/lib/dbus/machine-id; docs/SECURITY.md says why), so a copy of the state folder alone does
 * not open the secrets, and on another machine they do not open. *out_bound is 1 then; 0 when
 * the machine has no identity (some containers): the key is then local.key's bytes, bound to the
 * folder alone. It does not protect the secrets from root or the folder's owner on this machine.
 */
int ob_platform_local_key(uint8_t key[32], int *out_bound, const char *secrets_dir);
/**
 * The key secrets were sealed with before they were bound to the machine: local.key's bytes
 * (OB_ENOTFOUND when there is no local.key; it is not made). For reading such secrets once.
 */
int ob_platform_local_key_unbound(uint8_t key[32], const char *secrets_dir);

/**
 * Try to take an exclusive lock on a lock file without waiting: *out_fd holds
 * it (close to release). OB_ELOCKED when another process holds it.
 */
int ob_platform_lock_try(int *out_fd, const char *path);
/** Sleep for ms milliseconds (a signal does not cut it short). */
void ob_platform_sleep_ms(unsigned int ms);

/**
 * Match one name against a wildcard pattern (*, ?, [...], the system's fnmatch
 * rules; a Windows port keeps the same rules, not PathMatchSpec's). casefold:
 * ignore ASCII case. 1 on a match, 0 otherwise.
 */
int ob_platform_name_match(const char *pattern, const char *name, int casefold);
/**
 * Whether this platform's file names are the same regardless of case, so that
 * file specs and restore items match names without case: 1 on Windows (NTFS, as
 * MARS matches), 0 on POSIX.
 */
int ob_platform_names_casefold(void);
/**
 * Whether two names (or paths) of alen and blen bytes (UTF-8) name the same
 * thing here: byte for byte on POSIX; on Windows without case, ASCII and simple
 * Unicode folding (CompareStringOrdinal, bIgnoreCase), as NTFS compares names.
 */
int ob_platform_names_equal(const char *a, size_t alen, const char *b, size_t blen);

/** Close a descriptor the platform handed out: a lock (which releases it), a pipe's end. Accepts -1. */
void ob_platform_close(int fd);

/**
 * Start a detached worker process (its own session, no terminal, standard
 * streams to log_path) running argv with envp; keep_fds stay open in it (the
 * job lock, a key pipe), every other descriptor closes. Returns once exec succeeded.
 */
int ob_platform_spawn_detached(const char *const *argv, const char *const *envp, const int *keep_fds, size_t keep_count,
	const char *log_path);

/** Whether a process is alive (a zombie, dead but not reaped, is not). */
int ob_platform_process_alive(int64_t pid);

/**
 * Watch a file for being closed after a write (inotify where there is one): the job lock is
 * closed by its worker once the job's end is recorded. *out is -1 where nothing can watch; waits
 * on it then sleep a short while instead.
 */
int ob_platform_watch_open(int *out, const char *path);
/** Wait for the watched event or timeout_ms: 1 when it came (or may have), 0 on time-out. */
int ob_platform_watch_wait(int watch, int timeout_ms);
/** Stop watching (accepts -1). */
void ob_platform_watch_close(int watch);

/** The folder of the file that holds this library's code (malloc'd). */
int ob_platform_library_dir(char **out);

/** Join two path parts with the separator into a malloc'd string. */
char *ob_platform_join(const char *a, const char *b);

#endif
