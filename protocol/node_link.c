/* tn_node links and overlay: open, feed, close, member check, one link per
 * member, degree and inbound caps, dialing with backoff, repair from the
 * passive candidates (docs/node.md "Links and overlay"). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node_priv.h"

node_link *tn_node_link_find(tn_node *n, uint64_t id)
{
	if (id == 0)
		return NULL;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state != NL_FREE && n->links[i].id == id)
			return &n->links[i];
	return NULL;
}

size_t tn_node_link_slot(const tn_node *n, const node_link *l)
{
	return (size_t)(l - n->links);
}

static node_link *link_to_member(tn_node *n, const tn_pubkey *m, const node_link *except)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l != except && l->state != NL_FREE && l->state != NL_CLOSING && l->has_member &&
		    memcmp(l->member.b, m->b, TN_PUBKEY) == 0)
			return l;
	}
	return NULL;
}

/* ---- passive candidates and backoff ------------------------------------- */

static peer_state *peer_find(tn_node *n, const tn_pubkey *m)
{
	for (size_t i = 0; i < n->npeers_max; i++)
		if (n->peers[i].used && memcmp(n->peers[i].id.b, m->b, TN_PUBKEY) == 0)
			return &n->peers[i];
	return NULL;
}

static peer_state *peer_add(tn_node *n, const tn_pubkey *m)
{
	peer_state *p = peer_find(n, m);
	if (p)
		return p;
	for (size_t i = 0; i < n->npeers_max; i++)
		if (!n->peers[i].used) {
			p = &n->peers[i];
			memset(p, 0, sizeof *p);
			p->used = true;
			p->id = *m;
			return p;
		}
	return NULL;
}

static void peer_failed(tn_node *n, peer_state *p, tn_time now)
{
	p->dialing = false;
	p->backoff = p->backoff ? p->backoff * 2 : n->cfg.backoff_min;
	if (p->backoff > n->cfg.backoff_max)
		p->backoff = n->cfg.backoff_max;
	/* Jitter in [50 %, 100 %] of the backoff, so members that lost the same
	 * peer do not redial in lockstep. */
	p->next_at = now + tn_node_jitter(n, p->backoff, 50, 100);
	p->ep_idx++;
}

static void peer_succeeded(peer_state *p)
{
	p->dialing = false;
	p->backoff = 0;
	p->next_at = 0;
}

void tn_node_peers_wake(tn_node *n, tn_time now)
{
	for (size_t i = 0; i < n->npeers_max; i++)
		if (n->peers[i].used && !n->peers[i].dialing) {
			n->peers[i].backoff = 0;
			n->peers[i].next_at = now;
		}
}

static size_t passive_count(const tn_node *n)
{
	size_t k = 0;
	for (size_t i = 0; i < n->npeers_max; i++)
		k += n->peers[i].used;
	return k;
}

/* The i-th member; the coordinator who admitted us keeps the invite's
 * endpoints while she has published none (docs/node.md). */
static bool member_at(tn_node *n, size_t i, tn_node_member *out)
{
	if (!n->cfg.membership.member(n->cfg.membership_ud, i, out))
		return false;
	if (out->nendpoints == 0 && n->join_coord_known &&
	    tn_pubkey_eq(&out->identity, &n->join_coord)) {
		size_t k = n->invite.endpoint_count;
		if (k > TN_ENDPOINTS_MAX)
			k = TN_ENDPOINTS_MAX;
		for (size_t e = 0; e < k; e++)
			out->endpoints[e] = (tn_view){(const uint8_t *)n->invite.endpoints[e],
			                              n->invite.endpoint_len[e]};
		out->nendpoints = k;
	}
	return true;
}

