/* Handshake payloads and link messages (DESIGN §4, §7; docs/wire.md). */
#include <string.h>

#include "codec_priv.h"

/* ---- handshake payloads ------------------------------------------------ */

static void put_hs1(tn_mp_wr *w, const void *obj)
{
	const tn_hs1_payload *m = obj;
	tn_mp_put_array(w, 5);
	tn_mp_put_uint(w, TN_RECORD_VERSION);
	tn_mp_put_uint(w, m->timestamp_ms);
	tn_mp_put_bin(w, m->responder_hash, sizeof m->responder_hash);
	tn_mp_put_bin(w, m->identity, sizeof m->identity);
	tn_mp_put_bin(w, m->sig, sizeof m->sig);
}

tn_ssize tn_hs1_encode(const tn_hs1_payload *m, uint8_t *out, size_t cap)
{
	return tn_codec_emit(put_hs1, m, SIZE_MAX, out, cap);
}

tn_err tn_hs1_decode(tn_hs1_payload *m, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	tn_err rc;
	memset(m, 0, sizeof *m);
	tn_mp_rd_init(&r, in, len);
	if ((rc = tn_codec_open(&r, 5)) ||
	    (rc = tn_mp_read_uint(&r, UINT64_MAX, &m->timestamp_ms)) ||
	    (rc = tn_mp_read_bin_fixed(&r, m->responder_hash, sizeof m->responder_hash)) ||
	    (rc = tn_mp_read_bin_fixed(&r, m->identity, sizeof m->identity)) ||
	    (rc = tn_mp_read_bin_fixed(&r, m->sig, sizeof m->sig)) || (rc = tn_codec_close(&r))) {
		memset(m, 0, sizeof *m);
		return rc;
	}
	return TN_OK;
}

static void put_hs23(tn_mp_wr *w, const void *obj)
{
	(void)obj;
	tn_mp_put_array(w, 1);
	tn_mp_put_uint(w, TN_RECORD_VERSION);
}

tn_ssize tn_hs23_encode(uint8_t *out, size_t cap)
{
	return tn_codec_emit(put_hs23, NULL, SIZE_MAX, out, cap);
}

tn_err tn_hs23_decode(const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	tn_err rc;
	tn_mp_rd_init(&r, in, len);
	if ((rc = tn_codec_open(&r, 1)))
		return rc;
	return tn_codec_close(&r);
}

/* ---- link messages ----------------------------------------------------- */

/* [author bin32, from_seq, to_seq] with 1 <= from_seq <= to_seq. */
static tn_err want_elem(tn_mp_rd *r, void *out, const void *prev)
{
	tn_want *w = out;
	tn_err rc;
	(void)prev;
	memset(w, 0, sizeof *w);
	if ((rc = tn_mp_read_array_n(r, 3)) ||
	    (rc = tn_mp_read_bin_fixed(r, w->author, sizeof w->author)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &w->from_seq)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &w->to_seq)))
		return rc;
	if (w->from_seq == 0 || w->to_seq < w->from_seq)
		return TN_ERR_DEC_RANGE;
	return TN_OK;
}

/* [hops u8 (<= TN_RECEIPT_HOPS_MAX), receipt bin]. */
static tn_err receipt_elem(tn_mp_rd *r, void *out, const void *prev)
{
	tn_link_receipt *c = out;
	uint64_t hops;
	tn_err rc;
	(void)prev;
	memset(c, 0, sizeof *c);
	if ((rc = tn_mp_read_array_n(r, 2)) ||
	    (rc = tn_mp_read_uint(r, TN_RECEIPT_HOPS_MAX, &hops)))
		return rc;
	c->hops = (uint8_t)hops;
	return tn_mp_read_bin(r, 1, TN_RECEIPT_MAX, &c->v.p, &c->v.len);
}

tn_err tn_link_receipt_next(tn_iter *it, tn_view *receipt, uint8_t *hops)
{
	tn_link_receipt c;
	memset(receipt, 0, sizeof *receipt);
	if (hops)
		*hops = 0;
	tn_err rc = tn_codec_iter_next(it, receipt_elem, &c);
	if (rc == TN_OK) {
		*receipt = c.v;
		if (hops)
			*hops = c.hops;
	}
	return rc;
}

