/*
 * The Azure Blob Storage back end: Blob REST over libcurl, SharedKey or SAS.
 * One vault = one container; object names are blob names. docs/AZURE.md has the
 * decisions (create-only puts, blocks, retries, error mapping, leases).
 */
#include "obagent/sys/azure.h"
#include "storage/azure_sign.h"
#include "storage/azure_xml.h"
#include "util/env.h"
#include "util/error.h"
#include "util/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define AZ_MAGIC            0x617a7572u   /* "azur" */
#define AZ_BLOCK_SIZE       ((size_t)4 << 20)
#define AZ_SINGLE_PUT_MAX   ((size_t)4 << 20)
#define AZ_SMALL_BODY_MAX   ((size_t)64 << 20)  /* listings and error bodies */
#define AZ_BACKOFF_CAP_MS   30000u
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

unsigned int ob_azure_list_page_size = 5000;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ---- */

static int ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static int valid_container(const char *c)
{
	size_t n = c ? strlen(c) : 0, i;

	if (n < 3 || n > 63 || c[0] == '-' || c[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '-'))
			return 0;
		if (c[i] == '-' && c[i + 1] == '-')
			return 0;
	}
	return 1;
}

static void http_date(char out[32], time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int md5_base64(char out[32], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char *b64;

	if (!EVP_Digest(data, len, md, &md_len, EVP_md5(), NULL))
		return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "MD5 of the object failed (OpenSSL).");
	if (!(b64 = ob_base64_encode(md, md_len)))
		return ob_err_nomem();
	snprintf(out, 32, "%s", b64);
	free(b64);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static uint32_t random_u32(void)
{
	uint32_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)now_ms() * 2654435761u;
	return r;
}

/* ---- the handle pool: one easy handle per concurrent request, connections kept alive ---- */

static CURL *handle_take(az_backend *ab)
{
	CURL *h = NULL;

	pthread_mutex_lock(&ab->lock);
	if (ab->idle_count)
		h = ab->idle[--ab->idle_count];
	pthread_mutex_unlock(&ab->lock);
	if (!h && !(h = curl_easy_init()))
		ob_err(OB_ENOMEM, OB_ERRCLASS_NOMEMORY, "Cannot create a libcurl handle (out of memory).");
	return h;
}

static void handle_give(az_backend *ab, CURL *h)
{
	pthread_mutex_lock(&ab->lock);
	if (ab->idle_count == ab->idle_cap) {
		size_t cap = ab->idle_cap ? ab->idle_cap * 2 : 8;
		CURL **n = realloc(ab->idle, cap * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&ab->lock);
			curl_easy_cleanup(h);
			return;
		}
		ab->idle = n;
		ab->idle_cap = cap;
	}
	ab->idle[ab->idle_count++] = h;
	pthread_mutex_unlock(&ab->lock);
}

/* ---- one HTTP exchange ---- */

typedef struct {
	const char *data;
	size_t len, pos;
} upload_cursor;

static size_t read_cb(char *buf, size_t size, size_t n, void *p)
{
	upload_cursor *c = p;
	size_t want = size * n, left = c->len - c->pos;

	if (want > left)
		want = left;
	memcpy(buf, c->data + c->pos, want);
	c->pos += want;
	return want;
}

static int seek_cb(void *p, curl_off_t offset, int origin)
{
	upload_cursor *c = p;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > c->len)
		return CURL_SEEKFUNC_FAIL;
	c->pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t n, void *p)
{
	az_response *rs = p;
	size_t len = size * n;

	if (rs->body.len + len > rs->body_max) {
		rs->too_big = 1;
		return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return ob_buf_put(&rs->body, data, len) < 0 ? 0 : len;
}

static void header_value(char *out, size_t cap, const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

static size_t header_cb(char *line, size_t size, size_t n, void *p)
{
	az_response *rs = p;
	size_t len = size * n;
	const char *colon = memchr(line, ':', len);
	char v[96];

	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue, too): forget the previous one's headers. */
		const char *sp = memchr(line, ' ', len);
		rs->error_code[0] = rs->lease_id[0] = rs->content_md5[0] = rs->content_range[0] = '\0';
		rs->content_length = -1;
		rs->retry_after = -1;
		rs->line_status = sp && (size_t)(sp - line) + 4 <= len ? atoi(sp + 1) : 0;
		return len;
	}
	if (!colon)
		return len;
#define IS(h) ((size_t)(colon - line) == sizeof(h) - 1 && strncasecmp(line, h, sizeof(h) - 1) == 0)
	if (IS("x-ms-error-code"))
		header_value(rs->error_code, sizeof(rs->error_code), colon + 1, len - (size_t)(colon + 1 - line));
	else if (IS("x-ms-lease-id"))
		header_value(rs->lease_id, sizeof(rs->lease_id), colon + 1, len - (size_t)(colon + 1 - line));
	else if (IS("content-md5"))
		header_value(rs->content_md5, sizeof(rs->content_md5), colon + 1, len - (size_t)(colon + 1 - line));
	else if (IS("content-range"))
		header_value(rs->content_range, sizeof(rs->content_range), colon + 1, len - (size_t)(colon + 1 - line));
	else if (IS("content-length") || IS("retry-after")) {
		int64_t x;
		header_value(v, sizeof(v), colon + 1, len - (size_t)(colon + 1 - line));
		if (ob_parse_i64(&x, v) == 0 && x >= 0) {
			if (IS("retry-after"))
				rs->retry_after = (long)(x > 3600 ? 3600 : x);
			else
				rs->content_length = x;
			/* Room for a data body at once: no copies while it arrives. */
			if (IS("content-length") && (rs->line_status == 200 || rs->line_status == 206) &&
			    (uint64_t)x <= rs->body_max && ob_buf_grow(&rs->body, (size_t)x) < 0)
				return 0;
		}
	}
#undef IS
	return len;
}

/* The request's URL (into url) and its canonical path for signing (into path). */
static int build_url(ob_buf *url, ob_buf *path, az_backend *ab, const az_request *rq)
{
	size_t i;
	int error;

	if ((error = ob_buf_printf(path, "%s/%s", ab->path_prefix, ab->container)) < 0)
		return error;
	if (rq->blob && ((error = ob_buf_puts(path, "/")) < 0 || (error = ob_azure_url_encode(path, rq->blob, 1)) < 0))
		return error;
	if ((error = ob_buf_printf(url, "%s%s", ab->base, path->data)) < 0)
		return error;
	for (i = 0; i < rq->nquery && !error; i++) {
		if ((error = ob_buf_printf(url, "%c%s=", i ? '&' : '?', rq->query[i].name)) == 0)
			error = ob_azure_url_encode(url, rq->query[i].value, 0);
	}
	if (!error && ab->sas)
		error = ob_buf_printf(url, "%c%s", rq->nquery ? '&' : '?', ab->sas);
	return error;
}

