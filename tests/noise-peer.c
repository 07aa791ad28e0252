/* noise-peer: the C side of the Noise interoperability test.
 *
 *   noise-peer --role initiator|responder --port P --static HEX32 --psk HEX32
 *              --prologue HEX [--count N] [--expect-remote HEX32] [--pattern NAME]
 *
 * Same command line and output contract as tests/interop/peer.js: frames are
 * a 2-byte big-endian length and one Noise message, over TCP on 127.0.0.1
 * only. The responder listens (port 0: any, printed as "port N") and serves
 * one connection. After the handshake each side prints "hash <hex>" and
 * "remote <hex>"; the initiator sends N transport messages, the responder
 * echoes each, the initiator checks every echo and prints "ok N messages"
 * (the responder prints it when the initiator hangs up). Exit status 0 only
 * if everything matched; 1 on any failure, 2 on a usage error. The whole run
 * is bounded by a 10-second deadline (DESIGN §10: handshake <= 10 s).
 *
 * A test tool, not part of the protocol library: it owns the sockets, the
 * clock and the randomness (randombytes_buf wired into a tn_rand) that
 * protocol/ never touches. It allocates nothing: one frame buffer of the
 * Noise maximum bounds every read, whatever length the peer announces. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "tocsin/noise.h"

enum {
	EXIT_USAGE = 2,
	COUNT_DEFAULT = 8, /* as peer.js */
	COUNT_MAX = 1000000,
	PROLOGUE_MAX = 1024,
	TIMEOUT_MS = 10000,
	/* Echo payloads are short; the frame buffer still takes the maximum so
	 * that whatever the peer sends is read in full and then judged. */
	PAYLOAD_MAX = 256,
};

#define DEFAULT_PATTERN "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"

typedef struct opts {
	int initiator;
	unsigned port;
	unsigned count;
	tn_noise_keypair s;
	tn_noise_psk psk;
	uint8_t prologue[PROLOGUE_MAX];
	size_t prologue_len;
	tn_noise_pubkey expect;
	int has_expect;
	char pattern[TN_NOISE_NAME_MAX + 1];
} opts;

/* Everything the run touches, so one cleanup path can wipe it. */
typedef struct peer {
	opts o;
	int fd;
	int64_t deadline; /* CLOCK_MONOTONIC, milliseconds */
	tn_noise_hs hs;
	tn_noise_cipher tx, rx;
	uint8_t frame[TN_NOISE_MSG_MAX];
	uint8_t pt[TN_NOISE_MSG_MAX];
} peer;

static void say_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("noise-peer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- Command line ---- */

static int unhex(const char *hex, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = strlen(hex);
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	size_t bin_len = 0;
	if (sodium_hex2bin(out, cap, hex, n, NULL, &bin_len, NULL) != 0 || bin_len != n / 2)
		return -1;
	*outlen = bin_len;
	return 0;
}

static int unhex32(const char *hex, uint8_t out[32])
{
	size_t n = 0;
	return unhex(hex, out, 32, &n) == 0 && n == 32 ? 0 : -1;
}

static int parse_uint(const char *s, unsigned long max, unsigned *out)
{
	char *end = NULL;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Accepts the full name or just the pattern ("XXpsk0"), like peer.js. */
static int set_pattern(opts *o, const char *name)
{
	int n;
	if (strncmp(name, "Noise_", 6) == 0)
		n = snprintf(o->pattern, sizeof o->pattern, "%s", name);
	else
		n = snprintf(o->pattern, sizeof o->pattern, "Noise_%s_25519_ChaChaPoly_BLAKE2b",
		             name);
	return n > 0 && (size_t)n < sizeof o->pattern ? 0 : -1;
}

static int parse_opt(opts *o, const char *key, const char *val, unsigned *seen)
{
	tn_noise_seckey sec;
	int rc = -1;
	if (strcmp(key, "--role") == 0) {
		*seen |= 1;
		o->initiator = strcmp(val, "initiator") == 0;
		rc = o->initiator || strcmp(val, "responder") == 0 ? 0 : -1;
	} else if (strcmp(key, "--port") == 0) {
		*seen |= 2;
		rc = parse_uint(val, 65535, &o->port);
	} else if (strcmp(key, "--static") == 0) {
		*seen |= 4;
		rc = unhex32(val, sec.b) == 0 && tn_noise_keypair_from_secret(&o->s, &sec) == TN_OK
		             ? 0
		             : -1;
	} else if (strcmp(key, "--psk") == 0) {
		*seen |= 8;
		rc = unhex32(val, o->psk.b);
	} else if (strcmp(key, "--prologue") == 0) {
		*seen |= 16;
		rc = unhex(val, o->prologue, sizeof o->prologue, &o->prologue_len);
	} else if (strcmp(key, "--count") == 0) {
		rc = parse_uint(val, COUNT_MAX, &o->count);
	} else if (strcmp(key, "--expect-remote") == 0) {
		o->has_expect = 1;
		rc = unhex32(val, o->expect.b);
	} else if (strcmp(key, "--pattern") == 0) {
		rc = set_pattern(o, val);
	}
	sodium_memzero(&sec, sizeof sec);
	if (rc != 0)
		say_err("bad option %s", key);
	return rc;
}

static int parse_args(opts *o, int argc, char **argv)
{
	static const char *const names[] = {"--role", "--port", "--static", "--psk", "--prologue"};
	unsigned seen = 0;
	o->count = COUNT_DEFAULT;
	if (set_pattern(o, DEFAULT_PATTERN) != 0)
		return -1;
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc) {
			say_err("option %s needs a value", argv[i]);
			return -1;
		}
		if (parse_opt(o, argv[i], argv[i + 1], &seen) != 0)
			return -1;
	}
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(seen & (1u << i))) {
			say_err("missing %s", names[i]);
			return -1;
		}
	}
	return 0;
}

