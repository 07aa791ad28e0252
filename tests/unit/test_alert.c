/* Alerts: seal -> check -> open, and one test per rejection reason asserting
 * that reason and that its counter, and no other, moved (DESIGN §6,
 * docs/alerts.md). Virtual time, seeded RNG, no sleeps.
 *
 *   test_alert                      run the tests
 *   test_alert --write-corpus DIR   write the fuzz_alert seed corpus */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../fuzz/alert_fixture.h"

#define AR_TEXT "النجدة، أنا في خطر"
#define KU_TEXT "یارمەتی، من لە مەترسیدام"

/* One fixture per test: the fx network plus the base held set. */
typedef struct T {
	fx f;
	uint8_t bob_panic[TN_ALERT_ID];   /* Bob, seq 1, held */
	uint8_t alice_drill[TN_ALERT_ID]; /* Alice, seq 1, held */
	uint8_t bob_env[TN_ALERT_ENVELOPE_MAX];
	size_t bob_len;
	uint8_t env[TN_ALERT_ENVELOPE_MAX + 64];
	uint8_t env2[TN_ALERT_ENVELOPE_MAX + 64];
	uint8_t plain[TN_ALERT_PLAINTEXT_MAX];
	uint8_t raw_ct[TN_ALERT_CIPHERTEXT_MAX];
} T;

static T t_storage;

static int setup(void **state)
{
	T *t = &t_storage;
	memset(t, 0, sizeof *t);
	if (fx_init(&t->f) != 0)
		return -1;
	if (fx_base(&t->f, t->bob_panic, t->alice_drill, t->bob_env, &t->bob_len) != 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	T *t = *state;
	fx_free(&t->f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* Check at the given times; assert the reason and that exactly its counter
 * moved, by one. */
static void expect_at(T *t, const uint8_t *in, size_t len, uint64_t wall, tn_time now,
                      tn_alert_reason want, tn_alert_verdict *v)
{
	uint64_t before[TN_ALERT_REASON_COUNT];
	memcpy(before, t->f.ctx.counters, sizeof before);
	assert_int_equal(tn_alert_check(&t->f.ctx, in, len, wall, now, v), TN_OK);
	assert_string_equal(tn_alert_reason_name(v->reason), tn_alert_reason_name(want));
	for (int i = 0; i < TN_ALERT_REASON_COUNT; i++)
		assert_int_equal(t->f.ctx.counters[i], before[i] + (i == (int)want));
}

static void expect(T *t, const uint8_t *in, size_t len, tn_alert_reason want, tn_alert_verdict *v)
{
	expect_at(t, in, len, FX_WALL_MS, FX_NOW, want, v);
}

static void expect_open(T *t, const tn_alert_env *env, tn_alert_reason want, tn_alert_opened *o)
{
	uint64_t before[TN_ALERT_REASON_COUNT];
	memcpy(before, t->f.ctx.counters, sizeof before);
	assert_int_equal(tn_alert_open(&t->f.ctx, env, t->plain, sizeof t->plain, o), TN_OK);
	assert_string_equal(tn_alert_reason_name(o->reason), tn_alert_reason_name(want));
	for (int i = 0; i < TN_ALERT_REASON_COUNT; i++)
		assert_int_equal(t->f.ctx.counters[i], before[i] + (i == (int)want));
}

static size_t seal(T *t, int who, uint8_t kind, uint64_t seq, const uint8_t *ref, const char *text,
                   uint8_t *out, uint8_t id[TN_ALERT_ID])
{
	tn_ssize n = fx_seal(&t->f, who, kind, seq, ref, text, out, TN_ALERT_ENVELOPE_MAX, id);
	assert_true(n > 0);
	return (size_t)n;
}

static size_t seal_draft(T *t, int who, const tn_alert_draft *d, const char *text, uint8_t *out)
{
	tn_alert_pt p = fx_pt(text);
	tn_ssize n = tn_alert_seal(t->f.id[who], d, &t->f.key1, &p, &t->f.rand, out,
	                           TN_ALERT_ENVELOPE_MAX, NULL);
	assert_true(n > 0);
	return (size_t)n;
}

/* A header for sealing by hand: author who, fixture defaults. */
static tn_alert_env raw_header(T *t, int who, uint8_t kind, uint64_t seq)
{
	tn_alert_env e;
	memset(&e, 0, sizeof e);
	memcpy(e.network_id, t->f.net, sizeof e.network_id);
	memcpy(e.author, fx_pk(&t->f, who)->b, TN_PUBKEY);
	e.seq = seq;
	e.kind = kind;
	e.created_ms = FX_WALL_MS;
	e.expires_ms = FX_WALL_MS + FX_LIFE_MS;
	e.epoch = FX_EPOCH;
	return e;
}

/* Sign e by hand, as docs/alerts.md specifies (not through alert.c):
 * Ed25519 over "tocsin/1 alert" || the encoding before the signature. */
static void raw_sign(const tn_identity *signer, tn_alert_env *e)
{
	uint8_t range[TN_ALERT_ENVELOPE_MAX], msg[14 + TN_ALERT_ENVELOPE_MAX];
	tn_ssize n = tn_alert_env_encode_signed(e, range, sizeof range);
	assert_true(n > 0);
	memcpy(msg, "tocsin/1 alert", 14);
	memcpy(msg + 14, range, (size_t)n);
	tn_sig sig;
	assert_int_equal(tn_identity_sign(signer, msg, 14 + (size_t)n, &sig), TN_OK);
	memcpy(e->signature, sig.b, sizeof sig.b);
}

/* Seal by hand: draw a nonce, encrypt pt under key with the header of
 * ad_hdr (e itself when NULL; its nonce is e's) as AD, sign as signer, and
 * encode. Lets tests build what tn_alert_seal refuses to. */
static size_t raw_seal(T *t, const tn_identity *signer, tn_alert_env *e, const tn_alert_env *ad_hdr,
                       const tn_seckey *key, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	uint8_t ad[TN_ALERT_ENV_HEADER_MAX];
	unsigned long long ctlen = 0;
	tn_rand_bytes(&t->f.rand, e->nonce, sizeof e->nonce);
	tn_alert_env a = ad_hdr ? *ad_hdr : *e;
	memcpy(a.nonce, e->nonce, sizeof a.nonce);
	tn_ssize adlen = tn_alert_env_encode_header(&a, ad, sizeof ad);
	assert_true(adlen > 0);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(t->raw_ct, &ctlen, pt, ptlen,
	                                                            ad, (size_t)adlen, NULL,
	                                                            e->nonce, key->b),
	                 0);
	e->ciphertext.p = t->raw_ct;
	e->ciphertext.len = (size_t)ctlen;
	raw_sign(signer, e);
	tn_ssize n = tn_alert_env_encode(e, out, TN_ALERT_ENVELOPE_MAX);
	assert_true(n > 0);
	return (size_t)n;
}

static size_t encode_pt(const char *text, uint8_t *out)
{
	tn_alert_pt p = fx_pt(text);
	tn_ssize n = tn_alert_pt_encode(&p, out, TN_ALERT_PLAINTEXT_MAX);
	assert_true(n > 0);
	return (size_t)n;
}

/* ---- round trips --------------------------------------------------------- */

typedef struct kind_case {
	int who;
	uint8_t kind;
	int ref; /* 0 none, 1 Bob's panic, 2 Alice's own panic (sealed first) */
} kind_case;

/* Every kind, sealed by someone allowed to, is accepted, carries the id
 * tn_alert_seal reported, and opens to the same plaintext. */
static void roundtrip_every_kind(void **state)
{
	T *t = *state;
	uint8_t own_panic[TN_ALERT_ID], id[TN_ALERT_ID];
	tn_alert_verdict v;
	tn_alert_opened o;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "first", t->env, own_panic);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	assert_true(fx_hold(&t->f, &v));
	const kind_case cases[] = {
	        {FX_ALICE, TN_KIND_PANIC, 0},      {FX_ALICE, TN_KIND_SAFE, 2},
	        {FX_ALICE, TN_KIND_RESPONDING, 1}, {FX_CAROL, TN_KIND_NOTICE, 0},
	        {FX_BOB, TN_KIND_DRILL, 0},        {FX_BOB, TN_KIND_TEST, 0},
	        {FX_CAROL, TN_KIND_PANIC, 1},
	};
	uint64_t seq = 10;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++, seq++) {
		const kind_case *c = &cases[i];
		const uint8_t *ref = c->ref == 1 ? t->bob_panic : c->ref == 2 ? own_panic : NULL;
		n = seal(t, c->who, c->kind, seq, ref, "text of the alert", t->env, id);
		expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
		assert_true(v.has_id);
		assert_memory_equal(v.id, id, TN_ALERT_ID);
		assert_int_equal(v.env.kind, c->kind);
		assert_int_equal(v.env.seq, seq);
		assert_memory_equal(v.env.author, fx_pk(&t->f, c->who)->b, TN_PUBKEY);
		assert_int_equal(v.env.has_refers_to, ref != NULL);
		if (ref)
			assert_memory_equal(v.env.refers_to, ref, TN_ALERT_ID);
		expect_open(t, &v.env, TN_ALERT_OPENED, &o);
		assert_int_equal(o.pt.severity, TN_SEV_CRITICAL);
		assert_int_equal(o.pt.violation, TN_VIOL_THREAT);
		assert_true(o.pt.has_text);
		assert_int_equal(o.pt.text.len, strlen("text of the alert"));
		assert_memory_equal(o.pt.text.p, "text of the alert", o.pt.text.len);
		assert_true(o.pt.text.p >= t->plain && o.pt.text.p < t->plain + sizeof t->plain);
		assert_true(fx_hold(&t->f, &v));
	}
}

