/* The simulator engine, proved with a recording "probe" host and with the
 * flood host (docs/sim.md). Everything runs in virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flood.h"
#include "overlay.h"
#include "scenario.h"
#include "sim.h"

/* ---- the probe host: records every callback ------------------------------ */

enum { K_BOOT, K_HALT, K_CONN, K_RECV, K_CLOSED, K_TIMER, K_WAKE };

typedef struct rec {
	int kind;
	sim_host_id h;
	sim_conn_id c;
	int arg; /* boot: how; conn: role; closed: why */
	size_t len;
	tn_time t;
} rec;

typedef struct stream {
	sim_host_id h;
	sim_conn_id c;
	uint8_t *buf;
	size_t len, cap;
} stream;

typedef struct probe {
	rec *log;
	size_t n, cap;
	stream st[64];
	size_t nst;
} probe;

typedef struct pst {
	probe *p;
	sim_host_id self;
} pst;

static void note(probe *p, int kind, sim_host_id h, sim_conn_id c, int arg, size_t len, tn_time t)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->log = realloc(p->log, p->cap * sizeof *p->log);
		assert_non_null(p->log);
	}
	p->log[p->n++] = (rec){kind, h, c, arg, len, t};
}

static stream *stream_of(probe *p, sim_host_id h, sim_conn_id c)
{
	for (size_t i = 0; i < p->nst; i++)
		if (p->st[i].h == h && p->st[i].c == c)
			return &p->st[i];
	assert_true(p->nst < 64);
	p->st[p->nst] = (stream){.h = h, .c = c};
	return &p->st[p->nst++];
}

static void *p_boot(void *cls, sim *s, sim_host_id self, sim_boot how, tn_time now)
{
	(void)s;
	pst *st = malloc(sizeof *st);
	assert_non_null(st);
	*st = (pst){cls, self};
	note(cls, K_BOOT, self, 0, (int)how, 0, now);
	return st;
}

static void p_halt(void *v)
{
	pst *st = v;
	note(st->p, K_HALT, st->self, 0, 0, 0, 0);
	free(st);
}

static void p_connected(void *v, sim_conn_id c, sim_host_id peer, sim_role role, uint64_t tag,
                        tn_time now)
{
	(void)peer;
	(void)tag;
	pst *st = v;
	note(st->p, K_CONN, st->self, c, (int)role, 0, now);
}

static void p_recv(void *v, sim_conn_id c, const uint8_t *buf, size_t len, tn_time now)
{
	pst *st = v;
	note(st->p, K_RECV, st->self, c, 0, len, now);
	stream *sm = stream_of(st->p, st->self, c);
	if (sm->len + len > sm->cap) {
		sm->cap = 2 * (sm->len + len);
		sm->buf = realloc(sm->buf, sm->cap);
		assert_non_null(sm->buf);
	}
	memcpy(sm->buf + sm->len, buf, len);
	sm->len += len;
}

static void p_closed(void *v, sim_conn_id c, sim_close_reason why, tn_time now)
{
	pst *st = v;
	note(st->p, K_CLOSED, st->self, c, (int)why, 0, now);
}

static void p_timer(void *v, tn_time now)
{
	pst *st = v;
	note(st->p, K_TIMER, st->self, 0, 0, 0, now);
}

static void p_wake(void *v, tn_time since, tn_time now)
{
	(void)since;
	pst *st = v;
	note(st->p, K_WAKE, st->self, 0, 0, 0, now);
}

static const sim_host_ops probe_ops = {
        .boot = p_boot,
        .halt = p_halt,
        .connected = p_connected,
        .recv = p_recv,
        .closed = p_closed,
        .timer = p_timer,
        .wake = p_wake,
};

static void probe_free(probe *p)
{
	for (size_t i = 0; i < p->nst; i++)
		free(p->st[i].buf);
	free(p->log);
	memset(p, 0, sizeof *p);
}

/* Records of `kind` on host h (and connection c unless 0). */
static size_t count(const probe *p, int kind, sim_host_id h, sim_conn_id c)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->log[i].kind == kind && p->log[i].h == h && (!c || p->log[i].c == c);
	return n;
}

static const rec *find_rec(const probe *p, int kind, sim_host_id h, sim_conn_id c)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->log[i].kind == kind && p->log[i].h == h && (!c || p->log[i].c == c))
			return &p->log[i];
	return NULL;
}

/* A sim with a fixed 10 ms latency, no bandwidth limit, and n probes. */
static sim *probe_sim(probe *p, uint32_t n, sim_config *cfg_in)
{
	sim_config cfg;
	if (cfg_in) {
		cfg = *cfg_in;
	} else {
		sim_config_default(&cfg);
		cfg.lat_dist = SIM_LAT_FIXED;
		cfg.lat_mean = 10 * TN_MSEC;
		cfg.bandwidth_bps = 0;
	}
	sim *s;
	assert_int_equal(sim_new(&s, &cfg), TN_OK);
	for (uint32_t i = 0; i < n; i++) {
		sim_host_id id;
		assert_int_equal(sim_host_add(s, &probe_ops, p, &id), TN_OK);
		assert_int_equal(id, i);
	}
	return s;
}

static sim_conn_id connect_pair(sim *s, sim_host_id a, sim_host_id b)
{
	sim_conn_id c = sim_dial(s, a, b, 77);
	assert_int_not_equal(c, 0);
	assert_int_equal(sim_run_until(s, sim_now(s) + 2 * sim_path_latency(s, a, b)), TN_OK);
	return c;
}

/* ---- event order --------------------------------------------------------- */

typedef struct order_log {
	int seen[32];
	tn_time at[32];
	int n;
} order_log;

typedef struct order_arg {
	order_log *log;
	int label;
	bool spawn; /* schedule label + 100 at the same time */
} order_arg;

static void order_cb(sim *s, void *v, tn_time now)
{
	order_arg *a = v;
	a->log->seen[a->log->n] = a->label;
	a->log->at[a->log->n++] = now;
	if (a->spawn) /* the next arg in the caller's array */
		assert_int_equal(sim_at(s, now, order_cb, a + 1), TN_OK);
}

/* Events run by time, ties in scheduling order; one scheduled during a
 * tie runs after those already waiting; a past time means now. */
