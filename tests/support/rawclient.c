#include "rawclient.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"

int raw_send_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_exact(int fd, uint8_t *buf, size_t len, uint64_t deadline)
{
	size_t have = 0;

	while (have < len) {
		uint64_t now = harness_now_ms();
		if (now >= deadline)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = recv(fd, buf + have, len - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return 0;
}

int raw_recv_frame(int fd, uint8_t *buf, size_t cap, size_t *len,
		   int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
	uint8_t hdr[2];

	if (recv_exact(fd, hdr, 2, deadline) != 0)
		return -1;
	size_t n = ((size_t)hdr[0] << 8) | hdr[1];
	if (n > cap)
		return -1;
	if (recv_exact(fd, buf, n, deadline) != 0)
		return -1;
	*len = n;
	return 0;
}

int raw_handshake(rawclient *rc, const harness *h, const uint8_t *client_priv,
		  const uint8_t *server_pub)
{
	uint8_t out[128], msg2[128];
	size_t n = 0, m = 0;

	memset(rc, 0, sizeof(*rc));
	rc->fd = harness_connect_raw(h);
	if (rc->fd < 0)
		return -1;
	if (secure_client_begin(&rc->hs, client_priv, server_pub, out,
				sizeof(out), &n) != 0 ||
	    raw_send_all(rc->fd, out, n) != 0 ||
	    raw_recv_frame(rc->fd, msg2, sizeof(msg2), &m, 5000) != 0 ||
	    secure_client_finish(&rc->hs, msg2, m, out, sizeof(out), &n,
				 &rc->ch) != 0 ||
	    raw_send_all(rc->fd, out, n) != 0)
		return -1;
	return 0;
}

int raw_send_request(rawclient *rc, const Carta__V1__Request *req)
{
	static uint8_t plain[SECURE_MAX_PLAINTEXT];
	static uint8_t frame[FRAME_HEADER_LEN + NOISE_MAX_MSG];
	size_t len = carta__v1__request__get_packed_size(req), n = 0;

	if (len > sizeof(plain))
		return -1;
	carta__v1__request__pack(req, plain);
	if (secure_seal(&rc->ch, plain, len, frame, sizeof(frame), &n) != 0)
		return -1;
	return raw_send_all(rc->fd, frame, n);
}

Carta__V1__Response *raw_recv_response(rawclient *rc, int timeout_ms)
{
	static uint8_t frame[NOISE_MAX_MSG], plain[NOISE_MAX_MSG];
	size_t n = 0, m = 0;

	if (raw_recv_frame(rc->fd, frame, sizeof(frame), &n, timeout_ms) != 0)
		return NULL;
	if (secure_open(&rc->ch, frame, n, plain, sizeof(plain), &m) != 0)
		return NULL;
	return carta__v1__response__unpack(NULL, m, plain);
}

void raw_close(rawclient *rc)
{
	if (rc->fd >= 0)
		close(rc->fd);
	rc->fd = -1;
	noise_hs_wipe(&rc->hs);
	secure_channel_wipe(&rc->ch);
}
