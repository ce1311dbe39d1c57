/* Protocol abuse against a real cartad: each test breaks the handshake in
 * one way and checks that the server cuts the connection (or that our
 * client refuses the server's message), and that the server keeps serving
 * everyone else; idle sockets cannot take every handshake slot, and junk
 * connections cannot flood the log or hide a refused key in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "carta.h"
#include "carta_error.h"
#include "keys.h"
#include "log.h"
#include "frame.h"
#include "harness.h"
#include "rawclient.h"
#include "secure.h"

#define HANDSHAKE_TIMEOUT_MS 2000

static harness srv;

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	return harness_start(&srv, "handshake_timeout_ms = 2000\n");
}

static int teardown(void **state)
{
	(void)state;
	return harness_stop(&srv) == 0 ? 0 : -1;
}

/* A full, good handshake and a ping: the server still serves. */
static void assert_server_serves(void)
{
	rawclient rc;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Ping ping = CARTA__V1__PING__INIT;

	assert_int_equal(
	    raw_handshake(&rc, &srv, srv.admin_priv, srv.server_pub), 0);
	req.id = 7;
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	assert_int_equal(raw_send_request(&rc, &req), 0);
	Carta__V1__Response *resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->id, 7);
	assert_int_equal(resp->body_case, CARTA__V1__RESPONSE__BODY_PONG);
	assert_string_equal(resp->pong->info->principal, "admin");
	carta__v1__response__free_unpacked(resp, NULL);
	raw_close(&rc);
}

/* Sends raw bytes on a fresh connection and expects the server to close
 * it within within_ms without ever sending a frame. */
static void assert_cut(const uint8_t *bytes, size_t len, int within_ms)
{
	int fd = harness_connect_raw(&srv);
	assert_true(fd >= 0);
	assert_int_equal(raw_send_all(fd, bytes, len), 0);
	assert_int_equal(harness_wait_closed(fd, within_ms), 1);
	close(fd);
	assert_server_serves();
}

/* Preface and message 1 for client_priv against server_pub. */
static size_t first_flight(const uint8_t *client_priv,
			   const uint8_t *server_pub, uint8_t out[128])
{
	noise_hs hs;
	size_t n = 0;
	assert_int_equal(
	    secure_client_begin(&hs, client_priv, server_pub, out, 128, &n), 0);
	noise_hs_wipe(&hs);
	return n;
}

static void test_good_handshake_is_served(void **state)
{
	(void)state;
	assert_server_serves();
}

static void test_wrong_pinned_server_key(void **state)
{
	uint8_t wrong_priv[32], wrong_pub[32], buf[128];
	(void)state;

	noise_keypair(wrong_priv, wrong_pub);
	size_t n = first_flight(srv.admin_priv, wrong_pub, buf);

	int fd = harness_connect_raw(&srv);
	assert_true(fd >= 0);
	assert_int_equal(raw_send_all(fd, buf, n), 0);
	/* The server cannot decrypt message 1: no message 2, just a close,
	 * long before the handshake deadline. */
	size_t got = 0;
	assert_int_equal(raw_recv_frame(fd, buf, sizeof(buf), &got, 1000), -1);
	assert_int_equal(harness_wait_closed(fd, 1000), 1);
	close(fd);
	assert_server_serves();
}

/* Handshake with key; expect an unsolicited UNAUTHENTICATED and a close. */
static void assert_key_refused(const uint8_t *priv, const char *why)
{
	rawclient rc;

	assert_int_equal(raw_handshake(&rc, &srv, priv, srv.server_pub), 0);
	Carta__V1__Response *resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->id, 0);
	assert_non_null(resp->status);
	assert_int_equal(resp->status->code,
			 CARTA__V1__STATUS__CODE__UNAUTHENTICATED);
	assert_non_null(strstr(resp->status->message, why));
	carta__v1__response__free_unpacked(resp, NULL);
	assert_int_equal(harness_wait_closed(rc.fd, 2000), 1);
	raw_close(&rc);
	assert_server_serves();
}

