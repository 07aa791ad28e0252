/* tocsind: the control ops (see control.h). One handler per op, a switch
 * to pick it; bad input becomes an error reply. No I/O here: the host does
 * what touches disk or the daemon's state. */
#define _POSIX_C_SOURCE 200809L
#include "control.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "daemon_limits.h"

typedef struct reply_ctx {
	const td_ctl_host *host;
	uint64_t subscribers;
	const td_ctl_req *req;
	uint8_t *out;
	size_t cap;
} reply_ctx;

static tn_ssize send_error(reply_ctx *c, td_ctl_code code, const char *message)
{
	return td_ctl_error_frame(c->req->id, code, message, c->out, c->cap);
}

static tn_ssize send_msg(reply_ctx *c, const td_ctl_msg *m)
{
	tn_ssize n = td_ctl_msg_frame(m, TD_CTL_REPLY_MAX, c->out, c->cap);
	if (n == TN_ERR_INVAL || n == TN_ERR_LIMIT)
		return send_error(c, TD_CTL_E_INTERNAL, "reply could not be encoded");
	return n;
}

/* Both fingerprint forms of the identity, into caller buffers. */
static void fingerprints(const tn_identity *id, char fp[TN_FINGERPRINT_STRLEN + 1],
                         char shortfp[TN_SHORTFP_STRLEN + 1])
{
	const tn_pubkey *pk = tn_identity_pubkey(id);
	if (tn_fingerprint_str(pk, fp, TN_FINGERPRINT_STRLEN + 1) < 0)
		fp[0] = '\0';
	memcpy(shortfp, tn_shortfp_pubkey(pk).s, TN_SHORTFP_STRLEN + 1);
}

static tn_ssize op_version(reply_ctx *c)
{
	td_ctl_info info;
	memset(&info, 0, sizeof info);
	c->host->info(c->host->ud, &info);
	td_ctl_msg m;
	td_ctl_reply_begin(&m, c->req->id, true);
	td_ctl_add_str(&m, "version", info.version);
	td_ctl_add_str(&m, "protocol", TD_CTL_PROTOCOL);
	return send_msg(c, &m);
}

/* Paths are bytes, str fields are UTF-8: show odd bytes as '?'. */
typedef struct status_bufs {
	char home[TD_PATH_MAX], data[TD_PATH_MAX], sock[TD_PATH_MAX];
	char fp[TN_FINGERPRINT_STRLEN + 1], shortfp[TN_SHORTFP_STRLEN + 1];
} status_bufs;

static tn_ssize op_status(reply_ctx *c)
{
	td_ctl_info info;
	status_bufs b;
	memset(&info, 0, sizeof info);
	c->host->info(c->host->ud, &info);
	const tn_identity *id = c->host->identity(c->host->ud);
	td_ctl_msg m;
	td_ctl_reply_begin(&m, c->req->id, true);
	td_ctl_utf8_clean(b.home, sizeof b.home, info.home ? info.home : "");
	td_ctl_utf8_clean(b.data, sizeof b.data, info.data_dir ? info.data_dir : "");
	td_ctl_utf8_clean(b.sock, sizeof b.sock, info.control_socket ? info.control_socket : "");
	td_ctl_add_uint(&m, "pid", info.pid);
	td_ctl_add_str(&m, "version", info.version);
	td_ctl_add_str(&m, "home", b.home);
	td_ctl_add_str(&m, "data_dir", b.data);
	td_ctl_add_str(&m, "control_socket", b.sock);
	td_ctl_add_str(&m, "listen", info.listen ? info.listen : "");
	td_ctl_add_uint(&m, "uptime_s", info.uptime_s);
	td_ctl_add_uint(&m, "links", info.links);
	td_ctl_add_uint(&m, "subscribers", c->subscribers);
	/* Say plainly whether there is a network: status must never let a
	 * defender believe her panic would reach anyone when it cannot. */
	td_ctl_add_str(&m, "mesh", info.mesh ? info.mesh : "no network layer");
	/* What was dropped and why (probes, forgeries, floods): the protocol's
	 * rejection counters, so an attack is visible without debug logs. */
	td_ctl_add_str(&m, "counters", info.counters ? info.counters : "");
	td_ctl_add_str(&m, "desktop_notify", info.desktop_notify ? info.desktop_notify : "unknown");
	td_ctl_add_bool(&m, "initialised", id != NULL);
	if (id) {
		fingerprints(id, b.fp, b.shortfp);
		td_ctl_add_str(&m, "fingerprint", b.fp);
		td_ctl_add_str(&m, "short_fingerprint", b.shortfp);
	}
	return send_msg(c, &m);
}

