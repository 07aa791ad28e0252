/* Roster: record creation, per-record checks, the fold (order independence,
 * pins, settlement of revocations), epochs and secrets, lookups, audit, and
 * every attack of docs/roster.md rejected with its reason and no change to
 * the state. Seeded RNG (ChaCha20 keystream), identities from it, no clock:
 * times are plain numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "roster_forge.h"
#include "test_rng.h"
#include "tocsin/roster.h"

/* xorshift64* for shuffles. */
static uint64_t xs(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* ---- a small world: identities, each with her own roster view ------------ */

enum { NIDS = 14, MAXREC = 128, RECMAX = TN_ROSTER_RECORD_MAX };

#define T0       UINT64_C(1718000000000)
#define DAY_MS   UINT64_C(86400000)
#define GRACE_MS (30 * DAY_MS)

typedef struct world {
	test_rng rng;
	tn_rand rand;
	tn_identity *id[NIDS];
	tn_roster *ro[NIDS];
	uint8_t *rec[MAXREC];
	size_t len[MAXREC];
	size_t nrec;
	uint64_t now;
} world;

static uint8_t out[RECMAX];

static tn_view txt(const char *s)
{
	return (tn_view){(const uint8_t *)s, strlen(s)};
}

static const tn_pubkey *pk(world *w, int i)
{
	return tn_identity_pubkey(w->id[i]);
}

static tn_roster *view(world *w, int i, const uint8_t *genesis, size_t len)
{
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.self = w->id[i];
	tn_roster *ro;
	assert_int_equal(tn_roster_new(&ro, &cfg, genesis, len), TN_OK);
	return ro;
}

static void keep(world *w, const uint8_t *p, size_t n)
{
	assert_true(w->nrec < MAXREC);
	w->rec[w->nrec] = malloc(n);
	assert_non_null(w->rec[w->nrec]);
	memcpy(w->rec[w->nrec], p, n);
	w->len[w->nrec++] = n;
}

static void world_init(world *w, uint8_t seed)
{
	memset(w, 0, sizeof *w);
	w->rand = test_rng_seed(&w->rng, seed);
	w->now = T0;
	for (int i = 0; i < NIDS; i++)
		assert_int_equal(tn_identity_new(&w->id[i], &w->rand), TN_OK);
	tn_ssize n = tn_roster_make_genesis(w->id[0], &w->rand, txt("شبكة"), txt("Leyla"), w->now,
	                                    out, sizeof out);
	assert_true(n > 0);
	keep(w, out, (size_t)n);
	for (int i = 0; i < NIDS; i++)
		w->ro[i] = view(w, i, out, (size_t)n);
}

static void world_free(world *w)
{
	for (int i = 0; i < NIDS; i++) {
		tn_roster_del(w->ro[i]);
		tn_identity_del(w->id[i]);
	}
	for (size_t i = 0; i < w->nrec; i++)
		free(w->rec[i]);
}

/* Deliver a record to every view; everyone must accept it. */
static size_t publish(world *w, tn_ssize n)
{
	assert_true(n > 0);
	for (int i = 0; i < NIDS; i++) {
		tn_roster_reason why = tn_roster_add_record(w->ro[i], out, (size_t)n);
		if (why != TN_ROSTER_ACCEPTED)
			fail_msg("view %d: %s", i, tn_roster_reason_str((int)why));
	}
	keep(w, out, (size_t)n);
	w->now += 1000;
	return w->nrec - 1;
}

static size_t add(world *w, int by, int who, uint8_t role)
{
	return publish(w, tn_roster_make_add(w->ro[by], &w->rand, pk(w, who),
	                                     tn_identity_linkpub(w->id[who]), txt("member"), role,
	                                     w->now, out, sizeof out));
}

static size_t revoke(world *w, int by, int who)
{
	return publish(w, tn_roster_make_revoke(w->ro[by], pk(w, who), txt("device seized"), w->now,
	                                        out, sizeof out));
}

static size_t role(world *w, int by, int who, uint8_t r)
{
	return publish(w, tn_roster_make_role(w->ro[by], pk(w, who), r, w->now, out, sizeof out));
}

static size_t rekey(world *w, int by)
{
	tn_roster_rekey_plan plan;
	assert_int_equal(tn_roster_rekey_begin(w->ro[by], &w->rand, &plan), TN_OK);
	assert_int_equal(plan.parts, 1);
	size_t ix = publish(w, tn_roster_make_rekey_part(w->ro[by], &w->rand, &plan, 0, w->now, out,
	                                                 sizeof out));
	tn_roster_rekey_plan_wipe(&plan);
	return ix;
}

static size_t endpoint(world *w, int who, const char *ep, uint64_t expires)
{
	tn_view v = txt(ep);
	return publish(
	        w, tn_roster_make_endpoint(w->ro[who], &v, 1, expires, w->now, out, sizeof out));
}

static void hash_of(tn_roster *ro, uint8_t h[TN_HASH])
{
	assert_int_equal(tn_roster_state_hash(ro, h), TN_OK);
}

/* Sign a hand-built record as signer (the attacker's tool). */
static size_t forge(const tn_identity *signer, tn_roster_rec *r, uint8_t *dst)
{
	size_t n = test_forge_record(signer, r, dst, RECMAX);
	assert_true(n > 0);
	return n;
}

static void id_of(world *w, size_t ix, uint8_t id[TN_HASH])
{
	tn_roster_record_id(w->rec[ix], w->len[ix], id);
}

/* A record by signer, continuing her chain as ro sees it, with the given
 * auth record. */
static void chain_from(world *w, tn_roster *ro, int signer, size_t auth_ix, uint8_t type,
                       tn_roster_rec *r)
{
	memset(r, 0, sizeof *r);
	r->type = type;
	memcpy(r->network_id, tn_roster_network_id(ro), TN_NETWORK_ID);
	memcpy(r->issuer, pk(w, signer)->b, TN_PUBKEY);
	uint64_t iseq;
	if (tn_roster_chain_head(ro, pk(w, signer), &iseq, r->prev) == TN_OK)
		r->iseq = iseq + 1;
	else
		r->iseq = 1;
	id_of(w, auth_ix, r->auth);
	r->created_ms = w->now;
}

static uint8_t role_of(tn_roster *ro, const tn_pubkey *p)
{
	uint8_t r = 0xff;
	if (tn_roster_role_of(ro, p, &r) != TN_OK)
		return 0xff; /* not an active member */
	return r;
}

/* ---- the scripted history ------------------------------------------------ */

/* Indices into w->rec of the history's notable records. */
typedef struct history {
	size_t add[NIDS];
	size_t rev_a4, rev_a2, rekey1, rekey2;
} history;

/* F=0 founds; F adds A1 (coordinator), A3, A4; A1 adds A2 (coordinator),
 * A5, A6; A2 adds A7, A8, A9; F promotes A3, A1 promotes A5, F demotes A5;
 * endpoints by F, A3, A7; F revokes A4 and rekeys (epoch 1); A1 revokes the
 * coordinator A2 and rekeys (epoch 2); A3 adds A10 at epoch 2. */
static void script(world *w, history *h)
{
	h->add[1] = add(w, 0, 1, TN_ROLE_COORDINATOR);
	h->add[3] = add(w, 0, 3, TN_ROLE_MEMBER);
	h->add[4] = add(w, 0, 4, TN_ROLE_MEMBER);
	h->add[2] = add(w, 1, 2, TN_ROLE_COORDINATOR);
	h->add[5] = add(w, 1, 5, TN_ROLE_MEMBER);
	h->add[6] = add(w, 1, 6, TN_ROLE_MEMBER);
	h->add[7] = add(w, 2, 7, TN_ROLE_MEMBER);
	h->add[8] = add(w, 2, 8, TN_ROLE_MEMBER);
	h->add[9] = add(w, 2, 9, TN_ROLE_MEMBER);
	role(w, 0, 3, TN_ROLE_COORDINATOR);
	role(w, 1, 5, TN_ROLE_COORDINATOR);
	endpoint(w, 0, "tcp:192.0.2.1:7443", T0 + 7 * DAY_MS);
	endpoint(w, 3, "tcp:192.0.2.3:7443", T0 + 7 * DAY_MS);
	role(w, 0, 5, TN_ROLE_MEMBER);
	endpoint(w, 7, "onion:abcdefghijklmnop.onion:7443", T0 + 7 * DAY_MS);
	h->rev_a4 = revoke(w, 0, 4);
	h->rekey1 = rekey(w, 0);
	h->rev_a2 = revoke(w, 1, 2);
	h->rekey2 = rekey(w, 1);
	h->add[10] = add(w, 3, 10, TN_ROLE_MEMBER);
}

static void scripted_state_is_right(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 1);
	script(&w, &h);
	tn_roster *ro = w.ro[7];
	assert_int_equal(role_of(ro, pk(&w, 0)), TN_ROLE_COORDINATOR);
	assert_int_equal(role_of(ro, pk(&w, 1)), TN_ROLE_COORDINATOR);
	assert_int_equal(role_of(ro, pk(&w, 2)), 0xff); /* revoked */
	assert_int_equal(role_of(ro, pk(&w, 3)), TN_ROLE_COORDINATOR);
	assert_int_equal(role_of(ro, pk(&w, 4)), 0xff);           /* revoked */
	assert_int_equal(role_of(ro, pk(&w, 5)), TN_ROLE_MEMBER); /* demoted */
	for (int i = 6; i <= 10; i++)
		assert_int_equal(role_of(ro, pk(&w, i)), TN_ROLE_MEMBER);
	assert_int_equal(role_of(ro, pk(&w, 11)), 0xff); /* never admitted */
	assert_int_equal(tn_roster_member_count(ro), 11);
	/* Members A2 admitted before her pin stay. */
	tn_roster_member m;
	assert_int_equal(tn_roster_member_by_pk(ro, pk(&w, 2), &m), TN_OK);
	assert_false(m.active);
	assert_int_equal(tn_roster_member_by_pk(ro, pk(&w, 8), &m), TN_OK);
	assert_true(m.active);
	assert_true(m.has_current_secrets);
	assert_int_equal(m.name.len, 6);
	assert_memory_equal(m.name.p, "member", 6);
	tn_roster_member ml;
	assert_int_equal(tn_roster_member_by_link(ro, tn_identity_linkpub(w.id[8]), &ml), TN_OK);
	assert_memory_equal(ml.pk.b, pk(&w, 8)->b, TN_PUBKEY);
	assert_int_equal(tn_roster_member_by_link(ro, tn_identity_linkpub(w.id[12]), &ml),
	                 TN_ERR_NOTFOUND);
	/* Epoch 2, and every active member holds the same keys for it. */
	tn_roster_epoch e, e2;
	assert_int_equal(tn_roster_current_epoch(ro, &e), TN_OK);
	assert_int_equal(e.epoch, 2);
	assert_int_equal(e.count, 1);
	int actives[] = {0, 1, 3, 5, 6, 7, 8, 9, 10};
	for (size_t i = 0; i < sizeof actives / sizeof actives[0]; i++) {
		assert_int_equal(tn_roster_current_epoch(w.ro[actives[i]], &e2), TN_OK);
		assert_int_equal(e2.count, 1);
		assert_memory_equal(&e2.keys[0], &e.keys[0], sizeof e.keys[0]);
	}
	/* The revoked hold nothing for epochs after their revocation. */
	assert_int_equal(tn_roster_current_epoch(w.ro[2], &e2), TN_OK);
	assert_int_equal(e2.epoch, 2);
	assert_int_equal(e2.count, 0);
	assert_int_equal(tn_roster_current_epoch(w.ro[4], &e2), TN_OK);
	assert_int_equal(e2.count, 0);
	assert_int_equal(tn_roster_missing_count(ro), 0);
	tn_roster_epoch_wipe(&e2);
	/* Previous epoch (1) within the grace window only. */
	assert_int_equal(tn_roster_previous_epoch(ro, e.started_ms + GRACE_MS - 1, GRACE_MS, &e2),
	                 TN_OK);
	assert_int_equal(e2.epoch, 1);
	assert_int_equal(e2.count, 1);
	assert_memory_not_equal(&e2.keys[0], &e.keys[0], sizeof e.keys[0]);
	assert_int_equal(tn_roster_previous_epoch(ro, e.started_ms + GRACE_MS, GRACE_MS, &e2),
	                 TN_ERR_NOTFOUND);
	assert_int_equal(e2.count, 0);
	/* A4 was revoked before epoch 1: she holds epoch 0 only. */
	assert_int_equal(tn_roster_previous_epoch(w.ro[4], e.started_ms, GRACE_MS, &e2), TN_OK);
	assert_int_equal(e2.epoch, 1);
	assert_int_equal(e2.count, 0);
	tn_roster_epoch_wipe(&e);
	tn_roster_epoch_wipe(&e2);
	/* Endpoints. */
	tn_view v[TN_ENDPOINTS_MAX];
	assert_int_equal(tn_roster_endpoints(ro, pk(&w, 7), T0, v, TN_ENDPOINTS_MAX), 1);
	assert_int_equal(v[0].len, strlen("onion:abcdefghijklmnop.onion:7443"));
	assert_int_equal(tn_roster_endpoints(ro, pk(&w, 8), T0, v, TN_ENDPOINTS_MAX), 0);
	assert_int_equal(tn_roster_endpoints(ro, pk(&w, 4), T0, v, TN_ENDPOINTS_MAX),
	                 TN_ERR_NOTFOUND);
	/* Every view agrees. */
	uint8_t h0[TN_HASH], hi[TN_HASH];
	hash_of(w.ro[0], h0);
	for (int i = 1; i < NIDS; i++) {
		hash_of(w.ro[i], hi);
		assert_memory_equal(h0, hi, TN_HASH);
	}
	world_free(&w);
}

