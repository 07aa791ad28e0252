/* Node: links, flooding, the store round trip, receipts, anti-entropy,
 * rate limits vs catch-up, restart, expiry, idle cost (docs/node.md).
 *
 * A few nodes are wired in memory by a small pump that moves bytes between
 * paired links (tests/sim does this at scale). Time is a variable, the RNG
 * is seeded, nothing sleeps.
 *
 *   test_node                      run the tests
 *   test_node --write-corpus DIR   write the fuzz_node seed corpus */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../fuzz/node_fixture.h"
#include "test_rng.h"
#include "tocsin/node.h"
#include "tocsin/static_membership.h"
#include "link_priv.h" /* peer_raw: the peer link's sending cipher */

enum {
	NMAX = 6,
	PIPES = 64,
	DISK = 700,
	NOTES = 700,
	BUFSZ = 70000,
};

typedef struct disk_rec {
	uint8_t id[TN_ALERT_ID];
	uint8_t env[TN_ALERT_ENVELOPE_MAX];
	size_t len;
	bool notified, receipted;
} disk_rec;

typedef struct tnode {
	tn_node *n;
	tn_identity *id;
	test_rng rng;
	bool up;
	bool defer_store; /* leave STORE_ALERT pending */
	size_t npend;
	uint8_t pend[16][TN_ALERT_ID];
	disk_rec disk[DISK];
	size_t ndisk;
	uint8_t notes[NOTES][TN_ALERT_ID]; /* NOTIFY order */
	uint8_t note_kind[NOTES];
	size_t nnotes;
	size_t receipts, links_up, stores, conflicts;
	size_t ticks; /* tn_node_tick calls (test_net.h) */
	/* reachability: the last DIALBACK and REACHABILITY events */
	size_t dialbacks, answers;
	uint64_t probe_id;
	char db_ep[TN_ENDPOINT_STR_MAX + 1];
	tn_pubkey db_member, answer_by;
	uint8_t answer;
} tnode;

#define TEST_NET_FIELDS                                                                            \
	tn_static_membership sm;                                                                   \
	tn_node_config base;
#include "test_net.h"

/* ---- setup -------------------------------------------------------------- */

static void make_identity(tnode *t, uint8_t seed)
{
	test_rng r;
	tn_rand rand = test_rng_seed(&r, seed);
	assert_int_equal(tn_identity_new(&t->id, &rand), TN_OK);
}

static void start_node(net *w, int i)
{
	tnode *t = &w->nd[i];
	tn_node_config c = w->base;
	c.identity = t->id;
	c.rand = test_rng_seed(&t->rng, (uint8_t)(0x80 + i));
	assert_int_equal(tn_node_new(&t->n, &c), TN_OK);
	t->up = true;
}

static void net_init(net *w, size_t n)
{
	memset(w, 0, sizeof *w);
	w->n = n;
	w->now = T0;
	assert_int_equal(tn_static_membership_init(&w->sm, 16), TN_OK);
	memset(w->sm.group_key.b, 0x42, 32);
	memset(w->sm.psk.b, 0x43, 32);
	tn_node_config_default(&w->base);
	memset(w->base.network_id, 0x55, TN_NETWORK_ID);
	w->base.membership = tn_static_membership_ops();
	w->base.membership_ud = &w->sm;
	w->base.degree = 2;
	for (size_t i = 0; i < n; i++) {
		make_identity(&w->nd[i], (uint8_t)(i + 1));
		char name[32], ep[48];
		snprintf(name, sizeof name, "m%zu", i);
		snprintf(ep, sizeof ep, "tcp:node%zu:7443", i);
		assert_int_equal(tn_static_membership_add(&w->sm, tn_identity_pubkey(w->nd[i].id),
		                                          tn_identity_linkpub(w->nd[i].id),
		                                          TN_ALERT_AUTHOR_MEMBER, name, ep),
		                 TN_OK);
	}
}

static void start_all(net *w)
{
	for (size_t i = 0; i < w->n; i++)
		start_node(w, (int)i);
}

static void net_free(net *w)
{
	for (size_t i = 0; i < w->n; i++) {
		tn_node_del(w->nd[i].n);
		tn_identity_del(w->nd[i].id);
	}
	tn_static_membership_free(&w->sm);
}

static void link_ab(net *w, int a, int b)
{
	w->adj[a][b] = w->adj[b][a] = true;
}

static void line(net *w)
{
	for (size_t i = 0; i + 1 < w->n; i++)
		link_ab(w, (int)i, (int)i + 1);
}

static int teardown(void **state)
{
	(void)state;
	net_free(&NET);
	return 0;
}

/* The usual start: n nodes in a line, started, linked up for 10 s. */
static net *line_up(size_t n)
{
	net *w = &NET;
	net_init(w, n);
	line(w);
	start_all(w);
	run_for(w, 10 * TN_SEC);
	return w;
}

static int node_of(const net *w, const tn_pubkey *pk)
{
	for (size_t i = 0; i < w->n; i++)
		if (tn_pubkey_eq(tn_identity_pubkey(w->nd[i].id), pk))
			return (int)i;
	return -1;
}

static bool disk_has(const tnode *t, const uint8_t id[TN_ALERT_ID])
{
	for (size_t i = 0; i < t->ndisk; i++)
		if (memcmp(t->disk[i].id, id, TN_ALERT_ID) == 0)
			return true;
	return false;
}

static void on_event(net *w, int i, const tn_node_event *ev)
{
	tnode *t = &w->nd[i];
	switch (ev->type) {
	case TN_NODE_EV_DIAL: {
		int b = node_of(w, &ev->member);
		assert_true(b >= 0);
		if (w->adj[i][b] && w->nd[b].up)
			connect_pair(w, i, tn_identity_pubkey(w->nd[b].id), b);
		else
			tn_node_dial_failed(t->n, &ev->member, w->now);
		break;
	}
	case TN_NODE_EV_CLOSE_LINK: hang_up(w, i, ev->link_id); break;
	case TN_NODE_EV_STORE_ALERT:
		t->stores++;
		if (t->defer_store) {
			assert_true(t->npend < 16);
			memcpy(t->pend[t->npend++], ev->alert_id, TN_ALERT_ID);
			break;
		}
		assert_false(disk_has(t, ev->alert_id));
		assert_true(t->ndisk < DISK);
		memcpy(t->disk[t->ndisk].id, ev->alert_id, TN_ALERT_ID);
		memcpy(t->disk[t->ndisk].env, ev->envelope.p, ev->envelope.len);
		t->disk[t->ndisk].len = ev->envelope.len;
		t->ndisk++;
		assert_int_equal(tn_node_stored(t->n, ev->alert_id, true, w->now, wall(w)), TN_OK);
		break;
	case TN_NODE_EV_NOTIFY:
		assert_true(t->nnotes < NOTES);
		assert_true(ev->opened);
		memcpy(t->notes[t->nnotes], ev->alert_id, TN_ALERT_ID);
		t->note_kind[t->nnotes++] = ev->kind;
		for (size_t k = 0; k < t->ndisk; k++)
			if (memcmp(t->disk[k].id, ev->alert_id, TN_ALERT_ID) == 0)
				t->disk[k].notified = true;
		break;
	case TN_NODE_EV_RECEIPTED:
		for (size_t k = 0; k < t->ndisk; k++)
			if (memcmp(t->disk[k].id, ev->alert_id, TN_ALERT_ID) == 0)
				t->disk[k].receipted = true;
		break;
	case TN_NODE_EV_RECEIPT: t->receipts++; break;
	case TN_NODE_EV_LINK_UP: t->links_up++; break;
	case TN_NODE_EV_CONFLICT: t->conflicts++; break;
	case TN_NODE_EV_DIALBACK:
		t->dialbacks++;
		t->probe_id = ev->probe_id;
		t->db_member = ev->member;
		assert_true(ev->endpoint.len <= TN_ENDPOINT_STR_MAX);
		memcpy(t->db_ep, ev->endpoint.p, ev->endpoint.len);
		t->db_ep[ev->endpoint.len] = '\0';
		break;
	case TN_NODE_EV_REACHABILITY:
		t->answers++;
		t->answer = ev->dialback;
		t->answer_by = ev->member;
		break;
	default: break;
	}
}

/* Cut the link between a and b (both directions) and forbid redialing. */
static void cut(net *w, int a, int b)
{
	w->adj[a][b] = w->adj[b][a] = false;
	for (size_t k = 0; k < PIPES; k++) {
		pipe_ *p = &w->p[k];
		if (p->used && ((p->a == a && p->b == b) || (p->a == b && p->b == a)))
			pipe_close(w, p);
	}
}

static tn_alert_pt pt_text(const char *s)
{
	tn_alert_pt p;
	memset(&p, 0, sizeof p);
	p.severity = TN_SEV_CRITICAL;
	p.violation = TN_VIOL_DETENTION;
	p.has_text = true;
	p.text = (tn_view){(const uint8_t *)s, strlen(s)};
	return p;
}

static void create(net *w, int i, uint64_t seq, uint8_t kind, uint64_t life_ms,
                   uint8_t id[TN_ALERT_ID])
{
	tn_node_alert_req r;
	memset(&r, 0, sizeof r);
	r.seq = seq;
	r.kind = kind;
	r.lifetime_ms = life_ms;
	r.pt = pt_text("النجدة");
	assert_int_equal(tn_node_alert_create(w->nd[i].n, &r, w->now, wall(w), id), TN_OK);
}

static size_t notified(const tnode *t, const uint8_t id[TN_ALERT_ID])
{
	size_t k = 0;
	for (size_t i = 0; i < t->nnotes; i++)
		k += memcmp(t->notes[i], id, TN_ALERT_ID) == 0;
	return k;
}

static uint64_t ctr(const tnode *t, tn_node_counter c)
{
	tn_node_stats st;
	tn_node_stats_get(t->n, &st);
	return st.node[c];
}

static uint64_t actr(const tnode *t, tn_alert_reason r)
{
	tn_node_stats st;
	tn_node_stats_get(t->n, &st);
	return st.alert[r];
}

static uint64_t rctr(const tnode *t, tn_receipt_reason r)
{
	tn_node_stats st;
	tn_node_stats_get(t->n, &st);
	return st.receipt[r];
}

static size_t links_up(const tnode *t)
{
	tn_node_stats st;
	tn_node_stats_get(t->n, &st);
	return st.links_up;
}

static const uint64_t HOUR_MS = 3600 * 1000;

/* Everyone but the author notified exactly once; the author has receipts
 * from everyone, by name. */
static void assert_everyone(net *w, int author, const uint8_t id[TN_ALERT_ID])
{
	for (size_t i = 0; i < w->n; i++)
		assert_int_equal(notified(&w->nd[i], id), (int)i == author ? 0 : 1);
	tn_node_alert_status st;
	assert_int_equal(tn_node_alert_status_get(w->nd[author].n, id, &st), TN_OK);
	assert_int_equal(st.members, w->n - 1);
	assert_int_equal(st.delivered, w->n - 1);
	bool seen[NMAX] = {0};
	for (size_t k = 0; k < st.delivered; k++) {
		tn_pubkey pk;
		assert_int_equal(tn_node_alert_receiver(w->nd[author].n, id, k, &pk), TN_OK);
		int who = node_of(w, &pk);
		assert_true(who >= 0 && who != author && !seen[who]);
		seen[who] = true;
	}
	assert_int_equal(w->nd[author].receipts, w->n - 1);
}

/* ---- tests ---------------------------------------------------------------- */

static void line_panic_reaches_all_with_receipts(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 5);
	line(w);
	start_all(w);
	run_for(w, 30 * TN_SEC);
	for (size_t i = 0; i < w->n; i++)
		assert_int_equal(links_up(&w->nd[i]), i == 0 || i == w->n - 1 ? 1 : 2);
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_everyone(w, 0, id);
	/* Flooding: at most degree copies per node; here exactly one per link
	 * direction that did not have it (a line: n - 1 transmissions). */
	uint64_t tx = 0;
	for (size_t i = 0; i < w->n; i++)
		tx += ctr(&w->nd[i], TN_NODE_C_ALERT_TX);
	assert_int_equal(tx, w->n - 1);
	/* Receipts went along the reverse path, no fallback. */
	for (size_t i = 0; i < w->n; i++)
		assert_int_equal(rctr(&w->nd[i], TN_RECEIPT_FALLBACK), 0);
}

static void ring_panic_reaches_all_once(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 5);
	line(w);
	link_ab(w, 4, 0);
	start_all(w);
	run_for(w, 30 * TN_SEC);
	uint8_t id[TN_ALERT_ID];
	create(w, 2, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_everyone(w, 2, id);
	for (size_t i = 0; i < w->n; i++)
		assert_int_equal(w->nd[i].conflicts, 0);
}

