/* Roster gossip and joining (docs/node.md "Roster gossip", docs/roster.md
 * "Joining"; DESIGN §5, §7).
 *
 * Roster mode: the node owns a tn_roster and is its membership through the
 * tn_node_roster adapter. Records spread two ways: pushed (an accepted
 * record goes to every up link but its source) and pulled (when a peer's
 * digest carries another roster digest, we send our chain heads; the peer
 * answers with every record we lack, in its acceptance order, so each
 * record's prev and auth arrive before it).
 *
 * Joining: a node created from an invite dials the coordinator under the
 * invite's join PSK, proves its identity over the handshake hash (JOIN),
 * and receives the whole roster on that link; the coordinator redeems the
 * invite and admits it with an add record. A join link carries nothing but
 * one JOIN (joiner -> coordinator) and ROSTER records (coordinator ->
 * joiner). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node_priv.h"
#include "tocsin/mp.h"

/* ---- membership while joining: nobody ------------------------------------ */

static tn_alert_author nm_role(void *ud, const tn_pubkey *pk)
{
	(void)ud;
	(void)pk;
	return TN_ALERT_AUTHOR_NONE;
}

static bool nm_by_link(void *ud, const tn_linkpub *l, tn_pubkey *id)
{
	(void)ud;
	(void)l;
	(void)id;
	return false;
}

static uint32_t nm_epoch(void *ud)
{
	(void)ud;
	return 0;
}

static const tn_seckey *nm_group_key(void *ud, uint32_t e)
{
	(void)ud;
	(void)e;
	return NULL;
}

static bool nm_link_psk(void *ud, bool prev, tn_noise_psk *out)
{
	(void)ud;
	(void)prev;
	(void)out;
	return false;
}

static size_t nm_count(void *ud)
{
	(void)ud;
	return 0;
}

static bool nm_member(void *ud, size_t i, tn_node_member *out)
{
	(void)ud;
	(void)i;
	(void)out;
	return false;
}

static tn_node_membership_ops nobody_ops(void)
{
	return (tn_node_membership_ops){
	        .role = nm_role,
	        .by_link = nm_by_link,
	        .epoch = nm_epoch,
	        .group_key = nm_group_key,
	        .link_psk = nm_link_psk,
	        .count = nm_count,
	        .member = nm_member,
	};
}

void tn_node_cfg_prepare(tn_node_config *c)
{
	if (c->join) {
		memcpy(c->network_id, c->join->network_id, TN_NETWORK_ID);
		c->membership = nobody_ops();
		c->membership_ud = NULL;
	} else if (c->genesis) {
		/* The network id is the genesis's (docs/roster.md); the roster
		 * checks the record itself in setup. */
		uint8_t h[TN_HASH];
		crypto_generichash(h, sizeof h, c->genesis, c->genesis_len, NULL, 0);
		memcpy(c->network_id, h, TN_NETWORK_ID);
		c->membership = nobody_ops(); /* replaced by the roster in setup */
		c->membership_ud = NULL;
	}
}

/* ---- setup ---------------------------------------------------------------- */

static tn_err use_roster(tn_node *n)
{
	tn_err rc = tn_node_roster_init(&n->ra, n->roster, n->cfg.epoch_grace_ms);
	if (rc)
		return rc;
	tn_node_roster_set_time(&n->ra, n->last_wall);
	n->cfg.membership = tn_node_roster_ops();
	n->cfg.membership_ud = &n->ra;
	return TN_OK;
}

static tn_err new_roster(tn_node *n, const uint8_t *genesis, size_t len, tn_roster **out)
{
	tn_roster_config rc;
	tn_roster_config_default(&rc);
	rc.self = n->cfg.identity;
	return tn_roster_new(out, &rc, genesis, len);
}

tn_err tn_node_roster_setup(tn_node *n, const tn_node_config *cfg)
{
	tn_invite_book_init(&n->book);
	const tn_invite *inv = cfg->join;
	const uint8_t *genesis = cfg->genesis;
	size_t glen = cfg->genesis_len;
	/* Borrowed pointers are not kept. */
	n->cfg.join = NULL;
	n->cfg.genesis = NULL;
	n->cfg.genesis_len = 0;
	n->cfg.join_name = (tn_view){NULL, 0};
	if (!inv && !genesis)
		return TN_OK;
	n->rec_buf = malloc(TN_ROSTER_RECORD_MAX);
	if (!n->rec_buf)
		return TN_ERR_NOMEM;
	if (inv) {
		if (cfg->join_name.len > TN_NAME_MAX || (cfg->join_name.len && !cfg->join_name.p) ||
		    !tn_mp_utf8_valid(cfg->join_name.p, cfg->join_name.len) ||
		    inv->endpoint_count == 0 || inv->endpoint_count > TN_INVITE_ENDPOINTS_MAX)
			return TN_ERR_INVAL;
		n->invite = *inv;
		if (cfg->join_name.len)
			memcpy(n->join_name, cfg->join_name.p, cfg->join_name.len);
		n->join_name_len = cfg->join_name.len;
		n->join_state = NJ_JOINING;
		n->join_next_at = 0;
		n->join_dial_deadline = TN_TIME_NEVER;
		return TN_OK;
	}
	tn_err rc = new_roster(n, genesis, glen, &n->roster);
	if (rc)
		return rc == TN_ERR_NOMEM ? rc : TN_ERR_INVAL;
	return use_roster(n);
}

