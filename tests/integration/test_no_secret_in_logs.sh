#!/usr/bin/env bash
# No secret in logs (THREAT-MODEL "Secrets ... never logged"; docs/security.md).
# Three daemons at --log-level debug run a full flow with the real commands:
# init, network create, invite/join (twice, plus one invite left unused),
# panic, revoke (a rekey), a panic in the new epoch, watch. Then, the
# daemons stopped, tests/tools/secrets extracts every secret they hold
# (identity seed, Ed25519 secret key, X25519 link secret, the group keys and
# link PSKs of both epochs, the invite book's secrets and join PSKs) and
# every invitation code's secret; secret_grep.py looks for each of them in
# every daemon log and every client output, as raw bytes, hex, base64 and
# base32, and as 8-byte windows (a truncated key). The grep is first shown
# to catch a planted secret in each form, so a broken grep cannot pass.
. "$TH_LIB"
: "${TOCSIN:?}" "${SECRETS:?}" "${SECRET_GREP:?}"
th_init

OUT=$TH_DIR/out
mkdir -p "$OUT"
seq_no=0
# tc NODE ARGS...: the client, its stdout and stderr kept in $OUT for the grep.
tc() {
	local n=$1; shift
	seq_no=$((seq_no + 1))
	"$TOCSIN" --home "$TH_DIR/$n" "$@" 2>"$OUT/$seq_no.$n.err" | tee "$OUT/$seq_no.$n.out"
	return "${PIPESTATUS[0]}"
}
jget() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

for n in n1 n2 n3; do
	mkdir -p "$TH_DIR/$n"
	chmod 700 "$TH_DIR/$n"
	printf '[links]\nkeepalive = 2\n' >"$TH_DIR/$n/tocsind.conf"
	chmod 600 "$TH_DIR/$n/tocsind.conf"
	th_start "$n" --log-level debug
	tc "$n" init --json >/dev/null || th_fail "init $n"
done
tc n1 network create leak-net --name ana --json >/dev/null || th_fail "network create"
grep -q ' debug ' "${TH_LOG[n1]}" || th_fail "n1 does not log at debug level"

# A watcher on n2 for the whole run: its event output is checked too.
"$TOCSIN" --home "$TH_DIR/n2" watch --json >"$OUT/watch.n2.out" 2>&1 &
WATCH=$!
TH_PIDS+=("$WATCH")

INV=()
: >"$TH_DIR/codes"
join() {
	local node=$1 name=$2
	"$TOCSIN" --home "$TH_DIR/n1" invite --name "$name" --json --wait --timeout 30 \
		>"$OUT/inv.$node" 2>&1 &
	local ipid=$!
	th_poll 10 grep -q '"code"' "$OUT/inv.$node" || th_fail "invite for $name: $(cat "$OUT/inv.$node")"
	local code
	code=$(head -n 1 "$OUT/inv.$node" | jget code)
	printf '%s\n' "$code" >>"$TH_DIR/codes"
	tc "$node" join "$code" --name "$name" --json --timeout 30 >/dev/null ||
		th_fail "join $node"
	wait "$ipid" || th_fail "invite --wait for $name: $(cat "$OUT/inv.$node")"
	INV+=("$OUT/inv.$node")
}
th_poll 10 grep -q hello "$OUT/watch.n2.out" || th_fail "watch on n2 did not start"
join n2 bea
join n3 cleo
# One invitation never used: it stays in n1's invite book.
"$TOCSIN" --home "$TH_DIR/n1" invite --name ghost --json >"$OUT/inv.ghost" 2>&1 ||
	th_fail "invite ghost"
head -n 1 "$OUT/inv.ghost" | jget code >>"$TH_DIR/codes"
INV+=("$OUT/inv.ghost")
th_pass "3 daemons at debug level: network create, 2 joins, 1 outstanding invite"

has_alert() {
	"$TOCSIN" --home "$TH_DIR/$1" alerts --json | python3 -c '
import json, sys
sys.exit(0 if any(a["id"] == sys.argv[1] for a in map(json.loads, filter(str.strip, sys.stdin))) else 1)' "$2"
}
ID=$(tc n2 panic "where are you" --location "secret place" --json | jget alert) || th_fail "panic"
th_poll 15 has_alert n1 "$ID" || th_fail "panic did not reach n1"
th_poll 15 has_alert n3 "$ID" || th_fail "panic did not reach n3"
tc n1 alerts >/dev/null
tc n1 members >/dev/null
tc n1 peers --json >/dev/null
tc n1 revoke cleo --json >/dev/null || th_fail "revoke"
revoked() {
	"$TOCSIN" --home "$TH_DIR/n2" members --json | python3 -c '
import json, sys
sys.exit(0 if any(m["name"] == "cleo" and not m["active"] for m in map(json.loads, filter(str.strip, sys.stdin))) else 1)'
}
th_poll 15 revoked || th_fail "n2 does not see cleo revoked"
ID2=$(tc n1 panic "after the rekey" --json | jget alert) || th_fail "panic after revoke"
th_poll 15 has_alert n2 "$ID2" || th_fail "the panic of the new epoch did not reach n2"
tc n3 panic "revoked one" --json >/dev/null || th_fail "panic on the revoked device"
tc n2 status --json >/dev/null
th_pass "panic, revoke with rekey, a panic in the new epoch"

