/*
 * Sensors and the processor stage of a small packet_io topology.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "packet_io_mini.h"

PACKET_SOURCE_DECLARE(processor_source);

PACKET_SOURCE_DEFINE(sensor1_source);
PACKET_SOURCE_DEFINE(sensor2_source);
PACKET_SOURCE_DEFINE(spare_source);

PACKET_EVENT_QUEUE_DEFINE(processor_queue, 10);

static void processor_handler(struct packet_sink *sink, struct net_buf *buf)
{
	(void)sink;
	(void)buf;
}

void audit_handler(struct packet_sink *sink, struct net_buf *buf)
{
	(void)sink;
	(void)buf;
}

PACKET_SINK_DEFINE_QUEUED(processor_sink, processor_handler, processor_queue);
PACKET_SINK_DEFINE_IMMEDIATE(audit_sink, audit_handler);

/* Declared out of order: the linker sorts them by section name. */
PACKET_SOURCE_CONNECT(sensor2_source, processor_sink);
PACKET_SOURCE_CONNECT(sensor1_source, processor_sink);
PACKET_SOURCE_CONNECT(sensor1_source, audit_sink);

void _start(void)
{
	for (;;) {
	}
}
