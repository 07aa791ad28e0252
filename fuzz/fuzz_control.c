/* libFuzzer target: the control socket's input, as a connected client could
 * send it. The input is a byte stream cut into frames the way the server
 * cuts it (4-byte length, body <= TD_CTL_REQ_MAX; an oversized length ends
 * the stream as it closes the connection). Each body goes through
 *   - td_ctl_msg_decode (the shared decoder): an accepted body must
 *     re-encode to exactly the same bytes (one canonical form), and the
 *     client-side checks must not crash on it;
 *   - td_ctl_dispatch against a fake daemon (no disk: init adopts a fixed
 *     identity): every reply must itself decode and pass
 *     td_ctl_reply_check for the request's op, and carry the request's id
 *     when it could be read. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fake {
	const tn_identity *id; /* adopted by init */
} fake;

/* One identity for the whole run: creating one per input would spend the
 * fuzzer's time in sodium_malloc. Deterministic bytes, like the tests'. */
static void fixed_rand(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
}

static const tn_identity *the_identity(void)
{
	static tn_identity *id;
	if (!id) {
		tn_rand r = {fixed_rand, NULL};
		if (tn_identity_new(&id, &r) != TN_OK)
			abort();
	}
	return id;
}

static void fake_info(void *ud, td_ctl_info *o)
{
	(void)ud;
	o->pid = 4242;
	o->uptime_s = 7;
	o->version = "0.0.0-fuzz";
	o->home = "/tmp/fuzz-\xff-home"; /* not UTF-8: must be cleaned, not sent */
	o->data_dir = "/tmp/fuzz/data";
	o->control_socket = "/tmp/fuzz/control.sock";
	o->listen = "127.0.0.1:7450";
}

static const tn_identity *fake_identity(void *ud)
{
	return ((fake *)ud)->id;
}

static tn_err fake_init(void *ud, const uint8_t *pass, size_t passlen, char *msg, size_t msglen)
{
	fake *f = ud;
	(void)pass;
	(void)msg;
	(void)msglen;
	if (f->id)
		return TN_ERR_EXISTS;
	if (passlen == 1 && pass[0] == 'x')
		return TN_ERR_IO; /* a failing disk, without a message */
	f->id = the_identity();
	return TN_OK;
}

static void check_decoder(const uint8_t *frame, size_t len)
{
	td_ctl_msg m;
	if (td_ctl_msg_decode(&m, frame + TD_CTL_HDR, len) != TN_OK)
		return;
	static uint8_t again[TD_CTL_HDR + TD_CTL_REQ_MAX];
	tn_ssize n = td_ctl_msg_frame(&m, TD_CTL_REQ_MAX, again, sizeof again);
	if (n != (tn_ssize)(len + TD_CTL_HDR) || memcmp(again, frame, (size_t)n) != 0)
		abort();
	/* The client-side checks: any verdict, but a message with "ok" and
	 * "id" that passes for one op must be well formed for its fields. */
	unsigned passed = 0;
	for (int op = TD_CTL_OP_NONE; op <= TD_CTL_OP_SUBSCRIBE; op++)
		passed += td_ctl_reply_check(&m, (td_ctl_op)op) == TN_OK;
	if (passed > 0 && !td_ctl_get(&m, "ok"))
		abort();
	if (td_ctl_event_check(&m) == TN_OK && !td_ctl_get(&m, "event"))
		abort();
}

static void check_dispatch(fake *f, const uint8_t *body, size_t len)
{
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_action act;
	td_ctl_req req;
	td_ctl_code code;
	tn_err rq = td_ctl_req_decode(&req, body, len, &code);
	const td_ctl_host host = {f, fake_info, fake_identity, fake_init};
	tn_ssize n = td_ctl_dispatch(&host, 1, body, len, out, sizeof out, &act);
	if (n < TD_CTL_HDR)
		abort();
	uint32_t blen;
	if (td_ctl_get_hdr(out, TD_CTL_REPLY_MAX, &blen) != TN_OK || (size_t)n != TD_CTL_HDR + blen)
		abort();
	td_ctl_msg m;
	if (td_ctl_msg_decode(&m, out + TD_CTL_HDR, blen) != TN_OK)
		abort();
	if (td_ctl_reply_check(&m, rq == TN_OK ? req.op : TD_CTL_OP_VERSION) != TN_OK)
		abort();
	uint64_t id;
	bool ok;
	if (td_ctl_get_uint(&m, "id", &id) || td_ctl_get_bool(&m, "ok", &ok))
		abort();
	if (id != (req.has_id ? req.id : 0) || (rq != TN_OK && ok))
		abort();
	if (act == TD_CTL_ACT_SUBSCRIBE && (req.op != TD_CTL_OP_SUBSCRIBE || !ok))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fake f = {NULL};
	static uint8_t frame[TD_CTL_HDR + TD_CTL_REQ_MAX];
	while (size >= TD_CTL_HDR) {
		uint32_t len;
		if (td_ctl_get_hdr(data, TD_CTL_REQ_MAX, &len) != TN_OK)
			return 0; /* the server answers too_large and closes */
		if (size - TD_CTL_HDR < len)
			return 0; /* truncated: the server waits for more */
		/* An exact-size copy of the body, so ASan sees any overread. */
		uint8_t *body = malloc(len ? len : 1);
		if (!body)
			abort();
		memcpy(body, data + TD_CTL_HDR, len);
		memcpy(frame, data, TD_CTL_HDR + len);
		check_decoder(frame, len);
		check_dispatch(&f, body, len);
		free(body);
		data += TD_CTL_HDR + len;
		size -= TD_CTL_HDR + len;
	}
	return 0;
}
