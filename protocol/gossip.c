/* Gossip: link message dispatch, alert acceptance (push and pull), the
 * per-link node queues, digests and wants (DESIGN §7, docs/node.md). */
#include <stdlib.h>
#include <string.h>

#include "node_priv.h"

/* ---- per-link queues of index references -------------------------------- */

void tn_node_qring_free(qring *q)
{
	free(q->q);
	memset(q, 0, sizeof *q);
}

static bool q_push(qring *q, qref r, size_t max)
{
	if (q->n == q->cap) {
		if (q->cap >= max)
			return false;
		size_t ncap = q->cap ? q->cap * 2 : 16;
		if (ncap > max)
			ncap = max;
		qref *nq = malloc(ncap * sizeof *nq);
		if (!nq)
			return false;
		for (size_t i = 0; i < q->n; i++)
			nq[i] = q->q[(q->head + i) % q->cap];
		free(q->q);
		q->q = nq;
		q->cap = ncap;
		q->head = 0;
	}
	q->q[(q->head + q->n) % q->cap] = r;
	q->n++;
	return true;
}

static bool q_pop(qring *q, qref *r)
{
	if (!q->n)
		return false;
	*r = q->q[q->head];
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return true;
}

static bool urgent(uint8_t kind)
{
	return kind == TN_KIND_PANIC || kind == TN_KIND_SAFE;
}

/* Queue alert a on link l (once: the queued bit). */
static void enqueue(tn_node *n, node_link *l, alert_entry *a)
{
	uint64_t bit = UINT64_C(1) << tn_node_link_slot(n, l);
	if (a->queued & bit)
		return;
	qref r = {tn_node_index_slot(n, a), a->gen};
	/* Bounded by the index: an alert is at most once on a link's queues. */
	if (q_push(urgent(a->kind) ? &l->prio : &l->normal, r, n->cfg.alerts_max))
		a->queued |= bit;
}

tn_err tn_node_send_msg(tn_node *n, node_link *l, const tn_link_msg *m, bool prio, tn_time now)
{
	/* One scratch buffer per node: the link copies the bytes, and nothing
	 * below sends again before this returns. */
	tn_ssize len = tn_link_encode(m, n->scratch, TN_LINK_PLAINTEXT_MAX);
	tn_err rc = len < 0 ? (tn_err)len
	                    : tn_link_send(l->link, n->scratch, (size_t)len,
	                                   prio ? TN_LINK_SEND_PRIORITY : TN_LINK_SEND_NORMAL, now);
	if (rc == TN_ERR_LIMIT || rc == TN_ERR_CLOSED)
		tn_node_link_drain(n, l, now, n->last_wall);
	return rc;
}

static tn_err send_alert(tn_node *n, node_link *l, alert_entry *a, tn_time now)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ALERT;
	m.record = (tn_view){a->env, a->len};
	bool prio = urgent(a->kind);
	tn_err rc = tn_node_send_msg(n, l, &m, prio, now);
	if (rc == TN_OK) {
		a->known |= UINT64_C(1) << tn_node_link_slot(n, l);
		n->ctr[TN_NODE_C_ALERT_TX]++;
		if (prio)
			n->ctr[TN_NODE_C_ALERT_TX_PRIO]++;
	}
	return rc;
}

static void digest_part(tn_node *n, node_link *l, tn_time now);

/* Move queued work into the link while its own buffer is below the
 * watermark: panic/safe first, then receipts, then the rest, then digest
 * parts. */
void tn_node_pump(tn_node *n, node_link *l, tn_time now)
{
	qref r;
	uint64_t bit = UINT64_C(1) << tn_node_link_slot(n, l);
	while (l->state == NL_UP && tn_link_pending(l->link) < NODE_LINK_WATERMARK) {
		/* Roster records (a revocation must spread) right after panics. */
		if (!l->prio.n && tn_node_roster_pending(l)) {
			if (tn_node_roster_pump(n, l, now))
				continue;
		}
		qring *q = l->prio.n ? &l->prio : l->normal.n ? &l->normal : NULL;
		if (!q) {
			if (l->dg_active) {
				digest_part(n, l, now);
				continue;
			}
			break;
		}
		if (q == &l->normal && l->nr) /* receipts before normal alerts */
			tn_node_receipts_flush(n, l, now);
		if (!q_pop(q, &r))
			break;
		alert_entry *a = tn_node_index_ref(n, r);
		if (!a)
			continue;
		a->queued &= ~bit;
		if (send_alert(n, l, a, now) != TN_OK)
			break;
	}
}

