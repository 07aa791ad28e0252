/* tocsind: map the listening port on the home router with UPnP-IGD
 * (libminiupnpc) or NAT-PMP (libnatpmp), when `[network] port_mapping` asks
 * for it (docs/daemon.md "Port mapping"; off by default: a mapping tells the
 * router, and anyone who can ask it, that this laptop accepts connections).
 *
 * Discovery, mapping, renewal and removal are blocking library calls: each
 * runs on libuv's thread pool (uv_queue_work), never on the loop thread,
 * and each is bounded (UPnP discovery TD_PORTMAP_UPNP_WAIT_MS, NAT-PMP
 * TD_PORTMAP_NATPMP_WAIT_MS per request). A worker touches only its job.
 * On success the mapping is renewed at half its lease; on failure it is
 * tried again after TD_PORTMAP_RETRY_S or at td_portmap_retry (network
 * change). td_portmap_stop removes a live mapping (one last job the loop
 * drains before exiting). */
#ifndef TD_PORTMAP_H
#define TD_PORTMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "log.h"

enum {
	TD_PORTMAP_UPNP_WAIT_MS = 1500,   /* SSDP discovery */
	TD_PORTMAP_NATPMP_WAIT_MS = 1500, /* one NAT-PMP request, retries included */
	TD_PORTMAP_LEASE_S = 3600,        /* asked of the router */
	TD_PORTMAP_RETRY_S = 1800,        /* after a failure */
};

typedef struct td_portmap td_portmap;

/* external: "A.B.C.D:PORT" of a new or changed mapping. */
typedef void (*td_portmap_cb)(void *ud, const char *external);

/* NULL when mode is TD_PORTMAP_OFF or out of memory. */
td_portmap *td_portmap_new(uv_loop_t *loop, td_log *log, td_portmap_mode mode, uint16_t port,
                           td_portmap_cb cb, void *ud);
/* Start (or restart at once after a network change). */
void td_portmap_retry(td_portmap *p);
/* Remove the mapping if any, stop timers. Free after the loop ran. */
void td_portmap_stop(td_portmap *p);
void td_portmap_del(td_portmap *p);
/* "off", "upnp", "natpmp", "auto". */
const char *td_portmap_mode_name(td_portmap_mode mode);
/* For status: "" or the method of the live mapping ("upnp", "natpmp"). */
const char *td_portmap_method(const td_portmap *p);

#endif
