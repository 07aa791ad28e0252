/* Roster records (DESIGN §5; docs/wire.md). */
#include <string.h>

#include <sodium.h>

#include "codec_priv.h"

enum { ROSTER_FIELDS = 10 };

_Static_assert(TN_SEALED_SECRETS == crypto_box_SEALBYTES + TN_EPOCH_SECRETS,
               "sealed epoch secrets size");
/* A full rekey part inside a ROSTER link message ([7, bin16 record]: 5 bytes
 * of framing) must fit one Noise transport message. */
_Static_assert(TN_ROSTER_RECORD_MAX + 5 <= TN_LINK_PLAINTEXT_MAX, "rekey part fits a frame");
_Static_assert(TN_REKEY_PARTS_MAX <= UINT16_MAX, "parts fits u16");

/* ---- list elements ----------------------------------------------------- */

/* [member bin32, sealed bin112]; members strictly ascending within a part,
 * so no member is sealed to twice and the encoding is unique. */
static tn_err rekey_elem(tn_mp_rd *r, void *out, const void *prev)
{
	tn_rekey_entry *e = out;
	const tn_rekey_entry *p = prev;
	tn_err rc;
	memset(e, 0, sizeof *e);
	if ((rc = tn_mp_read_array_n(r, 2)) ||
	    (rc = tn_mp_read_bin_fixed(r, e->member, sizeof e->member)) ||
	    (rc = tn_mp_read_bin_fixed(r, e->sealed, sizeof e->sealed)))
		return rc;
	if (p && memcmp(p->member, e->member, sizeof e->member) >= 0)
		return TN_ERR_DEC_KEYORDER;
	return TN_OK;
}

static bool endpoint_ok(const uint8_t *s, size_t n)
{
	return (n >= 4 && memcmp(s, "tcp:", 4) == 0) || (n >= 6 && memcmp(s, "onion:", 6) == 0);
}

/* "tcp:..." or "onion:...", UTF-8, <= TN_ENDPOINT_STR_MAX. Parsing host and
 * port is the daemon's job; the scheme is checked here so an unknown
 * transport is refused at the edge. */
static tn_err endpoint_elem(tn_mp_rd *r, void *out, const void *prev)
{
	tn_view *v = out;
	(void)prev;
	tn_err rc = tn_mp_read_str(r, TN_ENDPOINT_STR_MAX, &v->p, &v->len);
	if (rc)
		return rc;
	return endpoint_ok(v->p, v->len) ? TN_OK : TN_ERR_DEC_RANGE;
}

tn_err tn_rekey_next(tn_iter *it, tn_rekey_entry *e)
{
	memset(e, 0, sizeof *e);
	return tn_codec_iter_next(it, rekey_elem, e);
}

tn_err tn_endpoint_next(tn_iter *it, tn_view *endpoint)
{
	memset(endpoint, 0, sizeof *endpoint);
	return tn_codec_iter_next(it, endpoint_elem, endpoint);
}

/* ---- encoding ---------------------------------------------------------- */

static bool rekey_valid(const tn_roster_rekey *k)
{
	if (k->parts == 0 || k->parts > TN_REKEY_PARTS_MAX || k->part >= k->parts)
		return false;
	if (k->count == 0 || k->count > TN_REKEY_PER_PART || !k->entries)
		return false;
	for (size_t i = 1; i < k->count; i++)
		if (memcmp(k->entries[i - 1].member, k->entries[i].member, TN_PUBKEY) >= 0)
			return false;
	return true;
}

static bool endpoints_valid(const tn_roster_endpoint *e)
{
	if (e->count == 0 || e->count > TN_ENDPOINTS_MAX || !e->endpoints)
		return false;
	for (size_t i = 0; i < e->count; i++)
		if (!tn_codec_text_ok(&e->endpoints[i], TN_ENDPOINT_STR_MAX) ||
		    !endpoint_ok(e->endpoints[i].p, e->endpoints[i].len))
			return false;
	return true;
}

/* pin_seq 0 <=> no pin_head. */
static bool pin_valid(const tn_roster_pin *p)
{
	return (p->pin_seq == 0) == !p->has_pin_head;
}