void tn_node_roster_link_free(node_link *l)
{
	free(l->rq);
	l->rq = NULL;
	l->rq_cap = l->rq_head = l->rq_n = 0;
	free(l->ph);
	l->ph = NULL;
	l->ph_n = l->ph_cap = 0;
	l->rs_active = l->hd_active = false;
}

void tn_node_roster_teardown(tn_node *n)
{
	if (n->cfg.membership_ud == &n->ra)
		tn_node_roster_free(&n->ra);
	tn_roster_del(n->roster);
	n->roster = NULL;
	tn_invite_book_free(&n->book);
	tn_invite_wipe(&n->invite);
	free(n->rec_buf);
	n->rec_buf = NULL;
}

tn_roster *tn_node_roster_get(tn_node *n)
{
	return n && n->join_state == NJ_NONE ? n->roster : NULL;
}

bool tn_node_is_joining(const tn_node *n)
{
	return n && n->join_state == NJ_JOINING;
}

/* ---- events --------------------------------------------------------------- */

static void push_blob_event(tn_node *n, ev_item *it, const uint8_t *p, size_t len)
{
	it->blob = malloc(len ? len : 1);
	if (!it->blob) {
		n->ctr[TN_NODE_C_EVENTS_DROPPED]++;
		return;
	}
	if (len)
		memcpy(it->blob, p, len);
	it->bloblen = len;
	if (!tn_node_ev_push(n, it)) {
		free(it->blob);
		n->ctr[TN_NODE_C_EVENTS_DROPPED]++;
	}
}

static void store_event(tn_node *n, size_t idx)
{
	tn_view v;
	if (tn_roster_record_at(n->roster, idx, &v) != TN_OK)
		return;
	ev_item it = {.type = TN_NODE_EV_STORE_ROSTER};
	push_blob_event(n, &it, v.p, v.len);
}

/* ---- accepting records ---------------------------------------------------- */

static void rq_push(node_link *l, uint32_t idx)
{
	if (l->rq_n == l->rq_cap) {
		if (l->rq_cap >= NODE_ROSTER_QUEUE_MAX)
			return; /* the heads exchange will bring it */
		size_t ncap = l->rq_cap ? l->rq_cap * 2 : 16;
		uint32_t *q = malloc(ncap * sizeof *q);
		if (!q)
			return;
		for (size_t i = 0; i < l->rq_n; i++)
			q[i] = l->rq[(l->rq_head + i) % l->rq_cap];
		free(l->rq);
		l->rq = q;
		l->rq_cap = ncap;
		l->rq_head = 0;
	}
	l->rq[(l->rq_head + l->rq_n) % l->rq_cap] = idx;
	l->rq_n++;
}

/* Close every up link whose member the roster no longer counts (revoked):
 * at once, not at the next handshake. */
static void roster_changed(tn_node *n, tn_time now, uint64_t wall_ms)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state != NL_UP || !l->has_member)
			continue;
		tn_alert_author r = n->cfg.membership.role(n->cfg.membership_ud, &l->member);
		if (r == TN_ALERT_AUTHOR_MEMBER || r == TN_ALERT_AUTHOR_COORDINATOR)
			continue;
		n->ctr[TN_NODE_C_LINK_REVOKED]++;
		tn_node_log(n, TN_LOG_DEBUG,
		            "link close reason=revoked peer=", tn_shortfp_linkpub(&l->remote).s);
		tn_node_link_kill(n, l, TN_CLOSE_REVOKED, now, wall_ms);
	}
}

/* Add one record; everything it made acceptable (itself and the held
 * records it released) is stored and pushed to every up link but src. */
static tn_err ingest(tn_node *n, const uint8_t *rec, size_t len, node_link *src, tn_time now,
                     uint64_t wall_ms, tn_roster_reason *why)
{
	size_t before = tn_roster_record_count(n->roster);
	tn_roster_reason r = tn_roster_add_record(n->roster, rec, len);
	if (why)
		*why = r;
	if (r == TN_ROSTER_R_NOMEM)
		return TN_ERR_NOMEM;
	size_t after = tn_roster_record_count(n->roster);
	for (size_t i = before; i < after; i++) {
		n->ctr[TN_NODE_C_ROSTER_ACCEPTED]++;
		store_event(n, i);
		for (size_t k = 0; k < TN_NODE_LINKS_MAX; k++)
			if (n->links[k].state == NL_UP && &n->links[k] != src)
				rq_push(&n->links[k], (uint32_t)i);
	}
	if (after > before)
		roster_changed(n, now, wall_ms);
	/* Every outcome is counted by the roster (tn_roster_counter) and said
	 * here with its reason: refusals at info, the ordinary ones at debug. */
	switch (r) {
	case TN_ROSTER_ACCEPTED: return TN_OK;
	case TN_ROSTER_R_DUPLICATE:
		tn_node_log(n, TN_LOG_DEBUG, "roster_record_duplicate", NULL);
		return TN_ERR_EXISTS;
	case TN_ROSTER_HELD_PENDING:
	case TN_ROSTER_HELD_REVOKED:
	case TN_ROSTER_HELD_DEMOTED:
	case TN_ROSTER_HELD_BACKDATED:
		tn_node_log(n, TN_LOG_DEBUG, "roster_record_held reason=", tn_roster_reason_str((int)r));
		return TN_ERR_AGAIN;
	default:
		n->ctr[TN_NODE_C_ROSTER_REFUSED]++;
		tn_node_log(n, TN_LOG_INFO, "roster_record_refused reason=", tn_roster_reason_str((int)r));
		return TN_ERR_PROTO;
	}
}

