/* tocsind: lifecycle, signals, listener, reload (see daemon.h). */
#define _POSIX_C_SOURCE 200809L
#include "daemon.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#if defined(TD_HAVE_SYSTEMD)
#include <systemd/sd-daemon.h>
#endif

#include "config.h"
#include "conn.h"
#include "control.h"
#include "daemon_limits.h"
#include "expiry.h"
#include "keystore_file.h"
#include "lock.h"
#include "log.h"
#include "mesh.h"
#include "passfile.h"
#include "paths.h"
#include "store.h"
#include "tocsin/identity.h"
#include "wipe.h"

#ifndef TD_VERSION
#define TD_VERSION "unknown"
#endif

typedef struct td_daemon {
	uv_loop_t loop;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_tcp_t listener;
	td_log log;
	td_opts opts;
	td_paths paths;
	td_config cfg;
	td_store *store;
	td_lock lock;
	td_mesh *mesh;
	char mesh_line[256];
	char counters_line[4096];
	td_control *ctl;
	td_ctl_host host;
	tn_identity *identity; /* NULL until tocsin init */
	tn_time started;
	char bound[TD_ADDRSTR_MAX];
	td_ratelimit accept_rl;
	bool listener_open;
	bool stopping;
	td_expiry expiry;      /* expired alerts purged (expiry.h) */
	uv_timer_t wipe_timer; /* tocsin wipe: stops the loop after the reply */
	bool wipe;             /* wipe the data dir once the store is closed */
} td_daemon;

static tn_time hr_clock(void *ud)
{
	(void)ud;
	return uv_hrtime();
}

/* Type=notify readiness (daemon/tocsind.service). A no-op outside systemd
 * or when built without libsystemd. */
static void notify(const char *state)
{
#if defined(TD_HAVE_SYSTEMD)
	(void)sd_notify(0, state);
#else
	(void)state;
#endif
}

/* ---- configuration ---------------------------------------------------- */

/* Flags beat the file, at start and at every reload. An error reads
 * "--flag: [section] key: reason". */
static tn_err apply_flag(td_config *cfg, const char *flag, const char *section, const char *key,
			 const char *value, char *err, size_t errlen)
{
	if (!value)
		return TN_OK;
	int n = snprintf(err, errlen, "%s: ", flag);
	size_t off = (n > 0 && (size_t)n < errlen) ? (size_t)n : 0;
	return td_config_set(cfg, section, key, value, err + off, errlen - off);
}

static tn_err apply_flags(td_config *cfg, const td_opts *o, char *err, size_t errlen)
{
	tn_err rc = apply_flag(cfg, "--listen", "network", "listen", o->listen, err, errlen);
	if (rc == TN_OK)
		rc = apply_flag(cfg, "--log-level", "log", "level", o->log_level, err, errlen);
	return rc;
}

/* Defaults, then the file, then the flags. *cfg is written only on success. */
static tn_err load_config(td_daemon *d, td_config *cfg, bool *found, char *err, size_t errlen)
{
	td_config next;
	td_config_default(&next);
	tn_err rc = td_config_load(&next, d->paths.config_file, d->paths.config_explicit, found,
				   err, errlen);
	if (rc == TN_OK)
		rc = apply_flags(&next, &d->opts, err, errlen);
	if (rc == TN_OK)
		*cfg = next;
	return rc;
}

static void reload(td_daemon *d)
{
	char err[TD_CONFIG_ERR_MAX];
	td_config next;
	bool found = false;
	notify("RELOADING=1");
	td_info(&d->log, "reload_start config=%s", d->paths.config_file);
	if (load_config(d, &next, &found, err, sizeof err) != TN_OK) {
		td_err(&d->log, "reload_failed kept=previous error=\"%s\"", err);
		notify("READY=1");
		return;
	}
	/* Rebinding the listener is not done yet: keep the bound address and
	 * say so, rather than half-apply the change. */
	if (strcmp(next.listen_str, d->cfg.listen_str) != 0)
		td_warn(&d->log, "reload_listen_ignored configured=%s active=%s reason=restart_required",
			next.listen_str, d->cfg.listen_str);
	/* The node's link settings are fixed when it is created. */
	if (next.degree != d->cfg.degree || next.max_inbound != d->cfg.max_inbound ||
	    next.keepalive_s != d->cfg.keepalive_s)
		td_warn(&d->log, "reload_links_ignored reason=restart_required");
	next.listen = d->cfg.listen;
	memcpy(next.listen_str, d->cfg.listen_str, sizeof next.listen_str);
	d->cfg = next;
	d->log.level = next.log_level;
	td_mesh_config_changed(d->mesh);
	td_info(&d->log, "reload_ok config=%s found=%s level=%s degree=%u max_inbound=%u keepalive=%u",
		d->paths.config_file, found ? "yes" : "no", td_log_level_name(next.log_level),
		next.degree, next.max_inbound, next.keepalive_s);
	notify("READY=1");
}

