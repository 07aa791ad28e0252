/* The roster as the node's membership: tn_node_membership_ops over a
 * tn_roster (docs/node.md, docs/roster.md). This is what the daemon and the
 * simulator give tn_node; tocsin/static_membership.h is for unit tests.
 *
 * Time: the membership ops take no clock, but two answers depend on wall
 * time (the previous epoch's PSK only within the grace window; endpoints
 * only until they expire). The caller sets the wall clock with
 * tn_node_roster_set_time() before each batch of node calls.
 *
 * Concurrent rekeys can leave several key sets for one epoch; the ops hand
 * the node the preferred one (the roster's order, the same on every node). */
#ifndef TOCSIN_NODE_ROSTER_H
#define TOCSIN_NODE_ROSTER_H

#include "tocsin/node.h"
#include "tocsin/roster.h"

typedef struct tn_node_roster {
	/* PRIVATE */
	tn_roster *ro;
	uint64_t wall_ms;
	uint64_t grace_ms;
	size_t seen_records;  /* record count when `active` was built */
	uint32_t *active;     /* indices (tn_roster_member_at) of active members */
	size_t nactive, cap;
	tn_roster_epoch epoch; /* scratch for key lookups; wiped after use */
	tn_seckey key;         /* the group key handed out last; wiped on free */
	tn_roster_member m;    /* scratch for member views */
} tn_node_roster;

/* Bind to ro (not owned; must outlive the adapter). grace_ms: how long the
 * previous epoch's link PSK is still accepted (TN_EPOCH_GRACE_DEFAULT in ms
 * when 0). TN_OK or TN_ERR_INVAL. */
TN_NODISCARD tn_err tn_node_roster_init(tn_node_roster *a, tn_roster *ro, uint64_t grace_ms);
/* Wipes the cached secrets and frees the member index. NULL is fine. */
void tn_node_roster_free(tn_node_roster *a);
/* Wall-clock ms used by the next membership calls. */
void tn_node_roster_set_time(tn_node_roster *a, uint64_t wall_ms);
/* The ops table; pass `a` as the node's membership user data. */
tn_node_membership_ops tn_node_roster_ops(void);

#endif
