/* tocsind store on SQLite (see store.h). */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* "TCS1": marks the file as ours, so we never migrate someone else's db. */
enum { APPLICATION_ID = 0x54435331 };

/* Pragmas, and why:
 * - journal_mode=WAL: readers (a future client query, a backup) never block
 *   the daemon's writes, and a commit is one append to the WAL.
 * - synchronous=FULL: in WAL mode NORMAL already survives kill -9 (the WAL
 *   is in the OS page cache), but not power loss or a kernel crash, and a
 *   laptop's battery dying is exactly the case we must survive: an alert
 *   acknowledged to the network or to the user must be on disk. FULL fsyncs
 *   the WAL at every commit.
 *   Bookkeeping that only saves repeating work after a power cut is written
 *   with NORMAL for that one statement (relaxed(), below): the `notified`
 *   and `receipted` marks, the author's receipts, last seen and peers. Each
 *   survives kill -9 as before; a power cut can lose the last of them, and
 *   the next FULL commit (any alert) makes them durable too. What is lost is
 *   an alert shown again after the power came back, a receipt sent again
 *   (idempotent) or asked for again (receipts-wanted notes): never an alert.
 *   It saves three of the four fsyncs per received alert (bench/README.md
 *   "CPU per alert"; docs/decisions.md).
 * - busy_timeout: another connection holding the write lock (sqlite3 CLI,
 *   backup) is waited for briefly, then TN_ERR_BUSY, never a crash. Short,
 *   because it blocks the event loop.
 * - secure_delete=ON: purged (expired) alerts are overwritten, not left in
 *   free pages, for a seized laptop (THREAT-MODEL asset 5). The WAL still
 *   holds recent pages until a checkpoint; journal_size_limit truncates it
 *   after checkpoints so it does not keep old content around at full size.
 * - temp_store=MEMORY: no temporary files with alert content.
 * - trusted_schema=OFF: the schema comes from a file on disk; do not let
 *   it run functions with side effects.
 * - cache_size=-512 (KiB): the page cache is bounded at 512 KiB instead of
 *   SQLite's 2 MiB default. The store is small (alerts expire) and every
 *   query touches a few pages, but the cache only ever grows, and the idle
 *   target is 8 MB resident for the whole daemon (bench/idle.sh). */
static const char *const pragmas[] = {
	"PRAGMA journal_mode=WAL",    "PRAGMA synchronous=FULL",
	"PRAGMA secure_delete=ON",    "PRAGMA temp_store=MEMORY",
	"PRAGMA trusted_schema=OFF",  "PRAGMA journal_size_limit=1048576",
	"PRAGMA foreign_keys=ON",     "PRAGMA cache_size=-512",
};

/* Migration i (1-based) brings user_version from i-1 to i. Append only:
 * never edit a migration that has shipped. */
static const char *const migrations[] = {
	/* 1: initial schema. conflicts keeps one pair per (author, seq): one
	 * pair is the evidence, more would let a stolen key fill the disk. */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB);"
	"CREATE TABLE roster_records(id BLOB PRIMARY KEY CHECK(length(id) = 32),"
	" bytes BLOB NOT NULL, accepted_at INTEGER NOT NULL);"
	"CREATE TABLE alerts(id BLOB PRIMARY KEY CHECK(length(id) = 32),"
	" author BLOB NOT NULL CHECK(length(author) = 32),"
	" seq INTEGER NOT NULL CHECK(seq >= 0), kind INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
	" envelope BLOB NOT NULL, received_at INTEGER NOT NULL,"
	" notified INTEGER NOT NULL DEFAULT 0, UNIQUE(author, seq));"
	"CREATE INDEX alerts_expires ON alerts(expires_ms);"
	"CREATE INDEX alerts_received ON alerts(received_at, id);"
	"CREATE TABLE conflicts(author BLOB NOT NULL, seq INTEGER NOT NULL,"
	" envelope_a BLOB NOT NULL, envelope_b BLOB NOT NULL, UNIQUE(author, seq));"
	"CREATE TABLE receipts(alert_id BLOB NOT NULL, receiver BLOB NOT NULL,"
	" bytes BLOB NOT NULL, UNIQUE(alert_id, receiver));"
	"CREATE TABLE own_seq(author BLOB PRIMARY KEY CHECK(length(author) = 32),"
	" next_seq INTEGER NOT NULL);"
	"CREATE TABLE peers(link_pk BLOB PRIMARY KEY CHECK(length(link_pk) = 32),"
	" endpoint TEXT NOT NULL, last_seen INTEGER, failures INTEGER NOT NULL DEFAULT 0);"
	"PRAGMA application_id = 1413698353;", /* APPLICATION_ID */
	/* 2: our receipt for an alert has left (RECEIPTED), so a restart does
	 * not send it again. */
	"ALTER TABLE alerts ADD COLUMN receipted INTEGER NOT NULL DEFAULT 0;",
	/* 3: when each member was last seen (a link up, or something she
	 * signed arrived), for tocsin members. */
	("CREATE TABLE member_seen(member BLOB PRIMARY KEY CHECK(length(member) = 32),"
	 " last_seen INTEGER NOT NULL);"),
	/* 4: when a conflict was seen (Unix ms), for tocsin audit. NULL for
	 * the ones kept before. */
	"ALTER TABLE conflicts ADD COLUMN seen_at INTEGER;",
	/* 5: the ids of a conflict's two alerts, which stay when its envelopes
	 * are wiped with the expired alert (td_store_purge_expired). NULL for
	 * the ones kept before (their envelopes stay). */
	("ALTER TABLE conflicts ADD COLUMN id_a BLOB;"
	 "ALTER TABLE conflicts ADD COLUMN id_b BLOB;"),
};
enum { SCHEMA_LATEST = sizeof migrations / sizeof migrations[0] };

