/* Tocsin protocol library: error codes.
 *
 * Every fallible function returns TN_OK (0), a count (tn_ssize >= 0), or one
 * of the negative codes below. Codes at or below TN_ERR_FATAL mean the object
 * that returned them is in an undefined state and must be discarded.
 *
 * Codes are stable numbers: tests assert them, logs print their names, and new
 * ones are only ever appended within their block. */
#ifndef TOCSIN_ERR_H
#define TOCSIN_ERR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TN_NODISCARD __attribute__((warn_unused_result))
#else
#define TN_NODISCARD
#endif

typedef enum tn_err {
	TN_OK = 0,

	/* General (-1 .. -19) */
	TN_ERR_NOBUF = -1,   /* output buffer too small; nothing was written */
	TN_ERR_INVAL = -2,   /* caller passed an invalid argument */
	TN_ERR_STATE = -3,   /* call not allowed in the object's current state */
	TN_ERR_PROTO = -4,   /* peer violated the protocol (generic) */
	TN_ERR_AUTH = -5,    /* authentication failed (MAC, signature) */
	TN_ERR_LIMIT = -6,   /* a protocol limit (tn_limits.h) was exceeded */
	TN_ERR_AGAIN = -7,   /* not enough input yet; call again with more */
	TN_ERR_NOTFOUND = -8, /* no such item */
	TN_ERR_EXISTS = -9,  /* already exists; refusing to overwrite */

	/* Strict decoder (-20 .. -39): each rejection reason is distinct. */
	TN_ERR_DEC_TRUNCATED = -20,    /* input ended inside an object */
	TN_ERR_DEC_TRAILING = -21,     /* bytes left after the record */
	TN_ERR_DEC_TYPE = -22,         /* wrong msgpack type for a field */
	TN_ERR_DEC_NONCANONICAL = -23, /* valid msgpack, but not the one encoding we produce */
	TN_ERR_DEC_ARRAYLEN = -24,     /* array has the wrong number of elements */
	TN_ERR_DEC_TOOBIG = -25,       /* string/bin/array/map larger than its bound */
	TN_ERR_DEC_RANGE = -26,        /* integer or enum value out of range */
	TN_ERR_DEC_UTF8 = -27,         /* text field is not valid UTF-8 */
	TN_ERR_DEC_KEYORDER = -28,     /* map keys not strictly ascending (dup or unsorted) */
	TN_ERR_DEC_UNKNOWNKEY = -29,   /* map key not defined for this record */
	TN_ERR_DEC_MISSINGKEY = -30,   /* required map key absent */
	TN_ERR_DEC_VERSION = -31,      /* unsupported record version */
	TN_ERR_DEC_RECTYPE = -32,      /* unknown record / message type */
	TN_ERR_DEC_BADLEN = -33,       /* fixed-size field (key, hash, nonce) of wrong size */
	TN_ERR_DEC_DEPTH = -34,        /* nesting deeper than allowed */
	TN_ERR_DEC_RESERVED = -35,     /* reserved msgpack byte (0xc1) or unsupported type */
	TN_ERR_DEC_IGNORABLE = -36,    /* well-formed link message of a type this version does
	                                  not know, in the ignorable range: skip it, keep the
	                                  link (docs/wire.md §4) */

	/* Noise and links (-40 .. -59) */
	TN_ERR_DH = -40,           /* DH produced the all-zero output (low-order point) */
	TN_ERR_NONCE = -41,        /* cipher nonce exhausted; rekey or close */
	TN_ERR_REPLAY = -42,       /* handshake message 1 seen before */
	TN_ERR_STALE = -43,        /* timestamp outside the accepted window */
	TN_ERR_MISDIRECTED = -44,  /* message 1 meant for another node */
	TN_ERR_FRAME = -45,        /* malformed length framing */
	TN_ERR_CLOSED = -46,       /* link is closed */
	TN_ERR_PATTERN = -47,      /* unknown or unsupported Noise protocol name */
	TN_ERR_TIMEOUT = -48,      /* handshake or peer timed out */

	/* Keys and keystore (-60 .. -79) */
	TN_ERR_PASSPHRASE = -60,   /* wrong passphrase (or the file was tampered with) */
	TN_ERR_CORRUPT = -61,      /* stored data is damaged or not a keystore */
	TN_ERR_NEEDPASS = -62,     /* keystore is encrypted and no passphrase given */
	TN_ERR_KS_VERSION = -63,   /* keystore written by an unknown version */
	TN_ERR_INSECURE = -64,     /* file or dir readable by others, not ours, or a link */

	/* Daemon: storage, files, configuration (-80 .. -99). Only daemon/
	 * returns these; the protocol library never does I/O. */
	TN_ERR_IO = -80,           /* OS or database I/O error; logged where it happened */
	TN_ERR_BUSY = -81,         /* database locked by another connection; retry later */
	TN_ERR_FULL = -82,         /* disk or database size limit full; nothing was written */
	TN_ERR_INUSE = -83,        /* held by another process (e.g. another tocsind on the home) */
	TN_ERR_CONFIG = -84,       /* invalid configuration; the message names file:line */
	TN_ERR_SCHEMA = -85,       /* database schema newer than this program or not ours */

	/* Fatal: discard the object (<= -900) */
	TN_ERR_FATAL = -900,
	TN_ERR_NOMEM = -901,
	TN_ERR_INTERNAL = -902,
} tn_err;

/* A byte count (>= 0) or a negative tn_err. */
typedef ptrdiff_t tn_ssize;

/* Short stable name of the code ("dec_truncated"), for logs and tests.
 * Never NULL; unknown codes give "unknown". */
const char *tn_strerror(int err);

/* True when the object that returned err must be discarded. */
static inline bool tn_err_is_fatal(int err) { return err <= TN_ERR_FATAL; }

#endif