/* ---- signals and shutdown --------------------------------------------- */

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Each owner closes its own handles: the control server must first get
 * the shutdown event to its subscribers, so a blanket uv_walk close (which
 * would cancel those writes) is only for the failed-start path. */
static void shutdown_loop(td_daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	notify("STOPPING=1");
	td_info(&d->log, "shutdown reason=%s links=%zu subscribers=%u", why,
		d->mesh ? td_mesh_links(d->mesh) : 0, td_control_subscribers(d->ctl));
	td_control_stop(d->ctl, why);
	td_mesh_stop(d->mesh);
	td_expiry_stop(&d->expiry);
	if (d->listener_open)
		close_handle((uv_handle_t *)&d->listener);
	close_handle((uv_handle_t *)&d->sig_term);
	close_handle((uv_handle_t *)&d->sig_int);
	close_handle((uv_handle_t *)&d->sig_hup);
	if (d->wipe)
		close_handle((uv_handle_t *)&d->wipe_timer);
}

static void on_signal(uv_signal_t *h, int signum)
{
	td_daemon *d = h->data;
	if (signum == SIGHUP)
		reload(d);
	else
		shutdown_loop(d, signum == SIGTERM ? "sigterm" : "sigint");
}

static tn_err start_signals(td_daemon *d)
{
	uv_signal_t *hs[] = {&d->sig_term, &d->sig_int, &d->sig_hup};
	int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	for (size_t i = 0; i < 3; i++) {
		uv_signal_init(&d->loop, hs[i]);
		hs[i]->data = d;
		int rc = uv_signal_start(hs[i], on_signal, sigs[i]);
		if (rc != 0) {
			td_err(&d->log, "signal_error signal=%d error=%s", sigs[i], uv_err_name(rc));
			return TN_ERR_IO;
		}
	}
	return TN_OK;
}

/* ---- listener ----------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
	td_daemon *d = server->data;
	if (status < 0) {
		/* EMFILE and friends: libuv keeps the listener alive. */
		td_log_limited(&d->log, &d->accept_rl, TN_LOG_WARN, "accept_error error=%s",
			       uv_err_name(status));
		return;
	}
	if (!d->stopping)
		td_mesh_accept(d->mesh, server);
}

/* The bound address, with the real port when the config asked for 0. */
static void bound_name(td_daemon *d, char *out, size_t len)
{
	struct sockaddr_storage ss;
	int n = sizeof ss;
	char host[64] = "?";
	unsigned port = 0;
	if (uv_tcp_getsockname(&d->listener, (struct sockaddr *)&ss, &n) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, host, sizeof host);
			port = ntohs(a->sin6_port);
			snprintf(out, len, "[%s]:%u", host, port);
			return;
		}
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		uv_ip4_name(a, host, sizeof host);
		port = ntohs(a->sin_port);
	}
	snprintf(out, len, "%s:%u", host, port);
}

static tn_err start_listener(td_daemon *d, char *bound, size_t len)
{
	uv_tcp_init(&d->loop, &d->listener);
	d->listener.data = d;
	d->listener_open = true;
	int rc = uv_tcp_bind(&d->listener, (const struct sockaddr *)&d->cfg.listen, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&d->listener, 64, on_connection);
	if (rc != 0) {
		td_err(&d->log, "listen_error addr=%s error=%s msg=\"%s\"", d->cfg.listen_str,
		       uv_err_name(rc), uv_strerror(rc));
		return TN_ERR_IO;
	}
	bound_name(d, bound, len);
	return TN_OK;
}

/* ---- startup ------------------------------------------------------------ */

static void path_note(void *ud, const char *msg)
{
	td_warn(ud, "%s", msg);
}