/* Arabic and Kurdish Sorani text and location come back byte for byte. */
static void arabic_and_kurdish_exact(void **state)
{
	T *t = *state;
	tn_alert_draft d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);
	tn_alert_pt p = fx_pt(AR_TEXT);
	p.has_location = true;
	p.location.p = (const uint8_t *)KU_TEXT;
	p.location.len = strlen(KU_TEXT);
	p.has_latlon = true;
	p.lat_e7 = 361906000;
	p.lon_e7 = 440089000;
	tn_ssize n = tn_alert_seal(t->f.id[FX_ALICE], &d, &t->f.key1, &p, &t->f.rand, t->env,
	                           sizeof t->env, NULL);
	assert_true(n > 0);
	tn_alert_verdict v;
	tn_alert_opened o;
	expect(t, t->env, (size_t)n, TN_ALERT_ACCEPTED, &v);
	expect_open(t, &v.env, TN_ALERT_OPENED, &o);
	assert_int_equal(o.pt.text.len, strlen(AR_TEXT));
	assert_memory_equal(o.pt.text.p, AR_TEXT, strlen(AR_TEXT));
	assert_true(o.pt.has_location);
	assert_int_equal(o.pt.location.len, strlen(KU_TEXT));
	assert_memory_equal(o.pt.location.p, KU_TEXT, strlen(KU_TEXT));
	assert_true(o.pt.has_latlon);
	assert_int_equal(o.pt.lat_e7, 361906000);
	assert_int_equal(o.pt.lon_e7, 440089000);
}

