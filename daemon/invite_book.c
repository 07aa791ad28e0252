/* tocsind: the invite book at rest, sealed (see invite_book.h).
 *
 * Stored under the meta key "invite_book":
 *   version 2: 0x02 | nonce (24) | XChaCha20-Poly1305(plaintext), AD =
 *              "tocsin/1 invite book" | 0x02
 *   plaintext: count (1) | per invite: secret | network id | expires_ms (8)
 *              | role (1) | used (1) | used_ms (8) | name length (1) |
 *              name | tied (1) | member (32)
 *              then count (2) | per member invited: member (32) | name
 *              length (1) | name
 *   version 1 (unsealed, before): 0x01 | count | per invite: secret (32) |
 *              network id | expires_ms | role | used | used_ms
 * Integers little-endian. */
#define _POSIX_C_SOURCE 200809L
#include "invite_book.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctlproto.h"

#define BOOK_KEY    "invite_book"
#define BOOK_AD     "tocsin/1 invite book"
#define KDF_CONTEXT "invbook1" /* crypto_kdf: 8 bytes */

enum {
	V1 = 1,
	V2 = 2,
	TAG = 16,          /* BLAKE2b-128 of an invite's secret: names it without keeping it */
	INVITED_MAX = 256, /* members remembered with the name they were invited as */
	V1_ENTRY = 32 + TN_NETWORK_ID + 8 + 1 + 1 + 8,
	ENTRY = TN_INVITE_SECRET + TN_NETWORK_ID + 8 + 1 + 1 + 8 + 1 + TN_NAME_MAX + 1 + TN_PUBKEY,
	PLAIN_MAX =
	        1 + TN_INVITE_BOOK_MAX * ENTRY + 2 + INVITED_MAX * (TN_PUBKEY + 1 + TN_NAME_MAX),
	NONCE = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	MAC = crypto_aead_xchacha20poly1305_ietf_ABYTES,
	BLOB_MAX = 1 + NONCE + PLAIN_MAX + MAC,
};

typedef struct named {
	uint8_t tag[TAG];
	char name[TN_NAME_MAX + 1];
	bool tied; /* used, and tied to member */
	tn_pubkey member;
} named;

typedef struct invited {
	tn_pubkey member;
	char name[TN_NAME_MAX + 1];
} invited;

struct td_invbook {
	td_store *store;
	td_log *log;
	named names[TN_INVITE_BOOK_MAX];
	size_t nnames;
	invited inv[INVITED_MAX];
	size_t ninv, inv_next;
	uint8_t hash[TN_HASH]; /* keyed hash of the plaintext last written */
	bool saved;
	uint8_t *plain, *blob; /* scratch, wiped after use */
};

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void tag_of(const uint8_t *secret, size_t len, uint8_t tag[TAG])
{
	crypto_generichash(tag, TAG, secret, len, (const uint8_t *)KDF_CONTEXT, 8);
}

/* Subkey 1 seals the book, subkey 2 keys the hash that tells a change. */
static void book_key(const tn_identity *id, uint64_t sub, uint8_t key[crypto_kdf_KEYBYTES])
{
	crypto_kdf_derive_from_key(key, crypto_kdf_KEYBYTES, sub, KDF_CONTEXT,
	                           tn_identity_link_secret(id)->b);
}

tn_err td_invbook_new(td_invbook **out, td_store *store, td_log *log)
{
	td_invbook *b = calloc(1, sizeof *b);
	if (!b)
		return TN_ERR_NOMEM;
	b->plain = malloc(PLAIN_MAX);
	b->blob = malloc(BLOB_MAX);
	if (!b->plain || !b->blob) {
		td_invbook_del(b);
		return TN_ERR_NOMEM;
	}
	b->store = store;
	b->log = log;
	*out = b;
	return TN_OK;
}

void td_invbook_del(td_invbook *b)
{
	if (!b)
		return;
	if (b->plain)
		sodium_memzero(b->plain, PLAIN_MAX);
	free(b->plain);
	free(b->blob);
	sodium_memzero(b, sizeof *b);
	free(b);
}

static named *name_for(td_invbook *b, const uint8_t tag[TAG])
{
	for (size_t i = 0; i < b->nnames; i++)
		if (sodium_memcmp(b->names[i].tag, tag, TAG) == 0)
			return &b->names[i];
	return NULL;
}

