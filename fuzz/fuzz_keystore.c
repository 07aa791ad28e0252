/* libFuzzer target for the keystore parser (tn_keystore_open).
 *
 * Each input is opened three ways: with no passphrase, with a fixed one,
 * and, when it has the keystore's size, again after the harness has fixed
 * up its checksum, so the fuzzer gets past the BLAKE2b check it cannot
 * forge and exercises the flag and parameter checks and the AEAD. That
 * third open skips files whose in-bounds KDF parameters would make one run
 * take long (up to 1 GiB); out-of-bounds ones it keeps, since the parser
 * must refuse them before hashing. A
 * successful open must survive a seal/open round trip with the same keys.
 *
 * Seeds (fuzz/corpus/keystore/) are the golden vectors of
 * tests/unit/test_keystore.c, written by
 *     TOCSIN_WRITE_KS_SEEDS=fuzz/corpus/keystore build/tests/test_keystore
 * plain.ks has no passphrase; protected-min.ks uses the passphrase
 * "correct horse battery staple" with the minimum Argon2id parameters. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/identity.h"
#include "tocsin/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Anything but TN_KEYSTORE_LEN is refused by size alone; bigger inputs
 * teach the fuzzer nothing. */
enum { MAX_INPUT = 4 * TN_KEYSTORE_LEN };

static const char PASS[] = "correct horse battery staple";

/* Cheap enough for the checksum-fixed open: a few ms per run at most. */
enum { CHEAP_OPS = 4, CHEAP_MEM_KIB = 256 };

static void counter_rand(void *ud, uint8_t *buf, size_t len)
{
	uint8_t *c = ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (*c)++;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Re-seal an opened identity and open it again: the keys must survive. */
static void roundtrip(const tn_identity *id)
{
	uint8_t ks[TN_KEYSTORE_LEN];
	uint8_t ctr = 0;
	tn_rand rand = {counter_rand, &ctr};
	tn_kdf_params k;
	tn_kdf_params_min(&k);
	if (tn_keystore_seal(id, PASS, sizeof PASS - 1, &k, &rand, ks, sizeof ks) !=
	    TN_KEYSTORE_LEN)
		abort();
	tn_identity *again = NULL;
	if (tn_keystore_open(&again, ks, sizeof ks, PASS, sizeof PASS - 1) != TN_OK)
		abort();
	if (!tn_pubkey_eq(tn_identity_pubkey(id), tn_identity_pubkey(again)) ||
	    !tn_linkpub_eq(tn_identity_linkpub(id), tn_identity_linkpub(again)))
		abort();
	tn_identity_del(again);
}

static void try_open(const uint8_t *data, size_t size, const char *pass, size_t passlen)
{
	tn_identity *id = NULL;
	tn_err rc = tn_keystore_open(&id, data, size, pass, passlen);
	if ((rc == TN_OK) != (id != NULL))
		abort();
	if (rc == TN_OK)
		roundtrip(id);
	tn_identity_del(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return 0;
	if (sodium_init() < 0)
		abort();
	try_open(data, size, NULL, 0);
	try_open(data, size, PASS, sizeof PASS - 1);

	if (size != TN_KEYSTORE_LEN)
		return 0;
	/* Out-of-bounds parameters are fed on purpose: if the parser hashed
	 * with them, the run would time out or exceed the RSS limit. */
	uint32_t ops = le32(data + TN_KS_OFF_OPSLIMIT), mem = le32(data + TN_KS_OFF_MEMLIMIT);
	bool in_bounds = ops >= TN_KS_OPSLIMIT_MIN && ops <= TN_KS_OPSLIMIT_MAX &&
			 mem >= TN_KS_MEMLIMIT_KIB_MIN && mem <= TN_KS_MEMLIMIT_KIB_MAX;
	if (in_bounds && (ops > CHEAP_OPS || mem > CHEAP_MEM_KIB))
		return 0;
	uint8_t *ks = malloc(TN_KEYSTORE_LEN);
	if (!ks)
		abort();
	memcpy(ks, data, TN_KEYSTORE_LEN);
	crypto_generichash(ks + TN_KS_OFF_SUM, TN_KS_SUM_LEN, ks, TN_KS_OFF_SUM, NULL, 0);
	try_open(ks, TN_KEYSTORE_LEN, PASS, sizeof PASS - 1);
	free(ks);
	return 0;
}