static void panic_overtakes_500_drills(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 2);
	w->base.limits.chatter.burst = 1000;
	line(w);
	start_all(w);
	run_for(w, 10 * TN_SEC);
	uint8_t id[TN_ALERT_ID], pid[TN_ALERT_ID];
	for (uint64_t s = 1; s <= 500; s++) {
		create(w, 0, s, TN_KIND_DRILL, HOUR_MS, id);
		events(w, 0); /* stored: queued on the link, nothing moved yet */
	}
	create(w, 0, 501, TN_KIND_PANIC, HOUR_MS, pid);
	events(w, 0);
	pump(w);
	assert_int_equal(w->nd[1].nnotes, 501);
	assert_memory_equal(w->nd[1].notes[0], pid, TN_ALERT_ID);
	assert_int_equal(w->nd[1].note_kind[0], TN_KIND_PANIC);
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_ALERT_TX_PRIO), 1);
}

static void restart_is_not_renotified(void **state)
{
	(void)state;
	net *w = line_up(3);
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(notified(&w->nd[2], id), 1);
	assert_true(w->nd[2].disk[0].notified && w->nd[2].disk[0].receipted);
	/* kill -9 node 2, start a new node from its "store" */
	node_down(w, 2);
	w->nd[2].nnotes = 0;
	w->nd[2].stores = 0;
	start_node(w, 2);
	for (size_t k = 0; k < w->nd[2].ndisk; k++) {
		disk_rec *d = &w->nd[2].disk[k];
		unsigned f = (d->notified ? TN_NODE_LOAD_NOTIFIED : 0) |
		             (d->receipted ? TN_NODE_LOAD_RECEIPTED : 0);
		assert_int_equal(tn_node_load_alert(w->nd[2].n, d->env, d->len, f, w->now, wall(w)),
		                 TN_OK);
	}
	assert_int_equal(tn_node_load_alert(w->nd[2].n, w->nd[2].disk[0].env, w->nd[2].disk[0].len,
	                                    0, w->now, wall(w)),
	                 TN_ERR_EXISTS);
	run_for(w, 10 * TN_MIN); /* reconnects, anti-entropy rounds */
	assert_int_equal(links_up(&w->nd[2]), 1);
	assert_int_equal(w->nd[2].nnotes, 0);
	assert_int_equal(w->nd[2].stores, 0);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_ALERT_RX), 0);
	/* The author's count is unchanged: no second receipt. */
	tn_node_alert_status st;
	assert_int_equal(tn_node_alert_status_get(w->nd[0].n, id, &st), TN_OK);
	assert_int_equal(st.delivered, 2);
}

static void catch_up_exactly_the_missing(void **state)
{
	(void)state;
	net *w = line_up(3);
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_DRILL, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	cut(w, 1, 2);
	for (uint64_t s = 2; s <= 11; s++)
		create(w, 0, s, TN_KIND_DRILL, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[1].nnotes, 11);
	assert_int_equal(w->nd[2].nnotes, 1);
	uint64_t tx1 = ctr(&w->nd[1], TN_NODE_C_ALERT_TX);
	link_ab(w, 1, 2);
	run_for(w, 10 * TN_MIN); /* reconnect (backoff) and digest exchange */
	assert_int_equal(w->nd[2].nnotes, 11);
	/* Exactly the 10 missing crossed the link, no duplicates anywhere. */
	assert_int_equal(ctr(&w->nd[1], TN_NODE_C_ALERT_TX) - tx1, 10);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_ALERT_RX), 11);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_ALERT_RX_PULLED), 10);
	for (size_t i = 0; i < w->n; i++)
		assert_int_equal(actr(&w->nd[i], TN_ALERT_DUPLICATE), 0);
	tn_node_alert_status st;
	assert_int_equal(tn_node_alert_status_get(w->nd[0].n, id, &st), TN_OK);
	assert_int_equal(st.delivered, 2);
}

static void permanent_seq_gap_costs_nothing(void **state)
{
	(void)state;
	net *w = line_up(2);
	uint8_t id[TN_ALERT_ID];
	/* seq 3 was committed and never sealed (crash): a permanent gap */
	create(w, 0, 1, TN_KIND_DRILL, 6 * HOUR_MS, id);
	create(w, 0, 2, TN_KIND_DRILL, 6 * HOUR_MS, id);
	create(w, 0, 4, TN_KIND_DRILL, 6 * HOUR_MS, id);
	create(w, 0, 5, TN_KIND_DRILL, 6 * HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[1].nnotes, 4);
	uint64_t tx = ctr(&w->nd[0], TN_NODE_C_ALERT_TX) + ctr(&w->nd[1], TN_NODE_C_ALERT_TX);
	uint64_t dg = ctr(&w->nd[0], TN_NODE_C_DIGEST_TX) + ctr(&w->nd[1], TN_NODE_C_DIGEST_TX);
	run_for(w, 60 * TN_MIN);
	uint64_t dg2 = ctr(&w->nd[0], TN_NODE_C_DIGEST_TX) + ctr(&w->nd[1], TN_NODE_C_DIGEST_TX);
	assert_true(dg2 >= dg + 10); /* rounds happened: ~every 4 min, both ways */
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_ALERT_TX) + ctr(&w->nd[1], TN_NODE_C_ALERT_TX),
	                 tx);
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_WANT_TX) + ctr(&w->nd[1], TN_NODE_C_WANT_TX), 0);
	/* A newcomer gets exactly the four, once. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(actr(&w->nd[i], TN_ALERT_DUPLICATE), 0);
}

static void non_member_refused_at_message1(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 3);
	start_all(w);
	/* Node 2 is revoked from the shared roster, but dials anyway with a
	 * roster of its own that says it is a member. */
	tn_static_membership own;
	assert_int_equal(tn_static_membership_init(&own, 4), TN_OK);
	own.group_key = w->sm.group_key;
	own.psk = w->sm.psk;
	for (int i = 0; i < 3; i++)
		assert_int_equal(tn_static_membership_add(&own, tn_identity_pubkey(w->nd[i].id),
		                                          tn_identity_linkpub(w->nd[i].id),
		                                          TN_ALERT_AUTHOR_MEMBER, "x", "tcp:x:1"),
		                 TN_OK);
	tn_node_del(w->nd[2].n);
	tn_node_config c = w->base;
	c.identity = w->nd[2].id;
	c.membership_ud = &own;
	c.rand = test_rng_seed(&w->nd[2].rng, 0x99);
	assert_int_equal(tn_node_new(&w->nd[2].n, &c), TN_OK);
	assert_int_equal(tn_static_membership_set_role(&w->sm, tn_identity_pubkey(w->nd[2].id),
	                                               TN_ALERT_AUTHOR_REVOKED),
	                 TN_OK);
	connect_pair(w, 2, tn_identity_pubkey(w->nd[0].id), 0);
	pump(w);
	/* Refused at message 1, before node 0 wrote a byte (docs/link.md
	 * "Message 1 names the initiator"): no handshake to close later. */
	tn_node_stats st;
	tn_node_stats_get(w->nd[0].n, &st);
	assert_int_equal(st.link.rej_identity, 1);
	assert_int_equal(st.link.established, 0);
	tn_node_stats_get(w->nd[2].n, &st);
	assert_int_equal(st.link.established, 0);
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_LINK_NOT_MEMBER), 0);
	assert_int_equal(w->nd[0].links_up, 0);
	assert_int_equal(links_up(&w->nd[0]), 0);
	/* Its alerts are refused too. */
	tn_node_del(w->nd[2].n);
	w->nd[2].n = NULL;
	w->nd[2].up = false;
	tn_static_membership_free(&own);
}

static void store_round_trip_and_failed_store(void **state)
{
	(void)state;
	net *w = line_up(3);
	w->nd[1].defer_store = true;
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	/* Node 1 was asked to store and has not answered: nothing forwarded,
	 * nothing receipted, nothing shown. */
	assert_int_equal(w->nd[1].npend, 1);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_ALERT_RX), 0);
	assert_int_equal(w->nd[1].nnotes, 0);
	assert_int_equal(rctr(&w->nd[1], TN_RECEIPT_SENT), 0);
	assert_int_equal(w->nd[0].receipts, 0);
	/* Confirm: it flows on. */
	assert_int_equal(tn_node_stored(w->nd[1].n, w->nd[1].pend[0], true, w->now, wall(w)),
	                 TN_OK);
	w->nd[1].npend = 0;
	run_for(w, 1 * TN_SEC);
	assert_int_equal(notified(&w->nd[2], id), 1);
	assert_int_equal(notified(&w->nd[1], id), 1);
	assert_int_equal(w->nd[0].receipts, 2);
	/* A failed store: not forwarded, not receipted, not notified. */
	create(w, 0, 2, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[1].npend, 1);
	assert_int_equal(tn_node_stored(w->nd[1].n, w->nd[1].pend[0], false, w->now, wall(w)),
	                 TN_OK);
	assert_int_equal(tn_node_stored(w->nd[1].n, w->nd[1].pend[0], true, w->now, wall(w)),
	                 TN_ERR_NOTFOUND);
	w->nd[1].npend = 0;
	w->nd[1].defer_store = false;
	run_for(w, 1 * TN_SEC);
	assert_int_equal(notified(&w->nd[1], id), 0);
	assert_int_equal(notified(&w->nd[2], id), 0);
	assert_int_equal(w->nd[0].receipts, 2);
	assert_int_equal(ctr(&w->nd[1], TN_NODE_C_STORE_FAILED), 1);
	/* Anti-entropy brings it again; this time the store works. */
	run_for(w, 10 * TN_MIN);
	assert_int_equal(notified(&w->nd[1], id), 1);
	assert_int_equal(notified(&w->nd[2], id), 1);
	assert_int_equal(w->nd[0].receipts, 4);
}

static void expired_alerts_gc_and_not_offered(void **state)
{
	(void)state;
	net *w = line_up(3);
	cut(w, 1, 2);
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_DRILL, 60 * 1000, id);
	run_for(w, 59 * TN_SEC);
	assert_int_equal(tn_node_alert_count(w->nd[0].n), 1);
	assert_int_equal(tn_node_alert_count(w->nd[1].n), 1);
	run_for(w, 2 * TN_SEC);
	assert_int_equal(tn_node_alert_count(w->nd[0].n), 0);
	assert_int_equal(tn_node_alert_count(w->nd[1].n), 0);
	assert_int_equal(ctr(&w->nd[1], TN_NODE_C_EXPIRED), 1);
	/* Node 2 comes back: nothing is offered, nothing wanted. */
	link_ab(w, 1, 2);
	run_for(w, 10 * TN_MIN);
	assert_int_equal(links_up(&w->nd[2]), 1);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_WANT_TX), 0);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_ALERT_RX), 0);
	assert_int_equal(tn_node_next_deadline(w->nd[0].n) > w->now, true);
}

/* Catch-up is judged on the alerts' own timeline; pushes on arrival. */
static void rate_limit_push_vs_catch_up(void **state)
{
	(void)state;
	net *w = line_up(2);
	cut(w, 0, 1);
	/* 60 drills over 6 hours (within budget as written), node 1 offline */
	uint8_t id[TN_ALERT_ID];
	for (uint64_t s = 1; s <= 60; s++) {
		create(w, 0, s, TN_KIND_DRILL, 24 * HOUR_MS, id);
		run_for(w, 6 * TN_MIN);
	}
	link_ab(w, 0, 1);
	run_for(w, 10 * TN_MIN);
	/* All 60 accepted at once: an arrival-time limiter would have taken 20 */
	assert_int_equal(w->nd[1].nnotes, 60);
	assert_int_equal(actr(&w->nd[1], TN_ALERT_RATE_LIMITED), 0);
	assert_int_equal(ctr(&w->nd[1], TN_NODE_C_ALERT_RX_PULLED), 60);
	/* A live burst of 40 drills: the author paces her own pushes (20 now,
	 * then one per 6 s), so the receiver drops none (the receiver's cut
	 * of a flood that bypasses pacing: test_alert, test_malicious.sh)... */
	for (uint64_t s = 61; s <= 100; s++)
		create(w, 0, s, TN_KIND_DRILL, 24 * HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[1].nnotes, 80);
	run_for(w, 125 * TN_SEC);
	assert_int_equal(w->nd[1].nnotes, 100);
	assert_int_equal(actr(&w->nd[1], TN_ALERT_RATE_LIMITED), 0);
	/* ... and her panic still goes through at once (own budget). */
	uint8_t pid[TN_ALERT_ID];
	create(w, 0, 101, TN_KIND_PANIC, HOUR_MS, pid);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(notified(&w->nd[1], pid), 1);
}

static size_t delivered(net *w, int author, const uint8_t id[TN_ALERT_ID]);
static void restart_from_disk(net *w, int i);

/* n nodes in a line, linked, with anti-entropy an hour away: whatever
 * arrives within the test was pushed (or asked for by hand). */
