/* tocsin: the command-line client (DESIGN §9, docs/control.md).
 *
 * Thin: it finds the control socket the way tocsind does (paths.h), sends
 * one request built by ctlproto, checks the reply with ctlproto and prints
 * it, for people or (--json, through jansson) for scripts. No protocol
 * logic lives here.
 *
 * Exit codes: 0 ok, 1 the daemon answered with an error, 2 usage,
 * 3 the daemon could not be reached (or went away mid-request). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <qrencode.h>
#include <sodium.h>

#include "ctl_io.h"
#include "ctlproto.h"
#include "i18n.h"
#include "passfile.h"
#include "paths.h"

#ifndef TN_VERSION
#define TN_VERSION "unknown"
#endif

enum {
	EXIT_OK = 0,
	EXIT_REPLY = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	TIMEOUT_MS = 10 * 1000,
	/* init may run Argon2id at the default cost on a slow laptop. */
	TIMEOUT_INIT_MS = 120 * 1000,
};

enum { ARGS_MAX = 64 }; /* join takes a code split over several words */
/* What tocsind accepts as a typed code (TN_INVITE_INPUT_MAX; the client
 * does not link the protocol library). */
enum { CODE_INPUT_MAX = 4096 };

typedef struct cli {
	const char *home;     /* --home */
	const char *passfile; /* init --passphrase-file */
	const char *violation, *location, *since; /* alert and list options */
	const char *name, *role, *expires, *timeout; /* invite and join options */
	bool qr, wait;
	bool json;
	bool help;
	bool watch;
	int nargs;
	const char *args[ARGS_MAX]; /* positional arguments after the command */
	td_paths paths;
} cli;

typedef struct command {
	const char *name;
	int (*run)(cli *c);
	const char *usage; /* after "tocsin " */
	const char *summary;
	bool takes_passfile;
	int max_args; /* positional arguments after the command */
} command;

static int cmd_version(cli *c);
static int cmd_status(cli *c);
static int cmd_init(cli *c);
static int cmd_id(cli *c);
static int cmd_watch(cli *c);
static int cmd_network(cli *c);
static int cmd_panic(cli *c);
static int cmd_safe(cli *c);
static int cmd_drill(cli *c);
static int cmd_notice(cli *c);
static int cmd_respond(cli *c);
static int cmd_alerts(cli *c);
static int cmd_members(cli *c);
static int cmd_peers(cli *c);
static int cmd_invite(cli *c);
static int cmd_join(cli *c);
static int cmd_revoke(cli *c);

static const command commands[] = {
        {"version", cmd_version, "version [--json]", "print the client's and the daemon's versions",
         false},
        {"status", cmd_status, "status [--json]", "show the daemon: home, identity, links, mesh",
         false},
        {"init", cmd_init, "init [--passphrase-file FILE] [--json]",
         "create this device's identity (keys) in the daemon's data dir", true},
        {"id", cmd_id, "id [--json]", "print this device's fingerprint (compare it by voice)",
         false},
        {"watch", cmd_watch, "watch [--json]",
         "print the daemon's events until Ctrl-C or the daemon stops", false},
        {"network", cmd_network, "network create NAME [--name YOUR_NAME] [--json]",
         "found a new network with this device as its first coordinator", false, 2},
        {"panic", cmd_panic,
         "panic [TEXT] [--violation TYPE] [--location PLACE] [--watch] [--json]",
         "send a panic alert to every member now (no prompt)", false, 1},
        {"safe", cmd_safe, "safe [TEXT] [--json]", "say you are safe (ends your last panic)",
         false, 1},
        {"drill", cmd_drill, "drill [TEXT] [--json]", "send a practice alert", false, 1},
        {"notice", cmd_notice, "notice TEXT [--json]",
         "send a notice to every member (coordinators only)", false, 1},
        {"respond", cmd_respond, "respond ALERT_ID_PREFIX [TEXT] [--json]",
         "tell the network you are responding to an alert", false, 2},
        {"alerts", cmd_alerts, "alerts [--since T] [--json]",
         "list stored alerts (T: 30m, 2h, 1d, or Unix ms)", false},
        {"members", cmd_members, "members [--json]", "list the network's members", false},
        {"peers", cmd_peers, "peers [--json]", "list the daemon's connections to peers", false},
        {"invite", cmd_invite,
         "invite --name NAME [--role member|coordinator] [--expires 24h] [--qr] [--wait] "
         "[--timeout S] [--json]",
         "print a one-time invitation code for a new device (coordinators only)", false},
        {"join", cmd_join, "join CODE --name NAME [--timeout S] [--json]",
         "join a network with an invitation code (after tocsin init)", false, ARGS_MAX},
        {"revoke", cmd_revoke, "revoke MEMBER [--json]",
         "revoke a member (name or fingerprint prefix) and rekey (coordinators only)", false, 1},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

/* ---- usage ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, _("usage: tocsin [--home DIR] COMMAND [OPTIONS]\n"));
	fprintf(f, _("\ncommands:\n"));
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
	fprintf(f, "  %-10s %s\n", "help", _("this text; help COMMAND for one command"));
	fprintf(f, _("\noptions:\n"
	             "  --home DIR  the daemon's home, as given to tocsind --home (default:\n"
	             "              $TOCSIN_HOME, else the XDG directories)\n"
	             "  --json      machine-readable output: one JSON object per line\n"
	             "  --help      help for the command\n"));
	fprintf(f, _("\nexit status:\n"
	             "  0  success\n"
	             "  1  the daemon refused the request (the message says why)\n"
	             "  2  usage error\n"
	             "  3  tocsind is not running or could not be reached\n"));
}

static void command_usage(FILE *f, const command *cmd)
{
	fprintf(f, _("usage: tocsin [--home DIR] %s\n"), cmd->usage);
	fprintf(f, "  %s\n", _(cmd->summary));
	if (cmd->takes_passfile)
		fprintf(f,
		        _("  --passphrase-file FILE  protect the keystore with the passphrase in\n"
		          "                          FILE (mode 0600; one trailing newline is\n"
		          "                          ignored). tocsind then needs\n"
		          "                          TOCSIN_PASSPHRASE_FILE to start.\n"));
	fprintf(f,
	        _("  --json  machine-readable output\n"
	          "exit status: 0 ok, 1 refused by the daemon, 2 usage, 3 daemon unreachable\n"));
}

static const command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* ---- reply fields ----------------------------------------------------------
 * Replies are checked with td_ctl_reply_check before these are used, so a
 * missing field cannot happen; the defaults are only a second line. */

static uint64_t f_uint(const td_ctl_msg *m, const char *key)
{
	uint64_t v;
	return td_ctl_get_uint(m, key, &v) == TN_OK ? v : 0;
}

static bool f_bool(const td_ctl_msg *m, const char *key)
{
	bool v;
	return td_ctl_get_bool(m, key, &v) == TN_OK && v;
}

/* The str field as (p, n) for "%.*s"; "" when absent. */
static const char *f_str(const td_ctl_msg *m, const char *key, int *n)
{
	const char *p;
	size_t len;
	if (td_ctl_get_str(m, key, &p, &len) != TN_OK || len > TD_CTL_STR_MAX) {
		*n = 0;
		return "";
	}
	*n = (int)len;
	return p;
}

/* ---- output ---------------------------------------------------------------- */

static void print_str(const char *label, const td_ctl_msg *m, const char *key)
{
	int n;
	const char *p = f_str(m, key, &n);
	if (td_ctl_get(m, key))
		printf("%s: %.*s\n", label, n, p);
}

/* One JSON value from a control value. Integers beyond JSON's safe range
 * for jansson (int64) become strings rather than wrap. */
static json_t *to_json(const td_ctl_val *v)
{
	char buf[32];
	switch (v->type) {
	case TD_CTL_NIL: return json_null();
	case TD_CTL_BOOL: return json_boolean(v->b);
	case TD_CTL_UINT:
		if (v->u <= (uint64_t)INT64_MAX)
			return json_integer((json_int_t)v->u);
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->u);
		return json_string(buf);
	case TD_CTL_INT: return json_integer((json_int_t)v->i);
	case TD_CTL_STR: return json_stringn((const char *)v->p, v->n);
	case TD_CTL_BIN: {
		json_t *s = NULL;
		char *hex = malloc(v->n * 2 + 1);
		if (hex) {
			sodium_bin2hex(hex, v->n * 2 + 1, v->p, v->n);
			s = json_string(hex);
			free(hex);
		}
		return s;
	}
	}
	return json_null();
}

