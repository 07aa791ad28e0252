/* tocsind: purge expired alerts (see expiry.h). */
#define _POSIX_C_SOURCE 200809L
#include "expiry.h"

#include <inttypes.h>
#include <time.h>

static int64_t wall_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_timer(uv_timer_t *t);

static void rearm(td_expiry *e, int64_t due_ms, int64_t now_ms)
{
	if (due_ms > now_ms + TD_EXPIRY_RECHECK_MS)
		due_ms = now_ms + TD_EXPIRY_RECHECK_MS;
	if (due_ms < now_ms)
		due_ms = now_ms;
	e->due_ms = due_ms;
	/* +1 ms: an alert is live while expires_ms > now (docs/alerts.md). */
	uv_timer_start(&e->timer, on_timer, (uint64_t)(due_ms - now_ms) + 1, 0);
}

/* Delete what has expired; arm for what is left (nothing left: no timer). */
static void purge(td_expiry *e)
{
	int64_t now = wall_now_ms();
	tn_ssize n = td_store_purge_expired(e->store, now);
	if (n > 0)
		td_info(e->log, "alerts_expired purged=%" PRId64, (int64_t)n);
	int64_t next;
	e->due_ms = 0;
	uv_timer_stop(&e->timer);
	if (n < 0) {
		rearm(e, now + 60 * 1000, now); /* the store failed (logged): retry */
		return;
	}
	if (td_store_next_expiry(e->store, &next) == TN_OK)
		rearm(e, next, now);
}

static void on_timer(uv_timer_t *t)
{
	purge(t->data);
}

static void on_insert(void *ud, int64_t expires_ms)
{
	td_expiry *e = ud;
	if (!e->open)
		return;
	if (e->due_ms == 0 || expires_ms < e->due_ms)
		rearm(e, expires_ms, wall_now_ms());
}

void td_expiry_start(td_expiry *e, uv_loop_t *loop, td_store *store, td_log *log)
{
	e->store = store;
	e->log = log;
	e->due_ms = 0;
	uv_timer_init(loop, &e->timer);
	e->timer.data = e;
	e->open = true;
	td_store_on_alert_insert(store, on_insert, e);
	purge(e);
}

void td_expiry_stop(td_expiry *e)
{
	if (!e->open)
		return;
	e->open = false;
	td_store_on_alert_insert(e->store, NULL, NULL);
	uv_timer_stop(&e->timer);
	if (!uv_is_closing((uv_handle_t *)&e->timer))
		uv_close((uv_handle_t *)&e->timer, NULL);
}