static struct curl_slist *add_header(struct curl_slist *list, int *error, const char *fmt, const char *a, const char *b)
{
	char line[512];
	struct curl_slist *n;

	if (*error)
		return list;
	snprintf(line, sizeof(line), fmt, a, b);
	if (!(n = curl_slist_append(list, line)))
		*error = ob_err_nomem();
	return n ? n : list;
}

/* One attempt: fills rs (status or curl error). Returns 0, or OB_ENOMEM-like failures of our own. */
static int attempt(az_backend *ab, CURL *h, const az_request *rq, az_response *rs)
{
	ob_buf url = OB_BUF_INIT, path = OB_BUF_INIT, sts = OB_BUF_INIT;
	ob_azure_pair hdrs[AZ_MAX_PAIRS + 2];
	struct curl_slist *list = NULL;
	upload_cursor cur = { rq->body, rq->body_len, 0 };
	char date[32], sig[64];
	size_t i, nh = 0;
	int error = 0;

	rs->status = 0;
	rs->proxy_refused = 0;
	rs->curl = CURLE_OK;
	rs->curl_text[0] = '\0';
	rs->body.len = 0;
	if (rs->body.data)
		rs->body.data[0] = '\0';
	rs->too_big = 0;
	rs->error_code[0] = rs->lease_id[0] = rs->content_md5[0] = rs->content_range[0] = '\0';
	rs->content_length = -1;
	rs->retry_after = -1;
	rs->body_max = rq->body_max ? rq->body_max : AZ_SMALL_BODY_MAX;

	if ((error = build_url(&url, &path, ab, rq)) < 0)
		goto done;
	http_date(date, time(NULL));   /* protocol time: the service allows 15 minutes of skew, so the real clock */
	hdrs[nh].name = "x-ms-date"; hdrs[nh++].value = date;
	hdrs[nh].name = "x-ms-version"; hdrs[nh++].value = OB_AZURE_API_VERSION;
	for (i = 0; i < rq->nheaders; i++)
		hdrs[nh++] = rq->headers[i];
	for (i = 0; i < nh; i++)
		list = add_header(list, &error, "%s: %s", hdrs[i].name, hdrs[i].value);
	if (ab->key) {
		ob_azure_sign_input in;
		memset(&in, 0, sizeof(in));
		in.method = rq->method;
		in.content_length = rq->body_len;
		in.content_md5 = rq->content_md5;
		in.content_type = rq->content_type;
		in.if_none_match = rq->if_none_match;
		in.headers = hdrs;
		in.header_count = nh;
		in.account = ab->account;
		in.path = path.data;
		in.query = rq->query;
		in.query_count = rq->nquery;
		if ((error = ob_azure_string_to_sign(&sts, &in)) < 0 ||
		    (error = ob_azure_hmac(sig, ab->key, ab->key_len, sts.data, sts.len)) < 0)
			goto done;
		list = add_header(list, &error, "Authorization: SharedKey %s:%s", ab->account, sig);
	}
	if (rq->content_md5)
		list = add_header(list, &error, "%s: %s", "Content-MD5", rq->content_md5);
	if (rq->if_none_match)
		list = add_header(list, &error, "%s: %s", "If-None-Match", rq->if_none_match);
	/* Without one, "Content-Type:" keeps libcurl from adding one that was not signed. */
	if (rq->content_type)
		list = add_header(list, &error, "%s: %s", "Content-Type", rq->content_type);
	else
		list = add_header(list, &error, "%s%s", "Content-Type:", "");
	list = add_header(list, &error, "%s%s", "Expect:", "");   /* no 100-continue round trip */
	if (error)
		goto done;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.data);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, rs->curl_text);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);   /* under 1 KiB/s for 60 s: a timeout */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);          /* fewer, larger reads */
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);      /* always: never turned off */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ab->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, ab->ca_file);
	if (ab->proxy_host) {
		curl_easy_setopt(h, CURLOPT_PROXY, ab->proxy_host);
		curl_easy_setopt(h, CURLOPT_PROXYPORT, ab->proxy_port);
		if (ab->proxy_user) {
			curl_easy_setopt(h, CURLOPT_PROXYUSERNAME, ab->proxy_user);
			curl_easy_setopt(h, CURLOPT_PROXYPASSWORD, ab->proxy_password ? ab->proxy_password : "");
		}
	} else {
		curl_easy_setopt(h, CURLOPT_PROXY, "");   /* no proxy from the environment either */
	}
	if (ab->speed_limit) {
		curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, ab->speed_limit);
		curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE, ab->speed_limit);
	}
	if (strcmp(rq->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &cur);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, &cur);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
	} else if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	rs->curl = curl_easy_perform(h);
	if (rs->curl == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
	else if (rs->too_big)
		snprintf(rs->curl_text, sizeof(rs->curl_text), "the response is larger than the %zu bytes expected", rs->body_max);
	else if (!rs->curl_text[0])
		snprintf(rs->curl_text, sizeof(rs->curl_text), "%s", curl_easy_strerror(rs->curl));
	if (ab->proxy_host) {
		/* 407 from the proxy: the answer to a request (http), or to the CONNECT of a tunnel (https). */
		long tunnel = 0;
		if (rs->curl != CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &tunnel);
		rs->proxy_refused = rs->status == 407 || tunnel == 407;
	}
done:
	curl_slist_free_all(list);
	ob_buf_dispose(&url);
	ob_buf_dispose(&path);
	ob_buf_dispose(&sts);
	return error;
}

static int retryable_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int retryable_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/*
 * Send a request, retrying transient failures with exponential backoff and jitter.
 * 0 when an HTTP answer arrived (any status: the caller maps it); a negative code
 * for failures of our own (memory). rs->curl != CURLE_OK when no answer came.
 */
