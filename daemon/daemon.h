/* tocsind: lifecycle and event loop.
 *
 * td_daemon_run() is the whole daemon: resolve paths, load the config,
 * create the directories, take the home lock, open the store, listen, run
 * the loop until SIGTERM/SIGINT, and clean up. It owns its uv_loop_t (no
 * default loop) and handles signals through uv_signal_t. */
#ifndef TD_DAEMON_H
#define TD_DAEMON_H

#include <stdbool.h>

/* Command-line options; NULL means "not given". Strings are borrowed for
 * the daemon's life. Flags override the config file, at start and at each
 * reload. */
typedef struct td_opts {
	const char *home;      /* --home DIR (beats $TOCSIN_HOME) */
	const char *config;    /* --config FILE */
	const char *listen;    /* --listen HOST:PORT */
	const char *log_level; /* --log-level LEVEL */
	bool foreground;       /* --foreground: accepted; tocsind never forks */
} td_opts;

/* Exit statuses of tocsind (documented in docs/daemon.md). */
enum {
	TD_EXIT_OK = 0,      /* clean shutdown on SIGTERM/SIGINT */
	TD_EXIT_RUNTIME = 1, /* could not start: lock held, store, listen, dirs */
	TD_EXIT_USAGE = 2,   /* bad flags, config or paths */
};

/* Run the daemon; returns a TD_EXIT_* status. */
int td_daemon_run(const td_opts *opts);

#endif
