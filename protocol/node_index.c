/* The node's alert index: every unexpired alert held (pending store or
 * stored), by id and by (author, seq), plus a sorted view for digests and
 * wants. Bounded by cfg.alerts_max; memory in docs/node.md. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node_priv.h"

static uint64_t h64(const tn_node *n, const uint8_t *p, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t v = 0;
	crypto_shorthash(out, p, len, n->hashkey);
	for (size_t i = 0; i < sizeof out; i++)
		v = v << 8 | out[i];
	return v;
}

static uint64_t hash_id(const tn_node *n, const uint8_t id[TN_ALERT_ID])
{
	return h64(n, id, TN_ALERT_ID);
}

static uint64_t hash_seq(const tn_node *n, const uint8_t author[TN_PUBKEY], uint64_t seq)
{
	uint8_t k[TN_PUBKEY + 8];
	memcpy(k, author, TN_PUBKEY);
	for (int i = 0; i < 8; i++)
		k[TN_PUBKEY + i] = (uint8_t)(seq >> (8 * i));
	return h64(n, k, sizeof k);
}

static uint64_t entry_hash(const tn_node *n, const idx_table *t, const alert_entry *a)
{
	return t == &n->by_id ? hash_id(n, a->id) : hash_seq(n, a->author.b, a->seq);
}

static tn_err table_init(idx_table *t, size_t entries)
{
	size_t cap = 16;
	while (cap < entries * 2)
		cap <<= 1;
	t->t = calloc(cap, sizeof *t->t);
	if (!t->t)
		return TN_ERR_NOMEM;
	t->mask = cap - 1;
	return TN_OK;
}

static void table_put(tn_node *n, idx_table *t, uint32_t slot)
{
	size_t i = (size_t)entry_hash(n, t, &n->alerts[slot]) & t->mask;
	while (t->t[i])
		i = (i + 1) & t->mask;
	t->t[i] = slot + 1;
}

/* Backward-shift deletion: no tombstones, probe chains stay short. */
static void table_del(tn_node *n, idx_table *t, uint32_t slot)
{
	size_t i = (size_t)entry_hash(n, t, &n->alerts[slot]) & t->mask;
	while (t->t[i] && t->t[i] != slot + 1)
		i = (i + 1) & t->mask;
	if (!t->t[i])
		return;
	size_t j = i;
	for (;;) {
		t->t[i] = 0;
		for (;;) {
			j = (j + 1) & t->mask;
			if (!t->t[j])
				return;
			size_t k = (size_t)entry_hash(n, t, &n->alerts[t->t[j] - 1]) & t->mask;
			/* Move j back to i unless its home k lies cyclically in (i, j]. */
			bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
			if (!stays)
				break;
		}
		t->t[i] = t->t[j];
		i = j;
	}
}

tn_err tn_node_index_init(tn_node *n)
{
	size_t cap = n->cfg.alerts_max;
	n->alerts = calloc(cap, sizeof *n->alerts);
	n->freelist = calloc(cap, sizeof *n->freelist);
	n->sorted = calloc(cap, sizeof *n->sorted);
	if (!n->alerts || !n->freelist || !n->sorted)
		return TN_ERR_NOMEM;
	for (size_t i = 0; i < cap; i++)
		n->freelist[i] = (uint32_t)(cap - 1 - i);
	n->nfree = cap;
	n->exp_min = UINT64_MAX;
	tn_err rc = table_init(&n->by_id, cap);
	if (rc == TN_OK)
		rc = table_init(&n->by_seq, cap);
	return rc;
}

void tn_node_index_free(tn_node *n)
{
	if (n->alerts)
		for (size_t i = 0; i < n->cfg.alerts_max; i++) {
			free(n->alerts[i].env);
			free(n->alerts[i].rcv);
			free(n->alerts[i].rw_rec);
		}
	free(n->alerts);
	free(n->freelist);
	free(n->sorted);
	free(n->by_id.t);
	free(n->by_seq.t);
}

alert_entry *tn_node_index_find(const tn_node *n, const uint8_t id[TN_ALERT_ID])
{
	const idx_table *t = &n->by_id;
	size_t i = (size_t)hash_id(n, id) & t->mask;
	while (t->t[i]) {
		alert_entry *a = &n->alerts[t->t[i] - 1];
		if (memcmp(a->id, id, TN_ALERT_ID) == 0)
			return a;
		i = (i + 1) & t->mask;
	}
	return NULL;
}

alert_entry *tn_node_index_find_seq(const tn_node *n, const tn_pubkey *author, uint64_t seq)
{
	const idx_table *t = &n->by_seq;
	size_t i = (size_t)hash_seq(n, author->b, seq) & t->mask;
	while (t->t[i]) {
		alert_entry *a = &n->alerts[t->t[i] - 1];
		if (a->seq == seq && memcmp(a->author.b, author->b, TN_PUBKEY) == 0)
			return a;
		i = (i + 1) & t->mask;
	}
	return NULL;
}

tn_err tn_node_index_add(tn_node *n, const uint8_t *env, size_t len, const tn_alert_env *e,
                         const uint8_t id[TN_ALERT_ID], alert_entry **out)
{
	*out = NULL;
	if (n->nfree == 0)
		return TN_ERR_LIMIT;
	uint8_t *copy = malloc(len);
	if (!copy)
		return TN_ERR_NOMEM;
	memcpy(copy, env, len);
	uint32_t slot = n->freelist[--n->nfree];
	alert_entry *a = &n->alerts[slot];
	uint32_t gen = a->gen;
	memset(a, 0, sizeof *a);
	a->gen = gen;
	a->state = AS_PENDING;
	a->kind = e->kind;
	memcpy(a->id, id, TN_ALERT_ID);
	memcpy(a->author.b, e->author, TN_PUBKEY);
	a->seq = e->seq;
	a->created_ms = e->created_ms;
	a->expires_ms = e->expires_ms;
	a->env = copy;
	a->len = len;
	table_put(n, &n->by_id, slot);
	table_put(n, &n->by_seq, slot);
	n->nalerts++;
	n->sorted_dirty = true;
	*out = a;
	return TN_OK;
}

