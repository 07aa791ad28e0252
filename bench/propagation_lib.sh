# shellcheck shell=bash
# Shared by bench/propagation.sh and bench/vs-serf.sh (bench/README.md):
# N real tocsind daemons on loopback through tests/harness/lib.sh and
# tests/harness/fleet.sh, a schedule of panics, and the statistics.
#
# Figures, never assertions: a run fails only when an alert is lost (then
# no latency would mean anything).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BUILD=${BUILD:-$ROOT/build}
export TOCSIND=${TOCSIND:-$BUILD/daemon/tocsind}
export TOCSIN=${TOCSIN:-$BUILD/client/tocsin}
export MKMESH=${MKMESH:-$BUILD/tests/mkmesh}
for b in "$TOCSIND" "$TOCSIN" "$MKMESH"; do
	[ -x "$b" ] || { echo "missing $b: meson setup build && meson compile -C build" >&2; exit 1; }
done
. "$ROOT/tests/harness/lib.sh"
. "$ROOT/tests/harness/fleet.sh"

PANICS=${PANICS:-100}
SPACING=${SPACING:-0.2} # seconds between two sends
SEED=${SEED:-1}
KEEPALIVE=${KEEPALIVE:-120} # the default: no keepalive traffic inside a run
# How arrival is timed (bench/README.md): "stream" (default) has one
# bench/watch.py process read every node's event stream (tocsind's control
# socket, Serf's RPC stream); "hook" runs a bash script per alert per node
# (tocsind's on_alert, Serf's event handler), which on one machine costs
# more CPU than the systems it measures.
MEASURE=${MEASURE:-stream}
PB_PY=python3 # the one with Debian's python3-msgpack, if python3 is another
[ -x /usr/bin/python3 ] && PB_PY=/usr/bin/python3
case $MEASURE in
stream) "$PB_PY" -c 'import msgpack' 2>/dev/null ||
	{ echo "SKIP: bench/watch.py needs python3-msgpack (scripts/deps.sh)" >&2; exit 77; } ;;
hook) ;;
*) echo "MEASURE=stream or hook" >&2; exit 1 ;;
esac
[ "$MEASURE" = stream ] && export TF_HOOK=0

# pb_watch NAME KIND PREFIX TARGET...: start bench/watch.py (killed by PID
# with the rest) and wait until every node's subscription is acknowledged.
pb_watch() {
	local name=$1; shift
	th_spawn "$name" "$PB_PY" "$BENCH_DIR/watch.py" "$@"
	th_poll 30 grep -qx ready "${TH_LOG[$name]}" ||
		th_fail "$name: not subscribed to every node within 30 s: $(tail -3 "${TH_LOG[$name]}")"
}

# pb_schedule N: $TH_DIR/schedule, one line per panic: "AUTHOR NOT_BEFORE_S"
# (seconds after the first send). Authors are random (seeded) but each stays
# inside the urgent budget of docs/alerts.md (burst 5, then 1 per minute):
# an author's 6th panic is not before 61 s after her first, the 7th not
# before 122 s, ... (61 s: a second of margin on the refill).
pb_schedule() {
	python3 - "$1" "$PANICS" "$SPACING" "$SEED" >"$TH_DIR/schedule" <<'PY'
import random, sys
n, count, spacing, seed = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
sent = {}  # author -> [times]
t = 0.0
for k in range(count):
    def ready(a):
        ts = sent.get(a, [])
        return len(ts) < 5 or t >= ts[0] + 61.0 * (len(ts) - 4)
    cands = [a for a in range(1, n + 1) if ready(a)]
    while not cands:
        t += 1.0
        cands = [a for a in range(1, n + 1) if ready(a)]
    a = rng.choice(cands)
    sent.setdefault(a, []).append(t)
    print(a, f"{t:.3f}")
    t += spacing
PY
}

# pb_run_schedule SEND_FN: call SEND_FN AUTHOR K for each line of the
# schedule, at its time (never earlier; later when sends are slow). The
# budget is enforced again on the real clock: an author's (5+j)-th panic
# waits until 62 x j s after her first one really left (a receiver's bucket
# starts when that first one arrives), or it would be dropped as
# rate_limited on arrival and come only with the next digest round.
pb_run_schedule() {
	local fn=$1 a at k=0 t0 due now c
	local -A first=() count=()
	t0=$(th_now_us)
	while read -r a at; do
		k=$((k + 1))
		due=$((t0 + $(th_us "$at")))
		c=${count[$a]:-0}
		if [ "$c" -ge 5 ] && [ $((first[$a] + (c - 4) * 62000000)) -gt "$due" ]; then
			due=$((first[$a] + (c - 4) * 62000000))
		fi
		now=$(th_now_us)
		if [ "$now" -lt "$due" ]; then
			sleep "$(((due - now) / 1000000)).$(printf '%06d' $(((due - now) % 1000000)))"
		fi
		[ "$c" = 0 ] && first[$a]=$(th_now_us)
		count[$a]=$((c + 1))
		"$fn" "$a" "$k"
	done <"$TH_DIR/schedule"
}

