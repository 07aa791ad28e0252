/* Alert envelope, alert plaintext, receipt and digest (DESIGN §6, §7). */
#include <string.h>

#include "codec_priv.h"

/* ---- envelope ---------------------------------------------------------- */

enum { ENV_FIELDS = 12 };

static bool env_valid(const tn_alert_env *e)
{
	return e->seq >= 1 && e->kind <= TN_KIND_TEST && e->expires_ms >= e->created_ms &&
	       e->ciphertext.len >= TN_ALERT_TAG && e->ciphertext.len <= TN_ALERT_CIPHERTEXT_MAX &&
	       e->ciphertext.p;
}

/* The header alone (what an alert's AEAD takes as associated data) must
 * be checkable before there is a ciphertext: the same rules minus those on
 * the ciphertext. */
static bool env_header_valid(const tn_alert_env *e)
{
	return e->seq >= 1 && e->kind <= TN_KIND_TEST && e->expires_ms >= e->created_ms;
}

/* The array header and fields 0..9 (version .. nonce): everything before
 * the ciphertext. */
static void env_put_header(tn_mp_wr *w, const void *obj)
{
	const tn_alert_env *e = obj;
	tn_mp_put_array(w, ENV_FIELDS);
	tn_mp_put_uint(w, TN_RECORD_VERSION);
	tn_mp_put_bin(w, e->network_id, sizeof e->network_id);
	tn_mp_put_bin(w, e->author, sizeof e->author);
	tn_mp_put_uint(w, e->seq);
	tn_mp_put_uint(w, e->kind);
	if (e->has_refers_to)
		tn_mp_put_bin(w, e->refers_to, sizeof e->refers_to);
	else
		tn_mp_put_nil(w);
	tn_mp_put_uint(w, e->created_ms);
	tn_mp_put_uint(w, e->expires_ms);
	tn_mp_put_uint(w, e->epoch);
	tn_mp_put_bin(w, e->nonce, sizeof e->nonce);
}

/* Everything the signature covers: the header and the ciphertext. */
static void env_put_signed(tn_mp_wr *w, const void *obj)
{
	const tn_alert_env *e = obj;
	env_put_header(w, e);
	tn_mp_put_bin(w, e->ciphertext.p, e->ciphertext.len);
}

static void env_put(tn_mp_wr *w, const void *obj)
{
	const tn_alert_env *e = obj;
	env_put_signed(w, e);
	tn_mp_put_bin(w, e->signature, sizeof e->signature);
}

tn_ssize tn_alert_env_encode_header(const tn_alert_env *e, uint8_t *out, size_t cap)
{
	if (!env_header_valid(e))
		return TN_ERR_INVAL;
	return tn_codec_emit(env_put_header, e, TN_ALERT_ENV_HEADER_MAX, out, cap);
}

tn_ssize tn_alert_env_encode_signed(const tn_alert_env *e, uint8_t *out, size_t cap)
{
	if (!env_valid(e))
		return TN_ERR_INVAL;
	return tn_codec_emit(env_put_signed, e, TN_ALERT_ENVELOPE_MAX, out, cap);
}

tn_ssize tn_alert_env_encode(const tn_alert_env *e, uint8_t *out, size_t cap)
{
	if (!env_valid(e))
		return TN_ERR_INVAL;
	return tn_codec_emit(env_put, e, TN_ALERT_ENVELOPE_MAX, out, cap);
}

/* nil, or a bin32 alert id. */
static tn_err read_refers_to(tn_mp_rd *r, tn_alert_env *e)
{
	tn_mp_obj o;
	tn_err rc = tn_mp_next(r, &o);
	if (rc)
		return rc;
	if (o.kind == TN_MP_NIL)
		return TN_OK;
	if (o.kind != TN_MP_BIN)
		return TN_ERR_DEC_TYPE;
	if (o.n != sizeof e->refers_to)
		return TN_ERR_DEC_BADLEN;
	memcpy(e->refers_to, o.p, sizeof e->refers_to);
	e->has_refers_to = true;
	return TN_OK;
}

