/*
 * obagent: common definitions of the public C API.
 *
 * Rules that hold for every function of the API (docs/C-API.md says why):
 *  - Every fallible function returns int: 0 (OB_OK) on success or one of the
 *    negative ob_error_code values below. The list is pinned: values never change.
 *  - The text of the last error is thread-local: ob_error_last() right after the
 *    failing call, on the same thread.
 *  - An argument named out (or out_*) receives memory the caller owns; it is freed
 *    with the _free function that its type names (ob_str_free for strings). Every
 *    _free accepts NULL. A returned const pointer is borrowed from its handle.
 *  - Strings are UTF-8 and NUL-terminated. Secrets (passphrases) cross as bytes
 *    with a length and are never kept by the library beyond the call.
 *  - Option structs start with an unsigned int version; use their _INIT macro.
 */
#ifndef OBAGENT_COMMON_H
#define OBAGENT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(OBAGENT_STATIC)
     /* linked with the static library (the tests): nothing is imported from a DLL */
#    define OB_EXTERN(type) type
#  elif defined(OBAGENT_BUILDING)
#    define OB_EXTERN(type) __declspec(dllexport) type
#  else
#    define OB_EXTERN(type) __declspec(dllimport) type
#  endif
#elif defined(__GNUC__)
#  define OB_EXTERN(type) __attribute__((visibility("default"))) type
#else
#  define OB_EXTERN(type) type
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define OB_VERSION_MAJOR 0
#define OB_VERSION_MINOR 1
#define OB_VERSION_PATCH 0
#define OB_VERSION_STRING "0.1.0"

/** Status codes. Pinned: a value, once published, never changes meaning. */
typedef enum ob_error_code {
	OB_OK          =   0,  /**< success */
	OB_ERROR       =  -1,  /**< an error with no more specific code */
	OB_EINVALID    =  -2,  /**< an argument or an input is not acceptable */
	OB_ENOTFOUND   =  -3,  /**< the named thing does not exist */
	OB_EEXISTS     =  -4,  /**< the thing to create exists already */
	OB_EAUTH       =  -5,  /**< credentials refused: tampered, foreign, wrong PIN */
	OB_EPASSPHRASE =  -6,  /**< the passphrase does not open the key */
	OB_ECORRUPT    =  -7,  /**< stored data failed its checks */
	OB_ELOCKED     =  -8,  /**< another job or process holds what is needed */
	OB_ECANCELLED  =  -9,  /**< stopped on request */
	OB_EIO         = -10,  /**< the operating system or a back end failed */
	OB_ENOSPC      = -11,  /**< no space left where data was being written */
	OB_EEXPIRED    = -12,  /**< credentials, PIN or a time-limited grant expired */
	OB_EACCESS     = -13,  /**< permission denied by the OS or the back end */
	OB_ENOTREG     = -14,  /**< this server is not registered to a vault */
	OB_ENOMEM      = -15,  /**< out of memory */
	OB_ESUPERSEDED = -16,  /**< a newer credentials file has been issued */
	OB_EFOREIGN    = -17,  /**< the server is registered to another vault */
	OB_ENOKEY      = -18   /**< no encryption passphrase has been set */
} ob_error_code;

/** Error classes: where an error came from, for callers that map errors. */
typedef enum ob_error_class {
	OB_ERRCLASS_NONE = 0,
	OB_ERRCLASS_OS,
	OB_ERRCLASS_NOMEMORY,
	OB_ERRCLASS_INVALID,
	OB_ERRCLASS_CATALOG,
	OB_ERRCLASS_VAULT,
	OB_ERRCLASS_CRYPTO,
	OB_ERRCLASS_CREDENTIALS,
	OB_ERRCLASS_JOB
} ob_error_class;

/**
 * Initialise the library. Call once before anything else; safe to call again
 * (it counts). Returns the number of initialisations or a negative code.
 */
OB_EXTERN(int) ob_init(void);

/** Undo one ob_init. Returns the remaining count. */
OB_EXTERN(int) ob_shutdown(void);

/** The library's version string, e.g. "0.1.0". Borrowed, static. */
OB_EXTERN(const char *) ob_version(void);

/**
 * The last error on this thread: its message, or "" when there is none.
 * Borrowed: valid until the next failing call on this thread.
 */
OB_EXTERN(const char *) ob_error_last(void);

/** The class of the last error on this thread (OB_ERRCLASS_NONE if none). */
OB_EXTERN(int) ob_error_last_class(void);

/** The code of the last error on this thread (OB_OK if none). */
OB_EXTERN(int) ob_error_last_code(void);

/** Forget the last error on this thread. */
OB_EXTERN(void) ob_error_clear(void);

/** A short constant name for a code, e.g. "OB_EAUTH". Borrowed, static. */
OB_EXTERN(const char *) ob_error_name(int code);

/**
 * Override, for the whole process, one of the environment variables the library
 * reads: OBAGENT_HOME, OBAGENT_SERVER_NAME, OBAGENT_NOW (an ISO 8601 time that
 * the library's clock then reports, for tests), OBAGENT_WORKER (the job runner
 * to start instead of the obagent beside the library), OBAGENT_WORKER_ENV (names
 * of further variables to hand to job workers, docs/JOBS.md). value NULL overrides it as
 * unset. Once a variable has been overridden, the process environment is no
 * longer consulted for it.
 * Hosts whose runtime keeps an environment of its own (.NET on Unix) pass
 * theirs here. Thread-safe.
 */
OB_EXTERN(int) ob_env_set(const char *name, const char *value);

/**
 * Protect this process's memory, for a program that holds the agent's keys (the obagent runner
 * calls it first thing): no core file (RLIMIT_CORE 0, soft and hard), not dumpable (Linux:
 * PR_SET_DUMPABLE 0, so no other process of the user may trace it or read its memory or
 * /proc/<pid>/environ, and a crash dumps no core, even to a core handler unless root set
 * fs.suid_dumpable=2), and, with
 * work_from_root, the working folder `/`. It lasts for the life of the process. The library never
 * does this to its host on its own (a PowerShell session keeps its limits); the job worker does it
 * to itself as ob_job_run starts.
 */
OB_EXTERN(int) ob_process_harden(int work_from_root);

/** Free a string that the library returned through an out argument. NULL is fine. */
OB_EXTERN(void) ob_str_free(char *str);

#ifdef __cplusplus
}
#endif
#endif
