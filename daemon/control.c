/* tocsind: the control socket server (see control.h, docs/control.md). */
#define _POSIX_C_SOURCE 200809L
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon_limits.h"
#include "peercred.h"

/* Past this many bytes that libuv could not hand to the kernel yet (the
 * kernel's own socket buffer, ~200 KiB on Linux, comes on top), a
 * subscriber is too slow and is dropped rather than buffered for. */
enum { SUB_BACKLOG_MAX = 256 * 1024, IN_CAP = TD_CTL_HDR + TD_CTL_REQ_MAX };

typedef struct ctl_client ctl_client;

/* One queued frame; freed in its write callback. */
typedef struct ctl_out {
	uv_write_t req;
	ctl_client *cl;
	size_t len;
	uint8_t data[];
} ctl_out;

struct ctl_client {
	uv_pipe_t pipe;
	uv_timer_t idle;
	td_control *ctl;
	ctl_client *prev, *next;
	uint64_t id;
	unsigned open_handles; /* freed when both are closed */
	bool closing;
	bool subscriber;
	bool reading;
	bool close_after_flush; /* a final frame is queued: close once written */
	uint64_t ev_seq;
	size_t out_bytes; /* queued, not yet confirmed by a write callback */
	unsigned out_frames;
	size_t in_len;
	uint8_t *in; /* IN_CAP bytes: one request at most */
};

struct td_control {
	uv_loop_t *loop;
	td_log *log;
	const td_ctl_host *host;
	uv_pipe_t listener;
	uv_timer_t grace;
	bool listener_open, grace_open, stopping, created;
	ctl_client *head;
	unsigned count, subscribers;
	uint64_t next_id;
	uint64_t refused_uid, refused_full, dropped_slow;
	td_ratelimit rl; /* every line a local client can cause */
	char path[TD_PATH_MAX];
};

static void client_pump(ctl_client *cl);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- closing ------------------------------------------------------------ */

static void maybe_end_grace(td_control *c)
{
	if (c->stopping && c->count == 0 && c->grace_open) {
		c->grace_open = false;
		uv_close((uv_handle_t *)&c->grace, NULL);
	}
}

static void on_client_closed(uv_handle_t *h)
{
	ctl_client *cl = h->data;
	if (--cl->open_handles > 0)
		return;
	if (cl->in) {
		sodium_memzero(cl->in, IN_CAP); /* may have held a passphrase */
		free(cl->in);
	}
	free(cl);
}

static void client_close(ctl_client *cl, const char *reason)
{
	if (cl->closing)
		return;
	cl->closing = true;
	td_control *c = cl->ctl;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->head = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->count--;
	if (cl->subscriber)
		c->subscribers--;
	td_log_limited(c->log, &c->rl, TN_LOG_DEBUG,
	               "control_closed client=%" PRIu64 " reason=%s subscriber=%s", cl->id, reason,
	               cl->subscriber ? "yes" : "no");
	uv_close((uv_handle_t *)&cl->pipe, on_client_closed);
	uv_close((uv_handle_t *)&cl->idle, on_client_closed);
	maybe_end_grace(c);
}

/* ---- output ------------------------------------------------------------- */

static void on_written(uv_write_t *req, int status)
{
	ctl_out *o = req->data;
	ctl_client *cl = o->cl;
	cl->out_bytes -= o->len;
	cl->out_frames--;
	sodium_memzero(o->data, o->len);
	free(o);
	if (cl->closing)
		return;
	if (status < 0) {
		client_close(cl, uv_err_name(status));
		return;
	}
	if (cl->close_after_flush && cl->out_frames == 0) {
		client_close(cl, "done");
		return;
	}
	client_pump(cl); /* room again: maybe read or answer more */
}

static bool client_send(ctl_client *cl, const uint8_t *frame, size_t len)
{
	ctl_out *o = malloc(sizeof *o + len);
	if (!o) {
		client_close(cl, "nomem");
		return false;
	}
	o->cl = cl;
	o->len = len;
	memcpy(o->data, frame, len);
	o->req.data = o;
	uv_buf_t b = uv_buf_init((char *)o->data, (unsigned)len);
	int rc = uv_write(&o->req, (uv_stream_t *)&cl->pipe, &b, 1, on_written);
	if (rc != 0) {
		free(o);
		client_close(cl, uv_err_name(rc));
		return false;
	}
	cl->out_bytes += len;
	cl->out_frames++;
	return true;
}

/* Queue one event to a subscriber, or drop a subscriber that is not
 * reading: a slow client must cost a bounded amount of memory. */