static void invited_add(td_invbook *b, const tn_pubkey *member, const char *name)
{
	for (size_t i = 0; i < b->ninv; i++)
		if (tn_pubkey_eq(&b->inv[i].member, member))
			return;
	invited *v = &b->inv[b->inv_next];
	b->inv_next = (b->inv_next + 1) % INVITED_MAX;
	if (b->ninv < INVITED_MAX)
		b->ninv++;
	v->member = *member;
	snprintf(v->name, sizeof v->name, "%s", name);
}

/* ---- encoding ----------------------------------------------------------- */

static size_t encode(td_invbook *b, const tn_invite_book *bk)
{
	uint8_t *p = b->plain;
	size_t n = bk->count < TN_INVITE_BOOK_MAX ? bk->count : TN_INVITE_BOOK_MAX;
	*p++ = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		const tn_invite_entry *e = &bk->e[i];
		uint8_t tag[TAG];
		tag_of(e->secret.b, sizeof e->secret.b, tag);
		const named *nm = name_for(b, tag);
		memcpy(p, e->secret.b, TN_INVITE_SECRET);
		p += TN_INVITE_SECRET;
		memcpy(p, e->network_id, TN_NETWORK_ID);
		p += TN_NETWORK_ID;
		put64(p, e->expires_ms);
		p += 8;
		*p++ = e->role;
		*p++ = e->used ? 1 : 0;
		put64(p, e->used_ms);
		p += 8;
		size_t nl = nm ? strlen(nm->name) : 0;
		*p++ = (uint8_t)nl;
		if (nl)
			memcpy(p, nm->name, nl);
		p += nl;
		*p++ = nm && nm->tied ? 1 : 0;
		if (nm && nm->tied)
			memcpy(p, nm->member.b, TN_PUBKEY);
		else
			memset(p, 0, TN_PUBKEY);
		p += TN_PUBKEY;
	}
	*p++ = (uint8_t)(b->ninv & 0xff);
	*p++ = (uint8_t)(b->ninv >> 8);
	for (size_t k = 0; k < b->ninv; k++) {
		/* oldest first, so a reload keeps the ring's order */
		const invited *v = &b->inv[(b->inv_next + INVITED_MAX - b->ninv + k) % INVITED_MAX];
		memcpy(p, v->member.b, TN_PUBKEY);
		p += TN_PUBKEY;
		size_t nl = strlen(v->name);
		*p++ = (uint8_t)nl;
		memcpy(p, v->name, nl);
		p += nl;
	}
	return (size_t)(p - b->plain);
}

/* A name from the file: at most TN_NAME_MAX bytes, valid UTF-8 kept. */
static bool take_name(const uint8_t **p, const uint8_t *end, char out[TN_NAME_MAX + 1])
{
	if (*p >= end)
		return false;
	size_t nl = *(*p)++;
	if (nl > TN_NAME_MAX || (size_t)(end - *p) < nl)
		return false;
	memcpy(out, *p, nl);
	out[nl] = '\0';
	td_ctl_utf8_clean(out, TN_NAME_MAX + 1, out);
	*p += nl;
	return true;
}

static bool decode_v2(td_invbook *b, tn_invite_book *bk, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	tn_invite_book_init(bk);
	b->nnames = b->ninv = b->inv_next = 0;
	if (len < 3 || p[0] > TN_INVITE_BOOK_MAX)
		return false;
	size_t n = *p++;
	for (size_t i = 0; i < n; i++) {
		if ((size_t)(end - p) < TN_INVITE_SECRET + TN_NETWORK_ID + 18)
			return false;
		tn_invite_entry *e = &bk->e[bk->count++];
		memcpy(e->secret.b, p, TN_INVITE_SECRET);
		p += TN_INVITE_SECRET;
		memcpy(e->network_id, p, TN_NETWORK_ID);
		p += TN_NETWORK_ID;
		e->expires_ms = get64(p);
		p += 8;
		e->role = *p++;
		e->used = *p++ != 0;
		e->used_ms = get64(p);
		p += 8;
		named *nm = &b->names[b->nnames];
		memset(nm, 0, sizeof *nm);
		if (!take_name(&p, end, nm->name) || (size_t)(end - p) < 1 + TN_PUBKEY)
			return false;
		nm->tied = *p++ != 0;
		memcpy(nm->member.b, p, TN_PUBKEY);
		p += TN_PUBKEY;
		tag_of(e->secret.b, sizeof e->secret.b, nm->tag);
		b->nnames++;
	}
	if (end - p < 2)
		return false;
	size_t ni = (size_t)p[0] | (size_t)p[1] << 8;
	p += 2;
	if (ni > INVITED_MAX)
		return false;
	for (size_t k = 0; k < ni; k++) {
		tn_pubkey pk;
		char name[TN_NAME_MAX + 1];
		if ((size_t)(end - p) < TN_PUBKEY)
			return false;
		memcpy(pk.b, p, TN_PUBKEY);
		p += TN_PUBKEY;
		if (!take_name(&p, end, name))
			return false;
		invited_add(b, &pk, name);
	}
	return p == end;
}