static net *quiet_line(size_t n)
{
	net *w = &NET;
	net_init(w, n);
	w->base.anti_entropy = 60 * TN_MIN;
	line(w);
	start_all(w);
	run_for(w, 10 * TN_SEC);
	return w;
}

static tn_time held_until(net *w, int i, const uint8_t id[TN_ALERT_ID])
{
	tn_node_alert_status st;
	assert_int_equal(tn_node_alert_status_get(w->nd[i].n, id, &st), TN_OK);
	return st.held_until;
}

/* Pacing our own pushes (docs/node.md): 7 panics, a safe and a drill at
 * once. The author pushes the first 5 panics now and holds the rest: the
 * 6th leaves when her urgent bucket refills (60 s + 2 s margin), the 7th a
 * minute later, the safe after them, the drill not before the safe. Every
 * node along a line accepts each push: nothing rate_limited, nothing
 * pulled (anti-entropy is an hour away). */
static void own_panics_paced_not_dropped(void **state)
{
	(void)state;
	net *w = quiet_line(3);
	tn_time t0 = w->now;
	uint8_t id[9][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 7; s++)
		create(w, 0, s, TN_KIND_PANIC, HOUR_MS, id[s - 1]);
	tn_node_alert_req safe;
	memset(&safe, 0, sizeof safe);
	safe.seq = 8;
	safe.kind = TN_KIND_SAFE;
	safe.lifetime_ms = HOUR_MS;
	safe.has_refers_to = true;
	memcpy(safe.refers_to, id[6], TN_ALERT_ID);
	safe.pt = pt_text("أنا بخير");
	assert_int_equal(tn_node_alert_create(w->nd[0].n, &safe, w->now, wall(w), id[7]), TN_OK);
	create(w, 0, 9, TN_KIND_DRILL, HOUR_MS, id[8]);
	tn_time pace = 60 * TN_SEC + 2 * TN_SEC; /* interval + margin */
	for (int k = 0; k < 5; k++)
		assert_int_equal(held_until(w, 0, id[k]), 0);
	assert_int_equal(held_until(w, 0, id[5]), t0 + pace);
	assert_int_equal(held_until(w, 0, id[6]), t0 + TN_MIN + pace);
	assert_int_equal(held_until(w, 0, id[7]), t0 + 2 * TN_MIN + pace);
	assert_int_equal(held_until(w, 0, id[8]), t0 + 2 * TN_MIN + pace);
	/* stored at once, whatever the pace */
	events(w, 0);
	assert_int_equal(w->nd[0].ndisk, 9);
	run_for(w, 1 * TN_SEC);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(w->nd[i].nnotes, 5);
		for (int k = 0; k < 5; k++)
			assert_int_equal(notified(&w->nd[i], id[k]), 1);
	}
	run_until(w, t0 + pace - 1);
	assert_int_equal(w->nd[2].nnotes, 5);
	run_until(w, t0 + pace + 1 * TN_SEC);
	assert_int_equal(held_until(w, 0, id[5]), 0);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(w->nd[i].nnotes, 6);
		assert_int_equal(notified(&w->nd[i], id[5]), 1);
	}
	run_until(w, t0 + TN_MIN + pace + 1 * TN_SEC);
	assert_int_equal(w->nd[2].nnotes, 7);
	assert_int_equal(notified(&w->nd[2], id[6]), 1);
	run_until(w, t0 + 2 * TN_MIN + pace + 1 * TN_SEC);
	for (int i = 1; i <= 2; i++) {
		tnode *t = &w->nd[i];
		assert_int_equal(t->nnotes, 9);
		/* creation order: panics, then the safe, then the drill */
		for (int k = 0; k < 9; k++)
			assert_memory_equal(t->notes[k], id[k], TN_ALERT_ID);
		assert_int_equal(actr(t, TN_ALERT_RATE_LIMITED), 0);
		assert_int_equal(ctr(t, TN_NODE_C_ALERT_RX_PULLED), 0);
	}
	for (int k = 0; k < 9; k++)
		assert_int_equal(delivered(w, 0, id[k]), 2);
	/* Then the budget has refilled: the next panic leaves at once. */
	run_for(w, 5 * TN_MIN);
	uint8_t late[TN_ALERT_ID];
	create(w, 0, 10, TN_KIND_PANIC, HOUR_MS, late);
	assert_int_equal(held_until(w, 0, late), 0);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(notified(&w->nd[2], late), 1);
}

/* A token our bucket mints at t is spent only from t + 2 s: receivers
 * whose arrival clock started later mint theirs later. */
static void refilled_token_waits_for_the_margin(void **state)
{
	(void)state;
	net *w = quiet_line(2);
	tn_time t0 = w->now;
	uint8_t id[8][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 5; s++)
		create(w, 0, s, TN_KIND_PANIC, HOUR_MS, id[s - 1]);
	run_until(w, t0 + TN_MIN);
	create(w, 0, 6, TN_KIND_PANIC, HOUR_MS, id[5]);
	assert_int_equal(held_until(w, 0, id[5]), t0 + TN_MIN + 2 * TN_SEC);
	/* long after: a token minted and 2 s old, spent at once */
	run_until(w, t0 + 2 * TN_MIN + 3 * TN_SEC);
	create(w, 0, 7, TN_KIND_PANIC, HOUR_MS, id[6]);
	assert_int_equal(held_until(w, 0, id[6]), 0);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[1].nnotes, 7);
	assert_int_equal(actr(&w->nd[1], TN_ALERT_RATE_LIMITED), 0);
}

/* A held alert is stored at once but left out of our digests until its
 * push: a neighbour that pulled it early would forward it as a push, and
 * the next hop, which saw the first 5 within the minute, would drop it
 * (rate_limited) and get it only at a later digest round. */
static void held_alert_not_offered_until_pushed(void **state)
{
	(void)state;
	net *w = quiet_line(3);
	tn_time t0 = w->now;
	uint8_t id[6][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 6; s++)
		create(w, 0, s, TN_KIND_PANIC, HOUR_MS, id[s - 1]);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[2].nnotes, 5);
	assert_int_equal(held_until(w, 0, id[5]), t0 + 62 * TN_SEC);
	tn_node_wake(w->nd[0].n, w->now, wall(w)); /* a digest round on every link */
	run_for(w, 1 * TN_SEC);
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_DIGEST_TX) > 0, 1);
	assert_int_equal(notified(&w->nd[1], id[5]), 0);
	run_until(w, t0 + 62 * TN_SEC + 1 * TN_SEC);
	assert_int_equal(held_until(w, 0, id[5]), 0);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(w->nd[i].nnotes, 6);
		assert_int_equal(notified(&w->nd[i], id[5]), 1);
		assert_int_equal(ctr(&w->nd[i], TN_NODE_C_ALERT_RX_PULLED), 0);
		assert_int_equal(actr(&w->nd[i], TN_ALERT_RATE_LIMITED), 0);
	}
	assert_int_equal(delivered(w, 0, id[5]), 2);
}

/* A held alert due while the author has no link up waits for one and is
 * pushed on it, even chatter (not offered by the link-up digest, which
 * would have the neighbour pull it). */
static void held_alert_due_offline_pushed_on_link_up(void **state)
{
	(void)state;
	net *w = quiet_line(3);
	tn_time t0 = w->now;
	uint8_t id[21][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 21; s++)
		create(w, 0, s, TN_KIND_DRILL, HOUR_MS, id[s - 1]);
	assert_int_equal(held_until(w, 0, id[20]), t0 + 8 * TN_SEC);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[2].nnotes, 20);
	cut(w, 0, 1);
	run_until(w, t0 + 20 * TN_SEC);
	assert_int_equal(held_until(w, 0, id[20]), t0 + 8 * TN_SEC); /* still held */
	assert_int_equal(tn_node_next_deadline(w->nd[0].n) > t0 + 20 * TN_SEC, 1);
	link_ab(w, 0, 1);
	tn_node_wake(w->nd[0].n, w->now, wall(w));
	run_for(w, 2 * TN_SEC);
	assert_int_equal(links_up(&w->nd[0]), 1);
	assert_int_equal(held_until(w, 0, id[20]), 0);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(notified(&w->nd[i], id[20]), 1);
		assert_int_equal(ctr(&w->nd[i], TN_NODE_C_ALERT_RX_PULLED), 0);
		assert_int_equal(actr(&w->nd[i], TN_ALERT_RATE_LIMITED), 0);
	}
}

/* kill -9 the author: her node restarts from its store (alerts, then the
 * receipts it recorded), as tocsind's replay does. */
static void author_restarts(net *w, int i, size_t nids, uint8_t (*ids)[TN_ALERT_ID],
                            tn_time down_for)
{
	enum { RMAX = NMAX * 12 };
	uint8_t rid[RMAX][TN_ALERT_ID];
	tn_pubkey rpk[RMAX];
	size_t nr = 0;
	for (size_t k = 0; k < nids; k++) {
		tn_pubkey pk;
		for (size_t j = 0; tn_node_alert_receiver(w->nd[i].n, ids[k], j, &pk) == TN_OK;
		     j++) {
			assert_true(nr < RMAX);
			memcpy(rid[nr], ids[k], TN_ALERT_ID);
			rpk[nr++] = pk;
		}
	}
	node_down(w, i);
	run_for(w, down_for);
	restart_from_disk(w, i);
	for (size_t k = 0; k < nr; k++)
		assert_int_equal(tn_node_load_receipt(w->nd[i].n, rid[k], &rpk[k]), TN_OK);
}

/* Held when the author's daemon was killed: after the restart the node
 * rebuilds its budget from the stored alerts' creation times (the first 5
 * proven left by their receipts) and pushes the 6th and 7th when they were
 * due, not at a digest round (an hour away here); the link-up digests do
 * not offer them early. Each arrives once, none rate_limited or pulled. */
static void held_alerts_pushed_after_restart(void **state)
{
	(void)state;
	net *w = quiet_line(3);
	tn_time t0 = w->now, pace = 62 * TN_SEC;
	uint8_t id[7][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 7; s++)
		create(w, 0, s, TN_KIND_PANIC, HOUR_MS, id[s - 1]);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[2].nnotes, 5);
	assert_int_equal(delivered(w, 0, id[4]), 2);
	author_restarts(w, 0, 7, id, 4 * TN_SEC);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(links_up(&w->nd[0]), 1);
	assert_int_equal(held_until(w, 0, id[5]), t0 + pace);
	assert_int_equal(held_until(w, 0, id[6]), t0 + TN_MIN + pace);
	for (int k = 0; k < 5; k++)
		assert_int_equal(held_until(w, 0, id[k]), 0);
	run_until(w, t0 + pace - 1);
	assert_int_equal(w->nd[1].nnotes, 5);
	assert_int_equal(w->nd[2].nnotes, 5);
	run_until(w, t0 + pace + 1 * TN_SEC);
	for (int i = 1; i <= 2; i++)
		assert_int_equal(notified(&w->nd[i], id[5]), 1);
	run_until(w, t0 + TN_MIN + pace + 1 * TN_SEC);
	for (int i = 1; i <= 2; i++) {
		tnode *t = &w->nd[i];
		assert_int_equal(t->nnotes, 7);
		for (int k = 0; k < 7; k++)
			assert_memory_equal(t->notes[k], id[k], TN_ALERT_ID);
		assert_int_equal(actr(t, TN_ALERT_RATE_LIMITED), 0);
		assert_int_equal(ctr(t, TN_NODE_C_ALERT_RX_PULLED), 0);
	}
	/* pushed once each after the restart: the 6th and 7th, nothing else */
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_ALERT_TX), 2);
	assert_int_equal(delivered(w, 0, id[6]), 2);
	/* a panic right after is paced behind them, as before the restart */
	uint8_t next[TN_ALERT_ID];
	create(w, 0, 8, TN_KIND_PANIC, HOUR_MS, next);
	assert_int_equal(held_until(w, 0, next), t0 + 2 * TN_MIN + pace);
}

/* Killed right after she pressed panic (6 times), before anything left on
 * a link: stored, never sent, no receipt. After the restart the first 5
 * are pushed as soon as a link is up (not pulled by the link-up digest),
 * the 6th a budget interval after that: the receivers' buckets never saw
 * the first ones, but the node cannot prove it. */
