/* Tocsin protocol library: one link (one TCP connection) as a sans-I/O state
 * machine (DESIGN §4, docs/link.md).
 *
 * The caller feeds the bytes TCP delivered and the time; the link returns
 * the bytes to write, the next deadline and events. It never touches a
 * socket, a clock or the random device: randomness comes from the config's
 * tn_rand, time from arguments.
 *
 * Two clocks are passed in:
 * - `now` (tn_time): monotonic nanoseconds, for every timer;
 * - `wall_ms`: wall clock, ms since the Unix epoch, only for message 1's
 *   timestamp (initiator writes it, responder checks it within
 *   TN_HS_MSG1_MAX_AGE) and the replay cache's expiry.
 *
 * Daemon glue, per connection:
 *
 *     tn_link_new(&link, &cfg);  tn_link_start(link, now, wall_ms);
 *     on readable:  while (len > 0) {
 *                       n = tn_link_recv(link, p, len, now, wall_ms);   // may stop early
 *                       if (n < 0) { drop the connection; break; }     // fatal only
 *                       p += n; len -= n;
 *                       while (tn_link_poll_event(link, &ev)) handle(&ev);
 *                   }
 *     flush:        while ((n = tn_link_out(link, buf, sizeof buf, now)) > 0) write(buf, n);
 *     timer:        at tn_link_next_deadline(link): tn_link_tick(link, now); drain; flush
 *     on CLOSE:     flush what tn_link_out still gives (nothing after a silent
 *                   rejection), keep the socket open without writing until
 *                   ev.close_at, then close it and tn_link_del(link).
 *
 * Pointers handed out (MESSAGE bytes) are valid until the next call on the
 * link. Nothing calls back into the caller except the tn_rand and tn_log_fn
 * from the config. A link is not thread-safe; a replay cache is shared by
 * the links of one node, on one thread. */
#ifndef TOCSIN_LINK_H
#define TOCSIN_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/identity.h"
#include "tocsin/limits.h"
#include "tocsin/noise.h"
#include "tocsin/types.h"

/* ---- Replay cache (one per node, shared by every responder link) ------ */

typedef struct tn_replay_cache tn_replay_cache; /* opaque */

/* Allocate a cache of `entries` slots (0 means TN_REPLAY_CACHE). All memory
 * is allocated here; lookups and inserts never allocate.
 * Returns TN_OK, TN_ERR_INVAL (NULL out, or entries > 1 << 20), TN_ERR_NOMEM.
 * On error *out is NULL. */
TN_NODISCARD tn_err tn_replay_cache_new(tn_replay_cache **out, size_t entries);

/* Free the cache. NULL is fine. No link may still point to it. */
void tn_replay_cache_del(tn_replay_cache *c);

/* Remember the message-1 ephemeral `e` sent with timestamp ts_ms, unless it
 * is already remembered. wall_ms is the current wall clock: an entry whose
 * timestamp is more than TN_HS_MSG1_MAX_AGE behind it can no longer pass the
 * stale check, so its slot is reused first; when none is free or expired,
 * the oldest insertion is evicted.
 * Returns TN_OK (inserted), TN_ERR_REPLAY (already present: reject the
 * message; the cache is unchanged), TN_ERR_INVAL (NULL argument).
 * Links call this themselves; it is public for the node and for tests. */
TN_NODISCARD tn_err tn_replay_cache_check_insert(tn_replay_cache *c, const tn_noise_pubkey *e,
                                                 uint64_t ts_ms, uint64_t wall_ms);

/* Number of entries in use. */
size_t tn_replay_cache_count(const tn_replay_cache *c);

/* ---- Statistics ------------------------------------------------------- */

/* Counters a link increments, one per reason. Caller-owned: point every
 * link of a node at the same struct (tn_link_config.stats). Rejections
 * (rej_*) are the silent ones; hs_* and the rest close with an error. */
