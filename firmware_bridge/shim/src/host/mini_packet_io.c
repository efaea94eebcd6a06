/*
 * packet_io and net_buf emulation of the shim's host build (see mini_packet_io.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include "mini_packet_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/shim_errno.h"
#include "mini_kernel.h"

/* net_buf */
struct shim_buf {
	uint8_t ref;
	uint8_t pool;
	uint16_t index;
	uint16_t len;
	uint32_t nth;
	uint8_t *data;
	struct shim_buf *frags;
};

struct pool {
	bool used;
	uint16_t count;
	uint16_t size;
	uint16_t uninit;
	uint16_t nfree;
	uint16_t min_free;
	uint32_t allocs;
	struct shim_buf *bufs;
	uint8_t *storage;
	uint16_t *lifo;
};

struct packet_event {
	uint8_t sink;
	struct shim_buf *buf;
};

struct conn {
	bool used;
	bool linked;
	uint8_t source;
	uint8_t sink;
};

struct source {
	bool used;
	uint8_t list[SHIM_MAX_CONNECTIONS];
	uint8_t n;
	uint32_t send_count;
	uint32_t queued_total;
};

struct queue {
	bool used;
	struct mk_msgq msgq;
	uint8_t *storage;
	uint32_t processed;
	struct mk_thread *thread;
};

struct sink {
	bool used;
	uint8_t queue;
	uint32_t handled;
	uint32_t dropped;
};

static struct pool pools[SHIM_MAX_POOLS];
static struct source sources[SHIM_MAX_SOURCES];
static struct sink sinks[SHIM_MAX_SINKS];
static struct queue queues[SHIM_MAX_QUEUES];
static struct conn conns[SHIM_MAX_CONNECTIONS];
static struct host_ctx *host;

/* ------------------------------------------------------------------ net_buf */

static struct shim_buf *buf_alloc(void *ctx, uint8_t id)
{
	struct pool *p = &pools[id];
	struct shim_buf *b;

	(void)ctx;
	if (id >= SHIM_MAX_POOLS || !p->used) {
		return NULL;
	}
	if (p->nfree > 0U) {
		b = &p->bufs[p->lifo[--p->nfree]];
	} else if (p->uninit > 0U) {
		b = &p->bufs[p->count - p->uninit];
		p->uninit--;
	} else {
		return NULL;
	}
	if ((uint16_t)(p->nfree + p->uninit) < p->min_free) {
		p->min_free = (uint16_t)(p->nfree + p->uninit);
	}
	b->ref = 1;
	b->len = 0;
	b->frags = NULL;
	b->nth = p->allocs++;
	return b;
}

static void buf_unref(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	while (b != NULL) {
		struct pool *p = &pools[b->pool];
		struct shim_buf *next;

		if (b->ref == 0U) {
			shim_core_console(host->core, "ASSERTION FAIL [buf->ref] net_buf_unref: "
						      "buffer already freed");
			return;
		}
		if (--b->ref > 0U) {
			return;
		}
		next = b->frags;
		b->frags = NULL;
		b->len = 0;
		p->lifo[p->nfree++] = b->index;
		b = next;
	}
}

static struct shim_buf *buf_ref(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	b->ref++;
	return b;
}

static int buf_add(void *ctx, struct shim_buf *b, const uint8_t *data, size_t len)
{
	(void)ctx;
	if (len > (size_t)(pools[b->pool].size - b->len)) {
		return -SHIM_EMSGSIZE;
	}
	memcpy(b->data + b->len, data, len);
	b->len = (uint16_t)(b->len + len);
	return 0;
}

static size_t buf_tailroom(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	return (size_t)(pools[b->pool].size - b->len);
}

static void buf_frag_add(void *ctx, struct shim_buf *head, struct shim_buf *frag)
{
	(void)ctx;
	while (head->frags != NULL) {
		head = head->frags;
	}
	head->frags = frag;
}

static const uint8_t *buf_data(void *ctx, struct shim_buf *b, size_t *len)
{
	(void)ctx;
	*len = b->len;
	return b->data;
}

static struct shim_buf *buf_next(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	return b->frags;
}

static void buf_info(void *ctx, struct shim_buf *b, struct shim_bufref *ref)
{
	(void)ctx;
	ref->pool = b->pool;
	ref->index = b->index;
	ref->nth = b->nth;
}

/* ------------------------------------------------------------------ objects */

