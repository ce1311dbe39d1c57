/* Unit tests for common/noise.c: the cacophony test vectors (two embedded,
 * the rest read from the shared data directory when it is there), the
 * HMAC and HKDF building blocks, rekeying, and the handshake's answers to
 * forged, truncated and out-of-turn messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "carta_error.h"
#include "noise.h"

/* The top of the source tree; the shared data sits beside it unless
 * CARTA_SHARED_DATA says otherwise. */
#ifndef CARTA_SOURCE_DIR
#define CARTA_SOURCE_DIR "."
#endif

#define VECTOR_FILE   "noise/cacophony-25519-chachapoly.json"
#define VECTOR_SUFFIX "_25519_ChaChaPoly_BLAKE2b"
#define BUF_LEN	      1024

struct tv_msg {
	const char *payload;
	const char *ciphertext;
};

/* One test vector, every byte string in hex; absent keys are NULL. */
struct tv {
	const char *name;
	const char *init_prologue;
	const char *init_static;
	const char *init_ephemeral;
	const char *init_remote_static;
	const char *resp_prologue;
	const char *resp_static;
	const char *resp_ephemeral;
	const char *resp_remote_static;
	const char *handshake_hash;
	const struct tv_msg *msgs;
	size_t nmsgs;
};

/* Generated once from the cacophony vector file (see SOURCE.md there). */
static const struct tv_msg xk_msgs[] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3a"
     "fa4c79442806e28405ac4325fcf83607489496d6d326ab3fe084dbb1"
     "634f801405a69297"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1"
     "448088430ea4de2eff2cd3b1e7be5f7e792d87395f0863722ab04ec0"
     "30529d6c5820de"},
    {"462e20412e20486179656b",
     "ec9136de99472b49eda3ba9fe84882d48f131b27386784b3f45e9f10"
     "3ad1b6efa2f2e95f0afce5d0d4c8052aed81438500be54a8fd8dd4f5"
     "ba04f7907b312701d0d687716a30b23c22f568"},
    {"4361726c204d656e676572",
     "d6ea0c3364ed480b415d44c3235fdb311dfa8d6e1dc1e6f3a76ee3"},
    {"4a65616e2d426170746973746520536179",
     "59f41ca9ea14a8305bae379bbdd8b4d5cf9bd308d2d7e042e2bf03c4"
     "8dd910b37b"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "fa23ba8af343a3934c64219d3d0206d66894f7cdb180b738324608e1"
     "5b0102095ed2f44d4b"},
};

static const struct tv xk_vector = {
    .name = "Noise_XK_25519_ChaChaPoly_BLAKE2b",
    .init_prologue = "4a6f686e2047616c74",
    .init_static = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed"
		   "542214d1",
    .init_ephemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da"
		      "977c464a",
    .init_remote_static =
	"31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f"
	"701b8f62",
    .resp_prologue = "4a6f686e2047616c74",
    .resp_static = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114"
		   "246e4893",
    .resp_ephemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63"
		      "da6b375b",
    .handshake_hash = "d34784be40e90f33c524e69a3d1dc4155e159d86bf42f01c615d40be"
		      "b0816b880f0a3e20825fec22de1d607231a315d90d355cd9e5ba7205"
		      "a17b6e0e9f4b490d",
    .msgs = xk_msgs,
    .nmsgs = sizeof xk_msgs / sizeof xk_msgs[0],
};

static const struct tv_msg nn_msgs[] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3a"
     "fa4c79444c756477696720766f6e204d69736573"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1"
     "44808843d10cf8ef4ab895bed3e4673211f0c9337039d63a450c7b28"
     "196b8a0ebade00"},
    {"462e20412e20486179656b",
     "e50ec882703a1f34bf4957d8cafd036d34e02930f672f424c676e1"},
    {"4361726c204d656e676572",
     "35bb2a728d3e8e5f47781d486089e4a37c5c2e4261256f44569a9f"},
    {"4a65616e2d426170746973746520536179",
     "69ee82006e16b79438a34ad9de37ee44d83c267e355750ecf49f194b"
     "5c50403030"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "c568b641b01d2f644f2a890538c359915ca50552e55129c029d37218"
     "66c2646a7af3fd1eff"},
};

static const struct tv nn_vector = {
    .name = "Noise_NN_25519_ChaChaPoly_BLAKE2b",
    .init_prologue = "4a6f686e2047616c74",
    .init_ephemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da"
		      "977c464a",
    .resp_prologue = "4a6f686e2047616c74",
    .resp_ephemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63"
		      "da6b375b",
    .handshake_hash = "25b3d1154146a2e058e4db548e0841992cf33a972d5b85a908e4fb8f"
		      "14b6d94f4987e17baa330c93dd842d6eda030cd47190c60d7c862574"
		      "078779aba1302a2e",
    .msgs = nn_msgs,
    .nmsgs = sizeof nn_msgs / sizeof nn_msgs[0],
};

/* ---- helpers ---- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = 0;

	assert_non_null(hex);
	assert_int_equal(
	    sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL), 0);
	return len;
}

static void unhex_key(const char *hex, uint8_t out[NOISE_DH_LEN])
{
	assert_int_equal(unhex(hex, out, NOISE_DH_LEN), NOISE_DH_LEN);
}

/* The pattern of a name "Noise_<XX>_25519_ChaChaPoly_BLAKE2b", or false for
 * any other name (other primitives, psk modifiers, unknown patterns). */
static bool pattern_from_name(const char *name, noise_pattern *p)
{
	static const struct {
		const char *s;
		noise_pattern p;
	} known[] = {
	    {"NN", NOISE_NN}, {"NK", NOISE_NK}, {"KK", NOISE_KK},
	    {"IK", NOISE_IK}, {"XK", NOISE_XK}, {"XX", NOISE_XX},
	};

	if (strncmp(name, "Noise_", 6) != 0 || strlen(name) < 8 ||
	    strcmp(name + 8, VECTOR_SUFFIX) != 0)
		return false;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strncmp(name + 6, known[i].s, 2) == 0) {
			*p = known[i].p;
			return true;
		}
	}
	return false;
}

