#!/usr/bin/env bash
# The idle cost of tocsind (issue 6): six daemons seeded by mkmesh on
# 127.0.0.1, release build (build/, -O2, no sanitizers). Once the measured
# daemon (n1) has 5 links and SETTLE_SECONDS passed, over IDLE_SECONDS:
#   wakeups/s  voluntary + nonvoluntary context switches summed over every
#              thread (/proc/PID/task/*/status), end minus start, / seconds
#   RSS        VmRSS and VmHWM (peak) at the end
# for every daemon, and in the same run for two references: an idle
# `sleep` and build/bench/uv_idle (a plain libuv loop holding 5 idle TCP
# connections, no timer). Targets: <= 0.1 wakeups/s, RSS <= 8 MB.
# Figures, not assertions; every process is started here and killed by PID.
#
# With the default keepalive (120 s after the last send on a link) a 60 s
# window right after linking can hold no keepalive at all: use 300 s or more
# for a steady-state figure. STAGGER_SECONDS starts n2..n6 that many seconds
# apart, so n1's links come up (and their keepalive timers run) out of step
# instead of together: the less friendly case.
#
# KEEPALIVE_SECONDS writes [links] keepalive into every home (default: the
# daemon's own, 120 s). BUILD names another build directory (default build; it is compiled first).
#
#   bench/idle.sh                 # 60 s
#   IDLE_SECONDS=600 STAGGER_SECONDS=17 bench/idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IDLE=${IDLE_SECONDS:-60}
SETTLE=${SETTLE_SECONDS:-30}
BUILD=${BUILD:-build}
STAGGER=${STAGGER_SECONDS:-0}
KEEPALIVE=${KEEPALIVE_SECONDS:-}
N=6
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
meson compile -C "$BUILD" tocsind tocsin mkmesh uv_idle >/dev/null
BUILD=$(cd "$BUILD" && pwd)

export TOCSIND=$BUILD/daemon/tocsind
TOCSIN=$BUILD/client/tocsin
MKMESH=$BUILD/tests/mkmesh
UV_IDLE=$BUILD/bench/uv_idle
# shellcheck source=../tests/harness/lib.sh
. "$ROOT/tests/harness/lib.sh"
set +u
th_init
set -u

echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg); tocsind $("$TOCSIND" --version 2>&1 | head -n 1)"

mapfile -t PORTS < <(th_free_ports $N)
args=()
for i in $(seq 1 $N); do args+=("$TH_DIR/n$i:${PORTS[$((i - 1))]}"); done
"$MKMESH" --name idle-net "${args[@]}" >"$TH_DIR/mkmesh.out"
for i in $(seq 1 $N); do
	if [ -n "$KEEPALIVE" ]; then
		printf '[links]\nkeepalive = %s\n' "$KEEPALIVE" >"$TH_DIR/n$i/tocsind.conf"
		chmod 600 "$TH_DIR/n$i/tocsind.conf"
	fi
	# No session bus: the desktop connection is lazy anyway (no alert here).
	TH_HOME[n$i]=$TH_DIR/n$i
	th_spawn "n$i" env -u DBUS_SESSION_BUS_ADDRESS "$TOCSIND" --home "$TH_DIR/n$i" \
		--listen "127.0.0.1:${PORTS[$((i - 1))]}" --foreground
	if [ "$STAGGER" != 0 ]; then
		th_wait_ready "n$i" 30
		[ "$i" = $N ] || sleep "$STAGGER"
	fi
done
for i in $(seq 1 $N); do th_wait_ready "n$i" 30; done

links_of() {
	"$TOCSIN" --home "$TH_DIR/$1" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])'
}
n1_linked() { [ "$(links_of n1)" -ge 5 ]; }
t0=$(th_now_us)
th_poll 60 n1_linked || th_fail "n1 has $(links_of n1) links after 60 s, not 5"
echo "n1 has 5 links after $((($(th_now_us) - t0) / 1000)) ms; settling ${SETTLE} s"

th_spawn sleep sleep $((IDLE + SETTLE + 60))
th_spawn uv_idle "$UV_IDLE"
th_poll 10 grep -q '^ready' "${TH_LOG[uv_idle]}" || th_fail "uv_idle did not start"
sleep "$SETTLE"

# switches PID: voluntary + nonvoluntary over every thread.
switches() {
	awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {s += $2} END {print s + 0}' \
		/proc/"$1"/task/*/status 2>/dev/null
}
threads() { ls /proc/"$1"/task | wc -l; }
kb() { awk -v k="$2:" '$1 == k {print $2}' /proc/"$1"/status; }

names=(sleep uv_idle)
for i in $(seq 1 $N); do names+=("n$i"); done
declare -A before=()
for n in "${names[@]}"; do before[$n]=$(switches "${TH_PID[$n]}"); done
start=$(th_now_us)
sleep "$IDLE"
secs=$(awk -v us=$(($(th_now_us) - start)) 'BEGIN {printf "%.3f", us / 1e6}')

echo "idle window: $secs s (stagger ${STAGGER} s, settle ${SETTLE} s, keepalive ${KEEPALIVE:-default 120} s); targets: <= 0.1 wakeups/s, RSS <= 8 MB (8192 KiB)"
printf '%-22s %8s %10s %8s %9s %9s %7s\n' process threads switches wakeups/s VmRSS_KiB VmHWM_KiB links
for n in "${names[@]}"; do
	pid=${TH_PID[$n]}
	th_alive "$pid" || th_fail "$n (pid $pid) died during the window"
	after=$(switches "$pid")
	l=-
	case $n in n*) l=$(links_of "$n") ;; esac
	label=$n
	[ "$n" = n1 ] && label="n1 (measured)"
	[ "$n" = uv_idle ] && label="uv_idle (reference)"
	[ "$n" = sleep ] && label="sleep (reference)"
	printf '%-22s %8s %10s %8.3f %9s %9s %7s\n' "$label" "$(threads "$pid")" \
		"$((after - before[$n]))" "$(awk -v d=$((after - before[$n])) -v s="$secs" 'BEGIN {print d / s}')" \
		"$(kb "$pid" VmRSS)" "$(kb "$pid" VmHWM)" "$l"
done
