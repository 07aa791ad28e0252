/* Random regular and geometric overlays (overlay.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "overlay.h"
#include "sim_rng.h"

void sim_overlay_free(sim_overlay *o)
{
	free(o->off);
	free(o->nbr);
	free(o->x);
	free(o->y);
	memset(o, 0, sizeof *o);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Build the rows from an edge list (u[i], v[i]), i < m. */
static tn_err from_edges(sim_overlay *o, uint32_t n, const uint32_t *eu, const uint32_t *ev,
                         size_t m)
{
	o->n = n;
	o->off = calloc((size_t)n + 1, sizeof *o->off);
	o->nbr = malloc((2 * m + 1) * sizeof *o->nbr);
	uint32_t *fill = calloc((size_t)n + 1, sizeof *fill);
	if (!o->off || !o->nbr || !fill) {
		free(fill);
		return TN_ERR_NOMEM;
	}
	for (size_t i = 0; i < m; i++) {
		o->off[eu[i] + 1]++;
		o->off[ev[i] + 1]++;
	}
	for (uint32_t v = 0; v < n; v++)
		o->off[v + 1] += o->off[v];
	for (size_t i = 0; i < m; i++) {
		o->nbr[o->off[eu[i]] + fill[eu[i]]++] = ev[i];
		o->nbr[o->off[ev[i]] + fill[ev[i]]++] = eu[i];
	}
	free(fill);
	for (uint32_t v = 0; v < n; v++)
		qsort(o->nbr + o->off[v], o->off[v + 1] - o->off[v], sizeof *o->nbr, cmp_u32);
	return TN_OK;
}

bool sim_overlay_adjacent(const sim_overlay *o, uint32_t u, uint32_t v)
{
	for (uint32_t i = o->off[u]; i < o->off[u + 1]; i++)
		if (o->nbr[i] == v)
			return true;
	return false;
}

bool sim_overlay_connected(const sim_overlay *o)
{
	if (o->n == 0)
		return true;
	uint32_t *queue = malloc(o->n * sizeof *queue);
	uint8_t *seen = calloc(o->n, 1);
	bool ok = false;
	if (queue && seen) {
		uint32_t head = 0, tail = 0;
		queue[tail++] = 0;
		seen[0] = 1;
		while (head < tail) {
			uint32_t v = queue[head++];
			for (uint32_t i = o->off[v]; i < o->off[v + 1]; i++) {
				uint32_t w = o->nbr[i];
				if (!seen[w]) {
					seen[w] = 1;
					queue[tail++] = w;
				}
			}
		}
		ok = tail == o->n;
	}
	free(queue);
	free(seen);
	return ok;
}

/* ---- d-regular ----------------------------------------------------------- */

typedef struct pairing {
	uint32_t n, d;
	uint32_t *pts; /* free points: vertex labels */
	uint32_t *adj; /* d slots per vertex */
	uint32_t *deg;
	uint32_t *eu, *ev;
} pairing;

static bool adj_has(const pairing *p, uint32_t u, uint32_t v)
{
	for (uint32_t i = 0; i < p->deg[u]; i++)
		if (p->adj[(size_t)u * p->d + i] == v)
			return true;
	return false;
}

static void take_point(uint32_t *pts, size_t *m, size_t i)
{
	pts[i] = pts[--*m];
}

/* One attempt at pairing every point. false when stuck: some free points
 * are left but no suitable pair turned up in many tries. */
static bool pair_all(pairing *p, sim_rng *r)
{
	size_t m = (size_t)p->n * p->d, ne = 0;
	for (size_t i = 0; i < m; i++)
		p->pts[i] = (uint32_t)(i / p->d);
	memset(p->deg, 0, p->n * sizeof *p->deg);
	while (m > 0) {
		unsigned tries = 0;
		for (;;) {
			size_t i = (size_t)sim_rng_below(r, m), j = (size_t)sim_rng_below(r, m);
			uint32_t u = p->pts[i], v = p->pts[j];
			if (i != j && u != v && !adj_has(p, u, v)) {
				p->adj[(size_t)u * p->d + p->deg[u]++] = v;
				p->adj[(size_t)v * p->d + p->deg[v]++] = u;
				p->eu[ne] = u;
				p->ev[ne++] = v;
				/* Remove the higher index first so the lower stays put. */
				take_point(p->pts, &m, i > j ? i : j);
				take_point(p->pts, &m, i > j ? j : i);
				break;
			}
			if (++tries > 1000)
				return false;
		}
	}
	return true;
}

tn_err sim_overlay_regular(sim_overlay *o, uint32_t n, unsigned d, uint64_t seed)
{
	memset(o, 0, sizeof *o);
	if (n < 2 || d == 0 || d >= n || ((uint64_t)n * d) % 2 != 0 || (d < 2 && n != 2) ||
	    (uint64_t)n * d > UINT32_MAX)
		return TN_ERR_INVAL;
	size_t m = (size_t)n * d;
	pairing p = {.n = n, .d = d};
	p.pts = malloc(m * sizeof *p.pts);
	p.adj = malloc(m * sizeof *p.adj);
	p.deg = malloc(n * sizeof *p.deg);
	p.eu = malloc(m / 2 * sizeof *p.eu);
	p.ev = malloc(m / 2 * sizeof *p.ev);
	tn_err rc = TN_ERR_NOMEM;
	if (!p.pts || !p.adj || !p.deg || !p.eu || !p.ev)
		goto out;
	sim_rng r;
	sim_rng_init(&r, seed, UINT64_C(0x7265677261706821));
	rc = TN_ERR_LIMIT;
	for (int attempt = 0; attempt < 100; attempt++) {
		if (!pair_all(&p, &r))
			continue;
		sim_overlay_free(o);
		tn_err e = from_edges(o, n, p.eu, p.ev, m / 2);
		if (e != TN_OK) {
			rc = e;
			break;
		}
		if (sim_overlay_connected(o)) {
			rc = TN_OK;
			break;
		}
	}
out:
	if (rc != TN_OK)
		sim_overlay_free(o);
	free(p.pts);
	free(p.adj);
	free(p.deg);
	free(p.eu);
	free(p.ev);
	return rc;
}

