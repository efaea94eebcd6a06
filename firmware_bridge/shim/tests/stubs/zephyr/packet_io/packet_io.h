/*
 * Stand-in for packet_io's <zephyr/packet_io/packet_io.h>: the types and functions the
 * shim uses, as shared/seed/packet_io_README.md documents them.
 */
#ifndef STUB_ZEPHYR_PACKET_IO_H_
#define STUB_ZEPHYR_PACKET_IO_H_

#include <stdint.h>
#include <zephyr/kernel.h>
#include <zephyr/net/buf.h>

struct packet_sink;
typedef void (*packet_handler_t)(struct packet_sink *sink, struct net_buf *buf);

enum packet_sink_mode {
	SINK_MODE_IMMEDIATE,
	SINK_MODE_QUEUED,
};

struct packet_sink {
	packet_handler_t handler;
	enum packet_sink_mode mode;
	struct k_msgq *msgq;
	void *user_data;
	const char *name;
	atomic_t handled_count;
	atomic_t dropped_count;
};

struct packet_source {
	sys_dlist_t sinks;
	const char *name;
	atomic_t send_count;
	atomic_t queued_total;
};

struct packet_connection {
	struct packet_source *source;
	struct packet_sink *sink;
	sys_dnode_t node;
};

struct packet_event {
	struct packet_sink *sink;
	struct net_buf *buf;
};

struct packet_event_queue {
	struct k_msgq *msgq;
	const char *name;
	atomic_t processed_count;
};

int packet_source_send(struct packet_source *src, struct net_buf *buf, k_timeout_t timeout);
int packet_source_send_consume(struct packet_source *src, struct net_buf *buf,
			       k_timeout_t timeout);
int packet_event_process(struct packet_event_queue *queue, k_timeout_t timeout);
int packet_connection_add(struct packet_connection *conn);
int packet_connection_remove(struct packet_connection *conn);
void packet_source_get_stats(struct packet_source *src, uint32_t *send_count,
			     uint32_t *queued_total);
void packet_sink_get_stats(struct packet_sink *sink, uint32_t *handled_count,
			   uint32_t *dropped_count);

#endif