static tn_ssize send_identity(reply_ctx *c, const tn_identity *id, int passphrase)
{
	char fp[TN_FINGERPRINT_STRLEN + 1], shortfp[TN_SHORTFP_STRLEN + 1];
	fingerprints(id, fp, shortfp);
	td_ctl_msg m;
	td_ctl_reply_begin(&m, c->req->id, true);
	td_ctl_add_str(&m, "fingerprint", fp);
	td_ctl_add_str(&m, "short_fingerprint", shortfp);
	if (passphrase >= 0)
		td_ctl_add_bool(&m, "passphrase", passphrase != 0);
	return send_msg(c, &m);
}

static tn_ssize op_id(reply_ctx *c)
{
	const tn_identity *id = c->host->identity(c->host->ud);
	if (!id)
		return send_error(c, TD_CTL_E_NOT_INITIALISED, "this device has no identity yet");
	return send_identity(c, id, -1);
}

static tn_ssize op_init(reply_ctx *c)
{
	if (c->host->identity(c->host->ud))
		return send_error(c, TD_CTL_E_ALREADY_INIT,
		                  "already initialised: this device has an identity");
	char msg[TD_CTL_MESSAGE_MAX];
	msg[0] = '\0';
	tn_err rc = c->host->init(c->host->ud, c->req->pass, c->req->passlen, msg, sizeof msg);
	if (rc == TN_ERR_EXISTS)
		return send_error(c, TD_CTL_E_ALREADY_INIT,
		                  msg[0] ? msg : "already initialised: a keystore exists");
	if (rc == TN_ERR_INVAL)
		return send_error(c, TD_CTL_E_BAD_PASSPHRASE,
		                  msg[0] ? msg : "the passphrase was refused");
	if (rc != TN_OK)
		return send_error(c, rc == TN_ERR_NOMEM ? TD_CTL_E_INTERNAL : TD_CTL_E_KEYSTORE,
		                  msg[0] ? msg : tn_strerror(rc));
	const tn_identity *id = c->host->identity(c->host->ud);
	if (!id)
		return send_error(c, TD_CTL_E_INTERNAL, "identity missing after init");
	return send_identity(c, id, c->req->pass != NULL);
}

static tn_ssize op_subscribe(reply_ctx *c, td_ctl_action *act)
{
	td_ctl_msg m;
	td_ctl_reply_begin(&m, c->req->id, true);
	tn_ssize n = send_msg(c, &m);
	if (n > 0)
		*act = TD_CTL_ACT_SUBSCRIBE;
	return n;
}

static tn_ssize op_net(reply_ctx *c)
{
	if (!c->host->identity(c->host->ud))
		return send_error(c, TD_CTL_E_NOT_INITIALISED, "this device has no identity yet");
	if (!c->host->net)
		return send_error(c, TD_CTL_E_INTERNAL, "no network layer in this build");
	char msg[TD_CTL_MESSAGE_MAX];
	msg[0] = '\0';
	td_ctl_msg m;
	td_ctl_reply_begin(&m, c->req->id, true);
	td_ctl_code code = c->host->net(c->host->ud, c->req, &m, msg, sizeof msg);
	if (code != TD_CTL_OK)
		return send_error(c, code, msg[0] ? msg : td_ctl_code_str(code));
	return send_msg(c, &m);
}

/* Overwrites and removes keys and history: asked for with the confirm
 * word, so a stray or fuzzed request cannot trigger it. Allowed before
 * init and outside a network (a half-set-up home is wiped too). */
