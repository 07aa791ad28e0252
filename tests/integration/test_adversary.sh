#!/usr/bin/env bash
# Hostile network against a running member daemon (THREAT-MODEL "active
# prober" and "outsider who floods", DESIGN §4): port-scan connects, HTTP,
# a TLS ClientHello, random bytes, a wrong-PSK message 1, a replayed
# (recorded, valid) message 1, a message 1 meant for another node, length
# prefixes 0 and 65535 with no body, slow-loris, 500 half-open connections.
# For each: not one byte back (tests/tools/adversary checks every socket),
# the rejection counted in status --json, the daemon's memory bounded (peak
# VmHWM reported), and a 3-member mesh keeps delivering panics meanwhile.
# test_probe.sh covers the same probes against a daemon without a network
# (which reads nothing); here the link layer really parses them. Last, a
# member on a later version sends link types n1 does not know: kept.
. "$TH_LIB"
: "${ADVERSARY:?}"
th_init

. "$(dirname "$TH_LIB")/mesh.sh"
# n1..n3 run; m4's keys are the "recording" source (a member whose valid
# message 1 an observer captured) and build the misdirected message 1.
tm_seed adv-net 4
for i in 1 2 3; do tm_start "$i"; done
P1=${PORTS[0]}
PID1=${TH_PID[n1]}
th_poll 20 tm_linked 3 || th_fail "the 3 daemons did not link"
ctrs() { counters n1; }
# panic_reaches FROM LABEL: a panic from FROM must be on n1..n3 within 5 s.
panic_reaches() {
	local from=$1 label=$2 out id t0 i
	t0=$(th_now_us)
	out=$(tc "$from" panic "$label" --json) || th_fail "panic on $from failed: $out"
	id=$(printf '%s' "$out" | alert_id)
	th_poll 5 on_all "$id" || th_fail "$label: the panic did not reach all 3 within 5 s"
	th_log "$label: panic from $from on all 3 in $((($(th_now_us) - t0) / 1000)) ms (polled)"
}

rss0=$(tm_kib "$PID1" VmRSS)
hwm0=$(tm_kib "$PID1" VmHWM)
th_log "n1 before the attacks: VmRSS ${rss0} KiB, VmHWM ${hwm0} KiB"

# 1. One connection each, all at once (well under the 32-socket cap).
t0=$(th_now_us)
pids=()
for mode in http tls random len0 len65535 wrongpsk; do
	"$ADVERSARY" probe "$P1" "$mode" >"$TH_DIR/p-$mode.out" 2>&1 &
	pids+=("$!")
done
"$ADVERSARY" probe "$P1" scan 10 >"$TH_DIR/p-scan.out" 2>&1 &
pids+=("$!")
"$ADVERSARY" replay "$TH_DIR/n4" m1 "$P1" >"$TH_DIR/p-replay.out" 2>&1 &
pids+=("$!")
"$ADVERSARY" misdirected "$TH_DIR/n4" m1 m2 "$P1" >"$TH_DIR/p-misdirected.out" 2>&1 &
pids+=("$!")
panic_reaches n2 "during the probes"
for p in "${pids[@]}"; do
	wait "$p" || true
done
for mode in http tls random len0 len65535 wrongpsk scan replay misdirected; do
	grep -q '^result=ok$' "$TH_DIR/p-$mode.out" ||
		th_fail "$mode: $(cat "$TH_DIR/p-$mode.out")"
done
grep -q '^original_bytes_back=[1-9]' "$TH_DIR/p-replay.out" ||
	th_fail "the recorded message 1 was not a valid one: $(cat "$TH_DIR/p-replay.out")"
th_log "9 probes in $((($(th_now_us) - t0) / 1000)) ms"
th_pass "scan x10, HTTP, TLS ClientHello, 4000 random bytes, length 0, length 65535, wrong PSK, replayed and misdirected message 1: no byte back"

# Each counted under its own reason (docs/link.md: message 1 checked
# cheapest first). The valid original of the replay was answered, the copy
# was not.
ge n1 link.rej_size 3 || th_fail "HTTP/TLS/random not counted as rej_size"
ge n1 link.rej_framing 1 || th_fail "length 0 not counted as rej_framing"
ge n1 link.rej_mac 1 || th_fail "wrong PSK not counted as rej_mac"
ge n1 link.rej_replay 1 || th_fail "the replay not counted as rej_replay"
ge n1 link.rej_misdirected 1 || th_fail "the misdirected message 1 not counted"
th_pass "status --json counts each: rej_size, rej_framing, rej_mac, rej_replay, rej_misdirected"

