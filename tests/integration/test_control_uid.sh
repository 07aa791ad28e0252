#!/usr/bin/env bash
# Another local user must not talk to the daemon (THREAT-MODEL). Two
# layers, each tested on its own:
#   1. file modes: the socket's directory is 0700 and the socket 0600, so
#      another uid cannot even connect;
#   2. SO_PEERCRED: with the modes opened up on purpose (the test chmods
#      the directory and the socket), the daemon itself refuses the peer's
#      uid, closes without a byte, and logs a rate-limited line.
# Running a client as another uid needs root (setpriv); otherwise this test
# reports SKIP (77) instead of passing. The uid check alone is also covered
# by daemon-control (peer_of_another_uid_is_refused).
. "$TH_LIB"
: "${TOCSIN:?TOCSIN must point at the tocsin binary}"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "SKIP: needs root and setpriv to run a client as another uid"
	exit 77
fi
th_init
nobody=$(id -u nobody) || exit 77

# A copy of the client that uid nobody can execute.
chmod 711 "$TH_DIR"
mkdir -m 755 "$TH_DIR/bin"
cp "$TOCSIN" "$TH_DIR/bin/tocsin"
chmod 755 "$TH_DIR/bin/tocsin"
as_nobody() {
	setpriv --reuid="$nobody" --regid="$nobody" --clear-groups "$TH_DIR/bin/tocsin" "$@"
}

th_start n1
home=${TH_HOME[n1]}
sock=$home/control.sock

# 1. modes: connect() itself fails.
as_nobody --home "$home" status >"$TH_DIR/o1" 2>"$TH_DIR/e1"
rc=$?
[ "$rc" = 3 ] || th_fail "other uid with 0700 dir: exit $rc, want 3"
grep -q "Permission denied" "$TH_DIR/e1" || th_fail "no permission message: $(cat "$TH_DIR/e1")"
th_pass "uid $nobody: 0700 dir / 0600 socket, connect refused by the kernel, exit 3"

# 2. SO_PEERCRED: open the modes, the daemon must still refuse.
t0=$(date +%s%N)
chmod 711 "$home"
chmod 666 "$sock"
as_nobody --home "$home" status >"$TH_DIR/o2" 2>"$TH_DIR/e2"
rc=$?
[ "$rc" = 3 ] || th_fail "other uid past the modes: exit $rc, want 3 ($(cat "$TH_DIR/e2"))"
grep -q "closed the connection" "$TH_DIR/e2" || th_fail "unexpected: $(cat "$TH_DIR/e2")"
[ -s "$TH_DIR/o2" ] && th_fail "other uid got output: $(cat "$TH_DIR/o2")"
th_wait_log n1 "control_refused reason=peer_uid peer_uid=$nobody" 5
th_pass "uid $nobody past the modes: closed by the daemon's SO_PEERCRED check, logged"

# Rate limited: 30 more attempts. The limiter allows a burst of 10 lines and
# refills one a second, so the bound depends on how long the attempts took
# (a loaded machine is slow to spawn 30 processes): at most 10 + elapsed s.
for i in $(seq 1 30); do as_nobody --home "$home" status >/dev/null 2>&1; done
elapsed=$(( ($(date +%s%N) - t0) / 1000000000 + 1 ))
max=$(( 10 + elapsed ))
n=$(grep -c "control_refused reason=peer_uid" "${TH_LOG[n1]}")
[ "$max" -lt 31 ] || th_fail "30 attempts took ${elapsed}s: too slow to observe the rate limit"
[ "$n" -ge 1 ] && [ "$n" -le "$max" ] || th_fail "$n refusal lines for 31 attempts in ${elapsed}s, want 1..$max"
th_pass "31 refused attempts in ${elapsed}s: $n log lines (rate limited, at most $max)"

"$TOCSIN" --home "$home" status >/dev/null || th_fail "owner's status fails after the refusals"
th_alive "${TH_PID[n1]}" || th_fail "daemon died"
th_stop n1 TERM 5
[ "$TH_STATUS" = 0 ] || th_fail "exit $TH_STATUS"
th_pass "owner still served; clean stop"
