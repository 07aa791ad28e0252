/* The invite book at rest (daemon/invite_book.c): sealed in the store, read
 * back only with the same identity, an unsealed book of version 1 migrated,
 * damage ignored, and the name an invite was made for tied to the member it
 * admitted. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "invite_book.h"
#include "store.h"
#include "tocsin/node.h"
#include "tocsin/roster.h"

enum { BLOB = 64 * 1024 };

typedef struct fixture {
	char dir[64];
	char path[128];
	td_log log;
	char lines[8][256];
	int nlines;
	tn_identity *id, *other;
	uint8_t genesis[TN_ROSTER_RECORD_MAX];
	size_t glen;
	uint8_t blob[BLOB];
} fixture;

static void sink(void *ud, int level, const char *line)
{
	fixture *f = ud;
	(void)level;
	snprintf(f->lines[f->nlines % 8], sizeof f->lines[0], "%s", line);
	f->nlines++;
}

static bool logged(const fixture *f, const char *what)
{
	for (int i = 0; i < 8 && i < f->nlines; i++)
		if (strstr(f->lines[i], what))
			return true;
	return false;
}

static tn_time zero_clock(void *ud)
{
	(void)ud;
	return 0;
}

static void rnd(void *ud, uint8_t *b, size_t n)
{
	(void)ud;
	randombytes_buf(b, n);
}

static const tn_rand RAND = {rnd, NULL};

static tn_view sv(const char *s)
{
	return (tn_view){(const uint8_t *)s, strlen(s)};
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/tn-invbook-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/tocsin.db", f->dir);
	td_log_init(&f->log, TN_LOG_DEBUG);
	td_log_set_sink(&f->log, sink, f);
	td_log_set_clock(&f->log, zero_clock, NULL);
	if (tn_identity_new(&f->id, &RAND) != TN_OK || tn_identity_new(&f->other, &RAND) != TN_OK)
		return -1;
	tn_ssize n = tn_roster_make_genesis(f->id, &RAND, sv("net"), sv("ana"), 1760000000000ull,
	                                    f->genesis, sizeof f->genesis);
	if (n < 0)
		return -1;
	f->glen = (size_t)n;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	tn_identity_del(f->id);
	tn_identity_del(f->other);
	free(f);
	return 0;
}

static tn_node *node_of(fixture *f, const tn_identity *id)
{
	tn_node_config c;
	tn_node_config_default(&c);
	c.identity = id;
	c.rand = RAND;
	c.genesis = f->genesis;
	c.genesis_len = f->glen;
	tn_node *n = NULL;
	assert_int_equal(tn_node_new(&n, &c), TN_OK);
	return n;
}

static uint64_t wall_now(void)
{
	return 1760000000000ull;
}

static void make_invite(tn_node *n, tn_invite *inv)
{
	tn_view ep = sv("tcp:127.0.0.1:7443");
	assert_int_equal(
	        tn_node_invite_create(n, &ep, 1, TN_ROLE_MEMBER, 3600 * 1000, wall_now(), inv),
	        TN_OK);
}

static size_t stored(fixture *f, td_store *s)
{
	tn_ssize n = td_store_meta_get(s, "invite_book", f->blob, sizeof f->blob);
	assert_true(n > 0);
	return (size_t)n;
}

/* The store, a book on it and a node of the founder. */
static tn_node *opened(fixture *f, td_store **s, td_invbook **b)
{
	assert_int_equal(td_store_open(s, f->path, &f->log, NULL), TN_OK);
	assert_int_equal(td_invbook_new(b, *s, &f->log), TN_OK);
	return node_of(f, f->id);
}

/* Loading the stored book with id: refused, said, nothing loaded. */
static void unreadable(fixture *f, td_store *s, const tn_identity *id)
{
	f->nlines = 0;
	td_invbook *b;
	assert_int_equal(td_invbook_new(&b, s, &f->log), TN_OK);
	tn_node *n = node_of(f, f->id);
	assert_int_equal(td_invbook_load(b, n, id), TN_OK);
	assert_int_equal(tn_node_invite_book(n)->count, 0);
	assert_true(logged(f, "invite_book_unreadable"));
	td_invbook_del(b);
	tn_node_del(n);
}

/* Saved sealed (neither the secret nor the network id in clear), read back
 * with the same identity, and only with it. */