static int perform(az_backend *ab, const az_request *rq, az_response *rs)
{
	uint64_t start = now_ms();
	CURL *h;
	int error = 0;

	rs->attempts = 0;
	rs->maybe_applied = 0;
	if (!(h = handle_take(ab)))
		return OB_ENOMEM;
	for (;;) {
		uint64_t delay, elapsed;
		unsigned int shift;

		if ((error = attempt(ab, h, rq, rs)) < 0)
			break;
		rs->attempts++;
		if (rs->curl == CURLE_OK ? !retryable_status(rs->status) : !retryable_curl(rs->curl))
			break;
		if (rs->proxy_refused)
			break;   /* the same credentials are refused the same way again */
		if (rs->attempts >= ab->max_attempts)
			break;
		shift = rs->attempts - 1 < 16 ? rs->attempts - 1 : 16;
		delay = (uint64_t)ab->retry_base_ms << shift;
		if (delay > AZ_BACKOFF_CAP_MS)
			delay = AZ_BACKOFF_CAP_MS;
		delay = delay / 2 + (delay / 2 ? random_u32() % (delay / 2 + 1) : 0);   /* jitter */
		if (rs->curl == CURLE_OK && rs->retry_after >= 0 && (uint64_t)rs->retry_after * 1000u > delay)
			delay = (uint64_t)rs->retry_after * 1000u;
		elapsed = now_ms() - start;
		if (elapsed + delay > ab->max_retry_ms)
			break;
		/* Unless the connection was never made, the service may have applied the request. */
		if (!(rs->curl == CURLE_COULDNT_CONNECT || rs->curl == CURLE_COULDNT_RESOLVE_HOST))
			rs->maybe_applied = 1;
		sleep_ms(delay);
	}
	handle_give(ab, h);
	return error;
}

/* The first line of the service's <Message>, and <AuthenticationErrorDetail>, for messages. */
static void service_message(char *out, size_t cap, az_response *rs)
{
	char *msg = rs->body.len ? ob_azure_xml_text(rs->body.data, rs->body.len, "Message") : NULL;
	char *detail = rs->body.len ? ob_azure_xml_text(rs->body.data, rs->body.len, "AuthenticationErrorDetail") : NULL;
	char *nl;

	if (msg && (nl = strchr(msg, '\n')) != NULL)
		*nl = '\0';
	if (msg && (nl = strchr(msg, '\r')) != NULL)
		*nl = '\0';
	snprintf(out, cap, "%s%s%s%s", rs->error_code[0] ? rs->error_code : "no error code",
		msg ? ": " : "", msg ? msg : "", detail ? " " : "");
	if (detail)
		snprintf(out + strlen(out), cap - strlen(out), "(%s)", detail);
	free(msg);
	free(detail);
}

static int sas_expired(az_backend *ab)
{
	int64_t now;

	return ab->sas && ab->sas_info.expiry && ob_clock_now(&now) == 0 && now >= ab->sas_info.expiry;
}

/* Map a failed exchange to an ob_error_code with a message that says what to do. */
static int fail(az_backend *ab, const az_request *rq, az_response *rs)
{
	char svc[512];

	if (rs->proxy_refused) {
		if (ab->proxy_user)
			return ob_err(OB_EAUTH, OB_ERRCLASS_CREDENTIALS,
				"The proxy %s:%ld refused the proxy credentials of user '%s' (HTTP 407 Proxy Authentication "
				"Required) while %s. Check the proxy user name and password: Set-OBMachineSetting -ProxyServer "
				"%s -ProxyPort %ld -ProxyUsername <user> -ProxyPassword <password>.", ab->proxy_host, ab->proxy_port,
				ab->proxy_user, rq->what, ab->proxy_host, ab->proxy_port);
		return ob_err(OB_EAUTH, OB_ERRCLASS_CREDENTIALS,
			"The proxy %s:%ld requires credentials (HTTP 407 Proxy Authentication Required) while %s, and none "
			"are set. Give them: Set-OBMachineSetting -ProxyServer %s -ProxyPort %ld -ProxyUsername <user> "
			"-ProxyPassword <password>.", ab->proxy_host, ab->proxy_port, rq->what, ab->proxy_host, ab->proxy_port);
	}
	if (rs->curl != CURLE_OK) {
		if (rs->curl == CURLE_PEER_FAILED_VERIFICATION || rs->curl == CURLE_SSL_CACERT_BADFILE ||
		    rs->curl == CURLE_SSL_CERTPROBLEM || rs->curl == CURLE_SSL_ISSUER_ERROR)
			return ob_err(OB_EIO, OB_ERRCLASS_VAULT,
				"Cannot verify the TLS certificate of the vault at %s: %s (curl %d). Check the CA bundle "
				"(or a TLS-inspecting proxy) and the endpoint.", ab->endpoint, rs->curl_text, (int)rs->curl);
		return ob_err(OB_EIO, OB_ERRCLASS_VAULT,
			"Cannot reach the vault at %s: %s (curl %d; %s; %u attempt%s). Check the network, the proxy "
			"settings and that the storage service is up, then try again.", ab->endpoint, rs->curl_text,
			(int)rs->curl, rq->what, rs->attempts, rs->attempts == 1 ? "" : "s");
	}
	service_message(svc, sizeof(svc), rs);
	switch (rs->status) {
	case 403:
		if (ab->sas && (sas_expired(ab) || ci_contains(svc, "expir")))
			return ob_err(OB_EEXPIRED, OB_ERRCLASS_CREDENTIALS,
				"The vault credentials' access token expired on %s: get a new vault credentials file "
				"and register again.", ab->sas_info.expiry_text[0] ? ab->sas_info.expiry_text : "an earlier date");
		if (ab->sas && (strcmp(rs->error_code, "AuthorizationPermissionMismatch") == 0 ||
				strcmp(rs->error_code, "AuthorizationResourceTypeMismatch") == 0 ||
				(rq->perm && !strchr(ab->sas_info.permissions, rq->perm[0]))))
			return ob_err(OB_EACCESS, OB_ERRCLASS_VAULT,
				"The vault credentials do not allow %s: the access token lacks the '%s' permission (it has '%s'; %s).%s",
				rq->what, rq->perm ? rq->perm : "?", ab->sas_info.permissions, svc,
				rq->perm && rq->perm[0] == 'd' ? " Deleting is vault maintenance: use the vault owner's credentials." : "");
		if (ab->sas)
			return ob_err(OB_EAUTH, OB_ERRCLASS_CREDENTIALS,
				"The vault refused the access token of the vault credentials (%s) while %s: it does not belong to "
				"container '%s' of account '%s' or was altered. Get a new vault credentials file and register again.",
				svc, rq->what, ab->container, ab->account);
		return ob_err(OB_EAUTH, OB_ERRCLASS_CREDENTIALS,
			"Storage account '%s' refused the account key (%s) while %s. Check the key in the vault owner's "
			"credentials (it may have been rotated).", ab->account, svc, rq->what);
	case 404:
		if (strcmp(rs->error_code, "ContainerNotFound") == 0)
			return ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT,
				"The vault container '%s' does not exist at %s: check the vault credentials, or create the vault first.",
				ab->container, ab->endpoint);
		if (rq->blob)
			return ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Object '%s' is not in the vault.", rq->blob);
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Not found at %s while %s (%s).", ab->endpoint, rq->what, svc);
	case 409:
	case 412:
		if (ci_contains(rs->error_code, "Lease"))
			return ob_err(OB_ELOCKED, OB_ERRCLASS_VAULT, "'%s' is leased by someone else (%s) while %s; "
				"another maintenance task holds the vault: try again later.", rq->blob ? rq->blob : ab->container, svc, rq->what);
		return ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Object '%s' exists already (%s).", rq->blob ? rq->blob : ab->container, svc);
	case 416:
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "The range asked for is past the end of '%s' (%s).",
			rq->blob ? rq->blob : "", svc);
	case 400:
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "The vault at %s rejected %s: HTTP 400 %s.", ab->endpoint, rq->what, svc);
	default:
		if (retryable_status(rs->status))
			return ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s is unavailable: HTTP %ld %s while %s, "
				"after %u attempts. Try again later.", ab->endpoint, rs->status, svc, rq->what, rs->attempts);
		return ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s answered HTTP %ld %s while %s.",
			ab->endpoint, rs->status, svc, rq->what);
	}
}

