/*
 * Wire layer of the zsim firmware shim (see shim_wire.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "shim_wire.h"

#include <string.h>

uint32_t shim_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int bit = 0; bit < 8; bit++) {
			crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
		}
	}
	return ~crc;
}

size_t shim_cobs_encode(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t code_at = 0;
	size_t o = 1;
	uint8_t code = 1;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == 0U) {
			out[code_at] = code;
			code_at = o++;
			code = 1;
			continue;
		}
		out[o++] = in[i];
		code++;
		if (code == 0xFFU) {
			out[code_at] = code;
			code = 1;
			if (i + 1 < len) {
				code_at = o++;
			} else {
				/* a full block at the very end needs no trailing code */
				return o;
			}
		}
	}
	out[code_at] = code;
	return o;
}

int shim_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t i = 0;
	size_t o = 0;

	while (i < len) {
		uint8_t code = in[i++];

		if (code == 0U) {
			return -1;
		}
		for (uint8_t k = 1; k < code; k++) {
			if (i >= len || in[i] == 0U || o >= cap) {
				return -1;
			}
			out[o++] = in[i++];
		}
		if (code != 0xFFU && i < len) {
			if (o >= cap) {
				return -1;
			}
			out[o++] = 0;
		}
	}
	return (int)o;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

bool shim_frame_parse(const uint8_t *body, size_t len, struct shim_frame *frame)
{
	if (len < SHIM_MIN_BODY || len > SHIM_MAX_FRAME_LIMIT) {
		return false;
	}
	if (shim_crc32(0, body, len - SHIM_CRC_LEN) != get_le32(body + len - SHIM_CRC_LEN)) {
		return false;
	}
	if (body[0] != SHIM_FRAME_VERSION) {
		return false;
	}
	frame->type = body[1];
	frame->seq = (uint16_t)(body[2] | (body[3] << 8));
	frame->ack = (uint16_t)(body[4] | (body[5] << 8));
	frame->credit = body[6];
	frame->flags = body[7];
	frame->payload = body + SHIM_HEADER_LEN;
	frame->len = (uint16_t)(len - SHIM_MIN_BODY);
	return true;
}

size_t shim_frame_body(const struct shim_frame *frame, uint8_t *body, size_t cap)
{
	size_t n = SHIM_HEADER_LEN + frame->len;
	uint32_t crc;

	if (n + SHIM_CRC_LEN > cap) {
		return 0;
	}
	body[0] = SHIM_FRAME_VERSION;
	body[1] = frame->type;
	body[2] = (uint8_t)frame->seq;
	body[3] = (uint8_t)(frame->seq >> 8);
	body[4] = (uint8_t)frame->ack;
	body[5] = (uint8_t)(frame->ack >> 8);
	body[6] = frame->credit;
	body[7] = frame->flags;
	if (frame->len != 0U) {
		memmove(body + SHIM_HEADER_LEN, frame->payload, frame->len);
	}
	crc = shim_crc32(0, body, n);
	body[n++] = (uint8_t)crc;
	body[n++] = (uint8_t)(crc >> 8);
	body[n++] = (uint8_t)(crc >> 16);
	body[n++] = (uint8_t)(crc >> 24);
	return n;
}

size_t shim_frame_wire(const struct shim_frame *frame, uint8_t *out, size_t cap)
{
	uint8_t body[SHIM_MAX_FRAME_LIMIT];
	size_t n = shim_frame_body(frame, body, sizeof(body));
	size_t w;

	if (n == 0U || SHIM_COBS_MAX(n) + 1U > cap) {
		return 0;
	}
	w = shim_cobs_encode(body, n, out);
	out[w++] = 0;
	return w;
}

void shim_decoder_init(struct shim_decoder *dec, uint8_t *acc, uint8_t *body,
		       uint16_t max_frame)
{
	memset(dec, 0, sizeof(*dec));
	dec->acc = acc;
	dec->body = body;
	dec->max_frame = max_frame;
	dec->limit = SHIM_COBS_MAX((size_t)max_frame);
}

void shim_decoder_reset(struct shim_decoder *dec)
{
	dec->used = 0;
	dec->skipping = false;
}

