#!/usr/bin/env bash
# A five-daemon network built only with the real commands: the founder
# runs init + network create and invites four (one as coordinator); each
# runs init + join CODE. Safety numbers match on both sides, every daemon
# lists the same five, a panic reaches all with 4/4 receipts. The second
# coordinator revokes a member: everyone sees it, her links close, her
# panic is dropped, the other four still exchange one. A reused and a
# mistyped code are refused; a member's restart keeps the roster.
. "$TH_LIB"
: "${TOCSIN:?}"
th_init

N=5
tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

conf() {
	mkdir -p "$TH_DIR/$1"
	chmod 700 "$TH_DIR/$1"
	printf '[links]\nkeepalive = 2\n' >"$TH_DIR/$1/tocsind.conf"
	chmod 600 "$TH_DIR/$1/tocsind.conf"
}
for i in $(seq 1 $N); do
	conf "n$i"
	th_start "n$i"
	tc "n$i" init --json >"$TH_DIR/n$i.init" || th_fail "init n$i"
done
tc n1 network create it-net --name ana --json >"$TH_DIR/create.out" || th_fail "network create"
NID=$(jget network_id <"$TH_DIR/create.out")
th_pass "founder: init + network create ($NID)"

# A device with no network cannot invite.
if tc n2 invite --name x 2>"$TH_DIR/e.err"; then th_fail "invite without a network"; fi
grep -q 'not in a network' "$TH_DIR/e.err" || th_fail "invite without network: $(cat "$TH_DIR/e.err")"

# join NODE NAME [ROLE]: invite on n1 (--wait in the background), join on
# NODE; both sides print the same safety number.
join() {
	local node=$1 name=$2 role=${3:-member} inviter=${4:-n1}
	tc "$inviter" invite --name "$name" --role "$role" --json --wait --timeout 30 \
		>"$TH_DIR/inv.$node" 2>&1 &
	local ipid=$!
	th_poll 10 grep -q '"code"' "$TH_DIR/inv.$node" || th_fail "invite for $name: $(cat "$TH_DIR/inv.$node")"
	local code
	code=$(head -n 1 "$TH_DIR/inv.$node" | jget code)
	local t0 t1
	t0=$(th_now_us)
	tc "$node" join "$code" --name "$name" --json --timeout 30 >"$TH_DIR/join.$node" 2>&1 ||
		th_fail "join $node: $(cat "$TH_DIR/join.$node")"
	t1=$(th_now_us)
	wait "$ipid" || th_fail "invite --wait for $name: $(cat "$TH_DIR/inv.$node")"
	local s_new s_coord
	s_new=$(jget safety_number <"$TH_DIR/join.$node")
	s_coord=$(tail -n 1 "$TH_DIR/inv.$node" | jget safety_number)
	[ -n "$s_new" ] && [ "$s_new" = "$s_coord" ] ||
		th_fail "safety numbers differ: $s_new vs $s_coord"
	[ "$(jget name <"$TH_DIR/join.$node")" = ana ] || th_fail "$node: not admitted by ana"
	[ "$(tail -n 1 "$TH_DIR/inv.$node" | jget name)" = "$name" ] ||
		th_fail "the coordinator's joined event does not name $name"
	th_log "join $name ($role): $(((t1 - t0) / 1000)) ms, safety number $s_new on both sides"
	printf '%s\n' "$code" >"$TH_DIR/code.$node"
}
join n2 bea coordinator
join n3 cleo
join n4 dana
join n5 eva
th_pass "4 joined with invite/join, admitted by ana; both sides name each other and print equal safety numbers"

# members_sig NODE: sorted "fingerprint role active" lines.
members_sig() {
	tc "$1" members --json | python3 -c '
import json, sys
for m in sorted([json.loads(l) for l in sys.stdin if l.strip()], key=lambda m: m["fingerprint"]):
    print(m["fingerprint"], m["name"], m["role"], m["active"])'
}
same_members() {
	local ref i
	ref=$(members_sig n1)
	[ "$(printf '%s\n' "$ref" | grep -c ' True$')" = 5 ] || return 1
	for i in $(seq 2 $N); do [ "$(members_sig "n$i")" = "$ref" ] || return 1; done
}
th_poll 15 same_members || th_fail "members differ: $(for i in 1 2 3 4 5; do members_sig n$i; echo; done)"
th_pass "every daemon's members shows the same 5 (names, roles)"

