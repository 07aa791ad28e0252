/* The keystore file layer against the real file system, in a mkdtemp
 * directory removed afterwards. */
/* nftw() for the clean-up is XSI. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keystore_file.h"
#include "tocsin/identity.h"
#include "tocsin/keystore.h"
#include "test_rng.h"

static const char PASS[] = "one two three";
#define PASSLEN (sizeof PASS - 1)

typedef struct fx {
	char root[64];   /* mkdtemp */
	char dir[256];   /* root/a/b/data: created by the first save */
	char path[300];  /* dir/keystore */
	test_rng rng;
	tn_rand rand;
	tn_identity *id;
	char msg[TN_KSFILE_MSG_MAX];
} fx;

static int setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	umask(022);
	strcpy(f->root, "/tmp/tocsin-ksfile-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof f->dir, "%s/a/b/data", f->root);
	snprintf(f->path, sizeof f->path, "%s/keystore", f->dir);
	f->rand = test_rng_seed(&f->rng, 0x5a);
	if (tn_identity_new(&f->id, &f->rand) != TN_OK)
		return -1;
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	fx *f = *state;
	int rc = nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tn_identity_del(f->id);
	free(f);
	return rc;
}

static void save_plain(fx *f, tn_ksfile_flags flags, const tn_identity *id)
{
	assert_int_equal(tn_keystore_file_save(f->dir, flags, id, NULL, 0, NULL, &f->rand, f->msg,
					       sizeof f->msg),
			 TN_OK);
	assert_string_equal(f->msg, "");
}

static void assert_load_fails(fx *f, const char *pass, size_t passlen, tn_err want)
{
	tn_identity *id = (tn_identity *)f; /* must be reset to NULL */
	assert_int_equal(tn_keystore_file_load(f->dir, pass, passlen, &id, f->msg, sizeof f->msg),
			 want);
	assert_null(id);
}

/* The exact message, formatted like printf. */
#define expect_msg(f, ...)                                          \
	do {                                                        \
		char want_[4 * TN_KSFILE_MSG_MAX];                    \
		snprintf(want_, sizeof want_, __VA_ARGS__);         \
		assert_string_equal((f)->msg, want_);               \
	} while (0)

/* Names in dir other than "." and "..", for the no-leftovers checks. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void save_then_load(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_file_load(f->dir, NULL, 0, &id, f->msg, sizeof f->msg), TN_OK);
	assert_string_equal(f->msg, "");
	assert_true(tn_pubkey_eq(tn_identity_pubkey(id), tn_identity_pubkey(f->id)));
	assert_true(tn_linkpub_eq(tn_identity_linkpub(id), tn_identity_linkpub(f->id)));
	tn_identity_del(id);
}

static void save_then_load_with_passphrase(void **state)
{
	fx *f = *state;
	tn_kdf_params k;
	tn_kdf_params_min(&k);
	assert_int_equal(tn_keystore_file_save(f->dir, TN_KSFILE_CREATE, f->id, PASS, PASSLEN, &k,
					       &f->rand, f->msg, sizeof f->msg),
			 TN_OK);
	assert_load_fails(f, NULL, 0, TN_ERR_NEEDPASS);
	expect_msg(f, "keystore %s is protected by a passphrase; none was given", f->path);
	assert_load_fails(f, "wrong", 5, TN_ERR_PASSPHRASE);
	expect_msg(f, "wrong passphrase for keystore %s", f->path);
	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_file_load(f->dir, PASS, PASSLEN, &id, f->msg, sizeof f->msg),
			 TN_OK);
	assert_true(tn_pubkey_eq(tn_identity_pubkey(id), tn_identity_pubkey(f->id)));
	tn_identity_del(id);
}

static void created_modes_are_0600_and_0700(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* mkdir -p: the parents it made are 0700 too. */
	char parent[300];
	snprintf(parent, sizeof parent, "%s/a", f->root);
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void load_refuses_group_or_world_readable_file(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_INSECURE);
	expect_msg(f, "keystore %s is readable by other users (mode 0644); run: chmod 600 %s",
		   f->path, f->path);
	assert_int_equal(chmod(f->path, 0620), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_INSECURE);
	expect_msg(f, "keystore %s is writable by other users (mode 0620); run: chmod 600 %s",
		   f->path, f->path);
}

