/* Receipts (DESIGN §7, docs/node.md "Receipts"): sign one for each alert
 * we store, send it back along the alert's reverse path in per-link
 * batches, relay others' the same way, fall back to flooding with a hop
 * limit when the reverse link is gone, and count delivery for our own
 * alerts. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node_priv.h"

/* ---- dedupe of (alert, receiver, signature), bounded ------------------------
 *
 * The signature is part of the key: relays forward receipts along the
 * reverse path without verifying them (only the author and fallback floods
 * verify), so a forged copy is recorded too, and it must not shadow the
 * real receipt. A receipt signed again (another stored_ms) is another key:
 * relayed once more, counted once at the author. */

static uint64_t rkey(const tn_node *n, const uint8_t id[TN_ALERT_ID], const uint8_t rcv[TN_PUBKEY],
                     const uint8_t sig[TN_SIG])
{
	uint8_t in[TN_ALERT_ID + TN_PUBKEY + TN_SIG], out[crypto_shorthash_BYTES];
	memcpy(in, id, TN_ALERT_ID);
	memcpy(in + TN_ALERT_ID, rcv, TN_PUBKEY);
	memcpy(in + TN_ALERT_ID + TN_PUBKEY, sig, TN_SIG);
	crypto_shorthash(out, in, sizeof in, n->hashkey);
	uint64_t v = 0;
	for (size_t i = 0; i < sizeof out; i++)
		v = v << 8 | out[i];
	return v | 1; /* 0 marks an empty way */
}

static bool rseen_has(const tn_node *n, uint64_t k)
{
	if (!n->rseen)
		return false;
	const uint64_t *set = n->rseen[k % n->rseen_sets];
	for (size_t i = 0; i < NODE_RSEEN_WAYS; i++)
		if (set[i] == k)
			return true;
	return false;
}

static void rseen_put(uint64_t (*sets)[NODE_RSEEN_WAYS], uint8_t *next, size_t nsets, uint64_t k)
{
	size_t s = k % nsets;
	sets[s][next[s]] = k;
	next[s] = (uint8_t)((next[s] + 1) % NODE_RSEEN_WAYS);
}

/* Start at 64 sets and double (rehashing what is kept) each time as many
 * keys were added as the table has ways, up to NODE_RSEEN_SETS: a node sees
 * a few receipts per alert, and the full table (128 KiB) in every node was
 * most of the simulator's memory. No memory to grow: keep the smaller one. */
static void rseen_grow(tn_node *n)
{
	size_t ns = n->rseen ? 2 * n->rseen_sets : 64;
	uint64_t (*sets)[NODE_RSEEN_WAYS] = calloc(ns, sizeof *sets);
	uint8_t *next = calloc(ns, 1);
	if (!sets || !next) {
		free(sets);
		free(next);
		return;
	}
	for (size_t s = 0; s < n->rseen_sets; s++)
		for (size_t w = 0; w < NODE_RSEEN_WAYS; w++) {
			/* oldest first, so the newest survive a crowded set */
			uint64_t k = n->rseen[s][(n->rseen_next[s] + w) % NODE_RSEEN_WAYS];
			if (k)
				rseen_put(sets, next, ns, k);
		}
	free(n->rseen);
	free(n->rseen_next);
	n->rseen = sets;
	n->rseen_next = next;
	n->rseen_sets = ns;
}

/* Eviction only forgets: a receipt seen again after eviction is relayed
 * once more, and the author's per-alert list still counts it once. */
static void rseen_add(tn_node *n, uint64_t k)
{
	if (!n->rseen ||
	    (n->rseen_sets < NODE_RSEEN_SETS && ++n->rseen_adds >= n->rseen_sets * NODE_RSEEN_WAYS)) {
		n->rseen_adds = 0;
		rseen_grow(n);
		if (!n->rseen)
			return; /* no memory: remember nothing (relay duplicates once more) */
	}
	rseen_put(n->rseen, n->rseen_next, n->rseen_sets, k);
}

void tn_node_rseen_free(tn_node *n)
{
	free(n->rseen);
	free(n->rseen_next);
	n->rseen = NULL;
	n->rseen_next = NULL;
	n->rseen_sets = 0;
}

/* ---- signatures under a context (receipts, receipts-wanted notes) ---------- */

