/* One link: framing, Noise_XXpsk0 handshake, transport receive, timers
 * (DESIGN §4, docs/link.md). Output and queues are in link_out.c. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "link_priv.h"

#define LINK_PROTOCOL "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"
#define LINK_PROLOGUE "tocsin/1"

enum { PROLOGUE_LABEL = sizeof LINK_PROLOGUE - 1 };

#define STAT(l, field)                                                                             \
	do {                                                                                       \
		if ((l)->cfg.stats)                                                                \
			(l)->cfg.stats->field++;                                                   \
	} while (0)

/* Silent close delay: uniform in [1 s, 20 s] (docs/link.md, Reject). */
#define REJECT_DELAY_MIN  TN_SEC
#define REJECT_DELAY_SPAN (19 * TN_SEC)

static tn_time add_sat(tn_time a, tn_time b)
{
	return a > TN_TIME_NEVER - b ? TN_TIME_NEVER : a + b;
}

static void log_line(const tn_link *l, const char *msg)
{
	/* Remote peers trigger these: DEBUG only, one line per link at most
	 * (the link closes right after), never key material. */
	if (l->cfg.log)
		l->cfg.log(l->cfg.log_ud, TN_LOG_DEBUG, msg);
}

/* Once per link, so a peer repeating a type cannot fill the log (the
 * caller's sink limits the rest): "link ignored unknown_type=18". INFO:
 * the operator learns a member runs a newer version. */
static void log_unknown(tn_link *l, uint8_t type)
{
	if (l->unknown_logged || !l->cfg.log)
		return;
	l->unknown_logged = true;
	static const char head[] = "link ignored unknown_type=";
	char line[sizeof head + 3];
	size_t k = sizeof head - 1;
	memcpy(line, head, k);
	if (type >= 100)
		line[k++] = (char)('0' + type / 100);
	if (type >= 10)
		line[k++] = (char)('0' + type / 10 % 10);
	line[k++] = (char)('0' + type % 10);
	line[k] = 0;
	l->cfg.log(l->cfg.log_ud, TN_LOG_INFO, line);
}

/* ---- configuration and lifetime ---------------------------------------- */

void tn_link_config_default(tn_link_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->keepalive = TN_KEEPALIVE_DEFAULT;
	cfg->rekey_after_msgs = TN_LINK_REKEY_AFTER_MSGS;
	cfg->rekey_after_time = TN_LINK_REKEY_AFTER_TIME;
}

static bool config_ok(const tn_link_config *c)
{
	if (c->role != TN_NOISE_INITIATOR && c->role != TN_NOISE_RESPONDER)
		return false;
	if (!c->rand.fn)
		return false;
	if (c->role == TN_NOISE_RESPONDER && (!c->replay || !c->member))
		return false;
	if (c->role == TN_NOISE_INITIATOR && !c->identity)
		return false;
	if (c->keepalive != 0 && (c->keepalive < TN_MSEC || c->keepalive > TN_DAY))
		return false; /* TN_DAY bound: 2.5 x keepalive must not overflow */
	if (c->njoin_psks > TN_LINK_JOIN_PSKS_MAX)
		return false;
	return true;
}

/* The bytes message 1's signature covers (docs/link.md "Message 1 names
 * the initiator"): context || network id || initiator ephemeral ||
 * responder hash || timestamp (u64 big-endian). */
enum {
	HELLO_SIGNED_LEN =
	        TN_HELLO_SIG_CONTEXT_LEN + TN_NETWORK_ID + TN_NOISE_DH + TN_HS_RESPONDER_HASH + 8
};

static void hello_signed(const tn_link *l, const uint8_t e[TN_NOISE_DH], const tn_hs1_payload *p,
                         uint8_t out[HELLO_SIGNED_LEN])
{
	size_t o = 0;
	memcpy(out + o, TN_HELLO_SIG_CONTEXT, TN_HELLO_SIG_CONTEXT_LEN);
	o += TN_HELLO_SIG_CONTEXT_LEN;
	memcpy(out + o, l->cfg.network_id, TN_NETWORK_ID);
	o += TN_NETWORK_ID;
	memcpy(out + o, e, TN_NOISE_DH);
	o += TN_NOISE_DH;
	memcpy(out + o, p->responder_hash, TN_HS_RESPONDER_HASH);
	o += TN_HS_RESPONDER_HASH;
	for (int i = 7; i >= 0; i--)
		out[o++] = (uint8_t)(p->timestamp_ms >> (8 * i));
}

