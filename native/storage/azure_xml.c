/* A strict, small XML tokenizer for Azure Blob's enumeration results and error bodies. */
#include "storage/azure_xml.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define XML_DEPTH_MAX  16
#define XML_NAME_MAX   64
#define XML_TEXT_MAX   (64u * 1024u)

enum { TOK_END_OF_INPUT, TOK_START, TOK_END, TOK_TEXT, TOK_ERROR };

typedef struct {
	const char *p, *end;
	char name[XML_NAME_MAX];     /* TOK_START / TOK_END */
	int self_closing;            /* TOK_START of <x/> */
	int encoded;                 /* TOK_START has Encoded="true" */
	ob_buf text;                 /* TOK_TEXT, decoded */
	const char *why;             /* TOK_ERROR */
} xml_lexer;

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_name_char(char c)
{
	return c && !is_space(c) && c != '<' && c != '>' && c != '/' && c != '=' && c != '"' && c != '\'' &&
	       c != '?' && c != '!' && c != '&';
}

static const char *find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

static int fail(xml_lexer *x, const char *why)
{
	x->why = why;
	return TOK_ERROR;
}

static int put_utf8(ob_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) { u[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
	else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
	}
	return ob_buf_put(b, u, n);
}

/* Decode text s..e (entities) and append it to b. 0, OB_ENOMEM, or 1 for bad input. */
static int decode_text(ob_buf *b, const char *s, const char *e)
{
	while (s < e) {
		const char *amp = memchr(s, '&', (size_t)(e - s)), *semi;
		size_t n;

		if (!amp)
			return ob_buf_put(b, s, (size_t)(e - s));
		if (amp > s && ob_buf_put(b, s, (size_t)(amp - s)) < 0)
			return OB_ENOMEM;
		semi = memchr(amp, ';', (size_t)(e - amp));
		if (!semi || semi - amp > 10)
			return 1;
		n = (size_t)(semi - amp - 1);
		if (n == 3 && memcmp(amp + 1, "amp", 3) == 0) { if (ob_buf_put(b, "&", 1) < 0) return OB_ENOMEM; }
		else if (n == 2 && memcmp(amp + 1, "lt", 2) == 0) { if (ob_buf_put(b, "<", 1) < 0) return OB_ENOMEM; }
		else if (n == 2 && memcmp(amp + 1, "gt", 2) == 0) { if (ob_buf_put(b, ">", 1) < 0) return OB_ENOMEM; }
		else if (n == 4 && memcmp(amp + 1, "quot", 4) == 0) { if (ob_buf_put(b, "\"", 1) < 0) return OB_ENOMEM; }
		else if (n == 4 && memcmp(amp + 1, "apos", 4) == 0) { if (ob_buf_put(b, "'", 1) < 0) return OB_ENOMEM; }
		else if (n >= 2 && amp[1] == '#') {
			unsigned long cp = 0;
			const char *d = amp + 2;
			int hex = (*d == 'x' || *d == 'X');

			if (hex)
				d++;
			if (d == semi)
				return 1;
			for (; d < semi; d++) {
				int v;
				if (*d >= '0' && *d <= '9') v = *d - '0';
				else if (hex && *d >= 'a' && *d <= 'f') v = *d - 'a' + 10;
				else if (hex && *d >= 'A' && *d <= 'F') v = *d - 'A' + 10;
				else return 1;
				cp = cp * (hex ? 16 : 10) + (unsigned long)v;
				if (cp > 0x10FFFF)
					return 1;
			}
			if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
				return 1;
			if (put_utf8(b, cp) < 0)
				return OB_ENOMEM;
		} else {
			return 1;
		}
		s = semi + 1;
	}
	return 0;
}

static int lex_name(xml_lexer *x)
{
	size_t n = 0;

	while (x->p < x->end && is_name_char(*x->p)) {
		if (n + 1 >= sizeof(x->name))
			return -1;
		x->name[n++] = *x->p++;
	}
	x->name[n] = '\0';
	return n ? 0 : -1;
}

static void skip_space(xml_lexer *x)
{
	while (x->p < x->end && is_space(*x->p))
		x->p++;
}

