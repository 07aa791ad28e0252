/* The roster container: bounded storage of accepted records, the
 * per-record checks of docs/roster.md ("Accepting a record"), held
 * records, and the queries over the folded state (roster_fold.c). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster_priv.h"

static const char *const reason_names[TN_ROSTER_REASON_COUNT] = {
        "accepted",     "malformed",       "duplicate",      "network", "signature",
        "chain",        "not_coordinator", "not_member",     "full",    "held_pending",
        "held_revoked", "held_demoted",    "held_backdated", "nomem",
};

const char *tn_roster_reason_str(int reason)
{
	if (reason < 0 || reason >= TN_ROSTER_REASON_COUNT)
		return "unknown";
	return reason_names[reason];
}

void tn_roster_config_default(tn_roster_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_members = TN_ROSTER_MAX;
	cfg->max_records = TN_ROSTER_RECORDS_MAX;
	cfg->max_bytes = TN_ROSTER_BYTES_MAX;
	cfg->max_held = TN_ROSTER_HELD_MAX;
}

void tn_roster_record_id(const uint8_t *rec, size_t len, uint8_t id[TN_HASH])
{
	crypto_generichash(id, TN_HASH, rec, len, NULL, 0);
}

bool tn_roster_coord_type(uint8_t type)
{
	return type == TN_ROSTER_ADD || type == TN_ROSTER_REVOKE || type == TN_ROSTER_ROLE ||
	       type == TN_ROSTER_REKEY;
}

bool tn_roster_pinning(const tn_rrec *r)
{
	return r->d.type == TN_ROSTER_REVOKE ||
	       (r->d.type == TN_ROSTER_ROLE && r->d.body.role.role == TN_ROLE_MEMBER);
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		uint8_t t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

static void sift(uint8_t *b, size_t root, size_t n, size_t size,
                 int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && cmp(b + child * size, b + (child + 1) * size) < 0)
			child++;
		if (cmp(b + root * size, b + child * size) >= 0)
			return;
		swap_bytes(b + root * size, b + child * size, size);
		root = child;
	}
}

void tn_roster_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	uint8_t *b = base;
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift(b, 0, end, size, cmp);
	}
}

/* ---- hash indexes ------------------------------------------------------
 * Keys are record ids (BLAKE2b outputs) and identity keys; their first 8
 * bytes spread well enough for linear probing. Tables stay at most half
 * full and grow with the (bounded) record count. */

static size_t slot_of(const uint8_t *key, size_t cap)
{
	uint64_t h;
	memcpy(&h, key, sizeof h);
	return (size_t)(h & (cap - 1));
}

static const uint8_t *subj_key(const tn_roster *ro, uint32_t ix)
{
	return ro->recs[ix].d.body.add.subject;
}

uint32_t tn_roster_find(const tn_roster *ro, const uint8_t id[TN_HASH])
{
	if (!ro->idxcap)
		return RIX_NONE;
	for (size_t s = slot_of(id, ro->idxcap);; s = (s + 1) & (ro->idxcap - 1)) {
		uint32_t v = ro->idx[s];
		if (!v)
			return RIX_NONE;
		if (memcmp(ro->recs[v - 1].id, id, TN_HASH) == 0)
			return v - 1;
	}
}

static uint32_t subj_find(const tn_roster *ro, const uint8_t pk[TN_PUBKEY])
{
	if (!ro->subjcap)
		return RIX_NONE;
	for (size_t s = slot_of(pk, ro->subjcap);; s = (s + 1) & (ro->subjcap - 1)) {
		uint32_t v = ro->subj[s];
		if (!v)
			return RIX_NONE;
		if (memcmp(subj_key(ro, v - 1), pk, TN_PUBKEY) == 0)
			return v - 1;
	}
}

static void table_put(uint32_t *t, size_t cap, const uint8_t *key, uint32_t ix)
{
	size_t s = slot_of(key, cap);
	while (t[s])
		s = (s + 1) & (cap - 1);
	t[s] = ix + 1;
}

/* Make room for n entries at load <= 1/2. */
static tn_err idx_reserve(tn_roster *ro, size_t n)
{
	if (n * 2 <= ro->idxcap)
		return TN_OK;
	size_t cap = ro->idxcap ? ro->idxcap * 2 : 64;
	while (cap < n * 2)
		cap *= 2;
	uint32_t *t = calloc(cap, sizeof *t);
	if (!t)
		return TN_ERR_NOMEM;
	for (size_t i = 0; i < ro->nrecs; i++)
		table_put(t, cap, ro->recs[i].id, (uint32_t)i);
	free(ro->idx);
	ro->idx = t;
	ro->idxcap = cap;
	return TN_OK;
}