static bool member_ok(tn_node *n, const tn_pubkey *m, tn_node_member *out)
{
	void *ud = n->cfg.membership_ud;
	size_t cnt = n->cfg.membership.count(ud);
	(void)cnt;
	tn_alert_author r = n->cfg.membership.role(ud, m);
	if (r != TN_ALERT_AUTHOR_MEMBER && r != TN_ALERT_AUTHOR_COORDINATOR)
		return false;
	if (!out)
		return true;
	/* Find her record for the link key and endpoints. */
	for (size_t i = 0; i < cnt; i++) {
		if (!member_at(n, i, out))
			continue;
		if (memcmp(out->identity.b, m->b, TN_PUBKEY) == 0)
			return true;
	}
	return false;
}

/* Drop candidates that left the roster or lost their endpoints, then top
 * up from random members (plain random selection; HyParView's shuffles
 * would spread the load better, see docs/node.md). */
static void passive_refresh(tn_node *n)
{
	void *ud = n->cfg.membership_ud;
	for (size_t i = 0; i < n->npeers_max; i++) {
		peer_state *p = &n->peers[i];
		if (p->used && !p->dialing && !link_to_member(n, &p->id, NULL) &&
		    !member_ok(n, &p->id, NULL))
			p->used = false;
	}
	size_t cnt = n->cfg.membership.count(ud);
	for (size_t tries = 0; tries < 2 * n->cfg.passive_max && cnt > 1; tries++) {
		if (passive_count(n) >= n->cfg.passive_max || passive_count(n) >= cnt - 1)
			break;
		tn_node_member m;
		size_t i = (size_t)(tn_node_rand_u64(n) % cnt);
		if (!member_at(n, i, &m) || m.nendpoints == 0 ||
		    tn_pubkey_eq(&m.identity, n->self))
			continue;
		peer_add(n, &m.identity);
	}
}

static size_t outbound_count(const tn_node *n)
{
	size_t k = 0;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		k += n->links[i].state != NL_FREE && n->links[i].state != NL_CLOSING &&
		     n->links[i].role == TN_NOISE_INITIATOR;
	for (size_t i = 0; i < n->npeers_max; i++)
		k += n->peers[i].used && n->peers[i].dialing;
	return k;
}

static bool dial_one(tn_node *n, tn_time now)
{
	peer_state *ready[TN_NODE_LINKS_MAX * 2];
	size_t k = 0;
	for (size_t i = 0; i < n->npeers_max && k < sizeof ready / sizeof ready[0]; i++) {
		peer_state *p = &n->peers[i];
		if (p->used && !p->dialing && p->next_at <= now && !link_to_member(n, &p->id, NULL) &&
		    !tn_node_quarantine_until(n, &p->id, now))
			ready[k++] = p;
	}
	while (k) {
		size_t j = (size_t)(tn_node_rand_u64(n) % k);
		peer_state *p = ready[j];
		ready[j] = ready[--k];
		tn_node_member m;
		if (!member_ok(n, &p->id, &m) || m.nendpoints == 0) {
			p->used = false;
			continue;
		}
		const tn_view *ep = &m.endpoints[p->ep_idx % m.nendpoints];
		uint8_t *blob = malloc(ep->len ? ep->len : 1);
		if (!blob)
			return false;
		memcpy(blob, ep->p, ep->len);
		ev_item it = {
		        .type = TN_NODE_EV_DIAL, .member = p->id, .blob = blob, .bloblen = ep->len};
		if (!tn_node_ev_push(n, &it)) {
			free(blob);
			return false;
		}
		p->dialing = true;
		/* The daemon answers with link_open or dial_failed; if it says
		 * nothing, give up after a connect timeout plus the handshake's. */
		p->dial_deadline = now + 30 * TN_SEC + TN_HANDSHAKE_TIMEOUT;
		n->ctr[TN_NODE_C_DIAL]++;
		return true;
	}
	return false;
}

