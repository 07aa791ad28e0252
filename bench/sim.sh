#!/usr/bin/env bash
# The simulator at scale (docs/sim.md), the issue's scenario at N=1000 and
# N=10000, degree 5, 30 % churn, a healed partition:
#   sim-flood   the engine over a trivial flood host (reference: what the
#               engine alone costs)
#   tocsin-sim  the same scenario over the REAL tn_node
# Prints each summary line, the run line (tocsin-sim: also the receipts
# line), the run's wall time and events/s, and the process's wall time and
# peak RSS. Figures, not assertions (DESIGN §11).
#
# Then lazy push against flooding (docs/node.md "Lazy push"): tocsin-sim with
# 8 alerts (one every 5 s from 15 s), flood (--lazy off) against lazy push
# for chatter (--lazy chatter --kind drill: the default) and for everything
# (--lazy all --kind panic), at the LAZY_SIZES (default 1000 only: an
# N=10000 run takes ~2.6 GiB and ~45 s of CPU; the machine is shared).
#
#   bench/sim.sh            # seed 1
#   SEED=7 bench/sim.sh
#   SIZES="1000" bench/sim.sh
#   SIZES="" LAZY_SIZES="1000" bench/sim.sh   # the lazy push comparison only
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
seed=${SEED:-1}
sizes=${SIZES-1000 10000}
lazy_sizes=${LAZY_SIZES-1000}
echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)," \
	"$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
timed() {
	# stdout, then the program's own stderr (wall_s of the run), then the
	# whole process: wall time (overlay and setup included) and peak RSS.
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f 'wall_s_process=%e peak_rss_mib=%M' "$@" 2>&1 |
			awk '/^wall_s_process=/ {split($2, a, "="); $2 = "peak_rss_mib=" int(a[2] / 1024)} {print}'
	else
		TIMEFORMAT='wall_s_process=%R'
		time "$@" 2>&1
	fi
}
for n in $sizes; do
	for prog in sim-flood tocsin-sim; do
		echo
		echo "== $prog --nodes $n --degree 5 --churn 0.3 --loss 0 --seed $seed --partition"
		timed "build/tests/sim/$prog" --nodes "$n" --degree 5 --churn 0.3 --loss 0 \
			--seed "$seed" --partition
	done
done
for n in $lazy_sizes; do
	for mode in "off --kind drill" "chatter --kind drill" "all --kind panic"; do
		echo
		echo "== tocsin-sim --nodes $n --degree 5 --churn 0.3 --loss 0 --seed $seed --partition --alerts 8 --lazy $mode"
		# shellcheck disable=SC2086 # mode is two options
		timed build/tests/sim/tocsin-sim --nodes "$n" --degree 5 --churn 0.3 --loss 0 \
			--seed "$seed" --partition --alerts 8 --lazy $mode
	done
done
