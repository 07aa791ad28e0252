/* Making roster records as this node (cfg.self): sealing epoch secrets,
 * filling iseq/prev/auth from self's own chain, signing with the roster
 * domain. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster_priv.h"

/* crypto_box_seal, built from the caller's randomness: libsodium's own
 * crypto_box_seal draws its ephemeral key from the OS RNG, which the
 * protocol library may not call (sans-I/O). Same construction, so
 * crypto_box_seal_open opens it: epk from a 32-byte seed, nonce =
 * BLAKE2b-192(epk || pk), crypto_box_easy(m) under (pk, esk). */
static tn_err seal_to(const tn_rand *rand, const uint8_t pk[TN_PUBKEY], const tn_epoch_keys *k,
                      uint8_t out[TN_SEALED_SECRETS])
{
	uint8_t seed[crypto_box_SEEDBYTES], esk[crypto_box_SECRETKEYBYTES];
	uint8_t epk[crypto_box_PUBLICKEYBYTES], nonce[crypto_box_NONCEBYTES];
	crypto_generichash_state st;
	tn_err rc = TN_OK;
	tn_rand_bytes(rand, seed, sizeof seed);
	if (crypto_box_seed_keypair(epk, esk, seed) != 0) {
		rc = TN_ERR_INTERNAL;
		goto out;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof nonce);
	crypto_generichash_update(&st, epk, sizeof epk);
	crypto_generichash_update(&st, pk, TN_PUBKEY);
	crypto_generichash_final(&st, nonce, sizeof nonce);
	memcpy(out, epk, sizeof epk);
	/* Fails for a low-order recipient key. */
	if (crypto_box_easy(out + sizeof epk, (const uint8_t *)k, sizeof *k, nonce, pk, esk) != 0)
		rc = TN_ERR_INVAL;
out:
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(esk, sizeof esk);
	return rc;
}

static tn_ssize sign_encode(const tn_identity *id, tn_roster_rec *r, uint8_t *out, size_t cap)
{
	uint8_t *msg = malloc(TN_ROSTER_SIG_DOMAIN_LEN + TN_ROSTER_RECORD_MAX);
	if (!msg)
		return TN_ERR_NOMEM;
	memcpy(msg, TN_ROSTER_SIG_DOMAIN, TN_ROSTER_SIG_DOMAIN_LEN);
	tn_ssize n =
	        tn_roster_encode_signed(r, msg + TN_ROSTER_SIG_DOMAIN_LEN, TN_ROSTER_RECORD_MAX);
	if (n >= 0) {
		tn_sig sig;
		tn_err rc = tn_identity_sign(id, msg, TN_ROSTER_SIG_DOMAIN_LEN + (size_t)n, &sig);
		if (rc)
			n = rc;
		else {
			memcpy(r->signature, sig.b, TN_SIG);
			n = tn_roster_encode(r, out, cap);
		}
	}
	free(msg);
	return n;
}

tn_ssize tn_roster_make_genesis(const tn_identity *founder, const tn_rand *rand,
                                tn_view network_name, tn_view founder_name, uint64_t created_ms,
                                uint8_t *out, size_t cap)
{
	if (!founder || !rand || !rand->fn)
		return TN_ERR_INVAL;
	tn_roster_rec r;
	tn_epoch_keys k;
	memset(&r, 0, sizeof r);
	r.type = TN_ROSTER_GENESIS;
	r.iseq = 1;
	memcpy(r.issuer, tn_identity_pubkey(founder)->b, TN_PUBKEY);
	r.created_ms = created_ms;
	r.body.genesis.network_name = network_name;
	r.body.genesis.founder_name = founder_name;
	memcpy(r.body.genesis.founder_link_pk, tn_identity_linkpub(founder)->b, TN_PUBKEY);
	tn_rand_bytes(rand, &k, sizeof k);
	tn_ssize n = seal_to(rand, r.body.genesis.founder_link_pk, &k, r.body.genesis.sealed);
	sodium_memzero(&k, sizeof k);
	if (n == TN_OK)
		n = sign_encode(founder, &r, out, cap);
	return n;
}

/* ---- self's standing and chain ------------------------------------------------ */

static const tn_rmember *find_member(const tn_roster *ro, const uint8_t pk[TN_PUBKEY])
{
	for (size_t i = 0; i < ro->nmems; i++)
		if (memcmp(ro->mems[i].pk, pk, TN_PUBKEY) == 0)
			return &ro->mems[i];
	return NULL;
}

