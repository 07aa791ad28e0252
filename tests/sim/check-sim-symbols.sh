#!/bin/sh
# The engine reads no clock and no OS randomness (docs/sim.md): virtual
# time and its own seeded generator only. Fails if the simulator library
# leaves any such symbol undefined.
# Usage: check-sim-symbols.sh path/to/libtocsinsim.a
set -eu
lib=$1
[ -f "$lib" ] || { echo "no such library: $lib" >&2; exit 1; }
syms=$(nm --format=posix "$lib" 2>/dev/null)
printf '%s\n' "$syms" | awk '$1 == "sim_run_until" && $2 == "T" {f=1} END {exit !f}' ||
	{ echo "nm output of $lib not understood: cannot check" >&2; exit 1; }
bad=$(printf '%s\n' "$syms" | awk 'NF>=2 && ($2 == "U" || $2 == "w") {print $1}' |
	grep -Ex '(clock_gettime|clock|time|gettimeofday|timespec_get|ftime|nanosleep|usleep|sleep|rand|random|srand|srandom|drand48|lrand48|getrandom|getentropy|arc4random.*|randombytes.*)' || true)
if [ -n "$bad" ]; then
	echo "simulator library calls clock or OS randomness:" >&2
	printf '  %s\n' $bad >&2
	exit 1
fi
echo ok
