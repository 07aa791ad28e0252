/* Link output: message queues, sealing in wire order, control frames
 * (docs/link.md "Transport").
 *
 * Messages are queued as plaintext and encrypted only when tn_link_out
 * hands them out. That is what lets a priority message (panic, safe)
 * overtake queued normal ones: the ciphertexts' nonces follow the order on
 * the wire, whatever the order of tn_link_send calls. A frame partly handed
 * out is always finished first. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "link_priv.h"

static size_t q_bytes(const link_q *q)
{
	return q->tail - q->head;
}

static size_t get_be16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

static void put_be16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void tn_link_q_free(link_q *q)
{
	if (q->buf) {
		sodium_memzero(q->buf, q->cap);
		free(q->buf);
	}
	memset(q, 0, sizeof *q);
}

/* Make room for need more bytes at the tail: compact, else grow (without
 * realloc, so the old plaintext is wiped rather than left in the heap). The
 * caller has checked the total against TN_LINK_OUTQ_MAX. */
static tn_err q_reserve(link_q *q, size_t need)
{
	if (q->cap - q->tail >= need)
		return TN_OK;
	if (q->head > 0) {
		size_t n = q_bytes(q);
		memmove(q->buf, q->buf + q->head, n);
		sodium_memzero(q->buf + n, q->cap - n);
		q->head = 0;
		q->tail = n;
		if (q->cap - q->tail >= need)
			return TN_OK;
	}
	size_t want = q->tail + need;
	size_t ncap = q->cap ? q->cap : 4096;
	while (ncap < want)
		ncap *= 2;
	if (ncap > TN_LINK_OUTQ_MAX)
		ncap = want > TN_LINK_OUTQ_MAX ? want : TN_LINK_OUTQ_MAX;
	uint8_t *nb = malloc(ncap);
	if (!nb)
		return TN_ERR_NOMEM;
	if (q->buf) {
		memcpy(nb, q->buf, q->tail);
		sodium_memzero(q->buf, q->cap);
		free(q->buf);
	}
	q->buf = nb;
	q->cap = ncap;
	return TN_OK;
}

/* Remove the head entry (after it was handed out). */
static void q_pop(link_q *q, size_t entry_len)
{
	sodium_memzero(q->buf + q->head, entry_len);
	q->head += entry_len;
	if (q->head == q->tail) {
		q->head = q->tail = 0;
		/* After a burst, give the memory back; in steady state the
		 * buffer is kept, so sending does not allocate. */
		if (q->cap > LINK_OUTQ_KEEP)
			tn_link_q_free(q);
	}
}

static link_q *fl_queue(tn_link *l)
{
	return l->fl_src == FL_PRIO ? &l->prio : l->fl_src == FL_NORM ? &l->norm : NULL;
}

void tn_link_drop_queued(tn_link *l)
{
	link_q *keep = fl_queue(l);
	link_q *qs[2] = {&l->prio, &l->norm};
	for (size_t i = 0; i < 2; i++) {
		link_q *q = qs[i];
		size_t from = q == keep ? q->head + l->fl_len : q->head;
		if (q->buf)
			sodium_memzero(q->buf + from, q->tail - from);
		q->tail = from;
		if (q->head == q->tail)
			q->head = q->tail = 0;
	}
}

bool tn_link_out_idle(const tn_link *l)
{
	return l->fl_src == FL_NONE && q_bytes(&l->prio) == 0 && q_bytes(&l->norm) == 0 &&
	       !l->ping_due && !l->rekey_due && !l->close_pending;
}

/* ---- sealing ----------------------------------------------------------- */

