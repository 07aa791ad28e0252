/* The invite code parser on arbitrary text. Whatever it accepts must be
 * the one canonical code of its payload: re-rendering it gives the same
 * letters (case and separators aside), and parsing that gives the same
 * payload bytes.
 * Mutated text almost never passes the code's 4-byte checksum, so the
 * payload decoder behind it is also fed the same bytes directly
 * (seeds payload-*: the payloads of the code seeds). Whatever it accepts
 * must re-encode to the identical bytes (canonical), and its code must
 * parse back to the same payload. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t letters(const char *s, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-' || c == ' ')
			continue;
		out[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	return k;
}

static void payload(const uint8_t *data, size_t size)
{
	static uint8_t p[TN_INVITE_PAYLOAD_MAX];
	static char code[TN_INVITE_CODE_MAX];
	tn_invite inv, back;
	tn_invite_reason why;
	if (tn_invite_decode(&inv, data, size) != TN_OK)
		return;
	tn_ssize n = tn_invite_encode(&inv, p, sizeof p);
	if (n != (tn_ssize)size || memcmp(p, data, size) != 0)
		abort();
	tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
	if (c <= 0 || tn_invite_from_code(&back, code, (size_t)c, &why) != TN_OK)
		abort();
	n = tn_invite_encode(&back, p, sizeof p);
	if (n != (tn_ssize)size || memcmp(p, data, size) != 0)
		abort();
	tn_invite_wipe(&inv);
	tn_invite_wipe(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	payload(data, size);
	static char code[TN_INVITE_CODE_MAX], a[TN_INVITE_INPUT_MAX], b[TN_INVITE_CODE_MAX];
	static uint8_t p1[TN_INVITE_PAYLOAD_MAX], p2[TN_INVITE_PAYLOAD_MAX];
	tn_invite inv, again;
	tn_invite_reason why = TN_INVITE_REASON_COUNT;
	tn_err rc = tn_invite_from_code(&inv, (const char *)data, size, &why);
	if ((rc == TN_OK) != (why == TN_INVITE_OK) || why >= TN_INVITE_REASON_COUNT)
		abort();
	if (rc != TN_OK)
		return 0;
	tn_ssize c = tn_invite_to_code(&inv, code, sizeof code);
	if (c <= 0)
		abort();
	size_t la = letters((const char *)data, size, a), lb = letters(code, (size_t)c, b);
	if (la != lb || memcmp(a, b, la) != 0)
		abort();
	if (tn_invite_from_code(&again, code, (size_t)c, &why) != TN_OK)
		abort();
	tn_ssize n1 = tn_invite_encode(&inv, p1, sizeof p1);
	tn_ssize n2 = tn_invite_encode(&again, p2, sizeof p2);
	if (n1 <= 0 || n1 != n2 || memcmp(p1, p2, (size_t)n1) != 0)
		abort();
	tn_invite_reason w2;
	if (tn_invite_check(&inv, 0, &w2) != (inv.expires_ms > 0 ? TN_OK : TN_ERR_STALE))
		abort();
	tn_seckey psk;
	tn_invite_join_psk(&inv, &psk);
	tn_invite_wipe(&inv);
	tn_invite_wipe(&again);
	return 0;
}
