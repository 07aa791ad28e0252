/* What every benchmark in bench/ shares: a monotonic clock in ns, the OS
 * RNG as a tn_rand, and dying with a message. Header-only, static. */
#ifndef TOCSIN_BENCH_H
#define TOCSIN_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

static inline double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline void os_rand(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	randombytes_buf(buf, len);
}

static inline void die(const char *what, long rc)
{
	fprintf(stderr, "bench: %s failed (%ld)\n", what, rc);
	exit(1);
}

#endif
