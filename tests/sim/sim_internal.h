/* Engine internals shared by sim.c, sim_conn.c and sim_metrics.c. */
#ifndef TOCSIN_SIM_INTERNAL_H
#define TOCSIN_SIM_INTERNAL_H

#include "sim.h"

enum sim_ev_kind {
	EV_TIMER = 1,     /* a = host, b = timer generation */
	EV_DIAL = 2,      /* b = conn: the round trip is over */
	EV_DIAL_FAIL = 3, /* b = conn: report the failure */
	EV_DELIVER = 4,   /* b = conn, x = direction */
	EV_BREAK = 5,     /* b = conn: random break */
	EV_CLOSE_AT = 6,  /* a = host, b = conn */
	EV_CALL = 7,      /* a = index in calls */
	EV_CHURN = 8,     /* a = host */
};

typedef struct sim_ev {
	tn_time t;
	uint64_t seq;
	uint64_t b;
	uint32_t a;
	uint16_t kind;
	uint16_t x;
} sim_ev;

/* A run of bytes arriving together, or the FIN after the last of them. */
typedef struct sim_seg {
	tn_time at;
	uint32_t len;
	uint32_t fin;
} sim_seg;

/* One direction of a connection: bytes [head, len) of buf are in flight,
 * described by segs [shead, slen) in arrival order. */
typedef struct sim_dir {
	uint8_t *buf;
	size_t head, len, cap;
	sim_seg *segs;
	size_t shead, slen, scap;
	tn_time tx_free; /* when the sender's last byte is on the wire */
	tn_time last_at; /* arrival of the last segment: arrivals never go back */
	bool ev_pending; /* an EV_DELIVER is scheduled for the head segment */
} sim_dir;

enum { C_FREE = 0, C_DIALING = 1, C_OPEN = 2 };

typedef struct sim_conn {
	uint32_t gen;
	uint8_t state;
	bool attached[2];         /* end i still has it (not closed by its host) */
	sim_host_id end[2];       /* 0 = initiator, 1 = responder */
	uint32_t slot_in_host[2]; /* index in hosts[end[i]].conns */
	tn_time lat, dial_start;
	uint64_t tag;
	sim_dir d[2]; /* d[i]: from end i to end 1 - i */
	uint32_t next_free;
} sim_conn;

typedef struct sim_pending {
	sim_conn_id c;
	uint32_t why;
} sim_pending;

typedef struct sim_host {
	const sim_host_ops *ops;
	void *cls;
	void *st;
	uint8_t state;
	bool churns;
	uint32_t group;
	tn_time timer_at;
	uint64_t timer_gen;
	tn_time asleep_since;
	sim_conn_id *conns; /* attached connections, dialing ones included */
	size_t nconns, conns_cap;
	sim_pending *pending; /* closed callbacks owed at wake */
	size_t npending, pending_cap;
	uint64_t bytes, frames;
} sim_host;

typedef struct sim_call {
	sim_call_fn fn;
	void *arg;
} sim_call;

typedef struct sim_item {
	sim_host_id origin;
	uint32_t nhosts; /* hosts that existed at birth */
	tn_time born, expiry;
	tn_time *have;
	uint8_t *eligible;
} sim_item;

struct sim {
	sim_config cfg;
	sim_rng rng;
	tn_time now;
	uint64_t seq, events, trace;
	tn_err err;
	unsigned in_cb; /* > 0 while a host callback runs */

	sim_ev *heap;
	size_t heap_len, heap_cap;

	sim_host *hosts;
	uint32_t nhosts;
	size_t hosts_cap;

	sim_conn *conns;
	size_t nconns, conns_cap;
	uint32_t free_conn;
	uint64_t conns_open;

	sim_call *calls;
	size_t ncalls, calls_cap;

	sim_churn_cfg churn;
	bool churn_set;

	sim_item *items;
	size_t nitems, items_cap;

	uint8_t *scratch;
	size_t scratch_cap;
};

bool sim_grow(void **arr, size_t *cap, size_t need, size_t size);
void sim_fail(sim *s, tn_err e);
bool sim_push(sim *s, tn_time t, uint16_t kind, uint32_t a, uint64_t b, uint16_t x);
void sim_trace(sim *s, uint64_t v);

static inline sim_conn_id sim_conn_make_id(uint32_t gen, size_t slot)
{
	return (uint64_t)gen << 32 | (uint64_t)(slot + 1);
}

void sim_on_dial(sim *s, sim_conn_id id);
void sim_on_dial_fail(sim *s, sim_conn_id id);
void sim_on_deliver(sim *s, sim_conn_id id, unsigned dir);
void sim_break(sim *s, sim_conn_id id);
void sim_on_churn(sim *s, sim_host_id id);

void sim_metrics_online(sim *s, sim_host_id h);
void sim_metrics_free(sim *s);

#endif
