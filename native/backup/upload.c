/* The uploaders: full packs to the vault. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *ob_backup_uploader_main(void *arg)
{
	state *s = arg;
	ob_backend *be = s->repo->vc.be;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		pack_out *po;
		char name[160];
		int error;

		/* Held: a pack being sent still counts against the queue's bound until it is stored. */
		if (!(po = (pack_out *)ob_queue_pop(&s->uploads, 1, SIZE_MAX, 1, NULL)))
			break;
		pthread_mutex_unlock(&s->lock);

		error = s->error ? s->error : ob_packer_finish(&po->p, s->repo, po->pack_id);
		if (error == 0) {
			ob_repo_pack_name(name, sizeof(name), s->repo, po->pack_id);
			po->size = po->p.data.len;
			error = be->put_nosync ? be->put_nosync(be, name, po->p.data.data, po->p.data.len)
					       : be->put(be, name, po->p.data.data, po->p.data.len);
			if (error == OB_EEXISTS) {
				ob_error_clear();
				error = 0;  /* the same bytes are there already */
			} else if (error == 0) {
				/* Counted once stored, even if the run fails later: a failed job says what it uploaded. */
				atomic_fetch_add(&s->pg->bytes_uploaded, po->size);
			}
		}

		pthread_mutex_lock(&s->lock);
		if (error < 0)
			ob_backup_fail(s, error);
		ob_queue_release(&s->uploads, 1, 0);
		/* The bytes are stored: keep only the blob list for the syncer. */
		ob_backup_pack_release(s, &(ob_packer){ po->p.data, NULL, 0, 0, 0 });
		po->p.data.data = NULL;
		po->p.data.len = po->p.data.cap = 0;
		ob_queue_push(&s->written, &po->node, &po->node, 1, 0);
	}
	if (--s->uploaders_active == 0)
		ob_queue_close(&s->written);   /* the last uploader out: the syncer may finish */
	pthread_mutex_unlock(&s->lock);
	return NULL;
}
