/* Noise core: published vectors, then the ways a handshake must fail.
 *
 * No real randomness: ephemeral keys come from the vectors or from a
 * ChaCha20 keystream under a fixed key (test_rand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "noise_priv.h"
#include "tocsin/noise.h"
#include "test_rng.h"

#ifndef TN_SHARED_DIR
#error "TN_SHARED_DIR must name the shared directory holding vectors/"
#endif
#define VECTORS_FILE TN_SHARED_DIR "/vectors/noise_25519_ChaChaPoly_BLAKE2b.json"

enum {
	VECTORS_EXPECTED = 53,
	BUF = 1024,        /* every vector field and test message fits */
	VEC_MSGS_MAX = 16, /* messages in one vector */
};

/* ---- Small helpers ---- */

static tn_noise_protocol proto_of(const char *name)
{
	tn_noise_protocol p;
	assert_int_equal(tn_noise_protocol_parse(name, &p), TN_OK);
	return p;
}

static tn_noise_keypair keypair(uint8_t fill)
{
	tn_noise_seckey sec;
	tn_noise_keypair kp;
	memset(sec.b, fill, sizeof sec.b);
	assert_int_equal(tn_noise_keypair_from_secret(&kp, &sec), TN_OK);
	return kp;
}

static tn_noise_psk psk_of(uint8_t fill)
{
	tn_noise_psk k;
	memset(k.b, fill, sizeof k.b);
	return k;
}

/* The base pattern's pre-messages, independently of the library. */
static bool resp_static_known(const char *name)
{
	return strncmp(name, "Noise_IK", 8) == 0 || strncmp(name, "Noise_KK", 8) == 0;
}

static bool init_static_known(const char *name)
{
	return strncmp(name, "Noise_KK", 8) == 0;
}

static bool has_statics(const char *name)
{
	return strncmp(name, "Noise_NN", 8) != 0;
}

static bool has_psk(const char *name)
{
	return strstr(name, "psk") != NULL;
}

/* Both ends of one handshake with fixed keys. */
typedef struct pair {
	tn_noise_hs i, r;
	test_rng rng_i, rng_r;
	tn_rand rand_i, rand_r;
} pair;

static void pair_init_psk(pair *p, const char *name, uint8_t psk_i, uint8_t psk_r)
{
	tn_noise_protocol proto = proto_of(name);
	tn_noise_keypair si = keypair(0x11), sr = keypair(0x22);
	tn_noise_psk ki = psk_of(psk_i), kr = psk_of(psk_r);
	bool st = has_statics(name), pk = has_psk(name);
	static const uint8_t prologue[] = "tocsin/1";

	p->rand_i = test_rng_seed(&p->rng_i, 0xa1);
	p->rand_r = test_rng_seed(&p->rng_r, 0xb2);
	assert_int_equal(tn_noise_hs_init(&p->i, &proto, TN_NOISE_INITIATOR, prologue,
	                                  sizeof prologue - 1, st ? &si : NULL,
	                                  resp_static_known(name) ? &sr.pub : NULL,
	                                  pk ? &ki : NULL),
	                 TN_OK);
	assert_int_equal(tn_noise_hs_init(&p->r, &proto, TN_NOISE_RESPONDER, prologue,
	                                  sizeof prologue - 1, st ? &sr : NULL,
	                                  init_static_known(name) ? &si.pub : NULL,
	                                  pk ? &kr : NULL),
	                 TN_OK);
}

static void pair_init(pair *p, const char *name)
{
	pair_init_psk(p, name, 0x33, 0x33);
}

static void pair_free(pair *p)
{
	tn_noise_hs_free(&p->i);
	tn_noise_hs_free(&p->r);
}

/* Message k goes from the initiator when k is even. */
static tn_noise_hs *writer(pair *p, unsigned k)
{
	return k % 2 == 0 ? &p->i : &p->r;
}

static tn_noise_hs *reader(pair *p, unsigned k)
{
	return k % 2 == 0 ? &p->r : &p->i;
}

static const tn_rand *wrand(pair *p, unsigned k)
{
	return k % 2 == 0 ? &p->rand_i : &p->rand_r;
}

static const uint8_t test_payload[] = "test payload";

/* Write message k from its writer into msg. */
static size_t write_msg(pair *p, unsigned k, uint8_t *msg, size_t cap)
{
	tn_ssize n = tn_noise_hs_write(writer(p, k), test_payload, sizeof test_payload, msg, cap,
	                               wrand(p, k));
	assert_true(n > 0);
	return (size_t)n;
}

/* Pass message k through unchanged. */
static void pass_msg(pair *p, unsigned k)
{
	uint8_t msg[BUF], pt[BUF];
	size_t n = write_msg(p, k, msg, sizeof msg);
	tn_ssize m = tn_noise_hs_read(reader(p, k), msg, n, pt, sizeof pt);
	assert_int_equal(m, (tn_ssize)sizeof test_payload);
	assert_memory_equal(pt, test_payload, sizeof test_payload);
}

static void run_handshake(pair *p)
{
	unsigned n = tn_noise_protocol_messages(&p->i.proto);
	for (unsigned k = 0; k < n; k++)
		pass_msg(p, k);
	assert_int_equal(tn_noise_hs_next(&p->i), TN_NOISE_SPLIT);
	assert_int_equal(tn_noise_hs_next(&p->r), TN_NOISE_SPLIT);
}

/* Run the handshake of name up to message k: *rx is a snapshot of the
 * reader just before message k, msg[0..*len) is message k as written. */
static void stage(const char *name, unsigned k, tn_noise_hs *rx, uint8_t *msg, size_t cap,
                  size_t *len)
{
	pair p;
	pair_init(&p, name);
	for (unsigned j = 0; j < k; j++)
		pass_msg(&p, j);
	*len = write_msg(&p, k, msg, cap);
	*rx = *reader(&p, k);
	pair_free(&p);
}

static bool is_low_order(const uint8_t pub[TN_NOISE_DH])
{
	uint8_t sec[TN_NOISE_DH], out[TN_NOISE_DH];
	memset(sec, 0x77, sizeof sec);
	return crypto_scalarmult(out, sec, pub) != 0;
}

/* ---- Vectors ---- */

typedef struct vmsg {
	uint8_t payload[BUF], ct[BUF];
	size_t plen, clen;
	bool from_init;
} vmsg;

typedef struct vec {
	char name[TN_NOISE_NAME_MAX + 16];
	tn_noise_protocol proto;
	uint8_t prologue_i[BUF], prologue_r[BUF];
	size_t prologue_i_len, prologue_r_len;
	bool has_si, has_sr, has_rsi, has_rsr, has_psk_i, has_psk_r, has_hash;
	tn_noise_keypair si, sr;
	tn_noise_pubkey rsi, rsr; /* remote static known to initiator / responder */
	tn_noise_seckey ei, er;
	tn_noise_psk psk_i, psk_r;
	uint8_t hash[TN_NOISE_HASH];
	vmsg msgs[VEC_MSGS_MAX];
	size_t nmsgs;
} vec;

/* Decode the hex string field key of o into out; absent gives *len = 0 and
 * returns 0, bad hex or too long returns -1, present returns 1. */
static int get_hex(const json_t *o, const char *key, uint8_t *out, size_t cap, size_t *len)
{
	const json_t *j = json_object_get(o, key);
	*len = 0;
	if (j == NULL)
		return 0;
	const char *s = json_string_value(j);
	if (s == NULL)
		return -1;
	if (strlen(s) > 2 * cap || sodium_hex2bin(out, cap, s, strlen(s), NULL, len, NULL) != 0)
		return -1;
	return 1;
}

/* A 32-byte field: 1 present, 0 absent, -1 malformed. */
static int get_key(const json_t *o, const char *key, uint8_t out[32])
{
	size_t len;
	int rc = get_hex(o, key, out, 32, &len);
	return rc == 1 && len != 32 ? -1 : rc;
}

static int get_seckey_pair(const json_t *o, const char *key, tn_noise_keypair *kp)
{
	tn_noise_seckey sec;
	int rc = get_key(o, key, sec.b);
	if (rc == 1 && tn_noise_keypair_from_secret(kp, &sec) != TN_OK)
		rc = -1;
	return rc;
}

