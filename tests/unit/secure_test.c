/* The secure channel: preface, the XK handshake through the helpers both
 * sides use, transport integrity and rekeying. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "carta_error.h"
#include "frame.h"
#include "secure.h"

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void test_preface(void **state)
{
	uint8_t p[SECURE_PREFACE_LEN];
	(void)state;

	secure_preface(p);
	assert_memory_equal(p, "CARTA\0\0\1", SECURE_PREFACE_LEN);
	assert_int_equal(secure_check_preface(p), 0);
	p[7] = 2;
	assert_int_equal(secure_check_preface(p), CARTA_EINVAL);
	p[0] = 'X';
	assert_int_equal(secure_check_preface(p), CARTA_EPROTO);
}

/* Runs the handshake through the shared helpers; returns both channels. */
static void handshake(secure_channel *client, secure_channel *server,
		      uint8_t seen_client_pub[32])
{
	uint8_t spriv[32], spub[32], cpriv[32], cpub[32];
	uint8_t f1[128], f2[128], f3[128];
	size_t n1 = 0, n2 = 0, n3 = 0;
	noise_hs chs, shs;

	noise_keypair(spriv, spub);
	noise_keypair(cpriv, cpub);
	assert_int_equal(
	    secure_client_begin(&chs, cpriv, spub, f1, sizeof(f1), &n1), 0);
	assert_int_equal(n1, SECURE_PREFACE_LEN + 2 + SECURE_MSG1_LEN);
	assert_int_equal(secure_check_preface(f1), 0);

	assert_int_equal(secure_server_init(&shs, spriv), 0);
	const uint8_t *m1 = f1 + SECURE_PREFACE_LEN + FRAME_HEADER_LEN;
	assert_int_equal(secure_server_respond(&shs, m1, SECURE_MSG1_LEN, f2,
					       sizeof(f2), &n2),
			 0);
	assert_int_equal(n2, 2 + SECURE_MSG2_LEN);

	assert_int_equal(secure_client_finish(&chs, f2 + 2, n2 - 2, f3,
					      sizeof(f3), &n3, client),
			 0);
	assert_int_equal(n3, 2 + SECURE_MSG3_LEN);
	assert_int_equal(
	    secure_server_finish(&shs, f3 + 2, n3 - 2, server, seen_client_pub),
	    0);
	assert_memory_equal(seen_client_pub, cpub, 32);
}

static void test_handshake_authenticates_client(void **state)
{
	secure_channel c, s;
	uint8_t seen[32];
	(void)state;

	handshake(&c, &s, seen);
	secure_channel_wipe(&c);
	secure_channel_wipe(&s);
}

static void test_transport_across_rekeys(void **state)
{
	secure_channel c, s;
	uint8_t seen[32], frame[256], back[256], msg[64];
	size_t n = 0, m = 0;
	(void)state;

	handshake(&c, &s, seen);
	noise_cs no_rekey = c.tx; /* a copy that never rekeys */
	const unsigned total = 2 * SECURE_REKEY_INTERVAL + 10;
	for (unsigned i = 0; i < total; i++) {
		memset(msg, (int)(i & 0xff), sizeof(msg));
		secure_channel *tx = (i & 1) ? &s : &c;
		secure_channel *rx = (i & 1) ? &c : &s;
		assert_int_equal(
		    secure_seal(tx, msg, sizeof(msg), frame, sizeof(frame), &n),
		    0);
		assert_int_equal(n, 2 + sizeof(msg) + NOISE_TAG_LEN);
		assert_int_equal(
		    secure_open(rx, frame + 2, n - 2, back, sizeof(back), &m),
		    0);
		assert_int_equal(m, sizeof(msg));
		assert_memory_equal(back, msg, sizeof(msg));
	}
	/* The client has sent over one interval's worth: its key moved on,
	 * so a state that never rekeyed no longer matches it. */
	assert_true(c.sent > SECURE_REKEY_INTERVAL);
	no_rekey.n = c.tx.n;
	assert_memory_not_equal(no_rekey.k, c.tx.k, 32);
	noise_cs_wipe(&no_rekey);
	secure_channel_wipe(&c);
	secure_channel_wipe(&s);
}

static void test_tampered_and_replayed_frames_fail(void **state)
{
	secure_channel c, s;
	uint8_t seen[32], frame[256], copy[256], back[256];
	size_t n = 0, m = 0;
	(void)state;

	handshake(&c, &s, seen);
	assert_int_equal(secure_seal(&c, (const uint8_t *)"hello", 5, frame,
				     sizeof(frame), &n),
			 0);
	memcpy(copy, frame, n);
	copy[2 + 1] ^= 0x04;
	assert_int_equal(
	    secure_open(&s, copy + 2, n - 2, back, sizeof(back), &m),
	    CARTA_ECRYPTO);
	/* The forgery did not advance the nonce: the real frame opens. */
	assert_int_equal(
	    secure_open(&s, frame + 2, n - 2, back, sizeof(back), &m), 0);
	assert_memory_equal(back, "hello", 5);
	/* A replay does not. */
	assert_int_equal(
	    secure_open(&s, frame + 2, n - 2, back, sizeof(back), &m),
	    CARTA_ECRYPTO);
	assert_int_equal(secure_open(&s, frame + 2, 10, back, sizeof(back), &m),
			 CARTA_EPROTO);
	secure_channel_wipe(&c);
	secure_channel_wipe(&s);
}

static void test_seal_refuses_oversize(void **state)
{
	secure_channel c, s;
	uint8_t seen[32];
	static uint8_t big[SECURE_MAX_PLAINTEXT + 1];
	static uint8_t out[SECURE_MAX_PLAINTEXT + 64];
	size_t n = 0;
	(void)state;

	handshake(&c, &s, seen);
	assert_int_equal(
	    secure_seal(&c, big, sizeof(big), out, sizeof(out), &n),
	    CARTA_ETOOBIG);
	assert_int_equal(
	    secure_seal(&c, big, SECURE_MAX_PLAINTEXT, out, sizeof(out), &n),
	    0);
	assert_int_equal(n, 2 + 65535);
	secure_channel_wipe(&c);
	secure_channel_wipe(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_preface),
	    cmocka_unit_test(test_handshake_authenticates_client),
	    cmocka_unit_test(test_transport_across_rekeys),
	    cmocka_unit_test(test_tampered_and_replayed_frames_fail),
	    cmocka_unit_test(test_seal_refuses_oversize),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
