/* The node host (node_host.h): the real tn_node under the simulator. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_host.h"
#include "tocsin/identity.h"
#include "tocsin/node.h"
#include "tocsin/static_membership.h"

/* Wall clock of virtual time 0 (2026-01-01T00:00:00Z): alert windows,
 * expiry and receipts need one. */
#define NH_WALL0 UINT64_C(1767225600000)

enum {
	NH_CONNS_MAX = TN_NODE_LINKS_MAX + 16, /* links plus dials in flight */
	NH_OUT_BUF = 65536 + 2,
	NH_DISK_MAX = 64,
};

/* One stored envelope on a host's "disk". */
typedef struct disk_alert {
	uint8_t *env;
	size_t len;
	uint8_t id[TN_ALERT_ID];
	unsigned flags; /* TN_NODE_LOAD_* */
} disk_alert;

/* What survives a crash: the class keeps it, as the daemon keeps SQLite. */
typedef struct disk {
	tn_identity *id;
	uint64_t seq;   /* last committed own seq */
	uint32_t boots; /* fresh randomness per boot */
	disk_alert a[NH_DISK_MAX];
	size_t na;
	uint8_t notify[NH_ITEMS_MAX];
	tn_time stored_at[NH_ITEMS_MAX]; /* diagnostics (nh_dump_missing) */
	tn_time receipted_at[NH_ITEMS_MAX];
} disk;

/* A host's view of the shared membership (its candidates). */
typedef struct view {
	nh *c;
	uint32_t *idx; /* member indices, itself included */
	uint32_t n;
	bool all; /* an author's: the whole membership (receipts-wanted notes list it) */
} view;

typedef struct conn {
	bool used;
	sim_conn_id conn;
	uint64_t link; /* 0 while our dial is in flight */
	uint32_t peer; /* dialed host (initiator) */
	bool closing;  /* CLOSE_LINK with a later close_at */
	tn_time close_at;
	tn_frame_pos fpos; /* frame counter over the outgoing stream */
} conn;

typedef struct host {
	nh *c;
	sim_host_id self;
	tn_node *n;
	sim_rng rng;
	conn conns[NH_CONNS_MAX];
} host;

typedef struct item {
	uint8_t id[TN_ALERT_ID];
	sim_item_id sid;
	sim_host_id origin;
	uint8_t *stored; /* per host */
	uint8_t *rcv;    /* per host: receipt counted at the author */
	uint32_t nstored, nrcv;
} item;

typedef struct keyidx {
	uint64_t k;
	uint32_t h;
} keyidx;

struct nh {
	sim *s;
	nh_cfg cfg;
	uint32_t n;
	tn_static_membership sm;
	tn_node_membership_ops sops;
	uint8_t network_id[TN_NETWORK_ID];
	disk *disks;
	view *views;
	uint32_t *view_idx;
	keyidx *keys; /* sorted by k: identity -> host */
	item items[NH_ITEMS_MAX];
	size_t nitems;
	nh_report acc; /* counters of halted nodes */
	tn_err err;
	uint8_t out[NH_OUT_BUF];
};

static void fail(nh *c, tn_err e)
{
	if (c->err == TN_OK && e != TN_OK)
		c->err = e;
}

static uint64_t wall(tn_time now)
{
	return NH_WALL0 + now / TN_MSEC;
}

static uint64_t key64(const tn_pubkey *pk)
{
	uint64_t k;
	memcpy(&k, pk->b, sizeof k);
	return k;
}

static int keyidx_cmp(const void *a, const void *b)
{
	const keyidx *x = a, *y = b;
	return x->k < y->k ? -1 : x->k > y->k ? 1 : (x->h > y->h) - (x->h < y->h);
}

static uint32_t host_of_key(const nh *c, const tn_pubkey *pk)
{
	uint64_t k = key64(pk);
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->keys[mid].k < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->n && c->keys[lo].k == k; lo++)
		if (tn_pubkey_eq(tn_identity_pubkey(c->disks[c->keys[lo].h].id), pk))
			return c->keys[lo].h;
	return SIM_NO_HOST;
}

