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
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <locale.h>
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
#include "lock.h"
#include "passfile.h"
#include "paths.h"
#include "wipe.h"

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
	bool yes; /* wipe --yes */
	bool no_watch;             /* panic --no-watch: return at once even on a terminal */
	const struct command *cmd; /* the command run (for error hints) */
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
static int cmd_wipe(cli *c);
static int cmd_audit(cli *c);
static int subscribe(cli *c, ctl_conn *sub);
static int follow_alert(cli *c, ctl_conn *sub, const char *alert);
static bool follow_by_default(const cli *c, const char *kind);
static void print_sent(unsigned long long links, unsigned long long members, const char *id);
static void print_held(unsigned long long held_ms, const char *kind, const char *id);
static void print_refusal_hint(const cli *c, const td_ctl_msg *m);
static bool human_alert_event(const td_ctl_msg *m);
static int alerts_watch(cli *c);
static bool parse_iso_time(const char *s, uint64_t *out_ms);
static void i18n_init(void);

static const command commands[] = {
        {"version", cmd_version, "version [--json]",
         N_("print the client's and the daemon's versions"), false},
        {"status", cmd_status, "status [--json]",
         N_("show the daemon: home, identity, links, mesh"), false},
        {"init", cmd_init, "init [--passphrase-file FILE] [--json]",
         N_("create this device's identity (keys) in the daemon's data dir"), true},
        {"id", cmd_id, "id [--json]", N_("print this device's fingerprint (compare it by voice)"),
         false},
        {"watch", cmd_watch, "watch [--json]",
         N_("print the daemon's events until Ctrl-C or the daemon stops"), false},
        {"network", cmd_network, "network create NAME [--name YOUR_NAME] [--json]",
         N_("found a new network with this device as its first coordinator"), false, 2},
        {"panic", cmd_panic,
         "panic [TEXT] [--violation TYPE] [--location PLACE] [--watch | --no-watch] [--json]",
         N_("send a panic alert to every member now (no prompt)"), false, 1},
        {"safe", cmd_safe, "safe [TEXT] [--watch] [--json]",
         N_("say you are safe (ends your last panic)"), false, 1},
        {"drill", cmd_drill, "drill [TEXT] [--watch] [--json]", N_("send a practice alert"), false,
         1},
        {"notice", cmd_notice, "notice TEXT [--watch] [--json]",
         N_("send a notice to every member (coordinators only)"), false, 1},
        {"respond", cmd_respond, "respond ALERT_ID_PREFIX [TEXT] [--watch] [--json]",
         N_("tell the network you are responding to an alert"), false, 2},
        {"alerts", cmd_alerts, "alerts [--since T] [--watch] [--json]",
         N_("list stored alerts (T: 30m, 2h, 1d, 2026-11-25, 2026-11-25T08:00, or Unix ms); "
            "--watch then shows new ones as they arrive"),
         false},
        {"members", cmd_members, "members [--json]", N_("list the network's members"), false},
        {"peers", cmd_peers, "peers [--json]", N_("list the daemon's connections to peers"), false},
        {"invite", cmd_invite,
         "invite --name NAME [--role member|coordinator] [--expires 24h] [--qr] [--wait] "
         "[--timeout S] [--json]",
         N_("print a one-time invitation code for a new device (coordinators only)"), false},
        {"join", cmd_join, "join CODE --name NAME [--timeout S] [--json]",
         N_("join a network with an invitation code (after tocsin init)"), false, ARGS_MAX},
        {"revoke", cmd_revoke, "revoke MEMBER [--json]",
         N_("revoke a member (name or fingerprint prefix) and rekey (coordinators only)"), false,
         1},
        {"wipe", cmd_wipe, "wipe [--yes] [--json]",
         N_("overwrite and delete this device's keys and history, and stop tocsind"), false},
        {"audit", cmd_audit, "audit [--json]",
         N_("every roster change with who signed it (coordinators only)"), false},
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
	print_refusal_hint(c, m);
	return EXIT_REPLY;
}

/* The reply as JSON (--json): the exit status. */
static int json_reply(const td_ctl_msg *m)
{
	return print_json(m, true, NULL) == 0 ? EXIT_OK : EXIT_REPLY;
}

/* A reply that came on conn: the refusal, else the JSON (--json), else
 * human(c, m); closes conn and returns the exit status. */
