/* Tocsin invite codes (DESIGN §5, "Invite and join"; docs/roster.md,
 * "Invites").
 *
 * A coordinator's node makes an invite: the network id, its own link
 * static key and endpoints, a one-time secret and an expiry. It travels as
 * a human code - RFC 4648 base32 of (payload || 4-byte checksum), lowercase,
 * in dash-separated groups of 5 - or as a QR code of the same text (the
 * client renders it). The joiner parses the code, dials an endpoint, and
 * runs the Noise handshake with the join PSK derived from the secret; the
 * coordinator's node finds the PSK among its outstanding invites (the
 * book), and redeems it: one code admits one device, once.
 *
 * Pure: randomness from the caller's tn_rand, time (wall-clock ms) as
 * arguments, no allocation. The book is caller-owned plain data that the
 * daemon persists as it is (entries hold secrets: store them as securely
 * as the keystore, wipe with tn_invite_book_free). */
#ifndef TOCSIN_INVITE_H
#define TOCSIN_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/codec.h"
#include "tocsin/err.h"
#include "tocsin/identity.h"
#include "tocsin/limits.h"
#include "tocsin/types.h"

#define TN_INVITE_PSK_LABEL      "tocsin/1 join psk"
#define TN_INVITE_TTL_DEFAULT_MS (UINT64_C(24) * 3600 * 1000)

enum {
	TN_INVITE_VERSION = 2,  /* payload format (docs/wire.md "Invite codes") */
	TN_INVITE_SECRET = 16,  /* 128 bits: the join PSK's only secret */
	TN_INVITE_ENDPOINTS_MAX = 4,
	TN_INVITE_CHECKSUM = 4, /* first bytes of BLAKE2b-256(payload) */
	/* [2, nid bin16, link bin32, [4 x str300], secret bin16, u32, u8]:
	 * 1 + 1 + 18 + 34 + 1 + 4 * 303 + 18 + 5 + 1 (test_invite checks it). */
	TN_INVITE_PAYLOAD_MAX = 1291,
	TN_INVITE_GROUP = 5, /* letters per dash-separated group */
	/* Letters for the largest payload + checksum, ceil(1315 * 8 / 5),
	 * plus a dash between groups, plus the NUL: the output buffer that
	 * always suffices. */
	TN_INVITE_CODE_LETTERS_MAX = (8 * (TN_INVITE_PAYLOAD_MAX + TN_INVITE_CHECKSUM) + 4) / 5,
	TN_INVITE_CODE_MAX =
	        TN_INVITE_CODE_LETTERS_MAX + (TN_INVITE_CODE_LETTERS_MAX - 1) / TN_INVITE_GROUP + 1,
	/* Input accepted by tn_invite_from_code, separators included. */
	TN_INVITE_INPUT_MAX = 4096,
	TN_INVITE_BOOK_MAX = 64, /* outstanding invites one coordinator node tracks */
};

/* The one-time secret of an invite. */
typedef struct tn_invite_secret {
	uint8_t b[TN_INVITE_SECRET];
} tn_invite_secret;

typedef struct tn_invite {
	uint8_t network_id[TN_NETWORK_ID];
	tn_linkpub coordinator_link;
	size_t endpoint_count; /* 1..TN_INVITE_ENDPOINTS_MAX */
	size_t endpoint_len[TN_INVITE_ENDPOINTS_MAX];
	char endpoints[TN_INVITE_ENDPOINTS_MAX][TN_ENDPOINT_STR_MAX + 1]; /* NUL-terminated */
	tn_invite_secret secret;
	uint64_t expires_ms; /* wall clock, whole seconds (the code carries seconds) */
	uint8_t role;        /* enum tn_role the invitee gets */
} tn_invite;

/* Why a code or an invite was refused; one per failure, for the user. */
typedef enum tn_invite_reason {
	TN_INVITE_OK = 0,
	TN_INVITE_R_CHARSET = 1,  /* a character outside base32, '-' and ' ' */
	TN_INVITE_R_LENGTH = 2,   /* too short or too long to be an invite */
	TN_INVITE_R_PADDING = 3,  /* impossible letter count or non-zero trailing bits */
	TN_INVITE_R_CHECKSUM = 4, /* mistyped (or not an invite) */
	TN_INVITE_R_PAYLOAD = 5,  /* checksum fine, content invalid (newer version?) */
	TN_INVITE_R_EXPIRED = 6,
	TN_INVITE_R_USED = 7,    /* redeemed before */
	TN_INVITE_R_UNKNOWN = 8, /* no outstanding invite with that secret */
	TN_INVITE_R_FULL = 9,    /* the book is full */
	TN_INVITE_R_EXISTS = 10, /* already in the book */
	TN_INVITE_REASON_COUNT = 11,
} tn_invite_reason;

const char *tn_invite_reason_str(int reason);

/* A fresh invite: TN_INVITE_SECRET secret bytes from rand, endpoints
 * copied (each must be what an endpoint record accepts: UTF-8, <=
 * TN_ENDPOINT_STR_MAX, "tcp:" or "onion:"), expires_ms rounded down to a
 * whole second (at most 2^32 - 1 s). TN_OK or TN_ERR_INVAL (then *inv is
 * zeroed). */
