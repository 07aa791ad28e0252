/* sim-flood: the ENGINE check. The scenario (scenario.h) run over
 * the flood host (flood.h), not over Tocsin: it proves the simulator
 * delivers, partitions, churns and measures as it should, and how fast.
 * tocsin-sim is the same main over the real node (docs/sim.md).
 *
 * stdout: the summary line and a run line (same seed, same bytes).
 * stderr: wall time and events/s (measured here, outside the engine, which
 * never reads a clock). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "flood.h"
#include "scenario.h"
#include "sim_timed.h"

typedef struct flood_class {
	flood *f;
} flood_class;

static tn_err setup(void *ud, sim *s, const sim_overlay *ov)
{
	flood_class *c = ud;
	flood_cfg fc = {.ov = ov, .payload = 256, .redial = 1 * TN_SEC};
	tn_err rc = flood_new(&c->f, s, &fc);
	return rc != TN_OK ? rc : flood_add_hosts(c->f);
}

static tn_err inject(void *ud, sim_host_id origin, tn_time expiry)
{
	flood_class *c = ud;
	sim_item_id item;
	return flood_inject(c->f, origin, expiry, &item);
}

static void teardown(void *ud)
{
	flood_class *c = ud;
	flood_del(c->f);
	c->f = NULL;
}

int main(int argc, char **argv)
{
	sim_scn scn;
	sim_scn_default(&scn);
	int p = sim_scn_parse(&scn, argc, argv, stdout, stderr);
	if (p != 0)
		return p == 2 ? 0 : 2;
	static const sim_scn_class cls = {.setup = setup, .inject = inject, .teardown = teardown};
	flood_class fc = {0};
	sim_scn_result r;
	double wall;
	tn_err rc = sim_scn_run_timed(&scn, &cls, &fc, &r, &wall);
	if (rc != TN_OK) {
		fprintf(stderr, "sim-flood: run failed: %s\n", tn_strerror(rc));
		return 1;
	}
	sim_scn_print(stdout, &scn, &r);
	fflush(stdout);
	sim_print_speed(stderr, wall, &r);
	return 0;
}
