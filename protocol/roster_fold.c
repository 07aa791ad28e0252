/* The fold (docs/roster.md, "The fold"): from the accepted record set to
 * the state. A pure function of the set: every order-dependent step sorts
 * by record content first, so insertion order never shows. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "roster_priv.h"

/* Revocation settlement and fork resolution feed each other (a valid pin
 * vouches for a branch of a forked chain; a revocation on a forked branch
 * is void). Iterate to a fixed point; the cap keeps the cost bounded and
 * the result still a function of the set. */
enum { FOLD_ROUNDS_MAX = 4 };

typedef struct chain_key {
	const uint8_t *issuer;
	uint64_t iseq;
	const uint8_t *id;
	uint32_t ix;
} chain_key;

static int cmp_chain(const void *a, const void *b)
{
	const chain_key *x = a, *y = b;
	int c = memcmp(x->issuer, y->issuer, TN_PUBKEY);
	if (c)
		return c;
	if (x->iseq != y->iseq)
		return x->iseq < y->iseq ? -1 : 1;
	return memcmp(x->id, y->id, TN_HASH);
}

typedef struct fold {
	tn_roster *ro;
	size_t n;
	chain_key *chain; /* records by (issuer, iseq, id) */
	tn_rpin *cand;    /* every revoke / demotion */
	size_t ncand;
	bool *cand_ok; /* its record and auth path on resolved chains */
	bool *self_att;
	bool *pin_valid;
	bool *next_valid;
	uint32_t *adj_start, *adj; /* attack edges, CSR by attacker */
	size_t nadj, capadj;
} fold;

/* ---- chains -------------------------------------------------------------- */

/* base_ok: the fork-free prefix of each issuer's chain. Every accepted
 * record's prev is accepted, so there are no gaps below a record: the
 * prefix ends at the first iseq held by two records. */
static void chains(fold *f)
{
	tn_roster *ro = f->ro;
	for (size_t i = 0; i < f->n; i++) {
		tn_rrec *r = &ro->recs[i];
		f->chain[i] = (chain_key){r->d.issuer, r->d.iseq, r->id, (uint32_t)i};
	}
	tn_roster_sort(f->chain, f->n, sizeof *f->chain, cmp_chain);
	size_t i = 0;
	while (i < f->n) {
		size_t j = i;
		while (j < f->n && memcmp(f->chain[j].issuer, f->chain[i].issuer, TN_PUBKEY) == 0)
			j++;
		bool forked = false;
		for (size_t k = i; k < j; k++) {
			bool dup = (k + 1 < j && f->chain[k + 1].iseq == f->chain[k].iseq) ||
			           (k > i && f->chain[k - 1].iseq == f->chain[k].iseq);
			forked = forked || dup;
			ro->recs[f->chain[k].ix].base_ok = !forked;
		}
		i = j;
	}
}

/* fork_ok = base_ok, plus whatever a valid pin's head vouches for. */
static void resolve_forks(fold *f)
{
	tn_roster *ro = f->ro;
	for (size_t i = 0; i < f->n; i++)
		ro->recs[i].fork_ok = ro->recs[i].base_ok;
	for (size_t c = 0; c < f->ncand; c++) {
		if (!f->pin_valid[c])
			continue;
		for (uint32_t h = f->cand[c].head_ix; h != RIX_NONE; h = ro->recs[h].prev_ix)
			ro->recs[h].fork_ok = true;
	}
}

/* ---- revocation settlement ----------------------------------------------- */

/* q attacks r when r's issuer is q's subject and r lies after q's pin
 * (docs/roster.md, step 3). */
static bool attacks(const fold *f, const tn_rpin *q, uint32_t r)
{
	const tn_roster *ro = f->ro;
	return memcmp(ro->recs[r].d.issuer, q->subject, TN_PUBKEY) == 0 &&
	       tn_roster_after_pin(ro, q, r);
}

/* A record is cut by a pin valid in the previous round (demotions cut
 * coordinator records only; every record on an auth path is one). */
static bool cut_by_prev(const fold *f, uint32_t x)
{
	const tn_roster *ro = f->ro;
	for (size_t c = 0; c < f->ncand; c++) {
		const tn_rpin *p = &f->cand[c];
		if (f->pin_valid[c] && memcmp(p->subject, ro->recs[x].d.issuer, TN_PUBKEY) == 0 &&
		    (!p->demote || tn_roster_coord_type(ro->recs[x].d.type)) &&
		    tn_roster_after_pin(ro, p, x))
			return true;
	}
	return false;
}