static tn_err env_fields(tn_mp_rd *r, tn_alert_env *e)
{
	uint64_t kind, epoch;
	tn_err rc;
	if ((rc = tn_codec_open(r, ENV_FIELDS)) ||
	    (rc = tn_mp_read_bin_fixed(r, e->network_id, sizeof e->network_id)) ||
	    (rc = tn_mp_read_bin_fixed(r, e->author, sizeof e->author)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &e->seq)))
		return rc;
	if (e->seq == 0)
		return TN_ERR_DEC_RANGE;
	if ((rc = tn_mp_read_uint(r, TN_KIND_TEST, &kind)))
		return rc;
	e->kind = (uint8_t)kind;
	if ((rc = read_refers_to(r, e)) || (rc = tn_mp_read_uint(r, UINT64_MAX, &e->created_ms)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &e->expires_ms)))
		return rc;
	/* Semantic windows (lifetime, skew) are the alert module's; an alert
	 * that expires before it was created is never valid anywhere. */
	if (e->expires_ms < e->created_ms)
		return TN_ERR_DEC_RANGE;
	if ((rc = tn_mp_read_uint(r, UINT32_MAX, &epoch)))
		return rc;
	e->epoch = (uint32_t)epoch;
	if ((rc = tn_mp_read_bin_fixed(r, e->nonce, sizeof e->nonce)) ||
	    (rc = tn_mp_read_bin(r, TN_ALERT_TAG, TN_ALERT_CIPHERTEXT_MAX, &e->ciphertext.p,
	                         &e->ciphertext.len)))
		return rc;
	e->signed_part.p = r->buf;
	e->signed_part.len = r->off;
	if ((rc = tn_mp_read_bin_fixed(r, e->signature, sizeof e->signature)))
		return rc;
	return tn_codec_close(r);
}

tn_err tn_alert_env_decode(tn_alert_env *e, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	memset(e, 0, sizeof *e);
	if (len > TN_ALERT_ENVELOPE_MAX)
		return TN_ERR_DEC_TOOBIG;
	tn_mp_rd_init(&r, in, len);
	tn_err rc = env_fields(&r, e);
	if (rc)
		memset(e, 0, sizeof *e);
	return rc;
}

/* ---- plaintext --------------------------------------------------------- */

enum {
	PT_SEVERITY = 1,
	PT_VIOLATION = 2,
	PT_TEXT = 3,
	PT_LOCATION = 4,
	PT_LATLON = 5,
};

static bool pt_valid(const tn_alert_pt *p)
{
	if (p->severity > TN_SEV_CRITICAL || p->violation > TN_VIOL_OTHER)
		return false;
	if (p->has_text && !tn_codec_text_ok(&p->text, TN_ALERT_TEXT_MAX))
		return false;
	if (p->has_location && !tn_codec_text_ok(&p->location, TN_ALERT_LOCATION_MAX))
		return false;
	if (p->has_latlon && (p->lat_e7 < -TN_LAT_E7_MAX || p->lat_e7 > TN_LAT_E7_MAX ||
	                      p->lon_e7 < -TN_LON_E7_MAX || p->lon_e7 > TN_LON_E7_MAX))
		return false;
	return true;
}

static void pt_put(tn_mp_wr *w, const void *obj)
{
	const tn_alert_pt *p = obj;
	tn_mp_put_map(w, 2u + p->has_text + p->has_location + p->has_latlon);
	tn_mp_put_uint(w, PT_SEVERITY);
	tn_mp_put_uint(w, p->severity);
	tn_mp_put_uint(w, PT_VIOLATION);
	tn_mp_put_uint(w, p->violation);
	if (p->has_text) {
		tn_mp_put_uint(w, PT_TEXT);
		tn_mp_put_str(w, p->text.p, p->text.len);
	}
	if (p->has_location) {
		tn_mp_put_uint(w, PT_LOCATION);
		tn_mp_put_str(w, p->location.p, p->location.len);
	}
	if (p->has_latlon) {
		tn_mp_put_uint(w, PT_LATLON);
		tn_mp_put_array(w, 2);
		tn_mp_put_int(w, p->lat_e7);
		tn_mp_put_int(w, p->lon_e7);
	}
}

