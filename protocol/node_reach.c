/* Reachability: dial-back checks (docs/node.md "Reachability").
 *
 * A member asks a linked member to dial her back (DIALBACK, a nonce and
 * nothing else). The peer dials only the first endpoint of the asker's own
 * signed endpoint record, as its membership view has it: never an address
 * that came with the request, so a member cannot aim our daemon at a third
 * party. At most one dial-back per asker per TN_DIALBACK_INTERVAL and
 * TN_DIALBACK_PROBES_MAX at once; the rest is answered LIMITED. The daemon
 * does the dialing (TN_NODE_EV_DIALBACK) with a link from
 * tn_node_dialback_link, which expects the asker's link static key, and
 * reports with tn_node_dialback_done; the result goes back on the asker's
 * link (DIALBACK_RESULT) and becomes her REACHABILITY event. */
#include <stdlib.h>
#include <string.h>

#include "node_priv.h"

static void reply(tn_node *n, node_link *l, uint64_t nonce, uint8_t result, tn_time now)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_DIALBACK_RESULT;
	m.token = nonce;
	m.dialback_result = result;
	(void)tn_node_send_msg(n, l, &m, false, now);
}

/* The asker's entry in the membership (her own endpoint record only: no
 * invite fallback addresses). */
static bool find_member(tn_node *n, const tn_pubkey *who, tn_node_member *out)
{
	void *ud = n->cfg.membership_ud;
	tn_alert_author r = n->cfg.membership.role(ud, who);
	if (r != TN_ALERT_AUTHOR_MEMBER && r != TN_ALERT_AUTHOR_COORDINATOR)
		return false;
	size_t cnt = n->cfg.membership.count(ud);
	for (size_t i = 0; i < cnt; i++)
		if (n->cfg.membership.member(ud, i, out) && tn_pubkey_eq(&out->identity, who))
			return true;
	return false;
}

static reach_probe *probe_find(tn_node *n, uint64_t id)
{
	for (size_t i = 0; id && i < TN_DIALBACK_PROBES_MAX; i++)
		if (n->probes[i].id == id)
			return &n->probes[i];
	return NULL;
}

/* Per-asker rate limit: true (and the slot stamped) when she may have one
 * now. A full table of recent askers refuses newcomers too. */
static bool asker_admit(tn_node *n, const tn_pubkey *who, tn_time now)
{
	reach_asker *slot = NULL, *victim = NULL;
	for (size_t i = 0; i < TN_DIALBACK_ASKERS; i++) {
		reach_asker *a = &n->askers[i];
		if (a->used && tn_pubkey_eq(&a->member, who)) {
			slot = a;
			break;
		}
		/* else: a free entry, or the one asked longest ago */
		if (!victim || (!a->used && victim->used) ||
		    (a->used == victim->used && a->at < victim->at))
			victim = a;
	}
	if (!slot) {
		slot = victim;
		if (slot->used && now - slot->at < TN_DIALBACK_INTERVAL)
			return false; /* every entry asked recently: refuse newcomers too */
		slot->member = *who;
		slot->used = true;
	} else if (now - slot->at < TN_DIALBACK_INTERVAL) {
		return false;
	}
	slot->at = now;
	return true;
}

static void handle_request(tn_node *n, node_link *l, uint64_t nonce, tn_time now)
{
	tn_node_member m;
	memset(&m, 0, sizeof m);
	if (!find_member(n, &l->member, &m) || m.nendpoints == 0 || m.endpoints[0].len == 0) {
		n->ctr[TN_NODE_C_DIALBACK_REFUSED]++;
		reply(n, l, nonce, TN_DIALBACK_NO_ENDPOINT, now);
		return;
	}
	reach_probe *p = NULL;
	for (size_t i = 0; i < TN_DIALBACK_PROBES_MAX; i++) {
		if (n->probes[i].id && tn_pubkey_eq(&n->probes[i].member, &l->member)) {
			p = NULL; /* one at a time per asker */
			break;
		}
		if (!n->probes[i].id && !p)
			p = &n->probes[i];
	}
	if (!p || !asker_admit(n, &l->member, now)) {
		n->ctr[TN_NODE_C_DIALBACK_REFUSED]++;
		reply(n, l, nonce, TN_DIALBACK_LIMITED, now);
		return;
	}
	const tn_view *ep = &m.endpoints[0];
	uint8_t *blob = malloc(ep->len);
	if (!blob) {
		reply(n, l, nonce, TN_DIALBACK_LIMITED, now);
		return;
	}
	memcpy(blob, ep->p, ep->len);
	if (!n->next_probe_id)
		n->next_probe_id = 1;
	ev_item it = {.type = TN_NODE_EV_DIALBACK,
	              .member = l->member,
	              .blob = blob,
	              .bloblen = ep->len,
	              .probe_id = n->next_probe_id};
	if (!tn_node_ev_push(n, &it)) {
		free(blob);
		n->ctr[TN_NODE_C_DIALBACK_REFUSED]++;
		reply(n, l, nonce, TN_DIALBACK_LIMITED, now);
		return;
	}
	p->id = n->next_probe_id++;
	p->link_id = l->id;
	p->nonce = nonce;
	p->member = l->member;
	n->ctr[TN_NODE_C_DIALBACK_SERVED]++;
}

