#define _GNU_SOURCE
/*
 * Sealed blobs, packs, index objects, trees, and the signed records of a
 * server's area (key records, the owner's signer, data sources): round trips,
 * and truncated, tampered and garbage input, which must fail cleanly (never
 * crash, never pass).
 */
#include "testutil.h"
#include "vault/repo.h"
#include "vault/crypto.h"
#include "vault/serverkey.h"
#include "vault/tree.h"
#include "vault/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static ob_repo repo;

static int setup(void **state)
{
	ob_vault *v = NULL;
	char *vpath;
	uint8_t master[OB_MASTER_KEY_BYTES];

	(void)state;
	dir = ob_test_tempdir("formats");
	vpath = ob_test_path(dir, "vault");
	if (ob_vault_create(&v, vpath, "Formats") < 0)
		return -1;
	memset(master, 0x42, sizeof(master));
	if (ob_repo_open_key(&repo, vpath, "0123456789abcdef0123456789abcdef", "server", master) < 0)
		return -1;
	ob_vault_free(v);
	free(vpath);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_repo_dispose(&repo);
	ob_test_rmtree(dir);
	free(dir);
	return 0;
}

static void test_blob_round_trip_and_tamper(void **state)
{
	ob_compressor c = { 0 };
	const char *text = "a line of text that repeats; a line of text that repeats; a line of text that repeats.";
	uint8_t id[32], sealed[512], *back;
	size_t sealed_len, back_len, i;

	(void)state;
	ob_repo_blob_id(id, &repo, text, strlen(text));
	assert_ok(ob_blob_seal(sealed, &sealed_len, &repo, &c, OB_BLOB_DATA, id, (const uint8_t *)text, strlen(text)));
	assert_true(sealed_len < strlen(text) + OB_BLOB_OVERHEAD);  /* it compressed */
	assert_ok(ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, strlen(text)));
	assert_memory_equal(back, text, strlen(text));
	free(back);
	for (i = 0; i < sealed_len; i++) {
		sealed[i] ^= 0x10;
		assert_ob(OB_ECORRUPT, ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, strlen(text)));
		sealed[i] ^= 0x10;
	}
	/* The right bytes under another id or type, or truncated: refused. */
	id[0] ^= 1;
	assert_ob(OB_ECORRUPT, ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, strlen(text)));
	id[0] ^= 1;
	assert_ob(OB_ECORRUPT, ob_blob_open(&back, &back_len, &repo, OB_BLOB_TREE, id, sealed, sealed_len, strlen(text)));
	assert_ob(OB_ECORRUPT, ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, 10, strlen(text)));
	ob_compressor_dispose(&c);
}

static void test_incompressible_blob_is_stored_raw(void **state)
{
	ob_compressor c = { 0 };
	size_t n = 300000, sealed_len, back_len;
	uint8_t *data = malloc(n), *sealed = malloc(n + OB_BLOB_OVERHEAD), id[32], *back;

	(void)state;
	assert_ok(ob_random(data, n));
	ob_repo_blob_id(id, &repo, data, n);
	assert_ok(ob_blob_seal(sealed, &sealed_len, &repo, &c, OB_BLOB_DATA, id, data, n));
	assert_int_equal(sealed_len, n + OB_BLOB_OVERHEAD);
	assert_ok(ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, n));
	assert_memory_equal(back, data, n);
	free(back);
	free(data);
	free(sealed);
	ob_compressor_dispose(&c);
}