enum { CTX_SIGNED_MAX = TN_RWANT_SIG_CONTEXT_LEN + TN_RWANT_MAX };
_Static_assert(TN_RECEIPT_SIG_CONTEXT_LEN + TN_RECEIPT_MAX <= CTX_SIGNED_MAX, "receipt fits");

/* Is sig pk's signature over ctx || part? */
static bool ctx_sig_ok(const tn_pubkey *pk, const char *ctx, size_t ctx_len, const tn_view *part,
                       const uint8_t sig[TN_SIG])
{
	uint8_t msg[CTX_SIGNED_MAX];
	if (part->len > sizeof msg - ctx_len)
		return false;
	memcpy(msg, ctx, ctx_len);
	memcpy(msg + ctx_len, part->p, part->len);
	tn_sig s;
	memcpy(s.b, sig, TN_SIG);
	return tn_sig_verify(pk, msg, ctx_len + part->len, &s) == TN_OK;
}

/* Our signature over ctx || the record put() encodes (its signed range):
 * the record is encoded into msg after the context. */
static bool ctx_sign(const tn_node *n, const char *ctx, size_t ctx_len,
                     tn_ssize (*put)(const void *obj, uint8_t *out, size_t cap), const void *obj,
                     uint8_t sig_out[TN_SIG])
{
	uint8_t msg[CTX_SIGNED_MAX];
	memcpy(msg, ctx, ctx_len);
	tn_ssize sl = put(obj, msg + ctx_len, sizeof msg - ctx_len);
	tn_sig sig;
	if (sl <= 0 || tn_identity_sign(n->cfg.identity, msg, ctx_len + (size_t)sl, &sig) != TN_OK)
		return false;
	memcpy(sig_out, sig.b, TN_SIG);
	return true;
}

static tn_ssize put_receipt_signed(const void *obj, uint8_t *out, size_t cap)
{
	return tn_receipt_encode_signed(obj, out, cap);
}

static tn_ssize put_rwant_signed(const void *obj, uint8_t *out, size_t cap)
{
	return tn_rwant_encode_signed(obj, out, cap);
}

/* ---- batches ----------------------------------------------------------------- */

void tn_node_receipts_flush(tn_node *n, node_link *l, tn_time now)
{
	if (!l->nr || l->state != NL_UP)
		return;
	tn_view vs[TN_RECEIPTS_PER_MSG];
	for (size_t i = 0; i < l->nr; i++)
		vs[i] = (tn_view){l->rbuf + i * TN_RECEIPT_MAX, l->rlen[i]};
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_RECEIPTS;
	m.receipts = vs;
	m.receipt_hops = l->rhops;
	m.count = l->nr;
	l->nr = 0;
	l->rflush_at = TN_TIME_NEVER;
	/* On failure the link is closing: tn_node_receipts_link_gone sends
	 * our own receipts again elsewhere. */
	if (tn_node_send_msg(n, l, &m, false, now) == TN_OK)
		l->own_out = l->own_n;
}

/* Remember that our receipt for a is in l's batch. */
static bool own_add(tn_node *n, node_link *l, alert_entry *a)
{
	if (l->own_n == l->own_cap) {
		/* Bounded by the index: a is at most once per link (rpend). */
		size_t cap = l->own_cap ? 2 * l->own_cap : 16;
		if (cap > n->cfg.alerts_max)
			cap = n->cfg.alerts_max;
		if (cap <= l->own_n)
			return false;
		qref *q = realloc(l->own, cap * sizeof *q);
		if (!q)
			return false;
		l->own = q;
		l->own_cap = cap;
	}
	l->own[l->own_n++] = (qref){tn_node_index_slot(n, a), a->gen};
	a->rpend |= UINT64_C(1) << tn_node_link_slot(n, l);
	return true;
}

/* The link has handed out everything queued so far (tn_link_pending is an
 * upper bound, so 0 is certain): the flushed receipts left. Not finer
 * grained: priority messages and control frames may overtake a batch in
 * the link's queue, so a byte count could not tell when it left; waiting
 * for an empty queue only delays RECEIPTED, never advances it. */
void tn_node_receipts_link_out(tn_node *n, node_link *l)
{
	if (!l->own_out || tn_link_pending(l->link) != 0)
		return;
	for (size_t i = 0; i < l->own_out; i++) {
		alert_entry *a = tn_node_index_ref(n, l->own[i]);
		if (!a || (a->flags & AF_RECEIPTED))
			continue;
		a->flags |= AF_RECEIPTED;
		a->rpend = 0;
		ev_item it = {.type = TN_NODE_EV_RECEIPTED};
		memcpy(it.alert_id, a->id, TN_ALERT_ID);
		(void)tn_node_ev_push(n, &it);
	}
	memmove(l->own, l->own + l->own_out, (l->own_n - l->own_out) * sizeof *l->own);
	l->own_n -= l->own_out;
	l->own_out = 0;
}