TN_NODISCARD tn_err tn_invite_new(tn_invite *inv, const tn_rand *rand,
                                  const uint8_t network_id[TN_NETWORK_ID],
                                  const tn_linkpub *coordinator_link, const tn_view *endpoints,
                                  size_t n, uint64_t expires_ms, uint8_t role);

/* Wipe (the secret too). */
void tn_invite_wipe(tn_invite *inv);

/* The payload bytes (strict canonical msgpack, docs/wire.md "Invite
 * codes"): [2, network_id bin16, coordinator_link bin32, [endpoint, ...],
 * secret bin16, expires_s u32, role u8], an endpoint "tcp:A.B.C.D:PORT"
 * (its one canonical spelling) as bin6 (address, port big-endian), any
 * other as str. Returns the length, TN_ERR_NOBUF, or TN_ERR_INVAL (an
 * invalid struct, expires_ms not whole seconds). */
TN_NODISCARD tn_ssize tn_invite_encode(const tn_invite *inv, uint8_t *out, size_t cap);
/* TN_OK or a TN_ERR_DEC_* code; *inv is zeroed on failure. */
TN_NODISCARD tn_err tn_invite_decode(tn_invite *inv, const uint8_t *in, size_t len);

/* The human code, NUL-terminated: returns its length (without the NUL),
 * TN_ERR_NOBUF (cap < length + 1; TN_INVITE_CODE_MAX always suffices) or
 * TN_ERR_INVAL. */
TN_NODISCARD tn_ssize tn_invite_to_code(const tn_invite *inv, char *out, size_t cap);

/* Parse a code as typed: case-insensitive, '-' and ' ' ignored anywhere.
 * Strict and bounded. Returns TN_OK, or, with *why:
 *   TN_ERR_INVAL            R_CHARSET, R_CHECKSUM
 *   TN_ERR_DEC_TOOBIG       R_LENGTH (input or payload too long)
 *   TN_ERR_DEC_TRUNCATED    R_LENGTH (too short)
 *   TN_ERR_DEC_NONCANONICAL R_PADDING
 *   TN_ERR_DEC_*            R_PAYLOAD (the payload decoder's code)
 * Expiry is not checked here (tn_invite_check). *inv zeroed on failure. */
TN_NODISCARD tn_err tn_invite_from_code(tn_invite *inv, const char *code, size_t len,
                                        tn_invite_reason *why);

/* Expired at now_ms (wall clock)? TN_OK while now_ms < expires_ms, else
 * TN_ERR_STALE with R_EXPIRED. */
TN_NODISCARD tn_err tn_invite_check(const tn_invite *inv, uint64_t now_ms, tn_invite_reason *why);

/* The join PSK: BLAKE2b-256 keyed with the secret over
 * "tocsin/1 join psk" || network_id. */
void tn_invite_join_psk(const tn_invite *inv, tn_seckey *psk);

/* ---- the coordinator's book of outstanding invites ------------------- */

typedef struct tn_invite_entry {
	tn_invite_secret secret;
	uint8_t network_id[TN_NETWORK_ID];
	uint64_t expires_ms;
	uint8_t role;
	bool used;
	uint64_t used_ms;
} tn_invite_entry;

typedef struct tn_invite_book {
	size_t count;
	tn_invite_entry e[TN_INVITE_BOOK_MAX];
} tn_invite_book;

void tn_invite_book_init(tn_invite_book *b);
/* Wipe every entry. */
void tn_invite_book_free(tn_invite_book *b);

/* Record a new invite. Expired entries are purged first. TN_OK;
 * TN_ERR_EXISTS (R_EXISTS: same secret); TN_ERR_LIMIT (R_FULL);
 * TN_ERR_STALE (R_EXPIRED: already expired); TN_ERR_INVAL. */
TN_NODISCARD tn_err tn_invite_book_add(tn_invite_book *b, const tn_invite *inv, uint64_t now_ms,
                                       tn_invite_reason *why);

/* The PSKs of invites still redeemable at now_ms (not used, not expired),
 * for the responder's trial decryption of message 1: up to max written to
 * out (wipe them after use), returns how many. */
size_t tn_invite_book_psks(const tn_invite_book *b, uint64_t now_ms, tn_seckey *out, size_t max);

/* The handshake succeeded under psk: mark that invite used (one code, one
 * device, once) and copy its entry to *out (may be NULL). TN_OK;
 * TN_ERR_STATE (R_USED); TN_ERR_STALE (R_EXPIRED); TN_ERR_NOTFOUND
 * (R_UNKNOWN: a forged or altered secret derives another PSK). A used
 * entry is kept until it expires, so a second redemption is refused as
 * used rather than unknown. */
TN_NODISCARD tn_err tn_invite_book_redeem(tn_invite_book *b, const tn_seckey *psk, uint64_t now_ms,
                                          tn_invite_entry *out, tn_invite_reason *why);

/* Drop expired entries (wiping them). Returns how many. */
size_t tn_invite_book_purge(tn_invite_book *b, uint64_t now_ms);

#endif