/* Prepared once, kept for the hot paths. */
enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SEQ_INIT,
	ST_SEQ_GET,
	ST_SEQ_SET,
	ST_ALERT_BY_AUTHOR_SEQ,
	ST_ALERT_INSERT,
	ST_CONFLICT_INSERT,
	ST_CONFLICT_ADD,
	ST_CONFLICT_LIST,
	ST_CONFLICT_COUNT,
	ST_MARK_NOTIFIED,
	ST_LIST,
	ST_PURGE_RECEIPTS,
	ST_PURGE_ALERTS,
	ST_PURGE_CONFLICTS,
	ST_PEER_UPSERT,
	ST_MARK_RECEIPTED,
	ST_RECEIPT_INSERT,
	ST_RECEIPT_LIST,
	ST_ROSTER_INSERT,
	ST_ROSTER_LIST,
	ST_META_PUT,
	ST_META_GET,
	ST_SEEN_PUT,
	ST_SEEN_LIST,
	ST_SYNC_NORMAL,
	ST_SYNC_FULL,
	ST_COUNT
};

#define STR_(x) #x
#define STR(x)  STR_(x)
/* A new conflict pair is kept only under the caps of store.h (author ?1). */
#define CONFLICT_ROOM                                                                              \
	" (SELECT count(*) FROM conflicts WHERE author = ?1) < " STR(TD_CONFLICTS_PER_AUTHOR)      \
	" AND (SELECT count(*) FROM conflicts) < " STR(TD_CONFLICTS_MAX)

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SEQ_INIT] = "INSERT OR IGNORE INTO own_seq(author, next_seq) VALUES(?1, 1)",
	[ST_SEQ_GET] = "SELECT next_seq FROM own_seq WHERE author = ?1",
	[ST_SEQ_SET] = "UPDATE own_seq SET next_seq = ?2 WHERE author = ?1",
	[ST_ALERT_BY_AUTHOR_SEQ] = "SELECT id, envelope FROM alerts WHERE author = ?1 AND seq = ?2",
	[ST_ALERT_INSERT] = "INSERT INTO alerts(id, author, seq, kind, created_ms, expires_ms,"
			    " envelope, received_at, notified) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
	[ST_CONFLICT_INSERT] = "INSERT OR IGNORE INTO conflicts(author, seq, envelope_a,"
			       " envelope_b, seen_at, id_a, id_b) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7"
			       " WHERE" CONFLICT_ROOM,
	[ST_CONFLICT_ADD] = "INSERT OR IGNORE INTO conflicts(author, seq, envelope_a, envelope_b,"
			    " seen_at, id_a, id_b) SELECT author, seq, envelope, ?3, ?4, id, ?5"
			    " FROM alerts WHERE author = ?1 AND seq = ?2 AND envelope <> ?3"
			    " AND" CONFLICT_ROOM,
	[ST_CONFLICT_LIST] = "SELECT author, seq, envelope_a, envelope_b, seen_at, id_a, id_b FROM"
			     " (SELECT rowid AS r, * FROM conflicts ORDER BY rowid DESC LIMIT ?1)"
			     " ORDER BY r",
	/* The pair's content goes with its first alert (secure_delete); who,
	 * which seq, the ids and when stay for the audit. */
	[ST_PURGE_CONFLICTS] = "UPDATE conflicts SET envelope_a = x'', envelope_b = x''"
			       " WHERE length(id_a) = 32 AND length(id_b) = 32"
			       " AND length(envelope_a) + length(envelope_b) > 0"
			       " AND NOT EXISTS (SELECT 1 FROM alerts WHERE alerts.id = conflicts.id_a)",
	[ST_CONFLICT_COUNT] = "SELECT count(*) FROM conflicts",
	[ST_MARK_NOTIFIED] = "UPDATE alerts SET notified = 1 WHERE id = ?1",
	[ST_LIST] = "SELECT id, author, seq, kind, created_ms, expires_ms, received_at,"
		    " envelope, notified, receipted FROM alerts WHERE received_at >= ?1"
		    " ORDER BY received_at, id LIMIT ?2",
	[ST_PURGE_RECEIPTS] = "DELETE FROM receipts WHERE alert_id IN"
			      " (SELECT id FROM alerts WHERE expires_ms <= ?1)",
	[ST_PURGE_ALERTS] = "DELETE FROM alerts WHERE expires_ms <= ?1",
	[ST_PEER_UPSERT] = "INSERT INTO peers(link_pk, endpoint, last_seen, failures)"
			   " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(link_pk) DO UPDATE SET"
			   " endpoint = excluded.endpoint, last_seen = excluded.last_seen,"
			   " failures = excluded.failures",
	[ST_MARK_RECEIPTED] = "UPDATE alerts SET receipted = 1 WHERE id = ?1",
	[ST_RECEIPT_INSERT] = "INSERT OR IGNORE INTO receipts(alert_id, receiver, bytes)"
			      " VALUES(?1, ?2, ?3)",
	[ST_RECEIPT_LIST] = "SELECT alert_id, receiver FROM receipts ORDER BY rowid",
	[ST_ROSTER_INSERT] = "INSERT OR IGNORE INTO roster_records(id, bytes, accepted_at)"
			     " VALUES(?1, ?2, ?3)",
	[ST_ROSTER_LIST] = "SELECT bytes FROM roster_records ORDER BY rowid",
	[ST_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_SEEN_PUT] = "INSERT INTO member_seen(member, last_seen) VALUES(?1, ?2)"
			" ON CONFLICT(member) DO UPDATE SET"
			" last_seen = max(last_seen, excluded.last_seen)",
	[ST_SEEN_LIST] = "SELECT member, last_seen FROM member_seen",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
	[ST_SYNC_FULL] = "PRAGMA synchronous=FULL",
};