/* A revocation is a candidate when it and its auth path lie on resolved
 * chains and nothing on its auth path is cut by a pin that held in the
 * previous round. It defeats itself when its own pin cuts its auth path
 * (a coordinator pinning the founder before her own admission). */
static void candidate(const fold *f, size_t c)
{
	const tn_roster *ro = f->ro;
	const tn_rpin *q = &f->cand[c];
	uint32_t r = q->rec_ix;
	bool ok = true, self = false;
	size_t steps = 0;
	for (uint32_t x = r; x != RIX_NONE && steps <= f->n; x = ro->recs[x].auth_ix, steps++) {
		ok = ok && ro->recs[x].fork_ok && (x == r || !cut_by_prev(f, x));
		self = self ||
		       (x != r && memcmp(ro->recs[x].d.issuer, q->subject, TN_PUBKEY) == 0 &&
		        tn_roster_after_pin(ro, q, x));
	}
	f->cand_ok[c] = ok;
	f->self_att[c] = self;
}

static tn_err edge(fold *f, uint32_t to)
{
	if (f->nadj == f->capadj) {
		size_t cap = f->capadj ? f->capadj * 2 : 64;
		uint32_t *a = realloc(f->adj, cap * sizeof *a);
		if (!a)
			return TN_ERR_NOMEM;
		f->adj = a;
		f->capadj = cap;
	}
	f->adj[f->nadj++] = to;
	return TN_OK;
}

static tn_err build_graph(fold *f)
{
	f->nadj = 0;
	for (size_t c = 0; c < f->ncand; c++)
		candidate(f, c);
	for (size_t q = 0; q < f->ncand; q++) {
		f->adj_start[q] = (uint32_t)f->nadj;
		if (!f->cand_ok[q])
			continue;
		for (size_t r = 0; r < f->ncand; r++) {
			if (q == r || !f->cand_ok[r] || !attacks(f, &f->cand[q], f->cand[r].rec_ix))
				continue;
			tn_err rc = edge(f, (uint32_t)r);
			if (rc)
				return rc;
		}
	}
	f->adj_start[f->ncand] = (uint32_t)f->nadj;
	return TN_OK;
}

/* Tarjan's strongly connected components, iteratively (the attack graph
 * comes from peers: no recursion depth they control). order receives the
 * vertices component by component, in completion order: a component
 * completes after every component it reaches, so walking order backwards
 * visits attackers before their targets. */
typedef struct scc {
	uint32_t *index, *low, *comp, *stack, *order, *cs_v, *cs_e;
	bool *on;
} scc;

static void tarjan(const fold *f, scc *s)
{
	size_t nc = f->ncand, next = 0, sp = 0, norder = 0;
	uint32_t ncomp = 0;
	for (size_t v = 0; v < nc; v++)
		s->index[v] = UINT32_MAX;
	for (size_t root = 0; root < nc; root++) {
		if (s->index[root] != UINT32_MAX)
			continue;
		size_t csp = 0;
		s->cs_v[csp] = (uint32_t)root;
		s->cs_e[csp++] = f->adj_start[root];
		s->index[root] = s->low[root] = (uint32_t)next++;
		s->stack[sp++] = (uint32_t)root;
		s->on[root] = true;
		while (csp) {
			uint32_t v = s->cs_v[csp - 1];
			if (s->cs_e[csp - 1] < f->adj_start[v + 1]) {
				uint32_t w = f->adj[s->cs_e[csp - 1]++];
				if (s->index[w] == UINT32_MAX) {
					s->index[w] = s->low[w] = (uint32_t)next++;
					s->stack[sp++] = w;
					s->on[w] = true;
					s->cs_v[csp] = w;
					s->cs_e[csp++] = f->adj_start[w];
				} else if (s->on[w] && s->index[w] < s->low[v]) {
					s->low[v] = s->index[w];
				}
				continue;
			}
			if (s->low[v] == s->index[v]) {
				uint32_t w;
				do {
					w = s->stack[--sp];
					s->on[w] = false;
					s->comp[w] = ncomp;
					s->order[norder++] = w;
				} while (w != v);
				ncomp++;
			}
			csp--;
			if (csp) {
				uint32_t u = s->cs_v[csp - 1];
				if (s->low[v] < s->low[u])
					s->low[u] = s->low[v];
			}
		}
	}
}

