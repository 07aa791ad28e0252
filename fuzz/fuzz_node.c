/* tn_node against an established, authenticated peer (node_fixture.h): the
 * input is a script of link messages the peer sends through a real link
 * pair (so they reach the node decrypted, as strict link messages with any
 * contents: alerts, receipts, digests, wants...), interleaved with time
 * steps, the victim's own alerts and failed stores. Never crash, leak or
 * hang; abort() when an invariant breaks:
 *   - the index never holds more than alerts_max;
 *   - every held alert is answerable by id;
 *   - the next deadline is never in the past after a tick. */
#include <stdint.h>
#include <stdlib.h>

#include "node_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fresh every input (3 identities and a handshake, ~1 ms): inputs do not
 * influence each other and findings replay alone. */
static nf F;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (nf_init(&F) != 0)
		abort();
	nf_run(&F, data, size);
	tn_node_tick(F.node, F.now, nf_wall(&F));
	nf_events(&F);
	if (tn_node_alert_count(F.node) > 256)
		abort();
	if (tn_node_next_deadline(F.node) < F.now)
		abort();
	tn_node_stats st;
	tn_node_stats_get(F.node, &st);
	if (st.alerts_held != tn_node_alert_count(F.node))
		abort();
	nf_free(&F);
	return 0;
}