static item *item_of(nh *c, const uint8_t id[TN_ALERT_ID])
{
	for (size_t i = 0; i < c->nitems; i++)
		if (memcmp(c->items[i].id, id, TN_ALERT_ID) == 0)
			return &c->items[i];
	return NULL;
}

/* ---- the per-host membership view ------------------------------------------ */

static tn_alert_author v_role(void *ud, const tn_pubkey *id)
{
	view *v = ud;
	return v->c->sops.role(&v->c->sm, id);
}

static bool v_by_link(void *ud, const tn_linkpub *lk, tn_pubkey *id)
{
	view *v = ud;
	return v->c->sops.by_link(&v->c->sm, lk, id);
}

static uint32_t v_epoch(void *ud)
{
	view *v = ud;
	return v->c->sops.epoch(&v->c->sm);
}

static const tn_seckey *v_group_key(void *ud, uint32_t epoch)
{
	view *v = ud;
	return v->c->sops.group_key(&v->c->sm, epoch);
}

static bool v_link_psk(void *ud, bool previous, tn_noise_psk *out)
{
	view *v = ud;
	return v->c->sops.link_psk(&v->c->sm, previous, out);
}

static size_t v_count(void *ud)
{
	view *v = ud;
	return v->all ? v->c->sops.count(&v->c->sm) : v->n;
}

static bool v_member(void *ud, size_t i, tn_node_member *out)
{
	view *v = ud;
	if (v->all)
		return v->c->sops.member(&v->c->sm, i, out);
	if (i >= v->n)
		return false;
	return v->c->sops.member(&v->c->sm, v->idx[i], out);
}

static void v_roster_digest(void *ud, uint8_t out[TN_HASH])
{
	view *v = ud;
	if (v->c->sops.roster_digest)
		v->c->sops.roster_digest(&v->c->sm, out);
	else
		memset(out, 0, TN_HASH);
}

static const tn_node_membership_ops view_ops = {
        .role = v_role,
        .by_link = v_by_link,
        .epoch = v_epoch,
        .group_key = v_group_key,
        .link_psk = v_link_psk,
        .count = v_count,
        .member = v_member,
        .roster_digest = v_roster_digest,
};

/* ---- connections ---------------------------------------------------------------- */

static conn *conn_new(host *h, sim_conn_id cid)
{
	for (size_t i = 0; i < NH_CONNS_MAX; i++)
		if (!h->conns[i].used) {
			h->conns[i] = (conn){.used = true, .conn = cid};
			return &h->conns[i];
		}
	return NULL;
}

static conn *conn_by_id(host *h, sim_conn_id cid)
{
	for (size_t i = 0; i < NH_CONNS_MAX; i++)
		if (h->conns[i].used && h->conns[i].conn == cid)
			return &h->conns[i];
	return NULL;
}

static conn *conn_by_link(host *h, uint64_t link)
{
	for (size_t i = 0; i < NH_CONNS_MAX; i++)
		if (h->conns[i].used && h->conns[i].link == link)
			return &h->conns[i];
	return NULL;
}

/* ---- node -> engine ------------------------------------------------------------------ */