static void response_dispose(az_response *rs)
{
	ob_buf_dispose(&rs->body);
}

static int check_name(const char *name)
{
	if (!ob_backend_name_valid(name))
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not a valid object name.", name ? name : "");
	return 0;
}

#define ADD_QUERY(rq, n, v) do { (rq).query[(rq).nquery].name = (n); (rq).query[(rq).nquery++].value = (v); } while (0)
#define ADD_HEADER(rq, n, v) do { (rq).headers[(rq).nheaders].name = (n); (rq).headers[(rq).nheaders++].value = (v); } while (0)

/* ---- stat ---- */

static int blob_properties(az_backend *ab, const char *name, uint64_t *size, char md5[64])
{
	az_request rq;
	az_response rs;
	char what[1200];
	int error;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "reading the size of object '%s'", name);
	rq.method = "HEAD";
	rq.what = what;
	rq.perm = "r";
	rq.blob = name;
	if ((error = perform(ab, &rq, &rs)) == 0) {
		if (rs.curl == CURLE_OK && rs.status == 200 && rs.content_length >= 0) {
			*size = (uint64_t)rs.content_length;
			if (md5)
				snprintf(md5, 64, "%s", rs.content_md5);
		} else if (rs.curl == CURLE_OK && rs.status == 200) {
			error = ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s gave no length for '%s'.", ab->endpoint, name);
		} else {
			error = fail(ab, &rq, &rs);
		}
	}
	response_dispose(&rs);
	return error;
}

static int az_stat(uint64_t *out_size, ob_backend *be, const char *name)
{
	az_backend *ab = (az_backend *)be;
	int error;

	if ((error = check_name(name)) < 0)
		return error;
	return blob_properties(ab, name, out_size, NULL);
}

/*
 * After a put found the blob there: was it our own earlier attempt? Safe to call
 * success when length and MD5 both match, since names are content addresses or
 * create-only records, so equal bytes under the name are the object we meant.
 */
static int exists_as_ours(az_backend *ab, const char *name, size_t len, const char *md5)
{
	uint64_t size;
	char got[64];
	char saved[1024];
	int code = ob_error_last_code(), klass = ob_error_last_class(), same;

	snprintf(saved, sizeof(saved), "%s", ob_error_last());
	same = blob_properties(ab, name, &size, got) == 0 && size == len && strcmp(got, md5) == 0;
	ob_err(code, (ob_error_class)klass, "%s", saved);
	return same;
}

/* ---- put ---- */

static int put_single(az_backend *ab, const char *name, const void *data, size_t len, const char *md5)
{
	az_request rq;
	az_response rs;
	char what[1200];
	int error;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "creating object '%s'", name);
	rq.method = "PUT";
	rq.what = what;
	rq.perm = "c";
	rq.blob = name;
	ADD_HEADER(rq, "x-ms-blob-type", "BlockBlob");
	rq.content_md5 = md5;
	rq.content_type = "application/octet-stream";
	rq.if_none_match = "*";
	rq.body = data;
	rq.body_len = len;
	if ((error = perform(ab, &rq, &rs)) < 0)
		goto done;
	if (rs.curl == CURLE_OK && rs.status == 201)
		goto done;
	error = fail(ab, &rq, &rs);
	if (rs.curl == CURLE_OK && (rs.status == 409 || rs.status == 412 ||
				   (rs.status == 403 && error == OB_EACCESS && ab->sas))) {
		/* A SAS without 'w' is refused (403), not told "exists" (409), when the blob is there. */
		uint64_t size;
		if (rs.status == 403 && blob_properties(ab, name, &size, NULL) < 0) {
			error = fail(ab, &rq, &rs);
			goto done;
		}
		if (rs.maybe_applied && exists_as_ours(ab, name, len, md5))
			error = 0;
		else
			error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Object '%s' exists already.", name);
	}
done:
	response_dispose(&rs);
	return error;
}

typedef struct {
	az_backend *ab;
	const char *name;
	const uint8_t *data;
	size_t len;
	size_t nblocks;
	char (*ids)[32];
	pthread_mutex_t lock;
	size_t next;
	int error;            /* the first failure */
	char message[1024];
	int klass;
} block_job;

