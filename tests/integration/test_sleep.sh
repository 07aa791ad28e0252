#!/usr/bin/env bash
# Sleep (issue 8): 12 tocsind members on loopback, keepalive 2 s. SIGSTOP
# 5 of them for 3 x keepalive (their peers declare them dead at 2.5 x),
# send 10 alerts from the others meanwhile, SIGCONT: the sleepers catch up
# with every alert, exactly once each.
. "$TH_LIB"
. "$(dirname "$TH_LIB")/fleet.sh"
th_init

N=12 KA=2 SLEEPERS=5 ALERTS=10
t_start=$(th_now_us)
tf_mesh $N $KA
tf_start_all
tf_wait_linked 2 60
th_pass "$N daemons up and linked"

mapfile -t sl < <(shuf -i 1-$N -n $SLEEPERS)
awake=()
for i in $(seq 1 $N); do
	case " ${sl[*]} " in *" $i "*) ;; *) awake+=("$i") ;; esac
done
th_log "SIGSTOP ${sl[*]}"
for i in "${sl[@]}"; do kill -STOP "${TH_PID[n$i]}"; done
sleep $((3 * KA)) # the scenario: stopped for 3 x keepalive
for k in $(seq 1 $ALERTS); do
	tf_send "${awake[$((RANDOM % ${#awake[@]}))]}" drill "while they sleep $k"
done
tf_wait_complete 30 "the awake members did not all get the alerts" "${awake[@]}"
# The keepalive was exercised: someone awake dropped a link to a sleeper.
dropped=0
for i in "${sl[@]}"; do
	fp=$(awk -v h="$TH_DIR/n$i" '$1 == h {print $2}' "$TH_DIR/mkmesh.out")
	for j in "${awake[@]}"; do
		grep -q "link_down .*peer=$fp" "${TH_LOG[n$j]}" && dropped=$((dropped + 1))
	done
done
[ "$dropped" -gt 0 ] || th_fail "no awake member dropped a link to a sleeper (keepalive not exercised)"
for i in "${sl[@]}"; do
	[ -s "$TH_DIR/n$i.notified" ] && th_fail "n$i was notified while stopped"
done
th_pass "$SLEEPERS stopped $((3 * KA)) s: $dropped links to them dropped, $ALERTS alerts at every awake member"

t0=$(th_now_us)
for i in "${sl[@]}"; do kill -CONT "${TH_PID[n$i]}"; done
tf_wait_complete 40 "the sleepers did not catch up"
th_log "sleepers caught up $(((($(th_now_us) - t0)) / 1000)) ms after SIGCONT"
tf_quiet_no_duplicates
th_pass "SIGCONT: all $SLEEPERS caught up with all $ALERTS alerts, none notified twice"

# status counters: link traffic (frames are >= 18 bytes: prefix + AEAD tag).
for i in $(seq 1 $N); do
	tf_counters "$i" | python3 -c '
import json, sys
c = json.load(sys.stdin)
for d in ("tx", "rx"):
    b, f = c.get(f"traffic.{d}_bytes", 0), c.get(f"traffic.{d}_frames", 0)
    assert f > 0 and b >= 18 * f, c' || th_fail "n$i: status traffic counters missing or wrong"
done
sum_alerts=$(for i in $(seq 1 $N); do tf_counters "$i"; done |
	python3 -c 'import json,sys; print(sum(json.loads(l).get("node.alert_tx", 0) for l in sys.stdin))')
[ "$sum_alerts" -ge $((ALERTS * (N - 1))) ] ||
	th_fail "$sum_alerts ALERT messages sent in all: fewer than one per alert per receiver"
th_pass "status counts link bytes, frames and ALERT messages ($sum_alerts ALERTs sent for $ALERTS alerts x $((N - 1)) receivers)"

tf_stop_all
th_pass "clean shutdown ($(((($(th_now_us) - t_start)) / 1000)) ms in all)"