static int prepare_paths(td_daemon *d)
{
	char err[TD_CONFIG_ERR_MAX + TD_PATH_MAX];
	char cwd[TD_PATH_MAX];
	td_env env;
	td_env_from_process(&env, cwd, sizeof cwd);
	if (td_paths_resolve(&d->paths, &env, d->opts.home, d->opts.config, err, sizeof err)) {
		td_err(&d->log, "paths_error error=\"%s\"", err);
		return TD_EXIT_USAGE;
	}
	return TD_EXIT_OK;
}

static int prepare_config(td_daemon *d)
{
	char err[TD_CONFIG_ERR_MAX];
	bool found = false;
	if (load_config(d, &d->cfg, &found, err, sizeof err) != TN_OK) {
		td_err(&d->log, "config_error error=\"%s\"", err);
		return TD_EXIT_USAGE;
	}
	d->log.level = d->cfg.log_level;
	td_info(&d->log, "start version=%s pid=%ld config=%s config_found=%s data=%s", TD_VERSION,
		(long)getpid(), d->paths.config_file, found ? "yes" : "no", d->paths.data_dir);
	return TD_EXIT_OK;
}

static int prepare_files(td_daemon *d)
{
	char err[TD_CONFIG_ERR_MAX + TD_PATH_MAX];
	if (td_paths_make_dirs(&d->paths, path_note, &d->log, err, sizeof err) != TN_OK) {
		td_err(&d->log, "dirs_error error=\"%s\"", err);
		return TD_EXIT_RUNTIME;
	}
	if (d->paths.runtime_fallback)
		td_warn(&d->log, "runtime_dir_fallback path=%s reason=xdg_runtime_dir_unset",
			d->paths.runtime_dir);
	if (td_lock_acquire(&d->lock, d->paths.lock_file, err, sizeof err) != TN_OK) {
		td_err(&d->log, "lock_error error=\"%s\"", err);
		return TD_EXIT_RUNTIME;
	}
	/* The store's files hold the invite book and the alerts: like the
	 * directories, a group/other mode left by a copy is tightened. */
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char f[TD_PATH_MAX + 8];
		snprintf(f, sizeof f, "%s%s", d->paths.db_file, suffix[i]);
		td_paths_tighten_file(f, path_note, &d->log);
	}
	if (td_store_open(&d->store, d->paths.db_file, &d->log, NULL) != TN_OK) {
		td_err(&d->log, "store_open_failed path=%s", d->paths.db_file);
		return TD_EXIT_RUNTIME;
	}
	return TD_EXIT_OK;
}

/* ---- identity ------------------------------------------------------------ */

static void rand_bytes(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	randombytes_buf(buf, len);
}

/* A passphrase-protected keystore at start: the passphrase comes from the
 * file TOCSIN_PASSPHRASE_FILE names (never from argv or the environment
 * itself), or the daemon does not start. A daemon without its keys would
 * look alive while unable to sign a panic. */
static tn_err load_with_passfile(td_daemon *d, char *msg, size_t msglen)
{
	const char *file = getenv("TOCSIN_PASSPHRASE_FILE");
	if (!file || !*file) {
		snprintf(msg, msglen,
			 "keystore %s is protected by a passphrase; set TOCSIN_PASSPHRASE_FILE to "
			 "the path of a 0600 file holding it",
			 d->paths.keystore_file);
		return TN_ERR_NEEDPASS;
	}
	uint8_t pass[TD_PASSFILE_BUF];
	size_t len = 0;
	tn_err rc = td_passfile_read(file, pass, &len, msg, msglen);
	if (rc == TN_OK)
		rc = tn_keystore_file_load(d->paths.data_dir, (const char *)pass, len, &d->identity,
					   msg, msglen);
	sodium_memzero(pass, sizeof pass);
	return rc;
}

static int prepare_identity(td_daemon *d)
{
	char msg[TN_KSFILE_MSG_MAX + TD_PATH_MAX];
	tn_err rc = tn_keystore_file_load(d->paths.data_dir, NULL, 0, &d->identity, msg, sizeof msg);
	if (rc == TN_ERR_NEEDPASS)
		rc = load_with_passfile(d, msg, sizeof msg);
	if (rc == TN_ERR_NOTFOUND) {
		td_info(&d->log, "identity status=not_initialised hint=\"run: tocsin init\"");
		return TD_EXIT_OK;
	}
	if (rc != TN_OK) {
		td_err(&d->log, "keystore_error code=%s error=\"%s\"", tn_strerror(rc), msg);
		return TD_EXIT_RUNTIME;
	}
	td_info(&d->log, "identity status=loaded id=%s",
		tn_shortfp_pubkey(tn_identity_pubkey(d->identity)).s);
	return TD_EXIT_OK;
}

