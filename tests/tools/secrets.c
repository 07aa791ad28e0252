/* secrets: print every secret a test home holds, in hex, one per line as
 * "LABEL HEX" (test-only, tests/tools/README.md). For
 * tests/integration/test_no_secret_in_logs.sh, which greps every log and
 * client output for them.
 *
 *   secrets home HOME   the identity (Ed25519 seed and secret key, X25519
 *                       link secret) from HOME/data/keystore (no
 *                       passphrase), the epoch keys (group key, link PSK) of
 *                       the current and previous epoch opened from the
 *                       roster in HOME/data/tocsin.db, and the invite book's
 *                       secrets with their join PSKs
 *   secrets code CODE   an invitation code's secret and join PSK
 *
 * Run it on stopped daemons' homes (it opens the store). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "identity_int.h"
#include "invite_book.h"
#include "keystore_file.h"
#include "log.h"
#include "store.h"
#include "tocsin/invite.h"
#include "tocsin/roster.h"

static void put(const char *label, const uint8_t *b, size_t n)
{
	char hex[2 * 128 + 1];
	if (n > 128)
		n = 128;
	sodium_bin2hex(hex, sizeof hex, b, n);
	printf("%s %s\n", label, hex);
	sodium_memzero(hex, sizeof hex);
}

/* The join PSK of an invite secret for network nid. */
static void put_join_psk(const char *label, const tn_invite_secret *secret, const uint8_t *nid)
{
	tn_invite inv;
	memset(&inv, 0, sizeof inv);
	inv.secret = *secret;
	memcpy(inv.network_id, nid, TN_NETWORK_ID);
	tn_seckey psk;
	tn_invite_join_psk(&inv, &psk);
	put(label, psk.b, sizeof psk.b);
	sodium_memzero(&inv, sizeof inv);
	sodium_memzero(&psk, sizeof psk);
}

static int code(const char *s)
{
	tn_invite inv;
	tn_invite_reason why;
	if (tn_invite_from_code(&inv, s, strlen(s), &why) != TN_OK) {
		fprintf(stderr, "secrets: not an invitation code (reason %d)\n", (int)why);
		return 1;
	}
	put("invite_secret", inv.secret.b, sizeof inv.secret.b);
	put_join_psk("invite_join_psk", &inv.secret, inv.network_id);
	sodium_memzero(&inv, sizeof inv);
	return 0;
}

typedef struct records {
	uint8_t *b[TN_ROSTER_RECORDS_MAX > 4096 ? 4096 : TN_ROSTER_RECORDS_MAX];
	size_t len[TN_ROSTER_RECORDS_MAX > 4096 ? 4096 : TN_ROSTER_RECORDS_MAX];
	size_t n;
} records;

static void on_record(void *ud, const uint8_t *bytes, size_t len)
{
	records *r = ud;
	if (r->n >= sizeof r->b / sizeof r->b[0])
		return;
	uint8_t *c = malloc(len ? len : 1);
	if (!c)
		return;
	memcpy(c, bytes, len);
	r->b[r->n] = c;
	r->len[r->n++] = len;
}

static void put_epoch(const char *which, const tn_roster_epoch *e)
{
	char label[64];
	for (size_t k = 0; k < e->count; k++) {
		snprintf(label, sizeof label, "%s_epoch%u_group_key_%zu", which, e->epoch, k);
		put(label, e->keys[k].group_key, sizeof e->keys[k].group_key);
		snprintf(label, sizeof label, "%s_epoch%u_link_psk_%zu", which, e->epoch, k);
		put(label, e->keys[k].link_psk, sizeof e->keys[k].link_psk);
	}
}

