/*
 * The vault layer's data path over the in-memory back end (tests/support):
 * chunk, seal, pack, store, index, then read back through the index alone, as
 * a restore on another machine does; every damaged byte is found, never
 * returned; the generation objects maintenance takes. No disk, no worker, no
 * agent: the repository is opened on the back end directly (ob_repo is plain
 * data: a back end, a prefix and the keys), so these run in milliseconds.
 */
#include "testutil.h"
#include "memory_backend.h"
#include "vault/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* len bytes, half random and half text (so that some chunks compress and some do not); free it. */
static uint8_t *mixed_data(size_t len)
{
	uint8_t *d = malloc(len);
	size_t i, half = len / 2;

	assert_non_null(d);
	assert_ok(ob_random(d, half));
	for (i = half; i < len; i++)
		d[i] = (uint8_t)("the quick brown fox jumps over the lazy dog\n"[(i * 7 + i / 4096) % 44]);
	return d;
}

/* Seal a blob into a new buffer; *out_len its sealed size (free it). */
static uint8_t *seal(size_t *out_len, const ob_repo *r, ob_compressor *c, int type, const uint8_t id[OB_ID_BYTES],
	const uint8_t *data, size_t len)
{
	uint8_t *sealed = malloc(len + OB_BLOB_OVERHEAD);

	assert_non_null(sealed);
	assert_ok(ob_blob_seal(sealed, out_len, r, c, type, id, data, len));
	assert_true(*out_len <= len + OB_BLOB_OVERHEAD);
	return sealed;
}

static void test_blob_seal_and_open(void **state)
{
	ob_repo r, other;
	ob_compressor c = { 0 };
	uint8_t *text = mixed_data(2u << 20), *noise = text, id[OB_ID_BYTES], id2[OB_ID_BYTES], *sealed, *plain;
	const uint8_t *t = text + (1u << 20);   /* the text half */
	size_t slen, plen;

	(void)state;
	ob_test_memory_repo(&r, OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET);
	ob_test_memory_repo(&other, OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET);
	/* Ids are keyed: the same bytes give the same id here and another under another server's key. */
	ob_repo_blob_id(id, &r, t, 1u << 20);
	ob_repo_blob_id(id2, &r, t, 1u << 20);
	assert_memory_equal(id, id2, OB_ID_BYTES);
	ob_repo_blob_id(id2, &other, t, 1u << 20);
	assert_memory_not_equal(id, id2, OB_ID_BYTES);

	/* Text compresses; it opens to the same bytes. */
	sealed = seal(&slen, &r, &c, OB_BLOB_DATA, id, t, 1u << 20);
	assert_true(slen < (1u << 19));
	assert_ok(ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, id, sealed, slen, 1u << 20));
	assert_int_equal(plen, 1u << 20);
	assert_memory_equal(plain, t, plen);
	free(plain);
	/* Under another type, another id or another key, or with a byte changed, it does not open. */
	assert_ob(OB_ECORRUPT, ob_blob_open(&plain, &plen, &r, OB_BLOB_TREE, id, sealed, slen, 1u << 20));
	assert_ob(OB_ECORRUPT, ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, id2, sealed, slen, 1u << 20));
	assert_ob(OB_ECORRUPT, ob_blob_open(&plain, &plen, &other, OB_BLOB_DATA, id, sealed, slen, 1u << 20));
	sealed[slen / 2] ^= 1;
	assert_ob(OB_ECORRUPT, ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, id, sealed, slen, 1u << 20));
	assert_null(plain);
	free(sealed);

	/* Random bytes are stored as they are: the sealed size is the data and the overhead. */
	ob_repo_blob_id(id, &r, noise, 1u << 20);
	sealed = seal(&slen, &r, &c, OB_BLOB_DATA, id, noise, 1u << 20);
	assert_int_equal(slen, (1u << 20) + OB_BLOB_OVERHEAD);
	assert_ok(ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, id, sealed, slen, 1u << 20));
	assert_memory_equal(plain, noise, plen);
	free(plain);
	/* A truncated blob, or one that claims another size. */
	assert_ob(OB_ECORRUPT, ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, id, sealed, OB_BLOB_OVERHEAD - 1, 1u << 20));
	assert_ob(OB_ECORRUPT, ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, id, sealed, slen, (1u << 20) - 1));
	free(sealed);

	/* Without a compressor (c NULL) even text is stored raw, and opens. */
	ob_repo_blob_id(id, &r, t, 4096);
	sealed = seal(&slen, &r, NULL, OB_BLOB_TREE, id, t, 4096);
	assert_int_equal(slen, 4096 + OB_BLOB_OVERHEAD);
	assert_ok(ob_blob_open(&plain, &plen, &r, OB_BLOB_TREE, id, sealed, slen, 4096));
	free(plain);
	free(sealed);

	ob_compressor_dispose(&c);
	ob_repo_dispose(&other);
	ob_repo_dispose(&r);
	free(text);
}