static void finish(struct shim_decoder *dec, shim_frame_cb cb, void *user)
{
	struct shim_frame frame;
	int n = shim_cobs_decode(dec->acc, dec->used, dec->body, dec->max_frame);

	dec->used = 0;
	if (n < 0) {
		/* an over-long body also lands here: it does not fit max_frame */
		dec->stats.bad_cobs++;
		return;
	}
	if ((size_t)n < SHIM_MIN_BODY) {
		dec->stats.bad_length++;
		return;
	}
	if (shim_crc32(0, dec->body, (size_t)n - SHIM_CRC_LEN) !=
	    get_le32(dec->body + n - SHIM_CRC_LEN)) {
		dec->stats.bad_crc++;
		return;
	}
	if (!shim_frame_parse(dec->body, (size_t)n, &frame)) {
		dec->stats.bad_version++;
		return;
	}
	dec->stats.frames++;
	cb(user, &frame);
}

void shim_decoder_feed(struct shim_decoder *dec, const uint8_t *data, size_t len,
		       shim_frame_cb cb, void *user)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = data[i];

		if (b == 0U) {
			if (dec->skipping) {
				dec->skipping = false;
			} else if (dec->used != 0U) {
				finish(dec, cb, user);
			}
			continue;
		}
		if (dec->skipping) {
			continue;
		}
		if (dec->used >= dec->limit) {
			dec->stats.overflows++;
			dec->used = 0;
			dec->skipping = true;
			continue;
		}
		dec->acc[dec->used++] = b;
	}
}

void shim_put_u8(struct shim_writer *w, uint8_t v)
{
	if (w->len + 1U > w->cap) {
		w->overflow = true;
		return;
	}
	w->buf[w->len++] = v;
}

void shim_put_u16(struct shim_writer *w, uint16_t v)
{
	shim_put_u8(w, (uint8_t)v);
	shim_put_u8(w, (uint8_t)(v >> 8));
}

void shim_put_u32(struct shim_writer *w, uint32_t v)
{
	shim_put_u16(w, (uint16_t)v);
	shim_put_u16(w, (uint16_t)(v >> 16));
}

void shim_put_u64(struct shim_writer *w, uint64_t v)
{
	shim_put_u32(w, (uint32_t)v);
	shim_put_u32(w, (uint32_t)(v >> 32));
}

void shim_put_i32(struct shim_writer *w, int32_t v)
{
	shim_put_u32(w, (uint32_t)v);
}

void shim_put_mem(struct shim_writer *w, const void *data, size_t len)
{
	if (w->len + len > w->cap) {
		w->overflow = true;
		return;
	}
	if (len != 0U) {
		memcpy(w->buf + w->len, data, len);
	}
	w->len += len;
}

void shim_put_str(struct shim_writer *w, const char *s)
{
	size_t n = strlen(s);

	if (n > 31U) {
		n = 31U;
	}
	shim_put_u8(w, (uint8_t)n);
	shim_put_mem(w, s, n);
}

const uint8_t *shim_get_mem(struct shim_reader *r, size_t len)
{
	const uint8_t *p;

	if (r->error || r->pos + len > r->len) {
		r->error = true;
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += len;
	return p;
}

uint8_t shim_get_u8(struct shim_reader *r)
{
	const uint8_t *p = shim_get_mem(r, 1);

	return p != NULL ? p[0] : 0U;
}

uint16_t shim_get_u16(struct shim_reader *r)
{
	const uint8_t *p = shim_get_mem(r, 2);

	return p != NULL ? (uint16_t)(p[0] | (p[1] << 8)) : 0U;
}

uint32_t shim_get_u32(struct shim_reader *r)
{
	const uint8_t *p = shim_get_mem(r, 4);

	return p != NULL ? get_le32(p) : 0U;
}

int32_t shim_get_i32(struct shim_reader *r)
{
	uint32_t v = shim_get_u32(r);
	int32_t out;

	memcpy(&out, &v, sizeof(out));
	return out;
}

int8_t shim_get_i8(struct shim_reader *r)
{
	uint8_t v = shim_get_u8(r);

	return (int8_t)(v < 128U ? (int)v : (int)v - 256);
}

void shim_get_str(struct shim_reader *r, char *out, size_t cap)
{
	uint8_t n = shim_get_u8(r);
	const uint8_t *p = shim_get_mem(r, n);

	if (p == NULL || n > 31U || (size_t)n + 1U > cap) {
		r->error = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}
