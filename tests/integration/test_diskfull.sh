#!/usr/bin/env bash
# A full disk and a locked store (docs/daemon.md "Store"): n1's home is on a
# small tmpfs this test mounts (root; exit 77 if mount is refused). With the
# disk full, an alert from n2 cannot be stored on n1: a clear log line, no
# crash, the alert n1 had already accepted is still listed, n1's own panic
# gets an error reply. Space freed and n1 restarted: the missed alert is
# caught up from its peers (no silent loss). A second connection holding the
# write lock: store_error code=busy, the daemon serves on.
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}"
th_init

FULL=$(mktemp -d /tmp/tocsin-full.XXXXXX) || exit 1
if ! mount -t tmpfs -o size=2m,mode=700 tocsin-test "$FULL" 2>/dev/null; then
	rmdir "$FULL"
	echo "SKIP: cannot mount a tmpfs here (needs root)"
	exit 77
fi
# Daemons first (th_cleanup), then the mount; also on INT/TERM (a timeout).
full_cleanup() { th_cleanup; umount "$FULL" && rmdir "$FULL"; }
trap 'full_cleanup' EXIT
trap 'full_cleanup; trap - EXIT; exit 130' INT
trap 'full_cleanup; trap - EXIT; exit 143' TERM

N=3
mapfile -t PORTS < <(th_free_ports $N)
HOMES=("$FULL/n1" "$TH_DIR/n2" "$TH_DIR/n3")
args=()
for i in 0 1 2; do args+=("${HOMES[$i]}:${PORTS[$i]}"); done
"$MKMESH" --name full-net "${args[@]}" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
start() { # start NAME INDEX (a restart keeps the previous log in NAME.oldlogs)
	TH_HOME[$1]=${HOMES[$2]}
	[ -f "${TH_LOG[$1]:-/nonexistent}" ] && cat "${TH_LOG[$1]}" >>"$TH_DIR/$1.oldlogs"
	th_spawn "$1" "$TOCSIND" --home "${HOMES[$2]}" --listen "127.0.0.1:${PORTS[$2]}" --foreground
	th_wait_ready "$1"
}
for i in 1 2 3; do start "n$i" $((i - 1)); done

tc() { local n=$1; shift; "$TOCSIN" --home "${TH_HOME[$n]}" "$@"; }
links_of() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])'; }
linked() { [ "$(links_of n1)" -ge 2 ]; }
th_poll 20 linked || th_fail "n1 did not link to both others"
has_alert() {
	tc "$1" alerts --json | python3 -c '
import json, sys
sys.exit(0 if any(json.loads(l)["id"] == sys.argv[1] for l in sys.stdin if l.strip()) else 1)' "$2"
}
send() { tc "$1" "$2" "$3" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])'; }

A=$(send n2 panic "before the disk filled") || th_fail "panic A"
th_poll 10 has_alert n1 "$A" || th_fail "A did not reach n1"

# Fill the filesystem: dd stops at ENOSPC.
dd if=/dev/zero of="$FULL/filler" bs=4k >/dev/null 2>&1 || true
[ "$(df --output=avail -k "$FULL" | tail -n 1 | tr -d ' ')" -le 4 ] || th_fail "tmpfs not full: $(df -k "$FULL")"

B=$(send n3 panic "while n1's disk is full") || th_fail "panic B on n3"
th_poll 10 has_alert n2 "$B" || th_fail "B did not reach n2"
th_wait_log n1 "store_error op=[a-z_]+ code=full" 10
th_wait_log n1 "alert_stored id=${B:0:16} kind=panic own=no result=full retry=next_digest_exchange" 5
th_alive "${TH_PID[n1]}" || th_fail "n1 died on a full disk"
has_alert n1 "$A" || th_fail "n1 lost alert A (accepted before the disk filled)"
has_alert n1 "$B" && th_fail "n1 lists B although it could not store it"
th_pass "disk full: store_error code=full and alert_stored result=full logged, n1 alive, A still listed"

out=$(tc n1 panic "from the full disk" 2>&1) && th_fail "n1's panic on a full disk succeeded: $out"
printf '%s' "$out" | grep -q 'NOT sent.*disk holding tocsin.db is full' ||
	th_fail "n1's panic error does not say it was not sent for a full disk: $out"
th_alive "${TH_PID[n1]}" || th_fail "n1 died answering a panic on a full disk"
th_pass "own panic on a full disk: an error reply naming it ($out)"

# Space back; restart n1: link up means a digest exchange, B is pulled.
rm -f "$FULL/filler"
th_stop n1
[ "$TH_STATUS" = 0 ] || th_fail "n1 exited $TH_STATUS after the disk-full episode"
start n1 0
th_poll 20 has_alert n1 "$B" || th_fail "B never reached n1 after space was freed"
has_alert n1 "$A" || th_fail "A missing after the restart"
th_pass "space freed, n1 restarted: B caught up from its peers, A kept"

# Busy: another connection holds the write lock longer than the busy timeout.
python3 - "${HOMES[0]}/data/tocsin.db" "$TH_DIR/locked" <<'PY' &
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(6)
db.execute("ROLLBACK")
PY
LOCKER=$!
TH_PIDS+=("$LOCKER")
th_poll 10 test -e "$TH_DIR/locked" || th_fail "the lock holder did not start"
C=$(send n2 drill "while the store is locked") || th_fail "drill C"
th_wait_log n1 "store_error op=[a-z_]+ code=busy" 10
th_alive "${TH_PID[n1]}" || th_fail "n1 died on a locked store"
[ "$(links_of n1)" -ge 2 ] || th_fail "n1 does not answer status while the store is locked"
th_wait_exit "$LOCKER" 15 || th_fail "the lock holder did not finish"
th_stop n1
start n1 0
th_poll 20 has_alert n1 "$C" || th_fail "C never reached n1 after the lock was released"
th_pass "store locked: store_error code=busy, n1 serves on; C caught up after the lock"
