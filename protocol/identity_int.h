/* Private to protocol/: how keystore.c builds an identity from decrypted
 * secrets without staging them anywhere but the identity's guarded memory.
 * Not part of the public API (STYLE §2). */
#ifndef TOCSIN_IDENTITY_INT_H
#define TOCSIN_IDENTITY_INT_H

#include "tocsin/identity.h"

/* The 64 secret bytes a device has: exactly the keystore's plaintext and
 * exactly what tn_identity_new() draws from the RNG, in this order. */
typedef struct tn_identity_secret {
	tn_seckey sign_seed; /* Ed25519 seed */
	tn_seckey link;      /* X25519 scalar, as drawn (clamped on use) */
} tn_identity_secret;

_Static_assert(sizeof(tn_identity_secret) == 64, "secret must be 64 contiguous bytes");

/* Allocate a zeroed, writable identity; *secret points at its secret area
 * for the caller to fill. Then call tn_identity_seal() (or tn_identity_del()
 * to give up). Returns TN_OK, TN_ERR_NOMEM or TN_ERR_INTERNAL. */
TN_NODISCARD tn_err tn_identity_alloc(tn_identity **out, tn_identity_secret **secret);

/* Derive the public keys from the filled secret and make the memory
 * read-only. Returns TN_OK or TN_ERR_INTERNAL. */
TN_NODISCARD tn_err tn_identity_seal(tn_identity *id);

/* The secret area, read-only, valid until tn_identity_del(id). */
const tn_identity_secret *tn_identity_secret_of(const tn_identity *id);

#endif
