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
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
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

typedef struct cli {
	const char *home;     /* --home */
	const char *passfile; /* init --passphrase-file */
	bool json;
	bool help;
	td_paths paths;
} cli;

typedef struct command {
	const char *name;
	int (*run)(cli *c);
	const char *usage; /* after "tocsin " */
	const char *summary;
	bool takes_passfile;
} command;

static int cmd_version(cli *c);
static int cmd_status(cli *c);
static int cmd_init(cli *c);
static int cmd_id(cli *c);
static int cmd_watch(cli *c);

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

/* ---- command line ---------------------------------------------------------- */

/* Options may come before or after the command. Returns -1 to go on, or an
 * exit status. */
static int parse(int argc, char **argv, cli *c, const command **cmd, bool *help_cmd)
{
	const char *name = NULL, *arg = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--home") == 0 || strcmp(a, "--passphrase-file") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, _("tocsin: %s needs an argument\n"), a);
				return EXIT_USAGE;
			}
			*(a[2] == 'h' ? &c->home : &c->passfile) = argv[++i];
		} else if (strncmp(a, "--home=", 7) == 0) {
			c->home = a + 7;
		} else if (strncmp(a, "--passphrase-file=", 18) == 0) {
			c->passfile = a + 18;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			c->help = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, _("tocsin: unknown option '%s'\n"), a);
			return EXIT_USAGE;
		} else if (!name) {
			name = a;
		} else if (!arg) {
			arg = a;
		} else {
			fprintf(stderr, _("tocsin: unexpected argument '%s'\n"), a);
			return EXIT_USAGE;
		}
	}
	*help_cmd = name && strcmp(name, "help") == 0;
	if (*help_cmd) {
		name = arg;
		arg = NULL;
		c->help = true;
	}
	if (!name)
		return -1; /* no command: usage */
	*cmd = find_command(name);
	if (!*cmd) {
		fprintf(stderr, _("tocsin: unknown command '%s'\n"), name);
		return EXIT_USAGE;
	}
	if (arg) {
		fprintf(stderr, _("tocsin: unexpected argument '%s'\n"), arg);
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