/* Small chunks (one per small file): random ones are stored raw without deflating, the others compress. */
static void test_small_blobs_compress_unless_random(void **state)
{
	ob_compressor c = { 0 };
	size_t sizes[] = { 100, 600, 4096, 16384, 60000 }, k, i, sealed_len, back_len;
	uint8_t *data = malloc(60000), *sealed = malloc(60000 + OB_BLOB_OVERHEAD), id[32], *back;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		int kind;
		for (kind = 0; kind < 3; kind++) {
			if (kind == 0) {
				assert_ok(ob_random(data, n));                    /* random: raw */
			} else if (kind == 1) {
				for (i = 0; i < n; i++)                           /* log-like text */
					data[i] = (uint8_t)"2026-11-25T10:00:00Z INFO [api-3] GET /api/v1/orders 200 12ms\n"[i % 62];
			} else {
				assert_ok(ob_random(data, n));                    /* binary with few distinct bytes */
				for (i = 0; i < n; i++)
					data[i] &= 0x0f;
			}
			ob_repo_blob_id(id, &repo, data, n);
			assert_ok(ob_blob_seal(sealed, &sealed_len, &repo, &c, OB_BLOB_DATA, id, data, n));
			if (kind == 0)
				assert_int_equal(sealed_len, n + OB_BLOB_OVERHEAD);
			else if (n >= 512)                                    /* below that, deflate's tables cost too much */
				assert_true(sealed_len < n * 3 / 4 + OB_BLOB_OVERHEAD);
			assert_ok(ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, n));
			assert_memory_equal(back, data, n);
			free(back);
		}
	}
	free(data);
	free(sealed);
	ob_compressor_dispose(&c);
}

/* Blobs that break the size rule of their flag are refused, even when sealed with the right key. */
static void test_blob_flag_and_size_must_agree(void **state)
{
	uint8_t data[200], id[32], aad[33], sealed[300], flag;
	size_t sealed_len = OB_AEAD_NONCE_BYTES + 1 + sizeof(data) + OB_AEAD_TAG_BYTES;
	uint8_t *back;
	size_t back_len;
	int f;

	(void)state;
	memset(data, 'x', sizeof(data));
	ob_repo_blob_id(id, &repo, data, sizeof(data));
	aad[0] = OB_BLOB_DATA;
	memcpy(aad + 1, id, 32);
	for (f = 0; f < 3; f++) {
		flag = (uint8_t)(f == 0 ? 0 : f == 1 ? 1 : 7);   /* raw (fine), zlib as long as the data, unknown */
		assert_ok(ob_random(sealed, OB_AEAD_NONCE_BYTES));
		assert_ok(ob_aead_seal2(sealed + OB_AEAD_NONCE_BYTES, repo.enc_key, sealed, aad, sizeof(aad), &flag, 1,
			data, sizeof(data)));
		if (f == 0) {
			assert_ok(ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, sizeof(data)));
			assert_memory_equal(back, data, sizeof(data));
			free(back);
		} else {
			assert_ob(OB_ECORRUPT, ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, sizeof(data)));
		}
		/* The index claiming a raw length shorter than the payload: refused too. */
		assert_ob(OB_ECORRUPT, ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, sizeof(data) - 1));
	}
}

/* A chunk compressed by zlib itself (as obagent wrote them before libdeflate) still opens. */
static void test_blob_written_by_zlib_opens(void **state)
{
	/* zlib.compress(line * 10, 1), line = the 62-byte log line below */
	static const uint8_t z[] = "\x78\x01\x33\x32\x30\x32\xd3\x35\x34\xd4\x35\x32\x0d\x31\x34\xb0\x32\x00\xa1\x28"
		"\x05\x4f\x3f\x37\x7f\x85\xe8\xc4\x82\x4c\x5d\xe3\x58\x05\x77\xd7\x10\x05\x7d\x20\x5b\xbf\xcc\x50"
		"\x3f\xbf\x28\x25\xb5\xa8\x58\xc1\xc8\xc0\x40\xc1\xd0\x28\xb7\x98\xcb\x68\x54\xf7\x68\xa8\x11\x9d"
		"\x5a\x00\xda\x4e\xa1\xa5";
	const char *line = "2026-11-25T10:00:00Z INFO [api-3] GET /api/v1/orders 200 12ms\n";
	uint8_t raw[620], id[32], aad[33], sealed[200], flag = 1, *back;
	size_t i, back_len, zlen = sizeof(z) - 1, sealed_len = OB_AEAD_NONCE_BYTES + 1 + zlen + OB_AEAD_TAG_BYTES;

	(void)state;
	for (i = 0; i < 10; i++)
		memcpy(raw + i * 62, line, 62);
	ob_repo_blob_id(id, &repo, raw, sizeof(raw));
	aad[0] = OB_BLOB_DATA;
	memcpy(aad + 1, id, 32);
	assert_ok(ob_random(sealed, OB_AEAD_NONCE_BYTES));
	assert_ok(ob_aead_seal2(sealed + OB_AEAD_NONCE_BYTES, repo.enc_key, sealed, aad, sizeof(aad), &flag, 1, z, zlen));
	assert_ok(ob_blob_open(&back, &back_len, &repo, OB_BLOB_DATA, id, sealed, sealed_len, sizeof(raw)));
	assert_int_equal(back_len, sizeof(raw));
	assert_memory_equal(back, raw, sizeof(raw));
	free(back);
}

