#!/usr/bin/env bash
# Five tocsind members on loopback (seeded by tests/tools/mkmesh, without
# the join protocol): a panic reaches all, receipts come back, a member's
# notice is refused, kill -9 right after storing loses nothing and does not
# notify twice, a stopped daemon catches up, a non-member gets nothing.
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}"
th_init

N=5
mapfile -t PORTS < <(th_free_ports $((N + 1)))
args=()
for i in $(seq 1 $N); do args+=("$TH_DIR/n$i:${PORTS[$((i - 1))]}"); done
"$MKMESH" --name it-net "${args[@]}" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"

# Small keepalive (dead peer after 2.5 x 2 s), and an on_alert hook per
# daemon that appends "ID KIND" to a file: counts notifications.
conf() {
	local i=$1
	cat >"$TH_DIR/n$i/on_alert.sh" <<SH
#!/bin/sh
printf '%s %s\n' "\$TOCSIN_ALERT_ID" "\$TOCSIN_ALERT_KIND" >>"$TH_DIR/n$i.notified"
printf '%s' "\$TOCSIN_ALERT_TEXT" >"$TH_DIR/n$i.lasttext"
SH
	chmod 700 "$TH_DIR/n$i/on_alert.sh"
	printf '[links]\nkeepalive = 2\n[notify]\non_alert = %s\n' "$TH_DIR/n$i/on_alert.sh" \
		>"$TH_DIR/n$i/tocsind.conf"
	chmod 600 "$TH_DIR/n$i/tocsind.conf"
}
for i in $(seq 1 $N); do
	conf "$i"
	th_start_at "n$i" "${PORTS[$((i - 1))]}"
done

tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
links_of() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])'; }
all_linked() {
	local i
	for i in $(seq 1 $N); do
		[ "$(links_of "n$i")" -ge $((N - 1)) ] || return 1
	done
}
th_poll 20 all_linked || th_fail "not every daemon has $((N - 1)) links"
th_pass "5 daemons from mkmesh: every one linked to the 4 others"

# Subscriber on n3: counts alert events.
th_spawn w3 "$TOCSIN" --home "$TH_DIR/n3" watch --json
th_poll 5 grep -q '"hello"' "${TH_LOG[w3]}" || th_fail "watch on n3 did not start"

# has_alert NODE ID [TEXT]: NODE's alerts --json holds ID (with TEXT, byte-exact).
has_alert() {
	tc "$1" alerts --json | python3 -c '
import json, sys
items = [json.loads(l) for l in sys.stdin if l.strip()]
want = sys.argv[1]
text = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
for a in items:
    if a["id"] == want and (text is None or a.get("text") == text):
        sys.exit(0)
sys.exit(1)' "$2" "${3-}"
}
all_have() {
	local i
	for i in $(seq 1 $N); do has_alert "n$i" "$@" || return 1; done
}

