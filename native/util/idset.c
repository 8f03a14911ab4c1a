/* A set of 32-byte ids. Ids are keyed hashes or SHA-256 values: their first bytes are the hash. */
#include "util/idset.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const uint8_t *id, size_t cap)
{
	uint64_t h;

	memcpy(&h, id, 8);
	return (size_t)h & (cap - 1);
}

int ob_idset_add(ob_idset *s, const uint8_t id[32])
{
	size_t i;

	if ((s->count + 1) * 4 > s->cap * 3) {
		ob_idset bigger = OB_IDSET_INIT;
		bigger.cap = s->cap ? s->cap * 2 : 4096;
		if (!(bigger.ids = malloc(bigger.cap * 32)) || !(bigger.used = calloc(bigger.cap, 1))) {
			free(bigger.ids);
			return ob_err_nomem();
		}
		for (i = 0; i < s->cap; i++)
			if (s->used[i])
				ob_idset_add(&bigger, s->ids[i]);
		ob_idset_dispose(s);
		*s = bigger;
	}
	for (i = slot_of(id, s->cap); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (memcmp(s->ids[i], id, 32) == 0)
			return 0;
	memcpy(s->ids[i], id, 32);
	s->used[i] = 1;
	s->count++;
	return 1;
}

int ob_idset_has(const ob_idset *s, const uint8_t id[32])
{
	size_t i;

	if (!s->cap)
		return 0;
	for (i = slot_of(id, s->cap); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (memcmp(s->ids[i], id, 32) == 0)
			return 1;
	return 0;
}

void ob_idset_dispose(ob_idset *s)
{
	free(s->ids);
	free(s->used);
	memset(s, 0, sizeof(*s));
}
