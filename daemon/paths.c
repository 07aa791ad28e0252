/* Path resolution for tocsind and tocsin (see paths.h). */
#define _POSIX_C_SOURCE 200809L
#include "paths.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

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

static bool is_set(const char *s)
{
	return s && s[0] != '\0';
}

/* XDG: a relative value is invalid and must be ignored. */
static bool is_usable_xdg(const char *s)
{
	return is_set(s) && s[0] == '/';
}

size_t td_paths_socket_max(void)
{
	struct sockaddr_un sa;
	return sizeof sa.sun_path - 1;
}

/* out = a "/" b (b may be NULL for a plain copy). */
static tn_err join(char out[TD_PATH_MAX], const char *a, const char *b, char *err, size_t errlen)
{
	int n;
	if (b)
		n = snprintf(out, TD_PATH_MAX, "%s%s%s", a,
			     (a[0] && a[strlen(a) - 1] == '/') ? "" : "/", b);
	else
		n = snprintf(out, TD_PATH_MAX, "%s", a);
	if (n < 0 || n >= TD_PATH_MAX) {
		set_err(err, errlen, "path too long (max %d bytes): %s/%s", TD_PATH_MAX - 1, a,
			b ? b : "");
		return TN_ERR_LIMIT;
	}
	return TN_OK;
}

/* A relative --home / TOCSIN_HOME is made absolute against cwd, so the
 * client and the log show the same path whatever directory they run in. */
static tn_err absolute(char out[TD_PATH_MAX], const char *path, const td_env *env, char *err,
		       size_t errlen)
{
	if (path[0] == '/' || !is_set(env->cwd))
		return join(out, path, NULL, err, errlen);
	return join(out, env->cwd, path, err, errlen);
}

static tn_err resolve_home(td_paths *p, const char *home, const td_env *env, char *err,
			   size_t errlen)
{
	tn_err rc;
	if ((rc = absolute(p->home, home, env, err, errlen)) != TN_OK)
		return rc;
	if ((rc = join(p->config_dir, p->home, NULL, err, errlen)) != TN_OK)
		return rc;
	if ((rc = join(p->data_dir, p->home, "data", err, errlen)) != TN_OK)
		return rc;
	return join(p->runtime_dir, p->home, NULL, err, errlen);
}

static tn_err resolve_xdg(td_paths *p, const td_env *env, char *err, size_t errlen)
{
	char base[TD_PATH_MAX];
	tn_err rc;
	bool need_home = !is_usable_xdg(env->xdg_config_home) || !is_usable_xdg(env->xdg_data_home);
	if (need_home && !is_usable_xdg(env->home)) {
		set_err(err, errlen,
			"cannot locate the tocsin directories: HOME is unset or not absolute "
			"(set HOME or XDG_CONFIG_HOME and XDG_DATA_HOME, or use --home DIR)");
		return TN_ERR_INVAL;
	}
	if (is_usable_xdg(env->xdg_config_home))
		rc = join(base, env->xdg_config_home, NULL, err, errlen);
	else
		rc = join(base, env->home, ".config", err, errlen);
	if (rc != TN_OK || (rc = join(p->config_dir, base, "tocsin", err, errlen)) != TN_OK)
		return rc;
	if (is_usable_xdg(env->xdg_data_home))
		rc = join(base, env->xdg_data_home, NULL, err, errlen);
	else
		rc = join(base, env->home, ".local/share", err, errlen);
	if (rc != TN_OK || (rc = join(p->data_dir, base, "tocsin", err, errlen)) != TN_OK)
		return rc;
	if (is_usable_xdg(env->xdg_runtime_dir))
		return join(p->runtime_dir, env->xdg_runtime_dir, "tocsin", err, errlen);
	p->runtime_fallback = true;
	return join(p->runtime_dir, p->data_dir, "run", err, errlen);
}

static tn_err check_socket_len(const td_paths *p, char *err, size_t errlen)
{
	size_t len = strlen(p->control_socket), max = td_paths_socket_max();
	if (len <= max)
		return TN_OK;
	set_err(err, errlen,
		"control socket path too long (%zu bytes, a Unix socket path holds at most %zu): "
		"%s; use a shorter --home or XDG_RUNTIME_DIR",
		len, max, p->control_socket);
	return TN_ERR_LIMIT;
}

static tn_err resolve_files(td_paths *p, const char *config_flag, const td_env *env, char *err,
			    size_t errlen)
{
	tn_err rc;
	if (is_set(config_flag)) {
		p->config_explicit = true;
		rc = absolute(p->config_file, config_flag, env, err, errlen);
	} else {
		rc = join(p->config_file, p->config_dir, "tocsind.conf", err, errlen);
	}
	if (rc != TN_OK)
		return rc;
	if ((rc = join(p->db_file, p->data_dir, "tocsin.db", err, errlen)) != TN_OK ||
	    (rc = join(p->keystore_file, p->data_dir, "keystore", err, errlen)) != TN_OK ||
	    (rc = join(p->lock_file, p->data_dir, "tocsind.pid", err, errlen)) != TN_OK ||
	    (rc = join(p->control_socket, p->runtime_dir, "control.sock", err, errlen)) != TN_OK)
		return rc;
	return check_socket_len(p, err, errlen);
}

