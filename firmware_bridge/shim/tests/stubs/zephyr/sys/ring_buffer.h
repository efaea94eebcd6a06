/* Stand-in for <zephyr/sys/ring_buffer.h>. */
#ifndef STUB_ZEPHYR_SYS_RING_BUFFER_H_
#define STUB_ZEPHYR_SYS_RING_BUFFER_H_

#include <stdbool.h>
#include <stdint.h>

struct ring_buf {
	uint8_t *buffer;
	uint32_t size;
};

#define RING_BUF_DECLARE(name, size8) struct ring_buf name

uint32_t ring_buf_put(struct ring_buf *buf, const uint8_t *data, uint32_t size);
uint32_t ring_buf_get(struct ring_buf *buf, uint8_t *data, uint32_t size);
uint32_t ring_buf_space_get(struct ring_buf *buf);
bool ring_buf_is_empty(struct ring_buf *buf);
uint32_t ring_buf_get_claim(struct ring_buf *buf, uint8_t **data, uint32_t size);
int ring_buf_get_finish(struct ring_buf *buf, uint32_t size);

#endif