/* The property: any insertion order, the same state. */
static void any_order_same_state(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 2);
	script(&w, &h);
	uint8_t want[TN_HASH], got[TN_HASH];
	hash_of(w.ro[7], want);
	tn_roster_epoch ew, eg;
	assert_int_equal(tn_roster_current_epoch(w.ro[7], &ew), TN_OK);
	/* In order into a fresh view gives the same hash as the live views. */
	size_t perm[MAXREC];
	uint64_t seed = 0x9e3779b97f4a7c15;
	for (int round = 0; round <= 200; round++) {
		for (size_t i = 0; i < w.nrec - 1; i++)
			perm[i] = i + 1;
		if (round > 0) /* round 0: in order */
			for (size_t i = w.nrec - 2; i > 0; i--) {
				size_t j = (size_t)(xs(&seed) % (i + 1));
				size_t t = perm[i];
				perm[i] = perm[j];
				perm[j] = t;
			}
		tn_roster *ro = view(&w, 7, w.rec[0], w.len[0]);
		for (size_t i = 0; i < w.nrec - 1; i++) {
			tn_roster_reason why =
			        tn_roster_add_record(ro, w.rec[perm[i]], w.len[perm[i]]);
			assert_true(why == TN_ROSTER_ACCEPTED || why == TN_ROSTER_HELD_PENDING);
			/* Query now and then: the fold runs mid-stream too. */
			if (i % 5 == 4)
				hash_of(ro, got);
		}
		hash_of(ro, got);
		assert_memory_equal(got, want, TN_HASH);
		assert_int_equal(tn_roster_record_count(ro), w.nrec);
		assert_int_equal(tn_roster_held_count(ro), 0);
		assert_int_equal(tn_roster_current_epoch(ro, &eg), TN_OK);
		assert_int_equal(eg.epoch, ew.epoch);
		assert_int_equal(eg.count, 1);
		assert_memory_equal(&eg.keys[0], &ew.keys[0], sizeof eg.keys[0]);
		/* Re-inserting everything changes nothing. */
		for (size_t i = 1; i < w.nrec; i++)
			assert_int_equal(tn_roster_add_record(ro, w.rec[i], w.len[i]),
			                 TN_ROSTER_R_DUPLICATE);
		hash_of(ro, got);
		assert_memory_equal(got, want, TN_HASH);
		tn_roster_del(ro);
	}
	tn_roster_epoch_wipe(&ew);
	tn_roster_epoch_wipe(&eg);
	world_free(&w);
}

static void record_ids_and_network_id(void **state)
{
	(void)state;
	world w;
	world_init(&w, 3);
	uint8_t id[TN_HASH], h[TN_HASH];
	crypto_generichash(h, TN_HASH, w.rec[0], w.len[0], NULL, 0);
	tn_roster_record_id(w.rec[0], w.len[0], id);
	assert_memory_equal(id, h, TN_HASH);
	assert_memory_equal(tn_roster_network_id(w.ro[0]), h, TN_NETWORK_ID);
	/* Signatures are domain-separated: a plain signature over the signed
	 * range does not verify as a roster signature. */
	tn_roster_rec r;
	assert_int_equal(tn_roster_decode(&r, w.rec[0], w.len[0]), TN_OK);
	tn_sig sig;
	memcpy(sig.b, r.signature, TN_SIG);
	assert_int_equal(tn_sig_verify(pk(&w, 0), r.signed_part.p, r.signed_part.len, &sig),
	                 TN_ERR_AUTH);
	/* Founder holds epoch 0 from genesis's sealed box. */
	tn_roster_epoch e;
	assert_int_equal(tn_roster_current_epoch(w.ro[0], &e), TN_OK);
	assert_int_equal(e.epoch, 0);
	assert_int_equal(e.count, 1);
	assert_int_equal(e.started_ms, T0);
	assert_int_equal(tn_roster_current_epoch(w.ro[1], &e), TN_OK);
	assert_int_equal(e.count, 0);
	tn_roster_epoch_wipe(&e);
	/* An add's box opens with libsodium's crypto_box_seal_open. */
	add(&w, 0, 1, TN_ROLE_MEMBER);
	assert_int_equal(tn_roster_decode(&r, w.rec[1], w.len[1]), TN_OK);
	uint8_t m[TN_EPOCH_SECRETS];
	assert_int_equal(crypto_box_seal_open(m, r.body.add.sealed, TN_SEALED_SECRETS,
	                                      tn_identity_linkpub(w.id[1])->b,
	                                      tn_identity_link_secret(w.id[1])->b),
	                 0);
	assert_int_equal(tn_roster_current_epoch(w.ro[1], &e), TN_OK);
	assert_int_equal(e.count, 1);
	assert_memory_equal(&e.keys[0], m, sizeof m);
	tn_roster_epoch_wipe(&e);
	/* Bad genesis. */
	tn_roster *ro;
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	assert_int_equal(tn_roster_new(&ro, &cfg, w.rec[1], w.len[1]), TN_ERR_INVAL);
	assert_null(ro);
	uint8_t bad[RECMAX];
	memcpy(bad, w.rec[0], w.len[0]);
	bad[w.len[0] - 1] ^= 1;
	assert_int_equal(tn_roster_new(&ro, &cfg, bad, w.len[0]), TN_ERR_AUTH);
	assert_int_equal(tn_roster_new(&ro, &cfg, bad, w.len[0] - 1), TN_ERR_DEC_TRUNCATED);
	cfg.max_members = TN_ROSTER_MAX + 1;
	assert_int_equal(tn_roster_new(&ro, &cfg, w.rec[0], w.len[0]), TN_ERR_INVAL);
	world_free(&w);
}

/* ---- attacks: each rejected with its reason, state unchanged -------------- */