static void setup_side(noise_hs *hs, noise_pattern pat, bool initiator,
		       const char *prologue, const char *s, const char *rs,
		       const char *e)
{
	uint8_t pro[BUF_LEN], s_priv[NOISE_DH_LEN], rs_pub[NOISE_DH_LEN];
	size_t prolen = prologue != NULL ? unhex(prologue, pro, sizeof pro) : 0;

	if (s != NULL)
		unhex_key(s, s_priv);
	if (rs != NULL)
		unhex_key(rs, rs_pub);
	assert_int_equal(noise_hs_init(hs, pat, initiator, pro, prolen,
				       s != NULL ? s_priv : NULL,
				       rs != NULL ? rs_pub : NULL),
			 0);
	if (e != NULL) {
		uint8_t e_priv[NOISE_DH_LEN];

		unhex_key(e, e_priv);
		noise_hs_set_ephemeral(hs, e_priv);
	}
}

/* Checks that the remote static key hs learnt is the public key of the
 * peer's private key priv_hex. */
static void check_remote_static(const noise_hs *hs, const char *priv_hex)
{
	uint8_t priv[NOISE_DH_LEN], pub[NOISE_DH_LEN];

	if (priv_hex == NULL)
		return;
	unhex_key(priv_hex, priv);
	assert_int_equal(noise_pubkey(priv, pub), 0);
	assert_non_null(noise_hs_remote_static(hs));
	assert_memory_equal(noise_hs_remote_static(hs), pub, NOISE_DH_LEN);
}

/* Runs the whole of v: each handshake message and each transport message
 * must come out byte for byte, and decrypt to its payload on the other
 * side. */
