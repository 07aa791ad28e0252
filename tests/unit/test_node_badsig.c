/* Node: bad signatures on a member's own link close it and quarantine her
 * (docs/node.md "Bad signatures and quarantine"). The victim node and a
 * peer member's raw link come from fuzz/node_fixture.h; time is a
 * variable, nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../fuzz/node_fixture.h"
#include "test_rng.h"
#include "tocsin/node.h"

static uint64_t nctr(const nf *f, tn_node_counter c)
{
	tn_node_stats st;
	tn_node_stats_get(f->node, &st);
	return st.node[c];
}

static tn_node_stats stats(const nf *f)
{
	tn_node_stats st;
	tn_node_stats_get(f->node, &st);
	return st;
}

/* A drill sealed by member `who`, seq; `bad`: one bit of its signature
 * (the envelope's last field) flipped. */
static size_t drill(nf *f, int who, uint64_t seq, bool bad, uint8_t *env)
{
	tn_alert_draft d;
	memset(&d, 0, sizeof d);
	memset(d.network_id, 0x55, TN_NETWORK_ID);
	d.seq = seq;
	d.kind = TN_KIND_DRILL;
	d.created_ms = nf_wall(f);
	d.expires_ms = d.created_ms + 3600 * 1000;
	d.epoch = 1;
	tn_alert_pt pt = nf_pt();
	test_rng r;
	tn_rand rand = test_rng_seed(&r, (uint8_t)(0x30 + seq));
	tn_ssize n = tn_alert_seal(f->id[who], &d, &f->sm.group_key, &pt, &rand, env,
	                           TN_ALERT_ENVELOPE_MAX, NULL);
	assert_true(n > 0);
	if (bad)
		env[n - 1] ^= 1;
	return (size_t)n;
}

/* The fixture's peer (NF_PEER) sends one ALERT. */
static void send_alert(nf *f, const uint8_t *env, size_t len)
{
	assert_true(nf_send_alert(f, env, len, false));
}

/* Member `who`'s raw initiator link to the victim, started (message 1
 * queued), drawing from rr seeded with seed. */
static tn_link *raw_peer(nf *f, int who, test_rng *rr, uint8_t seed)
{
	tn_link_config lc;
	tn_link_config_default(&lc);
	lc.role = TN_NOISE_INITIATOR;
	memcpy(lc.static_key.sec.b, tn_identity_link_secret(f->id[who])->b, 32);
	memcpy(lc.static_key.pub.b, tn_identity_linkpub(f->id[who])->b, 32);
	memset(lc.network_id, 0x55, TN_NETWORK_ID);
	lc.psk = f->sm.psk;
	memcpy(lc.expected_remote.b, tn_identity_linkpub(f->id[NF_VICTIM])->b, 32);
	lc.identity = f->id[who];
	lc.rand = test_rng_seed(rr, seed);
	tn_link *p;
	assert_int_equal(tn_link_new(&p, &lc), TN_OK);
	assert_int_equal(tn_link_start(p, f->now, nf_wall(f)), TN_OK);
	return p;
}

/* Member `who` dials the victim on a fresh raw link; true when the
 * handshake completed. *wrote: bytes the victim sent on it. */
static bool dial_victim(nf *f, int who, uint8_t seed, size_t *wrote)
{
	test_rng rr;
	tn_link *p = raw_peer(f, who, &rr, seed);
	uint64_t lid;
	assert_int_equal(
	        tn_node_link_open(f->node, TN_NOISE_RESPONDER, NULL, f->now, nf_wall(f), &lid),
	        TN_OK);
	*wrote = 0;
	for (int round = 0; round < 8; round++) {
		tn_ssize n;
		while ((n = tn_link_out(p, f->buf, sizeof f->buf, f->now)) > 0)
			assert_int_equal(tn_node_link_recv(f->node, lid, f->buf, (size_t)n, f->now,
			                                   nf_wall(f)),
			                 TN_OK);
		nf_events(f);
		while ((n = tn_node_link_out(f->node, lid, f->buf, sizeof f->buf, f->now)) > 0) {
			*wrote += (size_t)n;
			size_t off = 0;
			while (off < (size_t)n) {
				tn_ssize k = tn_link_recv(p, f->buf + off, (size_t)n - off, f->now,
				                          nf_wall(f));
				if (k < 0)
					break;
				off += (size_t)k;
				tn_link_event ev;
				while (tn_link_poll_event(p, &ev))
					;
			}
		}
	}
	bool up = tn_link_is_established(p);
	tn_link_del(p);
	tn_node_link_closed(f->node, lid, f->now);
	nf_events(f);
	return up;
}