typedef struct tn_link_stats {
	uint64_t rej_size;        /* message 1 frame not the exact size (port scan, HTTP, TLS...) */
	uint64_t rej_framing;     /* message 1 frame of length 0 */
	uint64_t rej_mac;         /* message 1 not authentic under any PSK (wrong PSK, garbage) */
	uint64_t rej_decode;      /* message 1 payload not a strict hs1 payload */
	uint64_t rej_misdirected; /* message 1 responder hash is not ours */
	uint64_t rej_stale;       /* message 1 timestamp outside +-TN_HS_MSG1_MAX_AGE */
	uint64_t rej_replay;      /* message 1 ephemeral already in the replay cache */
	uint64_t rej_sig;         /* message 1 identity signature does not verify */
	uint64_t rej_identity;    /* message 1 identity not an active member (revoked, unknown) */
	uint64_t hs_timeout;      /* handshake not complete by TN_HANDSHAKE_TIMEOUT */
	uint64_t hs_fail;         /* message 2 or 3 bad: size, MAC, DH, payload */
	uint64_t hs_wrong_key;    /* initiator: responder's static key is not the expected one */
	uint64_t hs_wrong_identity; /* responder: message 3's static key is not the one
	                               certified for message 1's identity */
	uint64_t framing;         /* transport frame of length 0 */
	uint64_t transport_auth;  /* transport frame failed to decrypt */
	uint64_t transport_decode; /* decrypted transport frame is not a strict link message */
	uint64_t dead_peer;        /* nothing received for 2.5 x keepalive */
	uint64_t outq_overflow;    /* output queue exceeded TN_LINK_OUTQ_MAX */
	uint64_t established;      /* handshakes completed */
	uint64_t unknown_msg_type; /* messages of an unknown ignorable type (a newer peer's):
	                              dropped, the link kept (docs/wire.md §4) */
} tn_link_stats;

/* ---- Configuration ---------------------------------------------------- */

enum { TN_LINK_JOIN_PSKS_MAX = 64 /* = TN_INVITE_BOOK_MAX */ };

typedef enum tn_link_psk_used {
	TN_LINK_PSK_CURRENT = 0,
	TN_LINK_PSK_PREVIOUS = 1, /* responder, grace window: the peer missed a rekey */
	TN_LINK_PSK_JOIN = 2,     /* responder: one of cfg.join_psks (tn_link_join_psk) */
} tn_link_psk_used;

/* Responder: the membership question (docs/link.md "Message 1 names the
 * initiator"). Called twice per handshake under the current or previous
 * PSK, never under a join PSK (the invite is the authorisation there):
 * - at message 1, after every cheap check and the identity's signature,
 *   before any DH or byte written, with link_static NULL: may `identity`
 *   link under `psk` (an active member: not revoked, not unknown)? false
 *   is a silent rejection (rej_identity);
 * - at message 3 with the static key the initiator revealed: is it the
 *   link key certified for `identity`, which is still allowed? false
 *   closes the handshake (hs_wrong_identity).
 * Must not call back into the link. */
typedef bool (*tn_link_member_fn)(void *ud, const tn_pubkey *identity, tn_link_psk_used psk,
                                  const tn_noise_pubkey *link_static);

/* Responder, optional: at message 1, right after the payload decoded and
 * before the replay cache and the identity's signature are checked, may
 * the link refuse `identity` at once? The claim is not proven yet, so
 * true refuses whoever makes it, silently (rej_identity), and costs no
 * verification: for identities refused whoever claims them (docs/node.md
 * "Bad signatures and quarantine"). Never asked under a join PSK. Must not
 * call back into the link; member_ud is its ud. */
typedef bool (*tn_link_refuse_fn)(void *ud, const tn_pubkey *identity);

