#!/usr/bin/env bash
# The simulator engine at scale: sim-flood (the issue's scenario over the
# flood host, docs/sim.md) at N=1000 and N=10000, degree 5, 30 % churn, a
# healed partition. Prints each summary line, the run line, and the wall
# time and events/s (figures, not assertions: DESIGN §11).
#
#   bench/sim.sh            # seed 1
#   SEED=7 bench/sim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
seed=${SEED:-1}
echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
for n in 1000 10000; do
	echo
	echo "== sim-flood --nodes $n --degree 5 --churn 0.3 --loss 0 --seed $seed --partition"
	# stderr (wall time and events/s of the run, from sim-flood itself)
	# after stdout; then the whole process's wall time, overlay included.
	TIMEFORMAT='wall_s_process=%R'
	time build/tests/sim/sim-flood --nodes "$n" --degree 5 --churn 0.3 --loss 0 \
		--seed "$seed" --partition 2>&1
done
