/* The control protocol: framing, flat canonical maps, requests, replies
 * (see ctlproto.h). Reading goes only through the strict cursor of
 * tocsin/mp.h and writing only through its packer: there is no second
 * msgpack parser here, and msgpack-c's unpacker is never used. */
#include "ctlproto.h"

#include <string.h>

#include "tocsin/keystore.h"
#include "tocsin/mp.h"

/* ---- keys --------------------------------------------------------------- */

static bool key_valid(const uint8_t *k, size_t n)
{
	if (n == 0 || n > TD_CTL_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* Bytewise order, a proper prefix first: the order the encoder sorts by and
 * the decoder demands, so there is one canonical encoding of each map. */
static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

static bool key_is(const td_ctl_field *f, const char *key)
{
	size_t n = strlen(key);
	return f->keylen == n && memcmp(f->key, key, n) == 0;
}

/* ---- building ----------------------------------------------------------- */

void td_ctl_msg_init(td_ctl_msg *m)
{
	memset(m, 0, sizeof *m);
}

/* A message that overflowed is marked by n > TD_CTL_FIELDS_MAX, so the
 * frame call fails instead of sending a message missing a field. */
static td_ctl_val *add(td_ctl_msg *m, const char *key, td_ctl_type type)
{
	if (m->n >= TD_CTL_FIELDS_MAX) {
		m->n = TD_CTL_FIELDS_MAX + 1;
		return NULL;
	}
	td_ctl_field *f = &m->f[m->n++];
	memset(f, 0, sizeof *f);
	f->key = key;
	f->keylen = key ? strlen(key) : 0;
	f->v.type = type;
	return &f->v;
}

void td_ctl_add_nil(td_ctl_msg *m, const char *key)
{
	(void)add(m, key, TD_CTL_NIL);
}

void td_ctl_add_bool(td_ctl_msg *m, const char *key, bool v)
{
	td_ctl_val *x = add(m, key, TD_CTL_BOOL);
	if (x)
		x->b = v;
}

void td_ctl_add_uint(td_ctl_msg *m, const char *key, uint64_t v)
{
	td_ctl_val *x = add(m, key, TD_CTL_UINT);
	if (x)
		x->u = v;
}

void td_ctl_add_int(td_ctl_msg *m, const char *key, int64_t v)
{
	if (v >= 0) {
		td_ctl_add_uint(m, key, (uint64_t)v);
		return;
	}
	td_ctl_val *x = add(m, key, TD_CTL_INT);
	if (x)
		x->i = v;
}

void td_ctl_add_strn(td_ctl_msg *m, const char *key, const uint8_t *p, size_t n)
{
	td_ctl_val *x = add(m, key, TD_CTL_STR);
	if (x) {
		x->p = p;
		x->n = n;
	}
}

void td_ctl_add_str(td_ctl_msg *m, const char *key, const char *s)
{
	td_ctl_add_strn(m, key, (const uint8_t *)s, s ? strlen(s) : 0);
}

void td_ctl_add_bin(td_ctl_msg *m, const char *key, const uint8_t *p, size_t n)
{
	td_ctl_val *x = add(m, key, TD_CTL_BIN);
	if (x) {
		x->p = p;
		x->n = n;
	}
}

/* ---- encoding ----------------------------------------------------------- */

void td_ctl_put_hdr(uint8_t hdr[TD_CTL_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

tn_err td_ctl_get_hdr(const uint8_t hdr[TD_CTL_HDR], size_t max, uint32_t *len)
{
	*len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
	       (uint32_t)hdr[3];
	return *len > max ? TN_ERR_LIMIT : TN_OK;
}

static bool val_valid(const td_ctl_val *v)
{
	switch (v->type) {
	case TD_CTL_NIL:
	case TD_CTL_BOOL:
	case TD_CTL_UINT: return true;
	case TD_CTL_INT: return v->i < 0;
	case TD_CTL_STR:
		return v->n <= TD_CTL_STR_MAX && (v->n == 0 || v->p) &&
		       tn_mp_utf8_valid(v->p, v->n);
	case TD_CTL_BIN: return v->n <= TD_CTL_STR_MAX && (v->n == 0 || v->p);
	}
	return false;
}

static void put_val(tn_mp_wr *w, const td_ctl_val *v)
{
	switch (v->type) {
	case TD_CTL_NIL: tn_mp_put_nil(w); break;
	case TD_CTL_BOOL: tn_mp_put_bool(w, v->b); break;
	case TD_CTL_UINT: tn_mp_put_uint(w, v->u); break;
	case TD_CTL_INT: tn_mp_put_int(w, v->i); break;
	case TD_CTL_STR: tn_mp_put_str(w, v->p, v->n); break;
	case TD_CTL_BIN: tn_mp_put_bin(w, v->p, v->n); break;
	}
}

/* Indices of m's fields in key order; false on a repeated or bad key. */
static bool sort_fields(const td_ctl_msg *m, uint8_t idx[TD_CTL_FIELDS_MAX])
{
	for (size_t i = 0; i < m->n; i++) {
		const td_ctl_field *f = &m->f[i];
		if (!f->key || !key_valid((const uint8_t *)f->key, f->keylen) || !val_valid(&f->v))
			return false;
		size_t j = i;
		while (j > 0) {
			const td_ctl_field *g = &m->f[idx[j - 1]];
			int c = key_cmp(g->key, g->keylen, f->key, f->keylen);
			if (c == 0)
				return false;
			if (c < 0)
				break;
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = (uint8_t)i;
	}
	return true;
}

tn_ssize td_ctl_msg_frame(const td_ctl_msg *m, size_t max, uint8_t *out, size_t cap)
{
	uint8_t idx[TD_CTL_FIELDS_MAX];
	if (!m || !out || m->n > TD_CTL_FIELDS_MAX || max > UINT32_MAX || !sort_fields(m, idx))
		return TN_ERR_INVAL;
	if (cap < TD_CTL_HDR)
		return TN_ERR_NOBUF;
	tn_mp_wr w;
	tn_mp_wr_init(&w, out + TD_CTL_HDR, cap - TD_CTL_HDR);
	tn_mp_put_map(&w, m->n);
	for (size_t i = 0; i < m->n; i++) {
		const td_ctl_field *f = &m->f[idx[i]];
		tn_mp_put_str(&w, (const uint8_t *)f->key, f->keylen);
		put_val(&w, &f->v);
	}
	tn_ssize n = tn_mp_wr_end(&w);
	if (n < 0)
		return n;
	if ((size_t)n > max)
		return TN_ERR_LIMIT;
	td_ctl_put_hdr(out, (uint32_t)n);
	return n + TD_CTL_HDR;
}

/* ---- decoding ----------------------------------------------------------- */

static tn_err read_val(tn_mp_rd *r, td_ctl_val *v)
{
	tn_mp_obj o;
	tn_err rc = tn_mp_next(r, &o);
	if (rc)
		return rc;
	switch (o.kind) {
	case TN_MP_NIL: v->type = TD_CTL_NIL; return TN_OK;
	case TN_MP_BOOL:
		v->type = TD_CTL_BOOL;
		v->b = o.b;
		return TN_OK;
	case TN_MP_UINT:
		v->type = TD_CTL_UINT;
		v->u = o.u;
		return TN_OK;
	case TN_MP_NINT:
		v->type = TD_CTL_INT;
		v->i = o.i;
		return TN_OK;
	case TN_MP_STR:
		if (o.n > TD_CTL_STR_MAX)
			return TN_ERR_DEC_TOOBIG;
		if (!tn_mp_utf8_valid(o.p, o.n))
			return TN_ERR_DEC_UTF8;
		v->type = TD_CTL_STR;
		v->p = o.p;
		v->n = o.n;
		return TN_OK;
	case TN_MP_BIN:
		if (o.n > TD_CTL_STR_MAX)
			return TN_ERR_DEC_TOOBIG;
		v->type = TD_CTL_BIN;
		v->p = o.p;
		v->n = o.n;
		return TN_OK;
	case TN_MP_ARRAY:
	case TN_MP_MAP: return TN_ERR_DEC_TYPE;
	}
	return TN_ERR_DEC_TYPE;
}

static tn_err decode_fields(td_ctl_msg *m, tn_mp_rd *r)
{
	uint32_t n;
	tn_err rc = tn_mp_read_map(r, &n);
	if (rc)
		return rc;
	if (n > TD_CTL_FIELDS_MAX)
		return TN_ERR_DEC_TOOBIG;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *k;
		size_t kn;
		if ((rc = tn_mp_read_str(r, TD_CTL_KEY_MAX, &k, &kn)))
			return rc;
		if (!key_valid(k, kn))
			return TN_ERR_DEC_RANGE;
		td_ctl_field *f = &m->f[i];
		f->key = (const char *)k;
		f->keylen = kn;
		if (i > 0 && key_cmp(m->f[i - 1].key, m->f[i - 1].keylen, f->key, kn) >= 0)
			return TN_ERR_DEC_KEYORDER;
		if ((rc = read_val(r, &f->v)))
			return rc;
		m->n = i + 1;
	}
	return tn_mp_left(r) == 0 ? TN_OK : TN_ERR_DEC_TRAILING;
}

tn_err td_ctl_msg_decode(td_ctl_msg *m, const uint8_t *body, size_t len)
{
	td_ctl_msg_init(m);
	if (!body && len > 0)
		return TN_ERR_INVAL;
	tn_mp_rd r;
	tn_mp_rd_init(&r, body, len);
	tn_err rc = decode_fields(m, &r);
	if (rc)
		td_ctl_msg_init(m);
	return rc;
}

const td_ctl_val *td_ctl_get(const td_ctl_msg *m, const char *key)
{
	for (size_t i = 0; i < m->n && i < TD_CTL_FIELDS_MAX; i++)
		if (key_is(&m->f[i], key))
			return &m->f[i].v;
	return NULL;
}

static tn_err get_typed(const td_ctl_msg *m, const char *key, td_ctl_type t, const td_ctl_val **v)
{
	*v = td_ctl_get(m, key);
	if (!*v)
		return TN_ERR_DEC_MISSINGKEY;
	return (*v)->type == t ? TN_OK : TN_ERR_DEC_TYPE;
}

tn_err td_ctl_get_uint(const td_ctl_msg *m, const char *key, uint64_t *u)
{
	const td_ctl_val *v;
	*u = 0;
	tn_err rc = get_typed(m, key, TD_CTL_UINT, &v);
	if (rc == TN_OK)
		*u = v->u;
	return rc;
}

tn_err td_ctl_get_bool(const td_ctl_msg *m, const char *key, bool *b)
{
	const td_ctl_val *v;
	*b = false;
	tn_err rc = get_typed(m, key, TD_CTL_BOOL, &v);
	if (rc == TN_OK)
		*b = v->b;
	return rc;
}

tn_err td_ctl_get_str(const td_ctl_msg *m, const char *key, const char **p, size_t *n)
{
	const td_ctl_val *v;
	*p = "";
	*n = 0;
	tn_err rc = get_typed(m, key, TD_CTL_STR, &v);
	if (rc == TN_OK && v->n > 0) {
		*p = (const char *)v->p;
		*n = v->n;
	}
	return rc;
}

bool td_ctl_str_is(const td_ctl_msg *m, const char *key, const char *s)
{
	const char *p;
	size_t n;
	if (td_ctl_get_str(m, key, &p, &n) != TN_OK)
		return false;
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Length of the UTF-8 sequence a lead byte announces (1 for a byte that
 * cannot start one: it is then checked, and refused, on its own). */
static size_t seq_len(uint8_t c)
{
	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

size_t td_ctl_utf8_clean(char *dst, size_t cap, const char *src)
{
	size_t o = 0, n = strlen(src);
	for (size_t i = 0; i < n;) {
		size_t k = seq_len((uint8_t)src[i]);
		bool ok = k <= n - i && tn_mp_utf8_valid((const uint8_t *)src + i, k);
		if (!ok)
			k = 1;
		if (o + k >= cap)
			break;
		if (ok)
			memcpy(dst + o, src + i, k);
		else
			dst[o] = '?';
		o += k;
		i += k;
	}
	dst[o] = '\0';
	return o;
}

/* ---- requests ----------------------------------------------------------- */

static const char *const op_names[] = {
        [TD_CTL_OP_VERSION] = "version",     [TD_CTL_OP_STATUS] = "status",
        [TD_CTL_OP_INIT] = "init",           [TD_CTL_OP_ID] = "id",
        [TD_CTL_OP_SUBSCRIBE] = "subscribe", [TD_CTL_OP_NETWORK_CREATE] = "network_create",
        [TD_CTL_OP_ALERT] = "alert",         [TD_CTL_OP_ALERTS] = "alerts",
        [TD_CTL_OP_ALERT_STATUS] = "alert_status", [TD_CTL_OP_MEMBERS] = "members",
        [TD_CTL_OP_PEERS] = "peers",         [TD_CTL_OP_INVITE] = "invite",
        [TD_CTL_OP_JOIN] = "join",           [TD_CTL_OP_REVOKE] = "revoke",
        [TD_CTL_OP_WIPE] = "wipe",
        [TD_CTL_OP_AUDIT] = "audit",
};
enum { OP_COUNT = sizeof op_names / sizeof op_names[0] };

const char *td_ctl_op_name(td_ctl_op op)
{
	if ((unsigned)op == 0 || (unsigned)op >= OP_COUNT)
		return NULL;
	return op_names[op];
}

static td_ctl_op op_lookup(const char *p, size_t n)
{
	for (unsigned i = 1; i < OP_COUNT; i++)
		if (strlen(op_names[i]) == n && memcmp(op_names[i], p, n) == 0)
			return (td_ctl_op)i;
	return TD_CTL_OP_NONE;
}

static const char *const code_names[] = {
        [TD_CTL_OK] = "ok",
        [TD_CTL_E_BAD_REQUEST] = "bad_request",
        [TD_CTL_E_UNKNOWN_OP] = "unknown_op",
        [TD_CTL_E_TOO_LARGE] = "too_large",
        [TD_CTL_E_NOT_INITIALISED] = "not_initialised",
        [TD_CTL_E_ALREADY_INIT] = "already_initialised",
        [TD_CTL_E_BAD_PASSPHRASE] = "bad_passphrase",
        [TD_CTL_E_KEYSTORE] = "keystore",
        [TD_CTL_E_INTERNAL] = "internal",
        [TD_CTL_E_SUBSCRIBED] = "subscribed",
        [TD_CTL_E_NO_NETWORK] = "no_network",
        [TD_CTL_E_IN_NETWORK] = "in_network",
        [TD_CTL_E_NOT_COORDINATOR] = "not_coordinator",
        [TD_CTL_E_INVALID] = "invalid",
        [TD_CTL_E_NOT_FOUND] = "not_found",
        [TD_CTL_E_STORE] = "store",
};

/* Arguments each op takes (besides id, op, and init's passphrase): name
 * and type. */
typedef struct arg_spec {
	td_ctl_op op;
	const char *key;
	td_ctl_type type;
} arg_spec;

static const arg_spec arg_specs[] = {
        {TD_CTL_OP_NETWORK_CREATE, "name", TD_CTL_STR},
        {TD_CTL_OP_NETWORK_CREATE, "me", TD_CTL_STR},
        {TD_CTL_OP_ALERT, "kind", TD_CTL_STR},
        {TD_CTL_OP_ALERT, "text", TD_CTL_STR},
        {TD_CTL_OP_ALERT, "violation", TD_CTL_STR},
        {TD_CTL_OP_ALERT, "location", TD_CTL_STR},
        {TD_CTL_OP_ALERT, "refers", TD_CTL_STR},
        {TD_CTL_OP_ALERTS, "since", TD_CTL_UINT},
        {TD_CTL_OP_ALERT_STATUS, "alert", TD_CTL_STR},
        {TD_CTL_OP_INVITE, "name", TD_CTL_STR},
        {TD_CTL_OP_INVITE, "role", TD_CTL_STR},
        {TD_CTL_OP_INVITE, "expires_s", TD_CTL_UINT},
        {TD_CTL_OP_JOIN, "code", TD_CTL_STR},
        {TD_CTL_OP_JOIN, "name", TD_CTL_STR},
        {TD_CTL_OP_REVOKE, "member", TD_CTL_STR},
        {TD_CTL_OP_WIPE, "confirm", TD_CTL_STR},
};

static const arg_spec *arg_find(td_ctl_op op, const td_ctl_field *f)
{
	for (size_t i = 0; i < sizeof arg_specs / sizeof arg_specs[0]; i++)
		if (arg_specs[i].op == op && key_is(f, arg_specs[i].key))
			return &arg_specs[i];
	return NULL;
}

const char *td_ctl_code_str(td_ctl_code c)
{
	if ((unsigned)c >= sizeof code_names / sizeof code_names[0])
		return "internal";
	return code_names[c];
}

/* The args an op takes besides "id" and "op". */
static tn_err check_args(td_ctl_req *r, const td_ctl_msg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const td_ctl_field *f = &m->f[i];
		if (key_is(f, "id") || key_is(f, "op"))
			continue;
		if (r->op == TD_CTL_OP_INIT && key_is(f, "passphrase")) {
			if (f->v.type != TD_CTL_BIN)
				return TN_ERR_DEC_TYPE;
			if (f->v.n == 0)
				return TN_ERR_DEC_BADLEN;
			if (f->v.n > TN_PASSPHRASE_MAX)
				return TN_ERR_DEC_TOOBIG;
			r->pass = f->v.p;
			r->passlen = f->v.n;
			continue;
		}
		const arg_spec *a = arg_find(r->op, f);
		if (!a)
			return TN_ERR_DEC_UNKNOWNKEY;
		if (f->v.type != a->type)
			return TN_ERR_DEC_TYPE;
		r->args.f[r->args.n++] = *f;
	}
	return TN_OK;
}

tn_err td_ctl_req_decode(td_ctl_req *r, const uint8_t *body, size_t len, td_ctl_code *code)
{
	memset(r, 0, sizeof *r);
	*code = TD_CTL_E_BAD_REQUEST;
	td_ctl_msg m;
	tn_err rc = td_ctl_msg_decode(&m, body, len);
	if (rc)
		return rc;
	if ((rc = td_ctl_get_uint(&m, "id", &r->id)))
		return rc;
	r->has_id = true;
	const char *op;
	size_t opn;
	if ((rc = td_ctl_get_str(&m, "op", &op, &opn)))
		return rc;
	if (opn > TD_CTL_OP_MAX)
		return TN_ERR_DEC_TOOBIG;
	r->op = op_lookup(op, opn);
	if (r->op == TD_CTL_OP_NONE) {
		*code = TD_CTL_E_UNKNOWN_OP;
		return TN_ERR_DEC_RECTYPE;
	}
	if ((rc = check_args(r, &m))) {
		r->pass = NULL;
		r->passlen = 0;
		return rc;
	}
	*code = TD_CTL_OK;
	return TN_OK;
}

tn_ssize td_ctl_req_frame(const td_ctl_req *r, uint8_t *out, size_t cap)
{
	const char *name = td_ctl_op_name(r->op);
	if (!name || (r->pass && r->op != TD_CTL_OP_INIT) ||
	    (r->pass && (r->passlen == 0 || r->passlen > TN_PASSPHRASE_MAX)))
		return TN_ERR_INVAL;
	td_ctl_msg m;
	td_ctl_msg_init(&m);
	td_ctl_add_uint(&m, "id", r->id);
	td_ctl_add_str(&m, "op", name);
	if (r->pass)
		td_ctl_add_bin(&m, "passphrase", r->pass, r->passlen);
	for (size_t i = 0; i < r->args.n && i < TD_CTL_FIELDS_MAX; i++) {
		if (m.n >= TD_CTL_FIELDS_MAX)
			return TN_ERR_INVAL;
		m.f[m.n++] = r->args.f[i];
	}
	tn_ssize n = td_ctl_msg_frame(&m, TD_CTL_REQ_MAX, out, cap);
	/* m held a view of the passphrase only: nothing to wipe here. */
	return n;
}

/* ---- replies ------------------------------------------------------------ */

void td_ctl_reply_begin(td_ctl_msg *m, uint64_t id, bool ok)
{
	td_ctl_msg_init(m);
	td_ctl_add_uint(m, "id", id);
	td_ctl_add_bool(m, "ok", ok);
}

/* Longest prefix of s (at most max bytes) that ends on a UTF-8 boundary. */
static size_t utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

tn_ssize td_ctl_error_frame(uint64_t id, td_ctl_code code, const char *message, uint8_t *out,
                            size_t cap)
{
	td_ctl_msg m;
	td_ctl_reply_begin(&m, id, false);
	td_ctl_add_str(&m, "error", td_ctl_code_str(code));
	if (!message)
		message = "";
	td_ctl_add_strn(&m, "message", (const uint8_t *)message,
	                utf8_prefix(message, TD_CTL_MESSAGE_MAX));
	tn_ssize n = td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, cap);
	if (n == TN_ERR_INVAL) {
		/* The message was not UTF-8 (a path with odd bytes, say): the
		 * code is what matters, so send it without the text. */
		m.f[m.n - 1].v.n = 0;
		n = td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, cap);
	}
	return n;
}

/* Check that each key in keys is present with type t. */
static tn_err need(const td_ctl_msg *m, td_ctl_type t, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const td_ctl_val *v;
		tn_err rc = get_typed(m, keys[i], t, &v);
		if (rc)
			return rc;
	}
	return TN_OK;
}

#define NEED(m, t, ...)                                                                            \
	need((m), (t), (const char *const[]){__VA_ARGS__},                                         \
	     sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static tn_err check_status(const td_ctl_msg *m)
{
	tn_err rc;
	bool init;
	if ((rc = NEED(m, TD_CTL_UINT, "pid", "uptime_s", "links", "subscribers")) ||
	    (rc = NEED(m, TD_CTL_STR, "home", "data_dir", "control_socket", "listen", "mesh",
	               "version")) ||
	    (rc = td_ctl_get_bool(m, "initialised", &init)))
		return rc;
	return init ? NEED(m, TD_CTL_STR, "fingerprint", "short_fingerprint") : TN_OK;
}

tn_err td_ctl_reply_check(const td_ctl_msg *m, td_ctl_op op)
{
	uint64_t id;
	bool ok;
	tn_err rc;
	if ((rc = td_ctl_get_uint(m, "id", &id)) || (rc = td_ctl_get_bool(m, "ok", &ok)))
		return rc;
	if (!ok)
		return NEED(m, TD_CTL_STR, "error", "message");
	switch (op) {
	case TD_CTL_OP_VERSION: return NEED(m, TD_CTL_STR, "version", "protocol");
	case TD_CTL_OP_STATUS: return check_status(m);
	case TD_CTL_OP_INIT:
		if ((rc = td_ctl_get_bool(m, "passphrase", &ok)))
			return rc;
		return NEED(m, TD_CTL_STR, "fingerprint", "short_fingerprint");
	case TD_CTL_OP_ID: return NEED(m, TD_CTL_STR, "fingerprint", "short_fingerprint");
	case TD_CTL_OP_SUBSCRIBE: return TN_OK;
	case TD_CTL_OP_NETWORK_CREATE: return NEED(m, TD_CTL_STR, "network_id", "name");
	case TD_CTL_OP_ALERT:
		if ((rc = NEED(m, TD_CTL_STR, "alert", "kind")))
			return rc;
		return NEED(m, TD_CTL_UINT, "links", "members");
	case TD_CTL_OP_ALERTS:
	case TD_CTL_OP_MEMBERS:
	case TD_CTL_OP_PEERS:
	case TD_CTL_OP_AUDIT:
		if ((rc = NEED(m, TD_CTL_STR, "items")))
			return rc;
		return NEED(m, TD_CTL_UINT, "count");
	case TD_CTL_OP_ALERT_STATUS: return NEED(m, TD_CTL_UINT, "delivered", "members");
	case TD_CTL_OP_INVITE:
		if ((rc = NEED(m, TD_CTL_STR, "code", "role", "name", "endpoint")))
			return rc;
		return NEED(m, TD_CTL_UINT, "expires_ms");
	case TD_CTL_OP_JOIN: return NEED(m, TD_CTL_STR, "network_id", "coordinator_endpoint");
	case TD_CTL_OP_REVOKE: return NEED(m, TD_CTL_STR, "member", "name", "fingerprint");
	case TD_CTL_OP_WIPE: return NEED(m, TD_CTL_STR, "data_dir");
	case TD_CTL_OP_NONE: break;
	}
	return TN_ERR_INVAL;
}

tn_err td_ctl_event_check(const td_ctl_msg *m)
{
	uint64_t seq;
	const char *p;
	size_t n;
	tn_err rc = td_ctl_get_str(m, "event", &p, &n);
	if (rc == TN_OK)
		rc = td_ctl_get_uint(m, "seq", &seq);
	return rc;
}