static bool roster_valid(const tn_roster_rec *r)
{
	if (r->iseq == 0 || (r->type == TN_ROSTER_GENESIS && r->iseq != 1))
		return false;
	switch (r->type) {
	case TN_ROSTER_GENESIS:
		return tn_codec_text_ok(&r->body.genesis.network_name, TN_NAME_MAX) &&
		       tn_codec_text_ok(&r->body.genesis.founder_name, TN_NAME_MAX);
	case TN_ROSTER_ADD:
		return tn_codec_text_ok(&r->body.add.name, TN_NAME_MAX) &&
		       r->body.add.role <= TN_ROLE_COORDINATOR;
	case TN_ROSTER_REVOKE:
		return tn_codec_text_ok(&r->body.revoke.reason, TN_REVOKE_REASON_MAX) &&
		       pin_valid(&r->body.revoke.pin);
	case TN_ROSTER_ROLE:
		/* A promotion pins nothing. */
		return r->body.role.role <= TN_ROLE_COORDINATOR && pin_valid(&r->body.role.pin) &&
		       (r->body.role.role == TN_ROLE_MEMBER || r->body.role.pin.pin_seq == 0);
	case TN_ROSTER_REKEY: return rekey_valid(&r->body.rekey);
	case TN_ROSTER_ENDPOINT: return endpoints_valid(&r->body.endpoint);
	}
	return false;
}

static void put_view_str(tn_mp_wr *w, const tn_view *v)
{
	tn_mp_put_str(w, v->p, v->len);
}

static void put_pin(tn_mp_wr *w, const tn_roster_pin *p)
{
	tn_mp_put_uint(w, p->pin_seq);
	if (p->has_pin_head)
		tn_mp_put_bin(w, p->pin_head, TN_HASH);
	else
		tn_mp_put_nil(w);
}

static void put_body(tn_mp_wr *w, const tn_roster_rec *r)
{
	switch (r->type) {
	case TN_ROSTER_GENESIS: {
		const tn_roster_genesis *g = &r->body.genesis;
		tn_mp_put_array(w, 4);
		put_view_str(w, &g->network_name);
		tn_mp_put_bin(w, g->founder_link_pk, sizeof g->founder_link_pk);
		put_view_str(w, &g->founder_name);
		tn_mp_put_bin(w, g->sealed, sizeof g->sealed);
		break;
	}
	case TN_ROSTER_ADD: {
		const tn_roster_add *a = &r->body.add;
		tn_mp_put_array(w, 6);
		tn_mp_put_bin(w, a->subject, sizeof a->subject);
		tn_mp_put_bin(w, a->subject_link_pk, sizeof a->subject_link_pk);
		put_view_str(w, &a->name);
		tn_mp_put_uint(w, a->role);
		tn_mp_put_uint(w, a->epoch);
		tn_mp_put_bin(w, a->sealed, sizeof a->sealed);
		break;
	}
	case TN_ROSTER_REVOKE:
		tn_mp_put_array(w, 4);
		tn_mp_put_bin(w, r->body.revoke.subject, TN_PUBKEY);
		put_view_str(w, &r->body.revoke.reason);
		put_pin(w, &r->body.revoke.pin);
		break;
	case TN_ROSTER_ROLE:
		tn_mp_put_array(w, 4);
		tn_mp_put_bin(w, r->body.role.subject, TN_PUBKEY);
		tn_mp_put_uint(w, r->body.role.role);
		put_pin(w, &r->body.role.pin);
		break;
	case TN_ROSTER_REKEY: {
		const tn_roster_rekey *k = &r->body.rekey;
		tn_mp_put_array(w, 4);
		tn_mp_put_uint(w, k->epoch);
		tn_mp_put_uint(w, k->part);
		tn_mp_put_uint(w, k->parts);
		tn_mp_put_array(w, k->count);
		for (size_t i = 0; i < k->count; i++) {
			tn_mp_put_array(w, 2);
			tn_mp_put_bin(w, k->entries[i].member, TN_PUBKEY);
			tn_mp_put_bin(w, k->entries[i].sealed, TN_SEALED_SECRETS);
		}
		break;
	}
	case TN_ROSTER_ENDPOINT: {
		const tn_roster_endpoint *e = &r->body.endpoint;
		tn_mp_put_array(w, 2);
		tn_mp_put_uint(w, e->expires_ms);
		tn_mp_put_array(w, e->count);
		for (size_t i = 0; i < e->count; i++)
			put_view_str(w, &e->endpoints[i]);
		break;
	}
	}
}

static void roster_put_signed(tn_mp_wr *w, const void *obj)
{
	const tn_roster_rec *r = obj;
	tn_mp_put_array(w, ROSTER_FIELDS);
	tn_mp_put_uint(w, TN_RECORD_VERSION);
	tn_mp_put_uint(w, r->type);
	/* The network id is the hash of the genesis record, so genesis cannot
	 * carry it. */
	if (r->type == TN_ROSTER_GENESIS)
		tn_mp_put_nil(w);
	else
		tn_mp_put_bin(w, r->network_id, sizeof r->network_id);
	tn_mp_put_bin(w, r->issuer, sizeof r->issuer);
	tn_mp_put_uint(w, r->iseq);
	if (r->iseq == 1)
		tn_mp_put_nil(w);
	else
		tn_mp_put_bin(w, r->prev, sizeof r->prev);
	if (r->type == TN_ROSTER_GENESIS)
		tn_mp_put_nil(w);
	else
		tn_mp_put_bin(w, r->auth, sizeof r->auth);
	tn_mp_put_uint(w, r->created_ms);
	put_body(w, r);
}