/* [issuer bin32, iseq >= 1], issuers strictly ascending. */
static tn_err head_elem(tn_mp_rd *r, void *out, const void *prev)
{
	tn_roster_head *h = out;
	const tn_roster_head *p = prev;
	tn_err rc;
	memset(h, 0, sizeof *h);
	if ((rc = tn_mp_read_array_n(r, 2)) ||
	    (rc = tn_mp_read_bin_fixed(r, h->issuer, sizeof h->issuer)) ||
	    (rc = tn_mp_read_uint(r, UINT64_MAX, &h->iseq)))
		return rc;
	if (h->iseq == 0)
		return TN_ERR_DEC_RANGE;
	if (p && memcmp(p->issuer, h->issuer, sizeof h->issuer) >= 0)
		return TN_ERR_DEC_KEYORDER;
	return TN_OK;
}

tn_err tn_link_head_next(tn_iter *it, tn_roster_head *h)
{
	memset(h, 0, sizeof *h);
	return tn_codec_iter_next(it, head_elem, h);
}

tn_err tn_link_want_next(tn_iter *it, tn_want *w)
{
	memset(w, 0, sizeof *w);
	return tn_codec_iter_next(it, want_elem, w);
}

static size_t record_max(uint8_t type)
{
	switch (type) {
	case TN_LINK_ALERT: return TN_ALERT_ENVELOPE_MAX;
	case TN_LINK_DIGEST: return TN_DIGEST_MAX;
	case TN_LINK_ROSTER: return TN_ROSTER_RECORD_MAX;
	case TN_LINK_RECEIPTS_WANTED: return TN_RWANT_MAX;
	}
	return 0;
}

static bool link_valid(const tn_link_msg *m)
{
	switch (m->type) {
	case TN_LINK_PING:
	case TN_LINK_PONG:
	case TN_LINK_CLOSE:
	case TN_LINK_HAVE:
	case TN_LINK_DIALBACK:
	case TN_LINK_PRUNE:
	case TN_LINK_REKEY: return true;
	case TN_LINK_IHAVE:
	case TN_LINK_GRAFT:
		return m->count >= 1 && m->count <= TN_IHAVE_PER_MSG && m->ids.p &&
		       m->ids.len == m->count * TN_ALERT_ID;
	case TN_LINK_DIALBACK_RESULT: return m->dialback_result <= TN_DIALBACK_RESULT_MAX;
	case TN_LINK_ALERT:
	case TN_LINK_DIGEST:
	case TN_LINK_ROSTER:
	case TN_LINK_RECEIPTS_WANTED:
		return m->record.len >= 1 && m->record.p && m->record.len <= record_max(m->type);
	case TN_LINK_RECEIPTS:
		if (m->count == 0 || m->count > TN_RECEIPTS_PER_MSG || !m->receipts)
			return false;
		for (size_t i = 0; i < m->count; i++)
			if (m->receipts[i].len == 0 || m->receipts[i].len > TN_RECEIPT_MAX ||
			    !m->receipts[i].p ||
			    (m->receipt_hops && m->receipt_hops[i] > TN_RECEIPT_HOPS_MAX))
				return false;
		return true;
	case TN_LINK_WANT:
		if (m->count == 0 || m->count > TN_WANT_PER_MSG || !m->wants)
			return false;
		for (size_t i = 0; i < m->count; i++)
			if (m->wants[i].from_seq == 0 || m->wants[i].to_seq < m->wants[i].from_seq)
				return false;
		return true;
	case TN_LINK_JOIN: return tn_codec_text_ok(&m->join.name, TN_NAME_MAX);
	case TN_LINK_ROSTER_HEADS:
		if (m->count > TN_HEADS_PER_MSG || (m->count && !m->heads))
			return false;
		for (size_t i = 0; i < m->count; i++)
			if (m->heads[i].iseq == 0 ||
			    (i && memcmp(m->heads[i - 1].issuer, m->heads[i].issuer, TN_PUBKEY) >= 0))
				return false;
		return true;
	}
	return false;
}

/* REKEY and PRUNE are the messages without a body: [type]. */
static bool bodyless(uint64_t type)
{
	return type == TN_LINK_REKEY || type == TN_LINK_PRUNE;
}

