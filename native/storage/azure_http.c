/*
 * The Azure Blob back end's HTTP: one request over libcurl (signed with
 * SharedKey, or carrying the SAS), the pool of easy handles that keeps
 * connections alive, retries with backoff, and the mapping of a failed
 * exchange to an error code and a message. docs/AZURE.md has the decisions.
 */
#include "storage/azure_internal.h"
#include "storage/azure_xml.h"
#include "util/env.h"
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#define AZ_SMALL_BODY_MAX   ((size_t)64 << 20)  /* listings and error bodies */
#define AZ_BACKOFF_CAP_MS   30000u

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ob_az_http_init(void)
{
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return ob_err(OB_ERROR, OB_ERRCLASS_VAULT, "libcurl failed to initialise: %s.", curl_easy_strerror(curl_init_result));
	return 0;
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

void ob_az_pool_dispose(az_backend *ab)
{
	size_t i;

	for (i = 0; i < ab->idle_count; i++)
		curl_easy_cleanup(ab->idle[i]);
	free(ab->idle);
	ab->idle = NULL;
	ab->idle_count = ab->idle_cap = 0;
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
		rs->creation_time[0] = rs->last_modified[0] = '\0';
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
	else if (IS("x-ms-creation-time"))
		header_value(rs->creation_time, sizeof(rs->creation_time), colon + 1, len - (size_t)(colon + 1 - line));
	else if (IS("last-modified"))
		header_value(rs->last_modified, sizeof(rs->last_modified), colon + 1, len - (size_t)(colon + 1 - line));
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
	rs->creation_time[0] = rs->last_modified[0] = '\0';
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

/* Send a request, retrying transient failures (azure_internal.h). */
int ob_az_perform(az_backend *ab, const az_request *rq, az_response *rs)
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
int ob_az_fail(az_backend *ab, const az_request *rq, az_response *rs)
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

void ob_az_response_dispose(az_response *rs)
{
	ob_buf_dispose(&rs->body);
}
