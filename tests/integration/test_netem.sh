#!/usr/bin/env bash
# Slow and lossy links (issue 8): 8 tocsind members in network namespaces
# made by this test (as test_partition.sh), every member's link shaped
# with `tc netem delay 200ms loss 5%` (each packet a member sends: 200 ms
# late, 1 in 20 lost). 12 alerts from random members: delivery is still
# 100 %, each notified once. Without sch_netem in the kernel the same
# shaping is done by tests/tools/impair.py over TUN devices (the output
# says which). Skipped (77) only when namespaces are not permitted here;
# the namespaces are deleted on every exit.
. "$TH_LIB"
. "$(dirname "$TH_LIB")/fleet.sh"
th_init
N=8 KA=5 ALERTS=12
if ! tf_ns_setup $N; then
	echo "SKIP: network namespaces not permitted here: $(head -n 3 "$TH_DIR/ns.err")"
	exit 77
fi
TF_N=$N
tf_ns_shape 200 5
th_log "shaper: $TF_SHAPER (delay 200 ms, loss 5 % on every member's egress)"
t_start=$(th_now_us)
tf_mesh $N $KA
tf_start_all
tf_wait_linked 2 60
th_pass "$N daemons in namespaces behind $TF_SHAPER delay 200ms loss 5%, linked ($(((($(th_now_us) - t_start)) / 1000)) ms)"

t0=$(th_now_us)
declare -A panics=()
for k in $(seq 1 $ALERTS); do
	a=$((RANDOM % N + 1))
	kind=drill
	if [ "${panics[$a]:-0}" -lt 4 ]; then kind=panic; panics[$a]=$((${panics[$a]:-0} + 1)); fi
	tf_send "$a" "$kind" "over a bad network $k"
done
tf_wait_complete 60 "not 100 % delivery over netem"
th_log "all $ALERTS at all $N $(((($(th_now_us) - t0)) / 1000)) ms after the first was sent"
# The shaping is real: no member had any alert sooner than one 200 ms hop.
python3 - "$TH_DIR" $N <<'PY' || th_fail "an alert arrived faster than the 200 ms delay allows"
import sys
d, n = sys.argv[1], int(sys.argv[2])
sent = {l.split()[0]: int(l.split()[2]) for l in open(f"{d}/sent")}
fastest = min(int(l.split()[2]) - sent[l.split()[0]]
              for i in range(1, n + 1) for l in open(f"{d}/n{i}.notified"))
print(f"# fastest delivery: {fastest / 1000:.1f} ms", file=sys.stderr)
sys.exit(0 if fastest >= 200000 else 1)
PY
tf_quiet_no_duplicates
th_pass "$TF_SHAPER delay 200ms loss 5%: $ALERTS alerts at every member (100 %), none notified twice"

tf_stop_all
if [ "$TF_SHAPER" = impair ]; then
	th_stop impair TERM 10
	grep "^impair " "${TH_LOG[impair]}" >&2 || th_fail "impair.py gave no counts"
	grep -Eq '^impair packets=[0-9]+ dropped=[1-9][0-9]* delivered=[1-9]' "${TH_LOG[impair]}" ||
		th_fail "impair.py dropped or delivered nothing"
fi
th_pass "clean shutdown ($(((($(th_now_us) - t_start)) / 1000)) ms in all)"
