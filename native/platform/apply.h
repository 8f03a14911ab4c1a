/*
 * Internal: giving restored files and folders their metadata back: owner, permission bits,
 * extended attributes (ACLs among them) and times. Each applies to the object a handle holds,
 * never to a name: an open file or folder, or for what cannot be opened (links, fifos, devices,
 * sockets) the handle of ob_file_open_made_at (platform/file.h) on the entry just made. So a name
 * that another user swaps (for a link to someone else's file, say) between two calls never leads
 * a call to another object. The caller applies them in the order owner, mode, extended
 * attributes, times, so that none undoes another. posix_apply.c implements it; failures as in
 * platform/file.h (OB_E* codes, no message recorded: a restore carries on without them).
 */
#ifndef OB_NATIVE_PLATFORM_APPLY_H
#define OB_NATIVE_PLATFORM_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "platform/file.h"

/** Who owned an entry: by name when this system knows the names, else by number. */
typedef struct ob_owner {
	const char *user, *group;     /* not NUL-terminated; length 0: none */
	size_t user_len, group_len;
	uint32_t uid, gid;
} ob_owner;

/** Give an entry its owner back: 1 when it has it, 0 when not (not allowed, or no such owner here). */
int ob_apply_owner(ob_file *f, const ob_owner *o);
/** Set the permission bits (07777). Not for a link, which has none of its own (it fails). */
int ob_apply_mode(ob_file *f, unsigned int mode);
/** Set one extended attribute (name_len bytes of name, not NUL-terminated). */
int ob_apply_xattr(ob_file *f, const char *name, size_t name_len, const void *value, size_t value_len);
/** Set the times: last written (and last read) at mtime_ns nanoseconds since 1970 UTC. */
int ob_apply_mtime(ob_file *f, int64_t mtime_ns);

#endif
