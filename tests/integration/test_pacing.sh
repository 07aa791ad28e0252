#!/usr/bin/env bash
# Pacing our own alerts (docs/node.md "Pacing our own alerts"): every member
# judges a pushed alert against its author's budget (chatter: 20 at once,
# then 10 a minute) on her own arrival clock. 22 drills from n1 in a few
# seconds: n1 stores all at once, pushes 20 and holds the rest until its
# own budget refills (6 s + 2 s margin each), says so (held_ms, "rate limit:
# this alert leaves in N s"), and n2 and n3 accept every one when it is
# pushed: none rate_limited, none waiting for an anti-entropy round (4 min).
. "$TH_LIB"
th_init

. "$(dirname "$TH_LIB")/mesh.sh"
tm_seed pace-net 3
for i in 1 2 3; do tm_start "$i"; done
th_poll 20 tm_linked 3 || th_fail "the 3 daemons did not link"

N=22
: >"$TH_DIR/ids"
t0=$(th_now_us)
for s in $(seq 1 $((N - 1))); do
	tc n1 drill "drill $s" --json >>"$TH_DIR/replies" || th_fail "drill $s on n1 failed"
done
# The last one as a person sees it.
human=$(tc n1 drill "drill $N") || th_fail "drill $N on n1 failed: $human"
t1=$(th_now_us)
issue_ms=$(((t1 - t0) / 1000))
printf '%s\n' "$human" >"$TH_DIR/human"
python3 - "$TH_DIR" <<'PY' >"$TH_DIR/ids" || th_fail "bad replies: $(cat "$TH_DIR/replies")"
import json, re, sys
d = sys.argv[1]
rs = [json.loads(l) for l in open(f"{d}/replies") if l.strip()]
for r in rs:
    assert r["kind"] == "drill" and len(r["alert"]) == 64 and "held_ms" in r, r
    print(r["alert"], r["held_ms"])
m = re.search(r"alert ([0-9a-f]{16})", open(f"{d}/human").read())
print(m.group(1), -1)
PY
held=$(awk '$2 > 0' "$TH_DIR/ids" | wc -l)
th_log "issued $N drills in $issue_ms ms; $held of the first $((N - 1)) held (json), last: $human"
# 20 at once, then one per 6 s: issued within 12 s, at least the 21st and
# 22nd are over budget. A loaded machine that took longer proves nothing
# about holding (each would have had its token), but delivery is still checked.
if [ "$issue_ms" -lt 12000 ]; then
	[ "$held" -ge 1 ] || th_fail "21 drills in $issue_ms ms and none held: $(cat "$TH_DIR/ids")"
	[[ $human == *"rate limit: this alert leaves in "*" s (20 alerts at once, then 10 a minute)"* ]] ||
		th_fail "the 22nd drill does not say it is held: $human"
	th_pass "drills past the budget: stored, reply held_ms > 0, the client says when it leaves"
fi

# has_prefix NODE [FILE]: NODE holds every alert whose id (or prefix) is
# the first field of a line of FILE ($TH_DIR/ids).
has_prefix() {
	tc "$1" alerts --json | python3 -c '
import json, sys
have = {json.loads(l)["id"] for l in sys.stdin if l.strip()}
ids = [l.split()[0] for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if all(any(h.startswith(i) for h in have) for i in ids) else 1)' "${2:-$TH_DIR/ids}"
}
both_have() { has_prefix n2 "$@" && has_prefix n3 "$@"; }
# none_rate_limited WHAT: n2 and n3 dropped nothing of n1's as rate_limited.
none_rate_limited() {
	local i rl
	for i in 2 3; do
		rl=$(counter "n$i" alert.rate_limited)
		[ "$rl" = 0 ] || th_fail "n$i dropped $rl of n1's drills as rate_limited ($1)"
	done
}
# Without pacing the excess is rate_limited and comes back only with a
# digest round (3 to 5 min); paced, the last leaves ~(N - 20) x 6 s + 2 s
# after the burst.
th_poll 40 both_have || th_fail "n2/n3 lack some of the $N drills after 40 s: rate_limited n2=$(counter n2 alert.rate_limited) n3=$(counter n3 alert.rate_limited)"
t2=$(th_now_us)
th_log "all $N drills on n2 and n3 $(((t2 - t0) / 1000)) ms after the first was issued"
none_rate_limited "paced burst"
for i in 2 3; do
	pulled=$(counter "n$i" node.alert_rx_pulled)
	[ "$pulled" = 0 ] || th_log "n$i pulled $pulled (a digest round came meanwhile)"