void tn_node_links_maintain(tn_node *n, tn_time now)
{
	for (size_t i = 0; i < n->npeers_max; i++) {
		peer_state *p = &n->peers[i];
		if (p->used && p->dialing && p->dial_deadline <= now) {
			n->ctr[TN_NODE_C_DIAL_FAILED]++;
			peer_failed(n, p, now);
		}
	}
	if (outbound_count(n) >= n->cfg.degree)
		return;
	passive_refresh(n);
	while (outbound_count(n) < n->cfg.degree && dial_one(n, now))
		;
}

tn_time tn_node_links_deadline(const tn_node *n)
{
	tn_time t = TN_TIME_NEVER;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].link && n->links[i].state != NL_CLOSING) {
			tn_time d = tn_link_next_deadline(n->links[i].link);
			if (d < t)
				t = d;
		}
	bool want_more = outbound_count(n) < n->cfg.degree;
	for (size_t i = 0; i < n->npeers_max; i++) {
		const peer_state *p = &n->peers[i];
		if (!p->used)
			continue;
		if (p->dialing && p->dial_deadline < t)
			t = p->dial_deadline;
		/* In quarantine: due when it ends, not before (no busy wakes). */
		tn_time at = p->next_at, q = tn_node_quarantine_until(n, &p->id, n->last_now);
		if (q > at)
			at = q;
		if (want_more && !p->dialing && at < t && !link_to_member((tn_node *)n, &p->id, NULL))
			t = at;
	}
	return t;
}

/* ---- open, feed, close ---------------------------------------------------- */

/* tn_link_member_fn of every link (docs/link.md "Message 1 names the
 * initiator"): message 1 from an active member, and at message 3 the link
 * key certified for her. Both epochs' PSKs admit the same people: whoever
 * is active now (a member revoked since knows the previous PSK). */
static bool link_member(void *ud, const tn_pubkey *identity, tn_link_psk_used psk,
                        const tn_noise_pubkey *link_static)
{
	tn_node *n = ud;
	(void)psk;
	if (!member_ok(n, identity, NULL))
		return false;
	/* Refused like a revoked member: no byte back (node_quarantine.c). */
	if (tn_node_quarantine_until(n, identity, n->last_now)) {
		n->ctr[TN_NODE_C_QUARANTINE_REFUSED]++;
		return false;
	}
	if (!link_static)
		return true;
	tn_linkpub lpk;
	tn_pubkey who;
	memcpy(lpk.b, link_static->b, sizeof lpk.b);
	return n->cfg.membership.by_link(n->cfg.membership_ud, &lpk, &who) &&
	       tn_pubkey_eq(&who, identity);
}

/* tn_link_refuse_fn: a member in quarantine, before her signature is
 * checked (node_quarantine.c). */
static bool link_refuse(void *ud, const tn_pubkey *identity)
{
	tn_node *n = ud;
	if (!tn_node_quarantine_until(n, identity, n->last_now))
		return false;
	n->ctr[TN_NODE_C_QUARANTINE_REFUSED]++;
	return true;
}

static tn_err link_config(tn_node *n, tn_noise_role role, const tn_linkpub *expected, bool use_prev,
                          tn_link_config *c)
{
	void *ud = n->cfg.membership_ud;
	tn_link_config_default(c);
	c->role = role;
	memcpy(c->static_key.sec.b, tn_identity_link_secret(n->cfg.identity)->b, TN_NOISE_DH);
	memcpy(c->static_key.pub.b, n->self_link->b, TN_NOISE_DH);
	memcpy(c->network_id, n->cfg.network_id, TN_NETWORK_ID);
	c->keepalive = n->cfg.keepalive;
	c->rand = n->cfg.rand;
	c->log = n->cfg.log;
	c->log_ud = n->cfg.log_ud;
	c->replay = n->replay;
	c->stats = &n->lstats;
	c->identity = n->cfg.identity;
	c->member = link_member;
	c->refuse = link_refuse;
	c->member_ud = n;
	if (n->join_state == NJ_JOINING)
		return role == TN_NOISE_INITIATOR ? tn_node_join_link_config(n, c) : TN_ERR_STATE;
	bool have = n->cfg.membership.link_psk(ud, role == TN_NOISE_INITIATOR && use_prev, &c->psk);
	if (!have && role == TN_NOISE_INITIATOR && use_prev)
		have = n->cfg.membership.link_psk(ud, false, &c->psk);
	if (!have)
		return TN_ERR_STATE;
	if (role == TN_NOISE_RESPONDER) {
		c->has_prev_psk = n->cfg.membership.link_psk(ud, true, &c->prev_psk);
		tn_node_join_psks(n, c);
	}
	if (expected)
		memcpy(c->expected_remote.b, expected->b, TN_NOISE_DH);
	return TN_OK;
}

