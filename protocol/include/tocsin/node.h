/* Tocsin protocol library: one member's protocol state, sans I/O
 * (DESIGN §2, §4, §6, §7; docs/node.md is the contract and the reasons).
 *
 * A tn_node owns the links (tn_link), the alert index, the gossip state
 * (push, anti-entropy digests, wants) and the receipts. It never reads a
 * clock, a socket, a file or the random device. The caller (the daemon, or
 * tests/sim) feeds it bytes, time and commands and carries out what it
 * asks:
 *
 *     tn_node_new(&node, &cfg);
 *     replay the store: tn_node_load_alert(...), tn_node_load_receipt(...)
 *     loop:
 *       bytes in:   tn_node_link_recv(node, link_id, p, n, now, wall_ms)
 *       bytes out:  while ((n = tn_node_poll_write(node, &id, buf, cap, now)) > 0)
 *                       write(id, buf, n);
 *       events:     while (tn_node_poll_event(node, &ev)) handle(&ev);
 *       timer:      at tn_node_next_deadline(node): tn_node_tick(node, now, wall_ms)
 *
 * Two clocks come in: `now` (tn_time, monotonic ns) for every timer, and
 * `wall_ms` (ms since the Unix epoch) where formats need wall time (alert
 * windows and expiry, receipts, handshake timestamps). A sleep/wake or a
 * clock jump is reported with tn_node_wake.
 *
 * Pointers handed out in events are valid until the next call on the node.
 * Nothing calls back into the caller except the membership ops, the
 * tn_rand and the log sink from the config. Not thread-safe. */
#ifndef TOCSIN_NODE_H
#define TOCSIN_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/alert.h"
#include "tocsin/codec.h"
#include "tocsin/err.h"
#include "tocsin/identity.h"
#include "tocsin/invite.h"
#include "tocsin/limits.h"
#include "tocsin/link.h"
#include "tocsin/noise.h"
#include "tocsin/roster.h"
#include "tocsin/types.h"

enum {
	/* Links (any state) one node holds at once: degree + max_inbound +
	 * dials in progress must fit. Also the width of the per-alert link
	 * bitmaps. */
	TN_NODE_LINKS_MAX = 64,
	TN_NODE_DEGREE_DEFAULT = 5,
	TN_NODE_MAX_INBOUND_DEFAULT = 12,
	TN_NODE_PASSIVE_DEFAULT = 30,
	TN_NODE_ALERTS_DEFAULT = 4096,
	TN_NODE_ALERTS_MAX = 1 << 20,
	TN_NODE_RECEIPT_HOPS_DEFAULT = 3,
};

#define TN_NODE_ANTI_ENTROPY_DEFAULT  (4 * TN_MIN)
#define TN_NODE_RECEIPT_DELAY_DEFAULT (20 * TN_MSEC)
#define TN_NODE_RECEIPT_RESEND_DEFAULT (20 * TN_SEC)
#define TN_NODE_IHAVE_DELAY_DEFAULT   (20 * TN_MSEC)
#define TN_NODE_GRAFT_TIMEOUT_DEFAULT (150 * TN_MSEC)

/* Lazy push (Plumtree, docs/node.md "Lazy push"): which alerts go as a full
 * ALERT on every link (flood) and which only on the link's eager tree, with
 * IHAVE announcements on the others. */
typedef enum tn_lazy_mode {
	TN_LAZY_OFF = 0,     /* flood every alert (the behaviour before lazy push) */
	TN_LAZY_CHATTER = 1, /* panic and safe flood; every other kind lazy */
	TN_LAZY_ALL = 2,     /* every kind lazy, panic and safe included */
	TN_LAZY_MODE_MAX = 2,
} tn_lazy_mode;
#define TN_NODE_LAZY_DEFAULT TN_LAZY_OFF
#define TN_NODE_BACKOFF_MIN_DEFAULT   (1 * TN_SEC)
#define TN_NODE_BACKOFF_MAX_DEFAULT   (5 * TN_MIN)

/* ---- Membership: the node's view of the roster --------------------------
 *
 * Until the roster module (docs/roster.md) lands, membership comes through
 * these ops; tocsin/static_membership.h is a fixed in-memory one for tests
 * and the simulator. Answers must reflect the current roster state; the
 * node asks again whenever it needs to (it caches nothing but the pieces
 * it copies into a link's configuration). */

typedef struct tn_node_member {
	tn_pubkey identity;
	tn_linkpub link_pk;
	tn_view name; /* display name (UTF-8), may be empty */
	size_t nendpoints;
	tn_view endpoints[TN_ENDPOINTS_MAX]; /* "tcp:host:port", later "onion:..." */
} tn_node_member;

