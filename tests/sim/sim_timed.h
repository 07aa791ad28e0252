/* For the simulator's programs (sim-flood, tocsin-sim), never the engine,
 * which reads no clock (check-sim-symbols.sh): a scenario run timed on the
 * monotonic clock, and the speed line they print on stderr. */
#ifndef TOCSIN_SIM_TIMED_H
#define TOCSIN_SIM_TIMED_H

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "scenario.h"

static inline double sim_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sim_scn_run, and in *wall the seconds it took. */
static inline tn_err sim_scn_run_timed(const sim_scn *scn, const sim_scn_class *cls, void *ud,
                                       sim_scn_result *r, double *wall)
{
	double t0 = sim_seconds();
	tn_err rc = sim_scn_run(scn, cls, ud, r);
	*wall = sim_seconds() - t0;
	return rc;
}

/* "wall_s=… events=… events_per_s=…": not part of the reproducible output. */
static inline void sim_print_speed(FILE *f, double wall, const sim_scn_result *r)
{
	fprintf(f, "wall_s=%.3f events=%" PRIu64 " events_per_s=%.0f\n", wall, r->events,
	        wall > 0 ? (double)r->events / wall : 0.0);
}

#endif
