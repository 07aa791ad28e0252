/* Record codec: golden round trips, every truncation, trailing bytes, output
 * buffer too small, one hand-built input per rejection code, encoder
 * refusals, Arabic and Kurdish text byte-exact, and the size bounds the
 * limits header promises. The canonical round trip itself (decode ->
 * re-encode -> identical bytes, signed range) is checked by the rt_*
 * helpers shared with fuzz_codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_file.h"
#include "../../fuzz/codec_reencode.h"
#include "tocsin/mp.h"
#include "tocsin/codec.h"

#define AR_TEXT "النجدة، أنا في خطر"
#define KU_TEXT "یارمەتی، من لە مەترسیدام"

enum { BUF = 70000 };

static uint8_t buf[BUF];
static uint8_t buf2[BUF];

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static tn_view text(const char *s)
{
	tn_view v = {(const uint8_t *)s, strlen(s)};
	return v;
}

/* ---- sample records ---------------------------------------------------- */

static uint8_t ct[TN_ALERT_CIPHERTEXT_MAX];

static tn_alert_env sample_env(void)
{
	tn_alert_env e;
	memset(&e, 0, sizeof e);
	fill(e.network_id, sizeof e.network_id, 1);
	fill(e.author, sizeof e.author, 2);
	e.seq = 7;
	e.kind = TN_KIND_RESPONDING;
	e.has_refers_to = true;
	fill(e.refers_to, sizeof e.refers_to, 3);
	e.created_ms = UINT64_C(1718000000000);
	e.expires_ms = e.created_ms + 3600000;
	e.epoch = 3;
	fill(e.nonce, sizeof e.nonce, 4);
	fill(ct, sizeof ct, 5);
	e.ciphertext.p = ct;
	e.ciphertext.len = 80;
	fill(e.signature, sizeof e.signature, 6);
	return e;
}

static tn_alert_pt sample_pt(void)
{
	tn_alert_pt p;
	memset(&p, 0, sizeof p);
	p.severity = TN_SEV_CRITICAL;
	p.violation = TN_VIOL_DETENTION;
	p.has_text = true;
	p.text = text(AR_TEXT);
	p.has_location = true;
	p.location = text(KU_TEXT);
	p.has_latlon = true;
	p.lat_e7 = 361906000; /* Erbil */
	p.lon_e7 = 440089000;
	return p;
}

static tn_receipt sample_receipt(void)
{
	tn_receipt c;
	memset(&c, 0, sizeof c);
	fill(c.network_id, sizeof c.network_id, 10);
	fill(c.alert_id, sizeof c.alert_id, 11);
	fill(c.receiver, sizeof c.receiver, 12);
	c.stored_ms = UINT64_C(1718000000500);
	fill(c.signature, sizeof c.signature, 13);
	return c;
}

static tn_digest_entry dig_entries[3];

static tn_digest sample_digest(void)
{
	tn_digest d;
	memset(&d, 0, sizeof d);
	fill(d.network_id, sizeof d.network_id, 20);
	fill(d.roster_digest, sizeof d.roster_digest, 21);
	d.part = 1;
	d.parts = 2;
	for (size_t i = 0; i < 3; i++) {
		memset(&dig_entries[i], 0, sizeof dig_entries[i]);
		memset(dig_entries[i].author, (int)(0x10 * (i + 1)), TN_PUBKEY);
		/* i ranges: {1..1000}, {1..1, 3..70000}, {5..5, 7..9, 300..2^64-1} */
		dig_entries[i].nranges = i + 1;
	}
	dig_entries[0].ranges[0] = (tn_seq_range){1, 1000};
	dig_entries[1].ranges[0] = (tn_seq_range){1, 1};
	dig_entries[1].ranges[1] = (tn_seq_range){3, 70000};
	dig_entries[2].ranges[0] = (tn_seq_range){5, 5};
	dig_entries[2].ranges[1] = (tn_seq_range){7, 9};
	dig_entries[2].ranges[2] = (tn_seq_range){300, UINT64_MAX};
	d.entries = dig_entries;
	d.count = 3;
	return d;
}

static tn_rekey_entry rekey_entries[TN_REKEY_PER_PART];
static tn_view endpoints[2];

static tn_roster_rec sample_roster(uint8_t type)
{
	tn_roster_rec r;
	memset(&r, 0, sizeof r);
	r.type = type;
	if (type != TN_ROSTER_GENESIS)
		fill(r.network_id, sizeof r.network_id, 30);
	fill(r.issuer, sizeof r.issuer, 31);
	/* Genesis is iseq 1 (prev nil, auth nil); the others sit further
	 * down a chain, so prev and auth are both present. */
	r.iseq = type == TN_ROSTER_GENESIS ? 1 : 300;
	if (type != TN_ROSTER_GENESIS) {
		fill(r.prev, sizeof r.prev, 38);
		fill(r.auth, sizeof r.auth, 39);
	}
	r.created_ms = UINT64_C(1718000001000);
	fill(r.signature, sizeof r.signature, 32);
	switch (type) {
	case TN_ROSTER_GENESIS:
		r.body.genesis.network_name = text("شبكة الحماية");
		fill(r.body.genesis.founder_link_pk, TN_PUBKEY, 33);
		r.body.genesis.founder_name = text("Leyla");
		fill(r.body.genesis.sealed, TN_SEALED_SECRETS, 43);
		break;
	case TN_ROSTER_ADD:
		fill(r.body.add.subject, TN_PUBKEY, 34);
		fill(r.body.add.subject_link_pk, TN_PUBKEY, 35);
		r.body.add.name = text("ژیان");
		r.body.add.role = TN_ROLE_COORDINATOR;
		r.body.add.epoch = 70000;
		fill(r.body.add.sealed, TN_SEALED_SECRETS, 44);
		break;
	case TN_ROSTER_REVOKE:
		fill(r.body.revoke.subject, TN_PUBKEY, 36);
		r.body.revoke.reason = text("device seized");
		r.body.revoke.pin.pin_seq = 12;
		r.body.revoke.pin.has_pin_head = true;
		fill(r.body.revoke.pin.pin_head, TN_HASH, 45);
		break;
	case TN_ROSTER_ROLE:
		fill(r.body.role.subject, TN_PUBKEY, 37);
		r.body.role.role = TN_ROLE_MEMBER;
		r.body.role.pin.pin_seq = 3;
		r.body.role.pin.has_pin_head = true;
		fill(r.body.role.pin.pin_head, TN_HASH, 46);
		break;
	case TN_ROSTER_REKEY:
		r.body.rekey.epoch = 4;
		r.body.rekey.part = 1;
		r.body.rekey.parts = 3;
		for (size_t i = 0; i < 3; i++) {
			memset(rekey_entries[i].member, (int)(0x20 + i), TN_PUBKEY);
			fill(rekey_entries[i].sealed, TN_SEALED_SECRETS, (uint8_t)i);
		}
		r.body.rekey.entries = rekey_entries;
		r.body.rekey.count = 3;
		break;
	case TN_ROSTER_ENDPOINT:
		r.body.endpoint.expires_ms = UINT64_C(1718600000000);
		endpoints[0] = text("tcp:203.0.113.5:7443");
		endpoints[1] =
		        text("onion:abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv:7443");
		r.body.endpoint.endpoints = endpoints;
		r.body.endpoint.count = 2;
		break;
	}
	return r;
}

static tn_view receipt_views[2];
static const uint8_t receipt_hops[2] = {0, TN_RECEIPT_HOPS_MAX};
static tn_want wants[2];
static tn_roster_head heads[2];
static uint8_t inner[BUF];

static tn_link_msg sample_link(uint8_t type)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	switch (type) {
	case TN_LINK_PING:
	case TN_LINK_PONG: m.token = UINT64_C(0x1122334455667788); break;
	case TN_LINK_CLOSE: m.reason = TN_CLOSE_REVOKED; break;
	case TN_LINK_ALERT: {
		tn_alert_env e = sample_env();
		tn_ssize n = tn_alert_env_encode(&e, inner, sizeof inner);
		assert_true(n > 0);
		m.record.p = inner;
		m.record.len = (size_t)n;
		break;
	}
	case TN_LINK_DIGEST: {
		tn_digest d = sample_digest();
		tn_ssize n = tn_digest_encode(&d, inner, sizeof inner);
		assert_true(n > 0);
		m.record.p = inner;
		m.record.len = (size_t)n;
		break;
	}
	case TN_LINK_RECEIPTS_WANTED: {
		static uint8_t ids[3 * TN_RWANT_ID];
		fill(ids, sizeof ids, 50);
		tn_rwant w;
		memset(&w, 0, sizeof w);
		fill(w.network_id, TN_NETWORK_ID, 51);
		fill(w.alert_id, TN_ALERT_ID, 52);
		w.issued_ms = UINT64_C(1782000000000);
		w.missing = (tn_view){ids, sizeof ids};
		fill(w.signature, TN_SIG, 53);
		tn_ssize n = tn_rwant_encode(&w, inner, sizeof inner);
		assert_true(n > 0);
		m.record.p = inner;
		m.record.len = (size_t)n;
		break;
	}
	case TN_LINK_ROSTER: {
		tn_roster_rec r = sample_roster(TN_ROSTER_ADD);
		tn_ssize n = tn_roster_encode(&r, inner, sizeof inner);
		assert_true(n > 0);
		m.record.p = inner;
		m.record.len = (size_t)n;
		break;
	}
	case TN_LINK_RECEIPTS: {
		tn_receipt c = sample_receipt();
		tn_ssize n = tn_receipt_encode(&c, inner, sizeof inner);
		assert_true(n > 0);
		receipt_views[0].p = inner;
		receipt_views[0].len = (size_t)n;
		c.stored_ms++;
		tn_ssize n2 = tn_receipt_encode(&c, inner + n, sizeof inner - (size_t)n);
		assert_true(n2 > 0);
		receipt_views[1].p = inner + n;
		receipt_views[1].len = (size_t)n2;
		m.receipts = receipt_views;
		m.receipt_hops = receipt_hops;
		m.count = 2;
		break;
	}
	case TN_LINK_WANT:
		fill(wants[0].author, TN_PUBKEY, 40);
		wants[0].from_seq = 1;
		wants[0].to_seq = 1;
		fill(wants[1].author, TN_PUBKEY, 41);
		wants[1].from_seq = 5;
		wants[1].to_seq = 300;
		m.wants = wants;
		m.count = 2;
		break;
	case TN_LINK_HAVE: fill(m.alert_id, TN_ALERT_ID, 42); break;
	case TN_LINK_IHAVE:
	case TN_LINK_GRAFT:
		fill(inner, 3 * TN_ALERT_ID, 48);
		m.ids = (tn_view){inner, 3 * TN_ALERT_ID};
		m.count = 3;
		break;
	case TN_LINK_DIALBACK: m.token = UINT64_C(0x0123456789abcdef); break;
	case TN_LINK_DIALBACK_RESULT:
		m.token = UINT64_C(0xfedcba9876543210);
		m.dialback_result = TN_DIALBACK_HANDSHAKE;
		break;
	case TN_LINK_JOIN:
		fill(m.join.identity, TN_PUBKEY, 43);
		fill(m.join.link, TN_PUBKEY, 44);
		m.join.name = (tn_view){(const uint8_t *)"Bahar", 5};
		fill(m.join.sig, TN_SIG, 45);
		break;
	case TN_LINK_ROSTER_HEADS:
		fill(heads[0].issuer, TN_PUBKEY, 46);
		fill(heads[1].issuer, TN_PUBKEY, 47);
		heads[0].issuer[0] = 1;
		heads[1].issuer[0] = 2;
		heads[0].iseq = 1;
		heads[1].iseq = 70000;
		m.heads = heads;
		m.count = 2;
		break;
	}
	return m;
}

/* ---- one table of every record shape ----------------------------------- */

typedef struct sample {
	const char *name;
	tn_err (*rt)(const uint8_t *in, size_t len);
	int kind; /* which encoder below */
	uint8_t type;
} sample;

enum {
	K_HS1,
	K_HS23,
	K_LINK,
	K_ENV,
	K_ENV_NOREF,
	K_PT,
	K_PT_MIN,
	K_RECEIPT,
	K_DIGEST,
	K_DIGEST_EMPTY,
	K_ROSTER,
	K_ROSTER_FIRST,   /* an issuer's first record: iseq 1, prev nil */
	K_ROSTER_PROMOTE, /* a promotion: pin 0, nil */
	K_ROSTER_NOPIN,   /* a revoke of a subject who signed nothing: pin 0, nil */
};

