/* Noise core throughput on one core (DESIGN §11: figures, never assertions).
 *
 * Prints, each measured for about one second of CLOCK_MONOTONIC time:
 *   (a) full XXpsk0 handshakes/s, both sides in this process: init, the three
 *       messages, split on both sides (ephemerals from randombytes_buf);
 *   (b) transport encrypt + decrypt of 1 KiB messages through tn_noise_cipher
 *       (one initiator tx, one responder rx), in MB/s of plaintext;
 *   (b') encrypt only through tn_noise_cipher;
 *   (c) libsodium's raw crypto_aead_chacha20poly1305_ietf_encrypt on 1 KiB;
 *   (d) X25519 crypto_scalarmult/s and crypto_scalarmult_base/s, to set (a)
 *       against: an XX handshake is ee, es, se on each side (6 variable-base
 *       scalar multiplications) plus one ephemeral key per side (2 fixed-base);
 *   (e) full tn_link handshakes/s, both sides in this process: what a
 *       daemon pays per link (framing, payloads, message-1 checks, replay
 *       cache, split), from tn_link_new to ESTABLISHED on both sides.
 * MB is 10^6 bytes. Single-threaded; pin it with taskset for steadier figures. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench.h"
#include "tocsin/link.h"
#include "tocsin/noise.h"

#define PROTOCOL_NAME "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"
#define RUN_NS        1000000000.0 /* each figure: about one second */

enum {
	MSG_LEN = 1024,
	HS_BUF = 256, /* XXpsk0 messages with empty payloads: 48, 96, 64 bytes */
	BATCH = 16,   /* AEAD calls between clock reads (cheap, but not free next to one) */
};

typedef struct pair {
	tn_noise_protocol proto;
	tn_noise_keypair is, rs;
	tn_noise_psk psk;
	uint8_t prologue[24];
} pair;

static void pair_init(pair *p)
{
	tn_noise_seckey a, b;
	memset(a.b, 0x11, sizeof a.b);
	memset(b.b, 0x22, sizeof b.b);
	memset(p->psk.b, 0x33, sizeof p->psk.b);
	memcpy(p->prologue, "tocsin/1", 8);
	memset(p->prologue + 8, 0x44, 16);
	if (tn_noise_protocol_parse(PROTOCOL_NAME, &p->proto) != TN_OK ||
	    tn_noise_keypair_from_secret(&p->is, &a) != TN_OK ||
	    tn_noise_keypair_from_secret(&p->rs, &b) != TN_OK)
		die("setup", 0);
}

/* One complete handshake; leaves the initiator's tx and the responder's rx
 * (the same key) in *itx and *rrx when they are not NULL. */
static void handshake(const pair *p, tn_noise_cipher *itx, tn_noise_cipher *rrx)
{
	const tn_rand rand = {.fn = os_rand, .ud = NULL};
	tn_noise_hs i, r;
	tn_noise_cipher c[4];
	uint8_t m[HS_BUF];
	tn_ssize n;
	if (tn_noise_hs_init(&i, &p->proto, TN_NOISE_INITIATOR, p->prologue, sizeof p->prologue,
	                     &p->is, NULL, &p->psk) != TN_OK ||
	    tn_noise_hs_init(&r, &p->proto, TN_NOISE_RESPONDER, p->prologue, sizeof p->prologue,
	                     &p->rs, NULL, &p->psk) != TN_OK)
		die("hs_init", 0);
	/* -> psk, e */
	if ((n = tn_noise_hs_write(&i, NULL, 0, m, sizeof m, &rand)) < 0 ||
	    (n = tn_noise_hs_read(&r, m, (size_t)n, NULL, 0)) < 0)
		die("message 1", n);
	/* <- e, ee, s, es */
	if ((n = tn_noise_hs_write(&r, NULL, 0, m, sizeof m, &rand)) < 0 ||
	    (n = tn_noise_hs_read(&i, m, (size_t)n, NULL, 0)) < 0)
		die("message 2", n);
	/* -> s, se */
	if ((n = tn_noise_hs_write(&i, NULL, 0, m, sizeof m, &rand)) < 0 ||
	    (n = tn_noise_hs_read(&r, m, (size_t)n, NULL, 0)) < 0)
		die("message 3", n);
	if (tn_noise_hs_split(&i, &c[0], &c[1]) != TN_OK ||
	    tn_noise_hs_split(&r, &c[2], &c[3]) != TN_OK)
		die("split", 0);
	if (itx)
		*itx = c[0];
	if (rrx)
		*rrx = c[3];
	tn_noise_hs_free(&i);
	tn_noise_hs_free(&r);
	for (size_t k = 0; k < 4; k++)
		tn_noise_cipher_free(&c[k]);
}