/* ---- accepted alerts ------------------------------------------------------- */

/* ---- lazy push (Plumtree; docs/node.md "Lazy push") ------------------------ */

/* Does this alert's kind go lazily on lazy links under the configured mode? */
static bool lazy_kind(const tn_node *n, uint8_t kind)
{
	return n->cfg.lazy_push == TN_LAZY_ALL ||
	       (n->cfg.lazy_push == TN_LAZY_CHATTER && !urgent(kind));
}

static void ihave_flush(tn_node *n, node_link *l, tn_time now)
{
	if (!l->ih_n)
		return;
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_IHAVE;
	m.ids = (tn_view){l->ih, l->ih_n * TN_ALERT_ID};
	m.count = l->ih_n;
	bool prio = l->ih_prio;
	size_t k = l->ih_n;
	l->ih_n = 0;
	l->ih_prio = false;
	l->ih_at = TN_TIME_NEVER;
	if (tn_node_send_msg(n, l, &m, prio, now) == TN_OK)
		n->ctr[TN_NODE_C_IHAVE_TX] += k;
}

/* Announce a on lazy link l: batched, flushed after ihave_delay or when
 * full. */
static void ihave_add(tn_node *n, node_link *l, const alert_entry *a, tn_time now)
{
	if (!l->ih) {
		l->ih = malloc((size_t)TN_IHAVE_PER_MSG * TN_ALERT_ID);
		if (!l->ih)
			return; /* the digest rounds bring it */
	}
	memcpy(l->ih + l->ih_n * TN_ALERT_ID, a->id, TN_ALERT_ID);
	if (!l->ih_n++)
		l->ih_at = now + n->cfg.ihave_delay;
	l->ih_prio |= urgent(a->kind);
	if (l->ih_n == TN_IHAVE_PER_MSG || n->cfg.ihave_delay == 0)
		ihave_flush(n, l, now);
}

static void miss_del(tn_node *n, size_t i)
{
	n->miss[i] = n->miss[--n->nmiss];
}

static miss_entry *miss_find(tn_node *n, const uint8_t id[TN_ALERT_ID], size_t *at)
{
	for (size_t i = 0; i < n->nmiss; i++)
		if (memcmp(n->miss[i].id, id, TN_ALERT_ID) == 0) {
			if (at)
				*at = i;
			return &n->miss[i];
		}
	return NULL;
}

/* The alert arrived (by any path): stop waiting for it. */
static void miss_arrived(tn_node *n, const uint8_t id[TN_ALERT_ID])
{
	size_t i;
	if (n->nmiss && miss_find(n, id, &i))
		miss_del(n, i);
}

static void graft_send(tn_node *n, node_link *l, const uint8_t *ids, size_t k, tn_time now)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_GRAFT;
	m.ids = (tn_view){ids, k * TN_ALERT_ID};
	m.count = k;
	/* The tree was broken on this side: repair it through this link. */
	l->lazy = false;
	if (tn_node_send_msg(n, l, &m, true, now) == TN_OK)
		n->ctr[TN_NODE_C_GRAFT_TX] += k;
}

static void handle_ihave(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now)
{
	uint64_t bit = UINT64_C(1) << tn_node_link_slot(n, l);
	for (size_t i = 0; i < m->count; i++) {
		const uint8_t *id = m->ids.p + i * TN_ALERT_ID;
		n->ctr[TN_NODE_C_IHAVE_RX]++;
		alert_entry *a = tn_node_index_find(n, id);
		if (a) {
			a->known |= bit; /* the peer holds it: never send it there */
			continue;
		}
		miss_entry *e = miss_find(n, id, NULL);
		if (e) {
			e->from |= bit;
			continue;
		}
		if (n->nmiss == n->miss_cap) {
			size_t ncap = n->miss_cap ? n->miss_cap * 2 : 16;
			miss_entry *nm = ncap <= NODE_MISS_MAX ? realloc(n->miss, ncap * sizeof *nm)
			                                       : NULL;
			if (!nm) {
				/* Anti-entropy still brings it. */
				n->ctr[TN_NODE_C_IHAVE_DROPPED]++;
				continue;
			}
			n->miss = nm;
			n->miss_cap = ncap;
		}
		e = &n->miss[n->nmiss++];
		memcpy(e->id, id, TN_ALERT_ID);
		e->from = bit;
		e->due = now + n->cfg.graft_timeout;
	}
}

