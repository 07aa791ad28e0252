/* daemon/paths.c: --home, TOCSIN_HOME, XDG and its fallbacks, socket length,
 * directory creation and modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "paths.h"

static td_env env_of(const char *home)
{
	td_env e;
	memset(&e, 0, sizeof e);
	e.home = home;
	e.cwd = "/work/dir";
	return e;
}

static void home_flag_puts_everything_under_dir(void **state)
{
	(void)state;
	td_paths p;
	char err[512];
	td_env e = env_of("/home/u");
	e.tocsin_home = "/ignored/because/flag";
	e.xdg_runtime_dir = "/run/user/1000";
	assert_int_equal(td_paths_resolve(&p, &e, "/tmp/n1", NULL, err, sizeof err), TN_OK);
	assert_string_equal(p.home, "/tmp/n1");
	assert_string_equal(p.config_file, "/tmp/n1/tocsind.conf");
	assert_string_equal(p.data_dir, "/tmp/n1/data");
	assert_string_equal(p.db_file, "/tmp/n1/data/tocsin.db");
	assert_string_equal(p.keystore_file, "/tmp/n1/data/keystore");
	assert_string_equal(p.lock_file, "/tmp/n1/data/tocsind.pid");
	assert_string_equal(p.control_socket, "/tmp/n1/control.sock");
	assert_false(p.runtime_fallback);
	assert_false(p.config_explicit);
}

static void tocsin_home_env_used_without_flag(void **state)
{
	(void)state;
	td_paths p;
	char err[512];
	td_env e = env_of("/home/u");
	e.tocsin_home = "/srv/t";
	assert_int_equal(td_paths_resolve(&p, &e, NULL, NULL, err, sizeof err), TN_OK);
	assert_string_equal(p.control_socket, "/srv/t/control.sock");
	assert_string_equal(p.data_dir, "/srv/t/data");
}

static void relative_home_made_absolute(void **state)
{
	(void)state;
	td_paths p;
	char err[512];
	td_env e = env_of("/home/u");
	assert_int_equal(td_paths_resolve(&p, &e, "rel/h", "c.conf", err, sizeof err), TN_OK);
	assert_string_equal(p.home, "/work/dir/rel/h");
	assert_string_equal(p.config_file, "/work/dir/c.conf");
	assert_true(p.config_explicit);
}

static void xdg_variables_used(void **state)
{
	(void)state;
	td_paths p;
	char err[512];
	td_env e = env_of("/home/u");
	e.xdg_config_home = "/x/cfg";
	e.xdg_data_home = "/x/data";
	e.xdg_runtime_dir = "/run/user/7";
	assert_int_equal(td_paths_resolve(&p, &e, NULL, NULL, err, sizeof err), TN_OK);
	assert_string_equal(p.home, "");
	assert_string_equal(p.config_file, "/x/cfg/tocsin/tocsind.conf");
	assert_string_equal(p.data_dir, "/x/data/tocsin");
	assert_string_equal(p.db_file, "/x/data/tocsin/tocsin.db");
	assert_string_equal(p.control_socket, "/run/user/7/tocsin/control.sock");
	assert_false(p.runtime_fallback);
}

static void xdg_fallbacks_when_unset_empty_or_relative(void **state)
{
	(void)state;
	td_paths p;
	char err[512];
	td_env e = env_of("/home/u");
	e.xdg_config_home = "";          /* empty: unset */
	e.xdg_data_home = "relative/dir"; /* relative: ignored (XDG spec) */
	assert_int_equal(td_paths_resolve(&p, &e, NULL, NULL, err, sizeof err), TN_OK);
	assert_string_equal(p.config_file, "/home/u/.config/tocsin/tocsind.conf");
	assert_string_equal(p.data_dir, "/home/u/.local/share/tocsin");
	/* No XDG_RUNTIME_DIR: 0700 dir under the data dir, and flagged. */
	assert_true(p.runtime_fallback);
	assert_string_equal(p.runtime_dir, "/home/u/.local/share/tocsin/run");
	assert_string_equal(p.control_socket, "/home/u/.local/share/tocsin/run/control.sock");
}

static void no_home_anywhere_is_an_error(void **state)
{
	(void)state;
	td_paths p;
	char err[512];
	td_env e = env_of(NULL);
	assert_int_equal(td_paths_resolve(&p, &e, NULL, NULL, err, sizeof err), TN_ERR_INVAL);
	assert_non_null(strstr(err, "HOME"));
	assert_string_equal(p.data_dir, ""); /* zeroed on error */
	/* But full XDG settings need no HOME. */
	e.xdg_config_home = "/c";
	e.xdg_data_home = "/d";
	assert_int_equal(td_paths_resolve(&p, &e, NULL, NULL, err, sizeof err), TN_OK);
}

