/* tn_node: lifetime, events, time, own alerts, store round trip, counters
 * (docs/node.md). Links are node_link.c, gossip gossip.c, receipts
 * receipt.c, the index node_index.c. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node_priv.h"

/* msg followed by tail (may be NULL); no printf in protocol/ (no stdio). */
void tn_node_log(const tn_node *n, int level, const char *msg, const char *tail)
{
	if (!n->cfg.log)
		return;
	char buf[160];
	size_t a = strlen(msg), b = tail ? strlen(tail) : 0;
	if (a > sizeof buf - 1)
		a = sizeof buf - 1;
	if (b > sizeof buf - 1 - a)
		b = sizeof buf - 1 - a;
	memcpy(buf, msg, a);
	if (b)
		memcpy(buf + a, tail, b);
	buf[a + b] = 0;
	n->cfg.log(n->cfg.log_ud, level, buf);
}

uint64_t tn_node_rand_u64(tn_node *n)
{
	uint8_t b[8];
	uint64_t v = 0;
	tn_rand_bytes(&n->cfg.rand, b, sizeof b);
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* base * uniform[lo%, hi%]. */
tn_time tn_node_jitter(tn_node *n, tn_time base, unsigned pct_lo, unsigned pct_hi)
{
	tn_time lo = base / 100 * pct_lo;
	tn_time span = base / 100 * (pct_hi - pct_lo);
	return lo + (span ? tn_node_rand_u64(n) % (span + 1) : 0);
}

void tn_node_clock(tn_node *n, tn_time now, uint64_t wall_ms)
{
	n->last_now = now;
	n->last_wall = wall_ms;
	if (n->cfg.membership_ud == &n->ra && n->roster)
		tn_node_roster_set_time(&n->ra, wall_ms);
}

void tn_node_config_default(tn_node_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->degree = TN_NODE_DEGREE_DEFAULT;
	cfg->max_inbound = TN_NODE_MAX_INBOUND_DEFAULT;
	cfg->passive_max = TN_NODE_PASSIVE_DEFAULT;
	cfg->alerts_max = TN_NODE_ALERTS_DEFAULT;
	cfg->anti_entropy = TN_NODE_ANTI_ENTROPY_DEFAULT;
	cfg->receipt_delay = TN_NODE_RECEIPT_DELAY_DEFAULT;
	cfg->backoff_min = TN_NODE_BACKOFF_MIN_DEFAULT;
	cfg->backoff_max = TN_NODE_BACKOFF_MAX_DEFAULT;
	cfg->receipt_hops = TN_NODE_RECEIPT_HOPS_DEFAULT;
	cfg->receipt_resend = TN_NODE_RECEIPT_RESEND_DEFAULT;
	cfg->lazy_push = TN_NODE_LAZY_DEFAULT;
	cfg->ihave_delay = TN_NODE_IHAVE_DELAY_DEFAULT;
	cfg->graft_timeout = TN_NODE_GRAFT_TIMEOUT_DEFAULT;
	tn_alert_limits_default(&cfg->limits);
}

static bool cfg_ok(const tn_node_config *c)
{
	const tn_node_membership_ops *m = &c->membership;
	return c->identity && c->rand.fn && m->role && m->by_link && m->epoch && m->group_key &&
	       m->link_psk && m->count && m->member && c->degree >= 1 &&
	       c->degree + c->max_inbound < TN_NODE_LINKS_MAX && c->alerts_max >= 1 &&
	       c->alerts_max <= TN_NODE_ALERTS_MAX && c->receipt_hops <= TN_RECEIPT_HOPS_MAX &&
	       c->anti_entropy >= TN_SEC && c->backoff_min >= 1 && c->backoff_max >= c->backoff_min &&
	       c->lazy_push <= TN_LAZY_MODE_MAX &&
	       (c->lazy_push == TN_LAZY_OFF || c->graft_timeout >= TN_MSEC);
}

tn_err tn_node_new(tn_node **out, const tn_node_config *ucfg)
{
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!ucfg)
		return TN_ERR_INVAL;
	tn_node_config c = *ucfg;
	const tn_node_config *cfg = &c;
	if (c.join && c.genesis)
		return TN_ERR_INVAL;
	tn_node_cfg_prepare(&c);
	if (!cfg_ok(cfg))
		return TN_ERR_INVAL;
	tn_node *n = calloc(1, sizeof *n);
	if (!n)
		return TN_ERR_NOMEM;
	n->cfg = *cfg;
	n->self = tn_identity_pubkey(cfg->identity);
	n->self_link = tn_identity_linkpub(cfg->identity);
	tn_rand_bytes(&n->cfg.rand, n->hashkey, sizeof n->hashkey);
	n->next_link_id = 1;
	n->ae_at = TN_TIME_NEVER;
	n->rw_due_ms = UINT64_MAX;
	n->maint_due = true; /* first tick: start dialing */
	n->npeers_max = cfg->passive_max + TN_NODE_LINKS_MAX;
	n->evcap = 64;
	tn_err rc = TN_ERR_NOMEM;
	n->peers = calloc(n->npeers_max, sizeof *n->peers);
	n->evq = calloc(n->evcap, sizeof *n->evq);
	n->pt_buf = malloc(TN_ALERT_PLAINTEXT_MAX);
	n->scratch = malloc(TN_LINK_PLAINTEXT_MAX);
	if (!n->peers || !n->evq || !n->pt_buf || !n->scratch)
		goto fail;
	if ((rc = tn_node_roster_setup(n, cfg)))
		goto fail;
	if ((rc = tn_node_index_init(n)) || (rc = tn_replay_cache_new(&n->replay, 0)) ||
	    (rc = tn_alert_limiter_new(&n->rl_push, &cfg->limits, &n->cfg.rand)) ||
	    (rc = tn_alert_limiter_new(&n->rl_pull, &cfg->limits, &n->cfg.rand)))
		goto fail;
	tn_bucket_init(&n->pace_b[TN_ALERT_CLASS_URGENT], &cfg->limits.urgent, 0);
	tn_bucket_init(&n->pace_b[TN_ALERT_CLASS_CHATTER], &cfg->limits.chatter, 0);
	tn_alert_ops ops = tn_node_alert_ops();
	if ((rc = tn_alert_ctx_init(&n->ctx, cfg->network_id, &ops, n, n->rl_push)))
		goto fail;
	*out = n;
	return TN_OK;
fail:
	tn_node_del(n);
	return rc == TN_ERR_INVAL ? TN_ERR_INVAL : TN_ERR_NOMEM;
}