static int answer(cli *c, ctl_conn *conn, const td_ctl_msg *m,
                  void (*human)(const cli *, const td_ctl_msg *))
{
	int rc;
	if (!f_bool(m, "ok"))
		rc = refused(c, m);
	else if (c->json)
		rc = json_reply(m);
	else {
		human(c, m);
		rc = EXIT_OK;
	}
	ctl_close(conn);
	return rc;
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
	return answer(c, &conn, &m, human);
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
static const char *word_label(const char *word);

/* A short protocol word of a reply (a str field) for people: copied so it
 * ends in NUL, then through word_label. */
static const char *field_word(const td_ctl_msg *m, const char *key, char *buf, size_t cap)
{
	int n;
	const char *w = f_str(m, key, &n);
	snprintf(buf, cap, "%.*s", n, w);
	return word_label(buf);
}

static void human_reach(const td_ctl_msg *m)
{
	int rn, bn;
	(void)f_str(m, "reachable", &rn);
	if (rn == 0)
		return; /* an older daemon */
	char rb[32], xb[32];
	const char *r = field_word(m, "reachable", rb, sizeof rb);
	const char *by = f_str(m, "reach_checked_by", &bn);
	const char *res = field_word(m, "reach_result", xb, sizeof xb);
	unsigned long long at = f_uint(m, "reach_checked_ms");
	if (bn == 0 || at == 0) {
		printf(_("reachable from outside: %s (not checked yet)\n"), r);
		return;
	}
	long long ago = (long long)time(NULL) - (long long)(at / 1000);
	printf(_("reachable from outside: %s (%s; checked by %.*s %lld s ago)\n"), r, res, bn, by,
	       ago < 0 ? 0 : ago);
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

static void human_init(const cli *c, const td_ctl_msg *m)
{
	(void)c;
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
	return answer(c, &conn, &m, human_init);
}

static void human_event(const td_ctl_msg *m)
{
	if (human_alert_event(m))
		return;
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

/* Print the events on sub (only "alert" ones when alerts_only) until the
 * stream ends, then close it. An "alert" event whose id is a key of shown
 * (the ids already printed from the list, or NULL) is skipped once. Exit 0
 * when the daemon said it was shutting down, 3 when the stream ended
 * otherwise. */
static int print_events(cli *c, ctl_conn *sub, bool alerts_only, json_t *shown)
{
	td_ctl_msg m;
	int rc;
	bool shutdown = false;
	for (;;) {
		ctl_status st = ctl_recv(sub, &m, -1);
		if (st == CTL_CLOSED && shutdown) {
			rc = EXIT_OK;
			break;
		}
		if (st != CTL_OK) {
			rc = lost(st, sub);
			break;
		}
		if (td_ctl_event_check(&m) != TN_OK) {
			fprintf(stderr, _("tocsin: tocsind sent a malformed event\n"));
			rc = EXIT_REPLY;
			break;
		}
		shutdown = shutdown || td_ctl_str_is(&m, "event", "shutdown");
		if (alerts_only && !td_ctl_str_is(&m, "event", "alert"))
			continue;
		if (shown && json_object_size(shown) && td_ctl_str_is(&m, "event", "alert")) {
			int n;
			const char *id = f_str(&m, "alert", &n);
			char key[TD_CTL_STR_MAX + 1];
			snprintf(key, sizeof key, "%.*s", n, id);
			if (json_object_del(shown, key) == 0)
				continue; /* stored between subscribe and list: printed already */
		}
		if (c->json ? print_json(&m, false, NULL) != 0 : (human_event(&m), false)) {
			rc = EXIT_REPLY;
			break;
		}
	}
	ctl_close(sub);
	return rc;
}

/* Print events until the stream ends. Exit 0 when the daemon said it was
 * shutting down, 3 when the stream ended otherwise. */
static int cmd_watch(cli *c)
{
	ctl_conn conn;
	int rc = subscribe(c, &conn);
	if (rc >= 0)
		return rc;
	return print_events(c, &conn, false, NULL);
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
		rc = json_reply(&m);
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

/* Ctrl-C sets `interrupted` (no SA_RESTART: waits return early). */
static void catch_sigint(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
}

/* alert_status of an own alert into *m on an open *conn (-1), or an exit
 * status with the message printed. */
static int alert_status(cli *c, const char *alert, ctl_conn *conn, td_ctl_msg *m)
{
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = TD_CTL_OP_ALERT_STATUS;
	td_ctl_add_str(&req.args, "alert", alert);
	return net_call(c, conn, &req, m);
}

/* Delivered k / N of an own alert, printed on every change until Ctrl-C. */
static int watch_delivery(cli *c, const char *alert)
{
	catch_sigint();
	long long last_k = -1, last_n = -1;
	while (!interrupted) {
		ctl_conn conn;
		td_ctl_msg m;
		int rc = alert_status(c, alert, &conn, &m);
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
	/* Following (people on a terminal, or --watch): subscribe before the
	 * alert leaves so that no receipt is missed; it costs one local round
	 * trip. --json keeps the alert_status lines of watch_delivery. */
	bool follow = !c->json && (c->watch || follow_by_default(c, kind));
	ctl_conn sub;
	if (follow) {
		int src = subscribe(c, &sub);
		if (src >= 0)
			return src;
	}
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
	if (rc >= 0) {
		if (follow)
			ctl_close(&sub);
		return rc;
	}
	int an;
	const char *alert = f_str(&m, "alert", &an);
	char id[80];
	snprintf(id, sizeof id, "%.*s", an, alert);
	unsigned long long links = f_uint(&m, "links"), members = f_uint(&m, "members");
	unsigned long long held_ms = f_uint(&m, "held_ms");
	if (c->json) {
		rc = json_reply(&m);
	} else {
		if (held_ms)
			print_held(held_ms, kind, id);
		else
			print_sent(links, members, id);
		rc = EXIT_OK;
	}
	fflush(stdout);
	ctl_close(&conn);
	if (follow)
		return rc == EXIT_OK ? follow_alert(c, &sub, id) : (ctl_close(&sub), rc);
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
	if (parse_iso_time(s, out))
		return true;
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

/* Colour only for people: stdout a terminal, NO_COLOR unset or empty
 * (no-color.org), TERM set and not "dumb". */
static bool colour(void)
{
	static int on = -1;
	if (on < 0) {
		const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
		on = isatty(STDOUT_FILENO) && !(nc && *nc) && term && *term &&
		     strcmp(term, "dumb") != 0;
	}
	return on;
}

#define BOLD_RED "\033[1;31m"
#define RESET    "\033[0m"

/* A protocol word of an alert (kind, severity, violation) for people, in
 * their language; the JSON keeps the word. Unknown words are shown as is. */
static const char *word_label(const char *word)
{
	static const struct {
		const char *word, *label;
	} t[] = {
	        {"panic", N_("PANIC")},
	        {"safe", N_("safe")},
	        {"responding", N_("responding")},
	        {"notice", N_("notice")},
	        {"drill", N_("drill")},
	        {"low", N_("low")},
	        {"medium", N_("medium")},
	        {"high", N_("high")},
	        {"critical", N_("critical")},
	        {"threat", N_("threat")},
	        {"surveillance", N_("surveillance")},
	        {"detention", N_("detention")},
	        {"kidnapping", N_("kidnapping")},
	        {"assault", N_("assault")},
	        {"raid", N_("raid")},
	        {"digital_attack", N_("digital attack")},
	        {"other", N_("other")},
	        /* reachability (status) */
	        {"yes", N_("yes")},
	        {"no", N_("no")},
	        {"unknown", N_("unknown")},
	        {"ok", N_("ok")},
	        {"no_connect", N_("nothing accepted the connection")},
	        {"handshake", N_("something else answered")},
	        {"no_endpoint", N_("no published address")},
	        {"limited", N_("asked too often")},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(t[i].word, word) == 0)
			return _(t[i].label);
	return word;
}

/* A Unix ms time (a JSON integer) as local "YYYY-MM-DD HH:MM:SS TZ"; "?"
 * when it is not one. */
static void local_time(json_t *ms, char *out, size_t cap)
{
	snprintf(out, cap, "?");
	if (!json_is_integer(ms))
		return;
	time_t secs = (time_t)(json_integer_value(ms) / 1000);
	struct tm tm;
	if (localtime_r(&secs, &tm))
		strftime(out, cap, "%Y-%m-%d %H:%M:%S %Z", &tm);
}

/* One alert (a list item, or an event made into one) for people: local
 * time, kind (a panic in bold red on a terminal), author, the text. */
static void human_alert(json_t *o)
{
	bool red = colour() && strcmp(jstr(o, "kind"), "panic") == 0;
	char when[64];
	local_time(json_object_get(o, "created_ms"), when, sizeof when);
	const char *name = jstr(o, "author_name");
	/* The kind padded to 10 characters, not bytes (Arabic letters take two). */
	const char *kind = word_label(jstr(o, "kind"));
	int chars = 0;
	for (const char *p = kind; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	printf("%s  %s%s%s%*s %.12s  %s (%s)", when, red ? BOLD_RED : "", kind, red ? RESET : "",
	       chars < 10 ? 10 - chars : 0, "", jstr(o, "id"), name[0] ? name : "?",
	       jstr(o, "author"));
	if (json_is_true(json_object_get(o, "own")) && json_object_get(o, "delivered"))
		printf(_("  delivered %lld / %lld"),
		       (long long)json_integer_value(json_object_get(o, "delivered")),
		       (long long)json_integer_value(json_object_get(o, "members")));
	printf("\n");
	if (!json_is_true(json_object_get(o, "opened"))) {
		printf(_("    (cannot be read on this device)\n"));
		return;
	}
	const char *viol = jstr(o, "violation");
	if (viol[0])
		/* TRANSLATORS: "    severity critical, detention": the severity, then the
		 * violation. */
		printf(_("    severity %s, %s"), word_label(jstr(o, "severity")), word_label(viol));
	else
		printf(_("    severity %s"), word_label(jstr(o, "severity")));
	if (json_object_get(o, "location"))
		printf(_(", at %s"), jstr(o, "location"));
	printf("\n");
	if (json_object_get(o, "text"))
		printf("    %s%s%s\n", red ? BOLD_RED : "", jstr(o, "text"), red ? RESET : "");
}

static void human_member(json_t *o)
{
	bool self = json_is_true(json_object_get(o, "self"));
	bool linked = json_is_true(json_object_get(o, "linked"));
	char seen[64];
	json_t *ls = json_object_get(o, "last_seen_ms");
	if (self)
		snprintf(seen, sizeof seen, "%s", _("this device"));
	else if (linked)
		snprintf(seen, sizeof seen, "%s", _("linked now"));
	else if (json_is_integer(ls))
		local_time(ls, seen, sizeof seen);
	else
		snprintf(seen, sizeof seen, "%s", _("never seen"));
	printf("%-16s %-20s %-11s %-23s%s\n", jstr(o, "id"), jstr(o, "name"), jstr(o, "role"),
	       seen, json_is_true(json_object_get(o, "revoked")) ? _("  REVOKED") : "");
	if (!self && json_object_get(o, "safety_number"))
		printf(_("    safety number: %s\n"), jstr(o, "safety_number"));
}

/* An equivocation kept as evidence (an audit item of type "conflict"): the
 * member signed two different alerts with one sequence number, so her key
 * may be in someone else's hands. */
static void human_conflict(json_t *o)
{
	char when[64];
	local_time(json_object_get(o, "seen_ms"), when, sizeof when);
	const char *name = jstr(o, "author_name");
	/* TRANSLATORS: "     2026-11-25 08:00:00 UTC  conflict Ana (9f3a...) signed two
	 * different alerts as number 7: 3fa2... and 9c1b...": when it was seen ("?"
	 * when unknown), "conflict" (a protocol word), who, her sequence number and
	 * the two alert ids. */
	printf(_("     %s  conflict %s (%s) signed two different alerts as number %lld: %.16s and "
	         "%.16s\n"),
	       when, name[0] ? name : "?", jstr(o, "author"),
	       (long long)json_integer_value(json_object_get(o, "seq")), jstr(o, "alert_a"),
	       jstr(o, "alert_b"));
}

static void human_audit(json_t *o)
{
	char when[64];
	const char *type = jstr(o, "type"), *status = jstr(o, "status");
	if (strcmp(type, "conflict") == 0) {
		human_conflict(o);
		return;
	}
	local_time(json_object_get(o, "created_ms"), when, sizeof when);
	/* TRANSLATORS: "  12 2026-11-25 08:00:00 UTC  add      by Ana (9f3a...)": the
	 * record's number, time and type (a protocol word), then who signed it. */
	printf(_("%4lld %s  %-8s by %s (%s)"),
	       (long long)json_integer_value(json_object_get(o, "n")), when, type,
	       jstr(o, "issuer_name"), jstr(o, "issuer"));
	if (json_object_get(o, "subject") && strcmp(type, "endpoint") != 0)
		printf(": %s (%s)", jstr(o, "subject_name"), jstr(o, "subject"));
	if (json_object_get(o, "role") && strcmp(type, "revoke") != 0)
		printf(_(" as %s"), jstr(o, "role"));
	if (json_object_get(o, "invited_as"))
		printf(_(" (invited as \"%s\")"), jstr(o, "invited_as"));
	if (json_object_get(o, "epoch"))
		printf(_(", epoch %lld"), (long long)json_integer_value(json_object_get(o, "epoch")));
	json_t *eps = json_object_get(o, "endpoints");
	if (json_is_array(eps) && json_array_size(eps) > 0)
		printf(": %s", json_is_string(json_array_get(eps, 0))
		                       ? json_string_value(json_array_get(eps, 0))
		                       : "");
	if (strcmp(status, "valid") != 0)
		printf("  [%s]", status);
	printf("\n");
}

static void human_peer(json_t *o)
{
	/* TRANSLATORS: "link 3    out up         9f3a... Bea": direction and state are
	 * protocol words. */
	printf(_("link %-4lld %-3s %-10s %s %s\n"),
	       (long long)json_integer_value(json_object_get(o, "link")), jstr(o, "direction"),
	       jstr(o, "state"), jstr(o, "member"), jstr(o, "name"));
}

/* A list op: "items" is a JSON array, printed one item per line with
 * --json. When shown is not NULL, each item's "id" becomes one of its keys. */
static int list_cmd(cli *c, td_ctl_op op, void (*human)(json_t *), const char *empty,
                    json_t *shown)
{
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = op;
	if (op == TD_CTL_OP_ALERTS && c->since) {
		uint64_t since;
		if (!parse_since(c->since, &since)) {
			fprintf(stderr,
			        _("tocsin: --since takes a duration (45s, 30m, 2h, 1d), a local "
			          "date or time (2026-11-25, 2026-11-25T08:30, 2026-11-25 08:30:00; "
			          "Z at the end for UTC) or Unix ms\n"));
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
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		if (shown && json_is_string(json_object_get(o, "id")))
			json_object_set_new(shown, jstr(o, "id"), json_true());
	}
	if (c->json) {
		/* JSON lines: one object per line, so `--watch` and lists read alike. */
		rc = EXIT_OK;
		json_array_foreach(arr, i, o) {
			if (json_dumpf(o, stdout, JSON_COMPACT) != 0 || fputc('\n', stdout) == EOF)
				rc = EXIT_REPLY;
		}
	} else {
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
	if (c->watch)
		return alerts_watch(c);
	return list_cmd(c, TD_CTL_OP_ALERTS, human_alert, _("no alerts"), NULL);
}

static int cmd_members(cli *c)
{
	return list_cmd(c, TD_CTL_OP_MEMBERS, human_member, _("no members"), NULL);
}

static int cmd_audit(cli *c)
{
	return list_cmd(c, TD_CTL_OP_AUDIT, human_audit, _("no roster records"), NULL);
}

static int cmd_peers(cli *c)
{
	return list_cmd(c, TD_CTL_OP_PEERS, human_peer, _("no connections"), NULL);
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
		rc = json_reply(&m);
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
		rc = json_reply(&m);
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

/* ---- issue 7: locale, terminal rendering, following a panic ---------------- */

#ifndef TN_LOCALEDIR
#define TN_LOCALEDIR "/usr/local/share/locale"
#endif

/* The user's locale for messages (and character type); catalogs from
 * TOCSIN_LOCALEDIR when set (the build tree's po/, for tests), else the
 * installed locale dir. LC_NUMERIC stays "C": numbers are printed and
 * parsed the same in every language. */
static void i18n_init(void)
{
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
#if defined(TN_HAVE_GETTEXT)
	const char *dir = getenv("TOCSIN_LOCALEDIR");
	bindtextdomain("tocsin", dir && *dir ? dir : TN_LOCALEDIR);
	bind_textdomain_codeset("tocsin", "UTF-8");
	textdomain("tocsin");
#endif
}

/* An event's fields as a JSON object (the alert's id under "id", like the
 * list); NULL when out of memory. */
static json_t *event_object(const td_ctl_msg *m)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < m->n; i++) {
		char key[TD_CTL_KEY_MAX + 1];
		memcpy(key, m->f[i].key, m->f[i].keylen);
		key[m->f[i].keylen] = '\0';
		json_t *v = to_json(&m->f[i].v);
		if (!v || json_object_set_new(o, strcmp(key, "alert") == 0 ? "id" : key, v) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* An "alert" event rendered like a list entry; false for other events. */
static bool human_alert_event(const td_ctl_msg *m)
{
	if (!td_ctl_str_is(m, "event", "alert"))
		return false;
	json_t *o = event_object(m);
	if (!o)
		return false;
	human_alert(o);
	json_decref(o);
	fflush(stdout);
	return true;
}

/* Test-only (tests/integration/test_client.sh): TOCSIN_TEST_SEAM_DELAY_MS
 * sleeps that long between the subscribe and the list request of
 * `alerts --watch`, so a test can store an alert in that window. */
static void test_seam_delay(void)
{
	const char *v = getenv("TOCSIN_TEST_SEAM_DELAY_MS");
	char *end;
	unsigned long ms = v && *v ? strtoul(v, &end, 10) : 0;
	if (ms == 0 || *end || ms > 60 * 1000)
		return;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000 * 1000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* tocsin alerts --watch: subscribe first (nothing is missed between the
 * list and the stream), print the stored alerts, then each new one as it
 * arrives until Ctrl-C (or the daemon stops: exit 0 after its "shutdown").
 * An alert stored between the subscribe and the list is in both: the ids
 * printed from the list (at most 500) are remembered and such an event is
 * skipped. */
static int alerts_watch(cli *c)
{
	ctl_conn sub;
	int rc = subscribe(c, &sub);
	if (rc >= 0)
		return rc;
	test_seam_delay();
	json_t *shown = json_object(); /* NULL (out of memory): nothing skipped */
	rc = list_cmd(c, TD_CTL_OP_ALERTS, human_alert, _("no alerts"), shown);
	fflush(stdout);
	if (rc != EXIT_OK) {
		json_decref(shown);
		ctl_close(&sub);
		return rc;
	}
	rc = print_events(c, &sub, true, shown);
	json_decref(shown);
	return rc;
}

/* A panic follows its delivery by default only for a person at a terminal:
 * the alert has already left when following starts, and a script (or the
 * desktop launcher, which has no terminal) gets control back at once. */
static bool follow_by_default(const cli *c, const char *kind)
{
	return !c->no_watch && strcmp(kind, "panic") == 0 && isatty(STDOUT_FILENO);
}

/* Over the per-author budget every member applies (docs/node.md "Pacing
 * our own alerts"): stored now, pushed when the budget refills. */
static void print_held(unsigned long long held_ms, const char *kind, const char *id)
{
	bool urgent = strcmp(kind, "panic") == 0 || strcmp(kind, "safe") == 0;
	/* TRANSLATORS: "stored; rate limit: this alert leaves in 58 s (5 urgent
	 * alerts at once, then 1 a minute) - alert 3fa2..." */
	printf(_("stored; rate limit: this alert leaves in %llu s (%s) - alert %.16s\n"),
	       (held_ms + 999) / 1000,
	       urgent ? _("5 urgent alerts at once, then 1 a minute")
	              : _("20 alerts at once, then 10 a minute"),
	       id);
}

static void print_sent(unsigned long long links, unsigned long long members, const char *id)
{
	if (links == 0) {
		printf(_("stored; no peer reachable yet - it will leave as soon as one is "
		         "(alert %.16s)\n"),
		       id);
		return;
	}
	char l[96], n[96];
	snprintf(l, sizeof l, ngettext("%llu link", "%llu links", links), links);
	snprintf(n, sizeof n, ngettext("%llu other member", "%llu other members", members),
	         members);
	/* TRANSLATORS: "stored; sent to 2 links (4 other members) - alert 3fa2..." */
	printf(_("stored; sent to %s (%s) - alert %.16s\n"), l, n, id);
}

/* A list op's items (a JSON array), or NULL with the message printed. */
static json_t *fetch_list(cli *c, td_ctl_op op, uint64_t since)
{
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = op;
	if (since)
		td_ctl_add_uint(&req.args, "since", since);
	if (net_call(c, &conn, &req, &m) >= 0)
		return NULL;
	int n;
	const char *items = f_str(&m, "items", &n);
	json_t *arr = json_loadb(items, (size_t)n, 0, NULL);
	ctl_close(&conn);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* The display name of a member by short id ("" when unknown). */
static const char *member_name(json_t *members, const char *id)
{
	size_t i;
	json_t *o;
	json_array_foreach(members, i, o) {
		if (strcmp(jstr(o, "id"), id) == 0)
			return jstr(o, "name");
	}
	return "";
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Responses to alert (full hex id) received since since_ms that were not
 * shown yet (their ids go into shown). */
static void show_responders(cli *c, const char *alert, uint64_t since_ms, json_t *shown)
{
	json_t *arr = fetch_list(c, TD_CTL_OP_ALERTS, since_ms);
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *id = jstr(o, "id");
		if (strcmp(jstr(o, "kind"), "responding") != 0 ||
		    strcmp(jstr(o, "refers_to"), alert) != 0 || json_object_get(shown, id))
			continue;
		json_object_set_new(shown, id, json_true());
		const char *name = jstr(o, "author_name");
		printf(_("%s (%s) is responding"), name[0] ? name : "?", jstr(o, "author"));
		if (json_object_get(o, "text"))
			printf(": %s", jstr(o, "text"));
		printf("\n");
	}
	json_decref(arr);
	fflush(stdout);
}

/* After a panic at a terminal (or with --watch): delivered k / N live, with
 * the name of each member whose device stored it, and who is responding,
 * until Ctrl-C. sub was subscribed before the alert was sent. */
static int follow_alert(cli *c, ctl_conn *sub, const char *alert)
{
	catch_sigint();
	uint64_t t0 = mono_ms(), since = wall_ms() - 60 * 1000;
	json_t *members = fetch_list(c, TD_CTL_OP_MEMBERS, 0);
	json_t *shown = json_object();
	long long last_k = -1, last_n = -1;
	int rc = EXIT_OK;
	bool shutdown = false;
	printf(_("following delivery; Ctrl-C stops following (the alert stays sent)\n"));
	fflush(stdout);
	while (!interrupted) {
		td_ctl_msg e;
		ctl_status st = ctl_recv(sub, &e, 500);
		if (interrupted)
			break;
		if (st == CTL_CLOSED && shutdown) {
			printf(_("tocsind stopped; the alert is stored and leaves when it runs "
			         "again\n"));
			rc = EXIT_UNREACHABLE;
			break;
		}
		if (st != CTL_OK && st != CTL_TIMEOUT) {
			rc = lost(st, sub);
			break;
		}
		if (st == CTL_OK && td_ctl_event_check(&e) == TN_OK) {
			shutdown = shutdown || td_ctl_str_is(&e, "event", "shutdown");
			if (td_ctl_str_is(&e, "event", "receipt") &&
			    td_ctl_str_is(&e, "alert", alert)) {
				int rn;
				const char *r = f_str(&e, "receiver", &rn);
				char rid[64];
				snprintf(rid, sizeof rid, "%.*s", rn, r);
				const char *name = member_name(members, rid);
				if (!name[0]) { /* joined since we asked */
					json_decref(members);
					members = fetch_list(c, TD_CTL_OP_MEMBERS, 0);
					name = member_name(members, rid);
				}
				last_k = (long long)f_uint(&e, "delivered");
				last_n = (long long)f_uint(&e, "members");
				/* TRANSLATORS: "delivered 3 / 4: Bea (9f3a...) after 0.4 s" */
				printf(_("delivered %lld / %lld: %s (%s) after %.1f s\n"), last_k,
				       last_n, name[0] ? name : "?", rid,
				       (double)(mono_ms() - t0) / 1000.0);
				fflush(stdout);
				continue;
			}
			if (td_ctl_str_is(&e, "event", "alert") &&
			    td_ctl_str_is(&e, "kind", "responding"))
				show_responders(c, alert, since, shown);
			continue;
		}
		/* No event for a while: the count may still have moved (a member
		 * revoked, a receipt before we subscribed). */
		ctl_conn conn;
		td_ctl_msg m;
		int src = alert_status(c, alert, &conn, &m);
		if (src >= 0) {
			rc = src;
			break;
		}
		long long k = (long long)f_uint(&m, "delivered"),
		          n = (long long)f_uint(&m, "members");
		unsigned long long links = f_uint(&m, "links");
		ctl_close(&conn);
		if (k != last_k || n != last_n) {
			printf(_("delivered %lld / %lld\n"), k, n);
			if (links == 0 && k < n)
				printf(_("no peer reachable yet - the alert leaves as soon as one "
				         "is\n"));
			fflush(stdout);
			last_k = k;
			last_n = n;
		}
	}
	if (interrupted)
		printf(_("\nstopped following; the alert stays sent (tocsin alerts shows "
		         "delivered k / N)\n"));
	json_decref(members);
	json_decref(shown);
	ctl_close(sub);
	return rc;
}

/* A hint after a refusal, for the mistakes people make. */
static void print_refusal_hint(const cli *c, const td_ctl_msg *m)
{
	int n;
	const char *msg = f_str(m, "message", &n);
	char text[TD_CTL_STR_MAX + 1];
	snprintf(text, sizeof text, "%.*s", n, msg);
	bool revoke = c->cmd && c->cmd->run == cmd_revoke;
	bool respond = c->cmd && c->cmd->run == cmd_respond;
	if (td_ctl_str_is(m, "error", "no_network"))
		fprintf(stderr,
		        _("hint: this device is not a member of a network yet: join one with "
		          "tocsin join CODE --name NAME (after tocsin init), or found one with "
		          "tocsin network create NAME\n"));
	else if (td_ctl_str_is(m, "error", "not_coordinator"))
		fprintf(stderr, _("hint: only a coordinator can do this; tocsin members shows who "
		                  "the coordinators are\n"));
	else if (td_ctl_str_is(m, "error", "not_found") && revoke)
		fprintf(stderr, _("hint: no member has that name; tocsin members lists the names "
		                  "and ids\n"));
	else if (td_ctl_str_is(m, "error", "not_found") && respond)
		fprintf(stderr,
		        _("hint: no alert has an id starting like that; tocsin alerts lists "
		          "the ids\n"));
	else if (td_ctl_str_is(m, "error", "invalid") && revoke && strstr(text, " matches "))
		fprintf(stderr, _("hint: several members match; give more digits of the "
		                  "fingerprint (tocsin members shows them)\n"));
	else if (td_ctl_str_is(m, "error", "invalid") && respond && strstr(text, "have ids"))
		fprintf(stderr, _("hint: several alerts match; give more digits of the id "
		                  "(tocsin alerts shows them)\n"));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned mo, unsigned d)
{
	y -= mo <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (mo + (mo > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "2026-11-25", "2026-11-25T08:30", "2026-11-25 08:30:15", each with an
 * optional "Z" (UTC; else local time), as Unix ms. */
static bool parse_iso_time(const char *s, uint64_t *out_ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
		return false;
	const char *p = s + used;
	if (*p == 'T' || *p == ' ') {
		int u2 = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &u2) != 2 || u2 != 5)
			return false;
		p += 1 + u2;
		if (*p == ':') {
			int u3 = 0;
			if (sscanf(p + 1, "%2d%n", &sec, &u3) != 1 || u3 != 2)
				return false;
			p += 1 + u3;
		}
	}
	bool utc = *p == 'Z';
	if (utc)
		p++;
	if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || h < 0 || mi < 0 || sec < 0)
		return false;
	int64_t t;
	if (utc) {
		t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
		    sec;
	} else {
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		tm.tm_isdst = -1;
		time_t tt = mktime(&tm);
		if (tt == (time_t)-1)
			return false;
		t = (int64_t)tt;
	}
	if (t < 0)
		return false;
	*out_ms = (uint64_t)t * 1000u;
	return true;
}

/* ---- wipe ---------------------------------------------------------------- */

/* Ask on the terminal; only the word "wipe" goes on. */
static bool confirm_wipe(const cli *c)
{
	printf(_("This overwrites and deletes this device's keys, its alerts and its network\n"
	         "membership (%s). It cannot be undone: to take part again this device\n"
	         "must be initialised and invited again.\n"
	         "Type wipe to go on: "),
	       c->paths.data_dir);
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof line, stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "wipe") == 0;
}

/* Until the daemon that held lfd's lock has exited (the kernel frees the
 * flock when it dies). lfd < 0: until the control socket stops answering. */
static bool wait_daemon_gone(const cli *c, int lfd, int timeout_ms)
{
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (lfd >= 0) {
			if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
				return true;
		} else {
			ctl_conn probe;
			if (ctl_connect(&probe, c->paths.control_socket) != CTL_OK)
				return true;
			ctl_close(&probe);
		}
		if (mono_ms() >= end)
			return false;
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* The daemon's wipe op: reply first, then it stops and wipes. */
static int wipe_online(cli *c, bool *done)
{
	int lfd = open(c->paths.lock_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ctl_conn conn;
	td_ctl_msg m;
	td_ctl_req req;
	memset(&req, 0, sizeof req);
	req.op = TD_CTL_OP_WIPE;
	req.id = 1;
	td_ctl_add_str(&req.args, "confirm", "wipe");
	int rc = call(c, &conn, &req, &m, TIMEOUT_MS);
	if (rc < 0) {
		rc = f_bool(&m, "ok") ? -1 : refused(c, &m);
		ctl_close(&conn);
	}
	if (rc < 0 && !wait_daemon_gone(c, lfd, 30 * 1000)) {
		fprintf(stderr, _("tocsin: tocsind accepted the wipe but is still running after 30 s\n"));
		rc = EXIT_REPLY;
	}
	if (lfd >= 0)
		close(lfd);
	*done = rc < 0;
	return rc;
}

/* With no daemon: hold the home lock (so none starts meanwhile), then wipe
 * what is there. Also run after the daemon's wipe, to catch anything left
 * by a daemon that died half way. */
static int wipe_offline(cli *c, td_wipe_stats *st)
{
	char err[TD_PATH_MAX + 256];
	td_lock lock = {-1};
	struct stat sb;
	if (lstat(c->paths.data_dir, &sb) == 0) {
		tn_err lr = td_lock_acquire(&lock, c->paths.lock_file, err, sizeof err);
		if (lr == TN_ERR_INUSE) {
			fprintf(stderr,
			        _("tocsin: %s\ntocsin: its control socket does not answer: stop it, then "
			          "run tocsin wipe again\n"),
			        err);
			return EXIT_UNREACHABLE;
		}
		/* Another failure (not our directory, ...): td_wipe_home says why. */
	}
	tn_err rc = td_wipe_home(&c->paths, st, err, sizeof err);
	td_lock_release(&lock);
	if (rc != TN_OK) {
		fprintf(stderr, _("tocsin: wipe incomplete (%lu entries left): %s\n"), st->failed, err);
		return EXIT_REPLY;
	}
	return -1;
}

static int cmd_wipe(cli *c)
{
	if (!c->yes) {
		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr, _("tocsin: wipe deletes this device's keys and history for good; "
			                  "without a terminal to confirm on, pass --yes\n"));
			return EXIT_USAGE;
		}
		if (!confirm_wipe(c)) {
			fprintf(stderr, _("tocsin: not confirmed: nothing was wiped\n"));
			return EXIT_USAGE;
		}
	}
	bool daemon = false;
	ctl_conn probe;
	if (ctl_connect(&probe, c->paths.control_socket) == CTL_OK) {
		ctl_close(&probe);
		int rc = wipe_online(c, &daemon);
		if (rc >= 0)
			return rc;
	} else if (probe.err == EACCES || probe.err == EPERM) {
		return unreachable(c, &probe);
	}
	td_wipe_stats st;
	memset(&st, 0, sizeof st);
	int rc = wipe_offline(c, &st);
	if (rc >= 0)
		return rc;
	if (c->json) {
		printf("{\"wiped\": true, \"daemon_stopped\": %s, \"files\": %lu, \"bytes\": %llu}\n",
		       daemon ? "true" : "false", st.files, st.bytes);
		return EXIT_OK;
	}
	if (daemon)
		printf(_("tocsind overwrote and deleted %s and stopped\n"), c->paths.data_dir);
	else
		printf(_("overwrote and deleted %s: %lu files, %llu bytes (no daemon was running)\n"),
		       c->paths.data_dir, st.files, st.bytes);
	printf(_("note: overwriting cannot guarantee erasure on SSDs and flash, on journaling or\n"
	         "copy-on-write filesystems, in snapshots or backups; full-disk encryption is\n"
	         "what protects a seized laptop (docs/security.md)\n"));
	return EXIT_OK;
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
		} else if (strcmp(a, "--no-watch") == 0) {
			c->no_watch = true;
		} else if (strcmp(a, "--qr") == 0) {
			c->qr = true;
		} else if (strcmp(a, "--wait") == 0) {
			c->wait = true;
		} else if (strcmp(a, "--yes") == 0) {
			c->yes = true;
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
	if (c->yes && (*cmd)->run != cmd_wipe) {
		fprintf(stderr, _("tocsin: --yes is for wipe\n"));
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
	i18n_init();
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
		fprintf(stderr, _("tocsin: libsodium failed to initialise\n"));
		return EXIT_REPLY;
	}
	char cwd[TD_PATH_MAX], err[TD_PATH_MAX + 256];
	td_env env;
	td_env_from_process(&env, cwd, sizeof cwd);
	if (td_paths_resolve(&c.paths, &env, c.home, NULL, err, sizeof err) != TN_OK) {
		fprintf(stderr, "tocsin: %s\n", err);
		return EXIT_USAGE;
	}
	if (c.watch && c.no_watch) {
		fprintf(stderr, _("tocsin: --watch and --no-watch contradict each other\n"));
		return EXIT_USAGE;
	}
	c.cmd = cmd;
	return cmd->run(&c);
}