typedef struct tn_node_membership_ops {
	/* Role of an identity (reuses the alert module's enum). Required. */
	tn_alert_author (*role)(void *ud, const tn_pubkey *identity);
	/* The identity certified for a link static key, if any. Required. */
	bool (*by_link)(void *ud, const tn_linkpub *link_pk, tn_pubkey *identity);
	/* Current epoch number (the one new alerts are sealed under). */
	uint32_t (*epoch)(void *ud);
	/* Group key of an epoch, or NULL when this device has none. Valid
	 * until the next membership call. */
	const tn_seckey *(*group_key)(void *ud, uint32_t epoch);
	/* Link PSK: previous == false for the current epoch's; true for the
	 * previous epoch's, only while the grace window lasts (false after). */
	bool (*link_psk)(void *ud, bool previous, tn_noise_psk *out);
	/* Active members (revoked ones excluded), this device included, and
	 * the i-th of them (0 <= i < count; any stable order). Views in *out
	 * are valid until the next membership call. */
	size_t (*count)(void *ud);
	bool (*member)(void *ud, size_t i, tn_node_member *out);
	/* Roster digest for anti-entropy (optional: zeros when NULL). */
	void (*roster_digest)(void *ud, uint8_t out[TN_HASH]);
} tn_node_membership_ops;

/* ---- Configuration ------------------------------------------------------ */

typedef struct tn_node_config {
	const tn_identity *identity; /* required; not owned, must outlive the node */
	uint8_t network_id[TN_NETWORK_ID];
	tn_node_membership_ops membership; /* required (see above) */
	void *membership_ud;
	tn_rand rand;  /* required */
	tn_log_fn log; /* optional */
	void *log_ud;
	size_t degree;          /* outbound links to keep (default 5) */
	size_t max_inbound;     /* inbound links accepted (default 12) */
	size_t passive_max;     /* candidates remembered for repair (default 30) */
	size_t alerts_max;      /* alerts held at once (default 4096) */
	tn_time keepalive;      /* link keepalive (0: TN_KEEPALIVE_DEFAULT) */
	tn_time anti_entropy;   /* mean digest interval, jittered +-25% (default 4 min) */
	tn_time receipt_delay;  /* receipt batch flush delay (default 20 ms) */
	tn_time backoff_min;    /* reconnect backoff (default 1 s) ... */
	tn_time backoff_max;    /* ... doubling up to (default 5 min) */
	uint8_t receipt_hops;   /* fallback flooding hop limit (default 3, <= 16) */
	/* Receipts-wanted notes for our own alerts at created + r, + 3r, + 7r,
	 * + 15r while some receipt is missing (default 20 s; TN_TIME_NEVER: none) */
	tn_time receipt_resend;
	tn_alert_limits limits; /* per-author budgets (docs/node.md: rate limits) */
	uint8_t lazy_push;      /* tn_lazy_mode (default TN_LAZY_OFF: docs/node.md) */
	tn_time ihave_delay;    /* IHAVE batch flush delay (default 20 ms; 0: at once) */
	tn_time graft_timeout;  /* IHAVE'd alert missing this long: GRAFT (default 150 ms, >= 1 ms) */

	/* Roster mode (docs/node.md "Roster gossip"): the node creates and owns
	 * a tn_roster founded by this genesis record (bytes copied), is its
	 * membership (membership/membership_ud and network_id are then
	 * ignored: network_id is the genesis's) and gossips its records.
	 * Replay stored records with tn_node_roster_load. */
	const uint8_t *genesis;
	size_t genesis_len;
	uint64_t epoch_grace_ms; /* previous epoch's PSK accepted this long (0: 30 days) */

	/* Joining (docs/roster.md "Joining"): the node starts without a roster
	 * from this invite (copied; membership, network_id and genesis are
	 * ignored), dials the coordinator, and becomes a member in roster
	 * mode once she has admitted it (JOINED event). */
	const tn_invite *join;
	tn_view join_name; /* display name sent in JOIN (UTF-8, <= TN_NAME_MAX); copied */
} tn_node_config;

/* Zero *cfg and set every default (identity, membership and rand are left
 * for the caller). */
void tn_node_config_default(tn_node_config *cfg);

/* ---- Lifetime ----------------------------------------------------------- */

typedef struct tn_node tn_node; /* opaque */

