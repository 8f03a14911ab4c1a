/*
 * The Azure Blob back end's offline parts: SharedKey and SAS signing against the
 * golden vectors that Azurite accepted (docs/AZURE.md), URL encoding, and the
 * listing parser on valid, truncated, garbage and mutated input.
 */
#include "testutil.h"
#include "storage/azure_sign.h"
#include "storage/azure_xml.h"
#include "obagent/sys/azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define DATE "Mon, 01 Jan 2024 00:00:00 GMT"

static void sign(char sig[64], const char *sts, size_t len)
{
	uint8_t *key;
	size_t key_len;

	assert_ok(ob_azure_key_decode(&key, &key_len, DEV_KEY));
	assert_int_equal(key_len, 64);
	assert_ok(ob_azure_hmac(sig, key, key_len, sts, len));
	free(key);
}

static void check_vector(const ob_azure_sign_input *in, const char *want_sts, const char *want_sig)
{
	ob_buf b = OB_BUF_INIT;
	char sig[64];

	assert_ok(ob_azure_string_to_sign(&b, in));
	assert_int_equal(b.len, strlen(want_sts));
	assert_string_equal(b.data, want_sts);
	sign(sig, b.data, b.len);
	assert_string_equal(sig, want_sig);
	ob_buf_dispose(&b);
}

static void test_sharedkey_list_path_style(void **state)
{
	/* Given out of order on purpose: the signer sorts. */
	ob_azure_pair h[] = { { "x-ms-version", "2021-12-02" }, { "x-ms-date", DATE } };
	ob_azure_pair q[] = { { "restype", "container" }, { "comp", "list" } };
	ob_azure_sign_input in;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.method = "GET";
	in.headers = h;
	in.header_count = 2;
	in.account = "devstoreaccount1";
	in.path = "/devstoreaccount1/golden";
	in.query = q;
	in.query_count = 2;
	check_vector(&in, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:" DATE "\nx-ms-version:2021-12-02\n"
		"/devstoreaccount1/devstoreaccount1/golden\ncomp:list\nrestype:container",
		"TqWiJofJ4+rHKaYq4ZYAHiYXuX0w6qfvXtmeQXzJEKw=");
}

static void test_sharedkey_list_host_style(void **state)
{
	ob_azure_pair h[] = { { "x-ms-date", DATE }, { "x-ms-version", "2021-12-02" } };
	ob_azure_pair q[] = { { "restype", "container" }, { "comp", "list" } };
	ob_azure_sign_input in;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.method = "GET";
	in.headers = h;
	in.header_count = 2;
	in.account = "devstoreaccount1";
	in.path = "/golden";
	in.query = q;
	in.query_count = 2;
	check_vector(&in, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:" DATE "\nx-ms-version:2021-12-02\n"
		"/devstoreaccount1/golden\ncomp:list\nrestype:container",
		"1VtCaGGMgXaA0nxZOQIzqjEzh55LtDf1i/Wxt4f6AOY=");
}

static void test_sharedkey_put(void **state)
{
	ob_azure_pair h[] = { { "x-ms-version", "2021-12-02" }, { "x-ms-blob-type", "BlockBlob" }, { "x-ms-date", DATE } };
	ob_buf path = OB_BUF_INIT;
	ob_azure_sign_input in;

	(void)state;
	assert_ok(ob_buf_puts(&path, "/devstoreaccount1/golden/"));
	assert_ok(ob_azure_url_encode(&path, "dir/a b.bin", 1));
	memset(&in, 0, sizeof(in));
	in.method = "PUT";
	in.content_length = 4096;
	in.content_type = "application/octet-stream";
	in.if_none_match = "*";
	in.headers = h;
	in.header_count = 3;
	in.account = "devstoreaccount1";
	in.path = path.data;
	check_vector(&in, "PUT\n\n\n4096\n\napplication/octet-stream\n\n\n\n*\n\n\nx-ms-blob-type:BlockBlob\n"
		"x-ms-date:" DATE "\nx-ms-version:2021-12-02\n/devstoreaccount1/devstoreaccount1/golden/dir/a%20b.bin",
		"nKuiVab+zmR9fw1gyx851S4kZ8SR5ZJKwyQ8MH/M+cQ=");
	ob_buf_dispose(&path);
}

