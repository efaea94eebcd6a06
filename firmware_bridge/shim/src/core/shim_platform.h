/*
 * What the shim core needs from the system it runs on. A Zephyr build implements it
 * with UART, packet_io, net_buf and kernel threads (src/main.c); the host build with
 * a small deterministic emulation (src/host/).
 *
 * Object ids are the protocol's ids; timeouts are protocol tmo values (0 no wait,
 * -1 forever, n > 0 ticks); return codes are negative Zephyr errno numbers
 * (shim_errno.h), whatever the host C library uses.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef SHIM_PLATFORM_H_
#define SHIM_PLATFORM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A net_buf, opaque to the core. */
struct shim_buf;

struct shim_bufref {
	uint8_t pool;
	uint16_t index;
	uint32_t nth;
};

/* Objects the core asks the platform to create. */
struct shim_queue_def {
	uint16_t size;
	int8_t prio;
	uint16_t stack_size;
	const char *name;
	const char *thread_name;
};

struct shim_thread_def {
	int8_t prio;
	uint16_t stack_size;
	const char *name;
};

struct shim_platform {
	/* ---- transport and context (called from any core context) ---- */
	void (*write)(void *ctx, const uint8_t *data, size_t len);
	/* Guards report emission and transmission between threads (may be NULL). */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	/* Commands the receive buffer can take now (NULL: always the window). */
	uint8_t (*rx_credit)(void *ctx);
	/*
	 * The report ring is full (called before a report, without the lock): wait until
	 * the host acknowledged reports, if the platform can (an emulated clock stops);
	 * NULL or returning with the ring still full overwrites the oldest report (lost).
	 */
	void (*report_wait)(void *ctx);

	/* ---- clock ---- */
	/* Kernel ticks since boot; the core keeps the scenario clock from it. */
	uint64_t (*uptime_ticks)(void *ctx);

	/* ---- scenario objects (command context, before the first run) ---- */
	/* Destroy every object and thread; flags: bit0 stats, bit1 runtime observers. */
	void (*reset)(void *ctx, uint8_t flags);
	int (*pool_create)(void *ctx, uint8_t id, uint16_t count, uint16_t size,
			   uint8_t user_data_size, const char *name);
	int (*source_create)(void *ctx, uint8_t id, const char *name);
	/* Also starts the queue's processing thread, looping on process(K_FOREVER). */
	int (*queue_create)(void *ctx, uint8_t id, const struct shim_queue_def *def);
	/* queue 0xFF: immediate. The sink's handler calls shim_core_handle_packet(). */
	int (*sink_create)(void *ctx, uint8_t id, uint8_t queue, const char *name);
	/* packet_connection_add (runtime) or the init-time wiring of a static one. */
	int (*connect)(void *ctx, uint8_t source, uint8_t sink, bool runtime);
	int (*disconnect)(void *ctx, uint8_t source, uint8_t sink);
	/* A thread running shim_core_stimulus_main(core, stim). */
	int (*stimulus_start)(void *ctx, uint8_t stim, const struct shim_thread_def *def);
	/*
	 * Run the scenario for ticks; call shim_core_run_done() when the clock reaches
	 * the end (from within, on a simulated system; later, on a real one).
	 */
	void (*run)(void *ctx, uint64_t end_uptime);
	/* Run fn(arg) in the command thread (preemptible, priority 0); its result. */
	int (*call)(void *ctx, int (*fn)(void *arg), void *arg);

	/* ---- inside threads ---- */
	struct shim_buf *(*alloc)(void *ctx, uint8_t pool);
	/* net_buf_add_mem; -EMSGSIZE past the tailroom (nothing added). */
	int (*buf_add)(void *ctx, struct shim_buf *buf, const uint8_t *data, size_t len);
	size_t (*buf_tailroom)(void *ctx, struct shim_buf *buf);
	struct shim_buf *(*buf_ref)(void *ctx, struct shim_buf *buf);
	void (*buf_unref)(void *ctx, struct shim_buf *buf);
	void (*buf_frag_add)(void *ctx, struct shim_buf *head, struct shim_buf *frag);
	/* The bytes of one fragment, and the next fragment of its chain. */
	const uint8_t *(*buf_data)(void *ctx, struct shim_buf *buf, size_t *len);
	struct shim_buf *(*buf_next)(void *ctx, struct shim_buf *buf);
	void (*buf_info)(void *ctx, struct shim_buf *buf, struct shim_bufref *ref);
	/* packet_source_send (consume false) or packet_source_send_consume. */
	int (*send)(void *ctx, uint8_t source, struct shim_buf *buf, int32_t tmo, bool consume);
	int (*process)(void *ctx, uint8_t queue, int32_t tmo);
	void (*sleep)(void *ctx, int32_t tmo);
	void (*sleep_until)(void *ctx, uint64_t uptime);
	void (*busy_wait_us)(void *ctx, uint32_t us);
	void (*busy_cycles)(void *ctx, uint32_t cycles);

	/* ---- counters ---- */
	/*
	 * READ_STATS: kind 0 source, 1 sink, 2 queue, 3 pool; fills up to three values
	 * (queue: processed, high water, depth; pool: free, min free) and returns 0,
	 * -ENOTSUP without PACKET_IO_STATS, -ENOENT for an unknown object.
	 */
	int (*stats)(void *ctx, uint8_t kind, uint8_t id, uint32_t out[3]);
};

/* Fixed facts the device reports in HELLO. */
struct shim_board_info {
	const char *board;
	const char *build_id;
	uint32_t ticks_per_sec;
	/* bit0 PACKET_IO_STATS, bit1 RUNTIME_OBSERVERS, bit2 NAMES, bit3 virtual */
	uint8_t features;
	/* UART rate in baud; 0 when the line is not a real one (a pseudo-terminal). */
	uint32_t link_baud;
	/*
	 * Creation limits (protocol version 2): the core refuses CREATE_POOL and
	 * CREATE_QUEUE over them with -ENOMEM before calling the platform, and states
	 * them in HELLO. A field's largest value means no limit of its own.
	 */
	uint16_t pool_buf_size;
	uint16_t pool_buf_count;
	uint8_t pool_user_data;
	uint32_t pool_total_bytes;
	uint32_t pool_total_bufs;
	uint16_t queue_max_size;
	uint32_t queue_total_slots;
};

#endif /* SHIM_PLATFORM_H_ */
