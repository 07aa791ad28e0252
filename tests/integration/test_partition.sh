#!/usr/bin/env bash
# Partition (issue 8): 8 tocsind members, each in its own network namespace
# made by this test (veth to a bridge in a hub namespace; 10.77.0.i). Cut
# the network into two halves (members 5..8 moved to a second bridge),
# send alerts on both sides: each side gets its own and not the other's.
# Heal: both sides converge to the same set, every alert notified once at
# every member. Skipped (77) only when namespaces/veth/bridges are not
# permitted here; the namespaces are deleted on every exit.
. "$TH_LIB"
. "$(dirname "$TH_LIB")/fleet.sh"
th_init
N=8 KA=2
if ! tf_ns_setup $N; then
	echo "SKIP: network namespaces not permitted here: $(head -n 3 "$TH_DIR/ns.err")"
	exit 77
fi
t_start=$(th_now_us)
tf_mesh $N $KA
tf_start_all
tf_wait_linked 2 60
th_pass "$N daemons in $N network namespaces, linked over a bridge"

A=(1 2 3 4) B=(5 6 7 8)
for i in "${B[@]}"; do tf_ns_bridge "$i" b1; done
# Links across the cut die by keepalive (2.5 x 2 s); wait until every
# daemon's links are inside its half (at most 3 others), so nothing sent
# next could still cross.
inside() {
	local i
	for i in $(seq 1 $N); do [ "$(tf_links "$i")" -le 3 ] || return 1; done
}
th_poll 30 inside || th_fail "links across the cut did not go down"
: >"$TH_DIR/sent.a"
: >"$TH_DIR/sent.b"
for k in 1 2 3; do
	tf_send "${A[$((RANDOM % 4))]}" panic "side A $k"
	echo "$TF_ID" >>"$TH_DIR/sent.a"
	tf_send "${B[$((RANDOM % 4))]}" panic "side B $k"
	echo "$TF_ID" >>"$TH_DIR/sent.b"
done
# Each side: its own alerts everywhere on its side.
cp "$TH_DIR/sent" "$TH_DIR/sent.all"
grep -F -f "$TH_DIR/sent.a" "$TH_DIR/sent.all" >"$TH_DIR/sent"
tf_wait_complete 30 "side A did not get its own alerts" "${A[@]}"
grep -F -f "$TH_DIR/sent.b" "$TH_DIR/sent.all" >"$TH_DIR/sent"
tf_wait_complete 30 "side B did not get its own alerts" "${B[@]}"
cp "$TH_DIR/sent.all" "$TH_DIR/sent"
for i in "${A[@]}"; do
	grep -q -F -f "$TH_DIR/sent.b" "$TH_DIR/n$i.notified" && th_fail "n$i (side A) got a side B alert through the cut"
done
for i in "${B[@]}"; do
	grep -q -F -f "$TH_DIR/sent.a" "$TH_DIR/n$i.notified" && th_fail "n$i (side B) got a side A alert through the cut"
done
th_pass "partitioned: each half has its own 3 panics and none of the other's"

t0=$(th_now_us)
for i in "${B[@]}"; do tf_ns_bridge "$i" b0; done
tf_wait_complete 60 "after the heal not every alert reached every member"
th_log "converged $(((($(th_now_us) - t0)) / 1000)) ms after the heal"
tf_ids 1 >"$TH_DIR/ids.1"
[ "$(wc -l <"$TH_DIR/ids.1")" = 6 ] || th_fail "n1 stores $(wc -l <"$TH_DIR/ids.1") alerts, not 6"
for i in $(seq 2 $N); do
	tf_ids "$i" >"$TH_DIR/ids.$i"
	cmp -s "$TH_DIR/ids.1" "$TH_DIR/ids.$i" || th_fail "n$i's stored set differs from n1's"
done
tf_quiet_no_duplicates
th_pass "healed: both halves converge to the same 6 alerts, each notified once at every member"

tf_stop_all
th_pass "clean shutdown ($(((($(th_now_us) - t_start)) / 1000)) ms in all)"
