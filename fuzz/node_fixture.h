/* A node under attack from an established peer, for fuzz/fuzz_node.c and
 * the seed writer in tests/unit/test_node.c (--write-corpus): three
 * members from fixed seeds, a static roster, the victim tn_node, and the
 * peer's side as a raw tn_link (initiator) handshaken with it. Everything
 * is deterministic (fixed wall clock, seeded generators), so seeds that
 * carry signed alerts and receipts stay valid for the harness.
 *
 * Input format (nf_run): records [op u8, len u16 big-endian, bytes...]:
 *   op 0: bytes are one link message the peer sends (normal)
 *   op 1: the same, priority
 *   op 2: advance time by bytes[0] seconds (+1) and tick
 *   op 3: the victim creates an alert (kind bytes[0] % 6)
 *   op 4: the next store answer fails (ok = false)
 * The peer reads whatever the victim sends and ignores it. */
#ifndef TOCSIN_FUZZ_NODE_FIXTURE_H
#define TOCSIN_FUZZ_NODE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/node.h"
#include "test_rng.h" /* tests/common: the seeded ChaCha20 generator */
#include "tocsin/static_membership.h"

#define NF_WALL UINT64_C(1718000000000)
#define NF_T0   (1000 * TN_SEC)

enum { NF_VICTIM = 0, NF_PEER = 1, NF_THIRD = 2, NF_N = 3 };

typedef struct nf {
	test_rng rng[NF_N + 2];
	tn_identity *id[NF_N];
	tn_static_membership sm;
	tn_node *node;
	tn_link *peer;
	tn_replay_cache *cache;
	uint64_t lid;
	tn_time now;
	bool fail_next_store;
	bool dead;                   /* the victim closed the link */
	uint8_t own_id[TN_ALERT_ID]; /* the victim's own panic, seq 1 */
	uint64_t own_seq;
	uint8_t buf[70000];
} nf;

static inline uint64_t nf_wall(const nf *f)
{
	return NF_WALL + (f->now - NF_T0) / TN_MSEC;
}

static inline void nf_events(nf *f)
{
	tn_node_event ev;
	while (tn_node_poll_event(f->node, &ev)) {
		switch (ev.type) {
		case TN_NODE_EV_STORE_ALERT: {
			uint8_t id[TN_ALERT_ID];
			memcpy(id, ev.alert_id, sizeof id);
			bool ok = !f->fail_next_store;
			f->fail_next_store = false;
			if (tn_node_stored(f->node, id, ok, f->now, nf_wall(f)) != TN_OK)
				abort();
			break;
		}
		case TN_NODE_EV_CLOSE_LINK:
			if (ev.link_id == f->lid)
				f->dead = true;
			break;
		case TN_NODE_EV_DIAL: tn_node_dial_failed(f->node, &ev.member, f->now); break;
		case TN_NODE_EV_DIALBACK: {
			/* A dial-back the peer asked for: the probe link must build,
			 * and the answer goes back on the link. */
			uint64_t probe = ev.probe_id;
			tn_link *pl = NULL;
			if (tn_node_dialback_link(f->node, probe, f->now, nf_wall(f), &pl) != TN_OK)
				abort();
			tn_link_del(pl);
			if (tn_node_dialback_done(f->node, probe, (uint8_t)(probe % 3), f->now) != TN_OK)
				abort();
			break;
		}
		default: break;
		}
	}
}

/* One exchange between a tn_node's link lid and a raw peer tn_link, both
 * ways until each side has nothing more to send (or *dead): what the peer
 * sends goes to the node, node_ev(ud) after each piece; what the node sends
 * goes to the peer, peer_ev(ud) after each piece read. abort()s when the
 * node refuses a piece or the peer cannot read one. True if anything
 * moved. fuzz_join.c uses it too. */
typedef struct nf_wire {
	tn_node *node;
	uint64_t lid;
	tn_link *peer;
	uint8_t *buf;
	size_t cap;
	const bool *dead;
	void (*node_ev)(void *ud);
	void (*peer_ev)(void *ud);
	void *ud;
} nf_wire;

