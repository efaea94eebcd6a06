/*
 * Checks the shim core against the protocol's shared test vectors.
 *
 * Reads lines on standard input (the test turns the JSON vector files into them):
 *   crc DATA CRC             cobs DECODED ENCODED        invalid REASON WIRE
 *   frame NAME WIRE          stream NAME HEX BODY...      pattern SEED STIM PAT ARG SIZE
 *                                                                 STATE0 SEND1 SEND2 SEND3
 *   session                  (runs the command frames through a core; see below)
 * Prints "FAIL ..." lines, "tx NAME HEX" for the frames a session transmits, "call ..."
 * for the platform calls it makes, and "N passed, M failed" at the end.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/shim_core.h"
#include "../core/shim_errno.h"

#define MAX_HEX 8192
#define MAX_FRAMES 96

static unsigned int passed;
static unsigned int failed;

static void check(int ok, const char *what, const char *name)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL %s %s\n", what, name);
	}
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (strcmp(s, "-") == 0) {
		return 0;
	}
	while (s[0] != '\0' && s[1] != '\0' && n < cap) {
		unsigned int v;

		if (sscanf(s, "%2x", &v) != 1) {
			break;
		}
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void hexout(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("%02x", d[i]);
	}
}

/* ------------------------------------------------------------------ frames */

struct vframe {
	char name[40];
	uint8_t wire[2048];
	size_t len;
};

static struct vframe frames[MAX_FRAMES];
static size_t nframes;

static const struct vframe *vec(const char *name)
{
	for (size_t i = 0; i < nframes; i++) {
		if (strcmp(frames[i].name, name) == 0) {
			return &frames[i];
		}
	}
	fprintf(stderr, "no vector %s\n", name);
	exit(2);
}

static void check_frame(struct vframe *v)
{
	uint8_t body[SHIM_MAX_FRAME_LIMIT];
	uint8_t again[2100];
	struct shim_frame f;
	int n;
	size_t w;

	n = shim_cobs_decode(v->wire, v->len - 1, body, sizeof(body));
	check(n > 0 && v->wire[v->len - 1] == 0, "frame-cobs", v->name);
	if (n <= 0) {
		return;
	}
	check(shim_frame_parse(body, (size_t)n, &f), "frame-parse", v->name);
	w = shim_frame_wire(&f, again, sizeof(again));
	check(w == v->len && memcmp(again, v->wire, w) == 0, "frame-encode", v->name);
}

/* ------------------------------------------------------------------ streams */

struct collected {
	uint8_t bodies[16][SHIM_MAX_FRAME_LIMIT];
	size_t lens[16];
	size_t n;
};

static void collect(void *user, const struct shim_frame *f)
{
	struct collected *c = user;

	if (c->n < 16) {
		struct shim_frame copy = *f;

		c->lens[c->n] = shim_frame_body(&copy, c->bodies[c->n], SHIM_MAX_FRAME_LIMIT);
		c->n++;
	}
}

static void check_stream(char *name, char *hex, char **bodies, size_t nbodies)
{
	static uint8_t data[MAX_HEX];
	static uint8_t acc[SHIM_COBS_MAX(SHIM_MAX_FRAME_LIMIT)];
	static uint8_t body[SHIM_MAX_FRAME_LIMIT];
	struct shim_decoder dec;
	struct collected c = { .n = 0 };
	size_t n = unhex(hex, data, sizeof(data));
	int ok;

	/* byte by byte, as a UART delivers it */
	shim_decoder_init(&dec, acc, body, SHIM_MAX_FRAME_LIMIT);
	for (size_t i = 0; i < n; i++) {
		shim_decoder_feed(&dec, &data[i], 1, collect, &c);
	}
	ok = c.n == nbodies;
	for (size_t i = 0; ok && i < nbodies; i++) {
		uint8_t want[SHIM_MAX_FRAME_LIMIT];
		size_t wl = unhex(bodies[i], want, sizeof(want));

		ok = wl == c.lens[i] && memcmp(want, c.bodies[i], wl) == 0;
	}
	check(ok, "stream", name);
}

/* ------------------------------------------------------------------ session */

struct shim_buf {
	uint8_t data[1024];
	size_t len;
	struct shim_bufref ref;
	struct shim_buf *next;
};

