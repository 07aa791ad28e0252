#!/usr/bin/env bash
# Reachability (docs/daemon.md "Reachability"): four members seeded by
# tests/tools/mkmesh. n1 and n2 listen where their endpoint records say;
# n3's record names a port nobody listens on and n4's a listener that is not
# n4 (a forwarded port that reaches someone else). n3 and n4 only dial out,
# yet the mesh works: a panic from n3 reaches n4 through n1/n2. Every daemon
# asks a linked member to dial it back: n1 and n2 are reported reachable,
# n3 not (no_connect), n4 not (handshake). Every dial-back in every log went
# to an address of the roster. n3 then advertises its real address (SIGHUP):
# re-checked by another member, reachable.
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}"
th_init

mapfile -t PORTS < <(th_free_ports 6)
P1=${PORTS[0]} P2=${PORTS[1]} P3=${PORTS[2]} P4=${PORTS[3]} DEAD=${PORTS[4]} PL=${PORTS[5]}

# A listener that is not a member: accepts, never answers, logs each peer.
cat >"$TH_DIR/impostor.py" <<'PY'
import selectors, socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(64); srv.setblocking(False)
sel = selectors.DefaultSelector(); sel.register(srv, selectors.EVENT_READ)
print("listening", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is srv:
            c, addr = srv.accept(); c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
            with open(out, "a") as f: f.write("%s:%d\n" % addr)
        else:
            try: data = s.recv(65536)
            except OSError: data = b""
            if not data: sel.unregister(s); s.close()
PY
th_spawn impostor python3 -u "$TH_DIR/impostor.py" "$PL" "$TH_DIR/impostor.conns"
th_poll 10 grep -q listening "${TH_LOG[impostor]}" || th_fail "impostor listener did not start"

"$MKMESH" --name reach-net "$TH_DIR/n1:$P1" "$TH_DIR/n2:$P2" "$TH_DIR/n3:$DEAD" \
	"$TH_DIR/n4:$PL" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
# n3 and n4 advertise the addresses of their records (a daemon publishes
# its bound listener otherwise, and would then be reachable).
ADV=("" "" "" "advertise = 127.0.0.1:$DEAD" "advertise = 127.0.0.1:$PL")
for i in 1 2 3 4; do
	printf '[network]\n%s\n[links]\nkeepalive = 5\n' "${ADV[i]}" >"$TH_DIR/n$i/tocsind.conf"
	chmod 600 "$TH_DIR/n$i/tocsind.conf"
done
t0=$(th_now_us)
th_start_at n1 "$P1" --log-level debug
th_start_at n2 "$P2" --log-level debug
th_start_at n3 "$P3" --log-level debug
th_start_at n4 "$P4" --log-level debug

tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
field() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"; }
links_are() { [ "$(field n1 links)" = 3 ] && [ "$(field n2 links)" = 3 ] &&
	[ "$(field n3 links)" = 2 ] && [ "$(field n4 links)" = 2 ]; }
th_poll 30 links_are ||
	th_fail "links n1..n4: $(field n1 links) $(field n2 links) $(field n3 links) $(field n4 links), want 3 3 2 2"
th_pass "n3 and n4 accept no link (their addresses do not reach them) and still have 2 links each"

out=$(tc n3 panic "dial-out only" --json) || th_fail "panic on n3: $out"
ID=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])')
has() { tc n4 alerts --json | grep -q "$ID"; }
th_poll 10 has || th_fail "n3's panic did not reach n4"
th_pass "a panic from dial-out-only n3 reaches dial-out-only n4 through the members who accept"

