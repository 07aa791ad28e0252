/* Decode-then-re-encode checks for every record, shared by fuzz_codec.c and
 * tests/unit/test_codec.c (test and fuzz code only: it allocates).
 *
 * Each rt_<record>(in, len) decodes; when the decode succeeds it re-encodes
 * the decoded struct and abort()s unless
 *   - the bytes are identical to the input (the encoding is canonical: the
 *     decoder accepted nothing the encoder would not produce),
 *   - encoding into len - 1 bytes gives TN_ERR_NOBUF,
 *   - for signed records, tn_X_encode_signed equals the decoded signed_part
 *     (the range a verifier checks is the range the author signed).
 * It returns the decoder's code. */
#ifndef TOCSIN_CODEC_REENCODE_H
#define TOCSIN_CODEC_REENCODE_H

#include <stdlib.h>
#include <string.h>

#include "tocsin/codec.h"

static void rt_require(int cond)
{
	if (!cond)
		abort();
}

/* Encode into exactly len bytes and len - 1 bytes; compare with in. */
#define RT_CHECK(encode, obj, in, len)                                                             \
	do {                                                                                       \
		uint8_t *buf_ = malloc((len) + 1);                                                 \
		rt_require(buf_ != NULL);                                                          \
		tn_ssize n_ = encode(obj, buf_, (len));                                            \
		rt_require(n_ == (tn_ssize)(len) && memcmp(buf_, (in), (len)) == 0);               \
		rt_require(encode(obj, buf_, (len)-1) == TN_ERR_NOBUF);                            \
		free(buf_);                                                                        \
	} while (0)

#define RT_CHECK_SIGNED(encode_signed, obj, view)                                                  \
	do {                                                                                       \
		uint8_t *buf_ = malloc((view).len + 1);                                            \
		rt_require(buf_ != NULL);                                                          \
		tn_ssize n_ = encode_signed(obj, buf_, (view).len);                                \
		rt_require(n_ == (tn_ssize)(view).len && memcmp(buf_, (view).p, (view).len) == 0); \
		free(buf_);                                                                        \
	} while (0)

static tn_err rt_hs1(const uint8_t *in, size_t len)
{
	tn_hs1_payload m;
	tn_err rc = tn_hs1_decode(&m, in, len);
	if (rc == TN_OK)
		RT_CHECK(tn_hs1_encode, &m, in, len);
	return rc;
}

static tn_ssize rt_hs23_enc(const void *unused, uint8_t *out, size_t cap)
{
	(void)unused;
	return tn_hs23_encode(out, cap);
}

static tn_err rt_hs23(const uint8_t *in, size_t len)
{
	tn_err rc = tn_hs23_decode(in, len);
	if (rc == TN_OK)
		RT_CHECK(rt_hs23_enc, NULL, in, len);
	return rc;
}

static tn_err rt_link(const uint8_t *in, size_t len)
{
	tn_link_msg m;
	tn_err rc = tn_link_decode(&m, in, len);
	if (rc == TN_ERR_DEC_IGNORABLE) {
		/* A newer peer's type: reported, never re-encoded by us. */
		uint8_t b[16];
		rt_require(m.type > TN_LINK_TYPE_MAX && m.type <= TN_LINK_TYPE_IGNORABLE_MAX &&
		           tn_link_encode(&m, b, sizeof b) == TN_ERR_INVAL);
		return rc;
	}
	if (rc != TN_OK)
		return rc;
	tn_iter it;
	size_t i = 0;
	tn_view *rs = NULL;
	uint8_t *hs = NULL;
	tn_want *ws = NULL;
	tn_roster_head *hd = NULL;
	tn_iter_init(&it, &m.list);
	if (m.type == TN_LINK_RECEIPTS) {
		rs = calloc(m.count, sizeof *rs);
		hs = calloc(m.count, sizeof *hs);
		rt_require(rs != NULL && hs != NULL);
		tn_view v;
		uint8_t h;
		while ((rc = tn_link_receipt_next(&it, &v, &h)) == TN_OK) {
			rt_require(i < m.count);
			hs[i] = h;
			rs[i++] = v;
		}
		rt_require(rc == TN_ERR_NOTFOUND && i == m.count);
		m.receipts = rs;
		m.receipt_hops = hs;
	} else if (m.type == TN_LINK_WANT) {
		ws = calloc(m.count, sizeof *ws);
		rt_require(ws != NULL);
		tn_want w;
		while ((rc = tn_link_want_next(&it, &w)) == TN_OK) {
			rt_require(i < m.count);
			ws[i++] = w;
		}
		rt_require(rc == TN_ERR_NOTFOUND && i == m.count);
		m.wants = ws;
	} else if (m.type == TN_LINK_ROSTER_HEADS && m.count) {
		hd = calloc(m.count, sizeof *hd);
		rt_require(hd != NULL);
		tn_roster_head h;
		while ((rc = tn_link_head_next(&it, &h)) == TN_OK) {
			rt_require(i < m.count);
			hd[i++] = h;
		}
		rt_require(rc == TN_ERR_NOTFOUND && i == m.count);
		m.heads = hd;
	}
	RT_CHECK(tn_link_encode, &m, in, len);
	free(rs);
	free(hs);
	free(ws);
	free(hd);
	return TN_OK;
}

