/* Token buckets and the bounded per-key limiter table, in virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tocsin/ratelimit.h"
#include "test_rng.h"


/* How many tokens can be taken right now. Consumes them. */
static unsigned drain(tn_bucket *b, const tn_bucket_cfg *c, tn_time now)
{
	unsigned n = 0;
	while (tn_bucket_take(b, c, now))
		n++;
	return n;
}

/* ---- bucket ------------------------------------------------------------- */

/* A fresh bucket holds burst; the next token comes exactly one interval
 * after the bucket was last full, not a nanosecond earlier. */
static void refill_exact_at_interval(void **state)
{
	(void)state;
	const tn_bucket_cfg c = {.burst = 5, .interval = TN_MIN};
	tn_bucket b;
	tn_time t0 = 7 * TN_SEC;
	tn_bucket_init(&b, &c, t0);
	assert_int_equal(drain(&b, &c, t0), 5);
	assert_false(tn_bucket_take(&b, &c, t0 + TN_MIN - 1));
	assert_true(tn_bucket_take(&b, &c, t0 + TN_MIN));
	assert_false(tn_bucket_take(&b, &c, t0 + TN_MIN));
	assert_false(tn_bucket_take(&b, &c, t0 + 2 * TN_MIN - 1));
	assert_true(tn_bucket_take(&b, &c, t0 + 2 * TN_MIN));
	/* Three intervals at once mint three. */
	assert_int_equal(drain(&b, &c, t0 + 5 * TN_MIN), 3);
}

/* Refilling often, at odd steps, mints exactly what one refill at the end
 * would: partial intervals carry over. */
static void no_drift_with_frequent_refills(void **state)
{
	(void)state;
	const tn_bucket_cfg c = {.burst = 1000, .interval = 6 * TN_SEC};
	tn_bucket b;
	tn_bucket_init(&b, &c, 0);
	assert_int_equal(drain(&b, &c, 0), 1000);
	tn_time now = 0;
	for (int i = 0; i < 10000; i++) {
		now += 599 * TN_MSEC + 7;
		tn_bucket_refill(&b, &c, now);
	}
	assert_int_equal(b.tokens, now / c.interval);
	assert_true(now - b.stamp < c.interval);
}

/* However long the silence, never more than burst. */
static void burst_is_a_cap(void **state)
{
	(void)state;
	const tn_bucket_cfg c = {.burst = 3, .interval = TN_SEC};
	tn_bucket b;
	tn_bucket_init(&b, &c, 0);
	assert_int_equal(drain(&b, &c, 0), 3);
	assert_int_equal(drain(&b, &c, 1000 * TN_SEC), 3);
	/* A full bucket does not bank the time it spent full. */
	tn_bucket_init(&b, &c, 0);
	assert_true(tn_bucket_is_full(&b, &c, 50 * TN_SEC));
	assert_int_equal(drain(&b, &c, 100 * TN_SEC), 3);
	assert_false(tn_bucket_take(&b, &c, 101 * TN_SEC - 1));
	assert_true(tn_bucket_take(&b, &c, 101 * TN_SEC));
}

/* A clock that steps back mints nothing and does not move the stamp. */
static void backwards_time_mints_nothing(void **state)
{
	(void)state;
	const tn_bucket_cfg c = {.burst = 2, .interval = 10 * TN_SEC};
	tn_bucket b;
	tn_time t0 = 1000 * TN_SEC;
	tn_bucket_init(&b, &c, t0);
	assert_int_equal(drain(&b, &c, t0), 2);
	assert_false(tn_bucket_take(&b, &c, 0));
	assert_false(tn_bucket_take(&b, &c, t0 - 5 * TN_SEC));
	assert_int_equal(b.stamp, t0);
	assert_false(tn_bucket_take(&b, &c, t0 + 10 * TN_SEC - 1));
	assert_true(tn_bucket_take(&b, &c, t0 + 10 * TN_SEC));
	assert_false(tn_bucket_is_full(&b, &c, 0));
}

/* Gaps up to the whole range of tn_time, and extreme configurations, with
 * UBSan watching for overflow. */
