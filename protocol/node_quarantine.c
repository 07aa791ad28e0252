/* tn_node: a member whose own link carries bad signatures (docs/node.md
 * "Bad signatures and quarantine").
 *
 * Every honest relay verifies an alert (and a roster record) before it
 * forwards it, so one with a bad signature on a link was made by the
 * link's peer, an authenticated member: each costs us an Ed25519 verify
 * (~50 us) and nothing else. At NODE_BADSIG_MAX within NODE_BADSIG_WINDOW
 * the link is closed and its member quarantined: her links are refused at
 * message 1 (like a revoked member's) and she is not dialed, for
 * NODE_QUARANTINE_BASE doubling per repeat up to NODE_QUARANTINE_SHIFT_MAX
 * doublings. Receipts are not counted here: relays forward them unverified
 * on the reverse path, so a bad one says nothing about the link's peer. */
#include <string.h>

#include "node_priv.h"

static quarantine_entry *q_find(tn_node *n, const tn_pubkey *m)
{
	for (size_t i = 0; i < NODE_QUARANTINE_MAX; i++)
		if (n->quar[i].used && tn_pubkey_eq(&n->quar[i].member, m))
			return &n->quar[i];
	return NULL;
}

/* A slot for a new member: a free one, else the one whose quarantine
 * ended longest ago, else (every entry in force: 32 members turned at
 * once) the one ending first. Memory stays bounded either way. */
static quarantine_entry *q_slot(tn_node *n, tn_time now)
{
	quarantine_entry *best = NULL;
	for (size_t i = 0; i < NODE_QUARANTINE_MAX; i++) {
		quarantine_entry *q = &n->quar[i];
		if (!q->used)
			return q;
		bool over = q->until <= now;
		bool best_over = best && best->until <= now;
		if (!best || (over && !best_over) ||
		    (over == best_over && (over ? q->last < best->last : q->until < best->until)))
			best = q;
	}
	return best;
}

static void quarantine(tn_node *n, const tn_pubkey *m, tn_time now)
{
	quarantine_entry *q = q_find(n, m);
	if (!q) {
		q = q_slot(n, now);
		memset(q, 0, sizeof *q);
		q->used = true;
		q->member = *m;
	} else if (now - q->last >= NODE_QUARANTINE_FORGET) {
		q->strikes = 0;
	}
	unsigned shift = q->strikes < NODE_QUARANTINE_SHIFT_MAX ? q->strikes
	                                                         : NODE_QUARANTINE_SHIFT_MAX;
	if (q->strikes < UINT8_MAX)
		q->strikes++;
	q->until = now + (NODE_QUARANTINE_BASE << shift);
	q->last = now;
	n->ctr[TN_NODE_C_QUARANTINED]++;
	tn_node_log(n, TN_LOG_INFO, "member quarantined reason=bad_signatures peer=",
	            tn_shortfp_pubkey(m).s);
}

tn_time tn_node_quarantine_until(const tn_node *n, const tn_pubkey *m, tn_time now)
{
	for (size_t i = 0; i < NODE_QUARANTINE_MAX; i++) {
		const quarantine_entry *q = &n->quar[i];
		if (q->used && q->until > now && tn_pubkey_eq(&q->member, m))
			return q->until;
	}
	return 0;
}

void tn_node_bad_sig(tn_node *n, node_link *l, tn_time now, uint64_t wall_ms)
{
	if (l->state != NL_UP || !l->has_member)
		return;
	if (l->bs_n == 0 || now - l->bs_since >= NODE_BADSIG_WINDOW) {
		l->bs_since = now;
		l->bs_n = 0;
	}
	if (++l->bs_n < NODE_BADSIG_MAX)
		return;
	tn_pubkey who = l->member;
	n->ctr[TN_NODE_C_LINK_BAD_SIG_CLOSED]++;
	/* Her identity's fingerprint, as the daemon's link_down line says it. */
	tn_node_log(n, TN_LOG_INFO,
	            "link close reason=bad_signatures peer=", tn_shortfp_pubkey(&who).s);
	quarantine(n, &who, now);
	tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, wall_ms);
	/* Any other link of hers (a handshake that named her) goes too. */
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *o = &n->links[i];
		if (o != l && o->state != NL_FREE && o->state != NL_CLOSING && o->has_member &&
		    tn_pubkey_eq(&o->member, &who)) {
			n->ctr[TN_NODE_C_QUARANTINE_REFUSED]++;
			tn_node_link_kill(n, o, TN_CLOSE_PROTOCOL, now, wall_ms);
		}
	}
}
