#!/usr/bin/env bash
# The tocsin client for people (issue 7), through real daemons seeded by
# mkmesh: panic with no argument is stored and sent well under a second and
# returns at once when piped; on a terminal (a pty from util-linux script)
# it follows delivered k / N with names and who is responding until Ctrl-C;
# a panic is bold red on a terminal only (not piped, not NO_COLOR, not
# TERM=dumb); alerts --watch shows new alerts as they arrive, and an alert
# stored between its subscribe and its list only once; --since takes
# durations and ISO dates; refusals come with a hint (not a member yet, not
# a coordinator, unknown member, unknown alert).
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}"
command -v script >/dev/null || th_fail "script (util-linux; Debian: bsdutils) is needed"
th_init

N=3
mapfile -t PORTS < <(th_free_ports $N)
args=()
for i in $(seq 1 $N); do args+=("$TH_DIR/n$i:${PORTS[$((i - 1))]}"); done
"$MKMESH" --name cl-net "${args[@]}" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
for i in $(seq 1 $N); do th_start_at "n$i" "${PORTS[$((i - 1))]}"; done

tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
# pty NAME CMD...: CMD on a pseudo-terminal (script), output in $TH_DIR/NAME.pty.
pty() {
	local name=$1; shift
	local cmd
	printf -v cmd '%q ' "$@"
	script -qfec "exec $cmd" /dev/null </dev/null >"$TH_DIR/$name.pty" 2>&1
}
links_of() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])'; }
all_linked() {
	local i
	for i in $(seq 1 $N); do [ "$(links_of "n$i")" -ge $((N - 1)) ] || return 1; done
}
th_poll 20 all_linked || th_fail "not every daemon has $((N - 1)) links"
ESC=$'\033'

# ---- alerts --watch on n3 (piped: no colour) ------------------------------
th_spawn aw3 "$TOCSIN" --home "$TH_DIR/n3" alerts --watch
th_poll 5 grep -q 'no alerts' "${TH_LOG[aw3]}" || th_fail "alerts --watch did not list first"

# ---- panic with no argument, piped: back at once --------------------------
t0=$(th_now_us)
tc n2 panic >"$TH_DIR/p1.out" 2>&1 || th_fail "panic: $(cat "$TH_DIR/p1.out")"
t1=$(th_now_us)
ms=$(((t1 - t0) / 1000))
th_log "tocsin panic (no argument, piped), whole command: $ms ms"
[ "$ms" -lt 1000 ] || th_fail "panic took $ms ms"
grep -q '^stored; sent to 2 links (2 other members) - alert ' "$TH_DIR/p1.out" ||
	th_fail "panic output: $(cat "$TH_DIR/p1.out")"
grep -q 'following' "$TH_DIR/p1.out" && th_fail "a piped panic followed delivery"
th_pass "panic without argument: stored and sent in $ms ms, piped it returns at once"

th_poll 10 grep -q 'PANIC' "${TH_LOG[aw3]}" || th_fail "alerts --watch did not show the panic"
grep -q "$ESC" "${TH_LOG[aw3]}" && th_fail "colour codes in piped alerts --watch"
# Local time: the line carries the local zone's abbreviation (TZ is set below).
th_pass "alerts --watch shows the new panic as it arrives, no colour when piped"

