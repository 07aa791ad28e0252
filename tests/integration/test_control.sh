#!/usr/bin/env bash
# The control socket end to end: real tocsind processes in temp homes and
# the real tocsin client (TOCSIN), plus raw bytes from ctl_raw.py.
. "$TH_LIB"
: "${TOCSIN:?TOCSIN must point at the tocsin binary}"
: "${CTL_RAW:?CTL_RAW must point at ctl_raw.py}"
th_init

# tc NAME ARGS...: run tocsin, stdout to $TH_DIR/NAME.out, stderr to
# $TH_DIR/NAME.err, exit status in TC.
tc() {
	local name=$1; shift
	"$TOCSIN" "$@" >"$TH_DIR/$name.out" 2>"$TH_DIR/$name.err"
	TC=$?
}
out() { cat "$TH_DIR/$1.out"; }
err() { cat "$TH_DIR/$1.err"; }
json_field() { # FILE KEY
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

home=$TH_DIR/n1

# ---- no daemon ----------------------------------------------------------
tc nodaemon --home "$home" status
[ "$TC" = 3 ] || th_fail "status without daemon: exit $TC, want 3"
grep -qF "tocsind is not running for home $home; start it with: tocsind --home $home" \
	"$TH_DIR/nodaemon.err" || th_fail "no hint: $(err nodaemon)"
th_pass "no daemon: exit 3 and the start hint"

# ---- usage --------------------------------------------------------------
tc usage1 frobnicate
[ "$TC" = 2 ] || th_fail "unknown command: exit $TC"
grep -q "unknown command 'frobnicate'" "$TH_DIR/usage1.err" || th_fail "unknown command message"
grep -q "usage: tocsin" "$TH_DIR/usage1.err" || th_fail "no usage on stderr"
tc usage2 status --frob
[ "$TC" = 2 ] || th_fail "unknown option: exit $TC"
tc usage3 status extra
[ "$TC" = 2 ] || th_fail "extra argument: exit $TC"
tc usage4 id --passphrase-file /x
[ "$TC" = 2 ] || th_fail "--passphrase-file on id: exit $TC"
tc usage5
[ "$TC" = 2 ] || th_fail "no command: exit $TC"
tc help1 --help
[ "$TC" = 0 ] && grep -q "3  tocsind is not running" "$TH_DIR/help1.out" || th_fail "--help"
for c in version status init id watch; do
	tc "help-$c" "$c" --help
	[ "$TC" = 0 ] && grep -q "usage: tocsin .*$c" "$TH_DIR/help-$c.out" || th_fail "$c --help"
done
tc help2 help init
[ "$TC" = 0 ] && grep -q -- "--passphrase-file FILE" "$TH_DIR/help2.out" || th_fail "help init"
th_pass "usage errors exit 2; help for every command exits 0"

# ---- a fresh daemon -----------------------------------------------------
th_start n1
sock=$home/control.sock
[ -S "$sock" ] || th_fail "no control socket"
[ "$(th_mode "$sock")" = 600 ] || th_fail "socket mode $(th_mode "$sock")"
[ "$(th_mode "$home")" = 700 ] || th_fail "socket dir mode $(th_mode "$home")"
th_pass "control socket 0600 in a 0700 dir"

tc st1 --home "$home" status
[ "$TC" = 0 ] || th_fail "status: exit $TC: $(err st1)"
grep -qx "home: $home" "$TH_DIR/st1.out" || th_fail "status has no home line: $(out st1)"
grep -q "^initialised: no" "$TH_DIR/st1.out" || th_fail "status: not 'initialised: no'"
grep -q "^mesh: no network" "$TH_DIR/st1.out" || th_fail "status: mesh line"
TOCSIN_HOME=$home tc st1env status
[ "$TC" = 0 ] && grep -qx "home: $home" "$TH_DIR/st1env.out" || th_fail "TOCSIN_HOME not used"
th_pass "status: home, initialised: no, mesh: no network (flag and TOCSIN_HOME)"

tc id0 --home "$home" id
[ "$TC" = 1 ] || th_fail "id before init: exit $TC"
grep -q "tocsin init" "$TH_DIR/id0.err" || th_fail "id before init: no hint: $(err id0)"
th_pass "id before init: exit 1 with the 'tocsin init' hint"

tc v --home "$home" version
[ "$TC" = 0 ] && grep -q "^tocsind 0.1.0 (protocol tocsin/1)" "$TH_DIR/v.out" || th_fail "version"
tc vj --home "$home" version --json
[ "$TC" = 0 ] && [ "$(json_field "$TH_DIR/vj.out" protocol)" = tocsin/1 ] || th_fail "version --json"
th_pass "version, human and json"

# ---- init -----------------------------------------------------------------
tc init1 --home "$home" init
[ "$TC" = 0 ] || th_fail "init: exit $TC: $(err init1)"
ks=$home/data/keystore
[ -f "$ks" ] || th_fail "no keystore after init"
[ "$(th_mode "$ks")" = 600 ] || th_fail "keystore mode $(th_mode "$ks")"
[ "$(th_mode "$home/data")" = 700 ] || th_fail "data dir mode"
grep -q "NOT protected" "$TH_DIR/init1.out" || th_fail "init does not warn about no passphrase"
tc init2 --home "$home" init
[ "$TC" = 1 ] || th_fail "second init: exit $TC"
grep -q "already initialised" "$TH_DIR/init2.err" || th_fail "second init: $(err init2)"
th_pass "init: 0600 keystore in 0700 data dir; second init exit 1 'already initialised'"

tc id1 --home "$home" id
[ "$TC" = 0 ] || th_fail "id: exit $TC"
fp=$(sed -n 's/^fingerprint: //p' "$TH_DIR/id1.out")
[[ "$fp" =~ ^[0-9]{5}( [0-9]{5}){5}$ ]] || th_fail "fingerprint '$fp' is not 6x5 digits"
tc stj --home "$home" status --json
[ "$TC" = 0 ] || th_fail "status --json"
[ "$(json_field "$TH_DIR/stj.out" fingerprint)" = "$fp" ] || th_fail "status --json fingerprint differs"
[ "$(json_field "$TH_DIR/stj.out" initialised)" = True ] || th_fail "status --json initialised"
[ "$(json_field "$TH_DIR/stj.out" pid)" = "${TH_PID[n1]}" ] || th_fail "status --json pid"
tc idj --home "$home" id --json
[ "$(json_field "$TH_DIR/idj.out" fingerprint)" = "$fp" ] || th_fail "id --json fingerprint differs"
th_pass "id: 6x5-digit fingerprint '$fp', same in status --json and id --json"

# ---- bad bytes ----------------------------------------------------------
STATUS=0000000f82a2696401a26f70a6737461747573
raw() { python3 "$CTL_RAW" "$sock" "$@"; }
expect_raw() { # WHAT REGEX... -- ARGS
	local what=$1; shift
	local res; res=$(raw send "$@") || th_fail "$what: ctl_raw failed"
	printf '%s\n' "$res" >"$TH_DIR/raw.out"
	RAW=$res
}
has() { grep -qE -- "$1" <<<"$RAW" || th_fail "$2: got: $RAW"; }

expect_raw garbage 00000005ffc1c1c1c1 "$STATUS"
has '"error": "bad_request".*"id": 0' "garbage body"
has '"initialised": true.*"ok": true' "status after garbage on the same connection"
expect_raw wrongtype 0000001082a26964a131a26f70a6737461747573 "$STATUS"
has '"error": "bad_request"' "id as a str"
has '"ok": true' "status after a wrong type"
expect_raw noncanon 0000001082a26964cc05a26f70a6737461747573 "$STATUS"
has '"error": "bad_request".*non-canonical' "non-canonical uint"
expect_raw unknownop 0000000e82a2696405a26f70a570616e6963 "$STATUS"
has '"error": "unknown_op".*"id": 5' "unknown op"
has '"ok": true' "status after unknown op"
expect_raw oversized 00100000414141 "$STATUS"
has '"error": "too_large"' "oversized length"
has '^EOF$' "oversized length closes"
grep -q '"ok": true' <<<"$RAW" && th_fail "served a request after an oversized length"
expect_raw http "$(printf 'GET / HTTP/1.1\r\n\r\n' | od -An -tx1 | tr -d ' \n')"
has '"error": "too_large"' "HTTP request"
has '^EOF$' "HTTP request closes"
expect_raw truncated 0000001482a269
[ "$RAW" = EOF ] || th_fail "truncated frame: want a plain close, got: $RAW"
expect_raw empty 00000000 "$STATUS"
has '"error": "bad_request"' "empty body"
th_alive "${TH_PID[n1]}" || th_fail "daemon died on bad input"
tc st2 --home "$home" status
[ "$TC" = 0 ] || th_fail "status after bad input: exit $TC"
th_pass "garbage, wrong type, non-canonical, unknown op, oversized, HTTP, truncated, empty: error reply or close; daemon serves on"

# Bounded clients: 16 at most; the others are closed at once.
closed=$(raw flood 24)
[ "$closed" = 8 ] || th_fail "24 connections: $closed closed at once, want 8"
tc st3 --home "$home" status
[ "$TC" = 0 ] || th_fail "status after the flood: exit $TC"
th_pass "24 connections: 8 over the cap closed at once; status works after"

# ---- watch and shutdown -------------------------------------------------
th_spawn watch "$TOCSIN" --home "$home" watch --json
th_wait_log watch '"event":"hello"' 5
tc stw --home "$home" status --json
[ "$(json_field "$TH_DIR/stw.out" subscribers)" = 1 ] || th_fail "status does not count the watcher"
th_stop n1 TERM 5
[ "$TH_STATUS" = 0 ] || th_fail "daemon exit $TH_STATUS with a watcher"
th_wait_exit "${TH_PID[watch]}" 5 || th_fail "watch still running after the daemon stopped"
[ "$TH_STATUS" = 0 ] || th_fail "watch exit $TH_STATUS after shutdown event"
python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"${TH_LOG[watch]}" ||
	th_fail "watch --json output is not JSON lines: $(cat "${TH_LOG[watch]}")"
grep -q '"event":"shutdown","reason":"sigterm"' "${TH_LOG[watch]}" || th_fail "no shutdown event"
[ ! -e "$sock" ] || th_fail "control socket left behind after a clean stop"
th_pass "watch --json: hello, then shutdown on SIGTERM; JSON lines; exit 0; socket removed"

# ---- restart: the keystore is loaded -----------------------------------
th_start n1b --home "$home"
grep -q 'identity status=loaded' "${TH_LOG[n1b]}" || th_fail "no identity loaded line"
tc id2 --home "$home" id
[ "$(sed -n 's/^fingerprint: //p' "$TH_DIR/id2.out")" = "$fp" ] || th_fail "fingerprint changed"
th_pass "restart: keystore loaded, same fingerprint"

# kill -9 leaves the socket file; the next start removes it (nobody answers).
th_stop n1b KILL 5
[ -S "$sock" ] || th_fail "expected a stale socket after kill -9"
th_start n1c --home "$home"
tc st4 --home "$home" status
[ "$TC" = 0 ] || th_fail "status after stale socket"
th_stop n1c TERM 5
th_pass "stale socket after kill -9 replaced at start"

# A keystore others can read: refuse to start, with the loader's message.
chmod 644 "$ks"
th_spawn bad "$TOCSIND" --home "$home" --listen 127.0.0.1:0
th_wait_exit "${TH_PID[bad]}" 10 || th_fail "daemon with a 0644 keystore did not exit"
[ "$TH_STATUS" = 1 ] || th_fail "0644 keystore: exit $TH_STATUS, want 1"
grep -q "keystore $ks is readable by other users (mode 0644); run: chmod 600 $ks" \
	"${TH_LOG[bad]}" || th_fail "no keystore message: $(cat "${TH_LOG[bad]}")"
chmod 600 "$ks"
th_pass "0644 keystore: tocsind refuses to start and says chmod 600"

# ---- passphrase ---------------------------------------------------------
h2=$TH_DIR/n2
pw=$TH_DIR/pw
printf 'correct horse battery\n' >"$pw"
chmod 600 "$pw"
th_start n2
chmod 644 "$pw"
tc pinit0 --home "$h2" init --passphrase-file "$pw"
[ "$TC" = 2 ] && grep -q "chmod 600" "$TH_DIR/pinit0.err" || th_fail "0644 passphrase file accepted"
chmod 600 "$pw"
tc pinit --home "$h2" init --passphrase-file "$pw"
[ "$TC" = 0 ] || th_fail "init with passphrase: exit $TC: $(err pinit)"
grep -q "protected by your passphrase" "$TH_DIR/pinit.out" || th_fail "init: no passphrase line"
fp2=$(sed -n 's/^fingerprint: //p' "$TH_DIR/pinit.out")
th_stop n2 TERM 5
th_spawn n2nopass "$TOCSIND" --home "$h2" --listen 127.0.0.1:0
th_wait_exit "${TH_PID[n2nopass]}" 20 || th_fail "protected keystore without passphrase: still running"
[ "$TH_STATUS" = 1 ] || th_fail "protected keystore without passphrase: exit $TH_STATUS"
grep -q "set TOCSIN_PASSPHRASE_FILE" "${TH_LOG[n2nopass]}" || th_fail "no passphrase hint"
printf 'wrong\n' >"$TH_DIR/badpw"
chmod 600 "$TH_DIR/badpw"
th_spawn n2bad env TOCSIN_PASSPHRASE_FILE="$TH_DIR/badpw" "$TOCSIND" --home "$h2" --listen 127.0.0.1:0
th_wait_exit "${TH_PID[n2bad]}" 30 || th_fail "wrong passphrase: still running"
[ "$TH_STATUS" = 1 ] && grep -q "wrong passphrase" "${TH_LOG[n2bad]}" || th_fail "wrong passphrase accepted?"
TH_HOME[n2ok]=$h2
th_spawn n2ok env TOCSIN_PASSPHRASE_FILE="$pw" "$TOCSIND" --home "$h2" --listen 127.0.0.1:0
th_wait_ready n2ok 30
tc pid --home "$h2" id
[ "$(sed -n 's/^fingerprint: //p' "$TH_DIR/pid.out")" = "$fp2" ] || th_fail "passphrase restart: fingerprint"
grep -q "correct horse" "$TH_DIR"/*.log && th_fail "passphrase in a log"
th_stop n2ok TERM 5
th_pass "passphrase: init protected; start refused without or with a wrong passphrase file; loads with it"