static tn_err subj_reserve(tn_roster *ro, size_t n)
{
	if (n * 2 <= ro->subjcap)
		return TN_OK;
	size_t cap = ro->subjcap ? ro->subjcap * 2 : 64;
	while (cap < n * 2)
		cap *= 2;
	uint32_t *t = calloc(cap, sizeof *t);
	if (!t)
		return TN_ERR_NOMEM;
	for (size_t s = 0; s < ro->subjcap; s++)
		if (ro->subj[s])
			table_put(t, cap, subj_key(ro, ro->subj[s] - 1), ro->subj[s] - 1);
	free(ro->subj);
	ro->subj = t;
	ro->subjcap = cap;
	return TN_OK;
}

/* ---- storing ----------------------------------------------------------- */

/* Append an accepted record (takes bytes). The decoded views are rebuilt
 * against the copy. */
static tn_err store(tn_roster *ro, uint8_t *bytes, size_t len, const uint8_t id[TN_HASH],
                    uint32_t prev_ix, uint32_t auth_ix)
{
	if (ro->nrecs == ro->caprecs) {
		size_t cap = ro->caprecs ? ro->caprecs * 2 : 64;
		if (cap > ro->cfg.max_records)
			cap = ro->cfg.max_records;
		tn_rrec *r = realloc(ro->recs, cap * sizeof *r);
		if (!r)
			return TN_ERR_NOMEM;
		ro->recs = r;
		ro->caprecs = cap;
	}
	tn_err rc = idx_reserve(ro, ro->nrecs + 1);
	if (rc)
		return rc;
	tn_rrec *r = &ro->recs[ro->nrecs];
	memset(r, 0, sizeof *r);
	if (tn_roster_decode(&r->d, bytes, len) != TN_OK)
		return TN_ERR_INTERNAL; /* decoded before: cannot happen */
	bool new_subject = r->d.type == TN_ROSTER_ADD &&
	                   memcmp(r->d.body.add.subject, ro->founder, TN_PUBKEY) != 0 &&
	                   subj_find(ro, r->d.body.add.subject) == RIX_NONE;
	if (new_subject && (rc = subj_reserve(ro, ro->nsubj + 1)))
		return rc;
	r->bytes = bytes;
	r->len = len;
	memcpy(r->id, id, TN_HASH);
	r->prev_ix = prev_ix;
	r->auth_ix = auth_ix;
	uint32_t ix = (uint32_t)ro->nrecs++;
	table_put(ro->idx, ro->idxcap, id, ix);
	if (new_subject) {
		table_put(ro->subj, ro->subjcap, r->d.body.add.subject, ix);
		ro->nsubj++;
	}
	ro->bytes_total += len;
	ro->dirty = true;
	return TN_OK;
}

static void held_free(tn_rheld *h)
{
	free(h->bytes);
	h->bytes = NULL;
}

/* Keep a record back (takes bytes). Full: the oldest held record goes, so
 * a peer filling the hold with junk only delays records that anti-entropy
 * will offer again. */
static tn_roster_reason hold(tn_roster *ro, uint8_t *bytes, size_t len, const uint8_t id[TN_HASH],
                             tn_roster_reason why)
{
	if (ro->cfg.max_held == 0) {
		free(bytes);
		return why;
	}
	if (ro->nheld == ro->cfg.max_held) {
		held_free(&ro->held[0]);
		memmove(ro->held, ro->held + 1, (ro->nheld - 1) * sizeof *ro->held);
		ro->nheld--;
		ro->evicted++;
	}
	tn_rheld *h = &ro->held[ro->nheld];
	memset(h, 0, sizeof *h);
	/* A backdated record is fork evidence for the audit: refold. */
	if (why == TN_ROSTER_HELD_BACKDATED)
		ro->dirty = true;
	if (tn_roster_decode(&h->d, bytes, len) != TN_OK) {
		free(bytes);
		return TN_ROSTER_R_MALFORMED;
	}
	h->bytes = bytes;
	h->len = len;
	memcpy(h->id, id, TN_HASH);
	h->reason = (uint8_t)why;
	ro->nheld++;
	return why;
}

static bool held_has(const tn_roster *ro, const uint8_t id[TN_HASH])
{
	for (size_t i = 0; i < ro->nheld; i++)
		if (memcmp(ro->held[i].id, id, TN_HASH) == 0)
			return true;
	return false;
}

/* ---- pins -------------------------------------------------------------- */

static uint32_t pin_head_ix(const tn_roster *ro, const tn_roster_pin *pin,
                            const uint8_t subject[TN_PUBKEY])
{
	if (!pin->has_pin_head)
		return RIX_NONE;
	uint32_t h = tn_roster_find(ro, pin->pin_head);
	if (h == RIX_NONE || ro->recs[h].d.iseq != pin->pin_seq ||
	    memcmp(ro->recs[h].d.issuer, subject, TN_PUBKEY) != 0)
		return RIX_NONE; /* names no record of hers at pin_seq: the seq still holds */
	return h;
}

