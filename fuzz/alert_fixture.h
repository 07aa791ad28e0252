/* A fixed little network for alert tests and the fuzz_alert target: five
 * identities from a seeded generator, one network id, the group key of
 * epoch 1, fixed wall and monotonic time, and an in-memory "store" of held
 * alerts answering the tn_alert_ops callbacks.
 *
 * Shared by tests/unit/test_alert.c (which also writes fuzz/corpus/alert
 * from it) and fuzz/fuzz_alert.c, so the seed corpus is valid for the
 * harness: same keys, same time, same held set. test_alert checks that the
 * base alerts are accepted, so the two cannot drift apart silently. */
#ifndef TOCSIN_FUZZ_ALERT_FIXTURE_H
#define TOCSIN_FUZZ_ALERT_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/alert.h"
#include "test_rng.h"

enum {
	FX_ALICE = 0,   /* member */
	FX_BOB = 1,     /* member */
	FX_CAROL = 2,   /* coordinator */
	FX_MALLORY = 3, /* revoked */
	FX_EVE = 4,     /* not a member */
	FX_N = 5,
	FX_HELD_MAX = 64,
	FX_EPOCH = 1,
};

#define FX_WALL_MS UINT64_C(1718000000000) /* 2024-06-10, ms */
#define FX_NOW     (1000 * TN_SEC)         /* monotonic */
#define FX_LIFE_MS UINT64_C(3600000)       /* default alert lifetime: 1 h */

typedef struct fx_held {
	tn_pubkey author;
	uint64_t seq;
	uint8_t id[TN_ALERT_ID];
	uint8_t kind;
} fx_held;

typedef struct fx {
	test_rng rng;
	tn_rand rand;
	tn_identity *id[FX_N];
	uint8_t net[TN_NETWORK_ID];
	tn_seckey key1; /* group key of FX_EPOCH */
	fx_held held[FX_HELD_MAX];
	size_t nheld;
	tn_ratelimit *rl;
	tn_alert_ctx ctx;
} fx;

static inline const tn_pubkey *fx_pk(const fx *f, int who)
{
	return tn_identity_pubkey(f->id[who]);
}

static inline tn_alert_author fx_author_cb(void *ud, const tn_pubkey *author)
{
	const fx *f = ud;
	static const tn_alert_author roles[FX_N] = {
	        [FX_ALICE] = TN_ALERT_AUTHOR_MEMBER,      [FX_BOB] = TN_ALERT_AUTHOR_MEMBER,
	        [FX_CAROL] = TN_ALERT_AUTHOR_COORDINATOR, [FX_MALLORY] = TN_ALERT_AUTHOR_REVOKED,
	        [FX_EVE] = TN_ALERT_AUTHOR_NONE,
	};
	for (int i = 0; i < FX_N; i++)
		if (memcmp(fx_pk(f, i)->b, author->b, TN_PUBKEY) == 0)
			return roles[i];
	return TN_ALERT_AUTHOR_NONE;
}

static inline bool fx_seen_cb(void *ud, const tn_pubkey *author, uint64_t seq,
                              uint8_t id_out[TN_ALERT_ID])
{
	const fx *f = ud;
	for (size_t i = 0; i < f->nheld; i++) {
		if (f->held[i].seq == seq &&
		    memcmp(f->held[i].author.b, author->b, TN_PUBKEY) == 0) {
			memcpy(id_out, f->held[i].id, TN_ALERT_ID);
			return true;
		}
	}
	return false;
}

static inline bool fx_lookup_cb(void *ud, const uint8_t id[TN_ALERT_ID], tn_pubkey *author,
                                uint8_t *kind)
{
	const fx *f = ud;
	for (size_t i = 0; i < f->nheld; i++) {
		if (memcmp(f->held[i].id, id, TN_ALERT_ID) == 0) {
			*author = f->held[i].author;
			*kind = f->held[i].kind;
			return true;
		}
	}
	return false;
}

static inline const tn_seckey *fx_key_cb(void *ud, uint32_t epoch)
{
	const fx *f = ud;
	return epoch == FX_EPOCH ? &f->key1 : NULL;
}

/* A limiter generous enough that only tests about rate limits meet it. */
static inline int fx_new_limiter(fx *f, size_t capacity)
{
	tn_alert_limits l;
	tn_alert_limits_default(&l);
	l.capacity = capacity;
	tn_ratelimit_del(f->rl);
	f->rl = NULL;
	if (tn_alert_limiter_new(&f->rl, &l, &f->rand) != TN_OK)
		return -1;
	f->ctx.limiter = f->rl;
	return 0;
}

static inline void fx_free(fx *f)
{
	for (int i = 0; i < FX_N; i++)
		tn_identity_del(f->id[i]);
	tn_ratelimit_del(f->rl);
	sodium_memzero(f, sizeof *f);
}

