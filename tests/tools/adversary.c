/* adversary: TEST TOOLING, never installed (tests/tools/README.md).
 *
 * Attacks a tocsind on 127.0.0.1 the way THREAT-MODEL.md's adversaries
 * would, and checks what comes back. Nothing here leaves 127.0.0.1.
 *
 * An outsider (no keys): every mode connects to PORT, sends, and fails
 * (exit 1) if one byte comes back before a valid handshake.
 *
 *   adversary probe PORT scan N          N port-scan connects at once
 *   adversary probe PORT http|tls|random|len0|len65535|wrongpsk
 *   adversary probe PORT slowloris SECS  a message 1 one byte a second
 *   adversary probe PORT halfopen N SECS N connections at once, each a
 *                                        partial message 1, held SECS
 *
 * With a member's keys (a home from mkmesh; the roster from its store):
 *
 *   adversary replay HOME TARGET PORT    a valid message 1 (answered: it
 *                                        is valid), then the same bytes
 *                                        again on a new connection
 *   adversary misdirected HOME TARGET OTHER PORT
 *                                        a valid message 1 meant for OTHER
 *
 * A malicious member: links to TARGET (a member name, "m1") at PORT as the
 * member of HOME and sends crafted frames:
 *
 *   adversary member HOME TARGET PORT forge SEQ VICTIM
 *       a panic in VICTIM's name (signed by HOME's key)
 *   adversary member HOME TARGET PORT badsig SEQ COUNT VICTIM...
 *       COUNT drills claiming each VICTIM in turn (each under her budget),
 *       every one with a bad signature (ours); waits for the target to
 *       close the link, then dials again as HOME (docs/node.md "Bad
 *       signatures and quarantine")
 *   adversary member HOME TARGET PORT notice SEQ
 *       a notice from a member who is not a coordinator
 *   adversary member HOME TARGET PORT equivocate SEQ [COUNT]
 *       COUNT (default 2) different drills with the same seq
 *   adversary member HOME TARGET PORT flood SEQ SECS KIND [RATE]
 *       KIND (panic|drill) alerts as fast as the link takes them, or at
 *       most RATE a second
 *   adversary member HOME TARGET PORT newer SEQ
 *       a member of a later version: link messages of types this
 *       version does not know (ignorable 18..127, docs/wire.md §4), then
 *       a panic; fails unless the link stays up
 *   adversary member HOME TARGET PORT revoked SEQ ACCOMPLICE_HOME
 *       links as HOME and as ACCOMPLICE_HOME; sends one alert; prints
 *       "ready" and waits until HOME is revoked (the link closed by the
 *       target, the revocation gossiped to the accomplice's link); then
 *       replays HOME's alerts (the one sent, one sealed before, one
 *       after the revocation) over the accomplice's link, and tries to
 *       link again as HOME.
 *
 * Prints "key=value" lines (alert ids in hex) for the test to check the
 * daemons' stores and counters with. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "keystore_file.h"
#include "log.h"
#include "store.h"
#include "tocsin/alert.h"
#include "tocsin/codec.h"
#include "tocsin/identity.h"
#include "tocsin/link.h"
#include "tocsin/roster.h"
#include "link_priv.h" /* send_raw: the link's sending cipher */

enum { BUF = TN_FRAME_MAX + 2 + 1024, RECS_MAX = 4096 };

static void rnd(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	randombytes_buf(buf, len);
}

static const tn_rand rand_ = {rnd, NULL};

/* what: a fixed description; arg: its detail. */
_Noreturn static void die(const char *what, const char *arg)
{
	fprintf(stderr, "adversary: %s %s\n", what, arg);
	printf("result=FAIL\n");
	exit(1);
}

static tn_time mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (tn_time)ts.tv_sec * TN_SEC + (tn_time)ts.tv_nsec;
}

static uint64_t wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void hexout(const char *key, const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];
	sodium_bin2hex(h, sizeof h, p, n);
	printf("%s=%s\n", key, h);
	fflush(stdout);
}

/* ---- sockets ----------------------------------------------------------- */

static int tcp_connect(unsigned port, bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket", strerror(errno));
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (nonblock)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
		die("connect", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = {fd, POLLOUT, 0};
			poll(&pf, 1, 100);
			continue;
		}
		if (w < 0)
			return; /* closed by the daemon: what it may do */
		p += w;
		n -= (size_t)w;
	}
}

/* The byte count the daemon sent on fd within ms; -1 once the connection
 * is gone (EOF or reset) with nothing sent. */
static ssize_t bytes_back(int fd, int ms)
{
	tn_time end = mono() + (tn_time)ms * TN_MSEC;
	for (;;) {
		tn_time now = mono();
		if (now >= end)
			return 0;
		struct pollfd pf = {fd, POLLIN, 0};
		int r = poll(&pf, 1, (int)((end - now) / TN_MSEC) + 1);
		if (r <= 0)
			continue;
		uint8_t b[4096];
		ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
		if (n > 0)
			return n;
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return -1;
	}
}

