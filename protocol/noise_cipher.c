/* Noise CipherState (spec §5.1) over ChaCha20-Poly1305 IETF, and the HMAC
 * and HKDF (spec §4.3) the SymmetricState builds on. libsodium 1.0.18 has
 * neither HMAC-BLAKE2b nor HKDF, so both are composed here from
 * crypto_generichash (BLAKE2b-512); no primitive is hand-rolled. */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "noise_priv.h"

enum {
	HMAC_BLOCK = 128, /* BLAKE2b block size, RFC 2104's B */
	NONCE_LEN = crypto_aead_chacha20poly1305_ietf_NPUBBYTES,
};

/* The AEAD constants must be the ones limits.h promises. */
_Static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == TN_NOISE_KEY, "key size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == TN_NOISE_TAG, "tag size");
_Static_assert(crypto_scalarmult_BYTES == TN_NOISE_DH, "dh size");
_Static_assert(crypto_generichash_BYTES_MAX == TN_NOISE_HASH, "hash size");
_Static_assert(NONCE_LEN == 12, "ietf nonce");

static void hash_update(crypto_generichash_state *st, const uint8_t *p, size_t len)
{
	if (len > 0)
		(void)crypto_generichash_update(st, p, len);
}

void tn_noise_hmac(uint8_t out[TN_NOISE_HASH], const uint8_t *key, size_t keylen, const uint8_t *a,
                   size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;
	uint8_t pad[HMAC_BLOCK];
	uint8_t inner[TN_NOISE_HASH];

	assert(keylen <= HMAC_BLOCK);

	/* inner = H((K ^ ipad) || a || b) */
	memset(pad, 0x36, sizeof pad);
	for (size_t i = 0; i < keylen; i++)
		pad[i] ^= key[i];
	(void)crypto_generichash_init(&st, NULL, 0, TN_NOISE_HASH);
	hash_update(&st, pad, sizeof pad);
	hash_update(&st, a, alen);
	hash_update(&st, b, blen);
	(void)crypto_generichash_final(&st, inner, sizeof inner);

	/* out = H((K ^ opad) || inner) */
	memset(pad, 0x5c, sizeof pad);
	for (size_t i = 0; i < keylen; i++)
		pad[i] ^= key[i];
	(void)crypto_generichash_init(&st, NULL, 0, TN_NOISE_HASH);
	hash_update(&st, pad, sizeof pad);
	hash_update(&st, inner, sizeof inner);
	(void)crypto_generichash_final(&st, out, TN_NOISE_HASH);

	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
	sodium_memzero(&st, sizeof st);
}

void tn_noise_hkdf(const uint8_t ck[TN_NOISE_HASH], const uint8_t *ikm, size_t ikmlen,
                   uint8_t o1[TN_NOISE_HASH], uint8_t o2[TN_NOISE_HASH], uint8_t *o3)
{
	static const uint8_t one = 0x01, two = 0x02, three = 0x03;
	uint8_t temp_key[TN_NOISE_HASH];

	tn_noise_hmac(temp_key, ck, TN_NOISE_HASH, ikm, ikmlen, NULL, 0);
	tn_noise_hmac(o1, temp_key, sizeof temp_key, &one, 1, NULL, 0);
	tn_noise_hmac(o2, temp_key, sizeof temp_key, o1, TN_NOISE_HASH, &two, 1);
	if (o3 != NULL)
		tn_noise_hmac(o3, temp_key, sizeof temp_key, o2, TN_NOISE_HASH, &three, 1);
	sodium_memzero(temp_key, sizeof temp_key);
}

bool tn_noise_overlap(const void *a, size_t alen, const void *b, size_t blen)
{
	if (a == NULL || b == NULL || alen == 0 || blen == 0)
		return false;
	uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
	return pa < pb ? pb - pa < alen : pa - pb < blen;
}

/* ChaChaPoly nonce: 32 bits of zeros, then the counter little-endian. */
static void make_nonce(uint8_t nonce[NONCE_LEN], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

void tn_noise_cs_init(tn_noise_cipher *cs, const uint8_t k[TN_NOISE_KEY])
{
	memcpy(cs->k, k, TN_NOISE_KEY);
	cs->n = 0;
	cs->has_k = 1;
}

void tn_noise_cipher_set_nonce(tn_noise_cipher *cs, uint64_t n)
{
	cs->n = n;
}

tn_err tn_noise_cs_encrypt_ad(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                              const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[NONCE_LEN];

	if (!cs->has_k) {
		if (len > 0 && out != in)
			memmove(out, in, len);
		return TN_OK;
	}
	/* 2^64-1 is reserved for Rekey (spec §5.1). */
	if (cs->n == UINT64_MAX)
		return TN_ERR_NONCE;
	make_nonce(nonce, cs->n);
	(void)crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad, adlen, NULL, nonce,
	                                                cs->k);
	cs->n++;
	return TN_OK;
}