/* One message 1 of NF_PEER fed to two responder links of the victim:
 * both silently refused as rej_identity (the second not as a replay). */
static void replayed_msg1_refused(nf *f, uint64_t rej_before)
{
	test_rng rr;
	tn_link *p = raw_peer(f, NF_PEER, &rr, 0xe1);
	static uint8_t m1[4096];
	tn_ssize k = tn_link_out(p, m1, sizeof m1, f->now);
	assert_true(k > 0);
	uint64_t replay0 = stats(f).link.rej_replay;
	for (int i = 0; i < 2; i++) {
		uint64_t lid;
		assert_int_equal(tn_node_link_open(f->node, TN_NOISE_RESPONDER, NULL, f->now,
		                                   nf_wall(f), &lid),
		                 TN_OK);
		assert_int_equal(
		        tn_node_link_recv(f->node, lid, m1, (size_t)k, f->now, nf_wall(f)), TN_OK);
		assert_int_equal(tn_node_link_out(f->node, lid, f->buf, sizeof f->buf, f->now), 0);
		tn_node_link_closed(f->node, lid, f->now);
		nf_events(f);
	}
	assert_int_equal(stats(f).link.rej_identity, rej_before + 2);
	assert_int_equal(stats(f).link.rej_replay, replay0);
	tn_link_del(p);
}

/* The events nf_events handles, counting DIALs per member. */
static void events_count_dials(nf *f, size_t dials[NF_N])
{
	tn_node_event ev;
	while (tn_node_poll_event(f->node, &ev)) {
		if (ev.type == TN_NODE_EV_STORE_ALERT) {
			uint8_t id[TN_ALERT_ID];
			memcpy(id, ev.alert_id, sizeof id);
			assert_int_equal(tn_node_stored(f->node, id, true, f->now, nf_wall(f)), TN_OK);
		} else if (ev.type == TN_NODE_EV_DIAL) {
			for (int i = 0; i < NF_N; i++)
				if (tn_pubkey_eq(&ev.member, tn_identity_pubkey(f->id[i])))
					dials[i]++;
			tn_pubkey m = ev.member;
			tn_node_dial_failed(f->node, &m, f->now);
		}
	}
}

/* Run the victim for `secs` seconds in 5 s steps, counting its dials; it
 * never asks to be woken in the past (no busy loop while she waits). */
static void run_counting(nf *f, int secs, size_t dials[NF_N])
{
	for (int t = 0; t < secs; t += 5) {
		f->now += 5 * TN_SEC;
		tn_node_tick(f->node, f->now, nf_wall(f));
		events_count_dials(f, dials);
		assert_true(tn_node_next_deadline(f->node) > f->now);
	}
}

/* The peer floods drills that claim another author (each under that
 * author's budget) with garbage signatures: honest alerts before are
 * accepted, the link closes at the threshold, her identity is refused and
 * not dialed for 10 minutes, while another member still links; after, she
 * is accepted again. */