static void test_unknown_client_key(void **state)
{
	uint8_t priv[32], pub[32];
	(void)state;

	noise_keypair(priv, pub);
	assert_key_refused(priv, "not enrolled");
}

static void test_revoked_client_key(void **state)
{
	uint8_t priv[32], pub[32];
	rawclient rc;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__EnrolRequest enrol = CARTA__V1__ENROL_REQUEST__INIT;
	Carta__V1__RevokeRequest revoke = CARTA__V1__REVOKE_REQUEST__INIT;
	(void)state;

	noise_keypair(priv, pub);
	assert_int_equal(
	    raw_handshake(&rc, &srv, srv.admin_priv, srv.server_pub), 0);
	enrol.name = "soon-revoked";
	enrol.department = "sales";
	enrol.public_key.data = pub;
	enrol.public_key.len = 32;
	req.id = 1;
	req.body_case = CARTA__V1__REQUEST__BODY_ENROL;
	req.enrol = &enrol;
	assert_int_equal(raw_send_request(&rc, &req), 0);
	Carta__V1__Response *resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->status->code, CARTA__V1__STATUS__CODE__OK);
	carta__v1__response__free_unpacked(resp, NULL);

	revoke.name = "soon-revoked";
	req.id = 2;
	req.body_case = CARTA__V1__REQUEST__BODY_REVOKE;
	req.revoke = &revoke;
	assert_int_equal(raw_send_request(&rc, &req), 0);
	resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->status->code, CARTA__V1__STATUS__CODE__OK);
	assert_int_equal(resp->principal->state,
			 CARTA__V1__PRINCIPAL_STATE__STATE_REVOKED);
	carta__v1__response__free_unpacked(resp, NULL);
	raw_close(&rc);

	assert_key_refused(priv, "revoked");
}

static void test_bit_flip_in_message1(void **state)
{
	uint8_t buf[128];
	(void)state;

	size_t n = first_flight(srv.admin_priv, srv.server_pub, buf);
	const size_t msg1 = SECURE_PREFACE_LEN + FRAME_HEADER_LEN;
	/* In the ephemeral key, and in the payload's tag. */
	const size_t offsets[] = {0, 31, 32, SECURE_MSG1_LEN - 1};
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		uint8_t bad[128];
		memcpy(bad, buf, n);
		bad[msg1 + offsets[i]] ^= 0x01;
		assert_cut(bad, n, 1000);
	}
}

static void test_bit_flip_in_message2(void **state)
{
	uint8_t out[128], msg2[128];
	size_t n = 0, m = 0;
	noise_hs hs;
	secure_channel ch;
	(void)state;

	const size_t offsets[] = {0, 31, 32, SECURE_MSG2_LEN - 1};
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		int fd = harness_connect_raw(&srv);
		assert_true(fd >= 0);
		assert_int_equal(secure_client_begin(&hs, srv.admin_priv,
						     srv.server_pub, out,
						     sizeof(out), &n),
				 0);
		assert_int_equal(raw_send_all(fd, out, n), 0);
		assert_int_equal(
		    raw_recv_frame(fd, msg2, sizeof(msg2), &m, 5000), 0);
		assert_int_equal(m, SECURE_MSG2_LEN);
		msg2[offsets[i]] ^= 0x80;
		/* Our side refuses the forged message 2. */
		assert_int_equal(secure_client_finish(&hs, msg2, m, out,
						      sizeof(out), &n, &ch),
				 CARTA_ECRYPTO);
		noise_hs_wipe(&hs);
		close(fd);
	}
	assert_server_serves();
}