/* The figures are measured interleaved: each task runs for SLICE_NS in
 * turn until every one has had RUN_NS in total. On a machine shared with
 * other work, the load then hits all of them alike and the ratios printed
 * below stay meaningful even when the absolute figures move. */
typedef struct task {
	void (*batch)(void *ctx); /* does per_batch operations */
	void *ctx;
	unsigned per_batch;
	unsigned long ops;
	double ns;
} task;

#define SLICE_NS 50e6

static void run_interleaved(task *t, size_t n)
{
	for (int busy = 1; busy;) {
		busy = 0;
		for (size_t i = 0; i < n; i++) {
			if (t[i].ns >= RUN_NS)
				continue;
			double t0 = now_ns(), t1;
			do {
				t[i].batch(t[i].ctx);
				t[i].ops += t[i].per_batch;
			} while ((t1 = now_ns()) - t0 < SLICE_NS);
			t[i].ns += t1 - t0;
			busy = 1;
		}
	}
}

static double rate(const task *t)
{
	return (double)t->ops * 1e9 / t->ns;
}

static void batch_handshake(void *ctx)
{
	handshake(ctx, NULL, NULL);
}

/* (e): one link pair per handshake, as a daemon creates them. */
#define LINK_WALL_MS UINT64_C(1750000000000)

typedef struct link_bench {
	tn_link_config ci, cr;
	tn_replay_cache *replay;
	tn_identity *id;
} link_bench;

/* The roster lookup stands in for the node's (an O(1) role check there). */
static bool bench_member(void *ud, const tn_pubkey *identity, tn_link_psk_used psk,
                         const tn_noise_pubkey *link_static)
{
	const link_bench *b = ud;
	(void)psk;
	return tn_pubkey_eq(identity, tn_identity_pubkey(b->id)) &&
	       (!link_static || sodium_memcmp(link_static->b, b->ci.static_key.pub.b, 32) == 0);
}

static void link_bench_init(link_bench *b, const pair *p)
{
	const tn_rand rand = {.fn = os_rand, .ud = NULL};
	tn_link_config_default(&b->ci);
	b->ci.role = TN_NOISE_INITIATOR;
	b->ci.static_key = p->is;
	memcpy(b->ci.network_id, p->prologue + 8, TN_NETWORK_ID);
	b->ci.psk = p->psk;
	b->ci.expected_remote = p->rs.pub;
	b->ci.rand = rand;
	if (tn_identity_new(&b->id, &rand) != TN_OK)
		die("identity", 0);
	b->ci.identity = b->id;
	b->cr = b->ci;
	b->cr.role = TN_NOISE_RESPONDER;
	b->cr.static_key = p->rs;
	b->cr.member = bench_member;
	b->cr.member_ud = b;
	if (tn_replay_cache_new(&b->replay, 0) != TN_OK)
		die("replay cache", 0);
	b->cr.replay = b->replay;
}

/* Move what `from` has to write into `to`; true if anything moved. */
static bool link_pump(tn_link *from, tn_link *to, tn_time now)
{
	uint8_t buf[512];
	tn_ssize n = tn_link_out(from, buf, sizeof buf, now);
	if (n < 0)
		die("tn_link_out", n);
	if (n > 0 && tn_link_recv(to, buf, (size_t)n, now, LINK_WALL_MS) != n)
		die("tn_link_recv", 0);
	return n > 0;
}

