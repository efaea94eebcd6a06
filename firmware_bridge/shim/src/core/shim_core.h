/*
 * The protocol core of the zsim firmware shim (firmware_bridge/PROTOCOL.md): sequence
 * numbers, acknowledgements and credit, the response cache, command dispatch, the
 * scenario's object tables, behaviour steps, stimuli, payload patterns and the report
 * ring. It runs on any platform implementing struct shim_platform.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef SHIM_CORE_H_
#define SHIM_CORE_H_

#include <stdbool.h>
#include <stdint.h>

#include "shim_config.h"
#include "shim_platform.h"
#include "shim_wire.h"

#define SHIM_NO_ID 0xFFU
#define SHIM_NAME_MAX 32

/* Frame types */
enum shim_type {
	SHIM_HELLO = 0x01,
	SHIM_RESET = 0x02,
	SHIM_CREATE_POOL = 0x03,
	SHIM_CREATE_SOURCE = 0x04,
	SHIM_CREATE_QUEUE = 0x05,
	SHIM_CREATE_SINK = 0x06,
	SHIM_CONNECT = 0x07,
	SHIM_DISCONNECT = 0x08,
	SHIM_SEND = 0x09,
	SHIM_PROCESS = 0x0A,
	SHIM_ADD_PERIODIC = 0x0B,
	SHIM_ADD_SCRIPT = 0x0C,
	SHIM_ADD_STEP = 0x0D,
	SHIM_RUN = 0x0E,
	SHIM_STOP = 0x0F,
	SHIM_READ_STATS = 0x10,
	SHIM_READ_UPTIME = 0x11,
	SHIM_GET_REPORTS = 0x12,
	SHIM_PING = 0x13,
	SHIM_RESPONSE_BIT = 0x40,
	SHIM_NAK = 0x7E,
	SHIM_ERROR = 0x7F,
	SHIM_R_SEND = 0x80,
	SHIM_R_DELIVER = 0x81,
	SHIM_R_ENQUEUE = 0x82,
	SHIM_R_DROP = 0x83,
	SHIM_R_HANDLE = 0x84,
	SHIM_R_FAULT = 0x85,
	SHIM_R_PROCESS = 0x86,
	SHIM_R_CONSOLE = 0x87,
	SHIM_R_RUN_DONE = 0x88,
	SHIM_R_ALLOC_FAIL = 0x89,
	SHIM_R_STEP = 0x8A,
};

enum shim_step_op {
	SHIM_ST_RECORD = 0,
	SHIM_ST_CPU_US = 1,
	SHIM_ST_CPU_CYCLES = 2,
	SHIM_ST_SLEEP = 3,
	SHIM_ST_FORWARD = 4,
	SHIM_ST_DROP = 5,
};

enum shim_script_op {
	SHIM_OP_SEND = 1,
	SHIM_OP_PROCESS = 2,
	SHIM_OP_CONNECT = 3,
	SHIM_OP_DISCONNECT = 4,
};

enum shim_pattern_kind {
	SHIM_PAT_ZEROS = 0,
	SHIM_PAT_COUNTER = 1,
	SHIM_PAT_RANDOM = 2,
	SHIM_PAT_FILL = 3,
	SHIM_PAT_EXPLICIT = 4,
};

/* Where an allocation failure happened (R_ALLOC_FAIL origin). */
enum shim_origin {
	SHIM_ORIGIN_PERIODIC = 0,
	SHIM_ORIGIN_SCRIPT = 1,
	SHIM_ORIGIN_FORWARD = 2,
	SHIM_ORIGIN_SEND = 3,
};

#define SHIM_FEAT_STATS 0x01U
#define SHIM_FEAT_RUNTIME 0x02U
#define SHIM_FEAT_NAMES 0x04U
#define SHIM_FEAT_VIRTUAL 0x08U
#define SHIM_COUNT_FOREVER 0xFFFFFFFFU

struct shim_step {
	uint8_t op;
	uint8_t source;
	uint8_t pool;
	uint8_t hdr_kind;
	uint8_t hdr_len;
	int32_t tmo;
	uint32_t value;
	uint16_t seq16;
	uint8_t hdr[SHIM_MAX_HEADER];
};

struct shim_send_args {
	uint8_t source;
	uint8_t pool;
	uint8_t flags;
	uint8_t pattern;
	uint8_t arg;
	int32_t tmo;
	uint16_t size;
};

/* The payload generator of one stimulus (PROTOCOL.md section 9). */
struct shim_pattern {
	uint32_t n;
	uint32_t state;
};

struct shim_script_step {
	uint8_t stim;
	uint8_t op;
	uint32_t at;
	struct shim_send_args send;
	uint8_t a;
	uint8_t b;
};

struct shim_stimulus {
	bool used;
	bool periodic;
	int8_t prio;
	uint16_t stack_size;
	char thread_name[SHIM_NAME_MAX];
	struct shim_send_args send;
	uint32_t start;
	uint32_t period;
	uint32_t count;
	struct shim_pattern gen;
};

