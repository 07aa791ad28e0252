/* The control protocol between tocsin (client) and tocsind (DESIGN §8,
 * docs/control.md). One piece of code for both sides: the daemon decodes
 * requests and encodes replies and events with it, the client does the
 * reverse with the same functions. Pure bytes in and out: no I/O, no
 * allocation, no libuv; it links only the protocol library (for the strict
 * msgpack reader and writer in tocsin/mp.h), so client/ can use it.
 *
 * Framing: a 4-byte big-endian body length, then the body: one msgpack map.
 * A request body is at most TD_CTL_REQ_MAX bytes, a reply or event body at
 * most TD_CTL_REPLY_MAX. The length is checked before anything is read or
 * allocated.
 *
 * Maps are flat and canonical: at most TD_CTL_FIELDS_MAX pairs; keys are
 * msgpack str of 1..TD_CTL_KEY_MAX bytes of [a-z0-9_], strictly ascending
 * in bytewise order (so a repeated key is an error); values are nil, bool,
 * integers, UTF-8 str (<= TD_CTL_STR_MAX) or bin (<= TD_CTL_STR_MAX), each
 * in the one encoding msgpack-c's packer produces (tocsin/mp.h). Nested
 * arrays and maps are refused for now (TN_ERR_DEC_TYPE): nothing needs
 * them yet, and refusing is the easy direction to relax later.
 *
 * Views: every td_ctl_msg / td_ctl_req field that points at bytes points
 * into the buffer it was decoded from and is valid while that buffer is. */
#ifndef TD_CTLPROTO_H
#define TD_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"

#define TD_CTL_PROTOCOL "tocsin/1"

enum {
	TD_CTL_HDR = 4,                 /* big-endian body length */
	TD_CTL_REQ_MAX = 64 * 1024,     /* request body */
	TD_CTL_REPLY_MAX = 1024 * 1024, /* reply or event body */
	TD_CTL_FIELDS_MAX = 32,         /* pairs in one map */
	TD_CTL_KEY_MAX = 32,            /* bytes in one key */
	TD_CTL_STR_MAX = 60 * 1024,     /* one str or bin value */
	TD_CTL_OP_MAX = 32,             /* bytes in an op name */
	TD_CTL_MESSAGE_MAX = 1024,      /* human message in an error reply */
};

/* ---- generic flat maps ------------------------------------------------- */

typedef enum td_ctl_type {
	TD_CTL_NIL = 1,
	TD_CTL_BOOL,
	TD_CTL_UINT, /* u */
	TD_CTL_INT,  /* i, always < 0 (a non-negative integer is a UINT) */
	TD_CTL_STR,  /* p, n: UTF-8, not NUL-terminated */
	TD_CTL_BIN,  /* p, n */
} td_ctl_type;

typedef struct td_ctl_val {
	td_ctl_type type;
	bool b;
	uint64_t u;
	int64_t i;
	const uint8_t *p;
	size_t n;
} td_ctl_val;

typedef struct td_ctl_field {
	const char *key; /* not NUL-terminated after decode: use keylen */
	size_t keylen;
	td_ctl_val v;
} td_ctl_field;

/* Caller-owned storage; td_ctl_msg_init, then add fields or decode. */
typedef struct td_ctl_msg {
	size_t n;
	td_ctl_field f[TD_CTL_FIELDS_MAX];
} td_ctl_msg;

void td_ctl_msg_init(td_ctl_msg *m);

/* Add a field (encoding side). key must be a NUL-terminated literal-like
 * string that outlives the message; str values are copied by reference.
 * A message that is full, or a key that is invalid, makes the next
 * td_ctl_msg_frame() fail with TN_ERR_INVAL: building a message cannot
 * fail half way silently. */
void td_ctl_add_nil(td_ctl_msg *m, const char *key);
void td_ctl_add_bool(td_ctl_msg *m, const char *key, bool v);
void td_ctl_add_uint(td_ctl_msg *m, const char *key, uint64_t v);
void td_ctl_add_int(td_ctl_msg *m, const char *key, int64_t v);
void td_ctl_add_str(td_ctl_msg *m, const char *key, const char *s); /* NUL-terminated */
void td_ctl_add_strn(td_ctl_msg *m, const char *key, const uint8_t *p, size_t n);
void td_ctl_add_bin(td_ctl_msg *m, const char *key, const uint8_t *p, size_t n);

