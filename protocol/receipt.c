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
	const uint64_t *set = n->rseen[k % NODE_RSEEN_SETS];
	for (size_t i = 0; i < NODE_RSEEN_WAYS; i++)
		if (set[i] == k)
			return true;
	return false;
}

/* Eviction only forgets: a receipt seen again after eviction is relayed
 * once more, and the author's per-alert list still counts it once. */
static void rseen_add(tn_node *n, uint64_t k)
{
	size_t s = k % NODE_RSEEN_SETS;
	n->rseen[s][n->rseen_next[s]] = k;
	n->rseen_next[s] = (uint8_t)((n->rseen_next[s] + 1) % NODE_RSEEN_WAYS);
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
	l->rlen[l->nr] = len;
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
	uint8_t msg[TN_RECEIPT_SIG_CONTEXT_LEN + TN_RECEIPT_MAX], out[TN_RECEIPT_MAX];
	memcpy(msg, TN_RECEIPT_SIG_CONTEXT, TN_RECEIPT_SIG_CONTEXT_LEN);
	tn_ssize sl =
	        tn_receipt_encode_signed(&c, msg + TN_RECEIPT_SIG_CONTEXT_LEN, TN_RECEIPT_MAX);
	tn_sig sig;
	if (sl < 0 || tn_identity_sign(n->cfg.identity, msg,
	                               TN_RECEIPT_SIG_CONTEXT_LEN + (size_t)sl, &sig) != TN_OK)
		return;
	memcpy(c.signature, sig.b, TN_SIG);
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
	uint8_t msg[TN_RECEIPT_SIG_CONTEXT_LEN + TN_RECEIPT_MAX];
	if (c->signed_part.len > TN_RECEIPT_MAX)
		return false;
	memcpy(msg, TN_RECEIPT_SIG_CONTEXT, TN_RECEIPT_SIG_CONTEXT_LEN);
	memcpy(msg + TN_RECEIPT_SIG_CONTEXT_LEN, c->signed_part.p, c->signed_part.len);
	tn_pubkey pk;
	tn_sig sig;
	memcpy(pk.b, c->receiver, TN_PUBKEY);
	memcpy(sig.b, c->signature, TN_SIG);
	return tn_sig_verify(&pk, msg, TN_RECEIPT_SIG_CONTEXT_LEN + c->signed_part.len, &sig) ==
	       TN_OK;
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
