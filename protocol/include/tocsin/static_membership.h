/* A fixed, in-memory tn_node membership FOR TESTS AND SIMULATION ONLY
 * (docs/node.md). The real one is the roster module (docs/roster.md);
 * this one has no records, no signatures and no history: the caller
 * states who is a member, with which keys, role and endpoint, and the
 * epoch secrets. One object may back many nodes (the simulator shares one
 * roster between all its nodes).
 *
 *     tn_static_membership sm;
 *     tn_static_membership_init(&sm, 64);
 *     tn_static_membership_add(&sm, pk, linkpk, TN_ALERT_AUTHOR_MEMBER, "Leyla", "tcp:a:1");
 *     cfg.membership = tn_static_membership_ops();
 *     cfg.membership_ud = &sm;
 *
 * Lookups by identity or link key are hash probes; member(i) is O(1)
 * (active members are kept first). Not thread-safe. */
#ifndef TOCSIN_STATIC_MEMBERSHIP_H
#define TOCSIN_STATIC_MEMBERSHIP_H

#include "tocsin/node.h"

typedef struct tn_static_member {
	tn_pubkey identity;
	tn_linkpub link_pk;
	tn_alert_author role;
	uint8_t name[TN_NAME_MAX];
	size_t name_len;
	uint8_t endpoint[TN_ENDPOINT_STR_MAX];
	size_t endpoint_len; /* 0: no endpoint (cannot be dialed) */
} tn_static_member;

typedef struct tn_static_membership {
	tn_static_member *m;
	size_t n, cap;
	size_t active;             /* m[0..active) are members or coordinators */
	uint32_t *by_id, *by_link; /* open addressing: index + 1 */
	size_t mask;
	uint32_t epoch;
	tn_seckey group_key; /* of epoch */
	tn_noise_psk psk;    /* of epoch */
	bool has_prev;       /* previous epoch within its grace window */
	tn_seckey prev_group_key;
	tn_noise_psk prev_psk;
	uint8_t roster_digest[TN_HASH];
} tn_static_membership;

/* Room for cap members (1..TN_ROSTER_MAX). Epoch 1, zero keys: set
 * group_key / psk (and has_prev...) directly. Returns TN_OK, TN_ERR_INVAL,
 * TN_ERR_NOMEM. */
TN_NODISCARD tn_err tn_static_membership_init(tn_static_membership *s, size_t cap);
void tn_static_membership_free(tn_static_membership *s);

/* Add a member (role MEMBER or COORDINATOR; REVOKED adds a revoked one).
 * name and endpoint are NUL-terminated, endpoint may be NULL.
 * Returns TN_OK, TN_ERR_EXISTS (identity or link key present),
 * TN_ERR_LIMIT (full), TN_ERR_INVAL. */
TN_NODISCARD tn_err tn_static_membership_add(tn_static_membership *s, const tn_pubkey *identity,
                                             const tn_linkpub *link_pk, tn_alert_author role,
                                             const char *name, const char *endpoint);

/* Change a member's role (TN_ALERT_AUTHOR_REVOKED revokes: she leaves
 * count()/member(), role() says REVOKED). Returns TN_OK, TN_ERR_NOTFOUND. */
TN_NODISCARD tn_err tn_static_membership_set_role(tn_static_membership *s,
                                                  const tn_pubkey *identity, tn_alert_author role);

/* The ops; pass the tn_static_membership as membership_ud. */
tn_node_membership_ops tn_static_membership_ops(void);

#endif