# pb_latency LABEL N SENT NOTIFIED_PREFIX: time to all others per alert
# from SENT ("ID AUTHOR SEND_US") and PREFIX$i.notified ("ID X TIME_US");
# prints "LABEL delivered=... p50_ms p99_ms max_ms" and the per-receiver
# p50 too. Exit 1 if an alert missed a receiver.
pb_latency() {
	python3 - "$@" <<'PY'
import collections, math, sys
label, n, sent_path, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sent = [l.split() for l in open(sent_path) if l.strip()]
arr = collections.defaultdict(dict)
for i in range(1, n + 1):
    for l in open(f"{prefix}{i}.notified"):
        p = l.split()
        if len(p) == 3:
            arr[p[0]].setdefault(i, int(p[2]))
to_all, each, missing = [], [], 0
for aid, author, t0 in sent:
    me = int(author.lstrip("ns"))
    got = {i: t for i, t in arr[aid].items() if i != me}
    missing += (n - 1) - len(got)
    if got:
        to_all.append((max(got.values()) - int(t0)) / 1000)
        each += [(t - int(t0)) / 1000 for t in got.values()]
def pct(v, q):
    v = sorted(v)
    return v[max(0, math.ceil(q * len(v)) - 1)] if v else float("nan")
total = len(sent) * (n - 1)
print(f"{label} N={n} alerts={len(sent)} delivered={total - missing}/{total}"
      f" p50_ms={pct(to_all, .5):.1f} p90_ms={pct(to_all, .9):.1f} p99_ms={pct(to_all, .99):.1f}"
      f" max_ms={pct(to_all, 1):.1f} over_1s={sum(v > 1000 for v in to_all)}"
      f" each_p50_ms={pct(each, .5):.1f} each_p99_ms={pct(each, .99):.1f}")
sys.exit(1 if missing else 0)
PY
}