/* tn_alert_seal produces exactly what docs/alerts.md describes: sealing by
 * hand (header AD, XChaCha20-Poly1305, context-prefixed Ed25519) with the
 * same nonce gives the same bytes; the id is BLAKE2b-256 of them; and the
 * signature does not verify without the context (domain separation). */
static void seal_matches_the_spec(void **state)
{
	T *t = *state;
	test_rng saved = t->f.rng;
	uint8_t id[TN_ALERT_ID], id2[TN_ALERT_ID];
	size_t n = seal(t, FX_ALICE, TN_KIND_RESPONDING, 2, t->bob_panic, "on my way", t->env, id);

	t->f.rng = saved; /* the same nonce for the hand-made one */
	tn_alert_env e = raw_header(t, FX_ALICE, TN_KIND_RESPONDING, 2);
	e.has_refers_to = true;
	memcpy(e.refers_to, t->bob_panic, TN_ALERT_ID);
	size_t ptlen = encode_pt("on my way", t->plain);
	size_t m = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, t->plain, ptlen, t->env2);
	assert_int_equal(m, n);
	assert_memory_equal(t->env, t->env2, n);

	crypto_generichash(id2, sizeof id2, t->env, n, NULL, 0);
	assert_memory_equal(id, id2, TN_ALERT_ID);

	tn_alert_env d;
	assert_int_equal(tn_alert_env_decode(&d, t->env, n), TN_OK);
	assert_int_not_equal(crypto_sign_verify_detached(d.signature, d.signed_part.p,
	                                                 d.signed_part.len, d.author),
	                     0);
}

/* ---- rejections, in check order ----------------------------------------- */

static void rejects_oversized_frame(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "x", t->env, NULL);
	/* A valid envelope padded past the bound: refused on size alone. */
	memset(t->env + n, 0, sizeof t->env - n);
	expect(t, t->env, TN_ALERT_ENVELOPE_MAX + 1, TN_ALERT_TOO_BIG, &v);
	/* At exactly the bound the size passes and the decoder refuses. */
	expect(t, t->env, TN_ALERT_ENVELOPE_MAX, TN_ALERT_MALFORMED, &v);
	assert_int_equal(v.dec_err, TN_ERR_DEC_TRAILING);
}

/* seq 2 (positive fixint 0x02) re-encoded as uint8 (cc 02). */
static void rejects_noncanonical(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "x", t->env, NULL);
	enum { SEQ_AT = 1 + 1 + 18 + 34 }; /* array, version, network_id, author */
	assert_int_equal(t->env[SEQ_AT], 0x02);
	memcpy(t->env2, t->env, SEQ_AT);
	t->env2[SEQ_AT] = 0xcc;
	memcpy(t->env2 + SEQ_AT + 1, t->env + SEQ_AT, n - SEQ_AT);
	expect(t, t->env2, n + 1, TN_ALERT_MALFORMED, &v);
	assert_int_equal(v.dec_err, TN_ERR_DEC_NONCANONICAL);
	static const tn_alert_env zero;
	assert_memory_equal(&v.env, &zero, sizeof zero);
	assert_false(v.has_id);
}

static void rejects_every_truncation(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "x", t->env, NULL);
	for (size_t len = 0; len < n; len++) {
		expect(t, t->env, len, TN_ALERT_MALFORMED, &v);
		assert_true(v.dec_err <= TN_ERR_DEC_TRUNCATED && v.dec_err >= TN_ERR_DEC_RESERVED);
	}
	expect(t, NULL, 0, TN_ALERT_MALFORMED, &v);
}

static void rejects_wrong_network(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_draft d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);
	d.network_id[0] ^= 1;
	size_t n = seal_draft(t, FX_ALICE, &d, "x", t->env);
	expect(t, t->env, n, TN_ALERT_WRONG_NETWORK, &v);
	assert_false(v.has_id);
}

static void rejects_unknown_author(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_EVE, TN_KIND_PANIC, 1, NULL, "x", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_UNKNOWN_AUTHOR, &v);
}

static void rejects_revoked_author(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_MALLORY, TN_KIND_PANIC, 1, NULL, "x", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_REVOKED_AUTHOR, &v);
}

/* The same envelope again: a quiet duplicate, with no crypto spent (even
 * far past its expiry, the check stops at the held id). */
static void duplicate_is_quiet(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	expect(t, t->bob_env, t->bob_len, TN_ALERT_DUPLICATE, &v);
	assert_true(v.has_id);
	assert_memory_equal(v.id, t->bob_panic, TN_ALERT_ID);
	assert_memory_equal(v.conflict_id, t->bob_panic, TN_ALERT_ID);
	expect_at(t, t->bob_env, t->bob_len, FX_WALL_MS + 30 * 86400000ull, FX_NOW,
	          TN_ALERT_DUPLICATE, &v);
}

/* A second, validly signed envelope with Bob's (author, seq): evidence of
 * a stolen key, with both ids; not accepted. */
static void equivocation_carries_both_ids(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	uint8_t id[TN_ALERT_ID];
	size_t n = seal(t, FX_BOB, TN_KIND_PANIC, 1, NULL, "another text", t->env, id);
	expect(t, t->env, n, TN_ALERT_EQUIVOCATION, &v);
	assert_memory_equal(v.id, id, TN_ALERT_ID);
	assert_memory_equal(v.conflict_id, t->bob_panic, TN_ALERT_ID);
	assert_memory_not_equal(v.id, v.conflict_id, TN_ALERT_ID);
}

