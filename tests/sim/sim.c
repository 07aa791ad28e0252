/* The simulator engine: event queue, hosts, connections, partitions and
 * churn (docs/sim.md). Metrics are in sim_metrics.c. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

void sim_config_default(sim_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->seed = 1;
	cfg->lat_dist = SIM_LAT_LOGNORMAL;
	cfg->lat_mean = 20 * TN_MSEC;
	cfg->lat_spread = 10 * TN_MSEC;
	cfg->lat_sigma = 0.5;
	cfg->bandwidth_bps = 100000000;
	cfg->loss = 0.0;
	cfg->rto = 200 * TN_MSEC;
	cfg->rto_max = 60 * TN_SEC;
	cfg->dial_timeout = 3 * TN_SEC;
	cfg->conn_mean_life = 0;
	cfg->chunk_max = 0;
}

/* ---- small growable arrays ----------------------------------------------- */

/* Make room for `need` elements of `size` bytes in *arr (capacity *cap).
 * false on overflow or allocation failure, *arr untouched. */
bool sim_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return false;
		n *= 2;
	}
	if (n > SIZE_MAX / size)
		return false;
	void *p = realloc(*arr, n * size);
	if (!p)
		return false;
	*arr = p;
	*cap = n;
	return true;
}

void sim_fail(sim *s, tn_err e)
{
	if (s->err == TN_OK)
		s->err = e;
}

/* ---- event queue: a binary min-heap on (time, sequence) ------------------ */

