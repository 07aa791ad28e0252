/* tocsind and tocsin: `tocsin wipe`, deleting a home's keys and history.
 *
 * Shared by the daemon (the `wipe` control op: after it closed its links
 * and the store) and the client (the same wipe with no daemon running), so
 * this module uses only libc/POSIX and libsodium's RNG, like paths.c.
 *
 * What it can and cannot do is in docs/security.md ("Wiping"): each file is
 * overwritten once with random bytes and synced before it is unlinked, which
 * defeats undelete tools and a casual look at the raw disk on a plain
 * filesystem on a spinning disk. It guarantees nothing on SSDs and flash
 * (the controller remaps writes), on journaling or copy-on-write
 * filesystems (btrfs, ZFS, APFS keep old blocks), in snapshots or backups.
 * Full-disk encryption is the protection that holds; wipe is a best effort
 * on top of it. */
#ifndef TD_WIPE_H
#define TD_WIPE_H

#include <stddef.h>

#include "paths.h"
#include "tocsin/err.h"

typedef struct td_wipe_stats {
	unsigned long files;      /* regular files overwritten, synced and removed */
	unsigned long other;      /* sockets, symlinks, ... removed (never followed) */
	unsigned long dirs;       /* directories removed */
	unsigned long long bytes; /* bytes overwritten */
	unsigned long failed;     /* entries that could not be overwritten or removed */
} td_wipe_stats;

enum {
	TD_WIPE_DEPTH_MAX = 16, /* nesting below the data dir we descend into */
};

/* Overwrite (random bytes, fdatasync) and unlink every regular file under
 * dir, unlink every other non-directory without following it, remove every
 * directory, dir included. dir must be a directory owned by the effective
 * uid (not a symlink). A missing dir is TN_OK with nothing counted.
 * *st is added to (zero it first). Returns TN_OK when everything is gone;
 * TN_ERR_INSECURE (dir is not our directory: nothing touched); TN_ERR_IO
 * (some entries remain: st->failed counts them, err names the first). */
TN_NODISCARD tn_err td_wipe_tree(const char *dir, td_wipe_stats *st, char *err, size_t errlen);

/* Files another party will unlink before the wipe reaches them: SQLite
 * deletes tocsin.db-wal and -shm when the store is closed, without
 * overwriting them (the WAL holds whole pages: alerts, roster records, the
 * invite book). Open them first; td_wipe_hold_finish then overwrites each
 * through its descriptor, linked or not, and closes it. */
enum { TD_WIPE_HOLD_MAX = 8 };
typedef struct td_wipe_hold {
	int fd[TD_WIPE_HOLD_MAX];
	size_t n;
} td_wipe_hold;

/* Open each path that exists as a regular file of ours (no symlink). */
void td_wipe_hold_open(td_wipe_hold *h, const char *const *paths, size_t n);
/* Overwrite every held file (its size now), sync, close; add to *st. */
void td_wipe_hold_finish(td_wipe_hold *h, td_wipe_stats *st);

/* Everything tocsind keeps for the home of p: the whole data dir (the
 * keystore, tocsin.db with its -wal and -shm, which hold the alerts, the
 * roster, the epoch keys' sealed records and the invite book, the pid/lock
 * file, DATA/run) and the control socket. The config file is kept: it holds
 * settings, no key and no history. Run it only without a daemon on the home
 * (the client holds the home lock; the daemon wipes after closing its
 * store). Returns as td_wipe_tree. */
TN_NODISCARD tn_err td_wipe_home(const td_paths *p, td_wipe_stats *st, char *err, size_t errlen);

#endif