void tn_roster_pin_of(const tn_roster *ro, uint32_t ix, tn_rpin *p)
{
	const tn_rrec *r = &ro->recs[ix];
	const tn_roster_pin *pin;
	memset(p, 0, sizeof *p);
	p->rec_ix = ix;
	memcpy(p->id, r->id, TN_HASH);
	if (r->d.type == TN_ROSTER_REVOKE) {
		memcpy(p->subject, r->d.body.revoke.subject, TN_PUBKEY);
		pin = &r->d.body.revoke.pin;
	} else {
		memcpy(p->subject, r->d.body.role.subject, TN_PUBKEY);
		pin = &r->d.body.role.pin;
		p->demote = true;
	}
	p->seq = pin->pin_seq;
	p->head_ix = pin_head_ix(ro, pin, p->subject);
}

/* The subject's record at iseq on the chain ending at head. */
static uint32_t ancestor_at(const tn_roster *ro, uint32_t h, uint64_t iseq)
{
	while (h != RIX_NONE && ro->recs[h].d.iseq > iseq)
		h = ro->recs[h].prev_ix;
	return h;
}

bool tn_roster_after_pin(const tn_roster *ro, const tn_rpin *p, uint32_t x)
{
	if (x == p->rec_ix || x == 0)
		return false;
	const tn_rrec *r = &ro->recs[x];
	if (r->d.iseq > p->seq)
		return true;
	if (p->head_ix == RIX_NONE)
		return false;
	return ancestor_at(ro, p->head_ix, r->d.iseq) != x;
}

/* Has pk signed a revocation or demotion we hold? */
static bool is_revoker(const tn_roster *ro, const uint8_t pk[TN_PUBKEY])
{
	for (size_t i = 0; i < ro->nrecs; i++)
		if (tn_roster_pinning(&ro->recs[i]) &&
		    memcmp(ro->recs[i].d.issuer, pk, TN_PUBKEY) == 0)
			return true;
	return false;
}

/* A revocation or demotion that may stand in a conflict even when signed
 * after its issuer's pin: its subject has herself revoked or demoted
 * someone, so it may attack that record (mutual revocation), which only
 * the fold can tell. */
static bool may_conflict(const tn_roster *ro, const tn_roster_rec *d)
{
	const uint8_t *subject = d->type == TN_ROSTER_REVOKE ? d->body.revoke.subject
	                         : d->type == TN_ROSTER_ROLE && d->body.role.role == TN_ROLE_MEMBER
	                                 ? d->body.role.subject
	                                 : NULL;
	return subject && is_revoker(ro, subject);
}

/* Pins known from the last fold, against a record not stored yet. The
 * head is looked up afresh: it may have arrived since.
 *
 * A record signed after its issuer's pin is held, so a revoked thief
 * cannot grow the set, except where only the fold can tell whether it
 * counts: a revocation that may conflict (may_conflict), and, when below
 * is set, the records at or below one (release_chains: they are its prev
 * chain, and a fork among them voids it). Records let in this way after
 * a pin are still void in the fold unless they win the settlement. */
static tn_roster_reason pin_check(const tn_roster *ro, const tn_roster_rec *d,
                                  const uint8_t id[TN_HASH], bool below)
{
	if (!ro->folded)
		return TN_ROSTER_ACCEPTED;
	for (size_t i = 0; i < ro->npins; i++) {
		const tn_rpin *p = &ro->pins[i];
		if (memcmp(p->subject, d->issuer, TN_PUBKEY) != 0)
			continue;
		if (p->demote && !tn_roster_coord_type(d->type))
			continue;
		tn_rpin q = *p;
		tn_roster_pin_of(ro, p->rec_ix, &q);
		if (d->iseq > q.seq) {
			if (below || may_conflict(ro, d))
				continue;
			return q.demote ? TN_ROSTER_HELD_DEMOTED : TN_ROSTER_HELD_REVOKED;
		}
		if (q.head_ix == RIX_NONE)
			continue;
		uint32_t a = ancestor_at(ro, q.head_ix, d->iseq);
		if (a == RIX_NONE || memcmp(ro->recs[a].id, id, TN_HASH) != 0)
			return TN_ROSTER_HELD_BACKDATED;
	}
	return TN_ROSTER_ACCEPTED;
}

/* ---- the per-record checks ----------------------------------------------- */

/* Does record a give issuer the standing a record of this type needs? */
static tn_roster_reason standing(const tn_roster *ro, const tn_rrec *a, const tn_roster_rec *d)
{
	const uint8_t *who = d->issuer;
	bool founder = a->d.type == TN_ROSTER_GENESIS && memcmp(who, ro->founder, TN_PUBKEY) == 0;
	if (d->type == TN_ROSTER_ENDPOINT) {
		bool admitted = a->d.type == TN_ROSTER_ADD &&
		                memcmp(a->d.body.add.subject, who, TN_PUBKEY) == 0;
		return founder || admitted ? TN_ROSTER_ACCEPTED : TN_ROSTER_R_NOT_MEMBER;
	}
	bool by_add = a->d.type == TN_ROSTER_ADD && a->d.body.add.role == TN_ROLE_COORDINATOR &&
	              memcmp(a->d.body.add.subject, who, TN_PUBKEY) == 0;
	bool by_role = a->d.type == TN_ROSTER_ROLE && a->d.body.role.role == TN_ROLE_COORDINATOR &&
	               memcmp(a->d.body.role.subject, who, TN_PUBKEY) == 0;
	return founder || by_add || by_role ? TN_ROSTER_ACCEPTED : TN_ROSTER_R_NOT_COORDINATOR;
}