struct td_store {
	sqlite3 *db;
	td_log *log;
	sqlite3_stmt *st[ST_COUNT];
	int schema_version;
	/* A full disk or a flood can make every write fail: rate limit. */
	td_ratelimit err_rl;
	/* Told of each new alert's expiry (daemon/expiry.c). */
	td_expiry_fn on_insert;
	void *on_insert_ud;
};

static tn_err map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW: return TN_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return TN_ERR_BUSY;
	case SQLITE_FULL: return TN_ERR_FULL;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL: return TN_ERR_IO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return TN_ERR_CORRUPT;
	case SQLITE_NOMEM: return TN_ERR_NOMEM;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_CONSTRAINT: return TN_ERR_INVAL;
	default: return TN_ERR_INTERNAL;
	}
}

/* The one place a SQLite error becomes a tn_err and a log line. If a
 * transaction is still open (SQLite rolls back some errors by itself),
 * roll it back so the next call starts clean. */
static tn_err fail(td_store *s, int rc, const char *op)
{
	tn_err err = map_rc(rc);
	td_log_limited(s->log, &s->err_rl, TN_LOG_ERR,
		       "store_error op=%s code=%s sqlite_rc=%d sqlite=\"%s\"", op, tn_strerror(err),
		       rc, sqlite3_errmsg(s->db));
	if (!sqlite3_get_autocommit(s->db) && s->st[ST_ROLLBACK]) {
		sqlite3_step(s->st[ST_ROLLBACK]);
		sqlite3_reset(s->st[ST_ROLLBACK]);
	}
	return err;
}

/* Step a statement that returns no row (or whose rows we ignore) and
 * reset it. Returns the SQLite code: SQLITE_DONE on success. */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* run() one statement in autocommit with synchronous=NORMAL: its commit is
 * appended to the WAL without an fsync (see the pragmas above for which
 * writes may do this). FULL is restored before returning; if that fails the
 * store reports an error rather than go on without fsyncs. */