/* cacophony psks arrays: one psk, or none. */
static int get_psks(const json_t *o, const char *key, tn_noise_psk *psk)
{
	const json_t *a = json_object_get(o, key);
	size_t len;
	if (a == NULL || (json_is_array(a) && json_array_size(a) == 0))
		return 0;
	if (!json_is_array(a) || json_array_size(a) != 1)
		return -1;
	const char *s = json_string_value(json_array_get(a, 0));
	if (s == NULL ||
	    sodium_hex2bin(psk->b, sizeof psk->b, s, strlen(s), NULL, &len, NULL) != 0 ||
	    len != sizeof psk->b)
		return -1;
	return 1;
}

static const char *parse_cacophony(const json_t *o, vec *v)
{
	int r;
	if ((r = get_seckey_pair(o, "init_static", &v->si)) < 0)
		return "init_static";
	v->has_si = r == 1;
	if ((r = get_seckey_pair(o, "resp_static", &v->sr)) < 0)
		return "resp_static";
	v->has_sr = r == 1;
	if ((r = get_key(o, "init_remote_static", v->rsi.b)) < 0)
		return "init_remote_static";
	v->has_rsi = r == 1;
	if ((r = get_key(o, "resp_remote_static", v->rsr.b)) < 0)
		return "resp_remote_static";
	v->has_rsr = r == 1;
	if (get_key(o, "init_ephemeral", v->ei.b) != 1 ||
	    get_key(o, "resp_ephemeral", v->er.b) != 1)
		return "ephemeral";
	if (get_hex(o, "init_prologue", v->prologue_i, BUF, &v->prologue_i_len) < 0 ||
	    get_hex(o, "resp_prologue", v->prologue_r, BUF, &v->prologue_r_len) < 0)
		return "prologue";
	if ((r = get_psks(o, "init_psks", &v->psk_i)) < 0)
		return "init_psks";
	v->has_psk_i = r == 1;
	if ((r = get_psks(o, "resp_psks", &v->psk_r)) < 0)
		return "resp_psks";
	v->has_psk_r = r == 1;
	size_t hlen;
	if ((r = get_hex(o, "handshake_hash", v->hash, sizeof v->hash, &hlen)) < 0 ||
	    (r == 1 && hlen != TN_NOISE_HASH))
		return "handshake_hash";
	v->has_hash = r == 1;

	/* messages alternate initiator/responder, into transport as well */
	const json_t *msgs = json_object_get(o, "messages");
	if (!json_is_array(msgs) || json_array_size(msgs) > VEC_MSGS_MAX)
		return "messages";
	v->nmsgs = json_array_size(msgs);
	for (size_t i = 0; i < v->nmsgs; i++) {
		const json_t *m = json_array_get(msgs, i);
		if (get_hex(m, "payload", v->msgs[i].payload, BUF, &v->msgs[i].plen) != 1 ||
		    get_hex(m, "ciphertext", v->msgs[i].ct, BUF, &v->msgs[i].clen) != 1)
			return "message fields";
		v->msgs[i].from_init = i % 2 == 0;
	}
	return NULL;
}

static const char *parse_flynn(const json_t *o, vec *v)
{
	int r;
	if ((r = get_seckey_pair(o, "init_static", &v->si)) < 0)
		return "init_static";
	v->has_si = r == 1;
	if ((r = get_seckey_pair(o, "resp_static", &v->sr)) < 0)
		return "resp_static";
	v->has_sr = r == 1;
	/* flynn gives no remote statics: the pre-messages are the peers' own */
	if (resp_static_known(v->name)) {
		if (!v->has_sr)
			return "resp_static missing";
		v->rsi = v->sr.pub;
		v->has_rsi = true;
	}
	if (init_static_known(v->name)) {
		if (!v->has_si)
			return "init_static missing";
		v->rsr = v->si.pub;
		v->has_rsr = true;
	}
	if (get_key(o, "gen_init_ephemeral", v->ei.b) != 1 ||
	    get_key(o, "gen_resp_ephemeral", v->er.b) != 1)
		return "ephemeral";
	if (get_hex(o, "prologue", v->prologue_i, BUF, &v->prologue_i_len) < 0)
		return "prologue";
	memcpy(v->prologue_r, v->prologue_i, v->prologue_i_len);
	v->prologue_r_len = v->prologue_i_len;
	if ((r = get_key(o, "preshared_key", v->psk_i.b)) < 0)
		return "preshared_key";
	v->has_psk_i = v->has_psk_r = r == 1;
	v->psk_r = v->psk_i;

	size_t nhs = tn_noise_protocol_messages(&v->proto);
	for (size_t i = 0; i < VEC_MSGS_MAX; i++) {
		char kp[32], kc[32];
		snprintf(kp, sizeof kp, "msg_%zu_payload", i);
		snprintf(kc, sizeof kc, "msg_%zu_ciphertext", i);
		if (json_object_get(o, kc) == NULL)
			break;
		if (get_hex(o, kp, v->msgs[i].payload, BUF, &v->msgs[i].plen) != 1 ||
		    get_hex(o, kc, v->msgs[i].ct, BUF, &v->msgs[i].clen) != 1)
			return "message fields";
		/* flynn restarts with initiator->responder after the handshake */
		v->msgs[i].from_init = i < nhs ? i % 2 == 0 : (i - nhs) % 2 == 0;
		v->nmsgs = i + 1;
	}
	if (json_object_get(o, "msg_16_ciphertext") != NULL)
		return "too many messages";
	return NULL;
}

static const char *parse_vector(const json_t *o, vec *v)
{
	const char *name = json_string_value(json_object_get(o, "protocol_name"));
	bool kv = false;
	if (name == NULL)
		name = json_string_value(json_object_get(o, "name"));
	if (name == NULL) {
		name = json_string_value(json_object_get(o, "handshake"));
		kv = true;
	}
	if (name == NULL || strlen(name) >= sizeof v->name)
		return "no protocol name";
	memcpy(v->name, name, strlen(name) + 1);
	if (tn_noise_protocol_parse(name, &v->proto) != TN_OK)
		return "protocol name refused";
	return kv ? parse_flynn(o, v) : parse_cacophony(o, v);
}

/* One handshake message: the writer must produce the vector's bytes, and
 * the reader must accept the vector's bytes (not the writer's), so each
 * side is checked against the vector on its own. */
static const char *vector_hs_msg(tn_noise_hs *w, tn_noise_hs *r, const vmsg *m)
{
	uint8_t out[BUF], pt[BUF];
	tn_ssize n = tn_noise_hs_write(w, m->payload, m->plen, out, sizeof out, NULL);
	if (n < 0 || (size_t)n != m->clen || memcmp(out, m->ct, m->clen) != 0)
		return "handshake ciphertext differs";
	n = tn_noise_hs_read(r, m->ct, m->clen, pt, sizeof pt);
	if (n < 0 || (size_t)n != m->plen || memcmp(pt, m->payload, m->plen) != 0)
		return "handshake payload differs";
	return NULL;
}

static const char *vector_transport_msg(tn_noise_cipher *tx, tn_noise_cipher *rx, const vmsg *m)
{
	uint8_t out[BUF], pt[BUF];
	tn_ssize n = tn_noise_cipher_encrypt(tx, NULL, 0, m->payload, m->plen, out, sizeof out);
	if (n < 0 || (size_t)n != m->clen || memcmp(out, m->ct, m->clen) != 0)
		return "transport ciphertext differs";
	n = tn_noise_cipher_decrypt(rx, NULL, 0, m->ct, m->clen, pt, sizeof pt);
	if (n < 0 || (size_t)n != m->plen || memcmp(pt, m->payload, m->plen) != 0)
		return "transport payload differs";
	return NULL;
}

static const char *run_vector_keys(vec *v, tn_noise_hs *hi, tn_noise_hs *hr)
{
	if (tn_noise_hs_init(hi, &v->proto, TN_NOISE_INITIATOR, v->prologue_i, v->prologue_i_len,
	                     v->has_si ? &v->si : NULL, v->has_rsi ? &v->rsi : NULL,
	                     v->has_psk_i ? &v->psk_i : NULL) != TN_OK)
		return "initiator init";
	if (tn_noise_hs_init(hr, &v->proto, TN_NOISE_RESPONDER, v->prologue_r, v->prologue_r_len,
	                     v->has_sr ? &v->sr : NULL, v->has_rsr ? &v->rsr : NULL,
	                     v->has_psk_r ? &v->psk_r : NULL) != TN_OK)
		return "responder init";
	if (tn_noise_hs_set_ephemeral(hi, &v->ei) != TN_OK ||
	    tn_noise_hs_set_ephemeral(hr, &v->er) != TN_OK)
		return "set ephemeral";
	return NULL;
}