static void run_vector(const struct tv *v)
{
	noise_pattern pat;
	noise_hs init, resp;
	noise_cs init_tx, init_rx, resp_tx, resp_rx;
	uint8_t pl[BUF_LEN], ct[BUF_LEN], out[BUF_LEN], got[BUF_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	size_t pllen, ctlen, outlen, gotlen, i;

	assert_true(pattern_from_name(v->name, &pat));
	setup_side(&init, pat, true, v->init_prologue, v->init_static,
		   v->init_remote_static, v->init_ephemeral);
	setup_side(&resp, pat, false, v->resp_prologue, v->resp_static,
		   v->resp_remote_static, v->resp_ephemeral);

	for (i = 0; !noise_hs_done(&init) || !noise_hs_done(&resp); i++) {
		noise_hs *tx = i % 2 == 0 ? &init : &resp;
		noise_hs *rx = i % 2 == 0 ? &resp : &init;

		assert_true(i < v->nmsgs);
		assert_true(noise_hs_my_turn(tx));
		assert_false(noise_hs_my_turn(rx));
		pllen = unhex(v->msgs[i].payload, pl, sizeof pl);
		ctlen = unhex(v->msgs[i].ciphertext, ct, sizeof ct);

		assert_int_equal(
		    noise_hs_write(tx, pl, pllen, out, sizeof out, &outlen), 0);
		assert_int_equal(outlen, ctlen);
		assert_memory_equal(out, ct, ctlen);

		assert_int_equal(
		    noise_hs_read(rx, out, outlen, got, sizeof got, &gotlen),
		    0);
		assert_int_equal(gotlen, pllen);
		assert_memory_equal(got, pl, pllen);
	}

	assert_int_equal(unhex(v->handshake_hash, hash, sizeof hash),
			 NOISE_HASH_LEN);
	assert_memory_equal(noise_hs_hash(&init), hash, NOISE_HASH_LEN);
	assert_memory_equal(noise_hs_hash(&resp), hash, NOISE_HASH_LEN);
	check_remote_static(&init, v->resp_static);
	check_remote_static(&resp, v->init_static);

	assert_int_equal(noise_hs_split(&init, &init_tx, &init_rx), 0);
	assert_int_equal(noise_hs_split(&resp, &resp_tx, &resp_rx), 0);

	/* After Split the initiator sends with the first CipherState. */
	for (; i < v->nmsgs; i++) {
		noise_cs *tx = i % 2 == 0 ? &init_tx : &resp_tx;
		noise_cs *rx = i % 2 == 0 ? &resp_rx : &init_rx;

		pllen = unhex(v->msgs[i].payload, pl, sizeof pl);
		ctlen = unhex(v->msgs[i].ciphertext, ct, sizeof ct);

		assert_int_equal(noise_cs_encrypt(tx, NULL, 0, pl, pllen, out,
						  sizeof out, &outlen),
				 0);
		assert_int_equal(outlen, ctlen);
		assert_memory_equal(out, ct, ctlen);

		assert_int_equal(noise_cs_decrypt(rx, NULL, 0, out, outlen, got,
						  sizeof got, &gotlen),
				 0);
		assert_int_equal(gotlen, pllen);
		assert_memory_equal(got, pl, pllen);
	}

	noise_hs_wipe(&init);
	noise_hs_wipe(&resp);
	noise_cs_wipe(&init_tx);
	noise_cs_wipe(&init_rx);
	noise_cs_wipe(&resp_tx);
	noise_cs_wipe(&resp_rx);
}

/* ---- test vectors ---- */

static void test_vector_xk(void **state)
{
	(void)state;
	run_vector(&xk_vector);
}

static void test_vector_nn(void **state)
{
	(void)state;
	run_vector(&nn_vector);
}

static const char *json_hex(const json_t *obj, const char *key)
{
	const json_t *val = json_object_get(obj, key);

	if (val == NULL)
		return NULL;
	assert_true(json_is_string(val));
	return json_string_value(val);
}

/* Runs every vector in the shared file that this module can speak. */
static void test_vector_file(void **state)
{
	const char *dir = getenv("CARTA_SHARED_DATA");
	char path[4096];
	json_error_t err;
	json_t *root, *vectors, *jv;
	size_t idx;
	unsigned seen = 0;
	int ran = 0;

	(void)state;
	if (dir != NULL && dir[0] != '\0')
		snprintf(path, sizeof path, "%s/%s", dir, VECTOR_FILE);
	else
		snprintf(path, sizeof path, "%s/../shared/data/%s",
			 CARTA_SOURCE_DIR, VECTOR_FILE);
	if (access(path, R_OK) != 0) {
		print_message("SKIP: %s not found\n", path);
		skip();
	}

	root = json_load_file(path, 0, &err);
	if (root == NULL)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	vectors = json_object_get(root, "vectors");
	assert_true(json_is_array(vectors));

	json_array_foreach(vectors, idx, jv)
	{
		const char *name = json_hex(jv, "protocol_name");
		const json_t *jmsgs = json_object_get(jv, "messages");
		noise_pattern pat;
		struct tv_msg *msgs;
		struct tv v;

		if (name == NULL || !pattern_from_name(name, &pat))
			continue;
		assert_true(json_is_array(jmsgs));

		v = (struct tv){
		    .name = name,
		    .init_prologue = json_hex(jv, "init_prologue"),
		    .init_static = json_hex(jv, "init_static"),
		    .init_ephemeral = json_hex(jv, "init_ephemeral"),
		    .init_remote_static = json_hex(jv, "init_remote_static"),
		    .resp_prologue = json_hex(jv, "resp_prologue"),
		    .resp_static = json_hex(jv, "resp_static"),
		    .resp_ephemeral = json_hex(jv, "resp_ephemeral"),
		    .resp_remote_static = json_hex(jv, "resp_remote_static"),
		    .handshake_hash = json_hex(jv, "handshake_hash"),
		    .nmsgs = json_array_size(jmsgs),
		};
		msgs = test_calloc(v.nmsgs, sizeof *msgs);
		for (size_t m = 0; m < v.nmsgs; m++) {
			const json_t *jm = json_array_get(jmsgs, m);

			msgs[m].payload = json_hex(jm, "payload");
			msgs[m].ciphertext = json_hex(jm, "ciphertext");
		}
		v.msgs = msgs;

		run_vector(&v);
		test_free(msgs);
		seen |= 1u << pat;
		ran++;
	}
	json_decref(root);

	print_message("ran %d Noise vectors from %s\n", ran, path);
	assert_int_equal(seen, (1u << NOISE_NN) | (1u << NOISE_NK) |
				   (1u << NOISE_KK) | (1u << NOISE_IK) |
				   (1u << NOISE_XK) | (1u << NOISE_XX));
}

/* ---- HMAC and HKDF ---- */

/* Expected values computed with Python's hmac and hashlib.blake2b. */
static void test_hmac(void **state)
{
	static const struct {
		size_t keylen;
		uint8_t keybyte; /* 0 means the bytes 0, 1, 2, ... */
		const char *data;
		size_t datalen;
		uint8_t databyte; /* fills data when data is NULL */
		const char *mac;
	} cases[] = {
	    {20, 0x0b, "Hi There", 8, 0,
	     "358a6a184924894fc34bee5680eedf57d84a37bb38832f288e3b27dc63a98c"
	     "c8c91e76da476b508bc6b2d408a248857452906e4a20b48c6b4b55d2df0fe1"
	     "dd24"},
	    /* Longer than a block: the key is hashed first. */
	    {131, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
	     54, 0,
	     "9024ab0e744574ad3afc72a8cc58d1a53aba483f2ce34c7f2eb91f90e70a75"
	     "199f8f745c15d34830d3ca889aeee1c4a63ba8fe9b1843460087a4ab99ba08"
	     "8222"},
	    {0, 0, "", 0, 0,
	     "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a6"
	     "8466775177424f58286886cbae8229644cec747237d4b721735485e17372fd"
	     "f59c"},
	    /* Exactly a block: used as is. */
	    {128, 0xaa, NULL, 200, 0xdd,
	     "104203731188fe5ef26a9f0fbe380494386702d5c4b39aa278c12edaa04160"
	     "8c5a1dbb3bdaef939a9e16cd3f6614c277ee37ae4fdd77e43c097db5689589"
	     "8793"},
	};
	uint8_t key[256], data[256], want[NOISE_HASH_LEN], mac[NOISE_HASH_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t j = 0; j < cases[i].keylen; j++)
			key[j] = cases[i].keybyte != 0 ? cases[i].keybyte
						       : (uint8_t)j;
		if (cases[i].data != NULL)
			memcpy(data, cases[i].data, cases[i].datalen);
		else
			memset(data, cases[i].databyte, cases[i].datalen);
		assert_int_equal(unhex(cases[i].mac, want, sizeof want),
				 NOISE_HASH_LEN);

		noise_hmac(key, cases[i].keylen, data, cases[i].datalen, mac);
		assert_memory_equal(mac, want, NOISE_HASH_LEN);
	}
}