static void test_sharedkey_canonical_details(void **state)
{
	/* Folded header whitespace, a repeated parameter, length 0 signed as "". */
	ob_azure_pair h[] = { { "x-ms-meta-b", "  two   words " }, { "x-ms-date", DATE } };
	ob_azure_pair q[] = { { "include", "snapshots" }, { "comp", "list" }, { "include", "metadata" } };
	ob_azure_sign_input in;
	ob_buf b = OB_BUF_INIT;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.method = "PUT";
	in.headers = h;
	in.header_count = 2;
	in.account = "acct";
	in.path = "/c/b";
	in.query = q;
	in.query_count = 3;
	assert_ok(ob_azure_string_to_sign(&b, &in));
	assert_string_equal(b.data, "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:" DATE "\nx-ms-meta-b:two words\n"
		"/acct/c/b\ncomp:list\ninclude:metadata,snapshots");
	ob_buf_dispose(&b);
}

static void test_sas_golden(void **state)
{
	char *tok;
	int64_t expiry;
	ob_buf sts = OB_BUF_INIT;
	char sig[64];

	(void)state;
	assert_ok(ob_azure_sas_string_to_sign(&sts, "devstoreaccount1", "golden", "racwl", "", "2099-01-01T00:00:00Z",
		"2021-12-02"));
	assert_string_equal(sts.data, "racwl\n\n2099-01-01T00:00:00Z\n/blob/devstoreaccount1/golden\n\n\n\n2021-12-02\nc\n\n\n\n\n\n\n");
	sign(sig, sts.data, sts.len);
	assert_string_equal(sig, "Qwm8F1w8uwyofvuYB4PkCfZFdzyAuZhzVNT51ibNCYQ=");
	ob_buf_dispose(&sts);

	assert_ok(ob_time_parse(&expiry, "2099-01-01T00:00:00Z"));
	/* Letters in any order come out in the service's order. */
	assert_ok(ob_azure_sas_create(&tok, "devstoreaccount1", DEV_KEY, "golden", "lwcar", 0, expiry));
	assert_string_equal(tok, "sv=2021-12-02&se=2099-01-01T00%3A00%3A00Z&sr=c&sp=racwl"
		"&sig=Qwm8F1w8uwyofvuYB4PkCfZFdzyAuZhzVNT51ibNCYQ%3D");
	ob_str_free(tok);
}

static void test_sas_create_and_parse(void **state)
{
	ob_azure_sas_info info;
	char *tok;

	(void)state;
	assert_ok(ob_azure_sas_create(&tok, "acct", DEV_KEY, "vault-1", "lcr", 1700000000, 1800000000));
	assert_non_null(strstr(tok, "&st=2023-11-14T22%3A13%3A20Z&"));
	assert_non_null(strstr(tok, "&sp=rcl&"));
	assert_ok(ob_azure_sas_parse(&info, tok));
	assert_string_equal(info.permissions, "rcl");
	assert_int_equal(info.expiry, 1800000000);
	assert_string_equal(info.expiry_text, "2027-01-15T08:00:00Z");
	ob_str_free(tok);

	assert_ok(ob_azure_sas_parse(&info, "?sv=2021-12-02&sp=rl&se=2030-01-01T00%3A00%3A00Z&sr=c&sig=abc"));
	assert_string_equal(info.permissions, "rl");
	assert_ob(OB_EINVALID, ob_azure_sas_parse(&info, "sv=2021-12-02&sp=rl"));   /* no signature */

	assert_ob(OB_EINVALID, ob_azure_sas_create(&tok, "acct", DEV_KEY, "vault-1", "rcq", 0, 1800000000));
	assert_null(tok);
	assert_ob(OB_EINVALID, ob_azure_sas_create(&tok, "acct", DEV_KEY, "Bad_Name", "rcl", 0, 1800000000));
	assert_ob(OB_EINVALID, ob_azure_sas_create(&tok, "acct", "not base64!", "vault-1", "rcl", 0, 1800000000));
	assert_ob(OB_EINVALID, ob_azure_sas_create(&tok, "acct", DEV_KEY, "vault-1", "rcl", 1800000000, 1700000000));
}

