/* Link: framing, handshake, silent rejection, transport, timers, rekey,
 * output bounds (docs/link.md).
 *
 * Pairs of links are wired in memory; time is a variable; randomness is a
 * ChaCha20 keystream under a fixed key per side, so every run is the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "test_file.h"
#include "test_rng.h"
#include "tocsin/codec.h"
#include "tocsin/link.h"

enum {
	MSGS_MAX = 256,
	MSG_MAX = 512,
	BIG = 70000,
};

static const uint64_t WALL0 = UINT64_C(1718000000000); /* June 2024, ms */
static const tn_time T0 = 1000 * TN_SEC;
static const uint64_t AGE_MS = TN_HS_MSG1_MAX_AGE / TN_MSEC;

/* ---- deterministic randomness ------------------------------------------ */

static uint32_t rng_u32(test_rng *r)
{
	uint8_t b[4];
	test_rng_fn(r, b, sizeof b);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- fixtures ---------------------------------------------------------- */

/* Identities: each from 64 bytes of one value (fuzz/fuzz_link.c makes
 * the member's the same way). The initiator's is the roster's member; the
 * roster certifies k.i as her link static key. */
enum { ID_MEMBER = 0x13, ID_STRANGER = 0x14, ID_REVOKED = 0x15 };

static void fill_rand(void *ud, uint8_t *buf, size_t len)
{
	memset(buf, *(const uint8_t *)ud, len);
}

static tn_identity *make_identity(uint8_t v)
{
	static uint8_t vals[256];
	vals[v] = v;
	tn_identity *id;
	assert_int_equal(tn_identity_new(&id, &(tn_rand){.fn = fill_rand, .ud = &vals[v]}), TN_OK);
	return id;
}

static tn_identity *id_member, *id_stranger, *id_revoked;

/* The responder's roster: the member is active with k.i; id_revoked was
 * a member with k.other and is revoked; anyone else is unknown. */
typedef struct test_roster {
	tn_noise_pubkey member_static, revoked_static;
	bool member_revoked; /* revoke the member too (tests) */
	unsigned asked, asked_static;
	tn_link_psk_used last_psk;
} test_roster;

static test_roster roster;

static bool roster_member(void *ud, const tn_pubkey *id, tn_link_psk_used psk,
                          const tn_noise_pubkey *link_static)
{
	test_roster *r = ud;
	r->asked++;
	r->asked_static += link_static != NULL;
	r->last_psk = psk;
	if (!tn_pubkey_eq(id, tn_identity_pubkey(id_member)) || r->member_revoked)
		return false;
	return !link_static || sodium_memcmp(link_static->b, r->member_static.b, 32) == 0;
}

typedef struct keys {
	tn_noise_keypair i, r, other;
	tn_noise_psk psk, prev, wrong;
	uint8_t netid[TN_NETWORK_ID];
} keys;

static void make_kp(tn_noise_keypair *kp, uint8_t v)
{
	tn_noise_seckey s;
	memset(s.b, v, sizeof s.b);
	assert_int_equal(tn_noise_keypair_from_secret(kp, &s), TN_OK);
}

static keys make_keys(void)
{
	keys k;
	make_kp(&k.i, 0x11);
	make_kp(&k.r, 0x22);
	make_kp(&k.other, 0x66);
	memset(k.psk.b, 0x33, sizeof k.psk.b);
	memset(k.prev.b, 0x44, sizeof k.prev.b);
	memset(k.wrong.b, 0x99, sizeof k.wrong.b);
	memset(k.netid, 0x55, sizeof k.netid);
	memset(&roster, 0, sizeof roster);
	roster.member_static = k.i.pub;
	roster.revoked_static = k.other.pub;
	return k;
}

/* One end of a connection and everything it reported. */
typedef struct side {
	tn_link *l;
	test_rng rng;
	tn_link_stats stats;
	bool established;
	tn_link_event est;
	bool closed;
	tn_link_event close;
	size_t nmsg;
	uint8_t msg[MSGS_MAX][MSG_MAX];
	size_t mlen[MSGS_MAX];
	size_t out_total; /* bytes this side ever handed out */
	size_t frames_in; /* MESSAGE events */
} side;

typedef struct pair {
	keys k;
	tn_replay_cache *cache;
	side i, r;
	test_rng chunks; /* chooses chunk sizes */
	unsigned mode;   /* 0 whole, 1 byte by byte, 2 random chunks */
	tn_time now;
	uint64_t wall_i, wall_r;
} pair;

static void side_rand(side *s, uint8_t seed)
{
	(void)test_rng_seed(&s->rng, seed);
}

static tn_link_config base_cfg(side *s, const keys *k, tn_noise_role role)
{
	tn_link_config c;
	tn_link_config_default(&c);
	c.role = role;
	memcpy(c.network_id, k->netid, sizeof c.network_id);
	c.psk = k->psk;
	c.rand = (tn_rand){.fn = test_rng_fn, .ud = &s->rng};
	c.stats = &s->stats;
	return c;
}

static tn_link_config cfg_i(side *s, const keys *k)
{
	tn_link_config c = base_cfg(s, k, TN_NOISE_INITIATOR);
	c.static_key = k->i;
	c.expected_remote = k->r.pub;
	c.identity = id_member;
	return c;
}

static tn_link_config cfg_r(side *s, const keys *k, tn_replay_cache *cache)
{
	tn_link_config c = base_cfg(s, k, TN_NOISE_RESPONDER);
	c.static_key = k->r;
	c.has_prev_psk = true;
	c.prev_psk = k->prev;
	c.replay = cache;
	c.member = roster_member;
	c.member_ud = &roster;
	return c;
}

static void drain(side *s)
{
	tn_link_event ev;
	while (tn_link_poll_event(s->l, &ev)) {
		switch (ev.type) {
		case TN_LINK_EV_ESTABLISHED:
			assert_false(s->established);
			s->established = true;
			s->est = ev;
			break;
		case TN_LINK_EV_MESSAGE:
			assert_true(s->nmsg < MSGS_MAX);
			assert_true(ev.len <= MSG_MAX);
			memcpy(s->msg[s->nmsg], ev.msg, ev.len);
			s->mlen[s->nmsg++] = ev.len;
			s->frames_in++;
			break;
		case TN_LINK_EV_CLOSE:
			assert_false(s->closed);
			s->closed = true;
			s->close = ev;
			break;
		default: fail();
		}
	}
}

static size_t chunk(pair *p, size_t left)
{
	switch (p->mode) {
	case 1: return 1;
	case 2: {
		size_t c = 1 + rng_u32(&p->chunks) % 200;
		return c < left ? c : left;
	}
	default: return left;
	}
}

/* Feed bytes to a side, in the pair's chunking, draining events. */
static void feed(pair *p, side *to, const uint8_t *b, size_t n, uint64_t wall)
{
	size_t off = 0;
	while (off < n) {
		size_t c = chunk(p, n - off);
		size_t fed = 0;
		while (fed < c) {
			tn_ssize r = tn_link_recv(to->l, b + off + fed, c - fed, p->now, wall);
			assert_true(r >= 0);
			fed += (size_t)r;
			drain(to);
		}
		off += c;
	}
}

static uint8_t wire[BIG];

/* Move everything from one side to the other; returns bytes moved. */
static size_t flow(pair *p, side *from, side *to, uint64_t wall)
{
	size_t total = 0;
	for (;;) {
		size_t cap = p->mode == 0 ? sizeof wire : chunk(p, sizeof wire);
		tn_ssize n = tn_link_out(from->l, wire, cap, p->now);
		assert_true(n >= 0);
		if (n == 0)
			break;
		from->out_total += (size_t)n;
		total += (size_t)n;
		feed(p, to, wire, (size_t)n, wall);
	}
	drain(from);
	return total;
}

static void pump(pair *p)
{
	while (flow(p, &p->i, &p->r, p->wall_r) + flow(p, &p->r, &p->i, p->wall_i) > 0)
		;
}

/* A raw Noise handshake as the link runs it (XXpsk0, prologue "tocsin/1"
 * and the network id), static s, under psk: the test plays one side by
 * hand. */
static void raw_hs_init(const pair *p, tn_noise_hs *hs, tn_noise_role role,
                        const tn_noise_keypair *s, const tn_noise_psk *psk)
{
	tn_noise_protocol proto;
	assert_int_equal(tn_noise_protocol_parse("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", &proto),
	                 TN_OK);
	uint8_t prologue[24];
	memcpy(prologue, "tocsin/1", 8);
	memcpy(prologue + 8, p->k.netid, 16);
	assert_int_equal(
	        tn_noise_hs_init(hs, &proto, role, prologue, sizeof prologue, s, NULL, psk), TN_OK);
}

static void pair_setup(pair *p, unsigned mode)
{
	memset(p, 0, sizeof *p);
	p->k = make_keys();
	p->mode = mode;
	p->now = T0;
	p->wall_i = p->wall_r = WALL0;
	memset(p->chunks.key, 0x77, sizeof p->chunks.key);
	side_rand(&p->i, 0xa1);
	side_rand(&p->r, 0xb2);
	assert_int_equal(tn_replay_cache_new(&p->cache, 0), TN_OK);
	tn_link_config ci = cfg_i(&p->i, &p->k), cr = cfg_r(&p->r, &p->k, p->cache);
	assert_int_equal(tn_link_new(&p->i.l, &ci), TN_OK);
	assert_int_equal(tn_link_new(&p->r.l, &cr), TN_OK);
}

/* Replace the pair's initiator by one made from ci. */
static void pair_initiator(pair *p, const tn_link_config *ci)
{
	tn_link_del(p->i.l);
	assert_int_equal(tn_link_new(&p->i.l, ci), TN_OK);
}

static void pair_start(pair *p)
{
	assert_int_equal(tn_link_start(p->r.l, p->now, p->wall_r), TN_OK);
	assert_int_equal(tn_link_start(p->i.l, p->now, p->wall_i), TN_OK);
	pump(p);
}

static void pair_teardown(pair *p)
{
	tn_link_del(p->i.l);
	tn_link_del(p->r.l);
	tn_replay_cache_del(p->cache);
}

static void assert_established(pair *p, tn_link_psk_used psk)
{
	assert_true(p->i.established);
	assert_true(p->r.established);
	assert_false(p->i.closed);
	assert_false(p->r.closed);
	assert_memory_equal(p->i.est.remote_static.b, p->k.r.pub.b, TN_PUBKEY);
	assert_memory_equal(p->r.est.remote_static.b, p->k.i.pub.b, TN_PUBKEY);
	assert_memory_equal(p->i.est.hs_hash, p->r.est.hs_hash, TN_NOISE_HASH);
	assert_int_equal(p->i.est.psk, TN_LINK_PSK_CURRENT);
	assert_int_equal(p->r.est.psk, psk);
	assert_memory_equal(p->r.est.remote_identity.b, tn_identity_pubkey(id_member)->b, 32);
	assert_true(tn_link_is_established(p->i.l));
	assert_true(tn_link_is_established(p->r.l));
}

/* An application message: HAVE [8, id] with id filled from v (36 bytes). */
static size_t have_msg(uint8_t *out, size_t cap, uint32_t v)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_HAVE;
	for (size_t i = 0; i < TN_ALERT_ID; i++)
		m.alert_id[i] = (uint8_t)(v + i);
	tn_ssize n = tn_link_encode(&m, out, cap);
	assert_true(n > 0);
	return (size_t)n;
}