static int relaxed(td_store *s, sqlite3_stmt *st)
{
	int rc = run(s->st[ST_SYNC_NORMAL]);
	if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return rc;
	}
	rc = run(st);
	int back = run(s->st[ST_SYNC_FULL]);
	return rc != SQLITE_DONE ? rc : back;
}

static int begin(td_store *s)
{
	return run(s->st[ST_BEGIN]);
}

static tn_err commit(td_store *s, const char *op)
{
	int rc = run(s->st[ST_COMMIT]);
	return rc == SQLITE_DONE ? TN_OK : fail(s, rc, op);
}

static int exec(td_store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

static int pragma_int(td_store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static tn_err set_pragmas(td_store *s, unsigned busy_ms)
{
	int rc = sqlite3_busy_timeout(s->db, (int)busy_ms);
	for (size_t i = 0; rc == SQLITE_OK && i < sizeof pragmas / sizeof pragmas[0]; i++)
		rc = exec(s, pragmas[i]);
	if (rc != SQLITE_OK)
		return fail(s, rc, "open_pragmas");
	/* journal_mode answers with the mode it got: a filesystem without
	 * shared memory support stays in rollback mode. */
	sqlite3_stmt *st;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, "open_wal");
	rc = sqlite3_step(st);
	const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	bool wal = mode && strcmp((const char *)mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!wal) {
		td_err(s->log, "store_error op=open_wal reason=wal_unavailable");
		return TN_ERR_IO;
	}
	return TN_OK;
}

static tn_err migrate_one(td_store *s, int to)
{
	char bump[64];
	snprintf(bump, sizeof bump, "PRAGMA user_version = %d", to);
	int rc = exec(s, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = exec(s, migrations[to - 1]);
	if (rc == SQLITE_OK)
		rc = exec(s, bump);
	if (rc == SQLITE_OK)
		rc = exec(s, "COMMIT");
	if (rc != SQLITE_OK) {
		tn_err err = fail(s, rc, "migrate");
		if (!sqlite3_get_autocommit(s->db))
			exec(s, "ROLLBACK");
		return err;
	}
	td_info(s->log, "store_migrated schema_version=%d", to);
	return TN_OK;
}

static tn_err migrate(td_store *s)
{
	int version = 0, app = 0;
	int rc = pragma_int(s, "PRAGMA user_version", &version);
	if (rc == SQLITE_OK)
		rc = pragma_int(s, "PRAGMA application_id", &app);
	if (rc != SQLITE_OK)
		return fail(s, rc, "open_read_version");
	if (version > SCHEMA_LATEST || (version > 0 && app != APPLICATION_ID)) {
		td_err(s->log,
		       "store_error op=open code=schema schema_version=%d supported=%d "
		       "application_id=%d reason=%s",
		       version, SCHEMA_LATEST, app,
		       version > SCHEMA_LATEST ? "newer_than_this_tocsind" : "not_a_tocsin_db");
		return TN_ERR_SCHEMA;
	}
	for (int v = version + 1; v <= SCHEMA_LATEST; v++) {
		tn_err err = migrate_one(s, v);
		if (err != TN_OK)
			return err;
	}
	s->schema_version = SCHEMA_LATEST;
	return TN_OK;
}

static tn_err prepare_all(td_store *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->st[i], NULL);
		if (rc != SQLITE_OK)
			return fail(s, rc, "prepare");
	}
	return TN_OK;
}

tn_err td_store_open(td_store **out, const char *path, td_log *log, const td_store_opts *opts)
{
	*out = NULL;
	td_store *s = calloc(1, sizeof *s);
	if (!s)
		return TN_ERR_NOMEM;
	s->log = log;
	td_ratelimit_init(&s->err_rl, 10, 60 * TN_SEC);
	unsigned busy = (opts && opts->busy_timeout_ms) ? opts->busy_timeout_ms
							 : TD_STORE_BUSY_TIMEOUT_MS;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	tn_err err;
	if (rc != SQLITE_OK) {
		err = s->db ? fail(s, rc, "open") : TN_ERR_NOMEM;
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if ((err = set_pragmas(s, busy)) != TN_OK || (err = migrate(s)) != TN_OK ||
	    (err = prepare_all(s)) != TN_OK)
		goto out;
	td_info(log, "store_open path=%s schema_version=%d", path, s->schema_version);
	*out = s;
	return TN_OK;
out:
	td_store_close(s);
	return err;
}

void td_store_close(td_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db)
		sqlite3_close(s->db); /* all statements finalized: cannot be BUSY */
	if (s->log)
		td_log_flush_limited(s->log, &s->err_rl, TN_LOG_ERR, "store_error");
	free(s);
}

