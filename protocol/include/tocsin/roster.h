/* Tocsin roster: the signed membership records of one network, and the
 * state folded from them (DESIGN §5; docs/roster.md is the specification).
 *
 * A tn_roster holds the accepted record set of one network (fixed by its
 * genesis record at creation). tn_roster_add_record() runs the per-record
 * checks - strict decode, network id, signature, chain linkage, standing -
 * and either accepts the record, holds it back (its prev or auth has not
 * arrived; or it was signed behind a pin), or rejects it, and says why. The
 * state - members, roles, pins, epochs, the secrets this node can open,
 * endpoints, conflicts - is a pure function of the accepted set (the fold
 * of docs/roster.md), the same on every node that holds the same records,
 * whatever order they came in.
 *
 * Pure: no clock (times are arguments, wall-clock milliseconds like the
 * records' own created_ms/expires_ms), no RNG (the caller's tn_rand), no
 * I/O. The fold runs lazily: adding records marks the state stale, and the
 * next query recomputes it, so replaying thousands of stored records costs
 * one fold. Queries therefore take a non-const roster.
 *
 * Memory: malloc()/free() only, every allocation bounded by the limits in
 * limits.h (TN_ROSTER_RECORDS_MAX, TN_ROSTER_BYTES_MAX, TN_ROSTER_HELD_MAX,
 * TN_ROSTER_MAX) or the smaller ones in tn_roster_config; nothing is sized
 * from a count a peer sends. A record's bytes are copied only after its
 * signature verifies.
 *
 * Views (tn_view) handed out point into the roster's own copies of record
 * bytes, which are never freed before tn_roster_del(): they stay valid
 * until then. */
#ifndef TOCSIN_ROSTER_H
#define TOCSIN_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/codec.h"
#include "tocsin/err.h"
#include "tocsin/identity.h"
#include "tocsin/limits.h"
#include "tocsin/types.h"

/* Every roster signature is Ed25519 over this label (15 bytes, no NUL)
 * followed by the record's signed range (codec.h, signed_part). */
#define TN_ROSTER_SIG_DOMAIN "tocsin/1 roster"
enum {
	TN_ROSTER_SIG_DOMAIN_LEN = 15,
	TN_EPOCH_KEYS_MAX = 4, /* distinct key sets kept per epoch (concurrent rekeys) */
	TN_ROSTER_CONFLICTS_MAX = 64,
};

typedef struct tn_roster tn_roster; /* opaque */

typedef struct tn_roster_config {
	/* This node's identity, borrowed (must outlive the roster). Used to
	 * open the epoch secrets sealed to our link key and to sign the
	 * records made by tn_roster_make_*. NULL: a roster that opens no
	 * secrets and makes no records (tests, tools). */
	const tn_identity *self;
	size_t max_members; /* distinct admitted identities, founder included; <= TN_ROSTER_MAX */
	size_t max_records; /* <= TN_ROSTER_RECORDS_MAX */
	size_t max_bytes;   /* <= TN_ROSTER_BYTES_MAX */
	size_t max_held;    /* <= TN_ROSTER_HELD_MAX */
} tn_roster_config;

/* The protocol maxima; lower them only in tests. */
void tn_roster_config_default(tn_roster_config *cfg);

/* What tn_roster_add_record() did with a record. Stable numbers (counters,
 * logs). ACCEPTED: stored, forward it. HELD_*: not part of the state yet,
 * kept (bounded) and re-examined by the roster itself when what it waits
 * for arrives or the pins change - do not forward. Everything else:
 * dropped. */
typedef enum tn_roster_reason {
	TN_ROSTER_ACCEPTED = 0,
	TN_ROSTER_R_MALFORMED = 1,       /* strict decode failed (tn_roster_last_dec_err) */
	TN_ROSTER_R_DUPLICATE = 2,       /* already accepted or held: nothing changed */
	TN_ROSTER_R_NETWORK = 3,         /* another network's id, or a second genesis */
	TN_ROSTER_R_SIGNATURE = 4,       /* signature does not verify */
	TN_ROSTER_R_CHAIN = 5,           /* prev is not the issuer's record iseq - 1 (or the
	                                    founder's iseq 1 is not genesis) */
	TN_ROSTER_R_NOT_COORDINATOR = 6, /* auth grants the issuer no coordinator role */
	TN_ROSTER_R_NOT_MEMBER = 7,      /* endpoint whose auth did not admit its issuer */
	TN_ROSTER_R_FULL = 8,            /* a bound: members, records or bytes */
	TN_ROSTER_HELD_PENDING = 9,      /* its prev or auth has not arrived yet */
	TN_ROSTER_HELD_REVOKED = 10,     /* signed after its issuer's revocation pin */
	TN_ROSTER_HELD_DEMOTED = 11,     /* coordinator record after the issuer's demotion pin */
	TN_ROSTER_HELD_BACKDATED = 12,   /* inside a pinned prefix but not on the pinned chain */
	TN_ROSTER_R_NOMEM = 13,          /* out of memory: the roster must be discarded */
	TN_ROSTER_REASON_COUNT = 14,
} tn_roster_reason;