/* A revocation is valid unless it attacks itself or a valid revocation
 * outside its own component attacks it (docs/roster.md, step 3). */
static tn_err settle(fold *f)
{
	size_t nc = f->ncand;
	scc s;
	size_t m = nc ? nc : 1;
	s.index = malloc(m * sizeof *s.index);
	s.low = malloc(m * sizeof *s.low);
	s.comp = malloc(m * sizeof *s.comp);
	s.stack = malloc(m * sizeof *s.stack);
	s.order = malloc(m * sizeof *s.order);
	s.cs_v = malloc(m * sizeof *s.cs_v);
	s.cs_e = malloc(m * sizeof *s.cs_e);
	s.on = calloc(m, sizeof *s.on);
	bool *attacked = calloc(m, sizeof *attacked);
	tn_err rc = TN_ERR_NOMEM;
	if (!s.index || !s.low || !s.comp || !s.stack || !s.order || !s.cs_v || !s.cs_e || !s.on ||
	    !attacked)
		goto out;
	tarjan(f, &s);
	for (size_t k = nc; k-- > 0;) {
		uint32_t v = s.order[k];
		f->next_valid[v] = f->cand_ok[v] && !f->self_att[v] && !attacked[v];
		if (!f->next_valid[v])
			continue;
		for (uint32_t e = f->adj_start[v]; e < f->adj_start[v + 1]; e++)
			if (s.comp[f->adj[e]] != s.comp[v])
				attacked[f->adj[e]] = true;
	}
	rc = TN_OK;
out:
	free(s.index);
	free(s.low);
	free(s.comp);
	free(s.stack);
	free(s.order);
	free(s.cs_v);
	free(s.cs_e);
	free(s.on);
	free(attacked);
	return rc;
}

static tn_err settle_rounds(fold *f)
{
	memset(f->pin_valid, 0, f->ncand * sizeof *f->pin_valid);
	for (int round = 0; round < FOLD_ROUNDS_MAX; round++) {
		resolve_forks(f);
		tn_err rc = build_graph(f);
		if (!rc)
			rc = settle(f);
		if (rc)
			return rc;
		bool same =
		        memcmp(f->pin_valid, f->next_valid, f->ncand * sizeof *f->pin_valid) == 0;
		memcpy(f->pin_valid, f->next_valid, f->ncand * sizeof *f->pin_valid);
		if (same)
			break;
	}
	resolve_forks(f);
	return TN_OK;
}

/* ---- validity of every record --------------------------------------------- */

static int cmp_pin(const void *a, const void *b)
{
	const tn_rpin *x = a, *y = b;
	int c = memcmp(x->subject, y->subject, TN_PUBKEY);
	if (c)
		return c;
	if (x->demote != y->demote)
		return x->demote ? 1 : -1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return memcmp(x->id, y->id, TN_HASH);
}

/* Cut by a valid pin on its issuer (demotions cut coordinator records only). */
static uint8_t cut_status(const tn_roster *ro, uint32_t x)
{
	const tn_rrec *r = &ro->recs[x];
	uint8_t st = TN_RS_VALID;
	for (size_t i = 0; i < ro->npins; i++) {
		const tn_rpin *p = &ro->pins[i];
		if (memcmp(p->subject, r->d.issuer, TN_PUBKEY) != 0)
			continue;
		if (p->demote && !tn_roster_coord_type(r->d.type))
			continue;
		if (!tn_roster_after_pin(ro, p, x))
			continue;
		if (!p->demote)
			return TN_RS_VOID_REVOKED;
		st = TN_RS_VOID_DEMOTED;
	}
	return st;
}

