# shellcheck shell=bash
# Helpers for tests on a mesh seeded by tests/tools/mkmesh. Source it after
# lib.sh and th_init (needs TOCSIN and MKMESH):
#
#   . "$(dirname "$TH_LIB")/mesh.sh"
#   tm_seed NET 4            # homes n1..n4 = members m1..m4, ports in PORTS
#   tm_start 1 --log-level debug; tm_start 2; tm_start 3
#   th_poll 20 tm_linked 3 || th_fail ...
: "${TOCSIN:?}" "${MKMESH:?}"
PORTS=()

# tm_seed NET TOTAL: TOTAL homes $TH_DIR/nI (m1 the coordinator) on ports
# asked of the kernel.
tm_seed() {
	local net=$1 total=$2 i args=()
	mapfile -t PORTS < <(th_free_ports "$total")
	for i in $(seq 1 "$total"); do args+=("$TH_DIR/n$i:${PORTS[$((i - 1))]}"); done
	"$MKMESH" --name "$net" "${args[@]}" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
}

# tm_start I [TOCSIND ARGS...]: daemon nI at its port, keepalive 2 s.
tm_start() {
	local i=$1; shift
	printf '[links]\nkeepalive = 2\n' >"$TH_DIR/n$i/tocsind.conf"
	chmod 600 "$TH_DIR/n$i/tocsind.conf"
	th_start_at "n$i" "${PORTS[$((i - 1))]}" "$@"
}

tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
links_of() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])'; }
# tm_linked N: n1..nN each have N-1 links.
tm_linked() {
	local i
	for i in $(seq 1 "$1"); do [ "$(links_of "n$i")" -ge $(($1 - 1)) ] || return 1; done
}

# counters NODE: status --json "counters" ("link.rej_mac=3 alert.bad_signature=1 ...").
counters() { tc "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"])'; }
# counter NODE NAME: one of them ("link.rej_mac"), 0 if absent.
counter() {
	counters "$1" | python3 -c '
import sys
c = dict(kv.split("=") for kv in sys.stdin.read().split())
print(c.get(sys.argv[1], 0))' "$2"
}
ge() { [ "$(counter "$1" "$2")" -ge "$3" ]; }

# has_alert NODE ID: NODE's alerts --json holds ID.
has_alert() {
	tc "$1" alerts --json | python3 -c '
import json, sys
sys.exit(0 if any(json.loads(l)["id"] == sys.argv[1] for l in sys.stdin if l.strip()) else 1)' "$2"
}
# on_all ID: n1..n3 hold ID.
on_all() { local i; for i in 1 2 3; do has_alert "n$i" "$1" || return 1; done; }
# alert_id: the "alert" field of a --json reply on stdin.
alert_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])'; }
# tm_stop_all N: stop n1..nN, each must exit 0.
tm_stop_all() {
	local i
	for i in $(seq 1 "$1"); do
		th_stop "n$i"
		[ "$TH_STATUS" = 0 ] || th_fail "n$i exit $TH_STATUS"
	done
}
# tm_kib PID FIELD: a /proc/PID/status figure in KiB (VmRSS, VmHWM).
tm_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
