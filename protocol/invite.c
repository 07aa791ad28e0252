/* Invite codes: payload codec, base32 human code with checksum, join PSK,
 * and the coordinator's book of outstanding invites. */
#include <string.h>

#include <sodium.h>

#include "codec_priv.h"
#include "tocsin/invite.h"

enum { INVITE_FIELDS = 7 };

static const char *const reason_names[TN_INVITE_REASON_COUNT] = {
        "ok",      "charset", "length",  "padding", "checksum", "payload",
        "expired", "used",    "unknown", "full",    "exists",
};

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

const char *tn_invite_reason_str(int reason)
{
	if (reason < 0 || reason >= TN_INVITE_REASON_COUNT)
		return "unknown";
	return reason_names[reason];
}

static void say(tn_invite_reason *why, tn_invite_reason r)
{
	if (why)
		*why = r;
}

static bool endpoint_ok(const uint8_t *s, size_t n)
{
	tn_view v = {s, n};
	return tn_codec_text_ok(&v, TN_ENDPOINT_STR_MAX) &&
	       ((n >= 4 && memcmp(s, "tcp:", 4) == 0) || (n >= 6 && memcmp(s, "onion:", 6) == 0));
}

/* Invite codes carry whole seconds as a u32 (docs/wire.md). */
#define EXPIRES_MS_MAX (UINT64_C(0xffffffff) * 1000)

static bool invite_valid(const tn_invite *inv)
{
	if (inv->endpoint_count == 0 || inv->endpoint_count > TN_INVITE_ENDPOINTS_MAX ||
	    inv->role > TN_ROLE_COORDINATOR || inv->expires_ms % 1000 != 0 ||
	    inv->expires_ms > EXPIRES_MS_MAX)
		return false;
	for (size_t i = 0; i < inv->endpoint_count; i++)
		if (inv->endpoint_len[i] > TN_ENDPOINT_STR_MAX ||
		    !endpoint_ok((const uint8_t *)inv->endpoints[i], inv->endpoint_len[i]))
			return false;
	return true;
}

tn_err tn_invite_new(tn_invite *inv, const tn_rand *rand, const uint8_t network_id[TN_NETWORK_ID],
                     const tn_linkpub *coordinator_link, const tn_view *endpoints, size_t n,
                     uint64_t expires_ms, uint8_t role)
{
	if (!inv)
		return TN_ERR_INVAL;
	memset(inv, 0, sizeof *inv);
	if (!rand || !rand->fn || !network_id || !coordinator_link || !endpoints || n == 0 ||
	    n > TN_INVITE_ENDPOINTS_MAX || role > TN_ROLE_COORDINATOR ||
	    expires_ms / 1000 > UINT32_MAX)
		return TN_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		if (!endpoints[i].p || !endpoint_ok(endpoints[i].p, endpoints[i].len))
			return TN_ERR_INVAL;
		memcpy(inv->endpoints[i], endpoints[i].p, endpoints[i].len);
		inv->endpoint_len[i] = endpoints[i].len;
	}
	inv->endpoint_count = n;
	memcpy(inv->network_id, network_id, TN_NETWORK_ID);
	inv->coordinator_link = *coordinator_link;
	inv->expires_ms = expires_ms - expires_ms % 1000;
	inv->role = role;
	tn_rand_bytes(rand, inv->secret.b, sizeof inv->secret.b);
	return TN_OK;
}

void tn_invite_wipe(tn_invite *inv)
{
	if (inv)
		sodium_memzero(inv, sizeof *inv);
}

/* ---- payload ----------------------------------------------------------------- */

/* "tcp:A.B.C.D:PORT" spelled canonically (decimal octets 0..255 without
 * leading zeros, port 1..65535 without leading zeros) as 4 address bytes
 * and the port big-endian. Anything else (host names, IPv6, onion, a
 * leading zero, port 0) is not packed and travels as a str. Packing and
 * rendering are inverse, so every endpoint has one encoding. */
enum { PACKED_EP = 6 };

