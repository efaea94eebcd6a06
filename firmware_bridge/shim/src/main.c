/*
 * The zsim firmware shim on Zephyr: the platform of the portable protocol core
 * (src/core/) with the console UART, packet_io, net_buf pools and kernel threads.
 *
 * Objects the host creates live in static tables sized by Kconfig. Static connections
 * are wired with packet_connection_add() in link order at the first RUN (the host
 * creates them at run time, so they cannot sit in the iterable section). packet_io
 * gives no hook for per-sink enqueue and drop: with CONFIG_SHIM_MSGQ_WRAP the link wraps
 * z_impl_k_msgq_put (the body of k_msgq_put without user mode, kernel/msg_q.c), so each
 * put's result is recorded in the sending thread and attributed to the send that made
 * it; without it the shim diffs the queued sinks' dropped_count around each send.
 *
 * The end of a run is a k_timer at the end tick: its expiry function suspends every
 * stimulus and queue thread before any of them runs at that tick, so events at the end
 * tick are excluded (as in the simulator) and statistics are read from a stopped world.
 * Reports leave through a TX ring drained by the UART interrupt (polled UARTs write
 * at once); a frame that does not fit is dropped and the host fetches it again.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/device.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/sys/ring_buffer.h>
#include <zephyr/sys/util.h>
#include <zephyr/packet_io/packet_io.h>

#if __has_include(<zephyr/net_buf.h>)
#include <zephyr/net_buf.h>
#else
#include <zephyr/net/buf.h>
#endif
#if __has_include(<zephyr/sys/printk-hooks.h>)
#include <zephyr/sys/printk-hooks.h>
#else
/* Before Zephyr 3.6 no header declares it (lib/os/printk.c defines it). */
#include <zephyr/sys/printk.h>
void __printk_hook_install(int (*fn)(int c));
#endif

#include "shim_core.h"
#include "shim_errno.h"

BUILD_ASSERT(IS_ENABLED(CONFIG_PACKET_IO_STATS), "the shim needs CONFIG_PACKET_IO_STATS");
BUILD_ASSERT(IS_ENABLED(CONFIG_PACKET_IO_RUNTIME_OBSERVERS),
	     "the shim needs CONFIG_PACKET_IO_RUNTIME_OBSERVERS");
BUILD_ASSERT(CONFIG_SHIM_POOL_USER_DATA_SIZE >= sizeof(uint32_t));

#if DT_HAS_CHOSEN(zsim_shim_uart)
#define SHIM_UART_NODE DT_CHOSEN(zsim_shim_uart)
#else
#define SHIM_UART_NODE DT_CHOSEN(zephyr_console)
#endif

#ifdef CONFIG_BOARD_TARGET
#define SHIM_BOARD CONFIG_BOARD_TARGET
#else
#define SHIM_BOARD CONFIG_BOARD
#endif

/*
 * The link rate HELLO states: CONFIG_SHIM_LINK_BAUD when set, else the UART node's
 * current-speed; 0 on a pseudo-terminal (native_sim), which is not a real line.
 */
#if CONFIG_SHIM_LINK_BAUD > 0
#define SHIM_LINK_BAUD CONFIG_SHIM_LINK_BAUD
#elif defined(CONFIG_UART_NATIVE_PTY) || defined(CONFIG_UART_NATIVE_POSIX)
#define SHIM_LINK_BAUD 0
#else
#define SHIM_LINK_BAUD DT_PROP_OR(SHIM_UART_NODE, current_speed, 0)
#endif

static const struct device *const uart = DEVICE_DT_GET(SHIM_UART_NODE);

RING_BUF_DECLARE(rx_ring, CONFIG_SHIM_RX_BUF_SIZE);
#ifdef CONFIG_UART_INTERRUPT_DRIVEN
RING_BUF_DECLARE(tx_ring, CONFIG_SHIM_TX_BUF_SIZE);
#endif
static K_SEM_DEFINE(rx_sem, 0, 1);
static K_SEM_DEFINE(room_sem, 0, 1);
#ifdef CONFIG_UART_INTERRUPT_DRIVEN
static uint32_t tx_dropped;
#endif

/* The report lock: interrupts off, so no thread is suspended or aborted inside it. */
static unsigned int lock_keys[8];
static uint8_t lock_depth;

static struct shim_core core;

/* ------------------------------------------------------------------ per-thread context */

/* One k_msgq_put a send of this thread made. */
struct put_rec {
	struct packet_sink *sink;
	int ret;
	uint16_t used;
};

struct thread_ctx {
	uint8_t sources[CONFIG_SHIM_NEST_DEPTH];
	uint8_t depth;
	uint8_t nput;
	struct put_rec puts[CONFIG_SHIM_MAX_CONNECTIONS];
	bool handled;
	uint8_t handled_sink;
	struct net_buf *handled_buf;
};

