/* tocsin: control socket I/O (see ctl_io.h). */
#define _POSIX_C_SOURCE 200809L
#include "ctl_io.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - now_ms();
	return left < 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

ctl_status ctl_connect(ctl_conn *c, const char *path)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n >= sizeof sa.sun_path) {
		c->err = ENAMETOOLONG;
		return CTL_UNREACHABLE;
	}
	memcpy(sa.sun_path, path, n + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->err = errno;
		return CTL_UNREACHABLE;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		c->err = errno;
		close(c->fd);
		c->fd = -1;
		return CTL_UNREACHABLE;
	}
	return CTL_OK;
}

static ctl_status wait_fd(ctl_conn *c, short ev, int64_t deadline)
{
	struct pollfd p = {.fd = c->fd, .events = ev};
	for (;;) {
		int r = poll(&p, 1, remaining(deadline));
		if (r > 0)
			return CTL_OK;
		if (r == 0)
			return CTL_TIMEOUT;
		if (errno != EINTR) {
			c->err = errno;
			return CTL_IOERR;
		}
	}
}

ctl_status ctl_send(ctl_conn *c, const uint8_t *frame, size_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t off = 0;
	while (off < len) {
		ctl_status st = wait_fd(c, POLLOUT, deadline);
		if (st != CTL_OK)
			return st;
		ssize_t n = send(c->fd, frame + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			c->err = errno;
			return errno == EPIPE || errno == ECONNRESET ? CTL_CLOSED : CTL_IOERR;
		}
		off += (size_t)n;
	}
	return CTL_OK;
}

static ctl_status read_full(ctl_conn *c, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		ctl_status st = wait_fd(c, POLLIN, deadline);
		if (st != CTL_OK)
			return st;
		ssize_t n = recv(c->fd, buf + off, len - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			c->err = errno;
			return errno == ECONNRESET ? CTL_CLOSED : CTL_IOERR;
		}
		if (n == 0)
			return CTL_CLOSED;
		off += (size_t)n;
	}
	return CTL_OK;
}

ctl_status ctl_recv(ctl_conn *c, td_ctl_msg *m, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint8_t hdr[TD_CTL_HDR];
	uint32_t len;
	free(c->body);
	c->body = NULL;
	c->len = 0;
	td_ctl_msg_init(m);
	ctl_status st = read_full(c, hdr, sizeof hdr, deadline);
	if (st != CTL_OK)
		return st;
	/* The length is checked before anything is allocated from it. */
	if (td_ctl_get_hdr(hdr, TD_CTL_REPLY_MAX, &len) != TN_OK)
		return CTL_BADFRAME;
	c->body = malloc(len ? len : 1);
	if (!c->body) {
		c->err = ENOMEM;
		return CTL_IOERR;
	}
	c->len = len;
	if ((st = read_full(c, c->body, len, deadline)) != CTL_OK)
		return st;
	return td_ctl_msg_decode(m, c->body, len) == TN_OK ? CTL_OK : CTL_BADFRAME;
}

void ctl_close(ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->body);
	c->body = NULL;
}
