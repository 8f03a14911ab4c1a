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
/**
 * A path relative to its data source, as ob_restore_options.item names it and a
 * restore to another folder recreates it: past the "/" on POSIX, past the drive
 * ("/C:/") in the engine's Windows form. Points into path.
 */
const char *ob_test_rel(const char *path);
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

#ifdef _WIN32
/*
 * The Windows lane (docs/WINDOWS.md): the few POSIX calls the tests make that
 * Windows' C runtime lacks or spells otherwise, on the platform layer. The
 * headers that declare Windows' own mkdir come first, so the macro stays ours.
 */
#include <direct.h>
#include <io.h>
#include <sys/stat.h>
/** setenv/unsetenv (_putenv_s: the C runtime's copy and the process's, which a worker inherits). */
int ob_test_setenv(const char *name, const char *value, int overwrite);
int ob_test_unsetenv(const char *name);
/** mkdir(2): 0, or -1 with errno (EEXIST when something is there); the mode is not applied. */
int ob_test_mkdir(const char *path, unsigned int mode);
void *ob_test_memmem(const void *hay, size_t hay_len, const void *needle, size_t needle_len);
#define setenv ob_test_setenv
#define unsetenv ob_test_unsetenv
#undef mkdir
#define mkdir(path, mode) ob_test_mkdir((path), (mode))
#define memmem ob_test_memmem
/** unlink(2) of a file (ob_file_remove): 0, or -1. */
int ob_test_unlink(const char *path);
#define unlink ob_test_unlink
/** rename(2) within one folder (ob_file_rename_at): 0, or -1. */
int ob_test_rename(const char *from, const char *to);
#define rename ob_test_rename
/** The bytes of the regular files in a tree (nftw's walk, on the platform layer). */
uint64_t ob_test_tree_bytes(const char *dir);
/**
 * What the tests' shell pipelines find (`ls DIR/.../FOLDER/.../NAME`, `ls -S ... | head -n 1`): the
 * path (malloc'd) of a file named name (NULL: the largest) below a folder named folder, anywhere
 * under root; NULL when there is none.
 */
char *ob_test_find_file(const char *root, const char *folder, const char *name);
/** Change the byte at offset at (negative: the middle one) of a file to another value. */
void ob_test_flip_byte(const char *path, int64_t at);
/** `cp -r from to` (folders and regular files). */
void ob_test_copy_tree(const char *from, const char *to);
/** `diff -r a b` of folders and regular files: 1 when they hold the same names and bytes (else prints the first difference). */
int ob_test_trees_equal(const char *a, const char *b);
#endif

/** Assert a call returns code (and print the last error if not). */
#define assert_ob(code, call) do { \
	int ob_rc_ = (call); \
	if (ob_rc_ != (code)) \
		print_error("%s -> %d (%s), expected %d: %s\n", #call, ob_rc_, ob_error_name(ob_rc_), (code), ob_error_last()); \
	assert_int_equal(ob_rc_, (code)); \
} while (0)

#define assert_ok(call) assert_ob(0, call)

#endif