/* ---- Sockets with one deadline ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(const peer *p, int fd, short events)
{
	for (;;) {
		int64_t left = p->deadline - now_ms();
		if (left <= 0) {
			say_err("timed out");
			return -1;
		}
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			say_err("poll: %s", strerror(errno));
			return -1;
		}
	}
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

static int write_all(peer *p, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(p->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(p, p->fd, POLLOUT) != 0)
				return -1;
		} else if (n < 0 && errno != EINTR) {
			say_err("send: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Read exactly len bytes. Returns 0, 1 on end of stream before the first
 * byte (when eof_ok), or -1. */
static int read_exact(peer *p, uint8_t *buf, size_t len, int eof_ok)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(p->fd, buf + got, len - got, 0);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0) {
			if (got == 0 && eof_ok)
				return 1;
			say_err("connection closed %s", got ? "inside a frame" : "early");
			return -1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(p, p->fd, POLLIN) != 0)
				return -1;
		} else if (errno != EINTR) {
			say_err("recv: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* One frame: 2-byte big-endian length, then that many bytes. The length is
 * at most 65535 by construction and p->frame holds that much. */
static int send_frame(peer *p, const uint8_t *msg, size_t len)
{
	uint8_t hdr[TN_FRAME_HDR] = {(uint8_t)(len >> 8), (uint8_t)len};
	if (len == 0 || len > TN_FRAME_MAX) {
		say_err("refusing to send a frame of %zu bytes", len);
		return -1;
	}
	return write_all(p, hdr, sizeof hdr) == 0 && write_all(p, msg, len) == 0 ? 0 : -1;
}

/* Returns the frame length in p->frame, 0 on a clean end of stream at a
 * frame boundary (when eof_ok), or -1. */
static long recv_frame(peer *p, int eof_ok)
{
	uint8_t hdr[TN_FRAME_HDR];
	int rc = read_exact(p, hdr, sizeof hdr, eof_ok);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	size_t len = (size_t)hdr[0] << 8 | hdr[1];
	if (len == 0) {
		say_err("framing error: empty frame");
		return -1;
	}
	if (read_exact(p, p->frame, len, 0) != 0)
		return -1;
	return (long)len;
}

static int listen_accept(peer *p)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->o.port)};
	socklen_t alen = sizeof a;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	int rc = -1;
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) != 0 || set_nonblock(ls) != 0) {
		say_err("listen on 127.0.0.1:%u: %s", p->o.port, strerror(errno));
		goto out;
	}
	printf("port %u\n", (unsigned)ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		if (wait_fd(p, ls, POLLIN) != 0)
			goto out;
		p->fd = accept(ls, NULL, NULL);
		if (p->fd >= 0)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED) {
			say_err("accept: %s", strerror(errno));
			goto out;
		}
	}
	rc = set_nonblock(p->fd);
