/* The Noise protocol framework (revision 34), restricted to what Carta
 * needs: DH 25519, cipher ChaChaPoly, hash BLAKE2b, and the handshake
 * patterns NN, NK, KK, IK, XK and XX (Carta speaks XK; the others exist so
 * that the public test vectors can check the shared machinery). Built from
 * libsodium primitives only; HMAC-BLAKE2b and HKDF are implemented here.
 *
 * All state structs hold secrets: they are plain structs so that callers
 * can place them where they like (stack, sodium_malloc), and every one has
 * a wipe function that must be called when done. After any error from a
 * handshake function the handshake is dead (its secrets are already wiped
 * and every later call returns CARTA_ESTATE): wipe it. sodium_init() must
 * have succeeded before any call. */
#ifndef CARTA_NOISE_H
#define CARTA_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY_LEN  32
#define NOISE_DH_LEN   32
#define NOISE_HASH_LEN 64
#define NOISE_TAG_LEN  16
#define NOISE_MAX_MSG  65535
/* Nonce 2^64-1 is reserved by the spec; we refuse to reach it. */
#define NOISE_NONCE_MAX UINT64_MAX

typedef enum {
	NOISE_NN,
	NOISE_NK,
	NOISE_KK,
	NOISE_IK,
	NOISE_XK,
	NOISE_XX,
} noise_pattern;

/* A Noise CipherState. */
typedef struct {
	uint8_t k[NOISE_KEY_LEN];
	uint64_t n;
	bool has_key;
} noise_cs;

/* Encrypts plaintext pt (ptlen bytes) with associated data ad into out,
 * which must hold ptlen + NOISE_TAG_LEN bytes (NOISE_TAG_LEN fewer when the
 * state has no key: then out is a copy of pt). out may equal pt. Returns 0,
 * or CARTA_ETOOBIG when the result exceeds NOISE_MAX_MSG or cap, or
 * CARTA_ECRYPTO when the nonce space is exhausted. */
int noise_cs_encrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
		     const uint8_t *pt, size_t ptlen, uint8_t *out, size_t cap,
		     size_t *outlen);

/* Decrypts ct into out (which must hold ctlen - NOISE_TAG_LEN bytes); out
 * may equal ct. Returns 0, CARTA_EPROTO when ct is shorter than a tag,
 * CARTA_ETOOBIG when ctlen exceeds NOISE_MAX_MSG or the result exceeds
 * cap, or CARTA_ECRYPTO when authentication fails or the nonce space is
 * exhausted (the nonce does not advance). */
int noise_cs_decrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
		     const uint8_t *ct, size_t ctlen, uint8_t *out, size_t cap,
		     size_t *outlen);

/* Noise Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros). */
void noise_cs_rekey(noise_cs *cs);

void noise_cs_wipe(noise_cs *cs);

/* A Noise HandshakeState with its SymmetricState. Treat as opaque. */
typedef struct {
	/* SymmetricState */
	noise_cs cs;
	uint8_t ck[NOISE_HASH_LEN];
	uint8_t h[NOISE_HASH_LEN];
	/* keys */
	uint8_t s_priv[NOISE_DH_LEN], s_pub[NOISE_DH_LEN];
	uint8_t e_priv[NOISE_DH_LEN], e_pub[NOISE_DH_LEN];
	uint8_t rs[NOISE_DH_LEN], re[NOISE_DH_LEN];
	bool has_s, has_e, has_rs, has_re;
	bool fixed_e; /* ephemeral injected for test vectors */
	/* progress */
	noise_pattern pattern;
	bool initiator;
	int msg_index; /* next message pattern to process */
	bool failed;
} noise_hs;

/* Initialises hs. s_priv is our static private key (NULL when the pattern
 * has none for us); rs is the remote static public key known in advance
 * (NULL when not pre-known). The protocol name is derived from pattern.
 * Returns 0, or CARTA_EINVAL when a key the pattern needs is missing or a
 * key is given that the pattern has no use for. */
int noise_hs_init(noise_hs *hs, noise_pattern pattern, bool initiator,
		  const uint8_t *prologue, size_t prologue_len,
		  const uint8_t *s_priv, const uint8_t *rs);

/* For test vectors only: use e_priv as the next ephemeral key instead of
 * a random one. */
void noise_hs_set_ephemeral(noise_hs *hs, const uint8_t e_priv[NOISE_DH_LEN]);

/* True when it is our turn to write the next handshake message. */
bool noise_hs_my_turn(const noise_hs *hs);

/* True when all handshake messages have been processed. */
bool noise_hs_done(const noise_hs *hs);

/* Writes the next handshake message carrying payload into out (cap bytes);
 * payload and out must not overlap. Returns 0, CARTA_ESTATE when it is not
 * our turn or the handshake is done or failed, CARTA_ETOOBIG when out or
 * NOISE_MAX_MSG is too small, CARTA_ECRYPTO when a DH yields the all-zero
 * output. */
int noise_hs_write(noise_hs *hs, const uint8_t *payload, size_t plen,
		   uint8_t *out, size_t cap, size_t *outlen);

/* Reads the next handshake message msg (len bytes) and writes its payload
 * into payload (cap bytes); msg and payload must not overlap. Returns 0,
 * CARTA_ESTATE as above, CARTA_EPROTO when msg is too short, CARTA_ETOOBIG
 * when len exceeds NOISE_MAX_MSG or the payload exceeds cap, CARTA_ECRYPTO
 * when decryption fails or a DH yields the all-zero output (a low-order
 * public key). Lengths are checked before anything in msg is used. */
int noise_hs_read(noise_hs *hs, const uint8_t *msg, size_t len,
		  uint8_t *payload, size_t cap, size_t *plen);

/* After noise_hs_done(): Split() into the two transport CipherStates,
 * oriented for us: tx encrypts what we send, rx decrypts what we receive.
 * Works once: it wipes the chaining key and the ephemeral key, keeping the
 * hash and the static keys. Returns 0 or CARTA_ESTATE. */
int noise_hs_split(noise_hs *hs, noise_cs *tx, noise_cs *rx);

/* The handshake hash h (NOISE_HASH_LEN bytes), valid once done. */
const uint8_t *noise_hs_hash(const noise_hs *hs);

/* The remote static public key, or NULL when not (yet) known. */
const uint8_t *noise_hs_remote_static(const noise_hs *hs);

void noise_hs_wipe(noise_hs *hs);

/* Makes an X25519 key pair. Returns 0. */
int noise_keypair(uint8_t priv[NOISE_DH_LEN], uint8_t pub[NOISE_DH_LEN]);

/* Derives the public key of priv. Returns 0 or CARTA_ECRYPTO. */
int noise_pubkey(const uint8_t priv[NOISE_DH_LEN], uint8_t pub[NOISE_DH_LEN]);

/* HMAC-BLAKE2b (block 128, output 64) and Noise HKDF, exposed for tests.
 * out2/out3 may be NULL when fewer outputs are needed. */
void noise_hmac(const uint8_t *key, size_t keylen, const uint8_t *data,
		size_t len, uint8_t out[NOISE_HASH_LEN]);
void noise_hkdf(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm,
		size_t ikm_len, uint8_t out1[NOISE_HASH_LEN],
		uint8_t out2[NOISE_HASH_LEN], uint8_t out3[NOISE_HASH_LEN]);

#endif