static bool dec_field(const uint8_t **p, const uint8_t *end, unsigned max, unsigned *v)
{
	const uint8_t *s = *p;
	unsigned x = 0;
	size_t k = 0;
	while (s < end && *s >= '0' && *s <= '9' && k < 5) {
		x = x * 10 + (unsigned)(*s++ - '0');
		k++;
	}
	if (k == 0 || (k > 1 && **p == '0') || x > max)
		return false;
	*p = s;
	*v = x;
	return true;
}

static bool ep_pack(const uint8_t *s, size_t n, uint8_t out[PACKED_EP])
{
	const uint8_t *p = s + 4, *end = s + n;
	unsigned v;
	if (n < 4 || memcmp(s, "tcp:", 4) != 0)
		return false;
	for (int i = 0; i < 4; i++) {
		if (!dec_field(&p, end, 255, &v) || p == end || *p++ != (i < 3 ? '.' : ':'))
			return false;
		out[i] = (uint8_t)v;
	}
	if (!dec_field(&p, end, 65535, &v) || v == 0 || p != end)
		return false;
	out[4] = (uint8_t)(v >> 8);
	out[5] = (uint8_t)v;
	return true;
}

/* Decimal without leading zeros (no stdio in protocol/). */
static size_t put_dec(char *out, unsigned v)
{
	char d[5];
	size_t k = 0;
	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < k; i++)
		out[i] = d[k - 1 - i];
	return k;
}

/* "tcp:" + 4 x (3 digits + separator) + 5 digits: 25 bytes at most. */
static size_t ep_render(const uint8_t in[PACKED_EP], char out[TN_ENDPOINT_STR_MAX + 1])
{
	size_t o = 4;
	memcpy(out, "tcp:", 4);
	for (int i = 0; i < 4; i++) {
		o += put_dec(out + o, in[i]);
		out[o++] = i < 3 ? '.' : ':';
	}
	o += put_dec(out + o, (unsigned)in[4] << 8 | in[5]);
	out[o] = '\0';
	return o;
}

static void invite_put(tn_mp_wr *w, const void *obj)
{
	const tn_invite *inv = obj;
	tn_mp_put_array(w, INVITE_FIELDS);
	tn_mp_put_uint(w, TN_INVITE_VERSION);
	tn_mp_put_bin(w, inv->network_id, TN_NETWORK_ID);
	tn_mp_put_bin(w, inv->coordinator_link.b, TN_PUBKEY);
	tn_mp_put_array(w, inv->endpoint_count);
	for (size_t i = 0; i < inv->endpoint_count; i++) {
		uint8_t packed[PACKED_EP];
		const uint8_t *e = (const uint8_t *)inv->endpoints[i];
		if (ep_pack(e, inv->endpoint_len[i], packed))
			tn_mp_put_bin(w, packed, sizeof packed);
		else
			tn_mp_put_str(w, e, inv->endpoint_len[i]);
	}
	tn_mp_put_bin(w, inv->secret.b, TN_INVITE_SECRET);
	tn_mp_put_uint(w, inv->expires_ms / 1000);
	tn_mp_put_uint(w, inv->role);
}

tn_ssize tn_invite_encode(const tn_invite *inv, uint8_t *out, size_t cap)
{
	if (!inv || !invite_valid(inv))
		return TN_ERR_INVAL;
	return tn_codec_emit(invite_put, inv, TN_INVITE_PAYLOAD_MAX, out, cap);
}

typedef struct ep_elem {
	tn_view v;
	bool packed; /* v is PACKED_EP bytes */
} ep_elem;