/* 0 on success. Draw order is fixed: identities, group key, network id,
 * limiter hash key. */
static inline int fx_init(fx *f)
{
	memset(f, 0, sizeof *f);
	f->rand = test_rng_seed(&f->rng, 0x5a);
	if (sodium_init() < 0)
		return -1;
	for (int i = 0; i < FX_N; i++)
		if (tn_identity_new(&f->id[i], &f->rand) != TN_OK)
			goto fail;
	tn_rand_bytes(&f->rand, f->key1.b, sizeof f->key1.b);
	tn_rand_bytes(&f->rand, f->net, sizeof f->net);
	static const tn_alert_ops ops = {fx_author_cb, fx_seen_cb, fx_lookup_cb, fx_key_cb};
	if (fx_new_limiter(f, 64) != 0 ||
	    tn_alert_ctx_init(&f->ctx, f->net, &ops, f, f->rl) != TN_OK)
		goto fail;
	return 0;
fail:
	fx_free(f);
	return -1;
}

/* Remember an accepted alert, as the daemon's store would. */
static inline bool fx_hold(fx *f, const tn_alert_verdict *v)
{
	if (f->nheld >= FX_HELD_MAX || !v->has_id)
		return false;
	fx_held *h = &f->held[f->nheld++];
	memcpy(h->author.b, v->env.author, TN_PUBKEY);
	h->seq = v->env.seq;
	memcpy(h->id, v->id, TN_ALERT_ID);
	h->kind = v->env.kind;
	return true;
}

/* A draft from the fixture's network at FX_WALL_MS, living FX_LIFE_MS,
 * in FX_EPOCH. */
static inline tn_alert_draft fx_draft(const fx *f, uint8_t kind, uint64_t seq,
                                      const uint8_t *refers_to)
{
	tn_alert_draft d;
	memset(&d, 0, sizeof d);
	memcpy(d.network_id, f->net, sizeof d.network_id);
	d.seq = seq;
	d.kind = kind;
	if (refers_to) {
		d.has_refers_to = true;
		memcpy(d.refers_to, refers_to, TN_ALERT_ID);
	}
	d.created_ms = FX_WALL_MS;
	d.expires_ms = FX_WALL_MS + FX_LIFE_MS;
	d.epoch = FX_EPOCH;
	return d;
}

static inline tn_alert_pt fx_pt(const char *text)
{
	tn_alert_pt p;
	memset(&p, 0, sizeof p);
	p.severity = TN_SEV_CRITICAL;
	p.violation = TN_VIOL_THREAT;
	if (text) {
		p.has_text = true;
		p.text.p = (const uint8_t *)text;
		p.text.len = strlen(text);
	}
	return p;
}

/* Seal with the fixture's defaults. Returns the envelope length or < 0. */
static inline tn_ssize fx_seal(fx *f, int who, uint8_t kind, uint64_t seq, const uint8_t *refers_to,
                               const char *text, uint8_t *out, size_t cap, uint8_t id[TN_ALERT_ID])
{
	tn_alert_draft d = fx_draft(f, kind, seq, refers_to);
	tn_alert_pt p = fx_pt(text);
	return tn_alert_seal(f->id[who], &d, &f->key1, &p, &f->rand, out, cap, id);
}

/* The held set the fuzz harness starts every input from: Bob's panic
 * (seq 1) and Alice's drill (seq 1), accepted and held. Their ids are
 * written to bob_panic and alice_drill, and Bob's panic envelope to
 * bob_env (TN_ALERT_ENVELOPE_MAX bytes; NULL to skip). 0 on success. */
static inline int fx_base(fx *f, uint8_t bob_panic[TN_ALERT_ID], uint8_t alice_drill[TN_ALERT_ID],
                          uint8_t *bob_env, size_t *bob_len)
{
	uint8_t env[TN_ALERT_ENVELOPE_MAX];
	tn_alert_verdict v;
	tn_ssize n = fx_seal(f, FX_BOB, TN_KIND_PANIC, 1, NULL, "help", env, sizeof env, bob_panic);
	if (n < 0 || tn_alert_check(&f->ctx, env, (size_t)n, FX_WALL_MS, FX_NOW, &v) != TN_OK ||
	    v.reason != TN_ALERT_ACCEPTED || !fx_hold(f, &v))
		return -1;
	if (bob_env && bob_len) {
		memcpy(bob_env, env, (size_t)n);
		*bob_len = (size_t)n;
	}
	n = fx_seal(f, FX_ALICE, TN_KIND_DRILL, 1, NULL, "drill", env, sizeof env, alice_drill);
	if (n < 0 || tn_alert_check(&f->ctx, env, (size_t)n, FX_WALL_MS, FX_NOW, &v) != TN_OK ||
	    v.reason != TN_ALERT_ACCEPTED || !fx_hold(f, &v))
		return -1;
	return 0;
}

#endif