static struct thread_ctx main_ctx;

static struct thread_ctx *this_ctx(void)
{
	struct thread_ctx *t = k_thread_custom_data_get();

	return t != NULL ? t : &main_ctx;
}

/* ------------------------------------------------------------------ pools */

struct pool_slot {
	bool used;
	uint16_t limit;
	uint16_t size;
	uint16_t outstanding;
	uint16_t min_free;
	uint32_t allocs;
	/* every buffer handed out and not freed yet, by net_buf_id(): RESET frees them */
	struct net_buf *live[CONFIG_SHIM_POOL_BUF_COUNT];
};

static struct pool_slot pool_slots[CONFIG_SHIM_MAX_POOLS];

static void pool_destroy(struct net_buf *buf);

#define SHIM_POOL_DEFINE(i, _)                                                                \
	NET_BUF_POOL_FIXED_DEFINE(shim_pool_##i, CONFIG_SHIM_POOL_BUF_COUNT,                  \
				  CONFIG_SHIM_POOL_BUF_SIZE, CONFIG_SHIM_POOL_USER_DATA_SIZE,  \
				  pool_destroy);
#define SHIM_POOL_REF(i, _) &shim_pool_##i

LISTIFY(CONFIG_SHIM_MAX_POOLS, SHIM_POOL_DEFINE, ())

static struct net_buf_pool *const pools[] = {
	LISTIFY(CONFIG_SHIM_MAX_POOLS, SHIM_POOL_REF, (,))
};

static int pool_index(const struct net_buf *buf)
{
	const struct net_buf_pool *pool = net_buf_pool_get(buf->pool_id);

	for (int i = 0; i < CONFIG_SHIM_MAX_POOLS; i++) {
		if (pools[i] == pool) {
			return i;
		}
	}
	return -1;
}

static void pool_destroy(struct net_buf *buf)
{
	int i = pool_index(buf);

	if (i >= 0) {
		int id = net_buf_id(buf);

		if (pool_slots[i].outstanding > 0U) {
			pool_slots[i].outstanding--;
		}
		if (id >= 0 && id < CONFIG_SHIM_POOL_BUF_COUNT) {
			pool_slots[i].live[id] = NULL;
		}
	}
	net_buf_destroy(buf);
}

/* ------------------------------------------------------------------ packet_io objects */

struct shim_queue {
	bool used;
	struct k_msgq msgq;
	struct packet_event_queue peq;
	struct k_thread thread;
	struct thread_ctx ctx;
	uint16_t high_water;
	char name[SHIM_NAME_MAX];
	char __aligned(4) buffer[CONFIG_SHIM_QUEUE_MAX_EVENTS * sizeof(struct packet_event)];
};

/* A connection slot (the core's struct shim_conn is its own table). */
struct plat_conn {
	bool used;
	struct packet_connection conn;
};

struct shim_stim {
	struct k_thread thread;
	struct thread_ctx ctx;
	bool started;
};

static struct packet_source sources[CONFIG_SHIM_MAX_SOURCES];
static char source_names[CONFIG_SHIM_MAX_SOURCES][SHIM_NAME_MAX];
static struct packet_sink sinks[CONFIG_SHIM_MAX_SINKS];
static char sink_names[CONFIG_SHIM_MAX_SINKS][SHIM_NAME_MAX];
static struct shim_queue queues[CONFIG_SHIM_MAX_QUEUES];
static struct plat_conn conns[CONFIG_SHIM_MAX_CONNECTIONS];
static struct shim_stim stims[CONFIG_SHIM_MAX_STIMULI];

K_THREAD_STACK_ARRAY_DEFINE(queue_stacks, CONFIG_SHIM_MAX_QUEUES, CONFIG_SHIM_THREAD_STACK_SIZE);
K_THREAD_STACK_ARRAY_DEFINE(stim_stacks, CONFIG_SHIM_MAX_STIMULI, CONFIG_SHIM_THREAD_STACK_SIZE);

static struct k_timer run_timer;
static struct k_work run_done_work;
static bool frozen;

static int clamp_prio(int prio)
{
	return CLAMP(prio, -CONFIG_NUM_COOP_PRIORITIES, CONFIG_NUM_PREEMPT_PRIORITIES - 1);
}

static uint8_t sink_id(const struct packet_sink *sink)
{
	return (uint8_t)(uintptr_t)sink->user_data;
}

static void shim_handler(struct packet_sink *sink, struct net_buf *buf)
{
	struct thread_ctx *t = this_ctx();
	uint8_t id = sink_id(sink);

	shim_core_handle_packet(&core, id, (struct shim_buf *)buf);
	if (sink->mode == SINK_MODE_IMMEDIATE) {
		/* the shim's behaviours never release the borrowed buffer */
		shim_core_after_handler(&core, 0, t->depth > 0U ? t->sources[t->depth - 1U]
								: SHIM_NO_ID,
					id, (struct shim_buf *)buf, 0);
	} else {
		t->handled = true;
		t->handled_sink = id;
		t->handled_buf = buf;
	}
}