static void test_url_encoding(void **state)
{
	ob_buf b = OB_BUF_INIT;

	(void)state;
	assert_ok(ob_azure_url_encode(&b, "servers/0a1b/keys/00-1_x.y~", 1));
	assert_string_equal(b.data, "servers/0a1b/keys/00-1_x.y~");
	b.len = 0;
	assert_ok(ob_azure_url_encode(&b, "p/q r+s=t&u%\xc3\xa9", 0));
	assert_string_equal(b.data, "p%2Fq%20r%2Bs%3Dt%26u%25%C3%A9");
	b.len = 0;
	assert_ok(ob_azure_url_encode(&b, "a b/c", 1));
	assert_string_equal(b.data, "a%20b/c");
	b.len = 0;
	assert_ok(ob_azure_url_decode(&b, "p%2Fq%20r%2bs", 13));
	assert_string_equal(b.data, "p/q r+s");
	b.len = 0;
	assert_ob(OB_EINVALID, ob_azure_url_decode(&b, "bad%2", 5));
	assert_ob(OB_EINVALID, ob_azure_url_decode(&b, "bad%zz", 6));
	assert_ob(OB_EINVALID, ob_azure_url_decode(&b, "%", 1));
	ob_buf_dispose(&b);
}

static const char LISTING[] =
	"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/devstoreaccount1\" ContainerName=\"v\">"
	"<Prefix>keys/</Prefix><MaxResults>2</MaxResults>"
	"<Blobs>"
	"<Blob><Name>keys/0000000001</Name><Properties><Creation-Time>Mon, 01 Jan 2024 00:00:00 GMT</Creation-Time>"
	"<Content-Length>11</Content-Length><Content-Type>application/octet-stream</Content-Type>"
	"<Content-MD5/><BlobType>BlockBlob</BlobType></Properties><Metadata/></Blob>\n"
	"  <Blob><Name>keys/a&amp;b&#x41;&#66;<![CDATA[<c>]]></Name><Properties><Content-Length>0</Content-Length></Properties></Blob>"
	"<Blob><Name Encoded=\"true\">%EF%BF%BF</Name><Properties><Content-Length>5</Content-Length></Properties></Blob>"
	"</Blobs>"
	"<NextMarker>2!76!MDAwMDA=</NextMarker>"
	"</EnumerationResults>\n";

static void test_listing_parses(void **state)
{
	ob_azure_listing l;

	(void)state;
	assert_ok(ob_azure_list_parse(&l, LISTING, sizeof(LISTING) - 1));
	assert_int_equal(l.count, 2);
	assert_string_equal(l.entries[0].name, "keys/0000000001");
	assert_int_equal(l.entries[0].size, 11);
	assert_string_equal(l.entries[1].name, "keys/a&bAB<c>");
	assert_int_equal(l.entries[1].size, 0);
	assert_string_equal(l.next_marker, "2!76!MDAwMDA=");
	ob_azure_listing_dispose(&l);

	/* The last page: an empty <NextMarker/> and no blobs. */
	{
		static const char last[] = "<?xml version=\"1.0\"?><EnumerationResults><Blobs /><NextMarker/></EnumerationResults>";
		assert_ok(ob_azure_list_parse(&l, last, sizeof(last) - 1));
		assert_int_equal(l.count, 0);
		assert_string_equal(l.next_marker, "");
		ob_azure_listing_dispose(&l);
	}
}

