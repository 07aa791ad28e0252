# shellcheck shell=bash
# Test harness for tocsind integration tests. Source it from a bash script:
#
#   . "$TH_LIB"            # meson sets TH_LIB and TOCSIND
#   th_init
#   th_start n1            # tocsind --home $TH_DIR/n1 --listen 127.0.0.1:0 --foreground
#   echo "${TH_PORT[n1]}"  # the port it really bound
#   th_stop n1             # SIGTERM, bounded wait, exit status in TH_STATUS
#
# Ports: every daemon listens on 127.0.0.1 port 0 and the harness reads the
# port the kernel gave it from the "ready listen=127.0.0.1:PORT" log line.
# No port is guessed and then raced for. Nothing ever leaves 127.0.0.1.
#
# Cleanup: every process started through th_spawn is recorded by PID. On
# EXIT, INT or TERM exactly those PIDs get SIGTERM, then SIGKILL after
# TH_GRACE seconds, and the temp dir is removed. Nothing is killed by name.
#
# Waits poll a condition with a deadline (th_poll); no fixed sleeps.

set -u

: "${TOCSIND:?TOCSIND must point at the tocsind binary}"
TH_GRACE=${TH_GRACE:-3}
TH_DIR=""
TH_PIDS=()
TH_STATUS=""
declare -A TH_PID=() TH_PORT=() TH_LOG=() TH_HOME=()

th_log() { printf '# %s\n' "$*" >&2; }

th_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	local n
	for n in "${!TH_LOG[@]}"; do
		[ -f "${TH_LOG[$n]}" ] || continue
		printf -- '--- log of %s (last 30 lines)\n' "$n" >&2
		tail -n 30 "${TH_LOG[$n]}" >&2
	done
	exit 1
}

th_pass() { printf 'ok - %s\n' "$*"; }

# Monotonic enough for sub-second bounds: bash 5's microsecond wall clock.
th_now_us() { local t=${EPOCHREALTIME/./}; printf '%s' "$((10#$t))"; }