static tn_err validity(fold *f)
{
	tn_roster *ro = f->ro;
	size_t nv = 0;
	for (size_t c = 0; c < f->ncand; c++)
		nv += f->pin_valid[c];
	tn_rpin *pins = malloc((nv ? nv : 1) * sizeof *pins);
	if (!pins)
		return TN_ERR_NOMEM;
	size_t k = 0;
	for (size_t c = 0; c < f->ncand; c++)
		if (f->pin_valid[c])
			pins[k++] = f->cand[c];
	tn_roster_sort(pins, nv, sizeof *pins, cmp_pin);
	free(ro->pins);
	ro->pins = pins;
	ro->npins = nv;

	size_t c = 0;
	/* Index order: a record's auth is always decided before it. */
	for (uint32_t x = 0; x < f->n; x++) {
		tn_rrec *r = &ro->recs[x];
		uint8_t st;
		if (x == 0) {
			st = TN_RS_VALID; /* genesis defines the network */
		} else if (tn_roster_pinning(r)) {
			while (f->cand[c].rec_ix != x)
				c++;
			st = !r->fork_ok       ? TN_RS_VOID_FORK
			     : !f->cand_ok[c]  ? TN_RS_VOID_AUTH
			     : f->pin_valid[c] ? TN_RS_VALID
			                       : TN_RS_VOID_SETTLED;
		} else if (!r->fork_ok) {
			st = TN_RS_VOID_FORK;
		} else if ((st = cut_status(ro, x)) == TN_RS_VALID && !ro->recs[r->auth_ix].valid) {
			st = TN_RS_VOID_AUTH;
		}
		r->status = st;
		r->valid = st == TN_RS_VALID;
	}
	return TN_OK;
}

/* ---- members ---------------------------------------------------------------- */

typedef struct add_key {
	const uint8_t *pk;
	const uint8_t *id;
	uint32_t ix;
} add_key;

static int cmp_add(const void *a, const void *b)
{
	const add_key *x = a, *y = b;
	int c = memcmp(x->pk, y->pk, TN_PUBKEY);
	return c ? c : memcmp(x->id, y->id, TN_HASH);
}

static tn_rmember *mem_at(tn_roster *ro, const uint8_t *pk)
{
	size_t i = tn_roster_member_ix(ro, pk);
	return i < ro->nmems ? &ro->mems[i] : NULL;
}

