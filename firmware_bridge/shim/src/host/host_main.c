/*
 * The shim core as a Linux process: the protocol on standard input and output (or on
 * a pseudo-terminal it opens with --pty), packet_io emulated on the mini kernel.
 *
 *   shim_host [--pty] [--board NAME] [--ticks-per-sec N] [--cpu-hz N] [--build-id ID]
 *             [--baud N] [--pool-buf-size N] [--pool-buf-count N] [--pool-user-data N]
 *             [--queue-max-events N]
 *
 * --baud is the link rate HELLO states (default 0: a pseudo-terminal, not a real line);
 * the others are the creation limits a Kconfig build takes from CONFIG_SHIM_POOL_BUF_SIZE,
 * CONFIG_SHIM_POOL_BUF_COUNT, CONFIG_SHIM_POOL_USER_DATA_SIZE and
 * CONFIG_SHIM_QUEUE_MAX_EVENTS (default: none beyond the protocol's field sizes).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../core/shim_core.h"
#include "mini_kernel.h"
#include "mini_packet_io.h"

static struct shim_core core;
static struct host_ctx ctx;

static int open_pty(int *keep_slave)
{
	struct termios tio;
	const char *name;
	int fd = posix_openpt(O_RDWR | O_NOCTTY);

	if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0) {
		return -1;
	}
	name = ptsname(fd);
	if (name == NULL) {
		return -1;
	}
	/* hold the slave open so the master never reads a hang-up between clients */
	*keep_slave = open(name, O_RDWR | O_NOCTTY);
	if (*keep_slave >= 0 && tcgetattr(*keep_slave, &tio) == 0) {
		cfmakeraw(&tio);
		(void)tcsetattr(*keep_slave, TCSANOW, &tio);
	}
	printf("shim: uart connected to pseudotty: %s\n", name);
	fflush(stdout);
	return fd;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--pty] [--board NAME] [--ticks-per-sec N] [--cpu-hz N] "
			"[--build-id ID] [--baud N] [--pool-buf-size N] [--pool-buf-count N] "
			"[--pool-user-data N] [--queue-max-events N]\n", prog);
}

/* A number option in 1..max (0..max for --baud); false if it is not one. */
static bool number(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (v == NULL || *v == '\0' || *v == '-') {
		return false;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max) {
		return false;
	}
	*out = n;
	return true;
}

static uint32_t clamp_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int main(int argc, char **argv)
{
	struct shim_board_info info = {
		.board = "native_sim",
		.build_id = "shim-host",
		.ticks_per_sec = 100,
		.features = SHIM_FEAT_STATS | SHIM_FEAT_RUNTIME | SHIM_FEAT_NAMES,
		.pool_buf_size = UINT16_MAX,
		.pool_buf_count = UINT16_MAX,
		.pool_user_data = UINT8_MAX,
		.queue_max_size = UINT16_MAX,
	};
	unsigned long n;
	bool pty = false;
	int in_fd = STDIN_FILENO;
	int slave = -1;
	uint8_t buf[4096];

	ctx.cpu_hz = 64000000U;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--pty") == 0) {
			pty = true;
		} else if (strcmp(a, "--board") == 0 && v != NULL) {
			info.board = v;
			i++;
		} else if (strcmp(a, "--ticks-per-sec") == 0 && v != NULL) {
			info.ticks_per_sec = (uint32_t)strtoul(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--cpu-hz") == 0 && v != NULL) {
			ctx.cpu_hz = (uint32_t)strtoul(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--build-id") == 0 && v != NULL) {
			info.build_id = v;
			i++;
		} else if (strcmp(a, "--baud") == 0 && number(v, 0, UINT32_MAX, &n)) {
			info.link_baud = (uint32_t)n;
			i++;
		} else if (strcmp(a, "--pool-buf-size") == 0 && number(v, 1, UINT16_MAX, &n)) {
			info.pool_buf_size = (uint16_t)n;
			i++;
		} else if (strcmp(a, "--pool-buf-count") == 0 && number(v, 1, UINT16_MAX, &n)) {
			info.pool_buf_count = (uint16_t)n;
			i++;
		} else if (strcmp(a, "--pool-user-data") == 0 && number(v, 4, UINT8_MAX, &n)) {
			info.pool_user_data = (uint8_t)n;
			i++;
		} else if (strcmp(a, "--queue-max-events") == 0 &&
			   number(v, 1, UINT16_MAX, &n)) {
			info.queue_max_size = (uint16_t)n;
			i++;
		} else {
			usage(argv[0]);
			return 2;
		}
	}
	if (info.ticks_per_sec == 0U || ctx.cpu_hz == 0U) {
		usage(argv[0]);
		return 2;
	}
	info.pool_total_bufs = clamp_u32((uint64_t)SHIM_MAX_POOLS * info.pool_buf_count);
	info.pool_total_bytes = clamp_u32((uint64_t)info.pool_total_bufs *
					  (info.pool_buf_size + info.pool_user_data));
	info.queue_total_slots = clamp_u32((uint64_t)SHIM_MAX_QUEUES * info.queue_max_size);
	signal(SIGPIPE, SIG_IGN);
	ctx.out_fd = STDOUT_FILENO;
	if (pty) {
		in_fd = open_pty(&slave);
		if (in_fd < 0) {
			perror("shim: pseudo-terminal");
			return 1;
		}
		ctx.out_fd = in_fd;
	}
	ctx.core = &core;
	mk_init(info.ticks_per_sec);
	mpio_init(&ctx);
	shim_core_init(&core, &host_platform, &ctx, &info);

	for (;;) {
		ssize_t n;

		/* advance a run unless it waits for the host to take reports */
		while (ctx.running && !mpio_step(&ctx) && ctx.running) {
		}
		n = read(in_fd, buf, sizeof(buf));
		if (n > 0) {
			shim_core_rx(&core, buf, (size_t)n);
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			break;
		}
	}
	mk_reset();
	if (slave >= 0) {
		close(slave);
	}
	return 0;
}
