/* Identity keys, signatures, link DH, fingerprints and safety numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "identity_int.h"
#include "tocsin/identity.h"
#include "test_rng.h"



/* A "generator" that replays fixed bytes, to feed known test vectors. */
typedef struct script_rng {
	const uint8_t *bytes;
	size_t len, pos;
} script_rng;

static void script_fn(void *ud, uint8_t *buf, size_t len)
{
	script_rng *s = ud;
	assert_true(len <= s->len - s->pos);
	memcpy(buf, s->bytes + s->pos, len);
	s->pos += len;
}

static void unhex(uint8_t *out, size_t outlen, const char *hex)
{
	size_t n = 0;
	assert_int_equal(sodium_hex2bin(out, outlen, hex, strlen(hex), NULL, &n, NULL), 0);
	assert_int_equal(n, outlen);
}

/* RFC 8032 §7.1 TEST 1 and TEST 2 (Ed25519), RFC 7748 §6.1 (X25519). */
#define RFC8032_T1_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC8032_T1_PK "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC8032_T1_SIG                                                                    \
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac" \
	"c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
#define RFC8032_T2_PK "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
#define RFC7748_ALICE_SK "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define RFC7748_ALICE_PK "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define RFC7748_BOB_PK "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define RFC7748_SHARED "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

/* An identity whose generator output is RFC 8032 TEST 1's seed followed by
 * RFC 7748's Alice scalar. */
static tn_identity *rfc_identity(void)
{
	uint8_t bytes[64];
	unhex(bytes, 32, RFC8032_T1_SEED);
	unhex(bytes + 32, 32, RFC7748_ALICE_SK);
	script_rng s = {bytes, sizeof bytes, 0};
	tn_rand r = {script_fn, &s};
	tn_identity *id = NULL;
	assert_int_equal(tn_identity_new(&id, &r), TN_OK);
	assert_int_equal(s.pos, 64);
	sodium_memzero(bytes, sizeof bytes);
	return id;
}

static tn_pubkey pk_from_hex(const char *hex)
{
	tn_pubkey pk;
	unhex(pk.b, sizeof pk.b, hex);
	return pk;
}

/* ---- Identity ---- */

static void new_is_deterministic_from_rng(void **state)
{
	(void)state;
	test_rng r1, r2, r3;
	tn_rand a = test_rng_seed(&r1, 7), b = test_rng_seed(&r2, 7), c = test_rng_seed(&r3, 8);
	tn_identity *x = NULL, *y = NULL, *z = NULL;
	assert_int_equal(tn_identity_new(&x, &a), TN_OK);
	assert_int_equal(tn_identity_new(&y, &b), TN_OK);
	assert_int_equal(tn_identity_new(&z, &c), TN_OK);
	assert_true(tn_pubkey_eq(tn_identity_pubkey(x), tn_identity_pubkey(y)));
	assert_true(tn_linkpub_eq(tn_identity_linkpub(x), tn_identity_linkpub(y)));
	assert_false(tn_pubkey_eq(tn_identity_pubkey(x), tn_identity_pubkey(z)));
	assert_false(tn_linkpub_eq(tn_identity_linkpub(x), tn_identity_linkpub(z)));
	tn_identity_del(x);
	tn_identity_del(y);
	tn_identity_del(z);
}

static void keys_match_rfc_vectors(void **state)
{
	(void)state;
	tn_identity *id = rfc_identity();
	tn_pubkey pk = pk_from_hex(RFC8032_T1_PK);
	tn_linkpub lpk;
	unhex(lpk.b, sizeof lpk.b, RFC7748_ALICE_PK);
	assert_true(tn_pubkey_eq(tn_identity_pubkey(id), &pk));
	assert_true(tn_linkpub_eq(tn_identity_linkpub(id), &lpk));
	tn_identity_del(id);
}

static void identity_and_link_keys_are_separate(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 1);
	tn_identity *id = NULL;
	assert_int_equal(tn_identity_new(&id, &rand), TN_OK);
	assert_int_not_equal(memcmp(tn_identity_pubkey(id)->b, tn_identity_linkpub(id)->b, 32), 0);
	const tn_identity_secret *s = tn_identity_secret_of(id);
	assert_int_not_equal(memcmp(s->sign_seed.b, s->link.b, 32), 0);
	tn_identity_del(id);
}