static void bad_signature_flood_closes_and_quarantines(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	uint8_t env[TN_ALERT_ENVELOPE_MAX];
	for (uint64_t s = 1; s <= 2; s++) {
		size_t len = drill(&f, NF_PEER, s, false, env);
		send_alert(&f, env, len);
	}
	assert_int_equal(stats(&f).alert[TN_ALERT_ACCEPTED], 2);
	uint64_t rej0 = stats(&f).link.rej_identity;
	for (uint64_t s = 1; s < 8; s++) {
		size_t len = drill(&f, NF_THIRD, s, true, env);
		send_alert(&f, env, len);
		assert_false(f.dead);
	}
	assert_int_equal(stats(&f).alert[TN_ALERT_BAD_SIGNATURE], 7);
	assert_int_equal(stats(&f).links_up, 1);
	assert_int_equal(nctr(&f, TN_NODE_C_LINK_BAD_SIG_CLOSED), 0);
	/* An honest one in the middle still passes. */
	size_t len = drill(&f, NF_PEER, 3, false, env);
	send_alert(&f, env, len);
	assert_int_equal(stats(&f).alert[TN_ALERT_ACCEPTED], 3);
	len = drill(&f, NF_THIRD, 8, true, env);
	send_alert(&f, env, len);
	assert_true(f.dead);
	assert_int_equal(stats(&f).alert[TN_ALERT_BAD_SIGNATURE], 8);
	assert_int_equal(nctr(&f, TN_NODE_C_LINK_BAD_SIG_CLOSED), 1);
	assert_int_equal(nctr(&f, TN_NODE_C_QUARANTINED), 1);
	assert_int_equal(stats(&f).links_up, 0);
	/* The link said CLOSE(protocol) to her before it went. */
	tn_ssize n = tn_node_link_out(f.node, f.lid, f.buf, sizeof f.buf, f.now);
	assert_true(n > 0);
	assert_true(tn_link_recv(f.peer, f.buf, (size_t)n, f.now, nf_wall(&f)) > 0);
	tn_link_event ev;
	bool closed = false;
	while (tn_link_poll_event(f.peer, &ev))
		if (ev.type == TN_LINK_EV_CLOSE && ev.err == TN_ERR_CLOSED &&
		    ev.peer_reason == TN_CLOSE_PROTOCOL)
			closed = true;
	assert_true(closed);
	tn_node_link_closed(f.node, f.lid, f.now);
	/* Not dialed: a dial in flight is refused, none is started. */
	uint64_t lid;
	assert_int_equal(tn_node_link_open(f.node, TN_NOISE_INITIATOR, tn_identity_pubkey(f.id[NF_PEER]),
	                                   f.now, nf_wall(&f), &lid),
	                 TN_ERR_STATE);
	size_t dials[NF_N] = {0};
	run_counting(&f, 9 * 60, dials);
	assert_int_equal(dials[NF_PEER], 0);
	assert_true(dials[NF_THIRD] > 0); /* the rest of the mesh is dialed */
	/* Her redial: refused at message 1, not a byte back. */
	size_t wrote;
	assert_false(dial_victim(&f, NF_PEER, 0xb1, &wrote));
	assert_int_equal(wrote, 0);
	assert_int_equal(stats(&f).link.rej_identity, rej0 + 1);
	assert_true(nctr(&f, TN_NODE_C_QUARANTINE_REFUSED) >= 2);
	/* Refused before the replay cache and her signature are checked: the
	 * same message 1 twice is refused twice, never as a replay. */
	replayed_msg1_refused(&f, rej0 + 1);
	/* Another member's link is unaffected. */
	assert_true(dial_victim(&f, NF_THIRD, 0xb2, &wrote));
	assert_true(wrote > 0);
	/* After 10 minutes she is back. */
	run_counting(&f, 65, dials);
	assert_true(dial_victim(&f, NF_PEER, 0xb3, &wrote));
	assert_int_equal(stats(&f).link.rej_identity, rej0 + 3);
	nf_free(&f);
}

/* The fixture's peer link again (after a close), kept open. */
static void relink(nf *f, uint8_t seed)
{
	tn_link_del(f->peer);
	f->peer = raw_peer(f, NF_PEER, &f->rng[NF_N + 1], seed);
	assert_int_equal(
	        tn_node_link_open(f->node, TN_NOISE_RESPONDER, NULL, f->now, nf_wall(f), &f->lid),
	        TN_OK);
	f->dead = false;
	nf_flush(f);
	assert_true(tn_link_is_established(f->peer));
}

/* Eight bad drills claiming NF_THIRD: the link closes. */
static void flood(nf *f, uint64_t *seq)
{
	uint8_t env[TN_ALERT_ENVELOPE_MAX];
	for (int i = 0; i < 8; i++) {
		size_t len = drill(f, NF_THIRD, ++*seq, true, env);
		send_alert(f, env, len);
	}
	assert_true(f->dead);
	tn_node_link_closed(f->node, f->lid, f->now);
}

