/* Strict msgpack: the one reader and writer every Tocsin byte format uses —
 * the record codec, the daemon's control socket and the client.
 *
 * Writing goes through msgpack-c's packer, so what we emit is by definition
 * msgpack-c's encoding. Reading does NOT use msgpack-c's unpacker: that one
 * allocates count * sizeof(msgpack_object) from a peer-supplied array or map
 * header before any element is present, and it accepts every non-canonical
 * form. The reader below is a cursor over a caller-owned buffer: it never
 * allocates, never reads past len, and accepts exactly the bytes msgpack-c's
 * packer produces for a value (docs/wire.md, "Canonical msgpack"):
 *
 *   uint      smallest of positive fixint, uint8/16/32/64
 *   negative  smallest of negative fixint, int8/16/32/64 (a non-negative
 *             value in the int family is non-canonical: msgpack-c packs it
 *             as a uint)
 *   str       fixstr < 32, str8 < 256, str16 < 65536, str32
 *   bin       bin8 < 256, bin16 < 65536, bin32
 *   array/map fix < 16, 16-bit < 65536, 32-bit
 *   nil, true, false
 *
 * 0xc1 (never used), float32/64 and every ext form are TN_ERR_DEC_RESERVED:
 * Tocsin records contain no floats and no ext types. */
#ifndef TOCSIN_MP_H
#define TOCSIN_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "tocsin/err.h"

/* --- reading ----------------------------------------------------------- */

typedef struct tn_mp_rd {
	const uint8_t *buf;
	size_t len;
	size_t off;
} tn_mp_rd;

enum tn_mp_kind {
	TN_MP_NIL = 1,
	TN_MP_BOOL,
	TN_MP_UINT, /* non-negative integer (fixint, uint8..64) */
	TN_MP_NINT, /* negative integer (negative fixint, int8..64) */
	TN_MP_STR,
	TN_MP_BIN,
	TN_MP_ARRAY,
	TN_MP_MAP,
};

/* One msgpack head. For str and bin the body is included (p, n view into
 * the reader's buffer); for array and map only the header is consumed and
 * n is the element (pair) count. */
typedef struct tn_mp_obj {
	enum tn_mp_kind kind;
	bool b;           /* BOOL */
	uint64_t u;       /* UINT */
	int64_t i;        /* NINT (always < 0) */
	const uint8_t *p; /* STR, BIN */
	uint32_t n;       /* STR, BIN: byte length; ARRAY: elements; MAP: pairs */
} tn_mp_obj;

static inline void tn_mp_rd_init(tn_mp_rd *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
}

static inline size_t tn_mp_left(const tn_mp_rd *r)
{
	return r->len - r->off;
}

/* Read one head in canonical form. Containers: the count is checked against
 * the bytes left (every element takes at least one byte), so no count a peer
 * sends can make a caller loop or size anything past the input.
 * Errors: DEC_TRUNCATED, DEC_RESERVED, DEC_NONCANONICAL. */
TN_NODISCARD tn_err tn_mp_next(tn_mp_rd *r, tn_mp_obj *o);

/* Typed reads: DEC_TYPE when the next object is a different (supported)
 * type, plus the errors of tn_mp_next. */
TN_NODISCARD tn_err tn_mp_read_uint(tn_mp_rd *r, uint64_t max, uint64_t *v); /* > max: DEC_RANGE */
TN_NODISCARD tn_err tn_mp_read_int(tn_mp_rd *r, int64_t min, int64_t max, int64_t *v);
TN_NODISCARD tn_err tn_mp_read_array(tn_mp_rd *r, uint32_t *n);
TN_NODISCARD tn_err tn_mp_read_map(tn_mp_rd *r, uint32_t *n);
/* Array of exactly n elements, else DEC_ARRAYLEN. */
TN_NODISCARD tn_err tn_mp_read_array_n(tn_mp_rd *r, uint32_t n);
/* Bin of exactly n bytes copied to out, else DEC_BADLEN. */
TN_NODISCARD tn_err tn_mp_read_bin_fixed(tn_mp_rd *r, uint8_t *out, size_t n);
/* Bin of min..max bytes as a view: < min DEC_BADLEN, > max DEC_TOOBIG. */
TN_NODISCARD tn_err tn_mp_read_bin(tn_mp_rd *r, size_t min, size_t max, const uint8_t **p,
                                   size_t *n);
/* Str of at most max bytes (DEC_TOOBIG) of strict UTF-8 (DEC_UTF8). */
TN_NODISCARD tn_err tn_mp_read_str(tn_mp_rd *r, size_t max, const uint8_t **p, size_t *n);

/* Skip one complete value of any supported type, checking every nested head
 * canonically. depth is the number of containers already open around it;
 * opening one beyond TN_MP_DEPTH_MAX is DEC_DEPTH. */
TN_NODISCARD tn_err tn_mp_skip(tn_mp_rd *r, unsigned depth);

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above
 * U+10FFFF, no truncated sequences. */
bool tn_mp_utf8_valid(const uint8_t *s, size_t n);

/* --- writing ----------------------------------------------------------- */

/* msgpack-c packer writing into a caller-owned fixed buffer. Once a write
 * does not fit, the writer latches the overflow and ignores further writes;
 * tn_mp_wr_end then returns TN_ERR_NOBUF. */
typedef struct tn_mp_wr {
	msgpack_packer pk;
	uint8_t *out;
	size_t cap;
	size_t len;
	bool nobuf;
	bool counting;
} tn_mp_wr;

void tn_mp_wr_init(tn_mp_wr *w, uint8_t *out, size_t cap);
/* A writer that only counts: w->len is the size the writes would take. */
void tn_mp_wr_count(tn_mp_wr *w);
void tn_mp_put_nil(tn_mp_wr *w);
void tn_mp_put_bool(tn_mp_wr *w, bool v);
void tn_mp_put_uint(tn_mp_wr *w, uint64_t v);
void tn_mp_put_int(tn_mp_wr *w, int64_t v);
void tn_mp_put_array(tn_mp_wr *w, size_t n);
void tn_mp_put_map(tn_mp_wr *w, size_t n);
void tn_mp_put_bin(tn_mp_wr *w, const uint8_t *p, size_t n);
void tn_mp_put_str(tn_mp_wr *w, const uint8_t *p, size_t n);
/* Bytes written, or TN_ERR_NOBUF. */
TN_NODISCARD tn_ssize tn_mp_wr_end(const tn_mp_wr *w);

#endif
