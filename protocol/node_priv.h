/* tn_node internals shared by node*.c, gossip.c and receipt.c (private). */
#ifndef TOCSIN_NODE_PRIV_H
#define TOCSIN_NODE_PRIV_H

#include "tocsin/node.h"
#include "tocsin/node_roster.h"
#include "tocsin/ratelimit.h"

enum {
	/* Node-level bytes kept in a link's own queue: the node moves more
	 * in only as it drains, so queued alerts stay in the index (no copy
	 * per link) and a panic queued later overtakes everything not yet
	 * handed to the link. */
	NODE_LINK_WATERMARK = 64 * 1024,
	NODE_WANTS_KEPT = 1024,  /* outstanding want ranges remembered per link */
	NODE_EVENTS_MAX = 65536, /* queued events; beyond, new alerts are dropped */
	NODE_RSEEN_WAYS = 4,
	NODE_RSEEN_SETS = 4096, /* receipt dedupe: 16 384 (alert, receiver) pairs */
	NODE_MISS_MAX = 1024,   /* lazy push: announced alerts we wait for */
	/* docs/node.md "Bad signatures and quarantine" */
	NODE_BADSIG_MAX = 8,     /* bad signatures within NODE_BADSIG_WINDOW: close */
	NODE_QUARANTINE_MAX = 32, /* members remembered in (or after) quarantine */
	NODE_QUARANTINE_SHIFT_MAX = 4, /* 10 min doubling: at most 160 min */
};

#define NODE_BADSIG_WINDOW      TN_MIN
#define NODE_QUARANTINE_BASE    (10 * TN_MIN)
#define NODE_QUARANTINE_FORGET  (24 * 60 * TN_MIN) /* strikes forgotten after a clean day */

/* A member whose own link carried too many bad signatures: her links are
 * refused and she is not dialed until `until` (node_quarantine.c). */
typedef struct quarantine_entry {
	bool used;
	uint8_t strikes; /* quarantines within NODE_QUARANTINE_FORGET of each other */
	tn_pubkey member;
	tn_time until;
	tn_time last; /* the last strike */
} quarantine_entry;

/* Lazy push: an alert some peers announced (IHAVE) that we do not hold.
 * GRAFT to one announcer when due, then wait again for the next. */
typedef struct miss_entry {
	uint8_t id[TN_ALERT_ID];
	uint64_t from; /* link slots that announced it and were not asked yet */
	tn_time due;
} miss_entry;

typedef enum alert_state {
	AS_FREE = 0,
	AS_PENDING, /* STORE_ALERT emitted, waiting for tn_node_stored */
	AS_STORED,
} alert_state;

enum alert_flags {
	AF_OWN = 1,
	AF_NOTIFIED = 2,
	AF_RECEIPTED = 4,
	AF_RECEIPT_OWED = 8, /* loaded without RECEIPTED: send on next link up */
	AF_NEVER_SENT = 16,  /* stored while no link was up */
	AF_HELD = 32,        /* own alert over our own budget: push at its pace time */
	AF_RESTORED = 64,    /* own alert loaded at start: tn_node_pace_restore */
};
/* Our receipt for an alert: signed and in some link's batch or link queue
 * (alert_entry.rpend bits); AF_RECEIPTED once one link has handed out
 * every byte up to it; re-sent from scratch if every such link goes away
 * first (AF_RECEIPT_OWED when no link is up). */

typedef struct alert_entry {
	uint8_t state; /* alert_state */
	uint8_t flags; /* alert_flags */
	uint8_t kind;
	uint32_t gen; /* bumped at free: stale queue references see it */
	uint8_t id[TN_ALERT_ID];
	tn_pubkey author;
	uint64_t seq;
	uint64_t created_ms, expires_ms;
	uint8_t *env;
	size_t len;
	uint64_t src_link; /* link it first came in on (0: own or loaded) */
	uint64_t known;    /* link slots known to hold it (sent or received) */
	uint64_t queued;   /* link slots with it in their node queue */
	uint64_t rpend;    /* link slots holding our receipt, not yet handed out */
	tn_pubkey *rcv;    /* own alerts: receivers, arrival order */
	size_t nrcv, rcvcap;
	uint64_t rw_ms; /* receipts-wanted: issued_ms of the newest note (sent or relayed) */
	uint8_t rw_k;   /* own alerts: notes due so far (schedule index) */
	uint8_t *rw_rec; /* that note's record, passed on to every link that comes up */
	size_t rw_len;
} alert_entry;