/* Create a node from *cfg (copied). Allocates the index (alerts_max
 * entries, about 250 bytes each plus the envelope bytes of what is held),
 * two rate-limit tables, the replay cache and small per-link state.
 * Returns TN_OK, TN_ERR_INVAL (NULL or missing required field, degree 0 or
 * degree + max_inbound >= TN_NODE_LINKS_MAX, alerts_max out of 1..
 * TN_NODE_ALERTS_MAX, receipt_hops > TN_RECEIPT_HOPS_MAX), TN_ERR_NOMEM.
 * On error *out is NULL. */
TN_NODISCARD tn_err tn_node_new(tn_node **out, const tn_node_config *cfg);

/* Close nothing (the caller owns the sockets), wipe and free everything.
 * NULL is fine. */
void tn_node_del(tn_node *node);

/* ---- Start-up replay ------------------------------------------------------ */

typedef enum tn_node_load_flags {
	TN_NODE_LOAD_NOTIFIED = 1,  /* already shown: no NOTIFY */
	TN_NODE_LOAD_RECEIPTED = 2, /* our receipt already sent: none again */
} tn_node_load_flags;

/* Put an alert the store holds back into the index, as accepted and
 * stored (no checks but a strict decode and the network id: it passed
 * them before it was stored). Not NOTIFIED: a NOTIFY is queued. Not
 * RECEIPTED (and not our own): a receipt is sent on the next link up
 * (reverse path unknown after a restart: hop-limited fallback), then a
 * RECEIPTED event once that link has handed the receipt's frame out.
 * Own alerts (author = our identity) are recognised.
 * Returns TN_OK, TN_ERR_STALE (expired at wall_ms: delete it from the
 * store), TN_ERR_EXISTS (already held), TN_ERR_PROTO (not a strict
 * envelope of this network), TN_ERR_LIMIT (index full), TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_node_load_alert(tn_node *node, const uint8_t *env, size_t len,
                                       unsigned flags, tn_time now, uint64_t wall_ms);

/* A receipt the store holds for one of our own alerts (RECEIPT events
 * the daemon recorded), so delivered k / N survives a restart.
 * Returns TN_OK, TN_ERR_NOTFOUND (no such own alert held), TN_ERR_EXISTS
 * (already counted), TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_node_load_receipt(tn_node *node, const uint8_t alert_id[TN_ALERT_ID],
                                         const tn_pubkey *receiver);

/* ---- Links ----------------------------------------------------------------- */

/* A TCP connection is up: the daemon accepted one (TN_NOISE_RESPONDER,
 * member NULL) or connected one the node asked for with a DIAL event
 * (TN_NOISE_INITIATOR, member = the DIAL's member). The node creates the
 * tn_link and starts its handshake; *link_id names it from now on (never
 * 0, never reused). A joining node (cfg.join) opens only the join link:
 * initiator, member ignored (its DIAL names none); a responder gets
 * TN_ERR_STATE (it has no PSK yet).
 * Returns TN_OK, TN_ERR_INVAL (bad role, initiator without member),
 * TN_ERR_NOTFOUND (initiator: member unknown, revoked or without link
 * key), TN_ERR_STATE (no link PSK), TN_ERR_LIMIT (TN_NODE_LINKS_MAX links
 * held: close the socket, after a random delay for a responder),
 * TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_node_link_open(tn_node *node, tn_noise_role role, const tn_pubkey *member,
                                      tn_time now, uint64_t wall_ms, uint64_t *link_id);

/* TCP bytes arrived on a link. Consumes them all (a link past CLOSE
 * ignores them). Returns TN_OK, TN_ERR_NOTFOUND (no such link: drop the
 * bytes), TN_ERR_INVAL, or TN_ERR_NOMEM / TN_ERR_INTERNAL (fatal). */
TN_NODISCARD tn_err tn_node_link_recv(tn_node *node, uint64_t link_id, const uint8_t *in,
                                      size_t len, tn_time now, uint64_t wall_ms);

/* The TCP connection is gone: closed by us after a CLOSE_LINK event, or
 * failed/closed by the peer. The link is forgotten (LINK_DOWN if it was
 * up; no CLOSE_LINK for it). Unknown ids are ignored. */
void tn_node_link_closed(tn_node *node, uint64_t link_id, tn_time now);

/* The DIAL for member could not connect (refused, unreachable, timeout).
 * Counts a failure for its backoff (joining: for the join dial; member may
 * be NULL or the DIAL's all-zero key). */
void tn_node_dial_failed(tn_node *node, const tn_pubkey *member, tn_time now);

/* ---- Output ----------------------------------------------------------------- */

/* Bytes to write on one link (0 when none). Moves queued alerts, receipts
 * and digest parts into the link as its buffer drains (panic and safe
 * first), then encrypts. Returns bytes written, TN_ERR_NOTFOUND,
 * TN_ERR_INVAL, TN_ERR_INTERNAL (fatal). */