static const sample samples[] = {
        {"hs1", rt_hs1, K_HS1, 0},
        {"hs23", rt_hs23, K_HS23, 0},
        {"link-ping", rt_link, K_LINK, TN_LINK_PING},
        {"link-pong", rt_link, K_LINK, TN_LINK_PONG},
        {"link-close", rt_link, K_LINK, TN_LINK_CLOSE},
        {"link-alert", rt_link, K_LINK, TN_LINK_ALERT},
        {"link-receipts", rt_link, K_LINK, TN_LINK_RECEIPTS},
        {"link-digest", rt_link, K_LINK, TN_LINK_DIGEST},
        {"link-want", rt_link, K_LINK, TN_LINK_WANT},
        {"link-roster", rt_link, K_LINK, TN_LINK_ROSTER},
        {"link-have", rt_link, K_LINK, TN_LINK_HAVE},
        {"envelope", rt_env, K_ENV, 0},
        {"envelope-noref", rt_env, K_ENV_NOREF, 0},
        {"plaintext", rt_pt, K_PT, 0},
        {"plaintext-min", rt_pt, K_PT_MIN, 0},
        {"receipt", rt_receipt, K_RECEIPT, 0},
        {"digest", rt_digest, K_DIGEST, 0},
        {"digest-empty", rt_digest, K_DIGEST_EMPTY, 0},
        {"roster-genesis", rt_roster, K_ROSTER, TN_ROSTER_GENESIS},
        {"roster-add", rt_roster, K_ROSTER, TN_ROSTER_ADD},
        {"roster-revoke", rt_roster, K_ROSTER, TN_ROSTER_REVOKE},
        {"roster-role", rt_roster, K_ROSTER, TN_ROSTER_ROLE},
        {"roster-first", rt_roster, K_ROSTER_FIRST, TN_ROSTER_ENDPOINT},
        {"roster-promote", rt_roster, K_ROSTER_PROMOTE, TN_ROSTER_ROLE},
        {"roster-revoke-nopin", rt_roster, K_ROSTER_NOPIN, TN_ROSTER_REVOKE},
        {"roster-rekey", rt_roster, K_ROSTER, TN_ROSTER_REKEY},
        {"roster-endpoint", rt_roster, K_ROSTER, TN_ROSTER_ENDPOINT},
        /* Appended, not grouped with the other link messages: tests index
         * samples[] by position. */
        {"link-rekey", rt_link, K_LINK, TN_LINK_REKEY},
        {"link-join", rt_link, K_LINK, TN_LINK_JOIN},
        {"link-heads", rt_link, K_LINK, TN_LINK_ROSTER_HEADS},
        {"link-dialback", rt_link, K_LINK, TN_LINK_DIALBACK},
        {"link-dialback-result", rt_link, K_LINK, TN_LINK_DIALBACK_RESULT},
        {"link-receipts-wanted", rt_link, K_LINK, TN_LINK_RECEIPTS_WANTED},
        {"link-ihave", rt_link, K_LINK, TN_LINK_IHAVE},
        {"link-graft", rt_link, K_LINK, TN_LINK_GRAFT},
        {"link-prune", rt_link, K_LINK, TN_LINK_PRUNE},
};

/* Encode sample s into out with capacity cap. */
static tn_ssize encode_sample(const sample *s, uint8_t *out, size_t cap)
{
	switch (s->kind) {
	case K_HS1: {
		tn_hs1_payload m = {UINT64_C(1718000000000), {0}, {0}, {0}};
		fill(m.responder_hash, sizeof m.responder_hash, 50);
		fill(m.identity, sizeof m.identity, 51);
		fill(m.sig, sizeof m.sig, 52);
		return tn_hs1_encode(&m, out, cap);
	}
	case K_HS23: return tn_hs23_encode(out, cap);
	case K_LINK: {
		tn_link_msg m = sample_link(s->type);
		return tn_link_encode(&m, out, cap);
	}
	case K_ENV:
	case K_ENV_NOREF: {
		tn_alert_env e = sample_env();
		e.has_refers_to = s->kind == K_ENV;
		if (!e.has_refers_to)
			memset(e.refers_to, 0, sizeof e.refers_to);
		return tn_alert_env_encode(&e, out, cap);
	}
	case K_PT: {
		tn_alert_pt p = sample_pt();
		return tn_alert_pt_encode(&p, out, cap);
	}
	case K_PT_MIN: {
		tn_alert_pt p = {0};
		p.severity = TN_SEV_HIGH;
		p.violation = TN_VIOL_RAID;
		return tn_alert_pt_encode(&p, out, cap);
	}
	case K_RECEIPT: {
		tn_receipt c = sample_receipt();
		return tn_receipt_encode(&c, out, cap);
	}
	case K_DIGEST:
	case K_DIGEST_EMPTY: {
		tn_digest d = sample_digest();
		if (s->kind == K_DIGEST_EMPTY) {
			d.entries = NULL;
			d.count = 0;
		}
		return tn_digest_encode(&d, out, cap);
	}
	case K_ROSTER: {
		tn_roster_rec r = sample_roster(s->type);
		return tn_roster_encode(&r, out, cap);
	}
	case K_ROSTER_FIRST:
	case K_ROSTER_PROMOTE:
	case K_ROSTER_NOPIN: {
		tn_roster_rec r = sample_roster(s->type);
		if (s->kind == K_ROSTER_FIRST)
			r.iseq = 1;
		else if (s->kind == K_ROSTER_PROMOTE) {
			r.body.role.role = TN_ROLE_COORDINATOR;
			r.body.role.pin = (tn_roster_pin){0};
		} else
			r.body.revoke.pin = (tn_roster_pin){0};
		return tn_roster_encode(&r, out, cap);
	}
	}
	return TN_ERR_INTERNAL;
}

static size_t enc(const sample *s, uint8_t *out)
{
	tn_ssize n = encode_sample(s, out, BUF);
	assert_true(n > 0);
	return (size_t)n;
}

#define FOR_SAMPLES(s)                                                                             \
	for (const sample *s = samples; s < samples + sizeof samples / sizeof samples[0]; s++)

/* ---- generic properties, every record ---------------------------------- */

static void roundtrip_every_record(void **state)
{
	(void)state;
	FOR_SAMPLES(s)
	{
		size_t n = enc(s, buf);
		/* rt_* aborts unless re-encoding is byte-identical. */
		assert_int_equal(s->rt(buf, n), TN_OK);
	}
}

static void every_truncation_is_truncated(void **state)
{
	(void)state;
	FOR_SAMPLES(s)
	{
		size_t n = enc(s, buf);
		for (size_t k = 0; k < n; k++) {
			/* Exact-size heap copy so ASan catches any over-read. */
			uint8_t *cut = malloc(k ? k : 1);
			assert_non_null(cut);
			memcpy(cut, buf, k);
			tn_err rc = s->rt(cut, k);
			if (rc != TN_ERR_DEC_TRUNCATED)
				fail_msg("%s: prefix %zu of %zu gave %s", s->name, k, n,
				         tn_strerror(rc));
			free(cut);
		}
	}
}

static void trailing_byte_rejected(void **state)
{
	(void)state;
	FOR_SAMPLES(s)
	{
		size_t n = enc(s, buf);
		buf[n] = 0xc0;
		assert_int_equal(s->rt(buf, n + 1), TN_ERR_DEC_TRAILING);
	}
}

static void output_one_byte_short_is_nobuf(void **state)
{
	(void)state;
	FOR_SAMPLES(s)
	{
		size_t n = enc(s, buf);
		/* Nothing is written when the record does not fit. */
		memset(buf2, 0xee, n);
		assert_int_equal(encode_sample(s, buf2, n - 1), TN_ERR_NOBUF);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(buf2[i], 0xee);
		assert_int_equal(encode_sample(s, buf2, n), (tn_ssize)n);
		assert_int_equal(encode_sample(s, NULL, 0), TN_ERR_NOBUF);
	}
}

static void failed_decode_leaves_zeroed_struct(void **state)
{
	(void)state;
	tn_alert_env e;
	size_t n = enc(&samples[11], buf);
	assert_int_equal(tn_alert_env_decode(&e, buf, n), TN_OK);
	assert_int_equal(tn_alert_env_decode(&e, buf, n - 1), TN_ERR_DEC_TRUNCATED);
	static const tn_alert_env zero;
	assert_memory_equal(&e, &zero, sizeof e);

	tn_roster_rec r;
	tn_roster_rec rzero;
	memset(&rzero, 0, sizeof rzero);
	memset(&r, 0xa5, sizeof r);
	assert_int_equal(tn_roster_decode(&r, buf, 1), TN_ERR_DEC_TRUNCATED);
	assert_memory_equal(&r, &rzero, sizeof r);
}

/* ---- golden bytes (the wire format, frozen) ---------------------------- */

static void golden_small_records(void **state)
{
	(void)state;
	static const uint8_t hs23[] = {0x91, 0x01};
	assert_int_equal(tn_hs23_encode(buf, BUF), 2);
	assert_memory_equal(buf, hs23, 2);

	tn_link_msg m = {0};
	m.type = TN_LINK_PING;
	m.token = 5;
	static const uint8_t ping[] = {0x92, 0x00, 0x05};
	assert_int_equal(tn_link_encode(&m, buf, BUF), 3);
	assert_memory_equal(buf, ping, 3);

	m.type = TN_LINK_PONG;
	m.token = 0x1000;
	static const uint8_t pong[] = {0x92, 0x01, 0xcd, 0x10, 0x00};
	assert_int_equal(tn_link_encode(&m, buf, BUF), 5);
	assert_memory_equal(buf, pong, 5);

	/* REKEY has no body: [9]. Fields of other types are ignored. */
	m.type = TN_LINK_REKEY;
	static const uint8_t rekey[] = {0x91, 0x09};
	assert_int_equal(tn_link_encode(&m, buf, BUF), 2);
	assert_memory_equal(buf, rekey, 2);
	tn_link_msg md;
	assert_int_equal(tn_link_decode(&md, rekey, sizeof rekey), TN_OK);
	assert_int_equal(md.type, TN_LINK_REKEY);

	tn_hs1_payload h = {0x100000000, {0}, {0}, {0}};
	memset(h.responder_hash, 0xab, sizeof h.responder_hash);
	memset(h.identity, 0xcd, sizeof h.identity);
	memset(h.sig, 0xef, sizeof h.sig);
	uint8_t hs1[2 + 9 + 3 * 2 + 32 + 32 + 64] = {0x95, 0x01, 0xcf, 0, 0,    0,   1,
	                                             0,    0,    0,    0, 0xc4, 0x20};
	memset(hs1 + 13, 0xab, 32);
	hs1[45] = 0xc4;
	hs1[46] = 0x20;
	memset(hs1 + 47, 0xcd, 32);
	hs1[79] = 0xc4;
	hs1[80] = 0x40;
	memset(hs1 + 81, 0xef, 64);
	assert_int_equal(tn_hs1_encode(&h, buf, BUF), 145);
	assert_memory_equal(buf, hs1, 145);

	tn_alert_pt p = {0};
	p.severity = 3;
	p.violation = 7;
	p.has_latlon = true;
	p.lat_e7 = -1;
	p.lon_e7 = -200;
	static const uint8_t pt[] = {0x83, 0x01, 0x03, 0x02, 0x07, 0x05,
	                             0x92, 0xff, 0xd1, 0xff, 0x38};
	assert_int_equal(tn_alert_pt_encode(&p, buf, BUF), sizeof pt);
	assert_memory_equal(buf, pt, sizeof pt);
}

/* ---- element surgery for hand-built inputs ----------------------------- */

/* Find element path[0] of the top-level container, path[1] inside that, and
 * so on (map items count keys and values alike). */
static void locate(const uint8_t *in, size_t len, const int *path, size_t depth, size_t *off,
                   size_t *elen)
{
	tn_mp_rd r;
	tn_mp_obj o;
	tn_mp_rd_init(&r, in, len);
	for (size_t d = 0; d < depth; d++) {
		assert_int_equal(tn_mp_next(&r, &o), TN_OK);
		assert_true(o.kind == TN_MP_ARRAY || o.kind == TN_MP_MAP);
		for (int i = 0; i < path[d]; i++)
			assert_int_equal(tn_mp_skip(&r, 0), TN_OK);
	}
	*off = r.off;
	assert_int_equal(tn_mp_skip(&r, 0), TN_OK);
	*elen = r.off - *off;
}

/* out = in with the element at path replaced by repl (rlen may be 0 to
 * drop it). Returns the new length. */
static size_t splice(const uint8_t *in, size_t len, const int *path, size_t depth,
                     const uint8_t *repl, size_t rlen, uint8_t *out)
{
	size_t off, elen;
	locate(in, len, path, depth, &off, &elen);
	memmove(out, in, off);
	if (rlen)
		memcpy(out + off, repl, rlen);
	memmove(out + off + rlen, in + off + elen, len - off - elen);
	return len - elen + rlen;
}

/* Bytes of one msgpack value, built with our writer. */
typedef struct val {
	uint8_t b[5000];
	size_t n;
} val;

static val v_uint(uint64_t x)
{
	val v;
	tn_mp_wr w;
	tn_mp_wr_init(&w, v.b, sizeof v.b);
	tn_mp_put_uint(&w, x);
	v.n = (size_t)tn_mp_wr_end(&w);
	return v;
}

static val v_int(int64_t x)
{
	val v;
	tn_mp_wr w;
	tn_mp_wr_init(&w, v.b, sizeof v.b);
	tn_mp_put_int(&w, x);
	v.n = (size_t)tn_mp_wr_end(&w);
	return v;
}