#define EXPECT_NO_CHANGE(ro, call, reason)                                                         \
	do {                                                                                       \
		uint8_t b_[TN_HASH], a_[TN_HASH];                                                  \
		hash_of(ro, b_);                                                                   \
		uint64_t c_ = tn_roster_counter(ro, reason);                                       \
		assert_int_equal((call), (reason));                                                \
		assert_int_equal(tn_roster_counter(ro, reason), c_ + 1);                           \
		hash_of(ro, a_);                                                                   \
		assert_memory_equal(b_, a_, TN_HASH);                                              \
	} while (0)

static void rejects_forged_and_garbled(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 4);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	/* A fresh valid add by F, never delivered, then tampered with. */
	tn_ssize n = tn_roster_make_add(w.ro[0], &w.rand, pk(&w, 11), tn_identity_linkpub(w.id[11]),
	                                txt("x"), 0, w.now, out, sizeof out);
	assert_true(n > 0);
	uint8_t rec[RECMAX];
	memcpy(rec, out, (size_t)n);
	rec[n - 1] ^= 0x01; /* signature */
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, (size_t)n), TN_ROSTER_R_SIGNATURE);
	memcpy(rec, out, (size_t)n);
	memset(rec + n - TN_SIG, 0, TN_SIG); /* unsigned */
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, (size_t)n), TN_ROSTER_R_SIGNATURE);
	/* Signed by someone else than the issuer it names. */
	tn_roster_rec r;
	assert_int_equal(tn_roster_decode(&r, out, (size_t)n), TN_OK);
	size_t m = forge(w.id[1], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_SIGNATURE);
	/* Garbled: a name byte changed (still valid msgpack), truncated, junk. */
	memcpy(rec, out, (size_t)n);
	rec[n - TN_SIG - 2 - TN_SEALED_SECRETS - 2 - 1 - 1] ^= 0x01;
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, (size_t)n), TN_ROSTER_R_SIGNATURE);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, out, (size_t)n - 1), TN_ROSTER_R_MALFORMED);
	assert_int_equal(tn_roster_last_dec_err(ro), TN_ERR_DEC_TRUNCATED);
	static const uint8_t junk[] = {0x92, 0x01, 0xc1};
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, junk, sizeof junk), TN_ROSTER_R_MALFORMED);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, junk, 0), TN_ROSTER_R_MALFORMED);
	/* And the untouched one is fine. */
	assert_int_equal(tn_roster_add_record(ro, out, (size_t)n), TN_ROSTER_ACCEPTED);
	world_free(&w);
}

static void rejects_duplicate_and_wrong_network(void **state)
{
	(void)state;
	world w, other;
	history h;
	world_init(&w, 5);
	script(&w, &h);
	world_init(&other, 6);
	add(&other, 0, 1, TN_ROLE_MEMBER);
	tn_roster *ro = w.ro[6];
	for (size_t i = 0; i < w.nrec; i++)
		EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, w.rec[i], w.len[i]),
		                 TN_ROSTER_R_DUPLICATE);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, other.rec[1], other.len[1]),
	                 TN_ROSTER_R_NETWORK);
	/* Another network's genesis. */
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, other.rec[0], other.len[0]),
	                 TN_ROSTER_R_NETWORK);
	/* Our network id, but re-signed by its own issuer: still refused when
	 * the id is wrong, and a record claiming our network with a valid
	 * signature from a stranger has no standing. */
	tn_roster_rec r;
	assert_int_equal(tn_roster_decode(&r, other.rec[1], other.len[1]), TN_OK);
	memcpy(r.network_id, tn_roster_network_id(ro), TN_NETWORK_ID);
	uint8_t rec[RECMAX];
	size_t m = forge(other.id[0], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_HELD_PENDING);
	world_free(&other);
	world_free(&w);
}

static void rejects_non_coordinator(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 7);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	/* The API refuses... */
	assert_int_equal(tn_roster_make_add(w.ro[7], &w.rand, pk(&w, 11),
	                                    tn_identity_linkpub(w.id[11]), txt("x"), 0, w.now, out,
	                                    sizeof out),
	                 TN_ERR_STATE);
	assert_int_equal(
	        tn_roster_make_revoke(w.ro[8], pk(&w, 7), txt("x"), w.now, out, sizeof out),
	        TN_ERR_STATE);
	/* ...and a hand-made add by member A7, authorised by her own (member)
	 * admission, is refused by everyone. */
	tn_roster_rec r;
	chain_from(&w, ro, 7, h.add[7], TN_ROSTER_ADD, &r);
	memcpy(r.body.add.subject, pk(&w, 11)->b, TN_PUBKEY);
	memcpy(r.body.add.subject_link_pk, tn_identity_linkpub(w.id[11])->b, TN_PUBKEY);
	r.body.add.name = txt("x");
	uint8_t rec[RECMAX];
	size_t m = forge(w.id[7], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_NOT_COORDINATOR);
	/* Claiming someone else's coordinator grant as auth. */
	chain_from(&w, ro, 7, h.add[1], TN_ROSTER_REVOKE, &r);
	memcpy(r.body.revoke.subject, pk(&w, 8)->b, TN_PUBKEY);
	r.body.revoke.reason = txt("x");
	m = forge(w.id[7], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_NOT_COORDINATOR);
	/* An endpoint by someone never admitted, using another's admission. */
	chain_from(&w, ro, 12, h.add[7], TN_ROSTER_ENDPOINT, &r);
	tn_view ep = txt("tcp:198.51.100.1:1");
	r.body.endpoint.endpoints = &ep;
	r.body.endpoint.count = 1;
	r.body.endpoint.expires_ms = UINT64_MAX;
	m = forge(w.id[12], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_NOT_MEMBER);
	/* A chain link to someone else's record. */
	chain_from(&w, ro, 7, h.add[7], TN_ROSTER_ENDPOINT, &r);
	r.body.endpoint.endpoints = &ep;
	r.body.endpoint.count = 1;
	id_of(&w, h.add[8], r.prev);
	r.iseq = 2;
	m = forge(w.id[7], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_CHAIN);
	/* The founder's iseq 1 is genesis. */
	chain_from(&w, ro, 0, 0, TN_ROSTER_REKEY, &r);
	r.iseq = 1;
	tn_rekey_entry en = {{0}, {0}};
	r.body.rekey.entries = &en;
	r.body.rekey.count = 1;
	r.body.rekey.parts = 1;
	m = forge(w.id[0], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_CHAIN);
	world_free(&w);
}

/* A2 was revoked by A1 (pinned at her head). Her key, now a thief's: */
static void rejects_revoked_coordinator_late(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 8);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	/* A record after her pin, arriving late: a revocation of a third member. */
	tn_roster_rec r;
	chain_from(&w, ro, 2, h.add[2], TN_ROSTER_REVOKE, &r);
	memcpy(r.body.revoke.subject, pk(&w, 8)->b, TN_PUBKEY);
	r.body.revoke.reason = txt("thief");
	uint8_t late[RECMAX];
	size_t ml = forge(w.id[2], &r, late);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, late, ml), TN_ROSTER_HELD_REVOKED);
	assert_int_equal(role_of(ro, pk(&w, 8)), TN_ROLE_MEMBER);
	/* An add too. */
	chain_from(&w, ro, 2, h.add[2], TN_ROSTER_ADD, &r);
	memcpy(r.body.add.subject, pk(&w, 12)->b, TN_PUBKEY);
	memcpy(r.body.add.subject_link_pk, tn_identity_linkpub(w.id[12])->b, TN_PUBKEY);
	r.body.add.name = txt("x");
	uint8_t rec[RECMAX];
	size_t m = forge(w.id[2], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_HELD_REVOKED);
	assert_int_equal(role_of(ro, pk(&w, 12)), 0xff);

	/* The same records reaching a node BEFORE the revocation: accepted
	 * then, void once it arrives; the end state is the same. */
	uint8_t want[TN_HASH], got[TN_HASH];
	hash_of(ro, want);
	tn_roster *early = view(&w, 9, w.rec[0], w.len[0]);
	for (size_t i = 1; i < w.nrec; i++) {
		if (i == h.rev_a2) {
			assert_int_equal(tn_roster_add_record(early, late, ml), TN_ROSTER_ACCEPTED);
			assert_int_equal(role_of(early, pk(&w, 8)), 0xff); /* for now */
		}
		tn_roster_reason why = tn_roster_add_record(early, w.rec[i], w.len[i]);
		assert_true(why == TN_ROSTER_ACCEPTED || why == TN_ROSTER_HELD_PENDING);
	}
	assert_int_equal(role_of(early, pk(&w, 8)), TN_ROLE_MEMBER);
	hash_of(early, got);
	assert_memory_equal(got, want, TN_HASH);
	/* The audit log shows it, void, signed by A2. */
	bool seen = false;
	for (size_t i = 0; i < tn_roster_audit_count(early); i++) {
		tn_roster_audit a;
		assert_int_equal(tn_roster_audit_at(early, i, &a), TN_OK);
		if (a.type == TN_ROSTER_REVOKE &&
		    memcmp(a.subject.b, pk(&w, 8)->b, TN_PUBKEY) == 0) {
			assert_memory_equal(a.issuer.b, pk(&w, 2)->b, TN_PUBKEY);
			assert_int_equal(a.status, TN_RS_VOID_SETTLED);
			seen = true;
		}
	}
	assert_true(seen);
	tn_roster_del(early);
	world_free(&w);
}

/* The thief re-signs an earlier position of A2's chain (iseq <= pin) with
 * new content: a fork inside the pinned prefix. */