static void sign_matches_rfc8032(void **state)
{
	(void)state;
	tn_identity *id = rfc_identity();
	tn_sig sig, want;
	unhex(want.b, sizeof want.b, RFC8032_T1_SIG);
	assert_int_equal(tn_identity_sign(id, NULL, 0, &sig), TN_OK);
	assert_memory_equal(sig.b, want.b, sizeof sig.b);
	tn_identity_del(id);
}

static void sign_then_verify(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 2);
	tn_identity *id = NULL, *other = NULL;
	assert_int_equal(tn_identity_new(&id, &rand), TN_OK);
	assert_int_equal(tn_identity_new(&other, &rand), TN_OK);
	uint8_t msg[] = "panic: help at the office";
	tn_sig sig;
	assert_int_equal(tn_identity_sign(id, msg, sizeof msg, &sig), TN_OK);
	assert_int_equal(tn_sig_verify(tn_identity_pubkey(id), msg, sizeof msg, &sig), TN_OK);
	/* wrong signer */
	assert_int_equal(tn_sig_verify(tn_identity_pubkey(other), msg, sizeof msg, &sig),
			 TN_ERR_AUTH);
	/* altered message */
	msg[0] ^= 1;
	assert_int_equal(tn_sig_verify(tn_identity_pubkey(id), msg, sizeof msg, &sig),
			 TN_ERR_AUTH);
	msg[0] ^= 1;
	/* altered signature */
	sig.b[10] ^= 0x40;
	assert_int_equal(tn_sig_verify(tn_identity_pubkey(id), msg, sizeof msg, &sig),
			 TN_ERR_AUTH);
	tn_identity_del(id);
	tn_identity_del(other);
}

static void link_dh_matches_rfc7748(void **state)
{
	(void)state;
	tn_identity *id = rfc_identity();
	tn_linkpub bob;
	tn_seckey shared, want;
	unhex(bob.b, sizeof bob.b, RFC7748_BOB_PK);
	unhex(want.b, sizeof want.b, RFC7748_SHARED);
	assert_int_equal(tn_identity_link_dh(id, &bob, &shared), TN_OK);
	assert_memory_equal(shared.b, want.b, sizeof want.b);
	tn_identity_del(id);
}

static void link_dh_rejects_low_order_point(void **state)
{
	(void)state;
	tn_identity *id = rfc_identity();
	tn_linkpub zero = {{0}};
	tn_seckey shared;
	memset(shared.b, 0xaa, sizeof shared.b);
	assert_int_equal(tn_identity_link_dh(id, &zero, &shared), TN_ERR_DH);
	assert_true(sodium_is_zero(shared.b, sizeof shared.b));
	tn_identity_del(id);
}

static void link_secret_is_the_drawn_scalar(void **state)
{
	(void)state;
	tn_identity *id = rfc_identity();
	tn_seckey want;
	unhex(want.b, sizeof want.b, RFC7748_ALICE_SK);
	const tn_seckey *sk = tn_identity_link_secret(id);
	assert_memory_equal(sk->b, want.b, sizeof want.b);
	tn_identity_del(id);
}

static void del_null_is_fine(void **state)
{
	(void)state;
	tn_identity_del(NULL);
}

static void new_rejects_null_arguments(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 3);
	tn_rand nofn = {NULL, NULL};
	tn_identity *id = (tn_identity *)&r; /* must be reset to NULL */
	assert_int_equal(tn_identity_new(NULL, &rand), TN_ERR_INVAL);
	assert_int_equal(tn_identity_new(&id, NULL), TN_ERR_INVAL);
	assert_null(id);
	assert_int_equal(tn_identity_new(&id, &nofn), TN_ERR_INVAL);
	assert_null(id);
}

/* ---- Fingerprints and safety numbers ---- */

static void assert_groups(const char *s, size_t groups)
{
	assert_int_equal(strlen(s), groups * 6 - 1);
	for (size_t i = 0; i < groups * 6 - 1; i++) {
		if (i % 6 == 5)
			assert_int_equal(s[i], ' ');
		else
			assert_true(s[i] >= '0' && s[i] <= '9');
	}
}

static void fingerprint_format(void **state)
{
	(void)state;
	tn_pubkey pk = pk_from_hex(RFC8032_T1_PK);
	char s[TN_FINGERPRINT_STRLEN + 1];
	assert_int_equal(tn_fingerprint_str(&pk, s, sizeof s), TN_FINGERPRINT_STRLEN);
	assert_groups(s, TN_FINGERPRINT_GROUPS);
}

