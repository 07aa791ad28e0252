/* tocsind: members and audit views, last seen (see roster_view.h). */
#define _POSIX_C_SOURCE 200809L
#include "roster_view.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctlproto.h"
#include "tocsin/codec.h"

enum {
	SEEN_WRITE_MS = 60 * 1000, /* at most one write a minute per member */
	SEEN_MAX = TN_ROSTER_MAX,  /* members ever admitted */
	ENDPOINT_VIEWS = 4,
};

typedef struct seen_entry {
	tn_pubkey pk;
	uint64_t ms;      /* last seen */
	uint64_t written; /* the value the store has */
	uint64_t write_at;
} seen_entry;

struct td_seen {
	td_store *store;
	td_log *log;
	td_ratelimit rl;
	seen_entry *e;
	size_t n, cap;
};

static seen_entry *seen_find(const td_seen *s, const tn_pubkey *pk)
{
	for (size_t i = 0; i < s->n; i++)
		if (tn_pubkey_eq(&s->e[i].pk, pk))
			return &s->e[i];
	return NULL;
}

static seen_entry *seen_slot(td_seen *s, const tn_pubkey *pk)
{
	seen_entry *e = seen_find(s, pk);
	if (e || s->n >= SEEN_MAX)
		return e;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		seen_entry *ne = realloc(s->e, cap * sizeof *ne);
		if (!ne)
			return NULL;
		s->e = ne;
		s->cap = cap;
	}
	e = &s->e[s->n++];
	memset(e, 0, sizeof *e);
	e->pk = *pk;
	return e;
}

static void seen_loaded(void *ud, const uint8_t member[TD_AUTHOR_LEN], int64_t ms)
{
	td_seen *s = ud;
	tn_pubkey pk;
	memcpy(pk.b, member, sizeof pk.b);
	seen_entry *e = seen_slot(s, &pk);
	if (e && ms > 0 && (uint64_t)ms > e->ms)
		e->ms = e->written = (uint64_t)ms;
}

tn_err td_seen_new(td_seen **out, td_store *store, td_log *log)
{
	td_seen *s = calloc(1, sizeof *s);
	if (!s)
		return TN_ERR_NOMEM;
	s->store = store;
	s->log = log;
	td_ratelimit_init(&s->rl, 5, 60 * TN_SEC);
	tn_ssize n = td_store_seen_list(store, seen_loaded, s);
	if (n < 0) /* not fatal: last seen starts afresh */
		td_warn(log, "member_seen_unreadable code=%s", tn_strerror((tn_err)n));
	*out = s;
	return TN_OK;
}

static void seen_write(td_seen *s, seen_entry *e, uint64_t now_ms)
{
	if (e->ms <= e->written)
		return;
	if (td_store_seen_put(s->store, e->pk.b, (int64_t)e->ms) == TN_OK)
		e->written = e->ms;
	else
		td_log_limited(s->log, &s->rl, TN_LOG_WARN, "member_seen_write_failed");
	e->write_at = now_ms + SEEN_WRITE_MS;
}

void td_seen_flush(td_seen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		seen_write(s, &s->e[i], 0);
}

void td_seen_del(td_seen *s)
{
	if (!s)
		return;
	td_seen_flush(s);
	free(s->e);
	free(s);
}

void td_seen_touch(td_seen *s, const tn_pubkey *pk, uint64_t ms, uint64_t now_ms, bool force)
{
	if (!s)
		return;
	if (ms > now_ms)
		ms = now_ms; /* a clock ahead of ours says nothing about the future */
	seen_entry *e = seen_slot(s, pk);
	if (!e)
		return;
	if (ms > e->ms)
		e->ms = ms;
	if (force || now_ms >= e->write_at)
		seen_write(s, e, now_ms);
}

void td_seen_record(td_seen *s, const uint8_t *rec, size_t len, uint64_t now_ms)
{
	tn_roster_rec r;
	if (!s || tn_roster_decode(&r, rec, len) != TN_OK)
		return;
	tn_pubkey pk;
	memcpy(pk.b, r.issuer, sizeof pk.b);
	td_seen_touch(s, &pk, r.created_ms, now_ms, false);
}

