/* Azure Blob SharedKey signing, service SAS and URL encoding (no I/O). */
#include "storage/azure_sign.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static int is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int ob_azure_url_encode(ob_buf *out, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	int error = 0;

	for (; *s && !error; s++) {
		unsigned char c = (unsigned char)*s;
		if (is_unreserved(c) || (keep_slash && c == '/')) {
			error = ob_buf_put(out, s, 1);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			error = ob_buf_put(out, esc, 3);
		}
	}
	return error;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int ob_azure_url_decode(ob_buf *out, const char *s, size_t len)
{
	size_t i;
	int error = 0;

	for (i = 0; i < len && !error; i++) {
		if (s[i] == '%') {
			int hi, lo;
			char c;
			if (i + 2 >= len)
				return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Bad percent escape in '%.*s'.", (int)len, s);
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Bad percent escape in '%.*s'.", (int)len, s);
			c = (char)(hi * 16 + lo);
			error = ob_buf_put(out, &c, 1);
			i += 2;
		} else {
			error = ob_buf_put(out, s + i, 1);
		}
	}
	return error;
}

static int cmp_pair(const void *a, const void *b)
{
	const ob_azure_pair *x = *(const ob_azure_pair *const *)a, *y = *(const ob_azure_pair *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/* Sorted copies of pointers to pairs (names are lowercase ASCII here: callers pass them so). */
static const ob_azure_pair **sorted(const ob_azure_pair *p, size_t n)
{
	const ob_azure_pair **s = malloc((n ? n : 1) * sizeof(*s));
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++)
		s[i] = &p[i];
	qsort(s, n, sizeof(*s), cmp_pair);
	return s;
}

/* A header value with leading whitespace trimmed and runs of whitespace folded to one space. */
static int put_folded(ob_buf *out, const char *v)
{
	int space = 0, error = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v && !error; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = 1;
			continue;
		}
		if (space && (error = ob_buf_put(out, " ", 1)) < 0)
			break;
		space = 0;
		error = ob_buf_put(out, v, 1);
	}
	return error;
}

static int put_field(ob_buf *out, const char *v)
{
	int error = v ? ob_buf_puts(out, v) : 0;

	return error ? error : ob_buf_put(out, "\n", 1);
}

int ob_azure_string_to_sign(ob_buf *out, const ob_azure_sign_input *in)
{
	const ob_azure_pair **h = NULL, **q = NULL;
	char len[32] = "";
	size_t i;
	int error = 0;

	if (in->content_length)
		snprintf(len, sizeof(len), "%llu", (unsigned long long)in->content_length);
	if ((error = put_field(out, in->method)) < 0 ||
	    (error = put_field(out, NULL)) < 0 ||           /* Content-Encoding */
	    (error = put_field(out, NULL)) < 0 ||           /* Content-Language */
	    (error = put_field(out, len)) < 0 ||
	    (error = put_field(out, in->content_md5)) < 0 ||
	    (error = put_field(out, in->content_type)) < 0 ||
	    (error = put_field(out, NULL)) < 0 ||           /* Date: x-ms-date is sent */
	    (error = put_field(out, NULL)) < 0 ||           /* If-Modified-Since */
	    (error = put_field(out, in->if_match)) < 0 ||
	    (error = put_field(out, in->if_none_match)) < 0 ||
	    (error = put_field(out, NULL)) < 0 ||           /* If-Unmodified-Since */
	    (error = put_field(out, in->range)) < 0)
		return error;
	if (!(h = sorted(in->headers, in->header_count)) || !(q = sorted(in->query, in->query_count))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < in->header_count && !error; i++) {
		if ((error = ob_buf_puts(out, h[i]->name)) < 0 || (error = ob_buf_put(out, ":", 1)) < 0 ||
		    (error = put_folded(out, h[i]->value)) < 0)
			break;
		error = ob_buf_put(out, "\n", 1);
	}
	if (!error)
		error = ob_buf_printf(out, "/%s%s", in->account, in->path);
	for (i = 0; i < in->query_count && !error; i++) {
		/* A parameter given twice becomes name:v1,v2 (values sorted, as they are here). */
		if (i > 0 && strcmp(q[i]->name, q[i - 1]->name) == 0)
			error = ob_buf_printf(out, ",%s", q[i]->value);
		else
			error = ob_buf_printf(out, "\n%s:%s", q[i]->name, q[i]->value);
	}
done:
	free(h);
	free(q);
	return error;
}

int ob_azure_key_decode(uint8_t **out, size_t *out_len, const char *key_b64)
{
	*out = NULL;
	*out_len = 0;
	if (!key_b64 || ob_base64_decode(out, out_len, key_b64) < 0 || *out_len == 0) {
		free(*out);
		*out = NULL;
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The storage account key is not base64 text; copy it again from the storage account's access keys.");
	}
	return 0;
}

int ob_azure_hmac(char out[64], const uint8_t *key, size_t key_len, const char *msg, size_t msg_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char *b64;

	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, mac, &mac_len))
		return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "HMAC-SHA256 failed (OpenSSL).");
	if (!(b64 = ob_base64_encode(mac, mac_len)))
		return ob_err_nomem();
	snprintf(out, 64, "%s", b64);
	free(b64);
	return 0;
}

int ob_azure_sas_string_to_sign(ob_buf *out, const char *account, const char *container,
	const char *permissions, const char *start, const char *expiry, const char *version)
{
	/* sp st se resource si sip spr sv sr snapshotTime ses rscc rscd rsce rscl rsct */
	return ob_buf_printf(out, "%s\n%s\n%s\n/blob/%s/%s\n\n\n\n%s\nc\n\n\n\n\n\n\n",
		permissions, start ? start : "", expiry, account, container, version);
}

int ob_azure_sas_parse(ob_azure_sas_info *out, const char *sas)
{
	const char *p = sas;

	memset(out, 0, sizeof(*out));
	if (!sas)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS, "No access token (SAS) was given.");
	if (*p == '?')
		p++;
	while (*p) {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		ob_buf v = OB_BUF_INIT;

		eq = memchr(p, '=', len);
		if (eq && (eq - p == 2) && (strncmp(p, "sp", 2) == 0 || strncmp(p, "se", 2) == 0)) {
			int error = ob_azure_url_decode(&v, eq + 1, len - (size_t)(eq + 1 - p));
			if (!error && !v.data)
				error = ob_buf_puts(&v, "");
			if (error < 0) {
				ob_buf_dispose(&v);
				return error;
			}
			if (p[1] == 'p') {
				snprintf(out->permissions, sizeof(out->permissions), "%s", v.data);
			} else {
				snprintf(out->expiry_text, sizeof(out->expiry_text), "%s", v.data);
				if (ob_time_parse(&out->expiry, v.data) < 0)
					out->expiry = 0;
			}
			ob_buf_dispose(&v);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (!strstr(sas, "sig="))
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The access token (SAS) has no signature (sig=); get a new vault credentials file.");
	return 0;
}

int ob_azure_http_date_parse(int64_t *out, const char *text)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4] = "", iso[32], tail[4] = "";
	int d, y, h, mi, sec, n = 0;
	const char *m;

	if (!text || sscanf(text, "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3s%n", &d, mon, &y, &h, &mi, &sec, tail, &n) != 7 ||
	    text[n] != '\0' || strcmp(tail, "GMT") != 0 || strlen(mon) != 3 || !(m = strstr(months, mon)) || (m - months) % 3)
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not an HTTP date.", text ? text : "");
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, (int)(m - months) / 3 + 1, d, h, mi, sec);
	return ob_time_parse(out, iso) < 0
		? ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not an HTTP date.", text) : 0;
}
