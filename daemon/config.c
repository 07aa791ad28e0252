/* tocsind configuration (see config.h). libinih does the INI syntax; this
 * file maps it strictly onto td_config and gives every error a line. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "log.h"

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen,
							   const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- value parsers -------------------------------------------------- */

/* Decimal digits only: no sign, no spaces, no hex, no empty string. */
static tn_err parse_uint(const char *v, unsigned min, unsigned max, unsigned *out, char *err,
			 size_t errlen)
{
	unsigned long long n = 0;
	size_t i = 0;
	for (; v[i] >= '0' && v[i] <= '9' && i < 10; i++)
		n = n * 10 + (unsigned)(v[i] - '0');
	if (i == 0 || v[i] != '\0' || n < min || n > max) {
		set_err(err, errlen, "expected an integer from %u to %u, got '%.40s'", min, max, v);
		return TN_ERR_CONFIG;
	}
	*out = (unsigned)n;
	return TN_OK;
}

static tn_err parse_port(const char *v, unsigned *port, char *err, size_t errlen)
{
	return parse_uint(v, 0, 65535, port, err, errlen);
}

static tn_err parse_v6(const char *s, struct sockaddr_storage *ss, char *canon, size_t canonlen,
		       char *err, size_t errlen)
{
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN];
	size_t hlen = close ? (size_t)(close - s - 1) : 0;
	if (!close || close[1] != ':' || hlen == 0 || hlen >= sizeof host) {
		set_err(err, errlen, "expected [IPv6]:PORT, got '%.60s'", s);
		return TN_ERR_CONFIG;
	}
	memcpy(host, s + 1, hlen);
	host[hlen] = '\0';
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	unsigned port;
	if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
		set_err(err, errlen, "not a numeric IPv6 address: '%s'", host);
		return TN_ERR_CONFIG;
	}
	if (parse_port(close + 2, &port, err, errlen) != TN_OK)
		return TN_ERR_CONFIG;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons((uint16_t)port);
	inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
	snprintf(canon, canonlen, "[%s]:%u", host, port);
	return TN_OK;
}

static tn_err parse_v4(const char *s, struct sockaddr_storage *ss, char *canon, size_t canonlen,
		       char *err, size_t errlen)
{
	const char *colon = strchr(s, ':');
	char host[INET_ADDRSTRLEN];
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	if (colon && strchr(colon + 1, ':')) {
		set_err(err, errlen, "IPv6 addresses need brackets, as in [::1]:7450");
		return TN_ERR_CONFIG;
	}
	if (!colon || hlen == 0 || hlen >= sizeof host) {
		set_err(err, errlen, "expected HOST:PORT, got '%.60s'", s);
		return TN_ERR_CONFIG;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	unsigned port;
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
		set_err(err, errlen, "not a numeric IPv4 address: '%s' (no host names)", host);
		return TN_ERR_CONFIG;
	}
	if (parse_port(colon + 1, &port, err, errlen) != TN_OK)
		return TN_ERR_CONFIG;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
	snprintf(canon, canonlen, "%s:%u", host, port);
	return TN_OK;
}

tn_err td_parse_hostport(const char *s, struct sockaddr_storage *ss, char *canon, size_t canonlen,
			 char *err, size_t errlen)
{
	struct sockaddr_storage tmp;
	char text[TD_ADDRSTR_MAX];
	memset(&tmp, 0, sizeof tmp);
	tn_err rc = (s[0] == '[') ? parse_v6(s, &tmp, text, sizeof text, err, errlen)
				  : parse_v4(s, &tmp, text, sizeof text, err, errlen);
	if (rc != TN_OK)
		return rc;
	*ss = tmp;
	snprintf(canon, canonlen, "%s", text);
	return TN_OK;
}

/* ---- one setter per key ---------------------------------------------- */

static tn_err set_listen(td_config *c, const char *v, char *err, size_t errlen)
{
	return td_parse_hostport(v, &c->listen, c->listen_str, sizeof c->listen_str, err, errlen);
}

/* The address put in invites and our endpoint record when listen is a
 * wildcard (0.0.0.0, ::): numeric like listen, since peers dial it the
 * same way. */
static tn_err set_advertise(td_config *c, const char *v, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (!v[0]) {
		c->advertise[0] = '\0';
		return TN_OK;
	}
	return td_parse_hostport(v, &ss, c->advertise, sizeof c->advertise, err, errlen);
}

static tn_err set_degree(td_config *c, const char *v, char *err, size_t errlen)
{
	return parse_uint(v, TD_DEGREE_MIN, TD_DEGREE_MAX, &c->degree, err, errlen);
}

static tn_err set_max_inbound(td_config *c, const char *v, char *err, size_t errlen)
{
	return parse_uint(v, 0, TD_INBOUND_MAX, &c->max_inbound, err, errlen);
}

static tn_err set_keepalive(td_config *c, const char *v, char *err, size_t errlen)
{
	return parse_uint(v, TD_KEEPALIVE_MIN_S, TD_KEEPALIVE_MAX_S, &c->keepalive_s, err, errlen);
}