static void send_have(side *s, uint32_t v, tn_link_send_flags f, tn_time now)
{
	uint8_t b[64];
	size_t n = have_msg(b, sizeof b, v);
	assert_int_equal(tn_link_send(s->l, b, n, f, now), TN_OK);
}

/* Which HAVE value message k of side s carries. */
static uint32_t have_value(const side *s, size_t k)
{
	tn_link_msg m;
	assert_int_equal(tn_link_decode(&m, s->msg[k], s->mlen[k]), TN_OK);
	assert_int_equal(m.type, TN_LINK_HAVE);
	return m.alert_id[0];
}

/* ---- handshake --------------------------------------------------------- */

static void handshake_mode(unsigned mode)
{
	pair p;
	pair_setup(&p, mode);
	assert_int_equal(tn_link_next_deadline(p.i.l), TN_TIME_NEVER);
	pair_start(&p);
	assert_established(&p, TN_LINK_PSK_CURRENT);
	assert_int_equal(p.i.stats.established, 1);
	assert_int_equal(p.r.stats.established, 1);
	assert_int_equal(tn_replay_cache_count(p.cache), 1);
	pair_teardown(&p);
}

static void handshake_whole_frames(void **state)
{
	(void)state;
	handshake_mode(0);
}

static void handshake_byte_by_byte(void **state)
{
	(void)state;
	handshake_mode(1);
}

static void handshake_random_chunks(void **state)
{
	(void)state;
	for (uint8_t seed = 0; seed < 8; seed++) {
		pair p;
		pair_setup(&p, 2);
		memset(p.chunks.key, seed, sizeof p.chunks.key);
		pair_start(&p);
		assert_established(&p, TN_LINK_PSK_CURRENT);
		pair_teardown(&p);
	}
}

/* Message 1 is 193 bytes on the wire after its 2-byte prefix, as link.md
 * says; the link computes it from the codec. */
static void message1_has_exact_size(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	assert_int_equal(tn_link_start(p.i.l, p.now, p.wall_i), TN_OK);
	uint8_t b[256];
	tn_ssize n = tn_link_out(p.i.l, b, sizeof b, p.now);
	assert_int_equal(n, 2 + 193);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 193);
	assert_int_equal(tn_link_out(p.i.l, b, sizeof b, p.now), 0);
	pair_teardown(&p);
}

static void previous_psk_accepted(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 2);
	/* An initiator that missed the rekey still uses the old PSK. */
	tn_link_config ci = cfg_i(&p.i, &p.k);
	ci.psk = p.k.prev;
	pair_initiator(&p, &ci);
	pair_start(&p);
	assert_established(&p, TN_LINK_PSK_PREVIOUS);
	pair_teardown(&p);
}

static void start_twice_is_state(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	assert_int_equal(tn_link_recv(p.r.l, (const uint8_t *)"x", 1, p.now, p.wall_r),
	                 TN_ERR_STATE);
	assert_int_equal(tn_link_start(p.i.l, p.now, p.wall_i), TN_OK);
	assert_int_equal(tn_link_start(p.i.l, p.now, p.wall_i), TN_ERR_STATE);
	/* A wall clock too small to encode as uint64 would give a short
	 * message 1 that every responder drops: refused up front. */
	tn_link *l2;
	tn_link_config ci = cfg_i(&p.i, &p.k);
	assert_int_equal(tn_link_new(&l2, &ci), TN_OK);
	assert_int_equal(tn_link_start(l2, p.now, 1000), TN_ERR_INVAL);
	tn_link_del(l2);
	pair_teardown(&p);
}

static void config_checked(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_link *l = (tn_link *)&p; /* must be reset to NULL on error */
	tn_link_config c = cfg_r(&p.r, &p.k, NULL);
	assert_int_equal(tn_link_new(&l, &c), TN_ERR_INVAL);
	assert_null(l);
	c = cfg_r(&p.r, &p.k, p.cache);
	c.member = NULL; /* a responder must ask a roster */
	assert_int_equal(tn_link_new(&l, &c), TN_ERR_INVAL);
	c = cfg_i(&p.i, &p.k);
	c.identity = NULL; /* an initiator must name herself */
	assert_int_equal(tn_link_new(&l, &c), TN_ERR_INVAL);
	c = cfg_i(&p.i, &p.k);
	c.rand.fn = NULL;
	assert_int_equal(tn_link_new(&l, &c), TN_ERR_INVAL);
	c = cfg_i(&p.i, &p.k);
	c.role = 0;
	assert_int_equal(tn_link_new(&l, &c), TN_ERR_INVAL);
	assert_int_equal(tn_link_new(&l, NULL), TN_ERR_INVAL);
	c = cfg_i(&p.i, &p.k);
	c.keepalive = TN_DAY + 1;
	assert_int_equal(tn_link_new(&l, &c), TN_ERR_INVAL);
	c.keepalive = TN_MSEC - 1;
	assert_int_equal(tn_link_new(&l, &c), TN_ERR_INVAL);
	pair_teardown(&p);
}

/* Closing during the handshake: the rest of message 1 is not sent. */
static void close_during_handshake_sends_nothing_more(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	assert_int_equal(tn_link_start(p.i.l, p.now, p.wall_i), TN_OK);
	uint8_t b[128];
	assert_int_equal(tn_link_out(p.i.l, b, 10, p.now), 10);
	tn_link_close(p.i.l, TN_CLOSE_SHUTDOWN, p.now);
	drain(&p.i);
	assert_true(p.i.closed);
	assert_int_equal(p.i.close.err, TN_OK);
	assert_int_equal(tn_link_pending(p.i.l), 0);
	assert_int_equal(tn_link_out(p.i.l, b, sizeof b, p.now), 0);
	pair_teardown(&p);
}

/* ---- silent rejection -------------------------------------------------- */

/* A fresh responder sharing the pair's cache and stats. */
static side *probe_side(pair *p, side *s)
{
	memset(s, 0, sizeof *s);
	side_rand(s, 0xc3);
	tn_link_config c = cfg_r(s, &p->k, p->cache);
	assert_int_equal(tn_link_new(&s->l, &c), TN_OK);
	assert_int_equal(tn_link_start(s->l, p->now, p->wall_r), TN_OK);
	return s;
}

/* A valid message 1 (with its prefix) from a fresh initiator with cfg. */
static size_t msg1_from(pair *p, const tn_link_config *ci, uint64_t wall, uint8_t *out)
{
	tn_link *l;
	assert_int_equal(tn_link_new(&l, ci), TN_OK);
	assert_int_equal(tn_link_start(l, p->now, wall), TN_OK);
	tn_ssize n = tn_link_out(l, out, 256, p->now);
	assert_int_equal(n, 195);
	tn_link_del(l);
	return (size_t)n;
}

/* The responder said nothing, asked for a delayed close, and ignores
 * everything after (here: a perfectly valid message 1). */
static void assert_silent(pair *p, side *s, const uint64_t *counter, tn_err err)
{
	assert_true(s->closed);
	assert_true(s->close.silent);
	assert_int_equal(s->close.err, err);
	assert_true(s->close.close_at >= p->now + TN_SEC);
	assert_true(s->close.close_at <= p->now + 20 * TN_SEC);
	assert_int_equal(*counter, 1);
	assert_false(s->established);
	uint8_t b[256];
	assert_int_equal(tn_link_pending(s->l), 0);
	assert_int_equal(tn_link_out(s->l, b, sizeof b, p->now), 0);
	assert_int_equal(tn_link_next_deadline(s->l), TN_TIME_NEVER);
	/* Later input: consumed, ignored, nothing written, no event. */
	side t;
	tn_link_config ci = cfg_i(&t, &p->k);
	side_rand(&t, 0xd4);
	size_t n = msg1_from(p, &ci, p->wall_r, b);
	assert_int_equal(tn_link_recv(s->l, b, n, p->now, p->wall_r), (tn_ssize)n);
	tn_link_tick(s->l, p->now + TN_HOUR);
	tn_link_event ev;
	assert_false(tn_link_poll_event(s->l, &ev));
	assert_int_equal(tn_link_out(s->l, b, sizeof b, p->now + TN_HOUR), 0);
	tn_link_close(s->l, TN_CLOSE_NORMAL, p->now);
	assert_int_equal(tn_link_out(s->l, b, sizeof b, p->now + TN_HOUR), 0);
	assert_int_equal(s->out_total, 0);
}

/* Feed bytes to a fresh responder, both whole and byte by byte. */
static void reject_case(const uint8_t *bytes, size_t n, size_t counter_off, tn_err err)
{
	for (unsigned mode = 0; mode < 3; mode += 1) {
		pair p;
		pair_setup(&p, mode);
		side s;
		probe_side(&p, &s);
		feed(&p, &s, bytes, n, p.wall_r);
		size_t before = s.out_total;
		uint8_t b[256];
		assert_int_equal(tn_link_out(s.l, b, sizeof b, p.now), 0);
		assert_int_equal(before, 0);
		assert_silent(&p, &s, (const uint64_t *)(const void *)((const uint8_t *)&s.stats + counter_off),
		              err);
		tn_link_del(s.l);
		pair_teardown(&p);
	}
}

#define REJECT_CASE(bytes, n, field, err) reject_case(bytes, n, offsetof(tn_link_stats, field), err)

static void reject_wrong_psk(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_link_config ci = cfg_i(&p.i, &p.k);
	ci.psk = p.k.wrong;
	uint8_t m1[256];
	size_t n = msg1_from(&p, &ci, WALL0, m1);
	REJECT_CASE(m1, n, rej_mac, TN_ERR_AUTH);
	pair_teardown(&p);
}

static void reject_garbage_right_size(void **state)
{
	(void)state;
	uint8_t g[195];
	test_rng r;
	(void)test_rng_seed(&r, 0x5a);
	test_rng_fn(&r, g, sizeof g);
	g[0] = 0;
	g[1] = 193;
	REJECT_CASE(g, sizeof g, rej_mac, TN_ERR_AUTH);
}