/* What one pack of a backup holds, as the backup's packer saw it. */
typedef struct stored {
	uint8_t pack[OB_ID_BYTES];
	ob_pack_entry *entries;
	size_t count;
} stored;

/* Chunk data, seal each chunk, gather them into one pack and store it; the index names them. */
static void back_up(stored *s, const ob_repo *r, const uint8_t *data, size_t len)
{
	ob_packer p = { 0 };
	ob_compressor c = { 0 };
	ob_index_entry *ix;
	char name[160];
	size_t off = 0, i;

	while (off < len) {
		size_t n = ob_chunker_cut(&r->chunker, data + off, len - off, 1), slen;
		uint8_t id[OB_ID_BYTES], *sealed;
		assert_true(n > 0 && n <= OB_CHUNK_MAX);
		ob_repo_blob_id(id, r, data + off, n);
		sealed = seal(&slen, r, &c, OB_BLOB_DATA, id, data + off, n);
		assert_ok(ob_packer_add(&p, OB_BLOB_DATA, id, sealed, slen, n));
		free(sealed);
		off += n;
	}
	assert_true(p.count >= 2);   /* callers give more than OB_CHUNK_MAX bytes: offsets inside the pack are tried */
	assert_int_equal(p.raw_bytes, len);
	assert_ok(ob_packer_finish(&p, r, s->pack));
	ob_repo_pack_name(name, sizeof(name), r, s->pack);
	assert_ok(r->vc.be->put(r->vc.be, name, p.data.data, p.data.len));
	s->count = p.count;
	assert_non_null(s->entries = malloc(p.count * sizeof(*s->entries)));
	memcpy(s->entries, p.entries, p.count * sizeof(*s->entries));
	/* Data before the index that names it (docs/FORMAT.md). */
	assert_non_null(ix = calloc(p.count, sizeof(*ix)));
	for (i = 0; i < p.count; i++) {
		ix[i].blob = p.entries[i];
		memcpy(ix[i].pack, s->pack, OB_ID_BYTES);
	}
	assert_ok(ob_index_write(r, ix, p.count, NULL));
	free(ix);
	ob_packer_dispose(&p);
	ob_compressor_dispose(&c);
}

/* The name of the one index object of r (there must be exactly one). */
typedef struct first_name {
	char name[160];
	int count;
} first_name;

static int take_name(const char *name, uint64_t size, void *payload)
{
	first_name *f = payload;

	(void)size;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->count++;
	return 0;
}

/* Read everything back through the index object alone, by ranges of the pack; compare with data. */
static void restore_through_index(const ob_repo *r, const char *index_name, const uint8_t *data, size_t len)
{
	ob_index_entry *ix = NULL;
	size_t n = 0, i, off = 0;

	assert_ok(ob_index_read(&ix, &n, r, index_name));
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		char name[160];
		void *sealed;
		size_t slen, plen;
		uint8_t *plain;
		ob_repo_pack_name(name, sizeof(name), r, ix[i].pack);
		assert_ok(r->vc.be->get(&sealed, &slen, r->vc.be, name, ix[i].blob.offset, ix[i].blob.length));
		assert_ok(ob_blob_open(&plain, &plen, r, ix[i].blob.type, ix[i].blob.id, sealed, slen, ix[i].blob.raw_length));
		assert_true(off + plen <= len);
		assert_memory_equal(plain, data + off, plen);
		off += plen;
		free(plain);
		free(sealed);
	}
	assert_int_equal(off, len);
	free(ix);
}