# BENCH_KEEP=DIR: copy the run's raw data (schedule, sends, hook logs,
# daemon logs) there before the temp dir goes.
pb_keep() {
	[ -n "${BENCH_KEEP:-}" ] || return 0
	mkdir -p "$BENCH_KEEP" && cp "$TH_DIR"/*sent* "$TH_DIR"/*.notified "$TH_DIR"/schedule \
		"$TH_DIR"/*.log "$BENCH_KEEP"/ 2>/dev/null
	return 0
}

# pb_tocsin_breakdown N: where the time goes, from the daemons' own log
# lines (ms resolution): the client's send -> the author's alert_sent line
# (store commit included), alert_sent -> the last receiver's NOTIFY line
# ("alert id=..."; every hop stores before it forwards, DESIGN §8), and a
# receiver's NOTIFY line -> the arrival as measured (MEASURE: the event read
# by bench/watch.py, or the on_alert hook running: the spawn).
pb_tocsin_breakdown() {
	python3 - "$TH_DIR" "$1" "$MEASURE" <<'PY'
import datetime, math, re, sys
d, n, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
sent = {l.split()[0][:16]: (l.split()[1], int(l.split()[2]) / 1e6) for l in open(f"{d}/sent")}
logt, authored, hook = {}, {}, {}
for i in range(1, n + 1):
    for l in open(f"{d}/n{i}.log"):
        m = re.match(r"(\S+) info alert(_sent)? id=(\w+) ", l)
        if m and m.group(2):
            authored[m.group(3)] = ts(m.group(1))
        elif m:
            logt[(m.group(3), i)] = ts(m.group(1))
    for l in open(f"{d}/n{i}.notified"):
        p = l.split()
        hook[(p[0][:16], i)] = int(p[2]) / 1e6
def pct(v, q):
    v = sorted(v)
    return v[max(0, math.ceil(q * len(v)) - 1)] if v else float("nan")
client, prop, spawn = [], [], []
for aid, (author, t0) in sent.items():
    if aid not in authored:
        continue
    ta = authored[aid]
    client.append((ta - t0) * 1000)
    recv = [i for i in range(1, n + 1) if f"n{i}" != author and (aid, i) in logt]
    if recv:
        prop.append((max(logt[(aid, i)] for i in recv) - ta) * 1000)
    spawn += [(hook[(aid, i)] - logt[(aid, i)]) * 1000 for i in recv if (aid, i) in hook]
for name, v in (("send_to_stored_ms", client), ("stored_to_all_notify_log_ms", prop),
                (f"notify_log_to_{how}_ms", spawn)):
    print(f"tocsin_breakdown N={n} {name} p50={pct(v, .5):.1f} p99={pct(v, .99):.1f} max={pct(v, 1):.1f}")
PY
}

# pb_cpu_ms PID...: utime + stime of the processes, in ms.
# pb_child_cpu_ms PID...: cutime + cstime, the CPU of their children once
# reaped (the on_alert hooks, Serf's event handlers), in ms.
pb_cpu_fields() {
	local a=$1 b=$2 pid tck sum=0 f; shift 2
	tck=$(getconf CLK_TCK)
	for pid in "$@"; do
		f=$(sed 's/.*) //' "/proc/$pid/stat") || continue
		set -- $f
		sum=$((sum + ${!a} + ${!b}))
	done
	printf '%s' $((sum * 1000 / tck))
}
pb_cpu_ms() { pb_cpu_fields 12 13 "$@"; }
pb_child_cpu_ms() { pb_cpu_fields 14 15 "$@"; }

# ---- Tocsin -------------------------------------------------------------------

pb_tocsin_traffic() { # sums over all daemons: traffic.tx_bytes traffic.tx_frames node.alert_tx
	local i
	for i in $(seq 1 "$TF_N"); do tf_counters "$i"; done | python3 -c '
import json, sys
c = [json.loads(l) for l in sys.stdin if l.strip()]
print(*(sum(x.get(k, 0) for x in c) for k in ("traffic.tx_bytes", "traffic.tx_frames", "node.alert_tx")))'
}
pb_tocsin_send() { tf_send "$1" panic "bench panic $2 from n$1"; }

# pb_tocsin N: the whole Tocsin side; results in $TH_DIR/tocsin.*
pb_tocsin() {
	local n=$1 i pids=() b0 f0 a0 b1 f1 a1 c0 c1 h0 h1 t_idle ib0 ib1
	tf_mesh "$n" "$KEEPALIVE"
	th_log "tocsin: starting $n daemons"
	tf_start_all
	tf_wait_linked 2 120
	for i in $(seq 1 "$n"); do pids+=("${TH_PID[n$i]}"); done
	if [ "$MEASURE" = stream ]; then
		local socks=()
		for i in $(seq 1 "$n"); do socks+=("$TH_DIR/n$i/control.sock"); done
		pb_watch watch_tocsin tocsin "$TH_DIR/n" "${socks[@]}"
	fi
	sleep 3 # let the first digests settle
	read -r ib0 _ < <(pb_tocsin_traffic)
	t_idle=$(th_now_us)
	sleep 5
	read -r ib1 _ < <(pb_tocsin_traffic)
	t_idle=$(($(th_now_us) - t_idle))
	th_log "tocsin: $PANICS panics, ${SPACING}s apart"
	read -r b0 f0 a0 < <(pb_tocsin_traffic)
	c0=$(pb_cpu_ms "${pids[@]}")
	h0=$(pb_child_cpu_ms "${pids[@]}")
	pb_run_schedule pb_tocsin_send
	th_poll 180 tf_complete || th_log "tocsin: incomplete after 180 s: $(cat "$TH_DIR/report")"
	sleep 1 # receipts and the last forwards
	c1=$(pb_cpu_ms "${pids[@]}")
	h1=$(pb_child_cpu_ms "${pids[@]}")
	read -r b1 f1 a1 < <(pb_tocsin_traffic)
	pb_latency tocsin "$n" "$TH_DIR/sent" "$TH_DIR/n" >"$TH_DIR/tocsin.lat"
	local rc=$?
	pb_tocsin_breakdown "$n" >>"$TH_DIR/tocsin.lat"
	python3 - "$n" "$PANICS" "$b0" "$f0" "$a0" "$b1" "$f1" "$a1" "$c0" "$c1" \
		"$((ib1 - ib0))" "$t_idle" "$((h1 - h0))" >"$TH_DIR/tocsin.cost" <<'PY'
import sys
n, p, b0, f0, a0, b1, f1, a1, c0, c1, ib, it, h = map(int, sys.argv[1:])
per = n * p
print(f"tocsin_cost N={n} bytes_per_node_per_alert={(b1 - b0) / per:.0f}"
      f" frames_per_node_per_alert={(f1 - f0) / per:.2f}"
      f" alert_msgs_per_node_per_alert={(a1 - a0) / per:.2f}"
      f" cpu_ms_per_node_per_alert={(c1 - c0) / per:.3f}"
      f" cpu_ms_total={c1 - c0}"
      f" hook_cpu_ms_per_node_per_alert={h / per:.3f}"
      f" idle_bytes_per_node_s={ib / n / (it / 1e6):.1f}")
PY
	[ "$MEASURE" = stream ] && th_stop watch_tocsin TERM 10
	for i in $(seq 1 "$n"); do th_stop "n$i" TERM 20; done
	pb_keep
	return $rc
}

# ---- Serf (HashiCorp; Debian package serf) --------------------------------------
# N agents on 127.0.0.1 with their default (lan) gossip settings, joined
# through s1; a user event "panic" per alert (-coalesce=false, so none is
# merged away); each agent's event handler appends "PAYLOAD x TIME_US".

pb_serf_send() {
	local a=$1 k=$2 t0
	t0=$(th_now_us)
	serf event -rpc-addr="127.0.0.1:${SERF_RPC[$a]}" -coalesce=false panic "p$k" >/dev/null ||
		th_fail "serf event from s$a failed"
	printf 'p%s n%s %s\n' "$k" "$a" "$t0" >>"$TH_DIR/serf.sent"
}

pb_serf_alive() { # every agent sees N alive members
	local i
	for i in "$@"; do
		[ "$(serf members -rpc-addr="127.0.0.1:${SERF_RPC[$i]}" -status=alive | wc -l)" -ge "$SERF_N" ] ||
			return 1
	done
}

declare -A SERF_RPC=() SERF_BIND=()
SERF_N=0
pb_serf() {
	local n=$1 i ports=() pids=() c0 c1 h0 h1 rc
	command -v serf >/dev/null || { echo "serf not installed (apt-get install serf)" >&2; return 2; }
	SERF_N=$n
	mapfile -t ports < <(th_free_ports $((2 * n)))
	: >"$TH_DIR/serf.sent"
	th_log "serf: starting $n agents"
	for i in $(seq 1 "$n"); do
		SERF_BIND[$i]=${ports[$((2 * i - 2))]}
		SERF_RPC[$i]=${ports[$((2 * i - 1))]}
		mkdir -p "$TH_DIR/s$i"
		cat >"$TH_DIR/s$i/handler.sh" <<SH
#!/bin/bash
read -r p || true
printf '%s x %s\n' "\$p" "\${EPOCHREALTIME/./}" >>"$TH_DIR/s$i.notified"
SH
		chmod 700 "$TH_DIR/s$i/handler.sh"
		: >"$TH_DIR/s$i.notified"
		local join=() handler=()
		[ "$i" -gt 1 ] && join=(-join="127.0.0.1:${SERF_BIND[1]}")
		[ "$MEASURE" = hook ] && handler=(-event-handler="user:panic=$TH_DIR/s$i/handler.sh")
		th_spawn "s$i" serf agent -node="s$i" -bind="127.0.0.1:${SERF_BIND[$i]}" \
			-rpc-addr="127.0.0.1:${SERF_RPC[$i]}" -log-level=warn \
			"${handler[@]}" "${join[@]}"
		pids+=("${TH_PID[s$i]}")
		th_poll 20 serf members -rpc-addr="127.0.0.1:${SERF_RPC[$i]}" >/dev/null 2>&1 ||
			th_fail "serf agent s$i did not answer"
	done
	th_poll 120 pb_serf_alive $(seq 1 "$n") || th_fail "serf: not every agent sees $n alive"
	if [ "$MEASURE" = stream ]; then
		local rpcs=()
		for i in $(seq 1 "$n"); do rpcs+=("${SERF_RPC[$i]}"); done
		pb_watch watch_serf serf "$TH_DIR/s" "${rpcs[@]}"
	fi
	sleep 3
	th_log "serf: $PANICS user events, ${SPACING}s apart"
	c0=$(pb_cpu_ms "${pids[@]}")
	h0=$(pb_child_cpu_ms "${pids[@]}")
	pb_run_schedule pb_serf_send
	pb_serf_complete() { pb_latency serf "$n" "$TH_DIR/serf.sent" "$TH_DIR/s" >/dev/null; }
	th_poll 180 pb_serf_complete || th_log "serf: incomplete after 180 s"
	sleep 1
	c1=$(pb_cpu_ms "${pids[@]}")
	h1=$(pb_child_cpu_ms "${pids[@]}")
	pb_latency serf "$n" "$TH_DIR/serf.sent" "$TH_DIR/s" >"$TH_DIR/serf.lat"
	rc=$?
	echo "serf_cost N=$n cpu_ms_per_node_per_alert=$(python3 -c "print(f'{($c1 - $c0) / $n / $PANICS:.3f}')") cpu_ms_total=$((c1 - c0)) hook_cpu_ms_per_node_per_alert=$(python3 -c "print(f'{($h1 - $h0) / $n / $PANICS:.3f}')")" >"$TH_DIR/serf.cost"
	[ "$MEASURE" = stream ] && th_stop watch_serf TERM 10
	for i in $(seq 1 "$n"); do th_stop "s$i" TERM 20; done
	pb_keep
	return $rc
}
