/*
 * obagent: the storage back-end interface, for back-end authors.
 *
 * A vault is a flat namespace of immutable objects named by '/'-separated paths
 * of [A-Za-z0-9._-] components. A back end stores and returns them; it knows
 * nothing of their contents. Writes are create-only: put never replaces an object
 * (OB_EEXISTS), and an object becomes visible whole or not at all. Retry,
 * throttling and logging wrap a back end instead of living inside it.
 * Every back end passes the conformance suite in tests/storage/test_conformance.c.
 */
#ifndef OBAGENT_SYS_BACKEND_H
#define OBAGENT_SYS_BACKEND_H

#include "../common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OB_BACKEND_VERSION 3   /**< 2: set_pacer; 3: stat_created */

/** What a back end can do (capabilities bit set). */
#define OB_BACKEND_CAP_DELETE      0x1u  /**< remove works with these credentials */
#define OB_BACKEND_CAP_RANGE_GET   0x2u  /**< get with offset/length reads only that range */
#define OB_BACKEND_CAP_LOCAL       0x4u  /**< data is on a local file system */
/**
 * The vault is far away (a network round trip per request, as a cloud store):
 * transfers gain from running several at once, so the engine keeps more of
 * them in flight (parallel uploads of packs, parallel ranged reads when
 * restoring). The engine asks for capabilities, never for a back end's kind.
 */
#define OB_BACKEND_CAP_REMOTE      0x8u

typedef struct ob_backend ob_backend;

/** Called once per listed object; return non-zero to stop (list returns that value). */
typedef int (*ob_backend_list_cb)(const char *name, uint64_t size, void *payload);

/**
 * Paces the bytes a back end moves (see set_pacer). Called before each piece of
 * an object goes, with the bytes still to go (want >= 1); waits as long as the
 * link needs, then returns how many may go now: want, or fewer, and then a
 * multiple of 4096. Called from any thread that transfers.
 */
typedef size_t (*ob_backend_pace_cb)(void *payload, size_t want);

struct ob_backend {
	unsigned int version;  /**< OB_BACKEND_VERSION */

	/** Store an object create-only: OB_EEXISTS if name exists (its data unchanged). */
	int (*put)(ob_backend *be, const char *name, const void *data, size_t len);

	/**
	 * Read an object, or len bytes of it from offset (len 0: to the end).
	 * *out (malloc'd, the caller frees with free()) and *out_len receive the bytes.
	 * OB_ENOTFOUND if absent; a range past the end is OB_EINVALID.
	 */
	int (*get)(void **out, size_t *out_len, ob_backend *be, const char *name,
		uint64_t offset, size_t len);

	/** Size of an object, or OB_ENOTFOUND. */
	int (*stat)(uint64_t *out_size, ob_backend *be, const char *name);

	/** List the objects whose names start with prefix (any order). */
	int (*list)(ob_backend *be, const char *prefix, ob_backend_list_cb cb, void *payload);

	/** Delete an object (OB_ENOTFOUND if absent, OB_EACCESS if not allowed). */
	int (*remove)(ob_backend *be, const char *name);

	/** OB_BACKEND_CAP_* bits. */
	unsigned int (*capabilities)(ob_backend *be);

	/** Free the back end. */
	void (*free)(ob_backend *be);

	/*
	 * Optional (NULL when the back end has no such notion): store create-only
	 * like put, visible whole at once, but not yet durable; sync makes every
	 * object stored that way before the call durable. A caller that records an
	 * object as stored must sync first. Lets the local back end overlap
	 * flushing with work instead of syncing each pack as it is written.
	 */
	int (*put_nosync)(ob_backend *be, const char *name, const void *data, size_t len);
	int (*sync)(ob_backend *be);

	/*
	 * Optional: remove what interrupted puts left under prefix (temporary
	 * files). The caller guarantees that no put is under way there.
	 */
	int (*cleanup)(ob_backend *be, const char *prefix);

	/*
	 * Optional, version 2 and later: from now on, put, put_nosync and get move
	 * each object in the pieces that pace grants (pace NULL: at once again).
	 * A throttling wrapper sets it before any transfer, so that a large object
	 * goes at the rate over its whole transfer instead of in one burst followed
	 * by a wait. payload is borrowed and outlives the back end's use of it.
	 */
	void (*set_pacer)(ob_backend *be, ob_backend_pace_cb pace, void *payload);

