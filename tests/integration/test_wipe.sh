#!/usr/bin/env bash
# tocsin wipe (docs/control.md, docs/security.md "Wiping"). A founder with
# a network, an own panic and an outstanding invite: wipe without a
# terminal and without --yes is refused and touches nothing; wipe --yes
# makes the daemon reply, tell its watchers (shutdown reason=wipe), close
# its links and store, overwrite and remove its data dir and exit 0. The
# files' old contents are checked through descriptors opened before the
# wipe (the keystore, tocsin.db and its -wal, which SQLite itself unlinks):
# overwritten, no secret left in them. Then status says not initialised.
# Last, the same wipe with no daemon running (offline), the confirmation
# typed on a terminal, and the refusal while a daemon holds the home lock
# but cannot be reached.
. "$TH_LIB"
: "${TOCSIN:?}" "${SECRETS:?}" "${SECRET_GREP:?}"
th_init

tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
jget() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }
setup() {
	mkdir -p "$TH_DIR/$1"
	chmod 700 "$TH_DIR/$1"
	printf '[log]\nlevel = info\n' >"$TH_DIR/$1/tocsind.conf"
	chmod 600 "$TH_DIR/$1/tocsind.conf"
	th_start "$1"
	tc "$1" init --json >/dev/null || th_fail "init $1"
	tc "$1" network create wipe-net --json >/dev/null || th_fail "network create $1"
	tc "$1" invite --name x --json >"$TH_DIR/$1.code" || th_fail "invite $1"
	tc "$1" panic "wipe me" --json >/dev/null || th_fail "panic $1"
}
setup n1
D=$TH_DIR/n1/data
"$SECRETS" home "$TH_DIR/n1" >"$TH_DIR/secrets" || th_fail "secrets"
[ "$(wc -l <"$TH_DIR/secrets")" -ge 7 ] || th_fail "too few secrets: $(cat "$TH_DIR/secrets")"
ls "$D/keystore" "$D/tocsin.db" "$D/tocsin.db-wal" >/dev/null || th_fail "data files missing: $(ls -la "$D")"

# Refused without a terminal and without --yes: nothing touched.
rc=0
tc n1 wipe </dev/null 2>"$TH_DIR/e.err" || rc=$?
[ "$rc" = 2 ] || th_fail "wipe without --yes and no terminal: exit $rc, want 2"
grep -q -- '--yes' "$TH_DIR/e.err" || th_fail "no hint at --yes: $(cat "$TH_DIR/e.err")"
th_alive "${TH_PID[n1]}" && [ -f "$D/keystore" ] || th_fail "a refused wipe changed something"
th_pass "wipe without a terminal and without --yes is refused, nothing touched"

"$TOCSIN" --home "$TH_DIR/n1" watch --json >"$TH_DIR/watch.out" 2>&1 &
WATCH=$!
TH_PIDS+=("$WATCH")
th_poll 10 grep -q hello "$TH_DIR/watch.out" || th_fail "watch did not start"

# Descriptors on the files as they are now: after the wipe their inodes
# must hold random bytes, not the old contents.
exec 7<"$D/keystore" 8<"$D/tocsin.db" 9<"$D/tocsin.db-wal"
ks_size=$(stat -c %s "$D/keystore")
t0=$(th_now_us)
tc n1 wipe --yes >"$TH_DIR/wipe.out" 2>&1 || th_fail "wipe --yes: $(cat "$TH_DIR/wipe.out")"
th_wait_exit "${TH_PID[n1]}" 10 || th_fail "the daemon still runs after wipe"
t1=$(th_now_us)
[ "$TH_STATUS" = 0 ] || th_fail "daemon exit status $TH_STATUS after wipe"
grep -q 'stopped' "$TH_DIR/wipe.out" && grep -q 'full-disk encryption' "$TH_DIR/wipe.out" ||
	th_fail "wipe output: $(cat "$TH_DIR/wipe.out")"
grep -q ' wiped files=' "${TH_LOG[n1]}" || th_fail "no wiped line in the log"
th_poll 5 grep -q '"reason":"wipe"\|"reason": "wipe"' "$TH_DIR/watch.out" ||
	th_fail "the watcher did not get shutdown reason=wipe: $(cat "$TH_DIR/watch.out")"
wait "$WATCH" 2>/dev/null
th_forget "$WATCH"
th_pass "wipe --yes: reply, watchers told (reason wipe), daemon exited 0 in $(((t1 - t0) / 1000)) ms"

