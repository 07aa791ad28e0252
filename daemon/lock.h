/* tocsind: one daemon per home. An exclusive flock() on DATA/tocsind.pid,
 * held for the daemon's life and released by the kernel when the process
 * dies (kill -9 included), so there is no stale lock to clean up.
 * POSIX-only for now (DESIGN §8: per-platform pieces stay small; Windows
 * would use LockFileEx here). */
#ifndef TD_LOCK_H
#define TD_LOCK_H

#include <stddef.h>

#include "tocsin/err.h"

typedef struct td_lock {
	int fd; /* -1 when not held */
} td_lock;

/* Take the lock at path (created 0600) and write our pid into it.
 * Returns TN_OK, TN_ERR_INUSE (another process holds it; err names its pid
 * and the path) or TN_ERR_IO (err says why). */
TN_NODISCARD tn_err td_lock_acquire(td_lock *l, const char *path, char *err, size_t errlen);

/* Empty the pid file and release. The file stays: unlinking a lock file
 * lets a third process lock a new inode while a second holds the old one. */
void td_lock_release(td_lock *l);

#endif