tn_err tn_node_roster_load(tn_node *n, const uint8_t *rec, size_t len, uint64_t wall_ms)
{
	if (!n || (!rec && len))
		return TN_ERR_INVAL;
	if (!tn_node_roster_get(n))
		return TN_ERR_STATE;
	(void)wall_ms;
	switch (tn_roster_add_record(n->roster, rec, len)) {
	case TN_ROSTER_ACCEPTED:
	case TN_ROSTER_HELD_PENDING:
	case TN_ROSTER_HELD_REVOKED:
	case TN_ROSTER_HELD_DEMOTED:
	case TN_ROSTER_HELD_BACKDATED: return TN_OK;
	case TN_ROSTER_R_DUPLICATE: return TN_ERR_EXISTS;
	case TN_ROSTER_R_NOMEM: return TN_ERR_NOMEM;
	default: return TN_ERR_PROTO;
	}
}

tn_err tn_node_roster_submit(tn_node *n, const uint8_t *rec, size_t len, tn_time now,
                             uint64_t wall_ms, tn_roster_reason *why)
{
	if (why)
		*why = TN_ROSTER_R_MALFORMED;
	if (!n || (!rec && len))
		return TN_ERR_INVAL;
	if (!tn_node_roster_get(n))
		return TN_ERR_STATE;
	tn_node_clock(n, now, wall_ms);
	return ingest(n, rec, len, NULL, now, wall_ms, why);
}

static bool self_coordinator(tn_node *n)
{
	uint8_t role;
	return tn_roster_role_of(n->roster, n->self, &role) == TN_OK && role == TN_ROLE_COORDINATOR;
}

tn_err tn_node_revoke(tn_node *n, const tn_pubkey *subject, tn_view reason, tn_time now,
                      uint64_t wall_ms)
{
	if (!n || !subject)
		return TN_ERR_INVAL;
	if (!tn_node_roster_get(n) || !self_coordinator(n))
		return TN_ERR_STATE;
	uint8_t role;
	if (tn_roster_role_of(n->roster, subject, &role) != TN_OK)
		return TN_ERR_NOTFOUND;
	tn_node_clock(n, now, wall_ms);
	tn_ssize len = tn_roster_make_revoke(n->roster, subject, reason, wall_ms, n->rec_buf,
	                                     TN_ROSTER_RECORD_MAX);
	if (len < 0)
		return (tn_err)len;
	tn_err rc = ingest(n, n->rec_buf, (size_t)len, NULL, now, wall_ms, NULL);
	if (rc)
		return rc == TN_ERR_NOMEM ? rc : TN_ERR_STATE;
	/* Rekey: new group key and link PSK for everyone still in. */
	tn_roster_rekey_plan plan;
	if ((rc = tn_roster_rekey_begin(n->roster, &n->cfg.rand, &plan)))
		return rc;
	for (uint16_t p = 0; p < plan.parts && rc == TN_OK; p++) {
		len = tn_roster_make_rekey_part(n->roster, &n->cfg.rand, &plan, p, wall_ms,
		                                n->rec_buf, TN_ROSTER_RECORD_MAX);
		rc = len < 0 ? (tn_err)len
		             : ingest(n, n->rec_buf, (size_t)len, NULL, now, wall_ms, NULL);
	}
	tn_roster_rekey_plan_wipe(&plan);
	return rc == TN_ERR_NOMEM ? rc : rc ? TN_ERR_STATE : TN_OK;
}

/* ---- invites ---------------------------------------------------------------- */

tn_err tn_node_invite_create(tn_node *n, const tn_view *endpoints, size_t nendpoints, uint8_t role,
                             uint64_t ttl_ms, uint64_t wall_ms, tn_invite *out)
{
	if (!n || !out)
		return TN_ERR_INVAL;
	memset(out, 0, sizeof *out);
	if (!tn_node_roster_get(n) || !self_coordinator(n))
		return TN_ERR_STATE;
	if (!ttl_ms)
		ttl_ms = TN_INVITE_TTL_DEFAULT_MS;
	if (wall_ms > UINT64_MAX - ttl_ms)
		return TN_ERR_INVAL;
	tn_err rc = tn_invite_new(out, &n->cfg.rand, n->cfg.network_id, n->self_link, endpoints,
	                          nendpoints, wall_ms + ttl_ms, role);
	if (rc)
		return rc;
	tn_invite_reason why;
	rc = tn_invite_book_add(&n->book, out, wall_ms, &why);
	if (rc) {
		tn_invite_wipe(out);
		return rc == TN_ERR_LIMIT ? rc : TN_ERR_INVAL;
	}
	return TN_OK;
}