static int lex_next(xml_lexer *x)
{
	const char *q;

	x->text.len = 0;
	if (x->text.data)
		x->text.data[0] = '\0';
	if (x->p >= x->end)
		return TOK_END_OF_INPUT;
	if (*x->p != '<') {
		q = memchr(x->p, '<', (size_t)(x->end - x->p));
		if (!q)
			q = x->end;
		if ((size_t)(q - x->p) > XML_TEXT_MAX)
			return fail(x, "text too long");
		if (decode_text(&x->text, x->p, q) != 0)
			return fail(x, "bad entity");
		if (!x->text.data && ob_buf_puts(&x->text, "") < 0)
			return fail(x, "out of memory");
		x->p = q;
		return TOK_TEXT;
	}
	if (x->end - x->p >= 2 && x->p[1] == '?') {
		if (!(q = find(x->p + 2, x->end, "?>")))
			return fail(x, "unterminated declaration");
		x->p = q + 2;
		return lex_next(x);
	}
	if (x->end - x->p >= 4 && memcmp(x->p, "<!--", 4) == 0) {
		if (!(q = find(x->p + 4, x->end, "-->")))
			return fail(x, "unterminated comment");
		x->p = q + 3;
		return lex_next(x);
	}
	if (x->end - x->p >= 9 && memcmp(x->p, "<![CDATA[", 9) == 0) {
		if (!(q = find(x->p + 9, x->end, "]]>")))
			return fail(x, "unterminated CDATA");
		if ((size_t)(q - x->p) > XML_TEXT_MAX || ob_buf_put(&x->text, x->p + 9, (size_t)(q - x->p - 9)) < 0 ||
		    (!x->text.data && ob_buf_puts(&x->text, "") < 0))
			return fail(x, "CDATA too long");
		x->p = q + 3;
		return TOK_TEXT;
	}
	if (x->end - x->p >= 2 && x->p[1] == '!')
		return fail(x, "DOCTYPE or other markup declarations are not accepted");
	if (x->end - x->p >= 2 && x->p[1] == '/') {
		x->p += 2;
		if (lex_name(x) < 0)
			return fail(x, "bad end tag");
		skip_space(x);
		if (x->p >= x->end || *x->p != '>')
			return fail(x, "unterminated end tag");
		x->p++;
		return TOK_END;
	}
	x->p++;
	if (lex_name(x) < 0)
		return fail(x, "bad start tag");
	x->self_closing = 0;
	x->encoded = 0;
	for (;;) {
		char aname[XML_NAME_MAX], quote;
		const char *vstart;
		size_t n = 0;

		skip_space(x);
		if (x->p >= x->end)
			return fail(x, "unterminated start tag");
		if (*x->p == '>') {
			x->p++;
			return TOK_START;
		}
		if (*x->p == '/') {
			if (x->end - x->p < 2 || x->p[1] != '>')
				return fail(x, "bad empty-element tag");
			x->p += 2;
			x->self_closing = 1;
			return TOK_START;
		}
		while (x->p < x->end && is_name_char(*x->p) && n + 1 < sizeof(aname))
			aname[n++] = *x->p++;
		aname[n] = '\0';
		if (!n)
			return fail(x, "bad attribute");
		skip_space(x);
		if (x->p >= x->end || *x->p != '=')
			return fail(x, "attribute without a value");
		x->p++;
		skip_space(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return fail(x, "unquoted attribute value");
		quote = *x->p++;
		vstart = x->p;
		if (!(q = memchr(x->p, quote, (size_t)(x->end - x->p))) || memchr(vstart, '<', (size_t)(q - vstart)))
			return fail(x, "unterminated attribute value");
		if (strcmp(aname, "Encoded") == 0 && q - vstart == 4 && memcmp(vstart, "true", 4) == 0)
			x->encoded = 1;
		x->p = q + 1;
	}
}

static int only_space(const char *s)
{
	for (; s && *s; s++)
		if (!is_space(*s))
			return 0;
	return 1;
}

/*
 * Walk a whole document, calling on_element for each complete element whose text
 * was captured: path[0..depth) names it. Checks balance, a single root and no
 * stray text. Returns 0 or OB_ECORRUPT / OB_ENOMEM.
 */
typedef int (*element_fn)(void *ctx, char path[][XML_NAME_MAX], int depth, const char *text, int encoded);
typedef int (*start_fn)(void *ctx, char path[][XML_NAME_MAX], int depth);

static int walk(const char *xml, size_t len, start_fn on_start, element_fn on_element, void *ctx)
{
	xml_lexer x;
	char path[XML_DEPTH_MAX][XML_NAME_MAX];
	int encoded[XML_DEPTH_MAX];
	ob_buf text = OB_BUF_INIT;
	int depth = 0, roots = 0, tok, error = 0;

	memset(&x, 0, sizeof(x));
	x.p = xml;
	x.end = xml + len;
	if (len >= 3 && memcmp(xml, "\xef\xbb\xbf", 3) == 0)
		x.p += 3;   /* the UTF-8 byte order mark the service puts first */
	while (!error && (tok = lex_next(&x)) != TOK_END_OF_INPUT) {
		switch (tok) {
		case TOK_ERROR:
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing is not well-formed XML (%s at byte %ld).",
				x.why, (long)(x.p - xml));
			break;
		case TOK_TEXT:
			if (depth == 0) {
				if (!only_space(x.text.data))
					error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has text outside its root element.");
			} else if (text.len + x.text.len > XML_TEXT_MAX) {
				error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has an over-long text.");
			} else {
				error = ob_buf_put(&text, x.text.data, x.text.len);
			}
			break;
		case TOK_START:
			if (depth == 0 && roots++ > 0) {
				error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has more than one root element.");
				break;
			}
			if (depth >= XML_DEPTH_MAX) {
				error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing nests too deeply.");
				break;
			}
			memcpy(path[depth], x.name, XML_NAME_MAX);
			encoded[depth] = x.encoded;
			depth++;
			text.len = 0;
			if (text.data)
				text.data[0] = '\0';
			if (on_start && (error = on_start(ctx, path, depth)) != 0)
				break;
			if (x.self_closing) {
				if ((error = on_element(ctx, path, depth, "", encoded[depth - 1])) != 0)
					break;
				depth--;
			}
			break;
		case TOK_END:
			if (depth == 0 || strcmp(path[depth - 1], x.name) != 0) {
				error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has an unbalanced </%s>.", x.name);
				break;
			}
			error = on_element(ctx, path, depth, text.data ? text.data : "", encoded[depth - 1]);
			text.len = 0;
			if (text.data)
				text.data[0] = '\0';
			depth--;
			break;
		}
	}
	if (!error && (depth != 0 || roots != 1))
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing is truncated (%s).",
			roots ? "unclosed elements" : "no root element");
	ob_buf_dispose(&x.text);
	ob_buf_dispose(&text);
	return error;
}

