/* Connections with TCP semantics (docs/sim.md "Network model"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* ---- ids and slots ------------------------------------------------------- */

static sim_conn *get(sim *s, sim_conn_id id)
{
	uint64_t slot = (id & 0xffffffffu);
	if (slot == 0 || slot > s->nconns)
		return NULL;
	sim_conn *c = &s->conns[slot - 1];
	if (c->state == C_FREE || c->gen != (uint32_t)(id >> 32))
		return NULL;
	return c;
}

static size_t slot_of(const sim *s, const sim_conn *c)
{
	return (size_t)(c - s->conns);
}

/* A free slot (reusing its buffers), or SIZE_MAX on allocation failure. */
static size_t alloc_slot(sim *s)
{
	if (s->free_conn != UINT32_MAX) {
		size_t i = s->free_conn;
		s->free_conn = s->conns[i].next_free;
		return i;
	}
	if (s->nconns >= UINT32_MAX - 1 ||
	    !sim_grow((void **)&s->conns, &s->conns_cap, s->nconns + 1, sizeof *s->conns))
		return SIZE_MAX;
	sim_conn *c = &s->conns[s->nconns];
	memset(c, 0, sizeof *c);
	return s->nconns++;
}

static void reset_dir(sim_dir *d)
{
	d->head = d->len = 0;
	d->shead = d->slen = 0;
	d->tx_free = d->last_at = 0;
	d->ev_pending = false;
}

/* The generation bump makes every id and event naming this slot stale. */
static void free_conn(sim *s, sim_conn *c)
{
	if (c->state == C_OPEN)
		s->conns_open--;
	c->state = C_FREE;
	c->gen++;
	reset_dir(&c->d[0]);
	reset_dir(&c->d[1]);
	size_t i = slot_of(s, c);
	c->next_free = s->free_conn;
	s->free_conn = (uint32_t)i;
}

static bool attach(sim *s, sim_conn *c, int e)
{
	sim_host *h = &s->hosts[c->end[e]];
	if (!sim_grow((void **)&h->conns, &h->conns_cap, h->nconns + 1, sizeof *h->conns)) {
		sim_fail(s, TN_ERR_NOMEM);
		return false;
	}
	c->slot_in_host[e] = (uint32_t)h->nconns;
	h->conns[h->nconns++] = sim_conn_make_id(c->gen, slot_of(s, c));
	c->attached[e] = true;
	return true;
}

/* Swap-remove from the host's list, fixing the moved connection's index. */
static void detach(sim *s, sim_conn *c, int e)
{
	if (!c->attached[e])
		return;
	c->attached[e] = false;
	sim_host *h = &s->hosts[c->end[e]];
	uint32_t i = c->slot_in_host[e];
	sim_conn_id last = h->conns[--h->nconns];
	if (i == h->nconns)
		return;
	h->conns[i] = last;
	sim_conn *m = get(s, last);
	/* No host dials itself, so exactly one end of m is h's. */
	int me = m->end[0] == c->end[e] ? 0 : 1;
	m->slot_in_host[me] = i;
}

static int end_of(const sim_conn *c, sim_host_id h)
{
	if (c->end[0] == h && c->attached[0])
		return 0;
	if (c->end[1] == h && c->attached[1])
		return 1;
	return -1;
}

/* Tell host h its end of c is gone: now if online, at wake if asleep,
 * never if down. */
static void notify_closed(sim *s, sim_host_id hid, sim_conn_id c, sim_close_reason why)
{
	sim_host *h = &s->hosts[hid];
	sim_trace(s, c ^ ((uint64_t)why << 60));
	if (h->state == SIM_DOWN)
		return;
	if (h->state == SIM_ASLEEP) {
		if (!sim_grow((void **)&h->pending, &h->pending_cap, h->npending + 1,
		              sizeof *h->pending)) {
			sim_fail(s, TN_ERR_NOMEM);
			return;
		}
		h->pending[h->npending++] = (sim_pending){.c = c, .why = why};
		return;
	}
	s->in_cb++;
	h->ops->closed(h->st, c, why, s->now);
	s->in_cb--;
}