TN_NODISCARD tn_ssize tn_node_link_out(tn_node *node, uint64_t link_id, uint8_t *out, size_t cap,
                                       tn_time now);

/* The same over every link, round robin: sets *link_id and returns bytes
 * for it, 0 when no link has anything. */
TN_NODISCARD tn_ssize tn_node_poll_write(tn_node *node, uint64_t *link_id, uint8_t *out, size_t cap,
                                         tn_time now);

/* ---- Time ------------------------------------------------------------------- */

/* The earliest of every link's timers, receipt batch flushes, the next
 * anti-entropy round, the next reconnect or dial timeout, the next push
 * of an own alert held by pacing, and the next expiry. TN_TIME_NEVER when nothing is scheduled. An idle node with its
 * links up wakes only for keepalives and anti-entropy (and expiries of
 * held alerts). */
tn_time tn_node_next_deadline(const tn_node *node);

/* Run whatever is due at now: link timers, receipt flushes, expiry GC,
 * anti-entropy, held own alerts' pushes, reconnects. Calling it early does no harm. */
void tn_node_tick(tn_node *node, tn_time now, uint64_t wall_ms);

/* The host woke from sleep or the clock jumped: reconnect now (backoffs
 * reset), and send a digest on every link (refreshes catch-up and makes
 * dead TCP connections fail fast). Then runs tn_node_tick. */
void tn_node_wake(tn_node *node, tn_time now, uint64_t wall_ms);

/* ---- Alerts ------------------------------------------------------------------ */

typedef struct tn_node_alert_req {
	uint64_t seq; /* ALREADY COMMITTED by the caller (DESIGN §3) */
	uint8_t kind; /* enum tn_alert_kind */
	bool has_refers_to;
	uint8_t refers_to[TN_ALERT_ID];
	uint64_t lifetime_ms; /* 1 .. TN_ALERT_LIFETIME_MS */
	tn_alert_pt pt;
} tn_node_alert_req;

/* Seal and sign a new alert of ours (epoch and group key from the
 * membership), index it and queue STORE_ALERT. Nothing leaves before
 * tn_node_stored(id, true). id_out (optional) receives the alert id.
 * Never refused for rate: over our own per-author budget (the one every
 * receiver applies, cfg.limits) it is still made and stored now, and its
 * push waits for the budget (tn_node_alert_status_get's held_until).
 * Returns TN_OK, TN_ERR_INVAL (a draft every relay would refuse; the seq
 * is not consumed: retry with the same one), TN_ERR_EXISTS (seq already
 * used in the index), TN_ERR_STATE (no group key for the current epoch),
 * TN_ERR_LIMIT (index full), TN_ERR_NOMEM / TN_ERR_INTERNAL. */
TN_NODISCARD tn_err tn_node_alert_create(tn_node *node, const tn_node_alert_req *req, tn_time now,
                                         uint64_t wall_ms, uint8_t id_out[TN_ALERT_ID]);

/* The caller committed (ok) or failed to commit (!ok) an alert a
 * STORE_ALERT asked for. ok: forward at once on every link but the one it
 * came from (priority for panic/safe), send our receipt toward its author,
 * queue NOTIFY (RECEIPTED follows once the receipt's frame has been handed
 * out by a link; if its links close first it is sent again). !ok: forget
 * it (not forwarded, receipted or shown; it may arrive again).
 * Returns TN_OK, TN_ERR_NOTFOUND (not pending). */
TN_NODISCARD tn_err tn_node_stored(tn_node *node, const uint8_t alert_id[TN_ALERT_ID], bool ok,
                                   tn_time now, uint64_t wall_ms);

/* Delivery of one of our own alerts: k members' devices have receipted
 * it, out of n = active members other than us. */
typedef struct tn_node_alert_status {
	size_t delivered;
	size_t members;
	/* Pacing (docs/node.md "Pacing our own alerts"): an own alert over our
	 * own budget is stored and answered to WANTs at once, but pushed only
	 * at this time (monotonic, the `now` clock), when every receiver's
	 * budget for us has refilled. 0: not held (pushed, or pushing now). */
	tn_time held_until;
} tn_node_alert_status;

/* Returns TN_OK, TN_ERR_NOTFOUND (not an own alert held). */
TN_NODISCARD tn_err tn_node_alert_status_get(const tn_node *node,
                                             const uint8_t alert_id[TN_ALERT_ID],
                                             tn_node_alert_status *st);

/* The i-th receiver (0 <= i < delivered) of an own alert, in arrival
 * order. Returns TN_OK, TN_ERR_NOTFOUND. */