static void batch_link_handshake(void *ctx)
{
	link_bench *b = ctx;
	tn_link *i = NULL, *r = NULL;
	tn_time now = TN_SEC;
	if (tn_link_new(&i, &b->ci) != TN_OK || tn_link_new(&r, &b->cr) != TN_OK ||
	    tn_link_start(i, now, LINK_WALL_MS) != TN_OK ||
	    tn_link_start(r, now, LINK_WALL_MS) != TN_OK)
		die("link setup", 0);
	for (bool moved = true; moved;) {
		moved = link_pump(i, r, now);
		moved = link_pump(r, i, now) || moved;
	}
	if (!tn_link_is_established(i) || !tn_link_is_established(r))
		die("link handshake", 0);
	tn_link_del(i);
	tn_link_del(r);
}

typedef struct transport {
	tn_noise_cipher tx, rx;
	uint8_t pt[MSG_LEN], ct[MSG_LEN + TN_NOISE_TAG], out[MSG_LEN];
} transport;

static void batch_seal(void *ctx)
{
	transport *x = ctx;
	for (unsigned k = 0; k < BATCH; k++) {
		tn_ssize n = tn_noise_cipher_encrypt(&x->tx, NULL, 0, x->pt, sizeof x->pt, x->ct,
		                                     sizeof x->ct);
		if (n != (tn_ssize)sizeof x->ct)
			die("encrypt", n);
	}
}

/* Each message is sealed by the initiator and opened by the responder. */
static void batch_seal_open(void *ctx)
{
	transport *x = ctx;
	for (unsigned k = 0; k < BATCH; k++) {
		tn_ssize n = tn_noise_cipher_encrypt(&x->tx, NULL, 0, x->pt, sizeof x->pt, x->ct,
		                                     sizeof x->ct);
		if (n != (tn_ssize)sizeof x->ct)
			die("encrypt", n);
		n = tn_noise_cipher_decrypt(&x->rx, NULL, 0, x->ct, sizeof x->ct, x->out,
		                            sizeof x->out);
		if (n != (tn_ssize)sizeof x->out)
			die("decrypt", n);
	}
}

typedef struct raw_aead {
	uint8_t k[crypto_aead_chacha20poly1305_ietf_KEYBYTES];
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t pt[MSG_LEN], ct[MSG_LEN + crypto_aead_chacha20poly1305_ietf_ABYTES];
} raw_aead;

static void batch_raw_seal(void *ctx)
{
	raw_aead *x = ctx;
	unsigned long long ctlen;
	for (unsigned k = 0; k < BATCH; k++) {
		/* A fresh nonce each time, as a transport would use. */
		sodium_increment(x->nonce + 4, 8);
		crypto_aead_chacha20poly1305_ietf_encrypt(x->ct, &ctlen, x->pt, sizeof x->pt, NULL,
		                                          0, NULL, x->nonce, x->k);
	}
}

typedef struct dh {
	uint8_t sk[crypto_scalarmult_SCALARBYTES], pk[crypto_scalarmult_BYTES];
	uint8_t q[crypto_scalarmult_BYTES];
} dh;

/* Each output is fed back in (as the point, or as the next scalar for the
 * fixed base), so no call can be skipped. */
static void batch_scalarmult(void *ctx)
{
	dh *x = ctx;
	if (crypto_scalarmult(x->q, x->sk, x->pk) != 0)
		die("scalarmult", 0);
	memcpy(x->pk, x->q, sizeof x->pk);
}

static void batch_scalarmult_base(void *ctx)
{
	dh *x = ctx;
	if (crypto_scalarmult_base(x->q, x->sk) != 0)
		die("scalarmult_base", 0);
	memcpy(x->sk, x->q, sizeof x->sk);
}