static void conflict(tn_roster *ro, uint8_t kind, const uint8_t *who, uint64_t iseq,
                     const uint8_t *a, const uint8_t *b)
{
	if (ro->nconf == TN_ROSTER_CONFLICTS_MAX)
		return;
	tn_roster_conflict *c = &ro->conf[ro->nconf++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	memcpy(c->who.b, who, TN_PUBKEY);
	c->iseq = iseq;
	bool swap = memcmp(a, b, TN_HASH) > 0;
	memcpy(c->a, swap ? b : a, TN_HASH);
	memcpy(c->b, swap ? a : b, TN_HASH);
}

static tn_err members(fold *f)
{
	tn_roster *ro = f->ro;
	add_key *k = malloc(f->n * sizeof *k);
	if (!k)
		return TN_ERR_NOMEM;
	size_t nk = 0;
	k[nk++] = (add_key){ro->founder, ro->recs[0].id, 0};
	for (uint32_t x = 1; x < f->n; x++) {
		const tn_rrec *r = &ro->recs[x];
		if (r->valid && r->d.type == TN_ROSTER_ADD &&
		    memcmp(r->d.body.add.subject, ro->founder, TN_PUBKEY) != 0)
			k[nk++] = (add_key){r->d.body.add.subject, r->id, x};
	}
	tn_roster_sort(k, nk, sizeof *k, cmp_add);
	tn_rmember *m = malloc(nk * sizeof *m);
	if (!m) {
		free(k);
		return TN_ERR_NOMEM;
	}
	size_t nm = 0;
	for (size_t i = 0; i < nk; i++) {
		if (nm && memcmp(m[nm - 1].pk, k[i].pk, TN_PUBKEY) == 0) {
			/* Admitted twice: the lowest id speaks; other link keys are a conflict. */
			const tn_rrec *first = &ro->recs[m[nm - 1].admit_ix],
			              *r = &ro->recs[k[i].ix];
			if (memcmp(first->d.body.add.subject_link_pk, r->d.body.add.subject_link_pk,
			           TN_PUBKEY) != 0)
				conflict(ro, TN_RC_LINK_KEYS, k[i].pk, 0, first->id, r->id);
			continue;
		}
		memset(&m[nm], 0, sizeof m[nm]);
		memcpy(m[nm].pk, k[i].pk, TN_PUBKEY);
		m[nm].admit_ix = k[i].ix;
		m[nm].endpoint_ix = RIX_NONE;
		m[nm].active = true;
		nm++;
	}
	free(k);
	free(ro->mems);
	ro->mems = m;
	ro->nmems = nm;

	/* Grants and demotions set the role, revocations end membership:
	 * flags, not order, so "demotion wins" and "revocation wins". */
	bool *granted = calloc(nm ? nm : 1, sizeof *granted);
	bool *demoted = calloc(nm ? nm : 1, sizeof *demoted);
	if (!granted || !demoted) {
		free(granted);
		free(demoted);
		return TN_ERR_NOMEM;
	}
	tn_rmember *fm = mem_at(ro, ro->founder);
	granted[fm - m] = true;
	for (uint32_t x = 1; x < f->n; x++) {
		const tn_rrec *r = &ro->recs[x];
		if (!r->valid)
			continue;
		tn_rmember *t;
		switch (r->d.type) {
		case TN_ROSTER_ADD:
			if ((t = mem_at(ro, r->d.body.add.subject)) &&
			    r->d.body.add.role == TN_ROLE_COORDINATOR)
				granted[t - m] = true;
			break;
		case TN_ROSTER_ROLE:
			if (!(t = mem_at(ro, r->d.body.role.subject)))
				break;
			if (r->d.body.role.role == TN_ROLE_COORDINATOR)
				granted[t - m] = true;
			else
				demoted[t - m] = true;
			break;
		case TN_ROSTER_REVOKE:
			if ((t = mem_at(ro, r->d.body.revoke.subject)))
				t->active = false;
			break;
		case TN_ROSTER_ENDPOINT:
			t = mem_at(ro, r->d.issuer);
			if (t && (t->endpoint_ix == RIX_NONE ||
			          ro->recs[t->endpoint_ix].d.iseq < r->d.iseq))
				t->endpoint_ix = x;
			break;
		default: break;
		}
	}
	for (size_t i = 0; i < nm; i++)
		m[i].role = m[i].active && granted[i] && !demoted[i] ? TN_ROLE_COORDINATOR
		                                                     : TN_ROLE_MEMBER;
	free(granted);
	free(demoted);
	return TN_OK;
}

/* ---- epochs ----------------------------------------------------------------- */

typedef struct src_key {
	int rank;             /* 0 rekey, 1 add, 2 genesis */
	const uint8_t *group; /* rekeys: lowest id among the issuer's parts for this epoch */
	const uint8_t *id;
	uint32_t ix;
} src_key;

static int cmp_src(const void *a, const void *b)
{
	const src_key *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	int c = memcmp(x->group, y->group, TN_HASH);
	return c ? c : memcmp(x->id, y->id, TN_HASH);
}

static bool source_epoch(const tn_rrec *r, uint32_t *e)
{
	if (!r->valid)
		return false;
	switch (r->d.type) {
	case TN_ROSTER_GENESIS: *e = 0; return true;
	case TN_ROSTER_ADD: *e = r->d.body.add.epoch; return true;
	case TN_ROSTER_REKEY: *e = r->d.body.rekey.epoch; return true;
	default: return false;
	}
}

/* The lowest id among the valid rekey parts of r's issuer for r's epoch:
 * the same for every part, on every node. */
static const uint8_t *rekey_group(const fold *f, const tn_rrec *r)
{
	const uint8_t *g = r->id;
	for (size_t i = 0; i < f->n; i++) {
		const tn_rrec *o = &f->ro->recs[i];
		if (o->valid && o->d.type == TN_ROSTER_REKEY &&
		    o->d.body.rekey.epoch == r->d.body.rekey.epoch &&
		    memcmp(o->d.issuer, r->d.issuer, TN_PUBKEY) == 0 &&
		    memcmp(o->id, g, TN_HASH) < 0)
			g = o->id;
	}
	return g;
}

/* The sealed box r holds for pk, if any. */
static bool sealed_for(const tn_rrec *r, const uint8_t pk[TN_PUBKEY], const tn_roster *ro,
                       uint8_t sealed[TN_SEALED_SECRETS])
{
	switch (r->d.type) {
	case TN_ROSTER_GENESIS:
		if (memcmp(ro->founder, pk, TN_PUBKEY) != 0)
			return false;
		memcpy(sealed, r->d.body.genesis.sealed, TN_SEALED_SECRETS);
		return true;
	case TN_ROSTER_ADD:
		if (memcmp(r->d.body.add.subject, pk, TN_PUBKEY) != 0)
			return false;
		memcpy(sealed, r->d.body.add.sealed, TN_SEALED_SECRETS);
		return true;
	case TN_ROSTER_REKEY: {
		tn_iter it;
		tn_rekey_entry e;
		tn_iter_init(&it, &r->d.body.rekey.list);
		while (tn_rekey_next(&it, &e) == TN_OK) {
			int c = memcmp(e.member, pk, TN_PUBKEY);
			if (c == 0) {
				memcpy(sealed, e.sealed, TN_SEALED_SECRETS);
				return true;
			}
			if (c > 0)
				return false; /* entries ascend */
		}
		return false;
	}
	default: return false;
	}
}

/* Open, in preference order, the sources of epoch e sealed to self. */
static tn_err open_epoch(fold *f, uint32_t e, tn_epoch_keys *keys, size_t *nkeys)
{
	tn_roster *ro = f->ro;
	*nkeys = 0;
	if (!ro->cfg.self)
		return TN_OK;
	const uint8_t *self = tn_identity_pubkey(ro->cfg.self)->b;
	src_key *s = malloc(f->n * sizeof *s);
	if (!s)
		return TN_ERR_NOMEM;
	size_t ns = 0;
	uint8_t sealed[TN_SEALED_SECRETS];
	for (uint32_t x = 0; x < f->n; x++) {
		const tn_rrec *r = &ro->recs[x];
		uint32_t re;
		if (!source_epoch(r, &re) || re != e || !sealed_for(r, self, ro, sealed))
			continue;
		int rank = r->d.type == TN_ROSTER_REKEY ? 0 : r->d.type == TN_ROSTER_ADD ? 1 : 2;
		s[ns++] = (src_key){rank, rank == 0 ? rekey_group(f, r) : r->id, r->id, x};
	}
	tn_roster_sort(s, ns, sizeof *s, cmp_src);
	const uint8_t *lpk = tn_identity_linkpub(ro->cfg.self)->b;
	const uint8_t *lsk = tn_identity_link_secret(ro->cfg.self)->b;
	tn_epoch_keys k;
	for (size_t i = 0; i < ns && *nkeys < TN_EPOCH_KEYS_MAX; i++) {
		if (!sealed_for(&ro->recs[s[i].ix], self, ro, sealed))
			continue;
		/* A box sealed to another link key (or garbage) just fails. */
		if (crypto_box_seal_open((uint8_t *)&k, sealed, TN_SEALED_SECRETS, lpk, lsk) != 0)
			continue;
		bool dup = false;
		for (size_t j = 0; j < *nkeys; j++)
			dup = dup || sodium_memcmp(&keys[j], &k, sizeof k) == 0;
		if (!dup)
			keys[(*nkeys)++] = k;
	}
	sodium_memzero(&k, sizeof k);
	free(s);
	return TN_OK;
}

static tn_err epochs(fold *f)
{
	tn_roster *ro = f->ro;
	uint32_t cur = 0;
	uint64_t start = ro->recs[0].d.created_ms;
	bool any = false;
	for (size_t x = 0; x < f->n; x++) {
		const tn_rrec *r = &ro->recs[x];
		if (!r->valid || r->d.type != TN_ROSTER_REKEY)
			continue;
		uint32_t e = r->d.body.rekey.epoch;
		if (!any || e > cur || (e == cur && r->d.created_ms < start)) {
			start = r->d.created_ms;
			cur = e;
		}
		any = true;
	}
	bool has_prev = false;
	uint32_t prev = 0;
	uint64_t pstart = 0;
	for (size_t x = 0; x < f->n; x++) {
		uint32_t e;
		const tn_rrec *r = &ro->recs[x];
		if (!source_epoch(r, &e) || e >= cur)
			continue;
		if (!has_prev || e > prev || (e == prev && r->d.created_ms < pstart)) {
			prev = e;
			pstart = r->d.created_ms;
		}
		has_prev = true;
	}
	ro->cur_epoch = cur;
	ro->cur_start = start;
	ro->has_prev = has_prev;
	ro->prev_epoch = prev;
	ro->prev_start = pstart;
	sodium_memzero(ro->cur_keys, sizeof ro->cur_keys);
	sodium_memzero(ro->prev_keys, sizeof ro->prev_keys);
	ro->nprev = 0;
	tn_err rc = open_epoch(f, cur, ro->cur_keys, &ro->ncur);
	if (!rc && has_prev)
		rc = open_epoch(f, prev, ro->prev_keys, &ro->nprev);
	if (rc)
		return rc;

	/* Who has some valid record sealing the current epoch to her. */
	for (size_t x = 0; x < f->n; x++) {
		const tn_rrec *r = &ro->recs[x];
		uint32_t e;
		if (!source_epoch(r, &e) || e != cur)
			continue;
		tn_rmember *t = NULL;
		if (r->d.type == TN_ROSTER_GENESIS)
			t = mem_at(ro, ro->founder);
		else if (r->d.type == TN_ROSTER_ADD)
			t = mem_at(ro, r->d.body.add.subject);
		if (t) {
			t->has_current = true;
			continue;
		}
		if (r->d.type != TN_ROSTER_REKEY)
			continue;
		tn_iter it;
		tn_rekey_entry en;
		tn_iter_init(&it, &r->d.body.rekey.list);
		while (tn_rekey_next(&it, &en) == TN_OK)
			if ((t = mem_at(ro, en.member)))
				t->has_current = true;
	}
	free(ro->missing);
	ro->missing = malloc((ro->nmems ? ro->nmems : 1) * sizeof *ro->missing);
	if (!ro->missing)
		return TN_ERR_NOMEM;
	ro->nmissing = 0;
	for (size_t i = 0; i < ro->nmems; i++)
		if (ro->mems[i].active && !ro->mems[i].has_current)
			ro->missing[ro->nmissing++] = (uint32_t)i;
	return TN_OK;
}

/* ---- conflicts, audit, hash ------------------------------------------------------ */

static int cmp_conf(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(tn_roster_conflict));
}

