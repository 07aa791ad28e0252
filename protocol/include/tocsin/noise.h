/* Tocsin protocol library: a sans-I/O Noise core.
 *
 * Noise_<pattern>_25519_ChaChaPoly_BLAKE2b, Noise specification revision 34,
 * composed from libsodium primitives: X25519 (crypto_scalarmult), ChaCha20-
 * Poly1305 IETF (crypto_aead_chacha20poly1305_ietf_*), BLAKE2b-512
 * (crypto_generichash), HMAC per RFC 2104 and Noise's HKDF on top of it.
 *
 * Supported patterns: NN, XX, IK, KK, each with at most one psk modifier
 * "pskN", 0 <= N <= number of messages in the pattern (NNpsk0, XXpsk0..3,
 * IKpsk1..2, ...). Multiple psk modifiers ("XXpsk0+psk3"), fallback and every
 * other pattern, DH, cipher or hash are refused with TN_ERR_PATTERN.
 *
 * Storage: every object here lives in memory the caller owns (stack, inside
 * another struct); nothing is allocated. The struct fields are PRIVATE: they
 * are public only so that the caller can size and place the objects. Read
 * and write them only through these functions. `_free` wipes every secret
 * (sodium_memzero over the whole object) and is always safe to call again.
 *
 * Copying: a tn_noise_hs or tn_noise_cipher holds no pointers, so it may be
 * snapshotted by plain assignment (`tn_noise_hs trial = hs;`), e.g. to try
 * decrypting a message 1 under several PSKs. Each copy holds secrets and
 * must be freed on its own.
 *
 * Randomness: the library never calls the OS RNG. The only random value is a
 * fresh ephemeral key, drawn from the tn_rand passed to tn_noise_hs_write()
 * unless one was set with tn_noise_hs_set_ephemeral() (test vectors).
 *
 * Typical use (responder of XXpsk0):
 *
 *     tn_noise_protocol proto;
 *     tn_noise_hs hs;
 *     rc = tn_noise_protocol_parse("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b", &proto);
 *     rc = tn_noise_hs_init(&hs, &proto, TN_NOISE_RESPONDER, prologue, plen, &my_static,
 *                           NULL, &psk);
 *     n = tn_noise_hs_read(&hs, msg1, len1, payload, sizeof payload);   // no DH
 *     n = tn_noise_hs_write(&hs, NULL, 0, out, sizeof out, &rand);     // message 2
 *     n = tn_noise_hs_read(&hs, msg3, len3, payload, sizeof payload);
 *     rc = tn_noise_hs_split(&hs, &tx, &rx);
 *     rc = tn_noise_hs_remote_static(&hs, &peer);   // check against the roster
 *     tn_noise_hs_free(&hs);
 *     n = tn_noise_cipher_encrypt(&tx, NULL, 0, pt, ptlen, ct, sizeof ct);
 */
#ifndef TOCSIN_NOISE_H
#define TOCSIN_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/limits.h"
#include "tocsin/types.h"

enum {
	/* Longest protocol name we accept (ours are at most 38 bytes). */
	TN_NOISE_NAME_MAX = 48,
	/* Largest Noise message, handshake or transport (the Noise limit). */
	TN_NOISE_MSG_MAX = TN_FRAME_MAX,
	/* Largest transport plaintext: one message minus the AEAD tag. */
	TN_NOISE_PLAINTEXT_MAX = TN_FRAME_MAX - TN_NOISE_TAG,
};

/* X25519 keys and the pre-shared key are fixed-size types, never bare
 * pointers (STYLE §6). */
typedef struct tn_noise_pubkey {
	uint8_t b[TN_NOISE_DH];
} tn_noise_pubkey;

typedef struct tn_noise_seckey {
	uint8_t b[TN_NOISE_DH];
} tn_noise_seckey;

/* A static X25519 key pair. pub must equal crypto_scalarmult_base(sec): it
 * is not recomputed here, so that setting up a handshake for an
 * unauthenticated connection costs no scalar multiplication. Use
 * tn_noise_keypair_from_secret() when only the secret is at hand. */
typedef struct tn_noise_keypair {
	tn_noise_seckey sec;
	tn_noise_pubkey pub;
} tn_noise_keypair;

typedef struct tn_noise_psk {
	uint8_t b[TN_NOISE_KEY];
} tn_noise_psk;

