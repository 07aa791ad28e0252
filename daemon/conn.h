/* tocsind: the TCP transport under the links (DESIGN §4, §8; docs/daemon.md).
 *
 * A td_conn is one TCP socket, accepted by the listener or dialed for a
 * DIAL event of the node. It knows nothing of the protocol: bytes read are
 * handed to ops.data at once (one shared read buffer: the node consumes
 * every byte it is given), bytes to send are copied into a bounded queue
 * of uv_writes, and ops.closed is called exactly once when the socket is
 * gone, whoever closed it. The mesh (mesh.c) maps a conn to a node link.
 *
 * Bounds: at most `max_inbound` accepted sockets at once. Past it the
 * oldest one that has not authenticated is closed at once, without a byte,
 * to make room (so idle or slow attack sockets cannot lock members out);
 * when all are authenticated links the new one is closed instead. At most TD_CONN_OUT_MAX bytes queued for
 * writing per socket (td_conn_write refuses more: the node keeps the rest
 * queued on its side until ops.drained); one shared read buffer of
 * TD_CONN_READ_BUF bytes. No timer exists unless a socket waits for a
 * delayed close, so an idle daemon has no wakeups from here.
 *
 * A socket the node cannot take (not in a network yet, link slots full)
 * stays silent: nothing is read, nothing is sent, and it is closed after a
 * random delay in [TD_SILENT_CLOSE_MIN_MS, MAX] (probe resistance). */
#ifndef TD_CONN_H
#define TD_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "log.h"
#include "tocsin/identity.h"
#include "tocsin/link.h"

typedef struct td_conn td_conn;

typedef struct td_conn_ops {
	/* An outbound connect finished: status 0 or a libuv error (the conn
	 * is then closed, and closed() follows). */
	void (*connected)(void *ud, td_conn *c, int status);
	void (*data)(void *ud, td_conn *c, const uint8_t *p, size_t n);
	/* Writes completed: room in the queue again. */
	void (*drained)(void *ud, td_conn *c);
	/* The socket is gone (once). c must not be used after it returns. */
	void (*closed)(void *ud, td_conn *c, const char *reason);
} td_conn_ops;

struct td_conn {
	uv_tcp_t tcp;
	uv_timer_t timer; /* delayed close */
	uv_connect_t connect;
	struct td_conns *set;
	td_conn *prev, *next;
	uint64_t id;
	/* The mesh's: the node link this socket carries (0: none yet) and,
	 * for a dialed one, the member it was dialed for. */
	uint64_t link_id;
	bool outbound;
	tn_pubkey member;
	size_t out_pending; /* bytes handed to uv_write, not yet written */
	tn_frame_pos txf, rxf; /* the mesh's: frame counting (status), each direction */
	unsigned open_handles;
	bool up;       /* the mesh's: link established (LINK_UP) */
	bool silenced; /* the mesh's: no link, waiting for the silent close */
	bool connecting;
	bool reading;
	bool closing;
};

typedef struct td_conns {
	uv_loop_t *loop;
	td_log *log;
	td_conn_ops ops;
	void *ud;
	td_conn *head;
	unsigned count;   /* every open socket */
	unsigned inbound; /* accepted ones */
	unsigned max_inbound;
	uint64_t next_id;
	uint64_t refused; /* accepted over the limit and closed, since start */
	uint64_t evicted; /* unauthenticated ones closed to make room, since start */
	td_ratelimit rl;  /* every line a remote peer can cause */
	uint8_t rbuf[64 * 1024];
} td_conns;

enum {
	TD_CONN_OUT_MAX = 256 * 1024,
};

void td_conns_init(td_conns *cs, uv_loop_t *loop, td_log *log, unsigned max_inbound,
                   const td_conn_ops *ops, void *ud);

/* Accept one connection from the listener (status 0). Returns it, not yet
 * reading, or NULL (closed at once: over the limit, or an error). */
td_conn *td_conns_accept(td_conns *cs, uv_stream_t *server);

/* Connect to addr; ops.connected follows. NULL on an immediate failure. */
td_conn *td_conns_dial(td_conns *cs, const struct sockaddr *addr, const tn_pubkey *member);

/* Start handing read bytes to ops.data. */
void td_conn_read(td_conn *c);

/* Queue bytes (copied). false when the queue is over TD_CONN_OUT_MAX or
 * the write failed (then the conn is closing). */
bool td_conn_write(td_conn *c, const uint8_t *p, size_t n);

/* Close now. */
void td_conn_close(td_conn *c, const char *reason);

/* Stop reading, send nothing more, close after delay_ms. */
void td_conn_close_after(td_conn *c, uint64_t delay_ms);

/* The silent treatment (see above): close after a random delay. */
void td_conn_silent(td_conn *c);

/* Close every connection (shutdown). */
void td_conns_close_all(td_conns *cs);

#endif