static void test_pack_and_index_round_trip(void **state)
{
	ob_repo r;
	stored s;
	first_name f = { "", 0 };
	ob_pack_entry *hdr = NULL;
	size_t len = 6u << 20, n = 0, i;
	uint8_t *data = mixed_data(len);
	char prefix[96];

	(void)state;
	ob_test_memory_repo(&r, OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET);
	back_up(&s, &r, data, len);
	assert_int_equal(ob_test_memory_backend_count(r.vc.be, r.prefix), 2);   /* one pack, one index object */

	/* The pack's own header names what the packer put in it (an index can be rebuilt from packs alone). */
	assert_ok(ob_pack_read_header(&hdr, &n, &r, s.pack));
	assert_int_equal(n, s.count);
	for (i = 0; i < n; i++) {
		assert_int_equal(hdr[i].type, s.entries[i].type);
		assert_memory_equal(hdr[i].id, s.entries[i].id, OB_ID_BYTES);
		assert_int_equal(hdr[i].offset, s.entries[i].offset);
		assert_int_equal(hdr[i].length, s.entries[i].length);
		assert_int_equal(hdr[i].raw_length, s.entries[i].raw_length);
	}
	free(hdr);

	snprintf(prefix, sizeof(prefix), "%sindex/", r.prefix);
	assert_ok(r.vc.be->list(r.vc.be, prefix, take_name, &f));
	assert_int_equal(f.count, 1);
	restore_through_index(&r, f.name, data, len);

	free(s.entries);
	ob_repo_dispose(&r);
	free(data);
}

static void test_damage_is_found_not_returned(void **state)
{
	ob_repo r;
	stored s;
	first_name f = { "", 0 };
	ob_pack_entry *hdr = NULL;
	ob_index_entry *ix = NULL;
	size_t len = OB_CHUNK_MAX + (1u << 20), n = 0;   /* more than one chunk, whatever the key */
	uint8_t *data = mixed_data(len), *plain = NULL;
	char prefix[96], pack[160], renamed[160];
	void *sealed, *obj;
	size_t slen, plen, olen;
	uint64_t size;

	(void)state;
	ob_test_memory_repo(&r, OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET);
	back_up(&s, &r, data, len);
	ob_repo_pack_name(pack, sizeof(pack), &r, s.pack);
	snprintf(prefix, sizeof(prefix), "%sindex/", r.prefix);
	assert_ok(r.vc.be->list(r.vc.be, prefix, take_name, &f));

	/* A byte of the second blob: that blob fails, the header and the first blob still read. */
	assert_ok(ob_test_memory_backend_flip(r.vc.be, pack, s.entries[1].offset + s.entries[1].length / 2));
	assert_ok(r.vc.be->get(&sealed, &slen, r.vc.be, pack, s.entries[1].offset, s.entries[1].length));
	assert_ob(OB_ECORRUPT, ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, s.entries[1].id, sealed, slen,
		s.entries[1].raw_length));
	assert_null(plain);
	free(sealed);
	assert_ok(r.vc.be->get(&sealed, &slen, r.vc.be, pack, s.entries[0].offset, s.entries[0].length));
	assert_ok(ob_blob_open(&plain, &plen, &r, OB_BLOB_DATA, s.entries[0].id, sealed, slen, s.entries[0].raw_length));
	assert_memory_equal(plain, data, plen);
	free(plain);
	free(sealed);
	assert_ok(ob_pack_read_header(&hdr, &n, &r, s.pack));
	free(hdr);

	/* A byte of the pack's header (just before its 4-byte length), then of the length itself. */
	assert_ok(r.vc.be->stat(&size, r.vc.be, pack));
	assert_ok(ob_test_memory_backend_flip(r.vc.be, pack, size - 5));
	assert_ob(OB_ECORRUPT, ob_pack_read_header(&hdr, &n, &r, s.pack));
	assert_null(hdr);
	assert_ok(ob_test_memory_backend_flip(r.vc.be, pack, size - 1));
	assert_ob(OB_ECORRUPT, ob_pack_read_header(&hdr, &n, &r, s.pack));

	/* An index object stored under a name that is not its hash is refused, before it is opened ... */
	assert_ok(r.vc.be->get(&obj, &olen, r.vc.be, f.name, 0, 0));
	snprintf(renamed, sizeof(renamed), "%sindex/%064d", r.prefix, 0);
	assert_ok(r.vc.be->put(r.vc.be, renamed, obj, olen));
	assert_ob(OB_ECORRUPT, ob_index_read(&ix, &n, &r, renamed));
	free(obj);
	/* ... and a changed byte in one is found. */
	assert_ok(ob_test_memory_backend_flip(r.vc.be, f.name, olen / 2));
	assert_ob(OB_ECORRUPT, ob_index_read(&ix, &n, &r, f.name));
	assert_null(ix);
	assert_ob(OB_ENOTFOUND, ob_index_read(&ix, &n, &r, "servers/" OB_TEST_MEMORY_SERVER_ID "/index/absent"));

	free(s.entries);
	ob_repo_dispose(&r);
	free(data);
}

