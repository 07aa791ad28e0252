/* daemon/ctlproto.c: the control protocol's framing, strict flat maps,
 * requests and replies; daemon/passfile.c. Golden bytes are written out by
 * hand so the tests do not trust the encoder they test. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctlproto.h"
#include "passfile.h"
#include "tocsin/keystore.h"

static uint8_t frame[TD_CTL_HDR + TD_CTL_REQ_MAX];

/* Frame a request and return its body length; the body is frame + 4. */
static size_t req_body(const td_ctl_req *r)
{
	tn_ssize n = td_ctl_req_frame(r, frame, sizeof frame);
	assert_true(n > TD_CTL_HDR);
	uint32_t len;
	assert_int_equal(td_ctl_get_hdr(frame, TD_CTL_REQ_MAX, &len), TN_OK);
	assert_int_equal((size_t)n, TD_CTL_HDR + len);
	return len;
}

static void decode_ok(const uint8_t *b, size_t n, td_ctl_req *r)
{
	td_ctl_code code;
	assert_int_equal(td_ctl_req_decode(r, b, n, &code), TN_OK);
	assert_int_equal(code, TD_CTL_OK);
}

static tn_err decode_err(const uint8_t *b, size_t n, td_ctl_code want, td_ctl_req *r)
{
	td_ctl_code code;
	tn_err rc = td_ctl_req_decode(r, b, n, &code);
	assert_int_not_equal(rc, TN_OK);
	assert_int_equal(code, want);
	assert_null(r->pass);
	return rc;
}

/* ---- requests ----------------------------------------------------------- */

static void golden_status_request(void **state)
{
	(void)state;
	td_ctl_req r = {.op = TD_CTL_OP_STATUS, .id = 7};
	size_t n = req_body(&r);
	/* {"id": 7, "op": "status"}: fixmap 2, keys sorted */
	static const uint8_t want[] = {0x82, 0xa2, 'i', 'd', 0x07, 0xa2, 'o', 'p',
				       0xa6, 's', 't', 'a', 't', 'u', 's'};
	assert_int_equal(n, sizeof want);
	assert_memory_equal(frame + TD_CTL_HDR, want, sizeof want);
	assert_memory_equal(frame, "\0\0\0\x0f", 4);
}

static void every_request_round_trips(void **state)
{
	(void)state;
	static const uint8_t pass[] = {'p', 0, 0xff, 'w'}; /* any bytes */
	td_ctl_req reqs[] = {
		{.op = TD_CTL_OP_VERSION, .id = 1},
		{.op = TD_CTL_OP_STATUS, .id = 0},
		{.op = TD_CTL_OP_INIT, .id = UINT64_MAX},
		{.op = TD_CTL_OP_INIT, .id = 3, .pass = pass, .passlen = sizeof pass},
		{.op = TD_CTL_OP_ID, .id = 300},
		{.op = TD_CTL_OP_SUBSCRIBE, .id = 70000},
	};
	for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
		size_t n = req_body(&reqs[i]);
		td_ctl_req r;
		decode_ok(frame + TD_CTL_HDR, n, &r);
		assert_int_equal(r.op, reqs[i].op);
		assert_true(r.id == reqs[i].id);
		assert_true(r.has_id);
		assert_int_equal(r.passlen, reqs[i].passlen);
		if (reqs[i].pass)
			assert_memory_equal(r.pass, pass, sizeof pass);
		else
			assert_null(r.pass);
	}
}

/* The network ops' arguments: round trip, and each op takes only its own
 * keys with their types. */