static void wipe_cfg(tn_link_config *c)
{
	sodium_memzero(&c->static_key, sizeof c->static_key);
	sodium_memzero(&c->psk, sizeof c->psk);
	sodium_memzero(&c->prev_psk, sizeof c->prev_psk);
	sodium_memzero(c->join_psks, sizeof c->join_psks);
}

tn_err tn_node_link_config_initiator(tn_node *n, const tn_linkpub *expected, tn_link_config *c)
{
	return link_config(n, TN_NOISE_INITIATOR, expected, false, c);
}

void tn_node_link_config_wipe(tn_link_config *c)
{
	wipe_cfg(c);
}

tn_err tn_node_link_open(tn_node *n, tn_noise_role role, const tn_pubkey *member, tn_time now,
                         uint64_t wall_ms, uint64_t *link_id)
{
	if (!n || !link_id || (role != TN_NOISE_INITIATOR && role != TN_NOISE_RESPONDER) ||
	    (role == TN_NOISE_INITIATOR && !member))
		return TN_ERR_INVAL;
	*link_id = 0;
	tn_node_clock(n, now, wall_ms);
	node_link *l = NULL;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX && !l; i++)
		if (n->links[i].state == NL_FREE)
			l = &n->links[i];
	if (!l) {
		n->ctr[TN_NODE_C_LINK_SLOTS_FULL]++;
		return TN_ERR_LIMIT;
	}
	tn_node_member m;
	memset(&m, 0, sizeof m);
	peer_state *p = NULL;
	bool joining = n->join_state == NJ_JOINING;
	if (role == TN_NOISE_INITIATOR && !joining) {
		if (!member_ok(n, member, &m) || tn_pubkey_eq(member, n->self))
			return TN_ERR_NOTFOUND;
		p = peer_add(n, member);
		if (tn_node_quarantine_until(n, member, now)) {
			/* A dial that started before her quarantine. */
			n->ctr[TN_NODE_C_QUARANTINE_REFUSED]++;
			if (p)
				p->dialing = false;
			return TN_ERR_STATE;
		}
	}
	tn_link_config c;
	tn_err rc = link_config(n, role, role == TN_NOISE_INITIATOR ? &m.link_pk : NULL,
	                        p && p->use_prev_psk, &c);
	if (rc == TN_OK)
		rc = tn_link_new(&l->link, &c);
	wipe_cfg(&c);
	if (rc)
		return rc;
	if ((rc = tn_link_start(l->link, now, wall_ms))) {
		tn_link_del(l->link);
		l->link = NULL;
		return rc == TN_ERR_INVAL ? TN_ERR_INVAL : rc;
	}
	l->state = NL_HANDSHAKE;
	l->role = role;
	l->id = n->next_link_id++;
	l->dg_sent_at = TN_TIME_NEVER;
	l->hd_sent_at = TN_TIME_NEVER;
	l->rs_started_at = TN_TIME_NEVER;
	if (joining)
		tn_node_join_opened(n);
	else if (role == TN_NOISE_INITIATOR) {
		l->has_member = true;
		l->member = *member;
		if (p)
			p->dialing = false; /* now a link: its fate decides the backoff */
	}
	n->ctr[TN_NODE_C_LINK_OPENED]++;
	*link_id = l->id;
	tn_node_link_drain(n, l, now, wall_ms);
	return TN_OK;
}

