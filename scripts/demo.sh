#!/usr/bin/env bash
# Install what is missing, build, and run a local demo mesh on 127.0.0.1:
# five tocsind daemons; the first creates a network and invites the other
# four, who join (both sides print the safety number to compare); a panic
# with Arabic text is pressed on one of them and arrives at every daemon
# with the time it took; the receipts come back to the author; then `safe`.
# Every process it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
tocsin_install_deps

if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
meson compile -C build >/dev/null
TOCSIND=$PWD/build/daemon/tocsind
TOCSIN=$PWD/build/client/tocsin

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
# jsonl: the same over JSON lines (lists: one object per line) as d.
jsonl() { python3 -c "import json,sys; d=[json.loads(l) for l in sys.stdin if l.strip()]; $1"; }

# Free ports on 127.0.0.1, asked of the kernel.
ports=($(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
))

names=(ana bea cleo dana eva)
say "five laptops, each running tocsind"
for i in 1 2 3 4 5; do
	"$TOCSIND" --home "$work/n$i" --listen "127.0.0.1:${ports[i-1]}" 2>"$work/n$i.log" &
	pids+=($!)
done
for i in 1 2 3 4 5; do
	for _ in $(seq 100); do [ -S "$work/n$i/control.sock" ] && break; sleep 0.05; done
	"$TOCSIN" --home "$work/n$i" init >/dev/null
	echo "${names[i-1]}: $("$TOCSIN" --home "$work/n$i" id | head -1)"
done

say "ana founds the network"
"$TOCSIN" --home "$work/n1" network create "Demo network" --name ana

for i in 2 3 4 5; do
	name=${names[i-1]}
	role=member
	[ "$name" = bea ] && role=coordinator
	say "ana invites $name ($role); $name joins"
	"$TOCSIN" --home "$work/n1" invite --name "$name" --role "$role" --json --wait --timeout 30 \
		>"$work/inv.$i" 2>&1 &
	inviter=$!
	for _ in $(seq 100); do grep -qs '"code"' "$work/inv.$i" && break; sleep 0.05; done
	code=$(head -n 1 "$work/inv.$i" | json 'print(d["code"])')
	echo "invitation code: $code"
	"$TOCSIN" --home "$work/n$i" join "$code" --name "$name" --timeout 30
	wait "$inviter"
	echo "ana's side: $(tail -n 1 "$work/inv.$i" | json 'print("%s joined; safety number %s" % (d["name"], d["safety_number"]))')"
done

say "every daemon links to the others"
for i in 1 2 3 4 5; do
	for _ in $(seq 200); do
		up=$("$TOCSIN" --home "$work/n$i" peers --json 2>/dev/null |
			jsonl 'print(sum(1 for p in d if p.get("state") == "up"))' 2>/dev/null || echo 0)
		[ "$up" -ge 4 ] && break
		sleep 0.05
	done
done
"$TOCSIN" --home "$work/n1" members

say "bea presses panic"
"$TOCSIN" --home "$work/n2" panic "النجدة، أنا في خطر" --violation detention --no-watch

say "the alert at every daemon, and how long it took to get there"
ok=0
for _ in $(seq 100); do
	ok=0
	for i in 1 2 3 4 5; do
		n=$("$TOCSIN" --home "$work/n$i" alerts --json | jsonl 'print(sum(1 for a in d if a["kind"] == "panic"))')
		[ "$n" -ge 1 ] && ok=$((ok + 1))
	done
	[ "$ok" -eq 5 ] && break
	sleep 0.1
done
for i in 1 2 3 4 5; do
	"$TOCSIN" --home "$work/n$i" alerts --json | jsonl '
a = [x for x in d if x["kind"] == "panic"][0]
who = "its author" if a["own"] else "after %d ms" % (a["received_ms"] - a["created_ms"])
print("%s: %s from %s: %s  (%s)" % ("'"${names[i-1]}"'", a["kind"], a["author_name"], a["text"], who))'
done
[ "$ok" -eq 5 ] || { echo "UNEXPECTED: the panic reached only $ok of 5 daemons"; exit 1; }

say "receipts back at the author"
for _ in $(seq 100); do
	line=$("$TOCSIN" --home "$work/n2" alerts --json | jsonl '
a = [x for x in d if x["kind"] == "panic"][0]
print(a.get("delivered", 0), a.get("members", 0))')
	[ "${line% *}" = "${line#* }" ] && break
	sleep 0.1
done
echo "bea sees: delivered ${line% *} / ${line#* } other members"

say "bea is safe"
"$TOCSIN" --home "$work/n2" safe
sleep 0.5
"$TOCSIN" --home "$work/n5" alerts | tail -2

say "the same alerts at cleo's, in Arabic (LANG=ar_IQ.UTF-8)"
LANG=ar_IQ.UTF-8 LC_ALL= TOCSIN_LOCALEDIR=$PWD/build/po "$TOCSIN" --home "$work/n3" alerts

say "not built yet"
cat <<'EOF'
NAT hole punching and a transport that hides members' IP addresses (Tor) are not
built; the Arabic translation awaits review by native speakers. README.md,
"Status", lists what works; docs/security.md what is and is not protected.
EOF
