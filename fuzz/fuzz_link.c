/* The link state machine on hostile input (docs/link.md), in both roles.
 *
 * An input whose first byte is not 0xff drives a responder link:
 * 1. A responder link is fed the whole input in chunks whose sizes come
 *    from the first two bytes. It must never write a byte unless the input
 *    began with a message 1 that an independent check (raw Noise + codec +
 *    the identity's signature + the harness's roster) finds valid: abort()
 *    otherwise.
 * 2. A responder link is handshaken with a raw Noise initiator held by the
 *    harness, then the input is read as operations on the established
 *    link: raw bytes, authentic frames of fuzz plaintext, our own rekey,
 *    ticks, sends and flushes.
 * An input 0xff || rest drives an initiator link with rest:
 * 3. An initiator link writes message 1, then is fed rest as message 2 and
 *    beyond, chunked as in 1. It must never report ESTABLISHED nor write a
 *    byte after message 1 unless rest began with a message 2 that an
 *    independent check finds valid: a raw Noise initiator held by the
 *    harness, rebuilt to write the link's message 1 bit for bit, reads it
 *    and finds the payload strict and the responder's static key the one
 *    the link meant to reach.
 * 4. An initiator link is handshaken with a raw Noise responder held by the
 *    harness, then rest is read as the operations of 2.
 * Fixed keys, a fixed wall clock (FUZZ_WALL) and seeded generators, so
 * the seed corpus's valid message 1 and message 2 (written by test_link
 * --write-corpus) stay valid. Never crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/codec.h"
#include "tocsin/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_WALL UINT64_C(1718000000000)
#define FUZZ_T0   (1000 * TN_SEC)

/* ChaCha20 keystream under key, one nonce per draw (the same generator as
 * tests/unit/test_link.c). Keeps the first 32-byte draws: one of them is an
 * initiator link's ephemeral secret, which the harness's mirror needs. */
enum { DRAWS = 4 };
typedef struct rng {
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint64_t ctr;
	unsigned ndraw;
	uint8_t draw[DRAWS][32];
} rng;

static void rand_fn(void *ud, uint8_t *buf, size_t len)
{
	rng *r = ud;
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
	memcpy(nonce, &r->ctr, sizeof r->ctr);
	r->ctr++;
	crypto_stream_chacha20(buf, len, nonce, r->key);
	if (len == 32 && r->ndraw < DRAWS)
		memcpy(r->draw[r->ndraw++], buf, 32);
}

typedef struct keys {
	const tn_identity *member; /* the roster's one member, with link key i */
	tn_noise_keypair i, r;
	tn_noise_psk psk, prev;
	uint8_t netid[TN_NETWORK_ID];
	uint8_t prologue[24];
} keys;

static void fill_rand(void *ud, uint8_t *buf, size_t len)
{
	memset(buf, *(const uint8_t *)ud, len);
}

/* The same fixed keys as tests/unit/test_link.c (identity: 64 bytes of
 * 0x13, made once per process). */
static void make_keys(keys *k)
{
	static tn_identity *member;
	static const uint8_t v = 0x13;
	if (!member && tn_identity_new(&member, &(tn_rand){.fn = fill_rand, .ud = (void *)&v}))
		abort();
	k->member = member;
	tn_noise_seckey s;
	memset(s.b, 0x11, sizeof s.b);
	if (tn_noise_keypair_from_secret(&k->i, &s))
		abort();
	memset(s.b, 0x22, sizeof s.b);
	if (tn_noise_keypair_from_secret(&k->r, &s))
		abort();
	memset(k->psk.b, 0x33, sizeof k->psk.b);
	memset(k->prev.b, 0x44, sizeof k->prev.b);
	memset(k->netid, 0x55, sizeof k->netid);
	memcpy(k->prologue, "tocsin/1", 8);
	memcpy(k->prologue + 8, k->netid, 16);
}

/* The harness's roster: only k->member, with link static k->i. */
static bool roster_member(void *ud, const tn_pubkey *id, tn_link_psk_used psk,
                          const tn_noise_pubkey *link_static)
{
	const keys *k = ud;
	(void)psk;
	return tn_pubkey_eq(id, tn_identity_pubkey(k->member)) &&
	       (!link_static || sodium_memcmp(link_static->b, k->i.pub.b, 32) == 0);
}

