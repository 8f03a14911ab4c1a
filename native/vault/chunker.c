/* Content-defined chunking with a keyed Gear table and normalised masks. */
#include "vault/chunker.h"
#include "vault/crypto.h"

#include <string.h>

static int log2_floor(size_t v)
{
	int n = 0;

	while (v >>= 1)
		n++;
	return n;
}

/* A mask with `bits` one bits spread over the top 48 bits of the hash. */
static uint64_t spread_mask(int bits)
{
	uint64_t m = 0;
	int i, placed = 0;

	for (i = 63; i >= 16 && placed < bits; i -= 2, placed++)
		m |= (uint64_t)1 << i;
	for (i = 62; i >= 16 && placed < bits; i -= 2, placed++)
		m |= (uint64_t)1 << i;
	return m;
}

void ob_chunker_init(ob_chunker *c, const uint8_t seed[32], size_t min, size_t avg, size_t max)
{
	uint8_t block[32];
	unsigned int i;
	int bits;

	/* gear[i] = the first 8 bytes of HMAC-SHA-256(seed, "gear" || i). */
	for (i = 0; i < 256; i++) {
		uint8_t msg[5] = { 'g', 'e', 'a', 'r', (uint8_t)i };
		ob_hmac_sha256(block, seed, 32, msg, sizeof(msg));
		memcpy(&c->gear[i], block, 8);
	}
	c->min = min;
	c->avg = avg;
	c->max = max;
	bits = log2_floor(avg);
	c->mask_small = spread_mask(bits + 2);
	c->mask_large = spread_mask(bits - 2);
}

size_t ob_chunker_cut(const ob_chunker *c, const uint8_t *data, size_t len, int eof)
{
	size_t i, normal, end;
	uint64_t h = 0;

	if (len <= c->min)
		return eof ? len : 0;
	end = len < c->max ? len : c->max;
	normal = c->avg < end ? c->avg : end;
	/* Skip the minimum, then look for a cut with the hard mask, then the easy one. */
	for (i = c->min; i < normal; i++) {
		h = (h << 1) + c->gear[data[i]];
		if (!(h & c->mask_small))
			return i + 1;
	}
	for (; i < end; i++) {
		h = (h << 1) + c->gear[data[i]];
		if (!(h & c->mask_large))
			return i + 1;
	}
	if (end == c->max)
		return c->max;
	return eof ? len : 0;
}
