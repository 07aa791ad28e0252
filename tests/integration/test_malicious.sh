#!/usr/bin/env bash
# A malicious or turned member (THREAT-MODEL): she holds real keys (m4,
# seeded by mkmesh, driven by tests/tools/adversary) and links to the honest
# daemons n1..n3 as herself, then sends crafted frames: a panic in m2's
# name, a notice without the coordinator role, one seq with many different
# contents (equivocation, shown to the coordinator by tocsin audit), a flood of panics past her rate limit while m2
# sends a real panic, and, once the coordinator has revoked her, her alerts
# replayed through an accomplice (m5) and a fresh dial with her old keys;
# last, m5 floods alerts with bad signatures (her link closed, quarantined).
# Each must be rejected, counted (status --json "counters"), logged
# rate-limited, stored nowhere, and the others unaffected.
. "$TH_LIB"
: "${ADVERSARY:?}" "${TOCSIN_PO:?}"
th_init

. "$(dirname "$TH_LIB")/mesh.sh"
tm_seed mal-net 5
# n1 (m1, the coordinator) logs at debug: the drops must be rate-limited there too.
tm_start 1 --log-level debug
tm_start 2
tm_start 3
P1=${PORTS[0]}
M4=$TH_DIR/n4
th_poll 20 tm_linked 3 || th_fail "the 3 honest daemons did not link"
ctrs() { counters n1; }
hwm0=$(tm_kib "${TH_PID[n1]}" VmHWM)

on_none() {
	local i
	for i in 1 2 3; do
		! has_alert "n$i" "$1" || th_fail "$2: alert ${1:0:16} is stored on n$i"
	done
}
val() { sed -n "s/^$1=//p" "$2" | tail -n 1; }
# adv NAME ARGS...: run the tool as m4 against n1, output in $TH_DIR/NAME.out.
adv() {
	local name=$1; shift
	"$ADVERSARY" member "$M4" m1 "$P1" "$@" >"$TH_DIR/$name.out" 2>&1 ||
		th_fail "$name: $(cat "$TH_DIR/$name.out")"
	grep -q '^linked=yes$' "$TH_DIR/$name.out" || th_fail "$name: m4 did not link"
}

# 1. A panic in m2's name, signed by m4.
adv forge forge 100 m2
FID=$(val forged_id "$TH_DIR/forge.out")
th_poll 5 ge n1 alert.bad_signature 1 || th_fail "forgery not counted: $(ctrs)"
on_none "$FID" "forgery"
th_pass "a panic forged in m2's name: bad_signature counted, stored nowhere"

# 2. A notice from a member.
adv notice notice 101
NID=$(val notice_id "$TH_DIR/notice.out")
th_poll 5 ge n1 alert.notice_forbidden 1 || th_fail "notice not counted: $(ctrs)"
on_none "$NID" "notice"
th_pass "a notice from a member without the coordinator role: notice_forbidden counted, stored nowhere"

