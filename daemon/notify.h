/* tocsind: desktop notifications (docs/daemon.md "Notifications").
 *
 * One call per newly accepted alert (the node's NOTIFY). On Linux with
 * libsystemd this is org.freedesktop.Notifications.Notify on the session
 * bus through sd-bus (notify_dbus.c), fully asynchronous: the bus fd is
 * watched by a uv_poll and sd-bus timeouts by a uv_timer, so the loop
 * never blocks on the bus. The connection is opened at the first alert
 * and kept; a missing, dead or unanswering bus is a rate-limited log line
 * and the other channels (control subscribers, on_alert, the log) carry
 * the alert. Without libsystemd (notify_none.c) the feature is absent and
 * says so once at start.
 *
 * The text of an alert leaves the daemon here (to the notification server,
 * which may show it on a locked screen or keep a history): [notify]
 * desktop_details = false shows only the kind. */
#ifndef TD_NOTIFY_H
#define TD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "log.h"

typedef struct td_desktop td_desktop;

/* One alert as the desktop shows it. Strings are borrowed for the call;
 * text and location are UTF-8 of the given length (may be NULL / 0). */
typedef struct td_desktop_alert {
	const char *kind;        /* "panic", "drill", ... */
	const char *author_name; /* "" when unknown */
	const char *author;      /* short fingerprint */
	bool urgent;             /* panic: critical urgency, never expires */
	bool opened;             /* false: could not be decrypted */
	const uint8_t *text;
	size_t text_len;
	const uint8_t *location;
	size_t location_len;
} td_desktop_alert;

/* Create (no connection yet). cfg is read at every alert (reload applies).
 * Logs "desktop_notify built=yes|no enabled=yes|no" once. */
TN_NODISCARD tn_err td_desktop_new(td_desktop **out, uv_loop_t *loop, td_log *log,
                                   const td_config *cfg);
/* Show one alert, or log why not. Never blocks. */
void td_desktop_alert_show(td_desktop *d, const td_desktop_alert *a);
/* For status: "off", "not built", "idle (connects at the first alert)",
 * "connected", "unavailable (...)". */
const char *td_desktop_state(const td_desktop *d);
/* Close the bus and the handles (before the loop's last run). */
void td_desktop_stop(td_desktop *d);
/* Free (after the loop ran). NULL is a no-op. */
void td_desktop_del(td_desktop *d);

#endif