/* ---- latency ------------------------------------------------------------- */

tn_time sim_path_latency(const sim *s, sim_host_id a, sim_host_id b)
{
	/* A pure function of (seed, pair): the path between two hosts has
	 * one latency for the whole run, whichever side dials, and drawing it
	 * consumes nothing from the run's generator. */
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
	sim_rng r;
	sim_rng_init(&r, s->cfg.seed ^ UINT64_C(0x6c617465), lo << 32 | hi);
	const sim_config *c = &s->cfg;
	switch (c->lat_dist) {
	case SIM_LAT_FIXED: return c->lat_mean;
	case SIM_LAT_UNIFORM:
		return c->lat_mean - c->lat_spread + sim_rng_below(&r, 2 * c->lat_spread + 1);
	case SIM_LAT_LOGNORMAL: {
		if (c->lat_mean == 0)
			return 0;
		double mu = log((double)c->lat_mean) - c->lat_sigma * c->lat_sigma / 2;
		double v = exp(mu + c->lat_sigma * sim_rng_normal(&r));
		return v >= 1.8e19 ? (tn_time)1.8e19 : (tn_time)v;
	}
	}
	return c->lat_mean;
}

/* Extra delay from losses: each loss costs one RTO, doubling (RFC 6298). */
static tn_time retransmit_delay(sim *s)
{
	tn_time extra = 0, rto = s->cfg.rto;
	if (s->cfg.loss <= 0.0)
		return 0;
	for (int i = 0; i < 32 && sim_rng_unit(&s->rng) < s->cfg.loss; i++) {
		extra += rto;
		rto = rto > s->cfg.rto_max / 2 ? s->cfg.rto_max : 2 * rto;
	}
	return extra;
}

static tn_time serialization(const sim *s, size_t len)
{
	if (s->cfg.bandwidth_bps == 0)
		return 0;
	__uint128_t bits_ns = (__uint128_t)len * 8u * TN_SEC;
	return (tn_time)((bits_ns + s->cfg.bandwidth_bps - 1) / s->cfg.bandwidth_bps);
}

/* ---- dial ---------------------------------------------------------------- */

static bool reachable(const sim *s, sim_host_id a, sim_host_id b)
{
	return s->hosts[a].state == SIM_ONLINE && s->hosts[b].state == SIM_ONLINE &&
	       s->hosts[a].group == s->hosts[b].group;
}

sim_conn_id sim_dial(sim *s, sim_host_id h, sim_host_id to, uint64_t tag)
{
	if (h >= s->nhosts || to >= s->nhosts || h == to || s->hosts[h].state != SIM_ONLINE)
		return 0;
	size_t i = alloc_slot(s);
	if (i == SIZE_MAX) {
		sim_fail(s, TN_ERR_NOMEM);
		return 0;
	}
	sim_conn *c = &s->conns[i];
	c->state = C_DIALING;
	c->end[0] = h;
	c->end[1] = to;
	c->attached[0] = c->attached[1] = false;
	c->lat = sim_path_latency(s, h, to);
	c->dial_start = s->now;
	c->tag = tag;
	if (!attach(s, c, 0)) {
		free_conn(s, c);
		return 0;
	}
	sim_conn_id id = sim_conn_make_id(c->gen, i);
	sim_push(s, s->now + 2 * c->lat, EV_DIAL, 0, id, 0);
	return id;
}