uint64_t td_seen_get(const td_seen *s, const tn_pubkey *pk)
{
	const seen_entry *e = s ? seen_find(s, pk) : NULL;
	return e ? e->ms : 0;
}

/* ---- names -------------------------------------------------------------------- */

const char *td_roster_type_name(unsigned type)
{
	static const char *const n[] = {"genesis", "add", "revoke", "role", "rekey", "endpoint"};
	return type < sizeof n / sizeof n[0] ? n[type] : "unknown";
}

const char *td_roster_status_name(unsigned status)
{
	static const char *const n[] = {"valid",        "void_fork", "void_revoked",
	                                "void_demoted", "void_auth", "void_settled"};
	return status < sizeof n / sizeof n[0] ? n[status] : "unknown";
}

static const char *role_name(unsigned role)
{
	return role == TN_ROLE_COORDINATOR ? "coordinator" : "member";
}

/* A UTF-8 view as a JSON string (cleaned: a peer chose these bytes). */
static json_t *jview(tn_view v)
{
	char buf[TN_ENDPOINT_STR_MAX + TN_NAME_MAX + 2];
	size_t n = v.len < sizeof buf - 1 ? v.len : sizeof buf - 1;
	memcpy(buf, v.p, n);
	buf[n] = '\0';
	td_ctl_utf8_clean(buf, sizeof buf, buf);
	return json_string(buf);
}

static json_t *name_of(tn_roster *ro, const tn_pubkey *pk)
{
	tn_roster_member rm;
	if (tn_roster_member_by_pk(ro, pk, &rm) != TN_OK)
		return json_string("");
	return jview(rm.name);
}

/* ---- members ------------------------------------------------------------------ */