static val v_bin(size_t n)
{
	val v;
	uint8_t tmp[4500];
	assert_true(n <= sizeof tmp);
	fill(tmp, n, 99);
	tn_mp_wr w;
	tn_mp_wr_init(&w, v.b, sizeof v.b);
	tn_mp_put_bin(&w, tmp, n);
	v.n = (size_t)tn_mp_wr_end(&w);
	return v;
}

static val v_str(const char *s, size_t n)
{
	val v;
	tn_mp_wr w;
	tn_mp_wr_init(&w, v.b, sizeof v.b);
	tn_mp_put_str(&w, (const uint8_t *)s, n);
	v.n = (size_t)tn_mp_wr_end(&w);
	return v;
}

static val v_raw(const uint8_t *p, size_t n)
{
	val v;
	memcpy(v.b, p, n);
	v.n = n;
	return v;
}

static val v_strn(size_t n, char c)
{
	char tmp[4500];
	assert_true(n <= sizeof tmp);
	memset(tmp, c, n);
	return v_str(tmp, n);
}

#define RAW(...) v_raw((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* Encode sample `name`, replace element at path, decode with its rt. */
static tn_err mutate(const sample *s, const int *path, size_t depth, val v)
{
	size_t n = enc(s, buf);
	size_t m = splice(buf, n, path, depth, v.b, v.n, buf2);
	return s->rt(buf2, m);
}

static const sample *find(const char *name)
{
	FOR_SAMPLES(s)
	if (strcmp(s->name, name) == 0)
		return s;
	fail_msg("no sample %s", name);
	return NULL;
}

#define P(...) ((const int[]){__VA_ARGS__}), (sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

/* ---- one hand-built input per rejection code --------------------------- */

static void rejects_wrong_version(void **state)
{
	(void)state;
	assert_int_equal(mutate(find("envelope"), P(0), v_uint(2)), TN_ERR_DEC_VERSION);
	assert_int_equal(mutate(find("hs1"), P(0), v_uint(0)), TN_ERR_DEC_VERSION);
	assert_int_equal(mutate(find("hs23"), P(0), v_uint(2)), TN_ERR_DEC_VERSION);
	assert_int_equal(mutate(find("receipt"), P(0), v_uint(9)), TN_ERR_DEC_VERSION);
	assert_int_equal(mutate(find("digest"), P(0), v_uint(2)), TN_ERR_DEC_VERSION);
	assert_int_equal(mutate(find("roster-add"), P(0), v_uint(2)), TN_ERR_DEC_VERSION);
}

static void rejects_wrong_array_length(void **state)
{
	(void)state;
	/* Drop the signature and fix the header: 11 fields instead of 12. */
	size_t n = enc(find("envelope"), buf);
	size_t m = splice(buf, n, P(11), NULL, 0, buf2);
	buf2[0] = 0x9b;
	assert_int_equal(tn_alert_env_decode(&(tn_alert_env){0}, buf2, m), TN_ERR_DEC_ARRAYLEN);
	/* hs2/3 with an extra field. */
	static const uint8_t hs[] = {0x92, 0x01, 0xc0};
	assert_int_equal(tn_hs23_decode(hs, sizeof hs), TN_ERR_DEC_ARRAYLEN);
	/* REKEY with a body, and a body-carrying type without one. */
	static const uint8_t rekey_body[] = {0x92, 0x09, 0x00};
	assert_int_equal(rt_link(rekey_body, sizeof rekey_body), TN_ERR_DEC_ARRAYLEN);
	static const uint8_t ping_nobody[] = {0x91, 0x00};
	assert_int_equal(rt_link(ping_nobody, sizeof ping_nobody), TN_ERR_DEC_ARRAYLEN);
	/* Empty record. */
	static const uint8_t empty[] = {0x90};
	assert_int_equal(tn_receipt_decode(&(tn_receipt){0}, empty, 1), TN_ERR_DEC_ARRAYLEN);
	/* Link message with a third element. */
	static const uint8_t ping3[] = {0x93, 0x00, 0x05, 0x05};
	assert_int_equal(rt_link(ping3, sizeof ping3), TN_ERR_DEC_ARRAYLEN);
	/* Lat/lon pair with three numbers. */
	assert_int_equal(mutate(find("plaintext"), P(9), RAW(0x93, 0x01, 0x02, 0x03)),
	                 TN_ERR_DEC_ARRAYLEN);
	/* Roster body of the wrong shape for its type: add with 3 fields. */
	tn_roster_rec r = sample_roster(TN_ROSTER_REVOKE);
	tn_ssize body = tn_roster_encode(&r, buf2, BUF); /* body [subject, reason] */
	assert_true(body > 0);
	size_t boff, blen;
	locate(buf2, (size_t)body, P(8), &boff, &blen);
	val v = v_raw(buf2 + boff, blen);
	assert_int_equal(mutate(find("roster-add"), P(8), v), TN_ERR_DEC_ARRAYLEN);
	/* Empty list where at least one element is required. */
	assert_int_equal(mutate(find("link-want"), P(1), RAW(0x90)), TN_ERR_DEC_ARRAYLEN);
	assert_int_equal(mutate(find("roster-endpoint"), P(8, 1), RAW(0x90)), TN_ERR_DEC_ARRAYLEN);
	assert_int_equal(mutate(find("roster-rekey"), P(8, 3), RAW(0x90)), TN_ERR_DEC_ARRAYLEN);
}

static void rejects_wrong_type(void **state)
{
	(void)state;
	/* network_id as str instead of bin. */
	assert_int_equal(mutate(find("envelope"), P(1), v_strn(16, 'x')), TN_ERR_DEC_TYPE);
	/* refers_to neither nil nor bin. */
	assert_int_equal(mutate(find("envelope"), P(5), RAW(0xc3)), TN_ERR_DEC_TYPE);
	/* Not an array at all. */
	static const uint8_t map[] = {0x80};
	assert_int_equal(rt_receipt(map, 1), TN_ERR_DEC_TYPE);
	/* Genesis must have nil network_id; others bin16. */
	assert_int_equal(mutate(find("roster-genesis"), P(2), v_bin(16)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(find("roster-add"), P(2), RAW(0xc0)), TN_ERR_DEC_TYPE);
	/* Plaintext map key that is a string. */
	assert_int_equal(mutate(find("plaintext"), P(0), v_str("a", 1)), TN_ERR_DEC_TYPE);
	/* Text as bin. */
	assert_int_equal(mutate(find("plaintext"), P(5), v_bin(4)), TN_ERR_DEC_TYPE);
	/* Negative seq. */
	assert_int_equal(mutate(find("envelope"), P(3), v_int(-1)), TN_ERR_DEC_TYPE);
	/* A nested array where a field is expected: a record's shape is fixed,
	 * so extra nesting is a type error, never a deeper walk. */
	assert_int_equal(mutate(find("receipt"), P(4), RAW(0x91, 0x91, 0x91, 0x00)),
	                 TN_ERR_DEC_TYPE);
}

static void rejects_noncanonical_field(void **state)
{
	(void)state;
	/* seq 7 as uint64. */
	assert_int_equal(mutate(find("envelope"), P(3), RAW(0xcf, 0, 0, 0, 0, 0, 0, 0, 7)),
	                 TN_ERR_DEC_NONCANONICAL);
	/* The 16-byte network id as bin16. */
	uint8_t b16[3 + 16] = {0xc5, 0x00, 0x10};
	assert_int_equal(mutate(find("receipt"), P(1), v_raw(b16, sizeof b16)),
	                 TN_ERR_DEC_NONCANONICAL);
	/* Envelope header as array16. */
	size_t n = enc(find("envelope"), buf);
	buf2[0] = 0xdc;
	buf2[1] = 0;
	buf2[2] = 12;
	memcpy(buf2 + 3, buf + 1, n - 1);
	assert_int_equal(rt_env(buf2, n + 2), TN_ERR_DEC_NONCANONICAL);
	/* A short name as str8. */
	uint8_t s8[2 + 5] = {0xd9, 5, 'L', 'e', 'y', 'l', 'a'};
	assert_int_equal(mutate(find("roster-genesis"), P(8, 2), v_raw(s8, sizeof s8)),
	                 TN_ERR_DEC_NONCANONICAL);
	/* Negative latitude -1 as int8. */
	assert_int_equal(mutate(find("plaintext"), P(9, 0), RAW(0xd0, 0xff)),
	                 TN_ERR_DEC_NONCANONICAL);
}

static void rejects_reserved_byte(void **state)
{
	(void)state;
	assert_int_equal(mutate(find("envelope"), P(4), RAW(0xc1)), TN_ERR_DEC_RESERVED);
	/* A float where the kind goes. */
	assert_int_equal(mutate(find("envelope"), P(4), RAW(0xca, 0x40, 0, 0, 0)),
	                 TN_ERR_DEC_RESERVED);
	/* An ext where latitude goes. */
	assert_int_equal(mutate(find("plaintext"), P(9, 0), RAW(0xd4, 0x01, 0x00)),
	                 TN_ERR_DEC_RESERVED);
}

static void rejects_bad_fixed_length(void **state)
{
	(void)state;
	assert_int_equal(mutate(find("envelope"), P(2), v_bin(31)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("envelope"), P(1), v_bin(17)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("envelope"), P(5), v_bin(33)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("envelope"), P(9), v_bin(12)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("envelope"), P(11), v_bin(63)), TN_ERR_DEC_BADLEN);
	/* Ciphertext shorter than its tag. */
	assert_int_equal(mutate(find("envelope"), P(10), v_bin(TN_ALERT_TAG - 1)),
	                 TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("hs1"), P(2), v_bin(64)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("hs1"), P(3), v_bin(31)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("hs1"), P(4), v_bin(63)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("link-have"), P(1), v_bin(0)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("receipt"), P(5), v_bin(65)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("digest"), P(5, 1, 0), v_bin(20)), TN_ERR_DEC_BADLEN);
	/* Sealed secrets one byte short. */
	assert_int_equal(mutate(find("roster-rekey"), P(8, 3, 0, 1), v_bin(TN_SEALED_SECRETS - 1)),
	                 TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(find("roster-add"), P(8, 1), v_bin(32 + 1)), TN_ERR_DEC_BADLEN);
}