# 3. Equivocation: seq 102 first as one drill, then 40 other versions.
adv equivocate equivocate 102 41
E1=$(val first_id "$TH_DIR/equivocate.out")
E2=$(val second_id "$TH_DIR/equivocate.out")
th_poll 5 on_all "$E1" || th_fail "the first version of seq 102 did not spread"
th_poll 5 ge n1 alert.equivocation 40 || th_fail "equivocation not counted 40 times: $(ctrs)"
on_none "$E2" "equivocation"
ge n1 node.conflict 40 || th_fail "no conflict evidence kept: $(ctrs)"
nconf=$(grep -c 'alert_conflict' "${TH_LOG[n1]}")
[ "$nconf" -ge 1 ] || th_fail "no alert_conflict in n1's log"
[ "$nconf" -le 25 ] || th_fail "alert_conflict logged $nconf times for 40 conflicts: not rate-limited"
th_pass "seq reuse: first version everywhere, 40 others refused as equivocation, counted, logged $nconf times"
# The evidence for coordinators: n1 (m1, the coordinator) lists the pair in
# `tocsin audit` (ids as the adversary computed them: the stored first
# version and the first other one); m2, a member, is refused as before.
tc n1 audit --json >"$TH_DIR/audit.json" || th_fail "audit on n1 failed"
python3 - "$TH_DIR/audit.json" "$E1" "$E2" "$(($(date +%s) * 1000))" <<'PY' || th_fail "no conflict in n1's audit: $(cat "$TH_DIR/audit.json")"
import json, sys
path, e1, e2, now = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
items = [json.loads(l) for l in open(path) if l.strip()]
assert any(i.get("type") == "genesis" for i in items), "the roster records are gone"
c = [i for i in items if i.get("type") == "conflict"]
assert len(c) == 1, c
c = c[0]
assert c["author_name"] == "m4" and len(c["author"]) == 16, c
assert c["seq"] == 102, c
assert (c["alert_a"], c["alert_b"]) == (e1, e2), (c, e1, e2)
assert now - 120_000 <= c["seen_ms"] <= now + 5_000, c
PY
tc n1 audit >"$TH_DIR/audit.txt" || th_fail "audit (human) on n1 failed"
grep -Eq "^     [0-9-]{10} [0-9:]{8} [^ ]+  conflict m4 \([0-9a-f]{16}\) signed two different alerts as number 102: ${E1:0:16} and ${E2:0:16}$" \
	"$TH_DIR/audit.txt" || th_fail "no conflict line in n1's audit: $(cat "$TH_DIR/audit.txt")"
# In Arabic (the locale is required by tocsind-client_i18n, which fails without it).
if locale -a | grep -qix 'ar_IQ.utf8'; then
	LANG=ar_IQ.UTF-8 LC_ALL='' TOCSIN_LOCALEDIR=$TOCSIN_PO tc n1 audit >"$TH_DIR/audit-ar.txt" ||
		th_fail "audit in Arabic"
	grep -qF "conflict m4 (" "$TH_DIR/audit-ar.txt" &&
		grep -qF ") وقّعت نداءين مختلفين بالرقم التسلسلي نفسه 102: ${E1:0:16} و${E2:0:16}" "$TH_DIR/audit-ar.txt" ||
		th_fail "no Arabic conflict line: $(cat "$TH_DIR/audit-ar.txt")"
fi
tc n2 audit --json >"$TH_DIR/audit2.json" 2>"$TH_DIR/audit2.err"; rc=$?
[ "$rc" = 1 ] || th_fail "audit by a member: exit $rc"
grep -q '"not_coordinator"' "$TH_DIR/audit2.json" || th_fail "member's audit: $(cat "$TH_DIR/audit2.json")"
grep -q conflict "$TH_DIR/audit2.json" "$TH_DIR/audit2.err" && th_fail "a member sees the conflict"
th_pass "the coordinator's audit lists m4's equivocation (seq 102, both alert ids, when); a member is refused"

# 4. A panic flood from m4 for 8 s, 5 000 a second (a shared CI machine
# cannot take the tool's full speed, ~15 000/s), m2's real panic meanwhile.
"$ADVERSARY" member "$M4" m1 "$P1" flood 1000 8 panic 5000 >"$TH_DIR/flood.out" 2>&1 &
flood=$!
th_poll 10 ge n1 alert.rate_limited 50 || th_fail "the flood did not reach the rate limit: $(ctrs)"
t0=$(th_now_us)
out=$(tc n2 panic "real panic during the flood" --json) || th_fail "panic on n2 failed: $out"
flood_on=yes # still flooding once m2's panic has left n2?
kill -0 "$flood" 2>/dev/null || flood_on=no
PID_=$(printf '%s' "$out" | alert_id)
th_poll 10 on_all "$PID_" || th_fail "m2's panic did not reach all 3 within 10 s during the flood"
ms=$((($(th_now_us) - t0) / 1000))
wait "$flood" || th_fail "flood: $(cat "$TH_DIR/flood.out")"
sent=$(val flood_sent "$TH_DIR/flood.out")
limited=$(counter n1 alert.rate_limited)
th_log "flood: m4 sent $sent panics in 8 s; n1 rate-limited $limited; m2's panic on all 3 in $ms ms (polled)"
# The daemons' own clocks: stored on n2 -> shown on n1 (flooded) and n3.
python3 - "$TH_DIR" "${PID_:0:16}" <<'PY' >&2 || th_fail "m2's panic was delayed by the flood"
import datetime, sys
d, short = sys.argv[1], sys.argv[2]
def ts(line):
    return datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