static bool parse_endpoint(const tn_view *ep, uint32_t n, uint32_t *out)
{
	static const char pfx[] = "sim:";
	if (ep->len <= sizeof pfx - 1 || ep->len > sizeof pfx + 9 ||
	    memcmp(ep->p, pfx, sizeof pfx - 1) != 0)
		return false;
	uint64_t v = 0;
	for (size_t i = sizeof pfx - 1; i < ep->len; i++) {
		if (ep->p[i] < '0' || ep->p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(ep->p[i] - '0');
	}
	if (v >= n)
		return false;
	*out = (uint32_t)v;
	return true;
}

static void on_dial(host *h, const tn_node_event *ev, tn_time now)
{
	nh *c = h->c;
	uint32_t to;
	if (!parse_endpoint(&ev->endpoint, c->n, &to) || to == h->self) {
		tn_node_dial_failed(h->n, &ev->member, now);
		return;
	}
	sim_conn_id cid = sim_dial(c->s, h->self, to, to);
	conn *k = cid ? conn_new(h, cid) : NULL;
	if (!k) {
		if (cid)
			sim_close(c->s, h->self, cid);
		tn_node_dial_failed(h->n, &ev->member, now);
		return;
	}
	k->peer = to;
}

static void on_close_link(host *h, const tn_node_event *ev, tn_time now)
{
	conn *k = conn_by_link(h, ev->link_id);
	if (!k) {
		tn_node_link_closed(h->n, ev->link_id, now);
		return;
	}
	if (ev->close_at <= now) {
		/* Bytes already given to sim_send are still delivered. */
		sim_close(h->c->s, h->self, k->conn);
		k->used = false;
		tn_node_link_closed(h->n, ev->link_id, now);
		return;
	}
	tn_err rc = sim_close_at(h->c->s, h->self, k->conn, ev->close_at);
	if (rc != TN_OK) {
		/* The connection is already gone at our end. */
		if (rc == TN_ERR_NOMEM)
			fail(h->c, rc);
		k->used = false;
		tn_node_link_closed(h->n, ev->link_id, now);
		return;
	}
	k->closing = true;
	k->close_at = ev->close_at;
}

static disk_alert *disk_find(disk *d, const uint8_t id[TN_ALERT_ID])
{
	for (size_t i = 0; i < d->na; i++)
		if (memcmp(d->a[i].id, id, TN_ALERT_ID) == 0)
			return &d->a[i];
	return NULL;
}

static void on_store(host *h, const tn_node_event *ev, tn_time now)
{
	nh *c = h->c;
	disk *d = &c->disks[h->self];
	bool ok = true;
	if (!disk_find(d, ev->alert_id)) {
		if (d->na == NH_DISK_MAX) {
			ok = false; /* a full disk: the node forgets it, a digest brings it back */
		} else {
			disk_alert *a = &d->a[d->na];
			a->env = malloc(ev->envelope.len ? ev->envelope.len : 1);
			if (!a->env) {
				fail(c, TN_ERR_NOMEM);
				ok = false;
			} else {
				memcpy(a->env, ev->envelope.p, ev->envelope.len);
				a->len = ev->envelope.len;
				memcpy(a->id, ev->alert_id, TN_ALERT_ID);
				a->flags = 0;
				d->na++;
			}
		}
	}
	item *it = ok ? item_of(c, ev->alert_id) : NULL;
	if (it && h->self != it->origin && !it->stored[h->self]) {
		it->stored[h->self] = 1;
		d->stored_at[it - c->items] = now;
		it->nstored++;
	}
	tn_err rc = tn_node_stored(h->n, ev->alert_id, ok, now, wall(now));
	if (rc != TN_OK && rc != TN_ERR_NOTFOUND)
		fail(c, rc);
}

static void on_event(host *h, const tn_node_event *ev, tn_time now)
{
	nh *c = h->c;
	disk *d = &c->disks[h->self];
	switch (ev->type) {
	case TN_NODE_EV_DIAL: on_dial(h, ev, now); break;
	case TN_NODE_EV_CLOSE_LINK: on_close_link(h, ev, now); break;
	case TN_NODE_EV_STORE_ALERT: on_store(h, ev, now); break;
	case TN_NODE_EV_NOTIFY: {
		disk_alert *a = disk_find(d, ev->alert_id);
		if (a)
			a->flags |= TN_NODE_LOAD_NOTIFIED;
		item *it = item_of(c, ev->alert_id);
		if (it) {
			sim_has(c->s, h->self, it->sid);
			size_t i = (size_t)(it - c->items);
			if (d->notify[i] < UINT8_MAX)
				d->notify[i]++;
		}
		break;
	}
	case TN_NODE_EV_RECEIPTED: {
		disk_alert *a = disk_find(d, ev->alert_id);
		if (a)
			a->flags |= TN_NODE_LOAD_RECEIPTED;
		item *it = item_of(c, ev->alert_id);
		if (it)
			d->receipted_at[it - c->items] = now;
		break;
	}
	case TN_NODE_EV_RECEIPT: {
		item *it = item_of(c, ev->alert_id);
		uint32_t r = host_of_key(c, &ev->member);
		if (it && it->origin == h->self && r != SIM_NO_HOST && !it->rcv[r]) {
			it->rcv[r] = 1;
			it->nrcv++;
		}
		break;
	}
	default: break;
	}
}

static void arm(host *h, tn_time now)
{
	tn_time t = tn_node_next_deadline(h->n);
	for (size_t i = 0; i < NH_CONNS_MAX; i++)
		if (h->conns[i].used && h->conns[i].closing && h->conns[i].close_at < t)
			t = h->conns[i].close_at;
	if (t != TN_TIME_NEVER && t < now)
		t = now;
	sim_timer(h->c->s, h->self, t);
}

/* After every node call: events, then bytes, until both are dry; then
 * the one timer. */
static void pump(host *h, tn_time now)
{
	nh *c = h->c;
	for (;;) {
		bool any = false;
		tn_node_event ev;
		while (tn_node_poll_event(h->n, &ev)) {
			any = true;
			on_event(h, &ev, now);
		}
		uint64_t lid;
		tn_ssize w;
		while ((w = tn_node_poll_write(h->n, &lid, c->out, sizeof c->out, now)) > 0) {
			any = true;
			conn *k = conn_by_link(h, lid);
			if (!k)
				continue;
			sim_note_frames(c->s, h->self, tn_frame_count(&k->fpos, c->out, (size_t)w));
			tn_err rc = sim_send(c->s, h->self, k->conn, c->out, (size_t)w);
			if (rc == TN_ERR_NOMEM)
				fail(c, rc);
		}
		if (w < 0 && tn_err_is_fatal((tn_err)w))
			fail(c, (tn_err)w);
		if (!any)
			break;
	}
	arm(h, now);
}

/* ---- engine -> node ------------------------------------------------------------------ */

static void h_halt(void *st)
{
	host *h = st;
	nh *c = h->c;
	tn_node_stats ns;
	tn_node_stats_get(h->n, &ns);
	c->acc.alert_tx += ns.node[TN_NODE_C_ALERT_TX];
	c->acc.alert_rx += ns.node[TN_NODE_C_ALERT_RX];
	c->acc.link_up += ns.node[TN_NODE_C_LINK_UP];
	c->acc.dial += ns.node[TN_NODE_C_DIAL];
	c->acc.dial_failed += ns.node[TN_NODE_C_DIAL_FAILED];
	c->acc.receipt_sent += ns.receipt[TN_RECEIPT_SENT];
	c->acc.receipt_fallback += ns.receipt[TN_RECEIPT_FALLBACK];
	c->acc.receipt_forwarded += ns.receipt[TN_RECEIPT_FORWARDED];
	c->acc.receipt_hops_exceeded += ns.receipt[TN_RECEIPT_HOPS_EXCEEDED];
	for (size_t i = 0; i < TN_NODE_C_COUNT; i++)
		c->acc.node_ctr[i] += ns.node[i];
	for (size_t i = 0; i < TN_RECEIPT_REASON_COUNT; i++)
		c->acc.receipt_ctr[i] += ns.receipt[i];
	c->acc.hs_established += ns.link.established;
	c->acc.hs_timeout += ns.link.hs_timeout;
	c->acc.hs_fail += ns.link.hs_fail;
	c->acc.hs_replay += ns.link.rej_replay;
	tn_node_del(h->n);
	free(h);
}

static void *h_boot(void *cls, sim *s, sim_host_id self, sim_boot how, tn_time now)
{
	nh *c = cls;
	disk *d = &c->disks[self];
	host *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->c = c;
	h->self = self;
	sim_rng_init(&h->rng, sim_seed(s),
	             UINT64_C(0x6e6f6465) ^ ((uint64_t)self << 24) ^ ((uint64_t)d->boots << 56));
	d->boots++;
	tn_node_config cfg;
	tn_node_config_default(&cfg);
	cfg.identity = d->id;
	memcpy(cfg.network_id, c->network_id, TN_NETWORK_ID);
	cfg.membership = view_ops;
	cfg.membership_ud = &c->views[self];
	cfg.rand = sim_rng_tn_rand(&h->rng);
	cfg.degree = c->cfg.degree;
	cfg.alerts_max = c->cfg.alerts_max;
	if (c->cfg.lazy >= 0)
		cfg.lazy_push = (uint8_t)c->cfg.lazy;
	tn_err rc = tn_node_new(&h->n, &cfg);
	if (rc != TN_OK) {
		fail(c, rc);
		free(h);
		return NULL;
	}
	if (how == SIM_BOOT_RESTART) {
		for (size_t i = 0; i < d->na; i++) {
			rc = tn_node_load_alert(h->n, d->a[i].env, d->a[i].len, d->a[i].flags, now,
			                        wall(now));
			if (rc != TN_OK && rc != TN_ERR_STALE)
				fail(c, rc);
		}
		for (size_t i = 0; i < c->nitems; i++) {
			item *it = &c->items[i];
			if (it->origin != self)
				continue;
			for (uint32_t r = 0; r < c->n; r++)
				if (it->rcv[r] &&
				    tn_node_load_receipt(h->n, it->id,
				                         tn_identity_pubkey(c->disks[r].id)) !=
				            TN_OK)
					fail(c, TN_ERR_INTERNAL);
		}
	}
	pump(h, now);
	return h;
}

static void h_connected(void *st, sim_conn_id cid, sim_host_id peer, sim_role role, uint64_t tag,
                        tn_time now)
{
	host *h = st;
	nh *c = h->c;
	(void)peer;
	conn *k;
	tn_err rc;
	if (role == SIM_INITIATOR) {
		k = conn_by_id(h, cid);
		if (!k || tag >= c->n)
			return;
		const tn_pubkey *m = tn_identity_pubkey(c->disks[tag].id);
		rc = tn_node_link_open(h->n, TN_NOISE_INITIATOR, m, now, wall(now), &k->link);
		if (rc != TN_OK) {
			sim_close(c->s, h->self, cid);
			k->used = false;
			tn_node_dial_failed(h->n, m, now);
		}
	} else {
		k = conn_new(h, cid);
		if (!k) {
			sim_close(c->s, h->self, cid);
			return;
		}
		rc = tn_node_link_open(h->n, TN_NOISE_RESPONDER, NULL, now, wall(now), &k->link);
		if (rc != TN_OK) {
			sim_close(c->s, h->self, cid);
			k->used = false;
		}
	}
	if (tn_err_is_fatal(rc))
		fail(c, rc);
	pump(h, now);
}

static void h_recv(void *st, sim_conn_id cid, const uint8_t *buf, size_t len, tn_time now)
{
	host *h = st;
	conn *k = conn_by_id(h, cid);
	if (!k || !k->link)
		return;
	tn_err rc = tn_node_link_recv(h->n, k->link, buf, len, now, wall(now));
	if (tn_err_is_fatal(rc))
		fail(h->c, rc);
	pump(h, now);
}

static void h_closed(void *st, sim_conn_id cid, sim_close_reason why, tn_time now)
{
	host *h = st;
	(void)why;
	conn *k = conn_by_id(h, cid);
	if (!k)
		return;
	k->used = false;
	if (k->link)
		tn_node_link_closed(h->n, k->link, now);
	else
		tn_node_dial_failed(h->n, tn_identity_pubkey(h->c->disks[k->peer].id), now);
	pump(h, now);
}

static void h_timer(void *st, tn_time now)
{
	host *h = st;
	for (size_t i = 0; i < NH_CONNS_MAX; i++) {
		conn *k = &h->conns[i];
		if (k->used && k->closing && k->close_at <= now) {
			/* The engine closed it at close_at (sim_close_at). */
			k->used = false;
			tn_node_link_closed(h->n, k->link, now);
		}
	}
	tn_node_tick(h->n, now, wall(now));
	pump(h, now);
}

static void h_wake(void *st, tn_time since, tn_time now)
{
	host *h = st;
	(void)since;
	tn_node_wake(h->n, now, wall(now));
	pump(h, now);
}

static const sim_host_ops node_ops = {
        .boot = h_boot,
        .halt = h_halt,
        .connected = h_connected,
        .recv = h_recv,
        .closed = h_closed,
        .timer = h_timer,
        .wake = h_wake,
};

/* ---- the class ------------------------------------------------------------------------- */

tn_err nh_new(nh **out, sim *s, const nh_cfg *cfg)
{
	*out = NULL;
	if (!s || !cfg || !cfg->ov || cfg->degree == 0 || cfg->ov->n < 2 ||
	    cfg->ov->n > TN_ROSTER_MAX || cfg->alerts_max > TN_NODE_ALERTS_MAX)
		return TN_ERR_INVAL;
	nh *c = calloc(1, sizeof *c);
	if (!c)
		return TN_ERR_NOMEM;
	c->s = s;
	c->cfg = *cfg;
	if (c->cfg.alerts_max == 0)
		c->cfg.alerts_max = 64;
	c->n = cfg->ov->n;
	c->sops = tn_static_membership_ops();
	c->disks = calloc(c->n, sizeof *c->disks);
	c->views = calloc(c->n, sizeof *c->views);
	c->keys = calloc(c->n, sizeof *c->keys);
	size_t nidx = (size_t)cfg->ov->off[c->n] + (size_t)c->n * (1 + cfg->extra);
	c->view_idx = calloc(nidx, sizeof *c->view_idx);
	if (!c->disks || !c->views || !c->keys || !c->view_idx ||
	    tn_static_membership_init(&c->sm, c->n) != TN_OK) {
		nh_del(c);
		return TN_ERR_NOMEM;
	}
	*out = c;
	return TN_OK;
}

void nh_del(nh *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->disks && i < c->n; i++) {
		tn_identity_del(c->disks[i].id);
		for (size_t j = 0; j < c->disks[i].na; j++)
			free(c->disks[i].a[j].env);
	}
	for (size_t i = 0; i < c->nitems; i++) {
		free(c->items[i].stored);
		free(c->items[i].rcv);
	}
	tn_static_membership_free(&c->sm);
	free(c->disks);
	free(c->views);
	free(c->keys);
	free(c->view_idx);
	free(c);
}

