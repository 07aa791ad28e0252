/* The roster's per-record checks and fold on arbitrary records.
 *
 * Input: one mode byte, then records, each a 2-byte big-endian length and
 * that many bytes. Mode bit 0 clear: records go in as they are (decoder,
 * network, signature paths). Set: every record that decodes is rewritten
 * into one our fixed identities can sign - issuer one of four keys, our
 * network id, prev and auth pointing at records already accepted (chosen
 * by the bytes the fuzzer put there) - and re-signed, so the chain,
 * standing, pin and fold logic see deep, well-formed but hostile
 * histories: forks, mutual and self-defeating revocations, demotions,
 * concurrent rekeys.
 *
 * Checked: no crash, no leak, no sanitizer report; re-adding every
 * accepted record is a duplicate and leaves the state hash unchanged; the
 * accepted set fed to a fresh roster in reverse order gives the same
 * state hash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NKEYS = 4 };

typedef struct world {
	bool ready;
	tn_identity *id[NKEYS];
	uint8_t genesis[TN_ROSTER_RECORD_MAX];
	size_t glen;
	uint64_t ctr;
} world;

static world W;

static void rng_fn(void *ud, uint8_t *buf, size_t len)
{
	world *w = ud;
	uint8_t key[crypto_stream_chacha20_KEYBYTES] = {42};
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	memcpy(nonce, &w->ctr, sizeof nonce);
	w->ctr++;
	crypto_stream_chacha20(buf, len, nonce, key);
}

static void setup(void)
{
	if (W.ready)
		return;
	if (sodium_init() < 0)
		abort();
	tn_rand rand = {rng_fn, &W};
	for (int i = 0; i < NKEYS; i++)
		if (tn_identity_new(&W.id[i], &rand) != TN_OK)
			abort();
	tn_view name = {(const uint8_t *)"fuzz", 4};
	tn_ssize n = tn_roster_make_genesis(W.id[0], &rand, name, name, 1000, W.genesis,
	                                    sizeof W.genesis);
	if (n <= 0)
		abort();
	W.glen = (size_t)n;
	W.ready = true;
}

static tn_roster *fresh(void)
{
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.self = W.id[1];
	cfg.max_held = 16;
	tn_roster *ro;
	if (tn_roster_new(&ro, &cfg, W.genesis, W.glen) != TN_OK)
		abort();
	return ro;
}

static uint8_t buf[TN_ROSTER_SIG_DOMAIN_LEN + TN_ROSTER_RECORD_MAX];
static uint8_t rec[TN_ROSTER_RECORD_MAX];
static tn_rekey_entry entries[TN_REKEY_PER_PART];
static tn_view eps[TN_ENDPOINTS_MAX];

/* The last accepted record giving key k standing for a record of type t
 * (0, genesis, if none: right for the founder, wrong for the others). */
static size_t grant_for(const tn_roster *ro, int k, uint8_t t)
{
	const uint8_t *pk = tn_identity_pubkey(W.id[k])->b;
	size_t best = 0;
	for (size_t i = 1; i < tn_roster_record_count(ro); i++) {
		tn_view v;
		tn_roster_rec g;
		if (tn_roster_record_at(ro, i, &v) != TN_OK ||
		    tn_roster_decode(&g, v.p, v.len) != TN_OK)
			continue;
		bool add = g.type == TN_ROSTER_ADD &&
		           memcmp(g.body.add.subject, pk, TN_PUBKEY) == 0 &&
		           (t == TN_ROSTER_ENDPOINT || g.body.add.role == TN_ROLE_COORDINATOR);
		bool promo = t != TN_ROSTER_ENDPOINT && g.type == TN_ROSTER_ROLE &&
		             g.body.role.role == TN_ROLE_COORDINATOR &&
		             memcmp(g.body.role.subject, pk, TN_PUBKEY) == 0;
		if (add || promo)
			best = i;
	}
	return best;
}

