/* tocsind: reachability checks (see reach.h). */
#define _POSIX_C_SOURCE 200809L
#include "reach.h"

#include <stdlib.h>
#include <string.h>

#include "addrscope.h"
#include "config.h"
#include "conn.h"
#include "daemon_limits.h"
#include "tocsin/link.h"

#define NEVER UINT64_MAX

typedef struct probe {
	uint64_t id; /* the node's probe id; 0: free slot */
	tn_link *link;
	td_conn *conn;
	uint64_t deadline; /* uv_now ms */
	bool connected, done;
} probe;

struct td_reach {
	uv_loop_t *loop;
	td_log *log;
	td_reach_host host;
	td_conns conns;
	uv_timer_t timer;
	probe probes[TN_DIALBACK_PROBES_MAX];
	td_reach_status st;
	uint64_t next_ask; /* uv_now ms, NEVER: not scheduled */
	uint64_t asked_at; /* uv_now ms of the outstanding question */
	bool asking;
	unsigned noep_run; /* no_endpoint answers in a row since our record changed */
	bool stopping;
	bool listen_loopback; /* loopback endpoints are checked (addrscope.h) */
	uint64_t scope_refused;
	td_ratelimit rl;
	uint8_t out[TN_FRAME_MAX + 1024];
};

const char *td_reachable_name(td_reachable v)
{
	switch (v) {
	case TD_REACH_YES: return "yes";
	case TD_REACH_NO: return "no";
	case TD_REACH_UNKNOWN: break;
	}
	return "unknown";
}

static void on_timer(uv_timer_t *t);

static void rearm(td_reach *r)
{
	if (r->stopping)
		return;
	uint64_t when = r->next_ask;
	if (r->asking && r->asked_at + TD_REACH_ANSWER_S * 1000u < when)
		when = r->asked_at + TD_REACH_ANSWER_S * 1000u;
	for (size_t i = 0; i < TN_DIALBACK_PROBES_MAX; i++)
		if (r->probes[i].id && !r->probes[i].done && r->probes[i].deadline < when)
			when = r->probes[i].deadline;
	if (when == NEVER) {
		uv_timer_stop(&r->timer);
		return;
	}
	uint64_t now = uv_now(r->loop);
	uv_timer_start(&r->timer, on_timer, when > now ? when - now : 0, 0);
}

static void schedule(td_reach *r, unsigned secs)
{
	uint64_t at = uv_now(r->loop) + secs * 1000u;
	if (at < r->next_ask)
		r->next_ask = at;
	rearm(r);
}

/* ---- answering: dial-backs for others --------------------------------------------- */

static probe *by_conn(td_reach *r, const td_conn *c)
{
	for (size_t i = 0; i < TN_DIALBACK_PROBES_MAX; i++)
		if (r->probes[i].id && r->probes[i].conn == c)
			return &r->probes[i];
	return NULL;
}

static void release(probe *p)
{
	tn_link_del(p->link);
	memset(p, 0, sizeof *p);
}

/* Report once, then close the socket (closed() frees the slot). Nothing the
 * link queued after ESTABLISHED (message 3) is written. */
static void finish(td_reach *r, probe *p, uint8_t result)
{
	if (p->done)
		return;
	p->done = true;
	tn_node *node = r->host.node_of(r->host.ud);
	if (node && tn_node_dialback_done(node, p->id, result, uv_hrtime()) == TN_OK)
		r->host.pump(r->host.ud);
	td_log_limited(r->log, &r->rl, TN_LOG_INFO, "dialback_done result=%s",
	               tn_dialback_result_name(result));
	if (p->conn)
		td_conn_close(p->conn, "dialback");
	else
		release(p);
}

static void flush(probe *p, uint8_t *buf, size_t cap)
{
	tn_ssize n;
	while (p->conn && (n = tn_link_out(p->link, buf, cap, uv_hrtime())) > 0)
		if (!td_conn_write(p->conn, buf, (size_t)n))
			break;
}