static int remember_name(const char *nm, uint64_t size, void *payload)
{
	(void)size;
	snprintf(payload, 200, "%s", nm);
	return 0;
}

static void test_pack_and_index_round_trip(void **state)
{
	ob_packer p = { 0 };
	uint8_t pack_id[32], ids[3][32], sealed[256];
	size_t sealed_len, i, n;
	char name[200];
	ob_pack_entry *e;
	ob_index_entry ie[3], *back;

	(void)state;
	for (i = 0; i < 3; i++) {
		char text[32];
		snprintf(text, sizeof(text), "blob number %zu", i);
		ob_repo_blob_id(ids[i], &repo, text, strlen(text));
		assert_ok(ob_blob_seal(sealed, &sealed_len, &repo, NULL, OB_BLOB_DATA, ids[i], (const uint8_t *)text, strlen(text)));
		assert_ok(ob_packer_add(&p, OB_BLOB_DATA, ids[i], sealed, sealed_len, strlen(text)));
	}
	assert_ok(ob_packer_finish(&p, &repo, pack_id));
	ob_repo_pack_name(name, sizeof(name), &repo, pack_id);
	assert_ok(repo.vc.be->put(repo.vc.be, name, p.data.data, p.data.len));
	assert_ok(ob_pack_read_header(&e, &n, &repo, pack_id));
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_memory_equal(e[i].id, ids[i], 32);
		ie[i].blob = e[i];
		memcpy(ie[i].pack, pack_id, 32);
	}
	free(e);
	ob_packer_dispose(&p);

	assert_ok(ob_index_write(&repo, ie, 3, NULL));
	{
		char found[200] = "";
		char prefix[96];
		snprintf(prefix, sizeof(prefix), "%sindex/", repo.prefix);
		assert_ok(repo.vc.be->list(repo.vc.be, prefix, remember_name, found));
		assert_ok(ob_index_read(&back, &n, &repo, found));
		assert_int_equal(n, 3);
		assert_memory_equal(back[2].blob.id, ids[2], 32);
		assert_memory_equal(back[2].pack, pack_id, 32);
		free(back);
	}
}

static void test_damaged_pack_and_index_are_refused(void **state)
{
	uint8_t fake[32];
	char name[200], prefix[96];
	ob_pack_entry *e;
	ob_index_entry *ie;
	size_t n;
	char junk[300];

	(void)state;
	memset(fake, 0x11, sizeof(fake));
	memset(junk, 'j', sizeof(junk));
	ob_repo_pack_name(name, sizeof(name), &repo, fake);
	assert_ok(repo.vc.be->put(repo.vc.be, name, junk, sizeof(junk)));
	assert_true(ob_pack_read_header(&e, &n, &repo, fake) < 0);
	snprintf(prefix, sizeof(prefix), "%sindex/0000", repo.prefix);
	assert_ok(repo.vc.be->put(repo.vc.be, prefix, junk, sizeof(junk)));
	assert_ob(OB_ECORRUPT, ob_index_read(&ie, &n, &repo, prefix));
}

