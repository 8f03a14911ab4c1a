/*
 * Internal: the pieces of the Azure Blob back end (native/storage/azure*.c).
 * azure.c is the back end (blob operations and opening), azure_http.c sends a
 * request (libcurl, the handle pool, retries, mapping failures to error codes),
 * azure_admin.c is the owner's administration (containers, SAS, leases).
 */
#ifndef OB_NATIVE_AZURE_INTERNAL_H
#define OB_NATIVE_AZURE_INTERNAL_H

#include "obagent/sys/azure.h"
#include "storage/azure_sign.h"
#include "util/util.h"

#include <pthread.h>

#include <curl/curl.h>

#define AZ_MAX_PAIRS        8

typedef struct az_backend {
	ob_backend parent;
	uint32_t magic;
	char *base;          /* scheme://host[:port] */
	char *path_prefix;   /* the endpoint's path ("" or "/devstoreaccount1"), no trailing '/' */
	char *endpoint;      /* base + path_prefix, for messages */
	char *account;
	char *container;
	uint8_t *key;        /* decoded account key, or NULL with a SAS */
	size_t key_len;
	char *sas;           /* without a leading '?' */
	ob_azure_sas_info sas_info;
	char *ca_file;
	char *proxy_host;
	long proxy_port;
	char *proxy_user;
	char *proxy_password;
	curl_off_t speed_limit;   /* per transfer, bytes/s; 0 none */
	unsigned int connections;
	unsigned int max_attempts;
	unsigned int max_retry_ms;
	unsigned int retry_base_ms;
	int can_write_blocks;
	int can_delete;
	pthread_mutex_t lock;
	CURL **idle;
	size_t idle_count;
	size_t idle_cap;
} az_backend;

typedef struct az_request {
	const char *method;       /* GET PUT HEAD DELETE */
	const char *what;         /* "reading object 'x'", for messages */
	const char *perm;         /* the SAS permission this needs, for messages */
	const char *blob;         /* object name, or NULL for a container request */
	ob_azure_pair query[AZ_MAX_PAIRS];
	size_t nquery;
	ob_azure_pair headers[AZ_MAX_PAIRS];  /* x-ms-* besides date and version */
	size_t nheaders;
	const char *content_md5;
	const char *content_type;
	const char *if_none_match;
	const void *body;         /* PUT body */
	size_t body_len;
	size_t body_max;          /* largest response body accepted */
} az_request;

typedef struct az_response {
	long status;
	char error_code[96];
	char lease_id[96];
	char content_md5[64];
	char content_range[96];
	char creation_time[64];   /* x-ms-creation-time (RFC 1123), set by the service */
	char last_modified[64];
	int64_t content_length;   /* -1: unknown */
	long retry_after;         /* seconds, -1: none */
	int line_status;          /* of the status line being read */
	ob_buf body;
	size_t body_max;
	int too_big;
	CURLcode curl;
	char curl_text[CURL_ERROR_SIZE];
	unsigned int attempts;
	int maybe_applied;        /* an earlier attempt may have reached the service */
	int proxy_refused;        /* the proxy answered 407: it wants credentials, or refused ours */
} az_response;

#define ADD_QUERY(rq, n, v) do { (rq).query[(rq).nquery].name = (n); (rq).query[(rq).nquery++].value = (v); } while (0)
#define ADD_HEADER(rq, n, v) do { (rq).headers[(rq).nheaders].name = (n); (rq).headers[(rq).nheaders++].value = (v); } while (0)

/* ---- azure_http.c ---- */

/** libcurl's global initialisation, once per process (0, or the error). */
int ob_az_http_init(void);
/**
 * Send a request, retrying transient failures with exponential backoff and jitter.
 * 0 when an HTTP answer arrived (any status: the caller maps it); a negative code
 * for failures of our own (memory). rs->curl != CURLE_OK when no answer came.
 * rs (zero-initialised by the caller): ob_az_response_dispose.
 */
int ob_az_perform(az_backend *ab, const az_request *rq, az_response *rs);
/** Map a failed exchange to an ob_error_code with a message that says what to do. */
int ob_az_fail(az_backend *ab, const az_request *rq, az_response *rs);
void ob_az_response_dispose(az_response *rs);
/** Free the idle handles of the pool (when the back end is freed). */
void ob_az_pool_dispose(az_backend *ab);

/* ---- azure.c ---- */

/** Whether a container name is valid: 3 to 63 lowercase letters, digits and single hyphens. */
int ob_az_valid_container(const char *c);
/** OB_EINVALID (with a message) unless name is a valid object name. */
int ob_az_check_name(const char *name);
/** Open a back end from options (*out: ob_az_free). */
int ob_az_open(az_backend **out, const ob_azure_options *o);
void ob_az_free(ob_backend *be);
/** be as an Azure back end, or NULL when it is another kind. */
az_backend *ob_az_backend(ob_backend *be);
/** Store an object in one request, create-only; md5 is its Content-MD5 (base64). */
int ob_az_put_single(az_backend *ab, const char *name, const void *data, size_t len, const char *md5);

#endif