static void unsent_panics_pushed_after_restart(void **state)
{
	(void)state;
	net *w = quiet_line(3);
	uint8_t id[6][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 6; s++)
		create(w, 0, s, TN_KIND_PANIC, HOUR_MS, id[s - 1]);
	events(w, 0); /* stored; its frames never reach the pipe */
	assert_int_equal(w->nd[0].ndisk, 6);
	author_restarts(w, 0, 6, id, 3 * TN_SEC);
	tn_time t1 = w->now;
	run_for(w, 1 * TN_SEC);
	assert_int_equal(links_up(&w->nd[0]), 1);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(w->nd[i].nnotes, 5);
		assert_int_equal(ctr(&w->nd[i], TN_NODE_C_ALERT_RX_PULLED), 0);
	}
	assert_int_equal(held_until(w, 0, id[5]), t1 + 62 * TN_SEC);
	run_until(w, t1 + 63 * TN_SEC);
	for (int i = 1; i <= 2; i++) {
		tnode *t = &w->nd[i];
		assert_int_equal(t->nnotes, 6);
		for (int k = 0; k < 6; k++)
			assert_memory_equal(t->notes[k], id[k], TN_ALERT_ID);
		assert_int_equal(actr(t, TN_ALERT_RATE_LIMITED), 0);
		assert_int_equal(ctr(t, TN_NODE_C_ALERT_RX_PULLED), 0);
	}
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_ALERT_TX), 6);
}

/* After a reboot the monotonic clock starts again near 0, far below the
 * times the alerts were paced at: the rebuilt schedule is relative to the
 * new clock (no underflow), from the wall-clock creation times. Alone in
 * the network, no receipts: the 5 pushed ones are pushed again now, the
 * 6th and 7th a minute apart after them. */
static void restore_after_reboot_clock(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 1);
	start_all(w);
	uint8_t id[7][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 7; s++)
		create(w, 0, s, TN_KIND_PANIC, HOUR_MS, id[s - 1]);
	events(w, 0);
	assert_int_equal(w->nd[0].ndisk, 7);
	uint64_t wall1 = wall(w) + 4000; /* back 4 s later */
	tn_time boot = 3 * TN_SEC, pace = 62 * TN_SEC;
	node_down(w, 0);
	start_node(w, 0);
	tn_node *n = w->nd[0].n;
	for (size_t k = 0; k < 7; k++) {
		disk_rec *d = &w->nd[0].disk[k];
		assert_int_equal(tn_node_load_alert(n, d->env, d->len, 0, boot, wall1), TN_OK);
	}
	assert_int_equal(tn_node_next_deadline(n), 0);
	tn_node_tick(n, boot, wall1);
	assert_int_equal(held_until(w, 0, id[0]), boot); /* no link: waits for one */
	assert_int_equal(held_until(w, 0, id[5]), boot + pace);
	assert_int_equal(held_until(w, 0, id[6]), boot + TN_MIN + pace);
	uint8_t next[TN_ALERT_ID];
	tn_node_alert_req r;
	memset(&r, 0, sizeof r);
	r.seq = 8;
	r.kind = TN_KIND_PANIC;
	r.lifetime_ms = HOUR_MS;
	r.pt = pt_text("again");
	assert_int_equal(tn_node_alert_create(n, &r, boot, wall1, next), TN_OK);
	assert_int_equal(held_until(w, 0, next), boot + 2 * TN_MIN + pace);
}

/* Own alerts long delivered (older than an anti-entropy period, receipts
 * lost or not) cost nothing after a restart: not pushed again, and a new
 * panic leaves at once. */
static void old_own_alerts_not_pushed_after_restart(void **state)
{
	(void)state;
	net *w = quiet_line(2);
	uint8_t id[8][TN_ALERT_ID];
	for (uint64_t s = 1; s <= 8; s++)
		create(w, 0, s, TN_KIND_PANIC, 3 * HOUR_MS, id[s - 1]);
	run_for(w, 70 * TN_MIN); /* anti-entropy is an hour here */
	assert_int_equal(w->nd[1].nnotes, 8);
	node_down(w, 0);
	run_for(w, 1 * TN_SEC);
	restart_from_disk(w, 0); /* no receipts loaded: unproven, but old */
	run_for(w, 1 * TN_SEC);
	assert_int_equal(links_up(&w->nd[0]), 1);
	assert_int_equal(ctr(&w->nd[0], TN_NODE_C_ALERT_TX), 0);
	uint8_t late[TN_ALERT_ID];
	create(w, 0, 9, TN_KIND_PANIC, HOUR_MS, late);
	assert_int_equal(held_until(w, 0, late), 0);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(notified(&w->nd[1], late), 1);
	assert_int_equal(w->nd[1].nnotes, 9);
}

/* Ring 0-1-2-3-0, every link up. */
static void ring4_up(net *w, uint8_t lazy_push)
{
	net_init(w, 4);
	w->base.lazy_push = lazy_push;
	line(w);
	link_ab(w, 3, 0);
	start_all(w);
	run_for(w, 30 * TN_SEC);
	for (size_t i = 0; i < w->n; i++)
		assert_int_equal(links_up(&w->nd[i]), 2);
}

static void receipt_falls_back_when_reverse_link_down(void **state)
{
	(void)state;
	net *w = &NET;
	/* ring 0-1-2-3-0; node 3 holds its store back so that node 2 first
	 * hears the panic from node 1: its reverse path is the link to 1. */
	ring4_up(w, TN_NODE_LAZY_DEFAULT);
	w->nd[2].defer_store = true;
	w->nd[3].defer_store = true;
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 100 * TN_MSEC);
	assert_int_equal(w->nd[2].npend, 1);
	assert_int_equal(w->nd[3].npend, 1);
	/* The reverse link dies before node 2 has stored it. */
	cut(w, 1, 2);
	for (int i = 2; i <= 3; i++) {
		w->nd[i].defer_store = false;
		assert_int_equal(
		        tn_node_stored(w->nd[i].n, w->nd[i].pend[0], true, w->now, wall(w)), TN_OK);
		w->nd[i].npend = 0;
	}
	run_for(w, 1 * TN_SEC);
	/* Node 2 sent its receipt on its other link (to 3), which relayed it
	 * along its own reverse path to the author. */
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_FALLBACK), 1);
	assert_true(rctr(&w->nd[3], TN_RECEIPT_FORWARDED) >= 1);
	assert_everyone(w, 0, id);
}

/* Line 0-1-2-3-4 plus node 5 linked to 1 and 3. Node 5 holds its store
 * back so that node 3 hears the panic from 2 (reverse path 3 -> 2), then
 * the link 2-3 is cut and node 4 stores: its receipt takes one reverse hop
 * (4 -> 3), one fallback hop (3 -> 5), then two reverse hops (5 -> 1 -> 0).
 * Only the fallback hop counts against receipt_hops. Returns whether the
 * author got node 4's receipt. */
static bool receipt_after_long_reverse_path(net *w, uint8_t receipt_hops)
{
	net_init(w, 6);
	w->base.receipt_hops = receipt_hops;
	line(w);
	w->adj[4][5] = w->adj[5][4] = false;
	link_ab(w, 5, 1);
	link_ab(w, 5, 3);
	start_all(w);
	run_for(w, 30 * TN_SEC);
	assert_int_equal(links_up(&w->nd[3]), 3);
	assert_int_equal(links_up(&w->nd[5]), 2);
	w->nd[4].defer_store = true;
	w->nd[5].defer_store = true;
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 100 * TN_MSEC);
	assert_int_equal(w->nd[4].npend, 1);
	assert_int_equal(w->nd[5].npend, 1);
	/* Node 5 heard it from 1 first (its reverse path); now it may store. */
	w->nd[5].defer_store = false;
	assert_int_equal(tn_node_stored(w->nd[5].n, w->nd[5].pend[0], true, w->now, wall(w)),
	                 TN_OK);
	w->nd[5].npend = 0;
	run_for(w, 1 * TN_SEC);
	cut(w, 2, 3);
	w->nd[4].defer_store = false;
	assert_int_equal(tn_node_stored(w->nd[4].n, w->nd[4].pend[0], true, w->now, wall(w)),
	                 TN_OK);
	w->nd[4].npend = 0;
	run_for(w, 1 * TN_SEC);
	tn_node_alert_status st;
	assert_int_equal(tn_node_alert_status_get(w->nd[0].n, id, &st), TN_OK);
	for (uint64_t k = 0; k < st.delivered; k++) {
		tn_pubkey pk;
		assert_int_equal(tn_node_alert_receiver(w->nd[0].n, id, k, &pk), TN_OK);
		if (node_of(w, &pk) == 4)
			return true;
	}
	return false;
}

static void receipt_hop_limit_counts_only_fallback(void **state)
{
	(void)state;
	net *w = &NET;
	/* Three reverse-path hops and one fallback hop, limit 1: delivered. */
	assert_true(receipt_after_long_reverse_path(w, 1));
	assert_int_equal(rctr(&w->nd[3], TN_RECEIPT_FALLBACK), 1);
	assert_int_equal(rctr(&w->nd[3], TN_RECEIPT_HOPS_EXCEEDED), 0);
	assert_true(rctr(&w->nd[5], TN_RECEIPT_FORWARDED) >= 1);
	net_free(w);
	/* Limit 0: no fallback hop allowed, the flood stays bounded. */
	assert_false(receipt_after_long_reverse_path(w, 0));
	assert_int_equal(rctr(&w->nd[3], TN_RECEIPT_FALLBACK), 0);
	assert_int_equal(rctr(&w->nd[3], TN_RECEIPT_HOPS_EXCEEDED), 1);
}

static size_t delivered(net *w, int author, const uint8_t id[TN_ALERT_ID])
{
	tn_node_alert_status st;
	assert_int_equal(tn_node_alert_status_get(w->nd[author].n, id, &st), TN_OK);
	return st.delivered;
}

static void restart_from_disk(net *w, int i)
{
	start_node(w, i);
	for (size_t k = 0; k < w->nd[i].ndisk; k++) {
		disk_rec *d = &w->nd[i].disk[k];
		unsigned f = (d->notified ? TN_NODE_LOAD_NOTIFIED : 0) |
		             (d->receipted ? TN_NODE_LOAD_RECEIPTED : 0);
		assert_int_equal(tn_node_load_alert(w->nd[i].n, d->env, d->len, f, w->now, wall(w)),
		                 TN_OK);
	}
}

/* RECEIPTED only once the batch has left: a crash inside the batch delay
 * leaves the store without the flag, and the restarted node sends it. */
static void receipted_only_after_the_batch_left(void **state)
{
	(void)state;
	net *w = line_up(3);
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, w->base.receipt_delay - 1); /* stored everywhere, batches not flushed */
	assert_int_equal(w->nd[2].ndisk, 1);
	assert_true(w->nd[2].disk[0].notified);
	assert_false(w->nd[2].disk[0].receipted);
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_SENT), 1);
	assert_int_equal(delivered(w, 0, id), 0);
	/* kill -9 node 2 before its batch leaves; restart from its store */
	node_down(w, 2);
	restart_from_disk(w, 2);
	run_for(w, 10 * TN_MIN);
	assert_int_equal(links_up(&w->nd[2]), 1);
	assert_true(w->nd[2].disk[0].receipted);
	assert_int_equal(w->nd[2].nnotes, 1); /* shown once, by the first incarnation */
	assert_int_equal(delivered(w, 0, id), 2);
	/* The other receiver's batch left normally: flagged, not sent twice. */
	assert_true(w->nd[1].disk[0].receipted);
	assert_int_equal(rctr(&w->nd[1], TN_RECEIPT_SENT), 1);
}

/* A link that breaks with our receipt still in its batch: the receipt is
 * owed to the next link up (none other is up) and reaches the author. */
static void receipt_resent_when_its_link_breaks(void **state)
{
	(void)state;
	net *w = line_up(3);
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, w->base.receipt_delay - 1);
	assert_false(w->nd[2].disk[0].receipted);
	cut(w, 1, 2);
	run_for(w, 1 * TN_SEC);
	assert_false(w->nd[2].disk[0].receipted);
	assert_int_equal(delivered(w, 0, id), 1);
	link_ab(w, 1, 2); /* may redial */
	run_for(w, 10 * TN_MIN);
	assert_int_equal(links_up(&w->nd[2]), 1);
	assert_true(w->nd[2].disk[0].receipted);
	assert_int_equal(delivered(w, 0, id), 2);
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_SENT), 2); /* signed again */
}

/* Line 0-1-2 plus node 3 linked to 0 and 1. Node 2's receipt waits in
 * node 1's batch for the link to 0 when that link breaks: node 1 routes it
 * again (fallback, through 3) instead of dropping it with the link. */
static void relayed_batch_rerouted_when_its_link_breaks(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 4);
	line(w);
	w->adj[2][3] = w->adj[3][2] = false;
	link_ab(w, 3, 0);
	link_ab(w, 3, 1);
	start_all(w);
	run_for(w, 30 * TN_SEC);
	assert_int_equal(links_up(&w->nd[1]), 3);
	w->nd[2].defer_store = true;
	uint8_t id[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(delivered(w, 0, id), 2); /* 1 and 3 */
	w->nd[2].defer_store = false;
	assert_int_equal(tn_node_stored(w->nd[2].n, w->nd[2].pend[0], true, w->now, wall(w)),
	                 TN_OK);
	w->nd[2].npend = 0;
	/* 2 flushes at +delay; node 1 holds it until +2 delay; cut in between */
	run_for(w, w->base.receipt_delay + w->base.receipt_delay / 2);
	assert_int_equal(rctr(&w->nd[1], TN_RECEIPT_FORWARDED), 1);
	assert_int_equal(delivered(w, 0, id), 2);
	cut(w, 0, 1);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(rctr(&w->nd[1], TN_RECEIPT_FALLBACK), 1);
	assert_int_equal(delivered(w, 0, id), 3);
}