/* Host h's candidates: itself, its overlay neighbours, `extra` random
 * other members (seeded stream), no repeats. */
static void make_view(nh *c, uint32_t h, sim_rng *g, uint32_t *idx)
{
	const sim_overlay *ov = c->cfg.ov;
	view *v = &c->views[h];
	v->c = c;
	v->idx = idx;
	v->n = 0;
	v->idx[v->n++] = h;
	for (uint32_t j = ov->off[h]; j < ov->off[h + 1]; j++)
		v->idx[v->n++] = ov->nbr[j];
	for (unsigned e = 0, tries = 0; e < c->cfg.extra && tries < 64 * (c->cfg.extra + 1);
	     tries++) {
		uint32_t m = (uint32_t)sim_rng_below(g, c->n);
		bool dup = false;
		for (uint32_t j = 0; j < v->n && !dup; j++)
			dup = v->idx[j] == m;
		if (dup)
			continue;
		v->idx[v->n++] = m;
		e++;
	}
}

tn_err nh_add_hosts(nh *c)
{
	if (sim_host_count(c->s) != 0)
		return TN_ERR_STATE;
	uint64_t seed = sim_seed(c->s);
	sim_rng g;
	sim_rng_init(&g, seed, UINT64_C(0x6e6574776f726b)); /* network secrets */
	sim_rng_fill(&g, c->network_id, TN_NETWORK_ID);
	sim_rng_fill(&g, c->sm.group_key.b, sizeof c->sm.group_key.b);
	sim_rng_fill(&g, c->sm.psk.b, sizeof c->sm.psk.b);
	for (uint32_t i = 0; i < c->n; i++) {
		sim_rng r;
		sim_rng_init(&r, seed, UINT64_C(0x6964656e74) ^ ((uint64_t)i << 24));
		tn_rand rand = sim_rng_tn_rand(&r);
		tn_err rc = tn_identity_new(&c->disks[i].id, &rand);
		if (rc != TN_OK)
			return rc;
		char name[24], ep[24];
		snprintf(name, sizeof name, "h%" PRIu32, i);
		snprintf(ep, sizeof ep, "sim:%" PRIu32, i);
		rc = tn_static_membership_add(&c->sm, tn_identity_pubkey(c->disks[i].id),
		                              tn_identity_linkpub(c->disks[i].id),
		                              TN_ALERT_AUTHOR_MEMBER, name, ep);
		if (rc != TN_OK)
			return rc;
		/* The views name members by index: check index i is host i. */
		tn_node_member m;
		if (!c->sops.member(&c->sm, i, &m) ||
		    !tn_pubkey_eq(&m.identity, tn_identity_pubkey(c->disks[i].id)))
			return TN_ERR_INTERNAL;
		c->keys[i] = (keyidx){.k = key64(tn_identity_pubkey(c->disks[i].id)), .h = i};
	}
	qsort(c->keys, c->n, sizeof *c->keys, keyidx_cmp);
	sim_rng_init(&g, seed, UINT64_C(0x76696577)); /* views */
	uint32_t *idx = c->view_idx;
	for (uint32_t i = 0; i < c->n; i++) {
		make_view(c, i, &g, idx);
		idx += c->views[i].n;
	}
	for (uint32_t i = 0; i < c->n; i++) {
		sim_host_id id;
		tn_err rc = sim_host_add(c->s, &node_ops, c, &id);
		if (rc != TN_OK)
			return rc;
		if (id != i)
			return TN_ERR_INTERNAL;
	}
	return c->err;
}

