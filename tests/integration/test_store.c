/* daemon/store.c over a real SQLite file: migrations, sequence numbers
 * across reopen, duplicate vs conflict, purge, disk full and busy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

typedef struct fixture {
	char dir[64];
	char path[128];
	td_log log;
	int errors; /* err lines logged */
	char last_err[512];
} fixture;

static void sink(void *ud, int level, const char *line)
{
	fixture *f = ud;
	if (level == TN_LOG_ERR) {
		f->errors++;
		snprintf(f->last_err, sizeof f->last_err, "%s", line);
	}
}

static tn_time zero_clock(void *ud)
{
	(void)ud;
	return 0;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/tn-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/tocsin.db", f->dir);
	td_log_init(&f->log, TN_LOG_DEBUG);
	td_log_set_sink(&f->log, sink, f);
	td_log_set_clock(&f->log, zero_clock, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

static td_store *open_store(fixture *f, unsigned busy_ms)
{
	td_store *s = NULL;
	td_store_opts o = {.busy_timeout_ms = busy_ms};
	assert_int_equal(td_store_open(&s, f->path, &f->log, &o), TN_OK);
	assert_non_null(s);
	return s;
}

/* Alert with id/author/seq derived from small numbers; envelope text is
 * "env-<tag>" so two envelopes for one (author, seq) can differ. */
typedef struct test_alert {
	td_alert_row row;
	char env[64];
} test_alert;

static void make_alert(test_alert *t, uint8_t id, uint8_t author, uint64_t seq, int64_t expires,
		       const char *tag)
{
	memset(t, 0, sizeof *t);
	memset(t->row.id, id, sizeof t->row.id);
	memset(t->row.author, author, sizeof t->row.author);
	t->row.seq = seq;
	t->row.kind = 1;
	t->row.created_ms = 1000;
	t->row.expires_ms = expires;
	t->row.received_ms = 2000 + id;
	snprintf(t->env, sizeof t->env, "env-%s", tag);
	t->row.envelope = (const uint8_t *)t->env;
	t->row.envelope_len = strlen(t->env);
}

static int64_t sql_count(fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static bool sql_is_ok(fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	bool ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok;
}

static void migrates_from_empty_and_reopens_idempotently(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	assert_int_equal(td_store_schema_version(s), td_store_schema_latest());
	assert_true(td_store_schema_latest() >= 1);
	td_store_close(s);
	assert_int_equal(sql_count(f, "PRAGMA user_version"), td_store_schema_latest());
	assert_int_equal(sql_count(f, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
				      " name IN ('meta', 'roster_records', 'alerts', 'conflicts',"
				      " 'receipts', 'own_seq', 'peers')"),
			 7);
	/* WAL mode is persistent in the file. */
	assert_int_equal(sql_count(f, "SELECT count(*) FROM pragma_journal_mode WHERE"
				      " journal_mode = 'wal'"),
			 1);
	/* Reopen: no migration runs again, nothing breaks. */
	s = open_store(f, 0);
	assert_int_equal(td_store_schema_version(s), td_store_schema_latest());
	td_store_close(s);
	assert_int_equal(f->errors, 0);
}

static void newer_schema_is_refused(void **state)
{
	fixture *f = *state;
	td_store_close(open_store(f, 0));
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	td_store *s = (td_store *)1;
	assert_int_equal(td_store_open(&s, f->path, &f->log, NULL), TN_ERR_SCHEMA);
	assert_null(s);
	assert_non_null(strstr(f->last_err, "newer_than_this_tocsind"));
}

static void not_a_database_is_corrupt(void **state)
{
	fixture *f = *state;
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an sqlite database, just text. ", fp);
	fclose(fp);
	td_store *s = NULL;
	assert_int_equal(td_store_open(&s, f->path, &f->log, NULL), TN_ERR_CORRUPT);
	assert_null(s);
}

static void seq_never_repeats_across_reopen(void **state)
{
	fixture *f = *state;
	uint8_t alice[TD_AUTHOR_LEN], bob[TD_AUTHOR_LEN];
	memset(alice, 0xa1, sizeof alice);
	memset(bob, 0xb0, sizeof bob);
	uint64_t seq = 0, last = 0;
	for (int round = 0; round < 3; round++) {
		td_store *s = open_store(f, 0);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(td_store_seq_reserve(s, alice, &seq), TN_OK);
			assert_int_equal(seq, last + 1);
			last = seq;
		}
		/* Closed without any "flush": each reserve was committed. */
		td_store_close(s);
	}
	assert_int_equal(last, 15);
	td_store *s = open_store(f, 0);
	assert_int_equal(td_store_seq_reserve(s, bob, &seq), TN_OK);
	assert_int_equal(seq, 1); /* per author */
	assert_int_equal(td_store_seq_reserve(s, alice, &seq), TN_OK);
	assert_int_equal(seq, 16);
	td_store_close(s);
}

static void insert_new_duplicate_conflict(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	test_alert a, a_again, a_forged, b;
	td_insert_result r = TD_CONFLICT;
	make_alert(&a, 1, 0xaa, 7, 99999, "a");
	make_alert(&a_again, 1, 0xaa, 7, 99999, "a");
	make_alert(&a_forged, 2, 0xaa, 7, 99999, "forged"); /* same author+seq */
	make_alert(&b, 3, 0xaa, 8, 99999, "b");
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	assert_int_equal(r, TD_INSERTED);
	assert_int_equal(td_store_alert_insert(s, &a_again.row, &r), TN_OK);
	assert_int_equal(r, TD_DUPLICATE);
	assert_int_equal(td_store_alert_insert(s, &a_forged.row, &r), TN_OK);
	assert_int_equal(r, TD_CONFLICT);
	/* The same conflict again does not grow the table. */
	assert_int_equal(td_store_alert_insert(s, &a_forged.row, &r), TN_OK);
	assert_int_equal(r, TD_CONFLICT);
	assert_int_equal(td_store_alert_insert(s, &b.row, &r), TN_OK);
	assert_int_equal(r, TD_INSERTED);
	td_store_close(s);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM alerts"), 2);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM conflicts WHERE envelope_a = "
				      "CAST('env-a' AS BLOB) AND envelope_b = CAST('env-forged' AS BLOB)"),
			 1);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM conflicts"), 1);
}

