/* Receipts (DESIGN §7, docs/node.md "Receipts"): sign one for each alert
 * we store, send it back along the alert's reverse path in per-link
 * batches, relay others' the same way, fall back to flooding with a hop
 * limit when the reverse link is gone, and count delivery for our own
 * alerts. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node_priv.h"

/* ---- dedupe of (alert, receiver), bounded -------------------------------- */

static uint64_t rkey(const tn_node *n, const uint8_t id[TN_ALERT_ID], const uint8_t rcv[TN_PUBKEY])
{
	uint8_t in[TN_ALERT_ID + TN_PUBKEY], out[crypto_shorthash_BYTES];
	memcpy(in, id, TN_ALERT_ID);
	memcpy(in + TN_ALERT_ID, rcv, TN_PUBKEY);
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
	(void)tn_node_send_msg(n, l, &m, false, now);
}

static void batch_add(tn_node *n, node_link *l, const uint8_t *r, size_t len, uint8_t hops,
                      tn_time now)
{
	if (!l->rbuf) {
		l->rbuf = malloc((size_t)TN_RECEIPTS_PER_MSG * TN_RECEIPT_MAX);
		if (!l->rbuf)
			return;
	}
	if (l->nr == 0)
		l->rflush_at = now + n->cfg.receipt_delay;
	memcpy(l->rbuf + l->nr * TN_RECEIPT_MAX, r, len);
	l->rlen[l->nr] = len;
	l->rhops[l->nr] = hops;
	l->nr++;
	if (l->nr == TN_RECEIPTS_PER_MSG)
		tn_node_receipts_flush(n, l, now);
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
static void route(tn_node *n, const alert_entry *a, const node_link *from, const uint8_t *r,
                  size_t len, uint8_t hops, tn_time now, bool own)
{
	node_link *rev = a && a->src_link ? tn_node_link_find(n, a->src_link) : NULL;
	if (rev && rev->state == NL_UP && rev != from) {
		batch_add(n, rev, r, len, hops, now);
		if (!own)
			n->rctr[TN_RECEIPT_FORWARDED]++;
		return;
	}
	if (hops >= n->cfg.receipt_hops) {
		n->rctr[TN_RECEIPT_HOPS_EXCEEDED]++;
		return;
	}
	uint8_t next = (uint8_t)(hops + 1); /* hops < receipt_hops <= TN_RECEIPT_HOPS_MAX */
	bool sent = false;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state == NL_UP && l != from) {
			batch_add(n, l, r, len, next, now);
			sent = true;
		}
	}
	if (sent)
		n->rctr[TN_RECEIPT_FALLBACK]++;
	else
		n->rctr[TN_RECEIPT_HOPS_EXCEEDED]++;
}

/* Sign our receipt for a stored alert and send it (only: to that link,
 * for receipts owed since a restart). */
void tn_node_receipt_own(tn_node *n, alert_entry *a, uint64_t wall_ms, tn_time now, node_link *only)
{
	if (a->flags & (AF_OWN | AF_RECEIPTED))
		return;
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
	rseen_add(n, rkey(n, a->id, n->self->b));
	if (only)
		batch_add(n, only, out, (size_t)len, 1, now);
	else
		route(n, a, NULL, out, (size_t)len, 0, now, true);
	a->flags |= AF_RECEIPTED;
	n->rctr[TN_RECEIPT_SENT]++;
	ev_item it = {.type = TN_NODE_EV_RECEIPTED};
	memcpy(it.alert_id, a->id, TN_ALERT_ID);
	(void)tn_node_ev_push(n, &it);
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

/* Cheapest first: decode, network, receiver active, dedupe, signature.
 * Dedupe is recorded only after the signature, so a forged receipt cannot
 * shadow the real one. */
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
	uint64_t k = rkey(n, c.alert_id, c.receiver);
	if (rseen_has(n, k)) {
		n->rctr[TN_RECEIPT_DUPLICATE]++;
		return;
	}
	if (!receipt_sig_ok(&c)) {
		n->rctr[TN_RECEIPT_BAD_SIGNATURE]++;
		return;
	}
	rseen_add(n, k);
	alert_entry *a = tn_node_index_find(n, c.alert_id);
	if (a && (a->flags & AF_OWN)) {
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
	route(n, a, l, v->p, v->len, hops, now, false);
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
