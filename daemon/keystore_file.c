#define _DEFAULT_SOURCE /* geteuid, S_IF* under -std=c11 */
/* The keystore on disk: permission checks, bounded read, atomic write.
 * All OS calls go through libuv's synchronous fs API (DESIGN §8); each uv
 * result is read once, at the call, and turned into a tn_err plus a message.
 * What cannot be expressed through libuv (the effective uid, permission
 * bits on Windows) is in the small platform section below. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>
#include <uv.h>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "keystore_file.h"

/* ---- Platform ----
 * POSIX: ownership and mode bits are the access control. Windows: they
 * mean nothing (ACLs do); checking ACLs belongs in a Windows file of its
 * own, not yet written, so there the checks pass. */
#ifndef _WIN32
static bool owned_by_us(const uv_stat_t *st, unsigned long *uid)
{
	*uid = (unsigned long)geteuid();
	return st->st_uid == *uid;
}
static unsigned long perm_bits(const uv_stat_t *st)
{
	return (unsigned long)(st->st_mode & 07777);
}
#else
static bool owned_by_us(const uv_stat_t *st, unsigned long *uid)
{
	(void)st;
	*uid = 0;
	return true;
}
static unsigned long perm_bits(const uv_stat_t *st)
{
	(void)st;
	return 0600;
}
#endif

/* ---- Messages ---- */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void say(char *msg, size_t msglen, const char *fmt, ...)
{
	if (!msg || msglen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
}

/* "readable" / "writable" / "accessible", for the commonest mistake first. */
static const char *exposure(unsigned long mode)
{
	if (mode & 0044)
		return "readable";
	if (mode & 0022)
		return "writable";
	return "accessible";
}

/* ---- libuv synchronous fs wrappers: 0 / a count, or a negative UV_E* ---- */

static int fs_stat(const char *path, bool follow, uv_stat_t *st)
{
	uv_fs_t req;
	int r = follow ? uv_fs_stat(NULL, &req, path, NULL) : uv_fs_lstat(NULL, &req, path, NULL);
	if (r == 0)
		*st = req.statbuf;
	uv_fs_req_cleanup(&req);
	return r;
}

static int fs_fstat(uv_file fd, uv_stat_t *st)
{
	uv_fs_t req;
	int r = uv_fs_fstat(NULL, &req, fd, NULL);
	if (r == 0)
		*st = req.statbuf;
	uv_fs_req_cleanup(&req);
	return r;
}

static int fs_open(const char *path, int flags, int mode)
{
	uv_fs_t req;
	int r = uv_fs_open(NULL, &req, path, flags, mode, NULL);
	uv_fs_req_cleanup(&req);
	return r;
}

static void fs_close(uv_file fd)
{
	uv_fs_t req;
	(void)uv_fs_close(NULL, &req, fd, NULL);
	uv_fs_req_cleanup(&req);
}

static int fs_fsync(uv_file fd)
{
	uv_fs_t req;
	int r = uv_fs_fsync(NULL, &req, fd, NULL);
	uv_fs_req_cleanup(&req);
	return r;
}

static int fs_unlink(const char *path)
{
	uv_fs_t req;
	int r = uv_fs_unlink(NULL, &req, path, NULL);
	uv_fs_req_cleanup(&req);
	return r;
}

static int fs_mkdir(const char *path)
{
	uv_fs_t req;
	int r = uv_fs_mkdir(NULL, &req, path, 0700, NULL);
	uv_fs_req_cleanup(&req);
	return r;
}

static int fs_rename(const char *from, const char *to)
{
	uv_fs_t req;
	int r = uv_fs_rename(NULL, &req, from, to, NULL);
	uv_fs_req_cleanup(&req);
	return r;
}

static int fs_link(const char *from, const char *to)
{
	uv_fs_t req;
	int r = uv_fs_link(NULL, &req, from, to, NULL);
	uv_fs_req_cleanup(&req);
	return r;
}

/* Read until len bytes or end of file; *got says how many. */
static int fs_read_full(uv_file fd, uint8_t *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		uv_fs_t req;
		uv_buf_t b = uv_buf_init((char *)buf + *got, (unsigned int)(len - *got));
		int r = uv_fs_read(NULL, &req, fd, &b, 1, -1, NULL);
		uv_fs_req_cleanup(&req);
		if (r < 0)
			return r;
		if (r == 0)
			return 0;
		*got += (size_t)r;
	}
	return 0;
}

