/* Sealing, checking and opening alerts (DESIGN §6; docs/alerts.md). */
#include <string.h>

#include <sodium.h>

#include "tocsin/alert.h"

_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == TN_ALERT_NONCE, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == TN_ALERT_TAG, "tag size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == sizeof(tn_seckey), "key size");
_Static_assert(crypto_generichash_BYTES == TN_ALERT_ID, "alert id size");
_Static_assert(TN_ALERT_SIG_CONTEXT_LEN == 14, "signature context");

/* Context-prefixed signed range: what Ed25519 signs and verifies. */
enum { SIGNED_MSG_MAX = TN_ALERT_SIG_CONTEXT_LEN + TN_ALERT_ENVELOPE_MAX };

static const char *const reason_names[TN_ALERT_REASON_COUNT] = {
        [TN_ALERT_ACCEPTED] = "accepted",
        [TN_ALERT_TOO_BIG] = "too_big",
        [TN_ALERT_MALFORMED] = "malformed",
        [TN_ALERT_WRONG_NETWORK] = "wrong_network",
        [TN_ALERT_UNKNOWN_AUTHOR] = "unknown_author",
        [TN_ALERT_REVOKED_AUTHOR] = "revoked_author",
        [TN_ALERT_DUPLICATE] = "duplicate",
        [TN_ALERT_FUTURE] = "future",
        [TN_ALERT_LIFETIME] = "lifetime",
        [TN_ALERT_EXPIRED] = "expired",
        [TN_ALERT_BAD_SIGNATURE] = "bad_signature",
        [TN_ALERT_EQUIVOCATION] = "equivocation",
        [TN_ALERT_NOTICE_FORBIDDEN] = "notice_forbidden",
        [TN_ALERT_MISSING_REFERS_TO] = "missing_refers_to",
        [TN_ALERT_SAFE_FOREIGN] = "safe_foreign",
        [TN_ALERT_RATE_LIMITED] = "rate_limited",
        [TN_ALERT_OPENED] = "opened",
        [TN_ALERT_UNKNOWN_EPOCH] = "unknown_epoch",
        [TN_ALERT_BAD_CIPHERTEXT] = "bad_ciphertext",
        [TN_ALERT_BAD_PLAINTEXT] = "bad_plaintext",
};

const char *tn_alert_reason_name(tn_alert_reason r)
{
	if ((unsigned)r >= TN_ALERT_REASON_COUNT || !reason_names[r])
		return "unknown";
	return reason_names[r];
}

void tn_alert_id(const uint8_t *env, size_t len, uint8_t id[TN_ALERT_ID])
{
	crypto_generichash(id, TN_ALERT_ID, env, len, NULL, 0);
}

/* ---- sealing ----------------------------------------------------------- */

/* safe closes her own panic and responding answers an alert: both are
 * meaningless without the alert they refer to. */
static bool needs_refers_to(uint8_t kind)
{
	return kind == TN_KIND_SAFE || kind == TN_KIND_RESPONDING;
}

/* Refuse what every relay would drop, so the author learns it now. */
static bool draft_valid(const tn_alert_draft *d)
{
	if (d->seq < 1 || d->kind > TN_KIND_TEST)
		return false;
	if (d->expires_ms < d->created_ms || d->expires_ms - d->created_ms > TN_ALERT_LIFETIME_MS)
		return false;
	return d->has_refers_to || !needs_refers_to(d->kind);
}

static void env_from_draft(tn_alert_env *e, const tn_alert_draft *d, const tn_pubkey *author)
{
	memset(e, 0, sizeof *e);
	memcpy(e->network_id, d->network_id, sizeof e->network_id);
	memcpy(e->author, author->b, sizeof e->author);
	e->seq = d->seq;
	e->kind = d->kind;
	e->has_refers_to = d->has_refers_to;
	if (d->has_refers_to)
		memcpy(e->refers_to, d->refers_to, sizeof e->refers_to);
	e->created_ms = d->created_ms;
	e->expires_ms = d->expires_ms;
	e->epoch = d->epoch;
}

/* AEAD step: ct = XChaCha20-Poly1305(key, nonce, pt, ad = header). */
static tn_err encrypt(tn_alert_env *e, const tn_seckey *key, const uint8_t *pt, size_t ptlen,
                      const tn_rand *rand, uint8_t *ct)
{
	uint8_t ad[TN_ALERT_ENV_HEADER_MAX];
	unsigned long long ctlen = 0;
	tn_rand_bytes(rand, e->nonce, sizeof e->nonce);
	tn_ssize adlen = tn_alert_env_encode_header(e, ad, sizeof ad);
	if (adlen < 0)
		return (tn_err)adlen;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, pt, ptlen, ad, (size_t)adlen,
	                                               NULL, e->nonce, key->b) != 0)
		return TN_ERR_INTERNAL;
	e->ciphertext.p = ct;
	e->ciphertext.len = (size_t)ctlen;
	return TN_OK;
}