static void handle_graft(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now)
{
	l->lazy = false;
	for (size_t i = 0; i < m->count; i++) {
		n->ctr[TN_NODE_C_GRAFT_RX]++;
		alert_entry *a = tn_node_index_find(n, m->ids.p + i * TN_ALERT_ID);
		if (!a || a->state != AS_STORED)
			continue;
		enqueue(n, l, a); /* asked for: even if we sent it before */
		n->ctr[TN_NODE_C_GRAFT_SERVED]++;
	}
	tn_node_pump(n, l, now);
}

/* A pushed duplicate on an eager link: this link is redundant for the
 * tree, make it lazy on both ends. */
static void prune(tn_node *n, node_link *l, tn_time now)
{
	if (l->lazy)
		return;
	l->lazy = true;
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_PRUNE;
	if (tn_node_send_msg(n, l, &m, false, now) == TN_OK)
		n->ctr[TN_NODE_C_PRUNE_TX]++;
}

tn_time tn_node_lazy_deadline(const tn_node *n)
{
	tn_time t = TN_TIME_NEVER;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_UP && n->links[i].ih_n && n->links[i].ih_at < t)
			t = n->links[i].ih_at;
	for (size_t i = 0; i < n->nmiss; i++)
		if (n->miss[i].due < t)
			t = n->miss[i].due;
	return t;
}

void tn_node_lazy_tick(tn_node *n, tn_time now)
{
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state == NL_UP && l->ih_n && l->ih_at <= now)
			ihave_flush(n, l, now);
	}
	/* Due GRAFTs, one message per link (ids batched). */
	bool due = false;
	for (size_t i = 0; i < n->nmiss && !due; i++)
		due = n->miss[i].due <= now;
	if (!due)
		return;
	uint8_t *ids = NULL;
	for (size_t li = 0; li < TN_NODE_LINKS_MAX; li++) {
		size_t k = 0;
		node_link *to = NULL;
		for (size_t i = 0; i < n->nmiss;) {
			miss_entry *e = &n->miss[i];
			if (e->due > now || tn_node_index_find(n, e->id)) {
				if (e->due <= now)
					miss_del(n, i); /* arrived meanwhile */
				else
					i++;
				continue;
			}
			/* The first announcer still up; an announcer that went
			 * away had its bit cleared. */
			size_t s = 0;
			while (s < TN_NODE_LINKS_MAX &&
			       (!(e->from & (UINT64_C(1) << s)) || n->links[s].state != NL_UP))
				s++;
			if (s == TN_NODE_LINKS_MAX) {
				miss_del(n, i); /* nobody left to ask: anti-entropy */
				continue;
			}
			if (s != li) {
				i++;
				continue;
			}
			if (!ids && !(ids = malloc((size_t)TN_IHAVE_PER_MSG * TN_ALERT_ID)))
				return;
			to = &n->links[s];
			memcpy(ids + k++ * TN_ALERT_ID, e->id, TN_ALERT_ID);
			e->from &= ~(UINT64_C(1) << s);
			e->due = now + n->cfg.graft_timeout; /* then the next announcer */
			i++;
			if (k == TN_IHAVE_PER_MSG) {
				graft_send(n, to, ids, k, now);
				k = 0;
			}
		}
		if (k)
			graft_send(n, to, ids, k, now);
	}
	free(ids);
}

void tn_node_lazy_link_gone(tn_node *n, node_link *l)
{
	uint64_t bit = UINT64_C(1) << tn_node_link_slot(n, l);
	for (size_t i = 0; i < n->nmiss; i++)
		n->miss[i].from &= ~bit;
	free(l->ih);
	l->ih = NULL;
	l->ih_n = 0;
	l->ih_prio = false;
	l->lazy = false;
}