kill -TERM "$WATCH" 2>/dev/null
wait "$WATCH" 2>/dev/null
th_forget "$WATCH"
for n in n1 n2 n3; do th_stop "$n"; done

: >"$TH_DIR/secrets"
for n in n1 n2 n3; do
	"$SECRETS" home "$TH_DIR/$n" >>"$TH_DIR/secrets" || th_fail "secrets home $n"
done
while read -r code; do
	"$SECRETS" code "$code" >>"$TH_DIR/secrets" || th_fail "secrets code"
done <"$TH_DIR/codes"
# What must be there, or the grep would prove nothing.
want() { grep -c "^$1 " "$TH_DIR/secrets"; }
[ "$(want identity_sign_seed)" = 3 ] || th_fail "not 3 identities extracted"
[ "$(want identity_link_secret)" = 3 ] || th_fail "not 3 link secrets extracted"
[ "$(want current_epoch1_link_psk_0)" -ge 2 ] || th_fail "epoch 1 keys of n1 and n2 missing"
[ "$(want current_epoch0_group_key_0)" = 1 ] || th_fail "the revoked n3's epoch 0 keys missing"
[ "$(want previous_epoch0_link_psk_0)" -ge 2 ] || th_fail "epoch 0 keys (previous) missing"
[ "$(want invite_secret)" = 3 ] || th_fail "not 3 invitation secrets"
[ "$(want book_invite_secret)" -ge 1 ] || th_fail "n1's invite book is empty"
th_pass "extracted $(wc -l <"$TH_DIR/secrets") secrets: identities, epoch 0 and 1 keys, invites"

# The grep catches a planted secret in every form it claims.
python3 - "$TH_DIR/secrets" "$TH_DIR/planted" <<'PY'
import base64, sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
b = bytes.fromhex(lines[0][1])
with open(sys.argv[2], "wb") as f:
    f.write(b"x " + base64.b64encode(b).rstrip(b"=") + b"\n")
PY
if "$SECRET_GREP" "$TH_DIR/secrets" "$TH_DIR/planted" >"$TH_DIR/planted.out"; then
	th_fail "the grep missed a planted base64 secret"
fi
for form in hex32 b32 window; do
	python3 - "$TH_DIR/secrets" "$TH_DIR/planted.$form" "$form" <<'PY'
import base64, sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
b = bytes.fromhex(lines[-1][1])
v = {"hex32": b.hex().upper().encode(), "b32": base64.b32encode(b).rstrip(b"=").lower(),
     "window": b[5:13].hex().encode()}[sys.argv[3]]
open(sys.argv[2], "wb").write(b"key=" + v + b"\n")
PY
	if "$SECRET_GREP" "$TH_DIR/secrets" "$TH_DIR/planted.$form" >/dev/null; then
		th_fail "the grep missed a planted secret ($form)"
	fi
done
th_pass "the grep finds a planted secret as base64, HEX, base32 and an 8-byte hex window"

logs=()
for n in n1 n2 n3; do logs+=("${TH_LOG[$n]}"); done
outs=()
for f in "$OUT"/*; do
	case " ${INV[*]} " in *" $f "*) continue ;; esac
	outs+=("$f")
done
"$SECRET_GREP" "$TH_DIR/secrets" --codes "$TH_DIR/codes" "${logs[@]}" "${outs[@]}" \
	--no-invite "${INV[@]}" >"$TH_DIR/grep.out" || {
	cat "$TH_DIR/grep.out" >&2
	th_fail "a secret appears in a log or a client output"
}
th_log "$(tail -n 1 "$TH_DIR/grep.out")"
th_log "log lines: $(cat "${logs[@]}" | wc -l), debug lines: $(cat "${logs[@]}" | grep -c ' debug ')"
th_pass "no secret in $(( ${#logs[@]} )) debug logs and $(( ${#outs[@]} + ${#INV[@]} )) client outputs"
