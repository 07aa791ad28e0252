#!/usr/bin/env bash
# Install what is missing, build, and show what Tocsin does today, on this
# machine only (127.0.0.1).
#
# Today that is: two real tocsind daemons with their own homes, device
# identities created through the tocsin client, a port scan that gets
# nothing back, and the Noise XXpsk0 handshake between two processes. The
# mesh itself (membership, alerts, gossip) is not built yet, so this demo
# cannot press panic; it says so at the end rather than pretend.
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

start_daemon() { # name -> sets PORT_<name>
	local name=$1 log="$work/$1.log"
	"$TOCSIND" --home "$work/$name" --listen 127.0.0.1:0 2>"$log" &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q ' ready ' "$log" 2>/dev/null && break
		sleep 0.05
	done
	grep -q ' ready ' "$log" || { echo "tocsind $name did not start:"; cat "$log"; exit 1; }
	local port
	port=$(sed -n 's/.* ready listen=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
	printf -v "PORT_$name" '%s' "$port"
	echo "tocsind for $name: pid ${pids[-1]}, listening on 127.0.0.1:$port, home $work/$name"
}

say "two daemons, each with its own home"
start_daemon alice
start_daemon bahar

say "each device creates its identity (tocsin init)"
for who in alice bahar; do
	echo "-- $who"
	"$TOCSIN" --home "$work/$who" init
done

say "what each member reads out to the other, to check she has the right device"
for who in alice bahar; do
	printf '%-6s ' "$who:"
	"$TOCSIN" --home "$work/$who" id | head -1
done

say "a port scanner connects to alice's daemon and sends an HTTP request"
exec 3<>"/dev/tcp/127.0.0.1/$PORT_alice"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&3
if reply=$(timeout 2 head -c 1 <&3 | od -An -tx1); [ -z "$reply" ]; then
	echo "no byte came back in 2 s: to an outsider the port looks like a black hole"
else
	echo "UNEXPECTED: the daemon answered: $reply"
	exit 1
fi
exec 3>&-

say "the Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b handshake between two processes"
PSK=$(printf '42%.0s' $(seq 32))
PROLOGUE=$(printf 'tocsin/1' | od -An -tx1 | tr -d ' \n')$(printf '00%.0s' $(seq 16))
"$PWD/build/tests/noise-peer" --role responder --port 0 --static "$(printf '11%.0s' $(seq 32))" \
	--psk "$PSK" --prologue "$PROLOGUE" >"$work/resp.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -qs '^port ' "$work/resp.out" && break; sleep 0.05; done
port=$(awk '/^port /{print $2}' "$work/resp.out")
"$PWD/build/tests/noise-peer" --role initiator --port "$port" --static "$(printf '22%.0s' $(seq 32))" \
	--psk "$PSK" --prologue "$PROLOGUE" --count 5 >"$work/init.out"
wait "${pids[-1]}" || true
echo "initiator: $(grep -E '^(hash|ok)' "$work/init.out" | sed 's/^hash \(.\{32\}\).*/hash \1…/' | tr '\n' ' ')"
echo "responder: $(grep -E '^(hash|ok)' "$work/resp.out" | sed 's/^hash \(.\{32\}\).*/hash \1…/' | tr '\n' ' ')"
if [ "$(grep '^hash ' "$work/init.out")" = "$(grep '^hash ' "$work/resp.out")" ] &&
	grep -q '^ok 5 messages' "$work/init.out"; then
	echo "same handshake hash on both sides; 5 encrypted messages echoed"
else
	echo "UNEXPECTED: the two sides disagree"; exit 1
fi

say "not built yet"
cat <<'EOF'
The daemons above do not link to each other yet: membership (networks and
invitations), alerts, gossip and the mesh are being built. Until they land
there is no `tocsin panic`. README.md, "Status", lists what works.
EOF