static struct shim_core core;
static struct shim_buf fake_buf;
static uint64_t uptime;
static uint8_t credit_now = SHIM_RX_WINDOW;
static const char *tx_name = "?";
static int fake_send_ret = 2;

static void f_write(void *ctx, const uint8_t *d, size_t n)
{
	(void)ctx;
	printf("tx %s ", tx_name);
	hexout(d, n);
	printf("\n");
}

static uint8_t f_credit(void *ctx)
{
	(void)ctx;
	return credit_now;
}

static uint64_t f_uptime(void *ctx)
{
	(void)ctx;
	return uptime;
}

static void f_reset(void *ctx, uint8_t flags)
{
	(void)ctx;
	printf("call reset %u\n", flags);
}

static int f_pool(void *ctx, uint8_t id, uint16_t count, uint16_t size, uint8_t ud,
		  const char *name)
{
	(void)ctx;
	printf("call pool_create %u %u %u %u %s\n", id, count, size, ud, name);
	return 0;
}

static int f_source(void *ctx, uint8_t id, const char *name)
{
	(void)ctx;
	printf("call source_create %u %s\n", id, name);
	return 0;
}

static int f_queue(void *ctx, uint8_t id, const struct shim_queue_def *d)
{
	(void)ctx;
	printf("call queue_create %u %u %d %u %s %s\n", id, d->size, d->prio, d->stack_size,
	       d->name, d->thread_name);
	return 0;
}

static int f_sink(void *ctx, uint8_t id, uint8_t queue, const char *name)
{
	const struct shim_sink_def *s = &core.sinks[id];

	(void)ctx;
	printf("call sink_create %u %u %s", id, queue, name);
	for (uint8_t i = 0; i < s->nsteps; i++) {
		const struct shim_step *st = &s->steps[i];

		printf(" [%u %u %d %u %u %u ", st->op, (unsigned int)st->value, (int)st->tmo,
		       st->source, st->pool, st->hdr_kind);
		hexout(st->hdr, st->hdr_len);
		printf("]");
	}
	printf("\n");
	return 0;
}

static int f_connect(void *ctx, uint8_t src, uint8_t sink, bool runtime)
{
	(void)ctx;
	printf("call connect %u %u %u\n", src, sink, runtime ? 1U : 0U);
	return 0;
}

static int f_disconnect(void *ctx, uint8_t src, uint8_t sink)
{
	(void)ctx;
	printf("call disconnect %u %u\n", src, sink);
	return 0;
}

static int f_stim(void *ctx, uint8_t stim, const struct shim_thread_def *d)
{
	const struct shim_stimulus *s = &core.stimuli[stim];

	(void)ctx;
	printf("call stimulus_start %u %d %u %s %u", stim, d->prio, d->stack_size, d->name,
	       s->periodic ? 1U : 0U);
	if (s->periodic) {
		printf(" %u %u %u %u %u %u %u %d %u", s->send.source, s->send.pool, s->start,
		       s->period, s->count, s->send.size, s->send.pattern, (int)s->send.tmo,
		       s->send.flags);
		printf(" %u", s->send.arg);
	}
	for (uint16_t i = 0; i < core.nscript; i++) {
		const struct shim_script_step *st = &core.script[i];

		if (st->stim != stim) {
			continue;
		}
		printf(" [%u %u", (unsigned int)st->at, st->op);
		if (st->op == SHIM_OP_SEND) {
			printf(" %u %u %u %d %u %u %u", st->send.source, st->send.pool,
			       st->send.flags, (int)st->send.tmo, st->send.size, st->send.pattern,
			       st->send.arg);
		} else if (st->op == SHIM_OP_PROCESS) {
			printf(" %u %d", st->a, (int)st->send.tmo);
		} else {
			printf(" %u %u", st->a, st->b);
		}
		printf("]");
	}
	printf("\n");
	return 0;
}

static void f_run(void *ctx, uint64_t end)
{
	(void)ctx;
	printf("call run %llu\n", (unsigned long long)(end - uptime));
}

static int f_call(void *ctx, int (*fn)(void *arg), void *arg)
{
	(void)ctx;
	return fn(arg);
}

static struct shim_buf *f_alloc(void *ctx, uint8_t pool)
{
	(void)ctx;
	memset(&fake_buf, 0, sizeof(fake_buf));
	fake_buf.ref.pool = pool;
	return &fake_buf;
}