static tn_ssize op_wipe(reply_ctx *c)
{
	const char *w;
	size_t wn;
	if (td_ctl_get_str(&c->req->args, "confirm", &w, &wn) != TN_OK || wn != 4 ||
	    memcmp(w, "wipe", 4) != 0)
		return send_error(c, TD_CTL_E_INVALID, "wipe needs confirm: \"wipe\"");
	if (!c->host->wipe)
		return send_error(c, TD_CTL_E_INTERNAL, "wipe is not available in this build");
	char msg[TD_CTL_MESSAGE_MAX];
	msg[0] = '\0';
	if (c->host->wipe(c->host->ud, msg, sizeof msg) != TN_OK)
		return send_error(c, TD_CTL_E_INTERNAL, msg[0] ? msg : "wipe could not start");
	td_ctl_info info;
	memset(&info, 0, sizeof info);
	c->host->info(c->host->ud, &info);
	char data[TD_PATH_MAX];
	td_ctl_utf8_clean(data, sizeof data, info.data_dir ? info.data_dir : "");
	td_ctl_msg m;
	td_ctl_reply_begin(&m, c->req->id, true);
	td_ctl_add_str(&m, "data_dir", data);
	return send_msg(c, &m);
}

/* A one-line reason for a refused request, naming the decoder's verdict. */
static void bad_request_message(char *buf, size_t len, tn_err rc)
{
	const char *why;
	switch (rc) {
	case TN_ERR_DEC_MISSINGKEY: why = "a required field is missing (id and op are)"; break;
	case TN_ERR_DEC_UNKNOWNKEY: why = "a field this op does not take"; break;
	case TN_ERR_DEC_TYPE: why = "a field has the wrong type, or the body is not a map"; break;
	case TN_ERR_DEC_KEYORDER: why = "map keys must be unique and sorted"; break;
	case TN_ERR_DEC_NONCANONICAL: why = "non-canonical msgpack"; break;
	case TN_ERR_DEC_TRUNCATED: why = "truncated msgpack"; break;
	case TN_ERR_DEC_TRAILING: why = "bytes after the map"; break;
	default: why = "malformed request"; break;
	}
	snprintf(buf, len, "%s (%s)", why, tn_strerror(rc));
}

tn_ssize td_ctl_dispatch(const td_ctl_host *host, uint64_t subscribers, const uint8_t *body,
                         size_t len, uint8_t *out, size_t cap, td_ctl_action *act)
{
	td_ctl_req req;
	td_ctl_code code;
	*act = TD_CTL_ACT_REPLY;
	tn_err rc = td_ctl_req_decode(&req, body, len, &code);
	reply_ctx c = {host, subscribers, &req, out, cap};
	if (rc != TN_OK) {
		char msg[160];
		if (code == TD_CTL_E_UNKNOWN_OP)
			snprintf(msg, sizeof msg,
			         "unknown op; known: version status init id subscribe network_create "
			         "alert alerts alert_status members peers invite join revoke wipe audit");
		else
			bad_request_message(msg, sizeof msg, rc);
		if (!req.has_id)
			req.id = 0;
		return send_error(&c, code, msg);
	}
	switch (req.op) {
	case TD_CTL_OP_VERSION: return op_version(&c);
	case TD_CTL_OP_STATUS: return op_status(&c);
	case TD_CTL_OP_INIT: return op_init(&c);
	case TD_CTL_OP_ID: return op_id(&c);
	case TD_CTL_OP_SUBSCRIBE: return op_subscribe(&c, act);
	case TD_CTL_OP_NETWORK_CREATE:
	case TD_CTL_OP_ALERT:
	case TD_CTL_OP_ALERTS:
	case TD_CTL_OP_ALERT_STATUS:
	case TD_CTL_OP_MEMBERS:
	case TD_CTL_OP_PEERS:
	case TD_CTL_OP_INVITE:
	case TD_CTL_OP_JOIN:
	case TD_CTL_OP_REVOKE:
	case TD_CTL_OP_AUDIT: return op_net(&c);
	case TD_CTL_OP_WIPE: return op_wipe(&c);
	case TD_CTL_OP_NONE: break;
	}
	return send_error(&c, TD_CTL_E_INTERNAL, "unhandled op");
}

tn_ssize td_ctl_event_frame(const td_ctl_msg *ev, uint64_t seq, uint8_t *out, size_t cap)
{
	td_ctl_msg m = *ev;
	td_ctl_add_uint(&m, "seq", seq);
	return td_ctl_msg_frame(&m, TD_CTL_REPLY_MAX, out, cap);
}
