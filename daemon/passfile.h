/* Reading a passphrase from a file, for the daemon (TOCSIN_PASSPHRASE_FILE)
 * and the client (tocsin init --passphrase-file): one function so both
 * apply the same rules. libc only, so client/ can link it.
 *
 * A passphrase never travels in argv or the environment (THREAT-MODEL:
 * nothing secret in argv or env dumps); only the file's name does. */
#ifndef TD_PASSFILE_H
#define TD_PASSFILE_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/keystore.h"

/* A buffer this big holds any accepted passphrase plus what it takes to
 * notice one that is too long. */
enum { TD_PASSFILE_BUF = TN_PASSPHRASE_MAX + 3 };

/* Read the passphrase in path into buf (TD_PASSFILE_BUF bytes). The file
 * must be a regular file (not a symbolic link) owned by the effective uid
 * with no group or other permission bits, like the keystore. One trailing
 * "\n" or "\r\n" is removed (editors add it); every other byte counts.
 *
 * Returns TN_OK and *len (1..TN_PASSPHRASE_MAX); TN_ERR_INSECURE (wrong
 * owner, mode or kind of file); TN_ERR_INVAL (empty, or longer than
 * TN_PASSPHRASE_MAX); TN_ERR_IO (cannot open or read). msg gets one line
 * naming the file, never its content. The caller wipes buf on every path
 * (it may hold part of the file even on error). */
TN_NODISCARD tn_err td_passfile_read(const char *path, uint8_t buf[TD_PASSFILE_BUF], size_t *len,
                                     char *msg, size_t msglen);

#endif