out:
	if (ls >= 0)
		close(ls);
	return rc;
}

static int connect_to(peer *p)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->o.port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (p->fd < 0 || set_nonblock(p->fd) != 0) {
		say_err("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(p->fd, (struct sockaddr *)&a, sizeof a) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		say_err("connect to 127.0.0.1:%u: %s", p->o.port, strerror(errno));
		return -1;
	}
	if (wait_fd(p, p->fd, POLLOUT) != 0)
		return -1;
	int err = 0;
	socklen_t elen = sizeof err;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
		say_err("connect to 127.0.0.1:%u: %s", p->o.port, strerror(err ? err : errno));
		return -1;
	}
	return 0;
}

/* ---- Noise ---- */

static void os_rand(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	randombytes_buf(buf, len);
}

static int hs_start(peer *p)
{
	tn_noise_protocol proto;
	tn_err rc = tn_noise_protocol_parse(p->o.pattern, &proto);
	if (rc != TN_OK) {
		say_err("pattern %s: %s", p->o.pattern, tn_strerror(rc));
		return -1;
	}
	/* Give each key only where the pattern has one: NN sends no static,
	 * and only psk patterns take the PSK. Pre-shared remote statics (IK,
	 * KK) have no option here, so hs_init refuses those patterns. */
	const char *base = p->o.pattern + 6;
	const tn_noise_keypair *s = strncmp(base, "NN", 2) == 0 ? NULL : &p->o.s;
	const tn_noise_psk *psk = strstr(base, "psk") ? &p->o.psk : NULL;
	rc = tn_noise_hs_init(&p->hs, &proto,
	                      p->o.initiator ? TN_NOISE_INITIATOR : TN_NOISE_RESPONDER,
	                      p->o.prologue, p->o.prologue_len, s, NULL, psk);
	if (rc != TN_OK) {
		say_err("handshake init for %s: %s", p->o.pattern, tn_strerror(rc));
		return -1;
	}
	return 0;
}

/* Handshake messages carry an empty payload, as peer.js's do. */
static int hs_step(peer *p, unsigned idx)
{
	const tn_rand rand = {.fn = os_rand, .ud = NULL};
	if (tn_noise_hs_next(&p->hs) == TN_NOISE_WRITE) {
		tn_ssize n = tn_noise_hs_write(&p->hs, NULL, 0, p->frame, sizeof p->frame, &rand);
		if (n < 0) {
			say_err("handshake failed: writing message %u: %s", idx,
			        tn_strerror((int)n));
			return -1;
		}
		return send_frame(p, p->frame, (size_t)n);
	}
	long len = recv_frame(p, 0);
	if (len < 0) {
		say_err("handshake failed: no message %u", idx);
		return -1;
	}
	tn_ssize n = tn_noise_hs_read(&p->hs, p->frame, (size_t)len, p->pt, sizeof p->pt);
	if (n < 0) {
		say_err("handshake failed: reading message %u: %s", idx, tn_strerror((int)n));
		return -1;
	}
	return 0;
}

static void print_hex(const char *label, const uint8_t *b, size_t len)
{
	char hex[2 * TN_NOISE_HASH + 1];
	printf("%s %s\n", label, sodium_bin2hex(hex, sizeof hex, b, len));
}

static int handshake(peer *p)
{
	for (unsigned idx = 1;; idx++) {
		tn_noise_action next = tn_noise_hs_next(&p->hs);
		if (next == TN_NOISE_SPLIT)
			break;
		if (next != TN_NOISE_WRITE && next != TN_NOISE_READ) {
			say_err("handshake failed");
			return -1;
		}
		if (hs_step(p, idx) != 0)
			return -1;
	}
	uint8_t h[TN_NOISE_HASH];
	tn_noise_pubkey rs;
	if (tn_noise_hs_hash(&p->hs, h) != TN_OK ||
	    tn_noise_hs_split(&p->hs, &p->tx, &p->rx) != TN_OK) {
		say_err("handshake failed: split");
		return -1;
	}
	print_hex("hash", h, sizeof h);
	if (tn_noise_hs_remote_static(&p->hs, &rs) == TN_OK)
		print_hex("remote", rs.b, sizeof rs.b);
	else if (p->o.has_expect) {
		say_err("pattern gives no remote static key to check");
		return -1;
	}
	fflush(stdout);
	if (p->o.has_expect && sodium_memcmp(rs.b, p->o.expect.b, sizeof rs.b) != 0) {
		say_err("remote static key differs from --expect-remote");
		return -1;
	}
	return 0;
}