static void load_refuses_open_directory(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_INSECURE);
	expect_msg(f, "data directory %s is readable by other users (mode 0755); run: chmod 700 %s",
		   f->dir, f->dir);
}

static void save_refuses_open_directory(void **state)
{
	fx *f = *state;
	char a[300], b[300];
	snprintf(a, sizeof a, "%s/a", f->root);
	snprintf(b, sizeof b, "%s/a/b", f->root);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_int_equal(mkdir(f->dir, 0750), 0);
	assert_int_equal(chmod(f->dir, 0750), 0);
	assert_int_equal(tn_keystore_file_save(f->dir, TN_KSFILE_CREATE, f->id, NULL, 0, NULL,
					       &f->rand, f->msg, sizeof f->msg),
			 TN_ERR_INSECURE);
	expect_msg(f, "data directory %s is readable by other users (mode 0750); run: chmod 700 %s",
		   f->dir, f->dir);
	assert_int_equal(count_entries(f->dir), 0);
}

static void load_refuses_symlink(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	char real[320];
	snprintf(real, sizeof real, "%s/real", f->dir);
	assert_int_equal(rename(f->path, real), 0);
	assert_int_equal(symlink(real, f->path), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_INSECURE);
	expect_msg(f, "keystore %s is a symbolic link; refusing to follow it", f->path);
}

static void load_refuses_fifo_without_blocking(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_INSECURE);
	expect_msg(f, "keystore %s is not a regular file", f->path);
}

/* Ownership: as root, hand the file to another uid; otherwise point at a
 * directory that is certainly not ours ("/"). Either way the owner check
 * fires before anything else is looked at. */
static void load_refuses_foreign_owner(void **state)
{
	fx *f = *state;
	if (geteuid() == 0) {
		save_plain(f, TN_KSFILE_CREATE, f->id);
		assert_int_equal(chown(f->path, 4242, (gid_t)-1), 0);
		assert_load_fails(f, NULL, 0, TN_ERR_INSECURE);
		expect_msg(f, "keystore %s belongs to uid 4242, not to you (uid 0)", f->path);
	} else {
		tn_identity *id = (tn_identity *)f;
		assert_int_equal(tn_keystore_file_load("/", NULL, 0, &id, f->msg, sizeof f->msg),
				 TN_ERR_INSECURE);
		assert_null(id);
		assert_non_null(strstr(f->msg, "data directory / belongs to uid 0, not to you"));
	}
}

static void load_refuses_truncated_file(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	assert_int_equal(truncate(f->path, TN_KEYSTORE_LEN - 1), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_CORRUPT);
	expect_msg(f, "keystore %s is damaged or not a keystore (169 bytes, expected 170)", f->path);
	assert_int_equal(truncate(f->path, 0), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_CORRUPT);
}

static void load_reports_damaged_file(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	FILE *fp = fopen(f->path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 100, SEEK_SET), 0);
	assert_int_equal(fputc('X', fp), 'X');
	assert_int_equal(fclose(fp), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_CORRUPT);
	expect_msg(f, "keystore %s is damaged (integrity check failed)", f->path);
}

static void load_missing_is_notfound(void **state)
{
	fx *f = *state;
	assert_load_fails(f, NULL, 0, TN_ERR_NOTFOUND);
	expect_msg(f, "data directory %s does not exist; run: tocsin init", f->dir);
	save_plain(f, TN_KSFILE_CREATE, f->id);
	assert_int_equal(unlink(f->path), 0);
	assert_load_fails(f, NULL, 0, TN_ERR_NOTFOUND);
	expect_msg(f, "no keystore at %s; run: tocsin init", f->path);
}