static void network_op_args(void **state)
{
	(void)state;
	td_ctl_req q;
	memset(&q, 0, sizeof q);
	q.op = TD_CTL_OP_ALERT;
	q.id = 9;
	td_ctl_add_str(&q.args, "kind", "panic");
	td_ctl_add_str(&q.args, "text", "\xd8\xa7\xd9\x84\xd9\x86\xd8\xac\xd8\xaf\xd8\xa9");
	td_ctl_add_str(&q.args, "violation", "raid");
	size_t n = req_body(&q);
	td_ctl_req r;
	decode_ok(frame + TD_CTL_HDR, n, &r);
	assert_int_equal(r.op, TD_CTL_OP_ALERT);
	assert_int_equal(r.args.n, 3);
	assert_true(td_ctl_str_is(&r.args, "kind", "panic"));
	assert_true(td_ctl_str_is(&r.args, "violation", "raid"));

	memset(&q, 0, sizeof q);
	q.op = TD_CTL_OP_ALERTS;
	td_ctl_add_uint(&q.args, "since", 12345);
	n = req_body(&q);
	decode_ok(frame + TD_CTL_HDR, n, &r);
	uint64_t since = 0;
	assert_int_equal(td_ctl_get_uint(&r.args, "since", &since), TN_OK);
	assert_true(since == 12345);

	td_ctl_code code;
	/* since as a str: wrong type */
	memset(&q, 0, sizeof q);
	q.op = TD_CTL_OP_ALERTS;
	td_ctl_add_str(&q.args, "since", "1h");
	n = req_body(&q);
	assert_int_equal(td_ctl_req_decode(&r, frame + TD_CTL_HDR, n, &code), TN_ERR_DEC_TYPE);
	assert_int_equal(code, TD_CTL_E_BAD_REQUEST);
	/* text on members: not its key */
	memset(&q, 0, sizeof q);
	q.op = TD_CTL_OP_MEMBERS;
	td_ctl_add_str(&q.args, "text", "x");
	n = req_body(&q);
	assert_int_equal(td_ctl_req_decode(&r, frame + TD_CTL_HDR, n, &code),
	                 TN_ERR_DEC_UNKNOWNKEY);
	/* name on alert: another op's key */
	memset(&q, 0, sizeof q);
	q.op = TD_CTL_OP_ALERT;
	td_ctl_add_str(&q.args, "name", "x");
	n = req_body(&q);
	assert_int_equal(td_ctl_req_decode(&r, frame + TD_CTL_HDR, n, &code),
	                 TN_ERR_DEC_UNKNOWNKEY);
	/* wipe: confirm round trips as a str; as a bool it is refused */
	memset(&q, 0, sizeof q);
	q.op = TD_CTL_OP_WIPE;
	td_ctl_add_str(&q.args, "confirm", "wipe");
	n = req_body(&q);
	decode_ok(frame + TD_CTL_HDR, n, &r);
	assert_int_equal(r.op, TD_CTL_OP_WIPE);
	assert_true(td_ctl_str_is(&r.args, "confirm", "wipe"));
	memset(&q, 0, sizeof q);
	q.op = TD_CTL_OP_WIPE;
	td_ctl_add_bool(&q.args, "confirm", true);
	n = req_body(&q);
	assert_int_equal(td_ctl_req_decode(&r, frame + TD_CTL_HDR, n, &code), TN_ERR_DEC_TYPE);
}

static void every_truncation_rejected(void **state)
{
	(void)state;
	static const uint8_t pass[] = "secret";
	td_ctl_req reqs[] = {
		{.op = TD_CTL_OP_STATUS, .id = 1},
		{.op = TD_CTL_OP_INIT, .id = 1 << 20, .pass = pass, .passlen = 6},
	};
	for (size_t i = 0; i < 2; i++) {
		size_t n = req_body(&reqs[i]);
		for (size_t k = 0; k < n; k++) {
			/* An exact-size copy: ASan catches any read past k. */
			uint8_t *cut = malloc(k ? k : 1);
			memcpy(cut, frame + TD_CTL_HDR, k);
			td_ctl_req r;
			td_ctl_msg m;
			assert_int_not_equal(td_ctl_msg_decode(&m, cut, k), TN_OK);
			assert_int_equal(m.n, 0);
			(void)decode_err(cut, k, TD_CTL_E_BAD_REQUEST, &r);
			free(cut);
		}
	}
}

