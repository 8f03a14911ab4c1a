/*
 * Internal: directory trees. A tree blob lists a folder's entries, sorted by
 * name; each entry carries its metadata and either its content (chunk ids),
 * its subtree id, or its link target (docs/FORMAT.md, "Trees").
 */
#ifndef OB_NATIVE_TREE_H
#define OB_NATIVE_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define OB_TREE_FILE 1
#define OB_TREE_DIR 2
#define OB_TREE_SYMLINK 3
#define OB_TREE_FIFO 4
#define OB_TREE_CHARDEV 5
#define OB_TREE_BLOCKDEV 6
#define OB_TREE_SOCKET 7

#define OB_ENTRY_SPARSE 0x1

/** A parsed entry; its pointers point into the tree blob it came from. */
typedef struct ob_entry {
	uint8_t type;
	const char *name;   /* not NUL-terminated: name_len bytes */
	size_t name_len;
	uint32_t mode, uid, gid;
	const char *user, *group;
	size_t user_len, group_len;
	int64_t mtime_ns, ctime_ns;
	uint64_t size, inode, dev, rdev;
	uint32_t nlink;
	uint8_t flags;
	const uint8_t *xattrs;      /* serialized xattr list (see ob_xattr_next) */
	size_t xattrs_len;
	uint32_t xattr_count;
	const uint8_t *chunks;      /* file: chunk_count * 32 bytes */
	size_t chunk_count;
	const uint8_t *subtree;     /* dir: 32 bytes */
	const char *target;         /* symlink */
	size_t target_len;
} ob_entry;

/**
 * Serialize an entry (without its length prefix) into b. For files pass the
 * chunk ids, for folders the subtree id, for links the target.
 */
int ob_entry_encode(ob_buf *b, const ob_entry *e);

/** Iterate over xattrs: *pos starts at 0; returns 1 and fills name/value, 0 at the end, <0 if malformed. */
int ob_xattr_next(const ob_entry *e, size_t *pos, const char **name, size_t *name_len, const uint8_t **value,
	size_t *value_len);

/** Build a tree blob from encoded entries, each as a length and bytes; sorts by name. */
typedef struct ob_tree_builder {
	ob_buf data;       /* concatenated encoded entries, each prefixed with a u32 length */
	size_t *offsets;
	size_t count, cap;
} ob_tree_builder;

int ob_tree_builder_add(ob_tree_builder *tb, const uint8_t *encoded, size_t len);
int ob_tree_builder_finish(ob_buf *out, ob_tree_builder *tb);
void ob_tree_builder_dispose(ob_tree_builder *tb);

/** Parse a tree blob: calls cb for each entry (stop with non-zero). OB_ECORRUPT if malformed. */
typedef int (*ob_tree_cb)(const ob_entry *e, void *payload);
int ob_tree_parse(const uint8_t *data, size_t len, ob_tree_cb cb, void *payload);

/** Decode one encoded entry (without length prefix). */
int ob_entry_decode(ob_entry *e, const uint8_t *data, size_t len);

#endif