static int plat_process(void *ctx, uint8_t id, int32_t tmo);

static void queue_thread(void *p1, void *p2, void *p3)
{
	uint8_t id = (uint8_t)(uintptr_t)p1;

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	k_thread_custom_data_set(&queues[id].ctx);
	for (;;) {
		(void)plat_process(NULL, id, -1);
	}
}

static void stim_thread(void *p1, void *p2, void *p3)
{
	uint8_t id = (uint8_t)(uintptr_t)p1;

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	k_thread_custom_data_set(&stims[id].ctx);
	shim_core_stimulus_main(&core, id);
}

/* ------------------------------------------------------------------ platform */

static k_timeout_t timeout_of(int32_t tmo)
{
	if (tmo < 0) {
		return K_FOREVER;
	}
	return tmo == 0 ? K_NO_WAIT : K_TICKS(tmo);
}

static void plat_write(void *ctx, const uint8_t *data, size_t len)
{
	ARG_UNUSED(ctx);
#ifdef CONFIG_UART_INTERRUPT_DRIVEN
	/* whole frames only: the host fetches a dropped report again (GET_REPORTS) */
	if (ring_buf_space_get(&tx_ring) < len) {
		tx_dropped++;
		return;
	}
	(void)ring_buf_put(&tx_ring, data, (uint32_t)len);
	uart_irq_tx_enable(uart);
#else
	for (size_t i = 0; i < len; i++) {
		uart_poll_out(uart, data[i]);
	}
#endif
}

static void plat_lock(void *ctx)
{
	unsigned int key = irq_lock();

	ARG_UNUSED(ctx);
	if (lock_depth < ARRAY_SIZE(lock_keys)) {
		lock_keys[lock_depth] = key;
	}
	lock_depth++;
}

static void plat_unlock(void *ctx)
{
	unsigned int key;

	ARG_UNUSED(ctx);
	lock_depth--;
	key = lock_depth < ARRAY_SIZE(lock_keys) ? lock_keys[lock_depth] : 0U;
	irq_unlock(key);
}

/* The report ring is full: a stimulus or queue thread waits for the host (bounded). */
static void plat_report_wait(void *ctx)
{
	ARG_UNUSED(ctx);
	if (IS_ENABLED(CONFIG_SHIM_REPORT_WAIT) && !k_is_in_isr() &&
	    k_thread_custom_data_get() != &main_ctx) {
		(void)k_sem_take(&room_sem, K_MSEC(CONFIG_SHIM_REPORT_WAIT_MS));
	}
}

static uint8_t plat_rx_credit(void *ctx)
{
	uint32_t room = ring_buf_space_get(&rx_ring) / (SHIM_COBS_MAX(SHIM_MAX_FRAME) + 1U);

	ARG_UNUSED(ctx);
	return (uint8_t)MIN(room, 255U);
}

static uint64_t plat_uptime(void *ctx)
{
	ARG_UNUSED(ctx);
	return (uint64_t)k_uptime_ticks();
}

/*
 * Aborted threads may hold references (in a send, a handler, a queued event or a
 * blocked k_msgq_put): every buffer still out is cut from its chain and freed, so each
 * pool is whole again, and every counter starts from zero.
 */
static void free_live_buffers(void)
{
	for (int i = 0; i < CONFIG_SHIM_MAX_POOLS; i++) {
		for (int j = 0; j < CONFIG_SHIM_POOL_BUF_COUNT; j++) {
			if (pool_slots[i].live[j] != NULL) {
				pool_slots[i].live[j]->frags = NULL;
			}
		}
	}
	for (int i = 0; i < CONFIG_SHIM_MAX_POOLS; i++) {
		for (int j = 0; j < CONFIG_SHIM_POOL_BUF_COUNT; j++) {
			struct net_buf *buf = pool_slots[i].live[j];

			if (buf != NULL) {
				buf->ref = 1U;
				net_buf_unref(buf);     /* pool_destroy clears the slot */
			}
		}
	}
}

static void plat_reset(void *ctx, uint8_t flags)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(flags);
	(void)k_timer_stop(&run_timer);
	for (int i = 0; i < CONFIG_SHIM_MAX_STIMULI; i++) {
		if (stims[i].started) {
			k_thread_abort(&stims[i].thread);
			stims[i].started = false;
		}
	}
	for (int i = 0; i < CONFIG_SHIM_MAX_QUEUES; i++) {
		if (!queues[i].used) {
			continue;
		}
		k_thread_abort(&queues[i].thread);
		k_msgq_purge(&queues[i].msgq);
		queues[i].used = false;
		queues[i].high_water = 0;
	}
	free_live_buffers();
	memset(sources, 0, sizeof(sources));
	memset(sinks, 0, sizeof(sinks));
	memset(conns, 0, sizeof(conns));
	memset(pool_slots, 0, sizeof(pool_slots));
	main_ctx.depth = 0;
	main_ctx.nput = 0;
	frozen = false;
}

