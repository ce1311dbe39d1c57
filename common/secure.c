#include "secure.h"

#include <sodium.h>
#include <string.h>

#include "carta_error.h"
#include "frame.h"

static const uint8_t preface_magic[6] = {'C', 'A', 'R', 'T', 'A', 0x00};

void secure_preface(uint8_t out[SECURE_PREFACE_LEN])
{
	memcpy(out, preface_magic, sizeof(preface_magic));
	out[6] = (uint8_t)(CARTA_PROTOCOL_VERSION >> 8);
	out[7] = (uint8_t)(CARTA_PROTOCOL_VERSION & 0xff);
}

int secure_check_preface(const uint8_t in[SECURE_PREFACE_LEN])
{
	uint8_t want[SECURE_PREFACE_LEN];

	secure_preface(want);
	if (memcmp(in, want, sizeof(preface_magic)) != 0)
		return CARTA_EPROTO;
	if (memcmp(in, want, SECURE_PREFACE_LEN) != 0)
		return CARTA_EINVAL;
	return 0;
}

int secure_seal(secure_channel *ch, const uint8_t *pt, size_t len, uint8_t *out,
		size_t cap, size_t *outlen)
{
	size_t ctlen = 0;

	if (len > SECURE_MAX_PLAINTEXT ||
	    cap < len + FRAME_HEADER_LEN + NOISE_TAG_LEN)
		return CARTA_ETOOBIG;
	int rv =
	    noise_cs_encrypt(&ch->tx, NULL, 0, pt, len, out + FRAME_HEADER_LEN,
			     cap - FRAME_HEADER_LEN, &ctlen);
	if (rv != 0)
		return rv;
	frame_put_header(out, ctlen);
	*outlen = ctlen + FRAME_HEADER_LEN;

	ch->sent++;
	if (ch->sent % SECURE_REKEY_INTERVAL == 0)
		noise_cs_rekey(&ch->tx);
	return 0;
}

int secure_open(secure_channel *ch, const uint8_t *ct, size_t ctlen,
		uint8_t *out, size_t cap, size_t *outlen)
{
	if (ctlen < NOISE_TAG_LEN)
		return CARTA_EPROTO;
	int rv =
	    noise_cs_decrypt(&ch->rx, NULL, 0, ct, ctlen, out, cap, outlen);
	if (rv != 0)
		return rv;

	ch->received++;
	if (ch->received % SECURE_REKEY_INTERVAL == 0)
		noise_cs_rekey(&ch->rx);
	return 0;
}

void secure_channel_wipe(secure_channel *ch)
{
	sodium_memzero(ch, sizeof(*ch));
}

static int prologue_init(noise_hs *hs, bool initiator, const uint8_t *s_priv,
			 const uint8_t *rs)
{
	uint8_t prologue[SECURE_PREFACE_LEN];

	secure_preface(prologue);
	return noise_hs_init(hs, NOISE_XK, initiator, prologue,
			     sizeof(prologue), s_priv, rs);
}

int secure_client_begin(noise_hs *hs, const uint8_t client_priv[32],
			const uint8_t server_pub[32], uint8_t *out, size_t cap,
			size_t *outlen)
{
	const size_t need =
	    SECURE_PREFACE_LEN + FRAME_HEADER_LEN + SECURE_MSG1_LEN;
	size_t n = 0;

	if (cap < need)
		return CARTA_ETOOBIG;
	int rv = prologue_init(hs, true, client_priv, server_pub);
	if (rv != 0)
		return rv;
	secure_preface(out);
	rv = noise_hs_write(hs, NULL, 0,
			    out + SECURE_PREFACE_LEN + FRAME_HEADER_LEN,
			    SECURE_MSG1_LEN, &n);
	if (rv != 0)
		return rv;
	frame_put_header(out + SECURE_PREFACE_LEN, n);
	*outlen = need;
	return 0;
}

int secure_client_finish(noise_hs *hs, const uint8_t *msg2, size_t len,
			 uint8_t *out, size_t cap, size_t *outlen,
			 secure_channel *ch)
{
	uint8_t payload[1];
	size_t plen = 0, n = 0;

	/* Carta's handshake payloads are empty, so sizes are exact. */
	if (len != SECURE_MSG2_LEN)
		return CARTA_EPROTO;
	if (cap < FRAME_HEADER_LEN + SECURE_MSG3_LEN)
		return CARTA_ETOOBIG;
	int rv = noise_hs_read(hs, msg2, len, payload, sizeof(payload), &plen);
	if (rv != 0)
		return rv;
	rv = noise_hs_write(hs, NULL, 0, out + FRAME_HEADER_LEN,
			    SECURE_MSG3_LEN, &n);
	if (rv != 0)
		return rv;
	frame_put_header(out, n);
	*outlen = n + FRAME_HEADER_LEN;

	memset(ch, 0, sizeof(*ch));
	rv = noise_hs_split(hs, &ch->tx, &ch->rx);
	noise_hs_wipe(hs);
	return rv;
}

int secure_server_init(noise_hs *hs, const uint8_t server_priv[32])
{
	return prologue_init(hs, false, server_priv, NULL);
}

int secure_server_respond(noise_hs *hs, const uint8_t *msg1, size_t len,
			  uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t payload[1];
	size_t plen = 0, n = 0;

	if (len != SECURE_MSG1_LEN)
		return CARTA_EPROTO;
	if (cap < FRAME_HEADER_LEN + SECURE_MSG2_LEN)
		return CARTA_ETOOBIG;
	int rv = noise_hs_read(hs, msg1, len, payload, sizeof(payload), &plen);
	if (rv != 0)
		return rv;
	rv = noise_hs_write(hs, NULL, 0, out + FRAME_HEADER_LEN,
			    SECURE_MSG2_LEN, &n);
	if (rv != 0)
		return rv;
	frame_put_header(out, n);
	*outlen = n + FRAME_HEADER_LEN;
	return 0;
}

int secure_server_finish(noise_hs *hs, const uint8_t *msg3, size_t len,
			 secure_channel *ch, uint8_t client_pub[32])
{
	uint8_t payload[1];
	size_t plen = 0;

	if (len != SECURE_MSG3_LEN)
		return CARTA_EPROTO;
	int rv = noise_hs_read(hs, msg3, len, payload, sizeof(payload), &plen);
	if (rv != 0)
		return rv;
	memcpy(client_pub, noise_hs_remote_static(hs), 32);
	memset(ch, 0, sizeof(*ch));
	rv = noise_hs_split(hs, &ch->tx, &ch->rx);
	noise_hs_wipe(hs);
	return rv;
}
