/* tocsind persistent store: one SQLite database in WAL mode (DESIGN §8).
 *
 * Every write function commits before it returns: when it returns TN_OK the
 * row survives kill -9 and power loss (see the pragmas in store.c). Errors
 * from SQLite become tn_err codes and are logged once, here, with the
 * operation name:
 *   TN_ERR_BUSY    another connection holds the write lock past the busy
 *                  timeout; nothing was written; retry later
 *   TN_ERR_FULL    disk full or the page limit reached; nothing was written;
 *                  purge expired rows or free space, then retry
 *   TN_ERR_IO      I/O error from the OS; nothing was written
 *   TN_ERR_CORRUPT the file is damaged or not a database
 *   TN_ERR_SCHEMA  the file was written by a newer tocsind (open only)
 *   TN_ERR_INVAL   a caller-side argument is out of range
 *   TN_ERR_NOMEM   out of memory
 *   TN_ERR_INTERNAL a bug (bad SQL, misuse); fatal: close the store
 * A failed write is rolled back whole; rows committed before it are intact.
 *
 * Single-threaded: one td_store is used from the daemon's loop thread only.
 * Calls block for at most the busy timeout plus the fsyncs of one commit. */
#ifndef TD_STORE_H
#define TD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/limits.h"
#include "daemon_limits.h"
#include "log.h"

typedef struct td_store td_store;

typedef struct td_store_opts {
	unsigned busy_timeout_ms; /* 0 means TD_STORE_BUSY_TIMEOUT_MS */
} td_store_opts;

/* One stored alert. The envelope pointer is borrowed: for insert it must
 * stay valid during the call; rows handed to a td_alert_fn are valid only
 * during that callback. Times are wall-clock milliseconds since the epoch. */
typedef struct td_alert_row {
	uint8_t id[TN_ALERT_ID];        /* BLAKE2b-256 of the signed envelope */
	uint8_t author[TD_AUTHOR_LEN];  /* Ed25519 public key */
	uint64_t seq;                   /* <= INT64_MAX */
	unsigned kind;                  /* DESIGN §6 kinds, opaque to the store */
	int64_t created_ms;
	int64_t expires_ms;
	int64_t received_ms;
	const uint8_t *envelope;
	size_t envelope_len;            /* 1 .. TN_FRAME_MAX */
	bool notified;
	bool receipted; /* our receipt for it has left (list only; insert: false) */
} td_alert_row;

typedef enum td_insert_result {
	TD_INSERTED = 0,  /* new alert, committed */
	TD_DUPLICATE = 1, /* this exact alert (same id) was already stored */
	TD_CONFLICT = 2,  /* (author, seq) already stored with another envelope:
			   * evidence of a stolen key, kept in `conflicts` (one pair
			   * per (author, seq), within TD_CONFLICTS_*) */
} td_insert_result;

typedef void (*td_alert_fn)(void *ud, const td_alert_row *row);

typedef struct td_peer_row {
	uint8_t link_pk[TD_LINK_PK_LEN]; /* X25519 link static key */
	const char *endpoint;            /* "tcp:host:port", <= TN_ENDPOINT_STR_MAX */
	int64_t last_seen_ms;
	uint32_t failures;
} td_peer_row;

/* Open (creating if needed) the database at path, set the pragmas and run
 * the schema migrations. log must outlive the store. opts may be NULL.
 * Returns TN_OK and *out, or one of the codes above (*out is NULL). */
TN_NODISCARD tn_err td_store_open(td_store **out, const char *path, td_log *log,
				  const td_store_opts *opts);

/* Finalize statements and close. NULL is fine. */
void td_store_close(td_store *s);

/* Schema version the open database is at (PRAGMA user_version). */
int td_store_schema_version(const td_store *s);
/* Schema version this program creates. */
int td_store_schema_latest(void);

/* Bound the database to `pages` pages (of 4096 bytes) for this connection:
 * writes past it fail with TN_ERR_FULL. A cap on disk use (a flooding
 * member must not fill the laptop's disk), also used by tests. */
TN_NODISCARD tn_err td_store_limit_pages(td_store *s, uint32_t pages);

/* Reserve the next alert sequence number of author: the increment is
 * committed before this returns, so a number handed out is never handed
 * out again, even after a crash (DESIGN §3). First seq is 1. */
TN_NODISCARD tn_err td_store_seq_reserve(td_store *s, const uint8_t author[TD_AUTHOR_LEN],
					 uint64_t *seq);

/* Store an alert (committed before return) and say whether it was new, a
 * duplicate or a conflict. *res is set only on TN_OK. */
TN_NODISCARD tn_err td_store_alert_insert(td_store *s, const td_alert_row *a,
					  td_insert_result *res);

/* Record that the user was notified of alert id, so a restart does not
 * notify again (THREAT-MODEL). TN_ERR_NOTFOUND if no such alert. */
TN_NODISCARD tn_err td_store_alert_mark_notified(td_store *s, const uint8_t id[TN_ALERT_ID]);

/* Call fn for up to max alerts with received_ms >= since_ms, oldest first
 * (ties by id). Returns the number of rows passed to fn, or an error. The
 * callback must not call back into the store. */
TN_NODISCARD tn_ssize td_store_alert_list(td_store *s, int64_t since_ms, size_t max,
					  td_alert_fn fn, void *ud);

/* Delete alerts with expires_ms <= now_ms and their receipts, and wipe the
 * envelopes of the conflicts whose first alert went, in one transaction
 * (secure_delete overwrites the freed pages: a seized laptop keeps no
 * alert content past its expiry). Returns the
 * number of alerts deleted, or an error. */
TN_NODISCARD tn_ssize td_store_purge_expired(td_store *s, int64_t now_ms);