static void insert_rejects_bad_arguments(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	test_alert a;
	td_insert_result r;
	make_alert(&a, 1, 1, 1, 1, "x");
	a.row.seq = (uint64_t)INT64_MAX + 1;
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_ERR_INVAL);
	make_alert(&a, 1, 1, 1, 1, "x");
	a.row.envelope_len = 0;
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_ERR_INVAL);
	td_store_close(s);
}

typedef struct listed {
	size_t n;
	uint8_t first_ids[8];
	bool notified[8];
	char env[8][32];
} listed;

static void collect(void *ud, const td_alert_row *row)
{
	listed *l = ud;
	if (l->n < 8) {
		l->first_ids[l->n] = row->id[0];
		l->notified[l->n] = row->notified;
		snprintf(l->env[l->n], sizeof l->env[0], "%.*s", (int)row->envelope_len,
			 (const char *)row->envelope);
	}
	l->n++;
}

static void list_and_mark_notified(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	td_insert_result r;
	for (uint8_t i = 1; i <= 4; i++) {
		test_alert a;
		char tag[8];
		snprintf(tag, sizeof tag, "%u", i);
		make_alert(&a, i, i, 1, 99999, tag); /* received_ms = 2000 + i */
		assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	}
	uint8_t id[TN_ALERT_ID];
	memset(id, 3, sizeof id);
	assert_int_equal(td_store_alert_mark_notified(s, id), TN_OK);
	memset(id, 9, sizeof id);
	assert_int_equal(td_store_alert_mark_notified(s, id), TN_ERR_NOTFOUND);
	listed l = {0};
	assert_int_equal(td_store_alert_list(s, 2002, 10, collect, &l), 3);
	assert_int_equal(l.first_ids[0], 2);
	assert_int_equal(l.first_ids[2], 4);
	assert_false(l.notified[0]);
	assert_true(l.notified[1]);
	assert_string_equal(l.env[1], "env-3");
	memset(&l, 0, sizeof l);
	assert_int_equal(td_store_alert_list(s, 0, 2, collect, &l), 2); /* max honoured */
	td_store_close(s);
}

static void note_expiry(void *ud, int64_t expires_ms)
{
	int64_t *seen = ud;
	seen[0]++;
	seen[1] = expires_ms;
}

/* What the purge timer (daemon/expiry.c) relies on: the earliest expiry,
 * and one call per newly stored alert (not for a duplicate). */
static void next_expiry_and_insert_hook(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	int64_t next = -1, seen[2] = {0, 0};
	assert_int_equal(td_store_next_expiry(s, &next), TN_ERR_NOTFOUND);
	td_store_on_alert_insert(s, note_expiry, seen);
	td_insert_result r;
	test_alert a, b;
	make_alert(&a, 1, 1, 1, 7000, "a");
	make_alert(&b, 2, 2, 1, 5000, "b");
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 7000);
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	assert_int_equal(r, TD_DUPLICATE);
	assert_int_equal(seen[0], 1);
	assert_int_equal(td_store_alert_insert(s, &b.row, &r), TN_OK);
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 5000);
	assert_int_equal(td_store_next_expiry(s, &next), TN_OK);
	assert_int_equal(next, 5000);
	assert_int_equal(td_store_purge_expired(s, 5000), 1);
	assert_int_equal(td_store_next_expiry(s, &next), TN_OK);
	assert_int_equal(next, 7000);
	td_store_on_alert_insert(s, NULL, NULL);
	assert_int_equal(td_store_purge_expired(s, 7000), 1);
	assert_int_equal(td_store_next_expiry(s, &next), TN_ERR_NOTFOUND);
	td_store_close(s);
}