/* The lowest-id valid record granting self the coordinator role. */
static uint32_t coord_grant(const tn_roster *ro, const uint8_t self[TN_PUBKEY])
{
	if (memcmp(self, ro->founder, TN_PUBKEY) == 0)
		return 0;
	uint32_t best = RIX_NONE;
	for (uint32_t x = 1; x < ro->nrecs; x++) {
		const tn_rrec *r = &ro->recs[x];
		bool g = r->valid && ((r->d.type == TN_ROSTER_ADD &&
		                       r->d.body.add.role == TN_ROLE_COORDINATOR &&
		                       memcmp(r->d.body.add.subject, self, TN_PUBKEY) == 0) ||
		                      (r->d.type == TN_ROSTER_ROLE &&
		                       r->d.body.role.role == TN_ROLE_COORDINATOR &&
		                       memcmp(r->d.body.role.subject, self, TN_PUBKEY) == 0));
		if (g && (best == RIX_NONE || memcmp(r->id, ro->recs[best].id, TN_HASH) < 0))
			best = x;
	}
	return best;
}

/* Fill network id, issuer, iseq, prev and auth for a record by self. */
static tn_err from_self(tn_roster *ro, tn_roster_rec *r, uint8_t type)
{
	if (!ro || !ro->cfg.self)
		return TN_ERR_INVAL;
	tn_err rc = tn_roster_update(ro);
	if (rc)
		return rc;
	const uint8_t *self = tn_identity_pubkey(ro->cfg.self)->b;
	const tn_rmember *m = find_member(ro, self);
	if (!m || !m->active)
		return TN_ERR_STATE;
	uint32_t auth = m->admit_ix;
	if (tn_roster_coord_type(type)) {
		if (m->role != TN_ROLE_COORDINATOR || (auth = coord_grant(ro, self)) == RIX_NONE)
			return TN_ERR_STATE;
	}
	/* Self's own head; a fork in our own chain means our key is in two
	 * hands: refuse to extend either branch. */
	uint32_t head = RIX_NONE;
	for (uint32_t x = 0; x < ro->nrecs; x++) {
		const tn_rrec *o = &ro->recs[x];
		if (memcmp(o->d.issuer, self, TN_PUBKEY) != 0)
			continue;
		if (!o->base_ok)
			return TN_ERR_STATE;
		if (head == RIX_NONE || o->d.iseq > ro->recs[head].d.iseq)
			head = x;
	}
	memset(r, 0, sizeof *r);
	r->type = type;
	memcpy(r->network_id, ro->nid, TN_NETWORK_ID);
	memcpy(r->issuer, self, TN_PUBKEY);
	r->iseq = head == RIX_NONE ? 1 : ro->recs[head].d.iseq + 1;
	if (head != RIX_NONE)
		memcpy(r->prev, ro->recs[head].id, TN_HASH);
	memcpy(r->auth, ro->recs[auth].id, TN_HASH);
	return TN_OK;
}

/* The subject's chain head as this node sees it: the pin a revocation or
 * demotion made here carries. Nothing seen: pin 0, nil. */
static void pin_subject(const tn_roster *ro, const uint8_t subject[TN_PUBKEY], tn_roster_pin *pin)
{
	uint32_t best = RIX_NONE;
	for (uint32_t x = 0; x < ro->nrecs; x++) {
		const tn_rrec *o = &ro->recs[x];
		if (!o->fork_ok || memcmp(o->d.issuer, subject, TN_PUBKEY) != 0)
			continue;
		if (best == RIX_NONE || o->d.iseq > ro->recs[best].d.iseq ||
		    (o->d.iseq == ro->recs[best].d.iseq &&
		     memcmp(o->id, ro->recs[best].id, TN_HASH) < 0))
			best = x;
	}
	memset(pin, 0, sizeof *pin);
	if (best == RIX_NONE)
		return;
	pin->pin_seq = ro->recs[best].d.iseq;
	pin->has_pin_head = true;
	memcpy(pin->pin_head, ro->recs[best].id, TN_HASH);
}

