/* tocsind: expired alerts are deleted from the store (THREAT-MODEL: history
 * on a seized laptop minimal and expiring; docs/security.md).
 *
 * At start, before the mesh replays the store, every alert with
 * expires_ms <= now is purged (td_store_purge_expired: secure_delete
 * overwrites the freed pages). Then ONE uv_timer is armed for the earliest
 * expiry left, at most TD_EXPIRY_RECHECK_MS ahead (the timer is monotonic,
 * expiries are wall clock: a suspend or a clock change is caught up within
 * that time). No alert, no timer. The store tells us of every new alert's
 * expiry (td_store_on_alert_insert) so the timer moves earlier when needed. */
#ifndef TD_EXPIRY_H
#define TD_EXPIRY_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "log.h"
#include "store.h"

enum {
	TD_EXPIRY_RECHECK_MS = 60 * 60 * 1000, /* longest sleep while alerts are stored */
};

typedef struct td_expiry {
	uv_timer_t timer;
	td_store *store;
	td_log *log;
	int64_t due_ms; /* wall clock the timer fires at; 0: not armed */
	bool open;
} td_expiry;

/* Purge now, then arm for the next expiry. */
void td_expiry_start(td_expiry *e, uv_loop_t *loop, td_store *store, td_log *log);
/* Close the timer (shutdown); the loop finishes the close. */
void td_expiry_stop(td_expiry *e);

#endif
