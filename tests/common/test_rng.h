/* Deterministic randomness for tests: a ChaCha20 keystream under a key
 * filled with one seed byte, a fresh nonce (the call counter) per call.
 * The same seed gives the same keys, ephemerals and nonces on every run,
 * so tests can pin exact bytes; different seeds give unrelated streams. */
#ifndef TOCSIN_TEST_RNG_H
#define TOCSIN_TEST_RNG_H

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/types.h"

typedef struct test_rng {
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint64_t calls;
} test_rng;

static inline void test_rng_fn(void *ud, uint8_t *buf, size_t len)
{
	test_rng *r = ud;
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
	for (size_t i = 0; i < sizeof nonce; i++)
		nonce[i] = (uint8_t)(r->calls >> (8 * i));
	r->calls++;
	crypto_stream_chacha20(buf, len, nonce, r->key);
}

/* Reset r to the stream of `seed` and return a tn_rand drawing from it. */
static inline tn_rand test_rng_seed(test_rng *r, uint8_t seed)
{
	memset(r, 0, sizeof *r);
	memset(r->key, seed, sizeof r->key);
	return (tn_rand){.fn = test_rng_fn, .ud = r};
}

#endif