static const char *run_vector(vec *v)
{
	tn_noise_hs hi, hr;
	tn_noise_cipher itx = {0}, irx = {0}, rtx = {0}, rrx = {0};
	uint8_t hash_i[TN_NOISE_HASH], hash_r[TN_NOISE_HASH];
	const char *why = run_vector_keys(v, &hi, &hr);
	size_t nhs = tn_noise_protocol_messages(&v->proto);

	if (why == NULL && v->nmsgs < nhs)
		why = "fewer messages than the handshake";
	for (size_t k = 0; why == NULL && k < nhs; k++) {
		const vmsg *m = &v->msgs[k];
		why = m->from_init ? vector_hs_msg(&hi, &hr, m) : vector_hs_msg(&hr, &hi, m);
	}
	if (why == NULL &&
	    (tn_noise_hs_hash(&hi, hash_i) != TN_OK || tn_noise_hs_hash(&hr, hash_r) != TN_OK ||
	     memcmp(hash_i, hash_r, sizeof hash_i) != 0))
		why = "handshake hashes disagree";
	if (why == NULL && v->has_hash && memcmp(hash_i, v->hash, sizeof hash_i) != 0)
		why = "handshake hash differs from the vector";
	if (why == NULL && (tn_noise_hs_split(&hi, &itx, &irx) != TN_OK ||
	                    tn_noise_hs_split(&hr, &rtx, &rrx) != TN_OK))
		why = "split";
	for (size_t k = nhs; why == NULL && k < v->nmsgs; k++) {
		const vmsg *m = &v->msgs[k];
		why = m->from_init ? vector_transport_msg(&itx, &rrx, m)
		                   : vector_transport_msg(&rtx, &irx, m);
	}
	tn_noise_hs_free(&hi);
	tn_noise_hs_free(&hr);
	tn_noise_cipher_free(&itx);
	tn_noise_cipher_free(&irx);
	tn_noise_cipher_free(&rtx);
	tn_noise_cipher_free(&rrx);
	return why;
}

/* Every published vector, both roles, handshake and transport. All run even
 * when one fails; each failure is named. */
static void published_vectors_pass(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *root = json_load_file(VECTORS_FILE, 0, &jerr);
	if (root == NULL)
		fail_msg("cannot load %s: %s (line %d)", VECTORS_FILE, jerr.text, jerr.line);
	const json_t *vectors = json_object_get(root, "vectors");
	assert_true(json_is_array(vectors));

	size_t ran = 0, passed = 0;
	vec *v = malloc(sizeof *v);
	assert_non_null(v);
	for (size_t i = 0; i < json_array_size(vectors); i++) {
		const json_t *o = json_array_get(vectors, i);
		memset(v, 0, sizeof *v);
		const char *why = parse_vector(o, v);
		if (why == NULL)
			why = run_vector(v);
		ran++;
		if (why == NULL) {
			passed++;
		} else {
			const char *src = json_string_value(json_object_get(o, "source"));
			printf("noise vector %zu FAILED: %s (%s) from %s\n", i, v->name, why,
			       src != NULL ? src : "?");
		}
	}
	free(v);
	json_decref(root);
	printf("noise vectors: %zu ran, %zu passed\n", ran, passed);
	assert_true(ran >= VECTORS_EXPECTED);
	assert_int_equal(passed, ran);
}

/* ---- Primitives ---- */

/* HMAC-BLAKE2b and Noise's HKDF against Python's hmac/hashlib (an
 * independent implementation). */
static void hmac_and_hkdf_match_reference(void **state)
{
	(void)state;
	uint8_t key[64], ikm[32], out[64], o1[64], o2[64], o3[64], want[64];
	static const char msg[] = "tocsin hmac test";
	for (size_t i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	for (size_t i = 0; i < 32; i++)
		ikm[i] = (uint8_t)(100 + i);

	tn_noise_hmac(out, key, sizeof key, (const uint8_t *)msg, sizeof msg - 1, NULL, 0);
	assert_int_equal(
	        sodium_hex2bin(want, sizeof want,
	                       "18010151122be0bdf9b4033dd096c97c6c803ab5e040242d001fdf446b95"
	                       "035fbcc6d999569f5ca555231a6b6644254040880c4b45502f6f882f8528"
	                       "ff34cf84",
	                       128, NULL, NULL, NULL),
	        0);
	assert_memory_equal(out, want, 64);

	tn_noise_hkdf(key, ikm, sizeof ikm, o1, o2, o3);
	assert_int_equal(
	        sodium_hex2bin(want, sizeof want,
	                       "2262ed5f40c3324574d00a1e0849a7cc67fb5b6a80211c3c59404bb8e475"
	                       "12b1cb95e73840718c5d68ca345f934f39a52f1f31e8f6d3ed521f0664f4"
	                       "6feddae4",
	                       128, NULL, NULL, NULL),
	        0);
	assert_memory_equal(o1, want, 64);
	assert_int_equal(
	        sodium_hex2bin(want, sizeof want,
	                       "f6a6559fa2aaab64d3d2666b83fe3f4fed6fae1959537fedd6a39b6f8d41"
	                       "1e6132593234cc2a750244335da5021c27bf7eacbb65cfa608457de6ecc1"
	                       "44b90077",
	                       128, NULL, NULL, NULL),
	        0);
	assert_memory_equal(o2, want, 64);
	assert_int_equal(
	        sodium_hex2bin(want, sizeof want,
	                       "07c82c1301c70e885f4662f1f3f7b7bb9e04d81c94a6e1882f812c02ffb6"
	                       "9580c93095bb599ad2fced3d3cf38c9c17df4fb3c0029f231247fca69b04"
	                       "0e16449e",
	                       128, NULL, NULL, NULL),
	        0);
	assert_memory_equal(o3, want, 64);
}

/* ---- Protocol names and init ---- */

static void protocol_names_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		unsigned msgs;
	} ok[] = {
	        {"Noise_NN_25519_ChaChaPoly_BLAKE2b", 2},
	        {"Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b", 2},
	        {"Noise_NNpsk2_25519_ChaChaPoly_BLAKE2b", 2},
	        {"Noise_XX_25519_ChaChaPoly_BLAKE2b", 3},
	        {"Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", 3},
	        {"Noise_XXpsk1_25519_ChaChaPoly_BLAKE2b", 3},
	        {"Noise_XXpsk2_25519_ChaChaPoly_BLAKE2b", 3},
	        {"Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", 3},
	        {"Noise_IK_25519_ChaChaPoly_BLAKE2b", 2},
	        {"Noise_IKpsk1_25519_ChaChaPoly_BLAKE2b", 2},
	        {"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b", 2},
	        {"Noise_KK_25519_ChaChaPoly_BLAKE2b", 2},
	        {"Noise_KKpsk0_25519_ChaChaPoly_BLAKE2b", 2},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		tn_noise_protocol p;
		assert_int_equal(tn_noise_protocol_parse(ok[i].name, &p), TN_OK);
		assert_int_equal(tn_noise_protocol_messages(&p), ok[i].msgs);
	}
}