/* Encode m as one frame (header + body) into out, keys sorted. max is the
 * largest body allowed (TD_CTL_REQ_MAX for requests, TD_CTL_REPLY_MAX for
 * replies and events). Returns the frame length; TN_ERR_INVAL (a repeated
 * or invalid key, a full message, a value over its bound, a str that is
 * not UTF-8); TN_ERR_LIMIT (body longer than max); TN_ERR_NOBUF (cap too
 * small; out may have been written to). */
TN_NODISCARD tn_ssize td_ctl_msg_frame(const td_ctl_msg *m, size_t max, uint8_t *out, size_t cap);

/* Decode one body (without its header). Errors: TN_ERR_DEC_* from the
 * strict reader (TRUNCATED, NONCANONICAL, RESERVED, TYPE for a non-map top
 * level or a nested container, TOOBIG, UTF8, TRAILING) plus
 * TN_ERR_DEC_KEYORDER (unsorted or repeated key) and TN_ERR_DEC_RANGE (a
 * key with a byte outside [a-z0-9_]). On error m->n is 0. */
TN_NODISCARD tn_err td_ctl_msg_decode(td_ctl_msg *m, const uint8_t *body, size_t len);

/* The field named key, or NULL. */
const td_ctl_val *td_ctl_get(const td_ctl_msg *m, const char *key);
/* Typed lookups: TN_OK, TN_ERR_DEC_MISSINGKEY or TN_ERR_DEC_TYPE. */
TN_NODISCARD tn_err td_ctl_get_uint(const td_ctl_msg *m, const char *key, uint64_t *v);
TN_NODISCARD tn_err td_ctl_get_bool(const td_ctl_msg *m, const char *key, bool *v);
TN_NODISCARD tn_err td_ctl_get_str(const td_ctl_msg *m, const char *key, const char **p, size_t *n);
/* True when the str field key equals s exactly. */
bool td_ctl_str_is(const td_ctl_msg *m, const char *key, const char *s);

/* Copy src into dst (cap > 0 bytes, NUL-terminated, truncated at a
 * character boundary), replacing every byte that is not part of a valid
 * UTF-8 sequence with '?'. For strings the daemon does not control (paths)
 * before they go into a str field, which must be UTF-8. Returns strlen(dst). */
size_t td_ctl_utf8_clean(char *dst, size_t cap, const char *src);

/* ---- framing ----------------------------------------------------------- */

/* Write the 4-byte header for a body of len bytes. */
void td_ctl_put_hdr(uint8_t hdr[TD_CTL_HDR], uint32_t len);

/* Read a header. Returns TN_OK and *len, or TN_ERR_LIMIT when the length
 * exceeds max (*len still holds it, for the log). Call it before reserving
 * or reading any body byte. */
TN_NODISCARD tn_err td_ctl_get_hdr(const uint8_t hdr[TD_CTL_HDR], size_t max, uint32_t *len);

/* ---- requests ---------------------------------------------------------- */

typedef enum td_ctl_op {
	TD_CTL_OP_NONE = 0,
	TD_CTL_OP_VERSION,
	TD_CTL_OP_STATUS,
	TD_CTL_OP_INIT,
	TD_CTL_OP_ID,
	TD_CTL_OP_SUBSCRIBE,
	TD_CTL_OP_NETWORK_CREATE, /* "network_create" {name} */
	TD_CTL_OP_ALERT,          /* "alert" {kind, text?, violation?, location?, refers?} */
	TD_CTL_OP_ALERTS,         /* "alerts" {since?} */
	TD_CTL_OP_ALERT_STATUS,   /* "alert_status" {alert} */
	TD_CTL_OP_MEMBERS,        /* "members" */
	TD_CTL_OP_PEERS,          /* "peers" */
	TD_CTL_OP_INVITE,         /* "invite" {name, role?, expires_s?} */
	TD_CTL_OP_JOIN,           /* "join" {code, name} */
	TD_CTL_OP_REVOKE,         /* "revoke" {member} */
	TD_CTL_OP_WIPE,           /* "wipe" {confirm: "wipe"} */
	TD_CTL_OP_AUDIT,          /* "audit" (coordinators) */
} td_ctl_op;

/* "version", ... ; NULL for TD_CTL_OP_NONE or an unknown value. */
const char *td_ctl_op_name(td_ctl_op op);

