/* Tocsin simulator engine: a deterministic discrete-event network of many
 * hosts in one process, in virtual time (docs/sim.md).
 *
 * The engine knows nothing of Tocsin. It drives HOSTS through the callback
 * table sim_host_ops and carries out what they ask (dial, send, close, arm
 * a timer). A host is anything with that shape: the flood host in flood.c
 * proves the engine; an adapter over tn_node (docs/node.md) makes it run
 * the real protocol.
 *
 * Determinism: every random draw comes from one seeded xoshiro256**
 * generator inside the sim context, events at the same virtual time run in
 * the order they were scheduled, and nothing reads a clock. The same
 * configuration, seed and host code give the same run, bit for bit, on the
 * same platform (the log-normal and exponential draws use libm's log/exp).
 *
 * Network model, per connection: ordered bytes (TCP), a one-way latency
 * fixed per host pair, serialization at a per-direction bandwidth, loss
 * seen as retransmission delay, and breaks (partition, a host going down,
 * random). There is no shared bottleneck between connections.
 *
 * Re-entrancy: host callbacks may call sim_dial, sim_send, sim_close,
 * sim_close_at, sim_timer, sim_has, sim_note_frames, sim_rand_* and the
 * read-only queries. They must not call sim_run_until, sim_del,
 * sim_host_add, sim_host_{sleep,wake,crash,restart}, sim_partition or
 * sim_heal (those return TN_ERR_STATE from inside a callback): schedule
 * such changes with sim_at. Callbacks scheduled by sim_at may call anything
 * but sim_run_until and sim_del. */
#ifndef TOCSIN_SIM_H
#define TOCSIN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/types.h"

#include "sim_rng.h"

typedef struct sim sim;
typedef uint32_t sim_host_id;
/* A connection: generation << 32 | (slot + 1). 0 is never a valid id, and
 * an id is never reused while anything may still refer to it. */
typedef uint64_t sim_conn_id;
typedef uint32_t sim_item_id;

#define SIM_NO_HOST UINT32_MAX

typedef enum sim_role {
	SIM_INITIATOR = 0, /* this host called sim_dial */
	SIM_RESPONDER = 1, /* this host accepted */
} sim_role;

typedef enum sim_close_reason {
	SIM_REFUSED = 1, /* a dial failed: target down, partitioned, or we went down */
	SIM_RESET = 2,   /* the connection broke; bytes not yet delivered are lost */
	SIM_FIN = 3,     /* the peer closed; every byte it sent was delivered first */
} sim_close_reason;

typedef enum sim_boot {
	SIM_BOOT_FIRST = 0,   /* sim_host_add */
	SIM_BOOT_RESTART = 1, /* after a crash: rebuild from what the host class kept on "disk" */
} sim_boot;

typedef enum sim_host_state {
	SIM_ONLINE = 0,
	SIM_ASLEEP = 1, /* suspended: state kept, connections broken, time jumps at wake */
	SIM_DOWN = 2,   /* crashed: state discarded until sim_host_restart */
} sim_host_state;

/* The host interface. `cls` is the host class's context (shared by all its
 * hosts: configuration, the "disk" that survives crashes); `st` is what
 * boot returned for this host. Every callback gets the virtual time.
 *
 * Order guarantees: a connection's callbacks on one host are connected,
 * then recv zero or more times with its bytes in order, then closed exactly
 * once. A dial that never connects gets closed(SIM_REFUSED) exactly once.
 * A host that sleeps gets the closed callbacks of the connections its
 * sleep broke when it wakes, before wake. A crashed host gets nothing: its
 * state is halted and its connections are forgotten. */
typedef struct sim_host_ops {
	/* Create this host's state. Returns NULL on failure (the host then
	 * stays down and sim_error() reports TN_ERR_NOMEM). */
	void *(*boot)(void *cls, sim *s, sim_host_id self, sim_boot how, tn_time now);
	/* Free the state: on a crash and at sim_del. No sim_* calls. */
	void (*halt)(void *st);
	/* A dial completed (INITIATOR; tag is sim_dial's) or was accepted
	 * (RESPONDER; tag 0). peer is the remote host, as a TCP peer address. */
	void (*connected)(void *st, sim_conn_id c, sim_host_id peer, sim_role role, uint64_t tag,
	                  tn_time now);
	/* Bytes arrived on c, in order. buf is valid only during the call. */
	void (*recv)(void *st, sim_conn_id c, const uint8_t *buf, size_t len, tn_time now);
	/* c is gone (see sim_close_reason). Not called for a close this
	 * host asked for with sim_close. */
	void (*closed)(void *st, sim_conn_id c, sim_close_reason why, tn_time now);
	/* The deadline set with sim_timer has come (or passed during sleep). */
	void (*timer)(void *st, tn_time now);
	/* Back from sleep at now, asleep since `since`. Optional (NULL). */
	void (*wake)(void *st, tn_time since, tn_time now);
} sim_host_ops;