static void rejects_backdated(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 9);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	/* A2's chain: 1 add A7, 2 add A8, 3 add A9. Replace 2. */
	tn_roster_rec r, a8;
	assert_int_equal(tn_roster_decode(&a8, w.rec[h.add[8]], w.len[h.add[8]]), TN_OK);
	assert_int_equal(a8.iseq, 2);
	r = a8;
	memcpy(r.body.add.subject, pk(&w, 12)->b, TN_PUBKEY);
	memcpy(r.body.add.subject_link_pk, tn_identity_linkpub(w.id[12])->b, TN_PUBKEY);
	uint8_t rec[RECMAX];
	size_t m = forge(w.id[2], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_HELD_BACKDATED);
	assert_int_equal(role_of(ro, pk(&w, 12)), 0xff);
	assert_int_equal(role_of(ro, pk(&w, 8)), TN_ROLE_MEMBER);
	assert_int_equal(role_of(ro, pk(&w, 9)), TN_ROLE_MEMBER);
	/* Shown as a fork of A2's chain at iseq 2. */
	assert_int_equal(tn_roster_conflict_count(ro), 1);
	tn_roster_conflict c;
	assert_int_equal(tn_roster_conflict_at(ro, 0, &c), TN_OK);
	assert_int_equal(c.kind, TN_RC_FORK);
	assert_int_equal(c.iseq, 2);
	assert_memory_equal(c.who.b, pk(&w, 2)->b, TN_PUBKEY);

	/* Arriving before the revocation, the fork is accepted (nobody has
	 * pinned A2 yet) and cuts A2's chain... until the pin's head vouches
	 * for the real branch: same end state. */
	uint8_t want[TN_HASH], got[TN_HASH];
	hash_of(ro, want);
	tn_roster *early = view(&w, 9, w.rec[0], w.len[0]);
	for (size_t i = 1; i < w.nrec; i++) {
		if (i == h.rev_a2) {
			assert_int_equal(tn_roster_add_record(early, rec, m), TN_ROSTER_ACCEPTED);
			assert_int_equal(role_of(early, pk(&w, 9)), 0xff); /* cut, for now */
		}
		tn_roster_reason why = tn_roster_add_record(early, w.rec[i], w.len[i]);
		assert_true(why == TN_ROSTER_ACCEPTED || why == TN_ROSTER_HELD_PENDING);
	}
	assert_int_equal(role_of(early, pk(&w, 9)), TN_ROLE_MEMBER);
	assert_int_equal(role_of(early, pk(&w, 12)), 0xff);
	hash_of(early, got);
	assert_memory_equal(got, want, TN_HASH);
	assert_int_equal(tn_roster_conflict_count(early), 1);
	tn_roster_del(early);
	world_free(&w);
}

static void mutual_revocation_revokes_both(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 10);
	script(&w, &h);
	/* A1 and A3 (coordinators) revoke each other, each unaware of the other. */
	tn_ssize n1 = tn_roster_make_revoke(w.ro[1], pk(&w, 3), txt("a"), w.now, out, sizeof out);
	assert_true(n1 > 0);
	uint8_t r1[RECMAX];
	memcpy(r1, out, (size_t)n1);
	tn_ssize n3 = tn_roster_make_revoke(w.ro[3], pk(&w, 1), txt("b"), w.now, out, sizeof out);
	assert_true(n3 > 0);
	uint8_t r3[RECMAX];
	memcpy(r3, out, (size_t)n3);
	uint8_t ha[TN_HASH], hb[TN_HASH];
	/* Both orders. */
	assert_int_equal(tn_roster_add_record(w.ro[6], r1, (size_t)n1), TN_ROSTER_ACCEPTED);
	assert_int_equal(tn_roster_add_record(w.ro[6], r3, (size_t)n3), TN_ROSTER_ACCEPTED);
	assert_int_equal(tn_roster_add_record(w.ro[7], r3, (size_t)n3), TN_ROSTER_ACCEPTED);
	assert_int_equal(role_of(w.ro[7], pk(&w, 1)), 0xff);
	/* A1 is now revoked at ro[7] and her revocation arrives behind her
	 * pin - but its subject is a revoker, so the settlement must see it. */
	assert_int_equal(tn_roster_add_record(w.ro[7], r1, (size_t)n1), TN_ROSTER_ACCEPTED);
	hash_of(w.ro[6], ha);
	hash_of(w.ro[7], hb);
	assert_memory_equal(ha, hb, TN_HASH);
	assert_int_equal(tn_roster_held_count(w.ro[7]), 0);
	for (int v = 6; v <= 7; v++) {
		assert_int_equal(role_of(w.ro[v], pk(&w, 1)), 0xff);
		assert_int_equal(role_of(w.ro[v], pk(&w, 3)), 0xff);
		assert_int_equal(role_of(w.ro[v], pk(&w, 0)), TN_ROLE_COORDINATOR);
	}
	world_free(&w);
}

/* A thief with A3's key revokes C=A1; A1's later record is held behind
 * that pin; the founder's revocation of the thief (pinned before her
 * revocation of A1) voids it and the held record is released. */
static void voided_pin_releases_held_record(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 11);
	script(&w, &h);
	size_t snap = w.nrec;
	/* F revokes A3, pinning her at her head now. */
	tn_ssize nf =
	        tn_roster_make_revoke(w.ro[0], pk(&w, 3), txt("stolen"), w.now, out, sizeof out);
	assert_true(nf > 0);
	uint8_t rf[RECMAX];
	memcpy(rf, out, (size_t)nf);
	/* Meanwhile the thief (A3's key) revokes A1. */
	tn_ssize nt = tn_roster_make_revoke(w.ro[3], pk(&w, 1), txt("x"), w.now, out, sizeof out);
	assert_true(nt > 0);
	uint8_t rt[RECMAX];
	memcpy(rt, out, (size_t)nt);
	/* And A1 keeps working: an endpoint record made before seeing either. */
	tn_view ep = txt("tcp:192.0.2.9:1");
	tn_ssize na = tn_roster_make_endpoint(w.ro[1], &ep, 1, UINT64_MAX, w.now, out, sizeof out);
	assert_true(na > 0);
	uint8_t ra[RECMAX];
	memcpy(ra, out, (size_t)na);
	(void)snap;

	tn_roster *x = w.ro[6], *y = w.ro[8];
	uint8_t hx[TN_HASH], hy[TN_HASH];
	assert_int_equal(tn_roster_add_record(x, rt, (size_t)nt), TN_ROSTER_ACCEPTED);
	assert_int_equal(role_of(x, pk(&w, 1)), 0xff); /* the thief's pin holds, for now */
	assert_int_equal(tn_roster_add_record(x, ra, (size_t)na), TN_ROSTER_HELD_REVOKED);
	assert_int_equal(tn_roster_add_record(x, rf, (size_t)nf), TN_ROSTER_ACCEPTED);
	/* The other order: the thief's revocation comes after her own pin, but
	 * its subject (A1) is a revoker, so the fold must see it. */
	assert_int_equal(tn_roster_add_record(y, rf, (size_t)nf), TN_ROSTER_ACCEPTED);
	hash_of(y, hy);
	assert_int_equal(tn_roster_add_record(y, ra, (size_t)na), TN_ROSTER_ACCEPTED);
	hash_of(y, hy);
	assert_int_equal(tn_roster_add_record(y, rt, (size_t)nt), TN_ROSTER_ACCEPTED);
	hash_of(x, hx);
	hash_of(y, hy);
	assert_int_equal(tn_roster_held_count(x), 0);
	assert_memory_equal(hx, hy, TN_HASH);
	assert_int_equal(role_of(x, pk(&w, 1)), TN_ROLE_COORDINATOR);
	assert_int_equal(role_of(x, pk(&w, 3)), 0xff);
	tn_view v[2];
	assert_int_equal(tn_roster_endpoints(x, pk(&w, 1), T0, v, 2), 1);
	world_free(&w);
}

/* A1 (admitted by F) revokes the founder with pin 0: that would void her
 * own admission, so it is void. */
static void self_defeating_revocation_is_void(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 12);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	tn_roster_rec r;
	chain_from(&w, ro, 1, h.add[1], TN_ROSTER_REVOKE, &r);
	memcpy(r.body.revoke.subject, pk(&w, 0)->b, TN_PUBKEY);
	r.body.revoke.reason = txt("x");
	uint8_t rec[RECMAX];
	size_t m = forge(w.id[1], &r, rec);
	assert_int_equal(tn_roster_add_record(ro, rec, m), TN_ROSTER_ACCEPTED);
	assert_int_equal(role_of(ro, pk(&w, 0)), TN_ROLE_COORDINATOR);
	assert_int_equal(role_of(ro, pk(&w, 1)), TN_ROLE_COORDINATOR);
	assert_int_equal(role_of(ro, pk(&w, 6)), TN_ROLE_MEMBER);
	/* A self-revocation stands. */
	tn_ssize n =
	        tn_roster_make_revoke(w.ro[3], pk(&w, 3), txt("leaving"), w.now, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(tn_roster_add_record(ro, out, (size_t)n), TN_ROSTER_ACCEPTED);
	assert_int_equal(role_of(ro, pk(&w, 3)), 0xff);
	assert_int_equal(role_of(ro, pk(&w, 10)), TN_ROLE_MEMBER); /* admitted before */
	world_free(&w);
}