/* A conflicting envelope Bob did not sign must not frame him. */
static void forged_equivocation_is_bad_signature(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	/* Bob's own envelope with one signature bit flipped. */
	memcpy(t->env, t->bob_env, t->bob_len);
	t->env[t->bob_len - 1] ^= 0x01;
	expect(t, t->env, t->bob_len, TN_ALERT_BAD_SIGNATURE, &v);
	/* A new envelope claiming Bob and seq 1, signed by Alice. */
	tn_alert_env e = raw_header(t, FX_BOB, TN_KIND_PANIC, 1);
	size_t ptlen = encode_pt("framed", t->plain);
	size_t n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, t->plain, ptlen, t->env);
	expect(t, t->env, n, TN_ALERT_BAD_SIGNATURE, &v);
}

/* created may be at most 10 min ahead of our clock: exactly +10 min is
 * accepted, +10 min + 1 ms is not. */
static void future_boundary(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_draft d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);
	d.created_ms = FX_WALL_MS + 600000;
	d.expires_ms = d.created_ms + FX_LIFE_MS;
	size_t n = seal_draft(t, FX_ALICE, &d, "x", t->env);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);

	d.seq = 3;
	d.created_ms = FX_WALL_MS + 600001;
	d.expires_ms = d.created_ms + FX_LIFE_MS;
	n = seal_draft(t, FX_ALICE, &d, "x", t->env);
	expect(t, t->env, n, TN_ALERT_FUTURE, &v);
	/* The same alert is fine once our clock catches up by 1 ms. */
	expect_at(t, t->env, n, FX_WALL_MS + 1, FX_NOW, TN_ALERT_ACCEPTED, &v);
}

/* expires - created may be 7 days exactly, not 7 days + 1 ms (which
 * tn_alert_seal refuses to make, so it is sealed by hand). */
static void lifetime_boundary(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_draft d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);
	d.expires_ms = d.created_ms + 7 * 86400000ull;
	size_t n = seal_draft(t, FX_ALICE, &d, "x", t->env);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);

	tn_alert_env e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 3);
	e.expires_ms = e.created_ms + 7 * 86400000ull + 1;
	size_t ptlen = encode_pt("x", t->plain);
	n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, t->plain, ptlen, t->env);
	expect(t, t->env, n, TN_ALERT_LIFETIME, &v);
}

/* An alert is live while expires > now: at expires - 1 ms accepted, at
 * expires rejected. */
static void expired_boundary(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_draft d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);
	size_t n = seal_draft(t, FX_ALICE, &d, "x", t->env);
	expect_at(t, t->env, n, d.expires_ms, FX_NOW, TN_ALERT_EXPIRED, &v);
	expect_at(t, t->env, n, d.expires_ms - 1, FX_NOW, TN_ALERT_ACCEPTED, &v);
}

static void rejects_forged_signature(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "x", t->env, NULL);
	t->env[n - 10] ^= 0x40;
	expect(t, t->env, n, TN_ALERT_BAD_SIGNATURE, &v);
}

/* The author field says Alice; Bob (a member with a valid key) signed the
 * very same bytes. */
static void rejects_signature_by_another_member(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_env e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 2);
	size_t ptlen = encode_pt("x", t->plain);
	size_t n = raw_seal(t, t->f.id[FX_BOB], &e, NULL, &t->f.key1, t->plain, ptlen, t->env);
	expect(t, t->env, n, TN_ALERT_BAD_SIGNATURE, &v);
}

/* A flipped ciphertext bit is caught by the signature, before anything is
 * decrypted (no open counter moves). Opened anyway, AEAD refuses it too. */
static void ciphertext_bitflip_fails_signature_first(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_opened o;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "x", t->env, NULL);
	tn_alert_env e;
	assert_int_equal(tn_alert_env_decode(&e, t->env, n), TN_OK);
	size_t at = (size_t)(e.ciphertext.p - t->env) + 3;
	t->env[at] ^= 0x10;
	expect(t, t->env, n, TN_ALERT_BAD_SIGNATURE, &v);
	assert_int_equal(t->f.ctx.counters[TN_ALERT_BAD_CIPHERTEXT], 0);
	expect_open(t, &v.env, TN_ALERT_BAD_CIPHERTEXT, &o);
}

/* An insider holding the group key replaces Alice's ciphertext with her
 * own valid encryption under the same header, keeping Alice's signature. */
static void insider_reencryption_fails_signature(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_opened o;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "the real text", t->env, NULL);
	tn_alert_env e;
	assert_int_equal(tn_alert_env_decode(&e, t->env, n), TN_OK);
	uint8_t ad[TN_ALERT_ENV_HEADER_MAX], ct[TN_ALERT_CIPHERTEXT_MAX];
	tn_ssize adlen = tn_alert_env_encode_header(&e, ad, sizeof ad);
	assert_true(adlen > 0);
	size_t ptlen = encode_pt("a fake text!!", t->plain); /* same length */
	unsigned long long ctlen;
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, t->plain, ptlen, ad,
	                                                            (size_t)adlen, NULL, e.nonce,
	                                                            t->f.key1.b),
	                 0);
	assert_int_equal(ctlen, e.ciphertext.len);
	e.ciphertext.p = ct; /* signature field kept from Alice */
	tn_ssize m = tn_alert_env_encode(&e, t->env2, sizeof t->env2);
	assert_int_equal(m, (tn_ssize)n);
	expect(t, t->env2, n, TN_ALERT_BAD_SIGNATURE, &v);
	/* The forged ciphertext itself would open: only the signature stops it. */
	expect_open(t, &v.env, TN_ALERT_OPENED, &o);
}