static int expect_silence(const char *what, int fd, int ms)
{
	ssize_t n = bytes_back(fd, ms);
	if (n > 0) {
		printf("%s: FAIL %zd bytes back\n", what, n);
		return 1;
	}
	return 0;
}

/* ---- message 1 ---------------------------------------------------------- */

/* One message 1 (with its length prefix) from a fresh initiator link:
 * the link builds the payload, identity and signature included. */
static size_t make_msg1(const uint8_t network_id[TN_NETWORK_ID], const tn_identity *id,
                        const tn_noise_keypair *kp, const tn_noise_psk *psk,
                        const tn_noise_pubkey *remote, uint8_t *out, size_t cap)
{
	tn_link_config cfg;
	tn_link_config_default(&cfg);
	memcpy(cfg.network_id, network_id, TN_NETWORK_ID);
	cfg.role = TN_NOISE_INITIATOR;
	cfg.static_key = *kp;
	cfg.psk = *psk;
	cfg.expected_remote = *remote;
	cfg.identity = id;
	cfg.rand = rand_;
	tn_link *l = NULL;
	if (tn_link_new(&l, &cfg) != TN_OK || tn_link_start(l, mono(), wall()) != TN_OK)
		die("link_new/start", "");
	tn_ssize n = tn_link_out(l, out, cap, mono());
	tn_link_del(l);
	sodium_memzero(&cfg, sizeof cfg);
	if (n <= 0)
		die("no message 1", "");
	return (size_t)n;
}

/* A well-formed message 1 from an outsider: her own identity and keys, a
 * PSK she guessed, a responder she does not know. */
static size_t outsider_msg1(const uint8_t nid[TN_NETWORK_ID], uint8_t *out, size_t cap)
{
	tn_identity *id = NULL;
	tn_noise_keypair kp;
	tn_noise_psk psk;
	tn_noise_pubkey remote;
	if (tn_identity_new(&id, &rand_) != TN_OK)
		die("identity", "");
	memcpy(kp.sec.b, tn_identity_link_secret(id)->b, TN_NOISE_DH);
	memcpy(kp.pub.b, tn_identity_linkpub(id)->b, TN_NOISE_DH);
	randombytes_buf(psk.b, sizeof psk.b);
	randombytes_buf(remote.b, sizeof remote.b);
	size_t n = make_msg1(nid, id, &kp, &psk, &remote, out, cap);
	sodium_memzero(&kp, sizeof kp);
	tn_identity_del(id);
	return n;
}

/* A TLS 1.3 ClientHello as a browser would start one (SNI "example.org"). */
static size_t tls_hello(uint8_t *out)
{
	static const uint8_t ext[] = {
	        0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b, 'e',
	        'x',  'a',  'm',  'p',  'l',  'e',  '.',  'o',  'r',  'g', /* server_name */
	        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d, /* supported_groups x25519 */
	        0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, /* signature_algorithms */
	        0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,       /* supported_versions 1.3 */
	};
	uint8_t body[512];
	size_t n = 0;
	body[n++] = 0x03;
	body[n++] = 0x03; /* legacy_version */
	randombytes_buf(body + n, 32);
	n += 32;
	body[n++] = 32; /* session id */
	randombytes_buf(body + n, 32);
	n += 32;
	static const uint8_t suites[] = {0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03};
	memcpy(body + n, suites, sizeof suites);
	n += sizeof suites;
	body[n++] = 1;
	body[n++] = 0;                         /* compression: null */
	size_t klen = sizeof ext + 4 + 2 + 32; /* + key_share */
	body[n++] = (uint8_t)(klen >> 8);
	body[n++] = (uint8_t)klen;
	memcpy(body + n, ext, sizeof ext);
	n += sizeof ext;
	static const uint8_t ks[] = {0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20};
	memcpy(body + n, ks, sizeof ks);
	n += sizeof ks;
	randombytes_buf(body + n, 32);
	n += 32;
	size_t hs = n + 4, m = 0;
	out[m++] = 0x16;
	out[m++] = 0x03;
	out[m++] = 0x01;
	out[m++] = (uint8_t)(hs >> 8);
	out[m++] = (uint8_t)hs;
	out[m++] = 0x01;
	out[m++] = 0;
	out[m++] = (uint8_t)(n >> 8);
	out[m++] = (uint8_t)n;
	memcpy(out + m, body, n);
	return m + n;
}

/* ---- outsider probes ---------------------------------------------------- */