/* Run later without a shell (execv), so it must be an absolute path: a
 * relative one would depend on the daemon's cwd and PATH. */
static tn_err set_on_alert(td_config *c, const char *v, char *err, size_t errlen)
{
	size_t len = strlen(v);
	if (len > 0 && v[0] != '/') {
		set_err(err, errlen, "must be an absolute path (run without a shell), got '%.60s'",
			v);
		return TN_ERR_CONFIG;
	}
	if (len >= sizeof c->on_alert) {
		set_err(err, errlen, "path longer than %zu bytes", sizeof c->on_alert - 1);
		return TN_ERR_CONFIG;
	}
	memcpy(c->on_alert, v, len + 1);
	return TN_OK;
}

static tn_err set_bool(bool *b, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*b = (v[0] == 't');
		return TN_OK;
	}
	set_err(err, errlen, "expected true or false, got '%.40s'", v);
	return TN_ERR_CONFIG;
}

static tn_err set_desktop(td_config *c, const char *v, char *err, size_t errlen)
{
	return set_bool(&c->desktop, v, err, errlen);
}

static tn_err set_desktop_details(td_config *c, const char *v, char *err, size_t errlen)
{
	return set_bool(&c->desktop_details, v, err, errlen);
}

static tn_err set_level(td_config *c, const char *v, char *err, size_t errlen)
{
	if (td_log_level_parse(v, &c->log_level) == TN_OK)
		return TN_OK;
	set_err(err, errlen, "expected err, warn, info or debug, got '%.40s'", v);
	return TN_ERR_CONFIG;
}

typedef tn_err (*setter_fn)(td_config *c, const char *v, char *err, size_t errlen);

static const struct key_spec {
	const char *section;
	const char *key;
	setter_fn set;
} keys[] = {
	{"network", "listen", set_listen},
	{"network", "advertise", set_advertise},
	{"links", "degree", set_degree},
	{"links", "max_inbound", set_max_inbound},
	{"links", "keepalive", set_keepalive},
	{"notify", "on_alert", set_on_alert},
	{"notify", "desktop", set_desktop},
	{"notify", "desktop_details", set_desktop_details},
	{"log", "level", set_level},
};
enum { NKEYS = sizeof keys / sizeof keys[0] };