/* Runs the handshake up to message 3 and lets mutate change it. */
static void send_bad_message3(void (*mutate)(uint8_t *frame, size_t *len))
{
	uint8_t out[256], msg2[128];
	size_t n = 0, m = 0;
	noise_hs hs;
	secure_channel ch;

	int fd = harness_connect_raw(&srv);
	assert_true(fd >= 0);
	assert_int_equal(secure_client_begin(&hs, srv.admin_priv,
					     srv.server_pub, out, sizeof(out),
					     &n),
			 0);
	assert_int_equal(raw_send_all(fd, out, n), 0);
	assert_int_equal(raw_recv_frame(fd, msg2, sizeof(msg2), &m, 5000), 0);
	assert_int_equal(
	    secure_client_finish(&hs, msg2, m, out, sizeof(out), &n, &ch), 0);
	mutate(out, &n);
	assert_int_equal(raw_send_all(fd, out, n), 0);
	/* No response to anything: the connection is cut. */
	assert_int_equal(harness_wait_closed(fd, 1000), 1);
	close(fd);
	secure_channel_wipe(&ch);
	assert_server_serves();
}

static void flip_in_static(uint8_t *f, size_t *len)
{
	(void)len;
	f[FRAME_HEADER_LEN + 5] ^= 0x10;
}

static void flip_in_payload_tag(uint8_t *f, size_t *len)
{
	f[*len - 1] ^= 0x01;
}

static void truncate_msg3(uint8_t *f, size_t *len)
{
	*len -= 1;
	frame_put_header(f, *len - FRAME_HEADER_LEN);
}

static void trailing_after_msg3(uint8_t *f, size_t *len)
{
	f[*len] = 0x42;
	*len += 1;
	frame_put_header(f, *len - FRAME_HEADER_LEN);
}

static void test_bit_flip_in_message3(void **state)
{
	(void)state;
	send_bad_message3(flip_in_static);
	send_bad_message3(flip_in_payload_tag);
}

static void test_truncated_message1(void **state)
{
	uint8_t buf[128];
	(void)state;

	size_t n = first_flight(srv.admin_priv, srv.server_pub, buf);
	/* A shorter frame that says so. */
	frame_put_header(buf + SECURE_PREFACE_LEN, SECURE_MSG1_LEN - 1);
	assert_cut(buf, n - 1, 1000);
	/* A frame cut short on the wire: the deadline ends it. */
	n = first_flight(srv.admin_priv, srv.server_pub, buf);
	assert_cut(buf, n - 10, HANDSHAKE_TIMEOUT_MS + 2000);
}

static void test_truncated_message2(void **state)
{
	uint8_t out[128], msg2[128];
	size_t n = 0, m = 0;
	noise_hs hs;
	secure_channel ch;
	(void)state;

	int fd = harness_connect_raw(&srv);
	assert_true(fd >= 0);
	assert_int_equal(secure_client_begin(&hs, srv.admin_priv,
					     srv.server_pub, out, sizeof(out),
					     &n),
			 0);
	assert_int_equal(raw_send_all(fd, out, n), 0);
	assert_int_equal(raw_recv_frame(fd, msg2, sizeof(msg2), &m, 5000), 0);
	assert_int_equal(
	    secure_client_finish(&hs, msg2, m - 1, out, sizeof(out), &n, &ch),
	    CARTA_EPROTO);
	noise_hs_wipe(&hs);
	close(fd);
}

static void test_truncated_message3(void **state)
{
	(void)state;
	send_bad_message3(truncate_msg3);
}

static void test_trailing_bytes(void **state)
{
	uint8_t buf[128];
	(void)state;

	/* Message 1 one byte longer than the pattern allows. */
	size_t n = first_flight(srv.admin_priv, srv.server_pub, buf);
	buf[n] = 0x00;
	frame_put_header(buf + SECURE_PREFACE_LEN, SECURE_MSG1_LEN + 1);
	assert_cut(buf, n + 1, 1000);
	/* Message 3 with a byte after it inside its frame. */
	send_bad_message3(trailing_after_msg3);
}

