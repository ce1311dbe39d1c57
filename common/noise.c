#include "noise.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "carta_error.h"

#define BLOCK_LEN    128
#define NONCE_LEN    12
#define MAX_MESSAGES 3
#define MAX_TOKENS   4

enum token {
	TOK_END = 0,
	TOK_E,
	TOK_S,
	TOK_EE,
	TOK_ES,
	TOK_SE,
	TOK_SS,
};

/* Which static keys a pattern's pre-messages carry. */
enum {
	PRE_INITIATOR = 1,
	PRE_RESPONDER = 2,
};

/* A handshake pattern: its pre-messages and its message patterns, each a
 * list of tokens ended by TOK_END. Messages alternate, initiator first. */
struct pattern_def {
	const char *name;
	int pre;
	int count;
	uint8_t msgs[MAX_MESSAGES][MAX_TOKENS + 1];
};

static const struct pattern_def patterns[] = {
    /* -> e  <- e, ee */
    [NOISE_NN] = {"NN", 0, 2, {{TOK_E}, {TOK_E, TOK_EE}}},
    /* <- s ...  -> e, es  <- e, ee */
    [NOISE_NK] = {"NK", PRE_RESPONDER, 2, {{TOK_E, TOK_ES}, {TOK_E, TOK_EE}}},
    /* -> s  <- s ...  -> e, es, ss  <- e, ee, se */
    [NOISE_KK] = {"KK",
		  PRE_INITIATOR | PRE_RESPONDER,
		  2,
		  {{TOK_E, TOK_ES, TOK_SS}, {TOK_E, TOK_EE, TOK_SE}}},
    /* <- s ...  -> e, es, s, ss  <- e, ee, se */
    [NOISE_IK] = {"IK",
		  PRE_RESPONDER,
		  2,
		  {{TOK_E, TOK_ES, TOK_S, TOK_SS}, {TOK_E, TOK_EE, TOK_SE}}},
    /* <- s ...  -> e, es  <- e, ee  -> s, se */
    [NOISE_XK] = {"XK",
		  PRE_RESPONDER,
		  3,
		  {{TOK_E, TOK_ES}, {TOK_E, TOK_EE}, {TOK_S, TOK_SE}}},
    /* -> e  <- e, ee, s, es  -> s, se */
    [NOISE_XX] = {"XX",
		  0,
		  3,
		  {{TOK_E}, {TOK_E, TOK_EE, TOK_S, TOK_ES}, {TOK_S, TOK_SE}}},
};

static const struct pattern_def *pattern_get(noise_pattern p)
{
	if ((size_t)p >= sizeof patterns / sizeof patterns[0])
		return NULL;
	return &patterns[p];
}

/* ---- CipherState ---- */

static void make_nonce(uint8_t nonce[NONCE_LEN], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

int noise_cs_encrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
		     const uint8_t *pt, size_t ptlen, uint8_t *out, size_t cap,
		     size_t *outlen)
{
	uint8_t nonce[NONCE_LEN];
	unsigned long long clen;

	*outlen = 0;
	if (!cs->has_key) {
		if (ptlen > NOISE_MAX_MSG || ptlen > cap)
			return CARTA_ETOOBIG;
		if (ptlen > 0 && out != pt)
			memmove(out, pt, ptlen);
		*outlen = ptlen;
		return 0;
	}

	if (ptlen > NOISE_MAX_MSG - NOISE_TAG_LEN ||
	    ptlen + NOISE_TAG_LEN > cap)
		return CARTA_ETOOBIG;
	if (cs->n >= NOISE_NONCE_MAX)
		return CARTA_ECRYPTO;

	make_nonce(nonce, cs->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, ptlen, ad,
						  adlen, NULL, nonce, cs->k);
	cs->n++;
	*outlen = (size_t)clen;
	return 0;
}

int noise_cs_decrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
		     const uint8_t *ct, size_t ctlen, uint8_t *out, size_t cap,
		     size_t *outlen)
{
	uint8_t nonce[NONCE_LEN];
	unsigned long long mlen;

	*outlen = 0;
	if (!cs->has_key) {
		if (ctlen > NOISE_MAX_MSG || ctlen > cap)
			return CARTA_ETOOBIG;
		if (ctlen > 0 && out != ct)
			memmove(out, ct, ctlen);
		*outlen = ctlen;
		return 0;
	}

	if (ctlen < NOISE_TAG_LEN)
		return CARTA_EPROTO;
	if (ctlen > NOISE_MAX_MSG || ctlen - NOISE_TAG_LEN > cap)
		return CARTA_ETOOBIG;
	if (cs->n >= NOISE_NONCE_MAX)
		return CARTA_ECRYPTO;

	make_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
		out, &mlen, NULL, ct, ctlen, ad, adlen, nonce, cs->k) != 0)
		return CARTA_ECRYPTO;
	cs->n++;
	*outlen = (size_t)mlen;
	return 0;
}

