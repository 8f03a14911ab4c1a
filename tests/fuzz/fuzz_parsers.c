/*
 * libFuzzer target for every parser that reads untrusted bytes: vault
 * credentials files, key=value records, tree blobs, index and pack headers,
 * the records of a server's area (key records, the owner's signer, data
 * sources; vault/serverkey.h), and the owner's records of an area (generation,
 * generation-end, prune-mark 2: once as given, once signed here so that the
 * checks after the signature run).
 * The first byte picks the parser. Build with -DOBAGENT_FUZZ=ON (clang); run
 * with bench/fuzz.sh. The unit tests run fixed mutation loops of the same parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault/credentials.h"
#include "vault/crypto.h"
#include "vault/repo.h"
#include "vault/serverkey.h"
#include "vault/snapshot.h"
#include "vault/tree.h"
#include "util/util.h"

static int count_cb(const ob_entry *e, void *payload)
{
	(void)e;
	(*(size_t *)payload)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 12) {
	case 0: {
		ob_credentials c;
		if (ob_credentials_parse(&c, (const char *)data + 1, size - 1) == 0)
			ob_credentials_dispose(&c);
		break;
	}
	case 1: {
		ob_kv kv;
		if (ob_kv_parse(&kv, (const char *)data + 1, size - 1) == 0)
			ob_kv_dispose(&kv);
		break;
	}
	case 2: {
		size_t n = 0;
		ob_tree_parse(data + 1, size - 1, count_cb, &n);
		break;
	}
	case 3: {
		ob_index_entry *e = NULL;
		size_t n = 0;
		if (ob_index_decode(&e, &n, data + 1, size - 1) == 0)
			free(e);
		break;
	}
	case 5: {
		ob_server_key_record k;
		ob_server_key_parse(&k, (const char *)data + 1, size - 1);
		break;
	}
	case 6: {
		ob_server_anchor a;
		char server[40], vault[40];
		ob_server_signer_parse(&a, server, vault, (const char *)data + 1, size - 1);
		break;
	}
	case 7: {
		ob_source_record s;
		if (ob_source_parse(&s, (const char *)data + 1, size - 1) == 0)
			ob_source_record_dispose(&s);
		break;
	}
	case 8:
	case 9: {
		/* A fixed owner: the seed is not secret here. */
		static const uint8_t seed[OB_SIGN_PRIVATE_BYTES] = { 7 };
		static const char *const kinds[] = { "generation", "generation-end", "prune-mark" };
		uint8_t pub[OB_SIGN_PUBLIC_BYTES];
		ob_buf rec = OB_BUF_INIT;
		ob_kv kv;
		if (size < 2 || ob_sign_public(pub, seed) < 0 || ob_buf_put(&rec, data + 2, size - 2) < 0)
			break;
		if (data[0] % 12 == 9)
			ob_record_sign(&rec, seed);
		if (ob_area_record_parse(&kv, rec.data ? rec.data : "", rec.len, kinds[data[1] % 3], pub,
			"00112233445566778899aabbccddeeff", "vault") == 0)
			ob_kv_dispose(&kv);
		ob_buf_dispose(&rec);
		break;
	}
	case 10: {
		/* A marker's name (up to a NUL) and its bytes; no key verifies, so this is the parser and the checks before it. */
		static const uint8_t key[OB_SIGN_PUBLIC_BYTES] = { 0 };
		const char *text = (const char *)data + 1, *nul = memchr(text, 0, size - 1);
		char name[80];
		ob_deletion d;
		size_t nlen = nul ? (size_t)(nul - text) : 0;
		if (!nul || nlen >= sizeof(name))
			break;
		memcpy(name, text, nlen);
		name[nlen] = '\0';
		ob_deletion_check(&d, nul + 1, size - 2 - nlen, name, "vault", "server", key, key);
		break;
	}
	case 11: {
		static const uint8_t key[OB_SIGN_PUBLIC_BYTES] = { 0 };
		static const char hex[65] = "0000000000000000000000000000000000000000000000000000000000000000";
		ob_undeletion_check((const char *)data + 1, size - 1, "point", hex, key);
		break;
	}
	default: {
		ob_pack_entry *e = NULL;
		size_t n = 0;
		if (ob_pack_header_decode(&e, &n, data + 1, size - 1) == 0)
			free(e);
		break;
	}
	}
	return 0;
}