/* Stored (ours or a relay's): push at once to every up link but those that
 * have it (the source among them); under lazy push, only on eager links,
 * and an IHAVE on the lazy ones. */
void tn_node_gossip_stored(tn_node *n, alert_entry *a, tn_time now)
{
	bool any = false;
	bool lazy = lazy_kind(n, a->kind);
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++) {
		node_link *l = &n->links[i];
		if (l->state != NL_UP)
			continue;
		any = true;
		if (a->known & (UINT64_C(1) << i))
			continue;
		if (lazy && l->lazy)
			ihave_add(n, l, a, now);
		else
			enqueue(n, l, a);
	}
	if (!any)
		a->flags |= AF_NEVER_SENT;
}

/* Does an outstanding want on l cover (author, seq)? */
static bool wanted(const node_link *l, const uint8_t author[TN_PUBKEY], uint64_t seq)
{
	for (size_t i = 0; i < l->wn; i++) {
		const tn_want *w = &l->wants[i];
		if (seq >= w->from_seq && seq <= w->to_seq &&
		    memcmp(w->author, author, TN_PUBKEY) == 0)
			return true;
	}
	return false;
}

static void conflict(tn_node *n, const tn_alert_verdict *v, const uint8_t *in, size_t len)
{
	n->ctr[TN_NODE_C_CONFLICT]++;
	uint8_t *blob = malloc(len);
	if (!blob)
		return;
	memcpy(blob, in, len);
	ev_item it = {.type = TN_NODE_EV_CONFLICT,
	              .kind = v->env.kind,
	              .seq = v->env.seq,
	              .blob = blob,
	              .bloblen = len};
	memcpy(it.member.b, v->env.author, TN_PUBKEY);
	memcpy(it.alert_id, v->conflict_id, TN_ALERT_ID);
	memcpy(it.other_id, v->id, TN_ALERT_ID);
	if (!tn_node_ev_push(n, &it))
		free(blob);
}

/* Rate limits vs catch-up (docs/node.md): a pushed alert spends the
 * author's budget on the arrival clock; an alert we asked for (a WANT
 * answer) spends a second, independent budget on the alert's own
 * created_ms clock, so a backlog of days passes at the rate it was
 * written, while a member cannot push faster than her live budget. */
static void handle_alert(tn_node *n, node_link *l, const uint8_t *env, size_t len, tn_time now,
                         uint64_t wall_ms)
{
	n->ctr[TN_NODE_C_ALERT_RX]++;
	tn_alert_env e;
	bool pulled = len <= TN_ALERT_ENVELOPE_MAX && l->wn &&
	              tn_alert_env_decode(&e, env, len) == TN_OK && wanted(l, e.author, e.seq);
	tn_time clock = now;
	if (pulled) {
		n->ctr[TN_NODE_C_ALERT_RX_PULLED]++;
		n->ctx.limiter = n->rl_pull;
		clock = e.created_ms > UINT64_MAX / TN_MSEC ? UINT64_MAX : e.created_ms * TN_MSEC;
	}
	tn_alert_verdict v;
	tn_err rc = tn_alert_check(&n->ctx, env, len, wall_ms, clock, &v);
	n->ctx.limiter = n->rl_push;
	if (rc != TN_OK)
		return;
	uint64_t bit = UINT64_C(1) << tn_node_link_slot(n, l);
	switch (v.reason) {
	case TN_ALERT_ACCEPTED: break;
	case TN_ALERT_DUPLICATE: {
		alert_entry *a = tn_node_index_find(n, v.id);
		if (a)
			a->known |= bit;
		/* Pushed to us again on an eager link: the link is redundant
		 * (Plumtree's PRUNE). A pulled copy (our WANT) says nothing. */
		if (a && !pulled && lazy_kind(n, a->kind))
			prune(n, l, now);
		return;
	}
	case TN_ALERT_EQUIVOCATION: conflict(n, &v, env, len); return;
	default:
		/* Counted by the check; the caller's log sink rate-limits (a
		 * flood of forgeries must not flood the log). */
		tn_node_log(n, TN_LOG_DEBUG, "alert_dropped reason=",
		            tn_alert_reason_name(v.reason));
		/* Relays verify before forwarding: the peer made it. */
		if (v.reason == TN_ALERT_BAD_SIGNATURE)
			tn_node_bad_sig(n, l, now, wall_ms);
		return;
	}
	alert_entry *a;
	if ((rc = tn_node_index_add(n, env, len, &v.env, v.id, &a))) {
		n->ctr[TN_NODE_C_INDEX_FULL]++;
		return;
	}
	a->src_link = l->id;
	a->known |= bit;
	miss_arrived(n, v.id);
	ev_item it = {
	        .type = TN_NODE_EV_STORE_ALERT, .slot = tn_node_index_slot(n, a), .gen = a->gen};
	if (!tn_node_ev_push(n, &it)) {
		n->ctr[TN_NODE_C_EVENTS_DROPPED]++;
		tn_node_index_remove(n, a);
	}
}