static bool full_for(const tn_roster *ro, const tn_roster_rec *d, size_t len)
{
	if (ro->nrecs >= ro->cfg.max_records || len > ro->cfg.max_bytes - ro->bytes_total)
		return true;
	if (d->type != TN_ROSTER_ADD || memcmp(d->body.add.subject, ro->founder, TN_PUBKEY) == 0)
		return false;
	/* Members ever admitted, founder included: the member table is
	 * bounded by it, whatever the fold later decides. */
	return subj_find(ro, d->body.add.subject) == RIX_NONE &&
	       ro->nsubj + 1 >= ro->cfg.max_members;
}

/* Linkage, standing, bounds, pins; then store or hold. Takes bytes.
 * below: the record lies at or below a revocation by its issuer that may
 * conflict (release_chains). */
static tn_roster_reason admit(tn_roster *ro, uint8_t *bytes, size_t len, const uint8_t id[TN_HASH],
                              bool below)
{
	tn_roster_rec d;
	if (tn_roster_decode(&d, bytes, len) != TN_OK) {
		free(bytes);
		return TN_ROSTER_R_MALFORMED;
	}
	uint32_t prev_ix = RIX_NONE, auth_ix;
	if (d.iseq > 1) {
		prev_ix = tn_roster_find(ro, d.prev);
		if (prev_ix == RIX_NONE)
			return hold(ro, bytes, len, id, TN_ROSTER_HELD_PENDING);
		const tn_rrec *p = &ro->recs[prev_ix];
		if (p->d.iseq != d.iseq - 1 || memcmp(p->d.issuer, d.issuer, TN_PUBKEY) != 0)
			goto chain;
	} else if (memcmp(d.issuer, ro->founder, TN_PUBKEY) == 0) {
		goto chain; /* the founder's iseq 1 is the genesis */
	}
	auth_ix = tn_roster_find(ro, d.auth);
	if (auth_ix == RIX_NONE)
		return hold(ro, bytes, len, id, TN_ROSTER_HELD_PENDING);
	tn_roster_reason why = standing(ro, &ro->recs[auth_ix], &d);
	if (why != TN_ROSTER_ACCEPTED)
		goto drop;
	if (full_for(ro, &d, len)) {
		why = TN_ROSTER_R_FULL;
		goto drop;
	}
	why = pin_check(ro, &d, id, below);
	if (why != TN_ROSTER_ACCEPTED)
		return hold(ro, bytes, len, id, why);
	if (store(ro, bytes, len, id, prev_ix, auth_ix) != TN_OK) {
		why = TN_ROSTER_R_NOMEM;
		goto drop;
	}
	return TN_ROSTER_ACCEPTED;
chain:
	why = TN_ROSTER_R_CHAIN;
drop:
	free(bytes);
	return why;
}

/* Admit held records whose prev and auth have arrived; repeat while any
 * gets in (one may be another's prev). */
static tn_roster_reason release_pending(tn_roster *ro)
{
	bool progress = true;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < ro->nheld; i++) {
			tn_rheld *h = &ro->held[i];
			if (h->reason != TN_ROSTER_HELD_PENDING)
				continue;
			if ((h->d.iseq > 1 && tn_roster_find(ro, h->d.prev) == RIX_NONE) ||
			    tn_roster_find(ro, h->d.auth) == RIX_NONE)
				continue;
			tn_rheld t = *h;
			memmove(h, h + 1, (ro->nheld - i - 1) * sizeof *h);
			ro->nheld--;
			tn_roster_reason why = admit(ro, t.bytes, t.len, t.id, false);
			if (why == TN_ROSTER_R_NOMEM)
				return why;
			progress = true;
			break;
		}
	}
	return TN_ROSTER_ACCEPTED;
}

/* Has y a revocation or demotion that may conflict (may_conflict) at
 * iseq n or above, accepted or held? */
static bool conflict_above(const tn_roster *ro, const uint8_t y[TN_PUBKEY], uint64_t n)
{
	for (size_t i = 0; i < ro->nheld; i++) {
		const tn_roster_rec *d = &ro->held[i].d;
		if (d->iseq >= n && memcmp(d->issuer, y, TN_PUBKEY) == 0 && may_conflict(ro, d))
			return true;
	}
	for (size_t i = 0; i < ro->nrecs; i++) {
		const tn_roster_rec *d = &ro->recs[i].d;
		if (d->iseq >= n && memcmp(d->issuer, y, TN_PUBKEY) == 0 && may_conflict(ro, d))
			return true;
	}
	return false;
}

