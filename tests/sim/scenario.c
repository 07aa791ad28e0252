/* The scenario (scenario.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

void sim_scn_default(sim_scn *scn)
{
	*scn = (sim_scn){
	        .nodes = 1000,
	        .degree = 5,
	        .churn = 0.0,
	        .loss = 0.0,
	        .seed = 1,
	        .churn_start = 5 * TN_SEC,
	        .churn_stop = 65 * TN_SEC,
	        .mean_up = 20 * TN_SEC,
	        .mean_down = 10 * TN_SEC,
	        .crash_share = 0.5,
	        .part_at = 10 * TN_SEC,
	        .heal_at = 30 * TN_SEC,
	        .inject_at = 15 * TN_SEC,
	        .items = 1,
	        .item_gap = 5 * TN_SEC,
	        .end = 90 * TN_SEC,
	};
}

static const char usage[] =
        "usage: %s --nodes N --degree D --churn C --loss L --seed S [--partition] [--geometric]\n"
        "  --nodes N      hosts (default 1000)\n"
        "  --degree D     overlay degree: d-regular, or the mean with --geometric (default 5)\n"
        "  --churn C      share of hosts that cycle down and up, 0..1 (default 0)\n"
        "  --loss L       per-send loss probability, 0..1, seen as retransmission delay\n"
        "  --seed S       seed of everything random (default 1)\n"
        "  --partition    cut the hosts in two halves from 10 s to 30 s\n"
        "  --geometric    random geometric overlay instead of d-regular\n"
        "  --alerts K     K items, one every 5 s from 15 s, 1..8 (default 1)\n";

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s || *s == '\0' || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_unit(const char *s, bool below_one, double *out)
{
	char *end;
	if (!s || *s == '\0')
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end != '\0' || !(v >= 0.0) || v > 1.0 || (below_one && v >= 1.0))
		return false;
	*out = v;
	return true;
}

int sim_scn_parse(sim_scn *scn, int argc, char **argv, FILE *out, FILE *err)
{
	const char *prog = argc > 0 ? argv[0] : "sim";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t u;
		bool ok = true, takes = true;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fprintf(out, usage, prog);
			return 2;
		} else if (!strcmp(a, "--nodes")) {
			ok = parse_u64(v, 10000000, &u) && u >= 2;
			scn->nodes = (uint32_t)u;
		} else if (!strcmp(a, "--degree")) {
			ok = parse_u64(v, 1000, &u) && u >= 1;
			scn->degree = (unsigned)u;
		} else if (!strcmp(a, "--churn")) {
			ok = parse_unit(v, false, &scn->churn);
		} else if (!strcmp(a, "--loss")) {
			ok = parse_unit(v, true, &scn->loss);
		} else if (!strcmp(a, "--seed")) {
			ok = parse_u64(v, UINT64_MAX, &scn->seed);
		} else if (!strcmp(a, "--partition")) {
			scn->partition = true;
			takes = false;
		} else if (!strcmp(a, "--alerts")) {
			ok = parse_u64(v, 8, &u) && u >= 1;
			scn->items = (unsigned)u;
		} else if (!strcmp(a, "--geometric")) {
			scn->geometric = true;
			takes = false;
		} else {
			fprintf(err, "%s: unknown option %s\n", prog, a);
			fprintf(err, usage, prog);
			return 1;
		}
		if (!ok) {
			fprintf(err, "%s: bad value for %s: %s\n", prog, a, v ? v : "(missing)");
			return 1;
		}
		i += takes;
	}
	if (scn->degree >= scn->nodes) {
		fprintf(err, "%s: --degree must be below --nodes\n", prog);
		return 1;
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

typedef struct run {
	const sim_scn *scn;
	const sim_scn_class *cls;
	void *ud;
	uint32_t *groups;
	sim_host_id origin;
	tn_err err;
} run;

static void keep(run *r, tn_err e)
{
	if (r->err == TN_OK)
		r->err = e;
}

static void do_partition(sim *s, void *arg, tn_time now)
{
	(void)now;
	run *r = arg;
	keep(r, sim_partition(s, r->groups, r->scn->nodes));
}

static void do_heal(sim *s, void *arg, tn_time now)
{
	(void)now;
	keep(arg, sim_heal(s));
}

/* The origin: uniform among online hosts that never churn (a member who
 * presses panic is awake), else among any online host. */
