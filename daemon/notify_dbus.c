/* tocsind: desktop notifications over the session bus with sd-bus (see
 * notify.h). Built only when meson finds libsystemd.
 *
 * Never blocking: sd_bus_open_user() only starts the connection (a
 * non-blocking connect on a Unix socket; authentication and Hello are
 * queued), Notify goes out with sd_bus_call_method_async(), and the loop
 * drives sd_bus_process() from a uv_poll on the bus fd (events from
 * sd_bus_get_events) and a uv_timer at sd_bus_get_timeout (only armed
 * while a call awaits its reply: an idle connection costs no wakeup).
 * No sd_bus_call, sd_bus_wait or sd_bus_flush anywhere.
 *
 * Failures: no bus (socket absent or refused), a bus that dies, or no
 * notification server (ServiceUnknown, NoReply) are one rate-limited line
 * each; the connection is dropped and opened again at the next alert. The
 * alert itself is never affected: control subscribers, on_alert and the
 * log line run whatever happens here. */
#define _POSIX_C_SOURCE 200809L
#include "notify.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <systemd/sd-bus.h>

#include "ctlproto.h"
#include "tocsin/limits.h"

enum {
	/* Body: text + location, each byte at most "&amp;" (5), plus labels. */
	BODY_MAX = (TN_ALERT_TEXT_MAX + TN_ALERT_LOCATION_MAX) * 5 + 64,
	SUMMARY_MAX = TN_NAME_MAX + 64,
	/* Notify's own reply timeout (sd-bus default is 25 s). */
	CALL_TIMEOUT_US = 10 * 1000 * 1000,
};

struct td_desktop {
	uv_loop_t *loop;
	td_log *log;
	const td_config *cfg;
	sd_bus *bus;
	uv_poll_t *poll; /* on the bus fd; heap: closed asynchronously */
	uv_timer_t timer;
	bool stopped;
	char state[96];
	td_ratelimit rl;
	/* Scratch (the text is wiped after each call). */
	char body[BODY_MAX];
	char clean[TN_ALERT_TEXT_MAX + 1];
};