/* ---- digests ------------------------------------------------------------------ */

/* The held (stored) seqs of the author starting at sorted position *pos,
 * as at most TN_DIGEST_RANGES_MAX ranges; *pos moves past the author.
 * Returns false when the author has nothing stored. */
static bool author_ranges(tn_node *n, size_t *pos, tn_digest_entry *de)
{
	memset(de, 0, sizeof *de);
	const alert_entry *first = &n->alerts[n->sorted[*pos]];
	memcpy(de->author, first->author.b, TN_PUBKEY);
	tn_seq_range rs[TN_DIGEST_RANGES_MAX + 1] = {{0, 0}};
	size_t nr = 0;
	for (; *pos < n->nsorted; (*pos)++) {
		const alert_entry *a = &n->alerts[n->sorted[*pos]];
		if (memcmp(a->author.b, de->author, TN_PUBKEY) != 0)
			break;
		/* A held own alert is left out until its push (docs/node.md
		 * "Pacing our own alerts"): pulled early, it would be forwarded
		 * as a push that the next hop drops over our budget. */
		if (a->state != AS_STORED || (a->flags & (AF_HELD | AF_RESTORED)))
			continue;
		if (nr && a->seq == rs[nr - 1].to + 1) {
			rs[nr - 1].to = a->seq;
			continue;
		}
		if (nr == TN_DIGEST_RANGES_MAX + 1) {
			/* Merge the two ranges with the smallest gap: claims a few
			 * seqs we lack, which costs the peer an empty want. */
			size_t best = 1;
			for (size_t i = 2; i < nr; i++)
				if (rs[i].from - rs[i - 1].to < rs[best].from - rs[best - 1].to)
					best = i;
			rs[best - 1].to = rs[best].to;
			memmove(&rs[best], &rs[best + 1], (nr - best - 1) * sizeof rs[0]);
			nr--;
			n->ctr[TN_NODE_C_DIGEST_MERGED]++;
		}
		rs[nr++] = (tn_seq_range){a->seq, a->seq};
	}
	if (nr == TN_DIGEST_RANGES_MAX + 1) {
		size_t best = 1;
		for (size_t i = 2; i < nr; i++)
			if (rs[i].from - rs[i - 1].to < rs[best].from - rs[best - 1].to)
				best = i;
		rs[best - 1].to = rs[best].to;
		memmove(&rs[best], &rs[best + 1], (nr - best - 1) * sizeof rs[0]);
		nr--;
		n->ctr[TN_NODE_C_DIGEST_MERGED]++;
	}
	memcpy(de->ranges, rs, nr * sizeof rs[0]);
	de->nranges = nr;
	return nr > 0;
}

/* Encoded size of one entry, at most. */
static size_t entry_size(const tn_digest_entry *e)
{
	return 1 + 34 + 3 + e->nranges * 18;
}

/* Authors in the digest: those with stored unexpired alerts. Expired ones
 * are gone from the index at the last GC; the node GCs before every round. */
