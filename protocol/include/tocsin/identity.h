/* Tocsin protocol library: device identity, fingerprints and safety numbers
 * (DESIGN §3).
 *
 * A device has two key pairs, created together by tocsin init:
 *   - an Ed25519 identity key: signs roster records, alerts and receipts;
 *     the member is known by its public half (tn_pubkey);
 *   - an X25519 link static key: the "s" of the Noise XXpsk0 handshake,
 *     certified by the roster record (tn_linkpub / tn_seckey).
 * They are separate so that a key used for DH is never also a signing key.
 *
 * Secrets live in one sodium_malloc()ed block (guard pages, mlock where the
 * OS allows it), read-only after creation, wiped by tn_identity_del().
 *
 * Every function here is pure: randomness comes from the caller's tn_rand,
 * nothing touches a clock, file or the OS RNG. Callers must have called
 * sodium_init() (the library calls it defensively, too). */
#ifndef TOCSIN_IDENTITY_H
#define TOCSIN_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/types.h"

/* Fixed-size key types (STYLE §6): never a bare uint8_t * for a key. */
typedef struct tn_pubkey {
	uint8_t b[32];
} tn_pubkey; /* Ed25519 public key: a member's identity */

typedef struct tn_linkpub {
	uint8_t b[32];
} tn_linkpub; /* X25519 public key: a device's Noise static key */

typedef struct tn_seckey {
	uint8_t b[32];
} tn_seckey; /* 32 secret bytes (X25519 scalar, Ed25519 seed) */

typedef struct tn_sig {
	uint8_t b[64];
} tn_sig; /* Ed25519 signature */

typedef struct tn_identity tn_identity; /* opaque */

/* Create a fresh identity: 64 bytes are drawn from rand in one call, the
 * first 32 are the Ed25519 seed (crypto_sign_seed_keypair), the next 32 the
 * X25519 secret scalar (crypto_scalarmult_base; clamping happens inside the
 * scalar multiplication, so the bytes are stored as drawn). Given the same
 * generator output the keys are the same, which is what lets tests and the
 * simulator be deterministic.
 *
 * On success *out owns the identity; release it with tn_identity_del().
 * Returns TN_OK, TN_ERR_INVAL (NULL argument), TN_ERR_NOMEM (sodium_malloc
 * failed: locked-memory limit, out of memory) or TN_ERR_INTERNAL (libsodium
 * failed to initialise). On error *out is NULL. */
TN_NODISCARD tn_err tn_identity_new(tn_identity **out, const tn_rand *rand);

/* Wipe every secret and free. NULL is fine. */
void tn_identity_del(tn_identity *id);

/* The public halves. Pointers into the identity, valid until
 * tn_identity_del(id). */
const tn_pubkey *tn_identity_pubkey(const tn_identity *id);
const tn_linkpub *tn_identity_linkpub(const tn_identity *id);

/* Ed25519-sign len bytes of msg (crypto_sign_detached) into *sig.
 * msg may be NULL when len is 0. Returns TN_OK, TN_ERR_INVAL (NULL id/sig,
 * or NULL msg with len > 0) or TN_ERR_INTERNAL (libsodium refused). */
TN_NODISCARD tn_err tn_identity_sign(const tn_identity *id, const uint8_t *msg, size_t len,
				     tn_sig *sig);

/* Verify an Ed25519 signature (crypto_sign_verify_detached, which also
 * rejects non-canonical and small-order encodings). Returns TN_OK or
 * TN_ERR_AUTH; TN_ERR_INVAL for NULL arguments. */
TN_NODISCARD tn_err tn_sig_verify(const tn_pubkey *pk, const uint8_t *msg, size_t len,
				  const tn_sig *sig);

/* The X25519 link secret for the Noise layer, without copying it: a pointer
 * into the identity's guarded, read-only memory, valid until
 * tn_identity_del(id). Do not copy it anywhere that is not wiped. Prefer
 * tn_identity_link_dh() when a DH output is all that is needed. */
const tn_seckey *tn_identity_link_secret(const tn_identity *id);

/* shared = X25519(link secret, peer). Returns TN_OK, TN_ERR_INVAL for NULL
 * arguments, or TN_ERR_DH when the peer key is a low-order point (the output
 * would be all zero; Noise must abort then). On error *shared is zeroed. */
TN_NODISCARD tn_err tn_identity_link_dh(const tn_identity *id, const tn_linkpub *peer,
					tn_seckey *shared);

/* Constant-time key equality (sodium_memcmp). */
bool tn_pubkey_eq(const tn_pubkey *a, const tn_pubkey *b);
bool tn_linkpub_eq(const tn_linkpub *a, const tn_linkpub *b);

/* ---- Fingerprints and safety numbers ----
 *
 * A member's fingerprint is 30 decimal digits (6 groups of 5) derived from her
 * Ed25519 public key by 5200 iterations of BLAKE2b-512 (TN_FINGERPRINT_ITERS;
 * see identity.c for the exact construction and why it is iterated). The
 * safety number of two members is both fingerprints, the one of the
 * lexicographically smaller public key first: 12 groups of 5 digits, the same
 * string on both devices, compared by voice at invite (as Signal does). */
enum {
	TN_FINGERPRINT_GROUPS = 6,
	TN_FINGERPRINT_ITERS = 5200,
	/* "ddddd ddddd ddddd ddddd ddddd ddddd": 6*5 digits + 5 spaces */
	TN_FINGERPRINT_STRLEN = 35,
	/* 12 groups of 5 digits separated by single spaces: 12*5 + 11 */
	TN_SAFETY_STRLEN = 71,
	/* short log fingerprint: 8 bytes as 16 lowercase hex digits */
	TN_SHORTFP_STRLEN = 16,
};

/* Write the 30-digit fingerprint of pk as TN_FINGERPRINT_STRLEN characters
 * plus a NUL into out ("01234 56789 ..."; single spaces, no trailing space).
 * Returns TN_FINGERPRINT_STRLEN, TN_ERR_NOBUF when outlen <=
 * TN_FINGERPRINT_STRLEN (nothing written), or TN_ERR_INVAL for NULL. */
TN_NODISCARD tn_ssize tn_fingerprint_str(const tn_pubkey *pk, char *out, size_t outlen);

/* Write the safety number of the pair (a, b) as TN_SAFETY_STRLEN characters
 * plus a NUL. Symmetric: (a, b) and (b, a) give the same string. Returns
 * TN_SAFETY_STRLEN, TN_ERR_NOBUF when outlen <= TN_SAFETY_STRLEN (nothing
 * written), or TN_ERR_INVAL for NULL. */
TN_NODISCARD tn_ssize tn_safety_number_str(const tn_pubkey *a, const tn_pubkey *b, char *out,
					   size_t outlen);

/* Short fingerprint for log lines: the first 8 bytes of BLAKE2b-256(key) as
 * 16 hex digits and a NUL. Never log a key itself (STYLE §6). The struct is
 * returned by value so it can be used inline in a log call:
 *     log("drop peer=%s", tn_shortfp_linkpub(&pk).s);                     */
typedef struct tn_shortfp {
	char s[TN_SHORTFP_STRLEN + 1];
} tn_shortfp;

tn_shortfp tn_shortfp_pubkey(const tn_pubkey *pk);
tn_shortfp tn_shortfp_linkpub(const tn_linkpub *pk);

#endif
