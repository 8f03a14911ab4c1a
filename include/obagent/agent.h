/*
 * obagent: the agent of one server: its state folder, its registration to a
 * vault, its encryption passphrase and its machine settings.
 *
 * The state folder (MARS calls it the cache folder) is OBAGENT_HOME when that is
 * set, else /var/lib/obagent for root and $XDG_STATE_HOME/obagent (default
 * ~/.local/state/obagent) for other users. It holds the catalog (SQLite) and the
 * agent's secrets, owner-only. The server name is OBAGENT_SERVER_NAME when set,
 * else the host name.
 */
#ifndef OBAGENT_AGENT_H
#define OBAGENT_AGENT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The agent of this server. Not thread-safe: one thread at a time per handle. */
typedef struct ob_agent ob_agent;

/** Shortest passphrase, in characters (ASCII only, as MARS). */
#define OB_PASSPHRASE_MIN_LENGTH 16

/**
 * Open the agent's state folder, creating it (mode 0700) and bringing its catalog
 * to the current schema. home: a folder, or NULL for the default described above.
 * *out belongs to the caller: ob_agent_free.
 */
OB_EXTERN(int) ob_agent_open(ob_agent **out, const char *home);

/** Close the agent. NULL is fine. */
OB_EXTERN(void) ob_agent_free(ob_agent *agent);

/** The agent's state folder. Borrowed from the handle. */
OB_EXTERN(const char *) ob_agent_home(const ob_agent *agent);
/** This server's name. Borrowed from the handle. */
OB_EXTERN(const char *) ob_agent_server_name(const ob_agent *agent);

/** Where this server is registered. */
typedef struct ob_registration {
	unsigned int version;
	char *vault_name;
	char *vault_id;
	char *vault_location;
	char *storage_type;
	char *server_name;
	char *server_id;
	int64_t registered_at;   /**< seconds since 1970-01-01 UTC */
} ob_registration;

#define OB_REGISTRATION_VERSION 1

/**
 * Register this server with a vault credentials file. path must be absolute and
 * end in ".VaultCredentials". Refusals: OB_EINVALID (relative path, other
 * extension, malformed file), OB_EAUTH (tampered file, signature not the
 * vault's), OB_EEXPIRED, OB_ESUPERSEDED (a newer file was issued), OB_EFOREIGN
 * (this server is registered to another vault), OB_ENOTFOUND (no vault where
 * the file points). Registering again to the same vault is allowed: it is how
 * a server whose state folder was lost comes back. *out (may be NULL) receives
 * the registration: ob_registration_free.
 */
OB_EXTERN(int) ob_agent_register(ob_registration **out, ob_agent *agent, const char *credentials_path);

/**
 * The vault a credentials file names, read without registering and without
 * reaching the vault: *out_vault_id and *out_vault_name (ob_str_free; either
 * may be NULL). The file's signature and validity are not checked (an expired
 * file still names its vault): this is for comparing with ob_agent_registration,
 * e.g. "is this server registered to the vault of this file". path: absolute,
 * ending in ".VaultCredentials". OB_EINVALID (relative path, other extension,
 * malformed file), OB_ENOTFOUND (no such file).
 */
OB_EXTERN(int) ob_credentials_vault(char **out_vault_id, char **out_vault_name, const char *credentials_path);

/** The current registration, or OB_ENOTREG. *out: ob_registration_free. */
OB_EXTERN(int) ob_agent_registration(ob_registration **out, ob_agent *agent);

/** Free a registration. NULL is fine. */
OB_EXTERN(void) ob_registration_free(ob_registration *reg);

/**
 * Set this server's encryption passphrase: ASCII, at least
 * OB_PASSPHRASE_MIN_LENGTH characters. The first one creates the server's master
 * key in the vault, wrapped by a key derived from the passphrase. When the vault
 * already holds a key for this server (a server registered again after losing
 * its state folder), the passphrase must open it (else OB_EPASSPHRASE). Changing
 * the passphrase re-wraps the key and needs a valid security PIN from the vault's
 * owner (OB_EAUTH when missing or wrong, OB_EEXPIRED when expired). The
 * passphrase is never stored; the library wipes its own copies.
 */
OB_EXTERN(int) ob_agent_set_passphrase(ob_agent *agent, const uint8_t *passphrase,
	size_t passphrase_len, const char *security_pin);

/**
 * Whether passphrase is this server's current encryption passphrase: it opens
 * the newest genuine key record of this server in the vault (an older
 * passphrase, changed since, does not). 0 when it does, OB_EPASSPHRASE when it
 * does not, OB_ENOKEY when no passphrase is set on this server (or the vault
 * holds no key record for it), OB_EINVALID for a passphrase that could never
 * have been set (too short, not printable ASCII), OB_ENOTREG. Nothing changes;
 * the passphrase is never stored and the library wipes its own copies. It costs
 * one key derivation (scrypt), as opening the key does.
 */
OB_EXTERN(int) ob_agent_check_passphrase(ob_agent *agent, const uint8_t *passphrase, size_t passphrase_len);

/** Proxy, throttling and encryption state of this machine. */
typedef struct ob_machine_settings {
	unsigned int version;
	int proxy_enabled;
	char *proxy_server;
	int32_t proxy_port;
	char *proxy_username;
	int proxy_has_password;
	int encryption_key_set;
	int throttle_enabled;
	uint32_t work_days;            /**< bit 0 Sunday ... bit 6 Saturday */
	int32_t start_work_minute;     /**< minutes after midnight, local time */
	int32_t end_work_minute;
	uint32_t work_hour_bandwidth;      /**< bytes per second */
	uint32_t non_work_hour_bandwidth;  /**< bytes per second */
} ob_machine_settings;

#define OB_MACHINE_SETTINGS_VERSION 1
/** Throttle limits, bytes per second (512 Kbps to 1023 Mbps, as MARS's console). */
#define OB_BANDWIDTH_MIN 65536u
#define OB_BANDWIDTH_MAX 134086656u

/** Read the machine settings. *out: ob_machine_settings_free. */
OB_EXTERN(int) ob_agent_settings(ob_machine_settings **out, ob_agent *agent);
/** Free machine settings. NULL is fine. */
OB_EXTERN(void) ob_machine_settings_free(ob_machine_settings *settings);

/**
 * Use a proxy. server: a host name or address (optionally with http://), port
 * 1 to 65535, username and password optional (NULL). The password is stored
 * owner-only in the state folder, never in the catalog in clear.
 */
OB_EXTERN(int) ob_agent_set_proxy(ob_agent *agent, const char *server, int32_t port,
	const char *username, const uint8_t *password, size_t password_len);
/** Use no proxy. */
OB_EXTERN(int) ob_agent_set_no_proxy(ob_agent *agent);

/**
 * Throttle transfers: work_days (bit 0 Sunday ... bit 6 Saturday, not empty),
 * work hours [start_minute, end_minute) local time with start < end, and the
 * bandwidth in and out of work hours (OB_BANDWIDTH_MIN to OB_BANDWIDTH_MAX).
 */
OB_EXTERN(int) ob_agent_set_throttle(ob_agent *agent, uint32_t work_days,
	int32_t start_minute, int32_t end_minute, uint32_t work_bandwidth, uint32_t non_work_bandwidth);
/** Do not throttle. */
OB_EXTERN(int) ob_agent_set_no_throttle(ob_agent *agent);

#ifdef __cplusplus
}
#endif
#endif
