/* tn_alert_check on every input against a fixed network (alert_fixture.h:
 * members, a coordinator, a revoked and an unknown key, two held alerts,
 * fixed time), and tn_alert_open on whatever is accepted. Beyond "no crash,
 * no leak, no UB" it abort()s when an invariant breaks:
 *   - check and open return TN_OK and a reason of their own family;
 *   - MALFORMED carries a decoder code;
 *   - an accepted envelope re-encodes to exactly the input (canonical),
 *     and once held, the same bytes are a DUPLICATE;
 *   - an opened plaintext re-encodes to exactly the decrypted bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "alert_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture is built once (key generation is slow) and its held set and
 * limiter are reset before every input, so inputs do not influence each
 * other. */
static fx F;
static int ready;
static size_t base_held;

static void setup_once(void)
{
	uint8_t bob_panic[TN_ALERT_ID], alice_drill[TN_ALERT_ID];
	if (ready)
		return;
	if (fx_init(&F) != 0 || fx_base(&F, bob_panic, alice_drill, NULL, NULL) != 0)
		abort();
	base_held = F.nheld;
	ready = 1;
}

static void check_open(const tn_alert_env *env)
{
	static uint8_t buf[TN_ALERT_PLAINTEXT_MAX], re[TN_ALERT_PLAINTEXT_MAX];
	tn_alert_opened o;
	if (tn_alert_open(&F.ctx, env, buf, sizeof buf, &o) != TN_OK)
		abort();
	if (o.reason < TN_ALERT_OPENED || o.reason >= TN_ALERT_REASON_COUNT)
		abort();
	if (o.reason == TN_ALERT_OPENED) {
		size_t n = env->ciphertext.len - TN_ALERT_TAG;
		if (tn_alert_pt_encode(&o.pt, re, sizeof re) != (tn_ssize)n ||
		    memcmp(re, buf, n) != 0)
			abort();
	}
	sodium_memzero(buf, sizeof buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t re[TN_ALERT_ENVELOPE_MAX];
	tn_alert_verdict v;
	setup_once();
	F.nheld = base_held;
	if (fx_new_limiter(&F, 16) != 0)
		abort();
	if (tn_alert_check(&F.ctx, data, size, FX_WALL_MS, FX_NOW, &v) != TN_OK)
		abort();
	if (v.reason > TN_ALERT_RATE_LIMITED)
		abort();
	if (v.reason == TN_ALERT_MALFORMED &&
	    (v.dec_err > TN_ERR_DEC_TRUNCATED || v.dec_err < TN_ERR_DEC_RESERVED))
		abort();
	if (v.reason != TN_ALERT_ACCEPTED)
		return 0;
	if (tn_alert_env_encode(&v.env, re, sizeof re) != (tn_ssize)size ||
	    memcmp(re, data, size) != 0)
		abort();
	check_open(&v.env);
	if (!fx_hold(&F, &v))
		abort();
	if (tn_alert_check(&F.ctx, data, size, FX_WALL_MS, FX_NOW, &v) != TN_OK ||
	    v.reason != TN_ALERT_DUPLICATE)
		abort();
	return 0;
}
