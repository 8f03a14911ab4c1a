/* Encodings, times and the key=value record format (round trips and garbage). */
#include "testutil.h"
#include "util/util.h"
#include "platform/platform.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_base64_round_trip(void **state)
{
	uint8_t data[300];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (n = 0; n < 40; n++) {
		char *text = ob_base64_encode(data, n);
		uint8_t *back;
		size_t back_len;
		assert_non_null(text);
		assert_int_equal(strlen(text), 4 * ((n + 2) / 3));
		assert_ok(ob_base64_decode(&back, &back_len, text));
		assert_int_equal(back_len, n);
		assert_memory_equal(back, data, n);
		free(back);
		free(text);
	}
}

static void test_base64_rejects_garbage(void **state)
{
	uint8_t *out;
	size_t len;
	const char *bad[] = { "abc", "ab=c", "a===", "@@@@", "QQ==QQ==", "QQ=\n" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ob_base64_decode(&out, &len, bad[i]), OB_EINVALID);
	assert_ok(ob_base64_decode(&out, &len, "QQ=="));
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 'A');
	free(out);
}

static void test_time_parse_and_format(void **state)
{
	int64_t t;
	char text[21];

	(void)state;
	assert_ok(ob_time_parse(&t, "1970-01-01T00:00:00Z"));
	assert_int_equal(t, 0);
	assert_ok(ob_time_parse(&t, "2024-02-29T12:30:15Z"));
	ob_time_format_utc(text, t);
	assert_string_equal(text, "2024-02-29T12:30:15Z");
	assert_ok(ob_time_parse(&t, "2024-02-29T14:30:15+02:00"));
	ob_time_format_utc(text, t);
	assert_string_equal(text, "2024-02-29T12:30:15Z");
	assert_ok(ob_time_parse(&t, "2024-02-29T12:30:15.123Z"));
	ob_time_format_utc(text, t);
	assert_string_equal(text, "2024-02-29T12:30:15Z");
	assert_int_equal(ob_time_parse(&t, "2024-13-01T00:00:00Z"), OB_EINVALID);
	assert_int_equal(ob_time_parse(&t, "2024-02-30T00:00:00Z"), OB_EINVALID);
	assert_int_equal(ob_time_parse(&t, "yesterday"), OB_EINVALID);
	assert_int_equal(ob_time_parse(&t, "2024-01-01T00:00:00Zjunk"), OB_EINVALID);
}

static void test_kv_round_trip(void **state)
{
	ob_buf b = OB_BUF_INIT;
	ob_kv kv;
	int64_t n;

	(void)state;
	assert_ok(ob_kv_begin(&b, "thing", 2));
	assert_ok(ob_kv_add(&b, "name", "a value = with equals"));
	assert_ok(ob_kv_add_i64(&b, "count", -42));
	assert_int_equal(ob_kv_add(&b, "Bad", "x"), OB_EINVALID);
	assert_int_equal(ob_kv_add(&b, "ok", "line\nbreak"), OB_EINVALID);
	assert_ok(ob_kv_parse(&kv, b.data, b.len));
	assert_string_equal(kv.kind, "thing");
	assert_int_equal(kv.version, 2);
	assert_string_equal(ob_kv_get(&kv, "name"), "a value = with equals");
	assert_ok(ob_kv_get_i64(&n, &kv, "count"));
	assert_int_equal(n, -42);
	assert_null(ob_kv_get(&kv, "missing"));
	assert_int_equal(ob_kv_get_i64(&n, &kv, "name"), OB_ECORRUPT);
	ob_kv_dispose(&kv);
	ob_buf_dispose(&b);
}

static void test_kv_rejects_malformed(void **state)
{
	const char *bad[] = {
		"", "obagent-x 1", "obagent-x 1\nnoequals\n", "other 1\n", "obagent-x 0\n",
		"obagent-x one\n", "obagent-x 1\nk=v\nk=w\n", "obagent-X 1\n", "obagent-x 1\n=v\n",
		"obagent-x 1\nk=\x01\n",
	};
	size_t i;
	ob_kv kv;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ob_kv_parse(&kv, bad[i], strlen(bad[i])), OB_ECORRUPT);
	assert_int_equal(ob_kv_parse(&kv, "obagent-x 1\n\0k=v\n", 16), OB_ECORRUPT);
}

static void test_kv_survives_mutations(void **state)
{
	const char *good = "obagent-server-key 1\nkdf=scrypt\nsalt=QUJD\ncreated=17\n";
	size_t len = strlen(good), i;
	char buf[128];
	unsigned int seed = 12345;

	(void)state;
	for (i = 0; i < 20000; i++) {
		ob_kv kv;
		size_t cut = (size_t)(rand_r(&seed) % (len + 1));
		memcpy(buf, good, len);
		buf[rand_r(&seed) % len] = (char)(rand_r(&seed) & 0xff);
		if (ob_kv_parse(&kv, buf, cut) == 0) {
			assert_non_null(kv.kind);
			ob_kv_dispose(&kv);
		}
	}
}

/*
 * Files written whole: page-aligned large buffers go to the disk directly (their
 * whole pages), the rest the usual way; every byte must come back, whatever the
 * alignment and tail, and a create-only write must not replace a file.
 */
static void test_write_file_any_alignment(void **state)
{
	size_t sizes[] = { 0, 100, (1u << 20) - 1, 1u << 20, (3u << 20) + 123, 5u << 20 }, k, off;
	char *dir = ob_test_tempdir("write-file"), *path = ob_test_path(dir, "f");
	uint8_t *buf = NULL;

	(void)state;
	assert_int_equal(posix_memalign((void **)&buf, 4096, (5u << 20) + 4096), 0);
	for (k = 0; k < (5u << 20) + 4096; k++)
		buf[k] = (uint8_t)(k * 7 + k / 4096);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (off = 0; off < 2; off++) {
			char *back = NULL;
			size_t back_len = 0;
			unlink(path);
			assert_ok(ob_platform_write_file_nosync(path, buf + off, sizes[k], 0600));
			assert_ob(OB_EEXISTS, ob_platform_write_file_nosync(path, buf, 10, 0600));
			assert_ok(ob_platform_read_file(&back, &back_len, path, 16u << 20));
			assert_int_equal(back_len, sizes[k]);
			if (sizes[k])
				assert_memory_equal(back, buf + off, sizes[k]);
			free(back);
		}
	free(buf);
	free(path);
	ob_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_base64_rejects_garbage),
		cmocka_unit_test(test_time_parse_and_format),
		cmocka_unit_test(test_kv_round_trip),
		cmocka_unit_test(test_kv_rejects_malformed),
		cmocka_unit_test(test_kv_survives_mutations),
		cmocka_unit_test(test_write_file_any_alignment),
	};
	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