static void sealed_and_read_back(void **state)
{
	fixture *f = *state;
	td_store *s;
	td_invbook *b;
	tn_node *n = opened(f, &s, &b);
	tn_invite inv;
	make_invite(n, &inv);
	td_invbook_named(b, &inv, sv("Zoe"));
	td_invbook_save(b, n, f->id);
	size_t len = stored(f, s);
	assert_int_equal(f->blob[0], 2);
	assert_null(memmem(f->blob, len, inv.secret.b, sizeof inv.secret.b));
	assert_null(memmem(f->blob, len, inv.network_id, TN_NETWORK_ID));
	assert_null(memmem(f->blob, len, "Zoe", 3));
	/* Unchanged: not written again (same bytes, same nonce). */
	uint8_t first[64];
	memcpy(first, f->blob, sizeof first);
	td_invbook_save(b, n, f->id);
	stored(f, s);
	assert_memory_equal(first, f->blob, sizeof first);
	td_invbook_del(b);
	tn_node_del(n);

	/* Read back into a fresh node: the same secret is outstanding. */
	assert_int_equal(td_invbook_new(&b, s, &f->log), TN_OK);
	n = node_of(f, f->id);
	assert_int_equal(td_invbook_load(b, n, f->id), TN_OK);
	const tn_invite_book *bk = tn_node_invite_book(n);
	assert_int_equal(bk->count, 1);
	assert_memory_equal(bk->e[0].secret.b, inv.secret.b, sizeof inv.secret.b);
	assert_false(bk->e[0].used);
	td_invbook_save(b, n, f->id); /* loaded, unchanged: not rewritten */
	stored(f, s);
	assert_memory_equal(first, f->blob, sizeof first);
	td_invbook_del(b);
	tn_node_del(n);

	/* Another identity cannot open it: ignored, said, nothing loaded. */
	unreadable(f, s, f->other);
	/* One byte changed on disk: ignored too. */
	len = stored(f, s);
	f->blob[len - 1] ^= 1;
	assert_int_equal(td_store_meta_put(s, "invite_book", f->blob, len), TN_OK);
	unreadable(f, s, f->id);
	tn_invite_wipe(&inv);
	td_store_close(s);
}

/* An unsealed book of version 1 is replaced by a sealed one at load. Its
 * invites are kept when their secrets have today's size. */
static void migrates_unsealed_v1(void **state)
{
	fixture *f = *state;
	td_store *s;
	td_invbook *b;
	tn_node *n = opened(f, &s, &b);
	uint8_t v1[2 + 32 + TN_NETWORK_ID + 18];
	memset(v1, 0, sizeof v1);
	v1[0] = 1;
	v1[1] = 1;
	memset(v1 + 2, 0xab, 32); /* the secret */
	uint8_t h[TN_HASH];       /* the network id: BLAKE2b-256 of the genesis, first 16 */
	crypto_generichash(h, sizeof h, f->genesis, f->glen, NULL, 0);
	memcpy(v1 + 2 + 32, h, TN_NETWORK_ID);
	uint64_t exp = wall_now() + 3600 * 1000;
	for (int i = 0; i < 8; i++)
		v1[2 + 32 + TN_NETWORK_ID + i] = (uint8_t)(exp >> (8 * i));
	assert_int_equal(td_store_meta_put(s, "invite_book", v1, sizeof v1), TN_OK);
	assert_int_equal(td_invbook_load(b, n, f->id), TN_OK);
	assert_true(logged(f, "invite_book_migrated from=1 to=2"));
	assert_int_equal(tn_node_invite_book(n)->count, TN_INVITE_SECRET == 32 ? 1 : 0);
	size_t len = stored(f, s);
	assert_int_equal(f->blob[0], 2);
	uint8_t secret[16];
	memset(secret, 0xab, sizeof secret);
	assert_null(memmem(f->blob, len, secret, sizeof secret)); /* the old secret is gone */
	td_invbook_del(b);
	tn_node_del(n);
	td_store_close(s);
}

/* The name given at `tocsin invite` follows the invite to the member it
 * admitted, and survives a restart. */
static void name_tied_to_member(void **state)
{
	fixture *f = *state;
	td_store *s;
	td_invbook *b;
	tn_node *n = opened(f, &s, &b);
	tn_invite a, c;
	make_invite(n, &a);
	td_invbook_named(b, &a, sv("Zoe"));
	make_invite(n, &c);
	td_invbook_named(b, &c, sv("Yara"));
	/* Redeem Yara's, as the node does when her handshake succeeds. */
	tn_invite_book bk = *tn_node_invite_book(n);
	tn_seckey psk;
	tn_invite_join_psk(&c, &psk);
	assert_int_equal(tn_invite_book_redeem(&bk, &psk, wall_now() + 1000, NULL, NULL), TN_OK);
	tn_node_invite_book_set(n, &bk);
	tn_pubkey member = {{7}};
	assert_null(td_invbook_invited_as(b, &member));
	const char *as = td_invbook_joined(b, n, &member);
	assert_non_null(as);
	assert_string_equal(as, "Yara");
	assert_null(td_invbook_joined(b, n, &member)); /* tied once */
	td_invbook_save(b, n, f->id);
	td_invbook_del(b);
	tn_node_del(n);

	assert_int_equal(td_invbook_new(&b, s, &f->log), TN_OK);
	n = node_of(f, f->id);
	assert_int_equal(td_invbook_load(b, n, f->id), TN_OK);
	assert_string_equal(td_invbook_invited_as(b, &member), "Yara");
	tn_pubkey nobody = {{8}};
	assert_null(td_invbook_invited_as(b, &nobody));
	td_invbook_del(b);
	tn_node_del(n);
	tn_invite_wipe(&a);
	tn_invite_wipe(&c);
	sodium_memzero(&psk, sizeof psk);
	tn_invite_book_free(&bk);
	td_store_close(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(sealed_and_read_back),
	        T(migrates_unsealed_v1),
	        T(name_tied_to_member),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