/* Print m as one JSON object on one line; "id" (a transport detail) is
 * left out of replies. extra (may be NULL) is merged in first. */
static int print_json(const td_ctl_msg *m, bool drop_id, json_t *extra)
{
	json_t *o = extra ? extra : json_object();
	if (!o)
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		char key[TD_CTL_KEY_MAX + 1];
		const td_ctl_field *f = &m->f[i];
		memcpy(key, f->key, f->keylen);
		key[f->keylen] = '\0';
		if (drop_id && strcmp(key, "id") == 0)
			continue;
		json_t *v = to_json(&f->v);
		if (!v || json_object_set_new(o, key, v) != 0) {
			json_decref(o);
			return -1;
		}
	}
	int rc = json_dumpf(o, stdout, JSON_COMPACT);
	json_decref(o);
	if (rc == 0)
		rc = fputc('\n', stdout) == EOF ? -1 : 0;
	fflush(stdout);
	return rc;
}

/* ---- talking to the daemon --------------------------------------------- */

static int unreachable(const cli *c, const ctl_conn *conn)
{
	const char *sock = c->paths.control_socket;
	if (conn->err == EACCES || conn->err == EPERM) {
		fprintf(stderr,
		        _("tocsin: cannot connect to %s: %s (is it another user's daemon?)\n"),
		        sock, strerror(conn->err));
	} else if (c->paths.home[0]) {
		fprintf(stderr,
		        _("tocsin: tocsind is not running for home %s; start it with: tocsind "
		          "--home "
		          "%s\n"),
		        c->paths.home, c->paths.home);
	} else {
		fprintf(stderr,
		        _("tocsin: tocsind is not running (no daemon on %s); start it with: "
		          "tocsind\n"),
		        sock);
	}
	return EXIT_UNREACHABLE;
}

static int lost(const ctl_status st, const ctl_conn *conn)
{
	switch (st) {
	case CTL_TIMEOUT: fprintf(stderr, _("tocsin: tocsind did not answer in time\n")); break;
	case CTL_CLOSED: fprintf(stderr, _("tocsin: tocsind closed the connection\n")); break;
	case CTL_BADFRAME:
		fprintf(stderr, _("tocsin: tocsind sent a malformed reply\n"));
		return EXIT_REPLY;
	default:
		fprintf(stderr, _("tocsin: control socket error: %s\n"), strerror(conn->err));
		break;
	}
	return EXIT_UNREACHABLE;
}

/* Connect, send req, receive and check the reply into *m. Returns -1 on
 * success (conn open, reply in m), else an exit status (message printed). */