/* msg = TN_ALERT_SIG_CONTEXT || signed range; returns its length. */
static size_t signed_msg(uint8_t msg[SIGNED_MSG_MAX], const uint8_t *range, size_t len)
{
	memcpy(msg, TN_ALERT_SIG_CONTEXT, TN_ALERT_SIG_CONTEXT_LEN);
	memcpy(msg + TN_ALERT_SIG_CONTEXT_LEN, range, len);
	return TN_ALERT_SIG_CONTEXT_LEN + len;
}

/* Signature step: Ed25519 by the author over the context-prefixed range. */
static tn_err sign(tn_alert_env *e, const tn_identity *author)
{
	uint8_t range[TN_ALERT_ENVELOPE_MAX], msg[SIGNED_MSG_MAX];
	tn_sig sig;
	tn_ssize n = tn_alert_env_encode_signed(e, range, sizeof range);
	if (n < 0)
		return (tn_err)n;
	tn_err rc = tn_identity_sign(author, msg, signed_msg(msg, range, (size_t)n), &sig);
	if (rc != TN_OK)
		return rc;
	memcpy(e->signature, sig.b, sizeof e->signature);
	return TN_OK;
}

tn_ssize tn_alert_seal(const tn_identity *author, const tn_alert_draft *d,
                       const tn_seckey *group_key, const tn_alert_pt *pt, const tn_rand *rand,
                       uint8_t *out, size_t cap, uint8_t id[TN_ALERT_ID])
{
	uint8_t plain[TN_ALERT_PLAINTEXT_MAX], ct[TN_ALERT_CIPHERTEXT_MAX];
	tn_alert_env e;
	tn_ssize rc;
	if (!author || !d || !group_key || !pt || !rand || !rand->fn || !out)
		return TN_ERR_INVAL;
	if (!draft_valid(d))
		return TN_ERR_INVAL;
	env_from_draft(&e, d, tn_identity_pubkey(author));
	tn_ssize ptlen = tn_alert_pt_encode(pt, plain, sizeof plain);
	if (ptlen < 0) {
		rc = ptlen;
		goto out;
	}
	if ((rc = encrypt(&e, group_key, plain, (size_t)ptlen, rand, ct)) != TN_OK ||
	    (rc = sign(&e, author)) != TN_OK)
		goto out;
	rc = tn_alert_env_encode(&e, out, cap);
	if (rc > 0 && id)
		tn_alert_id(out, (size_t)rc, id);
out:
	sodium_memzero(plain, sizeof plain);
	return rc;
}

/* ---- checking ---------------------------------------------------------- */

tn_err tn_alert_ctx_init(tn_alert_ctx *ctx, const uint8_t network_id[TN_NETWORK_ID],
                         const tn_alert_ops *ops, void *ud, tn_ratelimit *limiter)
{
	if (!ctx)
		return TN_ERR_INVAL;
	memset(ctx, 0, sizeof *ctx);
	if (!network_id || !ops || !ops->author || !ops->seen || !ops->lookup || !limiter)
		return TN_ERR_INVAL;
	memcpy(ctx->network_id, network_id, sizeof ctx->network_id);
	ctx->ops = *ops;
	ctx->ud = ud;
	ctx->limiter = limiter;
	return TN_OK;
}

static bool ctx_usable(const tn_alert_ctx *ctx)
{
	return ctx->ops.author && ctx->ops.seen && ctx->ops.lookup && ctx->limiter;
}

/* Clock window (DESIGN §6): not too far in the future, not too long-lived,
 * not expired. The decoder has already refused expires < created. */
static tn_alert_reason check_window(const tn_alert_env *e, uint64_t wall_ms)
{
	if (e->created_ms > wall_ms && e->created_ms - wall_ms > TN_ALERT_SKEW_MS)
		return TN_ALERT_FUTURE;
	if (e->expires_ms - e->created_ms > TN_ALERT_LIFETIME_MS)
		return TN_ALERT_LIFETIME;
	if (e->expires_ms <= wall_ms)
		return TN_ALERT_EXPIRED;
	return TN_ALERT_ACCEPTED;
}

static bool signature_ok(const tn_alert_env *e)
{
	uint8_t msg[SIGNED_MSG_MAX];
	tn_pubkey pk;
	tn_sig sig;
	if (e->signed_part.len > TN_ALERT_ENVELOPE_MAX)
		return false; /* cannot happen for a decoded envelope */
	memcpy(pk.b, e->author, sizeof pk.b);
	memcpy(sig.b, e->signature, sizeof sig.b);
	size_t n = signed_msg(msg, e->signed_part.p, e->signed_part.len);
	return tn_sig_verify(&pk, msg, n, &sig) == TN_OK;
}