links_of() { tc "$1" status --json | jget links; }
has_alert() {
	tc "$1" alerts --json | python3 -c '
import json, sys
sys.exit(0 if any(a["id"] == sys.argv[1] and a.get("opened") for a in [json.loads(l) for l in sys.stdin if l.strip()]) else 1)' "$2"
}
delivered() {
	tc "$1" alerts --json | python3 -c '
import json, sys
for a in [json.loads(l) for l in sys.stdin if l.strip()]:
    if a["id"] == sys.argv[1]:
        sys.exit(0 if (a.get("delivered"), a.get("members")) == (int(sys.argv[2]), int(sys.argv[2])) else 1)
sys.exit(1)' "$2" "$3"
}
all_have() { local id=$1 i; shift; for i in "$@"; do has_alert "$i" "$id" || return 1; done; }

out=$(tc n3 panic "help" --json) || th_fail "panic: $out"
ID=$(printf '%s' "$out" | jget alert)
th_poll 15 all_have "$ID" n1 n2 n3 n4 n5 || th_fail "the panic did not reach all 5"
th_poll 15 delivered n3 "$ID" 4 || th_fail "no 4/4 receipts at the author"
th_pass "a panic reaches all 5 (opened) with delivered 4 / 4"

# Members cannot invite or revoke.
if tc n3 invite --name x 2>"$TH_DIR/e.err"; then th_fail "a member invited"; fi
grep -q 'only a coordinator can invite' "$TH_DIR/e.err" || th_fail "member invite: $(cat "$TH_DIR/e.err")"
if tc n3 revoke eva 2>"$TH_DIR/e.err"; then th_fail "a member revoked"; fi
grep -q 'only a coordinator can revoke' "$TH_DIR/e.err" || th_fail "member revoke: $(cat "$TH_DIR/e.err")"
th_pass "a member's invite and revoke are refused (coordinators only)"

# ---- revoke: bea (second coordinator, n2) revokes dana (n4) ----------------
fp4=$(tc n4 id --json | jget fingerprint)
t0=$(th_now_us)
tc n2 revoke dana --json >"$TH_DIR/revoke.out" || th_fail "revoke: $(cat "$TH_DIR/revoke.out")"
revoked_on() {
	tc "$1" members --json | python3 -c '
import json, sys
sys.exit(0 if any(m["name"] == "dana" and not m["active"] for m in [json.loads(l) for l in sys.stdin if l.strip()]) else 1)'
}
all_revoked() { local i; for i in n1 n2 n3 n5; do revoked_on "$i" || return 1; done; }
th_poll 10 all_revoked || th_fail "not every remaining daemon shows dana revoked"
t1=$(th_now_us)
th_log "revocation seen by all 4 remaining daemons: $(((t1 - t0) / 1000)) ms"
no_links_n4() { [ "$(links_of n4)" = 0 ]; }
th_poll 10 no_links_n4 || th_fail "the revoked device still has links: $(tc n4 peers)"
th_pass "second coordinator revokes dana: all 4 show her revoked, her links are down"

# Her daemon still stores her panic (a panic never waits for peers) ...
out=$(tc n4 panic "from revoked" --json) || th_fail "panic on the revoked device: $out"
RID=$(printf '%s' "$out" | jget alert)
out=$(tc n5 panic "after revoke" --json) || th_fail "panic after revoke: $out"
ID2=$(printf '%s' "$out" | jget alert)
th_poll 15 all_have "$ID2" n1 n2 n3 n5 || th_fail "the remaining four do not exchange a panic"
th_poll 15 delivered n5 "$ID2" 3 || th_fail "no 3/3 receipts after revoke"
# ... but nobody else has it (checked after the others' panic went round,
# so it had time to arrive if anything carried it).
for i in n1 n2 n3 n5; do
	if has_alert "$i" "$RID"; then th_fail "$i shows the revoked member's panic"; fi