# ---- alerts --watch: an alert stored between subscribe and list, once ------
# TOCSIN_TEST_SEAM_DELAY_MS (test-only) holds the client between its
# subscribe and its list request; n2's drill is stored on n3 inside that
# window, so it is both in the list and on the event stream. The list's
# objects carry received_ms and the events "event", so --json shows which
# of the two was printed. A later drill fences the stream: events come in
# order, so once it is printed a duplicate would have been too.
subs_of() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["subscribers"])'; }
subs0=$(subs_of n3)
SEAM_MS=6000
t_sub=$(th_now_us) # before either client subscribes: their windows end later
th_spawn sh3 env TOCSIN_TEST_SEAM_DELAY_MS=$SEAM_MS "$TOCSIN" --home "$TH_DIR/n3" alerts --watch
th_spawn sj3 env TOCSIN_TEST_SEAM_DELAY_MS=$SEAM_MS "$TOCSIN" --home "$TH_DIR/n3" alerts --watch --json
subscribed() { [ "$(subs_of n3)" -ge $((subs0 + 2)) ]; }
th_poll 10 subscribed || th_fail "the seam watchers did not subscribe"
tc n2 drill seam-marker >/dev/null || th_fail "drill seam-marker"
stored_n3() { tc n3 alerts --json | grep -q seam-marker; }
th_poll 10 stored_n3 || th_fail "seam-marker not stored on n3"
in_seam_ms=$((($(th_now_us) - t_sub) / 1000))
[ "$in_seam_ms" -lt "$SEAM_MS" ] ||
	th_fail "seam-marker stored after ${in_seam_ms} ms, past the ${SEAM_MS} ms window (load?)"
listed() { grep -q seam-marker "${TH_LOG[sh3]}" && grep -q seam-marker "${TH_LOG[sj3]}"; }
th_poll $((SEAM_MS / 1000 + 20)) listed || th_fail "seam-marker not listed: $(cat "${TH_LOG[sh3]}" "${TH_LOG[sj3]}")"
tc n2 drill seam-fence >/dev/null || th_fail "drill seam-fence"
fenced() { grep -q seam-fence "${TH_LOG[sh3]}" && grep -q seam-fence "${TH_LOG[sj3]}"; }
th_poll 20 fenced || th_fail "the fence drill not shown: $(cat "${TH_LOG[sh3]}" "${TH_LOG[sj3]}")"
n_h=$(grep -c seam-marker "${TH_LOG[sh3]}")
n_j=$(grep -c seam-marker "${TH_LOG[sj3]}")
[ "$n_h" = 1 ] || th_fail "human alerts --watch printed seam-marker $n_h times: $(cat "${TH_LOG[sh3]}")"
[ "$n_j" = 1 ] || th_fail "alerts --watch --json printed seam-marker $n_j times: $(cat "${TH_LOG[sj3]}")"
grep seam-marker "${TH_LOG[sj3]}" | grep -q '"received_ms"' ||
	th_fail "seam-marker did not come from the list (not in the seam): $(cat "${TH_LOG[sj3]}")"
grep seam-fence "${TH_LOG[sj3]}" | grep -q '"event": *"alert"' ||
	th_fail "seam-fence not an event: $(cat "${TH_LOG[sj3]}")"
th_pass "alerts --watch (human and --json): an alert stored between subscribe and list is printed once (stored ${in_seam_ms} ms into a ${SEAM_MS} ms seam)"

# ---- colour only on a terminal -------------------------------------------
export TZ=UTC0
TERM=xterm pty c1 "$TOCSIN" --home "$TH_DIR/n1" alerts || th_fail "alerts on a pty"
grep -q "${ESC}\[1;31mPANIC" "$TH_DIR/c1.pty" || th_fail "no bold red panic on a terminal: $(cat -v "$TH_DIR/c1.pty")"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC ' "$TH_DIR/c1.pty" ||
	th_fail "no local time: $(cat "$TH_DIR/c1.pty")"