/* Short stable name ("not_coordinator"); "unknown" for other values. */
const char *tn_roster_reason_str(int reason);

/* Create a roster for the network founded by genesis (its bytes, copied).
 * The genesis must decode, be a genesis record and carry its founder's
 * valid signature. Returns TN_OK; TN_ERR_INVAL (NULL argument, config above
 * the protocol maxima, not a genesis); a TN_ERR_DEC_* code; TN_ERR_AUTH
 * (bad signature); TN_ERR_NOMEM. On error *out is NULL. */
TN_NODISCARD tn_err tn_roster_new(tn_roster **out, const tn_roster_config *cfg,
                                  const uint8_t *genesis, size_t len);

/* Free everything, wiping held secrets. NULL is fine. */
void tn_roster_del(tn_roster *ro);

/* Run the per-record checks (docs/roster.md, "Accepting a record") in this
 * order, cheapest first: size and strict decode, duplicate, network id,
 * signature, chain linkage (prev), standing (auth), bounds, pins. Returns
 * the reason and bumps its counter; R_NOMEM means discard the roster.
 * Accepting may release held records that waited for this one. */
tn_roster_reason tn_roster_add_record(tn_roster *ro, const uint8_t *rec, size_t len);

/* How many records got each reason (index: tn_roster_reason), and how many
 * held records were evicted because the hold was full. */
uint64_t tn_roster_counter(const tn_roster *ro, tn_roster_reason reason);
uint64_t tn_roster_held_evicted(const tn_roster *ro);
/* The decoder's code for the last R_MALFORMED (TN_OK if none yet). */
tn_err tn_roster_last_dec_err(const tn_roster *ro);
size_t tn_roster_held_count(const tn_roster *ro);

/* The network id (first 16 bytes of BLAKE2b-256 of the genesis bytes). */
const uint8_t *tn_roster_network_id(const tn_roster *ro);

/* Bring the state up to date now (queries do it themselves). Returns TN_OK
 * or TN_ERR_NOMEM (discard the roster). */
TN_NODISCARD tn_err tn_roster_update(tn_roster *ro);

/* BLAKE2b-256 over the folded state (docs/roster.md, "State hash"): equal on
 * two nodes iff they derived the same state. Node-specific things (secrets
 * opened, held records, conflicts seen) are not in it. TN_OK or NOMEM. */
TN_NODISCARD tn_err tn_roster_state_hash(tn_roster *ro, uint8_t out[TN_HASH]);

/* ---- members ---------------------------------------------------------- */

typedef struct tn_roster_member {
	tn_pubkey pk;
	tn_linkpub link;
	tn_view name;             /* UTF-8, from the admitting record; valid until tn_roster_del */
	uint8_t role;             /* enum tn_role (member for a revoked one) */
	bool active;              /* false: revoked (permanent) */
	bool has_current_secrets; /* some valid record seals the current epoch to her */
	uint8_t admitted_by[TN_HASH]; /* id of the admitting add (or genesis) */
} tn_roster_member;

/* Everyone ever admitted (revoked included), sorted by identity key.
 * tn_roster_member_at: TN_OK, TN_ERR_NOTFOUND past the end, TN_ERR_NOMEM. */
size_t tn_roster_member_count(tn_roster *ro);
TN_NODISCARD tn_err tn_roster_member_at(tn_roster *ro, size_t i, tn_roster_member *m);
/* Lookups for the link and alert layers. TN_OK, TN_ERR_NOTFOUND (never
 * admitted), TN_ERR_NOMEM. A revoked member is found, with active false. */
TN_NODISCARD tn_err tn_roster_member_by_pk(tn_roster *ro, const tn_pubkey *pk, tn_roster_member *m);
/* By Noise static key; among several members claiming one link key (a
 * conflict), the active one with the smallest identity key. */
TN_NODISCARD tn_err tn_roster_member_by_link(tn_roster *ro, const tn_linkpub *link,
                                             tn_roster_member *m);
/* Role of an ACTIVE member: TN_OK with *role, TN_ERR_NOTFOUND when pk is
 * not an active member (never admitted, or revoked), TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_roster_role_of(tn_roster *ro, const tn_pubkey *pk, uint8_t *role);

/* The endpoint strings of an active member's newest valid endpoint record
 * (highest iseq), if it has not expired at now_ms (wall clock ms): writes
 * up to max views into out and returns how many (0: none, or expired),
 * TN_ERR_NOTFOUND (not an active member), TN_ERR_NOMEM. */
