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
 * clock).
 *
 * Options of this program only (the rest are the scenario's):
 *   --lazy off|chatter|all   tn_node_config.lazy_push (default: the node's)
 *   --kind panic|drill       kind of the injected alerts (default panic) */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_host.h"
#include "scenario.h"
#include "sim_timed.h"

typedef struct node_class {
	nh *c;
	unsigned degree;
	int lazy;
	uint8_t kind;
	nh_report rep;
} node_class;

static const char *const lazy_names[] = {"off", "chatter", "all"};

/* Take --lazy and --kind out of argv (in place); the rest goes to the
 * scenario. 0: ok; 1: bad value. */
static int own_options(int *argc, char **argv, node_class *k)
{
	int o = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = i + 1 < *argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--lazy")) {
			k->lazy = -2;
			for (int m = 0; v && m <= TN_LAZY_MODE_MAX; m++)
				if (!strcmp(v, lazy_names[m]))
					k->lazy = m;
		} else if (!strcmp(a, "--kind")) {
			k->kind = UINT8_MAX;
			if (v && !strcmp(v, "panic"))
				k->kind = TN_KIND_PANIC;
			else if (v && !strcmp(v, "drill"))
				k->kind = TN_KIND_DRILL;
		} else {
			argv[o++] = argv[i];
			continue;
		}
		if (k->lazy == -2 || k->kind == UINT8_MAX) {
			fprintf(stderr, "%s: bad value for %s: %s\n", argv[0], a, v ? v : "(missing)");
			return 1;
		}
		i++;
	}
	*argc = o;
	return 0;
}

static tn_err setup(void *ud, sim *s, const sim_overlay *ov)
{
	node_class *k = ud;
	/* The overlay's degree D is both the candidates each host starts with
	 * and the links it ends up with: the node dials ceil(D/2) and accepts
	 * the rest, so a host holds about D links (docs/sim.md). */
	nh_cfg cfg = {.ov = ov,
	              .degree = (k->degree + 1) / 2,
	              .extra = 3,
	              .alerts_max = 64,
	              .lazy = k->lazy,
	              .kind = k->kind};
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

int main(int argc, char **argv)
{
	sim_scn scn;
	sim_scn_default(&scn);
	node_class k = {.lazy = -1, .kind = TN_KIND_PANIC};
	if (own_options(&argc, argv, &k))
		return 2;
	int p = sim_scn_parse(&scn, argc, argv, stdout, stderr);
	if (p != 0) {
		if (p == 2)
			printf("  --lazy M       lazy push: off, chatter or all (default: the node's)\n"
			       "  --kind K       kind of the alerts: panic or drill (default panic)\n");
		return p == 2 ? 0 : 2;
	}
	static const sim_scn_class cls = {.setup = setup, .inject = inject, .teardown = teardown};
	k.degree = scn.degree;
	sim_scn_result r;
	double wall;
	tn_err rc = sim_scn_run_timed(&scn, &cls, &k, &r, &wall);
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
	/* Lazy push (docs/node.md): payloads and announcements per node per
	 * alert, over every alert of the run. */
	double per = (double)e->hosts * (e->items ? e->items : 1);
	int mode = k.lazy >= 0 ? k.lazy : TN_NODE_LAZY_DEFAULT;
	printf("lazy=%s kind=%s alerts=%" PRIu32 " stored_min=%" PRIu32 "/%" PRIu32
	       " alert_msgs_per_node_per_alert=%.2f ihave_ids_per_node_per_alert=%.2f"
	       " graft_ids=%" PRIu64 " prunes=%" PRIu64 "\n",
	       lazy_names[mode], k.kind == TN_KIND_PANIC ? "panic" : "drill", e->items,
	       e->stored_all_min, others, (double)e->alert_tx / per,
	       (double)e->node_ctr[TN_NODE_C_IHAVE_TX] / per, e->node_ctr[TN_NODE_C_GRAFT_TX],
	       e->node_ctr[TN_NODE_C_PRUNE_TX]);
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
	sim_print_speed(stderr, wall, &r);
	return 0;
}