static void test_oversize_length(void **state)
{
	uint8_t buf[SECURE_PREFACE_LEN + 2];
	(void)state;

	secure_preface(buf);
	buf[SECURE_PREFACE_LEN] = 0xff;
	buf[SECURE_PREFACE_LEN + 1] = 0xff;
	/* Cut on the header alone, long before the deadline. */
	assert_cut(buf, sizeof(buf), 1000);
}

static void test_zero_length_frame(void **state)
{
	uint8_t buf[SECURE_PREFACE_LEN + 2] = {0};
	(void)state;

	secure_preface(buf);
	assert_cut(buf, sizeof(buf), 1000);
}

static void test_garbage_preface(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	(void)state;

	assert_cut((const uint8_t *)http, sizeof(http) - 1, 1000);
}

static void test_wrong_version_preface(void **state)
{
	uint8_t buf[128];
	(void)state;

	size_t n = first_flight(srv.admin_priv, srv.server_pub, buf);
	buf[SECURE_PREFACE_LEN - 1] ^= 0x03; /* version 1 becomes 2 */
	assert_cut(buf, n, 1000);
}

static void test_low_order_public_key(void **state)
{
	/* Points of small order on Curve25519: X25519 with them yields
	 * all zeros, which must end the handshake. */
	static const uint8_t low_order[][32] = {
	    {0},
	    {1},
	    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	};
	uint8_t buf[128];
	(void)state;

	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		size_t n = first_flight(srv.admin_priv, srv.server_pub, buf);
		memcpy(buf + SECURE_PREFACE_LEN + FRAME_HEADER_LEN,
		       low_order[i], 32);
		assert_cut(buf, n, 1000);
	}
}

static void test_one_byte_per_second_cut_at_deadline(void **state)
{
	uint8_t buf[128];
	(void)state;

	size_t n = first_flight(srv.admin_priv, srv.server_pub, buf);
	int fd = harness_connect_raw(&srv);
	assert_true(fd >= 0);
	uint64_t start = harness_now_ms();
	size_t sent = 0;
	int closed = 0;
	while (sent < n && !closed) {
		if (raw_send_all(fd, buf + sent, 1) != 0) {
			closed = 1;
			break;
		}
		sent++;
		closed = harness_wait_closed(fd, 1000);
	}
	uint64_t elapsed = harness_now_ms() - start;
	assert_true(closed);
	/* Cut at the deadline: not before it, and far from the 58 s that
	 * the whole first flight would take at this pace. */
	assert_true(elapsed >= HANDSHAKE_TIMEOUT_MS - 100);
	assert_true(elapsed <= HANDSHAKE_TIMEOUT_MS + 3000);
	assert_true(sent < n);
	close(fd);
	assert_server_serves();
}

/* An admin session on h from source, answered a ping: authenticated. */
static void open_session(const harness *h, const char *source, rawclient *rc)
{
	harness from = *h;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Ping ping = CARTA__V1__PING__INIT;

	snprintf(from.source, sizeof(from.source), "%s", source);
	assert_int_equal(
	    raw_handshake(rc, &from, from.admin_priv, from.server_pub), 0);
	req.id = 9;
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	assert_int_equal(raw_send_request(rc, &req), 0);
	Carta__V1__Response *resp = raw_recv_response(rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->id, 9);
	carta__v1__response__free_unpacked(resp, NULL);
}

/* Connects from source and expects the server to keep the socket open
 * (closed == 0) or to close it at once (closed == 1). */
static int idle_socket(const harness *h, const char *source, int closed)
{
	harness from = *h;

	snprintf(from.source, sizeof(from.source), "%s", source);
	int fd = harness_connect_raw(&from);
	assert_true(fd >= 0);
	assert_int_equal(harness_wait_closed(fd, closed ? 2000 : 300), closed);
	if (closed) {
		close(fd);
		return -1;
	}
	return fd;
}

static unsigned count_lines(const char *text, const char *needle);