int td_store_schema_version(const td_store *s)
{
	return s->schema_version;
}

int td_store_schema_latest(void)
{
	return SCHEMA_LATEST;
}

tn_err td_store_limit_pages(td_store *s, uint32_t pages)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %" PRIu32, pages);
	int rc = exec(s, sql);
	return rc == SQLITE_OK ? TN_OK : fail(s, rc, "limit_pages");
}

/* ---- sequence numbers -------------------------------------------------- */

tn_err td_store_seq_reserve(td_store *s, const uint8_t author[TD_AUTHOR_LEN], uint64_t *seq)
{
	sqlite3_stmt *init = s->st[ST_SEQ_INIT], *get = s->st[ST_SEQ_GET], *set = s->st[ST_SEQ_SET];
	int rc = begin(s);
	if (rc != SQLITE_DONE)
		return fail(s, rc, "seq_reserve");
	sqlite3_bind_blob(init, 1, author, TD_AUTHOR_LEN, SQLITE_STATIC);
	if ((rc = run(init)) != SQLITE_DONE)
		return fail(s, rc, "seq_reserve");
	sqlite3_bind_blob(get, 1, author, TD_AUTHOR_LEN, SQLITE_STATIC);
	rc = sqlite3_step(get);
	sqlite3_int64 next = rc == SQLITE_ROW ? sqlite3_column_int64(get, 0) : -1;
	sqlite3_reset(get);
	sqlite3_clear_bindings(get);
	if (next < 1 || next == INT64_MAX) {
		fail(s, rc == SQLITE_ROW ? SQLITE_RANGE : rc, "seq_reserve");
		return next == INT64_MAX ? TN_ERR_LIMIT : TN_ERR_CORRUPT;
	}
	sqlite3_bind_blob(set, 1, author, TD_AUTHOR_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(set, 2, next + 1);
	if ((rc = run(set)) != SQLITE_DONE)
		return fail(s, rc, "seq_reserve");
	tn_err err = commit(s, "seq_reserve");
	if (err == TN_OK)
		*seq = (uint64_t)next;
	return err;
}

/* ---- alerts ------------------------------------------------------------ */

static void bind_alert(sqlite3_stmt *st, const td_alert_row *a)
{
	sqlite3_bind_blob(st, 1, a->id, TN_ALERT_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, a->author, TD_AUTHOR_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)a->seq);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)a->kind);
	sqlite3_bind_int64(st, 5, a->created_ms);
	sqlite3_bind_int64(st, 6, a->expires_ms);
	sqlite3_bind_blob(st, 7, a->envelope, (int)a->envelope_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, a->received_ms);
	sqlite3_bind_int(st, 9, a->notified ? 1 : 0);
}

/* Inside the transaction: (author, seq) is taken by another envelope.
 * Keep the first conflicting pair as evidence. */
static int record_conflict(td_store *s, const td_alert_row *a, const void *old_id,
			   int old_id_len, const void *old_env, int old_len)
{
	sqlite3_stmt *st = s->st[ST_CONFLICT_INSERT];
	sqlite3_bind_blob(st, 1, a->author, TD_AUTHOR_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)a->seq);
	sqlite3_bind_blob(st, 3, old_env, old_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, a->envelope, (int)a->envelope_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->received_ms);
	sqlite3_bind_blob(st, 6, old_id, old_id_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 7, a->id, TN_ALERT_ID, SQLITE_STATIC);
	return run(st);
}

/* Inside the transaction: is (author, seq) stored, and as which alert?
 * Returns SQLITE_DONE (not stored), or the outcome of recording it. */
static int check_existing(td_store *s, const td_alert_row *a, td_insert_result *res)
{
	sqlite3_stmt *q = s->st[ST_ALERT_BY_AUTHOR_SEQ];
	sqlite3_bind_blob(q, 1, a->author, TD_AUTHOR_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)a->seq);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *id = sqlite3_column_blob(q, 0);
		bool same = sqlite3_column_bytes(q, 0) == TN_ALERT_ID &&
			    memcmp(id, a->id, TN_ALERT_ID) == 0;
		*res = same ? TD_DUPLICATE : TD_CONFLICT;
		rc = same ? SQLITE_DONE
			  : record_conflict(s, a, id, sqlite3_column_bytes(q, 0),
					    sqlite3_column_blob(q, 1), sqlite3_column_bytes(q, 1));
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		return rc;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	*res = TD_INSERTED;
	return rc;
}