typedef struct {
	ob_azure_listing *out;
	char *name;        /* of the Blob being read */
	int name_encoded;
	int has_size;
	uint64_t size;
} list_ctx;

static int is_path(char path[][XML_NAME_MAX], int depth, const char *const *want, int n)
{
	int i;

	if (depth != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(path[i], want[i]) != 0)
			return 0;
	return 1;
}

static const char *const P_ROOT[] = { "EnumerationResults" };
static const char *const P_BLOB[] = { "EnumerationResults", "Blobs", "Blob" };
static const char *const P_NAME[] = { "EnumerationResults", "Blobs", "Blob", "Name" };
static const char *const P_SIZE[] = { "EnumerationResults", "Blobs", "Blob", "Properties", "Content-Length" };
static const char *const P_NEXT[] = { "EnumerationResults", "NextMarker" };

static int list_start(void *c, char path[][XML_NAME_MAX], int depth)
{
	list_ctx *ctx = c;

	if (depth == 1 && !is_path(path, depth, P_ROOT, 1))
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing starts with <%s>, not <EnumerationResults>.", path[0]);
	if (is_path(path, depth, P_BLOB, 3)) {
		free(ctx->name);
		ctx->name = NULL;
		ctx->has_size = 0;
		ctx->name_encoded = 0;
	}
	return 0;
}

static int list_element(void *c, char path[][XML_NAME_MAX], int depth, const char *text, int encoded)
{
	list_ctx *ctx = c;
	ob_azure_listing *l = ctx->out;

	if (is_path(path, depth, P_NAME, 4)) {
		if (ctx->name || !*text || strlen(text) > 4096)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has a blob with a bad or second <Name>.");
		if (!(ctx->name = ob_strdup(text)))
			return OB_ENOMEM;
		ctx->name_encoded = encoded;
	} else if (is_path(path, depth, P_SIZE, 5)) {
		uint64_t v = 0;
		const char *d = text;

		if (ctx->has_size || !*d)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has a bad <Content-Length>.");
		for (; *d; d++) {
			if (*d < '0' || *d > '9' || v > (UINT64_MAX - 9) / 10)
				return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has a bad <Content-Length> '%.40s'.", text);
			v = v * 10 + (uint64_t)(*d - '0');
		}
		ctx->size = v;
		ctx->has_size = 1;
	} else if (is_path(path, depth, P_BLOB, 3)) {
		if (!ctx->name || !ctx->has_size)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has a blob without a name or a length.");
		if (ctx->name_encoded) {
			free(ctx->name);
		} else {
			if (l->count == l->cap) {
				size_t cap = l->cap ? l->cap * 2 : 64;
				ob_azure_list_entry *e = realloc(l->entries, cap * sizeof(*e));
				if (!e)
					return ob_err_nomem();
				l->entries = e;
				l->cap = cap;
			}
			l->entries[l->count].name = ctx->name;
			l->entries[l->count].size = ctx->size;
			l->count++;
		}
		ctx->name = NULL;
	} else if (is_path(path, depth, P_NEXT, 2)) {
		if (l->next_marker)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault's listing has two <NextMarker>s.");
		if (!(l->next_marker = ob_strdup(text)))
			return OB_ENOMEM;
	}
	return 0;
}

int ob_azure_list_parse(ob_azure_listing *out, const char *xml, size_t len)
{
	list_ctx ctx;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = out;
	error = walk(xml, len, list_start, list_element, &ctx);
	free(ctx.name);
	return error;
}

void ob_azure_listing_dispose(ob_azure_listing *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->count; i++)
		free(l->entries[i].name);
	free(l->entries);
	free(l->next_marker);
	memset(l, 0, sizeof(*l));
}

typedef struct {
	const char *want;
	char *found;
} text_ctx;

static int text_element(void *c, char path[][XML_NAME_MAX], int depth, const char *text, int encoded)
{
	text_ctx *ctx = c;

	(void)encoded;
	if (!ctx->found && strcmp(path[depth - 1], ctx->want) == 0 && !(ctx->found = ob_strdup(text)))
		return OB_ENOMEM;
	return 0;
}

char *ob_azure_xml_text(const char *xml, size_t len, const char *element)
{
	text_ctx ctx = { element, NULL };

	if (walk(xml, len, NULL, text_element, &ctx) != 0) {
		free(ctx.found);
		ctx.found = NULL;
	}
	return ctx.found;
}