static int probe(unsigned port, int argc, char **argv)
{
	const char *mode = argv[0];
	uint8_t buf[BUF], nid[TN_NETWORK_ID];
	randombytes_buf(nid, sizeof nid); /* an outsider does not know it */
	int fails = 0;
	if (strcmp(mode, "scan") == 0 && argc >= 2) {
		int n = atoi(argv[1]);
		int fds[1024];
		if (n < 1 || n > 1024)
			die("scan: 1..1024", "");
		for (int i = 0; i < n; i++)
			fds[i] = tcp_connect(port, false);
		for (int i = 0; i < n; i++) {
			fails += expect_silence("scan", fds[i], i == 0 ? 1000 : 20);
			close(fds[i]);
		}
	} else if (strcmp(mode, "http") == 0) {
		int fd = tcp_connect(port, false);
		static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: "
		                          "Mozilla/5.0\r\nAccept: */*\r\n\r\n";
		send_all(fd, (const uint8_t *)req, sizeof req - 1);
		fails += expect_silence("http", fd, 1500);
		close(fd);
	} else if (strcmp(mode, "tls") == 0) {
		int fd = tcp_connect(port, false);
		send_all(fd, buf, tls_hello(buf));
		fails += expect_silence("tls", fd, 1500);
		close(fd);
	} else if (strcmp(mode, "random") == 0) {
		int fd = tcp_connect(port, false);
		randombytes_buf(buf, 4000);
		send_all(fd, buf, 4000);
		fails += expect_silence("random", fd, 1500);
		close(fd);
	} else if (strcmp(mode, "len0") == 0 || strcmp(mode, "len65535") == 0) {
		int fd = tcp_connect(port, false);
		uint8_t hdr[2] = {0, 0};
		if (mode[3] == '6')
			hdr[0] = hdr[1] = 0xff;
		send_all(fd, hdr, 2);
		fails += expect_silence(mode, fd, 1500);
		close(fd);
	} else if (strcmp(mode, "wrongpsk") == 0) {
		size_t n = outsider_msg1(nid, buf, sizeof buf);
		int fd = tcp_connect(port, false);
		send_all(fd, buf, n);
		fails += expect_silence("wrongpsk", fd, 1500);
		close(fd);
	} else if (strcmp(mode, "slowloris") == 0 && argc >= 2) {
		int secs = atoi(argv[1]);
		size_t n = outsider_msg1(nid, buf, sizeof buf);
		int fd = tcp_connect(port, false);
		int sent = 0, closed_at = -1;
		for (int i = 0; i < secs && (size_t)i < n; i++) {
			if (send(fd, buf + i, 1, MSG_NOSIGNAL) != 1) {
				closed_at = i;
				break;
			}
			sent++;
			ssize_t b = bytes_back(fd, 1000);
			if (b > 0) {
				printf("slowloris: FAIL %zd bytes back after %d bytes sent\n", b,
				       sent);
				return 1;
			}
			if (b < 0) {
				closed_at = i + 1;
				break;
			}
		}
		printf("slowloris_bytes_sent=%d\nslowloris_closed_after_s=%d\n", sent, closed_at);
		close(fd);
	} else if (strcmp(mode, "halfopen") == 0 && argc >= 3) {
		int n = atoi(argv[1]), secs = atoi(argv[2]);
		if (n < 1 || n > 4000)
			die("halfopen: 1..4000", "");
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
			rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		int *fds = calloc((size_t)n, sizeof *fds);
		if (!fds)
			die("nomem", "");
		int opened = 0;
		for (int i = 0; i < n; i++) {
			fds[i] = tcp_connect(port, true);
			opened++;
		}
		/* A partial message 1 on each: a 2-byte prefix saying more comes. */
		tn_time t0 = mono();
		uint8_t part[10] = {0, 0x60};
		randombytes_buf(part + 2, sizeof part - 2);
		for (int i = 0; i < n; i++) {
			struct pollfd pf = {fds[i], POLLOUT, 0};
			if (poll(&pf, 1, 2000) == 1 && (pf.revents & POLLOUT))
				(void)send(fds[i], part, sizeof part, MSG_NOSIGNAL);
		}
		/* Hold them all, watching every one for a byte. */
		struct pollfd *pf = calloc((size_t)n, sizeof *pf);
		int gone = 0, got = 0;
		tn_time end = t0 + (tn_time)secs * TN_SEC;
		for (int i = 0; i < n; i++)
			pf[i] = (struct pollfd){fds[i], POLLIN, 0};
		while (mono() < end) {
			int r = poll(pf, (nfds_t)n, 200);
			for (int i = 0; r > 0 && i < n; i++) {
				if (pf[i].fd < 0 || !pf[i].revents)
					continue;
				uint8_t b[512];
				ssize_t k = recv(pf[i].fd, b, sizeof b, MSG_DONTWAIT);
				if (k > 0)
					got += (int)k;
				else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
					gone++;
					close(pf[i].fd);
					pf[i].fd = -1;
				}
			}
		}
		for (int i = 0; i < n; i++)
			if (pf[i].fd >= 0)
				close(pf[i].fd);
		printf("halfopen_opened=%d\nhalfopen_closed_by_daemon=%d\nhalfopen_bytes_back=%d\n",
		       opened, gone, got);
		free(pf);
		free(fds);
		if (got)
			fails++;
	} else {
		die("unknown probe mode", mode);
	}
	printf("result=%s\n", fails ? "FAIL" : "ok");
	return fails ? 1 : 0;
}