/* Message sizes, computed from the codec rather than hard-coded:
 *   1: e(32) + payload(hs1) + tag            (psk, e)
 *   2: e(32) + s(32 + tag) + payload(hs23) + tag   (e, ee, s, es)
 *   3: s(32 + tag) + payload(hs23) + tag           (s, se)
 * The hs1 payload is measured with the largest timestamp: any wall clock
 * after February 1970 encodes as a uint64 of that same size, so a genuine
 * message 1 has one exact length. */
static tn_err compute_sizes(tn_link *l)
{
	uint8_t buf[LINK_CTRL_MAX];
	tn_hs1_payload probe;
	memset(&probe, 0, sizeof probe);
	probe.timestamp_ms = UINT64_MAX;
	tn_ssize n1 = tn_hs1_encode(&probe, buf, sizeof buf);
	tn_ssize n23 = tn_hs23_encode(buf, sizeof buf);
	if (n1 < 0 || n23 < 0)
		return TN_ERR_INTERNAL;
	l->hs1_len = (size_t)n1;
	l->msg1_len = TN_NOISE_DH + (size_t)n1 + TN_NOISE_TAG;
	l->msg2_len = TN_NOISE_DH + TN_NOISE_DH + TN_NOISE_TAG + (size_t)n23 + TN_NOISE_TAG;
	l->msg3_len = TN_NOISE_DH + TN_NOISE_TAG + (size_t)n23 + TN_NOISE_TAG;
	if (l->msg1_len + TN_FRAME_HDR > LINK_CTRL_MAX ||
	    l->msg2_len + TN_FRAME_HDR > LINK_CTRL_MAX ||
	    l->msg3_len + TN_FRAME_HDR > LINK_CTRL_MAX)
		return TN_ERR_INTERNAL;
	return TN_OK;
}

tn_err tn_link_new(tn_link **out, const tn_link_config *cfg)
{
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!cfg || !config_ok(cfg))
		return TN_ERR_INVAL;
	tn_link *l = calloc(1, sizeof *l);
	if (!l)
		return TN_ERR_NOMEM;
	l->cfg = *cfg;
	l->keepalive = cfg->keepalive ? cfg->keepalive : TN_KEEPALIVE_DEFAULT;
	l->rekey_msgs = cfg->rekey_after_msgs ? cfg->rekey_after_msgs : TN_LINK_REKEY_AFTER_MSGS;
	l->rekey_time = cfg->rekey_after_time ? cfg->rekey_after_time : TN_LINK_REKEY_AFTER_TIME;
	tn_err rc;
	if ((rc = tn_noise_protocol_parse(LINK_PROTOCOL, &l->proto)) || (rc = compute_sizes(l))) {
		tn_link_del(l);
		return TN_ERR_INTERNAL;
	}
	/* The responder hash: the initiator names the key it expects, the
	 * responder compares with its own. */
	const tn_noise_pubkey *k =
	        cfg->role == TN_NOISE_RESPONDER ? &cfg->static_key.pub : &cfg->expected_remote;
	crypto_generichash(l->hs1_hash, sizeof l->hs1_hash, k->b, sizeof k->b, NULL, 0);
	*out = l;
	return TN_OK;
}

void tn_link_del(tn_link *l)
{
	if (!l)
		return;
	tn_noise_hs_free(&l->hs);
	tn_noise_cipher_free(&l->tx);
	tn_noise_cipher_free(&l->rx);
	tn_link_q_free(&l->prio);
	tn_link_q_free(&l->norm);
	if (l->rbuf) {
		sodium_memzero(l->rbuf, l->rbuf_hw); /* never written beyond */
		free(l->rbuf);
	}
	sodium_memzero(l, sizeof *l);
	free(l);
}

tn_err tn_link_join_psk(const tn_link *l, tn_noise_psk *out)
{
	if (!l || !out || l->psk_used != TN_LINK_PSK_JOIN || l->join_idx >= l->cfg.njoin_psks)
		return TN_ERR_STATE;
	memcpy(out->b, l->cfg.join_psks[l->join_idx].b, sizeof out->b);
	return TN_OK;
}

bool tn_link_is_established(const tn_link *l)
{
	return l && l->state == ST_ESTABLISHED;
}

/* ---- events ------------------------------------------------------------ */