static void free_link_state(tn_node *n, node_link *l, tn_time now)
{
	tn_node_receipts_link_gone(n, l, now);
	tn_node_lazy_link_gone(n, l);
	tn_node_index_forget_link(n, tn_node_link_slot(n, l));
	tn_node_qring_free(&l->prio);
	tn_node_qring_free(&l->normal);
	free(l->rbuf);
	l->rbuf = NULL;
	l->nr = 0;
	free(l->wants);
	l->wants = NULL;
	l->wn = l->whead = 0;
	l->dg_active = false;
	tn_node_roster_link_free(l);
}

/* The link's CLOSE event: tell the caller, update the overlay. */
static void on_close(tn_node *n, node_link *l, const tn_link_event *ev, tn_time now,
                     bool caller_closed)
{
	bool was_up = l->state == NL_UP;
	if (n->join_state == NJ_JOINING && l->role == TN_NOISE_INITIATOR)
		tn_node_join_link_closed(n, l, ev->err, now);
	if (l->has_member && l->role == TN_NOISE_INITIATOR) {
		peer_state *p = peer_add(n, &l->member);
		if (p) {
			if (was_up) {
				/* It worked: reconnect soon, after a little jitter. */
				peer_succeeded(p);
				p->next_at = now + tn_node_jitter(n, n->cfg.backoff_min, 50, 100);
			} else {
				if (ev->err == TN_ERR_TIMEOUT &&
				    n->cfg.membership.link_psk(n->cfg.membership_ud, true,
				                               &(tn_noise_psk){{0}}))
					p->use_prev_psk = !p->use_prev_psk;
				peer_failed(n, p, now);
			}
		}
	}
	l->state = NL_CLOSING;
	free_link_state(n, l, now);
	if (!caller_closed) {
		ev_item it = {
		        .type = TN_NODE_EV_CLOSE_LINK, .link_id = l->id, .close_at = ev->close_at};
		(void)tn_node_ev_push(n, &it);
	}
	if (was_up) {
		ev_item it = {.type = TN_NODE_EV_LINK_DOWN, .link_id = l->id, .member = l->member};
		(void)tn_node_ev_push(n, &it);
	}
}

static size_t inbound_up(const tn_node *n)
{
	size_t k = 0;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		k += n->links[i].state == NL_UP && n->links[i].role == TN_NOISE_RESPONDER;
	return k;
}

/* One link per member: of two, keep the one whose initiator has the lower
 * link static key, so both ends choose the same; same initiator: keep the
 * older. Returns the link to close, or NULL. */
static node_link *dedupe(tn_node *n, node_link *l)
{
	node_link *o = link_to_member(n, &l->member, l);
	if (!o || o->state != NL_UP)
		return NULL;
	if (o->role == l->role)
		return l;
	return l->initiator_lower ? o : l;
}

