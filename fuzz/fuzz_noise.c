/* libFuzzer target: the Noise core as the responder of XXpsk0, then the
 * transport cipher of the split state.
 *
 * Input layout (every length big-endian; a length past the end of the input
 * takes what is left):
 *
 *   u16 len1, message 1 (len1 bytes)
 *   u16 len3, message 3 (len3 bytes)
 *   then transport frames until the input ends: u8 op, u16 len, len bytes
 *
 * The responder (fixed static key, PSK and prologue below) reads message 1,
 * writes message 2 with a deterministic tn_rand (so message 2, and hence a
 * valid message 3, are reproducible), reads message 3, splits, and feeds
 * each transport frame to tn_noise_cipher_decrypt on its receive cipher, in
 * the way op selects (see OP_*). Besides "no crash, no leak, no read out of
 * bounds" it checks the header's documented promises: the payload length,
 * TN_ERR_NOBUF consuming nothing, a failed decrypt leaving the nonce alone,
 * the remote static key after a complete handshake, and that a responder
 * holding another PSK never accepts the same message 1.
 *
 * The seed corpus (fuzz/corpus/noise/) is a real transcript made with the
 * same keys and fixed ephemerals, plus truncations of it. Regenerate it with
 *
 *   cc -std=c11 -DFUZZ_NOISE_MAKE_SEEDS -Iprotocol/include -Iprotocol \
 *      fuzz/fuzz_noise.c build/protocol/libtocsinproto.a -lsodium -o /tmp/mkseeds
 *   /tmp/mkseeds fuzz/corpus/noise
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/noise.h"
#include "test_rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PROTOCOL_NAME "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"

/* Abort on a broken promise: libFuzzer and the ASan replay both report it. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_noise: check failed line %d: %s\n", __LINE__,        \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

enum {
	OP_EXACT = 0,   /* decrypt into a separate buffer of exactly len - tag bytes */
	OP_INPLACE = 1, /* decrypt in place */
	OP_SHORT = 2,   /* cap one byte short: must be TN_ERR_NOBUF, nonce unchanged */
	OP_REKEY = 3,   /* tn_noise_cipher_rekey, then decrypt like OP_EXACT */
	OP_MASK = 3,
	MSG1_LEN = 32 + 45 + TN_NOISE_TAG, /* e + link payload + tag (docs/link.md) */
};

/* Fixed test keys. The public keys are written out, not derived, so that a
 * run does no scalar multiplication before message 1's MAC is checked; the
 * seed generator verifies them. */
