/* Internal: strings, growable buffers, encodings, the key=value record format. */
#ifndef OB_NATIVE_UTIL_H
#define OB_NATIVE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/** A growable byte buffer; always NUL-terminated after its data. */
typedef struct ob_buf {
	char *data;
	size_t len;
	size_t cap;
} ob_buf;

#define OB_BUF_INIT { NULL, 0, 0 }

int ob_buf_grow(ob_buf *b, size_t extra);
int ob_buf_put(ob_buf *b, const void *data, size_t len);
int ob_buf_puts(ob_buf *b, const char *s);
int ob_buf_printf(ob_buf *b, const char *fmt, ...) OB_PRINTF(2, 3);
/** Hand the buffer's data to the caller (the buffer is left empty). */
char *ob_buf_detach(ob_buf *b);
/** Free the buffer, wiping its bytes first. */
void ob_buf_dispose(ob_buf *b);

/**
 * Free a malloc'd array of count pointers (list: T **, NULL is fine): each item
 * with free_one (which must accept NULL), then the array. The list freeing
 * functions of the recovery API (ob_recovery_points_free and the like) are this.
 */
void ob_list_free(void *list, size_t count, void (*free_one)(void *item));

/** strdup that records OB_ENOMEM on failure. */
char *ob_strdup(const char *s);

/** Wipe memory in a way the compiler keeps. */
void ob_wipe(void *p, size_t len);

/** Base64 (standard alphabet, padded). Encode returns a NUL-terminated string (free()). */
char *ob_base64_encode(const uint8_t *data, size_t len);
/** Decode; OB_EINVALID on bad input. *out (free()), *out_len. */
int ob_base64_decode(uint8_t **out, size_t *out_len, const char *text);

/** Lowercase hex of len bytes into out (2*len+1 bytes). */
void ob_hex_encode(char *out, const uint8_t *data, size_t len);

/** Append s as a JSON string (quoted, escaped; invalid UTF-8 becomes U+FFFD). NULL gives null. */
int ob_json_put_str(ob_buf *b, const char *s);

/** Seconds since 1970 as "YYYY-MM-DDTHH:MM:SSZ" (buffer of 21 bytes). */
void ob_time_format_utc(char out[21], int64_t t);
/** Parse ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]"; no zone means local time. */
int ob_time_parse(int64_t *out, const char *text);

/*
 * The key=value record format of small vault objects (docs/FORMAT.md):
 *   line 1: "obagent-<kind> <version>"
 *   then "key=value" lines, keys [a-z0-9_], values printable with no newline.
 * A record is built with ob_kv_add, parsed with ob_kv_parse, read with ob_kv_get.
 */
#define OB_KV_MAX_FIELDS 512

typedef struct ob_kv {
	char *text;                       /* owned copy, split in place */
	char *kind;
	int version;
	size_t count;
	const char *keys[OB_KV_MAX_FIELDS];
	const char *values[OB_KV_MAX_FIELDS];
} ob_kv;

int ob_kv_begin(ob_buf *b, const char *kind, int version);
int ob_kv_add(ob_buf *b, const char *key, const char *value);
int ob_kv_add_i64(ob_buf *b, const char *key, int64_t value);
/** Parse a record; OB_ECORRUPT on anything malformed. Dispose with ob_kv_dispose. */
int ob_kv_parse(ob_kv *kv, const char *data, size_t len);
void ob_kv_dispose(ob_kv *kv);
/** A field's value, or NULL. */
const char *ob_kv_get(const ob_kv *kv, const char *key);
/** A required integer field; OB_ECORRUPT when missing or not an integer. */
int ob_kv_get_i64(int64_t *out, const ob_kv *kv, const char *key);
/** A required base64 field of exactly want bytes (0: any length). */
int ob_kv_get_b64(uint8_t **out, size_t *out_len, const ob_kv *kv, const char *key, size_t want);

/** Parse a whole decimal int64 (optionally negative); 0 on success, -1 otherwise. */
int ob_parse_i64(int64_t *out, const char *s);

#endif
