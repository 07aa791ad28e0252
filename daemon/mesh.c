/* tocsind: the protocol node over TCP (see mesh.h). */
#define _POSIX_C_SOURCE 200809L
#include "mesh.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "addrscope.h"
#include "conn.h"
#include "daemon_limits.h"
#include "hook.h"
#include "invite_book.h"
#include "roster_view.h"
#include "notify.h"
#include "reach.h"
#include "tocsin/alert.h"
#include "tocsin/node.h"
#include "tocsin/roster.h"

enum {
	OUT_BUF = TN_FRAME_MAX + 1024, /* one tn_node_link_out call */
	LIST_MAX = 500,                /* rows one alerts reply considers */
	JUMP_MS = 5000,                /* wall vs monotonic drift that is a clock jump */
	ID_HEX = TN_ALERT_ID * 2 + 1,
	AUDIT_CONFLICTS_MAX = 64, /* ~230 bytes each in the audit reply */
	CREATED_CACHE = 64,
};

/* The previous epoch's keys still open alerts this long after a rekey
 * (DESIGN §5 grace window; the node's default). */
#define EPOCH_GRACE_MS (30ull * 24 * 3600 * 1000)

struct td_mesh {
	uv_loop_t *loop;
	td_log *log;
	td_store *store;
	const td_config *cfg;
	const tn_identity *id;
	td_control *ctl;
	td_desktop *desk; /* desktop notifications (notify.h) */
	td_conns conns;
	uv_timer_t timer;
	tn_roster *ro; /* the node's (tn_node_roster_get), NULL without a network */
	tn_node *node;
	tn_seckey list_key; /* group key handed to tn_alert_open while listing */
	td_invbook *book; /* the invite book at rest (invite_book.h) */
	tn_time last_mono;
	uint64_t last_wall;
	bool pumping, again, stopping;
	/* The last own alert create: its STORE_ALERT outcome. */
	uint8_t want_id[TN_ALERT_ID];
	bool want_active, want_ok;
	uint8_t last_panic[TN_ALERT_ID];
	bool has_last_panic;
	char listen[TD_ADDRSTR_MAX];
	bool listen_loopback; /* the listener is on loopback: loopback endpoints dialable */
	bool remote_linked;   /* a link came up from another machine: they are not, any more */
	uint64_t dial_scope;  /* dials refused for the endpoint's scope (addrscope.h) */
	/* created_ms of recently stored or replayed alerts, for the NOTIFY
	 * that follows (the event does not carry it). */
	struct {
		uint8_t id[TN_ALERT_ID];
		uint64_t created_ms;
	} created[CREATED_CACHE];
	size_t created_next;
	td_ratelimit rl;
	uint64_t tx_bytes, rx_bytes, tx_frames, rx_frames; /* member links, for status */
	td_ratelimit conflict_rl; /* alert_conflict lines: their own budget */
	char *reply_str; /* the str a list reply carries, until the next op */
	char *code_str;  /* an invite code a reply carries (a secret: wiped at the next op) */
	td_seen *seen;   /* last seen per member (tocsin members) */
	uint64_t ep_checked_ms; /* last endpoint_refresh */
	char ep_last[TN_ENDPOINT_STR_MAX]; /* the last endpoint published, and when */
	uint64_t ep_last_ms;
	td_reach *reach; /* reachability checks (reach.h) */
	char mapped[TD_ADDRSTR_MAX]; /* router port mapping's external address, "" none */
	uint8_t out[OUT_BUF];
};

/* ---- clocks --------------------------------------------------------------- */

static uint64_t wall_ms(void)
{
	return td_wall_ms();
}

static void rand_bytes(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	randombytes_buf(buf, len);
}

static const tn_rand mesh_rand = {rand_bytes, NULL};

static void hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
	sodium_bin2hex(out, cap, p, n);
}

/* ---- names ------------------------------------------------------------------ */

static const char *kind_name(unsigned k)
{
	static const char *const n[] = {"panic", "safe", "responding", "notice", "drill", "test"};
	return k < sizeof n / sizeof n[0] ? n[k] : "unknown";
}

static const char *const violation_names[] = {"threat",  "surveillance", "detention",
                                              "kidnapping", "assault", "raid",
                                              "digital_attack", "other"};

static const char *violation_name(unsigned v)
{
	return v < 8 ? violation_names[v] : "unknown";
}

static const char *severity_name(unsigned s)
{
	static const char *const n[] = {"low", "medium", "high", "critical"};
	return s < 4 ? n[s] : "unknown";
}

/* The display name of an identity from the roster ("" when unknown). */
static void member_name(td_mesh *m, const tn_pubkey *pk, char *out, size_t cap)
{
	tn_roster_member rm;
	out[0] = '\0';
	if (m->ro && tn_roster_member_by_pk(m->ro, pk, &rm) == TN_OK) {
		size_t n = rm.name.len < cap - 1 ? rm.name.len : cap - 1;
		memcpy(out, rm.name.p, n);
		out[n] = '\0';
		td_ctl_utf8_clean(out, cap, out);
	}
}

static void created_put(td_mesh *m, const uint8_t id[TN_ALERT_ID], uint64_t created_ms)
{
	size_t i = m->created_next++ % CREATED_CACHE;
	memcpy(m->created[i].id, id, TN_ALERT_ID);
	m->created[i].created_ms = created_ms;
}

static bool created_get(const td_mesh *m, const uint8_t id[TN_ALERT_ID], uint64_t *created_ms)
{
	for (size_t i = 0; i < CREATED_CACHE; i++)
		if (m->created[i].created_ms && memcmp(m->created[i].id, id, TN_ALERT_ID) == 0) {
			*created_ms = m->created[i].created_ms;
			return true;
		}
	return false;
}

/* ---- the pump ---------------------------------------------------------------- */

static void pump(td_mesh *m);
static void code_free(td_mesh *m);
static void invites_save(td_mesh *m);

static td_conn *conn_by_link(td_mesh *m, uint64_t link_id)
{
	for (td_conn *c = m->conns.head; c; c = c->next)
		if (c->link_id == link_id)
			return c;
	return NULL;
}

static void on_timer(uv_timer_t *t)
{
	td_mesh *m = t->data;
	if (m->node) {
		tn_node_tick(m->node, uv_hrtime(), wall_ms());
	}
	pump(m);
}

/* A wakeup: compare how far each clock moved since the last one. */
static void check_jump(td_mesh *m)
{
	tn_time now = uv_hrtime();
	uint64_t w = wall_ms();
	if (m->last_mono && m->node) {
		int64_t dm = (int64_t)((now - m->last_mono) / TN_MSEC);
		int64_t dw = (int64_t)(w - m->last_wall);
		int64_t drift = dw - dm;
		if (drift > JUMP_MS || drift < -JUMP_MS) {
			td_info(m->log, "clock_jump drift_ms=%" PRId64 " action=wake", drift);
			tn_node_wake(m->node, now, w);
		}
	}
	m->last_mono = now;
	m->last_wall = w;
}

static void dial(td_mesh *m, const tn_node_event *ev)
{
	struct sockaddr_storage ss;
	char canon[TD_ADDRSTR_MAX];
	if (td_parse_endpoint(ev->endpoint.p, ev->endpoint.len, &ss, canon, sizeof canon) != TN_OK) {
		td_log_limited(m->log, &m->rl, TN_LOG_DEBUG, "dial_skipped peer=%s reason=endpoint",
		               tn_shortfp_pubkey(&ev->member).s);
		tn_node_dial_failed(m->node, &ev->member, uv_hrtime());
		return;
	}
	td_scope sc = td_addr_scope((const struct sockaddr *)&ss);
	if (!td_scope_dialable(sc, m->listen_loopback && !m->remote_linked)) {
		/* Her signed record names our loopback or a link-local service:
		 * never dialed (addrscope.h). As a failed dial: the node backs off. */
		m->dial_scope++;
		td_log_limited(m->log, &m->rl, TN_LOG_INFO, "dial_skipped peer=%s reason=scope scope=%s",
		               tn_shortfp_pubkey(&ev->member).s, td_scope_name(sc));
		tn_node_dial_failed(m->node, &ev->member, uv_hrtime());
		return;
	}
	td_log_limited(m->log, &m->rl, TN_LOG_DEBUG, "dial peer=%s addr=%s",
	               tn_shortfp_pubkey(&ev->member).s, canon);
	if (!td_conns_dial(&m->conns, (const struct sockaddr *)&ss, &ev->member))
		tn_node_dial_failed(m->node, &ev->member, uv_hrtime());
}

static void close_link(td_mesh *m, const tn_node_event *ev)
{
	td_conn *c = conn_by_link(m, ev->link_id);
	if (!c) {
		tn_node_link_closed(m->node, ev->link_id, uv_hrtime());
		return;
	}
	tn_time now = uv_hrtime();
	if (ev->close_at <= now) {
		td_conn_close(c, "node");
	} else {
		c->silenced = true; /* nothing more is written on it */
		td_conn_close_after(c, (ev->close_at - now + TN_MSEC - 1) / TN_MSEC);
	}
}

static void store_alert(td_mesh *m, const tn_node_event *ev)
{
	tn_alert_env env;
	td_alert_row row;
	memset(&row, 0, sizeof row);
	bool ok = tn_alert_env_decode(&env, ev->envelope.p, ev->envelope.len) == TN_OK;
	tn_err rc = TN_ERR_INVAL;
	td_insert_result res = TD_INSERTED;
	if (ok) {
		memcpy(row.id, ev->alert_id, TN_ALERT_ID);
		memcpy(row.author, ev->member.b, TD_AUTHOR_LEN);
		row.seq = ev->seq;
		row.kind = ev->kind;
		row.created_ms = (int64_t)env.created_ms;
		row.expires_ms = (int64_t)env.expires_ms;
		row.received_ms = (int64_t)wall_ms();
		row.envelope = ev->envelope.p;
		row.envelope_len = ev->envelope.len;
		rc = td_store_alert_insert(m->store, &row, &res);
		created_put(m, ev->alert_id, env.created_ms);
	}
	ok = rc == TN_OK && res != TD_CONFLICT;
	char idh[ID_HEX];
	hex(ev->alert_id, TN_ALERT_ID, idh, sizeof idh);
	/* A write that failed (full, busy, io) is not lost: the node forgets
	 * the alert and pulls it again at the next digest exchange. */
	td_log_limited(m->log, &m->rl, ok ? TN_LOG_DEBUG : TN_LOG_WARN,
	               "alert_stored id=%.16s kind=%s own=%s result=%s%s", idh, kind_name(ev->kind),
	               ev->own ? "yes" : "no",
	               rc != TN_OK ? tn_strerror(rc)
	                           : (res == TD_INSERTED ? "new"
	                                                 : res == TD_DUPLICATE ? "duplicate" : "conflict"),
	               rc != TN_OK ? " retry=next_digest_exchange" : "");
	if (m->want_active && memcmp(m->want_id, ev->alert_id, TN_ALERT_ID) == 0) {
		m->want_ok = ok;
		m->want_active = false;
	}
	if (tn_node_stored(m->node, ev->alert_id, ok, uv_hrtime(), wall_ms()) != TN_OK)
		td_log_limited(m->log, &m->rl, TN_LOG_DEBUG, "stored_unknown id=%.16s", idh);
}

