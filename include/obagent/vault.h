/*
 * obagent: vaults, the vault owner's side.
 *
 * A vault holds the backups of one or more servers. Its owner creates it, issues
 * vault credentials files that let servers register, and issues short-lived
 * security PINs that authorise sensitive agent operations (changing the
 * passphrase, deleting backups). docs/FORMAT.md describes what a vault holds.
 */
#ifndef OBAGENT_VAULT_H
#define OBAGENT_VAULT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open vault, as its owner sees it. Not thread-safe: one thread at a time. */
typedef struct ob_vault ob_vault;

/** Longest validity of a credentials file, in days (as MARS). */
#define OB_CREDENTIALS_MAX_DAYS 10
/** Lifetime of a security PIN, in seconds (as MARS: 5 minutes). */
#define OB_SECURITY_PIN_SECONDS 300

/**
 * Create a vault in a local folder. The folder may not exist yet or must be
 * empty; an existing vault gives OB_EEXISTS, a non-empty folder OB_EINVALID.
 * name: 1 to 50 characters of letters, digits and '-', starting with a letter.
 * *out belongs to the caller: ob_vault_free.
 */
OB_EXTERN(int) ob_vault_create(ob_vault **out, const char *path, const char *name);

/** Where a vault on Azure Blob Storage (or Azurite, or a sovereign cloud) is, and the owner's key. */
typedef struct ob_vault_azure_options {
	unsigned int version;
	const char *endpoint;         /**< NULL: https://<account>.blob.core.windows.net */
	const char *account;          /**< storage account name */
	const char *account_key;      /**< storage account key (base64): the vault owner's credential */
	const char *container;        /**< container name: 3-63 of [a-z0-9-] */
	int access_days;              /**< validity of the access tokens in credentials files (1-3650; 0: 365) */
	const char *ca_file;          /**< CA bundle to verify TLS with (NULL: the system's) */
} ob_vault_azure_options;

#define OB_VAULT_AZURE_OPTIONS_VERSION 1
#define OB_VAULT_AZURE_OPTIONS_INIT { OB_VAULT_AZURE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, NULL }

/**
 * Create a vault in an Azure Blob Storage container (made if missing; a
 * container that holds a vault gives OB_EEXISTS, one that holds anything else
 * OB_EINVALID). The owner's signing key is stored sealed with a key derived
 * from the account key, so agents, who get only an access token, cannot use it.
 */
OB_EXTERN(int) ob_vault_create_azure(ob_vault **out, const char *name, const ob_vault_azure_options *opts);
/** Open a vault in an Azure Blob Storage container, as its owner. */
OB_EXTERN(int) ob_vault_open_azure(ob_vault **out, const ob_vault_azure_options *opts);

/** Open the vault in a local folder (OB_ENOTFOUND if there is none). */
OB_EXTERN(int) ob_vault_open(ob_vault **out, const char *path);

/** Close a vault. NULL is fine. */
OB_EXTERN(void) ob_vault_free(ob_vault *vault);

/** The vault's name, as given at creation. Borrowed from the handle. */
OB_EXTERN(const char *) ob_vault_name(const ob_vault *vault);
/** The vault's unique id (a UUID). Borrowed from the handle. */
OB_EXTERN(const char *) ob_vault_id(const ob_vault *vault);
/** Where the vault is: the absolute folder of a local vault. Borrowed. */
OB_EXTERN(const char *) ob_vault_location(const ob_vault *vault);
/** The kind of storage: "Local" or "AzureBlob". Borrowed, static. */
OB_EXTERN(const char *) ob_vault_storage_type(const ob_vault *vault);
/** When the vault was created, in seconds since 1970-01-01 UTC. */
OB_EXTERN(int64_t) ob_vault_created(const ob_vault *vault);
/** The vault's format version (docs/FORMAT.md). */
OB_EXTERN(int) ob_vault_format_version(const ob_vault *vault);

/** Count the servers registered to the vault. */
OB_EXTERN(int) ob_vault_server_count(size_t *out, ob_vault *vault);

/**
 * Issue a vault credentials file: <output_dir>/<VaultName>_<yyyy-MM-dd>.VaultCredentials,
 * valid for validity_days (1 to OB_CREDENTIALS_MAX_DAYS) from now. For a vault on
 * Azure the file carries a container access token (SAS) that can create, read
 * and list, but not delete or overwrite. Issuing a file
 * supersedes every file issued before it: only the newest registers servers.
 * An existing file of the same name is replaced. *out_path (caller's, ob_str_free)
 * receives the absolute path of the file.
 */
OB_EXTERN(int) ob_vault_credentials_issue(char **out_path, ob_vault *vault,
	const char *output_dir, int validity_days);

/**
 * Issue a security PIN: 8 digits, valid for OB_SECURITY_PIN_SECONDS. *out_pin is
 * the caller's (ob_str_free); *out_expires receives its expiry (seconds since 1970).
 */
OB_EXTERN(int) ob_vault_security_pin_new(char **out_pin, int64_t *out_expires, ob_vault *vault);

/**
 * Undelete a soft-deleted recovery point of a server (the vault owner's right:
 * it removes the deletion marker). OB_ENOTFOUND when the point is not deleted.
 */
OB_EXTERN(int) ob_vault_undelete(ob_vault *vault, const char *server_name, const char *point_id);

#ifdef __cplusplus
}
#endif
#endif