typedef enum tn_noise_role {
	TN_NOISE_INITIATOR = 1,
	TN_NOISE_RESPONDER = 2,
} tn_noise_role;

/* What the handshake expects next (tn_noise_hs_next). */
typedef enum tn_noise_action {
	TN_NOISE_FAILED = 0,    /* failed or never initialised: free it */
	TN_NOISE_WRITE = 1,     /* call tn_noise_hs_write */
	TN_NOISE_READ = 2,      /* call tn_noise_hs_read */
	TN_NOISE_SPLIT = 3,     /* handshake complete: call tn_noise_hs_split */
	TN_NOISE_TRANSPORT = 4, /* split done: only hash/remote_static/free remain */
} tn_noise_action;

/* A parsed protocol name. PRIVATE fields. */
typedef struct tn_noise_protocol {
	uint8_t pattern; /* 1 + index into noise.c's pattern table; 0 = invalid */
	uint8_t psk;     /* psk modifier position, or 0xff for none */
} tn_noise_protocol;

/* A Noise CipherState: key and 64-bit nonce counter. PRIVATE fields. */
typedef struct tn_noise_cipher {
	uint8_t k[TN_NOISE_KEY];
	uint64_t n;
	uint8_t has_k;
} tn_noise_cipher;

/* A Noise HandshakeState (with its SymmetricState). PRIVATE fields. */
typedef struct tn_noise_hs {
	tn_noise_protocol proto;
	tn_noise_cipher cs;
	uint8_t ck[TN_NOISE_HASH];
	uint8_t h[TN_NOISE_HASH];
	tn_noise_keypair s;
	tn_noise_keypair e;
	tn_noise_pubkey rs;
	tn_noise_pubkey re;
	tn_noise_psk psk;
	uint8_t flags;  /* which of s, e, rs, re, psk are set */
	uint8_t role;   /* tn_noise_role */
	uint8_t msg;    /* index of the next handshake message */
	uint8_t status; /* 0 = unusable; see noise.c */
} tn_noise_hs;

/* ---- Protocol names ---- */

/* Parse a full protocol name such as "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"
 * (NUL-terminated, case-sensitive, nothing before or after) into *proto.
 * Returns TN_OK, or TN_ERR_PATTERN for anything not listed at the top of
 * this file (proto is then zeroed), or TN_ERR_INVAL if name or proto is
 * NULL. A name is configuration, never peer input: treat failure as a bug. */
TN_NODISCARD tn_err tn_noise_protocol_parse(const char *name, tn_noise_protocol *proto);

/* Number of messages in the handshake (2 or 3), or 0 for an invalid proto. */
unsigned tn_noise_protocol_messages(const tn_noise_protocol *proto);

/* ---- Keys ---- */

/* Fill kp->pub from kp->sec (crypto_scalarmult_base) after copying sec in.
 * Returns TN_OK, or TN_ERR_INVAL if a pointer is NULL or the scalar gives
 * the identity (cannot happen for clamped X25519 scalars). */
TN_NODISCARD tn_err tn_noise_keypair_from_secret(tn_noise_keypair *kp, const tn_noise_seckey *sec);

/* ---- Handshake ---- */

/* Start a handshake in caller-owned *hs: InitializeSymmetric(name),
 * MixHash(prologue), then the pattern's pre-message keys.
 *
 * Keys are copied; the caller may wipe its own copies afterwards.
 * - s: our static key pair. Required exactly when the pattern has us send
 *   or pre-share a static key (XX, IK, KK: both roles; NN: neither).
 * - rs: the peer's static public key. Required exactly when the pattern
 *   pre-shares it: IK initiator, KK both roles; NULL otherwise.
 * - psk: required exactly when the protocol has a psk modifier.
 * - prologue may be NULL when prologue_len is 0.
 * Returns TN_OK, or TN_ERR_INVAL for a NULL hs/proto, an invalid proto, an
 * unknown role, or a key given where the pattern has none or missing where
 * it needs one (a bug in the caller: fix the call). On error *hs is zeroed
 * (unusable, tn_noise_hs_next() says TN_NOISE_FAILED). */
