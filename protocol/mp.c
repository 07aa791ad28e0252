/* Bounded, zero-allocation canonical msgpack reader and a thin wrapper over
 * msgpack-c's packer. See mp.h for the accepted forms and why. */
#include <string.h>

#include "tocsin/mp.h"
#include "tocsin/limits.h"

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Take n header bytes after the type byte. */
static tn_err take(tn_mp_rd *r, size_t n, uint64_t *v)
{
	if (tn_mp_left(r) < n)
		return TN_ERR_DEC_TRUNCATED;
	*v = be(r->buf + r->off, n);
	r->off += n;
	return TN_OK;
}

/* Width in bytes of the length/value field following a type byte, and the
 * smallest value for which msgpack-c uses this form (anything below it has
 * a shorter encoding, so is non-canonical). */
static size_t width_of(uint8_t t)
{
	switch (t) {
	case 0xc4:
	case 0xcc:
	case 0xd0:
	case 0xd9: return 1;
	case 0xc5:
	case 0xcd:
	case 0xd1:
	case 0xda:
	case 0xdc:
	case 0xde: return 2;
	case 0xc6:
	case 0xce:
	case 0xd2:
	case 0xdb:
	case 0xdd:
	case 0xdf: return 4;
	case 0xcf:
	case 0xd3: return 8;
	}
	return 0;
}

static tn_err read_uint(tn_mp_rd *r, uint8_t t, tn_mp_obj *o)
{
	static const uint64_t min[9] = {0, 0x80, 0x100, 0, 0x10000, 0, 0, 0, UINT64_C(0x100000000)};
	size_t w = width_of(t);
	uint64_t v;
	tn_err rc = take(r, w, &v);
	if (rc)
		return rc;
	if (v < min[w])
		return TN_ERR_DEC_NONCANONICAL;
	o->kind = TN_MP_UINT;
	o->u = v;
	return TN_OK;
}

static tn_err read_nint(tn_mp_rd *r, uint8_t t, tn_mp_obj *o)
{
	/* Each signed form is canonical only below the range of the next
	 * shorter one: int8 < -32, int16 < -128, int32 < -32768, int64 < -2^31. */
	static const int64_t lim[9] = {0, -32, -128, 0, -32768, 0, 0, 0, -INT64_C(2147483648)};
	size_t w = width_of(t);
	uint64_t raw;
	tn_err rc = take(r, w, &raw);
	if (rc)
		return rc;
	int64_t v;
	switch (w) {
	case 1: v = (int8_t)(uint8_t)raw; break;
	case 2: v = (int16_t)(uint16_t)raw; break;
	case 4: v = (int32_t)(uint32_t)raw; break;
	default: {
		/* Two's complement reinterpretation without implementation-
		 * defined conversion. */
		if (raw <= (uint64_t)INT64_MAX)
			v = (int64_t)raw;
		else
			v = -(int64_t)(~raw) - 1;
	}
	}
	if (v >= lim[w])
		return TN_ERR_DEC_NONCANONICAL;
	o->kind = TN_MP_NINT;
	o->i = v;
	return TN_OK;
}

static tn_err read_raw(tn_mp_rd *r, enum tn_mp_kind kind, uint64_t n, uint64_t min, tn_mp_obj *o)
{
	if (n < min)
		return TN_ERR_DEC_NONCANONICAL;
	if (n > tn_mp_left(r))
		return TN_ERR_DEC_TRUNCATED;
	o->kind = kind;
	o->p = r->buf + r->off;
	o->n = (uint32_t)n;
	r->off += (size_t)n;
	return TN_OK;
}

static tn_err read_container(tn_mp_rd *r, enum tn_mp_kind kind, uint64_t n, uint64_t min,
                             tn_mp_obj *o)
{
	if (n < min)
		return TN_ERR_DEC_NONCANONICAL;
	/* Every element is at least one byte: a count the remaining input
	 * cannot hold is a truncation, found before anyone iterates. */
	uint64_t need = kind == TN_MP_MAP ? 2 * n : n;
	if (need > tn_mp_left(r))
		return TN_ERR_DEC_TRUNCATED;
	o->kind = kind;
	o->n = (uint32_t)n;
	return TN_OK;
}

