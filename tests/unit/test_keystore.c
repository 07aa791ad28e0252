/* The keystore format: round trips, the documented order of checks, every
 * corruption and truncation, golden vectors. Passphrase tests use the
 * minimum Argon2id parameters so the suite stays fast. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "identity_int.h"
#include "tocsin/identity.h"
#include "tocsin/keystore.h"
#include "test_rng.h"



static const char PASS[] = "correct horse battery staple";
#define PASSLEN (sizeof PASS - 1)

/* Fixture: one identity, a plain and a protected (MIN params) keystore. */
typedef struct fx {
	tn_identity *id;
	uint8_t plain[TN_KEYSTORE_LEN];
	uint8_t prot[TN_KEYSTORE_LEN];
} fx;

static tn_identity *make_identity(uint8_t seed)
{
	test_rng r;
	tn_rand rand = test_rng_seed(&r, seed);
	tn_identity *id = NULL;
	assert_int_equal(tn_identity_new(&id, &rand), TN_OK);
	return id;
}

static void seal_plain(const tn_identity *id, uint8_t seed, uint8_t out[TN_KEYSTORE_LEN])
{
	test_rng r;
	tn_rand rand = test_rng_seed(&r, seed);
	assert_int_equal(tn_keystore_seal(id, NULL, 0, NULL, &rand, out, TN_KEYSTORE_LEN),
			 TN_KEYSTORE_LEN);
}

static void seal_prot(const tn_identity *id, uint8_t seed, uint8_t out[TN_KEYSTORE_LEN])
{
	test_rng r;
	tn_rand rand = test_rng_seed(&r, seed);
	tn_kdf_params k;
	tn_kdf_params_min(&k);
	assert_int_equal(tn_keystore_seal(id, PASS, PASSLEN, &k, &rand, out, TN_KEYSTORE_LEN),
			 TN_KEYSTORE_LEN);
}

static int fx_setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->id = make_identity(0x11);
	seal_plain(f->id, 0x22, f->plain);
	seal_prot(f->id, 0x33, f->prot);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	fx *f = *state;
	tn_identity_del(f->id);
	free(f);
	return 0;
}

static void assert_same_identity(const tn_identity *a, const tn_identity *b)
{
	assert_true(tn_pubkey_eq(tn_identity_pubkey(a), tn_identity_pubkey(b)));
	assert_true(tn_linkpub_eq(tn_identity_linkpub(a), tn_identity_linkpub(b)));
	assert_memory_equal(tn_identity_secret_of(a), tn_identity_secret_of(b),
			    sizeof(tn_identity_secret));
}

/* Open and expect an error (and no identity). */
static void assert_open_fails(const uint8_t *ks, size_t len, const char *pass, size_t passlen,
			      tn_err want)
{
	tn_identity *id = (tn_identity *)&id; /* must be reset to NULL */
	assert_int_equal(tn_keystore_open(&id, ks, len, pass, passlen), want);
	assert_null(id);
}

static void resum(uint8_t *ks)
{
	crypto_generichash(ks + TN_KS_OFF_SUM, TN_KS_SUM_LEN, ks, TN_KS_OFF_SUM, NULL, 0);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- Round trips ---- */

static void roundtrip_without_passphrase(void **state)
{
	fx *f = *state;
	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_open(&id, f->plain, sizeof f->plain, NULL, 0), TN_OK);
	assert_same_identity(id, f->id);
	tn_identity_del(id);
}

static void roundtrip_with_passphrase(void **state)
{
	fx *f = *state;
	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_open(&id, f->prot, sizeof f->prot, PASS, PASSLEN), TN_OK);
	assert_same_identity(id, f->id);
	tn_identity_del(id);
}

static void layout_fields_as_documented(void **state)
{
	fx *f = *state;
	assert_memory_equal(f->plain, "TOCSINKS", 8);
	assert_int_equal(f->plain[TN_KS_OFF_VERSION], 1);
	assert_int_equal(f->plain[TN_KS_OFF_FLAGS], 0);
	assert_true(sodium_is_zero(f->plain + TN_KS_OFF_OPSLIMIT, 8 + 16)); /* params, salt */
	assert_int_equal(f->prot[TN_KS_OFF_FLAGS], TN_KEYSTORE_FLAG_PASSPHRASE);
	static const uint8_t min_params[8] = {1, 0, 0, 0, 8, 0, 0, 0};
	assert_memory_equal(f->prot + TN_KS_OFF_OPSLIMIT, min_params, 8);
	assert_false(sodium_is_zero(f->prot + TN_KS_OFF_SALT, 16));
	assert_int_equal(TN_KEYSTORE_LEN, 170);
}