static int call(cli *c, ctl_conn *conn, const td_ctl_req *req, td_ctl_msg *m, int timeout_ms)
{
	uint8_t frame[TD_CTL_HDR + TD_CTL_REQ_MAX];
	tn_ssize n = td_ctl_req_frame(req, frame, sizeof frame);
	if (n < 0) {
		fprintf(stderr, _("tocsin: cannot encode the request: %s\n"), tn_strerror((int)n));
		return EXIT_USAGE;
	}
	ctl_status st = ctl_connect(conn, c->paths.control_socket);
	if (st != CTL_OK) {
		sodium_memzero(frame, (size_t)n);
		return unreachable(c, conn);
	}
	st = ctl_send(conn, frame, (size_t)n, timeout_ms);
	sodium_memzero(frame, (size_t)n); /* an init request holds the passphrase */
	if (st == CTL_OK)
		st = ctl_recv(conn, m, timeout_ms);
	if (st != CTL_OK) {
		int rc = lost(st, conn);
		ctl_close(conn);
		return rc;
	}
	if (td_ctl_reply_check(m, req->op) != TN_OK) {
		fprintf(stderr, _("tocsin: tocsind sent a reply without the expected fields\n"));
		ctl_close(conn);
		return EXIT_REPLY;
	}
	return -1;
}

/* An ok=false reply: the daemon's message, a hint, and exit 1. */
static int refused(const cli *c, const td_ctl_msg *m)
{
	int n;
	if (c->json)
		(void)print_json(m, true, NULL);
	const char *msg = f_str(m, "message", &n);
	fprintf(stderr, "tocsin: %.*s\n", n, msg);
	if (td_ctl_str_is(m, "error", "not_initialised"))
		fprintf(stderr, _("hint: create this device's identity with: tocsin init\n"));
	return EXIT_REPLY;
}

/* The usual shape: one request, one reply, print. */
static int simple(cli *c, td_ctl_op op, void (*human)(const cli *, const td_ctl_msg *))
{
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req = {.op = op, .id = 1};
	int rc = call(c, &conn, &req, &m, TIMEOUT_MS);
	if (rc >= 0)
		return rc;
	if (!f_bool(&m, "ok"))
		rc = refused(c, &m);
	else if (c->json)
		rc = print_json(&m, true, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
	else {
		human(c, &m);
		rc = EXIT_OK;
	}
	ctl_close(&conn);
	return rc;
}

/* ---- commands -------------------------------------------------------------- */

static void human_version(const cli *c, const td_ctl_msg *m)
{
	(void)c;
	int vn, pn;
	const char *v = f_str(m, "version", &vn);
	const char *p = f_str(m, "protocol", &pn);
	printf(_("tocsind %.*s (protocol %.*s)\n"), vn, v, pn, p);
}

static int cmd_version(cli *c)
{
	if (!c->json)
		printf("tocsin %s\n", TN_VERSION);
	fflush(stdout);
	return simple(c, TD_CTL_OP_VERSION, human_version);
}

/* "reachable from outside: yes (checked by NAME 42 s ago)" */
static void human_reach(const td_ctl_msg *m)
{
	int rn, bn, xn;
	const char *r = f_str(m, "reachable", &rn);
	if (rn == 0)
		return; /* an older daemon */
	const char *by = f_str(m, "reach_checked_by", &bn);
	const char *res = f_str(m, "reach_result", &xn);
	unsigned long long at = f_uint(m, "reach_checked_ms");
	if (bn == 0 || at == 0) {
		printf(_("reachable from outside: %.*s (not checked yet)\n"), rn, r);
		return;
	}
	long long ago = (long long)time(NULL) - (long long)(at / 1000);
	printf(_("reachable from outside: %.*s (%.*s; checked by %.*s %lld s ago)\n"), rn, r,
	       xn, res, bn, by, ago < 0 ? 0 : ago);
}

static void human_status(const cli *c, const td_ctl_msg *m)
{
	unsigned long long pid = f_uint(m, "pid"), up = f_uint(m, "uptime_s");
	unsigned long long links = f_uint(m, "links"), subs = f_uint(m, "subscribers");
	bool init = f_bool(m, "initialised");
	int vn;
	const char *ver = f_str(m, "version", &vn);
	if (c->paths.home[0])
		print_str(_("home"), m, "home");
	else
		printf(_("home: (XDG directories)\n"));
	print_str(_("data"), m, "data_dir");
	print_str(_("control socket"), m, "control_socket");
	printf(_("daemon: running, pid %llu, version %.*s, up %llu s\n"), pid, vn, ver, up);
	print_str(_("listen"), m, "listen");
	if (init) {
		printf(_("initialised: yes\n"));
		print_str(_("fingerprint"), m, "fingerprint");
	} else {
		printf(_("initialised: no (create an identity with: tocsin init)\n"));
	}
	printf(_("links: %llu\n"), links);
	printf(_("watchers: %llu\n"), subs);
	print_str(_("mesh"), m, "mesh");
	human_reach(m);
}

static int cmd_status(cli *c)
{
	return simple(c, TD_CTL_OP_STATUS, human_status);
}

static void human_id(const cli *c, const td_ctl_msg *m)
{
	(void)c;
	print_str(_("fingerprint"), m, "fingerprint");
	print_str(_("short id"), m, "short_fingerprint");
}

static int cmd_id(cli *c)
{
	return simple(c, TD_CTL_OP_ID, human_id);
}

static void human_init(const td_ctl_msg *m)
{
	bool pass = f_bool(m, "passphrase");
	printf(_("initialised: this device has a new identity\n"));
	print_str(_("fingerprint"), m, "fingerprint");
	printf(pass ? _("keystore: protected by your passphrase\n")
	            : _("keystore: NOT protected by a passphrase: anyone who can read the\n"
	                "  keystore file (a seized laptop) has this device's keys\n"));
}

static int cmd_init(cli *c)
{
	uint8_t pass[TD_PASSFILE_BUF];
	size_t passlen = 0;
	if (c->passfile) {
		char msg[TD_PATH_MAX + 256];
		tn_err rc = td_passfile_read(c->passfile, pass, &passlen, msg, sizeof msg);
		if (rc != TN_OK) {
			sodium_memzero(pass, sizeof pass);
			fprintf(stderr, "tocsin: %s\n", msg);
			return EXIT_USAGE;
		}
	}
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_INIT, .id = 1};
	if (c->passfile) {
		req.pass = pass;
		req.passlen = passlen;
	}
	int rc = call(c, &conn, &req, &m, TIMEOUT_INIT_MS);
	sodium_memzero(pass, sizeof pass);
	if (rc >= 0)
		return rc;
	if (!f_bool(&m, "ok"))
		rc = refused(c, &m);
	else if (c->json)
		rc = print_json(&m, true, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
	else {
		human_init(&m);
		rc = EXIT_OK;
	}
	ctl_close(&conn);
	return rc;
}

static void human_event(const td_ctl_msg *m)
{
	int n;
	const char *ev = f_str(m, "event", &n);
	printf("%.*s", n, ev);
	for (size_t i = 0; i < m->n; i++) {
		const td_ctl_field *f = &m->f[i];
		if (f->keylen == 5 && memcmp(f->key, "event", 5) == 0)
			continue;
		printf(" %.*s=", (int)f->keylen, f->key);
		switch (f->v.type) {
		case TD_CTL_STR: printf("%.*s", (int)f->v.n, (const char *)f->v.p); break;
		case TD_CTL_UINT: printf("%llu", (unsigned long long)f->v.u); break;
		case TD_CTL_INT: printf("%lld", (long long)f->v.i); break;
		case TD_CTL_BOOL: printf("%s", f->v.b ? "true" : "false"); break;
		default: printf("-"); break;
		}
	}
	printf("\n");
	fflush(stdout);
}

/* Print events until the stream ends. Exit 0 when the daemon said it was
 * shutting down, 3 when the stream ended otherwise. */
static int cmd_watch(cli *c)
{
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_SUBSCRIBE, .id = 1};
	int rc = call(c, &conn, &req, &m, TIMEOUT_MS);
	if (rc >= 0)
		return rc;
	bool shutdown = false;
	if (!f_bool(&m, "ok")) {
		rc = refused(c, &m);
		ctl_close(&conn);
		return rc;
	}
	for (;;) {
		ctl_status st = ctl_recv(&conn, &m, -1);
		if (st == CTL_CLOSED && shutdown) {
			rc = EXIT_OK;
			break;
		}
		if (st != CTL_OK) {
			rc = lost(st, &conn);
			break;
		}
		if (td_ctl_event_check(&m) != TN_OK) {
			fprintf(stderr, _("tocsin: tocsind sent a malformed event\n"));
			rc = EXIT_REPLY;
			break;
		}
		if (c->json ? print_json(&m, false, NULL) != 0 : (human_event(&m), false)) {
			rc = EXIT_REPLY;
			break;
		}
		shutdown = shutdown || td_ctl_str_is(&m, "event", "shutdown");
	}
	ctl_close(&conn);
	return rc;
}