void tn_link_push_event(tn_link *l, const tn_link_event *ev)
{
	/* At most ESTABLISHED, one MESSAGE (recv stops after it) and one
	 * CLOSE (the state machine closes once) are ever queued. */
	if (l->ev_n == LINK_EVQ)
		abort(); /* our invariant, not peer input */
	l->evq[(l->ev_head + l->ev_n) % LINK_EVQ] = *ev;
	l->ev_n++;
}

bool tn_link_poll_event(tn_link *l, tn_link_event *ev)
{
	memset(ev, 0, sizeof *ev);
	if (!l || l->ev_n == 0)
		return false;
	*ev = l->evq[l->ev_head];
	sodium_memzero(&l->evq[l->ev_head], sizeof l->evq[0]);
	l->ev_head = (l->ev_head + 1) % LINK_EVQ;
	l->ev_n--;
	if (ev->type == TN_LINK_EV_MESSAGE)
		l->msg_pending = false;
	return true;
}

/* ---- closing ----------------------------------------------------------- */

static bool open_state(const tn_link *l)
{
	return l->state != ST_CLOSED && l->state != ST_REJECTED;
}

void tn_link_fail(tn_link *l, tn_err err, bool send_close, uint8_t reason, tn_time now)
{
	if (!open_state(l))
		return;
	bool established = l->state == ST_ESTABLISHED;
	l->state = ST_CLOSED;
	tn_noise_hs_free(&l->hs);
	tn_link_drop_queued(l);
	if (!established && l->fl_src == FL_CTRL) {
		/* A handshake message half written: the connection is being
		 * dropped anyway, and a handshake that failed says no more. */
		sodium_memzero(l->ctrl, sizeof l->ctrl);
		l->fl_src = FL_NONE;
		l->fl_len = l->fl_off = 0;
	}
	l->ping_due = l->rekey_due = false;
	l->close_pending = established && send_close;
	l->close_reason = reason;
	tn_link_event ev = {.type = TN_LINK_EV_CLOSE, .err = err, .close_at = now};
	tn_link_push_event(l, &ev);
}

/* Responder, before it has written anything: say nothing, ever, absorb
 * what follows, and ask to be closed after a random delay so a prober can
 * time nothing (docs/link.md, Reject). */
static void reject(tn_link *l, uint64_t *counter, tn_err err, const char *line, tn_time now)
{
	if (counter)
		(*counter)++;
	uint8_t r[8];
	tn_rand_bytes(&l->cfg.rand, r, sizeof r);
	uint64_t v = 0;
	for (size_t i = 0; i < sizeof r; i++)
		v = v << 8 | r[i];
	tn_time delay = REJECT_DELAY_MIN + v % (REJECT_DELAY_SPAN + 1);
	l->state = ST_REJECTED;
	tn_noise_hs_free(&l->hs);
	l->in_body = false;
	l->hdr_got = 0;
	tn_link_event ev = {.type = TN_LINK_EV_CLOSE,
	                    .err = err,
	                    .silent = true,
	                    .close_at = add_sat(now, delay)};
	tn_link_push_event(l, &ev);
	log_line(l, line);
}

#define REJECT(l, field, err, line, now)                                                           \
	reject((l), (l)->cfg.stats ? &(l)->cfg.stats->field : NULL, (err), (line), (now))

static void fail_hs(tn_link *l, tn_err err, const char *line, tn_time now)
{
	STAT(l, hs_fail);
	log_line(l, line);
	tn_link_fail(l, err, false, 0, now);
}

void tn_link_close(tn_link *l, uint8_t reason, tn_time now)
{
	if (!l)
		return;
	tn_link_fail(l, TN_OK, true, reason, now);
}

/* ---- handshake --------------------------------------------------------- */

static tn_err hs_begin(tn_link *l, tn_noise_hs *hs, const tn_noise_psk *psk)
{
	uint8_t prologue[PROLOGUE_LABEL + TN_NETWORK_ID];
	memcpy(prologue, LINK_PROLOGUE, PROLOGUE_LABEL);
	memcpy(prologue + PROLOGUE_LABEL, l->cfg.network_id, TN_NETWORK_ID);
	return tn_noise_hs_init(hs, &l->proto, l->cfg.role, prologue, sizeof prologue,
	                        &l->cfg.static_key, NULL, psk);
}