const tn_invite_book *tn_node_invite_book(const tn_node *n)
{
	return n ? &n->book : NULL;
}

void tn_node_invite_book_set(tn_node *n, const tn_invite_book *b)
{
	if (!n || !b || b->count > TN_INVITE_BOOK_MAX)
		return;
	tn_invite_book_free(&n->book);
	n->book = *b;
}

void tn_node_join_psks(tn_node *n, tn_link_config *c)
{
	if (!tn_node_roster_get(n) || !n->book.count)
		return;
	tn_seckey k[TN_INVITE_BOOK_MAX];
	size_t m = tn_invite_book_psks(&n->book, n->last_wall, k, TN_INVITE_BOOK_MAX);
	if (m > TN_LINK_JOIN_PSKS_MAX)
		m = TN_LINK_JOIN_PSKS_MAX;
	for (size_t i = 0; i < m; i++)
		memcpy(c->join_psks[i].b, k[i].b, sizeof c->join_psks[i].b);
	c->njoin_psks = m;
	sodium_memzero(k, sizeof k);
}

/* ---- heads and records on normal links ------------------------------------- */

static int head_cmp(const uint8_t *issuer, const tn_roster_head *h)
{
	return memcmp(issuer, h->issuer, TN_PUBKEY);
}

/* The peer's iseq for issuer in its last complete heads round (0: none). */
static uint64_t peer_head(const node_link *l, const uint8_t issuer[TN_PUBKEY])
{
	size_t lo = 0, hi = l->rs_heads;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = head_cmp(issuer, &l->ph[mid]);
		if (c == 0)
			return l->ph[mid].iseq;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static bool send_record(tn_node *n, node_link *l, size_t idx, tn_time now)
{
	tn_view v;
	if (tn_roster_record_at(n->roster, idx, &v) != TN_OK)
		return false;
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ROSTER;
	m.record = v;
	if (tn_node_send_msg(n, l, &m, false, now) != TN_OK)
		return false;
	n->ctr[TN_NODE_C_ROSTER_TX]++;
	return true;
}

/* Next record, in acceptance order, that the peer's heads say it lacks. */
static bool serve_step(tn_node *n, node_link *l, tn_time now)
{
	size_t cnt = tn_roster_record_count(n->roster);
	while (l->rs_pos < cnt) {
		size_t i = l->rs_pos++;
		tn_view v;
		tn_roster_rec r;
		if (tn_roster_record_at(n->roster, i, &v) != TN_OK ||
		    tn_roster_decode(&r, v.p, v.len) != TN_OK)
			continue;
		if (r.iseq <= peer_head(l, r.issuer))
			continue;
		return send_record(n, l, i, now);
	}
	l->rs_active = false;
	return false;
}

static bool heads_step(tn_node *n, node_link *l, tn_time now)
{
	tn_roster_head *hs = malloc(TN_HEADS_PER_MSG * sizeof *hs);
	if (!hs) {
		l->hd_active = false;
		return false;
	}
	size_t cnt = tn_roster_member_count(n->roster), k = 0;
	while (l->hd_pos < cnt && k < TN_HEADS_PER_MSG) {
		tn_roster_member m;
		uint8_t id[TN_HASH];
		uint64_t iseq;
		if (tn_roster_member_at(n->roster, l->hd_pos++, &m) == TN_OK &&
		    tn_roster_chain_head(n->roster, &m.pk, &iseq, id) == TN_OK) {
			memcpy(hs[k].issuer, m.pk.b, TN_PUBKEY);
			hs[k].iseq = iseq;
			k++;
		}
	}
	tn_link_msg msg;
	memset(&msg, 0, sizeof msg);
	msg.type = TN_LINK_ROSTER_HEADS;
	msg.heads = hs;
	msg.count = k;
	bool ok = tn_node_send_msg(n, l, &msg, false, now) == TN_OK;
	if (ok)
		n->ctr[TN_NODE_C_HEADS_TX]++;
	/* A part shorter than TN_HEADS_PER_MSG ends the round. */
	if (!ok || k < TN_HEADS_PER_MSG)
		l->hd_active = false;
	free(hs);
	return ok;
}

bool tn_node_roster_pending(const node_link *l)
{
	return l->rq_n || l->hd_active || l->rs_active;
}

bool tn_node_roster_pump(tn_node *n, node_link *l, tn_time now)
{
	if (!tn_node_roster_get(n))
		return false;
	while (l->rq_n) {
		uint32_t idx = l->rq[l->rq_head];
		l->rq_head = (l->rq_head + 1) % l->rq_cap;
		l->rq_n--;
		if (send_record(n, l, idx, now))
			return true;
	}
	if (l->hd_active && heads_step(n, l, now))
		return true;
	while (l->rs_active && l->state == NL_UP)
		if (serve_step(n, l, now))
			return true;
	return false;
}

void tn_node_roster_digest_seen(tn_node *n, node_link *l, const uint8_t digest[TN_HASH],
                                tn_time now)
{
	if (!tn_node_roster_get(n) || l->hd_active)
		return;
	uint8_t ours[TN_HASH];
	if (tn_roster_state_hash(n->roster, ours) != TN_OK ||
	    sodium_memcmp(ours, digest, TN_HASH) == 0)
		return;
	/* At most one heads round per half interval per link: a difference
	 * the heads cannot settle (a fork, held records) costs one exchange
	 * per anti-entropy round, not one per digest part. */
	if (l->hd_sent_at != TN_TIME_NEVER && now - l->hd_sent_at < n->cfg.anti_entropy / 2)
		return;
	l->hd_active = true;
	l->hd_pos = 0;
	l->hd_sent_at = now;
}

static void proto_close(tn_node *n, node_link *l, tn_time now)
{
	n->ctr[TN_NODE_C_LINK_PROTO]++;
	tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, n->last_wall);
}