/* ---- control socket host --------------------------------------------------- */

static void host_info(void *ud, td_ctl_info *o)
{
	td_daemon *d = ud;
	o->pid = (uint64_t)getpid();
	o->uptime_s = (uv_hrtime() - d->started) / TN_SEC;
	o->links = td_mesh_links(d->mesh);
	td_mesh_describe(d->mesh, d->mesh_line, sizeof d->mesh_line);
	o->mesh = d->mesh_line;
	td_mesh_counters(d->mesh, d->counters_line, sizeof d->counters_line);
	o->counters = d->counters_line;
	o->desktop_notify = td_mesh_desktop_state(d->mesh);
	o->version = TD_VERSION;
	o->home = d->paths.home;
	o->data_dir = d->paths.data_dir;
	o->control_socket = d->paths.control_socket;
	o->listen = d->bound;
}

static const tn_identity *host_identity(void *ud)
{
	td_daemon *d = ud;
	return d->identity;
}

/* tocsin init. Blocks the loop for the Argon2id of a passphrase (about a
 * second at the default cost): acceptable because before init there is no
 * identity, hence no link and no alert that could be delayed. */
static tn_err host_init(void *ud, const uint8_t *pass, size_t passlen, char *msg, size_t msglen)
{
	td_daemon *d = ud;
	if (d->identity)
		return TN_ERR_EXISTS;
	tn_rand r = {rand_bytes, NULL};
	tn_identity *id = NULL;
	tn_err rc = tn_identity_new(&id, &r);
	if (rc != TN_OK) {
		snprintf(msg, msglen, "cannot create an identity: %s", tn_strerror(rc));
		return rc;
	}
	rc = tn_keystore_file_save(d->paths.data_dir, TN_KSFILE_CREATE, id, (const char *)pass,
				   passlen, NULL, &r, msg, msglen);
	if (rc != TN_OK) {
		tn_identity_del(id);
		td_warn(&d->log, "init_failed code=%s", tn_strerror(rc));
		return rc;
	}
	d->identity = id;
	(void)td_mesh_set_identity(d->mesh, id);
	td_info(&d->log, "identity status=created id=%s passphrase=%s",
		tn_shortfp_pubkey(tn_identity_pubkey(id)).s, pass ? "yes" : "no");
	return TN_OK;
}

static td_ctl_code host_net(void *ud, const td_ctl_req *req, td_ctl_msg *m, char *msg,
			    size_t msglen)
{
	td_daemon *d = ud;
	return td_mesh_ctl(d->mesh, req, m, msg, msglen);
}

static void on_wipe_timer(uv_timer_t *t)
{
	shutdown_loop(t->data, "wipe");
}

/* tocsin wipe: the reply is written while the op returns; the shutdown
 * runs at the next loop turn, the wipe itself after the store is closed
 * (wipe_data). */
static tn_err host_wipe(void *ud, char *msg, size_t msglen)
{
	td_daemon *d = ud;
	if (d->wipe || d->stopping) {
		snprintf(msg, msglen, "the daemon is already stopping");
		return TN_ERR_STATE;
	}
	uv_timer_init(&d->loop, &d->wipe_timer);
	d->wipe_timer.data = d;
	if (uv_timer_start(&d->wipe_timer, on_wipe_timer, 0, 0) != 0) {
		close_handle((uv_handle_t *)&d->wipe_timer);
		snprintf(msg, msglen, "cannot schedule the wipe");
		return TN_ERR_INTERNAL;
	}
	d->wipe = true;
	td_warn(&d->log, "wipe_requested data=%s", d->paths.data_dir);
	return TN_OK;
}

/* SQLite unlinks tocsin.db-wal and -shm when the store closes: keep them
 * open so their contents are overwritten too (wipe.h). */
static void hold_store_files(td_daemon *d, td_wipe_hold *h)
{
	char wal[TD_PATH_MAX + 8], shm[TD_PATH_MAX + 8];
	snprintf(wal, sizeof wal, "%s-wal", d->paths.db_file);
	snprintf(shm, sizeof shm, "%s-shm", d->paths.db_file);
	const char *const files[] = {d->paths.db_file, wal, shm};
	td_wipe_hold_open(h, files, 3);
}

/* After the links, the store and the identity are closed, still holding
 * the home lock: overwrite and remove the data dir (wipe.h). */
