/* Every record decoder on every input. Whenever one accepts, the decoded
 * struct must re-encode to the identical bytes (canonical form), encoding
 * into one byte less must be TN_ERR_NOBUF, and the signed range must match
 * what the encoder signs; codec_reencode.h abort()s otherwise. */
#include <stddef.h>
#include <stdint.h>

#include "codec_reencode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof rt_decoders / sizeof rt_decoders[0]; i++) {
		tn_err rc = rt_decoders[i].rt(data, size);
		/* Decoders return TN_OK or one of the distinct decode codes;
		 * only the link message decoder knows "ignorable". */
		if (rc != TN_OK && (rc > TN_ERR_DEC_TRUNCATED || rc < TN_ERR_DEC_IGNORABLE))
			abort();
		if (rc == TN_ERR_DEC_IGNORABLE && rt_decoders[i].rt != rt_link)
			abort();
	}
	return 0;
}