TN_NODISCARD tn_err tn_node_alert_receiver(const tn_node *node, const uint8_t alert_id[TN_ALERT_ID],
                                           size_t i, tn_pubkey *receiver);

/* Alerts in the index (pending and stored). */
size_t tn_node_alert_count(const tn_node *node);

/* ---- Events -------------------------------------------------------------------- */

typedef enum tn_node_event_type {
	TN_NODE_EV_NONE = 0,
	TN_NODE_EV_DIAL,        /* connect to member at endpoint, then tn_node_link_open */
	TN_NODE_EV_CLOSE_LINK,  /* close link_id's socket at close_at, then tn_node_link_closed */
	TN_NODE_EV_STORE_ALERT, /* commit envelope, then tn_node_stored */
	TN_NODE_EV_NOTIFY,      /* show it, then mark it notified in the store */
	TN_NODE_EV_RECEIPT,     /* receiver stored our alert: record it (k / N) */
	TN_NODE_EV_RECEIPTED,   /* our receipt for alert_id left (a link handed out its
	                           frame, tn_node_send): mark it in the store */
	TN_NODE_EV_CONFLICT,    /* equivocation: keep the evidence, show coordinators */
	TN_NODE_EV_LINK_UP,     /* link_id to member is established */
	TN_NODE_EV_LINK_DOWN,   /* link_id to member is gone */
	TN_NODE_EV_STORE_ROSTER, /* persist record (accepted roster record; reload with
	                            tn_node_roster_load). No confirmation needed. */
	TN_NODE_EV_JOINED,      /* coordinator: member joined with name (show the safety
	                           number of member and us); joiner: we are in, member is
	                           the coordinator who admitted us */
	TN_NODE_EV_JOIN_FAILED, /* joiner: attempt failed (err says why); the node
	                           retries with backoff until the invite expires
	                           (err TN_ERR_STALE: give up, get a new invite) */
	TN_NODE_EV_DIALBACK,    /* a member asked to be dialed back: connect to endpoint
	                           (hers, from her signed endpoint record), run the
	                           handshake of tn_node_dialback_link, then
	                           tn_node_dialback_done(probe_id, result) */
	TN_NODE_EV_REACHABILITY, /* the answer to our tn_node_dialback_ask: member
	                            checked, dialback says what she found */
} tn_node_event_type;

typedef struct tn_node_event {
	tn_node_event_type type;
	uint64_t link_id;              /* CLOSE_LINK, LINK_UP, LINK_DOWN */
	tn_time close_at;              /* CLOSE_LINK: not before (silent rejections wait) */
	tn_pubkey member;              /* DIAL, LINK_UP, LINK_DOWN: peer; NOTIFY, CONFLICT,
	                                  STORE_ALERT: author; RECEIPT: receiver */
	tn_view endpoint;              /* DIAL */
	uint8_t alert_id[TN_ALERT_ID]; /* STORE_ALERT, NOTIFY, RECEIPT, RECEIPTED;
	                                  CONFLICT: the one held */
	uint8_t other_id[TN_ALERT_ID]; /* CONFLICT: the newcomer */
	tn_view envelope;              /* STORE_ALERT: to commit; CONFLICT: newcomer's bytes */
	bool own;                      /* STORE_ALERT: authored here */
	uint8_t kind;                  /* STORE_ALERT, NOTIFY, CONFLICT */
	uint64_t seq;                  /* STORE_ALERT, NOTIFY, CONFLICT */
	uint64_t expires_ms;           /* STORE_ALERT, NOTIFY */
	/* NOTIFY: opened true with pt (views into node memory, wiped at the
	 * next call); false when it cannot be read (reason says why: show
	 * kind and author anyway, a panic is a panic). */
	bool opened;
	tn_alert_reason reason;
	tn_alert_pt pt;
	uint64_t stored_ms; /* RECEIPT */
	size_t delivered;   /* RECEIPT: k including this one */
	tn_view record;     /* STORE_ROSTER: the record's bytes */
	tn_view name;       /* JOINED: display name of member */
	tn_err err;         /* JOIN_FAILED */
	uint64_t probe_id;  /* DIALBACK: hand back to tn_node_dialback_link / _done */
	uint8_t dialback;   /* REACHABILITY: enum tn_dialback_result */
} tn_node_event;

/* Pop the next event. Returns false (ev->type NONE) when there is none. */
bool tn_node_poll_event(tn_node *node, tn_node_event *ev);

/* ---- Counters ------------------------------------------------------------------ */