static void demotion_cuts_coordinator_records_only(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 13);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	/* A5 was promoted by A1 and demoted by F. Her late add is held... */
	tn_roster_rec r, p;
	size_t promo = 0;
	for (size_t i = 1; i < w.nrec; i++) {
		assert_int_equal(tn_roster_decode(&p, w.rec[i], w.len[i]), TN_OK);
		if (p.type == TN_ROSTER_ROLE && p.body.role.role == TN_ROLE_COORDINATOR &&
		    memcmp(p.body.role.subject, pk(&w, 5)->b, TN_PUBKEY) == 0)
			promo = i;
	}
	assert_true(promo > 0);
	chain_from(&w, ro, 5, promo, TN_ROSTER_ADD, &r);
	memcpy(r.body.add.subject, pk(&w, 12)->b, TN_PUBKEY);
	memcpy(r.body.add.subject_link_pk, tn_identity_linkpub(w.id[12])->b, TN_PUBKEY);
	r.body.add.name = txt("x");
	uint8_t rec[RECMAX];
	size_t m = forge(w.id[5], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_HELD_DEMOTED);
	/* ...her endpoint, a member's right, is not. */
	tn_view ep = txt("tcp:192.0.2.5:1");
	tn_ssize n = tn_roster_make_endpoint(w.ro[5], &ep, 1, UINT64_MAX, w.now, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(tn_roster_add_record(ro, out, (size_t)n), TN_ROSTER_ACCEPTED);
	tn_view v[1];
	assert_int_equal(tn_roster_endpoints(ro, pk(&w, 5), T0, v, 1), 1);
	/* And the API will not make coordinator records for her. */
	assert_int_equal(
	        tn_roster_make_revoke(w.ro[5], pk(&w, 6), txt("x"), w.now, out, sizeof out),
	        TN_ERR_STATE);
	world_free(&w);
}

/* An add concurrent with a rekey: the newcomer holds the old epoch only. */
static void rekey_omitting_member_is_detected_and_healed(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 14);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	assert_int_equal(tn_roster_missing_count(ro), 0);
	/* F admits A11 (epoch 2) while A1, not seeing it, rekeys to epoch 3. */
	tn_ssize na =
	        tn_roster_make_add(w.ro[0], &w.rand, pk(&w, 11), tn_identity_linkpub(w.id[11]),
	                           txt("new"), 0, w.now, out, sizeof out);
	assert_true(na > 0);
	uint8_t ra[RECMAX];
	memcpy(ra, out, (size_t)na);
	tn_roster_rekey_plan plan;
	assert_int_equal(tn_roster_rekey_begin(w.ro[1], &w.rand, &plan), TN_OK);
	assert_int_equal(plan.epoch, 3);
	tn_ssize nk = tn_roster_make_rekey_part(w.ro[1], &w.rand, &plan, 0, w.now, out, sizeof out);
	assert_true(nk > 0);
	uint8_t rk[RECMAX];
	memcpy(rk, out, (size_t)nk);
	tn_roster_rekey_plan_wipe(&plan);
	for (int i = 0; i < NIDS; i++) {
		assert_int_equal(tn_roster_add_record(w.ro[i], ra, (size_t)na), TN_ROSTER_ACCEPTED);
		assert_int_equal(tn_roster_add_record(w.ro[i], rk, (size_t)nk), TN_ROSTER_ACCEPTED);
	}
	keep(&w, ra, (size_t)na);
	keep(&w, rk, (size_t)nk);
	assert_int_equal(tn_roster_missing_count(ro), 1);
	tn_pubkey miss;
	assert_int_equal(tn_roster_missing_at(ro, 0, &miss), TN_OK);
	assert_memory_equal(miss.b, pk(&w, 11)->b, TN_PUBKEY);
	assert_int_equal(tn_roster_missing_at(ro, 1, &miss), TN_ERR_NOTFOUND);
	tn_roster_member m;
	assert_int_equal(tn_roster_member_by_pk(ro, pk(&w, 11), &m), TN_OK);
	assert_false(m.has_current_secrets);
	tn_roster_epoch e, e11;
	assert_int_equal(tn_roster_current_epoch(w.ro[11], &e11), TN_OK);
	assert_int_equal(e11.epoch, 3);
	assert_int_equal(e11.count, 0);
	/* A member's node cannot heal it; a coordinator's can. */
	assert_int_equal(tn_roster_make_supplement(w.ro[6], &w.rand, w.now, out, sizeof out),
	                 TN_ERR_STATE);
	publish(&w, tn_roster_make_supplement(w.ro[3], &w.rand, w.now, out, sizeof out));
	assert_int_equal(tn_roster_missing_count(ro), 0);
	assert_int_equal(tn_roster_current_epoch(w.ro[11], &e11), TN_OK);
	assert_int_equal(e11.count, 1);
	assert_int_equal(tn_roster_current_epoch(w.ro[1], &e), TN_OK);
	assert_memory_equal(&e.keys[0], &e11.keys[0], sizeof e.keys[0]);
	assert_int_equal(tn_roster_make_supplement(w.ro[3], &w.rand, w.now, out, sizeof out),
	                 TN_ERR_NOTFOUND);
	tn_roster_epoch_wipe(&e);
	tn_roster_epoch_wipe(&e11);
	world_free(&w);
}

static void concurrent_rekeys_keep_both_keys(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 15);
	script(&w, &h);
	/* A1 and A3 both rekey to epoch 3. */
	uint8_t r1[RECMAX], r3[RECMAX];
	tn_roster_rekey_plan p;
	assert_int_equal(tn_roster_rekey_begin(w.ro[1], &w.rand, &p), TN_OK);
	tn_ssize n1 = tn_roster_make_rekey_part(w.ro[1], &w.rand, &p, 0, w.now, r1, sizeof r1);
	assert_int_equal(tn_roster_rekey_begin(w.ro[3], &w.rand, &p), TN_OK);
	tn_ssize n3 = tn_roster_make_rekey_part(w.ro[3], &w.rand, &p, 0, w.now, r3, sizeof r3);
	tn_roster_rekey_plan_wipe(&p);
	assert_true(n1 > 0 && n3 > 0);
	tn_roster_epoch a, b;
	assert_int_equal(tn_roster_add_record(w.ro[6], r1, (size_t)n1), TN_ROSTER_ACCEPTED);
	assert_int_equal(tn_roster_add_record(w.ro[6], r3, (size_t)n3), TN_ROSTER_ACCEPTED);
	assert_int_equal(tn_roster_add_record(w.ro[7], r3, (size_t)n3), TN_ROSTER_ACCEPTED);
	assert_int_equal(tn_roster_add_record(w.ro[7], r1, (size_t)n1), TN_ROSTER_ACCEPTED);
	assert_int_equal(tn_roster_current_epoch(w.ro[6], &a), TN_OK);
	assert_int_equal(tn_roster_current_epoch(w.ro[7], &b), TN_OK);
	assert_int_equal(a.epoch, 3);
	assert_int_equal(a.count, 2);
	assert_int_equal(b.count, 2);
	/* Same preference on both nodes, whatever the arrival order. */
	assert_memory_equal(&a.keys[0], &b.keys[0], sizeof a.keys[0]);
	assert_memory_equal(&a.keys[1], &b.keys[1], sizeof a.keys[1]);
	tn_roster_epoch_wipe(&a);
	tn_roster_epoch_wipe(&b);
	world_free(&w);
}

static void expired_endpoint_ignored(void **state)
{
	(void)state;
	world w;
	world_init(&w, 16);
	add(&w, 0, 1, TN_ROLE_MEMBER);
	uint64_t exp = T0 + DAY_MS;
	endpoint(&w, 1, "tcp:192.0.2.7:7443", exp);
	tn_view v[2];
	assert_int_equal(tn_roster_endpoints(w.ro[0], pk(&w, 1), exp - 1, v, 2), 1);
	assert_int_equal(v[0].len, strlen("tcp:192.0.2.7:7443"));
	assert_memory_equal(v[0].p, "tcp:192.0.2.7:7443", v[0].len);
	assert_int_equal(tn_roster_endpoints(w.ro[0], pk(&w, 1), exp, v, 2), 0);
	/* A newer record (higher iseq) replaces it. */
	endpoint(&w, 1, "tcp:192.0.2.8:7443", exp + DAY_MS);
	assert_int_equal(tn_roster_endpoints(w.ro[0], pk(&w, 1), exp, v, 2), 1);
	assert_memory_equal(v[0].p, "tcp:192.0.2.8:7443", v[0].len);
	world_free(&w);
}

static void pending_until_prev_arrives(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 17);
	script(&w, &h);
	tn_roster *ro = view(&w, 6, w.rec[0], w.len[0]);
	/* Everything backwards: all held but the first of each chain... */
	for (size_t i = w.nrec - 1; i >= 1; i--) {
		tn_roster_reason why = tn_roster_add_record(ro, w.rec[i], w.len[i]);
		assert_true(why == TN_ROSTER_ACCEPTED || why == TN_ROSTER_HELD_PENDING);
	}
	assert_int_equal(tn_roster_held_count(ro), 0);
	uint8_t a[TN_HASH], b[TN_HASH];
	hash_of(ro, a);
	hash_of(w.ro[6], b);
	assert_memory_equal(a, b, TN_HASH);
	tn_roster_del(ro);
	/* A tiny hold evicts the oldest. */
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.max_held = 2;
	assert_int_equal(tn_roster_new(&ro, &cfg, w.rec[0], w.len[0]), TN_OK);
	size_t held = 0;
	for (size_t i = w.nrec - 1; i >= 1 && held < 4; i--)
		held += tn_roster_add_record(ro, w.rec[i], w.len[i]) == TN_ROSTER_HELD_PENDING;
	assert_int_equal(tn_roster_held_count(ro), 2);
	assert_int_equal(tn_roster_held_evicted(ro), 2);
	tn_roster_del(ro);
	world_free(&w);
}

/* ---- counter-revocation (docs/roster.md, "Counter-revocation: what we chose
 * and why") ------------------------------------------------------------------ */

/* Deliver a record made outside the API to every view (which may hold it:
 * the fold decides) and keep it. */
static size_t spread(world *w, const uint8_t *rec, size_t n)
{
	for (int i = 0; i < NIDS; i++) {
		tn_roster_reason why = tn_roster_add_record(w->ro[i], rec, n);
		if (why != TN_ROSTER_ACCEPTED && why != TN_ROSTER_HELD_PENDING &&
		    why != TN_ROSTER_HELD_REVOKED && why != TN_ROSTER_HELD_DEMOTED)
			fail_msg("view %d: %s", i, tn_roster_reason_str((int)why));
	}
	keep(w, rec, n);
	w->now += 1000;
	return w->nrec - 1;
}