static void do_inject(sim *s, void *arg, tn_time now)
{
	(void)now;
	run *r = arg;
	uint32_t n = sim_host_count(s), count[2] = {0, 0};
	for (uint32_t h = 0; h < n; h++)
		if (sim_host_get_state(s, h) == SIM_ONLINE)
			count[!sim_host_churns(s, h)]++;
	int pool = count[1] ? 1 : 0;
	if (count[pool] == 0) {
		keep(r, TN_ERR_STATE);
		return;
	}
	uint64_t pick = sim_rand_u64(s) % count[pool];
	for (uint32_t h = 0; h < n; h++) {
		if (sim_host_get_state(s, h) != SIM_ONLINE || (pool && sim_host_churns(s, h)))
			continue;
		if (pick-- == 0) {
			if (r->origin == SIM_NO_HOST)
				r->origin = h; /* the first item's */
			keep(r, r->cls->inject(r->ud, h, r->scn->end));
			return;
		}
	}
}

/* Two halves: a seeded shuffle, the first half in group 1. */
static tn_err make_groups(run *r)
{
	uint32_t n = r->scn->nodes;
	uint32_t *ids = malloc((size_t)n * sizeof *ids);
	r->groups = calloc(n, sizeof *r->groups);
	if (!ids || !r->groups) {
		free(ids);
		return TN_ERR_NOMEM;
	}
	sim_rng g;
	sim_rng_init(&g, r->scn->seed, UINT64_C(0x7061727469746e));
	for (uint32_t i = 0; i < n; i++)
		ids[i] = i;
	for (uint32_t i = 0; i + 1 < n; i++) {
		uint32_t j = i + (uint32_t)sim_rng_below(&g, n - i);
		uint32_t t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
	for (uint32_t i = 0; i < n / 2; i++)
		r->groups[ids[i]] = 1;
	free(ids);
	return TN_OK;
}

static tn_err schedule(run *r, sim *s)
{
	const sim_scn *scn = r->scn;
	tn_err rc;
	if (scn->churn > 0.0) {
		sim_churn_cfg cc = {
		        .fraction = scn->churn,
		        .mean_up = scn->mean_up,
		        .mean_down = scn->mean_down,
		        .crash_share = scn->crash_share,
		        .start = scn->churn_start,
		        .stop = scn->churn_stop,
		};
		if ((rc = sim_churn(s, &cc)) != TN_OK)
			return rc;
	}
	if (scn->partition) {
		if ((rc = make_groups(r)) != TN_OK ||
		    (rc = sim_at(s, scn->part_at, do_partition, r)) ||
		    (rc = sim_at(s, scn->heal_at, do_heal, r)))
			return rc;
	}
	for (unsigned i = 0; i < scn->items; i++)
		if ((rc = sim_at(s, scn->inject_at + i * scn->item_gap, do_inject, r)))
			return rc;
	return TN_OK;
}

tn_err sim_scn_run(const sim_scn *scn, const sim_scn_class *cls, void *ud, sim_scn_result *out)
{
	memset(out, 0, sizeof *out);
	run r = {.scn = scn, .cls = cls, .ud = ud, .origin = SIM_NO_HOST};
	sim_config cfg;
	sim_config_default(&cfg);
	cfg.seed = scn->seed;
	cfg.loss = scn->loss;
	sim_overlay ov;
	tn_err rc = scn->geometric ? sim_overlay_geometric(&ov, scn->nodes, scn->degree, scn->seed)
	                           : sim_overlay_regular(&ov, scn->nodes, scn->degree, scn->seed);
	if (rc != TN_OK)
		return rc;
	sim *s = NULL;
	bool set_up = false;
	if ((rc = sim_new(&s, &cfg)) != TN_OK)
		goto out;
	set_up = true;
	if ((rc = cls->setup(ud, s, &ov)) != TN_OK || (rc = schedule(&r, s)) != TN_OK)
		goto out;
	rc = sim_run_until(s, scn->end);
	if (rc == TN_OK)
		rc = r.err;
	if (rc == TN_OK)
		rc = sim_summarize(s, &out->sum);
	out->events = sim_events(s);
	out->trace = sim_trace_hash(s);
	out->origin = r.origin;
out:
	sim_del(s);
	if (set_up)
		cls->teardown(ud);
	sim_overlay_free(&ov);
	free(r.groups);
	return rc;
}

void sim_scn_print(FILE *f, const sim_scn *scn, const sim_scn_result *r)
{
	char line[512];
	(void)sim_summary_format(line, sizeof line, &r->sum, scn->degree, scn->churn);
	fprintf(f, "%s\n", line);
	fprintf(f,
	        "loss=%.3f partition=%s overlay=%s seed=%" PRIu64 " events=%" PRIu64
	        " trace=%016" PRIx64 "\n",
	        scn->loss, scn->partition ? "yes" : "no", scn->geometric ? "geometric" : "regular",
	        scn->seed, r->events, r->trace);
}