tn_err tn_noise_cs_decrypt_ad(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                              const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[NONCE_LEN];

	if (!cs->has_k) {
		if (len > 0 && out != in)
			memmove(out, in, len);
		return TN_OK;
	}
	if (cs->n == UINT64_MAX)
		return TN_ERR_NONCE;
	assert(len >= TN_NOISE_TAG);
	make_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, ad, adlen, nonce,
	                                              cs->k) != 0)
		return TN_ERR_AUTH; /* libsodium leaves no plaintext in out */
	cs->n++;
	return TN_OK;
}

/* Checks shared by the public transport calls; see noise.h. */
static tn_err check_transport(const tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                              const uint8_t *in, size_t len, const uint8_t *out, size_t outlen)
{
	if ((ad == NULL && adlen > 0) || (in == NULL && len > 0) || (out == NULL && outlen > 0))
		return TN_ERR_INVAL;
	if (out != in && tn_noise_overlap(in, len, out, outlen))
		return TN_ERR_INVAL;
	/* A keyless transport cipher would send plaintext: refuse it. */
	if (!cs->has_k)
		return TN_ERR_STATE;
	return TN_OK;
}

tn_ssize tn_noise_cipher_encrypt(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                                 const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	if (cs == NULL)
		return TN_ERR_INVAL;
	if (len > TN_NOISE_PLAINTEXT_MAX)
		return TN_ERR_LIMIT;
	size_t need = len + TN_NOISE_TAG;
	if (cap < need)
		return TN_ERR_NOBUF;
	tn_err rc = check_transport(cs, ad, adlen, in, len, out, need);
	if (rc != TN_OK)
		return rc;
	rc = tn_noise_cs_encrypt_ad(cs, ad, adlen, in, len, out);
	if (rc != TN_OK)
		return rc;
	return (tn_ssize)need;
}

tn_ssize tn_noise_cipher_decrypt(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                                 const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	if (cs == NULL)
		return TN_ERR_INVAL;
	if (len > TN_NOISE_MSG_MAX)
		return TN_ERR_LIMIT;
	if (len < TN_NOISE_TAG)
		return TN_ERR_PROTO;
	size_t plen = len - TN_NOISE_TAG;
	if (cap < plen)
		return TN_ERR_NOBUF;
	tn_err rc = check_transport(cs, ad, adlen, in, len, out, plen);
	if (rc != TN_OK)
		return rc;
	rc = tn_noise_cs_decrypt_ad(cs, ad, adlen, in, len, out);
	if (rc != TN_OK)
		return rc;
	return (tn_ssize)plen;
}

tn_err tn_noise_cipher_rekey(tn_noise_cipher *cs)
{
	static const uint8_t zeros[TN_NOISE_KEY];
	uint8_t nonce[NONCE_LEN];
	uint8_t k[TN_NOISE_KEY];
	uint8_t mac[TN_NOISE_TAG];

	if (cs == NULL)
		return TN_ERR_INVAL;
	if (!cs->has_k)
		return TN_ERR_STATE;
	/* REKEY(k) = ENCRYPT(k, maxnonce, zerolen, zeros)[0..32): the tag is
	 * computed (detached) and thrown away. */
	make_nonce(nonce, UINT64_MAX);
	(void)crypto_aead_chacha20poly1305_ietf_encrypt_detached(k, mac, NULL, zeros, sizeof zeros,
	                                                         NULL, 0, NULL, nonce, cs->k);
	memcpy(cs->k, k, sizeof k);
	sodium_memzero(k, sizeof k);
	sodium_memzero(mac, sizeof mac);
	return TN_OK;
}

uint64_t tn_noise_cipher_count(const tn_noise_cipher *cs)
{
	return cs == NULL ? 0 : cs->n;
}

void tn_noise_cipher_free(tn_noise_cipher *cs)
{
	if (cs != NULL)
		sodium_memzero(cs, sizeof *cs);
}
