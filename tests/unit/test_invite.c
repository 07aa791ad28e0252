/* Invite codes: payload round trip and bounds, the human code (case,
 * separators), every single-character substitution caught, every
 * truncation refused, each rejection reason, expiry on both sides of the
 * deadline, one-time use through the book, and a forged secret deriving
 * another PSK. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "test_rng.h"
#include "tocsin/invite.h"
#include "tocsin/mp.h"

#define T0 UINT64_C(1718000000000)

static tn_view txt(const char *s)
{
	return (tn_view){(const uint8_t *)s, strlen(s)};
}

static tn_invite sample(uint8_t seed)
{
	test_rng r;
	tn_rand rand = test_rng_seed(&r, seed);
	uint8_t nid[TN_NETWORK_ID];
	tn_linkpub link;
	memset(nid, 0x11, sizeof nid);
	memset(link.b, 0x22, sizeof link.b);
	tn_view eps[2] = {txt("tcp:203.0.113.5:7443"), txt("tcp:[2001:db8::1]:7443")};
	tn_invite inv;
	assert_int_equal(tn_invite_new(&inv, &rand, nid, &link, eps, 2,
	                               T0 + TN_INVITE_TTL_DEFAULT_MS, TN_ROLE_MEMBER),
	                 TN_OK);
	return inv;
}

static void same_invite(const tn_invite *a, const tn_invite *b)
{
	assert_memory_equal(a->network_id, b->network_id, TN_NETWORK_ID);
	assert_memory_equal(a->coordinator_link.b, b->coordinator_link.b, 32);
	assert_int_equal(a->endpoint_count, b->endpoint_count);
	for (size_t i = 0; i < a->endpoint_count; i++) {
		assert_int_equal(a->endpoint_len[i], b->endpoint_len[i]);
		assert_string_equal(a->endpoints[i], b->endpoints[i]);
	}
	assert_memory_equal(a->secret.b, b->secret.b, TN_INVITE_SECRET);
	assert_int_equal(a->expires_ms, b->expires_ms);
	assert_int_equal(a->role, b->role);
}

static void roundtrip(void **state)
{
	(void)state;
	tn_invite inv = sample(1), back;
	uint8_t buf[TN_INVITE_PAYLOAD_MAX];
	tn_ssize n = tn_invite_encode(&inv, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(tn_invite_decode(&back, buf, (size_t)n), TN_OK);
	same_invite(&inv, &back);
	/* Every truncation of the payload is refused. */
	for (size_t k = 0; k < (size_t)n; k++)
		assert_int_equal(tn_invite_decode(&back, buf, k), TN_ERR_DEC_TRUNCATED);
	assert_int_equal(tn_invite_encode(&inv, buf, (size_t)n - 1), TN_ERR_NOBUF);

	char code[TN_INVITE_CODE_MAX];
	tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
	assert_true(c > 0);
	assert_int_equal(strlen(code), (size_t)c);
	/* lowercase base32 in groups of five */
	for (tn_ssize i = 0; i < c; i++) {
		if ((i + 1) % 6 == 0)
			assert_int_equal(code[i], '-');
		else
			assert_true((code[i] >= 'a' && code[i] <= 'z') ||
			            (code[i] >= '2' && code[i] <= '7'));
	}
	tn_invite_reason why;
	assert_int_equal(tn_invite_from_code(&back, code, (size_t)c, &why), TN_OK);
	assert_int_equal(why, TN_INVITE_OK);
	same_invite(&inv, &back);
	assert_int_equal(tn_invite_to_code(&inv, code, (size_t)c), TN_ERR_NOBUF);
	tn_invite_wipe(&inv);
	tn_invite_wipe(&back);
}

static void case_and_separators_ignored(void **state)
{
	(void)state;
	tn_invite inv = sample(2), back;
	char code[TN_INVITE_CODE_MAX], alt[2 * TN_INVITE_CODE_MAX];
	tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
	assert_true(c > 0);
	tn_invite_reason why;
	/* Upper case. */
	for (tn_ssize i = 0; i < c; i++)
		alt[i] = (char)toupper((unsigned char)code[i]);
	assert_int_equal(tn_invite_from_code(&back, alt, (size_t)c, &why), TN_OK);
	same_invite(&inv, &back);
	/* No separators, mixed case. */
	size_t k = 0;
	for (tn_ssize i = 0; i < c; i++)
		if (code[i] != '-')
			alt[k++] = (char)(i % 3 ? code[i] : toupper((unsigned char)code[i]));
	assert_int_equal(tn_invite_from_code(&back, alt, k, &why), TN_OK);
	same_invite(&inv, &back);
	/* Spaces instead of dashes, extra spaces and dashes anywhere. */
	k = 0;
	alt[k++] = ' ';
	for (tn_ssize i = 0; i < c; i++) {
		alt[k++] = code[i] == '-' ? ' ' : code[i];
		if (i % 7 == 0) {
			alt[k++] = '-';
			alt[k++] = ' ';
		}
	}
	alt[k++] = '-';
	assert_int_equal(tn_invite_from_code(&back, alt, k, &why), TN_OK);
	same_invite(&inv, &back);
	tn_invite_wipe(&inv);
	tn_invite_wipe(&back);
}

