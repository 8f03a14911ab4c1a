/* The bounded queue between threads (util/queue.h). */
#include "util/queue.h"

#include <string.h>

int ob_queue_init(ob_queue *q, pthread_mutex_t *lock, size_t max_items, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->lock = lock;
	q->max_items = max_items;
	q->max_bytes = max_bytes;
	pthread_cond_init(&q->readable, NULL);
	pthread_cond_init(&q->writable, NULL);
	return 0;
}

void ob_queue_dispose(ob_queue *q)
{
	pthread_cond_destroy(&q->readable);
	pthread_cond_destroy(&q->writable);
}

static int over(const ob_queue *q, size_t count, size_t bytes)
{
	return (q->max_items && q->items + count > q->max_items) || (q->max_bytes && q->bytes + bytes > q->max_bytes);
}

void ob_queue_push(ob_queue *q, ob_queue_node *first, ob_queue_node *last, size_t count, size_t bytes)
{
	if (!first)
		return;
	while (over(q, count, bytes) && q->items > 0 && !q->stopped)
		pthread_cond_wait(&q->writable, q->lock);
	last->next = NULL;
	if (q->tail)
		q->tail->next = first;
	else
		q->head = first;
	q->tail = last;
	q->items += count;
	q->bytes += bytes;
	pthread_cond_broadcast(&q->readable);
}

ob_queue_node *ob_queue_pop(ob_queue *q, size_t max, size_t max_bytes, int hold, size_t *out_count)
{
	ob_queue_node *first, *last = NULL;
	size_t n = 0, taken = 0;

	while (!q->head && !q->closed)
		pthread_cond_wait(&q->readable, q->lock);
	first = q->head;
	while (n < max && q->head && taken < max_bytes) {
		last = q->head;
		taken += last->bytes;
		q->head = last->next;
		n++;
	}
	if (last)
		last->next = NULL;
	else
		first = NULL;
	if (!q->head)
		q->tail = NULL;
	if (n && !hold)
		ob_queue_release(q, n, taken);
	if (out_count)
		*out_count = n;
	return first;
}

void ob_queue_release(ob_queue *q, size_t count, size_t bytes)
{
	q->items -= count;
	q->bytes -= bytes;
	pthread_cond_broadcast(&q->writable);
}

void ob_queue_close(ob_queue *q)
{
	q->closed = 1;
	pthread_cond_broadcast(&q->readable);
	pthread_cond_broadcast(&q->writable);
}

void ob_queue_stop(ob_queue *q)
{
	q->stopped = 1;
	pthread_cond_broadcast(&q->writable);
}

ob_queue_node *ob_queue_take_all(ob_queue *q)
{
	ob_queue_node *all = q->head;

	q->head = q->tail = NULL;
	q->items = q->bytes = 0;
	return all;
}
