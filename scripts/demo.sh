#!/usr/bin/env bash
# Install what is missing, build, and run a local demo mesh on 127.0.0.1:
# five tocsind daemons, a panic with Arabic text pressed on one of them,
# the alert arriving at every daemon with the time it took, the receipts
# coming back to the author, then `safe`. Every process it starts is stopped.
#
# Not built yet: invitations. The five members are therefore provisioned by
# the test tool tests/tools/mkmesh (keys and a signed roster written into
# each home), not by `tocsin invite` / `tocsin join`. The demo says so.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
tocsin_install_deps

if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
meson compile -C build >/dev/null
TOCSIND=$PWD/build/daemon/tocsind
TOCSIN=$PWD/build/client/tocsin
MKMESH=$PWD/build/tests/mkmesh

work=$(mktemp -d /tmp/tocsin-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# Free ports on 127.0.0.1, asked of the kernel.
ports=($(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
))

say "five members (provisioned by the test tool mkmesh: invitations are not wired yet)"
args=()
for i in 1 2 3 4 5; do args+=("$work/n$i:${ports[i-1]}"); done
"$MKMESH" "${args[@]}" | sed 's|'"$work"'/||'

say "each member's daemon starts and links to the others"
for i in 1 2 3 4 5; do
	"$TOCSIND" --home "$work/n$i" --listen "127.0.0.1:${ports[i-1]}" 2>"$work/n$i.log" &
	pids+=($!)
done
for i in 1 2 3 4 5; do
	for _ in $(seq 200); do
		up=$("$TOCSIN" --home "$work/n$i" peers --json 2>/dev/null |
			json 'print(sum(1 for p in d if p.get("state") == "up"))' 2>/dev/null || echo 0)
		[ "$up" -ge 4 ] && break
		sleep 0.05
	done
done
sleep 0.5
"$TOCSIN" --home "$work/n1" members

say "m2 presses panic"
"$TOCSIN" --home "$work/n2" panic "النجدة، أنا في خطر" --violation detention

say "the alert at every daemon, and how long it took to get there"
ok=0
for _ in $(seq 100); do
	ok=0
	for i in 1 2 3 4 5; do
		n=$("$TOCSIN" --home "$work/n$i" alerts --json | json 'print(sum(1 for a in d if a["kind"] == "panic"))')
		[ "$n" -ge 1 ] && ok=$((ok + 1))
	done
	[ "$ok" -eq 5 ] && break
	sleep 0.1
done
for i in 1 2 3 4 5; do
	"$TOCSIN" --home "$work/n$i" alerts --json | json '
a = [x for x in d if x["kind"] == "panic"][0]
who = "its author" if a["own"] else "after %d ms" % (a["received_ms"] - a["created_ms"])
print("m%s: %s from %s: %s  (%s)" % ('"$i"', a["kind"], a["author_name"], a["text"], who))'
done
[ "$ok" -eq 5 ] || { echo "UNEXPECTED: the panic reached only $ok of 5 daemons"; exit 1; }

say "receipts back at the author"
for _ in $(seq 100); do
	line=$("$TOCSIN" --home "$work/n2" alerts --json | json '
a = [x for x in d if x["kind"] == "panic"][0]
print(a.get("delivered", 0), a.get("members", 0))')
	[ "${line% *}" = "${line#* }" ] && break
	sleep 0.1
done
echo "m2 sees: delivered ${line% *} / ${line#* } other members"

say "m2 is safe"
"$TOCSIN" --home "$work/n2" safe
sleep 0.5
"$TOCSIN" --home "$work/n5" alerts | tail -2

say "not built yet"
cat <<'EOF'
Invitations (`tocsin invite` / `tocsin join`), roster gossip, revocation through
the daemons and desktop notifications are being built; README.md, "Status",
lists what works.
EOF
