/* The reference for bench/idle.sh: a plain libuv loop holding 5 idle TCP
 * connections (to itself, over 127.0.0.1), reading, with no timer. What
 * an idle daemon with 5 links would cost if it did nothing but wait.
 * Prints "ready" once the 5 are connected; runs until killed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

enum { LINKS = 5 };

static uv_tcp_t server, clients[LINKS], accepted[LINKS];
static uv_connect_t reqs[LINKS];
static int nacc, ncon;
static char buf[4096];

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)h;
	(void)sz;
	*b = uv_buf_init(buf, sizeof buf);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	if (n < 0)
		uv_read_stop(s);
}

static void ready_check(void)
{
	if (nacc == LINKS && ncon == LINKS) {
		printf("ready links=%d\n", LINKS);
		fflush(stdout);
	}
}

static void on_conn(uv_stream_t *srv, int status)
{
	if (status != 0 || nacc >= LINKS)
		return;
	uv_tcp_init(srv->loop, &accepted[nacc]);
	if (uv_accept(srv, (uv_stream_t *)&accepted[nacc]) == 0)
		uv_read_start((uv_stream_t *)&accepted[nacc], alloc_cb, read_cb);
	nacc++;
	ready_check();
}

static void on_connect(uv_connect_t *r, int status)
{
	if (status != 0) {
		fprintf(stderr, "uv_idle: connect: %s\n", uv_strerror(status));
		exit(1);
	}
	uv_read_start(r->handle, alloc_cb, read_cb);
	ncon++;
	ready_check();
}

int main(void)
{
	uv_loop_t *loop = uv_default_loop();
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", 0, &a);
	uv_tcp_init(loop, &server);
	if (uv_tcp_bind(&server, (const struct sockaddr *)&a, 0) != 0 ||
	    uv_listen((uv_stream_t *)&server, LINKS, on_conn) != 0) {
		fprintf(stderr, "uv_idle: listen failed\n");
		return 1;
	}
	struct sockaddr_storage ss;
	int len = sizeof ss;
	uv_tcp_getsockname(&server, (struct sockaddr *)&ss, &len);
	for (int i = 0; i < LINKS; i++) {
		uv_tcp_init(loop, &clients[i]);
		uv_tcp_connect(&reqs[i], &clients[i], (const struct sockaddr *)&ss, on_connect);
	}
	return uv_run(loop, UV_RUN_DEFAULT);
}
