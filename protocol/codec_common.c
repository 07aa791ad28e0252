/* Record framing shared by every codec_*.c: version header, trailing bytes,
 * bounded lists and their iterators. */
#include <string.h>

#include "codec_priv.h"

tn_err tn_codec_open(tn_mp_rd *r, uint32_t n)
{
	uint32_t got;
	uint64_t version;
	tn_err rc = tn_mp_read_array(r, &got);
	if (rc)
		return rc;
	if (got == 0)
		return TN_ERR_DEC_ARRAYLEN;
	if ((rc = tn_mp_read_uint(r, UINT64_MAX, &version)))
		return rc;
	if (version != TN_RECORD_VERSION)
		return TN_ERR_DEC_VERSION;
	return got == n ? TN_OK : TN_ERR_DEC_ARRAYLEN;
}

tn_err tn_codec_close(const tn_mp_rd *r)
{
	return r->off == r->len ? TN_OK : TN_ERR_DEC_TRAILING;
}

/* Scratch for one element of any list, so elem() can compare against the
 * previous one (ordering rules) without the caller passing storage. */
typedef union elem_buf {
	tn_digest_entry digest;
	tn_rekey_entry rekey;
	tn_want want;
	tn_view view;
	tn_link_receipt receipt;
} elem_buf;

tn_err tn_codec_list(tn_mp_rd *r, size_t min, size_t max, tn_elem_fn elem, size_t elem_size,
                     tn_list *l)
{
	elem_buf cur, prev;
	uint32_t n;
	memset(l, 0, sizeof *l);
	if (elem_size > sizeof cur)
		return TN_ERR_INTERNAL;
	tn_err rc = tn_mp_read_array(r, &n);
	if (rc)
		return rc;
	if (n < min)
		return TN_ERR_DEC_ARRAYLEN;
	if (n > max)
		return TN_ERR_DEC_TOOBIG;
	size_t start = r->off;
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = elem(r, &cur, i ? &prev : NULL)))
			return rc;
		memcpy(&prev, &cur, elem_size);
	}
	/* An empty list still points into the input (never NULL when a list
	 * was read), so iterating it is uniform. */
	l->p = r->buf + start;
	l->len = r->off - start;
	l->count = n;
	return TN_OK;
}

void tn_iter_init(tn_iter *it, const tn_list *l)
{
	it->p = l->p;
	it->len = l->len;
	it->off = 0;
	it->left = l->count;
}

tn_err tn_codec_iter_next(tn_iter *it, tn_elem_fn elem, void *out)
{
	if (it->left == 0)
		return TN_ERR_NOTFOUND;
	tn_mp_rd r;
	tn_mp_rd_init(&r, it->p, it->len);
	r.off = it->off;
	tn_err rc = elem(&r, out, NULL);
	if (rc)
		return rc;
	it->off = r.off;
	it->left--;
	return TN_OK;
}

bool tn_codec_text_ok(const tn_view *v, size_t max)
{
	if (v->len > max || (v->len && !v->p))
		return false;
	return tn_mp_utf8_valid(v->p, v->len);
}

tn_ssize tn_codec_emit(tn_put_fn put, const void *obj, size_t max, uint8_t *out, size_t cap)
{
	tn_mp_wr w;
	tn_mp_wr_count(&w);
	put(&w, obj);
	if (w.len > max)
		return TN_ERR_INVAL;
	if (w.len > cap || !out)
		return TN_ERR_NOBUF;
	tn_mp_wr_init(&w, out, cap);
	put(&w, obj);
	return tn_mp_wr_end(&w);
}