void tn_node_heads_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now)
{
	if (!tn_node_roster_get(n)) {
		n->ctr[TN_NODE_C_ROSTER_IGNORED]++;
		return;
	}
	n->ctr[TN_NODE_C_HEADS_RX]++;
	/* A new round replaces the last one (and stops serving it). */
	if (l->ph_done) {
		l->ph_n = 0;
		l->ph_done = false;
		l->rs_heads = 0;
		l->rs_active = false;
	}
	tn_iter it;
	tn_roster_head h;
	tn_iter_init(&it, &m->list);
	while (tn_link_head_next(&it, &h) == TN_OK) {
		if (l->ph_n && memcmp(l->ph[l->ph_n - 1].issuer, h.issuer, TN_PUBKEY) >= 0) {
			proto_close(n, l, now); /* parts out of order */
			return;
		}
		if (l->ph_n == l->ph_cap) {
			if (l->ph_cap >= TN_ROSTER_MAX) {
				proto_close(n, l, now);
				return;
			}
			size_t ncap = l->ph_cap ? l->ph_cap * 2 : 64;
			if (ncap > TN_ROSTER_MAX)
				ncap = TN_ROSTER_MAX;
			tn_roster_head *p = realloc(l->ph, ncap * sizeof *p);
			if (!p)
				return;
			l->ph = p;
			l->ph_cap = ncap;
		}
		l->ph[l->ph_n++] = h;
	}
	if (m->count < TN_HEADS_PER_MSG) {
		/* Round complete: serve from the start of our acceptance order.
		 * A peer following the protocol starts at most one round per
		 * half interval; more is a member making us resend the roster
		 * (bandwidth, not memory: we move records only as the link
		 * drains), so quicker rounds are ignored. */
		l->ph_done = true;
		if (l->rs_started_at != TN_TIME_NEVER &&
		    now - l->rs_started_at < n->cfg.anti_entropy / 4) {
			n->ctr[TN_NODE_C_HEADS_LIMITED]++;
			return;
		}
		l->rs_started_at = now;
		l->rs_heads = l->ph_n;
		l->rs_pos = 0;
		l->rs_active = true;
		tn_node_pump(n, l, now);
	}
}

void tn_node_roster_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now,
                            uint64_t wall_ms)
{
	if (!tn_node_roster_get(n)) {
		n->ctr[TN_NODE_C_ROSTER_IGNORED]++;
		return;
	}
	n->ctr[TN_NODE_C_ROSTER_RX]++;
	tn_roster_reason why = TN_ROSTER_ACCEPTED;
	(void)ingest(n, m->record.p, m->record.len, l, now, wall_ms, &why);
	/* Relays push only records they accepted, verified: the peer made it. */
	if (why == TN_ROSTER_R_SIGNATURE)
		tn_node_bad_sig(n, l, now, wall_ms);
}

/* ---- joining: both ends ------------------------------------------------------ */

/* TN_JOIN_SIG_CONTEXT || handshake hash || identity || link || name. */
static size_t join_signed(uint8_t *buf, const uint8_t hs_hash[TN_NOISE_HASH], const tn_link_join *j)
{
	size_t o = 0;
	memcpy(buf + o, TN_JOIN_SIG_CONTEXT, TN_JOIN_SIG_CONTEXT_LEN);
	o += TN_JOIN_SIG_CONTEXT_LEN;
	memcpy(buf + o, hs_hash, TN_NOISE_HASH);
	o += TN_NOISE_HASH;
	memcpy(buf + o, j->identity, TN_PUBKEY);
	o += TN_PUBKEY;
	memcpy(buf + o, j->link, TN_PUBKEY);
	o += TN_PUBKEY;
	if (j->name.len)
		memcpy(buf + o, j->name.p, j->name.len);
	return o + j->name.len;
}

enum { JOIN_SIGNED_MAX = TN_JOIN_SIG_CONTEXT_LEN + TN_NOISE_HASH + 2 * TN_PUBKEY + TN_NAME_MAX };