void noise_cs_rekey(noise_cs *cs)
{
	uint8_t nonce[NONCE_LEN];
	uint8_t zeros[NOISE_KEY_LEN] = {0};
	uint8_t buf[NOISE_KEY_LEN + NOISE_TAG_LEN];

	if (!cs->has_key)
		return;
	make_nonce(nonce, UINT64_MAX);
	crypto_aead_chacha20poly1305_ietf_encrypt(
	    buf, NULL, zeros, sizeof zeros, NULL, 0, NULL, nonce, cs->k);
	memcpy(cs->k, buf, NOISE_KEY_LEN);
	sodium_memzero(buf, sizeof buf);
}

void noise_cs_wipe(noise_cs *cs)
{
	sodium_memzero(cs, sizeof *cs);
}

static void cs_set_key(noise_cs *cs, const uint8_t *k)
{
	memcpy(cs->k, k, NOISE_KEY_LEN);
	cs->n = 0;
	cs->has_key = true;
}

/* ---- HMAC and HKDF ---- */

void noise_hmac(const uint8_t *key, size_t keylen, const uint8_t *data,
		size_t len, uint8_t out[NOISE_HASH_LEN])
{
	crypto_generichash_blake2b_state st;
	uint8_t k[BLOCK_LEN] = {0};
	uint8_t pad[BLOCK_LEN];
	uint8_t inner[NOISE_HASH_LEN];

	if (keylen > BLOCK_LEN)
		crypto_generichash_blake2b(k, NOISE_HASH_LEN, key, keylen, NULL,
					   0);
	else if (keylen > 0)
		memcpy(k, key, keylen);

	for (size_t i = 0; i < BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x36;
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_blake2b_update(&st, pad, BLOCK_LEN);
	crypto_generichash_blake2b_update(&st, data, len);
	crypto_generichash_blake2b_final(&st, inner, NOISE_HASH_LEN);

	for (size_t i = 0; i < BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x5c;
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_blake2b_update(&st, pad, BLOCK_LEN);
	crypto_generichash_blake2b_update(&st, inner, NOISE_HASH_LEN);
	crypto_generichash_blake2b_final(&st, out, NOISE_HASH_LEN);

	sodium_memzero(&st, sizeof st);
	sodium_memzero(k, sizeof k);
	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
}

void noise_hkdf(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm,
		size_t ikm_len, uint8_t out1[NOISE_HASH_LEN],
		uint8_t out2[NOISE_HASH_LEN], uint8_t out3[NOISE_HASH_LEN])
{
	uint8_t temp_key[NOISE_HASH_LEN];
	uint8_t prev[NOISE_HASH_LEN + 1];
	uint8_t block[NOISE_HASH_LEN];
	const uint8_t one = 0x01;

	/* ck is read in full before out1 (which may be ck) is written. */
	noise_hmac(ck, NOISE_HASH_LEN, ikm, ikm_len, temp_key);
	noise_hmac(temp_key, NOISE_HASH_LEN, &one, 1, block);
	memcpy(out1, block, NOISE_HASH_LEN);

	if (out2 != NULL || out3 != NULL) {
		memcpy(prev, block, NOISE_HASH_LEN);
		prev[NOISE_HASH_LEN] = 0x02;
		noise_hmac(temp_key, NOISE_HASH_LEN, prev, sizeof prev, block);
		if (out2 != NULL)
			memcpy(out2, block, NOISE_HASH_LEN);
	}
	if (out3 != NULL) {
		memcpy(prev, block, NOISE_HASH_LEN);
		prev[NOISE_HASH_LEN] = 0x03;
		noise_hmac(temp_key, NOISE_HASH_LEN, prev, sizeof prev, block);
		memcpy(out3, block, NOISE_HASH_LEN);
	}

	sodium_memzero(temp_key, sizeof temp_key);
	sodium_memzero(prev, sizeof prev);
	sodium_memzero(block, sizeof block);
}

/* ---- keys ---- */

int noise_keypair(uint8_t priv[NOISE_DH_LEN], uint8_t pub[NOISE_DH_LEN])
{
	randombytes_buf(priv, NOISE_DH_LEN);
	return noise_pubkey(priv, pub);
}

int noise_pubkey(const uint8_t priv[NOISE_DH_LEN], uint8_t pub[NOISE_DH_LEN])
{
	if (crypto_scalarmult_base(pub, priv) != 0)
		return CARTA_ECRYPTO;
	return 0;
}

/* ---- SymmetricState ---- */

static void hash_two(const uint8_t h[NOISE_HASH_LEN], const uint8_t *data,
		     size_t len, uint8_t out[NOISE_HASH_LEN])
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_blake2b_update(&st, h, NOISE_HASH_LEN);
	crypto_generichash_blake2b_update(&st, data, len);
	crypto_generichash_blake2b_final(&st, out, NOISE_HASH_LEN);
	sodium_memzero(&st, sizeof st);
}

static void mix_hash(noise_hs *hs, const uint8_t *data, size_t len)
{
	hash_two(hs->h, data, len, hs->h);
}

static void mix_key(noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[NOISE_HASH_LEN];

	noise_hkdf(hs->ck, ikm, len, hs->ck, temp_k, NULL);
	cs_set_key(&hs->cs, temp_k);
	sodium_memzero(temp_k, sizeof temp_k);
}

static int encrypt_and_hash(noise_hs *hs, const uint8_t *pt, size_t ptlen,
			    uint8_t *out, size_t cap, size_t *outlen)
{
	int rv = noise_cs_encrypt(&hs->cs, hs->h, NOISE_HASH_LEN, pt, ptlen,
				  out, cap, outlen);
	if (rv == 0)
		mix_hash(hs, out, *outlen);
	return rv;
}

static int decrypt_and_hash(noise_hs *hs, const uint8_t *ct, size_t ctlen,
			    uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t next_h[NOISE_HASH_LEN];
	int rv;

	/* Hash ct before decrypting, in case out overlaps it. */
	hash_two(hs->h, ct, ctlen, next_h);
	rv = noise_cs_decrypt(&hs->cs, hs->h, NOISE_HASH_LEN, ct, ctlen, out,
			      cap, outlen);
	if (rv == 0)
		memcpy(hs->h, next_h, NOISE_HASH_LEN);
	return rv;
}

/* ---- HandshakeState ---- */

/* A usable state: not failed, not wiped (h is never all zero once the
 * protocol name is in it) and with a known pattern. */
static const struct pattern_def *hs_def(const noise_hs *hs)
{
	if (hs->failed || sodium_is_zero(hs->h, NOISE_HASH_LEN))
		return NULL;
	return pattern_get(hs->pattern);
}

/* Kills hs: no secret survives an error. */
static void hs_fail(noise_hs *hs)
{
	sodium_memzero(hs, sizeof *hs);
	hs->failed = true;
}

static bool pattern_sends(const struct pattern_def *def, bool initiator,
			  enum token tok)
{
	for (int m = initiator ? 0 : 1; m < def->count; m += 2)
		for (const uint8_t *t = def->msgs[m]; *t != TOK_END; t++)
			if (*t == tok)
				return true;
	return false;
}

int noise_hs_init(noise_hs *hs, noise_pattern pattern, bool initiator,
		  const uint8_t *prologue, size_t prologue_len,
		  const uint8_t *s_priv, const uint8_t *rs)
{
	const struct pattern_def *def = pattern_get(pattern);
	int local = initiator ? PRE_INITIATOR : PRE_RESPONDER;
	int remote = initiator ? PRE_RESPONDER : PRE_INITIATOR;
	bool need_s, need_rs;
	char name[96];
	int n;
	int rv = CARTA_EINVAL;

	sodium_memzero(hs, sizeof *hs);
	if (def == NULL || (prologue == NULL && prologue_len > 0))
		goto out;

	/* A missing key is an error, and so is one the pattern ignores:
	 * the caller would believe in an authentication that never
	 * happens. */
	need_s = (def->pre & local) || pattern_sends(def, initiator, TOK_S);
	need_rs = def->pre & remote;
	if ((s_priv != NULL) != need_s || (rs != NULL) != need_rs)
		goto out;

	hs->pattern = pattern;
	hs->initiator = initiator;
	if (s_priv != NULL) {
		memcpy(hs->s_priv, s_priv, NOISE_DH_LEN);
		if (noise_pubkey(hs->s_priv, hs->s_pub) != 0)
			goto out;
		hs->has_s = true;
	}
	if (rs != NULL) {
		memcpy(hs->rs, rs, NOISE_DH_LEN);
		hs->has_rs = true;
	}

	n = snprintf(name, sizeof name, "Noise_%s_25519_ChaChaPoly_BLAKE2b",
		     def->name);
	if (n < 0 || (size_t)n >= sizeof name)
		goto out;
	if ((size_t)n <= NOISE_HASH_LEN)
		memcpy(hs->h, name, (size_t)n);
	else
		crypto_generichash_blake2b(hs->h, NOISE_HASH_LEN,
					   (const uint8_t *)name, (size_t)n,
					   NULL, 0);
	memcpy(hs->ck, hs->h, NOISE_HASH_LEN);
	mix_hash(hs, prologue, prologue_len);

	if (def->pre & PRE_INITIATOR)
		mix_hash(hs, initiator ? hs->s_pub : hs->rs, NOISE_DH_LEN);
	if (def->pre & PRE_RESPONDER)
		mix_hash(hs, initiator ? hs->rs : hs->s_pub, NOISE_DH_LEN);
	rv = 0;

out:
	if (rv != 0)
		hs_fail(hs);
	return rv;
}

void noise_hs_set_ephemeral(noise_hs *hs, const uint8_t e_priv[NOISE_DH_LEN])
{
	memcpy(hs->e_priv, e_priv, NOISE_DH_LEN);
	if (noise_pubkey(hs->e_priv, hs->e_pub) != 0) {
		hs_fail(hs);
		return;
	}
	hs->fixed_e = true;
}

bool noise_hs_my_turn(const noise_hs *hs)
{
	const struct pattern_def *def = hs_def(hs);

	return def != NULL && hs->msg_index < def->count &&
	       (hs->msg_index % 2 == 0) == hs->initiator;
}

bool noise_hs_done(const noise_hs *hs)
{
	const struct pattern_def *def = hs_def(hs);

	return def != NULL && hs->msg_index == def->count;
}

/* The bytes a message adds around its payload, given whether a key will
 * be set by then; tokens before the first DH travel in clear. */
static size_t message_overhead(const noise_hs *hs, const uint8_t *tokens)
{
	bool keyed = hs->cs.has_key;
	size_t len = 0;

	for (const uint8_t *t = tokens; *t != TOK_END; t++) {
		if (*t == TOK_E)
			len += NOISE_DH_LEN;
		else if (*t == TOK_S)
			len += NOISE_DH_LEN + (keyed ? NOISE_TAG_LEN : 0);
		else
			keyed = true;
	}
	return len + (keyed ? NOISE_TAG_LEN : 0);
}

static int mix_dh(noise_hs *hs, enum token tok)
{
	bool local_s, remote_s;
	uint8_t shared[NOISE_DH_LEN];
	int rv = 0;

	/* es is e (initiator) with s (responder); se the other way round. */
	switch (tok) {
	case TOK_EE:
		local_s = false;
		remote_s = false;
		break;
	case TOK_ES:
		local_s = !hs->initiator;
		remote_s = hs->initiator;
		break;
	case TOK_SE:
		local_s = hs->initiator;
		remote_s = !hs->initiator;
		break;
	case TOK_SS:
		local_s = true;
		remote_s = true;
		break;
	default:
		return CARTA_ESTATE;
	}
	if (!(local_s ? hs->has_s : hs->has_e) ||
	    !(remote_s ? hs->has_rs : hs->has_re))
		return CARTA_ESTATE;

	/* libsodium refuses an all-zero result, so low-order keys fail. */
	if (crypto_scalarmult(shared, local_s ? hs->s_priv : hs->e_priv,
			      remote_s ? hs->rs : hs->re) != 0) {
		rv = CARTA_ECRYPTO;
		goto out;
	}
	mix_key(hs, shared, sizeof shared);

out:
	sodium_memzero(shared, sizeof shared);
	return rv;
}

int noise_hs_write(noise_hs *hs, const uint8_t *payload, size_t plen,
		   uint8_t *out, size_t cap, size_t *outlen)
{
	const struct pattern_def *def = hs_def(hs);
	const uint8_t *tokens;
	size_t off = 0, n, need;
	int rv;

	*outlen = 0;
	if (def == NULL || !noise_hs_my_turn(hs)) {
		rv = CARTA_ESTATE;
		goto out;
	}
	tokens = def->msgs[hs->msg_index];

	need = message_overhead(hs, tokens);
	if (plen > NOISE_MAX_MSG - need || need + plen > cap) {
		rv = CARTA_ETOOBIG;
		goto out;
	}

	for (const uint8_t *t = tokens; *t != TOK_END; t++) {
		enum token tok = *t;

		switch (tok) {
		case TOK_E:
			if (!hs->fixed_e)
				noise_keypair(hs->e_priv, hs->e_pub);
			hs->fixed_e = false;
			hs->has_e = true;
			memcpy(out + off, hs->e_pub, NOISE_DH_LEN);
			off += NOISE_DH_LEN;
			mix_hash(hs, hs->e_pub, NOISE_DH_LEN);
			break;
		case TOK_S:
			rv = encrypt_and_hash(hs, hs->s_pub, NOISE_DH_LEN,
					      out + off, cap - off, &n);
			if (rv != 0)
				goto out;
			off += n;
			break;
		default:
			rv = mix_dh(hs, tok);
			if (rv != 0)
				goto out;
			break;
		}
	}

	rv = encrypt_and_hash(hs, payload, plen, out + off, cap - off, &n);
	if (rv != 0)
		goto out;
	off += n;
	hs->msg_index++;
	*outlen = off;

out:
	if (rv != 0)
		hs_fail(hs);
	return rv;
}

int noise_hs_read(noise_hs *hs, const uint8_t *msg, size_t len,
		  uint8_t *payload, size_t cap, size_t *plen)
{
	const struct pattern_def *def = hs_def(hs);
	const uint8_t *tokens;
	size_t off = 0, n, slen, need;
	int rv;

	*plen = 0;
	if (def == NULL || hs->msg_index >= def->count ||
	    noise_hs_my_turn(hs)) {
		rv = CARTA_ESTATE;
		goto out;
	}
	tokens = def->msgs[hs->msg_index];

	/* Every length is checked before any byte of msg is used. */
	need = message_overhead(hs, tokens);
	if (len > NOISE_MAX_MSG) {
		rv = CARTA_ETOOBIG;
		goto out;
	}
	if (len < need) {
		rv = CARTA_EPROTO;
		goto out;
	}
	if (len - need > cap) {
		rv = CARTA_ETOOBIG;
		goto out;
	}

	for (const uint8_t *t = tokens; *t != TOK_END; t++) {
		enum token tok = *t;

		switch (tok) {
		case TOK_E:
			memcpy(hs->re, msg + off, NOISE_DH_LEN);
			hs->has_re = true;
			off += NOISE_DH_LEN;
			mix_hash(hs, hs->re, NOISE_DH_LEN);
			break;
		case TOK_S:
			slen =
			    NOISE_DH_LEN + (hs->cs.has_key ? NOISE_TAG_LEN : 0);
			rv = decrypt_and_hash(hs, msg + off, slen, hs->rs,
					      NOISE_DH_LEN, &n);
			if (rv != 0)
				goto out;
			hs->has_rs = true;
			off += slen;
			break;
		default:
			rv = mix_dh(hs, tok);
			if (rv != 0)
				goto out;
			break;
		}
	}

	rv = decrypt_and_hash(hs, msg + off, len - off, payload, cap, plen);
	if (rv != 0)
		goto out;
	hs->msg_index++;

out:
	if (rv != 0) {
		*plen = 0;
		hs_fail(hs);
	}
	return rv;
}

int noise_hs_split(noise_hs *hs, noise_cs *tx, noise_cs *rx)
{
	uint8_t k1[NOISE_HASH_LEN], k2[NOISE_HASH_LEN];
	int rv = 0;

	/* ck is wiped by a first Split, so a second one is refused. */
	if (!noise_hs_done(hs) || sodium_is_zero(hs->ck, NOISE_HASH_LEN)) {
		rv = CARTA_ESTATE;
		goto out;
	}

	noise_hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	noise_cs_wipe(tx);
	noise_cs_wipe(rx);
	cs_set_key(tx, hs->initiator ? k1 : k2);
	cs_set_key(rx, hs->initiator ? k2 : k1);

	/* Only h, s and rs stay useful after Split. */
	sodium_memzero(hs->ck, sizeof hs->ck);
	noise_cs_wipe(&hs->cs);
	sodium_memzero(hs->e_priv, sizeof hs->e_priv);

out:
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	if (rv != 0)
		hs_fail(hs);
	return rv;
}

const uint8_t *noise_hs_hash(const noise_hs *hs)
{
	return hs->h;
}

const uint8_t *noise_hs_remote_static(const noise_hs *hs)
{
	return hs->has_rs ? hs->rs : NULL;
}

void noise_hs_wipe(noise_hs *hs)
{
	sodium_memzero(hs, sizeof *hs);
}
