/* Helpers shared by the CMocka tests. */
#ifndef OB_TESTUTIL_H
#define OB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "obagent.h"

/** Make a fresh temporary folder; returns a malloc'd path. */
char *ob_test_tempdir(const char *tag);
/** Remove a folder tree (like rm -rf). */
void ob_test_rmtree(const char *path);
/** Join paths into a malloc'd string. */
char *ob_test_path(const char *a, const char *b);
/** Write/read a whole file (read: malloc'd, NUL-terminated). */
void ob_test_write(const char *path, const void *data, size_t len);
char *ob_test_read(const char *path, size_t *len);

/*
 * One server registered to a fresh local vault, as most end-to-end tests start:
 * ob_test_server_folders makes the folders (dir, and dir/src empty, for the
 * test to fill), ob_test_server_register the vault (dir/vault), a credentials
 * file (in dir/creds), the agent (home dir/<home>) registered with its
 * passphrase, and a committed policy that backs up src recursively. It sets
 * OBAGENT_WORKER and OBAGENT_SERVER_NAME and clears OBAGENT_NOW. Everything in
 * the struct is the test's: ob_test_server_dispose frees it and removes dir.
 */
typedef struct ob_test_server {
	char *dir, *src, *vault_path, *creds;
	ob_agent *agent;
} ob_test_server;

void ob_test_server_folders(ob_test_server *s, const char *tag);
void ob_test_server_register(ob_test_server *s, const char *home, const char *worker, const char *server_name,
	const char *vault_name, const char *passphrase);
void ob_test_server_dispose(ob_test_server *s);

/**
 * Wait for a job to end (polling, with a bound of ten minutes no loaded machine
 * reaches); takes j and returns its final info (ob_job_info_free).
 */
ob_job_info *ob_test_job_wait(ob_agent *a, ob_job_info *j);
/** Start a backup job and wait for its end; its final info (ob_job_info_free). */
ob_job_info *ob_test_backup(ob_agent *a);

/** The newest point of a's server (malloc'd) and its first data source's id. */
void ob_test_newest_point(ob_agent *a, char **point, int64_t *ds);

/** Assert a call returns code (and print the last error if not). */
#define assert_ob(code, call) do { \
	int ob_rc_ = (call); \
	if (ob_rc_ != (code)) \
		print_error("%s -> %d (%s), expected %d: %s\n", #call, ob_rc_, ob_error_name(ob_rc_), (code), ob_error_last()); \
	assert_int_equal(ob_rc_, (code)); \
} while (0)

#define assert_ok(call) assert_ob(0, call)

#endif
