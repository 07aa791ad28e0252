/* Noise HandshakeState and SymmetricState (spec rev 34, §5.2, §5.3, §9)
 * for Noise_<pattern>_25519_ChaChaPoly_BLAKE2b. See tocsin/noise.h.
 *
 * Shape: a message is processed token by token in pattern order, exactly
 * as the spec's WriteMessage/ReadMessage do. Sizes are worked out from the
 * pattern before anything is touched, so a too-small buffer or a message
 * shorter than its fixed fields is refused before any state changes or any
 * DH is spent. Any failure once processing has started wipes the whole
 * state: a half-updated handshake is never left behind. */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "noise_priv.h"

enum token { T_E = 1, T_S, T_EE, T_ES, T_SE, T_SS, T_PSK };

enum {
	MSGS_MAX = 3,   /* XX */
	TOKENS_MAX = 8, /* 4 pattern tokens + a psk, rounded up */
	PSK_NONE = 0xff,
};

/* hs->flags: which keys are present. */
enum { F_S = 1, F_E = 2, F_RS = 4, F_RE = 8, F_PSK = 16 };

/* hs->status. 0 (a zeroed or wiped struct) is unusable. */
enum { ST_NONE = 0, ST_ACTIVE, ST_DONE, ST_SPLIT, ST_FAILED };

struct pattern {
	const char *name;
	uint8_t pre_s_init; /* initiator's static is a pre-message ("-> s ...") */
	uint8_t pre_s_resp; /* responder's static is a pre-message ("<- s ...") */
	uint8_t nmsgs;
	uint8_t tokens[MSGS_MAX][TOKENS_MAX]; /* 0-terminated */
};

/* Noise spec §7.4 and §7.5. Message i is sent by the initiator when i is
 * even. Each party's first message starts with "e", so every psk placement
 * meets the validity rule of §9.3 (e before any psk-keyed encryption). */
static const struct pattern patterns[] = {
        {"NN", 0, 0, 2, {{T_E}, {T_E, T_EE}}},
        {"XX", 0, 0, 3, {{T_E}, {T_E, T_EE, T_S, T_ES}, {T_S, T_SE}}},
        {"IK", 0, 1, 2, {{T_E, T_ES, T_S, T_SS}, {T_E, T_EE, T_SE}}},
        {"KK", 1, 1, 2, {{T_E, T_ES, T_SS}, {T_E, T_EE, T_SE}}},
};
enum { NPATTERNS = sizeof patterns / sizeof patterns[0] };

static const char name_prefix[] = "Noise_";
static const char name_suffix[] = "_25519_ChaChaPoly_BLAKE2b";

/* ---- Protocol names ---- */

static const struct pattern *proto_pattern(const tn_noise_protocol *proto)
{
	if (proto == NULL || proto->pattern == 0 || proto->pattern > NPATTERNS)
		return NULL;
	const struct pattern *p = &patterns[proto->pattern - 1];
	if (proto->psk != PSK_NONE && proto->psk > p->nmsgs)
		return NULL;
	return p;
}

/* Write the canonical name of (p, psk) into buf; return its length. */
static size_t build_name(char buf[TN_NOISE_NAME_MAX], const struct pattern *p, uint8_t psk)
{
	size_t n = 0;
	size_t plen = strlen(p->name);
	static_assert(sizeof name_prefix - 1 + 2 + 4 + sizeof name_suffix <= TN_NOISE_NAME_MAX,
	              "name buffer");
	memcpy(buf + n, name_prefix, sizeof name_prefix - 1);
	n += sizeof name_prefix - 1;
	memcpy(buf + n, p->name, plen);
	n += plen;
	if (psk != PSK_NONE) {
		memcpy(buf + n, "psk", 3);
		n += 3;
		buf[n++] = (char)('0' + psk);
	}
	memcpy(buf + n, name_suffix, sizeof name_suffix - 1);
	n += sizeof name_suffix - 1;
	return n;
}

