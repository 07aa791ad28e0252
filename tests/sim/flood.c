/* The flood host (flood.h): the engine's own test protocol. */
#include <stdlib.h>
#include <string.h>

#include "flood.h"

enum {
	F_SUMMARY = 1,
	F_ITEM = 2,
	F_HDR = 3,
	F_MAX_FRAME = F_HDR + 1 + FLOOD_MAX_PAYLOAD,
};

struct flood {
	sim *s;
	flood_cfg cfg;
	uint32_t n;
	uint64_t *disk;  /* per host: the items it holds, survives crashes */
	uint32_t *boots; /* per host: boots so far, to give each its own stream */
	sim_item_id items[FLOOD_MAX_ITEMS];
	unsigned nitems;
};

typedef struct fconn {
	sim_conn_id id;
	uint32_t peer;
	bool open;
	uint8_t *rx; /* a partial frame, F_MAX_FRAME bytes once needed */
	size_t rxlen;
} fconn;

typedef struct fhost {
	flood *f;
	sim *s;
	sim_host_id self;
	uint64_t have;
	fconn *c;
	size_t nc, cap;
	tn_time timer_at;
	bool first; /* the first dials after the first boot: higher ids only */
	sim_rng rng;
} fhost;

/* ---- connections --------------------------------------------------------- */

static fconn *find(fhost *h, sim_conn_id id)
{
	for (size_t i = 0; i < h->nc; i++)
		if (h->c[i].id == id)
			return &h->c[i];
	return NULL;
}

static bool has_peer(const fhost *h, uint32_t peer)
{
	for (size_t i = 0; i < h->nc; i++)
		if (h->c[i].peer == peer)
			return true;
	return false;
}

static fconn *add(fhost *h, sim_conn_id id, uint32_t peer, bool open)
{
	if (h->nc == h->cap) {
		size_t ncap = h->cap ? 2 * h->cap : 8;
		fconn *p = realloc(h->c, ncap * sizeof *p);
		if (!p)
			return NULL;
		h->c = p;
		h->cap = ncap;
	}
	fconn *c = &h->c[h->nc++];
	*c = (fconn){.id = id, .peer = peer, .open = open};
	return c;
}

static void drop(fhost *h, fconn *c)
{
	free(c->rx);
	*c = h->c[--h->nc];
}

static void arm_redial(fhost *h, tn_time now)
{
	if (h->timer_at != TN_TIME_NEVER)
		return;
	tn_time r = h->f->cfg.redial;
	h->timer_at = now + r + sim_rng_below(&h->rng, r);
	sim_timer(h->s, h->self, h->timer_at);
}

/* Dial every neighbour we have no connection with (above `min` only). A
 * dial the engine refuses outright is retried like a failed one. */
static void dial_missing(fhost *h, uint32_t min, tn_time now)
{
	const sim_overlay *ov = h->f->cfg.ov;
	for (uint32_t i = ov->off[h->self]; i < ov->off[h->self + 1]; i++) {
		uint32_t v = ov->nbr[i];
		if (v < min || has_peer(h, v))
			continue;
		sim_conn_id id = sim_dial(h->s, h->self, v, v);
		if (!id) {
			arm_redial(h, now);
			continue;
		}
		if (!add(h, id, v, false))
			sim_close(h->s, h->self, id);
	}
}

/* ---- frames -------------------------------------------------------------- */

static void send_frame(fhost *h, sim_conn_id id, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t buf[F_MAX_FRAME];
	buf[0] = type;
	buf[1] = (uint8_t)(len >> 8);
	buf[2] = (uint8_t)len;
	memcpy(buf + F_HDR, body, len);
	if (sim_send(h->s, h->self, id, buf, F_HDR + len) == TN_OK)
		sim_note_frames(h->s, h->self, 1);
}

static void send_summary(fhost *h, sim_conn_id id)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(h->have >> (56 - 8 * i));
	send_frame(h, id, F_SUMMARY, b, sizeof b);
}