static void idle_wakes_only_for_keepalive_and_anti_entropy(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 3);
	line(w);
	link_ab(w, 2, 0);
	start_all(w);
	run_for(w, 30 * TN_SEC);
	for (size_t i = 0; i < w->n; i++) {
		assert_int_equal(links_up(&w->nd[i]), 2);
		w->nd[i].ticks = 0;
	}
	for (size_t i = 0; i < w->n; i++) {
		tn_time d = tn_node_next_deadline(w->nd[i].n);
		assert_true(d != TN_TIME_NEVER);
		/* The soonest timer is a keepalive or the anti-entropy round. */
		assert_true(d >= w->now + 60 * TN_SEC);
	}
	run_for(w, 30 * TN_MIN);
	for (size_t i = 0; i < w->n; i++) {
		/* 2 links x (keepalive every 120 s) + ~8 anti-entropy rounds in
		 * 30 min: about 38 wakeups, 0.02/s; never a fast tick. */
		assert_true(w->nd[i].ticks <= 45);
		assert_int_equal(links_up(&w->nd[i]), 2);
	}
	/* No links, nothing held: never. */
	tn_node *lonely;
	tn_node_config c = w->base;
	c.identity = w->nd[0].id;
	test_rng r;
	c.rand = test_rng_seed(&r, 7);
	tn_static_membership solo;
	assert_int_equal(tn_static_membership_init(&solo, 2), TN_OK);
	assert_int_equal(tn_static_membership_add(&solo, tn_identity_pubkey(w->nd[0].id),
	                                          tn_identity_linkpub(w->nd[0].id),
	                                          TN_ALERT_AUTHOR_MEMBER, "me", NULL),
	                 TN_OK);
	c.membership_ud = &solo;
	assert_int_equal(tn_node_new(&lonely, &c), TN_OK);
	tn_node_tick(lonely, w->now, wall(w));
	assert_true(tn_node_next_deadline(lonely) == TN_TIME_NEVER);
	tn_node_del(lonely);
	tn_static_membership_free(&solo);
}

static void wake_reconnects_at_once(void **state)
{
	(void)state;
	net *w = line_up(2);
	cut(w, 0, 1);
	run_for(w, 60 * TN_MIN); /* backoff grows to its 5-minute cap */
	link_ab(w, 0, 1);
	/* Without a wake, the next attempt can be minutes away. With one: now. */
	tn_node_wake(w->nd[0].n, w->now, wall(w));
	pump(w);
	assert_int_equal(links_up(&w->nd[0]), 1);
}

/* Shuttle handshake bytes between a bare tn_link (a dial-back probe) and a
 * responder link of node i until nothing moves. true when the probe saw
 * ESTABLISHED; message 3 is never delivered (what the daemon does). */
static bool probe_handshake(net *w, tn_link *probe, int i, uint64_t lid)
{
	for (int round = 0; round < 8; round++) {
		bool moved = false;
		tn_ssize r;
		while ((r = tn_link_out(probe, xbuf, sizeof xbuf, w->now)) > 0) {
			moved = true;
			assert_int_equal(tn_node_link_recv(w->nd[i].n, lid, xbuf, (size_t)r, w->now,
			                                   wall(w)),
			                 TN_OK);
		}
		while ((r = tn_node_link_out(w->nd[i].n, lid, xbuf, sizeof xbuf, w->now)) > 0) {
			moved = true;
			assert_true(tn_link_recv(probe, xbuf, (size_t)r, w->now, wall(w)) >= 0);
			tn_link_event ev;
			while (tn_link_poll_event(probe, &ev))
				if (ev.type == TN_LINK_EV_ESTABLISHED)
					return true;
		}
		if (!moved)
			break;
	}
	return false;
}

/* docs/node.md "Reachability": the peer dials only the asker's roster
 * endpoint, the probe's handshake succeeds only against the asker's key and
 * does not disturb the link they share, the answer comes back as a
 * REACHABILITY event, one dial-back per asker per minute, and an asker
 * without endpoint gets NO_ENDPOINT and no dial. */
/* After the interval a asks again: p gets its dialbacks-th DIALBACK. */
static void ask_again(net *w, tnode *a, tnode *p, size_t dialbacks)
{
	run_for(w, TN_DIALBACK_INTERVAL);
	assert_int_equal(tn_node_dialback_ask(a->n, NULL, w->now, wall(w), NULL), TN_OK);
	pump(w);
	assert_int_equal(p->dialbacks, dialbacks);
}

/* p reports result for its probe: a is answered that. */
static void report(net *w, tnode *p, tnode *a, uint8_t result)
{
	assert_int_equal(tn_node_dialback_done(p->n, p->probe_id, result, w->now), TN_OK);
	pump(w);
	assert_int_equal(a->answer, result);
}

static void dialback_roster_endpoint_key_and_rate_limit(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 3);
	line(w); /* 0 - 1 - 2 */
	w->sm.m[2].endpoint_len = 0; /* m2 publishes no endpoint */
	start_all(w);
	run_for(w, 10 * TN_SEC);
	assert_int_equal(links_up(&w->nd[0]), 1);
	tnode *a = &w->nd[0], *p = &w->nd[1];

	/* n0 asks; its only link is to n1. */
	tn_pubkey asked;
	assert_int_equal(tn_node_dialback_ask(a->n, NULL, w->now, wall(w), &asked), TN_OK);
	assert_true(tn_pubkey_eq(&asked, tn_identity_pubkey(p->id)));
	pump(w);
	assert_int_equal(p->dialbacks, 1);
	assert_true(tn_pubkey_eq(&p->db_member, tn_identity_pubkey(a->id)));
	assert_string_equal(p->db_ep, "tcp:node0:7443"); /* m0's roster endpoint */

	/* The probe against the asker: established, her link to n1 untouched. */
	tn_link *probe = NULL;
	uint64_t lid = 0;
	assert_int_equal(tn_node_dialback_link(p->n, p->probe_id, w->now, wall(w), &probe), TN_OK);
	assert_int_equal(tn_node_link_open(a->n, TN_NOISE_RESPONDER, NULL, w->now, wall(w), &lid),
	                 TN_OK);
	assert_true(probe_handshake(w, probe, 0, lid));
	tn_link_del(probe);
	tn_node_link_closed(a->n, lid, w->now);
	/* The same probe against someone else (a port forwarded to n2): n2
	 * stays silent (message 1 names n0's key), nothing is established. */
	assert_int_equal(tn_node_dialback_link(p->n, p->probe_id, w->now, wall(w), &probe), TN_OK);
	assert_int_equal(
	        tn_node_link_open(w->nd[2].n, TN_NOISE_RESPONDER, NULL, w->now, wall(w), &lid),
	        TN_OK);
	assert_false(probe_handshake(w, probe, 2, lid));
	tn_link_del(probe);
	tn_node_link_closed(w->nd[2].n, lid, w->now);
	pump(w);
	assert_int_equal(links_up(a), 1);

	/* The answer. */
	assert_int_equal(tn_node_dialback_done(p->n, p->probe_id, TN_DIALBACK_OK, w->now), TN_OK);
	assert_int_equal(tn_node_dialback_done(p->n, p->probe_id, TN_DIALBACK_OK, w->now),
	                 TN_ERR_NOTFOUND);
	pump(w);
	assert_int_equal(a->answers, 1);
	assert_int_equal(a->answer, TN_DIALBACK_OK);
	assert_true(tn_pubkey_eq(&a->answer_by, tn_identity_pubkey(p->id)));

	/* Again at once: LIMITED, no dial. After the interval: dialed again. */
	assert_int_equal(tn_node_dialback_ask(a->n, NULL, w->now, wall(w), NULL), TN_OK);
	pump(w);
	assert_int_equal(p->dialbacks, 1);
	assert_int_equal(a->answers, 2);
	assert_int_equal(a->answer, TN_DIALBACK_LIMITED);
	ask_again(w, a, p, 2);
	report(w, p, a, TN_DIALBACK_NO_CONNECT);
	/* The daemon would not dial her endpoint (its scope, daemon/addrscope.h):
	 * NO_ENDPOINT goes back; LIMITED is not an outcome of a dial. */
	ask_again(w, a, p, 3);
	assert_int_equal(tn_node_dialback_done(p->n, p->probe_id, TN_DIALBACK_LIMITED, w->now),
	                 TN_ERR_INVAL);
	report(w, p, a, TN_DIALBACK_NO_ENDPOINT);
	/* A question replaced before its answer: the late answer is a stray. */
	ask_again(w, a, p, 4);
	assert_int_equal(tn_node_dialback_ask(a->n, NULL, w->now, wall(w), NULL), TN_OK);
	pump(w);
	assert_int_equal(a->answer, TN_DIALBACK_LIMITED); /* one probe per asker at a time */
	assert_int_equal(tn_node_dialback_done(p->n, p->probe_id, TN_DIALBACK_OK, w->now), TN_OK);
	pump(w);
	assert_int_equal(a->answer, TN_DIALBACK_LIMITED);
	tn_node_stats st;
	tn_node_stats_get(a->n, &st);
	assert_int_equal(st.node[TN_NODE_C_DIALBACK_STRAY], 1);

	/* n2 has no endpoint record: NO_ENDPOINT, nothing dialed. */
	tnode *c = &w->nd[2];
	assert_int_equal(tn_node_dialback_ask(c->n, NULL, w->now, wall(w), NULL), TN_OK);
	pump(w);
	assert_int_equal(p->dialbacks, 4);
	assert_int_equal(c->answer, TN_DIALBACK_NO_ENDPOINT);
	assert_int_equal(tn_node_dialback_done(p->n, 12345, TN_DIALBACK_OK, w->now),
	                 TN_ERR_NOTFOUND);
	assert_int_equal(tn_node_dialback_done(p->n, p->probe_id, 9, w->now), TN_ERR_INVAL);
	tn_node_stats_get(p->n, &st);
	assert_int_equal(st.node[TN_NODE_C_DIALBACK_SERVED], 4);
	assert_int_equal(st.node[TN_NODE_C_DIALBACK_REFUSED], 3);
	/* With two links, a second question goes to the other member. */
	tn_pubkey q1, q2;
	assert_int_equal(tn_node_dialback_ask(p->n, NULL, w->now, wall(w), &q1), TN_OK);
	assert_int_equal(tn_node_dialback_ask(p->n, NULL, w->now, wall(w), &q2), TN_OK);
	assert_false(tn_pubkey_eq(&q1, &q2));
	pump(w);
	/* Nobody to ask without a link. */
	cut(w, 1, 2);
	pump(w);
	assert_int_equal(tn_node_dialback_ask(c->n, NULL, w->now, wall(w), NULL), TN_ERR_STATE);
}

static void equivocation_is_a_conflict(void **state)
{
	(void)state;
	net *w = line_up(2);
	uint8_t a[TN_ALERT_ID], b[TN_ALERT_ID];
	create(w, 0, 1, TN_KIND_DRILL, HOUR_MS, a);
	run_for(w, 1 * TN_SEC);
	/* Node 0 comes back with an empty store (a restored backup, a stolen
	 * key) and signs seq 1 again with other content before it has a link;
	 * a panic made offline is pushed on the first link up. */
	node_down(w, 0);
	w->nd[0].ndisk = 0;
	start_node(w, 0);
	tn_node_alert_req q;
	memset(&q, 0, sizeof q);
	q.seq = 1;
	q.kind = TN_KIND_PANIC;
	q.lifetime_ms = HOUR_MS;
	q.pt = pt_text("other");
	assert_int_equal(tn_node_alert_create(w->nd[0].n, &q, w->now, wall(w), b), TN_OK);
	events(w, 0);
	assert_int_equal(links_up(&w->nd[0]), 0);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(w->nd[1].conflicts, 1);
	assert_int_equal(actr(&w->nd[1], TN_ALERT_EQUIVOCATION), 1);
	assert_int_equal(ctr(&w->nd[1], TN_NODE_C_CONFLICT), 1);
	assert_int_equal(notified(&w->nd[1], b), 0);
	assert_int_equal(links_up(&w->nd[0]), 1);
	/* Digests compare seqs, not content: two nodes holding different
	 * versions of (author, seq) never exchange them (docs/node.md). */
}

