/*
 * Default forwarding for back-end wrappers (include/obagent/sys/backend.h): a
 * wrapper starts as one that passes every call on to its inner back end, and
 * then replaces only what it changes (native/storage/throttle.c).
 */
#include "obagent/sys/backend.h"

#define INNER(be) (OB_BACKEND_WRAPPER(be)->inner)

int ob_backend_forward_put(ob_backend *be, const char *name, const void *data, size_t len)
{
	return INNER(be)->put(INNER(be), name, data, len);
}

int ob_backend_forward_get(void **out, size_t *out_len, ob_backend *be, const char *name, uint64_t offset, size_t len)
{
	return INNER(be)->get(out, out_len, INNER(be), name, offset, len);
}

int ob_backend_forward_stat(uint64_t *out_size, ob_backend *be, const char *name)
{
	return INNER(be)->stat(out_size, INNER(be), name);
}

int ob_backend_forward_list(ob_backend *be, const char *prefix, ob_backend_list_cb cb, void *payload)
{
	return INNER(be)->list(INNER(be), prefix, cb, payload);
}

int ob_backend_forward_remove(ob_backend *be, const char *name)
{
	return INNER(be)->remove(INNER(be), name);
}

unsigned int ob_backend_forward_capabilities(ob_backend *be)
{
	return INNER(be)->capabilities(INNER(be));
}

void ob_backend_forward_free(ob_backend *be)
{
	if (be)
		INNER(be)->free(INNER(be));
}

int ob_backend_forward_put_nosync(ob_backend *be, const char *name, const void *data, size_t len)
{
	return INNER(be)->put_nosync(INNER(be), name, data, len);
}

int ob_backend_forward_sync(ob_backend *be)
{
	return INNER(be)->sync(INNER(be));
}

int ob_backend_forward_cleanup(ob_backend *be, const char *prefix)
{
	return INNER(be)->cleanup(INNER(be), prefix);
}

void ob_backend_forward_set_pacer(ob_backend *be, ob_backend_pace_cb pace, void *payload)
{
	INNER(be)->set_pacer(INNER(be), pace, payload);
}

int ob_backend_forward_stat_created(int64_t *out_unix_seconds, ob_backend *be, const char *name)
{
	return INNER(be)->stat_created(out_unix_seconds, INNER(be), name);
}

void ob_backend_wrapper_init(ob_backend_wrapper *w, ob_backend *inner)
{
	ob_backend *p = &w->parent;

	w->inner = inner;
	p->version = OB_BACKEND_VERSION;
	p->put = ob_backend_forward_put;
	p->get = ob_backend_forward_get;
	p->stat = ob_backend_forward_stat;
	p->list = ob_backend_forward_list;
	p->remove = ob_backend_forward_remove;
	p->capabilities = ob_backend_forward_capabilities;
	p->free = ob_backend_forward_free;
	/* What inner lacks, the wrapper lacks too: callers test these members for NULL. */
	p->put_nosync = inner->put_nosync ? ob_backend_forward_put_nosync : NULL;
	p->sync = inner->sync ? ob_backend_forward_sync : NULL;
	p->cleanup = inner->cleanup ? ob_backend_forward_cleanup : NULL;
	p->set_pacer = inner->version >= 2 && inner->set_pacer ? ob_backend_forward_set_pacer : NULL;
	p->stat_created = inner->version >= 3 && inner->stat_created ? ob_backend_forward_stat_created : NULL;
}