static void passphrase_ignored_for_plain_keystore(void **state)
{
	fx *f = *state;
	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_open(&id, f->plain, sizeof f->plain, PASS, PASSLEN), TN_OK);
	assert_same_identity(id, f->id);
	tn_identity_del(id);
}

static void wrong_passphrase(void **state)
{
	fx *f = *state;
	assert_open_fails(f->prot, sizeof f->prot, "correct horse battery stapler", PASSLEN + 1,
			  TN_ERR_PASSPHRASE);
	assert_open_fails(f->prot, sizeof f->prot, PASS, PASSLEN - 1, TN_ERR_PASSPHRASE);
}

static void missing_passphrase_is_needpass(void **state)
{
	fx *f = *state;
	assert_open_fails(f->prot, sizeof f->prot, NULL, 0, TN_ERR_NEEDPASS);
	assert_open_fails(f->prot, sizeof f->prot, NULL, PASSLEN, TN_ERR_NEEDPASS);
	assert_open_fails(f->prot, sizeof f->prot, PASS, 0, TN_ERR_NEEDPASS);
}

static void change_passphrase_by_reseal(void **state)
{
	fx *f = *state;
	tn_identity *id = NULL;
	assert_int_equal(tn_keystore_open(&id, f->prot, sizeof f->prot, PASS, PASSLEN), TN_OK);
	uint8_t ks[TN_KEYSTORE_LEN];
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 0x44);
	tn_kdf_params k;
	tn_kdf_params_min(&k);
	assert_int_equal(tn_keystore_seal(id, "new one", 7, &k, &rand, ks, sizeof ks),
			 TN_KEYSTORE_LEN);
	tn_identity_del(id);
	assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_PASSPHRASE);
	assert_int_equal(tn_keystore_open(&id, ks, sizeof ks, "new one", 7), TN_OK);
	assert_same_identity(id, f->id);
	tn_identity_del(id);
}

/* ---- Corruption: the checksum catches every bit ---- */

static void every_bit_flip(const uint8_t *orig, const char *pass, size_t passlen)
{
	uint8_t ks[TN_KEYSTORE_LEN];
	for (size_t i = 0; i < TN_KEYSTORE_LEN; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(ks, orig, sizeof ks);
			ks[i] ^= (uint8_t)(1u << bit);
			/* The version byte is checked before the checksum, so
			 * that a future format is named as such (header doc). */
			tn_err want = i == TN_KS_OFF_VERSION ? TN_ERR_KS_VERSION : TN_ERR_CORRUPT;
			assert_open_fails(ks, sizeof ks, pass, passlen, want);
		}
	}
}

static void every_bit_flip_plain_is_corrupt(void **state)
{
	fx *f = *state;
	every_bit_flip(f->plain, NULL, 0);
}

static void every_bit_flip_protected_is_corrupt(void **state)
{
	fx *f = *state;
	/* With the right passphrase: corruption must not look like a wrong one. */
	every_bit_flip(f->prot, PASS, PASSLEN);
}

/* An attacker who recomputes the checksum still meets the AEAD. */
static void ciphertext_flip_with_valid_sum_fails_aead(void **state)
{
	fx *f = *state;
	uint8_t ks[TN_KEYSTORE_LEN];
	for (size_t i = TN_KS_OFF_CT; i < TN_KS_OFF_SUM; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(ks, f->prot, sizeof ks);
			ks[i] ^= (uint8_t)(1u << bit);
			resum(ks);
			assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_PASSPHRASE);
			/* Same edit on a plain keystore: nothing to get wrong
			 * but the file, so it is reported as corruption. */
			memcpy(ks, f->plain, sizeof ks);
			ks[i] ^= (uint8_t)(1u << bit);
			resum(ks);
			assert_open_fails(ks, sizeof ks, NULL, 0, TN_ERR_CORRUPT);
		}
	}
}

