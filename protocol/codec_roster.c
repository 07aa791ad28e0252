/* Roster records (DESIGN §5; docs/wire.md). */
#include <string.h>

#include <sodium.h>

#include "codec_priv.h"

enum { ROSTER_FIELDS = 7 };

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

static bool roster_valid(const tn_roster_rec *r)
{
	switch (r->type) {
	case TN_ROSTER_GENESIS:
		return tn_codec_text_ok(&r->body.genesis.network_name, TN_NAME_MAX) &&
		       tn_codec_text_ok(&r->body.genesis.founder_name, TN_NAME_MAX);
	case TN_ROSTER_ADD:
		return tn_codec_text_ok(&r->body.add.name, TN_NAME_MAX) &&
		       r->body.add.role <= TN_ROLE_COORDINATOR;
	case TN_ROSTER_REVOKE:
		return tn_codec_text_ok(&r->body.revoke.reason, TN_REVOKE_REASON_MAX);
	case TN_ROSTER_ROLE: return r->body.role.role <= TN_ROLE_COORDINATOR;
	case TN_ROSTER_REKEY: return rekey_valid(&r->body.rekey);
	case TN_ROSTER_ENDPOINT: return endpoints_valid(&r->body.endpoint);
	}
	return false;
}

static void put_view_str(tn_mp_wr *w, const tn_view *v)
{
	tn_mp_put_str(w, v->p, v->len);
}

static void put_body(tn_mp_wr *w, const tn_roster_rec *r)
{
	switch (r->type) {
	case TN_ROSTER_GENESIS: {
		const tn_roster_genesis *g = &r->body.genesis;
		tn_mp_put_array(w, 3);
		put_view_str(w, &g->network_name);
		tn_mp_put_bin(w, g->founder_link_pk, sizeof g->founder_link_pk);
		put_view_str(w, &g->founder_name);
		break;
	}
	case TN_ROSTER_ADD: {
		const tn_roster_add *a = &r->body.add;
		tn_mp_put_array(w, 4);
		tn_mp_put_bin(w, a->subject, sizeof a->subject);
		tn_mp_put_bin(w, a->subject_link_pk, sizeof a->subject_link_pk);
		put_view_str(w, &a->name);
		tn_mp_put_uint(w, a->role);
		break;
	}
	case TN_ROSTER_REVOKE:
		tn_mp_put_array(w, 2);
		tn_mp_put_bin(w, r->body.revoke.subject, TN_PUBKEY);
		put_view_str(w, &r->body.revoke.reason);
		break;
	case TN_ROSTER_ROLE:
		tn_mp_put_array(w, 2);
		tn_mp_put_bin(w, r->body.role.subject, TN_PUBKEY);
		tn_mp_put_uint(w, r->body.role.role);
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

static tn_err genesis_body(tn_mp_rd *r, tn_roster_genesis *g)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 3)) || (rc = read_text(r, TN_NAME_MAX, &g->network_name)) ||
	    (rc = tn_mp_read_bin_fixed(r, g->founder_link_pk, sizeof g->founder_link_pk)))
		return rc;
	return read_text(r, TN_NAME_MAX, &g->founder_name);
}

static tn_err add_body(tn_mp_rd *r, tn_roster_add *a)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 4)) ||
	    (rc = tn_mp_read_bin_fixed(r, a->subject, sizeof a->subject)) ||
	    (rc = tn_mp_read_bin_fixed(r, a->subject_link_pk, sizeof a->subject_link_pk)) ||
	    (rc = read_text(r, TN_NAME_MAX, &a->name)))
		return rc;
	return read_role(r, &a->role);
}

static tn_err revoke_body(tn_mp_rd *r, tn_roster_revoke *v)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 2)) ||
	    (rc = tn_mp_read_bin_fixed(r, v->subject, sizeof v->subject)))
		return rc;
	return read_text(r, TN_REVOKE_REASON_MAX, &v->reason);
}

static tn_err role_body(tn_mp_rd *r, tn_roster_role *o)
{
	tn_err rc;
	if ((rc = tn_mp_read_array_n(r, 2)) ||
	    (rc = tn_mp_read_bin_fixed(r, o->subject, sizeof o->subject)))
		return rc;
	return read_role(r, &o->role);
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

/* nil for genesis, bin16 for every other type (DEC_TYPE when swapped). */
static tn_err read_network_id(tn_mp_rd *r, tn_roster_rec *rec)
{
	tn_mp_obj o;
	tn_err rc = tn_mp_next(r, &o);
	if (rc)
		return rc;
	if (rec->type == TN_ROSTER_GENESIS)
		return o.kind == TN_MP_NIL ? TN_OK : TN_ERR_DEC_TYPE;
	if (o.kind != TN_MP_BIN)
		return TN_ERR_DEC_TYPE;
	if (o.n != sizeof rec->network_id)
		return TN_ERR_DEC_BADLEN;
	memcpy(rec->network_id, o.p, sizeof rec->network_id);
	return TN_OK;
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
	if ((rc = read_network_id(r, rec)) ||
	    (rc = tn_mp_read_bin_fixed(r, rec->issuer, sizeof rec->issuer)) ||
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