typedef struct tn_link_config {
	tn_noise_role role;          /* TN_NOISE_INITIATOR or TN_NOISE_RESPONDER */
	tn_noise_keypair static_key; /* our link static key pair (pub must match sec) */
	uint8_t network_id[TN_NETWORK_ID];
	tn_noise_psk psk;  /* current epoch's link_psk (initiator: the one to use) */
	bool has_prev_psk; /* responder: also accept prev_psk (grace window) */
	tn_noise_psk prev_psk;
	/* Responder: invites' join PSKs, tried at message 1 after psk and
	 * prev_psk (docs/roster.md "Joining"). A MAC check each, no DH. */
	size_t njoin_psks; /* 0..TN_LINK_JOIN_PSKS_MAX */
	tn_noise_psk join_psks[TN_LINK_JOIN_PSKS_MAX];
	tn_noise_pubkey expected_remote; /* initiator: the responder's static public key */
	/* Initiator: the identity message 1 names and is signed by (required;
	 * not owned, used only by tn_link_start). For a join link, the
	 * newcomer's new identity. */
	const tn_identity *identity;
	tn_link_member_fn member; /* responder: required (see tn_link_member_fn) */
	tn_link_refuse_fn refuse; /* responder: optional (see tn_link_refuse_fn) */
	void *member_ud;
	tn_time keepalive;               /* 0: TN_KEEPALIVE_DEFAULT; else 1 ms .. 1 day */
	uint64_t rekey_after_msgs;       /* 0: TN_LINK_REKEY_AFTER_MSGS (tests use small values) */
	tn_time rekey_after_time;        /* 0: TN_LINK_REKEY_AFTER_TIME */
	tn_rand rand;                    /* required */
	tn_log_fn log;                   /* optional; DEBUG lines, and one INFO line per link
	                                    when a newer peer's unknown type is ignored; never
	                                    key material */
	void *log_ud;
	tn_replay_cache *replay; /* responder: required, shared per node; not owned */
	tn_link_stats *stats;    /* optional, shared per node; not owned */
} tn_link_config;

/* Zero *cfg and set the defaults (0 keepalive/rekey fields mean default). */
void tn_link_config_default(tn_link_config *cfg);

/* ---- Lifetime --------------------------------------------------------- */

typedef struct tn_link tn_link; /* opaque */

/* Create a link from *cfg (copied; the caller may wipe its copy of the keys
 * afterwards; cfg->replay and cfg->stats must outlive the link).
 * Allocates the link (a few KiB); the 64 KiB receive buffer is allocated
 * only once the handshake has authenticated the peer, and the output queue
 * grows with what is queued, up to TN_LINK_OUTQ_MAX.
 * Returns TN_OK, TN_ERR_INVAL (NULL argument, unknown role, no rand, an
 * initiator without an identity, a responder without a replay cache or a
 * member callback, keepalive outside 1 ms .. 1 day),
 * TN_ERR_NOMEM.
 * On error *out is NULL. */
TN_NODISCARD tn_err tn_link_new(tn_link **out, const tn_link_config *cfg);

/* Wipe every secret (keys, ciphers, buffered plaintext) and free. NULL ok. */
void tn_link_del(tn_link *link);

/* Start the handshake clock (both roles) at `now`: the handshake must
 * complete by now + TN_HANDSHAKE_TIMEOUT. Call once, when the TCP connection
 * is up. The initiator queues message 1 (timestamp = wall_ms, responder hash
 * = BLAKE2b-256(cfg.expected_remote), cfg.identity and its signature); the
 * responder ignores wall_ms.
 * Returns TN_OK, TN_ERR_STATE (already started or closed), TN_ERR_INVAL
 * (initiator: wall_ms so small that message 1 would not have its one exact
 * size; fix the clock), TN_ERR_NOMEM / TN_ERR_INTERNAL (fatal: delete). */
TN_NODISCARD tn_err tn_link_start(tn_link *link, tn_time now, uint64_t wall_ms);

/* ---- Input ------------------------------------------------------------ */

/* Consume TCP bytes in[0..len), split anywhere (one byte at a time works).
 * Drives framing, the handshake and transport, queueing events and output.
 * At most one frame is buffered.
 *
 * Returns the number of bytes consumed, which is less than len only when
 * a MESSAGE event was queued: drain the events, then call again with the
 * rest. After a CLOSE every byte is consumed and ignored (and not buffered).
 * Peer misbehaviour is never an error return: it becomes a CLOSE event.
 * Errors:
 * - TN_ERR_STATE: not started, or a MESSAGE event is still queued (drain
 *   events first). Nothing consumed.
 * - TN_ERR_INVAL: in is NULL with len > 0.
 * - TN_ERR_NOMEM, TN_ERR_INTERNAL: fatal; drop the connection, delete. */