tn_err tn_noise_protocol_parse(const char *name, tn_noise_protocol *proto)
{
	char buf[TN_NOISE_NAME_MAX];

	if (proto == NULL)
		return TN_ERR_INVAL;
	memset(proto, 0, sizeof *proto);
	if (name == NULL)
		return TN_ERR_INVAL;
	/* Bounded strlen (strnlen is POSIX, not C11): never read past the
	 * longest name we could accept, plus its terminator. */
	size_t len = 0;
	while (len < TN_NOISE_NAME_MAX && name[len] != '\0')
		len++;
	if (len == TN_NOISE_NAME_MAX)
		return TN_ERR_PATTERN;
	/* Compare against every name we support: strict, and no parser to get
	 * wrong. A psk modifier may sit at any message boundary 0..nmsgs. */
	for (size_t i = 0; i < NPATTERNS; i++) {
		const struct pattern *p = &patterns[i];
		for (unsigned psk = 0; psk <= (unsigned)p->nmsgs + 1; psk++) {
			uint8_t m = psk == 0 ? PSK_NONE : (uint8_t)(psk - 1);
			size_t n = build_name(buf, p, m);
			buf[n] = '\0';
			/* strcmp, not memcmp: clang turns memcmp() == 0 into
			 * bcmp, which the no-I/O symbol check does not know. */
			if (n == len && strcmp(buf, name) == 0) {
				proto->pattern = (uint8_t)(i + 1);
				proto->psk = m;
				return TN_OK;
			}
		}
	}
	return TN_ERR_PATTERN;
}

unsigned tn_noise_protocol_messages(const tn_noise_protocol *proto)
{
	const struct pattern *p = proto_pattern(proto);
	return p == NULL ? 0 : p->nmsgs;
}

/* Tokens of message i with the psk modifier applied (spec §9.2): psk0 puts
 * "psk" at the start of message 0, pskN at the end of message N-1. */
static size_t msg_tokens(const tn_noise_hs *hs, unsigned i, uint8_t out[TOKENS_MAX])
{
	const struct pattern *p = &patterns[hs->proto.pattern - 1];
	size_t n = 0;
	if (hs->proto.psk == 0 && i == 0)
		out[n++] = T_PSK;
	for (size_t t = 0; t < TOKENS_MAX && p->tokens[i][t] != 0; t++)
		out[n++] = p->tokens[i][t];
	if (hs->proto.psk != PSK_NONE && hs->proto.psk == i + 1)
		out[n++] = T_PSK;
	assert(n <= TOKENS_MAX);
	return n;
}

/* Does role r use a static key of its own (sent or pre-shared)? */
static bool needs_static(const struct pattern *p, tn_noise_role r)
{
	if (r == TN_NOISE_INITIATOR ? p->pre_s_init : p->pre_s_resp)
		return true;
	for (unsigned i = (r == TN_NOISE_INITIATOR ? 0u : 1u); i < p->nmsgs; i += 2)
		for (size_t t = 0; t < TOKENS_MAX && p->tokens[i][t] != 0; t++)
			if (p->tokens[i][t] == T_S)
				return true;
	return false;
}

/* ---- Keys ---- */

tn_err tn_noise_keypair_from_secret(tn_noise_keypair *kp, const tn_noise_seckey *sec)
{
	if (kp == NULL || sec == NULL)
		return TN_ERR_INVAL;
	if (&kp->sec != sec)
		memcpy(kp->sec.b, sec->b, sizeof kp->sec.b);
	if (crypto_scalarmult_base(kp->pub.b, kp->sec.b) != 0) {
		sodium_memzero(kp, sizeof *kp);
		return TN_ERR_INVAL;
	}
	return TN_OK;
}

/* ---- SymmetricState (spec §5.2) ---- */

