#!/usr/bin/env bash
# Without --home: XDG directories, their fallbacks, the runtime-dir
# fallback log line, and TOCSIN_HOME.
. "$TH_LIB"
th_init

# HOME only: ~/.config/tocsin, ~/.local/share/tocsin, runtime under data.
h=$TH_DIR/h
mkdir -m 700 "$h"
th_spawn xdg1 env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_RUNTIME_DIR -u TOCSIN_HOME \
	HOME="$h" "$TOCSIND" --listen 127.0.0.1:0
th_wait_ready xdg1
for d in "$h/.config/tocsin" "$h/.local/share/tocsin" "$h/.local/share/tocsin/run"; do
	[ -d "$d" ] || th_fail "missing $d"
	[ "$(th_mode "$d")" = 700 ] || th_fail "$d mode $(th_mode "$d")"
done
[ -f "$h/.local/share/tocsin/tocsin.db" ] || th_fail "db not in XDG data dir"
grep -q "runtime_dir_fallback path=$h/.local/share/tocsin/run reason=xdg_runtime_dir_unset" \
	"${TH_LOG[xdg1]}" || th_fail "no runtime fallback line"
grep -q "control=$h/.local/share/tocsin/run/control.sock" "${TH_LOG[xdg1]}" ||
	th_fail "control socket path not logged"
th_stop xdg1 TERM 1
th_pass "HOME fallbacks and runtime-dir fallback"

# Explicit XDG variables.
th_spawn xdg2 env -u TOCSIN_HOME HOME=/nonexistent XDG_CONFIG_HOME="$TH_DIR/c" \
	XDG_DATA_HOME="$TH_DIR/d" XDG_RUNTIME_DIR="$TH_DIR/r" "$TOCSIND" --listen 127.0.0.1:0
th_wait_ready xdg2
[ -f "$TH_DIR/d/tocsin/tocsin.db" ] || th_fail "db not under XDG_DATA_HOME"
[ "$(th_mode "$TH_DIR/r/tocsin")" = 700 ] || th_fail "runtime dir not 0700"
[ "$(th_mode "$TH_DIR/c/tocsin")" = 700 ] || th_fail "config dir not 0700"
grep -q "control=$TH_DIR/r/tocsin/control.sock" "${TH_LOG[xdg2]}" || th_fail "control path"
grep -q runtime_dir_fallback "${TH_LOG[xdg2]}" && th_fail "fallback logged with XDG_RUNTIME_DIR set"
th_stop xdg2 TERM 1
th_pass "XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_RUNTIME_DIR"

# TOCSIN_HOME beats XDG.
th_spawn th env TOCSIN_HOME="$TH_DIR/t" XDG_DATA_HOME="$TH_DIR/d2" "$TOCSIND" \
	--listen 127.0.0.1:0
th_wait_ready th
[ -f "$TH_DIR/t/data/tocsin.db" ] || th_fail "TOCSIN_HOME not used"
[ -e "$TH_DIR/d2" ] && th_fail "XDG_DATA_HOME used despite TOCSIN_HOME"
th_stop th TERM 1
th_pass "TOCSIN_HOME"