tn_err tn_node_join_link_config(tn_node *n, tn_link_config *c)
{
	tn_seckey psk;
	tn_invite_join_psk(&n->invite, &psk);
	memcpy(c->psk.b, psk.b, sizeof c->psk.b);
	sodium_memzero(&psk, sizeof psk);
	memcpy(c->expected_remote.b, n->invite.coordinator_link.b, sizeof c->expected_remote.b);
	memcpy(c->network_id, n->invite.network_id, TN_NETWORK_ID);
	return TN_OK;
}

static void send_join(tn_node *n, node_link *l, tn_time now)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_JOIN;
	memcpy(m.join.identity, n->self->b, TN_PUBKEY);
	memcpy(m.join.link, n->self_link->b, TN_PUBKEY);
	m.join.name = (tn_view){n->join_name, n->join_name_len};
	uint8_t buf[JOIN_SIGNED_MAX];
	size_t len = join_signed(buf, l->hs_hash, &m.join);
	tn_sig sig;
	if (tn_identity_sign(n->cfg.identity, buf, len, &sig) != TN_OK ||
	    (memcpy(m.join.sig, sig.b, TN_SIG), tn_node_send_msg(n, l, &m, false, now) != TN_OK))
		tn_node_link_kill(n, l, TN_CLOSE_NORMAL, now, n->last_wall);
}

void tn_node_join_established(tn_node *n, node_link *l, const tn_link_event *ev, tn_time now,
                              uint64_t wall_ms)
{
	(void)wall_ms;
	memcpy(l->remote.b, ev->remote_static.b, TN_PUBKEY);
	memcpy(l->hs_hash, ev->hs_hash, TN_NOISE_HASH);
	l->hello_id = ev->remote_identity;
	l->state = NL_JOIN;
	l->join_deadline = now + NODE_JOIN_LINK_TIMEOUT * TN_SEC;
	if (l->role == TN_NOISE_INITIATOR)
		send_join(n, l, now);
}

/* ---- joining: the coordinator ------------------------------------------------ */

/* The book entry whose join PSK is psk: its index, or -1. */
static int book_find(const tn_node *n, const tn_noise_psk *psk)
{
	for (size_t i = 0; i < n->book.count; i++) {
		tn_invite inv;
		memset(&inv, 0, sizeof inv);
		inv.secret = n->book.e[i].secret;
		memcpy(inv.network_id, n->book.e[i].network_id, TN_NETWORK_ID);
		tn_seckey k;
		tn_invite_join_psk(&inv, &k);
		bool eq = sodium_memcmp(k.b, psk->b, sizeof k.b) == 0;
		sodium_memzero(&k, sizeof k);
		tn_invite_wipe(&inv);
		if (eq)
			return (int)i;
	}
	return -1;
}

static void refuse(tn_node *n, node_link *l, tn_node_counter c, const char *why, tn_time now)
{
	n->ctr[c]++;
	tn_node_log(n, TN_LOG_DEBUG, "join refused reason=", why);
	tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, n->last_wall);
}

/* Checks, cheapest first: one JOIN per link, link key = the handshake's,
 * signature over the handshake hash, identity new, invite redeemable; only
 * then is the add record made and the invite spent. */
static void handle_join(tn_node *n, node_link *l, const tn_link_join *j, tn_time now,
                        uint64_t wall_ms)
{
	if (!tn_node_roster_get(n) || !self_coordinator(n)) {
		refuse(n, l, TN_NODE_C_JOIN_REFUSED, "not_coordinator", now);
		return;
	}
	tn_pubkey ident;
	tn_linkpub lpk;
	memcpy(ident.b, j->identity, TN_PUBKEY);
	memcpy(lpk.b, j->link, TN_PUBKEY);
	if (sodium_memcmp(lpk.b, l->remote.b, TN_PUBKEY) != 0) {
		refuse(n, l, TN_NODE_C_JOIN_BAD_SIG, "link_key", now);
		return;
	}
	/* The identity that signed message 1 (docs/link.md) is the one that
	 * asks to join. */
	if (!tn_pubkey_eq(&ident, &l->hello_id)) {
		refuse(n, l, TN_NODE_C_JOIN_BAD_SIG, "hello_identity", now);
		return;
	}
	uint8_t buf[JOIN_SIGNED_MAX];
	size_t len = join_signed(buf, l->hs_hash, j);
	tn_sig sig;
	memcpy(sig.b, j->sig, TN_SIG);
	if (tn_sig_verify(&ident, buf, len, &sig) != TN_OK) {
		refuse(n, l, TN_NODE_C_JOIN_BAD_SIG, "signature", now);
		return;
	}
	tn_roster_member m;
	if (tn_roster_member_by_pk(n->roster, &ident, &m) == TN_OK ||
	    tn_roster_member_by_link(n->roster, &lpk, &m) == TN_OK) {
		refuse(n, l, TN_NODE_C_JOIN_EXISTS, "exists", now);
		return;
	}
	tn_noise_psk psk;
	if (tn_link_join_psk(l->link, &psk) != TN_OK) {
		refuse(n, l, TN_NODE_C_JOIN_INVITE, "no_invite", now);
		return;
	}
	int bi = book_find(n, &psk);
	if (bi < 0 || n->book.e[bi].used || n->book.e[bi].expires_ms <= wall_ms) {
		sodium_memzero(&psk, sizeof psk);
		{
			refuse(n, l, TN_NODE_C_JOIN_INVITE, "invite", now);
			return;
		}
	}
	tn_ssize rlen =
	        tn_roster_make_add(n->roster, &n->cfg.rand, &ident, &lpk, j->name,
	                           n->book.e[bi].role, wall_ms, n->rec_buf, TN_ROSTER_RECORD_MAX);
	if (rlen < 0) {
		sodium_memzero(&psk, sizeof psk);
		{
			refuse(n, l, TN_NODE_C_JOIN_REFUSED, "make_add", now);
			return;
		}
	}
	tn_seckey k;
	memcpy(k.b, psk.b, sizeof k.b);
	sodium_memzero(&psk, sizeof psk);
	tn_invite_reason why;
	tn_err rc = tn_invite_book_redeem(&n->book, &k, wall_ms, NULL, &why);
	sodium_memzero(&k, sizeof k);
	if (rc) {
		refuse(n, l, TN_NODE_C_JOIN_INVITE, tn_invite_reason_str((int)why), now);
		return;
	}
	if (ingest(n, n->rec_buf, (size_t)rlen, NULL, now, wall_ms, NULL) != TN_OK) {
		refuse(n, l, TN_NODE_C_JOIN_REFUSED, "add_refused", now);
		return;
	}
	n->ctr[TN_NODE_C_JOIN_ACCEPTED]++;
	l->join_seen = true;
	ev_item it = {.type = TN_NODE_EV_JOINED, .link_id = l->id, .member = ident};
	push_blob_event(n, &it, j->name.p, j->name.len);
	/* The whole roster, genesis first, in acceptance order; then close. */
	l->rs_heads = 0;
	l->rs_pos = 0;
	l->rs_active = true;
	l->join_done = true;
}