/* Rewrite a decoded record as one of ours and sign it; 0 if it cannot be. */
static size_t resign(tn_roster *ro, tn_roster_rec *r)
{
	if (r->type == TN_ROSTER_GENESIS)
		return 0;
	int k = r->issuer[0] % NKEYS;
	memcpy(r->issuer, tn_identity_pubkey(W.id[k])->b, TN_PUBKEY);
	memcpy(r->network_id, tn_roster_network_id(ro), TN_NETWORK_ID);
	/* Subjects mostly become our own keys, so adds admit them and
	 * revocations and demotions hit coordinators who sign back. */
	uint8_t *subject = r->type == TN_ROSTER_ADD      ? r->body.add.subject
	                   : r->type == TN_ROSTER_REVOKE ? r->body.revoke.subject
	                   : r->type == TN_ROSTER_ROLE   ? r->body.role.subject
	                                                 : NULL;
	if (subject && subject[1] < 0xc0) {
		int j = subject[0] % NKEYS;
		memcpy(subject, tn_identity_pubkey(W.id[j])->b, TN_PUBKEY);
		if (r->type == TN_ROSTER_ADD)
			memcpy(r->body.add.subject_link_pk, tn_identity_linkpub(W.id[j])->b,
			       TN_PUBKEY);
	}
	size_t n = tn_roster_record_count(ro);
	tn_view v;
	/* auth: mostly a record that really grants the signer standing (so
	 * records get in and the fold has pins to settle), else any record
	 * (wrong ones exercise the standing check). */
	size_t a = r->auth[0] < 0xc0 ? grant_for(ro, k, r->type) : r->auth[0] % n;
	if (tn_roster_record_at(ro, a, &v) != TN_OK)
		return 0;
	tn_roster_record_id(v.p, v.len, r->auth);
	/* prev: mostly the signer's own head (a growing chain), sometimes any
	 * record (forks, chain errors), sometimes dangling (pending). */
	if (r->iseq > 1 && r->prev[0] < 0xf0) {
		uint64_t head;
		uint8_t hid[TN_HASH];
		if (r->prev[0] < 0xc0 &&
		    tn_roster_chain_head(ro, tn_identity_pubkey(W.id[k]), &head, hid) == TN_OK) {
			memcpy(r->prev, hid, TN_HASH);
			r->iseq = head + 1;
		} else {
			if (tn_roster_record_at(ro, r->prev[0] % n, &v) != TN_OK)
				return 0;
			tn_roster_record_id(v.p, v.len, r->prev);
			tn_roster_rec p;
			if (tn_roster_decode(&p, v.p, v.len) != TN_OK)
				return 0;
			r->iseq = p.iseq + 1;
		}
	}
	/* Pins mostly at the subject's head, so revocations are plausible. */
	tn_roster_pin *pin = r->type == TN_ROSTER_REVOKE ? &r->body.revoke.pin
	                     : r->type == TN_ROSTER_ROLE && r->body.role.role == TN_ROLE_MEMBER
	                             ? &r->body.role.pin
	                             : NULL;
	if (pin && subject && pin->pin_seq % 4 != 0) {
		tn_pubkey spk;
		memcpy(spk.b, subject, TN_PUBKEY);
		uint64_t head;
		if (tn_roster_chain_head(ro, &spk, &head, pin->pin_head) == TN_OK) {
			pin->pin_seq = pin->pin_seq % 4 == 1 || head < 2 ? head : head - 1;
			pin->has_pin_head = true;
			if (pin->pin_seq != head) {
				tn_view hv;
				tn_roster_rec hr;
				if (tn_roster_record_by_id(ro, pin->pin_head, &hv) != TN_OK ||
				    tn_roster_decode(&hr, hv.p, hv.len) != TN_OK)
					return 0;
				memcpy(pin->pin_head, hr.prev, TN_HASH);
			}
		}
	}
	tn_iter it;
	size_t i = 0;
	if (r->type == TN_ROSTER_REKEY) {
		tn_iter_init(&it, &r->body.rekey.list);
		while (i < TN_REKEY_PER_PART && tn_rekey_next(&it, &entries[i]) == TN_OK)
			i++;
		r->body.rekey.entries = entries;
	} else if (r->type == TN_ROSTER_ENDPOINT) {
		tn_iter_init(&it, &r->body.endpoint.list);
		while (i < TN_ENDPOINTS_MAX && tn_endpoint_next(&it, &eps[i]) == TN_OK)
			i++;
		r->body.endpoint.endpoints = eps;
	}
	memcpy(buf, TN_ROSTER_SIG_DOMAIN, TN_ROSTER_SIG_DOMAIN_LEN);
	tn_ssize s =
	        tn_roster_encode_signed(r, buf + TN_ROSTER_SIG_DOMAIN_LEN, TN_ROSTER_RECORD_MAX);
	if (s < 0)
		return 0;
	tn_sig sig;
	if (tn_identity_sign(W.id[k], buf, TN_ROSTER_SIG_DOMAIN_LEN + (size_t)s, &sig) != TN_OK)
		abort();
	memcpy(r->signature, sig.b, TN_SIG);
	s = tn_roster_encode(r, rec, sizeof rec);
	return s > 0 ? (size_t)s : 0;
}