static void free_all(void)
{
	for (int i = 0; i < SHIM_MAX_POOLS; i++) {
		free(pools[i].bufs);
		free(pools[i].storage);
		free(pools[i].lifo);
	}
	for (int i = 0; i < SHIM_MAX_QUEUES; i++) {
		free(queues[i].storage);
	}
	memset(pools, 0, sizeof(pools));
	memset(sources, 0, sizeof(sources));
	memset(sinks, 0, sizeof(sinks));
	memset(queues, 0, sizeof(queues));
	memset(conns, 0, sizeof(conns));
}

static void reset(void *ctx, uint8_t flags)
{
	struct host_ctx *h = ctx;

	mk_reset();
	free_all();
	h->running = false;
	h->stalled = false;
	h->stats = (flags & SHIM_FEAT_STATS) != 0U;
	h->runtime = (flags & SHIM_FEAT_RUNTIME) != 0U;
}

static int pool_create(void *ctx, uint8_t id, uint16_t count, uint16_t size, uint8_t ud,
		       const char *name)
{
	struct pool *p = &pools[id];

	(void)ctx;
	(void)ud;
	(void)name;
	p->bufs = calloc(count, sizeof(*p->bufs));
	p->storage = calloc(count, size != 0U ? size : 1U);
	p->lifo = calloc(count, sizeof(*p->lifo));
	if (p->bufs == NULL || p->storage == NULL || p->lifo == NULL) {
		free(p->bufs);
		free(p->storage);
		free(p->lifo);
		memset(p, 0, sizeof(*p));
		return -SHIM_ENOMEM;
	}
	for (uint16_t i = 0; i < count; i++) {
		p->bufs[i].pool = id;
		p->bufs[i].index = i;
		p->bufs[i].data = p->storage + (size_t)i * size;
	}
	p->count = count;
	p->size = size;
	p->uninit = count;
	p->min_free = count;
	p->used = true;
	return 0;
}

static int source_create(void *ctx, uint8_t id, const char *name)
{
	(void)ctx;
	(void)name;
	sources[id].used = true;
	return 0;
}

static int process(void *ctx, uint8_t id, int32_t tmo);

static void queue_thread(void *arg)
{
	uint8_t id = (uint8_t)(uintptr_t)arg;

	for (;;) {
		(void)process(host, id, MK_FOREVER);
	}
}

static int queue_create(void *ctx, uint8_t id, const struct shim_queue_def *def)
{
	struct queue *q = &queues[id];

	(void)ctx;
	q->storage = calloc(def->size, sizeof(struct packet_event));
	if (q->storage == NULL) {
		return -SHIM_ENOMEM;
	}
	mk_msgq_init(&q->msgq, q->storage, sizeof(struct packet_event), def->size);
	q->thread = mk_thread_create(queue_thread, (void *)(uintptr_t)id, def->prio,
				     def->thread_name);
	if (q->thread == NULL) {
		free(q->storage);
		q->storage = NULL;
		return -SHIM_ENOMEM;
	}
	q->used = true;
	return 0;
}

static int sink_create(void *ctx, uint8_t id, uint8_t queue, const char *name)
{
	(void)ctx;
	(void)name;
	sinks[id].used = true;
	sinks[id].queue = queue;
	return 0;
}

static struct conn *conn_for(uint8_t source, uint8_t sink, bool create)
{
	struct conn *free_slot = NULL;

	for (int i = 0; i < SHIM_MAX_CONNECTIONS; i++) {
		if (conns[i].used && conns[i].source == source && conns[i].sink == sink) {
			return &conns[i];
		}
		if (!conns[i].used && free_slot == NULL) {
			free_slot = &conns[i];
		}
	}
	if (!create || free_slot == NULL) {
		return NULL;
	}
	*free_slot = (struct conn){ .used = true, .source = source, .sink = sink };
	return free_slot;
}

/* packet_connection_add and the init-time wiring of a static connection */
static int connect(void *ctx, uint8_t source, uint8_t sink, bool runtime)
{
	struct conn *c = conn_for(source, sink, true);
	struct source *s = &sources[source];

	(void)ctx;
	(void)runtime;
	if (c == NULL) {
		return -SHIM_ENOMEM;
	}
	if (c->linked) {
		return -SHIM_EBUSY;
	}
	for (uint8_t i = 0; i < s->n; i++) {
		if (conns[s->list[i]].sink == sink) {
			return -SHIM_EALREADY;
		}
	}
	if (s->n >= SHIM_MAX_CONNECTIONS) {
		return -SHIM_ENOMEM;
	}
	s->list[s->n++] = (uint8_t)(c - conns);
	c->linked = true;
	return 0;
}