static void purge_deletes_expired_and_their_receipts(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	td_insert_result r;
	test_alert old, edge, live;
	make_alert(&old, 1, 1, 1, 500, "old");
	make_alert(&edge, 2, 2, 1, 1000, "edge");
	make_alert(&live, 3, 3, 1, 1001, "live");
	assert_int_equal(td_store_alert_insert(s, &old.row, &r), TN_OK);
	assert_int_equal(td_store_alert_insert(s, &edge.row, &r), TN_OK);
	assert_int_equal(td_store_alert_insert(s, &live.row, &r), TN_OK);
	td_store_close(s);
	/* Receipts for the old and the live alert (no API yet: raw SQL). */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO receipts VALUES(zeroblob(32), x'01', x'00');"
				      "UPDATE receipts SET alert_id = (SELECT id FROM alerts WHERE"
				      " expires_ms = 500);"
				      "INSERT INTO receipts SELECT id, x'02', x'00' FROM alerts WHERE"
				      " expires_ms = 1001;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	s = open_store(f, 0);
	/* Expiry is inclusive: expires_ms <= now. */
	assert_int_equal(td_store_purge_expired(s, 999), 1);
	assert_int_equal(td_store_purge_expired(s, 1000), 1);
	assert_int_equal(td_store_purge_expired(s, 1000), 0);
	td_store_close(s);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM alerts"), 1);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM receipts"), 1);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM receipts WHERE receiver = x'02'"), 1);
}

static void disk_full_fails_cleanly_and_keeps_committed_rows(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	td_insert_result r;
	/* Fill the db up to a few pages past its current size. */
	assert_int_equal(td_store_limit_pages(s, 40), TN_OK);
	uint8_t env[3000];
	memset(env, 0x5a, sizeof env);
	int committed = 0;
	tn_err rc = TN_OK;
	for (int i = 0; i < 1000 && rc == TN_OK; i++) {
		test_alert a;
		make_alert(&a, 0, 0, (uint64_t)i + 1, 99999, "big");
		memset(a.row.id, 0, sizeof a.row.id);
		memcpy(a.row.id, &i, sizeof i);
		a.row.envelope = env;
		a.row.envelope_len = sizeof env;
		rc = td_store_alert_insert(s, &a.row, &r);
		if (rc == TN_OK)
			committed++;
	}
	assert_int_equal(rc, TN_ERR_FULL);
	assert_true(committed > 0);
	assert_non_null(strstr(f->last_err, "store_error op=alert_insert code=full"));
	/* Other writes fail the same way, nothing crashes, and the store is
	 * still usable for reads. */
	uint8_t author[TD_AUTHOR_LEN];
	memset(author, 0x77, sizeof author);
	uint64_t seq;
	tn_err seq_rc = td_store_seq_reserve(s, author, &seq);
	assert_true(seq_rc == TN_OK || seq_rc == TN_ERR_FULL);
	listed l = {0};
	assert_int_equal(td_store_alert_list(s, 0, 100000, collect, &l), committed);
	td_store_close(s);
	/* After reopening (no page limit), every committed row is there. */
	assert_int_equal(sql_count(f, "SELECT count(*) FROM alerts"), committed);
	assert_true(sql_is_ok(f, "PRAGMA integrity_check"));
	s = open_store(f, 0);
	test_alert more;
	make_alert(&more, 0xee, 0xee, 1, 99999, "after");
	assert_int_equal(td_store_alert_insert(s, &more.row, &r), TN_OK);
	td_store_close(s);
}

static void busy_write_lock_is_an_error_not_a_crash(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 50);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO meta VALUES('k', 'v');",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	uint8_t author[TD_AUTHOR_LEN];
	memset(author, 1, sizeof author);
	uint64_t seq = 0;
	assert_int_equal(td_store_seq_reserve(s, author, &seq), TN_ERR_BUSY);
	assert_int_equal(seq, 0);
	assert_non_null(strstr(f->last_err, "op=seq_reserve code=busy"));
	test_alert a;
	td_insert_result r;
	make_alert(&a, 1, 1, 1, 99999, "a");
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_ERR_BUSY);
	/* WAL: reading is not blocked by the writer. */
	listed l = {0};
	assert_int_equal(td_store_alert_list(s, 0, 10, collect, &l), 0);
	/* Released: the same calls now work, and nothing was half done. */
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(td_store_seq_reserve(s, author, &seq), TN_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	assert_int_equal(r, TD_INSERTED);
	td_store_close(s);
}

static void peers_upsert(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	td_peer_row p;
	memset(&p, 0, sizeof p);
	memset(p.link_pk, 0x42, sizeof p.link_pk);
	p.endpoint = "tcp:10.0.0.1:7450";
	p.last_seen_ms = 5;
	assert_int_equal(td_store_peer_upsert(s, &p), TN_OK);
	p.endpoint = "tcp:10.0.0.2:7450";
	p.failures = 3;
	assert_int_equal(td_store_peer_upsert(s, &p), TN_OK);
	p.endpoint = "";
	assert_int_equal(td_store_peer_upsert(s, &p), TN_ERR_INVAL);
	td_store_close(s);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM peers"), 1);
	assert_int_equal(sql_count(f, "SELECT failures FROM peers WHERE endpoint ="
				      " 'tcp:10.0.0.2:7450'"),
			 3);
}

