/* tn_static_membership: a fixed membership for tests and the simulator
 * (tocsin/static_membership.h). Not used by the daemon. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/static_membership.h"

static size_t h(const uint8_t k[32], size_t mask)
{
	/* Keys are public keys: uniform enough, and this is test code. */
	size_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | k[i];
	return v & mask;
}

tn_err tn_static_membership_init(tn_static_membership *s, size_t cap)
{
	if (!s)
		return TN_ERR_INVAL;
	memset(s, 0, sizeof *s);
	if (cap == 0 || cap > TN_ROSTER_MAX)
		return TN_ERR_INVAL;
	size_t tc = 16;
	while (tc < cap * 2)
		tc <<= 1;
	s->m = calloc(cap, sizeof *s->m);
	s->by_id = calloc(tc, sizeof *s->by_id);
	s->by_link = calloc(tc, sizeof *s->by_link);
	if (!s->m || !s->by_id || !s->by_link) {
		tn_static_membership_free(s);
		return TN_ERR_NOMEM;
	}
	s->cap = cap;
	s->mask = tc - 1;
	s->epoch = 1;
	return TN_OK;
}

void tn_static_membership_free(tn_static_membership *s)
{
	if (!s)
		return;
	free(s->m);
	free(s->by_id);
	free(s->by_link);
	sodium_memzero(s, sizeof *s);
}

static tn_static_member *find(const tn_static_membership *s, const uint32_t *t, const uint8_t *k,
                              bool link)
{
	for (size_t i = h(k, s->mask); t[i]; i = (i + 1) & s->mask) {
		tn_static_member *m = &s->m[t[i] - 1];
		if (memcmp(link ? m->link_pk.b : m->identity.b, k, 32) == 0)
			return m;
	}
	return NULL;
}

static void put(const tn_static_membership *s, uint32_t *t, const uint8_t *k, size_t idx)
{
	size_t i = h(k, s->mask);
	while (t[i] && t[i] != idx + 1)
		i = (i + 1) & s->mask;
	t[i] = (uint32_t)(idx + 1);
}

/* Swap members a and b, fixing both indexes. */
static void swap(tn_static_membership *s, size_t a, size_t b)
{
	if (a == b)
		return;
	tn_static_member t = s->m[a];
	s->m[a] = s->m[b];
	s->m[b] = t;
	for (size_t i = 0; i <= s->mask; i++) {
		if (s->by_id[i] == a + 1)
			s->by_id[i] = (uint32_t)(b + 1);
		else if (s->by_id[i] == b + 1)
			s->by_id[i] = (uint32_t)(a + 1);
		if (s->by_link[i] == a + 1)
			s->by_link[i] = (uint32_t)(b + 1);
		else if (s->by_link[i] == b + 1)
			s->by_link[i] = (uint32_t)(a + 1);
	}
}

static bool active_role(tn_alert_author r)
{
	return r == TN_ALERT_AUTHOR_MEMBER || r == TN_ALERT_AUTHOR_COORDINATOR;
}

tn_err tn_static_membership_add(tn_static_membership *s, const tn_pubkey *identity,
                                const tn_linkpub *link_pk, tn_alert_author role, const char *name,
                                const char *endpoint)
{
	if (!s || !identity || !link_pk || !name || role == TN_ALERT_AUTHOR_NONE)
		return TN_ERR_INVAL;
	size_t nl = strlen(name), el = endpoint ? strlen(endpoint) : 0;
	if (nl > TN_NAME_MAX || el > TN_ENDPOINT_STR_MAX)
		return TN_ERR_INVAL;
	if (find(s, s->by_id, identity->b, false) || find(s, s->by_link, link_pk->b, true))
		return TN_ERR_EXISTS;
	if (s->n == s->cap)
		return TN_ERR_LIMIT;
	size_t i = s->n++;
	tn_static_member *m = &s->m[i];
	memset(m, 0, sizeof *m);
	m->identity = *identity;
	m->link_pk = *link_pk;
	m->role = role;
	memcpy(m->name, name, nl);
	m->name_len = nl;
	if (el)
		memcpy(m->endpoint, endpoint, el);
	m->endpoint_len = el;
	put(s, s->by_id, identity->b, i);
	put(s, s->by_link, link_pk->b, i);
	if (active_role(role))
		swap(s, i, s->active++);
	return TN_OK;
}

tn_err tn_static_membership_set_role(tn_static_membership *s, const tn_pubkey *identity,
                                     tn_alert_author role)
{
	tn_static_member *m = s ? find(s, s->by_id, identity->b, false) : NULL;
	if (!m)
		return TN_ERR_NOTFOUND;
	size_t i = (size_t)(m - s->m);
	bool was = active_role(m->role), is = active_role(role);
	m->role = role;
	if (was && !is)
		swap(s, i, --s->active);
	else if (!was && is)
		swap(s, i, s->active++);
	return TN_OK;
}

static tn_alert_author op_role(void *ud, const tn_pubkey *id)
{
	const tn_static_member *m = find(ud, ((tn_static_membership *)ud)->by_id, id->b, false);
	return m ? m->role : TN_ALERT_AUTHOR_NONE;
}

static bool op_by_link(void *ud, const tn_linkpub *lpk, tn_pubkey *id)
{
	const tn_static_member *m = find(ud, ((tn_static_membership *)ud)->by_link, lpk->b, true);
	if (!m)
		return false;
	*id = m->identity;
	return true;
}

static uint32_t op_epoch(void *ud)
{
	return ((tn_static_membership *)ud)->epoch;
}

static const tn_seckey *op_group_key(void *ud, uint32_t epoch)
{
	tn_static_membership *s = ud;
	if (epoch == s->epoch)
		return &s->group_key;
	if (s->has_prev && epoch + 1 == s->epoch)
		return &s->prev_group_key;
	return NULL;
}

static bool op_link_psk(void *ud, bool previous, tn_noise_psk *out)
{
	tn_static_membership *s = ud;
	if (previous && !s->has_prev)
		return false;
	*out = previous ? s->prev_psk : s->psk;
	return true;
}

static size_t op_count(void *ud)
{
	return ((tn_static_membership *)ud)->active;
}

static bool op_member(void *ud, size_t i, tn_node_member *out)
{
	tn_static_membership *s = ud;
	if (i >= s->active)
		return false;
	const tn_static_member *m = &s->m[i];
	memset(out, 0, sizeof *out);
	out->identity = m->identity;
	out->link_pk = m->link_pk;
	out->name = (tn_view){m->name, m->name_len};
	if (m->endpoint_len) {
		out->nendpoints = 1;
		out->endpoints[0] = (tn_view){m->endpoint, m->endpoint_len};
	}
	return true;
}

static void op_roster_digest(void *ud, uint8_t out[TN_HASH])
{
	memcpy(out, ((tn_static_membership *)ud)->roster_digest, TN_HASH);
}

tn_node_membership_ops tn_static_membership_ops(void)
{
	return (tn_node_membership_ops){
	        .role = op_role,
	        .by_link = op_by_link,
	        .epoch = op_epoch,
	        .group_key = op_group_key,
	        .link_psk = op_link_psk,
	        .count = op_count,
	        .member = op_member,
	        .roster_digest = op_roster_digest,
	};
}
