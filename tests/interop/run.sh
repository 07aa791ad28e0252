#!/usr/bin/env bash
# Noise interoperability test (meson suite 'interop').
#
#   run.sh NOISE_PEER INTEROP_DIR
#
# NOISE_PEER is the built tests/noise-peer (our C core); INTEROP_DIR holds
# peer.js and its node_modules (npm's noise-handshake, an independent
# Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b). For each pair -- C initiator with
# JS responder, JS initiator with C responder, C with C -- it runs a full
# handshake with prologue "tocsin/1" || 16-byte network id, a fixed PSK and
# fixed static keys, then MESSAGES transport messages echoed, and asserts:
# both exit 0, both print the same handshake hash, each side's remote static
# key is the other's public key (computed here by a third implementation,
# node's OpenSSL X25519), and both report all messages. Then, for each pair,
# a mismatched PSK must make both sides fail (non-zero exit, no "ok", no
# "hash"). Missing node or node_modules is a FAILURE, never a skip.
#
# Only 127.0.0.1. Every process started here is killed by PID on exit.
set -u

MESSAGES=16
TIMEOUT_S=20 # each tool stops itself after 10 s; this is the backstop

fail() {
	echo "interop: FAIL: $*" >&2
	exit 1
}

[ $# -eq 2 ] || fail "usage: run.sh NOISE_PEER INTEROP_DIR"
C_PEER=$1
DIR=$2
[ -x "$C_PEER" ] || fail "$C_PEER is not an executable"
[ -f "$DIR/peer.js" ] || fail "$DIR/peer.js not found"
command -v node >/dev/null 2>&1 ||
	fail "node is not installed; the interop test needs node and npm (see scripts/deps.sh)"
[ -f "$DIR/node_modules/noise-handshake/noise.js" ] ||
	fail "$DIR/node_modules is missing; run 'npm ci' in tests/interop (scripts/test.sh does)"

TMP=$(mktemp -d) || fail "mktemp"
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Fixed test keys: never use these anywhere else.
PROLOGUE=$(printf 'tocsin/1' | od -An -tx1 | tr -d ' \n')00112233445566778899aabbccddeeff
PSK=5f4c1ea6b0e8d3c2917a64f0e2b3c4d5a6978877665544332211ffeeddccbbaa
BAD_PSK=5f4c1ea6b0e8d3c2917a64f0e2b3c4d5a6978877665544332211ffeeddccbbab
I_SEC=a8abababababababababababababababababababababababababababababab6b
R_SEC=c84f1d6e2a7b3c9d0e5f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e6f

# X25519 public key of a secret, by OpenSSL through node's crypto: a third
# implementation, so a bug shared by both peers' key derivation still shows.
pubkey() {
	node -e '
const c = require("crypto")
const der = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"),
  Buffer.from(process.argv[1], "hex")])