static void oversized_length_rejected_before_reading(void **state)
{
	(void)state;
	uint8_t hdr[4];
	uint32_t len;
	td_ctl_put_hdr(hdr, TD_CTL_REQ_MAX);
	assert_int_equal(td_ctl_get_hdr(hdr, TD_CTL_REQ_MAX, &len), TN_OK);
	assert_int_equal(len, TD_CTL_REQ_MAX);
	td_ctl_put_hdr(hdr, TD_CTL_REQ_MAX + 1);
	assert_int_equal(td_ctl_get_hdr(hdr, TD_CTL_REQ_MAX, &len), TN_ERR_LIMIT);
	assert_int_equal(len, TD_CTL_REQ_MAX + 1);
	memcpy(hdr, "\xff\xff\xff\xff", 4);
	assert_int_equal(td_ctl_get_hdr(hdr, TD_CTL_REPLY_MAX, &len), TN_ERR_LIMIT);
	assert_int_equal(len, UINT32_MAX);
	td_ctl_put_hdr(hdr, TD_CTL_REPLY_MAX);
	assert_int_equal(td_ctl_get_hdr(hdr, TD_CTL_REPLY_MAX, &len), TN_OK);
}

static void unknown_op_keeps_the_id(void **state)
{
	(void)state;
	/* {"id": 9, "op": "panic"} */
	static const uint8_t b[] = {0x82, 0xa2, 'i', 'd', 0x09, 0xa2, 'o', 'p',
				    0xa5, 'p', 'a', 'n', 'i', 'c'};
	td_ctl_req r;
	assert_int_equal(decode_err(b, sizeof b, TD_CTL_E_UNKNOWN_OP, &r), TN_ERR_DEC_RECTYPE);
	assert_true(r.has_id);
	assert_int_equal(r.id, 9);
	/* "" is not an op either */
	static const uint8_t e[] = {0x82, 0xa2, 'i', 'd', 0x09, 0xa2, 'o', 'p', 0xa0};
	(void)decode_err(e, sizeof e, TD_CTL_E_UNKNOWN_OP, &r);
}