/* Open addressing over entry indices (+1; 0 is empty), SipHash-keyed. */
typedef struct idx_table {
	uint32_t *t;
	size_t mask;
} idx_table;

typedef struct qref {
	uint32_t slot, gen;
} qref;

typedef struct qring {
	qref *q;
	size_t cap, head, n;
} qring;

typedef enum nl_state {
	NL_FREE = 0,
	NL_HANDSHAKE,
	NL_UP,
	NL_CLOSING, /* CLOSE seen; waiting for tn_node_link_closed */
	NL_JOIN,    /* established under an invite's join PSK: JOIN and ROSTER only */
} nl_state;

enum {
	NODE_JOIN_LINK_TIMEOUT = 60, /* s: a join link must finish within this */
	NODE_ROSTER_QUEUE_MAX = 1 << 17, /* = TN_ROSTER_RECORDS_MAX */
};

typedef enum join_state {
	NJ_NONE = 0, /* static membership or roster mode */
	NJ_JOINING,  /* created from an invite, no roster yet */
} join_state;

typedef struct node_link {
	uint8_t state; /* nl_state */
	tn_noise_role role;
	uint64_t id;
	tn_link *link;
	bool has_member;
	tn_pubkey member;
	tn_linkpub remote;
	bool initiator_lower; /* dedupe: initiator's link pk < responder's */
	tn_time up_at;
	/* node-level output */
	qring prio, normal;
	/* receipts batch */
	uint8_t *rbuf; /* TN_RECEIPTS_PER_MSG * TN_RECEIPT_MAX */
	uint8_t rlen[TN_RECEIPTS_PER_MSG]; /* each <= TN_RECEIPT_MAX (163) */
	uint8_t rhops[TN_RECEIPTS_PER_MSG];
	size_t nr;
	tn_time rflush_at;
	/* our own receipts in the batch or the link's queue: [0, own_out)
	 * flushed into the link, [own_out, own_n) still in the batch */
	qref *own;
	size_t own_n, own_cap, own_out;
	/* digest round going out: next author (exclusive), part numbering */
	bool dg_active;
	bool dg_started;
	uint8_t dg_after[TN_PUBKEY];
	uint16_t dg_part, dg_parts;
	tn_time dg_sent_at; /* last round started to this peer (TN_TIME_NEVER: none) */
	/* lazy push (docs/node.md "Lazy push"): we send lazily (IHAVE) on
	 * this link instead of pushing; ids waiting for the next IHAVE */
	bool lazy;
	uint8_t *ih; /* TN_IHAVE_PER_MSG ids, allocated at the first */
	size_t ih_n;
	bool ih_prio; /* an urgent alert among them */
	tn_time ih_at;
	/* wants outstanding (ring) */
	tn_want *wants;
	size_t wn, whead;
	/* roster gossip (node_join.c) */
	uint8_t hs_hash[TN_NOISE_HASH]; /* channel binding for JOIN */
	tn_pubkey hello_id;             /* responder, join link: the identity message 1 claimed */
	tn_time join_deadline;          /* NL_JOIN: close after */
	bool join_seen;                 /* coordinator: JOIN received on this link */
	bool join_done;                 /* coordinator: close once everything is out */
	uint32_t *rq;                   /* roster records to push (acceptance indices) */
	size_t rq_cap, rq_head, rq_n;
	tn_roster_head *ph; /* the peer's heads, accumulating over a round's parts */
	size_t ph_n, ph_cap;
	bool ph_done; /* the last part of a round arrived */
	bool rs_active; /* sending what the peer's heads lack, from rs_pos */
	size_t rs_pos;
	size_t rs_heads;       /* ph entries of the round being served */
	tn_time rs_started_at; /* last heads round served (TN_TIME_NEVER: none) */
	bool hd_active; /* our heads going out, from member hd_pos */
	size_t hd_pos;
	tn_time hd_sent_at;
	/* bad signatures from this peer (node_quarantine.c) */
	tn_time bs_since; /* start of the current window */
	uint8_t bs_n;
} node_link;