/* A revocation of who by signer, forged: auth is the signer's grant, the
 * chain continues after record after_ix (a record of the signer's in
 * w->rec), the pin is pin_ix (a record of who's) or 0. */
static size_t forge_revoke(world *w, int signer, size_t auth_ix, size_t after_ix, int who,
                           size_t pin_ix)
{
	tn_roster_rec r, p;
	chain_from(w, w->ro[13], signer, auth_ix, TN_ROSTER_REVOKE, &r);
	assert_int_equal(tn_roster_decode(&p, w->rec[after_ix], w->len[after_ix]), TN_OK);
	assert_memory_equal(p.issuer, pk(w, signer)->b, TN_PUBKEY);
	r.iseq = p.iseq + 1;
	id_of(w, after_ix, r.prev);
	tn_roster_pin pin = {0, false, {0}};
	if (pin_ix) {
		assert_int_equal(tn_roster_decode(&p, w->rec[pin_ix], w->len[pin_ix]), TN_OK);
		assert_memory_equal(p.issuer, pk(w, who)->b, TN_PUBKEY);
		pin.pin_seq = p.iseq;
		pin.has_pin_head = true;
		id_of(w, pin_ix, pin.pin_head);
	}
	memcpy(r.body.revoke.subject, pk(w, who)->b, TN_PUBKEY);
	r.body.revoke.reason = txt("x");
	r.body.revoke.pin = pin;
	uint8_t rec[RECMAX];
	size_t m = forge(w->id[signer], &r, rec);
	return spread(w, rec, m);
}

/* An add of who by signer, forged after record after_ix of the signer. */
static size_t forge_add(world *w, int signer, size_t auth_ix, size_t after_ix, int who,
                        uint8_t role)
{
	tn_roster_rec r, p;
	chain_from(w, w->ro[13], signer, auth_ix, TN_ROSTER_ADD, &r);
	assert_int_equal(tn_roster_decode(&p, w->rec[after_ix], w->len[after_ix]), TN_OK);
	r.iseq = p.iseq + 1;
	id_of(w, after_ix, r.prev);
	memcpy(r.body.add.subject, pk(w, who)->b, TN_PUBKEY);
	memcpy(r.body.add.subject_link_pk, tn_identity_linkpub(w->id[who])->b, TN_PUBKEY);
	r.body.add.name = txt("sock puppet");
	r.body.add.role = role;
	uint8_t rec[RECMAX];
	size_t m = forge(w->id[signer], &r, rec);
	return spread(w, rec, m);
}

/* The records w->rec[1..n) into a fresh view in rounds seeded orders
 * (round 0: as made), querying (so folding) every third record; every
 * order must end in want. */
static void shuffled_same(world *w, size_t n, int rounds, uint64_t seed,
                          const uint8_t want[TN_HASH])
{
	size_t perm[MAXREC];
	uint8_t got[TN_HASH];
	for (int round = 0; round < rounds; round++) {
		for (size_t i = 0; i + 1 < n; i++)
			perm[i] = i + 1;
		if (round > 0)
			for (size_t i = n - 2; i > 0; i--) {
				size_t j = (size_t)(xs(&seed) % (i + 1));
				size_t t = perm[i];
				perm[i] = perm[j];
				perm[j] = t;
			}
		tn_roster *ro = view(w, 13, w->rec[0], w->len[0]);
		for (size_t i = 0; i + 1 < n; i++) {
			tn_roster_reason why =
			        tn_roster_add_record(ro, w->rec[perm[i]], w->len[perm[i]]);
			assert_true(why == TN_ROSTER_ACCEPTED || why == TN_ROSTER_HELD_PENDING ||
			            why == TN_ROSTER_HELD_REVOKED || why == TN_ROSTER_HELD_DEMOTED);
			if (i % 3 == 2)
				hash_of(ro, got);
		}
		hash_of(ro, got);
		if (memcmp(got, want, TN_HASH) != 0)
			fail_msg("round %d: another state", round);
		tn_roster_del(ro);
	}
}

static uint8_t status_of(tn_roster *ro, const uint8_t id[TN_HASH])
{
	for (size_t i = 0; i < tn_roster_audit_count(ro); i++) {
		tn_roster_audit a;
		assert_int_equal(tn_roster_audit_at(ro, i, &a), TN_OK);
		if (memcmp(a.id, id, TN_HASH) == 0)
			return a.status;
	}
	fail_msg("no such record");
	return 0xff;
}

static uint8_t status_at(world *w, tn_roster *ro, size_t ix)
{
	uint8_t id[TN_HASH];
	id_of(w, ix, id);
	return status_of(ro, id);
}

static bool is_member(world *w, tn_roster *ro, int who)
{
	tn_roster_member m;
	return tn_roster_member_by_pk(ro, pk(w, who), &m) == TN_OK;
}

static void assert_hash(tn_roster *ro, const uint8_t want[TN_HASH])
{
	uint8_t h[TN_HASH];
	hash_of(ro, h);
	assert_memory_equal(h, want, TN_HASH);
}

/* F=0 founds and admits the coordinators X=1, T=2 (the stolen key) and
 * W=7; X admits M1..M3 (3, 4, 5), T admits M6 (6), W admits M9 (9). */
enum { F = 0, X = 1, T = 2, W = 7, S = 8 };

typedef struct cworld {
	size_t add_x, add_t, add_w, add_m[3], add_m6, add_m9;
} cworld;

static void conflict_world(world *w, cworld *c, uint8_t seed)
{
	world_init(w, seed);
	c->add_x = add(w, F, X, TN_ROLE_COORDINATOR);
	c->add_t = add(w, F, T, TN_ROLE_COORDINATOR);
	c->add_w = add(w, F, W, TN_ROLE_COORDINATOR);
	for (int i = 0; i < 3; i++)
		c->add_m[i] = add(w, X, 3 + i, TN_ROLE_MEMBER);
	c->add_m6 = add(w, T, 6, TN_ROLE_MEMBER);
	c->add_m9 = add(w, W, 9, TN_ROLE_MEMBER);
}

/* X's admissions of M1..M3 are void (revoked): they are not members. */
static void assert_m123_void(world *w, tn_roster *ro, const cworld *c)
{
	for (int i = 0; i < 3; i++) {
		assert_int_equal(status_at(w, ro, c->add_m[i]), TN_RS_VOID_REVOKED);
		assert_false(is_member(w, ro, 3 + i));
	}
}

/* X revokes T, pinned at T's head (her add of M6). The thief, holding T's
 * key, then signs after X's pin: a sock-puppet coordinator S, a pin-0
 * revocation of the third coordinator W, and a pin-0 counter-revocation
 * of X. */
typedef struct counter {
	size_t rev_x, add_s, rev_w, rev_t;
} counter;

static void counter_revocation(world *w, const cworld *c, counter *k)
{
	k->rev_x = revoke(w, X, T);
	k->add_s = forge_add(w, T, c->add_t, c->add_m6, S, TN_ROLE_COORDINATOR);
	k->rev_w = forge_revoke(w, T, c->add_t, k->add_s, W, 0);
	k->rev_t = forge_revoke(w, T, c->add_t, k->rev_w, X, 0);
}

/* The plain case: X admits M1..M3 and revokes T (pinned at T's add of
 * M6); T's thief revokes X back at pin 0. Both revocations stand with
 * their pins as issued (main's rule: no conflict floor), so X's adds after
 * pin 0 are void. Same state hash in 120 seeded arrival orders. */
static void counter_revocation_pin0_same_in_any_order(void **state)
{
	(void)state;
	world w;
	cworld c;
	conflict_world(&w, &c, 20);
	size_t rev_x = revoke(&w, X, T);
	size_t rev_t = forge_revoke(&w, T, c.add_t, c.add_m6, X, 0);
	uint8_t want[TN_HASH];
	hash_of(w.ro[13], want);
	for (int v = 0; v < NIDS; v++) {
		tn_roster *ro = w.ro[v];
		assert_hash(ro, want);
		assert_int_equal(status_at(&w, ro, rev_x), TN_RS_VALID);
		assert_int_equal(status_at(&w, ro, rev_t), TN_RS_VALID);
		assert_int_equal(role_of(ro, pk(&w, T)), 0xff);
		assert_int_equal(role_of(ro, pk(&w, X)), 0xff);
		assert_m123_void(&w, ro, &c);
		assert_int_equal(role_of(ro, pk(&w, 6)), TN_ROLE_MEMBER);
		assert_int_equal(role_of(ro, pk(&w, W)), TN_ROLE_COORDINATOR);
	}
	shuffled_same(&w, w.nrec, 120, 0x3f84d5b5b5470917, want);
	world_free(&w);
}

/* Main's rule, no conflict floor: both revocations stand with the pins as
 * issued. X loses everything she signed after pin 0 (her admissions of
 * M1..M3); T loses everything after X's pin except the counter-revocation
 * that won the conflict: S is no coordinator, W is untouched. Every node
 * reaches that state in any arrival order: a node that folded the thief's
 * pin-0 revocation first holds X's adds, and must still admit them (the
 * prev chain of X's revocation of T) to see the conflict at all. */