TEXT='النجدة، أنا في خطر'
t0=$(th_now_us)
out=$(tc n2 panic "$TEXT" --json) || th_fail "panic on n2 failed: $out"
ID=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])')
[ ${#ID} = 64 ] || th_fail "panic reply without an alert id: $out"
th_poll 10 all_have "$ID" "$TEXT" || th_fail "the panic did not reach all 5 with its text byte-exact"
t1=$(th_now_us)
th_log "panic to all 5 (alerts --json polled every 20 ms): $(((t1 - t0) / 1000)) ms"
th_pass "panic on n2 reaches all 5 daemons, Arabic text byte-exact in alerts --json"

delivered() {
	tc n2 alerts --json | python3 -c '
import json, sys
for a in [json.loads(l) for l in sys.stdin if l.strip()]:
    if a["id"] == sys.argv[1]:
        sys.exit(0 if (a.get("delivered"), a.get("members")) == (4, 4) else 1)
sys.exit(1)' "$ID"
}
th_poll 10 delivered || th_fail "author did not see delivered 4 / 4"
t2=$(th_now_us)
th_log "panic to delivered 4/4 at the author (polled): $(((t2 - t0) / 1000)) ms"
# The daemons' own clocks: alert_sent on n2 to the last NOTIFY elsewhere.
python3 - "$TH_DIR" "${ID:0:16}" <<'PY' >&2
import datetime, re, sys
d, short = sys.argv[1], sys.argv[2]
def ts(line):
    return datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
sent = [ts(l) for l in open(f"{d}/n2.log") if f"alert_sent id={short}" in l][0]
last = max(ts(l) for i in (1, 3, 4, 5) for l in open(f"{d}/n{i}.log") if f"alert id={short}" in l)
rc = [ts(l) for l in open(f"{d}/n2.log") if f"receipt id={short}" in l and "delivered=4" in l][0]
print(f"# daemon logs: panic stored on n2 -> shown on all 4 others: {(last - sent).total_seconds() * 1000:.1f} ms;"
      f" -> 4/4 receipts at n2: {(rc - sent).total_seconds() * 1000:.1f} ms")
PY
out=$(timeout 5 "$TOCSIN" --home "$TH_DIR/n2" alerts) || th_fail "alerts (human) failed"
printf '%s' "$out" | grep -q 'delivered 4 / 4' || th_fail "human alerts without delivered 4 / 4: $out"
th_pass "the author sees delivered 4 / 4 (N = the other active members)"

grep -q "^$ID panic\$" "$TH_DIR/n3.notified" || th_fail "on_alert did not run on n3"
[ "$(cat "$TH_DIR/n3.lasttext")" = "$TEXT" ] || th_fail "on_alert TEXT is not byte-exact"
python3 - "${TH_LOG[w3]}" "$ID" "$TEXT" <<'PY' || th_fail "n3's subscriber: no complete alert event"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
a = [e for e in evs if e.get("event") == "alert" and e.get("alert") == sys.argv[2]]
assert len(a) == 1, a
e = a[0]
assert e["kind"] == "panic" and e["author_name"] == "m2" and e["text"] == sys.argv[3], e
assert e["severity"] == "critical" and e["violation"] == "other" and e["created_ms"] > 0, e
PY
grep -q "$TEXT" "$TH_DIR/n3.log" && th_fail "the alert text is in n3's log at info level"
th_pass "NOTIFY: subscriber event, on_alert with the text in its environment, no text in the log"

# notice: a member is refused, the coordinator (m1, the founder) is not.
if tc n2 notice "members cannot send this" 2>"$TH_DIR/notice.err"; then
	th_fail "notice from a member succeeded"
fi
grep -qi coordinator "$TH_DIR/notice.err" || th_fail "notice refusal does not say why: $(cat "$TH_DIR/notice.err")"
out=$(tc n1 notice "meeting moved to 18:00" --json) || th_fail "notice from the coordinator failed"
NID=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])')
th_poll 10 all_have "$NID" || th_fail "the coordinator's notice did not reach all"
th_pass "notice: refused for a member (exit != 0, says coordinator), delivered for the coordinator"

# kill -9 n4 right after it stored and notified a new alert; restart.
out=$(tc n5 drill "drill before the crash" --json) || th_fail "drill failed"
DID=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])')
th_poll 10 grep -q "^$DID drill\$" "$TH_DIR/n4.notified" || th_fail "n4 never notified the drill"
kill -KILL "${TH_PID[n4]}"
th_wait_exit "${TH_PID[n4]}" 5 || th_fail "n4 survived SIGKILL"
th_start_at n4 "${PORTS[3]}"
has_alert n4 "$DID" || th_fail "the drill is not in n4's store after kill -9"
has_alert n4 "$ID" "$TEXT" || th_fail "the panic is not in n4's store after kill -9"
th_poll 20 bash -c "[ \"\$(\"$TOCSIN\" --home \"$TH_DIR/n4\" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"links\"])')\" -ge 2 ]" ||
	th_fail "n4 did not relink after restart"