static void reject_garbage_other_sizes(void **state)
{
	(void)state;
	static const size_t sizes[] = {1, 16, 32, 48, 77, 93, 95, 128, 192, 194, 1000};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		uint8_t g[1002];
		test_rng r;
		(void)test_rng_seed(&r, (uint8_t)i);
		test_rng_fn(&r, g, sizeof g);
		g[0] = (uint8_t)(sizes[i] >> 8);
		g[1] = (uint8_t)sizes[i];
		REJECT_CASE(g, 2 + sizes[i], rej_size, TN_ERR_PROTO);
	}
}

static void reject_http(void **state)
{
	(void)state;
	static const char get[] = "GET / HTTP/1.1\r\n\r\n";
	REJECT_CASE((const uint8_t *)get, sizeof get - 1, rej_size, TN_ERR_PROTO);
}

static void reject_tls_client_hello(void **state)
{
	(void)state;
	/* TLS 1.2 record header + ClientHello start. */
	static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
	                                0x03, 0x03, 0x9a, 0x4c, 0x11, 0x02, 0x33, 0x44, 0x55,
	                                0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	REJECT_CASE(hello, sizeof hello, rej_size, TN_ERR_PROTO);
}

static void reject_length_zero(void **state)
{
	(void)state;
	static const uint8_t z[] = {0, 0, 0, 93, 1, 2, 3};
	REJECT_CASE(z, sizeof z, rej_framing, TN_ERR_FRAME);
}

static void reject_length_max_without_body(void **state)
{
	(void)state;
	static const uint8_t big[] = {0xff, 0xff};
	REJECT_CASE(big, sizeof big, rej_size, TN_ERR_PROTO);
	/* Rejected on the prefix alone: nothing waits for (or buffers) the
	 * 65 535 bytes announced. */
	pair p;
	pair_setup(&p, 0);
	side s;
	probe_side(&p, &s);
	assert_int_equal(tn_link_recv(s.l, big, 1, p.now, p.wall_r), 1);
	drain(&s);
	assert_false(s.closed);
	assert_int_equal(tn_link_recv(s.l, big + 1, 1, p.now, p.wall_r), 1);
	drain(&s);
	assert_true(s.closed);
	tn_link_del(s.l);
	pair_teardown(&p);
}

static void reject_replayed_msg1(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_link_config ci = cfg_i(&p.i, &p.k);
	uint8_t m1[256];
	size_t n = msg1_from(&p, &ci, WALL0, m1);
	/* First delivery: accepted, message 2 written. */
	side a;
	probe_side(&p, &a);
	feed(&p, &a, m1, n, p.wall_r);
	assert_false(a.closed);
	assert_true(tn_link_pending(a.l) > 0);
	tn_link_del(a.l);
	/* The same bytes to another link of the same node: silence. */
	p.now += 5 * TN_SEC;
	side b;
	probe_side(&p, &b);
	feed(&p, &b, m1, n, p.wall_r + 5000);
	assert_silent(&p, &b, &b.stats.rej_replay, TN_ERR_REPLAY);
	tn_link_del(b.l);
	pair_teardown(&p);
}

static void reject_misdirected(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_link_config ci = cfg_i(&p.i, &p.k);
	ci.expected_remote = p.k.other.pub; /* meant for another member */
	uint8_t m1[256];
	size_t n = msg1_from(&p, &ci, WALL0, m1);
	REJECT_CASE(m1, n, rej_misdirected, TN_ERR_MISDIRECTED);
	pair_teardown(&p);
}

/* The responder's wall clock is off by `skew` ms from the initiator's. */
static void stale_case(int64_t skew, bool accept)
{
	pair p;
	pair_setup(&p, 0);
	tn_link_config ci = cfg_i(&p.i, &p.k);
	uint8_t m1[256];
	size_t n = msg1_from(&p, &ci, WALL0, m1);
	side s;
	probe_side(&p, &s);
	feed(&p, &s, m1, n, (uint64_t)((int64_t)WALL0 + skew));
	if (accept) {
		assert_false(s.closed);
		assert_true(tn_link_pending(s.l) > 0);
	} else {
		assert_silent(&p, &s, &s.stats.rej_stale, TN_ERR_STALE);
	}
	tn_link_del(s.l);
	pair_teardown(&p);
}

static void stale_timestamp_boundaries(void **state)
{
	(void)state;
	stale_case((int64_t)AGE_MS, true);       /* message exactly 2 min old */
	stale_case((int64_t)AGE_MS + 1, false);  /* 1 ms older */
	stale_case(-(int64_t)AGE_MS, true);      /* exactly 2 min in the future */
	stale_case(-(int64_t)AGE_MS - 1, false); /* 1 ms further */
}

/* A PSK holder's message 1 whose payload is not a strict hs1 payload. */
static void reject_undecodable_payload(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_noise_hs hs;
	raw_hs_init(&p, &hs, TN_NOISE_INITIATOR, &p.k.i, &p.k.psk);
	uint8_t payload[145];
	memset(payload, 0xc1, sizeof payload); /* reserved msgpack byte */
	uint8_t m1[2 + 193];
	tn_rand rand = {.fn = test_rng_fn, .ud = &p.i.rng};
	assert_int_equal(tn_noise_hs_write(&hs, payload, sizeof payload, m1 + 2, 193, &rand), 193);
	tn_noise_hs_free(&hs);
	m1[0] = 0;
	m1[1] = 193;
	REJECT_CASE(m1, sizeof m1, rej_decode, TN_ERR_DEC_RESERVED);
	pair_teardown(&p);
}

/* ---- handshake timeouts ------------------------------------------------ */

static void handshake_timeout_initiator(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	assert_int_equal(tn_link_start(p.i.l, p.now, p.wall_i), TN_OK);
	tn_time dl = p.now + TN_HANDSHAKE_TIMEOUT;
	assert_int_equal(tn_link_next_deadline(p.i.l), dl);
	tn_link_tick(p.i.l, dl - 1);
	drain(&p.i);
	assert_false(p.i.closed);
	tn_link_tick(p.i.l, dl);
	drain(&p.i);
	assert_true(p.i.closed);
	assert_false(p.i.close.silent);
	assert_int_equal(p.i.close.err, TN_ERR_TIMEOUT);
	assert_int_equal(p.i.close.close_at, dl);
	assert_int_equal(p.i.stats.hs_timeout, 1);
	assert_int_equal(tn_link_next_deadline(p.i.l), TN_TIME_NEVER);
	pair_teardown(&p);
}

static void handshake_timeout_responder_is_silent(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	assert_int_equal(tn_link_start(p.r.l, p.now, p.wall_r), TN_OK);
	/* Slow loris: the first half of a message 1, then nothing. */
	tn_link_config ci = cfg_i(&p.i, &p.k);
	uint8_t m1[256];
	size_t n = msg1_from(&p, &ci, WALL0, m1);
	feed(&p, &p.r, m1, n / 2, p.wall_r);
	tn_time dl = p.now + TN_HANDSHAKE_TIMEOUT;
	assert_int_equal(tn_link_next_deadline(p.r.l), dl);
	tn_link_tick(p.r.l, dl - 1);
	drain(&p.r);
	assert_false(p.r.closed);
	p.now = dl;
	tn_link_tick(p.r.l, dl);
	drain(&p.r);
	assert_silent(&p, &p.r, &p.r.stats.hs_timeout, TN_ERR_TIMEOUT);
	pair_teardown(&p);
}

/* ---- initiator checks the responder ------------------------------------ */

/* A raw Noise responder holding the PSK but another static key answers. */
static void initiator_rejects_unexpected_responder(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	assert_int_equal(tn_link_start(p.i.l, p.now, p.wall_i), TN_OK);
	uint8_t m1[256];
	assert_int_equal(tn_link_out(p.i.l, m1, sizeof m1, p.now), 195);

	tn_noise_hs hs;
	raw_hs_init(&p, &hs, TN_NOISE_RESPONDER, &p.k.other, &p.k.psk);
	uint8_t pl[160];
	assert_int_equal(tn_noise_hs_read(&hs, m1 + 2, 193, pl, sizeof pl), 145);
	uint8_t m2[2 + 98];
	tn_rand rand = {.fn = test_rng_fn, .ud = &p.r.rng};
	static const uint8_t hs23[] = {0x91, 0x01};
	assert_int_equal(tn_noise_hs_write(&hs, hs23, sizeof hs23, m2 + 2, 98, &rand), 98);
	tn_noise_hs_free(&hs);
	m2[0] = 0;
	m2[1] = 98;
	feed(&p, &p.i, m2, sizeof m2, p.wall_i);
	assert_true(p.i.closed);
	assert_false(p.i.established);
	assert_int_equal(p.i.close.err, TN_ERR_AUTH);
	assert_int_equal(p.i.stats.hs_wrong_key, 1);
	/* Our static key never left: no message 3. */
	assert_int_equal(tn_link_out(p.i.l, m1, sizeof m1, p.now), 0);
	pair_teardown(&p);
}

/* ---- transport --------------------------------------------------------- */

static void established_pair(pair *p, unsigned mode)
{
	pair_setup(p, mode);
	pair_start(p);
	assert_established(p, TN_LINK_PSK_CURRENT);
}

static void messages_both_ways_in_order(void **state)
{
	(void)state;
	for (unsigned mode = 0; mode < 3; mode++) {
		pair p;
		established_pair(&p, mode);
		for (uint32_t k = 0; k < 40; k++) {
			send_have(&p.i, k, TN_LINK_SEND_NORMAL, p.now);
			send_have(&p.r, 100 + k, TN_LINK_SEND_NORMAL, p.now);
			if (k % 7 == 0)
				pump(&p);
		}
		pump(&p);
		assert_int_equal(p.r.nmsg, 40);
		assert_int_equal(p.i.nmsg, 40);
		for (uint32_t k = 0; k < 40; k++) {
			assert_int_equal(have_value(&p.r, k), k);
			assert_int_equal(have_value(&p.i, k), 100 + k);
		}
		pair_teardown(&p);
	}
}

