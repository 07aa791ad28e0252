/* Error names are part of the log format: every code has a distinct name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tocsin/err.h"

static void names_are_distinct_and_known(void **state)
{
	(void)state;
	int codes[200];
	size_t n = 0;
	for (int c = 0; c >= -999; c--) {
		if (strcmp(tn_strerror(c), "unknown") != 0) {
			assert_true(n < sizeof codes / sizeof codes[0]);
			codes[n++] = c;
		}
	}
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(tn_strerror(codes[i]), tn_strerror(codes[j]));
	assert_string_equal(tn_strerror(1), "unknown");
	assert_string_equal(tn_strerror(TN_ERR_DEC_NONCANONICAL), "dec_noncanonical");
}

static void fatal_split(void **state)
{
	(void)state;
	assert_true(tn_err_is_fatal(TN_ERR_NOMEM));
	assert_true(tn_err_is_fatal(TN_ERR_INTERNAL));
	assert_false(tn_err_is_fatal(TN_ERR_AUTH));
	assert_false(tn_err_is_fatal(TN_OK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_are_distinct_and_known),
		cmocka_unit_test(fatal_split),
	};
	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