static size_t parts_needed(tn_node *n)
{
	size_t pos = 0, bytes = 0, parts = 1;
	tn_digest_entry de;
	while (pos < n->nsorted) {
		if (!author_ranges(n, &pos, &de))
			continue;
		size_t s = entry_size(&de);
		if (bytes + s > TN_DIGEST_PART_TARGET - 100) {
			parts++;
			bytes = 0;
		}
		bytes += s;
	}
	return parts;
}

/* Encode and send the next part of l's digest round. */
static void digest_part(tn_node *n, node_link *l, tn_time now)
{
	tn_node_index_sort(n);
	size_t pos = l->dg_started ? tn_node_index_lower(n, l->dg_after, UINT64_MAX) : 0;
	/* lower(author, MAX) lands on that author's seq MAX if held; skip it. */
	while (l->dg_started && pos < n->nsorted &&
	       memcmp(n->alerts[n->sorted[pos]].author.b, l->dg_after, TN_PUBKEY) == 0)
		pos++;
	tn_digest_entry *es = malloc(TN_DIGEST_PART_TARGET / 38 * sizeof *es);
	uint8_t *buf = malloc(TN_DIGEST_MAX);
	if (!es || !buf) {
		free(es);
		free(buf);
		l->dg_active = false;
		return;
	}
	size_t cnt = 0, bytes = 100;
	while (pos < n->nsorted && cnt < TN_DIGEST_PART_TARGET / 38) {
		size_t save = pos;
		tn_digest_entry de;
		if (!author_ranges(n, &pos, &de))
			continue;
		if (bytes + entry_size(&de) > TN_DIGEST_PART_TARGET) {
			pos = save;
			break;
		}
		bytes += entry_size(&de);
		es[cnt++] = de;
	}
	bool last = pos >= n->nsorted;
	tn_digest d;
	memset(&d, 0, sizeof d);
	memcpy(d.network_id, n->cfg.network_id, TN_NETWORK_ID);
	if (n->cfg.membership.roster_digest)
		n->cfg.membership.roster_digest(n->cfg.membership_ud, d.roster_digest);
	/* part/parts are advisory (each part stands alone): if the index grew
	 * since the round began, the count is clamped, never exceeded. */
	d.parts = l->dg_parts;
	d.part = last || l->dg_part >= l->dg_parts ? (uint16_t)(l->dg_parts - 1) : l->dg_part;
	d.entries = es;
	d.count = cnt;
	tn_ssize len = tn_digest_encode(&d, buf, TN_DIGEST_MAX);
	if (len > 0) {
		tn_link_msg m;
		memset(&m, 0, sizeof m);
		m.type = TN_LINK_DIGEST;
		m.record = (tn_view){buf, (size_t)len};
		if (tn_node_send_msg(n, l, &m, false, now) == TN_OK)
			n->ctr[TN_NODE_C_DIGEST_TX]++;
	}
	if (cnt) {
		memcpy(l->dg_after, es[cnt - 1].author, TN_PUBKEY);
		l->dg_started = true;
	}
	l->dg_part++;
	if (last || len <= 0 || cnt == 0)
		l->dg_active = false;
	free(es);
	free(buf);
}

void tn_node_digest_start(tn_node *n, node_link *l, tn_time now)
{
	tn_node_index_gc(n, n->last_wall);
	tn_node_index_sort(n);
	size_t parts = parts_needed(n);
	l->dg_parts = (uint16_t)(parts > TN_DIGEST_PARTS_MAX ? TN_DIGEST_PARTS_MAX : parts);
	l->dg_part = 0;
	l->dg_started = false;
	l->dg_active = true;
	l->dg_sent_at = now;
}

void tn_node_gossip_link_up(tn_node *n, node_link *l, tn_time now)
{
	/* Alerts that never left (stored with no link up): push them now, not
	 * a round trip later. Receipts owed since a restart go out too. */
	for (size_t i = 0; i < n->cfg.alerts_max; i++) {
		alert_entry *a = &n->alerts[i];
		if (a->state != AS_STORED)
			continue;
		/* Only panic/safe: a backlog of chatter would hit the peer's
		 * arrival budget; the digest brings it on its own timeline. */
		if ((a->flags & AF_NEVER_SENT) && urgent(a->kind)) {
			a->flags &= (uint8_t)~AF_NEVER_SENT;
			enqueue(n, l, a);
		}
		if (a->flags & AF_RECEIPT_OWED) {
			a->flags &= (uint8_t)~AF_RECEIPT_OWED;
			tn_node_receipt_own(n, a, n->last_wall, now, l);
		}
		tn_node_rwant_link_up(n, l, a, now);
	}
	tn_node_digest_start(n, l, now);
	if (n->ae_at == TN_TIME_NEVER)
		n->ae_at = now + tn_node_jitter(n, n->cfg.anti_entropy, 75, 125);
}

