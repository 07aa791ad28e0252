/* Private to the Noise module (protocol/noise*.c) and its unit test.
 * Nothing here is part of the public API. */
#ifndef TOCSIN_NOISE_PRIV_H
#define TOCSIN_NOISE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/noise.h"

/* HMAC-BLAKE2b-512 (RFC 2104, block 128 bytes) over the concatenation
 * a || b. keylen <= 128 (ours are always TN_NOISE_HASH). */
void tn_noise_hmac(uint8_t out[TN_NOISE_HASH], const uint8_t *key, size_t keylen, const uint8_t *a,
                   size_t alen, const uint8_t *b, size_t blen);

/* Noise HKDF(chaining_key, ikm, 2 or 3): o3 may be NULL for two outputs. */
void tn_noise_hkdf(const uint8_t ck[TN_NOISE_HASH], const uint8_t *ikm, size_t ikmlen,
                   uint8_t o1[TN_NOISE_HASH], uint8_t o2[TN_NOISE_HASH], uint8_t *o3);

/* CipherState InitializeKey(k): n = 0. */
void tn_noise_cs_init(tn_noise_cipher *cs, const uint8_t k[TN_NOISE_KEY]);

/* CipherState EncryptWithAd / DecryptWithAd (spec §5.1). Without a key they
 * copy the input through, as the spec says (only the handshake's own
 * CipherState ever lacks a key). Sizes are the caller's to check: encrypt
 * writes len (+ TN_NOISE_TAG with a key) bytes; decrypt needs len >=
 * TN_NOISE_TAG with a key and writes len (- TN_NOISE_TAG) bytes. out and in
 * are equal or disjoint. Return TN_OK, TN_ERR_NONCE or TN_ERR_AUTH. */
tn_err tn_noise_cs_encrypt_ad(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                              const uint8_t *in, size_t len, uint8_t *out);
tn_err tn_noise_cs_decrypt_ad(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                              const uint8_t *in, size_t len, uint8_t *out);

/* True when [a, a+alen) and [b, b+blen) share a byte. */
bool tn_noise_overlap(const void *a, size_t alen, const void *b, size_t blen);

/* Test hook: set the next nonce (to reach 2^64-1 without 2^64 messages). */
void tn_noise_cipher_set_nonce(tn_noise_cipher *cs, uint64_t n);

#endif
