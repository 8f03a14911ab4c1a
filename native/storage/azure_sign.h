/*
 * Internal: Azure Blob request signing (SharedKey), service SAS and URL encoding.
 * Pure functions with no I/O, so that the golden vectors that Azurite accepted
 * (design reference storage.md) test them offline (tests/storage/test_azure_sign.c).
 */
#ifndef OB_NATIVE_AZURE_SIGN_H
#define OB_NATIVE_AZURE_SIGN_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

/** The REST version every request pins (x-ms-version) and every SAS we mint signs (sv). */
#define OB_AZURE_API_VERSION "2021-12-02"

/** A name/value pair: an x-ms-* header or a query parameter (value not encoded). */
typedef struct ob_azure_pair {
	const char *name;
	const char *value;
} ob_azure_pair;

/** What SharedKey signs of one request. Absent standard headers are NULL. */
typedef struct ob_azure_sign_input {
	const char *method;          /**< "GET", "PUT", ... */
	uint64_t content_length;     /**< signed as "" when 0 */
	const char *content_md5;
	const char *content_type;
	const char *if_match;
	const char *if_none_match;
	const char *range;           /**< the standard Range header only */
	const ob_azure_pair *headers;  /**< x-ms-* headers, any order, including x-ms-date/version */
	size_t header_count;
	const char *account;
	const char *path;            /**< URL path as sent, percent-encoded, starting with '/' */
	const ob_azure_pair *query;  /**< query parameters, decoded values, any order */
	size_t query_count;
} ob_azure_sign_input;

/** Append the SharedKey StringToSign of a request to out. */
int ob_azure_string_to_sign(ob_buf *out, const ob_azure_sign_input *in);

/**
 * base64(HMAC-SHA256(base64decode(key), msg)) into out (at least 45 bytes).
 * OB_EINVALID when the key is not base64.
 */
int ob_azure_hmac(char out[64], const uint8_t *key, size_t key_len, const char *msg, size_t msg_len);

/** Decode an account key (base64) into *out (free with ob_wipe + free). */
int ob_azure_key_decode(uint8_t **out, size_t *out_len, const char *key_b64);

/**
 * Percent-encode s (RFC 3986 unreserved kept; '/' kept too when keep_slash) and
 * append it to out.
 */
int ob_azure_url_encode(ob_buf *out, const char *s, int keep_slash);

/**
 * Parse an HTTP date (RFC 1123, "Wed, 02 Dec 2026 16:03:15 GMT", what the
 * service sends in Last-Modified and x-ms-creation-time) into seconds since
 * 1970 UTC. OB_EINVALID when it is not one.
 */
int ob_azure_http_date_parse(int64_t *out, const char *text);

/** Decode %XX escapes (and nothing else) of s[0..len) into out; OB_EINVALID on a bad escape. */
int ob_azure_url_decode(ob_buf *out, const char *s, size_t len);

/** The sixteen-field StringToSign of a container service SAS (sr=c). */
int ob_azure_sas_string_to_sign(ob_buf *out, const char *account, const char *container,
	const char *permissions, const char *start, const char *expiry, const char *version);

/** Blob SAS permission letters in the order the service requires them. */
#define OB_AZURE_SAS_PERMISSION_ORDER "racwdxyltmeopi"

/** What an agent's SAS token says about itself. */
typedef struct ob_azure_sas_info {
	char permissions[32];   /**< sp, "" when absent */
	int64_t expiry;         /**< se as seconds since 1970, 0 when absent or unreadable */
	char expiry_text[32];   /**< se as written, decoded */
} ob_azure_sas_info;

/** Read sp and se from a SAS token ("sv=...&sig=..." with or without a leading '?'). */
int ob_azure_sas_parse(ob_azure_sas_info *out, const char *sas);

#endif