static void protocol_names_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "Noise_",
	        "Noise_XX",
	        "Noise_XX_25519_ChaChaPoly_BLAKE2",
	        "Noise_XX_25519_ChaChaPoly_BLAKE2b ",
	        "Noise_XX_25519_ChaChaPoly_BLAKE2bx",
	        " Noise_XX_25519_ChaChaPoly_BLAKE2b",
	        "noise_XX_25519_ChaChaPoly_BLAKE2b",
	        "Noise_xx_25519_ChaChaPoly_BLAKE2b",
	        "Noise_XX_448_ChaChaPoly_BLAKE2b",
	        "Noise_XX_25519_AESGCM_BLAKE2b",
	        "Noise_XX_25519_ChaChaPoly_SHA256",
	        "Noise_XX_25519_ChaChaPoly_BLAKE2s",
	        "Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b",
	        "Noise_NNpsk3_25519_ChaChaPoly_BLAKE2b",
	        "Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b",
	        "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b",
	        "Noise_XXpsk00_25519_ChaChaPoly_BLAKE2b",
	        "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
	        "Noise_NK_25519_ChaChaPoly_BLAKE2b",
	        "Noise_N_25519_ChaChaPoly_BLAKE2b",
	        "NoisePSK_XX_25519_ChaChaPoly_BLAKE2b",
	        "Noise_XX_25519_ChaChaPoly_BLAKE2b_Noise_XX_25519_ChaChaPoly_BLAKE2b",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tn_noise_protocol p;
		memset(&p, 0xee, sizeof p);
		assert_int_equal(tn_noise_protocol_parse(bad[i], &p), TN_ERR_PATTERN);
		assert_int_equal(tn_noise_protocol_messages(&p), 0);
	}
	/* an embedded NUL ends the name: what follows is not part of it */
	tn_noise_protocol p;
	assert_int_equal(tn_noise_protocol_parse("Noise_XX\0_25519_ChaChaPoly_BLAKE2b", &p),
	                 TN_ERR_PATTERN);
	assert_int_equal(tn_noise_protocol_parse(NULL, &p), TN_ERR_INVAL);
	assert_int_equal(tn_noise_protocol_parse("Noise_XX_25519_ChaChaPoly_BLAKE2b", NULL),
	                 TN_ERR_INVAL);
}

/* A key the pattern does not use, or a missing one, is refused. */
static void init_rejects_wrong_keys(void **state)
{
	(void)state;
	tn_noise_protocol xx = proto_of("Noise_XX_25519_ChaChaPoly_BLAKE2b");
	tn_noise_protocol xxpsk0 = proto_of("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	tn_noise_protocol ik = proto_of("Noise_IK_25519_ChaChaPoly_BLAKE2b");
	tn_noise_protocol nn = proto_of("Noise_NN_25519_ChaChaPoly_BLAKE2b");
	tn_noise_protocol zero = {0};
	tn_noise_keypair s = keypair(1);
	tn_noise_psk k = psk_of(2);
	tn_noise_hs hs;
	const tn_noise_role I = TN_NOISE_INITIATOR, R = TN_NOISE_RESPONDER;

	assert_int_equal(tn_noise_hs_init(&hs, &xx, I, NULL, 0, NULL, NULL, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_next(&hs), TN_NOISE_FAILED);
	assert_int_equal(tn_noise_hs_init(&hs, &xx, I, NULL, 0, &s, &s.pub, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &xx, I, NULL, 0, &s, NULL, &k), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &xxpsk0, I, NULL, 0, &s, NULL, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &ik, I, NULL, 0, &s, NULL, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &ik, R, NULL, 0, &s, &s.pub, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &nn, I, NULL, 0, &s, NULL, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &nn, (tn_noise_role)7, NULL, 0, NULL, NULL, NULL),
	                 TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &nn, I, NULL, 3, NULL, NULL, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, &zero, I, NULL, 0, NULL, NULL, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(&hs, NULL, I, NULL, 0, NULL, NULL, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_noise_hs_init(NULL, &nn, I, NULL, 0, NULL, NULL, NULL), TN_ERR_INVAL);

	assert_int_equal(tn_noise_hs_init(&hs, &xx, R, NULL, 0, &s, NULL, NULL), TN_OK);
	assert_int_equal(tn_noise_hs_next(&hs), TN_NOISE_READ);
	tn_noise_hs_free(&hs);
	assert_int_equal(tn_noise_hs_init(&hs, &ik, I, NULL, 0, &s, &s.pub, NULL), TN_OK);
	assert_int_equal(tn_noise_hs_next(&hs), TN_NOISE_WRITE);
	tn_noise_hs_free(&hs);
}

/* ---- Tampering ---- */

/* For every bit of message k of name: a copy of the reader fed the flipped
 * message fails with exactly the expected code and is left failed. A flip
 * in a cleartext ephemeral that this message uses in a DH gives TN_ERR_DH
 * exactly when the flipped key is low-order; every other flip TN_ERR_AUTH. */
static void check_bitflips(const char *name, unsigned k, bool e_in_dh)
{
	tn_noise_hs snap, trial;
	uint8_t msg[BUF], bad[BUF], pt[BUF];
	size_t len;
	stage(name, k, &snap, msg, sizeof msg, &len);
	/* Every message here starts with "e" except XX's third (s, se). */
	bool starts_with_e = !(strncmp(name, "Noise_XX", 8) == 0 && k == 2);

	for (size_t bit = 0; bit < 8 * len; bit++) {
		memcpy(bad, msg, len);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		tn_err want = TN_ERR_AUTH;
		if (starts_with_e && e_in_dh && bit / 8 < TN_NOISE_DH && is_low_order(bad))
			want = TN_ERR_DH;
		trial = snap;
		tn_ssize rc = tn_noise_hs_read(&trial, bad, len, pt, sizeof pt);
		if (rc != want)
			fail_msg("%s msg %u bit %zu: got %s, want %s", name, k, bit,
			         tn_strerror((int)rc), tn_strerror(want));
		assert_int_equal(tn_noise_hs_next(&trial), TN_NOISE_FAILED);
		tn_noise_hs_free(&trial);
	}
	/* and the untouched message still passes from the same snapshot */
	trial = snap;
	assert_int_equal(tn_noise_hs_read(&trial, msg, len, pt, sizeof pt),
	                 (tn_ssize)sizeof test_payload);
	tn_noise_hs_free(&trial);
	tn_noise_hs_free(&snap);
}

static void bitflip_xxpsk0_every_message(void **state)
{
	(void)state;
	/* msg 0 is psk, e: no DH at all, so every flip must be AUTH */
	check_bitflips("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", 0, false);
	check_bitflips("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", 1, true);
	check_bitflips("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", 2, false);
}

static void bitflip_ik_every_message(void **state)
{
	(void)state;
	check_bitflips("Noise_IK_25519_ChaChaPoly_BLAKE2b", 0, true);
	check_bitflips("Noise_IK_25519_ChaChaPoly_BLAKE2b", 1, true);
}

static void bitflip_kk_every_message(void **state)
{
	(void)state;
	check_bitflips("Noise_KK_25519_ChaChaPoly_BLAKE2b", 0, true);
	check_bitflips("Noise_KK_25519_ChaChaPoly_BLAKE2b", 1, true);
}

/* XX messages 2 and 3 are authenticated when read. */
static void bitflip_xx_messages_2_and_3(void **state)
{
	(void)state;
	check_bitflips("Noise_XX_25519_ChaChaPoly_BLAKE2b", 1, true);
	check_bitflips("Noise_XX_25519_ChaChaPoly_BLAKE2b", 2, false);
}

/* XX message 1 carries no MAC by design (spec §7.7: payload 0 is plaintext):
 * the responder accepts any flip, and the initiator then rejects message 2
 * because the transcripts differ. Flips that make e low-order fail the
 * responder's ee while writing message 2 instead. */
static void bitflip_xx_message_1_caught_at_message_2(void **state)
{
	(void)state;
	const char *name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
	uint8_t msg[BUF], bad[BUF], m2[BUF], pt[BUF];

	for (size_t bit = 0;; bit++) {
		pair p;
		pair_init(&p, name);
		size_t len = write_msg(&p, 0, msg, sizeof msg);
		if (bit == 8 * len) {
			pair_free(&p);
			break;
		}
		memcpy(bad, msg, len);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(tn_noise_hs_read(&p.r, bad, len, pt, sizeof pt),
		                 (tn_ssize)sizeof test_payload);
		tn_ssize n = tn_noise_hs_write(&p.r, NULL, 0, m2, sizeof m2, &p.rand_r);
		if (bit / 8 < TN_NOISE_DH && is_low_order(bad)) {
			assert_int_equal(n, TN_ERR_DH);
		} else {
			assert_true(n > 0);
			assert_int_equal(tn_noise_hs_read(&p.i, m2, (size_t)n, pt, sizeof pt),
			                 TN_ERR_AUTH);
		}
		pair_free(&p);
	}
}

/* Every truncation 0..n-1 is refused: below the fixed fields with
 * TN_ERR_PROTO (nothing decrypted), above them with TN_ERR_AUTH. */
static void check_truncations(const char *name, unsigned k, size_t fixed)
{
	tn_noise_hs snap, trial;
	uint8_t msg[BUF], pt[BUF];
	size_t len;
	stage(name, k, &snap, msg, sizeof msg, &len);
	for (size_t t = 0; t < len; t++) {
		trial = snap;
		tn_ssize rc = tn_noise_hs_read(&trial, msg, t, pt, sizeof pt);
		assert_int_equal(rc, t < fixed ? TN_ERR_PROTO : TN_ERR_AUTH);
		assert_int_equal(tn_noise_hs_next(&trial), TN_NOISE_FAILED);
		tn_noise_hs_free(&trial);
	}
	tn_noise_hs_free(&snap);
}

static void truncation_xxpsk0_every_message(void **state)
{
	(void)state;
	const char *name = "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b";
	check_truncations(name, 0, 32 + 16);           /* e, tag */
	check_truncations(name, 1, 32 + 32 + 16 + 16); /* e, s+tag, tag */
	check_truncations(name, 2, 32 + 16 + 16);      /* s+tag, tag */
}

static void truncation_ik_every_message(void **state)
{
	(void)state;
	const char *name = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
	check_truncations(name, 0, 32 + 48 + 16);
	check_truncations(name, 1, 32 + 16);
}

static void truncation_kk_every_message(void **state)
{
	(void)state;
	const char *name = "Noise_KK_25519_ChaChaPoly_BLAKE2b";
	check_truncations(name, 0, 32 + 16);
	check_truncations(name, 1, 32 + 16);
}

static void truncation_xx_messages_2_and_3(void **state)
{
	(void)state;
	const char *name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
	check_truncations(name, 1, 32 + 48 + 16);
	check_truncations(name, 2, 48 + 16);
}

/* XX message 1 with an empty payload is exactly e: any shorter is refused. */
static void truncation_xx_message_1(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF];
	pair_init(&p, "Noise_XX_25519_ChaChaPoly_BLAKE2b");
	tn_ssize len = tn_noise_hs_write(&p.i, NULL, 0, msg, sizeof msg, &p.rand_i);
	assert_int_equal(len, TN_NOISE_DH);
	for (size_t t = 0; t < (size_t)len; t++) {
		tn_noise_hs trial = p.r;
		assert_int_equal(tn_noise_hs_read(&trial, msg, t, NULL, 0), TN_ERR_PROTO);
		tn_noise_hs_free(&trial);
	}
	assert_int_equal(tn_noise_hs_read(&p.r, msg, (size_t)len, NULL, 0), 0);
	pair_free(&p);
}

/* ---- PSK ---- */

static void wrong_psk_rejected_at_message_1(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF], pt[BUF];
	pair_init_psk(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", 0x33, 0x34);
	size_t len = write_msg(&p, 0, msg, sizeof msg);
	assert_int_equal(tn_noise_hs_read(&p.r, msg, len, pt, sizeof pt), TN_ERR_AUTH);
	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_FAILED);
	pair_free(&p);
}