void tn_node_del(tn_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		tn_node_roster_link_free(l);
		tn_link_del(l->link);
		tn_node_qring_free(&l->prio);
		tn_node_qring_free(&l->normal);
		free(l->rbuf);
		free(l->own);
		free(l->wants);
		free(l->ih);
	}
	free(n->miss);
	for (size_t i = 0; n->evq && i < n->evn; i++)
		free(n->evq[(n->evhead + i) % n->evcap].blob);
	free(n->evq);
	free(n->ev_blob);
	if (n->pt_buf)
		sodium_memzero(n->pt_buf, TN_ALERT_PLAINTEXT_MAX);
	free(n->pt_buf);
	free(n->scratch);
	free(n->peers);
	tn_node_index_free(n);
	tn_ratelimit_del(n->rl_push);
	tn_ratelimit_del(n->rl_pull);
	tn_node_pace_free(n);
	tn_replay_cache_del(n->replay);
	tn_node_rseen_free(n);
	tn_node_roster_teardown(n);
	sodium_memzero(n->hashkey, sizeof n->hashkey);
	free(n);
}

/* ---- events ------------------------------------------------------------ */

bool tn_node_ev_push(tn_node *n, const ev_item *it)
{
	if (n->evn == n->evcap) {
		if (n->evcap >= NODE_EVENTS_MAX)
			return false;
		size_t ncap = n->evcap * 2;
		ev_item *q = calloc(ncap, sizeof *q);
		if (!q)
			return false;
		for (size_t i = 0; i < n->evn; i++)
			q[i] = n->evq[(n->evhead + i) % n->evcap];
		free(n->evq);
		n->evq = q;
		n->evcap = ncap;
		n->evhead = 0;
	}
	n->evq[(n->evhead + n->evn) % n->evcap] = *it;
	n->evn++;
	return true;
}

static void wipe_last(tn_node *n)
{
	free(n->ev_blob);
	n->ev_blob = NULL;
	if (n->pt_live) {
		sodium_memzero(n->pt_buf, TN_ALERT_PLAINTEXT_MAX);
		n->pt_live = false;
	}
}

/* Open an alert for NOTIFY. The plaintext lives in pt_buf until the next
 * call on the node. */