static void env_add(char **envp, size_t *n, char *buf, size_t cap, const char *k,
                    const uint8_t *v, size_t vlen)
{
	int w = snprintf(buf, cap, "%s=", k);
	if (w < 0 || (size_t)w + vlen + 1 > cap)
		return;
	memcpy(buf + w, v, vlen);
	buf[(size_t)w + vlen] = '\0';
	envp[(*n)++] = buf;
}

/* [notify] on_alert: run without a shell, the alert in its environment. */
static void run_on_alert(td_mesh *m, const tn_node_event *ev, const char *idh, const char *author,
                         const char *name)
{
	if (!m->cfg->on_alert[0])
		return;
	enum { NENV = 12, VAL = TN_ALERT_TEXT_MAX + 64 };
	static char bufs[NENV][VAL];
	char *envp[NENV + 1];
	size_t n = 0;
	char num[32];
	const char *k = kind_name(ev->kind);
	env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_ID", (const uint8_t *)idh, strlen(idh));
	env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_KIND", (const uint8_t *)k, strlen(k));
	env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_AUTHOR", (const uint8_t *)author,
	        strlen(author));
	env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_AUTHOR_NAME", (const uint8_t *)name,
	        strlen(name));
	snprintf(num, sizeof num, "%" PRIu64, ev->seq);
	env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_SEQ", (const uint8_t *)num, strlen(num));
	env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_OPENED", (const uint8_t *)(ev->opened ? "1" : "0"), 1);
	if (ev->opened) {
		const char *s = severity_name(ev->pt.severity), *v = violation_name(ev->pt.violation);
		env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_SEVERITY", (const uint8_t *)s, strlen(s));
		env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_VIOLATION", (const uint8_t *)v, strlen(v));
		if (ev->pt.has_text)
			env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_TEXT", ev->pt.text.p, ev->pt.text.len);
		if (ev->pt.has_location)
			env_add(envp, &n, bufs[n], VAL, "TOCSIN_ALERT_LOCATION", ev->pt.location.p,
			        ev->pt.location.len);
	}
	envp[n] = NULL;
	int rc = td_hook_spawn(m->loop, m->cfg->on_alert, envp);
	for (size_t i = 0; i < n; i++)
		sodium_memzero(bufs[i], VAL);
	if (rc != 0)
		td_warn(m->log, "on_alert_failed cmd=%s error=%s", m->cfg->on_alert, uv_err_name(rc));
}

static void notify(td_mesh *m, const tn_node_event *ev)
{
	char idh[ID_HEX], name[TN_NAME_MAX + 1];
	hex(ev->alert_id, TN_ALERT_ID, idh, sizeof idh);
	const char *author = tn_shortfp_pubkey(&ev->member).s;
	member_name(m, &ev->member, name, sizeof name);
	bool own = tn_pubkey_eq(&ev->member, tn_identity_pubkey(m->id));
	td_info(m->log, "alert id=%.16s kind=%s author=%s own=%s opened=%s%s%s", idh,
	        kind_name(ev->kind), author, own ? "yes" : "no", ev->opened ? "yes" : "no",
	        ev->opened ? "" : " reason=", ev->opened ? "" : tn_alert_reason_name(ev->reason));
	if (ev->opened && ev->pt.has_text)
		td_debug(m->log, "alert_text id=%.16s text=\"%.*s\"", idh, (int)ev->pt.text.len,
		         (const char *)ev->pt.text.p);
	if (m->ctl) {
		td_ctl_msg e;
		td_ctl_msg_init(&e);
		td_ctl_add_str(&e, "event", "alert");
		td_ctl_add_str(&e, "alert", idh);
		td_ctl_add_str(&e, "kind", kind_name(ev->kind));
		td_ctl_add_str(&e, "author", author);
		td_ctl_add_str(&e, "author_name", name);
		td_ctl_add_bool(&e, "own", own);
		td_ctl_add_uint(&e, "seq_no", ev->seq);
		td_ctl_add_bool(&e, "opened", ev->opened);
		if (ev->opened) {
			td_ctl_add_str(&e, "severity", severity_name(ev->pt.severity));
			td_ctl_add_str(&e, "violation", violation_name(ev->pt.violation));
			if (ev->pt.has_text)
				td_ctl_add_strn(&e, "text", ev->pt.text.p, ev->pt.text.len);
			if (ev->pt.has_location)
				td_ctl_add_strn(&e, "location", ev->pt.location.p, ev->pt.location.len);
		}
		uint64_t created = 0;
		if (created_get(m, ev->alert_id, &created))
			td_ctl_add_uint(&e, "created_ms", created);
		td_control_emit(m->ctl, &e);
	}
	run_on_alert(m, ev, idh, author, name);
	td_desktop_alert da = {
		.kind = kind_name(ev->kind),
		.author_name = name,
		.author = author,
		.urgent = ev->kind == TN_KIND_PANIC,
		.opened = ev->opened,
	};
	if (ev->opened && ev->pt.has_text) {
		da.text = ev->pt.text.p;
		da.text_len = ev->pt.text.len;
	}
	if (ev->opened && ev->pt.has_location) {
		da.location = ev->pt.location.p;
		da.location_len = ev->pt.location.len;
	}
	td_desktop_alert_show(m->desk, &da);
	tn_err rc = td_store_alert_mark_notified(m->store, ev->alert_id);
	if (rc != TN_OK)
		td_warn(m->log, "mark_notified_failed id=%.16s code=%s", idh, tn_strerror(rc));
}

static void receipt(td_mesh *m, const tn_node_event *ev)
{
	char idh[ID_HEX];
	hex(ev->alert_id, TN_ALERT_ID, idh, sizeof idh);
	tn_err rc = td_store_receipt_insert(m->store, ev->alert_id, ev->member.b);
	if (rc != TN_OK)
		td_warn(m->log, "receipt_store_failed id=%.16s code=%s", idh, tn_strerror(rc));
	tn_node_alert_status st = {0, 0, 0};
	if (tn_node_alert_status_get(m->node, ev->alert_id, &st) != TN_OK)
		st.delivered = st.members = 0;
	td_info(m->log, "receipt id=%.16s from=%s delivered=%zu members=%zu", idh,
	        tn_shortfp_pubkey(&ev->member).s, st.delivered, st.members);
	if (m->ctl) {
		td_ctl_msg e;
		td_ctl_msg_init(&e);
		td_ctl_add_str(&e, "event", "receipt");
		td_ctl_add_str(&e, "alert", idh);
		td_ctl_add_str(&e, "receiver", tn_shortfp_pubkey(&ev->member).s);
		td_ctl_add_uint(&e, "delivered", st.delivered);
		td_ctl_add_uint(&e, "members", st.members);
		td_control_emit(m->ctl, &e);
	}
}

/* The socket's peer is on this machine (a loopback address). */
static bool conn_is_local(td_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	return uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 &&
	       td_addr_scope((const struct sockaddr *)&ss) == TD_SCOPE_LOOPBACK;
}

static void link_event(td_mesh *m, const tn_node_event *ev, bool up)
{
	td_conn *c = conn_by_link(m, ev->link_id);
	if (c)
		c->up = up;
	if (up && c) {
		c->member = ev->member;
		/* A member on another machine: this is no mesh on one machine
		 * (addrscope.h), whatever our listener says. */
		if (!conn_is_local(c))
			m->remote_linked = true;
	}
	td_log_limited(m->log, &m->rl, TN_LOG_INFO, "link_%s link=%" PRIu64 " peer=%s",
	               up ? "up" : "down", ev->link_id, tn_shortfp_pubkey(&ev->member).s);
	if (up)
		td_reach_on_link_up(m->reach);
}

/* A roster record the node accepted (roster gossip, joins): persist it so a
 * restart replays it. The node needs no confirmation: a record lost here
 * comes back by roster anti-entropy. */
static void store_roster(td_mesh *m, const tn_node_event *ev)
{
	uint8_t rid[TN_HASH];
	tn_roster_record_id(ev->record.p, ev->record.len, rid);
	if (td_store_roster_insert(m->store, rid, ev->record.p, ev->record.len,
	                           (int64_t)wall_ms()) != TN_OK)
		td_log_limited(m->log, &m->rl, TN_LOG_WARN, "store_roster_failed");
}

static bool own_endpoint(td_mesh *m, char *ep, size_t cap);

/* Endpoint records (docs/daemon.md "Endpoint records"): valid a year,
 * renewed when less than a month is left, checked every minute and at
 * once when the listener or [network] advertise changes. */
#define EP_LIFETIME_MS (365ull * 24 * 3600 * 1000)
#define EP_RENEW_MS (30ull * 24 * 3600 * 1000)
enum { EP_CHECK_MS = 60 * 1000, EP_SAME_AGAIN_MS = 3600 * 1000 };

/* Our endpoint record (self-signed), so members can dial us. */
static void publish_endpoint(td_mesh *m, const char *ep, const char *why)
{
	uint64_t now = wall_ms();
	tn_view v = {(const uint8_t *)ep, strlen(ep)};
	uint8_t *rec = malloc(TN_ROSTER_RECORD_MAX);
	tn_ssize n = rec ? tn_roster_make_endpoint(m->ro, &v, 1, now + EP_LIFETIME_MS, now, rec,
	                                           TN_ROSTER_RECORD_MAX)
	                 : TN_ERR_NOMEM;
	if (n < 0 || tn_node_roster_submit(m->node, rec, (size_t)n, uv_hrtime(), now, NULL) != TN_OK)
		td_warn(m->log, "endpoint_record_failed addr=%s", ep);
	else {
		td_info(m->log, "endpoint_published addr=%s reason=%s", ep, why);
		td_reach_advertise_changed(m->reach);
	}
	free(rec);
}

/* Publish when the roster holds no endpoint of ours, another address, or
 * one that expires within EP_RENEW_MS. force: check now (and say why
 * nothing can be published). */
static void endpoint_refresh(td_mesh *m, bool force)
{
	uint64_t now = wall_ms();
	if (!m->ro || !m->node || (!force && now - m->ep_checked_ms < EP_CHECK_MS))
		return;
	m->ep_checked_ms = now;
	char ep[TN_ENDPOINT_STR_MAX];
	if (!own_endpoint(m, ep, sizeof ep)) {
		if (force && m->listen[0])
			td_warn(m->log, "endpoint_unpublished reason=wildcard_listen hint=\"set "
			                "[network] advertise\"");
		return;
	}
	tn_view cur[TN_ENDPOINTS_MAX];
	tn_ssize n = tn_roster_endpoints(m->ro, tn_identity_pubkey(m->id), now, cur,
	                                 TN_ENDPOINTS_MAX);
	if (n < 0) /* not an active member (revoked), or out of memory */
		return;
	bool same = n == 1 && cur[0].len == strlen(ep) && memcmp(cur[0].p, ep, cur[0].len) == 0;
	if (same && tn_roster_endpoints(m->ro, tn_identity_pubkey(m->id), now + EP_RENEW_MS, cur,
	                                TN_ENDPOINTS_MAX) > 0)
		return;
	/* A record we made but the roster did not take must not repeat every
	 * minute: the same address again at most hourly. */
	if (strcmp(m->ep_last, ep) == 0 && now - m->ep_last_ms < EP_SAME_AGAIN_MS)
		return;
	snprintf(m->ep_last, sizeof m->ep_last, "%s", ep);
	m->ep_last_ms = now;
	publish_endpoint(m, ep, n == 0 ? "none" : same ? "renew" : "changed");
}

