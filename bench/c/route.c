/*
 * The packet_io routing logic in plain C: the native limit the Python benchmarks compare to.
 *
 * A refcounted fixed pool (LIFO free list), sinks with a function-pointer handler, a source
 * holding its sinks in connection order, and a packet event queue as a ring buffer of
 * (sink, buf) events. No RTOS: the queued workload drains the ring where the processing
 * thread would run (after each send, before the producer's 1 ms sleep) and advances a
 * virtual clock by 1000 us.
 *
 *   route immediate N R   one source, three immediate sinks, N sends, best of R runs
 *   route queued N R      two queued sinks on one ring + one immediate sink, N sends
 *
 * Prints one line: "deliveries=D seconds=S checks=ok" (the best run). Exits 1 when the
 * counters do not add up (a leak, a drop, a fault), so a wrong build cannot pass as fast.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_COUNT 16
#define BUF_SIZE 64
#define QUEUE_SIZE 10
#define MAX_SINKS 8

struct pool;

struct buf {
	uint8_t ref;
	uint16_t len;
	struct pool *pool;
	struct buf *next_free;
	uint8_t data[BUF_SIZE];
};

struct pool {
	struct buf bufs[POOL_COUNT];
	struct buf *free;
	int avail;
	uint32_t alloc_failures;
};

struct sink;
typedef void (*handler_t)(struct sink *sink, struct buf *buf);

struct event_queue;

struct sink {
	handler_t handler;
	struct event_queue *queue; /* NULL: immediate */
	uint32_t handled_count;
	uint32_t dropped_count;
	uint64_t bytes;
};

struct event {
	struct sink *sink;
	struct buf *buf;
};

struct event_queue {
	struct event ring[QUEUE_SIZE];
	unsigned head, tail, count;
	uint32_t processed_count;
};

struct source {
	struct sink *sinks[MAX_SINKS];
	int n_sinks;
	uint32_t send_count;
	uint32_t queued_total;
};

static uint32_t faults;

static void pool_init(struct pool *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = POOL_COUNT - 1; i >= 0; i--) {
		p->bufs[i].pool = p;
		p->bufs[i].next_free = p->free;
		p->free = &p->bufs[i];
	}
	p->avail = POOL_COUNT;
}

static struct buf *buf_alloc(struct pool *p)
{
	struct buf *b = p->free;

	if (b == NULL) {
		p->alloc_failures++;
		return NULL;
	}
	p->free = b->next_free;
	p->avail--;
	b->ref = 1;
	b->len = 0;
	return b;
}

static void buf_unref(struct buf *b)
{
	if (--b->ref == 0) {
		struct pool *p = b->pool;

		b->next_free = p->free;
		p->free = b;
		p->avail++;
	}
}

static struct buf *buf_ref(struct buf *b)
{
	b->ref++;
	return b;
}

static int queue_put(struct event_queue *q, struct sink *sink, struct buf *buf)
{
	if (q->count == QUEUE_SIZE) {
		return -1;
	}
	q->ring[q->tail].sink = sink;
	q->ring[q->tail].buf = buf;
	q->tail = (q->tail + 1) % QUEUE_SIZE;
	q->count++;
	return 0;
}

static int queue_process(struct event_queue *q)
{
	struct event ev;

	if (q->count == 0) {
		return -1;
	}
	ev = q->ring[q->head];
	q->head = (q->head + 1) % QUEUE_SIZE;
	q->count--;
	ev.sink->handler(ev.sink, ev.buf);
	ev.sink->handled_count++;
	if (ev.buf->ref == 0) {
		faults++;
		return -2;
	}
	buf_unref(ev.buf);
	q->processed_count++;
	return 0;
}

static int source_send(struct source *src, struct buf *buf)
{
	int delivered = 0;

	src->send_count++;
	for (int i = 0; i < src->n_sinks; i++) {
		struct sink *sink = src->sinks[i];

		buf_ref(buf);
		if (sink->queue == NULL) {
			sink->handler(sink, buf);
			sink->handled_count++;
			if (buf->ref == 0) {
				faults++;
				continue;
			}
			buf_unref(buf);
			delivered++;
		} else if (queue_put(sink->queue, sink, buf) == 0) {
			delivered++;
		} else {
			buf_unref(buf);
			sink->dropped_count++;
		}
	}
	src->queued_total += delivered;
	return delivered;
}

static int source_send_consume(struct source *src, struct buf *buf)
{
	int ret = source_send(src, buf);

	buf_unref(buf);
	return ret;
}

__attribute__((noinline)) static void count_handler(struct sink *sink, struct buf *buf)
{
	sink->bytes += buf->len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One run; returns the deliveries, or -1 when the counters do not add up. */
static long run(int queued, long n, handler_t handler, double *seconds)
{
	static struct pool pool;
	static struct event_queue queue;
	struct sink sinks[3];
	struct source src;
	uint64_t now_us = 0;
	long deliveries = 0;
	double t0;

	pool_init(&pool);
	memset(&queue, 0, sizeof(queue));
	memset(sinks, 0, sizeof(sinks));
	memset(&src, 0, sizeof(src));
	faults = 0;
	for (int i = 0; i < 3; i++) {
		sinks[i].handler = handler;
		sinks[i].queue = (queued && i < 2) ? &queue : NULL;
		src.sinks[src.n_sinks++] = &sinks[i];
	}
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		struct buf *b = buf_alloc(&pool);

		if (b == NULL) {
			return -1;
		}
		deliveries += source_send_consume(&src, b);
		if (queued) {
			while (queue_process(&queue) == 0) {
			}
			now_us += 1000;
		}
	}
	*seconds = now_s() - t0;
	if (faults || pool.avail != POOL_COUNT || src.queued_total != (uint32_t)deliveries ||
	    deliveries != 3 * n || (queued && queue.processed_count != (uint32_t)(2 * n)) ||
	    (queued && now_us != (uint64_t)n * 1000)) {
		return -1;
	}
	return deliveries;
}

int main(int argc, char **argv)
{
	/* The handler comes through a table indexed at run time, so the compiler cannot
	 * inline it into the send loop: a real firmware's handlers live in other units. */
	handler_t handlers[] = {count_handler, NULL};
	int queued;
	long n;
	int repeats;
	double best = 0.0;
	long deliveries = 0;

	if (argc != 4 || (strcmp(argv[1], "immediate") && strcmp(argv[1], "queued"))) {
		fprintf(stderr, "usage: %s immediate|queued N REPEATS\n", argv[0]);
		return 2;
	}
	queued = strcmp(argv[1], "queued") == 0;
	n = atol(argv[2]);
	repeats = atoi(argv[3]);
	for (int r = 0; r < repeats; r++) {
		double s = 0.0;
		long d = run(queued, n, handlers[argc - 4], &s);

		if (d < 0) {
			fprintf(stderr, "route: counters do not add up\n");
			return 1;
		}
		if (r == 0 || s < best) {
			best = s;
		}
		deliveries = d;
	}
	printf("deliveries=%ld seconds=%.9f checks=ok\n", deliveries, best);
	return 0;
}