typedef enum sim_latency_dist {
	SIM_LAT_FIXED = 0,     /* always mean */
	SIM_LAT_UNIFORM = 1,   /* uniform integer ns in [mean - spread, mean + spread] */
	SIM_LAT_LOGNORMAL = 2, /* exp(N(mu, sigma^2)) with mu set so the MEAN is `mean` */
} sim_latency_dist;

typedef struct sim_config {
	uint64_t seed;
	sim_latency_dist lat_dist;
	tn_time lat_mean;       /* one-way latency; connect takes one round trip */
	tn_time lat_spread;     /* SIM_LAT_UNIFORM half-width */
	double lat_sigma;       /* SIM_LAT_LOGNORMAL sigma of the underlying normal */
	uint64_t bandwidth_bps; /* per connection and direction; 0 = infinite */
	double loss;            /* per send: probability of one more retransmission */
	tn_time rto;            /* first retransmission timeout; doubles per loss, capped */
	tn_time rto_max;
	tn_time dial_timeout;   /* a failed dial reports after this, from the dial */
	tn_time conn_mean_life; /* random breaks: exponential lifetime; 0 = never */
	size_t chunk_max;       /* >0: deliver in random pieces of 1..chunk_max bytes */
} sim_config;

/* Defaults: log-normal latency, mean 20 ms, sigma 0.5; 100 Mbit/s; no loss;
 * RTO 200 ms doubling to 60 s; dial timeout 3 s; no random breaks; whole
 * coalesced deliveries. */
void sim_config_default(sim_config *cfg);

/* ---- lifetime and running ------------------------------------------------ */

/* TN_OK, TN_ERR_INVAL (bad config: loss outside [0,1), negative sigma,
 * spread > mean), TN_ERR_NOMEM. */
TN_NODISCARD tn_err sim_new(sim **out, const sim_config *cfg);
/* Halts every live host and frees everything. NULL is fine. */
void sim_del(sim *s);

/* Process events in time order until none is left at or before `until`,
 * then set the clock to `until` (unless TN_TIME_NEVER). Returns TN_OK, or
 * the first error a callback caused (see sim_error). */
TN_NODISCARD tn_err sim_run_until(sim *s, tn_time until);
tn_time sim_now(const sim *s);
/* First persistent error (allocation failure, boot returning NULL); TN_OK. */
tn_err sim_error(const sim *s);
uint64_t sim_events(const sim *s); /* events processed so far */
/* A hash of every event processed (time, kind, host, connection, length):
 * two runs are the same run iff their trace hashes match. */
uint64_t sim_trace_hash(const sim *s);

typedef void (*sim_call_fn)(sim *s, void *arg, tn_time now);
/* Call fn(s, arg, when) at virtual time `when` (now if in the past). */
TN_NODISCARD tn_err sim_at(sim *s, tn_time when, sim_call_fn fn, void *arg);

/* The engine's generator: for host classes that want randomness in step
 * with the run. (A host needing its own stream seeds a sim_rng from
 * sim_seed() and its id.) */
uint64_t sim_rand_u64(sim *s);
double sim_rand_unit(sim *s); /* [0, 1) */
uint64_t sim_seed(const sim *s);

/* ---- hosts --------------------------------------------------------------- */

/* Add a host, online, and boot it (SIM_BOOT_FIRST) now. ops and cls must
 * outlive the sim. Returns the id (0, 1, 2...) in *out. TN_ERR_NOMEM,
 * TN_ERR_STATE (inside a host callback). */
TN_NODISCARD tn_err sim_host_add(sim *s, const sim_host_ops *ops, void *cls, sim_host_id *out);
uint32_t sim_host_count(const sim *s);
sim_host_state sim_host_get_state(const sim *s, sim_host_id h);
/* The state boot returned, or NULL when down. */
void *sim_host_data(const sim *s, sim_host_id h);

/* Sleep: connections break (peers get RESET now, h gets its closed
 * callbacks at wake), timers stay armed but do not fire until wake.
 * Wake: the pending closed callbacks, then ops->wake, then an expired timer.
 * Crash: connections break, ops->halt, the timer is dropped. Restart:
 * ops->boot(SIM_BOOT_RESTART). Each returns TN_ERR_STATE if h is not in
 * the state it leaves (or inside a host callback), TN_ERR_INVAL for a bad
 * id. */
TN_NODISCARD tn_err sim_host_sleep(sim *s, sim_host_id h);
TN_NODISCARD tn_err sim_host_wake(sim *s, sim_host_id h);
TN_NODISCARD tn_err sim_host_crash(sim *s, sim_host_id h);
TN_NODISCARD tn_err sim_host_restart(sim *s, sim_host_id h);

/* Arm h's one timer at `when` (replacing the previous deadline);
 * TN_TIME_NEVER disarms. A deadline in the past fires at the current time,
 * after what is already scheduled for it. The node adapter sets this to
 * tn_node_next_deadline after every call. */
void sim_timer(sim *s, sim_host_id h, tn_time when);

/* ---- connections --------------------------------------------------------- */

/* h opens a connection to `to`. After one round trip (2 x the pair's
 * latency), if `to` is online and in h's partition group, both get
 * connected(); otherwise h gets closed(SIM_REFUSED) dial_timeout after the
 * dial. Returns the id, 0 if h is not online or an argument is bad. */