static void rejects_notice_from_member(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_ALICE, TN_KIND_NOTICE, 2, NULL, "x", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_NOTICE_FORBIDDEN, &v);
}

static void rejects_safe_for_someone_elses_panic(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_ALICE, TN_KIND_SAFE, 2, t->bob_panic, "x", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_SAFE_FOREIGN, &v);
}

static void rejects_safe_for_own_non_panic(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t n = seal(t, FX_ALICE, TN_KIND_SAFE, 2, t->alice_drill, "x", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_SAFE_FOREIGN, &v);
}

/* A safe whose panic we have not seen is accepted: it closes nothing
 * until that panic arrives. */
static void accepts_safe_for_unknown_alert(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	uint8_t unknown[TN_ALERT_ID];
	memset(unknown, 0x77, sizeof unknown);
	size_t n = seal(t, FX_ALICE, TN_KIND_SAFE, 2, unknown, "x", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
}

/* responding and safe without refers_to (tn_alert_seal refuses to make
 * them, so they are sealed by hand). */
static void rejects_missing_refers_to(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	size_t ptlen = encode_pt("x", t->plain);
	tn_alert_env e = raw_header(t, FX_ALICE, TN_KIND_RESPONDING, 2);
	size_t n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, t->plain, ptlen, t->env);
	expect(t, t->env, n, TN_ALERT_MISSING_REFERS_TO, &v);
	e = raw_header(t, FX_ALICE, TN_KIND_SAFE, 3);
	n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, t->plain, ptlen, t->env);
	expect(t, t->env, n, TN_ALERT_MISSING_REFERS_TO, &v);
}

/* Alice exhausts her chatter budget (20, one already spent by the base
 * drill); her panics still go through on their own budget (5), then those
 * run out too; Bob is unaffected; one minute later one more panic. */
static void rate_limit_keeps_panic_budget_separate(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	uint64_t seq = 2;
	for (int i = 0; i < 19; i++, seq++) {
		size_t n = seal(t, FX_ALICE, TN_KIND_DRILL, seq, NULL, "d", t->env, NULL);
		expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	}
	size_t n = seal(t, FX_ALICE, TN_KIND_DRILL, seq++, NULL, "d", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_RATE_LIMITED, &v);
	n = seal(t, FX_ALICE, TN_KIND_TEST, seq++, NULL, "d", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_RATE_LIMITED, &v);

	for (int i = 0; i < 5; i++, seq++) {
		n = seal(t, FX_ALICE, TN_KIND_PANIC, seq, NULL, "p", t->env, NULL);
		expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	}
	n = seal(t, FX_ALICE, TN_KIND_PANIC, seq, NULL, "p", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_RATE_LIMITED, &v);
	/* Not stored, so the same bytes are judged afresh later. */
	expect_at(t, t->env, n, FX_WALL_MS, FX_NOW + TN_MIN - 1, TN_ALERT_RATE_LIMITED, &v);
	expect_at(t, t->env, n, FX_WALL_MS, FX_NOW + TN_MIN, TN_ALERT_ACCEPTED, &v);

	n = seal(t, FX_BOB, TN_KIND_DRILL, 2, NULL, "d", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
}

/* Dropped alerts spend no token: 30 forged panics "by Alice" leave her
 * whole urgent budget. */
static void rejections_spend_no_token(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	for (uint64_t seq = 2; seq < 32; seq++) {
		size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, seq, NULL, "p", t->env, NULL);
		t->env[n - 1] ^= 1;
		expect(t, t->env, n, TN_ALERT_BAD_SIGNATURE, &v);
	}
	for (uint64_t seq = 40; seq < 45; seq++) {
		size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, seq, NULL, "p", t->env, NULL);
		expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	}
}

/* Over budget, the signature is not even checked (docs/alerts.md step 6'):
 * Alice's sixth panic with a broken signature is rate_limited, and no
 * bad_signature is counted; Bob's broken one, within his budget, is
 * verified and refused as usual. */
static void over_budget_costs_no_verify(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	uint64_t seq = 2;
	for (int i = 0; i < 5; i++, seq++) {
		size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, seq, NULL, "p", t->env, NULL);
		expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	}
	uint64_t bad_sig = t->f.ctx.counters[TN_ALERT_BAD_SIGNATURE];
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, seq, NULL, "p", t->env, NULL);
	t->env[n - 1] ^= 1;
	expect(t, t->env, n, TN_ALERT_RATE_LIMITED, &v);
	assert_int_equal(t->f.ctx.counters[TN_ALERT_BAD_SIGNATURE], bad_sig);
	n = seal(t, FX_BOB, TN_KIND_PANIC, 2, NULL, "p", t->env, NULL);
	t->env[n - 1] ^= 1;
	expect(t, t->env, n, TN_ALERT_BAD_SIGNATURE, &v);
	/* The peek spent nothing: a minute later exactly one more goes through. */
	n = seal(t, FX_ALICE, TN_KIND_PANIC, seq, NULL, "p", t->env, NULL);
	expect_at(t, t->env, n, FX_WALL_MS, FX_NOW + TN_MIN, TN_ALERT_ACCEPTED, &v);
	n = seal(t, FX_ALICE, TN_KIND_PANIC, seq + 1, NULL, "p", t->env, NULL);
	expect_at(t, t->env, n, FX_WALL_MS, FX_NOW + TN_MIN, TN_ALERT_RATE_LIMITED, &v);
}

/* ---- opening ------------------------------------------------------------- */