static void db_file_is_private(void **state)
{
	fixture *f = *state;
	mode_t old = umask(077); /* what tocsind's main() sets */
	td_store_close(open_store(f, 0));
	umask(old);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
}

static void collect_receipted(void *ud, const td_alert_row *row)
{
	int *n = ud;
	*n += row->receipted ? 1 : 0;
}

typedef struct rx_seen {
	int n;
	uint8_t first_id, first_rx;
} rx_seen;

static void collect_receipt(void *ud, const uint8_t id[TN_ALERT_ID], const uint8_t rx[TD_AUTHOR_LEN])
{
	rx_seen *r = ud;
	if (r->n++ == 0) {
		r->first_id = id[0];
		r->first_rx = rx[0];
	}
}

typedef struct rec_seen {
	int n;
	char bytes[4][16];
} rec_seen;

static void collect_record(void *ud, const uint8_t *b, size_t len)
{
	rec_seen *r = ud;
	if (r->n < 4)
		snprintf(r->bytes[r->n], sizeof r->bytes[0], "%.*s", (int)len, (const char *)b);
	r->n++;
}

/* Migration 2 (alerts.receipted), receipts and roster records survive a
 * reopen, in insertion order, repeats kept once. */
static void receipts_receipted_and_roster_records(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	assert_int_equal(td_store_schema_version(s), td_store_schema_latest());
	td_insert_result r;
	test_alert a;
	make_alert(&a, 7, 1, 1, 99999, "x");
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	assert_int_equal(td_store_alert_mark_receipted(s, a.row.id), TN_OK);
	uint8_t other[TN_ALERT_ID];
	memset(other, 9, sizeof other);
	assert_int_equal(td_store_alert_mark_receipted(s, other), TN_ERR_NOTFOUND);
	uint8_t rx[TD_AUTHOR_LEN];
	memset(rx, 5, sizeof rx);
	assert_int_equal(td_store_receipt_insert(s, a.row.id, rx), TN_OK);
	assert_int_equal(td_store_receipt_insert(s, a.row.id, rx), TN_OK); /* repeat: once */
	const char *recs[] = {"genesis", "add", "endpoint"};
	for (int i = 0; i < 3; i++) {
		uint8_t id[TN_HASH];
		memset(id, i + 1, sizeof id);
		assert_int_equal(td_store_roster_insert(s, id, (const uint8_t *)recs[i],
		                                        strlen(recs[i]), 1000),
		                 TN_OK);
		if (i == 1) /* a repeat keeps the first position */
			assert_int_equal(td_store_roster_insert(s, id, (const uint8_t *)recs[i],
			                                        strlen(recs[i]), 1000),
			                 TN_OK);
	}
	uint8_t id0[TN_HASH] = {0};
	assert_int_equal(td_store_roster_insert(s, id0, NULL, 0, 0), TN_ERR_INVAL);
	td_store_close(s);

	s = open_store(f, 0);
	int receipted = 0;
	assert_int_equal(td_store_alert_list(s, 0, 10, collect_receipted, &receipted), 1);
	assert_int_equal(receipted, 1);
	rx_seen rs = {0, 0, 0};
	assert_int_equal(td_store_receipt_list(s, collect_receipt, &rs), 1);
	assert_int_equal(rs.first_id, 7);
	assert_int_equal(rs.first_rx, 5);
	rec_seen rr;
	memset(&rr, 0, sizeof rr);
	assert_int_equal(td_store_roster_list(s, collect_record, &rr), 3);
	assert_string_equal(rr.bytes[0], "genesis");
	assert_string_equal(rr.bytes[1], "add");
	assert_string_equal(rr.bytes[2], "endpoint");
	td_store_close(s);
}

/* A schema-1 database (as shipped before migration 2) is brought to 2 with
 * its alerts kept and receipted = 0. */
static void migration_2_from_schema_1(void **state)
{
	fixture *f = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(db,
	                     "CREATE TABLE alerts(id BLOB PRIMARY KEY, author BLOB NOT NULL,"
	                     " seq INTEGER NOT NULL, kind INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
	                     " expires_ms INTEGER NOT NULL, envelope BLOB NOT NULL,"
	                     " received_at INTEGER NOT NULL, notified INTEGER NOT NULL DEFAULT 0,"
	                     " UNIQUE(author, seq));"
	                     "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB);"
	                     "CREATE TABLE roster_records(id BLOB PRIMARY KEY, bytes BLOB NOT NULL,"
	                     " accepted_at INTEGER NOT NULL);"
	                     "CREATE TABLE conflicts(author BLOB NOT NULL, seq INTEGER NOT NULL,"
	                     " envelope_a BLOB NOT NULL, envelope_b BLOB NOT NULL, UNIQUE(author, seq));"
	                     "CREATE TABLE receipts(alert_id BLOB NOT NULL, receiver BLOB NOT NULL,"
	                     " bytes BLOB NOT NULL, UNIQUE(alert_id, receiver));"
	                     "CREATE TABLE own_seq(author BLOB PRIMARY KEY, next_seq INTEGER NOT NULL);"
	                     "CREATE TABLE peers(link_pk BLOB PRIMARY KEY, endpoint TEXT NOT NULL,"
	                     " last_seen INTEGER, failures INTEGER NOT NULL DEFAULT 0);"
	                     "INSERT INTO alerts VALUES(zeroblob(32), zeroblob(32), 1, 0, 1, 99999,"
	                     " x'01', 5, 1);"
	                     "PRAGMA application_id = 1413698353; PRAGMA user_version = 1;",
	                     NULL, NULL, NULL),
	        SQLITE_OK);
	sqlite3_close(db);
	td_store *s = open_store(f, 0);
	assert_int_equal(td_store_schema_version(s), td_store_schema_latest());
	int receipted = 0;
	assert_int_equal(td_store_alert_list(s, 0, 10, collect_receipted, &receipted), 1);
	assert_int_equal(receipted, 0);
	td_store_close(s);
}