/* Queue r in l's batch; own: the alert when r is our own receipt.
 * False when nothing was queued (no memory). */
static bool batch_add(tn_node *n, node_link *l, const uint8_t *r, size_t len, uint8_t hops,
                      tn_time now, alert_entry *own)
{
	if (!l->rbuf) {
		l->rbuf = malloc((size_t)TN_RECEIPTS_PER_MSG * TN_RECEIPT_MAX);
		if (!l->rbuf)
			return false;
	}
	if (own && !own_add(n, l, own))
		return false;
	if (l->nr == 0)
		l->rflush_at = now + n->cfg.receipt_delay;
	memcpy(l->rbuf + l->nr * TN_RECEIPT_MAX, r, len);
	l->rlen[l->nr] = (uint8_t)len; /* len <= TN_RECEIPT_MAX < 256 */
	l->rhops[l->nr] = hops;
	l->nr++;
	if (l->nr == TN_RECEIPTS_PER_MSG)
		tn_node_receipts_flush(n, l, now);
	return true;
}

tn_time tn_node_receipts_deadline(const tn_node *n)
{
	tn_time t = TN_TIME_NEVER;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_UP && n->links[i].nr && n->links[i].rflush_at < t)
			t = n->links[i].rflush_at;
	return t;
}

/* Send r toward the author of alert a (NULL when we do not hold it):
 * along a's reverse path when that link is up, else to every up link but
 * `from` while the hop limit allows. hops = fallback hops taken so far:
 * only links crossed off the reverse path count. Reverse-path hops are
 * bounded by the alert's own path (a tree rooted at the author, so no
 * cycle), and the dedupe stops any second pass; counting them as well
 * dropped receipts that had come a long way and then met one broken link
 * (docs/sim.md). */
static size_t route(tn_node *n, const alert_entry *a, const node_link *from, const uint8_t *r,
                    size_t len, uint8_t hops, tn_time now, alert_entry *own)
{
	node_link *rev = a && a->src_link ? tn_node_link_find(n, a->src_link) : NULL;
	if (rev && rev->state == NL_UP && rev != from) {
		if (!batch_add(n, rev, r, len, hops, now, own))
			return 0;
		if (!own)
			n->rctr[TN_RECEIPT_FORWARDED]++;
		return 1;
	}
	if (hops >= n->cfg.receipt_hops) {
		n->rctr[TN_RECEIPT_HOPS_EXCEEDED]++;
		return 0;
	}
	uint8_t next = (uint8_t)(hops + 1); /* hops < receipt_hops <= TN_RECEIPT_HOPS_MAX */
	size_t sent = 0;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state == NL_UP && l != from)
			sent += batch_add(n, l, r, len, next, now, own);
	}
	if (sent)
		n->rctr[TN_RECEIPT_FALLBACK]++;
	else
		n->rctr[TN_RECEIPT_HOPS_EXCEEDED]++;
	return sent;
}

static bool any_up(const tn_node *n)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_UP)
			return true;
	return false;
}

/* Sign our receipt for a stored alert and send it (only: to that link,
 * for receipts owed since a restart). */
void tn_node_receipt_own(tn_node *n, alert_entry *a, uint64_t wall_ms, tn_time now, node_link *only)
{
	if ((a->flags & (AF_OWN | AF_RECEIPTED)) || a->rpend)
		return;
	if (!only && !any_up(n)) {
		a->flags |= AF_RECEIPT_OWED; /* signed when a link comes up */
		return;
	}
	tn_receipt c;
	memset(&c, 0, sizeof c);
	memcpy(c.network_id, n->cfg.network_id, TN_NETWORK_ID);
	memcpy(c.alert_id, a->id, TN_ALERT_ID);
	memcpy(c.receiver, n->self->b, TN_PUBKEY);
	c.stored_ms = wall_ms;
	uint8_t out[TN_RECEIPT_MAX];
	if (!ctx_sign(n, TN_RECEIPT_SIG_CONTEXT, TN_RECEIPT_SIG_CONTEXT_LEN, put_receipt_signed, &c,
	              c.signature))
		return;
	tn_ssize len = tn_receipt_encode(&c, out, sizeof out);
	if (len < 0)
		return;
	rseen_add(n, rkey(n, a->id, n->self->b, c.signature));
	n->rctr[TN_RECEIPT_SENT]++;
	/* RECEIPTED waits until a link has handed the batch out
	 * (tn_node_receipts_link_out): a crash before then leaves the store
	 * without the flag, and the restarted node sends it again. */
	size_t k = only ? batch_add(n, only, out, (size_t)len, 1, now, a)
	                : route(n, a, NULL, out, (size_t)len, 0, now, a);
	if (!k)
		a->flags |= AF_RECEIPT_OWED; /* no link up (or no memory): next link up */
}