static void mix_hash(tn_noise_hs *hs, const uint8_t *data, size_t len)
{
	crypto_generichash_state st;
	(void)crypto_generichash_init(&st, NULL, 0, TN_NOISE_HASH);
	(void)crypto_generichash_update(&st, hs->h, sizeof hs->h);
	if (len > 0)
		(void)crypto_generichash_update(&st, data, len);
	(void)crypto_generichash_final(&st, hs->h, sizeof hs->h);
	sodium_memzero(&st, sizeof st);
}

/* MixKey: ck, temp_k = HKDF(ck, ikm, 2); temp_k truncated to 32 bytes. */
static void mix_key(tn_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t ck[TN_NOISE_HASH], temp_k[TN_NOISE_HASH];
	tn_noise_hkdf(hs->ck, ikm, len, ck, temp_k, NULL);
	memcpy(hs->ck, ck, sizeof ck);
	tn_noise_cs_init(&hs->cs, temp_k);
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(temp_k, sizeof temp_k);
}

/* MixKeyAndHash: ck, temp_h, temp_k = HKDF(ck, ikm, 3). Used for "psk". */
static void mix_key_and_hash(tn_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t ck[TN_NOISE_HASH], temp_h[TN_NOISE_HASH], temp_k[TN_NOISE_HASH];
	tn_noise_hkdf(hs->ck, ikm, len, ck, temp_h, temp_k);
	memcpy(hs->ck, ck, sizeof ck);
	mix_hash(hs, temp_h, sizeof temp_h);
	tn_noise_cs_init(&hs->cs, temp_k);
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(temp_h, sizeof temp_h);
	sodium_memzero(temp_k, sizeof temp_k);
}

/* EncryptAndHash: out gets len (+ tag once a key exists) bytes. */
static tn_err encrypt_and_hash(tn_noise_hs *hs, const uint8_t *pt, size_t len, uint8_t *out)
{
	size_t clen = len + (hs->cs.has_k ? TN_NOISE_TAG : 0u);
	tn_err rc = tn_noise_cs_encrypt_ad(&hs->cs, hs->h, sizeof hs->h, pt, len, out);
	if (rc == TN_OK)
		mix_hash(hs, out, clen);
	return rc;
}

/* DecryptAndHash: ct and out are disjoint (h must absorb the ciphertext). */
static tn_err decrypt_and_hash(tn_noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
	tn_err rc = tn_noise_cs_decrypt_ad(&hs->cs, hs->h, sizeof hs->h, ct, len, out);
	if (rc == TN_OK)
		mix_hash(hs, ct, len);
	return rc;
}

/* MixKey(DH(sec, pub)). The all-zero output of a low-order point is a
 * handshake failure, never key material. */
static tn_err mix_dh(tn_noise_hs *hs, const tn_noise_seckey *sec, const tn_noise_pubkey *pub)
{
	uint8_t shared[TN_NOISE_DH];
	tn_err rc = TN_OK;

	if (crypto_scalarmult(shared, sec->b, pub->b) != 0) {
		rc = TN_ERR_DH;
		goto out;
	}
	mix_key(hs, shared, sizeof shared);
out:
	sodium_memzero(shared, sizeof shared);
	return rc;
}

/* ---- HandshakeState (spec §5.3) ---- */

static bool is_initiator(const tn_noise_hs *hs)
{
	return hs->role == TN_NOISE_INITIATOR;
}

static bool has(const tn_noise_hs *hs, unsigned f)
{
	return (hs->flags & f) == f;
}

static bool psk_mode(const tn_noise_hs *hs)
{
	return hs->proto.psk != PSK_NONE;
}

static bool my_turn(const tn_noise_hs *hs)
{
	return hs->status == ST_ACTIVE && (hs->msg % 2 == 0) == is_initiator(hs);
}

static bool peer_turn(const tn_noise_hs *hs)
{
	return hs->status == ST_ACTIVE && (hs->msg % 2 == 0) != is_initiator(hs);
}

/* A failed handshake keeps nothing: wipe it all and stay failed. */
static void fail(tn_noise_hs *hs)
{
	sodium_memzero(hs, sizeof *hs);
	hs->status = ST_FAILED;
}

