#!/usr/bin/env bash
# Build (warnings are errors, buildtype debugoptimized: -O2) and run every
# benchmark in bench/ once, printing its figures. Nothing is asserted.
#
#   bench/run.sh            # then copy the figures into bench/README.md
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
for src in bench/*.c; do
	name=$(basename "$src" .c)
	echo
	echo "== $name"
	"build/bench/$name"
done