static void safety_number_format(void **state)
{
	(void)state;
	tn_pubkey a = pk_from_hex(RFC8032_T1_PK), b = pk_from_hex(RFC8032_T2_PK);
	char s[TN_SAFETY_STRLEN + 1];
	assert_int_equal(tn_safety_number_str(&a, &b, s, sizeof s), TN_SAFETY_STRLEN);
	assert_groups(s, 12);
	/* The smaller key's fingerprint comes first: T2's key starts 0x3d. */
	char fa[TN_FINGERPRINT_STRLEN + 1], fb[TN_FINGERPRINT_STRLEN + 1];
	assert_int_equal(tn_fingerprint_str(&a, fa, sizeof fa), TN_FINGERPRINT_STRLEN);
	assert_int_equal(tn_fingerprint_str(&b, fb, sizeof fb), TN_FINGERPRINT_STRLEN);
	assert_memory_equal(s, fb, TN_FINGERPRINT_STRLEN);
	assert_int_equal(s[TN_FINGERPRINT_STRLEN], ' ');
	assert_string_equal(s + TN_FINGERPRINT_STRLEN + 1, fa);
}

static void safety_number_is_symmetric(void **state)
{
	(void)state;
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 4);
	for (int i = 0; i < 8; i++) {
		tn_identity *x = NULL, *y = NULL;
		assert_int_equal(tn_identity_new(&x, &rand), TN_OK);
		assert_int_equal(tn_identity_new(&y, &rand), TN_OK);
		char ab[TN_SAFETY_STRLEN + 1], ba[TN_SAFETY_STRLEN + 1];
		assert_int_equal(tn_safety_number_str(tn_identity_pubkey(x), tn_identity_pubkey(y),
						      ab, sizeof ab),
				 TN_SAFETY_STRLEN);
		assert_int_equal(tn_safety_number_str(tn_identity_pubkey(y), tn_identity_pubkey(x),
						      ba, sizeof ba),
				 TN_SAFETY_STRLEN);
		assert_string_equal(ab, ba);
		tn_identity_del(x);
		tn_identity_del(y);
	}
}

static void safety_number_changes_with_either_key(void **state)
{
	(void)state;
	tn_pubkey a = pk_from_hex(RFC8032_T1_PK), b = pk_from_hex(RFC8032_T2_PK);
	char base[TN_SAFETY_STRLEN + 1], s[TN_SAFETY_STRLEN + 1];
	assert_int_equal(tn_safety_number_str(&a, &b, base, sizeof base), TN_SAFETY_STRLEN);
	/* Flip the last bit of a, then of b: a change anywhere in either key
	 * must show. The order of the pair is unchanged by these flips, so
	 * compare the half that belongs to the changed key. */
	a.b[31] ^= 1;
	assert_int_equal(tn_safety_number_str(&a, &b, s, sizeof s), TN_SAFETY_STRLEN);
	assert_string_not_equal(s, base);
	assert_memory_equal(s, base, TN_FINGERPRINT_STRLEN); /* b's half (first) */
	assert_memory_not_equal(s + 36, base + 36, TN_FINGERPRINT_STRLEN);
	a.b[31] ^= 1;
	b.b[31] ^= 1;
	assert_int_equal(tn_safety_number_str(&a, &b, s, sizeof s), TN_SAFETY_STRLEN);
	assert_string_not_equal(s, base);
	assert_memory_not_equal(s, base, TN_FINGERPRINT_STRLEN);
	assert_memory_equal(s + 36, base + 36, TN_FINGERPRINT_STRLEN);
}

/* Known answers. Pinned from this implementation AND recomputed
 * independently with Python's hashlib (no libsodium involved):
 *
 *   import hashlib
 *   def fp(pk):
 *       h = b"tocsin/fingerprint/1" + pk
 *       for _ in range(5200):
 *           h = hashlib.blake2b(h + pk, digest_size=64).digest()
 *       return " ".join("%05d" % (int.from_bytes(h[5*g:5*g+5], "big") % 100000)
 *                       for g in range(6))
 *   a = bytes.fromhex(RFC8032_T1_PK); b = bytes.fromhex(RFC8032_T2_PK)
 *   print(fp(a)); print(fp(b))
 *   lo, hi = sorted([a, b]); print(fp(lo) + " " + fp(hi))
 *   print(hashlib.blake2b(a, digest_size=32).hexdigest()[:16])
 *
 * Python 3 output, pasted:
 *   71473 64524 68571 16492 81238 45265
 *   46638 85651 47445 25324 64131 24892
 *   46638 85651 47445 25324 64131 24892 71473 64524 68571 16492 81238 45265
 *   7849ac3049680be1
 */