void sim_on_dial(sim *s, sim_conn_id id)
{
	sim_conn *c = get(s, id);
	if (!c || c->state != C_DIALING)
		return;
	sim_host_id a = c->end[0], b = c->end[1];
	if (!reachable(s, a, b)) {
		sim_push(s, c->dial_start + s->cfg.dial_timeout, EV_DIAL_FAIL, 0, id, 0);
		return;
	}
	if (!attach(s, c, 1))
		return;
	c->state = C_OPEN;
	s->conns_open++;
	if (s->cfg.conn_mean_life)
		sim_push(s, s->now + sim_rng_exp(&s->rng, s->cfg.conn_mean_life), EV_BREAK, 0, id,
		         0);
	uint64_t tag = c->tag;
	s->in_cb++;
	s->hosts[a].ops->connected(s->hosts[a].st, id, b, SIM_INITIATOR, tag, s->now);
	c = get(s, id);
	if (c && c->attached[1])
		s->hosts[b].ops->connected(s->hosts[b].st, id, a, SIM_RESPONDER, 0, s->now);
	s->in_cb--;
}

void sim_on_dial_fail(sim *s, sim_conn_id id)
{
	sim_conn *c = get(s, id);
	if (!c || c->state != C_DIALING)
		return;
	sim_host_id a = c->end[0];
	detach(s, c, 0);
	free_conn(s, c);
	notify_closed(s, a, id, SIM_REFUSED);
}

/* ---- bytes --------------------------------------------------------------- */

static bool dir_append(sim_dir *d, const void *buf, size_t len, tn_time at, bool fin)
{
	if (d->head == d->len)
		d->head = d->len = 0;
	if (d->shead == d->slen)
		d->shead = d->slen = 0;
	if (len > d->cap - d->len && d->head > 0) {
		memmove(d->buf, d->buf + d->head, d->len - d->head);
		d->len -= d->head;
		d->head = 0;
	}
	if (d->slen == d->scap && d->shead > 0) {
		memmove(d->segs, d->segs + d->shead, (d->slen - d->shead) * sizeof *d->segs);
		d->slen -= d->shead;
		d->shead = 0;
	}
	if (len > SIZE_MAX - d->len || !sim_grow((void **)&d->buf, &d->cap, d->len + len, 1) ||
	    !sim_grow((void **)&d->segs, &d->scap, d->slen + 1, sizeof *d->segs))
		return false;
	if (len)
		memcpy(d->buf + d->len, buf, len);
	d->len += len;
	d->segs[d->slen++] = (sim_seg){.at = at, .len = (uint32_t)len, .fin = fin};
	return true;
}

/* Queue a segment on direction e of c, arriving at `at` or after the one
 * before it, whichever is later: that is what keeps bytes in order. */
static bool enqueue(sim *s, sim_conn *c, int e, const void *buf, size_t len, tn_time at, bool fin)
{
	sim_dir *d = &c->d[e];
	if (at < d->last_at)
		at = d->last_at;
	if (!dir_append(d, buf, len, at, fin)) {
		sim_fail(s, TN_ERR_NOMEM);
		return false;
	}
	d->last_at = at;
	if (!d->ev_pending) {
		d->ev_pending = true;
		sim_push(s, at, EV_DELIVER, 0, sim_conn_make_id(c->gen, slot_of(s, c)),
		         (uint16_t)e);
	}
	return true;
}

tn_err sim_send(sim *s, sim_host_id h, sim_conn_id id, const void *buf, size_t len)
{
	sim_conn *c = get(s, id);
	if (!c || c->state != C_OPEN)
		return TN_ERR_STATE;
	int e = end_of(c, h);
	if (e < 0)
		return TN_ERR_STATE;
	if (len == 0 || !c->attached[1 - e])
		return TN_OK;
	if (len > UINT32_MAX)
		return TN_ERR_INVAL;
	s->hosts[h].bytes += len;
	sim_dir *d = &c->d[e];
	tn_time start = d->tx_free > s->now ? d->tx_free : s->now;
	d->tx_free = start + serialization(s, len);
	tn_time at = d->tx_free + c->lat + retransmit_delay(s);
	return enqueue(s, c, e, buf, len, at, false) ? TN_OK : TN_ERR_NOMEM;
}

/* Take every segment due now off direction e into the scratch buffer.
 * Returns the byte count; *fin says the FIN came after them. */
