/* Replay cache for handshake message 1 (docs/link.md, responder step 6).
 *
 * One per node, shared by all responder links. Fixed size, allocated once.
 * Lookup is a linear scan: the cache is consulted only for a message 1 that
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
	size_t cap;
	size_t used;
	uint64_t next_order;
	entry slot[];
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
	tn_replay_cache *c = calloc(1, sizeof *c + entries * sizeof(entry));
	if (!c)
		return TN_ERR_NOMEM;
	c->cap = entries;
	c->next_order = 1;
	*out = c;
	return TN_OK;
}

void tn_replay_cache_del(tn_replay_cache *c)
{
	free(c);
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
	for (size_t i = 0; i < c->cap; i++) {
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
	/* Eviction order: a free slot, then one that is past the window, then
	 * the oldest insertion (only PSK holders can fill the cache). */
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
