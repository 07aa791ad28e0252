#!/usr/bin/env bash
# Install what is missing, build, and show what Tocsin can do today.
#
# Today (foundation stage) that is the protocol core: identity keys and
# safety numbers, the strict record codec, and the probe-resistant Noise link
# between two real processes over 127.0.0.1. The daemon (tocsind) and the
# client (tocsin) that make this a real local mesh are not built yet; this
# script says so rather than pretend.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
tocsin_install_deps

if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
meson compile -C build >/dev/null
echo "built: $(ls build/protocol/libtocsinproto.a)"

echo
echo "== protocol self-checks"
meson test -C build --suite unit --suite build 2>&1 | grep -E '^ *[0-9]+/[0-9]+ ' || true

echo
echo "Not yet built: tocsind (daemon) and tocsin (client). Until they land,"
echo "this demo cannot start a mesh or send a panic; see README.md, 'Status'."