/* An author (or a buggy client) seals a map whose text is not UTF-8: the
 * relays cannot see it and accept; opening refuses it and wipes it. */
static void open_rejects_invalid_utf8(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_opened o;
	/* {1: 3, 2: 0, 3: "\xc3\x28"} */
	static const uint8_t bad[] = {0x83, 0x01, 0x03, 0x02, 0x00, 0x03, 0xa2, 0xc3, 0x28};
	tn_alert_env e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 2);
	size_t n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, bad, sizeof bad, t->env);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	memset(t->plain, 0xee, sizeof t->plain);
	expect_open(t, &v.env, TN_ALERT_BAD_PLAINTEXT, &o);
	assert_int_equal(o.dec_err, TN_ERR_DEC_UTF8);
	static const uint8_t zero[sizeof bad];
	assert_memory_equal(t->plain, zero, sizeof bad);
	assert_false(o.pt.has_text);
}

static void open_unknown_epoch(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_opened o;
	tn_alert_draft d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);
	d.epoch = FX_EPOCH + 1; /* a rekey we have not received */
	size_t n = seal_draft(t, FX_ALICE, &d, "x", t->env);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	expect_open(t, &v.env, TN_ALERT_UNKNOWN_EPOCH, &o);
}

/* Validly signed, but the ciphertext does not open: under another key for
 * the same epoch, or with another header as AD (the AD binds the header). */
static void open_rejects_wrong_key_or_header(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_opened o;
	size_t ptlen = encode_pt("x", t->plain);
	tn_seckey other;
	memset(other.b, 0x42, sizeof other.b);
	tn_alert_env e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 2);
	size_t n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &other, t->plain, ptlen, t->env);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	expect_open(t, &v.env, TN_ALERT_BAD_CIPHERTEXT, &o);

	ptlen = encode_pt("x", t->plain);
	e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 3);
	tn_alert_env lie = raw_header(t, FX_BOB, TN_KIND_PANIC, 3); /* AD names Bob */
	n = raw_seal(t, t->f.id[FX_ALICE], &e, &lie, &t->f.key1, t->plain, ptlen, t->env);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	expect_open(t, &v.env, TN_ALERT_BAD_CIPHERTEXT, &o);
}

static void open_needs_room(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_opened o;
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "hello", t->env, NULL);
	expect(t, t->env, n, TN_ALERT_ACCEPTED, &v);
	size_t need = v.env.ciphertext.len - TN_ALERT_TAG;
	assert_int_equal(tn_alert_open(&t->f.ctx, &v.env, t->plain, need - 1, &o), TN_ERR_NOBUF);
	assert_int_equal(t->f.ctx.counters[TN_ALERT_OPENED], 0);
	assert_int_equal(tn_alert_open(&t->f.ctx, &v.env, t->plain, need, &o), TN_OK);
	assert_int_equal(o.reason, TN_ALERT_OPENED);
}

/* ---- API edges ----------------------------------------------------------- */

static void seal_refuses_what_relays_drop(void **state)
{
	T *t = *state;
	tn_alert_pt p = fx_pt("x");
	tn_alert_draft d;
	tn_identity *a = t->f.id[FX_ALICE];
	const tn_seckey *k = &t->f.key1;
	const tn_rand *r = &t->f.rand;
	uint8_t *o = t->env;
	size_t cap = sizeof t->env;
#define REFUSE(mutation)                                                                           \
	do {                                                                                       \
		d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);                                       \
		mutation;                                                                          \
		assert_int_equal(tn_alert_seal(a, &d, k, &p, r, o, cap, NULL), TN_ERR_INVAL);      \
	} while (0)
	REFUSE(d.seq = 0);
	REFUSE(d.kind = TN_KIND_TEST + 1);
	REFUSE(d.expires_ms = d.created_ms - 1);
	REFUSE(d.expires_ms = d.created_ms + TN_ALERT_LIFETIME_MS + 1);
	REFUSE(d.kind = TN_KIND_SAFE);
	REFUSE(d.kind = TN_KIND_RESPONDING);
	REFUSE(p.severity = TN_SEV_CRITICAL + 1);
#undef REFUSE
	p = fx_pt("x");
	d = fx_draft(&t->f, TN_KIND_PANIC, 2, NULL);
	assert_int_equal(tn_alert_seal(NULL, &d, k, &p, r, o, cap, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_alert_seal(a, &d, k, &p, r, NULL, cap, NULL), TN_ERR_INVAL);
	tn_ssize n = tn_alert_seal(a, &d, k, &p, r, o, cap, NULL);
	assert_true(n > 0);
	memset(t->env2, 0xab, sizeof t->env2);
	assert_int_equal(tn_alert_seal(a, &d, k, &p, r, t->env2, (size_t)n - 1, NULL),
	                 TN_ERR_NOBUF);
	for (size_t i = 0; i < sizeof t->env2; i++)
		assert_int_equal(t->env2[i], 0xab);
	d.expires_ms = d.created_ms; /* lifetime 0 is legal (and dead on arrival) */
	assert_true(tn_alert_seal(a, &d, k, &p, r, o, cap, NULL) > 0);
}