static void counter_revocation_same_in_any_order(void **state)
{
	(void)state;
	world w;
	cworld c;
	counter k;
	conflict_world(&w, &c, 21);
	counter_revocation(&w, &c, &k);
	uint8_t want[TN_HASH];
	hash_of(w.ro[13], want);
	for (int v = 0; v < NIDS; v++) {
		tn_roster *ro = w.ro[v];
		assert_hash(ro, want);
		assert_int_equal(tn_roster_held_count(ro), 0);
		assert_int_equal(status_at(&w, ro, k.rev_x), TN_RS_VALID);
		assert_int_equal(status_at(&w, ro, k.rev_t), TN_RS_VALID);
		assert_int_equal(role_of(ro, pk(&w, T)), 0xff);
		assert_int_equal(role_of(ro, pk(&w, X)), 0xff);
		assert_int_equal(role_of(ro, pk(&w, F)), TN_ROLE_COORDINATOR);
		/* X's adds after pin 0 are void: M1..M3 are not members. */
		assert_m123_void(&w, ro, &c);
		/* T's records after X's pin are void; before it they stand. */
		assert_int_equal(status_at(&w, ro, k.add_s), TN_RS_VOID_REVOKED);
		assert_false(is_member(&w, ro, S));
		assert_int_equal(status_at(&w, ro, k.rev_w), TN_RS_VOID_SETTLED);
		assert_int_equal(role_of(ro, pk(&w, W)), TN_ROLE_COORDINATOR);
		assert_int_equal(status_at(&w, ro, c.add_m9), TN_RS_VALID);
		assert_int_equal(role_of(ro, pk(&w, 9)), TN_ROLE_MEMBER);
		assert_int_equal(status_at(&w, ro, c.add_m6), TN_RS_VALID);
		assert_int_equal(role_of(ro, pk(&w, 6)), TN_ROLE_MEMBER);
	}
	shuffled_same(&w, w.nrec, 150, 0x243f6a8885a308d3, want);
	world_free(&w);
}

/* The node that folds the thief's pin 0 first, step by step: X's add
 * arrives behind the pin and is held; X's revocation of T (which may
 * conflict) then releases it from the hold, and the state matches the
 * node that got X's records first. */
static void held_chain_released_below_conflict(void **state)
{
	(void)state;
	world w;
	cworld c;
	conflict_world(&w, &c, 22);
	size_t rev_x = revoke(&w, X, T);
	size_t rev_t = forge_revoke(&w, T, c.add_t, c.add_m6, X, 0);
	uint8_t want[TN_HASH], got[TN_HASH];
	hash_of(w.ro[13], want);
	tn_roster *late = view(&w, 12, w.rec[0], w.len[0]);
	for (size_t i = 1; i < w.nrec; i++) {
		if (i == c.add_m[0] || i == c.add_m[1] || i == c.add_m[2] || i == rev_x)
			continue;
		assert_int_equal(tn_roster_add_record(late, w.rec[i], w.len[i]),
		                 TN_ROSTER_ACCEPTED);
	}
	assert_int_equal(role_of(late, pk(&w, X)), 0xff); /* folds the pin 0 */
	/* X's first add is behind the pin, the next two behind it. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(tn_roster_add_record(late, w.rec[c.add_m[i]], w.len[c.add_m[i]]),
		                 i == 0 ? TN_ROSTER_HELD_REVOKED : TN_ROSTER_HELD_PENDING);
	assert_int_equal(tn_roster_held_count(late), 3);
	/* Held on arrival (its prev is held), then the chain below it is
	 * released and it comes in with it. */
	assert_int_equal(tn_roster_add_record(late, w.rec[rev_x], w.len[rev_x]),
	                 TN_ROSTER_HELD_PENDING);
	assert_int_equal(tn_roster_held_count(late), 0);
	hash_of(late, got);
	assert_memory_equal(got, want, TN_HASH);
	assert_int_equal(status_at(&w, late, rev_x), TN_RS_VALID);
	assert_int_equal(status_at(&w, late, rev_t), TN_RS_VALID);
	assert_int_equal(role_of(late, pk(&w, T)), 0xff);
	tn_roster_del(late);
	world_free(&w);
}

/* What coordinators do after a counter-revocation: another coordinator
 * (here the founder) admits M1..M3 again, and they are active members on
 * every node, in any order. */
static void readmit_after_counter_revocation(void **state)
{
	(void)state;
	world w;
	cworld c;
	counter k;
	conflict_world(&w, &c, 23);
	counter_revocation(&w, &c, &k);
	size_t again[3];
	for (int i = 0; i < 3; i++)
		again[i] = add(&w, F, 3 + i, TN_ROLE_MEMBER);
	uint8_t want[TN_HASH];
	hash_of(w.ro[13], want);
	for (int v = 0; v < NIDS; v++) {
		tn_roster *ro = w.ro[v];
		for (int i = 0; i < 3; i++) {
			assert_int_equal(status_at(&w, ro, c.add_m[i]), TN_RS_VOID_REVOKED);
			assert_int_equal(status_at(&w, ro, again[i]), TN_RS_VALID);
			assert_int_equal(role_of(ro, pk(&w, 3 + i)), TN_ROLE_MEMBER);
			tn_roster_member m;
			assert_int_equal(tn_roster_member_by_pk(ro, pk(&w, 3 + i), &m), TN_OK);
			assert_true(m.active);
			uint8_t id[TN_HASH];
			id_of(&w, again[i], id);
			assert_memory_equal(m.admitted_by, id, TN_HASH);
		}
		assert_int_equal(role_of(ro, pk(&w, X)), 0xff);
		assert_int_equal(role_of(ro, pk(&w, T)), 0xff);
	}
	shuffled_same(&w, w.nrec, 100, 0x13198a2e03707344, want);
	world_free(&w);
}

/* The other half of the repair: X's revocations after the thief's pin
 * and outside the conflict are void too, so the member X had revoked is
 * back; another coordinator revokes her again. */
static void counter_revocation_voids_earlier_revocations(void **state)
{
	(void)state;
	world w;
	cworld c;
	conflict_world(&w, &c, 25);
	size_t rev_9 = revoke(&w, X, 9);
	assert_int_equal(role_of(w.ro[13], pk(&w, 9)), 0xff);
	revoke(&w, X, T);
	forge_revoke(&w, T, c.add_t, c.add_m6, X, 0);
	tn_roster *ro = w.ro[13];
	assert_int_equal(status_at(&w, ro, rev_9), TN_RS_VOID_SETTLED);
	assert_int_equal(role_of(ro, pk(&w, 9)), TN_ROLE_MEMBER);
	size_t again = revoke(&w, F, 9);
	uint8_t want[TN_HASH];
	hash_of(ro, want);
	for (int v = 0; v < NIDS; v++) {
		assert_int_equal(status_at(&w, w.ro[v], again), TN_RS_VALID);
		assert_int_equal(role_of(w.ro[v], pk(&w, 9)), 0xff);
	}
	shuffled_same(&w, w.nrec, 100, 0x082efa98ec4e6c89, want);
	world_free(&w);
}

/* Outside a conflict a pin stays as issued: F revokes X at pin 0 (X never
 * revoked F): everything X signed is void, her admissions included. */
static void revocation_outside_conflict_keeps_its_pin(void **state)
{
	(void)state;
	world w;
	cworld c;
	conflict_world(&w, &c, 24);
	size_t rev = forge_revoke(&w, F, 0, c.add_w, X, 0);
	tn_roster *ro = w.ro[13];
	assert_int_equal(status_at(&w, ro, rev), TN_RS_VALID);
	assert_int_equal(role_of(ro, pk(&w, X)), 0xff);
	assert_m123_void(&w, ro, &c);
	assert_int_equal(role_of(ro, pk(&w, T)), TN_ROLE_COORDINATOR);
	uint8_t want[TN_HASH];
	hash_of(ro, want);
	shuffled_same(&w, w.nrec, 20, 0xa4093822299f31d0, want);
	world_free(&w);
}

/* A cycle of three: F revokes X at pin 0, X revokes W at pin 0, W revokes
 * F pinned at F's add of W (lower would void W's own grant:
 * self-defeating). Each is attacked by the one before: one component, all
 * three stand with their pins as issued. Each loses what she signed after
 * her pin: X's and W's admissions, F's add of M11 after her add of W. T,
 * outside the cycle, keeps her role and M6. */
static void three_way_cycle(void **state)
{
	(void)state;
	world w;
	cworld c;
	conflict_world(&w, &c, 26);
	size_t f_add = add(&w, F, 11, TN_ROLE_MEMBER); /* F's, after her add of W */
	size_t fx = forge_revoke(&w, F, 0, f_add, X, 0);
	size_t xw = forge_revoke(&w, X, c.add_x, c.add_m[2], W, 0);
	size_t wf = forge_revoke(&w, W, c.add_w, c.add_m9, F, c.add_w);
	tn_roster *ro = w.ro[13];
	assert_int_equal(status_at(&w, ro, fx), TN_RS_VALID);
	assert_int_equal(status_at(&w, ro, xw), TN_RS_VALID);
	assert_int_equal(status_at(&w, ro, wf), TN_RS_VALID);
	assert_int_equal(role_of(ro, pk(&w, F)), 0xff);
	assert_int_equal(role_of(ro, pk(&w, X)), 0xff);
	assert_int_equal(role_of(ro, pk(&w, W)), 0xff);
	assert_int_equal(role_of(ro, pk(&w, T)), TN_ROLE_COORDINATOR);
	assert_int_equal(role_of(ro, pk(&w, 6)), TN_ROLE_MEMBER);
	assert_int_equal(status_at(&w, ro, c.add_t), TN_RS_VALID);
	assert_int_equal(status_at(&w, ro, c.add_w), TN_RS_VALID);
	assert_int_equal(status_at(&w, ro, f_add), TN_RS_VOID_REVOKED);
	assert_int_equal(status_at(&w, ro, c.add_m9), TN_RS_VOID_REVOKED);
	for (int i = 0; i < 3; i++)
		assert_int_equal(status_at(&w, ro, c.add_m[i]), TN_RS_VOID_REVOKED);
	int gone[] = {3, 4, 5, 9, 11};
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		assert_false(is_member(&w, ro, gone[i]));
	uint8_t want[TN_HASH];
	hash_of(ro, want);
	for (int v = 0; v < NIDS; v++) {
		uint8_t h[TN_HASH];
		hash_of(w.ro[v], h);
		assert_memory_equal(h, want, TN_HASH);
	}
	shuffled_same(&w, w.nrec, 100, 0xbe5466cf34e90c6c, want);
	world_free(&w);
}

