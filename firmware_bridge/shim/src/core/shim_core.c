/*
 * The protocol core of the zsim firmware shim (see shim_core.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "shim_core.h"

#include <string.h>

#include "shim_errno.h"

#define NAK_OUT_OF_SEQUENCE 1U
#define CHUNK 64U

/* ------------------------------------------------------------------ helpers */

static void core_lock(struct shim_core *core)
{
	if (core->plat->lock != NULL) {
		core->plat->lock(core->ctx);
	}
}

static void core_unlock(struct shim_core *core)
{
	if (core->plat->unlock != NULL) {
		core->plat->unlock(core->ctx);
	}
}

static uint8_t credit(struct shim_core *core)
{
	uint8_t c = SHIM_RX_WINDOW;

	if (core->plat->rx_credit != NULL) {
		uint8_t room = core->plat->rx_credit(core->ctx);

		c = room < c ? room : c;
	}
	return c;
}

/* Send one frame; the caller holds the lock. */
static void transmit(struct shim_core *core, uint8_t type, uint16_t seq,
		     const uint8_t *payload, uint16_t len)
{
	struct shim_frame frame = {
		.type = type,
		.seq = seq,
		.ack = core->last,
		.credit = credit(core),
		.payload = payload,
		.len = len,
	};
	size_t n = shim_frame_wire(&frame, core->tx, sizeof(core->tx));

	if (n != 0U) {
		core->plat->write(core->ctx, core->tx, n);
	}
}

uint64_t shim_core_clock(struct shim_core *core)
{
	if (!core->started) {
		return 0;
	}
	if (core->frozen) {
		return core->run_end - core->t0;
	}
	return core->plat->uptime_ticks(core->ctx) - core->t0;
}

/* ------------------------------------------------------------------ patterns */

uint32_t shim_pattern_state0(uint32_t seed, uint8_t stim)
{
	uint32_t x = seed ^ (uint32_t)(0x9E3779B9U * ((uint32_t)stim + 1U));

	return x != 0U ? x : 0x6D2B79F5U;
}

static void pattern_init(struct shim_pattern *gen, uint32_t seed, uint8_t stim)
{
	gen->n = 0;
	gen->state = shim_pattern_state0(seed, stim);
}

void shim_pattern_fill(struct shim_pattern *gen, uint8_t pattern, uint8_t arg, size_t offset,
		       uint8_t *out, size_t len)
{
	uint32_t x = gen->state;

	for (size_t i = 0; i < len; i++) {
		switch (pattern) {
		case SHIM_PAT_COUNTER:
			out[i] = (uint8_t)(gen->n + offset + i);
			break;
		case SHIM_PAT_RANDOM:
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			out[i] = (uint8_t)x;
			break;
		case SHIM_PAT_FILL:
			out[i] = arg;
			break;
		default:
			out[i] = 0;
			break;
		}
	}
	gen->state = x;
}

/* ------------------------------------------------------------------ reports */

struct report {
	struct shim_writer w;
	uint8_t buf[SHIM_REPORT_MAX_PAYLOAD];
};

bool shim_core_ring_full(struct shim_core *core)
{
	return core->total - core->oldest >= SHIM_REPORT_RING;
}

static void report_begin(struct shim_core *core, struct report *r)
{
	if (core->plat->report_wait != NULL && shim_core_ring_full(core)) {
		core->plat->report_wait(core->ctx);
	}
	core_lock(core);
	r->w = (struct shim_writer){ .buf = r->buf, .cap = sizeof(r->buf) };
	shim_put_u32(&r->w, core->total);
	shim_put_u64(&r->w, shim_core_clock(core));
}

static void report_end(struct shim_core *core, struct report *r, uint8_t type)
{
	struct shim_report_slot *slot = &core->ring[core->total % SHIM_REPORT_RING];

	if (core->total - core->oldest >= SHIM_REPORT_RING) {
		core->oldest++;
		core->lost++;
	}
	slot->type = type;
	slot->len = (uint8_t)r->w.len;
	memcpy(slot->payload, r->buf, r->w.len);
	core->total++;
	transmit(core, type, 0, r->buf, (uint16_t)r->w.len);
	core_unlock(core);
}

static void put_ref(struct shim_writer *w, const struct shim_bufref *ref)
{
	shim_put_u8(w, ref->pool);
	shim_put_u16(w, ref->index);
	shim_put_u32(w, ref->nth);
}

static void measure(struct shim_core *core, struct shim_buf *buf, uint32_t *len,
		    uint32_t *digest)
{
	uint32_t n = 0;
	uint32_t crc = 0;

	for (struct shim_buf *b = buf; b != NULL; b = core->plat->buf_next(core->ctx, b)) {
		size_t l;
		const uint8_t *d = core->plat->buf_data(core->ctx, b, &l);

		crc = shim_crc32(crc, d, l);
		n += (uint32_t)l;
	}
	*len = n;
	*digest = crc;
}

static void report_alloc_fail(struct shim_core *core, uint8_t pool, uint8_t origin, uint8_t id)
{
	struct report r;

	report_begin(core, &r);
	shim_put_u8(&r.w, pool);
	shim_put_u8(&r.w, origin);
	shim_put_u8(&r.w, id);
	report_end(core, &r, SHIM_R_ALLOC_FAIL);
}

void shim_core_report_enqueue_info(struct shim_core *core, uint8_t source, uint8_t sink,
				   uint32_t len, const struct shim_bufref *ref)
{
	struct report r;

	report_begin(core, &r);
	shim_put_u8(&r.w, source);
	shim_put_u8(&r.w, sink);
	shim_put_u32(&r.w, len);
	put_ref(&r.w, ref);
	report_end(core, &r, SHIM_R_ENQUEUE);
}

void shim_core_report_enqueue(struct shim_core *core, uint8_t source, uint8_t sink,
			      struct shim_buf *buf)
{
	struct shim_bufref ref;
	uint32_t len;
	uint32_t digest;