static int f_add(void *ctx, struct shim_buf *b, const uint8_t *d, size_t n)
{
	(void)ctx;
	if (b->len + n > sizeof(b->data)) {
		return -SHIM_EMSGSIZE;
	}
	memcpy(b->data + b->len, d, n);
	b->len += n;
	return 0;
}

static size_t f_tailroom(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	return sizeof(b->data) - b->len;
}

static struct shim_buf *f_ref(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	return b;
}

static void f_unref(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	(void)b;
}

static void f_frag(void *ctx, struct shim_buf *h, struct shim_buf *f)
{
	(void)ctx;
	h->next = f;
}

static const uint8_t *f_data(void *ctx, struct shim_buf *b, size_t *n)
{
	(void)ctx;
	*n = b->len;
	return b->data;
}

static struct shim_buf *f_next(void *ctx, struct shim_buf *b)
{
	(void)ctx;
	return b->next;
}

static void f_info(void *ctx, struct shim_buf *b, struct shim_bufref *ref)
{
	(void)ctx;
	*ref = b->ref;
}

static int f_send(void *ctx, uint8_t src, struct shim_buf *b, int32_t tmo, bool consume)
{
	(void)ctx;
	printf("call send %u %d %u ", src, (int)tmo, consume ? 1U : 0U);
	hexout(b->data, b->len);
	printf("\n");
	return fake_send_ret;
}

static int f_process(void *ctx, uint8_t q, int32_t tmo)
{
	(void)ctx;
	printf("call process %u %d\n", q, (int)tmo);
	return -SHIM_EAGAIN;
}

static void f_sleep(void *ctx, int32_t t)
{
	(void)ctx;
	(void)t;
}

static void f_sleep_until(void *ctx, uint64_t t)
{
	(void)ctx;
	(void)t;
}

static void f_busy(void *ctx, uint32_t v)
{
	(void)ctx;
	(void)v;
}

static int f_stats(void *ctx, uint8_t kind, uint8_t id, uint32_t out[3])
{
	(void)ctx;
	printf("call stats %u %u\n", kind, id);
	out[0] = 25;
	out[1] = 3;
	return 0;
}

static const struct shim_platform fake = {
	.write = f_write, .rx_credit = f_credit, .uptime_ticks = f_uptime, .reset = f_reset,
	.pool_create = f_pool, .source_create = f_source, .queue_create = f_queue,
	.sink_create = f_sink, .connect = f_connect, .disconnect = f_disconnect,
	.stimulus_start = f_stim, .run = f_run, .call = f_call, .alloc = f_alloc,
	.buf_add = f_add, .buf_tailroom = f_tailroom, .buf_ref = f_ref, .buf_unref = f_unref,
	.buf_frag_add = f_frag, .buf_data = f_data, .buf_next = f_next, .buf_info = f_info,
	.send = f_send, .process = f_process, .sleep = f_sleep, .sleep_until = f_sleep_until,
	.busy_wait_us = f_busy, .busy_cycles = f_busy, .stats = f_stats,
};

static void feed(const char *name)
{
	const struct vframe *v = vec(name);

	tx_name = name;
	shim_core_rx(&core, v->wire, v->len);
}

static void feed_cmd(const char *as, uint8_t type, uint16_t seq)
{
	uint8_t wire[64];
	struct shim_frame f = { .type = type, .seq = seq };
	uint8_t payload[3] = { SHIM_PROTO_VERSION, 0x00, 0x04 };
	size_t n;

	if (type == SHIM_HELLO) {
		f.payload = payload;
		f.len = sizeof(payload);
	}
	n = shim_frame_wire(&f, wire, sizeof(wire));
	tx_name = as;
	shim_core_rx(&core, wire, n);
}

static void set_buf(uint8_t pool, uint16_t index, uint32_t nth, size_t len)
{
	memset(&fake_buf, 0, sizeof(fake_buf));
	fake_buf.ref = (struct shim_bufref){ pool, index, nth };
	fake_buf.len = len;
}

static void at(uint32_t index, uint64_t tick)
{
	core.total = index;
	core.oldest = index;
	core.started = true;
	core.t0 = 0;
	core.frozen = false;
	core.run_end = tick;
	uptime = tick;
}

