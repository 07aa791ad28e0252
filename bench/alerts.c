/* Alert accept + forward throughput on one core, through the real node code
 * path, against libsodium's Ed25519 verify rate (DESIGN §11: figures, never
 * assertions; the target is a ratio >= 0.30).
 *
 * A tn_node (static membership, default config) holds D established links,
 * each to a peer that is a real tn_link (the peers are initiators, the node
 * the responder, full XXpsk0 handshakes). AUTHORS members other than the node
 * and its peers each sign SEQS distinct drills (chatter: within the per-author
 * burst of 20, so none is rate limited). In a batch the peers take turns to
 * send those alerts as ALERT link messages, one message per link frame; the
 * bytes are encrypted by the peers BEFORE the clock starts. Timed, per alert:
 *   tn_node_link_recv (link frame decrypt, ALERT decode, tn_alert_check:
 *   cheap checks, index lookup, rate limit, Ed25519 verify, index insert)
 *   -> STORE_ALERT polled, tn_node_stored(ok) (the daemon's commit is not
 *   counted) -> forwarded to the D-1 other links, receipt signed and batched
 *   toward the source, NOTIFY polled (plaintext opened with the group key)
 *   -> tn_node_link_out on every link until dry (frames encrypted; the bytes
 *   are discarded, the peers' decryption is theirs, not the node's).
 * Every batch starts from a fresh node (outside the clock: handshakes,
 * digests) so the index never fills; the bench checks every alert was
 * accepted and forwarded D-1 times, and every receipt signed.
 *
 * Interleaved with the batches, in slices of the same length, the
 * reference: crypto_sign_verify_detached on a message as long as an alert's
 * signed range. Both figures see the same background load.
 *
 *   build/bench/alerts [D]      (D = links, default 5) */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench.h"
#include "tocsin/alert.h"
#include "tocsin/codec.h"
#include "tocsin/link.h"
#include "tocsin/node.h"
#include "tocsin/static_membership.h"

#define WALL   UINT64_C(1782000000000)
#define T0     (1000 * TN_SEC)
#define RUN_NS 2000000000.0 /* each figure: about two seconds in total */

enum {
	AUTHORS = 200,
	SEQS = 16, /* < chatter burst 20 */
	ALERTS = AUTHORS * SEQS,
	LINKS_MAX = 16,
	BUF = 70000,
};

static const tn_rand RAND = {.fn = os_rand, .ud = NULL};

typedef struct world {
	size_t d;
	tn_identity *node_id;
	tn_identity *peer_id[LINKS_MAX];
	tn_identity *author[AUTHORS];
	tn_static_membership sm;
	uint8_t network_id[TN_NETWORK_ID];
	uint8_t *env[ALERTS]; /* the signed envelopes */
	size_t env_len[ALERTS];
	size_t env_total; /* bytes of all envelopes */
} world;

typedef struct batch {
	tn_node *node;
	tn_link *peer[LINKS_MAX];
	uint64_t lid[LINKS_MAX];
	uint8_t *frames; /* ALERTS encrypted link frames back to back */
	size_t off[ALERTS + 1];
	size_t frame_bytes; /* bytes the node decrypts in the timed part */
} batch;

static uint8_t scratch[BUF];

