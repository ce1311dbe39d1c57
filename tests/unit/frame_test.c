/* The incremental frame decoder: whole, byte by byte, random chunks, and
 * the length bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carta_error.h"
#include "frame.h"

#define NFRAMES 40

static uint8_t stream[NFRAMES * (FRAME_MAX_PAYLOAD + 2)];
static size_t lens[NFRAMES];
static frame_decoder dec;

/* Builds NFRAMES frames of varied sizes; payload byte j of frame i is
 * (i * 31 + j) & 0xff so every byte's place can be checked. */
static size_t build_stream(void)
{
	size_t off = 0;

	for (size_t i = 0; i < NFRAMES; i++) {
		size_t len = i == 0   ? 1
			     : i == 1 ? FRAME_MAX_PAYLOAD
				      : 1 + (i * 7919) % 3000;
		lens[i] = len;
		frame_put_header(stream + off, len);
		off += 2;
		for (size_t j = 0; j < len; j++)
			stream[off + j] = (uint8_t)((i * 31 + j) & 0xff);
		off += len;
	}
	return off;
}

/* Feeds the stream in chunks chosen by next_chunk and checks every frame. */
static void feed_all(size_t total, size_t (*next_chunk)(size_t left))
{
	size_t off = 0, got = 0;

	frame_decoder_init(&dec, FRAME_MAX_PAYLOAD);
	while (off < total) {
		size_t chunk = next_chunk(total - off);
		size_t pos = 0;
		while (pos < chunk) {
			const uint8_t *p = NULL;
			size_t used = 0, len = 0;
			int rv =
			    frame_decoder_feed(&dec, stream + off + pos,
					       chunk - pos, &used, &p, &len);
			assert_true(rv >= 0);
			assert_true(used > 0 || rv == 1);
			pos += used;
			if (rv == 1) {
				assert_true(got < NFRAMES);
				assert_int_equal(len, lens[got]);
				for (size_t j = 0; j < len; j++)
					assert_int_equal(
					    p[j],
					    (uint8_t)((got * 31 + j) & 0xff));
				got++;
			}
		}
		off += chunk;
	}
	assert_int_equal(got, NFRAMES);
	assert_true(frame_decoder_idle(&dec));
}

static size_t one_byte(size_t left)
{
	(void)left;
	return 1;
}

static size_t everything(size_t left)
{
	return left;
}

static size_t random_chunk(size_t left)
{
	size_t n = 1 + (size_t)rand() % 5000;
	return n < left ? n : left;
}

static void test_whole_stream(void **state)
{
	(void)state;
	feed_all(build_stream(), everything);
}

static void test_byte_by_byte(void **state)
{
	(void)state;
	feed_all(build_stream(), one_byte);
}

static void test_random_chunks(void **state)
{
	(void)state;
	size_t total = build_stream();
	for (unsigned seed = 1; seed <= 20; seed++) {
		srand(seed);
		feed_all(total, random_chunk);
	}
}

static void test_zero_length_refused(void **state)
{
	const uint8_t in[] = {0, 0, 1, 2};
	const uint8_t *p = NULL;
	size_t used = 0, len = 0;
	(void)state;

	frame_decoder_init(&dec, 100);
	assert_int_equal(
	    frame_decoder_feed(&dec, in, sizeof(in), &used, &p, &len),
	    CARTA_ETOOBIG);
}

static void test_over_bound_refused_on_header(void **state)
{
	/* 101 bytes announced against a bound of 100: refused as soon as
	 * the second header byte arrives, before any payload. */
	const uint8_t in[] = {0, 101};
	const uint8_t *p = NULL;
	size_t used = 0, len = 0;
	(void)state;

	frame_decoder_init(&dec, 100);
	assert_int_equal(frame_decoder_feed(&dec, in, 1, &used, &p, &len), 0);
	assert_int_equal(used, 1);
	assert_int_equal(frame_decoder_feed(&dec, in + 1, 1, &used, &p, &len),
			 CARTA_ETOOBIG);
}

static void test_exact_bound_accepted(void **state)
{
	uint8_t in[2 + 48];
	const uint8_t *p = NULL;
	size_t used = 0, len = 0;
	(void)state;

	memset(in, 0xab, sizeof(in));
	frame_put_header(in, 48);
	frame_decoder_init(&dec, 48);
	assert_int_equal(
	    frame_decoder_feed(&dec, in, sizeof(in), &used, &p, &len), 1);
	assert_int_equal(used, sizeof(in));
	assert_int_equal(len, 48);
	assert_int_equal(p[47], 0xab);
}

static void test_stops_at_frame_end(void **state)
{
	/* Two frames in one buffer: the first call takes only the first. */
	const uint8_t in[] = {0, 2, 'h', 'i', 0, 1, '!'};
	const uint8_t *p = NULL;
	size_t used = 0, len = 0;
	(void)state;

	frame_decoder_init(&dec, 10);
	assert_int_equal(
	    frame_decoder_feed(&dec, in, sizeof(in), &used, &p, &len), 1);
	assert_int_equal(used, 4);
	assert_memory_equal(p, "hi", 2);
	assert_int_equal(frame_decoder_feed(&dec, in + 4, 3, &used, &p, &len),
			 1);
	assert_int_equal(used, 3);
	assert_int_equal(len, 1);
	assert_int_equal(p[0], '!');
}

static void test_header_encoding(void **state)
{
	uint8_t h[2];
	(void)state;

	frame_put_header(h, 0x1234);
	assert_int_equal(h[0], 0x12);
	assert_int_equal(h[1], 0x34);
	frame_put_header(h, FRAME_MAX_PAYLOAD);
	assert_int_equal(h[0], 0xff);
	assert_int_equal(h[1], 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_stream),
	    cmocka_unit_test(test_byte_by_byte),
	    cmocka_unit_test(test_random_chunks),
	    cmocka_unit_test(test_zero_length_refused),
	    cmocka_unit_test(test_over_bound_refused_on_header),
	    cmocka_unit_test(test_exact_bound_accepted),
	    cmocka_unit_test(test_stops_at_frame_end),
	    cmocka_unit_test(test_header_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