/* ---- joining: the newcomer ------------------------------------------------------ */

static void join_fail(tn_node *n, node_link *l, tn_err err, tn_time now)
{
	n->ctr[TN_NODE_C_JOIN_LINK_PROTO]++;
	(void)err;
	tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, n->last_wall);
}

static void join_complete(tn_node *n, node_link *l, tn_time now, uint64_t wall_ms)
{
	if (use_roster(n) != TN_OK) {
		tn_node_roster_free(&n->ra);
		return;
	}
	n->join_state = NJ_NONE;
	tn_node_roster_set_time(&n->ra, wall_ms);
	/* Everything we hold, for the store, in acceptance order. */
	size_t cnt = tn_roster_record_count(n->roster);
	for (size_t i = 0; i < cnt; i++)
		store_event(n, i);
	tn_roster_member m;
	memset(&m, 0, sizeof m);
	if (tn_roster_member_by_link(n->roster, &n->invite.coordinator_link, &m) == TN_OK) {
		n->join_coord_known = true;
		n->join_coord = m.pk;
	}
	ev_item it = {.type = TN_NODE_EV_JOINED, .link_id = l->id, .member = m.pk};
	push_blob_event(n, &it, m.name.p, m.name.len);
	/* The secret is spent; the endpoints stay as the coordinator's
	 * fallback addresses. */
	sodium_memzero(&n->invite.secret, sizeof n->invite.secret);
	tn_node_link_kill(n, l, TN_CLOSE_NORMAL, now, wall_ms);
	n->maint_due = true;
}

static void joiner_record(tn_node *n, node_link *l, const tn_view *rec, tn_time now,
                          uint64_t wall_ms)
{
	n->ctr[TN_NODE_C_ROSTER_RX]++;
	if (!n->roster) {
		tn_roster *ro = NULL;
		tn_err rc = new_roster(n, rec->p, rec->len, &ro);
		if (rc == TN_OK && sodium_memcmp(tn_roster_network_id(ro), n->invite.network_id,
		                                 TN_NETWORK_ID) != 0)
			rc = TN_ERR_PROTO; /* not the network the invite names */
		if (rc) {
			tn_roster_del(ro);
			{
				join_fail(n, l, rc, now);
				return;
			}
		}
		n->roster = ro;
	} else {
		tn_roster_reason r = tn_roster_add_record(n->roster, rec->p, rec->len);
		if (r == TN_ROSTER_R_NOMEM) {
			join_fail(n, l, TN_ERR_NOMEM, now);
			return;
		}
		if (r != TN_ROSTER_ACCEPTED && r != TN_ROSTER_R_DUPLICATE)
			n->ctr[TN_NODE_C_ROSTER_REFUSED]++;
	}
	/* Done once our own admission is there, with our link key: everything
	 * it depends on came before it. */
	tn_roster_member m;
	if (tn_roster_member_by_pk(n->roster, n->self, &m) == TN_OK && m.active &&
	    sodium_memcmp(m.link.b, n->self_link->b, TN_PUBKEY) == 0)
		join_complete(n, l, now, wall_ms);
}