static int wipe_data(td_daemon *d, td_wipe_hold *held)
{
	td_wipe_stats st;
	char err[TD_PATH_MAX + 128];
	memset(&st, 0, sizeof st);
	err[0] = '\0';
	tn_err rc = td_wipe_home(&d->paths, &st, err, sizeof err);
	td_wipe_hold_finish(held, &st);
	if (rc != TN_OK) {
		td_err(&d->log, "wipe_incomplete files=%lu failed=%lu error=\"%s\"", st.files,
		       st.failed, err);
		return TD_EXIT_RUNTIME;
	}
	td_warn(&d->log, "wiped files=%lu bytes=%llu dirs=%lu other=%lu", st.files, st.bytes,
		st.dirs, st.other);
	return TD_EXIT_OK;
}

static tn_err start_control(td_daemon *d)
{
	char err[TD_PATH_MAX + 256];
	d->host = (td_ctl_host){d, host_info, host_identity, host_init, host_net, host_wipe};
	tn_err rc = td_control_start(&d->ctl, &d->loop, &d->log, d->paths.control_socket, &d->host,
				     err, sizeof err);
	if (rc != TN_OK)
		td_err(&d->log, "control_error code=%s error=\"%s\"", tn_strerror(rc), err);
	return rc;
}

static int prepare_loop(td_daemon *d)
{
	td_ratelimit_init(&d->accept_rl, 10, 10 * TN_SEC);
	if (start_signals(d) != TN_OK || start_listener(d, d->bound, sizeof d->bound) != TN_OK)
		return TD_EXIT_RUNTIME;
	/* Before the mesh replays the store: nothing expired goes back in. */
	td_expiry_start(&d->expiry, &d->loop, d->store, &d->log);
	if (td_mesh_new(&d->mesh, &d->loop, &d->log, d->store, &d->cfg, d->identity) != TN_OK ||
	    start_control(d) != TN_OK)
		return TD_EXIT_RUNTIME;
	td_mesh_set_listen(d->mesh, d->bound);
	td_mesh_set_control(d->mesh, d->ctl);
	td_info(&d->log, "ready listen=%s control=%s initialised=%s", d->bound,
		d->paths.control_socket, d->identity ? "yes" : "no");
	notify("READY=1");
	return TD_EXIT_OK;
}

/* Close whatever prepare_loop opened when it failed half way. */
static void drain_loop(td_daemon *d)
{
	uv_walk(&d->loop, close_walk, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d->loop) != 0)
		td_err(&d->log, "loop_close_error reason=handles_left_open");
}

int td_daemon_run(const td_opts *opts)
{
	td_daemon *d = calloc(1, sizeof *d);
	if (!d)
		return TD_EXIT_RUNTIME;
	d->opts = *opts;
	d->lock.fd = -1;
	td_log_init(&d->log, TN_LOG_INFO);
	td_log_set_clock(&d->log, hr_clock, NULL);
	int status = TD_EXIT_RUNTIME;
	bool loop_up = false;
	if (sodium_init() < 0) {
		td_err(&d->log, "sodium_init_failed");
		goto out;
	}
	d->started = uv_hrtime();
	if ((status = prepare_paths(d)) || (status = prepare_config(d)) ||
	    (status = prepare_files(d)) || (status = prepare_identity(d)))
		goto out;
	int rc = uv_loop_init(&d->loop);
	if (rc != 0) {
		td_err(&d->log, "loop_error error=%s", uv_err_name(rc));
		status = TD_EXIT_RUNTIME;
		goto out;
	}
	loop_up = true;
	if ((status = prepare_loop(d)) != TD_EXIT_OK)
		goto out;
	uv_run(&d->loop, UV_RUN_DEFAULT);
	status = TD_EXIT_OK;
out:
	if (loop_up)
		drain_loop(d);
	td_control_del(d->ctl);
	td_mesh_del(d->mesh);
	tn_identity_del(d->identity);
	td_wipe_hold held = {.n = 0};
	if (d->wipe && status == TD_EXIT_OK)
		hold_store_files(d, &held);
	td_store_close(d->store);
	if (d->wipe && status == TD_EXIT_OK)
		status = wipe_data(d, &held);
	td_lock_release(&d->lock);
	td_log_flush_limited(&d->log, &d->accept_rl, TN_LOG_INFO, "accept");
	td_info(&d->log, "stopped status=%d", status);
	free(d);
	return status;
}