static int plat_pool_create(void *ctx, uint8_t id, uint16_t count, uint16_t size, uint8_t ud,
			    const char *name)
{
	struct pool_slot *p = &pool_slots[id];

	ARG_UNUSED(ctx);
	ARG_UNUSED(name);
	if (id >= CONFIG_SHIM_MAX_POOLS || count > CONFIG_SHIM_POOL_BUF_COUNT ||
	    size > CONFIG_SHIM_POOL_BUF_SIZE || ud > CONFIG_SHIM_POOL_USER_DATA_SIZE) {
		return -SHIM_ENOMEM;
	}
	p->used = true;
	p->limit = count;
	p->size = size;
	p->min_free = count;
	p->allocs = 0;
	return 0;
}

static int plat_source_create(void *ctx, uint8_t id, const char *name)
{
	struct packet_source *s = &sources[id];

	ARG_UNUSED(ctx);
	memset(s, 0, sizeof(*s));
	sys_dlist_init(&s->sinks);
	strncpy(source_names[id], name, SHIM_NAME_MAX - 1);
#ifdef CONFIG_PACKET_IO_NAMES
	s->name = source_names[id];
#endif
	return 0;
}

static int plat_queue_create(void *ctx, uint8_t id, const struct shim_queue_def *def)
{
	struct shim_queue *q = &queues[id];
	k_tid_t tid;

	ARG_UNUSED(ctx);
	if (def->size > CONFIG_SHIM_QUEUE_MAX_EVENTS) {
		return -SHIM_ENOMEM;
	}
	memset(&q->ctx, 0, sizeof(q->ctx));
	k_msgq_init(&q->msgq, q->buffer, sizeof(struct packet_event), def->size);
	memset(&q->peq, 0, sizeof(q->peq));
	q->peq.msgq = &q->msgq;
	strncpy(q->name, def->name, SHIM_NAME_MAX - 1);
#ifdef CONFIG_PACKET_IO_NAMES
	q->peq.name = q->name;
#endif
	q->high_water = 0;
	q->used = true;
	tid = k_thread_create(&q->thread, queue_stacks[id], K_THREAD_STACK_SIZEOF(queue_stacks[id]),
			      queue_thread, (void *)(uintptr_t)id, NULL, NULL,
			      clamp_prio(def->prio), 0, K_NO_WAIT);
	(void)k_thread_name_set(tid, def->thread_name);
	return 0;
}

static int plat_sink_create(void *ctx, uint8_t id, uint8_t queue, const char *name)
{
	struct packet_sink *s = &sinks[id];

	ARG_UNUSED(ctx);
	memset(s, 0, sizeof(*s));
	strncpy(sink_names[id], name, SHIM_NAME_MAX - 1);
#ifdef CONFIG_PACKET_IO_NAMES
	s->name = sink_names[id];
#endif
	s->handler = shim_handler;
	s->user_data = (void *)(uintptr_t)id;
	if (queue == SHIM_NO_ID) {
		s->mode = SINK_MODE_IMMEDIATE;
	} else {
		s->mode = SINK_MODE_QUEUED;
		s->msgq = &queues[queue].msgq;
	}
	return 0;
}

static struct plat_conn *conn_for(uint8_t source, uint8_t sink, bool create)
{
	struct plat_conn *free_slot = NULL;