int main(void)
{
	pair p;
	transport seal, both;
	raw_aead raw = {{0}};
	dh dh1, dh2;
	if (sodium_init() < 0)
		die("sodium_init", 0);
	pair_init(&p);
	handshake(&p, &seal.tx, &seal.rx);
	handshake(&p, &both.tx, &both.rx);
	randombytes_buf(seal.pt, sizeof seal.pt);
	randombytes_buf(both.pt, sizeof both.pt);
	randombytes_buf(raw.k, sizeof raw.k);
	randombytes_buf(raw.pt, sizeof raw.pt);
	randombytes_buf(dh1.sk, sizeof dh1.sk);
	crypto_scalarmult_base(dh1.pk, dh1.sk);
	dh2 = dh1;
	link_bench lb;
	link_bench_init(&lb, &p);

	task hs[] = {
	        {.batch = batch_handshake, .ctx = &p, .per_batch = 1},
	        {.batch = batch_scalarmult, .ctx = &dh1, .per_batch = 1},
	        {.batch = batch_scalarmult_base, .ctx = &dh2, .per_batch = 1},
	        {.batch = batch_link_handshake, .ctx = &lb, .per_batch = 1},
	};
	task aead[] = {
	        {.batch = batch_seal_open, .ctx = &both, .per_batch = BATCH},
	        {.batch = batch_seal, .ctx = &seal, .per_batch = BATCH},
	        {.batch = batch_raw_seal, .ctx = &raw, .per_batch = BATCH},
	};
	run_interleaved(hs, sizeof hs / sizeof hs[0]);
	run_interleaved(aead, sizeof aead / sizeof aead[0]);
	if (sodium_memcmp(both.out, both.pt, sizeof both.pt) != 0)
		die("transport round trip", 0);

	double a = rate(&hs[0]), sm = rate(&hs[1]), smb = rate(&hs[2]);
	double b = rate(&aead[0]) * MSG_LEN / 1e6, b1 = rate(&aead[1]) * MSG_LEN / 1e6;
	double c = rate(&aead[2]) * MSG_LEN / 1e6;
	/* What (a) would be if its scalar multiplications were all it cost. */
	double bound = 1.0 / (6.0 / sm + 2.0 / smb);

	printf("Noise core, %s, one core, ~1 s per figure (interleaved), libsodium %s\n\n",
	       PROTOCOL_NAME, sodium_version_string());
	printf("%-58s %12s\n", "figure", "value");
	printf("%-58s %12.0f\n", "(a) XXpsk0 handshakes/s (both sides, 3 msgs + split)", a);
	printf("%-58s %12.0f\n", "(d) X25519 crypto_scalarmult/s", sm);
	printf("%-58s %12.0f\n", "    X25519 crypto_scalarmult_base/s", smb);
	printf("%-58s %12.0f\n", "    bound for (a) from X25519 alone (6 DH + 2 keygen)/s", bound);
	printf("%-58s %12.3f\n", "    ratio (a)/bound", a / bound);
	printf("%-58s %12.0f\n", "(e) tn_link handshakes/s (both sides, to ESTABLISHED)",
	       rate(&hs[3]));
	printf("%-58s %12.1f\n", "(b) tn_noise_cipher encrypt+decrypt, 1 KiB msgs, MB/s", b);
	printf("%-58s %12.1f\n", "(b') tn_noise_cipher encrypt only, 1 KiB msgs, MB/s", b1);
	printf("%-58s %12.1f\n", "(c) raw chacha20poly1305_ietf_encrypt, 1 KiB, MB/s", c);
	printf("%-58s %12.3f\n", "    ratio (b)/(c)   [(b) seals and opens each byte]", b / c);
	printf("%-58s %12.3f\n", "    ratio (b')/(c)  [cost of the wrapper on encrypt]", b1 / c);

	tn_noise_cipher_free(&seal.tx);
	tn_noise_cipher_free(&seal.rx);
	tn_noise_cipher_free(&both.tx);
	tn_noise_cipher_free(&both.rx);
	tn_replay_cache_del(lb.replay);
	tn_identity_del(lb.id);
	sodium_memzero(&lb, sizeof lb);
	sodium_memzero(&p, sizeof p);
	sodium_memzero(&raw, sizeof raw);
	sodium_memzero(&dh1, sizeof dh1);
	sodium_memzero(&dh2, sizeof dh2);
	return 0;
}
