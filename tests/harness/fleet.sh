# shellcheck shell=bash
# Many real tocsind daemons: the fault-injection tests (tests/integration/
# test_faults.sh, test_sleep.sh, test_partition.sh, test_netem.sh) and the
# benchmarks (bench/propagation.sh, bench/vs-serf.sh). Source after lib.sh:
#
#   . "$TH_LIB"; . "$(dirname "$TH_LIB")/fleet.sh"
#   th_init
#   tf_mesh 16 2            # mkmesh n1..n16, keepalive 2 s, on_alert hooks
#   tf_start_all            # every daemon up, ports known
#   tf_wait_linked 2 30     # every daemon has >= 2 links
#   tf_send 3 panic "help"  # from n3; ID in TF_ID, logged in $TH_DIR/sent
#   th_poll 30 tf_complete  # every alert notified at every other member
#   tf_no_duplicates        # and none twice
#
# Each member i has a home $TH_DIR/n$i, an address TF_ADDR[i] (default
# 127.0.0.1), a port TF_PORT[i] and optionally a network namespace TF_NS[i]
# (the daemon runs under `ip netns exec`, which execs: the PID is still the
# daemon's and lib.sh's cleanup kills it). Set them before tf_mesh.
#
# The on_alert hook of n$i appends "ID KIND TIME_US" to $TH_DIR/n$i.notified
# (TIME_US: the wall clock in microseconds when the hook ran; bash builtins
# only, no fork). Own alerts are not notified (docs/daemon.md), so "every
# alert at every daemon" means at every member but its author.
#
# Needs TOCSIND, TOCSIN, MKMESH.

: "${TOCSIN:?}" "${MKMESH:?}"
TF_N=0
TF_ID=""
declare -A TF_ADDR=() TF_PORT=() TF_NS=()

# tf_mesh N KEEPALIVE_S [EXTRA_CONF]: seed n1..nN with mkmesh and write
# each home's tocsind.conf (keepalive, on_alert hook, EXTRA_CONF lines).
# TF_HOOK=0: no on_alert hook (something else writes nI.notified, e.g.
# bench/watch.py from the control sockets).
tf_mesh() {
	local n=$1 ka=$2 extra=${3-} i ports=() args=()
	TF_N=$n
	mapfile -t ports < <(th_free_ports "$n")
	for i in $(seq 1 "$n"); do
		: "${TF_ADDR[$i]:=127.0.0.1}"
		: "${TF_PORT[$i]:=${ports[$((i - 1))]}}"
		args+=("$TH_DIR/n$i:${TF_ADDR[$i]}:${TF_PORT[$i]}")
	done
	"$MKMESH" --name tm-net "${args[@]}" >"$TH_DIR/mkmesh.out" || th_fail "mkmesh"
	: >"$TH_DIR/sent"
	for i in $(seq 1 "$n"); do
		cat >"$TH_DIR/n$i/on_alert.sh" <<SH
#!/bin/bash
printf '%s %s %s\n' "\$TOCSIN_ALERT_ID" "\$TOCSIN_ALERT_KIND" "\${EPOCHREALTIME/./}" >>"$TH_DIR/n$i.notified"
SH
		chmod 700 "$TH_DIR/n$i/on_alert.sh"
		: >"$TH_DIR/n$i.notified"
		local hook="on_alert = $TH_DIR/n$i/on_alert.sh"
		[ "${TF_HOOK:-1}" = 0 ] && hook=""
		printf '[links]\nkeepalive = %s\n[notify]\n%s\ndesktop = false\n%s' "$ka" \
			"$hook" "$extra" >"$TH_DIR/n$i/tocsind.conf"
		chmod 600 "$TH_DIR/n$i/tocsind.conf"
	done
}

# tf_start I: start (or restart: the old log is kept in nI.oldlogs) n$I.
tf_start() {
	local i=$1 name=n$1 pre=()
	[ -n "${TF_NS[$i]:-}" ] && pre=(ip netns exec "${TF_NS[$i]}")
	TH_HOME[$name]=$TH_DIR/$name
	if [ -f "${TH_LOG[$name]:-/nonexistent}" ]; then
		cat "${TH_LOG[$name]}" >>"$TH_DIR/$name.oldlogs"
	fi
	th_spawn "$name" "${pre[@]}" "$TOCSIND" --home "$TH_DIR/$name" \
		--listen "${TF_ADDR[$i]}:${TF_PORT[$i]}" --foreground
}

# tf_start_all: start all, then wait until each is ready.
tf_start_all() {
	local i
	for i in $(seq 1 "$TF_N"); do tf_start "$i"; done
	for i in $(seq 1 "$TF_N"); do th_wait_ready "n$i" 60; done
}

