/* Tests: write a seed file (the --write-corpus modes of the unit tests).
 * Include after cmocka.h. */
#ifndef TOCSIN_TEST_FILE_H
#define TOCSIN_TEST_FILE_H

#include <stdint.h>
#include <stdio.h>

/* dir/name holds the n bytes at p (asserted). */
static inline void test_write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

#endif