/* ---- geometric ----------------------------------------------------------- */

typedef struct cand {
	double d2;
	uint32_t u, v;
} cand;

static int cmp_cand(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->d2 != y->d2)
		return x->d2 < y->d2 ? -1 : 1;
	if (x->u != y->u)
		return x->u < y->u ? -1 : 1;
	return (x->v > y->v) - (x->v < y->v);
}

/* Every pair closer than rc, found through a grid of rc-sized cells. */
static tn_err pairs_within(const sim_overlay *o, double rc, cand **out, size_t *count)
{
	uint32_t g = (uint32_t)(1.0 / rc);
	if (g < 1)
		g = 1;
	if (g > 4096)
		g = 4096;
	size_t cells = (size_t)g * g;
	uint32_t *start = calloc(cells + 1, sizeof *start);
	uint32_t *order = malloc((size_t)o->n * sizeof *order);
	uint32_t *cell = malloc((size_t)o->n * sizeof *cell);
	cand *c = NULL;
	size_t nc = 0, cap = 0;
	tn_err rc_err = TN_ERR_NOMEM;
	if (!start || !order || !cell)
		goto out;
	for (uint32_t i = 0; i < o->n; i++) {
		uint32_t cx = (uint32_t)(o->x[i] * g), cy = (uint32_t)(o->y[i] * g);
		cell[i] = (cx < g ? cx : g - 1) * g + (cy < g ? cy : g - 1);
		start[cell[i] + 1]++;
	}
	for (size_t k = 0; k < cells; k++)
		start[k + 1] += start[k];
	{
		uint32_t *fill = calloc(cells, sizeof *fill);
		if (!fill)
			goto out;
		for (uint32_t i = 0; i < o->n; i++)
			order[start[cell[i]] + fill[cell[i]]++] = i;
		free(fill);
	}
	for (uint32_t i = 0; i < o->n; i++) {
		int64_t cx = cell[i] / g, cy = cell[i] % g;
		for (int64_t dx = -1; dx <= 1; dx++) {
			for (int64_t dy = -1; dy <= 1; dy++) {
				int64_t nx = cx + dx, ny = cy + dy;
				if (nx < 0 || ny < 0 || nx >= g || ny >= g)
					continue;
				size_t k = (size_t)(nx * g + ny);
				for (uint32_t t = start[k]; t < start[k + 1]; t++) {
					uint32_t j = order[t];
					if (j <= i)
						continue;
					double ddx = o->x[i] - o->x[j], ddy = o->y[i] - o->y[j];
					double d2 = ddx * ddx + ddy * ddy;
					if (d2 >= rc * rc)
						continue;
					if (nc == cap) {
						size_t ncap = cap ? 2 * cap : 1024;
						cand *p = realloc(c, ncap * sizeof *c);
						if (!p)
							goto out;
						c = p;
						cap = ncap;
					}
					c[nc++] = (cand){.d2 = d2, .u = i, .v = j};
				}
			}
		}
	}
	rc_err = TN_OK;
out:
	free(start);
	free(order);
	free(cell);
	if (rc_err != TN_OK) {
		free(c);
		c = NULL;
		nc = 0;
	}
	*out = c;
	*count = nc;
	return rc_err;
}

tn_err sim_overlay_geometric(sim_overlay *o, uint32_t n, unsigned d, uint64_t seed)
{
	memset(o, 0, sizeof *o);
	if (n < 2 || d >= n)
		return TN_ERR_INVAL;
	size_t want = ((size_t)n * d + 1) / 2;
	o->n = n;
	o->x = malloc(n * sizeof *o->x);
	o->y = malloc(n * sizeof *o->y);
	if (!o->x || !o->y) {
		sim_overlay_free(o);
		return TN_ERR_NOMEM;
	}
	sim_rng r;
	sim_rng_init(&r, seed, UINT64_C(0x67656f6d65747279));
	for (uint32_t i = 0; i < n; i++) {
		o->x[i] = sim_rng_unit(&r);
		o->y[i] = sim_rng_unit(&r);
	}
	/* Start at twice the radius a borderless plane would need; widen
	 * until enough pairs are in reach (sqrt(2) covers them all). */
	double rc = 2.0 * sqrt((double)d / (3.141592653589793 * (double)n));
	cand *c = NULL;
	size_t nc = 0;
	for (;;) {
		tn_err e = pairs_within(o, rc, &c, &nc);
		if (e != TN_OK) {
			sim_overlay_free(o);
			return e;
		}
		if (nc >= want || rc > 1.5)
			break;
		free(c);
		rc *= 1.5;
	}
	qsort(c, nc, sizeof *c, cmp_cand);
	uint32_t *eu = malloc((want + 1) * sizeof *eu), *ev = malloc((want + 1) * sizeof *ev);
	tn_err e = TN_ERR_NOMEM;
	if (eu && ev) {
		for (size_t i = 0; i < want; i++) {
			eu[i] = c[i].u;
			ev[i] = c[i].v;
		}
		o->radius = want ? sqrt(c[want - 1].d2) : 0.0;
		e = from_edges(o, n, eu, ev, want);
	}
	free(eu);
	free(ev);
	free(c);
	if (e != TN_OK)
		sim_overlay_free(o);
	return e;
}
