/* Overlays: the endpoints each simulated host knows at start (its
 * candidate peers). The node picks its links itself; these graphs only say
 * whom it may try. Both builders are deterministic in (n, d, seed). */
#ifndef TOCSIN_SIM_OVERLAY_H
#define TOCSIN_SIM_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "tocsin/err.h"

/* Adjacency in compressed rows: the neighbours of v are
 * nbr[off[v]] .. nbr[off[v + 1] - 1], ascending. Undirected: u lists v iff
 * v lists u. No self-loops, no repeated neighbours. */
typedef struct sim_overlay {
	uint32_t n;
	uint32_t *off; /* n + 1 entries */
	uint32_t *nbr;
	double *x, *y; /* positions in the unit square (geometric only, else NULL) */
	double radius; /* geometric only */
} sim_overlay;

/* A uniform-ish random d-regular graph (pairing model with the
 * Steger-Wormald step: pick two random free points, keep the pair only if
 * it makes no loop or double edge; restart when stuck), resampled until
 * connected. n * d must be even, d < n, and d >= 2 unless n == 2.
 * TN_OK, TN_ERR_INVAL, TN_ERR_LIMIT (no connected graph in 100 tries),
 * TN_ERR_NOMEM. */
TN_NODISCARD tn_err sim_overlay_regular(sim_overlay *o, uint32_t n, unsigned d, uint64_t seed);

/* A random geometric graph: n points uniform in the unit square, joined
 * when closer than a radius chosen so that exactly round(n * d / 2) edges
 * are kept (the closest pairs), so the mean degree is d whatever the
 * border effects. May be disconnected: see sim_overlay_connected.
 * TN_OK, TN_ERR_INVAL (d >= n), TN_ERR_NOMEM. */
TN_NODISCARD tn_err sim_overlay_geometric(sim_overlay *o, uint32_t n, unsigned d, uint64_t seed);

/* Frees what is inside o. Zeroed or freed overlays are fine. */
void sim_overlay_free(sim_overlay *o);

bool sim_overlay_connected(const sim_overlay *o);
bool sim_overlay_adjacent(const sim_overlay *o, uint32_t u, uint32_t v);

static inline uint32_t sim_overlay_degree(const sim_overlay *o, uint32_t v)
{
	return o->off[v + 1] - o->off[v];
}

#endif
