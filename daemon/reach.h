/* tocsind: is this node reachable from outside? (docs/daemon.md
 * "Reachability"; the protocol side is docs/node.md "Reachability").
 *
 * Two halves, both driven by the mesh (mesh.c hands over the node's
 * DIALBACK and REACHABILITY events and link-up / advertise changes):
 *  - asking: after the first link comes up, after our advertised address
 *    changed, and every TD_REACH_RECHECK_S, one linked member is asked to
 *    dial us back (tn_node_dialback_ask); her answer sets yes / no / unknown;
 *  - answering: for a DIALBACK event we connect to the endpoint the node
 *    took from the asker's own signed roster record (never an address a
 *    request carried), run the handshake of tn_node_dialback_link (it
 *    succeeds only against the asker's link static key), close without
 *    sending message 3, and report with tn_node_dialback_done. An endpoint
 *    of loopback, link-local ... scope is not dialed (addrscope.h): the
 *    answer is no_endpoint.
 * Probe sockets are their own td_conns set (conn.h), at most
 * TN_DIALBACK_PROBES_MAX, each bounded by TD_REACH_PROBE_S. One timer for
 * the schedule and the probes' deadlines; none when nothing is due. */
#ifndef TD_REACH_H
#define TD_REACH_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "log.h"
#include "tocsin/node.h"

enum {
	TD_REACH_FIRST_S = 3,          /* after the first link up */
	TD_REACH_ADVERTISE_S = 2,      /* after our endpoint record changed */
	TD_REACH_RECHECK_S = 6 * 3600, /* slow re-check */
	TD_REACH_RETRY_S = 65,         /* after no answer, LIMITED (> TN_DIALBACK_INTERVAL) */
	TD_REACH_NOEP_S = 10,          /* the checker did not have our record yet (the first
	                                  no_endpoint; the 2nd in a row RETRY_S, then RECHECK_S) */
	TD_REACH_ANSWER_S = 40,        /* a question without answer is dropped */
	TD_REACH_PROBE_S = 15,         /* one dial-back for someone else, connect + handshake */
};

typedef struct td_reach td_reach;

typedef enum td_reachable {
	TD_REACH_UNKNOWN = 0,
	TD_REACH_YES,
	TD_REACH_NO,
} td_reachable;

typedef struct td_reach_status {
	td_reachable reachable;
	bool checked;        /* a checker answered at least once */
	tn_pubkey checker;   /* who answered last */
	uint64_t checked_ms; /* wall clock of that answer */
	uint8_t result;      /* enum tn_dialback_result of that answer */
} td_reach_status;

/* node_of(ud) gives the current node (NULL without a network); pump(ud)
 * is called after every node call made here. */
typedef struct td_reach_host {
	void *ud;
	tn_node *(*node_of)(void *ud);
	void (*pump)(void *ud);
} td_reach_host;

td_reach *td_reach_new(uv_loop_t *loop, td_log *log, const td_reach_host *host);
/* From the mesh's event loop: */
/* asker_local: her link to us is over loopback (she is on this machine). */
void td_reach_on_dialback(td_reach *r, const tn_node_event *ev, bool asker_local);
void td_reach_on_answer(td_reach *r, const tn_node_event *ev);
void td_reach_on_link_up(td_reach *r);
/* Our endpoint record changed: check again soon. */
void td_reach_advertise_changed(td_reach *r);
/* Another network (address change): what we knew is stale; check again. */
void td_reach_network_changed(td_reach *r);
/* This daemon's listener is on loopback. Only then, and only for an asker
 * linked to us over loopback (a mesh on one machine: tests, demo, bench),
 * is a loopback endpoint or one of our own addresses checked
 * (addrscope.h); any other dial-back whose endpoint is not TD_SCOPE_OTHER
 * is refused (no_endpoint). */
void td_reach_set_listen_loopback(td_reach *r, bool on);
/* Dial-backs refused for the endpoint's scope since start (status counters). */
uint64_t td_reach_scope_refused(const td_reach *r);
void td_reach_get(const td_reach *r, td_reach_status *out);
const char *td_reachable_name(td_reachable v);
/* Close the probes and the timer (shutdown); free after the loop ran. */
void td_reach_stop(td_reach *r);
void td_reach_del(td_reach *r);

#endif