/* A revocation that may conflict is admitted even after its issuer's pin
 * (pin_check): the settlement decides whether it stands. But it is only
 * admitted once its prev is, and a node that folded the pin before the
 * revoker's later records arrived holds those records (HELD_REVOKED), so
 * its revocation would wait for its prev for ever: that node would never
 * see the conflict that a node which received them earlier folds, and
 * the two would disagree for good (the thief revoked on one, active on
 * the other). So each held record of the same issuer at or below such a
 * revocation (forks included, fork evidence in a pinned prefix excepted:
 * that stays HELD_BACKDATED) is admitted bottom-up as its prev and auth
 * arrive, and the fold, which voids the records after the pin, decides.
 * The hold bounds how much of a chain comes in per release. */
static tn_roster_reason release_chains(tn_roster *ro)
{
	bool progress = true;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < ro->nheld && !progress;) {
			const tn_rheld *h = &ro->held[i++];
			if (h->reason != TN_ROSTER_HELD_REVOKED &&
			    h->reason != TN_ROSTER_HELD_DEMOTED)
				continue;
			if ((h->d.iseq > 1 && tn_roster_find(ro, h->d.prev) == RIX_NONE) ||
			    tn_roster_find(ro, h->d.auth) == RIX_NONE ||
			    !conflict_above(ro, h->d.issuer, h->d.iseq))
				continue;
			tn_rheld t = *h;
			i--; /* the next one moves into this slot */
			memmove(&ro->held[i], &ro->held[i + 1], (ro->nheld - i - 1) * sizeof t);
			ro->nheld--;
			tn_roster_reason why = admit(ro, t.bytes, t.len, t.id, true);
			if (why == TN_ROSTER_R_NOMEM || release_pending(ro) == TN_ROSTER_R_NOMEM)
				return TN_ROSTER_R_NOMEM;
			progress = why == TN_ROSTER_ACCEPTED;
		}
	}
	return TN_ROSTER_ACCEPTED;
}

static tn_err verify(const tn_roster_rec *d)
{
	uint8_t *msg = malloc(TN_ROSTER_SIG_DOMAIN_LEN + d->signed_part.len);
	if (!msg)
		return TN_ERR_NOMEM;
	memcpy(msg, TN_ROSTER_SIG_DOMAIN, TN_ROSTER_SIG_DOMAIN_LEN);
	memcpy(msg + TN_ROSTER_SIG_DOMAIN_LEN, d->signed_part.p, d->signed_part.len);
	tn_pubkey pk;
	tn_sig sig;
	memcpy(pk.b, d->issuer, sizeof pk.b);
	memcpy(sig.b, d->signature, sizeof sig.b);
	tn_err rc = tn_sig_verify(&pk, msg, TN_ROSTER_SIG_DOMAIN_LEN + d->signed_part.len, &sig);
	free(msg);
	return rc;
}

static tn_roster_reason check(tn_roster *ro, const uint8_t *rec, size_t len)
{
	tn_roster_rec d;
	uint8_t id[TN_HASH];
	tn_err rc = tn_roster_decode(&d, rec, len);
	if (rc) {
		ro->last_dec = rc;
		return TN_ROSTER_R_MALFORMED;
	}
	tn_roster_record_id(rec, len, id);
	if (tn_roster_find(ro, id) != RIX_NONE || held_has(ro, id))
		return TN_ROSTER_R_DUPLICATE;
	if (d.type == TN_ROSTER_GENESIS || memcmp(d.network_id, ro->nid, TN_NETWORK_ID) != 0)
		return TN_ROSTER_R_NETWORK;
	rc = verify(&d);
	if (rc == TN_ERR_NOMEM)
		return TN_ROSTER_R_NOMEM;
	if (rc)
		return TN_ROSTER_R_SIGNATURE;
	/* Authenticated: now it may cost us memory. */
	uint8_t *copy = malloc(len);
	if (!copy)
		return TN_ROSTER_R_NOMEM;
	memcpy(copy, rec, len);
	tn_roster_reason why = admit(ro, copy, len, id, false);
	if (why == TN_ROSTER_R_NOMEM)
		return why;
	if (why == TN_ROSTER_ACCEPTED && release_pending(ro) == TN_ROSTER_R_NOMEM)
		return TN_ROSTER_R_NOMEM;
	/* Only a change to the set or the hold can free a chain. */
	bool changed = why == TN_ROSTER_ACCEPTED || why == TN_ROSTER_HELD_PENDING ||
	               why == TN_ROSTER_HELD_REVOKED || why == TN_ROSTER_HELD_DEMOTED ||
	               why == TN_ROSTER_HELD_BACKDATED;
	if (changed && release_chains(ro) == TN_ROSTER_R_NOMEM)
		return TN_ROSTER_R_NOMEM;
	return why;
}

