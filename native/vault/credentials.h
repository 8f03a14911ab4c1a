/*
 * Internal: vault credentials files (docs/FORMAT.md, "Vault credentials file").
 * An XML file of simple elements, signed by the vault owner's Ed25519 key.
 */
#ifndef OB_NATIVE_CREDENTIALS_H
#define OB_NATIVE_CREDENTIALS_H

#include <stdint.h>

#include "vault/crypto.h"
#include "util/util.h"

#define OB_CREDENTIALS_VERSION 1
#define OB_CREDENTIALS_EXTENSION ".VaultCredentials"
#define OB_CREDENTIALS_MAX_BYTES 65536

typedef struct ob_credentials {
	int version;
	char *resource_type;     /* "Local" or "AzureBlob" */
	char *vault_name;
	char *vault_id;
	char *storage_location;
	char *endpoint;          /* AzureBlob only: the blob endpoint, account, container and access token (SAS) */
	char *account;
	char *container;
	char *access_token;
	int64_t sequence;
	int64_t issued_at;
	int64_t expires_at;
	uint8_t signature[OB_SIGN_BYTES];
} ob_credentials;

/** Parse a credentials file; OB_EINVALID (with what is wrong) on anything malformed. */
int ob_credentials_parse(ob_credentials *out, const char *xml, size_t len);
/** The bytes that the signature covers. */
int ob_credentials_canonical(ob_buf *out, const ob_credentials *c);
/** The XML text of a credentials file. */
int ob_credentials_to_xml(ob_buf *out, const ob_credentials *c);
void ob_credentials_dispose(ob_credentials *c);

#endif
