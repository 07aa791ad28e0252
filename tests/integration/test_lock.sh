#!/usr/bin/env bash
# Two daemons never share a home: the second refuses with a clear message
# and status 1, and the first keeps running and listening.
. "$TH_LIB"
th_init

th_start first
pid=${TH_PID[first]}
th_spawn second "$TOCSIND" --home "${TH_HOME[first]}" --listen 127.0.0.1:0 --foreground
th_wait_exit "${TH_PID[second]}" 10 || th_fail "second daemon did not exit"
[ "$TH_STATUS" = 1 ] || th_fail "second daemon exit status $TH_STATUS, want 1"
grep -q "another tocsind (pid $pid) is already running with this home" "${TH_LOG[second]}" ||
	th_fail "no clear message naming pid $pid"
grep -q ' ready ' "${TH_LOG[second]}" && th_fail "second daemon got ready"
th_pass "second tocsind on the same home refused (status 1, names pid $pid)"

th_alive "$pid" || th_fail "first daemon died"
exec 3<>"/dev/tcp/127.0.0.1/${TH_PORT[first]}" || th_fail "first daemon not listening"
exec 3<&-
[ "$(cat "${TH_HOME[first]}/data/tocsind.pid")" = "$pid" ] || th_fail "pid file overwritten"
th_pass "first daemon unaffected"

# TOCSIN_HOME names the same home: refused too.
th_spawn third env TOCSIN_HOME="${TH_HOME[first]}" "$TOCSIND" --listen 127.0.0.1:0
th_wait_exit "${TH_PID[third]}" 10 || th_fail "third daemon did not exit"
[ "$TH_STATUS" = 1 ] || th_fail "TOCSIN_HOME daemon exit status $TH_STATUS, want 1"
th_pass "TOCSIN_HOME to a used home refused"