static void world_init(world *w, size_t d)
{
	memset(w, 0, sizeof *w);
	w->d = d;
	randombytes_buf(w->network_id, sizeof w->network_id);
	if (tn_static_membership_init(&w->sm, 1 + d + AUTHORS) != TN_OK)
		die("membership", 0);
	randombytes_buf(w->sm.group_key.b, sizeof w->sm.group_key.b);
	randombytes_buf(w->sm.psk.b, sizeof w->sm.psk.b);
	tn_identity **all[1 + LINKS_MAX + AUTHORS];
	size_t n = 0;
	all[n++] = &w->node_id;
	for (size_t i = 0; i < d; i++)
		all[n++] = &w->peer_id[i];
	for (size_t i = 0; i < AUTHORS; i++)
		all[n++] = &w->author[i];
	for (size_t i = 0; i < n; i++) {
		tn_err rc = tn_identity_new(all[i], &RAND);
		if (rc != TN_OK)
			die("identity", rc);
		rc = tn_static_membership_add(&w->sm, tn_identity_pubkey(*all[i]),
		                              tn_identity_linkpub(*all[i]), TN_ALERT_AUTHOR_MEMBER,
		                              "m", NULL);
		if (rc != TN_OK)
			die("member", rc);
	}
	tn_alert_pt pt;
	memset(&pt, 0, sizeof pt);
	pt.severity = TN_SEV_HIGH;
	pt.violation = TN_VIOL_RAID;
	pt.has_text = true;
	static const char text[] = "Checkpoint on the north road, two vehicles, avoid it";
	pt.text = (tn_view){(const uint8_t *)text, sizeof text - 1};
	for (size_t a = 0; a < AUTHORS; a++) {
		for (size_t s = 0; s < SEQS; s++) {
			tn_alert_draft dr;
			memset(&dr, 0, sizeof dr);
			memcpy(dr.network_id, w->network_id, TN_NETWORK_ID);
			dr.seq = s + 1;
			dr.kind = TN_KIND_DRILL;
			dr.created_ms = WALL;
			dr.expires_ms = WALL + 3600 * 1000;
			dr.epoch = 1;
			uint8_t env[TN_ALERT_ENVELOPE_MAX];
			tn_ssize len = tn_alert_seal(w->author[a], &dr, &w->sm.group_key, &pt, &RAND,
			                             env, sizeof env, NULL);
			if (len < 0)
				die("seal", (long)len);
			size_t i = a * SEQS + s;
			w->env[i] = malloc((size_t)len);
			if (!w->env[i])
				die("malloc", 0);
			memcpy(w->env[i], env, (size_t)len);
			w->env_len[i] = (size_t)len;
			w->env_total += (size_t)len;
		}
	}
}

static void world_free(world *w)
{
	for (size_t i = 0; i < ALERTS; i++)
		free(w->env[i]);
	for (size_t i = 0; i < AUTHORS; i++)
		tn_identity_del(w->author[i]);
	for (size_t i = 0; i < w->d; i++)
		tn_identity_del(w->peer_id[i]);
	tn_identity_del(w->node_id);
	tn_static_membership_free(&w->sm);
}

static uint64_t wall(tn_time now)
{
	return WALL + (now - T0) / TN_MSEC;
}

/* The node's events: commit every store at once; ignore the rest (NOTIFY
 * plaintexts are opened by the poll itself). */
static void events(tn_node *node, tn_time now)
{
	tn_node_event ev;
	while (tn_node_poll_event(node, &ev)) {
		if (ev.type == TN_NODE_EV_STORE_ALERT) {
			uint8_t id[TN_ALERT_ID];
			memcpy(id, ev.alert_id, sizeof id);
			tn_err rc = tn_node_stored(node, id, true, now, wall(now));
			if (rc != TN_OK)
				die("stored", rc);
		}
	}
}

/* Move bytes between the node and peer i, both ways, until quiet (setup only). */
static void converse(batch *b, size_t i, tn_time now)
{
	for (int round = 0; round < 64; round++) {
		bool any = false;
		tn_ssize n;
		while ((n = tn_link_out(b->peer[i], scratch, sizeof scratch, now)) > 0) {
			any = true;
			tn_err rc = tn_node_link_recv(b->node, b->lid[i], scratch, (size_t)n, now,
			                              wall(now));
			if (rc != TN_OK)
				die("node recv (setup)", rc);
			events(b->node, now);
		}
		while ((n = tn_node_link_out(b->node, b->lid[i], scratch, sizeof scratch, now)) > 0) {
			any = true;
			size_t off = 0;
			while (off < (size_t)n) {
				tn_ssize r = tn_link_recv(b->peer[i], scratch + off, (size_t)n - off,
				                          now, wall(now));
				if (r < 0)
					die("peer recv (setup)", (long)r);
				off += (size_t)r;
				tn_link_event lev;
				while (tn_link_poll_event(b->peer[i], &lev))
					;
			}
		}
		events(b->node, now);
		if (!any)
			return;
	}
}