static void put_link(tn_mp_wr *w, const void *obj)
{
	const tn_link_msg *m = obj;
	tn_mp_put_array(w, bodyless(m->type) ? 1 : 2);
	tn_mp_put_uint(w, m->type);
	switch (m->type) {
	case TN_LINK_REKEY:
	case TN_LINK_PRUNE: break;
	case TN_LINK_IHAVE:
	case TN_LINK_GRAFT: tn_mp_put_bin(w, m->ids.p, m->ids.len); break;
	case TN_LINK_PING:
	case TN_LINK_PONG:
	case TN_LINK_DIALBACK: tn_mp_put_uint(w, m->token); break;
	case TN_LINK_DIALBACK_RESULT:
		tn_mp_put_array(w, 2);
		tn_mp_put_uint(w, m->token);
		tn_mp_put_uint(w, m->dialback_result);
		break;
	case TN_LINK_CLOSE: tn_mp_put_uint(w, m->reason); break;
	case TN_LINK_ALERT:
	case TN_LINK_DIGEST:
	case TN_LINK_ROSTER:
	case TN_LINK_RECEIPTS_WANTED: tn_mp_put_bin(w, m->record.p, m->record.len); break;
	case TN_LINK_RECEIPTS:
		tn_mp_put_array(w, m->count);
		for (size_t i = 0; i < m->count; i++) {
			tn_mp_put_array(w, 2);
			tn_mp_put_uint(w, m->receipt_hops ? m->receipt_hops[i] : 0);
			tn_mp_put_bin(w, m->receipts[i].p, m->receipts[i].len);
		}
		break;
	case TN_LINK_WANT:
		tn_mp_put_array(w, m->count);
		for (size_t i = 0; i < m->count; i++) {
			tn_mp_put_array(w, 3);
			tn_mp_put_bin(w, m->wants[i].author, sizeof m->wants[i].author);
			tn_mp_put_uint(w, m->wants[i].from_seq);
			tn_mp_put_uint(w, m->wants[i].to_seq);
		}
		break;
	case TN_LINK_HAVE: tn_mp_put_bin(w, m->alert_id, sizeof m->alert_id); break;
	case TN_LINK_JOIN:
		tn_mp_put_array(w, 4);
		tn_mp_put_bin(w, m->join.identity, sizeof m->join.identity);
		tn_mp_put_bin(w, m->join.link, sizeof m->join.link);
		tn_mp_put_str(w, m->join.name.p, m->join.name.len);
		tn_mp_put_bin(w, m->join.sig, sizeof m->join.sig);
		break;
	case TN_LINK_ROSTER_HEADS:
		tn_mp_put_array(w, m->count);
		for (size_t i = 0; i < m->count; i++) {
			tn_mp_put_array(w, 2);
			tn_mp_put_bin(w, m->heads[i].issuer, sizeof m->heads[i].issuer);
			tn_mp_put_uint(w, m->heads[i].iseq);
		}
		break;
	}
}

tn_ssize tn_link_encode(const tn_link_msg *m, uint8_t *out, size_t cap)
{
	if (!link_valid(m))
		return TN_ERR_INVAL;
	/* A message that cannot travel in one Noise frame is the caller's bug
	 * (e.g. a digest near TN_DIGEST_MAX): refuse it here, not at the peer. */
	return tn_codec_emit(put_link, m, TN_LINK_PLAINTEXT_MAX, out, cap);
}

