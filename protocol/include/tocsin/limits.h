/* Tocsin protocol limits: every bound enforced on input lives here (DESIGN §10).
 * Decoders and state machines refer to these names, never to bare numbers. */
#ifndef TOCSIN_LIMITS_H
#define TOCSIN_LIMITS_H

#include "tocsin/types.h"

enum {
	/* Wire */
	TN_FRAME_HDR = 2,              /* big-endian length prefix */
	TN_FRAME_MAX = 65535,          /* one Noise message, Noise's own limit */
	TN_NOISE_TAG = 16,             /* ChaCha20-Poly1305 tag */
	TN_NOISE_KEY = 32,
	TN_NOISE_DH = 32,
	TN_NOISE_HASH = 64,            /* BLAKE2b-512 */
	TN_LINK_PLAINTEXT_MAX = TN_FRAME_MAX - TN_NOISE_TAG,

	/* Records */
	TN_ALERT_PLAINTEXT_MAX = 4096,
	TN_ALERT_TEXT_MAX = 1000,
	TN_ALERT_LOCATION_MAX = 256,
	TN_NAME_MAX = 64,              /* display name / network name, bytes of UTF-8 */
	TN_ROSTER_MAX = 10000,         /* members in one network */
	TN_ENDPOINTS_MAX = 8,          /* addresses in one endpoint record */
	TN_ENDPOINT_STR_MAX = 300,     /* "tcp:host:port" or a future "onion:..." */
	TN_DIGEST_MAX = 65536,         /* anti-entropy digest part, bytes */
	TN_DIGEST_RANGES_MAX = 16,     /* held seq ranges per author in a digest */
	TN_DIGEST_PARTS_MAX = 64,      /* parts of one digest round (docs/wire.md §8) */
	/* A node fills a digest part up to this many bytes, so that it travels
	 * in one link message (TN_LINK_PLAINTEXT_MAX) with room to spare. */
	TN_DIGEST_PART_TARGET = 60000,
	TN_REKEY_SEALED_MAX = TN_ROSTER_MAX, /* sealed secrets in one rekey record */
	TN_MP_DEPTH_MAX = 8,           /* msgpack nesting depth of any record */

	/* Record fields (codec.h, docs/wire.md) */
	TN_RECORD_VERSION = 1,         /* version field of every record and payload */
	TN_PUBKEY = 32,                /* Ed25519 / X25519 public key */
	TN_SIG = 64,                   /* Ed25519 signature */
	TN_HASH = 32,                  /* BLAKE2b-256 */
	TN_ALERT_NONCE = 24,           /* XChaCha20-Poly1305 nonce */
	TN_ALERT_TAG = 16,             /* Poly1305 tag */
	TN_ALERT_CIPHERTEXT_MAX = TN_ALERT_PLAINTEXT_MAX + TN_ALERT_TAG,
	TN_EPOCH_SECRETS = 64,         /* group_key || link_psk */
	TN_SEALED_SECRETS = 48 + TN_EPOCH_SECRETS, /* crypto_box_SEALBYTES + secrets */
	TN_REVOKE_REASON_MAX = 200,    /* bytes of UTF-8 */
	TN_RECEIPTS_PER_MSG = 256,     /* receipts batched in one link message */
	TN_RECEIPT_HOPS_MAX = 16,      /* hop count carried beside a receipt (not signed) */
	TN_WANT_PER_MSG = 512,         /* ranges asked for in one WANT (<= 27 KiB) */
	TN_RWANT_ID = 4,               /* identity prefix in a receipts-wanted note */
	TN_RWANT_IDS_MAX = 1024,       /* identities listed in one note */
	TN_IHAVE_PER_MSG = 256,        /* alert ids in one IHAVE or GRAFT (8 KiB) */
	/* Rekey entries in one rekey record. An entry encodes to at most 149
	 * bytes, so a full part is <= 59 818 bytes as a record and <= 59 823 as
	 * a ROSTER link message: it fits one frame (65 519 bytes of plaintext)
	 * with ~5.6 KiB to spare. 10 000 members need 25 parts. codec_roster.c
	 * asserts the fit at compile time; test_codec encodes a full part and
	 * checks its size is exactly TN_ROSTER_RECORD_MAX. */
	TN_REKEY_PER_PART = 400,
	TN_REKEY_PARTS_MAX = (TN_ROSTER_MAX + TN_REKEY_PER_PART - 1) / TN_REKEY_PER_PART,
	/* Largest encodings, exact (docs/wire.md derives them). */
	TN_ALERT_ENVELOPE_MAX = 4328,
	TN_RECEIPT_MAX = 163,
	/* 1 (array) + 1 + 18 + 34 + 9 (uint64) + 3 + 4 096 (missing) + 66 */
	TN_RWANT_MAX = 4228,
	TN_ROSTER_RECORD_MAX = 59818,
	/* The roster container (roster.h, docs/roster.md "Bounds"): records
	 * kept, their total bytes, and records held back (waiting for their
	 * prev/auth, or behind a pin) awaiting re-evaluation. */
	TN_ROSTER_RECORDS_MAX = 131072,
	TN_ROSTER_HELD_MAX = 512,
	TN_ROSTER_BYTES_MAX = 256 * 1024 * 1024,

	/* Handshake message 1 payload: timestamp + expected responder hash. */
	TN_HS_RESPONDER_HASH = 32,
	TN_REPLAY_CACHE = 4096,        /* recent message-1 ephemerals remembered */
	/* Bytes one link may hold queued for a slow peer (plaintext plus frame
	 * overhead); beyond it the link is closed: drop the link, not the memory. */
	TN_LINK_OUTQ_MAX = 1 << 20,

	/* Sequence / ids */
	TN_ALERT_ID = 32,              /* BLAKE2b-256 of the signed envelope */
	TN_NETWORK_ID = 16,
	TN_SAFETY_GROUPS = 12,         /* safety number: 12 groups of 5 digits */
};

/* Times (tn_time is nanoseconds). */
#define TN_CLOCK_SKEW_MAX (10 * TN_MIN)
#define TN_ALERT_LIFETIME_MAX (7 * TN_DAY)
#define TN_HANDSHAKE_TIMEOUT (10 * TN_SEC)
#define TN_HS_MSG1_MAX_AGE (2 * TN_MIN)
#define TN_KEEPALIVE_DEFAULT (120 * TN_SEC)
#define TN_LINK_REKEY_AFTER_MSGS (UINT64_C(1) << 20)
#define TN_LINK_REKEY_AFTER_TIME (60 * TN_MIN)
#define TN_EPOCH_GRACE_DEFAULT (30 * TN_DAY)

#endif