static void config_and_arguments(void **state)
{
	(void)state;
	tn_node_config c;
	tn_node_config_default(&c);
	tn_node *n = (tn_node *)1;
	assert_int_equal(tn_node_new(&n, &c), TN_ERR_INVAL);
	assert_null(n);
	assert_int_equal(tn_node_new(NULL, &c), TN_ERR_INVAL);
	assert_string_equal(tn_node_counter_name(TN_NODE_C_EVENTS_DROPPED), "events_dropped");
	assert_string_equal(tn_node_counter_name(TN_NODE_C_COUNT), "unknown");
	assert_string_equal(tn_receipt_reason_name(TN_RECEIPT_HOPS_EXCEEDED), "hops_exceeded");
	for (int i = 0; i < TN_NODE_C_COUNT; i++)
		assert_string_not_equal(tn_node_counter_name((tn_node_counter)i), "unknown");
	for (int i = 0; i < TN_RECEIPT_REASON_COUNT; i++)
		assert_string_not_equal(tn_receipt_reason_name((tn_receipt_reason)i), "unknown");
	tn_node_del(NULL);
}

/* ---- lazy push (Plumtree; docs/node.md "Lazy push") ------------------------ */

static uint64_t sum_ctr(const net *w, tn_node_counter c)
{
	uint64_t k = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->nd[i].up)
			k += ctr(&w->nd[i], c);
	return k;
}

/* Ring 0-1-2-3-0 with lazy push for chatter, after the first drill: node
 * 2 got it from 1 and from 3 and pruned one of them. Returns that one
 * (the lazy link is 2-x; the eager tree reaches 2 through the other). */
static int lazy_ring(net *w, uint8_t id[TN_ALERT_ID])
{
	ring4_up(w, TN_LAZY_CHATTER);
	create(w, 0, 1, TN_KIND_DRILL, HOUR_MS, id);
	run_for(w, 1 * TN_SEC);
	for (size_t i = 1; i < w->n; i++)
		assert_int_equal(notified(&w->nd[i], id), 1);
	/* The first drill floods (every link starts eager): 0 -> 1, 0 -> 3,
	 * 1 -> 2, 3 -> 2; node 2 sees a pushed duplicate and prunes. */
	assert_int_equal(sum_ctr(w, TN_NODE_C_ALERT_TX), 4);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_PRUNE_TX), 1);
	assert_int_equal(sum_ctr(w, TN_NODE_C_PRUNE_TX), 1);
	int pruned = ctr(&w->nd[1], TN_NODE_C_PRUNE_RX) == 1 ? 1 : 3;
	assert_int_equal(ctr(&w->nd[pruned], TN_NODE_C_PRUNE_RX), 1);
	return pruned;
}

/* A pushed duplicate on an eager link prunes it: the next drill crosses
 * the tree only (n - 1 ALERTs), and the pruned link carries an IHAVE. A
 * panic still floods (TN_LAZY_CHATTER) and prunes nothing. */
static void lazy_prune_on_duplicate(void **state)
{
	(void)state;
	net *w = &NET;
	uint8_t id[TN_ALERT_ID], id2[TN_ALERT_ID], pid[TN_ALERT_ID];
	int pruned = lazy_ring(w, id);
	create(w, 0, 2, TN_KIND_DRILL, HOUR_MS, id2);
	run_for(w, 1 * TN_SEC);
	for (size_t i = 1; i < w->n; i++)
		assert_int_equal(notified(&w->nd[i], id2), 1);
	assert_int_equal(sum_ctr(w, TN_NODE_C_ALERT_TX), 4 + 3);
	/* The pruned side announced it to 2, who held it already: no GRAFT. */
	assert_int_equal(ctr(&w->nd[pruned], TN_NODE_C_IHAVE_TX), 1);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_IHAVE_RX), 1);
	assert_int_equal(sum_ctr(w, TN_NODE_C_GRAFT_TX), 0);
	assert_int_equal(sum_ctr(w, TN_NODE_C_PRUNE_TX), 1);
	/* Panic: every link, priority, no prune for its duplicates. */
	create(w, 0, 3, TN_KIND_PANIC, HOUR_MS, pid);
	run_for(w, 1 * TN_SEC);
	for (size_t i = 1; i < w->n; i++)
		assert_int_equal(notified(&w->nd[i], pid), 1);
	assert_int_equal(sum_ctr(w, TN_NODE_C_ALERT_TX), 4 + 3 + 4);
	assert_int_equal(sum_ctr(w, TN_NODE_C_PRUNE_TX), 1);
}

/* Tree repair: the eager link into node 2 breaks for good. The next drill
 * reaches 2 only as an IHAVE over the lazy link; after graft_timeout node
 * 2 GRAFTs it (not before), which also makes that link eager: the drill
 * after that crosses it with no further GRAFT. */
static void lazy_graft_on_timeout_repairs_the_tree(void **state)
{
	(void)state;
	net *w = &NET;
	uint8_t id[TN_ALERT_ID], id2[TN_ALERT_ID], id3[TN_ALERT_ID];
	int pruned = lazy_ring(w, id);
	int eager = pruned == 1 ? 3 : 1;
	cut(w, eager, 2);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(links_up(&w->nd[2]), 1);
	uint64_t tx0 = sum_ctr(w, TN_NODE_C_ALERT_TX);
	create(w, 0, 2, TN_KIND_DRILL, HOUR_MS, id2);
	/* Within the IHAVE delay plus the timeout: announced, not yet pulled. */
	run_for(w, w->base.ihave_delay + w->base.graft_timeout / 2);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_IHAVE_RX), 1);
	assert_int_equal(notified(&w->nd[2], id2), 0);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_GRAFT_TX), 0);
	run_for(w, w->base.graft_timeout);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_GRAFT_TX), 1);
	assert_int_equal(ctr(&w->nd[pruned], TN_NODE_C_GRAFT_SERVED), 1);
	assert_int_equal(notified(&w->nd[2], id2), 1);
	for (size_t i = 1; i < w->n; i++)
		assert_int_equal(notified(&w->nd[i], id2), 1);
	assert_int_equal(sum_ctr(w, TN_NODE_C_ALERT_TX), tx0 + 3);
	/* Repaired: the next drill is pushed over the grafted link at once. */
	create(w, 0, 3, TN_KIND_DRILL, HOUR_MS, id3);
	run_for(w, w->base.ihave_delay);
	assert_int_equal(notified(&w->nd[2], id3), 1);
	run_for(w, 1 * TN_SEC);
	assert_int_equal(ctr(&w->nd[2], TN_NODE_C_GRAFT_TX), 1);
	assert_int_equal(sum_ctr(w, TN_NODE_C_ALERT_TX), tx0 + 6);
}

/* No loss under churn: six nodes, lazy push for every kind, 24 alerts
 * (panics and drills) from changing authors while links break and come
 * back and nodes crash and restart from their disk. After each step (2 s)
 * every node that is up holds every alert so far: through the tree, a
 * GRAFT, or the digest at link up. And it costs fewer ALERTs than
 * flooding: each node holds 3..5 links, a flood would send ~3.5 per node
 * per alert. */
static void lazy_no_loss_under_churn(void **state)
{
	(void)state;
	net *w = &NET;
	net_init(w, 6);
	w->base.lazy_push = TN_LAZY_ALL;
	w->base.degree = 3;
	w->base.limits.urgent.burst = 100;
	for (int a = 0; a < 6; a++)
		for (int b = a + 1; b < 6; b++)
			link_ab(w, a, b);
	start_all(w);
	run_for(w, 30 * TN_SEC);
	enum { K = 24 };
	uint8_t ids[K][TN_ALERT_ID];
	uint64_t seq[6] = {0};
	int down = -1;
	for (int k = 0; k < K; k++) {
		int author = (k * 5) % 6;
		if (author == down)
			author = (author + 1) % 6;
		uint8_t kind = k % 3 == 0 ? TN_KIND_PANIC : TN_KIND_DRILL;
		create(w, author, ++seq[author], kind, HOUR_MS, ids[k]);
		switch (k % 6) {
		case 0: cut(w, k % 6, (k / 6 + 2) % 6); break; /* a link breaks */
		case 2: /* it may come back */
			for (int a = 0; a < 6; a++)
				for (int b = a + 1; b < 6; b++)
					link_ab(w, a, b);
			break;
		case 3: /* a node crashes, right after the alert went out */
			down = (author + 2) % 6;
			node_down(w, down);
			break;
		case 5:
			restart_from_disk(w, down);
			down = -1;
			break;
		default: break;
		}
		run_for(w, 2 * TN_SEC);
		for (size_t i = 0; i < w->n; i++) {
			if (!w->nd[i].up)
				continue;
			for (int j = 0; j <= k; j++)
				assert_true(disk_has(&w->nd[i], ids[j]));
		}
	}
	for (size_t i = 0; i < w->n; i++)
		for (int j = 0; j < K; j++)
			assert_true(notified(&w->nd[i], ids[j]) <= 1);
	assert_true(sum_ctr(w, TN_NODE_C_PRUNE_TX) > 0);
	uint64_t tx = sum_ctr(w, TN_NODE_C_ALERT_TX);
	print_message("lazy churn: ALERT %llu for %d alerts x 6 nodes, IHAVE ids %llu, GRAFT ids "
	              "%llu, PRUNE %llu\n",
	              (unsigned long long)tx, K, (unsigned long long)sum_ctr(w, TN_NODE_C_IHAVE_TX),
	              (unsigned long long)sum_ctr(w, TN_NODE_C_GRAFT_TX),
	              (unsigned long long)sum_ctr(w, TN_NODE_C_PRUNE_TX));
	assert_true(tx < (uint64_t)K * 2 * w->n);
}

/* ---- fuzz_node seeds (node_fixture.h) ------------------------------------ */

static uint8_t seedbuf[BUFSZ];
static size_t seedlen;

static void rec(uint8_t op, const uint8_t *p, size_t len)
{
	seedbuf[seedlen++] = op;
	seedbuf[seedlen++] = (uint8_t)(len >> 8);
	seedbuf[seedlen++] = (uint8_t)len;
	if (len)
		memcpy(seedbuf + seedlen, p, len);
	seedlen += len;
}

static void rec_msg(uint8_t op, const tn_link_msg *m)
{
	uint8_t b[TN_LINK_PLAINTEXT_MAX];
	tn_ssize n = tn_link_encode(m, b, sizeof b);
	if (n < 0)
		abort();
	rec(op, b, (size_t)n);
}

static size_t peer_alert(nf *f, int who, uint8_t kind, uint64_t seq, uint8_t *env)
{
	tn_alert_draft d;
	memset(&d, 0, sizeof d);
	memset(d.network_id, 0x55, TN_NETWORK_ID);
	d.seq = seq;
	d.kind = kind;
	d.created_ms = NF_WALL;
	d.expires_ms = NF_WALL + 3600 * 1000;
	d.epoch = 1;
	tn_alert_pt pt = nf_pt();
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 0x33);
	tn_ssize n = tn_alert_seal(f->id[who], &d, &f->sm.group_key, &pt, &rand, env,
	                           TN_ALERT_ENVELOPE_MAX, NULL);
	if (n < 0)
		abort();
	return (size_t)n;
}

/* Member who signs msg = context (ctx_len bytes) || signed range (n bytes,
 * an encoder's result: abort if it failed). */
static void sign_after(nf *f, int who, const uint8_t *msg, size_t ctx_len, tn_ssize n,
                       uint8_t sig_out[TN_SIG])
{
	tn_sig sig;
	if (n < 0 || tn_identity_sign(f->id[who], msg, ctx_len + (size_t)n, &sig))
		abort();
	memcpy(sig_out, sig.b, TN_SIG);
}

static size_t signed_receipt(nf *f, int who, const uint8_t id[TN_ALERT_ID], uint8_t *out)
{
	tn_receipt c;
	memset(&c, 0, sizeof c);
	memset(c.network_id, 0x55, TN_NETWORK_ID);
	memcpy(c.alert_id, id, TN_ALERT_ID);
	memcpy(c.receiver, tn_identity_pubkey(f->id[who])->b, TN_PUBKEY);
	c.stored_ms = NF_WALL;
	uint8_t msg[TN_RECEIPT_SIG_CONTEXT_LEN + TN_RECEIPT_MAX];
	memcpy(msg, TN_RECEIPT_SIG_CONTEXT, TN_RECEIPT_SIG_CONTEXT_LEN);
	sign_after(f, who, msg, TN_RECEIPT_SIG_CONTEXT_LEN,
	           tn_receipt_encode_signed(&c, msg + TN_RECEIPT_SIG_CONTEXT_LEN, TN_RECEIPT_MAX),
	           c.signature);
	tn_ssize n = tn_receipt_encode(&c, out, TN_RECEIPT_MAX);
	if (n < 0)
		abort();
	return (size_t)n;
}

/* A receipts-wanted note signed by member `who` for alert id, listing
 * `listed` (and one member nobody has). */
