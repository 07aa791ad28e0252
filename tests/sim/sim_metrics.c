/* Metrics: who held which item when, what each host sent, exact
 * percentiles and the summary line (docs/sim.md "Metrics"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

tn_err sim_item_new(sim *s, sim_host_id origin, tn_time expiry, sim_item_id *out)
{
	*out = UINT32_MAX;
	if (origin >= s->nhosts || expiry < s->now)
		return TN_ERR_INVAL;
	if (s->nitems >= UINT32_MAX - 1 ||
	    !sim_grow((void **)&s->items, &s->items_cap, s->nitems + 1, sizeof *s->items))
		return TN_ERR_NOMEM;
	sim_item it = {.origin = origin, .nhosts = s->nhosts, .born = s->now, .expiry = expiry};
	it.have = malloc((s->nhosts + (size_t)1) * sizeof *it.have);
	it.eligible = calloc(s->nhosts + (size_t)1, 1);
	if (!it.have || !it.eligible) {
		free(it.have);
		free(it.eligible);
		return TN_ERR_NOMEM;
	}
	for (uint32_t h = 0; h < s->nhosts; h++) {
		it.have[h] = TN_TIME_NEVER;
		it.eligible[h] = h != origin && s->hosts[h].state == SIM_ONLINE;
	}
	it.have[origin] = s->now;
	*out = (sim_item_id)s->nitems;
	s->items[s->nitems++] = it;
	return TN_OK;
}

/* h is online again: every live item is now owed to it. */
void sim_metrics_online(sim *s, sim_host_id h)
{
	for (size_t i = 0; i < s->nitems; i++) {
		sim_item *it = &s->items[i];
		if (h < it->nhosts && h != it->origin && s->now <= it->expiry)
			it->eligible[h] = 1;
	}
}

void sim_metrics_free(sim *s)
{
	for (size_t i = 0; i < s->nitems; i++) {
		free(s->items[i].have);
		free(s->items[i].eligible);
	}
	free(s->items);
}

void sim_has(sim *s, sim_host_id h, sim_item_id item)
{
	if (item >= s->nitems)
		return;
	sim_item *it = &s->items[item];
	if (h >= it->nhosts || it->have[h] != TN_TIME_NEVER || s->now > it->expiry)
		return;
	it->have[h] = s->now;
}

tn_time sim_has_time(const sim *s, sim_host_id h, sim_item_id item)
{
	if (item >= s->nitems || h >= s->items[item].nhosts)
		return TN_TIME_NEVER;
	return s->items[item].have[h];
}

void sim_note_frames(sim *s, sim_host_id h, uint64_t n)
{
	if (h < s->nhosts)
		s->hosts[h].frames += n;
}

uint64_t sim_host_bytes_sent(const sim *s, sim_host_id h)
{
	return h < s->nhosts ? s->hosts[h].bytes : 0;
}

uint64_t sim_host_frames_sent(const sim *s, sim_host_id h)
{
	return h < s->nhosts ? s->hosts[h].frames : 0;
}

static int cmp_time(const void *a, const void *b)
{
	tn_time x = *(const tn_time *)a, y = *(const tn_time *)b;
	return (x > y) - (x < y);
}

tn_time sim_percentile(const tn_time *sorted, size_t n, unsigned pct)
{
	if (n == 0 || pct == 0)
		return 0;
	if (pct > 100)
		pct = 100;
	/* rank = ceil(pct * n / 100), 1-based; n < 2^57 here. */
	size_t rank = (pct * n + 99) / 100;
	return sorted[rank - 1];
}

tn_err sim_summarize(const sim *s, sim_summary *out)
{
	memset(out, 0, sizeof *out);
	out->nodes = s->nhosts;
	size_t cap = 0;
	for (size_t i = 0; i < s->nitems; i++)
		cap += s->items[i].nhosts;
	tn_time *d = malloc((cap + 1) * sizeof *d);
	if (!d)
		return TN_ERR_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		const sim_item *it = &s->items[i];
		for (uint32_t h = 0; h < it->nhosts; h++) {
			if (!it->eligible[h])
				continue;
			out->eligible++;
			if (it->have[h] == TN_TIME_NEVER)
				continue;
			out->delivered++;
			d[n++] = it->have[h] - it->born;
		}
	}
	qsort(d, n, sizeof *d, cmp_time);
	out->p50 = sim_percentile(d, n, 50);
	out->p99 = sim_percentile(d, n, 99);
	out->max = sim_percentile(d, n, 100);
	free(d);
	uint64_t frames = 0, bytes = 0;
	for (uint32_t h = 0; h < s->nhosts; h++) {
		frames += s->hosts[h].frames;
		bytes += s->hosts[h].bytes;
	}
	if (s->nhosts) {
		out->frames_per_node = (double)frames / s->nhosts;
		out->bytes_per_node = (double)bytes / s->nhosts;
	}
	return TN_OK;
}

int sim_summary_format(char *buf, size_t cap, const sim_summary *sum, unsigned degree, double churn)
{
	double pct = sum->eligible ? 100.0 * (double)sum->delivered / (double)sum->eligible : 100.0;
	/* Never round a miss up to 100. */
	if (sum->delivered < sum->eligible && pct > 99.99)
		pct = 99.99;
	return snprintf(buf, cap,
	                "nodes=%u degree=%u churn=%.2f delivery=%.2f%% p50_ms=%.1f p99_ms=%.1f "
	                "max_ms=%.1f frames_per_node=%.2f bytes_per_node=%.1f",
	                sum->nodes, degree, churn, pct, (double)sum->p50 / 1e6,
	                (double)sum->p99 / 1e6, (double)sum->max / 1e6, sum->frames_per_node,
	                sum->bytes_per_node);
}