/* Others' receipts still in l's batch (not yet in the link): route them
 * again, l being no longer up. Those already in the link's queue are the
 * link's and go with it. Ours are skipped: the own list re-signs them. */
static void reroute_batch(tn_node *n, node_link *l, tn_time now)
{
	size_t k = l->nr;
	l->nr = 0;
	l->rflush_at = TN_TIME_NEVER;
	for (size_t i = 0; i < k; i++) {
		const uint8_t *r = l->rbuf + i * TN_RECEIPT_MAX;
		tn_receipt c;
		if (tn_receipt_decode(&c, r, l->rlen[i]) != TN_OK ||
		    memcmp(c.receiver, n->self->b, TN_PUBKEY) == 0)
			continue;
		(void)route(n, tn_node_index_find(n, c.alert_id), NULL, r, l->rlen[i], l->rhops[i],
		            now, NULL);
	}
}

void tn_node_receipts_link_gone(tn_node *n, node_link *l, tn_time now)
{
	if (l->nr && l->rbuf)
		reroute_batch(n, l, now);
	uint64_t bit = UINT64_C(1) << tn_node_link_slot(n, l);
	size_t k = l->own_n;
	l->own_n = l->own_out = 0;
	for (size_t i = 0; i < k; i++) {
		alert_entry *a = tn_node_index_ref(n, l->own[i]);
		if (!a || !(a->rpend & bit))
			continue;
		a->rpend &= ~bit;
		/* Still on its way on another link: that one decides. */
		if (!a->rpend && !(a->flags & AF_RECEIPTED))
			tn_node_receipt_own(n, a, n->last_wall, now, NULL);
	}
	free(l->own); /* the slot is cleared when reused */
	l->own = NULL;
	l->own_cap = 0;
}

static bool receipt_sig_ok(const tn_receipt *c)
{
	tn_pubkey pk;
	memcpy(pk.b, c->receiver, TN_PUBKEY);
	return ctx_sig_ok(&pk, TN_RECEIPT_SIG_CONTEXT, TN_RECEIPT_SIG_CONTEXT_LEN, &c->signed_part,
	                  c->signature);
}

/* Cheapest first: decode, network, receiver active, dedupe, then the
 * signature where it matters:
 * - at the author (it counts the receiver): always;
 * - before a fallback flood (one receipt in, several out): always, so a
 *   member cannot amplify forgeries;
 * - a relay forwarding it along the reverse path (one in, one out, toward
 *   the author who verifies) does not: an Ed25519 verify per relay per
 *   receipt was the simulator's second cost after handshakes (docs/sim.md).
 *   A forgery costs each relay on the path one forward, as any junk a member
 *   can send does, and cannot shadow the real receipt (the signature is in
 *   the dedupe key).
 * Dedupe is recorded only once the receipt is verified or forwarded. */