static void roster_put(tn_mp_wr *w, const void *obj)
{
	const tn_roster_rec *r = obj;
	roster_put_signed(w, r);
	tn_mp_put_bin(w, r->signature, sizeof r->signature);
}

tn_ssize tn_roster_encode_signed(const tn_roster_rec *r, uint8_t *out, size_t cap)
{
	if (!roster_valid(r))
		return TN_ERR_INVAL;
	return tn_codec_emit(roster_put_signed, r, TN_ROSTER_RECORD_MAX, out, cap);
}

tn_ssize tn_roster_encode(const tn_roster_rec *r, uint8_t *out, size_t cap)
{
	if (!roster_valid(r))
		return TN_ERR_INVAL;
	return tn_codec_emit(roster_put, r, TN_ROSTER_RECORD_MAX, out, cap);
}

/* ---- decoding ---------------------------------------------------------- */

static tn_err read_text(tn_mp_rd *r, size_t max, tn_view *v)
{
	return tn_mp_read_str(r, max, &v->p, &v->len);
}

static tn_err read_role(tn_mp_rd *r, uint8_t *role)
{
	uint64_t v;
	tn_err rc = tn_mp_read_uint(r, TN_ROLE_COORDINATOR, &v);
	*role = (uint8_t)v;
	return rc;
}

/* nil when present is false, else bin of exactly n bytes into out. The
 * wrong one of nil/bin is DEC_TYPE (as for network_id). */
static tn_err read_opt_hash(tn_mp_rd *r, bool present, uint8_t *out, size_t n)
{
	tn_mp_obj o;
	tn_err rc = tn_mp_next(r, &o);
	if (rc)
		return rc;
	if (!present)
		return o.kind == TN_MP_NIL ? TN_OK : TN_ERR_DEC_TYPE;
	if (o.kind != TN_MP_BIN)
		return TN_ERR_DEC_TYPE;
	if (o.n != n)
		return TN_ERR_DEC_BADLEN;
	memcpy(out, o.p, n);
	return TN_OK;
}

/* pin_seq u64, pin_head: nil iff pin_seq == 0, else bin32. */
static tn_err read_pin(tn_mp_rd *r, tn_roster_pin *p)
{
	tn_err rc = tn_mp_read_uint(r, UINT64_MAX, &p->pin_seq);
	if (rc)
		return rc;
	p->has_pin_head = p->pin_seq != 0;
	return read_opt_hash(r, p->has_pin_head, p->pin_head, sizeof p->pin_head);
}

static tn_err genesis_body(tn_mp_rd *r, tn_roster_genesis *g)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 4)) || (rc = read_text(r, TN_NAME_MAX, &g->network_name)) ||
	    (rc = tn_mp_read_bin_fixed(r, g->founder_link_pk, sizeof g->founder_link_pk)) ||
	    (rc = read_text(r, TN_NAME_MAX, &g->founder_name)))
		return rc;
	return tn_mp_read_bin_fixed(r, g->sealed, sizeof g->sealed);
}

static tn_err add_body(tn_mp_rd *r, tn_roster_add *a)
{
	uint64_t epoch;
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 6)) ||
	    (rc = tn_mp_read_bin_fixed(r, a->subject, sizeof a->subject)) ||
	    (rc = tn_mp_read_bin_fixed(r, a->subject_link_pk, sizeof a->subject_link_pk)) ||
	    (rc = read_text(r, TN_NAME_MAX, &a->name)) || (rc = read_role(r, &a->role)) ||
	    (rc = tn_mp_read_uint(r, UINT32_MAX, &epoch)))
		return rc;
	a->epoch = (uint32_t)epoch;
	return tn_mp_read_bin_fixed(r, a->sealed, sizeof a->sealed);
}

static tn_err revoke_body(tn_mp_rd *r, tn_roster_revoke *v)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 4)) ||
	    (rc = tn_mp_read_bin_fixed(r, v->subject, sizeof v->subject)) ||
	    (rc = read_text(r, TN_REVOKE_REASON_MAX, &v->reason)))
		return rc;
	return read_pin(r, &v->pin);
}