tn_err td_store_alert_insert(td_store *s, const td_alert_row *a, td_insert_result *res)
{
	if (a->seq > INT64_MAX || a->envelope_len == 0 || a->envelope_len > TN_FRAME_MAX ||
	    !a->envelope)
		return TN_ERR_INVAL;
	td_insert_result r = TD_INSERTED;
	int rc = begin(s);
	if (rc != SQLITE_DONE)
		return fail(s, rc, "alert_insert");
	if ((rc = check_existing(s, a, &r)) != SQLITE_DONE)
		return fail(s, rc, "alert_insert");
	if (r == TD_INSERTED) {
		bind_alert(s->st[ST_ALERT_INSERT], a);
		/* A constraint here means the id is stored under another
		 * (author, seq): ids are hashes of the envelope, so that is a
		 * caller bug, reported as TN_ERR_INVAL. */
		if ((rc = run(s->st[ST_ALERT_INSERT])) != SQLITE_DONE)
			return fail(s, rc, "alert_insert");
	}
	tn_err err = commit(s, "alert_insert");
	if (err == TN_OK)
		*res = r;
	if (err == TN_OK && r == TD_INSERTED && s->on_insert)
		s->on_insert(s->on_insert_ud, a->expires_ms);
	return err;
}

void td_store_on_alert_insert(td_store *s, td_expiry_fn fn, void *ud)
{
	s->on_insert = fn;
	s->on_insert_ud = ud;
}

tn_err td_store_next_expiry(td_store *s, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "SELECT MIN(expires_ms) FROM alerts", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, "next_expiry");
	rc = sqlite3_step(st);
	tn_err err = TN_ERR_NOTFOUND;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
		*out = sqlite3_column_int64(st, 0);
		err = TN_OK;
	} else if (rc != SQLITE_ROW) {
		err = fail(s, rc, "next_expiry");
	}
	sqlite3_finalize(st);
	return err;
}

tn_err td_store_alert_mark_notified(td_store *s, const uint8_t id[TN_ALERT_ID])
{
	sqlite3_stmt *st = s->st[ST_MARK_NOTIFIED];
	sqlite3_bind_blob(st, 1, id, TN_ALERT_ID, SQLITE_STATIC);
	int rc = relaxed(s, st);
	if (rc != SQLITE_DONE)
		return fail(s, rc, "mark_notified");
	return sqlite3_changes(s->db) > 0 ? TN_OK : TN_ERR_NOTFOUND;
}

static void copy_blob(uint8_t *dst, size_t len, sqlite3_stmt *st, int col)
{
	memset(dst, 0, len);
	if ((size_t)sqlite3_column_bytes(st, col) == len)
		memcpy(dst, sqlite3_column_blob(st, col), len);
}

static void read_alert(sqlite3_stmt *st, td_alert_row *r)
{
	copy_blob(r->id, TN_ALERT_ID, st, 0);
	copy_blob(r->author, TD_AUTHOR_LEN, st, 1);
	r->seq = (uint64_t)sqlite3_column_int64(st, 2);
	r->kind = (unsigned)sqlite3_column_int64(st, 3);
	r->created_ms = sqlite3_column_int64(st, 4);
	r->expires_ms = sqlite3_column_int64(st, 5);
	r->received_ms = sqlite3_column_int64(st, 6);
	r->envelope = sqlite3_column_blob(st, 7);
	r->envelope_len = (size_t)sqlite3_column_bytes(st, 7);
	r->notified = sqlite3_column_int(st, 8) != 0;
	r->receipted = sqlite3_column_int(st, 9) != 0;
}

tn_ssize td_store_alert_list(td_store *s, int64_t since_ms, size_t max, td_alert_fn fn, void *ud)
{
	sqlite3_stmt *st = s->st[ST_LIST];
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
	tn_ssize n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		td_alert_row r;
		read_alert(st, &r);
		fn(ud, &r);
		n++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? n : fail(s, rc, "alert_list");
}