/* ---- network ops ------------------------------------------------------------ */

/* One request with args, reply in *m on an open conn (or an exit status). */
static int net_call(cli *c, ctl_conn *conn, td_ctl_req *req, td_ctl_msg *m)
{
	req->id = 1;
	int rc = call(c, conn, req, m, TIMEOUT_MS);
	if (rc >= 0)
		return rc;
	if (!f_bool(m, "ok")) {
		rc = refused(c, m);
		ctl_close(conn);
		return rc;
	}
	return -1;
}

static int cmd_network(cli *c)
{
	if (c->nargs != 2 || strcmp(c->args[0], "create") != 0) {
		fprintf(stderr, _("usage: tocsin network create NAME\n"));
		return EXIT_USAGE;
	}
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = TD_CTL_OP_NETWORK_CREATE;
	td_ctl_add_str(&req.args, "name", c->args[1]);
	if (c->name)
		td_ctl_add_str(&req.args, "me", c->name);
	int rc = net_call(c, &conn, &req, &m);
	if (rc >= 0)
		return rc;
	if (c->json) {
		rc = print_json(&m, true, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
	} else {
		int n, in;
		const char *name = f_str(&m, "name", &n), *nid = f_str(&m, "network_id", &in);
		printf(_("network \"%.*s\" created (id %.*s); you are its coordinator\n"), n, name,
		       in, nid);
		rc = EXIT_OK;
	}
	ctl_close(&conn);
	return rc;
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Delivered k / N of an own alert, printed on every change until Ctrl-C. */
static int watch_delivery(cli *c, const char *alert)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	long long last_k = -1, last_n = -1;
	while (!interrupted) {
		ctl_conn conn;
		td_ctl_msg m;
		td_ctl_req req;
		memset(&req, 0, sizeof req);
		req.op = TD_CTL_OP_ALERT_STATUS;
		td_ctl_add_str(&req.args, "alert", alert);
		int rc = net_call(c, &conn, &req, &m);
		if (rc >= 0)
			return rc;
		long long k = (long long)f_uint(&m, "delivered"), n = (long long)f_uint(&m, "members");
		if (k != last_k || n != last_n) {
			if (c->json) {
				(void)print_json(&m, true, NULL);
			} else {
				printf(_("delivered %lld / %lld\n"), k, n);
				fflush(stdout);
			}
			last_k = k;
			last_n = n;
		}
		ctl_close(&conn);
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return EXIT_OK;
}

static int send_alert(cli *c, const char *kind, const char *text, const char *refers)
{
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = TD_CTL_OP_ALERT;
	td_ctl_add_str(&req.args, "kind", kind);
	if (text)
		td_ctl_add_str(&req.args, "text", text);
	if (c->violation)
		td_ctl_add_str(&req.args, "violation", c->violation);
	if (c->location)
		td_ctl_add_str(&req.args, "location", c->location);
	if (refers)
		td_ctl_add_str(&req.args, "refers", refers);
	int rc = net_call(c, &conn, &req, &m);
	if (rc >= 0)
		return rc;
	int an;
	const char *alert = f_str(&m, "alert", &an);
	char id[80];
	snprintf(id, sizeof id, "%.*s", an, alert);
	unsigned long long links = f_uint(&m, "links"), members = f_uint(&m, "members");
	if (c->json) {
		rc = print_json(&m, true, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
	} else {
		if (links > 0)
			printf(_("stored; sent to %llu link%s (%llu other member%s) - alert %.16s\n"),
			       links, links == 1 ? "" : "s", members, members == 1 ? "" : "s", id);
		else
			printf(_("stored; no peer reachable yet - it will leave as soon as one is "
			         "(alert %.16s)\n"),
			       id);
		rc = EXIT_OK;
	}
	fflush(stdout);
	ctl_close(&conn);
	if (rc == EXIT_OK && c->watch)
		return watch_delivery(c, id);
	return rc;
}

static int cmd_panic(cli *c)
{
	return send_alert(c, "panic", c->nargs ? c->args[0] : NULL, NULL);
}

static int cmd_safe(cli *c)
{
	return send_alert(c, "safe", c->nargs ? c->args[0] : NULL, NULL);
}

static int cmd_drill(cli *c)
{
	return send_alert(c, "drill", c->nargs ? c->args[0] : NULL, NULL);
}

static int cmd_notice(cli *c)
{
	if (c->nargs != 1) {
		fprintf(stderr, _("usage: tocsin notice TEXT\n"));
		return EXIT_USAGE;
	}
	return send_alert(c, "notice", c->args[0], NULL);
}

static int cmd_respond(cli *c)
{
	if (c->nargs < 1) {
		fprintf(stderr, _("usage: tocsin respond ALERT_ID_PREFIX [TEXT]\n"));
		return EXIT_USAGE;
	}
	return send_alert(c, "responding", c->nargs > 1 ? c->args[1] : NULL, c->args[0]);
}

/* "30m", "2h", "1d", "45s" ago, or a Unix time in ms. */
static bool parse_since(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	uint64_t unit = 0;
	if (*end == '\0') {
		*out = v;
		return true;
	}
	if (end[1] != '\0')
		return false;
	switch (*end) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 24 * 3600 * 1000; break;
	default: return false;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	uint64_t ago = v * unit;
	*out = ago < now ? now - ago : 0;
	return true;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void human_alert(json_t *o)
{
	time_t t = (time_t)(json_integer_value(json_object_get(o, "created_ms")) / 1000);
	struct tm tm;
	char when[32] = "?";
	if (localtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	const char *name = jstr(o, "author_name");
	printf("%s  %-10s %.12s  %s (%s)", when, jstr(o, "kind"), jstr(o, "id"),
	       jstr(o, "author"), name[0] ? name : "?");
	if (json_is_true(json_object_get(o, "own")) && json_object_get(o, "delivered"))
		printf(_("  delivered %lld / %lld"),
		       (long long)json_integer_value(json_object_get(o, "delivered")),
		       (long long)json_integer_value(json_object_get(o, "members")));
	printf("\n");
	if (!json_is_true(json_object_get(o, "opened"))) {
		printf(_("    (cannot be read on this device)\n"));
		return;
	}
	printf("    %s, %s", jstr(o, "severity"), jstr(o, "violation"));
	if (json_object_get(o, "location"))
		printf(_(", at %s"), jstr(o, "location"));
	printf("\n");
	if (json_object_get(o, "text"))
		printf("    %s\n", jstr(o, "text"));
}

static void human_member(json_t *o)
{
	printf("%-16s %-20s %-11s%s%s%s\n", jstr(o, "id"), jstr(o, "name"), jstr(o, "role"),
	       json_is_true(json_object_get(o, "self")) ? _(" (this device)") : "",
	       json_is_true(json_object_get(o, "linked")) ? _(" linked") : "",
	       json_is_true(json_object_get(o, "active")) ? "" : _(" REVOKED"));
}

static void human_peer(json_t *o)
{
	printf("link %-4lld %-3s %-10s %s %s\n",
	       (long long)json_integer_value(json_object_get(o, "link")), jstr(o, "direction"),
	       jstr(o, "state"), jstr(o, "member"), jstr(o, "name"));
}

/* A list op: "items" is a JSON array. --json prints it as one array. */
static int list_cmd(cli *c, td_ctl_op op, void (*human)(json_t *), const char *empty)
{
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = op;
	if (op == TD_CTL_OP_ALERTS && c->since) {
		uint64_t since;
		if (!parse_since(c->since, &since)) {
			fprintf(stderr, _("tocsin: --since takes 30m, 2h, 1d, 45s or Unix ms\n"));
			return EXIT_USAGE;
		}
		td_ctl_add_uint(&req.args, "since", since);
	}
	int rc = net_call(c, &conn, &req, &m);
	if (rc >= 0)
		return rc;
	int n;
	const char *items = f_str(&m, "items", &n);
	json_error_t jerr;
	json_t *arr = json_loadb(items, (size_t)n, 0, &jerr);
	bool more = f_bool(&m, "more");
	ctl_close(&conn); /* m's views die here */
	if (!json_is_array(arr)) {
		json_decref(arr);
		fprintf(stderr, _("tocsin: tocsind sent a malformed list\n"));
		return EXIT_REPLY;
	}
	if (c->json) {
		/* JSON lines: one object per line, so `--watch` and lists read alike. */
		size_t i;
		json_t *o;
		rc = EXIT_OK;
		json_array_foreach(arr, i, o) {
			if (json_dumpf(o, stdout, JSON_COMPACT) != 0 || fputc('\n', stdout) == EOF)
				rc = EXIT_REPLY;
		}
	} else {
		size_t i;
		json_t *o;
		json_array_foreach(arr, i, o) human(o);
		if (json_array_size(arr) == 0)
			printf("%s\n", empty);
		if (more)
			printf(_("(older entries left out: use --since)\n"));
		rc = EXIT_OK;
	}
	json_decref(arr);
	return rc;
}

static int cmd_alerts(cli *c)
{
	return list_cmd(c, TD_CTL_OP_ALERTS, human_alert, _("no alerts"));
}

static int cmd_members(cli *c)
{
	return list_cmd(c, TD_CTL_OP_MEMBERS, human_member, _("no members"));
}

static int cmd_peers(cli *c)
{
	return list_cmd(c, TD_CTL_OP_PEERS, human_peer, _("no connections"));
}

/* ---- command line ---------------------------------------------------------- */

/* Options may come before or after the command. Returns -1 to go on, or an
 * exit status. */
/* ---- invite, join, revoke ------------------------------------------------------ */

/* "90", "90s", "30m", "24h", "7d" as seconds; false when malformed. */
static bool parse_duration(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || v > 365ull * 24 * 3600)
		return false;
	uint64_t mul = 1;
	if (*end == 'm')
		mul = 60;
	else if (*end == 'h')
		mul = 3600;
	else if (*end == 'd')
		mul = 24 * 3600;
	else if (*end != 's' && *end != '\0')
		return false;
	if (*end && end[1])
		return false;
	*out = (uint64_t)v * mul;
	return true;
}

static bool utf8_terminal(void)
{
	const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return strstr(v, "UTF-8") || strstr(v, "utf8") || strstr(v, "UTF8") ||
			       strstr(v, "utf-8");
	}
	return false;
}

/* The code as a QR code on the terminal: two modules per character cell
 * with UTF-8 half blocks (light modules drawn, as `qrencode -t UTF8` does
 * for dark terminals), or '#' pairs in ASCII. A quiet zone of 2 modules. */
static int print_qr(const char *code)
{
	QRcode *q = QRcode_encodeString(code, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q) {
		fprintf(stderr, _("tocsin: cannot make the QR code: %s\n"), strerror(errno));
		return EXIT_REPLY;
	}
	int w = q->width, z = 2;
	bool utf8 = utf8_terminal();
#define DARK(x, y) ((x) >= 0 && (y) >= 0 && (x) < w && (y) < w && (q->data[(y) * w + (x)] & 1))
	if (utf8) {
		for (int y = -z; y < w + z; y += 2) {
			for (int x = -z; x < w + z; x++) {
				bool top = !DARK(x, y), bot = y + 1 < w + z && !DARK(x, y + 1);
				fputs(top && bot ? "\u2588" : top ? "\u2580" : bot ? "\u2584" : " ", stdout);
			}
			putchar('\n');
		}
	} else {
		for (int y = -z; y < w + z; y++) {
			for (int x = -z; x < w + z; x++)
				fputs(DARK(x, y) ? "##" : "  ", stdout);
			putchar('\n');
		}
	}
#undef DARK
	QRcode_free(q);
	return EXIT_OK;
}

/* The code in lines of six 5-letter groups (dashes, spaces and line
 * breaks are all ignored when it is typed back). */
static void print_code(const char *code, int n)
{
	int groups = 0;
	printf("  ");
	for (int i = 0; i < n; i++) {
		if (code[i] == '-') {
			if (++groups % 6 == 0)
				printf("\n  ");
			else
				putchar('-');
			continue;
		}
		putchar(code[i]);
	}
	putchar('\n');
}

/* Subscribe on *sub (events from now on). -1 on success. */
static int subscribe(cli *c, ctl_conn *sub)
{
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_SUBSCRIBE, .id = 1};
	int rc = call(c, sub, &req, &m, TIMEOUT_MS);
	if (rc >= 0)
		return rc;
	if (!f_bool(&m, "ok")) {
		rc = refused(c, &m);
		ctl_close(sub);
		return rc;
	}
	return -1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The next event named `want` (and, for "joined", with self == self) on
 * sub, until deadline. Returns -1 with it in *m, 0 on timeout, or an exit
 * status. A "join_failed" with stale = true also ends the wait (-2). */
static int wait_event(ctl_conn *sub, td_ctl_msg *m, const char *want, bool self,
                      uint64_t deadline)
{
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			return 0;
		ctl_status st = ctl_recv(sub, m, (int)(deadline - now));
		if (st == CTL_TIMEOUT)
			return 0;
		if (st != CTL_OK)
			return lost(st, sub);
		if (td_ctl_event_check(m) != TN_OK)
			continue;
		if (td_ctl_str_is(m, "event", "join_failed") && f_bool(m, "stale") && self)
			return -2;
		if (td_ctl_str_is(m, "event", want) && f_bool(m, "self") == self)
			return -1;
	}
}

static bool timeout_s(const cli *c, uint64_t dflt, uint64_t *out)
{
	*out = dflt;
	if (c->timeout && (!parse_duration(c->timeout, out) || *out == 0)) {
		fprintf(stderr, _("tocsin: --timeout takes seconds (or 30m, 1h)\n"));
		return false;
	}
	return true;
}

static void print_joined_peer(const td_ctl_msg *e)
{
	int nn, sn, fn, mn;
	const char *name = f_str(e, "name", &nn), *sn_p = f_str(e, "safety_number", &sn);
	const char *fp = f_str(e, "fingerprint", &fn), *mem = f_str(e, "member", &mn);
	printf(_("%.*s joined (%.*s, fingerprint %.*s)\n"), nn, name, mn, mem, fn, fp);
	printf(_("safety number: %.*s\ncompare it with her by voice\n"), sn, sn_p);
}

static int cmd_invite(cli *c)
{
	uint64_t ttl = 24 * 3600, wait_s;
	if (!c->name) {
		fprintf(stderr, _("usage: tocsin invite --name NAME [--role member|coordinator] "
		                  "[--expires 24h] [--qr] [--wait]\n"));
		return EXIT_USAGE;
	}
	if (c->expires && (!parse_duration(c->expires, &ttl) || ttl == 0)) {
		fprintf(stderr, _("tocsin: --expires takes a duration: 30m, 24h, 7d\n"));
		return EXIT_USAGE;
	}
	if (!timeout_s(c, 600, &wait_s))
		return EXIT_USAGE;
	ctl_conn sub, conn;
	int rc;
	if (c->wait && (rc = subscribe(c, &sub)) >= 0)
		return rc;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = TD_CTL_OP_INVITE;
	td_ctl_add_str(&req.args, "name", c->name);
	if (c->role)
		td_ctl_add_str(&req.args, "role", c->role);
	td_ctl_add_uint(&req.args, "expires_s", ttl);
	if ((rc = net_call(c, &conn, &req, &m)) >= 0) {
		if (c->wait)
			ctl_close(&sub);
		return rc;
	}
	int n, en, rn;
	const char *code = f_str(&m, "code", &n), *ep = f_str(&m, "endpoint", &en);
	const char *role = f_str(&m, "role", &rn);
	if (c->json) {
		rc = print_json(&m, true, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
		fflush(stdout);
	} else {
		printf(_("invitation for %s (%.*s), valid %llu h %llu min, one device, once:\n\n"),
		       c->name, rn, role, (unsigned long long)(ttl / 3600),
		       (unsigned long long)(ttl % 3600 / 60));
		print_code(code, n);
		printf("\n");
		if (f_bool(&m, "advertised"))
			printf(_("the code carries the [network] advertise address %.*s\n"), en, ep);
		else
			printf(_("the code carries this daemon's address %.*s\n"), en, ep);
		printf(_("read it over the phone or show it; she runs: tocsin join CODE --name "
		         "NAME\n"));
		rc = EXIT_OK;
		if (c->qr) {
			char buf[TD_CTL_STR_MAX + 1];
			/* Upper case: QR's alphanumeric mode (A-Z 0-9 -) makes a
			 * smaller symbol; the code is case-insensitive. */
			for (int i = 0; i < n; i++)
				buf[i] = (char)toupper((unsigned char)code[i]);
			buf[n] = '\0';
			printf("\n");
			rc = print_qr(buf);
			sodium_memzero(buf, (size_t)n);
		}
		fflush(stdout);
	}
	sodium_memzero((void *)(uintptr_t)code, (size_t)n);
	ctl_close(&conn);
	if (!c->wait || rc != EXIT_OK)
		goto out;
	td_ctl_msg e;
	int w = wait_event(&sub, &e, "joined", false, mono_ms() + wait_s * 1000);
	if (w == -1) {
		if (c->json)
			rc = print_json(&e, false, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
		else
			print_joined_peer(&e);
	} else if (w == 0) {
		fprintf(stderr, _("tocsin: nobody joined within %llu s (the code stays valid until "
		                  "it expires)\n"),
		        (unsigned long long)wait_s);
		rc = EXIT_REPLY;
	} else
		rc = w;
out:
	if (c->wait)
		ctl_close(&sub);
	return rc;
}

static int cmd_join(cli *c)
{
	if (c->nargs < 1 || !c->name) {
		fprintf(stderr, _("usage: tocsin join CODE --name NAME\n"));
		return EXIT_USAGE;
	}
	uint64_t wait_s;
	if (!timeout_s(c, 60, &wait_s))
		return EXIT_USAGE;
	char code[CODE_INPUT_MAX + 1];
	size_t len = 0;
	for (int i = 0; i < c->nargs; i++) {
		size_t l = strlen(c->args[i]);
		if (len + l + 1 > sizeof code) {
			fprintf(stderr, _("tocsin: this is too long to be an invitation code\n"));
			return EXIT_REPLY;
		}
		memcpy(code + len, c->args[i], l);
		len += l;
		code[len++] = ' ';
	}
	code[len ? len - 1 : 0] = '\0';
	ctl_conn sub, conn;
	int rc = subscribe(c, &sub);
	if (rc >= 0) {
		sodium_memzero(code, sizeof code);
		return rc;
	}
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = TD_CTL_OP_JOIN;
	td_ctl_add_str(&req.args, "code", code);
	td_ctl_add_str(&req.args, "name", c->name);
	rc = net_call(c, &conn, &req, &m);
	sodium_memzero(code, sizeof code);
	if (rc >= 0) {
		ctl_close(&sub);
		return rc;
	}
	int en;
	const char *ep = f_str(&m, "coordinator_endpoint", &en);
	if (!c->json) {
		printf(_("contacting the coordinator at %.*s ...\n"), en, ep);
		fflush(stdout);
	}
	ctl_close(&conn);
	uint64_t t0 = mono_ms();
	td_ctl_msg e;
	int w = wait_event(&sub, &e, "joined", true, t0 + wait_s * 1000);
	if (w == -1) {
		if (c->json) {
			json_t *x = json_object();
			json_object_set_new(x, "join_ms", json_integer((json_int_t)(mono_ms() - t0)));
			rc = print_json(&e, false, x) == 0 ? EXIT_OK : EXIT_REPLY;
		} else {
			int nn, cn, sn, in;
			const char *cname = f_str(&e, "name", &nn), *coord = f_str(&e, "coordinator", &cn);
			const char *safety = f_str(&e, "safety_number", &sn);
			const char *nid = f_str(&e, "network_id", &in);
			printf(_("joined network %.*s as %s; admitted by %.*s (%.*s)\n"), in < 8 ? in : 8,
			       nid, c->name, nn, cname, cn, coord);
			printf(_("safety number: %.*s\ncompare it with the coordinator by voice\n"), sn,
			       safety);
			rc = EXIT_OK;
		}
	} else if (w == -2) {
		fprintf(stderr, _("tocsin: this invitation has expired or was already used: ask for "
		                  "a new one\n"));
		rc = EXIT_REPLY;
	} else if (w == 0) {
		fprintf(stderr,
		        _("tocsin: not admitted within %llu s: the coordinator's daemon may be offline "
		          "or unreachable at %.*s, or the code was already used or has expired (the "
		          "coordinator does not say which, so strangers cannot probe codes); the "
		          "daemon keeps trying until the code expires\n"),
		        (unsigned long long)wait_s, en, ep);
		rc = EXIT_REPLY;
	} else
		rc = w;
	ctl_close(&sub);
	return rc;
}

static int cmd_revoke(cli *c)
{
	if (c->nargs != 1) {
		fprintf(stderr, _("usage: tocsin revoke MEMBER (name or fingerprint prefix)\n"));
		return EXIT_USAGE;
	}
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = TD_CTL_OP_REVOKE;
	td_ctl_add_str(&req.args, "member", c->args[0]);
	int rc = net_call(c, &conn, &req, &m);
	if (rc >= 0)
		return rc;
	if (c->json) {
		rc = print_json(&m, true, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
	} else {
		int nn, mn;
		const char *name = f_str(&m, "name", &nn), *mem = f_str(&m, "member", &mn);
		printf(_("%.*s (%.*s) revoked; the network is rekeyed: her devices get no new alerts "
		         "and no new links\n"),
		       nn, name, mn, mem);
		rc = EXIT_OK;
	}
	ctl_close(&conn);
	return rc;
}

static int parse(int argc, char **argv, cli *c, const command **cmd, bool *help_cmd)
{
	static const struct {
		const char *name;
		size_t off;
	} valued[] = {
	        {"--home", offsetof(cli, home)},
	        {"--passphrase-file", offsetof(cli, passfile)},
	        {"--violation", offsetof(cli, violation)},
	        {"--location", offsetof(cli, location)},
	        {"--since", offsetof(cli, since)},
	        {"--name", offsetof(cli, name)},
	        {"--role", offsetof(cli, role)},
	        {"--expires", offsetof(cli, expires)},
	        {"--timeout", offsetof(cli, timeout)},
	};
	const char *name = NULL;
	bool dashdash = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool matched = false;
		for (size_t k = 0; !dashdash && k < sizeof valued / sizeof valued[0]; k++) {
			size_t n = strlen(valued[k].name);
			const char **slot = (const char **)(void *)((char *)c + valued[k].off);
			if (strcmp(a, valued[k].name) == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, _("tocsin: %s needs an argument\n"), a);
					return EXIT_USAGE;
				}
				*slot = argv[++i];
				matched = true;
			} else if (strncmp(a, valued[k].name, n) == 0 && a[n] == '=') {
				*slot = a + n + 1;
				matched = true;
			}
		}
		if (matched)
			continue;
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (!name) {
				name = a;
			} else if (c->nargs < ARGS_MAX) {
				c->args[c->nargs++] = a;
			} else {
				fprintf(stderr, _("tocsin: unexpected argument '%s'\n"), a);
				return EXIT_USAGE;
			}
		} else if (strcmp(a, "--") == 0) {
			dashdash = true;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--watch") == 0) {
			c->watch = true;
		} else if (strcmp(a, "--qr") == 0) {
			c->qr = true;
		} else if (strcmp(a, "--wait") == 0) {
			c->wait = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			c->help = true;
		} else {
			fprintf(stderr, _("tocsin: unknown option '%s'\n"), a);
			return EXIT_USAGE;
		}
	}
	*help_cmd = name && strcmp(name, "help") == 0;
	if (*help_cmd) {
		name = c->nargs ? c->args[0] : NULL;
		c->nargs = 0;
		c->help = true;
	}
	if (!name)
		return -1; /* no command: usage */
	*cmd = find_command(name);
	if (!*cmd) {
		fprintf(stderr, _("tocsin: unknown command '%s'\n"), name);
		return EXIT_USAGE;
	}
	if (c->passfile && !(*cmd)->takes_passfile) {
		fprintf(stderr, _("tocsin: %s does not take --passphrase-file\n"), name);
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	cli c;
	const command *cmd = NULL;
	bool help_cmd = false;
	memset(&c, 0, sizeof c);
	int rc = parse(argc, argv, &c, &cmd, &help_cmd);
	if (rc >= 0) {
		if (!cmd)
			usage(stderr);
		else
			command_usage(stderr, cmd);
		return rc;
	}
	if (!cmd) {
		usage(c.help ? stdout : stderr);
		return c.help ? EXIT_OK : EXIT_USAGE;
	}
	if (c.help) {
		command_usage(stdout, cmd);
		return EXIT_OK;
	}
	if (c.nargs > cmd->max_args) {
		fprintf(stderr, _("tocsin: unexpected argument '%s'\n"), c.args[cmd->max_args]);
		command_usage(stderr, cmd);
		return EXIT_USAGE;
	}
	if ((c.violation || c.location) && cmd->run != cmd_panic && cmd->run != cmd_safe &&
	    cmd->run != cmd_drill && cmd->run != cmd_notice && cmd->run != cmd_respond) {
		fprintf(stderr, _("tocsin: --violation and --location are for alerts\n"));
		return EXIT_USAGE;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "tocsin: libsodium failed to initialise\n");
		return EXIT_REPLY;
	}
	char cwd[TD_PATH_MAX], err[TD_PATH_MAX + 256];
	td_env env;
	td_env_from_process(&env, cwd, sizeof cwd);
	if (td_paths_resolve(&c.paths, &env, c.home, NULL, err, sizeof err) != TN_OK) {
		fprintf(stderr, "tocsin: %s\n", err);
		return EXIT_USAGE;
	}
	return cmd->run(&c);
}