/* JOINED: as the joiner (we had no roster yet) we are in, member is the
 * coordinator who admitted us; as a coordinator, member just joined. Both
 * sides show the safety number of the pair to compare by voice. */
static void joined(td_mesh *m, const tn_node_event *ev)
{
	bool self = m->ro == NULL;
	char safety[TN_SAFETY_STRLEN + 1], fp[TN_FINGERPRINT_STRLEN + 1], nid[TN_NETWORK_ID * 2 + 1];
	char name[TN_NAME_MAX + 1];
	size_t nl = ev->name.len < TN_NAME_MAX ? ev->name.len : TN_NAME_MAX;
	memcpy(name, ev->name.p, nl);
	name[nl] = '\0';
	td_ctl_utf8_clean(name, sizeof name, name);
	if (tn_safety_number_str(tn_identity_pubkey(m->id), &ev->member, safety, sizeof safety) < 0)
		safety[0] = '\0';
	if (tn_fingerprint_str(&ev->member, fp, sizeof fp) < 0)
		fp[0] = '\0';
	if (self) {
		m->ro = tn_node_roster_get(m->node);
		if (!m->ro) {
			td_err(m->log, "joined_without_roster");
			return;
		}
		endpoint_refresh(m, true);
	}
	hex(tn_roster_network_id(m->ro), TN_NETWORK_ID, nid, sizeof nid);
	/* The name the coordinator invited her as (the invite book keeps it). */
	const char *as = self ? NULL : td_invbook_joined(m->book, m->node, &ev->member);
	td_info(m->log, "joined role=%s member=%s network=%.8s members=%zu",
	        self ? "newcomer" : "coordinator", tn_shortfp_pubkey(&ev->member).s, nid,
	        tn_roster_member_count(m->ro));
	if (!m->ctl)
		return;
	td_ctl_msg e;
	td_ctl_msg_init(&e);
	td_ctl_add_str(&e, "event", "joined");
	td_ctl_add_bool(&e, "self", self);
	td_ctl_add_str(&e, "network_id", nid);
	td_ctl_add_str(&e, self ? "coordinator" : "member", tn_shortfp_pubkey(&ev->member).s);
	td_ctl_add_str(&e, "fingerprint", fp);
	td_ctl_add_str(&e, "name", name);
	td_ctl_add_str(&e, "safety_number", safety);
	if (as)
		td_ctl_add_str(&e, "invited_as", as);
	td_ctl_add_uint(&e, "members", tn_roster_member_count(m->ro));
	td_control_emit(m->ctl, &e);
}

static void join_failed(td_mesh *m, const tn_node_event *ev)
{
	bool stale = ev->err == TN_ERR_STALE;
	td_log_limited(m->log, &m->rl, TN_LOG_INFO, "join_failed code=%s action=%s",
	               tn_strerror(ev->err), stale ? "give_up" : "retry");
	if (!m->ctl)
		return;
	td_ctl_msg e;
	td_ctl_msg_init(&e);
	td_ctl_add_str(&e, "event", "join_failed");
	td_ctl_add_str(&e, "error", tn_strerror(ev->err));
	td_ctl_add_bool(&e, "stale", stale);
	td_control_emit(m->ctl, &e);
}

/* Last seen (roster_view.h): a link up or down, or something the member
 * signed arrived. */
static void note_seen(td_mesh *m, const tn_node_event *ev)
{
	uint64_t now = wall_ms();
	tn_alert_env env;
	switch (ev->type) {
	case TN_NODE_EV_LINK_UP:
	case TN_NODE_EV_LINK_DOWN:
		td_seen_touch(m->seen, &ev->member, now, now, ev->type == TN_NODE_EV_LINK_DOWN);
		break;
	case TN_NODE_EV_RECEIPT: td_seen_touch(m->seen, &ev->member, ev->stored_ms, now, false); break;
	case TN_NODE_EV_STORE_ALERT:
		if (!ev->own && tn_alert_env_decode(&env, ev->envelope.p, ev->envelope.len) == TN_OK)
			td_seen_touch(m->seen, &ev->member, env.created_ms, now, false);
		break;
	case TN_NODE_EV_STORE_ROSTER: td_seen_record(m->seen, ev->record.p, ev->record.len, now); break;
	default: break;
	}
}

/* The asker of a dial-back is linked to us over loopback: on this machine. */
static bool asker_is_local(td_mesh *m, const tn_node_event *ev)
{
	for (td_conn *c = m->conns.head; c; c = c->next)
		if (c->up && !c->closing && tn_pubkey_eq(&c->member, &ev->member))
			return conn_is_local(c);
	return false;
}

static void handle(td_mesh *m, const tn_node_event *ev)
{
	char idh[ID_HEX];
	note_seen(m, ev);
	switch (ev->type) {
	case TN_NODE_EV_DIAL: dial(m, ev); break;
	case TN_NODE_EV_CLOSE_LINK: close_link(m, ev); break;
	case TN_NODE_EV_STORE_ALERT: store_alert(m, ev); break;
	case TN_NODE_EV_NOTIFY: notify(m, ev); break;
	case TN_NODE_EV_RECEIPT: receipt(m, ev); break;
	case TN_NODE_EV_RECEIPTED:
		if (td_store_alert_mark_receipted(m->store, ev->alert_id) != TN_OK) {
			hex(ev->alert_id, TN_ALERT_ID, idh, sizeof idh);
			td_log_limited(m->log, &m->rl, TN_LOG_WARN, "mark_receipted_failed id=%.16s",
			               idh);
		}
		break;
	case TN_NODE_EV_CONFLICT:
		hex(ev->alert_id, TN_ALERT_ID, idh, sizeof idh);
		/* A member can sign any number of conflicting versions: rate-limited
		 * (status counters has node.conflict, the total). */
		td_log_limited(m->log, &m->conflict_rl, TN_LOG_WARN,
		               "alert_conflict author=%s seq=%" PRIu64 " held=%.16s",
		               tn_shortfp_pubkey(&ev->member).s, ev->seq, idh);
		/* The pair is the evidence coordinators see in `tocsin audit`. */
		if (td_store_conflict_add(m->store, ev->member.b, ev->seq, ev->other_id,
		                          ev->envelope.p, ev->envelope.len, (int64_t)wall_ms()) < 0)
			td_log_limited(m->log, &m->rl, TN_LOG_WARN, "conflict_not_kept held=%.16s",
			               idh);
		break;
	case TN_NODE_EV_LINK_UP: link_event(m, ev, true); break;
	case TN_NODE_EV_LINK_DOWN: link_event(m, ev, false); break;
	case TN_NODE_EV_STORE_ROSTER: store_roster(m, ev); break;
	case TN_NODE_EV_JOINED: joined(m, ev); break;
	case TN_NODE_EV_JOIN_FAILED: join_failed(m, ev); break;
	case TN_NODE_EV_DIALBACK: td_reach_on_dialback(m->reach, ev, asker_is_local(m, ev)); break;
	case TN_NODE_EV_REACHABILITY: td_reach_on_answer(m->reach, ev); break;
	case TN_NODE_EV_NONE: break;
	}
}

/* Write what the node has for each link, as far as each socket's queue
 * allows (the rest stays queued in the node until the socket drains). */
static bool flush(td_mesh *m)
{
	bool wrote = false;
	tn_time now = uv_hrtime();
	for (td_conn *c = m->conns.head; c; c = c->next) {
		if (!c->link_id || c->closing || c->silenced)
			continue;
		while (TD_CONN_OUT_MAX - c->out_pending >= sizeof m->out) {
			tn_ssize n = tn_node_link_out(m->node, c->link_id, m->out, sizeof m->out, now);
			if (n <= 0)
				break;
			if (!td_conn_write(c, m->out, (size_t)n))
				break;
			m->tx_bytes += (uint64_t)n;
			m->tx_frames += tn_frame_count(&c->txf, m->out, (size_t)n);
			wrote = true;
		}
	}
	return wrote;
}

/* Timer slack, so that deadlines close together cost one wakeup (docs/daemon.md
 * "Idle cost"): a deadline at least SLACK_FAR away fires at the next multiple of
 * 1 s of the monotonic clock, one at least SLACK_NEAR away at the next multiple
 * of 100 ms, a nearer one exactly. The node handles everything due at a tick,
 * so keepalives of links that fall in the same slot go out together, and from
 * then on their timers stay in step. Never early, at most 1 s late: keepalive
 * is >= 2 s and dead-peer detection 2.5 x keepalive.
 * Returns the uv_timer delay: uv timers count from uv_now(), the loop's
 * cached millisecond clock, which lags uv_hrtime(); counting from it makes
 * the timer fire at or after the slot, never before it. */
static uint64_t timer_delay_ms(tn_time when, tn_time now, uint64_t loop_ms)
{
	const tn_time SLACK_FAR = 10 * TN_SEC, SLACK_NEAR = TN_SEC;
	tn_time slot = 0;
	if (when >= now + SLACK_FAR)
		slot = TN_SEC;
	else if (when >= now + SLACK_NEAR)
		slot = 100 * TN_MSEC;
	if (slot)
		when = (when + slot - 1) / slot * slot;
	uint64_t due_ms = (when + TN_MSEC - 1) / TN_MSEC;
	return due_ms > loop_ms ? due_ms - loop_ms : 0;
}

static void rearm(td_mesh *m)
{
	if (m->stopping)
		return;
	tn_time when = m->node ? tn_node_next_deadline(m->node) : TN_TIME_NEVER;
	if (when == TN_TIME_NEVER) {
		uv_timer_stop(&m->timer);
		return;
	}
	uv_timer_start(&m->timer, on_timer, timer_delay_ms(when, uv_hrtime(), uv_now(m->loop)), 0);
}

/* After every node call: events, bytes out, timer. Re-entrant calls (a
 * socket closing inside an event) only ask for another round. */
static void pump(td_mesh *m)
{
	if (m->pumping) {
		m->again = true;
		return;
	}
	if (!m->node)
		return;
	m->pumping = true;
	endpoint_refresh(m, false); /* its events are handled just below */
	do {
		m->again = false;
		tn_node_event ev;
		while (tn_node_poll_event(m->node, &ev)) {
			handle(m, &ev);
			/* A stored alert is on the wire before the notification,
			 * hook and marks that follow it: every hop of the flood
			 * would otherwise wait for them (DESIGN §8 asks only that
			 * it be stored first). */
			if (ev.type == TN_NODE_EV_STORE_ALERT && flush(m))
				m->again = true;
		}
		if (flush(m))
			m->again = true;
	} while (m->again);
	m->pumping = false;
	invites_save(m);
	rearm(m);
}

/* ---- sockets ------------------------------------------------------------------ */

static void on_connected(void *ud, td_conn *c, int status)
{
	td_mesh *m = ud;
	if (status != 0 || !m->node)
		return; /* closed() follows and counts the failure */
	check_jump(m);
	uint64_t link = 0;
	tn_err rc = tn_node_link_open(m->node, TN_NOISE_INITIATOR, &c->member, uv_hrtime(),
	                              wall_ms(), &link);
	if (rc != TN_OK) {
		td_log_limited(m->log, &m->rl, TN_LOG_DEBUG, "link_open_failed dir=out code=%s",
		               tn_strerror(rc));
		td_conn_close(c, "link_open");
		return;
	}
	c->link_id = link;
	td_conn_read(c);
	pump(m);
}