/* What both roles share: the network, the current PSK, the generator. */
static tn_link_config base_config(const keys *k, rng *r, tn_noise_role role)
{
	tn_link_config c;
	tn_link_config_default(&c);
	c.role = role;
	c.static_key = role == TN_NOISE_RESPONDER ? k->r : k->i;
	memcpy(c.network_id, k->netid, sizeof c.network_id);
	c.psk = k->psk;
	c.rand = (tn_rand){.fn = rand_fn, .ud = r};
	return c;
}

static tn_link *responder(const keys *k, rng *r, tn_replay_cache *cache)
{
	tn_link_config c = base_config(k, r, TN_NOISE_RESPONDER);
	c.has_prev_psk = true;
	c.prev_psk = k->prev;
	c.replay = cache;
	c.member = roster_member;
	c.member_ud = (void *)k;
	tn_link *l;
	if (tn_link_new(&l, &c) || tn_link_start(l, FUZZ_T0, FUZZ_WALL))
		abort();
	return l;
}

/* Drain the events; returns how many were ESTABLISHED. A message is
 * delivered only if it decodes: never a type this version does not know
 * (the link drops the ignorable ones). */
static unsigned drain(tn_link *l)
{
	tn_link_event ev;
	unsigned est = 0;
	while (tn_link_poll_event(l, &ev)) {
		tn_link_msg m;
		if (ev.type == TN_LINK_EV_MESSAGE &&
		    (ev.len == 0 || ev.len > TN_LINK_PLAINTEXT_MAX ||
		     tn_link_decode(&m, ev.msg, ev.len) != TN_OK))
			abort();
		est += ev.type == TN_LINK_EV_ESTABLISHED;
	}
	return est;
}

/* Independent judgement of the first frame, with nothing from link.c. */
static int psk_opens(const keys *k, const tn_noise_psk *psk, const uint8_t *m, uint8_t *pt)
{
	tn_noise_protocol proto;
	tn_noise_hs hs;
	if (tn_noise_protocol_parse("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", &proto) ||
	    tn_noise_hs_init(&hs, &proto, TN_NOISE_RESPONDER, k->prologue, sizeof k->prologue,
	                     &k->r, NULL, psk))
		abort();
	tn_ssize n = tn_noise_hs_read(&hs, m, 193, pt, 160);
	tn_noise_hs_free(&hs);
	return (int)n;
}

/* "tocsin/1 hello" || network id || e || responder hash || timestamp BE. */
static void hello_bytes(const keys *k, const uint8_t *e, const tn_hs1_payload *p, uint8_t b[102])
{
	memcpy(b, "tocsin/1 hello", 14);
	memcpy(b + 14, k->netid, 16);
	memcpy(b + 30, e, 32);
	memcpy(b + 62, p->responder_hash, 32);
	for (int i = 0; i < 8; i++)
		b[94 + i] = (uint8_t)(p->timestamp_ms >> (56 - 8 * i));
}

static int valid_msg1(const keys *k, const uint8_t *d, size_t n)
{
	if (n < 195 || d[0] != 0 || d[1] != 193)
		return 0;
	uint8_t pt[160], hash[32], signed_bytes[102];
	int len = psk_opens(k, &k->psk, d + 2, pt);
	if (len < 0)
		len = psk_opens(k, &k->prev, d + 2, pt);
	tn_hs1_payload p;
	if (len < 0 || tn_hs1_decode(&p, pt, (size_t)len))
		return 0;
	crypto_generichash(hash, sizeof hash, k->r.pub.b, 32, NULL, 0);
	uint64_t age = p.timestamp_ms > FUZZ_WALL ? p.timestamp_ms - FUZZ_WALL
	                                          : FUZZ_WALL - p.timestamp_ms;
	if (memcmp(hash, p.responder_hash, 32) != 0 || age > TN_HS_MSG1_MAX_AGE / TN_MSEC)
		return 0;
	hello_bytes(k, d + 2, &p, signed_bytes);
	return memcmp(p.identity, tn_identity_pubkey(k->member)->b, 32) == 0 &&
	       crypto_sign_verify_detached(p.sig, signed_bytes, sizeof signed_bytes, p.identity) ==
	               0;
}