/* ---- a member's keys and roster ------------------------------------------ */

typedef struct member {
	tn_identity *id;
	tn_roster *ro;
	tn_roster_epoch ep;
	tn_noise_keypair kp;
} member;

typedef struct recs {
	uint8_t *p[RECS_MAX];
	size_t n[RECS_MAX];
	size_t count;
} recs;

static void keep_rec(void *ud, const uint8_t *b, size_t len)
{
	recs *r = ud;
	if (r->count == RECS_MAX)
		return;
	r->p[r->count] = malloc(len);
	if (!r->p[r->count])
		die("nomem", "");
	memcpy(r->p[r->count], b, len);
	r->n[r->count++] = len;
}

static void member_load(member *m, const char *home)
{
	char dir[1100], db[1200], msg[TN_KSFILE_MSG_MAX];
	snprintf(dir, sizeof dir, "%.1000s/data", home);
	snprintf(db, sizeof db, "%s/tocsin.db", dir);
	if (tn_keystore_file_load(dir, NULL, 0, &m->id, msg, sizeof msg) != TN_OK)
		die("keystore", msg);
	td_log log;
	td_log_init(&log, TN_LOG_ERR);
	td_store *st = NULL;
	if (td_store_open(&st, db, &log, NULL) != TN_OK)
		die("store", db);
	static recs r;
	r.count = 0;
	if (td_store_roster_list(st, keep_rec, &r) < 1)
		die("no roster in", db);
	td_store_close(st);
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.self = m->id;
	if (tn_roster_new(&m->ro, &cfg, r.p[0], r.n[0]) != TN_OK)
		die("roster_new", "");
	for (size_t i = 1; i < r.count; i++)
		(void)tn_roster_add_record(m->ro, r.p[i], r.n[i]);
	for (size_t i = 0; i < r.count; i++)
		free(r.p[i]);
	if (tn_roster_current_epoch(m->ro, &m->ep) != TN_OK || m->ep.count == 0)
		die("no epoch keys", "");
	memcpy(m->kp.sec.b, tn_identity_link_secret(m->id)->b, TN_NOISE_DH);
	memcpy(m->kp.pub.b, tn_identity_linkpub(m->id)->b, TN_NOISE_DH);
}

static void member_free(member *m)
{
	tn_roster_epoch_wipe(&m->ep);
	sodium_memzero(&m->kp, sizeof m->kp);
	tn_roster_del(m->ro);
	tn_identity_del(m->id);
}

/* A member of m's roster by display name. */
static tn_roster_member by_name(member *m, const char *name)
{
	tn_roster_member rm;
	for (size_t i = 0; tn_roster_member_at(m->ro, i, &rm) == TN_OK; i++)
		if (rm.name.len == strlen(name) && memcmp(rm.name.p, name, rm.name.len) == 0)
			return rm;
	die("no member named", name);
}

static tn_noise_psk member_psk(const member *m)
{
	tn_noise_psk psk;
	memcpy(psk.b, m->ep.keys[0].link_psk, sizeof psk.b);
	return psk;
}

/* ---- replayed and misdirected message 1 ------------------------------------- */

/* A valid message 1 from member me (her keys, her epoch's PSK) whose
 * responder hash names the member called responder. */
static size_t member_msg1(member *me, const char *responder, uint8_t *out, size_t cap)
{
	tn_roster_member r = by_name(me, responder);
	tn_noise_pubkey remote;
	memcpy(remote.b, r.link.b, sizeof remote.b);
	tn_noise_psk psk = member_psk(me);
	size_t n =
	        make_msg1(tn_roster_network_id(me->ro), me->id, &me->kp, &psk, &remote, out, cap);
	sodium_memzero(&psk, sizeof psk);
	return n;
}

/* replay: a valid message 1 for target, answered (it is valid), then the
 * recording sent again on a new connection. misdirected: one meant for
 * responder sent to port. Both: the second must get no byte. */