void tn_node_join_message(tn_node *n, node_link *l, const uint8_t *msg, size_t len, tn_time now,
                          uint64_t wall_ms)
{
	tn_link_msg m;
	if (tn_link_decode(&m, msg, len) != TN_OK)
		return;
	if (m.type == TN_LINK_PONG)
		return; /* the link's own keepalive */
	if (l->role == TN_NOISE_RESPONDER && m.type == TN_LINK_JOIN && !l->join_seen) {
		handle_join(n, l, &m.join, now, wall_ms);
		return;
	}
	if (l->role == TN_NOISE_INITIATOR && m.type == TN_LINK_ROSTER &&
	    n->join_state == NJ_JOINING) {
		joiner_record(n, l, &m.record, now, wall_ms);
		return;
	}
	n->ctr[TN_NODE_C_JOIN_LINK_PROTO]++;
	tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, wall_ms);
}

void tn_node_join_pump(tn_node *n, node_link *l, tn_time now)
{
	while (l->state == NL_JOIN && l->rs_active &&
	       tn_link_pending(l->link) < NODE_LINK_WATERMARK)
		if (!serve_step(n, l, now) && l->rs_active)
			break;
	if (l->state == NL_JOIN && l->join_done && !l->rs_active && tn_link_pending(l->link) == 0)
		tn_node_link_kill(n, l, TN_CLOSE_NORMAL, now, n->last_wall);
}

/* ---- joining: dialing and timers ------------------------------------------------- */

static node_link *join_link(tn_node *n)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state != NL_FREE && n->links[i].state != NL_CLOSING &&
		    n->links[i].role == TN_NOISE_INITIATOR)
			return &n->links[i];
	return NULL;
}

static void join_retry(tn_node *n, tn_err err, tn_time now)
{
	n->ctr[TN_NODE_C_JOIN_FAILED]++;
	ev_item it = {.type = TN_NODE_EV_JOIN_FAILED, .err = err};
	(void)tn_node_ev_push(n, &it);
	n->join_dial_deadline = TN_TIME_NEVER;
	n->join_backoff = n->join_backoff ? n->join_backoff * 2 : n->cfg.backoff_min;
	if (n->join_backoff > n->cfg.backoff_max)
		n->join_backoff = n->cfg.backoff_max;
	n->join_next_at = now + tn_node_jitter(n, n->join_backoff, 50, 100);
	n->join_ep++;
}

void tn_node_join_link_closed(tn_node *n, node_link *l, tn_err err, tn_time now)
{
	(void)l;
	if (n->join_state == NJ_JOINING)
		join_retry(n, err == TN_OK ? TN_ERR_CLOSED : err, now);
}

void tn_node_join_dial_failed(tn_node *n, tn_time now)
{
	if (n->join_state == NJ_JOINING && n->join_dial_deadline != TN_TIME_NEVER)
		join_retry(n, TN_ERR_TIMEOUT, now);
}

void tn_node_join_opened(tn_node *n)
{
	n->join_dial_deadline = TN_TIME_NEVER;
	n->join_next_at = TN_TIME_NEVER;
}

static void join_dial(tn_node *n, tn_time now, uint64_t wall_ms)
{
	tn_invite_reason why;
	if (tn_invite_check(&n->invite, wall_ms, &why) != TN_OK) {
		n->ctr[TN_NODE_C_JOIN_FAILED]++;
		ev_item it = {.type = TN_NODE_EV_JOIN_FAILED, .err = TN_ERR_STALE};
		(void)tn_node_ev_push(n, &it);
		n->join_next_at = TN_TIME_NEVER; /* give up: a new invite is needed */
		return;
	}
	size_t e = n->join_ep % n->invite.endpoint_count;
	ev_item it = {.type = TN_NODE_EV_DIAL};
	n->join_next_at = TN_TIME_NEVER;
	n->join_dial_deadline = now + 30 * TN_SEC + TN_HANDSHAKE_TIMEOUT;
	n->ctr[TN_NODE_C_DIAL]++;
	push_blob_event(n, &it, (const uint8_t *)n->invite.endpoints[e], n->invite.endpoint_len[e]);
}

void tn_node_join_tick(tn_node *n, tn_time now, uint64_t wall_ms)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state == NL_JOIN && l->join_deadline <= now) {
			n->ctr[TN_NODE_C_JOIN_TIMEOUT]++;
			tn_node_link_kill(n, l, TN_CLOSE_NORMAL, now, wall_ms);
		}
	}
	if (n->join_state != NJ_JOINING)
		return;
	if (n->join_dial_deadline <= now)
		join_retry(n, TN_ERR_TIMEOUT, now);
	if (n->join_next_at <= now && !join_link(n))
		join_dial(n, now, wall_ms);
}

tn_time tn_node_join_deadline(const tn_node *n)
{
	tn_time t = TN_TIME_NEVER;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_JOIN && n->links[i].join_deadline < t)
			t = n->links[i].join_deadline;
	if (n->join_state == NJ_JOINING) {
		if (n->join_next_at < t)
			t = n->join_next_at;
		if (n->join_dial_deadline < t)
			t = n->join_dial_deadline;
	}
	return t;
}
