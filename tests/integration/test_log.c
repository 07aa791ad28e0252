/* daemon/log.c: levels, line format, sanitising, the token bucket with a
 * virtual clock (both sides of the refill), and the protocol's tn_log_fn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

typedef struct capture {
	char lines[64][256];
	int levels[64];
	size_t n;
	tn_time now;
} capture;

static void sink(void *ud, int level, const char *line)
{
	capture *c = ud;
	if (c->n < 64) {
		snprintf(c->lines[c->n], sizeof c->lines[0], "%s", line);
		c->levels[c->n] = level;
	}
	c->n++;
}

static tn_time clock_of(void *ud)
{
	return ((capture *)ud)->now;
}

static void setup_log(td_log *log, capture *c, int level)
{
	memset(c, 0, sizeof *c);
	td_log_init(log, level);
	td_log_set_sink(log, sink, c);
	td_log_set_clock(log, clock_of, c);
}

static void levels_filter(void **state)
{
	(void)state;
	td_log log;
	capture c;
	setup_log(&log, &c, TN_LOG_WARN);
	td_err(&log, "a n=%d", 1);
	td_warn(&log, "b");
	td_info(&log, "c");
	td_debug(&log, "d");
	assert_int_equal(c.n, 2);
	assert_string_equal(c.lines[0], "a n=1");
	assert_int_equal(c.levels[0], TN_LOG_ERR);
	assert_string_equal(c.lines[1], "b");
	log.level = TN_LOG_DEBUG;
	td_debug(&log, "d");
	assert_int_equal(c.n, 3);
}

static void control_chars_cannot_forge_lines(void **state)
{
	(void)state;
	td_log log;
	capture c;
	setup_log(&log, &c, TN_LOG_DEBUG);
	td_info(&log, "drop peer=%s", "x\nerr fake=1\x1b[31m");
	assert_int_equal(c.n, 1);
	assert_null(strchr(c.lines[0], '\n'));
	assert_null(strchr(c.lines[0], '\x1b'));
	assert_string_equal(c.lines[0], "drop peer=x?err fake=1?[31m");
}

static void level_names_round_trip(void **state)
{
	(void)state;
	int lv = -1;
	const char *names[] = {"err", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(td_log_level_parse(names[i], &lv), TN_OK);
		assert_int_equal(lv, i);
		assert_string_equal(td_log_level_name(lv), names[i]);
	}
	assert_int_equal(td_log_level_parse("INFO", &lv), TN_ERR_INVAL);
	assert_int_equal(td_log_level_parse("", &lv), TN_ERR_INVAL);
}

static void bucket_allows_burst_then_refills(void **state)
{
	(void)state;
	td_ratelimit rl;
	uint64_t supp = 99;
	td_ratelimit_init(&rl, 3, 3 * TN_SEC); /* one token per second */
	tn_time now = 1000 * TN_SEC;
	for (int i = 0; i < 3; i++) {
		assert_true(td_ratelimit_allow(&rl, now, &supp));
		assert_int_equal(supp, 0);
	}
	assert_false(td_ratelimit_allow(&rl, now, &supp));
	assert_false(td_ratelimit_allow(&rl, now + TN_SEC - 1, &supp));
	/* Exactly one refill period later: one token, and the count. */
	assert_true(td_ratelimit_allow(&rl, now + TN_SEC, &supp));
	assert_int_equal(supp, 2);
	assert_false(td_ratelimit_allow(&rl, now + TN_SEC, &supp));
	/* A long silence refills to the burst, never beyond. */
	now += 3600 * TN_SEC;
	for (int i = 0; i < 3; i++)
		assert_true(td_ratelimit_allow(&rl, now, &supp));
	assert_false(td_ratelimit_allow(&rl, now, &supp));
	/* A clock that goes backwards never mints tokens. */
	assert_false(td_ratelimit_allow(&rl, now - 10 * TN_SEC, &supp));
}

static void limited_lines_carry_suppressed_count(void **state)
{
	(void)state;
	td_log log;
	capture c;
	td_ratelimit rl;
	setup_log(&log, &c, TN_LOG_DEBUG);
	td_ratelimit_init(&rl, 2, 10 * TN_SEC);
	c.now = 5 * TN_SEC;
	for (int i = 0; i < 100; i++)
		td_log_limited(&log, &rl, TN_LOG_DEBUG, "drop peer=%d reason=bad_mac", i);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.lines[1], "drop peer=1 reason=bad_mac");
	c.now += 5 * TN_SEC; /* one token back */
	td_log_limited(&log, &rl, TN_LOG_DEBUG, "drop peer=%d reason=bad_mac", 100);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.lines[2], "drop peer=100 reason=bad_mac suppressed=98");
	/* Below the level: no line and no token taken. */
	log.level = TN_LOG_INFO;
	c.now += 10 * TN_SEC;
	for (int i = 0; i < 10; i++)
		td_log_limited(&log, &rl, TN_LOG_DEBUG, "x");
	assert_int_equal(c.n, 3);
	assert_int_equal(rl.suppressed, 0);
	/* Flush reports refused lines at shutdown. */
	log.level = TN_LOG_DEBUG;
	for (int i = 0; i < 5; i++)
		td_log_limited(&log, &rl, TN_LOG_DEBUG, "y");
	assert_int_equal(c.n, 5);
	td_log_flush_limited(&log, &rl, TN_LOG_INFO, "drop");
	assert_int_equal(c.n, 6);
	assert_string_equal(c.lines[5], "drop suppressed=3");
	td_log_flush_limited(&log, &rl, TN_LOG_INFO, "drop");
	assert_int_equal(c.n, 6);
}

static void protocol_log_fn_is_wired_and_limited(void **state)
{
	(void)state;
	td_log log;
	capture c;
	setup_log(&log, &c, TN_LOG_DEBUG);
	tn_log_fn fn = td_log_proto; /* the type the protocol config takes */
	for (int i = 0; i < 1000; i++)
		fn(&log, TN_LOG_DEBUG, "drop peer=3f9a reason=bad_mac");
	assert_true(c.n >= 1 && c.n <= 50);
	assert_string_equal(c.lines[0], "proto drop peer=3f9a reason=bad_mac");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(levels_filter),
		cmocka_unit_test(control_chars_cannot_forge_lines),
		cmocka_unit_test(level_names_round_trip),
		cmocka_unit_test(bucket_allows_burst_then_refills),
		cmocka_unit_test(limited_lines_carry_suppressed_count),
		cmocka_unit_test(protocol_log_fn_is_wired_and_limited),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