static size_t take_due(sim *s, sim_conn *c, int e, bool *fin)
{
	sim_dir *d = &c->d[e];
	size_t total = 0;
	*fin = false;
	while (d->shead < d->slen && d->segs[d->shead].at <= s->now) {
		const sim_seg *g = &d->segs[d->shead++];
		if (g->fin) {
			*fin = true;
			break;
		}
		total += g->len;
	}
	if (!sim_grow((void **)&s->scratch, &s->scratch_cap, total, 1)) {
		sim_fail(s, TN_ERR_NOMEM);
		return 0;
	}
	if (total)
		memcpy(s->scratch, d->buf + d->head, total);
	d->head += total;
	d->ev_pending = false;
	if (d->shead < d->slen) {
		d->ev_pending = true;
		sim_push(s, d->segs[d->shead].at, EV_DELIVER, 0,
		         sim_conn_make_id(c->gen, slot_of(s, c)), (uint16_t)e);
	}
	return total;
}

/* Segments that arrive together are delivered together, as TCP coalesces
 * them; with chunk_max they are cut at random points instead, so a
 * receiver's reassembly is exercised. A callback may close or lose the
 * connection between pieces: the rest is then dropped. */
void sim_on_deliver(sim *s, sim_conn_id id, unsigned dir)
{
	sim_conn *c = get(s, id);
	if (!c || c->state != C_OPEN)
		return;
	int e = (int)dir, rx = 1 - e;
	bool fin;
	size_t total = take_due(s, c, e, &fin);
	sim_host_id h = c->end[rx];
	sim_trace(s, total);
	for (size_t off = 0; off < total;) {
		if (!c->attached[rx])
			return;
		size_t piece = total - off;
		if (s->cfg.chunk_max && piece > s->cfg.chunk_max)
			piece = s->cfg.chunk_max;
		if (s->cfg.chunk_max)
			piece = 1 + (size_t)sim_rng_below(&s->rng, piece);
		s->in_cb++;
		s->hosts[h].ops->recv(s->hosts[h].st, id, s->scratch + off, piece, s->now);
		s->in_cb--;
		off += piece;
		if (!(c = get(s, id)))
			return;
	}
	if (fin && c->attached[rx]) {
		detach(s, c, rx);
		free_conn(s, c);
		notify_closed(s, h, id, SIM_FIN);
	}
}

/* ---- closing ------------------------------------------------------------- */

void sim_close(sim *s, sim_host_id h, sim_conn_id id)
{
	sim_conn *c = get(s, id);
	if (!c)
		return;
	int e = end_of(c, h);
	if (e < 0)
		return;
	if (c->state == C_DIALING) {
		detach(s, c, e);
		free_conn(s, c);
		return;
	}
	detach(s, c, e);
	/* Bytes still coming toward h have nowhere to go. */
	sim_dir *in = &c->d[1 - e];
	in->head = in->len = in->shead = in->slen = 0;
	if (!c->attached[1 - e]) {
		free_conn(s, c);
		return;
	}
	tn_time start = c->d[e].tx_free > s->now ? c->d[e].tx_free : s->now;
	enqueue(s, c, e, NULL, 0, start + c->lat, true);
}

tn_err sim_close_at(sim *s, sim_host_id h, sim_conn_id c, tn_time at)
{
	return sim_push(s, at, EV_CLOSE_AT, h, c, 0) ? TN_OK : TN_ERR_NOMEM;
}

/* Both ends lose c at once; queued bytes are dropped. A dial in progress
 * fails for its initiator (the responder never knew). */
void sim_break(sim *s, sim_conn_id id)
{
	sim_conn *c = get(s, id);
	if (!c)
		return;
	sim_close_reason why = c->state == C_DIALING ? SIM_REFUSED : SIM_RESET;
	sim_host_id who[2];
	int n = 0;
	for (int e = 0; e < 2; e++) {
		if (c->attached[e]) {
			who[n++] = c->end[e];
			detach(s, c, e);
		}
	}
	free_conn(s, c);
	for (int i = 0; i < n; i++)
		notify_closed(s, who[i], id, why);
}

uint64_t sim_conns_open(const sim *s)
{
	return s->conns_open;
}