/* Write our next handshake message with payload into l->ctrl, framed. */
static tn_err hs_send(tn_link *l, const uint8_t *payload, size_t len, size_t expect)
{
	if (l->fl_src != FL_NONE)
		return TN_ERR_PROTO; /* peer answered a message we had not finished writing */
	tn_ssize n = tn_noise_hs_write(&l->hs, payload, len, l->ctrl + TN_FRAME_HDR,
	                               sizeof l->ctrl - TN_FRAME_HDR, &l->cfg.rand);
	if (n < 0)
		return (tn_err)n;
	if ((size_t)n != expect)
		return TN_ERR_INTERNAL;
	l->ctrl[0] = (uint8_t)(n >> 8);
	l->ctrl[1] = (uint8_t)n;
	l->fl_src = FL_CTRL;
	l->fl_len = TN_FRAME_HDR + (size_t)n;
	l->fl_off = 0;
	return TN_OK;
}

static tn_err send_hs23(tn_link *l, size_t expect)
{
	uint8_t pl[8];
	tn_ssize n = tn_hs23_encode(pl, sizeof pl);
	if (n < 0)
		return TN_ERR_INTERNAL;
	return hs_send(l, pl, (size_t)n, expect);
}

tn_err tn_link_start(tn_link *l, tn_time now, uint64_t wall_ms)
{
	if (!l)
		return TN_ERR_INVAL;
	if (l->state != ST_NEW)
		return TN_ERR_STATE;
	l->hs_deadline = add_sat(now, TN_HANDSHAKE_TIMEOUT);
	if (l->cfg.role == TN_NOISE_RESPONDER) {
		l->state = ST_WAIT_MSG1;
		return TN_OK;
	}
	/* -> psk, e    payload [1, timestamp_ms, BLAKE2b-256(responder static),
	 *                        identity, sig]
	 * The ephemeral is drawn here rather than inside the write, because
	 * the identity signs it (as libp2p's Noise payload signs with the
	 * identity key); the Noise state machine is the same either way. */
	tn_hs1_payload p;
	memset(&p, 0, sizeof p);
	p.timestamp_ms = wall_ms;
	memcpy(p.responder_hash, l->hs1_hash, sizeof p.responder_hash);
	memcpy(p.identity, tn_identity_pubkey(l->cfg.identity)->b, sizeof p.identity);
	uint8_t pl[LINK_CTRL_MAX];
	uint8_t signed_bytes[HELLO_SIGNED_LEN];
	tn_noise_seckey esec;
	tn_sig sig;
	tn_ssize n = 0;
	bool short_clock = false;
	tn_rand_bytes(&l->cfg.rand, esec.b, sizeof esec.b);
	tn_err rc = hs_begin(l, &l->hs, &l->cfg.psk);
	if (rc == TN_OK)
		rc = tn_noise_hs_set_ephemeral(&l->hs, &esec); /* computes hs.e.pub once */
	sodium_memzero(&esec, sizeof esec);
	if (rc == TN_OK) {
		hello_signed(l, l->hs.e.pub.b, &p, signed_bytes);
		rc = tn_identity_sign(l->cfg.identity, signed_bytes, sizeof signed_bytes, &sig);
		memcpy(p.sig, sig.b, sizeof p.sig);
	}
	if (rc == TN_OK && (n = tn_hs1_encode(&p, pl, sizeof pl)) < 0)
		rc = TN_ERR_INTERNAL;
	/* A wall clock before Feb 1970 would make message 1 short. */
	if (rc == TN_OK && (short_clock = (size_t)n != l->hs1_len))
		rc = TN_ERR_INVAL;
	if (rc == TN_OK)
		rc = hs_send(l, pl, (size_t)n, l->msg1_len);
	sodium_memzero(pl, sizeof pl);
	if (rc) {
		tn_noise_hs_free(&l->hs);
		return short_clock || rc == TN_ERR_NOMEM ? rc : TN_ERR_INTERNAL;
	}
	l->state = ST_WAIT_MSG2;
	return TN_OK;
}

/* Trial decryption of message 1 under one PSK, on a fresh handshake state:
 * for `psk, e` the payload key depends on the PSK and the cleartext
 * ephemeral only, so a wrong PSK costs two BLAKE2b and a MAC, no DH. */
static tn_ssize try_psk(tn_link *l, tn_noise_hs *hs, const tn_noise_psk *psk, const uint8_t *m,
                        size_t n, uint8_t *pt, size_t cap)
{
	if (hs_begin(l, hs, psk) != TN_OK)
		return TN_ERR_INTERNAL;
	tn_ssize r = tn_noise_hs_read(hs, m, n, pt, cap);
	if (r < 0)
		tn_noise_hs_free(hs);
	return r;
}

