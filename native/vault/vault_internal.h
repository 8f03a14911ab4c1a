/*
 * Internal: a connection to a vault, shared by the owner's side (vault.c) and
 * the agent's (agent.c). docs/FORMAT.md names every object used here.
 */
#ifndef OB_NATIVE_VAULT_INTERNAL_H
#define OB_NATIVE_VAULT_INTERNAL_H

#include "obagent/sys/backend.h"
#include "vault/crypto.h"
#include "util/util.h"

#define OB_VAULT_FORMAT 1

#define OB_OBJ_CONFIG "config"
#define OB_OBJ_OWNER_KEY "owner/signing-key"
#define OB_PREFIX_CREDENTIALS "credentials/"
#define OB_PREFIX_PINS "pins/"
#define OB_PIN_USED_SUFFIX ".used"
#define OB_PREFIX_SERVERS "servers/"

typedef struct ob_vault_conn {
	ob_backend *be;
	char *location;
	char *display;          /* where, for people: the folder, or the container's URL */
	int azure;              /* the kind, for its name (storage type) and the Azure-only steps (SAS, access); the data path asks be->capabilities */
	char *id;
	char *name;
	int64_t created;
	int format;
	uint8_t owner_public[OB_SIGN_PUBLIC_BYTES];
} ob_vault_conn;

/**
 * Open the vault at a location: a local folder, or "azure:<endpoint>|<account>|<container>"
 * whose access (the owner's "key:<base64>" or an agent's "sas:<token>") was
 * registered with ob_vault_access_set. Reads and verifies the config.
 */
int ob_vault_conn_open(ob_vault_conn *c, const char *location);

/** Remember, for this process, the access to a location (NULL forgets it). */
int ob_vault_access_set(const char *location, const char *access);
/** The access known for a location (malloc'd; wipe and free), or NULL. */
char *ob_vault_access_get(const char *location);
/**
 * Remember, for this process, the HTTP proxy through which to reach a location
 * (host NULL: none; libcurl's proxy variables are never used). The password is
 * copied and wiped when replaced.
 */
int ob_vault_proxy_set(const char *location, const char *host, unsigned int port, const char *user,
	const uint8_t *password, size_t password_len);
/** The location string of an Azure vault. */
int ob_vault_azure_location(char **out, const char *endpoint, const char *account, const char *container);
/** Whether a location is on Azure. */
int ob_vault_location_is_azure(const char *location);
void ob_vault_conn_dispose(ob_vault_conn *c);

/** Read an object into a buffer (OB_ENOTFOUND when absent). */
int ob_vault_read(char **out, size_t *out_len, ob_vault_conn *c, const char *name);

/**
 * The highest sequence number among objects "<prefix><%010lld>" (0 if none).
 * Names under prefix that are not sequence numbers are ignored.
 */
int ob_vault_latest_seq(int64_t *out, ob_vault_conn *c, const char *prefix);

/**
 * The vault owner's private signing key, read through this connection: from the
 * vault folder (a local vault), or unsealed with the storage account key the
 * connection's access holds (Azure; an agent's token cannot: OB_EACCESS).
 * Checked against the config's owner_public_key. Wipe it after use.
 */
int ob_vault_conn_owner_key(uint8_t owner_private[OB_SIGN_PRIVATE_BYTES], ob_vault_conn *c);

/** Read an owner-signed record, verify its signature and kind, parse it. */
int ob_vault_read_signed(ob_kv *kv, ob_vault_conn *c, const char *name, const char *kind);

/**
 * Check and spend a security PIN: 0 when an owner-signed record issued for it is current and
 * this call spent it, by creating "<record>.used" (record pin-use 1: server, at) create-only;
 * OB_EAUTH when that use exists already (a PIN works once, as MARS's), or the PIN matches no
 * record; OB_EEXPIRED when it matches only expired ones. Call it before the action it guards:
 * of two uses at once, only the one that returned 0 may act.
 */
int ob_vault_pin_check(ob_vault_conn *c, const char *pin, const char *server_name, int64_t now);

/** A list of object names (from ob_vault_list_names). */
typedef struct ob_name_list {
	char **v;
	size_t n, cap;
} ob_name_list;

/** The names of the objects under prefix, each with its first strip bytes removed. */
int ob_vault_list_names(ob_name_list *out, ob_backend *be, const char *prefix, size_t strip);
void ob_name_list_dispose(ob_name_list *l);

/** The id of a server in a vault: hex of SHA-256 of its lower-cased name, 32 characters. */
void ob_vault_server_id(char out[33], const char *server_name);

#endif