static void events_run_by_time_then_insertion(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 0, NULL);
	order_log log = {0};
	/* Labels 0..7 at these times (ms); label 1 is scheduled last of all
	 * and, when it runs, schedules label 100 for the same time. */
	static const tn_time when[] = {5, 1, 3, 1, 5, 0, 3, 1};
	order_arg args[8];
	for (int i = 0; i < 8; i++) {
		args[i] = (order_arg){&log, i, false};
		if (i != 1)
			assert_int_equal(sim_at(s, when[i] * TN_MSEC, order_cb, &args[i]), TN_OK);
	}
	order_arg pair[2] = {{&log, 1, true}, {&log, 100, false}};
	assert_int_equal(sim_at(s, when[1] * TN_MSEC, order_cb, &pair[0]), TN_OK);
	assert_int_equal(sim_run_until(s, 10 * TN_MSEC), TN_OK);
	static const int want[] = {5, 3, 7, 1, 100, 2, 6, 0, 4};
	assert_int_equal(log.n, 9);
	for (int i = 0; i < 9; i++)
		assert_int_equal(log.seen[i], want[i]);
	for (int i = 1; i < 9; i++)
		assert_true(log.at[i - 1] <= log.at[i]);
	assert_int_equal(sim_now(s), 10 * TN_MSEC);
	/* In the past: runs at the current time. */
	order_arg late = {&log, 42, false};
	assert_int_equal(sim_at(s, 1, order_cb, &late), TN_OK);
	assert_int_equal(sim_run_until(s, 11 * TN_MSEC), TN_OK);
	assert_int_equal(log.seen[9], 42);
	assert_int_equal(log.at[9], 10 * TN_MSEC);
	sim_del(s);
	probe_free(&p);
}

/* ---- determinism --------------------------------------------------------- */

typedef struct fclass {
	flood *f;
} fclass;

static tn_err fc_setup(void *ud, sim *s, const sim_overlay *ov)
{
	fclass *c = ud;
	flood_cfg fc = {.ov = ov, .payload = 64, .redial = TN_SEC};
	tn_err rc = flood_new(&c->f, s, &fc);
	return rc != TN_OK ? rc : flood_add_hosts(c->f);
}

static tn_err fc_inject(void *ud, sim_host_id origin, tn_time expiry)
{
	fclass *c = ud;
	sim_item_id it;
	return flood_inject(c->f, origin, expiry, &it);
}

static void fc_teardown(void *ud)
{
	fclass *c = ud;
	flood_del(c->f);
	c->f = NULL;
}

static const sim_scn_class flood_class = {fc_setup, fc_inject, fc_teardown};

static sim_scn_result run_scn(uint64_t seed, uint32_t nodes)
{
	sim_scn scn;
	sim_scn_default(&scn);
	scn.nodes = nodes;
	scn.churn = 0.3;
	scn.loss = 0.01;
	scn.partition = true;
	scn.seed = seed;
	fclass fc = {0};
	sim_scn_result r;
	assert_int_equal(sim_scn_run(&scn, &flood_class, &fc, &r), TN_OK);
	return r;
}

static void same_seed_same_trace(void **state)
{
	(void)state;
	sim_scn_result a = run_scn(5, 300), b = run_scn(5, 300), c = run_scn(6, 300);
	assert_true(a.events > 10000);
	assert_int_equal(a.trace, b.trace);
	assert_int_equal(a.events, b.events);
	assert_memory_equal(&a.sum, &b.sum, sizeof a.sum);
	assert_int_not_equal(a.trace, c.trace);
}

/* ---- TCP semantics ------------------------------------------------------- */

static void fill_pattern(uint8_t *b, size_t off, size_t len, uint8_t salt)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)((off + i) * 131 + salt);
}

/* Random sizes, random cut points, losses reordering nothing: each side
 * reads exactly the stream the other wrote. */
static void bytes_in_order_across_random_chunking(void **state)
{
	(void)state;
	probe p = {0};
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.seed = 9;
	cfg.lat_dist = SIM_LAT_UNIFORM;
	cfg.lat_mean = 20 * TN_MSEC;
	cfg.lat_spread = 15 * TN_MSEC;
	cfg.bandwidth_bps = 1000000;
	cfg.loss = 0.2;
	cfg.chunk_max = 7;
	sim *s = probe_sim(&p, 2, &cfg);
	sim_conn_id c = connect_pair(s, 0, 1);
	sim_rng r;
	sim_rng_init(&r, 3, 0);
	size_t sent[2] = {0, 0}, sends = 0;
	uint8_t buf[64];
	for (int i = 0; i < 3000; i++) {
		int from = (int)sim_rng_below(&r, 2);
		size_t len = 1 + (size_t)sim_rng_below(&r, 60);
		fill_pattern(buf, sent[from], len, (uint8_t)from);
		assert_int_equal(sim_send(s, (sim_host_id)from, c, buf, len), TN_OK);
		sent[from] += len;
		sends++;
		tn_time step = sim_rng_below(&r, 3) * TN_MSEC;
		assert_int_equal(sim_run_until(s, sim_now(s) + step), TN_OK);
	}
	assert_int_equal(sim_run_until(s, sim_now(s) + 60 * TN_SEC), TN_OK);
	for (int to = 0; to < 2; to++) {
		stream *sm = stream_of(&p, (sim_host_id)to, c);
		int from = 1 - to;
		assert_int_equal(sm->len, sent[from]);
		uint8_t *want = malloc(sent[from]);
		fill_pattern(want, 0, sent[from], (uint8_t)from);
		assert_memory_equal(sm->buf, want, sent[from]);
		free(want);
	}
	/* Pieces are neither the sends nor whole: the cutting happened. */
	size_t recvs = count(&p, K_RECV, 0, c) + count(&p, K_RECV, 1, c);
	assert_true(recvs > sends);
	for (size_t i = 0; i < p.n; i++)
		if (p.log[i].kind == K_RECV)
			assert_true(p.log[i].len >= 1 && p.log[i].len <= 7);
	assert_int_equal(sim_host_bytes_sent(s, 0) + sim_host_bytes_sent(s, 1), sent[0] + sent[1]);
	sim_del(s);
	probe_free(&p);
}

/* Without chunk_max, what arrives together is read together (TCP
 * coalescing), and never before latency + serialization. */
