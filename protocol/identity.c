/* Device identity: Ed25519 identity key, X25519 link static key, their
 * fingerprints and the pairwise safety number (DESIGN §3). */
#include <string.h>

#include <sodium.h>

#include "identity_int.h"
#include "tocsin/identity.h"
#include "tocsin/limits.h"

/* The whole identity, public halves included, lives in one sodium_malloc()
 * block: guard pages around it, mlock()ed where allowed, and read-only
 * between tn_identity_seal() and tn_identity_del(), so a stray write through
 * a bad pointer faults instead of silently changing a key. Every member is
 * an array of bytes, so the (possibly unaligned) sodium_malloc pointer is
 * fine. */
struct tn_identity {
	tn_identity_secret secret;
	uint8_t sign_sk[crypto_sign_SECRETKEYBYTES]; /* libsodium's seed || pk form */
	tn_pubkey sign_pk;
	tn_linkpub link_pk;
};

_Static_assert(crypto_sign_SEEDBYTES == sizeof(tn_seckey), "ed25519 seed size");
_Static_assert(crypto_sign_PUBLICKEYBYTES == sizeof(tn_pubkey), "ed25519 pk size");
_Static_assert(crypto_sign_BYTES == sizeof(tn_sig), "ed25519 sig size");
_Static_assert(crypto_scalarmult_SCALARBYTES == sizeof(tn_seckey), "x25519 sk size");
_Static_assert(crypto_scalarmult_BYTES == sizeof(tn_linkpub), "x25519 pk size");

tn_err tn_identity_alloc(tn_identity **out, tn_identity_secret **secret)
{
	if (!out || !secret)
		return TN_ERR_INVAL;
	*out = NULL;
	*secret = NULL;
	/* Idempotent; sodium_malloc needs the page size it records. */
	if (sodium_init() < 0)
		return TN_ERR_INTERNAL;
	tn_identity *id = sodium_malloc(sizeof *id);
	if (!id)
		return TN_ERR_NOMEM;
	sodium_memzero(id, sizeof *id);
	*out = id;
	*secret = &id->secret;
	return TN_OK;
}

tn_err tn_identity_seal(tn_identity *id)
{
	if (!id)
		return TN_ERR_INVAL;
	if (crypto_sign_seed_keypair(id->sign_pk.b, id->sign_sk, id->secret.sign_seed.b) != 0)
		return TN_ERR_INTERNAL;
	if (crypto_scalarmult_base(id->link_pk.b, id->secret.link.b) != 0)
		return TN_ERR_INTERNAL;
	if (sodium_mprotect_readonly(id) != 0)
		return TN_ERR_INTERNAL;
	return TN_OK;
}

const tn_identity_secret *tn_identity_secret_of(const tn_identity *id)
{
	return &id->secret;
}

tn_err tn_identity_new(tn_identity **out, const tn_rand *rand)
{
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!rand || !rand->fn)
		return TN_ERR_INVAL;
	tn_identity *id;
	tn_identity_secret *secret;
	tn_err rc = tn_identity_alloc(&id, &secret);
	if (rc != TN_OK)
		return rc;
	/* Straight into guarded memory: no stack copy to wipe. */
	tn_rand_bytes(rand, secret, sizeof *secret);
	rc = tn_identity_seal(id);
	if (rc != TN_OK) {
		tn_identity_del(id);
		return rc;
	}
	*out = id;
	return TN_OK;
}

void tn_identity_del(tn_identity *id)
{
	if (!id)
		return;
	/* sodium_free() also wipes, but say it here where the reader looks. */
	(void)sodium_mprotect_readwrite(id);
	sodium_memzero(id, sizeof *id);
	sodium_free(id);
}

const tn_pubkey *tn_identity_pubkey(const tn_identity *id)
{
	return &id->sign_pk;
}

const tn_linkpub *tn_identity_linkpub(const tn_identity *id)
{
	return &id->link_pk;
}

const tn_seckey *tn_identity_link_secret(const tn_identity *id)
{
	return &id->secret.link;
}

tn_err tn_identity_sign(const tn_identity *id, const uint8_t *msg, size_t len, tn_sig *sig)
{
	if (!id || !sig || (!msg && len > 0))
		return TN_ERR_INVAL;
	static const uint8_t empty[1];
	if (crypto_sign_detached(sig->b, NULL, msg ? msg : empty, len, id->sign_sk) != 0) {
		sodium_memzero(sig, sizeof *sig);
		return TN_ERR_INTERNAL;
	}
	return TN_OK;
}

tn_err tn_sig_verify(const tn_pubkey *pk, const uint8_t *msg, size_t len, const tn_sig *sig)
{
	if (!pk || !sig || (!msg && len > 0))
		return TN_ERR_INVAL;
	static const uint8_t empty[1];
	if (crypto_sign_verify_detached(sig->b, msg ? msg : empty, len, pk->b) != 0)
		return TN_ERR_AUTH;
	return TN_OK;
}

tn_err tn_identity_link_dh(const tn_identity *id, const tn_linkpub *peer, tn_seckey *shared)
{
	if (!shared)
		return TN_ERR_INVAL;
	if (!id || !peer) {
		sodium_memzero(shared, sizeof *shared);
		return TN_ERR_INVAL;
	}
	/* libsodium returns -1 when the result is all zero (low-order peer). */
	if (crypto_scalarmult(shared->b, id->secret.link.b, peer->b) != 0) {
		sodium_memzero(shared, sizeof *shared);
		return TN_ERR_DH;
	}
	return TN_OK;
}

bool tn_pubkey_eq(const tn_pubkey *a, const tn_pubkey *b)
{
	return sodium_memcmp(a->b, b->b, sizeof a->b) == 0;
}