static int msg1_attack(const char *home, const char *responder, unsigned port, bool replay)
{
	static member me;
	static uint8_t m1[BUF];
	member_load(&me, home);
	size_t n = member_msg1(&me, responder, m1, sizeof m1);
	int fails = 0, fd;
	if (replay) {
		fd = tcp_connect(port, false);
		send_all(fd, m1, n);
		ssize_t first = bytes_back(fd, 3000);
		close(fd);
		printf("original_bytes_back=%zd\n", first);
		if (first <= 0) {
			printf("replay: FAIL the original (valid) message 1 got no answer\n");
			fails++;
		}
	}
	fd = tcp_connect(port, false);
	send_all(fd, m1, n);
	fails += expect_silence(replay ? "replay" : "misdirected", fd, 1500);
	close(fd);
	member_free(&me);
	printf("result=%s\n", fails ? "FAIL" : "ok");
	return fails ? 1 : 0;
}

/* ---- a linked session --------------------------------------------------------- */

typedef struct sess {
	const char *name;
	member *me;
	int fd;
	tn_link *link;
	tn_replay_cache *rc;
	bool up, closed;
	tn_link_event close_ev;
	uint8_t out[BUF];
	size_t out_off, out_len;
	uint64_t msgs_in, roster_in;
} sess;

static void sess_events(sess *s)
{
	tn_link_event ev;
	while (tn_link_poll_event(s->link, &ev)) {
		if (ev.type == TN_LINK_EV_ESTABLISHED)
			s->up = true;
		else if (ev.type == TN_LINK_EV_MESSAGE) {
			s->msgs_in++;
			tn_link_msg lm;
			/* Roster gossip keeps our view current (a revocation). */
			if (tn_link_decode(&lm, ev.msg, ev.len) == TN_OK &&
			    lm.type == TN_LINK_ROSTER) {
				s->roster_in++;
				(void)tn_roster_add_record(s->me->ro, lm.record.p, lm.record.len);
			}
		} else if (ev.type == TN_LINK_EV_CLOSE) {
			s->closed = true;
			s->close_ev = ev;
		}
	}
}

/* Move bytes both ways for up to ms (0: one non-blocking round). */
static void sess_pump(sess *s, int ms)
{
	tn_time end = mono() + (tn_time)ms * TN_MSEC;
	do {
		if (s->closed && s->out_off == s->out_len)
			return;
		if (s->out_off == s->out_len && !s->closed) {
			tn_ssize n = tn_link_out(s->link, s->out, sizeof s->out, mono());
			s->out_off = 0;
			s->out_len = n > 0 ? (size_t)n : 0;
		}
		struct pollfd pf = {s->fd, POLLIN | (s->out_off < s->out_len ? POLLOUT : 0), 0};
		tn_time now = mono();
		int wait = now >= end ? 0 : (int)((end - now) / TN_MSEC);
		if (wait > 50)
			wait = 50;
		if (poll(&pf, 1, wait) > 0) {
			if (pf.revents & POLLOUT) {
				ssize_t w =
				        send(s->fd, s->out + s->out_off, s->out_len - s->out_off,
				             MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0)
					s->out_off += (size_t)w;
				else if (w < 0 && errno != EAGAIN) {
					s->closed = true;
					s->out_off = s->out_len;
				}
			}
			if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
				static uint8_t in[65536];
				ssize_t r = recv(s->fd, in, sizeof in, MSG_DONTWAIT);
				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					s->closed = true;
					s->out_off = s->out_len;
				}
				const uint8_t *p = in;
				while (r > 0) {
					tn_ssize k =
					        tn_link_recv(s->link, p, (size_t)r, mono(), wall());
					if (k < 0)
						die("link_recv", "");
					p += k;
					r -= k;
					sess_events(s);
				}
			}
		}
		if (!s->closed) {
			tn_link_tick(s->link, mono());
			sess_events(s);
		}
	} while (mono() < end);
}

static void sess_open(sess *s, member *me, const char *name, const char *target, unsigned port)
{
	memset(s, 0, sizeof *s);
	s->name = name;
	s->me = me;
	tn_roster_member t = by_name(me, target);
	tn_link_config cfg;
	tn_link_config_default(&cfg);
	cfg.role = TN_NOISE_INITIATOR;
	cfg.static_key = me->kp;
	cfg.identity = me->id;
	cfg.psk = member_psk(me);
	memcpy(cfg.network_id, tn_roster_network_id(me->ro), TN_NETWORK_ID);
	memcpy(cfg.expected_remote.b, t.link.b, TN_NOISE_DH);
	cfg.rand = rand_;
	if (tn_link_new(&s->link, &cfg) != TN_OK)
		die("link_new", "");
	sodium_memzero(&cfg, sizeof cfg);
	s->fd = tcp_connect(port, false);
	if (tn_link_start(s->link, mono(), wall()) != TN_OK)
		die("link_start", "");
	tn_time end = mono() + 5 * TN_SEC;
	while (!s->up && !s->closed && mono() < end)
		sess_pump(s, 50);
}