static void simultaneous_sends_coalesce(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 2, NULL);
	sim_conn_id c = connect_pair(s, 0, 1);
	tn_time t0 = sim_now(s);
	for (int i = 0; i < 10; i++)
		assert_int_equal(sim_send(s, 0, c, "abcd", 4), TN_OK);
	assert_int_equal(sim_run_until(s, t0 + 10 * TN_MSEC - 1), TN_OK);
	assert_int_equal(count(&p, K_RECV, 1, c), 0);
	assert_int_equal(sim_run_until(s, t0 + 10 * TN_MSEC), TN_OK);
	assert_int_equal(count(&p, K_RECV, 1, c), 1);
	assert_int_equal(find_rec(&p, K_RECV, 1, c)->len, 40);
	sim_del(s);
	probe_free(&p);
}

/* A break loses what is in flight and tells each end exactly once. */
static void break_drops_bytes_and_notifies_both_once(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 2, NULL);
	sim_conn_id c = connect_pair(s, 0, 1);
	assert_int_equal(sim_conns_open(s), 1);
	assert_int_equal(sim_send(s, 0, c, "0123456789", 10), TN_OK);
	assert_int_equal(sim_send(s, 1, c, "xyz", 3), TN_OK);
	assert_int_equal(sim_run_until(s, sim_now(s) + 5 * TN_MSEC), TN_OK);
	tn_time cut_at = sim_now(s);
	uint32_t groups[2] = {0, 1};
	assert_int_equal(sim_partition(s, groups, 2), TN_OK);
	assert_int_equal(sim_run_until(s, sim_now(s) + 10 * TN_SEC), TN_OK);
	for (sim_host_id h = 0; h < 2; h++) {
		assert_int_equal(count(&p, K_CLOSED, h, c), 1);
		const rec *r = find_rec(&p, K_CLOSED, h, c);
		assert_int_equal(r->arg, SIM_RESET);
		assert_int_equal(r->t, cut_at);
		assert_int_equal(count(&p, K_RECV, h, c), 0);
		assert_int_equal(sim_send(s, h, c, "a", 1), TN_ERR_STATE);
	}
	assert_int_equal(sim_conns_open(s), 0);
	/* Closing what is gone is a no-op: still one notification each. */
	sim_close(s, 0, c);
	assert_int_equal(sim_run_until(s, sim_now(s) + 10 * TN_SEC), TN_OK);
	assert_int_equal(count(&p, K_CLOSED, 0, c) + count(&p, K_CLOSED, 1, c), 2);
	sim_del(s);
	probe_free(&p);
}

/* Random breaks: every connection ends exactly once at each end. */
static void random_breaks_notify_each_end_once(void **state)
{
	(void)state;
	probe p = {0};
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.conn_mean_life = 2 * TN_SEC;
	sim *s = probe_sim(&p, 8, &cfg);
	sim_conn_id ids[28];
	int n = 0;
	for (sim_host_id a = 0; a < 8; a++)
		for (sim_host_id b = a + 1; b < 8; b++)
			ids[n++] = sim_dial(s, a, b, 0);
	assert_int_equal(sim_run_until(s, 120 * TN_SEC), TN_OK);
	assert_int_equal(sim_conns_open(s), 0);
	for (int i = 0; i < n; i++) {
		size_t closes = 0;
		for (sim_host_id h = 0; h < 8; h++) {
			size_t k = count(&p, K_CLOSED, h, ids[i]);
			assert_true(k <= 1);
			if (k)
				assert_int_equal(find_rec(&p, K_CLOSED, h, ids[i])->arg, SIM_RESET);
			closes += k;
		}
		assert_int_equal(closes, 2);
	}
	sim_del(s);
	probe_free(&p);
}

/* A close delivers what was sent, then FIN; the closer hears nothing. */
static void close_delivers_then_fin(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 2, NULL);
	sim_conn_id c = connect_pair(s, 0, 1);
	assert_int_equal(sim_send(s, 0, c, "hello ", 6), TN_OK);
	assert_int_equal(sim_run_until(s, sim_now(s) + 3 * TN_MSEC), TN_OK);
	assert_int_equal(sim_send(s, 0, c, "world", 5), TN_OK);
	assert_int_equal(sim_send(s, 1, c, "lost", 4), TN_OK);
	sim_close(s, 0, c);
	assert_int_equal(sim_send(s, 0, c, "late", 4), TN_ERR_STATE);
	assert_int_equal(sim_run_until(s, sim_now(s) + TN_SEC), TN_OK);
	stream *sm = stream_of(&p, 1, c);
	assert_int_equal(sm->len, 11);
	assert_memory_equal(sm->buf, "hello world", 11);
	assert_int_equal(count(&p, K_CLOSED, 1, c), 1);
	assert_int_equal(find_rec(&p, K_CLOSED, 1, c)->arg, SIM_FIN);
	assert_int_equal(count(&p, K_CLOSED, 0, c), 0);
	assert_int_equal(count(&p, K_RECV, 0, c), 0);
	/* FIN after the last byte, in the log too. */
	size_t last_recv = 0, fin = 0;
	for (size_t i = 0; i < p.n; i++) {
		if (p.log[i].kind == K_RECV && p.log[i].h == 1)
			last_recv = i;
		if (p.log[i].kind == K_CLOSED && p.log[i].h == 1)
			fin = i;
	}
	assert_true(last_recv < fin);
	assert_int_equal(sim_conns_open(s), 0);

	/* sim_close_at: nothing before the time, closed at it. */
	c = connect_pair(s, 0, 1);
	tn_time at = sim_now(s) + 500 * TN_MSEC;
	assert_int_equal(sim_close_at(s, 1, c, at), TN_OK);
	assert_int_equal(sim_run_until(s, at + 10 * TN_MSEC - 1), TN_OK);
	assert_int_equal(count(&p, K_CLOSED, 0, c), 0);
	assert_int_equal(sim_run_until(s, at + 10 * TN_MSEC), TN_OK);
	assert_int_equal(find_rec(&p, K_CLOSED, 0, c)->arg, SIM_FIN);
	sim_del(s);
	probe_free(&p);
}

/* ---- offline hosts ------------------------------------------------------- */