	measure(core, buf, &len, &digest);
	core->plat->buf_info(core->ctx, buf, &ref);
	shim_core_report_enqueue_info(core, source, sink, len, &ref);
}

void shim_core_report_drop_info(struct shim_core *core, uint8_t source, uint8_t sink,
				const struct shim_bufref *ref, int ret)
{
	struct report r;

	report_begin(core, &r);
	shim_put_u8(&r.w, source);
	shim_put_u8(&r.w, sink);
	shim_put_i32(&r.w, ret);
	put_ref(&r.w, ref);
	report_end(core, &r, SHIM_R_DROP);
}

void shim_core_report_drop(struct shim_core *core, uint8_t source, uint8_t sink,
			   struct shim_buf *buf, int ret)
{
	struct shim_bufref ref;

	core->plat->buf_info(core->ctx, buf, &ref);
	shim_core_report_drop_info(core, source, sink, &ref, ret);
}

/* The length of a buffer's fragment chain. */
uint32_t shim_core_chain_len(struct shim_core *core, struct shim_buf *buf)
{
	uint32_t len;
	uint32_t digest;

	measure(core, buf, &len, &digest);
	return len;
}

void shim_core_console(struct shim_core *core, const char *text)
{
	struct report r;
	size_t n = strlen(text);

	report_begin(core, &r);
	if (n > r.w.cap - r.w.len) {
		n = r.w.cap - r.w.len;
	}
	shim_put_mem(&r.w, text, n);
	report_end(core, &r, SHIM_R_CONSOLE);
}

void shim_core_run_done(struct shim_core *core)
{
	struct report r;

	core_lock(core);
	core->frozen = true;
	core_unlock(core);
	report_begin(core, &r);
	core->running = false;
	report_end(core, &r, SHIM_R_RUN_DONE);
}

static void report_process(struct shim_core *core, uint8_t queue, int ret)
{
	struct report r;

	report_begin(core, &r);
	shim_put_u8(&r.w, queue);
	shim_put_i32(&r.w, ret);
	report_end(core, &r, SHIM_R_PROCESS);
}

static void report_step(struct shim_core *core, uint8_t stim, uint16_t step, uint8_t op,
			int ret)
{
	struct report r;

	report_begin(core, &r);
	shim_put_u8(&r.w, stim);
	shim_put_u16(&r.w, step);
	shim_put_u8(&r.w, op);
	shim_put_i32(&r.w, ret);
	report_end(core, &r, SHIM_R_STEP);
}

/* packet_source_send(_consume) with its R_SEND report. */
static int traced_send(struct shim_core *core, uint8_t source, struct shim_buf *buf,
		       int32_t tmo, bool consume)
{
	struct shim_bufref ref;
	uint32_t len;
	uint32_t digest;
	struct report r;
	int ret;

	measure(core, buf, &len, &digest);
	core->plat->buf_info(core->ctx, buf, &ref);
	ret = core->plat->send(core->ctx, source, buf, tmo, consume);
	report_begin(core, &r);
	shim_put_u8(&r.w, source);
	shim_put_i32(&r.w, ret);
	shim_put_u32(&r.w, len);
	shim_put_u32(&r.w, digest);
	put_ref(&r.w, &ref);
	report_end(core, &r, SHIM_R_SEND);
	return ret;
}

/* ------------------------------------------------------------------ handlers */

static bool source_ok(struct shim_core *core, uint8_t id)
{
	return id < SHIM_MAX_SOURCES && core->sources[id];
}

static bool pool_ok(struct shim_core *core, uint8_t id)
{
	return id < SHIM_MAX_POOLS && core->pools[id];
}

static bool queue_ok(struct shim_core *core, uint8_t id)
{
	return id < SHIM_MAX_QUEUES && core->queues[id];
}

static bool sink_ok(struct shim_core *core, uint8_t id)
{
	return id < SHIM_MAX_SINKS && core->sinks[id].used;
}

static void run_forward(struct shim_core *core, uint8_t sink, struct shim_step *st,
			struct shim_buf *buf)
{
	const struct shim_platform *plat = core->plat;
	struct shim_buf *h = plat->alloc(core->ctx, st->pool);

	if (h == NULL) {
		report_alloc_fail(core, st->pool, SHIM_ORIGIN_FORWARD, sink);
		return;
	}
	if (st->hdr_kind == 1U) {
		uint8_t seq[2];

		core_lock(core);
		seq[0] = (uint8_t)st->seq16;
		seq[1] = (uint8_t)(st->seq16 >> 8);
		st->seq16++;
		core_unlock(core);
		(void)plat->buf_add(core->ctx, h, seq, sizeof(seq));
	} else {
		(void)plat->buf_add(core->ctx, h, st->hdr, st->hdr_len);
	}
	plat->buf_frag_add(core->ctx, h, plat->buf_ref(core->ctx, buf));
	(void)traced_send(core, st->source, h, st->tmo, true);
}

void shim_core_handle_packet(struct shim_core *core, uint8_t sink, struct shim_buf *buf)
{
	const struct shim_platform *plat = core->plat;
	struct shim_sink_def *def;
	struct shim_measure m = { .sink = sink, .buf = buf };

	measure(core, buf, &m.len, &m.digest);
	plat->buf_info(core->ctx, buf, &m.ref);
	core_lock(core);
	if (core->nmeasure < SHIM_NEST_DEPTH) {
		core->measure[core->nmeasure++] = m;
	}
	core_unlock(core);
	if (!sink_ok(core, sink)) {
		return;
	}
	def = &core->sinks[sink];
	for (uint8_t i = 0; i < def->nsteps; i++) {
		struct shim_step *st = &def->steps[i];

		switch (st->op) {
		case SHIM_ST_CPU_US:
			plat->busy_wait_us(core->ctx, st->value);
			break;
		case SHIM_ST_CPU_CYCLES:
			plat->busy_cycles(core->ctx, st->value);
			break;
		case SHIM_ST_SLEEP:
			plat->sleep(core->ctx, st->tmo);
			break;
		case SHIM_ST_FORWARD:
			run_forward(core, sink, st, buf);
			break;
		default:
			/* RECORD and DROP: the delivery is reported either way */
			break;
		}
	}
}