static void huge_gaps_do_not_overflow(void **state)
{
	(void)state;
	tn_bucket b;
	const tn_bucket_cfg c = {.burst = 5, .interval = TN_MIN};
	tn_bucket_init(&b, &c, 0);
	assert_int_equal(drain(&b, &c, 0), 5);
	assert_int_equal(drain(&b, &c, UINT64_MAX), 5);

	const tn_bucket_cfg big = {.burst = UINT32_MAX, .interval = 1};
	tn_bucket_init(&b, &big, 0);
	b.tokens = 0;
	tn_bucket_refill(&b, &big, UINT64_MAX);
	assert_int_equal(b.tokens, UINT32_MAX);
	b.tokens = 0;
	b.stamp = UINT64_MAX - 10;
	tn_bucket_refill(&b, &big, UINT64_MAX);
	assert_int_equal(b.tokens, 10);
	assert_int_equal(b.stamp, UINT64_MAX);

	const tn_bucket_cfg slow = {.burst = 1, .interval = UINT64_MAX};
	tn_bucket_init(&b, &slow, 0);
	assert_true(tn_bucket_take(&b, &slow, 0));
	assert_false(tn_bucket_take(&b, &slow, UINT64_MAX - 1));
	assert_true(tn_bucket_take(&b, &slow, UINT64_MAX));
}

static void cfg_validity(void **state)
{
	(void)state;
	assert_true(tn_bucket_cfg_valid(&(tn_bucket_cfg){1, 1}));
	assert_false(tn_bucket_cfg_valid(&(tn_bucket_cfg){0, 1}));
	assert_false(tn_bucket_cfg_valid(&(tn_bucket_cfg){1, 0}));
	assert_false(tn_bucket_cfg_valid(NULL));
}

/* ---- table -------------------------------------------------------------- */

static tn_ratelimit_cfg two_classes(size_t capacity)
{
	tn_ratelimit_cfg cfg = {.capacity = capacity, .nclasses = 2};
	cfg.classes[0] = (tn_bucket_cfg){.burst = 2, .interval = TN_MIN};
	cfg.classes[1] = (tn_bucket_cfg){.burst = 3, .interval = TN_SEC};
	return cfg;
}

static void key_of(uint8_t key[TN_RATELIMIT_KEY], unsigned i)
{
	memset(key, 0, TN_RATELIMIT_KEY);
	key[0] = (uint8_t)i;
	key[31] = (uint8_t)(i >> 8);
}

static void table_new_rejects_bad_cfg(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 1);
	tn_ratelimit *rl = (tn_ratelimit *)&r;
	tn_ratelimit_cfg cfg = two_classes(0);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_ERR_INVAL);
	assert_null(rl);
	cfg = two_classes(TN_ROSTER_MAX + 1);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_ERR_INVAL);
	cfg = two_classes(4);
	cfg.nclasses = TN_RATELIMIT_CLASSES_MAX + 1;
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_ERR_INVAL);
	cfg = two_classes(4);
	cfg.classes[1].burst = 0;
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_ERR_INVAL);
	cfg = two_classes(4);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, NULL), TN_ERR_INVAL);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_OK);
	uint8_t key[TN_RATELIMIT_KEY];
	key_of(key, 1);
	assert_int_equal(tn_ratelimit_take(rl, key, 2, 0), TN_ERR_INVAL);
	assert_int_equal(tn_ratelimit_take(rl, NULL, 0, 0), TN_ERR_INVAL);
	tn_ratelimit_del(rl);
	tn_ratelimit_del(NULL);
}

/* peek says what take would do, and changes nothing: no key inserted, no
 * token spent, refill seen but not written. */
static void peek_spends_nothing(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 9);
	tn_ratelimit *rl;
	tn_ratelimit_cfg cfg = two_classes(4);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_OK);
	uint8_t key[TN_RATELIMIT_KEY];
	key_of(key, 7);
	assert_true(tn_ratelimit_peek(rl, key, 0, 0));
	assert_int_equal(tn_ratelimit_count(rl), 0);
	for (int i = 0; i < 5; i++)
		assert_true(tn_ratelimit_peek(rl, key, 0, 0));
	assert_int_equal(tn_ratelimit_take(rl, key, 0, 0), TN_OK);
	assert_true(tn_ratelimit_peek(rl, key, 0, 0));
	assert_int_equal(tn_ratelimit_take(rl, key, 0, 0), TN_OK);
	assert_false(tn_ratelimit_peek(rl, key, 0, 0));
	assert_true(tn_ratelimit_peek(rl, key, 1, 0)); /* the other class is its own */
	assert_false(tn_ratelimit_peek(rl, key, 0, TN_MIN - 1));
	assert_true(tn_ratelimit_peek(rl, key, 0, TN_MIN));
	assert_true(tn_ratelimit_peek(rl, key, 0, TN_MIN)); /* the refill was not spent */
	assert_int_equal(tn_ratelimit_take(rl, key, 0, TN_MIN), TN_OK);
	assert_int_equal(tn_ratelimit_take(rl, key, 0, TN_MIN), TN_ERR_LIMIT);
	assert_false(tn_ratelimit_peek(rl, key, 2, 0));
	assert_false(tn_ratelimit_peek(rl, NULL, 0, 0));
	assert_false(tn_ratelimit_peek(NULL, key, 0, 0));
	tn_ratelimit_del(rl);
}