static void sess_close(sess *s)
{
	if (!s->closed) {
		tn_link_close(s->link, TN_CLOSE_NORMAL, mono());
		sess_pump(s, 200);
	}
	close(s->fd);
	tn_link_del(s->link);
}

/* Seal an alert by author (with author's epoch keys) into out. */
static size_t seal(const member *author, uint64_t seq, uint8_t kind, const char *text, uint8_t *out,
                   size_t cap, uint8_t id[TN_ALERT_ID])
{
	tn_alert_draft d;
	memset(&d, 0, sizeof d);
	memcpy(d.network_id, tn_roster_network_id(author->ro), TN_NETWORK_ID);
	d.seq = seq;
	d.kind = kind;
	d.created_ms = wall();
	d.expires_ms = d.created_ms + 3600 * 1000;
	d.epoch = author->ep.epoch;
	tn_seckey gk;
	memcpy(gk.b, author->ep.keys[0].group_key, sizeof gk.b);
	tn_alert_pt pt;
	memset(&pt, 0, sizeof pt);
	pt.severity = TN_SEV_CRITICAL;
	pt.violation = TN_VIOL_OTHER;
	pt.has_text = true;
	pt.text = (tn_view){(const uint8_t *)text, strlen(text)};
	tn_ssize n = tn_alert_seal(author->id, &d, &gk, &pt, &rand_, out, cap, id);
	sodium_memzero(&gk, sizeof gk);
	if (n < 0)
		die("seal", tn_strerror((tn_err)n));
	return (size_t)n;
}

/* Queue one ALERT link message. false when the link refused it (closed,
 * or its output queue is full: the caller pumps and retries). */
static bool send_alert(sess *s, const uint8_t *env, size_t len)
{
	static uint8_t msg[TN_ALERT_ENVELOPE_MAX + 64];
	tn_link_msg lm;
	memset(&lm, 0, sizeof lm);
	lm.type = TN_LINK_ALERT;
	lm.record = (tn_view){env, len};
	tn_ssize n = tn_link_encode(&lm, msg, sizeof msg);
	if (n < 0)
		die("link_encode", "");
	return tn_link_send(s->link, msg, (size_t)n, TN_LINK_SEND_NORMAL, mono()) == TN_OK;
}

/* What a later version would send: pt (a type we do not know, which
 * tn_link_send refuses) encrypted as the link's next frame by hand. All the
 * link queued goes out first, so nonce order stays wire order. */
static void send_raw(sess *s, const uint8_t *pt, size_t n)
{
	tn_time end = mono() + 5 * TN_SEC;
	while (!s->closed && (s->out_off < s->out_len || tn_link_pending(s->link) > 0) &&
	       mono() < end)
		sess_pump(s, 10);
	if (s->closed || s->out_off < s->out_len || tn_link_pending(s->link) > 0)
		die("send_raw: the link did not drain", "");
	tn_ssize c = tn_noise_cipher_encrypt(&s->link->tx, NULL, 0, pt, n, s->out + 2,
	                                     sizeof s->out - 2);
	if (c < 0)
		die("send_raw", tn_strerror((tn_err)c));
	s->out[0] = (uint8_t)(c >> 8);
	s->out[1] = (uint8_t)c;
	s->out_off = 0;
	s->out_len = (size_t)c + 2;
	sess_pump(s, 0);
}

/* A real envelope of ours (kind, seq) with the author swapped for the
 * victim's key: the signature stays ours, so it does not verify. */
static size_t forge_as(member *me, const char *victim, uint64_t seq, uint8_t kind,
                       const char *text, uint8_t *out, size_t cap, uint8_t id[TN_ALERT_ID])
{
	static uint8_t own[TN_ALERT_ENVELOPE_MAX];
	uint8_t own_id[TN_ALERT_ID];
	tn_roster_member v = by_name(me, victim);
	size_t n = seal(me, seq, kind, text, own, sizeof own, own_id);
	tn_alert_env e;
	if (tn_alert_env_decode(&e, own, n) != TN_OK)
		die("decode own envelope", "");
	memcpy(e.author, v.pk.b, TN_PUBKEY);
	tn_ssize m = tn_alert_env_encode(&e, out, cap);
	if (m < 0)
		die("re-encode", "");
	crypto_generichash(id, TN_ALERT_ID, out, (size_t)m, NULL, 0);
	return (size_t)m;
}

/* A message 1 as HOME to target on a new connection: bytes that came back
 * before the target hung up or 1.5 s passed. */
static ssize_t redial(member *me, const char *target, unsigned port)
{
	static uint8_t m1[BUF];
	size_t k = member_msg1(me, target, m1, sizeof m1);
	int fd = tcp_connect(port, false);
	send_all(fd, m1, k);
	ssize_t back = bytes_back(fd, 1500); /* -1: hung up without a byte */
	close(fd);
	return back > 0 ? back : 0;
}