typedef struct seen_ctx {
	int n;
	int64_t ms[4];
	uint8_t first[4];
} seen_ctx;

static void collect_seen(void *ud, const uint8_t member[TD_AUTHOR_LEN], int64_t ms)
{
	seen_ctx *c = ud;
	if (c->n < 4) {
		c->first[c->n] = member[0];
		c->ms[c->n] = ms;
	}
	c->n++;
}

/* Migration 3 (member_seen): last seen only moves forward and survives a
 * reopen; one row per member. */
static void member_seen_keeps_the_maximum(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	assert_true(td_store_schema_version(s) >= 3);
	uint8_t a[TD_AUTHOR_LEN], b[TD_AUTHOR_LEN];
	memset(a, 1, sizeof a);
	memset(b, 2, sizeof b);
	assert_int_equal(td_store_seen_put(s, a, 5000), TN_OK);
	assert_int_equal(td_store_seen_put(s, a, 4000), TN_OK); /* older: ignored */
	assert_int_equal(td_store_seen_put(s, b, 7000), TN_OK);
	assert_int_equal(td_store_seen_put(s, b, 9000), TN_OK);
	td_store_close(s);
	s = open_store(f, 0);
	seen_ctx c;
	memset(&c, 0, sizeof c);
	assert_int_equal(td_store_seen_list(s, collect_seen, &c), 2);
	assert_int_equal(c.n, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(c.ms[i], c.first[i] == 1 ? 5000 : 9000);
	assert_int_not_equal(c.first[0], c.first[1]);
	td_store_close(s);
}

/* ---- which writes fsync: a VFS that counts xSync ---------------------------- */

/* A shim over the default VFS: every method forwards to the real one, xSync
 * is counted. Registered as the default while a test runs, so the store
 * (which opens with the default VFS) goes through it. */
typedef struct sync_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
} sync_file;

static sqlite3_vfs sync_vfs, *sync_real;
static sqlite3_io_methods sync_io;
static int sync_count;

#define REAL(f) (((sync_file *)(f))->real)
static int sf_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods->xClose(REAL(f));
	return rc;
}
static int sf_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int sf_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int sf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int sf_sync(sqlite3_file *f, int flags)
{
	sync_count++;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int sf_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int sf_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int sf_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int sf_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int sf_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int sf_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int sf_chars(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int sf_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}
static int sf_shm_lock(sqlite3_file *f, int o, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), o, n, flags);
}
static void sf_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int sf_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int sv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	(void)vfs;
	sync_file *sf = (sync_file *)f;
	sf->real = (sqlite3_file *)(sf + 1);
	int rc = sync_real->xOpen(sync_real, name, sf->real, flags, out);
	/* Version 2 methods: shared memory for the WAL index, no mmap fetch. */
	sf->base.pMethods = sf->real->pMethods ? &sync_io : NULL;
	return rc;
}

static void sync_vfs_install(void)
{
	sync_real = sqlite3_vfs_find(NULL);
	assert_non_null(sync_real);
	sync_vfs = *sync_real;
	sync_vfs.zName = "tn-count-sync";
	sync_vfs.szOsFile = (int)sizeof(sync_file) + sync_real->szOsFile;
	sync_vfs.xOpen = sv_open;
	sync_vfs.pNext = NULL;
	sync_io = (sqlite3_io_methods){
		.iVersion = 2,
		.xClose = sf_close,
		.xRead = sf_read,
		.xWrite = sf_write,
		.xTruncate = sf_truncate,
		.xSync = sf_sync,
		.xFileSize = sf_size,
		.xLock = sf_lock,
		.xUnlock = sf_unlock,
		.xCheckReservedLock = sf_check,
		.xFileControl = sf_fcntl,
		.xSectorSize = sf_sector,
		.xDeviceCharacteristics = sf_chars,
		.xShmMap = sf_shm_map,
		.xShmLock = sf_shm_lock,
		.xShmBarrier = sf_shm_barrier,
		.xShmUnmap = sf_shm_unmap,
	};
	assert_int_equal(sqlite3_vfs_register(&sync_vfs, 1), SQLITE_OK);
	sync_count = 0;
}

