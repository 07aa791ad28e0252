#!/usr/bin/env bash
# An address change redials at once (docs/daemon.md "Wake and network
# changes"). Two members in a network namespace of their own (unshare -rn,
# entered with nsenter): n1 dials n2 (n1's own record names a dead port, so
# n2 never dials n1). n2 stops; n1's redials fail and its backoff grows to
# 8-16 s. n2 comes back; an address added to lo makes n1 log the wake and
# link within 3 s instead of waiting out its backoff. Skipped (77) where
# user namespaces are not permitted.
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}"
th_init
unshare -rn true 2>/dev/null || { th_log "unshare -rn not permitted here"; exit 77; }

th_spawn holder unshare -rn sh -c 'ip link set lo up && exec sleep 600'
H=${TH_PID[holder]}
ns() { nsenter --preserve-credentials -U -n -t "$H" -- "$@"; }
th_poll 10 sh -c "nsenter --preserve-credentials -U -n -t $H -- ip -o addr show lo | grep -q 127.0.0.1" ||
	th_fail "namespace not ready"

mapfile -t PORTS < <(th_free_ports 3)
P1=${PORTS[0]} P2=${PORTS[1]} DEAD=${PORTS[2]}
"$MKMESH" --name nc-net "$TH_DIR/n1:$DEAD" "$TH_DIR/n2:$P2" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
start() { # NAME PORT
	TH_HOME[$1]=$TH_DIR/$1
	[ -f "${TH_LOG[$1]:-/nonexistent}" ] && cat "${TH_LOG[$1]}" >>"$TH_DIR/$1.oldlogs"
	th_spawn "$1" nsenter --preserve-credentials -U -n -t "$H" -- \
		"$TOCSIND" --home "$TH_DIR/$1" --listen "127.0.0.1:$2" --foreground --log-level debug
	th_wait_ready "$1"
}
start n1 "$P1"
start n2 "$P2"
tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
links() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])'; }
linked() { [ "$(links n1)" = 1 ]; }
th_poll 20 linked || th_fail "n1 not linked to n2"
th_pass "n1 dials n2 inside the namespace"

th_stop n2 TERM 5
mark=$(grep -c "dial peer=" "${TH_LOG[n1]}")
dials() { echo $(($(grep -c "dial peer=" "${TH_LOG[n1]}") - mark)); }
# Failures at about 1, 3, 7, 15 s: after the 4th the next wait is 8-16 s.
four() { [ "$(dials)" -ge 4 ]; }
th_poll 40 four || th_fail "n1 did not keep redialing ($(dials) dials)"
start n2 "$P2"
sleep 1 # n2 is up; n1 is inside a backoff of 8-16 s
[ "$(links n1)" = 0 ] || th_log "n1 relinked by chance before the change"
t0=$(th_now_us)
ns ip addr add 10.9.9.9/32 dev lo || th_fail "cannot add an address in the namespace"
th_wait_log n1 "wake reason=network_change action=reconnect" 3
th_poll 3 linked || th_fail "n1 did not relink within 3 s of the address change"
th_log "address change to link up: $((($(th_now_us) - t0) / 1000)) ms"
th_pass "an address change wakes n1: redial at once (backoff reset), linked again"

ns ip addr del 10.9.9.9/32 dev lo
twice() { [ "$(grep -c 'wake reason=network_change' "${TH_LOG[n1]}")" -ge 2 ]; }
th_poll 3 twice ||
	th_fail "removing the address did not wake n1"
th_pass "removing an address wakes it too"