	for (int i = 0; i < CONFIG_SHIM_MAX_CONNECTIONS; i++) {
		struct plat_conn *c = &conns[i];

		if (c->used && c->conn.source == &sources[source] && c->conn.sink == &sinks[sink]) {
			return c;
		}
		if (!c->used && free_slot == NULL) {
			free_slot = c;
		}
	}
	if (!create || free_slot == NULL) {
		return NULL;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->conn.source = &sources[source];
	free_slot->conn.sink = &sinks[sink];
	return free_slot;
}

static int plat_connect(void *ctx, uint8_t source, uint8_t sink, bool runtime)
{
	struct plat_conn *c = conn_for(source, sink, true);

	ARG_UNUSED(ctx);
	ARG_UNUSED(runtime);
	if (c == NULL) {
		return -SHIM_ENOMEM;
	}
	return packet_connection_add(&c->conn);
}

static int plat_disconnect(void *ctx, uint8_t source, uint8_t sink)
{
	struct plat_conn *c = conn_for(source, sink, false);

	ARG_UNUSED(ctx);
	if (c == NULL) {
		return -SHIM_ENOENT;
	}
	return packet_connection_remove(&c->conn);
}

static int plat_stimulus_start(void *ctx, uint8_t stim, const struct shim_thread_def *def)
{
	struct shim_stim *s = &stims[stim];
	k_tid_t tid;

	ARG_UNUSED(ctx);
	memset(&s->ctx, 0, sizeof(s->ctx));
	tid = k_thread_create(&s->thread, stim_stacks[stim], K_THREAD_STACK_SIZEOF(stim_stacks[stim]),
			      stim_thread, (void *)(uintptr_t)stim, NULL, NULL,
			      clamp_prio(def->prio), 0, K_NO_WAIT);
	(void)k_thread_name_set(tid, def->name);
	s->started = true;
	return 0;
}

static void run_done_handler(struct k_work *work)
{
	ARG_UNUSED(work);
	shim_core_run_done(&core);
}

/*
 * At the end tick, in the timer's expiry function (interrupt context): threads woken
 * at this tick were made ready in the same announce but have not run yet
 * (kernel/timeout.c, sys_clock_announce), so suspending them now excludes the end tick.
 */
static void run_timer_expiry(struct k_timer *timer)
{
	ARG_UNUSED(timer);
	for (int i = 0; i < CONFIG_SHIM_MAX_STIMULI; i++) {
		if (stims[i].started) {
			k_thread_suspend(&stims[i].thread);
		}
	}
	for (int i = 0; i < CONFIG_SHIM_MAX_QUEUES; i++) {
		if (queues[i].used) {
			k_thread_suspend(&queues[i].thread);
		}
	}
	frozen = true;
	(void)k_work_submit(&run_done_work);
}

static void plat_run(void *ctx, uint64_t end)
{
	ARG_UNUSED(ctx);
	if (frozen) {
		frozen = false;
		for (int i = 0; i < CONFIG_SHIM_MAX_QUEUES; i++) {
			if (queues[i].used) {
				k_thread_resume(&queues[i].thread);
			}
		}
		for (int i = 0; i < CONFIG_SHIM_MAX_STIMULI; i++) {
			if (stims[i].started) {
				k_thread_resume(&stims[i].thread);
			}
		}
	}
	k_timer_start(&run_timer, K_TIMEOUT_ABS_TICKS(end), K_NO_WAIT);
}

static int plat_call(void *ctx, int (*fn)(void *arg), void *arg)
{
	ARG_UNUSED(ctx);
	/* commands already run in the command (main) thread */
	return fn(arg);
}

static struct shim_buf *plat_alloc(void *ctx, uint8_t id)
{
	struct pool_slot *p = &pool_slots[id];
	struct net_buf *buf;
	unsigned int key;

