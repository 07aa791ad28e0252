/* Tocsin record codec: strict canonical msgpack for every record on the wire
 * (DESIGN §4-§7, §10; docs/wire.md has one table per record).
 *
 * Encoding: tn_X_encode(const tn_X *, out, cap) writes the record into the
 * caller's buffer and returns the bytes written, TN_ERR_NOBUF if cap is too
 * small (out is left untouched: the size is computed first), or
 * TN_ERR_INVAL if the struct holds something the decoder would reject (an
 * enum out of range, a string too long or not UTF-8, unsorted digest
 * authors, a record over its size bound...). We never emit a record a peer
 * would refuse. Encoding does not allocate.
 *
 * Decoding: tn_X_decode(tn_X *, in, len) accepts exactly one canonical
 * encoding of the record filling all of in, and returns TN_OK or a distinct
 * TN_ERR_DEC_* code (err.h). The caller drops the input and counts the code;
 * nothing is retried. The out struct is zeroed first, so a failed decode
 * leaves no garbage. Decoding does not allocate and does not copy variable
 * fields: every tn_view and tn_list in a decoded struct points into in and is
 * valid as long as in is, unchanged. Fixed-size fields (keys, hashes,
 * signatures, nonces) are copied into the struct.
 *
 * Repeated elements (receipts, wants, digest entries, rekey entries,
 * endpoints) decode to a tn_list: a count plus the validated bytes. Walk it
 * with tn_iter_init and the record's _next function, which re-reads those
 * bytes; nothing is ever sized from a peer's count. To encode, fill the
 * pointer + count fields of the struct instead (the list field is ignored).
 *
 * Signed records (alert envelope, receipt, roster record): the signature
 * covers the encoding of the array header and every field before the
 * signature. tn_X_encode_signed writes exactly those bytes (what the author
 * signs); a decoded struct's `signed_part` views the same range of the
 * input (what a verifier checks). The codec itself neither signs nor
 * verifies. */
#ifndef TOCSIN_CODEC_H
#define TOCSIN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/limits.h"

/* A read-only byte range; in decoded structs it points into the input. */
typedef struct tn_view {
	const uint8_t *p;
	size_t len;
} tn_view;

/* Validated elements of a decoded msgpack array (after its header). */
typedef struct tn_list {
	const uint8_t *p;
	size_t len;
	size_t count;
} tn_list;

typedef struct tn_iter {
	const uint8_t *p;
	size_t len;
	size_t off;
	size_t left;
} tn_iter;

void tn_iter_init(tn_iter *it, const tn_list *l);

/* Every _next function returns TN_OK with the next element, TN_ERR_NOTFOUND
 * after the last one, or a TN_ERR_DEC_* code if the input bytes changed
 * since they were decoded (a caller bug). */

/* ---- Handshake payloads (DESIGN §4) ------------------------------------ */

/* Message 1: [1, timestamp_ms, responder_hash bin32, identity bin32,
 * sig bin64]. timestamp_ms is wall clock (ms since the Unix epoch);
 * responder_hash is BLAKE2b-256 of the static key the initiator expects to
 * reach; identity is the initiator's Ed25519 public key and sig its
 * signature over TN_HELLO_SIG_CONTEXT || network_id || the initiator's
 * ephemeral || responder_hash || timestamp_ms (u64 big-endian), so the
 * responder can ask the roster before it answers (docs/link.md). */
typedef struct tn_hs1_payload {
	uint64_t timestamp_ms;
	uint8_t responder_hash[TN_HS_RESPONDER_HASH];
	uint8_t identity[TN_PUBKEY];
	uint8_t sig[TN_SIG];
} tn_hs1_payload;

#define TN_HELLO_SIG_CONTEXT "tocsin/1 hello"
enum { TN_HELLO_SIG_CONTEXT_LEN = sizeof TN_HELLO_SIG_CONTEXT - 1 };