static void *block_worker(void *p)
{
	block_job *j = p;

	for (;;) {
		az_request rq;
		az_response rs;
		char what[1200];
		size_t i, off, n;
		int error;

		pthread_mutex_lock(&j->lock);
		i = j->error ? j->nblocks : j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->nblocks)
			break;
		off = i * AZ_BLOCK_SIZE;
		n = j->len - off < AZ_BLOCK_SIZE ? j->len - off : AZ_BLOCK_SIZE;
		memset(&rq, 0, sizeof(rq));
		memset(&rs, 0, sizeof(rs));
		snprintf(what, sizeof(what), "uploading block %zu of object '%s'", i, j->name);
		rq.method = "PUT";
		rq.what = what;
		rq.perm = "w";
		rq.blob = j->name;
		ADD_QUERY(rq, "comp", "block");
		ADD_QUERY(rq, "blockid", j->ids[i]);
		rq.body = j->data + off;
		rq.body_len = n;
		error = perform(j->ab, &rq, &rs);
		if (error == 0 && !(rs.curl == CURLE_OK && rs.status == 201))
			error = fail(j->ab, &rq, &rs);
		response_dispose(&rs);
		if (error < 0) {
			pthread_mutex_lock(&j->lock);
			if (!j->error) {
				j->error = error;
				j->klass = ob_error_last_class();
				snprintf(j->message, sizeof(j->message), "%s", ob_error_last());
			}
			pthread_mutex_unlock(&j->lock);
			break;
		}
	}
	return NULL;
}

static int put_blocks(az_backend *ab, const char *name, const void *data, size_t len, const char *md5)
{
	block_job j;
	pthread_t threads[64];
	size_t nthreads, started = 0, i;
	uint8_t upload_id[12];
	ob_buf list = OB_BUF_INIT;
	az_request rq;
	az_response rs;
	char what[1200];
	int error = 0;

	memset(&j, 0, sizeof(j));
	memset(&rs, 0, sizeof(rs));
	j.ab = ab;
	j.name = name;
	j.data = data;
	j.len = len;
	j.nblocks = (len + AZ_BLOCK_SIZE - 1) / AZ_BLOCK_SIZE;
	if (!(j.ids = calloc(j.nblocks, sizeof(*j.ids))))
		return ob_err_nomem();
	/*
	 * Block ids are unique to this upload (random prefix + index, all the same
	 * length), so that two writers racing for one name never mix their blocks.
	 */
	if (RAND_bytes(upload_id, sizeof(upload_id)) != 1) {
		free(j.ids);
		return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "No random bytes for the block ids (OpenSSL).");
	}
	for (i = 0; i < j.nblocks; i++) {
		uint8_t raw[16];
		char *b64;
		memcpy(raw, upload_id, 12);
		raw[12] = (uint8_t)(i >> 24); raw[13] = (uint8_t)(i >> 16); raw[14] = (uint8_t)(i >> 8); raw[15] = (uint8_t)i;
		if (!(b64 = ob_base64_encode(raw, sizeof(raw)))) {
			free(j.ids);
			return ob_err_nomem();
		}
		snprintf(j.ids[i], sizeof(j.ids[i]), "%s", b64);
		free(b64);
	}
	pthread_mutex_init(&j.lock, NULL);
	nthreads = ab->connections < j.nblocks ? ab->connections : j.nblocks;
	if (nthreads > sizeof(threads) / sizeof(threads[0]))
		nthreads = sizeof(threads) / sizeof(threads[0]);
	for (i = 1; i < nthreads; i++)
		if (pthread_create(&threads[started], NULL, block_worker, &j) == 0)
			started++;
	block_worker(&j);   /* this thread works too */
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&j.lock);
	if (j.error) {
		error = ob_err(j.error, (ob_error_class)j.klass, "%s", j.message);
		goto done;
	}

	if ((error = ob_buf_puts(&list, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>")) < 0)
		goto done;
	for (i = 0; i < j.nblocks && !error; i++)
		error = ob_buf_printf(&list, "<Latest>%s</Latest>", j.ids[i]);
	if (error || (error = ob_buf_puts(&list, "</BlockList>")) < 0)
		goto done;
	memset(&rq, 0, sizeof(rq));
	snprintf(what, sizeof(what), "committing the blocks of object '%s'", name);
	rq.method = "PUT";
	rq.what = what;
	rq.perm = "w";
	rq.blob = name;
	ADD_QUERY(rq, "comp", "blocklist");
	ADD_HEADER(rq, "x-ms-blob-content-md5", md5);
	ADD_HEADER(rq, "x-ms-blob-content-type", "application/octet-stream");
	rq.content_type = "application/xml";
	rq.if_none_match = "*";
	rq.body = list.data;
	rq.body_len = list.len;
	if ((error = perform(ab, &rq, &rs)) < 0)
		goto done;
	if (rs.curl == CURLE_OK && rs.status == 201)
		goto done;
	error = fail(ab, &rq, &rs);
	if (rs.curl == CURLE_OK && (rs.status == 409 || rs.status == 412) && error == OB_EEXISTS) {
		if (rs.maybe_applied && exists_as_ours(ab, name, len, md5))
			error = 0;
		else
			error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Object '%s' exists already.", name);
	}
done:
	response_dispose(&rs);
	ob_buf_dispose(&list);
	free(j.ids);
	return error;
}

static int az_put(ob_backend *be, const char *name, const void *data, size_t len)
{
	az_backend *ab = (az_backend *)be;
	char md5[32];
	int error;

	if ((error = check_name(name)) < 0 || (error = md5_base64(md5, data, len)) < 0)
		return error;
	if (len > AZ_SINGLE_PUT_MAX && ab->can_write_blocks)
		return put_blocks(ab, name, data, len, md5);
	return put_single(ab, name, data, len, md5);
}

/* ---- get ---- */

static int az_get(void **out, size_t *out_len, ob_backend *be, const char *name, uint64_t offset, size_t len)
{
	az_backend *ab = (az_backend *)be;
	az_request rq;
	az_response rs;
	char what[1200], range[64];
	int error;

	*out = NULL;
	*out_len = 0;
	if ((error = check_name(name)) < 0)
		return error;
	if (len && offset + len < offset)
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Range %llu+%zu of '%s' overflows.", (unsigned long long)offset, len, name);
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "reading object '%s'", name);
	rq.method = "GET";
	rq.what = what;
	rq.perm = "r";
	rq.blob = name;
	rq.body_max = len ? len : SIZE_MAX / 2;
	if (offset || len) {
		if (len)
			snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)offset,
				(unsigned long long)(offset + len - 1));
		else
			snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)offset);
		ADD_HEADER(rq, "x-ms-range", range);
	}
	if ((error = perform(ab, &rq, &rs)) < 0)
		goto done;
	if (rs.curl == CURLE_OK && rs.status == 416 && len == 0) {
		/* "From offset to the end" where offset is the end: empty, not an error. */
		uint64_t size;
		if ((error = blob_properties(ab, name, &size, NULL)) < 0)
			goto done;
		if (size != offset) {
			error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Range %llu+ is past the end of '%s' (%llu bytes).",
				(unsigned long long)offset, name, (unsigned long long)size);
			goto done;
		}
	} else if (rs.curl == CURLE_OK && (rs.status == 200 || rs.status == 206)) {
		if (len && rs.body.len != len) {
			error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Range %llu+%zu is past the end of '%s' (%s).",
				(unsigned long long)offset, len, name, rs.content_range[0] ? rs.content_range : "shorter object");
			goto done;
		}
		if (rs.status == 200 && offset) {
			error = ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s ignored the range asked for '%s'.", ab->endpoint, name);
			goto done;
		}
	} else {
		error = fail(ab, &rq, &rs);
		if (rs.curl != CURLE_OK && rs.too_big && len)
			error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "Range %llu+%zu is past the end of '%s'.",
				(unsigned long long)offset, len, name);
		goto done;
	}
	*out_len = rs.body.len;
	if (rs.body.data) {
		*out = ob_buf_detach(&rs.body);
	} else if (!(*out = malloc(1))) {
		*out_len = 0;
		error = ob_err_nomem();
	}