	ARG_UNUSED(ctx);
	if (id >= CONFIG_SHIM_MAX_POOLS || !p->used) {
		return NULL;
	}
	key = irq_lock();
	if (p->outstanding >= p->limit) {
		irq_unlock(key);
		return NULL;
	}
	p->outstanding++;
	irq_unlock(key);
	buf = net_buf_alloc(pools[id], K_NO_WAIT);
	key = irq_lock();
	if (buf == NULL) {
		p->outstanding--;
	} else {
		int idx = net_buf_id(buf);

		*(uint32_t *)net_buf_user_data(buf) = p->allocs++;
		if (idx >= 0 && idx < CONFIG_SHIM_POOL_BUF_COUNT) {
			p->live[idx] = buf;
		}
		p->min_free = MIN(p->min_free, (uint16_t)(p->limit - p->outstanding));
	}
	irq_unlock(key);
	return (struct shim_buf *)buf;
}

static int plat_buf_add(void *ctx, struct shim_buf *b, const uint8_t *data, size_t len)
{
	struct net_buf *buf = (struct net_buf *)b;
	int i = pool_index(buf);
	size_t room = net_buf_tailroom(buf);

	ARG_UNUSED(ctx);
	if (i >= 0 && pool_slots[i].size < room + buf->len) {
		room = pool_slots[i].size > buf->len ? (size_t)pool_slots[i].size - buf->len : 0U;
	}
	if (len > room) {
		return -SHIM_EMSGSIZE;
	}
	net_buf_add_mem(buf, data, len);
	return 0;
}

static size_t plat_buf_tailroom(void *ctx, struct shim_buf *b)
{
	struct net_buf *buf = (struct net_buf *)b;
	int i = pool_index(buf);
	size_t room = net_buf_tailroom(buf);

	ARG_UNUSED(ctx);
	if (i >= 0 && pool_slots[i].size < room + buf->len) {
		room = pool_slots[i].size > buf->len ? (size_t)pool_slots[i].size - buf->len : 0U;
	}
	return room;
}

static struct shim_buf *plat_buf_ref(void *ctx, struct shim_buf *b)
{
	ARG_UNUSED(ctx);
	return (struct shim_buf *)net_buf_ref((struct net_buf *)b);
}

static void plat_buf_unref(void *ctx, struct shim_buf *b)
{
	ARG_UNUSED(ctx);
	net_buf_unref((struct net_buf *)b);
}

static void plat_buf_frag_add(void *ctx, struct shim_buf *head, struct shim_buf *frag)
{
	ARG_UNUSED(ctx);
	(void)net_buf_frag_add((struct net_buf *)head, (struct net_buf *)frag);
}

static const uint8_t *plat_buf_data(void *ctx, struct shim_buf *b, size_t *len)
{
	struct net_buf *buf = (struct net_buf *)b;

	ARG_UNUSED(ctx);
	*len = buf->len;
	return buf->data;
}

static struct shim_buf *plat_buf_next(void *ctx, struct shim_buf *b)
{
	ARG_UNUSED(ctx);
	return (struct shim_buf *)((struct net_buf *)b)->frags;
}

static void plat_buf_info(void *ctx, struct shim_buf *b, struct shim_bufref *ref)
{
	struct net_buf *buf = (struct net_buf *)b;
	int i = pool_index(buf);

	ARG_UNUSED(ctx);
	ref->pool = i >= 0 ? (uint8_t)i : SHIM_NO_ID;
	ref->index = (uint16_t)net_buf_id(buf);
	ref->nth = *(uint32_t *)net_buf_user_data(buf);
}

#ifdef CONFIG_SHIM_MSGQ_WRAP
static bool is_shim_msgq(const struct k_msgq *msgq)
{
	for (int i = 0; i < CONFIG_SHIM_MAX_QUEUES; i++) {
		if (queues[i].used && &queues[i].msgq == msgq) {
			return true;
		}
	}
	return false;
}

int __real_z_impl_k_msgq_put(struct k_msgq *msgq, const void *data, k_timeout_t timeout);

/* Linked in place of z_impl_k_msgq_put (-Wl,--wrap, CMakeLists.txt). */
int __wrap_z_impl_k_msgq_put(struct k_msgq *msgq, const void *data, k_timeout_t timeout)
{
	int ret = __real_z_impl_k_msgq_put(msgq, data, timeout);
	struct thread_ctx *t;

	if (k_is_in_isr() || !is_shim_msgq(msgq)) {
		return ret;
	}
	t = this_ctx();
	if (t->depth > 0U && t->nput < ARRAY_SIZE(t->puts)) {
		struct put_rec *rec = &t->puts[t->nput++];

		rec->sink = ((const struct packet_event *)data)->sink;
		rec->ret = ret;
		rec->used = (uint16_t)k_msgq_num_used_get(msgq);
	}
	return ret;
}
#endif

/* R_ENQUEUE or R_DROP of one queued sink, after the send returned. */
static void report_put(uint8_t id, struct packet_sink *sink, int ret, uint16_t used,
		       uint32_t len, const struct shim_bufref *ref)
{
	uint8_t sid = sink_id(sink);

	if (ret != 0) {
		/* k_msgq_put: -ENOMSG (reported as -ENOBUFS) without wait, else -EAGAIN */
		shim_core_report_drop_info(&core, id, sid, ref,
					   ret == -ENOMSG ? -SHIM_ENOBUFS : -SHIM_EAGAIN);
	} else {
		struct shim_queue *q = CONTAINER_OF(sink->msgq, struct shim_queue, msgq);

		q->high_water = MAX(q->high_water, used);
		shim_core_report_enqueue_info(&core, id, sid, len, ref);
	}
}

struct queued_sink {
	struct packet_sink *sink;
	atomic_val_t dropped;
};

static int plat_send(void *ctx, uint8_t id, struct shim_buf *b, int32_t tmo, bool consume)
{
	struct packet_source *src = &sources[id];
	struct net_buf *buf = (struct net_buf *)b;
	struct queued_sink queued[CONFIG_SHIM_MAX_CONNECTIONS];
	struct thread_ctx *t = this_ctx();
	struct packet_connection *conn;
	struct shim_bufref ref;
	uint32_t len;
	size_t n = 0;
	uint8_t first;
	int ret;

	ARG_UNUSED(ctx);
	plat_buf_info(NULL, b, &ref);
	len = shim_core_chain_len(&core, b);
	SYS_DLIST_FOR_EACH_CONTAINER(&src->sinks, conn, node) {
		if (conn->sink != NULL && conn->sink->mode == SINK_MODE_QUEUED &&
		    n < ARRAY_SIZE(queued)) {
			queued[n].sink = conn->sink;
			queued[n].dropped = atomic_get(&conn->sink->dropped_count);
			n++;
		}
	}
	if (t->depth < CONFIG_SHIM_NEST_DEPTH) {
		t->sources[t->depth] = id;
	}
	t->depth++;
	first = t->nput;
	if (consume) {
		ret = packet_source_send_consume(src, buf, timeout_of(tmo));
	} else {
		ret = packet_source_send(src, buf, timeout_of(tmo));
	}
	t->depth--;
#ifdef CONFIG_SHIM_MSGQ_WRAP
	/* this send's own puts: nested sends took theirs off already */
	ARG_UNUSED(queued);
	ARG_UNUSED(n);
	for (uint8_t i = first; i < t->nput; i++) {
		report_put(id, t->puts[i].sink, t->puts[i].ret, t->puts[i].used, len, &ref);
	}
	t->nput = first;
#else
	ARG_UNUSED(first);
	for (size_t i = 0; i < n; i++) {
		bool dropped = atomic_get(&queued[i].sink->dropped_count) != queued[i].dropped;

		report_put(id, queued[i].sink, dropped ? (tmo == 0 ? -ENOMSG : -EAGAIN) : 0,
			   (uint16_t)k_msgq_num_used_get(queued[i].sink->msgq), len, &ref);
	}
#endif
	return ret;
}

static int plat_process(void *ctx, uint8_t id, int32_t tmo)
{
	struct thread_ctx *t = this_ctx();
	int ret;

	ARG_UNUSED(ctx);
	t->handled = false;
	ret = packet_event_process(&queues[id].peq, timeout_of(tmo));
	if (t->handled) {
		shim_core_after_handler(&core, 1, id, t->handled_sink,
					(struct shim_buf *)t->handled_buf, ret);
	}
	return ret;
}

static void plat_sleep(void *ctx, int32_t tmo)
{
	ARG_UNUSED(ctx);
	if (tmo == 0) {
		k_yield();
	} else {
		(void)k_sleep(timeout_of(tmo));
	}
}

static void plat_sleep_until(void *ctx, uint64_t tick)
{
	ARG_UNUSED(ctx);
	(void)k_sleep(K_TIMEOUT_ABS_TICKS(tick));
}

static void plat_busy_wait_us(void *ctx, uint32_t us)
{
	ARG_UNUSED(ctx);
	k_busy_wait(us);
}

static void plat_busy_cycles(void *ctx, uint32_t cycles)
{
	uint32_t start = k_cycle_get_32();

	ARG_UNUSED(ctx);
	while (k_cycle_get_32() - start < cycles) {
	}
}

static int plat_stats(void *ctx, uint8_t kind, uint8_t id, uint32_t out[3])
{
	ARG_UNUSED(ctx);
	switch (kind) {
	case 0:
		packet_source_get_stats(&sources[id], &out[0], &out[1]);
		return 0;
	case 1:
		packet_sink_get_stats(&sinks[id], &out[0], &out[1]);
		return 0;
	case 2:
		out[0] = (uint32_t)atomic_get(&queues[id].peq.processed_count);
		out[1] = queues[id].high_water;
		out[2] = k_msgq_num_used_get(&queues[id].msgq);
		return 0;
	case 3:
		out[0] = (uint32_t)(pool_slots[id].limit - pool_slots[id].outstanding);
		out[1] = pool_slots[id].min_free;
		return 0;
	default:
		return -SHIM_EINVAL;
	}
}

static const struct shim_platform zephyr_platform = {
	.write = plat_write,
	.lock = plat_lock,
	.unlock = plat_unlock,
	.report_wait = plat_report_wait,
	.rx_credit = plat_rx_credit,
	.uptime_ticks = plat_uptime,
	.reset = plat_reset,
	.pool_create = plat_pool_create,
	.source_create = plat_source_create,
	.queue_create = plat_queue_create,
	.sink_create = plat_sink_create,
	.connect = plat_connect,
	.disconnect = plat_disconnect,
	.stimulus_start = plat_stimulus_start,
	.run = plat_run,
	.call = plat_call,
	.alloc = plat_alloc,
	.buf_add = plat_buf_add,
	.buf_tailroom = plat_buf_tailroom,
	.buf_ref = plat_buf_ref,
	.buf_unref = plat_buf_unref,
	.buf_frag_add = plat_buf_frag_add,
	.buf_data = plat_buf_data,
	.buf_next = plat_buf_next,
	.buf_info = plat_buf_info,
	.send = plat_send,
	.process = plat_process,
	.sleep = plat_sleep,
	.sleep_until = plat_sleep_until,
	.busy_wait_us = plat_busy_wait_us,
	.busy_cycles = plat_busy_cycles,
	.stats = plat_stats,
};

/* ------------------------------------------------------------------ console lines */

static char console_line[CONFIG_SHIM_REPORT_MAX_PAYLOAD];
static size_t console_len;

static int console_char(int c)
{
	if (k_is_in_isr()) {
		return c;
	}
	if (c == '\n' || console_len + 1U >= sizeof(console_line)) {
		console_line[console_len] = '\0';
		console_len = 0;
		shim_core_console(&core, console_line);
	}
	if (c != '\n' && c != '\r') {
		console_line[console_len++] = (char)c;
	}
	return c;
}

/* ------------------------------------------------------------------ UART receive */

#ifdef CONFIG_UART_INTERRUPT_DRIVEN
static void uart_isr(const struct device *dev, void *user_data)
{
	uint8_t chunk[32];

	ARG_UNUSED(user_data);
	while (uart_irq_update(dev) > 0 && uart_irq_is_pending(dev) > 0) {
		if (uart_irq_rx_ready(dev) > 0) {
			int n = uart_fifo_read(dev, chunk, sizeof(chunk));

			if (n > 0) {
				/* bytes that do not fit are lost: the framing recovers */
				(void)ring_buf_put(&rx_ring, chunk, (uint32_t)n);
				k_sem_give(&rx_sem);
			}
		}
		if (uart_irq_tx_ready(dev) > 0) {
			uint8_t *data;
			uint32_t len = ring_buf_get_claim(&tx_ring, &data, 64);
			int sent = len > 0U ? uart_fifo_fill(dev, data, (int)len) : 0;

			(void)ring_buf_get_finish(&tx_ring, sent > 0 ? (uint32_t)sent : 0U);
			if (ring_buf_is_empty(&tx_ring)) {
				uart_irq_tx_disable(dev);
			}
		}
	}
}
#endif

static uint32_t rx_take(uint8_t *chunk, uint32_t cap)
{
#ifdef CONFIG_UART_INTERRUPT_DRIVEN
	unsigned int key = irq_lock();
	uint32_t n = ring_buf_get(&rx_ring, chunk, cap);

	irq_unlock(key);
	return n;
#else
	uint32_t n = 0;

	while (n < cap && uart_poll_in(uart, &chunk[n]) == 0) {
		n++;
	}
	return n;
#endif
}

int main(void)
{
	static const struct shim_board_info info = {
		.board = SHIM_BOARD,
		.build_id = CONFIG_SHIM_BUILD_ID,
		.ticks_per_sec = CONFIG_SYS_CLOCK_TICKS_PER_SEC,
		.features = SHIM_FEAT_STATS | SHIM_FEAT_RUNTIME |
			    (IS_ENABLED(CONFIG_PACKET_IO_NAMES) ? SHIM_FEAT_NAMES : 0U),
		.link_baud = SHIM_LINK_BAUD,
		.pool_buf_size = CONFIG_SHIM_POOL_BUF_SIZE,
		.pool_buf_count = CONFIG_SHIM_POOL_BUF_COUNT,
		.pool_user_data = CONFIG_SHIM_POOL_USER_DATA_SIZE,
		.pool_total_bytes = CONFIG_SHIM_MAX_POOLS * CONFIG_SHIM_POOL_BUF_COUNT *
				    (CONFIG_SHIM_POOL_BUF_SIZE + CONFIG_SHIM_POOL_USER_DATA_SIZE),
		.pool_total_bufs = CONFIG_SHIM_MAX_POOLS * CONFIG_SHIM_POOL_BUF_COUNT,
		.queue_max_size = CONFIG_SHIM_QUEUE_MAX_EVENTS,
		.queue_total_slots = CONFIG_SHIM_MAX_QUEUES * CONFIG_SHIM_QUEUE_MAX_EVENTS,
	};
	uint8_t chunk[64];
	int32_t idle_ms = 1;

	if (!device_is_ready(uart)) {
		return -ENODEV;
	}
	k_thread_custom_data_set(&main_ctx);
	k_timer_init(&run_timer, run_timer_expiry, NULL);
	k_work_init(&run_done_work, run_done_handler);
	shim_core_init(&core, &zephyr_platform, NULL, &info);
	__printk_hook_install(console_char);
#ifdef CONFIG_UART_INTERRUPT_DRIVEN
	(void)uart_irq_callback_user_data_set(uart, uart_isr, NULL);
	uart_irq_rx_enable(uart);
#endif

	for (;;) {
		uint32_t n = rx_take(chunk, sizeof(chunk));

		if (n > 0U) {
			shim_core_rx(&core, chunk, n);
			if (!shim_core_ring_full(&core)) {
				k_sem_give(&room_sem);
			}
			idle_ms = 1;
			continue;
		}
#ifdef CONFIG_UART_INTERRUPT_DRIVEN
		/* the receive interrupt wakes this thread */
		(void)k_sem_take(&rx_sem, K_FOREVER);
		ARG_UNUSED(idle_ms);
#else
		/* a polled UART: back off while the host is silent */
		k_msleep(idle_ms);
		idle_ms = MIN(idle_ms * 2, CONFIG_SHIM_RX_POLL_MAX_MS);
#endif
	}
	return 0;
}