static void sync_vfs_remove(void)
{
	assert_int_equal(sqlite3_vfs_unregister(&sync_vfs), SQLITE_OK);
	assert_int_equal(sqlite3_vfs_register(sync_real, 1), SQLITE_OK);
}

/* Which writes fsync (store.c, the pragmas): an alert's insert does, at
 * commit; the bookkeeping marks do not, and the next alert makes them
 * durable with its own sync. synchronous is FULL again after each. */
static void alerts_fsync_bookkeeping_does_not(void **state)
{
	fixture *f = *state;
	sync_vfs_install();
	td_store *s = open_store(f, 0);
	uint8_t rx[TD_AUTHOR_LEN];
	memset(rx, 5, sizeof rx);
	td_peer_row peer;
	memset(&peer, 0, sizeof peer);
	memset(peer.link_pk, 3, sizeof peer.link_pk);
	peer.endpoint = "tcp:127.0.0.1:9";
	int marks = 0; /* syncs during the marks of alerts 2..10 */
	for (uint8_t k = 1; k <= 10; k++) {
		td_insert_result r;
		test_alert a;
		make_alert(&a, k, 1, k, 99999, "a");
		int before = sync_count;
		assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
		assert_int_equal(r, TD_INSERTED);
		assert_true(sync_count > before); /* the alert is on disk at return */
		before = sync_count;
		assert_int_equal(td_store_alert_mark_notified(s, a.row.id), TN_OK);
		assert_int_equal(td_store_alert_mark_receipted(s, a.row.id), TN_OK);
		assert_int_equal(td_store_receipt_insert(s, a.row.id, rx), TN_OK);
		assert_int_equal(td_store_seen_put(s, rx, 1234 + k), TN_OK);
		peer.last_seen_ms = k;
		assert_int_equal(td_store_peer_upsert(s, &peer), TN_OK);
		/* The connection's first write into a restarted WAL syncs the
		 * new WAL header (SQLite does so in any sync mode): once. */
		if (k == 1)
			assert_true(sync_count - before <= 1);
		else
			marks += sync_count - before;
	}
	td_store_close(s);
	sync_vfs_remove();
	assert_int_equal(marks, 0); /* none of the 45 later marks synced */
	/* And they are there after a reopen (the last alert's sync carried the
	 * marks before it; close checkpoints the rest). */
	assert_int_equal(sql_count(f, "SELECT count(*) FROM alerts WHERE notified = 1 AND receipted = 1"), 10);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM receipts"), 10);
	assert_int_equal(sql_count(f, "SELECT max(last_seen) FROM member_seen"), 1244);
}

typedef struct conflict_ctx {
	int n;
	td_conflict_row last;
	char env_a[32], env_b[32];
	uint64_t seqs[8];
} conflict_ctx;

static void collect_conflict(void *ud, const td_conflict_row *r)
{
	conflict_ctx *c = ud;
	if (c->n < 8)
		c->seqs[c->n] = r->seq;
	c->n++;
	c->last = *r;
	snprintf(c->env_a, sizeof c->env_a, "%.*s", (int)r->len_a, (const char *)r->envelope_a);
	snprintf(c->env_b, sizeof c->env_b, "%.*s", (int)r->len_b, (const char *)r->envelope_b);
	c->last.envelope_a = c->last.envelope_b = NULL; /* valid only in the callback */
}

/* Like collect_conflict, but keeps the first row. */
static void collect_first(void *ud, const td_conflict_row *r)
{
	conflict_ctx *c = ud;
	if (c->n++ == 0) {
		c->last = *r;
		c->last.envelope_a = c->last.envelope_b = NULL; /* valid only in the callback */
	}
}

static tn_ssize conflict_add(td_store *s, const uint8_t *author, uint64_t seq,
                             const test_alert *t, int64_t seen_ms)
{
	return td_store_conflict_add(s, author, seq, t->row.id, t->row.envelope,
	                             t->row.envelope_len, seen_ms);
}

/* Migration 4 (conflicts.seen_at): a schema-3 database with a conflict kept
 * before it is brought to the latest schema with that pair listed, its time
 * unknown (0); a pair kept now carries its time. td_store_conflict_add keeps
 * the stored version and the newcomer, once per (author, seq), and nothing
 * for an (author, seq) with no stored alert or for the stored envelope
 * itself; the list gives the newest `max`, oldest first. */
