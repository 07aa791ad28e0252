/* tocsind configuration: an INI file (libinih) mapped strictly onto
 * td_config, plus command-line overrides through the same setter.
 *
 *   [network]  listen = HOST:PORT       IPv4 "127.0.0.1:7450", IPv6 "[::1]:7450";
 *                                       numeric only (no DNS at startup); port 0
 *                                       means "any free port" (logged when bound)
 *              advertise = HOST:PORT    the address invites and our endpoint record
 *                                       carry (needed when listen is 0.0.0.0 or ::);
 *                                       numeric like listen; "" = unset (default)
 *   [links]    degree = 1..32           target active links (default 5)
 *              max_inbound = 0..256     (default 12)
 *              keepalive = 2..3600      seconds of silence before a ping (120);
 *                                       a peer silent 2.5 x this long is dead
 *   [notify]   on_alert = /abs/cmd      run without a shell; "" = none (default)
 *              desktop = true|false     (default true)
 *              desktop_details = true|false   author and text in the desktop
 *                                       notification (true), or only the kind
 *   [log]      level = err|warn|info|debug   (default info)
 *
 * Strict: an unknown section or key, a repeated key, a bad or out-of-range
 * value, an overlong line, a NUL byte or a syntax error is an error whose
 * message starts "FILE:LINE: ". Lines are limited by libinih's line buffer
 * (200 bytes in Debian's build). */
#ifndef TD_CONFIG_H
#define TD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "tocsin/err.h"
#include "daemon_limits.h"

enum { TD_ADDRSTR_MAX = 64 }; /* "[ffff:...:ffff]:65535" fits */

typedef struct td_config {
	/* [network] */
	struct sockaddr_storage listen; /* AF_INET or AF_INET6, port set */
	char listen_str[TD_ADDRSTR_MAX]; /* canonical text, for logs */
	char advertise[TD_ADDRSTR_MAX];  /* canonical HOST:PORT, "" when unset */
	/* [links] */
	unsigned degree;
	unsigned max_inbound;
	unsigned keepalive_s;
	/* [notify] */
	char on_alert[TD_ON_ALERT_MAX]; /* "" when unset */
	bool desktop;
	bool desktop_details; /* author, text and location shown (else kind only) */
	/* [log] */
	int log_level; /* TN_LOG_* */
} td_config;

/* Defaults: listen 127.0.0.1:7450, degree 5, max_inbound 12, keepalive 120,
 * no on_alert, desktop true, desktop_details true, level info. */
void td_config_default(td_config *cfg);

/* Set one key as if read from the file (flags use it too: --listen is
 * td_config_set(cfg, "network", "listen", v, ...)). On error *cfg is
 * unchanged and err holds "[section] key: reason" or "unknown ...".
 * Returns TN_OK or TN_ERR_CONFIG. */
TN_NODISCARD tn_err td_config_set(td_config *cfg, const char *section, const char *key,
				  const char *value, char *err, size_t errlen);

/* Parse INI text (len bytes, need not be NUL-terminated; NUL bytes are an
 * error) on top of *cfg. name is used in messages ("name:line: ...").
 * All or nothing: on error *cfg is unchanged. Returns TN_OK or
 * TN_ERR_CONFIG (err holds the first error, by line). */
TN_NODISCARD tn_err td_config_parse(td_config *cfg, const char *buf, size_t len, const char *name,
				    char *err, size_t errlen);

/* Read and parse the file at path on top of *cfg. A missing file is
 * TN_OK with *found false when must_exist is false (defaults apply).
 * The file must be a regular file owned by the effective uid and not
 * writable by group or others (on_alert runs a command from it), and at
 * most TD_CONFIG_FILE_MAX bytes.
 * Returns TN_OK, TN_ERR_CONFIG (bad content or unsafe file) or TN_ERR_IO
 * (cannot open/read); err says which, naming the path. */
TN_NODISCARD tn_err td_config_load(td_config *cfg, const char *path, bool must_exist, bool *found,
				   char *err, size_t errlen);

/* Parse "A.B.C.D:PORT" or "[IPv6]:PORT" (numeric, port 0..65535) into
 * *ss, and its canonical text into canon. Returns TN_OK or TN_ERR_CONFIG
 * with the reason in err. */
TN_NODISCARD tn_err td_parse_hostport(const char *s, struct sockaddr_storage *ss, char *canon,
				      size_t canonlen, char *err, size_t errlen);

#endif