void shim_core_after_handler(struct shim_core *core, uint8_t origin, uint8_t origin_id,
			     uint8_t sink, struct shim_buf *buf, int ret)
{
	struct shim_measure m = { .sink = sink, .buf = buf };
	bool found = false;
	struct report r;

	core_lock(core);
	for (int i = (int)core->nmeasure - 1; i >= 0; i--) {
		if (core->measure[i].sink == sink && core->measure[i].buf == buf) {
			m = core->measure[i];
			memmove(&core->measure[i], &core->measure[i + 1],
				(size_t)(core->nmeasure - i - 1) * sizeof(m));
			core->nmeasure--;
			found = true;
			break;
		}
	}
	core_unlock(core);
	if (!found && ret != -SHIM_EFAULT && buf != NULL) {
		measure(core, buf, &m.len, &m.digest);
		core->plat->buf_info(core->ctx, buf, &m.ref);
	}
	if (ret == -SHIM_EFAULT) {
		report_begin(core, &r);
		shim_put_u8(&r.w, origin);
		shim_put_u8(&r.w, origin_id);
		shim_put_u8(&r.w, sink);
		put_ref(&r.w, &m.ref);
		report_end(core, &r, SHIM_R_FAULT);
		if (origin == 0U) {
			return;
		}
	}
	report_begin(core, &r);
	if (origin == 0U) {
		shim_put_u8(&r.w, origin_id);
		shim_put_u8(&r.w, sink);
		shim_put_u32(&r.w, m.len);
		shim_put_u32(&r.w, m.digest);
		put_ref(&r.w, &m.ref);
		report_end(core, &r, SHIM_R_DELIVER);
		return;
	}
	shim_put_u8(&r.w, origin_id);
	shim_put_u8(&r.w, sink);
	shim_put_i32(&r.w, ret);
	shim_put_u32(&r.w, m.len);
	shim_put_u32(&r.w, m.digest);
	put_ref(&r.w, &m.ref);
	report_end(core, &r, SHIM_R_HANDLE);
}

/* ------------------------------------------------------------------ sends */

static int pattern_send(struct shim_core *core, const struct shim_send_args *a,
			struct shim_pattern *gen, const uint8_t *data, uint8_t origin, uint8_t who)
{
	const struct shim_platform *plat = core->plat;
	struct shim_buf *buf;
	uint8_t chunk[CHUNK];
	size_t size = a->size;
	int ret;

	if (!source_ok(core, a->source) || !pool_ok(core, a->pool)) {
		return -SHIM_ENOENT;
	}
	buf = plat->alloc(core->ctx, a->pool);
	if (buf == NULL) {
		report_alloc_fail(core, a->pool, origin, who);
		return -SHIM_ENOMEM;
	}
	if (a->pattern > SHIM_PAT_EXPLICIT) {
		plat->buf_unref(core->ctx, buf);
		return -SHIM_EINVAL;
	}
	if (a->pattern == SHIM_PAT_COUNTER && origin == SHIM_ORIGIN_SEND) {
		gen->n = a->arg;
	}
	if (a->pattern == SHIM_PAT_EXPLICIT && data == NULL) {
		size = 0;
	}
	if (size > plat->buf_tailroom(core->ctx, buf)) {
		for (size_t off = 0; off < size && a->pattern == SHIM_PAT_RANDOM; off += CHUNK) {
			shim_pattern_fill(gen, a->pattern, a->arg, off, chunk,
					  size - off < CHUNK ? size - off : CHUNK);
		}
		gen->n++;
		plat->buf_unref(core->ctx, buf);
		return -SHIM_EMSGSIZE;
	}
	for (size_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? size - off : CHUNK;

		if (a->pattern == SHIM_PAT_EXPLICIT) {
			(void)plat->buf_add(core->ctx, buf, data + off, n);
		} else {
			shim_pattern_fill(gen, a->pattern, a->arg, off, chunk, n);
			(void)plat->buf_add(core->ctx, buf, chunk, n);
		}
	}
	gen->n++;
	if ((a->flags & 1U) != 0U) {
		return traced_send(core, a->source, buf, a->tmo, true);
	}
	ret = traced_send(core, a->source, buf, a->tmo, false);
	plat->buf_unref(core->ctx, buf);
	return ret;
}

static int process_queue(struct shim_core *core, uint8_t queue, int32_t tmo)
{
	int ret;

	if (!queue_ok(core, queue)) {
		return -SHIM_ENOENT;
	}
	ret = core->plat->process(core->ctx, queue, tmo);
	if (ret == -SHIM_EAGAIN || ret == -SHIM_EINVAL) {
		report_process(core, queue, ret);
	}
	return ret;
}

static int find_conn(struct shim_core *core, uint8_t source, uint8_t sink)
{
	for (uint8_t i = 0; i < core->nconns; i++) {
		if (core->conns[i].source == source && core->conns[i].sink == sink) {
			return i;
		}
	}
	return -1;
}

static int connect_runtime(struct shim_core *core, uint8_t source, uint8_t sink)
{
	if (!source_ok(core, source) || !sink_ok(core, sink)) {
		return -SHIM_ENOENT;
	}
	if ((core->flags & SHIM_FEAT_RUNTIME) == 0U) {
		return -SHIM_ENOTSUP;
	}
	if (core->started) {
		return core->plat->connect(core->ctx, source, sink, true);
	}
	if (find_conn(core, source, sink) >= 0) {
		return -SHIM_EALREADY;
	}
	if (core->nconns >= SHIM_MAX_CONNECTIONS) {
		return -SHIM_ENOMEM;
	}
	core->conns[core->nconns++] = (struct shim_conn){ source, sink, true };
	return 0;
}

