/* daemon/config.c: the INI mapping, every kind of error with file:line,
 * overrides, and the file checks of td_config_load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

static tn_err parse(td_config *c, const char *text, char *err, size_t errlen)
{
	return td_config_parse(c, text, strlen(text), "t.conf", err, errlen);
}

static void defaults(void **state)
{
	(void)state;
	td_config c;
	td_config_default(&c);
	assert_string_equal(c.listen_str, "127.0.0.1:7450");
	assert_int_equal(c.degree, 5);
	assert_int_equal(c.max_inbound, 12);
	assert_int_equal(c.keepalive_s, 120);
	assert_string_equal(c.on_alert, "");
	assert_true(c.desktop);
	assert_true(c.desktop_details);
	assert_int_equal(c.log_level, TN_LOG_INFO);
}

static void valid_file_sets_every_key(void **state)
{
	(void)state;
	td_config c;
	char err[512];
	td_config_default(&c);
	const char *text = "; tocsind.conf\n"
			   "[network]\n"
			   "listen = 10.1.2.3:9000\n"
			   "\n"
			   "[links]\n"
			   "degree = 7\n"
			   "max_inbound = 0\n"
			   "keepalive = 3600 ; inline comment\n"
			   "[notify]\n"
			   "on_alert = /usr/local/bin/hook\n"
			   "desktop = false\n"
			   "desktop_details = false\n"
			   "[log]\n"
			   "level = debug\n";
	assert_int_equal(parse(&c, text, err, sizeof err), TN_OK);
	assert_string_equal(c.listen_str, "10.1.2.3:9000");
	struct sockaddr_in *a = (struct sockaddr_in *)&c.listen;
	assert_int_equal(a->sin_family, AF_INET);
	assert_int_equal(ntohs(a->sin_port), 9000);
	assert_int_equal(c.degree, 7);
	assert_int_equal(c.max_inbound, 0);
	assert_int_equal(c.keepalive_s, 3600);
	assert_string_equal(c.on_alert, "/usr/local/bin/hook");
	assert_false(c.desktop);
	assert_false(c.desktop_details);
	assert_int_equal(c.log_level, TN_LOG_DEBUG);
}

static void empty_file_keeps_defaults(void **state)
{
	(void)state;
	td_config c, d;
	char err[512];
	td_config_default(&c);
	d = c;
	assert_int_equal(td_config_parse(&c, "", 0, "t.conf", err, sizeof err), TN_OK);
	assert_memory_equal(&c, &d, sizeof c);
}

static void ipv6_and_port_zero(void **state)
{
	(void)state;
	td_config c;
	char err[512];
	td_config_default(&c);
	assert_int_equal(parse(&c, "[network]\nlisten = [::1]:0\n", err, sizeof err), TN_OK);
	assert_string_equal(c.listen_str, "[::1]:0");
	assert_int_equal(c.listen.ss_family, AF_INET6);
	assert_int_equal(parse(&c, "[network]\nlisten=[2001:DB8::0:1]:65535\n", err, sizeof err),
			 TN_OK);
	assert_string_equal(c.listen_str, "[2001:db8::1]:65535"); /* canonical */
}