# tf_kill9 I: SIGKILL n$I and reap it.
tf_kill9() {
	kill -KILL "${TH_PID[n$1]}" || th_fail "cannot kill n$1"
	th_wait_exit "${TH_PID[n$1]}" 10 || th_fail "n$1 survived SIGKILL"
}

tf_client() { local i=$1; shift; "$TOCSIN" --home "$TH_DIR/n$i" "$@"; }

# tf_counters I: n$I's status counters as one JSON object per line
# ({"traffic.tx_bytes": 123, "node.alert_tx": 4, ...}; absent = 0).
tf_counters() {
	tf_client "$1" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(json.dumps({k: int(v) for k, v in (kv.split("=") for kv in s["counters"].split())}))'
}

tf_links() {
	tf_client "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])'
}

# tf_wait_linked MIN TIMEOUT_S [I...]: each given daemon (default all) has
# at least MIN links.
tf_linked() {
	local min=$1 i; shift
	for i in "$@"; do
		[ "$(tf_links "$i")" -ge "$min" ] || return 1
	done
}
tf_wait_linked() {
	local min=$1 t=$2; shift 2
	local who=("$@")
	[ ${#who[@]} = 0 ] && mapfile -t who < <(seq 1 "$TF_N")
	th_poll "$t" tf_linked "$min" "${who[@]}" || th_fail "not every daemon of ${who[*]} has $min links within ${t}s"
}

# tf_send I KIND [TEXT]: KIND (panic, drill, ...) from n$I; the id goes to
# TF_ID and "ID nI SEND_US" to $TH_DIR/sent (SEND_US: just before the
# client ran).
tf_send() {
	local i=$1 kind=$2 text=${3:-tm $2 from n$1} t0 out
	t0=$(th_now_us)
	out=$(tf_client "$i" "$kind" "$text" --json) || th_fail "$kind on n$i failed: $out"
	TF_ID=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"])')
	[ ${#TF_ID} = 64 ] || th_fail "$kind on n$i: no alert id in $out"
	printf '%s n%s %s\n' "$TF_ID" "$i" "$t0" >>"$TH_DIR/sent"
}

# tf_report [I...]: per sent alert and daemon (default all), how often its
# hook ran; prints "missing=M duplicates=D" and the first few of each.
# Exit 0 when complete without duplicates, 1 when something is missing,
# 2 when anything was notified twice.
tf_report() {
	local who=("$@")
	[ ${#who[@]} = 0 ] && mapfile -t who < <(seq 1 "$TF_N")
	python3 - "$TH_DIR" "${who[@]}" <<'PY'
import collections, sys
d, nodes = sys.argv[1], sys.argv[2:]
sent = [l.split() for l in open(f"{d}/sent") if l.strip()]
missing, dups = [], []
for i in nodes:
    seen = collections.Counter(l.split()[0] for l in open(f"{d}/n{i}.notified") if l.strip())
    for aid, author, _ in sent:
        if author == f"n{i}":
            continue
        c = seen.get(aid, 0)
        if c == 0:
            missing.append(f"{aid[:16]}@n{i}")
        elif c > 1:
            dups.append(f"{aid[:16]}@n{i}x{c}")
print(f"alerts={len(sent)} daemons={len(nodes)} missing={len(missing)} duplicates={len(dups)}",
      " ".join(missing[:8]), " ".join(dups[:8]))
sys.exit(2 if dups else 1 if missing else 0)
PY
}
tf_complete() { tf_report "$@" >"$TH_DIR/report" 2>&1; }
tf_no_duplicates() {
	tf_report "$@" >"$TH_DIR/report" 2>&1
	[ $? = 2 ] && th_fail "notified twice: $(cat "$TH_DIR/report")"
	return 0
}
# tf_quiet_no_duplicates: after 2 s more (a second notification would come
# at a restart or a relink), none was notified twice.
tf_quiet_no_duplicates() {
	sleep 2
	tf_no_duplicates "$@"
}
# tf_stop_all: SIGTERM every daemon; each must exit 0.
tf_stop_all() {
	local i
	for i in $(seq 1 "$TF_N"); do
		th_stop "n$i" TERM 10
		[ "$TH_STATUS" = 0 ] || th_fail "n$i exit $TH_STATUS"
	done
}
# tf_wait_complete TIMEOUT_S WHAT [I...]
tf_wait_complete() {
	local t=$1 what=$2; shift 2
	th_poll "$t" tf_complete "$@" || th_fail "$what: $(cat "$TH_DIR/report")"
	tf_no_duplicates "$@"
}

# tf_ids I: the sorted ids in n$I's store (alerts --json).
tf_ids() {
	tf_client "$1" alerts --json | python3 -c '
import json, sys
print("\n".join(sorted(json.loads(l)["id"] for l in sys.stdin if l.strip())))'
}

# ---- network namespaces ------------------------------------------------------
# tf_ns_setup N: a hub namespace with bridges b0 and b1, and N member
# namespaces, member i at 10.77.0.i/24 on eth0 (a veth whose other end pi is
# in the hub, on b0), port 7450. Names carry our PID so parallel runs never
# meet. Returns 1 (with the reason in $TH_DIR/ns.err) when namespaces,
# veth or bridges are not permitted here. tf_ns_cleanup deletes all of it
# (installed on EXIT/INT/TERM after lib.sh's cleanup, which first stops
# every process we started, the daemons in the namespaces included).
TF_NSP="tocsin-it-$$"
TF_NSLIST=()
tf_ns_cleanup() {
	local ns
	for ns in "${TF_NSLIST[@]}"; do ip netns del "$ns" 2>/dev/null; done
	TF_NSLIST=()
}
tf_ns_setup() {
	local n=$1 i hub=$TF_NSP-hub
	trap 'th_cleanup; tf_ns_cleanup' EXIT
	trap 'th_cleanup; tf_ns_cleanup; trap - EXIT; exit 130' INT
	trap 'th_cleanup; tf_ns_cleanup; trap - EXIT; exit 143' TERM
	{
		ip netns add "$hub" && TF_NSLIST+=("$hub") &&
			ip -n "$hub" link add b0 type bridge && ip -n "$hub" link add b1 type bridge &&
			ip -n "$hub" link set b0 up && ip -n "$hub" link set b1 up
	} 2>>"$TH_DIR/ns.err" || return 1
	for i in $(seq 1 "$n"); do
		TF_NS[$i]=$TF_NSP-$i
		TF_ADDR[$i]=10.77.0.$i
		TF_PORT[$i]=7450
		{
			ip netns add "${TF_NS[$i]}" && TF_NSLIST+=("${TF_NS[$i]}") &&
				ip -n "$hub" link add "p$i" type veth peer name eth0 netns "${TF_NS[$i]}" &&
				ip -n "$hub" link set "p$i" master b0 up &&
				ip -n "${TF_NS[$i]}" addr add "10.77.0.$i/24" dev eth0 &&
				ip -n "${TF_NS[$i]}" link set eth0 up &&
				ip -n "${TF_NS[$i]}" link set lo up
		} 2>>"$TH_DIR/ns.err" || return 1
	done
}
# tf_ns_bridge I BRIDGE: move member i's hub port to b0 or b1.
tf_ns_bridge() {
	ip -n "$TF_NSP-hub" link set "p$1" master "$2" || th_fail "cannot move p$1 to $2"
}

# tf_ns_shape DELAY_MS LOSS_PCT: every member's egress delayed and lossy.
# With `tc netem` on each member's eth0 when the kernel has it; else (no
# sch_netem, as in some VM kernels) the veths are replaced by TUN devices
# routed through tests/tools/impair.py, which delays and drops per packet
# the same way. Sets TF_SHAPER to "netem" or "impair".
tf_ns_shape() {
	local d=$1 l=$2 i members=()
	if ip netns exec "${TF_NS[1]}" tc qdisc add dev eth0 root netem delay "${d}ms" loss "${l}%" \
		2>>"$TH_DIR/ns.err"; then
		TF_SHAPER=netem
		for i in $(seq 2 "$TF_N"); do
			ip netns exec "${TF_NS[$i]}" tc qdisc add dev eth0 root netem delay "${d}ms" \
				loss "${l}%" || th_fail "netem on ${TF_NS[$i]}"
		done
		return 0
	fi
	TF_SHAPER=impair
	for i in $(seq 1 "$TF_N"); do
		ip -n "${TF_NS[$i]}" link del eth0 || th_fail "cannot remove the veth of ${TF_NS[$i]}"
		members+=("${TF_NS[$i]}:${TF_ADDR[$i]}")
	done
	th_spawn impair python3 "$(dirname "${BASH_SOURCE[0]}")/../tools/impair.py" \
		--delay-ms "$d" --loss "$(python3 -c "print($l / 100)")" "${members[@]}"
	th_poll 10 grep -q '^ready' "${TH_LOG[impair]}" || th_fail "impair.py did not start"
	for i in $(seq 1 "$TF_N"); do
		ip -n "${TF_NS[$i]}" addr add "${TF_ADDR[$i]}/24" dev tun0 &&
			ip -n "${TF_NS[$i]}" link set tun0 up || th_fail "tun0 in ${TF_NS[$i]}"
	done
}