/* Noise HKDF with ck = 00..3f and ikm = 64..83 (hex), from Python. */
static void test_hkdf(void **state)
{
	static const char *const want_hex[3] = {
	    "2262ed5f40c3324574d00a1e0849a7cc67fb5b6a80211c3c59404bb8e47512b1"
	    "cb95e73840718c5d68ca345f934f39a52f1f31e8f6d3ed521f0664f46feddae4",
	    "f6a6559fa2aaab64d3d2666b83fe3f4fed6fae1959537fedd6a39b6f8d411e61"
	    "32593234cc2a750244335da5021c27bf7eacbb65cfa608457de6ecc144b90077",
	    "07c82c1301c70e885f4662f1f3f7b7bb9e04d81c94a6e1882f812c02ffb69580"
	    "c93095bb599ad2fced3d3cf38c9c17df4fb3c0029f231247fca69b040e16449e",
	};
	uint8_t ck[NOISE_HASH_LEN], ikm[32], want[3][NOISE_HASH_LEN];
	uint8_t o1[NOISE_HASH_LEN], o2[NOISE_HASH_LEN], o3[NOISE_HASH_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof ck; i++)
		ck[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof ikm; i++)
		ikm[i] = (uint8_t)(100 + i);
	for (int i = 0; i < 3; i++)
		unhex(want_hex[i], want[i], NOISE_HASH_LEN);

	noise_hkdf(ck, ikm, sizeof ikm, o1, o2, o3);
	assert_memory_equal(o1, want[0], NOISE_HASH_LEN);
	assert_memory_equal(o2, want[1], NOISE_HASH_LEN);
	assert_memory_equal(o3, want[2], NOISE_HASH_LEN);

	/* Fewer outputs, and out1 over ck as MixKey does it. */
	memset(o2, 0, sizeof o2);
	noise_hkdf(ck, ikm, sizeof ikm, o1, NULL, o3);
	assert_memory_equal(o1, want[0], NOISE_HASH_LEN);
	assert_memory_equal(o3, want[2], NOISE_HASH_LEN);
	noise_hkdf(ck, ikm, sizeof ikm, ck, o2, NULL);
	assert_memory_equal(ck, want[0], NOISE_HASH_LEN);
	assert_memory_equal(o2, want[1], NOISE_HASH_LEN);
}

/* ---- CipherState ---- */

static void keyed_pair(noise_cs *a, noise_cs *b)
{
	memset(a, 0, sizeof *a);
	randombytes_buf(a->k, sizeof a->k);
	a->has_key = true;
	*b = *a;
}

static void test_rekey(void **state)
{
	noise_cs a, b, before, none = {0};
	uint8_t old[NOISE_KEY_LEN], want[NOISE_KEY_LEN];
	uint8_t zeros[NOISE_KEY_LEN] = {0}, nonce[12];
	uint8_t ct[64], old_ct[64], pt[64];
	size_t ctlen, old_ctlen, ptlen;

	(void)state;
	keyed_pair(&a, &b);
	assert_int_equal(noise_cs_encrypt(&a, NULL, 0, (const uint8_t *)"one",
					  3, ct, sizeof ct, &ctlen),
			 0);
	assert_int_equal(
	    noise_cs_decrypt(&b, NULL, 0, ct, ctlen, pt, sizeof pt, &ptlen), 0);
	memcpy(old, a.k, sizeof old);
	assert_int_equal(noise_cs_encrypt(&a, NULL, 0, (const uint8_t *)"old",
					  3, old_ct, sizeof old_ct, &old_ctlen),
			 0);
	a.n = b.n;

	noise_cs_rekey(&a);
	noise_cs_rekey(&b);
	before = b;
	assert_memory_not_equal(a.k, old, NOISE_KEY_LEN);
	assert_memory_equal(a.k, b.k, NOISE_KEY_LEN);
	assert_int_equal(a.n, 1);

	/* The new key is the ChaCha20 keystream after the Poly1305 block,
	 * under the old key and the nonce 2^64-1. */
	memset(nonce, 0, 4);
	memset(nonce + 4, 0xff, 8);
	crypto_stream_chacha20_ietf_xor_ic(want, zeros, sizeof zeros, nonce, 1,
					   old);
	assert_memory_equal(a.k, want, NOISE_KEY_LEN);

	/* Both sides still agree; a message made with the old key at the
	 * same nonce no longer opens. */
	assert_int_equal(noise_cs_encrypt(&a, NULL, 0, (const uint8_t *)"two",
					  3, ct, sizeof ct, &ctlen),
			 0);
	assert_int_equal(
	    noise_cs_decrypt(&b, NULL, 0, ct, ctlen, pt, sizeof pt, &ptlen), 0);
	assert_int_equal(ptlen, 3);
	assert_memory_equal(pt, "two", 3);
	assert_int_equal(noise_cs_decrypt(&before, NULL, 0, old_ct, old_ctlen,
					  pt, sizeof pt, &ptlen),
			 CARTA_ECRYPTO);
	noise_cs_wipe(&before);

	/* Without a key there is nothing to rekey. */
	noise_cs_rekey(&none);
	assert_false(none.has_key);
	assert_true(sodium_is_zero(none.k, sizeof none.k));

	noise_cs_wipe(&a);
	noise_cs_wipe(&b);
	assert_true(sodium_is_zero((const uint8_t *)&a, sizeof a));
}