static void no_delivery_to_sleeping_host(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 2, NULL);
	sim_conn_id c = connect_pair(s, 0, 1);
	assert_int_equal(sim_send(s, 0, c, "panic", 5), TN_OK);
	assert_int_equal(sim_run_until(s, sim_now(s) + 5 * TN_MSEC), TN_OK);
	tn_time slept = sim_now(s);
	assert_int_equal(sim_host_sleep(s, 1), TN_OK);
	assert_int_equal(sim_host_sleep(s, 1), TN_ERR_STATE);
	/* The awake side hears at once; the sleeper nothing yet. */
	assert_int_equal(find_rec(&p, K_CLOSED, 0, c)->t, slept);
	assert_int_equal(count(&p, K_CLOSED, 1, c), 0);
	/* A dial to the sleeper fails dial_timeout after the dial. */
	tn_time d0 = sim_now(s) + TN_SEC;
	assert_int_equal(sim_run_until(s, d0), TN_OK);
	sim_conn_id c2 = sim_dial(s, 0, 1, 5);
	assert_int_equal(sim_run_until(s, d0 + 3 * TN_SEC - 1), TN_OK);
	assert_int_equal(count(&p, K_CLOSED, 0, c2), 0);
	assert_int_equal(sim_run_until(s, d0 + 3 * TN_SEC), TN_OK);
	assert_int_equal(find_rec(&p, K_CLOSED, 0, c2)->arg, SIM_REFUSED);
	assert_int_equal(count(&p, K_CONN, 1, c2), 0);
	/* Wake: the owed closed first, then wake; never the bytes. */
	assert_int_equal(sim_run_until(s, 60 * TN_SEC), TN_OK);
	assert_int_equal(sim_host_wake(s, 1), TN_OK);
	assert_int_equal(count(&p, K_RECV, 1, 0), 0);
	assert_int_equal(count(&p, K_CLOSED, 1, c), 1);
	assert_int_equal(count(&p, K_CLOSED, 0, c), 1);
	const rec *cl = find_rec(&p, K_CLOSED, 1, c), *wk = find_rec(&p, K_WAKE, 1, 0);
	assert_int_equal(cl->arg, SIM_RESET);
	assert_int_equal(cl->t, 60 * TN_SEC);
	assert_true(cl < wk);
	/* Online again: dials succeed. */
	sim_conn_id c3 = connect_pair(s, 0, 1);
	assert_int_equal(count(&p, K_CONN, 1, c3), 1);
	sim_del(s);
	probe_free(&p);
}

static void crash_discards_state_and_restarts_from_boot(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 2, NULL);
	sim_conn_id c = connect_pair(s, 0, 1);
	sim_timer(s, 1, sim_now(s) + TN_SEC);
	assert_int_equal(sim_send(s, 0, c, "x", 1), TN_OK);
	size_t before = p.n;
	assert_int_equal(sim_host_crash(s, 1), TN_OK);
	assert_null(sim_host_data(s, 1));
	assert_int_equal(sim_host_get_state(s, 1), SIM_DOWN);
	assert_int_equal(sim_run_until(s, sim_now(s) + 10 * TN_SEC), TN_OK);
	/* Host 1: a halt and nothing else (no closed, no recv, no timer). */
	for (size_t i = before; i < p.n; i++)
		if (p.log[i].h == 1)
			assert_int_equal(p.log[i].kind, K_HALT);
	assert_int_equal(count(&p, K_HALT, 1, 0), 1);
	assert_int_equal(find_rec(&p, K_CLOSED, 0, c)->arg, SIM_RESET);
	assert_int_equal(sim_host_wake(s, 1), TN_ERR_STATE);
	assert_int_equal(sim_host_restart(s, 1), TN_OK);
	assert_int_equal(p.log[p.n - 1].kind, K_BOOT);
	assert_int_equal(p.log[p.n - 1].arg, SIM_BOOT_RESTART);
	assert_non_null(sim_host_data(s, 1));
	assert_int_equal(sim_run_until(s, sim_now(s) + 10 * TN_SEC), TN_OK);
	assert_int_equal(count(&p, K_TIMER, 1, 0), 0);
	sim_del(s);
	assert_int_equal(count(&p, K_HALT, 0, 0), 1); /* sim_del halts the living */
	probe_free(&p);
}

static void timer_exact_replaced_and_held_over_sleep(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 1, NULL);
	sim_timer(s, 0, 100 * TN_MSEC);
	sim_timer(s, 0, 50 * TN_MSEC);
	assert_int_equal(sim_run_until(s, 50 * TN_MSEC - 1), TN_OK);
	assert_int_equal(count(&p, K_TIMER, 0, 0), 0);
	assert_int_equal(sim_run_until(s, 50 * TN_MSEC), TN_OK);
	assert_int_equal(count(&p, K_TIMER, 0, 0), 1);
	assert_int_equal(sim_run_until(s, TN_SEC), TN_OK);
	assert_int_equal(count(&p, K_TIMER, 0, 0), 1);
	sim_timer(s, 0, 2 * TN_SEC);
	sim_timer(s, 0, TN_TIME_NEVER);
	assert_int_equal(sim_run_until(s, 3 * TN_SEC), TN_OK);
	assert_int_equal(count(&p, K_TIMER, 0, 0), 1);
	/* Due during sleep: fires at wake, after the wake callback. */
	sim_timer(s, 0, 4 * TN_SEC);
	assert_int_equal(sim_host_sleep(s, 0), TN_OK);
	assert_int_equal(sim_run_until(s, 10 * TN_SEC), TN_OK);
	assert_int_equal(count(&p, K_TIMER, 0, 0), 1);
	assert_int_equal(sim_host_wake(s, 0), TN_OK);
	assert_int_equal(sim_run_until(s, 10 * TN_SEC), TN_OK);
	assert_int_equal(count(&p, K_TIMER, 0, 0), 2);
	assert_int_equal(p.log[p.n - 1].kind, K_TIMER);
	assert_int_equal(p.log[p.n - 1].t, 10 * TN_SEC);
	assert_int_equal(p.log[p.n - 2].kind, K_WAKE);
	sim_del(s);
	probe_free(&p);
}

/* ---- latency ------------------------------------------------------------- */