static void too_long_socket_path_names_the_path(void **state)
{
	(void)state;
	td_paths p;
	char err[1024], home[200];
	memset(home, 'a', sizeof home);
	home[0] = '/';
	home[sizeof home - 1] = '\0';
	td_env e = env_of("/home/u");
	assert_int_equal(td_paths_resolve(&p, &e, home, NULL, err, sizeof err), TN_ERR_LIMIT);
	assert_non_null(strstr(err, "control socket path too long"));
	assert_non_null(strstr(err, home));
	assert_non_null(strstr(err, "/control.sock"));
	/* Exactly at the limit is fine, one byte more is not. */
	size_t max = td_paths_socket_max();
	size_t dirlen = max - strlen("/control.sock");
	char exact[200];
	memset(exact, 'b', dirlen);
	exact[0] = '/';
	exact[dirlen] = '\0';
	assert_int_equal(td_paths_resolve(&p, &e, exact, NULL, err, sizeof err), TN_OK);
	assert_int_equal(strlen(p.control_socket), max);
	exact[dirlen] = 'b';
	exact[dirlen + 1] = '\0';
	assert_int_equal(td_paths_resolve(&p, &e, exact, NULL, err, sizeof err), TN_ERR_LIMIT);
}

static void path_longer_than_path_max_is_an_error(void **state)
{
	(void)state;
	td_paths p;
	char err[512];
	char *big = malloc(TD_PATH_MAX + 10);
	assert_non_null(big);
	memset(big, 'c', TD_PATH_MAX + 9);
	big[0] = '/';
	big[TD_PATH_MAX + 9] = '\0';
	td_env e = env_of("/home/u");
	assert_int_equal(td_paths_resolve(&p, &e, big, NULL, err, sizeof err), TN_ERR_LIMIT);
	free(big);
}

static void count_note(void *ud, const char *msg)
{
	(void)msg;
	(*(unsigned *)ud)++;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	return st.st_mode & 0777;
}

static void make_dirs_creates_0700_and_tightens(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/tn-paths-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char home[256], err[512];
	snprintf(home, sizeof home, "%s/deep/home", tmpl);
	td_paths p;
	td_env e = env_of("/nonexistent");
	assert_int_equal(td_paths_resolve(&p, &e, home, NULL, err, sizeof err), TN_OK);
	mode_t old = umask(0);
	unsigned notes = 0;
	assert_int_equal(td_paths_make_dirs(&p, count_note, &notes, err, sizeof err), TN_OK);
	assert_int_equal(mode_of(home), 0700);
	assert_int_equal(mode_of(p.data_dir), 0700);
	assert_int_equal(notes, 0);
	/* A home left group/world-readable is tightened and reported. */
	assert_int_equal(chmod(p.data_dir, 0755), 0);
	assert_int_equal(td_paths_make_dirs(&p, count_note, &notes, err, sizeof err), TN_OK);
	assert_int_equal(mode_of(p.data_dir), 0700);
	assert_int_equal(notes, 1);
	/* A file where a directory should be is an error naming it. */
	assert_int_equal(rmdir(p.data_dir), 0);
	FILE *fp = fopen(p.data_dir, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(td_paths_make_dirs(&p, NULL, NULL, err, sizeof err), TN_ERR_IO);
	assert_non_null(strstr(err, p.data_dir));
	umask(old);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
}

static void make_dirs_xdg_fallback_runtime(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/tn-paths-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char err[512];
	td_paths p;
	td_env e = env_of(tmpl);
	assert_int_equal(td_paths_resolve(&p, &e, NULL, NULL, err, sizeof err), TN_OK);
	assert_int_equal(td_paths_make_dirs(&p, NULL, NULL, err, sizeof err), TN_OK);
	assert_int_equal(mode_of(p.config_dir), 0700);
	assert_int_equal(mode_of(p.data_dir), 0700);
	assert_int_equal(mode_of(p.runtime_dir), 0700);
	char parent[300];
	snprintf(parent, sizeof parent, "%s/.local", tmpl); /* created parent: 0700 too */
	assert_int_equal(mode_of(parent), 0700);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(home_flag_puts_everything_under_dir),
		cmocka_unit_test(tocsin_home_env_used_without_flag),
		cmocka_unit_test(relative_home_made_absolute),
		cmocka_unit_test(xdg_variables_used),
		cmocka_unit_test(xdg_fallbacks_when_unset_empty_or_relative),
		cmocka_unit_test(no_home_anywhere_is_an_error),
		cmocka_unit_test(too_long_socket_path_names_the_path),
		cmocka_unit_test(path_longer_than_path_max_is_an_error),
		cmocka_unit_test(make_dirs_creates_0700_and_tightens),
		cmocka_unit_test(make_dirs_xdg_fallback_runtime),
	};
	return cmocka_run_group_tests_name("paths", tests, NULL, NULL);
}
