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
	TN_DIGEST_MAX = 65536,         /* anti-entropy digest, bytes */
	TN_REKEY_SEALED_MAX = TN_ROSTER_MAX, /* sealed secrets in one rekey record */
	TN_MP_DEPTH_MAX = 8,           /* msgpack nesting depth of any record */

	/* Handshake message 1 payload: timestamp + expected responder hash. */
	TN_HS_RESPONDER_HASH = 32,
	TN_REPLAY_CACHE = 4096,        /* recent message-1 ephemerals remembered */

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