static void test_flipped_bit(void **state)
{
	static const uint8_t ad[] = "associated";
	static const uint8_t msg[] = "a card for Ana";
	noise_cs a, b;
	uint8_t ct[64], bad[64], pt[64];
	size_t ctlen, ptlen;

	(void)state;
	keyed_pair(&a, &b);
	assert_int_equal(noise_cs_encrypt(&a, ad, sizeof ad, msg, sizeof msg,
					  ct, sizeof ct, &ctlen),
			 0);
	assert_int_equal(ctlen, sizeof msg + NOISE_TAG_LEN);
	assert_int_equal(a.n, 1);

	/* Any flipped bit, in the ciphertext or the tag, is refused. */
	for (size_t bit = 0; bit < ctlen * 8; bit++) {
		memcpy(bad, ct, ctlen);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ptlen = 99;
		assert_int_equal(noise_cs_decrypt(&b, ad, sizeof ad, bad, ctlen,
						  pt, sizeof pt, &ptlen),
				 CARTA_ECRYPTO);
		assert_int_equal(ptlen, 0);
		assert_int_equal(b.n, 0);
	}
	/* So is other associated data, and a ciphertext shorter than a tag. */
	assert_int_equal(noise_cs_decrypt(&b, ad, sizeof ad - 1, ct, ctlen, pt,
					  sizeof pt, &ptlen),
			 CARTA_ECRYPTO);
	assert_int_equal(noise_cs_decrypt(&b, ad, sizeof ad, ct,
					  NOISE_TAG_LEN - 1, pt, sizeof pt,
					  &ptlen),
			 CARTA_EPROTO);
	assert_int_equal(b.n, 0);

	/* The nonce did not move, so the intact message still opens. */
	assert_int_equal(noise_cs_decrypt(&b, ad, sizeof ad, ct, ctlen, pt,
					  sizeof pt, &ptlen),
			 0);
	assert_int_equal(ptlen, sizeof msg);
	assert_memory_equal(pt, msg, sizeof msg);
	assert_int_equal(b.n, 1);

	/* In place, as the header allows. */
	assert_int_equal(noise_cs_encrypt(&a, NULL, 0, msg, sizeof msg, ct,
					  sizeof ct, &ctlen),
			 0);
	assert_int_equal(
	    noise_cs_decrypt(&b, NULL, 0, ct, ctlen, ct, sizeof ct, &ptlen), 0);
	assert_memory_equal(ct, msg, sizeof msg);

	noise_cs_wipe(&a);
	noise_cs_wipe(&b);
}

static void test_nonce_exhausted(void **state)
{
	noise_cs a, b;
	uint8_t ct[32], pt[32];
	size_t ctlen, ptlen;

	(void)state;
	keyed_pair(&a, &b);
	a.n = NOISE_NONCE_MAX - 1;
	b.n = NOISE_NONCE_MAX - 1;
	assert_int_equal(
	    noise_cs_encrypt(&a, NULL, 0, ct, 0, ct, sizeof ct, &ctlen), 0);
	assert_int_equal(
	    noise_cs_decrypt(&b, NULL, 0, ct, ctlen, pt, sizeof pt, &ptlen), 0);
	assert_int_equal(a.n, NOISE_NONCE_MAX);

	assert_int_equal(
	    noise_cs_encrypt(&a, NULL, 0, ct, 0, ct, sizeof ct, &ctlen),
	    CARTA_ECRYPTO);
	assert_int_equal(
	    noise_cs_decrypt(&b, NULL, 0, ct, 16, pt, sizeof pt, &ptlen),
	    CARTA_ECRYPTO);
	assert_int_equal(a.n, NOISE_NONCE_MAX);
}

static void test_cipher_sizes(void **state)
{
	static uint8_t big[NOISE_MAX_MSG + 1];
	noise_cs a, b, clear = {0};
	size_t len;

	(void)state;
	keyed_pair(&a, &b);
	assert_int_equal(noise_cs_encrypt(&a, NULL, 0, big,
					  NOISE_MAX_MSG - NOISE_TAG_LEN + 1,
					  big, sizeof big, &len),
			 CARTA_ETOOBIG);
	assert_int_equal(
	    noise_cs_encrypt(&a, NULL, 0, big, 10, big, 10 + 15, &len),
	    CARTA_ETOOBIG);
	assert_int_equal(a.n, 0);
	assert_int_equal(noise_cs_encrypt(&a, NULL, 0, big,
					  NOISE_MAX_MSG - NOISE_TAG_LEN, big,
					  sizeof big, &len),
			 0);
	assert_int_equal(len, NOISE_MAX_MSG);
	assert_int_equal(
	    noise_cs_decrypt(&b, NULL, 0, big, len, big, 100, &len),
	    CARTA_ETOOBIG);
	assert_int_equal(noise_cs_decrypt(&b, NULL, 0, big, sizeof big, big,
					  sizeof big, &len),
			 CARTA_ETOOBIG);

	/* Without a key the text is copied as it is. */
	assert_int_equal(noise_cs_encrypt(&clear, NULL, 0,
					  (const uint8_t *)"abc", 3, big,
					  sizeof big, &len),
			 0);
	assert_int_equal(len, 3);
	assert_memory_equal(big, "abc", 3);
	assert_int_equal(
	    noise_cs_decrypt(&clear, NULL, 0, big, 3, big + 8, 2, &len),
	    CARTA_ETOOBIG);
	noise_cs_wipe(&a);
	noise_cs_wipe(&b);
}

/* ---- handshakes ---- */

/* Fixed keys so that messages can be replayed into fresh states. */
static const uint8_t xk_init_s[NOISE_DH_LEN] = {1, 2, 3, 4};
static const uint8_t xk_resp_s[NOISE_DH_LEN] = {5, 6, 7, 8};
static const uint8_t xk_init_e[NOISE_DH_LEN] = {9, 10, 11, 12};
static const uint8_t xk_resp_e[NOISE_DH_LEN] = {13, 14, 15, 16};
static const uint8_t xk_prologue[] = "CARTA\0\0\1";

static void xk_pair(noise_hs *init, noise_hs *resp)
{
	uint8_t resp_pub[NOISE_DH_LEN];

	assert_int_equal(noise_pubkey(xk_resp_s, resp_pub), 0);
	assert_int_equal(noise_hs_init(init, NOISE_XK, true, xk_prologue,
				       sizeof xk_prologue, xk_init_s, resp_pub),
			 0);
	assert_int_equal(noise_hs_init(resp, NOISE_XK, false, xk_prologue,
				       sizeof xk_prologue, xk_resp_s, NULL),
			 0);
	noise_hs_set_ephemeral(init, xk_init_e);
	noise_hs_set_ephemeral(resp, xk_resp_e);
}