static void fill_notify(tn_node *n, const alert_entry *a, tn_node_event *ev)
{
	tn_alert_env e;
	ev->opened = false;
	if (tn_alert_env_decode(&e, a->env, a->len) != TN_OK) {
		ev->reason = TN_ALERT_MALFORMED;
		return;
	}
	tn_alert_opened o;
	if (tn_alert_open(&n->ctx, &e, n->pt_buf, TN_ALERT_PLAINTEXT_MAX, &o) != TN_OK) {
		ev->reason = TN_ALERT_BAD_CIPHERTEXT;
		return;
	}
	n->pt_live = true;
	ev->reason = o.reason;
	if (o.reason == TN_ALERT_OPENED) {
		ev->opened = true;
		ev->pt = o.pt;
	} else {
		n->ctr[TN_NODE_C_NOTIFY_UNREADABLE]++;
	}
}

static bool deliver(tn_node *n, ev_item *it, tn_node_event *ev)
{
	ev->type = (tn_node_event_type)it->type;
	ev->link_id = it->link_id;
	ev->close_at = it->close_at;
	ev->member = it->member;
	memcpy(ev->alert_id, it->alert_id, TN_ALERT_ID);
	memcpy(ev->other_id, it->other_id, TN_ALERT_ID);
	ev->kind = it->kind;
	ev->seq = it->seq;
	ev->stored_ms = it->stored_ms;
	ev->delivered = it->delivered;
	n->ev_blob = it->blob;
	it->blob = NULL;
	switch (ev->type) {
	case TN_NODE_EV_DIAL: ev->endpoint = (tn_view){n->ev_blob, it->bloblen}; break;
	case TN_NODE_EV_CONFLICT: ev->envelope = (tn_view){n->ev_blob, it->bloblen}; break;
	case TN_NODE_EV_STORE_ROSTER: ev->record = (tn_view){n->ev_blob, it->bloblen}; break;
	case TN_NODE_EV_JOINED: ev->name = (tn_view){n->ev_blob, it->bloblen}; break;
	case TN_NODE_EV_JOIN_FAILED: ev->err = it->err; break;
	case TN_NODE_EV_DIALBACK:
		ev->endpoint = (tn_view){n->ev_blob, it->bloblen};
		ev->probe_id = it->probe_id;
		break;
	case TN_NODE_EV_REACHABILITY: ev->dialback = it->kind; break;
	case TN_NODE_EV_STORE_ALERT:
	case TN_NODE_EV_NOTIFY: {
		alert_entry *a = tn_node_index_ref(n, (qref){it->slot, it->gen});
		if (!a)
			return false; /* gone since (expired, failed store) */
		ev->member = a->author;
		ev->kind = a->kind;
		ev->seq = a->seq;
		ev->expires_ms = a->expires_ms;
		ev->own = (a->flags & AF_OWN) != 0;
		memcpy(ev->alert_id, a->id, TN_ALERT_ID);
		if (ev->type == TN_NODE_EV_STORE_ALERT)
			ev->envelope = (tn_view){a->env, a->len};
		else
			fill_notify(n, a, ev);
		break;
	}
	default: break;
	}
	return true;
}

bool tn_node_poll_event(tn_node *n, tn_node_event *ev)
{
	memset(ev, 0, sizeof *ev);
	wipe_last(n);
	while (n->evn) {
		ev_item *it = &n->evq[n->evhead];
		n->evhead = (n->evhead + 1) % n->evcap;
		n->evn--;
		if (deliver(n, it, ev))
			return true;
		free(n->ev_blob);
		n->ev_blob = NULL;
		memset(ev, 0, sizeof *ev);
	}
	return false;
}

/* ---- time -------------------------------------------------------------- */

static tn_time expiry_deadline(const tn_node *n)
{
	uint64_t exp = tn_node_index_next_expiry(n);
	if (exp == UINT64_MAX)
		return TN_TIME_NEVER;
	if (exp <= n->last_wall)
		return n->last_now;
	uint64_t ms = exp - n->last_wall;
	if (ms > (TN_TIME_NEVER - n->last_now) / TN_MSEC)
		return TN_TIME_NEVER;
	return n->last_now + ms * TN_MSEC;
}

static tn_time tmin(tn_time a, tn_time b)
{
	return a < b ? a : b;
}

tn_time tn_node_next_deadline(const tn_node *n)
{
	if (n->maint_due || n->pace_restore)
		return 0; /* due now: tick at once */
	tn_time t = tmin(n->ae_at, tn_node_links_deadline(n));
	t = tmin(t, tn_node_receipts_deadline(n));
	t = tmin(t, tn_node_rwant_deadline(n));
	t = tmin(t, tn_node_join_deadline(n));
	t = tmin(t, tn_node_lazy_deadline(n));
	t = tmin(t, tn_node_pace_deadline(n));
	return tmin(t, expiry_deadline(n));
}

