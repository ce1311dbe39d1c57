/* Framing: every message on the wire is a 2-byte big-endian length
 * followed by that many bytes. The decoder is incremental: feed it bytes
 * as they arrive, in any split, one at a time if need be. It owns a fixed
 * buffer inside its struct and never allocates. */
#ifndef CARTA_FRAME_H
#define CARTA_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_LEN  2
#define FRAME_MAX_PAYLOAD 65535

typedef struct {
	size_t max;   /* largest payload accepted now (<= FRAME_MAX_PAYLOAD) */
	size_t want;  /* payload length announced by the current header */
	size_t have;  /* payload bytes held so far */
	int hdr_have; /* header bytes held so far (0..2) */
	uint8_t hdr[FRAME_HEADER_LEN];
	uint8_t buf[FRAME_MAX_PAYLOAD];
} frame_decoder;

/* Prepares d to accept payloads of 1..max bytes (max is clamped to
 * FRAME_MAX_PAYLOAD). */
void frame_decoder_init(frame_decoder *d, size_t max);

/* Changes the bound for frames whose header has not started yet. */
void frame_decoder_set_max(frame_decoder *d, size_t max);

/* Consumes bytes from in (len bytes) until one frame is complete or in is
 * used up; *consumed says how many bytes were taken. Returns 1 when a
 * frame is complete: *payload points into d (valid until the next call)
 * and *payload_len is its length. Returns 0 when more bytes are needed,
 * or CARTA_ETOOBIG when a header announces 0 bytes or more than the
 * bound (the decoder is then dead: close the connection). */
int frame_decoder_feed(frame_decoder *d, const uint8_t *in, size_t len,
		       size_t *consumed, const uint8_t **payload,
		       size_t *payload_len);

/* True while no part of a frame is held. */
int frame_decoder_idle(const frame_decoder *d);

/* Writes the 2-byte header for a payload of len bytes (len must be
 * 1..FRAME_MAX_PAYLOAD). */
void frame_put_header(uint8_t out[FRAME_HEADER_LEN], size_t len);

#endif