static void client_event(ctl_client *cl, const td_ctl_msg *ev)
{
	uint8_t buf[TD_CTL_SMALL_REPLY];
	tn_ssize n = td_ctl_event_frame(ev, ++cl->ev_seq, buf, sizeof buf);
	if (n < 0) {
		td_err(cl->ctl->log, "control_event_error error=%s", tn_strerror((int)n));
		return;
	}
	size_t backlog = uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe);
	if (backlog + (size_t)n > SUB_BACKLOG_MAX) {
		cl->ctl->dropped_slow++;
		td_log_limited(cl->ctl->log, &cl->ctl->rl, TN_LOG_WARN,
		               "control_subscriber_dropped client=%" PRIu64
		               " reason=queue_full backlog=%zu",
		               cl->id, backlog);
		client_close(cl, "slow_subscriber");
		return;
	}
	(void)client_send(cl, buf, (size_t)n);
}

/* ---- input -------------------------------------------------------------- */

static void set_reading(ctl_client *cl, bool on)
{
	if (cl->closing || on == cl->reading)
		return;
	cl->reading = on;
	if (!on) {
		uv_read_stop((uv_stream_t *)&cl->pipe);
		return;
	}
	int rc = uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read);
	if (rc != 0)
		client_close(cl, uv_err_name(rc));
}

static void send_error_and_close(ctl_client *cl, td_ctl_code code, const char *msg)
{
	uint8_t buf[TD_CTL_SMALL_REPLY];
	tn_ssize n = td_ctl_error_frame(0, code, msg, buf, sizeof buf);
	set_reading(cl, false);
	cl->in_len = 0;
	if (n > 0 && client_send(cl, buf, (size_t)n)) {
		cl->close_after_flush = true;
		return;
	}
	client_close(cl, td_ctl_code_str(code));
}

static void handle_request(ctl_client *cl, uint8_t *body, size_t len)
{
	td_control *c = cl->ctl;
	uint8_t *buf = malloc(TD_CTL_REPLY_BUF);
	if (!buf) {
		sodium_memzero(body, len);
		client_close(cl, "nomem");
		return;
	}
	td_ctl_action act;
	tn_ssize n = td_ctl_dispatch(c->host, c->subscribers, body, len, buf, TD_CTL_REPLY_BUF, &act);
	sodium_memzero(body, len); /* an init request carries the passphrase */
	if (n < 0) {
		td_err(c->log, "control_reply_error error=%s", tn_strerror((int)n));
		n = td_ctl_error_frame(0, TD_CTL_E_INTERNAL, "reply too large", buf, TD_CTL_REPLY_BUF);
		if (n < 0) {
			free(buf);
			client_close(cl, "internal");
			return;
		}
	}
	bool sent = client_send(cl, buf, (size_t)n);
	free(buf);
	if (!sent)
		return;
	uv_timer_again(&cl->idle);
	if (act == TD_CTL_ACT_SUBSCRIBE) {
		cl->subscriber = true;
		c->subscribers++;
		uv_timer_stop(&cl->idle);
		td_ctl_msg ev;
		td_ctl_msg_init(&ev);
		td_ctl_info info;
		memset(&info, 0, sizeof info);
		c->host->info(c->host->ud, &info);
		td_ctl_add_str(&ev, "event", "hello");
		td_ctl_add_str(&ev, "protocol", TD_CTL_PROTOCOL);
		td_ctl_add_str(&ev, "version", info.version ? info.version : "");
		client_event(cl, &ev);
	}
}

/* Answer every complete request in the buffer, as far as output room
 * allows, then decide whether to read more. Bounded work per wakeup: at
 * most one buffer's worth of requests. */
