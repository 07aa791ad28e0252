/* tn_node in roster mode against a peer speaking JOIN / ROSTER / anything
 * (docs/node.md "Roster gossip", docs/roster.md "Joining"). The first input
 * byte picks the scene:
 *   0: the victim is a coordinator; the peer is a member on a normal link
 *      (epoch PSK);
 *   1: the victim is a coordinator with one outstanding invite; the peer
 *      is a newcomer on a join link (the invite's join PSK);
 *   2: the victim is joining from that invite; the peer plays the
 *      coordinator on the join link.
 * Then records [op u8, len u16 big-endian, bytes...]:
 *   op 0: bytes are one link message the peer sends (ignored unless strict)
 *   op 1: a correctly signed JOIN for this handshake (bytes[0] & 1: from
 *         the newcomer, else from an already admitted member)
 *   op 2: ROSTER carrying real record bytes[0] % n (genesis, add member,
 *         endpoint, revoke, rekey parts, add newcomer), bytes[1..] XORed in
 *   op 3: advance time by bytes[0] seconds (+1) and tick
 * Never crash, leak or hang; abort() when an invariant breaks:
 *   - only scene 1 admits anyone, at most once (one invite, one use);
 *   - no ALERT ever reaches the alert path on a join link;
 *   - the victim's roster never holds a record that is not one of ours;
 *   - the next deadline is never in the past after a tick. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node_fixture.h"
#include "tocsin/roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FJ_COORD = 0, FJ_MEMBER = 1, FJ_NEW = 2, FJ_IDS = 3, FJ_RECS = 12 };

typedef struct fj {
	test_rng rng[FJ_IDS + 4];
	tn_identity *id[FJ_IDS];
	tn_roster *builder; /* the coordinator's records, made once per input */
	uint8_t *rec[FJ_RECS];
	size_t rlen[FJ_RECS];
	size_t nrec;
	tn_invite inv;
	tn_node *node;
	tn_link *peer;
	tn_replay_cache *cache;
	uint64_t lid;
	uint8_t scene;
	tn_time now;
	bool dead, up;
	uint8_t hs[TN_NOISE_HASH];
	uint8_t buf[70000];
} fj;

static fj F;

static uint64_t wall(const fj *f)
{
	return NF_WALL + (f->now - NF_T0) / TN_MSEC;
}

static int keep(fj *f, tn_ssize n)
{
	if (n <= 0 || f->nrec == FJ_RECS)
		return -1;
	f->rec[f->nrec] = malloc((size_t)n);
	if (!f->rec[f->nrec])
		return -1;
	memcpy(f->rec[f->nrec], f->buf, (size_t)n);
	f->rlen[f->nrec++] = (size_t)n;
	return tn_roster_add_record(f->builder, f->buf, (size_t)n) == TN_ROSTER_ACCEPTED ||
	                       f->nrec == 1
	               ? 0
	               : -1;
}

static tn_view sv(const char *s)
{
	return (tn_view){(const uint8_t *)s, strlen(s)};
}

