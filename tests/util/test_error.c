/* The error machinery: thread-local last error, pinned codes, env overrides. */
#include "testutil.h"
#include "util/error.h"
#include "util/env.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void test_codes_are_pinned(void **state)
{
	(void)state;
	assert_int_equal(OB_OK, 0);
	assert_int_equal(OB_ERROR, -1);
	assert_int_equal(OB_EINVALID, -2);
	assert_int_equal(OB_ENOTFOUND, -3);
	assert_int_equal(OB_EEXISTS, -4);
	assert_int_equal(OB_EAUTH, -5);
	assert_int_equal(OB_EPASSPHRASE, -6);
	assert_int_equal(OB_ECORRUPT, -7);
	assert_int_equal(OB_ELOCKED, -8);
	assert_int_equal(OB_ECANCELLED, -9);
	assert_int_equal(OB_EIO, -10);
	assert_int_equal(OB_ENOSPC, -11);
	assert_int_equal(OB_EEXPIRED, -12);
	assert_int_equal(OB_EACCESS, -13);
	assert_int_equal(OB_ENOTREG, -14);
	assert_int_equal(OB_ENOMEM, -15);
	assert_int_equal(OB_ESUPERSEDED, -16);
	assert_int_equal(OB_EFOREIGN, -17);
	assert_int_equal(OB_ENOKEY, -18);
	assert_string_equal(ob_error_name(OB_EAUTH), "OB_EAUTH");
	assert_string_equal(ob_error_name(-999), "OB_UNKNOWN");
}

static void test_last_error_is_set_and_cleared(void **state)
{
	(void)state;
	ob_error_clear();
	assert_string_equal(ob_error_last(), "");
	assert_int_equal(ob_error_last_code(), OB_OK);
	assert_int_equal(ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "thing %d missing", 7), OB_ENOTFOUND);
	assert_string_equal(ob_error_last(), "thing 7 missing");
	assert_int_equal(ob_error_last_code(), OB_ENOTFOUND);
	assert_int_equal(ob_error_last_class(), OB_ERRCLASS_VAULT);
	ob_error_clear();
	assert_string_equal(ob_error_last(), "");
}

static void test_os_errors_map_and_advise(void **state)
{
	(void)state;
	assert_int_equal(ob_err_os(ENOSPC, "Cannot write", "/x"), OB_ENOSPC);
	assert_non_null(strstr(ob_error_last(), "Free some space"));
	assert_int_equal(ob_err_os(EACCES, "Cannot read", "/y"), OB_EACCESS);
	assert_int_equal(ob_err_os(ENOENT, "Cannot open", "/z"), OB_ENOTFOUND);
	assert_non_null(strstr(ob_error_last(), "'/z'"));
}

static void *other_thread(void *arg)
{
	(void)arg;
	ob_err(OB_EAUTH, OB_ERRCLASS_CREDENTIALS, "from the other thread");
	return strdup(ob_error_last());
}

static void test_last_error_is_per_thread(void **state)
{
	pthread_t t;
	void *msg;

	(void)state;
	ob_err(OB_EIO, OB_ERRCLASS_OS, "from the main thread");
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(t, &msg), 0);
	assert_string_equal(msg, "from the other thread");
	free(msg);
	assert_string_equal(ob_error_last(), "from the main thread");
	assert_int_equal(ob_error_last_code(), OB_EIO);
}

static void test_long_messages_are_truncated_safely(void **state)
{
	char big[4000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ob_err(OB_ERROR, OB_ERRCLASS_NONE, "%s", big);
	assert_true(strlen(ob_error_last()) < sizeof(big));
}

static void test_env_overrides(void **state)
{
	char *v;
	int64_t now;

	(void)state;
	assert_int_equal(ob_env_set("PATH", "x"), OB_EINVALID);
	assert_ok(ob_env_set("OBAGENT_SERVER_NAME", "srv-one"));
	v = ob_env_get("OBAGENT_SERVER_NAME");
	assert_string_equal(v, "srv-one");
	free(v);
	assert_ok(ob_env_set("OBAGENT_NOW", "2030-01-02T03:04:05Z"));
	assert_ok(ob_clock_now(&now));
	assert_int_equal(now, 1893553445);
	assert_ok(ob_env_set("OBAGENT_NOW", "not a time"));
	assert_int_equal(ob_clock_now(&now), OB_EINVALID);
	assert_non_null(strstr(ob_error_last(), "OBAGENT_NOW"));
	assert_ok(ob_env_set("OBAGENT_NOW", NULL));
	assert_ok(ob_clock_now(&now));
	assert_true(now > 1893553445 - 200000000);
	assert_ok(ob_env_set("OBAGENT_SERVER_NAME", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_are_pinned),
		cmocka_unit_test(test_last_error_is_set_and_cleared),
		cmocka_unit_test(test_os_errors_map_and_advise),
		cmocka_unit_test(test_last_error_is_per_thread),
		cmocka_unit_test(test_long_messages_are_truncated_safely),
		cmocka_unit_test(test_env_overrides),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