static void on_data(void *ud, td_conn *c, const uint8_t *p, size_t n)
{
	td_mesh *m = ud;
	if (!m->node || !c->link_id)
		return;
	check_jump(m);
	m->rx_bytes += n;
	m->rx_frames += tn_frame_count(&c->rxf, p, n);
	tn_err rc = tn_node_link_recv(m->node, c->link_id, p, n, uv_hrtime(), wall_ms());
	if (rc == TN_ERR_NOMEM || rc == TN_ERR_INTERNAL)
		td_err(m->log, "node_error op=link_recv code=%s", tn_strerror(rc));
	pump(m);
}

static void on_drained(void *ud, td_conn *c)
{
	(void)c;
	pump(ud);
}

static void on_closed(void *ud, td_conn *c, const char *reason)
{
	td_mesh *m = ud;
	(void)reason;
	if (!m->node || m->stopping)
		return;
	if (c->link_id)
		tn_node_link_closed(m->node, c->link_id, uv_hrtime());
	else if (c->outbound)
		tn_node_dial_failed(m->node, &c->member, uv_hrtime());
	pump(m);
}

void td_mesh_accept(td_mesh *m, uv_stream_t *server)
{
	td_conn *c = td_conns_accept(&m->conns, server);
	if (!c)
		return;
	if (!m->node) {
		td_conn_silent(c);
		return;
	}
	check_jump(m);
	uint64_t link = 0;
	tn_err rc = tn_node_link_open(m->node, TN_NOISE_RESPONDER, NULL, uv_hrtime(), wall_ms(),
	                              &link);
	if (rc != TN_OK) {
		td_log_limited(m->log, &m->rl, TN_LOG_DEBUG, "link_open_failed dir=in code=%s",
		               tn_strerror(rc));
		c->silenced = true;
		td_conn_silent(c);
		return;
	}
	c->link_id = link;
	td_conn_read(c);
	pump(m);
}

size_t td_mesh_links(const td_mesh *m)
{
	size_t n = 0;
	for (const td_conn *c = m->conns.head; c; c = c->next)
		n += c->up && !c->closing;
	return n;
}

/* ---- joining: roster, node, replay ---------------------------------------------- */

/* The stored roster records, in stored order: the first is the genesis. */
typedef struct load_ctx {
	tn_err err;
	size_t n, cap;
	uint8_t **rec;
	size_t *len;
} load_ctx;

static void load_record(void *ud, const uint8_t *bytes, size_t len)
{
	load_ctx *l = ud;
	if (l->err != TN_OK)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		uint8_t **r = realloc(l->rec, cap * sizeof *r);
		if (r)
			l->rec = r;
		size_t *n = r ? realloc(l->len, cap * sizeof *n) : NULL;
		if (n)
			l->len = n;
		if (!r || !n) {
			l->err = TN_ERR_NOMEM;
			return;
		}
		l->cap = cap;
	}
	uint8_t *b = malloc(len ? len : 1);
	if (!b) {
		l->err = TN_ERR_NOMEM;
		return;
	}
	memcpy(b, bytes, len);
	l->rec[l->n] = b;
	l->len[l->n++] = len;
}

static void load_free(load_ctx *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->rec[i]);
	free(l->rec);
	free(l->len);
}

typedef struct replay_ctx {
	td_mesh *m;
	size_t loaded, stale, failed;
} replay_ctx;

static void replay_alert(void *ud, const td_alert_row *row)
{
	replay_ctx *r = ud;
	unsigned flags = (row->notified ? TN_NODE_LOAD_NOTIFIED : 0) |
	                 (row->receipted ? TN_NODE_LOAD_RECEIPTED : 0);
	tn_err rc = tn_node_load_alert(r->m->node, row->envelope, row->envelope_len, flags,
	                               uv_hrtime(), wall_ms());
	if (rc == TN_OK) {
		r->loaded++;
		if (!row->notified)
			created_put(r->m, row->id, (uint64_t)row->created_ms);
	} else if (rc == TN_ERR_STALE)
		r->stale++;
	else
		r->failed++;
	if (rc == TN_OK && row->kind == TN_KIND_PANIC &&
	    memcmp(row->author, tn_identity_pubkey(r->m->id)->b, TD_AUTHOR_LEN) == 0) {
		memcpy(r->m->last_panic, row->id, TN_ALERT_ID);
		r->m->has_last_panic = true;
	}
}

static void replay_receipt(void *ud, const uint8_t id[TN_ALERT_ID],
                           const uint8_t rx[TD_AUTHOR_LEN])
{
	replay_ctx *r = ud;
	tn_pubkey pk;
	memcpy(pk.b, rx, sizeof pk.b);
	if (tn_node_load_receipt(r->m->node, id, &pk) != TN_OK)
		r->failed++;
}

/* ---- the invite book: one-time use must survive a restart (invite_book.c) -- */

static void invites_save(td_mesh *m)
{
	td_invbook_save(m->book, m->node, m->id);
}

static tn_err invites_load(td_mesh *m)
{
	return td_invbook_load(m->book, m->node, m->id);
}

static void base_config(td_mesh *m, tn_node_config *nc)
{
	tn_node_config_default(nc);
	nc->identity = m->id;
	nc->rand = mesh_rand;
	nc->log = td_log_proto;
	nc->log_ud = m->log;
	nc->degree = m->cfg->degree;
	nc->max_inbound = m->cfg->max_inbound;
	if (nc->degree + nc->max_inbound >= TN_NODE_LINKS_MAX)
		nc->max_inbound = TN_NODE_LINKS_MAX - 1 - nc->degree;
	nc->keepalive = (tn_time)m->cfg->keepalive_s * TN_SEC;
}

/* Replay the stored alerts and receipts into a node in roster mode, then
 * let it start dialing. */
static tn_err replay_and_go(td_mesh *m, size_t records, size_t refused)
{
	replay_ctx r = {m, 0, 0, 0};
	tn_ssize n = td_store_alert_list(m->store, 0, SIZE_MAX, replay_alert, &r);
	if (n < 0)
		return (tn_err)n;
	n = td_store_receipt_list(m->store, replay_receipt, &r);
	if (n < 0)
		return (tn_err)n;
	const uint8_t *nid = tn_roster_network_id(m->ro);
	td_info(m->log,
	        "network joined id=%02x%02x%02x%02x members=%zu records=%zu refused=%zu "
	        "alerts_loaded=%zu stale=%zu failed=%zu",
	        nid[0], nid[1], nid[2], nid[3], tn_roster_member_count(m->ro), records, refused,
	        r.loaded, r.stale, r.failed);
	check_jump(m);
	tn_node_tick(m->node, uv_hrtime(), wall_ms());
	pump(m);
	return TN_OK;
}

/* The node in roster mode, founded by genesis (DESIGN §5): it owns the
 * roster, gossips its records and asks us to persist them (STORE_ROSTER). */
static tn_err start_node(td_mesh *m, const uint8_t *genesis, size_t glen)
{
	tn_node_config nc;
	base_config(m, &nc);
	nc.genesis = genesis;
	nc.genesis_len = glen;
	tn_err rc = tn_node_new(&m->node, &nc);
	if (rc != TN_OK)
		return rc;
	m->ro = tn_node_roster_get(m->node);
	if (!m->ro) {
		tn_node_del(m->node);
		m->node = NULL;
		return TN_ERR_INTERNAL;
	}
	return TN_OK;
}

/* At start (or once the identity exists): the network this device is in,
 * from the roster records of earlier runs, replayed in stored order. */
static tn_err join_stored(td_mesh *m)
{
	if (!m->id || m->node)
		return TN_OK;
	load_ctx l;
	memset(&l, 0, sizeof l);
	tn_ssize n = td_store_roster_list(m->store, load_record, &l);
	tn_err rc = n < 0 ? (tn_err)n : l.err;
	size_t refused = 0;
	if (rc != TN_OK) {
		td_err(m->log, "roster_load_failed code=%s", tn_strerror(rc));
		goto out;
	}
	if (l.n == 0) {
		td_info(m->log, "network status=none hint=\"tocsin network create NAME\"");
		goto out;
	}
	if ((rc = start_node(m, l.rec[0], l.len[0])) != TN_OK) {
		td_err(m->log, "node_start_failed code=%s", tn_strerror(rc));
		goto out;
	}
	for (size_t i = 1; i < l.n && rc == TN_OK; i++) {
		tn_err e = tn_node_roster_load(m->node, l.rec[i], l.len[i], wall_ms());
		if (e == TN_ERR_NOMEM)
			rc = e;
		else if (e == TN_ERR_PROTO) {
			refused++;
			td_warn(m->log, "roster_record_refused index=%zu", i);
		}
	}
	if (rc == TN_OK)
		rc = invites_load(m);
	if (rc == TN_OK)
		rc = replay_and_go(m, l.n, refused);
	if (rc != TN_OK)
		td_err(m->log, "node_start_failed code=%s", tn_strerror(rc));
out:
	load_free(&l);
	return rc;
}

static tn_node *reach_node(void *ud)
{
	return ((td_mesh *)ud)->node;
}

static void reach_pump(void *ud)
{
	pump(ud);
}

tn_err td_mesh_new(td_mesh **out, uv_loop_t *loop, td_log *log, td_store *store,
                   const td_config *cfg, const tn_identity *identity)
{
	td_mesh *m = calloc(1, sizeof *m);
	if (!m)
		return TN_ERR_NOMEM;
	m->loop = loop;
	m->log = log;
	m->store = store;
	m->cfg = cfg;
	m->id = identity;
	if (td_invbook_new(&m->book, store, log) != TN_OK) {
		free(m);
		return TN_ERR_NOMEM;
	}
	td_ratelimit_init(&m->rl, 20, 10 * TN_SEC);
	if (td_seen_new(&m->seen, store, log) != TN_OK) {
		td_invbook_del(m->book);
		free(m);
		return TN_ERR_NOMEM;
	}
	td_ratelimit_init(&m->conflict_rl, 10, 10 * TN_SEC);
	tn_err drc = td_desktop_new(&m->desk, loop, log, cfg);
	if (drc != TN_OK) {
		td_seen_del(m->seen);
		td_invbook_del(m->book);
		free(m);
		return drc;
	}
	td_reach_host rh = {m, reach_node, reach_pump};
	if (!(m->reach = td_reach_new(loop, log, &rh))) { /* fails before any handle of its own */
		td_desktop_del(m->desk);
		td_seen_del(m->seen);
		td_invbook_del(m->book);
		free(m);
		return TN_ERR_NOMEM;
	}
	/* The address we bind (a reload never changes it): before the node's
	 * first dial. */
	m->listen_loopback =
	        td_addr_scope((const struct sockaddr *)&cfg->listen) == TD_SCOPE_LOOPBACK;
	td_reach_set_listen_loopback(m->reach, m->listen_loopback);
	td_conn_ops ops = {on_connected, on_data, on_drained, on_closed};
	td_conns_init(&m->conns, loop, log, TD_PENDING_CONN_MAX, &ops, m);
	uv_timer_init(loop, &m->timer);
	m->timer.data = m;
	*out = m;
	return join_stored(m);
}

