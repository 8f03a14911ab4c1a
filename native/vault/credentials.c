/* Vault credentials files: a strict reader and a writer for one flat XML shape. */
#include "vault/credentials.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT "VaultCredentials"

static int bad(const char *what)
{
	return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
		"The vault credentials file is malformed (%s). Download a new file from the vault and use it as it is.", what);
}

typedef struct {
	const char *p;
	const char *end;
} cursor;

static int starts(cursor *c, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(c->end - c->p) >= n && memcmp(c->p, s, n) == 0;
}

static void skip_space(cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

/* Skip white space and comments. */
static int skip_misc(cursor *c)
{
	for (;;) {
		skip_space(c);
		if (!starts(c, "<!--"))
			return 0;
		const char *close = NULL, *q;
		for (q = c->p + 4; q + 3 <= c->end; q++)
			if (memcmp(q, "-->", 3) == 0) {
				close = q;
				break;
			}
		if (!close)
			return bad("an unterminated comment");
		c->p = close + 3;
	}
}

static int is_name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Unescape XML text from [p, end) into a new string. */
static int unescape(char **out, const char *p, const char *end)
{
	ob_buf b = OB_BUF_INIT;
	int error = 0;

	*out = NULL;
	if ((error = ob_buf_grow(&b, (size_t)(end - p))) < 0)
		return error;
	while (p < end && !error) {
		if (*p != '&') {
			if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				error = bad("a control character");
			else
				error = ob_buf_put(&b, p, 1);
			p++;
			continue;
		}
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (!semi || semi - p > 10) {
			error = bad("a bad character reference");
			break;
		}
		size_t n = (size_t)(semi - p + 1);
		if (n == 5 && !memcmp(p, "&amp;", 5)) error = ob_buf_puts(&b, "&");
		else if (n == 4 && !memcmp(p, "&lt;", 4)) error = ob_buf_puts(&b, "<");
		else if (n == 4 && !memcmp(p, "&gt;", 4)) error = ob_buf_puts(&b, ">");
		else if (n == 6 && !memcmp(p, "&quot;", 6)) error = ob_buf_puts(&b, "\"");
		else if (n == 6 && !memcmp(p, "&apos;", 6)) error = ob_buf_puts(&b, "'");
		else if (n >= 4 && p[1] == '#') {
			char num[12];
			char *e;
			unsigned long v;
			memcpy(num, p + 2, n - 3);
			num[n - 3] = '\0';
			v = num[0] == 'x' ? strtoul(num + 1, &e, 16) : strtoul(num, &e, 10);
			if (*e || e == num || v == 0 || v > 0x7e || (v < 0x20 && v != 9 && v != 10 && v != 13))
				error = bad("a character reference outside ASCII");
			else {
				char ch = (char)v;
				error = ob_buf_put(&b, &ch, 1);
			}
		} else
			error = bad("an unknown entity");
		p = semi + 1;
	}
	if (!error && strlen(b.data ? b.data : "") != b.len)
		error = bad("a NUL character");
	if (error) {
		ob_buf_dispose(&b);
		return error;
	}
	*out = ob_buf_detach(&b);
	return 0;
}

static int set_string(char **field, char *value, const char *name)
{
	if (*field) {
		free(value);
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file is malformed (element <%s> appears twice).", name);
	}
	*field = value;
	return 0;
}

static int set_number(int64_t *field, int *seen, char *value, const char *name)
{
	int64_t v;
	int ok = ob_parse_i64(&v, value) == 0 && v >= 0;

	free(value);
	if (*seen)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file is malformed (element <%s> appears twice).", name);
	if (!ok)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file is malformed (<%s> is not a number).", name);
	*field = v;
	*seen = 1;
	return 0;
}

static int set_time(int64_t *field, int *seen, char *value, const char *name)
{
	int64_t v;
	size_t len = strlen(value);
	int ok = len > 0 && (value[len - 1] == 'Z') && ob_time_parse(&v, value) == 0;

	free(value);
	if (*seen)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file is malformed (element <%s> appears twice).", name);
	if (!ok)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file is malformed (<%s> is not a UTC time).", name);
	*field = v;
	*seen = 1;
	return 0;
}

int ob_credentials_parse(ob_credentials *out, const char *xml, size_t len)
{
	cursor c = { xml, xml + len };
	int64_t version = 0;
	int seen_version = 0, seen_seq = 0, seen_issued = 0, seen_expires = 0, seen_sig = 0;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return bad("the file is empty");
	if (len > OB_CREDENTIALS_MAX_BYTES)
		return bad("the file is too large");
	if (memchr(xml, '\0', len))
		return bad("the file is binary");
	if (starts(&c, "\xEF\xBB\xBF"))
		c.p += 3;
	skip_space(&c);
	if (starts(&c, "<?xml")) {
		const char *q;
		for (q = c.p; q + 2 <= c.end && memcmp(q, "?>", 2) != 0; q++)
			;
		if (q + 2 > c.end)
			return bad("an unterminated XML declaration");
		c.p = q + 2;
	}
	if ((error = skip_misc(&c)) < 0)
		return error;
	if (!starts(&c, "<" ROOT) || (c.p + sizeof(ROOT) < c.end && is_name_char(c.p[sizeof(ROOT)])))
		return bad("the root element is not <" ROOT ">");
	c.p += sizeof(ROOT);
	/* Attributes (the namespace): skip to '>', honouring quotes. */
	{
		char quote = 0;
		while (c.p < c.end && (quote || *c.p != '>')) {
			if (quote && *c.p == quote) quote = 0;
			else if (!quote && (*c.p == '"' || *c.p == '\'')) quote = *c.p;
			else if (!quote && (*c.p == '<' || *c.p == '/')) return bad("a bad root element");
			c.p++;
		}
		if (c.p >= c.end)
			return bad("the root element is not closed");
		c.p++;
	}

	for (;;) {
		const char *name, *text, *text_end;
		size_t name_len;
		char *value = NULL;
		char ename[32];

		if ((error = skip_misc(&c)) < 0)
			goto fail;
		if (starts(&c, "</" ROOT)) {
			c.p += sizeof(ROOT) + 1;
			skip_space(&c);
			if (c.p >= c.end || *c.p != '>') {
				error = bad("the root end tag is malformed");
				goto fail;
			}
			c.p++;
			break;
		}
		if (c.p >= c.end || *c.p != '<') {
			error = bad(c.p >= c.end ? "the file ends early" : "text outside an element");
			goto fail;
		}
		name = ++c.p;
		while (c.p < c.end && is_name_char(*c.p))
			c.p++;
		name_len = (size_t)(c.p - name);
		if (name_len == 0 || name_len >= sizeof(ename) || c.p >= c.end || *c.p != '>') {
			error = bad("an element is malformed");
			goto fail;
		}
		memcpy(ename, name, name_len);
		ename[name_len] = '\0';
		text = ++c.p;
		while (c.p < c.end && *c.p != '<')
			c.p++;
		text_end = c.p;
		if (!starts(&c, "</") || (size_t)(c.end - c.p) < name_len + 3 ||
		    memcmp(c.p + 2, name, name_len) != 0 || c.p[2 + name_len] != '>') {
			error = ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
				"The vault credentials file is malformed (<%s> is not closed). Download a new file from the vault and use it as it is.", ename);
			goto fail;
		}
		c.p += name_len + 3;
		if ((error = unescape(&value, text, text_end)) < 0)
			goto fail;

		if (!strcmp(ename, "Version")) error = set_number(&version, &seen_version, value, ename);
		else if (!strcmp(ename, "ResourceType")) error = set_string(&out->resource_type, value, ename);
		else if (!strcmp(ename, "ResourceName")) error = set_string(&out->vault_name, value, ename);
		else if (!strcmp(ename, "ResourceId")) error = set_string(&out->vault_id, value, ename);
		else if (!strcmp(ename, "StorageLocation")) error = set_string(&out->storage_location, value, ename);
		else if (!strcmp(ename, "Endpoint")) error = set_string(&out->endpoint, value, ename);
		else if (!strcmp(ename, "StorageAccount")) error = set_string(&out->account, value, ename);
		else if (!strcmp(ename, "Container")) error = set_string(&out->container, value, ename);
		else if (!strcmp(ename, "AccessToken")) error = set_string(&out->access_token, value, ename);
		else if (!strcmp(ename, "Sequence")) error = set_number(&out->sequence, &seen_seq, value, ename);
		else if (!strcmp(ename, "IssuedAt")) error = set_time(&out->issued_at, &seen_issued, value, ename);
		else if (!strcmp(ename, "ExpiresAt")) error = set_time(&out->expires_at, &seen_expires, value, ename);
		else if (!strcmp(ename, "Signature")) {
			uint8_t *sig = NULL;
			size_t sig_len = 0;
			int ok = !seen_sig && ob_base64_decode(&sig, &sig_len, value) == 0 && sig_len == OB_SIGN_BYTES;
			if (ok)
				memcpy(out->signature, sig, OB_SIGN_BYTES);
			free(sig);
			free(value);
			seen_sig = 1;
			if (!ok)
				error = bad("the signature is malformed or repeated");
		} else {
			free(value);
			error = ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
				"The vault credentials file is malformed (unknown element <%s>). It may come from a newer obagent.", ename);
		}
		if (error < 0)
			goto fail;
	}
	if ((error = skip_misc(&c)) < 0)
		goto fail;
	if (c.p != c.end) {
		error = bad("content after the root element");
		goto fail;
	}
	if (!seen_version || !out->resource_type || !out->vault_name || !out->vault_id || !out->storage_location ||
	    !seen_seq || !seen_issued || !seen_expires || !seen_sig) {
		error = bad("a required element is missing");
		goto fail;
	}
	if (!strcmp(out->resource_type, "AzureBlob") &&
	    (!out->endpoint || !out->account || !out->container || !out->access_token)) {
		error = bad("an Azure vault's endpoint, account, container or access token is missing");
		goto fail;
	}
	if (version != OB_CREDENTIALS_VERSION) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file has version %lld; this agent reads version %d. Update the agent.",
			(long long)version, OB_CREDENTIALS_VERSION);
		goto fail;
	}
	out->version = (int)version;
	return 0;