done
th_pass "the revoked member's panic is dropped; the remaining four exchange one (3 / 3)"

# ---- members: safety number, last seen, revoked --------------------------
# member_field NODE NAME FIELD: that member's field in NODE's members --json.
member_field() {
	tc "$1" members --json | python3 -c '
import json, sys
for m in [json.loads(l) for l in sys.stdin if l.strip()]:
    if m["name"] == sys.argv[1]:
        print(m.get(sys.argv[2], ""))' "$2" "$3"
}
[ "$(member_field n1 cleo safety_number)" = "$(jget safety_number <"$TH_DIR/join.n3")" ] ||
	th_fail "members: cleo's safety number on ana's device differs from the one shown at the join"
[ "$(member_field n3 ana safety_number)" = "$(jget safety_number <"$TH_DIR/join.n3")" ] ||
	th_fail "members: ana's safety number on cleo's device differs from the join's"
[ "$(member_field n1 dana revoked)" = True ] || th_fail "members: dana not shown revoked"
[ "$(member_field n1 cleo revoked)" = False ] || th_fail "members: cleo shown revoked"
seen_dana=$(member_field n1 dana last_seen_ms)
now_ms=$(($(th_now_us) / 1000))
[ -n "$seen_dana" ] && [ "$seen_dana" -le "$now_ms" ] && [ "$seen_dana" -gt $((now_ms - 120000)) ] ||
	th_fail "members: dana's last seen is '$seen_dana' (now $now_ms)"
[ -n "$(member_field n1 cleo last_seen_ms)" ] || th_fail "members: linked cleo has no last seen"
[ -z "$(member_field n1 ana last_seen_ms)" ] || th_fail "members: this device has a last seen"
[ "$(member_field n1 eva endpoint)" = "tcp:127.0.0.1:${TH_PORT[n5]}" ] ||
	th_fail "members: eva's endpoint is '$(member_field n1 eva endpoint)'"
tc n1 members >"$TH_DIR/members.txt" || th_fail "members (human)"
grep -q 'REVOKED' "$TH_DIR/members.txt" && grep -q 'safety number: ' "$TH_DIR/members.txt" ||
	th_fail "members (human): $(cat "$TH_DIR/members.txt")"
th_pass "members shows each one's safety number (equal to the join's), last seen, endpoint, revoked"

# ---- audit: every roster change, coordinators only ------------------------
tc n1 audit --json >"$TH_DIR/audit.json" || th_fail "audit on the founder"
python3 - "$TH_DIR/audit.json" <<'PY' || th_fail "audit: $(cat "$TH_DIR/audit.json")"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = [(e["type"], e["issuer_name"], e.get("subject_name"), e.get("role")) for e in a]
assert a[0]["type"] == "genesis" and a[0]["issuer_name"] == "ana", a[0]
adds = {(s, r) for ty, i, s, r in t if ty == "add" and i == "ana"}
assert adds == {("bea", "coordinator"), ("cleo", "member"), ("dana", "member"), ("eva", "member")}, adds
assert ("revoke", "bea", "dana", None) in t, t
assert any(ty == "rekey" and i == "bea" for ty, i, s, r in t), t
eps = {e["issuer_name"] for e in a if e["type"] == "endpoint"}
assert eps >= {"ana", "bea", "cleo", "dana", "eva"}, eps
assert [e["n"] for e in a] == list(range(1, len(a) + 1))
assert all(a[i]["created_ms"] <= a[i + 1]["created_ms"] for i in range(len(a) - 1))
assert all(e["status"] == "valid" for e in a), [e for e in a if e["status"] != "valid"]
# ana invited them: her audit shows the name each was invited as
assert all(e.get("invited_as") == e["subject_name"] for e in a if e["type"] == "add"), a
PY
tc n2 audit --json >"$TH_DIR/audit2.json" || th_fail "audit on the second coordinator"
# The same records in the same order on both; only ana knows whom she invited as what.
strip_invited() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l); e.pop("invited_as", None); print(json.dumps(e, sort_keys=True))' "$1"; }
[ "$(strip_invited "$TH_DIR/audit.json")" = "$(strip_invited "$TH_DIR/audit2.json")" ] ||
	th_fail "the two coordinators' audits differ"
