/* tocsind home lock (see lock.h). */
#define _DEFAULT_SOURCE /* flock */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static long read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long pid = 0;
	return sscanf(buf, "%ld", &pid) == 1 ? pid : 0;
}

tn_err td_lock_acquire(td_lock *l, const char *path, char *err, size_t errlen)
{
	l->fd = -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(e));
		return TN_ERR_IO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			long pid = read_pid(fd);
			snprintf(err, errlen,
				 "another tocsind (pid %ld) is already running with this home "
				 "(lock %s is held)",
				 pid, path);
		} else {
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
		}
		close(fd);
		return e == EWOULDBLOCK ? TN_ERR_INUSE : TN_ERR_IO;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		int e = errno;
		snprintf(err, errlen, "cannot write pid to %s: %s", path, strerror(e));
		close(fd);
		return TN_ERR_IO;
	}
	l->fd = fd;
	return TN_OK;
}

void td_lock_release(td_lock *l)
{
	if (l->fd < 0)
		return;
	if (ftruncate(l->fd, 0) != 0) {
		/* harmless: the pid is only informative; the flock is the lock */
	}
	close(l->fd); /* releases the flock */
	l->fd = -1;
}