/* An own alert whose push waits for our own budget (node_pace.c). */
typedef struct pace_item {
	uint32_t slot, gen;
	tn_time at; /* push due (monotonic) */
} pace_item;

/* Receivers judge a pushed alert on their arrival clock, later than ours:
 * a held alert leaves this long after our bucket has refilled. */
#define NODE_PACE_MARGIN (2 * TN_SEC)

typedef struct peer_state {
	bool used;
	bool dialing;
	bool use_prev_psk; /* retry under the other epoch's PSK (DESIGN §5) */
	tn_pubkey id;
	tn_time backoff;
	tn_time next_at;
	tn_time dial_deadline;
	unsigned ep_idx;
} peer_state;

typedef struct ev_item {
	uint8_t type;
	uint64_t link_id;
	tn_time close_at;
	tn_pubkey member;
	uint8_t alert_id[TN_ALERT_ID];
	uint8_t other_id[TN_ALERT_ID];
	uint8_t *blob; /* DIAL endpoint, CONFLICT evidence: owned */
	size_t bloblen;
	uint8_t kind;
	uint64_t seq;
	uint64_t stored_ms;
	size_t delivered;
	uint32_t slot, gen; /* STORE_ALERT, NOTIFY */
	tn_err err;         /* JOIN_FAILED */
	uint64_t probe_id;  /* DIALBACK */
} ev_item;

/* A dial-back we run for an asker (node_reach.c). */
typedef struct reach_probe {
	uint64_t id; /* 0: free */
	uint64_t link_id; /* the asker's link, where the result goes */
	uint64_t nonce;
	tn_pubkey member;
} reach_probe;

typedef struct reach_asker {
	tn_pubkey member;
	tn_time at; /* last dial-back started for her */
	bool used;
} reach_asker;

struct tn_node {
	tn_node_config cfg;
	const tn_pubkey *self;
	const tn_linkpub *self_link;
	uint8_t hashkey[16]; /* SipHash key for the tables */

	/* alert index */
	alert_entry *alerts;
	size_t nalerts;
	uint32_t *freelist;
	size_t nfree;
	idx_table by_id, by_seq;
	uint32_t *sorted; /* entries by (author, seq); rebuilt when dirty */
	size_t nsorted;
	bool sorted_dirty;
	/* At most the earliest expires_ms of the AS_STORED entries (UINT64_MAX:
	 * none): lowered when an entry is stored, made exact by the next
	 * tn_node_index_gc scan. Removing an entry leaves it low, which can
	 * only make the expiry deadline early (a tick that runs gc), never
	 * late, and spares a scan of the whole index at every deadline. */
	uint64_t exp_min;

	/* checking */
	tn_ratelimit *rl_push, *rl_pull;
	/* pacing our own pushes (node_pace.c): our budget per class, the push
	 * time of the last alert held per class, the held alerts (creation
	 * order) */
	tn_bucket pace_b[TN_RATELIMIT_CLASSES_MAX];
	tn_time pace_tail[TN_RATELIMIT_CLASSES_MAX];
	pace_item *held;
	size_t nheld, held_cap;
	bool pace_restore; /* own alerts loaded: schedule them at the next tick */
	tn_alert_ctx ctx;

	/* links */
	node_link links[TN_NODE_LINKS_MAX];
	uint64_t next_link_id;
	size_t rr; /* poll_write round robin */
	tn_replay_cache *replay;
	tn_link_stats lstats;

	/* overlay */
	peer_state *peers;
	size_t npeers_max;

	/* timers */
	tn_time ae_at;
	bool maint_due; /* overlay maintenance wanted at the next tick */
	tn_time last_now;
	uint64_t last_wall;
	uint64_t rw_due_ms; /* wall ms of the next receipts-wanted note due, UINT64_MAX: none */