static int count_entries(const ob_entry *e, void *payload)
{
	(void)e;
	(*(int *)payload)++;
	return 0;
}

static void test_tree_round_trip_sorted(void **state)
{
	ob_tree_builder tb = { 0 };
	ob_buf tree = OB_BUF_INIT, enc = OB_BUF_INIT;
	const char *names[] = { "zeta", "alpha", "Mid", "b" };
	uint8_t chunk[32] = { 9 }, sub[32] = { 8 };
	size_t i;
	int count = 0;

	(void)state;
	for (i = 0; i < 4; i++) {
		ob_entry e;
		memset(&e, 0, sizeof(e));
		e.type = i == 2 ? OB_TREE_DIR : i == 3 ? OB_TREE_SYMLINK : OB_TREE_FILE;
		e.name = names[i];
		e.name_len = strlen(names[i]);
		e.mode = 0100644;
		e.user = "root";
		e.user_len = 4;
		e.chunks = chunk;
		e.chunk_count = 1;
		e.subtree = sub;
		e.target = "elsewhere";
		e.target_len = 9;
		enc.len = 0;
		assert_ok(ob_entry_encode(&enc, &e));
		assert_ok(ob_tree_builder_add(&tb, (uint8_t *)enc.data, enc.len));
	}
	assert_ok(ob_tree_builder_finish(&tree, &tb));
	assert_ok(ob_tree_parse((uint8_t *)tree.data, tree.len, count_entries, &count));
	assert_int_equal(count, 4);
	/* Sorted bytewise: "Mid" < "alpha" < "b" < "zeta". */
	assert_true(memmem(tree.data, tree.len, "Mid", 3) < memmem(tree.data, tree.len, "alpha", 5));
	assert_true(memmem(tree.data, tree.len, "b", 1) != NULL);
	ob_tree_builder_dispose(&tb);
	ob_buf_dispose(&tree);
	ob_buf_dispose(&enc);
}

static void test_tree_garbage_and_mutations(void **state)
{
	ob_tree_builder tb = { 0 };
	ob_buf tree = OB_BUF_INIT, enc = OB_BUF_INIT;
	ob_entry e;
	uint8_t chunks[64] = { 1 }, xa[] = { 4, 0, 'u', 's', 'e', 'r', 1, 0, 0, 0, 'v' };
	unsigned int seed = 99;
	size_t i, cut;
	int count;
	uint8_t *copy;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.type = OB_TREE_FILE;
	e.name = "file";
	e.name_len = 4;
	e.chunks = chunks;
	e.chunk_count = 2;
	e.xattrs = xa;
	e.xattrs_len = sizeof(xa);
	e.xattr_count = 1;
	assert_ok(ob_entry_encode(&enc, &e));
	assert_ok(ob_tree_builder_add(&tb, (uint8_t *)enc.data, enc.len));
	assert_ok(ob_tree_builder_finish(&tree, &tb));
	for (cut = 0; cut < tree.len; cut++)
		assert_ob(OB_ECORRUPT, ob_tree_parse((uint8_t *)tree.data, cut, count_entries, &count));
	copy = malloc(tree.len);
	for (i = 0; i < 50000; i++) {
		memcpy(copy, tree.data, tree.len);
		copy[rand_r(&seed) % tree.len] = (uint8_t)rand_r(&seed);
		count = 0;
		ob_tree_parse(copy, tree.len, count_entries, &count);
	}
	assert_ob(OB_ECORRUPT, ob_tree_parse((const uint8_t *)"OBTR", 4, count_entries, &count));
	free(copy);
	ob_tree_builder_dispose(&tb);
	ob_buf_dispose(&tree);
	ob_buf_dispose(&enc);
}