static const uint8_t resp_sec[32] = {
        0xc8, 0x4f, 0x1d, 0x6e, 0x2a, 0x7b, 0x3c, 0x9d, 0x0e, 0x5f, 0x6a,
        0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93, 0xa4, 0xb5,
        0xc6, 0xd7, 0xe8, 0xf9, 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x6f,
};
static const uint8_t resp_pub[32] = {
        0x4a, 0x68, 0xa4, 0xe5, 0x4f, 0xc9, 0xf1, 0x79, 0xd4, 0x03, 0x20,
        0xb8, 0x70, 0xa0, 0xb7, 0x22, 0x44, 0xf9, 0xd5, 0xb4, 0xd1, 0xdc,
        0x18, 0x18, 0x95, 0x40, 0x13, 0x19, 0x5e, 0xcf, 0x1c, 0x1e,
};
static const uint8_t init_pub[32] = {
        0xe3, 0x71, 0x2d, 0x85, 0x1a, 0x0e, 0x5d, 0x79, 0xb8, 0x31, 0xc5,
        0xe3, 0x4a, 0xb2, 0x2b, 0x41, 0xa1, 0x98, 0x17, 0x1d, 0xe2, 0x09,
        0xb8, 0xb8, 0xfa, 0xca, 0x23, 0xa1, 0x1c, 0x62, 0x48, 0x59,
};
static const uint8_t prologue[24] = {
        't',  'o',  'c',  's',  'i',  'n',  '/',  '1',  0x00, 0x11, 0x22, 0x33,
        0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
#define PSK_FILL     0x5f
#define BAD_PSK_FILL 0x60


/* ---- Input reader ---- */

typedef struct input {
	const uint8_t *p;
	size_t left;
} input;

static size_t take_len(input *in)
{
	if (in->left < 2) {
		in->left = 0;
		return 0;
	}
	size_t n = (size_t)in->p[0] << 8 | in->p[1];
	in->p += 2;
	in->left -= 2;
	return n;
}

/* The next n bytes, or what is left if fewer. */
static const uint8_t *take(input *in, size_t *n)
{
	const uint8_t *p = in->p;
	if (*n > in->left)
		*n = in->left;
	in->p += *n;
	in->left -= *n;
	return p;
}

/* ---- The responder ---- */

typedef struct ctx {
	tn_noise_protocol proto;
	tn_noise_keypair s;
	tn_noise_psk psk;
	tn_noise_hs hs;
	tn_noise_cipher tx, rx;
	uint8_t buf[TN_NOISE_MSG_MAX];
	uint8_t out[TN_NOISE_MSG_MAX];
} ctx;

static void responder_init(ctx *c, uint8_t psk_fill)
{
	memcpy(c->s.sec.b, resp_sec, sizeof resp_sec);
	memcpy(c->s.pub.b, resp_pub, sizeof resp_pub);
	memset(c->psk.b, psk_fill, sizeof c->psk.b);
	CHECK(tn_noise_protocol_parse(PROTOCOL_NAME, &c->proto) == TN_OK);
	CHECK(tn_noise_hs_init(&c->hs, &c->proto, TN_NOISE_RESPONDER, prologue, sizeof prologue,
	                       &c->s, NULL, &c->psk) == TN_OK);
}

/* -> psk, e: returns true if accepted. Also tries the buffer-too-small path
 * on a snapshot, and a responder holding another PSK. */
static int read_msg1(ctx *c, const uint8_t *m, size_t len)
{
	tn_noise_hs trial = c->hs;
	tn_ssize small = tn_noise_hs_read(&trial, m, len, c->out, 0);
	if (small == TN_ERR_NOBUF)
		CHECK(tn_noise_hs_next(&trial) == TN_NOISE_READ); /* nothing consumed */
	tn_noise_hs_free(&trial);

	tn_ssize n = tn_noise_hs_read(&c->hs, m, len, c->out, sizeof c->out);
	if (n < 0) {
		CHECK(tn_noise_hs_next(&c->hs) == TN_NOISE_FAILED);
		return 0;
	}
	CHECK((size_t)n + TN_NOISE_DH + TN_NOISE_TAG == len);
	CHECK(n == 0 || small == TN_ERR_NOBUF);
	CHECK(tn_noise_hs_next(&c->hs) == TN_NOISE_WRITE);

	/* The PSK is mixed before e: without it the MAC cannot verify. */
	ctx *bad = malloc(sizeof *bad);
	CHECK(bad != NULL);
	responder_init(bad, BAD_PSK_FILL);
	CHECK(tn_noise_hs_read(&bad->hs, m, len, bad->out, sizeof bad->out) == TN_ERR_AUTH);
	tn_noise_hs_free(&bad->hs);
	sodium_memzero(bad, sizeof *bad);
	free(bad);
	return 1;
}

/* <- e, ee, s, es with an empty payload, then -> s, se. */
static int finish_handshake(ctx *c, const uint8_t *m3, size_t len3)
{
	test_rng rng;
	tn_rand rand = test_rng_seed(&rng, 0x7e);
	tn_ssize n = tn_noise_hs_write(&c->hs, NULL, 0, c->buf, sizeof c->buf, &rand);
	if (n < 0)
		return 0; /* TN_ERR_DH: a low-order ephemeral behind a valid MAC */
	CHECK(n == TN_NOISE_DH + TN_NOISE_DH + TN_NOISE_TAG + TN_NOISE_TAG);
	n = tn_noise_hs_read(&c->hs, m3, len3, c->out, sizeof c->out);
	if (n < 0) {
		CHECK(tn_noise_hs_next(&c->hs) == TN_NOISE_FAILED);
		return 0;
	}
	CHECK((size_t)n + TN_NOISE_DH + 2 * TN_NOISE_TAG == len3);
	CHECK(tn_noise_hs_next(&c->hs) == TN_NOISE_SPLIT);
	tn_noise_pubkey rs;
	uint8_t h[TN_NOISE_HASH];
	CHECK(tn_noise_hs_remote_static(&c->hs, &rs) == TN_OK);
	CHECK(sodium_memcmp(rs.b, init_pub, sizeof rs.b) == 0);
	CHECK(tn_noise_hs_split(&c->hs, &c->tx, &c->rx) == TN_OK);
	CHECK(tn_noise_hs_hash(&c->hs, h) == TN_OK);
	return 1;
}

/* One transport frame through the receive cipher. Returns 0 to stop (the
 * link would be closed after a failed decrypt). */
static int transport_frame(ctx *c, uint8_t op, const uint8_t *m, size_t len)
{
	uint64_t before = tn_noise_cipher_count(&c->rx);
	size_t want = len >= TN_NOISE_TAG ? len - TN_NOISE_TAG : 0;
	tn_ssize n;
	switch (op & OP_MASK) {
	case OP_INPLACE:
		memcpy(c->buf, m, len);
		n = tn_noise_cipher_decrypt(&c->rx, NULL, 0, c->buf, len, c->buf, sizeof c->buf);
		break;
	case OP_SHORT:
		if (want == 0)
			return 1;
		n = tn_noise_cipher_decrypt(&c->rx, NULL, 0, m, len, c->out, want - 1);
		CHECK(n == TN_ERR_NOBUF);
		CHECK(tn_noise_cipher_count(&c->rx) == before);
		return 1;
	case OP_REKEY:
		CHECK(tn_noise_cipher_rekey(&c->rx) == TN_OK);
		CHECK(tn_noise_cipher_count(&c->rx) == before);
		n = tn_noise_cipher_decrypt(&c->rx, NULL, 0, m, len, c->out, want);
		break;
	default: n = tn_noise_cipher_decrypt(&c->rx, NULL, 0, m, len, c->out, want); break;
	}
	if (n < 0) {
		CHECK(n == (len < TN_NOISE_TAG ? TN_ERR_PROTO : TN_ERR_AUTH));
		CHECK(tn_noise_cipher_count(&c->rx) == before);
		return 0;
	}
	CHECK((size_t)n == want);
	CHECK(tn_noise_cipher_count(&c->rx) == before + 1);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sodium_init() < 0)
		abort();
	ctx *c = calloc(1, sizeof *c); /* ~130 KiB: not on the fuzzer's stack */
	CHECK(c != NULL);
	input in = {.p = data, .left = size};
	size_t len1 = take_len(&in);
	const uint8_t *m1 = take(&in, &len1);
	size_t len3 = take_len(&in);
	const uint8_t *m3 = take(&in, &len3);

	responder_init(c, PSK_FILL);
	if (!read_msg1(c, m1, len1) || !finish_handshake(c, m3, len3))
		goto out;

	/* A cipher that never had a key refuses any well-sized message. */
	tn_noise_cipher none;
	memset(&none, 0, sizeof none);
	if (in.left >= TN_NOISE_TAG && in.left <= TN_NOISE_MSG_MAX)
		CHECK(tn_noise_cipher_decrypt(&none, NULL, 0, in.p, in.left, c->out,
		                              sizeof c->out) == TN_ERR_STATE);

	while (in.left > 0) {
		uint8_t op = in.p[0];
		in.p++;
		in.left--;
		size_t len = take_len(&in);
		const uint8_t *m = take(&in, &len);
		if (!transport_frame(c, op, m, len))
			break;
	}
out:
	tn_noise_hs_free(&c->hs);
	tn_noise_cipher_free(&c->tx);
	tn_noise_cipher_free(&c->rx);
	sodium_memzero(c, sizeof *c);
	free(c);
	return 0;
}