void tn_node_tick(tn_node *n, tn_time now, uint64_t wall_ms)
{
	tn_node_clock(n, now, wall_ms);
	tn_node_link_tick(n, now, wall_ms);
	tn_node_index_gc(n, wall_ms);
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_UP && n->links[i].nr && n->links[i].rflush_at <= now)
			tn_node_receipts_flush(n, &n->links[i], now);
	if (n->ae_at <= now)
		tn_node_anti_entropy(n, now);
	tn_node_lazy_tick(n, now);
	if (n->pace_restore)
		tn_node_pace_restore(n, now, wall_ms);
	tn_node_pace_tick(n, now, wall_ms);
	tn_node_rwant_tick(n, now, wall_ms);
	tn_node_join_tick(n, now, wall_ms);
	n->maint_due = false;
	tn_node_links_maintain(n, now);
}

void tn_node_wake(tn_node *n, tn_time now, uint64_t wall_ms)
{
	tn_node_clock(n, now, wall_ms);
	tn_node_peers_wake(n, now);
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_UP)
			tn_node_digest_start(n, &n->links[i], now);
	tn_node_tick(n, now, wall_ms);
}

/* ---- own alerts and the store round trip ------------------------------- */

tn_err tn_node_alert_create(tn_node *n, const tn_node_alert_req *req, tn_time now, uint64_t wall_ms,
                            uint8_t id_out[TN_ALERT_ID])
{
	if (!n || !req || req->lifetime_ms == 0 || req->lifetime_ms > TN_ALERT_LIFETIME_MS ||
	    wall_ms > UINT64_MAX - req->lifetime_ms)
		return TN_ERR_INVAL;
	tn_node_clock(n, now, wall_ms);
	if (tn_node_index_find_seq(n, n->self, req->seq))
		return TN_ERR_EXISTS;
	void *mud = n->cfg.membership_ud;
	tn_alert_draft d;
	memset(&d, 0, sizeof d);
	memcpy(d.network_id, n->cfg.network_id, TN_NETWORK_ID);
	d.seq = req->seq;
	d.kind = req->kind;
	d.has_refers_to = req->has_refers_to;
	memcpy(d.refers_to, req->refers_to, TN_ALERT_ID);
	d.created_ms = wall_ms;
	d.expires_ms = wall_ms + req->lifetime_ms;
	d.epoch = n->cfg.membership.epoch(mud);
	const tn_seckey *gk = n->cfg.membership.group_key(mud, d.epoch);
	if (!gk)
		return TN_ERR_STATE;
	uint8_t env[TN_ALERT_ENVELOPE_MAX], id[TN_ALERT_ID];
	tn_ssize len =
	        tn_alert_seal(n->cfg.identity, &d, gk, &req->pt, &n->cfg.rand, env, sizeof env, id);
	if (len < 0)
		return len == TN_ERR_INVAL ? TN_ERR_INVAL : TN_ERR_INTERNAL;
	tn_alert_env e;
	if (tn_alert_env_decode(&e, env, (size_t)len) != TN_OK)
		return TN_ERR_INTERNAL;
	if (n->pace_restore)
		tn_node_pace_restore(n, now, wall_ms);
	if (!tn_node_pace_reserve(n))
		return TN_ERR_NOMEM;
	alert_entry *a;
	tn_err rc = tn_node_index_add(n, env, (size_t)len, &e, id, &a);
	if (rc)
		return rc;
	a->flags = AF_OWN | AF_NOTIFIED | AF_RECEIPTED;
	ev_item it = {
	        .type = TN_NODE_EV_STORE_ALERT, .slot = tn_node_index_slot(n, a), .gen = a->gen};
	if (!tn_node_ev_push(n, &it)) {
		tn_node_index_remove(n, a);
		return TN_ERR_NOMEM;
	}
	/* Over our own budget: stored at once, pushed when every receiver
	 * accepts it (tn_node_alert_status_get says when). */
	(void)tn_node_pace(n, a, now);
	if (id_out)
		memcpy(id_out, id, TN_ALERT_ID);
	return TN_OK;
}