TN_NODISCARD tn_ssize tn_roster_endpoints(tn_roster *ro, const tn_pubkey *pk, uint64_t now_ms,
                                          tn_view *out, size_t max);

/* ---- epochs ------------------------------------------------------------ */

typedef struct tn_epoch_keys {
	uint8_t group_key[32];
	uint8_t link_psk[32];
} tn_epoch_keys;

/* An epoch and the key sets THIS node holds for it, preferred first (the
 * one from the valid rekey with the lowest record id; responders
 * trial-decrypt with all of them). count may be 0: this node missed the
 * epoch (it must be re-sealed to it, or re-invited). Secrets: wipe with
 * tn_roster_epoch_wipe() when done. */
typedef struct tn_roster_epoch {
	uint32_t epoch;
	uint64_t started_ms; /* created_ms of its earliest valid rekey (genesis for 0) */
	size_t count;
	tn_epoch_keys keys[TN_EPOCH_KEYS_MAX];
} tn_roster_epoch;

void tn_roster_epoch_wipe(tn_roster_epoch *e);

/* The current epoch: the highest epoch number of any valid rekey (0 before
 * the first). TN_OK or TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_roster_current_epoch(tn_roster *ro, tn_roster_epoch *out);
/* The previous epoch (the highest below the current one that has valid
 * secrets), while now_ms < current.started_ms + grace_ms: TN_OK;
 * TN_ERR_NOTFOUND when there is none or the grace window has passed
 * (out->count is then 0); TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_roster_previous_epoch(tn_roster *ro, uint64_t now_ms, uint64_t grace_ms,
                                             tn_roster_epoch *out);

/* Active members that no valid record seals the current epoch to (e.g. an
 * add concurrent with a rekey): a coordinator's node heals them with
 * tn_roster_make_supplement(). Sorted by identity key. */
size_t tn_roster_missing_count(tn_roster *ro);
TN_NODISCARD tn_err tn_roster_missing_at(tn_roster *ro, size_t i, tn_pubkey *pk);

/* ---- audit ------------------------------------------------------------- */

/* Why an accepted record does (not) count in the state. */
typedef enum tn_roster_status {
	TN_RS_VALID = 0,
	TN_RS_VOID_FORK = 1,    /* in a forked part of its issuer's chain */
	TN_RS_VOID_REVOKED = 2, /* signed after its issuer's valid revocation pin */
	TN_RS_VOID_DEMOTED = 3, /* coordinator record after the issuer's demotion pin */
	TN_RS_VOID_AUTH = 4,    /* its authority (auth path) is void */
	TN_RS_VOID_SETTLED = 5, /* a revocation/demotion void in the settlement */
} tn_roster_status;

/* One accepted record, for the audit log: who signed what, and whether it
 * counts. Records are listed by (created_ms, id). */
typedef struct tn_roster_audit {
	uint8_t id[TN_HASH];
	uint8_t type; /* enum tn_roster_type */
	tn_pubkey issuer;
	uint64_t iseq;
	uint64_t created_ms;
	uint8_t status;   /* enum tn_roster_status */
	bool has_subject; /* add, revoke, role */
	tn_pubkey subject;
	uint8_t role;     /* add, role */
	uint32_t epoch;   /* add, rekey */
	uint64_t pin_seq; /* revoke, role */
} tn_roster_audit;

size_t tn_roster_audit_count(tn_roster *ro);
TN_NODISCARD tn_err tn_roster_audit_at(tn_roster *ro, size_t i, tn_roster_audit *a);

typedef enum tn_roster_conflict_kind {
	TN_RC_FORK = 1,      /* two records by one issuer with one iseq: key in two hands */
	TN_RC_LINK_KEYS = 2, /* one identity admitted twice with different link keys */
} tn_roster_conflict_kind;

typedef struct tn_roster_conflict {
	uint8_t kind; /* enum tn_roster_conflict_kind */
	tn_pubkey who;
	uint64_t iseq;      /* FORK */
	uint8_t a[TN_HASH]; /* the two record ids, a < b */
	uint8_t b[TN_HASH];
} tn_roster_conflict;

/* Conflicts evident in the accepted and held records (at most
 * TN_ROSTER_CONFLICTS_MAX, sorted). */
size_t tn_roster_conflict_count(tn_roster *ro);
TN_NODISCARD tn_err tn_roster_conflict_at(tn_roster *ro, size_t i, tn_roster_conflict *c);

/* ---- records, for storage and anti-entropy ------------------------------ */

