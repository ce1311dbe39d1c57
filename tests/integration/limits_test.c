/* Server limits against a real cartad: idle time-out, session age, and
 * backpressure on a client that sends without reading. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "frame.h"
#include "harness.h"
#include "rawclient.h"
#include "secure.h"

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void ping(rawclient *rc, uint64_t id)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Ping p = CARTA__V1__PING__INIT;

	req.id = id;
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &p;
	assert_int_equal(raw_send_request(rc, &req), 0);
	Carta__V1__Response *resp = raw_recv_response(rc, 30000);
	assert_non_null(resp);
	assert_int_equal(resp->id, id);
	carta__v1__response__free_unpacked(resp, NULL);
}

static void test_idle_connection_closed(void **state)
{
	harness h;
	rawclient rc;
	(void)state;

	assert_int_equal(harness_start(&h, "idle_timeout_ms = 1000\n"), 0);
	assert_int_equal(raw_handshake(&rc, &h, h.admin_priv, h.server_pub), 0);
	/* Activity keeps it open past the idle time... */
	for (int i = 1; i <= 4; i++) {
		ping(&rc, (uint64_t)i);
		usleep(200000);
	}
	/* ...silence does not. */
	uint64_t start = harness_now_ms();
	assert_int_equal(harness_wait_closed(rc.fd, 3000), 1);
	assert_true(harness_now_ms() - start < 3000);
	raw_close(&rc);
	assert_int_equal(harness_stop(&h), 0);
}

static void test_session_max_age(void **state)
{
	harness h;
	rawclient rc;
	(void)state;

	assert_int_equal(harness_start(&h, "session_max_age_ms = 1000\n"), 0);
	assert_int_equal(raw_handshake(&rc, &h, h.admin_priv, h.server_pub), 0);
	/* Busy or not, the session ends at its age. */
	uint64_t start = harness_now_ms();
	int closed = 0;
	for (uint64_t id = 1; !closed && harness_now_ms() - start < 4000;
	     id++) {
		Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
		Carta__V1__Ping p = CARTA__V1__PING__INIT;
		req.id = id;
		req.body_case = CARTA__V1__REQUEST__BODY_PING;
		req.ping = &p;
		Carta__V1__Response *resp = NULL;
		if (raw_send_request(&rc, &req) == 0)
			resp = raw_recv_response(&rc, 2000);
		if (resp == NULL)
			closed = 1;
		else
			carta__v1__response__free_unpacked(resp, NULL);
		usleep(50000);
	}
	uint64_t elapsed = harness_now_ms() - start;
	assert_true(closed);
	assert_true(elapsed >= 900 && elapsed < 4000);
	raw_close(&rc);
	assert_int_equal(harness_stop(&h), 0);
}

/* Sends what is left of the sealed frame without blocking. */
static void send_some(int fd, const uint8_t *frame, size_t len, size_t *off)
{
	ssize_t w =
	    send(fd, frame + *off, len - *off, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w > 0)
		*off += (size_t)w;
	else
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR);
}

static void test_backpressure_on_client_that_does_not_read(void **state)
{
	enum { MAX_PINGS = 400000, SOCK_BUF = 16384 };
	static uint8_t frame[256];
	harness h;
	rawclient rc;
	(void)state;

	assert_int_equal(harness_start(&h, "max_write_buffer = 65536\n"
					   "max_inflight = 8\n"),
			 0);
	/* Small buffers here, a bounded receive buffer on the server: the
	 * kernels cannot swallow every ping, so sending must stall. */
	h.sock_buf = SOCK_BUF;
	assert_int_equal(raw_handshake(&rc, &h, h.admin_priv, h.server_pub), 0);

	/* Send pings without reading a single answer until the socket
	 * will take no more: the server must have stopped reading, since
	 * a server that kept reading would drain us forever. A frame is
	 * sealed (its nonce used) before it is sent, so one sealed frame may
	 * be unsent, or partly sent, when sending stalls. */
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Ping p = CARTA__V1__PING__INIT;
	uint8_t plain[64];
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &p;
	uint64_t sealed = 0;
	int stalled = 0;
	size_t pending_len = 0, pending_off = 0;
	uint64_t last_progress = harness_now_ms();
	while (sealed < MAX_PINGS && !stalled) {
		if (pending_off == pending_len) {
			size_t n = 0;
			req.id = ++sealed;
			size_t len = carta__v1__request__pack(&req, plain);
			assert_int_equal(secure_seal(&rc.ch, plain, len, frame,
						     sizeof(frame), &n),
					 0);
			pending_len = n;
			pending_off = 0;
		}
		size_t before = pending_off;
		send_some(rc.fd, frame, pending_len, &pending_off);
		if (pending_off > before) {
			last_progress = harness_now_ms();
		} else {
			/* Blocked for a full second: the server reads no
			 * more. */
			stalled = harness_now_ms() - last_progress > 1000;
			usleep(10000);
		}
	}
	print_message("server stopped reading after %llu pings (the last "
		      "%zu of %zu bytes sent)\n",
		      (unsigned long long)sealed, pending_off, pending_len);
	assert_true(stalled);
	assert_true(sealed < MAX_PINGS);

	/* Read the answers, finishing the sealed frame on the way: every
	 * ping is answered exactly once, and the connection is still
	 * healthy afterwards. */
	uint8_t *seen = calloc(sealed + 1, 1);
	assert_non_null(seen);
	uint64_t got = 0, deadline = harness_now_ms() + 60000;
	while (got < sealed) {
		assert_true(harness_now_ms() < deadline);
		if (pending_off < pending_len)
			send_some(rc.fd, frame, pending_len, &pending_off);
		struct pollfd pfd = {.fd = rc.fd, .events = POLLIN};
		if (pending_off < pending_len)
			pfd.events |= POLLOUT;
		int n = poll(&pfd, 1, 5000);
		assert_true(n > 0 || (n < 0 && errno == EINTR));
		if (n <= 0 || !(pfd.revents & POLLIN))
			continue;
		Carta__V1__Response *resp = raw_recv_response(&rc, 5000);
		assert_non_null(resp);
		assert_int_equal(resp->status->code, 0);
		assert_true(resp->id >= 1 && resp->id <= sealed);
		assert_int_equal(seen[resp->id], 0);
		seen[resp->id] = 1;
		carta__v1__response__free_unpacked(resp, NULL);
		got++;
	}
	free(seen);
	assert_int_equal(pending_off, pending_len);
	ping(&rc, MAX_PINGS + 1);
	raw_close(&rc);
	assert_int_equal(harness_stop(&h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle_connection_closed),
	    cmocka_unit_test(test_session_max_age),
	    cmocka_unit_test(test_backpressure_on_client_that_does_not_read),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