tn_err tn_mp_next(tn_mp_rd *r, tn_mp_obj *o)
{
	memset(o, 0, sizeof *o);
	if (tn_mp_left(r) < 1)
		return TN_ERR_DEC_TRUNCATED;
	uint8_t t = r->buf[r->off++];
	uint64_t n;
	tn_err rc;

	if (t <= 0x7f) {
		o->kind = TN_MP_UINT;
		o->u = t;
		return TN_OK;
	}
	if (t >= 0xe0) {
		o->kind = TN_MP_NINT;
		o->i = (int64_t)t - 256;
		return TN_OK;
	}
	if (t <= 0x8f)
		return read_container(r, TN_MP_MAP, t & 0x0fu, 0, o);
	if (t <= 0x9f)
		return read_container(r, TN_MP_ARRAY, t & 0x0fu, 0, o);
	if (t <= 0xbf)
		return read_raw(r, TN_MP_STR, t & 0x1fu, 0, o);

	switch (t) {
	case 0xc0: o->kind = TN_MP_NIL; return TN_OK;
	case 0xc2:
	case 0xc3:
		o->kind = TN_MP_BOOL;
		o->b = t == 0xc3;
		return TN_OK;
	case 0xc4:
	case 0xc5:
	case 0xc6:
		if ((rc = take(r, width_of(t), &n)))
			return rc;
		return read_raw(r, TN_MP_BIN, n, t == 0xc4 ? 0 : t == 0xc5 ? 0x100 : 0x10000, o);
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf: return read_uint(r, t, o);
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: return read_nint(r, t, o);
	case 0xd9:
	case 0xda:
	case 0xdb:
		if ((rc = take(r, width_of(t), &n)))
			return rc;
		return read_raw(r, TN_MP_STR, n, t == 0xd9 ? 32 : t == 0xda ? 0x100 : 0x10000, o);
	case 0xdc:
	case 0xdd:
		if ((rc = take(r, width_of(t), &n)))
			return rc;
		return read_container(r, TN_MP_ARRAY, n, t == 0xdc ? 16 : 0x10000, o);
	case 0xde:
	case 0xdf:
		if ((rc = take(r, width_of(t), &n)))
			return rc;
		return read_container(r, TN_MP_MAP, n, t == 0xde ? 16 : 0x10000, o);
	}
	/* 0xc1 (never used), ext 0xc7-0xc9 and 0xd4-0xd8, float 0xca-0xcb:
	 * nothing Tocsin sends. */
	return TN_ERR_DEC_RESERVED;
}

static tn_err next_kind(tn_mp_rd *r, enum tn_mp_kind kind, tn_mp_obj *o)
{
	tn_err rc = tn_mp_next(r, o);
	if (rc)
		return rc;
	return o->kind == kind ? TN_OK : TN_ERR_DEC_TYPE;
}

tn_err tn_mp_read_uint(tn_mp_rd *r, uint64_t max, uint64_t *v)
{
	tn_mp_obj o;
	*v = 0;
	tn_err rc = next_kind(r, TN_MP_UINT, &o);
	if (rc)
		return rc;
	if (o.u > max)
		return TN_ERR_DEC_RANGE;
	*v = o.u;
	return TN_OK;
}

tn_err tn_mp_read_int(tn_mp_rd *r, int64_t min, int64_t max, int64_t *v)
{
	tn_mp_obj o;
	*v = 0;
	tn_err rc = tn_mp_next(r, &o);
	if (rc)
		return rc;
	int64_t x;
	if (o.kind == TN_MP_NINT)
		x = o.i;
	else if (o.kind == TN_MP_UINT)
		x = o.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)o.u;
	else
		return TN_ERR_DEC_TYPE;
	if (x < min || x > max || (o.kind == TN_MP_UINT && o.u > (uint64_t)INT64_MAX))
		return TN_ERR_DEC_RANGE;
	*v = x;
	return TN_OK;
}

tn_err tn_mp_read_array(tn_mp_rd *r, uint32_t *n)
{
	tn_mp_obj o;
	*n = 0;
	tn_err rc = next_kind(r, TN_MP_ARRAY, &o);
	if (rc)
		return rc;
	*n = o.n;
	return TN_OK;
}

tn_err tn_mp_read_map(tn_mp_rd *r, uint32_t *n)
{
	tn_mp_obj o;
	*n = 0;
	tn_err rc = next_kind(r, TN_MP_MAP, &o);
	if (rc)
		return rc;
	*n = o.n;
	return TN_OK;
}

tn_err tn_mp_read_array_n(tn_mp_rd *r, uint32_t n)
{
	uint32_t got;
	tn_err rc = tn_mp_read_array(r, &got);
	if (rc)
		return rc;
	return got == n ? TN_OK : TN_ERR_DEC_ARRAYLEN;
}

tn_err tn_mp_read_bin_fixed(tn_mp_rd *r, uint8_t *out, size_t n)
{
	tn_mp_obj o;
	tn_err rc = next_kind(r, TN_MP_BIN, &o);
	if (rc)
		return rc;
	if (o.n != n)
		return TN_ERR_DEC_BADLEN;
	memcpy(out, o.p, n);
	return TN_OK;
}