/* Stable error codes of replies (the "error" field). */
typedef enum td_ctl_code {
	TD_CTL_OK = 0,
	TD_CTL_E_BAD_REQUEST,     /* "bad_request": not a valid request map */
	TD_CTL_E_UNKNOWN_OP,      /* "unknown_op" */
	TD_CTL_E_TOO_LARGE,       /* "too_large": length prefix over the limit; closed */
	TD_CTL_E_NOT_INITIALISED, /* "not_initialised": run tocsin init */
	TD_CTL_E_ALREADY_INIT,    /* "already_initialised" */
	TD_CTL_E_BAD_PASSPHRASE,  /* "bad_passphrase": empty or too long */
	TD_CTL_E_KEYSTORE,        /* "keystore": the keystore could not be written */
	TD_CTL_E_INTERNAL,        /* "internal": out of memory, a bug */
	TD_CTL_E_SUBSCRIBED,      /* "subscribed": a request on an event stream; closed */
	TD_CTL_E_NO_NETWORK,      /* "no_network": not a member of a network yet */
	TD_CTL_E_IN_NETWORK,      /* "in_network": already a member of a network */
	TD_CTL_E_NOT_COORDINATOR, /* "not_coordinator": the op needs a coordinator */
	TD_CTL_E_INVALID,         /* "invalid": an argument the op refuses */
	TD_CTL_E_NOT_FOUND,       /* "not_found": no such alert */
	TD_CTL_E_STORE,           /* "store": the database refused the write */
} td_ctl_code;

const char *td_ctl_code_str(td_ctl_code c);

/* A decoded (or to-be-encoded) request. */
typedef struct td_ctl_req {
	td_ctl_op op;
	uint64_t id;
	bool has_id;         /* decode: "id" was read, so an error reply can echo it */
	const uint8_t *pass; /* init: "passphrase" (bin), NULL when absent */
	size_t passlen;
	/* The op's other arguments (every field but id, op and passphrase),
	 * type-checked against the op's table in ctlproto.c. Views into the
	 * body. Encoding: added to the frame as they are. */
	td_ctl_msg args;
} td_ctl_req;

/* Decode a request body:
 *   {"id": uint, "op": str, ...args}
 * with exactly the args the op defines (init: optional "passphrase", a bin
 * of 1..TN_PASSPHRASE_MAX bytes; the others: none). On error *code says
 * which reply to send (BAD_REQUEST or UNKNOWN_OP) and r->id / r->has_id
 * are set if the id could be read. Returns TN_OK or the decoder's error
 * (TN_ERR_DEC_MISSINGKEY, _UNKNOWNKEY, _TYPE, _RECTYPE for an unknown op,
 * ...). */
TN_NODISCARD tn_err td_ctl_req_decode(td_ctl_req *r, const uint8_t *body, size_t len,
                                      td_ctl_code *code);

/* Encode a request frame (client side). Returns the frame length or the
 * errors of td_ctl_msg_frame; TN_ERR_INVAL for an unknown op, or a
 * passphrase on an op other than init. The passphrase is copied into out:
 * the caller wipes out. */
TN_NODISCARD tn_ssize td_ctl_req_frame(const td_ctl_req *r, uint8_t *out, size_t cap);

/* ---- replies and events -------------------------------------------------
 *
 * Every reply: "id" (the request's, 0 if it could not be read) and "ok".
 * ok=false adds "error" (td_ctl_code_str) and "message" (one human line).
 * ok=true adds the op's result fields (docs/control.md):
 *   version    "version", "protocol"
 *   status     "pid", "home", "data_dir", "control_socket", "listen",
 *              "initialised", "uptime_s", "links", "subscribers", "mesh",
 *              "version", and when initialised "fingerprint",
 *              "short_fingerprint"
 *   init, id   "fingerprint", "short_fingerprint"; init also "passphrase"
 *              (bool: the keystore is passphrase-protected)
 *   subscribe  nothing; events follow on the same connection
 * An event: "event" (str) and "seq" (uint, per connection from 1), plus
 * the event's fields: hello "version", "protocol"; shutdown "reason". */

/* Start a reply: init m with "id" and "ok". */
void td_ctl_reply_begin(td_ctl_msg *m, uint64_t id, bool ok);

/* An error reply frame. message is truncated to TD_CTL_MESSAGE_MAX bytes
 * at a UTF-8 boundary. Returns the frame length or TN_ERR_NOBUF. */
TN_NODISCARD tn_ssize td_ctl_error_frame(uint64_t id, td_ctl_code code, const char *message,
                                         uint8_t *out, size_t cap);

/* Check a decoded reply to op has the fields docs/control.md promises,
 * with their types. Returns TN_OK, TN_ERR_DEC_MISSINGKEY or
 * TN_ERR_DEC_TYPE. The client calls it before trusting any field. */
TN_NODISCARD tn_err td_ctl_reply_check(const td_ctl_msg *m, td_ctl_op op);

/* Same for an event: "event" str and "seq" uint. */
TN_NODISCARD tn_err td_ctl_event_check(const td_ctl_msg *m);

#endif