static void api_rejects_bad_arguments(void **state)
{
	T *t = *state;
	tn_alert_verdict v;
	tn_alert_opened o;
	tn_alert_ctx c;
	tn_alert_ops ops = t->f.ctx.ops;
	assert_int_equal(tn_alert_check(NULL, t->env, 1, 0, 0, &v), TN_ERR_INVAL);
	assert_int_equal(tn_alert_check(&t->f.ctx, NULL, 1, 0, 0, &v), TN_ERR_INVAL);
	assert_int_equal(tn_alert_check(&t->f.ctx, t->env, 1, 0, 0, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_alert_open(&t->f.ctx, NULL, t->plain, 10, &o), TN_ERR_INVAL);
	ops.seen = NULL;
	assert_int_equal(tn_alert_ctx_init(&c, t->f.net, &ops, NULL, t->f.rl), TN_ERR_INVAL);
	ops = t->f.ctx.ops;
	assert_int_equal(tn_alert_ctx_init(&c, t->f.net, &ops, NULL, NULL), TN_ERR_INVAL);
	ops.group_key = NULL; /* optional for relays that never open */
	assert_int_equal(tn_alert_ctx_init(&c, t->f.net, &ops, &t->f, t->f.rl), TN_OK);
	size_t n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, "x", t->env, NULL);
	assert_int_equal(tn_alert_check(&c, t->env, n, FX_WALL_MS, FX_NOW, &v), TN_OK);
	assert_int_equal(v.reason, TN_ALERT_ACCEPTED);
	assert_int_equal(tn_alert_open(&c, &v.env, t->plain, sizeof t->plain, &o), TN_ERR_INVAL);
}

static void reason_names_are_distinct(void **state)
{
	(void)state;
	for (int i = 0; i < TN_ALERT_REASON_COUNT; i++) {
		const char *a = tn_alert_reason_name((tn_alert_reason)i);
		assert_string_not_equal(a, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, tn_alert_reason_name((tn_alert_reason)j));
	}
	assert_string_equal(tn_alert_reason_name(TN_ALERT_REASON_COUNT), "unknown");
	assert_string_equal(tn_alert_reason_name(TN_ALERT_SAFE_FOREIGN), "safe_foreign");
	assert_string_equal(tn_alert_reason_name(TN_ALERT_EQUIVOCATION), "equivocation");
}

static void kind_classes(void **state)
{
	(void)state;
	assert_int_equal(tn_alert_kind_class(TN_KIND_PANIC), TN_ALERT_CLASS_URGENT);
	assert_int_equal(tn_alert_kind_class(TN_KIND_SAFE), TN_ALERT_CLASS_URGENT);
	for (uint8_t k = TN_KIND_RESPONDING; k <= TN_KIND_TEST; k++)
		assert_int_equal(tn_alert_kind_class(k), TN_ALERT_CLASS_CHATTER);
	tn_alert_limits l;
	tn_alert_limits_default(&l);
	assert_int_equal(l.urgent.burst, 5);
	assert_int_equal(l.urgent.interval, TN_MIN);
	assert_int_equal(l.chatter.burst, 20);
	assert_int_equal(l.chatter.interval, 6 * TN_SEC);
	assert_int_equal(l.capacity, TN_ROSTER_MAX);
}

/* ---- seed corpus for fuzz_alert ------------------------------------------ */

static int put_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Valid alerts of every kind against the harness's fixture and held set,
 * plus one near miss per rejection reason. cmocka's assert_* are usable
 * outside a test run (they print and exit on failure). */