static void handle_result(tn_node *n, node_link *l, uint64_t nonce, uint8_t result)
{
	if (!n->ask_pending || nonce != n->ask_nonce || !tn_pubkey_eq(&l->member, &n->ask_member)) {
		n->ctr[TN_NODE_C_DIALBACK_STRAY]++;
		return;
	}
	n->ask_pending = false;
	ev_item it = {.type = TN_NODE_EV_REACHABILITY, .member = l->member, .kind = result};
	(void)tn_node_ev_push(n, &it);
}

void tn_node_reach_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now)
{
	if (l->state != NL_UP || !l->has_member)
		return;
	if (m->type == TN_LINK_DIALBACK)
		handle_request(n, l, m->token, now);
	else if (m->type == TN_LINK_DIALBACK_RESULT)
		handle_result(n, l, m->token, m->dialback_result);
}

tn_err tn_node_dialback_ask(tn_node *n, const tn_pubkey *via, tn_time now, uint64_t wall_ms,
                            tn_pubkey *asked)
{
	if (!n)
		return TN_ERR_INVAL;
	tn_node_clock(n, now, wall_ms);
	if (n->join_state == NJ_JOINING)
		return TN_ERR_STATE;
	node_link *up[TN_NODE_LINKS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state != NL_UP || !l->has_member)
			continue;
		if (via && !tn_pubkey_eq(&l->member, via))
			continue;
		up[k++] = l;
	}
	if (k == 0)
		return via ? TN_ERR_NOTFOUND : TN_ERR_STATE;
	/* Not the member asked last time when there is another: one member's
	 * view (or lie) is not the only one, and she may still be rate
	 * limiting us. */
	if (!via && k > 1 && n->ask_asked)
		for (size_t i = 0; i < k; i++)
			if (tn_pubkey_eq(&up[i]->member, &n->ask_member)) {
				up[i] = up[--k];
				break;
			}
	node_link *l = up[tn_node_rand_u64(n) % k];
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_DIALBACK;
	m.token = tn_node_rand_u64(n);
	tn_err rc = tn_node_send_msg(n, l, &m, false, now);
	if (rc != TN_OK)
		return rc == TN_ERR_NOMEM ? rc : TN_ERR_LIMIT;
	n->ask_pending = true;
	n->ask_asked = true;
	n->ask_nonce = m.token;
	n->ask_member = l->member;
	n->ctr[TN_NODE_C_DIALBACK_ASKED]++;
	if (asked)
		*asked = l->member;
	return TN_OK;
}

tn_err tn_node_dialback_link(tn_node *n, uint64_t probe_id, tn_time now, uint64_t wall_ms,
                             tn_link **out)
{
	if (!n || !out)
		return TN_ERR_INVAL;
	*out = NULL;
	reach_probe *p = probe_find(n, probe_id);
	tn_node_member m;
	memset(&m, 0, sizeof m);
	if (!p || !find_member(n, &p->member, &m))
		return TN_ERR_NOTFOUND;
	tn_link_config c;
	tn_err rc = tn_node_link_config_initiator(n, &m.link_pk, &c);
	c.stats = NULL; /* a probe is not one of our links: keep the link counters clean */
	if (rc == TN_OK)
		rc = tn_link_new(out, &c);
	tn_node_link_config_wipe(&c);
	if (rc != TN_OK)
		return rc;
	if ((rc = tn_link_start(*out, now, wall_ms)) != TN_OK) {
		tn_link_del(*out);
		*out = NULL;
	}
	return rc;
}

tn_err tn_node_dialback_done(tn_node *n, uint64_t probe_id, uint8_t result, tn_time now)
{
	if (!n)
		return TN_ERR_INVAL;
	if (result != TN_DIALBACK_OK && result != TN_DIALBACK_NO_CONNECT &&
	    result != TN_DIALBACK_HANDSHAKE && result != TN_DIALBACK_NO_ENDPOINT)
		return TN_ERR_INVAL;
	reach_probe *p = probe_find(n, probe_id);
	if (!p)
		return TN_ERR_NOTFOUND;
	node_link *l = tn_node_link_find(n, p->link_id);
	if (l && l->state == NL_UP && l->has_member && tn_pubkey_eq(&l->member, &p->member))
		reply(n, l, p->nonce, result, now);
	memset(p, 0, sizeof *p);
	return TN_OK;
}

static const char *const result_names[] = {"ok", "no_connect", "handshake", "no_endpoint",
                                           "limited"};
_Static_assert(sizeof result_names / sizeof result_names[0] == TN_DIALBACK_RESULT_MAX + 1, "names");

const char *tn_dialback_result_name(uint8_t result)
{
	return result <= TN_DIALBACK_RESULT_MAX ? result_names[result] : "unknown";
}
