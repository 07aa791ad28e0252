/* Token buckets and the bounded per-key limiter table (ratelimit.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/ratelimit.h"

/* ---- token bucket ------------------------------------------------------ */

bool tn_bucket_cfg_valid(const tn_bucket_cfg *cfg)
{
	return cfg && cfg->burst >= 1 && cfg->interval >= 1;
}

void tn_bucket_init(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now)
{
	b->tokens = cfg->burst;
	b->stamp = now;
}

/* Whole intervals elapsed since the stamp; 0 when time stood still or went
 * backwards. A division, never a multiplication: no gap can overflow. */
static uint64_t intervals_since(const tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now)
{
	if (now <= b->stamp)
		return 0;
	return (now - b->stamp) / cfg->interval;
}

void tn_bucket_refill(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now)
{
	if (now <= b->stamp)
		return; /* backwards or no time: mint nothing, keep the stamp */
	uint32_t room = b->tokens < cfg->burst ? cfg->burst - b->tokens : 0;
	uint64_t n = intervals_since(b, cfg, now);
	if (n >= room) {
		/* Full: a full bucket does not bank the time it spends full. */
		b->tokens = cfg->burst;
		b->stamp = now;
		return;
	}
	b->tokens += (uint32_t)n; /* n < room <= burst */
	/* Advance by whole intervals only, so the partial one carries over
	 * (n * interval <= now - stamp: no overflow). */
	b->stamp += n * cfg->interval;
}

bool tn_bucket_take(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now)
{
	tn_bucket_refill(b, cfg, now);
	if (b->tokens == 0)
		return false;
	b->tokens--;
	return true;
}

bool tn_bucket_is_full(const tn_bucket *b, const tn_bucket_cfg *cfg, tn_time now)
{
	if (b->tokens >= cfg->burst)
		return true;
	return intervals_since(b, cfg, now) >= cfg->burst - b->tokens;
}

/* ---- per-key table: open addressing, linear probing ------------------- */

typedef struct slot {
	uint8_t key[TN_RATELIMIT_KEY];
	tn_bucket b[TN_RATELIMIT_CLASSES_MAX];
	uint32_t home; /* hash & mask, kept for backward-shift deletion */
	bool used;
} slot;

struct tn_ratelimit {
	tn_ratelimit_cfg cfg;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	size_t mask; /* slots - 1, slots a power of two */
	size_t slots_max; /* slots at capacity: the table grows up to it */
	size_t count;
	slot *slots;
};

_Static_assert(crypto_shorthash_BYTES == 8, "siphash output");

static bool cfg_valid(const tn_ratelimit_cfg *cfg)
{
	if (cfg->capacity < 1 || cfg->capacity > TN_ROSTER_MAX)
		return false;
	if (cfg->nclasses < 1 || cfg->nclasses > TN_RATELIMIT_CLASSES_MAX)
		return false;
	for (size_t i = 0; i < cfg->nclasses; i++)
		if (!tn_bucket_cfg_valid(&cfg->classes[i]))
			return false;
	return true;
}

enum { SLOTS_INITIAL = 16 }; /* a node hears from few authors: start small */

/* Load factor at most 3/4 keeps probe chains short. */
static size_t slots_for(size_t capacity)
{
	size_t need = capacity + capacity / 3 + 1, n = 1;
	while (n < need)
		n <<= 1;
	return n;
}

tn_err tn_ratelimit_new(tn_ratelimit **out, const tn_ratelimit_cfg *cfg, const tn_rand *rand)
{
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!cfg || !rand || !rand->fn || !cfg_valid(cfg))
		return TN_ERR_INVAL;
	tn_ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return TN_ERR_NOMEM;
	rl->slots_max = slots_for(cfg->capacity);
	size_t n = rl->slots_max < SLOTS_INITIAL ? rl->slots_max : SLOTS_INITIAL;
	rl->slots = calloc(n, sizeof *rl->slots);
	if (!rl->slots) {
		free(rl);
		return TN_ERR_NOMEM;
	}
	rl->cfg = *cfg;
	rl->mask = n - 1;
	tn_rand_bytes(rand, rl->hash_key, sizeof rl->hash_key);
	*out = rl;
	return TN_OK;
}

void tn_ratelimit_del(tn_ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->slots);
	sodium_memzero(rl->hash_key, sizeof rl->hash_key);
	free(rl);
}

size_t tn_ratelimit_count(const tn_ratelimit *rl)
{
	return rl ? rl->count : 0;
}

static size_t home_in(const tn_ratelimit *rl, const uint8_t *key, size_t mask)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, key, TN_RATELIMIT_KEY, rl->hash_key);
	uint64_t v = 0;
	for (size_t i = 0; i < sizeof h; i++)
		v = (v << 8) | h[i];
	return (size_t)(v & mask);
}

static size_t home_of(const tn_ratelimit *rl, const uint8_t *key)
{
	return home_in(rl, key, rl->mask);
}

