/*
 * Internal: blobs known to be damaged in the vault (docs/FORMAT.md, "Damage and
 * healing"). Test-OBRecoveryPoint and readers record the copy they found damaged
 * (blob id and pack) and the items of a point that need it. A backup stops
 * trusting such a copy: it stores the blob again from the source where the
 * source still has it, and the new copy replaces the damaged one in the chunk
 * cache (and, through its index object, for every reader); what it could not
 * store again is reported once.
 */
#ifndef OB_NATIVE_DAMAGE_H
#define OB_NATIVE_DAMAGE_H

#include "agent/agent_internal.h"
#include "catalog/damage.h"
#include "util/idset.h"

#include <stdint.h>

/**
 * Record that the copy of blob id (of type OB_BLOB_*) in pack is damaged, and
 * that path (an item of a point, for reports; may be NULL) needs that blob.
 */
int ob_damage_record(ob_agent *agent, const uint8_t id[32], int type, const uint8_t pack[32], const char *path,
	const char *problem);

/**
 * For a backup: *out receives the blobs whose cached location is a copy known
 * to be damaged (the backup stores them again), and the file cache forgets the
 * files that name them, so that those files are read again. ob_idset_dispose.
 */
int ob_damage_prepare_backup(ob_idset *out, ob_agent *agent);

/**
 * After a backup's point is written: the items that need a blob still known
 * damaged (the source no longer had its data), each reported once through cb.
 */
int ob_damage_report_unhealed(uint64_t *out_count, ob_agent *agent,
	int (*cb)(const char *path, const char *reason, void *payload), void *payload);

/**
 * Every copy known damaged: *out (free) is an array of count (blob id, pack id)
 * pairs, 64 bytes each; ob_damage_has says whether a copy is among them.
 */
int ob_damage_list(uint8_t (**out)[64], size_t *out_count, ob_agent *agent);
int ob_damage_has(const uint8_t (*list)[64], size_t count, const uint8_t id[32], const uint8_t pack[32]);

#endif