static int disconnect(struct shim_core *core, uint8_t source, uint8_t sink)
{
	int i;

	if (!source_ok(core, source) || !sink_ok(core, sink)) {
		return -SHIM_ENOENT;
	}
	if ((core->flags & SHIM_FEAT_RUNTIME) == 0U) {
		return -SHIM_ENOTSUP;
	}
	if (core->started) {
		return core->plat->disconnect(core->ctx, source, sink);
	}
	i = find_conn(core, source, sink);
	if (i < 0 || !core->conns[i].runtime) {
		return -SHIM_ENOENT;
	}
	memmove(&core->conns[i], &core->conns[i + 1],
		(size_t)(core->nconns - i - 1) * sizeof(core->conns[0]));
	core->nconns--;
	return 0;
}

/* ------------------------------------------------------------------ stimuli */

static void sleep_until(struct shim_core *core, uint32_t at)
{
	uint64_t target = core->t0 + at;

	if (core->plat->uptime_ticks(core->ctx) < target) {
		core->plat->sleep_until(core->ctx, target);
	}
}

void shim_core_stimulus_main(struct shim_core *core, uint8_t stim)
{
	struct shim_stimulus *st;

	if (stim >= SHIM_MAX_STIMULI || !core->stimuli[stim].used) {
		return;
	}
	st = &core->stimuli[stim];
	pattern_init(&st->gen, core->seed, stim);
	if (st->periodic) {
		for (uint32_t n = 0; st->count == SHIM_COUNT_FOREVER || n < st->count; n++) {
			sleep_until(core, st->start + n * st->period);
			(void)pattern_send(core, &st->send, &st->gen, NULL, SHIM_ORIGIN_PERIODIC,
					   stim);
		}
		return;
	}
	for (uint16_t i = 0, step = 0; i < core->nscript; i++) {
		struct shim_script_step *s = &core->script[i];
		int ret;

		if (s->stim != stim) {
			continue;
		}
		sleep_until(core, s->at);
		switch (s->op) {
		case SHIM_OP_SEND:
			ret = pattern_send(core, &s->send, &st->gen, NULL, SHIM_ORIGIN_SCRIPT,
					   stim);
			break;
		case SHIM_OP_PROCESS:
			ret = process_queue(core, s->a, s->send.tmo);
			break;
		case SHIM_OP_CONNECT:
			ret = connect_runtime(core, s->a, s->b);
			break;
		default:
			ret = disconnect(core, s->a, s->b);
			break;
		}
		report_step(core, stim, step++, s->op, ret);
	}
}

/* ------------------------------------------------------------------ commands */

struct cmd {
	struct shim_core *core;
	struct shim_reader *r;
	struct shim_writer *w;
	int ret;
};

static int new_id(struct shim_core *core, bool used, uint8_t id, unsigned int cap)
{
	if (!core->have_reset) {
		return -SHIM_EINVAL;
	}
	if (id < cap && used) {
		return -SHIM_EEXIST;
	}
	if (id >= cap) {
		return -SHIM_ENOMEM;
	}
	if (core->started) {
		return -SHIM_EBUSY;
	}
	return 0;
}

static void cmd_hello(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint8_t proto = shim_get_u8(c->r);

	(void)shim_get_u16(c->r);
	if (c->r->error) {
		return;
	}
	if (proto >= SHIM_PROTO_MIN && proto <= SHIM_PROTO_VERSION) {
		c->ret = 0;
	} else {
		c->ret = -SHIM_EPROTONOSUPPORT;
		proto = SHIM_PROTO_VERSION;
	}
	shim_put_u8(c->w, proto);
	shim_put_u16(c->w, SHIM_MAX_FRAME);
	shim_put_u8(c->w, SHIM_RX_WINDOW);
	shim_put_u32(c->w, core->info.ticks_per_sec);
	shim_put_u8(c->w, SHIM_MAX_POOLS);
	shim_put_u8(c->w, SHIM_MAX_SOURCES);
	shim_put_u8(c->w, SHIM_MAX_SINKS);
	shim_put_u8(c->w, SHIM_MAX_QUEUES);
	shim_put_u8(c->w, SHIM_MAX_STEPS);
	shim_put_u8(c->w, SHIM_MAX_STIMULI);
	shim_put_u16(c->w, SHIM_MAX_SCRIPT_STEPS);
	shim_put_u16(c->w, SHIM_REPORT_RING);
	shim_put_u8(c->w, core->info.features);
	shim_put_str(c->w, core->info.board);
	shim_put_str(c->w, core->info.build_id);
	if (proto < 2U) {
		return;
	}
	shim_put_u32(c->w, core->info.link_baud);
	shim_put_u16(c->w, core->info.pool_buf_size);
	shim_put_u16(c->w, core->info.pool_buf_count);
	shim_put_u8(c->w, core->info.pool_user_data);
	shim_put_u32(c->w, core->info.pool_total_bytes);
	shim_put_u32(c->w, core->info.pool_total_bufs);
	shim_put_u16(c->w, core->info.queue_max_size);
	shim_put_u32(c->w, core->info.queue_total_slots);
	shim_put_u16(c->w, SHIM_MAX_CONNECTIONS);
	shim_put_u8(c->w, SHIM_MAX_HEADER);
}

static void cmd_reset(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint32_t seed = shim_get_u32(c->r);
	uint8_t flags = shim_get_u8(c->r);

	if (c->r->error) {
		return;
	}
	core->plat->reset(core->ctx, flags);
	core_lock(core);
	core->have_reset = true;
	core->started = false;
	core->running = false;
	core->frozen = false;
	core->run_pending = false;
	core->seed = seed;
	core->flags = flags & core->info.features & (SHIM_FEAT_STATS | SHIM_FEAT_RUNTIME);
	memset(core->pools, 0, sizeof(core->pools));
	memset(core->sources, 0, sizeof(core->sources));
	memset(core->queues, 0, sizeof(core->queues));
	memset(core->sinks, 0, sizeof(core->sinks));
	memset(core->stimuli, 0, sizeof(core->stimuli));
	core->nconns = 0;
	core->nscript = 0;
	core->nmeasure = 0;
	core->total = 0;
	core->oldest = 0;
	core->lost = 0;
	pattern_init(&core->direct, seed, SHIM_NO_ID);
	core_unlock(core);
	c->ret = 0;
}

