/* tocsind: clock and network change notifications (see netwatch.h). */
#define _GNU_SOURCE
#include "netwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

struct td_netwatch {
	uv_loop_t *loop;
	td_log *log;
	td_netwatch_cb cb;
	void *ud;
	int tfd, nfd;
	uv_poll_t tpoll, npoll;
	uv_timer_t settle;
	bool tpoll_on, npoll_on, stopping;
	uint8_t buf[8192];
};

/* Far in the future: it never expires, it only gets cancelled. */
static bool arm_clock(td_netwatch *w)
{
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = (time_t)0x7fffffff;
	return timerfd_settime(w->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) ==
	       0;
}

static void on_clock(uv_poll_t *h, int status, int events)
{
	td_netwatch *w = h->data;
	(void)events;
	if (status < 0)
		return;
	uint64_t n;
	ssize_t r = read(w->tfd, &n, sizeof n);
	int e = errno;
	if (r < 0 && e != ECANCELED && e != EAGAIN) {
		td_warn(w->log, "netwatch_error fd=timerfd errno=%d", e);
		return;
	}
	if (!arm_clock(w)) {
		td_warn(w->log, "netwatch_error fd=timerfd op=rearm errno=%d", errno);
		uv_poll_stop(&w->tpoll);
	}
	if (r < 0 && e == ECANCELED)
		w->cb(w->ud, TD_NETWATCH_CLOCK);
}

static void on_settled(uv_timer_t *t)
{
	td_netwatch *w = t->data;
	if (!w->stopping)
		w->cb(w->ud, TD_NETWATCH_NETWORK);
}

static void on_netlink(uv_poll_t *h, int status, int events)
{
	td_netwatch *w = h->data;
	(void)events;
	if (status < 0)
		return;
	bool changed = false;
	for (;;) {
		ssize_t r = recv(w->nfd, w->buf, sizeof w->buf, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == ENOBUFS)
				changed = true; /* overrun: something changed */
			break;
		}
		if (r == 0)
			break;
		/* Headers copied out (no casts into the buffer), lengths checked. */
		size_t len = (size_t)r, off = 0;
		while (len - off >= sizeof(struct nlmsghdr)) {
			struct nlmsghdr nh;
			memcpy(&nh, w->buf + off, sizeof nh);
			if (nh.nlmsg_len < sizeof nh || nh.nlmsg_len > len - off)
				break;
			if (nh.nlmsg_type == RTM_NEWADDR || nh.nlmsg_type == RTM_DELADDR)
				changed = true;
			off += NLMSG_ALIGN(nh.nlmsg_len);
			if (off > len)
				break;
		}
	}
	if (changed && !w->stopping)
		uv_timer_start(&w->settle, on_settled, TD_NETWATCH_SETTLE_MS, 0);
}

td_netwatch *td_netwatch_new(uv_loop_t *loop, td_log *log, td_netwatch_cb cb, void *ud)
{
	td_netwatch *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->loop = loop;
	w->log = log;
	w->cb = cb;
	w->ud = ud;
	uv_timer_init(loop, &w->settle);
	w->settle.data = w;
	w->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->tfd >= 0 && arm_clock(w) && uv_poll_init(loop, &w->tpoll, w->tfd) == 0) {
		w->tpoll.data = w;
		w->tpoll_on = true;
		uv_poll_start(&w->tpoll, UV_READABLE, on_clock);
	} else {
		td_warn(w->log, "netwatch_unavailable what=clock errno=%d", errno);
	}
	w->nfd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (w->nfd >= 0 && bind(w->nfd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    uv_poll_init(loop, &w->npoll, w->nfd) == 0) {
		w->npoll.data = w;
		w->npoll_on = true;
		uv_poll_start(&w->npoll, UV_READABLE, on_netlink);
	} else {
		td_warn(w->log, "netwatch_unavailable what=network errno=%d", errno);
	}
	return w;
}

void td_netwatch_stop(td_netwatch *w)
{
	if (!w || w->stopping)
		return;
	w->stopping = true;
	if (w->tpoll_on)
		uv_close((uv_handle_t *)&w->tpoll, NULL);
	if (w->npoll_on)
		uv_close((uv_handle_t *)&w->npoll, NULL);
	uv_close((uv_handle_t *)&w->settle, NULL);
}

void td_netwatch_del(td_netwatch *w)
{
	if (!w)
		return;
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->nfd >= 0)
		close(w->nfd);
	free(w);
}
