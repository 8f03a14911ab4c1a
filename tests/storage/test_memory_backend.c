/*
 * The conformance suite over the in-memory back end of tests/support (the one
 * the fast vault tests run on): once as the owner sees a vault (delete allowed)
 * and once as an agent does (create, read and list only).
 */
#include "testutil.h"
#include "conformance.h"
#include "memory_backend.h"

#include <stdlib.h>

static ob_backend *memory_make(void *payload)
{
	ob_backend *be = NULL;

	if (ob_test_memory_backend_new(&be, *(unsigned int *)payload) < 0)
		return NULL;
	return be;
}

/* The same through a wrapper that forwards everything: what the throttle does around any back end. */
static void wrapped_free(ob_backend *be)
{
	ob_backend_wrapper *w = OB_BACKEND_WRAPPER(be);

	ob_backend_forward_free(be);
	free(w);
}

static ob_backend *wrapped_make(void *payload)
{
	ob_backend_wrapper *w = calloc(1, sizeof(*w));
	ob_backend *inner = memory_make(payload);

	if (!w || !inner) {
		free(w);
		if (inner)
			inner->free(inner);
		return NULL;
	}
	ob_backend_wrapper_init(w, inner);
	w->parent.free = wrapped_free;
	return &w->parent;
}

static void memory_destroy(void *payload)
{
	(void)payload;   /* nothing outlives the back end */
}

int main(void)
{
	unsigned int owner = OB_BACKEND_CAP_DELETE | OB_BACKEND_CAP_RANGE_GET, agent = OB_BACKEND_CAP_RANGE_GET;
	ob_conformance_factory f_owner = { memory_make, memory_destroy, &owner };
	ob_conformance_factory f_agent = { memory_make, memory_destroy, &agent };
	ob_conformance_factory f_wrapped = { wrapped_make, memory_destroy, &owner };
	ob_backend_wrapper w;
	ob_backend *be;
	int failed;

	ob_init();
	failed = ob_conformance_run("memory (owner)", &f_owner);
	failed += ob_conformance_run("memory (agent)", &f_agent);
	failed += ob_conformance_run("memory (through a wrapper)", &f_wrapped);
	/* A wrapper lacks what its inner back end lacks: stat_created NULL over one without it. */
	if (ob_test_memory_backend_new(&be, owner) < 0)
		return 1;
	be->stat_created = NULL;
	ob_backend_wrapper_init(&w, be);
	if (w.parent.stat_created != NULL)
		failed++;
	be->free(be);
	return failed;
}
