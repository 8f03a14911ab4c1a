/*
 * Internal: one server's area of a vault, opened with its master key
 * (docs/FORMAT.md, "Data"). Blobs (chunks of file data and directory trees)
 * are sealed one by one and gathered into packs; index objects say which pack
 * holds which blob; snapshot objects are the recovery points.
 */
#ifndef OB_NATIVE_REPO_H
#define OB_NATIVE_REPO_H

#include "vault/chunker.h"
#include "vault/vault_internal.h"

#define OB_ID_BYTES 32
#define OB_BLOB_DATA 0
#define OB_BLOB_TREE 1
#define OB_PACK_TARGET (16u << 20)
#define OB_BLOB_OVERHEAD (OB_AEAD_NONCE_BYTES + 1 + OB_AEAD_TAG_BYTES)

typedef struct ob_repo {
	ob_vault_conn vc;
	char server_id[33];
	char *server_name;
	char prefix[48];                 /* "servers/<server id>/" */
	uint8_t enc_key[OB_AEAD_KEY_BYTES];
	uint8_t id_key[32];
	/*
	 * The server's signing key (Ed25519, its seed derived from the master key:
	 * "obagent signing key"): signs what only this server may write about its
	 * own area (docs/SECURITY.md). Anyone who opens the area with the master
	 * key derives the same public half and checks with it.
	 */
	uint8_t sign_private[OB_SIGN_PRIVATE_BYTES];
	uint8_t sign_public[OB_SIGN_PUBLIC_BYTES];
	/* The keys/<seq> record the master key came from, when the opener knows it (this agent's own area), else 0. */
	int64_t key_sequence;
	ob_chunker chunker;
	/* The vault objects readers skipped (forged or damaged; ob_repo_skip), made on the first. */
	struct ob_repo_skips *skipped;
} ob_repo;

/**
 * Open a server's area with its master key (the agent opens its own, and
 * others' for restore, with agent/repo_open.h).
 */
int ob_repo_open_key(ob_repo *r, const char *location, const char *server_id, const char *server_name,
	const uint8_t master[OB_MASTER_KEY_BYTES]);
void ob_repo_dispose(ob_repo *r);

/** A server's signing key pair, derived from its master key (what ob_repo_open_key puts in sign_*). */
int ob_server_sign_key(uint8_t priv[OB_SIGN_PRIVATE_BYTES], uint8_t pub[OB_SIGN_PUBLIC_BYTES],
	const uint8_t master[OB_MASTER_KEY_BYTES]);

/** The id of a blob: HMAC-SHA-256 of its plaintext under the server's id key. */
void ob_repo_blob_id(uint8_t id[OB_ID_BYTES], const ob_repo *r, const void *data, size_t len);

/**
 * A per-thread compressor: zlib streams (RFC 1950) at level 1, made by libdeflate,
 * which compresses whole buffers (our chunks) faster than zlib and a little
 * smaller; any zlib reader can read them. Zero-initialise; ob_compressor_dispose.
 */
typedef struct ob_compressor {
	struct libdeflate_compressor *z;
	uint8_t *scratch;
	size_t scratch_cap;
} ob_compressor;

void ob_compressor_dispose(ob_compressor *c);

/**
 * Seal a blob: out must hold len + OB_BLOB_OVERHEAD bytes; *out_len receives the
 * sealed size. Compresses first (when c is non-NULL and it pays).
 */
int ob_blob_seal(uint8_t *out, size_t *out_len, const ob_repo *r, ob_compressor *c, int type,
	const uint8_t id[OB_ID_BYTES], const uint8_t *data, size_t len);
/**
 * Open a sealed blob and check it is the blob named id (OB_ECORRUPT otherwise).
 * *out (malloc'd) receives raw_len bytes.
 */
int ob_blob_open(uint8_t **out, size_t *out_len, const ob_repo *r, int type, const uint8_t id[OB_ID_BYTES],
	const uint8_t *sealed, size_t sealed_len, size_t raw_len);

/** Seal/open a standalone object (index, snapshot): nonce | ciphertext | tag, bound to aad. */
int ob_object_seal(ob_buf *out, const ob_repo *r, const char *aad, const void *data, size_t len);
int ob_object_open(uint8_t **out, size_t *out_len, const ob_repo *r, const char *aad, const uint8_t *sealed, size_t len);

/* ---- packs ---- */

typedef struct ob_pack_entry {
	uint8_t type;
	uint8_t id[OB_ID_BYTES];
	uint32_t offset;
	uint32_t length;
	uint32_t raw_length;
} ob_pack_entry;

typedef struct ob_packer {
	ob_buf data;
	ob_pack_entry *entries;
	size_t count, cap;
	uint64_t raw_bytes;
} ob_packer;

/** Append a sealed blob to a pack being built. */
int ob_packer_add(ob_packer *p, int type, const uint8_t id[OB_ID_BYTES], const uint8_t *sealed, size_t sealed_len,
	size_t raw_len);
/** Close a pack: append its sealed header; pack_id = SHA-256 of the whole pack. */
int ob_packer_finish(ob_packer *p, const ob_repo *r, uint8_t pack_id[OB_ID_BYTES]);
void ob_packer_dispose(ob_packer *p);

/** The object name of a pack. */
void ob_repo_pack_name(char *out, size_t size, const ob_repo *r, const uint8_t pack_id[OB_ID_BYTES]);