static void on_established(tn_node *n, node_link *l, const tn_link_event *ev, tn_time now,
                           uint64_t wall_ms)
{
	if (n->join_state == NJ_JOINING ||
	    (l->role == TN_NOISE_RESPONDER && ev->psk == TN_LINK_PSK_JOIN)) {
		tn_node_join_established(n, l, ev, now, wall_ms);
		return;
	}
	memcpy(l->remote.b, ev->remote_static.b, TN_PUBKEY);
	tn_pubkey who;
	if (!n->cfg.membership.by_link(n->cfg.membership_ud, &l->remote, &who) ||
	    !member_ok(n, &who, NULL) || tn_pubkey_eq(&who, n->self) ||
	    (l->has_member && !tn_pubkey_eq(&who, &l->member)) ||
	    (l->role == TN_NOISE_RESPONDER && !tn_pubkey_eq(&who, &ev->remote_identity))) {
		n->ctr[TN_NODE_C_LINK_NOT_MEMBER]++;
		tn_node_log(n, TN_LOG_DEBUG,
		            "link close reason=not_member peer=", tn_shortfp_linkpub(&l->remote).s);
		tn_node_link_kill(n, l, TN_CLOSE_REVOKED, now, wall_ms);
		return;
	}
	l->has_member = true;
	l->member = who;
	if (tn_node_quarantine_until(n, &who, now)) {
		n->ctr[TN_NODE_C_QUARANTINE_REFUSED]++;
		tn_node_log(n, TN_LOG_DEBUG,
		            "link close reason=quarantined peer=", tn_shortfp_linkpub(&l->remote).s);
		tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, wall_ms);
		return;
	}
	const uint8_t *ipk = l->role == TN_NOISE_INITIATOR ? n->self_link->b : l->remote.b;
	const uint8_t *rpk = l->role == TN_NOISE_INITIATOR ? l->remote.b : n->self_link->b;
	l->initiator_lower = memcmp(ipk, rpk, TN_PUBKEY) < 0;
	node_link *loser = dedupe(n, l);
	if (loser) {
		n->ctr[TN_NODE_C_LINK_DUPLICATE]++;
		tn_node_link_kill(n, loser, TN_CLOSE_NORMAL, now, wall_ms);
		if (loser == l)
			return;
	}
	if (l->role == TN_NOISE_RESPONDER && inbound_up(n) >= n->cfg.max_inbound) {
		n->ctr[TN_NODE_C_LINK_INBOUND_FULL]++;
		tn_node_link_kill(n, l, TN_CLOSE_OVERLOAD, now, wall_ms);
		return;
	}
	l->state = NL_UP;
	l->up_at = now;
	n->ctr[TN_NODE_C_LINK_UP]++;
	if (l->role == TN_NOISE_INITIATOR) {
		peer_state *p = peer_add(n, &who);
		if (p)
			peer_succeeded(p);
	}
	ev_item it = {.type = TN_NODE_EV_LINK_UP, .link_id = l->id, .member = who};
	(void)tn_node_ev_push(n, &it);
	tn_node_gossip_link_up(n, l, now);
}

/* Handle every event the link has queued. */
void tn_node_link_drain(tn_node *n, node_link *l, tn_time now, uint64_t wall_ms)
{
	tn_link_event ev;
	while (l->state != NL_FREE && l->state != NL_CLOSING && tn_link_poll_event(l->link, &ev)) {
		switch (ev.type) {
		case TN_LINK_EV_ESTABLISHED: on_established(n, l, &ev, now, wall_ms); break;
		case TN_LINK_EV_MESSAGE:
			if (l->state == NL_UP)
				tn_node_gossip_message(n, l, ev.msg, ev.len, now, wall_ms);
			else if (l->state == NL_JOIN)
				tn_node_join_message(n, l, ev.msg, ev.len, now, wall_ms);
			break;
		case TN_LINK_EV_CLOSE: on_close(n, l, &ev, now, false); break;
		default: break;
		}
	}
}

void tn_node_link_kill(tn_node *n, node_link *l, uint8_t reason, tn_time now, uint64_t wall_ms)
{
	if (l->state == NL_FREE || l->state == NL_CLOSING)
		return;
	tn_link_close(l->link, reason, now);
	tn_node_link_drain(n, l, now, wall_ms);
}

