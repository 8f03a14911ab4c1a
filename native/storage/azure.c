/*
 * The Azure Blob Storage back end: Blob REST over libcurl, SharedKey or SAS.
 * One vault = one container; object names are blob names. docs/AZURE.md has the
 * decisions (create-only puts, blocks, retries, error mapping, leases).
 * This file is the back end itself: its blob operations and opening it. A request
 * goes out through azure_http.c; the owner's administration is azure_admin.c.
 */
#include "storage/azure_internal.h"
#include "storage/azure_xml.h"
#include "util/env.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define AZ_MAGIC            0x617a7572u   /* "azur" */
#define AZ_BLOCK_SIZE       ((size_t)4 << 20)
#define AZ_SINGLE_PUT_MAX   ((size_t)4 << 20)

unsigned int ob_azure_list_page_size = 5000;

/* ---- small helpers ---- */

int ob_az_valid_container(const char *c)
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

int ob_az_check_name(const char *name)
{
	if (!ob_backend_name_valid(name))
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not a valid object name.", name ? name : "");
	return 0;
}

/* ---- stat ---- */

static int blob_properties(az_backend *ab, const char *name, uint64_t *size, char md5[64], int64_t *created)
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
	if ((error = ob_az_perform(ab, &rq, &rs)) == 0) {
		if (rs.curl == CURLE_OK && rs.status == 200 && rs.content_length >= 0) {
			*size = (uint64_t)rs.content_length;
			if (md5)
				snprintf(md5, 64, "%s", rs.content_md5);
			/*
			 * The service sets both; Last-Modified only when a version has no
			 * creation time (a create-only blob is never modified, so it is the same).
			 */
			if (created && ob_azure_http_date_parse(created, rs.creation_time[0] ? rs.creation_time : rs.last_modified) < 0)
				error = ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s gave no creation time for '%s'.", ab->endpoint, name);
		} else if (rs.curl == CURLE_OK && rs.status == 200) {
			error = ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s gave no length for '%s'.", ab->endpoint, name);
		} else {
			error = ob_az_fail(ab, &rq, &rs);
		}
	}
	ob_az_response_dispose(&rs);
	return error;
}

static int az_stat(uint64_t *out_size, ob_backend *be, const char *name)
{
	az_backend *ab = (az_backend *)be;
	int error;

	if ((error = ob_az_check_name(name)) < 0)
		return error;
	return blob_properties(ab, name, out_size, NULL, NULL);
}

static int az_stat_created(int64_t *out, ob_backend *be, const char *name)
{
	az_backend *ab = (az_backend *)be;
	uint64_t size;
	int error;

	if ((error = ob_az_check_name(name)) < 0)
		return error;
	return blob_properties(ab, name, &size, NULL, out);
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
	same = blob_properties(ab, name, &size, got, NULL) == 0 && size == len && strcmp(got, md5) == 0;
	ob_err(code, (ob_error_class)klass, "%s", saved);
	return same;
}

/* ---- put ---- */

int ob_az_put_single(az_backend *ab, const char *name, const void *data, size_t len, const char *md5)
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
	if ((error = ob_az_perform(ab, &rq, &rs)) < 0)
		goto done;
	if (rs.curl == CURLE_OK && rs.status == 201)
		goto done;
	error = ob_az_fail(ab, &rq, &rs);
	if (rs.curl == CURLE_OK && (rs.status == 409 || rs.status == 412 ||
				   (rs.status == 403 && error == OB_EACCESS && ab->sas))) {
		/* A SAS without 'w' is refused (403), not told "exists" (409), when the blob is there. */
		uint64_t size;
		if (rs.status == 403 && blob_properties(ab, name, &size, NULL, NULL) < 0) {
			error = ob_az_fail(ab, &rq, &rs);
			goto done;
		}
		if (rs.maybe_applied && exists_as_ours(ab, name, len, md5))
			error = 0;
		else
			error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Object '%s' exists already.", name);
	}
done:
	ob_az_response_dispose(&rs);
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
		error = ob_az_perform(j->ab, &rq, &rs);
		if (error == 0 && !(rs.curl == CURLE_OK && rs.status == 201))
			error = ob_az_fail(j->ab, &rq, &rs);
		ob_az_response_dispose(&rs);
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
	if ((error = ob_az_perform(ab, &rq, &rs)) < 0)
		goto done;
	if (rs.curl == CURLE_OK && rs.status == 201)
		goto done;
	error = ob_az_fail(ab, &rq, &rs);
	if (rs.curl == CURLE_OK && (rs.status == 409 || rs.status == 412) && error == OB_EEXISTS) {
		if (rs.maybe_applied && exists_as_ours(ab, name, len, md5))
			error = 0;
		else
			error = ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Object '%s' exists already.", name);
	}