static void path_stats(sim *s, double *mean, tn_time *min, tn_time *max, tn_time *sum)
{
	*sum = 0;
	*min = TN_TIME_NEVER;
	*max = 0;
	size_t n = 0;
	for (sim_host_id a = 0; a < 400; a++) {
		for (sim_host_id b = a + 1; b < 400; b++) {
			tn_time l = sim_path_latency(s, a, b);
			assert_int_equal(l, sim_path_latency(s, b, a));
			*sum += l;
			*min = l < *min ? l : *min;
			*max = l > *max ? l : *max;
			n++;
		}
	}
	*mean = (double)*sum / (double)n;
}

static int cmp_t(const void *a, const void *b)
{
	tn_time x = *(const tn_time *)a, y = *(const tn_time *)b;
	return (x > y) - (x < y);
}

/* 79 800 pairs per distribution. Deterministic, so the uniform sum is
 * pinned exactly (a regression guard: any change to the draws shows). */
static void latency_distributions(void **state)
{
	(void)state;
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.seed = 42;
	double mean;
	tn_time min, max, sum;
	sim *s;

	cfg.lat_dist = SIM_LAT_FIXED;
	assert_int_equal(sim_new(&s, &cfg), TN_OK);
	path_stats(s, &mean, &min, &max, &sum);
	assert_int_equal(min, 20 * TN_MSEC);
	assert_int_equal(max, 20 * TN_MSEC);
	sim_del(s);

	cfg.lat_dist = SIM_LAT_UNIFORM;
	assert_int_equal(sim_new(&s, &cfg), TN_OK);
	path_stats(s, &mean, &min, &max, &sum);
	assert_true(mean > 19.9e6 && mean < 20.1e6);
	assert_true(min >= 10 * TN_MSEC && min < 10 * TN_MSEC + 100 * TN_USEC);
	assert_true(max <= 30 * TN_MSEC && max > 30 * TN_MSEC - 100 * TN_USEC);
	assert_int_equal(sum, UINT64_C(1598325966112));
	sim_del(s);

	cfg.lat_dist = SIM_LAT_LOGNORMAL;
	cfg.lat_sigma = 0.5;
	assert_int_equal(sim_new(&s, &cfg), TN_OK);
	path_stats(s, &mean, &min, &max, &sum);
	assert_true(mean > 19.6e6 && mean < 20.4e6);
	/* Median of a log-normal is mean * exp(-sigma^2 / 2) = 17.65 ms. */
	tn_time *v = malloc(79800 * sizeof *v);
	size_t n = 0;
	for (sim_host_id a = 0; a < 400; a++)
		for (sim_host_id b = a + 1; b < 400; b++)
			v[n++] = sim_path_latency(s, a, b);
	qsort(v, n, sizeof *v, cmp_t);
	double median = (double)v[n / 2];
	assert_true(median > 17.3e6 && median < 18.0e6);
	free(v);
	sim_del(s);
}

/* Observed one-way time is exactly the path latency plus serialization,
 * and the same for every connection between the pair. */
static void delivery_time_is_latency_plus_serialization(void **state)
{
	(void)state;
	probe p = {0};
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.bandwidth_bps = 8000000; /* 1 byte per microsecond */
	sim *s = probe_sim(&p, 2, &cfg);
	tn_time lat = sim_path_latency(s, 0, 1);
	for (int round = 0; round < 3; round++) {
		sim_conn_id c = sim_dial(s, 1, 0, 0);
		tn_time d0 = sim_now(s);
		assert_int_equal(sim_run_until(s, d0 + 2 * lat - 1), TN_OK);
		assert_int_equal(count(&p, K_CONN, 1, c), 0);
		assert_int_equal(sim_run_until(s, d0 + 2 * lat), TN_OK);
		assert_int_equal(count(&p, K_CONN, 1, c), 1);
		uint8_t buf[1000] = {0};
		tn_time t0 = sim_now(s);
		assert_int_equal(sim_send(s, 0, c, buf, sizeof buf), TN_OK);
		assert_int_equal(sim_send(s, 0, c, buf, sizeof buf), TN_OK);
		assert_int_equal(sim_run_until(s, t0 + TN_SEC), TN_OK);
		/* Two sends back to back: the second waits for the first. */
		uint64_t seen = 0;
		for (size_t i = 0; i < p.n; i++) {
			if (p.log[i].kind != K_RECV || p.log[i].c != c)
				continue;
			assert_int_equal(p.log[i].t, t0 + lat + (seen + 1) * 1000 * TN_USEC);
			seen++;
		}
		assert_int_equal(seen, 2);
		sim_close(s, 0, c);
		assert_int_equal(sim_run_until(s, sim_now(s) + TN_SEC), TN_OK);
	}
	sim_del(s);
	probe_free(&p);
}

/* Loss shows as delay: lat + rto * (2^k - 1), k losses with P = loss^k. */
static void loss_is_retransmission_delay(void **state)
{
	(void)state;
	probe p = {0};
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.lat_dist = SIM_LAT_FIXED;
	cfg.lat_mean = 10 * TN_MSEC;
	cfg.bandwidth_bps = 0;
	cfg.loss = 0.25;
	sim *s = probe_sim(&p, 2, &cfg);
	sim_conn_id c = connect_pair(s, 0, 1);
	size_t k_count[8] = {0};
	for (int i = 0; i < 4000; i++) {
		tn_time t0 = sim_now(s);
		size_t before = count(&p, K_RECV, 1, c);
		uint8_t b = (uint8_t)i;
		assert_int_equal(sim_send(s, 0, c, &b, 1), TN_OK);
		assert_int_equal(sim_run_until(s, t0 + 100 * TN_SEC), TN_OK);
		assert_int_equal(count(&p, K_RECV, 1, c), before + 1);
		tn_time d = p.log[p.n - 1].t - t0 - 10 * TN_MSEC;
		int k = 0;
		while (k < 7 && d != 200 * TN_MSEC * ((UINT64_C(1) << k) - 1))
			k++;
		assert_true(k < 7);
		k_count[k]++;
	}
	/* Expected 3000 / 750 / 187.5 / 47. */
	assert_true(k_count[0] > 2900 && k_count[0] < 3100);
	assert_true(k_count[1] > 670 && k_count[1] < 830);
	assert_true(k_count[2] > 140 && k_count[2] < 240);
	stream *sm = stream_of(&p, 1, c);
	for (size_t i = 0; i < 4000; i++)
		assert_int_equal(sm->buf[i], (uint8_t)i);
	sim_del(s);
	probe_free(&p);
}