done:
	response_dispose(&rs);
	return error;
}

/* ---- list ---- */

static int az_list(ob_backend *be, const char *prefix, ob_backend_list_cb cb, void *payload)
{
	az_backend *ab = (az_backend *)be;
	char *marker = NULL;
	size_t plen = prefix ? strlen(prefix) : 0;
	char page_size[16];
	int error = 0;

	snprintf(page_size, sizeof(page_size), "%u", ob_azure_list_page_size ? ob_azure_list_page_size : 5000);
	do {
		az_request rq;
		az_response rs;
		ob_azure_listing page;
		size_t i;

		memset(&rq, 0, sizeof(rq));
		memset(&rs, 0, sizeof(rs));
		memset(&page, 0, sizeof(page));
		rq.method = "GET";
		rq.what = "listing the vault";
		rq.perm = "l";
		ADD_QUERY(rq, "restype", "container");
		ADD_QUERY(rq, "comp", "list");
		ADD_QUERY(rq, "maxresults", page_size);
		if (plen)
			ADD_QUERY(rq, "prefix", prefix);
		if (marker)
			ADD_QUERY(rq, "marker", marker);
		if ((error = perform(ab, &rq, &rs)) == 0) {
			if (rs.curl == CURLE_OK && rs.status == 200)
				error = ob_azure_list_parse(&page, rs.body.data ? rs.body.data : "", rs.body.len);
			else
				error = fail(ab, &rq, &rs);
		}
		for (i = 0; error == 0 && i < page.count; i++) {
			const ob_azure_list_entry *e = &page.entries[i];
			if (strncmp(e->name, prefix ? prefix : "", plen) != 0 || !ob_backend_name_valid(e->name))
				continue;   /* not ours: foreign blobs in the container are left out */
			error = cb(e->name, e->size, payload);
		}
		if (error == 0 && page.next_marker && *page.next_marker && marker && strcmp(marker, page.next_marker) == 0)
			error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault at %s repeats the listing marker '%s'.",
				ab->endpoint, marker);
		free(marker);
		marker = NULL;
		if (error == 0 && page.next_marker && *page.next_marker) {
			marker = page.next_marker;
			page.next_marker = NULL;
		}
		ob_azure_listing_dispose(&page);
		response_dispose(&rs);
	} while (error == 0 && marker);
	free(marker);
	return error;
}

/* ---- remove ---- */

static int az_remove(ob_backend *be, const char *name)
{
	az_backend *ab = (az_backend *)be;
	az_request rq;
	az_response rs;
	char what[1200];
	int error;

	if ((error = check_name(name)) < 0)
		return error;
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "deleting object '%s'", name);
	rq.method = "DELETE";
	rq.what = what;
	rq.perm = "d";
	rq.blob = name;
	if ((error = perform(ab, &rq, &rs)) == 0 && !(rs.curl == CURLE_OK && rs.status == 202)) {
		/* A retried delete whose first attempt went through finds nothing: that is done, too. */
		if (rs.curl == CURLE_OK && rs.status == 404 && rs.maybe_applied && strcmp(rs.error_code, "BlobNotFound") == 0)
			error = 0;
		else
			error = fail(ab, &rq, &rs);
	}
	response_dispose(&rs);
	return error;
}

static unsigned int az_capabilities(ob_backend *be)
{
	az_backend *ab = (az_backend *)be;

	return OB_BACKEND_CAP_RANGE_GET | (ab->can_delete ? OB_BACKEND_CAP_DELETE : 0);
}

static void az_free(ob_backend *be)
{
	az_backend *ab = (az_backend *)be;
	size_t i;

	if (!ab)
		return;
	for (i = 0; i < ab->idle_count; i++)
		curl_easy_cleanup(ab->idle[i]);
	free(ab->idle);
	pthread_mutex_destroy(&ab->lock);
	if (ab->key) {
		OPENSSL_cleanse(ab->key, ab->key_len);
		free(ab->key);
	}
	if (ab->sas) {
		OPENSSL_cleanse(ab->sas, strlen(ab->sas));
		free(ab->sas);
	}
	if (ab->proxy_password) {
		OPENSSL_cleanse(ab->proxy_password, strlen(ab->proxy_password));
		free(ab->proxy_password);
	}
	free(ab->base);
	free(ab->path_prefix);
	free(ab->endpoint);
	free(ab->account);
	free(ab->container);
	free(ab->ca_file);
	free(ab->proxy_host);
	free(ab->proxy_user);
	ab->magic = 0;
	free(ab);
}

/* ---- opening ---- */

static int dup_opt(char **out, const char *s)
{
	*out = NULL;
	if (s && !(*out = ob_strdup(s)))
		return OB_ENOMEM;
	return 0;
}

