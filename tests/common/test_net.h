/* Tests: a few tn_nodes wired in memory (test_node.c, test_join.c). A pump
 * moves bytes between paired links until nothing moves; time is a
 * variable, nothing sleeps (tests/sim does this at scale).
 *
 * Include after defining: the enum constants NMAX, PIPES and BUFSZ; the
 * type `tnode` with at least `tn_node *n; tn_identity *id; bool up;
 * size_t ticks;`; and TEST_NET_FIELDS, the test's own members of `net`
 * (may be empty). Then define on_event(), which sees every node event
 * (answer DIAL with connect_pair(), CLOSE_LINK with hang_up(), ...). */
#ifndef TOCSIN_TEST_NET_H
#define TOCSIN_TEST_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tocsin/node.h"

static const uint64_t WALL0 = UINT64_C(1718000000000);
static const tn_time T0 = 1000 * TN_SEC;

/* One in-memory connection: node a's link la to node b's link lb. */
typedef struct pipe_ {
	bool used;
	int a, b;
	uint64_t la, lb;
} pipe_;

typedef struct net {
	tnode nd[NMAX];
	size_t n;
	pipe_ p[PIPES];
	bool adj[NMAX][NMAX]; /* may a dial from i to j connect */
	tn_time now;
	TEST_NET_FIELDS
} net;

static net NET;
static uint8_t xbuf[BUFSZ];

static void on_event(net *w, int i, const tn_node_event *ev);

static inline uint64_t wall(const net *w)
{
	return WALL0 + (w->now - T0) / TN_MSEC;
}

static inline pipe_ *pipe_of(net *w, int node, uint64_t lid)
{
	for (size_t i = 0; i < PIPES; i++) {
		pipe_ *p = &w->p[i];
		if (p->used && ((p->a == node && p->la == lid) || (p->b == node && p->lb == lid)))
			return p;
	}
	return NULL;
}

/* Everything node `from` has for link lf goes to node `to`'s link lt
 * (dropped if `to` is down or negative); true if anything moved. */
static inline bool move(net *w, int from, uint64_t lf, int to, uint64_t lt)
{
	bool moved = false;
	for (;;) {
		tn_ssize r = tn_node_link_out(w->nd[from].n, lf, xbuf, sizeof xbuf, w->now);
		if (r <= 0)
			return moved;
		moved = true;
		if (to >= 0 && w->nd[to].up)
			assert_int_equal(tn_node_link_recv(w->nd[to].n, lt, xbuf, (size_t)r, w->now,
			                                   wall(w)),
			                 TN_OK);
	}
}

static inline void pipe_close(net *w, pipe_ *p)
{
	if (!p->used)
		return;
	p->used = false;
	if (w->nd[p->a].up)
		tn_node_link_closed(w->nd[p->a].n, p->la, w->now);
	if (w->nd[p->b].up)
		tn_node_link_closed(w->nd[p->b].n, p->lb, w->now);
}

/* a dials b (a is the initiator, expecting `member`). */
static inline void connect_pair(net *w, int a, const tn_pubkey *member, int b)
{
	pipe_ *p = NULL;
	for (size_t i = 0; i < PIPES && !p; i++)
		if (!w->p[i].used)
			p = &w->p[i];
	assert_non_null(p);
	p->used = true;
	p->a = a;
	p->b = b;
	assert_int_equal(
	        tn_node_link_open(w->nd[a].n, TN_NOISE_INITIATOR, member, w->now, wall(w), &p->la),
	        TN_OK);
	assert_int_equal(
	        tn_node_link_open(w->nd[b].n, TN_NOISE_RESPONDER, NULL, w->now, wall(w), &p->lb),
	        TN_OK);
}

/* Node i closes link_id: deliver what is left (the CLOSE frame) to the
 * other end, then hang up. */
static inline void hang_up(net *w, int i, uint64_t link_id)
{
	pipe_ *p = pipe_of(w, i, link_id);
	if (p) {
		if (p->a == i)
			move(w, p->a, p->la, p->b, p->lb);
		else
			move(w, p->b, p->lb, p->a, p->la);
		pipe_close(w, p);
	}
}

static inline bool events(net *w, int i)
{
	bool any = false;
	tn_node_event ev;
	while (w->nd[i].up && tn_node_poll_event(w->nd[i].n, &ev)) {
		any = true;
		on_event(w, i, &ev);
	}
	return any;
}

/* Until nothing moves: events, then bytes both ways on every pipe. */
static inline void pump(net *w)
{
	for (int rounds = 0; rounds < 100000; rounds++) {
		bool any = false;
		for (size_t i = 0; i < w->n; i++)
			any |= events(w, (int)i);
		for (size_t k = 0; k < PIPES; k++) {
			pipe_ *p = &w->p[k];
			if (!p->used)
				continue;
			if (w->nd[p->a].up)
				any |= move(w, p->a, p->la, p->b, p->lb);
			if (p->used && w->nd[p->b].up)
				any |= move(w, p->b, p->lb, p->a, p->la);
		}
		if (!any)
			return;
	}
	fail_msg("pump does not settle");
}

/* Advance virtual time to `until`, running every deadline on the way. */
static inline void run_until(net *w, tn_time until)
{
	pump(w);
	for (int guard = 0; guard < 1000000; guard++) {
		tn_time next = TN_TIME_NEVER;
		for (size_t i = 0; i < w->n; i++)
			if (w->nd[i].up) {
				tn_time d = tn_node_next_deadline(w->nd[i].n);
				if (d < next)
					next = d;
			}
		if (next > until)
			break;
		if (next > w->now)
			w->now = next;
		for (size_t i = 0; i < w->n; i++)
			if (w->nd[i].up && tn_node_next_deadline(w->nd[i].n) <= w->now) {
				w->nd[i].ticks++;
				tn_node_tick(w->nd[i].n, w->now, wall(w));
			}
		pump(w);
	}
	if (until > w->now)
		w->now = until;
	pump(w);
}

static inline void run_for(net *w, tn_time d)
{
	run_until(w, w->now + d);
}

/* Node i goes down: its pipes close, its tn_node is freed. */
static inline void node_down(net *w, int i)
{
	for (size_t k = 0; k < PIPES; k++) {
		pipe_ *p = &w->p[k];
		if (p->used && (p->a == i || p->b == i))
			pipe_close(w, p);
	}
	w->nd[i].up = false;
	tn_node_del(w->nd[i].n);
	w->nd[i].n = NULL;
}

#endif