/* The wire of a fixture f with members node, lid, peer, buf[] and dead
 * (struct nf here, struct fj in fuzz_join.c). */
#define NF_WIRE(f, node_ev_, peer_ev_)                                                             \
	{                                                                                          \
		.node = (f)->node, .lid = (f)->lid, .peer = (f)->peer, .buf = (f)->buf,            \
		.cap = sizeof((f)->buf), .dead = &(f)->dead, .node_ev = (node_ev_),                \
		.peer_ev = (peer_ev_), .ud = (f)                                                   \
	}

static inline bool nf_exchange(const nf_wire *w, tn_time now, uint64_t wall)
{
	bool any = false;
	tn_ssize n;
	while (!*w->dead && (n = tn_link_out(w->peer, w->buf, w->cap, now)) > 0) {
		any = true;
		if (tn_node_link_recv(w->node, w->lid, w->buf, (size_t)n, now, wall) != TN_OK)
			abort();
		w->node_ev(w->ud);
	}
	while (!*w->dead && (n = tn_node_link_out(w->node, w->lid, w->buf, w->cap, now)) > 0) {
		any = true;
		size_t off = 0;
		while (off < (size_t)n) {
			tn_ssize r =
			        tn_link_recv(w->peer, w->buf + off, (size_t)n - off, now, wall);
			if (r < 0)
				abort();
			off += (size_t)r;
			w->peer_ev(w->ud);
		}
	}
	return any;
}

static inline void nf_events_ud(void *ud)
{
	nf_events(ud);
}

/* The peer reads whatever the victim sends and ignores it. */
static inline void nf_peer_ignore(void *ud)
{
	nf *f = ud;
	tn_link_event lev;
	while (tn_link_poll_event(f->peer, &lev))
		;
}

/* Move bytes both ways until quiet. */
static inline void nf_flush(nf *f)
{
	nf_wire w = NF_WIRE(f, nf_events_ud, nf_peer_ignore);
	for (int round = 0; round < 64; round++) {
		bool any = nf_exchange(&w, f->now, nf_wall(f));
		nf_events(f);
		if (!any)
			return;
	}
}

static inline void nf_free(nf *f)
{
	tn_node_del(f->node);
	tn_link_del(f->peer);
	tn_replay_cache_del(f->cache);
	for (int i = 0; i < NF_N; i++)
		tn_identity_del(f->id[i]);
	tn_static_membership_free(&f->sm);
	memset(f, 0, sizeof *f);
}

static inline tn_alert_pt nf_pt(void)
{
	tn_alert_pt p;
	memset(&p, 0, sizeof p);
	p.severity = TN_SEV_HIGH;
	p.violation = TN_VIOL_RAID;
	p.has_text = true;
	p.text = (tn_view){(const uint8_t *)"help", 4};
	return p;
}

static inline int nf_create(nf *f, uint8_t kind, uint8_t id[TN_ALERT_ID])
{
	tn_node_alert_req r;
	memset(&r, 0, sizeof r);
	r.seq = ++f->own_seq;
	r.kind = kind;
	if (kind == TN_KIND_SAFE || kind == TN_KIND_RESPONDING) {
		r.has_refers_to = true;
		memcpy(r.refers_to, f->own_id, TN_ALERT_ID);
	}
	r.lifetime_ms = 3600 * 1000;
	r.pt = nf_pt();
	tn_err rc = tn_node_alert_create(f->node, &r, f->now, nf_wall(f), id);
	nf_events(f);
	return rc == TN_OK ? 0 : -1;
}

