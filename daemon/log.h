/* tocsind: the one log sink (STYLE §8).
 *
 * Lines are lowercase "event key=value ..." with stable keys. The sink is
 * stderr; when stderr is connected to the systemd journal (JOURNAL_STREAM
 * matches it) each line gets a "<N>" syslog priority prefix instead of a
 * timestamp, which journald turns into the entry's priority, so no
 * libsystemd call is needed for logging. Control characters in a line are
 * replaced by '?', so a peer-supplied string cannot forge a log line.
 *
 * Never pass key material, passphrases or alert plaintext to these
 * functions; log fingerprints and counts.
 *
 * Anything a remote peer can trigger goes through td_log_limited() with a
 * td_ratelimit owned by the caller's context (one per call site, or per
 * call site and key), so a flood cannot fill the disk. */
#ifndef TD_LOG_H
#define TD_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "tocsin/types.h"

/* Token bucket: at most `burst` lines back to back, refilled at burst per
 * interval. Lines refused are counted; the next line let through carries
 * "suppressed=K". Caller-owned storage (td_ratelimit_init, no _free). */
typedef struct td_ratelimit {
	uint32_t burst;
	uint32_t tokens;
	tn_time interval;
	tn_time last;        /* time up to which tokens have been credited */
	uint64_t suppressed; /* refused since the last line let through */
	bool started;
} td_ratelimit;

void td_ratelimit_init(td_ratelimit *rl, uint32_t burst, tn_time interval);

/* Take one token at time now (monotonic ns). Returns true if the line may
 * be written, and then sets *suppressed to the count refused since the
 * previous line let through (and resets it). Returns false otherwise. */
bool td_ratelimit_allow(td_ratelimit *rl, tn_time now, uint64_t *suppressed);

/* Monotonic clock for rate limits; tests pass a variable. */
typedef tn_time (*td_clock_fn)(void *ud);
/* Optional capture of formatted lines (tests); line has no newline. */
typedef void (*td_log_sink_fn)(void *ud, int level, const char *line);

typedef struct td_log {
	int level;          /* TN_LOG_*: lines with a higher level are dropped */
	int fd;             /* stderr unless a test changes it */
	bool journal;       /* "<N>" prefixes instead of timestamps */
	td_clock_fn clock;
	void *clock_ud;
	td_log_sink_fn sink; /* when set, replaces the fd */
	void *sink_ud;
	td_ratelimit proto_rl; /* every line from the protocol library */
} td_log;

/* stderr sink at level; detects the journal; clock must be set with
 * td_log_set_clock before td_log_limited or td_log_proto are used. */
void td_log_init(td_log *log, int level);
void td_log_set_clock(td_log *log, td_clock_fn fn, void *ud);
void td_log_set_sink(td_log *log, td_log_sink_fn fn, void *ud);

static inline bool td_log_enabled(const td_log *log, int level)
{
	return level <= log->level;
}

__attribute__((format(printf, 3, 4))) void td_log_msg(td_log *log, int level, const char *fmt,
						      ...);

#define td_err(log, ...) td_log_msg((log), TN_LOG_ERR, __VA_ARGS__)
#define td_warn(log, ...) td_log_msg((log), TN_LOG_WARN, __VA_ARGS__)
#define td_info(log, ...) td_log_msg((log), TN_LOG_INFO, __VA_ARGS__)
#define td_debug(log, ...) td_log_msg((log), TN_LOG_DEBUG, __VA_ARGS__)

/* As td_log_msg, but only if rl has a token at the log's clock; appends
 * " suppressed=K" when earlier lines were refused. A line below the log
 * level costs nothing and takes no token. */
__attribute__((format(printf, 4, 5))) void td_log_limited(td_log *log, td_ratelimit *rl,
							  int level, const char *fmt, ...);

/* Write "<what> suppressed=K" if rl refused lines since its last one (at
 * shutdown, so a count is never lost silently). */
void td_log_flush_limited(td_log *log, td_ratelimit *rl, int level, const char *what);

/* tn_log_fn for the protocol library's config: ud is the td_log. Every
 * protocol line is rate limited by log->proto_rl (the protocol logs what
 * peers trigger). */
void td_log_proto(void *ud, int level, const char *msg);

/* "err", "warn", "info", "debug"; "?" for others. */
const char *td_log_level_name(int level);
/* Inverse; TN_ERR_INVAL for an unknown name. */
TN_NODISCARD tn_err td_log_level_parse(const char *name, int *level);

#endif
