#!/usr/bin/env bash
# SIGHUP: a broken config is rejected with file:line in the log and the
# daemon keeps running on the old one; a good one is applied (log level
# takes effect); flags keep beating the file.
. "$TH_LIB"
th_init

home=$TH_DIR/n1
conf=$home/tocsind.conf
mkdir -m 700 "$home"
# The file's listen would bind a port we cannot have; --listen must win.
printf '[network]\nlisten = 127.0.0.1:1\n[log]\nlevel = info\n' >"$conf"
chmod 600 "$conf"
th_start n1
pid=${TH_PID[n1]}
th_pass "--listen beat the file's listen (bound ${TH_PORT[n1]})"

printf '[network]\nlisten = 127.0.0.1:1\n[links]\ndegree = 99\n' >"$conf"
kill -HUP "$pid"
th_wait_log n1 "reload_failed kept=previous error=\"$conf:4: \[links\] degree: expected an integer from 1 to 32, got '99'\""
th_alive "$pid" || th_fail "daemon died on a bad reload"
exec 3<>"/dev/tcp/127.0.0.1/${TH_PORT[n1]}" || th_fail "listener gone after bad reload"
exec 3<&-
th_pass "bad config on SIGHUP: logged with file:line, old config kept, still listening"

grep -q 'conn_accepted' "${TH_LOG[n1]}" && th_fail "debug line at level info"
printf '[network]\nlisten = 127.0.0.1:1\n[log]\nlevel = debug\n' >"$conf"
kill -HUP "$pid"
th_wait_log n1 'reload_ok .*level=debug'
exec 3<>"/dev/tcp/127.0.0.1/${TH_PORT[n1]}" || th_fail "cannot connect"
th_wait_log n1 'conn_accepted id='
exec 3<&-
th_pass "good config on SIGHUP applied (debug lines appear)"

# The listen change in the file is not applied live, and says so.
grep -q 'reload_listen_ignored' "${TH_LOG[n1]}" &&
	th_fail "flag-overridden listen reported as a change"
th_stop n1 TERM 1
[ "$TH_STATUS" = 0 ] || th_fail "exit status $TH_STATUS"
th_pass "clean stop after reloads"