#ifdef FUZZ_NOISE_MAKE_SEEDS
/* ---- Seed generator (not part of the fuzz build; see the top comment) ---- */

/* Only the initiator needs its secret; the harness plays the responder. */
static const uint8_t init_sec[32] = {
        0xa8, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0x6b,
};

typedef struct seed {
	uint8_t b[4096];
	size_t len;
} seed;

static void put_len(seed *s, size_t n)
{
	s->b[s->len++] = (uint8_t)(n >> 8);
	s->b[s->len++] = (uint8_t)n;
}

static void put(seed *s, const uint8_t *p, size_t n)
{
	CHECK(s->len + n <= sizeof s->b);
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void put_frame(seed *s, uint8_t op, tn_noise_cipher *tx, size_t ptlen)
{
	uint8_t pt[64], ct[64 + TN_NOISE_TAG];
	CHECK(ptlen <= sizeof pt);
	memset(pt, 'a' + op, ptlen);
	tn_ssize n = tn_noise_cipher_encrypt(tx, NULL, 0, pt, ptlen, ct, sizeof ct);
	CHECK(n == (tn_ssize)(ptlen + TN_NOISE_TAG));
	s->b[s->len++] = op;
	put_len(s, (size_t)n);
	put(s, ct, (size_t)n);
}

static void write_seed(const char *dir, const char *name, const seed *s, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(fwrite(s->b, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

/* The initiator's side of the transcript the harness's responder expects. */
static void make_transcript(seed *s, size_t *at_msg3, size_t *at_transport)
{
	tn_noise_protocol proto;
	tn_noise_keypair is, rs;
	tn_noise_seckey sk, e;
	tn_noise_psk psk;
	tn_noise_hs i, r;
	tn_noise_cipher itx, irx, rtx, rrx;
	uint8_t m[256], pl[64];
	test_rng rng;
	tn_rand rand = test_rng_seed(&rng, 0x7e); /* the responder's, as in the harness */

	memcpy(sk.b, init_sec, 32);
	CHECK(tn_noise_keypair_from_secret(&is, &sk) == TN_OK);
	CHECK(sodium_memcmp(is.pub.b, init_pub, 32) == 0);
	memcpy(sk.b, resp_sec, 32);
	CHECK(tn_noise_keypair_from_secret(&rs, &sk) == TN_OK);
	CHECK(sodium_memcmp(rs.pub.b, resp_pub, 32) == 0);
	memset(psk.b, PSK_FILL, sizeof psk.b);
	memset(e.b, 0x42, sizeof e.b);
	CHECK(tn_noise_protocol_parse(PROTOCOL_NAME, &proto) == TN_OK);
	CHECK(tn_noise_hs_init(&i, &proto, TN_NOISE_INITIATOR, prologue, sizeof prologue, &is, NULL,
	                       &psk) == TN_OK);
	CHECK(tn_noise_hs_init(&r, &proto, TN_NOISE_RESPONDER, prologue, sizeof prologue, &rs, NULL,
	                       &psk) == TN_OK);
	CHECK(tn_noise_hs_set_ephemeral(&i, &e) == TN_OK);

	/* Message 1 carries a link-sized payload (45 bytes), message 3 "[1]". */
	memset(pl, 0x01, 45);
	tn_ssize n = tn_noise_hs_write(&i, pl, 45, m, sizeof m, NULL);
	CHECK(n == MSG1_LEN);
	put_len(s, (size_t)n);
	put(s, m, (size_t)n);
	CHECK(tn_noise_hs_read(&r, m, (size_t)n, pl, sizeof pl) == 45);
	*at_msg3 = s->len;
	n = tn_noise_hs_write(&r, NULL, 0, m, sizeof m, &rand);
	CHECK(n > 0 && tn_noise_hs_read(&i, m, (size_t)n, pl, sizeof pl) == 0);
	n = tn_noise_hs_write(&i, (const uint8_t *)"\x91\x01", 2, m, sizeof m, NULL);
	CHECK(n > 0);
	put_len(s, (size_t)n);
	put(s, m, (size_t)n);
	CHECK(tn_noise_hs_read(&r, m, (size_t)n, pl, sizeof pl) == 2);
	CHECK(tn_noise_hs_split(&i, &itx, &irx) == TN_OK);
	CHECK(tn_noise_hs_split(&r, &rtx, &rrx) == TN_OK);
	*at_transport = s->len;

	/* Nonces 0, 1; a short-buffer try at 2 (consumes nothing); 2 again;
	 * then a rekey on both ends and nonce 3. */
	put_frame(s, OP_EXACT, &itx, 20);
	put_frame(s, OP_INPLACE, &itx, 0);
	tn_noise_cipher snap = itx;
	put_frame(s, OP_SHORT, &snap, 33);
	put_frame(s, OP_EXACT, &itx, 33);
	CHECK(tn_noise_cipher_rekey(&itx) == TN_OK);
	put_frame(s, OP_REKEY, &itx, 7);

	tn_noise_hs_free(&i);
	tn_noise_hs_free(&r);
	tn_noise_cipher_free(&snap);
	tn_noise_cipher_free(&itx);
	tn_noise_cipher_free(&irx);
	tn_noise_cipher_free(&rtx);
	tn_noise_cipher_free(&rrx);
}

int main(int argc, char **argv)
{
	seed s = {.len = 0};
	size_t at3 = 0, at_t = 0;
	CHECK(argc == 2 && sodium_init() >= 0);
	make_transcript(&s, &at3, &at_t);
	write_seed(argv[1], "transcript", &s, s.len);
	write_seed(argv[1], "handshake-only", &s, at_t);
	write_seed(argv[1], "msg1-only", &s, at3);
	write_seed(argv[1], "trunc-len1", &s, 1);
	write_seed(argv[1], "trunc-msg1", &s, 2 + 40);
	write_seed(argv[1], "trunc-len3", &s, at3 + 1);
	write_seed(argv[1], "trunc-msg3", &s, at3 + 2 + 50);
	write_seed(argv[1], "trunc-transport", &s, at_t + 3 + 10);
	write_seed(argv[1], "trunc-last-byte", &s, s.len - 1);
	return 0;
}
#endif