static const uint8_t *link_of(const tn_roster *ro, const tn_rmember *m)
{
	const tn_rrec *a = &ro->recs[m->admit_ix];
	return a->d.type == TN_ROSTER_GENESIS ? a->d.body.genesis.founder_link_pk
	                                      : a->d.body.add.subject_link_pk;
}

/* ---- the records ------------------------------------------------------------------- */

tn_ssize tn_roster_make_add(tn_roster *ro, const tn_rand *rand, const tn_pubkey *subject,
                            const tn_linkpub *link, tn_view name, uint8_t role, uint64_t created_ms,
                            uint8_t *out, size_t cap)
{
	if (!rand || !rand->fn || !subject || !link || role > TN_ROLE_COORDINATOR)
		return TN_ERR_INVAL;
	tn_roster_rec r;
	tn_err rc = from_self(ro, &r, TN_ROSTER_ADD);
	if (rc)
		return rc;
	const tn_rmember *m = find_member(ro, subject->b);
	if (m)
		return m->active ? TN_ERR_EXISTS : TN_ERR_STATE; /* revocation is permanent */
	for (size_t i = 0; i < ro->npins; i++)
		if (!ro->pins[i].demote && memcmp(ro->pins[i].subject, subject->b, TN_PUBKEY) == 0)
			return TN_ERR_STATE;
	if (ro->nsubj + 1 >= ro->cfg.max_members)
		return TN_ERR_LIMIT;
	if (ro->ncur == 0)
		return TN_ERR_STATE; /* we hold no current secrets to pass on */
	memcpy(r.body.add.subject, subject->b, TN_PUBKEY);
	memcpy(r.body.add.subject_link_pk, link->b, TN_PUBKEY);
	r.body.add.name = name;
	r.body.add.role = role;
	r.body.add.epoch = ro->cur_epoch;
	r.created_ms = created_ms;
	if ((rc = seal_to(rand, link->b, &ro->cur_keys[0], r.body.add.sealed)))
		return rc;
	return sign_encode(ro->cfg.self, &r, out, cap);
}

tn_ssize tn_roster_make_revoke(tn_roster *ro, const tn_pubkey *subject, tn_view reason,
                               uint64_t created_ms, uint8_t *out, size_t cap)
{
	if (!subject)
		return TN_ERR_INVAL;
	tn_roster_rec r;
	tn_err rc = from_self(ro, &r, TN_ROSTER_REVOKE);
	if (rc)
		return rc;
	memcpy(r.body.revoke.subject, subject->b, TN_PUBKEY);
	r.body.revoke.reason = reason;
	pin_subject(ro, subject->b, &r.body.revoke.pin);
	r.created_ms = created_ms;
	return sign_encode(ro->cfg.self, &r, out, cap);
}

tn_ssize tn_roster_make_role(tn_roster *ro, const tn_pubkey *subject, uint8_t role,
                             uint64_t created_ms, uint8_t *out, size_t cap)
{
	if (!subject || role > TN_ROLE_COORDINATOR)
		return TN_ERR_INVAL;
	tn_roster_rec r;
	tn_err rc = from_self(ro, &r, TN_ROSTER_ROLE);
	if (rc)
		return rc;
	const tn_rmember *m = find_member(ro, subject->b);
	if (!m || !m->active)
		return TN_ERR_STATE;
	memcpy(r.body.role.subject, subject->b, TN_PUBKEY);
	r.body.role.role = role;
	if (role == TN_ROLE_MEMBER)
		pin_subject(ro, subject->b, &r.body.role.pin);
	r.created_ms = created_ms;
	return sign_encode(ro->cfg.self, &r, out, cap);
}

tn_ssize tn_roster_make_endpoint(tn_roster *ro, const tn_view *endpoints, size_t n,
                                 uint64_t expires_ms, uint64_t created_ms, uint8_t *out, size_t cap)
{
	if (!endpoints || n == 0 || n > TN_ENDPOINTS_MAX)
		return TN_ERR_INVAL;
	tn_roster_rec r;
	tn_err rc = from_self(ro, &r, TN_ROSTER_ENDPOINT);
	if (rc)
		return rc;
	r.body.endpoint.expires_ms = expires_ms;
	r.body.endpoint.endpoints = endpoints;
	r.body.endpoint.count = n;
	r.created_ms = created_ms;
	return sign_encode(ro->cfg.self, &r, out, cap);
}

static size_t active_count(const tn_roster *ro)
{
	size_t n = 0;
	for (size_t i = 0; i < ro->nmems; i++)
		n += ro->mems[i].active;
	return n;
}

