/* libFuzzer target: INI text -> td_config (daemon/config.c over libinih).
 * The same td_config_parse() the daemon runs on tocsind.conf; checks that
 * no input crashes it, that a rejected input leaves the config untouched,
 * and that an accepted one is within the documented ranges.
 * The same bytes also go to td_parse_endpoint, the parser of the
 * "tcp:HOST:PORT" endpoints that roster records and invites carry (the
 * mesh dials them): an accepted endpoint's canonical text is NUL-terminated
 * and parses again to itself and the same address. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "tocsin/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void endpoint(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss, again;
	char canon[TN_ENDPOINT_STR_MAX + 1], canon2[TN_ENDPOINT_STR_MAX + 1];
	char ep[TN_ENDPOINT_STR_MAX + 8];
	memset(&ss, 0, sizeof ss);
	memset(&again, 0, sizeof again);
	if (td_parse_endpoint(data, size, &ss, canon, sizeof canon) != TN_OK)
		return;
	if (!memchr(canon, '\0', sizeof canon) ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		abort();
	int n = snprintf(ep, sizeof ep, "tcp:%s", canon);
	if (n < 0 || (size_t)n >= sizeof ep ||
	    td_parse_endpoint((const uint8_t *)ep, (size_t)n, &again, canon2, sizeof canon2) !=
	            TN_OK ||
	    strcmp(canon, canon2) != 0 || memcmp(&ss, &again, sizeof ss) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	endpoint(data, size);
	td_config cfg, before;
	char err[TD_CONFIG_ERR_MAX];
	td_config_default(&cfg);
	before = cfg;
	tn_err rc = td_config_parse(&cfg, (const char *)data, size, "fuzz", err, sizeof err);
	if (rc != TN_OK) {
		/* All or nothing, and an error always says file:line. */
		if (memcmp(&cfg, &before, sizeof cfg) != 0 || strncmp(err, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	if (cfg.degree < TD_DEGREE_MIN || cfg.degree > TD_DEGREE_MAX ||
	    cfg.max_inbound > TD_INBOUND_MAX || cfg.keepalive_s < TD_KEEPALIVE_MIN_S ||
	    cfg.keepalive_s > TD_KEEPALIVE_MAX_S || cfg.log_level < TN_LOG_ERR ||
	    cfg.log_level > TN_LOG_DEBUG || (cfg.on_alert[0] && cfg.on_alert[0] != '/') ||
	    memchr(cfg.listen_str, '\0', sizeof cfg.listen_str) == NULL)
		abort();
	return 0;
}