! grep -q invited_as "$TH_DIR/audit2.json" || th_fail "bea's audit names invitations she did not make"
tc n1 audit >"$TH_DIR/audit.txt" || th_fail "audit (human)"
grep -q 'revoke   by bea .*: dana' "$TH_DIR/audit.txt" || th_fail "audit (human): $(cat "$TH_DIR/audit.txt")"
tc n3 audit >/dev/null 2>"$TH_DIR/audit.err"
st=$?
[ "$st" = 1 ] || th_fail "a member's audit exited $st"
grep -q 'only a coordinator can read the audit log' "$TH_DIR/audit.err" ||
	th_fail "member audit: $(cat "$TH_DIR/audit.err")"
th_pass "audit lists genesis, adds, the revoke by bea, the rekey and endpoints, same on both coordinators; a member is refused (exit 1)"

# ---- refused codes --------------------------------------------------------
conf n6
th_start n6
if tc n6 join "$(cat "$TH_DIR/code.n3")" --name mallory 2>"$TH_DIR/noid.err"; then th_fail "join without identity"; fi
grep -q 'tocsin init' "$TH_DIR/noid.err" || th_fail "join before init: $(cat "$TH_DIR/noid.err")"
th_pass "join before init is refused, pointing at tocsin init"
tc n6 init --json >/dev/null || th_fail "init n6"
code=$(cat "$TH_DIR/code.n3")
# Codes are case-insensitive: another letter, not another case of it.
bad=${code:0:10}$(case "${code:10:1}" in a | A) echo b ;; *) echo a ;; esac)${code:11}
if tc n6 join "$bad" --name mallory 2>"$TH_DIR/bad.err"; then th_fail "a mistyped code was accepted"; fi
grep -q 'mistyped' "$TH_DIR/bad.err" || th_fail "mistyped: $(cat "$TH_DIR/bad.err")"
th_pass "a mistyped code is refused: $(head -n 1 "$TH_DIR/bad.err")"

# The invite book survives the coordinator's restart: an outstanding code
# still admits, a used one is still refused.
tc n1 invite --name fay --json >"$TH_DIR/inv.n6" || th_fail "invite fay"
fresh=$(jget code <"$TH_DIR/inv.n6")
# ... and it is sealed at rest: version 2, no network id or name in clear.
python3 - "$TH_DIR/n1/data/tocsin.db" "$NID" <<'PY' || th_fail "the invite book is not sealed at rest"
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
(blob,) = db.execute("SELECT value FROM meta WHERE key = 'invite_book'").fetchone()
assert blob[0] == 2, blob[:1]
assert bytes.fromhex(sys.argv[2]) not in blob and b"fay" not in blob
PY
th_stop n1
th_start_at n1 "${TH_PORT[n1]}"
if tc n6 join "$code" --name mallory --timeout 4 2>"$TH_DIR/reuse.err"; then th_fail "a used code admitted a second device"; fi
grep -q 'already used or has expired' "$TH_DIR/reuse.err" || th_fail "reused: $(cat "$TH_DIR/reuse.err")"
th_pass "after the coordinator's restart a used code is refused (timeout message, probe-resistant)"
tc n6 join "$fresh" --name fay --json --timeout 20 >"$TH_DIR/join.n6" 2>&1 ||
	th_fail "an outstanding code did not survive the coordinator's restart: $(cat "$TH_DIR/join.n6")"
th_pass "an outstanding code made before the coordinator's restart still admits"

# --qr draws a UTF-8 QR code (half blocks) on a UTF-8 terminal, ASCII otherwise.
LANG=C.UTF-8 LC_ALL= LC_CTYPE= tc n1 invite --name qr --qr >"$TH_DIR/qr.out" || th_fail "invite --qr"
[ "$(grep -c '█' "$TH_DIR/qr.out")" -ge 20 ] || th_fail "no UTF-8 QR code: $(cat "$TH_DIR/qr.out")"
LANG=C LC_ALL= LC_CTYPE= tc n1 invite --name qr --qr >"$TH_DIR/qr2.out" || th_fail "invite --qr (ascii)"
[ "$(grep -c '##' "$TH_DIR/qr2.out")" -ge 20 ] || th_fail "no ASCII QR code"
th_pass "invite --qr renders a terminal QR code (UTF-8 half blocks, ASCII fallback)"