sim_conn_id sim_dial(sim *s, sim_host_id h, sim_host_id to, uint64_t tag);

/* Queue len bytes from h's end of c. They arrive in order after the
 * serialization time, the pair's latency and any retransmissions. TN_OK
 * (also when the peer has already closed: the bytes are dropped, as a TCP
 * peer that is gone would drop them), TN_ERR_STATE (c not open at h's end:
 * still dialing, closed or broken), TN_ERR_NOMEM. */
TN_NODISCARD tn_err sim_send(sim *s, sim_host_id h, sim_conn_id c, const void *buf, size_t len);

/* h closes its end of c now: bytes h already sent are still delivered,
 * then the peer gets closed(SIM_FIN); bytes in flight toward h are dropped.
 * A dial not yet completed is abandoned silently. No callback to h. */
void sim_close(sim *s, sim_host_id h, sim_conn_id c);
/* The same at virtual time `at` (docs/node.md CLOSE_LINK close_at).
 * Ignored if c is gone by then. */
TN_NODISCARD tn_err sim_close_at(sim *s, sim_host_id h, sim_conn_id c, tn_time at);

/* The one-way latency of the path between a and b (the same both ways,
 * for every connection between them in the run). */
tn_time sim_path_latency(const sim *s, sim_host_id a, sim_host_id b);
uint64_t sim_conns_open(const sim *s); /* connections currently established */

/* ---- partitions and churn ------------------------------------------------ */

/* Put host i in group[i] (count entries = sim_host_count()): from now on
 * only hosts in one group reach each other. Existing connections (and
 * dials) across groups break at once. TN_ERR_INVAL on a count mismatch. */
TN_NODISCARD tn_err sim_partition(sim *s, const uint32_t *group, size_t count);
/* Everyone in one group again. Broken connections stay broken: hosts
 * redial. */
TN_NODISCARD tn_err sim_heal(sim *s);
uint32_t sim_host_group(const sim *s, sim_host_id h);

typedef struct sim_churn_cfg {
	double fraction; /* share of hosts that cycle, exactly round(fraction * N) */
	tn_time mean_up; /* exponential up and down times */
	tn_time mean_down;
	double crash_share;  /* share of down periods that are crashes (else sleep) */
	tn_time start, stop; /* cycling from start; at stop every churner is up again */
} sim_churn_cfg;

/* Pick the churning hosts (deterministically from the seed) among those
 * present now and schedule their cycles. A churner starts down at `start`
 * with probability mean_down / (mean_up + mean_down), so the offline share
 * is stationary from the start. Call once. TN_ERR_INVAL, TN_ERR_STATE
 * (already called), TN_ERR_NOMEM. */
TN_NODISCARD tn_err sim_churn(sim *s, const sim_churn_cfg *cfg);
bool sim_host_churns(const sim *s, sim_host_id h);

/* ---- metrics ------------------------------------------------------------- */

/* A new item (an alert) born at origin now, live until expiry. Hosts
 * online now, or coming online at any time up to expiry, must get it.
 * TN_ERR_NOMEM, TN_ERR_INVAL (bad origin). */
TN_NODISCARD tn_err sim_item_new(sim *s, sim_host_id origin, tn_time expiry, sim_item_id *out);
/* h holds item now (first call counts; later calls are ignored). */
void sim_has(sim *s, sim_host_id h, sim_item_id item);
/* When h first held item, or TN_TIME_NEVER. */
tn_time sim_has_time(const sim *s, sim_host_id h, sim_item_id item);
/* h put n protocol frames on the wire (the engine counts bytes itself). */
void sim_note_frames(sim *s, sim_host_id h, uint64_t n);
uint64_t sim_host_bytes_sent(const sim *s, sim_host_id h);
uint64_t sim_host_frames_sent(const sim *s, sim_host_id h);

typedef struct sim_summary {
	uint32_t nodes;
	uint64_t eligible;     /* (item, host) pairs that had to be reached, origins excluded */
	uint64_t delivered;    /* of those, reached before expiry */
	tn_time p50, p99, max; /* time from birth to first holding, over delivered pairs */
	double frames_per_node, bytes_per_node; /* totals over the run / nodes */
} sim_summary;

/* TN_OK, TN_ERR_NOMEM (the percentiles sort a copy). With nothing
 * delivered the times are 0. */
TN_NODISCARD tn_err sim_summarize(const sim *s, sim_summary *out);

/* Nearest-rank percentile of n sorted values: the value at rank
 * ceil(pct * n / 100), for pct in 1..100. 0 when n is 0. */
tn_time sim_percentile(const tn_time *sorted, size_t n, unsigned pct);

/* The line, no newline:
 * nodes=N degree=D churn=C delivery=P% p50_ms=… p99_ms=… max_ms=…
 * frames_per_node=… bytes_per_node=…
 * Returns what snprintf returns. */
int sim_summary_format(char *buf, size_t cap, const sim_summary *sum, unsigned degree,
                       double churn);

#endif