static void client_pump(ctl_client *cl)
{
	while (!cl->closing && !cl->close_after_flush) {
		if (cl->subscriber) {
			if (cl->in_len > 0) {
				td_log_limited(cl->ctl->log, &cl->ctl->rl, TN_LOG_DEBUG,
				               "control_protocol_error client=%" PRIu64
				               " reason=data_on_event_stream",
				               cl->id);
				client_close(cl, "data_on_event_stream");
				return;
			}
			break;
		}
		if (cl->in_len < TD_CTL_HDR || cl->out_bytes >= TD_CTL_OUT_MAX)
			break;
		uint32_t len;
		if (td_ctl_get_hdr(cl->in, TD_CTL_REQ_MAX, &len) != TN_OK) {
			td_log_limited(cl->ctl->log, &cl->ctl->rl, TN_LOG_DEBUG,
			               "control_protocol_error client=%" PRIu64
			               " reason=too_large len=%" PRIu32,
			               cl->id, len);
			send_error_and_close(cl, TD_CTL_E_TOO_LARGE,
			                     "request longer than 65536 bytes; closing");
			return;
		}
		size_t whole = TD_CTL_HDR + (size_t)len;
		if (cl->in_len < whole)
			break;
		handle_request(cl, cl->in + TD_CTL_HDR, len);
		if (cl->closing)
			return;
		memmove(cl->in, cl->in + whole, cl->in_len - whole);
		sodium_memzero(cl->in + cl->in_len - whole, whole);
		cl->in_len -= whole;
	}
	if (cl->closing)
		return;
	set_reading(cl, !cl->close_after_flush && cl->in_len < IN_CAP &&
	                        (cl->subscriber || cl->out_bytes < TD_CTL_OUT_MAX));
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	ctl_client *cl = h->data;
	*buf = uv_buf_init((char *)cl->in + cl->in_len, (unsigned)(IN_CAP - cl->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	ctl_client *cl = s->data;
	if (nread > 0) {
		cl->in_len += (size_t)nread;
		client_pump(cl);
	} else if (nread == UV_EOF) {
		/* A half-close: answer what was asked, then close. */
		if (cl->out_frames > 0 && !cl->subscriber) {
			set_reading(cl, false);
			cl->close_after_flush = true;
		} else {
			client_close(cl, "eof");
		}
	} else if (nread < 0) {
		client_close(cl, uv_err_name((int)nread));
	}
}

static void on_idle(uv_timer_t *t)
{
	ctl_client *cl = t->data;
	if (!cl->subscriber)
		client_close(cl, "idle");
}

/* ---- accepting ---------------------------------------------------------- */

/* The peer's uid, from the kernel; anyone but us is closed without a byte. */
static bool peer_allowed(td_control *c, ctl_client *cl)
{
	uv_os_fd_t fd;
	unsigned long uid = (unsigned long)-1;
	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) == 0 && td_peer_is_self((int)fd, &uid))
		return true;
	c->refused_uid++;
	td_log_limited(c->log, &c->rl, TN_LOG_WARN,
	               "control_refused reason=peer_uid peer_uid=%ld refused_total=%" PRIu64,
	               uid == (unsigned long)-1 ? -1L : (long)uid, c->refused_uid);
	return false;
}

static void client_link(td_control *c, ctl_client *cl)
{
	cl->next = c->head;
	if (c->head)
		c->head->prev = cl;
	c->head = cl;
	c->count++;
}

static void on_connection(uv_stream_t *server, int status)
{
	td_control *c = server->data;
	if (status < 0) {
		td_log_limited(c->log, &c->rl, TN_LOG_WARN, "control_accept_error error=%s",
		               uv_err_name(status));
		return;
	}
	ctl_client *cl = calloc(1, sizeof *cl);
	if (!cl)
		return; /* libuv keeps the connection pending; it is retried */
	cl->ctl = c;
	cl->id = ++c->next_id;
	uv_pipe_init(c->loop, &cl->pipe, 0);
	uv_timer_init(c->loop, &cl->idle);
	cl->pipe.data = cl;
	cl->idle.data = cl;
	cl->open_handles = 2;
	client_link(c, cl);
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0) {
		client_close(cl, "accept");
		return;
	}
	if (!peer_allowed(c, cl)) {
		client_close(cl, "peer_uid");
		return;
	}
	if (c->stopping || c->count > TD_CTL_CLIENTS_MAX) {
		c->refused_full++;
		td_log_limited(
		        c->log, &c->rl, TN_LOG_WARN,
		        "control_refused reason=too_many_clients max=%d refused_total=%" PRIu64,
		        TD_CTL_CLIENTS_MAX, c->refused_full);
		client_close(cl, "too_many_clients");
		return;
	}
	cl->in = calloc(1, IN_CAP);
	if (!cl->in) {
		client_close(cl, "nomem");
		return;
	}
	uv_timer_start(&cl->idle, on_idle, TD_CTL_IDLE_MS, TD_CTL_IDLE_MS);
	td_log_limited(c->log, &c->rl, TN_LOG_DEBUG, "control_accepted client=%" PRIu64 " open=%u",
	               cl->id, c->count);
	set_reading(cl, true);
}

/* ---- the socket file ---------------------------------------------------- */

/* Is a server answering on path? Non-blocking connect: a full backlog
 * (EAGAIN) also means someone listens. */