sent = [ts(l) for l in open(f"{d}/n2.log") if f"alert_sent id={short}" in l][0]
for i in (1, 3):
    got = [ts(l) for l in open(f"{d}/n{i}.log") if f"alert id={short}" in l][0]
    ms = (got - sent).total_seconds() * 1000
    print(f"# daemon logs: m2's panic stored on n2 -> shown on n{i}: {ms:.1f} ms")
    if ms > 1000:
        sys.exit(f"n{i} showed m2's panic {ms:.0f} ms after n2 sent it, during the flood")
PY
# m4's urgent budget: burst 5, then 1 a minute. n1 holds at most 6 of the
# flood's panics and forwarded no more to n2 and n3.
held() {
	tc "$1" alerts --json | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if l.strip() and json.loads(l).get("author_name") == "m4" and json.loads(l)["kind"] == "panic"))'
}
for i in 1 2 3; do
	h=$(held "n$i")
	[ "$h" -le 6 ] || th_fail "n$i holds $h of m4's flood panics (budget: burst 5 + 1/min)"
done
[ "$limited" -ge $((sent - 6)) ] || th_fail "sent $sent, only $limited rate-limited"
ndrop=$(grep -c 'alert_dropped' "${TH_LOG[n1]}")
[ "$ndrop" -le 100 ] || th_fail "$ndrop alert_dropped lines for $limited drops: not rate-limited"
grep -q 'alert_dropped.*suppressed=' "${TH_LOG[n1]}" || th_fail "no suppressed= count on the drop lines"
th_pass "flood of $sent panics: $limited rate-limited, <= 6 held anywhere, $ndrop log lines; m2's panic reached all in $ms ms"

# 5. Revocation: m4 linked (and m5, her accomplice, too); she sends one
# drill; the coordinator revokes her; then her alerts through m5, and a
# fresh dial with her keys.
links_before=$(links_of n1)
"$ADVERSARY" member "$M4" m1 "$P1" revoked 2000 "$TH_DIR/n5" >"$TH_DIR/revoked.out" 2>&1 &
rv=$!
th_poll 10 grep -q '^ready$' "$TH_DIR/revoked.out" || th_fail "revoked: $(cat "$TH_DIR/revoked.out")"
SID=$(val sent_id "$TH_DIR/revoked.out")
th_poll 5 on_all "$SID" || th_fail "m4's drill before the revocation did not spread"
tc n1 revoke m4 >/dev/null || th_fail "revoke m4 failed"
wait "$rv" || th_fail "revoked: $(cat "$TH_DIR/revoked.out")"
th_log "revoked: $(tr '\n' ' ' <"$TH_DIR/revoked.out")"
grep -q '^revoked_link_closed=yes$' "$TH_DIR/revoked.out" || th_fail "n1 kept m4's link after revoking her"
ge n1 node.link_revoked 1 || th_fail "link_revoked not counted: $(ctrs)"
th_poll 5 ge n1 alert.revoked_author 3 || th_fail "replays after revocation not counted: $(ctrs)"
on_none "$(val held_id "$TH_DIR/revoked.out")" "held-back alert replayed after revocation"
on_none "$(val after_id "$TH_DIR/revoked.out")" "alert sealed after revocation"
grep -q '^accomplice_link_up=yes$' "$TH_DIR/revoked.out" || th_fail "n1 dropped m5's link for relaying"
b=$(val revoked_redial_bytes_back "$TH_DIR/revoked.out")
# She still holds the PSK she had (the previous epoch's, accepted for the
# grace window), but message 1 names and signs for her identity and n1
# asks the roster before answering (docs/link.md): not one byte back.
[ "$b" = 0 ] || th_fail "revoked member re-dialing with her old keys got $b bytes back"
ge n1 link.rej_identity 1 || th_fail "her re-dial not counted as link.rej_identity: $(ctrs)"
th_log "revoked member re-dialing with her old keys got $b bytes back (rej_identity)"
th_log "n1 links before: $links_before, now: $(links_of n1); peers: $(tc n1 peers --json | tr '\n' ' ')"
tc n1 peers --json | python3 -c '
import json, sys
up = [p for p in (json.loads(l) for l in sys.stdin if l.strip()) if p["state"] == "up"]
assert not any(p.get("name") == "m4" for p in up), up' || th_fail "m4 is linked to n1 after her revocation"
th_pass "after revocation: m4's link closed, her replayed/held/new alerts refused as revoked_author, stored nowhere, no link for her, no byte back to her re-dial"

