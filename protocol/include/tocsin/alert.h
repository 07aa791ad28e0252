/* Tocsin protocol library: sealing, checking and opening alerts (DESIGN §6).
 *
 * Pure functions and small caller-owned state; no clock, socket, file or OS
 * RNG. Wall-clock time (ms since the Unix epoch, the unit of the envelope's
 * created_ms / expires_ms) and monotonic time (tn_time, for rate limits)
 * come in as arguments; randomness comes from the caller's tn_rand.
 *
 * Envelope (docs/wire.md §5): [version, network_id, author, seq, kind,
 * refers_to, created_ms, expires_ms, epoch, nonce, ciphertext, signature].
 *
 *   header     = the envelope's encoding before the ciphertext field
 *                (tn_alert_env_encode_header)
 *   ciphertext = XChaCha20-Poly1305-IETF(group_key[epoch], nonce,
 *                plaintext = tn_alert_pt_encode(pt), ad = header)
 *   signature  = Ed25519(author, TN_ALERT_SIG_CONTEXT || signed range)
 *                where signed range = the encoding before the signature
 *                (tn_alert_env_encode_signed)
 *   alert id   = BLAKE2b-256(the whole envelope encoding)
 *
 * docs/alerts.md explains every choice and the acceptance order. */
#ifndef TOCSIN_ALERT_H
#define TOCSIN_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/codec.h"
#include "tocsin/err.h"
#include "tocsin/identity.h"
#include "tocsin/limits.h"
#include "tocsin/ratelimit.h"
#include "tocsin/types.h"

/* Domain separation for alert signatures: the 14 ASCII bytes below (no
 * terminator) are prepended to the signed range, so an alert signature can
 * never verify as a receipt or roster signature (whose contexts differ) nor
 * the other way round. The byte after the context is the msgpack array
 * header 0x9c, never ASCII, so no other ASCII context that merely extends
 * this one can collide either. */
#define TN_ALERT_SIG_CONTEXT "tocsin/1 alert"
enum { TN_ALERT_SIG_CONTEXT_LEN = sizeof TN_ALERT_SIG_CONTEXT - 1 };

/* Window rules in the envelope's unit (ms). */
#define TN_ALERT_SKEW_MS     (TN_CLOCK_SKEW_MAX / TN_MSEC)     /* 600 000 */
#define TN_ALERT_LIFETIME_MS (TN_ALERT_LIFETIME_MAX / TN_MSEC) /* 604 800 000 */

/* BLAKE2b-256 over the whole envelope encoding. */
void tn_alert_id(const uint8_t *env, size_t len, uint8_t id[TN_ALERT_ID]);

/* ---- Sealing (author side) --------------------------------------------- */

/* The header of a new alert. The author key comes from the tn_identity;
 * nonce, ciphertext and signature are made by tn_alert_seal. */
typedef struct tn_alert_draft {
	uint8_t network_id[TN_NETWORK_ID];
	/* The author's next sequence number, >= 1. CONTRACT (DESIGN §3): the
	 * caller has already durably committed this seq as used before it
	 * calls tn_alert_seal, so a crash can never lead to a second alert
	 * signed with the same seq (which every relay would report as
	 * equivocation, i.e. as evidence that her key was stolen). */
	uint64_t seq;
	uint8_t kind; /* enum tn_alert_kind */
	/* Required for safe (her own panic's id) and responding (the alert
	 * answered); optional for the other kinds. */
	bool has_refers_to;
	uint8_t refers_to[TN_ALERT_ID];
	uint64_t created_ms; /* wall clock, ms since the Unix epoch */
	/* created_ms <= expires_ms <= created_ms + TN_ALERT_LIFETIME_MS */
	uint64_t expires_ms;
	uint32_t epoch; /* the epoch of group_key */
} tn_alert_draft;

/* Seal pt into an envelope signed by author: encode pt, draw a 24-byte
 * nonce from rand, encrypt under group_key with the header as associated
 * data, sign the context-prefixed signed range, and write the envelope
 * into out. When id is not NULL the alert id is written there.
 *
 * Returns the envelope length (<= TN_ALERT_ENVELOPE_MAX), TN_ERR_NOBUF
 * (cap too small; out untouched, a nonce was drawn), TN_ERR_INVAL (NULL
 * argument; the draft or pt would be refused by every relay: seq 0, kind
 * out of range, expires before created or beyond the lifetime, safe or
 * responding without refers_to, plaintext out of its limits) or
 * TN_ERR_INTERNAL (libsodium refused). The stack copy of the encoded
 * plaintext is wiped on every path. The seq is NOT consumed on failure:
 * the caller may retry with the same committed seq. */
TN_NODISCARD tn_ssize tn_alert_seal(const tn_identity *author, const tn_alert_draft *d,
                                    const tn_seckey *group_key, const tn_alert_pt *pt,
                                    const tn_rand *rand, uint8_t *out, size_t cap,
                                    uint8_t id[TN_ALERT_ID]);

/* ---- Checking (relay side) --------------------------------------------- */