struct shim_sink_def {
	bool used;
	uint8_t queue;
	uint8_t nsteps;
	char name[SHIM_NAME_MAX];
	struct shim_step steps[SHIM_MAX_STEPS];
};

struct shim_conn {
	uint8_t source;
	uint8_t sink;
	bool runtime;
};

struct shim_measure {
	uint8_t sink;
	struct shim_buf *buf;
	uint32_t len;
	uint32_t digest;
	struct shim_bufref ref;
};

struct shim_report_slot {
	uint8_t type;
	uint8_t len;
	uint8_t payload[SHIM_REPORT_MAX_PAYLOAD];
};

struct shim_cached {
	bool used;
	uint8_t type;
	uint16_t seq;
	uint16_t len;
	uint8_t payload[SHIM_MAX_FRAME - SHIM_MIN_BODY];
};

struct shim_core {
	const struct shim_platform *plat;
	void *ctx;
	struct shim_board_info info;

	/* link */
	struct shim_decoder dec;
	uint8_t rx_acc[SHIM_COBS_MAX(SHIM_MAX_FRAME)];
	uint8_t rx_body[SHIM_MAX_FRAME];
	uint8_t tx[SHIM_COBS_MAX(SHIM_MAX_FRAME) + 1];
	uint8_t resp[SHIM_MAX_FRAME - SHIM_MIN_BODY];
	uint16_t last;
	struct shim_cached cache[SHIM_RX_WINDOW];
	uint8_t cache_next;

	/* scenario */
	bool have_reset;
	bool started;
	bool running;
	/* the run reached its end: the clock stays at run_end until the next RUN */
	bool frozen;
	uint64_t run_end;
	uint8_t flags;
	uint32_t seed;
	uint64_t t0;
	bool pools[SHIM_MAX_POOLS];
	bool sources[SHIM_MAX_SOURCES];
	char source_names[SHIM_MAX_SOURCES][SHIM_NAME_MAX];
	bool queues[SHIM_MAX_QUEUES];
	struct shim_sink_def sinks[SHIM_MAX_SINKS];
	struct shim_conn conns[SHIM_MAX_CONNECTIONS];
	uint8_t nconns;
	struct shim_stimulus stimuli[SHIM_MAX_STIMULI];
	struct shim_script_step script[SHIM_MAX_SCRIPT_STEPS];
	uint16_t nscript;
	struct shim_pattern direct;

	/* handler runs in progress, innermost last */
	struct shim_measure measure[SHIM_NEST_DEPTH];
	uint8_t nmeasure;

	/* reports */
	struct shim_report_slot ring[SHIM_REPORT_RING];
	uint32_t total;
	uint32_t oldest;
	uint32_t lost;

	/* a RUN accepted, to start once its response is out */
	bool run_pending;
	uint32_t run_ticks;
};

void shim_core_init(struct shim_core *core, const struct shim_platform *plat, void *ctx,
		    const struct shim_board_info *info);

/* Bytes received from the host (command context). */
void shim_core_rx(struct shim_core *core, const uint8_t *data, size_t len);

/* The scenario clock (PROTOCOL.md section 10). */
uint64_t shim_core_clock(struct shim_core *core);

/* ---- called by the platform ---- */

/* A sink's handler: runs its behaviour steps on buf. */
void shim_core_handle_packet(struct shim_core *core, uint8_t sink, struct shim_buf *buf);

/*
 * After a handler returned: origin 0 a source (immediate sink, R_DELIVER or R_FAULT),
 * origin 1 a queue (queued sink, R_HANDLE, with R_FAULT first on -EFAULT).
 */
void shim_core_after_handler(struct shim_core *core, uint8_t origin, uint8_t origin_id,
			     uint8_t sink, struct shim_buf *buf, int ret);

void shim_core_report_enqueue(struct shim_core *core, uint8_t source, uint8_t sink,
			      struct shim_buf *buf);
void shim_core_report_drop(struct shim_core *core, uint8_t source, uint8_t sink,
			   struct shim_buf *buf, int ret);
/* The same, from values taken before the buffer may have been freed. */
void shim_core_report_enqueue_info(struct shim_core *core, uint8_t source, uint8_t sink,
				   uint32_t len, const struct shim_bufref *ref);
void shim_core_report_drop_info(struct shim_core *core, uint8_t source, uint8_t sink,
				const struct shim_bufref *ref, int ret);
uint32_t shim_core_chain_len(struct shim_core *core, struct shim_buf *buf);
void shim_core_console(struct shim_core *core, const char *text);

/* A stimulus thread's body. */
void shim_core_stimulus_main(struct shim_core *core, uint8_t stim);

/* The run reached its end (tick run_end, excluded from the run). */
void shim_core_run_done(struct shim_core *core);

/* Every ring slot holds a report the host has not acknowledged. */
bool shim_core_ring_full(struct shim_core *core);

/* ---- exposed for tests ---- */
uint32_t shim_pattern_state0(uint32_t seed, uint8_t stim);
void shim_pattern_fill(struct shim_pattern *gen, uint8_t pattern, uint8_t arg, size_t offset,
		       uint8_t *out, size_t len);

#endif /* SHIM_CORE_H_ */
