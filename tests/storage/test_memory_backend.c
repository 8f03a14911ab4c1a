/*
 * The conformance suite over the in-memory back end of tests/support (the one
 * the fast vault tests run on): once as the owner sees a vault (delete allowed)
 * and once as an agent does (create, read and list only).
 */
#include "testutil.h"
#include "conformance.h"
#include "memory_backend.h"

static ob_backend *memory_make(void *payload)
{
	ob_backend *be = NULL;

	if (ob_test_memory_backend_new(&be, *(unsigned int *)payload) < 0)
		return NULL;
	return be;
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
	int failed;

	ob_init();
	failed = ob_conformance_run("memory (owner)", &f_owner);
	failed += ob_conformance_run("memory (agent)", &f_agent);
	return failed;
}