/* Every drop and every notable action has a counter (status output). */
typedef enum tn_node_counter {
	TN_NODE_C_LINK_OPENED = 0,
	TN_NODE_C_LINK_SLOTS_FULL, /* link_open refused: TN_NODE_LINKS_MAX */
	TN_NODE_C_LINK_UP,
	TN_NODE_C_LINK_NOT_MEMBER,   /* peer static key not an active member: closed */
	TN_NODE_C_LINK_DUPLICATE,    /* second link to one member: closed */
	TN_NODE_C_LINK_INBOUND_FULL, /* over max_inbound: closed */
	TN_NODE_C_LINK_PROTO,        /* peer sent a bad digest/want: closed */
	TN_NODE_C_DIAL,
	TN_NODE_C_DIAL_FAILED,
	TN_NODE_C_ALERT_RX,        /* ALERT messages received */
	TN_NODE_C_ALERT_RX_PULLED, /* ... of which answers to our WANT */
	TN_NODE_C_ALERT_TX,        /* ALERT messages sent */
	TN_NODE_C_ALERT_TX_PRIO,   /* ... of which with priority */
	TN_NODE_C_STORE_FAILED,
	TN_NODE_C_INDEX_FULL, /* accepted alert dropped: index full */
	TN_NODE_C_EXPIRED,    /* alerts removed at expiry */
	TN_NODE_C_CONFLICT,
	TN_NODE_C_NOTIFY_UNREADABLE, /* NOTIFY without plaintext */
	TN_NODE_C_DIGEST_TX,
	TN_NODE_C_DIGEST_RX,
	TN_NODE_C_DIGEST_MERGED,  /* ranges merged to fit TN_DIGEST_RANGES_MAX */
	TN_NODE_C_WANT_TX,        /* ranges asked for */
	TN_NODE_C_WANT_RX,        /* ranges asked of us */
	TN_NODE_C_WANT_SERVED,    /* alerts queued in answer */
	TN_NODE_C_ROSTER_IGNORED, /* ROSTER messages: not handled yet */
	TN_NODE_C_EVENTS_DROPPED, /* event queue full: alert dropped before store */
	TN_NODE_C_ROSTER_RX,       /* ROSTER records received (roster mode) */
	TN_NODE_C_ROSTER_ACCEPTED, /* ... accepted, with the held ones they released */
	TN_NODE_C_ROSTER_REFUSED,  /* ... refused (the roster counts each reason) */
	TN_NODE_C_ROSTER_TX,       /* ROSTER records sent */
	TN_NODE_C_HEADS_TX,        /* ROSTER_HEADS messages sent */
	TN_NODE_C_HEADS_RX,
	TN_NODE_C_LINK_REVOKED,    /* up link closed: its member was revoked */
	TN_NODE_C_JOIN_ACCEPTED,   /* coordinator: a newcomer admitted */
	TN_NODE_C_JOIN_BAD_SIG,    /* JOIN signature or link key does not match */
	TN_NODE_C_JOIN_INVITE,     /* JOIN whose invite could not be redeemed (used, expired) */
	TN_NODE_C_JOIN_EXISTS,     /* JOIN by an identity already admitted */
	TN_NODE_C_JOIN_REFUSED,    /* JOIN we cannot admit (not a coordinator now, roster full) */
	TN_NODE_C_JOIN_WRONG_LINK, /* JOIN on a normal link: closed */
	TN_NODE_C_JOIN_LINK_PROTO, /* anything but JOIN / ROSTER on a join link: closed */
	TN_NODE_C_JOIN_TIMEOUT,    /* join link idle too long: closed */
	TN_NODE_C_JOIN_FAILED,     /* joiner: an attempt failed */
	TN_NODE_C_HEADS_LIMITED,   /* a peer's heads round ignored: too soon after the last */
	TN_NODE_C_DIALBACK_ASKED,   /* DIALBACK requests we sent */
	TN_NODE_C_DIALBACK_SERVED,  /* dial-backs we ran for others (DIALBACK events) */
	TN_NODE_C_DIALBACK_REFUSED, /* requests answered LIMITED or NO_ENDPOINT */
	TN_NODE_C_DIALBACK_STRAY,   /* results that answered no question of ours */
	TN_NODE_C_IHAVE_TX,         /* alert ids announced in IHAVE messages */
	TN_NODE_C_IHAVE_RX,         /* alert ids received in IHAVE messages */
	TN_NODE_C_IHAVE_DROPPED,    /* announced ids not tracked: missing table full */
	TN_NODE_C_GRAFT_TX,         /* alert ids asked for in GRAFT messages */
	TN_NODE_C_GRAFT_RX,         /* alert ids asked of us in GRAFT messages */
	TN_NODE_C_GRAFT_SERVED,     /* ... that we held and queued */
	TN_NODE_C_PRUNE_TX,         /* PRUNE sent: a pushed duplicate on an eager link */
	TN_NODE_C_PRUNE_RX,
	/* docs/node.md "Bad signatures and quarantine" */
	TN_NODE_C_LINK_BAD_SIG_CLOSED, /* up link closed: its peer sent too many bad signatures */
	TN_NODE_C_QUARANTINED,         /* members put in quarantine (each time) */
	TN_NODE_C_QUARANTINE_REFUSED,  /* message 1s, links, link_opens refused: in quarantine */
	TN_NODE_C_COUNT
} tn_node_counter;