static void cmd_create_pool(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint8_t id = shim_get_u8(c->r);
	uint16_t count = shim_get_u16(c->r);
	uint16_t size = shim_get_u16(c->r);
	uint8_t ud = shim_get_u8(c->r);
	char name[SHIM_NAME_MAX];

	shim_get_str(c->r, name, sizeof(name));
	if (c->r->error) {
		return;
	}
	c->ret = new_id(core, id < SHIM_MAX_POOLS && core->pools[id], id, SHIM_MAX_POOLS);
	if (c->ret == 0 && count == 0U) {
		c->ret = -SHIM_EINVAL;
	}
	if (c->ret == 0 && (count > core->info.pool_buf_count ||
			    size > core->info.pool_buf_size ||
			    ud > core->info.pool_user_data)) {
		c->ret = -SHIM_ENOMEM;
	}
	if (c->ret == 0) {
		c->ret = core->plat->pool_create(core->ctx, id, count, size, ud, name);
	}
	if (c->ret == 0) {
		core->pools[id] = true;
	}
}

static void cmd_create_source(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint8_t id = shim_get_u8(c->r);
	char name[SHIM_NAME_MAX];

	shim_get_str(c->r, name, sizeof(name));
	if (c->r->error) {
		return;
	}
	c->ret = new_id(core, source_ok(core, id), id, SHIM_MAX_SOURCES);
	if (c->ret == 0) {
		c->ret = core->plat->source_create(core->ctx, id, name);
	}
	if (c->ret == 0) {
		core->sources[id] = true;
		memcpy(core->source_names[id], name, sizeof(name));
	}
}

static void cmd_create_queue(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint8_t id = shim_get_u8(c->r);
	char name[SHIM_NAME_MAX];
	char thread[SHIM_NAME_MAX];
	struct shim_queue_def def = { .name = name, .thread_name = thread };

	def.size = shim_get_u16(c->r);
	def.prio = shim_get_i8(c->r);
	def.stack_size = shim_get_u16(c->r);
	shim_get_str(c->r, name, sizeof(name));
	shim_get_str(c->r, thread, sizeof(thread));
	if (c->r->error) {
		return;
	}
	c->ret = new_id(core, queue_ok(core, id), id, SHIM_MAX_QUEUES);
	if (c->ret == 0 && def.size == 0U) {
		c->ret = -SHIM_EINVAL;
	}
	if (c->ret == 0 && def.size > core->info.queue_max_size) {
		c->ret = -SHIM_ENOMEM;
	}
	if (c->ret == 0) {
		c->ret = core->plat->queue_create(core->ctx, id, &def);
	}
	if (c->ret == 0) {
		core->queues[id] = true;
	}
}

static bool parse_step(struct shim_reader *r, struct shim_step *st, bool *too_long)
{
	memset(st, 0, sizeof(*st));
	st->op = shim_get_u8(r);
	switch (st->op) {
	case SHIM_ST_RECORD:
	case SHIM_ST_DROP:
		break;
	case SHIM_ST_CPU_US:
	case SHIM_ST_CPU_CYCLES:
		st->value = shim_get_u32(r);
		break;
	case SHIM_ST_SLEEP:
		st->tmo = shim_get_i32(r);
		break;
	case SHIM_ST_FORWARD: {
		const uint8_t *hdr;

		st->source = shim_get_u8(r);
		st->pool = shim_get_u8(r);
		st->tmo = shim_get_i32(r);
		st->hdr_kind = shim_get_u8(r);
		st->hdr_len = shim_get_u8(r);
		hdr = shim_get_mem(r, st->hdr_len);
		if (hdr != NULL && st->hdr_len > SHIM_MAX_HEADER) {
			*too_long = true;
		} else if (hdr != NULL) {
			memcpy(st->hdr, hdr, st->hdr_len);
		}
		break;
	}
	default:
		r->error = true;
		break;
	}
	return !r->error;
}

static void cmd_create_sink(struct cmd *c)
{
	struct shim_core *core = c->core;
	struct shim_sink_def def = { .used = true };
	uint8_t id = shim_get_u8(c->r);
	uint8_t nsteps;
	bool too_long = false;
	bool too_many;

	def.queue = shim_get_u8(c->r);
	shim_get_str(c->r, def.name, sizeof(def.name));
	nsteps = shim_get_u8(c->r);
	too_many = nsteps > SHIM_MAX_STEPS;
	for (uint8_t i = 0; i < nsteps && !c->r->error; i++) {
		struct shim_step st;

		if (parse_step(c->r, &st, &too_long) && i < SHIM_MAX_STEPS) {
			def.steps[i] = st;
		}
	}
	if (c->r->error) {
		return;
	}
	def.nsteps = too_many ? 0U : nsteps;
	c->ret = new_id(core, sink_ok(core, id), id, SHIM_MAX_SINKS);
	if (c->ret != 0) {
		return;
	}
	if (too_many || too_long) {
		c->ret = -SHIM_ENOMEM;
		return;
	}
	if (def.queue != SHIM_NO_ID && !queue_ok(core, def.queue)) {
		c->ret = -SHIM_ENOENT;
		return;
	}
	for (uint8_t i = 0; i < def.nsteps; i++) {
		if (def.steps[i].op == SHIM_ST_FORWARD &&
		    (!source_ok(core, def.steps[i].source) || !pool_ok(core, def.steps[i].pool))) {
			c->ret = -SHIM_ENOENT;
			return;
		}
	}
	core->sinks[id] = def;
	c->ret = core->plat->sink_create(core->ctx, id, def.queue, def.name);
	if (c->ret != 0) {
		core->sinks[id].used = false;
	}
}

