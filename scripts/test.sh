#!/usr/bin/env bash
# Install what is missing, build, and run every test: unit and integration
# tests under AddressSanitizer + UndefinedBehaviorSanitizer, the protocol
# no-I/O check, and each fuzz target for a bounded time. Ends with the line
# "N passed, N failed" and exits non-zero on any failure.
#
# Environment: FUZZ_SECONDS (per fuzz target, default 20), SKIP_FUZZ=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
tocsin_install_deps

jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
skipped=0

setup() { # dir, meson args...
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

echo "== build (warnings are errors)"
setup build
meson compile -C build >/dev/null

echo "== build-clang (a second compiler's warnings, also errors)"
CC=clang setup build-clang
meson compile -C build-clang >/dev/null

echo "== build-asan (AddressSanitizer + UndefinedBehaviorSanitizer)"
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
meson compile -C build-asan >/dev/null

if [ -f tests/interop/package.json ]; then
	echo "== npm packages for the interop test"
	(cd tests/interop && npm ci --silent --no-audit --no-fund >/dev/null)
fi

echo "== tests"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
set +e
meson test -C build-asan --num-processes "$jobs" --print-errorlogs
set -e
# Count from meson's machine-readable log, one line per test.
read -r p f s < <(python3 - build-asan/meson-logs/testlog.json <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
)
passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))

if [ "${SKIP_FUZZ:-0}" != 1 ] && ls fuzz/fuzz_*.c >/dev/null 2>&1; then
	echo "== fuzz (libFuzzer, ${FUZZ_SECONDS:-20}s per target)"
	CC=clang setup build-fuzz -Dfuzz=true -Ddaemon=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
	meson compile -C build-fuzz >/dev/null
	for src in fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		corpus=fuzz/corpus/${name#fuzz_}
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus/." "$work/"
		if (cd build-fuzz && "./fuzz/$name" -max_total_time="${FUZZ_SECONDS:-20}" \
			-rss_limit_mb=2048 -timeout=10 -print_final_stats=0 "$work" \
			>"meson-logs/$name.log" 2>&1); then
			echo "ok   $name ($(grep -Eo '#[0-9]+' "build-fuzz/meson-logs/$name.log" | tail -1 | tr -d '#') runs)"
			passed=$((passed + 1))
		else
			echo "FAIL $name: see build-fuzz/meson-logs/$name.log"
			tail -40 "build-fuzz/meson-logs/$name.log"
			failed=$((failed + 1))
		fi
		rm -rf "$work"
	done
fi

echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
