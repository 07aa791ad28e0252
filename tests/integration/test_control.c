/* daemon/control_ops.c (td_ctl_dispatch against a fake daemon) and
 * daemon/peercred.c (the uid check, with a real process of another uid
 * when the test runs as root). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "ctlproto.h"
#include "peercred.h"

typedef struct fake {
	tn_identity *id;
	tn_err init_rc; /* what init returns when it does not succeed */
	size_t init_calls;
	size_t last_passlen;
	size_t wipe_calls;
	bool no_wipe; /* a host without the wipe callback */
} fake;

static void seeded(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + 5);
}

static void fake_info(void *ud, td_ctl_info *o)
{
	(void)ud;
	o->pid = 1234;
	o->uptime_s = 9;
	o->links = 0;
	o->version = "9.9.9";
	o->home = "/h\xff";
	o->data_dir = "/h/data";
	o->control_socket = "/h/control.sock";
	o->listen = "127.0.0.1:7450";
}

static const tn_identity *fake_identity(void *ud)
{
	return ((fake *)ud)->id;
}

static tn_err fake_init(void *ud, const uint8_t *pass, size_t passlen, char *msg, size_t msglen)
{
	fake *f = ud;
	(void)pass;
	f->init_calls++;
	f->last_passlen = passlen;
	if (f->init_rc != TN_OK) {
		snprintf(msg, msglen, "fake failure");
		return f->init_rc;
	}
	tn_rand r = {seeded, NULL};
	return tn_identity_new(&f->id, &r);
}

static tn_err fake_wipe(void *ud, char *msg, size_t msglen)
{
	(void)msg;
	(void)msglen;
	((fake *)ud)->wipe_calls++;
	return TN_OK;
}

static int setup(void **state)
{
	fake *f = calloc(1, sizeof *f);
	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	fake *f = *state;
	tn_identity_del(f->id);
	free(f);
	return 0;
}

/* Send one request through the dispatcher; decode and check the reply. */
static td_ctl_action run(fake *f, const td_ctl_req *req, td_ctl_msg *reply, uint8_t *out,
			 size_t cap)
{
	uint8_t in[TD_CTL_HDR + 2048];
	tn_ssize n = td_ctl_req_frame(req, in, sizeof in);
	assert_true(n > 0);
	td_ctl_host host = {f, fake_info, fake_identity, fake_init};
	host.wipe = f->no_wipe ? NULL : fake_wipe;
	td_ctl_action act;
	tn_ssize r = td_ctl_dispatch(&host, 2, in + TD_CTL_HDR, (size_t)n - TD_CTL_HDR, out, cap,
				     &act);
	assert_true(r > TD_CTL_HDR);
	assert_int_equal(td_ctl_msg_decode(reply, out + TD_CTL_HDR, (size_t)r - TD_CTL_HDR), TN_OK);
	assert_int_equal(td_ctl_reply_check(reply, req->op), TN_OK);
	uint64_t id;
	assert_int_equal(td_ctl_get_uint(reply, "id", &id), TN_OK);
	assert_true(id == req->id);
	return act;
}

static bool ok_of(const td_ctl_msg *m)
{
	bool ok;
	assert_int_equal(td_ctl_get_bool(m, "ok", &ok), TN_OK);
	return ok;
}

static void version_op(void **state)
{
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_VERSION, .id = 77};
	assert_int_equal(run(*state, &req, &m, out, sizeof out), TD_CTL_ACT_REPLY);
	assert_true(ok_of(&m));
	assert_true(td_ctl_str_is(&m, "version", "9.9.9"));
	assert_true(td_ctl_str_is(&m, "protocol", "tocsin/1"));
}