/* Why an alert was accepted or dropped. Every value has its own counter
 * (tn_alert_ctx.counters) and a stable name (tn_alert_reason_name). */
typedef enum tn_alert_reason {
	/* tn_alert_check, in the order the checks run (DESIGN §6) */
	TN_ALERT_ACCEPTED = 0,      /* store, forward, then open */
	TN_ALERT_TOO_BIG,           /* frame > TN_ALERT_ENVELOPE_MAX */
	TN_ALERT_MALFORMED,         /* strict decode failed (verdict.dec_err) */
	TN_ALERT_WRONG_NETWORK,     /* network_id is not ours */
	TN_ALERT_UNKNOWN_AUTHOR,    /* author not in the roster */
	TN_ALERT_REVOKED_AUTHOR,    /* author revoked */
	TN_ALERT_DUPLICATE,         /* (author, seq) held with the same id: quiet drop */
	TN_ALERT_FUTURE,            /* created_ms > now + TN_ALERT_SKEW_MS */
	TN_ALERT_LIFETIME,          /* expires_ms - created_ms > TN_ALERT_LIFETIME_MS */
	TN_ALERT_EXPIRED,           /* expires_ms <= now */
	TN_ALERT_BAD_SIGNATURE,     /* not signed by author over this envelope */
	TN_ALERT_EQUIVOCATION,      /* validly signed, but (author, seq) is held with
	                               another id: evidence of a stolen key */
	TN_ALERT_NOTICE_FORBIDDEN,  /* notice from an author who is not a coordinator */
	TN_ALERT_MISSING_REFERS_TO, /* safe or responding without refers_to */
	TN_ALERT_SAFE_FOREIGN,      /* safe whose known target is not her own panic */
	TN_ALERT_RATE_LIMITED,      /* author over her budget for this kind */
	/* tn_alert_open */
	TN_ALERT_OPENED,         /* plaintext decrypted and decoded */
	TN_ALERT_UNKNOWN_EPOCH,  /* no group key for the envelope's epoch */
	TN_ALERT_BAD_CIPHERTEXT, /* AEAD failed: other key, or header not the AD */
	TN_ALERT_BAD_PLAINTEXT,  /* AEAD fine, plaintext not a valid map (dec_err) */
	TN_ALERT_REASON_COUNT
} tn_alert_reason;

/* Stable lowercase name ("bad_signature") for logs, metrics and tests.
 * Never NULL; out-of-range values give "unknown". */
const char *tn_alert_reason_name(tn_alert_reason r);

/* What the roster says about an author (answered by the caller). */
typedef enum tn_alert_author {
	TN_ALERT_AUTHOR_NONE = 0,        /* not a member */
	TN_ALERT_AUTHOR_REVOKED = 1,     /* was a member, revoked */
	TN_ALERT_AUTHOR_MEMBER = 2,      /* active member */
	TN_ALERT_AUTHOR_COORDINATOR = 3, /* active coordinator */
} tn_alert_author;

/* The caller's view of the roster, the alert store and the epoch keys, so
 * this module needs neither. Callbacks must not call back into tn_alert_*
 * with the same ctx. Every one is required, except group_key when
 * tn_alert_open is never called. */
typedef struct tn_alert_ops {
	/* Membership of author in the current roster state. */
	tn_alert_author (*author)(void *ud, const tn_pubkey *author);
	/* True, with the held alert's id in id_out, when an alert with
	 * (author, seq) is already accepted (stored). */
	bool (*seen)(void *ud, const tn_pubkey *author, uint64_t seq, uint8_t id_out[TN_ALERT_ID]);
	/* True, with its author and kind, when the alert with this id is
	 * held. */
	bool (*lookup)(void *ud, const uint8_t id[TN_ALERT_ID], tn_pubkey *author, uint8_t *kind);
	/* The group key of epoch, or NULL when this device has none. The
	 * pointer must stay valid until the callback's caller returns. */
	const tn_seckey *(*group_key)(void *ud, uint32_t epoch);
} tn_alert_ops;

/* Caller-owned checking context. Fill it with tn_alert_ctx_init; the
 * counters may be read (and reset) by the caller at any time. */
typedef struct tn_alert_ctx {
	uint8_t network_id[TN_NETWORK_ID];
	tn_alert_ops ops;
	void *ud;
	tn_ratelimit *limiter; /* from tn_alert_limiter_new; not owned */
	uint64_t counters[TN_ALERT_REASON_COUNT];
} tn_alert_ctx;

/* Returns TN_OK, or TN_ERR_INVAL for a NULL argument or a missing
 * author/seen/lookup callback (ctx is zeroed then). */
TN_NODISCARD tn_err tn_alert_ctx_init(tn_alert_ctx *ctx, const uint8_t network_id[TN_NETWORK_ID],
                                      const tn_alert_ops *ops, void *ud, tn_ratelimit *limiter);