TN_NODISCARD tn_err tn_noise_hs_init(tn_noise_hs *hs, const tn_noise_protocol *proto,
                                     tn_noise_role role, const uint8_t *prologue,
                                     size_t prologue_len, const tn_noise_keypair *s,
                                     const tn_noise_pubkey *rs, const tn_noise_psk *psk);

/* Use e_sec as our ephemeral secret instead of drawing one from the tn_rand
 * at our first write. For test vectors, and for the link's initiator,
 * whose message 1 payload signs the ephemeral it is about to send.
 * Must be called before the message that sends our `e`.
 * Returns TN_OK; TN_ERR_STATE if hs is not active or our ephemeral is
 * already set or sent (state unchanged); TN_ERR_INVAL for NULL arguments. */
TN_NODISCARD tn_err tn_noise_hs_set_ephemeral(tn_noise_hs *hs, const tn_noise_seckey *e_sec);

/* What the handshake expects next. Never fails. */
tn_noise_action tn_noise_hs_next(const tn_noise_hs *hs);

/* Write our next handshake message carrying payload into out[0..outcap).
 * rand supplies our ephemeral key when this message sends `e` and none was
 * set; otherwise it may be NULL. payload may be NULL when len is 0.
 *
 * Returns the message length (<= TN_NOISE_MSG_MAX), or:
 * - TN_ERR_STATE: not our turn, or hs failed/complete. Nothing changed.
 * - TN_ERR_NOBUF: outcap is too small. Nothing changed; retry with a larger
 *   buffer (tn_noise_hs_write_size() gives the exact need).
 * - TN_ERR_LIMIT: the message would exceed TN_NOISE_MSG_MAX. Nothing changed.
 * - TN_ERR_INVAL: NULL out/payload with nonzero size, rand needed but NULL,
 *   or out overlaps payload. Nothing changed.
 * - TN_ERR_DH: a DH gave the all-zero output (the peer's key is low-order).
 *   hs is now failed and wiped: drop the connection, free hs.
 * - TN_ERR_NONCE: internal nonce exhausted (unreachable in a handshake);
 *   hs is failed.
 * On a failure after processing started, out may hold garbage. */
TN_NODISCARD tn_ssize tn_noise_hs_write(tn_noise_hs *hs, const uint8_t *payload, size_t len,
                                        uint8_t *out, size_t outcap, const tn_rand *rand);

/* Exact size of the next message we would write with a payload of len
 * bytes, or TN_ERR_STATE if it is not our turn, TN_ERR_LIMIT if too big. */
TN_NODISCARD tn_ssize tn_noise_hs_write_size(const tn_noise_hs *hs, size_t len);

/* Read the peer's next handshake message msg[0..len) and put its payload in
 * payload_out[0..cap). payload_out may be NULL when cap is 0; it must not
 * overlap msg. The whole message must be given: its length is the frame's.
 *
 * Returns the payload length, or:
 * - TN_ERR_STATE: not the peer's turn, or hs failed/complete. Nothing changed.
 * - TN_ERR_NOBUF: cap is smaller than the payload. Nothing consumed; retry
 *   with a buffer of at least len bytes.
 * - TN_ERR_INVAL: NULL msg with len > 0, or overlapping buffers. Nothing
 *   changed.
 * Peer errors, after which hs is failed and wiped (every later call returns
 * TN_ERR_STATE; drop the connection, or retry from a snapshot taken before
 * this call, e.g. under another PSK):
 * - TN_ERR_PROTO: msg is shorter than the pattern's fixed fields.
 * - TN_ERR_LIMIT: len > TN_NOISE_MSG_MAX.
 * - TN_ERR_AUTH: a ciphertext (static key or payload) failed to decrypt:
 *   wrong PSK, wrong prologue, tampering, or the wrong peer.
 * - TN_ERR_DH: the peer's ephemeral or static key is low-order.
 * payload_out holds no plaintext after a failure.
 *
 * Cost: tokens are processed in pattern order and reading stops at the first
 * failure, so for XXpsk0 message 1 (psk, e, payload) a wrong PSK is caught
 * by the payload's MAC with no DH at all. */
TN_NODISCARD tn_ssize tn_noise_hs_read(tn_noise_hs *hs, const uint8_t *msg, size_t len,
                                       uint8_t *payload_out, size_t cap);