static void header_flip_with_valid_sum_fails_aead(void **state)
{
	fx *f = *state;
	uint8_t ks[TN_KEYSTORE_LEN];
	/* Salt and nonce: every bit. A changed salt changes the key, a changed
	 * nonce the keystream, and both are in the associated data anyway. */
	for (size_t i = TN_KS_OFF_SALT; i < TN_KS_OFF_CT; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(ks, f->prot, sizeof ks);
			ks[i] ^= (uint8_t)(1u << bit);
			resum(ks);
			assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_PASSPHRASE);
		}
	}
	/* Nonce of a plain keystore (its salt must stay zero). */
	for (size_t i = TN_KS_OFF_NONCE; i < TN_KS_OFF_CT; i++) {
		memcpy(ks, f->plain, sizeof ks);
		ks[i] ^= 0x80;
		resum(ks);
		assert_open_fails(ks, sizeof ks, NULL, 0, TN_ERR_CORRUPT);
	}
	/* KDF parameters changed to other sane values: opslimit 1 -> 3 and
	 * memlimit 8 -> 24 KiB. Bound by the AD, and a different key anyway. */
	memcpy(ks, f->prot, sizeof ks);
	ks[TN_KS_OFF_OPSLIMIT] ^= 0x02;
	resum(ks);
	assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_PASSPHRASE);
	memcpy(ks, f->prot, sizeof ks);
	ks[TN_KS_OFF_MEMLIMIT] ^= 0x10;
	resum(ks);
	assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_PASSPHRASE);
}

static void flags_flip_with_valid_sum_is_corrupt(void **state)
{
	fx *f = *state;
	uint8_t ks[TN_KEYSTORE_LEN];
	/* protected -> plain: params and salt are then non-zero */
	memcpy(ks, f->prot, sizeof ks);
	ks[TN_KS_OFF_FLAGS] = 0;
	resum(ks);
	assert_open_fails(ks, sizeof ks, NULL, 0, TN_ERR_CORRUPT);
	/* plain -> protected: params are then zero, below the minimum */
	memcpy(ks, f->plain, sizeof ks);
	ks[TN_KS_OFF_FLAGS] = TN_KEYSTORE_FLAG_PASSPHRASE;
	resum(ks);
	assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_CORRUPT);
	/* unknown flag bits */
	for (unsigned bit = 1; bit < 8; bit++) {
		memcpy(ks, f->plain, sizeof ks);
		ks[TN_KS_OFF_FLAGS] ^= (uint8_t)(1u << bit);
		resum(ks);
		assert_open_fails(ks, sizeof ks, NULL, 0, TN_ERR_CORRUPT);
	}
	/* plain with a non-zero salt */
	memcpy(ks, f->plain, sizeof ks);
	ks[TN_KS_OFF_SALT + 5] = 1;
	resum(ks);
	assert_open_fails(ks, sizeof ks, NULL, 0, TN_ERR_CORRUPT);
}

static void every_truncation_is_corrupt(void **state)
{
	fx *f = *state;
	for (size_t len = 0; len < TN_KEYSTORE_LEN; len++) {
		/* exact-size copy so ASan sees any read past the end */
		uint8_t *p = malloc(len ? len : 1);
		assert_non_null(p);
		memcpy(p, f->prot, len);
		assert_open_fails(p, len, PASS, PASSLEN, TN_ERR_CORRUPT);
		memcpy(p, f->plain, len);
		assert_open_fails(p, len, NULL, 0, TN_ERR_CORRUPT);
		free(p);
	}
}

static void trailing_byte_is_corrupt(void **state)
{
	fx *f = *state;
	uint8_t ks[TN_KEYSTORE_LEN + 1];
	memcpy(ks, f->plain, TN_KEYSTORE_LEN);
	ks[TN_KEYSTORE_LEN] = 0;
	assert_open_fails(ks, sizeof ks, NULL, 0, TN_ERR_CORRUPT);
}

static void unknown_version(void **state)
{
	fx *f = *state;
	uint8_t ks[TN_KEYSTORE_LEN];
	const uint8_t versions[] = {0, 2, 255};
	for (size_t i = 0; i < sizeof versions; i++) {
		memcpy(ks, f->prot, sizeof ks);
		ks[TN_KS_OFF_VERSION] = versions[i];
		resum(ks);
		assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_KS_VERSION);
	}
}

/* A crafted file with a valid checksum and absurd parameters is refused
 * before Argon2 runs: with opslimit 2^32-1 a single hash would not finish
 * within the test's timeout, and 4 TiB would not be allocatable. The
 * missing passphrase is not even reported: the parameters come first. */