static void test_listing_truncated(void **state)
{
	size_t n, full = sizeof(LISTING) - 1, end = full;
	ob_azure_listing l;

	(void)state;
	while (end && (LISTING[end - 1] == '\n'))
		end--;
	for (n = 0; n < end; n++) {
		int rc = ob_azure_list_parse(&l, LISTING, n);
		if (rc != OB_ECORRUPT)
			print_error("prefix of %zu bytes parsed: %d\n", n, rc);
		assert_int_equal(rc, OB_ECORRUPT);
		ob_azure_listing_dispose(&l);
	}
}

static void test_listing_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"not xml at all",
		"<html><body>502 Bad Gateway</body></html>",
		"<!DOCTYPE x [<!ENTITY a \"b\">]><EnumerationResults/>",
		"<EnumerationResults><Blobs><Blob><Name>x</Name></Blob></Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs><Blob><Properties><Content-Length>1</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs><Blob><Name>x</Name><Properties><Content-Length>-1</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs><Blob><Name>x</Name><Properties><Content-Length>99999999999999999999999</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs><Blob><Name>x</Name><Name>y</Name><Properties><Content-Length>1</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs></Blob></Blobs></EnumerationResults>",
		"<EnumerationResults></EnumerationResults><EnumerationResults></EnumerationResults>",
		"<EnumerationResults>&bogus;</EnumerationResults>",
		"<EnumerationResults>&#0;</EnumerationResults>",
		"<EnumerationResults>&#xD800;</EnumerationResults>",
		"<EnumerationResults a=b></EnumerationResults>",
		"<EnumerationResults a=\"b></EnumerationResults>",
		"<EnumerationResults><!-- unterminated </EnumerationResults>",
		"<EnumerationResults><![CDATA[ x </EnumerationResults>",
		"<Error><Code>x</Code></Error>",
		"text<EnumerationResults/>",
		"<EnumerationResults/>trailing",
		"<EnumerationResults><NextMarker>a</NextMarker><NextMarker>b</NextMarker></EnumerationResults>",
		"< EnumerationResults/>",
		"<EnumerationResults/",
	};
	ob_azure_listing l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ob_azure_list_parse(&l, bad[i], strlen(bad[i]));
		if (rc != OB_ECORRUPT)
			print_error("garbage %zu parsed: %d: %s\n", i, rc, bad[i]);
		assert_int_equal(rc, OB_ECORRUPT);
		assert_true(strlen(ob_error_last()) > 0);
		ob_azure_listing_dispose(&l);
	}
	/* Deep nesting is refused, not a stack overflow. */
	{
		ob_buf b = OB_BUF_INIT;
		for (i = 0; i < 10000; i++)
			assert_ok(ob_buf_puts(&b, "<a>"));
		assert_int_equal(ob_azure_list_parse(&l, b.data, b.len), OB_ECORRUPT);
		ob_azure_listing_dispose(&l);
		ob_buf_dispose(&b);
	}
}