tn_err td_paths_resolve(td_paths *p, const td_env *env, const char *home_flag,
			const char *config_flag, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	set_err(err, errlen, "%s", "");
	tn_err rc;
	if (is_set(home_flag))
		rc = resolve_home(p, home_flag, env, err, errlen);
	else if (is_set(env->tocsin_home))
		rc = resolve_home(p, env->tocsin_home, env, err, errlen);
	else
		rc = resolve_xdg(p, env, err, errlen);
	if (rc == TN_OK)
		rc = resolve_files(p, config_flag, env, err, errlen);
	if (rc != TN_OK)
		memset(p, 0, sizeof *p);
	return rc;
}

void td_env_from_process(td_env *env, char *cwdbuf, size_t cwdlen)
{
	env->tocsin_home = getenv("TOCSIN_HOME");
	env->home = getenv("HOME");
	env->xdg_config_home = getenv("XDG_CONFIG_HOME");
	env->xdg_data_home = getenv("XDG_DATA_HOME");
	env->xdg_runtime_dir = getenv("XDG_RUNTIME_DIR");
	env->cwd = (cwdbuf && cwdlen && getcwd(cwdbuf, cwdlen)) ? cwdbuf : NULL;
}

/* mkdir -p: parents that we create get 0700 too (the XDG spec asks for it
 * for the base dirs); parents that exist are left alone. */
static tn_err mkdir_p(const char *path, char *err, size_t errlen)
{
	char buf[TD_PATH_MAX];
	tn_err rc = join(buf, path, NULL, err, errlen);
	if (rc != TN_OK)
		return rc;
	for (char *s = buf + 1;; s++) {
		bool end = (*s == '\0');
		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			set_err(err, errlen, "cannot create directory %s: %s", buf, strerror(e));
			return TN_ERR_IO;
		}
		if (end)
			break;
		*s = '/';
	}
	return TN_OK;
}

static tn_err own_dir(const char *path, td_paths_note_fn note, void *ud, char *err,
		      size_t errlen)
{
	tn_err rc = mkdir_p(path, err, errlen);
	if (rc != TN_OK)
		return rc;
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		set_err(err, errlen, "cannot stat %s: %s", path, strerror(e));
		return TN_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "not a directory: %s", path);
		return TN_ERR_IO;
	}
	if (st.st_uid != geteuid()) {
		set_err(err, errlen, "directory %s is owned by uid %u, not by us (uid %u)", path,
			(unsigned)st.st_uid, (unsigned)geteuid());
		return TN_ERR_IO;
	}
	if ((st.st_mode & 077) == 0)
		return TN_OK;
	if (chmod(path, 0700) != 0) {
		int e = errno;
		set_err(err, errlen, "cannot chmod 0700 %s: %s", path, strerror(e));
		return TN_ERR_IO;
	}
	if (note) {
		char msg[TD_PATH_MAX + 64];
		snprintf(msg, sizeof msg, "dir_mode_tightened path=%s old=%03o new=700", path,
			 (unsigned)(st.st_mode & 0777));
		note(ud, msg);
	}
	return TN_OK;
}

void td_paths_tighten_file(const char *path, td_paths_note_fn note, void *ud)
{
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) == 0)
		return;
	char msg[TD_PATH_MAX + 64];
	if (chmod(path, 0600) != 0) {
		int e = errno;
		snprintf(msg, sizeof msg, "file_mode_error path=%s old=%03o error=\"%s\"", path,
			 (unsigned)(st.st_mode & 0777), strerror(e));
	} else {
		snprintf(msg, sizeof msg, "file_mode_tightened path=%s old=%03o new=600", path,
			 (unsigned)(st.st_mode & 0777));
	}
	if (note)
		note(ud, msg);
}

tn_err td_paths_make_dirs(const td_paths *p, td_paths_note_fn note, void *ud, char *err,
			  size_t errlen)
{
	tn_err rc = TN_OK;
	if (p->home[0] && (rc = own_dir(p->home, note, ud, err, errlen)) != TN_OK)
		return rc;
	if (!p->config_explicit && (rc = own_dir(p->config_dir, note, ud, err, errlen)) != TN_OK)
		return rc;
	if ((rc = own_dir(p->data_dir, note, ud, err, errlen)) != TN_OK)
		return rc;
	return own_dir(p->runtime_dir, note, ud, err, errlen);
}