static int parse_endpoint(az_backend *ab, const char *endpoint)
{
	const char *host, *slash;
	size_t len = strlen(endpoint);

	while (len && endpoint[len - 1] == '/')
		len--;
	if (strncmp(endpoint, "https://", 8) == 0)
		host = endpoint + 8;
	else if (strncmp(endpoint, "http://", 7) == 0)
		host = endpoint + 7;
	else
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The vault endpoint '%s' must start with https:// (or http:// for a local emulator).", endpoint);
	if (host >= endpoint + len || *host == '/' || memchr(endpoint, '?', len) || memchr(endpoint, '#', len) ||
	    memchr(endpoint, ' ', len))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The vault endpoint '%s' is not a URL with a host.", endpoint);
	slash = memchr(host, '/', len - (size_t)(host - endpoint));
	if (!slash)
		slash = endpoint + len;
	if (!(ab->base = malloc((size_t)(slash - endpoint) + 1)) ||
	    !(ab->path_prefix = malloc((size_t)(endpoint + len - slash) + 1)) ||
	    !(ab->endpoint = malloc(len + 1)))
		return ob_err_nomem();
	memcpy(ab->base, endpoint, (size_t)(slash - endpoint));
	ab->base[slash - endpoint] = '\0';
	memcpy(ab->path_prefix, slash, (size_t)(endpoint + len - slash));
	ab->path_prefix[endpoint + len - slash] = '\0';
	memcpy(ab->endpoint, endpoint, len);
	ab->endpoint[len] = '\0';
	return 0;
}

static int az_open(az_backend **out, const ob_azure_options *o)
{
	az_backend *ab = NULL;
	char def[256];
	int error = 0;

	*out = NULL;
	if (!o || o->version != OB_AZURE_OPTIONS_VERSION)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The Azure options are missing or of an unknown version (use OB_AZURE_OPTIONS_INIT).");
	if (!o->account || !*o->account || strlen(o->account) > 64 || strpbrk(o->account, "/?#:@ "))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The storage account name is missing or not valid.");
	if (!valid_container(o->container))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"'%s' is not a valid container name: 3 to 63 lowercase letters, digits and single hyphens.",
			o->container ? o->container : "");
	if (!!(o->account_key && *o->account_key) == !!(o->sas && *o->sas))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"Give either the storage account key or an access token (SAS), not %s.",
			o->account_key && *o->account_key ? "both" : "neither");
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return ob_err(OB_ERROR, OB_ERRCLASS_VAULT, "libcurl failed to initialise: %s.", curl_easy_strerror(curl_init_result));
	if (!(ab = calloc(1, sizeof(*ab))))
		return ob_err_nomem();
	pthread_mutex_init(&ab->lock, NULL);
	ab->magic = AZ_MAGIC;
	if (!o->endpoint || !*o->endpoint)
		snprintf(def, sizeof(def), "https://%s.blob.core.windows.net", o->account);
	if ((error = parse_endpoint(ab, o->endpoint && *o->endpoint ? o->endpoint : def)) < 0 ||
	    (error = dup_opt(&ab->account, o->account)) < 0 ||
	    (error = dup_opt(&ab->container, o->container)) < 0 ||
	    (error = dup_opt(&ab->ca_file, o->ca_file)) < 0 ||
	    (error = dup_opt(&ab->proxy_host, o->proxy_host)) < 0 ||
	    (error = dup_opt(&ab->proxy_user, o->proxy_user)) < 0)
		goto fail;
	if (o->proxy_password && o->proxy_password_len) {
		if (!(ab->proxy_password = malloc(o->proxy_password_len + 1))) {
			error = ob_err_nomem();
			goto fail;
		}
		memcpy(ab->proxy_password, o->proxy_password, o->proxy_password_len);
		ab->proxy_password[o->proxy_password_len] = '\0';
	}
	ab->proxy_port = o->proxy_port ? (long)o->proxy_port : 8080;
	if (o->account_key && *o->account_key) {
		if ((error = ob_azure_key_decode(&ab->key, &ab->key_len, o->account_key)) < 0)
			goto fail;
		ab->can_write_blocks = ab->can_delete = 1;
	} else {
		if ((error = ob_azure_sas_parse(&ab->sas_info, o->sas)) < 0 ||
		    (error = dup_opt(&ab->sas, o->sas[0] == '?' ? o->sas + 1 : o->sas)) < 0)
			goto fail;
		ab->can_write_blocks = strchr(ab->sas_info.permissions, 'w') != NULL;
		ab->can_delete = strchr(ab->sas_info.permissions, 'd') != NULL;
	}
	ab->connections = o->connections ? o->connections : 4;
	ab->max_attempts = o->max_attempts ? o->max_attempts : 6;
	ab->max_retry_ms = (o->max_retry_seconds ? o->max_retry_seconds : 120) * 1000u;
	ab->retry_base_ms = o->retry_base_ms ? o->retry_base_ms : 250;
	if (o->max_bytes_per_second) {
		ab->speed_limit = (curl_off_t)(o->max_bytes_per_second / ab->connections);
		if (ab->speed_limit < 1)
			ab->speed_limit = 1;
	}
	ab->parent.version = OB_BACKEND_VERSION;
	ab->parent.put = az_put;
	ab->parent.get = az_get;
	ab->parent.stat = az_stat;
	ab->parent.list = az_list;
	ab->parent.remove = az_remove;
	ab->parent.capabilities = az_capabilities;
	ab->parent.free = az_free;
	*out = ab;
	return 0;
fail:
	az_free(&ab->parent);
	return error;
}

int ob_backend_azure_new(ob_backend **out, const ob_azure_options *opts)
{
	az_backend *ab = NULL;
	int error;

	if (!out)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No place for the back end (out is NULL).");
	*out = NULL;
	if ((error = az_open(&ab, opts)) < 0)
		return error;
	*out = &ab->parent;
	return 0;
}

/* ---- the owner's helpers ---- */

static int container_request(const ob_azure_options *opts, const char *method, const char *what)
{
	az_backend *ab = NULL;
	az_request rq;
	az_response rs;
	int error;

	if ((error = az_open(&ab, opts)) < 0)
		return error;
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = method;
	rq.what = what;
	ADD_QUERY(rq, "restype", "container");
	if ((error = perform(ab, &rq, &rs)) == 0 && !(rs.curl == CURLE_OK && (rs.status == 201 || rs.status == 202))) {
		if (rs.curl == CURLE_OK && rs.status == 409 && strcmp(rs.error_code, "ContainerAlreadyExists") == 0 &&
		    strcmp(method, "PUT") == 0)
			error = 0;
		else if (rs.curl == CURLE_OK && rs.status == 404 && rs.maybe_applied && strcmp(method, "DELETE") == 0)
			error = 0;
		else
			error = fail(ab, &rq, &rs);
	}
	response_dispose(&rs);
	az_free(&ab->parent);
	return error;
}

int ob_azure_container_create(const ob_azure_options *opts)
{
	return container_request(opts, "PUT", "creating the vault container");
}

int ob_azure_container_delete(const ob_azure_options *opts)
{
	return container_request(opts, "DELETE", "deleting the vault container");
}