/* Genesis, add member, endpoint, then (kept aside) revoke member + rekey. */
static int make_records(fj *f)
{
	tn_rand r = test_rng_seed(&f->rng[FJ_IDS], 0x70);
	tn_ssize n = tn_roster_make_genesis(f->id[FJ_COORD], &r, sv("net"), sv("C"), NF_WALL - 10,
	                                    f->buf, sizeof f->buf);
	if (n <= 0)
		return -1;
	tn_roster_config cfg;
	tn_roster_config_default(&cfg);
	cfg.self = f->id[FJ_COORD];
	if (tn_roster_new(&f->builder, &cfg, f->buf, (size_t)n) != TN_OK || keep(f, n))
		return -1;
	if (keep(f, tn_roster_make_add(f->builder, &r, tn_identity_pubkey(f->id[FJ_MEMBER]),
	                               tn_identity_linkpub(f->id[FJ_MEMBER]), sv("M"),
	                               TN_ROLE_MEMBER, NF_WALL - 9, f->buf, sizeof f->buf)))
		return -1;
	tn_view ep = sv("tcp:coord:1");
	if (keep(f, tn_roster_make_endpoint(f->builder, &ep, 1, NF_WALL + 86400000, NF_WALL - 8,
	                                    f->buf, sizeof f->buf)))
		return -1;
	if (keep(f, tn_roster_make_revoke(f->builder, tn_identity_pubkey(f->id[FJ_MEMBER]), sv("x"),
	                                  NF_WALL - 7, f->buf, sizeof f->buf)))
		return -1;
	tn_roster_rekey_plan plan;
	if (tn_roster_rekey_begin(f->builder, &r, &plan) != TN_OK)
		return -1;
	for (uint16_t p = 0; p < plan.parts; p++)
		if (keep(f, tn_roster_make_rekey_part(f->builder, &r, &plan, p, NF_WALL - 6, f->buf,
		                                      sizeof f->buf)))
			return -1;
	tn_roster_rekey_plan_wipe(&plan);
	/* The newcomer's admission, so scene 2 can complete a join. */
	if (keep(f, tn_roster_make_add(f->builder, &r, tn_identity_pubkey(f->id[FJ_NEW]),
	                               tn_identity_linkpub(f->id[FJ_NEW]), sv("N"), TN_ROLE_MEMBER,
	                               NF_WALL - 5, f->buf, sizeof f->buf)))
		return -1;
	tn_view iep = sv("tcp:coord:1");
	return tn_invite_new(&f->inv, &r, tn_roster_network_id(f->builder),
	                     tn_identity_linkpub(f->id[FJ_COORD]), &iep, 1, NF_WALL + 3600000,
	                     TN_ROLE_MEMBER) == TN_OK
	               ? 0
	               : -1;
}

static void events(fj *f)
{
	tn_node_event ev;
	while (tn_node_poll_event(f->node, &ev)) {
		switch (ev.type) {
		case TN_NODE_EV_STORE_ALERT:
			if (tn_node_stored(f->node, ev.alert_id, true, f->now, wall(f)) != TN_OK)
				abort();
			break;
		case TN_NODE_EV_CLOSE_LINK:
			if (ev.link_id == f->lid)
				f->dead = true;
			break;
		case TN_NODE_EV_DIAL:
			/* scene 2: connect the join link once; otherwise refuse */
			if (f->scene == 2 && !f->lid) {
				if (tn_node_link_open(f->node, TN_NOISE_INITIATOR, &ev.member,
				                      f->now, wall(f), &f->lid) != TN_OK)
					abort();
			} else {
				tn_node_dial_failed(f->node, &ev.member, f->now);
			}
			break;
		default: break;
		}
	}
}

static void peer_events(fj *f)
{
	tn_link_event lev;
	while (tn_link_poll_event(f->peer, &lev))
		if (lev.type == TN_LINK_EV_ESTABLISHED) {
			f->up = true;
			memcpy(f->hs, lev.hs_hash, sizeof f->hs);
		}
}

static void events_ud(void *ud)
{
	events(ud);
}

static void peer_events_ud(void *ud)
{
	peer_events(ud);
}

static void flush(fj *f)
{
	for (int round = 0; round < 256; round++) {
		events(f);
		if (!f->lid)
			return;
		nf_wire w = NF_WIRE(f, events_ud, peer_events_ud);
		bool any = nf_exchange(&w, f->now, wall(f));
		events(f);
		if (!any)
			return;
	}
}

/* The harness's responder stands in for a coordinator that admits
 * whoever holds the PSK it was given (here the joiner's invite PSK). */
static bool admit_any(void *ud, const tn_pubkey *identity, tn_link_psk_used psk,
                      const tn_noise_pubkey *link_static)
{
	(void)ud, (void)identity, (void)psk, (void)link_static;
	return true;
}

static int peer_new(fj *f, int who, const tn_noise_psk *psk, tn_noise_role role)
{
	tn_link_config lc;
	tn_link_config_default(&lc);
	lc.role = role;
	memcpy(lc.static_key.sec.b, tn_identity_link_secret(f->id[who])->b, 32);
	memcpy(lc.static_key.pub.b, tn_identity_linkpub(f->id[who])->b, 32);
	memcpy(lc.network_id, tn_roster_network_id(f->builder), TN_NETWORK_ID);
	lc.psk = *psk;
	memcpy(lc.expected_remote.b, tn_identity_linkpub(f->id[FJ_COORD])->b, 32);
	lc.rand = test_rng_seed(&f->rng[FJ_IDS + 1], 0x90);
	lc.replay = f->cache;
	lc.identity = f->id[who];
	lc.member = admit_any;
	tn_err rc = tn_link_new(&f->peer, &lc);
	sodium_memzero(&lc, sizeof lc);
	if (rc || tn_link_start(f->peer, f->now, wall(f)))
		return -1;
	return 0;
}