static bool ev_before(const sim_ev *x, const sim_ev *y)
{
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

/* The sequence number makes the order total: events at one time run in the
 * order they were scheduled, whatever the heap's shape. */
bool sim_push(sim *s, tn_time t, uint16_t kind, uint32_t a, uint64_t b, uint16_t x)
{
	if (t < s->now)
		t = s->now;
	if (!sim_grow((void **)&s->heap, &s->heap_cap, s->heap_len + 1, sizeof *s->heap)) {
		sim_fail(s, TN_ERR_NOMEM);
		return false;
	}
	sim_ev ev = {.t = t, .seq = s->seq++, .b = b, .a = a, .kind = kind, .x = x};
	size_t i = s->heap_len++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_before(&ev, &s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = ev;
	return true;
}

static sim_ev pop(sim *s)
{
	sim_ev top = s->heap[0];
	sim_ev last = s->heap[--s->heap_len];
	size_t n = s->heap_len, i = 0;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		const sim_ev *best = &last;
		if (l < n && ev_before(&s->heap[l], best)) {
			m = l;
			best = &s->heap[l];
		}
		if (l + 1 < n && ev_before(&s->heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (n > 0)
		s->heap[i] = last;
	return top;
}

void sim_trace(sim *s, uint64_t v)
{
	uint64_t x = s->trace ^ v;
	s->trace = sim_splitmix64(&x);
}

/* ---- lifetime ------------------------------------------------------------ */

tn_err sim_new(sim **out, const sim_config *cfg)
{
	*out = NULL;
	if (!(cfg->loss >= 0.0 && cfg->loss < 1.0) || !(cfg->lat_sigma >= 0.0) ||
	    (cfg->lat_dist == SIM_LAT_UNIFORM && cfg->lat_spread > cfg->lat_mean) ||
	    cfg->lat_dist > SIM_LAT_LOGNORMAL || cfg->rto == 0 || cfg->rto_max < cfg->rto)
		return TN_ERR_INVAL;
	sim *s = calloc(1, sizeof *s);
	if (!s)
		return TN_ERR_NOMEM;
	s->cfg = *cfg;
	sim_rng_init(&s->rng, cfg->seed, 0);
	s->free_conn = UINT32_MAX;
	s->trace = cfg->seed;
	*out = s;
	return TN_OK;
}

void sim_del(sim *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nhosts; i++) {
		sim_host *h = &s->hosts[i];
		if (h->st && h->ops->halt)
			h->ops->halt(h->st);
		free(h->conns);
		free(h->pending);
	}
	for (size_t i = 0; i < s->nconns; i++) {
		for (int d = 0; d < 2; d++) {
			free(s->conns[i].d[d].buf);
			free(s->conns[i].d[d].segs);
		}
	}
	sim_metrics_free(s);
	free(s->hosts);
	free(s->conns);
	free(s->heap);
	free(s->calls);
	free(s->scratch);
	free(s);
}

tn_time sim_now(const sim *s)
{
	return s->now;
}

tn_err sim_error(const sim *s)
{
	return s->err;
}

uint64_t sim_events(const sim *s)
{
	return s->events;
}

uint64_t sim_trace_hash(const sim *s)
{
	return s->trace;
}

uint64_t sim_seed(const sim *s)
{
	return s->cfg.seed;
}

uint64_t sim_rand_u64(sim *s)
{
	return sim_rng_u64(&s->rng);
}

double sim_rand_unit(sim *s)
{
	return sim_rng_unit(&s->rng);
}

tn_err sim_at(sim *s, tn_time when, sim_call_fn fn, void *arg)
{
	if (!fn)
		return TN_ERR_INVAL;
	if (!sim_grow((void **)&s->calls, &s->calls_cap, s->ncalls + 1, sizeof *s->calls))
		return TN_ERR_NOMEM;
	s->calls[s->ncalls] = (sim_call){.fn = fn, .arg = arg};
	if (!sim_push(s, when, EV_CALL, (uint32_t)s->ncalls, 0, 0))
		return TN_ERR_NOMEM;
	s->ncalls++;
	return TN_OK;
}

/* ---- dispatch ------------------------------------------------------------ */

static void on_timer(sim *s, const sim_ev *ev)
{
	sim_host *h = &s->hosts[ev->a];
	if (ev->b != h->timer_gen || h->state != SIM_ONLINE)
		return; /* replaced, or asleep: sim_host_wake re-arms it */
	h->timer_at = TN_TIME_NEVER;
	s->in_cb++;
	h->ops->timer(h->st, s->now);
	s->in_cb--;
}

static void dispatch(sim *s, const sim_ev *ev)
{
	switch (ev->kind) {
	case EV_TIMER: on_timer(s, ev); break;
	case EV_DIAL: sim_on_dial(s, ev->b); break;
	case EV_DIAL_FAIL: sim_on_dial_fail(s, ev->b); break;
	case EV_DELIVER: sim_on_deliver(s, ev->b, ev->x); break;
	case EV_BREAK: sim_break(s, ev->b); break;
	case EV_CLOSE_AT: sim_close(s, ev->a, ev->b); break;
	case EV_CALL: s->calls[ev->a].fn(s, s->calls[ev->a].arg, s->now); break;
	case EV_CHURN: sim_on_churn(s, ev->a); break;
	default: assert(0 && "unknown event");
	}
}

tn_err sim_run_until(sim *s, tn_time until)
{
	if (s->in_cb)
		return TN_ERR_STATE;
	while (s->heap_len > 0 && s->heap[0].t <= until && s->err == TN_OK) {
		sim_ev ev = pop(s);
		s->now = ev.t;
		s->events++;
		sim_trace(s, ev.t);
		sim_trace(s, (uint64_t)ev.kind << 48 ^ (uint64_t)ev.x << 32 ^ ev.a);
		sim_trace(s, ev.b);
		dispatch(s, &ev);
	}
	if (until != TN_TIME_NEVER && until > s->now && s->err == TN_OK)
		s->now = until;
	return s->err;
}

/* ---- hosts --------------------------------------------------------------- */

static bool host_ok(const sim *s, sim_host_id h)
{
	return h < s->nhosts;
}

/* Boot h (already marked online); a NULL state leaves it down. */
static void boot(sim *s, sim_host_id id, sim_boot how)
{
	s->in_cb++;
	void *st = s->hosts[id].ops->boot(s->hosts[id].cls, s, id, how, s->now);
	s->in_cb--;
	sim_host *h = &s->hosts[id];
	h->st = st;
	if (!st) {
		h->state = SIM_DOWN;
		sim_fail(s, TN_ERR_NOMEM);
	}
}

tn_err sim_host_add(sim *s, const sim_host_ops *ops, void *cls, sim_host_id *out)
{
	*out = SIM_NO_HOST;
	if (s->in_cb)
		return TN_ERR_STATE;
	if (!ops || !ops->boot || !ops->halt || !ops->connected || !ops->recv || !ops->closed ||
	    !ops->timer)
		return TN_ERR_INVAL;
	if (s->nhosts == SIM_NO_HOST - 1)
		return TN_ERR_LIMIT;
	if (!sim_grow((void **)&s->hosts, &s->hosts_cap, (size_t)s->nhosts + 1, sizeof *s->hosts))
		return TN_ERR_NOMEM;
	sim_host_id id = s->nhosts++;
	sim_host *h = &s->hosts[id];
	memset(h, 0, sizeof *h);
	h->ops = ops;
	h->cls = cls;
	h->state = SIM_ONLINE;
	h->timer_at = TN_TIME_NEVER;
	*out = id;
	boot(s, id, SIM_BOOT_FIRST);
	return s->hosts[id].st ? TN_OK : TN_ERR_NOMEM;
}

uint32_t sim_host_count(const sim *s)
{
	return s->nhosts;
}

sim_host_state sim_host_get_state(const sim *s, sim_host_id h)
{
	return host_ok(s, h) ? (sim_host_state)s->hosts[h].state : SIM_DOWN;
}

void *sim_host_data(const sim *s, sim_host_id h)
{
	return host_ok(s, h) ? s->hosts[h].st : NULL;
}

void sim_timer(sim *s, sim_host_id id, tn_time when)
{
	if (!host_ok(s, id))
		return;
	sim_host *h = &s->hosts[id];
	if (h->state == SIM_DOWN || when == h->timer_at)
		return;
	h->timer_gen++;
	h->timer_at = when;
	if (when != TN_TIME_NEVER && h->state == SIM_ONLINE)
		sim_push(s, when, EV_TIMER, id, h->timer_gen, 0);
}

/* Break every connection of h (its own notifications follow its state:
 * deferred while asleep, dropped when down). */
static void break_all(sim *s, sim_host_id id)
{
	while (s->hosts[id].nconns > 0)
		sim_break(s, s->hosts[id].conns[s->hosts[id].nconns - 1]);
}

tn_err sim_host_sleep(sim *s, sim_host_id id)
{
	if (!host_ok(s, id))
		return TN_ERR_INVAL;
	if (s->in_cb || s->hosts[id].state != SIM_ONLINE)
		return TN_ERR_STATE;
	s->hosts[id].state = SIM_ASLEEP;
	s->hosts[id].asleep_since = s->now;
	break_all(s, id);
	return TN_OK;
}

tn_err sim_host_wake(sim *s, sim_host_id id)
{
	if (!host_ok(s, id))
		return TN_ERR_INVAL;
	if (s->in_cb || s->hosts[id].state != SIM_ASLEEP)
		return TN_ERR_STATE;
	sim_host *h = &s->hosts[id];
	h->state = SIM_ONLINE;
	sim_metrics_online(s, id);
	/* The closed callbacks the sleep deferred, in the order the
	 * connections broke. None can be added meanwhile: h is online. */
	sim_pending *p = h->pending;
	size_t n = h->npending;
	h->pending = NULL;
	h->npending = h->pending_cap = 0;
	s->in_cb++;
	for (size_t i = 0; i < n; i++)
		s->hosts[id].ops->closed(s->hosts[id].st, p[i].c, (sim_close_reason)p[i].why,
		                         s->now);
	free(p);
	h = &s->hosts[id];
	if (h->ops->wake)
		h->ops->wake(h->st, h->asleep_since, s->now);
	s->in_cb--;
	h = &s->hosts[id];
	if (h->timer_at != TN_TIME_NEVER) {
		h->timer_gen++;
		sim_push(s, h->timer_at, EV_TIMER, id, h->timer_gen, 0);
	}
	return TN_OK;
}

tn_err sim_host_crash(sim *s, sim_host_id id)
{
	if (!host_ok(s, id))
		return TN_ERR_INVAL;
	if (s->in_cb || s->hosts[id].state == SIM_DOWN)
		return TN_ERR_STATE;
	sim_host *h = &s->hosts[id];
	h->state = SIM_DOWN;
	h->npending = 0;
	h->timer_at = TN_TIME_NEVER;
	h->timer_gen++;
	break_all(s, id);
	h = &s->hosts[id];
	void *st = h->st;
	h->st = NULL;
	h->ops->halt(st);
	return TN_OK;
}

tn_err sim_host_restart(sim *s, sim_host_id id)
{
	if (!host_ok(s, id))
		return TN_ERR_INVAL;
	if (s->in_cb || s->hosts[id].state != SIM_DOWN)
		return TN_ERR_STATE;
	s->hosts[id].state = SIM_ONLINE;
	sim_metrics_online(s, id);
	boot(s, id, SIM_BOOT_RESTART);
	return s->hosts[id].st ? TN_OK : TN_ERR_NOMEM;
}

/* ---- partitions ---------------------------------------------------------- */

static void cut(sim *s)
{
	/* Slots only grow while we iterate (peers notified may dial); new
	 * dials are checked against the groups when they complete. */
	for (size_t i = 0; i < s->nconns; i++) {
		sim_conn *c = &s->conns[i];
		if (c->state != C_OPEN)
			continue;
		if (s->hosts[c->end[0]].group != s->hosts[c->end[1]].group)
			sim_break(s, sim_conn_make_id(c->gen, i));
	}
}

tn_err sim_partition(sim *s, const uint32_t *group, size_t count)
{
	if (s->in_cb)
		return TN_ERR_STATE;
	if (count != s->nhosts)
		return TN_ERR_INVAL;
	for (uint32_t i = 0; i < s->nhosts; i++)
		s->hosts[i].group = group[i];
	cut(s);
	return TN_OK;
}

tn_err sim_heal(sim *s)
{
	if (s->in_cb)
		return TN_ERR_STATE;
	for (uint32_t i = 0; i < s->nhosts; i++)
		s->hosts[i].group = 0;
	return TN_OK;
}

uint32_t sim_host_group(const sim *s, sim_host_id h)
{
	return host_ok(s, h) ? s->hosts[h].group : 0;
}

/* ---- churn --------------------------------------------------------------- */

tn_err sim_churn(sim *s, const sim_churn_cfg *cfg)
{
	if (s->churn_set)
		return TN_ERR_STATE;
	if (!(cfg->fraction >= 0.0 && cfg->fraction <= 1.0) || !(cfg->crash_share >= 0.0) ||
	    cfg->crash_share > 1.0 || cfg->mean_up == 0 || cfg->mean_down == 0 ||
	    cfg->stop < cfg->start)
		return TN_ERR_INVAL;
	uint32_t n = s->nhosts;
	uint32_t k = (uint32_t)llround(cfg->fraction * (double)n);
	uint32_t *ids = malloc(((size_t)n + 1) * sizeof *ids);
	if (!ids)
		return TN_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++)
		ids[i] = i;
	/* Partial Fisher-Yates: the first k of a uniform shuffle. */
	for (uint32_t i = 0; i < k; i++) {
		uint32_t j = i + (uint32_t)sim_rng_below(&s->rng, n - i);
		uint32_t t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
		s->hosts[ids[i]].churns = true;
	}
	free(ids);
	s->churn = *cfg;
	s->churn_set = true;
	double p_down = (double)cfg->mean_down / (double)(cfg->mean_up + cfg->mean_down);
	for (uint32_t i = 0; i < n; i++) {
		if (!s->hosts[i].churns)
			continue;
		tn_time at = cfg->start;
		if (sim_rng_unit(&s->rng) >= p_down)
			at += sim_rng_exp(&s->rng, cfg->mean_up);
		if (at < cfg->stop && !sim_push(s, at, EV_CHURN, i, 0, 0))
			return TN_ERR_NOMEM;
	}
	return TN_OK;
}

bool sim_host_churns(const sim *s, sim_host_id h)
{
	return host_ok(s, h) && s->hosts[h].churns;
}

/* One step of a churner's cycle: down if up (unless churn is over), up if
 * down. The next step is scheduled here; ups never pass `stop`. */
void sim_on_churn(sim *s, sim_host_id id)
{
	const sim_churn_cfg *c = &s->churn;
	if (s->hosts[id].state == SIM_ONLINE) {
		if (s->now >= c->stop)
			return;
		tn_err rc = sim_rng_unit(&s->rng) < c->crash_share ? sim_host_crash(s, id)
		                                                   : sim_host_sleep(s, id);
		if (rc != TN_OK)
			return;
		tn_time up = s->now + sim_rng_exp(&s->rng, c->mean_down);
		sim_push(s, up < c->stop ? up : c->stop, EV_CHURN, id, 0, 0);
		return;
	}
	tn_err rc =
	        s->hosts[id].state == SIM_ASLEEP ? sim_host_wake(s, id) : sim_host_restart(s, id);
	if (rc != TN_OK)
		return;
	tn_time down = s->now + sim_rng_exp(&s->rng, c->mean_up);
	if (down < c->stop)
		sim_push(s, down, EV_CHURN, id, 0, 0);
}
