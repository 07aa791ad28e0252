/* tocsind: notice a sleep/wake, a clock jump or a network change at once
 * (docs/daemon.md "Wake and network changes").
 *
 * Two file descriptors under uv_poll, neither of which wakes an idle
 * daemon:
 *  - a CLOCK_REALTIME timerfd armed far in the future with
 *    TFD_TIMER_CANCEL_ON_SET: the kernel makes it readable (ECANCELED) when
 *    the wall clock is set and when the machine resumes from suspend;
 *  - an RTNETLINK socket subscribed to IPv4/IPv6 address changes
 *    (RTM_NEWADDR / RTM_DELADDR): a Wi-Fi switch, a DHCP lease, a VPN.
 * Network events are coalesced for TD_NETWATCH_SETTLE_MS (an interface
 * going up sends several). The callback says which. Either fd failing to
 * open is logged and the rest works (the mesh's drift check still catches
 * a jump at the next wakeup). */
#ifndef TD_NETWATCH_H
#define TD_NETWATCH_H

#include <uv.h>

#include "log.h"

enum { TD_NETWATCH_SETTLE_MS = 500 };

typedef enum td_netwatch_why {
	TD_NETWATCH_CLOCK = 1,   /* wall clock set, or resumed from suspend */
	TD_NETWATCH_NETWORK = 2, /* an interface address appeared or went away */
} td_netwatch_why;

typedef void (*td_netwatch_cb)(void *ud, td_netwatch_why why);

typedef struct td_netwatch td_netwatch;

td_netwatch *td_netwatch_new(uv_loop_t *loop, td_log *log, td_netwatch_cb cb, void *ud);
/* Close the handles (shutdown); free after the loop ran. */
void td_netwatch_stop(td_netwatch *w);
void td_netwatch_del(td_netwatch *w);

#endif
