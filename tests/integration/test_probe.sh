#!/usr/bin/env bash
# Probe resistance (DESIGN §4, THREAT-MODEL): a scanner gets no byte back,
# whether it sends nothing, garbage or an HTTP request; past the connection
# cap the oldest unauthenticated connections are closed without a byte; the
# daemon survives. This daemon has no network, so it reads nothing:
# test_adversary.sh probes a member daemon whose link layer parses it all.
. "$TH_LIB"
th_init
th_start n1
port=${TH_PORT[n1]}

# read_nothing FD SECONDS: the only acceptable outcomes are a timeout or
# EOF with no byte.
read_nothing() {
	local fd=$1 t=$2 c rc
	IFS= read -r -t "$t" -N 1 c <&"$fd"
	rc=$?
	if [ "$rc" = 0 ]; then
		th_fail "listener sent a byte: $(printf '%q' "$c")"
	fi
	return 0
}

exec 3<>"/dev/tcp/127.0.0.1/$port" || th_fail "connect"
read_nothing 3 1.5
th_pass "silent connection: no byte in 1.5 s"

exec 4<>"/dev/tcp/127.0.0.1/$port" || th_fail "connect"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&4
read_nothing 4 1.5
th_pass "HTTP request: no byte in 1.5 s"

exec 5<>"/dev/tcp/127.0.0.1/$port" || th_fail "connect"
head -c 4000 /dev/urandom >&5 # more than the pre-auth buffer: reading stops
read_nothing 5 1.5
th_pass "4000 random bytes: no byte in 1.5 s"
exec 3<&- 4<&- 5<&-

# Over the cap (32 pending): the oldest are closed to make room, without a
# byte, the daemon keeps running.
fds=()
for i in $(seq 1 40); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || th_fail "connect $i"
	fds+=("$fd")
done
for fd in "${fds[@]}"; do
	read_nothing "$fd" 0.1
done
for fd in "${fds[@]}"; do
	exec {fd}<&-
done
th_alive "${TH_PID[n1]}" || th_fail "daemon died under 40 connections"
exec 3<>"/dev/tcp/127.0.0.1/$port" || th_fail "listener gone after the flood"
read_nothing 3 0.5
exec 3<&-
th_pass "40 connections: no byte back, daemon alive and listening"

th_stop n1 TERM 1
[ "$TH_STATUS" = 0 ] || th_fail "exit status $TH_STATUS with connections closed"
th_pass "clean stop"