static void rejects_out_of_range(void **state)
{
	(void)state;
	const sample *env = find("envelope");
	assert_int_equal(mutate(env, P(4), v_uint(TN_KIND_TEST + 1)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(env, P(3), v_uint(0)), TN_ERR_DEC_RANGE); /* seq 0 */
	/* expires before created. */
	assert_int_equal(mutate(env, P(7), v_uint(UINT64_C(1717999999999))), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(env, P(8), v_uint(UINT64_C(1) << 32)), TN_ERR_DEC_RANGE);
	const sample *pt = find("plaintext");
	assert_int_equal(mutate(pt, P(1), v_uint(4)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(pt, P(3), v_uint(8)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(pt, P(9, 0), v_int(TN_LAT_E7_MAX + 1)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(pt, P(9, 1), v_int(-TN_LON_E7_MAX - 1)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(find("link-close"), P(1), v_uint(256)), TN_ERR_DEC_RANGE);
	/* WANT with from_seq 0, and from > to. */
	assert_int_equal(mutate(find("link-want"), P(1, 0, 1), v_uint(0)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(find("link-want"), P(1, 1, 1), v_uint(301)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(find("roster-add"), P(8, 3), v_uint(2)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(find("roster-role"), P(8, 1), v_uint(7)), TN_ERR_DEC_RANGE);
	/* Rekey part == parts, parts 0, parts beyond what 10 000 members need. */
	const sample *rk = find("roster-rekey");
	assert_int_equal(mutate(rk, P(8, 1), v_uint(3)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(rk, P(8, 2), v_uint(0)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(rk, P(8, 2), v_uint(TN_REKEY_PARTS_MAX + 1)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(rk, P(8, 0), v_uint(UINT64_C(1) << 32)), TN_ERR_DEC_RANGE);
	/* Endpoint with an unknown scheme. */
	assert_int_equal(mutate(find("roster-endpoint"), P(8, 1, 0), v_str("http://x", 8)),
	                 TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(find("roster-endpoint"), P(8, 1, 0), v_str("tcp", 3)),
	                 TN_ERR_DEC_RANGE);
}

static void rejects_too_big(void **state)
{
	(void)state;
	const sample *pt = find("plaintext");
	assert_int_equal(mutate(pt, P(5), v_strn(TN_ALERT_TEXT_MAX + 1, 'a')), TN_ERR_DEC_TOOBIG);
	assert_int_equal(mutate(pt, P(7), v_strn(TN_ALERT_LOCATION_MAX + 1, 'a')),
	                 TN_ERR_DEC_TOOBIG);
	assert_int_equal(mutate(find("envelope"), P(10), v_bin(TN_ALERT_CIPHERTEXT_MAX + 1)),
	                 TN_ERR_DEC_TOOBIG);
	assert_int_equal(mutate(find("roster-genesis"), P(8, 0), v_strn(TN_NAME_MAX + 1, 'n')),
	                 TN_ERR_DEC_TOOBIG);
	assert_int_equal(mutate(find("roster-add"), P(8, 2), v_strn(TN_NAME_MAX + 1, 'n')),
	                 TN_ERR_DEC_TOOBIG);
	assert_int_equal(
	        mutate(find("roster-revoke"), P(8, 1), v_strn(TN_REVOKE_REASON_MAX + 1, 'r')),
	        TN_ERR_DEC_TOOBIG);
	char ep[TN_ENDPOINT_STR_MAX + 1];
	memset(ep, 'a', sizeof ep);
	memcpy(ep, "tcp:", 4);
	assert_int_equal(mutate(find("roster-endpoint"), P(8, 1, 0), v_str(ep, sizeof ep)),
	                 TN_ERR_DEC_TOOBIG);
	/* Nine endpoints. */
	val v;
	v.b[0] = 0x99;
	v.n = 1;
	for (int i = 0; i < 9; i++) {
		val e = v_str("tcp:h:1", 7);
		memcpy(v.b + v.n, e.b, e.n);
		v.n += e.n;
	}
	assert_int_equal(mutate(find("roster-endpoint"), P(8, 1), v), TN_ERR_DEC_TOOBIG);
	/* Whole inputs over their bound are refused before any parsing. */
	memset(buf, 0x90, BUF);
	assert_int_equal(rt_pt(buf, TN_ALERT_PLAINTEXT_MAX + 1), TN_ERR_DEC_TOOBIG);
	assert_int_equal(rt_env(buf, TN_ALERT_ENVELOPE_MAX + 1), TN_ERR_DEC_TOOBIG);
	assert_int_equal(rt_digest(buf, TN_DIGEST_MAX + 1), TN_ERR_DEC_TOOBIG);
	assert_int_equal(rt_roster(buf, TN_ROSTER_RECORD_MAX + 1), TN_ERR_DEC_TOOBIG);
	assert_int_equal(rt_link(buf, TN_LINK_PLAINTEXT_MAX + 1), TN_ERR_DEC_TOOBIG);
	/* An ALERT whose bin is larger than any envelope. */
	assert_int_equal(mutate(find("link-alert"), P(1), v_bin(TN_ALERT_ENVELOPE_MAX + 1)),
	                 TN_ERR_DEC_TOOBIG);
	/* A receipt in a RECEIPTS batch larger than any receipt. */
	assert_int_equal(mutate(find("link-receipts"), P(1, 0, 1), v_bin(TN_RECEIPT_MAX + 1)),
	                 TN_ERR_DEC_TOOBIG);
	/* A hop count above TN_RECEIPT_HOPS_MAX. */
	assert_int_equal(mutate(find("link-receipts"), P(1, 1, 0), v_uint(TN_RECEIPT_HOPS_MAX + 1)),
	                 TN_ERR_DEC_RANGE);
}

static void rejects_too_many_receipts(void **state)
{
	(void)state;
	/* 257 minimal receipts (1-byte bins) in one batch. */
	uint8_t *in = buf;
	size_t n = 0;
	in[n++] = 0x92;
	in[n++] = TN_LINK_RECEIPTS;
	in[n++] = 0xdc;
	in[n++] = 0x01;
	in[n++] = 0x01; /* 257 */
	for (int i = 0; i < TN_RECEIPTS_PER_MSG + 1; i++) {
		in[n++] = 0x92; /* [hops, receipt] */
		in[n++] = 0;
		in[n++] = 0xc4;
		in[n++] = 1;
		in[n++] = 0;
	}
	assert_int_equal(rt_link(in, n), TN_ERR_DEC_TOOBIG);
	/* 256 is fine. */
	in[4] = 0x00;
	assert_int_equal(rt_link(in, n - 5), TN_OK);
}

/* Digest ranges (docs/wire.md §8): even count of 2..2*TN_DIGEST_RANGES_MAX
 * seqs, 1 <= from <= to, ranges strictly ascending and never adjacent;
 * part < parts <= TN_DIGEST_PARTS_MAX. */
static void digest_ranges_and_parts(void **state)
{
	(void)state;
	const sample *d = find("digest");
	/* author 0x10: [1, 1000] */
	assert_int_equal(mutate(d, P(5, 0, 1), RAW(0x90)), TN_ERR_DEC_ARRAYLEN);
	assert_int_equal(mutate(d, P(5, 0, 1), RAW(0x91, 0x01)), TN_ERR_DEC_ARRAYLEN);
	assert_int_equal(mutate(d, P(5, 0, 1, 0), v_uint(0)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(d, P(5, 0, 1, 0), v_uint(1001)), TN_ERR_DEC_RANGE);
	/* author 0x20: [1, 1, 3, 70000]; 2 would make them adjacent, 1 overlap. */
	assert_int_equal(mutate(d, P(5, 1, 1, 2), v_uint(2)), TN_ERR_DEC_KEYORDER);
	assert_int_equal(mutate(d, P(5, 1, 1, 2), v_uint(1)), TN_ERR_DEC_KEYORDER);
	assert_int_equal(mutate(d, P(5, 1, 1, 2), v_uint(4)), TN_OK);
	/* author 0x30 ends at 2^64-1: nothing may follow. */
	assert_int_equal(mutate(d, P(5, 2, 1), RAW(0x96, 0x05, 0x05, 0x07, 0x09, 0x0b, 0x0c)),
	                 TN_OK);
	/* parts */
	assert_int_equal(mutate(d, P(4), v_uint(0)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(d, P(4), v_uint(1)), TN_ERR_DEC_RANGE); /* part 1 of 1 */
	assert_int_equal(mutate(d, P(4), v_uint(TN_DIGEST_PARTS_MAX + 1)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(d, P(3), v_uint(TN_DIGEST_PARTS_MAX)), TN_ERR_DEC_RANGE);
	/* Too many ranges: 17 pairs. */
	uint8_t many[2 + 2 * 17 * 3];
	size_t n = 0;
	many[n++] = 0xdc;
	many[n++] = 0;
	many[n++] = 34;
	for (uint8_t i = 0; i < 17; i++) {
		many[n++] = (uint8_t)(1 + 3 * i);
		many[n++] = (uint8_t)(1 + 3 * i);
	}
	assert_int_equal(mutate(d, P(5, 0, 1), v_raw(many, n)), TN_ERR_DEC_TOOBIG);
	/* The encoder refuses what the decoder would. */
	tn_digest dg = sample_digest();
	tn_digest_entry e[3];
	memcpy(e, dig_entries, sizeof e);
	dg.entries = e;
	e[1].ranges[1].from = 2;
	assert_int_equal(tn_digest_encode(&dg, buf, BUF), TN_ERR_INVAL);
	memcpy(e, dig_entries, sizeof e);
	e[0].nranges = 0;
	assert_int_equal(tn_digest_encode(&dg, buf, BUF), TN_ERR_INVAL);
	memcpy(e, dig_entries, sizeof e);
	e[0].nranges = TN_DIGEST_RANGES_MAX + 1;
	assert_int_equal(tn_digest_encode(&dg, buf, BUF), TN_ERR_INVAL);
	memcpy(e, dig_entries, sizeof e);
	dg.part = 2;
	assert_int_equal(tn_digest_encode(&dg, buf, BUF), TN_ERR_INVAL);
	dg.part = 0;
	dg.parts = 0;
	assert_int_equal(tn_digest_encode(&dg, buf, BUF), TN_ERR_INVAL);
	dg.parts = 1;
	assert_true(tn_digest_encode(&dg, buf, BUF) > 0);
}

static void rejects_bad_utf8(void **state)
{
	(void)state;
	const sample *pt = find("plaintext");
	static const char *bad[] = {
	        "\xc0\xaf",         /* overlong '/' */
	        "\xe0\x80\xaf",     /* overlong, 3 bytes */
	        "\xed\xa0\x80",     /* surrogate U+D800 */
	        "ab\xd8",           /* truncated sequence */
	        "\xf4\x90\x80\x80", /* U+110000 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(mutate(pt, P(5), v_str(bad[i], strlen(bad[i]))), TN_ERR_DEC_UTF8);
		assert_int_equal(mutate(pt, P(7), v_str(bad[i], strlen(bad[i]))), TN_ERR_DEC_UTF8);
	}
	assert_int_equal(mutate(find("roster-add"), P(8, 2), v_str("\xed\xbf\xbf", 3)),
	                 TN_ERR_DEC_UTF8);
	assert_int_equal(mutate(find("roster-endpoint"), P(8, 1, 0), v_str("tcp:\xc1\x81", 6)),
	                 TN_ERR_DEC_UTF8);
}

static void rejects_keys_out_of_order(void **state)
{
	(void)state;
	/* {2: x, 1: y} */
	static const uint8_t swapped[] = {0x82, 0x02, 0x00, 0x01, 0x00};
	assert_int_equal(rt_pt(swapped, sizeof swapped), TN_ERR_DEC_KEYORDER);
	/* {1: x, 1: y} */
	static const uint8_t dup[] = {0x83, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00};
	assert_int_equal(rt_pt(dup, sizeof dup), TN_ERR_DEC_KEYORDER);
	/* Digest authors not ascending: swap the first two entries. */
	tn_digest d = sample_digest();
	tn_digest_entry e[3];
	memcpy(e, dig_entries, sizeof e);
	e[0] = dig_entries[1];
	e[1] = dig_entries[0];
	d.entries = e;
	/* Build by hand: the encoder would refuse. */
	tn_mp_wr w;
	tn_mp_wr_init(&w, buf, BUF);
	tn_mp_put_array(&w, 6);
	tn_mp_put_uint(&w, 1);
	tn_mp_put_bin(&w, d.network_id, 16);
	tn_mp_put_bin(&w, d.roster_digest, 32);
	tn_mp_put_uint(&w, 0);
	tn_mp_put_uint(&w, 1);
	tn_mp_put_array(&w, 3);
	for (int i = 0; i < 3; i++) {
		tn_mp_put_array(&w, 2);
		tn_mp_put_bin(&w, e[i].author, 32);
		tn_mp_put_array(&w, 2);
		tn_mp_put_uint(&w, 1);
		tn_mp_put_uint(&w, 2);
	}
	tn_ssize n = tn_mp_wr_end(&w);
	assert_true(n > 0);
	assert_int_equal(rt_digest(buf, (size_t)n), TN_ERR_DEC_KEYORDER);
	assert_int_equal(tn_digest_encode(&d, buf2, BUF), TN_ERR_INVAL);
	/* Duplicate author. */
	e[0] = e[1];
	d.entries = e;
	assert_int_equal(tn_digest_encode(&d, buf2, BUF), TN_ERR_INVAL);
	/* Rekey members not ascending. */
	size_t m = enc(find("roster-rekey"), buf);
	size_t off0, len0, off1, len1;
	locate(buf, m, P(8, 3, 0), &off0, &len0);
	locate(buf, m, P(8, 3, 1), &off1, &len1);
	assert_int_equal(len0, len1);
	uint8_t tmp[200];
	memcpy(tmp, buf + off0, len0);
	memmove(buf + off0, buf + off1, len1);
	memcpy(buf + off1, tmp, len0);
	assert_int_equal(rt_roster(buf, m), TN_ERR_DEC_KEYORDER);
}

static void rejects_unknown_key(void **state)
{
	(void)state;
	/* {1, 2, 6} */
	static const uint8_t six[] = {0x83, 0x01, 0x00, 0x02, 0x00, 0x06, 0x00};
	assert_int_equal(rt_pt(six, sizeof six), TN_ERR_DEC_UNKNOWNKEY);
	/* {0, ...} */
	static const uint8_t zero[] = {0x83, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00};
	assert_int_equal(rt_pt(zero, sizeof zero), TN_ERR_DEC_UNKNOWNKEY);
}

static void rejects_missing_key(void **state)
{
	(void)state;
	static const uint8_t only_sev[] = {0x81, 0x01, 0x00};
	assert_int_equal(rt_pt(only_sev, sizeof only_sev), TN_ERR_DEC_MISSINGKEY);
	static const uint8_t sev_text[] = {0x82, 0x01, 0x00, 0x03, 0xa1, 'x'};
	assert_int_equal(rt_pt(sev_text, sizeof sev_text), TN_ERR_DEC_MISSINGKEY);
	static const uint8_t viol_only[] = {0x81, 0x02, 0x00};
	assert_int_equal(rt_pt(viol_only, sizeof viol_only), TN_ERR_DEC_MISSINGKEY);
	static const uint8_t empty[] = {0x80};
	assert_int_equal(rt_pt(empty, sizeof empty), TN_ERR_DEC_MISSINGKEY);
}

/* Receipts-wanted note: round trip, the largest one is exactly
 * TN_RWANT_MAX, and the id list must be whole ids, 1..TN_RWANT_IDS_MAX. */
static void rwant_note_bounds(void **state)
{
	(void)state;
	static uint8_t ids[TN_RWANT_IDS_MAX * TN_RWANT_ID + TN_RWANT_ID];
	fill(ids, sizeof ids, 60);
	tn_rwant w, back;
	memset(&w, 0, sizeof w);
	fill(w.network_id, TN_NETWORK_ID, 61);
	fill(w.alert_id, TN_ALERT_ID, 62);
	w.issued_ms = UINT64_MAX;
	fill(w.signature, TN_SIG, 63);
	w.missing = (tn_view){ids, (size_t)TN_RWANT_IDS_MAX * TN_RWANT_ID};
	uint8_t out[TN_RWANT_MAX + 16];
	tn_ssize n = tn_rwant_encode(&w, out, sizeof out);
	assert_int_equal(n, TN_RWANT_MAX);
	assert_int_equal(tn_rwant_decode(&back, out, (size_t)n), TN_OK);
	assert_int_equal(back.issued_ms, UINT64_MAX);
	assert_int_equal(back.missing.len, w.missing.len);
	assert_memory_equal(back.missing.p, ids, w.missing.len);
	assert_memory_equal(back.signature, w.signature, TN_SIG);
	assert_true(back.signed_part.len > 0 && back.signed_part.len < (size_t)n);
	/* one id too many, half an id, none: refused by the encoder */
	w.missing.len += TN_RWANT_ID;
	assert_int_equal(tn_rwant_encode(&w, out, sizeof out), TN_ERR_INVAL);
	w.missing.len = TN_RWANT_ID + 3;
	assert_int_equal(tn_rwant_encode(&w, out, sizeof out), TN_ERR_INVAL);
	w.missing.len = 0;
	assert_int_equal(tn_rwant_encode(&w, out, sizeof out), TN_ERR_INVAL);
	/* and by the decoder: a note with 11 bytes of ids (patched length) */
	w.missing.len = 2 * TN_RWANT_ID;
	n = tn_rwant_encode(&w, out, sizeof out);
	assert_true(n > 0);
	size_t at = 1 + 1 + 18 + 34 + 9; /* the bin8 header of missing */
	assert_int_equal(out[at], 0xc4);
	assert_int_equal(out[at + 1], 2 * TN_RWANT_ID);
	out[at + 1] = 11;
	assert_int_not_equal(tn_rwant_decode(&back, out, (size_t)n), TN_OK);
	/* truncated */
	out[at + 1] = 2 * TN_RWANT_ID;
	assert_int_not_equal(tn_rwant_decode(&back, out, (size_t)n - 1), TN_OK);
}

static void rejects_unknown_record_type(void **state)
{
	(void)state;
	/* A critical (128..255) or out-of-range link type: closes the link. */
	static const uint8_t link128[] = {0x92, 0xcc, 0x80, 0x00};
	assert_int_equal(rt_link(link128, sizeof link128), TN_ERR_DEC_RECTYPE);
	/* ... whatever its length: the type is judged first. */
	static const uint8_t link200[] = {0x93, 0xcc, 0xc8, 0x00, 0x00};
	assert_int_equal(rt_link(link200, sizeof link200), TN_ERR_DEC_RECTYPE);
	assert_int_equal(mutate(find("roster-role"), P(1), v_uint(6)), TN_ERR_DEC_RECTYPE);
}

/* Forward compatibility (docs/wire.md §4 "Unknown types"): a newer peer's
 * type 18..127 in a well-formed [type] or [type, body] is IGNORABLE, its
 * body walked by the strict reader and not kept; a malformed one is still
 * the reader's error; 128..255 and above are RECTYPE. */
static void unknown_link_type_ignorable_or_critical(void **state)
{
	(void)state;
	tn_link_msg d;
	static const uint8_t t18[] = {0x92, 0x12, 0x05};
	assert_int_equal(tn_link_decode(&d, t18, sizeof t18), TN_ERR_DEC_IGNORABLE);
	assert_int_equal(d.type, 18);
	assert_int_equal(d.token, 0);
	assert_null(d.record.p);
	assert_int_equal(d.count, 0);
	/* rt_link also checks the encoder refuses the type. */
	assert_int_equal(rt_link(t18, sizeof t18), TN_ERR_DEC_IGNORABLE);
	static const uint8_t t127[] = {0x91, 0x7f};
	assert_int_equal(rt_link(t127, sizeof t127), TN_ERR_DEC_IGNORABLE);
	assert_int_equal(tn_link_decode(&d, t127, sizeof t127), TN_ERR_DEC_IGNORABLE);
	assert_int_equal(d.type, 127);
	/* Every kind of value a body may hold: [1, -1, nil, true, "xy", bin
	 * 2, {1: [[]]}] */
	static const uint8_t rich[] = {0x92, 0x14, 0x97, 0x01, 0xff, 0xc0, 0xc3, 0xa2, 'x', 'y',
	                               0xc4, 0x02, 0xaa, 0xbb, 0x81, 0x01, 0x91, 0x90};
	assert_int_equal(rt_link(rich, sizeof rich), TN_ERR_DEC_IGNORABLE);
	/* Nesting: the outer array and 7 in the body reach TN_MP_DEPTH_MAX. */
	uint8_t deep[2 + 8] = {0x92, 0x12};
	memset(deep + 2, 0x91, 6);
	deep[8] = 0x90;
	assert_int_equal(rt_link(deep, 9), TN_ERR_DEC_IGNORABLE);
	deep[8] = 0x91;
	deep[9] = 0x90; /* one more: 9 containers */
	assert_int_equal(rt_link(deep, 10), TN_ERR_DEC_DEPTH);

	/* Malformed frames stay errors, each with the reader's reason. */
	static const uint8_t reserved[] = {0x92, 0x12, 0xc1};
	assert_int_equal(rt_link(reserved, sizeof reserved), TN_ERR_DEC_RESERVED);
	static const uint8_t flt[] = {0x92, 0x12, 0xca, 0, 0, 0, 0};
	assert_int_equal(rt_link(flt, sizeof flt), TN_ERR_DEC_RESERVED);
	static const uint8_t ext[] = {0x92, 0x12, 0xd4, 0x01, 0x00};
	assert_int_equal(rt_link(ext, sizeof ext), TN_ERR_DEC_RESERVED);
	static const uint8_t long_uint[] = {0x92, 0x12, 0xcc, 0x05};
	assert_int_equal(rt_link(long_uint, sizeof long_uint), TN_ERR_DEC_NONCANONICAL);
	static const uint8_t long_arr[] = {0x92, 0x12, 0xdc, 0x00, 0x01, 0x00};
	assert_int_equal(rt_link(long_arr, sizeof long_arr), TN_ERR_DEC_NONCANONICAL);
	static const uint8_t long_type[] = {0x92, 0xcc, 0x12, 0x00};
	assert_int_equal(rt_link(long_type, sizeof long_type), TN_ERR_DEC_NONCANONICAL);
	/* A count no input could hold: refused before anything is walked. */
	static const uint8_t huge[] = {0x92, 0x12, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00};
	assert_int_equal(rt_link(huge, sizeof huge), TN_ERR_DEC_TRUNCATED);
	static const uint8_t three[] = {0x93, 0x12, 0x00, 0x00};
	assert_int_equal(rt_link(three, sizeof three), TN_ERR_DEC_ARRAYLEN);
	static const uint8_t trailing[] = {0x92, 0x12, 0x00, 0x00};
	assert_int_equal(rt_link(trailing, sizeof trailing), TN_ERR_DEC_TRAILING);
	static const uint8_t trailing1[] = {0x91, 0x12, 0x00};
	assert_int_equal(rt_link(trailing1, sizeof trailing1), TN_ERR_DEC_TRAILING);
	assert_int_equal(tn_link_decode(&d, trailing1, sizeof trailing1), TN_ERR_DEC_TRAILING);
	assert_int_equal(d.type, 0);
	for (size_t i = 0; i < sizeof rich; i++) {
		tn_err rc = tn_link_decode(&d, rich, i);
		assert_true(rc != TN_OK && rc != TN_ERR_DEC_IGNORABLE);
	}
	/* Too big for a frame, whatever the type. */
	static uint8_t big[TN_LINK_PLAINTEXT_MAX + 8];
	size_t blen = TN_LINK_PLAINTEXT_MAX - 5 + 1;
	big[0] = 0x92, big[1] = 0x12, big[2] = 0xc5;
	big[3] = (uint8_t)(blen >> 8), big[4] = (uint8_t)blen;
	assert_int_equal(tn_link_decode(&d, big, 5 + blen), TN_ERR_DEC_TOOBIG);
	assert_int_equal(tn_link_decode(&d, big, 5 + blen - 1), TN_ERR_DEC_TRUNCATED);
	big[3] = (uint8_t)((blen - 1) >> 8), big[4] = (uint8_t)(blen - 1);
	assert_int_equal(tn_link_decode(&d, big, 5 + blen - 1), TN_ERR_DEC_IGNORABLE);

	/* Critical types: 128..255, then anything a u64 can say. */
	static const uint8_t c255[] = {0x91, 0xcc, 0xff};
	assert_int_equal(tn_link_decode(&d, c255, sizeof c255), TN_ERR_DEC_RECTYPE);
	assert_int_equal(d.type, 0);
	static const uint8_t c256[] = {0x92, 0xcd, 0x01, 0x00, 0x00};
	assert_int_equal(tn_link_decode(&d, c256, sizeof c256), TN_ERR_DEC_RECTYPE);
	static const uint8_t cmax[] = {0x92, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
	assert_int_equal(tn_link_decode(&d, cmax, sizeof cmax), TN_ERR_DEC_RECTYPE);
	/* The encoder never writes a type it does not know. */
	tn_link_msg m = {0};
	m.type = 18;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	m.type = 128;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
}

/* ROSTER_HEADS: issuers strictly ascending, iseq >= 1, at most
 * TN_HEADS_PER_MSG; an empty list is a valid (final) part. JOIN: name is
 * strict UTF-8 of at most TN_NAME_MAX bytes. */
static void link_heads_and_join_rules(void **state)
{
	(void)state;
	/* [11, [[A, 1], [A, 1]]]: a repeated issuer. */
	uint8_t dup[3 + 2 * 37];
	size_t o = 0;
	dup[o++] = 0x92;
	dup[o++] = 0x0b;
	dup[o++] = 0x92;
	for (int k = 0; k < 2; k++) {
		dup[o++] = 0x92;
		dup[o++] = 0xc4;
		dup[o++] = 32;
		memset(dup + o, 7, 32);
		o += 32;
		dup[o++] = 0x01;
	}
	assert_int_equal(rt_link(dup, o), TN_ERR_DEC_KEYORDER);
	assert_int_equal(mutate(find("link-heads"), P(1, 0, 1), v_uint(0)), TN_ERR_DEC_RANGE);
	static const uint8_t empty[] = {0x92, 0x0b, 0x90};
	assert_int_equal(rt_link(empty, sizeof empty), TN_OK);
	tn_link_msg m = sample_link(TN_LINK_ROSTER_HEADS);
	m.heads = NULL;
	m.count = 0;
	assert_true(tn_link_encode(&m, buf, BUF) == (tn_ssize)sizeof empty);
	static tn_roster_head many[TN_HEADS_PER_MSG + 1];
	for (size_t i = 0; i < TN_HEADS_PER_MSG + 1; i++) {
		many[i].issuer[0] = (uint8_t)(i >> 8);
		many[i].issuer[1] = (uint8_t)i;
		many[i].iseq = 1;
	}
	m.heads = many;
	m.count = TN_HEADS_PER_MSG;
	tn_ssize n = tn_link_encode(&m, buf, BUF);
	assert_true(n > 0 && n <= TN_LINK_PLAINTEXT_MAX);
	assert_int_equal(rt_link(buf, (size_t)n), TN_OK);
	m.count = TN_HEADS_PER_MSG + 1;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	m = sample_link(TN_LINK_JOIN);
	m.join.name = (tn_view){(const uint8_t *)"\xff", 1};
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	assert_int_equal(mutate(find("link-join"), P(1, 2), v_str("\xc3", 1)), TN_ERR_DEC_UTF8);
	assert_int_equal(mutate(find("link-join"), P(1, 2), v_strn(TN_NAME_MAX + 1, 'a')),
	                 TN_ERR_DEC_TOOBIG);
	assert_int_equal(mutate(find("link-join"), P(1, 3), v_bin(32)), TN_ERR_DEC_BADLEN);
}

/* DEC_DEPTH comes only from the generic walker (test_mp: depth_limit); the
 * record decoders have a fixed shape. Here: a deeply nested input to every
 * record decoder is refused with an ordinary code and no deep recursion. */
static void deep_nesting_is_refused(void **state)
{
	(void)state;
	memset(buf, 0x91, 1000);
	buf[1000] = 0xc0;
	for (size_t i = 0; i < sizeof rt_decoders / sizeof rt_decoders[0]; i++) {
		tn_err rc = rt_decoders[i].rt(buf, 1001);
		assert_true(rc == TN_ERR_DEC_TYPE || rc == TN_ERR_DEC_ARRAYLEN);
	}
}

static void rejects_huge_declared_counts(void **state)
{
	(void)state;
	/* Digest whose entry array claims 2^32-1 elements in a few bytes. */
	size_t n = enc(find("digest"), buf);
	size_t m = splice(buf, n, P(3), RAW(0xdd, 0xff, 0xff, 0xff, 0xff).b, 5, buf2);
	assert_int_equal(rt_digest(buf2, m), TN_ERR_DEC_TRUNCATED);
}

/* ---- encoder refusals -------------------------------------------------- */

static void encoder_refuses_invalid(void **state)
{
	(void)state;
	tn_alert_env e = sample_env();
	e.kind = 6;
	assert_int_equal(tn_alert_env_encode(&e, buf, BUF), TN_ERR_INVAL);
	e = sample_env();
	e.seq = 0;
	assert_int_equal(tn_alert_env_encode(&e, buf, BUF), TN_ERR_INVAL);
	e = sample_env();
	e.expires_ms = e.created_ms - 1;
	assert_int_equal(tn_alert_env_encode_signed(&e, buf, BUF), TN_ERR_INVAL);
	e = sample_env();
	e.ciphertext.len = TN_ALERT_CIPHERTEXT_MAX + 1;
	assert_int_equal(tn_alert_env_encode(&e, buf, BUF), TN_ERR_INVAL);

	tn_alert_pt p = sample_pt();
	p.text = text("\xed\xa0\x80");
	assert_int_equal(tn_alert_pt_encode(&p, buf, BUF), TN_ERR_INVAL);
	p = sample_pt();
	p.lat_e7 = TN_LAT_E7_MAX + 1;
	assert_int_equal(tn_alert_pt_encode(&p, buf, BUF), TN_ERR_INVAL);
	p = sample_pt();
	p.violation = 8;
	assert_int_equal(tn_alert_pt_encode(&p, buf, BUF), TN_ERR_INVAL);

	tn_roster_rec r = sample_roster(TN_ROSTER_REKEY);
	r.body.rekey.part = 3;
	assert_int_equal(tn_roster_encode(&r, buf, BUF), TN_ERR_INVAL);
	r = sample_roster(TN_ROSTER_ENDPOINT);
	tn_view bad_ep = text("udp:1.2.3.4:5");
	r.body.endpoint.endpoints = &bad_ep;
	r.body.endpoint.count = 1;
	assert_int_equal(tn_roster_encode(&r, buf, BUF), TN_ERR_INVAL);
	r = sample_roster(TN_ROSTER_ADD);
	r.body.add.role = 2;
	assert_int_equal(tn_roster_encode_signed(&r, buf, BUF), TN_ERR_INVAL);
	r.type = 9;
	assert_int_equal(tn_roster_encode(&r, buf, BUF), TN_ERR_INVAL);

	tn_link_msg m = sample_link(TN_LINK_WANT);
	m.count = 0;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	m = sample_link(TN_LINK_PING);
	m.type = TN_LINK_TYPE_MAX + 1;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	/* A digest at TN_DIGEST_MAX cannot travel in one link message. */
	memset(inner, 0, TN_DIGEST_MAX);
	m = sample_link(TN_LINK_DIGEST);
	m.record.p = inner;
	m.record.len = TN_DIGEST_MAX;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
}

/* Lazy push (docs/wire.md §4): IHAVE and GRAFT carry 1..256 alert ids as
 * one bin of 32-byte ids, PRUNE nothing. Golden bytes and strict refusals. */
static void lazy_push_strict(void **state)
{
	(void)state;
	uint8_t ids[TN_IHAVE_PER_MSG * TN_ALERT_ID + TN_ALERT_ID];
	fill(ids, sizeof ids, 9);
	tn_link_msg m = {0}, d;
	m.type = TN_LINK_IHAVE;
	m.ids = (tn_view){ids, 2 * TN_ALERT_ID};
	m.count = 2;
	uint8_t want[5 + 64] = {0x92, 0x0f, 0xc4, 0x40};
	memcpy(want + 4, ids, 64);
	assert_int_equal(tn_link_encode(&m, buf, BUF), 68);
	assert_memory_equal(buf, want, 68);
	assert_int_equal(tn_link_decode(&d, want, 68), TN_OK);
	assert_int_equal(d.type, TN_LINK_IHAVE);
	assert_int_equal(d.count, 2);
	assert_memory_equal(d.ids.p, ids, 64);
	/* GRAFT: the same shape under type 16. */
	m.type = TN_LINK_GRAFT;
	want[1] = 0x10;
	assert_int_equal(tn_link_encode(&m, buf, BUF), 68);
	assert_memory_equal(buf, want, 68);
	assert_int_equal(tn_link_decode(&d, want, 68), TN_OK);
	assert_int_equal(d.type, TN_LINK_GRAFT);
	assert_int_equal(d.count, 2);
	/* PRUNE: no body, [17]. */
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_PRUNE;
	static const uint8_t prune[] = {0x91, 0x11};
	assert_int_equal(tn_link_encode(&m, buf, BUF), 2);
	assert_memory_equal(buf, prune, 2);
	assert_int_equal(tn_link_decode(&d, prune, 2), TN_OK);
	assert_int_equal(d.type, TN_LINK_PRUNE);
	static const uint8_t prune_body[] = {0x92, 0x11, 0x00};
	assert_int_equal(tn_link_decode(&d, prune_body, 3), TN_ERR_DEC_ARRAYLEN);
	assert_int_equal(d.type, 0);
	/* A ragged id list, an empty one, one too many, a str for a bin. */
	uint8_t bad[8 + sizeof ids] = {0x92, 0x0f, 0xc4, 33};
	memcpy(bad + 4, ids, 33);
	assert_int_equal(tn_link_decode(&d, bad, 4 + 33), TN_ERR_DEC_ARRAYLEN);
	static const uint8_t empty[] = {0x92, 0x10, 0xc4, 0x00};
	assert_int_equal(tn_link_decode(&d, empty, sizeof empty), TN_ERR_DEC_BADLEN);
	size_t over = (TN_IHAVE_PER_MSG + 1) * TN_ALERT_ID;
	uint8_t big[5 + sizeof ids] = {0x92, 0x0f, 0xc5, (uint8_t)(over >> 8), (uint8_t)over};
	memcpy(big + 5, ids, over);
	assert_int_equal(tn_link_decode(&d, big, 5 + over), TN_ERR_DEC_TOOBIG);
	big[3] = (uint8_t)((over - TN_ALERT_ID) >> 8);
	big[4] = (uint8_t)(over - TN_ALERT_ID);
	assert_int_equal(tn_link_decode(&d, big, 5 + over - TN_ALERT_ID), TN_OK);
	assert_int_equal(d.count, TN_IHAVE_PER_MSG);
	static const uint8_t str[] = {0x92, 0x0f, 0xa1, 'x'};
	assert_int_not_equal(tn_link_decode(&d, str, sizeof str), TN_OK);
	/* Encoding refuses what would not decode. */
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_IHAVE;
	m.ids = (tn_view){ids, 2 * TN_ALERT_ID};
	m.count = 3; /* count and bytes disagree */
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	m.count = 0;
	m.ids.len = 0;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	m.count = TN_IHAVE_PER_MSG + 1;
	m.ids.len = over;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	/* Truncations. */
	for (size_t i = 0; i < 68; i++)
		assert_int_not_equal(tn_link_decode(&d, want, i), TN_OK);
}

/* DIALBACK carries a nonce and nothing else (never an address); its result
 * is one of the known values. Golden bytes and strict refusals. */
static void dialback_strict(void **state)
{
	(void)state;
	tn_link_msg m = {0}, d;
	m.type = TN_LINK_DIALBACK;
	m.token = 7;
	static const uint8_t req[] = {0x92, 0x0c, 0x07};
	assert_int_equal(tn_link_encode(&m, buf, BUF), 3);
	assert_memory_equal(buf, req, 3);
	assert_int_equal(tn_link_decode(&d, req, sizeof req), TN_OK);
	assert_int_equal(d.type, TN_LINK_DIALBACK);
	assert_int_equal(d.token, 7);

	m.type = TN_LINK_DIALBACK_RESULT;
	m.dialback_result = TN_DIALBACK_NO_CONNECT;
	static const uint8_t res[] = {0x92, 0x0d, 0x92, 0x07, 0x01};
	assert_int_equal(tn_link_encode(&m, buf, BUF), 5);
	assert_memory_equal(buf, res, 5);
	assert_int_equal(tn_link_decode(&d, res, sizeof res), TN_OK);
	assert_int_equal(d.dialback_result, TN_DIALBACK_NO_CONNECT);

	/* Unknown result: neither encoded nor decoded. */
	m.dialback_result = TN_DIALBACK_RESULT_MAX + 1;
	assert_int_equal(tn_link_encode(&m, buf, BUF), TN_ERR_INVAL);
	static const uint8_t bad_res[] = {0x92, 0x0d, 0x92, 0x07, 0x05};
	assert_int_not_equal(tn_link_decode(&d, bad_res, sizeof bad_res), TN_OK);
	assert_int_equal(d.type, 0);
	/* A request with an address where the nonce goes, or an extra field. */
	static const uint8_t with_addr[] = {0x92, 0x0c, 0xa3, '1', '.', '2'};
	assert_int_not_equal(tn_link_decode(&d, with_addr, sizeof with_addr), TN_OK);
	static const uint8_t extra[] = {0x93, 0x0c, 0x07, 0xa1, 'x'};
	assert_int_not_equal(tn_link_decode(&d, extra, sizeof extra), TN_OK);
	static const uint8_t res_extra[] = {0x92, 0x0d, 0x93, 0x07, 0x00, 0x00};
	assert_int_not_equal(tn_link_decode(&d, res_extra, sizeof res_extra), TN_OK);
	/* Truncations of both. */
	for (size_t i = 0; i < sizeof req; i++)
		assert_int_not_equal(tn_link_decode(&d, req, i), TN_OK);
	for (size_t i = 0; i < sizeof res; i++)
		assert_int_not_equal(tn_link_decode(&d, res, i), TN_OK);
}

/* ---- text -------------------------------------------------------------- */

static void arabic_and_kurdish_roundtrip_exact(void **state)
{
	(void)state;
	tn_alert_pt p = sample_pt();
	tn_ssize n = tn_alert_pt_encode(&p, buf, BUF);
	assert_true(n > 0);
	tn_alert_pt q;
	assert_int_equal(tn_alert_pt_decode(&q, buf, (size_t)n), TN_OK);
	assert_int_equal(q.text.len, strlen(AR_TEXT));
	assert_memory_equal(q.text.p, AR_TEXT, strlen(AR_TEXT));
	assert_int_equal(q.location.len, strlen(KU_TEXT));
	assert_memory_equal(q.location.p, KU_TEXT, strlen(KU_TEXT));
	/* Views point into the input: zero-copy. */
	assert_true(q.text.p >= buf && q.text.p < buf + n);

	tn_roster_rec r = sample_roster(TN_ROSTER_ADD);
	r.body.add.name = text(KU_TEXT);
	n = tn_roster_encode(&r, buf, BUF);
	assert_true(n > 0);
	tn_roster_rec s;
	assert_int_equal(tn_roster_decode(&s, buf, (size_t)n), TN_OK);
	assert_int_equal(s.body.add.name.len, strlen(KU_TEXT));
	assert_memory_equal(s.body.add.name.p, KU_TEXT, strlen(KU_TEXT));
}

/* ---- decoded contents and iterators ------------------------------------ */

static void decoded_fields_match(void **state)
{
	(void)state;
	tn_alert_env e = sample_env(), d;
	tn_ssize n = tn_alert_env_encode(&e, buf, BUF);
	assert_true(n > 0);
	assert_int_equal(tn_alert_env_decode(&d, buf, (size_t)n), TN_OK);
	assert_memory_equal(d.author, e.author, TN_PUBKEY);
	assert_int_equal(d.seq, e.seq);
	assert_int_equal(d.kind, e.kind);
	assert_true(d.has_refers_to);
	assert_memory_equal(d.refers_to, e.refers_to, TN_ALERT_ID);
	assert_int_equal(d.expires_ms, e.expires_ms);
	assert_int_equal(d.epoch, e.epoch);
	assert_memory_equal(d.nonce, e.nonce, TN_ALERT_NONCE);
	assert_int_equal(d.ciphertext.len, e.ciphertext.len);
	assert_memory_equal(d.ciphertext.p, ct, e.ciphertext.len);
	assert_memory_equal(d.signature, e.signature, TN_SIG);
}

static void signed_part_matches_encoder(void **state)
{
	(void)state;
	tn_alert_env e = sample_env(), d;
	tn_ssize s = tn_alert_env_encode_signed(&e, buf2, BUF);
	tn_ssize n = tn_alert_env_encode(&e, buf, BUF);
	assert_true(s > 0 && n == s + 2 + TN_SIG);
	assert_int_equal(tn_alert_env_decode(&d, buf, (size_t)n), TN_OK);
	assert_ptr_equal(d.signed_part.p, buf);
	assert_int_equal(d.signed_part.len, (size_t)s);
	assert_memory_equal(d.signed_part.p, buf2, (size_t)s);

	tn_receipt c = sample_receipt(), cd;
	s = tn_receipt_encode_signed(&c, buf2, BUF);
	n = tn_receipt_encode(&c, buf, BUF);
	assert_int_equal(tn_receipt_decode(&cd, buf, (size_t)n), TN_OK);
	assert_int_equal(cd.signed_part.len, (size_t)s);
	assert_memory_equal(cd.signed_part.p, buf2, (size_t)s);

	for (uint8_t t = TN_ROSTER_GENESIS; t <= TN_ROSTER_ENDPOINT; t++) {
		tn_roster_rec r = sample_roster(t), rd;
		s = tn_roster_encode_signed(&r, buf2, BUF);
		n = tn_roster_encode(&r, buf, BUF);
		assert_true(s > 0 && n == s + 2 + TN_SIG);
		assert_int_equal(tn_roster_decode(&rd, buf, (size_t)n), TN_OK);
		assert_int_equal(rd.signed_part.len, (size_t)s);
		assert_memory_equal(rd.signed_part.p, buf2, (size_t)s);
	}
}

/* The AEAD associated data is the envelope's prefix before the ciphertext:
 * exactly the signed bytes minus the ciphertext field, largest case
 * (refers_to set, every integer at its widest) is TN_ALERT_ENV_HEADER_MAX,
 * and it needs no ciphertext. */
static void envelope_header_is_prefix_before_ciphertext(void **state)
{
	(void)state;
	tn_alert_env e = sample_env();
	tn_ssize s = tn_alert_env_encode_signed(&e, buf2, BUF);
	tn_ssize h = tn_alert_env_encode_header(&e, buf, BUF);
	/* The ciphertext field is bin8 here: c4 len + 80 bytes. */
	assert_int_equal(e.ciphertext.len, 80);
	assert_true(h > 0 && s == h + 2 + 80);
	assert_memory_equal(buf, buf2, (size_t)h);

	e.ciphertext.p = NULL;
	e.ciphertext.len = 0;
	assert_int_equal(tn_alert_env_encode_header(&e, buf, BUF), h);
	assert_int_equal(tn_alert_env_encode_header(&e, buf, (size_t)h - 1), TN_ERR_NOBUF);

	e.seq = UINT64_MAX;
	e.created_ms = UINT64_MAX - 1;
	e.expires_ms = UINT64_MAX;
	e.epoch = UINT32_MAX;
	assert_int_equal(tn_alert_env_encode_header(&e, buf, BUF), TN_ALERT_ENV_HEADER_MAX);

	e.seq = 0;
	assert_int_equal(tn_alert_env_encode_header(&e, buf, BUF), TN_ERR_INVAL);
	e.seq = 1;
	e.kind = TN_KIND_TEST + 1;
	assert_int_equal(tn_alert_env_encode_header(&e, buf, BUF), TN_ERR_INVAL);
	e.kind = TN_KIND_PANIC;
	e.expires_ms = e.created_ms - 1;
	assert_int_equal(tn_alert_env_encode_header(&e, buf, BUF), TN_ERR_INVAL);
}

static void iterators_return_every_element(void **state)
{
	(void)state;
	tn_digest d = sample_digest(), dd;
	tn_ssize n = tn_digest_encode(&d, buf, BUF);
	assert_int_equal(tn_digest_decode(&dd, buf, (size_t)n), TN_OK);
	assert_int_equal(dd.count, 3);
	assert_null(dd.entries);
	tn_iter it;
	tn_digest_entry e;
	tn_iter_init(&it, &dd.list);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(tn_digest_next(&it, &e), TN_OK);
		assert_memory_equal(e.author, dig_entries[i].author, TN_PUBKEY);
		assert_int_equal(e.nranges, dig_entries[i].nranges);
		for (size_t j = 0; j < e.nranges; j++) {
			assert_true(e.ranges[j].from == dig_entries[i].ranges[j].from);
			assert_true(e.ranges[j].to == dig_entries[i].ranges[j].to);
		}
	}
	assert_int_equal(tn_digest_next(&it, &e), TN_ERR_NOTFOUND);
	assert_int_equal(tn_digest_next(&it, &e), TN_ERR_NOTFOUND);

	tn_roster_rec r = sample_roster(TN_ROSTER_REKEY), rd;
	n = tn_roster_encode(&r, buf, BUF);
	assert_int_equal(tn_roster_decode(&rd, buf, (size_t)n), TN_OK);
	tn_rekey_entry k;
	tn_iter_init(&it, &rd.body.rekey.list);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(tn_rekey_next(&it, &k), TN_OK);
		assert_memory_equal(&k, &rekey_entries[i], sizeof k);
	}
	assert_int_equal(tn_rekey_next(&it, &k), TN_ERR_NOTFOUND);

	r = sample_roster(TN_ROSTER_ENDPOINT);
	n = tn_roster_encode(&r, buf, BUF);
	assert_int_equal(tn_roster_decode(&rd, buf, (size_t)n), TN_OK);
	tn_view v;
	tn_iter_init(&it, &rd.body.endpoint.list);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(tn_endpoint_next(&it, &v), TN_OK);
		assert_int_equal(v.len, endpoints[i].len);
		assert_memory_equal(v.p, endpoints[i].p, v.len);
	}
	assert_int_equal(tn_endpoint_next(&it, &v), TN_ERR_NOTFOUND);

	tn_link_msg m = sample_link(TN_LINK_RECEIPTS), md;
	n = tn_link_encode(&m, buf, BUF);
	assert_int_equal(tn_link_decode(&md, buf, (size_t)n), TN_OK);
	tn_iter_init(&it, &md.list);
	for (size_t i = 0; i < 2; i++) {
		uint8_t hops = 99;
		assert_int_equal(tn_link_receipt_next(&it, &v, &hops), TN_OK);
		assert_int_equal(hops, receipt_hops[i]);
		tn_receipt c;
		assert_int_equal(tn_receipt_decode(&c, v.p, v.len), TN_OK);
	}
	assert_int_equal(tn_link_receipt_next(&it, &v, NULL), TN_ERR_NOTFOUND);
}

/* ---- size bounds the limits header promises ----------------------------- */

static void largest_envelope_is_envelope_max(void **state)
{
	(void)state;
	tn_alert_env e = sample_env();
	e.seq = UINT64_MAX;
	e.created_ms = UINT64_MAX - 1;
	e.expires_ms = UINT64_MAX;
	e.epoch = UINT32_MAX;
	e.ciphertext.len = TN_ALERT_CIPHERTEXT_MAX;
	assert_int_equal(tn_alert_env_encode(&e, buf, BUF), TN_ALERT_ENVELOPE_MAX);
	assert_int_equal(rt_env(buf, TN_ALERT_ENVELOPE_MAX), TN_OK);
	tn_link_msg m = {0};
	m.type = TN_LINK_ALERT;
	m.record.p = buf;
	m.record.len = TN_ALERT_ENVELOPE_MAX;
	tn_ssize n = tn_link_encode(&m, buf2, BUF);
	assert_true(n > 0 && n <= TN_LINK_PLAINTEXT_MAX);
	assert_int_equal(rt_link(buf2, (size_t)n), TN_OK);
}

static void largest_receipt_is_receipt_max(void **state)
{
	(void)state;
	tn_receipt c = sample_receipt();
	c.stored_ms = UINT64_MAX;
	assert_int_equal(tn_receipt_encode(&c, buf, BUF), TN_RECEIPT_MAX);
	/* A full batch of the largest receipts fits a frame. */
	tn_view vs[TN_RECEIPTS_PER_MSG];
	for (size_t i = 0; i < TN_RECEIPTS_PER_MSG; i++)
		vs[i] = (tn_view){buf, TN_RECEIPT_MAX};
	tn_link_msg m = {0};
	m.type = TN_LINK_RECEIPTS;
	m.receipts = vs;
	m.count = TN_RECEIPTS_PER_MSG;
	tn_ssize n = tn_link_encode(&m, buf2, BUF);
	assert_true(n > 0 && n <= TN_LINK_PLAINTEXT_MAX);
	assert_int_equal(rt_link(buf2, (size_t)n), TN_OK);
}

static void full_rekey_part_fits_a_frame(void **state)
{
	(void)state;
	tn_roster_rec r = sample_roster(TN_ROSTER_REKEY);
	for (size_t i = 0; i < TN_REKEY_PER_PART; i++) {
		memset(rekey_entries[i].member, 0, TN_PUBKEY);
		rekey_entries[i].member[0] = (uint8_t)(i >> 8);
		rekey_entries[i].member[1] = (uint8_t)i;
		fill(rekey_entries[i].sealed, TN_SEALED_SECRETS, (uint8_t)i);
	}
	r.created_ms = UINT64_MAX;
	r.iseq = UINT64_MAX;
	r.body.rekey.epoch = UINT32_MAX;
	r.body.rekey.parts = TN_REKEY_PARTS_MAX;
	r.body.rekey.part = TN_REKEY_PARTS_MAX - 1;
	r.body.rekey.count = TN_REKEY_PER_PART;
	tn_ssize n = tn_roster_encode(&r, buf, BUF);
	assert_int_equal(n, TN_ROSTER_RECORD_MAX);
	assert_int_equal(rt_roster(buf, (size_t)n), TN_OK);
	tn_link_msg m = {0};
	m.type = TN_LINK_ROSTER;
	m.record.p = buf;
	m.record.len = (size_t)n;
	tn_ssize ln = tn_link_encode(&m, buf2, BUF);
	assert_true(ln > 0 && ln <= TN_LINK_PLAINTEXT_MAX);
	assert_int_equal(rt_link(buf2, (size_t)ln), TN_OK);
	/* One more entry is refused by encoder and decoder. */
	r.body.rekey.count = TN_REKEY_PER_PART + 1;
	assert_int_equal(tn_roster_encode(&r, buf, BUF), TN_ERR_INVAL);
	/* 10 000 members fit in TN_REKEY_PARTS_MAX parts. */
	assert_true((size_t)TN_REKEY_PARTS_MAX * TN_REKEY_PER_PART >= TN_ROSTER_MAX);
}

static void largest_plaintext_fits(void **state)
{
	(void)state;
	char t[TN_ALERT_TEXT_MAX], l[TN_ALERT_LOCATION_MAX];
	memset(t, 'x', sizeof t);
	memset(l, 'y', sizeof l);
	tn_alert_pt p = sample_pt();
	p.text = (tn_view){(const uint8_t *)t, sizeof t};
	p.location = (tn_view){(const uint8_t *)l, sizeof l};
	p.lat_e7 = -TN_LAT_E7_MAX;
	p.lon_e7 = -TN_LON_E7_MAX;
	tn_ssize n = tn_alert_pt_encode(&p, buf, BUF);
	assert_true(n > 0 && n <= TN_ALERT_PLAINTEXT_MAX);
	assert_int_equal(rt_pt(buf, (size_t)n), TN_OK);
}

/* ---- roster chain fields and pins (docs/wire.md §9) -------------------- */

static void roster_chain_fields(void **state)
{
	(void)state;
	const sample *add = find("roster-add"), *first = find("roster-first");
	const sample *gen = find("roster-genesis");
	/* Field positions: 4 iseq, 5 prev, 6 auth, 7 created_ms, 8 body. */
	tn_roster_rec r;
	size_t n = enc(add, buf);
	assert_int_equal(tn_roster_decode(&r, buf, n), TN_OK);
	assert_int_equal(r.iseq, 300);
	tn_roster_rec want = sample_roster(TN_ROSTER_ADD);
	assert_memory_equal(r.prev, want.prev, TN_HASH);
	assert_memory_equal(r.auth, want.auth, TN_HASH);
	assert_int_equal(r.body.add.epoch, 70000);
	assert_memory_equal(r.body.add.sealed, want.body.add.sealed, TN_SEALED_SECRETS);
	n = enc(first, buf);
	assert_int_equal(tn_roster_decode(&r, buf, n), TN_OK);
	assert_int_equal(r.iseq, 1);
	static const uint8_t zero[TN_HASH];
	assert_memory_equal(r.prev, zero, TN_HASH);
	n = enc(gen, buf);
	assert_int_equal(tn_roster_decode(&r, buf, n), TN_OK);
	assert_memory_equal(r.auth, zero, TN_HASH);
	want = sample_roster(TN_ROSTER_GENESIS);
	assert_memory_equal(r.body.genesis.sealed, want.body.genesis.sealed, TN_SEALED_SECRETS);

	/* iseq: >= 1, genesis exactly 1, unsigned. */
	assert_int_equal(mutate(add, P(4), v_uint(0)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(gen, P(4), v_uint(2)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(add, P(4), v_int(-1)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(add, P(4), RAW(0xcd, 0x00, 0x05)), TN_ERR_DEC_NONCANONICAL);
	/* prev: nil iff iseq == 1. */
	assert_int_equal(mutate(add, P(5), RAW(0xc0)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(add, P(4), v_uint(1)), TN_ERR_DEC_TYPE); /* iseq 1, prev bin */
	assert_int_equal(mutate(first, P(5), v_bin(32)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(add, P(5), v_bin(31)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(add, P(5), v_strn(32, 'p')), TN_ERR_DEC_TYPE);
	/* auth: nil iff genesis. */
	assert_int_equal(mutate(add, P(6), RAW(0xc0)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(first, P(6), RAW(0xc0)), TN_ERR_DEC_TYPE); /* endpoint too */
	assert_int_equal(mutate(gen, P(6), v_bin(32)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(add, P(6), v_bin(33)), TN_ERR_DEC_BADLEN);
	/* add: epoch u32, sealed exactly 112. */
	assert_int_equal(mutate(add, P(8, 4), v_uint(UINT64_C(1) << 32)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(add, P(8, 5), v_bin(TN_SEALED_SECRETS - 1)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(add, P(8, 5), RAW(0xc0)), TN_ERR_DEC_TYPE);
	/* genesis: sealed exactly 112; the old three-field body is refused. */
	assert_int_equal(mutate(gen, P(8, 3), v_bin(TN_SEALED_SECRETS + 1)), TN_ERR_DEC_BADLEN);
	n = enc(gen, buf);
	size_t m = splice(buf, n, P(8, 3), NULL, 0, buf2);
	size_t boff, blen;
	locate(buf2, m, P(8), &boff, &blen);
	buf2[boff] = 0x93;
	assert_int_equal(rt_roster(buf2, m), TN_ERR_DEC_ARRAYLEN);
}

static void roster_pins(void **state)
{
	(void)state;
	const sample *rv = find("roster-revoke"), *ro = find("roster-role");
	const sample *nopin = find("roster-revoke-nopin"), *promo = find("roster-promote");
	tn_roster_rec r, want = sample_roster(TN_ROSTER_REVOKE);
	size_t n = enc(rv, buf);
	assert_int_equal(tn_roster_decode(&r, buf, n), TN_OK);
	assert_int_equal(r.body.revoke.pin.pin_seq, 12);
	assert_true(r.body.revoke.pin.has_pin_head);
	assert_memory_equal(r.body.revoke.pin.pin_head, want.body.revoke.pin.pin_head, TN_HASH);
	n = enc(nopin, buf);
	assert_int_equal(tn_roster_decode(&r, buf, n), TN_OK);
	assert_int_equal(r.body.revoke.pin.pin_seq, 0);
	assert_false(r.body.revoke.pin.has_pin_head);
	n = enc(promo, buf);
	assert_int_equal(tn_roster_decode(&r, buf, n), TN_OK);
	assert_int_equal(r.body.role.role, TN_ROLE_COORDINATOR);
	assert_int_equal(r.body.role.pin.pin_seq, 0);

	/* Revoke body [subject, reason, pin_seq, pin_head]. */
	assert_int_equal(mutate(rv, P(8, 3), RAW(0xc0)), TN_ERR_DEC_TYPE);    /* seq 12, nil */
	assert_int_equal(mutate(rv, P(8, 2), v_uint(0)), TN_ERR_DEC_TYPE);    /* seq 0, bin */
	assert_int_equal(mutate(nopin, P(8, 3), v_bin(32)), TN_ERR_DEC_TYPE); /* seq 0, bin */
	assert_int_equal(mutate(nopin, P(8, 2), v_uint(1)), TN_ERR_DEC_TYPE); /* seq 1, nil */
	assert_int_equal(mutate(rv, P(8, 3), v_bin(31)), TN_ERR_DEC_BADLEN);
	assert_int_equal(mutate(rv, P(8, 2), v_int(-3)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(rv, P(8, 2), RAW(0xcc, 0x0c)), TN_ERR_DEC_NONCANONICAL);
	/* Role body [subject, role, pin_seq, pin_head]: same pin rules... */
	assert_int_equal(mutate(ro, P(8, 3), RAW(0xc0)), TN_ERR_DEC_TYPE);
	assert_int_equal(mutate(ro, P(8, 3), v_bin(33)), TN_ERR_DEC_BADLEN);
	/* ...and a promotion carries no pin. */
	assert_int_equal(mutate(ro, P(8, 1), v_uint(TN_ROLE_COORDINATOR)), TN_ERR_DEC_RANGE);
	assert_int_equal(mutate(promo, P(8, 3), v_bin(32)), TN_ERR_DEC_TYPE);
	/* Old two-field bodies are refused. */
	tn_mp_wr w;
	tn_mp_wr_init(&w, buf2, BUF);
	tn_mp_put_array(&w, 2);
	tn_mp_put_bin(&w, want.body.revoke.subject, TN_PUBKEY);
	tn_mp_put_str(&w, (const uint8_t *)"x", 1);
	tn_ssize bl = tn_mp_wr_end(&w);
	assert_true(bl > 0);
	assert_int_equal(mutate(rv, P(8), v_raw(buf2, (size_t)bl)), TN_ERR_DEC_ARRAYLEN);

	/* The encoder refuses what the decoder refuses. */
	tn_roster_rec e = sample_roster(TN_ROSTER_REVOKE);
	e.body.revoke.pin.has_pin_head = false;
	assert_int_equal(tn_roster_encode(&e, buf, BUF), TN_ERR_INVAL);
	e = sample_roster(TN_ROSTER_REVOKE);
	e.body.revoke.pin.pin_seq = 0;
	assert_int_equal(tn_roster_encode(&e, buf, BUF), TN_ERR_INVAL);
	e = sample_roster(TN_ROSTER_ROLE);
	e.body.role.role = TN_ROLE_COORDINATOR; /* promotion with a pin */
	assert_int_equal(tn_roster_encode_signed(&e, buf, BUF), TN_ERR_INVAL);
	e = sample_roster(TN_ROSTER_ADD);
	e.iseq = 0;
	assert_int_equal(tn_roster_encode(&e, buf, BUF), TN_ERR_INVAL);
	e = sample_roster(TN_ROSTER_GENESIS);
	e.iseq = 2;
	assert_int_equal(tn_roster_encode(&e, buf, BUF), TN_ERR_INVAL);
}

/* The common header, frozen: 0x9a (10 fields) so a roster signature can
 * never be read as an envelope's (0x9c) or a receipt's (0x96). */
static void golden_roster_header(void **state)
{
	(void)state;
	tn_roster_rec r = sample_roster(TN_ROSTER_ENDPOINT);
	r.iseq = 2;
	tn_ssize n = tn_roster_encode_signed(&r, buf, BUF);
	assert_true(n > 0);
	uint8_t hdr[3 + 18 + 34 + 1 + 34 + 34] = {0x9a, 0x01, 0x05, 0xc4, 0x10};
	size_t o = 5;
	memcpy(hdr + o, r.network_id, 16);
	o += 16;
	hdr[o++] = 0xc4;
	hdr[o++] = 0x20;
	memcpy(hdr + o, r.issuer, 32);
	o += 32;
	hdr[o++] = 0x02; /* iseq */
	hdr[o++] = 0xc4;
	hdr[o++] = 0x20;
	memcpy(hdr + o, r.prev, 32);
	o += 32;
	hdr[o++] = 0xc4;
	hdr[o++] = 0x20;
	memcpy(hdr + o, r.auth, 32);
	o += 32;
	assert_int_equal(o, sizeof hdr);
	assert_memory_equal(buf, hdr, sizeof hdr);
	/* Genesis: nil network id, iseq 1, nil prev, nil auth. */
	r = sample_roster(TN_ROSTER_GENESIS);
	n = tn_roster_encode_signed(&r, buf, BUF);
	assert_true(n > 0);
	static const uint8_t g0[] = {0x9a, 0x01, 0x00, 0xc0, 0xc4, 0x20};
	assert_memory_equal(buf, g0, sizeof g0);
	assert_int_equal(buf[6 + 32], 0x01);
	assert_int_equal(buf[6 + 33], 0xc0);
	assert_int_equal(buf[6 + 34], 0xc0);
}

/* ---- corpus: write one seed per record (run by hand, see docs/wire.md) -- */

/* The largest envelope and a full rekey part, so the fuzzer starts from
 * records at their bounds (run it with -max_len=65536). */
static void write_big_seeds(const char *dir)
{
	tn_alert_env e = sample_env();
	e.seq = UINT64_MAX;
	e.created_ms = UINT64_MAX - 1;
	e.expires_ms = UINT64_MAX;
	e.epoch = UINT32_MAX;
	e.ciphertext.len = TN_ALERT_CIPHERTEXT_MAX;
	tn_ssize n = tn_alert_env_encode(&e, buf, BUF);
	assert_int_equal(n, TN_ALERT_ENVELOPE_MAX);
	test_write_file(dir, "envelope-max", buf, (size_t)n);

	tn_roster_rec r = sample_roster(TN_ROSTER_REKEY);
	for (size_t i = 0; i < TN_REKEY_PER_PART; i++) {
		memset(rekey_entries[i].member, 0, TN_PUBKEY);
		rekey_entries[i].member[0] = (uint8_t)(i >> 8);
		rekey_entries[i].member[1] = (uint8_t)i;
		fill(rekey_entries[i].sealed, TN_SEALED_SECRETS, (uint8_t)i);
	}
	r.body.rekey.count = TN_REKEY_PER_PART;
	n = tn_roster_encode(&r, buf, BUF);
	assert_true(n > 0);
	test_write_file(dir, "roster-rekey-full", buf, (size_t)n);
	tn_link_msg m = {0};
	m.type = TN_LINK_ROSTER;
	m.record.p = buf;
	m.record.len = (size_t)n;
	n = tn_link_encode(&m, buf2, BUF);
	assert_true(n > 0);
	test_write_file(dir, "link-roster-rekey-full", buf2, (size_t)n);
}

static void write_corpus(const char *dir)
{
	char name[256];
	write_big_seeds(dir);
	/* A newer peer's link types (docs/wire.md §4 "Unknown types"):
	 * ignorable with a nested body, the same with a reserved byte in it,
	 * critical. */
	static const uint8_t unknown[] = {0x92, 0x12, 0x92, 0x01, 0x81, 0xa1, 'x', 0xc4, 0x01, 0x00};
	test_write_file(dir, "link-unknown-type", unknown, sizeof unknown);
	static const uint8_t unknown_bad[] = {0x92, 0x12, 0x92, 0x01, 0xc1};
	test_write_file(dir, "link-unknown-type-bad-body", unknown_bad, sizeof unknown_bad);
	static const uint8_t critical[] = {0x92, 0xcc, 0x80, 0x00};
	test_write_file(dir, "link-critical-type", critical, sizeof critical);
	FOR_SAMPLES(s)
	{
		size_t n = enc(s, buf);
		test_write_file(dir, s->name, buf, n);
		/* Two truncations of each, as regressions of the error path. */
		snprintf(name, sizeof name, "%s-trunc-half", s->name);
		test_write_file(dir, name, buf, n / 2);
		snprintf(name, sizeof name, "%s-trunc-last", s->name);
		test_write_file(dir, name, buf, n - 1);
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
		write_corpus(argv[2]);
		return 0;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(roundtrip_every_record),
	        cmocka_unit_test(every_truncation_is_truncated),
	        cmocka_unit_test(trailing_byte_rejected),
	        cmocka_unit_test(output_one_byte_short_is_nobuf),
	        cmocka_unit_test(failed_decode_leaves_zeroed_struct),
	        cmocka_unit_test(golden_small_records),
	        cmocka_unit_test(rejects_wrong_version),
	        cmocka_unit_test(rejects_wrong_array_length),
	        cmocka_unit_test(rejects_wrong_type),
	        cmocka_unit_test(rejects_noncanonical_field),
	        cmocka_unit_test(rejects_reserved_byte),
	        cmocka_unit_test(rejects_bad_fixed_length),
	        cmocka_unit_test(rejects_out_of_range),
	        cmocka_unit_test(rejects_too_big),
	        cmocka_unit_test(rejects_too_many_receipts),
	        cmocka_unit_test(digest_ranges_and_parts),
	        cmocka_unit_test(rejects_bad_utf8),
	        cmocka_unit_test(rejects_keys_out_of_order),
	        cmocka_unit_test(rejects_unknown_key),
	        cmocka_unit_test(rejects_missing_key),
	        cmocka_unit_test(rejects_unknown_record_type),
	        cmocka_unit_test(unknown_link_type_ignorable_or_critical),
	        cmocka_unit_test(rwant_note_bounds),
	        cmocka_unit_test(link_heads_and_join_rules),
	        cmocka_unit_test(deep_nesting_is_refused),
	        cmocka_unit_test(rejects_huge_declared_counts),
	        cmocka_unit_test(encoder_refuses_invalid),
	        cmocka_unit_test(arabic_and_kurdish_roundtrip_exact),
	        cmocka_unit_test(decoded_fields_match),
	        cmocka_unit_test(signed_part_matches_encoder),
	        cmocka_unit_test(envelope_header_is_prefix_before_ciphertext),
	        cmocka_unit_test(iterators_return_every_element),
	        cmocka_unit_test(largest_envelope_is_envelope_max),
	        cmocka_unit_test(largest_receipt_is_receipt_max),
	        cmocka_unit_test(full_rekey_part_fits_a_frame),
	        cmocka_unit_test(largest_plaintext_fits),
	        cmocka_unit_test(roster_chain_fields),
	        cmocka_unit_test(roster_pins),
	        cmocka_unit_test(golden_roster_header),
	        cmocka_unit_test(dialback_strict),
	        cmocka_unit_test(lazy_push_strict),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