static void large_message_roundtrip(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 2);
	/* A ROSTER message as large as a link message can be. */
	static uint8_t rec[TN_ROSTER_RECORD_MAX];
	for (size_t i = 0; i < sizeof rec; i++)
		rec[i] = (uint8_t)(i * 7);
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ROSTER;
	m.record.p = rec;
	m.record.len = sizeof rec;
	static uint8_t enc[TN_LINK_PLAINTEXT_MAX];
	tn_ssize n = tn_link_encode(&m, enc, sizeof enc);
	assert_true(n > 0);
	assert_int_equal(tn_link_send(p.i.l, enc, (size_t)n, TN_LINK_SEND_NORMAL, p.now), TN_OK);
	/* Deliver by hand: the message is larger than the test's copy slot. */
	static uint8_t w[BIG];
	tn_ssize k = tn_link_out(p.i.l, w, sizeof w, p.now);
	assert_int_equal(k, 2 + n + 16);
	assert_int_equal(tn_link_recv(p.r.l, w, (size_t)k, p.now, WALL0), k);
	tn_link_event ev;
	assert_true(tn_link_poll_event(p.r.l, &ev));
	assert_int_equal(ev.type, TN_LINK_EV_MESSAGE);
	assert_int_equal(ev.len, (size_t)n);
	assert_memory_equal(ev.msg, enc, (size_t)n);
	pair_teardown(&p);
}

static void recv_stops_after_each_message(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 0);
	send_have(&p.i, 1, TN_LINK_SEND_NORMAL, p.now);
	send_have(&p.i, 2, TN_LINK_SEND_NORMAL, p.now);
	uint8_t w[512];
	tn_ssize n = tn_link_out(p.i.l, w, sizeof w, p.now);
	assert_int_equal(n, 2 * (2 + 36 + 16));
	tn_ssize k = tn_link_recv(p.r.l, w, (size_t)n, p.now, WALL0);
	assert_int_equal(k, n / 2);
	/* The message is still queued: more input would overwrite it. */
	assert_int_equal(tn_link_recv(p.r.l, w + k, (size_t)(n - k), p.now, WALL0), TN_ERR_STATE);
	drain(&p.r);
	assert_int_equal(tn_link_recv(p.r.l, w + k, (size_t)(n - k), p.now, WALL0), n - k);
	drain(&p.r);
	assert_int_equal(p.r.nmsg, 2);
	pair_teardown(&p);
}

static void priority_overtakes_queued(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 0);
	for (uint32_t k = 1; k <= 5; k++)
		send_have(&p.i, k, TN_LINK_SEND_NORMAL, p.now);
	/* The first normal frame is partly on the wire already. */
	uint8_t w[512];
	tn_ssize n = tn_link_out(p.i.l, w, 3, p.now);
	assert_int_equal(n, 3);
	feed(&p, &p.r, w, 3, WALL0);
	send_have(&p.i, 99, TN_LINK_SEND_PRIORITY, p.now);
	send_have(&p.i, 98, TN_LINK_SEND_PRIORITY, p.now);
	pump(&p);
	assert_int_equal(p.r.nmsg, 7);
	static const uint32_t want[] = {1, 99, 98, 2, 3, 4, 5};
	for (size_t k = 0; k < 7; k++)
		assert_int_equal(have_value(&p.r, k), want[k]);
	assert_false(p.r.closed);
	pair_teardown(&p);
}

static void send_rules(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	uint8_t b[64];
	size_t n = have_msg(b, sizeof b, 1);
	assert_int_equal(tn_link_send(p.i.l, b, n, TN_LINK_SEND_NORMAL, p.now), TN_ERR_STATE);
	pair_start(&p);
	assert_int_equal(tn_link_send(p.i.l, b, n, TN_LINK_SEND_NORMAL, p.now), TN_OK);
	assert_int_equal(tn_link_send(p.i.l, b, 0, TN_LINK_SEND_NORMAL, p.now), TN_ERR_INVAL);
	assert_int_equal(tn_link_send(p.i.l, b, n - 1, TN_LINK_SEND_NORMAL, p.now), TN_ERR_INVAL);
	assert_int_equal(tn_link_send(p.i.l, b, n, (tn_link_send_flags)4, p.now), TN_ERR_INVAL);
	static const uint8_t rekey[] = {0x91, 0x09}, ping[] = {0x92, 0x00, 0x05},
	                     close[] = {0x92, 0x02, 0x00}, pong[] = {0x92, 0x01, 0x05};
	assert_int_equal(tn_link_send(p.i.l, rekey, 2, TN_LINK_SEND_NORMAL, p.now), TN_ERR_INVAL);
	assert_int_equal(tn_link_send(p.i.l, ping, 3, TN_LINK_SEND_NORMAL, p.now), TN_ERR_INVAL);
	assert_int_equal(tn_link_send(p.i.l, close, 3, TN_LINK_SEND_NORMAL, p.now), TN_ERR_INVAL);
	assert_int_equal(tn_link_send(p.i.l, pong, 3, TN_LINK_SEND_NORMAL, p.now), TN_OK);
	pump(&p);
	assert_int_equal(p.r.nmsg, 2); /* HAVE and PONG */
	pair_teardown(&p);
}

static void close_sends_close_and_nothing_after(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 2);
	send_have(&p.i, 1, TN_LINK_SEND_NORMAL, p.now);
	tn_link_close(p.i.l, TN_CLOSE_REVOKED, p.now);
	tn_link_close(p.i.l, TN_CLOSE_NORMAL, p.now); /* idempotent */
	drain(&p.i);
	assert_true(p.i.closed);
	assert_int_equal(p.i.close.err, TN_OK);
	assert_int_equal(tn_link_send(p.i.l, (const uint8_t *)"\x92\x08", 2, 0, p.now),
	                 TN_ERR_CLOSED);
	pump(&p);
	/* The queued HAVE was dropped: only CLOSE arrives. */
	assert_int_equal(p.r.nmsg, 0);
	assert_true(p.r.closed);
	assert_int_equal(p.r.close.err, TN_ERR_CLOSED);
	assert_int_equal(p.r.close.peer_reason, TN_CLOSE_REVOKED);
	assert_false(p.r.close.silent);
	/* The peer's link does not answer a CLOSE. */
	uint8_t w[64];
	assert_int_equal(tn_link_out(p.r.l, w, sizeof w, p.now), 0);
	assert_int_equal(tn_link_out(p.i.l, w, sizeof w, p.now), 0);
	pair_teardown(&p);
}