static void cmd_connect(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint8_t source = shim_get_u8(c->r);
	uint8_t sink = shim_get_u8(c->r);
	uint8_t runtime = shim_get_u8(c->r);

	if (c->r->error) {
		return;
	}
	if (!core->have_reset) {
		c->ret = -SHIM_EINVAL;
	} else if (runtime != 0U) {
		c->ret = connect_runtime(core, source, sink);
	} else if (!source_ok(core, source) || !sink_ok(core, sink)) {
		c->ret = -SHIM_ENOENT;
	} else if (core->started) {
		c->ret = -SHIM_EBUSY;
	} else if (find_conn(core, source, sink) >= 0) {
		c->ret = -SHIM_EALREADY;
	} else if (core->nconns >= SHIM_MAX_CONNECTIONS) {
		c->ret = -SHIM_ENOMEM;
	} else {
		core->conns[core->nconns++] = (struct shim_conn){ source, sink, false };
		c->ret = 0;
	}
}

static void cmd_disconnect(struct cmd *c)
{
	uint8_t source = shim_get_u8(c->r);
	uint8_t sink = shim_get_u8(c->r);

	if (c->r->error) {
		return;
	}
	c->ret = c->core->have_reset ? disconnect(c->core, source, sink) : -SHIM_EINVAL;
}

static void get_send_args(struct shim_reader *r, struct shim_send_args *a)
{
	a->source = shim_get_u8(r);
	a->pool = shim_get_u8(r);
	a->flags = shim_get_u8(r);
	a->tmo = shim_get_i32(r);
	a->size = shim_get_u16(r);
	a->pattern = shim_get_u8(r);
	a->arg = shim_get_u8(r);
}

struct call_send {
	struct shim_core *core;
	struct shim_send_args a;
	const uint8_t *data;
};

static int call_send(void *arg)
{
	struct call_send *cs = arg;

	return pattern_send(cs->core, &cs->a, &cs->core->direct, cs->data, SHIM_ORIGIN_SEND,
			    SHIM_NO_ID);
}

static void cmd_send(struct cmd *c)
{
	struct call_send cs = { .core = c->core };

	get_send_args(c->r, &cs.a);
	if (cs.a.pattern == SHIM_PAT_EXPLICIT) {
		cs.data = shim_get_mem(c->r, cs.a.size);
	}
	if (c->r->error) {
		return;
	}
	if (!c->core->have_reset) {
		c->ret = -SHIM_EINVAL;
		return;
	}
	c->ret = c->core->plat->call(c->core->ctx, call_send, &cs);
}

struct call_process {
	struct shim_core *core;
	uint8_t queue;
	int32_t tmo;
};

static int call_process(void *arg)
{
	struct call_process *cp = arg;

	return process_queue(cp->core, cp->queue, cp->tmo);
}

static void cmd_process(struct cmd *c)
{
	struct call_process cp = { .core = c->core };

	cp.queue = shim_get_u8(c->r);
	cp.tmo = shim_get_i32(c->r);
	if (c->r->error) {
		return;
	}
	if (!c->core->have_reset) {
		c->ret = -SHIM_EINVAL;
	} else if (!queue_ok(c->core, cp.queue)) {
		c->ret = -SHIM_ENOENT;
	} else {
		c->ret = c->core->plat->call(c->core->ctx, call_process, &cp);
	}
}

static void cmd_add_periodic(struct cmd *c)
{
	struct shim_core *core = c->core;
	struct shim_stimulus st = { .used = true, .periodic = true };
	uint8_t id = shim_get_u8(c->r);

	st.send.source = shim_get_u8(c->r);
	st.send.pool = shim_get_u8(c->r);
	st.prio = shim_get_i8(c->r);
	st.stack_size = shim_get_u16(c->r);
	st.start = shim_get_u32(c->r);
	st.period = shim_get_u32(c->r);
	st.count = shim_get_u32(c->r);
	st.send.size = shim_get_u16(c->r);
	st.send.pattern = shim_get_u8(c->r);
	st.send.arg = shim_get_u8(c->r);
	st.send.tmo = shim_get_i32(c->r);
	st.send.flags = shim_get_u8(c->r);
	shim_get_str(c->r, st.thread_name, sizeof(st.thread_name));
	if (c->r->error) {
		return;
	}
	c->ret = new_id(core, id < SHIM_MAX_STIMULI && core->stimuli[id].used, id,
			SHIM_MAX_STIMULI);
	if (c->ret == 0 && (!source_ok(core, st.send.source) || !pool_ok(core, st.send.pool))) {
		c->ret = -SHIM_ENOENT;
	}
	if (c->ret == 0) {
		core->stimuli[id] = st;
	}
}

static void cmd_add_script(struct cmd *c)
{
	struct shim_core *core = c->core;
	struct shim_stimulus st = { .used = true };
	uint8_t id = shim_get_u8(c->r);

	st.prio = shim_get_i8(c->r);
	st.stack_size = shim_get_u16(c->r);
	shim_get_str(c->r, st.thread_name, sizeof(st.thread_name));
	if (c->r->error) {
		return;
	}
	c->ret = new_id(core, id < SHIM_MAX_STIMULI && core->stimuli[id].used, id,
			SHIM_MAX_STIMULI);
	if (c->ret == 0) {
		core->stimuli[id] = st;
	}
}