/* The unsealed book of version 1: its invites are carried over when their
 * secrets have today's size (otherwise their codes are of an older format
 * no client reads any more, and they are dropped). */
static bool decode_v1(tn_invite_book *bk, const uint8_t *p, size_t len, size_t *dropped)
{
	tn_invite_book_init(bk);
	*dropped = 0;
	if (len < 2 || p[1] > TN_INVITE_BOOK_MAX || len != 2 + (size_t)p[1] * V1_ENTRY)
		return false;
	size_t n = p[1];
	p += 2;
	for (size_t i = 0; i < n; i++, p += V1_ENTRY) {
		if (TN_INVITE_SECRET != 32) {
			(*dropped)++;
			continue;
		}
		tn_invite_entry *e = &bk->e[bk->count++];
		memcpy(e->secret.b, p, sizeof e->secret.b);
		memcpy(e->network_id, p + 32, TN_NETWORK_ID);
		e->expires_ms = get64(p + 32 + TN_NETWORK_ID);
		e->role = p[32 + TN_NETWORK_ID + 8];
		e->used = p[32 + TN_NETWORK_ID + 9] != 0;
		e->used_ms = get64(p + 32 + TN_NETWORK_ID + 10);
	}
	return true;
}

/* ---- load and save ---------------------------------------------------------- */

static void write_sealed(td_invbook *b, size_t n, const tn_identity *id, const uint8_t h[TN_HASH])
{
	uint8_t key[crypto_kdf_KEYBYTES], ad[sizeof BOOK_AD];
	book_key(id, 1, key);
	memcpy(ad, BOOK_AD, sizeof BOOK_AD - 1);
	ad[sizeof BOOK_AD - 1] = V2;
	b->blob[0] = V2;
	randombytes_buf(b->blob + 1, NONCE);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(b->blob + 1 + NONCE, &clen, b->plain, n, ad,
	                                           sizeof ad, NULL, b->blob + 1, key);
	sodium_memzero(key, sizeof key);
	if (td_store_meta_put(b->store, BOOK_KEY, b->blob, 1 + NONCE + (size_t)clen) != TN_OK) {
		td_warn(b->log, "invite_book_save_failed");
		return;
	}
	memcpy(b->hash, h, TN_HASH);
	b->saved = true;
}

/* Encode the node's book and write it when it differs from the last
 * write (or always, with write false: only remember it as written). */
static void save(td_invbook *b, const tn_node *node, const tn_identity *id, bool write)
{
	const tn_invite_book *bk = node ? tn_node_invite_book(node) : NULL;
	if (!b || !bk || !id)
		return;
	size_t n = encode(b, bk);
	uint8_t h[TN_HASH], hk[crypto_generichash_KEYBYTES];
	book_key(id, 2, hk);
	crypto_generichash(h, sizeof h, b->plain, n, hk, sizeof hk);
	sodium_memzero(hk, sizeof hk);
	if (!write) {
		memcpy(b->hash, h, sizeof h);
		b->saved = true;
	} else if (!b->saved || sodium_memcmp(h, b->hash, sizeof h) != 0)
		write_sealed(b, n, id, h);
	sodium_memzero(b->plain, n);
}

void td_invbook_save(td_invbook *b, const tn_node *node, const tn_identity *id)
{
	save(b, node, id, true);
}