static bool known_section(const char *section)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/* Index into keys[], or -1 with err set. */
static int find_key(const char *section, const char *key, char *err, size_t errlen)
{
	if (section[0] == '\0') {
		set_err(err, errlen, "key '%.40s' outside any [section]", key);
		return -1;
	}
	if (!known_section(section)) {
		set_err(err, errlen, "unknown section [%.40s]", section);
		return -1;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
			return (int)i;
	set_err(err, errlen, "unknown key '%.40s' in [%s]", key, section);
	return -1;
}

void td_config_default(td_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	char unused[8];
	tn_err rc = td_parse_hostport("127.0.0.1:7450", &cfg->listen, cfg->listen_str,
				      sizeof cfg->listen_str, unused, sizeof unused);
	(void)rc; /* a constant that parses */
	cfg->degree = TD_DEGREE_DEFAULT;
	cfg->max_inbound = TD_INBOUND_DEFAULT;
	cfg->keepalive_s = TD_KEEPALIVE_DEFAULT_S;
	cfg->desktop = true;
	cfg->desktop_details = true;
	cfg->log_level = TN_LOG_INFO;
}

static tn_err apply(td_config *cfg, int idx, const char *value, char *err, size_t errlen)
{
	char why[TD_CONFIG_ERR_MAX];
	td_config tmp = *cfg;
	if (keys[idx].set(&tmp, value, why, sizeof why) != TN_OK) {
		set_err(err, errlen, "[%s] %s: %s", keys[idx].section, keys[idx].key, why);
		return TN_ERR_CONFIG;
	}
	*cfg = tmp;
	return TN_OK;
}

tn_err td_config_set(td_config *cfg, const char *section, const char *key, const char *value,
		     char *err, size_t errlen)
{
	int idx = find_key(section, key, err, errlen);
	return idx < 0 ? TN_ERR_CONFIG : apply(cfg, idx, value, err, errlen);
}

/* ---- file parsing ----------------------------------------------------- */

/* libinih reads through this fgets-style reader, so we know the line
 * number of every handler call and see overlong lines and NUL bytes (which
 * inih would silently split or truncate). */
typedef struct parse_ctx {
	td_config cfg;
	const char *p;
	size_t left;
	int line;         /* lines handed to inih so far = current line */
	int err_line;     /* first error found by us, 0 if none */
	char err[TD_CONFIG_ERR_MAX];
	int seen[NKEYS];  /* line where each key was set, 0 if not yet */
} parse_ctx;

__attribute__((format(printf, 2, 3))) static void fail(parse_ctx *c, const char *fmt, ...)
{
	if (c->err_line)
		return; /* keep the first */
	c->err_line = c->line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* inih only calls the handler for keys, so an empty unknown section would
 * pass unseen; check every section header here. */
static void check_header(parse_ctx *c, const char *line)
{
	const char *s = skip_ws(line);
	if (c->line == 1 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
	    (unsigned char)s[2] == 0xbf)
		s += 3; /* UTF-8 BOM, which inih also skips */
	if (*s != '[')
		return;
	const char *end = strchr(s, ']');
	if (!end)
		return; /* inih reports the syntax error */
	char name[64];
	size_t n = (size_t)(end - s - 1);
	if (n >= sizeof name) {
		fail(c, "unknown section [%.40s...]", s + 1);
		return;
	}
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (!known_section(name))
		fail(c, "unknown section [%s]", name);
}

static char *reader(char *str, int num, void *stream)
{
	parse_ctx *c = stream;
	if (c->left == 0 || num < 2)
		return NULL;
	const char *nl = memchr(c->p, '\n', c->left);
	size_t len = nl ? (size_t)(nl - c->p) + 1 : c->left;
	c->line++;
	/* inih needs room for "\r\n\0" beyond the text (ini.h). */
	if (len + 1 > (size_t)num) {
		fail(c, "line longer than %d bytes", num - 3);
		str[0] = '\0';
	} else if (memchr(c->p, '\0', len)) {
		fail(c, "NUL byte in line");
		str[0] = '\0';
	} else {
		memcpy(str, c->p, len);
		str[len] = '\0';
		check_header(c, str);
	}
	c->p += len;
	c->left -= len;
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	parse_ctx *c = user;
	char why[TD_CONFIG_ERR_MAX];
	int idx = find_key(section, name, why, sizeof why);
	if (idx < 0) {
		fail(c, "%s", why);
		return 0;
	}
	if (c->seen[idx]) {
		fail(c, "duplicate key '%s' in [%s] (first set on line %d)", name, section,
		     c->seen[idx]);
		return 0;
	}
	c->seen[idx] = c->line;
	if (apply(&c->cfg, idx, value, why, sizeof why) != TN_OK) {
		fail(c, "%s", why);
		return 0;
	}
	return 1;
}

tn_err td_config_parse(td_config *cfg, const char *buf, size_t len, const char *name, char *err,
		       size_t errlen)
{
	parse_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		set_err(err, errlen, "%s: out of memory", name);
		return TN_ERR_NOMEM;
	}
	c->cfg = *cfg;
	c->p = buf;
	c->left = len;
	int r = ini_parse_stream(reader, c, handler, c);
	tn_err rc = TN_OK;
	if (r > 0 && (c->err_line == 0 || r < c->err_line)) {
		set_err(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
			name, r);
		rc = TN_ERR_CONFIG;
	} else if (r != 0 || c->err_line) {
		set_err(err, errlen, "%s:%d: %s", name, c->err_line, c->err);
		rc = TN_ERR_CONFIG;
	} else {
		*cfg = c->cfg;
	}
	free(c);
	return rc;
}

/* on_alert runs a command named in this file: a file others can write
 * would let them run code as us. */
static tn_err check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		set_err(err, errlen, "%s: cannot stat: %s", path, strerror(e));
		return TN_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		return TN_ERR_CONFIG;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		set_err(err, errlen,
			"%s: must be owned by uid %u and not writable by group or others "
			"(it names a command to run); try chmod 600",
			path, (unsigned)geteuid());
		return TN_ERR_CONFIG;
	}
	if (st.st_size > TD_CONFIG_FILE_MAX) {
		set_err(err, errlen, "%s: larger than %d bytes", path, TD_CONFIG_FILE_MAX);
		return TN_ERR_CONFIG;
	}
	return TN_OK;
}

static tn_err read_all(int fd, const char *path, char *buf, size_t cap, size_t *len, char *err,
		       size_t errlen)
{
	size_t off = 0;
	for (;;) {
		ssize_t n = read(fd, buf + off, cap - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			set_err(err, errlen, "%s: read failed: %s", path, strerror(e));
			return TN_ERR_IO;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == cap) {
			set_err(err, errlen, "%s: larger than %zu bytes", path, cap - 1);
			return TN_ERR_CONFIG;
		}
	}
	*len = off;
	return TN_OK;
}

tn_err td_config_load(td_config *cfg, const char *path, bool must_exist, bool *found, char *err,
		      size_t errlen)
{
	*found = false;
	/* O_NONBLOCK: a FIFO named as the config must not hang startup or a
	 * reload; check_file() then refuses anything but a regular file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && !must_exist)
			return TN_OK;
		set_err(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return TN_ERR_IO;
	}
	/* One byte more than the cap tells "exactly at the cap" from "over". */
	char *buf = malloc(TD_CONFIG_FILE_MAX + 1);
	size_t len = 0;
	tn_err rc = buf ? check_file(fd, path, err, errlen) : TN_ERR_NOMEM;
	if (rc == TN_OK)
		rc = read_all(fd, path, buf, TD_CONFIG_FILE_MAX + 1, &len, err, errlen);
	close(fd);
	if (rc == TN_OK) {
		*found = true;
		rc = td_config_parse(cfg, buf, len, path, err, errlen);
	}
	free(buf);
	return rc;
}