/* The epoch keys this identity can open from the stored roster. */
static int roster(td_store *s, const tn_identity *id)
{
	records *r = calloc(1, sizeof *r);
	if (!r)
		return 1;
	int rc = 0;
	if (td_store_roster_list(s, on_record, r) < 0) {
		fprintf(stderr, "secrets: cannot list roster records\n");
		rc = 1;
		goto out;
	}
	if (r->n == 0)
		goto out; /* not in a network */
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.self = id;
	tn_roster *ro = NULL;
	if (tn_roster_new(&ro, &cfg, r->b[0], r->len[0]) != TN_OK) {
		fprintf(stderr, "secrets: the stored genesis is refused\n");
		rc = 1;
		goto out;
	}
	for (size_t i = 1; i < r->n; i++)
		(void)tn_roster_add_record(ro, r->b[i], r->len[i]);
	tn_roster_epoch e;
	if (tn_roster_current_epoch(ro, &e) == TN_OK)
		put_epoch("current", &e);
	tn_roster_epoch_wipe(&e);
	if (tn_roster_previous_epoch(ro, 0, UINT64_MAX, &e) == TN_OK)
		put_epoch("previous", &e);
	tn_roster_epoch_wipe(&e);
	/* The book of outstanding invites, opened with this identity
	 * (daemon/invite_book.c). */
	td_log log;
	td_log_init(&log, TN_LOG_ERR);
	td_invbook *b = NULL;
	tn_invite_book *bk = malloc(sizeof *bk);
	int version;
	size_t dropped;
	if (bk && td_invbook_new(&b, s, &log) == TN_OK &&
	    td_invbook_read(b, id, bk, &version, &dropped) == TN_OK) {
		for (size_t i = 0; i < bk->count; i++) {
			put("book_invite_secret", bk->e[i].secret.b, sizeof bk->e[i].secret.b);
			put_join_psk("book_invite_join_psk", &bk->e[i].secret, bk->e[i].network_id);
		}
		tn_invite_book_free(bk);
	}
	free(bk);
	td_invbook_del(b);
	tn_roster_del(ro);
out:
	for (size_t i = 0; i < r->n; i++)
		free(r->b[i]);
	free(r);
	return rc;
}

static int home(const char *dir)
{
	char data[4096], db[4200], msg[TN_KSFILE_MSG_MAX + 4096];
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(db, sizeof db, "%s/tocsin.db", data);
	tn_identity *id = NULL;
	if (tn_keystore_file_load(data, NULL, 0, &id, msg, sizeof msg) != TN_OK) {
		fprintf(stderr, "secrets: %s\n", msg);
		return 1;
	}
	const tn_identity_secret *sec = tn_identity_secret_of(id);
	put("identity_sign_seed", sec->sign_seed.b, sizeof sec->sign_seed.b);
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_seed_keypair(pk, sk, sec->sign_seed.b);
	/* seed || public key: its second half is public, so it is searched
	 * for whole only (secret_grep.py: the _full suffix). */
	put("identity_sign_secret_key_full", sk, sizeof sk);
	sodium_memzero(sk, sizeof sk);
	put("identity_link_secret", sec->link.b, sizeof sec->link.b);
	/* The clamped scalar, as X25519 uses it. */
	uint8_t clamped[32];
	memcpy(clamped, sec->link.b, 32);
	clamped[0] &= 248;
	clamped[31] = (uint8_t)((clamped[31] & 127) | 64);
	put("identity_link_secret_clamped", clamped, sizeof clamped);
	sodium_memzero(clamped, sizeof clamped);

	td_log log;
	td_log_init(&log, TN_LOG_ERR);
	td_store *s = NULL;
	int rc = 0;
	if (td_store_open(&s, db, &log, NULL) != TN_OK) {
		fprintf(stderr, "secrets: cannot open %s\n", db);
		rc = 1;
	} else {
		rc = roster(s, id);
		td_store_close(s);
	}
	tn_identity_del(id);
	return rc;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "home") == 0)
		return home(argv[2]);
	if (argc == 3 && strcmp(argv[1], "code") == 0)
		return code(argv[2]);
	fprintf(stderr, "usage: secrets home HOME | secrets code CODE\n");
	return 2;
}
