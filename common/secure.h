/* Carta's secure channel: the preface, the Noise_XK handshake driven one
 * message at a time, and the transport with periodic rekeying. Shared by
 * the event-loop server and the blocking client; no I/O happens here.
 *
 * Wire order (docs/PROTOCOL.md): the client sends the 8-byte preface, then
 * handshake message 1 as a frame; the server answers message 2; the client
 * sends message 3; from then on every frame is one transport message. */
#ifndef CARTA_SECURE_H
#define CARTA_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noise.h"

#define CARTA_PROTOCOL_VERSION 1
#define SECURE_PREFACE_LEN     8
/* Handshake message sizes with empty payloads (XK, 25519, ChaChaPoly). */
#define SECURE_MSG1_LEN 48
#define SECURE_MSG2_LEN 48
#define SECURE_MSG3_LEN 64
/* Transport: each direction rekeys after this many messages. */
#define SECURE_REKEY_INTERVAL 4096
/* The largest protobuf message one transport frame can carry. */
#define SECURE_MAX_PLAINTEXT (NOISE_MAX_MSG - NOISE_TAG_LEN)

/* Writes the preface for CARTA_PROTOCOL_VERSION: "CARTA", 0x00, then the
 * version as 2 bytes big-endian. It is also the Noise prologue. */
void secure_preface(uint8_t out[SECURE_PREFACE_LEN]);

/* Checks a received preface. Returns 0, CARTA_EPROTO for a wrong magic, or
 * CARTA_EINVAL for the right magic with another version. */
int secure_check_preface(const uint8_t in[SECURE_PREFACE_LEN]);

/* An established transport. Holds keys: wipe with secure_channel_wipe. */
typedef struct {
	noise_cs tx, rx;
	uint64_t sent, received;
} secure_channel;

/* Encrypts pt (len <= SECURE_MAX_PLAINTEXT) into a complete frame (header
 * and ciphertext) at out, which must hold len + FRAME_HEADER_LEN +
 * NOISE_TAG_LEN bytes. Returns 0, CARTA_ETOOBIG or CARTA_ECRYPTO. */
int secure_seal(secure_channel *ch, const uint8_t *pt, size_t len, uint8_t *out,
		size_t cap, size_t *outlen);

/* Decrypts one frame payload ct into out (ctlen - NOISE_TAG_LEN bytes).
 * Returns 0, CARTA_EPROTO when too short, CARTA_ECRYPTO when forged. A
 * failure is fatal for the channel. */
int secure_open(secure_channel *ch, const uint8_t *ct, size_t ctlen,
		uint8_t *out, size_t cap, size_t *outlen);

void secure_channel_wipe(secure_channel *ch);

/* Client side. secure_client_begin writes the preface followed by the
 * framed message 1 into out (SECURE_PREFACE_LEN + 2 + SECURE_MSG1_LEN
 * bytes). secure_client_finish reads message 2 (a frame payload) and
 * writes the framed message 3 into out (2 + SECURE_MSG3_LEN bytes), then
 * fills ch. hs is wiped by finish, and must be wiped by the caller after
 * any error. */
int secure_client_begin(noise_hs *hs, const uint8_t client_priv[32],
			const uint8_t server_pub[32], uint8_t *out, size_t cap,
			size_t *outlen);
int secure_client_finish(noise_hs *hs, const uint8_t *msg2, size_t len,
			 uint8_t *out, size_t cap, size_t *outlen,
			 secure_channel *ch);

/* Server side: init after a good preface; read message 1 and write the
 * framed message 2 into out; read message 3, then fill ch and copy the
 * client's static public key to client_pub. Same wiping rules. */
int secure_server_init(noise_hs *hs, const uint8_t server_priv[32]);
int secure_server_respond(noise_hs *hs, const uint8_t *msg1, size_t len,
			  uint8_t *out, size_t cap, size_t *outlen);
int secure_server_finish(noise_hs *hs, const uint8_t *msg3, size_t len,
			 secure_channel *ch, uint8_t client_pub[32]);

#endif