tc n1 alerts >"$TH_DIR/c2.out" || th_fail "alerts piped"
grep -q PANIC "$TH_DIR/c2.out" || th_fail "piped alerts without the panic"
grep -q '^    severity critical, other$' "$TH_DIR/c2.out" || th_fail "no severity line: $(cat "$TH_DIR/c2.out")"
grep -q "$ESC" "$TH_DIR/c2.out" && th_fail "colour when piped"
NO_COLOR=1 TERM=xterm pty c3 "$TOCSIN" --home "$TH_DIR/n1" alerts || th_fail "alerts NO_COLOR"
grep -q PANIC "$TH_DIR/c3.pty" || th_fail "NO_COLOR alerts without the panic"
grep -q "$ESC" "$TH_DIR/c3.pty" && th_fail "colour with NO_COLOR=1"
TERM=dumb pty c4 "$TOCSIN" --home "$TH_DIR/n1" alerts || th_fail "alerts TERM=dumb"
grep -q PANIC "$TH_DIR/c4.pty" || th_fail "TERM=dumb alerts without the panic"
grep -q "$ESC" "$TH_DIR/c4.pty" && th_fail "colour with TERM=dumb"
TZ=Asia/Baghdad TERM=dumb pty c5 "$TOCSIN" --home "$TH_DIR/n1" alerts || th_fail "alerts TZ"
grep -Eq '^[0-9-]{10} [0-9:]{8} \+03 ' "$TH_DIR/c5.pty" || th_fail "not in local time: $(cat "$TH_DIR/c5.pty")"
th_pass "panic bold red on a terminal only (not piped, NO_COLOR, TERM=dumb); times in local time"

# ---- panic on a terminal follows delivery until Ctrl-C -------------------
th_spawn f1 script -qfec "exec $(printf '%q' "$TOCSIN") --home $(printf '%q' "$TH_DIR/n1") panic" /dev/null
th_poll 10 grep -q 'delivered 2 / 2' "${TH_LOG[f1]}" || th_fail "no live delivered 2 / 2: $(cat "${TH_LOG[f1]}")"
grep -Eq 'delivered [12] / 2: m[23] \([0-9a-f]{16}\) after [0-9.]+ s' "${TH_LOG[f1]}" ||
	th_fail "delivery without names: $(cat "${TH_LOG[f1]}")"
PID1=$(sed -n 's/.*alert \([0-9a-f]\{16\}\).*/\1/p' "${TH_LOG[f1]}" | head -n 1)
[ -n "$PID1" ] || th_fail "no alert id in the follow output"
tc n3 respond "$PID1" "on my way" >"$TH_DIR/r.out" 2>&1 || th_fail "respond: $(cat "$TH_DIR/r.out")"
th_poll 10 grep -q 'm3 ([0-9a-f]*) is responding: on my way' "${TH_LOG[f1]}" ||
	th_fail "the responder is not shown: $(cat "${TH_LOG[f1]}")"
child=$(ps -o pid= --ppid "${TH_PID[f1]}" | tr -d ' ')
[ -n "$child" ] || child=${TH_PID[f1]}
kill -INT "$child"
th_poll 10 th_dead "${TH_PID[f1]}" || th_fail "Ctrl-C did not end following"
grep -q 'stopped following; the alert stays sent' "${TH_LOG[f1]}" || th_fail "no goodbye: $(cat "${TH_LOG[f1]}")"
th_pass "panic on a terminal follows delivered k / N with names and the responder until Ctrl-C"

tc n1 panic --no-watch --watch >/dev/null 2>"$TH_DIR/ww.err" && th_fail "--watch --no-watch accepted"
TERM=xterm pty nw "$TOCSIN" --home "$TH_DIR/n1" drill --no-watch || th_fail "drill --no-watch"
grep -q following "$TH_DIR/nw.pty" && th_fail "--no-watch followed"
th_pass "--no-watch returns at once on a terminal; --watch with --no-watch is a usage error"

# ---- --since --------------------------------------------------------------
count() { tc n1 alerts --json "$@" | grep -c '"kind"'; }
[ "$(count --since 2000-01-01)" -ge 2 ] || th_fail "--since 2000-01-01"
[ "$(count --since '2000-01-01 00:00:00')" -ge 2 ] || th_fail "--since date time"
[ "$(count --since 1h)" -ge 2 ] || th_fail "--since 1h"
[ "$(count --since 2d)" -ge 2 ] || th_fail "--since 2d"
[ "$(count --since 2099-01-01T00:00Z)" = 0 ] || th_fail "--since in the future lists alerts"
for bad in yesterday 2026-13-01 2026-11-25T25:00 1x; do
	tc n1 alerts --since "$bad" >/dev/null 2>"$TH_DIR/since.err" && th_fail "--since $bad accepted"
	grep -q 'since takes' "$TH_DIR/since.err" || th_fail "--since $bad: $(cat "$TH_DIR/since.err")"