static void advance(tn_noise_hs *hs)
{
	hs->msg++;
	if (hs->msg == patterns[hs->proto.pattern - 1].nmsgs)
		hs->status = ST_DONE;
}

/* Byte size of the current message's fields before the payload, and
 * whether the payload is encrypted: follows the key through the tokens
 * (any DH or psk sets it; so does "e" in psk mode, spec §9.2). */
static size_t fixed_size(const tn_noise_hs *hs, bool *payload_keyed, bool *sends_e)
{
	uint8_t tok[TOKENS_MAX];
	size_t ntok = msg_tokens(hs, hs->msg, tok);
	bool keyed = hs->cs.has_k != 0;
	size_t n = 0;

	*sends_e = false;
	for (size_t i = 0; i < ntok; i++) {
		switch (tok[i]) {
		case T_E:
			n += TN_NOISE_DH;
			keyed = keyed || psk_mode(hs);
			*sends_e = true;
			break;
		case T_S: n += TN_NOISE_DH + (keyed ? TN_NOISE_TAG : 0u); break;
		default: keyed = true; break;
		}
	}
	*payload_keyed = keyed;
	return n + (keyed ? TN_NOISE_TAG : 0u);
}

tn_err tn_noise_hs_init(tn_noise_hs *hs, const tn_noise_protocol *proto, tn_noise_role role,
                        const uint8_t *prologue, size_t prologue_len, const tn_noise_keypair *s,
                        const tn_noise_pubkey *rs, const tn_noise_psk *psk)
{
	char name[TN_NOISE_NAME_MAX];

	if (hs == NULL)
		return TN_ERR_INVAL;
	sodium_memzero(hs, sizeof *hs);
	const struct pattern *p = proto_pattern(proto);
	if (p == NULL || (role != TN_NOISE_INITIATOR && role != TN_NOISE_RESPONDER))
		return TN_ERR_INVAL;
	if (prologue == NULL && prologue_len > 0)
		return TN_ERR_INVAL;
	bool init = role == TN_NOISE_INITIATOR;
	bool want_rs = init ? p->pre_s_resp : p->pre_s_init;
	/* A key the pattern does not use is a caller bug (the caller believes
	 * something is authenticated that is not): refuse it. */
	if ((s != NULL) != needs_static(p, role) || (rs != NULL) != want_rs ||
	    (psk != NULL) != (proto->psk != PSK_NONE))
		return TN_ERR_INVAL;

	hs->proto = *proto;
	hs->role = (uint8_t)role;
	if (s != NULL) {
		hs->s = *s;
		hs->flags |= F_S;
	}
	if (rs != NULL) {
		hs->rs = *rs;
		hs->flags |= F_RS;
	}
	if (psk != NULL) {
		hs->psk = *psk;
		hs->flags |= F_PSK;
	}

	/* InitializeSymmetric(protocol_name): our names are shorter than
	 * HASHLEN, so h is the name zero-padded; ck = h; no key. */
	size_t nlen = build_name(name, p, proto->psk);
	static_assert((int)TN_NOISE_NAME_MAX <= (int)TN_NOISE_HASH,
	              "names are padded, never hashed");
	memcpy(hs->h, name, nlen);
	memcpy(hs->ck, hs->h, sizeof hs->ck);
	mix_hash(hs, prologue, prologue_len);

	/* Pre-messages: the initiator's first, then the responder's (§7.1). */
	if (p->pre_s_init)
		mix_hash(hs, init ? hs->s.pub.b : hs->rs.b, TN_NOISE_DH);
	if (p->pre_s_resp)
		mix_hash(hs, init ? hs->rs.b : hs->s.pub.b, TN_NOISE_DH);
	hs->status = ST_ACTIVE;
	return TN_OK;
}