tn_err tn_node_stored(tn_node *n, const uint8_t id[TN_ALERT_ID], bool ok, tn_time now,
                      uint64_t wall_ms)
{
	if (!n || !id)
		return TN_ERR_INVAL;
	tn_node_clock(n, now, wall_ms);
	alert_entry *a = tn_node_index_find(n, id);
	if (!a || a->state != AS_PENDING)
		return TN_ERR_NOTFOUND;
	if (!ok) {
		n->ctr[TN_NODE_C_STORE_FAILED]++;
		tn_node_index_remove(n, a);
		return TN_OK;
	}
	tn_node_index_set_stored(n, a);
	n->sorted_dirty = true;
	/* DESIGN §6: store -> forward -> (receipt) -> decrypt -> notify.
	 * A held own alert is forwarded when its pace time comes. */
	if (!(a->flags & AF_HELD)) {
		tn_node_gossip_stored(n, a, now);
		if (a->flags & AF_OWN)
			tn_node_rwant_schedule(n, a);
	}
	if (!(a->flags & AF_OWN)) {
		tn_node_receipt_own(n, a, wall_ms, now, NULL);
		ev_item it = {
		        .type = TN_NODE_EV_NOTIFY, .slot = tn_node_index_slot(n, a), .gen = a->gen};
		if (tn_node_ev_push(n, &it))
			a->flags |= AF_NOTIFIED;
		else
			n->ctr[TN_NODE_C_EVENTS_DROPPED]++;
	}
	return TN_OK;
}

tn_err tn_node_load_alert(tn_node *n, const uint8_t *env, size_t len, unsigned flags, tn_time now,
                          uint64_t wall_ms)
{
	if (!n || !env)
		return TN_ERR_INVAL;
	tn_node_clock(n, now, wall_ms);
	tn_alert_env e;
	if (len > TN_ALERT_ENVELOPE_MAX || tn_alert_env_decode(&e, env, len) != TN_OK ||
	    memcmp(e.network_id, n->cfg.network_id, TN_NETWORK_ID) != 0)
		return TN_ERR_PROTO;
	if (e.expires_ms <= wall_ms)
		return TN_ERR_STALE;
	uint8_t id[TN_ALERT_ID];
	tn_alert_id(env, len, id);
	tn_pubkey author;
	memcpy(author.b, e.author, TN_PUBKEY);
	if (tn_node_index_find(n, id) || tn_node_index_find_seq(n, &author, e.seq))
		return TN_ERR_EXISTS;
	alert_entry *a;
	tn_err rc = tn_node_index_add(n, env, len, &e, id, &a);
	if (rc)
		return rc;
	tn_node_index_set_stored(n, a);
	bool own = tn_pubkey_eq(&author, n->self);
	if (own) {
		/* Its push: tn_node_pace_restore, once the receipts are loaded. */
		a->flags = AF_OWN | AF_NOTIFIED | AF_RECEIPTED | AF_RESTORED;
		n->pace_restore = true;
		tn_node_rwant_schedule(n, a);
	}
	if (flags & TN_NODE_LOAD_NOTIFIED)
		a->flags |= AF_NOTIFIED;
	if (flags & TN_NODE_LOAD_RECEIPTED)
		a->flags |= AF_RECEIPTED;
	if (!(a->flags & AF_RECEIPTED))
		a->flags |= AF_RECEIPT_OWED;
	if (!(a->flags & AF_NOTIFIED)) {
		ev_item it = {
		        .type = TN_NODE_EV_NOTIFY, .slot = tn_node_index_slot(n, a), .gen = a->gen};
		if (tn_node_ev_push(n, &it))
			a->flags |= AF_NOTIFIED;
	}
	return TN_OK;
}

static alert_entry *own_entry(const tn_node *n, const uint8_t id[TN_ALERT_ID])
{
	alert_entry *a = tn_node_index_find(n, id);
	return a && (a->flags & AF_OWN) ? a : NULL;
}

/* Add a receiver to an own alert; false when already there or no memory. */
bool tn_node_add_receiver(alert_entry *a, const tn_pubkey *r)
{
	for (size_t i = 0; i < a->nrcv; i++)
		if (memcmp(a->rcv[i].b, r->b, TN_PUBKEY) == 0)
			return false;
	if (a->nrcv == a->rcvcap) {
		if (a->rcvcap >= TN_ROSTER_MAX)
			return false;
		size_t ncap = a->rcvcap ? a->rcvcap * 2 : 8;
		tn_pubkey *p = realloc(a->rcv, ncap * sizeof *p);
		if (!p)
			return false;
		a->rcv = p;
		a->rcvcap = ncap;
	}
	a->rcv[a->nrcv++] = *r;
	return true;
}