tn_err td_mesh_set_identity(td_mesh *m, const tn_identity *identity)
{
	m->id = identity;
	return join_stored(m);
}

void td_mesh_set_control(td_mesh *m, td_control *ctl)
{
	m->ctl = ctl;
}

void td_mesh_set_listen(td_mesh *m, const char *bound)
{
	snprintf(m->listen, sizeof m->listen, "%s", bound);
	td_mesh_config_changed(m);
}

void td_mesh_config_changed(td_mesh *m)
{
	if (!m)
		return;
	endpoint_refresh(m, true);
	pump(m);
}

void td_mesh_stop(td_mesh *m)
{
	if (!m)
		return;
	m->stopping = true;
	uint64_t now = wall_ms();
	for (td_conn *c = m->conns.head; c; c = c->next)
		if (c->up)
			td_seen_touch(m->seen, &c->member, now, now, false);
	td_seen_flush(m->seen);
	td_reach_stop(m->reach);
	td_conns_close_all(&m->conns);
	td_desktop_stop(m->desk);
	if (!uv_is_closing((uv_handle_t *)&m->timer))
		uv_close((uv_handle_t *)&m->timer, NULL);
}

void td_mesh_del(td_mesh *m)
{
	if (!m)
		return;
	td_reach_del(m->reach);
	tn_node_del(m->node);
	td_seen_del(m->seen);
	td_desktop_del(m->desk);
	sodium_memzero(&m->list_key, sizeof m->list_key);
	td_invbook_del(m->book);
	free(m->reply_str);
	code_free(m);
	free(m);
}

/* ---- control ops -------------------------------------------------------------- */

#define FAIL(code, ...)                                                                            \
	do {                                                                                       \
		snprintf(msg, msglen, __VA_ARGS__);                                                \
		return (code);                                                                     \
	} while (0)

static bool arg_str(const td_ctl_req *req, const char *key, tn_view *v)
{
	const char *p;
	size_t n;
	if (td_ctl_get_str(&req->args, key, &p, &n) != TN_OK)
		return false;
	v->p = (const uint8_t *)p;
	v->len = n;
	return true;
}

/* Our own addresses for others to reach us (endpoint records, invites):
 * [network] advertise when set, else the bound listener when it is a
 * concrete address. Returns false when there is none (0.0.0.0 or :: and
 * no advertise). */
static bool own_endpoint(td_mesh *m, char *ep, size_t cap)
{
	const char *a = m->cfg->advertise[0] ? m->cfg->advertise
	                : m->mapped[0]        ? m->mapped
	                                      : m->listen;
	if (!a[0] || (!m->cfg->advertise[0] && !m->mapped[0] &&
	              (strncmp(a, "0.0.0.0:", 8) == 0 || strncmp(a, "[::]:", 5) == 0)))
		return false;
	snprintf(ep, cap, "tcp:%s", a);
	return true;
}

static td_ctl_code op_network_create(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r,
                                     char *msg, size_t msglen)
{
	if (m->node)
		FAIL(TD_CTL_E_IN_NETWORK, tn_node_is_joining(m->node)
		                                  ? "this device is joining a network"
		                                  : "this device is already in a network");
	tn_view name;
	if (!arg_str(req, "name", &name) || name.len == 0 || name.len > TN_NAME_MAX)
		FAIL(TD_CTL_E_INVALID, "a network name of 1..%d bytes is needed", TN_NAME_MAX);
	tn_view founder = {(const uint8_t *)"founder", 7};
	if (!arg_str(req, "me", &founder) || founder.len == 0 || founder.len > TN_NAME_MAX)
		founder = (tn_view){(const uint8_t *)"founder", 7};
	uint8_t *rec = m->out; /* scratch: no link output is pending between ops */
	uint64_t now = wall_ms();
	tn_ssize n = tn_roster_make_genesis(m->id, &mesh_rand, name, founder, now, rec,
	                                    TN_ROSTER_RECORD_MAX);
	if (n < 0)
		FAIL(TD_CTL_E_INTERNAL, "cannot make the genesis record: %s", tn_strerror((int)n));
	uint8_t rid[TN_HASH];
	tn_roster_record_id(rec, (size_t)n, rid);
	/* Stored first: it is the record every restart founds the node on. */
	tn_err err = td_store_roster_insert(m->store, rid, rec, (size_t)n, (int64_t)now);
	if (err != TN_OK)
		FAIL(TD_CTL_E_STORE, "cannot store the genesis record: %s", tn_strerror(err));
	if ((err = start_node(m, rec, (size_t)n)) != TN_OK)
		FAIL(TD_CTL_E_INTERNAL, "network created but the node did not start: %s",
		     tn_strerror(err));
	endpoint_refresh(m, true);
	if ((err = replay_and_go(m, 1, 0)) != TN_OK)
		FAIL(TD_CTL_E_INTERNAL, "network created but the node did not start: %s",
		     tn_strerror(err));
	static char nid[TN_NETWORK_ID * 2 + 1];
	hex(tn_roster_network_id(m->ro), TN_NETWORK_ID, nid, sizeof nid);
	td_info(m->log, "network_created id=%.8s", nid);
	td_ctl_add_str(r, "network_id", nid);
	td_ctl_add_strn(r, "name", name.p, name.len);
	return TD_CTL_OK;
}

static bool parse_enum(const tn_view *v, const char *const *names, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == v->len && memcmp(names[i], v->p, v->len) == 0) {
			*out = (uint8_t)i;
			return true;
		}
	return false;
}

/* The stored alert whose hex id starts with prefix (unique). */
typedef struct find_ctx {
	char prefix[ID_HEX];
	size_t plen;
	size_t hits;
	uint8_t id[TN_ALERT_ID];
} find_ctx;

static void find_alert(void *ud, const td_alert_row *row)
{
	find_ctx *f = ud;
	char h[ID_HEX];
	hex(row->id, TN_ALERT_ID, h, sizeof h);
	if (strncmp(h, f->prefix, f->plen) == 0) {
		f->hits++;
		memcpy(f->id, row->id, TN_ALERT_ID);
	}
}