/* Receipt outcomes, one counter each. */
typedef enum tn_receipt_reason {
	TN_RECEIPT_SENT = 0,  /* we signed one for an alert we stored */
	TN_RECEIPT_ACCEPTED,  /* for our own alert, new receiver: RECEIPT event */
	TN_RECEIPT_FORWARDED, /* relayed along our reverse path */
	TN_RECEIPT_FALLBACK,  /* reverse link gone or unknown: sent on other links */
	TN_RECEIPT_DUPLICATE, /* (alert, receiver) seen already */
	TN_RECEIPT_MALFORMED, /* not a strict receipt */
	TN_RECEIPT_WRONG_NETWORK,
	TN_RECEIPT_UNKNOWN_RECEIVER, /* receiver not an active member */
	TN_RECEIPT_BAD_SIGNATURE,
	TN_RECEIPT_HOPS_EXCEEDED, /* nowhere left to send it within the hop limit */
	TN_RECEIPT_WANTED_SENT,    /* author: receipts-wanted notes issued */
	TN_RECEIPT_WANTED_RX,      /* a new note from an author, verified and relayed */
	TN_RECEIPT_WANTED_DROPPED, /* note malformed, stale, too soon, unknown alert, bad sig */
	TN_RECEIPT_RESENT,         /* our receipt signed again: a note listed us */
	TN_RECEIPT_REASON_COUNT
} tn_receipt_reason;

typedef struct tn_node_stats {
	uint64_t node[TN_NODE_C_COUNT];
	uint64_t alert[TN_ALERT_REASON_COUNT]; /* alert module reasons, pushed + pulled */
	uint64_t receipt[TN_RECEIPT_REASON_COUNT];
	tn_link_stats link;
	size_t links_up;
	size_t alerts_held;
} tn_node_stats;

void tn_node_stats_get(const tn_node *node, tn_node_stats *st);
const char *tn_node_counter_name(tn_node_counter c);
const char *tn_receipt_reason_name(tn_receipt_reason r);

/* ---- Roster, invites and joining (docs/node.md "Roster gossip", docs/roster.md
 * "Joining") -------------------------------------------------------------- */

/* The node's roster in roster mode (to query, and to make records with
 * tn_roster_make_* before tn_node_roster_submit), NULL otherwise (static
 * membership, or still joining). Valid until tn_node_del. Records must
 * enter through tn_node_roster_submit/_load, never tn_roster_add_record
 * directly (the node would not gossip them). */
tn_roster *tn_node_roster_get(tn_node *node);

/* True while the node is joining (created from an invite, not admitted yet). */
bool tn_node_is_joining(const tn_node *node);

/* Put back a record the store holds (a STORE_ROSTER of an earlier run), in
 * the order they were stored. No event, nothing sent. Returns TN_OK
 * (accepted or held), TN_ERR_EXISTS (duplicate, e.g. the genesis),
 * TN_ERR_PROTO (refused: drop it from the store), TN_ERR_STATE (not in
 * roster mode), TN_ERR_NOMEM (fatal). */
TN_NODISCARD tn_err tn_node_roster_load(tn_node *node, const uint8_t *rec, size_t len,
                                        uint64_t wall_ms);

/* A record made here (tn_roster_make_* on tn_node_roster_get()) or handed in
 * by the caller: checked like one from a peer; accepted -> STORE_ROSTER and
 * sent to every up link; links of members it revoked are closed at once.
 * *why (may be NULL) gets the roster's reason. Returns TN_OK (accepted),
 * TN_ERR_AGAIN (held), TN_ERR_EXISTS (duplicate), TN_ERR_PROTO (refused),
 * TN_ERR_STATE (not in roster mode), TN_ERR_NOMEM (fatal). */
TN_NODISCARD tn_err tn_node_roster_submit(tn_node *node, const uint8_t *rec, size_t len,
                                          tn_time now, uint64_t wall_ms, tn_roster_reason *why);

