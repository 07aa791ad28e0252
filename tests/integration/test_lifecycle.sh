#!/usr/bin/env bash
# tocsind lifecycle: start in a temp home, directories 0700, files private,
# SIGTERM and SIGINT exit 0 within a second, restart after kill -9, and the
# exit statuses of bad command lines.
. "$TH_LIB"
th_init

th_start n1
home=${TH_HOME[n1]}
pid=${TH_PID[n1]}

[ "$(th_mode "$home")" = 700 ] || th_fail "home mode $(th_mode "$home"), want 700"
[ "$(th_mode "$home/data")" = 700 ] || th_fail "data mode $(th_mode "$home/data")"
[ -f "$home/data/tocsin.db" ] || th_fail "no database"
[ "$(th_mode "$home/data/tocsin.db")" = 600 ] || th_fail "db mode $(th_mode "$home/data/tocsin.db")"
[ "$(cat "$home/data/tocsind.pid")" = "$pid" ] || th_fail "pid file does not hold $pid"
grep -q ' info start version=' "${TH_LOG[n1]}" || th_fail "no start line"
grep -q "config=$home/tocsind.conf config_found=no" "${TH_LOG[n1]}" || th_fail "config path not logged"
th_pass "start: home and data 0700, db 0600, pid file, start and ready lines"

# SIGTERM: exit status 0 within one second, measured by a bounded poll.
t0=$(th_now_us)
kill -TERM "$pid"
th_wait_exit "$pid" 1 || th_fail "still running 1 s after SIGTERM"
elapsed_ms=$((($(th_now_us) - t0) / 1000))
[ "$TH_STATUS" = 0 ] || th_fail "exit status $TH_STATUS after SIGTERM"
grep -q 'shutdown reason=sigterm' "${TH_LOG[n1]}" || th_fail "no shutdown line"
grep -q 'stopped status=0' "${TH_LOG[n1]}" || th_fail "no stopped line"
th_pass "SIGTERM: exit 0 in ${elapsed_ms} ms"

# SIGINT the same way, on the same home (the lock was released).
th_start n1b --home "$home"
th_stop n1b INT 1
[ "$TH_STATUS" = 0 ] || th_fail "exit status $TH_STATUS after SIGINT"
th_pass "SIGINT: exit 0, home reusable"

# kill -9 leaves no stale lock: the kernel drops the flock.
th_start n1c --home "$home"
th_stop n1c KILL 5
th_start n1d --home "$home"
th_stop n1d TERM 1
[ "$TH_STATUS" = 0 ] || th_fail "restart after kill -9 did not stop cleanly"
th_pass "kill -9 then restart on the same home"

# Command lines that must fail with status 2 and a clear message.
expect_usage() { # name regex args...
	local name=$1 re=$2; shift 2
	th_spawn "$name" "$TOCSIND" "$@"
	th_wait_exit "${TH_PID[$name]}" 10 || th_fail "$name: did not exit"
	[ "$TH_STATUS" = 2 ] || th_fail "$name: exit status $TH_STATUS, want 2"
	grep -Eq -- "$re" "${TH_LOG[$name]}" || th_fail "$name: no message matching /$re/"
	th_pass "$name: status 2, message /$re/"
}
expect_usage bad-flag 'usage: tocsind' --home "$TH_DIR/x" --frobnicate
expect_usage bad-listen 'config_error error="--listen: \[network\] listen: not a numeric IPv4' \
	--home "$TH_DIR/x" --listen example.org:1
expect_usage bad-level 'error="--log-level: \[log\] level: expected err, warn, info or debug' \
	--home "$TH_DIR/x" --log-level loud
expect_usage missing-config 'cannot open' --home "$TH_DIR/x" --config "$TH_DIR/nope.conf"
long=$TH_DIR/$(printf 'd%.0s' $(seq 1 110))
expect_usage long-socket "control socket path too long .*: $long/control.sock" --home "$long"

mkdir -m 700 "$TH_DIR/cfgerr"
printf '[links]\ndegree = 5\n[log]\nlevel = loud\n' >"$TH_DIR/cfgerr/tocsind.conf"
chmod 600 "$TH_DIR/cfgerr/tocsind.conf"
expect_usage config-line "$TH_DIR/cfgerr/tocsind.conf:4: \[log\] level: expected" --home "$TH_DIR/cfgerr"

# --version / --help: status 0, nothing started.
th_spawn version "$TOCSIND" --version
th_wait_exit "${TH_PID[version]}" 10 && [ "$TH_STATUS" = 0 ] || th_fail "--version"
grep -Eq '^tocsind [0-9]+\.[0-9]+' "${TH_LOG[version]}" || th_fail "--version output"
th_spawn help "$TOCSIND" --help
th_wait_exit "${TH_PID[help]}" 10 && [ "$TH_STATUS" = 0 ] || th_fail "--help"
grep -q -- '--home DIR' "${TH_LOG[help]}" || th_fail "--help output"
th_pass "--version and --help"