/* Feed in[0..n) in chunks of 1..128 bytes chosen from state, ticking a
 * little between chunks. Unless the harness's independent check allowed
 * the handshake's first message in (message 1 for a responder, message 2
 * for an initiator), the link must not report ESTABLISHED nor write a
 * single byte (an initiator's message 1 was taken out before). */
static void feed_hostile(tn_link *l, uint32_t state, const uint8_t *in, size_t n, int allowed)
{
	tn_time now = FUZZ_T0;
	uint8_t out[512];
	size_t off = 0;
	while (off < n) {
		state = state * 1103515245u + 12345u;
		size_t c = 1 + (state >> 16) % 128;
		if (c > n - off)
			c = n - off;
		size_t fed = 0;
		while (fed < c) {
			tn_ssize got = tn_link_recv(l, in + off + fed, c - fed, now, FUZZ_WALL);
			if (got < 0)
				abort();
			fed += (size_t)got;
			if (drain(l) && !allowed)
				abort(); /* established without a valid first message */
		}
		off += c;
		now += (state & 0xff) * TN_MSEC * 10;
		tn_link_tick(l, now);
		if (drain(l) && !allowed)
			abort();
		tn_ssize w = tn_link_out(l, out, sizeof out, now);
		if (w < 0 || (w > 0 && !allowed))
			abort(); /* a byte out without a valid first message */
	}
}

/* 1: the input after its two chunk bytes (state) as message 1 and beyond. */
static void part_responder(const keys *k, uint32_t state, const uint8_t *in, size_t n)
{
	rng r = {.key = {7}};
	tn_replay_cache *cache;
	if (tn_replay_cache_new(&cache, 16))
		abort();
	tn_link *l = responder(k, &r, cache);
	int allowed = valid_msg1(k, in, n);
	feed_hostile(l, state, in, n, allowed);
	tn_link_del(l);
	tn_replay_cache_del(cache);
}

/* A raw Noise initiator (k->i, the member's identity, the current PSK)
 * with ephemeral secret esec writes message 1 into m[0..193); hs is left
 * ready for message 2 (the caller frees it). 0 on success. */
static int raw_msg1(const keys *k, const tn_noise_seckey *esec, tn_noise_hs *hs, uint8_t m[193])
{
	tn_noise_protocol proto;
	tn_noise_keypair e;
	tn_sig sig;
	uint8_t pl[160], signed_bytes[102];
	tn_hs1_payload h = {.timestamp_ms = FUZZ_WALL};
	crypto_generichash(h.responder_hash, 32, k->r.pub.b, 32, NULL, 0);
	if (tn_noise_protocol_parse("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", &proto) ||
	    tn_noise_hs_init(hs, &proto, TN_NOISE_INITIATOR, k->prologue, sizeof k->prologue, &k->i,
	                     NULL, &k->psk) ||
	    tn_noise_keypair_from_secret(&e, esec) || tn_noise_hs_set_ephemeral(hs, esec))
		abort();
	hello_bytes(k, e.pub.b, &h, signed_bytes);
	if (tn_identity_sign(k->member, signed_bytes, sizeof signed_bytes, &sig))
		abort();
	memcpy(h.identity, tn_identity_pubkey(k->member)->b, 32);
	memcpy(h.sig, sig.b, 64);
	rng none = {.key = {0}}; /* the ephemeral is set: nothing is drawn */
	tn_rand rand = {.fn = rand_fn, .ud = &none};
	tn_ssize n = tn_hs1_encode(&h, pl, sizeof pl);
	return n > 0 && tn_noise_hs_write(hs, pl, (size_t)n, m, 193, &rand) == 193 ? 0 : -1;
}