static bool within_window(uint64_t ts_ms, uint64_t wall_ms)
{
	uint64_t d = ts_ms > wall_ms ? ts_ms - wall_ms : wall_ms - ts_ms;
	return d <= TN_HS_MSG1_MAX_AGE / TN_MSEC;
}

/* Responder checks, cheapest first, nothing written on any failure
 * (docs/link.md steps 2-6; step 1, the exact size, was the frame header). */
static void on_msg1(tn_link *l, const uint8_t *m, size_t n, tn_time now, uint64_t wall_ms)
{
	uint8_t pt[LINK_CTRL_MAX];
	tn_hs1_payload p;
	tn_noise_hs trial;
	tn_noise_pubkey e;
	tn_link_psk_used used = TN_LINK_PSK_CURRENT;
	tn_ssize r = try_psk(l, &trial, &l->cfg.psk, m, n, pt, sizeof pt);
	if (r < 0 && l->cfg.has_prev_psk) {
		used = TN_LINK_PSK_PREVIOUS;
		r = try_psk(l, &trial, &l->cfg.prev_psk, m, n, pt, sizeof pt);
	}
	for (size_t i = 0; r < 0 && i < l->cfg.njoin_psks; i++) {
		used = TN_LINK_PSK_JOIN;
		l->join_idx = i;
		r = try_psk(l, &trial, &l->cfg.join_psks[i], m, n, pt, sizeof pt);
	}
	if (r < 0) {
		REJECT(l, rej_mac, TN_ERR_AUTH, "link reject reason=bad_mac", now);
		goto out;
	}
	tn_err rc = tn_hs1_decode(&p, pt, (size_t)r);
	if (rc) {
		REJECT(l, rej_decode, rc, "link reject reason=decode", now);
		goto out;
	}
	if (sodium_memcmp(p.responder_hash, l->hs1_hash, sizeof l->hs1_hash) != 0) {
		REJECT(l, rej_misdirected, TN_ERR_MISDIRECTED, "link reject reason=misdirected",
		       now);
		goto out;
	}
	if (!within_window(p.timestamp_ms, wall_ms)) {
		REJECT(l, rej_stale, TN_ERR_STALE, "link reject reason=stale", now);
		goto out;
	}
	memcpy(l->hello_id.b, p.identity, sizeof l->hello_id.b);
	if (used != TN_LINK_PSK_JOIN && l->cfg.refuse &&
	    l->cfg.refuse(l->cfg.member_ud, &l->hello_id)) {
		REJECT(l, rej_identity, TN_ERR_NOTFOUND, "link reject reason=refused", now);
		goto out;
	}
	memcpy(e.b, m, sizeof e.b); /* the cleartext ephemeral opens message 1 */
	if (tn_replay_cache_check_insert(l->cfg.replay, &e, p.timestamp_ms, wall_ms) != TN_OK) {
		REJECT(l, rej_replay, TN_ERR_REPLAY, "link reject reason=replay", now);
		goto out;
	}
	/* Who is asking: her signature over this very ephemeral, then the
	 * roster, still before any DH or byte written (docs/link.md). */
	uint8_t signed_bytes[HELLO_SIGNED_LEN];
	tn_sig sig;
	memcpy(sig.b, p.sig, sizeof sig.b);
	hello_signed(l, e.b, &p, signed_bytes);
	if (tn_sig_verify(&l->hello_id, signed_bytes, sizeof signed_bytes, &sig) != TN_OK) {
		REJECT(l, rej_sig, TN_ERR_AUTH, "link reject reason=signature", now);
		goto out;
	}
	if (used != TN_LINK_PSK_JOIN &&
	    !l->cfg.member(l->cfg.member_ud, &l->hello_id, used, NULL)) {
		REJECT(l, rej_identity, TN_ERR_NOTFOUND, "link reject reason=identity", now);
		goto out;
	}
	/* Accepted: only now spend the DHs of message 2.
	 * <- e, ee, s, es    payload [1] */
	l->hs = trial;
	l->psk_used = used;
	rc = send_hs23(l, l->msg2_len);
	if (rc) {
		/* e.g. a low-order ephemeral (TN_ERR_DH) from a PSK holder: we
		 * still have written nothing, so stay silent. */
		REJECT(l, hs_fail, rc, "link reject reason=msg2_failed", now);
		goto out;
	}
	l->state = ST_WAIT_MSG3;
out:
	sodium_memzero(&trial, sizeof trial);
	sodium_memzero(pt, sizeof pt);
	sodium_memzero(&p, sizeof p);
}