static void status_before_and_after_init(void **state)
{
	fake *f = *state;
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_STATUS, .id = 1};
	run(f, &req, &m, out, sizeof out);
	assert_true(ok_of(&m));
	bool init = true;
	assert_int_equal(td_ctl_get_bool(&m, "initialised", &init), TN_OK);
	assert_false(init);
	assert_null(td_ctl_get(&m, "fingerprint"));
	assert_true(td_ctl_str_is(&m, "home", "/h?")); /* not UTF-8: cleaned */
	assert_true(td_ctl_str_is(&m, "mesh", "no network layer")); /* the fake host has no mesh */
	uint64_t u;
	assert_int_equal(td_ctl_get_uint(&m, "links", &u), TN_OK);
	assert_int_equal(u, 0);
	assert_int_equal(td_ctl_get_uint(&m, "subscribers", &u), TN_OK);
	assert_int_equal(u, 2);
	assert_int_equal(td_ctl_get_uint(&m, "pid", &u), TN_OK);
	assert_int_equal(u, 1234);

	td_ctl_req ini = {.op = TD_CTL_OP_INIT, .id = 2};
	run(f, &ini, &m, out, sizeof out);
	assert_true(ok_of(&m));
	char fp[64];
	const char *p;
	size_t n;
	assert_int_equal(td_ctl_get_str(&m, "fingerprint", &p, &n), TN_OK);
	assert_int_equal(n, TN_FINGERPRINT_STRLEN);
	memcpy(fp, p, n);
	fp[n] = '\0';
	char want[TN_FINGERPRINT_STRLEN + 1];
	assert_int_equal(tn_fingerprint_str(tn_identity_pubkey(f->id), want, sizeof want),
			 TN_FINGERPRINT_STRLEN);
	assert_string_equal(fp, want);

	run(f, &req, &m, out, sizeof out);
	assert_int_equal(td_ctl_get_bool(&m, "initialised", &init), TN_OK);
	assert_true(init);
	assert_true(td_ctl_str_is(&m, "fingerprint", want));

	td_ctl_req idreq = {.op = TD_CTL_OP_ID, .id = 3};
	run(f, &idreq, &m, out, sizeof out);
	assert_true(ok_of(&m));
	assert_true(td_ctl_str_is(&m, "fingerprint", want));
	assert_true(td_ctl_str_is(&m, "short_fingerprint",
				  tn_shortfp_pubkey(tn_identity_pubkey(f->id)).s));
}

/* wipe runs only with confirm "wipe" (a stray request cannot trigger it),
 * also before init; the reply names the data dir. */
static void wipe_needs_the_confirm_word(void **state)
{
	fake *f = *state;
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_msg m;
	const char *bad[] = {NULL, "", "yes", "wipe ", "WIPE", "wip"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		td_ctl_req req = {.op = TD_CTL_OP_WIPE, .id = 30 + i};
		if (bad[i])
			td_ctl_add_str(&req.args, "confirm", bad[i]);
		run(f, &req, &m, out, sizeof out);
		assert_false(ok_of(&m));
		assert_true(td_ctl_str_is(&m, "error", "invalid"));
	}
	assert_int_equal(f->wipe_calls, 0);
	td_ctl_req req = {.op = TD_CTL_OP_WIPE, .id = 40};
	td_ctl_add_str(&req.args, "confirm", "wipe");
	f->no_wipe = true;
	run(f, &req, &m, out, sizeof out);
	assert_false(ok_of(&m));
	assert_true(td_ctl_str_is(&m, "error", "internal"));
	assert_int_equal(f->wipe_calls, 0);
	f->no_wipe = false;
	assert_int_equal(run(f, &req, &m, out, sizeof out), TD_CTL_ACT_REPLY);
	assert_true(ok_of(&m));
	assert_true(td_ctl_str_is(&m, "data_dir", "/h/data"));
	assert_int_equal(f->wipe_calls, 1);
}

static void id_before_init_is_not_initialised(void **state)
{
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_ID, .id = 4};
	run(*state, &req, &m, out, sizeof out);
	assert_false(ok_of(&m));
	assert_true(td_ctl_str_is(&m, "error", "not_initialised"));
}

static void init_twice_is_already_initialised(void **state)
{
	fake *f = *state;
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_msg m;
	static const uint8_t pass[] = "correct horse";
	td_ctl_req req = {.op = TD_CTL_OP_INIT, .id = 5, .pass = pass, .passlen = 13};
	run(f, &req, &m, out, sizeof out);
	assert_true(ok_of(&m));
	bool p = false;
	assert_int_equal(td_ctl_get_bool(&m, "passphrase", &p), TN_OK);
	assert_true(p);
	assert_int_equal(f->last_passlen, 13);
	run(f, &req, &m, out, sizeof out);
	assert_false(ok_of(&m));
	assert_true(td_ctl_str_is(&m, "error", "already_initialised"));
	assert_int_equal(f->init_calls, 1); /* the host was not asked twice */
}