/* ---- Transport ---- */

/* The same text as peer.js's payloadFor(i), Arabic included, in UTF-8. */
static size_t payload_for(unsigned i, uint8_t out[PAYLOAD_MAX])
{
	int n = snprintf((char *)out, PAYLOAD_MAX,
	                 "interop message %u \xd8\xa7\xd9\x84\xd9\x86\xd8\xac\xd8\xaf\xd8\xa9", i);
	return n > 0 ? (size_t)n : 0;
}

static int send_sealed(peer *p, const uint8_t *pt, size_t len)
{
	tn_ssize n = tn_noise_cipher_encrypt(&p->tx, NULL, 0, pt, len, p->frame, sizeof p->frame);
	if (n < 0) {
		say_err("encrypt: %s", tn_strerror((int)n));
		return -1;
	}
	return send_frame(p, p->frame, (size_t)n);
}

/* Receive and open one transport frame into p->pt. Returns the plaintext
 * length, -2 on a clean end of stream (when eof_ok), -1 on failure. */
static long recv_sealed(peer *p, unsigned idx, int eof_ok)
{
	long len = recv_frame(p, eof_ok);
	if (len == 0)
		return -2;
	if (len < 0)
		return -1;
	tn_ssize n = tn_noise_cipher_decrypt(&p->rx, NULL, 0, p->frame, (size_t)len, p->pt,
	                                     sizeof p->pt);
	if (n < 0) {
		say_err("transport message %u rejected: %s", idx, tn_strerror((int)n));
		return -1;
	}
	return (long)n;
}

static int run_initiator(peer *p)
{
	uint8_t want[PAYLOAD_MAX];
	for (unsigned i = 0; i < p->o.count; i++) {
		size_t wlen = payload_for(i, want);
		if (send_sealed(p, want, wlen) != 0)
			return -1;
		long n = recv_sealed(p, i, 0);
		if (n < 0)
			return -1;
		if ((size_t)n != wlen || memcmp(p->pt, want, wlen) != 0) {
			say_err("echo %u differs", i);
			return -1;
		}
	}
	printf("ok %u messages\n", p->o.count);
	return 0;
}

/* Echo until the initiator hangs up at a frame boundary. */
static int run_responder(peer *p)
{
	unsigned echoed = 0;
	for (;; echoed++) {
		long n = recv_sealed(p, echoed, 1);
		if (n == -2)
			break;
		if (n < 0 || send_sealed(p, p->pt, (size_t)n) != 0)
			return -1;
	}
	printf("ok %u messages\n", echoed);
	return 0;
}

int main(int argc, char **argv)
{
	/* Keys, cipher states and both frame buffers (about 130 KiB) live in
	 * one object that the single exit path wipes. */
	peer p = {.fd = -1};
	int status = 1;
	if (sodium_init() < 0) {
		say_err("sodium_init failed");
		return 1;
	}
	if (parse_args(&p.o, argc, argv) != 0) {
		fputs("usage: noise-peer --role initiator|responder --port P --static HEX32 "
		      "--psk HEX32 --prologue HEX [--count N] [--expect-remote HEX32] "
		      "[--pattern NAME]\n",
		      stderr);
		status = EXIT_USAGE;
		goto out;
	}
	p.deadline = now_ms() + TIMEOUT_MS;
	if (hs_start(&p) != 0)
		goto out;
	if ((p.o.initiator ? connect_to(&p) : listen_accept(&p)) != 0)
		goto out;
	if (handshake(&p) != 0)
		goto out;
	if ((p.o.initiator ? run_initiator(&p) : run_responder(&p)) != 0)
		goto out;
	status = 0;
out:
	fflush(stdout);
	if (p.fd >= 0)
		close(p.fd);
	tn_noise_hs_free(&p.hs);
	tn_noise_cipher_free(&p.tx);
	tn_noise_cipher_free(&p.rx);
	sodium_memzero(&p, sizeof p);
	return status;
}