void td_reach_on_dialback(td_reach *r, const tn_node_event *ev, bool asker_local)
{
	probe *p = NULL;
	for (size_t i = 0; i < TN_DIALBACK_PROBES_MAX && !p; i++)
		if (!r->probes[i].id)
			p = &r->probes[i];
	tn_node *node = r->host.node_of(r->host.ud);
	if (!p) { /* the node caps probes at the same number: cannot happen */
		if (node && tn_node_dialback_done(node, ev->probe_id, TN_DIALBACK_NO_CONNECT,
		                                  uv_hrtime()) == TN_OK)
			r->host.pump(r->host.ud);
		return;
	}
	memset(p, 0, sizeof *p);
	p->id = ev->probe_id;
	p->deadline = uv_now(r->loop) + TD_REACH_PROBE_S * 1000u;
	char canon[TD_ADDRSTR_MAX];
	struct sockaddr_storage ss;
	if (td_parse_endpoint(ev->endpoint.p, ev->endpoint.len, &ss, canon, sizeof canon) !=
	    TN_OK) {
		td_log_limited(r->log, &r->rl, TN_LOG_DEBUG,
		               "dialback_skipped for=%s reason=endpoint",
		               tn_shortfp_pubkey(&ev->member).s);
		finish(r, p, TN_DIALBACK_NO_ENDPOINT);
		return;
	}
	/* Her own signed record may name our loopback, a link-local service or
	 * one of our own addresses: checking it would tell her whether that
	 * port is open. Answered as a record we cannot dial (no_endpoint),
	 * whatever the port. A mesh on one machine (we listen on loopback and
	 * she is linked over it) is all our own addresses. */
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	td_scope sc = td_addr_scope(sa);
	bool local = r->listen_loopback && asker_local;
	const char *refused = NULL;
	if (!td_scope_dialable(sc, local))
		refused = td_scope_name(sc);
	else if (!local && td_addr_is_own(sa))
		refused = "own";
	if (refused) {
		r->scope_refused++;
		td_log_limited(r->log, &r->rl, TN_LOG_INFO,
		               "dialback_skipped for=%s reason=scope scope=%s",
		               tn_shortfp_pubkey(&ev->member).s, refused);
		finish(r, p, TN_DIALBACK_NO_ENDPOINT);
		return;
	}
	/* The address is the one of her own roster record (the node chose it). */
	td_log_limited(r->log, &r->rl, TN_LOG_DEBUG, "dialback_dial for=%s addr=%s",
	               tn_shortfp_pubkey(&ev->member).s, canon);
	p->conn = td_conns_dial(&r->conns, (const struct sockaddr *)&ss, &ev->member);
	if (!p->conn) {
		finish(r, p, TN_DIALBACK_NO_CONNECT);
		return;
	}
	rearm(r);
}

static void on_connected(void *ud, td_conn *c, int status)
{
	td_reach *r = ud;
	probe *p = by_conn(r, c);
	if (status != 0 || !p || p->done)
		return; /* closed() follows */
	p->connected = true;
	tn_node *node = r->host.node_of(r->host.ud);
	if (!node ||
	    tn_node_dialback_link(node, p->id, uv_hrtime(), td_wall_ms(), &p->link) != TN_OK) {
		finish(r, p, TN_DIALBACK_HANDSHAKE);
		return;
	}
	td_conn_read(c);
	flush(p, r->out, sizeof r->out);
}

static void on_data(void *ud, td_conn *c, const uint8_t *bytes, size_t len)
{
	td_reach *r = ud;
	probe *p = by_conn(r, c);
	if (!p || p->done || !p->link)
		return;
	/* finish() closes the socket, and closed() frees p at once: return. */
	while (len) {
		tn_ssize k = tn_link_recv(p->link, bytes, len, uv_hrtime(), td_wall_ms());
		tn_link_event ev;
		while (tn_link_poll_event(p->link, &ev)) {
			if (ev.type == TN_LINK_EV_ESTABLISHED) {
				finish(r, p, TN_DIALBACK_OK);
				return;
			}
			if (ev.type == TN_LINK_EV_CLOSE) {
				finish(r, p, TN_DIALBACK_HANDSHAKE);
				return;
			}
		}
		if (k <= 0)
			break;
		bytes += k;
		len -= (size_t)k;
	}
	flush(p, r->out, sizeof r->out);
}

static void on_drained(void *ud, td_conn *c)
{
	(void)ud;
	(void)c;
}

static void on_closed(void *ud, td_conn *c, const char *reason)
{
	td_reach *r = ud;
	(void)reason;
	probe *p = by_conn(r, c);
	if (!p)
		return;
	p->conn = NULL;
	if (!p->done && !r->stopping)
		finish(r, p, p->connected ? TN_DIALBACK_HANDSHAKE : TN_DIALBACK_NO_CONNECT);
	release(p);
	rearm(r);
}

/* ---- asking ------------------------------------------------------------------------ */

static void ask(td_reach *r)
{
	r->next_ask = NEVER;
	tn_node *node = r->host.node_of(r->host.ud);
	if (!node || r->asking)
		return;
	tn_pubkey who;
	tn_err rc = tn_node_dialback_ask(node, NULL, uv_hrtime(), td_wall_ms(), &who);
	if (rc != TN_OK) {
		/* No link up: the next link up asks. */
		td_debug(r->log, "reach_check_deferred reason=%s", tn_strerror(rc));
		return;
	}
	r->asking = true;
	r->asked_at = uv_now(r->loop);
	td_info(r->log, "reach_check asked=%s", tn_shortfp_pubkey(&who).s);
	r->host.pump(r->host.ud);
}