/* A fresh node with d established links, and every alert encrypted by its
 * peer into a frame (outside the clock). */
static void batch_new(batch *b, const world *w, tn_time now)
{
	memset(b, 0, sizeof *b);
	tn_node_config c;
	tn_node_config_default(&c);
	c.identity = w->node_id;
	memcpy(c.network_id, w->network_id, TN_NETWORK_ID);
	c.membership = tn_static_membership_ops();
	c.membership_ud = (void *)&w->sm;
	c.rand = RAND;
	tn_err rc = tn_node_new(&b->node, &c);
	if (rc != TN_OK)
		die("node", rc);
	tn_node_tick(b->node, now, wall(now));
	events(b->node, now);
	for (size_t i = 0; i < w->d; i++) {
		tn_link_config lc;
		tn_link_config_default(&lc);
		lc.role = TN_NOISE_INITIATOR;
		memcpy(lc.static_key.sec.b, tn_identity_link_secret(w->peer_id[i])->b, 32);
		memcpy(lc.static_key.pub.b, tn_identity_linkpub(w->peer_id[i])->b, 32);
		memcpy(lc.network_id, w->network_id, TN_NETWORK_ID);
		lc.psk = w->sm.psk;
		memcpy(lc.expected_remote.b, tn_identity_linkpub(w->node_id)->b, 32);
		lc.identity = w->peer_id[i]; /* message 1 names and signs for the initiator */
		lc.rand = RAND;
		if ((rc = tn_link_new(&b->peer[i], &lc)) != TN_OK ||
		    (rc = tn_link_start(b->peer[i], now, wall(now))) != TN_OK)
			die("peer link", rc);
		rc = tn_node_link_open(b->node, TN_NOISE_RESPONDER, NULL, now, wall(now), &b->lid[i]);
		if (rc != TN_OK)
			die("link open", rc);
		converse(b, i, now);
		if (!tn_link_is_established(b->peer[i]))
			die("handshake", (long)i);
	}
	tn_node_stats st;
	tn_node_stats_get(b->node, &st);
	if (st.links_up != w->d)
		die("links up", (long)st.links_up);
	/* The digests of link up are answered; now the frames. */
	b->frames = malloc(w->env_total + ALERTS * 128);
	if (!b->frames)
		die("malloc", 0);
	size_t off = 0;
	for (size_t k = 0; k < ALERTS; k++) {
		/* Interleave authors: alert k is author k % AUTHORS, seq k / AUTHORS. */
		size_t i = (k % AUTHORS) * SEQS + k / AUTHORS;
		tn_link_msg m;
		memset(&m, 0, sizeof m);
		m.type = TN_LINK_ALERT;
		m.record = (tn_view){w->env[i], w->env_len[i]};
		uint8_t msg[TN_LINK_PLAINTEXT_MAX];
		tn_ssize n = tn_link_encode(&m, msg, sizeof msg);
		if (n < 0)
			die("encode", (long)n);
		tn_link *p = b->peer[k % w->d];
		if ((rc = tn_link_send(p, msg, (size_t)n, TN_LINK_SEND_NORMAL, now)) != TN_OK)
			die("peer send", rc);
		b->off[k] = off;
		tn_ssize got;
		while ((got = tn_link_out(p, b->frames + off, w->env_total + ALERTS * 128 - off,
		                          now)) > 0)
			off += (size_t)got;
		if (got < 0)
			die("peer out", (long)got);
	}
	b->off[ALERTS] = off;
	b->frame_bytes = off;
}

static void batch_free(batch *b, size_t d)
{
	tn_node_del(b->node);
	for (size_t i = 0; i < d; i++)
		tn_link_del(b->peer[i]);
	free(b->frames);
}

/* The timed part: every frame into the node, stores committed, every link
 * drained. Returns the nanoseconds spent. */
