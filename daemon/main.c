/* tocsind: command line. Everything else is in daemon.c. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"

#ifndef TD_VERSION
#define TD_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fputs("usage: tocsind [options]\n"
	      "  --home DIR          keep config, data and control socket under DIR\n"
	      "                      (default: $TOCSIN_HOME, else the XDG directories)\n"
	      "  --config FILE       config file (default HOME/tocsind.conf or\n"
	      "                      $XDG_CONFIG_HOME/tocsin/tocsind.conf)\n"
	      "  --listen HOST:PORT  listen address, overrides [network] listen\n"
	      "  --log-level LEVEL   err, warn, info or debug, overrides [log] level\n"
	      "  --foreground        run in the foreground (tocsind never forks; accepted\n"
	      "                      for scripts and service files)\n"
	      "  --help              this text\n"
	      "  --version           print the version\n"
	      "Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the config.\n",
	      f);
}

enum { OPT_HOME = 256, OPT_CONFIG, OPT_LISTEN, OPT_LOG_LEVEL, OPT_FOREGROUND };

static const struct option longopts[] = {
	{"home", required_argument, NULL, OPT_HOME},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"foreground", no_argument, NULL, OPT_FOREGROUND},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, td_opts *o)
{
	int c;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HOME: o->home = optarg; break;
		case OPT_CONFIG: o->config = optarg; break;
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_LOG_LEVEL: o->log_level = optarg; break;
		case OPT_FOREGROUND: o->foreground = true; break;
		case 'h': usage(stdout); return TD_EXIT_OK;
		case 'V': printf("tocsind %s\n", TD_VERSION); return TD_EXIT_OK;
		default: usage(stderr); return TD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tocsind: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return TD_EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	td_opts opts;
	memset(&opts, 0, sizeof opts);
	int rc = parse_args(argc, argv, &opts);
	if (rc >= 0)
		return rc;
	/* Files we create (store, WAL, lock) are ours alone, whatever the
	 * caller's umask. */
	umask(077);
	/* A write to a peer that has gone must be an EPIPE error on that one
	 * connection, not a signal that kills the daemon. Process-wide by
	 * nature; set once, before the loop exists. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return td_daemon_run(&opts);
}
