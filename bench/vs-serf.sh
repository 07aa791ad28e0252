#!/usr/bin/env bash
# bench/vs-serf.sh N: Tocsin (bench/propagation.sh's run) and then N HashiCorp
# Serf agents (user events, default gossip settings, 127.0.0.1) with the
# same schedule of authors and times, on the same machine in the same run.
# Prints both lines and ends with
#   vs-serf N=<n> tocsin_p99_ms=<x> serf_p99_ms=<y> ratio=<y/x>
# Exit status 1 when either side lost an alert (no latency would mean
# anything then); figures are never checked.
#   bench/vs-serf.sh 64
. "$(dirname "$0")/propagation_lib.sh"
N=${1:?usage: bench/vs-serf.sh N}
command -v serf >/dev/null || { echo "SKIP: serf is not installed (apt-get install serf)" >&2; exit 77; }
th_init
pb_schedule "$N"
rc=0
pb_tocsin "$N" || { rc=1; echo "TOCSIN LOST ALERTS: $(cat "$TH_DIR/report")"; }
pb_serf "$N" || { rc=1; echo "SERF LOST EVENTS"; }
cat "$TH_DIR/tocsin.lat" "$TH_DIR/tocsin.cost" "$TH_DIR/serf.lat" "$TH_DIR/serf.cost"
python3 - "$N" "$TH_DIR/tocsin.lat" "$TH_DIR/serf.lat" <<'PY'
import re, sys
def field(path, k):
    return float(re.search(rf"\b{k}=([0-9.]+)", open(path).read()).group(1))
n = sys.argv[1]
t, s = field(sys.argv[2], "p99_ms"), field(sys.argv[3], "p99_ms")
print(f"| | p50 ms | p99 ms | max ms |\n|---|---|---|---|")
for name, p in (("tocsin", sys.argv[2]), ("serf", sys.argv[3])):
    print(f"| {name} | {field(p, 'p50_ms'):.1f} | {field(p, 'p99_ms'):.1f} | {field(p, 'max_ms'):.1f} |")
print(f"ratios serf/tocsin: p50 {field(sys.argv[3], 'p50_ms') / field(sys.argv[2], 'p50_ms'):.1f}"
      f" max {field(sys.argv[3], 'max_ms') / field(sys.argv[2], 'max_ms'):.1f}")
print(f"vs-serf N={n} tocsin_p99_ms={t:.1f} serf_p99_ms={s:.1f} ratio={s / t:.1f}")
PY
exit $rc