/* Another server's key opens none of this server's objects. */
static void test_another_key_opens_nothing(void **state)
{
	ob_repo r, thief;
	stored s;
	first_name f = { "", 0 };
	ob_pack_entry *hdr = NULL;
	ob_index_entry *ix = NULL;
	size_t len = OB_CHUNK_MAX + (1u << 20), n = 0;   /* more than one chunk, whatever the key */
	uint8_t *data = mixed_data(len);
	char prefix[96];

	(void)state;
	ob_test_memory_repo(&r, OB_BACKEND_CAP_RANGE_GET);
	back_up(&s, &r, data, len);
	snprintf(prefix, sizeof(prefix), "%sindex/", r.prefix);
	assert_ok(r.vc.be->list(r.vc.be, prefix, take_name, &f));
	/* The same objects, the same names, another key: the thief's repository shares the back end. */
	ob_test_memory_repo(&thief, OB_BACKEND_CAP_RANGE_GET);
	thief.vc.be->free(thief.vc.be);
	thief.vc.be = r.vc.be;
	assert_ob(OB_ECORRUPT, ob_pack_read_header(&hdr, &n, &thief, s.pack));
	assert_ob(OB_ECORRUPT, ob_index_read(&ix, &n, &thief, f.name));
	thief.vc.be = NULL;   /* r owns it */
	ob_repo_dispose(&thief);
	free(s.entries);
	ob_repo_dispose(&r);
	free(data);
}

/* An owner for a memory repo: its public key in the connection, as ob_vault_conn_open puts it there. */
static void give_owner(ob_repo *r, uint8_t owner[OB_SIGN_PRIVATE_BYTES])
{
	assert_ok(ob_sign_keygen(owner, r->vc.owner_public));
}

/* Store a record under generation/<name> as it is. */
static void put_generation(ob_repo *r, const char *name, const ob_buf *rec)
{
	char full[160];

	snprintf(full, sizeof(full), "%sgeneration/%s", r->prefix, name);
	assert_ok(r->vc.be->put(r->vc.be, full, rec->data, rec->len));
}

/* A generation record as anyone can write one: kind, version, server, number; signed by key (NULL: unsigned). */
static void forge_generation(ob_repo *r, const char *name, const char *kind, int version, const char *server,
	int64_t n, const uint8_t *key)
{
	ob_buf rec = OB_BUF_INIT;

	assert_ok(ob_kv_begin(&rec, kind, version));
	if (server) {
		assert_ok(ob_kv_add(&rec, "server", server));
		assert_ok(ob_kv_add(&rec, "vault", ""));
	}
	assert_ok(ob_kv_add_i64(&rec, "generation", n));
	assert_ok(ob_kv_add_i64(&rec, "at", 1));
	if (key)
		assert_ok(ob_record_sign(&rec, key));
	put_generation(r, name, &rec);
	ob_buf_dispose(&rec);
}

static void test_generations(void **state)
{
	ob_repo r, agent;
	uint8_t owner[OB_SIGN_PRIVATE_BYTES];
	uint64_t g = 99;
	int ended = 0;
	char prefix[96];

	(void)state;
	ob_test_memory_repo(&r, OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET);
	give_owner(&r, owner);
	snprintf(prefix, sizeof(prefix), "%sgeneration/", r.prefix);
	/* None yet: generation 0, and ended. */
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_int_equal(g, 0);
	assert_true(ended);
	/* A run takes one: the newest is 1, not ended until the run says so. */
	assert_ok(ob_repo_generation_bump(&g, &r, owner, 1000));
	assert_int_equal(g, 1);
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_int_equal(g, 1);
	assert_false(ended);
	assert_ok(ob_repo_generation_end(&r, owner, 1, 1001));
	assert_ok(ob_repo_generation_end(&r, owner, 1, 1002));   /* said twice: no error */
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_true(ended);
	/* The next run: 2, and the older objects go where the back end lets them. */
	assert_ok(ob_repo_generation_bump(&g, &r, owner, 2000));
	assert_int_equal(g, 2);
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_int_equal(g, 2);
	assert_false(ended);
	assert_int_equal(ob_test_memory_backend_count(r.vc.be, prefix), 1);
	ob_repo_dispose(&r);

	/* Credentials that cannot delete: bumping still works, and the older objects stay. */
	ob_test_memory_repo(&agent, OB_BACKEND_CAP_RANGE_GET);
	give_owner(&agent, owner);
	assert_ok(ob_repo_generation_bump(&g, &agent, owner, 1000));
	assert_ok(ob_repo_generation_end(&agent, owner, 1, 1001));
	assert_ok(ob_repo_generation_bump(&g, &agent, owner, 2000));
	assert_int_equal(g, 2);
	assert_int_equal(ob_test_memory_backend_count(agent.vc.be, prefix), 3);
	ob_repo_dispose(&agent);
	ob_wipe(owner, sizeof(owner));
}