static void test_index_and_pack_headers_on_garbage(void **state)
{
	uint8_t plain[9 + 2 * 77], *copy;
	ob_index_entry *ie;
	ob_pack_entry *pe;
	size_t n, i, cut;
	unsigned int seed = 5;

	(void)state;
	memset(plain, 0, sizeof(plain));
	memcpy(plain, "OBIX", 4);
	plain[4] = 1;
	plain[5] = 2;
	for (i = 0; i < 2; i++) {
		uint8_t *rec = plain + 9 + i * 77;
		rec[0] = 0;
		memset(rec + 1, (int)i + 1, 32);
		rec[37] = 40;  /* length: at least a blob's overhead */
	}
	assert_ok(ob_index_decode(&ie, &n, plain, sizeof(plain)));
	assert_int_equal(n, 2);
	free(ie);
	for (cut = 0; cut < sizeof(plain); cut++)
		assert_ob(OB_ECORRUPT, ob_index_decode(&ie, &n, plain, cut));
	copy = malloc(sizeof(plain));
	for (i = 0; i < 50000; i++) {
		memcpy(copy, plain, sizeof(plain));
		copy[rand_r(&seed) % sizeof(plain)] = (uint8_t)rand_r(&seed);
		if (ob_index_decode(&ie, &n, copy, sizeof(plain)) == 0)
			free(ie);
		if (ob_pack_header_decode(&pe, &n, copy, sizeof(plain)) == 0)
			free(pe);
	}
	free(copy);
	memcpy(plain, "OBPK", 4);
	assert_ob(OB_ECORRUPT, ob_pack_header_decode(&pe, &n, plain, sizeof(plain)));  /* index-sized entries */
}

/* Cut and mutate a signed record: parse never crashes, and no changed copy verifies. */
static void mutate_signed(const char *text, size_t len, const uint8_t pub[OB_SIGN_PUBLIC_BYTES], int which)
{
	unsigned int seed = 17u + (unsigned int)which;
	size_t i, cut;
	char *copy = malloc(len);

	for (cut = 0; cut < len; cut++) {
		ob_server_key_record k;
		ob_server_anchor a;
		ob_source_record src;
		char sid[40], vid[40];
		if (which == 0 && ob_server_key_parse(&k, text, cut) == 0)
			assert_int_equal(k.version, 1);      /* a version 2 record cut short loses its signature */
		if (which == 1 && ob_server_signer_parse(&a, sid, vid, text, cut) == 0)
			fail_msg("a signer record cut at %zu parses", cut);
		if (which == 2 && ob_source_parse(&src, text, cut) == 0)
			ob_source_record_dispose(&src);
		assert_true(ob_record_verify(pub, text, cut) < 0);
	}
	for (i = 0; i < 20000; i++) {
		ob_server_key_record k;
		ob_server_anchor a;
		ob_source_record src;
		char sid[40], vid[40];
		memcpy(copy, text, len);
		copy[rand_r(&seed) % len] = (char)rand_r(&seed);
		if (which == 0)
			ob_server_key_parse(&k, copy, len);
		else if (which == 1)
			ob_server_signer_parse(&a, sid, vid, copy, len);
		else if (ob_source_parse(&src, copy, len) == 0)
			ob_source_record_dispose(&src);
		if (memcmp(copy, text, len) != 0 && ob_record_verify(pub, copy, len) >= 0) {
			size_t d;
			for (d = 0; copy[d] == text[d]; d++)
				;
			fail_msg("record %d verifies with byte %zu of %zu changed ('%c' to 0x%02x)", which, d, len, text[d],
				(unsigned char)copy[d]);
		}
	}
	ob_error_clear();
	free(copy);
}