/* Idle sockets up to the connection cap, under the handshake caps, make
 * room for a client that completes its handshake: the reserve for admins
 * stays theirs. */
static void test_idle_sockets_cannot_fill_the_connection_cap(void **state)
{
	harness h;
	int idle[8];
	rawclient admin;
	(void)state;

	assert_int_equal(harness_start(&h, "max_connections = 4\n"
					   "admin_reserve = 1\n"
					   "max_handshakes = 64\n"
					   "max_handshakes_per_address = 16\n"),
			 0);
	for (int i = 0; i < 8; i++)
		idle[i] = idle_socket(&h, "127.0.0.1", 0);
	/* Beyond 5 the oldest idle sockets went. */
	assert_int_equal(harness_wait_closed(idle[0], 2000), 1);
	open_session(&h, "127.0.0.2", &admin);
	raw_close(&admin);
	for (int i = 0; i < 8; i++)
		close(idle[i]);
	assert_int_equal(harness_stop(&h), 0);
}

static void test_idle_sockets_cannot_lock_out_others(void **state)
{
	harness h;
	int idle[4];
	(void)state;

	assert_int_equal(harness_start(&h, "max_connections = 16\n"
					   "max_handshakes = 4\n"
					   "max_handshakes_per_address = 2\n"),
			 0);
	/* One address fills its share of the handshake slots: its next
	 * socket makes its oldest go, while another address is served. */
	idle[0] = idle_socket(&h, "127.0.0.1", 0);
	idle[1] = idle_socket(&h, "127.0.0.1", 0);
	int third = idle_socket(&h, "127.0.0.1", 0);
	assert_int_equal(harness_wait_closed(idle[0], 2000), 1);
	close(idle[0]);
	idle[0] = third;
	rawclient sessions[3];
	open_session(&h, "127.0.0.2", &sessions[0]);

	/* Authenticated connections hold no handshake slot: one address
	 * keeps more sessions open than it may have handshakes. */
	open_session(&h, "127.0.0.2", &sessions[1]);
	open_session(&h, "127.0.0.2", &sessions[2]);

	/* Idle sockets from many addresses fill every slot; a real client
	 * from a fresh address still gets in, and the oldest idle socket
	 * (from 127.0.0.1) is the one that made room. */
	idle[2] = idle_socket(&h, "127.0.0.3", 0);
	idle[3] = idle_socket(&h, "127.0.0.4", 0);
	carta_options opts;
	carta_client *c = NULL;
	memset(&opts, 0, sizeof(opts));
	snprintf(opts.server, sizeof(opts.server), "%s", h.addr);
	memcpy(opts.server_key, h.server_pub, 32);
	memcpy(opts.secret_key, h.admin_priv, 32);
	assert_int_equal(carta_connect(&opts, &c), 0);
	carta_options_wipe(&opts);
	carta_server_info info;
	assert_int_equal(carta_ping(c, &info), 0);
	carta_close(c);
	assert_int_equal(harness_wait_closed(idle[1], 2000), 1);
	assert_int_equal(harness_wait_closed(idle[2], 200), 0);
	assert_int_equal(harness_wait_closed(idle[3], 200), 0);
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	/* The sessions were served all along. */
	for (int i = 0; i < 3; i++) {
		Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
		Carta__V1__Ping ping = CARTA__V1__PING__INIT;
		req.id = 10;
		req.body_case = CARTA__V1__REQUEST__BODY_PING;
		req.ping = &ping;
		assert_int_equal(raw_send_request(&sessions[i], &req), 0);
		Carta__V1__Response *resp =
		    raw_recv_response(&sessions[i], 5000);
		assert_non_null(resp);
		assert_int_equal(resp->id, 10);
		carta__v1__response__free_unpacked(resp, NULL);
		raw_close(&sessions[i]);
	}

	char *log = harness_read_log(&h);
	assert_non_null(log);
	/* Both evictions were logged, each naming the socket that went. */
	assert_int_equal(count_lines(log, "event=evicted reason=handshake_cap "
					  "peer=127.0.0.1:"),
			 2);
	free(log);
	assert_int_equal(harness_stop(&h), 0);
}