tn_err td_invbook_read(td_invbook *b, const tn_identity *id, tn_invite_book *bk, int *version,
                       size_t *dropped)
{
	tn_invite_book_init(bk);
	*version = 0;
	*dropped = 0;
	tn_ssize n = td_store_meta_get(b->store, BOOK_KEY, b->blob, BLOB_MAX);
	if (n < 0)
		return (tn_err)n;
	bool ok = false;
	if (n >= 1 && b->blob[0] == V1) {
		ok = decode_v1(bk, b->blob, (size_t)n, dropped);
		*version = V1;
	} else if (n >= 1 + NONCE + MAC && b->blob[0] == V2) {
		uint8_t key[crypto_kdf_KEYBYTES], ad[sizeof BOOK_AD];
		book_key(id, 1, key);
		memcpy(ad, BOOK_AD, sizeof BOOK_AD - 1);
		ad[sizeof BOOK_AD - 1] = V2;
		unsigned long long plen = 0;
		ok = crypto_aead_xchacha20poly1305_ietf_decrypt(
		             b->plain, &plen, NULL, b->blob + 1 + NONCE, (size_t)n - 1 - NONCE, ad,
		             sizeof ad, b->blob + 1, key) == 0 &&
		     decode_v2(b, bk, b->plain, (size_t)plen);
		sodium_memzero(key, sizeof key);
		sodium_memzero(b->plain, PLAIN_MAX);
		*version = V2;
	}
	sodium_memzero(b->blob, BLOB_MAX);
	if (!ok)
		tn_invite_book_free(bk);
	return ok ? TN_OK : TN_ERR_AUTH;
}

tn_err td_invbook_load(td_invbook *b, tn_node *node, const tn_identity *id)
{
	tn_invite_book *bk = malloc(sizeof *bk);
	if (!bk)
		return TN_ERR_NOMEM;
	int version;
	size_t dropped;
	tn_err rc = td_invbook_read(b, id, bk, &version, &dropped);
	if (rc == TN_ERR_NOTFOUND || (rc != TN_OK && rc != TN_ERR_AUTH)) {
		free(bk);
		return rc == TN_ERR_NOTFOUND ? TN_OK : rc;
	}
	bool ok = rc == TN_OK, migrate = version == V1;
	if (ok) {
		tn_node_invite_book_set(node, bk);
		td_info(b->log, "invite_book_loaded outstanding=%zu sealed=%s", bk->count,
		        migrate ? "no" : "yes");
	} else
		td_warn(b->log, "invite_book_unreadable action=ignored");
	tn_invite_book_free(bk);
	free(bk);
	if (migrate && ok) {
		/* Write it back sealed now: the unsealed row is replaced (and
		 * secure_delete overwrites the freed page). */
		b->saved = false;
		save(b, node, id, true);
		td_info(b->log, "invite_book_migrated from=1 to=2 sealed=yes dropped=%zu", dropped);
	} else if (ok) {
		save(b, node, id, false); /* what the store holds: not written again */
	}
	return TN_OK;
}

/* ---- names ------------------------------------------------------------------ */

void td_invbook_named(td_invbook *b, const tn_invite *inv, tn_view name)
{
	uint8_t tag[TAG];
	tag_of(inv->secret.b, sizeof inv->secret.b, tag);
	named *nm = name_for(b, tag);
	if (!nm) {
		/* Drop names whose invite left the node's book (the node purges
		 * expired ones before adding): keep at most one per slot. */
		if (b->nnames == TN_INVITE_BOOK_MAX) {
			memmove(&b->names[0], &b->names[1],
			        (TN_INVITE_BOOK_MAX - 1) * sizeof b->names[0]);
			b->nnames--;
		}
		nm = &b->names[b->nnames++];
	}
	memset(nm, 0, sizeof *nm);
	memcpy(nm->tag, tag, TAG);
	size_t nl = name.len < TN_NAME_MAX ? name.len : TN_NAME_MAX;
	memcpy(nm->name, name.p, nl);
	nm->name[nl] = '\0';
	td_ctl_utf8_clean(nm->name, sizeof nm->name, nm->name);
}

const char *td_invbook_joined(td_invbook *b, const tn_node *node, const tn_pubkey *member)
{
	const tn_invite_book *bk = tn_node_invite_book(node);
	named *best = NULL;
	uint64_t best_ms = 0;
	for (size_t i = 0; bk && i < bk->count; i++) {
		const tn_invite_entry *e = &bk->e[i];
		uint8_t tag[TAG];
		tag_of(e->secret.b, sizeof e->secret.b, tag);
		named *nm = name_for(b, tag);
		if (e->used && nm && !nm->tied && (!best || e->used_ms >= best_ms)) {
			best = nm;
			best_ms = e->used_ms;
		}
	}
	if (!best)
		return NULL;
	best->tied = true;
	best->member = *member;
	invited_add(b, member, best->name);
	return best->name;
}

const char *td_invbook_invited_as(const td_invbook *b, const tn_pubkey *member)
{
	for (size_t i = 0; b && i < b->ninv; i++)
		if (tn_pubkey_eq(&b->inv[i].member, member))
			return b->inv[i].name;
	return NULL;
}