static void one_receipt(tn_node *n, node_link *l, const tn_view *v, uint8_t hops, tn_time now)
{
	tn_receipt c;
	if (tn_receipt_decode(&c, v->p, v->len) != TN_OK) {
		n->rctr[TN_RECEIPT_MALFORMED]++;
		return;
	}
	if (memcmp(c.network_id, n->cfg.network_id, TN_NETWORK_ID) != 0) {
		n->rctr[TN_RECEIPT_WRONG_NETWORK]++;
		return;
	}
	tn_pubkey rcv;
	memcpy(rcv.b, c.receiver, TN_PUBKEY);
	tn_alert_author role = n->cfg.membership.role(n->cfg.membership_ud, &rcv);
	if (role != TN_ALERT_AUTHOR_MEMBER && role != TN_ALERT_AUTHOR_COORDINATOR) {
		n->rctr[TN_RECEIPT_UNKNOWN_RECEIVER]++;
		return;
	}
	uint64_t k = rkey(n, c.alert_id, c.receiver, c.signature);
	if (rseen_has(n, k)) {
		n->rctr[TN_RECEIPT_DUPLICATE]++;
		return;
	}
	alert_entry *a = tn_node_index_find(n, c.alert_id);
	bool own = a && (a->flags & AF_OWN);
	node_link *rev = !own && a && a->src_link ? tn_node_link_find(n, a->src_link) : NULL;
	bool reverse = rev && rev->state == NL_UP && rev != l;
	if (!reverse && !own && hops >= n->cfg.receipt_hops) {
		n->rctr[TN_RECEIPT_HOPS_EXCEEDED]++; /* dropped: not worth a verify */
		return;
	}
	if (!reverse && !receipt_sig_ok(&c)) {
		n->rctr[TN_RECEIPT_BAD_SIGNATURE]++;
		return;
	}
	rseen_add(n, k);
	if (own) {
		if (!tn_node_add_receiver(a, &rcv)) {
			n->rctr[TN_RECEIPT_DUPLICATE]++;
			return;
		}
		n->rctr[TN_RECEIPT_ACCEPTED]++;
		ev_item it = {.type = TN_NODE_EV_RECEIPT,
		              .member = rcv,
		              .stored_ms = c.stored_ms,
		              .delivered = a->nrcv};
		memcpy(it.alert_id, a->id, TN_ALERT_ID);
		(void)tn_node_ev_push(n, &it);
		return;
	}
	(void)route(n, a, l, v->p, v->len, hops, now, NULL);
}

void tn_node_receipts_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now,
                              uint64_t wall_ms)
{
	(void)wall_ms;
	tn_iter it;
	tn_view v;
	uint8_t hops;
	tn_iter_init(&it, &m->list);
	while (tn_link_receipt_next(&it, &v, &hops) == TN_OK)
		one_receipt(n, l, &v, hops, now);
}

/* ---- receipts-wanted notes: resend what was lost (docs/node.md) ----------------
 *
 * The author's node lists, at created + r, + 3r, + 7r and + 15r (r =
 * receipt_resend), the members whose receipt it has not counted, signs the
 * list and floods it. A node that holds the alert verifies the author's
 * signature, relays a note newer than the last it relayed, and, when it is
 * listed, signs its receipt again (a new stored_ms: a new signature, so
 * relays do not stop it as a duplicate) and sends it like the first. The
 * link a note arrives on becomes the alert's reverse path. */

enum {
	RWANT_NOTES = 4,
	RWANT_GAP_MS = 10 * 1000,       /* relays: notes of one alert at least this far apart */
	RWANT_FUTURE_MS = 10 * 60 * 1000, /* relays: issued_ms at most this far ahead of us */
};

/* Wall ms of note k (0-based) of an alert created at c: c + r (2^(k+1) - 1). */
static uint64_t rwant_at(const tn_node *n, const alert_entry *a, unsigned k)
{
	uint64_t r_ms = (uint64_t)(n->cfg.receipt_resend / TN_MSEC);
	return a->created_ms + r_ms * ((UINT64_C(2) << k) - 1);
}

static bool rwant_on(const tn_node *n)
{
	return n->cfg.receipt_resend != TN_TIME_NEVER && n->cfg.receipt_resend >= TN_MSEC;
}

void tn_node_rwant_schedule(tn_node *n, const alert_entry *a)
{
	if (!rwant_on(n) || a->rw_k >= RWANT_NOTES)
		return;
	uint64_t t = rwant_at(n, a, a->rw_k);
	if (t < a->expires_ms && t < n->rw_due_ms)
		n->rw_due_ms = t;
}

tn_time tn_node_rwant_deadline(const tn_node *n)
{
	if (n->rw_due_ms == UINT64_MAX)
		return TN_TIME_NEVER;
	if (n->rw_due_ms <= n->last_wall)
		return n->last_now;
	uint64_t ms = n->rw_due_ms - n->last_wall;
	if (ms > (TN_TIME_NEVER - n->last_now) / TN_MSEC)
		return TN_TIME_NEVER;
	return n->last_now + ms * TN_MSEC;
}