const pub = c.createPublicKey(c.createPrivateKey({ key: der, format: "der", type: "pkcs8" }))
process.stdout.write(pub.export({ format: "der", type: "spki" }).subarray(-32).toString("hex"))
' "$1"
}
I_PUB=$(pubkey "$I_SEC") || fail "cannot compute public keys with node"
R_PUB=$(pubkey "$R_SEC") || fail "cannot compute public keys with node"
[ ${#I_PUB} -eq 64 ] && [ ${#R_PUB} -eq 64 ] || fail "bad public keys from node"

peer_cmd() { # c|js -> command prefix
	if [ "$1" = c ]; then echo "$C_PEER"; else echo "node $DIR/peer.js"; fi
}

# Wait for a child PID for at most TIMEOUT_S; its exit status goes in
# WAIT_RC (124 if it had to be killed). Not in a $(...) subshell: only this
# shell can reap its children.
wait_pid() {
	local pid=$1 i=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $i -ge $((TIMEOUT_S * 20)) ]; then
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			WAIT_RC=124
			return
		fi
		sleep 0.05
		i=$((i + 1))
	done
	wait "$pid"
	WAIT_RC=$?
}

field() { # file key -> value of the first "key value" line
	[ -f "$1" ] && sed -n "s/^$2 //p" "$1" | head -n 1
}

# run_pair NAME INIT RESP INIT_PSK RESP_PSK: start the responder, wait for
# its port, run the initiator; leaves outputs in $TMP/NAME.{i,r}.{out,err}
# and exit statuses in I_RC / R_RC.
run_pair() {
	local name=$1 init=$2 resp=$3 ipsk=$4 rpsk=$5 port="" i rpid ipid
	local base="$TMP/$name"
	: >"$base.r.out"
	# shellcheck disable=SC2046
	$(peer_cmd "$resp") --role responder --port 0 --static "$R_SEC" --psk "$rpsk" \
		--prologue "$PROLOGUE" --expect-remote "$I_PUB" \
		>"$base.r.out" 2>"$base.r.err" &
	rpid=$!
	PIDS+=("$rpid")
	for ((i = 0; i < 200; i++)); do
		port=$(field "$base.r.out" port)
		[ -n "$port" ] && break
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		cat "$base.r.err" >&2
		fail "$name: $resp responder did not print its port"
	fi
	$(peer_cmd "$init") --role initiator --port "$port" --static "$I_SEC" --psk "$ipsk" \
		--prologue "$PROLOGUE" --count "$MESSAGES" --expect-remote "$R_PUB" \
		>"$base.i.out" 2>"$base.i.err" &
	ipid=$!
	PIDS+=("$ipid")
	wait_pid "$ipid"
	I_RC=$WAIT_RC
	wait_pid "$rpid"
	R_RC=$WAIT_RC
}

show() { # name: dump both sides' output for a failure report
	local f
	for f in "$TMP/$1".{i,r}.{out,err}; do
		echo "--- $(basename "$f")" >&2
		cat "$f" >&2
	done
}

check_ok() { # name init resp
	local name=$1 b="$TMP/$1" ih rh
	run_pair "$name" "$2" "$3" "$PSK" "$PSK"
	if [ "$I_RC" != 0 ] || [ "$R_RC" != 0 ]; then
		show "$name"
		fail "$name: exit status initiator=$I_RC responder=$R_RC, want 0 and 0"
	fi
	ih=$(field "$b.i.out" hash)
	rh=$(field "$b.r.out" hash)
	[[ "$ih" =~ ^[0-9a-f]{128}$ ]] || { show "$name"; fail "$name: initiator printed no hash"; }
	[ "$ih" = "$rh" ] || { show "$name"; fail "$name: handshake hashes differ"; }
	[ "$(field "$b.i.out" remote)" = "$R_PUB" ] ||
		{ show "$name"; fail "$name: initiator's remote is not the responder's public key"; }
	[ "$(field "$b.r.out" remote)" = "$I_PUB" ] ||
		{ show "$name"; fail "$name: responder's remote is not the initiator's public key"; }
	[ "$(field "$b.i.out" ok)" = "$MESSAGES messages" ] ||
		{ show "$name"; fail "$name: initiator did not confirm $MESSAGES echoes"; }
	[ "$(field "$b.r.out" ok)" = "$MESSAGES messages" ] ||
		{ show "$name"; fail "$name: responder did not echo $MESSAGES messages"; }
	echo "ok   $name: hash ${ih:0:16}..., $MESSAGES messages echoed"
}

check_bad_psk() { # name init resp
	local name=$1-badpsk b="$TMP/$1-badpsk" f
	run_pair "$name" "$2" "$3" "$PSK" "$BAD_PSK"
	if [ "$I_RC" = 0 ] || [ "$R_RC" = 0 ] || [ "$I_RC" = 124 ] || [ "$R_RC" = 124 ]; then
		show "$name"
		fail "$name: exit status initiator=$I_RC responder=$R_RC, want both to fail (not hang)"
	fi
	for f in "$b.i.out" "$b.r.out"; do
		if grep -Eq '^(ok|hash|remote) ' "$f"; then
			show "$name"
			fail "$name: a side completed the handshake under mismatched PSKs"
		fi
	done
	echo "ok   $name: both sides refused (exit $I_RC/$R_RC)"
}

pairs=0
for pair in "c js" "js c" "c c"; do
	read -r init resp <<<"$pair"
	check_ok "$init-init-$resp-resp" "$init" "$resp"
	check_bad_psk "$init-init-$resp-resp" "$init" "$resp"
	pairs=$((pairs + 1))
done
echo "interop: $pairs pairs ok (each: $MESSAGES messages, matching hash and keys; mismatched PSK refused)"