	/* lazy push: announced alerts we lack (gossip.c) */
	miss_entry *miss;
	size_t nmiss, miss_cap;

	/* receipts dedupe */
	/* receipt dedupe (receipt.c): rseen_sets sets of NODE_RSEEN_WAYS keys,
	 * allocated at the first receipt and doubled up to NODE_RSEEN_SETS as
	 * it fills */
	uint64_t (*rseen)[NODE_RSEEN_WAYS];
	uint8_t *rseen_next;
	size_t rseen_sets, rseen_adds;

	/* events */
	ev_item *evq;
	size_t evcap, evhead, evn;
	uint8_t *ev_blob; /* blob of the event last handed out */
	uint8_t *pt_buf;  /* NOTIFY plaintext, wiped at the next call */
	uint8_t *scratch; /* TN_LINK_PLAINTEXT_MAX: encoding a link message */
	bool pt_live;

	uint64_t ctr[TN_NODE_C_COUNT];
	uint64_t rctr[TN_RECEIPT_REASON_COUNT];

	/* roster mode and joining (node_join.c) */
	tn_roster *roster; /* owned; NULL: static membership or joining */
	tn_node_roster ra; /* the membership adapter over it */
	uint8_t *rec_buf;  /* TN_ROSTER_RECORD_MAX: records made here */
	tn_invite_book book;
	uint8_t join_state; /* join_state */
	tn_invite invite;
	uint8_t join_name[TN_NAME_MAX];
	size_t join_name_len;
	tn_time join_next_at; /* joiner: next dial (TN_TIME_NEVER: dialing) */
	tn_time join_backoff;
	tn_time join_dial_deadline;
	unsigned join_ep;
	bool join_coord_known; /* after joining: the coordinator's invite endpoints */
	tn_pubkey join_coord;

	/* reachability (node_reach.c) */
	reach_probe probes[TN_DIALBACK_PROBES_MAX];
	uint64_t next_probe_id;
	reach_asker askers[TN_DIALBACK_ASKERS];
	bool ask_pending;
	bool ask_asked; /* ask_member holds the member asked last */
	uint64_t ask_nonce;
	tn_pubkey ask_member;

	/* bad-signature quarantine (node_quarantine.c) */
	quarantine_entry quar[NODE_QUARANTINE_MAX];
};

/* node.c */
void tn_node_log(const tn_node *n, int level, const char *msg, const char *tail);
uint64_t tn_node_rand_u64(tn_node *n);
tn_time tn_node_jitter(tn_node *n, tn_time base, unsigned pct_lo, unsigned pct_hi);
bool tn_node_ev_push(tn_node *n, const ev_item *it);
void tn_node_clock(tn_node *n, tn_time now, uint64_t wall_ms);
/* Own alerts: add a receiver; false when already there or no memory. */
bool tn_node_add_receiver(alert_entry *a, const tn_pubkey *r);

/* node_pace.c: pacing our own pushes (docs/node.md "Pacing our own
 * alerts"). Room for one more held alert (false: no memory). */
bool tn_node_pace_reserve(tn_node *n);
/* When an own alert of kind created at now may be pushed (now: at once).
 * Spends the token from our own bucket at that time and, when later than
 * now, remembers a as held (AF_HELD); call after reserve succeeded. */
tn_time tn_node_pace(tn_node *n, alert_entry *a, tn_time now);
/* After loading our own stored alerts (AF_RESTORED): rebuild our buckets
 * from their creation times and hold again what was held or may never
 * have left (docs/node.md "Pacing after a restart"). Runs once, before
 * the first tick or own alert after the loads. */
void tn_node_pace_restore(tn_node *n, tn_time now, uint64_t wall_ms);
/* The held alert's push time, 0 when a is not held. */
tn_time tn_node_pace_at(const tn_node *n, const alert_entry *a);
tn_time tn_node_pace_deadline(const tn_node *n);
/* Push the held alerts that are due. */
void tn_node_pace_tick(tn_node *n, tn_time now, uint64_t wall_ms);
void tn_node_pace_free(tn_node *n);

