/* tocsind: every bound the daemon enforces, in one place (STYLE §1, §5).
 * Protocol limits live in tocsin/limits.h; these are the daemon's own. */
#ifndef TD_DAEMON_LIMITS_H
#define TD_DAEMON_LIMITS_H

enum {
	/* Paths. Fixed buffers so paths need no allocation and a too-long
	 * path is an error, not a truncation. */
	TD_PATH_MAX = 4096,

	/* Config file: read whole into memory, so cap it. */
	TD_CONFIG_FILE_MAX = 64 * 1024,
	TD_CONFIG_ERR_MAX = 512,     /* one "file:line: message" */
	TD_ON_ALERT_MAX = 1024,      /* [notify] on_alert command path */

	/* Config value ranges. */
	TD_DEGREE_MIN = 1,
	TD_DEGREE_MAX = 32,
	TD_DEGREE_DEFAULT = 5,
	TD_INBOUND_MAX = 256,
	TD_INBOUND_DEFAULT = 12,
	TD_KEEPALIVE_MIN_S = 2, /* small values are for tests; dead peer after 2.5 x */
	TD_KEEPALIVE_MAX_S = 3600,
	TD_KEEPALIVE_DEFAULT_S = 120,
	TD_PORT_DEFAULT = 7450,

	/* Connections not yet authenticated (no link layer yet: all of them).
	 * Each costs one fixed buffer, so memory is bounded by the product. */
	TD_PENDING_CONN_MAX = 32,
	/* Enough for a Noise XXpsk0 message 1 with its length prefix
	 * (2 + 32 + payload + 16); a peer sending more before it is
	 * authenticated is stalled (reading stops), not buffered. */
	TD_PREAUTH_BUF = 1024,
	/* A connection that never authenticates is closed after a random
	 * delay in [MIN, MAX] ms, never at once: probe resistance (DESIGN §4). */
	TD_SILENT_CLOSE_MIN_MS = 10 * 1000,
	TD_SILENT_CLOSE_MAX_MS = 30 * 1000,

	/* Log lines. */
	TD_LOG_LINE_MAX = 1024,

	/* Store. */
	TD_STORE_BUSY_TIMEOUT_MS = 1000,
	TD_AUTHOR_LEN = 32,          /* Ed25519 public key */
	TD_LINK_PK_LEN = 32,         /* X25519 public key */
};

#endif