static double batch_run(batch *b, size_t d, tn_time now)
{
	double t = now_ns();
	for (size_t k = 0; k < ALERTS; k++) {
		size_t src = k % d;
		tn_err rc = tn_node_link_recv(b->node, b->lid[src], b->frames + b->off[k],
		                              b->off[k + 1] - b->off[k], now, wall(now));
		if (rc != TN_OK)
			die("node recv", rc);
		events(b->node, now);
		for (size_t i = 0; i < d; i++) {
			tn_ssize n;
			while ((n = tn_node_link_out(b->node, b->lid[i], scratch, sizeof scratch,
			                             now)) > 0)
				;
			if (n < 0)
				die("node out", (long)n);
		}
	}
	/* Flush the receipt batches still waiting for their delay. */
	now += TN_SEC;
	tn_node_tick(b->node, now, wall(now));
	events(b->node, now);
	for (size_t i = 0; i < d; i++)
		while (tn_node_link_out(b->node, b->lid[i], scratch, sizeof scratch, now) > 0)
			;
	return now_ns() - t;
}

static void batch_check(const batch *b, size_t d, uint64_t *tx_before)
{
	tn_node_stats st;
	tn_node_stats_get(b->node, &st);
	if (st.alert[TN_ALERT_ACCEPTED] != ALERTS)
		die("every alert accepted", (long)st.alert[TN_ALERT_ACCEPTED]);
	uint64_t tx = st.node[TN_NODE_C_ALERT_TX] - *tx_before;
	if (tx != (uint64_t)ALERTS * (d - 1))
		die("every alert forwarded d-1 times", (long)tx);
	if (st.receipt[TN_RECEIPT_SENT] != ALERTS)
		die("every receipt signed", (long)st.receipt[TN_RECEIPT_SENT]);
}

int main(int argc, char **argv)
{
	size_t d = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5;
	if (d < 2 || d > LINKS_MAX) {
		fprintf(stderr, "usage: alerts [links 2..%d]\n", LINKS_MAX);
		return 2;
	}
	if (sodium_init() < 0)
		die("sodium_init", 0);
	world w;
	world_init(&w, d);

	/* The reference: Ed25519 verify of a signature over as many bytes as
	 * an alert's signed range (its envelope less the 64-byte signature). */
	size_t vlen = w.env_len[0] - crypto_sign_BYTES;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t sig[crypto_sign_BYTES];
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, w.env[0], vlen, sk);

	double alert_ns = 0, verify_ns = 0, frame_bytes = 0;
	uint64_t alerts = 0, verifies = 0;
	tn_time now = T0;
	while (alert_ns < RUN_NS || verify_ns < RUN_NS) {
		batch b;
		batch_new(&b, &w, now);
		tn_node_stats st;
		tn_node_stats_get(b.node, &st);
		uint64_t tx0 = st.node[TN_NODE_C_ALERT_TX];
		double slice = batch_run(&b, d, now);
		batch_check(&b, d, &tx0);
		alert_ns += slice;
		alerts += ALERTS;
		frame_bytes += (double)b.frame_bytes;
		batch_free(&b, d);
		/* the same time for the reference */
		double t = now_ns(), end = t + slice;
		while (t < end) {
			for (int i = 0; i < 16; i++)
				if (crypto_sign_verify_detached(sig, w.env[0], vlen, pk) != 0)
					die("verify", 0);
			verifies += 16;
			t = now_ns();
		}
		verify_ns += slice;
		now += 10 * TN_SEC;
	}
	double ar = (double)alerts / (alert_ns / 1e9);
	double vr = (double)verifies / (verify_ns / 1e9);
	printf("links (D)                                        %zu\n", d);
	printf("authors x seqs per batch                         %d x %d (drills, %zu-byte envelopes)\n",
	       AUTHORS, SEQS, w.env_len[0]);
	printf("alerts accepted + forwarded/s (node path)        %.0f\n", ar);
	printf("  forwards/s (D-1 per alert)                     %.0f\n", ar * (double)(d - 1));
	printf("  link bytes decrypted/s                         %.0f\n",
	       frame_bytes / (alert_ns / 1e9));
	printf("crypto_sign_verify_detached/s (%zu bytes)         %.0f\n", vlen, vr);
	printf("ratio (target >= 0.30)                           %.3f\n", ar / vr);
	world_free(&w);
	return 0;
}