/* Every letter of the code replaced by every other letter of the alphabet:
 * never a silent wrong join. */
static void every_substitution_detected(void **state)
{
	(void)state;
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	tn_invite inv = sample(3), back;
	char code[TN_INVITE_CODE_MAX];
	tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
	assert_true(c > 0);
	size_t tried = 0, by_reason[TN_INVITE_REASON_COUNT] = {0};
	for (tn_ssize i = 0; i < c; i++) {
		if (code[i] == '-')
			continue;
		char orig = code[i];
		for (size_t a = 0; a < 32; a++) {
			if (alphabet[a] == orig)
				continue;
			code[i] = alphabet[a];
			tn_invite_reason why = TN_INVITE_OK;
			tn_err rc = tn_invite_from_code(&back, code, (size_t)c, &why);
			if (rc == TN_OK)
				fail_msg("substitution at %zd by %c accepted", i, alphabet[a]);
			assert_true(why == TN_INVITE_R_CHECKSUM || why == TN_INVITE_R_PADDING);
			by_reason[why]++;
			tried++;
		}
		/* Characters outside the alphabet, too. */
		static const char bad[] = "0189!.=";
		for (size_t b = 0; b < sizeof bad - 1; b++) {
			code[i] = bad[b];
			tn_invite_reason why;
			assert_int_equal(tn_invite_from_code(&back, code, (size_t)c, &why),
			                 TN_ERR_INVAL);
			assert_int_equal(why, TN_INVITE_R_CHARSET);
		}
		code[i] = orig;
	}
	assert_int_equal(tried, (size_t)(c - (c / 6)) * 31);
	assert_true(by_reason[TN_INVITE_R_CHECKSUM] > 0);
	/* The last letter carries spare bits: changing only those is padding. */
	assert_true(by_reason[TN_INVITE_R_PADDING] > 0);
	tn_invite_reason why;
	assert_int_equal(tn_invite_from_code(&back, code, (size_t)c, &why), TN_OK);
	tn_invite_wipe(&inv);
	tn_invite_wipe(&back);
}

static void truncation_and_length(void **state)
{
	(void)state;
	tn_invite inv = sample(4), back;
	char code[TN_INVITE_CODE_MAX + 8];
	tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
	assert_true(c > 0);
	tn_invite_reason why;
	for (size_t k = 0; k < (size_t)c; k++) {
		tn_err rc = tn_invite_from_code(&back, code, k, &why);
		if (rc == TN_OK)
			fail_msg("prefix %zu accepted", k);
		if (code[k - (k ? 1 : 0)] == '-' && k)
			continue;
		assert_true(why == TN_INVITE_R_CHECKSUM || why == TN_INVITE_R_PADDING ||
		            why == TN_INVITE_R_LENGTH);
	}
	assert_int_equal(tn_invite_from_code(&back, code, 0, &why), TN_ERR_DEC_TRUNCATED);
	assert_int_equal(why, TN_INVITE_R_LENGTH);
	assert_int_equal(tn_invite_from_code(&back, "aaaaaaa", 7, &why), TN_ERR_DEC_TRUNCATED);
	assert_int_equal(why, TN_INVITE_R_LENGTH);
	/* One letter too many. */
	code[c] = 'a';
	assert_true(tn_invite_from_code(&back, code, (size_t)c + 1, &why) != TN_OK);
	/* Input over the bound, before any decoding. */
	static char big[TN_INVITE_INPUT_MAX + 1];
	memset(big, '-', sizeof big);
	assert_int_equal(tn_invite_from_code(&back, big, sizeof big, &why), TN_ERR_DEC_TOOBIG);
	assert_int_equal(why, TN_INVITE_R_LENGTH);
	/* Letters for more bytes than any invite. */
	memset(big, 'a', sizeof big);
	assert_int_equal(tn_invite_from_code(&back, big, TN_INVITE_INPUT_MAX, &why),
	                 TN_ERR_DEC_TOOBIG);
	assert_int_equal(why, TN_INVITE_R_LENGTH);
	tn_invite_wipe(&inv);
}