static void need_up(sess *s)
{
	if (!s->up)
		die("no link to the target as", s->name);
}

static int member_mode(const char *home, const char *target, unsigned port, int argc, char **argv)
{
	const char *what = argv[0];
	if (argc < 2)
		die("member: SCENARIO SEQ ...", "");
	uint64_t seq = strtoull(argv[1], NULL, 10);
	static member me;
	member_load(&me, home);
	static sess s;
	static uint8_t env[TN_ALERT_ENVELOPE_MAX], env2[TN_ALERT_ENVELOPE_MAX];
	uint8_t id[TN_ALERT_ID], id2[TN_ALERT_ID];
	int fails = 0;
	sess_open(&s, &me, home, target, port);
	need_up(&s);
	printf("linked=yes\n");
	fflush(stdout);
	if (strcmp(what, "forge") == 0 && argc >= 3) {
		size_t m = forge_as(&me, argv[2], seq, TN_KIND_PANIC, "forged panic", env2,
		                    sizeof env2, id2);
		(void)send_alert(&s, env2, m);
		hexout("forged_id", id2, sizeof id2);
	} else if (strcmp(what, "badsig") == 0 && argc >= 4) {
		int count = atoi(argv[2]), nv = argc - 3, sent = 0;
		for (int i = 0; i < count && !s.closed; i++) {
			size_t m = forge_as(&me, argv[3 + i % nv], seq + (uint64_t)i, TN_KIND_DRILL,
			                    "bad signature", env2, sizeof env2, id2);
			while (!send_alert(&s, env2, m) && !s.closed)
				sess_pump(&s, 10);
			sent += !s.closed;
			sess_pump(&s, 0);
		}
		tn_time end = mono() + 10 * TN_SEC;
		while (!s.closed && mono() < end)
			sess_pump(&s, 20);
		printf("badsig_sent=%d\nbadsig_link_closed=%s\n", sent, s.closed ? "yes" : "no");
		if (s.close_ev.type == TN_LINK_EV_CLOSE) /* else the socket went first */
			printf("badsig_close_err=%s peer_reason=%u\n", tn_strerror(s.close_ev.err),
			       s.close_ev.peer_reason);
		fails += !s.closed;
		printf("badsig_redial_bytes_back=%zd\n", redial(&me, target, port));
	} else if (strcmp(what, "notice") == 0) {
		size_t n =
		        seal(&me, seq, TN_KIND_NOTICE, "notice from a member", env, sizeof env, id);
		(void)send_alert(&s, env, n);
		hexout("notice_id", id, sizeof id);
	} else if (strcmp(what, "equivocate") == 0) {
		int count = argc >= 3 ? atoi(argv[2]) : 2;
		size_t n = seal(&me, seq, TN_KIND_DRILL, "first version", env, sizeof env, id);
		(void)send_alert(&s, env, n);
		sess_pump(&s, 300);
		hexout("first_id", id, sizeof id);
		for (int i = 1; i < count; i++) {
			char text[64];
			snprintf(text, sizeof text, "version %d", i + 1);
			size_t m = seal(&me, seq, TN_KIND_DRILL, text, env2, sizeof env2, id2);
			while (!send_alert(&s, env2, m) && !s.closed)
				sess_pump(&s, 10);
			sess_pump(&s, 0);
			if (i == 1)
				hexout("second_id", id2, sizeof id2);
		}
	} else if (strcmp(what, "flood") == 0 && argc >= 4) {
		int secs = atoi(argv[2]);
		uint8_t kind = strcmp(argv[3], "panic") == 0 ? TN_KIND_PANIC : TN_KIND_DRILL;
		uint64_t rate = argc >= 5 ? strtoull(argv[4], NULL, 10) : 0; /* 0: no cap */
		tn_time start = mono(), end = start + (tn_time)secs * TN_SEC;
		uint64_t sent = 0;
		while (mono() < end && !s.closed) {
			/* Keep the link's queue short: seal only when it has room (and
			 * under the rate cap: a shared CI machine is not ours to hog). */
			bool room = tn_link_pending(s.link) < 64 * 1024;
			if (rate && sent >= rate * (mono() - start) / TN_SEC)
				room = false;
			if (room) {
				size_t n =
				        seal(&me, seq + sent, kind, "flood", env, sizeof env, id);
				if (send_alert(&s, env, n))
					sent++;
			}
			sess_pump(&s, room ? 0 : 1);
		}
		printf("flood_sent=%llu\nflood_rate_per_s=%llu\n", (unsigned long long)sent,
		       (unsigned long long)(secs > 0 ? sent / (uint64_t)secs : 0));
		if (s.closed) {
			printf("flood: the target closed the link (%s)\n",
			       tn_strerror(s.close_ev.err));
		}
	} else if (strcmp(what, "newer") == 0) {
		static const uint8_t u18[] = {0x92, 0x12, 0x92, 0x01, 0xa1, 'x'}; /* [18, [1, "x"]] */
		static const uint8_t u127[] = {0x91, 0x7f};                        /* [127] */
		static const uint8_t u64[] = {0x92, 0x40, 0x81, 0x01, 0xc4, 0x01, 0x00};
		send_raw(&s, u18, sizeof u18);
		send_raw(&s, u127, sizeof u127);
		send_raw(&s, u64, sizeof u64); /* [64, {1: bin}] */
		send_raw(&s, u18, sizeof u18);
		printf("unknown_sent=4\n");
		size_t n = seal(&me, seq, TN_KIND_PANIC, "panic from a newer member", env,
		                sizeof env, id);
		(void)send_alert(&s, env, n);
		hexout("newer_id", id, sizeof id);
		sess_pump(&s, 300);
		if (s.closed) {
			printf("newer: the target closed the link (%s)\n",
			       tn_strerror(s.close_ev.err));
			fails++;
		}
	} else if (strcmp(what, "revoked") == 0 && argc >= 3) {
		static member acc;
		static sess a;
		member_load(&acc, argv[2]);
		sess_open(&a, &acc, argv[2], target, port);
		need_up(&a);
		size_t n1 = seal(&me, seq, TN_KIND_DRILL, "before revocation, sent", env,
		                 sizeof env, id);
		size_t n2 = seal(&me, seq + 1, TN_KIND_DRILL, "before revocation, held back", env2,
		                 sizeof env2, id2);
		(void)send_alert(&s, env, n1);
		sess_pump(&s, 500);
		sess_pump(&a, 100);
		hexout("sent_id", id, sizeof id);
		hexout("held_id", id2, sizeof id2);
		printf("ready\n");
		fflush(stdout);
		/* Wait for the revocation: our link closed by the target, and the
		 * accomplice's roster (fed by gossip) saying so. */
		tn_roster_member rm;
		tn_time end = mono() + 30 * TN_SEC;
		bool revoked = false;
		while (mono() < end && !(s.closed && revoked)) {
			sess_pump(&s, 20);
			sess_pump(&a, 20);
			revoked = tn_roster_member_by_pk(acc.ro, tn_identity_pubkey(me.id), &rm) ==
			                  TN_OK &&
			          !rm.active;
		}
		printf("revoked_link_closed=%s\n", s.closed ? "yes" : "no");
		if (s.closed)
			printf("revoked_close_err=%s peer_reason=%u\n", tn_strerror(s.close_ev.err),
			       s.close_ev.peer_reason);
		printf("accomplice_saw_revocation=%s roster_records_in=%llu\n",
		       revoked ? "yes" : "no", (unsigned long long)a.roster_in);
		if (!s.closed || !revoked)
			fails++;
		/* Replays over the accomplice's link: the accepted one, the one
		 * held back, and one sealed now with the revoked key. */
		static uint8_t env3[TN_ALERT_ENVELOPE_MAX];
		uint8_t id3[TN_ALERT_ID];
		size_t n3 = seal(&me, seq + 2, TN_KIND_PANIC, "after revocation", env3, sizeof env3,
		                 id3);
		(void)send_alert(&a, env, n1);
		(void)send_alert(&a, env2, n2);
		(void)send_alert(&a, env3, n3);
		sess_pump(&a, 700);
		hexout("after_id", id3, sizeof id3);
		printf("accomplice_link_up=%s\n", a.closed ? "no" : "yes");
		/* And the revoked member dials again with the keys she has. */
		printf("revoked_redial_bytes_back=%zd\n", redial(&me, target, port));
		sess_close(&a);
		member_free(&acc);
	} else {
		die("unknown member scenario", what);
	}
	sess_pump(&s, 700); /* let it all go out and be answered */
	printf("link_still_up=%s\n", s.closed ? "no" : "yes");
	sess_close(&s);
	member_free(&me);
	printf("result=%s\n", fails ? "FAIL" : "ok");
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0)
		die("sodium_init", "");
	if (argc >= 4 && strcmp(argv[1], "probe") == 0)
		return probe((unsigned)atoi(argv[2]), argc - 3, argv + 3);
	if (argc == 5 && strcmp(argv[1], "replay") == 0)
		return msg1_attack(argv[2], argv[3], (unsigned)atoi(argv[4]), true);
	if (argc == 6 && strcmp(argv[1], "misdirected") == 0)
		return msg1_attack(argv[2], argv[4], (unsigned)atoi(argv[5]), false);
	if (argc >= 7 && strcmp(argv[1], "member") == 0)
		return member_mode(argv[2], argv[3], (unsigned)atoi(argv[4]), argc - 5, argv + 5);
	fprintf(stderr, "usage: see tests/tools/README.md (adversary)\n");
	return 2;
}
