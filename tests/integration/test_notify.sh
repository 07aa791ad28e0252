#!/usr/bin/env bash
# Desktop notifications over D-Bus (docs/daemon.md "Notifications"): a
# private dbus-daemon, a fake notification server (tests/tools/fake_notifd)
# recording every Notify, three daemons from mkmesh. n1 has the bus, n2 and
# n3 have none. A panic is one Notify with urgency 2 naming its author, a
# drill urgency 1; without a bus the daemon logs the fallback and works on;
# a killed server or bus never hurts the daemon.
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}" "${FAKE_NOTIFD:?}"
command -v dbus-daemon >/dev/null || { echo "SKIP: no dbus-daemon (package dbus-daemon)"; exit 77; }
th_init

BUS=$TH_DIR/bus
cat >"$TH_DIR/bus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
XML
# No <servicedir>: nothing is ever activated, only our fake server answers.
th_spawn bus dbus-daemon --config-file="$TH_DIR/bus.conf" --nofork --nopidfile --print-address=1
th_poll 10 test -S "$BUS" || th_fail "dbus-daemon did not create $BUS"
REC=$TH_DIR/notify.rec
: >"$REC"
start_notifd() {
	th_spawn notifd "$FAKE_NOTIFD" "unix:path=$BUS" "$REC"
	th_poll 10 grep -q '^ready' "${TH_LOG[notifd]}" || th_fail "fake_notifd did not start"
}
start_notifd

N=3
mapfile -t PORTS < <(th_free_ports $N)
args=()
for i in $(seq 1 $N); do args+=("$TH_DIR/n$i:${PORTS[$((i - 1))]}"); done
"$MKMESH" --name notify-net "${args[@]}" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
# on_alert (daemon/hook.c, posix_spawn + pidfd): n2 runs one that records
# its environment and stdin; n3's does not exist (on_alert_failed ENOENT).
cat >"$TH_DIR/hook.sh" <<SH
#!/bin/sh
{ env | sort; readlink /proc/self/fd/0; } >"$TH_DIR/hook.out"
SH
chmod 700 "$TH_DIR/hook.sh"
printf '[notify]\non_alert = %s\n' "$TH_DIR/hook.sh" >"$TH_DIR/n2/tocsind.conf"
printf '[notify]\non_alert = %s\n' "$TH_DIR/no-such-hook" >"$TH_DIR/n3/tocsind.conf"
chmod 600 "$TH_DIR/n2/tocsind.conf" "$TH_DIR/n3/tocsind.conf"

# start NAME PORT ENV...: tocsind with exactly this bus environment.
start() {
	local name=$1 port=$2; shift 2
	mkdir -p "$TH_DIR/rt-$name" && chmod 700 "$TH_DIR/rt-$name"
	TH_HOME[$name]=$TH_DIR/$name
	th_spawn "$name" env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$TH_DIR/rt-$name" "$@" \
		"$TOCSIND" --home "${TH_HOME[$name]}" --listen "127.0.0.1:$port" --foreground
	th_wait_ready "$name"
}
start n1 "${PORTS[0]}" DBUS_SESSION_BUS_ADDRESS="unix:path=$BUS"
start n2 "${PORTS[1]}"
start n3 "${PORTS[2]}"
grep -q 'desktop_notify built=yes enabled=yes' "${TH_LOG[n1]}" ||
	th_fail "no 'desktop_notify built=yes' line at start"

tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
status_field() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }
all_linked() {
	local i
	for i in $(seq 1 $N); do [ "$(status_field "n$i" links)" -ge $((N - 1)) ] || return 1; done
}
th_poll 20 all_linked || th_fail "not every daemon has $((N - 1)) links"

has_alert() {
	tc "$1" alerts --json | python3 -c '
import json, sys
sys.exit(0 if any(json.loads(l)["id"] == sys.argv[1] for l in sys.stdin if l.strip()) else 1)' "$2"
}
send() { # send NODE KIND TEXT -> alert id
	tc "$1" "$2" "$3" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])'
}
# records SUMMARY_SUBSTRING: how many Notify calls had it in their summary.
records() {
	python3 - "$REC" "$1" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and sys.argv[2] in json.loads(l)["summary"]))
PY
}
have_records() { [ "$(records "$1")" -ge "$2" ]; }

# 1. A panic from m2 (n2): one Notify, urgency 2, never expires, names m2,
# the text escaped for body markup.
TEXT='النجدة <b>now</b> & here'
ID1=$(send n2 panic "$TEXT") || th_fail "panic on n2"
th_poll 10 has_alert n1 "$ID1" || th_fail "the panic did not reach n1"
th_poll 10 have_records 'panic from m2' 1 || th_fail "no Notify for the panic"
python3 - "$REC" "$TEXT" <<'PY' || th_fail "the panic's Notify is wrong: $(cat "$REC")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
p = [x for x in r if x["summary"] == "Tocsin: panic from m2"]
assert len(p) == 1, r
p = p[0]
assert p["urgency"] == 2 and p["expire"] == 0 and p["app"] == "Tocsin", p
want = sys.argv[2].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
assert p["body"] == want, (p["body"], want)
PY
th_pass "panic from m2: one Notify on n1, urgency 2, expire 0, author named, text escaped"