[ ! -e "$D" ] || th_fail "data dir still there: $(ls -la "$D")"
[ ! -e "$TH_DIR/n1/control.sock" ] || th_fail "control socket still there"
[ "$(ls -A "$TH_DIR/n1")" = tocsind.conf ] || th_fail "left in the home: $(ls -A "$TH_DIR/n1")"
for fd in 7 8 9; do cat "/proc/$$/fd/$fd" >"$TH_DIR/after.$fd"; done
exec 7<&- 8<&- 9<&-
[ "$(stat -c %s "$TH_DIR/after.7")" = "$ks_size" ] || th_fail "keystore inode size changed"
for fd in 7 8 9; do
	[ -s "$TH_DIR/after.$fd" ] || th_fail "file on fd $fd is empty after wipe (truncated, not overwritten)"
done
"$SECRET_GREP" "$TH_DIR/secrets" "$TH_DIR"/after.* >"$TH_DIR/grep.out" ||
	th_fail "secrets left in overwritten files: $(cat "$TH_DIR/grep.out")"
# The overwritten bytes are random: no run of 64 zero bytes, nothing of the
# SQLite header.
python3 - "$TH_DIR"/after.* <<'PY' || th_fail "overwritten files do not look random"
import sys
for p in sys.argv[1:]:
    b = open(p, "rb").read()
    if b"SQLite format" in b or b"\0" * 64 in b:
        sys.exit("%s: old structure left" % p)
PY
th_pass "data dir and socket removed; keystore, tocsin.db and -wal overwritten in place (no secret left); only tocsind.conf stays"

th_start n1
tc n1 status --json >"$TH_DIR/status.json" || th_fail "status after wipe"
[ "$(jget initialised <"$TH_DIR/status.json")" = False ] || th_fail "still initialised after wipe"
tc n1 status | grep -q 'initialised: no' || th_fail "status does not say not initialised"
th_stop n1
th_pass "restarted on the wiped home: status says not initialised"

# Offline: no daemon running.
setup n2
th_stop n2
tc n2 wipe --yes --json >"$TH_DIR/off.json" || th_fail "offline wipe"
[ "$(jget daemon_stopped <"$TH_DIR/off.json")" = False ] || th_fail "offline wipe: $(cat "$TH_DIR/off.json")"
[ "$(jget files <"$TH_DIR/off.json")" -ge 3 ] || th_fail "offline wipe removed too few files: $(cat "$TH_DIR/off.json")"
[ ! -e "$TH_DIR/n2/data" ] || th_fail "offline wipe left $(ls -la "$TH_DIR/n2/data")"
th_pass "wipe with no daemon running: data dir overwritten and removed ($(jget files <"$TH_DIR/off.json") files)"

# On a terminal (script(1) gives it one): only the typed word goes on.
setup n4
th_stop n4
rc=0
printf 'no\n' | script -qec "'$TOCSIN' --home '$TH_DIR/n4' wipe" /dev/null >"$TH_DIR/tty1.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || th_fail "typed no: exit $rc, want 2: $(cat "$TH_DIR/tty1.out")"
grep -q 'Type wipe to go on' "$TH_DIR/tty1.out" && grep -q 'nothing was wiped' "$TH_DIR/tty1.out" ||
	th_fail "typed no: $(cat "$TH_DIR/tty1.out")"
[ -f "$TH_DIR/n4/data/keystore" ] || th_fail "typed no, yet the keystore is gone"
printf 'wipe\n' | script -qec "'$TOCSIN' --home '$TH_DIR/n4' wipe" /dev/null >"$TH_DIR/tty2.out" 2>&1 ||
	th_fail "typed wipe: $(cat "$TH_DIR/tty2.out")"
[ ! -e "$TH_DIR/n4/data" ] || th_fail "typed wipe, yet the data dir is left"
th_pass "on a terminal: typing no wipes nothing (exit 2), typing wipe wipes"

# A daemon that holds the home lock but whose socket is gone: refused.
setup n3
mv "$TH_DIR/n3/control.sock" "$TH_DIR/n3.sock.moved"
if tc n3 wipe --yes 2>"$TH_DIR/e3.err"; then th_fail "wipe while a daemon holds the lock"; fi
grep -q 'already running' "$TH_DIR/e3.err" || th_fail "lock held: $(cat "$TH_DIR/e3.err")"
[ -f "$TH_DIR/n3/data/keystore" ] || th_fail "keystore removed under a running daemon"
th_pass "wipe refused while an unreachable daemon holds the home lock"