/* ---- partitions ---------------------------------------------------------- */

static void partition_blocks_dials_breaks_cross_links_heal_restores(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 4, NULL);
	sim_conn_id same = connect_pair(s, 0, 1), cross = connect_pair(s, 0, 2);
	uint32_t g[4] = {0, 0, 1, 1};
	assert_int_equal(sim_partition(s, g, 3), TN_ERR_INVAL);
	assert_int_equal(sim_partition(s, g, 4), TN_OK);
	assert_int_equal(sim_conns_open(s), 1);
	assert_int_equal(find_rec(&p, K_CLOSED, 0, cross)->arg, SIM_RESET);
	assert_int_equal(find_rec(&p, K_CLOSED, 2, cross)->arg, SIM_RESET);
	assert_int_equal(count(&p, K_CLOSED, 0, same), 0);
	assert_int_equal(sim_send(s, 0, same, "ok", 2), TN_OK);

	sim_conn_id blocked = sim_dial(s, 0, 3, 0), inside = sim_dial(s, 2, 3, 0);
	assert_int_equal(sim_run_until(s, sim_now(s) + 5 * TN_SEC), TN_OK);
	assert_int_equal(find_rec(&p, K_CLOSED, 0, blocked)->arg, SIM_REFUSED);
	assert_int_equal(count(&p, K_CONN, 3, blocked), 0);
	assert_int_equal(count(&p, K_CONN, 3, inside), 1);
	assert_int_equal(stream_of(&p, 1, same)->len, 2);

	assert_int_equal(sim_heal(s), TN_OK);
	sim_conn_id healed = connect_pair(s, 0, 3);
	assert_int_equal(count(&p, K_CONN, 0, healed), 1);
	assert_int_equal(count(&p, K_CONN, 3, healed), 1);
	assert_int_equal(sim_conns_open(s), 3);
	sim_del(s);
	probe_free(&p);
}

/* ---- churn --------------------------------------------------------------- */

typedef struct churn_probe {
	uint64_t samples, offline;
	bool strangers_down; /* a host that does not churn was seen down */
} churn_probe;

static void sample_offline(sim *s, void *arg, tn_time now)
{
	churn_probe *cp = arg;
	for (sim_host_id h = 0; h < sim_host_count(s); h++) {
		bool down = sim_host_get_state(s, h) != SIM_ONLINE;
		cp->offline += down;
		cp->strangers_down |= down && !sim_host_churns(s, h);
	}
	cp->samples++;
	if (now + TN_SEC < 900 * TN_SEC)
		assert_int_equal(sim_at(s, now + TN_SEC, sample_offline, cp), TN_OK);
}

static void churn_picks_the_fraction_and_cycles(void **state)
{
	(void)state;
	probe p = {0};
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.seed = 11;
	sim *s = probe_sim(&p, 1000, &cfg);
	sim_churn_cfg cc = {
	        .fraction = 0.3,
	        .mean_up = 20 * TN_SEC,
	        .mean_down = 10 * TN_SEC,
	        .crash_share = 0.5,
	        .start = 0,
	        .stop = 1000 * TN_SEC,
	};
	assert_int_equal(sim_churn(s, &cc), TN_OK);
	assert_int_equal(sim_churn(s, &cc), TN_ERR_STATE);
	uint32_t churners = 0;
	for (sim_host_id h = 0; h < 1000; h++)
		churners += sim_host_churns(s, h);
	assert_int_equal(churners, 300);
	churn_probe cp = {0};
	assert_int_equal(sim_at(s, 100 * TN_SEC, sample_offline, &cp), TN_OK);
	assert_int_equal(sim_run_until(s, 1000 * TN_SEC), TN_OK);
	/* Stationary offline share: 0.3 * 10 / (20 + 10) = 0.1. */
	double share = (double)cp.offline / (double)(cp.samples * 1000);
	printf("offline share %.4f over %llu samples\n", share, (unsigned long long)cp.samples);
	assert_true(share > 0.09 && share < 0.11);
	assert_false(cp.strangers_down);
	/* Both kinds of down, in about equal numbers; all up at stop. */
	size_t crashes = 0, sleeps = 0;
	for (sim_host_id h = 0; h < 1000; h++) {
		crashes += count(&p, K_HALT, h, 0);
		sleeps += count(&p, K_WAKE, h, 0);
		assert_int_equal(sim_host_get_state(s, h), SIM_ONLINE);
		if (!sim_host_churns(s, h))
			assert_int_equal(count(&p, K_BOOT, h, 0), 1);
	}
	/* About 300 * 1000 / 30 = 10 000 downs. */
	assert_true(crashes > 4500 && crashes < 5500);
	assert_true(sleeps > 4500 && sleeps < 5500);
	sim_del(s);
	probe_free(&p);
}

/* ---- overlays ------------------------------------------------------------ */

static void check_simple_symmetric(const sim_overlay *o)
{
	for (uint32_t v = 0; v < o->n; v++) {
		for (uint32_t i = o->off[v]; i < o->off[v + 1]; i++) {
			uint32_t w = o->nbr[i];
			assert_true(w < o->n);
			assert_int_not_equal(w, v);
			if (i > o->off[v])
				assert_true(o->nbr[i - 1] < w); /* ascending: no repeats */
			assert_true(sim_overlay_adjacent(o, w, v));
		}
	}
}