# Others unaffected: a panic still reaches all 3.
out=$(tc n3 panic "after it all" --json) || th_fail "panic on n3 failed"
AID=$(printf '%s' "$out" | alert_id)
th_poll 5 on_all "$AID" || th_fail "the last panic did not reach all 3"
th_log "n1 counters: $(ctrs)"
hwm1=$(tm_kib "${TH_PID[n1]}" VmHWM)
printf 'n1 peak memory (VmHWM): %s KiB before, %s KiB after the malicious member (+%s KiB)\n' "$hwm0" "$hwm1" "$((hwm1 - hwm0))"
[ $((hwm1 - hwm0)) -le 32768 ] || th_fail "n1's peak memory grew by $((hwm1 - hwm0)) KiB"
th_pass "honest members unaffected: a panic from n3 reaches all 3"

# 6. A bad-signature flood (docs/node.md "Bad signatures and quarantine"),
# by m5 (m4 is revoked by now): 40 drills claiming m2 and m3 in turn, each
# under their budget, each with m5's signature. n1 verifies 8, closes her
# link, refuses her re-dial without a byte; m2's panic still arrives.
bs0=$(counter n1 alert.bad_signature)
"$ADVERSARY" member "$TH_DIR/n5" m1 "$P1" badsig 5000 40 m2 m3 >"$TH_DIR/badsig.out" 2>&1 ||
	th_fail "badsig: $(cat "$TH_DIR/badsig.out")"
th_log "badsig: $(tr '\n' ' ' <"$TH_DIR/badsig.out")"
grep -q '^badsig_link_closed=yes$' "$TH_DIR/badsig.out" || th_fail "n1 kept the link of a bad-signature flood"
ge n1 node.link_bad_sig_closed 1 || th_fail "link_bad_sig_closed not counted: $(ctrs)"
ge n1 node.quarantined 1 || th_fail "quarantined not counted: $(ctrs)"
bs=$(($(counter n1 alert.bad_signature) - bs0))
[ "$bs" = 8 ] || th_fail "n1 verified $bs of the flood's signatures, not 8"
b=$(val badsig_redial_bytes_back "$TH_DIR/badsig.out")
[ "$b" = 0 ] || th_fail "quarantined member re-dialing got $b bytes back"
ge n1 node.quarantine_refused 1 || th_fail "her re-dial not counted as quarantine_refused: $(ctrs)"
grep -q 'link close reason=bad_signatures' "${TH_LOG[n1]}" || th_fail "no bad_signatures close in n1's log"
out=$(tc n2 panic "after the bad-signature flood" --json) || th_fail "panic on n2 failed"
BID=$(printf '%s' "$out" | alert_id)
th_poll 5 on_all "$BID" || th_fail "m2's panic did not reach all 3 after the bad-signature flood"
th_pass "bad-signature flood: $bs verified, link closed, re-dial refused without a byte, m2's panic on all 3"

tm_stop_all 3
th_pass "clean shutdown"