static void tampered_frame_closes(void **state)
{
	(void)state;
	/* Every 13th bit after the length prefix (covered by framing tests). */
	for (size_t bit = 16; bit < 54 * 8; bit += 13) {
		pair p;
		established_pair(&p, 0);
		send_have(&p.i, 7, TN_LINK_SEND_NORMAL, p.now);
		uint8_t w[128];
		tn_ssize n = tn_link_out(p.i.l, w, sizeof w, p.now);
		assert_int_equal(n, 54);
		w[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		feed(&p, &p.r, w, (size_t)n, WALL0);
		assert_int_equal(p.r.nmsg, 0);
		assert_true(p.r.closed);
		assert_int_equal(p.r.close.err, TN_ERR_AUTH);
		assert_int_equal(p.r.stats.transport_auth, 1);
		/* Later frames are ignored, even valid ones. */
		send_have(&p.i, 8, TN_LINK_SEND_NORMAL, p.now);
		flow(&p, &p.i, &p.r, WALL0);
		assert_int_equal(p.r.nmsg, 0);
		/* The closer tells its peer, encrypted. */
		flow(&p, &p.r, &p.i, WALL0);
		assert_true(p.i.closed);
		assert_int_equal(p.i.close.peer_reason, TN_CLOSE_PROTOCOL);
		pair_teardown(&p);
	}
}

static void bad_transport_frames_close(void **state)
{
	(void)state;
	/* Length 0, and a length too short to hold a tag and a message. */
	static const uint8_t zero[] = {0, 0}, short16[] = {0, 16};
	const uint8_t *cases[] = {zero, short16};
	for (size_t c = 0; c < 2; c++) {
		pair p;
		established_pair(&p, 0);
		feed(&p, &p.r, cases[c], 2, WALL0);
		assert_true(p.r.closed);
		assert_int_equal(p.r.close.err, TN_ERR_FRAME);
		assert_int_equal(p.r.stats.framing, 1);
		pair_teardown(&p);
	}
}

/* Message 1's signed bytes, written out from docs/link.md rather than
 * taken from link.c: "tocsin/1 hello" || network id || e || responder hash
 * || timestamp (u64 big-endian). */
static void hello_sign(const keys *k, const tn_identity *id, const tn_noise_pubkey *e,
                       tn_hs1_payload *h)
{
	uint8_t b[14 + 16 + 32 + 32 + 8];
	memcpy(b, "tocsin/1 hello", 14);
	memcpy(b + 14, k->netid, 16);
	memcpy(b + 30, e->b, 32);
	memcpy(b + 62, h->responder_hash, 32);
	for (int i = 0; i < 8; i++)
		b[94 + i] = (uint8_t)(h->timestamp_ms >> (56 - 8 * i));
	memcpy(h->identity, tn_identity_pubkey(id)->b, 32);
	tn_sig sig;
	assert_int_equal(tn_identity_sign(id, b, sizeof b, &sig), TN_OK);
	memcpy(h->sig, sig.b, 64);
}

/* A raw Noise message 1 (with its prefix) under psk, from static k.i,
 * naming identity id; tweak may alter the payload after it was signed.
 * hs is left ready for message 2. */
static void raw_msg1(pair *p, tn_noise_hs *hs, const tn_noise_psk *psk, const tn_identity *id,
                     void (*tweak)(tn_hs1_payload *), uint8_t m[2 + 193])
{
	raw_hs_init(p, hs, TN_NOISE_INITIATOR, &p->k.i, psk);
	tn_noise_seckey esec;
	tn_noise_keypair e;
	test_rng_fn(&p->i.rng, esec.b, sizeof esec.b);
	assert_int_equal(tn_noise_keypair_from_secret(&e, &esec), TN_OK);
	assert_int_equal(tn_noise_hs_set_ephemeral(hs, &esec), TN_OK);
	tn_hs1_payload h;
	memset(&h, 0, sizeof h);
	h.timestamp_ms = WALL0;
	crypto_generichash(h.responder_hash, 32, p->k.r.pub.b, 32, NULL, 0);
	hello_sign(&p->k, id, &e.pub, &h);
	if (tweak)
		tweak(&h);
	uint8_t pl[160];
	tn_ssize n = tn_hs1_encode(&h, pl, sizeof pl);
	assert_int_equal(n, 145);
	tn_rand rand = {.fn = test_rng_fn, .ud = &p->i.rng};
	assert_int_equal(tn_noise_hs_write(hs, pl, (size_t)n, m + 2, 193, &rand), 193);
	assert_memory_equal(m + 2, e.pub.b, 32); /* the ephemeral that was signed */
	m[0] = 0;
	m[1] = 193;
}

/* Handshake a real responder link with a raw Noise initiator, so the test
 * holds the transport key and can send what the link API refuses to. */
static void raw_initiator(pair *p, tn_noise_cipher *tx, tn_noise_cipher *rx)
{
	tn_noise_hs hs;
	uint8_t pl[64], m[256];
	raw_msg1(p, &hs, &p->k.psk, id_member, NULL, m);
	tn_rand rand = {.fn = test_rng_fn, .ud = &p->i.rng};
	assert_int_equal(tn_link_start(p->r.l, p->now, WALL0), TN_OK);
	feed(p, &p->r, m, 195, WALL0);
	assert_int_equal(tn_link_out(p->r.l, m, sizeof m, p->now), 2 + 98);
	assert_int_equal(tn_noise_hs_read(&hs, m + 2, 98, pl, sizeof pl), 2);
	static const uint8_t hs23[] = {0x91, 0x01};
	assert_int_equal(tn_noise_hs_write(&hs, hs23, 2, m + 2, 66, &rand), 66);
	m[1] = 66;
	feed(p, &p->r, m, 68, WALL0);
	assert_true(p->r.established);
	assert_int_equal(tn_noise_hs_split(&hs, tx, rx), TN_OK);
	tn_noise_hs_free(&hs);
}

static void raw_frame(tn_noise_cipher *tx, const uint8_t *pt, size_t n, uint8_t *out)
{
	assert_int_equal(tn_noise_cipher_encrypt(tx, NULL, 0, pt, n, out + 2, n + 16),
	                 (tn_ssize)(n + 16));
	out[0] = (uint8_t)((n + 16) >> 8);
	out[1] = (uint8_t)(n + 16);
}

static void authentic_garbage_closes(void **state)
{
	(void)state;
	/* Each authentic but not a strict link message. */
	static const uint8_t critical[] = {0x91, 0xcc, 0x80};   /* [128]: must be understood */
	static const uint8_t unknown_bad[] = {0x92, 0x12, 0xc1}; /* [18, reserved byte] */
	static const uint8_t unknown_3[] = {0x93, 0x12, 0x00, 0x00}; /* [18, 0, 0] */
	static const uint8_t rekey_body[] = {0x92, 0x09, 0x00}; /* [9, 0] */
	static const uint8_t trailing[] = {0x92, 0x00, 0x05, 0x00};
	static const uint8_t empty_msg[] = {0}; /* length 1: 0x00 is not an array */
	const struct {
		const uint8_t *p;
		size_t n;
		tn_err err;
	} cases[] = {
	        {critical, sizeof critical, TN_ERR_DEC_RECTYPE},
	        {unknown_bad, sizeof unknown_bad, TN_ERR_DEC_RESERVED},
	        {unknown_3, sizeof unknown_3, TN_ERR_DEC_ARRAYLEN},
	        {rekey_body, sizeof rekey_body, TN_ERR_DEC_ARRAYLEN},
	        {trailing, sizeof trailing, TN_ERR_DEC_TRAILING},
	        {empty_msg, sizeof empty_msg, TN_ERR_DEC_TYPE},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		pair p;
		pair_setup(&p, 0);
		tn_noise_cipher tx, rx;
		raw_initiator(&p, &tx, &rx);
		uint8_t f[64];
		static const uint8_t ping[] = {0x92, 0x00, 0x01};
		raw_frame(&tx, ping, sizeof ping, f); /* accepted, not delivered */
		feed(&p, &p.r, f, 2 + sizeof ping + 16, WALL0);
		assert_false(p.r.closed);
		raw_frame(&tx, cases[c].p, cases[c].n, f);
		feed(&p, &p.r, f, 2 + cases[c].n + 16, WALL0);
		assert_true(p.r.closed);
		assert_int_equal(p.r.close.err, cases[c].err);
		assert_int_equal(p.r.stats.transport_decode, 1);
		assert_int_equal(p.r.nmsg, 0);
		tn_noise_cipher_free(&tx);
		tn_noise_cipher_free(&rx);
		pair_teardown(&p);
	}
}

typedef struct log_cap {
	unsigned lines, info;
	char last[96];
} log_cap;

static void cap_log(void *ud, int level, const char *msg)
{
	log_cap *c = ud;
	c->lines++;
	c->info += level == TN_LOG_INFO;
	snprintf(c->last, sizeof c->last, "%s", msg);
}

/* A newer peer's message of a type 18..127 this version does not know
 * (docs/wire.md §4 "Unknown types"): dropped, counted, logged once per link
 * with its number; the link stays up, the message after it is delivered,
 * and it counts as a sign of life for the dead-peer timer. */
static void unknown_type_ignored_link_stays_up(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	log_cap lc = {0};
	tn_link_config cr = cfg_r(&p.r, &p.k, p.cache);
	cr.log = cap_log;
	cr.log_ud = &lc;
	tn_link_del(p.r.l);
	assert_int_equal(tn_link_new(&p.r.l, &cr), TN_OK);
	tn_noise_cipher tx, rx;
	raw_initiator(&p, &tx, &rx);
	unsigned lines0 = lc.lines;
	uint8_t f[128], have[64];
	static const uint8_t u18[] = {0x92, 0x12, 0x92, 0x01, 0xa1, 'x'}; /* [18, [1, "x"]] */
	static const uint8_t u127[] = {0x91, 0x7f};                        /* [127] */
	/* Two keepalives of silence, not yet dead (2.5), then the message. */
	tn_time up = p.now, late = up + 2 * TN_KEEPALIVE_DEFAULT;
	tn_link_tick(p.r.l, late);
	drain(&p.r);
	assert_false(p.r.closed);
	p.now = late;
	raw_frame(&tx, u18, sizeof u18, f);
	feed(&p, &p.r, f, 2 + sizeof u18 + 16, WALL0);
	assert_false(p.r.closed);
	assert_true(tn_link_is_established(p.r.l));
	assert_int_equal(p.r.stats.unknown_msg_type, 1);
	assert_int_equal(p.r.stats.transport_decode, 0);
	assert_int_equal(p.r.nmsg, 0);
	assert_int_equal(lc.lines, lines0 + 1);
	assert_int_equal(lc.info, 1);
	assert_string_equal(lc.last, "link ignored unknown_type=18");
	/* Past 2.5 keepalives from the handshake the link lives: the unknown
	 * message, the only thing heard, was heard at `late`. */
	uint8_t sink[256];
	p.now = up + TN_KEEPALIVE_DEFAULT * 5 / 2 + TN_SEC;
	tn_link_tick(p.r.l, p.now);
	while (tn_link_out(p.r.l, sink, sizeof sink, p.now) > 0)
		;
	drain(&p.r);
	assert_false(p.r.closed);
	/* Another: counted, not logged again on this link. */
	raw_frame(&tx, u127, sizeof u127, f);
	feed(&p, &p.r, f, 2 + sizeof u127 + 16, WALL0);
	assert_int_equal(p.r.stats.unknown_msg_type, 2);
	assert_int_equal(lc.lines, lines0 + 1);
	/* The next known message is delivered as usual. */
	size_t hn = have_msg(have, sizeof have, 3);
	raw_frame(&tx, have, hn, f);
	feed(&p, &p.r, f, 2 + hn + 16, WALL0);
	assert_false(p.r.closed);
	assert_int_equal(p.r.nmsg, 1);
	assert_int_equal(p.r.mlen[0], hn);
	assert_memory_equal(p.r.msg[0], have, hn);
	/* Silence from now on: dead 2.5 keepalives later, as always. */
	tn_link_tick(p.r.l, p.now + TN_KEEPALIVE_DEFAULT * 5 / 2);
	drain(&p.r);
	assert_true(p.r.closed);
	assert_int_equal(p.r.close.err, TN_ERR_TIMEOUT);
	assert_int_equal(p.r.stats.unknown_msg_type, 2);
	tn_noise_cipher_free(&tx);
	tn_noise_cipher_free(&rx);
	pair_teardown(&p);
}

/* A peer's REKEY switches our receiving key: the frame after it must be
 * under the rekeyed key, and one under the old key closes the link. */
static void peer_rekey_switches_rx(void **state)
{
	(void)state;
	for (int honest = 0; honest < 2; honest++) {
		pair p;
		pair_setup(&p, 0);
		tn_noise_cipher tx, rx;
		raw_initiator(&p, &tx, &rx);
		uint8_t f[64], b[64];
		static const uint8_t rekey[] = {0x91, 0x09};
		raw_frame(&tx, rekey, sizeof rekey, f);
		feed(&p, &p.r, f, 20, WALL0);
		if (honest)
			assert_int_equal(tn_noise_cipher_rekey(&tx), TN_OK);
		size_t n = have_msg(b, sizeof b, 3);
		raw_frame(&tx, b, n, f);
		feed(&p, &p.r, f, 2 + n + 16, WALL0);
		assert_int_equal(p.r.nmsg, honest ? 1 : 0);
		assert_int_equal(p.r.closed, !honest);
		tn_noise_cipher_free(&tx);
		tn_noise_cipher_free(&rx);
		pair_teardown(&p);
	}
}

/* ---- keepalive --------------------------------------------------------- */

static void keepalive_ping_only_when_idle(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 0);
	tn_time t = p.now;
	assert_int_equal(tn_link_next_deadline(p.i.l), t + TN_KEEPALIVE_DEFAULT);
	tn_link_tick(p.i.l, t + TN_KEEPALIVE_DEFAULT - 1);
	assert_int_equal(tn_link_pending(p.i.l), 0);
	p.now = t + TN_KEEPALIVE_DEFAULT;
	tn_link_tick(p.i.l, p.now);
	assert_true(tn_link_pending(p.i.l) > 0);
	size_t before = p.i.out_total;
	flow(&p, &p.i, &p.r, WALL0);
	/* One PING frame ([0, 1] + tag), consumed by the peer's link. */
	assert_int_equal(p.i.out_total - before, 2 + 3 + 16);
	assert_int_equal(p.r.nmsg, 0);
	assert_false(p.r.closed);
	/* Next PING one interval after this one. */
	assert_int_equal(tn_link_next_deadline(p.i.l), p.now + TN_KEEPALIVE_DEFAULT);
	/* The peer heard from us: its dead-peer deadline moved. The peer
	 * itself was silent too, so its own PING is due at t + keepalive. */
	assert_int_equal(tn_link_next_deadline(p.r.l), t + TN_KEEPALIVE_DEFAULT);
	pair_teardown(&p);
}

