/* Helpers shared by the codec_*.c files (private). */
#ifndef TOCSIN_CODEC_PRIV_H
#define TOCSIN_CODEC_PRIV_H

#include "tocsin/mp.h"
#include "tocsin/codec.h"

/* One element of a RECEIPTS message (codec_link.c). */
typedef struct tn_link_receipt {
	tn_view v;
	uint8_t hops;
} tn_link_receipt;

/* Open a record: an array whose first element is the version. Errors:
 * DEC_TYPE (not an array), DEC_ARRAYLEN (empty, or not n elements once the
 * version is known), DEC_VERSION (not TN_RECORD_VERSION). The version is
 * checked before the length so a newer peer's longer record is reported as
 * a version mismatch. */
TN_NODISCARD tn_err tn_codec_open(tn_mp_rd *r, uint32_t n);

/* All input consumed, else DEC_TRAILING. */
TN_NODISCARD tn_err tn_codec_close(const tn_mp_rd *r);

/* Read an array of min..max elements, each checked by elem() (which sees
 * the previous element, NULL for the first, to enforce ordering), and
 * describe them as a tn_list. Fewer than min: DEC_ARRAYLEN; more than max:
 * DEC_TOOBIG. */
typedef tn_err (*tn_elem_fn)(tn_mp_rd *r, void *out, const void *prev);
TN_NODISCARD tn_err tn_codec_list(tn_mp_rd *r, size_t min, size_t max, tn_elem_fn elem,
                                  size_t elem_size, tn_list *l);

/* Re-read the next element of a list through elem() (prev is NULL). */
TN_NODISCARD tn_err tn_codec_iter_next(tn_iter *it, tn_elem_fn elem, void *out);

/* Text the decoder would accept: at most max bytes of strict UTF-8. */
bool tn_codec_text_ok(const tn_view *v, size_t max);

/* Run put() once counting, then, if the result is at most max bytes
 * (TN_ERR_INVAL otherwise: a record we would refuse to decode) and fits cap
 * (TN_ERR_NOBUF otherwise, with out untouched), once writing into out.
 * Returns the bytes written. */
typedef void (*tn_put_fn)(tn_mp_wr *w, const void *obj);
TN_NODISCARD tn_ssize tn_codec_emit(tn_put_fn put, const void *obj, size_t max, uint8_t *out,
                                    size_t cap);

#endif