static void conflicts(fold *f)
{
	tn_roster *ro = f->ro;
	for (size_t i = 0; i + 1 < f->n; i++) {
		const chain_key *x = &f->chain[i], *y = &f->chain[i + 1];
		if (x->iseq == y->iseq && memcmp(x->issuer, y->issuer, TN_PUBKEY) == 0)
			conflict(ro, TN_RC_FORK, x->issuer, x->iseq, x->id, y->id);
	}
	/* A record held as backdated forks the pinned chain. */
	for (size_t i = 0; i < ro->nheld; i++) {
		const tn_rheld *h = &ro->held[i];
		if (h->reason != TN_ROSTER_HELD_BACKDATED)
			continue;
		for (size_t j = 0; j < f->n; j++) {
			const tn_rrec *r = &ro->recs[j];
			if (r->d.iseq == h->d.iseq && r->fork_ok &&
			    memcmp(r->d.issuer, h->d.issuer, TN_PUBKEY) == 0) {
				conflict(ro, TN_RC_FORK, h->d.issuer, h->d.iseq, r->id, h->id);
				break;
			}
		}
	}
	tn_roster_sort(ro->conf, ro->nconf, sizeof *ro->conf, cmp_conf);
	size_t k = 0;
	for (size_t i = 0; i < ro->nconf; i++)
		if (!k || cmp_conf(&ro->conf[k - 1], &ro->conf[i]) != 0)
			ro->conf[k++] = ro->conf[i];
	ro->nconf = k;
}

