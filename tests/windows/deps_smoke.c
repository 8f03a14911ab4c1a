/* The Windows lane's dependency check (docs/WINDOWS.md): one CMocka test per library that
 * .ci/windows-deps cross-builds, linked against its DLLs and run under wine64. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <sqlite3.h>

static void test_openssl_sha256_abc(void **state)
{
    (void)state;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    assert_int_equal(EVP_Digest("abc", 3, md, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
    for (unsigned int i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    /* FIPS 180-2, appendix B.1 */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    printf("openssl: %s\n", OpenSSL_version(OPENSSL_VERSION));
}

static void test_curl_uses_schannel(void **state)
{
    (void)state;
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    assert_non_null(info);
    assert_true(info->features & CURL_VERSION_SSL);
    assert_non_null(info->ssl_version);
    printf("curl: %s, TLS %s\n", info->version, info->ssl_version);
    assert_non_null(strstr(info->ssl_version, "Schannel"));
    assert_null(strstr(info->ssl_version, "OpenSSL"));
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_cleanup(h);
    curl_global_cleanup();
}

static void test_sqlite_select_1(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "select 1", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_threadsafe(), 1);
    printf("sqlite: %s\n", sqlite3_libversion());
    sqlite3_close(db);
}

static void test_libdeflate_round_trip(void **state)
{
    (void)state;
    static unsigned char in[64 * 1024], packed[70 * 1024], out[64 * 1024];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof in; i++) {
        /* half text-like (compressible), half xorshift noise */
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        in[i] = (i & 1024) ? (unsigned char)x : (unsigned char)("obagent "[i % 8]);
    }
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    assert_non_null(c);
    size_t n = libdeflate_deflate_compress(c, in, sizeof in, packed, sizeof packed);
    libdeflate_free_compressor(c);
    assert_true(n > 0 && n < sizeof in);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    assert_non_null(d);
    size_t got = 0;
    assert_int_equal(libdeflate_deflate_decompress(d, packed, n, out, sizeof out, &got), LIBDEFLATE_SUCCESS);
    libdeflate_free_decompressor(d);
    assert_int_equal(got, sizeof in);
    assert_memory_equal(in, out, sizeof in);
    printf("libdeflate: %s, %zu -> %zu bytes\n", LIBDEFLATE_VERSION_STRING, sizeof in, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_sha256_abc),
        cmocka_unit_test(test_curl_uses_schannel),
        cmocka_unit_test(test_sqlite_select_1),
        cmocka_unit_test(test_libdeflate_round_trip),
    };
    return cmocka_run_group_tests_name("deps_smoke", tests, NULL, NULL);
}