tn_ssize tn_alert_pt_encode(const tn_alert_pt *p, uint8_t *out, size_t cap)
{
	if (!pt_valid(p))
		return TN_ERR_INVAL;
	/* Text and location at their maxima stay far below the bound; the
	 * check holds the line if either limit grows. */
	return tn_codec_emit(pt_put, p, TN_ALERT_PLAINTEXT_MAX, out, cap);
}

static tn_err pt_value(tn_mp_rd *r, uint64_t key, tn_alert_pt *p)
{
	uint64_t u;
	int64_t lat, lon;
	tn_err rc;
	switch (key) {
	case PT_SEVERITY:
		if ((rc = tn_mp_read_uint(r, TN_SEV_CRITICAL, &u)))
			return rc;
		p->severity = (uint8_t)u;
		return TN_OK;
	case PT_VIOLATION:
		if ((rc = tn_mp_read_uint(r, TN_VIOL_OTHER, &u)))
			return rc;
		p->violation = (uint8_t)u;
		return TN_OK;
	case PT_TEXT:
		p->has_text = true;
		return tn_mp_read_str(r, TN_ALERT_TEXT_MAX, &p->text.p, &p->text.len);
	case PT_LOCATION:
		p->has_location = true;
		return tn_mp_read_str(r, TN_ALERT_LOCATION_MAX, &p->location.p, &p->location.len);
	case PT_LATLON:
		if ((rc = tn_mp_read_array_n(r, 2)) ||
		    (rc = tn_mp_read_int(r, -TN_LAT_E7_MAX, TN_LAT_E7_MAX, &lat)) ||
		    (rc = tn_mp_read_int(r, -TN_LON_E7_MAX, TN_LON_E7_MAX, &lon)))
			return rc;
		p->has_latlon = true;
		p->lat_e7 = (int32_t)lat;
		p->lon_e7 = (int32_t)lon;
		return TN_OK;
	}
	return TN_ERR_DEC_UNKNOWNKEY;
}

static tn_err pt_fields(tn_mp_rd *r, tn_alert_pt *p)
{
	uint32_t n;
	uint64_t key, last = 0;
	unsigned seen = 0;
	tn_err rc = tn_mp_read_map(r, &n);
	if (rc)
		return rc;
	/* Keys strictly ascending makes the encoding unique and rules out
	 * duplicates in one comparison. */
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = tn_mp_read_uint(r, UINT64_MAX, &key)))
			return rc;
		if (i > 0 && key <= last)
			return TN_ERR_DEC_KEYORDER;
		last = key;
		if ((rc = pt_value(r, key, p)))
			return rc;
		seen |= 1u << key; /* key <= PT_LATLON: pt_value knew it */
	}
	if (!(seen & (1u << PT_SEVERITY)) || !(seen & (1u << PT_VIOLATION)))
		return TN_ERR_DEC_MISSINGKEY;
	return tn_codec_close(r);
}

tn_err tn_alert_pt_decode(tn_alert_pt *p, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	memset(p, 0, sizeof *p);
	if (len > TN_ALERT_PLAINTEXT_MAX)
		return TN_ERR_DEC_TOOBIG;
	tn_mp_rd_init(&r, in, len);
	tn_err rc = pt_fields(&r, p);
	if (rc)
		memset(p, 0, sizeof *p);
	return rc;
}

/* ---- receipt ----------------------------------------------------------- */

enum { RECEIPT_FIELDS = 6 };