/* Most frames are small (alerts, receipts, pings); a buffer of TN_FRAME_MAX
 * per link was 64 KiB per link in every node of the simulator. */
enum { LINK_RBUF_INITIAL = 4096 };

/* Room for a frame of len bytes in rbuf; the old buffer is wiped. */
static bool rbuf_fit(tn_link *l, size_t len)
{
	if (len <= l->rbuf_cap)
		return true;
	size_t cap = l->rbuf_cap;
	while (cap < len)
		cap *= 2;
	if (cap > TN_FRAME_MAX)
		cap = TN_FRAME_MAX;
	uint8_t *b = malloc(cap);
	if (!b)
		return false;
	sodium_memzero(l->rbuf, l->rbuf_hw);
	free(l->rbuf);
	l->rbuf = b;
	l->rbuf_cap = cap;
	l->rbuf_hw = 0;
	return true;
}

static tn_err establish(tn_link *l, tn_time now)
{
	tn_link_event ev = {.type = TN_LINK_EV_ESTABLISHED};
	l->rbuf = malloc(LINK_RBUF_INITIAL);
	if (!l->rbuf)
		return TN_ERR_NOMEM;
	l->rbuf_cap = LINK_RBUF_INITIAL;
	if (tn_noise_hs_split(&l->hs, &l->tx, &l->rx) ||
	    tn_noise_hs_remote_static(&l->hs, &ev.remote_static) ||
	    tn_noise_hs_hash(&l->hs, ev.hs_hash))
		return TN_ERR_INTERNAL;
	tn_noise_hs_free(&l->hs);
	ev.psk = l->psk_used;
	ev.remote_identity = l->hello_id;
	l->state = ST_ESTABLISHED;
	l->last_tx = l->last_rx = now;
	l->rekey_at = add_sat(now, l->rekey_time);
	l->tx_rekey_base = 0;
	STAT(l, established);
	tn_link_push_event(l, &ev);
	return TN_OK;
}

/* Initiator. <- e, ee, s, es: check the responder is the key we meant to
 * reach before sending our own static key in message 3. */
static tn_err on_msg2(tn_link *l, const uint8_t *m, size_t n, tn_time now)
{
	uint8_t pt[LINK_CTRL_MAX];
	tn_noise_pubkey rs;
	tn_err ret = TN_OK;
	tn_ssize r = tn_noise_hs_read(&l->hs, m, n, pt, sizeof pt);
	if (r < 0) {
		fail_hs(l, (tn_err)r, "link fail reason=msg2_auth", now);
		goto out;
	}
	tn_err rc = tn_hs23_decode(pt, (size_t)r);
	if (rc) {
		fail_hs(l, rc, "link fail reason=msg2_decode", now);
		goto out;
	}
	if (tn_noise_hs_remote_static(&l->hs, &rs) ||
	    sodium_memcmp(rs.b, l->cfg.expected_remote.b, sizeof rs.b) != 0) {
		STAT(l, hs_wrong_key);
		log_line(l, "link fail reason=wrong_responder_key");
		tn_link_fail(l, TN_ERR_AUTH, false, 0, now);
		goto out;
	}
	/* -> s, se    payload [1] */
	rc = send_hs23(l, l->msg3_len);
	if (rc) {
		fail_hs(l, rc, "link fail reason=msg3_write", now);
		goto out;
	}
	ret = establish(l, now);
out:
	sodium_memzero(pt, sizeof pt);
	return ret;
}

/* Responder. -> s, se */
static tn_err on_msg3(tn_link *l, const uint8_t *m, size_t n, tn_time now)
{
	uint8_t pt[LINK_CTRL_MAX];
	tn_err ret = TN_OK;
	tn_ssize r = tn_noise_hs_read(&l->hs, m, n, pt, sizeof pt);
	if (r < 0) {
		fail_hs(l, (tn_err)r, "link fail reason=msg3_auth", now);
		goto out;
	}
	tn_err rc = tn_hs23_decode(pt, (size_t)r);
	if (rc) {
		fail_hs(l, rc, "link fail reason=msg3_decode", now);
		goto out;
	}
	/* The static key revealed must be the one certified for the identity
	 * message 1 named (a join link has none yet: its JOIN repeats it). */
	tn_noise_pubkey rs;
	if (tn_noise_hs_remote_static(&l->hs, &rs) ||
	    (l->psk_used != TN_LINK_PSK_JOIN &&
	     !l->cfg.member(l->cfg.member_ud, &l->hello_id, l->psk_used, &rs))) {
		STAT(l, hs_wrong_identity);
		log_line(l, "link fail reason=wrong_identity");
		tn_link_fail(l, TN_ERR_AUTH, false, 0, now);
		goto out;
	}
	ret = establish(l, now);
out:
	sodium_memzero(pt, sizeof pt);
	return ret;
}

