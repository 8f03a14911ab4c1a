/*
 * Internal: the catalog's record of this server's registration to a vault and
 * of its encryption state (tables registration and encryption; migrations 1, 2).
 */
#ifndef OB_NATIVE_CATALOG_REGISTRATION_H
#define OB_NATIVE_CATALOG_REGISTRATION_H

#include "catalog/catalog.h"

#include <stdint.h>

/* The registration row. Strings are malloc'd when read (ob_catalog_registration_dispose). */
typedef struct ob_catalog_registration {
	char *vault_id, *vault_name, *vault_location;
	char *storage_type;      /* "AzureBlob" or "Local" */
	char *server_id, *server_name;
	int64_t credentials_sequence;
	int64_t registered_at;   /* seconds since 1970-01-01 UTC */
} ob_catalog_registration;

/**
 * Read the registration (every field but credentials_sequence). OB_ENOTFOUND,
 * with no message, when the server is not registered; the caller says so.
 */
int ob_catalog_registration_get(ob_catalog_registration *out, ob_catalog *cat);
/** Save the registration, replacing any. The caller keeps its strings. */
int ob_catalog_registration_save(ob_catalog *cat, const ob_catalog_registration *reg);
void ob_catalog_registration_dispose(ob_catalog_registration *reg);

/** *out_set: 1 when the encryption of (vault_id, server_id) is set. */
int ob_catalog_encryption_is_set(int *out_set, ob_catalog *cat, const char *vault_id, const char *server_id);
/** Record that the encryption of (vault_id, server_id) is set, with key sequence seq, at now. */
int ob_catalog_encryption_record(ob_catalog *cat, const char *vault_id, const char *server_id, int64_t seq, int64_t now);

#endif
