/* Pacing our own pushes (docs/node.md "Pacing our own alerts").
 *
 * Every receiver judges a pushed alert against the author's budget on its
 * own arrival clock (urgent: burst 5 then 1 a minute; chatter: burst 20
 * then 10 a minute). An author who pushed more would see the excess
 * dropped everywhere as rate_limited and pulled only at the next digest
 * round, minutes later. So the author keeps the same buckets for herself:
 * an own alert over budget is still sealed, stored and answered to WANTs at
 * once, but its push waits until her bucket has a token again, plus
 * NODE_PACE_MARGIN for the receivers' later clocks. Never refused: a panic
 * always leaves, at the earliest time every receiver accepts it.
 *
 * Order: alerts of one class leave in creation order (each waits for the
 * one held before it), and a chatter alert (a drill, a reply) never leaves
 * before an urgent one held before it; a panic never waits for chatter. */
#include <stdlib.h>
#include <string.h>

#include "node_priv.h"

static tn_time tmax(tn_time a, tn_time b)
{
	return a > b ? a : b;
}

/* tn_bucket_take as every receiver will judge it, whatever her delay (up
 * to NODE_PACE_MARGIN): a token minted at m (the stamp plus whole
 * intervals) is spent only from m + NODE_PACE_MARGIN on, and a full bucket
 * restarts its stamp at t, never earlier (hers restarts at t + her delay).
 * So a token refilled just now is not spent before slower receivers have it
 * too. */
static bool pace_take(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time t)
{
	if (b->tokens >= cfg->burst) {
		b->stamp = tmax(b->stamp, t);
	} else if (t > NODE_PACE_MARGIN && t - NODE_PACE_MARGIN > b->stamp) {
		uint64_t k = (t - NODE_PACE_MARGIN - b->stamp) / cfg->interval;
		if (k >= cfg->burst - b->tokens) {
			b->tokens = cfg->burst;
			b->stamp = t;
		} else {
			b->tokens += (uint32_t)k;      /* k < burst - tokens */
			b->stamp += k * cfg->interval; /* <= t: no overflow */
		}
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

static const tn_bucket_cfg *class_cfg(const tn_node *n, size_t c)
{
	return c == TN_ALERT_CLASS_URGENT ? &n->cfg.limits.urgent : &n->cfg.limits.chatter;
}

bool tn_node_pace_reserve(tn_node *n)
{
	if (n->nheld < n->held_cap)
		return true;
	size_t ncap = n->held_cap ? n->held_cap * 2 : 8;
	pace_item *p = realloc(n->held, ncap * sizeof *p);
	if (!p)
		return false;
	n->held = p;
	n->held_cap = ncap;
	return true;
}

tn_time tn_node_pace(tn_node *n, alert_entry *a, tn_time now)
{
	size_t c = tn_alert_kind_class(a->kind);
	const tn_bucket_cfg *cfg = class_cfg(n, c);
	tn_bucket *b = &n->pace_b[c];
	tn_time t = tmax(now, n->pace_tail[c]);
	if (c != TN_ALERT_CLASS_URGENT)
		t = tmax(t, n->pace_tail[TN_ALERT_CLASS_URGENT]);
	if (!pace_take(b, cfg, t)) {
		/* Empty at t: the next token is minted one interval after the
		 * stamp (whole intervals only, as at every receiver) and spent
		 * NODE_PACE_MARGIN later. */
		tn_time room = TN_TIME_NEVER - 1 - b->stamp;
		t = cfg->interval < room && NODE_PACE_MARGIN < room - cfg->interval
		            ? b->stamp + cfg->interval + NODE_PACE_MARGIN
		            : TN_TIME_NEVER - 1;
		bool ok = pace_take(b, cfg, t);
		(void)ok; /* a token was minted by t - margin */
	}
	if (t <= now)
		return now;
	n->pace_tail[c] = t;
	/* tn_node_pace_reserve made room */
	n->held[n->nheld++] = (pace_item){tn_node_index_slot(n, a), a->gen, t};
	a->flags |= AF_HELD;
	return t;
}

tn_time tn_node_pace_at(const tn_node *n, const alert_entry *a)
{
	if (!(a->flags & AF_HELD))
		return 0;
	uint32_t slot = tn_node_index_slot(n, a);
	for (size_t i = 0; i < n->nheld; i++)
		if (n->held[i].slot == slot && n->held[i].gen == a->gen)
			return n->held[i].at;
	return 0;
}

tn_time tn_node_pace_deadline(const tn_node *n)
{
	tn_time t = TN_TIME_NEVER;
	for (size_t i = 0; i < n->nheld; i++)
		if (n->held[i].at < t)
			t = n->held[i].at;
	return t;
}

void tn_node_pace_tick(tn_node *n, tn_time now, uint64_t wall_ms)
{
	size_t k = 0;
	/* In creation order, so alerts due together keep their order. */
	for (size_t i = 0; i < n->nheld; i++) {
		pace_item it = n->held[i];
		if (it.at > now) {
			n->held[k++] = it;
			continue;
		}
		alert_entry *a = tn_node_index_ref(n, (qref){it.slot, it.gen});
		if (!a)
			continue; /* store failed or expired meanwhile */
		a->flags &= (uint8_t)~AF_HELD;
		if (a->state != AS_STORED)
			continue; /* still being stored: tn_node_stored pushes it */
		tn_node_gossip_stored(n, a, now);
		tn_node_rwant_released(n, a, wall_ms);
	}
	n->nheld = k;
}

void tn_node_pace_free(tn_node *n)
{
	free(n->held);
	n->held = NULL;
	n->nheld = n->held_cap = 0;
}