tn_roster_reason tn_roster_add_record(tn_roster *ro, const uint8_t *rec, size_t len)
{
	if (!ro)
		return TN_ROSTER_R_MALFORMED;
	tn_roster_reason why;
	if (!rec || len == 0 || len > TN_ROSTER_RECORD_MAX) {
		ro->last_dec = len ? TN_ERR_DEC_TOOBIG : TN_ERR_DEC_TRUNCATED;
		why = TN_ROSTER_R_MALFORMED;
	} else {
		why = check(ro, rec, len);
	}
	ro->counters[why]++;
	return why;
}

/* ---- lifetime ------------------------------------------------------------ */

static bool config_ok(const tn_roster_config *c)
{
	return c->max_members >= 1 && c->max_members <= TN_ROSTER_MAX && c->max_records >= 1 &&
	       c->max_records <= TN_ROSTER_RECORDS_MAX && c->max_bytes >= TN_ROSTER_RECORD_MAX &&
	       c->max_bytes <= TN_ROSTER_BYTES_MAX && c->max_held <= TN_ROSTER_HELD_MAX;
}

tn_err tn_roster_new(tn_roster **out, const tn_roster_config *cfg, const uint8_t *genesis,
                     size_t len)
{
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!cfg || !genesis || !config_ok(cfg))
		return TN_ERR_INVAL;
	if (sodium_init() < 0)
		return TN_ERR_INTERNAL;
	tn_roster_rec d;
	tn_err rc = tn_roster_decode(&d, genesis, len);
	if (rc)
		return rc;
	if (d.type != TN_ROSTER_GENESIS)
		return TN_ERR_INVAL;
	if ((rc = verify(&d)))
		return rc;
	tn_roster *ro = calloc(1, sizeof *ro);
	uint8_t *copy = malloc(len);
	tn_rheld *held = calloc(cfg->max_held ? cfg->max_held : 1, sizeof *held);
	if (!ro || !copy || !held) {
		free(ro);
		free(copy);
		free(held);
		return TN_ERR_NOMEM;
	}
	ro->cfg = *cfg;
	ro->held = held;
	uint8_t id[TN_HASH];
	tn_roster_record_id(genesis, len, id);
	memcpy(ro->nid, id, TN_NETWORK_ID);
	memcpy(ro->founder, d.issuer, TN_PUBKEY);
	memcpy(copy, genesis, len);
	if ((rc = store(ro, copy, len, id, RIX_NONE, RIX_NONE))) {
		free(copy);
		tn_roster_del(ro);
		return rc;
	}
	*out = ro;
	return TN_OK;
}

void tn_roster_del(tn_roster *ro)
{
	if (!ro)
		return;
	for (size_t i = 0; i < ro->nrecs; i++)
		free(ro->recs[i].bytes);
	for (size_t i = 0; i < ro->nheld; i++)
		held_free(&ro->held[i]);
	sodium_memzero(ro->cur_keys, sizeof ro->cur_keys);
	sodium_memzero(ro->prev_keys, sizeof ro->prev_keys);
	free(ro->recs);
	free(ro->idx);
	free(ro->subj);
	free(ro->held);
	free(ro->pins);
	free(ro->mems);
	free(ro->missing);
	free(ro->conf);
	free(ro->audit);
	free(ro);
}

/* ---- keeping the state current -------------------------------------------- */

/* Held-behind-a-pin records whose pin no longer holds (it was voided by a
 * later revocation) get another chance. */
static tn_err recheck_pinned(tn_roster *ro, bool *released)
{
	*released = false;
	for (size_t i = 0; i < ro->nheld; i++) {
		tn_rheld *h = &ro->held[i];
		if (h->reason == TN_ROSTER_HELD_PENDING)
			continue;
		if (pin_check(ro, &h->d, h->id, false) != TN_ROSTER_ACCEPTED)
			continue;
		tn_rheld t = *h;
		memmove(h, h + 1, (ro->nheld - i - 1) * sizeof *h);
		ro->nheld--;
		if (admit(ro, t.bytes, t.len, t.id, false) == TN_ROSTER_R_NOMEM ||
		    release_pending(ro) == TN_ROSTER_R_NOMEM)
			return TN_ERR_NOMEM;
		*released = true;
		i = (size_t)-1; /* the hold changed under us: rescan */
	}
	size_t before = ro->nrecs;
	if (release_chains(ro) == TN_ROSTER_R_NOMEM)
		return TN_ERR_NOMEM;
	*released = *released || ro->nrecs != before;
	return TN_OK;
}

tn_err tn_roster_update(tn_roster *ro)
{
	if (!ro)
		return TN_ERR_INVAL;
	/* Each round either admits a held record or ends: the hold is
	 * bounded, so this terminates. */
	for (;;) {
		if (ro->dirty) {
			tn_err rc = tn_roster_fold(ro);
			if (rc)
				return rc;
		}
		bool released;
		tn_err rc = recheck_pinned(ro, &released);
		if (rc)
			return rc;
		if (!released && !ro->dirty)
			return TN_OK;
	}
}

/* ---- queries ---------------------------------------------------------------- */

uint64_t tn_roster_counter(const tn_roster *ro, tn_roster_reason reason)
{
	if (!ro || (int)reason < 0 || reason >= TN_ROSTER_REASON_COUNT)
		return 0;
	return ro->counters[reason];
}

