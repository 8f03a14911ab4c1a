/* Tree blobs: the encoding of folder entries, sorted by name. */
#include "vault/tree.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

#define TREE_MAGIC "OBTR"

static int put16(ob_buf *b, uint32_t v)
{
	uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	return ob_buf_put(b, p, 2);
}

static int put32(ob_buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	return ob_buf_put(b, p, 4);
}

static int put64(ob_buf *b, uint64_t v)
{
	uint8_t p[8];
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return ob_buf_put(b, p, 8);
}

static int put_str16(ob_buf *b, const char *s, size_t len)
{
	int error;

	if (len > 0xffff)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A name is longer than 65535 bytes.");
	if ((error = put16(b, (uint32_t)len)) < 0)
		return error;
	return ob_buf_put(b, s, len);
}

int ob_entry_encode(ob_buf *b, const ob_entry *e)
{
	int error = 0;

	if ((error = ob_buf_put(b, &e->type, 1)) < 0 ||
	    (error = put_str16(b, e->name, e->name_len)) < 0 ||
	    (error = put32(b, e->mode)) < 0 || (error = put32(b, e->uid)) < 0 || (error = put32(b, e->gid)) < 0 ||
	    (error = put_str16(b, e->user ? e->user : "", e->user_len)) < 0 ||
	    (error = put_str16(b, e->group ? e->group : "", e->group_len)) < 0 ||
	    (error = put64(b, (uint64_t)e->mtime_ns)) < 0 || (error = put64(b, (uint64_t)e->ctime_ns)) < 0 ||
	    (error = put64(b, e->size)) < 0 || (error = put64(b, e->inode)) < 0 || (error = put64(b, e->dev)) < 0 ||
	    (error = put32(b, e->nlink)) < 0 || (error = put64(b, e->rdev)) < 0 ||
	    (error = ob_buf_put(b, &e->flags, 1)) < 0 ||
	    (error = put32(b, e->xattr_count)) < 0 ||
	    (error = put32(b, (uint32_t)e->xattrs_len)) < 0 ||
	    (error = ob_buf_put(b, e->xattrs, e->xattrs_len)) < 0)
		return error;
	switch (e->type) {
	case OB_TREE_FILE:
		if ((error = put32(b, (uint32_t)e->chunk_count)) < 0)
			return error;
		return ob_buf_put(b, e->chunks, e->chunk_count * 32);
	case OB_TREE_DIR:
		return ob_buf_put(b, e->subtree, 32);
	case OB_TREE_SYMLINK:
		if ((error = put32(b, (uint32_t)e->target_len)) < 0)
			return error;
		return ob_buf_put(b, e->target, e->target_len);
	default:
		return 0;
	}
}

