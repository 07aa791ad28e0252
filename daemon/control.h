/* tocsind: the control socket (DESIGN §8, docs/control.md).
 *
 * Two halves:
 *  - td_ctl_dispatch(): one request body in, one reply frame out, against
 *    a td_ctl_host the daemon implements. No I/O, no libuv: the unit tests
 *    and fuzz/fuzz_control.c drive it with a fake host.
 *  - td_control_*: the libuv server. A Unix stream socket (uv_pipe_t),
 *    mode 0600 in a 0700 directory, every peer's uid checked with the
 *    kernel's credentials (peercred.h) before a byte is read; framing,
 *    per-client bounds, idle timeouts and event subscriptions.
 *
 * Bounds (all in this header): TD_CTL_CLIENTS_MAX connections, more are
 * closed at once; a fixed input buffer per client (one request); output
 * queued per client is capped: a request client is not read from while its
 * replies are unread (back-pressure), a subscriber whose queue is full is
 * dropped (it must never make the daemon buffer without bound). */
#ifndef TD_CONTROL_H
#define TD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "ctlproto.h"
#include "log.h"
#include "tocsin/identity.h"

enum {
	TD_CTL_CLIENTS_MAX = 16,
	/* A connection that is not a subscriber and sends no complete request
	 * for this long is closed. Subscribers may stay silent for ever. */
	TD_CTL_IDLE_MS = 30 * 1000,
	/* Output queued for one client. Past it a request client is not read
	 * from until it reads its replies; a subscriber is dropped. One
	 * maximal reply must fit. */
	TD_CTL_OUT_MAX = TD_CTL_REPLY_MAX + TD_CTL_HDR + 64 * 1024,
	/* Events queued for one subscriber (not yet taken by the kernel). */
	TD_CTL_SUB_QUEUE_MAX = 64,
	/* At shutdown, subscribers get this long to take the shutdown event
	 * before their connections are closed anyway. */
	TD_CTL_SHUTDOWN_GRACE_MS = 1000,
	/* Replies built on the stack of the dispatcher are at most this big
	 * today; the limit for the wire is TD_CTL_REPLY_MAX. */
	TD_CTL_SMALL_REPLY = 8 * 1024,
	/* Reply buffer of one request: the list ops (alerts, members, peers)
	 * carry one str of up to TD_CTL_STR_MAX bytes plus a few fields. */
	TD_CTL_REPLY_BUF = TD_CTL_STR_MAX + TD_CTL_SMALL_REPLY,
};

/* What status reports; filled by the host. Strings are borrowed for the
 * duration of the call. */
typedef struct td_ctl_info {
	uint64_t pid;
	uint64_t uptime_s;
	uint64_t links; /* authenticated links to members: 0 until links exist */
	const char *version;
	const char *home; /* "" in XDG mode */
	const char *data_dir;
	const char *control_socket;
	const char *listen; /* bound address, "127.0.0.1:7450" */
	const char *mesh;   /* one line: the network and its links, or "no network" */
	const char *counters; /* nonzero drop/rejection counters, "group.name=N ..." */
	const char *desktop_notify; /* desktop notifications: "connected", "off", ... */
} td_ctl_info;

/* What the dispatcher needs from the daemon. */
typedef struct td_ctl_host {
	void *ud;
	void (*info)(void *ud, td_ctl_info *out);
	/* The device identity, or NULL before tocsin init. */
	const tn_identity *(*identity)(void *ud);
	/* Create, save and adopt a new identity. pass may be NULL. Returns
	 * TN_OK; TN_ERR_EXISTS (already initialised); TN_ERR_INVAL (passphrase
	 * refused); anything else with a human line in msg. */
	tn_err (*init)(void *ud, const uint8_t *pass, size_t passlen, char *msg, size_t msglen);
	/* The network ops (network_create, alert, alerts, alert_status,
	 * members, peers; docs/control.md), called only once initialised. On
	 * TD_CTL_OK the host has added the result fields to *m (begun with
	 * td_ctl_reply_begin); str values it adds stay valid until the next
	 * call. Otherwise the code and a human line in msg are the error
	 * reply. NULL: those ops answer "internal" (tests without a mesh). */
	td_ctl_code (*net)(void *ud, const td_ctl_req *req, td_ctl_msg *m, char *msg,
	                   size_t msglen);
	/* tocsin wipe (docs/control.md): schedule it. The reply goes out
	 * first; then the daemon stops as on SIGTERM (links, store closed),
	 * overwrites and removes its data dir (wipe.h) and exits. TN_OK, or
	 * an error with a human line in msg. NULL: wipe answers "internal". */
	tn_err (*wipe)(void *ud, char *msg, size_t msglen);
} td_ctl_host;

typedef enum td_ctl_action {
	TD_CTL_ACT_REPLY = 0, /* send the reply, keep serving the connection */
	TD_CTL_ACT_SUBSCRIBE, /* send the reply, then the connection is an event stream */
} td_ctl_action;

/* Handle one request body: decode it, run the op against host, write the
 * reply frame (header included) into out. subscribers is reported by
 * status. Bad input gives an error reply, never a failure: the return is
 * the frame length, or TN_ERR_NOBUF when cap cannot hold the reply
 * (a bug: every reply today fits TD_CTL_SMALL_REPLY). *act says what the
 * connection becomes. The caller wipes body afterwards (it may hold a
 * passphrase). */
TN_NODISCARD tn_ssize td_ctl_dispatch(const td_ctl_host *host, uint64_t subscribers,
                                      const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                                      td_ctl_action *act);

/* An event frame: ev's fields plus "seq". Returns the frame length or the
 * errors of td_ctl_msg_frame. ev is not modified. */
TN_NODISCARD tn_ssize td_ctl_event_frame(const td_ctl_msg *ev, uint64_t seq, uint8_t *out,
                                         size_t cap);

/* ---- the server ---------------------------------------------------------- */

typedef struct td_control td_control;

/* Listen on path. A leftover socket file is removed only if nothing answers
 * on it (a crash left it); a live one, or a path that is not a socket of
 * ours, is an error. The socket is made mode 0600. host and log must outlive
 * the server. Returns TN_OK, TN_ERR_INUSE (a server answers on path),
 * TN_ERR_INSECURE (path exists and is not our socket) or TN_ERR_IO, with a
 * line in err. */
TN_NODISCARD tn_err td_control_start(td_control **out, uv_loop_t *loop, td_log *log,
                                     const char *path, const td_ctl_host *host, char *err,
                                     size_t errlen);

/* Queue ev (without "seq") to every subscriber. A subscriber whose queue is
 * full is dropped. */
void td_control_emit(td_control *c, const td_ctl_msg *ev);

unsigned td_control_subscribers(const td_control *c);

/* Shutdown: stop listening, send {"event":"shutdown","reason":reason} to
 * every subscriber, close request clients now and subscribers once the
 * event is written (or after TD_CTL_SHUTDOWN_GRACE_MS). Everything is closed
 * through the loop; run it until it returns, then td_control_del. */
void td_control_stop(td_control *c, const char *reason);

/* Free the server after the loop has run every close callback, and remove
 * the socket file. NULL is fine. */
void td_control_del(td_control *c);

#endif