tn_ssize td_store_purge_expired(td_store *s, int64_t now_ms)
{
	sqlite3_stmt *rec = s->st[ST_PURGE_RECEIPTS], *al = s->st[ST_PURGE_ALERTS];
	int rc = begin(s);
	if (rc != SQLITE_DONE)
		return fail(s, rc, "purge");
	sqlite3_bind_int64(rec, 1, now_ms);
	if ((rc = run(rec)) != SQLITE_DONE)
		return fail(s, rc, "purge");
	sqlite3_bind_int64(al, 1, now_ms);
	if ((rc = run(al)) != SQLITE_DONE)
		return fail(s, rc, "purge");
	tn_ssize n = sqlite3_changes(s->db);
	if ((rc = run(s->st[ST_PURGE_CONFLICTS])) != SQLITE_DONE)
		return fail(s, rc, "purge");
	tn_err err = commit(s, "purge");
	return err == TN_OK ? n : err;
}

/* ---- peers -------------------------------------------------------------- */

tn_err td_store_peer_upsert(td_store *s, const td_peer_row *p)
{
	size_t elen = p->endpoint ? strlen(p->endpoint) : 0;
	if (elen == 0 || elen > TN_ENDPOINT_STR_MAX)
		return TN_ERR_INVAL;
	sqlite3_stmt *st = s->st[ST_PEER_UPSERT];
	sqlite3_bind_blob(st, 1, p->link_pk, TD_LINK_PK_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->endpoint, (int)elen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->last_seen_ms);
	sqlite3_bind_int64(st, 4, p->failures);
	int rc = relaxed(s, st);
	return rc == SQLITE_DONE ? TN_OK : fail(s, rc, "peer_upsert");
}

/* ---- receipts and roster records ------------------------------------------ */

tn_err td_store_alert_mark_receipted(td_store *s, const uint8_t id[TN_ALERT_ID])
{
	sqlite3_stmt *st = s->st[ST_MARK_RECEIPTED];
	sqlite3_bind_blob(st, 1, id, TN_ALERT_ID, SQLITE_STATIC);
	int rc = relaxed(s, st);
	if (rc != SQLITE_DONE)
		return fail(s, rc, "mark_receipted");
	return sqlite3_changes(s->db) > 0 ? TN_OK : TN_ERR_NOTFOUND;
}

tn_err td_store_receipt_insert(td_store *s, const uint8_t alert_id[TN_ALERT_ID],
			       const uint8_t receiver[TD_AUTHOR_LEN])
{
	sqlite3_stmt *st = s->st[ST_RECEIPT_INSERT];
	sqlite3_bind_blob(st, 1, alert_id, TN_ALERT_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, receiver, TD_AUTHOR_LEN, SQLITE_STATIC);
	sqlite3_bind_zeroblob(st, 3, 0);
	int rc = relaxed(s, st);
	return rc == SQLITE_DONE ? TN_OK : fail(s, rc, "receipt_insert");
}

tn_ssize td_store_receipt_list(td_store *s, td_receipt_fn fn, void *ud)
{
	sqlite3_stmt *st = s->st[ST_RECEIPT_LIST];
	tn_ssize n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t id[TN_ALERT_ID], rx[TD_AUTHOR_LEN];
		copy_blob(id, sizeof id, st, 0);
		copy_blob(rx, sizeof rx, st, 1);
		fn(ud, id, rx);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : fail(s, rc, "receipt_list");
}

tn_err td_store_roster_insert(td_store *s, const uint8_t id[TN_HASH], const uint8_t *bytes,
			      size_t len, int64_t accepted_ms)
{
	if (!bytes || len == 0 || len > TN_ROSTER_RECORD_MAX)
		return TN_ERR_INVAL;
	sqlite3_stmt *st = s->st[ST_ROSTER_INSERT];
	sqlite3_bind_blob(st, 1, id, TN_HASH, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, accepted_ms);
	int rc = run(st);
	return rc == SQLITE_DONE ? TN_OK : fail(s, rc, "roster_insert");
}

tn_ssize td_store_roster_list(td_store *s, td_record_fn fn, void *ud)
{
	sqlite3_stmt *st = s->st[ST_ROSTER_LIST];
	tn_ssize n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(ud, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : fail(s, rc, "roster_list");
}

tn_err td_store_meta_put(td_store *s, const char *key, const uint8_t *value, size_t len)
{
	if (!key || (!value && len) || len > INT32_MAX)
		return TN_ERR_INVAL;
	sqlite3_stmt *st = s->st[ST_META_PUT];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, len ? value : (const void *)"", (int)len, SQLITE_STATIC);
	int rc = run(st);
	return rc == SQLITE_DONE ? TN_OK : fail(s, rc, "meta_put");
}