/* Keys sorted bytewise (merge sort: the protocol library links no qsort). */
static void sort_pks(tn_pubkey *v, tn_pubkey *tmp, size_t len)
{
	if (len < 2)
		return;
	size_t h = len / 2, i = 0, j = h, k = 0;
	sort_pks(v, tmp, h);
	sort_pks(v + h, tmp, len - h);
	while (i < h && j < len)
		tmp[k++] = memcmp(v[i].b, v[j].b, TN_PUBKEY) <= 0 ? v[i++] : v[j++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < len)
		tmp[k++] = v[j++];
	memcpy(v, tmp, len * sizeof *v);
}

static bool has_pk(const tn_pubkey *v, size_t len, const tn_pubkey *k)
{
	size_t lo = 0, hi = len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v[mid].b, k->b, TN_PUBKEY);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The members (but us) whose receipt a lacks, as identity prefixes, from a
 * random starting member so that a long list is not always cut at the same
 * place. Returns how many (0: none missing, or no memory). */
static size_t rwant_missing(tn_node *n, const alert_entry *a, uint8_t *out)
{
	void *ud = n->cfg.membership_ud;
	size_t cnt = n->cfg.membership.count(ud);
	if (cnt == 0)
		return 0;
	tn_pubkey *seen = NULL;
	if (a->nrcv) {
		seen = malloc(2 * a->nrcv * sizeof *seen); /* the keys, then merge scratch */
		if (!seen)
			return 0;
		memcpy(seen, a->rcv, a->nrcv * sizeof *seen);
		sort_pks(seen, seen + a->nrcv, a->nrcv);
	}
	size_t k = 0, start = (size_t)(tn_node_rand_u64(n) % cnt);
	for (size_t j = 0; j < cnt && k < TN_RWANT_IDS_MAX; j++) {
		tn_node_member m;
		if (!n->cfg.membership.member(ud, (start + j) % cnt, &m) ||
		    tn_pubkey_eq(&m.identity, n->self))
			continue;
		if (seen && has_pk(seen, a->nrcv, &m.identity))
			continue;
		memcpy(out + k * TN_RWANT_ID, m.identity.b, TN_RWANT_ID);
		k++;
	}
	free(seen);
	return k;
}

/* Keep the newest note of a: a node that was away gets it from its first
 * link up, and is listed there if its receipt was lost meanwhile. */
static void rwant_keep(alert_entry *a, const uint8_t *rec, size_t len)
{
	uint8_t *copy = malloc(len);
	if (!copy)
		return; /* only the catch-up on link up is lost */
	memcpy(copy, rec, len);
	free(a->rw_rec);
	a->rw_rec = copy;
	a->rw_len = len;
}

static void rwant_send(tn_node *n, const node_link *from, const uint8_t *rec, size_t len,
                       tn_time now)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_RECEIPTS_WANTED;
	m.record = (tn_view){rec, len};
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state == NL_UP && l != from)
			(void)tn_node_send_msg(n, l, &m, false, now);
	}
}

/* Issue a's note now (if anything is missing). */
static void rwant_issue(tn_node *n, alert_entry *a, uint64_t wall_ms, tn_time now)
{
	uint8_t *ids = malloc((size_t)TN_RWANT_IDS_MAX * TN_RWANT_ID);
	uint8_t *rec = malloc(TN_RWANT_MAX);
	size_t k = ids && rec ? rwant_missing(n, a, ids) : 0;
	if (k) {
		tn_rwant w;
		memset(&w, 0, sizeof w);
		memcpy(w.network_id, n->cfg.network_id, TN_NETWORK_ID);
		memcpy(w.alert_id, a->id, TN_ALERT_ID);
		w.issued_ms = wall_ms;
		w.missing = (tn_view){ids, k * TN_RWANT_ID};
		if (ctx_sign(n, TN_RWANT_SIG_CONTEXT, TN_RWANT_SIG_CONTEXT_LEN, put_rwant_signed, &w,
		             w.signature)) {
			tn_ssize len = tn_rwant_encode(&w, rec, TN_RWANT_MAX);
			if (len > 0) {
				a->rw_ms = wall_ms;
				rwant_keep(a, rec, (size_t)len);
				n->rctr[TN_RECEIPT_WANTED_SENT]++;
				rwant_send(n, NULL, rec, (size_t)len, now);
			}
		}
	}
	free(ids);
	free(rec);
}

