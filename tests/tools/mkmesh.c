/* mkmesh: TEST TOOLING, never installed (tests/tools/README.md).
 *
 * Seeds N daemon homes as members of one network without the join
 * protocol, the way a test seeds a database:
 *
 *   mkmesh [--name NET] HOME1:[ADDR:]PORT1 HOME2:[ADDR:]PORT2 ...
 *
 * For each HOME it creates HOME/ and HOME/data/ (0700) and a fresh
 * identity in HOME/data/keystore (no passphrase). The first identity makes
 * the genesis (and is the network's only coordinator); it admits the
 * others as members named m2, m3, ... (the founder is m1); every member
 * signs an endpoint record "tcp:ADDR:PORT" for its own address (ADDR a
 * numeric IPv4 address, default 127.0.0.1: tests in network namespaces
 * give each member its namespace's address). All the
 * records, in acceptance order, are written into every home's store
 * (HOME/data/tocsin.db, table roster_records), so each tocsind started with
 * --home HOME --listen 127.0.0.1:PORT is a member at once.
 *
 * Prints one line per home: "HOME SHORT_FINGERPRINT NAME ROLE". */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "keystore_file.h"
#include "log.h"
#include "store.h"
#include "tocsin/identity.h"
#include "tocsin/roster.h"

enum { HOMES_MAX = 128, RECORDS_MAX = 3 * HOMES_MAX + 1 };

static void rnd(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	randombytes_buf(buf, len);
}

static const tn_rand rand_ = {rnd, NULL};

static uint8_t *recs[RECORDS_MAX];
static size_t rec_len[RECORDS_MAX];
static size_t nrecs;

static void die(const char *what, int rc)
{
	fprintf(stderr, "mkmesh: %s: %s\n", what, rc ? tn_strerror(rc) : "failed");
	exit(1);
}

static void keep(const uint8_t *p, tn_ssize n)
{
	if (n < 0)
		die("make record", (int)n);
	if (nrecs >= RECORDS_MAX)
		die("too many records", 0);
	recs[nrecs] = malloc((size_t)n);
	if (!recs[nrecs])
		die("malloc", TN_ERR_NOMEM);
	memcpy(recs[nrecs], p, (size_t)n);
	rec_len[nrecs++] = (size_t)n;
}

/* A roster as self, holding every record made so far. */
static tn_roster *roster_as(const tn_identity *self)
{
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.self = self;
	tn_roster *ro = NULL;
	tn_err rc = tn_roster_new(&ro, &cfg, recs[0], rec_len[0]);
	if (rc != TN_OK)
		die("roster_new", rc);
	for (size_t i = 1; i < nrecs; i++) {
		tn_roster_reason r = tn_roster_add_record(ro, recs[i], rec_len[i]);
		if (r != TN_ROSTER_ACCEPTED)
			die(tn_roster_reason_str((int)r), 0);
	}
	return ro;
}