/* A few bad signatures spread over more than the window never close the
 * link; a repeat within a day doubles the quarantine. */
static void repeat_doubles_and_window_slides(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	uint8_t env[TN_ALERT_ENVELOPE_MAX];
	uint64_t seq = 0;
	/* 7 per minute for 3 minutes: below the threshold in every window. */
	for (int minute = 0; minute < 3; minute++) {
		for (int i = 0; i < 7; i++) {
			size_t len = drill(&f, NF_THIRD, ++seq, true, env);
			send_alert(&f, env, len);
		}
		f.now += 61 * TN_SEC;
		tn_node_tick(f.node, f.now, nf_wall(&f));
		nf_flush(&f);
	}
	assert_false(f.dead);
	assert_int_equal(stats(&f).alert[TN_ALERT_BAD_SIGNATURE], 21);
	assert_int_equal(nctr(&f, TN_NODE_C_LINK_BAD_SIG_CLOSED), 0);
	flood(&f, &seq);
	assert_int_equal(nctr(&f, TN_NODE_C_QUARANTINED), 1);
	size_t wrote, dials[NF_N] = {0};
	run_counting(&f, 10 * 60 - 5, dials);
	assert_int_equal(dials[NF_PEER], 0);
	run_counting(&f, 10, dials);
	relink(&f, 0xd0);
	flood(&f, &seq);
	assert_int_equal(nctr(&f, TN_NODE_C_LINK_BAD_SIG_CLOSED), 2);
	assert_int_equal(nctr(&f, TN_NODE_C_QUARANTINED), 2);
	run_counting(&f, 10 * 60 + 5, dials);
	assert_false(dial_victim(&f, NF_PEER, 0xc2, &wrote)); /* second time: 20 min */
	assert_int_equal(wrote, 0);
	run_counting(&f, 10 * 60, dials);
	assert_true(dial_victim(&f, NF_PEER, 0xc3, &wrote));
	nf_free(&f);
}

/* Receipts are forwarded unverified along the reverse path, so a peer
 * relaying forged receipts is not to blame: the author counts them
 * (receipt bad_signature) and the link stays. */
static void forged_receipts_do_not_close(void **state)
{
	(void)state;
	nf f;
	assert_int_equal(nf_init(&f), 0);
	for (int i = 0; i < 20; i++) {
		tn_receipt c;
		memset(&c, 0, sizeof c);
		memset(c.network_id, 0x55, TN_NETWORK_ID);
		memcpy(c.alert_id, f.own_id, TN_ALERT_ID);
		memcpy(c.receiver, tn_identity_pubkey(f.id[NF_THIRD])->b, TN_PUBKEY);
		c.stored_ms = NF_WALL + (uint64_t)i;
		memset(c.signature, 0xa5 ^ i, TN_SIG); /* garbage */
		uint8_t r[TN_RECEIPT_MAX];
		tn_ssize rl = tn_receipt_encode(&c, r, sizeof r);
		assert_true(rl > 0);
		tn_link_msg m;
		memset(&m, 0, sizeof m);
		m.type = TN_LINK_RECEIPTS;
		tn_view v = {r, (size_t)rl};
		m.receipts = &v;
		m.count = 1;
		uint8_t b[TN_LINK_PLAINTEXT_MAX];
		tn_ssize n = tn_link_encode(&m, b, sizeof b);
		assert_true(n > 0);
		nf_send(&f, b, (size_t)n, false);
	}
	assert_false(f.dead);
	assert_true(stats(&f).receipt[TN_RECEIPT_BAD_SIGNATURE] >= 8);
	assert_int_equal(nctr(&f, TN_NODE_C_LINK_BAD_SIG_CLOSED), 0);
	assert_int_equal(nctr(&f, TN_NODE_C_QUARANTINED), 0);
	assert_int_equal(stats(&f).links_up, 1);
	nf_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(bad_signature_flood_closes_and_quarantines),
	        cmocka_unit_test(repeat_doubles_and_window_slides),
	        cmocka_unit_test(forged_receipts_do_not_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
