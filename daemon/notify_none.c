/* tocsind: desktop notifications when built without libsystemd (see
 * notify.h): the feature is absent, said once at start; alerts still go to
 * control subscribers, on_alert and the log. */
#include "notify.h"

#include <stdlib.h>

struct td_desktop {
	const td_config *cfg;
};

tn_err td_desktop_new(td_desktop **out, uv_loop_t *loop, td_log *log, const td_config *cfg)
{
	(void)loop;
	td_desktop *d = calloc(1, sizeof *d);
	if (!d)
		return TN_ERR_NOMEM;
	d->cfg = cfg;
	td_info(log, "desktop_notify built=no reason=no_libsystemd enabled=no");
	*out = d;
	return TN_OK;
}

void td_desktop_alert_show(td_desktop *d, const td_desktop_alert *a)
{
	(void)d;
	(void)a;
}

const char *td_desktop_state(const td_desktop *d)
{
	(void)d;
	return "not built (no libsystemd)";
}

void td_desktop_stop(td_desktop *d)
{
	(void)d;
}

void td_desktop_del(td_desktop *d)
{
	free(d);
}