static void state(tn_roster *ro, uint8_t h[TN_HASH])
{
	if (tn_roster_state_hash(ro, h) != TN_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	bool resigning = data[0] & 1;
	data++;
	size--;
	tn_roster *ro = fresh();
	int queries = 0;
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		const uint8_t *p = data;
		size_t n = len;
		data += len;
		size -= len;
		tn_roster_rec r;
		if (resigning) {
			if (tn_roster_decode(&r, p, n) != TN_OK || !(n = resign(ro, &r)))
				continue;
			p = rec;
		}
		tn_roster_reason why = tn_roster_add_record(ro, p, n);
		if ((int)why < 0 || why >= TN_ROSTER_REASON_COUNT || why == TN_ROSTER_R_NOMEM)
			abort();
		/* Fold now and then, so later records meet known pins. */
		if ((n & 3) == 0 && queries++ < 64) {
			uint8_t h[TN_HASH];
			state(ro, h);
		}
	}
	uint8_t h1[TN_HASH], h2[TN_HASH], h3[TN_HASH];
	state(ro, h1);
	/* Exercise every query. */
	tn_roster_epoch e;
	if (tn_roster_current_epoch(ro, &e) != TN_OK)
		abort();
	tn_err prc = tn_roster_previous_epoch(ro, 5000, 1000, &e);
	if (prc != TN_OK && prc != TN_ERR_NOTFOUND)
		abort();
	tn_roster_epoch_wipe(&e);
	for (size_t i = 0; i < tn_roster_member_count(ro); i++) {
		tn_roster_member m;
		tn_view v[TN_ENDPOINTS_MAX];
		uint8_t role;
		if (tn_roster_member_at(ro, i, &m) != TN_OK)
			abort();
		tn_err rrc = tn_roster_role_of(ro, &m.pk, &role);
		tn_ssize nep = tn_roster_endpoints(ro, &m.pk, 2000, v, TN_ENDPOINTS_MAX);
		/* Found iff active, for both. */
		if ((rrc == TN_OK) != m.active || (nep >= 0) != m.active)
			abort();
		if (tn_roster_member_by_link(ro, &m.link, &m) != TN_OK)
			abort();
	}
	for (size_t i = 0; i < tn_roster_audit_count(ro); i++) {
		tn_roster_audit a;
		if (tn_roster_audit_at(ro, i, &a) != TN_OK)
			abort();
	}
	for (size_t i = 0; i < tn_roster_missing_count(ro); i++) {
		tn_pubkey pk;
		if (tn_roster_missing_at(ro, i, &pk) != TN_OK)
			abort();
	}
	/* Re-insertion changes nothing. */
	size_t n = tn_roster_record_count(ro);
	for (size_t i = 0; i < n; i++) {
		tn_view v;
		if (tn_roster_record_at(ro, i, &v) != TN_OK ||
		    tn_roster_add_record(ro, v.p, v.len) != TN_ROSTER_R_DUPLICATE)
			abort();
	}
	state(ro, h2);
	if (memcmp(h1, h2, TN_HASH) != 0)
		abort();
	/* The same records in reverse order: the same state. */
	tn_roster *rev = fresh();
	for (size_t i = n; i-- > 1;) {
		tn_view v;
		if (tn_roster_record_at(ro, i, &v) != TN_OK)
			abort();
		(void)tn_roster_add_record(rev, v.p, v.len);
	}
	state(rev, h3);
	if (memcmp(h1, h3, TN_HASH) != 0)
		abort();
	tn_roster_del(rev);
	tn_roster_del(ro);
	return 0;
}
