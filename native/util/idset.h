/* Internal: a set of 32-byte ids (blob, pack ids), open addressing, grown as needed. */
#ifndef OB_NATIVE_IDSET_H
#define OB_NATIVE_IDSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct ob_idset {
	uint8_t (*ids)[32];
	uint8_t *used;
	size_t cap, count;
} ob_idset;

#define OB_IDSET_INIT { NULL, NULL, 0, 0 }

/** Add an id: 1 when it is new, 0 when it was there, OB_ENOMEM. */
int ob_idset_add(ob_idset *s, const uint8_t id[32]);
/** Whether the set holds an id. */
int ob_idset_has(const ob_idset *s, const uint8_t id[32]);
void ob_idset_dispose(ob_idset *s);

#endif
