/* tocsind log sink and rate limiter (see log.h). */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon_limits.h"

/* Generous for lines a peer can trigger through the protocol library. */
enum { PROTO_BURST = 20 };
#define PROTO_INTERVAL (10 * TN_SEC)

void td_ratelimit_init(td_ratelimit *rl, uint32_t burst, tn_time interval)
{
	memset(rl, 0, sizeof *rl);
	rl->burst = burst ? burst : 1;
	rl->interval = interval ? interval : 1;
}

static void refill(td_ratelimit *rl, tn_time now)
{
	if (!rl->started) {
		rl->started = true;
		rl->tokens = rl->burst;
		rl->last = now;
		return;
	}
	if (now <= rl->last)
		return;
	tn_time per = rl->interval / rl->burst;
	if (per == 0)
		per = 1;
	uint64_t n = (now - rl->last) / per;
	if (n >= (uint64_t)(rl->burst - rl->tokens)) {
		rl->tokens = rl->burst;
		rl->last = now;
	} else {
		rl->tokens += (uint32_t)n;
		rl->last += n * per;
	}
}

bool td_ratelimit_allow(td_ratelimit *rl, tn_time now, uint64_t *suppressed)
{
	refill(rl, now);
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

/* systemd's sd-daemon(3) convention: JOURNAL_STREAM="dev:ino" of the
 * stream journald gave us; only trust it if it is still our stderr. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void td_log_init(td_log *log, int level)
{
	memset(log, 0, sizeof *log);
	log->level = level;
	log->fd = STDERR_FILENO;
	log->journal = stderr_is_journal();
	td_ratelimit_init(&log->proto_rl, PROTO_BURST, PROTO_INTERVAL);
}

void td_log_set_clock(td_log *log, td_clock_fn fn, void *ud)
{
	log->clock = fn;
	log->clock_ud = ud;
}

void td_log_set_sink(td_log *log, td_log_sink_fn fn, void *ud)
{
	log->sink = fn;
	log->sink_ud = ud;
}

const char *td_log_level_name(int level)
{
	switch (level) {
	case TN_LOG_ERR: return "err";
	case TN_LOG_WARN: return "warn";
	case TN_LOG_INFO: return "info";
	case TN_LOG_DEBUG: return "debug";
	default: return "?";
	}
}

tn_err td_log_level_parse(const char *name, int *level)
{
	static const int levels[] = {TN_LOG_ERR, TN_LOG_WARN, TN_LOG_INFO, TN_LOG_DEBUG};
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (strcmp(name, td_log_level_name(levels[i])) == 0) {
			*level = levels[i];
			return TN_OK;
		}
	}
	return TN_ERR_INVAL;
}

/* syslog priorities: err 3, warning 4, info 6, debug 7. */
static int syslog_prio(int level)
{
	static const int prio[] = {3, 4, 6, 7};
	return (level >= 0 && level <= TN_LOG_DEBUG) ? prio[level] : 7;
}

static size_t prefix(const td_log *log, int level, char *buf, size_t len)
{
	int n;
	if (log->journal || log->sink) {
		n = log->sink ? 0 : snprintf(buf, len, "<%d>", syslog_prio(level));
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, td_log_level_name(level));
	}
	return (n > 0 && (size_t)n < len) ? (size_t)n : 0;
}

/* One write(2) per line so concurrent writers do not interleave mid-line. */
__attribute__((format(printf, 4, 0))) static void emit(td_log *log, int level, const char *suffix,
							const char *fmt, va_list ap)
{
	char line[TD_LOG_LINE_MAX];
	size_t off = prefix(log, level, line, sizeof line - 1);
	size_t body = off;
	int n = vsnprintf(line + off, sizeof line - 1 - off, fmt, ap);
	if (n < 0)
		return;
	off += ((size_t)n < sizeof line - 1 - off) ? (size_t)n : sizeof line - 2 - off;
	if (suffix) {
		int m = snprintf(line + off, sizeof line - 1 - off, "%s", suffix);
		if (m > 0)
			off += ((size_t)m < sizeof line - 1 - off) ? (size_t)m : sizeof line - 2 - off;
	}
	for (size_t i = body; i < off; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (log->sink) {
		line[off] = '\0';
		log->sink(log->sink_ud, level, line);
		return;
	}
	line[off++] = '\n';
	ssize_t w = write(log->fd, line, off);
	(void)w; /* nowhere left to report a failing log write */
}

void td_log_msg(td_log *log, int level, const char *fmt, ...)
{
	if (!td_log_enabled(log, level))
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(log, level, NULL, fmt, ap);
	va_end(ap);
}

static tn_time log_now(const td_log *log)
{
	return log->clock ? log->clock(log->clock_ud) : 0;
}

void td_log_limited(td_log *log, td_ratelimit *rl, int level, const char *fmt, ...)
{
	uint64_t suppressed = 0;
	if (!td_log_enabled(log, level) || !td_ratelimit_allow(rl, log_now(log), &suppressed))
		return;
	char suffix[40];
	suffix[0] = '\0';
	if (suppressed)
		snprintf(suffix, sizeof suffix, " suppressed=%" PRIu64, suppressed);
	va_list ap;
	va_start(ap, fmt);
	emit(log, level, suffix, fmt, ap);
	va_end(ap);
}

void td_log_flush_limited(td_log *log, td_ratelimit *rl, int level, const char *what)
{
	if (rl->suppressed == 0)
		return;
	td_log_msg(log, level, "%s suppressed=%" PRIu64, what, rl->suppressed);
	rl->suppressed = 0;
}

void td_log_proto(void *ud, int level, const char *msg)
{
	td_log *log = ud;
	td_log_limited(log, &log->proto_rl, level, "proto %s", msg);
}