tn_err nh_inject(nh *c, sim_host_id origin, tn_time expiry, sim_item_id *out)
{
	if (c->nitems == NH_ITEMS_MAX)
		return TN_ERR_LIMIT;
	if (origin >= c->n || sim_host_get_state(c->s, origin) != SIM_ONLINE)
		return TN_ERR_STATE;
	host *h = sim_host_data(c->s, origin);
	tn_time now = sim_now(c->s);
	if (!h || expiry <= now)
		return TN_ERR_STATE;
	item *it = &c->items[c->nitems];
	memset(it, 0, sizeof *it);
	it->stored = calloc(c->n, 1);
	it->rcv = calloc(c->n, 1);
	if (!it->stored || !it->rcv) {
		free(it->stored);
		free(it->rcv);
		return TN_ERR_NOMEM;
	}
	it->origin = origin;
	/* The author's node lists the members whose receipt it lacks
	 * (receipts-wanted notes): it must see them all (docs/sim.md). */
	c->views[origin].all = true;
	disk *d = &c->disks[origin];
	tn_node_alert_req req = {
	        .seq = ++d->seq, /* committed: the disk outlives the node */
	        .kind = c->cfg.kind,
	        .lifetime_ms = (expiry - now) / TN_MSEC,
	        .pt = {.severity = TN_SEV_CRITICAL, .violation = TN_VIOL_DETENTION},
	};
	tn_err rc = tn_node_alert_create(h->n, &req, now, wall(now), it->id);
	if (rc == TN_OK)
		rc = sim_item_new(c->s, origin, expiry, &it->sid);
	if (rc != TN_OK) {
		free(it->stored);
		free(it->rcv);
		return rc;
	}
	c->nitems++;
	*out = it->sid;
	pump(h, now);
	return c->err;
}

