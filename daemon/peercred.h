/* tocsind: who is on the other end of a Unix socket. The one
 * platform-specific question of the control server, in a file of its own
 * (DESIGN §8 portability). Linux: SO_PEERCRED; the BSDs and macOS:
 * getpeereid(). Elsewhere (Windows named pipes) it is not implemented and
 * every peer is refused. */
#ifndef TD_PEERCRED_H
#define TD_PEERCRED_H

#include <stdbool.h>

#include "tocsin/err.h"

/* The effective uid of the process connected on fd, as the kernel recorded
 * it at connect(). Returns TN_OK, TN_ERR_IO (the call failed) or
 * TN_ERR_STATE (no way to ask on this platform). */
TN_NODISCARD tn_err td_peer_uid(int fd, unsigned long *uid);

/* True only when the peer on fd is the daemon's own effective uid. Every
 * failure to find out is a refusal. */
bool td_peer_is_self(int fd, unsigned long *peer_uid);

#endif