TN_NODISCARD tn_ssize tn_hs1_encode(const tn_hs1_payload *m, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_hs1_decode(tn_hs1_payload *m, const uint8_t *in, size_t len);

/* Messages 2 and 3: [1]. */
TN_NODISCARD tn_ssize tn_hs23_encode(uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_hs23_decode(const uint8_t *in, size_t len);

/* ---- Link messages (DESIGN §4, §7) ------------------------------------- */

enum tn_link_type {
	TN_LINK_PING = 0,     /* [0, token u64] */
	TN_LINK_PONG = 1,     /* [1, token u64] */
	TN_LINK_CLOSE = 2,    /* [2, reason u8] */
	TN_LINK_ALERT = 3,    /* [3, envelope bin] */
	TN_LINK_RECEIPTS = 4, /* [4, [[hops u8, receipt bin], ...] (1..TN_RECEIPTS_PER_MSG)] */
	TN_LINK_DIGEST = 5,   /* [5, digest bin] */
	TN_LINK_WANT = 6,     /* [6, [[author, from_seq, to_seq], ...] (1..TN_WANT_PER_MSG)] */
	TN_LINK_ROSTER = 7,   /* [7, roster record bin] */
	TN_LINK_HAVE = 8,     /* [8, alert_id bin32] */
	TN_LINK_REKEY = 9,    /* [9]: no body; the sender's next frame uses its rekeyed cipher */
	/* [10, [identity bin32, link bin32, name str, sig bin64]]: a newcomer's
	 * request on a link established under an invite's join PSK
	 * (docs/roster.md "Joining"); sig is Ed25519 by identity over
	 * TN_JOIN_SIG_CONTEXT || handshake hash || identity || link || name. */
	TN_LINK_JOIN = 10,
	/* [11, [[issuer bin32, iseq u64], ...] (0..TN_HEADS_PER_MSG)]: the
	 * sender's roster chain heads, strictly ascending by issuer; a round
	 * is parts of TN_HEADS_PER_MSG entries ended by a shorter part
	 * (docs/node.md "Roster gossip"). */
	TN_LINK_ROSTER_HEADS = 11,
	/* [12, nonce u64]: "dial me back" (docs/node.md "Reachability"). No
	 * address: the peer dials only the endpoint in the sender's own signed
	 * roster record. */
	TN_LINK_DIALBACK = 12,
	/* [13, [nonce u64, result u8 (enum tn_dialback_result)]]: the answer. */
	TN_LINK_DIALBACK_RESULT = 13,
	/* [14, receipts-wanted note bin]: the author's list of members whose
	 * receipt it lacks (tn_rwant, docs/node.md "Receipts: resend"). */
	TN_LINK_RECEIPTS_WANTED = 14,
	/* Lazy push (Plumtree, docs/node.md "Lazy push"). [15, ids bin]: alert
	 * ids the sender holds, 32 bytes each back to back, 1..TN_IHAVE_PER_MSG
	 * (a length not a multiple of 32 is ARRAYLEN). */
	TN_LINK_IHAVE = 15,
	/* [16, ids bin], same shape: "send me these, and push to me eagerly
	 * from now on". */
	TN_LINK_GRAFT = 16,
	/* [17]: no body, "push to me lazily (IHAVE) from now on". */
	TN_LINK_PRUNE = 17,
	TN_LINK_TYPE_MAX = 17, /* the highest type this version knows */
	/* Forward compatibility (docs/wire.md §4 "Unknown types"): a later
	 * version adds types above TN_LINK_TYPE_MAX. One up to
	 * TN_LINK_TYPE_IGNORABLE_MAX that this version does not know is
	 * skipped (TN_ERR_DEC_IGNORABLE) and the link stays up; one above it
	 * (128..255: "critical", must be understood) is RECTYPE and closes the
	 * link, as is anything above 255. */
	TN_LINK_TYPE_IGNORABLE_MAX = 127,
};

/* DIALBACK_RESULT outcomes (strict: other values do not decode). */
typedef enum tn_dialback_result {
	TN_DIALBACK_OK = 0,          /* connected and the handshake proved the asker's link key */
	TN_DIALBACK_NO_CONNECT = 1,  /* the endpoint refused or did not answer the connect */
	TN_DIALBACK_HANDSHAKE = 2,   /* connected, but no handshake with the asker's key */
	TN_DIALBACK_NO_ENDPOINT = 3, /* the asker has no endpoint record we could dial */
	TN_DIALBACK_LIMITED = 4,     /* asked too often, or too many checks running: later */
	TN_DIALBACK_RESULT_MAX = 4,
} tn_dialback_result;

enum {
	TN_HEADS_PER_MSG = 1024, /* 1 024 x 45 bytes: one frame */
};

#define TN_JOIN_SIG_CONTEXT "tocsin/1 join"
enum { TN_JOIN_SIG_CONTEXT_LEN = sizeof TN_JOIN_SIG_CONTEXT - 1 };

/* JOIN body. */
typedef struct tn_link_join {
	uint8_t identity[TN_PUBKEY]; /* Ed25519 */
	uint8_t link[TN_PUBKEY];     /* X25519 link static key */
	tn_view name;                /* strict UTF-8, <= TN_NAME_MAX */
	uint8_t sig[TN_SIG];
} tn_link_join;

/* One ROSTER_HEADS entry: the highest iseq the sender holds for issuer. */
typedef struct tn_roster_head {
	uint8_t issuer[TN_PUBKEY];
	uint64_t iseq; /* >= 1 */
} tn_roster_head;

enum tn_close_reason {
	TN_CLOSE_NORMAL = 0,
	TN_CLOSE_PROTOCOL = 1, /* peer sent something malformed */
	TN_CLOSE_REVOKED = 2,  /* peer not (or no longer) a member */
	TN_CLOSE_SHUTDOWN = 3,
	TN_CLOSE_OVERLOAD = 4,
	/* Other values are carried as is: the reason is advisory. */
};

/* One anti-entropy request: alerts by author with from_seq..to_seq
 * (1 <= from_seq <= to_seq). */
typedef struct tn_want {
	uint8_t author[TN_PUBKEY];
	uint64_t from_seq;
	uint64_t to_seq;
} tn_want;

/* Which fields are meaningful depends on type; the others are zero. Records
 * travel as bin (the exact signed bytes) so relays forward them verbatim:
 * decode `record` / the receipt views with the record's own decoder. */
typedef struct tn_link_msg {
	uint8_t type;                  /* enum tn_link_type */
	uint64_t token;                /* PING, PONG; DIALBACK, DIALBACK_RESULT: nonce */
	uint8_t dialback_result;       /* DIALBACK_RESULT (enum tn_dialback_result) */
	uint8_t reason;                /* CLOSE */
	tn_view record;                /* ALERT (<= TN_ALERT_ENVELOPE_MAX), DIGEST
	                                  (<= TN_DIGEST_MAX), ROSTER (<= TN_ROSTER_RECORD_MAX),
	                                  RECEIPTS_WANTED (<= TN_RWANT_MAX) */
	uint8_t alert_id[TN_ALERT_ID]; /* HAVE */
	tn_view ids;                   /* IHAVE, GRAFT: count alert ids of TN_ALERT_ID bytes */
	const tn_view *receipts;       /* RECEIPTS, encode (each <= TN_RECEIPT_MAX) */
	const uint8_t *receipt_hops;   /* RECEIPTS, encode: hop count of each receipt
	                                  (<= TN_RECEIPT_HOPS_MAX), NULL for all 0 */
	const tn_want *wants;          /* WANT, encode */
	const tn_roster_head *heads;   /* ROSTER_HEADS, encode (may be NULL with count 0) */
	size_t count;                  /* RECEIPTS, WANT, ROSTER_HEADS, IHAVE, GRAFT: elements */
	tn_list list;                  /* RECEIPTS, WANT, ROSTER_HEADS: decoded elements */
	tn_link_join join;             /* JOIN */
} tn_link_msg;

/* The whole message must fit TN_LINK_PLAINTEXT_MAX (else TN_ERR_DEC_TOOBIG
 * on decode, TN_ERR_INVAL on encode). A type this version does not know:
 * - TN_LINK_TYPE_MAX < type <= TN_LINK_TYPE_IGNORABLE_MAX, the message
 *   [type] or [type, body] with body one canonical msgpack value within
 *   TN_MP_DEPTH_MAX (skipped with tn_mp_skip, never stored or allocated):
 *   TN_ERR_DEC_IGNORABLE, m zero but m->type (for the log). The caller
 *   drops the message and keeps the link. A malformed body or a longer
 *   array is the reader's error (TRUNCATED, NONCANONICAL, DEPTH, ARRAYLEN...);
 * - above TN_LINK_TYPE_IGNORABLE_MAX: TN_ERR_DEC_RECTYPE.
 * The encoder refuses every type it does not know (TN_ERR_INVAL). */
TN_NODISCARD tn_ssize tn_link_encode(const tn_link_msg *m, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_link_decode(tn_link_msg *m, const uint8_t *in, size_t len);
/* The next receipt of a decoded RECEIPTS message and its hop count: how
 * many links it has crossed (0 from its signer), outside the signature so
 * relays can bound fallback flooding (docs/node.md). hops may be NULL. */
TN_NODISCARD tn_err tn_link_receipt_next(tn_iter *it, tn_view *receipt, uint8_t *hops);
TN_NODISCARD tn_err tn_link_want_next(tn_iter *it, tn_want *w);
TN_NODISCARD tn_err tn_link_head_next(tn_iter *it, tn_roster_head *h);

/* ---- Alert envelope (DESIGN §6) ---------------------------------------- */

enum tn_alert_kind {
	TN_KIND_PANIC = 0,
	TN_KIND_SAFE = 1,
	TN_KIND_RESPONDING = 2,
	TN_KIND_NOTICE = 3,
	TN_KIND_DRILL = 4,
	TN_KIND_TEST = 5,
};

typedef struct tn_alert_env {
	uint8_t network_id[TN_NETWORK_ID];
	uint8_t author[TN_PUBKEY];
	uint64_t seq;       /* >= 1 */
	uint8_t kind;       /* enum tn_alert_kind */
	bool has_refers_to; /* refers_to is nil when false */
	uint8_t refers_to[TN_ALERT_ID];
	uint64_t created_ms;
	uint64_t expires_ms; /* >= created_ms */
	uint32_t epoch;
	uint8_t nonce[TN_ALERT_NONCE];
	tn_view ciphertext; /* TN_ALERT_TAG..TN_ALERT_CIPHERTEXT_MAX bytes */
	uint8_t signature[TN_SIG];
	tn_view signed_part; /* decode only: bytes the signature covers */
} tn_alert_env;

TN_NODISCARD tn_ssize tn_alert_env_encode(const tn_alert_env *e, uint8_t *out, size_t cap);
/* The bytes the author signs: the envelope's encoding up to, not including,
 * the signature field. */
TN_NODISCARD tn_ssize tn_alert_env_encode_signed(const tn_alert_env *e, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_alert_env_decode(tn_alert_env *e, const uint8_t *in, size_t len);

/* The header: the envelope's encoding up to, not including, the ciphertext
 * field (array header, version .. nonce). The alert's AEAD takes these bytes
 * as associated data, so the ciphertext opens only under the header it was
 * sealed with. ciphertext and signature are ignored, so the header can be
 * encoded before there is a ciphertext. At most TN_ALERT_ENV_HEADER_MAX
 * bytes; TN_ERR_INVAL for seq 0, a kind out of range or expires < created. */
enum {
	/* 1 (array) + 1 (version) + 18 + 34 + 9 + 1 + 34 (refers_to)
	 * + 9 + 9 + 5 (epoch) + 26 (nonce) */
	TN_ALERT_ENV_HEADER_MAX = 147,
};
TN_NODISCARD tn_ssize tn_alert_env_encode_header(const tn_alert_env *e, uint8_t *out, size_t cap);

/* ---- Alert plaintext (DESIGN §6) --------------------------------------- */

enum tn_severity {
	TN_SEV_LOW = 0,
	TN_SEV_MEDIUM = 1,
	TN_SEV_HIGH = 2,
	TN_SEV_CRITICAL = 3,
};

enum tn_violation {
	TN_VIOL_THREAT = 0,
	TN_VIOL_SURVEILLANCE = 1,
	TN_VIOL_DETENTION = 2,
	TN_VIOL_KIDNAPPING = 3,
	TN_VIOL_ASSAULT = 4,
	TN_VIOL_RAID = 5,
	TN_VIOL_DIGITAL_ATTACK = 6,
	TN_VIOL_OTHER = 7,
};

enum {
	TN_LAT_E7_MAX = 900000000,  /* 90 degrees, 1e-7 degree units */
	TN_LON_E7_MAX = 1800000000, /* 180 degrees */
};

/* Map {1: severity, 2: violation, 3: text, 4: location, 5: [lat_e7, lon_e7]}
 * with keys ascending; 1 and 2 required. The encoding is at most
 * TN_ALERT_PLAINTEXT_MAX bytes. */
typedef struct tn_alert_pt {
	uint8_t severity;  /* enum tn_severity */
	uint8_t violation; /* enum tn_violation */
	bool has_text;
	tn_view text; /* UTF-8, <= TN_ALERT_TEXT_MAX bytes */
	bool has_location;
	tn_view location; /* UTF-8 free text, <= TN_ALERT_LOCATION_MAX bytes */
	bool has_latlon;
	int32_t lat_e7; /* -TN_LAT_E7_MAX..TN_LAT_E7_MAX */
	int32_t lon_e7; /* -TN_LON_E7_MAX..TN_LON_E7_MAX */
} tn_alert_pt;

TN_NODISCARD tn_ssize tn_alert_pt_encode(const tn_alert_pt *p, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_alert_pt_decode(tn_alert_pt *p, const uint8_t *in, size_t len);

/* ---- Receipt (DESIGN §7) ----------------------------------------------- */

typedef struct tn_receipt {
	uint8_t network_id[TN_NETWORK_ID];
	uint8_t alert_id[TN_ALERT_ID];
	uint8_t receiver[TN_PUBKEY];
	uint64_t stored_ms;
	uint8_t signature[TN_SIG];
	tn_view signed_part; /* decode only */
} tn_receipt;

TN_NODISCARD tn_ssize tn_receipt_encode(const tn_receipt *r, uint8_t *out, size_t cap);
TN_NODISCARD tn_ssize tn_receipt_encode_signed(const tn_receipt *r, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_receipt_decode(tn_receipt *r, const uint8_t *in, size_t len);

/* ---- Receipts-wanted note (docs/node.md "Receipts: resend") -------------
 *
 * [version, network_id, alert_id, issued_ms, missing, signature]: signed by
 * the alert's author over "tocsin/1 receipts wanted" || the fields before
 * the signature. `missing` is 1..TN_RWANT_IDS_MAX member identities cut to
 * their first TN_RWANT_ID bytes, back to back: members whose receipt the
 * author has not counted. */
typedef struct tn_rwant {
	uint8_t network_id[TN_NETWORK_ID];
	uint8_t alert_id[TN_ALERT_ID];
	uint64_t issued_ms; /* author's wall clock; relays keep the newest */
	tn_view missing;    /* k * TN_RWANT_ID bytes, 1 <= k <= TN_RWANT_IDS_MAX */
	uint8_t signature[TN_SIG];
	tn_view signed_part; /* decode only */
} tn_rwant;

TN_NODISCARD tn_ssize tn_rwant_encode(const tn_rwant *w, uint8_t *out, size_t cap);
TN_NODISCARD tn_ssize tn_rwant_encode_signed(const tn_rwant *w, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_rwant_decode(tn_rwant *w, const uint8_t *in, size_t len);

/* ---- Anti-entropy digest (DESIGN §7, docs/wire.md §8) -------------------
 *
 * One part of a digest round: for each author with unexpired alerts, the
 * seq ranges held. Ranges, not the highest contiguous seq, so a seq that was
 * committed but never sealed (a crash between the two) leaves a gap that
 * costs nothing: neither side asks for what neither holds. A round that
 * does not fit one link message is split in parts, each a valid digest on
 * its own (part < parts <= TN_DIGEST_PARTS_MAX). */

typedef struct tn_seq_range {
	uint64_t from; /* >= 1 */
	uint64_t to;   /* >= from */
} tn_seq_range;

/* Ranges strictly ascending and separated by at least one missing seq
 * (adjacent ranges must be merged: one encoding per set), 1..
 * TN_DIGEST_RANGES_MAX of them. A node holding more ranges for one author
 * merges the closest ones, claiming a few seqs it lacks: the peer then asks
 * for them and gets nothing, which is harmless (docs/node.md). */
typedef struct tn_digest_entry {
	uint8_t author[TN_PUBKEY];
	size_t nranges;
	tn_seq_range ranges[TN_DIGEST_RANGES_MAX];
} tn_digest_entry;

/* Entries strictly ascending by author (bytewise), at most TN_ROSTER_MAX,
 * whole encoding at most TN_DIGEST_MAX bytes (and, to travel, it must fit a
 * link message: a node fills parts up to TN_DIGEST_PART_TARGET). */
typedef struct tn_digest {
	uint8_t network_id[TN_NETWORK_ID];
	uint8_t roster_digest[TN_HASH];
	uint16_t part;                  /* 0..parts-1 */
	uint16_t parts;                 /* 1..TN_DIGEST_PARTS_MAX */
	const tn_digest_entry *entries; /* encode */
	size_t count;                   /* encode and decode */
	tn_list list;                   /* decode */
} tn_digest;

TN_NODISCARD tn_ssize tn_digest_encode(const tn_digest *d, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_digest_decode(tn_digest *d, const uint8_t *in, size_t len);
TN_NODISCARD tn_err tn_digest_next(tn_iter *it, tn_digest_entry *e);

/* ---- Roster records (DESIGN §5) ---------------------------------------- */

enum tn_roster_type {
	TN_ROSTER_GENESIS = 0,
	TN_ROSTER_ADD = 1,
	TN_ROSTER_REVOKE = 2,
	TN_ROSTER_ROLE = 3,
	TN_ROSTER_REKEY = 4,
	TN_ROSTER_ENDPOINT = 5,
};

enum tn_role {
	TN_ROLE_MEMBER = 0,
	TN_ROLE_COORDINATOR = 1,
};

typedef struct tn_rekey_entry {
	uint8_t member[TN_PUBKEY];
	uint8_t sealed[TN_SEALED_SECRETS]; /* crypto_box_seal(group_key || link_psk) */
} tn_rekey_entry;

/* Genesis: the network's root. sealed = epoch 0's secrets (group_key ||
 * link_psk) sealed to founder_link_pk, so the founder's node recovers them
 * from the roster like every other member (docs/roster.md, Epochs). */
typedef struct tn_roster_genesis {
	tn_view network_name; /* UTF-8, <= TN_NAME_MAX */
	uint8_t founder_link_pk[TN_PUBKEY];
	tn_view founder_name; /* UTF-8, <= TN_NAME_MAX */
	uint8_t sealed[TN_SEALED_SECRETS];
} tn_roster_genesis;

/* Admission. epoch and sealed carry the issuer's current epoch secrets
 * sealed to subject_link_pk, so a newcomer needs no separate rekey. */
typedef struct tn_roster_add {
	uint8_t subject[TN_PUBKEY];
	uint8_t subject_link_pk[TN_PUBKEY];
	tn_view name; /* UTF-8, <= TN_NAME_MAX */
	uint8_t role; /* enum tn_role */
	uint32_t epoch;
	uint8_t sealed[TN_SEALED_SECRETS];
} tn_roster_add;

/* A pin: the last record of the subject's chain the issuer accepts
 * (docs/roster.md). pin_seq 0 <=> no pin_head (the issuer has seen nothing
 * of hers); pin_seq >= 1 <=> pin_head is that record's id. */
typedef struct tn_roster_pin {
	uint64_t pin_seq;
	bool has_pin_head;
	uint8_t pin_head[TN_HASH];
} tn_roster_pin;

typedef struct tn_roster_revoke {
	uint8_t subject[TN_PUBKEY];
	tn_view reason; /* UTF-8, <= TN_REVOKE_REASON_MAX */
	tn_roster_pin pin;
} tn_roster_revoke;

/* Role change. A demotion (role member) pins the subject like a revoke; a
 * promotion (role coordinator) must carry pin_seq 0 and no pin_head. */
typedef struct tn_roster_role {
	uint8_t subject[TN_PUBKEY];
	uint8_t role; /* enum tn_role */
	tn_roster_pin pin;
} tn_roster_role;

/* One part of a rekey: parts >= 1, part < parts <= TN_REKEY_PARTS_MAX,
 * 1..TN_REKEY_PER_PART entries, members strictly ascending within a part. */
typedef struct tn_roster_rekey {
	uint32_t epoch;
	uint16_t part;
	uint16_t parts;
	const tn_rekey_entry *entries; /* encode */
	size_t count;                  /* encode and decode */
	tn_list list;                  /* decode */
} tn_roster_rekey;

/* A member's addresses, self-signed: 1..TN_ENDPOINTS_MAX strings of at most
 * TN_ENDPOINT_STR_MAX bytes, each starting "tcp:" or "onion:". */
typedef struct tn_roster_endpoint {
	uint64_t expires_ms;
	const tn_view *endpoints; /* encode */
	size_t count;             /* encode and decode */
	tn_list list;             /* decode */
} tn_roster_endpoint;

/* [1, type, network_id (nil for genesis, bin16 otherwise), issuer, iseq,
 *  prev (nil iff iseq == 1, else bin32), auth (nil iff genesis, else
 *  bin32), created_ms, body, signature]. iseq >= 1; genesis has iseq 1.
 * iseq/prev/auth: the issuer's own hash chain (docs/roster.md). */
typedef struct tn_roster_rec {
	uint8_t type;                      /* enum tn_roster_type */
	uint8_t network_id[TN_NETWORK_ID]; /* genesis: ignored on encode (always nil), zero after
	                                      decode */
	uint8_t issuer[TN_PUBKEY];
	uint64_t iseq;            /* >= 1 */
	uint8_t prev[TN_HASH];    /* id of the issuer's record iseq - 1; ignored when iseq == 1 */
	uint8_t auth[TN_HASH];    /* id of the record granting standing; ignored for genesis */
	uint64_t created_ms;
	union {
		tn_roster_genesis genesis;
		tn_roster_add add;
		tn_roster_revoke revoke;
		tn_roster_role role;
		tn_roster_rekey rekey;
		tn_roster_endpoint endpoint;
	} body;
	uint8_t signature[TN_SIG];
	tn_view signed_part; /* decode only */
} tn_roster_rec;

TN_NODISCARD tn_ssize tn_roster_encode(const tn_roster_rec *r, uint8_t *out, size_t cap);
TN_NODISCARD tn_ssize tn_roster_encode_signed(const tn_roster_rec *r, uint8_t *out, size_t cap);
TN_NODISCARD tn_err tn_roster_decode(tn_roster_rec *r, const uint8_t *in, size_t len);
TN_NODISCARD tn_err tn_rekey_next(tn_iter *it, tn_rekey_entry *e);
TN_NODISCARD tn_err tn_endpoint_next(tn_iter *it, tn_view *endpoint);

#endif