tn_err tn_node_load_receipt(tn_node *n, const uint8_t id[TN_ALERT_ID], const tn_pubkey *receiver)
{
	if (!n || !id || !receiver)
		return TN_ERR_INVAL;
	alert_entry *a = own_entry(n, id);
	if (!a)
		return TN_ERR_NOTFOUND;
	for (size_t i = 0; i < a->nrcv; i++)
		if (memcmp(a->rcv[i].b, receiver->b, TN_PUBKEY) == 0)
			return TN_ERR_EXISTS;
	return tn_node_add_receiver(a, receiver) ? TN_OK : TN_ERR_NOMEM;
}

tn_err tn_node_alert_status_get(const tn_node *n, const uint8_t id[TN_ALERT_ID],
                                tn_node_alert_status *st)
{
	if (!n || !id || !st)
		return TN_ERR_INVAL;
	const alert_entry *a = own_entry(n, id);
	if (!a)
		return TN_ERR_NOTFOUND;
	size_t members = n->cfg.membership.count(n->cfg.membership_ud);
	st->delivered = a->nrcv;
	st->members = members ? members - 1 : 0;
	st->held_until = tn_node_pace_at(n, a);
	return TN_OK;
}

tn_err tn_node_alert_receiver(const tn_node *n, const uint8_t id[TN_ALERT_ID], size_t i,
                              tn_pubkey *receiver)
{
	if (!n || !id || !receiver)
		return TN_ERR_INVAL;
	const alert_entry *a = own_entry(n, id);
	if (!a || i >= a->nrcv)
		return TN_ERR_NOTFOUND;
	*receiver = a->rcv[i];
	return TN_OK;
}

size_t tn_node_alert_count(const tn_node *n)
{
	return n ? n->nalerts : 0;
}

/* ---- counters ---------------------------------------------------------- */

void tn_node_stats_get(const tn_node *n, tn_node_stats *st)
{
	memset(st, 0, sizeof *st);
	memcpy(st->node, n->ctr, sizeof st->node);
	memcpy(st->receipt, n->rctr, sizeof st->receipt);
	for (size_t i = 0; i < TN_ALERT_REASON_COUNT; i++)
		st->alert[i] = n->ctx.counters[i];
	st->link = n->lstats;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		st->links_up += n->links[i].state == NL_UP;
	st->alerts_held = n->nalerts;
}

static const char *const counter_names[] = {
        "link_opened",    "link_slots_full",   "link_up",         "link_not_member",
        "link_duplicate", "link_inbound_full", "link_proto",      "dial",
        "dial_failed",    "alert_rx",          "alert_rx_pulled", "alert_tx",
        "alert_tx_prio",  "store_failed",      "index_full",      "expired",
        "conflict",       "notify_unreadable", "digest_tx",       "digest_rx",
        "digest_merged",  "want_tx",           "want_rx",         "want_served",
        "roster_ignored", "events_dropped",    "roster_rx",       "roster_accepted",
        "roster_refused", "roster_tx",         "heads_tx",        "heads_rx",
        "link_revoked",   "join_accepted",     "join_bad_sig",    "join_invite",
        "join_exists",    "join_refused",      "join_wrong_link", "join_link_proto",
        "join_timeout",   "join_failed",       "heads_limited",
        "dialback_asked", "dialback_served", "dialback_refused", "dialback_stray",
        "ihave_tx",       "ihave_rx",        "ihave_dropped",    "graft_tx",
        "graft_rx",       "graft_served",    "prune_tx",         "prune_rx",
        "link_bad_sig_closed", "quarantined", "quarantine_refused",
};
_Static_assert(sizeof counter_names / sizeof counter_names[0] == TN_NODE_C_COUNT, "names");

const char *tn_node_counter_name(tn_node_counter c)
{
	return (unsigned)c < TN_NODE_C_COUNT ? counter_names[c] : "unknown";
}

static const char *const receipt_names[TN_RECEIPT_REASON_COUNT] = {
        "sent",      "accepted",      "forwarded",        "fallback",      "duplicate",
        "malformed", "wrong_network", "unknown_receiver", "bad_signature", "hops_exceeded",
        "wanted_sent", "wanted_rx", "wanted_dropped", "resent",
};

const char *tn_receipt_reason_name(tn_receipt_reason r)
{
	return (unsigned)r < TN_RECEIPT_REASON_COUNT ? receipt_names[r] : "unknown";
}