json_t *td_members_json(tn_roster *ro, const tn_identity *self, td_seen *seen, td_linked_fn linked,
                        void *ud, uint64_t now_ms)
{
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	const tn_pubkey *me = tn_identity_pubkey(self);
	size_t n = tn_roster_member_count(ro);
	for (size_t i = 0; i < n; i++) {
		tn_roster_member rm;
		if (tn_roster_member_at(ro, i, &rm) != TN_OK)
			continue;
		bool is_self = tn_pubkey_eq(&rm.pk, me);
		bool up = !is_self && linked(ud, &rm.pk);
		char fp[TN_FINGERPRINT_STRLEN + 1], sn[TN_SAFETY_STRLEN + 1];
		if (tn_fingerprint_str(&rm.pk, fp, sizeof fp) < 0)
			fp[0] = '\0';
		json_t *o = json_object();
		if (!o)
			break;
		json_object_set_new(o, "id", json_string(tn_shortfp_pubkey(&rm.pk).s));
		json_object_set_new(o, "fingerprint", json_string(fp));
		json_object_set_new(o, "name", jview(rm.name));
		json_object_set_new(o, "role", json_string(role_name(rm.role)));
		json_object_set_new(o, "active", json_boolean(rm.active));
		json_object_set_new(o, "revoked", json_boolean(!rm.active));
		json_object_set_new(o, "self", json_boolean(is_self));
		json_object_set_new(o, "linked", json_boolean(up));
		if (!is_self && tn_safety_number_str(me, &rm.pk, sn, sizeof sn) > 0)
			json_object_set_new(o, "safety_number", json_string(sn));
		if (up)
			td_seen_touch(seen, &rm.pk, now_ms, now_ms, false);
		uint64_t ls = is_self ? 0 : td_seen_get(seen, &rm.pk);
		if (ls)
			json_object_set_new(o, "last_seen_ms", json_integer((json_int_t)ls));
		tn_view ep[ENDPOINT_VIEWS];
		if (rm.active && tn_roster_endpoints(ro, &rm.pk, now_ms, ep, ENDPOINT_VIEWS) > 0)
			json_object_set_new(o, "endpoint", jview(ep[0]));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* ---- audit ---------------------------------------------------------------------- */

static void audit_body(json_t *o, tn_roster *ro, const tn_roster_audit *a)
{
	tn_view bytes;
	tn_roster_rec r;
	if (tn_roster_record_by_id(ro, a->id, &bytes) != TN_OK ||
	    tn_roster_decode(&r, bytes.p, bytes.len) != TN_OK)
		return;
	switch (r.type) {
	case TN_ROSTER_GENESIS:
		json_object_set_new(o, "network", jview(r.body.genesis.network_name));
		json_object_set_new(o, "subject", json_string(tn_shortfp_pubkey(&a->issuer).s));
		json_object_set_new(o, "subject_name", jview(r.body.genesis.founder_name));
		json_object_set_new(o, "role", json_string("coordinator"));
		break;
	case TN_ROSTER_REVOKE: json_object_set_new(o, "reason", jview(r.body.revoke.reason)); break;
	case TN_ROSTER_REKEY:
		json_object_set_new(o, "part", json_integer(r.body.rekey.part));
		json_object_set_new(o, "parts", json_integer(r.body.rekey.parts));
		json_object_set_new(o, "sealed_to", json_integer((json_int_t)r.body.rekey.count));
		break;
	case TN_ROSTER_ENDPOINT: {
		json_t *eps = json_array();
		tn_iter it;
		tn_view v;
		tn_iter_init(&it, &r.body.endpoint.list);
		while (eps && tn_endpoint_next(&it, &v) == TN_OK)
			json_array_append_new(eps, jview(v));
		json_object_set_new(o, "endpoints", eps);
		json_object_set_new(o, "expires_ms",
		                    json_integer((json_int_t)r.body.endpoint.expires_ms));
		json_object_set_new(o, "subject", json_string(tn_shortfp_pubkey(&a->issuer).s));
		json_object_set_new(o, "subject_name", name_of(ro, &a->issuer));
		break;
	}
	default: break;
	}
}

json_t *td_audit_json(tn_roster *ro, const td_invbook *book)
{
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	size_t n = tn_roster_audit_count(ro);
	for (size_t i = 0; i < n; i++) {
		tn_roster_audit a;
		if (tn_roster_audit_at(ro, i, &a) != TN_OK)
			continue;
		char idh[TN_HASH * 2 + 1];
		sodium_bin2hex(idh, sizeof idh, a.id, sizeof a.id);
		json_t *o = json_object();
		if (!o)
			break;
		json_object_set_new(o, "n", json_integer((json_int_t)i + 1));
		json_object_set_new(o, "id", json_stringn(idh, 16));
		json_object_set_new(o, "type", json_string(td_roster_type_name(a.type)));
		json_object_set_new(o, "status", json_string(td_roster_status_name(a.status)));
		json_object_set_new(o, "issuer", json_string(tn_shortfp_pubkey(&a.issuer).s));
		json_object_set_new(o, "issuer_name", name_of(ro, &a.issuer));
		json_object_set_new(o, "iseq", json_integer((json_int_t)a.iseq));
		json_object_set_new(o, "created_ms", json_integer((json_int_t)a.created_ms));
		if (a.has_subject) {
			json_object_set_new(o, "subject",
			                    json_string(tn_shortfp_pubkey(&a.subject).s));
			json_object_set_new(o, "subject_name", name_of(ro, &a.subject));
		}
		const char *as = a.type == TN_ROSTER_ADD && a.has_subject
		                         ? td_invbook_invited_as(book, &a.subject)
		                         : NULL;
		if (as)
			json_object_set_new(o, "invited_as", json_string(as));
		if (a.type == TN_ROSTER_ADD || a.type == TN_ROSTER_ROLE)
			json_object_set_new(o, "role", json_string(role_name(a.role)));
		if (a.type == TN_ROSTER_ADD || a.type == TN_ROSTER_REKEY)
			json_object_set_new(o, "epoch", json_integer(a.epoch));
		if (a.type == TN_ROSTER_REVOKE || a.type == TN_ROSTER_ROLE)
			json_object_set_new(o, "pin_seq", json_integer((json_int_t)a.pin_seq));
		audit_body(o, ro, &a);
		json_array_append_new(arr, o);
	}
	return arr;
}
