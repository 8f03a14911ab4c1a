/*
 * Internal: what a server alone may write about its own area, and how every
 * reader tells it from a forgery (docs/SECURITY.md; docs/FORMAT.md, "Keys").
 *  - key records (keys/<seq>, server-key 2): the wrap of the master key, signed
 *    by the server's signing key; the one reader of them (ob_server_key_open);
 *  - the anchor: the signing public key a reader checks them with, from the
 *    first wrap (keys/0000000001) or, for areas older than signing keys, from
 *    the owner's `signer` record (ob_server_signer_certify writes it);
 *  - data source records (sources/<id>, source 2), signed the same way.
 * Any agent can create any name in the vault: a record that does not verify is
 * skipped with a warning, never an error.
 */
#ifndef OB_NATIVE_SERVERKEY_H
#define OB_NATIVE_SERVERKEY_H

#include "vault/repo.h"
#include "vault/vault_internal.h"

/** What a reader skipped: the object's name and why, in words for a person. */
typedef void (*ob_warn_fn)(const char *what, const char *why, void *payload);
/** An ob_warn_fn that writes "obagent: warning: <what>: <why>" to stderr. */
void ob_warn_stderr(const char *what, const char *why, void *payload);

/** A key record parsed, not opened (no scrypt): what a reader checks before it tries one. */
typedef struct ob_server_key_record {
	int version;                             /* 1 or 2 */
	ob_kdf_params kdf;
	/* version 2 only: */
	int64_t sequence;
	char vault_id[40];
	char server_id[40];
	uint8_t signing_key[OB_SIGN_PUBLIC_BYTES];
} ob_server_key_record;

/** Parse a key record (OB_ECORRUPT when malformed); nothing is verified or unwrapped. */
int ob_server_key_parse(ob_server_key_record *out, const char *text, size_t len);

/** The anchor of an area, and what the owner's `signer` says when it is the source. */
typedef struct ob_server_anchor {
	int found;                               /* 0: a legacy area, no anchor */
	int from_signer;                         /* 1: from servers/<id>/signer, not keys/0000000001 */
	uint8_t pub[OB_SIGN_PUBLIC_BYTES];
	int64_t key_sequence;                    /* signer: the version 1 wrap it vouches for (0: none) */
	uint8_t key_sha256[32];
} ob_server_anchor;

/**
 * The anchor of a server's area: signing_key of keys/0000000001 when it is a
 * well-formed version 2 record that verifies with it; else that of an
 * owner-signed servers/<id>/signer; else none (found 0). Forged objects at those
 * names are ignored (warn, may be NULL, says so); an I/O error is returned.
 */
int ob_server_anchor_find(ob_server_anchor *out, ob_vault_conn *vc, const char *server_id, ob_warn_fn warn,
	void *payload);
/** The anchor's public key alone: OB_ENOTFOUND (no error message) when the area has none. */
int ob_server_anchor_public(uint8_t pub[OB_SIGN_PUBLIC_BYTES], ob_vault_conn *vc, const char *server_id);

/** Parse a `signer` record's fields (OB_ECORRUPT when malformed); the signature is not checked. */
int ob_server_signer_parse(ob_server_anchor *out, char server_id[40], char vault_id[40], const char *text,
	size_t len);

/** What ob_server_key_open saw, for the caller's message. */
typedef struct ob_server_key_info {
	size_t records;                          /* keys/<seq> names in the area */
	size_t tried;                            /* of them, opened with the passphrase */
	int anchored;                            /* the area has an anchor */
} ob_server_key_info;

/**
 * Open a server's master key with its passphrase: the newest genuine key
 * record (above) that opens, scrypt run only on records that passed every
 * check that costs nothing. *out_seq (may be NULL) receives its sequence.
 * OB_ENOTFOUND (no error message) when the area has no key record at all;
 * OB_EPASSPHRASE when none opens (the caller words the message, with info).
 */
int ob_server_key_open(uint8_t master[OB_MASTER_KEY_BYTES], int64_t *out_seq, ob_server_key_info *info,
	ob_vault_conn *vc, const char *server_id, const uint8_t *passphrase, size_t passphrase_len, ob_warn_fn warn,
	void *payload);

/** *out: 1 when the area has at least one keys/<seq> name (genuine or not). */
int ob_server_key_exists(int *out, ob_vault_conn *vc, const char *server_id);

/**
 * The sequence a new wrap is written at: the first free name above the highest
 * genuine one, that is known (the sequence this agent's key came from, 0 when
 * none) or a version 2 record signed with this master key's signing key.
 * Forged names above it, up to 9999999999, take nothing away: one listing.
 */
int ob_server_key_next_seq(int64_t *out, ob_vault_conn *vc, const char *server_id,
	const uint8_t master[OB_MASTER_KEY_BYTES], int64_t known);

/**
 * Write a wrap of master under passphrase at keys/<seq> (server-key 2, signed
 * by the signing key derived from master), create-only: OB_EEXISTS when the name
 * is taken (the caller says what that means).
 */
int ob_server_key_write(ob_vault_conn *vc, const char *server_id, int64_t seq, const uint8_t master[OB_MASTER_KEY_BYTES],
	const uint8_t *passphrase, size_t passphrase_len, int64_t now);

/**
 * The owner's certificate of a server's signing key, for an area whose first
 * wrap predates signing keys: when the area's anchor is missing and no valid
 * servers/<id>/signer exists, write one (signer 1, signed with owner_priv, naming
 * r's signing key and, when r->key_sequence names a version 1 wrap, that wrap's
 * SHA-256), create-only; an object at that name that does not verify is removed
 * first when the back end can delete; then the data sources its points name get
 * signed records (ob_source_ensure; also on a later call, when the signer is
 * already there). Returns 0 when nothing was needed, 1 when it wrote the
 * signer; OB_EAUTH when the area's anchor is another key.
 */
int ob_server_signer_certify(ob_repo *r, const uint8_t owner_priv[OB_SIGN_PRIVATE_BYTES]);

/* ---- data source records ---- */

/** A data source record parsed (source 1 or 2); the signature is checked by the reader. */
typedef struct ob_source_record {
	int version;
	int64_t id;
	char *name;                              /* malloc'd */
	char *kind;                              /* malloc'd; "FileFolder" when the record has none */
} ob_source_record;

int ob_source_parse(ob_source_record *out, const char *text, size_t len);
void ob_source_record_dispose(ob_source_record *s);

/**
 * Make sure the area names this data source with a genuine record (source 2,
 * signed by r's signing key): sources/<id>, or, when another object holds that
 * name, sources/<id>-<16 hex random> (docs/FORMAT.md). A genuine record already
 * there (under either form) is kept, so a backup writes one once.
 */
int ob_source_ensure(const ob_repo *r, int64_t id, const char *name, const char *kind);

/**
 * The data sources of a server's area, without its key: records that verify
 * with the area's anchor, or, in an area without one (legacy), every well-formed
 * record; one per id. *out (malloc'd array): ob_source_records_free.
 */
int ob_source_list(ob_source_record **out, size_t *out_count, ob_vault_conn *vc, const char *server_id,
	ob_warn_fn warn, void *payload);
void ob_source_records_free(ob_source_record *v, size_t n);

#endif
