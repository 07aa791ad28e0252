/* tocsind: accepted connections and the seam to the link layer (see conn.h). */
#define _POSIX_C_SOURCE 200809L
#include "conn.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon_limits.h"

struct td_conn {
	uv_tcp_t tcp;
	uv_timer_t silent_close; /* random delay, DESIGN §4 */
	td_conns *set;
	td_conn *prev, *next;
	uint64_t id;
	unsigned open_handles; /* freed when both handles are closed */
	bool linked;           /* in set->head list (counted) */
	bool closing;
	size_t len;
	uint8_t buf[TD_PREAUTH_BUF];
};

void td_conns_init(td_conns *cs, uv_loop_t *loop, td_log *log, unsigned max)
{
	memset(cs, 0, sizeof *cs);
	cs->loop = loop;
	cs->log = log;
	cs->max = max;
	td_ratelimit_init(&cs->rl, 10, 10 * TN_SEC);
}

static void on_handle_closed(uv_handle_t *h)
{
	td_conn *c = h->data;
	if (--c->open_handles == 0)
		free(c);
}

static void conn_close(td_conn *c, const char *reason)
{
	if (c->closing)
		return;
	c->closing = true;
	td_conns *cs = c->set;
	if (c->linked) {
		if (c->prev)
			c->prev->next = c->next;
		else
			cs->head = c->next;
		if (c->next)
			c->next->prev = c->prev;
		cs->count--;
		c->linked = false;
	}
	td_log_limited(cs->log, &cs->rl, TN_LOG_DEBUG, "conn_closed id=%" PRIu64 " reason=%s bytes=%zu",
		       c->id, reason, c->len);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->silent_close, on_handle_closed);
}

/* SEAM: the link layer plugs in here. It will hand these bytes, with
 * uv_hrtime(), to the protocol node (tn_node_recv), write what
 * tn_node_send produces, re-arm the node's single deadline timer and, once
 * message 1 is valid, cancel silent_close and lift the pre-auth buffer cap.
 * Until it exists every peer is a non-member: keep at most TD_PREAUTH_BUF
 * bytes, answer nothing, stop reading when full (the sender stalls; we
 * spend nothing), and let silent_close end it. */
static void conn_feed(td_conn *c, size_t n)
{
	c->len += n;
	if (c->len < sizeof c->buf)
		return;
	uv_read_stop((uv_stream_t *)&c->tcp);
	td_log_limited(c->set->log, &c->set->rl, TN_LOG_DEBUG,
		       "conn_stalled id=%" PRIu64 " reason=preauth_buffer_full bytes=%zu", c->id,
		       c->len);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	td_conn *c = h->data;
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(sizeof c->buf - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	td_conn *c = s->data;
	if (nread > 0)
		conn_feed(c, (size_t)nread);
	else if (nread == UV_EOF)
		conn_close(c, "eof");
	else if (nread < 0)
		conn_close(c, uv_err_name((int)nread));
}

static void on_silent_close(uv_timer_t *t)
{
	conn_close(t->data, "silent_timeout");
}

static uint64_t silent_delay_ms(void)
{
	uint32_t span = TD_SILENT_CLOSE_MAX_MS - TD_SILENT_CLOSE_MIN_MS + 1;
	return TD_SILENT_CLOSE_MIN_MS + randombytes_uniform(span);
}

static void conn_start(td_conns *cs, td_conn *c)
{
	c->linked = true;
	c->next = cs->head;
	if (cs->head)
		cs->head->prev = c;
	cs->head = c;
	cs->count++;
	uv_timer_start(&c->silent_close, on_silent_close, silent_delay_ms(), 0);
	int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc != 0) {
		conn_close(c, uv_err_name(rc));
		return;
	}
	td_log_limited(cs->log, &cs->rl, TN_LOG_DEBUG, "conn_accepted id=%" PRIu64 " open=%u",
		       c->id, cs->count);
}

void td_conns_accept(td_conns *cs, uv_stream_t *server)
{
	td_conn *c = calloc(1, sizeof *c);
	if (!c) {
		td_log_limited(cs->log, &cs->rl, TN_LOG_ERR, "conn_error reason=nomem");
		return;
	}
	c->set = cs;
	c->id = ++cs->next_id;
	if (uv_tcp_init(cs->loop, &c->tcp) != 0) {
		free(c);
		return;
	}
	uv_timer_init(cs->loop, &c->silent_close); /* cannot fail */
	c->tcp.data = c;
	c->silent_close.data = c;
	c->open_handles = 2;
	int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
	if (rc != 0) {
		conn_close(c, uv_err_name(rc));
		return;
	}
	if (cs->count >= cs->max) {
		/* Closing at once differs from the silent close, but holding more
		 * sockets would let a flood exhaust our descriptors and memory. */
		cs->refused++;
		td_log_limited(cs->log, &cs->rl, TN_LOG_DEBUG,
			       "conn_refused reason=limit open=%u refused_total=%" PRIu64, cs->count,
			       cs->refused);
		conn_close(c, "limit");
		return;
	}
	conn_start(cs, c);
}

void td_conns_close_all(td_conns *cs)
{
	while (cs->head)
		conn_close(cs->head, "shutdown");
}
