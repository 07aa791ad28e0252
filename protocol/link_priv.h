/* Private to link.c and link_out.c: the link's state (docs/link.md). */
#ifndef TOCSIN_LINK_PRIV_H
#define TOCSIN_LINK_PRIV_H

#include "tocsin/codec.h"
#include "tocsin/link.h"

enum {
	/* Every handshake message and every control frame (PING, CLOSE,
	 * REKEY) fits here with its length prefix; link.c checks the computed
	 * handshake sizes against it at creation. */
	LINK_CTRL_MAX = 256,
	LINK_EVQ = 4, /* ESTABLISHED + MESSAGE + CLOSE is the most ever queued */
	/* An emptied output queue larger than this is given back. */
	LINK_OUTQ_KEEP = 64 * 1024,
};

typedef enum link_state {
	ST_NEW = 0,
	ST_WAIT_MSG1, /* responder: waiting for message 1, has written nothing */
	ST_WAIT_MSG2, /* initiator: message 1 queued */
	ST_WAIT_MSG3, /* responder: message 2 queued */
	ST_ESTABLISHED,
	ST_REJECTED, /* responder, silent: absorbs input, writes nothing */
	ST_CLOSED,
} link_state;

/* What the frame being handed out comes from. */
typedef enum link_src {
	FL_NONE = 0,
	FL_CTRL, /* l->ctrl: handshake message or control frame */
	FL_PRIO, /* head entry of l->prio */
	FL_NORM, /* head entry of l->norm */
} link_src;

/* Plaintext messages waiting to be sealed. Entry layout:
 *   [2-byte big-endian frame length = ptlen + TN_NOISE_TAG][plaintext][16 spare]
 * so sealing encrypts in place and the entry becomes the wire frame. */
typedef struct link_q {
	uint8_t *buf;
	size_t cap;
	size_t head; /* first byte of the first entry */
	size_t tail; /* one past the last entry */
} link_q;

struct tn_link {
	tn_link_config cfg; /* copy, including keys */
	tn_noise_protocol proto;
	link_state state;
	tn_time keepalive;
	uint64_t rekey_msgs;
	tn_time rekey_time;

	/* Handshake */
	tn_noise_hs hs;
	uint8_t hs1_hash[TN_HS_RESPONDER_HASH]; /* responder: ours; initiator: expected peer's */
	size_t msg1_len, msg2_len, msg3_len, hs1_len;
	tn_time hs_deadline;
	tn_link_psk_used psk_used;
	size_t join_idx; /* psk_used == JOIN: which of cfg.join_psks */
	tn_pubkey hello_id; /* responder: the identity message 1 named and proved */

	/* Transport */
	tn_noise_cipher tx, rx;
	uint64_t tx_rekey_base; /* tx count at the last rekey */
	tn_time rekey_at;
	tn_time last_tx, last_rx;
	uint64_t ping_token;
	bool ping_due, rekey_due;
	bool close_pending; /* closed while established: a CLOSE frame is still owed */
	bool unknown_logged; /* an ignorable unknown message type was logged on this link */
	uint8_t close_reason;

	/* Input framing: header, then body into hsbuf (handshake) or rbuf. */
	uint8_t hdr[TN_FRAME_HDR];
	size_t hdr_got;
	bool in_body;
	size_t body_len, body_got;
	size_t rbuf_hw;  /* bytes of rbuf ever written: what tn_link_del wipes */
	size_t rbuf_cap; /* rbuf's size: 4 KiB, grown to the largest frame seen */
	uint8_t hsbuf[LINK_CTRL_MAX];
	uint8_t *rbuf; /* TN_FRAME_MAX bytes, allocated once established */

	/* Output */
	uint8_t ctrl[LINK_CTRL_MAX];
	link_src fl_src;
	size_t fl_len, fl_off;
	link_q prio, norm;

	/* Events */
	tn_link_event evq[LINK_EVQ];
	unsigned ev_head, ev_n;
	bool msg_pending; /* a MESSAGE event (pointing into rbuf) is queued */
};

/* link.c */
void tn_link_push_event(tn_link *l, const tn_link_event *ev);
/* Close (not silently): queue the CLOSE event with err; when established
 * and send_close, a CLOSE(reason) frame follows the frame in progress. */
void tn_link_fail(tn_link *l, tn_err err, bool send_close, uint8_t reason, tn_time now);

/* link_out.c */
/* Drop every queued message except a frame partly handed out, wiping them. */
void tn_link_drop_queued(tn_link *l);
/* Nothing to hand out and nothing owed. */
bool tn_link_out_idle(const tn_link *l);
void tn_link_q_free(link_q *q);

#endif