typedef struct {
	const uint8_t *p;
	size_t left;
	int bad;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t get_n(reader *r, int n)
{
	const uint8_t *p = take(r, (size_t)n);
	uint64_t v = 0;
	int i;

	if (!p)
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static const char *get_str(reader *r, size_t *len, int width)
{
	*len = (size_t)get_n(r, width);
	return (const char *)take(r, *len);
}

int ob_entry_decode(ob_entry *e, const uint8_t *data, size_t len)
{
	reader r = { data, len, 0 };

	memset(e, 0, sizeof(*e));
	e->type = (uint8_t)get_n(&r, 1);
	e->name = get_str(&r, &e->name_len, 2);
	e->mode = (uint32_t)get_n(&r, 4);
	e->uid = (uint32_t)get_n(&r, 4);
	e->gid = (uint32_t)get_n(&r, 4);
	e->user = get_str(&r, &e->user_len, 2);
	e->group = get_str(&r, &e->group_len, 2);
	e->mtime_ns = (int64_t)get_n(&r, 8);
	e->ctime_ns = (int64_t)get_n(&r, 8);
	e->size = get_n(&r, 8);
	e->inode = get_n(&r, 8);
	e->dev = get_n(&r, 8);
	e->nlink = (uint32_t)get_n(&r, 4);
	e->rdev = get_n(&r, 8);
	e->flags = (uint8_t)get_n(&r, 1);
	e->xattr_count = (uint32_t)get_n(&r, 4);
	e->xattrs_len = (size_t)get_n(&r, 4);
	e->xattrs = take(&r, e->xattrs_len);
	switch (e->type) {
	case OB_TREE_FILE:
		e->chunk_count = (size_t)get_n(&r, 4);
		if (!r.bad && e->chunk_count > r.left / 32)
			r.bad = 1;
		e->chunks = take(&r, e->chunk_count * 32);
		break;
	case OB_TREE_DIR:
		e->subtree = take(&r, 32);
		break;
	case OB_TREE_SYMLINK:
		e->target = get_str(&r, &e->target_len, 4);
		break;
	case OB_TREE_FIFO: case OB_TREE_CHARDEV: case OB_TREE_BLOCKDEV: case OB_TREE_SOCKET:
		break;
	default:
		r.bad = 1;
	}
	if (r.bad || r.left != 0 || e->name_len == 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A tree entry is malformed.");
	/* Check the xattr list is well formed now, so that readers can trust it. */
	{
		size_t pos = 0, n = 0;
		const char *xn;
		const uint8_t *xv;
		size_t xnl, xvl;
		int rc;
		while ((rc = ob_xattr_next(e, &pos, &xn, &xnl, &xv, &xvl)) == 1)
			n++;
		if (rc < 0 || n != e->xattr_count)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A tree entry's extended attributes are malformed.");
	}
	return 0;
}

int ob_xattr_next(const ob_entry *e, size_t *pos, const char **name, size_t *name_len, const uint8_t **value,
	size_t *value_len)
{
	reader r;

	if (*pos >= e->xattrs_len)
		return 0;
	r.p = e->xattrs + *pos;
	r.left = e->xattrs_len - *pos;
	r.bad = 0;
	*name = get_str(&r, name_len, 2);
	*value = (const uint8_t *)get_str(&r, value_len, 4);
	if (r.bad || *name_len == 0)
		return -1;
	*pos = e->xattrs_len - r.left;
	return 1;
}

int ob_tree_builder_add(ob_tree_builder *tb, const uint8_t *encoded, size_t len)
{
	int error;

	if (tb->count == tb->cap) {
		size_t cap = tb->cap ? tb->cap * 2 : 16;
		size_t *o = realloc(tb->offsets, cap * sizeof(*o));
		if (!o)
			return ob_err_nomem();
		tb->offsets = o;
		tb->cap = cap;
	}
	tb->offsets[tb->count] = tb->data.len;
	if ((error = put32(&tb->data, (uint32_t)len)) < 0 || (error = ob_buf_put(&tb->data, encoded, len)) < 0)
		return error;
	tb->count++;
	return 0;
}

/* Entries sort by name, bytewise; the name sits after the length prefix and the type byte. */
static _Thread_local const uint8_t *sort_base;

static int by_name(const void *a, const void *b)
{
	const uint8_t *x = sort_base + *(const size_t *)a + 5, *y = sort_base + *(const size_t *)b + 5;
	size_t xl = (size_t)x[0] | (size_t)x[1] << 8, yl = (size_t)y[0] | (size_t)y[1] << 8;
	int c = memcmp(x + 2, y + 2, xl < yl ? xl : yl);

	return c ? c : (xl < yl ? -1 : xl > yl);
}

int ob_tree_builder_finish(ob_buf *out, ob_tree_builder *tb)
{
	uint8_t head[9];
	size_t i;
	int error;

	/* qsort has no context argument: the base is thread-local. */
	if (tb->count > 1) {
		sort_base = (const uint8_t *)tb->data.data;
		qsort(tb->offsets, tb->count, sizeof(size_t), by_name);
	}
	memcpy(head, TREE_MAGIC, 4);
	head[4] = 1;
	head[5] = (uint8_t)tb->count;
	head[6] = (uint8_t)(tb->count >> 8);
	head[7] = (uint8_t)(tb->count >> 16);
	head[8] = (uint8_t)(tb->count >> 24);
	if ((error = ob_buf_put(out, head, sizeof(head))) < 0 || (error = ob_buf_grow(out, tb->data.len)) < 0)
		return error;
	for (i = 0; i < tb->count; i++) {
		const uint8_t *p = (const uint8_t *)tb->data.data + tb->offsets[i];
		size_t len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
		if ((error = ob_buf_put(out, p, len + 4)) < 0)
			return error;
	}
	return 0;
}

void ob_tree_builder_dispose(ob_tree_builder *tb)
{
	free(tb->data.data);
	free(tb->offsets);
	memset(tb, 0, sizeof(*tb));
}

int ob_tree_parse(const uint8_t *data, size_t len, ob_tree_cb cb, void *payload)
{
	reader r = { data, len, 0 };
	const uint8_t *magic = take(&r, 4);
	uint64_t version = get_n(&r, 1), count = get_n(&r, 4), i;
	int error;

	if (r.bad || memcmp(magic, TREE_MAGIC, 4) != 0 || version != 1)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A tree is malformed.");
	for (i = 0; i < count; i++) {
		ob_entry e;
		size_t elen = (size_t)get_n(&r, 4);
		const uint8_t *p = take(&r, elen);
		if (!p)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A tree is truncated.");
		if ((error = ob_entry_decode(&e, p, elen)) < 0)
			return error;
		if ((error = cb(&e, payload)) != 0)
			return error;
	}
	if (r.left != 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "A tree has trailing bytes.");
	return 0;
}