static void send_item(fhost *h, sim_conn_id id, unsigned idx)
{
	uint8_t b[1 + FLOOD_MAX_PAYLOAD];
	b[0] = (uint8_t)idx;
	for (size_t i = 0; i < h->f->cfg.payload; i++)
		b[1 + i] = (uint8_t)(idx ^ i);
	send_frame(h, id, F_ITEM, b, 1 + h->f->cfg.payload);
}

/* Take item idx: record it, keep it on disk, push it everywhere but `from`. */
static void accept_item(fhost *h, unsigned idx, sim_conn_id from)
{
	uint64_t bit = UINT64_C(1) << idx;
	if (h->have & bit)
		return;
	h->have |= bit;
	h->f->disk[h->self] |= bit;
	sim_has(h->s, h->self, h->f->items[idx]);
	for (size_t i = 0; i < h->nc; i++)
		if (h->c[i].open && h->c[i].id != from)
			send_item(h, h->c[i].id, idx);
}

/* One whole frame. A malformed one closes the connection: it would be an
 * engine bug (bytes out of order or corrupted), and the tests notice the
 * missing deliveries. */
static bool on_frame(fhost *h, sim_conn_id id, const uint8_t *p, size_t len)
{
	uint8_t type = p[0];
	p += F_HDR;
	len -= F_HDR;
	if (type == F_SUMMARY && len == 8) {
		uint64_t theirs = 0;
		for (int i = 0; i < 8; i++)
			theirs = theirs << 8 | p[i];
		uint64_t missing = h->have & ~theirs;
		for (unsigned i = 0; i < FLOOD_MAX_ITEMS; i++)
			if (missing >> i & 1)
				send_item(h, id, i);
		return true;
	}
	if (type == F_ITEM && len == 1 + h->f->cfg.payload && p[0] < h->f->nitems) {
		for (size_t i = 0; i < h->f->cfg.payload; i++)
			if (p[1 + i] != (uint8_t)(p[0] ^ i))
				return false;
		accept_item(h, p[0], id);
		return true;
	}
	return false;
}

static size_t frame_len(const uint8_t *p)
{
	return F_HDR + ((size_t)p[1] << 8 | p[2]);
}

/* ---- host callbacks ------------------------------------------------------ */

static void *f_boot(void *cls, sim *s, sim_host_id self, sim_boot how, tn_time now)
{
	flood *f = cls;
	fhost *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	*h = (fhost){
	        .f = f, .s = s, .self = self, .have = f->disk[self], .timer_at = TN_TIME_NEVER};
	sim_rng_init(&h->rng, sim_seed(s),
	             (uint64_t)1 << 40 | (uint64_t)self << 8 | f->boots[self]++);
	/* Dial from a timer at once rather than from boot: at first boot the
	 * higher-numbered neighbours do not exist yet. */
	h->first = how == SIM_BOOT_FIRST;
	h->timer_at = now;
	sim_timer(s, self, now);
	return h;
}

static void f_halt(void *st)
{
	fhost *h = st;
	for (size_t i = 0; i < h->nc; i++)
		free(h->c[i].rx);
	free(h->c);
	free(h);
}

static void f_connected(void *st, sim_conn_id id, sim_host_id peer, sim_role role, uint64_t tag,
                        tn_time now)
{
	(void)tag;
	(void)now;
	fhost *h = st;
	fconn *c = role == SIM_INITIATOR ? find(h, id) : add(h, id, peer, true);
	if (!c) {
		sim_close(h->s, h->self, id);
		return;
	}
	c->open = true;
	send_summary(h, id);
}