/* One key's budget is its own, and each class is its own. */
static void keys_and_classes_are_independent(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 2);
	tn_ratelimit *rl;
	tn_ratelimit_cfg cfg = two_classes(16);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_OK);
	uint8_t a[TN_RATELIMIT_KEY], b[TN_RATELIMIT_KEY];
	key_of(a, 1);
	key_of(b, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tn_ratelimit_take(rl, a, 1, 0), TN_OK);
	assert_int_equal(tn_ratelimit_take(rl, a, 1, 0), TN_ERR_LIMIT);
	assert_int_equal(tn_ratelimit_take(rl, a, 0, 0), TN_OK);
	assert_int_equal(tn_ratelimit_take(rl, a, 0, 0), TN_OK);
	assert_int_equal(tn_ratelimit_take(rl, a, 0, 0), TN_ERR_LIMIT);
	assert_int_equal(tn_ratelimit_take(rl, b, 1, 0), TN_OK);
	assert_int_equal(tn_ratelimit_take(rl, b, 0, 0), TN_OK);
	assert_int_equal(tn_ratelimit_count(rl), 2);
	assert_int_equal(tn_ratelimit_take(rl, a, 1, TN_SEC - 1), TN_ERR_LIMIT);
	assert_int_equal(tn_ratelimit_take(rl, a, 1, TN_SEC), TN_OK);
	tn_ratelimit_del(rl);
}

/* Full of keys with spent budgets: a new key is refused; once one of them
 * has refilled, it makes room and the count stays at capacity. */
static void full_table_evicts_only_refilled_keys(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 3);
	tn_ratelimit *rl;
	tn_ratelimit_cfg cfg = two_classes(4);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_OK);
	uint8_t k[TN_RATELIMIT_KEY];
	for (unsigned i = 0; i < 4; i++) {
		key_of(k, i);
		/* key 0 spends a chatter token (refills in 1 s), the others an
		 * urgent one (1 min). */
		assert_int_equal(tn_ratelimit_take(rl, k, i == 0 ? 1 : 0, 0), TN_OK);
	}
	key_of(k, 9);
	assert_int_equal(tn_ratelimit_take(rl, k, 1, TN_SEC - 1), TN_ERR_STATE);
	assert_int_equal(tn_ratelimit_count(rl), 4);
	assert_int_equal(tn_ratelimit_take(rl, k, 1, TN_SEC), TN_OK);
	assert_int_equal(tn_ratelimit_count(rl), 4);
	/* The evicted key 0 comes back fresh only when another has refilled. */
	key_of(k, 0);
	assert_int_equal(tn_ratelimit_take(rl, k, 1, TN_SEC), TN_ERR_STATE);
	/* Keys 1..3 keep their spent budgets throughout. */
	key_of(k, 1);
	assert_int_equal(tn_ratelimit_take(rl, k, 0, TN_SEC), TN_OK);
	assert_int_equal(tn_ratelimit_take(rl, k, 0, TN_SEC), TN_ERR_LIMIT);
	tn_ratelimit_del(rl);
}

/* The table against a model with unbounded memory, over random keys,
 * classes and time steps with a small capacity, so probe chains,
 * evictions and backward-shift deletions all happen. The model: a key's
 * bucket lives forever; the table refuses a key only when it has no live
 * bucket and `capacity` other keys have live (non-full) ones. */
enum { MODEL_KEYS_MAX = 160 };
static unsigned MODEL_KEYS = 24, MODEL_CAP = 6;

typedef struct model {
	tn_bucket b[MODEL_KEYS_MAX][2];
	bool known[MODEL_KEYS_MAX];
} model;

static bool model_live(const model *m, const tn_ratelimit_cfg *cfg, unsigned k, tn_time now)
{
	if (!m->known[k])
		return false;
	return !tn_bucket_is_full(&m->b[k][0], &cfg->classes[0], now) ||
	       !tn_bucket_is_full(&m->b[k][1], &cfg->classes[1], now);
}