tn_err tn_mp_read_bin(tn_mp_rd *r, size_t min, size_t max, const uint8_t **p, size_t *n)
{
	tn_mp_obj o;
	*p = NULL;
	*n = 0;
	tn_err rc = next_kind(r, TN_MP_BIN, &o);
	if (rc)
		return rc;
	if (o.n < min)
		return TN_ERR_DEC_BADLEN;
	if (o.n > max)
		return TN_ERR_DEC_TOOBIG;
	*p = o.p;
	*n = o.n;
	return TN_OK;
}

tn_err tn_mp_read_str(tn_mp_rd *r, size_t max, const uint8_t **p, size_t *n)
{
	tn_mp_obj o;
	*p = NULL;
	*n = 0;
	tn_err rc = next_kind(r, TN_MP_STR, &o);
	if (rc)
		return rc;
	if (o.n > max)
		return TN_ERR_DEC_TOOBIG;
	if (!tn_mp_utf8_valid(o.p, o.n))
		return TN_ERR_DEC_UTF8;
	*p = o.p;
	*n = o.n;
	return TN_OK;
}

tn_err tn_mp_skip(tn_mp_rd *r, unsigned depth)
{
	tn_mp_obj o;
	tn_err rc = tn_mp_next(r, &o);
	if (rc)
		return rc;
	if (o.kind != TN_MP_ARRAY && o.kind != TN_MP_MAP)
		return TN_OK;
	if (depth >= TN_MP_DEPTH_MAX)
		return TN_ERR_DEC_DEPTH;
	/* o.n <= bytes left (checked in read_container), so the loop is
	 * bounded by the input; recursion by TN_MP_DEPTH_MAX. */
	uint64_t items = o.kind == TN_MP_MAP ? 2 * (uint64_t)o.n : o.n;
	for (uint64_t k = 0; k < items; k++)
		if ((rc = tn_mp_skip(r, depth + 1)))
			return rc;
	return TN_OK;
}

bool tn_mp_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the 2nd byte */
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong below U+0800 */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates U+D800..DFFF */
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong below U+10000 */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return false; /* continuation, overlong C0/C1, F5..FF */
		}
		if (n - i <= k)
			return false; /* truncated sequence */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* --- writing ----------------------------------------------------------- */

static int wr_cb(void *data, const char *buf, size_t len)
{
	tn_mp_wr *w = data;
	if (w->counting) {
		w->len += len;
		return 0;
	}
	if (w->nobuf || len > w->cap - w->len) {
		w->nobuf = true;
		return -1;
	}
	memcpy(w->out + w->len, buf, len);
	w->len += len;
	return 0;
}

void tn_mp_wr_init(tn_mp_wr *w, uint8_t *out, size_t cap)
{
	w->out = out;
	w->cap = out ? cap : 0;
	w->len = 0;
	w->nobuf = false;
	w->counting = false;
	msgpack_packer_init(&w->pk, w, wr_cb);
}

void tn_mp_wr_count(tn_mp_wr *w)
{
	tn_mp_wr_init(w, NULL, 0);
	w->counting = true;
}

/* The packer's return value is our own callback's: the overflow is latched
 * in w->nobuf and reported once by tn_mp_wr_end. */
void tn_mp_put_nil(tn_mp_wr *w)
{
	(void)msgpack_pack_nil(&w->pk);
}

void tn_mp_put_bool(tn_mp_wr *w, bool v)
{
	(void)(v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

void tn_mp_put_uint(tn_mp_wr *w, uint64_t v)
{
	(void)msgpack_pack_uint64(&w->pk, v);
}

void tn_mp_put_int(tn_mp_wr *w, int64_t v)
{
	(void)msgpack_pack_int64(&w->pk, v);
}

void tn_mp_put_array(tn_mp_wr *w, size_t n)
{
	(void)msgpack_pack_array(&w->pk, n);
}

void tn_mp_put_map(tn_mp_wr *w, size_t n)
{
	(void)msgpack_pack_map(&w->pk, n);
}

void tn_mp_put_bin(tn_mp_wr *w, const uint8_t *p, size_t n)
{
	(void)msgpack_pack_bin(&w->pk, n);
	if (n)
		(void)msgpack_pack_bin_body(&w->pk, p, n);
}

void tn_mp_put_str(tn_mp_wr *w, const uint8_t *p, size_t n)
{
	(void)msgpack_pack_str(&w->pk, n);
	if (n)
		(void)msgpack_pack_str_body(&w->pk, p, n);
}

tn_ssize tn_mp_wr_end(const tn_mp_wr *w)
{
	return w->nobuf ? TN_ERR_NOBUF : (tn_ssize)w->len;
}
