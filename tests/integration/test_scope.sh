#!/usr/bin/env bash
# Address scope (docs/daemon.md "Address scope"): a member's signed endpoint
# record naming a loopback address is neither dialed nor checked by a daemon
# that does not itself listen on loopback, so a turned member cannot use
# other members' dialers or their dial-back check as a port scanner of
# their own loopback. In a network namespace of its own (unshare -rn, a veth
# pair 10.99.0.1/10.99.0.2; nothing leaves it): m1 listens on 127.0.0.1 and
# its record says so; m2 listens on 10.99.0.2. m1 dials m2 (a private
# address: allowed) and asks m2 to dial it back: m2 refuses (no_endpoint,
# not a port result), never dials m1's record, logs both refusals and
# counts them in status. m1, though on loopback, is linked from another
# address now: it skips m4's loopback record and does not check m2 at
# 10.99.0.2 (its own address too, here). Then m1 stops and m3 (listening on
# loopback, its record naming m2's own address 10.99.0.2) asks m2: refused
# too (scope=own), no_endpoint.
# Skipped (77) where user namespaces or veth are not permitted.
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}"
if [ -z "${TOCSIN_SCOPE_NS:-}" ]; then
	unshare -rn true 2>/dev/null || { th_log "unshare -rn not permitted here"; exit 77; }
	TOCSIN_SCOPE_NS=1 exec unshare -rn "$BASH" "$0" "$@"
fi
if ! { ip link set lo up && ip link add v0 type veth peer name v1 &&
	ip addr add 10.99.0.2/24 dev v0 && ip addr add 10.99.0.1/24 dev v1 &&
	ip link set v0 up && ip link set v1 up; }; then
	th_log "veth not available here"
	exit 77
fi
th_init

# A namespace of our own: every port is free.
# n3's record names m2's own address (10.99.0.2), a port m2 does not use;
# n4's 127.0.0.1:P4 (n4 never runs).
P1=7451 P2=7452 P3=7453 P4=7454
"$MKMESH" --name scope-net "$TH_DIR/n1:$P1" "$TH_DIR/n2:10.99.0.2:$P2" \
	"$TH_DIR/n3:10.99.0.2:$P3" "$TH_DIR/n4:$P4" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
# n3 advertises it (it would publish its loopback listener otherwise).
ADV=("" "" "" "advertise = 10.99.0.2:$P3")
for i in 1 2 3; do
	printf '[network]\n%s\n[links]\nkeepalive = 5\n' "${ADV[i]}" >"$TH_DIR/n$i/tocsind.conf"
	chmod 600 "$TH_DIR/n$i/tocsind.conf"
done
FP1=$(awk 'NR == 1 {print $2}' "$TH_DIR/mkmesh.out")
FP2=$(awk 'NR == 2 {print $2}' "$TH_DIR/mkmesh.out")
FP3=$(awk 'NR == 3 {print $2}' "$TH_DIR/mkmesh.out")
FP4=$(awk 'NR == 4 {print $2}' "$TH_DIR/mkmesh.out")
th_start_at n1 "$P1" --log-level debug
TH_HOME[n2]=$TH_DIR/n2
th_spawn n2 "$TOCSIND" --home "$TH_DIR/n2" --listen "10.99.0.2:$P2" --foreground --log-level debug
th_wait_ready n2

tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
field() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"; }
links_up() { [ "$(field n1 links)" = 1 ] && [ "$(field n2 links)" = 1 ]; }
th_poll 30 links_up || th_fail "no link: n1 $(field n1 links), n2 $(field n2 links)"
th_pass "n1 (loopback listener) dials n2 at 10.99.0.2: linked"

th_wait_log n2 "dial_skipped peer=$FP1 reason=scope scope=loopback" 20
grep -q "dial peer=$FP1 " "${TH_LOG[n2]}" && th_fail "n2 dialed n1's loopback record"
th_pass "n2 (listening on 10.99.0.2) does not dial n1's record tcp:127.0.0.1:$P1 (dial_skipped reason=scope)"

th_wait_log n2 "dialback_skipped for=$FP1 reason=scope scope=loopback" 40
# n1 asks again 10 s later (no_endpoint) and may be told "limited" then:
# its log has every answer.
th_wait_log n1 "reachability reachable=unknown result=no_endpoint" 20
grep -E "reachability .*result=(ok|no_connect|handshake)" "${TH_LOG[n1]}" &&
	th_fail "n1 was given a port result"
grep -q "dialback_dial" "${TH_LOG[n2]}" && th_fail "n2 dialed back: $(grep dialback_dial "${TH_LOG[n2]}")"
th_pass "n1 asks n2 to dial it back at tcp:127.0.0.1:$P1: refused, answered no_endpoint (no port result)"

ctr=$(field n2 counters)
printf '%s\n' "$ctr" | grep -Eq '(^| )scope\.dialback_refused=[1-9][0-9]*( |$)' || th_fail "n2 counters: '$ctr'"
printf '%s\n' "$ctr" | grep -Eq '(^| )scope\.dial_refused=[1-9][0-9]*( |$)' || th_fail "n2 counters: '$ctr'"
th_pass "n2 counts both refusals in status counters ($ctr)"

# n1 listens on loopback, but n2 is linked to it from 10.99.0.2: not a mesh
# on one machine. n1 no longer dials loopback records (n4's), and checks
# neither loopback records nor its own addresses for n2 (10.99.0.2 is also
# n1's, in this namespace).
th_wait_log n1 "dial_skipped peer=$FP4 reason=scope scope=loopback" 30
th_wait_log n1 "dialback_skipped for=$FP2 reason=scope scope=own" 40
grep -q "dialback_dial" "${TH_LOG[n1]}" && th_fail "n1 dialed back: $(grep dialback_dial "${TH_LOG[n1]}")"
th_wait_log n2 "reachability reachable=unknown result=no_endpoint checker=$FP1" 20
printf '%s\n' "$(field n1 counters)" | grep -Eq '(^| )scope\.dialback_refused=[1-9]' ||
	th_fail "n1 counters: '$(field n1 counters)'"
th_pass "n1 (loopback listener, linked from another address) skips n4's loopback record and does not check its own address for n2"

# m3's record names one of m2's own addresses: a scan of m2's own services
# through its LAN address. m1 stops so that m2 is m3's only link.
th_stop n1
th_spawn n3 "$TOCSIND" --home "$TH_DIR/n3" --listen "127.0.0.1:$P3" --foreground --log-level debug
th_wait_ready n3
th_wait_log n2 "dialback_skipped for=$FP3 reason=scope scope=own" 40
th_wait_log n3 "reachability reachable=unknown result=no_endpoint" 20
grep -E "reachability .*result=(ok|no_connect|handshake)" "${TH_LOG[n3]}" &&
	th_fail "n3 was given a port result"
grep -q "dialback_dial" "${TH_LOG[n2]}" && th_fail "n2 dialed back: $(grep dialback_dial "${TH_LOG[n2]}")"
printf '%s\n' "$(field n2 counters)" | grep -Eq '(^| )scope\.dialback_refused=([2-9]|[1-9][0-9]+)( |$)' ||
	th_fail "n2 counters: '$(field n2 counters)'"
th_pass "n3's record tcp:10.99.0.2:$P3 (m2's own address) is not checked by m2 (scope=own, no_endpoint)"