# ---- restart of a member keeps the roster ---------------------------------
before=$(members_sig n5)
th_stop n5
th_start n5
[ "$(members_sig n5)" = "$before" ] || th_fail "n5's members changed across a restart"
linked5() { [ "$(links_of n5)" -ge 1 ]; }
th_poll 15 linked5 || th_fail "n5 did not relink after restart"
th_pass "a member's restart keeps its roster (members unchanged) and it relinks"

# Last seen survives a restart (the founder restarted above): dana's is
# unchanged (revoked, nothing of hers is accepted since).
[ "$(member_field n1 dana last_seen_ms)" = "$seen_dana" ] ||
	th_fail "dana's last seen changed across a restart: $(member_field n1 dana last_seen_ms) vs $seen_dana"
th_pass "last seen is persisted across the daemon's restart"

# ---- endpoint records: a member moves, no coordinator online --------------
# eva (n5) restarts on a new port with degree 1 (she dials at most one
# peer), both coordinators are down: cleo and fay learn her new endpoint
# record by gossip and dial her there.
th_stop n1
th_stop n2
old=${TH_PORT[n5]}
th_stop n5
printf '[links]\nkeepalive = 2\ndegree = 1\n' >"$TH_DIR/n5/tocsind.conf"
th_start n5
new=${TH_PORT[n5]}
[ "$new" != "$old" ] || th_fail "n5 came back on the same port"
grep -q "endpoint_published addr=tcp:127.0.0.1:$new reason=changed" "${TH_LOG[n5]}" ||
	th_fail "n5 did not publish its new address: $(grep endpoint "${TH_LOG[n5]}")"
knows_new() { [ "$(member_field "$1" eva endpoint)" = "tcp:127.0.0.1:$new" ]; }
th_poll 20 knows_new n3 || th_fail "cleo did not get eva's new endpoint"
th_poll 20 knows_new n6 || th_fail "fay did not get eva's new endpoint"
dials_eva() {
	local i
	for i in n3 n6; do
		tc "$i" peers --json | python3 -c '
import json, sys
sys.exit(0 if any(p["direction"] == "out" and p["state"] == "up" and p.get("name") == "eva"
                  for p in [json.loads(l) for l in sys.stdin if l.strip()]) else 1)' && return 0
	done
	return 1
}
th_poll 30 dials_eva || th_fail "nobody dialed eva at her new address: $(tc n3 peers; tc n6 peers)"
th_pass "a member restarted on a new port ($old -> $new) publishes an endpoint record; with no coordinator online the others get it and dial her there"

# ---- endpoint record after a reload: [network] advertise removed -----------
# A one-member network advertising 127.0.0.1:1 (closed); the key is removed
# and SIGHUP: the daemon publishes its bound address instead.
conf n7
printf '[links]\nkeepalive = 2\n[network]\nadvertise = 127.0.0.1:1\n' >"$TH_DIR/n7/tocsind.conf"
th_start n7
tc n7 init --json >/dev/null || th_fail "init n7"
tc n7 network create solo --json >/dev/null || th_fail "network create n7"
self_ep() { tc n7 members --json | python3 -c '
import json, sys
print([m for m in map(json.loads, filter(str.strip, sys.stdin)) if m["self"]][0].get("endpoint", ""))'; }
[ "$(self_ep)" = "tcp:127.0.0.1:1" ] || th_fail "n7 does not advertise 127.0.0.1:1: $(self_ep)"
printf '[links]\nkeepalive = 2\n' >"$TH_DIR/n7/tocsind.conf"
kill -HUP "${TH_PID[n7]}"
th_wait_log n7 "endpoint_published addr=tcp:127.0.0.1:${TH_PORT[n7]} reason=changed"
[ "$(self_ep)" = "tcp:127.0.0.1:${TH_PORT[n7]}" ] || th_fail "after reload: $(self_ep)"
th_pass "a reload that changes the advertised address publishes a new endpoint record"