/* safe closes the author's own panic. A target we hold must be exactly
 * that; a target we do not hold (yet) is accepted: it closes nothing until
 * its panic arrives, and then only if the panic is hers. */
static tn_alert_reason check_safe(const tn_alert_ctx *ctx, const tn_alert_env *e)
{
	tn_pubkey target_author;
	uint8_t target_kind = 0;
	if (!e->has_refers_to)
		return TN_ALERT_MISSING_REFERS_TO;
	if (!ctx->ops.lookup(ctx->ud, e->refers_to, &target_author, &target_kind))
		return TN_ALERT_ACCEPTED;
	if (target_kind != TN_KIND_PANIC ||
	    memcmp(target_author.b, e->author, sizeof target_author.b) != 0)
		return TN_ALERT_SAFE_FOREIGN;
	return TN_ALERT_ACCEPTED;
}

static tn_alert_reason check_role(const tn_alert_ctx *ctx, const tn_alert_env *e,
                                  tn_alert_author who)
{
	switch (e->kind) {
	case TN_KIND_NOTICE:
		return who == TN_ALERT_AUTHOR_COORDINATOR ? TN_ALERT_ACCEPTED
		                                          : TN_ALERT_NOTICE_FORBIDDEN;
	case TN_KIND_SAFE: return check_safe(ctx, e);
	case TN_KIND_RESPONDING:
		return e->has_refers_to ? TN_ALERT_ACCEPTED : TN_ALERT_MISSING_REFERS_TO;
	}
	return TN_ALERT_ACCEPTED;
}

static tn_alert_reason check_rate(tn_alert_ctx *ctx, const tn_alert_env *e, tn_time now)
{
	tn_err rc = tn_ratelimit_take(ctx->limiter, e->author, tn_alert_kind_class(e->kind), now);
	return rc == TN_OK ? TN_ALERT_ACCEPTED : TN_ALERT_RATE_LIMITED;
}

/* (author, seq) already held: the same bytes are a routine duplicate; other
 * bytes are a conflict, reported only if the author really signed them. */
static tn_alert_reason check_held(const tn_alert_verdict *v)
{
	if (sodium_memcmp(v->conflict_id, v->id, TN_ALERT_ID) == 0)
		return TN_ALERT_DUPLICATE;
	return signature_ok(&v->env) ? TN_ALERT_EQUIVOCATION : TN_ALERT_BAD_SIGNATURE;
}

/* Steps that need only the envelope: size, decode, network, author. */
static tn_alert_reason check_cheap(const tn_alert_ctx *ctx, const uint8_t *in, size_t len,
                                   tn_alert_verdict *v, tn_alert_author *who)
{
	if (len > TN_ALERT_ENVELOPE_MAX)
		return TN_ALERT_TOO_BIG;
	v->dec_err = tn_alert_env_decode(&v->env, in, len);
	if (v->dec_err != TN_OK)
		return TN_ALERT_MALFORMED;
	if (memcmp(v->env.network_id, ctx->network_id, TN_NETWORK_ID) != 0)
		return TN_ALERT_WRONG_NETWORK;
	tn_pubkey author;
	memcpy(author.b, v->env.author, sizeof author.b);
	*who = ctx->ops.author(ctx->ud, &author);
	if (*who == TN_ALERT_AUTHOR_REVOKED)
		return TN_ALERT_REVOKED_AUTHOR;
	if (*who != TN_ALERT_AUTHOR_MEMBER && *who != TN_ALERT_AUTHOR_COORDINATOR)
		return TN_ALERT_UNKNOWN_AUTHOR;
	return TN_ALERT_ACCEPTED;
}

static tn_alert_reason judge(tn_alert_ctx *ctx, const uint8_t *in, size_t len, uint64_t wall_ms,
                             tn_time now, tn_alert_verdict *v)
{
	tn_alert_author who = TN_ALERT_AUTHOR_NONE;
	tn_alert_reason r = check_cheap(ctx, in, len, v, &who);
	if (r != TN_ALERT_ACCEPTED)
		return r;
	tn_pubkey author;
	memcpy(author.b, v->env.author, sizeof author.b);
	tn_alert_id(in, len, v->id);
	v->has_id = true;
	if (ctx->ops.seen(ctx->ud, &author, v->env.seq, v->conflict_id))
		return check_held(v);
	memset(v->conflict_id, 0, sizeof v->conflict_id);
	if ((r = check_window(&v->env, wall_ms)) != TN_ALERT_ACCEPTED)
		return r;
	/* An author already over her budget costs no signature check: a
	 * member flooding validly signed alerts would otherwise buy one Ed25519
	 * verification per alert and delay everyone else's panics on that
	 * node. Peeking spends nothing, so forgeries still cannot drain an
	 * honest author's budget; check_rate below still decides. */
	if (!tn_ratelimit_peek(ctx->limiter, v->env.author, tn_alert_kind_class(v->env.kind), now))
		return TN_ALERT_RATE_LIMITED;
	if (!signature_ok(&v->env))
		return TN_ALERT_BAD_SIGNATURE;
	if ((r = check_role(ctx, &v->env, who)) != TN_ALERT_ACCEPTED)
		return r;
	return check_rate(ctx, &v->env, now);
}

