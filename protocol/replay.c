/* Replay cache for handshake message 1 (docs/link.md, responder step 6).
 *
 * One per node, shared by all responder links. At most `entries` slots;
 * it starts with 64 and doubles (realloc) when full, since a node sees a
 * few handshakes an hour and the simulator boots thousands of nodes (a
 * 197 KB calloc each). If realloc fails, the cache evicts as a full one
 * does. Lookup is a linear scan over the slots in use: the cache is consulted only for a message 1 that
 * already passed the PSK MAC (only PSK holders get here), and scanning
 * 4096 x 48 bytes costs less than the Diffie-Hellman the accepted message is
 * about to cost anyway. The ephemeral is public (it travels in clear), so
 * plain memcmp is fine. */
#include <stdlib.h>
#include <string.h>

#include "tocsin/link.h"

typedef struct entry {
	uint8_t e[TN_NOISE_DH];
	uint64_t ts_ms; /* the message's own timestamp (wall clock) */
	uint64_t order; /* insertion number; 0 = free slot */
} entry;

struct tn_replay_cache {
	size_t cap;  /* slots at most */
	size_t have; /* slots allocated, <= cap */
	size_t used;
	uint64_t next_order;
	entry *slot;
};

enum { REPLAY_CACHE_LIMIT = 1 << 20 };

tn_err tn_replay_cache_new(tn_replay_cache **out, size_t entries)
{
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (entries == 0)
		entries = TN_REPLAY_CACHE;
	if (entries > REPLAY_CACHE_LIMIT)
		return TN_ERR_INVAL;
	tn_replay_cache *c = calloc(1, sizeof *c);
	size_t have = entries < 64 ? entries : 64;
	entry *slot = calloc(have, sizeof *slot);
	if (!c || !slot) {
		free(c);
		free(slot);
		return TN_ERR_NOMEM;
	}
	c->cap = entries;
	c->have = have;
	c->slot = slot;
	c->next_order = 1;
	*out = c;
	return TN_OK;
}

void tn_replay_cache_del(tn_replay_cache *c)
{
	if (c)
		free(c->slot);
	free(c);
}

/* Full: double the slots (up to cap). False when at cap or no memory. */
static bool grow(tn_replay_cache *c)
{
	if (c->have >= c->cap)
		return false;
	size_t n = c->have * 2 < c->cap ? c->have * 2 : c->cap;
	entry *s = realloc(c->slot, n * sizeof *s);
	if (!s)
		return false;
	memset(s + c->have, 0, (n - c->have) * sizeof *s);
	c->slot = s;
	c->have = n;
	return true;
}

size_t tn_replay_cache_count(const tn_replay_cache *c)
{
	return c ? c->used : 0;
}

/* An entry is useless once its timestamp can no longer pass the stale check
 * (|ts - wall| <= max age): a replay of it is rejected as stale. Measured
 * from the message's timestamp, not from when we accepted it: a message
 * stamped up to max age in the future stays replayable for twice the window
 * after acceptance. */
static bool expired(const entry *s, uint64_t wall_ms)
{
	const uint64_t age_ms = TN_HS_MSG1_MAX_AGE / TN_MSEC;
	return s->ts_ms < wall_ms && wall_ms - s->ts_ms > age_ms;
}

tn_err tn_replay_cache_check_insert(tn_replay_cache *c, const tn_noise_pubkey *e, uint64_t ts_ms,
                                    uint64_t wall_ms)
{
	if (!c || !e)
		return TN_ERR_INVAL;
	entry *free_slot = NULL, *stale = NULL, *oldest = NULL;
	for (size_t i = 0; i < c->have; i++) {
		entry *s = &c->slot[i];
		if (s->order == 0) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (memcmp(s->e, e->b, sizeof s->e) == 0)
			return TN_ERR_REPLAY;
		if (!stale && expired(s, wall_ms))
			stale = s;
		if (!oldest || s->order < oldest->order)
			oldest = s;
	}
	/* Eviction order: a free slot (growing the cache to make one while
	 * below its size), then one that is past the window, then the oldest
	 * insertion (only PSK holders can fill the cache). */
	if (!free_slot && !stale) {
		size_t at = c->have;
		if (grow(c)) {
			free_slot = &c->slot[at];
			oldest = NULL;
		}
	}
	entry *dst = free_slot ? free_slot : stale ? stale : oldest;
	if (!dst) /* cap >= 1 (tn_replay_cache_new): cannot happen */
		return TN_ERR_INTERNAL;
	if (dst == free_slot)
		c->used++;
	memcpy(dst->e, e->b, sizeof dst->e);
	dst->ts_ms = ts_ms;
	dst->order = c->next_order++;
	return TN_OK;
}