static void regular_graphs_are_regular_simple_connected(void **state)
{
	(void)state;
	static const uint32_t sizes[][2] = {
	        {10, 3}, {100, 4}, {101, 4}, {1000, 5}, {300, 8}, {10000, 5}, {10000, 3}, {2, 1},
	};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		sim_overlay o, o2, o3;
		uint32_t n = sizes[k][0], d = sizes[k][1];
		assert_int_equal(sim_overlay_regular(&o, n, d, 1), TN_OK);
		assert_int_equal(o.n, n);
		for (uint32_t v = 0; v < n; v++)
			assert_int_equal(sim_overlay_degree(&o, v), d);
		check_simple_symmetric(&o);
		assert_true(sim_overlay_connected(&o));
		assert_int_equal(sim_overlay_regular(&o2, n, d, 1), TN_OK);
		assert_memory_equal(o.nbr, o2.nbr, (size_t)n * d * sizeof *o.nbr);
		if (n > 10) {
			assert_int_equal(sim_overlay_regular(&o3, n, d, 2), TN_OK);
			assert_memory_not_equal(o.nbr, o3.nbr, (size_t)n * d * sizeof *o.nbr);
			sim_overlay_free(&o3);
		}
		sim_overlay_free(&o);
		sim_overlay_free(&o2);
	}
	sim_overlay o;
	assert_int_equal(sim_overlay_regular(&o, 11, 3, 1), TN_ERR_INVAL); /* n*d odd */
	assert_int_equal(sim_overlay_regular(&o, 5, 5, 1), TN_ERR_INVAL);  /* d >= n */
	assert_int_equal(sim_overlay_regular(&o, 10, 1, 1), TN_ERR_INVAL); /* never connected */
}

static void geometric_graph_has_mean_degree_and_radius(void **state)
{
	(void)state;
	sim_overlay o;
	assert_int_equal(sim_overlay_geometric(&o, 2000, 6, 3), TN_OK);
	check_simple_symmetric(&o);
	assert_int_equal(o.off[o.n], 2000 * 6); /* exactly n * d / 2 edges */
	/* radius is the square root of the last pair's squared distance:
	 * allow one rounding either way. */
	double r2 = o.radius * o.radius, lo = r2 * (1 - 1e-12), hi = r2 * (1 + 1e-12);
	for (uint32_t u = 0; u < o.n; u++) {
		for (uint32_t v = u + 1; v < o.n; v++) {
			double dx = o.x[u] - o.x[v], dy = o.y[u] - o.y[v];
			double d2 = dx * dx + dy * dy;
			if (d2 < lo)
				assert_true(sim_overlay_adjacent(&o, u, v));
			else if (d2 > hi)
				assert_false(sim_overlay_adjacent(&o, u, v));
		}
	}
	printf("geometric n=2000 d=6 radius=%.4f connected=%d\n", o.radius,
	       sim_overlay_connected(&o));
	sim_overlay_free(&o);
}

/* ---- the flood host end to end ------------------------------------------- */

typedef struct flood_run {
	flood *f;
	sim_host_id origin;
	sim_item_id item;
	const uint32_t *groups;
	bool leaked; /* a host across the cut held the item before the heal */
	uint32_t down_at_birth;
	tn_err err;
} flood_run;

static void fr_partition(sim *s, void *arg, tn_time now)
{
	(void)now;
	flood_run *r = arg;
	r->err = sim_partition(s, r->groups, sim_host_count(s));
}

static void fr_inject(sim *s, void *arg, tn_time now)
{
	(void)now;
	flood_run *r = arg;
	/* A host that does not churn, in group 0. */
	sim_host_id h = 0;
	while (sim_host_churns(s, h) || r->groups[h] != 0)
		h++;
	r->origin = h;
	for (sim_host_id i = 0; i < sim_host_count(s); i++)
		r->down_at_birth += sim_host_get_state(s, i) != SIM_ONLINE;
	r->err = flood_inject(r->f, h, 200 * TN_SEC, &r->item);
}

static void fr_check_cut(sim *s, void *arg, tn_time now)
{
	(void)now;
	flood_run *r = arg;
	for (sim_host_id i = 0; i < sim_host_count(s); i++)
		if (r->groups[i] != 0 && sim_has_time(s, i, r->item) != TN_TIME_NEVER)
			r->leaked = true;
	r->err = sim_heal(s);
}

/* The engine's acceptance test: N = 1000, degree 5, 30 % churn (crashes
 * and sleeps), 1 % loss, a partition from 10 s to 40 s with the item born
 * at 15 s on one side. Nothing crosses the cut while it stands; every host
 * online at any time before expiry gets the item. */
static void flood_reaches_all_with_churn_and_healed_partition(void **state)
{
	(void)state;
	const uint32_t n = 1000;
	sim_overlay ov;
	assert_int_equal(sim_overlay_regular(&ov, n, 5, 21), TN_OK);
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.seed = 21;
	cfg.loss = 0.01;
	sim *s;
	assert_int_equal(sim_new(&s, &cfg), TN_OK);
	flood *f;
	flood_cfg fc = {.ov = &ov, .payload = 200, .redial = TN_SEC};
	assert_int_equal(flood_new(&f, s, &fc), TN_OK);
	assert_int_equal(flood_add_hosts(f), TN_OK);
	sim_churn_cfg cc = {.fraction = 0.3,
	                    .mean_up = 20 * TN_SEC,
	                    .mean_down = 10 * TN_SEC,
	                    .crash_share = 0.5,
	                    .start = 5 * TN_SEC,
	                    .stop = 120 * TN_SEC};
	assert_int_equal(sim_churn(s, &cc), TN_OK);
	uint32_t *groups = malloc(n * sizeof *groups);
	for (uint32_t i = 0; i < n; i++)
		groups[i] = i % 2;
	flood_run r = {.f = f, .groups = groups};
	assert_int_equal(sim_at(s, 10 * TN_SEC, fr_partition, &r), TN_OK);
	assert_int_equal(sim_at(s, 15 * TN_SEC, fr_inject, &r), TN_OK);
	assert_int_equal(sim_at(s, 40 * TN_SEC, fr_check_cut, &r), TN_OK);
	assert_int_equal(sim_run_until(s, 200 * TN_SEC), TN_OK);
	assert_int_equal(r.err, TN_OK);
	assert_false(r.leaked);
	assert_true(r.down_at_birth > 50); /* churn was real when it was born */
	sim_summary sum;
	assert_int_equal(sim_summarize(s, &sum), TN_OK);
	char line[256];
	sim_summary_format(line, sizeof line, &sum, 5, 0.3);
	printf("%s\n", line);
	assert_int_equal(sum.eligible, n - 1);
	assert_int_equal(sum.delivered, sum.eligible);
	assert_true(sum.max >= 25 * TN_SEC); /* the far side waited for the heal */
	assert_true(sum.p50 <= sum.p99 && sum.p99 <= sum.max);
	for (sim_host_id h = 0; h < n; h++)
		assert_int_equal(sim_host_get_state(s, h), SIM_ONLINE);
	sim_del(s);
	flood_del(f);
	free(groups);
	sim_overlay_free(&ov);
}