# 2. A drill from m3: urgency 1, the server's default expiry.
ID2=$(send n3 drill "practice") || th_fail "drill on n3"
th_poll 10 has_alert n1 "$ID2" || th_fail "the drill did not reach n1"
th_poll 10 have_records 'drill from m3' 1 || th_fail "no Notify for the drill"
python3 - "$REC" <<'PY' || th_fail "the drill's Notify is wrong: $(cat "$REC")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
d = [x for x in r if x["summary"] == "Tocsin: drill from m3"]
assert len(d) == 1 and d[0]["urgency"] == 1 and d[0]["expire"] == -1 and d[0]["body"] == "practice", r
assert len([x for x in r if "panic" in x["summary"]]) == 1, r  # the panic still once
PY
th_wait_log n1 'desktop_notified id=' 5
[ "$(status_field n1 desktop_notify)" = connected ] || th_fail "n1 status desktop_notify: $(status_field n1 desktop_notify)"
th_pass "drill from m3: one Notify, urgency 1; the panic was notified exactly once"

# 3. No bus on n2: one fallback line, the alert still arrives.
th_poll 10 has_alert n2 "$ID2" || th_fail "the drill did not reach n2"
th_wait_log n2 'desktop_unavailable reason=no_session_bus .*fallback=log,on_alert,subscribers' 5
grep -q "alert id=${ID2:0:16} kind=drill" "${TH_LOG[n2]}" || th_fail "n2 did not log the alert"
case "$(status_field n2 desktop_notify)" in
"unavailable (no session bus)"*) ;;
*) th_fail "n2 status desktop_notify: $(status_field n2 desktop_notify)" ;;
esac
th_pass "no session bus: the daemon logs the fallback, status says so, alerts still arrive"

# on_alert: n2's hook ran with the alert's environment alone and stdin on
# /dev/null, and was reaped (no child left, zombie or not); n3's missing
# hook is one log line.
no_children() { [ -z "$(ps -o pid= --ppid "${TH_PID[n2]}")" ]; }
th_poll 10 grep -q '^/dev/null$' "$TH_DIR/hook.out" 2>/dev/null || th_fail "n2's on_alert did not run"
grep -q "^TOCSIN_ALERT_ID=$ID2\$" "$TH_DIR/hook.out" || th_fail "hook env: $(cat "$TH_DIR/hook.out")"
grep -q '^TOCSIN_ALERT_KIND=drill$' "$TH_DIR/hook.out" || th_fail "hook env: no kind"
grep -q '^HOME=' "$TH_DIR/hook.out" && th_fail "hook env has HOME: $(cat "$TH_DIR/hook.out")"
th_poll 10 no_children || th_fail "n2 left hook children: $(ps -o pid=,stat= --ppid "${TH_PID[n2]}")"
th_wait_log n3 "on_alert_failed cmd=$TH_DIR/no-such-hook error=ENOENT" 10
th_pass "on_alert: exact environment, stdin /dev/null, child reaped; a missing hook is logged"

# 4. The notification server dies: a failed Notify is a log line, nothing more.
kill -TERM "${TH_PID[notifd]}"
th_wait_exit "${TH_PID[notifd]}" 5 || th_fail "fake_notifd did not stop"
ID3=$(send n3 panic "second") || th_fail "second panic"
th_poll 10 has_alert n1 "$ID3" || th_fail "the second panic did not reach n1"
th_wait_log n1 'desktop_notify_failed error=org.freedesktop.DBus.Error.ServiceUnknown' 15
th_alive "${TH_PID[n1]}" || th_fail "n1 died"
[ "$(records 'panic from m3')" = 0 ] || th_fail "a Notify was recorded with the server dead"
th_pass "notification server killed: n1 logs desktop_notify_failed and keeps working"

# 5. A server again, and [notify] desktop_details = false by SIGHUP: only the kind.
start_notifd
printf '[notify]\ndesktop_details = false\n' >"$TH_DIR/n1/tocsind.conf"
chmod 600 "$TH_DIR/n1/tocsind.conf"
kill -HUP "${TH_PID[n1]}"
th_wait_log n1 'reload_ok' 5
ID4=$(send n2 panic "secret place") || th_fail "third panic"
th_poll 10 has_alert n1 "$ID4" || th_fail "the third panic did not reach n1"
th_poll 10 have_records 'Tocsin: panic' 2 || th_fail "no Notify after the server came back"
python3 - "$REC" <<'PY' || th_fail "desktop_details = false leaked: $(tail -n 1 "$REC")"
import json, sys
last = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
assert last["summary"] == "Tocsin: panic" and last["urgency"] == 2, last
assert "secret" not in last["body"] and "m2" not in last["body"], last
PY
th_pass "server back: Notify again; desktop_details = false shows the kind only"

# 6. The bus itself dies: a log line; the next alert falls back; n1 lives.
kill -TERM "${TH_PID[bus]}"
th_wait_exit "${TH_PID[bus]}" 5 || th_fail "dbus-daemon did not stop"
th_wait_log n1 'desktop_bus_lost' 10
ID5=$(send n3 drill "after the bus") || th_fail "drill after the bus died"
th_poll 10 has_alert n1 "$ID5" || th_fail "the drill did not reach n1 without a bus"
th_wait_log n1 'desktop_unavailable reason=no_session_bus' 10
th_alive "${TH_PID[n1]}" || th_fail "n1 died"
[ "$(status_field n1 links)" -ge 2 ] || th_fail "n1 lost its links"
th_pass "dbus-daemon killed: n1 logs desktop_bus_lost, falls back, keeps its links"

for n in n1 n2 n3; do
	th_stop "$n"
	[ "$TH_STATUS" = 0 ] || th_fail "$n exited $TH_STATUS"
done
th_pass "all three daemons stop cleanly (exit 0)"