tn_err tn_noise_hs_set_ephemeral(tn_noise_hs *hs, const tn_noise_seckey *e_sec)
{
	if (hs == NULL || e_sec == NULL)
		return TN_ERR_INVAL;
	if (hs->status != ST_ACTIVE || has(hs, F_E))
		return TN_ERR_STATE;
	tn_err rc = tn_noise_keypair_from_secret(&hs->e, e_sec);
	if (rc == TN_OK)
		hs->flags |= F_E;
	return rc;
}

tn_noise_action tn_noise_hs_next(const tn_noise_hs *hs)
{
	if (hs == NULL)
		return TN_NOISE_FAILED;
	switch (hs->status) {
	case ST_ACTIVE: return my_turn(hs) ? TN_NOISE_WRITE : TN_NOISE_READ;
	case ST_DONE: return TN_NOISE_SPLIT;
	case ST_SPLIT: return TN_NOISE_TRANSPORT;
	default: return TN_NOISE_FAILED;
	}
}

/* The DH tokens, the same for reader and writer: es is always DH between
 * the initiator's e and the responder's s, and so on (spec §5.3). */
static tn_err dh_token(tn_noise_hs *hs, uint8_t tok)
{
	bool init = is_initiator(hs);
	const tn_noise_seckey *sec;
	const tn_noise_pubkey *pub;
	unsigned need;

	switch (tok) {
	case T_EE: sec = &hs->e.sec, pub = &hs->re, need = F_E | F_RE; break;
	case T_ES:
		sec = init ? &hs->e.sec : &hs->s.sec;
		pub = init ? &hs->rs : &hs->re;
		need = init ? F_E | F_RS : F_S | F_RE;
		break;
	case T_SE:
		sec = init ? &hs->s.sec : &hs->e.sec;
		pub = init ? &hs->re : &hs->rs;
		need = init ? F_S | F_RE : F_E | F_RS;
		break;
	case T_SS: sec = &hs->s.sec, pub = &hs->rs, need = F_S | F_RS; break;
	default: return TN_ERR_INTERNAL;
	}
	/* The pattern table and init's key checks make this unreachable. */
	if (!has(hs, need))
		return TN_ERR_INTERNAL;
	return mix_dh(hs, sec, pub);
}

/* "e" on the writer's side: our ephemeral (drawn now unless set), sent in
 * clear, hashed, and in psk mode also mixed into the key (spec §9.2). */
static tn_err write_e(tn_noise_hs *hs, const tn_rand *rand, uint8_t *out)
{
	if (!has(hs, F_E)) {
		tn_rand_bytes(rand, hs->e.sec.b, sizeof hs->e.sec.b);
		if (crypto_scalarmult_base(hs->e.pub.b, hs->e.sec.b) != 0)
			return TN_ERR_INTERNAL;
		hs->flags |= F_E;
	}
	memcpy(out, hs->e.pub.b, TN_NOISE_DH);
	mix_hash(hs, hs->e.pub.b, TN_NOISE_DH);
	if (psk_mode(hs))
		mix_key(hs, hs->e.pub.b, TN_NOISE_DH);
	return TN_OK;
}

static tn_err write_tokens(tn_noise_hs *hs, const tn_rand *rand, uint8_t *out, size_t *off)
{
	uint8_t tok[TOKENS_MAX];
	size_t ntok = msg_tokens(hs, hs->msg, tok);
	tn_err rc = TN_OK;

	for (size_t i = 0; i < ntok && rc == TN_OK; i++) {
		switch (tok[i]) {
		case T_E:
			rc = write_e(hs, rand, out + *off);
			*off += TN_NOISE_DH;
			break;
		case T_S: {
			/* s: EncryptAndHash(s.public_key) */
			size_t n = TN_NOISE_DH + (hs->cs.has_k ? TN_NOISE_TAG : 0u);
			if (!has(hs, F_S))
				return TN_ERR_INTERNAL;
			rc = encrypt_and_hash(hs, hs->s.pub.b, TN_NOISE_DH, out + *off);
			*off += n;
			break;
		}
		case T_PSK: mix_key_and_hash(hs, hs->psk.b, sizeof hs->psk.b); break;
		default: rc = dh_token(hs, tok[i]); break;
		}
	}
	return rc;
}