static td_ctl_code find_prefix(td_mesh *m, const tn_view *v, uint8_t id[TN_ALERT_ID], char *msg,
                               size_t msglen)
{
	find_ctx f;
	memset(&f, 0, sizeof f);
	if (v->len < 4 || v->len >= ID_HEX)
		FAIL(TD_CTL_E_INVALID, "an alert id prefix of 4..64 hex digits is needed");
	for (size_t i = 0; i < v->len; i++) {
		char ch = (char)v->p[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			FAIL(TD_CTL_E_INVALID, "an alert id is hex digits");
		f.prefix[i] = ch;
	}
	f.plen = v->len;
	if (td_store_alert_list(m->store, 0, SIZE_MAX, find_alert, &f) < 0)
		FAIL(TD_CTL_E_STORE, "cannot read the stored alerts");
	if (f.hits == 0)
		FAIL(TD_CTL_E_NOT_FOUND, "no stored alert has an id starting with %s", f.prefix);
	if (f.hits > 1)
		FAIL(TD_CTL_E_INVALID, "%zu alerts have ids starting with %s: give more digits",
		     f.hits, f.prefix);
	memcpy(id, f.id, TN_ALERT_ID);
	return TD_CTL_OK;
}

static td_ctl_code op_alert(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r, char *msg,
                            size_t msglen)
{
	static const char *const kinds[] = {"panic", "safe", "responding", "notice", "drill"};
	tn_view kv, text, viol, loc, refers;
	tn_node_alert_req a;
	memset(&a, 0, sizeof a);
	if (!arg_str(req, "kind", &kv) || !parse_enum(&kv, kinds, 5, &a.kind))
		FAIL(TD_CTL_E_INVALID, "kind must be panic, safe, responding, notice or drill");
	static const uint8_t sev[] = {TN_SEV_CRITICAL, TN_SEV_LOW, TN_SEV_MEDIUM, TN_SEV_MEDIUM,
	                              TN_SEV_LOW};
	static const uint64_t life_h[] = {24, 24, 24, 7 * 24, 1};
	a.pt.severity = sev[a.kind];
	a.pt.violation = TN_VIOL_OTHER;
	a.lifetime_ms = life_h[a.kind] * 3600ull * 1000ull;
	if (arg_str(req, "text", &text)) {
		if (text.len > TN_ALERT_TEXT_MAX)
			FAIL(TD_CTL_E_INVALID, "text is over %d bytes", TN_ALERT_TEXT_MAX);
		a.pt.has_text = text.len > 0;
		a.pt.text = text;
	}
	if (arg_str(req, "violation", &viol) &&
	    !parse_enum(&viol, violation_names, 8, &a.pt.violation))
		FAIL(TD_CTL_E_INVALID,
		     "violation must be one of threat surveillance detention kidnapping assault "
		     "raid digital_attack other");
	if (arg_str(req, "location", &loc)) {
		if (loc.len > TN_ALERT_LOCATION_MAX)
			FAIL(TD_CTL_E_INVALID, "location is over %d bytes", TN_ALERT_LOCATION_MAX);
		a.pt.has_location = loc.len > 0;
		a.pt.location = loc;
	}
	if (!m->ro)
		FAIL(TD_CTL_E_NO_NETWORK, m->node ? "this device is still joining: nobody would "
		                                    "receive it yet"
		                                  : "this device is not in a network yet: nobody "
		                                    "would receive it");
	if (a.kind == TN_KIND_NOTICE) {
		uint8_t role = 0;
		if (tn_roster_role_of(m->ro, tn_identity_pubkey(m->id), &role) != TN_OK ||
		    role != TN_ROLE_COORDINATOR)
			FAIL(TD_CTL_E_NOT_COORDINATOR,
			     "only a coordinator can send a notice; members would drop it");
	}
	if (a.kind == TN_KIND_RESPONDING) {
		if (!arg_str(req, "refers", &refers))
			FAIL(TD_CTL_E_INVALID, "respond needs the id of the alert answered");
		td_ctl_code c = find_prefix(m, &refers, a.refers_to, msg, msglen);
		if (c != TD_CTL_OK)
			return c;
		a.has_refers_to = true;
	}
	if (a.kind == TN_KIND_SAFE) {
		if (!m->has_last_panic)
			FAIL(TD_CTL_E_NOT_FOUND, "no panic of yours is held: nothing to mark safe");
		memcpy(a.refers_to, m->last_panic, TN_ALERT_ID);
		a.has_refers_to = true;
	}
	const uint8_t *author = tn_identity_pubkey(m->id)->b;
	tn_err rc = td_store_seq_reserve(m->store, author, &a.seq);
	if (rc != TN_OK)
		FAIL(TD_CTL_E_STORE, "NOT sent: cannot reserve a sequence number: %s%s", tn_strerror(rc),
		     rc == TN_ERR_FULL   ? " (the disk holding tocsin.db is full: free space, retry)"
		     : rc == TN_ERR_BUSY ? " (another program holds the store's lock: retry)"
		                         : "");
	check_jump(m);
	uint8_t id[TN_ALERT_ID];
	rc = tn_node_alert_create(m->node, &a, uv_hrtime(), wall_ms(), id);
	if (rc != TN_OK) {
		pump(m);
		FAIL(rc == TN_ERR_INVAL ? TD_CTL_E_INVALID : TD_CTL_E_INTERNAL,
		     "the alert could not be made: %s", tn_strerror(rc));
	}
	memcpy(m->want_id, id, TN_ALERT_ID);
	m->want_active = true;
	m->want_ok = false;
	pump(m); /* STORE_ALERT: committed, then handed to the node */
	bool ok = m->want_ok && !m->want_active;
	m->want_active = false;
	if (!ok)
		FAIL(TD_CTL_E_STORE, "the alert could not be stored: NOT sent");
	if (a.kind == TN_KIND_PANIC) {
		memcpy(m->last_panic, id, TN_ALERT_ID);
		m->has_last_panic = true;
	}
	static char idh[ID_HEX];
	hex(id, TN_ALERT_ID, idh, sizeof idh);
	tn_node_alert_status st = {0, 0, 0};
	if (tn_node_alert_status_get(m->node, id, &st) != TN_OK)
		st.members = 0;
	/* Over the per-author budget every member applies: stored, and pushed
	 * when it refills (docs/node.md "Pacing our own alerts"). */
	uint64_t t = uv_hrtime(), held_ms = 0;
	if (st.held_until > t)
		held_ms = (st.held_until - t + TN_MSEC - 1) / TN_MSEC;
	size_t links = td_mesh_links(m);
	td_info(m->log, "alert_sent id=%.16s kind=%s links=%zu members=%zu held_ms=%" PRIu64, idh,
	        kind_name(a.kind), links, st.members, held_ms);
	td_ctl_add_str(r, "alert", idh);
	td_ctl_add_str(r, "kind", kind_name(a.kind));
	td_ctl_add_uint(r, "links", links);
	td_ctl_add_uint(r, "members", st.members);
	td_ctl_add_uint(r, "held_ms", held_ms);
	return TD_CTL_OK;
}

static td_ctl_code op_alert_status(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r, char *msg,
                                   size_t msglen)
{
	tn_view v;
	uint8_t id[TN_ALERT_ID];
	if (!m->ro)
		FAIL(TD_CTL_E_NO_NETWORK, "this device is not in a network");
	if (!arg_str(req, "alert", &v))
		FAIL(TD_CTL_E_INVALID, "alert id needed");
	td_ctl_code c = find_prefix(m, &v, id, msg, msglen);
	if (c != TD_CTL_OK)
		return c;
	tn_node_alert_status st;
	if (tn_node_alert_status_get(m->node, id, &st) != TN_OK)
		FAIL(TD_CTL_E_NOT_FOUND, "not one of your own alerts");
	td_ctl_add_uint(r, "delivered", st.delivered);
	td_ctl_add_uint(r, "members", st.members);
	td_ctl_add_uint(r, "links", td_mesh_links(m));
	return TD_CTL_OK;
}

/* A JSON array as the reply's "items" str; the oldest entries are left
 * out when it would not fit a control str ("more": true). */
static td_ctl_code reply_items(td_mesh *m, json_t *arr, td_ctl_msg *r, char *msg, size_t msglen)
{
	bool more = false;
	char *s = NULL;
	for (;;) {
		s = json_dumps(arr, JSON_COMPACT);
		if (!s || strlen(s) <= TD_CTL_STR_MAX || json_array_size(arr) == 0)
			break;
		free(s);
		s = NULL;
		json_array_remove(arr, 0);
		more = true;
	}
	size_t count = json_array_size(arr);
	json_decref(arr);
	if (!s || strlen(s) > TD_CTL_STR_MAX) {
		free(s);
		FAIL(TD_CTL_E_INTERNAL, "cannot encode the list");
	}
	free(m->reply_str);
	m->reply_str = s;
	td_ctl_add_str(r, "items", s);
	td_ctl_add_uint(r, "count", count);
	td_ctl_add_bool(r, "more", more);
	return TD_CTL_OK;
}

typedef struct list_ctx {
	td_mesh *m;
	json_t *arr;
	tn_alert_ctx actx;
} list_ctx;

/* The group key of an epoch this device holds: the current one, or the
 * previous one while its grace window lasts. */
static const tn_seckey *list_group_key(void *ud, uint32_t epoch)
{
	td_mesh *m = ud;
	tn_roster_epoch *e = malloc(sizeof *e);
	const tn_seckey *k = NULL;
	if (!e || !m->ro)
		goto out;
	if (tn_roster_current_epoch(m->ro, e) == TN_OK && e->epoch == epoch && e->count > 0) {
		memcpy(m->list_key.b, e->keys[0].group_key, sizeof m->list_key.b);
		k = &m->list_key;
	}
	tn_roster_epoch_wipe(e);
	if (!k && tn_roster_previous_epoch(m->ro, wall_ms(), EPOCH_GRACE_MS, e) == TN_OK && e->epoch == epoch &&
	    e->count > 0) {
		memcpy(m->list_key.b, e->keys[0].group_key, sizeof m->list_key.b);
		k = &m->list_key;
	}
	tn_roster_epoch_wipe(e);
out:
	free(e);
	return k;
}

static void list_alert(void *ud, const td_alert_row *row)
{
	list_ctx *l = ud;
	td_mesh *m = l->m;
	char h[ID_HEX], name[TN_NAME_MAX + 1];
	tn_pubkey pk;
	memcpy(pk.b, row->author, sizeof pk.b);
	hex(row->id, TN_ALERT_ID, h, sizeof h);
	member_name(m, &pk, name, sizeof name);
	json_t *o = json_object();
	if (!o)
		return;
	json_object_set_new(o, "id", json_string(h));
	json_object_set_new(o, "kind", json_string(kind_name(row->kind)));
	json_object_set_new(o, "author", json_string(tn_shortfp_pubkey(&pk).s));
	json_object_set_new(o, "author_name", json_string(name));
	json_object_set_new(o, "own", json_boolean(tn_pubkey_eq(&pk, tn_identity_pubkey(m->id))));
	json_object_set_new(o, "seq", json_integer((json_int_t)row->seq));
	json_object_set_new(o, "created_ms", json_integer(row->created_ms));
	json_object_set_new(o, "expires_ms", json_integer(row->expires_ms));
	json_object_set_new(o, "received_ms", json_integer(row->received_ms));
	json_object_set_new(o, "notified", json_boolean(row->notified));
	tn_alert_env env;
	static uint8_t pt[TN_ALERT_PLAINTEXT_MAX];
	tn_alert_opened op;
	bool opened = m->ro &&
	              tn_alert_env_decode(&env, row->envelope, row->envelope_len) == TN_OK &&
	              tn_alert_open(&l->actx, &env, pt, sizeof pt, &op) == TN_OK &&
	              op.reason == TN_ALERT_OPENED;
	json_object_set_new(o, "opened", json_boolean(opened));
	if (opened) {
		json_object_set_new(o, "severity", json_string(severity_name(op.pt.severity)));
		json_object_set_new(o, "violation", json_string(violation_name(op.pt.violation)));
		if (op.pt.has_text)
			json_object_set_new(o, "text", json_stringn((const char *)op.pt.text.p,
			                                            op.pt.text.len));
		if (op.pt.has_location)
			json_object_set_new(o, "location",
			                    json_stringn((const char *)op.pt.location.p,
			                                 op.pt.location.len));
		if (env.has_refers_to) {
			char rh[ID_HEX];
			hex(env.refers_to, TN_ALERT_ID, rh, sizeof rh);
			json_object_set_new(o, "refers_to", json_string(rh));
		}
		sodium_memzero(pt, sizeof pt);
	}
	tn_node_alert_status st;
	if (m->node && tn_node_alert_status_get(m->node, row->id, &st) == TN_OK) {
		json_object_set_new(o, "delivered", json_integer((json_int_t)st.delivered));
		json_object_set_new(o, "members", json_integer((json_int_t)st.members));
	}
	json_array_append_new(l->arr, o);
}

static td_ctl_code op_alerts(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r, char *msg,
                             size_t msglen)
{
	uint64_t since = 0;
	if (td_ctl_get_uint(&req->args, "since", &since) != TN_OK)
		since = 0;
	if (since > INT64_MAX)
		since = INT64_MAX;
	list_ctx l;
	memset(&l, 0, sizeof l);
	l.m = m;
	l.arr = json_array();
	if (!l.arr)
		FAIL(TD_CTL_E_INTERNAL, "out of memory");
	if (m->ro)
		memcpy(l.actx.network_id, tn_roster_network_id(m->ro), TN_NETWORK_ID);
	l.actx.ops.group_key = list_group_key;
	l.actx.ud = m;
	if (td_store_alert_list(m->store, (int64_t)since, LIST_MAX, list_alert, &l) < 0) {
		json_decref(l.arr);
		FAIL(TD_CTL_E_STORE, "cannot read the stored alerts");
	}
	return reply_items(m, l.arr, r, msg, msglen);
}

static bool linked_to(void *ud, const tn_pubkey *pk)
{
	td_mesh *m = ud;
	for (td_conn *c = m->conns.head; c; c = c->next)
		if (c->up && !c->closing && tn_pubkey_eq(&c->member, pk))
			return true;
	return false;
}

static td_ctl_code op_members(td_mesh *m, td_ctl_msg *r, char *msg, size_t msglen)
{
	if (!m->ro)
		FAIL(TD_CTL_E_NO_NETWORK, "this device is not in a network");
	json_t *arr = td_members_json(m->ro, m->id, m->seen, linked_to, m, wall_ms());
	if (!arr)
		FAIL(TD_CTL_E_INTERNAL, "out of memory");
	return reply_items(m, arr, r, msg, msglen);
}

static td_ctl_code op_peers(td_mesh *m, td_ctl_msg *r, char *msg, size_t msglen)
{
	json_t *arr = json_array();
	if (!arr)
		FAIL(TD_CTL_E_INTERNAL, "out of memory");
	for (td_conn *c = m->conns.head; c; c = c->next) {
		if (c->closing)
			continue;
		char name[TN_NAME_MAX + 1] = "";
		json_t *o = json_object();
		json_object_set_new(o, "link", json_integer((json_int_t)c->link_id));
		json_object_set_new(o, "direction", json_string(c->outbound ? "out" : "in"));
		json_object_set_new(o, "state", json_string(c->up ? "up"
		                                            : c->connecting ? "connecting"
		                                            : c->silenced   ? "refused"
		                                                            : "handshake"));
		if (c->up || c->outbound) {
			member_name(m, &c->member, name, sizeof name);
			json_object_set_new(o, "member", json_string(tn_shortfp_pubkey(&c->member).s));
			json_object_set_new(o, "name", json_string(name));
		}
		json_object_set_new(o, "queued_bytes", json_integer((json_int_t)c->out_pending));
		json_array_append_new(arr, o);
	}
	return reply_items(m, arr, r, msg, msglen);
}

/* ---- invite, join, revoke (DESIGN §5, docs/roster.md "Joining") -------------- */

static void code_free(td_mesh *m)
{
	if (m->code_str) {
		sodium_memzero(m->code_str, strlen(m->code_str));
		free(m->code_str);
		m->code_str = NULL;
	}
}

static bool is_coordinator(td_mesh *m)
{
	uint8_t role = 0;
	return m->ro && tn_roster_role_of(m->ro, tn_identity_pubkey(m->id), &role) == TN_OK &&
	       role == TN_ROLE_COORDINATOR;
}

static td_ctl_code need_network(td_mesh *m, char *msg, size_t msglen)
{
	if (m->node && !m->ro)
		FAIL(TD_CTL_E_NO_NETWORK, "this device is still joining (waiting for the coordinator)");
	if (!m->ro)
		FAIL(TD_CTL_E_NO_NETWORK, "this device is not in a network");
	return TD_CTL_OK;
}

enum { INVITE_TTL_MIN_S = 60, INVITE_TTL_MAX_S = 7 * 24 * 3600 };

static td_ctl_code op_invite(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r, char *msg,
                             size_t msglen)
{
	static const char *const roles[] = {"member", "coordinator"};
	td_ctl_code c = need_network(m, msg, msglen);
	if (c != TD_CTL_OK)
		return c;
	if (!is_coordinator(m))
		FAIL(TD_CTL_E_NOT_COORDINATOR,
		     "only a coordinator can invite; ask one of your network's coordinators");
	tn_view name, rv;
	if (!arg_str(req, "name", &name) || name.len == 0 || name.len > TN_NAME_MAX)
		FAIL(TD_CTL_E_INVALID, "the invitee's name (1..%d bytes) is needed", TN_NAME_MAX);
	uint8_t role = TN_ROLE_MEMBER;
	if (arg_str(req, "role", &rv) && !parse_enum(&rv, roles, 2, &role))
		FAIL(TD_CTL_E_INVALID, "role must be member or coordinator");
	uint64_t ttl_s = TN_INVITE_TTL_DEFAULT_MS / 1000;
	if (td_ctl_get_uint(&req->args, "expires_s", &ttl_s) != TN_OK)
		ttl_s = TN_INVITE_TTL_DEFAULT_MS / 1000;
	if (ttl_s < INVITE_TTL_MIN_S || ttl_s > INVITE_TTL_MAX_S)
		FAIL(TD_CTL_E_INVALID, "an invitation lasts 1 minute to 7 days");
	static char ep[TN_ENDPOINT_STR_MAX]; /* the reply points at it */
	if (!own_endpoint(m, ep, sizeof ep))
		FAIL(TD_CTL_E_INVALID,
		     "this daemon listens on %s (every interface), so the code would carry no address "
		     "the newcomer can reach: set [network] advertise = HOST:PORT in tocsind.conf",
		     m->listen[0] ? m->listen : "no address");
	tn_view v = {(const uint8_t *)ep, strlen(ep)};
	tn_invite inv;
	uint64_t now = wall_ms();
	tn_err rc = tn_node_invite_create(m->node, &v, 1, role, ttl_s * 1000, now, &inv);
	if (rc != TN_OK) {
		tn_invite_wipe(&inv);
		if (rc == TN_ERR_LIMIT)
			FAIL(TD_CTL_E_INVALID,
			     "%d invitations are outstanding: wait until some are used or expire",
			     TN_INVITE_BOOK_MAX);
		FAIL(TD_CTL_E_INTERNAL, "the invitation could not be made: %s", tn_strerror(rc));
	}
	td_invbook_named(m->book, &inv, name);
	invites_save(m); /* before the code leaves: one-time use survives a crash */
	code_free(m);
	m->code_str = malloc(TN_INVITE_CODE_MAX);
	tn_ssize n = m->code_str ? tn_invite_to_code(&inv, m->code_str, TN_INVITE_CODE_MAX)
	                         : TN_ERR_NOMEM;
	uint64_t expires = inv.expires_ms;
	tn_invite_wipe(&inv);
	if (n < 0) {
		code_free(m);
		FAIL(TD_CTL_E_INTERNAL, "the invitation could not be rendered: %s",
		     tn_strerror((tn_err)n));
	}
	char nm[TN_NAME_MAX + 1];
	memcpy(nm, name.p, name.len);
	nm[name.len] = '\0';
	td_ctl_utf8_clean(nm, sizeof nm, nm);
	td_info(m->log, "invite_created for=\"%s\" role=%s expires_s=%" PRIu64 " endpoint=%s", nm,
	        roles[role], ttl_s, ep);
	td_ctl_add_str(r, "code", m->code_str);
	td_ctl_add_strn(r, "name", name.p, name.len);
	td_ctl_add_str(r, "role", roles[role]);
	td_ctl_add_str(r, "endpoint", ep);
	td_ctl_add_bool(r, "advertised", m->cfg->advertise[0] != '\0');
	td_ctl_add_uint(r, "expires_ms", expires);
	return TD_CTL_OK;
}

/* Drop a joining node: close its sockets (their close callbacks see no
 * node) and delete it. */
static void stop_joining(td_mesh *m)
{
	tn_node *n = m->node;
	m->node = NULL;
	while (m->conns.head) /* td_conn_close unlinks it */
		td_conn_close(m->conns.head, "join_replaced");
	uv_timer_stop(&m->timer);
	tn_node_del(n);
}

static const char *invite_problem(tn_invite_reason why)
{
	switch (why) {
	case TN_INVITE_R_CHARSET: return "it contains a character that is not in invitation codes";
	case TN_INVITE_R_LENGTH: return "it is too short or too long (a group missing or repeated?)";
	case TN_INVITE_R_PADDING: return "its length is impossible (a letter missing or extra?)";
	case TN_INVITE_R_CHECKSUM: return "its checksum does not match (a letter mistyped?)";
	case TN_INVITE_R_PAYLOAD: return "it is not an invitation this version understands";
	default: return "it is not a valid invitation";
	}
}

static td_ctl_code op_join(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r, char *msg,
                           size_t msglen)
{
	if (m->ro)
		FAIL(TD_CTL_E_IN_NETWORK, "this device is already in a network");
	tn_view code, name;
	if (!arg_str(req, "name", &name) || name.len == 0 || name.len > TN_NAME_MAX)
		FAIL(TD_CTL_E_INVALID, "your name for the network (1..%d bytes) is needed", TN_NAME_MAX);
	if (!arg_str(req, "code", &code) || code.len == 0)
		FAIL(TD_CTL_E_INVALID, "the invitation code is needed");
	tn_invite inv;
	tn_invite_reason why = TN_INVITE_OK;
	if (tn_invite_from_code(&inv, (const char *)code.p, code.len, &why) != TN_OK)
		FAIL(TD_CTL_E_INVALID, "this invitation code is mistyped: %s; check it with the "
		                       "coordinator",
		     invite_problem(why));
	if (tn_invite_check(&inv, wall_ms(), &why) != TN_OK) {
		tn_invite_wipe(&inv);
		FAIL(TD_CTL_E_INVALID, "this invitation has expired: ask for a new one");
	}
	if (m->node) {
		/* A pending attempt (not admitted: nothing stored) gives way to
		 * the new code: its sockets close, its node goes. */
		td_info(m->log, "join_replaced reason=new_code");
		stop_joining(m);
	}
	tn_node_config nc;
	base_config(m, &nc);
	nc.join = &inv;
	nc.join_name = name;
	tn_err rc = tn_node_new(&m->node, &nc);
	static char nid[TN_NETWORK_ID * 2 + 1], ep[TN_ENDPOINT_STR_MAX + 1];
	hex(inv.network_id, TN_NETWORK_ID, nid, sizeof nid);
	snprintf(ep, sizeof ep, "%s", inv.endpoints[0]);
	tn_invite_wipe(&inv);
	if (rc != TN_OK)
		FAIL(TD_CTL_E_INTERNAL, "cannot start joining: %s", tn_strerror(rc));
	td_info(m->log, "joining network=%.8s coordinator=%s", nid, ep);
	check_jump(m);
	tn_node_tick(m->node, uv_hrtime(), wall_ms());
	pump(m);
	td_ctl_add_str(r, "network_id", nid);
	td_ctl_add_str(r, "coordinator_endpoint", ep);
	return TD_CTL_OK;
}

/* Digits of a fingerprint without its spaces. */
static void digits_only(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in && o + 1 < cap; in++)
		if (*in >= '0' && *in <= '9')
			out[o++] = *in;
	out[o] = '\0';
}