static void replace_is_atomic_and_leaves_no_temp(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	/* A stale temp file, as a crash mid-save would leave. */
	char tmp[320];
	snprintf(tmp, sizeof tmp, "%s/%s", f->dir, TN_KEYSTORE_TMPNAME);
	FILE *fp = fopen(tmp, "wb");
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);

	tn_identity *other = NULL;
	assert_int_equal(tn_identity_new(&other, &f->rand), TN_OK);
	save_plain(f, TN_KSFILE_REPLACE, other);
	assert_int_equal(count_entries(f->dir), 1); /* just "keystore" */

	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_file_load(f->dir, NULL, 0, &id, f->msg, sizeof f->msg), TN_OK);
	assert_true(tn_pubkey_eq(tn_identity_pubkey(id), tn_identity_pubkey(other)));
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	tn_identity_del(id);
	tn_identity_del(other);
}

static void create_refuses_to_overwrite(void **state)
{
	fx *f = *state;
	save_plain(f, TN_KSFILE_CREATE, f->id);
	tn_identity *other = NULL;
	assert_int_equal(tn_identity_new(&other, &f->rand), TN_OK);
	assert_int_equal(tn_keystore_file_save(f->dir, TN_KSFILE_CREATE, other, NULL, 0, NULL,
					       &f->rand, f->msg, sizeof f->msg),
			 TN_ERR_EXISTS);
	expect_msg(f, "keystore %s already exists; refusing to overwrite an identity", f->path);
	assert_int_equal(count_entries(f->dir), 1);
	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_file_load(f->dir, NULL, 0, &id, f->msg, sizeof f->msg), TN_OK);
	assert_true(tn_pubkey_eq(tn_identity_pubkey(id), tn_identity_pubkey(f->id)));
	tn_identity_del(id);
	tn_identity_del(other);
}

static void save_rejects_bad_arguments(void **state)
{
	fx *f = *state;
	assert_int_equal(tn_keystore_file_save(f->dir, TN_KSFILE_CREATE, f->id, "", 0, NULL,
					       &f->rand, f->msg, sizeof f->msg),
			 TN_ERR_INVAL);
	assert_int_equal(count_entries(f->dir), 0); /* no temp left */
	assert_int_equal(tn_keystore_file_save(NULL, TN_KSFILE_CREATE, f->id, NULL, 0, NULL,
					       &f->rand, f->msg, sizeof f->msg),
			 TN_ERR_INVAL);
	char longdir[TN_KSFILE_PATH_MAX + 10];
	memset(longdir, 'a', sizeof longdir - 1);
	longdir[sizeof longdir - 1] = '\0';
	assert_int_equal(tn_keystore_file_save(longdir, TN_KSFILE_CREATE, f->id, NULL, 0, NULL,
					       &f->rand, f->msg, sizeof f->msg),
			 TN_ERR_INVAL);
	/* msg may be NULL */
	assert_int_equal(tn_keystore_file_save(NULL, TN_KSFILE_CREATE, f->id, NULL, 0, NULL,
					       &f->rand, NULL, 0),
			 TN_ERR_INVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(save_then_load),
		T(save_then_load_with_passphrase),
		T(created_modes_are_0600_and_0700),
		T(load_refuses_group_or_world_readable_file),
		T(load_refuses_open_directory),
		T(save_refuses_open_directory),
		T(load_refuses_symlink),
		T(load_refuses_fifo_without_blocking),
		T(load_refuses_foreign_owner),
		T(load_refuses_truncated_file),
		T(load_reports_damaged_file),
		T(load_missing_is_notfound),
		T(replace_is_atomic_and_leaves_no_temp),
		T(create_refuses_to_overwrite),
		T(save_rejects_bad_arguments),
	};
	return cmocka_run_group_tests_name("keystore_file", tests, NULL, NULL);
}
