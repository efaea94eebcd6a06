/* Stand-in for <zephyr/net/buf.h> (Zephyr 3.7; <zephyr/net_buf.h> from 4.0). */
#ifndef STUB_ZEPHYR_NET_BUF_H_
#define STUB_ZEPHYR_NET_BUF_H_

#include <stddef.h>
#include <stdint.h>
#include <zephyr/kernel.h>

struct net_buf {
	struct net_buf *frags;
	uint8_t ref;
	uint8_t flags;
	uint8_t pool_id;
	uint8_t user_data_size;
	uint8_t *data;
	uint16_t len;
	uint16_t size;
	uint8_t *__buf;
	uint8_t user_data[];
};

typedef void (*net_buf_destroy_cb_t)(struct net_buf *buf);

struct net_buf_pool {
	uint16_t buf_count;
	uint16_t uninit_count;
	uint8_t user_data_size;
	net_buf_destroy_cb_t destroy;
};

#define NET_BUF_POOL_FIXED_DEFINE(_name, _count, _data_size, _ud_size, _destroy)           \
	struct net_buf_pool _name = { .buf_count = (_count), .user_data_size = (_ud_size),   \
				      .destroy = (_destroy) }

struct net_buf_pool *net_buf_pool_get(int id);
int net_buf_id(const struct net_buf *buf);
struct net_buf *net_buf_alloc_fixed(struct net_buf_pool *pool, k_timeout_t timeout);
#define net_buf_alloc(pool, timeout) net_buf_alloc_fixed(pool, timeout)
void net_buf_destroy(struct net_buf *buf);
void net_buf_unref(struct net_buf *buf);
struct net_buf *net_buf_ref(struct net_buf *buf);
void *net_buf_add_mem(struct net_buf *buf, const void *mem, size_t len);
size_t net_buf_tailroom(const struct net_buf *buf);
struct net_buf *net_buf_frag_add(struct net_buf *head, struct net_buf *frag);
void *net_buf_user_data(const struct net_buf *buf);

#endif