/* Raw initiator handshake against a responder link; 0 on success. */
static int raw_handshake(const keys *k, tn_link *l, rng *r, tn_noise_cipher *tx,
                         tn_noise_cipher *rx)
{
	tn_noise_hs hs;
	tn_rand rand = {.fn = rand_fn, .ud = r};
	uint8_t pl[160], m[256];
	int rc = -1;
	tn_noise_seckey esec;
	rand_fn(r, esec.b, sizeof esec.b);
	if (raw_msg1(k, &esec, &hs, m + 2))
		goto out;
	m[0] = 0;
	m[1] = 193;
	if (tn_link_recv(l, m, 195, FUZZ_T0, FUZZ_WALL) != 195 ||
	    tn_link_out(l, m, sizeof m, FUZZ_T0) != 100 ||
	    tn_noise_hs_read(&hs, m + 2, 98, pl, sizeof pl) != 2)
		goto out;
	static const uint8_t hs23[] = {0x91, 0x01};
	if (tn_noise_hs_write(&hs, hs23, 2, m + 2, 66, &rand) != 66)
		goto out;
	m[1] = 66;
	if (tn_link_recv(l, m, 68, FUZZ_T0, FUZZ_WALL) != 68 || !tn_link_is_established(l) ||
	    tn_noise_hs_split(&hs, tx, rx))
		goto out;
	rc = 0;
out:
	tn_noise_hs_free(&hs);
	return rc;
}

static void feed_all(tn_link *l, const uint8_t *p, size_t n, tn_time now)
{
	while (n > 0) {
		tn_ssize got = tn_link_recv(l, p, n, now, FUZZ_WALL);
		if (got < 0)
			abort();
		p += got;
		n -= (size_t)got;
		drain(l);
	}
}

/* Whatever the link writes must be whole frames that decrypt under our rx
 * in order, strict link messages, REKEY switching the key, nothing after a
 * CLOSE. */
typedef struct out_checker {
	uint8_t buf[TN_FRAME_HDR + TN_FRAME_MAX];
	size_t have;
	int closed;
} out_checker;

static void check_output(out_checker *ck, tn_noise_cipher *rx, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (ck->closed)
			abort();
		size_t need = ck->have < 2 ? 2 : 2 + ((size_t)ck->buf[0] << 8 | ck->buf[1]);
		size_t c = need - ck->have < n ? need - ck->have : n;
		memcpy(ck->buf + ck->have, p, c);
		ck->have += c;
		p += c;
		n -= c;
		if (ck->have < 2 || ck->have < 2 + ((size_t)ck->buf[0] << 8 | ck->buf[1]))
			continue;
		size_t flen = ck->have - 2;
		ck->have = 0;
		tn_ssize m =
		        tn_noise_cipher_decrypt(rx, NULL, 0, ck->buf + 2, flen, ck->buf + 2, flen);
		tn_link_msg msg;
		if (m <= 0 || tn_link_decode(&msg, ck->buf + 2, (size_t)m))
			abort();
		if (msg.type == TN_LINK_REKEY && tn_noise_cipher_rekey(rx))
			abort();
		if (msg.type == TN_LINK_CLOSE)
			ck->closed = 1;
	}
}

/* Operations: [op][len][len bytes]:
 *   op%6 == 0 raw bytes to the link     1 an authentic frame of the bytes
 *   2 REKEY message then our tx rekey   3 tick after len * 1 s
 *   4 the link sends the bytes          5 our own CLOSE(bytes[0])  */
