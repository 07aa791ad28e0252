/* tocsind and tocsin: where the config, data and control socket live.
 *
 * Shared by the daemon and the client (client/ links paths_dep alone), so
 * this module uses only libc/POSIX: no libuv, no daemon log. Errors are
 * returned as a tn_err plus one human-readable line in a caller buffer.
 *
 * Layout (DESIGN §8):
 *   --home DIR or $TOCSIN_HOME:  DIR/tocsind.conf, DIR/data/, DIR/control.sock
 *   otherwise XDG:               $XDG_CONFIG_HOME/tocsin/tocsind.conf,
 *                                $XDG_DATA_HOME/tocsin/,
 *                                $XDG_RUNTIME_DIR/tocsin/control.sock
 * with the XDG Base Directory fallbacks ($HOME/.config, $HOME/.local/share)
 * when a variable is unset, empty or relative (the spec says to ignore
 * relative values). When XDG_RUNTIME_DIR is unset there is no safe per-user
 * tmpfs to use, so the runtime dir falls back to DATA/run (0700) and
 * runtime_fallback is set so the caller can say so. */
#ifndef TD_PATHS_H
#define TD_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "tocsin/err.h"
#include "daemon_limits.h"

/* The environment the paths depend on, passed in so resolution is a pure
 * function (tests fill it by hand). NULL or "" means unset. */
typedef struct td_env {
	const char *tocsin_home;     /* $TOCSIN_HOME */
	const char *home;            /* $HOME */
	const char *xdg_config_home; /* $XDG_CONFIG_HOME */
	const char *xdg_data_home;   /* $XDG_DATA_HOME */
	const char *xdg_runtime_dir; /* $XDG_RUNTIME_DIR */
	const char *cwd;             /* makes a relative --home absolute; may be NULL */
} td_env;

typedef struct td_paths {
	char home[TD_PATH_MAX];           /* "" unless --home / TOCSIN_HOME */
	char config_file[TD_PATH_MAX];
	char config_dir[TD_PATH_MAX];     /* created only when config_file is the default */
	char data_dir[TD_PATH_MAX];
	char db_file[TD_PATH_MAX];        /* DATA/tocsin.db */
	char keystore_file[TD_PATH_MAX];  /* DATA/keystore */
	char lock_file[TD_PATH_MAX];      /* DATA/tocsind.pid: flock()ed by the daemon */
	char runtime_dir[TD_PATH_MAX];
	char control_socket[TD_PATH_MAX]; /* RUNTIME/control.sock, fits in sun_path */
	bool config_explicit;             /* --config given */
	bool runtime_fallback;            /* XDG mode without XDG_RUNTIME_DIR */
} td_paths;

/* Called for non-fatal remarks (e.g. a directory's mode was tightened). */
typedef void (*td_paths_note_fn)(void *ud, const char *msg);

/* Fill env from getenv() and getcwd(cwdbuf). The pointers stay valid while
 * the environment is not modified and cwdbuf lives. */
void td_env_from_process(td_env *env, char *cwdbuf, size_t cwdlen);

/* Compute every path. home_flag (--home) beats env->tocsin_home, which
 * beats XDG; config_flag (--config) replaces only the config file.
 * Touches no file.
 * Returns TN_OK, or TN_ERR_INVAL (no HOME and no override: nowhere to
 * live), TN_ERR_LIMIT (a path is longer than TD_PATH_MAX, or the control
 * socket path does not fit in sockaddr_un.sun_path; the message names the
 * path and both lengths). On error err holds one line and *p is zeroed. */
TN_NODISCARD tn_err td_paths_resolve(td_paths *p, const td_env *env, const char *home_flag,
				     const char *config_flag, char *err, size_t errlen);

/* Create the home (if any), config dir (default config only), data dir and
 * runtime dir, with missing parents, mode 0700. An existing directory of
 * ours must be owned by the effective uid; a group/other-accessible mode
 * is tightened to 0700 and reported through note (may be NULL).
 * Returns TN_OK, or TN_ERR_IO (mkdir/stat/chmod failed, or not a
 * directory, or owned by someone else; err names the path and reason). */
TN_NODISCARD tn_err td_paths_make_dirs(const td_paths *p, td_paths_note_fn note, void *ud,
				       char *err, size_t errlen);

/* A regular file of ours at path that group or others may access (a copy
 * or a restored backup of tocsin.db) is made 0600 and reported through
 * note; a failure is reported too. Anything else is left alone (the
 * keystore is refused, not fixed: keystore_file.h). */
void td_paths_tighten_file(const char *path, td_paths_note_fn note, void *ud);

/* The longest control socket path this platform accepts (sun_path - 1). */
size_t td_paths_socket_max(void);

#endif