# Seconds ("2", "0.5", "1.25") to microseconds.
th_us() {
	local int=${1%%.*} frac=0
	[ "$int" = "$1" ] || frac=${1#*.}
	frac=${frac}000000
	printf '%s' "$((10#${int:-0} * 1000000 + 10#${frac:0:6}))"
}

# th_poll TIMEOUT_S CMD...: run CMD every 20 ms until it succeeds (0) or
# the deadline passes (1). TIMEOUT_S may have a fraction.
th_poll() {
	local timeout=$1; shift
	local deadline=$(($(th_now_us) + $(th_us "$timeout")))
	while :; do
		"$@" && return 0
		[ "$(th_now_us)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

# Alive and not a zombie (a zombie still answers kill -0).
th_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
th_dead() { ! th_alive "$1"; }

th_cleanup() {
	local pid deadline
	for pid in "${TH_PIDS[@]}"; do
		th_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${TH_PIDS[@]}"; do
		if ! th_poll "$TH_GRACE" th_dead "$pid"; then
			th_log "pid $pid ignored SIGTERM for ${TH_GRACE}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	TH_PIDS=()
	case "$TH_DIR" in
	*/tocsin-it.*) rm -rf -- "$TH_DIR" ;;
	esac
}

th_init() {
	# Short, so control socket paths stay far below sun_path's limit.
	TH_DIR=$(mktemp -d /tmp/tocsin-it.XXXXXX) || exit 1
	trap 'th_cleanup' EXIT
	trap 'th_cleanup; trap - EXIT; exit 130' INT
	trap 'th_cleanup; trap - EXIT; exit 143' TERM
}

# th_spawn NAME CMD...: start CMD in the background, stdout+stderr to
# $TH_DIR/NAME.log, and record its PID (CMD may be `env ... tocsind`: env
# execs, so the PID stays the daemon's).
th_spawn() {
	local name=$1; shift
	TH_LOG[$name]=$TH_DIR/$name.log
	: >"${TH_LOG[$name]}" # exists before the background job opens it: no grep race
	"$@" >>"${TH_LOG[$name]}" 2>&1 &
	TH_PID[$name]=$!
	TH_PIDS+=("$!")
}

th_has_ready() { grep -q ' ready listen=' "${TH_LOG[$1]}"; }

# th_wait_ready NAME [TIMEOUT]: until the ready line; fails at once if the
# process exits first. Sets TH_PORT[NAME].
th_wait_ready() {
	local name=$1 timeout=${2:-15}
	local pid=${TH_PID[$name]}
	local deadline=$(($(th_now_us) + $(th_us "$timeout")))
	until th_has_ready "$name"; do
		th_alive "$pid" || th_fail "$name (pid $pid) exited before ready"
		[ "$(th_now_us)" -ge "$deadline" ] && th_fail "$name not ready after ${timeout}s"
		sleep 0.02
	done
	TH_PORT[$name]=$(sed -n 's/.* ready listen=[0-9.]*:\([0-9]*\).*/\1/p' \
		"${TH_LOG[$name]}" | tail -n 1)
	[ -n "${TH_PORT[$name]}" ] || th_fail "$name: no IPv4 port in ready line"
}

# th_start NAME [TOCSIND ARGS...]: a daemon with its own home under TH_DIR.
th_start() {
	local name=$1; shift
	TH_HOME[$name]=$TH_DIR/$name
	th_spawn "$name" "$TOCSIND" --home "${TH_HOME[$name]}" --listen 127.0.0.1:0 \
		--foreground "$@"
	th_wait_ready "$name"
}

# th_wait_exit PID TIMEOUT_S: wait until PID has exited; TH_STATUS gets its
# exit status. Returns 1 (and leaves it running) on timeout.
th_wait_exit() {
	local pid=$1 timeout=$2
	th_poll "$timeout" th_dead "$pid" || return 1
	wait "$pid"
	TH_STATUS=$?
	th_forget "$pid"
	return 0
}

# Once reaped, a PID may be reused by an unrelated process: drop it from
# the cleanup list so th_cleanup can never signal a stranger.
th_forget() {
	local p keep=()
	for p in "${TH_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	TH_PIDS=("${keep[@]}")
}

# th_stop NAME [SIGNAL] [TIMEOUT_S]: signal and wait; TH_STATUS set.
th_stop() {
	local name=$1 sig=${2:-TERM} timeout=${3:-5}
	kill -"$sig" "${TH_PID[$name]}" || th_fail "cannot signal $name"
	th_wait_exit "${TH_PID[$name]}" "$timeout" || th_fail "$name still running ${timeout}s after SIG$sig"
}

# th_wait_log NAME REGEX [TIMEOUT_S]: until the log has a matching line.
th_wait_log() {
	local name=$1 re=$2 timeout=${3:-10}
	th_poll "$timeout" grep -Eq -- "$re" "${TH_LOG[$name]}" ||
		th_fail "$name: no log line matching /$re/ within ${timeout}s"
}

# th_mode PATH: octal permission bits ("700").
th_mode() { stat -c %a "$1"; }

# th_free_ports N: N distinct free TCP ports on 127.0.0.1, one per line,
# asked of the kernel (bind to port 0 while holding all N, then release).
# For tests that must know a port before the daemon starts (mkmesh writes
# it into the roster): another process could take one in between; on
# loopback in a test run that is unlikely, and a daemon that cannot bind
# fails loudly (th_wait_ready), never silently.
th_free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# th_start_at NAME PORT [TOCSIND ARGS...]: a daemon with home
# $TH_DIR/NAME (kept if it exists: restarts) listening on a given port.
th_start_at() {
	local name=$1 port=$2; shift 2
	TH_HOME[$name]=$TH_DIR/$name
	if [ -f "${TH_LOG[$name]:-/nonexistent}" ]; then
		cat "${TH_LOG[$name]}" >>"$TH_DIR/$name.oldlogs"
	fi
	th_spawn "$name" "$TOCSIND" --home "${TH_HOME[$name]}" --listen "127.0.0.1:$port" \
		--foreground "$@"
	th_wait_ready "$name"
}
