/*
 * A stand-alone stand-in for the packet_io and kernel headers, for building
 * small ELF images whose data layout matches a packet_io firmware: the same
 * structure members in the same order, the same static initialisers and the
 * same iterable section names. Nothing here runs.
 *
 * Build options: -DPACKET_IO_NAMES, -DPACKET_IO_STATS, -DSPIN_VALIDATE.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PACKET_IO_MINI_H_
#define PACKET_IO_MINI_H_

#include <stddef.h>
#include <stdint.h>

typedef long atomic_t;

struct _dnode {
	union {
		struct _dnode *head;
		struct _dnode *next;
	};
	union {
		struct _dnode *tail;
		struct _dnode *prev;
	};
};
typedef struct _dnode sys_dlist_t;
typedef struct _dnode sys_dnode_t;

#define SYS_DLIST_STATIC_INIT(ptr) { { (ptr) }, { (ptr) } }

struct k_spinlock {
#ifdef SPIN_VALIDATE
	uintptr_t thread_cpu;
#endif
};

typedef struct {
	sys_dlist_t waitq;
} _wait_q_t;

struct k_msgq {
	_wait_q_t wait_q;
	struct k_spinlock lock;
	size_t msg_size;
	uint32_t max_msgs;
	char *buffer_start;
	char *buffer_end;
	char *read_ptr;
	char *write_ptr;
	uint32_t used_msgs;
	uint8_t flags;
};

#define ITERABLE(type, var) \
	__attribute__((section("._" #type ".static." #var), used, \
		       aligned(__alignof__(struct type)))) struct type var

#define K_MSGQ_DEFINE(q_name, q_msg_size, q_max_msgs, q_align) \
	static char __attribute__((aligned(q_align))) \
		_k_msgq_buf_##q_name[(q_max_msgs) * (q_msg_size)]; \
	ITERABLE(k_msgq, q_name) = { \
		.wait_q = { SYS_DLIST_STATIC_INIT(&q_name.wait_q.waitq) }, \
		.msg_size = (q_msg_size), \
		.max_msgs = (q_max_msgs), \
		.buffer_start = _k_msgq_buf_##q_name, \
		.buffer_end = _k_msgq_buf_##q_name + ((q_max_msgs) * (q_msg_size)), \
		.read_ptr = _k_msgq_buf_##q_name, \
		.write_ptr = _k_msgq_buf_##q_name, \
	}

struct net_buf;
struct packet_sink;

typedef void (*packet_handler_t)(struct packet_sink *sink, struct net_buf *buf);

struct packet_source {
#ifdef PACKET_IO_NAMES
	const char *name;
#endif
	sys_dlist_t sinks;
	struct k_spinlock lock;
#ifdef PACKET_IO_STATS
	atomic_t send_count;
	atomic_t queued_total;
#endif
};

struct packet_event {
	struct packet_sink *sink;
	struct net_buf *buf;
};

struct packet_event_queue {
	struct k_msgq *msgq;
#ifdef PACKET_IO_NAMES
	const char *name;
#endif
#ifdef PACKET_IO_STATS
	atomic_t processed_count;
#endif
};

struct packet_sink {
#ifdef PACKET_IO_NAMES
	const char *name;
#endif
	enum {
		SINK_MODE_IMMEDIATE,
		SINK_MODE_QUEUED,
	} mode;
	packet_handler_t handler;
	void *user_data;
	struct k_msgq *msgq;
#ifdef PACKET_IO_STATS
	atomic_t handled_count;
	atomic_t dropped_count;
#endif
};

struct packet_connection {
	struct packet_source *source;
	struct packet_sink *sink;
	sys_dnode_t node;
};

#ifdef PACKET_IO_NAMES
#define NAME_INIT(n) .name = #n,
#else
#define NAME_INIT(n)
#endif

#define PACKET_SOURCE_DECLARE(n) extern struct packet_source n
#define PACKET_SINK_DECLARE(n) extern struct packet_sink n

#define PACKET_SOURCE_DEFINE(n) \
	struct packet_source n = { \
		NAME_INIT(n) \
		.sinks = SYS_DLIST_STATIC_INIT(&n.sinks), \
	}

#define PACKET_EVENT_QUEUE_DEFINE(n, size) \
	K_MSGQ_DEFINE(n##_msgq, sizeof(struct packet_event), size, 4); \
	struct packet_event_queue n = { \
		.msgq = &n##_msgq, \
		NAME_INIT(n) \
	}

#define PACKET_SINK_DEFINE_IMMEDIATE(n, h) \
	struct packet_sink n = { \
		NAME_INIT(n) \
		.mode = SINK_MODE_IMMEDIATE, \
		.handler = (h), \
	}

#define PACKET_SINK_DEFINE_QUEUED(n, h, q) \
	struct packet_sink n = { \
		NAME_INIT(n) \
		.mode = SINK_MODE_QUEUED, \
		.handler = (h), \
		.msgq = &(q##_msgq), \
	}

#define PACKET_SINK_DEFINE_WITH_DATA(n, h, mq, data) \
	struct packet_sink n = { \
		NAME_INIT(n) \
		.mode = (mq) ? SINK_MODE_QUEUED : SINK_MODE_IMMEDIATE, \
		.handler = (h), \
		.user_data = (data), \
		.msgq = (mq), \
	}

#define PACKET_SOURCE_CONNECT(src, snk) \
	static ITERABLE(packet_connection, __connection_##src##_##snk) = { \
		.source = &src, \
		.sink = &snk, \
	}

#endif /* PACKET_IO_MINI_H_ */