/* A str endpoint that could have been packed is refused: one encoding. */
static tn_err endpoint_elem(tn_mp_rd *r, void *out, const void *prev)
{
	ep_elem *e = out;
	uint8_t packed[PACKED_EP];
	(void)prev;
	e->packed = r->off < r->len && (r->buf[r->off] == 0xc4 || r->buf[r->off] == 0xc5 ||
	                                r->buf[r->off] == 0xc6);
	if (e->packed) {
		tn_err rc = tn_mp_read_bin(r, PACKED_EP, PACKED_EP, &e->v.p, &e->v.len);
		/* ep_pack never packs port 0 (it goes as str): one encoding. */
		if (rc == TN_OK && e->v.p[4] == 0 && e->v.p[5] == 0)
			return TN_ERR_DEC_NONCANONICAL;
		return rc;
	}
	tn_err rc = tn_mp_read_str(r, TN_ENDPOINT_STR_MAX, &e->v.p, &e->v.len);
	if (rc)
		return rc;
	if (ep_pack(e->v.p, e->v.len, packed))
		return TN_ERR_DEC_NONCANONICAL;
	return endpoint_ok(e->v.p, e->v.len) ? TN_OK : TN_ERR_DEC_RANGE;
}

static tn_err invite_fields(tn_mp_rd *r, tn_invite *inv)
{
	tn_list l;
	uint64_t role, version, secs;
	uint32_t n;
	tn_err rc;
	/* Not tn_codec_open: invites have their own version number. */
	if ((rc = tn_mp_read_array(r, &n)))
		return rc;
	if (n != INVITE_FIELDS)
		return TN_ERR_DEC_ARRAYLEN;
	if ((rc = tn_mp_read_uint(r, UINT64_MAX, &version)))
		return rc;
	if (version != TN_INVITE_VERSION)
		return TN_ERR_DEC_VERSION;
	if ((rc = tn_mp_read_bin_fixed(r, inv->network_id, TN_NETWORK_ID)) ||
	    (rc = tn_mp_read_bin_fixed(r, inv->coordinator_link.b, TN_PUBKEY)) ||
	    (rc = tn_codec_list(r, 1, TN_INVITE_ENDPOINTS_MAX, endpoint_elem, sizeof(ep_elem),
	                        &l)) ||
	    (rc = tn_mp_read_bin_fixed(r, inv->secret.b, TN_INVITE_SECRET)) ||
	    (rc = tn_mp_read_uint(r, UINT32_MAX, &secs)) ||
	    (rc = tn_mp_read_uint(r, TN_ROLE_COORDINATOR, &role)))
		return rc;
	inv->expires_ms = secs * 1000;
	inv->role = (uint8_t)role;
	tn_iter it;
	ep_elem e;
	tn_iter_init(&it, &l);
	while (inv->endpoint_count < l.count &&
	       (rc = tn_codec_iter_next(&it, endpoint_elem, &e)) == TN_OK) {
		size_t k = inv->endpoint_count++;
		if (e.packed)
			inv->endpoint_len[k] = ep_render(e.v.p, inv->endpoints[k]);
		else {
			memcpy(inv->endpoints[k], e.v.p, e.v.len);
			inv->endpoint_len[k] = e.v.len;
		}
	}
	if (rc)
		return rc;
	return tn_codec_close(r);
}

tn_err tn_invite_decode(tn_invite *inv, const uint8_t *in, size_t len)
{
	tn_mp_rd r;
	memset(inv, 0, sizeof *inv);
	if (len > TN_INVITE_PAYLOAD_MAX)
		return TN_ERR_DEC_TOOBIG;
	tn_mp_rd_init(&r, in, len);
	tn_err rc = invite_fields(&r, inv);
	if (rc)
		tn_invite_wipe(inv);
	return rc;
}

/* ---- the human code ------------------------------------------------------------- */

static void checksum(const uint8_t *p, size_t n, uint8_t out[TN_INVITE_CHECKSUM])
{
	uint8_t h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, p, n, NULL, 0);
	memcpy(out, h, TN_INVITE_CHECKSUM);
}