void nh_report_get(const nh *c, nh_report *r)
{
	*r = c->acc;
	r->hosts = c->n;
	r->err = c->err;
	r->origin = SIM_NO_HOST;
	if (c->nitems == 0)
		return;
	const item *it = &c->items[0];
	r->items = (uint32_t)c->nitems;
	r->stored_all_min = UINT32_MAX;
	for (size_t i = 0; i < c->nitems; i++)
		if (c->items[i].nstored < r->stored_all_min)
			r->stored_all_min = c->items[i].nstored;
	r->origin = it->origin;
	r->stored = it->nstored;
	r->receipts = it->nrcv;
	for (uint32_t h = 0; h < c->n; h++) {
		if (h == it->origin)
			continue;
		r->notified += c->disks[h].notify[0] > 0;
		r->notified_multi += c->disks[h].notify[0] > 1;
	}
}

void nh_dump_missing(const nh *c, FILE *f)
{
	if (c->nitems == 0)
		return;
	const item *it = &c->items[0];
	for (uint32_t h = 0; h < c->n; h++) {
		const disk *d = &c->disks[h];
		if (!it->stored[h] || it->rcv[h])
			continue;
		fprintf(f,
		        "missing_receipt host=%" PRIu32 " boots=%" PRIu32 " stored_ms=%.1f"
		        " receipted_ms=%.1f\n",
		        h, d->boots, (double)d->stored_at[0] / 1e6,
		        (double)d->receipted_at[0] / 1e6);
	}
}