/* Double the slots (up to slots_max), moving every key to its new home. */
static tn_err grow(tn_ratelimit *rl)
{
	size_t n = (rl->mask + 1) * 2, mask = n - 1;
	slot *ns = calloc(n, sizeof *ns);
	if (!ns)
		return TN_ERR_NOMEM;
	for (size_t i = 0; i <= rl->mask; i++) {
		slot *o = &rl->slots[i];
		if (!o->used)
			continue;
		size_t home = home_in(rl, o->key, mask), j = home;
		while (ns[j].used)
			j = (j + 1) & mask;
		ns[j] = *o;
		ns[j].home = (uint32_t)home;
	}
	free(rl->slots);
	rl->slots = ns;
	rl->mask = mask;
	return TN_OK;
}

/* The slot holding key, or the empty slot where it would go. The table is
 * never full (load <= 3/4), so the probe ends. */
static size_t probe(const tn_ratelimit *rl, const uint8_t *key, size_t home)
{
	size_t i = home;
	while (rl->slots[i].used && memcmp(rl->slots[i].key, key, TN_RATELIMIT_KEY) != 0)
		i = (i + 1) & rl->mask;
	return i;
}

/* Is `home` cyclically within (gap, j]? Then the entry at j must stay
 * after the gap, else its probe from home would stop at the gap. */
static bool stays(size_t gap, size_t j, size_t home)
{
	if (gap < j)
		return home > gap && home <= j;
	return home > gap || home <= j;
}

/* Backward-shift deletion: no tombstones, so chains never grow stale. */
static void remove_at(tn_ratelimit *rl, size_t gap)
{
	size_t j = gap;
	for (;;) {
		j = (j + 1) & rl->mask;
		if (!rl->slots[j].used)
			break;
		if (stays(gap, j, rl->slots[j].home))
			continue;
		rl->slots[gap] = rl->slots[j];
		gap = j;
	}
	memset(&rl->slots[gap], 0, sizeof rl->slots[gap]);
	rl->count--;
}

static bool all_full(const tn_ratelimit *rl, const slot *s, tn_time now)
{
	for (size_t c = 0; c < rl->cfg.nclasses; c++)
		if (!tn_bucket_is_full(&s->b[c], &rl->cfg.classes[c], now))
			return false;
	return true;
}

/* Free one place by forgetting a key whose buckets are all full. O(slots),
 * but only reached with capacity keys present. */
static bool evict_one(tn_ratelimit *rl, tn_time now)
{
	for (size_t i = 0; i <= rl->mask; i++) {
		if (rl->slots[i].used && all_full(rl, &rl->slots[i], now)) {
			remove_at(rl, i);
			return true;
		}
	}
	return false;
}

static tn_err insert(tn_ratelimit *rl, const uint8_t *key, size_t home, tn_time now, size_t *at)
{
	if (rl->count >= rl->cfg.capacity) {
		if (!evict_one(rl, now))
			return TN_ERR_STATE;
	} else if ((rl->count + 1) * 4 > (rl->mask + 1) * 3 && rl->mask + 1 < rl->slots_max) {
		tn_err rc = grow(rl);
		if (rc != TN_OK)
			return rc;
		home = home_of(rl, key);
	}
	size_t i = probe(rl, key, home); /* eviction may have shifted chains */
	slot *s = &rl->slots[i];
	memcpy(s->key, key, TN_RATELIMIT_KEY);
	s->home = (uint32_t)home;
	s->used = true;
	for (size_t c = 0; c < rl->cfg.nclasses; c++)
		tn_bucket_init(&s->b[c], &rl->cfg.classes[c], now);
	rl->count++;
	*at = i;
	return TN_OK;
}

tn_err tn_ratelimit_take(tn_ratelimit *rl, const uint8_t key[TN_RATELIMIT_KEY], size_t cls,
                         tn_time now)
{
	if (!rl || !key || cls >= rl->cfg.nclasses)
		return TN_ERR_INVAL;
	size_t home = home_of(rl, key);
	size_t i = probe(rl, key, home);
	if (!rl->slots[i].used) {
		tn_err rc = insert(rl, key, home, now, &i);
		if (rc != TN_OK)
			return rc;
	}
	slot *s = &rl->slots[i];
	return tn_bucket_take(&s->b[cls], &rl->cfg.classes[cls], now) ? TN_OK : TN_ERR_LIMIT;
}

bool tn_ratelimit_peek(const tn_ratelimit *rl, const uint8_t key[TN_RATELIMIT_KEY], size_t cls,
                       tn_time now)
{
	if (!rl || !key || cls >= rl->cfg.nclasses)
		return false;
	size_t i = probe(rl, key, home_of(rl, key));
	if (!rl->slots[i].used)
		return true;
	tn_bucket b = rl->slots[i].b[cls]; /* a copy: refill without writing */
	return tn_bucket_take(&b, &rl->cfg.classes[cls], now);
}
