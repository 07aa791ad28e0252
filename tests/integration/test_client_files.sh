#!/usr/bin/env bash
# The files shipped with the client (issue 7): the panic launcher passes
# desktop-file-validate and its Exec line really sends a panic (without a
# terminal, back at once); the man pages pass mandoc -T lint and groff
# -ww with no warning and name every command, flag, config key and exit
# code the programs have; meson installs the launcher, the man pages and
# the Arabic catalog.
. "$TH_LIB"
: "${TOCSIN:?}" "${TOCSIND:?}" "${MKMESH:?}" "${TOCSIN_SRC:?}" "${TOCSIN_PO:?}"
th_init
for t in desktop-file-validate mandoc groff; do
	command -v "$t" >/dev/null || th_fail "$t is needed (scripts/deps.sh installs it)"
done
DESKTOP=$TOCSIN_SRC/data/tocsin-panic.desktop
MAN1=$TOCSIN_SRC/man/tocsin.1
MAN8=$TOCSIN_SRC/man/tocsind.8

# ---- launcher -------------------------------------------------------------
out=$(desktop-file-validate "$DESKTOP" 2>&1) || th_fail "desktop-file-validate: $out"
[ -z "$out" ] || th_fail "desktop-file-validate says: $out"
exec_line=$(sed -n 's/^Exec=//p' "$DESKTOP")
[ "$(grep -c '^Terminal=false$' "$DESKTOP")" = 1 ] || th_fail "the launcher must not need a terminal"
case $exec_line in
"tocsin panic"*) ;;
*) th_fail "Exec is not a tocsin panic: $exec_line" ;;
esac
mapfile -t PORTS < <(th_free_ports 2)
"$MKMESH" --name files-net "$TH_DIR/n1:${PORTS[0]}" "$TH_DIR/n2:${PORTS[1]}" >/dev/null || th_fail "mkmesh"
th_start_at n1 "${PORTS[0]}"
th_start_at n2 "${PORTS[1]}"
# As a desktop would: the Exec words, tocsin from PATH, no terminal, the
# daemon found through the environment (here TOCSIN_HOME).
mkdir -p "$TH_DIR/bin" && ln -s "$TOCSIN" "$TH_DIR/bin/tocsin"
read -r -a words <<<"$exec_line"
t0=$(th_now_us)
PATH=$TH_DIR/bin:$PATH TOCSIN_HOME=$TH_DIR/n1 timeout 10 "${words[@]}" </dev/null >"$TH_DIR/l.out" 2>&1 ||
	th_fail "the launcher's command failed: $(cat "$TH_DIR/l.out")"
ms=$((($(th_now_us) - t0) / 1000))
grep -q '^stored;' "$TH_DIR/l.out" || th_fail "launcher output: $(cat "$TH_DIR/l.out")"
arrived() { "$TOCSIN" --home "$TH_DIR/n2" alerts --json | grep -q '"kind":"panic"'; }
th_poll 10 arrived || th_fail "the launcher's panic did not reach the other member"
th_pass "tocsin-panic.desktop validates; its Exec sends a panic in $ms ms that reaches the other member"

# ---- man pages ------------------------------------------------------------
for m in "$MAN1" "$MAN8"; do
	out=$(mandoc -T lint -W warning "$m" 2>&1) || th_fail "mandoc -T lint $(basename "$m"): $out"
	[ -z "$out" ] || th_fail "mandoc -T lint $(basename "$m"): $out"
	out=$(groff -ww -z -mandoc "$m" 2>&1)
	[ -z "$out" ] || th_fail "groff -ww $(basename "$m"): $out"
done
th_pass "tocsin.1 and tocsind.8: mandoc -T lint and groff -ww report nothing"

# Every command of tocsin --help is an item of COMMANDS, every flag of every
# command's usage line is in the page.
"$TOCSIN" --help >"$TH_DIR/help.txt" || th_fail "tocsin --help"
cmds=$(sed -n '/^commands:/,/^$/p' "$TH_DIR/help.txt" | awk 'NF > 1 { print $1 }')
[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 17 ] || th_fail "too few commands in --help: $cmds"
for c in $cmds; do
	grep -q "^\.It Cm $c\( \|$\)" "$MAN1" || th_fail "tocsin.1 lacks the command $c"
	"$TOCSIN" "$c" --help >"$TH_DIR/h-$c.txt" || th_fail "$c --help"
	for f in $(grep -o -- '--[a-z-]*' "$TH_DIR/h-$c.txt" | sort -u); do
		grep -q "Fl -${f#--}\b" "$MAN1" || th_fail "tocsin.1 lacks $f (of $c)"
	done
done
for code in 0 1 2 3; do
	grep -q "^  $code  " "$TH_DIR/help.txt" || th_fail "--help lacks exit status $code"
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' "$MAN1" | grep -qx "\.It $code" || th_fail "tocsin.1 lacks exit status $code"
done
"$TOCSIND" --help >"$TH_DIR/dhelp.txt" || th_fail "tocsind --help"
for f in $(grep -o -- '--[a-z-]*' "$TH_DIR/dhelp.txt" | sort -u); do
	grep -q "Fl -${f#--}\b" "$MAN8" || th_fail "tocsind.8 lacks $f"
done
keys=$(sed -n 's/^[[:space:]]*{"\([a-z_]*\)", "\([a-z_]*\)", set_[a-z_]*},$/\1 \2/p' "$TOCSIN_SRC/daemon/config.c")
[ "$(printf '%s\n' "$keys" | wc -l)" -ge 8 ] || th_fail "config keys not found in daemon/config.c: $keys"
while read -r sec key; do
	grep -q "^\.It Cm \[$sec\] $key " "$MAN8" || th_fail "tocsind.8 lacks [$sec] $key"
done <<<"$keys"
for code in 0 1 2; do
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' "$MAN8" | grep -qx "\.It $code" || th_fail "tocsind.8 lacks exit status $code"
done
th_pass "the man pages name every command, flag, config key and exit status"

# ---- meson installs them --------------------------------------------------
build=$(dirname "$TOCSIN_PO")
meson install -C "$build" --no-rebuild --destdir "$TH_DIR/inst" >"$TH_DIR/install.log" 2>&1 ||
	th_fail "meson install: $(tail -5 "$TH_DIR/install.log")"
for f in share/applications/tocsin-panic.desktop share/man/man1/tocsin.1 share/man/man8/tocsind.8 \
	share/locale/ar/LC_MESSAGES/tocsin.mo bin/tocsin; do
	[ -n "$(find "$TH_DIR/inst" -path "*/$f" -print -quit)" ] || th_fail "meson does not install $f"
done
mo=$(find "$TH_DIR/inst" -path '*/share/locale/ar/LC_MESSAGES/tocsin.mo' -print -quit)
LANG=ar_IQ.UTF-8 TOCSIN_LOCALEDIR=${mo%/ar/LC_MESSAGES/tocsin.mo} "$TOCSIN" frob 2>"$TH_DIR/ar.err"
grep -qF "أمر غير معروف" "$TH_DIR/ar.err" || th_fail "the installed catalog does not translate: $(cat "$TH_DIR/ar.err")"
th_pass "meson installs the launcher, both man pages, the Arabic catalog (which translates) and tocsin"