/* The epoch-transition path (DESIGN §5): the responder tries message 1
 * under the current PSK, fails, and retries under the previous one from a
 * fresh state; the handshake then completes. */
static void trial_decryption_under_two_psks(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF], pt[BUF];
	tn_noise_protocol proto = proto_of("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	tn_noise_keypair sr = keypair(0x22);
	tn_noise_psk cur = psk_of(0x44);
	static const uint8_t prologue[] = "tocsin/1";

	pair_init_psk(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", 0x33, 0x33); /* previous */
	size_t len = write_msg(&p, 0, msg, sizeof msg);

	tn_noise_hs trial;
	assert_int_equal(tn_noise_hs_init(&trial, &proto, TN_NOISE_RESPONDER, prologue,
	                                  sizeof prologue - 1, &sr, NULL, &cur),
	                 TN_OK);
	assert_int_equal(tn_noise_hs_read(&trial, msg, len, pt, sizeof pt), TN_ERR_AUTH);
	tn_noise_hs_free(&trial);

	assert_int_equal(tn_noise_hs_read(&p.r, msg, len, pt, sizeof pt),
	                 (tn_ssize)sizeof test_payload);
	pass_msg(&p, 1);
	pass_msg(&p, 2);
	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_SPLIT);
	pair_free(&p);
}

/* A state copied by assignment is an independent snapshot: a failure in
 * the copy leaves the original able to read the genuine message. */
static void snapshot_allows_retry(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF], bad[BUF], pt[BUF];
	pair_init(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	size_t len = write_msg(&p, 0, msg, sizeof msg);
	memcpy(bad, msg, len);
	bad[len - 1] ^= 1;

	tn_noise_hs copy = p.r;
	assert_int_equal(tn_noise_hs_read(&copy, bad, len, pt, sizeof pt), TN_ERR_AUTH);
	tn_noise_hs_free(&copy);
	assert_int_equal(tn_noise_hs_read(&p.r, msg, len, pt, sizeof pt),
	                 (tn_ssize)sizeof test_payload);
	pass_msg(&p, 1);
	pass_msg(&p, 2);
	pair_free(&p);
}

/* XXpsk0 message 1 is psk, e, payload: its MAC is checked with no DH. A
 * message 1 carrying a low-order e (built by poking the initiator's key, as
 * only a test may) is therefore accepted; the DH with it happens, and
 * fails, only at message 2's ee. */
static void xxpsk0_message_1_costs_no_dh(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF], pt[BUF];
	pair_init(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	assert_int_equal(tn_noise_hs_set_ephemeral(&p.i, &(tn_noise_seckey){{7}}), TN_OK);
	memset(p.i.e.pub.b, 0, sizeof p.i.e.pub.b);
	size_t len = write_msg(&p, 0, msg, sizeof msg);
	assert_true(sodium_is_zero(msg, TN_NOISE_DH));
	assert_int_equal(tn_noise_hs_read(&p.r, msg, len, pt, sizeof pt),
	                 (tn_ssize)sizeof test_payload);
	assert_int_equal(tn_noise_hs_write(&p.r, NULL, 0, msg, sizeof msg, &p.rand_r), TN_ERR_DH);
	pair_free(&p);
}

/* Empty payloads need no buffers at all (NULL, 0), keyed or not. */
static void empty_payloads_with_null_buffers(void **state)
{
	(void)state;
	static const char *const names[] = {"Noise_XX_25519_ChaChaPoly_BLAKE2b",
	                                    "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b",
	                                    "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		pair p;
		uint8_t msg[BUF];
		pair_init(&p, names[i]);
		for (unsigned k = 0; k < tn_noise_protocol_messages(&p.i.proto); k++) {
			tn_ssize n = tn_noise_hs_write(writer(&p, k), NULL, 0, msg, sizeof msg,
			                               wrand(&p, k));
			assert_true(n > 0);
			assert_int_equal(tn_noise_hs_read(reader(&p, k), msg, (size_t)n, NULL, 0),
			                 0);
		}
		assert_int_equal(tn_noise_hs_next(&p.i), TN_NOISE_SPLIT);
		assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_SPLIT);
		pair_free(&p);
	}
}

/* ---- DH failures ---- */

static const char *const low_order_points[] = {
        "0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
        "0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
};

static void low_order_point(size_t i, uint8_t out[TN_NOISE_DH])
{
	assert_int_equal(
	        sodium_hex2bin(out, TN_NOISE_DH, low_order_points[i], 64, NULL, NULL, NULL), 0);
}

/* XX message 2 whose e is low-order: ee fails before anything decrypts. */
static void low_order_ephemeral_in_read_fails_dh(void **state)
{
	(void)state;
	uint8_t msg[BUF], m2[128] = {0};
	for (size_t i = 0; i < sizeof low_order_points / sizeof low_order_points[0]; i++) {
		pair p;
		pair_init(&p, "Noise_XX_25519_ChaChaPoly_BLAKE2b");
		(void)write_msg(&p, 0, msg, sizeof msg);
		low_order_point(i, m2);
		assert_int_equal(tn_noise_hs_read(&p.i, m2, 32 + 48 + 16, NULL, 0), TN_ERR_DH);
		assert_int_equal(tn_noise_hs_next(&p.i), TN_NOISE_FAILED);
		pair_free(&p);
	}
}