static int probe_socket(const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/* Remove a socket file a crashed daemon left behind, and nothing else. */
static tn_err clear_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return TN_OK;
		snprintf(err, errlen, "cannot stat control socket %s: %s", path, strerror(errno));
		return TN_ERR_IO;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err, errlen,
		         "%s exists and is not a socket of ours; refusing to remove it (move it "
		         "away "
		         "if it is yours)",
		         path);
		return TN_ERR_INSECURE;
	}
	int rc = probe_socket(path);
	if (rc == 0 || rc == -EAGAIN || rc == -EINPROGRESS) {
		snprintf(err, errlen,
		         "another tocsind answers on %s (two homes sharing one runtime dir?)",
		         path);
		return TN_ERR_INUSE;
	}
	if (rc != -ECONNREFUSED) {
		snprintf(err, errlen, "cannot probe control socket %s: %s", path, strerror(-rc));
		return TN_ERR_IO;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale control socket %s: %s", path,
		         strerror(errno));
		return TN_ERR_IO;
	}
	return TN_OK;
}

static tn_err bind_listen(td_control *c, char *err, size_t errlen)
{
	uv_pipe_init(c->loop, &c->listener, 0);
	c->listener.data = c;
	c->listener_open = true;
	int rc = uv_pipe_bind(&c->listener, c->path);
	if (rc == 0) {
		c->created = true;
		/* The directory is 0700 and the umask 077 already; the explicit
		 * mode is so that neither alone is load-bearing. */
		if (chmod(c->path, 0600) != 0) {
			snprintf(err, errlen, "cannot chmod control socket %s: %s", c->path,
			         strerror(errno));
			return TN_ERR_IO;
		}
		rc = uv_listen((uv_stream_t *)&c->listener, TD_CTL_CLIENTS_MAX, on_connection);
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on control socket %s: %s", c->path,
		         uv_strerror(rc));
		return TN_ERR_IO;
	}
	return TN_OK;
}

tn_err td_control_start(td_control **out, uv_loop_t *loop, td_log *log, const char *path,
                        const td_ctl_host *host, char *err, size_t errlen)
{
	*out = NULL;
	td_control *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return TN_ERR_NOMEM;
	}
	c->loop = loop;
	c->log = log;
	c->host = host;
	td_ratelimit_init(&c->rl, 10, 10 * TN_SEC);
	uv_timer_init(loop, &c->grace);
	c->grace.data = c;
	c->grace_open = true;
	*out = c; /* even on failure: the caller's td_control_del cleans up */
	if (strlen(path) >= sizeof c->path) {
		snprintf(err, errlen, "control socket path too long");
		return TN_ERR_LIMIT;
	}
	memcpy(c->path, path, strlen(path) + 1);
	tn_err rc = clear_stale(path, err, errlen);
	if (rc == TN_OK)
		rc = bind_listen(c, err, errlen);
	return rc;
}

/* ---- events and shutdown ------------------------------------------------ */

void td_control_emit(td_control *c, const td_ctl_msg *ev)
{
	ctl_client *cl = c->head;
	while (cl) {
		ctl_client *next = cl->next; /* client_event may unlink cl */
		if (cl->subscriber && !cl->close_after_flush)
			client_event(cl, ev);
		cl = next;
	}
}

unsigned td_control_subscribers(const td_control *c)
{
	return c ? c->subscribers : 0;
}

static void on_grace(uv_timer_t *t)
{
	td_control *c = t->data;
	while (c->head)
		client_close(c->head, "shutdown_grace");
	maybe_end_grace(c);
}

void td_control_stop(td_control *c, const char *reason)
{
	if (!c || c->stopping)
		return;
	td_ctl_msg ev;
	td_ctl_msg_init(&ev);
	td_ctl_add_str(&ev, "event", "shutdown");
	td_ctl_add_str(&ev, "reason", reason);
	td_control_emit(c, &ev);
	c->stopping = true;
	if (c->listener_open) {
		c->listener_open = false;
		uv_close((uv_handle_t *)&c->listener, NULL);
	}
	ctl_client *cl = c->head;
	while (cl) {
		ctl_client *next = cl->next;
		set_reading(cl, false);
		if (cl->subscriber && cl->out_frames > 0)
			cl->close_after_flush = true;
		else
			client_close(cl, "shutdown");
		cl = next;
	}
	if (c->count > 0 && c->grace_open)
		uv_timer_start(&c->grace, on_grace, TD_CTL_SHUTDOWN_GRACE_MS, 0);
	maybe_end_grace(c);
}

void td_control_del(td_control *c)
{
	if (!c)
		return;
	/* Only a socket this process bound is removed: the path may belong
	 * to another daemon when start failed with TN_ERR_INUSE. */
	if (c->created)
		(void)unlink(c->path);
	free(c);
}