/* Encrypt a control message (PING, CLOSE, REKEY) into l->ctrl. */
static tn_err seal_ctrl(tn_link *l, const tn_link_msg *m)
{
	tn_ssize n = tn_link_encode(m, l->ctrl + TN_FRAME_HDR, sizeof l->ctrl - TN_FRAME_HDR);
	if (n < 0)
		return TN_ERR_INTERNAL;
	tn_ssize c = tn_noise_cipher_encrypt(&l->tx, NULL, 0, l->ctrl + TN_FRAME_HDR, (size_t)n,
	                                     l->ctrl + TN_FRAME_HDR, sizeof l->ctrl - TN_FRAME_HDR);
	if (c < 0)
		return (tn_err)c;
	put_be16(l->ctrl, (size_t)c);
	l->fl_src = FL_CTRL;
	l->fl_len = TN_FRAME_HDR + (size_t)c;
	l->fl_off = 0;
	return TN_OK;
}

/* Encrypt the head entry of q in place. */
static tn_err seal_entry(tn_link *l, link_q *q, link_src src)
{
	uint8_t *e = q->buf + q->head;
	size_t ct = get_be16(e);
	tn_ssize c = tn_noise_cipher_encrypt(&l->tx, NULL, 0, e + TN_FRAME_HDR, ct - TN_NOISE_TAG,
	                                     e + TN_FRAME_HDR, ct);
	if (c < 0)
		return (tn_err)c;
	l->fl_src = src;
	l->fl_len = TN_FRAME_HDR + ct;
	l->fl_off = 0;
	return TN_OK;
}

/* Rekey: a REKEY message under the old key, then Rekey() on tx, so the
 * peer switches its rx at the same message boundary. Due after
 * rekey_after_msgs messages or rekey_after_time; sent lazily before the
 * next frame, or on its own when tn_link_tick found it due. */
static bool rekey_needed(const tn_link *l, bool have_work, tn_time now)
{
	if (l->rekey_due)
		return true;
	if (!have_work)
		return false;
	return now >= l->rekey_at ||
	       tn_noise_cipher_count(&l->tx) - l->tx_rekey_base >= l->rekey_msgs;
}

static tn_err send_rekey(tn_link *l, tn_time now)
{
	tn_link_msg m = {.type = TN_LINK_REKEY};
	tn_err rc = seal_ctrl(l, &m);
	if (rc)
		return rc;
	if ((rc = tn_noise_cipher_rekey(&l->tx)))
		return TN_ERR_INTERNAL;
	l->tx_rekey_base = tn_noise_cipher_count(&l->tx);
	l->rekey_at = now + l->rekey_time;
	l->rekey_due = false;
	return TN_OK;
}

/* Choose and seal the next frame, if any. */
static tn_err next_frame(tn_link *l, tn_time now)
{
	if (l->state == ST_CLOSED) {
		if (!l->close_pending)
			return TN_OK;
		l->close_pending = false;
		tn_link_msg m = {.type = TN_LINK_CLOSE, .reason = l->close_reason};
		return seal_ctrl(l, &m);
	}
	if (l->state != ST_ESTABLISHED)
		return TN_OK;
	bool work = q_bytes(&l->prio) || q_bytes(&l->norm) || l->ping_due;
	tn_err rc;
	if (rekey_needed(l, work, now))
		rc = send_rekey(l, now);
	else if (q_bytes(&l->prio))
		rc = seal_entry(l, &l->prio, FL_PRIO);
	else if (q_bytes(&l->norm))
		rc = seal_entry(l, &l->norm, FL_NORM);
	else if (l->ping_due) {
		tn_link_msg m = {.type = TN_LINK_PING, .token = ++l->ping_token};
		l->ping_due = false;
		rc = seal_ctrl(l, &m);
	} else
		return TN_OK;
	if (rc == TN_OK)
		l->last_tx = now;
	return rc;
}

static void finish_frame(tn_link *l)
{
	link_q *q = fl_queue(l);
	if (q)
		q_pop(q, l->fl_len);
	else
		sodium_memzero(l->ctrl, sizeof l->ctrl);
	l->fl_src = FL_NONE;
	l->fl_len = l->fl_off = 0;
}