/* ---- transport --------------------------------------------------------- */

static void close_proto(tn_link *l, tn_err err, const char *line, tn_time now)
{
	log_line(l, line);
	tn_link_fail(l, err, true, TN_CLOSE_PROTOCOL, now);
}

/* One transport frame, decrypted in place in rbuf. */
static tn_err on_transport(tn_link *l, uint8_t *f, size_t n, tn_time now)
{
	tn_ssize r = tn_noise_cipher_decrypt(&l->rx, NULL, 0, f, n, f, n);
	if (r < 0) {
		STAT(l, transport_auth);
		close_proto(l, (tn_err)r, "link close reason=bad_mac", now);
		return TN_OK;
	}
	tn_link_msg m;
	tn_err rc = tn_link_decode(&m, f, (size_t)r);
	if (rc == TN_ERR_DEC_IGNORABLE) {
		/* A newer peer's message: authentic, so the peer is alive. */
		l->last_rx = now;
		STAT(l, unknown_msg_type);
		log_unknown(l, m.type);
		return TN_OK;
	}
	if (rc) {
		STAT(l, transport_decode);
		close_proto(l, rc, "link close reason=decode", now);
		return TN_OK;
	}
	l->last_rx = now;
	switch (m.type) {
	case TN_LINK_PING: return TN_OK; /* its arrival is all that matters */
	case TN_LINK_REKEY:
		/* The peer rekeyed its tx right after this message. */
		return tn_noise_cipher_rekey(&l->rx) ? TN_ERR_INTERNAL : TN_OK;
	case TN_LINK_CLOSE: {
		if (!open_state(l))
			return TN_OK;
		tn_link_fail(l, TN_ERR_CLOSED, false, 0, now);
		/* tn_link_fail queued the event; record the peer's reason. */
		l->evq[(l->ev_head + l->ev_n - 1) % LINK_EVQ].peer_reason = m.reason;
		return TN_OK;
	}
	default: {
		tn_link_event ev = {.type = TN_LINK_EV_MESSAGE, .msg = f, .len = (size_t)r};
		tn_link_push_event(l, &ev);
		l->msg_pending = true;
		return TN_OK;
	}
	}
}

/* ---- framing ----------------------------------------------------------- */

/* Judge a frame length as soon as its 2-byte prefix is in: a wrong size is
 * rejected before a single body byte is buffered. Returns false when the
 * link is now closed or rejected. */
static bool check_len(tn_link *l, size_t len, tn_time now)
{
	switch (l->state) {
	case ST_WAIT_MSG1:
		if (len == 0)
			REJECT(l, rej_framing, TN_ERR_FRAME, "link reject reason=framing", now);
		else if (len != l->msg1_len)
			REJECT(l, rej_size, TN_ERR_PROTO, "link reject reason=size", now);
		else
			return true;
		return false;
	case ST_WAIT_MSG2:
	case ST_WAIT_MSG3:
		if (len == (l->state == ST_WAIT_MSG2 ? l->msg2_len : l->msg3_len))
			return true;
		fail_hs(l, TN_ERR_PROTO, "link fail reason=hs_size", now);
		return false;
	case ST_ESTABLISHED:
		/* Every transport frame holds a tag and a non-empty message;
		 * the 16-bit prefix cannot exceed TN_FRAME_MAX. */
		if (len > TN_NOISE_TAG)
			return true;
		STAT(l, framing);
		close_proto(l, TN_ERR_FRAME, "link close reason=framing", now);
		return false;
	default: return false;
	}
}

static tn_err on_frame(tn_link *l, uint8_t *f, size_t n, tn_time now, uint64_t wall_ms)
{
	switch (l->state) {
	case ST_WAIT_MSG1: on_msg1(l, f, n, now, wall_ms); return TN_OK;
	case ST_WAIT_MSG2: return on_msg2(l, f, n, now);
	case ST_WAIT_MSG3: return on_msg3(l, f, n, now);
	case ST_ESTABLISHED: return on_transport(l, f, n, now);
	default: return TN_OK;
	}
}