/* Collect what readers skipped. */
static int count_skip(const char *name, const char *why, void *payload)
{
	(void)name;
	assert_non_null(why);
	(*(int *)payload)++;
	return 0;
}

/*
 * Generation objects anyone can write (docs/SECURITY.md): only owner-signed
 * records of this area whose number is their name's count. Forged ones neither
 * raise the generation nor hold it open, and the owner's next bump takes the
 * first number above the genuine one, removing them.
 */
static void test_generation_forgeries(void **state)
{
	ob_repo r, agent;
	uint8_t owner[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES], other[OB_SIGN_PRIVATE_BYTES];
	uint64_t g = 0;
	int ended = 0, noted = 0;
	char prefix[96], name[160];

	(void)state;
	ob_test_memory_repo(&r, OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET);
	give_owner(&r, owner);
	assert_ok(ob_sign_keygen(other, pub));
	snprintf(prefix, sizeof(prefix), "%sgeneration/", r.prefix);
	assert_ok(ob_repo_generation_bump(&g, &r, owner, 1000));
	assert_ok(ob_repo_generation_end(&r, owner, 1, 1001));

	/* Today's attack: an unsigned 9999999999 (no N+1) and an N+1 without an end. */
	forge_generation(&r, "9999999999", "generation", 1, NULL, 9999999999LL, NULL);
	forge_generation(&r, "0000000002", "generation", 1, NULL, 2, NULL);
	/* Signed by another key; the owner's record of another area; the owner's, but under another number. */
	forge_generation(&r, "0000000003", "generation", 2, r.server_id, 3, other);
	forge_generation(&r, "0000000004", "generation", 2, "ffeeddccbbaa99887766554433221100", 4, owner);
	forge_generation(&r, "0000000005", "generation", 2, r.server_id, 1, owner);
	/* Garbage, and a forged end of the genuine generation's successor. */
	{
		ob_buf junk = OB_BUF_INIT;
		assert_ok(ob_buf_puts(&junk, "not a record at all"));
		put_generation(&r, "0000000006", &junk);
		ob_buf_dispose(&junk);
	}
	forge_generation(&r, "0000000002.end", "generation-end", 1, NULL, 2, NULL);
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_int_equal(g, 1);
	assert_true(ended);

	/* The owner's next run takes 2 (the forgery there goes) and removes every forgery. */
	assert_ok(ob_repo_generation_bump(&g, &r, owner, 2000));
	assert_int_equal(g, 2);
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_int_equal(g, 2);
	assert_false(ended);
	assert_int_equal(ob_test_memory_backend_count(r.vc.be, prefix), 1);
	snprintf(name, sizeof(name), "%s0000000002", prefix);
	{
		uint64_t size = 0;
		assert_ok(r.vc.be->stat(&size, r.vc.be, name));
	}
	ob_repo_skipped_take(&r, count_skip, &noted, NULL);
	assert_true(noted >= 6);   /* the one in the way and those above it, each named once */
	/* A forged end of the run's own number does not end it; the run's own end replaces it. */
	forge_generation(&r, "0000000002.end", "generation-end", 2, r.server_id, 2, other);
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_false(ended);
	assert_ok(ob_repo_generation_end(&r, owner, 2, 2001));
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_true(ended);
	ob_repo_dispose(&r);

	/* A legacy area (unsigned records of older versions) is at generation 0; its owner's next run takes 1. */
	ob_test_memory_repo(&r, OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET);
	give_owner(&r, owner);
	forge_generation(&r, "0000000007", "generation", 1, NULL, 7, NULL);
	forge_generation(&r, "0000000007.end", "generation-end", 1, NULL, 7, NULL);
	assert_ok(ob_repo_generation(&g, &ended, &r));
	assert_int_equal(g, 0);
	assert_true(ended);
	assert_ok(ob_repo_generation_bump(&g, &r, owner, 3000));
	assert_int_equal(g, 1);
	assert_int_equal(ob_test_memory_backend_count(r.vc.be, prefix), 1);
	ob_repo_dispose(&r);

	/* Without delete rights a forged number in the way is stepped over, not taken. */
	ob_test_memory_repo(&agent, OB_BACKEND_CAP_RANGE_GET);
	give_owner(&agent, owner);
	forge_generation(&agent, "0000000001", "generation", 1, NULL, 1, NULL);
	assert_ok(ob_repo_generation_bump(&g, &agent, owner, 1000));
	assert_int_equal(g, 2);
	assert_ok(ob_repo_generation(&g, &ended, &agent));
	assert_int_equal(g, 2);
	ob_repo_dispose(&agent);
	ob_wipe(owner, sizeof(owner));
	ob_wipe(other, sizeof(other));
}