int ob_azure_sas_create(char **out, const char *account, const char *account_key,
	const char *container, const char *permissions, int64_t start, int64_t expiry)
{
	ob_buf sts = OB_BUF_INIT, tok = OB_BUF_INIT;
	char perms[32], st[21] = "", se[21], sig[64];
	uint8_t *key = NULL;
	size_t key_len = 0, n = 0;
	const char *p;
	int error;

	if (!out)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No place for the access token (out is NULL).");
	*out = NULL;
	if (!account || !*account || !valid_container(container))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An access token needs an account and a valid container name.");
	if (!permissions || !*permissions || strlen(permissions) >= sizeof(perms))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An access token needs permissions, such as \"rcl\".");
	for (p = permissions; *p; p++)
		if (!strchr(OB_AZURE_SAS_PERMISSION_ORDER, *p))
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%c' is not a blob SAS permission (use letters of \"%s\").",
				*p, OB_AZURE_SAS_PERMISSION_ORDER);
	for (p = OB_AZURE_SAS_PERMISSION_ORDER; *p; p++)
		if (strchr(permissions, *p))
			perms[n++] = *p;
	perms[n] = '\0';
	if (expiry <= 0 || (start && start >= expiry))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An access token needs an expiry after its start.");
	if (start)
		ob_time_format_utc(st, start);
	ob_time_format_utc(se, expiry);
	if ((error = ob_azure_key_decode(&key, &key_len, account_key)) < 0)
		return error;
	if ((error = ob_azure_sas_string_to_sign(&sts, account, container, perms, st, se, OB_AZURE_API_VERSION)) < 0 ||
	    (error = ob_azure_hmac(sig, key, key_len, sts.data, sts.len)) < 0 ||
	    (error = ob_buf_printf(&tok, "sv=%s", OB_AZURE_API_VERSION)) < 0)
		goto done;
	if (start && ((error = ob_buf_puts(&tok, "&st=")) < 0 || (error = ob_azure_url_encode(&tok, st, 0)) < 0))
		goto done;
	if ((error = ob_buf_puts(&tok, "&se=")) < 0 || (error = ob_azure_url_encode(&tok, se, 0)) < 0 ||
	    (error = ob_buf_printf(&tok, "&sr=c&sp=%s&sig=", perms)) < 0 ||
	    (error = ob_azure_url_encode(&tok, sig, 0)) < 0)
		goto done;
	*out = ob_buf_detach(&tok);
done:
	OPENSSL_cleanse(key, key_len);
	free(key);
	ob_buf_dispose(&sts);
	ob_buf_dispose(&tok);
	return error;
}

/* ---- leases ---- */

static int lease_request(az_backend *ab, const char *name, const char *action, const char *duration,
	const char *lease_id, az_response *rs, const char *what)
{
	az_request rq;
	int error;

	memset(&rq, 0, sizeof(rq));
	rq.method = "PUT";
	rq.what = what;
	rq.perm = "w";
	rq.blob = name;
	ADD_QUERY(rq, "comp", "lease");
	ADD_HEADER(rq, "x-ms-lease-action", action);
	if (duration)
		ADD_HEADER(rq, "x-ms-lease-duration", duration);
	if (lease_id)
		ADD_HEADER(rq, "x-ms-lease-id", lease_id);
	if ((error = perform(ab, &rq, rs)) < 0)
		return error;
	if (rs->curl == CURLE_OK && (rs->status == 200 || rs->status == 201))
		return 0;
	return fail(ab, &rq, rs);
}

static int lease_backend(az_backend **out, ob_backend *be, const char *name)
{
	az_backend *ab = (az_backend *)be;

	if (!ab || ab->parent.put != az_put || ab->magic != AZ_MAGIC)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Leases need an Azure Blob back end.");
	*out = ab;
	return check_name(name);
}

int ob_azure_lease_acquire(char **out_lease_id, ob_backend *be, const char *name, int duration_seconds)
{
	az_backend *ab = NULL;
	az_response rs;
	char dur[16], what[1200];
	int error, tries;

	if (!out_lease_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No place for the lease id.");
	*out_lease_id = NULL;
	if ((error = lease_backend(&ab, be, name)) < 0)
		return error;
	if (duration_seconds != -1 && (duration_seconds < 15 || duration_seconds > 60))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A lease lasts 15 to 60 seconds, or -1 for ever; not %d.", duration_seconds);
	snprintf(dur, sizeof(dur), "%d", duration_seconds);
	snprintf(what, sizeof(what), "taking the lease on '%s'", name);
	for (tries = 0; tries < 2; tries++) {
		memset(&rs, 0, sizeof(rs));
		error = lease_request(ab, name, "acquire", dur, NULL, &rs, what);
		if (error == OB_ENOTFOUND && tries == 0 && strcmp(rs.error_code, "BlobNotFound") == 0) {
			/* No lock blob yet: create it (empty) and try again; someone else creating it is fine. */
			response_dispose(&rs);
			if ((error = put_single(ab, name, "", 0, "1B2M2Y8AsgTpgAmY7PhCfg==")) < 0 && error != OB_EEXISTS)
				return error;
			continue;
		}
		break;
	}
	if (error == 0 && !rs.lease_id[0])
		error = ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s granted a lease on '%s' without an id.", ab->endpoint, name);
	if (error == 0 && !(*out_lease_id = ob_strdup(rs.lease_id)))
		error = OB_ENOMEM;
	response_dispose(&rs);
	return error;
}

int ob_azure_lease_renew(ob_backend *be, const char *name, const char *lease_id)
{
	az_backend *ab = NULL;
	az_response rs;
	char what[1200];
	int error;

	if ((error = lease_backend(&ab, be, name)) < 0)
		return error;
	if (!lease_id || !*lease_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No lease id to renew.");
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "renewing the lease on '%s'", name);
	error = lease_request(ab, name, "renew", NULL, lease_id, &rs, what);
	response_dispose(&rs);
	return error;
}

int ob_azure_lease_release(ob_backend *be, const char *name, const char *lease_id)
{
	az_backend *ab = NULL;
	az_response rs;
	char what[1200];
	int error;

	if ((error = lease_backend(&ab, be, name)) < 0)
		return error;
	if (!lease_id || !*lease_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No lease id to release.");
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "releasing the lease on '%s'", name);
	error = lease_request(ab, name, "release", NULL, lease_id, &rs, what);
	response_dispose(&rs);
	return error;
}