static void f_recv(void *st, sim_conn_id id, const uint8_t *buf, size_t len, tn_time now)
{
	fhost *h = st;
	fconn *c = find(h, id);
	if (!c)
		return;
	while (len > 0) {
		/* Whole frames straight from buf; the tail of a cut one in rx. */
		if (c->rxlen == 0 && len >= F_HDR && len >= frame_len(buf)) {
			size_t n = frame_len(buf);
			if (!on_frame(h, id, buf, n))
				goto bad;
			buf += n;
			len -= n;
			c = find(h, id);
			if (!c)
				return;
			continue;
		}
		if (!c->rx && !(c->rx = malloc(F_MAX_FRAME)))
			goto bad;
		size_t want = c->rxlen < F_HDR ? F_HDR : frame_len(c->rx);
		if (want > F_MAX_FRAME)
			goto bad;
		size_t n = want - c->rxlen < len ? want - c->rxlen : len;
		memcpy(c->rx + c->rxlen, buf, n);
		c->rxlen += n;
		buf += n;
		len -= n;
		if (c->rxlen >= F_HDR && c->rxlen == frame_len(c->rx)) {
			c->rxlen = 0;
			if (!on_frame(h, id, c->rx, frame_len(c->rx)))
				goto bad;
			c = find(h, id);
			if (!c)
				return;
		}
	}
	return;
bad:
	sim_close(h->s, h->self, id);
	if ((c = find(h, id)))
		drop(h, c);
	arm_redial(h, now);
}

static void f_closed(void *st, sim_conn_id id, sim_close_reason why, tn_time now)
{
	(void)why;
	fhost *h = st;
	fconn *c = find(h, id);
	if (c)
		drop(h, c);
	arm_redial(h, now);
}

static void f_timer(void *st, tn_time now)
{
	fhost *h = st;
	h->timer_at = TN_TIME_NEVER;
	dial_missing(h, h->first ? h->self + 1 : 0, now);
	h->first = false;
}

static void f_wake(void *st, tn_time since, tn_time now)
{
	(void)since;
	dial_missing(st, 0, now);
}

static const sim_host_ops flood_ops = {
        .boot = f_boot,
        .halt = f_halt,
        .connected = f_connected,
        .recv = f_recv,
        .closed = f_closed,
        .timer = f_timer,
        .wake = f_wake,
};

/* ---- class --------------------------------------------------------------- */

tn_err flood_new(flood **out, sim *s, const flood_cfg *cfg)
{
	*out = NULL;
	if (!cfg->ov || cfg->payload > FLOOD_MAX_PAYLOAD || cfg->redial == 0)
		return TN_ERR_INVAL;
	flood *f = calloc(1, sizeof *f);
	if (!f)
		return TN_ERR_NOMEM;
	f->s = s;
	f->cfg = *cfg;
	f->n = cfg->ov->n;
	f->disk = calloc((size_t)f->n + 1, sizeof *f->disk);
	f->boots = calloc((size_t)f->n + 1, sizeof *f->boots);
	if (!f->disk || !f->boots) {
		flood_del(f);
		return TN_ERR_NOMEM;
	}
	*out = f;
	return TN_OK;
}

void flood_del(flood *f)
{
	if (!f)
		return;
	free(f->disk);
	free(f->boots);
	free(f);
}

tn_err flood_add_hosts(flood *f)
{
	if (sim_host_count(f->s) != 0)
		return TN_ERR_STATE;
	for (uint32_t i = 0; i < f->n; i++) {
		sim_host_id id;
		tn_err rc = sim_host_add(f->s, &flood_ops, f, &id);
		if (rc != TN_OK)
			return rc;
	}
	return TN_OK;
}

tn_err flood_inject(flood *f, sim_host_id origin, tn_time expiry, sim_item_id *item)
{
	fhost *h = sim_host_data(f->s, origin);
	if (!h || sim_host_get_state(f->s, origin) != SIM_ONLINE)
		return TN_ERR_STATE;
	if (f->nitems == FLOOD_MAX_ITEMS)
		return TN_ERR_LIMIT;
	tn_err rc = sim_item_new(f->s, origin, expiry, &f->items[f->nitems]);
	if (rc != TN_OK)
		return rc;
	*item = f->items[f->nitems];
	accept_item(h, f->nitems++, 0);
	return TN_OK;
}

size_t flood_open_links(const flood *f, sim_host_id h)
{
	const fhost *fh = sim_host_data(f->s, h);
	size_t n = 0;
	if (fh && sim_host_get_state(f->s, h) == SIM_ONLINE)
		for (size_t i = 0; i < fh->nc; i++)
			n += fh->c[i].open;
	return n;
}
