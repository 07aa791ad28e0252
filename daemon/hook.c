/* tocsind hook processes (see hook.h).
 *
 * uv_spawn (libuv 1.44) forks the daemon: the kernel copies its page
 * tables and the daemon then takes copy-on-write faults on the pages it
 * touches until the child has exec'd. In bench/propagation.sh 16 that was
 * ~30 % of the daemon's CPU per received alert (the fork 11 %, faults
 * most of 19 %; bench/README.md "CPU per alert"). glibc's posix_spawn
 * uses clone(CLONE_VM | CLONE_VFORK): no copy. The child is reaped
 * through a pidfd watched by the loop (no SIGCHLD handler, so nothing
 * else's children are touched); a kernel without pidfd_open (< 5.3)
 * falls back to uv_spawn. */
#define _GNU_SOURCE
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
	uv_poll_t poll;
	pid_t pid;
	int pidfd;
} hook_child;

static void child_free(uv_handle_t *h)
{
	hook_child *c = h->data;
	close(c->pidfd);
	free(c);
}

static void child_exited(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	hook_child *c = p->data;
	/* The pidfd is readable once the child has exited: this reaps it. */
	if (waitpid(c->pid, NULL, WNOHANG) == 0)
		return; /* not yet (spurious wakeup): keep watching */
	uv_poll_stop(p);
	uv_close((uv_handle_t *)p, child_free);
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static void uv_child_exited(uv_process_t *p, int64_t status, int sig)
{
	(void)status;
	(void)sig;
	uv_close((uv_handle_t *)p, free_handle);
}

static int spawn_uv(uv_loop_t *loop, const char *path, char *const envp[])
{
	uv_process_t *p = calloc(1, sizeof *p);
	if (!p)
		return UV_ENOMEM;
	char *args[] = {(char *)path, NULL};
	uv_process_options_t o = {
	        .file = path, .args = args, .env = (char **)envp, .exit_cb = uv_child_exited};
	int rc = uv_spawn(loop, p, &o);
	if (rc != 0)
		uv_close((uv_handle_t *)p, free_handle);
	return rc;
}

static int spawn_child(const char *path, char *const envp[], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	int rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	/* As uv_spawn did: stdio on /dev/null, signals as a fresh process. */
	for (int fd = 0; fd < 3 && rc == 0; fd++)
		rc = posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_RDWR : O_RDONLY,
		                                      0);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	char *args[] = {(char *)path, NULL};
	if (rc == 0)
		rc = posix_spawn(pid, path, &fa, &at, args, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

int td_hook_spawn(uv_loop_t *loop, const char *path, char *const envp[])
{
#ifdef SYS_pidfd_open
	/* Probe once: no pidfd, no way to reap without SIGCHLD. */
	static int have_pidfd = -1;
	if (have_pidfd < 0) {
		int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		have_pidfd = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	if (!have_pidfd)
		return spawn_uv(loop, path, envp);
	hook_child *c = calloc(1, sizeof *c);
	if (!c)
		return UV_ENOMEM;
	int rc = spawn_child(path, envp, &c->pid);
	if (rc != 0) {
		free(c);
		return -rc; /* libuv's codes are negated errno values */
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0 || uv_poll_init(loop, &c->poll, c->pidfd) != 0) {
		/* Cannot watch it: wait for it here rather than leave a zombie
		 * (the hook is the user's, and short; this is an ENOMEM path). */
		if (c->pidfd >= 0)
			close(c->pidfd);
		waitpid(c->pid, NULL, 0);
		free(c);
		return 0;
	}
	c->poll.data = c;
	uv_poll_start(&c->poll, UV_READABLE, child_exited);
	return 0;
#else
	return spawn_uv(loop, path, envp);
#endif
}