/* The same through the writer: a responder that read an all-zero e fails
 * its ee while writing message 2, and is left failed. */
static void low_order_ephemeral_in_write_fails_dh(void **state)
{
	(void)state;
	pair p;
	uint8_t m1[TN_NOISE_DH] = {0}, out[BUF];
	pair_init(&p, "Noise_XX_25519_ChaChaPoly_BLAKE2b");
	assert_int_equal(tn_noise_hs_read(&p.r, m1, sizeof m1, NULL, 0), 0);
	assert_int_equal(tn_noise_hs_write(&p.r, NULL, 0, out, sizeof out, &p.rand_r), TN_ERR_DH);
	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_FAILED);
	assert_int_equal(tn_noise_hs_write(&p.r, NULL, 0, out, sizeof out, &p.rand_r),
	                 TN_ERR_STATE);
	pair_free(&p);
}

/* IK with a low-order pre-shared responder static: es fails at once. */
static void low_order_remote_static_fails_dh(void **state)
{
	(void)state;
	tn_noise_protocol ik = proto_of("Noise_IK_25519_ChaChaPoly_BLAKE2b");
	tn_noise_keypair s = keypair(0x11);
	tn_noise_pubkey rs;
	tn_noise_hs hs;
	test_rng rng;
	tn_rand rand = test_rng_seed(&rng, 9);
	uint8_t out[BUF];
	low_order_point(0, rs.b);
	assert_int_equal(tn_noise_hs_init(&hs, &ik, TN_NOISE_INITIATOR, NULL, 0, &s, &rs, NULL),
	                 TN_OK);
	assert_int_equal(tn_noise_hs_write(&hs, NULL, 0, out, sizeof out, &rand), TN_ERR_DH);
	assert_int_equal(tn_noise_hs_next(&hs), TN_NOISE_FAILED);
	tn_noise_hs_free(&hs);
}

/* ---- State machine ---- */

static void out_of_turn_is_state_error(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF], pt[BUF];
	pair_init(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	assert_int_equal(tn_noise_hs_next(&p.i), TN_NOISE_WRITE);
	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_READ);
	/* initiator reads first, responder writes first: refused, no change */
	memset(msg, 0, sizeof msg);
	assert_int_equal(tn_noise_hs_read(&p.i, msg, 100, pt, sizeof pt), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_write(&p.r, NULL, 0, msg, sizeof msg, &p.rand_r),
	                 TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_write_size(&p.r, 0), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_next(&p.i), TN_NOISE_WRITE);
	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_READ);
	/* split, hash before completion */
	tn_noise_cipher tx, rx;
	uint8_t h[TN_NOISE_HASH];
	assert_int_equal(tn_noise_hs_split(&p.i, &tx, &rx), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_hash(&p.i, h), TN_ERR_STATE);
	/* the refused calls changed nothing: the handshake still completes */
	run_handshake(&p);
	/* after completion neither side may write or read */
	assert_int_equal(tn_noise_hs_write(&p.i, NULL, 0, msg, sizeof msg, &p.rand_i),
	                 TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_read(&p.r, msg, 100, pt, sizeof pt), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_set_ephemeral(&p.i, &(tn_noise_seckey){{1}}), TN_ERR_STATE);
	pair_free(&p);
}

/* Setting our ephemeral after it was drawn or sent is refused. */
static void set_ephemeral_only_before_use(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF];
	tn_noise_seckey e = {{5}};
	pair_init(&p, "Noise_NN_25519_ChaChaPoly_BLAKE2b");
	assert_int_equal(tn_noise_hs_set_ephemeral(&p.i, &e), TN_OK);
	assert_int_equal(tn_noise_hs_set_ephemeral(&p.i, &e), TN_ERR_STATE);
	(void)write_msg(&p, 0, msg, sizeof msg);
	/* the injected key is the one sent */
	tn_noise_keypair kp;
	assert_int_equal(tn_noise_keypair_from_secret(&kp, &e), TN_OK);
	assert_memory_equal(msg, kp.pub.b, TN_NOISE_DH);
	pair_free(&p);
}

/* After a failed read every call is refused and no secret is left. */
static void failed_read_leaves_state_failed(void **state)
{
	(void)state;
	pair p;
	uint8_t msg[BUF], bad[BUF], pt[BUF], h[TN_NOISE_HASH];
	tn_noise_cipher tx, rx;
	tn_noise_pubkey rs;
	pair_init(&p, "Noise_IK_25519_ChaChaPoly_BLAKE2b");
	size_t len = write_msg(&p, 0, msg, sizeof msg);
	memcpy(bad, msg, len);
	bad[40] ^= 0x80;
	assert_int_equal(tn_noise_hs_read(&p.r, bad, len, pt, sizeof pt), TN_ERR_AUTH);

	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_FAILED);
	assert_int_equal(tn_noise_hs_read(&p.r, msg, len, pt, sizeof pt), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_write(&p.r, NULL, 0, msg, sizeof msg, &p.rand_r),
	                 TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_split(&p.r, &tx, &rx), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_hash(&p.r, h), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_remote_static(&p.r, &rs), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_set_ephemeral(&p.r, &(tn_noise_seckey){{1}}), TN_ERR_STATE);
	/* wiped: only the status byte may be non-zero */
	tn_noise_hs wiped = p.r;
	wiped.status = 0;
	assert_true(sodium_is_zero((const unsigned char *)&wiped, sizeof wiped));
	pair_free(&p);
}