reach_is() { [ "$(field "$1" reachable)" = "$2" ] && [ "$(field "$1" reach_result)" = "$3" ]; }
th_poll 40 reach_is n1 yes ok || th_fail "n1 not reported reachable: $(tc n1 status --json)"
th_poll 40 reach_is n2 yes ok || th_fail "n2 not reported reachable: $(tc n2 status --json)"
th_pass "n1 and n2 (listening at their advertised address) are reported reachable: yes"
th_poll 40 reach_is n3 no no_connect || th_fail "n3 not reported unreachable: $(tc n3 status --json)"
th_pass "n3 (advertised port with no listener) is reported reachable: no (no_connect)"
th_poll 60 reach_is n4 no handshake || th_fail "n4 not reported unreachable: $(tc n4 status --json)"
th_pass "n4 (advertised port reaching a listener that is not n4) is reported reachable: no (handshake)"
th_log "all four verdicts after $((($(th_now_us) - t0) / 1000)) ms"

# Who checked, when, and the human line.
by=$(field n1 reach_checked_by)
case "$by" in m2 | m3 | m4) ;; *) th_fail "n1 checked by '$by', want a linked member's name" ;; esac
at=$(field n1 reach_checked_ms)
now_ms=$(($(th_now_us) / 1000))
[ "$at" -gt $((now_ms - 120000)) ] && [ "$at" -le $((now_ms + 1000)) ] || th_fail "checked_ms $at not recent"
tc n1 status | grep -Eq "^reachable from outside: yes \(ok; checked by m[234] [0-9]+ s ago\)$" ||
	th_fail "human status line: $(tc n1 status | grep reachable)"
tc n3 status | grep -q "^reachable from outside: no (nothing accepted the connection" || th_fail "n3 human status"
th_pass "status --json says who checked and when; tocsin status prints the line"

# n3 fixes its address: advertise its real listener, SIGHUP. A new endpoint
# record goes out and another member (not the one who checked before) finds
# n3 reachable.
first=$(field n3 reach_checked_by)
printf '[network]\nadvertise = 127.0.0.1:%s\n[links]\nkeepalive = 5\n' "$P3" >"$TH_DIR/n3/tocsind.conf"
kill -HUP "${TH_PID[n3]}"
th_wait_log n3 "endpoint_published addr=tcp:127.0.0.1:$P3 reason=changed" 5
th_poll 30 reach_is n3 yes ok || th_fail "n3 not reachable after fixing its address: $(tc n3 status --json)"
second=$(field n3 reach_checked_by)
[ "$second" != "$first" ] || th_fail "re-checked by $second again, want another member"
th_pass "advertise changed by reload: new endpoint record, re-checked by $second (was $first): reachable: yes"

# Dial-backs only ever went to roster addresses, and to the right ones.
grep -ho 'dialback_dial for=[^ ]* addr=[^ ]*' "$TH_DIR"/n[1-4].log >"$TH_DIR/dials" || true
[ -s "$TH_DIR/dials" ] || th_fail "no dialback_dial line in any log"
while read -r _ _ addr; do
	case "${addr#addr=}" in
	"127.0.0.1:$P1" | "127.0.0.1:$P2" | "127.0.0.1:$DEAD" | "127.0.0.1:$PL" | "127.0.0.1:$P3") ;;
	*) th_fail "a dial-back went to ${addr#addr=}, not a roster address" ;;
	esac
done <"$TH_DIR/dials"
grep -q "addr=127.0.0.1:$DEAD\$" "$TH_DIR/dials" || th_fail "nobody dialed n3's advertised address"
grep -q "addr=127.0.0.1:$PL\$" "$TH_DIR/dials" || th_fail "nobody dialed n4's advertised address"
grep -q "addr=127.0.0.1:$P4\$" "$TH_DIR/dials" &&
	th_fail "a dial-back reached n4's listen address, which is in no roster record"
[ "$(grep -c "addr=127.0.0.1:$P3\$" "$TH_DIR/dials")" = 1 ] ||
	th_fail "n3's listener dialed back other than once (only after it was published)"
[ -s "$TH_DIR/impostor.conns" ] || th_fail "the impostor listener saw no connection"
th_pass "$(wc -l <"$TH_DIR/dials") dial-backs, each to the asker's roster address"