/* An active member by exact name, else by a prefix of her fingerprint
 * (digits) or short id (hex). Ambiguity lists the candidates. */
static td_ctl_code find_member(td_mesh *m, const tn_view *q, tn_pubkey *pk, char *msg,
                               size_t msglen)
{
	char want[TN_NAME_MAX + 1], wd[TN_NAME_MAX + 1], list[512];
	if (q->len == 0 || q->len > TN_NAME_MAX)
		FAIL(TD_CTL_E_INVALID, "a member's name or fingerprint prefix is needed");
	memcpy(want, q->p, q->len);
	want[q->len] = '\0';
	digits_only(want, wd, sizeof wd);
	bool all_digits = strspn(want, "0123456789 ") == q->len;
	size_t n = tn_roster_member_count(m->ro), hits = 0;
	list[0] = '\0';
	for (int pass = 0; pass < 2 && hits == 0; pass++) {
		for (size_t i = 0; i < n; i++) {
			tn_roster_member rm;
			if (tn_roster_member_at(m->ro, i, &rm) != TN_OK || !rm.active)
				continue;
			char fp[TN_FINGERPRINT_STRLEN + 1], fd[TN_FINGERPRINT_STRLEN + 1], name[TN_NAME_MAX + 1];
			const char *sid = tn_shortfp_pubkey(&rm.pk).s;
			member_name(m, &rm.pk, name, sizeof name);
			if (tn_fingerprint_str(&rm.pk, fp, sizeof fp) < 0)
				fp[0] = '\0';
			digits_only(fp, fd, sizeof fd);
			bool hit = pass == 0 ? strcmp(name, want) == 0
			                     : (all_digits && strlen(wd) >= 4 &&
			                        strncmp(fd, wd, strlen(wd)) == 0) ||
			                               (q->len >= 4 && strncmp(sid, want, q->len) == 0);
			if (!hit)
				continue;
			hits++;
			*pk = rm.pk;
			size_t l = strlen(list);
			snprintf(list + l, sizeof list - l, "%s%s (%s)", l ? ", " : "", name, sid);
		}
	}
	if (hits == 0)
		FAIL(TD_CTL_E_NOT_FOUND, "no active member is named or has a fingerprint starting "
		                         "with \"%s\" (see tocsin members)", want);
	if (hits > 1)
		FAIL(TD_CTL_E_INVALID, "\"%s\" matches %zu members: %s; give more of the fingerprint",
		     want, hits, list);
	return TD_CTL_OK;
}

static td_ctl_code op_revoke(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r, char *msg,
                             size_t msglen)
{
	td_ctl_code c = need_network(m, msg, msglen);
	if (c != TD_CTL_OK)
		return c;
	if (!is_coordinator(m))
		FAIL(TD_CTL_E_NOT_COORDINATOR, "only a coordinator can revoke a member");
	tn_view q;
	tn_pubkey pk;
	if (!arg_str(req, "member", &q))
		FAIL(TD_CTL_E_INVALID, "a member's name or fingerprint prefix is needed");
	if ((c = find_member(m, &q, &pk, msg, msglen)) != TD_CTL_OK)
		return c;
	if (tn_pubkey_eq(&pk, tn_identity_pubkey(m->id)))
		FAIL(TD_CTL_E_INVALID, "you cannot revoke this device; ask another coordinator");
	static char name[TN_NAME_MAX + 1], fp[TN_FINGERPRINT_STRLEN + 1], sid[32];
	member_name(m, &pk, name, sizeof name);
	if (tn_fingerprint_str(&pk, fp, sizeof fp) < 0)
		fp[0] = '\0';
	snprintf(sid, sizeof sid, "%s", tn_shortfp_pubkey(&pk).s);
	tn_view reason = {(const uint8_t *)"revoked", 7};
	check_jump(m);
	tn_err rc = tn_node_revoke(m->node, &pk, reason, uv_hrtime(), wall_ms());
	pump(m); /* STORE_ROSTER of the revoke and rekey records: stored here */
	if (rc != TN_OK)
		FAIL(rc == TN_ERR_NOTFOUND ? TD_CTL_E_NOT_FOUND : TD_CTL_E_INTERNAL,
		     "the revocation could not be made: %s", tn_strerror(rc));
	td_info(m->log, "revoked member=%s", sid);
	td_ctl_add_str(r, "member", sid);
	td_ctl_add_str(r, "name", name);
	td_ctl_add_str(r, "fingerprint", fp);
	return TD_CTL_OK;
}