/** Read the header of a stored pack (to rebuild an index from packs alone). */
int ob_pack_read_header(ob_pack_entry **out, size_t *out_count, const ob_repo *r, const uint8_t pack_id[OB_ID_BYTES]);

/* ---- index objects ---- */

typedef struct ob_index_entry {
	ob_pack_entry blob;
	uint8_t pack[OB_ID_BYTES];
} ob_index_entry;

/** Write one index object naming these blobs (create-only, content-addressed). */
int ob_index_write(const ob_repo *r, const ob_index_entry *entries, size_t count, uint64_t *out_bytes);
/** Write index objects naming these blobs, OB_INDEX_BATCH entries to an object (none when count is 0). */
#define OB_INDEX_BATCH 65536   /* a little over 5 MiB an object */
int ob_index_write_all(const ob_repo *r, const ob_index_entry *entries, size_t count);
/** Decode an index object's plaintext (after it was opened); for fuzzing and tools. */
int ob_index_decode(ob_index_entry **out, size_t *out_count, const uint8_t *plain, size_t len);
/** Decode a pack header's plaintext. */
int ob_pack_header_decode(ob_pack_entry **out, size_t *out_count, const uint8_t *plain, size_t len);
/** Read one index object by name. */
int ob_index_read(ob_index_entry **out, size_t *out_count, const ob_repo *r, const char *name);

/* ---- objects readers skip ---- */

/**
 * A reader skipped a vault object of this area that does not open (forged,
 * damaged, not named by its hash: docs/SECURITY.md): it goes on without it and
 * notes it here, so that whoever shows the result (a job, a test, maintenance)
 * warns. Each name is noted once per open repo. Any thread; never fails (a note
 * that finds no memory is lost, the skip is not).
 */
void ob_repo_skip(const ob_repo *r, const char *name, const char *why);
/** Receives a skipped object: its name and why (as on_failed callbacks do). */
typedef int (*ob_repo_skip_cb)(const char *name, const char *why, void *payload);
/**
 * Hand the objects noted since the last call to cb, oldest first, and forget
 * them (a name noted before is not noted again); the number handed in *out_count
 * (may be NULL). Returns what cb returned when it was not 0, else 0.
 */
int ob_repo_skipped_take(const ob_repo *r, ob_repo_skip_cb cb, void *payload, size_t *out_count);
/**
 * An ob_repo_skip_cb that writes "obagent: warning: <name>: <why>" to stderr (a
 * job worker's log). Backup and restore jobs hand skipped objects here, not to
 * their failed items: what another server wrote into this area must not turn
 * this server's jobs into warnings (docs/SECURITY.md); the owner's maintenance
 * report and Test-OBRecoveryPoint name them.
 */
int ob_repo_skip_to_stderr(const char *name, const char *why, void *payload);

/* ---- records only the vault owner writes in an area (generation, prune marks) ---- */

/**
 * Start a record of kind, version 2, bound to this area: "server" (id) and
 * "vault" (id) fields follow the first line. The caller adds its fields, then
 * signs with ob_record_sign and the owner's key (docs/FORMAT.md, "Generation").
 */
int ob_area_record_begin(ob_buf *rec, const ob_repo *r, const char *kind);
/**
 * Check an owner-signed area record: it verifies with owner_public, is kind
 * version 2, and names this server and vault. On 0, kv holds it (ob_kv_dispose);
 * else OB_EAUTH (the signature fails) or OB_ECORRUPT (anything else: an older
 * unsigned version, a forgery, another area's record), with a message. Pure
 * (no I/O): the fuzz target calls it.
 */
int ob_area_record_parse(ob_kv *kv, const char *text, size_t len, const char *kind,
	const uint8_t owner_public[OB_SIGN_PUBLIC_BYTES], const char *server_id, const char *vault_id);
/** Read object name and check it with ob_area_record_parse (this area, r->vc.owner_public). */
int ob_area_record_read(ob_kv *kv, const ob_repo *r, const char *name, const char *kind);

/* ---- the vault generation ---- */

/**
 * The generation of this server's area (docs/FORMAT.md, "Generation"): the
 * highest N of the genuine objects generation/<N %010d> (owner-signed records
 * of this area whose "generation" is N), 0 when there is none. Objects that are
 * not genuine (forged, or unsigned ones of older versions) are ignored. Every
 * maintenance run takes a new one before it deletes anything, so a chunk cache
 * checked against the index at generation N names nothing deleted while the
 * generation is still N. Needs only r->vc.owner_public.
 */
int ob_repo_generation(uint64_t *out, int *ended, const ob_repo *r);
/**
 * Take the next generation, signed with the owner's private key: the first
 * free N above the highest genuine one (create-only; the number taken in
 * *out). Then, when the back end can delete, remove every older generation
 * object and every object under generation/ that is not genuine.
 */
int ob_repo_generation_bump(uint64_t *out, const ob_repo *r, const uint8_t owner_private[OB_SIGN_PRIVATE_BYTES],
	int64_t now);
/**
 * Say that the run that took this generation deletes nothing more
 * (generation/<N>.end, owner-signed); ob_repo_generation's *ended (may be NULL)
 * is 1 once the newest generation has a genuine one, or when there is none.
 */
int ob_repo_generation_end(const ob_repo *r, const uint8_t owner_private[OB_SIGN_PRIVATE_BYTES], uint64_t generation,
	int64_t now);

/** Hex helpers for ids. */
void ob_id_hex(char out[65], const uint8_t id[OB_ID_BYTES]);
int ob_id_parse(uint8_t id[OB_ID_BYTES], const char *hex);

#endif
