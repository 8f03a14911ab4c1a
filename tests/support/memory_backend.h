/*
 * An in-memory storage back end for fast tests: the interface of
 * include/obagent/sys/backend.h over a table in this process, passing the
 * conformance suite (tests/storage/test_memory_backend.c). Nothing touches a
 * disk, so a test of the vault layer's packs, index objects and seals runs in
 * milliseconds and can damage any byte it likes.
 */
#ifndef OB_TEST_MEMORY_BACKEND_H
#define OB_TEST_MEMORY_BACKEND_H

#include "obagent/sys/backend.h"
#include "vault/repo.h"

/**
 * A fresh, empty back end with these OB_BACKEND_CAP_* bits (without
 * OB_BACKEND_CAP_DELETE, remove answers OB_EACCESS: an agent's credentials).
 * *out: out->free(out). Safe to call from many threads at once.
 */
int ob_test_memory_backend_new(ob_backend **out, unsigned int caps);

/** How many objects the back end holds under prefix. */
size_t ob_test_memory_backend_count(ob_backend *be, const char *prefix);

/** Add one to the byte at offset of an object (damage); OB_ENOTFOUND or OB_EINVALID. */
int ob_test_memory_backend_flip(ob_backend *be, const char *name, uint64_t offset);

/**
 * Set the storage time of an object (stat_created reports the real time of its
 * put): what a test of the soft-delete window would otherwise wait days for.
 */
int ob_test_memory_backend_set_created(ob_backend *be, const char *name, int64_t when);

/**
 * A repository of one server (id OB_TEST_MEMORY_SERVER_ID) on a fresh memory back
 * end with these caps, with random keys: ob_repo is plain data (a back end, a
 * prefix and the keys), so the vault layer and the pipeline run on it without a
 * vault on disk. r: ob_repo_dispose.
 */
#define OB_TEST_MEMORY_SERVER_ID "00112233445566778899aabbccddeeff"
void ob_test_memory_repo(ob_repo *r, unsigned int caps);

#endif