static int write_corpus(const char *dir)
{
	T *t = &t_storage;
	void *st = NULL;
	int bad = 0;
	if (setup(&st) != 0)
		return 1;
	uint8_t *env = t->env;
	size_t n;
	tn_alert_env e, lie;
	tn_alert_draft d;
	uint8_t unknown[TN_ALERT_ID];
	memset(unknown, 0x77, sizeof unknown);
	size_t ptlen = encode_pt("x", t->plain);
	static const uint8_t badutf8[] = {0x83, 0x01, 0x03, 0x02, 0x00, 0x03, 0xa2, 0xc3, 0x28};

	n = seal(t, FX_ALICE, TN_KIND_PANIC, 2, NULL, AR_TEXT, env, NULL);
	bad |= put_file(dir, "valid-panic", env, n);
	n = seal(t, FX_BOB, TN_KIND_SAFE, 2, t->bob_panic, KU_TEXT, env, NULL);
	bad |= put_file(dir, "valid-safe", env, n);
	n = seal(t, FX_ALICE, TN_KIND_RESPONDING, 3, t->bob_panic, "10 min", env, NULL);
	bad |= put_file(dir, "valid-responding", env, n);
	n = seal(t, FX_CAROL, TN_KIND_NOTICE, 1, NULL, "meeting moved", env, NULL);
	bad |= put_file(dir, "valid-notice", env, n);
	n = seal(t, FX_BOB, TN_KIND_DRILL, 3, NULL, NULL, env, NULL);
	bad |= put_file(dir, "valid-drill", env, n);
	n = seal(t, FX_ALICE, TN_KIND_TEST, 4, NULL, "", env, NULL);
	bad |= put_file(dir, "valid-test", env, n);
	n = seal(t, FX_ALICE, TN_KIND_SAFE, 5, unknown, "ok", env, NULL);
	bad |= put_file(dir, "valid-safe-unknown", env, n);

	d = fx_draft(&t->f, TN_KIND_PANIC, 6, NULL);
	d.epoch = 2;
	n = seal_draft(t, FX_ALICE, &d, "x", env);
	bad |= put_file(dir, "open-unknown-epoch", env, n);
	e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 7);
	n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, badutf8, sizeof badutf8, env);
	bad |= put_file(dir, "open-bad-plaintext", env, n);
	e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 8);
	lie = raw_header(t, FX_BOB, TN_KIND_PANIC, 8);
	n = raw_seal(t, t->f.id[FX_ALICE], &e, &lie, &t->f.key1, t->plain, ptlen, env);
	bad |= put_file(dir, "open-bad-ciphertext", env, n);

	bad |= put_file(dir, "duplicate", t->bob_env, t->bob_len);
	n = seal(t, FX_BOB, TN_KIND_PANIC, 1, NULL, "other", env, NULL);
	bad |= put_file(dir, "equivocation", env, n);
	env[n - 1] ^= 1;
	bad |= put_file(dir, "equivocation-forged", env, n);
	n = seal(t, FX_ALICE, TN_KIND_NOTICE, 9, NULL, "x", env, NULL);
	bad |= put_file(dir, "notice-forbidden", env, n);
	n = seal(t, FX_ALICE, TN_KIND_SAFE, 10, t->bob_panic, "x", env, NULL);
	bad |= put_file(dir, "safe-foreign", env, n);
	n = seal(t, FX_ALICE, TN_KIND_SAFE, 11, t->alice_drill, "x", env, NULL);
	bad |= put_file(dir, "safe-nonpanic", env, n);
	e = raw_header(t, FX_ALICE, TN_KIND_RESPONDING, 12);
	n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, t->plain, ptlen, env);
	bad |= put_file(dir, "missing-refers-to", env, n);

	d = fx_draft(&t->f, TN_KIND_PANIC, 13, NULL);
	d.created_ms += 600001;
	d.expires_ms += 600001;
	n = seal_draft(t, FX_ALICE, &d, "x", env);
	bad |= put_file(dir, "future", env, n);
	e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 14);
	e.expires_ms = e.created_ms + 7 * 86400000ull + 1;
	n = raw_seal(t, t->f.id[FX_ALICE], &e, NULL, &t->f.key1, t->plain, ptlen, env);
	bad |= put_file(dir, "lifetime", env, n);
	d = fx_draft(&t->f, TN_KIND_PANIC, 15, NULL);
	d.created_ms -= FX_LIFE_MS;
	d.expires_ms -= FX_LIFE_MS;
	n = seal_draft(t, FX_ALICE, &d, "x", env);
	bad |= put_file(dir, "expired", env, n);

	d = fx_draft(&t->f, TN_KIND_PANIC, 16, NULL);
	d.network_id[5] ^= 1;
	n = seal_draft(t, FX_ALICE, &d, "x", env);
	bad |= put_file(dir, "wrong-network", env, n);
	n = seal(t, FX_EVE, TN_KIND_PANIC, 1, NULL, "x", env, NULL);
	bad |= put_file(dir, "unknown-author", env, n);
	n = seal(t, FX_MALLORY, TN_KIND_PANIC, 1, NULL, "x", env, NULL);
	bad |= put_file(dir, "revoked-author", env, n);
	e = raw_header(t, FX_ALICE, TN_KIND_PANIC, 17);
	n = raw_seal(t, t->f.id[FX_BOB], &e, NULL, &t->f.key1, t->plain, ptlen, env);
	bad |= put_file(dir, "signed-by-other", env, n);
	n = seal(t, FX_ALICE, TN_KIND_PANIC, 18, NULL, "x", env, NULL);
	env[n / 2] ^= 0x10;
	bad |= put_file(dir, "bitflip", env, n);

	/* seq 19 (fixint 0x13) as uint8 cc 13 */
	n = seal(t, FX_ALICE, TN_KIND_PANIC, 19, NULL, "x", env, NULL);
	memmove(env + 55, env + 54, n - 54);
	env[54] = 0xcc;
	bad |= put_file(dir, "noncanonical-seq", env, n + 1);
	n = seal(t, FX_ALICE, TN_KIND_PANIC, 20, NULL, "x", env, NULL);
	bad |= put_file(dir, "truncated", env, n / 2);
	memset(env, 0, TN_ALERT_ENVELOPE_MAX + 1);
	bad |= put_file(dir, "too-big", env, TN_ALERT_ENVELOPE_MAX + 1);
	teardown(&st);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
#define T_(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T_(roundtrip_every_kind),
	        T_(arabic_and_kurdish_exact),
	        T_(seal_matches_the_spec),
	        T_(rejects_oversized_frame),
	        T_(rejects_noncanonical),
	        T_(rejects_every_truncation),
	        T_(rejects_wrong_network),
	        T_(rejects_unknown_author),
	        T_(rejects_revoked_author),
	        T_(duplicate_is_quiet),
	        T_(equivocation_carries_both_ids),
	        T_(forged_equivocation_is_bad_signature),
	        T_(future_boundary),
	        T_(lifetime_boundary),
	        T_(expired_boundary),
	        T_(rejects_forged_signature),
	        T_(rejects_signature_by_another_member),
	        T_(ciphertext_bitflip_fails_signature_first),
	        T_(insider_reencryption_fails_signature),
	        T_(rejects_notice_from_member),
	        T_(rejects_safe_for_someone_elses_panic),
	        T_(rejects_safe_for_own_non_panic),
	        T_(accepts_safe_for_unknown_alert),
	        T_(rejects_missing_refers_to),
	        T_(rate_limit_keeps_panic_budget_separate),
	        T_(rejections_spend_no_token),
	        T_(over_budget_costs_no_verify),
	        T_(open_rejects_invalid_utf8),
	        T_(open_unknown_epoch),
	        T_(open_rejects_wrong_key_or_header),
	        T_(open_needs_room),
	        T_(seal_refuses_what_relays_drop),
	        T_(api_rejects_bad_arguments),
	        cmocka_unit_test(reason_names_are_distinct),
	        cmocka_unit_test(kind_classes),
	};
#undef T_
	return cmocka_run_group_tests_name("alert", tests, NULL, NULL);
}
