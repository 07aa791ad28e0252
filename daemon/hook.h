/* The on_alert hook's process: started with posix_spawn, reaped through a
 * pidfd (docs/daemon.md "Notifications"). */
#ifndef TD_HOOK_H
#define TD_HOOK_H

#include <uv.h>

/* Run path (argv = the path alone) with exactly envp (NULL-terminated),
 * stdin/stdout/stderr on /dev/null, default signal dispositions and an
 * empty signal mask, no shell. The child is reaped on loop when it exits.
 * Returns 0, or a libuv error code (UV_ENOENT, UV_EACCES, ...) when the
 * program could not be started: nothing is left running then. */
int td_hook_spawn(uv_loop_t *loop, const char *path, char *const envp[]);

#endif
