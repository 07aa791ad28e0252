/* Differential check of the canonical reader against msgpack-c: whatever
 * tn_mp_skip accepts as one value tree, msgpack-c's unpacker reads and
 * msgpack_pack_object writes back to the identical bytes. Calling
 * msgpack_unpack is safe here only because our reader has already proved
 * every array/map count fits in the bytes present (see mp.h). */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "tocsin/mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
	uint8_t *p;
	size_t len, cap;
} sink;

static int sink_write(void *ud, const char *buf, size_t len)
{
	sink *s = ud;
	if (len > s->cap - s->len)
		return -1;
	if (len) /* msgpack_pack_object writes empty str/bin bodies as (NULL, 0) */
		memcpy(s->p + s->len, buf, len);
	s->len += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tn_mp_rd r;
	tn_mp_rd_init(&r, data, size);
	tn_err rc = tn_mp_skip(&r, 0);
	if (rc != TN_OK) {
		if (rc > TN_ERR_DEC_TRUNCATED || rc < TN_ERR_DEC_RESERVED)
			abort();
		return 0;
	}
	size_t n = r.off; /* one complete value; trailing bytes are ignored */

	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	if (msgpack_unpack_next(&u, (const char *)data, n, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != n)
		abort();
	sink s = {malloc(n + 1), 0, n + 1};
	if (!s.p)
		abort();
	msgpack_packer pk;
	msgpack_packer_init(&pk, &s, sink_write);
	if (msgpack_pack_object(&pk, u.data) != 0 || s.len != n || memcmp(s.p, data, n) != 0)
		abort();
	free(s.p);
	msgpack_unpacked_destroy(&u);
	return 0;
}