static void mkdir0700(const char *p)
{
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		perror(p);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *net = "testnet";
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "--name") == 0) {
		net = argv[2];
		first = 3;
	}
	int n = argc - first;
	if (n < 1 || n > HOMES_MAX) {
		fprintf(stderr, "usage: mkmesh [--name NET] HOME:[ADDR:]PORT...  (1..%d homes)\n",
		        HOMES_MAX);
		return 2;
	}
	if (sodium_init() < 0)
		die("sodium_init", 0);
	static uint8_t buf[TN_ROSTER_RECORD_MAX];
	tn_identity *ids[HOMES_MAX];
	char homes[HOMES_MAX][1024], data[HOMES_MAX][1100], names[HOMES_MAX][16];
	unsigned ports[HOMES_MAX];
	char addrs[HOMES_MAX][16];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	for (int i = 0; i < n; i++) {
		const char *a = argv[first + i], *colon = strrchr(a, ':');
		if (!colon || colon == a || (size_t)(colon - a) >= sizeof homes[i])
			die("argument must be HOME:PORT", 0);
		ports[i] = (unsigned)strtoul(colon + 1, NULL, 10);
		if (ports[i] == 0 || ports[i] > 65535)
			die("bad port", 0);
		/* HOME:ADDR:PORT: the text between the last two colons is an
		 * IPv4 address when it parses as one. */
		snprintf(addrs[i], sizeof addrs[i], "127.0.0.1");
		const char *c2 = colon;
		while (c2 > a && c2[-1] != ':')
			c2--;
		if (c2 > a + 1) {
			char cand[16];
			struct in_addr ia;
			size_t alen = (size_t)(colon - c2);
			if (alen > 0 && alen < sizeof cand) {
				memcpy(cand, c2, alen);
				cand[alen] = '\0';
				if (inet_pton(AF_INET, cand, &ia) == 1) {
					memcpy(addrs[i], cand, alen + 1);
					colon = c2 - 1;
				}
			}
		}
		snprintf(homes[i], sizeof homes[i], "%.*s", (int)(colon - a), a);
		snprintf(data[i], sizeof data[i], "%s/data", homes[i]);
		snprintf(names[i], sizeof names[i], "m%d", i + 1);
		mkdir0700(homes[i]);
		mkdir0700(data[i]);
		tn_err rc = tn_identity_new(&ids[i], &rand_);
		if (rc != TN_OK)
			die("identity_new", rc);
		char msg[TN_KSFILE_MSG_MAX];
		rc = tn_keystore_file_save(data[i], TN_KSFILE_CREATE, ids[i], NULL, 0, NULL, &rand_,
		                           msg, sizeof msg);
		if (rc != TN_OK) {
			fprintf(stderr, "mkmesh: %s: %s\n", data[i], msg);
			return 1;
		}
	}
	tn_view netname = {(const uint8_t *)net, strlen(net)};
	tn_view n1 = {(const uint8_t *)names[0], strlen(names[0])};
	keep(buf, tn_roster_make_genesis(ids[0], &rand_, netname, n1, now, buf, sizeof buf));
	tn_roster *founder = roster_as(ids[0]);
	for (int i = 1; i < n; i++) {
		tn_view nm = {(const uint8_t *)names[i], strlen(names[i])};
		tn_ssize len = tn_roster_make_add(founder, &rand_, tn_identity_pubkey(ids[i]),
		                                  tn_identity_linkpub(ids[i]), nm, TN_ROLE_MEMBER,
		                                  now, buf, sizeof buf);
		keep(buf, len);
		if (tn_roster_add_record(founder, buf, (size_t)len) != TN_ROSTER_ACCEPTED)
			die("add not accepted", 0);
	}
	tn_roster_del(founder);
	for (int i = 0; i < n; i++) {
		tn_roster *ro = roster_as(ids[i]);
		char ep[64];
		snprintf(ep, sizeof ep, "tcp:%s:%u", addrs[i], ports[i]);
		tn_view v = {(const uint8_t *)ep, strlen(ep)};
		keep(buf, tn_roster_make_endpoint(ro, &v, 1, now + 365ull * 24 * 3600 * 1000, now, buf,
		                                  sizeof buf));
		tn_roster_del(ro);
	}
	td_log log;
	td_log_init(&log, TN_LOG_WARN);
	for (int i = 0; i < n; i++) {
		char db[1200];
		snprintf(db, sizeof db, "%.1100s/tocsin.db", data[i]);
		td_store *st = NULL;
		tn_err rc = td_store_open(&st, db, &log, NULL);
		if (rc != TN_OK)
			die(db, rc);
		for (size_t r = 0; r < nrecs; r++) {
			uint8_t id[TN_HASH];
			tn_roster_record_id(recs[r], rec_len[r], id);
			if ((rc = td_store_roster_insert(st, id, recs[r], rec_len[r], (int64_t)now)))
				die("roster_insert", rc);
		}
		td_store_close(st);
		printf("%s %s %s %s\n", homes[i], tn_shortfp_pubkey(tn_identity_pubkey(ids[i])).s,
		       names[i], i == 0 ? "coordinator" : "member");
	}
	for (int i = 0; i < n; i++)
		tn_identity_del(ids[i]);
	for (size_t r = 0; r < nrecs; r++)
		free(recs[r]);
	return 0;
}