tn_err tn_roster_rekey_begin(tn_roster *ro, const tn_rand *rand, tn_roster_rekey_plan *plan)
{
	if (!plan || !rand || !rand->fn)
		return TN_ERR_INVAL;
	memset(plan, 0, sizeof *plan);
	tn_roster_rec r;
	tn_err rc = from_self(ro, &r, TN_ROSTER_REKEY);
	if (rc)
		return rc;
	if (ro->cur_epoch == UINT32_MAX)
		return TN_ERR_LIMIT;
	plan->epoch = ro->cur_epoch + 1;
	plan->members = active_count(ro);
	plan->parts = (uint16_t)((plan->members + TN_REKEY_PER_PART - 1) / TN_REKEY_PER_PART);
	tn_rand_bytes(rand, &plan->keys, sizeof plan->keys);
	return TN_OK;
}

void tn_roster_rekey_plan_wipe(tn_roster_rekey_plan *plan)
{
	if (plan)
		sodium_memzero(plan, sizeof *plan);
}

/* Seal keys to members[0..n) (indices into ro->mems) as one rekey part. */
static tn_ssize rekey_part(tn_roster *ro, const tn_rand *rand, tn_roster_rec *r,
                           const tn_epoch_keys *keys, const uint32_t *who, size_t n, uint8_t *out,
                           size_t cap)
{
	tn_rekey_entry *e = malloc(n * sizeof *e);
	if (!e)
		return TN_ERR_NOMEM;
	tn_ssize rc = TN_OK;
	for (size_t i = 0; i < n && rc == TN_OK; i++) {
		const tn_rmember *m = &ro->mems[who[i]];
		memcpy(e[i].member, m->pk, TN_PUBKEY);
		rc = seal_to(rand, link_of(ro, m), keys, e[i].sealed);
	}
	if (rc == TN_OK) {
		r->body.rekey.entries = e;
		r->body.rekey.count = n;
		rc = sign_encode(ro->cfg.self, r, out, cap);
	}
	free(e);
	return rc;
}

tn_ssize tn_roster_make_rekey_part(tn_roster *ro, const tn_rand *rand,
                                   const tn_roster_rekey_plan *plan, uint16_t part,
                                   uint64_t created_ms, uint8_t *out, size_t cap)
{
	if (!plan || !rand || !rand->fn || part >= plan->parts)
		return TN_ERR_INVAL;
	tn_roster_rec r;
	tn_err rc = from_self(ro, &r, TN_ROSTER_REKEY);
	if (rc)
		return rc;
	if (active_count(ro) != plan->members)
		return TN_ERR_STATE;
	uint32_t who[TN_REKEY_PER_PART];
	size_t n = 0, k = 0, from = (size_t)part * TN_REKEY_PER_PART;
	for (size_t i = 0; i < ro->nmems && n < TN_REKEY_PER_PART; i++) {
		if (!ro->mems[i].active)
			continue;
		if (k++ >= from)
			who[n++] = (uint32_t)i; /* mems are sorted: entries ascend */
	}
	r.body.rekey.epoch = plan->epoch;
	r.body.rekey.part = part;
	r.body.rekey.parts = plan->parts;
	r.created_ms = created_ms;
	return rekey_part(ro, rand, &r, &plan->keys, who, n, out, cap);
}

tn_ssize tn_roster_make_supplement(tn_roster *ro, const tn_rand *rand, uint64_t created_ms,
                                   uint8_t *out, size_t cap)
{
	if (!rand || !rand->fn)
		return TN_ERR_INVAL;
	tn_roster_rec r;
	tn_err rc = from_self(ro, &r, TN_ROSTER_REKEY);
	if (rc)
		return rc;
	if (ro->nmissing == 0)
		return TN_ERR_NOTFOUND;
	if (ro->ncur == 0)
		return TN_ERR_STATE;
	size_t n = ro->nmissing < TN_REKEY_PER_PART ? ro->nmissing : TN_REKEY_PER_PART;
	r.body.rekey.epoch = ro->cur_epoch;
	r.body.rekey.part = 0;
	r.body.rekey.parts = 1;
	r.created_ms = created_ms;
	return rekey_part(ro, rand, &r, &ro->cur_keys[0], ro->missing, n, out, cap);
}
