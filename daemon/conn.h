/* tocsind: accepted TCP connections before the link layer exists.
 *
 * THE SEAM. Every accepted connection is a td_conn with a read callback
 * that hands received bytes to conn_feed() (conn.c). The Noise link and
 * the protocol node (tn_node) that will consume those bytes are being
 * written elsewhere and do not exist yet, so today conn_feed() only
 * buffers up to TD_PREAUTH_BUF bytes and the connection is treated as a
 * non-member's: no byte is ever sent back, and it is closed after a
 * random delay (DESIGN §4 probe resistance). Nothing in this file pretends
 * to speak the protocol.
 *
 * Bounds: at most `max` open connections (more are accepted and closed at
 * once, without a byte), one fixed buffer each, reading stops when it is
 * full. No timer exists unless a connection does, so an idle daemon has no
 * wakeups from here. */
#ifndef TD_CONN_H
#define TD_CONN_H

#include <stdint.h>

#include <uv.h>

#include "log.h"

typedef struct td_conn td_conn;

/* The set of open connections; caller-owned storage (td_conns_init, no
 * _free: td_conns_close_all, then let the loop run the close callbacks). */
typedef struct td_conns {
	uv_loop_t *loop;
	td_log *log;
	td_conn *head;
	unsigned count;
	unsigned max;
	uint64_t next_id;
	uint64_t refused;   /* over the limit, since start */
	td_ratelimit rl;    /* every line a remote peer can cause */
} td_conns;

void td_conns_init(td_conns *cs, uv_loop_t *loop, td_log *log, unsigned max);

/* Call from the listener's connection callback (status 0). Accepts one
 * connection: keeps it silently, or closes it at once when over max. */
void td_conns_accept(td_conns *cs, uv_stream_t *server);

/* Close every connection (shutdown). Memory is freed by the close
 * callbacks during the next loop iteration. */
void td_conns_close_all(td_conns *cs);

#endif