static void migration_4_conflicts_seen_at(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	assert_int_equal(td_store_schema_version(s), td_store_schema_latest());
	td_store_close(s);
	/* Back to schema 3: drop the columns (SQLite >= 3.35) and the version. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "ALTER TABLE conflicts DROP COLUMN id_b;"
	                              "ALTER TABLE conflicts DROP COLUMN id_a;"
	                              "ALTER TABLE conflicts DROP COLUMN seen_at;"
	                              "INSERT INTO conflicts VALUES(zeroblob(32), 3,"
	                              " CAST('env-old-a' AS BLOB), CAST('env-old-b' AS BLOB));"
	                              "PRAGMA user_version = 3;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	s = open_store(f, 0);
	assert_int_equal(td_store_schema_version(s), td_store_schema_latest());
	assert_true(td_store_schema_latest() >= 4);
	conflict_ctx c;
	memset(&c, 0, sizeof c);
	assert_int_equal(td_store_conflict_list(s, 64, collect_conflict, &c), 1);
	assert_int_equal(c.last.seq, 3);
	assert_int_equal(c.last.seen_ms, 0); /* kept before migration 4: unknown */
	assert_false(c.last.has_ids);         /* before migration 5: from the envelopes */
	assert_string_equal(c.env_a, "env-old-a");
	assert_string_equal(c.env_b, "env-old-b");

	test_alert a, other, third;
	td_insert_result r;
	make_alert(&a, 1, 0xaa, 7, 99999, "a");
	make_alert(&other, 2, 0xaa, 7, 99999, "other");
	make_alert(&third, 3, 0xaa, 7, 99999, "third");
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	uint8_t author[TD_AUTHOR_LEN], nobody[TD_AUTHOR_LEN];
	memset(author, 0xaa, sizeof author);
	memset(nobody, 0xbb, sizeof nobody);
	/* No alert stored under (nobody, 7), or (author, 8); the stored envelope itself. */
	assert_int_equal(conflict_add(s, nobody, 7, &other, 5000), 0);
	assert_int_equal(conflict_add(s, author, 8, &other, 5000), 0);
	assert_int_equal(conflict_add(s, author, 7, &a, 5000), 0);
	assert_int_equal(conflict_add(s, author, 7, &other, 5000), 1);
	/* One pair per (author, seq): the first is kept. */
	assert_int_equal(conflict_add(s, author, 7, &third, 6000), 0);
	assert_int_equal(td_store_conflict_add(s, author, 7, a.row.id, NULL, 0, 6000), TN_ERR_INVAL);
	assert_int_equal(td_store_conflict_count(s), 2);
	td_store_close(s);

	s = open_store(f, 0); /* kept across a reopen */
	memset(&c, 0, sizeof c);
	assert_int_equal(td_store_conflict_list(s, 64, collect_conflict, &c), 2);
	assert_int_equal(c.seqs[0], 3); /* oldest first */
	assert_int_equal(c.last.seq, 7);
	assert_int_equal(c.last.seen_ms, 5000);
	assert_memory_equal(c.last.author, author, sizeof author);
	assert_string_equal(c.env_a, "env-a");
	assert_string_equal(c.env_b, "env-other");
	assert_true(c.last.has_ids);
	assert_memory_equal(c.last.id_a, a.row.id, TN_ALERT_ID);
	assert_memory_equal(c.last.id_b, other.row.id, TN_ALERT_ID);
	/* The store's own path (an insert that hits a taken (author, seq))
	 * records its time too; max keeps the newest. */
	test_alert b, b_forged;
	make_alert(&b, 4, 0xaa, 9, 99999, "b");
	make_alert(&b_forged, 5, 0xaa, 9, 99999, "b-forged");
	assert_int_equal(td_store_alert_insert(s, &b.row, &r), TN_OK);
	assert_int_equal(td_store_alert_insert(s, &b_forged.row, &r), TN_OK);
	assert_int_equal(r, TD_CONFLICT);
	memset(&c, 0, sizeof c);
	assert_int_equal(td_store_conflict_list(s, 2, collect_conflict, &c), 2);
	assert_int_equal(c.seqs[0], 7);
	assert_int_equal(c.seqs[1], 9);
	assert_int_equal(c.last.seen_ms, b_forged.row.received_ms);
	assert_string_equal(c.env_b, "env-b-forged");
	assert_true(c.last.has_ids);
	assert_memory_equal(c.last.id_a, b.row.id, TN_ALERT_ID);
	assert_memory_equal(c.last.id_b, b_forged.row.id, TN_ALERT_ID);
	td_store_close(s);
	assert_int_equal(f->errors, 0);
}

/* One pair per (author, seq) does not bound the table (a stolen key
 * equivocates on every seq it publishes): at most TD_CONFLICTS_PER_AUTHOR
 * per author and TD_CONFLICTS_MAX in all are kept, by either path (the
 * node's conflict_add, the store's own insert). */