/* Revoke subject (DESIGN §5: revoke + rekey): makes the revoke record and
 * every rekey part as this node, submits each. Returns TN_OK, TN_ERR_STATE
 * (not roster mode, or we are not an active coordinator), TN_ERR_NOTFOUND
 * (subject not an active member), TN_ERR_INVAL, TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_node_revoke(tn_node *node, const tn_pubkey *subject, tn_view reason,
                                   tn_time now, uint64_t wall_ms);

/* Make an invite as this node (an active coordinator in roster mode) for
 * the client to render (tn_invite_to_code), and remember it in the node's
 * book (at most TN_INVITE_BOOK_MAX outstanding). endpoints: 1..4 of our own
 * addresses. expires at wall_ms + ttl_ms (TN_INVITE_TTL_DEFAULT_MS when 0).
 * role: what the newcomer becomes. *out holds the secret: wipe it
 * (tn_invite_wipe) once rendered. Returns TN_OK, TN_ERR_STATE (not an
 * active coordinator), TN_ERR_INVAL, TN_ERR_LIMIT (book full). */
TN_NODISCARD tn_err tn_node_invite_create(tn_node *node, const tn_view *endpoints,
                                          size_t nendpoints, uint8_t role, uint64_t ttl_ms,
                                          uint64_t wall_ms, tn_invite *out);

/* The invite book (secrets: persist as securely as the keystore), and
 * restoring it after a restart (copied). */
const tn_invite_book *tn_node_invite_book(const tn_node *node);
void tn_node_invite_book_set(tn_node *node, const tn_invite_book *book);

/* ---- Reachability: dial-back checks (docs/node.md "Reachability") -------- */

enum {
	TN_DIALBACK_PROBES_MAX = 4,  /* dial-backs we run for others at once */
	TN_DIALBACK_ASKERS = 32,     /* askers remembered for the rate limit */
};
/* One dial-back per asker per this long (a refusal answered LIMITED). */
#define TN_DIALBACK_INTERVAL (60 * TN_SEC)

/* Ask one up link's member (a random one other than the last asked when
 * there is another; `via` to choose) to dial us back
 * at the endpoint of our own roster record. The answer comes as a
 * REACHABILITY event (member = who checked); at most one question is
 * outstanding: a new one replaces it (the old answer is then a stray).
 * *asked (may be NULL) gets the member asked. Returns TN_OK, TN_ERR_STATE
 * (no up link, or still joining), TN_ERR_NOTFOUND (via has no up link),
 * TN_ERR_LIMIT (the link's queue is full). */
TN_NODISCARD tn_err tn_node_dialback_ask(tn_node *node, const tn_pubkey *via, tn_time now,
                                         uint64_t wall_ms, tn_pubkey *asked);

/* For a DIALBACK event: a new initiator tn_link (started; the caller owns
 * it: tn_link_del) whose handshake succeeds only if the responder holds the
 * asker's link static key as the roster has it now. ESTABLISHED from it
 * means OK: close the socket then, without writing what the link queued
 * after it (message 3), so the asker never gets a second link to us.
 * Returns TN_OK, TN_ERR_NOTFOUND (unknown probe, or the asker is no longer
 * a member), TN_ERR_STATE (no link PSK), TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_node_dialback_link(tn_node *node, uint64_t probe_id, tn_time now,
                                          uint64_t wall_ms, tn_link **out);

/* The dial-back of probe_id finished with result (TN_DIALBACK_OK,
 * _NO_CONNECT or _HANDSHAKE; _NO_ENDPOINT: her endpoint was not dialed, the
 * daemon refuses its address's scope): sent to the asker if her link is still up;
 * the probe is forgotten either way. TN_ERR_NOTFOUND: unknown probe;
 * TN_ERR_INVAL: bad result. */
TN_NODISCARD tn_err tn_node_dialback_done(tn_node *node, uint64_t probe_id, uint8_t result,
                                          tn_time now);

const char *tn_dialback_result_name(uint8_t result);

/* Receipt signatures: Ed25519 by the receiver over this context followed by
 * the receipt's signed range (docs/node.md). */
#define TN_RECEIPT_SIG_CONTEXT "tocsin/1 receipt"
enum { TN_RECEIPT_SIG_CONTEXT_LEN = sizeof TN_RECEIPT_SIG_CONTEXT - 1 };
#define TN_RWANT_SIG_CONTEXT "tocsin/1 receipts wanted"
enum { TN_RWANT_SIG_CONTEXT_LEN = sizeof TN_RWANT_SIG_CONTEXT - 1 };

#endif
