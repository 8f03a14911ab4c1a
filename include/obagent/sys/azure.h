/*
 * obagent: the Azure Blob Storage back end (REST over libcurl), for back-end
 * users: the vault owner's tools and the agent's registration.
 *
 * One vault is one blob container. Object names map one to one to blob names.
 * Two kinds of credentials open it:
 *  - the storage account key (the vault OWNER's credential): SharedKey signing;
 *    everything is allowed, including delete, leases and container creation;
 *  - a container SAS token (the AGENTS' credential), minted by the owner with
 *    ob_azure_sas_create, normally with permissions "rcl": create, read, list,
 *    but neither overwrite nor delete. The service itself enforces it.
 *
 * Puts are create-only (If-None-Match: *). Objects over 4 MiB go up as parallel
 * blocks (Put Block + Put Block List) when the credentials may write blocks (the
 * key, or a SAS with 'w'); with an "rcl" SAS they go up in one Put Blob, since
 * Put Block needs 'w' (the service accepts up to 5000 MiB in one Put Blob).
 *
 * Transient failures (HTTP 408, 429, 500, 502, 503, 504, timeouts, refused or
 * dropped connections) are retried inside the back end with exponential backoff
 * and jitter, honouring Retry-After, within max_attempts and max_retry_seconds.
 * TLS certificate verification is always on.
 *
 * Thread-safety: a back end may be used from several threads at once.
 * See docs/AZURE.md for the decisions behind this.
 */
#ifndef OBAGENT_SYS_AZURE_H
#define OBAGENT_SYS_AZURE_H

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_AZURE_OPTIONS_VERSION 1

/** How to reach and open one vault container. Strings are borrowed for the call only. */
typedef struct ob_azure_options {
	unsigned int version;        /**< OB_AZURE_OPTIONS_VERSION */
	/**
	 * The blob service endpoint without the container: "http://127.0.0.1:10000/devstoreaccount1"
	 * (Azurite, path style) or "https://<account>.blob.core.windows.net". NULL: the latter.
	 */
	const char *endpoint;
	const char *account;         /**< storage account name (required) */
	const char *container;       /**< container name: 3-63 of [a-z0-9-] (required) */
	/** The account key (base64): SharedKey signing. Exactly one of account_key and sas. */
	const char *account_key;
	/** A SAS token ("sv=...&sig=...", a leading '?' is fine). */
	const char *sas;
	const char *ca_file;         /**< CA bundle (PEM) to verify the server with; NULL: the system's */
	const char *proxy_host;      /**< HTTP proxy host, NULL: none (libcurl's proxy variables are ignored) */
	unsigned int proxy_port;     /**< 0: 8080 */
	const char *proxy_user;      /**< NULL: no proxy authentication */
	const char *proxy_password;  /**< bytes of proxy_password_len; copied, wiped on free */
	size_t proxy_password_len;
	uint64_t max_bytes_per_second;  /**< bandwidth cap for the whole back end, each way; 0: none */
	unsigned int connections;    /**< parallel block uploads per large put; 0: 4 */
	unsigned int max_attempts;   /**< tries per request; 0: 6 */
	unsigned int max_retry_seconds;  /**< give up retrying after this long; 0: 120 */
	unsigned int retry_base_ms;  /**< first backoff delay; 0: 250 (doubles, with jitter, up to 30 s) */
} ob_azure_options;

#define OB_AZURE_OPTIONS_INIT { OB_AZURE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, \
	NULL, 0, NULL, NULL, 0, 0, 0, 0, 0, 0 }

/**
 * Open a vault container as a back end. Sends nothing: the first request tells
 * whether the credentials work. Capabilities: RANGE_GET always; DELETE with the
 * account key or a SAS with 'd'. *out: out->free(out).
 * OB_EINVALID for incomplete or contradictory options (the message says which).
 */
OB_EXTERN(int) ob_backend_azure_new(ob_backend **out, const ob_azure_options *opts);

/** Create the container of opts (account key only). An existing container is fine (0). */
OB_EXTERN(int) ob_azure_container_create(const ob_azure_options *opts);

/** Delete the container of opts and everything in it (account key only; for tests and teardown). */
OB_EXTERN(int) ob_azure_container_delete(const ob_azure_options *opts);

/**
 * Mint a container service SAS (signed version 2021-12-02, sr=c) from the account
 * key: *out receives the token "sv=...&st=...&se=...&sr=c&sp=...&sig=..."
 * (ob_str_free). permissions: letters of "racwdxyltmeopi", any order (they are
 * written in the service's order); agents get "rcl". start 0 leaves st out
 * (valid at once); start and expiry are seconds since 1970 UTC.
 */
OB_EXTERN(int) ob_azure_sas_create(char **out, const char *account, const char *account_key,
	const char *container, const char *permissions, int64_t start, int64_t expiry);

/**
 * Blob leases, for the vault's maintenance lock. The back end must be an Azure
 * back end opened with the account key (or a SAS with 'w').
 *
 * acquire: take a lease of duration_seconds (15..60, or -1 for infinite) on the
 * blob name, creating it empty first if it is missing. *out_lease_id receives the
 * lease id (ob_str_free). OB_ELOCKED if someone else holds a lease on it.
 * renew: extend it (OB_ELOCKED if it was lost: it expired and someone else took it).
 * release: give it up (OB_ELOCKED if it is no longer ours).
 * While leased, the blob can't be deleted without the id: remove gives OB_ELOCKED.
 */
OB_EXTERN(int) ob_azure_lease_acquire(char **out_lease_id, ob_backend *be, const char *name, int duration_seconds);
OB_EXTERN(int) ob_azure_lease_renew(ob_backend *be, const char *name, const char *lease_id);
OB_EXTERN(int) ob_azure_lease_release(ob_backend *be, const char *name, const char *lease_id);

#ifdef __cplusplus
}
#endif
#endif