/* Accepted records in acceptance order (every record after its prev and
 * auth: replaying them in this order into a new roster re-accepts all). */
size_t tn_roster_record_count(const tn_roster *ro);
TN_NODISCARD tn_err tn_roster_record_at(const tn_roster *ro, size_t i, tn_view *bytes);
TN_NODISCARD tn_err tn_roster_record_by_id(const tn_roster *ro, const uint8_t id[TN_HASH],
                                           tn_view *bytes);
/* Highest iseq among pk's accepted records and that record's id (lowest id
 * on a tie): TN_OK or TN_ERR_NOTFOUND. */
TN_NODISCARD tn_err tn_roster_chain_head(const tn_roster *ro, const tn_pubkey *pk, uint64_t *iseq,
                                         uint8_t id[TN_HASH]);

/* ---- making records (as this node: cfg.self) ---------------------------
 *
 * Each writes one signed record into out and returns its length,
 * TN_ERR_NOBUF (cap too small; TN_ROSTER_RECORD_MAX always suffices),
 * TN_ERR_INVAL (bad argument), TN_ERR_STATE (self is not an active
 * coordinator - or member, for endpoints -, holds no current epoch
 * secrets, or its own chain is forked), TN_ERR_NOMEM. iseq, prev and auth
 * come from self's own chain in this roster: add each record you make
 * (tn_roster_add_record) before making the next. Times are wall-clock ms. */

/* The genesis of a new network (no roster yet): fresh epoch 0 secrets from
 * rand, sealed to the founder's own link key. */
TN_NODISCARD tn_ssize tn_roster_make_genesis(const tn_identity *founder, const tn_rand *rand,
                                             tn_view network_name, tn_view founder_name,
                                             uint64_t created_ms, uint8_t *out, size_t cap);
/* Admit subject, sealing the current epoch's preferred keys to link. */
TN_NODISCARD tn_ssize tn_roster_make_add(tn_roster *ro, const tn_rand *rand,
                                         const tn_pubkey *subject, const tn_linkpub *link,
                                         tn_view name, uint8_t role, uint64_t created_ms,
                                         uint8_t *out, size_t cap);
/* Revoke subject, pinning her at the head of her chain as seen here. */
TN_NODISCARD tn_ssize tn_roster_make_revoke(tn_roster *ro, const tn_pubkey *subject, tn_view reason,
                                            uint64_t created_ms, uint8_t *out, size_t cap);
/* Promote (no pin) or demote (pinned like a revoke). */
TN_NODISCARD tn_ssize tn_roster_make_role(tn_roster *ro, const tn_pubkey *subject, uint8_t role,
                                          uint64_t created_ms, uint8_t *out, size_t cap);
/* Self's addresses (1..TN_ENDPOINTS_MAX strings "tcp:..." / "onion:..."). */
TN_NODISCARD tn_ssize tn_roster_make_endpoint(tn_roster *ro, const tn_view *endpoints, size_t n,
                                              uint64_t expires_ms, uint64_t created_ms,
                                              uint8_t *out, size_t cap);

/* A rekey: epoch current + 1, fresh secrets, sealed to every active member
 * (self included) in parts of TN_REKEY_PER_PART. begin draws the secrets
 * and fixes the member count; make each part 0..parts-1 and add it before
 * making the next; wipe the plan at the end. make_rekey_part returns
 * TN_ERR_STATE if the membership changed since begin. */
typedef struct tn_roster_rekey_plan {
	uint32_t epoch;
	uint16_t parts;
	size_t members;
	tn_epoch_keys keys;
} tn_roster_rekey_plan;

TN_NODISCARD tn_err tn_roster_rekey_begin(tn_roster *ro, const tn_rand *rand,
                                          tn_roster_rekey_plan *plan);
TN_NODISCARD tn_ssize tn_roster_make_rekey_part(tn_roster *ro, const tn_rand *rand,
                                                const tn_roster_rekey_plan *plan, uint16_t part,
                                                uint64_t created_ms, uint8_t *out, size_t cap);
void tn_roster_rekey_plan_wipe(tn_roster_rekey_plan *plan);

/* A supplementary part (rekey of the CURRENT epoch, part 0 of 1) sealing
 * self's preferred current keys to up to TN_REKEY_PER_PART members of
 * tn_roster_missing_*. TN_ERR_NOTFOUND when nobody is missing. */
TN_NODISCARD tn_ssize tn_roster_make_supplement(tn_roster *ro, const tn_rand *rand,
                                                uint64_t created_ms, uint8_t *out, size_t cap);

/* Record id: BLAKE2b-256 of the record bytes. */
void tn_roster_record_id(const uint8_t *rec, size_t len, uint8_t id[TN_HASH]);

#endif
