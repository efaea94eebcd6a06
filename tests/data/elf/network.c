/*
 * The network stage: the processor's output goes to a validator, a TCP queue
 * and a UDP sink that carries user data.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "packet_io_mini.h"

PACKET_SOURCE_DEFINE(processor_source);

PACKET_EVENT_QUEUE_DEFINE(tcp_queue, 4);
PACKET_EVENT_QUEUE_DEFINE(idle_queue, 3);

struct udp_ctx {
	int port;
};

static struct udp_ctx udp_context = { .port = 5000 };

static void validator_handler(struct packet_sink *sink, struct net_buf *buf)
{
	(void)sink;
	(void)buf;
}

static void tcp_handler(struct packet_sink *sink, struct net_buf *buf)
{
	(void)sink;
	(void)buf;
}

static void udp_handler(struct packet_sink *sink, struct net_buf *buf)
{
	(void)sink;
	(void)buf;
}

PACKET_SINK_DEFINE_IMMEDIATE(validator_sink, validator_handler);
PACKET_SINK_DEFINE_QUEUED(tcp_sink, tcp_handler, tcp_queue);
PACKET_SINK_DEFINE_WITH_DATA(udp_sink, udp_handler, NULL, &udp_context);
PACKET_SINK_DEFINE_IMMEDIATE(orphan_sink, udp_handler);

PACKET_SOURCE_CONNECT(processor_source, validator_sink);
PACKET_SOURCE_CONNECT(processor_source, udp_sink);
PACKET_SOURCE_CONNECT(processor_source, tcp_sink);

#ifdef WITH_FAULTS
PACKET_SOURCE_DECLARE(spare_source);
PACKET_SOURCE_DECLARE(sensor1_source);
PACKET_SINK_DECLARE(audit_sink);

/* A connection without a sink: packet_io skips it at init. */
static ITERABLE(packet_connection, __connection_spare_source_none) = {
	.source = &spare_source,
};

/* The same pair as in sensors.c, defined a second time in this file. */
PACKET_SOURCE_CONNECT(sensor1_source, audit_sink);
#endif