static void wrong_types_rejected(void **state)
{
	(void)state;
	td_ctl_req r;
	/* id as a str */
	static const uint8_t a[] = {0x82, 0xa2, 'i', 'd', 0xa1, '1', 0xa2, 'o', 'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(a, sizeof a, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TYPE);
	assert_false(r.has_id);
	/* negative id */
	static const uint8_t a2[] = {0x82, 0xa2, 'i', 'd', 0xff, 0xa2, 'o', 'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(a2, sizeof a2, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TYPE);
	/* op as a uint */
	static const uint8_t b[] = {0x82, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0x05};
	assert_int_equal(decode_err(b, sizeof b, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TYPE);
	assert_true(r.has_id);
	/* passphrase as a str (it is bin: any bytes) */
	static const uint8_t c[] = {0x83, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0xa4, 'i', 'n', 'i',
				    't', 0xaa, 'p', 'a', 's', 's', 'p', 'h', 'r', 'a', 's', 'e',
				    0xa1, 'x'};
	assert_int_equal(decode_err(c, sizeof c, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TYPE);
	/* empty passphrase */
	static const uint8_t c2[] = {0x83, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0xa4, 'i', 'n', 'i',
				     't', 0xaa, 'p', 'a', 's', 's', 'p', 'h', 'r', 'a', 's', 'e',
				     0xc4, 0x00};
	assert_int_equal(decode_err(c2, sizeof c2, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_BADLEN);
	/* top level is an array, a str, nil */
	static const uint8_t d[] = {0x92, 0x01, 0x02};
	assert_int_equal(decode_err(d, sizeof d, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TYPE);
	static const uint8_t d2[] = {0xc0};
	assert_int_equal(decode_err(d2, sizeof d2, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TYPE);
	/* a nested map as a value */
	static const uint8_t e[] = {0x82, 0xa2, 'i', 'd', 0x80, 0xa2, 'o', 'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(e, sizeof e, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TYPE);
	/* a float */
	static const uint8_t f[] = {0x81, 0xa2, 'i', 'd', 0xca, 0, 0, 0, 0};
	assert_int_equal(decode_err(f, sizeof f, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_RESERVED);
}

static void missing_and_unknown_keys_rejected(void **state)
{
	(void)state;
	td_ctl_req r;
	static const uint8_t no_op[] = {0x81, 0xa2, 'i', 'd', 0x01};
	assert_int_equal(decode_err(no_op, sizeof no_op, TD_CTL_E_BAD_REQUEST, &r),
			 TN_ERR_DEC_MISSINGKEY);
	static const uint8_t no_id[] = {0x81, 0xa2, 'o', 'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(no_id, sizeof no_id, TD_CTL_E_BAD_REQUEST, &r),
			 TN_ERR_DEC_MISSINGKEY);
	/* {"id":1, "op":"id", "x":1} */
	static const uint8_t extra[] = {0x83, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p',
					0xa2, 'i', 'd', 0xa1, 'x', 0x01};
	assert_int_equal(decode_err(extra, sizeof extra, TD_CTL_E_BAD_REQUEST, &r),
			 TN_ERR_DEC_UNKNOWNKEY);
	/* a passphrase on an op other than init */
	static const uint8_t pass[] = {0x83, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0xa2, 'i', 'd',
				       0xaa, 'p', 'a', 's', 's', 'p', 'h', 'r', 'a', 's', 'e',
				       0xc4, 0x01, 'x'};
	assert_int_equal(decode_err(pass, sizeof pass, TD_CTL_E_BAD_REQUEST, &r),
			 TN_ERR_DEC_UNKNOWNKEY);
	/* empty map, empty body */
	static const uint8_t empty[] = {0x80};
	(void)decode_err(empty, sizeof empty, TD_CTL_E_BAD_REQUEST, &r);
	(void)decode_err(NULL, 0, TD_CTL_E_BAD_REQUEST, &r);
}

static void non_canonical_rejected(void **state)
{
	(void)state;
	td_ctl_req r;
	/* id 7 as uint8 */
	static const uint8_t a[] = {0x82, 0xa2, 'i', 'd', 0xcc, 0x07, 0xa2, 'o', 'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(a, sizeof a, TD_CTL_E_BAD_REQUEST, &r),
			 TN_ERR_DEC_NONCANONICAL);
	/* key "op" as str8 */
	static const uint8_t b[] = {0x82, 0xa2, 'i', 'd', 0x07, 0xd9, 0x02, 'o', 'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(b, sizeof b, TD_CTL_E_BAD_REQUEST, &r),
			 TN_ERR_DEC_NONCANONICAL);
	/* a map16 holding two pairs */
	static const uint8_t c[] = {0xde, 0x00, 0x02, 0xa2, 'i', 'd', 0x07,
				    0xa2, 'o',  'p',  0xa2, 'i', 'd'};
	assert_int_equal(decode_err(c, sizeof c, TD_CTL_E_BAD_REQUEST, &r),
			 TN_ERR_DEC_NONCANONICAL);
	/* keys out of order, and a key twice */
	static const uint8_t d[] = {0x82, 0xa2, 'o', 'p', 0xa2, 'i', 'd', 0xa2, 'i', 'd', 0x07};
	assert_int_equal(decode_err(d, sizeof d, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_KEYORDER);
	static const uint8_t e[] = {0x83, 0xa2, 'i', 'd', 0x07, 0xa2, 'i', 'd', 0x07,
				    0xa2, 'o',  'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(e, sizeof e, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_KEYORDER);
	/* bytes after the map */
	static const uint8_t f[] = {0x82, 0xa2, 'i', 'd', 0x07, 0xa2, 'o', 'p', 0xa2, 'i', 'd', 0xc0};
	assert_int_equal(decode_err(f, sizeof f, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_TRAILING);
	/* a key outside [a-z0-9_], and an empty key */
	static const uint8_t g[] = {0x82, 0xa2, 'I', 'd', 0x07, 0xa2, 'o', 'p', 0xa2, 'i', 'd'};
	assert_int_equal(decode_err(g, sizeof g, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_RANGE);
	static const uint8_t h[] = {0x81, 0xa0, 0x07};
	assert_int_equal(decode_err(h, sizeof h, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_RANGE);
	/* a str value that is not UTF-8 */
	static const uint8_t u[] = {0x82, 0xa2, 'i', 'd', 0x07, 0xa2, 'o', 'p', 0xa2, 0xc0, 0x80};
	assert_int_equal(decode_err(u, sizeof u, TD_CTL_E_BAD_REQUEST, &r), TN_ERR_DEC_UTF8);
}

static void map_and_value_bounds(void **state)
{
	(void)state;
	td_ctl_msg m;
	/* 33 pairs announced: refused from the header */
	uint8_t big[3 + 33 * 3];
	big[0] = 0xde;
	big[1] = 0;
	big[2] = 33;
	for (int i = 0; i < 33; i++) {
		big[3 + i * 3] = 0xa1;
		big[4 + i * 3] = (uint8_t)('a' + (i % 26));
		big[5 + i * 3] = 0;
	}
	assert_int_equal(td_ctl_msg_decode(&m, big, sizeof big), TN_ERR_DEC_TOOBIG);
	/* a 33-byte key */
	uint8_t key[3 + 33 + 1] = {0x81, 0xd9, 33};
	memset(key + 3, 'k', 33);
	key[36] = 0;
	assert_int_equal(td_ctl_msg_decode(&m, key, sizeof key), TN_ERR_DEC_TOOBIG);
	/* a str value of TD_CTL_STR_MAX + 1 bytes */
	size_t n = 1 + 2 + 5 + TD_CTL_STR_MAX + 1;
	uint8_t *s = calloc(1, n);
	s[0] = 0x81;
	s[1] = 0xa1;
	s[2] = 'v';
	s[3] = 0xdb;
	s[4] = 0;
	s[5] = 0;
	s[6] = (uint8_t)((TD_CTL_STR_MAX + 1) >> 8);
	s[7] = (uint8_t)(TD_CTL_STR_MAX + 1);
	memset(s + 8, 'a', TD_CTL_STR_MAX + 1);
	assert_int_equal(td_ctl_msg_decode(&m, s, n), TN_ERR_DEC_NONCANONICAL); /* str32 < 64K */
	s[3] = 0xda;
	s[4] = (uint8_t)((TD_CTL_STR_MAX + 1) >> 8);
	s[5] = (uint8_t)(TD_CTL_STR_MAX + 1);
	memmove(s + 6, s + 8, TD_CTL_STR_MAX + 1);
	assert_int_equal(td_ctl_msg_decode(&m, s, n - 2), TN_ERR_DEC_TOOBIG);
	free(s);
}

/* ---- encoder ------------------------------------------------------------ */

static void encoder_refuses_what_the_decoder_would(void **state)
{
	(void)state;
	uint8_t out[256];
	td_ctl_msg m;
	td_ctl_msg_init(&m);
	td_ctl_add_uint(&m, "a", 1);
	td_ctl_add_uint(&m, "a", 2);
	assert_int_equal(td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, sizeof out), TN_ERR_INVAL);
	td_ctl_msg_init(&m);
	td_ctl_add_str(&m, "Bad", "x");
	assert_int_equal(td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, sizeof out), TN_ERR_INVAL);
	td_ctl_msg_init(&m);
	td_ctl_add_str(&m, "s", "\xc0\x80");
	assert_int_equal(td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, sizeof out), TN_ERR_INVAL);
	td_ctl_msg_init(&m);
	for (int i = 0; i < TD_CTL_FIELDS_MAX + 1; i++)
		td_ctl_add_nil(&m, "k");
	assert_int_equal(td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, sizeof out), TN_ERR_INVAL);
	td_ctl_msg_init(&m);
	td_ctl_add_str(&m, "s", "0123456789");
	assert_int_equal(td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, 8), TN_ERR_NOBUF);
	assert_int_equal(td_ctl_msg_frame(&m, 5, out, sizeof out), TN_ERR_LIMIT);
	/* a passphrase only on init, and never empty */
	td_ctl_req r = {.op = TD_CTL_OP_ID, .pass = (const uint8_t *)"x", .passlen = 1};
	assert_int_equal(td_ctl_req_frame(&r, out, sizeof out), TN_ERR_INVAL);
	r.op = TD_CTL_OP_INIT;
	r.passlen = 0;
	assert_int_equal(td_ctl_req_frame(&r, out, sizeof out), TN_ERR_INVAL);
	r = (td_ctl_req){.op = TD_CTL_OP_NONE};
	assert_int_equal(td_ctl_req_frame(&r, out, sizeof out), TN_ERR_INVAL);
}

/* Every value type and the key order survive encode -> decode -> encode. */
static void generic_map_round_trips(void **state)
{
	(void)state;
	uint8_t out[512], again[512];
	static const uint8_t bin[] = {0, 1, 2, 0xff};
	td_ctl_msg m, d;
	td_ctl_msg_init(&m);
	td_ctl_add_str(&m, "zeta", "نجدة"); /* Arabic: "help" */
	td_ctl_add_uint(&m, "big", UINT64_MAX);
	td_ctl_add_int(&m, "neg", -5);
	td_ctl_add_int(&m, "pos", 5);
	td_ctl_add_bool(&m, "b", true);
	td_ctl_add_nil(&m, "a");
	td_ctl_add_bin(&m, "bin", bin, sizeof bin);
	td_ctl_add_str(&m, "empty", "");
	tn_ssize n = td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(td_ctl_msg_decode(&d, out + 4, (size_t)n - 4), TN_OK);
	assert_int_equal(d.n, 8);
	/* sorted: a b big bin empty neg pos zeta */
	assert_int_equal(d.f[0].keylen, 1);
	assert_memory_equal(d.f[2].key, "big", 3);
	assert_memory_equal(d.f[7].key, "zeta", 4);
	uint64_t u;
	assert_int_equal(td_ctl_get_uint(&d, "big", &u), TN_OK);
	assert_true(u == UINT64_MAX);
	assert_int_equal(td_ctl_get_uint(&d, "pos", &u), TN_OK);
	assert_int_equal(u, 5);
	assert_int_equal(td_ctl_get(&d, "neg")->type, TD_CTL_INT);
	assert_int_equal(td_ctl_get(&d, "neg")->i, -5);
	assert_int_equal(td_ctl_get(&d, "a")->type, TD_CTL_NIL);
	assert_true(td_ctl_str_is(&d, "zeta", "نجدة"));
	assert_true(td_ctl_str_is(&d, "empty", ""));
	assert_memory_equal(td_ctl_get(&d, "bin")->p, bin, sizeof bin);
	assert_int_equal(td_ctl_get_uint(&d, "zeta", &u), TN_ERR_DEC_TYPE);
	assert_int_equal(td_ctl_get_uint(&d, "nope", &u), TN_ERR_DEC_MISSINGKEY);
	assert_int_equal(td_ctl_msg_frame(&d, TD_CTL_REPLY_MAX, again, sizeof again), n);
	assert_memory_equal(out, again, (size_t)n);
}

/* ---- replies ------------------------------------------------------------ */

static size_t frame_msg(const td_ctl_msg *m, uint8_t *out, size_t cap, td_ctl_msg *d)
{
	tn_ssize n = td_ctl_msg_frame(m, TD_CTL_REPLY_MAX, out, cap);
	assert_true(n > TD_CTL_HDR);
	assert_int_equal(td_ctl_msg_decode(d, out + TD_CTL_HDR, (size_t)n - TD_CTL_HDR), TN_OK);
	return (size_t)n;
}

static void every_reply_type_round_trips_and_checks(void **state)
{
	(void)state;
	uint8_t out[2048];
	td_ctl_msg m, d;
	const char *fp = "12345 67890 12345 67890 12345 67890";

	td_ctl_reply_begin(&m, 5, true);
	td_ctl_add_str(&m, "version", "0.1.0");
	td_ctl_add_str(&m, "protocol", TD_CTL_PROTOCOL);
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_VERSION), TN_OK);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_ID), TN_ERR_DEC_MISSINGKEY);

	td_ctl_reply_begin(&m, 6, true);
	td_ctl_add_uint(&m, "pid", 42);
	td_ctl_add_uint(&m, "uptime_s", 1);
	td_ctl_add_uint(&m, "links", 0);
	td_ctl_add_uint(&m, "subscribers", 0);
	td_ctl_add_str(&m, "home", "/h");
	td_ctl_add_str(&m, "data_dir", "/h/data");
	td_ctl_add_str(&m, "control_socket", "/h/control.sock");
	td_ctl_add_str(&m, "listen", "127.0.0.1:7450");
	td_ctl_add_str(&m, "mesh", "not implemented yet");
	td_ctl_add_str(&m, "version", "0.1.0");
	td_ctl_add_bool(&m, "initialised", false);
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_STATUS), TN_OK);
	/* initialised: true promises a fingerprint */
	m.f[m.n - 1].v.b = true;
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_STATUS), TN_ERR_DEC_MISSINGKEY);
	td_ctl_add_str(&m, "fingerprint", fp);
	td_ctl_add_str(&m, "short_fingerprint", "0011223344556677");
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_STATUS), TN_OK);

	td_ctl_reply_begin(&m, 7, true);
	td_ctl_add_str(&m, "fingerprint", fp);
	td_ctl_add_str(&m, "short_fingerprint", "0011223344556677");
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_ID), TN_OK);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_INIT), TN_ERR_DEC_MISSINGKEY);
	td_ctl_add_bool(&m, "passphrase", true);
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_INIT), TN_OK);
	assert_true(td_ctl_str_is(&d, "fingerprint", fp));

	td_ctl_reply_begin(&m, 8, true);
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_SUBSCRIBE), TN_OK);

	/* a wrong type is caught too */
	td_ctl_reply_begin(&m, 9, true);
	td_ctl_add_uint(&m, "version", 1);
	td_ctl_add_str(&m, "protocol", TD_CTL_PROTOCOL);
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_VERSION), TN_ERR_DEC_TYPE);
}