sleep 2 # a duplicate notification would come at start or at relink
[ "$(grep -c "^$DID " "$TH_DIR/n4.notified")" = 1 ] || th_fail "n4 notified the drill $(grep -c "^$DID " "$TH_DIR/n4.notified") times"
[ "$(grep -c "^$ID " "$TH_DIR/n4.notified")" = 1 ] || th_fail "n4 notified the panic again after restart"
th_pass "kill -9 right after store+notify: alerts kept, each notified exactly once across the restart"

# SIGSTOP n5 past dead-peer detection (2.5 x 2 s), send alerts, SIGCONT.
kill -STOP "${TH_PID[n5]}"
sleep 6
ids=()
for k in 1 2 3; do
	out=$(tc n1 drill "while n5 sleeps $k" --json) || th_fail "drill $k failed"
	ids+=("$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])')")
done
sleep 1
kill -CONT "${TH_PID[n5]}"
N5FP=$(awk -v h="$TH_DIR/n5" '$1 == h {print $2}' "$TH_DIR/mkmesh.out")
grep -q "link_down .*peer=$N5FP" "$TH_DIR/n1.log" ||
	th_fail "n1 never dropped the link to the stopped n5 (keepalive not exercised)"
t0=$(th_now_us)
caught_up() { local a; for a in "${ids[@]}"; do has_alert n5 "$a" || return 1; done; }
th_poll 30 caught_up || th_fail "n5 did not catch up after SIGCONT"
th_log "n5 caught up 3 alerts $(((($(th_now_us) - t0)) / 1000)) ms after SIGCONT"
th_pass "SIGSTOP past the keepalive, 3 alerts sent meanwhile, SIGCONT: all caught up"

# A non-member: a daemon of another network whose roster says one of its
# members is at n1's port. It dials n1, which must not link with it.
mapfile -t OPORT < <(th_free_ports 1)
"$MKMESH" --name other-net "$TH_DIR/o1:${OPORT[0]}" "$TH_DIR/ghost:${PORTS[0]}" >"$TH_DIR/other.out" ||
	th_fail "mkmesh (other network)"
th_start_at o1 "${OPORT[0]}" --log-level debug
th_wait_log o1 'dial peer=.* addr=127\.0\.0\.1:'"${PORTS[0]}" 10
out=$(tc n1 drill "not for strangers" --json) || th_fail "drill failed"
sleep 3
[ "$(links_of o1)" = 0 ] || th_fail "the non-member got a link"
oal=$(tc o1 alerts --json) || th_fail "alerts --json on o1 failed"
[ -z "$oal" ] || th_fail "the non-member holds alerts: $oal"
O1FP=$(awk -v h="$TH_DIR/o1" '$1 == h {print $2}' "$TH_DIR/other.out")
[ -n "$O1FP" ] || th_fail "no fingerprint for o1"
grep -q "link_up .*peer=$O1FP" "$TH_DIR/n1.log" && th_fail "n1 linked the stranger"
[ "$(links_of n1)" -ge $((N - 1)) ] || th_fail "n1 lost links to members"
tc n1 peers --json | python3 -c '
import json, sys
peers = [json.loads(l) for l in sys.stdin if l.strip()]
assert len([p for p in peers if p["state"] == "up"]) == 4, peers' || th_fail "n1's peers: not exactly the 4 members up"
th_pass "a non-member (another network) dialing n1 gets no link and no alert"

# Every list parses as JSON.
for i in $(seq 1 $N); do
	for what in alerts members peers; do
		tc "n$i" "$what" --json | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' ||
			th_fail "n$i $what --json does not parse"
	done
done
th_pass "alerts, members, peers --json parse on every daemon"

for i in $(seq 1 $N) ; do th_stop "n$i"; [ "$TH_STATUS" = 0 ] || th_fail "n$i exit $TH_STATUS"; done
th_stop o1
th_pass "clean shutdown"