bool tn_linkpub_eq(const tn_linkpub *a, const tn_linkpub *b)
{
	return sodium_memcmp(a->b, b->b, sizeof a->b) == 0;
}

/* ---- Fingerprints ----
 *
 * Construction (mirrors Signal's NumericFingerprintGenerator with BLAKE2b-512
 * in place of SHA-512 and our own version tag in place of its 2-byte version
 * and phone number; the key itself is our stable identifier):
 *
 *     h = TAG || pk
 *     repeat 5200 times:  h = BLAKE2b-512(h || pk)
 *     group[g] = big-endian uint40(h[5g .. 5g+5]) mod 100000,  g = 0..5
 *
 * Why iterate: 30 digits carry about 99.7 bits, but people often compare
 * only the first groups, and an attacker who can get her own key admitted
 * wants one whose fingerprint looks like a victim's. Each candidate key now
 * costs 5200 hashes instead of one, about 12 more bits of work for her,
 * while we pay a millisecond or so once per display. The count is Signal's,
 * so the margin is the one its designers judged adequate. Changing TAG, the
 * count or the layout changes every safety number: bump the tag's version. */
static const char FP_TAG[] = "tocsin/fingerprint/1";

enum { FP_HASH = crypto_generichash_BYTES_MAX }; /* 64: BLAKE2b-512 */
_Static_assert(FP_HASH == 64, "BLAKE2b-512");
_Static_assert(TN_FINGERPRINT_GROUPS * 5 <= FP_HASH, "groups fit the hash");

static void fp_hash(const tn_pubkey *pk, uint8_t h[FP_HASH])
{
	crypto_generichash_state st;
	/* Iteration 1 hashes TAG || pk || pk; the following ones h || pk. */
	crypto_generichash_init(&st, NULL, 0, FP_HASH);
	crypto_generichash_update(&st, (const uint8_t *)FP_TAG, sizeof FP_TAG - 1);
	crypto_generichash_update(&st, pk->b, sizeof pk->b);
	crypto_generichash_update(&st, pk->b, sizeof pk->b);
	crypto_generichash_final(&st, h, FP_HASH);
	for (unsigned i = 1; i < TN_FINGERPRINT_ITERS; i++) {
		crypto_generichash_init(&st, NULL, 0, FP_HASH);
		crypto_generichash_update(&st, h, FP_HASH);
		crypto_generichash_update(&st, pk->b, sizeof pk->b);
		crypto_generichash_final(&st, h, FP_HASH);
	}
}

/* Five digits of group g: bytes 5g..5g+4 as a big-endian 40-bit integer,
 * mod 100000. Written with leading zeros, no NUL. No snprintf: protocol/
 * links no stdio. */
static void put_group(const uint8_t h[FP_HASH], unsigned g, char out[5])
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 5; i++)
		v = (v << 8) | h[5 * g + i];
	v %= 100000;
	for (int i = 4; i >= 0; i--) {
		out[i] = (char)('0' + (v % 10));
		v /= 10;
	}
}

/* Write 6 groups at out, separated by single spaces: 35 characters. */
static void put_fingerprint(const tn_pubkey *pk, char *out)
{
	uint8_t h[FP_HASH];
	fp_hash(pk, h);
	for (unsigned g = 0; g < TN_FINGERPRINT_GROUPS; g++) {
		if (g > 0)
			*out++ = ' ';
		put_group(h, g, out);
		out += 5;
	}
}

tn_ssize tn_fingerprint_str(const tn_pubkey *pk, char *out, size_t outlen)
{
	if (!pk || !out)
		return TN_ERR_INVAL;
	if (outlen <= TN_FINGERPRINT_STRLEN)
		return TN_ERR_NOBUF;
	put_fingerprint(pk, out);
	out[TN_FINGERPRINT_STRLEN] = '\0';
	return TN_FINGERPRINT_STRLEN;
}

tn_ssize tn_safety_number_str(const tn_pubkey *a, const tn_pubkey *b, char *out, size_t outlen)
{
	if (!a || !b || !out)
		return TN_ERR_INVAL;
	if (outlen <= TN_SAFETY_STRLEN)
		return TN_ERR_NOBUF;
	/* Public keys: the order is not secret, memcmp is fine. The smaller key's
	 * fingerprint goes first so both sides print the same string. */
	if (memcmp(a->b, b->b, sizeof a->b) > 0) {
		const tn_pubkey *t = a;
		a = b;
		b = t;
	}
	put_fingerprint(a, out);
	out[TN_FINGERPRINT_STRLEN] = ' ';
	put_fingerprint(b, out + TN_FINGERPRINT_STRLEN + 1);
	out[TN_SAFETY_STRLEN] = '\0';
	return TN_SAFETY_STRLEN;
}

_Static_assert(2 * TN_FINGERPRINT_STRLEN + 1 == TN_SAFETY_STRLEN, "safety = fp ' ' fp");
_Static_assert(2 * TN_FINGERPRINT_GROUPS == TN_SAFETY_GROUPS, "12 groups (limits.h)");

static tn_shortfp shortfp(const uint8_t key[32])
{
	tn_shortfp fp;
	uint8_t h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, key, 32, NULL, 0);
	sodium_bin2hex(fp.s, sizeof fp.s, h, TN_SHORTFP_STRLEN / 2);
	return fp;
}

tn_shortfp tn_shortfp_pubkey(const tn_pubkey *pk)
{
	return shortfp(pk->b);
}

tn_shortfp tn_shortfp_linkpub(const tn_linkpub *pk)
{
	return shortfp(pk->b);
}