static void init_failures_map_to_codes(void **state)
{
	fake *f = *state;
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_INIT, .id = 6};
	const struct {
		tn_err rc;
		const char *code;
	} cases[] = {
		{TN_ERR_EXISTS, "already_initialised"},
		{TN_ERR_INVAL, "bad_passphrase"},
		{TN_ERR_IO, "keystore"},
		{TN_ERR_INSECURE, "keystore"},
		{TN_ERR_NOMEM, "internal"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		f->init_rc = cases[i].rc;
		run(f, &req, &m, out, sizeof out);
		assert_false(ok_of(&m));
		assert_true(td_ctl_str_is(&m, "error", cases[i].code));
		assert_true(td_ctl_str_is(&m, "message", "fake failure"));
	}
	assert_null(f->id);
}

static void subscribe_turns_the_connection(void **state)
{
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_msg m;
	td_ctl_req req = {.op = TD_CTL_OP_SUBSCRIBE, .id = 8};
	assert_int_equal(run(*state, &req, &m, out, sizeof out), TD_CTL_ACT_SUBSCRIBE);
	assert_true(ok_of(&m));
	/* events carry seq */
	td_ctl_msg ev, d;
	td_ctl_msg_init(&ev);
	td_ctl_add_str(&ev, "event", "hello");
	tn_ssize n = td_ctl_event_frame(&ev, 1, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(td_ctl_msg_decode(&d, out + 4, (size_t)n - 4), TN_OK);
	assert_int_equal(td_ctl_event_check(&d), TN_OK);
	assert_int_equal(ev.n, 1); /* the caller's event is not modified */
}

static void bad_input_gets_an_error_reply(void **state)
{
	uint8_t out[TD_CTL_SMALL_REPLY];
	td_ctl_host host = {*state, fake_info, fake_identity, fake_init};
	td_ctl_action act;
	td_ctl_msg m;
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\n";
	tn_ssize n = td_ctl_dispatch(&host, 0, garbage, sizeof garbage - 1, out, sizeof out, &act);
	assert_true(n > 0);
	assert_int_equal(act, TD_CTL_ACT_REPLY);
	assert_int_equal(td_ctl_msg_decode(&m, out + 4, (size_t)n - 4), TN_OK);
	assert_true(td_ctl_str_is(&m, "error", "bad_request"));
	uint64_t id = 99;
	assert_int_equal(td_ctl_get_uint(&m, "id", &id), TN_OK);
	assert_int_equal(id, 0);
	/* unknown op: the id is echoed */
	static const uint8_t unk[] = {0x82, 0xa2, 'i', 'd', 0x2a, 0xa2, 'o', 'p',
				      0xa5, 'p', 'a', 'n', 'i', 'c'};
	n = td_ctl_dispatch(&host, 0, unk, sizeof unk, out, sizeof out, &act);
	assert_int_equal(td_ctl_msg_decode(&m, out + 4, (size_t)n - 4), TN_OK);
	assert_true(td_ctl_str_is(&m, "error", "unknown_op"));
	assert_int_equal(td_ctl_get_uint(&m, "id", &id), TN_OK);
	assert_int_equal(id, 42);
	/* a reply buffer too small is NOBUF, not an overflow */
	td_ctl_req req = {.op = TD_CTL_OP_STATUS, .id = 1};
	uint8_t in[64];
	n = td_ctl_req_frame(&req, in, sizeof in);
	assert_true(n > 0);
	assert_int_equal(td_ctl_dispatch(&host, 0, in + 4, (size_t)n - 4, out, 40, &act),
			 TN_ERR_NOBUF);
}

/* ---- peer credentials --------------------------------------------------- */

static void peer_uid_of_socketpair_is_ours(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	unsigned long uid;
	assert_int_equal(td_peer_uid(sv[0], &uid), TN_OK);
	assert_int_equal(uid, (unsigned long)geteuid());
	assert_true(td_peer_is_self(sv[1], &uid));
	close(sv[0]);
	close(sv[1]);
	/* not a socket: refused, never "yes" */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(td_peer_uid(p[0], &uid), TN_ERR_IO);
	assert_false(td_peer_is_self(p[0], &uid));
	close(p[0]);
	close(p[1]);
}

/* A child that drops to uid 65534 (nobody) connects to a listening socket
 * in a world-accessible temp dir; the accepted end must not pass the
 * check. Needs root to change uid: skipped (and reported so) otherwise. */
static void peer_of_another_uid_is_refused(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("not root: cannot create a peer of another uid here\n");
		skip();
	}
	char dir[] = "/tmp/tn-peercred.XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/s", dir);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(chmod(sa.sun_path, 0777), 0);
	assert_int_equal(listen(l, 1), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
			_exit(3);
		char b;
		(void)read(s, &b, 1); /* until the parent closes */
		_exit(0);
	}
	int a = accept(l, NULL, NULL);
	assert_true(a >= 0);
	unsigned long uid = 0;
	assert_int_equal(td_peer_uid(a, &uid), TN_OK);
	assert_int_equal(uid, 65534);
	assert_false(td_peer_is_self(a, &uid));
	close(a);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(l);
	unlink(sa.sun_path);
	rmdir(dir);
}