static size_t signed_rwant(nf *f, int who, const uint8_t id[TN_ALERT_ID], int listed,
                           uint64_t issued_ms, uint8_t *out)
{
	uint8_t ids[2 * TN_RWANT_ID];
	memcpy(ids, tn_identity_pubkey(f->id[listed])->b, TN_RWANT_ID);
	memset(ids + TN_RWANT_ID, 0xab, TN_RWANT_ID);
	tn_rwant w;
	memset(&w, 0, sizeof w);
	memset(w.network_id, 0x55, TN_NETWORK_ID);
	memcpy(w.alert_id, id, TN_ALERT_ID);
	w.issued_ms = issued_ms;
	w.missing = (tn_view){ids, sizeof ids};
	uint8_t msg[TN_RWANT_SIG_CONTEXT_LEN + TN_RWANT_MAX];
	memcpy(msg, TN_RWANT_SIG_CONTEXT, TN_RWANT_SIG_CONTEXT_LEN);
	sign_after(f, who, msg, TN_RWANT_SIG_CONTEXT_LEN,
	           tn_rwant_encode_signed(&w, msg + TN_RWANT_SIG_CONTEXT_LEN, TN_RWANT_MAX),
	           w.signature);
	tn_ssize n = tn_rwant_encode(&w, out, TN_RWANT_MAX);
	if (n < 0)
		abort();
	return (size_t)n;
}

static int save(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(seedbuf, 1, seedlen, fp) != seedlen) {
		if (fp)
			fclose(fp);
		return -1;
	}
	seedlen = 0;
	return fclose(fp);
}

static int write_corpus(const char *dir)
{
	nf f;
	if (nf_init(&f) != 0)
		return 1;
	uint8_t env[TN_ALERT_ENVELOPE_MAX], rc[TN_RECEIPT_MAX];
	tn_link_msg m;
	int err = 0;
	/* a drill and a panic from the peer, then the same again (duplicates) */
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ALERT;
	m.record = (tn_view){env, peer_alert(&f, NF_PEER, TN_KIND_DRILL, 1, env)};
	rec_msg(0, &m);
	rec_msg(0, &m);
	err |= save(dir, "alert-drill-dup");
	m.record = (tn_view){env, peer_alert(&f, NF_THIRD, TN_KIND_PANIC, 1, env)};
	rec_msg(1, &m);
	uint8_t ff[1] = {255};
	rec(2, ff, 1);
	err |= save(dir, "alert-panic-relayed-tick");
	/* receipts for the victim's own panic: from the peer, and relayed */
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_RECEIPTS;
	tn_view vs[2];
	uint8_t rc2[TN_RECEIPT_MAX];
	vs[0] = (tn_view){rc, signed_receipt(&f, NF_PEER, f.own_id, rc)};
	vs[1] = (tn_view){rc2, signed_receipt(&f, NF_THIRD, f.own_id, rc2)};
	uint8_t hops[2] = {0, 3};
	m.receipts = vs;
	m.receipt_hops = hops;
	m.count = 2;
	rec_msg(0, &m);
	rec_msg(0, &m);
	err |= save(dir, "receipts-own");
	/* a receipt for an alert the victim does not hold (fallback path) */
	uint8_t other[TN_ALERT_ID];
	memset(other, 0x77, sizeof other);
	vs[0] = (tn_view){rc, signed_receipt(&f, NF_THIRD, other, rc)};
	m.count = 1;
	rec_msg(0, &m);
	err |= save(dir, "receipt-unknown-alert");
	/* a digest advertising ranges of both, and a want */
	tn_digest_entry de[2];
	memset(de, 0, sizeof de);
	const tn_pubkey *a = tn_identity_pubkey(f.id[NF_VICTIM]),
	                *b = tn_identity_pubkey(f.id[NF_PEER]);
	bool ab = memcmp(a->b, b->b, 32) < 0;
	memcpy(de[0].author, (ab ? a : b)->b, 32);
	memcpy(de[1].author, (ab ? b : a)->b, 32);
	de[0].nranges = 2;
	de[0].ranges[0] = (tn_seq_range){1, 2};
	de[0].ranges[1] = (tn_seq_range){5, 9};
	de[1].nranges = 1;
	de[1].ranges[0] = (tn_seq_range){1, 3};
	tn_digest d;
	memset(&d, 0, sizeof d);
	memset(d.network_id, 0x55, TN_NETWORK_ID);
	d.parts = 1;
	d.entries = de;
	d.count = 2;
	uint8_t dbuf[4096];
	tn_ssize dn = tn_digest_encode(&d, dbuf, sizeof dbuf);
	if (dn < 0)
		return 1;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_DIGEST;
	m.record = (tn_view){dbuf, (size_t)dn};
	rec_msg(0, &m);
	tn_want w = {.from_seq = 1, .to_seq = 10};
	memcpy(w.author, a->b, 32);
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_WANT;
	m.wants = &w;
	m.count = 1;
	rec_msg(0, &m);
	err |= save(dir, "digest-want");
	/* own alerts, a failed store, time passing, expiry */
	uint8_t k[1] = {TN_KIND_DRILL};
	rec(3, k, 1);
	rec(4, NULL, 0);
	k[0] = TN_KIND_SAFE;
	rec(3, k, 1);
	for (int i = 0; i < 20; i++)
		rec(2, ff, 1);
	err |= save(dir, "own-alerts-and-time");
	/* roster, pong, have, close */
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ROSTER;
	m.record = (tn_view){env, 10};
	rec_msg(0, &m);
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_PONG;
	m.token = 7;
	rec_msg(0, &m);
	m.type = TN_LINK_HAVE;
	rec_msg(0, &m);
	m.type = TN_LINK_CLOSE;
	m.reason = 0;
	rec_msg(0, &m);
	err |= save(dir, "misc-then-close");
	/* the peer's drill, then its receipts-wanted note listing the victim
	 * (who signs its receipt again), the same note again, a newer one */
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ALERT;
	size_t elen = peer_alert(&f, NF_PEER, TN_KIND_DRILL, 1, env);
	m.record = (tn_view){env, elen};
	rec_msg(0, &m);
	uint8_t did[TN_ALERT_ID], note[TN_RWANT_MAX];
	tn_alert_id(env, elen, did);
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_RECEIPTS_WANTED;
	m.record = (tn_view){note, signed_rwant(&f, NF_PEER, did, NF_VICTIM, NF_WALL + 30000, note)};
	rec_msg(0, &m);
	rec_msg(0, &m);
	m.record = (tn_view){note, signed_rwant(&f, NF_PEER, did, NF_VICTIM, NF_WALL + 90000, note)};
	rec_msg(0, &m);
	err |= save(dir, "receipts-wanted");
	/* lazy push: the peer's drill twice (PRUNE), IHAVE of an unknown id and
	 * of the victim's own panic, time (the GRAFT goes out), the peer's GRAFT
	 * for the victim's own alert (and an unknown one), a PRUNE, the
	 * victim's drill (an IHAVE on the now lazy link), time (flushed) */
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ALERT;
	m.record = (tn_view){env, peer_alert(&f, NF_PEER, TN_KIND_DRILL, 2, env)};
	rec_msg(0, &m);
	rec_msg(0, &m);
	uint8_t ids[2 * TN_ALERT_ID];
	memset(ids, 0x77, TN_ALERT_ID);
	memcpy(ids + TN_ALERT_ID, f.own_id, TN_ALERT_ID);
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_IHAVE;
	m.ids = (tn_view){ids, sizeof ids};
	m.count = 2;
	rec_msg(0, &m);
	uint8_t zero[1] = {0};
	rec(2, zero, 1);
	m.type = TN_LINK_GRAFT;
	rec_msg(0, &m);
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_PRUNE;
	rec_msg(0, &m);
	k[0] = TN_KIND_DRILL;
	rec(3, k, 1);
	rec(2, zero, 1);
	err |= save(dir, "lazy-push");
	nf_free(&f);
	return err ? 1 : 0;
}

/* Line 0-1-2, node 0's panic, and every receipt batch flushed once: node
 * 2's receipt now waits in node 1's batch for the link to 0. */
static net *line_panic_batched(uint8_t id[TN_ALERT_ID])
{
	net *w = line_up(3);
	create(w, 0, 1, TN_KIND_PANIC, HOUR_MS, id);
	run_for(w, w->base.receipt_delay);
	return w;
}

/* A receipt lost after it left its node (here: in a relay that crashed
 * with it in its batch) comes back through the author's receipts-wanted
 * note: node 2 is listed and signs its receipt again. Also: a node that
 * was down when the note went round gets it on link up. */
static void lost_receipt_resent_on_the_authors_note(void **state)
{
	(void)state;
	uint8_t id[TN_ALERT_ID];
	net *w = line_panic_batched(id);
	assert_true(w->nd[2].disk[0].receipted);
	assert_int_equal(delivered(w, 0, id), 1);
	node_down(w, 1); /* kill -9: node 2's receipt dies in its batch */
	restart_from_disk(w, 1);
	run_for(w, 10 * TN_SEC); /* before the first note (20 s) */
	assert_int_equal(delivered(w, 0, id), 1);
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_RESENT), 0);
	run_for(w, 20 * TN_SEC); /* the note at 20 s */
	assert_int_equal(rctr(&w->nd[0], TN_RECEIPT_WANTED_SENT), 1);
	assert_int_equal(rctr(&w->nd[1], TN_RECEIPT_WANTED_RX), 1);
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_RESENT), 1);
	assert_int_equal(delivered(w, 0, id), 2);
	/* Nothing missing any more: no further note. */
	run_for(w, 30 * TN_MIN);
	assert_int_equal(rctr(&w->nd[0], TN_RECEIPT_WANTED_SENT), 1);
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_RESENT), 1);
}

/* The note reaches a node that was away when it went round: on link up. */
static void receipts_wanted_note_passed_on_at_link_up(void **state)
{
	(void)state;
	uint8_t id[TN_ALERT_ID];
	net *w = line_panic_batched(id);
	node_down(w, 1); /* node 2's receipt lost with node 1 */
	node_down(w, 2); /* and node 2 away while the note goes round */
	restart_from_disk(w, 1);
	run_for(w, 40 * TN_SEC);
	assert_int_equal(rctr(&w->nd[0], TN_RECEIPT_WANTED_SENT), 1);
	assert_int_equal(delivered(w, 0, id), 1);
	restart_from_disk(w, 2); /* comes back: node 1 passes the note on */
	run_for(w, 10 * TN_SEC);
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_WANTED_RX), 1);
	assert_int_equal(rctr(&w->nd[2], TN_RECEIPT_RESENT), 1);
	assert_int_equal(delivered(w, 0, id), 2);
}

/* ---- receipts: where signatures are checked (docs/node.md "Receipts") ---- */

static void send_receipts(nf *f, tn_link *from, uint64_t lid, const uint8_t *r, size_t len)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_RECEIPTS;
	tn_view v = {r, len};
	m.receipts = &v;
	m.count = 1;
	uint8_t b[TN_LINK_PLAINTEXT_MAX];
	tn_ssize n = tn_link_encode(&m, b, sizeof b);
	assert_true(n > 0);
	assert_int_equal(tn_link_send(from, b, (size_t)n, TN_LINK_SEND_NORMAL, f->now), TN_OK);
	while ((n = tn_link_out(from, f->buf, sizeof f->buf, f->now)) > 0)
		assert_int_equal(tn_node_link_recv(f->node, lid, f->buf, (size_t)n, f->now, nf_wall(f)),
		                 TN_OK);
	nf_events(f);
}

static uint64_t nf_rctr(const nf *f, tn_receipt_reason r)
{
	tn_node_stats st;
	tn_node_stats_get(f->node, &st);
	return st.receipt[r];
}

/* A forged copy (one bit of the signature flipped) of the real receipt. */
static void forge(uint8_t *r, size_t len)
{
	r[len - 1] ^= 1; /* the signature is the receipt's last field */
}

/* A receipts-wanted note: only the alert's author may sign it; a relay
 * takes a note newer than the last by at least 10 s, not from the far
 * future; listed, the node signs its receipt again. */