/* Counts the lines of text holding needle. */
static unsigned count_lines(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_junk_connections_do_not_flood_the_log(void **state)
{
	enum { JUNK = 150 };
	static const char http[] = "GET / HTTP/1.1\r\n\r\n";
	uint8_t priv[32], pub[32];
	char fp[KEY_FP_SIZE], want[128];
	harness h;
	rawclient rc;
	(void)state;

	assert_int_equal(harness_start(&h, NULL), 0);
	uint64_t start = harness_now_ms();
	for (int i = 0; i < JUNK; i++) {
		int fd = harness_connect_raw(&h);
		assert_true(fd >= 0);
		assert_int_equal(
		    raw_send_all(fd, (const uint8_t *)http, sizeof(http) - 1),
		    0);
		assert_int_equal(harness_wait_closed(fd, 2000), 1);
		close(fd);
	}
	/* Amid the junk, a key the server does not know. */
	noise_keypair(priv, pub);
	key_fingerprint(pub, fp);
	assert_int_equal(raw_handshake(&rc, &h, priv, h.server_pub), 0);
	Carta__V1__Response *resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	carta__v1__response__free_unpacked(resp, NULL);
	raw_close(&rc);
	/* The first line of a class in a later second says how many of
	 * its lines were dropped. */
	usleep(1100000);
	int fd = harness_connect_raw(&h);
	assert_true(fd >= 0);
	close(fd);

	/* Each class of event has its own budget a second, so the span
	 * of wall-clock seconds bounds the lines of each. */
	unsigned budget = LOG_LIMIT_PER_SEC *
			  (unsigned)((harness_now_ms() - start) / 1000 + 2);
	print_message("%d junk connections, a budget of %u lines a class\n",
		      JUNK, budget);
	assert_true(budget < JUNK);
	usleep(100000);
	char *log = harness_read_log(&h);
	assert_non_null(log);
	unsigned conn_lines = count_lines(log, "event=accepted ") +
			      count_lines(log, "event=closed ");
	assert_true(conn_lines <= budget);
	assert_true(count_lines(log, "event=bad_preface ") <= budget);
	assert_non_null(strstr(log, " suppressed="));
	/* The refused key is there all the same. */
	snprintf(want, sizeof(want),
		 "event=auth_refused reason=unknown_key key_fp=%s", fp);
	assert_non_null(strstr(log, want));
	free(log);
	assert_int_equal(harness_stop(&h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_handshake_is_served),
	    cmocka_unit_test(test_wrong_pinned_server_key),
	    cmocka_unit_test(test_unknown_client_key),
	    cmocka_unit_test(test_revoked_client_key),
	    cmocka_unit_test(test_bit_flip_in_message1),
	    cmocka_unit_test(test_bit_flip_in_message2),
	    cmocka_unit_test(test_bit_flip_in_message3),
	    cmocka_unit_test(test_truncated_message1),
	    cmocka_unit_test(test_truncated_message2),
	    cmocka_unit_test(test_truncated_message3),
	    cmocka_unit_test(test_trailing_bytes),
	    cmocka_unit_test(test_oversize_length),
	    cmocka_unit_test(test_zero_length_frame),
	    cmocka_unit_test(test_garbage_preface),
	    cmocka_unit_test(test_wrong_version_preface),
	    cmocka_unit_test(test_low_order_public_key),
	    cmocka_unit_test(test_one_byte_per_second_cut_at_deadline),
	    cmocka_unit_test(test_idle_sockets_cannot_lock_out_others),
	    cmocka_unit_test(test_idle_sockets_cannot_fill_the_connection_cap),
	    cmocka_unit_test(test_junk_connections_do_not_flood_the_log),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