static void cmd_add_step(struct cmd *c)
{
	struct shim_core *core = c->core;
	struct shim_script_step s = { 0 };

	s.stim = shim_get_u8(c->r);
	s.at = shim_get_u32(c->r);
	s.op = shim_get_u8(c->r);
	switch (s.op) {
	case SHIM_OP_SEND:
		get_send_args(c->r, &s.send);
		break;
	case SHIM_OP_PROCESS:
		s.a = shim_get_u8(c->r);
		s.send.tmo = shim_get_i32(c->r);
		break;
	case SHIM_OP_CONNECT:
	case SHIM_OP_DISCONNECT:
		s.a = shim_get_u8(c->r);
		s.b = shim_get_u8(c->r);
		break;
	default:
		c->r->error = true;
		break;
	}
	if (c->r->error) {
		return;
	}
	if (!core->have_reset) {
		c->ret = -SHIM_EINVAL;
	} else if (s.stim >= SHIM_MAX_STIMULI || !core->stimuli[s.stim].used) {
		c->ret = -SHIM_ENOENT;
	} else if (core->stimuli[s.stim].periodic || core->started) {
		c->ret = core->started ? -SHIM_EBUSY : -SHIM_EINVAL;
	} else if (core->nscript >= SHIM_MAX_SCRIPT_STEPS) {
		c->ret = -SHIM_ENOMEM;
	} else {
		core->script[core->nscript++] = s;
		c->ret = 0;
	}
}

