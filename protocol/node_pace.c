/* Pacing our own pushes (docs/node.md "Pacing our own alerts").
 *
 * Every receiver judges a pushed alert against the author's budget on its
 * own arrival clock (urgent: burst 5 then 1 a minute; chatter: burst 20
 * then 10 a minute). An author who pushed more would see the excess
 * dropped everywhere as rate_limited and pulled only at the next digest
 * round, minutes later. So the author keeps the same buckets for herself:
 * an own alert over budget is still sealed and stored at once (answered to
 * WANTs, left out of our digests), but its push waits until her bucket has
 * a token again, plus NODE_PACE_MARGIN for the receivers' later clocks.
 * Never refused: a panic always leaves, at the earliest time every
 * receiver accepts it.
 *
 * Order: alerts of one class leave in creation order (each waits for the
 * one held before it), and a chatter alert (a drill, a reply) never leaves
 * before an urgent one held before it; a panic never waits for chatter.
 *
 * After a restart (tn_node_pace_restore) the buckets and the held alerts
 * are rebuilt from the stored own alerts' creation times and receipts. */
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
static void pace_refill(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time t)
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
}

static bool pace_take(tn_bucket *b, const tn_bucket_cfg *cfg, tn_time t)
{
	pace_refill(b, cfg, t);
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

static const tn_bucket_cfg *class_cfg(const tn_node *n, size_t c)
{
	return c == TN_ALERT_CLASS_URGENT ? &n->cfg.limits.urgent : &n->cfg.limits.chatter;
}

static bool reserve_n(tn_node *n, size_t k)
{
	while (n->held_cap - n->nheld < k) {
		size_t ncap = n->held_cap ? n->held_cap * 2 : 8;
		pace_item *p = realloc(n->held, ncap * sizeof *p);
		if (!p)
			return false;
		n->held = p;
		n->held_cap = ncap;
	}
	return true;
}

bool tn_node_pace_reserve(tn_node *n)
{
	return reserve_n(n, 1);
}

/* The push time of an alert of class c asked for at req: not before the
 * one held before it in its class, chatter not before held urgent ones;
 * spends the token (b, tail: ours, or a model's in pace_restore). */
static tn_time pace_slot(const tn_node *n, tn_bucket *b, tn_time *tail, size_t c, tn_time req)
{
	const tn_bucket_cfg *cfg = class_cfg(n, c);
	tn_time t = tmax(req, tail[c]);
	if (c != TN_ALERT_CLASS_URGENT)
		t = tmax(t, tail[TN_ALERT_CLASS_URGENT]);
	if (!pace_take(&b[c], cfg, t)) {
		/* Empty at t: the next token is minted one interval after the
		 * stamp (whole intervals only, as at every receiver) and spent
		 * NODE_PACE_MARGIN later. */
		tn_time room = TN_TIME_NEVER - 1 - b[c].stamp;
		t = cfg->interval < room && NODE_PACE_MARGIN < room - cfg->interval
		            ? b[c].stamp + cfg->interval + NODE_PACE_MARGIN
		            : TN_TIME_NEVER - 1;
		bool ok = pace_take(&b[c], cfg, t);
		(void)ok; /* a token was minted by t - margin */
	}
	tail[c] = t;
	return t;
}

static void hold(tn_node *n, alert_entry *a, tn_time at)
{
	/* tn_node_pace_reserve made room */
	n->held[n->nheld++] = (pace_item){tn_node_index_slot(n, a), a->gen, at};
	a->flags |= AF_HELD;
}

tn_time tn_node_pace(tn_node *n, alert_entry *a, tn_time now)
{
	tn_time t = pace_slot(n, n->pace_b, n->pace_tail, tn_alert_kind_class(a->kind), now);
	if (t <= now)
		return now;
	hold(n, a, t);
	return t;
}

/* ---- after a restart ----------------------------------------------------- */

/* Creation order (then seq); insertion sort: the store lists them nearly
 * in that order already, and protocol/ links no qsort. */
static void sort_created(alert_entry **v, size_t k)
{
	for (size_t i = 1; i < k; i++) {
		alert_entry *x = v[i];
		size_t j = i;
		while (j && (v[j - 1]->created_ms > x->created_ms ||
		             (v[j - 1]->created_ms == x->created_ms && v[j - 1]->seq > x->seq))) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

enum { R_DONE, R_REPUSH, R_FUTURE };

/* The model runs on a shifted clock: vnow = now + OFF, where OFF is the
 * longest lifetime, so every stored alert's creation time is >= 0 on it
 * even when the monotonic clock restarted at boot. */
#define RESTORE_OFF ((tn_time)TN_ALERT_LIFETIME_MS * TN_MSEC)

static tn_time on_model(uint64_t created_ms, tn_time now, uint64_t wall_ms)
{
	uint64_t age = wall_ms > created_ms ? wall_ms - created_ms : 0;
	if (age > TN_ALERT_LIFETIME_MS)
		age = TN_ALERT_LIFETIME_MS;
	return now + RESTORE_OFF - age * TN_MSEC;
}

static tn_time off_model(tn_time v)
{
	return v > RESTORE_OFF ? v - RESTORE_OFF : 0;
}

/* docs/node.md "Pacing after a restart". */
void tn_node_pace_restore(tn_node *n, tn_time now, uint64_t wall_ms)
{
	size_t k = 0;
	for (size_t i = 0; i < n->cfg.alerts_max; i++)
		k += n->alerts[i].state == AS_STORED && (n->alerts[i].flags & AF_RESTORED);
	alert_entry **v = k ? malloc(k * sizeof *v) : NULL;
	tn_time *t = k ? malloc(k * sizeof *t) : NULL;
	uint8_t *what = k ? malloc(k) : NULL;
	bool ok = !k || (v && t && what && reserve_n(n, k + 1));
	n->pace_restore = false;
	k = 0;
	for (size_t i = 0; i < n->cfg.alerts_max; i++) {
		alert_entry *a = &n->alerts[i];
		if (a->flags & AF_RESTORED) {
			a->flags &= (uint8_t)~AF_RESTORED;
			if (ok && a->state == AS_STORED)
				v[k++] = a;
		}
	}
	if (!ok) {
		/* No memory: as before this existed, the digests offer them. */
		tn_node_log(n, TN_LOG_WARN, "pace_restore_failed reason=nomem", NULL);
		free(v);
		free(t);
		free(what);
		return;
	}
	sort_created(v, k);
	tn_time vnow = now + RESTORE_OFF;
	/* 1. The schedule as it ran before: every alert pushed when paced. */
	tn_bucket b[TN_RATELIMIT_CLASSES_MAX];
	tn_time tail[TN_RATELIMIT_CLASSES_MAX] = {0};
	tn_bucket_init(&b[TN_ALERT_CLASS_URGENT], &n->cfg.limits.urgent, 0);
	tn_bucket_init(&b[TN_ALERT_CLASS_CHATTER], &n->cfg.limits.chatter, 0);
	for (size_t i = 0; i < k; i++) {
		size_t c = tn_alert_kind_class(v[i]->kind);
		t[i] = pace_slot(n, b, tail, c, on_model(v[i]->created_ms, now, wall_ms));
		if (t[i] > vnow)
			what[i] = R_FUTURE; /* held at the restart: never pushed */
		else if (v[i]->nrcv == 0 && vnow - t[i] <= n->cfg.anti_entropy)
			what[i] = R_REPUSH; /* due lately, no receipt: maybe never left */
		else
			what[i] = R_DONE; /* a receipt proves it left, or the digest has it */
	}
	/* 2. Every receiver spent a token for each alert pushed at its time, or
	 * (one that may never have left) spends one when we push it again now:
	 * the later of the two. Then the held ones after them. */
	memset(tail, 0, sizeof tail);
	tn_bucket_init(&b[TN_ALERT_CLASS_URGENT], &n->cfg.limits.urgent, 0);
	tn_bucket_init(&b[TN_ALERT_CLASS_CHATTER], &n->cfg.limits.chatter, 0);
	for (int pass = R_DONE; pass <= R_FUTURE; pass++)
		for (size_t i = 0; i < k; i++) {
			if (what[i] != pass)
				continue;
			size_t c = tn_alert_kind_class(v[i]->kind);
			tn_time req = pass == R_DONE     ? t[i]
			              : pass == R_REPUSH ? vnow
			                                 : on_model(v[i]->created_ms, now, wall_ms);
			tn_time at = pace_slot(n, b, tail, c, req);
			/* Pulled and receipted while held: nothing left to push. */
			if (pass != R_DONE && v[i]->nrcv == 0)
				hold(n, v[i], at > vnow ? off_model(at) : now);
		}
	/* 3. Our buckets from the model, refilled to now; a stamp from before
	 * our clock began counts from 0 (later: fewer tokens, never more). */
	for (size_t c = TN_ALERT_CLASS_URGENT; c <= TN_ALERT_CLASS_CHATTER; c++) {
		pace_refill(&b[c], class_cfg(n, c), vnow);
		n->pace_b[c] = (tn_bucket){b[c].tokens, off_model(b[c].stamp)};
		n->pace_tail[c] = tmax(n->pace_tail[c], off_model(tail[c]));
	}
	free(v);
	free(t);
	free(what);
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

/* A held alert due while no link is up stays held until one is: then it
 * is pushed, not offered by that link's digest (which would have the
 * neighbour pull it and forward it as a push the next hop may drop). */
static bool any_link_up(const tn_node *n)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_UP)
			return true;
	return false;
}

tn_time tn_node_pace_deadline(const tn_node *n)
{
	if (!n->nheld || !any_link_up(n))
		return TN_TIME_NEVER;
	tn_time t = TN_TIME_NEVER;
	for (size_t i = 0; i < n->nheld; i++)
		if (n->held[i].at < t)
			t = n->held[i].at;
	return t;
}

void tn_node_pace_tick(tn_node *n, tn_time now, uint64_t wall_ms)
{
	if (!any_link_up(n))
		return;
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