static uint32_t rng = 0x9e3779b9u;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void test_listing_mutations(void **state)
{
	static const char alphabet[] = "<>/&;=\"'!?[]-#x0aZ \n";
	size_t full = sizeof(LISTING) - 1;
	char *buf = malloc(full + 64);
	int round, parsed = 0;

	(void)state;
	assert_non_null(buf);
	for (round = 0; round < 50000; round++) {
		size_t len = full, k, edits = 1 + next_rand() % 4;
		ob_azure_listing l;
		int rc;

		memcpy(buf, LISTING, full);
		for (k = 0; k < edits; k++) {
			size_t at = next_rand() % len;
			switch (next_rand() % 4) {
			case 0: buf[at] = (char)(next_rand() & 0xff); break;
			case 1: buf[at] = alphabet[next_rand() % (sizeof(alphabet) - 1)]; break;
			case 2: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
			default: if (len < full + 60) { memmove(buf + at + 1, buf + at, len - at); buf[at] = alphabet[next_rand() % (sizeof(alphabet) - 1)]; len++; } break;
			}
		}
		rc = ob_azure_list_parse(&l, buf, len);
		assert_true(rc == 0 || rc == OB_ECORRUPT);
		if (rc == 0) {
			size_t i;
			parsed++;
			for (i = 0; i < l.count; i++)
				assert_non_null(l.entries[i].name);
		}
		ob_azure_listing_dispose(&l);
		free(ob_azure_xml_text(buf, len, "Name"));
	}
	print_message("mutations: %d of 50000 still parsed\n", parsed);
	free(buf);
}

static void test_error_body(void **state)
{
	static const char body[] = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>"
		"<Message>Server failed to authenticate the request.\nRequestId:1\nTime:2024</Message>"
		"<AuthenticationErrorDetail>Signed expiry time [Mon, 01 Jan 2024] must be after signed start time</AuthenticationErrorDetail></Error>";
	char *t;

	(void)state;
	t = ob_azure_xml_text(body, sizeof(body) - 1, "Code");
	assert_string_equal(t, "AuthenticationFailed");
	free(t);
	t = ob_azure_xml_text(body, sizeof(body) - 1, "AuthenticationErrorDetail");
	assert_non_null(strstr(t, "expiry"));
	free(t);
	assert_null(ob_azure_xml_text(body, sizeof(body) - 1, "Nope"));
	assert_null(ob_azure_xml_text(body, 40, "Code"));
}

static void test_options_checked(void **state)
{
	ob_azure_options o = OB_AZURE_OPTIONS_INIT;
	ob_backend *be = NULL;

	(void)state;
	o.account = "devstoreaccount1";
	o.container = "vault";
	assert_ob(OB_EINVALID, ob_backend_azure_new(&be, &o));          /* neither key nor SAS */
	o.account_key = DEV_KEY;
	o.sas = "sv=x&sig=y";
	assert_ob(OB_EINVALID, ob_backend_azure_new(&be, &o));          /* both */
	o.sas = NULL;
	o.container = "UPPER";
	assert_ob(OB_EINVALID, ob_backend_azure_new(&be, &o));
	o.container = "vault";
	o.endpoint = "ftp://example";
	assert_ob(OB_EINVALID, ob_backend_azure_new(&be, &o));
	o.endpoint = NULL;                                               /* https://devstoreaccount1.blob.core.windows.net */
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_int_equal(be->capabilities(be), OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET | OB_BACKEND_CAP_REMOTE);
	assert_ob(OB_EINVALID, be->put(be, "../x", "x", 1));
	be->free(be);
	o.account_key = NULL;
	o.sas = "?sv=2021-12-02&se=2099-01-01T00%3A00%3A00Z&sr=c&sp=rcl&sig=abc";
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_int_equal(be->capabilities(be), OB_BACKEND_CAP_RANGE_GET | OB_BACKEND_CAP_REMOTE);
	be->free(be);
	o.version = 99;
	assert_ob(OB_EINVALID, ob_backend_azure_new(&be, &o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sharedkey_list_path_style),
		cmocka_unit_test(test_sharedkey_list_host_style),
		cmocka_unit_test(test_sharedkey_put),
		cmocka_unit_test(test_sharedkey_canonical_details),
		cmocka_unit_test(test_sas_golden),
		cmocka_unit_test(test_sas_create_and_parse),
		cmocka_unit_test(test_url_encoding),
		cmocka_unit_test(test_listing_parses),
		cmocka_unit_test(test_listing_truncated),
		cmocka_unit_test(test_listing_garbage),
		cmocka_unit_test(test_listing_mutations),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_options_checked),
	};

	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
