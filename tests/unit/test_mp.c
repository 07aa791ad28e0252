/* The private msgpack layer: our reader accepts exactly msgpack-c's packer
 * output (differential test against msgpack-c) and rejects every other
 * encoding of the same value with TN_ERR_DEC_NONCANONICAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "tocsin/mp.h"
#include "tocsin/limits.h"

/* ---- helpers ----------------------------------------------------------- */

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
	/* xorshift64*: deterministic, seeded per test. */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * UINT64_C(2685821657736338717);
}

static uint64_t below(rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

/* A random integer whose magnitude is spread over every width. */
static uint64_t rnd_uint(rng *r)
{
	unsigned bits = (unsigned)below(r, 65);
	uint64_t v = rnd(r);
	return bits == 64 ? v : v & ((UINT64_C(1) << bits) - 1);
}

static int64_t rnd_nint(rng *r)
{
	unsigned bits = (unsigned)below(r, 64); /* magnitude bits 0..63 */
	uint64_t m = bits == 0 ? 0 : rnd(r) & ((UINT64_C(1) << bits) - 1);
	/* -(m + 1): -1 .. -2^63 */
	return -(int64_t)m - 1;
}

static size_t rnd_len(rng *r)
{
	switch (below(r, 6)) {
	case 0: return (size_t)below(r, 32);
	case 1: return 30 + (size_t)below(r, 4);   /* fixstr / str8 edge */
	case 2: return 250 + (size_t)below(r, 12); /* 8 / 16-bit edge */
	case 3: return (size_t)below(r, 300);
	case 4: return 65530 + (size_t)below(r, 12); /* 16 / 32-bit edge */
	default: return (size_t)below(r, 20);
	}
}

typedef struct sbuf {
	uint8_t *p;
	size_t len, cap;
} sbuf;

static int sbuf_write(void *data, const char *buf, size_t len)
{
	sbuf *b = data;
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

static uint8_t filler[70000];

/* Pack a random value with msgpack-c's own packer (the reference). */
static void gen(rng *r, msgpack_packer *pk, unsigned depth)
{
	unsigned k = (unsigned)below(r, depth >= 4 ? 6 : 8);
	size_t n;
	switch (k) {
	case 0: msgpack_pack_nil(pk); break;
	case 1: (below(r, 2) ? msgpack_pack_true : msgpack_pack_false)(pk); break;
	case 2: msgpack_pack_uint64(pk, rnd_uint(r)); break;
	case 3:
		/* Signed API with either sign: msgpack-c packs >= 0 as uint. */
		if (below(r, 2))
			msgpack_pack_int64(pk, rnd_nint(r));
		else
			msgpack_pack_int64(pk, (int64_t)(rnd_uint(r) >> 1));
		break;
	case 4:
		n = rnd_len(r);
		msgpack_pack_str(pk, n);
		msgpack_pack_str_body(pk, filler, n);
		break;
	case 5:
		n = rnd_len(r);
		msgpack_pack_bin(pk, n);
		msgpack_pack_bin_body(pk, filler, n);
		break;
	case 6:
		n = below(r, 4) == 0 ? 14 + (size_t)below(r, 6) : (size_t)below(r, 5);
		msgpack_pack_array(pk, n);
		for (size_t i = 0; i < n; i++)
			gen(r, pk, depth + 1);
		break;
	default:
		n = below(r, 4) == 0 ? 14 + (size_t)below(r, 6) : (size_t)below(r, 4);
		msgpack_pack_map(pk, n);
		for (size_t i = 0; i < 2 * n; i++)
			gen(r, pk, depth + 1);
		break;
	}
}

/* Walk one value with our reader and write it back with our writer. */
static tn_err copy(tn_mp_rd *r, tn_mp_wr *w)
{
	tn_mp_obj o;
	tn_err rc = tn_mp_next(r, &o);
	if (rc)
		return rc;
	switch (o.kind) {
	case TN_MP_NIL: tn_mp_put_nil(w); break;
	case TN_MP_BOOL: tn_mp_put_bool(w, o.b); break;
	case TN_MP_UINT: tn_mp_put_uint(w, o.u); break;
	case TN_MP_NINT: tn_mp_put_int(w, o.i); break;
	case TN_MP_STR: tn_mp_put_str(w, o.p, o.n); break;
	case TN_MP_BIN: tn_mp_put_bin(w, o.p, o.n); break;
	case TN_MP_ARRAY:
	case TN_MP_MAP: {
		uint64_t items = o.kind == TN_MP_MAP ? 2 * (uint64_t)o.n : o.n;
		if (o.kind == TN_MP_MAP)
			tn_mp_put_map(w, o.n);
		else
			tn_mp_put_array(w, o.n);
		for (uint64_t i = 0; i < items; i++)
			if ((rc = copy(r, w)))
				return rc;
		break;
	}
	}
	return TN_OK;
}

static tn_err read_all(const uint8_t *p, size_t n)
{
	tn_mp_rd r;
	tn_mp_rd_init(&r, p, n);
	tn_err rc = tn_mp_skip(&r, 0);
	if (rc)
		return rc;
	return r.off == n ? TN_OK : TN_ERR_DEC_TRAILING;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* ---- differential: msgpack-c packer -> our reader -> our writer -------- */

static void differential_roundtrip(void **state)
{
	(void)state;
	rng r = {UINT64_C(0x70c5171)};
	for (size_t i = 0; i < sizeof filler; i++)
		filler[i] = (uint8_t)('a' + i % 26);
	for (int iter = 0; iter < 3000; iter++) {
		sbuf ref = {0};
		msgpack_packer pk;
		msgpack_packer_init(&pk, &ref, sbuf_write);
		gen(&r, &pk, 0);

		assert_int_equal(read_all(ref.p, ref.len), TN_OK);
		uint8_t *out = malloc(ref.len);
		assert_non_null(out);
		tn_mp_rd rd;
		tn_mp_wr w;
		tn_mp_rd_init(&rd, ref.p, ref.len);
		tn_mp_wr_init(&w, out, ref.len);
		assert_int_equal(copy(&rd, &w), TN_OK);
		assert_int_equal(tn_mp_wr_end(&w), (tn_ssize)ref.len);
		assert_memory_equal(out, ref.p, ref.len);
		free(out);
		free(ref.p);
	}
}

/* Every form wider than the canonical one, for one integer. */
static void check_int_alternatives(int64_t sv, uint64_t uv, bool negative)
{
	static const struct {
		uint8_t tag;
		size_t w;
		bool sig;
	} forms[] = {
	        {0xcc, 1, false}, {0xcd, 2, false}, {0xce, 4, false}, {0xcf, 8, false},
	        {0xd0, 1, true},  {0xd1, 2, true},  {0xd2, 4, true},  {0xd3, 8, true},
	};
	uint8_t canon[16];
	tn_mp_wr w;
	tn_mp_wr_init(&w, canon, sizeof canon);
	if (negative)
		tn_mp_put_int(&w, sv);
	else
		tn_mp_put_uint(&w, uv);
	tn_ssize cn = tn_mp_wr_end(&w);
	assert_true(cn > 0);
	assert_int_equal(read_all(canon, (size_t)cn), TN_OK);

	for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
		size_t bits = forms[f].w * 8;
		bool fits;
		uint64_t raw;
		if (forms[f].sig) {
			int64_t lo = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
			int64_t hi = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
			if (negative)
				fits = sv >= lo;
			else
				fits = uv <= (uint64_t)hi;
			raw = negative ? (uint64_t)sv : uv;
			(void)hi;
		} else {
			fits = !negative && (bits == 64 || uv < (UINT64_C(1) << bits));
			raw = uv;
		}
		if (!fits)
			continue;
		uint8_t alt[9];
		alt[0] = forms[f].tag;
		put_be(alt + 1, raw, forms[f].w);
		size_t an = 1 + forms[f].w;
		if (an == (size_t)cn && memcmp(alt, canon, an) == 0)
			continue; /* this form is the canonical one */
		assert_int_equal(read_all(alt, an), TN_ERR_DEC_NONCANONICAL);
		/* Also nested, where only a full-tree walk would see it. */
		uint8_t nested[11] = {0x92, 0xc0};
		memcpy(nested + 2, alt, an);
		assert_int_equal(read_all(nested, an + 2), TN_ERR_DEC_NONCANONICAL);
	}
}

static void noncanonical_integers(void **state)
{
	(void)state;
	rng r = {42};
	static const uint64_t edges[] = {
	        0,         1,         0x7f,    0x80,       0xff,
	        0x100,     0xffff,    0x10000, 0xffffffff, UINT64_C(0x100000000),
	        INT64_MAX, UINT64_MAX};
	static const int64_t nedges[] = {
	        -1,       -32, -33, -128, -129, -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
	        INT64_MIN};
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		check_int_alternatives(0, edges[i], false);
	for (size_t i = 0; i < sizeof nedges / sizeof nedges[0]; i++)
		check_int_alternatives(nedges[i], 0, true);
	for (int i = 0; i < 2000; i++) {
		check_int_alternatives(0, rnd_uint(&r), false);
		check_int_alternatives(rnd_nint(&r), 0, true);
	}
}

/* Wider headers for str/bin of length n and array/map of n elements. */
static void check_raw_alternatives(size_t n)
{
	static const struct {
		uint8_t tag;
		size_t w;
		int kind; /* 0 str, 1 bin, 2 array, 3 map */
	} forms[] = {
	        {0xd9, 1, 0}, {0xda, 2, 0}, {0xdb, 4, 0}, {0xc4, 1, 1}, {0xc5, 2, 1},
	        {0xc6, 4, 1}, {0xdc, 2, 2}, {0xdd, 4, 2}, {0xde, 2, 3}, {0xdf, 4, 3},
	};
	size_t body_cap = 2 * n + 16;
	uint8_t *canon = malloc(body_cap + 8);
	uint8_t *alt = malloc(body_cap + 8);
	assert_non_null(canon);
	assert_non_null(alt);
	for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
		int kind = forms[f].kind;
		if (forms[f].w < 4 && n >= (size_t)1 << (8 * forms[f].w))
			continue;
		/* Canonical encoding through the packer. */
		tn_mp_wr w;
		tn_mp_wr_init(&w, canon, body_cap + 8);
		size_t body = kind == 3 ? 2 * n : n;
		if (kind == 0)
			tn_mp_put_str(&w, filler, n);
		else if (kind == 1)
			tn_mp_put_bin(&w, filler, n);
		else {
			if (kind == 2)
				tn_mp_put_array(&w, n);
			else
				tn_mp_put_map(&w, n);
			for (size_t i = 0; i < body; i++)
				tn_mp_put_nil(&w);
		}
		tn_ssize cn = tn_mp_wr_end(&w);
		assert_true(cn > 0);
		assert_int_equal(read_all(canon, (size_t)cn), TN_OK);

		alt[0] = forms[f].tag;
		put_be(alt + 1, n, forms[f].w);
		size_t hn = 1 + forms[f].w;
		if (kind <= 1)
			memcpy(alt + hn, filler, n);
		else
			memset(alt + hn, 0xc0, body);
		size_t an = hn + body;
		if (an == (size_t)cn && memcmp(alt, canon, an) == 0)
			continue;
		assert_int_equal(read_all(alt, an), TN_ERR_DEC_NONCANONICAL);
	}
	free(canon);
	free(alt);
}

static void noncanonical_lengths(void **state)
{
	(void)state;
	rng r = {7};
	static const size_t edges[] = {0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536};
	for (size_t i = 0; i < sizeof filler; i++)
		filler[i] = (uint8_t)('a' + i % 26);
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		check_raw_alternatives(edges[i]);
	for (int i = 0; i < 200; i++)
		check_raw_alternatives(rnd_len(&r));
}

/* ---- single rejection reasons ------------------------------------------ */

static void reserved_c1(void **state)
{
	(void)state;
	static const uint8_t in[] = {0xc1};
	assert_int_equal(read_all(in, sizeof in), TN_ERR_DEC_RESERVED);
}

static void floats_and_ext_unsupported(void **state)
{
	(void)state;
	static const uint8_t tags[] = {0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8};
	for (size_t i = 0; i < sizeof tags; i++) {
		uint8_t in[32] = {tags[i]};
		assert_int_equal(read_all(in, sizeof in), TN_ERR_DEC_RESERVED);
	}
}

static void truncated_heads(void **state)
{
	(void)state;
	/* Each is a head whose header or body is cut short. */
	static const uint8_t cases[][4] = {
	        {0xcc}, {0xcd, 0x01}, {0xce, 0, 0}, {0xcf, 0, 0, 0},
	        {0xd0}, {0xd3, 0xff}, {0xa3, 'a'},  {0xd9, 40},
	        {0xc4}, {0xc4, 2, 0}, {0x92, 0xc0}, {0x81, 0xc0},
	};
	static const size_t lens[] = {1, 2, 3, 4, 1, 2, 2, 2, 1, 3, 2, 2};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
		assert_int_equal(read_all(cases[i], lens[i]), TN_ERR_DEC_TRUNCATED);
	assert_int_equal(read_all(NULL, 0), TN_ERR_DEC_TRUNCATED);
}

/* msgpack-c's unpacker would allocate ~96 GB for this 5-byte input; we see
 * that 2^32-1 elements cannot fit in 0 bytes. */
static void huge_count_is_truncated(void **state)
{
	(void)state;
	static const uint8_t arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t map[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0};
	static const uint8_t bin[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
	assert_int_equal(read_all(arr, sizeof arr), TN_ERR_DEC_TRUNCATED);
	assert_int_equal(read_all(map, sizeof map), TN_ERR_DEC_TRUNCATED);
	assert_int_equal(read_all(bin, sizeof bin), TN_ERR_DEC_TRUNCATED);
}

static void depth_limit(void **state)
{
	(void)state;
	uint8_t in[TN_MP_DEPTH_MAX + 2];
	/* TN_MP_DEPTH_MAX nested arrays holding nil: fine. */
	memset(in, 0x91, TN_MP_DEPTH_MAX);
	in[TN_MP_DEPTH_MAX] = 0xc0;
	assert_int_equal(read_all(in, TN_MP_DEPTH_MAX + 1), TN_OK);
	/* One more level: too deep. */
	memset(in, 0x91, TN_MP_DEPTH_MAX + 1);
	in[TN_MP_DEPTH_MAX + 1] = 0xc0;
	assert_int_equal(read_all(in, TN_MP_DEPTH_MAX + 2), TN_ERR_DEC_DEPTH);
}

static void typed_reads(void **state)
{
	(void)state;
	tn_mp_rd r;
	uint64_t u;
	int64_t i;
	const uint8_t *p;
	size_t n;
	uint8_t fixed[2];
	static const uint8_t s[] = {0xa1, 'x'};
	tn_mp_rd_init(&r, s, sizeof s);
	assert_int_equal(tn_mp_read_uint(&r, 10, &u), TN_ERR_DEC_TYPE);
	static const uint8_t big[] = {0xcc, 200};
	tn_mp_rd_init(&r, big, sizeof big);
	assert_int_equal(tn_mp_read_uint(&r, 199, &u), TN_ERR_DEC_RANGE);
	static const uint8_t neg[] = {0xd0, 0x80};
	tn_mp_rd_init(&r, neg, sizeof neg);
	assert_int_equal(tn_mp_read_int(&r, -128, 0, &i), TN_OK);
	assert_int_equal(i, -128);
	static const uint8_t u64max[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	tn_mp_rd_init(&r, u64max, sizeof u64max);
	assert_int_equal(tn_mp_read_int(&r, INT64_MIN, INT64_MAX, &i), TN_ERR_DEC_RANGE);
	static const uint8_t b3[] = {0xc4, 3, 1, 2, 3};
	tn_mp_rd_init(&r, b3, sizeof b3);
	assert_int_equal(tn_mp_read_bin_fixed(&r, fixed, 2), TN_ERR_DEC_BADLEN);
	tn_mp_rd_init(&r, b3, sizeof b3);
	assert_int_equal(tn_mp_read_bin(&r, 0, 2, &p, &n), TN_ERR_DEC_TOOBIG);
	tn_mp_rd_init(&r, b3, sizeof b3);
	assert_int_equal(tn_mp_read_bin(&r, 4, 9, &p, &n), TN_ERR_DEC_BADLEN);
	static const uint8_t a2[] = {0x92, 1, 2};
	tn_mp_rd_init(&r, a2, sizeof a2);
	assert_int_equal(tn_mp_read_array_n(&r, 3), TN_ERR_DEC_ARRAYLEN);
}

static void writer_nobuf(void **state)
{
	(void)state;
	uint8_t out[4];
	tn_mp_wr w;
	tn_mp_wr_init(&w, out, sizeof out);
	tn_mp_put_uint(&w, 0x10000); /* 5 bytes */
	assert_int_equal(tn_mp_wr_end(&w), TN_ERR_NOBUF);
	tn_mp_wr_init(&w, out, sizeof out);
	tn_mp_put_uint(&w, 0x100); /* 3 bytes */
	tn_mp_put_uint(&w, 1);
	assert_int_equal(tn_mp_wr_end(&w), 4);
	tn_mp_put_nil(&w);
	assert_int_equal(tn_mp_wr_end(&w), TN_ERR_NOBUF);
}

/* ---- UTF-8 ------------------------------------------------------------- */

static bool utf8(const char *s)
{
	return tn_mp_utf8_valid((const uint8_t *)s, strlen(s));
}

static void utf8_accepts_valid(void **state)
{
	(void)state;
	assert_true(utf8(""));
	assert_true(utf8("help"));
	assert_true(utf8("النجدة، أنا في خطر"));
	assert_true(utf8("یارمەتی، من لە مەترسیدام"));
	assert_true(utf8("\xc2\x80"));         /* U+0080 */
	assert_true(utf8("\xe0\xa0\x80"));     /* U+0800 */
	assert_true(utf8("\xed\x9f\xbf"));     /* U+D7FF */
	assert_true(utf8("\xee\x80\x80"));     /* U+E000 */
	assert_true(utf8("\xf0\x90\x80\x80")); /* U+10000 */
	assert_true(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
}

static void utf8_rejects_overlong(void **state)
{
	(void)state;
	assert_false(utf8("\xc0\xaf"));
	assert_false(utf8("\xc1\xbf"));
	assert_false(utf8("\xe0\x80\xaf"));
	assert_false(utf8("\xe0\x9f\xbf"));
	assert_false(utf8("\xf0\x80\x80\xaf"));
	assert_false(utf8("\xf0\x8f\xbf\xbf"));
}

static void utf8_rejects_surrogates(void **state)
{
	(void)state;
	assert_false(utf8("\xed\xa0\x80")); /* U+D800 */
	assert_false(utf8("\xed\xbf\xbf")); /* U+DFFF */
}

static void utf8_rejects_above_max(void **state)
{
	(void)state;
	assert_false(utf8("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(utf8("\xf5\x80\x80\x80"));
	assert_false(utf8("\xff"));
}

static void utf8_rejects_truncated_and_stray(void **state)
{
	(void)state;
	assert_false(utf8("\xd8"));
	assert_false(utf8("a\xe0\xa0"));
	assert_false(utf8("\xf0\x90\x80"));
	assert_false(utf8("\x80"));
	assert_false(utf8("\xe0\xa0\x41"));
	assert_false(utf8("\xf0\x90\x41\x80"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(differential_roundtrip),
	        cmocka_unit_test(noncanonical_integers),
	        cmocka_unit_test(noncanonical_lengths),
	        cmocka_unit_test(reserved_c1),
	        cmocka_unit_test(floats_and_ext_unsupported),
	        cmocka_unit_test(truncated_heads),
	        cmocka_unit_test(huge_count_is_truncated),
	        cmocka_unit_test(depth_limit),
	        cmocka_unit_test(typed_reads),
	        cmocka_unit_test(writer_nobuf),
	        cmocka_unit_test(utf8_accepts_valid),
	        cmocka_unit_test(utf8_rejects_overlong),
	        cmocka_unit_test(utf8_rejects_surrogates),
	        cmocka_unit_test(utf8_rejects_above_max),
	        cmocka_unit_test(utf8_rejects_truncated_and_stray),
	};
	return cmocka_run_group_tests_name("mp", tests, NULL, NULL);
}