tn_ssize td_store_meta_get(td_store *s, const char *key, uint8_t *out, size_t cap)
{
	sqlite3_stmt *st = s->st[ST_META_GET];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	tn_ssize n;
	if (rc == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		if (len > cap)
			n = TN_ERR_NOBUF;
		else {
			if (len)
				memcpy(out, p, len);
			n = (tn_ssize)len;
		}
		rc = SQLITE_DONE;
	} else if (rc == SQLITE_DONE)
		n = TN_ERR_NOTFOUND;
	else
		n = fail(s, rc, "meta_get");
	sqlite3_reset(st);
	return n;
}

/* ---- last seen -------------------------------------------------------------- */

tn_err td_store_seen_put(td_store *s, const uint8_t member[TD_AUTHOR_LEN], int64_t seen_ms)
{
	sqlite3_stmt *st = s->st[ST_SEEN_PUT];
	sqlite3_bind_blob(st, 1, member, TD_AUTHOR_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seen_ms);
	int rc = relaxed(s, st);
	return rc == SQLITE_DONE ? TN_OK : fail(s, rc, "seen_put");
}

tn_ssize td_store_seen_list(td_store *s, td_seen_fn fn, void *ud)
{
	sqlite3_stmt *st = s->st[ST_SEEN_LIST];
	tn_ssize n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t pk[TD_AUTHOR_LEN];
		if (sqlite3_column_bytes(st, 0) != TD_AUTHOR_LEN)
			continue; /* the CHECK makes this impossible; never trust a file */
		copy_blob(pk, sizeof pk, st, 0);
		fn(ud, pk, sqlite3_column_int64(st, 1));
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : fail(s, rc, "seen_list");
}

/* ---- conflicts ------------------------------------------------------------- */

tn_ssize td_store_conflict_add(td_store *s, const uint8_t author[TD_AUTHOR_LEN], uint64_t seq,
			       const uint8_t id[TN_ALERT_ID], const uint8_t *envelope, size_t len,
			       int64_t seen_ms)
{
	if (seq > INT64_MAX || len == 0 || len > TN_FRAME_MAX || !envelope)
		return TN_ERR_INVAL;
	sqlite3_stmt *st = s->st[ST_CONFLICT_ADD];
	sqlite3_bind_blob(st, 1, author, TD_AUTHOR_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_blob(st, 3, envelope, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, seen_ms);
	sqlite3_bind_blob(st, 5, id, TN_ALERT_ID, SQLITE_STATIC);
	int rc = relaxed(s, st);
	return rc == SQLITE_DONE ? (tn_ssize)sqlite3_changes(s->db) : fail(s, rc, "conflict_add");
}

tn_ssize td_store_conflict_list(td_store *s, size_t max, td_conflict_fn fn, void *ud)
{
	sqlite3_stmt *st = s->st[ST_CONFLICT_LIST];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(max > INT64_MAX ? INT64_MAX : max));
	tn_ssize n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		td_conflict_row c;
		memset(&c, 0, sizeof c);
		int la = sqlite3_column_bytes(st, 2), lb = sqlite3_column_bytes(st, 3);
		c.has_ids = sqlite3_column_bytes(st, 5) == TN_ALERT_ID &&
			    sqlite3_column_bytes(st, 6) == TN_ALERT_ID;
		if (sqlite3_column_bytes(st, 0) != TD_AUTHOR_LEN ||
		    (!c.has_ids && (la <= 0 || lb <= 0)))
			continue; /* never trust a file */
		copy_blob(c.id_a, sizeof c.id_a, st, 5);
		copy_blob(c.id_b, sizeof c.id_b, st, 6);
		copy_blob(c.author, sizeof c.author, st, 0);
		sqlite3_int64 seq = sqlite3_column_int64(st, 1);
		c.seq = seq < 0 ? 0 : (uint64_t)seq;
		c.envelope_a = sqlite3_column_blob(st, 2);
		c.len_a = (size_t)la;
		c.envelope_b = sqlite3_column_blob(st, 3);
		c.len_b = (size_t)lb;
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			c.seen_ms = sqlite3_column_int64(st, 4);
		fn(ud, &c);
		n++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? n : fail(s, rc, "conflict_list");
}

tn_ssize td_store_conflict_count(td_store *s)
{
	sqlite3_stmt *st = s->st[ST_CONFLICT_COUNT];
	int rc = sqlite3_step(st);
	tn_ssize n = rc == SQLITE_ROW ? (tn_ssize)sqlite3_column_int64(st, 0)
				      : fail(s, rc, "conflict_count");
	sqlite3_reset(st);
	return n;
}
