/* The keystore on disk (DESIGN §3, §8): <datadir>/keystore, mode 0600, in a
 * data directory of mode 0700 owned by the user. Synchronous (libuv's fs
 * calls without a loop): used once at daemon start-up and by tocsin init,
 * never on the event loop's hot path.
 *
 * Every function returns a tn_err and, when msg is not NULL, writes one
 * human-readable line (no trailing newline, NUL-terminated, truncated to
 * msglen) saying what went wrong and, where there is one, the command that
 * fixes it, for the caller to print as is. On TN_OK msg is set to "". The
 * file's bytes and the passphrase are never put into msg. */
#ifndef TOCSIN_KEYSTORE_FILE_H
#define TOCSIN_KEYSTORE_FILE_H

#include <stddef.h>

#include "tocsin/err.h"
#include "tocsin/identity.h"
#include "tocsin/keystore.h"
#include "tocsin/types.h"

#define TN_KEYSTORE_FILENAME "keystore"
/* Written first, then renamed (or linked) over the keystore. A stale one,
 * left by a crash, is removed by the next save. */
#define TN_KEYSTORE_TMPNAME "keystore.tmp"

enum {
	/* A msg buffer of this size holds every message whose paths are up to
	 * 400 bytes; longer ones are truncated (never overflowed). */
	TN_KSFILE_MSG_MAX = 1024,
	TN_KSFILE_PATH_MAX = 4096, /* longest accepted datadir/keystore path */
};

typedef enum tn_ksfile_flags {
	TN_KSFILE_CREATE = 0,  /* refuse if a keystore already exists (tocsin init) */
	TN_KSFILE_REPLACE = 1, /* atomically replace it (passphrase change) */
} tn_ksfile_flags;

/* Seal id (see tn_keystore_seal for pass, passlen, kdf, rand) and write it to
 * <dir>/keystore.
 *
 * dir is created if missing, with its missing parents, mode 0700 (mkdir -p);
 * an existing dir must be a directory owned by the user with no group or
 * other permission bits. The keystore is written to keystore.tmp (created
 * O_EXCL|O_NOFOLLOW, mode 0600), fsync()ed, then moved into place and the
 * directory fsync()ed, so a crash leaves either the old keystore or the new
 * one, never a mix. With TN_KSFILE_CREATE the move is a hard link, which
 * fails if a keystore exists: an identity is never silently overwritten.
 *
 * Returns TN_OK; TN_ERR_INVAL (NULL argument, path longer than
 * TN_KSFILE_PATH_MAX, or what tn_keystore_seal refuses); TN_ERR_INSECURE
 * (dir is not a directory, not ours, or group/other accessible);
 * TN_ERR_EXISTS (a keystore exists and flags is TN_KSFILE_CREATE); TN_ERR_NOMEM; TN_ERR_IO (an OS call
 * failed: permission, disk full, I/O error; msg names it). On error no
 * temporary file is left behind and an existing keystore is unchanged, with
 * one exception msg names: if only the final fsync of the directory fails,
 * the new keystore is in place but may not survive a power loss. */
TN_NODISCARD tn_err tn_keystore_file_save(const char *dir, tn_ksfile_flags flags,
					  const tn_identity *id, const char *pass,
					  size_t passlen, const tn_kdf_params *kdf,
					  const tn_rand *rand, char *msg, size_t msglen);

/* Read <dir>/keystore and open it (see tn_keystore_open for pass/passlen).
 *
 * dir itself may be a symbolic link (to an encrypted volume, say): its
 * target is what is checked. The keystore may not be one.
 *
 * Refused before reading a byte: a dir that is not a directory, not owned by
 * the effective uid, or has group/other permission bits; a keystore that is
 * a symbolic link, not a regular file, not owned by the effective uid, or
 * has group/other permission bits (the daemon will not run with a keystore
 * others can read). The size must be exactly TN_KEYSTORE_LEN. The read
 * buffer is wiped.
 *
 * Returns TN_OK with *out owning the identity, or with *out NULL:
 * TN_ERR_NOTFOUND (no dir or no keystore: run tocsin init); TN_ERR_INSECURE
 * (insecure or wrong kind of file, as above; msg says how to fix it);
 * TN_ERR_CORRUPT (wrong size, damaged); TN_ERR_KS_VERSION; TN_ERR_NEEDPASS
 * (ask for a passphrase and call again); TN_ERR_PASSPHRASE; TN_ERR_INVAL;
 * TN_ERR_NOMEM; TN_ERR_IO (an OS call failed; msg names it). */
TN_NODISCARD tn_err tn_keystore_file_load(const char *dir, const char *pass, size_t passlen,
					  tn_identity **out, char *msg, size_t msglen);

#endif
