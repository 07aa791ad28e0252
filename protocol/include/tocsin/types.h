/* Tocsin protocol library: basic types shared by every module.
 *
 * The library is sans-I/O (DESIGN §2): time, randomness and log output all
 * come through the values and callbacks declared here, supplied by the
 * caller. The daemon wires them to the real clock, randombytes_buf() and its
 * log sink; tests and the simulator wire them to virtual time and a seeded
 * generator. */
#ifndef TOCSIN_TYPES_H
#define TOCSIN_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"

/* Nanoseconds from any monotonic source; only differences matter, except
 * where a function says it takes wall-clock time (TN_WALL). */
typedef uint64_t tn_time;

#define TN_NSEC ((tn_time)1)
#define TN_USEC ((tn_time)1000)
#define TN_MSEC ((tn_time)1000000)
#define TN_SEC ((tn_time)1000000000)
#define TN_MIN (60 * TN_SEC)
#define TN_HOUR (60 * TN_MIN)
#define TN_DAY (24 * TN_HOUR)
#define TN_TIME_NEVER UINT64_MAX

/* Fill buf with len bytes of cryptographically secure randomness. The
 * daemon passes a wrapper around randombytes_buf(); tests pass a seeded
 * deterministic generator. Must not fail. */
typedef void (*tn_rand_fn)(void *ud, uint8_t *buf, size_t len);

typedef struct tn_rand {
	tn_rand_fn fn;
	void *ud;
} tn_rand;

static inline void tn_rand_bytes(const tn_rand *r, void *buf, size_t len)
{
	r->fn(r->ud, (uint8_t *)buf, len);
}

enum tn_log_level {
	TN_LOG_ERR = 0,
	TN_LOG_WARN = 1,
	TN_LOG_INFO = 2,
	TN_LOG_DEBUG = 3,
};

/* Optional log sink. msg is a NUL-terminated lowercase key=value line with
 * no trailing newline, valid only during the call. The library never logs
 * key material. */
typedef void (*tn_log_fn)(void *ud, int level, const char *msg);

#endif