static void no_ping_while_traffic_flows(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 0);
	size_t before = p.i.out_total;
	for (int k = 0; k < 20; k++) {
		p.now += 60 * TN_SEC;
		tn_link_tick(p.i.l, p.now);
		tn_link_tick(p.r.l, p.now);
		send_have(&p.i, (uint32_t)k, TN_LINK_SEND_NORMAL, p.now);
		pump(&p);
		assert_true(tn_link_next_deadline(p.i.l) > p.now);
	}
	/* Exactly 20 HAVE frames, no PING among them. */
	assert_int_equal(p.i.out_total - before, 20 * (2 + 36 + 16));
	assert_int_equal(p.r.nmsg, 20);
	assert_false(p.i.closed);
	assert_false(p.r.closed);
	pair_teardown(&p);
}

static void dead_peer_closes(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 0);
	tn_time t = p.now, dead = t + TN_KEEPALIVE_DEFAULT * 5 / 2;
	/* The peer is gone: our PINGs go nowhere, nothing comes back. */
	uint8_t sink[256];
	for (;;) {
		tn_time d = tn_link_next_deadline(p.i.l);
		assert_true(d <= dead);
		if (d == dead)
			break;
		tn_link_tick(p.i.l, d);
		while (tn_link_out(p.i.l, sink, sizeof sink, d) > 0)
			;
	}
	tn_link_tick(p.i.l, dead - 1);
	drain(&p.i);
	assert_false(p.i.closed);
	tn_link_tick(p.i.l, dead);
	drain(&p.i);
	assert_true(p.i.closed);
	assert_int_equal(p.i.close.err, TN_ERR_TIMEOUT);
	assert_int_equal(p.i.stats.dead_peer, 1);
	assert_int_equal(tn_link_next_deadline(p.i.l), TN_TIME_NEVER);
	pair_teardown(&p);
}

/* ---- rekey ------------------------------------------------------------- */

/* Both pairs run the same deterministic handshake; only the rekey policy
 * differs. */
static void rekey_by_count(void **state)
{
	(void)state;
	pair a, b;
	established_pair(&a, 2);
	pair_setup(&b, 2);
	tn_link_del(b.i.l);
	tn_link_del(b.r.l);
	tn_link_config ci = cfg_i(&b.i, &b.k), cr = cfg_r(&b.r, &b.k, b.cache);
	ci.rekey_after_msgs = 3;
	cr.rekey_after_msgs = 3;
	assert_int_equal(tn_link_new(&b.i.l, &ci), TN_OK);
	assert_int_equal(tn_link_new(&b.r.l, &cr), TN_OK);
	pair_start(&b);
	assert_established(&b, TN_LINK_PSK_CURRENT);
	assert_memory_equal(a.i.est.hs_hash, b.i.est.hs_hash, TN_NOISE_HASH);

	uint8_t fa[128], fb[128];
	for (uint32_t k = 0; k < 30; k++) {
		send_have(&a.i, k, TN_LINK_SEND_NORMAL, a.now);
		send_have(&b.i, k, TN_LINK_SEND_NORMAL, b.now);
		tn_ssize na = tn_link_out(a.i.l, fa, sizeof fa, a.now);
		tn_ssize nb = tn_link_out(b.i.l, fb, sizeof fb, b.now);
		assert_int_equal(na, 54);
		/* After every 3 messages b sends a REKEY (2 + 2 + 16) first. */
		if (k > 0 && k % 3 == 0) {
			assert_int_equal(nb, 20 + 54);
			/* From here on the ciphertexts differ from a's. */
			assert_memory_not_equal(fa + 2, fb + 20 + 2, 52);
		} else {
			assert_int_equal(nb, 54);
			if (k < 3)
				assert_memory_equal(fa, fb, 54);
			else
				assert_memory_not_equal(fa + 2, fb + 2, 52);
		}
		feed(&a, &a.r, fa, (size_t)na, WALL0);
		feed(&b, &b.r, fb, (size_t)nb, WALL0);
		send_have(&b.r, 500 + k, TN_LINK_SEND_NORMAL, b.now);
		flow(&b, &b.r, &b.i, WALL0);
	}
	assert_int_equal(b.r.nmsg, 30);
	assert_int_equal(b.i.nmsg, 30);
	for (uint32_t k = 0; k < 30; k++) {
		assert_int_equal(have_value(&b.r, k), k);
		assert_int_equal(have_value(&b.i, k), (500 + k) & 0xff);
	}
	assert_false(b.r.closed);
	assert_false(b.i.closed);
	pair_teardown(&a);
	pair_teardown(&b);
}

static void rekey_by_time(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 2);
	tn_link_del(p.i.l);
	tn_link_del(p.r.l);
	tn_link_config ci = cfg_i(&p.i, &p.k), cr = cfg_r(&p.r, &p.k, p.cache);
	ci.rekey_after_time = 10 * TN_MIN;
	cr.rekey_after_time = 10 * TN_MIN;
	ci.keepalive = cr.keepalive = TN_HOUR; /* keep PINGs out of the way */
	assert_int_equal(tn_link_new(&p.i.l, &ci), TN_OK);
	assert_int_equal(tn_link_new(&p.r.l, &cr), TN_OK);
	pair_start(&p);
	assert_established(&p, TN_LINK_PSK_CURRENT);
	tn_time t = p.now;
	assert_int_equal(tn_link_next_deadline(p.i.l), t + 10 * TN_MIN);
	tn_link_tick(p.i.l, t + 10 * TN_MIN - 1);
	assert_int_equal(tn_link_pending(p.i.l), 0);
	p.now = t + 10 * TN_MIN;
	tn_link_tick(p.i.l, p.now);
	tn_link_tick(p.r.l, p.now);
	size_t bi = p.i.out_total, br = p.r.out_total;
	pump(&p);
	/* One REKEY frame each way, nothing delivered. */
	assert_int_equal(p.i.out_total - bi, 20);
	assert_int_equal(p.r.out_total - br, 20);
	assert_int_equal(p.i.nmsg + p.r.nmsg, 0);
	assert_int_equal(tn_link_next_deadline(p.i.l), p.now + 10 * TN_MIN);
	for (uint32_t k = 0; k < 5; k++) {
		send_have(&p.i, k, TN_LINK_SEND_NORMAL, p.now);
		send_have(&p.r, 50 + k, TN_LINK_SEND_PRIORITY, p.now);
	}
	pump(&p);
	assert_int_equal(p.r.nmsg, 5);
	assert_int_equal(p.i.nmsg, 5);
	assert_false(p.i.closed || p.r.closed);
	/* A message sent after the rekey time, with no tick in between,
	 * rekeys first too. */
	p.now += 11 * TN_MIN;
	send_have(&p.i, 9, TN_LINK_SEND_NORMAL, p.now);
	bi = p.i.out_total;
	pump(&p);
	assert_int_equal(p.i.out_total - bi, 20 + 54);
	assert_int_equal(p.r.nmsg, 6);
	pair_teardown(&p);
}

/* ---- output bound ------------------------------------------------------ */

static void outq_overflow_closes(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 0);
	static uint8_t rec[50000];
	memset(rec, 0x42, sizeof rec);
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ROSTER;
	m.record.p = rec;
	m.record.len = sizeof rec;
	static uint8_t enc[TN_LINK_PLAINTEXT_MAX];
	tn_ssize n = tn_link_encode(&m, enc, sizeof enc);
	assert_true(n > 0);
	size_t per = 2 + (size_t)n + 16, fits = TN_LINK_OUTQ_MAX / per;
	for (size_t k = 0; k < fits; k++)
		assert_int_equal(tn_link_send(p.i.l, enc, (size_t)n, 0, p.now), TN_OK);
	drain(&p.i);
	assert_false(p.i.closed);
	assert_int_equal(tn_link_send(p.i.l, enc, (size_t)n, 0, p.now), TN_ERR_LIMIT);
	drain(&p.i);
	assert_true(p.i.closed);
	assert_int_equal(p.i.close.err, TN_ERR_LIMIT);
	assert_int_equal(p.i.stats.outq_overflow, 1);
	assert_int_equal(tn_link_send(p.i.l, enc, (size_t)n, 0, p.now), TN_ERR_CLOSED);
	/* Everything queued is dropped; the peer gets CLOSE(overload). */
	size_t before = p.i.out_total;
	flow(&p, &p.i, &p.r, WALL0);
	assert_int_equal(p.i.out_total - before, 2 + 3 + 16);
	assert_true(p.r.closed);
	assert_int_equal(p.r.close.peer_reason, TN_CLOSE_OVERLOAD);
	pair_teardown(&p);
}

/* A frame partly written when the queue overflows is finished first, so
 * the peer still reads a valid stream up to the CLOSE. */
static void overflow_finishes_partial_frame(void **state)
{
	(void)state;
	pair p;
	established_pair(&p, 0);
	send_have(&p.i, 1, TN_LINK_SEND_NORMAL, p.now);
	uint8_t w[8];
	assert_int_equal(tn_link_out(p.i.l, w, 5, p.now), 5);
	feed(&p, &p.r, w, 5, WALL0);
	tn_link_close(p.i.l, TN_CLOSE_SHUTDOWN, p.now);
	pump(&p);
	assert_int_equal(p.r.nmsg, 1);
	assert_true(p.r.closed);
	assert_int_equal(p.r.close.peer_reason, TN_CLOSE_SHUTDOWN);
	pair_teardown(&p);
}

/* ---- replay cache ------------------------------------------------------ */

static void replay_cache_eviction(void **state)
{
	(void)state;
	tn_replay_cache *c;
	assert_int_equal(tn_replay_cache_new(&c, 3), TN_OK);
	tn_noise_pubkey e[5];
	for (int i = 0; i < 5; i++)
		memset(e[i].b, i + 1, sizeof e[i].b);
	uint64_t w = WALL0;
	assert_int_equal(tn_replay_cache_check_insert(c, &e[0], w - AGE_MS, w), TN_OK);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[1], w, w), TN_OK);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[2], w + 10, w), TN_OK);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[1], w, w), TN_ERR_REPLAY);
	assert_int_equal(tn_replay_cache_count(c), 3);
	/* 1 ms later e[0] can no longer pass the stale check: its slot goes
	 * first, though e[0] is not the only entry. */
	assert_int_equal(tn_replay_cache_check_insert(c, &e[3], w + 1, w + 1), TN_OK);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[1], w, w + 1), TN_ERR_REPLAY);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[2], w, w + 1), TN_ERR_REPLAY);
	/* Full of fresh entries: the oldest insertion (e[1]) goes. */
	assert_int_equal(tn_replay_cache_check_insert(c, &e[4], w + 2, w + 2), TN_OK);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[2], w, w + 2), TN_ERR_REPLAY);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[3], w, w + 2), TN_ERR_REPLAY);
	assert_int_equal(tn_replay_cache_count(c), 3);
	/* A message stamped in the future stays remembered for as long as
	 * it could pass the stale check: e[2] was stamped w + 10. */
	assert_int_equal(tn_replay_cache_check_insert(c, &e[0], w + 1, w + 10 + AGE_MS), TN_OK);
	assert_int_equal(tn_replay_cache_check_insert(c, &e[2], w, w + 10 + AGE_MS), TN_ERR_REPLAY);
	assert_int_equal(tn_replay_cache_check_insert(NULL, &e[0], w, w), TN_ERR_INVAL);
	tn_replay_cache_del(c);
	tn_replay_cache_del(NULL);
	assert_int_equal(tn_replay_cache_new(&c, (size_t)1 << 21), TN_ERR_INVAL);
	assert_null(c);
}