/* node_index.c */
tn_err tn_node_index_init(tn_node *n);
void tn_node_index_free(tn_node *n);
alert_entry *tn_node_index_find(const tn_node *n, const uint8_t id[TN_ALERT_ID]);
alert_entry *tn_node_index_find_seq(const tn_node *n, const tn_pubkey *author, uint64_t seq);
/* Insert a copy of env; NULL when full (TN_ERR_LIMIT) or out of memory. */
tn_err tn_node_index_add(tn_node *n, const uint8_t *env, size_t len, const tn_alert_env *e,
                         const uint8_t id[TN_ALERT_ID], alert_entry **out);
void tn_node_index_remove(tn_node *n, alert_entry *a);
/* AS_PENDING -> AS_STORED, keeping exp_min. */
void tn_node_index_set_stored(tn_node *n, alert_entry *a);
uint32_t tn_node_index_slot(const tn_node *n, const alert_entry *a);
alert_entry *tn_node_index_ref(const tn_node *n, qref r);
/* Entries sorted by (author, seq), all states. */
void tn_node_index_sort(tn_node *n);
/* First position in sorted with (author, seq) >= (a, s). */
size_t tn_node_index_lower(const tn_node *n, const uint8_t a[TN_PUBKEY], uint64_t s);
void tn_node_index_gc(tn_node *n, uint64_t wall_ms);
uint64_t tn_node_index_next_expiry(const tn_node *n);
void tn_node_index_forget_link(tn_node *n, size_t slot);
tn_alert_ops tn_node_alert_ops(void);

/* node_link.c */
node_link *tn_node_link_find(tn_node *n, uint64_t id);
size_t tn_node_link_slot(const tn_node *n, const node_link *l);
void tn_node_links_maintain(tn_node *n, tn_time now);
tn_time tn_node_links_deadline(const tn_node *n);
void tn_node_link_drain(tn_node *n, node_link *l, tn_time now, uint64_t wall_ms);
void tn_node_link_kill(tn_node *n, node_link *l, uint8_t reason, tn_time now, uint64_t wall_ms);
void tn_node_link_tick(tn_node *n, tn_time now, uint64_t wall_ms);
void tn_node_peers_wake(tn_node *n, tn_time now);

/* node_quarantine.c (docs/node.md "Bad signatures and quarantine"): an
 * alert or roster record with a bad signature arrived on up link l (a
 * verdict, not a receipt: relays forward receipts unverified). At
 * NODE_BADSIG_MAX within NODE_BADSIG_WINDOW the link is closed and its
 * member quarantined; l may be closing on return. */
void tn_node_bad_sig(tn_node *n, node_link *l, tn_time now, uint64_t wall_ms);
/* End of m's quarantine, 0 when she is not in one at now. */
tn_time tn_node_quarantine_until(const tn_node *n, const tn_pubkey *m, tn_time now);

/* node_reach.c: DIALBACK and DIALBACK_RESULT on an up link. */
void tn_node_reach_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now);
/* node_link.c: an initiator link config expecting `expected` (wipe with
 * tn_node_link_config_wipe). */
tn_err tn_node_link_config_initiator(tn_node *n, const tn_linkpub *expected, tn_link_config *c);
void tn_node_link_config_wipe(tn_link_config *c);

/* gossip.c */
void tn_node_gossip_message(tn_node *n, node_link *l, const uint8_t *msg, size_t len, tn_time now,
                            uint64_t wall_ms);
void tn_node_gossip_link_up(tn_node *n, node_link *l, tn_time now);
void tn_node_gossip_stored(tn_node *n, alert_entry *a, tn_time now);
void tn_node_pump(tn_node *n, node_link *l, tn_time now);
void tn_node_digest_start(tn_node *n, node_link *l, tn_time now);
void tn_node_qring_free(qring *q);
void tn_node_anti_entropy(tn_node *n, tn_time now);
/* lazy push: IHAVE flushes and GRAFT timeouts */
tn_time tn_node_lazy_deadline(const tn_node *n);
void tn_node_lazy_tick(tn_node *n, tn_time now);
/* l's slot is being freed: drop its IHAVE batch and announcements. */
void tn_node_lazy_link_gone(tn_node *n, node_link *l);

