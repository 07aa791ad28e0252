/* Tests: sign a hand-made roster record as anyone (whatever it claims), the
 * way an attacker holding signer's key would. */
#ifndef TN_TEST_ROSTER_FORGE_H
#define TN_TEST_ROSTER_FORGE_H

#include <string.h>

#include "tocsin/codec.h"
#include "tocsin/roster.h"

/* Encode r signed by signer into dst (cap bytes); returns its length, or 0
 * if it does not encode. */
static inline size_t test_forge_record(const tn_identity *signer, tn_roster_rec *r, uint8_t *dst,
                                       size_t cap)
{
	static uint8_t msg[TN_ROSTER_SIG_DOMAIN_LEN + TN_ROSTER_RECORD_MAX];
	memcpy(msg, TN_ROSTER_SIG_DOMAIN, TN_ROSTER_SIG_DOMAIN_LEN);
	tn_ssize n =
	        tn_roster_encode_signed(r, msg + TN_ROSTER_SIG_DOMAIN_LEN, TN_ROSTER_RECORD_MAX);
	tn_sig sig;
	if (n <= 0 ||
	    tn_identity_sign(signer, msg, TN_ROSTER_SIG_DOMAIN_LEN + (size_t)n, &sig) != TN_OK)
		return 0;
	memcpy(r->signature, sig.b, TN_SIG);
	n = tn_roster_encode(r, dst, cap);
	return n > 0 ? (size_t)n : 0;
}

#endif