tn_ssize tn_noise_hs_write_size(const tn_noise_hs *hs, size_t len)
{
	bool keyed, sends_e;

	if (hs == NULL)
		return TN_ERR_INVAL;
	if (!my_turn(hs))
		return TN_ERR_STATE;
	size_t fixed = fixed_size(hs, &keyed, &sends_e);
	if (len > TN_NOISE_MSG_MAX - fixed)
		return TN_ERR_LIMIT;
	return (tn_ssize)(fixed + len);
}

tn_ssize tn_noise_hs_write(tn_noise_hs *hs, const uint8_t *payload, size_t len, uint8_t *out,
                           size_t outcap, const tn_rand *rand)
{
	static const uint8_t empty[1];
	bool keyed, sends_e;
	size_t off = 0;
	tn_err rc;

	if (hs == NULL || (payload == NULL && len > 0) || (out == NULL && outcap > 0))
		return TN_ERR_INVAL;
	if (!my_turn(hs))
		return TN_ERR_STATE;
	size_t fixed = fixed_size(hs, &keyed, &sends_e);
	if (len > TN_NOISE_MSG_MAX - fixed)
		return TN_ERR_LIMIT;
	size_t need = fixed + len;
	if (outcap < need)
		return TN_ERR_NOBUF;
	if (tn_noise_overlap(payload, len, out, outcap))
		return TN_ERR_INVAL;
	if (sends_e && !has(hs, F_E) && (rand == NULL || rand->fn == NULL))
		return TN_ERR_INVAL;

	rc = write_tokens(hs, rand, out, &off);
	if (rc != TN_OK)
		goto fail;
	/* payload: EncryptAndHash(payload) */
	assert(off + len + (hs->cs.has_k ? TN_NOISE_TAG : 0u) == need);
	rc = encrypt_and_hash(hs, payload != NULL ? payload : empty, len, out + off);
	if (rc != TN_OK)
		goto fail;
	advance(hs);
	return (tn_ssize)need;
fail:
	fail(hs);
	return rc;
}

/* "e" on the reader's side: exactly DHLEN bytes, hashed, and in psk mode
 * mixed into the key. No DH here: that waits for the DH tokens. */
static void read_e(tn_noise_hs *hs, const uint8_t *in)
{
	memcpy(hs->re.b, in, TN_NOISE_DH);
	hs->flags |= F_RE;
	mix_hash(hs, hs->re.b, TN_NOISE_DH);
	if (psk_mode(hs))
		mix_key(hs, hs->re.b, TN_NOISE_DH);
}

/* Tokens of a message whose length was checked against fixed_size(). */
static tn_err read_tokens(tn_noise_hs *hs, const uint8_t *msg, size_t *off)
{
	uint8_t tok[TOKENS_MAX];
	size_t ntok = msg_tokens(hs, hs->msg, tok);
	tn_err rc = TN_OK;

	for (size_t i = 0; i < ntok && rc == TN_OK; i++) {
		switch (tok[i]) {
		case T_E:
			read_e(hs, msg + *off);
			*off += TN_NOISE_DH;
			break;
		case T_S: {
			/* s: rs = DecryptAndHash(DHLEN bytes, + tag once keyed) */
			size_t n = TN_NOISE_DH + (hs->cs.has_k ? TN_NOISE_TAG : 0u);
			rc = decrypt_and_hash(hs, msg + *off, n, hs->rs.b);
			if (rc == TN_OK)
				hs->flags |= F_RS;
			*off += n;
			break;
		}
		case T_PSK: mix_key_and_hash(hs, hs->psk.b, sizeof hs->psk.b); break;
		default: rc = dh_token(hs, tok[i]); break;
		}
	}
	return rc;
}

