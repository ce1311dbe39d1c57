#include "frame.h"

#include <string.h>

#include "carta_error.h"

static size_t clamp_max(size_t max)
{
	return max > FRAME_MAX_PAYLOAD ? FRAME_MAX_PAYLOAD : max;
}

void frame_decoder_init(frame_decoder *d, size_t max)
{
	d->max = clamp_max(max);
	d->want = 0;
	d->have = 0;
	d->hdr_have = 0;
}

void frame_decoder_set_max(frame_decoder *d, size_t max)
{
	d->max = clamp_max(max);
}

int frame_decoder_feed(frame_decoder *d, const uint8_t *in, size_t len,
		       size_t *consumed, const uint8_t **payload,
		       size_t *payload_len)
{
	size_t used = 0;

	/* A frame returned by the previous call is released now. */
	if (d->hdr_have == FRAME_HEADER_LEN && d->have == d->want) {
		d->hdr_have = 0;
		d->have = 0;
		d->want = 0;
	}

	while (d->hdr_have < FRAME_HEADER_LEN && used < len)
		d->hdr[d->hdr_have++] = in[used++];
	if (d->hdr_have < FRAME_HEADER_LEN) {
		*consumed = used;
		return 0;
	}

	if (d->want == 0) {
		d->want = ((size_t)d->hdr[0] << 8) | d->hdr[1];
		if (d->want == 0 || d->want > d->max) {
			*consumed = used;
			return CARTA_ETOOBIG;
		}
	}

	size_t take = d->want - d->have;
	if (take > len - used)
		take = len - used;
	memcpy(d->buf + d->have, in + used, take);
	d->have += take;
	used += take;
	*consumed = used;

	if (d->have < d->want)
		return 0;
	*payload = d->buf;
	*payload_len = d->want;
	return 1;
}

int frame_decoder_idle(const frame_decoder *d)
{
	return d->hdr_have == 0 ||
	       (d->hdr_have == FRAME_HEADER_LEN && d->have == d->want);
}

void frame_put_header(uint8_t out[FRAME_HEADER_LEN], size_t len)
{
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)(len & 0xff);
}