static tn_err role_body(tn_mp_rd *r, tn_roster_role *o)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 4)) ||
	    (rc = tn_mp_read_bin_fixed(r, o->subject, sizeof o->subject)) ||
	    (rc = read_role(r, &o->role)) || (rc = read_pin(r, &o->pin)))
		return rc;
	/* A promotion pins nothing: one meaning, one encoding. */
	if (o->role == TN_ROLE_COORDINATOR && o->pin.pin_seq != 0)
		return TN_ERR_DEC_RANGE;
	return TN_OK;
}

static tn_err rekey_body(tn_mp_rd *r, tn_roster_rekey *k)
{
	uint64_t epoch, part, parts;
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 4)) || (rc = tn_mp_read_uint(r, UINT32_MAX, &epoch)) ||
	    (rc = tn_mp_read_uint(r, UINT16_MAX, &part)) ||
	    (rc = tn_mp_read_uint(r, UINT16_MAX, &parts)))
		return rc;
	if (parts == 0 || parts > TN_REKEY_PARTS_MAX || part >= parts)
		return TN_ERR_DEC_RANGE;
	k->epoch = (uint32_t)epoch;
	k->part = (uint16_t)part;
	k->parts = (uint16_t)parts;
	if ((rc = tn_codec_list(r, 1, TN_REKEY_PER_PART, rekey_elem, sizeof(tn_rekey_entry),
	                        &k->list)))
		return rc;
	k->count = k->list.count;
	return TN_OK;
}

static tn_err endpoint_body(tn_mp_rd *r, tn_roster_endpoint *e)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 2)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &e->expires_ms)) ||
	    (rc = tn_codec_list(r, 1, TN_ENDPOINTS_MAX, endpoint_elem, sizeof(tn_view), &e->list)))
		return rc;
	e->count = e->list.count;
	return TN_OK;
}

static tn_err roster_body(tn_mp_rd *r, tn_roster_rec *rec)
{
	switch (rec->type) {
	case TN_ROSTER_GENESIS: return genesis_body(r, &rec->body.genesis);
	case TN_ROSTER_ADD: return add_body(r, &rec->body.add);
	case TN_ROSTER_REVOKE: return revoke_body(r, &rec->body.revoke);
	case TN_ROSTER_ROLE: return role_body(r, &rec->body.role);
	case TN_ROSTER_REKEY: return rekey_body(r, &rec->body.rekey);
	case TN_ROSTER_ENDPOINT: return endpoint_body(r, &rec->body.endpoint);
	}
	return TN_ERR_DEC_RECTYPE;
}

static tn_err roster_fields(tn_mp_rd *r, tn_roster_rec *rec)
{
	uint64_t type;
	tn_err rc;
	if ((rc = tn_codec_open(r, ROSTER_FIELDS)) || (rc = tn_mp_read_uint(r, UINT64_MAX, &type)))
		return rc;
	if (type > TN_ROSTER_ENDPOINT)
		return TN_ERR_DEC_RECTYPE;
	rec->type = (uint8_t)type;
	/* The network id is a hash of genesis: nil there, bin16 elsewhere. */
	if ((rc = read_opt_hash(r, rec->type != TN_ROSTER_GENESIS, rec->network_id,
	                        sizeof rec->network_id)) ||
	    (rc = tn_mp_read_bin_fixed(r, rec->issuer, sizeof rec->issuer)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &rec->iseq)))
		return rc;
	/* iseq >= 1; genesis is its founder's first record. */
	if (rec->iseq == 0 || (rec->type == TN_ROSTER_GENESIS && rec->iseq != 1))
		return TN_ERR_DEC_RANGE;
	if ((rc = read_opt_hash(r, rec->iseq != 1, rec->prev, sizeof rec->prev)) ||
	    (rc = read_opt_hash(r, rec->type != TN_ROSTER_GENESIS, rec->auth, sizeof rec->auth)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &rec->created_ms)) || (rc = roster_body(r, rec)))
		return rc;
	rec->signed_part.p = r->buf;
	rec->signed_part.len = r->off;
	if ((rc = tn_mp_read_bin_fixed(r, rec->signature, sizeof rec->signature)))
		return rc;
	return tn_codec_close(r);
}

tn_err tn_roster_decode(tn_roster_rec *rec, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	memset(rec, 0, sizeof *rec);
	if (len > TN_ROSTER_RECORD_MAX)
		return TN_ERR_DEC_TOOBIG;
	tn_mp_rd_init(&r, in, len);
	tn_err rc = roster_fields(&r, rec);
	if (rc)
		memset(rec, 0, sizeof *rec);
	return rc;
}