/* ---- metrics ------------------------------------------------------------- */

static void percentiles_are_exact_nearest_rank(void **state)
{
	(void)state;
	tn_time v[100];
	for (int i = 0; i < 100; i++)
		v[i] = (tn_time)(i + 1);
	assert_int_equal(sim_percentile(v, 100, 50), 50);
	assert_int_equal(sim_percentile(v, 100, 99), 99);
	assert_int_equal(sim_percentile(v, 100, 100), 100);
	assert_int_equal(sim_percentile(v, 100, 1), 1);
	assert_int_equal(sim_percentile(v, 10, 50), 5);  /* rank 5 */
	assert_int_equal(sim_percentile(v, 10, 99), 10); /* rank ceil(9.9) = 10 */
	assert_int_equal(sim_percentile(v, 3, 50), 2);   /* rank ceil(1.5) = 2 */
	assert_int_equal(sim_percentile(v, 1, 99), 1);
	assert_int_equal(sim_percentile(v, 0, 50), 0);
	assert_int_equal(sim_percentile(v, 200 / 2, 0), 0);
}

/* Items through the public API: eligibility, times, the summary. */
static void summary_counts_eligible_hosts_and_formats(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 5, NULL);
	assert_int_equal(sim_host_sleep(s, 3), TN_OK);
	assert_int_equal(sim_host_crash(s, 4), TN_OK);
	assert_int_equal(sim_run_until(s, TN_SEC), TN_OK);
	sim_item_id it;
	assert_int_equal(sim_item_new(s, 0, 10 * TN_SEC, &it), TN_OK);
	assert_int_equal(sim_run_until(s, TN_SEC + 100 * TN_MSEC), TN_OK);
	sim_has(s, 1, it);
	assert_int_equal(sim_run_until(s, TN_SEC + 300 * TN_MSEC), TN_OK);
	sim_has(s, 2, it);
	sim_has(s, 1, it); /* first time counts */
	assert_int_equal(sim_has_time(s, 1, it), TN_SEC + 100 * TN_MSEC);
	/* 3 wakes before expiry: owed; 4 restarts after: not owed. */
	assert_int_equal(sim_run_until(s, 5 * TN_SEC), TN_OK);
	assert_int_equal(sim_host_wake(s, 3), TN_OK);
	assert_int_equal(sim_run_until(s, 11 * TN_SEC), TN_OK);
	assert_int_equal(sim_host_restart(s, 4), TN_OK);
	sim_has(s, 4, it); /* after expiry: ignored */
	sim_note_frames(s, 0, 7);
	assert_int_equal(sim_host_frames_sent(s, 0), 7);
	sim_summary sum;
	assert_int_equal(sim_summarize(s, &sum), TN_OK);
	assert_int_equal(sum.eligible, 3);
	assert_int_equal(sum.delivered, 2);
	assert_int_equal(sum.p50, 100 * TN_MSEC);
	assert_int_equal(sum.p99, 300 * TN_MSEC);
	assert_int_equal(sum.max, 300 * TN_MSEC);
	char line[256];
	sim_summary_format(line, sizeof line, &sum, 5, 0.3);
	assert_string_equal(line, "nodes=5 degree=5 churn=0.30 delivery=66.67% p50_ms=100.0 "
	                          "p99_ms=300.0 max_ms=300.0 frames_per_node=1.40 "
	                          "bytes_per_node=0.0");
	sum.eligible = 1000000;
	sum.delivered = 999999;
	sim_summary_format(line, sizeof line, &sum, 5, 0.3);
	assert_non_null(strstr(line, "delivery=99.99%"));
	sim_del(s);
	probe_free(&p);
}

/* Calls that would change the world from inside a callback are refused. */
static tn_err refused_rc;

static void *bad_boot(void *cls, sim *s, sim_host_id self, sim_boot how, tn_time now)
{
	refused_rc = sim_host_sleep(s, self);
	return p_boot(cls, s, self, how, now);
}

static void state_changes_refused_inside_callbacks(void **state)
{
	(void)state;
	probe p = {0};
	sim *s = probe_sim(&p, 0, NULL);
	sim_host_ops ops = probe_ops;
	ops.boot = bad_boot;
	sim_host_id id;
	refused_rc = TN_OK;
	assert_int_equal(sim_host_add(s, &ops, &p, &id), TN_OK);
	assert_int_equal(refused_rc, TN_ERR_STATE);
	assert_int_equal(sim_host_get_state(s, id), SIM_ONLINE);
	sim_config bad;
	sim_config_default(&bad);
	bad.loss = 1.0;
	sim *s2;
	assert_int_equal(sim_new(&s2, &bad), TN_ERR_INVAL);
	sim_del(s);
	probe_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(events_run_by_time_then_insertion),
	        cmocka_unit_test(same_seed_same_trace),
	        cmocka_unit_test(bytes_in_order_across_random_chunking),
	        cmocka_unit_test(simultaneous_sends_coalesce),
	        cmocka_unit_test(break_drops_bytes_and_notifies_both_once),
	        cmocka_unit_test(random_breaks_notify_each_end_once),
	        cmocka_unit_test(close_delivers_then_fin),
	        cmocka_unit_test(no_delivery_to_sleeping_host),
	        cmocka_unit_test(crash_discards_state_and_restarts_from_boot),
	        cmocka_unit_test(timer_exact_replaced_and_held_over_sleep),
	        cmocka_unit_test(latency_distributions),
	        cmocka_unit_test(delivery_time_is_latency_plus_serialization),
	        cmocka_unit_test(loss_is_retransmission_delay),
	        cmocka_unit_test(partition_blocks_dials_breaks_cross_links_heal_restores),
	        cmocka_unit_test(churn_picks_the_fraction_and_cycles),
	        cmocka_unit_test(regular_graphs_are_regular_simple_connected),
	        cmocka_unit_test(geometric_graph_has_mean_degree_and_radius),
	        cmocka_unit_test(flood_reaches_all_with_churn_and_healed_partition),
	        cmocka_unit_test(percentiles_are_exact_nearest_rank),
	        cmocka_unit_test(summary_counts_eligible_hosts_and_formats),
	        cmocka_unit_test(state_changes_refused_inside_callbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