static void receipt_put_signed(tn_mp_wr *w, const void *obj)
{
	const tn_receipt *c = obj;
	tn_mp_put_array(w, RECEIPT_FIELDS);
	tn_mp_put_uint(w, TN_RECORD_VERSION);
	tn_mp_put_bin(w, c->network_id, sizeof c->network_id);
	tn_mp_put_bin(w, c->alert_id, sizeof c->alert_id);
	tn_mp_put_bin(w, c->receiver, sizeof c->receiver);
	tn_mp_put_uint(w, c->stored_ms);
}

static void receipt_put(tn_mp_wr *w, const void *obj)
{
	const tn_receipt *c = obj;
	receipt_put_signed(w, c);
	tn_mp_put_bin(w, c->signature, sizeof c->signature);
}

tn_ssize tn_receipt_encode_signed(const tn_receipt *c, uint8_t *out, size_t cap)
{
	return tn_codec_emit(receipt_put_signed, c, TN_RECEIPT_MAX, out, cap);
}

tn_ssize tn_receipt_encode(const tn_receipt *c, uint8_t *out, size_t cap)
{
	return tn_codec_emit(receipt_put, c, TN_RECEIPT_MAX, out, cap);
}

static tn_err receipt_fields(tn_mp_rd *r, tn_receipt *c)
{
	tn_err rc;
	if ((rc = tn_codec_open(r, RECEIPT_FIELDS)) ||
	    (rc = tn_mp_read_bin_fixed(r, c->network_id, sizeof c->network_id)) ||
	    (rc = tn_mp_read_bin_fixed(r, c->alert_id, sizeof c->alert_id)) ||
	    (rc = tn_mp_read_bin_fixed(r, c->receiver, sizeof c->receiver)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &c->stored_ms)))
		return rc;
	c->signed_part.p = r->buf;
	c->signed_part.len = r->off;
	if ((rc = tn_mp_read_bin_fixed(r, c->signature, sizeof c->signature)))
		return rc;
	return tn_codec_close(r);
}

tn_err tn_receipt_decode(tn_receipt *c, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	memset(c, 0, sizeof *c);
	tn_mp_rd_init(&r, in, len);
	tn_err rc = receipt_fields(&r, c);
	if (rc)
		memset(c, 0, sizeof *c);
	return rc;
}

/* ---- receipts-wanted note ------------------------------------------------ */

enum { RWANT_FIELDS = 6 };

static void rwant_put_signed(tn_mp_wr *w, const void *obj)
{
	const tn_rwant *c = obj;
	tn_mp_put_array(w, RWANT_FIELDS);
	tn_mp_put_uint(w, TN_RECORD_VERSION);
	tn_mp_put_bin(w, c->network_id, sizeof c->network_id);
	tn_mp_put_bin(w, c->alert_id, sizeof c->alert_id);
	tn_mp_put_uint(w, c->issued_ms);
	tn_mp_put_bin(w, c->missing.p, c->missing.len);
}

static void rwant_put(tn_mp_wr *w, const void *obj)
{
	const tn_rwant *c = obj;
	rwant_put_signed(w, c);
	tn_mp_put_bin(w, c->signature, sizeof c->signature);
}

static bool rwant_missing_ok(size_t len)
{
	return len >= TN_RWANT_ID && len <= (size_t)TN_RWANT_IDS_MAX * TN_RWANT_ID &&
	       len % TN_RWANT_ID == 0;
}

tn_ssize tn_rwant_encode_signed(const tn_rwant *c, uint8_t *out, size_t cap)
{
	if (!c || !c->missing.p || !rwant_missing_ok(c->missing.len))
		return TN_ERR_INVAL;
	return tn_codec_emit(rwant_put_signed, c, TN_RWANT_MAX, out, cap);
}