uint64_t tn_roster_held_evicted(const tn_roster *ro)
{
	return ro ? ro->evicted : 0;
}

tn_err tn_roster_last_dec_err(const tn_roster *ro)
{
	return ro ? ro->last_dec : TN_ERR_INVAL;
}

size_t tn_roster_held_count(const tn_roster *ro)
{
	return ro ? ro->nheld : 0;
}

const uint8_t *tn_roster_network_id(const tn_roster *ro)
{
	return ro->nid;
}

tn_err tn_roster_state_hash(tn_roster *ro, uint8_t out[TN_HASH])
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	memcpy(out, ro->state_hash, TN_HASH);
	return TN_OK;
}

static void member_out(const tn_roster *ro, const tn_rmember *m, tn_roster_member *o)
{
	const tn_rrec *a = &ro->recs[m->admit_ix];
	memset(o, 0, sizeof *o);
	memcpy(o->pk.b, m->pk, TN_PUBKEY);
	if (a->d.type == TN_ROSTER_GENESIS) {
		memcpy(o->link.b, a->d.body.genesis.founder_link_pk, TN_PUBKEY);
		o->name = a->d.body.genesis.founder_name;
	} else {
		memcpy(o->link.b, a->d.body.add.subject_link_pk, TN_PUBKEY);
		o->name = a->d.body.add.name;
	}
	o->role = m->role;
	o->active = m->active;
	o->has_current_secrets = m->has_current;
	memcpy(o->admitted_by, a->id, TN_HASH);
}

size_t tn_roster_member_ix(const tn_roster *ro, const uint8_t pk[TN_PUBKEY])
{
	size_t lo = 0, hi = ro->nmems;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ro->mems[mid].pk, pk, TN_PUBKEY);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ro->nmems;
}

static const tn_rmember *mem_find(const tn_roster *ro, const uint8_t pk[TN_PUBKEY])
{
	size_t i = tn_roster_member_ix(ro, pk);
	return i < ro->nmems ? &ro->mems[i] : NULL;
}

size_t tn_roster_member_count(tn_roster *ro)
{
	return tn_roster_update(ro) ? 0 : ro->nmems;
}

tn_err tn_roster_member_at(tn_roster *ro, size_t i, tn_roster_member *m)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	if (i >= ro->nmems)
		return TN_ERR_NOTFOUND;
	member_out(ro, &ro->mems[i], m);
	return TN_OK;
}

tn_err tn_roster_member_by_pk(tn_roster *ro, const tn_pubkey *pk, tn_roster_member *m)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	const tn_rmember *x = mem_find(ro, pk->b);
	if (!x)
		return TN_ERR_NOTFOUND;
	member_out(ro, x, m);
	return TN_OK;
}

tn_err tn_roster_member_by_link(tn_roster *ro, const tn_linkpub *link, tn_roster_member *m)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	bool found = false;
	for (size_t i = 0; i < ro->nmems; i++) {
		tn_roster_member t;
		member_out(ro, &ro->mems[i], &t);
		if (!tn_linkpub_eq(&t.link, link))
			continue;
		if (!found || (t.active && !m->active)) {
			*m = t;
			found = true;
		}
	}
	return found ? TN_OK : TN_ERR_NOTFOUND;
}

tn_err tn_roster_role_of(tn_roster *ro, const tn_pubkey *pk, uint8_t *role)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	const tn_rmember *x = mem_find(ro, pk->b);
	if (!x || !x->active)
		return TN_ERR_NOTFOUND;
	*role = x->role;
	return TN_OK;
}

tn_ssize tn_roster_endpoints(tn_roster *ro, const tn_pubkey *pk, uint64_t now_ms, tn_view *out,
                             size_t max)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	const tn_rmember *x = mem_find(ro, pk->b);
	if (!x || !x->active)
		return TN_ERR_NOTFOUND;
	if (x->endpoint_ix == RIX_NONE)
		return 0;
	const tn_roster_endpoint *e = &ro->recs[x->endpoint_ix].d.body.endpoint;
	if (now_ms >= e->expires_ms)
		return 0;
	tn_iter it;
	tn_view v;
	size_t n = 0;
	tn_iter_init(&it, &e->list);
	while (n < max && tn_endpoint_next(&it, &v) == TN_OK)
		out[n++] = v;
	return (tn_ssize)n;
}

void tn_roster_epoch_wipe(tn_roster_epoch *e)
{
	sodium_memzero(e, sizeof *e);
}

tn_err tn_roster_current_epoch(tn_roster *ro, tn_roster_epoch *out)
{
	memset(out, 0, sizeof *out);
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	out->epoch = ro->cur_epoch;
	out->started_ms = ro->cur_start;
	out->count = ro->ncur;
	memcpy(out->keys, ro->cur_keys, ro->ncur * sizeof *out->keys);
	return TN_OK;
}

