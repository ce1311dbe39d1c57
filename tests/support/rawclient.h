/* A hand-driven client for protocol tests: blocking socket calls around
 * the common secure-channel code, so that each step can be broken on
 * purpose. */
#ifndef CARTA_TEST_RAWCLIENT_H
#define CARTA_TEST_RAWCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "harness.h"
#include "secure.h"

typedef struct {
	int fd;
	noise_hs hs;
	secure_channel ch;
} rawclient;

int raw_send_all(int fd, const void *data, size_t len);

/* Reads one frame (header and payload) within timeout_ms. Returns 0, or
 * -1 on close, time-out or error. */
int raw_recv_frame(int fd, uint8_t *buf, size_t cap, size_t *len,
		   int timeout_ms);

/* Connects and runs the whole handshake with client_priv against the
 * server key server_pub. Returns 0 or -1. */
int raw_handshake(rawclient *rc, const harness *h, const uint8_t *client_priv,
		  const uint8_t *server_pub);

/* Sends req over the channel. Returns 0 or -1. */
int raw_send_request(rawclient *rc, const Carta__V1__Request *req);

/* Receives one response (caller frees with
 * carta__v1__response__free_unpacked), or NULL. */
Carta__V1__Response *raw_recv_response(rawclient *rc, int timeout_ms);

void raw_close(rawclient *rc);

#endif