static int fs_write_full(uv_file fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uv_fs_t req;
		uv_buf_t b = uv_buf_init((char *)(uintptr_t)(buf + done), (unsigned int)(len - done));
		int r = uv_fs_write(NULL, &req, fd, &b, 1, -1, NULL);
		uv_fs_req_cleanup(&req);
		if (r < 0)
			return r;
		if (r == 0)
			return UV_EIO;
		done += (size_t)r;
	}
	return 0;
}

/* Make a directory's entries durable (the rename or link just done). */
static int fs_fsync_dir(const char *dir)
{
#ifdef _WIN32
	(void)dir;
	return 0; /* not possible there; NTFS journals metadata */
#else
	int fd = fs_open(dir, UV_FS_O_RDONLY | UV_FS_O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	int r = fs_fsync(fd);
	fs_close(fd);
	return r;
#endif
}

/* ---- Paths ---- */

static tn_err join(char *out, const char *dir, const char *name, char *msg, size_t msglen)
{
	int n = snprintf(out, TN_KSFILE_PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= TN_KSFILE_PATH_MAX) {
		say(msg, msglen, "data directory path is too long (more than %d bytes)",
		    TN_KSFILE_PATH_MAX - 20);
		return TN_ERR_INVAL;
	}
	return TN_OK;
}

/* mkdir -p with mode 0700 for every directory it creates. */
static tn_err make_dirs(const char *dir, char *msg, size_t msglen)
{
	char p[TN_KSFILE_PATH_MAX];
	size_t len = strlen(dir);
	if (len == 0 || len >= sizeof p) {
		say(msg, msglen, "invalid data directory path");
		return TN_ERR_INVAL;
	}
	memcpy(p, dir, len + 1);
	/* Each prefix ending before a '/', then the whole path. */
	for (size_t i = 1; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (i < len && p[i - 1] == '/')
			continue; /* "a//b" */
		char saved = p[i];
		p[i] = '\0';
		int r = fs_mkdir(p);
		p[i] = saved;
		if (r < 0 && r != UV_EEXIST) {
			say(msg, msglen, "cannot create data directory %.*s: %s", (int)i, p,
			    uv_strerror(r));
			return r == UV_ENOMEM ? TN_ERR_NOMEM : TN_ERR_IO;
		}
	}
	return TN_OK;
}

/* The data directory: a directory, ours, no group/other bits. */
static tn_err check_dir(const char *dir, char *msg, size_t msglen)
{
	uv_stat_t st = {0};
	int r = fs_stat(dir, true, &st);
	if (r == UV_ENOENT) {
		say(msg, msglen, "data directory %s does not exist; run: tocsin init", dir);
		return TN_ERR_NOTFOUND;
	}
	if (r < 0) {
		say(msg, msglen, "cannot stat data directory %s: %s", dir, uv_strerror(r));
		return TN_ERR_IO;
	}
	if ((st.st_mode & S_IFMT) != S_IFDIR) {
		say(msg, msglen, "data directory %s is not a directory", dir);
		return TN_ERR_INSECURE;
	}
	unsigned long uid;
	if (!owned_by_us(&st, &uid)) {
		say(msg, msglen, "data directory %s belongs to uid %lu, not to you (uid %lu)", dir,
		    (unsigned long)st.st_uid, uid);
		return TN_ERR_INSECURE;
	}
	unsigned long mode = perm_bits(&st);
	if (mode & 0077) {
		say(msg, msglen,
		    "data directory %s is %s by other users (mode %04lo); run: chmod 700 %s", dir,
		    exposure(mode), mode, dir);
		return TN_ERR_INSECURE;
	}
	return TN_OK;
}

/* The opened keystore: a regular file, ours, no group/other bits, exact
 * size. Checked on the descriptor, so nothing can be swapped in between
 * the check and the read. */
static tn_err check_file(uv_file fd, const char *path, char *msg, size_t msglen)
{
	uv_stat_t st = {0};
	int r = fs_fstat(fd, &st);
	if (r < 0) {
		say(msg, msglen, "cannot stat keystore %s: %s", path, uv_strerror(r));
		return TN_ERR_IO;
	}
	if ((st.st_mode & S_IFMT) != S_IFREG) {
		say(msg, msglen, "keystore %s is not a regular file", path);
		return TN_ERR_INSECURE;
	}
	unsigned long uid;
	if (!owned_by_us(&st, &uid)) {
		say(msg, msglen, "keystore %s belongs to uid %lu, not to you (uid %lu)", path,
		    (unsigned long)st.st_uid, uid);
		return TN_ERR_INSECURE;
	}
	unsigned long mode = perm_bits(&st);
	if (mode & 0077) {
		say(msg, msglen, "keystore %s is %s by other users (mode %04lo); run: chmod 600 %s",
		    path, exposure(mode), mode, path);
		return TN_ERR_INSECURE;
	}
	if (st.st_size != TN_KEYSTORE_LEN) {
		say(msg, msglen,
		    "keystore %s is damaged or not a keystore (%llu bytes, expected %d)", path,
		    (unsigned long long)st.st_size, TN_KEYSTORE_LEN);
		return TN_ERR_CORRUPT;
	}
	return TN_OK;
}

/* ---- Load ---- */

static tn_err open_keystore(const char *path, uv_file *fd, char *msg, size_t msglen)
{
	/* O_NOFOLLOW: a symlink is refused, not followed. O_NONBLOCK: a FIFO
	 * planted in its place must not hang start-up (check_file then
	 * refuses it as not a regular file). */
	int r = fs_open(path, UV_FS_O_RDONLY | UV_FS_O_NOFOLLOW | UV_FS_O_NONBLOCK, 0);
	if (r >= 0) {
		*fd = r;
		return TN_OK;
	}
	if (r == UV_ENOENT) {
		say(msg, msglen, "no keystore at %s; run: tocsin init", path);
		return TN_ERR_NOTFOUND;
	}
	if (r == UV_ELOOP) {
		say(msg, msglen, "keystore %s is a symbolic link; refusing to follow it", path);
		return TN_ERR_INSECURE;
	}
	say(msg, msglen, "cannot open keystore %s: %s", path, uv_strerror(r));
	return r == UV_ENOMEM ? TN_ERR_NOMEM : TN_ERR_IO;
}

static void explain_open_error(tn_err rc, const char *path, char *msg, size_t msglen)
{
	switch (rc) {
	case TN_ERR_CORRUPT:
		say(msg, msglen, "keystore %s is damaged (integrity check failed)", path);
		break;
	case TN_ERR_KS_VERSION:
		say(msg, msglen, "keystore %s was written by an unknown version of tocsin", path);
		break;
	case TN_ERR_NEEDPASS:
		say(msg, msglen, "keystore %s is protected by a passphrase; none was given", path);
		break;
	case TN_ERR_PASSPHRASE:
		say(msg, msglen, "wrong passphrase for keystore %s", path);
		break;
	case TN_ERR_NOMEM:
		say(msg, msglen, "out of memory opening keystore %s", path);
		break;
	default:
		say(msg, msglen, "cannot open keystore %s: %s", path, tn_strerror(rc));
		break;
	}
}

tn_err tn_keystore_file_load(const char *dir, const char *pass, size_t passlen,
			     tn_identity **out, char *msg, size_t msglen)
{
	char path[TN_KSFILE_PATH_MAX];
	uint8_t buf[TN_KEYSTORE_LEN + 1]; /* one more, to notice growth */
	uv_file fd = -1;
	tn_err rc;

	say(msg, msglen, "%s", "");
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!dir) {
		say(msg, msglen, "no data directory given");
		return TN_ERR_INVAL;
	}
	rc = join(path, dir, TN_KEYSTORE_FILENAME, msg, msglen);
	if (rc != TN_OK)
		return rc;
	rc = check_dir(dir, msg, msglen);
	if (rc != TN_OK)
		return rc;
	rc = open_keystore(path, &fd, msg, msglen);
	if (rc != TN_OK)
		return rc;
	rc = check_file(fd, path, msg, msglen);
	if (rc != TN_OK)
		goto out;

	size_t got;
	int r = fs_read_full(fd, buf, sizeof buf, &got);
	if (r < 0) {
		say(msg, msglen, "cannot read keystore %s: %s", path, uv_strerror(r));
		rc = TN_ERR_IO;
		goto out;
	}
	if (got != TN_KEYSTORE_LEN) { /* changed size since the fstat */
		say(msg, msglen, "keystore %s is damaged or not a keystore (%zu bytes, expected %d)",
		    path, got, TN_KEYSTORE_LEN);
		rc = TN_ERR_CORRUPT;
		goto out;
	}
	rc = tn_keystore_open(out, buf, TN_KEYSTORE_LEN, pass, passlen);
	if (rc != TN_OK)
		explain_open_error(rc, path, msg, msglen);
out:
	sodium_memzero(buf, sizeof buf);
	if (fd >= 0)
		fs_close(fd);
	return rc;
}

