/* Strings, growable buffers, encodings, times and the key=value record format. */
#include "util/util.h"
#include "util/error.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

int ob_buf_grow(ob_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return ob_err_nomem();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* Grow by copy, not realloc, so that a secret's old copy can be wiped. */
	p = malloc(cap);
	if (!p)
		return ob_err_nomem();
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		ob_wipe(b->data, b->cap);
		free(b->data);
	} else {
		p[0] = '\0';
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int ob_buf_put(ob_buf *b, const void *data, size_t len)
{
	int error;

	if ((error = ob_buf_grow(b, len)) < 0)
		return error;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int ob_buf_puts(ob_buf *b, const char *s)
{
	return ob_buf_put(b, s, strlen(s));
}

int ob_buf_printf(ob_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, error;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Bad format string.");
	if ((error = ob_buf_grow(b, (size_t)n)) < 0)
		return error;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *ob_buf_detach(ob_buf *b)
{
	char *p = b->data;

	if (!p) {
		p = malloc(1);
		if (p)
			p[0] = '\0';
	}
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void ob_buf_dispose(ob_buf *b)
{
	if (b->data) {
		ob_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

void ob_list_free(void *list, size_t count, void (*free_one)(void *item))
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < count; i++) {
		/* Copied out, not read through a void **: the items are pointers of another type. */
		void *item;
		memcpy(&item, (char *)list + i * sizeof(item), sizeof(item));
		free_one(item);
	}
	free(list);
}

char *ob_strdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		ob_err_nomem();
	return p;
}

void ob_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *ob_base64_encode(const uint8_t *data, size_t len)
{
	size_t out_len = 4 * ((len + 2) / 3);
	char *out = malloc(out_len + 1), *o = out;
	size_t i;

	if (!out) {
		ob_err_nomem();
		return NULL;
	}
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = b64_alphabet[(v >> 6) & 63];
		*o++ = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int ob_base64_decode(uint8_t **out, size_t *out_len, const char *text)
{
	size_t len = strlen(text), i, o = 0, pad = 0;
	uint8_t *buf;

	*out = NULL;
	*out_len = 0;
	if (len % 4 != 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Bad base64: length %zu is not a multiple of 4.", len);
	if (len >= 1 && text[len - 1] == '=') pad++;
	if (len >= 2 && text[len - 2] == '=') pad++;
	buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return ob_err_nomem();
	for (i = 0; i < len; i += 4) {
		int v[4], k;
		for (k = 0; k < 4; k++) {
			char c = text[i + k];
			if (c == '=' && i + 4 == len && k >= 4 - (int)pad)
				v[k] = 0;
			else if ((v[k] = b64_value(c)) < 0) {
				free(buf);
				return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Bad base64 character.");
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		buf[o++] = (uint8_t)(w >> 16);
		buf[o++] = (uint8_t)(w >> 8);
		buf[o++] = (uint8_t)w;
	}
	*out = buf;
	*out_len = o - pad;
	return 0;
}

void ob_hex_encode(char *out, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

void ob_time_format_utc(char out[21], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int ob_time_parse(int64_t *out, const char *text)
{
	const char *p = text;
	int y, mo, d, h = 0, mi = 0, s = 0;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) || *p++ != '-' ||
	    parse_digits(&p, 2, &d))
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi))
			goto bad;
		if (*p == ':') {
			p++;
			if (parse_digits(&p, 2, &s))
				goto bad;
			if (*p == '.' || *p == ',') {
				p++;
				if (!isdigit((unsigned char)*p))
					goto bad;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
		goto bad;
	int64_t days = days_from_civil(y, mo, d);
	int64_t t = days * 86400 + h * 3600 + mi * 60 + (s == 60 ? 59 : s);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om = 0;
		p++;
		if (parse_digits(&p, 2, &oh))
			goto bad;
		if (*p == ':')
			p++;
		if (*p && parse_digits(&p, 2, &om))
			goto bad;
		t -= sign * (oh * 3600 + om * 60);
	} else if (*p == '\0') {
		/* Local time: let mktime decide the offset, daylight saving included. */
		struct tm tm = { 0 };
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = s;
		tm.tm_isdst = -1;
		time_t lt = mktime(&tm);
		if (lt == (time_t)-1)
			goto bad;
		t = (int64_t)lt;
	}
	if (*p != '\0')
		goto bad;
	*out = t;
	return 0;
bad:
	return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
		"'%s' is not a date and time in ISO 8601 form (e.g. 2026-11-25T21:00:00Z).", text);
}

int ob_parse_i64(int64_t *out, const char *s)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int kv_key_valid(const char *k, size_t len)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!(islower((unsigned char)k[i]) || isdigit((unsigned char)k[i]) || k[i] == '_'))
			return 0;
	return 1;
}

static int kv_value_valid(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

int ob_kv_begin(ob_buf *b, const char *kind, int version)
{
	return ob_buf_printf(b, "obagent-%s %d\n", kind, version);
}

int ob_kv_add(ob_buf *b, const char *key, const char *value)
{
	if (!kv_key_valid(key, strlen(key)) || !kv_value_valid(value))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Cannot store field '%s': bad characters.", key);
	return ob_buf_printf(b, "%s=%s\n", key, value);
}

int ob_kv_add_i64(ob_buf *b, const char *key, int64_t value)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)value);
	return ob_kv_add(b, key, num);
}

int ob_kv_parse(ob_kv *kv, const char *data, size_t len)
{
	char *p, *line, *next, *sp;
	int64_t version;

	memset(kv, 0, sizeof(*kv));
	if (len == 0 || len > 1 << 20 || memchr(data, '\0', len))
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Record is empty, too large or binary.");
	kv->text = malloc(len + 1);
	if (!kv->text)
		return ob_err_nomem();
	memcpy(kv->text, data, len);
	kv->text[len] = '\0';
	if (kv->text[len - 1] != '\n')
		goto bad;

	p = kv->text;
	next = strchr(p, '\n');
	*next = '\0';
	if (strncmp(p, "obagent-", 8) != 0 || !(sp = strchr(p, ' ')))
		goto bad;
	*sp = '\0';
	kv->kind = p + 8;
	for (sp = kv->kind; *sp; sp++)
		if (!(islower((unsigned char)*sp) || isdigit((unsigned char)*sp) || *sp == '-'))
			goto bad;
	if (!*kv->kind)
		goto bad;
	if (ob_parse_i64(&version, sp + 1) || version < 1 || version > INT_MAX)
		goto bad;
	kv->version = (int)version;

	for (line = next + 1; *line; line = next + 1) {
		char *eq;
		size_t i;
		next = strchr(line, '\n');
		*next = '\0';
		eq = strchr(line, '=');
		if (!eq || !kv_key_valid(line, (size_t)(eq - line)))
			goto bad;
		*eq = '\0';
		if (!kv_value_valid(eq + 1))
			goto bad;
		for (i = 0; i < kv->count; i++)
			if (strcmp(kv->keys[i], line) == 0)
				goto bad;
		if (kv->count == OB_KV_MAX_FIELDS)
			goto bad;
		kv->keys[kv->count] = line;
		kv->values[kv->count] = eq + 1;
		kv->count++;
	}
	return 0;
bad:
	ob_kv_dispose(kv);
	return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Record is malformed.");
}

void ob_kv_dispose(ob_kv *kv)
{
	if (kv->text) {
		ob_wipe(kv->text, strlen(kv->text));
		free(kv->text);
	}
	memset(kv, 0, sizeof(*kv));
}

const char *ob_kv_get(const ob_kv *kv, const char *key)
{
	size_t i;

	for (i = 0; i < kv->count; i++)
		if (strcmp(kv->keys[i], key) == 0)
			return kv->values[i];
	return NULL;
}

int ob_kv_get_i64(int64_t *out, const ob_kv *kv, const char *key)
{
	const char *v = ob_kv_get(kv, key);

	if (!v || ob_parse_i64(out, v))
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Record field '%s' is missing or not a number.", key);
	return 0;
}

int ob_kv_get_b64(uint8_t **out, size_t *out_len, const ob_kv *kv, const char *key, size_t want)
{
	const char *v = ob_kv_get(kv, key);

	*out = NULL;
	if (!v || ob_base64_decode(out, out_len, v) < 0 || (want && *out_len != want)) {
		free(*out);
		*out = NULL;
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Record field '%s' is missing or malformed.", key);
	}
	return 0;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int c = s[0], cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

int ob_json_put_str(ob_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int error;

	if (!s)
		return ob_buf_puts(b, "null");
	if ((error = ob_buf_puts(b, "\"")) < 0)
		return error;
	while (*p) {
		size_t n;
		if (*p == '"' || *p == '\\') {
			char esc[3] = { '\\', (char)*p, '\0' };
			error = ob_buf_puts(b, esc);
			n = 1;
		} else if (*p == '\n') {
			error = ob_buf_puts(b, "\\n"), n = 1;
		} else if (*p == '\t') {
			error = ob_buf_puts(b, "\\t"), n = 1;
		} else if (*p == '\r') {
			error = ob_buf_puts(b, "\\r"), n = 1;
		} else if (*p < 0x20 || *p == 0x7F) {
			error = ob_buf_printf(b, "\\u%04x", (unsigned int)*p), n = 1;
		} else if ((n = utf8_len(p)) == 0) {
			error = ob_buf_puts(b, "\\ufffd"), n = 1;
		} else {
			error = ob_buf_put(b, p, n);
		}
		if (error < 0)
			return error;
		p += n;
	}
	return ob_buf_puts(b, "\"");
}
