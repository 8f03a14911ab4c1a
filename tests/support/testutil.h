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

/** Assert a call returns code (and print the last error if not). */
#define assert_ob(code, call) do { \
	int ob_rc_ = (call); \
	if (ob_rc_ != (code)) \
		print_error("%s -> %d (%s), expected %d: %s\n", #call, ob_rc_, ob_error_name(ob_rc_), (code), ob_error_last()); \
	assert_int_equal(ob_rc_, (code)); \
} while (0)

#define assert_ok(call) assert_ob(0, call)

#endif
