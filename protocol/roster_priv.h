/* Roster internals shared by roster.c (container, per-record checks,
 * queries), roster_fold.c (the fold) and roster_make.c (record creation).
 * Private to protocol/. */
#ifndef TOCSIN_ROSTER_PRIV_H
#define TOCSIN_ROSTER_PRIV_H

#include "tocsin/roster.h"

#define RIX_NONE UINT32_MAX

/* One accepted record. bytes is the roster's own copy; d's views point
 * into it. prev_ix/auth_ix are indices of records accepted before this one
 * (a record is only accepted once both are present), so every index-order
 * walk sees a record's prev and auth first. */
typedef struct tn_rrec {
	uint8_t *bytes;
	size_t len;
	uint8_t id[TN_HASH];
	tn_roster_rec d;
	uint32_t prev_ix;
	uint32_t auth_ix;
	/* fold output and scratch */
	uint8_t status; /* tn_roster_status */
	bool base_ok;   /* in its issuer's fork-free prefix */
	bool fork_ok;   /* base_ok, or vouched for by a valid pin's head */
	bool valid;
} tn_rrec;

/* A record held back: waiting for prev/auth, or behind a pin. */
typedef struct tn_rheld {
	uint8_t *bytes;
	size_t len;
	uint8_t id[TN_HASH];
	tn_roster_rec d;
	uint8_t reason; /* TN_ROSTER_HELD_* */
} tn_rheld;

/* A revoke or demotion record seen as a pin on its subject. */
typedef struct tn_rpin {
	uint32_t rec_ix;
	uint8_t id[TN_HASH]; /* the pinning record's id (a content tie-break) */
	uint8_t subject[TN_PUBKEY];
	uint64_t seq;
	uint32_t head_ix; /* the subject's record named by pin_head, if accepted */
	bool demote;
} tn_rpin;

typedef struct tn_rmember {
	uint8_t pk[TN_PUBKEY];
	uint32_t admit_ix;    /* genesis or the valid add with the lowest id */
	uint32_t endpoint_ix; /* newest valid endpoint record, or RIX_NONE */
	uint8_t role;
	bool active;
	bool has_current;
} tn_rmember;

struct tn_roster {
	tn_roster_config cfg;
	uint8_t nid[TN_NETWORK_ID];
	uint8_t founder[TN_PUBKEY];

	tn_rrec *recs;
	size_t nrecs, caprecs;
	size_t bytes_total;
	uint32_t *idx; /* open addressing over record ids: index + 1, 0 empty */
	size_t idxcap;
	uint32_t *subj; /* open addressing over add subjects: add index + 1 */
	size_t subjcap, nsubj;

	tn_rheld *held;
	size_t nheld;

	uint64_t counters[TN_ROSTER_REASON_COUNT];
	uint64_t evicted;
	tn_err last_dec;

	/* Fold output; valid when !dirty. */
	bool dirty;
	bool folded;   /* at least one fold has run (pins known) */
	tn_rpin *pins; /* the valid pins */
	size_t npins;
	tn_rmember *mems;
	size_t nmems;
	uint32_t cur_epoch, prev_epoch;
	bool has_prev;
	uint64_t cur_start, prev_start;
	tn_epoch_keys cur_keys[TN_EPOCH_KEYS_MAX];
	size_t ncur;
	tn_epoch_keys prev_keys[TN_EPOCH_KEYS_MAX];
	size_t nprev;
	uint32_t *missing; /* indices into mems */
	size_t nmissing;
	tn_roster_conflict *conf;
	size_t nconf;
	uint32_t *audit; /* record indices by (created_ms, id) */
	uint8_t state_hash[TN_HASH];
};

/* roster.c */
uint32_t tn_roster_find(const tn_roster *ro, const uint8_t id[TN_HASH]);
bool tn_roster_coord_type(uint8_t type);
bool tn_roster_pinning(const tn_rrec *r);
/* x is after pin p (x issued by p's subject): a later iseq, or not on the
 * chain that ends at p's head. A pin never cuts genesis nor its own
 * record. */
bool tn_roster_after_pin(const tn_roster *ro, const tn_rpin *p, uint32_t x);
void tn_roster_pin_of(const tn_roster *ro, uint32_t ix, tn_rpin *p);
/* Where member pk stands in ro->mems (sorted by key), or ro->nmems. */
size_t tn_roster_member_ix(const tn_roster *ro, const uint8_t pk[TN_PUBKEY]);

/* In-place heapsort (the protocol library links no qsort: its symbol
 * allowlist is kept to memory and string routines). cmp must be a total
 * order on content, so the result never depends on insertion order. */
void tn_roster_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* roster_fold.c: recompute the state. TN_OK or TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_roster_fold(tn_roster *ro);

#endif