/* "connected", or "unavailable (why)" when why is not NULL. */
static void set_state(td_desktop *d, const char *what, const char *why)
{
	if (why)
		snprintf(d->state, sizeof d->state, "%s (%s)", what, why);
	else
		snprintf(d->state, sizeof d->state, "%s", what);
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

/* Forget the connection (no flush: that could block). */
static void drop_bus(td_desktop *d)
{
	if (d->poll) {
		/* uv_close removes the fd from epoll before sd-bus closes it. */
		uv_close((uv_handle_t *)d->poll, free_handle);
		d->poll = NULL;
	}
	uv_timer_stop(&d->timer);
	if (d->bus) {
		sd_bus_close(d->bus);
		d->bus = sd_bus_unref(d->bus);
	}
}

static void on_poll(uv_poll_t *p, int status, int events);
static void on_timer(uv_timer_t *t);

/* After every sd-bus step: watch what sd-bus wants, until when. */
static void arm(td_desktop *d)
{
	if (!d->bus)
		return;
	int fd = sd_bus_get_fd(d->bus);
	int ev = sd_bus_get_events(d->bus);
	if (fd < 0 || ev < 0) {
		td_log_limited(d->log, &d->rl, TN_LOG_WARN,
		               "desktop_bus_lost error=%s fallback=log,on_alert,subscribers",
		               strerror(fd < 0 ? -fd : -ev));
		set_state(d, "unavailable", "bus lost");
		drop_bus(d);
		return;
	}
	if (!d->poll) {
		d->poll = calloc(1, sizeof *d->poll);
		if (!d->poll || uv_poll_init(d->loop, d->poll, fd) != 0) {
			free(d->poll);
			d->poll = NULL;
			td_log_limited(d->log, &d->rl, TN_LOG_WARN, "desktop_bus_lost error=poll_init");
			drop_bus(d);
			return;
		}
		d->poll->data = d;
	}
	int flags = 0;
	if (ev & POLLIN)
		flags |= UV_READABLE;
	if (ev & POLLOUT)
		flags |= UV_WRITABLE;
	/* Always readable too: a hang-up is how a dead bus shows. */
	uv_poll_start(d->poll, flags | UV_READABLE | UV_DISCONNECT, on_poll);

	uint64_t until = UINT64_MAX;
	if (sd_bus_get_timeout(d->bus, &until) < 0 || until == UINT64_MAX) {
		uv_timer_stop(&d->timer);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	uint64_t ms = until > now ? (until - now + 999) / 1000 : 0;
	uv_timer_start(&d->timer, on_timer, ms, 0);
}

/* Run sd-bus until it has nothing to do (at most 64 steps per wakeup; more
 * continue at once from the timer, since sd-bus may hold read messages the
 * fd will not announce again); drop the bus on error. */
static void process(td_desktop *d)
{
	bool more = false;
	for (int i = 0; d->bus && i < 64; i++) {
		int r = sd_bus_process(d->bus, NULL);
		if (r < 0) {
			td_log_limited(d->log, &d->rl, TN_LOG_WARN,
			               "desktop_bus_lost error=%s fallback=log,on_alert,subscribers",
			               strerror(-r));
			set_state(d, "unavailable", "bus lost");
			drop_bus(d);
			return;
		}
		more = r > 0 && i == 63;
		if (r == 0)
			break;
	}
	if (d->bus && !sd_bus_is_open(d->bus)) {
		td_log_limited(d->log, &d->rl, TN_LOG_WARN,
		               "desktop_bus_lost error=closed fallback=log,on_alert,subscribers");
		set_state(d, "unavailable", "bus closed");
		drop_bus(d);
		return;
	}
	arm(d);
	if (more && d->bus)
		uv_timer_start(&d->timer, on_timer, 0, 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	process(p->data);
}

static void on_timer(uv_timer_t *t)
{
	process(t->data);
}

static int on_reply(sd_bus_message *m, void *ud, sd_bus_error *ret)
{
	(void)ret;
	td_desktop *d = ud;
	if (sd_bus_message_is_method_error(m, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(m);
		td_log_limited(d->log, &d->rl, TN_LOG_WARN,
		               "desktop_notify_failed error=%s fallback=log,on_alert,subscribers",
		               e && e->name ? e->name : "unknown");
		set_state(d, "unavailable", e && e->name ? e->name : "error");
		return 0;
	}
	uint32_t id = 0;
	(void)sd_bus_message_read(m, "u", &id);
	td_info(d->log, "desktop_notified id=%u", id);
	set_state(d, "connected", NULL);
	return 0;
}

tn_err td_desktop_new(td_desktop **out, uv_loop_t *loop, td_log *log, const td_config *cfg)
{
	td_desktop *d = calloc(1, sizeof *d);
	if (!d)
		return TN_ERR_NOMEM;
	d->loop = loop;
	d->log = log;
	d->cfg = cfg;
	td_ratelimit_init(&d->rl, 5, 60 * TN_SEC);
	if (uv_timer_init(loop, &d->timer) != 0) {
		free(d);
		return TN_ERR_IO;
	}
	d->timer.data = d;
	set_state(d, "idle", "connects at the first alert");
	td_info(log, "desktop_notify built=yes enabled=%s details=%s", cfg->desktop ? "yes" : "no",
	        cfg->desktop_details ? "yes" : "no");
	*out = d;
	return TN_OK;
}

/* Append n bytes of UTF-8 (cleaned: NUL and invalid bytes become '?')
 * with the three characters body markup interprets escaped. */
static size_t append_escaped(td_desktop *d, size_t used, const uint8_t *s, size_t n)
{
	if (n > TN_ALERT_TEXT_MAX)
		n = TN_ALERT_TEXT_MAX;
	char raw[TN_ALERT_TEXT_MAX + 1];
	for (size_t i = 0; i < n; i++)
		raw[i] = s[i] ? (char)s[i] : '?';
	raw[n] = '\0';
	td_ctl_utf8_clean(d->clean, sizeof d->clean, raw);
	sodium_memzero(raw, sizeof raw);
	for (const char *p = d->clean; *p; p++) {
		const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
		size_t k = rep ? strlen(rep) : 1;
		if (used + k >= sizeof d->body)
			break;
		memcpy(d->body + used, rep ? rep : p, k);
		used += k;
	}
	d->body[used] = '\0';
	return used;
}

static size_t append_plain(td_desktop *d, size_t used, const char *s)
{
	size_t k = strlen(s);
	if (used + k >= sizeof d->body)
		k = sizeof d->body - 1 - used;
	memcpy(d->body + used, s, k);
	used += k;
	d->body[used] = '\0';
	return used;
}

/* Open the session bus (DBUS_SESSION_BUS_ADDRESS, else
 * $XDG_RUNTIME_DIR/bus); only starts the connection. */
static bool connect_bus(td_desktop *d)
{
	int r = sd_bus_open_user_with_description(&d->bus, "tocsind");
	if (r < 0) {
		d->bus = NULL;
		td_log_limited(d->log, &d->rl, TN_LOG_WARN,
		               "desktop_unavailable reason=no_session_bus error=%s "
		               "fallback=log,on_alert,subscribers",
		               strerror(-r));
		set_state(d, "unavailable (no session bus)", strerror(-r));
		return false;
	}
	sd_bus_set_method_call_timeout(d->bus, CALL_TIMEOUT_US);
	return true;
}

void td_desktop_alert_show(td_desktop *d, const td_desktop_alert *a)
{
	if (!d || d->stopped || !d->cfg->desktop)
		return;
	if (!d->bus && !connect_bus(d))
		return;

	char summary[SUMMARY_MAX];
	bool details = d->cfg->desktop_details;
	const char *who = a->author_name[0] ? a->author_name : a->author;
	if (details)
		snprintf(summary, sizeof summary, "Tocsin: %s from %s", a->kind, who);
	else
		snprintf(summary, sizeof summary, "Tocsin: %s", a->kind);
	size_t n = 0;
	d->body[0] = '\0';
	if (!details)
		n = append_plain(d, n, "Open Tocsin to read it (tocsin alerts).");
	else if (!a->opened)
		n = append_plain(d, n, "(could not be opened)");
	else {
		if (a->text_len)
			n = append_escaped(d, n, a->text, a->text_len);
		if (a->location_len) {
			n = append_plain(d, n, n ? "\nLocation: " : "Location: ");
			n = append_escaped(d, n, a->location, a->location_len);
		}
	}
	(void)n;

	uint8_t urgency = a->urgent ? 2 : 1;
	int32_t expire = a->urgent ? 0 : -1; /* 0: until dismissed; -1: the server's default */
	int r = sd_bus_call_method_async(
		d->bus, NULL, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
		"org.freedesktop.Notifications", "Notify", on_reply, d, "susssasa{sv}i", "Tocsin",
		(uint32_t)0, a->urgent ? "dialog-warning" : "dialog-information", summary, d->body,
		0, 2, "urgency", "y", urgency, "category", "s", "im.received", expire);
	sodium_memzero(d->body, sizeof d->body);
	sodium_memzero(d->clean, sizeof d->clean);
	sodium_memzero(summary, sizeof summary);
	if (r < 0) {
		td_log_limited(d->log, &d->rl, TN_LOG_WARN,
		               "desktop_notify_failed error=%s fallback=log,on_alert,subscribers",
		               strerror(-r));
		set_state(d, "unavailable", strerror(-r));
		drop_bus(d);
		return;
	}
	process(d);
}

const char *td_desktop_state(const td_desktop *d)
{
	if (!d)
		return "not built";
	if (!d->cfg->desktop)
		return "off";
	return d->state;
}

void td_desktop_stop(td_desktop *d)
{
	if (!d || d->stopped)
		return;
	d->stopped = true;
	drop_bus(d);
	uv_close((uv_handle_t *)&d->timer, NULL);
}

void td_desktop_del(td_desktop *d)
{
	if (!d)
		return;
	if (d->bus)
		sd_bus_unref(d->bus);
	free(d);
}