/* ---- the server: a slow subscriber is dropped, a reading one is not ---- */

static void drain(int fd, size_t *total, bool *saw_shutdown)
{
	uint8_t buf[65536];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n <= 0)
			return;
		*total += (size_t)n;
		if (memmem(buf, (size_t)n, "shutdown", 8))
			*saw_shutdown = true;
	}
}

static tn_time zero_clock(void *ud)
{
	(void)ud;
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void subscribe_on(int fd)
{
	uint8_t frame[64];
	td_ctl_req req = {.op = TD_CTL_OP_SUBSCRIBE, .id = 1};
	tn_ssize n = td_ctl_req_frame(&req, frame, sizeof frame);
	assert_true(n > 0);
	assert_int_equal(write(fd, frame, (size_t)n), n);
}

static void slow_subscriber_dropped(void **state)
{
	fake *f = *state;
	char dir[] = "/tmp/tn-ctlsrv.XXXXXX", path[64], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/control.sock", dir);
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	td_log log;
	td_log_init(&log, TN_LOG_ERR);
	td_log_set_clock(&log, zero_clock, NULL);
	td_ctl_host host = {f, fake_info, fake_identity, fake_init};
	td_control *ctl = NULL;
	assert_int_equal(td_control_start(&ctl, &loop, &log, path, &host, err, sizeof err), TN_OK);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	int slow = connect_to(path), fast = connect_to(path);
	subscribe_on(slow);
	subscribe_on(fast);
	for (int i = 0; i < 50 && td_control_subscribers(ctl) < 2; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(td_control_subscribers(ctl), 2);

	static char pad[7000];
	memset(pad, 'p', sizeof pad - 1);
	td_ctl_msg ev;
	td_ctl_msg_init(&ev);
	td_ctl_add_str(&ev, "event", "test");
	td_ctl_add_str(&ev, "pad", pad);
	size_t got = 0;
	bool shut = false;
	/* 300 events of 7 KB: ~2 MB, far past the kernel buffer plus the
	 * 256 KiB backlog the slow one is allowed. */
	for (int i = 0; i < 300; i++) {
		td_control_emit(ctl, &ev);
		uv_run(&loop, UV_RUN_NOWAIT);
		drain(fast, &got, &shut);
	}
	assert_int_equal(td_control_subscribers(ctl), 1);
	assert_true(got > 300 * 7000);

	td_control_stop(ctl, "test");
	uv_run(&loop, UV_RUN_DEFAULT);
	drain(fast, &got, &shut);
	assert_true(shut);
	td_control_del(ctl);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_not_equal(access(path, F_OK), 0); /* removed at del */
	close(slow);
	close(fast);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(version_op, setup, teardown),
		cmocka_unit_test_setup_teardown(status_before_and_after_init, setup, teardown),
		cmocka_unit_test_setup_teardown(id_before_init_is_not_initialised, setup, teardown),
		cmocka_unit_test_setup_teardown(wipe_needs_the_confirm_word, setup, teardown),
		cmocka_unit_test_setup_teardown(init_twice_is_already_initialised, setup, teardown),
		cmocka_unit_test_setup_teardown(init_failures_map_to_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(subscribe_turns_the_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input_gets_an_error_reply, setup, teardown),
		cmocka_unit_test(peer_uid_of_socketpair_is_ours),
		cmocka_unit_test(peer_of_another_uid_is_refused),
		cmocka_unit_test_setup_teardown(slow_subscriber_dropped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