static void error_reply_round_trips(void **state)
{
	(void)state;
	uint8_t out[4096];
	td_ctl_msg d;
	for (td_ctl_code c = TD_CTL_E_BAD_REQUEST; c <= TD_CTL_E_SUBSCRIBED; c++) {
		tn_ssize n = td_ctl_error_frame(11, c, "why", out, sizeof out);
		assert_true(n > 0);
		assert_int_equal(td_ctl_msg_decode(&d, out + 4, (size_t)n - 4), TN_OK);
		/* an error reply passes the check for any op */
		assert_int_equal(td_ctl_reply_check(&d, TD_CTL_OP_STATUS), TN_OK);
		assert_true(td_ctl_str_is(&d, "error", td_ctl_code_str(c)));
		assert_true(td_ctl_str_is(&d, "message", "why"));
	}
	assert_string_equal(td_ctl_code_str(TD_CTL_E_ALREADY_INIT), "already_initialised");
	assert_string_equal(td_ctl_code_str(TD_CTL_E_NOT_INITIALISED), "not_initialised");
	/* a message that is not UTF-8 is dropped, the code still goes out */
	tn_ssize n = td_ctl_error_frame(1, TD_CTL_E_KEYSTORE, "bad \xff path", out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(td_ctl_msg_decode(&d, out + 4, (size_t)n - 4), TN_OK);
	assert_true(td_ctl_str_is(&d, "message", ""));
	/* a long message is cut at a character boundary */
	char longmsg[TD_CTL_MESSAGE_MAX + 10];
	memset(longmsg, 'a', sizeof longmsg);
	memcpy(longmsg + TD_CTL_MESSAGE_MAX - 1, "\xd9\x86", 2); /* straddles the cut */
	longmsg[sizeof longmsg - 1] = '\0';
	n = td_ctl_error_frame(1, TD_CTL_E_KEYSTORE, longmsg, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(td_ctl_msg_decode(&d, out + 4, (size_t)n - 4), TN_OK);
	assert_int_equal(td_ctl_get(&d, "message")->n, TD_CTL_MESSAGE_MAX - 1);
}

static void event_check(void **state)
{
	(void)state;
	uint8_t out[256];
	td_ctl_msg m, d;
	td_ctl_msg_init(&m);
	td_ctl_add_str(&m, "event", "shutdown");
	td_ctl_add_str(&m, "reason", "sigterm");
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_event_check(&d), TN_ERR_DEC_MISSINGKEY); /* no seq */
	td_ctl_add_uint(&m, "seq", 2);
	frame_msg(&m, out, sizeof out, &d);
	assert_int_equal(td_ctl_event_check(&d), TN_OK);
}

static void utf8_clean_replaces_bad_bytes(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(td_ctl_utf8_clean(out, sizeof out, "/a\xff/b\xc3\xa9"), 7);
	assert_string_equal(out, "/a?/b\xc3\xa9");
	assert_int_equal(td_ctl_utf8_clean(out, 4, "abcdef"), 3);
	assert_string_equal(out, "abc");
	/* a character that would not fit whole is left out */
	assert_int_equal(td_ctl_utf8_clean(out, 3, "a\xc3\xa9"), 1);
	assert_int_equal(td_ctl_utf8_clean(out, sizeof out, "\xe2\x82"), 2); /* truncated seq */
	assert_string_equal(out, "??");
}

/* ---- passphrase files --------------------------------------------------- */

static char tmpdir[64];

static int make_tmp(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/tn-ctlproto.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void passfile_rules(void **state)
{
	(void)state;
	uint8_t buf[TD_PASSFILE_BUF];
	char msg[512];
	size_t len;
	const char *p = write_file("pw", "s3cret\r\n", 8, 0600);
	assert_int_equal(td_passfile_read(p, buf, &len, msg, sizeof msg), TN_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "s3cret", 6);
	p = write_file("pw2", "two\n\n", 5, 0600); /* only one newline is taken off */
	assert_int_equal(td_passfile_read(p, buf, &len, msg, sizeof msg), TN_OK);
	assert_int_equal(len, 4);
	p = write_file("pw3", "s3cret", 6, 0644);
	assert_int_equal(td_passfile_read(p, buf, &len, msg, sizeof msg), TN_ERR_INSECURE);
	assert_non_null(strstr(msg, "chmod 600"));
	assert_null(strstr(msg, "s3cret"));
	p = write_file("pw4", "\n", 1, 0600);
	assert_int_equal(td_passfile_read(p, buf, &len, msg, sizeof msg), TN_ERR_INVAL);
	static char big[TN_PASSPHRASE_MAX + 1];
	memset(big, 'x', sizeof big);
	p = write_file("pw5", big, sizeof big, 0600);
	assert_int_equal(td_passfile_read(p, buf, &len, msg, sizeof msg), TN_ERR_INVAL);
	p = write_file("pw6", big, TN_PASSPHRASE_MAX, 0600);
	assert_int_equal(td_passfile_read(p, buf, &len, msg, sizeof msg), TN_OK);
	assert_int_equal(len, TN_PASSPHRASE_MAX);
	char link[128];
	snprintf(link, sizeof link, "%s/link", tmpdir);
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(td_passfile_read(link, buf, &len, msg, sizeof msg), TN_ERR_INSECURE);
	snprintf(link, sizeof link, "%s/none", tmpdir);
	assert_int_equal(td_passfile_read(link, buf, &len, msg, sizeof msg), TN_ERR_IO);
	assert_int_equal(td_passfile_read(tmpdir, buf, &len, msg, sizeof msg), TN_ERR_INSECURE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_status_request),
		cmocka_unit_test(every_request_round_trips),
		cmocka_unit_test(network_op_args),
		cmocka_unit_test(every_truncation_rejected),
		cmocka_unit_test(oversized_length_rejected_before_reading),
		cmocka_unit_test(unknown_op_keeps_the_id),
		cmocka_unit_test(wrong_types_rejected),
		cmocka_unit_test(missing_and_unknown_keys_rejected),
		cmocka_unit_test(non_canonical_rejected),
		cmocka_unit_test(map_and_value_bounds),
		cmocka_unit_test(encoder_refuses_what_the_decoder_would),
		cmocka_unit_test(generic_map_round_trips),
		cmocka_unit_test(every_reply_type_round_trips_and_checks),
		cmocka_unit_test(error_reply_round_trips),
		cmocka_unit_test(event_check),
		cmocka_unit_test(utf8_clean_replaces_bad_bytes),
		cmocka_unit_test_setup_teardown(passfile_rules, make_tmp, rm_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
