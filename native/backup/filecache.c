/*
 * The file cache: what the last backup read, so that unchanged files are not
 * read again. The rows of the files a run reads wait in the catalog's staging
 * table until the point is committed (catalog/backup.h), so that memory does not
 * grow with the number of files: the syncer stages the rows of finished files
 * with each batch of packs it records.
 */
#define _GNU_SOURCE
#include "backup/backup_internal.h"

#include <stdlib.h>
#include <string.h>

void ob_backup_free_cache_list(ob_file_row *u)
{
	ob_file_row *next;

	for (; u; u = next) {
		next = u->next;
		free(u->dir);
		free(u->name);
		free(u->entry);
		free(u);
	}
}

void ob_backup_dircache_dispose(dircache *dc)
{
	size_t i;

	for (i = 0; i < dc->n; i++) {
		free(dc->v[i].name);
		free(dc->v[i].entry);
	}
	free(dc->v);
	memset(dc, 0, sizeof(*dc));
}

static int cached_cmp(const void *a, const void *b)
{
	return strcmp(((const cached *)a)->name, ((const cached *)b)->name);
}

/* One row of the folder: copied (the catalog's copy lasts for the call). Non-zero stops: out of memory. */
static int dircache_add(const ob_file_row *row, void *payload)
{
	dircache *dc = payload;
	cached *c;

	if (dc->n == dc->cap) {
		size_t ncap = dc->cap ? dc->cap * 2 : 64;
		cached *v = realloc(dc->v, ncap * sizeof(*v));
		if (!v)
			return 1;
		dc->v = v;
		dc->cap = ncap;
	}
	c = &dc->v[dc->n];
	c->name = strdup(row->name);
	c->size = row->size;
	c->mtime_ns = row->mtime_ns;
	c->ctime_ns = row->ctime_ns;
	c->inode = row->inode;
	c->entry_len = row->entry_len;
	c->entry = malloc(c->entry_len ? c->entry_len : 1);
	if (!c->name || !c->entry) {
		free(c->name);
		free(c->entry);
		return 1;
	}
	memcpy(c->entry, row->entry, c->entry_len);
	dc->n++;
	return 0;
}

void ob_backup_dircache_load(dircache *dc, ob_file_cache_reader *r, int64_t ds, const char *dir)
{
	memset(dc, 0, sizeof(*dc));
	ob_file_cache_read_dir(r, ds, dir, dircache_add, dc);
	if (dc->n > 1)
		qsort(dc->v, dc->n, sizeof(cached), cached_cmp);
}

const cached *ob_backup_dircache_find(const dircache *dc, const char *name)
{
	cached key = { (char *)name, 0, 0, 0, 0, NULL, 0 };

	return dc->n ? bsearch(&key, dc->v, dc->n, sizeof(cached), cached_cmp) : NULL;
}

/* The point is committed: the rows of the files it read become the file cache, in one transaction. */
int ob_backup_write_cache(state *s)
{
	int error = ob_file_cache_commit(s->prm->agent->cat, s->cache_updates);

	ob_backup_free_cache_updates(s);
	return error;
}

void ob_backup_free_cache_updates(state *s)
{
	ob_backup_free_cache_list(s->cache_updates);
	s->cache_updates = NULL;
}