tn_ssize tn_invite_to_code(const tn_invite *inv, char *out, size_t cap)
{
	uint8_t buf[TN_INVITE_PAYLOAD_MAX + TN_INVITE_CHECKSUM];
	tn_ssize n = tn_invite_encode(inv, buf, sizeof buf);
	if (n < 0)
		return n;
	size_t len = (size_t)n;
	checksum(buf, len, buf + len);
	len += TN_INVITE_CHECKSUM;
	size_t letters = (len * 8 + 4) / 5;
	size_t total = letters + (letters - 1) / TN_INVITE_GROUP;
	if (!out || cap < total + 1) {
		sodium_memzero(buf, sizeof buf);
		return TN_ERR_NOBUF;
	}
	size_t o = 0, bits = 0, k = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < len || bits > 0;) {
		if (bits < 5 && i < len) {
			acc = (acc << 8) | buf[i++];
			bits += 8;
			continue;
		}
		/* Last letter: pad the remaining bits with zeros on the right. */
		unsigned v;
		if (bits >= 5) {
			v = (unsigned)(acc >> (bits - 5)) & 31;
			bits -= 5;
		} else {
			v = (unsigned)(acc << (5 - bits)) & 31;
			bits = 0;
		}
		if (k && k % TN_INVITE_GROUP == 0)
			out[o++] = '-';
		out[o++] = b32[v];
		k++;
	}
	out[o] = '\0';
	sodium_memzero(buf, sizeof buf);
	return (tn_ssize)o;
}

static int b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Letters to bytes; separators skipped. */
static tn_err unbase32(const char *code, size_t len, uint8_t *out, size_t cap, size_t *n,
                       tn_invite_reason *why)
{
	size_t letters = 0, o = 0, bits = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		char c = code[i];
		if (c == '-' || c == ' ')
			continue;
		int v = b32_value(c);
		if (v < 0) {
			say(why, TN_INVITE_R_CHARSET);
			return TN_ERR_INVAL;
		}
		letters++;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o == cap) {
				say(why, TN_INVITE_R_LENGTH);
				return TN_ERR_DEC_TOOBIG;
			}
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= (1u << bits) - 1;
	}
	/* Only the letter count we emit for o bytes is accepted, and its
	 * spare bits must be zero: one code per payload. */
	if (letters != (o * 8 + 4) / 5 || acc != 0) {
		say(why, TN_INVITE_R_PADDING);
		return TN_ERR_DEC_NONCANONICAL;
	}
	*n = o;
	return TN_OK;
}

tn_err tn_invite_from_code(tn_invite *inv, const char *code, size_t len, tn_invite_reason *why)
{
	uint8_t buf[TN_INVITE_PAYLOAD_MAX + TN_INVITE_CHECKSUM];
	uint8_t sum[TN_INVITE_CHECKSUM];
	size_t n = 0;
	tn_err rc;
	say(why, TN_INVITE_OK);
	if (!inv || !code)
		return TN_ERR_INVAL;
	memset(inv, 0, sizeof *inv);
	if (len > TN_INVITE_INPUT_MAX) {
		say(why, TN_INVITE_R_LENGTH);
		return TN_ERR_DEC_TOOBIG;
	}
	if ((rc = unbase32(code, len, buf, sizeof buf, &n, why)))
		goto out;
	if (n <= TN_INVITE_CHECKSUM) {
		say(why, TN_INVITE_R_LENGTH);
		rc = TN_ERR_DEC_TRUNCATED;
		goto out;
	}
	n -= TN_INVITE_CHECKSUM;
	checksum(buf, n, sum);
	if (sodium_memcmp(sum, buf + n, TN_INVITE_CHECKSUM) != 0) {
		say(why, TN_INVITE_R_CHECKSUM);
		rc = TN_ERR_INVAL;
		goto out;
	}
	if ((rc = tn_invite_decode(inv, buf, n)))
		say(why, TN_INVITE_R_PAYLOAD);
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}

tn_err tn_invite_check(const tn_invite *inv, uint64_t now_ms, tn_invite_reason *why)
{
	if (now_ms >= inv->expires_ms) {
		say(why, TN_INVITE_R_EXPIRED);
		return TN_ERR_STALE;
	}
	say(why, TN_INVITE_OK);
	return TN_OK;
}