void tn_node_anti_entropy(tn_node *n, tn_time now)
{
	node_link *up[TN_NODE_LINKS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < TN_NODE_LINKS_MAX; i++)
		if (n->links[i].state == NL_UP)
			up[k++] = &n->links[i];
	if (!k) {
		n->ae_at = TN_TIME_NEVER; /* re-armed by the next link up */
		return;
	}
	/* One random neighbour per round: any one neighbour suffices to catch
	 * up, and an idle node then costs one digest exchange per interval. */
	tn_node_digest_start(n, up[tn_node_rand_u64(n) % k], now);
	n->ae_at = now + tn_node_jitter(n, n->cfg.anti_entropy, 75, 125);
}

static void remember_want(tn_node *n, node_link *l, const tn_want *w)
{
	(void)n;
	if (!l->wants) {
		l->wants = calloc(NODE_WANTS_KEPT, sizeof *l->wants);
		if (!l->wants)
			return;
	}
	if (l->wn < NODE_WANTS_KEPT) {
		l->wants[l->wn++] = *w;
		return;
	}
	l->wants[l->whead] = *w; /* overwrite the oldest */
	l->whead = (l->whead + 1) % NODE_WANTS_KEPT;
}

typedef struct want_batch {
	tn_want w[TN_WANT_PER_MSG];
	size_t n;
} want_batch;

static void want_flush(tn_node *n, node_link *l, want_batch *b, tn_time now)
{
	if (!b->n)
		return;
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_WANT;
	m.wants = b->w;
	m.count = b->n;
	if (tn_node_send_msg(n, l, &m, false, now) == TN_OK) {
		n->ctr[TN_NODE_C_WANT_TX] += b->n;
		for (size_t i = 0; i < b->n; i++)
			remember_want(n, l, &b->w[i]);
	}
	b->n = 0;
}

static void want_add(tn_node *n, node_link *l, want_batch *b, const uint8_t author[TN_PUBKEY],
                     uint64_t from, uint64_t to, tn_time now)
{
	if (b->n == TN_WANT_PER_MSG)
		want_flush(n, l, b, now);
	tn_want *w = &b->w[b->n++];
	memcpy(w->author, author, TN_PUBKEY);
	w->from_seq = from;
	w->to_seq = to;
}

/* Want [from, to] of the author minus what we hold (any state). */
static void want_range(tn_node *n, node_link *l, want_batch *b, const uint8_t author[TN_PUBKEY],
                       tn_seq_range g, tn_time now)
{
	size_t pos = tn_node_index_lower(n, author, g.from);
	uint64_t next = g.from;
	for (; pos < n->nsorted; pos++) {
		const alert_entry *a = &n->alerts[n->sorted[pos]];
		if (memcmp(a->author.b, author, TN_PUBKEY) != 0 || a->seq > g.to)
			break;
		if (a->seq > next)
			want_add(n, l, b, author, next, a->seq - 1, now);
		if (a->seq == UINT64_MAX)
			return;
		next = a->seq + 1;
	}
	if (next <= g.to)
		want_add(n, l, b, author, next, g.to, now);
}