static tn_err rt_env(const uint8_t *in, size_t len)
{
	tn_alert_env e;
	tn_err rc = tn_alert_env_decode(&e, in, len);
	if (rc == TN_OK) {
		RT_CHECK(tn_alert_env_encode, &e, in, len);
		RT_CHECK_SIGNED(tn_alert_env_encode_signed, &e, e.signed_part);
		rt_require(e.signed_part.p == in && e.signed_part.len == len - 2 - TN_SIG);
	}
	return rc;
}

static tn_err rt_pt(const uint8_t *in, size_t len)
{
	tn_alert_pt p;
	tn_err rc = tn_alert_pt_decode(&p, in, len);
	if (rc == TN_OK)
		RT_CHECK(tn_alert_pt_encode, &p, in, len);
	return rc;
}

static tn_err rt_receipt(const uint8_t *in, size_t len)
{
	tn_receipt c;
	tn_err rc = tn_receipt_decode(&c, in, len);
	if (rc == TN_OK) {
		RT_CHECK(tn_receipt_encode, &c, in, len);
		RT_CHECK_SIGNED(tn_receipt_encode_signed, &c, c.signed_part);
	}
	return rc;
}

static tn_err rt_rwant(const uint8_t *in, size_t len)
{
	tn_rwant w;
	tn_err rc = tn_rwant_decode(&w, in, len);
	if (rc == TN_OK) {
		RT_CHECK(tn_rwant_encode, &w, in, len);
		RT_CHECK_SIGNED(tn_rwant_encode_signed, &w, w.signed_part);
	}
	return rc;
}

static tn_err rt_digest(const uint8_t *in, size_t len)
{
	tn_digest d;
	tn_err rc = tn_digest_decode(&d, in, len);
	if (rc != TN_OK)
		return rc;
	tn_digest_entry *es = calloc(d.count ? d.count : 1, sizeof *es);
	rt_require(es != NULL);
	tn_iter it;
	size_t i = 0;
	tn_iter_init(&it, &d.list);
	tn_digest_entry e;
	while ((rc = tn_digest_next(&it, &e)) == TN_OK) {
		rt_require(i < d.count);
		es[i++] = e;
	}
	rt_require(rc == TN_ERR_NOTFOUND && i == d.count);
	d.entries = es;
	RT_CHECK(tn_digest_encode, &d, in, len);
	free(es);
	return TN_OK;
}

static tn_err rt_roster(const uint8_t *in, size_t len)
{
	tn_roster_rec r;
	tn_err rc = tn_roster_decode(&r, in, len);
	if (rc != TN_OK)
		return rc;
	tn_iter it;
	size_t i = 0;
	tn_rekey_entry *ks = NULL;
	tn_view *eps = NULL;
	if (r.type == TN_ROSTER_REKEY) {
		ks = calloc(r.body.rekey.count, sizeof *ks);
		rt_require(ks != NULL);
		tn_iter_init(&it, &r.body.rekey.list);
		tn_rekey_entry k;
		while ((rc = tn_rekey_next(&it, &k)) == TN_OK) {
			rt_require(i < r.body.rekey.count);
			ks[i++] = k;
		}
		rt_require(rc == TN_ERR_NOTFOUND && i == r.body.rekey.count);
		r.body.rekey.entries = ks;
	} else if (r.type == TN_ROSTER_ENDPOINT) {
		eps = calloc(r.body.endpoint.count, sizeof *eps);
		rt_require(eps != NULL);
		tn_iter_init(&it, &r.body.endpoint.list);
		tn_view v;
		while ((rc = tn_endpoint_next(&it, &v)) == TN_OK) {
			rt_require(i < r.body.endpoint.count);
			eps[i++] = v;
		}
		rt_require(rc == TN_ERR_NOTFOUND && i == r.body.endpoint.count);
		r.body.endpoint.endpoints = eps;
	}
	RT_CHECK(tn_roster_encode, &r, in, len);
	RT_CHECK_SIGNED(tn_roster_encode_signed, &r, r.signed_part);
	rt_require(r.signed_part.p == in && r.signed_part.len == len - 2 - TN_SIG);
	free(ks);
	free(eps);
	return TN_OK;
}

typedef struct rt_decoder {
	const char *name;
	tn_err (*rt)(const uint8_t *in, size_t len);
} rt_decoder;

static const rt_decoder rt_decoders[] = {
        {"hs1", rt_hs1},      {"hs23", rt_hs23},       {"link", rt_link},     {"envelope", rt_env},
        {"plaintext", rt_pt}, {"receipt", rt_receipt}, {"digest", rt_digest}, {"roster", rt_roster},
        {"receipts-wanted", rt_rwant},
};

#endif