static const uint8_t *fl_ptr(const tn_link *l)
{
	switch (l->fl_src) {
	case FL_CTRL: return l->ctrl;
	case FL_PRIO: return l->prio.buf + l->prio.head;
	case FL_NORM: return l->norm.buf + l->norm.head;
	case FL_NONE: break;
	}
	return NULL;
}

tn_ssize tn_link_out(tn_link *l, uint8_t *out, size_t cap, tn_time now)
{
	if (!l || (!out && cap > 0))
		return TN_ERR_INVAL;
	size_t w = 0;
	while (w < cap) {
		if (l->fl_src == FL_NONE) {
			tn_err rc = next_frame(l, now);
			if (rc == TN_ERR_INTERNAL)
				return rc;
			if (rc) {
				/* Nonce exhausted (2^64 messages): nothing more can
				 * be encrypted, not even a CLOSE. */
				tn_link_fail(l, rc, false, 0, now);
				l->close_pending = false;
				break;
			}
			if (l->fl_src == FL_NONE)
				break;
		}
		size_t k = l->fl_len - l->fl_off;
		if (k > cap - w)
			k = cap - w;
		memcpy(out + w, fl_ptr(l) + l->fl_off, k);
		w += k;
		l->fl_off += k;
		if (l->fl_off == l->fl_len)
			finish_frame(l);
	}
	return (tn_ssize)w;
}

size_t tn_link_pending(const tn_link *l)
{
	if (!l)
		return 0;
	size_t n = l->fl_len - l->fl_off + q_bytes(&l->prio) + q_bytes(&l->norm);
	if (l->ping_due || l->rekey_due || l->close_pending)
		n += 2 * LINK_CTRL_MAX; /* at most a REKEY and a PING or CLOSE */
	return n;
}

/* ---- sending ----------------------------------------------------------- */

static bool app_message(const uint8_t *msg, size_t len)
{
	tn_link_msg m;
	if (tn_link_decode(&m, msg, len) != TN_OK)
		return false;
	/* PING, CLOSE and REKEY are the link's own: a REKEY from the caller
	 * would desynchronise the peer's cipher, a CLOSE would break "nothing
	 * after CLOSE". */
	return m.type != TN_LINK_PING && m.type != TN_LINK_CLOSE && m.type != TN_LINK_REKEY;
}

tn_err tn_link_send(tn_link *l, const uint8_t *msg, size_t len, tn_link_send_flags flags,
                    tn_time now)
{
	if (!l || !msg || len == 0 || len > TN_LINK_PLAINTEXT_MAX ||
	    (flags & ~(unsigned)TN_LINK_SEND_PRIORITY))
		return TN_ERR_INVAL;
	if (l->state == ST_CLOSED || l->state == ST_REJECTED)
		return TN_ERR_CLOSED;
	if (l->state != ST_ESTABLISHED)
		return TN_ERR_STATE;
	if (!app_message(msg, len))
		return TN_ERR_INVAL;
	size_t need = TN_FRAME_HDR + len + TN_NOISE_TAG;
	if (q_bytes(&l->prio) + q_bytes(&l->norm) + need > TN_LINK_OUTQ_MAX) {
		if (l->cfg.stats)
			l->cfg.stats->outq_overflow++;
		tn_link_fail(l, TN_ERR_LIMIT, true, TN_CLOSE_OVERLOAD, now);
		return TN_ERR_LIMIT;
	}
	link_q *q = flags & TN_LINK_SEND_PRIORITY ? &l->prio : &l->norm;
	if (q_reserve(q, need))
		return TN_ERR_NOMEM;
	uint8_t *e = q->buf + q->tail;
	put_be16(e, len + TN_NOISE_TAG);
	memcpy(e + TN_FRAME_HDR, msg, len);
	memset(e + TN_FRAME_HDR + len, 0, TN_NOISE_TAG);
	q->tail += need;
	return TN_OK;
}
