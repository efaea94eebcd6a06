/*
 * A small emulation of packet_io and net_buf for the shim's host build: fixed pools
 * of reference-counted buffers with fragment chains, sources with ordered connection
 * lists, immediate and queued sinks, packet event queues drained by their own threads
 * and the reference implementation's statistics, on the mini kernel.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef MINI_PACKET_IO_H_
#define MINI_PACKET_IO_H_

#include <stdbool.h>
#include <stdint.h>

#include "../core/shim_core.h"

/* The platform context of the host build. */
struct host_ctx {
	struct shim_core *core;
	int out_fd;
	uint32_t cpu_hz;
	bool stats;
	bool runtime;
	/* a RUN in progress, advanced by mpio_step() until this uptime tick */
	bool running;
	uint64_t run_end;
	/* a full report ring may stop the clock (only while mpio_step() runs) */
	bool may_stall;
	bool stalled;
};

/* The struct shim_platform of the host build. */
extern const struct shim_platform host_platform;

void mpio_init(struct host_ctx *ctx);

/*
 * Advance the RUN in progress: to its end (then R_RUN_DONE, and the scenario stays
 * frozen until the next RUN), or until the report ring is full. Returns true when the
 * clock waits for the host to acknowledge reports (GET_REPORTS).
 */
bool mpio_step(struct host_ctx *ctx);

#endif /* MINI_PACKET_IO_H_ */
