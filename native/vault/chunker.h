/*
 * Internal: content-defined chunking (a Gear rolling hash, FastCDC-style with
 * normalised chunking). The Gear table comes from the server's key, so chunk
 * boundaries reveal nothing to whoever cannot derive it.
 */
#ifndef OB_NATIVE_CHUNKER_H
#define OB_NATIVE_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#define OB_CHUNK_MIN (256u * 1024u)
#define OB_CHUNK_AVG (1024u * 1024u)
#define OB_CHUNK_MAX (4u * 1024u * 1024u)

typedef struct ob_chunker {
	uint64_t gear[256];
	size_t min, avg, max;
	uint64_t mask_small;   /* harder mask before the average size */
	uint64_t mask_large;   /* easier mask after it */
} ob_chunker;

/** Set up a chunker from a 32-byte secret seed and the size bounds. */
void ob_chunker_init(ob_chunker *c, const uint8_t seed[32], size_t min, size_t avg, size_t max);

/**
 * The length of the next chunk at the start of data (len bytes available).
 * When eof is 0 and no boundary is found before len, and len < max, it returns
 * 0: supply more data. At eof, the rest is a chunk when shorter than a cut.
 */
size_t ob_chunker_cut(const ob_chunker *c, const uint8_t *data, size_t len, int eof);

#endif