/* receipt.c */
void tn_node_receipt_own(tn_node *n, alert_entry *a, uint64_t wall_ms, tn_time now,
                         node_link *only);
void tn_node_receipts_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now,
                              uint64_t wall_ms);
void tn_node_receipts_flush(tn_node *n, node_link *l, tn_time now);
tn_time tn_node_receipts_deadline(const tn_node *n);
/* After tn_link_out on l: our receipts the link has fully handed out
 * become RECEIPTED. */
void tn_node_receipts_link_out(tn_node *n, node_link *l);
/* l is going away (state no longer NL_UP): our receipts it had not handed
 * out are sent again on other links, or owed to the next link up. */
void tn_node_receipts_link_gone(tn_node *n, node_link *l, tn_time now);

/* node_join.c: roster gossip and joining */
/* Before validation: a joining or roster-mode config gets its network id
 * and placeholder membership ops. */
void tn_node_cfg_prepare(tn_node_config *c);
tn_err tn_node_roster_setup(tn_node *n, const tn_node_config *cfg);
void tn_node_join_dial_failed(tn_node *n, tn_time now);
void tn_node_join_opened(tn_node *n);
void tn_node_roster_teardown(tn_node *n);
void tn_node_roster_link_free(node_link *l);
/* Link configs: join PSKs for a responder (coordinator with invites). */
void tn_node_join_psks(tn_node *n, tn_link_config *c);
/* Joiner: link config of the join link (initiator). */
tn_err tn_node_join_link_config(tn_node *n, tn_link_config *c);
/* ESTABLISHED under a join PSK (either side): becomes NL_JOIN. */
void tn_node_join_established(tn_node *n, node_link *l, const tn_link_event *ev, tn_time now,
                              uint64_t wall_ms);
void tn_node_join_message(tn_node *n, node_link *l, const uint8_t *msg, size_t len, tn_time now,
                          uint64_t wall_ms);
void tn_node_join_pump(tn_node *n, node_link *l, tn_time now);
void tn_node_join_link_closed(tn_node *n, node_link *l, tn_err err, tn_time now);
void tn_node_join_tick(tn_node *n, tn_time now, uint64_t wall_ms);
tn_time tn_node_join_deadline(const tn_node *n);
/* Normal links (NL_UP). */
void tn_node_roster_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now,
                            uint64_t wall_ms);
void tn_node_heads_message(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now);
/* The peer's digest carried this roster digest: start our heads if ours
 * differs. */
void tn_node_roster_digest_seen(tn_node *n, node_link *l, const uint8_t digest[TN_HASH],
                                tn_time now);
/* Move roster work (pushed records, heads, records the peer lacks) into
 * the link; true when something was sent. */
bool tn_node_roster_pump(tn_node *n, node_link *l, tn_time now);
bool tn_node_roster_pending(const node_link *l);

/* node send helper: encode a link message and queue it (normal). */
void tn_node_rseen_free(tn_node *n);
/* receipts-wanted notes (receipt.c, docs/node.md "Receipts: resend") */
void tn_node_rwant_schedule(tn_node *n, const alert_entry *a);
tn_time tn_node_rwant_deadline(const tn_node *n);
void tn_node_rwant_tick(tn_node *n, tn_time now, uint64_t wall_ms);
/* A held own alert was pushed at last: its notes start from the first one
 * not yet due (those due while it was held would ask for nothing). */
void tn_node_rwant_released(tn_node *n, alert_entry *a, uint64_t wall_ms);
void tn_node_rwant_link_up(tn_node *n, node_link *l, const alert_entry *a, tn_time now);
void tn_node_rwant_message(tn_node *n, node_link *l, const tn_view *rec, tn_time now,
                           uint64_t wall_ms);
tn_err tn_node_send_msg(tn_node *n, node_link *l, const tn_link_msg *m, bool prio, tn_time now);

#endif