tn_ssize tn_noise_hs_read(tn_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload_out,
                          size_t cap)
{
	bool keyed, sends_e;
	size_t off = 0;
	tn_err rc;

	if (hs == NULL || (msg == NULL && len > 0) || (payload_out == NULL && cap > 0))
		return TN_ERR_INVAL;
	if (!peer_turn(hs))
		return TN_ERR_STATE;
	if (tn_noise_overlap(msg, len, payload_out, cap))
		return TN_ERR_INVAL;
	if (len > TN_NOISE_MSG_MAX) {
		rc = TN_ERR_LIMIT;
		goto fail;
	}
	size_t fixed = fixed_size(hs, &keyed, &sends_e);
	if (len < fixed) {
		rc = TN_ERR_PROTO;
		goto fail;
	}
	size_t plen = len - fixed;
	if (cap < plen)
		return TN_ERR_NOBUF;

	rc = read_tokens(hs, msg, &off);
	if (rc != TN_OK)
		goto fail;
	/* payload: DecryptAndHash(rest of the message) */
	assert(off + (keyed ? TN_NOISE_TAG : 0u) == fixed);
	rc = decrypt_and_hash(hs, msg + off, len - off, payload_out);
	if (rc != TN_OK)
		goto fail;
	advance(hs);
	return (tn_ssize)plen;
fail:
	fail(hs);
	return rc;
}

tn_err tn_noise_hs_split(tn_noise_hs *hs, tn_noise_cipher *tx, tn_noise_cipher *rx)
{
	uint8_t k1[TN_NOISE_HASH], k2[TN_NOISE_HASH];

	if (hs == NULL || tx == NULL || rx == NULL || tx == rx)
		return TN_ERR_INVAL;
	/* tx and rx are left alone on failure: they may be live ciphers
	 * passed by mistake to a second split. */
	if (hs->status != ST_DONE)
		return TN_ERR_STATE;
	/* Split(): temp_k1, temp_k2 = HKDF(ck, zerolen, 2); c1 carries
	 * initiator-to-responder traffic. */
	tn_noise_hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	tn_noise_cs_init(is_initiator(hs) ? tx : rx, k1);
	tn_noise_cs_init(is_initiator(hs) ? rx : tx, k2);
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);

	/* Keep only what the caller may still ask for: h and rs. */
	sodium_memzero(hs->ck, sizeof hs->ck);
	sodium_memzero(&hs->cs, sizeof hs->cs);
	sodium_memzero(&hs->s, sizeof hs->s);
	sodium_memzero(&hs->e, sizeof hs->e);
	sodium_memzero(&hs->re, sizeof hs->re);
	sodium_memzero(&hs->psk, sizeof hs->psk);
	hs->flags &= F_RS;
	hs->status = ST_SPLIT;
	return TN_OK;
}

tn_err tn_noise_hs_hash(const tn_noise_hs *hs, uint8_t out[TN_NOISE_HASH])
{
	if (hs == NULL || out == NULL)
		return TN_ERR_INVAL;
	memset(out, 0, TN_NOISE_HASH);
	if (hs->status != ST_DONE && hs->status != ST_SPLIT)
		return TN_ERR_STATE;
	memcpy(out, hs->h, TN_NOISE_HASH);
	return TN_OK;
}

tn_err tn_noise_hs_remote_static(const tn_noise_hs *hs, tn_noise_pubkey *out)
{
	if (hs == NULL || out == NULL)
		return TN_ERR_INVAL;
	memset(out, 0, sizeof *out);
	if (hs->status != ST_ACTIVE && hs->status != ST_DONE && hs->status != ST_SPLIT)
		return TN_ERR_STATE;
	if (!has(hs, F_RS))
		return TN_ERR_STATE;
	*out = hs->rs;
	return TN_OK;
}

void tn_noise_hs_free(tn_noise_hs *hs)
{
	if (hs != NULL)
		sodium_memzero(hs, sizeof *hs);
}