done
th_pass "--since takes 1h, 2d, ISO dates and times (local or Z); nonsense is a usage error"

# ---- helpful errors -------------------------------------------------------
tc n2 notice "hello" >/dev/null 2>"$TH_DIR/e1.err"; rc=$?
[ "$rc" = 1 ] || th_fail "notice by a member: exit $rc"
grep -q 'hint: only a coordinator can do this' "$TH_DIR/e1.err" || th_fail "no coordinator hint: $(cat "$TH_DIR/e1.err")"
tc n2 revoke m3 >/dev/null 2>"$TH_DIR/e2.err" && th_fail "revoke by a member"
grep -q 'hint: only a coordinator' "$TH_DIR/e2.err" || th_fail "revoke by member: $(cat "$TH_DIR/e2.err")"
tc n1 revoke nobody-here >/dev/null 2>"$TH_DIR/e3.err"; rc=$?
[ "$rc" = 1 ] || th_fail "revoke unknown: exit $rc"
grep -q 'hint: no member has that name; tocsin members lists' "$TH_DIR/e3.err" || th_fail "unknown member: $(cat "$TH_DIR/e3.err")"
tc n3 respond ffffffff >/dev/null 2>"$TH_DIR/e4.err" && th_fail "respond to an unknown alert"
grep -q 'hint: no alert has an id starting like that' "$TH_DIR/e4.err" || th_fail "unknown alert: $(cat "$TH_DIR/e4.err")"
th_start lone
tc lone init >/dev/null || th_fail "init lone"
tc lone panic >/dev/null 2>"$TH_DIR/e5.err"; rc=$?
[ "$rc" = 1 ] || th_fail "panic outside a network: exit $rc"
grep -q 'hint: this device is not a member of a network yet: join one with tocsin join' "$TH_DIR/e5.err" ||
	th_fail "not a member: $(cat "$TH_DIR/e5.err")"
th_pass "hints: not a coordinator, unknown member, unknown alert, not a member yet (exit 1)"

# ---- no peer reachable: said plainly, and the alert leaves when one is ----
th_stop n2
th_stop n3
no_links() { [ "$(links_of n1)" = 0 ]; }
th_poll 15 no_links || th_fail "n1 still has links with n2 and n3 stopped"
th_spawn f2 script -qfec "exec $(printf '%q' "$TOCSIN") --home $(printf '%q' "$TH_DIR/n1") panic alone" /dev/null
th_poll 10 grep -q 'no peer reachable yet - it will leave as soon as one is' "${TH_LOG[f2]}" ||
	th_fail "no plain 'no peer reachable': $(cat "${TH_LOG[f2]}")"
th_poll 10 grep -q 'delivered 0 / 2' "${TH_LOG[f2]}" || th_fail "no delivered 0 / 2: $(cat "${TH_LOG[f2]}")"
th_start_at n3 "${PORTS[2]}"
th_poll 20 grep -q 'delivered 1 / 2: m3 ' "${TH_LOG[f2]}" ||
	th_fail "the alert did not leave when m3 came back: $(cat "${TH_LOG[f2]}")"
child=$(ps -o pid= --ppid "${TH_PID[f2]}" | tr -d ' ')
kill -INT "${child:-${TH_PID[f2]}}"
th_poll 10 th_dead "${TH_PID[f2]}" || th_fail "Ctrl-C did not end following"
th_pass "with no peer the panic says so plainly, and leaves (delivered 1 / 2: m3) when a peer is back"
