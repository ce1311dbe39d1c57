/* libFuzzer driver for the responder side of Noise_XK, the side a server
 * exposes to anyone who connects. The first input byte is a split point:
 * that many following bytes are message 1 and the rest is message 3. The
 * responder reads message 1, answers with message 2 and reads message 3;
 * every outcome must end without a crash, an overread or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t prologue[] = {'C', 'A', 'R', 'T', 'A', 0, 0, 1};

/* Fixed keys keep every run reproducible. */
static const uint8_t server_priv[NOISE_DH_LEN] = {
    0x4a, 0x3a, 0xcb, 0xfd, 0xb1, 0x63, 0xde, 0xc6, 0x51, 0xdf, 0xa3,
    0x19, 0x4d, 0xec, 0xe6, 0x76, 0xd4, 0x37, 0x02, 0x9c, 0x62, 0xa4,
    0x08, 0xb4, 0xc5, 0xea, 0x91, 0x14, 0x24, 0x6e, 0x48, 0x93};
static const uint8_t server_eph[NOISE_DH_LEN] = {
    0xbb, 0xdb, 0x4c, 0xdb, 0xd3, 0x09, 0xf1, 0xa1, 0xf2, 0xe1, 0x45,
    0x69, 0x67, 0xfe, 0x28, 0x8c, 0xad, 0xd6, 0xf7, 0x12, 0xd6, 0x5d,
    0xc7, 0xb7, 0x79, 0x3d, 0x5e, 0x63, 0xda, 0x6b, 0x37, 0x5b};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[NOISE_MAX_MSG], out[NOISE_MAX_MSG];
	noise_hs hs;
	noise_cs tx, rx;
	uint8_t *msg1 = NULL;
	size_t split, len, plen;

	if (size < 1 || sodium_init() < 0)
		return 0;
	split = data[0];
	data++;
	size--;
	if (split > size)
		split = size;

	/* Message 1 gets a buffer of its own length so that reading past
	 * it is caught instead of landing in message 3. */
	msg1 = malloc(split > 0 ? split : 1);
	if (msg1 == NULL)
		return 0;
	memcpy(msg1, data, split);

	memset(&hs, 0, sizeof hs);
	memset(&tx, 0, sizeof tx);
	memset(&rx, 0, sizeof rx);
	if (noise_hs_init(&hs, NOISE_XK, false, prologue, sizeof prologue,
			  server_priv, NULL) != 0)
		goto out;
	noise_hs_set_ephemeral(&hs, server_eph);

	if (noise_hs_read(&hs, msg1, split, payload, sizeof payload, &plen) !=
	    0)
		goto out;
	if (noise_hs_write(&hs, payload, plen, out, sizeof out, &len) != 0)
		goto out;
	if (noise_hs_read(&hs, data + split, size - split, payload,
			  sizeof payload, &plen) != 0)
		goto out;
	if (noise_hs_split(&hs, &tx, &rx) != 0)
		goto out;

out:
	noise_hs_wipe(&hs);
	noise_cs_wipe(&tx);
	noise_cs_wipe(&rx);
	free(msg1);
	return 0;
}