done:
	ob_az_response_dispose(&rs);
	ob_buf_dispose(&list);
	free(j.ids);
	return error;
}

static int az_put(ob_backend *be, const char *name, const void *data, size_t len)
{
	az_backend *ab = (az_backend *)be;
	char md5[32];
	int error;

	if ((error = ob_az_check_name(name)) < 0 || (error = md5_base64(md5, data, len)) < 0)
		return error;
	if (len > AZ_SINGLE_PUT_MAX && ab->can_write_blocks)
		return put_blocks(ab, name, data, len, md5);
	return ob_az_put_single(ab, name, data, len, md5);
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
	if ((error = ob_az_check_name(name)) < 0)
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
	if ((error = ob_az_perform(ab, &rq, &rs)) < 0)
		goto done;
	if (rs.curl == CURLE_OK && rs.status == 416 && len == 0) {
		/* "From offset to the end" where offset is the end: empty, not an error. */
		uint64_t size;
		if ((error = blob_properties(ab, name, &size, NULL, NULL)) < 0)
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
		error = ob_az_fail(ab, &rq, &rs);
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
	ob_az_response_dispose(&rs);
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
		if ((error = ob_az_perform(ab, &rq, &rs)) == 0) {
			if (rs.curl == CURLE_OK && rs.status == 200)
				error = ob_azure_list_parse(&page, rs.body.data ? rs.body.data : "", rs.body.len);
			else
				error = ob_az_fail(ab, &rq, &rs);
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
		ob_az_response_dispose(&rs);
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

	if ((error = ob_az_check_name(name)) < 0)
		return error;
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "deleting object '%s'", name);
	rq.method = "DELETE";
	rq.what = what;
	rq.perm = "d";
	rq.blob = name;
	if ((error = ob_az_perform(ab, &rq, &rs)) == 0 && !(rs.curl == CURLE_OK && rs.status == 202)) {
		/* A retried delete whose first attempt went through finds nothing: that is done, too. */
		if (rs.curl == CURLE_OK && rs.status == 404 && rs.maybe_applied && strcmp(rs.error_code, "BlobNotFound") == 0)
			error = 0;
		else
			error = ob_az_fail(ab, &rq, &rs);
	}
	ob_az_response_dispose(&rs);
	return error;
}

static unsigned int az_capabilities(ob_backend *be)
{
	az_backend *ab = (az_backend *)be;

	return OB_BACKEND_CAP_RANGE_GET | OB_BACKEND_CAP_REMOTE | (ab->can_delete ? OB_BACKEND_CAP_DELETE : 0);
}

void ob_az_free(ob_backend *be)
{
	az_backend *ab = (az_backend *)be;

	if (!ab)
		return;
	ob_az_pool_dispose(ab);
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

int ob_az_open(az_backend **out, const ob_azure_options *o)
{
	az_backend *ab = NULL;
	char def[256];
	int error = 0;

	*out = NULL;
	if (!o || o->version != OB_AZURE_OPTIONS_VERSION)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The Azure options are missing or of an unknown version (use OB_AZURE_OPTIONS_INIT).");
	if (!o->account || !*o->account || strlen(o->account) > 64 || strpbrk(o->account, "/?#:@ "))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The storage account name is missing or not valid.");
	if (!ob_az_valid_container(o->container))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"'%s' is not a valid container name: 3 to 63 lowercase letters, digits and single hyphens.",
			o->container ? o->container : "");
	if (!!(o->account_key && *o->account_key) == !!(o->sas && *o->sas))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"Give either the storage account key or an access token (SAS), not %s.",
			o->account_key && *o->account_key ? "both" : "neither");
	if ((error = ob_az_http_init()) < 0)
		return error;
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
	ab->parent.stat_created = az_stat_created;
	ab->parent.list = az_list;
	ab->parent.remove = az_remove;
	ab->parent.capabilities = az_capabilities;
	ab->parent.free = ob_az_free;
	*out = ab;
	return 0;
fail:
	ob_az_free(&ab->parent);
	return error;
}

az_backend *ob_az_backend(ob_backend *be)
{
	az_backend *ab = (az_backend *)be;

	return ab && ab->parent.put == az_put && ab->magic == AZ_MAGIC ? ab : NULL;
}

int ob_backend_azure_new(ob_backend **out, const ob_azure_options *opts)
{
	az_backend *ab = NULL;
	int error;

	if (!out)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No place for the back end (out is NULL).");
	*out = NULL;
	if ((error = ob_az_open(&ab, opts)) < 0)
		return error;
	*out = &ab->parent;
	return 0;
}

