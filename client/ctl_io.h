/* tocsin: one connection to tocsind's control socket. Blocking POSIX I/O
 * with deadlines (poll); framing and decoding are ctlproto's, never redone
 * here. */
#ifndef TOCSIN_CTL_IO_H
#define TOCSIN_CTL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"

typedef enum ctl_status {
	CTL_OK = 0,
	CTL_UNREACHABLE, /* connect failed: no daemon, or not allowed */
	CTL_CLOSED,      /* the daemon closed the connection */
	CTL_TIMEOUT,     /* no complete frame before the deadline */
	CTL_BADFRAME,    /* oversized length or a body that does not decode */
	CTL_IOERR,       /* read or write failed */
} ctl_status;

typedef struct ctl_conn {
	int fd;
	int err;       /* errno of the failure, for the message */
	uint8_t *body; /* last frame received (malloc, <= TD_CTL_REPLY_MAX) */
	size_t len;
} ctl_conn;

/* Connect to the socket at path. */
ctl_status ctl_connect(ctl_conn *c, const char *path);

/* Send a request frame (wiped afterwards by the caller). */
ctl_status ctl_send(ctl_conn *c, const uint8_t *frame, size_t len, int timeout_ms);

/* Receive one frame and decode it into *m (views into c->body, valid until
 * the next ctl_recv or ctl_close). timeout_ms < 0 waits for ever. */
ctl_status ctl_recv(ctl_conn *c, td_ctl_msg *m, int timeout_ms);

void ctl_close(ctl_conn *c);

#endif