/* Passes one message from tx to rx; it must go through. */
static void pass(noise_hs *tx, noise_hs *rx, const char *payload)
{
	uint8_t msg[BUF_LEN], got[BUF_LEN];
	size_t len, glen;

	assert_int_equal(noise_hs_write(tx, (const uint8_t *)payload,
					strlen(payload), msg, sizeof msg, &len),
			 0);
	assert_int_equal(noise_hs_read(rx, msg, len, got, sizeof got, &glen),
			 0);
	assert_int_equal(glen, strlen(payload));
	assert_memory_equal(got, payload, glen);
}

static void test_every_pattern_random(void **state)
{
	static const noise_pattern pats[] = {NOISE_NN, NOISE_NK, NOISE_KK,
					     NOISE_IK, NOISE_XK, NOISE_XX};
	/* Which side has a static key, and which side knows the other's. */
	static const bool init_s[] = {false, false, true, true, true, true};
	static const bool resp_s[] = {false, true, true, true, true, true};
	static const bool init_knows[] = {false, true, true, true, true, false};
	static const bool resp_knows[] = {false, false, true,
					  false, false, false};

	(void)state;
	for (size_t p = 0; p < sizeof pats / sizeof pats[0]; p++) {
		uint8_t is[NOISE_DH_LEN], ip[NOISE_DH_LEN];
		uint8_t rsk[NOISE_DH_LEN], rp[NOISE_DH_LEN];
		noise_hs init, resp;
		noise_cs itx, irx, rtx, rrx;
		uint8_t ct[64], pt[64];
		size_t ctlen, ptlen;

		assert_int_equal(noise_keypair(is, ip), 0);
		assert_int_equal(noise_keypair(rsk, rp), 0);
		assert_int_equal(noise_hs_init(&init, pats[p], true, NULL, 0,
					       init_s[p] ? is : NULL,
					       init_knows[p] ? rp : NULL),
				 0);
		assert_int_equal(noise_hs_init(&resp, pats[p], false, NULL, 0,
					       resp_s[p] ? rsk : NULL,
					       resp_knows[p] ? ip : NULL),
				 0);
		for (int i = 0; !noise_hs_done(&init); i++)
			if (i % 2 == 0)
				pass(&init, &resp, "hello");
			else
				pass(&resp, &init, "");
		assert_true(noise_hs_done(&resp));
		assert_memory_equal(noise_hs_hash(&init), noise_hs_hash(&resp),
				    NOISE_HASH_LEN);
		if (init_s[p])
			assert_memory_equal(noise_hs_remote_static(&resp), ip,
					    NOISE_DH_LEN);
		else
			assert_null(noise_hs_remote_static(&resp));
		if (resp_s[p])
			assert_memory_equal(noise_hs_remote_static(&init), rp,
					    NOISE_DH_LEN);
		else
			assert_null(noise_hs_remote_static(&init));

		assert_int_equal(noise_hs_split(&init, &itx, &irx), 0);
		assert_int_equal(noise_hs_split(&resp, &rtx, &rrx), 0);
		assert_int_equal(noise_cs_encrypt(&rtx, NULL, 0,
						  (const uint8_t *)"back", 4,
						  ct, sizeof ct, &ctlen),
				 0);
		assert_int_equal(noise_cs_decrypt(&irx, NULL, 0, ct, ctlen, pt,
						  sizeof pt, &ptlen),
				 0);
		assert_memory_equal(pt, "back", 4);

		/* Rekeying one direction on both ends keeps them in step. */
		noise_cs_rekey(&itx);
		noise_cs_rekey(&rrx);
		assert_int_equal(noise_cs_encrypt(&itx, NULL, 0,
						  (const uint8_t *)"fwd", 3, ct,
						  sizeof ct, &ctlen),
				 0);
		assert_int_equal(noise_cs_decrypt(&rrx, NULL, 0, ct, ctlen, pt,
						  sizeof pt, &ptlen),
				 0);
		assert_memory_equal(pt, "fwd", 3);

		noise_hs_wipe(&init);
		noise_hs_wipe(&resp);
		assert_true(
		    sodium_is_zero((const uint8_t *)&init, sizeof init));
		noise_cs_wipe(&itx);
		noise_cs_wipe(&irx);
		noise_cs_wipe(&rtx);
		noise_cs_wipe(&rrx);
	}
}

static void test_init_keys(void **state)
{
	uint8_t priv[NOISE_DH_LEN] = {1}, pub[NOISE_DH_LEN];
	uint8_t out[BUF_LEN];
	size_t len;
	noise_hs hs;

	(void)state;
	assert_int_equal(noise_pubkey(priv, pub), 0);
	assert_int_equal(
	    noise_hs_init(&hs, NOISE_XK, true, NULL, 0, priv, NULL),
	    CARTA_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_XK, true, NULL, 0, NULL, pub),
			 CARTA_EINVAL);
	assert_int_equal(
	    noise_hs_init(&hs, NOISE_XK, false, NULL, 0, NULL, NULL),
	    CARTA_EINVAL);
	/* A key the pattern has no use for is a caller's mistake too. */
	assert_int_equal(
	    noise_hs_init(&hs, NOISE_XK, false, NULL, 0, priv, pub),
	    CARTA_EINVAL);
	assert_int_equal(
	    noise_hs_init(&hs, NOISE_NN, true, NULL, 0, priv, NULL),
	    CARTA_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_XX, true, NULL, 0, priv, pub),
			 CARTA_EINVAL);
	assert_int_equal(
	    noise_hs_init(&hs, (noise_pattern)42, true, NULL, 0, NULL, NULL),
	    CARTA_EINVAL);
	assert_int_equal(
	    noise_hs_init(&hs, NOISE_NN, true, NULL, 3, NULL, NULL),
	    CARTA_EINVAL);

	/* A failed init leaves a dead state. */
	assert_false(noise_hs_my_turn(&hs));
	assert_int_equal(noise_hs_write(&hs, NULL, 0, out, sizeof out, &len),
			 CARTA_ESTATE);
	noise_hs_wipe(&hs);
}