static int init(fj *f, uint8_t scene)
{
	memset(f, 0, sizeof *f);
	if (sodium_init() < 0)
		return -1;
	f->now = NF_T0;
	f->scene = scene % 3;
	for (int i = 0; i < FJ_IDS; i++) {
		tn_rand r = test_rng_seed(&f->rng[i], (uint8_t)(i + 1));
		if (tn_identity_new(&f->id[i], &r) != TN_OK)
			return -1;
	}
	if (make_records(f) || tn_replay_cache_new(&f->cache, 0))
		return -1;
	tn_node_config c;
	tn_node_config_default(&c);
	c.rand = test_rng_seed(&f->rng[FJ_IDS + 2], 0x80);
	c.alerts_max = 64;
	tn_noise_psk psk;
	if (f->scene == 2) {
		c.identity = f->id[FJ_NEW];
		c.join = &f->inv;
		c.join_name = sv("N");
		if (tn_node_new(&f->node, &c) != TN_OK)
			return -1;
		tn_seckey k;
		tn_invite_join_psk(&f->inv, &k);
		memcpy(psk.b, k.b, 32);
		sodium_memzero(&k, sizeof k);
		if (peer_new(f, FJ_COORD, &psk, TN_NOISE_RESPONDER))
			return -1;
		tn_node_tick(f->node, f->now, wall(f)); /* DIAL -> link_open */
		flush(f);
		return f->lid ? 0 : -1;
	}
	c.identity = f->id[FJ_COORD];
	c.genesis = f->rec[0];
	c.genesis_len = f->rlen[0];
	if (tn_node_new(&f->node, &c) != TN_OK)
		return -1;
	for (size_t i = 1; i < 3; i++) /* add member, endpoint */
		if (tn_node_roster_load(f->node, f->rec[i], f->rlen[i], wall(f)) != TN_OK)
			return -1;
	if (f->scene == 0) {
		tn_roster_epoch e;
		if (tn_roster_current_epoch(tn_node_roster_get(f->node), &e) != TN_OK || !e.count)
			return -1;
		memcpy(psk.b, e.keys[0].link_psk, 32);
		tn_roster_epoch_wipe(&e);
		if (peer_new(f, FJ_MEMBER, &psk, TN_NOISE_INITIATOR))
			return -1;
	} else {
		tn_invite_book b;
		tn_invite_book_init(&b);
		tn_invite_reason why;
		if (tn_invite_book_add(&b, &f->inv, wall(f), &why) != TN_OK)
			return -1;
		tn_node_invite_book_set(f->node, &b);
		tn_seckey k;
		tn_invite_join_psk(&f->inv, &k);
		memcpy(psk.b, k.b, 32);
		sodium_memzero(&k, sizeof k);
		if (peer_new(f, FJ_NEW, &psk, TN_NOISE_INITIATOR))
			return -1;
	}
	sodium_memzero(&psk, sizeof psk);
	if (tn_node_link_open(f->node, TN_NOISE_RESPONDER, NULL, f->now, wall(f), &f->lid))
		return -1;
	flush(f);
	return f->up ? 0 : -1;
}

static void fini(fj *f)
{
	tn_node_del(f->node);
	tn_link_del(f->peer);
	tn_replay_cache_del(f->cache);
	tn_roster_del(f->builder);
	for (size_t i = 0; i < f->nrec; i++)
		free(f->rec[i]);
	for (int i = 0; i < FJ_IDS; i++)
		tn_identity_del(f->id[i]);
	tn_invite_wipe(&f->inv);
	memset(f, 0, sizeof *f);
}