static void absurd_kdf_params_rejected_before_hashing(void **state)
{
	fx *f = *state;
	static const struct {
		uint32_t ops, mem_kib;
	} bad[] = {
		{UINT32_MAX, TN_KS_MEMLIMIT_KIB_MIN},
		{TN_KS_OPSLIMIT_MIN, UINT32_MAX},
		{UINT32_MAX, UINT32_MAX},
		{TN_KS_OPSLIMIT_MAX + 1, TN_KS_MEMLIMIT_KIB_MIN},
		{TN_KS_OPSLIMIT_MIN, TN_KS_MEMLIMIT_KIB_MAX + 1},
		{0, TN_KS_MEMLIMIT_KIB_MIN},
		{TN_KS_OPSLIMIT_MIN, TN_KS_MEMLIMIT_KIB_MIN - 1},
		{TN_KS_OPSLIMIT_MIN, 0},
	};
	uint8_t ks[TN_KEYSTORE_LEN];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(ks, f->prot, sizeof ks);
		put_le32(ks + TN_KS_OFF_OPSLIMIT, bad[i].ops);
		put_le32(ks + TN_KS_OFF_MEMLIMIT, bad[i].mem_kib);
		resum(ks);
		assert_open_fails(ks, sizeof ks, PASS, PASSLEN, TN_ERR_CORRUPT);
		assert_open_fails(ks, sizeof ks, NULL, 0, TN_ERR_CORRUPT);
	}
}

/* ---- Sealing ---- */

static void seal_small_buffer_is_nobuf(void **state)
{
	fx *f = *state;
	uint8_t out[TN_KEYSTORE_LEN];
	memset(out, 0xee, sizeof out);
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 1);
	assert_int_equal(
		tn_keystore_seal(f->id, NULL, 0, NULL, &rand, out, TN_KEYSTORE_LEN - 1),
		TN_ERR_NOBUF);
	for (size_t i = 0; i < sizeof out; i++)
		assert_int_equal(out[i], 0xee); /* nothing written */
	assert_int_equal(r.calls, 0);           /* nothing drawn */
}

static void seal_rejects_bad_arguments(void **state)
{
	fx *f = *state;
	uint8_t out[TN_KEYSTORE_LEN];
	test_rng r;
	tn_rand rand = test_rng_seed(&r, 1);
	tn_kdf_params k;
	/* An empty passphrase would look protected and protect nothing. */
	assert_int_equal(tn_keystore_seal(f->id, "", 0, NULL, &rand, out, sizeof out),
			 TN_ERR_INVAL);
	k.opslimit = TN_KS_OPSLIMIT_MAX + 1;
	k.memlimit_kib = TN_KS_MEMLIMIT_KIB_MIN;
	assert_int_equal(tn_keystore_seal(f->id, PASS, PASSLEN, &k, &rand, out, sizeof out),
			 TN_ERR_INVAL);
	tn_kdf_params_min(&k);
	k.memlimit_kib = TN_KS_MEMLIMIT_KIB_MIN - 1;
	assert_int_equal(tn_keystore_seal(f->id, PASS, PASSLEN, &k, &rand, out, sizeof out),
			 TN_ERR_INVAL);
	assert_int_equal(tn_keystore_seal(NULL, NULL, 0, NULL, &rand, out, sizeof out),
			 TN_ERR_INVAL);
	assert_int_equal(tn_keystore_seal(f->id, NULL, 0, NULL, NULL, out, sizeof out),
			 TN_ERR_INVAL);
	char big[TN_PASSPHRASE_MAX + 1];
	memset(big, 'a', sizeof big);
	assert_int_equal(tn_keystore_seal(f->id, big, sizeof big, &k, &rand, out, sizeof out),
			 TN_ERR_INVAL);
	assert_open_fails(f->prot, sizeof f->prot, big, sizeof big, TN_ERR_INVAL);
}

static void default_params_are_moderate_and_accepted(void **state)
{
	(void)state;
	tn_kdf_params k;
	tn_kdf_params_default(&k);
	assert_int_equal(k.opslimit, crypto_pwhash_OPSLIMIT_MODERATE);
	assert_int_equal((size_t)k.memlimit_kib * 1024, crypto_pwhash_MEMLIMIT_MODERATE);
	assert_in_range(k.opslimit, TN_KS_OPSLIMIT_MIN, TN_KS_OPSLIMIT_MAX);
	assert_in_range(k.memlimit_kib, TN_KS_MEMLIMIT_KIB_MIN, TN_KS_MEMLIMIT_KIB_MAX);
}

/* ---- Golden vectors ----
 *
 * Identity from the seeded generator (key 0x11..), plain keystore sealed with
 * generator 0x22.., protected one (PASS, minimum parameters) with 0x33.. .
 * Pinned so that any change to the format shows. The seed corpus of
 * fuzz/fuzz_keystore.c is exactly these two files; regenerate it with
 *     TOCSIN_WRITE_KS_SEEDS=fuzz/corpus/keystore build/tests/test_keystore
 *
 * Cross-checked independently of libsodium with Python 3 (hashlib.blake2b,
 * cryptography's Argon2id, ChaCha20Poly1305 and Ed25519/X25519, HChaCha20 in
 * pure Python): the checksums verify, both decrypt, and the plaintexts give
 * the public keys GOLDEN_PK and GOLDEN_LINKPK below. */
