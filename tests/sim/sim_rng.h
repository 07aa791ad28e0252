/* The simulator's pseudo-random generator: xoshiro256** (Blackman and
 * Vigna, 2018), its state filled from a 64-bit seed by splitmix64 as its
 * authors recommend. Fast, 2^256 - 1 period, statistically sound for
 * simulation; NOT cryptographic, which is fine here: it drives latencies,
 * churn and graph shapes, never keys. (Hosts that need a tn_rand, like the
 * real node, get one from sim_rng_tn_rand: reproducible, not secret.)
 *
 * Everything lives in the caller's sim_rng: no global state. */
#ifndef TOCSIN_SIM_RNG_H
#define TOCSIN_SIM_RNG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tocsin/types.h"

typedef struct sim_rng {
	uint64_t s[4];
} sim_rng;

static inline uint64_t sim_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A generator for (seed, stream): distinct streams of one seed are
 * unrelated, so each host or purpose can have its own. */
static inline void sim_rng_init(sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * UINT64_C(0xd1342543de82ef95));
	for (int i = 0; i < 4; i++)
		r->s[i] = sim_splitmix64(&x);
}

static inline uint64_t sim_rotl(uint64_t v, int k)
{
	return (v << k) | (v >> (64 - k));
}

static inline uint64_t sim_rng_u64(sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = sim_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double sim_rng_unit(sim_rng *r)
{
	return (double)(sim_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire's
 * multiply-shift with rejection). */
static inline uint64_t sim_rng_below(sim_rng *r, uint64_t n)
{
	uint64_t x = sim_rng_u64(r);
	__uint128_t m = (__uint128_t)x * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = (0 - n) % n;
		while (lo < t) {
			x = sim_rng_u64(r);
			m = (__uint128_t)x * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* Exponential with the given mean, in ns, rounded down. */
static inline tn_time sim_rng_exp(sim_rng *r, tn_time mean)
{
	double u = sim_rng_unit(r); /* [0,1): 1 - u is in (0,1], log finite */
	double v = -log(1.0 - u) * (double)mean;
	if (v >= 1.8e19)
		return (tn_time)1.8e19;
	return (tn_time)v;
}

/* Standard normal (Box-Muller, one of the pair). */
static inline double sim_rng_normal(sim_rng *r)
{
	double u1 = 1.0 - sim_rng_unit(r); /* (0,1] */
	double u2 = sim_rng_unit(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A tn_rand drawing from r (for a node under simulation). */
static inline void sim_rng_fill(void *ud, uint8_t *buf, size_t len)
{
	sim_rng *r = ud;
	while (len > 0) {
		uint64_t v = sim_rng_u64(r);
		size_t n = len < 8 ? len : 8;
		memcpy(buf, &v, n);
		buf += n;
		len -= n;
	}
}

static inline tn_rand sim_rng_tn_rand(sim_rng *r)
{
	return (tn_rand){.fn = sim_rng_fill, .ud = r};
}

#endif