/* The cache starts small and grows (64, 128, 200 slots here): every fresh
 * entry up to its size is remembered across the growth, and only then is
 * the oldest evicted. */
static void replay_cache_grows(void **state)
{
	(void)state;
	enum { N = 200 };
	tn_replay_cache *c;
	assert_int_equal(tn_replay_cache_new(&c, N), TN_OK);
	tn_noise_pubkey e;
	uint64_t w = WALL0;
	for (unsigned i = 0; i < N; i++) {
		memset(e.b, 0, sizeof e.b);
		e.b[0] = (uint8_t)i;
		e.b[1] = (uint8_t)(i >> 8);
		assert_int_equal(tn_replay_cache_check_insert(c, &e, w, w), TN_OK);
	}
	assert_int_equal(tn_replay_cache_count(c), N);
	for (unsigned i = 0; i < N; i++) {
		memset(e.b, 0, sizeof e.b);
		e.b[0] = (uint8_t)i;
		e.b[1] = (uint8_t)(i >> 8);
		assert_int_equal(tn_replay_cache_check_insert(c, &e, w, w), TN_ERR_REPLAY);
	}
	memset(e.b, 0xff, sizeof e.b); /* one more: entry 0 (the oldest) goes */
	assert_int_equal(tn_replay_cache_check_insert(c, &e, w, w), TN_OK);
	assert_int_equal(tn_replay_cache_count(c), N);
	memset(e.b, 0, sizeof e.b);
	assert_int_equal(tn_replay_cache_check_insert(c, &e, w, w), TN_OK);
	e.b[0] = 1;
	assert_int_equal(tn_replay_cache_check_insert(c, &e, w, w), TN_OK); /* 1 was evicted by 0 */
	e.b[0] = 2;
	assert_int_equal(tn_replay_cache_check_insert(c, &e, w, w), TN_OK);
	e.b[0] = 199;
	assert_int_equal(tn_replay_cache_check_insert(c, &e, w, w), TN_ERR_REPLAY);
	tn_replay_cache_del(c);
}

/* ---- message 1 names the initiator ------------------------------------- */

static void reject_unknown_identity(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_link_config ci = cfg_i(&p.i, &p.k);
	ci.identity = id_stranger; /* holds the PSK, signs correctly, not in the roster */
	uint8_t m1[256];
	size_t n = msg1_from(&p, &ci, WALL0, m1);
	REJECT_CASE(m1, n, rej_identity, TN_ERR_NOTFOUND);
	assert_int_equal(roster.asked, 1);
	assert_int_equal(roster.asked_static, 0);
	pair_teardown(&p);
}

/* The case the grace window opened: a revoked member still holds the
 * previous epoch's PSK, and gets no byte back. */
static void reject_revoked_under_previous_psk(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_link_config ci = cfg_i(&p.i, &p.k);
	ci.psk = p.k.prev;
	ci.identity = id_revoked;
	ci.static_key = p.k.other; /* her own, certified link key */
	uint8_t m1[256];
	size_t n = msg1_from(&p, &ci, WALL0, m1);
	REJECT_CASE(m1, n, rej_identity, TN_ERR_NOTFOUND);
	assert_int_equal(roster.last_psk, TN_LINK_PSK_PREVIOUS);
	/* An active member who missed the rekey is still let in. */
	pair_teardown(&p);
	pair_setup(&p, 0);
	ci = cfg_i(&p.i, &p.k);
	ci.psk = p.k.prev;
	pair_initiator(&p, &ci);
	pair_start(&p);
	assert_established(&p, TN_LINK_PSK_PREVIOUS);
	assert_int_equal(roster.last_psk, TN_LINK_PSK_PREVIOUS);
	pair_teardown(&p);
}

static void flip_sig(tn_hs1_payload *h)
{
	h->sig[10] ^= 1;
}

static void bump_timestamp(tn_hs1_payload *h)
{
	h->timestamp_ms++; /* still within the window: only the signature can tell */
}

static void swap_identity(tn_hs1_payload *h)
{
	memcpy(h->identity, tn_identity_pubkey(id_stranger)->b, 32);
}

static void swap_responder_hash(tn_hs1_payload *h)
{
	memset(h->responder_hash, 0, sizeof h->responder_hash);
}

/* A signature that does not verify over exactly what was sent: silence,
 * and the roster is not even asked. */
static void reject_bad_signature(void **state)
{
	(void)state;
	void (*tweaks[])(tn_hs1_payload *) = {flip_sig, bump_timestamp, swap_identity};
	for (size_t t = 0; t < sizeof tweaks / sizeof tweaks[0]; t++) {
		pair p;
		pair_setup(&p, 0);
		tn_noise_hs hs;
		uint8_t m1[2 + 193];
		raw_msg1(&p, &hs, &p.k.psk, id_member, tweaks[t], m1);
		tn_noise_hs_free(&hs);
		REJECT_CASE(m1, sizeof m1, rej_sig, TN_ERR_AUTH);
		assert_int_equal(roster.asked, 0);
		pair_teardown(&p);
	}
	/* A message 1 signed for another responder fails earlier. */
	pair p;
	pair_setup(&p, 0);
	tn_noise_hs hs;
	uint8_t m1[2 + 193];
	raw_msg1(&p, &hs, &p.k.psk, id_member, swap_responder_hash, m1);
	tn_noise_hs_free(&hs);
	REJECT_CASE(m1, sizeof m1, rej_misdirected, TN_ERR_MISDIRECTED);
	pair_teardown(&p);
}

/* A member's identity at message 1, another static key at message 3. */
static void msg3_static_must_be_the_identity_s(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 0);
	tn_link_config ci = cfg_i(&p.i, &p.k);
	ci.static_key = p.k.other;
	pair_initiator(&p, &ci);
	pair_start(&p);
	assert_false(p.r.established);
	assert_true(p.r.closed);
	assert_false(p.r.close.silent);
	assert_int_equal(p.r.close.err, TN_ERR_AUTH);
	assert_int_equal(p.r.stats.hs_wrong_identity, 1);
	assert_int_equal(roster.asked, 2);
	assert_int_equal(roster.asked_static, 1);
	pair_teardown(&p);
}

/* Under an invite's join PSK nobody is in the roster yet: the identity is
 * still signed for and reported, the roster is not asked. */
static void join_psk_names_newcomer(void **state)
{
	(void)state;
	pair p;
	pair_setup(&p, 2);
	tn_link_del(p.i.l);
	tn_link_del(p.r.l);
	tn_noise_psk join;
	memset(join.b, 0x77, sizeof join.b);
	tn_link_config ci = cfg_i(&p.i, &p.k), cr = cfg_r(&p.r, &p.k, p.cache);
	ci.psk = join;
	ci.identity = id_stranger;
	ci.static_key = p.k.other;
	cr.njoin_psks = 1;
	cr.join_psks[0] = join;
	assert_int_equal(tn_link_new(&p.i.l, &ci), TN_OK);
	assert_int_equal(tn_link_new(&p.r.l, &cr), TN_OK);
	pair_start(&p);
	assert_true(p.i.established);
	assert_true(p.r.established);
	assert_int_equal(p.r.est.psk, TN_LINK_PSK_JOIN);
	assert_memory_equal(p.r.est.remote_identity.b, tn_identity_pubkey(id_stranger)->b, 32);
	assert_memory_equal(p.r.est.remote_static.b, p.k.other.pub.b, 32);
	assert_int_equal(roster.asked, 0);
	/* A bad signature under a join PSK is refused all the same. */
	pair_teardown(&p);
	pair_setup(&p, 0);
	tn_link_del(p.r.l);
	cr = cfg_r(&p.r, &p.k, p.cache);
	cr.njoin_psks = 1;
	cr.join_psks[0] = join;
	assert_int_equal(tn_link_new(&p.r.l, &cr), TN_OK);
	tn_noise_hs hs;
	uint8_t m1[2 + 193];
	raw_msg1(&p, &hs, &join, id_stranger, flip_sig, m1);
	tn_noise_hs_free(&hs);
	assert_int_equal(tn_link_start(p.r.l, p.now, WALL0), TN_OK);
	feed(&p, &p.r, m1, sizeof m1, WALL0);
	assert_silent(&p, &p.r, &p.r.stats.rej_sig, TN_ERR_AUTH);
	pair_teardown(&p);
}

/* ---- corpus for fuzz/fuzz_link.c (run by hand) ------------------------- */

/* A raw Noise responder with static key rs answering message 1 m1 (with
 * its prefix) with payload pl; the 98-byte message 2 goes to out + 2. */
static void raw_msg2(pair *p, const uint8_t *m1, const tn_noise_keypair *rs, const uint8_t pl[2],
                     uint8_t out[2 + 98])
{
	tn_noise_hs hs;
	uint8_t pt[160];
	raw_hs_init(p, &hs, TN_NOISE_RESPONDER, rs, &p->k.psk);
	assert_int_equal(tn_noise_hs_read(&hs, m1 + 2, 193, pt, sizeof pt), 145);
	tn_rand rand = {.fn = test_rng_fn, .ud = &p->r.rng};
	assert_int_equal(tn_noise_hs_write(&hs, pl, 2, out + 2, 98, &rand), 98);
	out[0] = 0;
	out[1] = 98;
	tn_noise_hs_free(&hs);
}

/* The harness's initiator (input 0xff || 2 chunk bytes || message 2...)
 * has cfg_i's keys and a generator keyed {8, 0...}: a real responder link
 * answers its message 1 here, so message 2 is valid for it, then sends
 * PONG, HAVE and CLOSE after the initiator's message 3. */