static void run_ops(tn_link *l, tn_noise_cipher *tx, tn_noise_cipher *rx, const uint8_t *data,
                    size_t size)
{
	static uint8_t f[TN_FRAME_HDR + 256 + TN_NOISE_TAG];
	uint8_t out[4096];
	tn_time now = FUZZ_T0;
	size_t off = 0;
	static out_checker ck;
	ck.have = 0;
	ck.closed = 0;
	while (off + 2 <= size) {
		uint8_t op = data[off] % 6;
		size_t len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		const uint8_t *b = data + off;
		off += len;
		switch (op) {
		case 0: feed_all(l, b, len, now); break;
		case 1:
		case 2:
		case 5: {
			static const uint8_t rekey[] = {0x91, 0x09};
			uint8_t close[] = {0x92, 0x02, len ? (uint8_t)(b[0] & 0x7f) : 0};
			const uint8_t *pt = op == 1 ? b : op == 2 ? rekey : close;
			size_t pn = op == 1 ? len : op == 2 ? sizeof rekey : sizeof close;
			tn_ssize c =
			        tn_noise_cipher_encrypt(tx, NULL, 0, pt, pn, f + 2, sizeof f - 2);
			if (c < 0)
				abort();
			f[0] = (uint8_t)(c >> 8);
			f[1] = (uint8_t)c;
			feed_all(l, f, (size_t)c + 2, now);
			if (op == 2 && tn_noise_cipher_rekey(tx))
				abort();
			break;
		}
		case 3:
			now += len * TN_SEC;
			tn_link_tick(l, now);
			drain(l);
			break;
		case 4: {
			tn_err rc =
			        tn_link_send(l, b, len, len & 1 ? TN_LINK_SEND_PRIORITY : 0, now);
			if (tn_err_is_fatal(rc))
				abort();
			break;
		}
		}
		tn_ssize w;
		while ((w = tn_link_out(l, out, sizeof out, now)) > 0)
			check_output(&ck, rx, out, (size_t)w);
		if (w < 0)
			abort();
		if (tn_link_next_deadline(l) < now && tn_link_is_established(l))
			abort(); /* a deadline in the past would spin the event loop */
	}
}

static void part_established(const keys *k, const uint8_t *data, size_t size)
{
	rng r = {.key = {9}};
	tn_replay_cache *cache;
	if (tn_replay_cache_new(&cache, 16))
		abort();
	tn_link *l = responder(k, &r, cache);
	tn_noise_cipher tx, rx;
	memset(&tx, 0, sizeof tx);
	memset(&rx, 0, sizeof rx);
	if (raw_handshake(k, l, &r, &tx, &rx))
		abort();
	drain(l);
	run_ops(l, &tx, &rx, data, size);
	tn_noise_cipher_free(&tx);
	tn_noise_cipher_free(&rx);
	tn_link_del(l);
	tn_replay_cache_del(cache);
}

/* ---- the initiator role ------------------------------------------------ */

/* An initiator link as the node dials the responder k->r: our static k->i,
 * identity k->member, the current PSK; started at FUZZ_T0 / FUZZ_WALL. Its
 * message 1 (with the frame prefix) is taken out into m1. */
static tn_link *initiator(const keys *k, rng *r, uint8_t m1[195])
{
	tn_link_config c = base_config(k, r, TN_NOISE_INITIATOR);
	c.expected_remote = k->r.pub;
	c.identity = k->member;
	tn_link *l;
	if (tn_link_new(&l, &c) || tn_link_start(l, FUZZ_T0, FUZZ_WALL) ||
	    tn_link_out(l, m1, 195, FUZZ_T0) != 195 || m1[0] != 0 || m1[1] != 193)
		abort();
	uint8_t more[1];
	if (tn_link_out(l, more, sizeof more, FUZZ_T0) != 0)
		abort(); /* message 1 and nothing else */
	return l;
}

/* A raw Noise initiator that writes exactly the link's message 1: same
 * keys, PSK and signed payload, and the ephemeral the link drew (one of the
 * generator's recorded draws; the match proves which). 0 when found. */
static int mirror_initiator(const keys *k, const rng *r, const uint8_t m1[195], tn_noise_hs *hs)
{
	for (unsigned d = 0; d < r->ndraw; d++) {
		tn_noise_seckey esec;
		uint8_t m[193];
		memcpy(esec.b, r->draw[d], 32);
		if (raw_msg1(k, &esec, hs, m) == 0 && memcmp(m, m1 + 2, 193) == 0)
			return 0;
		tn_noise_hs_free(hs);
	}
	return -1;
}

/* Independent judgement of message 2 (the input's first frame), with
 * nothing from link.c: the mirror reads it, its payload is a strict [1],
 * and the responder's static key is k->r. */