static int disconnect(void *ctx, uint8_t source, uint8_t sink)
{
	struct conn *c = conn_for(source, sink, false);
	struct source *s = &sources[source];

	(void)ctx;
	if (c == NULL || !c->linked) {
		return -SHIM_ENOENT;
	}
	for (uint8_t i = 0; i < s->n; i++) {
		if (s->list[i] == (uint8_t)(c - conns)) {
			memmove(&s->list[i], &s->list[i + 1], (size_t)(s->n - i - 1));
			s->n--;
			break;
		}
	}
	c->linked = false;
	return 0;
}

/* ------------------------------------------------------------------ packet_io */

static int32_t remaining(int32_t tmo, uint64_t end)
{
	uint64_t now = mk_ticks();

	if (tmo <= 0) {
		return tmo;
	}
	return end > now ? (int32_t)(end - now) : 0;
}

static int send(void *ctx, uint8_t id, struct shim_buf *buf, int32_t tmo, bool consume)
{
	struct host_ctx *h = ctx;
	struct source *s = &sources[id];
	uint64_t end = mk_ticks() + (uint64_t)(tmo > 0 ? tmo : 0);
	int delivered = 0;

	if (id >= SHIM_MAX_SOURCES || !s->used || buf == NULL) {
		return -SHIM_EINVAL;
	}
	if (consume && buf->ref == 0U) {
		return -SHIM_EINVAL;
	}
	s->send_count++;
	mk_sched_lock();
	for (uint8_t i = 0; i < s->n; i++) {
		uint8_t sid = conns[s->list[i]].sink;
		struct sink *k = &sinks[sid];

		buf_ref(h, buf);
		if (k->queue == SHIM_NO_ID) {
			shim_core_handle_packet(h->core, sid, buf);
			k->handled++;
			if (buf->ref == 0U) {
				shim_core_after_handler(h->core, 0, id, sid, buf, -SHIM_EFAULT);
				continue;
			}
			buf_unref(h, buf);
			delivered++;
			shim_core_after_handler(h->core, 0, id, sid, buf, 0);
		} else {
			struct packet_event ev = { .sink = sid, .buf = buf };
			int ret = mk_msgq_put(&queues[k->queue].msgq, &ev, remaining(tmo, end));

			if (ret == 0) {
				delivered++;
				shim_core_report_enqueue(h->core, id, sid, buf);
			} else {
				buf_unref(h, buf);
				k->dropped++;
				shim_core_report_drop(h->core, id, sid, buf,
						      ret == -SHIM_ENOMSG ? -SHIM_ENOBUFS : ret);
			}
		}
	}
	s->queued_total += (uint32_t)delivered;
	mk_sched_unlock();
	if (consume) {
		buf_unref(h, buf);
	}
	return delivered;
}

static int process(void *ctx, uint8_t id, int32_t tmo)
{
	struct host_ctx *h = ctx;
	struct queue *q = &queues[id];
	struct packet_event ev;
	int ret;

	if (id >= SHIM_MAX_QUEUES || !q->used) {
		return -SHIM_EINVAL;
	}
	if (mk_msgq_get(&q->msgq, &ev, tmo) != 0) {
		return -SHIM_EAGAIN;
	}
	if (ev.buf->ref == 0U) {
		ret = -SHIM_EINVAL;
	} else {
		shim_core_handle_packet(h->core, ev.sink, ev.buf);
		sinks[ev.sink].handled++;
		if (ev.buf->ref == 0U) {
			ret = -SHIM_EFAULT;
		} else {
			buf_unref(h, ev.buf);
			q->processed++;
			ret = 0;
		}
	}
	shim_core_after_handler(h->core, 1, id, ev.sink, ev.buf, ret);
	return ret;
}

static int stats(void *ctx, uint8_t kind, uint8_t id, uint32_t out[3])
{
	(void)ctx;
	switch (kind) {
	case 0:
		out[0] = sources[id].send_count;
		out[1] = sources[id].queued_total;
		return 0;
	case 1:
		out[0] = sinks[id].handled;
		out[1] = sinks[id].dropped;
		return 0;
	case 2:
		out[0] = queues[id].processed;
		out[1] = queues[id].msgq.high_water;
		out[2] = queues[id].msgq.used;
		return 0;
	case 3:
		out[0] = (uint32_t)(pools[id].nfree + pools[id].uninit);
		out[1] = pools[id].min_free;
		return 0;
	default:
		return -SHIM_EINVAL;
	}
}