#define KAT_FP_T1 "71473 64524 68571 16492 81238 45265"
#define KAT_FP_T2 "46638 85651 47445 25324 64131 24892"
#define KAT_SAFETY "46638 85651 47445 25324 64131 24892 " \
	"71473 64524 68571 16492 81238 45265"
#define KAT_SHORT_T1 "7849ac3049680be1"

static void fingerprint_known_answer(void **state)
{
	(void)state;
	tn_pubkey a = pk_from_hex(RFC8032_T1_PK), b = pk_from_hex(RFC8032_T2_PK);
	char s[TN_FINGERPRINT_STRLEN + 1];
	assert_int_equal(tn_fingerprint_str(&a, s, sizeof s), TN_FINGERPRINT_STRLEN);
	assert_string_equal(s, KAT_FP_T1);
	assert_int_equal(tn_fingerprint_str(&b, s, sizeof s), TN_FINGERPRINT_STRLEN);
	assert_string_equal(s, KAT_FP_T2);
}

static void safety_number_known_answer(void **state)
{
	(void)state;
	tn_pubkey a = pk_from_hex(RFC8032_T1_PK), b = pk_from_hex(RFC8032_T2_PK);
	char s[TN_SAFETY_STRLEN + 1];
	assert_int_equal(tn_safety_number_str(&a, &b, s, sizeof s), TN_SAFETY_STRLEN);
	assert_string_equal(s, KAT_SAFETY);
}

static void fingerprint_nobuf(void **state)
{
	(void)state;
	tn_pubkey a = pk_from_hex(RFC8032_T1_PK), b = pk_from_hex(RFC8032_T2_PK);
	char s[TN_SAFETY_STRLEN + 1];
	memset(s, 'x', sizeof s);
	assert_int_equal(tn_fingerprint_str(&a, s, TN_FINGERPRINT_STRLEN), TN_ERR_NOBUF);
	assert_int_equal(tn_safety_number_str(&a, &b, s, TN_SAFETY_STRLEN), TN_ERR_NOBUF);
	for (size_t i = 0; i < sizeof s; i++)
		assert_int_equal(s[i], 'x'); /* nothing written */
	assert_int_equal(tn_fingerprint_str(&a, s, 0), TN_ERR_NOBUF);
	assert_int_equal(tn_fingerprint_str(NULL, s, sizeof s), TN_ERR_INVAL);
	assert_int_equal(tn_safety_number_str(&a, NULL, s, sizeof s), TN_ERR_INVAL);
}

static void shortfp_is_blake2b_prefix(void **state)
{
	(void)state;
	tn_pubkey a = pk_from_hex(RFC8032_T1_PK);
	tn_shortfp fp = tn_shortfp_pubkey(&a);
	assert_int_equal(strlen(fp.s), TN_SHORTFP_STRLEN);
	assert_string_equal(fp.s, KAT_SHORT_T1);
	/* Same bytes as a link key give the same short fingerprint. */
	tn_linkpub l;
	memcpy(l.b, a.b, sizeof l.b);
	assert_string_equal(tn_shortfp_linkpub(&l).s, KAT_SHORT_T1);
}

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_is_deterministic_from_rng),
		cmocka_unit_test(keys_match_rfc_vectors),
		cmocka_unit_test(identity_and_link_keys_are_separate),
		cmocka_unit_test(sign_matches_rfc8032),
		cmocka_unit_test(sign_then_verify),
		cmocka_unit_test(link_dh_matches_rfc7748),
		cmocka_unit_test(link_dh_rejects_low_order_point),
		cmocka_unit_test(link_secret_is_the_drawn_scalar),
		cmocka_unit_test(del_null_is_fine),
		cmocka_unit_test(new_rejects_null_arguments),
		cmocka_unit_test(fingerprint_format),
		cmocka_unit_test(safety_number_format),
		cmocka_unit_test(safety_number_is_symmetric),
		cmocka_unit_test(safety_number_changes_with_either_key),
		cmocka_unit_test(fingerprint_known_answer),
		cmocka_unit_test(safety_number_known_answer),
		cmocka_unit_test(fingerprint_nobuf),
		cmocka_unit_test(shortfp_is_blake2b_prefix),
	};
	return cmocka_run_group_tests_name("identity", tests, setup, NULL);
}