static void sort_key(struct shim_core *core, const struct shim_conn *cn, char *out, size_t cap)
{
	size_t n = 0;
	const char *parts[] = { "__connection_", core->source_names[cn->source], "_",
				core->sinks[cn->sink].name };

	for (size_t p = 0; p < 4; p++) {
		for (const char *s = parts[p]; *s != '\0' && n + 1 < cap; s++) {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

/* Wire the static connections in link order, then the runtime ones in command order. */
static void wire_connections(struct shim_core *core)
{
	uint8_t order[SHIM_MAX_CONNECTIONS];
	uint8_t n = 0;
	char a[3 * SHIM_NAME_MAX];
	char b[3 * SHIM_NAME_MAX];

	for (uint8_t i = 0; i < core->nconns; i++) {
		if (core->conns[i].runtime) {
			continue;
		}
		uint8_t j = n++;

		sort_key(core, &core->conns[i], a, sizeof(a));
		while (j > 0) {
			sort_key(core, &core->conns[order[j - 1]], b, sizeof(b));
			if (strcmp(b, a) <= 0) {
				break;
			}
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (uint8_t i = 0; i < n; i++) {
		const struct shim_conn *cn = &core->conns[order[i]];

		(void)core->plat->connect(core->ctx, cn->source, cn->sink, false);
	}
	for (uint8_t i = 0; i < core->nconns; i++) {
		if (core->conns[i].runtime) {
			(void)core->plat->connect(core->ctx, core->conns[i].source,
						  core->conns[i].sink, true);
		}
	}
}

static void start_run(struct shim_core *core, uint32_t ticks)
{
	if (!core->started) {
		core->t0 = core->plat->uptime_ticks(core->ctx);
		core->started = true;
		wire_connections(core);
		for (uint8_t i = 0; i < SHIM_MAX_STIMULI; i++) {
			struct shim_stimulus *st = &core->stimuli[i];
			struct shim_thread_def def = {
				.prio = st->prio,
				.stack_size = st->stack_size,
				.name = st->thread_name,
			};

			if (st->used) {
				(void)core->plat->stimulus_start(core->ctx, i, &def);
			}
		}
	}
	core_lock(core);
	if (core->frozen) {
		/* continue the scenario clock where the last run stopped it */
		core->t0 += core->plat->uptime_ticks(core->ctx) - core->run_end;
		core->frozen = false;
	}
	core->run_end = core->plat->uptime_ticks(core->ctx) + ticks;
	core_unlock(core);
	core->plat->run(core->ctx, core->run_end);
}

static void cmd_run(struct cmd *c)
{
	uint32_t ticks = shim_get_u32(c->r);

	if (c->r->error) {
		return;
	}
	if (!c->core->have_reset) {
		c->ret = -SHIM_EINVAL;
	} else if (c->core->running) {
		c->ret = -SHIM_EBUSY;
	} else {
		c->core->running = true;
		c->core->run_pending = true;
		c->core->run_ticks = ticks;
		c->ret = 0;
	}
}

static void cmd_read_stats(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint8_t kind = shim_get_u8(c->r);
	uint8_t id = shim_get_u8(c->r);
	uint32_t v[3] = { 0 };
	bool exists;

	if (c->r->error) {
		return;
	}
	switch (kind) {
	case 0:
		exists = source_ok(core, id);
		break;
	case 1:
		exists = sink_ok(core, id);
		break;
	case 2:
		exists = queue_ok(core, id);
		break;
	case 3:
		exists = pool_ok(core, id);
		break;
	default:
		c->ret = -SHIM_EINVAL;
		return;
	}
	if (!exists) {
		c->ret = -SHIM_ENOENT;
		return;
	}
	if (kind != 3U && (core->flags & SHIM_FEAT_STATS) == 0U) {
		c->ret = -SHIM_ENOTSUP;
		return;
	}
	c->ret = core->plat->stats(core->ctx, kind, id, v);
	if (c->ret != 0) {
		return;
	}
	if (kind == 3U) {
		shim_put_u16(c->w, (uint16_t)v[0]);
		shim_put_u16(c->w, (uint16_t)v[1]);
	} else if (kind == 2U) {
		shim_put_u32(c->w, v[0]);
		shim_put_u16(c->w, (uint16_t)v[1]);
		shim_put_u16(c->w, (uint16_t)v[2]);
	} else {
		shim_put_u32(c->w, v[0]);
		shim_put_u32(c->w, v[1]);
	}
}

static void cmd_get_reports(struct cmd *c)
{
	struct shim_core *core = c->core;
	uint32_t from = shim_get_u32(c->r);
	uint16_t max = shim_get_u16(c->r);
	uint32_t end;

	if (c->r->error) {
		return;
	}
	core_lock(core);
	if (from > core->total) {
		from = core->total;
	}
	if ((int32_t)(from - core->oldest) > 0) {
		core->oldest = from;
	}
	end = (uint32_t)max > core->total - from ? core->total : from + max;
	for (uint32_t i = from > core->oldest ? from : core->oldest; i < end; i++) {
		const struct shim_report_slot *slot = &core->ring[i % SHIM_REPORT_RING];

		transmit(core, slot->type, 0, slot->payload, slot->len);
	}
	c->ret = 0;
	shim_put_u32(c->w, core->total);
	shim_put_u32(c->w, core->oldest);
	shim_put_u8(c->w, core->running ? 1U : 0U);
	shim_put_u32(c->w, core->lost);
	core_unlock(core);
}

static void execute(struct shim_core *core, const struct shim_frame *frame)
{
	struct shim_reader r = { .buf = frame->payload, .len = frame->len };
	struct shim_writer w = { .buf = core->resp, .cap = sizeof(core->resp) };
	struct cmd c = { .core = core, .r = &r, .w = &w, .ret = 0 };
	struct shim_cached *slot;
	uint8_t type = frame->type | SHIM_RESPONSE_BIT;

	shim_put_i32(&w, 0);
	switch (frame->type) {
	case SHIM_HELLO:
		cmd_hello(&c);
		break;
	case SHIM_RESET:
		cmd_reset(&c);
		break;
	case SHIM_CREATE_POOL:
		cmd_create_pool(&c);
		break;
	case SHIM_CREATE_SOURCE:
		cmd_create_source(&c);
		break;
	case SHIM_CREATE_QUEUE:
		cmd_create_queue(&c);
		break;
	case SHIM_CREATE_SINK:
		cmd_create_sink(&c);
		break;
	case SHIM_CONNECT:
		cmd_connect(&c);
		break;
	case SHIM_DISCONNECT:
		cmd_disconnect(&c);
		break;
	case SHIM_SEND:
		cmd_send(&c);
		break;
	case SHIM_PROCESS:
		cmd_process(&c);
		break;
	case SHIM_ADD_PERIODIC:
		cmd_add_periodic(&c);
		break;
	case SHIM_ADD_SCRIPT:
		cmd_add_script(&c);
		break;
	case SHIM_ADD_STEP:
		cmd_add_step(&c);
		break;
	case SHIM_RUN:
		cmd_run(&c);
		break;
	case SHIM_STOP:
		break;
	case SHIM_READ_STATS:
		cmd_read_stats(&c);
		break;
	case SHIM_READ_UPTIME:
		shim_put_u64(&w, shim_core_clock(core));
		shim_put_u8(&w, core->running ? 1U : 0U);
		break;
	case SHIM_GET_REPORTS:
		cmd_get_reports(&c);
		break;
	case SHIM_PING:
		shim_put_mem(&w, frame->payload, frame->len);
		break;
	default:
		type = SHIM_ERROR;
		c.ret = -SHIM_ENOTSUP;
		break;
	}
	if (r.error) {
		type = SHIM_ERROR;
		c.ret = -SHIM_EBADMSG;
		w.len = 4;
	} else if (w.overflow) {
		type = SHIM_ERROR;
		c.ret = -SHIM_EMSGSIZE;
		w.len = 4;
	}
	w.len = w.len > 4U && type == SHIM_ERROR ? 4U : w.len;
	core->resp[0] = (uint8_t)c.ret;
	core->resp[1] = (uint8_t)((uint32_t)c.ret >> 8);
	core->resp[2] = (uint8_t)((uint32_t)c.ret >> 16);
	core->resp[3] = (uint8_t)((uint32_t)c.ret >> 24);

	core_lock(core);
	core->last = frame->seq;
	slot = &core->cache[core->cache_next];
	core->cache_next = (uint8_t)((core->cache_next + 1U) % SHIM_RX_WINDOW);
	slot->used = true;
	slot->type = type;
	slot->seq = frame->seq;
	slot->len = (uint16_t)w.len;
	memcpy(slot->payload, core->resp, w.len);
	transmit(core, type, frame->seq, slot->payload, slot->len);
	core_unlock(core);

	if (core->run_pending) {
		core->run_pending = false;
		start_run(core, core->run_ticks);
	}
}

static void on_frame(void *user, const struct shim_frame *frame)
{
	struct shim_core *core = user;
	uint8_t nak[5];
	uint32_t ret = (uint32_t)-SHIM_EILSEQ;

	if (frame->type < SHIM_HELLO || frame->type > 0x3FU) {
		return;
	}
	if (frame->type == SHIM_HELLO) {
		core_lock(core);
		memset(core->cache, 0, sizeof(core->cache));
		core->cache_next = 0;
		core_unlock(core);
		execute(core, frame);
		return;
	}
	if (frame->seq == (uint16_t)(core->last + 1U)) {
		execute(core, frame);
		return;
	}
	core_lock(core);
	for (uint8_t i = 0; i < SHIM_RX_WINDOW; i++) {
		const struct shim_cached *slot = &core->cache[i];

		if (slot->used && slot->seq == frame->seq) {
			transmit(core, slot->type, slot->seq, slot->payload, slot->len);
			core_unlock(core);
			return;
		}
	}
	nak[0] = (uint8_t)ret;
	nak[1] = (uint8_t)(ret >> 8);
	nak[2] = (uint8_t)(ret >> 16);
	nak[3] = (uint8_t)(ret >> 24);
	nak[4] = NAK_OUT_OF_SEQUENCE;
	transmit(core, SHIM_NAK, frame->seq, nak, sizeof(nak));
	core_unlock(core);
}

void shim_core_rx(struct shim_core *core, const uint8_t *data, size_t len)
{
	shim_decoder_feed(&core->dec, data, len, on_frame, core);
}

void shim_core_init(struct shim_core *core, const struct shim_platform *plat, void *ctx,
		    const struct shim_board_info *info)
{
	memset(core, 0, sizeof(*core));
	core->plat = plat;
	core->ctx = ctx;
	core->info = *info;
	shim_decoder_init(&core->dec, core->rx_acc, core->rx_body, SHIM_MAX_FRAME);
	pattern_init(&core->direct, 0, SHIM_NO_ID);
}