static void write_init_corpus(const char *dir)
{
	pair p;
	pair_setup(&p, 0);
	memset(p.i.rng.key, 0, sizeof p.i.rng.key);
	p.i.rng.key[0] = 8; /* tn_link_start draws the ephemeral from it */
	static uint8_t b[2048];
	b[0] = 0xff;
	b[1] = b[2] = 0;
	assert_int_equal(tn_link_start(p.i.l, p.now, WALL0), TN_OK);
	assert_int_equal(tn_link_start(p.r.l, p.now, WALL0), TN_OK);
	uint8_t m[256];
	assert_int_equal(tn_link_out(p.i.l, m, sizeof m, p.now), 195);
	feed(&p, &p.r, m, 195, WALL0);
	assert_int_equal(tn_link_out(p.r.l, b + 3, 100, p.now), 100);
	test_write_file(dir, "init-msg2-valid", b, 3 + 100);
	/* Authentic message 2s the initiator must still refuse: from another
	 * static key than the one it dialled, and with a payload not [1]. */
	uint8_t alt[3 + 100] = {0xff, 0, 0};
	static const uint8_t one[] = {0x91, 0x01}, two[] = {0x91, 0x02};
	raw_msg2(&p, m, &p.k.other, one, alt + 3);
	test_write_file(dir, "init-msg2-wrong-key", alt, sizeof alt);
	raw_msg2(&p, m, &p.k.r, two, alt + 3);
	test_write_file(dir, "init-msg2-bad-payload", alt, sizeof alt);
	/* Not the key the initiator dialled: the same bytes, one bit off in
	 * the encrypted static; a truncated frame; a frame of message 3's size. */
	b[3 + 2 + 40] ^= 1;
	test_write_file(dir, "init-msg2-bad-mac", b, 3 + 100);
	b[3 + 2 + 40] ^= 1;
	b[4] = 97;
	test_write_file(dir, "init-msg2-short", b, 3 + 99);
	b[4] = 66;
	test_write_file(dir, "init-msg2-as-msg3", b, 3 + 68);
	b[4] = 98;
	/* The whole handshake, then the responder's transport frames. */
	feed(&p, &p.i, b + 3, 100, WALL0);
	assert_true(p.i.established);
	assert_int_equal(tn_link_out(p.i.l, m, sizeof m, p.now), 68);
	feed(&p, &p.r, m, 68, WALL0);
	assert_true(p.r.established);
	size_t n = 3 + 100;
	uint8_t pt[64];
	static const uint8_t pong[] = {0x92, 0x01, 0x05}; /* PONG [1, 5] */
	assert_int_equal(tn_link_send(p.r.l, pong, sizeof pong, 0, p.now), TN_OK);
	size_t hn = have_msg(pt, sizeof pt, 7);
	assert_int_equal(tn_link_send(p.r.l, pt, hn, 0, p.now), TN_OK);
	tn_ssize w = tn_link_out(p.r.l, b + n, sizeof b - n, p.now);
	assert_true(w > 0);
	n += (size_t)w;
	tn_link_close(p.r.l, TN_CLOSE_NORMAL, p.now);
	w = tn_link_out(p.r.l, b + n, sizeof b - n, p.now);
	assert_true(w > 0);
	n += (size_t)w;
	test_write_file(dir, "init-msg2-valid-then-frames", b, n);
	pair_teardown(&p);
}

/* The harness's responder has these keys and wall clock FUZZ_WALL = WALL0;
 * its input starts with 2 bytes choosing chunk sizes. */
static void write_corpus(const char *dir)
{
	pair p;
	pair_setup(&p, 0);
	uint8_t b[2 + 195];
	b[0] = b[1] = 0;
	tn_link_config ci = cfg_i(&p.i, &p.k);
	assert_int_equal(msg1_from(&p, &ci, WALL0, b + 2), 195);
	test_write_file(dir, "msg1-valid", b, sizeof b);
	/* The same, then garbage as message 3. */
	uint8_t b3[2 + 195 + 68];
	memcpy(b3, b, sizeof b);
	memset(b3 + sizeof b, 0xab, 68);
	b3[sizeof b] = 0;
	b3[sizeof b + 1] = 66;
	test_write_file(dir, "msg1-valid-then-bad-msg3", b3, sizeof b3);
	ci.psk = p.k.wrong;
	assert_int_equal(msg1_from(&p, &ci, WALL0, b + 2), 195);
	test_write_file(dir, "msg1-wrong-psk", b, sizeof b);
	/* A valid message 1 from a revoked member: the fuzz roster says no. */
	ci = cfg_i(&p.i, &p.k);
	ci.identity = id_revoked;
	assert_int_equal(msg1_from(&p, &ci, WALL0, b + 2), 195);
	test_write_file(dir, "msg1-revoked", b, sizeof b);
	static const char http[] = "\x01\x02GET / HTTP/1.1\r\n\r\n";
	test_write_file(dir, "http", (const uint8_t *)http, sizeof http - 1);
	static const uint8_t zero[] = {9, 9, 0, 0, 0, 0}, big[] = {1, 1, 0xff, 0xff};
	test_write_file(dir, "len-zero", zero, sizeof zero);
	test_write_file(dir, "len-max", big, sizeof big);
	/* Operations for the established part: PING, REKEY, HAVE, tick,
	 * send HAVE, CLOSE. */
	uint8_t ops[256];
	size_t n = 0;
	ops[n++] = 1, ops[n++] = 3, ops[n++] = 0x92, ops[n++] = 0x00, ops[n++] = 0x01;
	ops[n++] = 2, ops[n++] = 0;
	ops[n++] = 1, ops[n++] = 36;
	n += have_msg(ops + n, sizeof ops - n, 5);
	ops[n++] = 3, ops[n++] = 130;
	ops[n++] = 4, ops[n++] = 36;
	n += have_msg(ops + n, sizeof ops - n, 6);
	ops[n++] = 5, ops[n++] = 1, ops[n++] = 3;
	test_write_file(dir, "ops-established", ops, n);
	/* The initiator mode (first byte 0xff) runs the same operations. */
	uint8_t iops[1 + sizeof ops];
	iops[0] = 0xff;
	memcpy(iops + 1, ops, n);
	test_write_file(dir, "init-ops-established", iops, 1 + n);
	/* A newer peer (docs/wire.md §4 "Unknown types"): ignorable types
	 * [18, [1, "x"]], [127], [100, {1: nil}], then a HAVE (delivered),
	 * our own HAVE, a critical [128] (closes). */
	static const uint8_t unknown_ops[] = {
	        1, 6, 0x92, 0x12, 0x92, 0x01, 0xa1, 'x', /* [18, [1, "x"]] */
	        1, 2, 0x91, 0x7f,                        /* [127] */
	        1, 5, 0x92, 0x64, 0x81, 0x01, 0xc0,      /* [100, {1: nil}] */
	        1, 3, 0x92, 0x00, 0x02,                  /* PING */
	};
	n = 0;
	memcpy(ops + n, unknown_ops, sizeof unknown_ops);
	n += sizeof unknown_ops;
	ops[n++] = 1, ops[n++] = 36;
	n += have_msg(ops + n, sizeof ops - n, 7);
	ops[n++] = 4, ops[n++] = 36;
	n += have_msg(ops + n, sizeof ops - n, 8);
	ops[n++] = 1, ops[n++] = 3, ops[n++] = 0x91, ops[n++] = 0xcc, ops[n++] = 0x80;
	test_write_file(dir, "ops-unknown-type", ops, n);
	memcpy(iops + 1, ops, n);
	test_write_file(dir, "init-ops-unknown-type", iops, 1 + n);
	pair_teardown(&p);
	write_init_corpus(dir);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	id_member = make_identity(ID_MEMBER);
	id_stranger = make_identity(ID_STRANGER);
	id_revoked = make_identity(ID_REVOKED);
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
		write_corpus(argv[2]);
		tn_identity_del(id_member);
		tn_identity_del(id_stranger);
		tn_identity_del(id_revoked);
		return 0;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(handshake_whole_frames),
	        cmocka_unit_test(handshake_byte_by_byte),
	        cmocka_unit_test(handshake_random_chunks),
	        cmocka_unit_test(message1_has_exact_size),
	        cmocka_unit_test(previous_psk_accepted),
	        cmocka_unit_test(start_twice_is_state),
	        cmocka_unit_test(config_checked),
	        cmocka_unit_test(close_during_handshake_sends_nothing_more),
	        cmocka_unit_test(reject_wrong_psk),
	        cmocka_unit_test(reject_garbage_right_size),
	        cmocka_unit_test(reject_garbage_other_sizes),
	        cmocka_unit_test(reject_http),
	        cmocka_unit_test(reject_tls_client_hello),
	        cmocka_unit_test(reject_length_zero),
	        cmocka_unit_test(reject_length_max_without_body),
	        cmocka_unit_test(reject_replayed_msg1),
	        cmocka_unit_test(reject_misdirected),
	        cmocka_unit_test(stale_timestamp_boundaries),
	        cmocka_unit_test(reject_undecodable_payload),
	        cmocka_unit_test(handshake_timeout_initiator),
	        cmocka_unit_test(handshake_timeout_responder_is_silent),
	        cmocka_unit_test(initiator_rejects_unexpected_responder),
	        cmocka_unit_test(messages_both_ways_in_order),
	        cmocka_unit_test(large_message_roundtrip),
	        cmocka_unit_test(recv_stops_after_each_message),
	        cmocka_unit_test(priority_overtakes_queued),
	        cmocka_unit_test(send_rules),
	        cmocka_unit_test(close_sends_close_and_nothing_after),
	        cmocka_unit_test(tampered_frame_closes),
	        cmocka_unit_test(bad_transport_frames_close),
	        cmocka_unit_test(authentic_garbage_closes),
	        cmocka_unit_test(peer_rekey_switches_rx),
	        cmocka_unit_test(keepalive_ping_only_when_idle),
	        cmocka_unit_test(no_ping_while_traffic_flows),
	        cmocka_unit_test(dead_peer_closes),
	        cmocka_unit_test(unknown_type_ignored_link_stays_up),
	        cmocka_unit_test(rekey_by_count),
	        cmocka_unit_test(rekey_by_time),
	        cmocka_unit_test(outq_overflow_closes),
	        cmocka_unit_test(overflow_finishes_partial_frame),
	        cmocka_unit_test(replay_cache_eviction),
	        cmocka_unit_test(replay_cache_grows),
	        cmocka_unit_test(reject_unknown_identity),
	        cmocka_unit_test(reject_revoked_under_previous_psk),
	        cmocka_unit_test(reject_bad_signature),
	        cmocka_unit_test(msg3_static_must_be_the_identity_s),
	        cmocka_unit_test(join_psk_names_newcomer),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	tn_identity_del(id_member);
	tn_identity_del(id_stranger);
	tn_identity_del(id_revoked);
	return failed;
}