TN_NODISCARD tn_ssize tn_link_recv(tn_link *link, const uint8_t *in, size_t len, tn_time now,
                                   uint64_t wall_ms);

/* ---- Application messages --------------------------------------------- */

typedef enum tn_link_send_flags {
	TN_LINK_SEND_NORMAL = 0,
	/* Panic / safe alerts: goes out before every queued normal message
	 * (after other priority ones, and after the frame being written). */
	TN_LINK_SEND_PRIORITY = 1,
} tn_link_send_flags;

/* Queue one link message msg[0..len) (a strict tn_link_encode output; not
 * PING, CLOSE or REKEY, which belong to the link) for encryption. The bytes
 * are copied. Frames are encrypted when tn_link_out hands them out, so a
 * priority message can overtake queued ones without breaking nonce order.
 * Returns TN_OK, or:
 * - TN_ERR_STATE: handshake not complete yet (queue it in the node instead).
 * - TN_ERR_CLOSED: the link is closed or closing; drop or reroute.
 * - TN_ERR_INVAL: NULL msg, len 0 or > TN_LINK_PLAINTEXT_MAX, not a strict
 *   link message, or PING/CLOSE/REKEY. Nothing queued; fix the caller.
 * - TN_ERR_LIMIT: queueing it would exceed TN_LINK_OUTQ_MAX (the peer does
 *   not read). The link is now closed (CLOSE event, reason TN_ERR_LIMIT;
 *   queued messages dropped, a CLOSE(overload) frame follows the frame in
 *   progress): drop the link, not the memory.
 * - TN_ERR_NOMEM: fatal, delete the link. */
TN_NODISCARD tn_err tn_link_send(tn_link *link, const uint8_t *msg, size_t len,
                                 tn_link_send_flags flags, tn_time now);

/* Close the link (e.g. peer not in the roster, shutdown). Established: a
 * CLOSE(reason) frame is queued after the frame in progress; queued
 * messages are dropped; after it nothing is ever sent. Before: nothing more
 * is sent (a handshake message not yet fully handed out is dropped too).
 * Queues a CLOSE event (err TN_OK, close_at now). Idempotent: a
 * second call, or a call on a closed link, does nothing. */
void tn_link_close(tn_link *link, uint8_t reason, tn_time now);

/* ---- Output ----------------------------------------------------------- */

/* Bytes waiting to be written (0 when nothing is queued). An upper bound
 * of what tn_link_out would produce now, for write-interest decisions. */
size_t tn_link_pending(const tn_link *link);

/* Copy up to cap bytes to write to TCP into out. Frames are encrypted here,
 * in wire order, highest priority first; a frame partly handed out is
 * always finished before the next one starts. `now` stamps the last send
 * (keepalive) and drives time-based rekeying.
 * Returns bytes written (0: nothing to send), or TN_ERR_INVAL (NULL out with
 * cap > 0), TN_ERR_INTERNAL (fatal: delete the link). If the send nonce is
 * exhausted (2^64 frames, unreachable in practice) the link closes with a
 * CLOSE event (err TN_ERR_NONCE) and the bytes written so far are returned. */
TN_NODISCARD tn_ssize tn_link_out(tn_link *link, uint8_t *out, size_t cap, tn_time now);

/* ---- Events ----------------------------------------------------------- */

typedef enum tn_link_event_type {
	TN_LINK_EV_NONE = 0,
	TN_LINK_EV_ESTABLISHED = 1, /* handshake complete: check remote_static in the roster */
	TN_LINK_EV_MESSAGE = 2,     /* one decrypted link message */
	TN_LINK_EV_CLOSE = 3,       /* the link is over; the last event */
} tn_link_event_type;

