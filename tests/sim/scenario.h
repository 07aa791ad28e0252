/* The scenario, shared by every simulator program: parse
 *   --nodes N --degree D --churn C --loss L --seed S [--partition]
 * build the overlay, the sim, the churn, the partition and the item, run,
 * and summarize. A program supplies only its host class (sim_scn_class):
 * tests/sim/sim-flood the flood host, tocsin-sim the real node.
 *
 * Timeline (virtual time, docs/sim.md):
 *   0 s      hosts boot and link up over the overlay
 *   5 s      churn starts: round(C * N) hosts cycle down/up (exponential,
 *            mean up 20 s, mean down 10 s; half the downs crash, half sleep)
 *   10 s     --partition: two random halves cut apart
 *   15 s     one item born at a random online host that does not churn
 *            (--alerts K: K items, one every 5 s from 15 s, each at its own
 *            random host)
 *   30 s     --partition healed
 *   65 s     churn stops: every host is up
 *   90 s     end; the item expires. Delivery counts every host online at
 *            any time from 15 s to 90 s. */
#ifndef TOCSIN_SIM_SCENARIO_H
#define TOCSIN_SIM_SCENARIO_H

#include <stdio.h>

#include "overlay.h"
#include "sim.h"

typedef struct sim_scn {
	uint32_t nodes;
	unsigned degree;
	double churn;
	double loss;
	uint64_t seed;
	bool partition;
	bool geometric; /* random geometric overlay instead of d-regular */
	unsigned items; /* items born, one every item_gap from inject_at (default 1) */
	tn_time item_gap;
	tn_time churn_start, churn_stop, mean_up, mean_down;
	double crash_share;
	tn_time part_at, heal_at, inject_at, end;
} sim_scn;

void sim_scn_default(sim_scn *scn);

/* 0: parsed; 1: bad usage (message on err); 2: --help printed on out. */
int sim_scn_parse(sim_scn *scn, int argc, char **argv, FILE *out, FILE *err);

/* A host class as the scenario drives it. */
typedef struct sim_scn_class {
	/* Create the class over s and add ov->n hosts (host i = vertex i). */
	tn_err (*setup)(void *ud, sim *s, const sim_overlay *ov);
	/* A new item born at origin (online, not in a callback). */
	tn_err (*inject)(void *ud, sim_host_id origin, tn_time expiry);
	/* Free the class; called after sim_del. */
	void (*teardown)(void *ud);
} sim_scn_class;

typedef struct sim_scn_result {
	sim_summary sum;
	uint64_t events;
	uint64_t trace;
	sim_host_id origin;
} sim_scn_result;

/* Run the scenario. TN_OK, or the first error (bad parameters:
 * TN_ERR_INVAL, e.g. N * D odd; TN_ERR_NOMEM; a host class's error). */
TN_NODISCARD tn_err sim_scn_run(const sim_scn *scn, const sim_scn_class *cls, void *ud,
                                sim_scn_result *out);

/* The summary line and the run line, each with a newline. */
void sim_scn_print(FILE *f, const sim_scn *scn, const sim_scn_result *r);

#endif