/* ------------------------------------------------------------------ threads, time */

static void write_out(void *ctx, const uint8_t *data, size_t len)
{
	struct host_ctx *h = ctx;

	while (len > 0U) {
		ssize_t n = write(h->out_fd, data, len);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

static uint64_t uptime_ticks(void *ctx)
{
	(void)ctx;
	return mk_ticks();
}

static void stimulus_entry(void *arg)
{
	shim_core_stimulus_main(host->core, (uint8_t)(uintptr_t)arg);
}

static int stimulus_start(void *ctx, uint8_t stim, const struct shim_thread_def *def)
{
	(void)ctx;
	return mk_thread_create(stimulus_entry, (void *)(uintptr_t)stim, def->prio,
				def->name) != NULL ? 0 : -SHIM_ENOMEM;
}

/* RUN: the main loop advances it (mpio_step) between reading commands. */
static void run(void *ctx, uint64_t end)
{
	struct host_ctx *h = ctx;

	mk_freeze_all(false);
	h->run_end = end;
	h->running = true;
	h->stalled = false;
}

bool mpio_step(struct host_ctx *h)
{
	if (!h->running) {
		return false;
	}
	if (h->stalled && shim_core_ring_full(h->core)) {
		return true;
	}
	h->stalled = false;
	h->may_stall = true;
	if (mk_run(h->run_end, NULL) == MK_STALLED) {
		h->may_stall = false;
		h->stalled = true;
		return true;
	}
	h->may_stall = false;
	if (shim_core_ring_full(h->core)) {
		/* R_RUN_DONE too waits for room */
		h->stalled = true;
		return true;
	}
	/* the end tick is excluded: the scenario stops here, statistics stay put */
	mk_freeze_all(true);
	h->running = false;
	shim_core_run_done(h->core);
	return false;
}

/* The report ring is full: in a run, the clock waits for the host. */
static void report_wait(void *ctx)
{
	struct host_ctx *h = ctx;

	if (h->may_stall && mk_in_thread()) {
		mk_stall();
	}
}

struct call {
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static void call_entry(void *arg)
{
	struct call *c = arg;

	c->ret = c->fn(c->arg);
}

static int call(void *ctx, int (*fn)(void *arg), void *arg)
{
	struct host_ctx *h = ctx;
	struct call c = { .fn = fn, .arg = arg, .ret = 0 };
	struct mk_thread *t = mk_thread_create(call_entry, &c, 0, "shim_cmd");

	if (t == NULL) {
		return -SHIM_ENOMEM;
	}
	if (mk_run(MK_NEVER, t) != 0) {
		mk_thread_abort(t);
		shim_core_console(h->core, "FATAL: the command thread waits forever");
		return -SHIM_EFAULT;
	}
	mk_thread_abort(t);
	return c.ret;
}

static void sleep_ticks(void *ctx, int32_t tmo)
{
	(void)ctx;
	mk_sleep(tmo);
}

static void sleep_until(void *ctx, uint64_t tick)
{
	(void)ctx;
	mk_sleep_until(tick);
}

static void busy_wait_us(void *ctx, uint32_t us)
{
	(void)ctx;
	mk_busy_ns((uint64_t)us * 1000U);
}

static void busy_cycles(void *ctx, uint32_t cycles)
{
	struct host_ctx *h = ctx;

	mk_busy_ns((uint64_t)cycles * 1000000000U / h->cpu_hz);
}

const struct shim_platform host_platform = {
	.write = write_out,
	.report_wait = report_wait,
	.uptime_ticks = uptime_ticks,
	.reset = reset,
	.pool_create = pool_create,
	.source_create = source_create,
	.queue_create = queue_create,
	.sink_create = sink_create,
	.connect = connect,
	.disconnect = disconnect,
	.stimulus_start = stimulus_start,
	.run = run,
	.call = call,
	.alloc = buf_alloc,
	.buf_add = buf_add,
	.buf_tailroom = buf_tailroom,
	.buf_ref = buf_ref,
	.buf_unref = buf_unref,
	.buf_frag_add = buf_frag_add,
	.buf_data = buf_data,
	.buf_next = buf_next,
	.buf_info = buf_info,
	.send = send,
	.process = process,
	.sleep = sleep_ticks,
	.sleep_until = sleep_until,
	.busy_wait_us = busy_wait_us,
	.busy_cycles = busy_cycles,
	.stats = stats,
};

void mpio_init(struct host_ctx *ctx)
{
	host = ctx;
	free_all();
}