static tn_err link_body(tn_mp_rd *r, tn_link_msg *m)
{
	uint64_t v;
	tn_err rc;
	switch (m->type) {
	case TN_LINK_PING:
	case TN_LINK_PONG:
	case TN_LINK_DIALBACK: return tn_mp_read_uint(r, UINT64_MAX, &m->token);
	case TN_LINK_DIALBACK_RESULT:
		if ((rc = tn_mp_read_array_n(r, 2)) ||
		    (rc = tn_mp_read_uint(r, UINT64_MAX, &m->token)) ||
		    (rc = tn_mp_read_uint(r, TN_DIALBACK_RESULT_MAX, &v)))
			return rc;
		m->dialback_result = (uint8_t)v;
		return TN_OK;
	case TN_LINK_CLOSE:
		if ((rc = tn_mp_read_uint(r, UINT8_MAX, &v)))
			return rc;
		m->reason = (uint8_t)v;
		return TN_OK;
	case TN_LINK_ALERT:
	case TN_LINK_DIGEST:
	case TN_LINK_ROSTER:
	case TN_LINK_RECEIPTS_WANTED:
		return tn_mp_read_bin(r, 1, record_max(m->type), &m->record.p, &m->record.len);
	case TN_LINK_RECEIPTS:
		if ((rc = tn_codec_list(r, 1, TN_RECEIPTS_PER_MSG, receipt_elem, sizeof(tn_link_receipt),
		                        &m->list)))
			return rc;
		m->count = m->list.count;
		return TN_OK;
	case TN_LINK_WANT:
		if ((rc = tn_codec_list(r, 1, TN_WANT_PER_MSG, want_elem, sizeof(tn_want),
		                        &m->list)))
			return rc;
		m->count = m->list.count;
		return TN_OK;
	case TN_LINK_HAVE: return tn_mp_read_bin_fixed(r, m->alert_id, sizeof m->alert_id);
	case TN_LINK_REKEY:
	case TN_LINK_PRUNE: return TN_OK;
	case TN_LINK_IHAVE:
	case TN_LINK_GRAFT:
		if ((rc = tn_mp_read_bin(r, TN_ALERT_ID, (size_t)TN_IHAVE_PER_MSG * TN_ALERT_ID,
		                         &m->ids.p, &m->ids.len)))
			return rc;
		if (m->ids.len % TN_ALERT_ID)
			return TN_ERR_DEC_ARRAYLEN;
		m->count = m->ids.len / TN_ALERT_ID;
		return TN_OK;
	case TN_LINK_JOIN:
		if ((rc = tn_mp_read_array_n(r, 4)) ||
		    (rc = tn_mp_read_bin_fixed(r, m->join.identity, sizeof m->join.identity)) ||
		    (rc = tn_mp_read_bin_fixed(r, m->join.link, sizeof m->join.link)) ||
		    (rc = tn_mp_read_str(r, TN_NAME_MAX, &m->join.name.p, &m->join.name.len)) ||
		    (rc = tn_mp_read_bin_fixed(r, m->join.sig, sizeof m->join.sig)))
			return rc;
		return TN_OK;
	case TN_LINK_ROSTER_HEADS:
		if ((rc = tn_codec_list(r, 0, TN_HEADS_PER_MSG, head_elem, sizeof(tn_roster_head),
		                        &m->list)))
			return rc;
		m->count = m->list.count;
		return TN_OK;
	}
	return TN_ERR_DEC_RECTYPE;
}

/* A type newer than this version (docs/wire.md §4 "Unknown types"): in the
 * ignorable range, [type] or [type, body] with a well-formed body is
 * IGNORABLE. The body is walked by the strict reader (canonical heads,
 * counts bounded by the bytes left, depth under the outer array counted)
 * and not kept. Critical types are RECTYPE, as every unknown type was. */
static tn_err unknown_type(tn_mp_rd *r, uint64_t type, uint32_t n)
{
	tn_err rc;
	if (type > TN_LINK_TYPE_IGNORABLE_MAX)
		return TN_ERR_DEC_RECTYPE;
	if (n > 2)
		return TN_ERR_DEC_ARRAYLEN;
	if ((n == 2 && (rc = tn_mp_skip(r, 1))) || (rc = tn_codec_close(r)))
		return rc;
	return TN_ERR_DEC_IGNORABLE;
}

tn_err tn_link_decode(tn_link_msg *m, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	uint64_t type;
	tn_err rc;
	memset(m, 0, sizeof *m);
	if (len > TN_LINK_PLAINTEXT_MAX)
		return TN_ERR_DEC_TOOBIG;
	tn_mp_rd_init(&r, in, len);
	/* [type, body]: no version field; the link's version was agreed in
	 * the handshake payloads. The type is checked before the length so a
	 * newer peer's unknown message is judged by the unknown-type rule. */
	uint32_t n;
	if ((rc = tn_mp_read_array(&r, &n)))
		goto fail;
	if (n == 0) {
		rc = TN_ERR_DEC_ARRAYLEN;
		goto fail;
	}
	if ((rc = tn_mp_read_uint(&r, UINT64_MAX, &type)))
		goto fail;
	if (type > TN_LINK_TYPE_MAX) {
		if ((rc = unknown_type(&r, type, n)) != TN_ERR_DEC_IGNORABLE)
			goto fail;
		m->type = (uint8_t)type;
		return rc;
	}
	/* REKEY and PRUNE have no body: [9], [17]. */
	if (n != (bodyless(type) ? 1u : 2u)) {
		rc = TN_ERR_DEC_ARRAYLEN;
		goto fail;
	}
	m->type = (uint8_t)type;
	if ((rc = link_body(&r, m)) || (rc = tn_codec_close(&r)))
		goto fail;
	return TN_OK;
fail:
	memset(m, 0, sizeof *m);
	return rc;
}