#define GOLDEN_PLAIN "544f4353494e4b530100000000000000000000000000000000000000000000000000b41df80b2362" \
	"f8d1635a009392eca00850e02dbd45372349d166286d4ae2e2d18fe63896e25f3a028c7e1386076f" \
	"5f5809b2cedaa8986903af98c872accfad530c7b9e32753610395ba2222a9adb4e07c006115b16e1" \
	"7532708f02904d0dae771bed6021503f52682a2a3a75ab580d3e0a52c906fd4ea6ff59c0953a0ccb" \
	"b4f6558bfb75d120b251"
#define GOLDEN_PROT "544f4353494e4b53010101000000080000007754de54ddddd532b3e7c6749833becb7460135d28d8" \
	"b5fea74ec816bfae35f179a05a254418aae054d98492c397ddc681b1147d88270733f5307db86881" \
	"7aaf03727b27606380dcab6496f5261cc1a2eddd1cf0d0c2ea1dd6bbfb85278f72e01348bfdb4b13" \
	"842288fedfc6077380485aef6445bc7ca82dfcb2c5074a5288547a57784d9c7a0f20cbbd12fee58f" \
	"fac56f18478e8023a9e5"
#define GOLDEN_PK "2a1d3cecc64581b10a23db1793b629034d571038ce27f7633eb7988cc04f33ad"
#define GOLDEN_LINKPK "e89dbf6fe3061e9efae5c31506928a046ea275003aac0fbd12c860814ed72c55"

static void write_seed(const char *dir, const char *name, const uint8_t *ks)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < sizeof path);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(ks, 1, TN_KEYSTORE_LEN, fp), TN_KEYSTORE_LEN);
	assert_int_equal(fclose(fp), 0);
}

static void assert_hex(const uint8_t *b, size_t len, const char *want)
{
	char hex[2 * TN_KEYSTORE_LEN + 1];
	assert_true(len <= TN_KEYSTORE_LEN);
	sodium_bin2hex(hex, sizeof hex, b, len);
	assert_string_equal(hex, want);
}

static void golden_vectors(void **state)
{
	fx *f = *state;
	assert_hex(f->plain, TN_KEYSTORE_LEN, GOLDEN_PLAIN);
	assert_hex(f->prot, TN_KEYSTORE_LEN, GOLDEN_PROT);
	assert_hex(tn_identity_pubkey(f->id)->b, 32, GOLDEN_PK);
	assert_hex(tn_identity_linkpub(f->id)->b, 32, GOLDEN_LINKPK);
	const char *dir = getenv("TOCSIN_WRITE_KS_SEEDS");
	if (dir) {
		write_seed(dir, "plain.ks", f->plain);
		write_seed(dir, "protected-min.ks", f->prot);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_without_passphrase),
		cmocka_unit_test(roundtrip_with_passphrase),
		cmocka_unit_test(layout_fields_as_documented),
		cmocka_unit_test(passphrase_ignored_for_plain_keystore),
		cmocka_unit_test(wrong_passphrase),
		cmocka_unit_test(missing_passphrase_is_needpass),
		cmocka_unit_test(change_passphrase_by_reseal),
		cmocka_unit_test(every_bit_flip_plain_is_corrupt),
		cmocka_unit_test(every_bit_flip_protected_is_corrupt),
		cmocka_unit_test(ciphertext_flip_with_valid_sum_fails_aead),
		cmocka_unit_test(header_flip_with_valid_sum_fails_aead),
		cmocka_unit_test(flags_flip_with_valid_sum_is_corrupt),
		cmocka_unit_test(every_truncation_is_corrupt),
		cmocka_unit_test(trailing_byte_is_corrupt),
		cmocka_unit_test(unknown_version),
		cmocka_unit_test(absurd_kdf_params_rejected_before_hashing),
		cmocka_unit_test(seal_small_buffer_is_nobuf),
		cmocka_unit_test(seal_rejects_bad_arguments),
		cmocka_unit_test(default_params_are_moderate_and_accepted),
		cmocka_unit_test(golden_vectors),
	};
	return cmocka_run_group_tests_name("keystore", tests, fx_setup, fx_teardown);
}