static void run_session(void)
{
	struct shim_board_info info = {
		.board = "nrf52840dk/nrf52840",
		.build_id = "v0.1.0-3-gabcdef",
		.ticks_per_sec = 32768,
		.features = SHIM_FEAT_STATS | SHIM_FEAT_RUNTIME | SHIM_FEAT_NAMES,
		/* the limits of the vector hello_resp_v2 */
		.link_baud = 115200,
		.pool_buf_size = 512,
		.pool_buf_count = 16,
		.pool_user_data = 4,
		.pool_total_bytes = 66048,
		.pool_total_bufs = 128,
		.queue_max_size = 16,
		.queue_total_slots = 128,
	};
	static const char *const commands[] = {
		"reset", "create_pool", "create_source", "create_queue", "create_queue_coop",
		"create_sink_immediate", "create_sink_steps", "connect_static", "connect_runtime",
		"disconnect", "send_pattern", "send_explicit", "process", "add_periodic",
		"add_periodic_forever", "add_script", "add_step_send", "add_step_process",
		"add_step_connect", "add_step_disconnect", "run", "stop", "read_stats",
		"read_uptime",
	};

	shim_core_init(&core, &fake, NULL, &info);
	feed("hello");
	feed("hello_v2");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i], "create_sink_steps") == 0) {
			/* objects the vector's steps refer to */
			core.sources[2] = true;
			core.pools[1] = true;
		}
		if (strcmp(commands[i], "connect_runtime") == 0) {
			core.sinks[3].used = true;
		}
		if (strcmp(commands[i], "read_uptime") == 0) {
			uptime = core.t0 + 4294967301ULL;
		}
		feed(commands[i]);
	}
	core.total = 1234;
	core.running = false;
	feed("get_reports");

	/* reports, each with the index and tick of its vector */
	tx_name = "r_deliver";
	at(1, 12);
	set_buf(1, 3, 7, 258);
	core.measure[0] = (struct shim_measure){ 0, &fake_buf, 258, 0x01020304, { 1, 3, 7 } };
	core.nmeasure = 1;
	shim_core_after_handler(&core, 0, 1, 0, &fake_buf, 0);
	tx_name = "r_enqueue";
	at(2, 12);
	set_buf(1, 3, 7, 256);
	shim_core_report_enqueue(&core, 1, 1, &fake_buf);
	tx_name = "r_drop";
	at(3, 13);
	shim_core_report_drop(&core, 1, 1, &fake_buf, -SHIM_ENOBUFS);
	tx_name = "r_handle";
	at(4, 20);
	core.measure[0] = (struct shim_measure){ 1, &fake_buf, 256, 3421780262U, { 1, 3, 7 } };
	core.nmeasure = 1;
	shim_core_after_handler(&core, 1, 0, 1, &fake_buf, 0);
	tx_name = "r_fault";
	at(5, 21);
	core.measure[0] = (struct shim_measure){ 1, &fake_buf, 256, 0, { 1, 3, 7 } };
	core.nmeasure = 1;
	shim_core_after_handler(&core, 1, 0, 1, &fake_buf, -SHIM_EFAULT);
	tx_name = "r_console";
	at(7, 23);
	shim_core_console(&core, "[00:00:00.001,000] <inf> app: hi");
	tx_name = "r_run_done";
	at(8, 163840);
	shim_core_run_done(&core);

	/* R_PROCESS from a PROCESS command right after the vectors' last command */
	at(6, 22);
	core.queues[0] = true;
	{
		uint8_t wire[64];
		uint8_t payload[5] = { 0, 0, 0, 0, 0 };
		struct shim_frame f = { .type = SHIM_PROCESS, .seq = 26, .payload = payload,
					.len = sizeof(payload) };
		size_t n = shim_frame_wire(&f, wire, sizeof(wire));

		tx_name = "r_process";
		shim_core_rx(&core, wire, n);
	}

	/* sequence handling: a fresh HELLO at 25, a gap (NAK), an unknown type (ERROR) */
	feed_cmd("hello_again", SHIM_HELLO, 25);
	feed_cmd("nak", SHIM_STOP, 30);
	feed_cmd("error_unknown", 0x3F, 26);
	feed_cmd("duplicate", 0x3F, 26);

	/* PING at seq 65535 after a HELLO at 65534, with one command of credit */
	feed_cmd("hello_wrap", SHIM_HELLO, 65534);
	credit_now = 1;
	feed("ping");
	credit_now = SHIM_RX_WINDOW;
}