/* ---- bounds ------------------------------------------------------------------ */

static void member_bound_small(void **state)
{
	(void)state;
	world w;
	world_init(&w, 18);
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.max_members = 4; /* founder + 3 */
	cfg.self = w.id[0];
	tn_roster *ro;
	assert_int_equal(tn_roster_new(&ro, &cfg, w.rec[0], w.len[0]), TN_OK);
	for (int i = 1; i <= 3; i++) {
		tn_ssize n =
		        tn_roster_make_add(ro, &w.rand, pk(&w, i), tn_identity_linkpub(w.id[i]),
		                           txt("m"), 0, w.now, out, sizeof out);
		assert_true(n > 0);
		assert_int_equal(tn_roster_add_record(ro, out, (size_t)n), TN_ROSTER_ACCEPTED);
	}
	assert_int_equal(tn_roster_make_add(ro, &w.rand, pk(&w, 4), tn_identity_linkpub(w.id[4]),
	                                    txt("m"), 0, w.now, out, sizeof out),
	                 TN_ERR_LIMIT);
	/* Forged past the API: refused as FULL, state unchanged. */
	tn_roster_rec r;
	chain_from(&w, ro, 0, 0, TN_ROSTER_ADD, &r);
	memcpy(r.body.add.subject, pk(&w, 4)->b, TN_PUBKEY);
	memcpy(r.body.add.subject_link_pk, tn_identity_linkpub(w.id[4])->b, TN_PUBKEY);
	r.body.add.name = txt("m");
	uint8_t rec[RECMAX];
	size_t m = forge(w.id[0], &r, rec);
	EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_FULL);
	assert_int_equal(tn_roster_member_count(ro), 4);
	tn_roster_del(ro);
	world_free(&w);
}

/* The real bound: TN_ROSTER_MAX members, then FULL. Records are made by
 * hand (the founder's chain), without sealed secrets nobody opens. */
static void member_bound_real(void **state)
{
	(void)state;
	world w;
	world_init(&w, 19);
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	assert_int_equal(cfg.max_members, TN_ROSTER_MAX);
	tn_roster *ro;
	assert_int_equal(tn_roster_new(&ro, &cfg, w.rec[0], w.len[0]), TN_OK);
	tn_roster_rec r;
	memset(&r, 0, sizeof r);
	r.type = TN_ROSTER_ADD;
	memcpy(r.network_id, tn_roster_network_id(ro), TN_NETWORK_ID);
	memcpy(r.issuer, pk(&w, 0)->b, TN_PUBKEY);
	tn_roster_record_id(w.rec[0], w.len[0], r.prev);
	memcpy(r.auth, r.prev, TN_HASH);
	r.body.add.name = txt("m");
	uint8_t rec[RECMAX];
	for (uint32_t i = 1; i <= TN_ROSTER_MAX; i++) {
		r.iseq = i + 1;
		memcpy(r.body.add.subject, &i, sizeof i);
		memcpy(r.body.add.subject_link_pk, &i, sizeof i);
		size_t m = forge(w.id[0], &r, rec);
		if (i < TN_ROSTER_MAX) {
			assert_int_equal(tn_roster_add_record(ro, rec, m), TN_ROSTER_ACCEPTED);
			tn_roster_record_id(rec, m, r.prev);
		} else {
			/* The 10 001st member: refused, counted, nothing changes. */
			size_t recs = tn_roster_record_count(ro);
			EXPECT_NO_CHANGE(ro, tn_roster_add_record(ro, rec, m), TN_ROSTER_R_FULL);
			assert_int_equal(tn_roster_record_count(ro), recs);
		}
	}
	assert_int_equal(tn_roster_member_count(ro), TN_ROSTER_MAX);
	tn_roster_del(ro);
	world_free(&w);
}

/* ---- audit ------------------------------------------------------------------- */

static void audit_lists_every_record(void **state)
{
	(void)state;
	world w;
	history h;
	world_init(&w, 20);
	script(&w, &h);
	tn_roster *ro = w.ro[6];
	assert_int_equal(tn_roster_audit_count(ro), w.nrec);
	uint64_t last = 0;
	size_t revokes = 0;
	for (size_t i = 0; i < w.nrec; i++) {
		tn_roster_audit a;
		assert_int_equal(tn_roster_audit_at(ro, i, &a), TN_OK);
		assert_true(a.created_ms >= last);
		last = a.created_ms;
		assert_int_equal(a.status, TN_RS_VALID);
		tn_view v;
		assert_int_equal(tn_roster_record_by_id(ro, a.id, &v), TN_OK);
		if (a.type == TN_ROSTER_REVOKE) {
			revokes++;
			assert_true(a.has_subject);
		}
	}
	assert_int_equal(revokes, 2);
	tn_roster_audit a;
	assert_int_equal(tn_roster_audit_at(ro, w.nrec, &a), TN_ERR_NOTFOUND);
	assert_int_equal(tn_roster_conflict_count(ro), 0);
	/* Replaying the stored order into a new roster accepts everything. */
	tn_roster *copy = view(&w, 6, w.rec[0], w.len[0]);
	for (size_t i = 1; i < tn_roster_record_count(ro); i++) {
		tn_view v;
		assert_int_equal(tn_roster_record_at(ro, i, &v), TN_OK);
		assert_int_equal(tn_roster_add_record(copy, v.p, v.len), TN_ROSTER_ACCEPTED);
	}
	tn_roster_del(copy);
	world_free(&w);
}

static void reason_names(void **state)
{
	(void)state;
	assert_string_equal(tn_roster_reason_str(TN_ROSTER_ACCEPTED), "accepted");
	assert_string_equal(tn_roster_reason_str(TN_ROSTER_R_NOT_COORDINATOR), "not_coordinator");
	assert_string_equal(tn_roster_reason_str(TN_ROSTER_HELD_BACKDATED), "held_backdated");
	assert_string_equal(tn_roster_reason_str(TN_ROSTER_REASON_COUNT), "unknown");
	assert_string_equal(tn_roster_reason_str(-1), "unknown");
}

/* Seeds for fuzz_roster: the scripted history (and an attack) as
 * length-prefixed records, raw and in re-signing mode. */
static void write_seed(const char *dir, const char *name, uint8_t mode, world *w, size_t from,
                       size_t to)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputc(mode, f);
	for (size_t i = from; i < to; i++) {
		fputc((int)(w->len[i] >> 8), f);
		fputc((int)(w->len[i] & 0xff), f);
		fwrite(w->rec[i], 1, w->len[i], f);
	}
	fclose(f);
}

static void write_corpus(const char *dir)
{
	world w;
	history h;
	world_init(&w, 1);
	script(&w, &h);
	/* Mutual revocation on top. */
	tn_ssize n = tn_roster_make_revoke(w.ro[1], pk(&w, 3), txt("a"), w.now, out, sizeof out);
	keep(&w, out, (size_t)n);
	n = tn_roster_make_revoke(w.ro[3], pk(&w, 1), txt("b"), w.now, out, sizeof out);
	keep(&w, out, (size_t)n);
	write_seed(dir, "raw-history", 0, &w, 1, w.nrec);
	write_seed(dir, "resign-history", 1, &w, 1, w.nrec);
	write_seed(dir, "resign-revokes", 1, &w, h.rev_a4, w.nrec);
	write_seed(dir, "raw-genesis", 0, &w, 0, 1);
	world_free(&w);
	/* A pin-0 counter-revocation with thief records after the revoker's
	 * pin below it (held-chain release, settlement). */
	cworld c;
	counter k;
	conflict_world(&w, &c, 21);
	counter_revocation(&w, &c, &k);
	write_seed(dir, "resign-counter-revocation", 1, &w, 1, w.nrec);
	write_seed(dir, "raw-counter-revocation", 0, &w, 1, w.nrec);
	world_free(&w);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
		write_corpus(argv[2]);
		return 0;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(scripted_state_is_right),
	        cmocka_unit_test(any_order_same_state),
	        cmocka_unit_test(record_ids_and_network_id),
	        cmocka_unit_test(rejects_forged_and_garbled),
	        cmocka_unit_test(rejects_duplicate_and_wrong_network),
	        cmocka_unit_test(rejects_non_coordinator),
	        cmocka_unit_test(rejects_revoked_coordinator_late),
	        cmocka_unit_test(rejects_backdated),
	        cmocka_unit_test(mutual_revocation_revokes_both),
	        cmocka_unit_test(voided_pin_releases_held_record),
	        cmocka_unit_test(self_defeating_revocation_is_void),
	        cmocka_unit_test(demotion_cuts_coordinator_records_only),
	        cmocka_unit_test(counter_revocation_pin0_same_in_any_order),
	        cmocka_unit_test(counter_revocation_same_in_any_order),
	        cmocka_unit_test(held_chain_released_below_conflict),
	        cmocka_unit_test(readmit_after_counter_revocation),
	        cmocka_unit_test(counter_revocation_voids_earlier_revocations),
	        cmocka_unit_test(revocation_outside_conflict_keeps_its_pin),
	        cmocka_unit_test(three_way_cycle),
	        cmocka_unit_test(rekey_omitting_member_is_detected_and_healed),
	        cmocka_unit_test(concurrent_rekeys_keep_both_keys),
	        cmocka_unit_test(expired_endpoint_ignored),
	        cmocka_unit_test(pending_until_prev_arrives),
	        cmocka_unit_test(member_bound_small),
	        cmocka_unit_test(member_bound_real),
	        cmocka_unit_test(audit_lists_every_record),
	        cmocka_unit_test(reason_names),
	};
	return cmocka_run_group_tests_name("roster", tests, NULL, NULL);
}