tn_err tn_roster_previous_epoch(tn_roster *ro, uint64_t now_ms, uint64_t grace_ms,
                                tn_roster_epoch *out)
{
	memset(out, 0, sizeof *out);
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	if (!ro->has_prev)
		return TN_ERR_NOTFOUND;
	/* The window runs from the start of the current epoch (and never
	 * closes if that sum overflows). */
	if (grace_ms <= UINT64_MAX - ro->cur_start && now_ms >= ro->cur_start + grace_ms)
		return TN_ERR_NOTFOUND;
	out->epoch = ro->prev_epoch;
	out->started_ms = ro->prev_start;
	out->count = ro->nprev;
	memcpy(out->keys, ro->prev_keys, ro->nprev * sizeof *out->keys);
	return TN_OK;
}

size_t tn_roster_missing_count(tn_roster *ro)
{
	return tn_roster_update(ro) ? 0 : ro->nmissing;
}

tn_err tn_roster_missing_at(tn_roster *ro, size_t i, tn_pubkey *pk)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	if (i >= ro->nmissing)
		return TN_ERR_NOTFOUND;
	memcpy(pk->b, ro->mems[ro->missing[i]].pk, TN_PUBKEY);
	return TN_OK;
}

size_t tn_roster_audit_count(tn_roster *ro)
{
	return tn_roster_update(ro) ? 0 : ro->nrecs;
}

tn_err tn_roster_audit_at(tn_roster *ro, size_t i, tn_roster_audit *a)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	if (i >= ro->nrecs)
		return TN_ERR_NOTFOUND;
	const tn_rrec *r = &ro->recs[ro->audit[i]];
	memset(a, 0, sizeof *a);
	memcpy(a->id, r->id, TN_HASH);
	a->type = r->d.type;
	memcpy(a->issuer.b, r->d.issuer, TN_PUBKEY);
	a->iseq = r->d.iseq;
	a->created_ms = r->d.created_ms;
	a->status = r->status;
	switch (r->d.type) {
	case TN_ROSTER_ADD:
		a->has_subject = true;
		memcpy(a->subject.b, r->d.body.add.subject, TN_PUBKEY);
		a->role = r->d.body.add.role;
		a->epoch = r->d.body.add.epoch;
		break;
	case TN_ROSTER_REVOKE:
		a->has_subject = true;
		memcpy(a->subject.b, r->d.body.revoke.subject, TN_PUBKEY);
		a->pin_seq = r->d.body.revoke.pin.pin_seq;
		break;
	case TN_ROSTER_ROLE:
		a->has_subject = true;
		memcpy(a->subject.b, r->d.body.role.subject, TN_PUBKEY);
		a->role = r->d.body.role.role;
		a->pin_seq = r->d.body.role.pin.pin_seq;
		break;
	case TN_ROSTER_REKEY: a->epoch = r->d.body.rekey.epoch; break;
	default: break;
	}
	return TN_OK;
}

size_t tn_roster_conflict_count(tn_roster *ro)
{
	return tn_roster_update(ro) ? 0 : ro->nconf;
}

tn_err tn_roster_conflict_at(tn_roster *ro, size_t i, tn_roster_conflict *c)
{
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	if (i >= ro->nconf)
		return TN_ERR_NOTFOUND;
	*c = ro->conf[i];
	return TN_OK;
}

size_t tn_roster_record_count(const tn_roster *ro)
{
	return ro ? ro->nrecs : 0;
}

tn_err tn_roster_record_at(const tn_roster *ro, size_t i, tn_view *bytes)
{
	if (!ro || i >= ro->nrecs)
		return TN_ERR_NOTFOUND;
	bytes->p = ro->recs[i].bytes;
	bytes->len = ro->recs[i].len;
	return TN_OK;
}

tn_err tn_roster_record_by_id(const tn_roster *ro, const uint8_t id[TN_HASH], tn_view *bytes)
{
	uint32_t ix = tn_roster_find(ro, id);
	if (ix == RIX_NONE)
		return TN_ERR_NOTFOUND;
	return tn_roster_record_at(ro, ix, bytes);
}

tn_err tn_roster_chain_head(const tn_roster *ro, const tn_pubkey *pk, uint64_t *iseq,
                            uint8_t id[TN_HASH])
{
	uint32_t best = RIX_NONE;
	for (size_t i = 0; i < ro->nrecs; i++) {
		const tn_rrec *r = &ro->recs[i];
		if (memcmp(r->d.issuer, pk->b, TN_PUBKEY) != 0)
			continue;
		if (best == RIX_NONE || r->d.iseq > ro->recs[best].d.iseq ||
		    (r->d.iseq == ro->recs[best].d.iseq &&
		     memcmp(r->id, ro->recs[best].id, TN_HASH) < 0))
			best = (uint32_t)i;
	}
	if (best == RIX_NONE)
		return TN_ERR_NOTFOUND;
	*iseq = ro->recs[best].d.iseq;
	memcpy(id, ro->recs[best].id, TN_HASH);
	return TN_OK;
}