# 2. Slow-loris and 500 half-open connections at once, for 12 s, while the
# mesh carries panics.
"$ADVERSARY" probe "$P1" halfopen 500 12 >"$TH_DIR/p-half.out" 2>&1 &
half=$!
# Once the daemon has taken them all in (the kernel queues the burst), a
# slow-loris: it is then not the oldest unauthenticated socket, so it
# lives until the handshake timeout.
th_poll 8 ge n1 conn.evicted 450 || th_fail "the half-open flood never hit the connection cap: $(ctrs)"
"$ADVERSARY" probe "$P1" slowloris 12 >"$TH_DIR/p-slow.out" 2>&1 &
slow=$!
# A member's valid handshake still gets through while 32 attack sockets
# hold every pending slot: the oldest unauthenticated one is evicted.
"$ADVERSARY" replay "$TH_DIR/n4" m1 "$P1" >"$TH_DIR/p-during.out" 2>&1 ||
	th_fail "a valid message 1 during the flood: $(cat "$TH_DIR/p-during.out")"
panic_reaches n2 "500 half-open + slow-loris on n1"
panic_reaches n3 "500 half-open + slow-loris on n1, panic from n3"
th_alive "$PID1" || th_fail "n1 died under the flood"
hwm_mid=$(tm_kib "$PID1" VmHWM)
wait "$half" || th_fail "half-open: $(cat "$TH_DIR/p-half.out")"
wait "$slow" || th_fail "slow-loris: $(cat "$TH_DIR/p-slow.out")"
grep -q '^halfopen_bytes_back=0$' "$TH_DIR/p-half.out" || th_fail "half-open: bytes came back"
th_log "half-open: $(tr '\n' ' ' <"$TH_DIR/p-half.out")"
th_log "slow-loris: $(tr '\n' ' ' <"$TH_DIR/p-slow.out")"
th_pass "500 half-open connections and a one-byte-a-second message 1: no byte back, a member's handshake answered, panics still delivered"

# The handshake timeout (10 s) ended the slow-loris and the bodiless
# length-65535 frame; the cap refused the surplus.
th_poll 5 ge n1 link.hs_timeout 1 || th_fail "no handshake timeout counted: $(ctrs)"
th_log "n1 counters: $(ctrs)"

# 3. Afterwards: alive, linked, listening, memory bounded.
th_alive "$PID1" || th_fail "n1 died"
"$ADVERSARY" replay "$TH_DIR/n4" m1 "$P1" >"$TH_DIR/p-after.out" 2>&1 ||
	th_fail "after the flood: $(cat "$TH_DIR/p-after.out")"
th_poll 10 tm_linked 3 || th_fail "the mesh lost links after the attacks"
panic_reaches n1 "after the attacks"
rss1=$(tm_kib "$PID1" VmRSS)
hwm1=$(tm_kib "$PID1" VmHWM)
printf 'n1 memory: VmRSS %s -> %s KiB; peak VmHWM %s KiB before, %s KiB during the flood, %s KiB at the end (+%s KiB)\n' \
	"$rss0" "$rss1" "$hwm0" "$hwm_mid" "$hwm1" "$((hwm1 - hwm0))"
# Bounded: per pending socket a link of a few KiB and a 1 KiB pre-auth
# buffer, at most 32 of them; 32 MiB of slack covers sanitizer quarantine.
[ $((hwm1 - hwm0)) -le 32768 ] || th_fail "n1's peak memory grew by $((hwm1 - hwm0)) KiB"
th_pass "after the attacks: n1 alive, relinked, answers a valid handshake, peak RSS grew $((hwm1 - hwm0)) KiB"

# 4. A member on a later version (docs/wire.md §4 "Unknown types"): link
# messages of types n1 does not know are dropped and counted, the link
# stays, and her panic after them spreads.
"$ADVERSARY" member "$TH_DIR/n4" m1 "$P1" newer 1 >"$TH_DIR/newer.out" 2>&1 ||
	th_fail "newer: $(cat "$TH_DIR/newer.out")"
grep -q '^link_still_up=yes$' "$TH_DIR/newer.out" || th_fail "n1 closed the newer member's link"
NID=$(sed -n 's/^newer_id=//p' "$TH_DIR/newer.out")
[ -n "$NID" ] || th_fail "newer: no alert id: $(cat "$TH_DIR/newer.out")"
th_poll 5 on_all "$NID" || th_fail "the newer member's panic did not reach all 3"
ge n1 link.unknown_msg_type 4 || th_fail "unknown types not counted: $(ctrs)"
nlog=$(grep -c 'link ignored unknown_type=18' "${TH_LOG[n1]}" || true)
[ "$nlog" = 1 ] || th_fail "'link ignored unknown_type=18' logged $nlog times for one link, not once"
th_pass "a newer member's 4 unknown-type messages: link kept, link.unknown_msg_type counted, logged once, her panic on all 3"

tm_stop_all 3
th_pass "clean shutdown"