/* The record checker on its own: every way a record can fail, and the one way it passes. */
static void test_area_records(void **state)
{
	uint8_t owner[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	ob_buf rec = OB_BUF_INIT;
	ob_kv kv;
	ob_repo r;

	(void)state;
	ob_test_memory_repo(&r, OB_BACKEND_CAP_DELETE);
	assert_ok(ob_sign_keygen(owner, pub));
	assert_ok(ob_area_record_begin(&rec, &r, "prune-mark"));
	assert_ok(ob_kv_add_i64(&rec, "marked_at", 5));
	assert_ob(OB_ECORRUPT, ob_area_record_parse(&kv, rec.data, rec.len, "prune-mark", pub, r.server_id, ""));
	assert_ok(ob_record_sign(&rec, owner));
	assert_ok(ob_area_record_parse(&kv, rec.data, rec.len, "prune-mark", pub, r.server_id, ""));
	assert_string_equal(ob_kv_get(&kv, "marked_at"), "5");
	ob_kv_dispose(&kv);
	assert_ob(OB_ECORRUPT, ob_area_record_parse(&kv, rec.data, rec.len, "generation", pub, r.server_id, ""));
	assert_ob(OB_ECORRUPT, ob_area_record_parse(&kv, rec.data, rec.len, "prune-mark", pub, "another", ""));
	assert_ob(OB_ECORRUPT, ob_area_record_parse(&kv, rec.data, rec.len, "prune-mark", pub, r.server_id, "vault"));
	rec.data[rec.len - 10] ^= 1;
	assert_true(ob_area_record_parse(&kv, rec.data, rec.len, "prune-mark", pub, r.server_id, "") < 0);
	rec.data[rec.len - 10] ^= 1;
	/*
	 * Mutations (as the fuzz target's): a changed byte never passes unsigned, and
	 * signed again it parses or is refused, never crashes.
	 */
	{
		size_t body = strstr(rec.data, "\nsignature=") - rec.data + 1, i;
		uint8_t rnd[3];
		for (i = 0; i < 2000; i++) {
			ob_buf m = OB_BUF_INIT;
			assert_ok(ob_random(rnd, sizeof(rnd)));
			assert_ok(ob_buf_put(&m, rec.data, rec.len));
			/* In the signed bytes (a base64 signature has bits a lenient decoder ignores). */
			m.data[((size_t)rnd[0] << 8 | rnd[1]) % body] ^= (char)(rnd[2] | 1);
			assert_true(ob_area_record_parse(&kv, m.data, m.len, "prune-mark", pub, r.server_id, "") < 0);
			m.len = body;
			m.data[m.len] = '\0';
			assert_ok(ob_record_sign(&m, owner));
			if (ob_area_record_parse(&kv, m.data, m.len, "prune-mark", pub, r.server_id, "") == 0)
				ob_kv_dispose(&kv);
			ob_error_clear();
			ob_buf_dispose(&m);
		}
	}
	ob_buf_dispose(&rec);
	ob_repo_dispose(&r);
	ob_wipe(owner, sizeof(owner));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_seal_and_open),
		cmocka_unit_test(test_pack_and_index_round_trip),
		cmocka_unit_test(test_damage_is_found_not_returned),
		cmocka_unit_test(test_another_key_opens_nothing),
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_generation_forgeries),
		cmocka_unit_test(test_area_records),
	};

	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