static void test_signed_records_round_trip_and_mutations(void **state)
{
	uint8_t master[OB_MASTER_KEY_BYTES], owner[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	ob_server_key_record k;
	ob_server_anchor a;
	ob_source_record src;
	ob_buf signer = OB_BUF_INIT;
	char name[160], sid[40], vid[40], *text, *pub64;
	size_t len;

	(void)state;
	memset(master, 0x42, sizeof(master));
	assert_ok(ob_server_key_write(&repo.vc, repo.server_id, 1, master, (const uint8_t *)"formats passphrase!", 19, 5));
	snprintf(name, sizeof(name), "%skeys/0000000001", repo.prefix);
	assert_ok(ob_vault_read(&text, &len, &repo.vc, name));
	assert_ok(ob_server_key_parse(&k, text, len));
	assert_int_equal(k.version, 2);
	assert_int_equal(k.sequence, 1);
	assert_int_equal(k.kdf.log2_n, OB_KDF_PASSPHRASE.log2_n);
	assert_string_equal(k.server_id, repo.server_id);
	assert_string_equal(k.vault_id, repo.vc.id);
	assert_memory_equal(k.signing_key, repo.sign_public, 32);
	assert_true(ob_record_verify(repo.sign_public, text, len) > 0);
	assert_ok(ob_server_anchor_public(pub, &repo.vc, repo.server_id));
	assert_memory_equal(pub, repo.sign_public, 32);
	mutate_signed(text, len, repo.sign_public, 0);
	free(text);

	/* The owner's signer record, as ob_server_signer_certify writes it. */
	assert_ok(ob_vault_conn_owner_key(owner, &repo.vc));
	assert_ok(ob_sign_public(pub, owner));
	pub64 = ob_base64_encode(repo.sign_public, 32);
	assert_ok(ob_kv_begin(&signer, "signer", 1));
	assert_ok(ob_kv_add(&signer, "vault", repo.vc.id));
	assert_ok(ob_kv_add(&signer, "server", repo.server_id));
	assert_ok(ob_kv_add(&signer, "signing_key", pub64));
	assert_ok(ob_kv_add(&signer, "key_sequence", "3"));
	assert_ok(ob_kv_add(&signer, "key_sha256", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
	assert_ok(ob_kv_add(&signer, "created", "5"));
	assert_ok(ob_record_sign(&signer, owner));
	assert_ok(ob_server_signer_parse(&a, sid, vid, signer.data, signer.len));
	assert_int_equal(a.key_sequence, 3);
	assert_int_equal(a.key_sha256[1], 0x11);
	assert_memory_equal(a.pub, repo.sign_public, 32);
	assert_string_equal(sid, repo.server_id);
	mutate_signed(signer.data, signer.len, pub, 1);
	/* The area has an anchor (its first record is version 2): nothing to certify. */
	assert_ob(0, ob_server_signer_certify(&repo, owner));
	ob_wipe(owner, sizeof(owner));
	free(pub64);
	ob_buf_dispose(&signer);

	/* A data source record, written once, kept on the next write. */
	assert_ok(ob_source_ensure(&repo, 7, "/data", "FileFolder"));
	assert_ok(ob_source_ensure(&repo, 7, "/data", "FileFolder"));
	snprintf(name, sizeof(name), "%ssources/7", repo.prefix);
	assert_ok(ob_vault_read(&text, &len, &repo.vc, name));
	assert_ok(ob_source_parse(&src, text, len));
	assert_int_equal(src.version, 2);
	assert_int_equal(src.id, 7);
	assert_string_equal(src.name, "/data");
	ob_source_record_dispose(&src);
	mutate_signed(text, len, repo.sign_public, 2);
	free(text);
	{
		ob_source_record *v = NULL;
		size_t n = 0;
		assert_ok(ob_source_list(&v, &n, &repo.vc, repo.server_id, NULL, NULL));
		assert_int_equal(n, 1);
		ob_source_records_free(v, n);
	}
}

/* A deletion marker as ob_recovery_point_mark_deleted writes it, with these fields and key. */
static void marker(ob_buf *b, const char *point, const char *server, const char *vault, const char *nonce,
	const char *signer, const uint8_t *priv)
{
	ob_buf_dispose(b);
	assert_ok(ob_kv_begin(b, "deletion", 2));
	assert_ok(ob_kv_add(b, "point", point));
	assert_ok(ob_kv_add(b, "server", server));
	assert_ok(ob_kv_add(b, "vault", vault));
	assert_ok(ob_kv_add_i64(b, "deleted_at", 1234));
	assert_ok(ob_kv_add(b, "reason", "test"));
	assert_ok(ob_kv_add(b, "nonce", nonce));
	assert_ok(ob_kv_add(b, "signer", signer));
	assert_ok(ob_record_sign(b, priv));
}

/* The marker checker: only a signed v2 marker of its own name, vault and server counts; no cut or byte changed does. */
static void test_deletion_markers_are_checked(void **state)
{
	uint8_t spriv[OB_SIGN_PRIVATE_BYTES], spub[OB_SIGN_PUBLIC_BYTES], opriv[OB_SIGN_PRIVATE_BYTES], opub[OB_SIGN_PUBLIC_BYTES];
	uint8_t xpriv[OB_SIGN_PRIVATE_BYTES], xpub[OB_SIGN_PUBLIC_BYTES];
	const char *P = "001796220000-000000001-0011223344556677", *S = "00112233445566778899aabbccddeeff", *V = "vault-id";
	ob_buf b = OB_BUF_INIT, u = OB_BUF_INIT;
	ob_deletion d;
	char name[200], hex[65];
	uint8_t hash[32];
	unsigned int seed = 12, respelled = 0;
	size_t i, cut;
	char *copy;

	(void)state;
	assert_ok(ob_sign_keygen(spriv, spub));
	assert_ok(ob_sign_keygen(opriv, opub));
	assert_ok(ob_sign_keygen(xpriv, xpub));
	marker(&b, P, S, V, "aa", "server", spriv);
	assert_ok(ob_deletion_check(&d, b.data, b.len, P, V, S, spub, opub));
	assert_string_equal(d.point, P);
	assert_int_equal(d.deleted_at, 1234);
	assert_int_equal(d.owner, 0);
	/* Under the point's name with its own nonce; not with another. */
	snprintf(name, sizeof(name), "%s.aa", P);
	assert_ok(ob_deletion_check(&d, b.data, b.len, name, V, S, spub, opub));
	snprintf(name, sizeof(name), "%s.bb", P);
	assert_ob(OB_ECORRUPT, ob_deletion_check(&d, b.data, b.len, name, V, S, spub, opub));
	assert_ob(OB_ECORRUPT, ob_deletion_check(&d, b.data, b.len, "001796220000-000000002-0011223344556677", V, S, spub, opub));
	/* Another vault, another server, another key, a key claiming to be the owner's. */
	assert_ob(OB_ECORRUPT, ob_deletion_check(&d, b.data, b.len, P, "other", S, spub, opub));
	assert_ob(OB_ECORRUPT, ob_deletion_check(&d, b.data, b.len, P, V, "ffeeddccbbaa99887766554433221100", spub, opub));
	assert_ob(OB_EAUTH, ob_deletion_check(&d, b.data, b.len, P, V, S, xpub, opub));
	marker(&b, P, S, V, "aa", "owner", xpriv);
	assert_ob(OB_EAUTH, ob_deletion_check(&d, b.data, b.len, P, V, S, spub, opub));
	marker(&b, P, S, V, "aa", "owner", opriv);
	assert_ok(ob_deletion_check(&d, b.data, b.len, P, V, S, spub, opub));
	assert_int_equal(d.owner, 1);
	marker(&b, P, S, V, "aa", "nobody", spriv);
	assert_ob(OB_ECORRUPT, ob_deletion_check(&d, b.data, b.len, P, V, S, spub, opub));
	/* v1, unsigned: ignored. */
	ob_buf_dispose(&b);
	assert_ok(ob_kv_begin(&b, "deletion", 1));
	assert_ok(ob_kv_add(&b, "point", P));
	assert_ok(ob_kv_add_i64(&b, "purge_after", 1));
	assert_ob(OB_ECORRUPT, ob_deletion_check(&d, b.data, b.len, P, V, S, spub, opub));
	assert_non_null(strstr(ob_error_last(), "unsigned"));
	/* Cut anywhere, or one byte changed: never counts. */
	marker(&b, P, S, V, "aa", "server", spriv);
	for (cut = 0; cut < b.len; cut++)
		assert_true(ob_deletion_check(&d, b.data, cut, P, V, S, spub, opub) < 0);
	/*
	 * A byte changed: refused (a respelling of the signature, base64's spare
	 * bits, too: ob_record_verify takes one spelling; were it to take another,
	 * the hash an undeletion names would still be the same).
	 */
	assert_ok(ob_deletion_check(&d, b.data, b.len, P, V, S, spub, opub));
	memcpy(hash, d.sha256, sizeof(hash));
	copy = malloc(b.len);
	for (i = 0; i < 20000; i++) {
		size_t at = rand_r(&seed) % b.len;
		memcpy(copy, b.data, b.len);
		copy[at] = (char)rand_r(&seed);
		if (copy[at] != b.data[at] && ob_deletion_check(&d, copy, b.len, P, V, S, spub, opub) == 0) {
			assert_true(at > b.len - 6);
			assert_memory_equal(d.sha256, hash, sizeof(hash));
			respelled++;
		}
	}
	assert_int_equal(respelled, 0);
	free(copy);
	assert_true(ob_deletion_check(&d, NULL, 0, P, V, S, spub, opub) < 0);
	assert_true(ob_deletion_check(&d, "garbage", 7, P, V, S, spub, opub) < 0);

	/* The undeletion that voids it: owner-signed, naming this point and this marker's hash. */
	assert_ok(ob_deletion_check(&d, b.data, b.len, P, V, S, spub, opub));
	ob_hex_encode(hex, d.sha256, sizeof(d.sha256));
	assert_ok(ob_kv_begin(&u, "undeletion", 1));
	assert_ok(ob_kv_add(&u, "point", P));
	assert_ok(ob_kv_add(&u, "marker", hex));
	assert_ok(ob_kv_add_i64(&u, "at", 1));
	assert_ok(ob_record_sign(&u, opriv));
	assert_ok(ob_undeletion_check(u.data, u.len, P, hex, opub));
	assert_true(ob_undeletion_check(u.data, u.len, "another", hex, opub) < 0);
	assert_true(ob_undeletion_check(u.data, u.len, P, "00", opub) < 0);
	assert_true(ob_undeletion_check(u.data, u.len, P, hex, spub) < 0);
	assert_true(ob_undeletion_check(u.data, u.len - 2, P, hex, opub) < 0);
	ob_buf_dispose(&b);
	ob_buf_dispose(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deletion_markers_are_checked),
		cmocka_unit_test(test_blob_round_trip_and_tamper),
		cmocka_unit_test(test_incompressible_blob_is_stored_raw),
		cmocka_unit_test(test_small_blobs_compress_unless_random),
		cmocka_unit_test(test_blob_flag_and_size_must_agree),
		cmocka_unit_test(test_blob_written_by_zlib_opens),
		cmocka_unit_test(test_pack_and_index_round_trip),
		cmocka_unit_test(test_damaged_pack_and_index_are_refused),
		cmocka_unit_test(test_tree_round_trip_sorted),
		cmocka_unit_test(test_tree_garbage_and_mutations),
		cmocka_unit_test(test_index_and_pack_headers_on_garbage),
		cmocka_unit_test(test_signed_records_round_trip_and_mutations),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