/* The XK message 1 a peer would send with ephemeral e_pub if the DH es
 * gave dh: everything, tag included, is right for that DH result. */
static void forge_xk_msg1(const uint8_t rs[NOISE_DH_LEN],
			  const uint8_t e_pub[NOISE_DH_LEN],
			  const uint8_t dh[NOISE_DH_LEN], uint8_t msg[48])
{
	static const char name[] = "Noise_XK_25519_ChaChaPoly_BLAKE2b";
	uint8_t h[NOISE_HASH_LEN] = {0}, ck[NOISE_HASH_LEN], k[NOISE_HASH_LEN];
	crypto_generichash_blake2b_state st;
	noise_cs cs = {0};
	size_t len;

	memcpy(h, name, sizeof name - 1);
	memcpy(ck, h, sizeof ck);
	const uint8_t *parts[] = {xk_prologue, rs, e_pub};
	const size_t lens[] = {sizeof xk_prologue, NOISE_DH_LEN, NOISE_DH_LEN};
	for (int i = 0; i < 3; i++) {
		crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH_LEN);
		crypto_generichash_blake2b_update(&st, h, sizeof h);
		crypto_generichash_blake2b_update(&st, parts[i], lens[i]);
		crypto_generichash_blake2b_final(&st, h, sizeof h);
	}
	noise_hkdf(ck, dh, NOISE_DH_LEN, ck, k, NULL);
	memcpy(cs.k, k, NOISE_KEY_LEN);
	cs.has_key = true;

	memcpy(msg, e_pub, NOISE_DH_LEN);
	assert_int_equal(noise_cs_encrypt(&cs, h, sizeof h, NULL, 0,
					  msg + NOISE_DH_LEN, 48 - NOISE_DH_LEN,
					  &len),
			 0);
	assert_int_equal(len, NOISE_TAG_LEN);
}

static void test_low_order_ephemeral(void **state)
{
	static const char *const points[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "0000000000000000000000000000000000000000000000000000000000000080",
	};
	uint8_t resp_pub[NOISE_DH_LEN], e_priv[NOISE_DH_LEN];
	uint8_t e_pub[NOISE_DH_LEN], dh[NOISE_DH_LEN], msg[48], out[BUF_LEN];
	size_t len;
	noise_hs resp, init;

	(void)state;
	assert_int_equal(noise_pubkey(xk_resp_s, resp_pub), 0);

	/* The forger is sound: with a real ephemeral its message passes. */
	assert_int_equal(noise_keypair(e_priv, e_pub), 0);
	assert_int_equal(crypto_scalarmult(dh, e_priv, resp_pub), 0);
	forge_xk_msg1(resp_pub, e_pub, dh, msg);
	assert_int_equal(noise_hs_init(&resp, NOISE_XK, false, xk_prologue,
				       sizeof xk_prologue, xk_resp_s, NULL),
			 0);
	assert_int_equal(
	    noise_hs_read(&resp, msg, sizeof msg, out, sizeof out, &len), 0);
	noise_hs_wipe(&resp);

	memset(dh, 0, sizeof dh);
	for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
		unhex_key(points[i], e_pub);
		/* libsodium itself sees the point as low order. */
		assert_int_not_equal(crypto_scalarmult(dh, xk_resp_s, e_pub),
				     0);
		memset(dh, 0, sizeof dh);

		/* Even with the tag right for an all-zero DH it is refused. */
		forge_xk_msg1(resp_pub, e_pub, dh, msg);
		assert_int_equal(noise_hs_init(&resp, NOISE_XK, false,
					       xk_prologue, sizeof xk_prologue,
					       xk_resp_s, NULL),
				 0);
		assert_int_equal(noise_hs_read(&resp, msg, sizeof msg, out,
					       sizeof out, &len),
				 CARTA_ECRYPTO);
		assert_int_equal(len, 0);
		assert_int_equal(
		    noise_hs_write(&resp, NULL, 0, out, sizeof out, &len),
		    CARTA_ESTATE);
		noise_hs_wipe(&resp);

		/* The initiator refuses it as the responder's ephemeral. */
		xk_pair(&init, &resp);
		assert_int_equal(
		    noise_hs_write(&init, NULL, 0, out, sizeof out, &len), 0);
		memcpy(out, e_pub, NOISE_DH_LEN);
		memset(out + NOISE_DH_LEN, 0, NOISE_TAG_LEN);
		assert_int_equal(
		    noise_hs_read(&init, out, 48, out + 64, 64, &len),
		    CARTA_ECRYPTO);
		noise_hs_wipe(&init);
		noise_hs_wipe(&resp);
	}
}

/* Every truncation of every XK message is refused cleanly. Each copy sits
 * in a buffer of exactly its length so AddressSanitizer sees overreads. */
static void test_truncated(void **state)
{
	static const char *const payloads[3] = {"first", "second", "third"};
	static const size_t overhead[3] = {48, 48, 64};
	uint8_t full[3][BUF_LEN], got[BUF_LEN];
	size_t full_len[3], len;
	noise_hs init, resp;

	(void)state;
	xk_pair(&init, &resp);
	for (int m = 0; m < 3; m++) {
		noise_hs *tx = m % 2 == 0 ? &init : &resp;
		noise_hs *rx = m % 2 == 0 ? &resp : &init;

		assert_int_equal(noise_hs_write(tx,
						(const uint8_t *)payloads[m],
						strlen(payloads[m]), full[m],
						BUF_LEN, &full_len[m]),
				 0);
		assert_int_equal(full_len[m],
				 overhead[m] + strlen(payloads[m]));
		assert_int_equal(noise_hs_read(rx, full[m], full_len[m], got,
					       sizeof got, &len),
				 0);
	}
	noise_hs_wipe(&init);
	noise_hs_wipe(&resp);

	for (int m = 0; m < 3; m++) {
		for (size_t cut = 0; cut < full_len[m]; cut++) {
			uint8_t *msg = malloc(cut > 0 ? cut : 1);
			noise_hs *rx = m % 2 == 0 ? &resp : &init;
			int rv;

			assert_non_null(msg);
			memcpy(msg, full[m], cut);
			xk_pair(&init, &resp);
			for (int k = 0; k < m; k++)
				pass(k % 2 == 0 ? &init : &resp,
				     k % 2 == 0 ? &resp : &init, payloads[k]);

			rv = noise_hs_read(rx, msg, cut, got, sizeof got, &len);
			if (cut < overhead[m])
				assert_int_equal(rv, CARTA_EPROTO);
			else
				assert_int_equal(rv, CARTA_ECRYPTO);
			assert_int_equal(noise_hs_read(rx, full[m], full_len[m],
						       got, sizeof got, &len),
					 CARTA_ESTATE);
			free(msg);
			noise_hs_wipe(&init);
			noise_hs_wipe(&resp);
		}
	}
}