/* ---- Save ---- */

/* Write buf to tmp (fresh, O_EXCL, 0600) and make it durable. */
static tn_err write_tmp(const char *tmp, const uint8_t *buf, size_t len, char *msg, size_t msglen)
{
	/* A stale temp file from a crash would make O_EXCL fail forever; it
	 * may also hold an older keystore (say, before a passphrase was set),
	 * so remove it rather than leave it. The directory is ours and 0700. */
	int r = fs_unlink(tmp);
	if (r < 0 && r != UV_ENOENT) {
		say(msg, msglen, "cannot remove stale %s: %s", tmp, uv_strerror(r));
		return TN_ERR_IO;
	}
	r = fs_open(tmp, UV_FS_O_WRONLY | UV_FS_O_CREAT | UV_FS_O_EXCL | UV_FS_O_NOFOLLOW, 0600);
	if (r < 0) {
		say(msg, msglen, "cannot create %s: %s", tmp, uv_strerror(r));
		return TN_ERR_IO;
	}
	uv_file fd = r;
	r = fs_write_full(fd, buf, len);
	if (r == 0)
		r = fs_fsync(fd);
	fs_close(fd);
	if (r < 0) {
		say(msg, msglen, "cannot write %s: %s", tmp, uv_strerror(r));
		(void)fs_unlink(tmp);
		return TN_ERR_IO;
	}
	return TN_OK;
}