typedef struct tn_alert_verdict {
	tn_alert_reason reason;
	tn_err dec_err; /* MALFORMED: the decoder's TN_ERR_DEC_* code; else TN_OK */
	/* The decoded envelope, views into the checked input (valid while it
	 * is). Zeroed for TOO_BIG and MALFORMED. */
	tn_alert_env env;
	/* id: BLAKE2b-256 of the input, computed once the author is known to
	 * be a member (has_id), i.e. for DUPLICATE and every later reason. */
	bool has_id;
	uint8_t id[TN_ALERT_ID];
	/* EQUIVOCATION: the id already held for (author, seq); DUPLICATE: the
	 * same as id; otherwise zero. */
	uint8_t conflict_id[TN_ALERT_ID];
} tn_alert_verdict;

/* Check one incoming envelope (the bytes of a link ALERT message) in
 * DESIGN §6's order, cheapest first, stopping at the first failure:
 *   size -> strict decode -> network id -> author active -> (author, seq)
 *   unseen -> clock window -> budget left (a peek: an author already over
 *   her rate limit costs no signature check) -> signature -> role rules ->
 *   rate limit (spends the token).
 * A held (author, seq) with the same id is DUPLICATE without any crypto;
 * with a different id the newcomer's signature is verified first (a forged
 * conflict must not frame the author: BAD_SIGNATURE) and a valid one is
 * EQUIVOCATION, carrying both ids; the newcomer is never accepted. The
 * clock window is not applied to equivocation evidence.
 *
 * wall_ms: wall clock now, ms since the Unix epoch (window checks).
 * now: monotonic time (rate limits). Only an otherwise accepted alert
 * spends a token, so forged or duplicate traffic cannot drain an author's
 * budget.
 *
 * Returns TN_OK with *v filled and ctx->counters[v->reason] incremented,
 * or TN_ERR_INVAL (NULL ctx/v, NULL in with len > 0, no limiter) with *v
 * zeroed and nothing counted. ACCEPTED means: store (committed), then
 * forward, then open. Every other reason means drop; log at DEBUG,
 * rate-limited, except DUPLICATE (routine); keep EQUIVOCATION's input as
 * evidence for coordinators. */
TN_NODISCARD tn_err tn_alert_check(tn_alert_ctx *ctx, const uint8_t *in, size_t len,
                                   uint64_t wall_ms, tn_time now, tn_alert_verdict *v);

/* ---- Opening (member side) --------------------------------------------- */

typedef struct tn_alert_opened {
	tn_alert_reason reason; /* OPENED, UNKNOWN_EPOCH, BAD_CIPHERTEXT or BAD_PLAINTEXT */
	tn_err dec_err;         /* BAD_PLAINTEXT: the plaintext decoder's code */
	tn_alert_pt pt;         /* OPENED: views into the caller's buffer */
} tn_alert_opened;

/* Decrypt and strictly decode an accepted envelope (a verdict's env) with
 * the group key ops.group_key returns for its epoch. The plaintext is
 * written into buf (at least ciphertext.len - TN_ALERT_TAG bytes;
 * TN_ALERT_PLAINTEXT_MAX always suffices); o->pt views into it and is valid
 * while buf is. buf holds secret content: the caller wipes it when done. It
 * is wiped here on every failure.
 *
 * Returns TN_OK with *o filled and ctx->counters[o->reason] incremented,
 * TN_ERR_NOBUF (buf too small; nothing counted), or TN_ERR_INVAL (NULL
 * argument, no group_key callback, an envelope no decoder returns). */
TN_NODISCARD tn_err tn_alert_open(tn_alert_ctx *ctx, const tn_alert_env *env, uint8_t *buf,
                                  size_t cap, tn_alert_opened *o);

/* ---- Rate-limit policy (DESIGN §6) --------------------------------------
 *
 * Two budgets per author: "urgent" (panic, safe) and "chatter" (responding,
 * notice, drill, test), so a member who spams drills or notices cannot
 * starve her own panic, and one author's traffic never spends another's
 * budget. Defaults:
 *   urgent:  burst 5, then 1 per minute
 *   chatter: burst 20, then 10 per minute (1 per 6 s)
 *   capacity: TN_ROSTER_MAX authors */
enum tn_alert_class {
	TN_ALERT_CLASS_URGENT = 0,
	TN_ALERT_CLASS_CHATTER = 1,
};

typedef struct tn_alert_limits {
	tn_bucket_cfg urgent;
	tn_bucket_cfg chatter;
	size_t capacity; /* authors tracked, 1..TN_ROSTER_MAX */
} tn_alert_limits;

void tn_alert_limits_default(tn_alert_limits *l);

/* The budget a kind spends: TN_ALERT_CLASS_URGENT for panic and safe,
 * TN_ALERT_CLASS_CHATTER for every other kind. */
enum tn_alert_class tn_alert_kind_class(uint8_t kind);

/* A limiter table for tn_alert_ctx_init (release with tn_ratelimit_del).
 * Returns what tn_ratelimit_new returns. */
TN_NODISCARD tn_err tn_alert_limiter_new(tn_ratelimit **out, const tn_alert_limits *l,
                                         const tn_rand *rand);

#endif
