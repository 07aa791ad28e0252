/* Tocsin protocol library: token buckets and a bounded per-key limiter
 * table (DESIGN §6 "per-author rate limits").
 *
 * Pure and sans-I/O: time is a tn_time the caller passes in (monotonic
 * nanoseconds; only differences matter). Nothing here reads a clock.
 *
 * A bucket holds at most `burst` tokens and gains one token every
 * `interval` nanoseconds. Refill is computed from the elapsed time in whole
 * intervals, and the time of the last whole interval is kept, so partial
 * intervals are never lost (no drift: 10 refills 599 ms apart mint exactly
 * what one refill after 5 990 ms does) and nothing is multiplied (no
 * overflow, whatever the gap). Time that goes backwards mints nothing: the
 * bucket waits until the clock passes its stamp again. A full bucket does
 * not bank time, so it cannot hold more than burst tokens after a long
 * silence. */
#ifndef TOCSIN_RATELIMIT_H
#define TOCSIN_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/limits.h"
#include "tocsin/types.h"

/* One token per interval, at most burst. Valid when burst >= 1 and
 * interval >= 1. */
typedef struct tn_bucket_cfg {
	uint32_t burst;
	tn_time interval;
} tn_bucket_cfg;

/* Bucket state: tokens now, and the time up to which refill has been
 * credited. Plain data: the caller may embed it anywhere. */
typedef struct tn_bucket {
	uint32_t tokens;
	tn_time stamp;
} tn_bucket;

bool tn_bucket_cfg_valid(const tn_bucket_cfg *cfg);

/* A full bucket (burst tokens) credited up to now. */
void tn_bucket_init(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now);

/* Credit the whole intervals elapsed since the stamp, up to burst. */
void tn_bucket_refill(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now);

/* Refill, then take one token if there is one. True when a token was
 * taken, false when the bucket is empty (the caller drops the action). */
TN_NODISCARD bool tn_bucket_take(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now);

/* True when, refilled to now, the bucket would hold burst tokens: the
 * state is then the same as a fresh bucket's, so it can be forgotten. Does
 * not modify b. */
bool tn_bucket_is_full(const tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now);

/* ---- A bounded table of buckets per 32-byte key (author) --------------
 *
 * Each key has TN_RATELIMIT_CLASSES_MAX independent buckets ("classes"),
 * so one key's budget for one kind of traffic cannot be spent by another.
 * The table holds at most `capacity` keys (<= TN_ROSTER_MAX). It starts
 * with 16 slots and doubles (calloc, rehash) when a new key would load it
 * beyond 3/4, up to the slots capacity needs: a node hears from a few
 * authors, and a 1 MiB table per node and per boot cost the simulator a
 * page fault per author and an mmap per node. A new key takes a free place; when there is none, an existing key whose
 * buckets are all full (so it is indistinguishable from a new key) gives up
 * its place. If no key is full either, the new key is refused
 * (TN_ERR_STATE): that needs more than capacity keys active at once, which
 * cannot happen when capacity is at least the number of keys that can reach
 * the table (members of the roster).
 *
 * The slot of a key is chosen by SipHash (crypto_shorthash) under a key
 * drawn from the caller's tn_rand at creation, so members cannot choose
 * identity keys that pile onto one probe chain.
 *
 * Memory: 72 bytes per slot, slots = the power of two above 4/3 of the keys
 * held, at most the power of two above capacity * 4 / 3 (16 384 slots,
 * 1.1 MiB, at TN_ROSTER_MAX). */
enum {
	TN_RATELIMIT_CLASSES_MAX = 2,
	TN_RATELIMIT_KEY = 32,
};

typedef struct tn_ratelimit_cfg {
	size_t capacity; /* 1..TN_ROSTER_MAX keys */
	size_t nclasses; /* 1..TN_RATELIMIT_CLASSES_MAX */
	tn_bucket_cfg classes[TN_RATELIMIT_CLASSES_MAX];
} tn_ratelimit_cfg;

typedef struct tn_ratelimit tn_ratelimit; /* opaque */

/* Allocate a table (16 slots; it grows in tn_ratelimit_take). rand supplies the 16-byte SipHash
 * key. Returns TN_OK, TN_ERR_INVAL (NULL argument, capacity or nclasses out
 * of range, an invalid bucket cfg) or TN_ERR_NOMEM. On error *out is NULL. */
TN_NODISCARD tn_err tn_ratelimit_new(tn_ratelimit **out, const tn_ratelimit_cfg *cfg,
                                     const tn_rand *rand);

/* Free the table. NULL is fine. */
void tn_ratelimit_del(tn_ratelimit *rl);

/* Spend one token of class cls for key at time now. A key seen for the
 * first time starts with full buckets.
 * Returns TN_OK (token taken: allow), TN_ERR_LIMIT (bucket empty: drop and
 * count), TN_ERR_STATE (table full of active keys: drop and count; see
 * above), TN_ERR_NOMEM (a new key needed the table to grow and calloc
 * failed: drop and count, as for TN_ERR_STATE), TN_ERR_INVAL (NULL argument or cls >= nclasses). */
TN_NODISCARD tn_err tn_ratelimit_take(tn_ratelimit *rl, const uint8_t key[TN_RATELIMIT_KEY],
                                      size_t cls, tn_time now);

/* Would tn_ratelimit_take(rl, key, cls, now) spend a token now? Changes
 * nothing (no token spent, no key inserted). An unknown key has full
 * buckets: true. For cheap early drops before costly checks; the take
 * after them still decides. False also for a NULL argument or a bad cls. */
bool tn_ratelimit_peek(const tn_ratelimit *rl, const uint8_t key[TN_RATELIMIT_KEY], size_t cls,
                       tn_time now);

/* Keys held now (for tests and status output). */
size_t tn_ratelimit_count(const tn_ratelimit *rl);

#endif
