#!/bin/sh
# Same seed, same output, byte for byte; another seed, another run.
# Usage: test_repro.sh path/to/sim-flood
set -eu
bin=$1
args="--nodes 300 --degree 5 --churn 0.3 --loss 0.01 --partition"
a=$("$bin" $args --seed 7 2>/dev/null)
b=$("$bin" $args --seed 7 2>/dev/null)
c=$("$bin" $args --seed 8 2>/dev/null)
printf 'seed 7: %s\nseed 8: %s\n' "$a" "$c"
echo "$a" | grep -Eq '^nodes=300 degree=5 churn=0\.30 delivery=[0-9.]+% p50_ms=[0-9.]+ p99_ms=[0-9.]+ max_ms=[0-9.]+ frames_per_node=[0-9.]+ bytes_per_node=[0-9.]+$' ||
	{ echo "FAIL: summary line not in the issue's shape" >&2; exit 1; }
[ "$a" = "$b" ] || { echo "FAIL: same seed, different output" >&2; exit 1; }
[ "$a" != "$c" ] || { echo "FAIL: different seeds, same output" >&2; exit 1; }
echo "$a" | grep -q 'delivery=100\.00%' || { echo "FAIL: flood missed hosts" >&2; exit 1; }
echo ok