tn_ssize tn_rwant_encode(const tn_rwant *c, uint8_t *out, size_t cap)
{
	if (!c || !c->missing.p || !rwant_missing_ok(c->missing.len))
		return TN_ERR_INVAL;
	return tn_codec_emit(rwant_put, c, TN_RWANT_MAX, out, cap);
}

static tn_err rwant_fields(tn_mp_rd *r, tn_rwant *c)
{
	tn_err rc;
	if ((rc = tn_codec_open(r, RWANT_FIELDS)) ||
	    (rc = tn_mp_read_bin_fixed(r, c->network_id, sizeof c->network_id)) ||
	    (rc = tn_mp_read_bin_fixed(r, c->alert_id, sizeof c->alert_id)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &c->issued_ms)) ||
	    (rc = tn_mp_read_bin(r, TN_RWANT_ID, (size_t)TN_RWANT_IDS_MAX * TN_RWANT_ID,
	                         &c->missing.p, &c->missing.len)))
		return rc;
	if (c->missing.len % TN_RWANT_ID)
		return TN_ERR_DEC_ARRAYLEN;
	c->signed_part.p = r->buf;
	c->signed_part.len = r->off;
	if ((rc = tn_mp_read_bin_fixed(r, c->signature, sizeof c->signature)))
		return rc;
	return tn_codec_close(r);
}

tn_err tn_rwant_decode(tn_rwant *c, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	memset(c, 0, sizeof *c);
	if (len > TN_RWANT_MAX)
		return TN_ERR_DEC_TOOBIG;
	tn_mp_rd_init(&r, in, len);
	tn_err rc = rwant_fields(&r, c);
	if (rc)
		memset(c, 0, sizeof *c);
	return rc;
}

/* ---- digest ------------------------------------------------------------ */

enum { DIGEST_FIELDS = 6 };

/* [from, to, from, to, ...]: 1..TN_DIGEST_RANGES_MAX ranges, 1 <= from <=
 * to, each range starting at least two past the previous one's end (no
 * overlap, no adjacency: one encoding per set of seqs). */
static tn_err digest_ranges(tn_mp_rd *r, tn_digest_entry *e)
{
	uint32_t n;
	tn_err rc = tn_mp_read_array(r, &n);
	if (rc)
		return rc;
	if (n == 0 || n % 2)
		return TN_ERR_DEC_ARRAYLEN;
	if (n > 2 * TN_DIGEST_RANGES_MAX)
		return TN_ERR_DEC_TOOBIG;
	e->nranges = n / 2;
	for (size_t i = 0; i < e->nranges; i++) {
		tn_seq_range *g = &e->ranges[i];
		if ((rc = tn_mp_read_uint(r, UINT64_MAX, &g->from)) ||
		    (rc = tn_mp_read_uint(r, UINT64_MAX, &g->to)))
			return rc;
		if (g->from == 0 || g->to < g->from)
			return TN_ERR_DEC_RANGE;
		if (i && (e->ranges[i - 1].to == UINT64_MAX || g->from <= e->ranges[i - 1].to + 1))
			return TN_ERR_DEC_KEYORDER;
	}
	return TN_OK;
}

/* [author bin32, ranges]; authors strictly ascending (bytewise), so a digest
 * has one encoding and no author twice. */
static tn_err digest_elem(tn_mp_rd *r, void *out, const void *prev)
{
	tn_digest_entry *e = out;
	const tn_digest_entry *p = prev;
	tn_err rc;
	memset(e, 0, sizeof *e);
	if ((rc = tn_mp_read_array_n(r, 2)) ||
	    (rc = tn_mp_read_bin_fixed(r, e->author, sizeof e->author)) ||
	    (rc = digest_ranges(r, e)))
		return rc;
	if (p && memcmp(p->author, e->author, sizeof e->author) >= 0)
		return TN_ERR_DEC_KEYORDER;
	return TN_OK;
}

tn_err tn_digest_next(tn_iter *it, tn_digest_entry *e)
{
	memset(e, 0, sizeof *e);
	return tn_codec_iter_next(it, digest_elem, e);
}