/* ------------------------------------------------------------------ main */

int main(void)
{
	static char line[4 * MAX_HEX];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *tok[16];
		size_t n = 0;

		for (char *t = strtok(line, " \n"); t != NULL && n < 16; t = strtok(NULL, " \n")) {
			tok[n++] = t;
		}
		if (n == 0) {
			continue;
		}
		if (strcmp(tok[0], "crc") == 0 && n == 3) {
			static uint8_t d[MAX_HEX];
			size_t l = unhex(tok[1], d, sizeof(d));

			check(shim_crc32(0, d, l) == (uint32_t)strtoul(tok[2], NULL, 16), "crc",
			      tok[1]);
		} else if (strcmp(tok[0], "cobs") == 0 && n == 3) {
			static uint8_t dec[MAX_HEX];
			static uint8_t enc[MAX_HEX];
			static uint8_t out[MAX_HEX];
			size_t dl = unhex(tok[1], dec, sizeof(dec));
			size_t el = unhex(tok[2], enc, sizeof(enc));
			size_t ol = shim_cobs_encode(dec, dl, out);
			int back;

			check(ol == el && memcmp(out, enc, el) == 0, "cobs-encode", tok[2]);
			back = shim_cobs_decode(enc, el, out, sizeof(out));
			check(back == (int)dl && memcmp(out, dec, dl) == 0, "cobs-decode", tok[2]);
		} else if (strcmp(tok[0], "frame") == 0 && n == 3 && nframes < MAX_FRAMES) {
			struct vframe *v = &frames[nframes++];

			snprintf(v->name, sizeof(v->name), "%s", tok[1]);
			v->len = unhex(tok[2], v->wire, sizeof(v->wire));
			check_frame(v);
		} else if (strcmp(tok[0], "stream") == 0 && n >= 3) {
			check_stream(tok[1], tok[2], &tok[3], n - 3);
		} else if (strcmp(tok[0], "invalid") == 0 && n == 3) {
			static uint8_t acc[SHIM_COBS_MAX(SHIM_MAX_FRAME_LIMIT)];
			static uint8_t body[SHIM_MAX_FRAME_LIMIT];
			static uint8_t d[MAX_HEX];
			struct shim_decoder dec;
			struct collected c = { .n = 0 };
			size_t l = unhex(tok[2], d, sizeof(d));

			shim_decoder_init(&dec, acc, body, SHIM_MAX_FRAME_LIMIT);
			shim_decoder_feed(&dec, d, l, collect, &c);
			check(c.n == 0, "invalid", tok[1]);
		} else if (strcmp(tok[0], "pattern") == 0 && n == 10) {
			struct shim_pattern g = { 0 };
			uint8_t want[MAX_HEX / 4];
			uint8_t got[MAX_HEX / 4];
			size_t size = strtoul(tok[5], NULL, 10);
			uint8_t pat = (uint8_t)strtoul(tok[3], NULL, 10);
			uint8_t arg = (uint8_t)strtoul(tok[4], NULL, 10);
			int ok;

			g.state = shim_pattern_state0((uint32_t)strtoul(tok[1], NULL, 10),
						      (uint8_t)strtoul(tok[2], NULL, 10));
			ok = g.state == (uint32_t)strtoul(tok[6], NULL, 16);
			for (int k = 0; k < 3 && ok; k++) {
				size_t wl = unhex(tok[7 + k], want, sizeof(want));

				/* in two pieces, as the core fills a buffer chunk by chunk */
				shim_pattern_fill(&g, pat, arg, 0, got, size / 2);
				shim_pattern_fill(&g, pat, arg, size / 2, got + size / 2,
						  size - size / 2);
				g.n++;
				ok = wl == size && memcmp(want, got, size) == 0;
			}
			check(ok, "pattern", tok[6]);
		} else if (strcmp(tok[0], "session") == 0) {
			run_session();
		} else {
			printf("FAIL unknown-line %s\n", tok[0]);
			failed++;
		}
	}
	printf("vectors: %u passed, %u failed\n", passed, failed);
	return failed != 0U ? 1 : 0;
}