	/*
	 * Optional, version 3 and later: when the storage recorded the object's
	 * creation, in seconds since 1970 UTC (OB_ENOTFOUND if absent). A time no
	 * writer can set: the file's status-change time on a local folder (a put
	 * links it into place; nothing sets it back but the clock), the blob's
	 * creation time on Azure (set by the service). The soft-delete window is
	 * measured with it (docs/SECURITY.md); a back end without it purges nothing.
	 */
	int (*stat_created)(int64_t *out_unix_seconds, ob_backend *be, const char *name);
};

/**
 * The local-directory back end, rooted at an existing folder. Objects are files;
 * puts go to a temporary file that is synced and then linked into place.
 * *out: out->free(out).
 */
OB_EXTERN(int) ob_backend_local_new(ob_backend **out, const char *root);

/** Whether a name is acceptable to every back end (1) or not (0). */
OB_EXTERN(int) ob_backend_name_valid(const char *name);

/*
 * Wrappers (throttling, retry, logging) are back ends that pass calls on to an
 * inner one. ob_backend_wrapper_init fills a wrapper with forwarding functions,
 * so that the wrapper then replaces only the members it changes:
 *
 *     typedef struct { ob_backend_wrapper w; ...state... } my_wrapper;
 *     ob_backend_wrapper_init(&m->w, inner);
 *     m->w.parent.put = my_put;        // and free, to release the wrapper itself
 *     *out = &m->w.parent;
 *
 * inner comes first so that the forwarding functions find it at the same place
 * whatever size struct ob_backend grows to (the library and a wrapper built
 * against an older header agree on where inner is).
 */
typedef struct ob_backend_wrapper {
	ob_backend *inner;    /**< the wrapped back end, owned by the wrapper */
	ob_backend parent;    /**< the interface the wrapper offers: pass &parent on */
} ob_backend_wrapper;

/** The wrapper whose parent be is (be: a back end started with ob_backend_wrapper_init). */
#define OB_BACKEND_WRAPPER(be) \
	((ob_backend_wrapper *)(void *)((char *)(be) - offsetof(ob_backend_wrapper, parent)))

/**
 * Start a wrapper around inner (which it then owns): version OB_BACKEND_VERSION,
 * and every member forwards to inner. The optional members (put_nosync, sync,
 * cleanup, set_pacer, stat_created) forward only when inner has them, and are NULL otherwise,
 * so a caller still sees what inner offers. The forwarding free frees inner only:
 * a wrapper with memory of its own replaces free and calls ob_backend_forward_free
 * (or inner->free) from its own.
 */
OB_EXTERN(void) ob_backend_wrapper_init(ob_backend_wrapper *w, ob_backend *inner);

/*
 * The forwarding functions, for a wrapper's replacement that passes the call on
 * after its own work. be is the wrapper's parent; each calls the same member of
 * OB_BACKEND_WRAPPER(be)->inner.
 */
OB_EXTERN(int) ob_backend_forward_put(ob_backend *be, const char *name, const void *data, size_t len);
OB_EXTERN(int) ob_backend_forward_get(void **out, size_t *out_len, ob_backend *be, const char *name,
	uint64_t offset, size_t len);
OB_EXTERN(int) ob_backend_forward_stat(uint64_t *out_size, ob_backend *be, const char *name);
OB_EXTERN(int) ob_backend_forward_list(ob_backend *be, const char *prefix, ob_backend_list_cb cb, void *payload);
OB_EXTERN(int) ob_backend_forward_remove(ob_backend *be, const char *name);
OB_EXTERN(unsigned int) ob_backend_forward_capabilities(ob_backend *be);
OB_EXTERN(void) ob_backend_forward_free(ob_backend *be);
OB_EXTERN(int) ob_backend_forward_put_nosync(ob_backend *be, const char *name, const void *data, size_t len);
OB_EXTERN(int) ob_backend_forward_sync(ob_backend *be);
OB_EXTERN(int) ob_backend_forward_cleanup(ob_backend *be, const char *prefix);
OB_EXTERN(void) ob_backend_forward_set_pacer(ob_backend *be, ob_backend_pace_cb pace, void *payload);
OB_EXTERN(int) ob_backend_forward_stat_created(int64_t *out_unix_seconds, ob_backend *be, const char *name);

#ifdef __cplusplus
}
#endif
#endif
