/*
 * Internal: this process and what it hands to the processes it starts. Starting the detached
 * job worker, whether a process is alive and watching for a job's end are in platform/platform.h.
 * Descriptors handed between processes (a lock, a pipe's end) are ints, closed with
 * ob_platform_close. posix_process.c implements it; failures as in platform/file.h (OB_E*
 * codes, no message recorded: ob_platform_fail words it).
 */
#ifndef OB_NATIVE_PLATFORM_PROCESS_H
#define OB_NATIVE_PLATFORM_PROCESS_H

#include <stddef.h>
#include <stdint.h>

/** This process's id. */
int64_t ob_process_id(void);
/** This process's environment, "NAME=value" strings up to a NULL (owned by the process). */
const char *const *ob_process_environment(void);
/** 1 when the file at path is a program this process may run, else 0. */
int ob_process_runnable(const char *path);
/**
 * Make a pipe that holds data (at most a pipe's buffer: a key), its writing end closed:
 * *out_fd is the reading end, for a process started with it kept (not inherited otherwise).
 */
int ob_process_pipe_with(int *out_fd, const void *data, size_t len);
/** Read from a descriptor into buf until len bytes came or it ends or fails: *out_got bytes. */
void ob_process_read_fd(size_t *out_got, int fd, void *buf, size_t len);

/**
 * Keep this process's memory to itself, for a process that holds keys: no core file (RLIMIT_CORE 0,
 * soft and hard, so no child raises it again), not dumpable (Linux: PR_SET_DUMPABLE 0, which also
 * keeps other processes of the same user from tracing it or reading its /proc files: environ, mem,
 * maps; a crash writes no core, even where the core pattern is a pipe, unless root set
 * fs.suid_dumpable=2), and with work_from_root its working folder `/` (a core, were one
 * written, would not land in a user's folder). Idempotent.
 */
int ob_platform_process_harden(int work_from_root);

/**
 * 1 when a variable of this process's environment ("NAME=value") is one a process it starts needs
 * to run as this one does: the search path, home, user, time zone and locale, the temporary
 * folder, TLS trust and OpenSSL settings, the dynamic loader's and sanitizers' settings. 0 for every other
 * one: a worker is given only these (never a passphrase or a key).
 */
int ob_process_env_needed(const char *entry);

#endif