/* An equivocation kept by the store, as an audit item after the roster
 * records: the two alert ids as the node computes them (tn_alert_id; kept
 * with the pair since schema 5, as its envelopes go when the alert does). */
static void list_conflict(void *ud, const td_conflict_row *c)
{
	list_ctx *l = ud;
	char name[TN_NAME_MAX + 1], a[ID_HEX], b[ID_HEX];
	uint8_t id[TN_ALERT_ID];
	tn_pubkey pk;
	memcpy(pk.b, c->author, sizeof pk.b);
	member_name(l->m, &pk, name, sizeof name);
	if (c->has_ids)
		memcpy(id, c->id_a, TN_ALERT_ID);
	else
		tn_alert_id(c->envelope_a, c->len_a, id);
	hex(id, TN_ALERT_ID, a, sizeof a);
	if (c->has_ids)
		memcpy(id, c->id_b, TN_ALERT_ID);
	else
		tn_alert_id(c->envelope_b, c->len_b, id);
	hex(id, TN_ALERT_ID, b, sizeof b);
	json_t *o = json_object();
	if (!o)
		return;
	json_object_set_new(o, "type", json_string("conflict"));
	json_object_set_new(o, "author", json_string(tn_shortfp_pubkey(&pk).s));
	json_object_set_new(o, "author_name", json_string(name));
	json_object_set_new(o, "seq", json_integer((json_int_t)c->seq));
	json_object_set_new(o, "alert_a", json_string(a));
	json_object_set_new(o, "alert_b", json_string(b));
	if (c->seen_ms > 0)
		json_object_set_new(o, "seen_ms", json_integer(c->seen_ms));
	json_array_append_new(l->arr, o);
}

/* The audit log (coordinators only): every accepted roster record, then the
 * newest AUDIT_CONFLICTS_MAX equivocations kept as evidence. */
static td_ctl_code op_audit(td_mesh *m, td_ctl_msg *r, char *msg, size_t msglen)
{
	td_ctl_code c = need_network(m, msg, msglen);
	if (c != TD_CTL_OK)
		return c;
	if (!is_coordinator(m))
		FAIL(TD_CTL_E_NOT_COORDINATOR, "only a coordinator can read the audit log; ask one "
		                               "of your network's coordinators");
	json_t *arr = td_audit_json(m->ro, m->book);
	if (!arr)
		FAIL(TD_CTL_E_INTERNAL, "out of memory");
	list_ctx l = {.m = m, .arr = arr};
	if (td_store_conflict_list(m->store, AUDIT_CONFLICTS_MAX, list_conflict, &l) < 0) {
		json_decref(arr);
		FAIL(TD_CTL_E_INTERNAL, "cannot read the kept conflicts");
	}
	tn_ssize total = td_store_conflict_count(m->store);
	td_ctl_add_uint(r, "conflicts", total > 0 ? (uint64_t)total : 0);
	return reply_items(m, arr, r, msg, msglen);
}

td_ctl_code td_mesh_ctl(td_mesh *m, const td_ctl_req *req, td_ctl_msg *r, char *msg,
                        size_t msglen)
{
	if (!m->id)
		FAIL(TD_CTL_E_NOT_INITIALISED,
		     "this device has no identity yet: run tocsin init first");
	code_free(m);
	switch (req->op) {
	case TD_CTL_OP_NETWORK_CREATE: return op_network_create(m, req, r, msg, msglen);
	case TD_CTL_OP_ALERT: return op_alert(m, req, r, msg, msglen);
	case TD_CTL_OP_ALERT_STATUS: return op_alert_status(m, req, r, msg, msglen);
	case TD_CTL_OP_ALERTS:
		if (!m->ro)
			FAIL(TD_CTL_E_NO_NETWORK, "this device is not in a network");
		return op_alerts(m, req, r, msg, msglen);
	case TD_CTL_OP_MEMBERS: return op_members(m, r, msg, msglen);
	case TD_CTL_OP_PEERS: return op_peers(m, r, msg, msglen);
	case TD_CTL_OP_INVITE: return op_invite(m, req, r, msg, msglen);
	case TD_CTL_OP_JOIN: return op_join(m, req, r, msg, msglen);
	case TD_CTL_OP_REVOKE: return op_revoke(m, req, r, msg, msglen);
	case TD_CTL_OP_AUDIT: return op_audit(m, r, msg, msglen);
	default: break;
	}
	FAIL(TD_CTL_E_INTERNAL, "not a network op");
}

const char *td_mesh_desktop_state(const td_mesh *m)
{
	return m ? td_desktop_state(m->desk) : "not started";
}

void td_mesh_describe(td_mesh *m, char *out, size_t cap)
{
	if (!m->node) {
		snprintf(out, cap, "no network (tocsin network create NAME, or join one)");
		return;
	}
	if (!m->ro) {
		snprintf(out, cap, "joining a network: not admitted yet (no alert can travel)");
		return;
	}
	char nid[TN_NETWORK_ID * 2 + 1];
	hex(tn_roster_network_id(m->ro), TN_NETWORK_ID, nid, sizeof nid);
	tn_node_stats st;
	tn_node_stats_get(m->node, &st);
	snprintf(out, cap, "network %.8s: %zu members, %zu links up, %zu alerts held", nid,
	         tn_roster_member_count(m->ro), st.links_up, st.alerts_held);
}

/* ---- counters (status) ------------------------------------------------------------ */

#define LINK_STAT(f) {#f, offsetof(tn_link_stats, f)}
static const struct {
	const char *name;
	size_t off;
} link_stat_names[] = {
        LINK_STAT(rej_size),          LINK_STAT(rej_framing),     LINK_STAT(rej_mac),
        LINK_STAT(rej_decode),        LINK_STAT(rej_misdirected), LINK_STAT(rej_stale),
        LINK_STAT(rej_replay),        LINK_STAT(rej_sig),         LINK_STAT(rej_identity),
        LINK_STAT(hs_timeout),        LINK_STAT(hs_fail),         LINK_STAT(hs_wrong_key),
        LINK_STAT(hs_wrong_identity), LINK_STAT(framing),         LINK_STAT(transport_auth),
        LINK_STAT(transport_decode),  LINK_STAT(dead_peer),       LINK_STAT(outq_overflow),
        LINK_STAT(established),       LINK_STAT(unknown_msg_type),
};
#undef LINK_STAT

typedef struct ctr_out {
	char *p;
	size_t cap, len;
} ctr_out;

static void ctr_put(ctr_out *o, const char *group, const char *name, uint64_t v)
{
	if (!v || o->len >= o->cap)
		return;
	int w = snprintf(o->p + o->len, o->cap - o->len, "%s%s.%s=%" PRIu64, o->len ? " " : "",
	                 group, name, v);
	if (w > 0 && (size_t)w < o->cap - o->len)
		o->len += (size_t)w;
	else
		o->p[o->len] = '\0'; /* cut at a whole entry */
}

void td_mesh_counters(td_mesh *m, char *out, size_t cap)
{
	ctr_out o = {out, cap, 0};
	if (!cap)
		return;
	out[0] = '\0';
	ctr_put(&o, "conn", "refused", m->conns.refused);
	ctr_put(&o, "conn", "evicted", m->conns.evicted);
	ctr_put(&o, "scope", "dial_refused", m->dial_scope);
	ctr_put(&o, "scope", "dialback_refused", td_reach_scope_refused(m->reach));
	if (!m->node)
		return;
	tn_node_stats st;
	tn_node_stats_get(m->node, &st);
	for (size_t i = 0; i < sizeof link_stat_names / sizeof link_stat_names[0]; i++) {
		uint64_t v;
		memcpy(&v, (const uint8_t *)&st.link + link_stat_names[i].off, sizeof v);
		ctr_put(&o, "link", link_stat_names[i].name, v);
	}
	for (int r = 0; r < TN_ALERT_REASON_COUNT; r++)
		ctr_put(&o, "alert", tn_alert_reason_name((tn_alert_reason)r), st.alert[r]);
	for (int r = 0; r < TN_RECEIPT_REASON_COUNT; r++)
		ctr_put(&o, "receipt", tn_receipt_reason_name((tn_receipt_reason)r), st.receipt[r]);
	for (int c = 0; c < TN_NODE_C_COUNT; c++)
		ctr_put(&o, "node", tn_node_counter_name((tn_node_counter)c), st.node[c]);
	/* Last: the drop and rejection counters above keep priority in cap. */
	ctr_put(&o, "traffic", "tx_bytes", m->tx_bytes);
	ctr_put(&o, "traffic", "rx_bytes", m->rx_bytes);
	ctr_put(&o, "traffic", "tx_frames", m->tx_frames);
	ctr_put(&o, "traffic", "rx_frames", m->rx_frames);
}

void td_mesh_reach_info(td_mesh *m, td_ctl_info *o, char *name, size_t cap)
{
	td_reach_status st;
	o->reachable = "unknown";
	o->reach_checker = "";
	o->reach_result = "";
	o->reach_checked_ms = 0;
	if (!m || !m->node)
		return;
	td_reach_get(m->reach, &st);
	o->reachable = td_reachable_name(st.reachable);
	if (!st.checked)
		return;
	member_name(m, &st.checker, name, cap);
	if (!name[0])
		snprintf(name, cap, "%s", tn_shortfp_pubkey(&st.checker).s);
	o->reach_checker = name;
	o->reach_result = tn_dialback_result_name(st.result);
	o->reach_checked_ms = st.checked_ms;
}

void td_mesh_set_mapped(td_mesh *m, const char *external)
{
	if (!m)
		return;
	snprintf(m->mapped, sizeof m->mapped, "%s", external);
	if (m->cfg->advertise[0] || !m->node || !m->ro || tn_node_is_joining(m->node))
		return; /* advertise wins; no network yet: used when one is made */
	/* endpoint_refresh publishes only when our record says something else. */
	td_info(m->log, "endpoint_update reason=port_mapping");
	endpoint_refresh(m, true);
	pump(m);
}

void td_mesh_wake(td_mesh *m, const char *why, bool network)
{
	if (!m || m->stopping)
		return;
	if (network)
		td_reach_network_changed(m->reach);
	if (!m->node)
		return;
	tn_time now = uv_hrtime();
	uint64_t w = wall_ms();
	td_info(m->log, "wake reason=%s action=reconnect", why);
	tn_node_wake(m->node, now, w);
	m->last_mono = now; /* the drift check must not wake us twice */
	m->last_wall = w;
	pump(m);
}