done
th_pass "all $N drills reach n2 and n3 as paced pushes, none rate_limited"

# kill -9 while held (docs/node.md "Pacing after a restart"). n1's chatter
# budget is spent (22 drills in the last ~15 s): R more drills are held, one
# more every 6 s. n1 is killed at once and restarted from its store; its
# node rebuilds the budget from the stored drills' creation times and
# pushes the held ones when due. Before, the schedule died with the process:
# the link-up digests offered them at once, n2/n3 pulled them early and
# forwarded them as pushes the other dropped (rate_limited), or a digest
# round (3 to 5 min later) brought them.
R=3
: >"$TH_DIR/held"
for s in $(seq 1 $R); do
	tc n1 drill "after restart $s" --json | python3 -c '
import json, sys, time
r = json.load(sys.stdin)
print(r["alert"], r["held_ms"], int(time.time() * 1000) + r["held_ms"])' >>"$TH_DIR/held" ||
		th_fail "drill $s before the kill failed"
done
th_stop n1 KILL
t3=$(th_now_us)
nheld=$(awk '$2 > 0' "$TH_DIR/held" | wc -l)
[ "$nheld" -ge 1 ] || th_fail "none of $R drills held with the budget spent: $(cat "$TH_DIR/held")"
for i in 2 3; do pulled0[i]=$(counter "n$i" node.alert_rx_pulled); done
tm_start 1
grep -q 'alerts_loaded=' "${TH_LOG[n1]}" || th_fail "n1 restarted without replaying its store"
th_poll 20 tm_linked 3 || th_fail "n1 did not link again after the restart"
t4=$(th_now_us)
th_log "n1 killed with $nheld of $R drills held, up and linked again $(((t4 - t3) / 1000)) ms later"
# Not offered early: the last one is due later than now + 3 s? Then 2 s
# after the links came up n2/n3 must not have it yet (the link-up digests
# would have let them pull it at once).
read -r last_id _ last_due < <(tail -n 1 "$TH_DIR/held")
now_ms=$(($(th_now_us) / 1000))
if [ "$last_due" -gt $((now_ms + 3000)) ]; then
	sleep 2 # a negative check: nothing may arrive in this window
	for i in 2 3; do
		! has_alert "n$i" "$last_id" || th_fail "n$i has the last held drill $((last_due - now_ms)) ms before it was due (offered by the link-up digest)"
	done
	th_pass "held drills not offered by the link-up digests before they are due"
else
	th_log "restart too slow to check early offers (last drill due in $((last_due - now_ms)) ms)"
fi
th_poll 40 both_have "$TH_DIR/held" || th_fail "n2/n3 lack the drills held at n1's kill 40 s after its restart (a digest round is 3 to 5 min away): rate_limited n2=$(counter n2 alert.rate_limited) n3=$(counter n3 alert.rate_limited)"
t5=$(th_now_us)
th_log "the $R drills held at the kill on n2 and n3 $(((t5 - t4) / 1000)) ms after the restart, $(((t5 - t3) / 1000)) ms after the kill"
# Before a digest round could have brought them: the first round after a
# link comes up is 3 to 5 min away (anti-entropy 4 min +-25 %), and we are
# within 40 s; a pull at the link-up digest happens only after the push
# left (checked above), so the pulled count is logged, not required to be 0.
none_rate_limited "restart"
for i in 2 3; do
	while read -r id _; do
		c=$(grep -c " alert id=${id:0:16} " "${TH_LOG[n$i]}")
		[ "$c" = 1 ] || th_fail "n$i notified drill ${id:0:16} $c times"
	done <"$TH_DIR/held"
	th_log "n$i pulled $(($(counter "n$i" node.alert_rx_pulled) - pulled0[i])) since the kill"
done
th_pass "drills held at a kill -9 reach n2 and n3 after the restart, once each, none rate_limited, no digest round"

tm_stop_all 3