static void receipts_wanted_note_checks(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	uint8_t env[TN_ALERT_ENVELOPE_MAX], id[TN_ALERT_ID], note[TN_RWANT_MAX];
	size_t elen = peer_alert(&f, NF_PEER, TN_KIND_DRILL, 1, env);
	assert_true(nf_send_alert(&f, env, elen, false));
	f.now += TN_SEC;
	tn_node_tick(f.node, f.now, nf_wall(&f));
	nf_flush(&f);
	tn_alert_id(env, elen, id);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_SENT), 1);
	uint64_t w0 = nf_wall(&f);
	struct {
		int signer;
		uint64_t issued;
		uint64_t rx, dropped, resent;
	} steps[] = {
	        {NF_THIRD, w0, 0, 1, 0},                /* not the author */
	        {NF_PEER, w0 + 11 * 60 * 1000, 0, 2, 0}, /* far future */
	        {NF_PEER, w0, 1, 2, 1},                 /* good: listed, resent */
	        {NF_PEER, w0, 1, 3, 1},                 /* the same again */
	        {NF_PEER, w0 + 5000, 1, 4, 1},          /* too soon after */
	        {NF_PEER, w0 + 10000, 2, 4, 1},         /* newer, but our receipt is still in its batch */
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		tn_link_msg m;
		memset(&m, 0, sizeof m);
		m.type = TN_LINK_RECEIPTS_WANTED;
		m.record = (tn_view){note, signed_rwant(&f, steps[i].signer, id, NF_VICTIM,
		                                        steps[i].issued, note)};
		uint8_t b[TN_LINK_PLAINTEXT_MAX];
		tn_ssize n = tn_link_encode(&m, b, sizeof b);
		assert_true(n > 0);
		nf_send(&f, b, (size_t)n, false);
		assert_int_equal(nf_rctr(&f, TN_RECEIPT_WANTED_RX), steps[i].rx);
		assert_int_equal(nf_rctr(&f, TN_RECEIPT_WANTED_DROPPED), steps[i].dropped);
		assert_int_equal(nf_rctr(&f, TN_RECEIPT_RESENT), steps[i].resent);
	}
	/* The resent receipt is a second signature (another stored_ms). */
	assert_true(nf_rctr(&f, TN_RECEIPT_SENT) >= 2);
	nf_free(&f);
}

/* The peer's raw tn_link encrypts pt as its next frame, which bypasses
 * tn_link_send's refusal of types this version does not know (the way a
 * newer peer would send them); the victim reads it. */
static void peer_raw(nf *f, const uint8_t *pt, size_t n)
{
	nf_flush(f);
	assert_int_equal(tn_link_pending(f->peer), 0); /* nonce order = wire order */
	uint8_t fr[2 + 64 + TN_NOISE_TAG];
	assert_true(n <= 64);
	tn_ssize c = tn_noise_cipher_encrypt(&f->peer->tx, NULL, 0, pt, n, fr + 2, sizeof fr - 2);
	assert_int_equal(c, (tn_ssize)(n + TN_NOISE_TAG));
	fr[0] = (uint8_t)(c >> 8);
	fr[1] = (uint8_t)c;
	assert_int_equal(tn_node_link_recv(f->node, f->lid, fr, (size_t)c + 2, f->now, nf_wall(f)),
	                 TN_OK);
	nf_events(f);
	nf_flush(f);
}

/* A newer member's message of a type this version does not know (docs/wire.md
 * §4 "Unknown types"): the node keeps the link, the link counts it, the
 * alert the peer sends next is accepted; a critical type still closes. */
static void unknown_link_type_keeps_node_link(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	static const uint8_t u18[] = {0x92, 0x12, 0x92, 0x01, 0xa1, 'x'}; /* [18, [1, "x"]] */
	peer_raw(&f, u18, sizeof u18);
	tn_node_stats st;
	tn_node_stats_get(f.node, &st);
	assert_false(f.dead);
	assert_int_equal(st.links_up, 1);
	assert_int_equal(st.link.unknown_msg_type, 1);
	assert_int_equal(st.link.transport_decode, 0);
	assert_int_equal(st.alerts_held, 1); /* the victim's own */
	/* The peer's alert after it is taken. */
	uint8_t env[TN_ALERT_ENVELOPE_MAX];
	assert_true(nf_send_alert(&f, env, peer_alert(&f, NF_PEER, TN_KIND_PANIC, 1, env), true));
	tn_node_stats_get(f.node, &st);
	assert_false(f.dead);
	assert_int_equal(st.node[TN_NODE_C_ALERT_RX], 1);
	assert_int_equal(st.alerts_held, 2);
	/* ... stored and receipted back over the same link. */
	f.now += TN_SEC;
	tn_node_tick(f.node, f.now, nf_wall(&f));
	nf_flush(&f);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_SENT), 1);
	/* A critical type (128..255) must be understood: it closes the link. */
	static const uint8_t c128[] = {0x91, 0xcc, 0x80};
	peer_raw(&f, c128, sizeof c128);
	tn_node_stats_get(f.node, &st);
	assert_true(f.dead);
	assert_int_equal(st.links_up, 0);
	assert_int_equal(st.link.transport_decode, 1);
	assert_int_equal(st.link.unknown_msg_type, 1);
	nf_free(&f);
}

/* At the author every receipt is verified; a forgery first does not shadow
 * the real one. */
static void forged_receipt_at_the_author(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	uint8_t r[TN_RECEIPT_MAX], bad[TN_RECEIPT_MAX];
	size_t len = signed_receipt(&f, NF_PEER, f.own_id, r);
	memcpy(bad, r, len);
	forge(bad, len);
	send_receipts(&f, f.peer, f.lid, bad, len);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_BAD_SIGNATURE), 1);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_ACCEPTED), 0);
	send_receipts(&f, f.peer, f.lid, r, len);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_ACCEPTED), 1);
	send_receipts(&f, f.peer, f.lid, r, len);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_DUPLICATE), 1);
	tn_node_alert_status st;
	assert_int_equal(tn_node_alert_status_get(f.node, f.own_id, &st), TN_OK);
	assert_int_equal(st.delivered, 1);
	nf_free(&f);
}

/* A relay checks the signature before a fallback flood (reverse link gone
 * or unknown): a forgery is dropped there, not spread. */
static void forged_receipt_not_flooded(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	uint8_t r[TN_RECEIPT_MAX], other[TN_ALERT_ID];
	memset(other, 0x77, sizeof other); /* an alert the victim does not hold */
	size_t len = signed_receipt(&f, NF_THIRD, other, r);
	forge(r, len);
	send_receipts(&f, f.peer, f.lid, r, len);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_BAD_SIGNATURE), 1);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_FALLBACK), 0);
	nf_free(&f);
}

/* Along the reverse path a relay forwards without verifying (the author
 * does); a forgery that arrives first does not stop the real receipt. The
 * victim gets a second peer (NF_THIRD, initiator) for the receipts; the
 * alert came from NF_PEER's link, its reverse path. */
static void reverse_path_forwards_unverified(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	tn_link_config lc;
	tn_link_config_default(&lc);
	lc.role = TN_NOISE_INITIATOR;
	memcpy(lc.static_key.sec.b, tn_identity_link_secret(f.id[NF_THIRD])->b, 32);
	memcpy(lc.static_key.pub.b, tn_identity_linkpub(f.id[NF_THIRD])->b, 32);
	memset(lc.network_id, 0x55, TN_NETWORK_ID);
	lc.psk = f.sm.psk;
	memcpy(lc.expected_remote.b, tn_identity_linkpub(f.id[NF_VICTIM])->b, 32);
	lc.identity = f.id[NF_THIRD]; /* message 1 names and signs for the initiator */
	test_rng rr;
	lc.rand = test_rng_seed(&rr, 0xa0);
	tn_link *p2;
	uint64_t lid2;
	assert_int_equal(tn_link_new(&p2, &lc), TN_OK);
	assert_int_equal(tn_link_start(p2, f.now, nf_wall(&f)), TN_OK);
	assert_int_equal(tn_node_link_open(f.node, TN_NOISE_RESPONDER, NULL, f.now, nf_wall(&f), &lid2),
	                 TN_OK);
	for (int round = 0; round < 8; round++) {
		tn_ssize n;
		while ((n = tn_link_out(p2, f.buf, sizeof f.buf, f.now)) > 0)
			assert_int_equal(tn_node_link_recv(f.node, lid2, f.buf, (size_t)n, f.now,
			                                   nf_wall(&f)),
			                 TN_OK);
		nf_events(&f);
		while ((n = tn_node_link_out(f.node, lid2, f.buf, sizeof f.buf, f.now)) > 0) {
			size_t off = 0;
			while (off < (size_t)n) {
				tn_ssize k = tn_link_recv(p2, f.buf + off, (size_t)n - off, f.now,
				                          nf_wall(&f));
				assert_true(k >= 0);
				off += (size_t)k;
				tn_link_event ev;
				while (tn_link_poll_event(p2, &ev))
					;
			}
		}
	}
	assert_true(tn_link_is_established(p2));
	nf_flush(&f);
	/* NF_PEER's drill through its own link: the victim stores and relays it. */
	uint8_t env[TN_ALERT_ENVELOPE_MAX];
	size_t elen = peer_alert(&f, NF_PEER, TN_KIND_DRILL, 1, env);
	assert_true(nf_send_alert(&f, env, elen, false));
	tn_node_stats st;
	tn_node_stats_get(f.node, &st);
	assert_int_equal(st.alert[TN_ALERT_ACCEPTED], 1);
	uint8_t rid[TN_ALERT_ID];
	tn_alert_id(env, elen, rid);
	uint8_t r[TN_RECEIPT_MAX], bad[TN_RECEIPT_MAX];
	size_t len = signed_receipt(&f, NF_THIRD, rid, r);
	memcpy(bad, r, len);
	forge(bad, len);
	send_receipts(&f, p2, lid2, bad, len);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_FORWARDED), 1);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_BAD_SIGNATURE), 0);
	send_receipts(&f, p2, lid2, r, len);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_FORWARDED), 2); /* not shadowed */
	send_receipts(&f, p2, lid2, r, len);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_DUPLICATE), 1);
	assert_int_equal(nf_rctr(&f, TN_RECEIPT_FORWARDED), 2);
	tn_link_del(p2);
	nf_free(&f);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(config_and_arguments),
	        cmocka_unit_test_teardown(line_panic_reaches_all_with_receipts, teardown),
	        cmocka_unit_test_teardown(ring_panic_reaches_all_once, teardown),
	        cmocka_unit_test_teardown(panic_overtakes_500_drills, teardown),
	        cmocka_unit_test_teardown(restart_is_not_renotified, teardown),
	        cmocka_unit_test_teardown(catch_up_exactly_the_missing, teardown),
	        cmocka_unit_test_teardown(permanent_seq_gap_costs_nothing, teardown),
	        cmocka_unit_test_teardown(non_member_refused_at_message1, teardown),
	        cmocka_unit_test_teardown(store_round_trip_and_failed_store, teardown),
	        cmocka_unit_test_teardown(expired_alerts_gc_and_not_offered, teardown),
	        cmocka_unit_test_teardown(rate_limit_push_vs_catch_up, teardown),
	        cmocka_unit_test_teardown(own_panics_paced_not_dropped, teardown),
	        cmocka_unit_test_teardown(held_alert_not_offered_until_pushed, teardown),
	        cmocka_unit_test_teardown(held_alert_due_offline_pushed_on_link_up, teardown),
	        cmocka_unit_test_teardown(held_alerts_pushed_after_restart, teardown),
	        cmocka_unit_test_teardown(unsent_panics_pushed_after_restart, teardown),
	        cmocka_unit_test_teardown(old_own_alerts_not_pushed_after_restart, teardown),
	        cmocka_unit_test_teardown(restore_after_reboot_clock, teardown),
	        cmocka_unit_test_teardown(refilled_token_waits_for_the_margin, teardown),
	        cmocka_unit_test_teardown(receipt_falls_back_when_reverse_link_down, teardown),
	        cmocka_unit_test_teardown(receipt_hop_limit_counts_only_fallback, teardown),
	        cmocka_unit_test_teardown(receipted_only_after_the_batch_left, teardown),
	        cmocka_unit_test_teardown(receipt_resent_when_its_link_breaks, teardown),
	        cmocka_unit_test_teardown(relayed_batch_rerouted_when_its_link_breaks, teardown),
	        cmocka_unit_test_teardown(idle_wakes_only_for_keepalive_and_anti_entropy, teardown),
	        cmocka_unit_test_teardown(wake_reconnects_at_once, teardown),
	        cmocka_unit_test_teardown(equivocation_is_a_conflict, teardown),
	        cmocka_unit_test_teardown(dialback_roster_endpoint_key_and_rate_limit, teardown),
	        cmocka_unit_test_teardown(lost_receipt_resent_on_the_authors_note, teardown),
	        cmocka_unit_test_teardown(receipts_wanted_note_passed_on_at_link_up, teardown),
	        cmocka_unit_test(receipts_wanted_note_checks),
	        cmocka_unit_test(unknown_link_type_keeps_node_link),
	        cmocka_unit_test(forged_receipt_at_the_author),
	        cmocka_unit_test(forged_receipt_not_flooded),
	        cmocka_unit_test(reverse_path_forwards_unverified),
	        cmocka_unit_test_teardown(lazy_prune_on_duplicate, teardown),
	        cmocka_unit_test_teardown(lazy_graft_on_timeout_repairs_the_tree, teardown),
	        cmocka_unit_test_teardown(lazy_no_loss_under_churn, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
