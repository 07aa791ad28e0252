/* tn_node_membership_ops over a tn_roster (tocsin/node_roster.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tocsin/node_roster.h"

tn_err tn_node_roster_init(tn_node_roster *a, tn_roster *ro, uint64_t grace_ms)
{
	if (a == NULL || ro == NULL)
		return TN_ERR_INVAL;
	memset(a, 0, sizeof *a);
	a->ro = ro;
	a->grace_ms = grace_ms ? grace_ms : TN_EPOCH_GRACE_DEFAULT / TN_MSEC;
	a->seen_records = SIZE_MAX; /* build the index on first use */
	return TN_OK;
}

void tn_node_roster_free(tn_node_roster *a)
{
	if (a == NULL)
		return;
	free(a->active);
	tn_roster_epoch_wipe(&a->epoch);
	sodium_memzero(a, sizeof *a);
}

void tn_node_roster_set_time(tn_node_roster *a, uint64_t wall_ms)
{
	a->wall_ms = wall_ms;
}

/* The active-member index changes only when records are added (the fold is
 * a function of the record set), so it is rebuilt when the count moves. */
static bool refresh(tn_node_roster *a)
{
	size_t nrec = tn_roster_record_count(a->ro);
	if (nrec == a->seen_records)
		return true;
	size_t n = tn_roster_member_count(a->ro);
	if (n > a->cap) {
		uint32_t *p = realloc(a->active, n * sizeof *p);
		if (p == NULL)
			return false;
		a->active = p;
		a->cap = n;
	}
	a->nactive = 0;
	for (size_t i = 0; i < n; i++) {
		if (tn_roster_member_at(a->ro, i, &a->m) != TN_OK)
			return false;
		if (a->m.active)
			a->active[a->nactive++] = (uint32_t)i;
	}
	a->seen_records = nrec;
	return true;
}

static tn_alert_author op_role(void *ud, const tn_pubkey *identity)
{
	tn_node_roster *a = ud;
	if (tn_roster_member_by_pk(a->ro, identity, &a->m) != TN_OK)
		return TN_ALERT_AUTHOR_NONE;
	if (!a->m.active)
		return TN_ALERT_AUTHOR_REVOKED;
	return a->m.role == TN_ROLE_COORDINATOR ? TN_ALERT_AUTHOR_COORDINATOR
	                                        : TN_ALERT_AUTHOR_MEMBER;
}

static bool op_by_link(void *ud, const tn_linkpub *link_pk, tn_pubkey *identity)
{
	tn_node_roster *a = ud;
	if (tn_roster_member_by_link(a->ro, link_pk, &a->m) != TN_OK || !a->m.active)
		return false;
	*identity = a->m.pk;
	return true;
}

static uint32_t op_epoch(void *ud)
{
	tn_node_roster *a = ud;
	uint32_t e = 0;
	if (tn_roster_current_epoch(a->ro, &a->epoch) == TN_OK)
		e = a->epoch.epoch;
	tn_roster_epoch_wipe(&a->epoch);
	return e;
}

/* The preferred key set of the current or the previous epoch into
 * a->epoch; false when this node holds none. */
static bool load_epoch(tn_node_roster *a, bool previous)
{
	tn_err rc = previous
	        ? tn_roster_previous_epoch(a->ro, a->wall_ms, a->grace_ms, &a->epoch)
	        : tn_roster_current_epoch(a->ro, &a->epoch);
	if (rc != TN_OK || a->epoch.count == 0) {
		tn_roster_epoch_wipe(&a->epoch);
		return false;
	}
	return true;
}

static const tn_seckey *op_group_key(void *ud, uint32_t epoch)
{
	tn_node_roster *a = ud;
	for (int previous = 0; previous <= 1; previous++) {
		if (!load_epoch(a, previous != 0))
			continue;
		bool match = a->epoch.epoch == epoch;
		if (match)
			memcpy(a->key.b, a->epoch.keys[0].group_key, sizeof a->key.b);
		tn_roster_epoch_wipe(&a->epoch);
		if (match)
			return &a->key;
	}
	return NULL;
}

static bool op_link_psk(void *ud, bool previous, tn_noise_psk *out)
{
	tn_node_roster *a = ud;
	if (!load_epoch(a, previous))
		return false;
	memcpy(out->b, a->epoch.keys[0].link_psk, sizeof out->b);
	tn_roster_epoch_wipe(&a->epoch);
	return true;
}

static size_t op_count(void *ud)
{
	tn_node_roster *a = ud;
	return refresh(a) ? a->nactive : 0;
}

static bool op_member(void *ud, size_t i, tn_node_member *out)
{
	tn_node_roster *a = ud;
	if (!refresh(a) || i >= a->nactive)
		return false;
	if (tn_roster_member_at(a->ro, a->active[i], &a->m) != TN_OK)
		return false;
	memset(out, 0, sizeof *out);
	out->identity = a->m.pk;
	out->link_pk = a->m.link;
	out->name = a->m.name;
	tn_ssize n = tn_roster_endpoints(a->ro, &a->m.pk, a->wall_ms, out->endpoints,
	                                 TN_ENDPOINTS_MAX);
	out->nendpoints = n > 0 ? (size_t)n : 0;
	return true;
}

static void op_roster_digest(void *ud, uint8_t out[TN_HASH])
{
	tn_node_roster *a = ud;
	if (tn_roster_state_hash(a->ro, out) != TN_OK)
		memset(out, 0, TN_HASH);
}

tn_node_membership_ops tn_node_roster_ops(void)
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