static uint8_t *frame_buf(tn_link *l)
{
	return l->state == ST_ESTABLISHED ? l->rbuf : l->hsbuf;
}

/* Consume bytes of one frame from in[0..len); *used says how many. */
static tn_err feed(tn_link *l, const uint8_t *in, size_t len, size_t *used, tn_time now,
                   uint64_t wall_ms)
{
	size_t k;
	if (!l->in_body) {
		k = TN_FRAME_HDR - l->hdr_got;
		k = k < len ? k : len;
		memcpy(l->hdr + l->hdr_got, in, k);
		l->hdr_got += k;
		*used = k;
		if (l->hdr_got < TN_FRAME_HDR)
			return TN_OK;
		l->hdr_got = 0;
		l->body_len = (size_t)l->hdr[0] << 8 | l->hdr[1];
		l->body_got = 0;
		l->in_body = check_len(l, l->body_len, now);
		if (l->in_body && l->state == ST_ESTABLISHED && !rbuf_fit(l, l->body_len))
			return TN_ERR_NOMEM;
		return TN_OK;
	}
	k = l->body_len - l->body_got;
	k = k < len ? k : len;
	memcpy(frame_buf(l) + l->body_got, in, k);
	l->body_got += k;
	if (l->state == ST_ESTABLISHED && l->body_got > l->rbuf_hw)
		l->rbuf_hw = l->body_got;
	*used = k;
	if (l->body_got < l->body_len)
		return TN_OK;
	l->in_body = false;
	return on_frame(l, frame_buf(l), l->body_len, now, wall_ms);
}

tn_ssize tn_link_recv(tn_link *l, const uint8_t *in, size_t len, tn_time now, uint64_t wall_ms)
{
	if (!l || (!in && len > 0))
		return TN_ERR_INVAL;
	if (l->state == ST_NEW || l->msg_pending)
		return TN_ERR_STATE;
	size_t done = 0;
	while (done < len) {
		if (!open_state(l))
			return (tn_ssize)len; /* closed: every later byte is ignored */
		if (l->msg_pending)
			break;
		size_t k = 0;
		tn_err rc = feed(l, in + done, len - done, &k, now, wall_ms);
		done += k;
		if (rc)
			return rc;
	}
	return (tn_ssize)done;
}

/* ---- timers ------------------------------------------------------------ */

static tn_time dead_after(const tn_link *l)
{
	return l->keepalive * 5 / 2;
}

tn_time tn_link_next_deadline(const tn_link *l)
{
	if (!l)
		return TN_TIME_NEVER;
	switch (l->state) {
	case ST_WAIT_MSG1:
	case ST_WAIT_MSG2:
	case ST_WAIT_MSG3: return l->hs_deadline;
	case ST_ESTABLISHED: break;
	default: return TN_TIME_NEVER;
	}
	tn_time d = add_sat(l->last_rx, dead_after(l));
	/* A PING only when nothing is waiting to go out: queued output is
	 * itself the sign of life (or the peer does not read, and the PING
	 * would wait behind it anyway). */
	if (tn_link_out_idle(l)) {
		tn_time ping = add_sat(l->last_tx, l->keepalive);
		d = ping < d ? ping : d;
	}
	if (!l->rekey_due && l->rekey_at < d)
		d = l->rekey_at;
	return d;
}

void tn_link_tick(tn_link *l, tn_time now)
{
	if (!l)
		return;
	switch (l->state) {
	case ST_WAIT_MSG1:
		if (now >= l->hs_deadline)
			REJECT(l, hs_timeout, TN_ERR_TIMEOUT, "link reject reason=timeout", now);
		return;
	case ST_WAIT_MSG2:
	case ST_WAIT_MSG3:
		if (now >= l->hs_deadline) {
			STAT(l, hs_timeout);
			log_line(l, "link fail reason=hs_timeout");
			tn_link_fail(l, TN_ERR_TIMEOUT, false, 0, now);
		}
		return;
	case ST_ESTABLISHED: break;
	default: return;
	}
	if (now >= add_sat(l->last_rx, dead_after(l))) {
		STAT(l, dead_peer);
		log_line(l, "link close reason=dead_peer");
		tn_link_fail(l, TN_ERR_TIMEOUT, true, TN_CLOSE_NORMAL, now);
		return;
	}
	if (tn_link_out_idle(l) && now >= add_sat(l->last_tx, l->keepalive))
		l->ping_due = true;
	if (now >= l->rekey_at)
		l->rekey_due = true;
}