tn_err tn_alert_check(tn_alert_ctx *ctx, const uint8_t *in, size_t len, uint64_t wall_ms,
                      tn_time now, tn_alert_verdict *v)
{
	if (!v)
		return TN_ERR_INVAL;
	memset(v, 0, sizeof *v);
	if (!ctx || !ctx_usable(ctx) || (!in && len > 0))
		return TN_ERR_INVAL;
	static const uint8_t empty[1];
	v->reason = judge(ctx, in ? in : empty, len, wall_ms, now, v);
	if (v->reason == TN_ALERT_TOO_BIG || v->reason == TN_ALERT_MALFORMED)
		memset(&v->env, 0, sizeof v->env);
	ctx->counters[v->reason]++;
	return TN_OK;
}

/* ---- opening ----------------------------------------------------------- */

static tn_alert_reason open_env(const tn_alert_ctx *ctx, const tn_alert_env *e, uint8_t *buf,
                                tn_alert_opened *o)
{
	uint8_t ad[TN_ALERT_ENV_HEADER_MAX];
	unsigned long long mlen = 0;
	const tn_seckey *key = ctx->ops.group_key(ctx->ud, e->epoch);
	if (!key)
		return TN_ALERT_UNKNOWN_EPOCH;
	tn_ssize adlen = tn_alert_env_encode_header(e, ad, sizeof ad);
	if (adlen < 0)
		return TN_ALERT_BAD_CIPHERTEXT; /* excluded by tn_alert_open */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &mlen, NULL, e->ciphertext.p,
	                                               e->ciphertext.len, ad, (size_t)adlen,
	                                               e->nonce, key->b) != 0)
		return TN_ALERT_BAD_CIPHERTEXT;
	o->dec_err = tn_alert_pt_decode(&o->pt, buf, (size_t)mlen);
	return o->dec_err == TN_OK ? TN_ALERT_OPENED : TN_ALERT_BAD_PLAINTEXT;
}

/* What tn_alert_env_decode could have returned. */
static bool env_openable(const tn_alert_env *e)
{
	return e->seq >= 1 && e->kind <= TN_KIND_TEST && e->expires_ms >= e->created_ms &&
	       e->ciphertext.p && e->ciphertext.len >= TN_ALERT_TAG &&
	       e->ciphertext.len <= TN_ALERT_CIPHERTEXT_MAX;
}

tn_err tn_alert_open(tn_alert_ctx *ctx, const tn_alert_env *env, uint8_t *buf, size_t cap,
                     tn_alert_opened *o)
{
	if (!o)
		return TN_ERR_INVAL;
	memset(o, 0, sizeof *o);
	if (!ctx || !ctx->ops.group_key || !env || !buf || !env_openable(env))
		return TN_ERR_INVAL;
	size_t need = env->ciphertext.len - TN_ALERT_TAG;
	if (cap < need)
		return TN_ERR_NOBUF;
	o->reason = open_env(ctx, env, buf, o);
	if (o->reason != TN_ALERT_OPENED) {
		sodium_memzero(buf, need);
		memset(&o->pt, 0, sizeof o->pt);
	}
	ctx->counters[o->reason]++;
	return TN_OK;
}

/* ---- rate-limit policy ------------------------------------------------- */

void tn_alert_limits_default(tn_alert_limits *l)
{
	l->urgent = (tn_bucket_cfg){.burst = 5, .interval = TN_MIN};
	l->chatter = (tn_bucket_cfg){.burst = 20, .interval = 6 * TN_SEC};
	l->capacity = TN_ROSTER_MAX;
}

enum tn_alert_class tn_alert_kind_class(uint8_t kind)
{
	return kind == TN_KIND_PANIC || kind == TN_KIND_SAFE ? TN_ALERT_CLASS_URGENT
	                                                     : TN_ALERT_CLASS_CHATTER;
}

tn_err tn_alert_limiter_new(tn_ratelimit **out, const tn_alert_limits *l, const tn_rand *rand)
{
	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!l)
		return TN_ERR_INVAL;
	tn_ratelimit_cfg cfg = {.capacity = l->capacity, .nclasses = 2};
	cfg.classes[TN_ALERT_CLASS_URGENT] = l->urgent;
	cfg.classes[TN_ALERT_CLASS_CHATTER] = l->chatter;
	return tn_ratelimit_new(out, &cfg, rand);
}