static int valid_msg2(const keys *k, const rng *r, const uint8_t m1[195], const uint8_t *d,
                      size_t n)
{
	if (n < 100 || d[0] != 0 || d[1] != 98)
		return 0;
	tn_noise_hs hs;
	if (mirror_initiator(k, r, m1, &hs))
		abort(); /* the harness no longer knows the link's ephemeral */
	uint8_t pt[160];
	tn_noise_pubkey rs;
	tn_ssize len = tn_noise_hs_read(&hs, d + 2, 98, pt, sizeof pt);
	int ok = len >= 0 && tn_hs23_decode(pt, (size_t)len) == TN_OK &&
	         tn_noise_hs_remote_static(&hs, &rs) == TN_OK && memcmp(rs.b, k->r.pub.b, 32) == 0;
	tn_noise_hs_free(&hs);
	return ok;
}

/* 3: the input after its two chunk bytes as message 2 and beyond. */
static void part_initiator(const keys *k, uint32_t state, const uint8_t *in, size_t n)
{
	rng r = {.key = {8}};
	uint8_t m1[195];
	tn_link *l = initiator(k, &r, m1);
	int allowed = valid_msg2(k, &r, m1, in, n);
	feed_hostile(l, state, in, n, allowed);
	tn_link_del(l);
}

/* Raw responder handshake against an initiator link; 0 on success. */
static int raw_responder_handshake(const keys *k, tn_link *l, const uint8_t m1[195], rng *r,
                                   tn_noise_cipher *tx, tn_noise_cipher *rx)
{
	tn_noise_protocol proto;
	tn_noise_hs hs;
	tn_rand rand = {.fn = rand_fn, .ud = r};
	uint8_t pl[160], m[256];
	tn_noise_pubkey rs;
	int rc = -1;
	if (tn_noise_protocol_parse("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", &proto) ||
	    tn_noise_hs_init(&hs, &proto, TN_NOISE_RESPONDER, k->prologue, sizeof k->prologue,
	                     &k->r, NULL, &k->psk))
		abort();
	static const uint8_t hs23[] = {0x91, 0x01};
	if (tn_noise_hs_read(&hs, m1 + 2, 193, pl, sizeof pl) != 145 ||
	    tn_noise_hs_write(&hs, hs23, 2, m + 2, 98, &rand) != 98)
		goto out;
	m[0] = 0;
	m[1] = 98;
	if (tn_link_recv(l, m, 100, FUZZ_T0, FUZZ_WALL) != 100 || drain(l) != 1 ||
	    !tn_link_is_established(l) || tn_link_out(l, m, sizeof m, FUZZ_T0) != 68 ||
	    tn_noise_hs_read(&hs, m + 2, 66, pl, sizeof pl) != 2 ||
	    tn_noise_hs_remote_static(&hs, &rs) || memcmp(rs.b, k->i.pub.b, 32) != 0 ||
	    tn_noise_hs_split(&hs, tx, rx))
		goto out;
	rc = 0;
out:
	tn_noise_hs_free(&hs);
	return rc;
}

/* 4: the operations of part_established on an initiator link. */
static void part_initiator_established(const keys *k, const uint8_t *data, size_t size)
{
	rng r = {.key = {10}};
	uint8_t m1[195];
	tn_link *l = initiator(k, &r, m1);
	tn_noise_cipher tx, rx;
	memset(&tx, 0, sizeof tx);
	memset(&rx, 0, sizeof rx);
	if (raw_responder_handshake(k, l, m1, &r, &tx, &rx))
		abort();
	run_ops(l, &tx, &rx, data, size);
	tn_noise_cipher_free(&tx);
	tn_noise_cipher_free(&rx);
	tn_link_del(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sodium_init() < 0)
		abort();
	keys k;
	make_keys(&k);
	bool init = size > 0 && data[0] == 0xff;
	if (init) {
		data++;
		size--;
	}
	if (size >= 2) {
		uint32_t state = (uint32_t)data[0] << 8 | data[1];
		(init ? part_initiator : part_responder)(&k, state, data + 2, size - 2);
	}
	(init ? part_initiator_established : part_established)(&k, data, size);
	return 0;
}