static void test_sizes(void **state)
{
	static uint8_t payload[NOISE_MAX_MSG + 1], big[NOISE_MAX_MSG + 1];
	uint8_t out[BUF_LEN];
	size_t len, plen;
	noise_hs init, resp;

	(void)state;
	/* Too small an output buffer, or too long a payload. */
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_write(&init, NULL, 0, out, 47, &len),
			 CARTA_ETOOBIG);
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_write(&init, payload, NOISE_MAX_MSG - 47, big,
					sizeof big, &len),
			 CARTA_ETOOBIG);

	/* The largest message fits exactly. */
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_write(&init, payload, NOISE_MAX_MSG - 48, big,
					sizeof big, &len),
			 0);
	assert_int_equal(len, NOISE_MAX_MSG);
	/* A payload buffer too small for it is refused before any work. */
	assert_int_equal(noise_hs_read(&resp, big, len, out, sizeof out, &plen),
			 CARTA_ETOOBIG);
	/* With room it goes through. */
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_write(&init, payload, NOISE_MAX_MSG - 48, big,
					sizeof big, &len),
			 0);
	assert_int_equal(
	    noise_hs_read(&resp, big, len, payload, sizeof payload, &plen), 0);
	assert_int_equal(plen, NOISE_MAX_MSG - 48);

	/* Longer than any Noise message. */
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_read(&resp, big, sizeof big, payload,
				       sizeof payload, &plen),
			 CARTA_ETOOBIG);
	noise_hs_wipe(&init);
	noise_hs_wipe(&resp);
}

static void test_wrong_turn(void **state)
{
	uint8_t out[BUF_LEN], got[BUF_LEN];
	size_t len, glen;
	noise_hs init, resp;
	noise_cs tx, rx;

	(void)state;
	/* The responder may not speak first, and is dead after trying. */
	xk_pair(&init, &resp);
	assert_true(noise_hs_my_turn(&init));
	assert_false(noise_hs_my_turn(&resp));
	assert_int_equal(noise_hs_write(&resp, NULL, 0, out, sizeof out, &len),
			 CARTA_ESTATE);
	assert_int_equal(noise_hs_write(&init, NULL, 0, out, sizeof out, &len),
			 0);
	assert_int_equal(noise_hs_read(&resp, out, len, got, sizeof got, &glen),
			 CARTA_ESTATE);

	/* The initiator may not read first. */
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_read(&init, out, 48, got, sizeof got, &glen),
			 CARTA_ESTATE);

	/* Nor write twice in a row. */
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_write(&init, NULL, 0, out, sizeof out, &len),
			 0);
	assert_int_equal(noise_hs_write(&init, NULL, 0, out, sizeof out, &len),
			 CARTA_ESTATE);

	/* No Split before the end; no messages after it; Split only once. */
	xk_pair(&init, &resp);
	assert_int_equal(noise_hs_split(&init, &tx, &rx), CARTA_ESTATE);
	xk_pair(&init, &resp);
	pass(&init, &resp, "1");
	pass(&resp, &init, "2");
	assert_false(noise_hs_done(&init));
	pass(&init, &resp, "3");
	assert_true(noise_hs_done(&init));
	assert_true(noise_hs_done(&resp));
	assert_false(noise_hs_my_turn(&init));
	assert_false(noise_hs_my_turn(&resp));
	assert_int_equal(noise_hs_write(&resp, NULL, 0, out, sizeof out, &len),
			 CARTA_ESTATE);
	assert_int_equal(noise_hs_split(&init, &tx, &rx), 0);
	assert_int_equal(noise_hs_split(&init, &tx, &rx), CARTA_ESTATE);
	assert_int_equal(noise_hs_read(&resp, out, 64, got, sizeof got, &glen),
			 CARTA_ESTATE);

	/* A wiped state is no handshake at all. */
	noise_hs_wipe(&init);
	assert_int_equal(noise_hs_write(&init, NULL, 0, out, sizeof out, &len),
			 CARTA_ESTATE);
	assert_false(noise_hs_done(&init));

	noise_hs_wipe(&init);
	noise_hs_wipe(&resp);
	noise_cs_wipe(&tx);
	noise_cs_wipe(&rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector_xk),
	    cmocka_unit_test(test_vector_nn),
	    cmocka_unit_test(test_vector_file),
	    cmocka_unit_test(test_hmac),
	    cmocka_unit_test(test_hkdf),
	    cmocka_unit_test(test_rekey),
	    cmocka_unit_test(test_flipped_bit),
	    cmocka_unit_test(test_nonce_exhausted),
	    cmocka_unit_test(test_cipher_sizes),
	    cmocka_unit_test(test_every_pattern_random),
	    cmocka_unit_test(test_init_keys),
	    cmocka_unit_test(test_low_order_ephemeral),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_wrong_turn),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("noise", tests, NULL, NULL);
}