/* Each bad input: the exact line and a phrase of the reason. */
static const struct bad {
	const char *text;
	const char *where;
	const char *why;
} bad_inputs[] = {
	{"[network]\nlisten = 1.2.3.4:80\n[bogus]\n", "t.conf:3:", "unknown section [bogus]"},
	{"[links]\ndegree = 5\n[log]\nlevell = info\n", "t.conf:4:", "unknown key 'levell' in [log]"},
	{"degree = 5\n", "t.conf:1:", "outside any [section]"},
	{"[links]\ndegree = 5\n\ndegree = 6\n", "t.conf:4:", "duplicate key 'degree'"},
	{"[links]\ndegree = 5\n[links]\ndegree = 6\n", "t.conf:4:", "first set on line 2"},
	{"[links]\ndegree = 0\n", "t.conf:2:", "[links] degree: expected an integer from 1 to 32"},
	{"[links]\ndegree = 33\n", "t.conf:2:", "from 1 to 32, got '33'"},
	{"[links]\nmax_inbound = 257\n", "t.conf:2:", "from 0 to 256"},
	{"[links]\nkeepalive = 1\n", "t.conf:2:", "from 2 to 3600"},
	{"[links]\nkeepalive = -5\n", "t.conf:2:", "got '-5'"},
	{"[links]\nkeepalive = 0x20\n", "t.conf:2:", "got '0x20'"},
	{"[links]\nkeepalive = 99999999999999999999\n", "t.conf:2:", "from 2 to 3600"},
	{"[links]\nkeepalive =\n", "t.conf:2:", "got ''"},
	{"[notify]\ndesktop = yes\n", "t.conf:2:", "expected true or false"},
	{"[notify]\ndesktop_details = on\n", "t.conf:2:", "expected true or false"},
	{"[notify]\non_alert = bin/hook\n", "t.conf:2:", "absolute path"},
	{"[log]\nlevel = verbose\n", "t.conf:2:", "expected err, warn, info or debug"},
	{"[network]\nlisten = localhost:7450\n", "t.conf:2:", "no host names"},
	{"[network]\nlisten = 1.2.3.4\n", "t.conf:2:", "expected HOST:PORT"},
	{"[network]\nlisten = 1.2.3.4:65536\n", "t.conf:2:", "0 to 65535"},
	{"[network]\nlisten = 1.2.3.4:\n", "t.conf:2:", "0 to 65535"},
	{"[network]\nlisten = 300.2.3.4:80\n", "t.conf:2:", "not a numeric IPv4"},
	{"[network]\nlisten = ::1:80\n", "t.conf:2:", "need brackets"},
	{"[network]\nlisten = [::1]80\n", "t.conf:2:", "expected [IPv6]:PORT"},
	{"[network]\nlisten = [zz::1]:80\n", "t.conf:2:", "not a numeric IPv6"},
	{"[network]\nlisten = [fe80::1%eth0]:80\n", "t.conf:2:", "not a numeric IPv6"},
	{"[network\nlisten = 1.2.3.4:5\n", "t.conf:1:", "syntax error"},
	{"[network]\nthis line has no equals\n", "t.conf:2:", "syntax error"},
	{"[links]\ndegree = 5\n  6\n", "t.conf:3:", "duplicate key 'degree'"},
	/* The first error wins, whether ours or inih's. */
	{"[network\n[bogus]\n", "t.conf:1:", "syntax error"},
	{"[bogus]\n[network\n", "t.conf:1:", "unknown section"},
};

static void every_error_has_file_line_and_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++) {
		td_config c, before;
		char err[512] = "";
		td_config_default(&c);
		before = c;
		tn_err rc = parse(&c, bad_inputs[i].text, err, sizeof err);
		if (rc != TN_ERR_CONFIG || strncmp(err, bad_inputs[i].where,
						   strlen(bad_inputs[i].where)) != 0 ||
		    !strstr(err, bad_inputs[i].why))
			fail_msg("input %zu: rc=%d err='%s' want '%s ... %s'", i, rc, err,
				 bad_inputs[i].where, bad_inputs[i].why);
		/* All or nothing. */
		assert_memory_equal(&c, &before, sizeof c);
	}
}

static void nul_byte_and_long_line_are_errors(void **state)
{
	(void)state;
	td_config c;
	char err[512];
	td_config_default(&c);
	const char nul[] = "[log]\nlevel = de\0bug\n";
	assert_int_equal(td_config_parse(&c, nul, sizeof nul - 1, "t.conf", err, sizeof err),
			 TN_ERR_CONFIG);
	assert_non_null(strstr(err, "t.conf:2: NUL byte"));
	char line[1024];
	snprintf(line, sizeof line, "[notify]\n\non_alert = /%0300d\n", 0);
	assert_int_equal(parse(&c, line, err, sizeof err), TN_ERR_CONFIG);
	assert_non_null(strstr(err, "t.conf:3: line longer than"));
	assert_string_equal(c.on_alert, "");
}