/* The smallest expires_ms of the stored alerts: TN_OK, TN_ERR_NOTFOUND (no
 * alert), or a store error. */
TN_NODISCARD tn_err td_store_next_expiry(td_store *s, int64_t *out);

/* fn is called with the expires_ms of every alert inserted from now on
 * (after its commit), so the purge timer can move earlier. NULL: none. */
typedef void (*td_expiry_fn)(void *ud, int64_t expires_ms);
void td_store_on_alert_insert(td_store *s, td_expiry_fn fn, void *ud);

/* Insert or update a known peer. */
TN_NODISCARD tn_err td_store_peer_upsert(td_store *s, const td_peer_row *p);

/* Record that our receipt for alert id has left (RECEIPTED event), so a
 * restart does not send it again. TN_ERR_NOTFOUND if no such alert. */
TN_NODISCARD tn_err td_store_alert_mark_receipted(td_store *s, const uint8_t id[TN_ALERT_ID]);

/* A receiver stored one of our alerts (RECEIPT event): delivered k / N
 * survives a restart. A repeat is TN_OK (kept once). The signed receipt
 * bytes are not kept (the node does not hand them out). */
TN_NODISCARD tn_err td_store_receipt_insert(td_store *s, const uint8_t alert_id[TN_ALERT_ID],
					    const uint8_t receiver[TD_AUTHOR_LEN]);
typedef void (*td_receipt_fn)(void *ud, const uint8_t alert_id[TN_ALERT_ID],
			      const uint8_t receiver[TD_AUTHOR_LEN]);
/* Every stored receipt, in insertion order. Returns the count or an error. */
TN_NODISCARD tn_ssize td_store_receipt_list(td_store *s, td_receipt_fn fn, void *ud);

/* An accepted roster record (id = tn_roster_record_id). A repeat is TN_OK. */
TN_NODISCARD tn_err td_store_roster_insert(td_store *s, const uint8_t id[TN_HASH],
					   const uint8_t *bytes, size_t len, int64_t accepted_ms);
typedef void (*td_record_fn)(void *ud, const uint8_t *bytes, size_t len);
/* Every roster record in insertion (= acceptance) order, so replaying them
 * into a new tn_roster re-accepts all. Returns the count or an error. */
TN_NODISCARD tn_ssize td_store_roster_list(td_store *s, td_record_fn fn, void *ud);

/* A small named blob (the invite book). put replaces; get returns its
 * length, TN_ERR_NOTFOUND, TN_ERR_NOBUF (over cap), or a store error. */
TN_NODISCARD tn_err td_store_meta_put(td_store *s, const char *key, const uint8_t *value,
                                      size_t len);
TN_NODISCARD tn_ssize td_store_meta_get(td_store *s, const char *key, uint8_t *out, size_t cap);

/* When a member was last seen (a link with her up, or something she signed
 * arrived): kept as the maximum of every value put. list calls fn for each
 * stored member, in no particular order; returns the count or an error. */
TN_NODISCARD tn_err td_store_seen_put(td_store *s, const uint8_t member[TD_AUTHOR_LEN],
                                      int64_t seen_ms);
typedef void (*td_seen_fn)(void *ud, const uint8_t member[TD_AUTHOR_LEN], int64_t seen_ms);
TN_NODISCARD tn_ssize td_store_seen_list(td_store *s, td_seen_fn fn, void *ud);

/* Conflict pairs kept at most, per author and in all: one pair per
 * (author, seq) does not bound them, since a stolen key can sign a second
 * version of every seq it publishes (its budget lets about 11 a minute through, for
 * ever). The first ones are kept; node.conflict still counts them all. */
#define TD_CONFLICTS_PER_AUTHOR 8
#define TD_CONFLICTS_MAX        256

/* Equivocation seen by the node (TN_NODE_EV_CONFLICT): keep the stored
 * alert of (author, seq) and envelope, the other version the author signed,
 * (id: its alert id) as the pair of evidence, with seen_ms (Unix ms). One
 * pair per (author,
 * seq): the first is kept, later ones are ignored; nothing past the caps
 * above. Committed without its own fsync (like the bookkeeping writes).
 * Returns 1 when kept, 0 when a pair was already kept, the caps are
 * reached or no alert is stored under (author, seq) (or it is this very
 * envelope), or an error. */
TN_NODISCARD tn_ssize td_store_conflict_add(td_store *s, const uint8_t author[TD_AUTHOR_LEN],
                                            uint64_t seq, const uint8_t id[TN_ALERT_ID],
                                            const uint8_t *envelope, size_t len,
                                            int64_t seen_ms);

/* A kept conflict; the envelopes are valid only during the callback. Once
 * the first alert is purged (expired) both envelopes are wiped (length 0)
 * and the ids remain; a pair kept before schema 5 has no ids (has_ids
 * false: compute them from its envelopes, which it keeps). */
typedef struct td_conflict_row {
	uint8_t author[TD_AUTHOR_LEN];
	uint64_t seq;
	const uint8_t *envelope_a; /* the version stored first */
	size_t len_a;
	const uint8_t *envelope_b; /* the other one */
	size_t len_b;
	int64_t seen_ms; /* when the pair was kept; 0: unknown (kept before schema 4) */
	bool has_ids;
	uint8_t id_a[TN_ALERT_ID], id_b[TN_ALERT_ID];
} td_conflict_row;
typedef void (*td_conflict_fn)(void *ud, const td_conflict_row *c);
/* The newest max conflicts, oldest first. Returns the count passed to fn or
 * an error. The callback must not call back into the store. */
TN_NODISCARD tn_ssize td_store_conflict_list(td_store *s, size_t max, td_conflict_fn fn,
                                             void *ud);
/* How many conflicts are kept, or an error. */
TN_NODISCARD tn_ssize td_store_conflict_count(td_store *s);

#endif