static void join_psk(const tn_invite_secret *secret, const uint8_t network_id[TN_NETWORK_ID],
                     tn_seckey *psk)
{
	static const char label[] = TN_INVITE_PSK_LABEL;
	uint8_t msg[sizeof label - 1 + TN_NETWORK_ID];
	memcpy(msg, label, sizeof label - 1);
	memcpy(msg + sizeof label - 1, network_id, TN_NETWORK_ID);
	crypto_generichash(psk->b, sizeof psk->b, msg, sizeof msg, secret->b, sizeof secret->b);
}

void tn_invite_join_psk(const tn_invite *inv, tn_seckey *psk)
{
	join_psk(&inv->secret, inv->network_id, psk);
}

/* ---- the book ---------------------------------------------------------------------- */

void tn_invite_book_init(tn_invite_book *b)
{
	memset(b, 0, sizeof *b);
}

void tn_invite_book_free(tn_invite_book *b)
{
	if (b)
		sodium_memzero(b, sizeof *b);
}

size_t tn_invite_book_purge(tn_invite_book *b, uint64_t now_ms)
{
	size_t k = 0, n = b->count;
	for (size_t i = 0; i < n; i++)
		if (now_ms < b->e[i].expires_ms)
			b->e[k++] = b->e[i];
	sodium_memzero(&b->e[k], (n - k) * sizeof b->e[0]);
	b->count = k;
	return n - k;
}

tn_err tn_invite_book_add(tn_invite_book *b, const tn_invite *inv, uint64_t now_ms,
                          tn_invite_reason *why)
{
	say(why, TN_INVITE_OK);
	if (!b || !inv)
		return TN_ERR_INVAL;
	if (now_ms >= inv->expires_ms) {
		say(why, TN_INVITE_R_EXPIRED);
		return TN_ERR_STALE;
	}
	tn_invite_book_purge(b, now_ms);
	for (size_t i = 0; i < b->count; i++)
		if (sodium_memcmp(b->e[i].secret.b, inv->secret.b, TN_INVITE_SECRET) == 0) {
			say(why, TN_INVITE_R_EXISTS);
			return TN_ERR_EXISTS;
		}
	if (b->count == TN_INVITE_BOOK_MAX) {
		say(why, TN_INVITE_R_FULL);
		return TN_ERR_LIMIT;
	}
	tn_invite_entry *e = &b->e[b->count++];
	memset(e, 0, sizeof *e);
	e->secret = inv->secret;
	memcpy(e->network_id, inv->network_id, TN_NETWORK_ID);
	e->expires_ms = inv->expires_ms;
	e->role = inv->role;
	return TN_OK;
}

size_t tn_invite_book_psks(const tn_invite_book *b, uint64_t now_ms, tn_seckey *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < b->count && n < max; i++)
		if (!b->e[i].used && now_ms < b->e[i].expires_ms)
			join_psk(&b->e[i].secret, b->e[i].network_id, &out[n++]);
	return n;
}

tn_err tn_invite_book_redeem(tn_invite_book *b, const tn_seckey *psk, uint64_t now_ms,
                             tn_invite_entry *out, tn_invite_reason *why)
{
	say(why, TN_INVITE_OK);
	if (!b || !psk)
		return TN_ERR_INVAL;
	tn_seckey k;
	tn_err rc = TN_ERR_NOTFOUND;
	say(why, TN_INVITE_R_UNKNOWN);
	for (size_t i = 0; i < b->count; i++) {
		tn_invite_entry *e = &b->e[i];
		join_psk(&e->secret, e->network_id, &k);
		if (sodium_memcmp(k.b, psk->b, sizeof k.b) != 0)
			continue;
		if (e->used) {
			say(why, TN_INVITE_R_USED);
			rc = TN_ERR_STATE;
		} else if (now_ms >= e->expires_ms) {
			say(why, TN_INVITE_R_EXPIRED);
			rc = TN_ERR_STALE;
		} else {
			e->used = true;
			e->used_ms = now_ms;
			if (out)
				*out = *e;
			say(why, TN_INVITE_OK);
			rc = TN_OK;
		}
		break;
	}
	sodium_memzero(&k, sizeof k);
	return rc;
}