static bool ranges_valid(const tn_digest_entry *e)
{
	if (e->nranges == 0 || e->nranges > TN_DIGEST_RANGES_MAX)
		return false;
	for (size_t i = 0; i < e->nranges; i++) {
		const tn_seq_range *g = &e->ranges[i];
		if (g->from == 0 || g->to < g->from)
			return false;
		if (i && (e->ranges[i - 1].to == UINT64_MAX || g->from <= e->ranges[i - 1].to + 1))
			return false;
	}
	return true;
}

static bool digest_valid(const tn_digest *d)
{
	if (d->count > TN_ROSTER_MAX || (d->count && !d->entries))
		return false;
	if (d->parts == 0 || d->parts > TN_DIGEST_PARTS_MAX || d->part >= d->parts)
		return false;
	for (size_t i = 0; i < d->count; i++) {
		if (!ranges_valid(&d->entries[i]))
			return false;
		if (i && memcmp(d->entries[i - 1].author, d->entries[i].author, TN_PUBKEY) >= 0)
			return false;
	}
	return true;
}

static void digest_put(tn_mp_wr *w, const void *obj)
{
	const tn_digest *d = obj;
	tn_mp_put_array(w, DIGEST_FIELDS);
	tn_mp_put_uint(w, TN_RECORD_VERSION);
	tn_mp_put_bin(w, d->network_id, sizeof d->network_id);
	tn_mp_put_bin(w, d->roster_digest, sizeof d->roster_digest);
	tn_mp_put_uint(w, d->part);
	tn_mp_put_uint(w, d->parts);
	tn_mp_put_array(w, d->count);
	for (size_t i = 0; i < d->count; i++) {
		const tn_digest_entry *e = &d->entries[i];
		tn_mp_put_array(w, 2);
		tn_mp_put_bin(w, e->author, TN_PUBKEY);
		tn_mp_put_array(w, 2 * e->nranges);
		for (size_t j = 0; j < e->nranges; j++) {
			tn_mp_put_uint(w, e->ranges[j].from);
			tn_mp_put_uint(w, e->ranges[j].to);
		}
	}
}

tn_ssize tn_digest_encode(const tn_digest *d, uint8_t *out, size_t cap)
{
	if (!digest_valid(d))
		return TN_ERR_INVAL;
	return tn_codec_emit(digest_put, d, TN_DIGEST_MAX, out, cap);
}

static tn_err digest_fields(tn_mp_rd *r, tn_digest *d)
{
	uint64_t part, parts;
	tn_err rc;
	if ((rc = tn_codec_open(r, DIGEST_FIELDS)) ||
	    (rc = tn_mp_read_bin_fixed(r, d->network_id, sizeof d->network_id)) ||
	    (rc = tn_mp_read_bin_fixed(r, d->roster_digest, sizeof d->roster_digest)) ||
	    (rc = tn_mp_read_uint(r, TN_DIGEST_PARTS_MAX - 1, &part)) ||
	    (rc = tn_mp_read_uint(r, TN_DIGEST_PARTS_MAX, &parts)))
		return rc;
	if (parts == 0 || part >= parts)
		return TN_ERR_DEC_RANGE;
	d->part = (uint16_t)part;
	d->parts = (uint16_t)parts;
	if ((rc = tn_codec_list(r, 0, TN_ROSTER_MAX, digest_elem, sizeof(tn_digest_entry),
	                        &d->list)))
		return rc;
	d->count = d->list.count;
	return tn_codec_close(r);
}

tn_err tn_digest_decode(tn_digest *d, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	memset(d, 0, sizeof *d);
	if (len > TN_DIGEST_MAX)
		return TN_ERR_DEC_TOOBIG;
	tn_mp_rd_init(&r, in, len);
	tn_err rc = digest_fields(&r, d);
	if (rc)
		memset(d, 0, sizeof *d);
	return rc;
}