fail:
	ob_credentials_dispose(out);
	return error;
}

int ob_credentials_canonical(ob_buf *out, const ob_credentials *c)
{
	char issued[21], expires[21];
	int error;

	ob_time_format_utc(issued, c->issued_at);
	ob_time_format_utc(expires, c->expires_at);
	if ((error = ob_buf_printf(out,
		"obagent-vault-credentials\nVersion=%d\nResourceType=%s\nResourceName=%s\nResourceId=%s\n"
		"StorageLocation=%s\nSequence=%lld\nIssuedAt=%s\nExpiresAt=%s\n",
		c->version, c->resource_type, c->vault_name, c->vault_id, c->storage_location,
		(long long)c->sequence, issued, expires)) < 0)
		return error;
	/* An Azure vault's access is signed too: a changed token or container is detected. */
	if (c->endpoint || c->account || c->container || c->access_token)
		error = ob_buf_printf(out, "Endpoint=%s\nStorageAccount=%s\nContainer=%s\nAccessToken=%s\n",
			c->endpoint ? c->endpoint : "", c->account ? c->account : "", c->container ? c->container : "",
			c->access_token ? c->access_token : "");
	return error;
}

static int put_escaped(ob_buf *b, const char *s)
{
	int error = 0;

	for (; *s && !error; s++) {
		switch (*s) {
		case '&': error = ob_buf_puts(b, "&amp;"); break;
		case '<': error = ob_buf_puts(b, "&lt;"); break;
		case '>': error = ob_buf_puts(b, "&gt;"); break;
		case '"': error = ob_buf_puts(b, "&quot;"); break;
		case '\'': error = ob_buf_puts(b, "&apos;"); break;
		default: error = ob_buf_put(b, s, 1);
		}
	}
	return error;
}