static void handle_digest(tn_node *n, node_link *l, const tn_view *rec, tn_time now)
{
	tn_digest d;
	if (tn_digest_decode(&d, rec->p, rec->len) != TN_OK ||
	    memcmp(d.network_id, n->cfg.network_id, TN_NETWORK_ID) != 0) {
		n->ctr[TN_NODE_C_LINK_PROTO]++;
		tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, n->last_wall);
		return;
	}
	n->ctr[TN_NODE_C_DIGEST_RX]++;
	if (d.part == 0)
		tn_node_roster_digest_seen(n, l, d.roster_digest, now);
	/* Exchange: answer a peer's round with ours unless we sent one lately. */
	if (d.part == 0 && !l->dg_active &&
	    (l->dg_sent_at == TN_TIME_NEVER || now - l->dg_sent_at > n->cfg.anti_entropy / 2))
		tn_node_digest_start(n, l, now);
	tn_node_index_sort(n);
	want_batch *b = malloc(sizeof *b);
	if (!b)
		return;
	b->n = 0;
	tn_iter it;
	tn_digest_entry e;
	tn_iter_init(&it, &d.list);
	while (tn_digest_next(&it, &e) == TN_OK) {
		tn_pubkey author;
		memcpy(author.b, e.author, TN_PUBKEY);
		tn_alert_author r = n->cfg.membership.role(n->cfg.membership_ud, &author);
		if (r != TN_ALERT_AUTHOR_MEMBER && r != TN_ALERT_AUTHOR_COORDINATOR)
			continue; /* nothing of hers would be accepted */
		for (size_t i = 0; i < e.nranges; i++)
			want_range(n, l, b, e.author, e.ranges[i], now);
	}
	want_flush(n, l, b, now);
	free(b);
}

static void handle_want(tn_node *n, node_link *l, const tn_link_msg *m, tn_time now)
{
	tn_node_index_sort(n);
	tn_iter it;
	tn_want w;
	tn_iter_init(&it, &m->list);
	while (tn_link_want_next(&it, &w) == TN_OK) {
		n->ctr[TN_NODE_C_WANT_RX]++;
		for (size_t pos = tn_node_index_lower(n, w.author, w.from_seq); pos < n->nsorted;
		     pos++) {
			alert_entry *a = &n->alerts[n->sorted[pos]];
			if (memcmp(a->author.b, w.author, TN_PUBKEY) != 0 || a->seq > w.to_seq)
				break;
			if (a->state != AS_STORED)
				continue;
			/* Asked for: send even if we sent it before (the peer may
			 * have dropped it: rate limit, failed store). */
			enqueue(n, l, a);
			n->ctr[TN_NODE_C_WANT_SERVED]++;
		}
	}
	tn_node_pump(n, l, now);
}

/* ---- dispatch -------------------------------------------------------------------- */

void tn_node_gossip_message(tn_node *n, node_link *l, const uint8_t *msg, size_t len, tn_time now,
                            uint64_t wall_ms)
{
	tn_link_msg m;
	if (tn_link_decode(&m, msg, len) != TN_OK)
		return; /* the link only delivers strict messages */
	switch (m.type) {
	case TN_LINK_ALERT: handle_alert(n, l, m.record.p, m.record.len, now, wall_ms); break;
	case TN_LINK_RECEIPTS: tn_node_receipts_message(n, l, &m, now, wall_ms); break;
	case TN_LINK_RECEIPTS_WANTED: tn_node_rwant_message(n, l, &m.record, now, wall_ms); break;
	case TN_LINK_DIGEST: handle_digest(n, l, &m.record, now); break;
	case TN_LINK_WANT: handle_want(n, l, &m, now); break;
	case TN_LINK_ROSTER: tn_node_roster_message(n, l, &m, now, wall_ms); break;
	case TN_LINK_ROSTER_HEADS: tn_node_heads_message(n, l, &m, now); break;
	case TN_LINK_DIALBACK:
	case TN_LINK_DIALBACK_RESULT: tn_node_reach_message(n, l, &m, now); break;
	case TN_LINK_JOIN:
		/* Only on a link established under an invite's join PSK. */
		n->ctr[TN_NODE_C_JOIN_WRONG_LINK]++;
		tn_node_link_kill(n, l, TN_CLOSE_PROTOCOL, now, wall_ms);
		break;
	case TN_LINK_IHAVE: handle_ihave(n, l, &m, now); break;
	case TN_LINK_GRAFT: handle_graft(n, l, &m, now); break;
	case TN_LINK_PRUNE:
		n->ctr[TN_NODE_C_PRUNE_RX]++;
		l->lazy = true;
		break;
	default: break; /* PONG, HAVE: nothing to do */
	}
}
