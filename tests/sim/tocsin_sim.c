/* tocsin-sim: the scenario (scenario.h) over the REAL tn_node
 * (node_host.h): one panic from a random stable online member at the
 * scenario's birth time, through churn, sleep, crashes and a healed
 * partition.
 *
 * stdout (a pure function of the flags: same seed, same bytes):
 *   the summary line (delivery, latencies, link frames and bytes per node
 *   over the whole run), the run line, and a node line: receipts counted at
 *   the author k/N, hosts that stored the alert, notified once / more,
 *   ALERT messages per node, receipts sent/forwarded/fallback.
 * stderr: wall time and events/s (measured here; the engine never reads a
 * clock). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "node_host.h"
#include "scenario.h"

typedef struct node_class {
	nh *c;
	unsigned degree;
	nh_report rep;
} node_class;

static tn_err setup(void *ud, sim *s, const sim_overlay *ov)
{
	node_class *k = ud;
	/* The overlay's degree D is both the candidates each host starts with
	 * and the links it ends up with: the node dials ceil(D/2) and accepts
	 * the rest, so a host holds about D links (docs/sim.md). */
	nh_cfg cfg = {.ov = ov, .degree = (k->degree + 1) / 2, .extra = 3, .alerts_max = 64};
	tn_err rc = nh_new(&k->c, s, &cfg);
	return rc != TN_OK ? rc : nh_add_hosts(k->c);
}

static tn_err inject(void *ud, sim_host_id origin, tn_time expiry)
{
	node_class *k = ud;
	sim_item_id item;
	return nh_inject(k->c, origin, expiry, &item);
}

static void teardown(void *ud)
{
	node_class *k = ud;
	nh_report_get(k->c, &k->rep);
	if (getenv("TOCSIN_SIM_MISSING"))
		nh_dump_missing(k->c, stderr);
	nh_del(k->c);
	k->c = NULL;
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	sim_scn scn;
	sim_scn_default(&scn);
	int p = sim_scn_parse(&scn, argc, argv, stdout, stderr);
	if (p != 0)
		return p == 2 ? 0 : 2;
	static const sim_scn_class cls = {.setup = setup, .inject = inject, .teardown = teardown};
	node_class k = {.degree = scn.degree};
	sim_scn_result r;
	double t0 = seconds();
	tn_err rc = sim_scn_run(&scn, &cls, &k, &r);
	double wall = seconds() - t0;
	if (rc == TN_OK)
		rc = k.rep.err;
	if (rc != TN_OK) {
		fprintf(stderr, "tocsin-sim: run failed: %s\n", tn_strerror(rc));
		return 1;
	}
	sim_scn_print(stdout, &scn, &r);
	const nh_report *e = &k.rep;
	uint32_t others = e->hosts - 1;
	printf("receipts=%" PRIu32 "/%" PRIu32 " stored=%" PRIu32 "/%" PRIu32 " notified=%" PRIu32
	       " notified_multi=%" PRIu32 " alert_msgs_per_node=%.2f"
	       " receipts_sent=%" PRIu64 " forwarded=%" PRIu64 " fallback=%" PRIu64
	       " hops_exceeded=%" PRIu64 " links_up=%" PRIu64 " dials=%" PRIu64
	       " dials_failed=%" PRIu64 "\n",
	       e->receipts, others, e->stored, others, e->notified, e->notified_multi,
	       (double)e->alert_tx / e->hosts, e->receipt_sent, e->receipt_forwarded,
	       e->receipt_fallback, e->receipt_hops_exceeded, e->link_up, e->dial, e->dial_failed);
	fflush(stdout);
	if (getenv("TOCSIN_SIM_COUNTERS")) {
		for (size_t i = 0; i < TN_NODE_C_COUNT; i++)
			if (e->node_ctr[i])
				fprintf(stderr, "%s=%" PRIu64 "\n", tn_node_counter_name((tn_node_counter)i),
				        e->node_ctr[i]);
		for (size_t i = 0; i < TN_RECEIPT_REASON_COUNT; i++)
			if (e->receipt_ctr[i])
				fprintf(stderr, "receipt_%s=%" PRIu64 "\n",
				        tn_receipt_reason_name((tn_receipt_reason)i), e->receipt_ctr[i]);
		fprintf(stderr,
		        "hs_established=%" PRIu64 " hs_timeout=%" PRIu64 " hs_fail=%" PRIu64
		        " hs_replay=%" PRIu64 "\n",
		        e->hs_established, e->hs_timeout, e->hs_fail, e->hs_replay);
	}
	fprintf(stderr, "wall_s=%.3f events=%" PRIu64 " events_per_s=%.0f\n", wall, r.events,
	        wall > 0 ? (double)r.events / wall : 0.0);
	return 0;
}