/* Returns 0 with the link established both ways, -1 on failure. */
static inline int nf_init(nf *f)
{
	memset(f, 0, sizeof *f);
	if (sodium_init() < 0)
		return -1;
	f->now = NF_T0;
	if (tn_static_membership_init(&f->sm, 4) != TN_OK)
		return -1;
	memset(f->sm.group_key.b, 0x42, 32);
	memset(f->sm.psk.b, 0x43, 32);
	for (int i = 0; i < NF_N; i++) {
		tn_rand r = test_rng_seed(&f->rng[i], (uint8_t)(i + 1));
		if (tn_identity_new(&f->id[i], &r) != TN_OK ||
		    tn_static_membership_add(&f->sm, tn_identity_pubkey(f->id[i]),
		                             tn_identity_linkpub(f->id[i]), TN_ALERT_AUTHOR_MEMBER,
		                             "m", "tcp:127.0.0.1:7450") != TN_OK)
			return -1;
	}
	tn_node_config c;
	tn_node_config_default(&c);
	c.identity = f->id[NF_VICTIM];
	memset(c.network_id, 0x55, TN_NETWORK_ID);
	c.membership = tn_static_membership_ops();
	c.membership_ud = &f->sm;
	c.rand = test_rng_seed(&f->rng[NF_N], 0x80);
	c.alerts_max = 256;
	c.lazy_push = TN_LAZY_CHATTER; /* panics flood, drills go lazily: both paths */
	if (tn_node_new(&f->node, &c) != TN_OK)
		return -1;
	if (nf_create(f, TN_KIND_PANIC, f->own_id))
		return -1;
	/* the peer: initiator, raw tn_link */
	tn_link_config lc;
	tn_link_config_default(&lc);
	lc.role = TN_NOISE_INITIATOR;
	memcpy(lc.static_key.sec.b, tn_identity_link_secret(f->id[NF_PEER])->b, 32);
	memcpy(lc.static_key.pub.b, tn_identity_linkpub(f->id[NF_PEER])->b, 32);
	memcpy(lc.network_id, c.network_id, TN_NETWORK_ID);
	lc.psk = f->sm.psk;
	memcpy(lc.expected_remote.b, tn_identity_linkpub(f->id[NF_VICTIM])->b, 32);
	lc.identity = f->id[NF_PEER];
	lc.rand = test_rng_seed(&f->rng[NF_N + 1], 0x90);
	if (tn_link_new(&f->peer, &lc) != TN_OK || tn_link_start(f->peer, f->now, nf_wall(f)))
		return -1;
	if (tn_node_link_open(f->node, TN_NOISE_RESPONDER, NULL, f->now, nf_wall(f), &f->lid))
		return -1;
	nf_flush(f);
	tn_node_stats st;
	tn_node_stats_get(f->node, &st);
	return st.links_up == 1 && tn_link_is_established(f->peer) ? 0 : -1;
}

/* The peer sends one link message (a strict encoding, else ignored). */
static inline void nf_send(nf *f, const uint8_t *msg, size_t len, bool prio)
{
	if (f->dead)
		return;
	if (tn_link_send(f->peer, msg, len, prio ? TN_LINK_SEND_PRIORITY : TN_LINK_SEND_NORMAL,
	                 f->now) == TN_OK)
		nf_flush(f);
}

/* The peer sends one ALERT carrying the envelope env. False if it does not
 * encode (an envelope over the link's limit). */
static inline bool nf_send_alert(nf *f, const uint8_t *env, size_t len, bool prio)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ALERT;
	m.record = (tn_view){env, len};
	uint8_t b[TN_LINK_PLAINTEXT_MAX];
	tn_ssize n = tn_link_encode(&m, b, sizeof b);
	if (n <= 0)
		return false;
	nf_send(f, b, (size_t)n, prio);
	return true;
}

static inline void nf_run(nf *f, const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off + 3 <= size && !f->dead) {
		uint8_t op = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		const uint8_t *p = data + off;
		off += len;
		switch (op % 5) {
		case 0:
		case 1: nf_send(f, p, len, op % 5 == 1); break;
		case 2:
			f->now += ((tn_time)(len ? p[0] : 0) + 1) * TN_SEC;
			tn_node_tick(f->node, f->now, nf_wall(f));
			nf_events(f);
			nf_flush(f);
			break;
		case 3: {
			uint8_t id[TN_ALERT_ID];
			(void)nf_create(f, (uint8_t)((len ? p[0] : 0) % 6), id);
			nf_flush(f);
			break;
		}
		case 4: f->fail_next_store = true; break;
		}
	}
}

#endif
