/*
 * Internal: the bounded queue between threads, first in, first out. It takes
 * the caller's mutex instead of having its own: the backup pipeline keeps its
 * queues, folder trees and packers under one lock, and queues a full pack while
 * it holds that lock. Every function is called with that mutex held.
 *
 * Nodes are the caller's (put an ob_queue_node first in the queued struct); the
 * queue never allocates or frees one. A node weighs `bytes` against max_bytes.
 */
#ifndef OB_NATIVE_QUEUE_H
#define OB_NATIVE_QUEUE_H

#include <pthread.h>
#include <stddef.h>

typedef struct ob_queue_node {
	struct ob_queue_node *next;
	size_t bytes;
} ob_queue_node;

typedef struct ob_queue {
	pthread_mutex_t *lock;          /* the caller's */
	pthread_cond_t readable;        /* something queued, or closed */
	pthread_cond_t writable;        /* room, or stopped */
	ob_queue_node *head, *tail;
	size_t items, bytes;            /* queued, and taken but held (ob_queue_pop's hold) */
	size_t max_items, max_bytes;    /* 0: no bound */
	int closed;                     /* nothing more comes: a pop of an empty queue returns 0 */
	int stopped;                    /* pushes no longer wait for room */
} ob_queue;

/** Bounds of 0 are none. lock guards the queue (the caller keeps it). */
int ob_queue_init(ob_queue *q, pthread_mutex_t *lock, size_t max_items, size_t max_bytes);
/** Frees no node: take them first (ob_queue_take_all). */
void ob_queue_dispose(ob_queue *q);

/**
 * Append a chain of count nodes weighing bytes in all (first..last, linked by
 * next). Waits while they would pass a bound and the queue holds something (a
 * chain larger than the bounds goes into an empty queue), unless stopped.
 */
void ob_queue_push(ob_queue *q, ob_queue_node *first, ob_queue_node *last, size_t count, size_t bytes);

/**
 * Take up to max nodes, in order, as a chain (NULL-terminated; their count in
 * *out_count), stopping once those taken weigh max_bytes or more. Waits until
 * something is queued or the queue is closed; NULL when it is closed and empty.
 * With hold, the nodes taken still count against the bounds until
 * ob_queue_release (a pack being sent is still in flight).
 */
ob_queue_node *ob_queue_pop(ob_queue *q, size_t max, size_t max_bytes, int hold, size_t *out_count);
/** Held nodes are done: count nodes weighing bytes leave the bounds. */
void ob_queue_release(ob_queue *q, size_t count, size_t bytes);

/** Nothing more will be pushed: pops return what is left, then 0. */
void ob_queue_close(ob_queue *q);
/** Pushes stop waiting for room (the run failed; the consumers drain what is queued). */
void ob_queue_stop(ob_queue *q);
/** Without waiting: the whole chain queued (NULL when empty); the queue is empty after. */
ob_queue_node *ob_queue_take_all(ob_queue *q);

#endif