void tn_node_rwant_tick(tn_node *n, tn_time now, uint64_t wall_ms)
{
	if (n->rw_due_ms > wall_ms)
		return;
	n->rw_due_ms = UINT64_MAX;
	if (!any_up(n)) {
		n->rw_due_ms = wall_ms + 5000; /* nobody to tell: look again soon */
		return;
	}
	for (size_t i = 0; i < n->cfg.alerts_max; i++) {
		alert_entry *a = &n->alerts[i];
		if (a->state != AS_STORED || !(a->flags & AF_OWN) || (a->flags & AF_HELD) ||
		    a->rw_k >= RWANT_NOTES)
			continue;
		if (rwant_at(n, a, a->rw_k) <= wall_ms && a->expires_ms > wall_ms) {
			rwant_issue(n, a, wall_ms, now);
			/* One note now for every one that fell due (a restart may
			 * have slept through several). */
			while (a->rw_k < RWANT_NOTES && rwant_at(n, a, a->rw_k) <= wall_ms)
				a->rw_k++;
		}
		tn_node_rwant_schedule(n, a);
	}
}

void tn_node_rwant_released(tn_node *n, alert_entry *a, uint64_t wall_ms)
{
	while (a->rw_k < RWANT_NOTES && rwant_at(n, a, a->rw_k) <= wall_ms)
		a->rw_k++;
	tn_node_rwant_schedule(n, a);
}

static bool rwant_sig_ok(const alert_entry *a, const tn_rwant *w)
{
	return ctx_sig_ok(&a->author, TN_RWANT_SIG_CONTEXT, TN_RWANT_SIG_CONTEXT_LEN, &w->signed_part,
	                  w->signature);
}

static bool rwant_lists(const tn_rwant *w, const tn_pubkey *self)
{
	for (size_t off = 0; off < w->missing.len; off += TN_RWANT_ID)
		if (memcmp(w->missing.p + off, self->b, TN_RWANT_ID) == 0)
			return true;
	return false;
}

/* A note from a peer: cheapest checks first, the author's signature last,
 * then relay it and, if we are listed, send our receipt again. */
void tn_node_rwant_message(tn_node *n, node_link *l, const tn_view *rec, tn_time now,
                           uint64_t wall_ms)
{
	tn_rwant w;
	alert_entry *a = NULL;
	bool ok = tn_rwant_decode(&w, rec->p, rec->len) == TN_OK &&
	          memcmp(w.network_id, n->cfg.network_id, TN_NETWORK_ID) == 0 &&
	          (a = tn_node_index_find(n, w.alert_id)) && a->state == AS_STORED &&
	          !(a->flags & AF_OWN) && w.issued_ms > a->rw_ms &&
	          (a->rw_ms == 0 || w.issued_ms >= a->rw_ms + RWANT_GAP_MS) &&
	          w.issued_ms <= wall_ms + RWANT_FUTURE_MS && rwant_sig_ok(a, &w);
	if (!ok) {
		n->rctr[TN_RECEIPT_WANTED_DROPPED]++;
		return;
	}
	a->rw_ms = w.issued_ms;
	/* The note came from the author's side just now: its link is a fresher
	 * reverse path than the one the alert came in on, which churn may have
	 * broken long ago. Receipts sent from here on (ours, resent below, and
	 * others' resent ones) follow the note's tree back. */
	a->src_link = l->id;
	rwant_keep(a, rec->p, rec->len);
	n->rctr[TN_RECEIPT_WANTED_RX]++;
	rwant_send(n, l, rec->p, rec->len, now);
	if (!rwant_lists(&w, n->self) || a->rpend)
		return; /* not listed, or our receipt is on its way already */
	a->flags &= (uint8_t)~(AF_RECEIPTED | AF_RECEIPT_OWED);
	n->rctr[TN_RECEIPT_RESENT]++;
	tn_node_receipt_own(n, a, wall_ms, now, NULL);
}

/* Only where we are the responder: a node coming back (the one that may
 * have missed the note) dials, so its responders pass the note on; the
 * other way it would mostly carry the note to someone who has it. */
void tn_node_rwant_link_up(tn_node *n, node_link *l, const alert_entry *a, tn_time now)
{
	if (a->rw_rec && a->expires_ms > n->last_wall && l->role == TN_NOISE_RESPONDER) {
		tn_link_msg m;
		memset(&m, 0, sizeof m);
		m.type = TN_LINK_RECEIPTS_WANTED;
		m.record = (tn_view){a->rw_rec, a->rw_len};
		(void)tn_node_send_msg(n, l, &m, false, now);
	}
}