static void set_overrides_file_value(void **state)
{
	(void)state;
	td_config c;
	char err[512];
	td_config_default(&c);
	assert_int_equal(parse(&c, "[network]\nlisten = 10.0.0.1:1\n[log]\nlevel = err\n", err,
			       sizeof err),
			 TN_OK);
	/* What --listen and --log-level do after the file. */
	assert_int_equal(td_config_set(&c, "network", "listen", "127.0.0.1:7777", err, sizeof err),
			 TN_OK);
	assert_int_equal(td_config_set(&c, "log", "level", "debug", err, sizeof err), TN_OK);
	assert_string_equal(c.listen_str, "127.0.0.1:7777");
	assert_int_equal(c.log_level, TN_LOG_DEBUG);
	/* A bad override names the key and leaves the config alone. */
	assert_int_equal(td_config_set(&c, "network", "listen", "nope", err, sizeof err),
			 TN_ERR_CONFIG);
	assert_non_null(strstr(err, "[network] listen:"));
	assert_string_equal(c.listen_str, "127.0.0.1:7777");
	assert_int_equal(td_config_set(&c, "nope", "x", "1", err, sizeof err), TN_ERR_CONFIG);
	assert_non_null(strstr(err, "unknown section [nope]"));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void load_file_checks(void **state)
{
	(void)state;
	char dir[] = "/tmp/tn-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], err[512];
	snprintf(path, sizeof path, "%s/tocsind.conf", dir);
	td_config c;
	td_config_default(&c);
	bool found = true;
	/* Missing: fine unless it must exist. */
	assert_int_equal(td_config_load(&c, path, false, &found, err, sizeof err), TN_OK);
	assert_false(found);
	assert_int_equal(td_config_load(&c, path, true, &found, err, sizeof err), TN_ERR_IO);
	assert_non_null(strstr(err, path));
	/* Present and private. */
	write_file(path, "[links]\ndegree = 9\n", 0600);
	assert_int_equal(td_config_load(&c, path, true, &found, err, sizeof err), TN_OK);
	assert_true(found);
	assert_int_equal(c.degree, 9);
	/* Errors carry the real file name and line. */
	write_file(path, "[links]\n\ndegree = 99\n", 0600);
	assert_int_equal(td_config_load(&c, path, true, &found, err, sizeof err), TN_ERR_CONFIG);
	char want[300];
	snprintf(want, sizeof want, "%s:3: [links] degree:", path);
	assert_non_null(strstr(err, want));
	assert_int_equal(c.degree, 9);
	/* Group-writable: refused, on_alert would run what others wrote. */
	write_file(path, "[links]\ndegree = 4\n", 0620);
	assert_int_equal(td_config_load(&c, path, true, &found, err, sizeof err), TN_ERR_CONFIG);
	assert_non_null(strstr(err, "not writable by group or others"));
	/* Too large. */
	char *big = malloc(TD_CONFIG_FILE_MAX + 100);
	assert_non_null(big);
	memset(big, '\n', TD_CONFIG_FILE_MAX + 99);
	big[TD_CONFIG_FILE_MAX + 99] = '\0';
	write_file(path, big, 0600);
	free(big);
	assert_int_equal(td_config_load(&c, path, true, &found, err, sizeof err), TN_ERR_CONFIG);
	assert_non_null(strstr(err, "larger than"));
	/* A directory is not a config file; a FIFO neither (and must not block). */
	assert_int_equal(td_config_load(&c, dir, true, &found, err, sizeof err), TN_ERR_CONFIG);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(td_config_load(&c, path, true, &found, err, sizeof err), TN_ERR_CONFIG);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(valid_file_sets_every_key),
		cmocka_unit_test(empty_file_keeps_defaults),
		cmocka_unit_test(ipv6_and_port_zero),
		cmocka_unit_test(every_error_has_file_line_and_reason),
		cmocka_unit_test(nul_byte_and_long_line_are_errors),
		cmocka_unit_test(set_overrides_file_value),
		cmocka_unit_test(load_file_checks),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
