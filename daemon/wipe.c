/* tocsin wipe: overwrite and remove a home's data (see wipe.h). */
#define _POSIX_C_SOURCE 200809L
#include "wipe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>

typedef struct wipe_ctx {
	td_wipe_stats *st;
	char *err;
	size_t errlen;
} wipe_ctx;

/* Count a failure; the first one names the entry in err. */
__attribute__((format(printf, 2, 3))) static void failed(wipe_ctx *w, const char *fmt, ...)
{
	if (w->st->failed++ == 0 && w->err && w->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
}

/* One pass of random bytes over the file's current length, then
 * fdatasync: on a plain filesystem the old blocks are rewritten in place.
 * Never extends the file (new blocks would not cover old data). */
static bool overwrite(wipe_ctx *w, int fd, const struct stat *sb, const char *name)
{
	uint8_t buf[16384];
	off_t left = sb->st_size, off = 0;
	while (left > 0) {
		size_t n = left < (off_t)sizeof buf ? (size_t)left : sizeof buf;
		randombytes_buf(buf, n);
		ssize_t k = pwrite(fd, buf, n, off);
		if (k <= 0) {
			int e = k < 0 ? errno : EIO;
			failed(w, "cannot overwrite %s: %s", name, strerror(e));
			return false;
		}
		off += k;
		left -= k;
		w->st->bytes += (unsigned long long)k;
	}
	if (fdatasync(fd) != 0) {
		int e = errno;
		failed(w, "cannot sync %s: %s", name, strerror(e));
		return false;
	}
	return true;
}

static void wipe_dir_fd(wipe_ctx *w, int dfd, const char *path, int depth);

/* One entry of the directory dfd. Directories are descended into, regular
 * files overwritten; nothing is followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW). */
static void wipe_entry(wipe_ctx *w, int dfd, const char *dpath, const char *name, int depth)
{
	char path[TD_PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dpath, name);
	struct stat sb;
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		int e = errno;
		if (e != ENOENT)
			failed(w, "cannot stat %s: %s", path, strerror(e));
		return;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (depth >= TD_WIPE_DEPTH_MAX) {
			failed(w, "%s: nested too deep, left in place", path);
			return;
		}
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			failed(w, "cannot open %s: %s", path, strerror(e));
			return;
		}
		wipe_dir_fd(w, fd, path, depth + 1); /* closes fd */
		if (unlinkat(dfd, name, AT_REMOVEDIR) != 0) {
			int e = errno;
			failed(w, "cannot remove %s: %s", path, strerror(e));
			return;
		}
		w->st->dirs++;
		return;
	}
	if (S_ISREG(sb.st_mode)) {
		int fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			int e = errno;
			failed(w, "cannot open %s: %s", path, strerror(e));
			return;
		}
		struct stat fsb;
		bool ok = fstat(fd, &fsb) == 0 && S_ISREG(fsb.st_mode) && overwrite(w, fd, &fsb, path);
		close(fd);
		if (!ok)
			return; /* left in place: the caller reports it, never a silent unlink */
		if (unlinkat(dfd, name, 0) != 0) {
			int e = errno;
			failed(w, "cannot remove %s: %s", path, strerror(e));
			return;
		}
		w->st->files++;
		return;
	}
	if (unlinkat(dfd, name, 0) != 0) {
		int e = errno;
		failed(w, "cannot remove %s: %s", path, strerror(e));
		return;
	}
	w->st->other++;
}

/* Every entry of the open directory fd (consumed). */
static void wipe_dir_fd(wipe_ctx *w, int fd, const char *path, int depth)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		failed(w, "cannot read %s: %s", path, strerror(e));
		return;
	}
	/* Removing entries already read is fine (POSIX). Should readdir
	 * skip one anyway, the rmdir of this directory fails and says so. */
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		wipe_entry(w, dirfd(d), path, de->d_name, depth);
	}
	closedir(d);
}

tn_err td_wipe_tree(const char *dir, td_wipe_stats *st, char *err, size_t errlen)
{
	wipe_ctx w = {st, err, errlen};
	unsigned long failed_before = st->failed;
	struct stat sb;
	if (lstat(dir, &sb) != 0) {
		int e = errno;
		if (e == ENOENT)
			return TN_OK;
		snprintf(err, errlen, "cannot stat %s: %s", dir, strerror(e));
		return TN_ERR_IO;
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%s is not a directory of ours: nothing wiped", dir);
		return TN_ERR_INSECURE;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(e));
		return TN_ERR_IO;
	}
	wipe_dir_fd(&w, fd, dir, 0);
	if (rmdir(dir) == 0)
		st->dirs++;
	else if (errno != ENOENT)
		failed(&w, "cannot remove %s: %s", dir, strerror(errno));
	return st->failed == failed_before ? TN_OK : TN_ERR_IO;
}

void td_wipe_hold_open(td_wipe_hold *h, const char *const *paths, size_t n)
{
	h->n = 0;
	for (size_t i = 0; i < n && h->n < TD_WIPE_HOLD_MAX; i++) {
		int fd = open(paths[i], O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue;
		struct stat sb;
		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
			close(fd);
			continue;
		}
		h->fd[h->n++] = fd;
	}
}

void td_wipe_hold_finish(td_wipe_hold *h, td_wipe_stats *st)
{
	wipe_ctx w = {st, NULL, 0};
	for (size_t i = 0; i < h->n; i++) {
		struct stat sb;
		if (fstat(h->fd[i], &sb) == 0)
			(void)overwrite(&w, h->fd[i], &sb, "a held file");
		close(h->fd[i]);
	}
	h->n = 0;
}

tn_err td_wipe_home(const td_paths *p, td_wipe_stats *st, char *err, size_t errlen)
{
	if (!p->data_dir[0] || strcmp(p->data_dir, "/") == 0) {
		snprintf(err, errlen, "no data directory to wipe");
		return TN_ERR_INVAL;
	}
	tn_err rc = td_wipe_tree(p->data_dir, st, err, errlen);
	if (rc == TN_ERR_INSECURE)
		return rc;
	/* The control socket (only a socket: never another file of that
	 * name). In XDG mode the runtime dir is ours alone: remove it when
	 * empty; the home (--home) is the user's and stays. */
	struct stat sb;
	if (lstat(p->control_socket, &sb) == 0 && S_ISSOCK(sb.st_mode) && sb.st_uid == geteuid()) {
		if (unlink(p->control_socket) == 0)
			st->other++;
	}
	if (!p->home[0] && !p->runtime_fallback)
		(void)rmdir(p->runtime_dir);
	return rc;
}