static tn_err model_take(model *m, const tn_ratelimit_cfg *cfg, unsigned k, size_t cls, tn_time now)
{
	if (!model_live(m, cfg, k, now)) {
		unsigned others = 0;
		for (unsigned j = 0; j < MODEL_KEYS; j++)
			others += j != k && model_live(m, cfg, j, now);
		if (others >= MODEL_CAP)
			return TN_ERR_STATE;
		/* Absent or full: the same as fresh. */
		tn_bucket_init(&m->b[k][0], &cfg->classes[0], now);
		tn_bucket_init(&m->b[k][1], &cfg->classes[1], now);
		m->known[k] = true;
	}
	return tn_bucket_take(&m->b[k][cls], &cfg->classes[cls], now) ? TN_OK : TN_ERR_LIMIT;
}

static void model_walk(unsigned keys, unsigned cap, tn_time step, uint8_t seed)
{
	MODEL_KEYS = keys;
	MODEL_CAP = cap;
	test_rng r, script;
	tn_rand rand = test_rng_seed(&r, seed);
	tn_rand steps = test_rng_seed(&script, (uint8_t)(seed + 1));
	tn_ratelimit *rl;
	tn_ratelimit_cfg cfg = two_classes(MODEL_CAP);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_OK);
	static model m;
	memset(&m, 0, sizeof m);
	tn_time now = 0;
	unsigned outcomes[3] = {0};
	for (int i = 0; i < 200000; i++) {
		uint8_t s[4];
		tn_rand_bytes(&steps, s, sizeof s);
		unsigned k = s[0] % MODEL_KEYS;
		size_t cls = s[1] & 1;
		now += (tn_time)s[2] * step; /* 0 .. 255 steps */
		uint8_t key[TN_RATELIMIT_KEY];
		key_of(key, k);
		tn_err want = model_take(&m, &cfg, k, cls, now);
		tn_err got = tn_ratelimit_take(rl, key, cls, now);
		assert_int_equal(got, want);
		assert_true(tn_ratelimit_count(rl) <= MODEL_CAP);
		outcomes[want == TN_OK ? 0 : want == TN_ERR_LIMIT ? 1 : 2]++;
		(void)s[3];
	}
	/* The walk exercised every outcome. */
	assert_true(outcomes[0] > 1000 && outcomes[1] > 1000 && outcomes[2] > 100);
	tn_ratelimit_del(rl);
}

static void table_matches_model(void **state)
{
	(void)state;
	model_walk(24, 6, 20 * TN_MSEC, 4);
}

/* The same with a capacity whose table grows from 16 slots to 64 (and
 * 160 keys, so growth happens between evictions and deletions). */
static void growing_table_matches_model(void **state)
{
	(void)state;
	model_walk(160, 40, 4 * TN_MSEC, 8);
}

/* At capacity TN_ROSTER_MAX every key fits and keeps its own state. */
static void full_roster_fits(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 6);
	tn_ratelimit *rl;
	tn_ratelimit_cfg cfg = two_classes(TN_ROSTER_MAX);
	assert_int_equal(tn_ratelimit_new(&rl, &cfg, &rand), TN_OK);
	uint8_t k[TN_RATELIMIT_KEY];
	for (unsigned i = 0; i < TN_ROSTER_MAX; i++) {
		key_of(k, i);
		assert_int_equal(tn_ratelimit_take(rl, k, 0, 0), TN_OK);
		assert_int_equal(tn_ratelimit_take(rl, k, 0, 0), TN_OK);
	}
	assert_int_equal(tn_ratelimit_count(rl), TN_ROSTER_MAX);
	for (unsigned i = 0; i < TN_ROSTER_MAX; i++) {
		key_of(k, i);
		assert_int_equal(tn_ratelimit_take(rl, k, 0, 0), TN_ERR_LIMIT);
	}
	key_of(k, TN_ROSTER_MAX);
	assert_int_equal(tn_ratelimit_take(rl, k, 0, 0), TN_ERR_STATE);
	tn_ratelimit_del(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(refill_exact_at_interval),
	        cmocka_unit_test(no_drift_with_frequent_refills),
	        cmocka_unit_test(burst_is_a_cap),
	        cmocka_unit_test(backwards_time_mints_nothing),
	        cmocka_unit_test(huge_gaps_do_not_overflow),
	        cmocka_unit_test(cfg_validity),
	        cmocka_unit_test(table_new_rejects_bad_cfg),
	        cmocka_unit_test(keys_and_classes_are_independent),
	        cmocka_unit_test(full_table_evicts_only_refilled_keys),
	        cmocka_unit_test(table_matches_model),
	        cmocka_unit_test(growing_table_matches_model),
	        cmocka_unit_test(peek_spends_nothing),
	        cmocka_unit_test(full_roster_fits),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
