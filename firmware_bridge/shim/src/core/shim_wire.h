/*
 * Wire layer of the zsim firmware shim: CRC-32, COBS, frame bodies and the
 * stream decoder of firmware_bridge/PROTOCOL.md (sections 2 and 3).
 *
 * Portable C11, no operating system headers.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef SHIM_WIRE_H_
#define SHIM_WIRE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header's version byte: the framing, unchanged since protocol version 1. */
#define SHIM_FRAME_VERSION 1U
/* HELLO's proto: the newest version spoken, and the oldest still answered. */
#define SHIM_PROTO_VERSION 2U
#define SHIM_PROTO_MIN 1U
#define SHIM_HEADER_LEN 8U
#define SHIM_CRC_LEN 4U
#define SHIM_MIN_BODY (SHIM_HEADER_LEN + SHIM_CRC_LEN)
#define SHIM_MIN_MAX_FRAME 128U
#define SHIM_MAX_FRAME_LIMIT 1024U

/* Largest COBS encoding of an n-byte body, without the delimiter. */
#define SHIM_COBS_MAX(n) ((n) + ((n) + 253U) / 254U + 1U)

/* CRC-32/ISO-HDLC; chain calls by passing the previous result (start with 0). */
uint32_t shim_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* COBS-encode len bytes into out (no delimiter); returns the encoded length. */
size_t shim_cobs_encode(const uint8_t *in, size_t len, uint8_t *out);

/*
 * COBS-decode len bytes into out (capacity cap); returns the decoded length or -1
 * when the input is not a valid encoding or does not fit.
 */
int shim_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

struct shim_frame {
	uint8_t type;
	uint16_t seq;
	uint16_t ack;
	uint8_t credit;
	uint8_t flags;
	const uint8_t *payload;
	uint16_t len;
};

/* Check a decoded body (length, CRC, version) and split it; false if rejected. */
bool shim_frame_parse(const uint8_t *body, size_t len, struct shim_frame *frame);

/*
 * Write header + payload + CRC of a frame into body (capacity cap); returns the body
 * length, or 0 when it does not fit.
 */
size_t shim_frame_body(const struct shim_frame *frame, uint8_t *body, size_t cap);

/* Body, COBS and delimiter into out (capacity cap); returns the wire length or 0. */
size_t shim_frame_wire(const struct shim_frame *frame, uint8_t *out, size_t cap);

struct shim_decoder_stats {
	uint32_t frames;
	uint32_t bad_cobs;
	uint32_t bad_crc;
	uint32_t bad_length;
	uint32_t bad_version;
	uint32_t overflows;
};

/*
 * Stream decoder: collects bytes up to each 0x00 delimiter. The caller provides the
 * two buffers: acc of SHIM_COBS_MAX(max_frame) bytes and body of max_frame bytes.
 */
struct shim_decoder {
	uint8_t *acc;
	uint8_t *body;
	uint16_t max_frame;
	size_t limit;
	size_t used;
	bool skipping;
	struct shim_decoder_stats stats;
};

typedef void (*shim_frame_cb)(void *user, const struct shim_frame *frame);

void shim_decoder_init(struct shim_decoder *dec, uint8_t *acc, uint8_t *body,
		       uint16_t max_frame);
void shim_decoder_reset(struct shim_decoder *dec);

/* Feed received bytes; cb runs for every valid frame they complete. */
void shim_decoder_feed(struct shim_decoder *dec, const uint8_t *data, size_t len,
		       shim_frame_cb cb, void *user);

/* Little-endian field writers and a bounds-checked reader. */
struct shim_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void shim_put_u8(struct shim_writer *w, uint8_t v);
void shim_put_u16(struct shim_writer *w, uint16_t v);
void shim_put_u32(struct shim_writer *w, uint32_t v);
void shim_put_u64(struct shim_writer *w, uint64_t v);
void shim_put_i32(struct shim_writer *w, int32_t v);
void shim_put_mem(struct shim_writer *w, const void *data, size_t len);
void shim_put_str(struct shim_writer *w, const char *s);

struct shim_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool error;
};

uint8_t shim_get_u8(struct shim_reader *r);
uint16_t shim_get_u16(struct shim_reader *r);
uint32_t shim_get_u32(struct shim_reader *r);
int32_t shim_get_i32(struct shim_reader *r);
int8_t shim_get_i8(struct shim_reader *r);
const uint8_t *shim_get_mem(struct shim_reader *r, size_t len);

/* A str field into out (capacity >= 32), NUL-terminated. */
void shim_get_str(struct shim_reader *r, char *out, size_t cap);

#endif /* SHIM_WIRE_H_ */