/* Split the finished handshake into our two transport ciphers: tx encrypts
 * what we send, rx decrypts what we receive. Wipes the chaining key and
 * every key pair from hs; the handshake hash and the remote static key stay
 * readable until tn_noise_hs_free().
 * Returns TN_OK, or TN_ERR_STATE if the handshake is not complete (or was
 * already split, or failed); TN_ERR_INVAL for NULL arguments. */
TN_NODISCARD tn_err tn_noise_hs_split(tn_noise_hs *hs, tn_noise_cipher *tx, tn_noise_cipher *rx);

/* Copy the handshake hash h (channel binding) into out. Available once the
 * handshake is complete (before or after split).
 * Returns TN_OK, TN_ERR_STATE before completion or after a failure (out is
 * then zeroed), TN_ERR_INVAL for NULL arguments. */
TN_NODISCARD tn_err tn_noise_hs_hash(const tn_noise_hs *hs, uint8_t out[TN_NOISE_HASH]);

/* Copy the peer's static public key into out, as soon as it is known
 * (pre-message, or once the message carrying it has been read and
 * authenticated, e.g. an XX initiator may check it against the roster
 * before writing message 3).
 * Returns TN_OK, TN_ERR_STATE if not known yet or hs failed (out is then
 * zeroed), TN_ERR_INVAL for NULL arguments. */
TN_NODISCARD tn_err tn_noise_hs_remote_static(const tn_noise_hs *hs, tn_noise_pubkey *out);

/* Wipe *hs entirely (sodium_memzero). NULL is fine; calling twice is fine. */
void tn_noise_hs_free(tn_noise_hs *hs);

/* ---- Transport ---- */

/* Encrypt in[0..len) with associated data ad[0..adlen) into out[0..cap):
 * ChaCha20-Poly1305 with nonce 0^32 || LE64(n), then n += 1. out may equal
 * in (in place) but must not otherwise overlap it.
 * Returns len + TN_NOISE_TAG, or:
 * - TN_ERR_NOBUF: cap < len + TN_NOISE_TAG. Nothing changed.
 * - TN_ERR_LIMIT: len > TN_NOISE_PLAINTEXT_MAX. Nothing changed.
 * - TN_ERR_NONCE: the counter reached 2^64-1 (reserved). Close the link.
 * - TN_ERR_STATE: cs holds no key (zeroed or freed; transport ciphers come
 *   only from tn_noise_hs_split). We never send plaintext from here.
 * - TN_ERR_INVAL: NULL pointer with nonzero length, or partial overlap. */
TN_NODISCARD tn_ssize tn_noise_cipher_encrypt(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                                              const uint8_t *in, size_t len, uint8_t *out,
                                              size_t cap);

/* Decrypt and authenticate in[0..len) into out[0..cap); n += 1 on success.
 * out may equal in but must not otherwise overlap it.
 * Returns the plaintext length (len - TN_NOISE_TAG), or:
 * - TN_ERR_AUTH: wrong key, nonce or tampering. Nonce unchanged, out holds
 *   no plaintext. On an ordered stream the link must be closed.
 * - TN_ERR_PROTO: len < TN_NOISE_TAG. TN_ERR_LIMIT: len > TN_NOISE_MSG_MAX.
 * - TN_ERR_NOBUF: cap < len - TN_NOISE_TAG. Nothing changed.
 * - TN_ERR_NONCE, TN_ERR_STATE, TN_ERR_INVAL: as for encrypt. */
TN_NODISCARD tn_ssize tn_noise_cipher_decrypt(tn_noise_cipher *cs, const uint8_t *ad, size_t adlen,
                                              const uint8_t *in, size_t len, uint8_t *out,
                                              size_t cap);

/* Noise Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", 0^32). The
 * nonce counter is kept. Both ends must rekey at the same message boundary.
 * Returns TN_OK, or TN_ERR_STATE if cs holds no key. */
TN_NODISCARD tn_err tn_noise_cipher_rekey(tn_noise_cipher *cs);

/* Number of messages this cipher has processed (its next nonce), for the
 * link layer's rekey-every-2^20-messages policy. 0 for NULL. */
uint64_t tn_noise_cipher_count(const tn_noise_cipher *cs);

/* Wipe *cs (sodium_memzero). NULL is fine; calling twice is fine. */
void tn_noise_cipher_free(tn_noise_cipher *cs);

#endif