void td_reach_on_answer(td_reach *r, const tn_node_event *ev)
{
	if (!r->asking) { /* about an address we no longer advertise, or too late */
		td_debug(r->log, "reach_answer_ignored result=%s",
		         tn_dialback_result_name(ev->dialback));
		return;
	}
	r->asking = false;
	unsigned next = TD_REACH_RECHECK_S;
	switch (ev->dialback) {
	case TN_DIALBACK_OK: r->st.reachable = TD_REACH_YES; break;
	case TN_DIALBACK_NO_CONNECT:
	case TN_DIALBACK_HANDSHAKE: r->st.reachable = TD_REACH_NO; break;
	case TN_DIALBACK_NO_ENDPOINT:
		/* Her copy of our record may lag: soon, once more later, then the
		 * slow re-check (a record no member will dial, e.g. loopback
		 * seen from another machine, addrscope.h). */
		r->noep_run++;
		next = r->noep_run == 1   ? TD_REACH_NOEP_S
		       : r->noep_run == 2 ? TD_REACH_RETRY_S
		                          : TD_REACH_RECHECK_S;
		break;
	default: next = TD_REACH_RETRY_S; break;
	}
	if (ev->dialback != TN_DIALBACK_NO_ENDPOINT && ev->dialback != TN_DIALBACK_LIMITED)
		r->noep_run = 0;
	r->st.checked = true;
	r->st.checker = ev->member;
	r->st.checked_ms = td_wall_ms();
	r->st.result = ev->dialback;
	td_info(r->log, "reachability reachable=%s result=%s checker=%s",
	        td_reachable_name(r->st.reachable), tn_dialback_result_name(ev->dialback),
	        tn_shortfp_pubkey(&ev->member).s);
	r->next_ask = NEVER;
	schedule(r, next);
}

void td_reach_on_link_up(td_reach *r)
{
	if (!r->asking && r->next_ask == NEVER)
		schedule(r, TD_REACH_FIRST_S);
}

void td_reach_advertise_changed(td_reach *r)
{
	r->st.reachable = TD_REACH_UNKNOWN;
	r->next_ask = NEVER;
	r->asking = false; /* an answer about the old address is a stray now */
	r->noep_run = 0;
	schedule(r, TD_REACH_ADVERTISE_S);
}

void td_reach_network_changed(td_reach *r)
{
	td_reach_advertise_changed(r);
}

static void on_timer(uv_timer_t *t)
{
	td_reach *r = t->data;
	uint64_t now = uv_now(r->loop);
	for (size_t i = 0; i < TN_DIALBACK_PROBES_MAX; i++) {
		probe *p = &r->probes[i];
		if (p->id && !p->done && p->deadline <= now)
			finish(r, p, p->connected ? TN_DIALBACK_HANDSHAKE : TN_DIALBACK_NO_CONNECT);
	}
	if (r->asking && r->asked_at + TD_REACH_ANSWER_S * 1000u <= now) {
		r->asking = false;
		td_info(r->log, "reach_check_unanswered retry_s=%u", (unsigned)TD_REACH_RETRY_S);
		schedule(r, TD_REACH_RETRY_S);
	}
	if (r->next_ask <= now)
		ask(r);
	rearm(r);
}

/* ---- lifetime ---------------------------------------------------------------------- */

td_reach *td_reach_new(uv_loop_t *loop, td_log *log, const td_reach_host *host)
{
	td_reach *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->loop = loop;
	r->log = log;
	r->host = *host;
	r->next_ask = NEVER;
	td_ratelimit_init(&r->rl, 10, 10 * TN_SEC);
	td_conn_ops ops = {on_connected, on_data, on_drained, on_closed};
	td_conns_init(&r->conns, loop, log, 0, &ops, r);
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	return r;
}

void td_reach_set_listen_loopback(td_reach *r, bool on)
{
	r->listen_loopback = on;
}

uint64_t td_reach_scope_refused(const td_reach *r)
{
	return r->scope_refused;
}

void td_reach_get(const td_reach *r, td_reach_status *out)
{
	*out = r->st;
}

void td_reach_stop(td_reach *r)
{
	if (!r)
		return;
	r->stopping = true;
	td_conns_close_all(&r->conns);
	if (!uv_is_closing((uv_handle_t *)&r->timer))
		uv_close((uv_handle_t *)&r->timer, NULL);
}

void td_reach_del(td_reach *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < TN_DIALBACK_PROBES_MAX; i++)
		if (r->probes[i].id)
			release(&r->probes[i]);
	free(r);
}