typedef struct audit_key {
	uint64_t created;
	const uint8_t *id;
	uint32_t ix;
} audit_key;

static int cmp_audit(const void *a, const void *b)
{
	const audit_key *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return memcmp(x->id, y->id, TN_HASH);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, TN_HASH);
}

static void put_u64(crypto_generichash_state *st, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	crypto_generichash_update(st, b, sizeof b);
}

/* docs/roster.md, "State hash". */
static tn_err audit_and_hash(fold *f)
{
	tn_roster *ro = f->ro;
	audit_key *ak = malloc(f->n * sizeof *ak);
	const uint8_t **ids = malloc(f->n * sizeof *ids);
	uint32_t *audit = malloc(f->n * sizeof *audit);
	if (!ak || !ids || !audit) {
		free(ak);
		free(ids);
		free(audit);
		return TN_ERR_NOMEM;
	}
	size_t nv = 0;
	for (uint32_t x = 0; x < f->n; x++) {
		ak[x] = (audit_key){ro->recs[x].d.created_ms, ro->recs[x].id, x};
		if (ro->recs[x].valid)
			ids[nv++] = ro->recs[x].id;
	}
	tn_roster_sort(ak, f->n, sizeof *ak, cmp_audit);
	for (size_t i = 0; i < f->n; i++)
		audit[i] = ak[i].ix;
	free(ro->audit);
	ro->audit = audit;
	tn_roster_sort(ids, nv, sizeof *ids, cmp_id);

	static const char label[] = "tocsin/1 roster state";
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, TN_HASH);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, ro->nid, TN_NETWORK_ID);
	put_u64(&st, nv);
	for (size_t i = 0; i < nv; i++)
		crypto_generichash_update(&st, ids[i], TN_HASH);
	put_u64(&st, ro->nmems);
	for (size_t i = 0; i < ro->nmems; i++) {
		const tn_rmember *x = &ro->mems[i];
		const tn_rrec *a = &ro->recs[x->admit_ix];
		const uint8_t *link = a->d.type == TN_ROSTER_GENESIS
		                              ? a->d.body.genesis.founder_link_pk
		                              : a->d.body.add.subject_link_pk;
		uint8_t flags[2] = {x->role, x->active};
		crypto_generichash_update(&st, x->pk, TN_PUBKEY);
		crypto_generichash_update(&st, link, TN_PUBKEY);
		crypto_generichash_update(&st, flags, sizeof flags);
	}
	put_u64(&st, ro->npins);
	for (size_t i = 0; i < ro->npins; i++) {
		const tn_rpin *p = &ro->pins[i];
		crypto_generichash_update(&st, p->subject, TN_PUBKEY);
		uint8_t d = p->demote;
		crypto_generichash_update(&st, &d, 1);
		put_u64(&st, p->seq);
		crypto_generichash_update(&st, ro->recs[p->rec_ix].id, TN_HASH);
	}
	put_u64(&st, ro->cur_epoch);
	crypto_generichash_final(&st, ro->state_hash, TN_HASH);
	free(ak);
	free(ids);
	return TN_OK;
}