/* Move tmp into place. CREATE links (fails if path exists), REPLACE
 * renames (atomically replaces). Either way tmp is gone afterwards. */
static tn_err install(const char *tmp, const char *path, tn_ksfile_flags flags, char *msg,
		      size_t msglen)
{
	int r;
	if (flags == TN_KSFILE_REPLACE) {
		r = fs_rename(tmp, path);
	} else {
		r = fs_link(tmp, path);
		(void)fs_unlink(tmp);
	}
	if (r == UV_EEXIST) {
		(void)fs_unlink(tmp);
		say(msg, msglen, "keystore %s already exists; refusing to overwrite an identity",
		    path);
		return TN_ERR_EXISTS;
	}
	if (r < 0) {
		(void)fs_unlink(tmp);
		say(msg, msglen, "cannot install keystore %s: %s", path, uv_strerror(r));
		return TN_ERR_IO;
	}
	return TN_OK;
}

tn_err tn_keystore_file_save(const char *dir, tn_ksfile_flags flags, const tn_identity *id,
			     const char *pass, size_t passlen, const tn_kdf_params *kdf,
			     const tn_rand *rand, char *msg, size_t msglen)
{
	char path[TN_KSFILE_PATH_MAX], tmp[TN_KSFILE_PATH_MAX];
	uint8_t buf[TN_KEYSTORE_LEN];
	tn_err rc;

	say(msg, msglen, "%s", "");
	if (!dir || !id || !rand || ((unsigned)flags & ~(unsigned)TN_KSFILE_REPLACE)) {
		say(msg, msglen, "invalid arguments");
		return TN_ERR_INVAL;
	}
	rc = join(path, dir, TN_KEYSTORE_FILENAME, msg, msglen);
	if (rc == TN_OK)
		rc = join(tmp, dir, TN_KEYSTORE_TMPNAME, msg, msglen);
	if (rc != TN_OK)
		return rc;
	rc = make_dirs(dir, msg, msglen);
	if (rc != TN_OK)
		return rc;
	rc = check_dir(dir, msg, msglen);
	if (rc != TN_OK)
		return rc;

	tn_ssize n = tn_keystore_seal(id, pass, passlen, kdf, rand, buf, sizeof buf);
	if (n != TN_KEYSTORE_LEN) {
		rc = n < 0 ? (tn_err)n : TN_ERR_IO;
		say(msg, msglen, "cannot seal keystore: %s", tn_strerror(rc));
		goto out;
	}
	rc = write_tmp(tmp, buf, sizeof buf, msg, msglen);
	if (rc != TN_OK)
		goto out;
	rc = install(tmp, path, flags, msg, msglen);
	if (rc != TN_OK)
		goto out;
	int r = fs_fsync_dir(dir);
	if (r < 0) {
		/* The keystore is in place but its entry may not survive a
		 * crash; say so rather than pretend. */
		say(msg, msglen, "cannot sync data directory %s: %s", dir, uv_strerror(r));
		rc = TN_ERR_IO;
	}
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}