tn_err tn_node_link_recv(tn_node *n, uint64_t id, const uint8_t *in, size_t len, tn_time now,
                         uint64_t wall_ms)
{
	if (!n || (!in && len))
		return TN_ERR_INVAL;
	tn_node_clock(n, now, wall_ms);
	node_link *l = tn_node_link_find(n, id);
	if (!l)
		return TN_ERR_NOTFOUND;
	size_t off = 0;
	while (off < len) {
		if (l->state == NL_CLOSING)
			return TN_OK; /* the link ignores everything after CLOSE */
		tn_ssize r = tn_link_recv(l->link, in + off, len - off, now, wall_ms);
		if (r < 0) {
			if (r == TN_ERR_STATE) {
				tn_node_link_drain(n, l, now, wall_ms);
				continue;
			}
			return r <= TN_ERR_FATAL ? (tn_err)r : TN_ERR_INTERNAL;
		}
		off += (size_t)r;
		tn_node_link_drain(n, l, now, wall_ms);
	}
	return TN_OK;
}

void tn_node_link_closed(tn_node *n, uint64_t id, tn_time now)
{
	if (!n)
		return;
	node_link *l = tn_node_link_find(n, id);
	if (!l)
		return;
	if (l->state != NL_CLOSING) {
		tn_link_close(l->link, TN_CLOSE_NORMAL, now);
		tn_link_event ev;
		while (tn_link_poll_event(l->link, &ev))
			if (ev.type == TN_LINK_EV_CLOSE)
				on_close(n, l, &ev, now, true);
		if (l->state != NL_CLOSING) {
			tn_link_event fake = {.type = TN_LINK_EV_CLOSE, .err = TN_ERR_CLOSED};
			on_close(n, l, &fake, now, true);
		}
	}
	tn_link_del(l->link);
	memset(l, 0, sizeof *l);
	tn_node_links_maintain(n, now);
}

void tn_node_dial_failed(tn_node *n, const tn_pubkey *member, tn_time now)
{
	if (!n)
		return;
	if (n->join_state == NJ_JOINING) {
		tn_node_join_dial_failed(n, now);
		return;
	}
	if (!member)
		return;
	peer_state *p = peer_find(n, member);
	if (!p)
		return;
	n->ctr[TN_NODE_C_DIAL_FAILED]++;
	peer_failed(n, p, now);
}

void tn_node_link_tick(tn_node *n, tn_time now, uint64_t wall_ms)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->link && l->state != NL_CLOSING && tn_link_next_deadline(l->link) <= now) {
			tn_link_tick(l->link, now);
			tn_node_link_drain(n, l, now, wall_ms);
		}
	}
}

/* ---- output --------------------------------------------------------------- */

tn_ssize tn_node_link_out(tn_node *n, uint64_t id, uint8_t *out, size_t cap, tn_time now)
{
	if (!n || (!out && cap))
		return TN_ERR_INVAL;
	node_link *l = tn_node_link_find(n, id);
	if (!l)
		return TN_ERR_NOTFOUND;
	if (l->state == NL_UP)
		tn_node_pump(n, l, now);
	else if (l->state == NL_JOIN)
		tn_node_join_pump(n, l, now);
	tn_ssize r = tn_link_out(l->link, out, cap, now);
	if (r >= 0 && l->own_out)
		tn_node_receipts_link_out(n, l);
	if (r >= 0 && l->state != NL_CLOSING)
		tn_node_link_drain(n, l, now, n->last_wall); /* nonce exhaustion closes */
	return r;
}

tn_ssize tn_node_poll_write(tn_node *n, uint64_t *link_id, uint8_t *out, size_t cap, tn_time now)
{
	if (!n || !link_id)
		return TN_ERR_INVAL;
	*link_id = 0;
	for (size_t k = 0; k < TN_NODE_LINKS_MAX; k++) {
		size_t i = (n->rr + k) % TN_NODE_LINKS_MAX;
		node_link *l = &n->links[i];
		if (l->state == NL_FREE)
			continue;
		tn_ssize r = tn_node_link_out(n, l->id, out, cap, now);
		if (r != 0) {
			*link_id = l->id;
			n->rr = (i + 1) % TN_NODE_LINKS_MAX;
			return r;
		}
	}
	return 0;
}