/* A too-small output buffer is refused before anything is consumed. */
static void nobuf_consumes_nothing(void **state)
{
	(void)state;
	pair p, ref;
	uint8_t msg[BUF], msg_ref[BUF], pt[BUF];
	pair_init(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	pair_init(&ref, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");

	tn_ssize need = tn_noise_hs_write_size(&p.i, sizeof test_payload);
	assert_int_equal(need, 32 + 16 + (tn_ssize)sizeof test_payload);
	assert_int_equal(tn_noise_hs_write(&p.i, test_payload, sizeof test_payload, msg,
	                                   (size_t)need - 1, &p.rand_i),
	                 TN_ERR_NOBUF);
	assert_int_equal(tn_noise_hs_next(&p.i), TN_NOISE_WRITE);
	/* same bytes as a twin that never saw the refusal */
	size_t len = write_msg(&p, 0, msg, (size_t)need);
	assert_int_equal(write_msg(&ref, 0, msg_ref, sizeof msg_ref), len);
	assert_memory_equal(msg, msg_ref, len);

	assert_int_equal(tn_noise_hs_read(&p.r, msg, len, pt, sizeof test_payload - 1),
	                 TN_ERR_NOBUF);
	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_READ);
	assert_int_equal(tn_noise_hs_read(&p.r, msg, len, pt, sizeof test_payload),
	                 (tn_ssize)sizeof test_payload);
	pass_msg(&p, 1);
	pass_msg(&p, 2);

	/* transport: encrypt and decrypt likewise, counter untouched */
	tn_noise_cipher itx, irx, rtx, rrx;
	assert_int_equal(tn_noise_hs_split(&p.i, &itx, &irx), TN_OK);
	assert_int_equal(tn_noise_hs_split(&p.r, &rtx, &rrx), TN_OK);
	assert_int_equal(tn_noise_cipher_encrypt(&itx, NULL, 0, test_payload, sizeof test_payload,
	                                         msg, sizeof test_payload + TN_NOISE_TAG - 1),
	                 TN_ERR_NOBUF);
	assert_int_equal(tn_noise_cipher_count(&itx), 0);
	tn_ssize n = tn_noise_cipher_encrypt(&itx, NULL, 0, test_payload, sizeof test_payload, msg,
	                                     sizeof msg);
	assert_int_equal(n, (tn_ssize)(sizeof test_payload + TN_NOISE_TAG));
	assert_int_equal(
	        tn_noise_cipher_decrypt(&rrx, NULL, 0, msg, (size_t)n, pt, sizeof test_payload - 1),
	        TN_ERR_NOBUF);
	assert_int_equal(tn_noise_cipher_count(&rrx), 0);
	assert_int_equal(tn_noise_cipher_decrypt(&rrx, NULL, 0, msg, (size_t)n, pt, sizeof pt),
	                 (tn_ssize)sizeof test_payload);
	tn_noise_cipher_free(&itx);
	tn_noise_cipher_free(&irx);
	tn_noise_cipher_free(&rtx);
	tn_noise_cipher_free(&rrx);
	pair_free(&p);
	pair_free(&ref);
}

/* Messages are capped at 65535 bytes both ways. */
static void message_size_limit(void **state)
{
	(void)state;
	pair p;
	uint8_t *big = calloc(1, TN_NOISE_MSG_MAX + 1);
	uint8_t *out = calloc(1, TN_NOISE_MSG_MAX + 1);
	assert_non_null(big);
	assert_non_null(out);
	pair_init(&p, "Noise_NN_25519_ChaChaPoly_BLAKE2b");
	/* NN message 1 is e + plaintext payload: 32 bytes of fields */
	assert_int_equal(tn_noise_hs_write(&p.i, big, TN_NOISE_MSG_MAX - 31, out,
	                                   TN_NOISE_MSG_MAX + 1, &p.rand_i),
	                 TN_ERR_LIMIT);
	assert_int_equal(tn_noise_hs_write_size(&p.i, TN_NOISE_MSG_MAX - 31), TN_ERR_LIMIT);
	tn_ssize n = tn_noise_hs_write(&p.i, big, TN_NOISE_MSG_MAX - 32, out, TN_NOISE_MSG_MAX,
	                               &p.rand_i);
	assert_int_equal(n, TN_NOISE_MSG_MAX);
	tn_noise_hs copy = p.r;
	assert_int_equal(
	        tn_noise_hs_read(&copy, out, TN_NOISE_MSG_MAX + 1, big, TN_NOISE_MSG_MAX + 1),
	        TN_ERR_LIMIT);
	assert_int_equal(tn_noise_hs_next(&copy), TN_NOISE_FAILED);
	assert_int_equal(tn_noise_hs_read(&p.r, out, TN_NOISE_MSG_MAX, big, TN_NOISE_MSG_MAX),
	                 TN_NOISE_MSG_MAX - 32);
	pass_msg(&p, 1);

	tn_noise_cipher tx, rx;
	assert_int_equal(tn_noise_hs_split(&p.i, &tx, &rx), TN_OK);
	assert_int_equal(tn_noise_cipher_encrypt(&tx, NULL, 0, big, TN_NOISE_PLAINTEXT_MAX + 1, out,
	                                         TN_NOISE_MSG_MAX + 1),
	                 TN_ERR_LIMIT);
	assert_int_equal(tn_noise_cipher_encrypt(&tx, NULL, 0, big, TN_NOISE_PLAINTEXT_MAX, out,
	                                         TN_NOISE_MSG_MAX),
	                 TN_NOISE_MSG_MAX);
	assert_int_equal(tn_noise_cipher_decrypt(&rx, NULL, 0, out, TN_NOISE_MSG_MAX + 1, big,
	                                         TN_NOISE_MSG_MAX + 1),
	                 TN_ERR_LIMIT);
	assert_int_equal(
	        tn_noise_cipher_decrypt(&rx, NULL, 0, out, TN_NOISE_TAG - 1, big, TN_NOISE_MSG_MAX),
	        TN_ERR_PROTO);
	tn_noise_cipher_free(&tx);
	tn_noise_cipher_free(&rx);
	pair_free(&p);
	free(big);
	free(out);
}

/* ---- After the handshake ---- */

/* Split pairs the ciphers, both sides agree on h, and each side learns the
 * other's static key. */
static void split_hash_and_remote_static(void **state)
{
	(void)state;
	pair p;
	uint8_t hi[TN_NOISE_HASH], hr[TN_NOISE_HASH], ct[BUF], pt[BUF];
	tn_noise_pubkey rs;
	tn_noise_cipher itx, irx, rtx, rrx;
	pair_init(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	pass_msg(&p, 0);
	assert_int_equal(tn_noise_hs_remote_static(&p.i, &rs), TN_ERR_STATE);
	pass_msg(&p, 1);
	/* the XX initiator knows the responder's key before sending its own */
	assert_int_equal(tn_noise_hs_remote_static(&p.i, &rs), TN_OK);
	assert_memory_equal(rs.b, keypair(0x22).pub.b, TN_NOISE_DH);
	assert_int_equal(tn_noise_hs_remote_static(&p.r, &rs), TN_ERR_STATE);
	pass_msg(&p, 2);

	assert_int_equal(tn_noise_hs_split(&p.i, &itx, &irx), TN_OK);
	assert_int_equal(tn_noise_hs_split(&p.r, &rtx, &rrx), TN_OK);
	assert_int_equal(tn_noise_hs_split(&p.r, &rtx, &rrx), TN_ERR_STATE);
	assert_int_equal(tn_noise_hs_next(&p.r), TN_NOISE_TRANSPORT);
	assert_int_equal(tn_noise_hs_hash(&p.i, hi), TN_OK);
	assert_int_equal(tn_noise_hs_hash(&p.r, hr), TN_OK);
	assert_memory_equal(hi, hr, sizeof hi);
	assert_int_equal(tn_noise_hs_remote_static(&p.r, &rs), TN_OK);
	assert_memory_equal(rs.b, keypair(0x11).pub.b, TN_NOISE_DH);

	/* both directions, with associated data, and in place */
	static const uint8_t ad[] = "ad";
	tn_ssize n = tn_noise_cipher_encrypt(&itx, ad, 2, test_payload, sizeof test_payload, ct,
	                                     sizeof ct);
	assert_int_equal(tn_noise_cipher_decrypt(&rrx, ad, 2, ct, (size_t)n, pt, sizeof pt),
	                 (tn_ssize)sizeof test_payload);
	memcpy(ct, test_payload, sizeof test_payload);
	n = tn_noise_cipher_encrypt(&rtx, NULL, 0, ct, sizeof test_payload, ct, sizeof ct);
	assert_int_equal(n, (tn_ssize)(sizeof test_payload + TN_NOISE_TAG));
	assert_int_equal(tn_noise_cipher_decrypt(&irx, NULL, 0, ct, (size_t)n, ct, sizeof ct),
	                 (tn_ssize)sizeof test_payload);
	assert_memory_equal(ct, test_payload, sizeof test_payload);
	/* a cipher never receives its own direction's traffic */
	n = tn_noise_cipher_encrypt(&itx, NULL, 0, test_payload, sizeof test_payload, ct,
	                            sizeof ct);
	assert_int_equal(tn_noise_cipher_decrypt(&irx, NULL, 0, ct, (size_t)n, pt, sizeof pt),
	                 TN_ERR_AUTH);

	tn_noise_cipher_free(&itx);
	tn_noise_cipher_free(&irx);
	tn_noise_cipher_free(&rtx);
	tn_noise_cipher_free(&rrx);
	pair_free(&p);
}

static void split_pair(const char *name, tn_noise_cipher *itx, tn_noise_cipher *rrx)
{
	pair p;
	tn_noise_cipher irx, rtx;
	pair_init(&p, name);
	run_handshake(&p);
	assert_int_equal(tn_noise_hs_split(&p.i, itx, &irx), TN_OK);
	assert_int_equal(tn_noise_hs_split(&p.r, &rtx, rrx), TN_OK);
	tn_noise_cipher_free(&irx);
	tn_noise_cipher_free(&rtx);
	pair_free(&p);
}

/* Rekey on both ends keeps the link working and changes the ciphertext;
 * a receiver that did not rekey can no longer decrypt. */
static void rekey_both_sides(void **state)
{
	(void)state;
	tn_noise_cipher tx, rx;
	uint8_t ct_old[BUF], ct_new[BUF], pt[BUF];
	split_pair("Noise_NN_25519_ChaChaPoly_BLAKE2b", &tx, &rx);

	tn_noise_cipher tx_norekey = tx, rx_norekey = rx;
	assert_int_equal(tn_noise_cipher_rekey(&tx), TN_OK);
	assert_int_equal(tn_noise_cipher_rekey(&rx), TN_OK);
	assert_int_equal(tn_noise_cipher_count(&tx), 0); /* the counter is kept */

	tn_ssize n = tn_noise_cipher_encrypt(&tx_norekey, NULL, 0, test_payload,
	                                     sizeof test_payload, ct_old, sizeof ct_old);
	tn_ssize m = tn_noise_cipher_encrypt(&tx, NULL, 0, test_payload, sizeof test_payload,
	                                     ct_new, sizeof ct_new);
	assert_int_equal(n, m);
	assert_memory_not_equal(ct_old, ct_new, (size_t)n);
	assert_int_equal(
	        tn_noise_cipher_decrypt(&rx_norekey, NULL, 0, ct_new, (size_t)m, pt, sizeof pt),
	        TN_ERR_AUTH);
	assert_int_equal(tn_noise_cipher_decrypt(&rx, NULL, 0, ct_new, (size_t)m, pt, sizeof pt),
	                 (tn_ssize)sizeof test_payload);
	assert_memory_equal(pt, test_payload, sizeof test_payload);
	/* and keeps working afterwards */
	m = tn_noise_cipher_encrypt(&tx, NULL, 0, test_payload, 3, ct_new, sizeof ct_new);
	assert_int_equal(tn_noise_cipher_decrypt(&rx, NULL, 0, ct_new, (size_t)m, pt, sizeof pt),
	                 3);

	tn_noise_cipher_free(&tx);
	tn_noise_cipher_free(&rx);
	tn_noise_cipher_free(&tx_norekey);
	tn_noise_cipher_free(&rx_norekey);
}

/* Nonce 2^64-1 is reserved: the message before it is the last one. */
static void nonce_exhaustion(void **state)
{
	(void)state;
	tn_noise_cipher tx, rx;
	uint8_t ct[BUF], pt[BUF];
	split_pair("Noise_NN_25519_ChaChaPoly_BLAKE2b", &tx, &rx);
	tn_noise_cipher_set_nonce(&tx, UINT64_MAX - 1);
	tn_noise_cipher_set_nonce(&rx, UINT64_MAX - 1);

	tn_ssize n = tn_noise_cipher_encrypt(&tx, NULL, 0, test_payload, 4, ct, sizeof ct);
	assert_int_equal(n, 4 + TN_NOISE_TAG);
	assert_int_equal(tn_noise_cipher_decrypt(&rx, NULL, 0, ct, (size_t)n, pt, sizeof pt), 4);
	assert_int_equal(tn_noise_cipher_encrypt(&tx, NULL, 0, test_payload, 4, ct, sizeof ct),
	                 TN_ERR_NONCE);
	assert_int_equal(tn_noise_cipher_decrypt(&rx, NULL, 0, ct, (size_t)n, pt, sizeof pt),
	                 TN_ERR_NONCE);
	assert_int_equal(tn_noise_cipher_count(&tx), UINT64_MAX);
	/* rekey does not reset the counter, so it does not revive the cipher */
	assert_int_equal(tn_noise_cipher_rekey(&tx), TN_OK);
	assert_int_equal(tn_noise_cipher_encrypt(&tx, NULL, 0, test_payload, 4, ct, sizeof ct),
	                 TN_ERR_NONCE);
	tn_noise_cipher_free(&tx);
	tn_noise_cipher_free(&rx);
}

/* A zeroed or freed cipher has no key: it refuses rather than pass
 * plaintext through. */
static void keyless_cipher_refuses(void **state)
{
	(void)state;
	tn_noise_cipher cs = {0};
	uint8_t buf[64];
	assert_int_equal(tn_noise_cipher_encrypt(&cs, NULL, 0, test_payload, 4, buf, sizeof buf),
	                 TN_ERR_STATE);
	assert_int_equal(tn_noise_cipher_decrypt(&cs, NULL, 0, buf, 32, buf, sizeof buf),
	                 TN_ERR_STATE);
	assert_int_equal(tn_noise_cipher_rekey(&cs), TN_ERR_STATE);
	assert_int_equal(tn_noise_cipher_encrypt(NULL, NULL, 0, test_payload, 4, buf, sizeof buf),
	                 TN_ERR_INVAL);
	/* partial overlap of in and out is refused */
	tn_noise_cipher tx, rx;
	split_pair("Noise_NN_25519_ChaChaPoly_BLAKE2b", &tx, &rx);
	assert_int_equal(tn_noise_cipher_encrypt(&tx, NULL, 0, buf, 8, buf + 1, sizeof buf - 1),
	                 TN_ERR_INVAL);
	tn_noise_cipher_free(&tx);
	assert_true(sodium_is_zero((const unsigned char *)&tx, sizeof tx));
	assert_int_equal(tn_noise_cipher_encrypt(&tx, NULL, 0, test_payload, 4, buf, sizeof buf),
	                 TN_ERR_STATE);
	tn_noise_cipher_free(&rx);
}

/* _free wipes the whole state, and split already drops the secrets the
 * caller no longer needs. */
static void free_wipes_everything(void **state)
{
	(void)state;
	pair p;
	tn_noise_cipher tx, rx;
	pair_init(&p, "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b");
	run_handshake(&p);
	assert_int_equal(tn_noise_hs_split(&p.i, &tx, &rx), TN_OK);
	assert_true(sodium_is_zero(p.i.ck, sizeof p.i.ck));
	assert_true(sodium_is_zero(p.i.s.sec.b, sizeof p.i.s.sec.b));
	assert_true(sodium_is_zero(p.i.e.sec.b, sizeof p.i.e.sec.b));
	assert_true(sodium_is_zero(p.i.psk.b, sizeof p.i.psk.b));
	assert_true(sodium_is_zero(p.i.cs.k, sizeof p.i.cs.k));
	tn_noise_hs_free(&p.i);
	tn_noise_hs_free(&p.r);
	assert_true(sodium_is_zero((const unsigned char *)&p.i, sizeof p.i));
	assert_true(sodium_is_zero((const unsigned char *)&p.r, sizeof p.r));
	tn_noise_hs_free(&p.i); /* twice is fine */
	tn_noise_hs_free(NULL);
	tn_noise_cipher_free(&tx);
	tn_noise_cipher_free(&rx);
	tn_noise_cipher_free(NULL);
}

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(published_vectors_pass),
	        cmocka_unit_test(hmac_and_hkdf_match_reference),
	        cmocka_unit_test(protocol_names_accepted),
	        cmocka_unit_test(protocol_names_rejected),
	        cmocka_unit_test(init_rejects_wrong_keys),
	        cmocka_unit_test(bitflip_xxpsk0_every_message),
	        cmocka_unit_test(bitflip_ik_every_message),
	        cmocka_unit_test(bitflip_kk_every_message),
	        cmocka_unit_test(bitflip_xx_messages_2_and_3),
	        cmocka_unit_test(bitflip_xx_message_1_caught_at_message_2),
	        cmocka_unit_test(truncation_xxpsk0_every_message),
	        cmocka_unit_test(truncation_ik_every_message),
	        cmocka_unit_test(truncation_kk_every_message),
	        cmocka_unit_test(truncation_xx_messages_2_and_3),
	        cmocka_unit_test(truncation_xx_message_1),
	        cmocka_unit_test(wrong_psk_rejected_at_message_1),
	        cmocka_unit_test(trial_decryption_under_two_psks),
	        cmocka_unit_test(snapshot_allows_retry),
	        cmocka_unit_test(xxpsk0_message_1_costs_no_dh),
	        cmocka_unit_test(empty_payloads_with_null_buffers),
	        cmocka_unit_test(low_order_ephemeral_in_read_fails_dh),
	        cmocka_unit_test(low_order_ephemeral_in_write_fails_dh),
	        cmocka_unit_test(low_order_remote_static_fails_dh),
	        cmocka_unit_test(out_of_turn_is_state_error),
	        cmocka_unit_test(set_ephemeral_only_before_use),
	        cmocka_unit_test(failed_read_leaves_state_failed),
	        cmocka_unit_test(nobuf_consumes_nothing),
	        cmocka_unit_test(message_size_limit),
	        cmocka_unit_test(split_hash_and_remote_static),
	        cmocka_unit_test(rekey_both_sides),
	        cmocka_unit_test(nonce_exhaustion),
	        cmocka_unit_test(keyless_cipher_refuses),
	        cmocka_unit_test(free_wipes_everything),
	};
	return cmocka_run_group_tests_name("noise", tests, setup, NULL);
}
