/* The node host: the simulator's host class that runs the REAL tn_node
 * (protocol/include/tocsin/node.h), one per host, as docs/sim.md plans:
 * engine callbacks become node calls, node events and bytes become engine
 * calls. Everything random comes from the sim seed, so a run is a pure
 * function of its flags.
 *
 * Membership: ONE tn_static_membership shared by every host (a roster per
 * node would be N x N records: 10^8 at N = 10 000). Each host sees it
 * through a thin per-host view whose count()/member(i) list only its
 * candidates (its overlay neighbours and `extra` random members, itself
 * included), so the node picks its links among them; role, by_link, epoch,
 * keys and PSKs are the shared ones. The view's count() is therefore not
 * the network's size: tn_node_alert_status_get's `members` is wrong under
 * simulation, nh_report counts receipts itself.
 *
 * The "disk" (kept in the class, survives crashes): each host's identity,
 * its committed seq, the envelopes it stored with their NOTIFIED /
 * RECEIPTED flags, and for its own alerts the receivers counted. A restart
 * rebuilds the node from it (tn_node_load_alert, tn_node_load_receipt). */
#ifndef TOCSIN_SIM_NODE_HOST_H
#define TOCSIN_SIM_NODE_HOST_H

#include <stdio.h>

#include "tocsin/node.h"

#include "overlay.h"
#include "sim.h"

enum {
	NH_ITEMS_MAX = 8, /* alerts injected in one run */
};

typedef struct nh_cfg {
	const sim_overlay *ov; /* initial candidates; must outlive the class */
	unsigned degree;       /* the node's outbound links (tn_node_config.degree) */
	unsigned extra;        /* random members added to each host's candidates */
	size_t alerts_max;     /* tn_node_config.alerts_max (0: 64) */
	int lazy;              /* tn_node_config.lazy_push; < 0: the node's default */
	uint8_t kind;          /* kind of the injected alerts (TN_KIND_PANIC is 0) */
} nh_cfg;

typedef struct nh nh;

/* TN_OK, TN_ERR_INVAL (no overlay, degree 0, more hosts than
 * TN_ROSTER_MAX), TN_ERR_NOMEM. */
TN_NODISCARD tn_err nh_new(nh **out, sim *s, const nh_cfg *cfg);
/* Frees the class (the sim must be deleted first: it halts the hosts). */
void nh_del(nh *c);

/* Identities, the shared membership and ov->n hosts; the sim must have
 * none yet, so host i is vertex i. TN_OK, TN_ERR_NOMEM, or an engine or
 * node error. */
TN_NODISCARD tn_err nh_add_hosts(nh *c);

/* origin (online, not inside a host callback) presses panic: a real
 * tn_node_alert_create, live until expiry; *item is its sim item.
 * TN_OK, TN_ERR_LIMIT (NH_ITEMS_MAX), TN_ERR_STATE (origin not up), or the
 * node's error. */
TN_NODISCARD tn_err nh_inject(nh *c, sim_host_id origin, tn_time expiry, sim_item_id *item);

typedef struct nh_report {
	uint32_t hosts;
	sim_host_id origin;      /* of the first item */
	uint32_t stored;         /* hosts but the origin that stored item 0 */
	uint32_t receipts;       /* distinct receivers of item 0 counted at its author */
	uint32_t notified;       /* hosts but the origin notified of item 0 */
	uint32_t notified_multi; /* ... of which more than once (restarts included) */
	uint32_t items;          /* alerts injected */
	uint32_t stored_all_min; /* fewest hosts (origin excluded) that stored any one item */
	uint64_t alert_tx;       /* ALERT messages sent, every host, whole run */
	uint64_t alert_rx;       /* ALERT messages received */
	uint64_t receipt_sent, receipt_fallback, receipt_forwarded, receipt_hops_exceeded;
	uint64_t link_up, dial, dial_failed;
	uint64_t node_ctr[TN_NODE_C_COUNT]; /* every node counter, summed (TOCSIN_SIM_COUNTERS) */
	uint64_t receipt_ctr[TN_RECEIPT_REASON_COUNT];
	uint64_t hs_established, hs_timeout, hs_fail, hs_replay;
	tn_err err; /* first fatal error inside a callback, TN_OK */
} nh_report;

/* Valid at any time; counters of halted nodes are included, so after
 * sim_del it covers the whole run. */
void nh_report_get(const nh *c, nh_report *r);

/* Diagnostics on f: each host that stored item 0 but whose receipt the
 * author did not count, with its boots and store / receipt-sent times. */
void nh_dump_missing(const nh *c, FILE *f);

#endif