static void send_msg(fj *f, const tn_link_msg *m)
{
	tn_ssize n = tn_link_encode(m, f->buf, sizeof f->buf);
	if (n > 0 && !f->dead &&
	    tn_link_send(f->peer, f->buf, (size_t)n, TN_LINK_SEND_NORMAL, f->now) == TN_OK)
		flush(f);
}

static void send_join(fj *f, int who)
{
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_JOIN;
	memcpy(m.join.identity, tn_identity_pubkey(f->id[who])->b, TN_PUBKEY);
	memcpy(m.join.link, tn_identity_linkpub(f->id[who])->b, TN_PUBKEY);
	m.join.name = sv("N");
	uint8_t b[TN_JOIN_SIG_CONTEXT_LEN + TN_NOISE_HASH + 2 * TN_PUBKEY + 1];
	size_t o = 0;
	memcpy(b + o, TN_JOIN_SIG_CONTEXT, TN_JOIN_SIG_CONTEXT_LEN);
	o += TN_JOIN_SIG_CONTEXT_LEN;
	memcpy(b + o, f->hs, TN_NOISE_HASH);
	o += TN_NOISE_HASH;
	memcpy(b + o, m.join.identity, TN_PUBKEY);
	o += TN_PUBKEY;
	memcpy(b + o, m.join.link, TN_PUBKEY);
	o += TN_PUBKEY;
	b[o++] = 'N';
	tn_sig sig;
	if (tn_identity_sign(f->id[who], b, o, &sig) != TN_OK)
		abort();
	memcpy(m.join.sig, sig.b, TN_SIG);
	send_msg(f, &m);
}

static void send_record(fj *f, const uint8_t *p, size_t len)
{
	size_t k = len ? p[0] % f->nrec : 0;
	uint8_t *r = malloc(f->rlen[k]);
	if (!r)
		return;
	memcpy(r, f->rec[k], f->rlen[k]);
	for (size_t i = 1; i < len && i - 1 < f->rlen[k]; i++)
		r[i - 1] ^= p[i];
	tn_link_msg m;
	memset(&m, 0, sizeof m);
	m.type = TN_LINK_ROSTER;
	m.record = (tn_view){r, f->rlen[k]};
	send_msg(f, &m);
	free(r);
}

static void run(fj *f, const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off + 3 <= size && !f->dead) {
		uint8_t op = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		const uint8_t *p = data + off;
		off += len;
		switch (op % 4) {
		case 0:
			if (tn_link_send(f->peer, p, len, TN_LINK_SEND_NORMAL, f->now) == TN_OK)
				flush(f);
			break;
		case 1: send_join(f, len && (p[0] & 1) ? FJ_NEW : FJ_MEMBER); break;
		case 2: send_record(f, p, len); break;
		case 3:
			f->now += ((tn_time)(len ? p[0] : 0) + 1) * TN_SEC;
			tn_node_tick(f->node, f->now, wall(f));
			flush(f);
			break;
		}
	}
}

static void check(fj *f)
{
	tn_node_stats st;
	tn_node_stats_get(f->node, &st);
	uint64_t admitted = st.node[TN_NODE_C_JOIN_ACCEPTED];
	if (admitted > (f->scene == 1 ? 1u : 0u))
		abort();
	if (f->scene != 0 && st.node[TN_NODE_C_ALERT_RX] != 0)
		abort();
	tn_roster *ro = tn_node_roster_get(f->node);
	if (!ro)
		return; /* scene 2, still joining */
	size_t cnt = tn_roster_record_count(ro), foreign = 0;
	for (size_t i = 0; i < cnt; i++) {
		tn_view v;
		if (tn_roster_record_at(ro, i, &v) != TN_OK)
			abort();
		bool ours = false;
		for (size_t k = 0; k < f->nrec && !ours; k++)
			ours = v.len == f->rlen[k] && memcmp(v.p, f->rec[k], v.len) == 0;
		foreign += !ours;
	}
	/* scene 1 may hold the one admission record it made itself */
	if (foreign > admitted)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (init(&F, data[0]) != 0)
		abort();
	run(&F, data + 1, size - 1);
	tn_node_tick(F.node, F.now, wall(&F));
	events(&F);
	if (tn_node_next_deadline(F.node) < F.now)
		abort();
	check(&F);
	fini(&F);
	return 0;
}
