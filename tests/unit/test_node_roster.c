/* The roster seen through the node's membership interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tocsin/identity.h"
#include "tocsin/node_roster.h"
#include "tocsin/roster.h"
#include "test_rng.h"

#define T0 UINT64_C(1760000000000) /* wall ms */

typedef struct fx {
	test_rng rng;
	tn_rand rand;
	tn_identity *founder, *bob;
	tn_roster *ro;
	tn_node_roster a;
	tn_node_membership_ops ops;
	uint8_t rec[TN_ROSTER_RECORD_MAX];
} fx;

static tn_view sv(const char *s)
{
	return (tn_view){(const uint8_t *)s, strlen(s)};
}

static void add(fx *f, tn_ssize n)
{
	assert_true(n > 0);
	assert_int_equal(tn_roster_add_record(f->ro, f->rec, (size_t)n), TN_ROSTER_ACCEPTED);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->rand = test_rng_seed(&f->rng, 0x31);
	assert_int_equal(tn_identity_new(&f->founder, &f->rand), TN_OK);
	assert_int_equal(tn_identity_new(&f->bob, &f->rand), TN_OK);
	tn_ssize n = tn_roster_make_genesis(f->founder, &f->rand, sv("net"), sv("Amal"), T0, f->rec,
	                                    sizeof f->rec);
	assert_true(n > 0);
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.self = f->founder;
	assert_int_equal(tn_roster_new(&f->ro, &cfg, f->rec, (size_t)n), TN_OK);
	add(f, tn_roster_make_add(f->ro, &f->rand, tn_identity_pubkey(f->bob),
	                          tn_identity_linkpub(f->bob), sv("Bahar"), TN_ROLE_MEMBER, T0 + 1,
	                          f->rec, sizeof f->rec));
	assert_int_equal(tn_node_roster_init(&f->a, f->ro, 0), TN_OK);
	tn_node_roster_set_time(&f->a, T0 + 2);
	f->ops = tn_node_roster_ops();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tn_node_roster_free(&f->a);
	tn_roster_del(f->ro);
	tn_identity_del(f->founder);
	tn_identity_del(f->bob);
	free(f);
	return 0;
}

static void roles_and_links(void **state)
{
	fx *f = *state;
	assert_int_equal(f->ops.role(&f->a, tn_identity_pubkey(f->founder)),
	                 TN_ALERT_AUTHOR_COORDINATOR);
	assert_int_equal(f->ops.role(&f->a, tn_identity_pubkey(f->bob)), TN_ALERT_AUTHOR_MEMBER);
	tn_pubkey stranger = {{9}};
	assert_int_equal(f->ops.role(&f->a, &stranger), TN_ALERT_AUTHOR_NONE);

	tn_pubkey who;
	assert_true(f->ops.by_link(&f->a, tn_identity_linkpub(f->bob), &who));
	assert_memory_equal(who.b, tn_identity_pubkey(f->bob)->b, sizeof who.b);
	tn_linkpub nobody = {{7}};
	assert_false(f->ops.by_link(&f->a, &nobody, &who));
}

static void epoch_secrets_match_the_roster(void **state)
{
	fx *f = *state;
	tn_roster_epoch e;
	assert_int_equal(tn_roster_current_epoch(f->ro, &e), TN_OK);
	assert_true(e.count >= 1);
	assert_int_equal(f->ops.epoch(&f->a), e.epoch);
	const tn_seckey *k = f->ops.group_key(&f->a, e.epoch);
	assert_non_null(k);
	assert_memory_equal(k->b, e.keys[0].group_key, sizeof k->b);
	tn_noise_psk psk;
	assert_true(f->ops.link_psk(&f->a, false, &psk));
	assert_memory_equal(psk.b, e.keys[0].link_psk, sizeof psk.b);
	/* No previous epoch before the first rekey. */
	assert_false(f->ops.link_psk(&f->a, true, &psk));
	assert_null(f->ops.group_key(&f->a, e.epoch + 1));
	tn_roster_epoch_wipe(&e);
}

static void members_with_endpoints_then_revocation(void **state)
{
	fx *f = *state;
	tn_view ep = sv("tcp:127.0.0.1:7450");
	add(f, tn_roster_make_endpoint(f->ro, &ep, 1, T0 + 3600000, T0 + 3, f->rec,
	                               sizeof f->rec));
	assert_int_equal(f->ops.count(&f->a), 2);
	size_t with_ep = 0;
	for (size_t i = 0; i < 2; i++) {
		tn_node_member m;
		assert_true(f->ops.member(&f->a, i, &m));
		if (m.nendpoints == 1) {
			with_ep++;
			assert_int_equal(m.endpoints[0].len, ep.len);
			assert_memory_equal(m.endpoints[0].p, ep.p, ep.len);
			assert_memory_equal(m.identity.b, tn_identity_pubkey(f->founder)->b, 32);
		}
	}
	assert_int_equal(with_ep, 1);
	/* Expired endpoints are not offered. */
	tn_node_roster_set_time(&f->a, T0 + 3600000);
	for (size_t i = 0; i < 2; i++) {
		tn_node_member m;
		assert_true(f->ops.member(&f->a, i, &m));
		assert_int_equal(m.nendpoints, 0);
	}
	tn_node_member m;
	assert_false(f->ops.member(&f->a, 2, &m));

	add(f, tn_roster_make_revoke(f->ro, tn_identity_pubkey(f->bob), sv("seized"), T0 + 4,
	                             f->rec, sizeof f->rec));
	assert_int_equal(f->ops.role(&f->a, tn_identity_pubkey(f->bob)), TN_ALERT_AUTHOR_REVOKED);
	tn_pubkey who;
	assert_false(f->ops.by_link(&f->a, tn_identity_linkpub(f->bob), &who));
	assert_int_equal(f->ops.count(&f->a), 1);
}

static void digest_follows_state(void **state)
{
	fx *f = *state;
	uint8_t d1[TN_HASH], d2[TN_HASH], h[TN_HASH];
	f->ops.roster_digest(&f->a, d1);
	assert_int_equal(tn_roster_state_hash(f->ro, h), TN_OK);
	assert_memory_equal(d1, h, sizeof h);
	add(f, tn_roster_make_revoke(f->ro, tn_identity_pubkey(f->bob), sv("x"), T0 + 5, f->rec,
	                             sizeof f->rec));
	f->ops.roster_digest(&f->a, d2);
	assert_memory_not_equal(d1, d2, sizeof d1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(roles_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(epoch_secrets_match_the_roster, setup, teardown),
		cmocka_unit_test_setup_teardown(members_with_endpoints_then_revocation, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(digest_follows_state, setup, teardown),
	};
	return cmocka_run_group_tests_name("node_roster", tests, NULL, NULL);
}