uint32_t tn_node_index_slot(const tn_node *n, const alert_entry *a)
{
	return (uint32_t)(a - n->alerts);
}

alert_entry *tn_node_index_ref(const tn_node *n, qref r)
{
	if (r.slot >= n->cfg.alerts_max)
		return NULL;
	alert_entry *a = &n->alerts[r.slot];
	return a->state != AS_FREE && a->gen == r.gen ? a : NULL;
}

void tn_node_index_remove(tn_node *n, alert_entry *a)
{
	uint32_t slot = tn_node_index_slot(n, a);
	table_del(n, &n->by_id, slot);
	table_del(n, &n->by_seq, slot);
	free(a->env);
	free(a->rcv);
	free(a->rw_rec);
	uint32_t gen = a->gen + 1;
	memset(a, 0, sizeof *a);
	a->gen = gen;
	n->freelist[n->nfree++] = slot;
	n->nalerts--;
	n->sorted_dirty = true;
}

static int cmp_entry(const alert_entry *x, const alert_entry *y)
{
	int c = memcmp(x->author.b, y->author.b, TN_PUBKEY);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Insertion into a mostly sorted array would be cheaper, but the view is
 * rebuilt at most once per digest or want handled: qsort of <= alerts_max
 * indices with a context-free comparator needs the base pointer, so use a
 * small merge sort instead of a global. */
static void msort(const tn_node *n, uint32_t *v, uint32_t *tmp, size_t len)
{
	if (len < 2)
		return;
	size_t h = len / 2;
	msort(n, v, tmp, h);
	msort(n, v + h, tmp, len - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < len)
		tmp[k++] = cmp_entry(&n->alerts[v[i]], &n->alerts[v[j]]) <= 0 ? v[i++] : v[j++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < len)
		tmp[k++] = v[j++];
	memcpy(v, tmp, len * sizeof *v);
}

void tn_node_index_sort(tn_node *n)
{
	if (!n->sorted_dirty)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n->cfg.alerts_max; i++)
		if (n->alerts[i].state != AS_FREE)
			n->sorted[k++] = (uint32_t)i;
	/* The free list doubles as scratch: its live part is untouched
	 * (nfree + nalerts == alerts_max, and we use only nalerts cells
	 * past nfree). */
	msort(n, n->sorted, n->freelist + n->nfree, k);
	n->nsorted = k;
	n->sorted_dirty = false;
}

size_t tn_node_index_lower(const tn_node *n, const uint8_t a[TN_PUBKEY], uint64_t s)
{
	size_t lo = 0, hi = n->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const alert_entry *e = &n->alerts[n->sorted[mid]];
		int c = memcmp(e->author.b, a, TN_PUBKEY);
		if (c < 0 || (c == 0 && e->seq < s))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void tn_node_index_set_stored(tn_node *n, alert_entry *a)
{
	a->state = AS_STORED;
	if (a->expires_ms < n->exp_min)
		n->exp_min = a->expires_ms;
}

void tn_node_index_gc(tn_node *n, uint64_t wall_ms)
{
	if (wall_ms < n->exp_min)
		return; /* nothing stored expires yet (exp_min is never too high) */
	uint64_t m = UINT64_MAX;
	for (size_t i = 0; i < n->cfg.alerts_max; i++) {
		alert_entry *a = &n->alerts[i];
		if (a->state != AS_STORED)
			continue;
		/* A pending entry waits for its tn_node_stored answer. */
		if (a->expires_ms <= wall_ms) {
			tn_node_index_remove(n, a);
			n->ctr[TN_NODE_C_EXPIRED]++;
		} else if (a->expires_ms < m) {
			m = a->expires_ms;
		}
	}
	n->exp_min = m;
}

uint64_t tn_node_index_next_expiry(const tn_node *n)
{
	return n->exp_min;
}

void tn_node_index_forget_link(tn_node *n, size_t slot)
{
	uint64_t keep = ~(UINT64_C(1) << slot);
	for (size_t i = 0; i < n->cfg.alerts_max; i++) {
		n->alerts[i].known &= keep;
		n->alerts[i].queued &= keep;
	}
}

/* ---- tn_alert_ops over the index and the membership -------------------- */

static tn_alert_author op_author(void *ud, const tn_pubkey *author)
{
	tn_node *n = ud;
	return n->cfg.membership.role(n->cfg.membership_ud, author);
}

static bool op_seen(void *ud, const tn_pubkey *author, uint64_t seq, uint8_t id_out[TN_ALERT_ID])
{
	alert_entry *a = tn_node_index_find_seq(ud, author, seq);
	if (!a)
		return false;
	memcpy(id_out, a->id, TN_ALERT_ID);
	return true;
}

static bool op_lookup(void *ud, const uint8_t id[TN_ALERT_ID], tn_pubkey *author, uint8_t *kind)
{
	alert_entry *a = tn_node_index_find(ud, id);
	if (!a)
		return false;
	*author = a->author;
	*kind = a->kind;
	return true;
}

static const tn_seckey *op_group_key(void *ud, uint32_t epoch)
{
	tn_node *n = ud;
	return n->cfg.membership.group_key
	               ? n->cfg.membership.group_key(n->cfg.membership_ud, epoch)
	               : NULL;
}

tn_alert_ops tn_node_alert_ops(void)
{
	return (tn_alert_ops){op_author, op_seen, op_lookup, op_group_key};
}
