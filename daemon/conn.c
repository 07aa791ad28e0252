/* tocsind: the TCP transport under the links (see conn.h). */
#define _POSIX_C_SOURCE 200809L
#include "conn.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon_limits.h"

typedef struct conn_write {
	uv_write_t req;
	td_conn *c;
	size_t len;
	uint8_t data[];
} conn_write;

void td_conns_init(td_conns *cs, uv_loop_t *loop, td_log *log, unsigned max_inbound,
                   const td_conn_ops *ops, void *ud)
{
	memset(cs, 0, sizeof *cs);
	cs->loop = loop;
	cs->log = log;
	cs->max_inbound = max_inbound;
	cs->ops = *ops;
	cs->ud = ud;
	td_ratelimit_init(&cs->rl, 10, 10 * TN_SEC);
}

static void on_handle_closed(uv_handle_t *h)
{
	td_conn *c = h->data;
	if (--c->open_handles == 0)
		free(c);
}

void td_conn_close(td_conn *c, const char *reason)
{
	if (c->closing)
		return;
	c->closing = true;
	td_conns *cs = c->set;
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cs->count--;
	if (!c->outbound)
		cs->inbound--;
	td_log_limited(cs->log, &cs->rl, TN_LOG_DEBUG,
	               "conn_closed id=%" PRIu64 " link=%" PRIu64 " reason=%s", c->id, c->link_id,
	               reason);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	cs->ops.closed(cs->ud, c, reason);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	td_conn *c = h->data;
	*buf = uv_buf_init((char *)c->set->rbuf, (unsigned)sizeof c->set->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	td_conn *c = s->data;
	if (nread > 0)
		c->set->ops.data(c->set->ud, c, (const uint8_t *)buf->base, (size_t)nread);
	else if (nread == UV_EOF)
		td_conn_close(c, "eof");
	else if (nread < 0)
		td_conn_close(c, uv_err_name((int)nread));
}

void td_conn_read(td_conn *c)
{
	if (c->closing || c->reading)
		return;
	int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc != 0) {
		td_conn_close(c, uv_err_name(rc));
		return;
	}
	c->reading = true;
}

static void on_written(uv_write_t *req, int status)
{
	conn_write *w = req->data;
	td_conn *c = w->c;
	c->out_pending -= w->len;
	free(w);
	if (c->closing)
		return;
	if (status < 0) {
		td_conn_close(c, uv_err_name(status));
		return;
	}
	c->set->ops.drained(c->set->ud, c);
}

bool td_conn_write(td_conn *c, const uint8_t *p, size_t n)
{
	if (c->closing || c->out_pending + n > TD_CONN_OUT_MAX)
		return false;
	conn_write *w = malloc(sizeof *w + n);
	if (!w) {
		td_conn_close(c, "nomem");
		return false;
	}
	w->c = c;
	w->len = n;
	memcpy(w->data, p, n);
	w->req.data = w;
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
	if (rc != 0) {
		free(w);
		td_conn_close(c, uv_err_name(rc));
		return false;
	}
	c->out_pending += n;
	return true;
}

static void on_timer(uv_timer_t *t)
{
	td_conn_close(t->data, "delayed_close");
}

void td_conn_close_after(td_conn *c, uint64_t delay_ms)
{
	if (c->closing)
		return;
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
	uv_timer_start(&c->timer, on_timer, delay_ms, 0);
}

void td_conn_silent(td_conn *c)
{
	uint32_t span = TD_SILENT_CLOSE_MAX_MS - TD_SILENT_CLOSE_MIN_MS + 1;
	td_conn_close_after(c, TD_SILENT_CLOSE_MIN_MS + randombytes_uniform(span));
}

static td_conn *conn_new(td_conns *cs)
{
	td_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->set = cs;
	c->id = ++cs->next_id;
	if (uv_tcp_init(cs->loop, &c->tcp) != 0) {
		free(c);
		return NULL;
	}
	uv_timer_init(cs->loop, &c->timer); /* cannot fail */
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = cs->head;
	if (cs->head)
		cs->head->prev = c;
	cs->head = c;
	cs->count++;
	return c;
}

/* The inbound socket, other than except, that has waited longest without
 * authenticating: one already waiting for its silent close if any, else
 * one still in its handshake. The list is newest first. NULL: none. */
static td_conn *oldest_unauthenticated(td_conns *cs, const td_conn *except)
{
	td_conn *silenced = NULL, *pending = NULL;
	for (td_conn *c = cs->head; c; c = c->next) {
		if (c == except || c->outbound || c->up || c->closing)
			continue;
		if (c->silenced)
			silenced = c;
		else
			pending = c;
	}
	return silenced ? silenced : pending;
}

td_conn *td_conns_accept(td_conns *cs, uv_stream_t *server)
{
	td_conn *c = conn_new(cs);
	if (!c) {
		td_log_limited(cs->log, &cs->rl, TN_LOG_ERR, "conn_error reason=nomem");
		return NULL;
	}
	cs->inbound++; /* td_conn_close counts it down */
	int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
	if (rc != 0) {
		td_conn_close(c, uv_err_name(rc));
		return NULL;
	}
	if (cs->inbound > cs->max_inbound) {
		/* Over the cap: make room by closing the oldest socket that has not
		 * authenticated (one already rejected first), so 32 idle attack
		 * sockets cannot lock members out; only when every inbound socket
		 * is an authenticated link is the newcomer refused. Closing at once
		 * differs from the silent close, but holding more sockets would let
		 * a flood exhaust our descriptors and memory. */
		td_conn *old = oldest_unauthenticated(cs, c);
		if (!old) {
			cs->refused++;
			td_log_limited(cs->log, &cs->rl, TN_LOG_DEBUG,
			               "conn_refused reason=limit open=%u refused_total=%" PRIu64,
			               cs->inbound, cs->refused);
			td_conn_close(c, "limit");
			return NULL;
		}
		cs->evicted++;
		td_log_limited(cs->log, &cs->rl, TN_LOG_DEBUG,
		               "conn_evicted id=%" PRIu64 " reason=limit evicted_total=%" PRIu64,
		               old->id, cs->evicted);
		td_conn_close(old, "evicted");
	}
	uv_tcp_nodelay(&c->tcp, 1);
	td_log_limited(cs->log, &cs->rl, TN_LOG_DEBUG, "conn_accepted id=%" PRIu64 " open=%u",
	               c->id, cs->count);
	return c;
}

static void on_connect(uv_connect_t *req, int status)
{
	td_conn *c = req->data;
	c->connecting = false;
	if (c->closing)
		return;
	if (status == 0)
		uv_tcp_nodelay(&c->tcp, 1);
	c->set->ops.connected(c->set->ud, c, status);
	if (status != 0)
		td_conn_close(c, uv_err_name(status));
}

td_conn *td_conns_dial(td_conns *cs, const struct sockaddr *addr, const tn_pubkey *member)
{
	td_conn *c = conn_new(cs);
	if (!c)
		return NULL;
	c->outbound = true;
	c->member = *member;
	c->connect.data = c;
	int rc = uv_tcp_connect(&c->connect, &c->tcp, addr, on_connect);
	if (rc != 0) {
		td_conn_close(c, uv_err_name(rc));
		return NULL;
	}
	c->connecting = true;
	return c;
}

void td_conns_close_all(td_conns *cs)
{
	while (cs->head)
		td_conn_close(cs->head, "shutdown");
}