static int element(ob_buf *b, const char *name, const char *value)
{
	int error;

	if ((error = ob_buf_printf(b, "  <%s>", name)) < 0 || (error = put_escaped(b, value)) < 0)
		return error;
	return ob_buf_printf(b, "</%s>\n", name);
}

int ob_credentials_to_xml(ob_buf *out, const ob_credentials *c)
{
	char issued[21], expires[21], num[32], ver[16];
	char *sig = ob_base64_encode(c->signature, OB_SIGN_BYTES);
	int error;

	if (!sig)
		return OB_ENOMEM;
	ob_time_format_utc(issued, c->issued_at);
	ob_time_format_utc(expires, c->expires_at);
	snprintf(num, sizeof(num), "%lld", (long long)c->sequence);
	snprintf(ver, sizeof(ver), "%d", c->version);
	if ((error = ob_buf_puts(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<" ROOT " xmlns=\"urn:obagent:vault-credentials:1\">\n")) < 0 ||
	    (error = element(out, "Version", ver)) < 0 ||
	    (error = element(out, "ResourceType", c->resource_type)) < 0 ||
	    (error = element(out, "ResourceName", c->vault_name)) < 0 ||
	    (error = element(out, "ResourceId", c->vault_id)) < 0 ||
	    (error = element(out, "StorageLocation", c->storage_location)) < 0 ||
	    (c->endpoint && (error = element(out, "Endpoint", c->endpoint)) < 0) ||
	    (c->account && (error = element(out, "StorageAccount", c->account)) < 0) ||
	    (c->container && (error = element(out, "Container", c->container)) < 0) ||
	    (c->access_token && (error = element(out, "AccessToken", c->access_token)) < 0) ||
	    (error = element(out, "Sequence", num)) < 0 ||
	    (error = element(out, "IssuedAt", issued)) < 0 ||
	    (error = element(out, "ExpiresAt", expires)) < 0 ||
	    (error = element(out, "Signature", sig)) < 0 ||
	    (error = ob_buf_puts(out, "</" ROOT ">\n")) < 0) {
		/* error holds the first failure */
	}
	free(sig);
	return error;
}

void ob_credentials_dispose(ob_credentials *c)
{
	free(c->resource_type);
	free(c->vault_name);
	free(c->vault_id);
	free(c->storage_location);
	free(c->endpoint);
	free(c->account);
	free(c->container);
	if (c->access_token) {
		ob_wipe(c->access_token, strlen(c->access_token));
		free(c->access_token);
	}
	memset(c, 0, sizeof(*c));
}