typedef struct tn_link_event {
	tn_link_event_type type;
	/* ESTABLISHED */
	tn_noise_pubkey remote_static;
	tn_link_psk_used psk;
	/* Responder: the identity message 1 named and signed for. Under the
	 * current or previous PSK cfg.member has accepted it with
	 * remote_static; under a join PSK it is the newcomer's claim, which
	 * her JOIN must repeat. Initiator: zeros. */
	tn_pubkey remote_identity;
	uint8_t hs_hash[TN_NOISE_HASH]; /* equal on both ends: channel binding */
	/* MESSAGE: a strict link message (tn_link_decode gives TN_OK: never a
	 * type this version does not know); never PING or REKEY. Valid until
	 * the next call on the link. */
	const uint8_t *msg;
	size_t len;
	/* CLOSE */
	tn_err err;          /* TN_OK: tn_link_close; TN_ERR_CLOSED: peer sent CLOSE
	                        (peer_reason); TN_ERR_TIMEOUT: handshake timeout or dead
	                        peer; TN_ERR_LIMIT: output overflow; else what failed
	                        (TN_ERR_FRAME, TN_ERR_AUTH, TN_ERR_DEC_*, TN_ERR_STALE,
	                        TN_ERR_REPLAY, TN_ERR_MISDIRECTED, TN_ERR_PROTO, ...) */
	uint8_t peer_reason; /* enum tn_close_reason, when err == TN_ERR_CLOSED */
	bool silent;         /* responder rejection: nothing was or will be written */
	tn_time close_at;    /* close the socket at this time, not before; silent:
	                        now + 1..20 s drawn from the rand, else now */
} tn_link_event;

/* Pop the next event into *ev. Returns false (ev->type NONE) when none. */
bool tn_link_poll_event(tn_link *link, tn_link_event *ev);

/* ---- Timers ----------------------------------------------------------- */

/* When tn_link_tick must next run, or TN_TIME_NEVER. Handshake: its
 * timeout. Established: the earliest of the keepalive PING (only while
 * nothing is waiting to be sent), dead-peer detection and the time rekey.
 * Closed: TN_TIME_NEVER (the caller holds close_at). */
tn_time tn_link_next_deadline(const tn_link *link);

/* Run the timers due at now: handshake timeout (CLOSE, silent for a
 * responder still waiting for message 1), dead peer (CLOSE, TN_ERR_TIMEOUT),
 * keepalive PING and time rekey (output queued: flush after). Calling it
 * early does nothing. */
void tn_link_tick(tn_link *link, tn_time now);

/* Responder established under a join PSK: copy it to *out (wipe it after
 * use). TN_OK, or TN_ERR_STATE when the link was not established under a
 * join PSK. */
TN_NODISCARD tn_err tn_link_join_psk(const tn_link *link, tn_noise_psk *out);

/* True once ESTABLISHED was queued and until the link closes. */
bool tn_link_is_established(const tn_link *link);

/* ---- Frame counting (traffic counters of hosts) ------------------------------ */

/* Where a byte stream of frames (TN_FRAME_HDR-byte big-endian length, then
 * the body) is: body bytes still to come, prefix bytes seen (0 or 1) and
 * the first of them. Zero it at the start of a stream. */
typedef struct tn_frame_pos {
	uint32_t left;
	uint8_t hdr, hi;
} tn_frame_pos;

/* The frames whose length prefix completes in p[0..n), which may end
 * inside a prefix or a body. Counts only; validates nothing. */
static inline uint64_t tn_frame_count(tn_frame_pos *f, const uint8_t *p, size_t n)
{
	uint64_t frames = 0;
	while (n > 0) {
		if (f->left > 0) {
			size_t k = n < f->left ? n : f->left;
			f->left -= (uint32_t)k;
			p += k;
			n -= k;
		} else if (f->hdr == 0) {
			f->hi = *p++;
			n--;
			f->hdr = 1;
		} else {
			f->left = (uint32_t)f->hi << 8 | *p++;
			n--;
			f->hdr = 0;
			frames++;
		}
	}
	return frames;
}

#endif
