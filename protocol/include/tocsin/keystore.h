/* Tocsin protocol library: the keystore format (DESIGN §3). Pure bytes in
 * and out; daemon/keystore_file.c puts them on disk.
 *
 * Layout (TN_KEYSTORE_LEN = 170 bytes, all integers little-endian):
 *
 *   off len
 *     0   8  magic "TOCSINKS"
 *     8   1  version (TN_KEYSTORE_VERSION = 1)
 *     9   1  flags: bit 0 = passphrase; other bits must be 0
 *    10   4  Argon2id opslimit        (0 without passphrase)
 *    14   4  Argon2id memlimit, KiB   (0 without passphrase)
 *    18  16  salt                     (all zero without passphrase)
 *    34  24  nonce (random)
 *    58  80  XChaCha20-Poly1305-IETF(key, nonce, ad = bytes 0..57,
 *                                    plaintext = Ed25519 seed || X25519 secret)
 *   138  32  BLAKE2b-256 of bytes 0..137
 *
 * key = Argon2id13(passphrase, salt, opslimit, memlimit) with a passphrase;
 * without one the key is 32 zero bytes. THAT IS NOT ENCRYPTION: anyone who
 * can read an unprotected keystore has the device's keys. The all-zero key
 * only gives the same integrity check as the protected form. The file's
 * 0600 mode is then the only protection; a seized laptop gives the keys
 * away. The public keys are not stored: they are re-derived on open.
 *
 * Checks on open, in this order (cheapest first, and no Argon2 before the
 * parameters are known to be sane, so a crafted file cannot make us spend
 * gigabytes or minutes):
 *   size != TN_KEYSTORE_LEN                    TN_ERR_CORRUPT
 *   magic                                      TN_ERR_CORRUPT
 *   version != 1                               TN_ERR_KS_VERSION
 *   checksum                                   TN_ERR_CORRUPT
 *   unknown flags, KDF params out of bounds,
 *     non-zero params/salt without passphrase  TN_ERR_CORRUPT
 *   passphrase needed, none given              TN_ERR_NEEDPASS
 *   AEAD open fails, passphrase file           TN_ERR_PASSPHRASE
 *   AEAD open fails, no-passphrase file        TN_ERR_CORRUPT
 * The checksum comes before the AEAD so that a damaged file (bit rot, a
 * truncated copy) is reported as damage, not as a wrong passphrase. A file
 * that passes the checksum but fails the AEAD was edited deliberately, or
 * the passphrase is wrong; without a passphrase there is nothing to get
 * wrong, so that case is reported as corruption. */
#ifndef TOCSIN_KEYSTORE_H
#define TOCSIN_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/identity.h"
#include "tocsin/types.h"

enum {
	TN_KEYSTORE_VERSION = 1,
	TN_KEYSTORE_FLAG_PASSPHRASE = 0x01,

	TN_KS_OFF_MAGIC = 0,
	TN_KS_OFF_VERSION = 8,
	TN_KS_OFF_FLAGS = 9,
	TN_KS_OFF_OPSLIMIT = 10,
	TN_KS_OFF_MEMLIMIT = 14,
	TN_KS_OFF_SALT = 18,
	TN_KS_OFF_NONCE = 34,
	TN_KS_OFF_CT = 58,
	TN_KS_OFF_SUM = 138,

	TN_KS_HDR_LEN = TN_KS_OFF_CT,    /* the AEAD's associated data */
	TN_KS_SECRET_LEN = 64,           /* plaintext */
	TN_KS_CT_LEN = TN_KS_SECRET_LEN + 16,
	TN_KS_SUM_LEN = 32,
	TN_KEYSTORE_LEN = TN_KS_OFF_SUM + TN_KS_SUM_LEN, /* 170 */

	/* Bounds on the KDF parameters we accept from a file. The minimums are
	 * libsodium's (crypto_pwhash_OPSLIMIT_MIN = 1, MEMLIMIT_MIN = 8 KiB).
	 * The maximums are libsodium's SENSITIVE level with headroom: 1 GiB and
	 * 16 passes. Anything above is not a keystore we wrote, and honouring it
	 * would let a crafted file make us allocate or spin without bound. */
	TN_KS_OPSLIMIT_MIN = 1,
	TN_KS_OPSLIMIT_MAX = 16,
	TN_KS_MEMLIMIT_KIB_MIN = 8,
	TN_KS_MEMLIMIT_KIB_MAX = 1024 * 1024,

	/* Passphrases longer than this are refused with TN_ERR_INVAL. */
	TN_PASSPHRASE_MAX = 1024,
};

/* Argon2id cost. memlimit is in KiB, as stored in the file. */
typedef struct tn_kdf_params {
	uint32_t opslimit;
	uint32_t memlimit_kib;
} tn_kdf_params;

/* The default: libsodium's MODERATE level (3 passes, 256 MiB; ~0.7 s on a
 * 2020 laptop core). Chosen over INTERACTIVE (2 passes, 64 MiB, ~0.1 s)
 * because the threat it answers is a seized laptop attacked offline, where
 * six times the cost per guess matters, while the price is paid only when
 * the daemon starts or the passphrase changes, never on the panic path
 * (the running daemon already holds the keys). */
void tn_kdf_params_default(tn_kdf_params *p);

/* The cheapest accepted parameters (TN_KS_*_MIN). For tests only. */
void tn_kdf_params_min(tn_kdf_params *p);

/* Serialise the identity's secrets into out (TN_KEYSTORE_LEN bytes).
 *
 * pass == NULL: no passphrase; integrity only, NOT confidentiality (see
 *   above). kdf is ignored and may be NULL.
 * pass != NULL: passlen bytes (1 .. TN_PASSPHRASE_MAX, any bytes) are
 *   stretched with Argon2id under kdf (NULL = tn_kdf_params_default()).
 *   The passphrase is only read; wiping it is the caller's job.
 * rand supplies the salt (16 B, only with a passphrase) and nonce (24 B).
 *
 * Returns TN_KEYSTORE_LEN; TN_ERR_NOBUF when outlen < TN_KEYSTORE_LEN
 * (nothing written); TN_ERR_INVAL for NULL id/rand/out, an empty or too long
 * passphrase, or kdf outside the TN_KS_* bounds; TN_ERR_NOMEM when Argon2
 * cannot get its memory. On error out is zeroed (when outlen allowed). */
TN_NODISCARD tn_ssize tn_keystore_seal(const tn_identity *id, const char *pass, size_t passlen,
				       const tn_kdf_params *kdf, const tn_rand *rand, uint8_t *out,
				       size_t outlen);

/* Parse and decrypt a keystore, creating the identity it holds.
 *
 * pass == NULL or passlen == 0 means "no passphrase given": a protected
 * keystore then returns TN_ERR_NEEDPASS without hashing anything, so the
 * caller can ask for one and call again. A passphrase given for an
 * unprotected keystore is ignored.
 *
 * Returns TN_OK with *out owning a new identity (tn_identity_del() it), or,
 * with *out NULL: TN_ERR_CORRUPT, TN_ERR_KS_VERSION, TN_ERR_NEEDPASS,
 * TN_ERR_PASSPHRASE (see the order above), TN_ERR_INVAL (NULL out/in, or a
 * passphrase longer than TN_PASSPHRASE_MAX), TN_ERR_NOMEM (sodium_malloc or
 * Argon2's allocation failed), TN_ERR_INTERNAL. The derived key is wiped on
 * every path. */
TN_NODISCARD tn_err tn_keystore_open(tn_identity **out, const uint8_t *in, size_t len,
				     const char *pass, size_t passlen);

#endif