static void conflicts_capped_per_author_and_in_all(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	td_insert_result r;
	/* One author, twice her cap of seqs, half through each path. */
	for (uint64_t q = 1; q <= 2 * TD_CONFLICTS_PER_AUTHOR; q++) {
		test_alert x, y;
		make_alert(&x, (uint8_t)q, 0x77, q, 99999, "x");
		make_alert(&y, (uint8_t)(100 + q), 0x77, q, 99999, "y");
		assert_int_equal(td_store_alert_insert(s, &x.row, &r), TN_OK);
		assert_int_equal(r, TD_INSERTED);
		if (q % 2) {
			tn_ssize kept = conflict_add(s, x.row.author, q, &y, 1000);
			assert_int_equal(kept, q <= TD_CONFLICTS_PER_AUTHOR ? 1 : 0);
		} else {
			assert_int_equal(td_store_alert_insert(s, &y.row, &r), TN_OK);
			assert_int_equal(r, TD_CONFLICT); /* still refused, just not kept */
		}
	}
	assert_int_equal(td_store_conflict_count(s), TD_CONFLICTS_PER_AUTHOR);
	/* Many authors, one pair each, past the total. */
	int authors = TD_CONFLICTS_MAX + 8;
	for (int k = 0; k < authors; k++) {
		test_alert x, y;
		make_alert(&x, 1, 0x10, 1, 99999, "x");
		make_alert(&y, 2, 0x10, 1, 99999, "y");
		x.row.author[1] = y.row.author[1] = (uint8_t)k;
		x.row.author[2] = y.row.author[2] = (uint8_t)(k >> 8);
		x.row.id[1] = y.row.id[1] = (uint8_t)k; /* ids unique */
		x.row.id[2] = y.row.id[2] = (uint8_t)(k >> 8);
		x.row.id[3] = y.row.id[3] = 0xee;
		assert_int_equal(td_store_alert_insert(s, &x.row, &r), TN_OK);
		assert_int_equal(r, TD_INSERTED);
		assert_true(conflict_add(s, x.row.author, 1, &y, 2000) >= 0);
	}
	assert_int_equal(td_store_conflict_count(s), TD_CONFLICTS_MAX);
	td_store_close(s);
	assert_int_equal(f->errors, 0);
}

/* When the first alert of a conflict expires and is purged, the pair's
 * envelopes are wiped with it (a seized laptop keeps no alert content past
 * its expiry); author, seq, the ids and the time stay for the audit. A
 * pair whose first alert is live is left whole. */
static void purge_wipes_conflict_envelopes(void **state)
{
	fixture *f = *state;
	td_store *s = open_store(f, 0);
	test_alert a, b, c, d;
	td_insert_result r;
	make_alert(&a, 1, 0x66, 1, 5000, "a"); /* expires at 5000 */
	make_alert(&b, 2, 0x66, 1, 5000, "b");
	make_alert(&c, 3, 0x66, 2, 99999, "c"); /* live */
	make_alert(&d, 4, 0x66, 2, 99999, "d");
	assert_int_equal(td_store_alert_insert(s, &a.row, &r), TN_OK);
	assert_int_equal(td_store_alert_insert(s, &c.row, &r), TN_OK);
	assert_int_equal(conflict_add(s, a.row.author, 1, &b, 100), 1);
	assert_int_equal(conflict_add(s, c.row.author, 2, &d, 200), 1);
	assert_int_equal(td_store_purge_expired(s, 6000), 1);
	conflict_ctx cc;
	memset(&cc, 0, sizeof cc);
	assert_int_equal(td_store_conflict_list(s, 1, collect_conflict, &cc), 1);
	assert_int_equal(cc.last.seq, 2); /* the live one: whole */
	assert_string_equal(cc.env_a, "env-c");
	assert_string_equal(cc.env_b, "env-d");
	td_store_close(s);
	assert_int_equal(sql_count(f, "SELECT count(*) FROM conflicts WHERE seq = 1 AND"
	                              " length(envelope_a) = 0 AND length(envelope_b) = 0"),
	                 1);
	/* Still listed after a reopen, from its ids, with its time. */
	s = open_store(f, 0);
	conflict_ctx first;
	memset(&first, 0, sizeof first);
	assert_int_equal(td_store_conflict_list(s, 2, collect_first, &first), 2);
	assert_true(first.last.has_ids);
	assert_memory_equal(first.last.id_a, a.row.id, TN_ALERT_ID);
	assert_memory_equal(first.last.id_b, b.row.id, TN_ALERT_ID);
	assert_int_equal(first.last.seen_ms, 100);
	assert_int_equal(first.last.len_a, 0);
	assert_int_equal(first.last.len_b, 0);
	td_store_close(s);
	assert_int_equal(f->errors, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(migrates_from_empty_and_reopens_idempotently),
		T(member_seen_keeps_the_maximum),
		T(newer_schema_is_refused),
		T(not_a_database_is_corrupt),
		T(seq_never_repeats_across_reopen),
		T(insert_new_duplicate_conflict),
		T(insert_rejects_bad_arguments),
		T(list_and_mark_notified),
		T(purge_deletes_expired_and_their_receipts),
		T(next_expiry_and_insert_hook),
		T(disk_full_fails_cleanly_and_keeps_committed_rows),
		T(busy_write_lock_is_an_error_not_a_crash),
		T(peers_upsert),
		T(db_file_is_private),
		T(receipts_receipted_and_roster_records),
		T(migration_2_from_schema_1),
		T(migration_4_conflicts_seen_at),
		T(conflicts_capped_per_author_and_in_all),
		T(purge_wipes_conflict_envelopes),
		T(alerts_fsync_bookkeeping_does_not),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