/* A valid checksum over a payload the decoder refuses. */
static void bad_payload_with_good_checksum(void **state)
{
	(void)state;
	tn_invite inv = sample(5), back;
	uint8_t buf[TN_INVITE_PAYLOAD_MAX];
	tn_ssize n = tn_invite_encode(&inv, buf, sizeof buf);
	assert_true(n > 0);
	buf[1] = TN_INVITE_VERSION + 1; /* a version this build does not know */
	/* Re-checksum and base32 by hand. */
	uint8_t all[TN_INVITE_PAYLOAD_MAX + 4], h[32];
	memcpy(all, buf, (size_t)n);
	crypto_generichash(h, 32, buf, (size_t)n, NULL, 0);
	memcpy(all + n, h, 4);
	size_t len = (size_t)n + 4;
	static const char a32[] = "abcdefghijklmnopqrstuvwxyz234567";
	char code[TN_INVITE_CODE_MAX];
	size_t o = 0, bits = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | all[i];
		bits += 8;
		while (bits >= 5) {
			code[o++] = a32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		code[o++] = a32[(acc << (5 - bits)) & 31];
	tn_invite_reason why;
	assert_int_equal(tn_invite_from_code(&back, code, o, &why), TN_ERR_DEC_VERSION);
	assert_int_equal(why, TN_INVITE_R_PAYLOAD);
	/* Non-zero spare bits in the last letter (same bytes otherwise). */
	buf[1] = TN_INVITE_VERSION;
	memcpy(all, buf, (size_t)n);
	crypto_generichash(h, 32, buf, (size_t)n, NULL, 0);
	memcpy(all + n, h, 4);
	assert_int_equal(tn_invite_to_code(&inv, code, sizeof code) > 0, 1);
	size_t cl = strlen(code);
	if (len * 8 % 5) {
		int v = (int)(strchr(a32, code[cl - 1]) - a32);
		code[cl - 1] = a32[v | 1];
		if (v & 1)
			code[cl - 1] = a32[v & ~1];
		assert_int_equal(tn_invite_from_code(&back, code, cl, &why),
		                 TN_ERR_DEC_NONCANONICAL);
		assert_int_equal(why, TN_INVITE_R_PADDING);
	}
	tn_invite_wipe(&inv);
}

static void encoder_bounds(void **state)
{
	(void)state;
	tn_invite inv = sample(6);
	/* Largest invite: four endpoints of the maximum length. */
	char ep[TN_ENDPOINT_STR_MAX];
	memset(ep, 'h', sizeof ep);
	memcpy(ep, "onion:", 6);
	tn_view eps[TN_INVITE_ENDPOINTS_MAX + 1];
	for (size_t i = 0; i <= TN_INVITE_ENDPOINTS_MAX; i++)
		eps[i] = (tn_view){(const uint8_t *)ep, sizeof ep};
	test_rng r = {{7}, 0};
	tn_rand rand = {test_rng_fn, &r};
	tn_invite big;
	assert_int_equal(tn_invite_new(&big, &rand, inv.network_id, &inv.coordinator_link, eps,
	                               TN_INVITE_ENDPOINTS_MAX, UINT64_C(0xffffffff) * 1000 + 999,
	                               TN_ROLE_COORDINATOR),
	                 TN_OK);
	assert_int_equal(big.expires_ms, UINT64_C(0xffffffff) * 1000); /* whole seconds */
	uint8_t buf[TN_INVITE_PAYLOAD_MAX + 10];
	assert_int_equal(tn_invite_encode(&big, buf, sizeof buf), TN_INVITE_PAYLOAD_MAX);
	char code[TN_INVITE_CODE_MAX];
	tn_ssize c = tn_invite_to_code(&big, code, sizeof code);
	assert_int_equal(c, TN_INVITE_CODE_MAX - 1);
	tn_invite back;
	tn_invite_reason why;
	assert_int_equal(tn_invite_from_code(&back, code, (size_t)c, &why), TN_OK);
	same_invite(&big, &back);
	/* Refusals. */
	assert_int_equal(tn_invite_new(&big, &rand, inv.network_id, &inv.coordinator_link, eps,
	                               TN_INVITE_ENDPOINTS_MAX + 1, T0, 0),
	                 TN_ERR_INVAL);
	assert_int_equal(
	        tn_invite_new(&big, &rand, inv.network_id, &inv.coordinator_link, eps, 0, T0, 0),
	        TN_ERR_INVAL);
	tn_view bad = txt("http://x");
	assert_int_equal(
	        tn_invite_new(&big, &rand, inv.network_id, &inv.coordinator_link, &bad, 1, T0, 0),
	        TN_ERR_INVAL);
	assert_int_equal(
	        tn_invite_new(&big, &rand, inv.network_id, &inv.coordinator_link, eps, 1, T0, 2),
	        TN_ERR_INVAL);
	/* An expiry the code cannot carry (u32 seconds). */
	assert_int_equal(tn_invite_new(&big, &rand, inv.network_id, &inv.coordinator_link, eps, 1,
	                               UINT64_C(0xffffffff) * 1000 + 1000, 0),
	                 TN_ERR_INVAL);
	inv.expires_ms += 1; /* not whole seconds: refused, never rounded silently */
	assert_int_equal(tn_invite_encode(&inv, buf, sizeof buf), TN_ERR_INVAL);
	inv.expires_ms -= 1;
	inv.role = 2;
	assert_int_equal(tn_invite_encode(&inv, buf, sizeof buf), TN_ERR_INVAL);
	assert_int_equal(tn_invite_decode(&back, buf, TN_INVITE_PAYLOAD_MAX + 1),
	                 TN_ERR_DEC_TOOBIG);
	tn_invite_wipe(&big);
}

static void expiry(void **state)
{
	(void)state;
	tn_invite inv = sample(8);
	tn_invite_reason why;
	assert_int_equal(tn_invite_check(&inv, inv.expires_ms - 1, &why), TN_OK);
	assert_int_equal(why, TN_INVITE_OK);
	assert_int_equal(tn_invite_check(&inv, inv.expires_ms, &why), TN_ERR_STALE);
	assert_int_equal(why, TN_INVITE_R_EXPIRED);
	/* The book refuses expired invites, and redeeming after expiry. */
	tn_invite_book b;
	tn_invite_book_init(&b);
	assert_int_equal(tn_invite_book_add(&b, &inv, inv.expires_ms, &why), TN_ERR_STALE);
	assert_int_equal(tn_invite_book_add(&b, &inv, T0, &why), TN_OK);
	tn_seckey psk;
	tn_invite_join_psk(&inv, &psk);
	assert_int_equal(tn_invite_book_redeem(&b, &psk, inv.expires_ms, NULL, &why), TN_ERR_STALE);
	assert_int_equal(why, TN_INVITE_R_EXPIRED);
	tn_seckey psks[4];
	assert_int_equal(tn_invite_book_psks(&b, inv.expires_ms - 1, psks, 4), 1);
	assert_memory_equal(psks[0].b, psk.b, 32);
	assert_int_equal(tn_invite_book_psks(&b, inv.expires_ms, psks, 4), 0);
	assert_int_equal(tn_invite_book_purge(&b, inv.expires_ms), 1);
	assert_int_equal(b.count, 0);
	tn_invite_book_free(&b);
	tn_invite_wipe(&inv);
}

static void one_time_use(void **state)
{
	(void)state;
	tn_invite a = sample(9), c = sample(10);
	tn_invite_book b;
	tn_invite_book_init(&b);
	tn_invite_reason why;
	assert_int_equal(tn_invite_book_add(&b, &a, T0, &why), TN_OK);
	assert_int_equal(tn_invite_book_add(&b, &a, T0, &why), TN_ERR_EXISTS);
	assert_int_equal(why, TN_INVITE_R_EXISTS);
	assert_int_equal(tn_invite_book_add(&b, &c, T0, &why), TN_OK);
	tn_seckey psk;
	tn_invite_join_psk(&a, &psk);
	tn_invite_entry e;
	assert_int_equal(tn_invite_book_redeem(&b, &psk, T0 + 5, &e, &why), TN_OK);
	assert_int_equal(why, TN_INVITE_OK);
	assert_true(e.used);
	assert_int_equal(e.used_ms, T0 + 5);
	assert_int_equal(e.role, a.role);
	/* Second use refused; the other invite unaffected. */
	assert_int_equal(tn_invite_book_redeem(&b, &psk, T0 + 6, &e, &why), TN_ERR_STATE);
	assert_int_equal(why, TN_INVITE_R_USED);
	tn_seckey psks[TN_INVITE_BOOK_MAX];
	assert_int_equal(tn_invite_book_psks(&b, T0, psks, TN_INVITE_BOOK_MAX), 1);
	tn_invite_join_psk(&c, &psk);
	assert_memory_equal(psks[0].b, psk.b, 32);
	/* Full book. */
	for (uint8_t s = 20; b.count < TN_INVITE_BOOK_MAX; s++) {
		tn_invite x = sample(s);
		assert_int_equal(tn_invite_book_add(&b, &x, T0, &why), TN_OK);
	}
	tn_invite y = sample(200);
	assert_int_equal(tn_invite_book_add(&b, &y, T0, &why), TN_ERR_LIMIT);
	assert_int_equal(why, TN_INVITE_R_FULL);
	tn_invite_book_free(&b);
	static const tn_invite_book zero;
	assert_memory_equal(&b, &zero, sizeof b);
}

static void forged_secret_other_psk(void **state)
{
	(void)state;
	tn_invite inv = sample(11), forged;
	tn_invite_book b;
	tn_invite_book_init(&b);
	tn_invite_reason why;
	assert_int_equal(tn_invite_book_add(&b, &inv, T0, &why), TN_OK);
	forged = inv;
	forged.secret.b[0] ^= 1;
	tn_seckey p1, p2, p3;
	tn_invite_join_psk(&inv, &p1);
	tn_invite_join_psk(&forged, &p2);
	assert_memory_not_equal(p1.b, p2.b, 32);
	assert_int_equal(tn_invite_book_redeem(&b, &p2, T0, NULL, &why), TN_ERR_NOTFOUND);
	assert_int_equal(why, TN_INVITE_R_UNKNOWN);
	/* Another network, same secret: another PSK too. */
	forged = inv;
	forged.network_id[0] ^= 1;
	tn_invite_join_psk(&forged, &p3);
	assert_memory_not_equal(p1.b, p3.b, 32);
	/* The PSK is keyed BLAKE2b-256 over the label and network id. */
	uint8_t msg[sizeof TN_INVITE_PSK_LABEL - 1 + TN_NETWORK_ID], want[32];
	memcpy(msg, TN_INVITE_PSK_LABEL, sizeof TN_INVITE_PSK_LABEL - 1);
	memcpy(msg + sizeof TN_INVITE_PSK_LABEL - 1, inv.network_id, TN_NETWORK_ID);
	crypto_generichash(want, 32, msg, sizeof msg, inv.secret.b, TN_INVITE_SECRET);
	assert_memory_equal(p1.b, want, 32);
	assert_int_equal(tn_invite_book_redeem(&b, &p1, T0, NULL, &why), TN_OK);
	tn_invite_book_free(&b);
}

/* Count the letters of a code (dashes left out). */
static size_t letters_of(const char *code)
{
	size_t k = 0;
	for (; *code; code++)
		k += *code != '-';
	return k;
}

/* An IPv4 endpoint in its canonical spelling travels as 6 bytes; every
 * other spelling as the string it is, and a string that could have been
 * packed is refused (one encoding per invite). The figures of
 * docs/wire.md: one IPv4 endpoint, 87 payload bytes, 146 letters. */
static void compact_endpoints(void **state)
{
	(void)state;
	test_rng r = {{9}, 0};
	tn_rand rand = {test_rng_fn, &r};
	uint8_t nid[TN_NETWORK_ID] = {1};
	tn_linkpub link = {{2}};
	static const char *const same[] = {
	        "tcp:203.0.113.5:7443", "tcp:0.0.0.0:1", "tcp:255.255.255.255:65535",
	        "tcp:10.0.0.1:80",
	};
	static const char *const as_str[] = {
	        "tcp:203.0.113.05:7443", "tcp:1.2.3.4:0",    "tcp:1.2.3.4:07443",
	        "tcp:256.1.1.1:1",       "tcp:1.2.3:4",      "tcp:1.2.3.4:65536",
	        "tcp:1.2.3.4.5:6",       "tcp:1.2.3.4:",     "tcp:host.example:7443",
	        "tcp:[2001:db8::1]:7443", "onion:abc:1",     "tcp:1.2.3.4:5x",
	        "tcp:1.2.3.4:123456",
	};
	enum { NSAME = sizeof same / sizeof same[0], NSTR = sizeof as_str / sizeof as_str[0] };
	uint8_t buf[TN_INVITE_PAYLOAD_MAX];
	for (size_t i = 0; i < NSAME + NSTR; i++) {
		bool packs = i < NSAME;
		const char *e = packs ? same[i] : as_str[i - NSAME];
		tn_view v = txt(e);
		tn_invite inv, back;
		assert_int_equal(tn_invite_new(&inv, &rand, nid, &link, &v, 1, T0, TN_ROLE_MEMBER),
		                 TN_OK);
		tn_ssize n = tn_invite_encode(&inv, buf, sizeof buf);
		assert_true(n > 0);
		/* [2, bin16, bin32, [ep]...]: the endpoint starts at byte 55. */
		assert_int_equal(buf[55] == 0xc4, packs);
		size_t el = strlen(e);
		assert_int_equal(n, packs ? 87 : (tn_ssize)(80 + (el > 31 ? 1u : 0u) + el));
		assert_int_equal(tn_invite_decode(&back, buf, (size_t)n), TN_OK);
		same_invite(&inv, &back);
		char code[TN_INVITE_CODE_MAX];
		tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
		assert_true(c > 0);
		if (packs)
			assert_int_equal(letters_of(code), 146);
		tn_invite_wipe(&inv);
	}
	/* "tcp:1.2.3.a:5678" travels as a str; turned into the packable
	 * "tcp:1.2.3.4:5678" it is refused. */
	tn_view v = txt("tcp:1.2.3.a:5678");
	tn_invite inv, back;
	assert_int_equal(tn_invite_new(&inv, &rand, nid, &link, &v, 1, T0, TN_ROLE_MEMBER), TN_OK);
	tn_ssize n = tn_invite_encode(&inv, buf, sizeof buf);
	assert_true(n > 0);
	uint8_t *a = memchr(buf + 55, 'a', (size_t)n - 55);
	assert_non_null(a);
	*a = '4';
	assert_int_equal(tn_invite_decode(&back, buf, (size_t)n), TN_ERR_DEC_NONCANONICAL);
	/* A packed endpoint of another length is refused too. */
	tn_view p4 = txt("tcp:1.2.3.4:5678");
	assert_int_equal(tn_invite_new(&inv, &rand, nid, &link, &p4, 1, T0, TN_ROLE_MEMBER), TN_OK);
	n = tn_invite_encode(&inv, buf, sizeof buf);
	assert_true(n > 0 && buf[55] == 0xc4 && buf[56] == 6);
	buf[56] = 5;
	assert_int_not_equal(tn_invite_decode(&back, buf, (size_t)n), TN_OK);
	tn_invite_wipe(&inv);
}

static void reason_names(void **state)
{
	(void)state;
	assert_string_equal(tn_invite_reason_str(TN_INVITE_R_CHECKSUM), "checksum");
	assert_string_equal(tn_invite_reason_str(TN_INVITE_R_USED), "used");
	assert_string_equal(tn_invite_reason_str(99), "unknown");
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
		/* Seeds for fuzz_invite: a code, its upper-case form, a large one. */
		tn_invite inv = sample(1);
		char code[TN_INVITE_CODE_MAX], path[512];
		tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
		snprintf(path, sizeof path, "%s/code", argv[2]);
		FILE *f = fopen(path, "wb");
		if (!f || c < 0)
			return 1;
		fwrite(code, 1, (size_t)c, f);
		fclose(f);
		for (tn_ssize i = 0; i < c; i++)
			code[i] = (char)toupper((unsigned char)code[i]);
		snprintf(path, sizeof path, "%s/code-upper", argv[2]);
		f = fopen(path, "wb");
		if (!f)
			return 1;
		fwrite(code, 1, (size_t)c, f);
		fclose(f);
		snprintf(path, sizeof path, "%s/code-trunc", argv[2]);
		f = fopen(path, "wb");
		if (!f)
			return 1;
		fwrite(code, 1, (size_t)c / 2, f);
		fclose(f);
		return 0;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(roundtrip),
	        cmocka_unit_test(case_and_separators_ignored),
	        cmocka_unit_test(every_substitution_detected),
	        cmocka_unit_test(truncation_and_length),
	        cmocka_unit_test(bad_payload_with_good_checksum),
	        cmocka_unit_test(encoder_bounds),
	        cmocka_unit_test(expiry),
	        cmocka_unit_test(one_time_use),
	        cmocka_unit_test(forged_secret_other_psk),
	        cmocka_unit_test(compact_endpoints),
	        cmocka_unit_test(reason_names),
	};
	return cmocka_run_group_tests_name("invite", tests, NULL, NULL);
}
