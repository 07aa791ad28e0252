/* libFuzzer target: INI text -> td_config (daemon/config.c over libinih).
 * The same td_config_parse() the daemon runs on tocsind.conf; checks that
 * no input crashes it, that a rejected input leaves the config untouched,
 * and that an accepted one is within the documented ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