/* ---- the fold ---------------------------------------------------------------------- */

tn_err tn_roster_fold(tn_roster *ro)
{
	fold f;
	memset(&f, 0, sizeof f);
	f.ro = ro;
	f.n = ro->nrecs;
	for (size_t i = 0; i < f.n; i++)
		f.ncand += tn_roster_pinning(&ro->recs[i]);
	size_t mc = f.ncand ? f.ncand : 1;
	f.chain = malloc(f.n * sizeof *f.chain);
	f.cand = malloc(mc * sizeof *f.cand);
	f.cand_ok = malloc(mc * sizeof *f.cand_ok);
	f.self_att = malloc(mc * sizeof *f.self_att);
	f.pin_valid = malloc(mc * sizeof *f.pin_valid);
	f.next_valid = malloc(mc * sizeof *f.next_valid);
	f.adj_start = malloc((mc + 1) * sizeof *f.adj_start);
	if (!ro->conf)
		ro->conf = malloc(TN_ROSTER_CONFLICTS_MAX * sizeof *ro->conf);
	tn_err rc = TN_ERR_NOMEM;
	if (!f.chain || !f.cand || !f.cand_ok || !f.self_att || !f.pin_valid || !f.next_valid ||
	    !f.adj_start || !ro->conf)
		goto out;
	ro->nconf = 0;
	size_t c = 0;
	for (uint32_t i = 0; i < f.n; i++)
		if (tn_roster_pinning(&ro->recs[i]))
			tn_roster_pin_of(ro, i, &f.cand[c++]);
	chains(&f);
	if ((rc = settle_rounds(&f)) || (rc = validity(&f)) || (rc = members(&f)) ||
	    (rc = epochs(&f)) || (rc = audit_and_hash(&f)))
		goto out;
	conflicts(&f);
	ro->dirty = false;
	ro->folded = true;
out:
	free(f.chain);
	free(f.cand);
	free(f.cand_ok);
	free(f.self_att);
	free(f.pin_valid);
	free(f.next_valid);
	free(f.adj_start);
	free(f.adj);
	return rc;
}
