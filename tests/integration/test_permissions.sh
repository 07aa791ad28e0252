#!/usr/bin/env bash
# Files and directories are checked at start (docs/security.md, "At rest").
#  - a home and data dir left 0755, and a tocsin.db left 0644 (a copy, a
#    restored backup): tightened to 0700 / 0600, each with a warning line;
#  - a keystore readable or writable by group or others (0640, 0604, 0660),
#    or a symlink: tocsind refuses to start (exit 1) and says what to do;
#    chmod 600 and it starts with the same identity;
#  - the keystore it writes at init is 0600, the files it makes are 0600.
. "$TH_LIB"
: "${TOCSIN:?}"
th_init

h=$TH_DIR/n1
tc() { "$TOCSIN" --home "$h" "$@"; }
jget() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

mkdir -m 700 "$h"
th_start n1
fp=$(tc init --json | jget fingerprint) || th_fail "init"
for f in "$h/data/keystore" "$h/data/tocsin.db"; do
	[ "$(th_mode "$f")" = 600 ] || th_fail "$f mode $(th_mode "$f")"
done
th_stop n1
th_pass "init writes a 0600 keystore; tocsin.db is 0600"

chmod 755 "$h" "$h/data"
chmod 644 "$h/data/tocsin.db"
th_start_at n1 0
[ "$(th_mode "$h")" = 700 ] && [ "$(th_mode "$h/data")" = 700 ] ||
	th_fail "dirs not tightened: $(th_mode "$h") $(th_mode "$h/data")"
[ "$(th_mode "$h/data/tocsin.db")" = 600 ] || th_fail "tocsin.db left $(th_mode "$h/data/tocsin.db")"
grep -q "dir_mode_tightened path=$h/data old=755 new=700" "${TH_LOG[n1]}" || th_fail "no warning for the data dir"
grep -q "file_mode_tightened path=$h/data/tocsin.db old=644 new=600" "${TH_LOG[n1]}" ||
	th_fail "no warning for tocsin.db"
[ "$(tc id --json | jget fingerprint)" = "$fp" ] || th_fail "identity changed"
th_stop n1
th_pass "a 0755 home and data dir and a 0644 tocsin.db are tightened at start, with a warning each"

ks=$h/data/keystore
for mode in 640 604 660; do
	chmod "$mode" "$ks"
	th_spawn "bad$mode" "$TOCSIND" --home "$h" --listen 127.0.0.1:0 --foreground
	th_wait_exit "${TH_PID[bad$mode]}" 10 || th_fail "daemon with a $mode keystore did not exit"
	[ "$TH_STATUS" = 1 ] || th_fail "$mode keystore: exit $TH_STATUS, want 1"
	grep -q "keystore $ks is .* by other users (mode 0$mode); run: chmod 600 $ks" \
		"${TH_LOG[bad$mode]}" || th_fail "$mode keystore: $(cat "${TH_LOG[bad$mode]}")"
	[ "$(th_mode "$ks")" = "$mode" ] || th_fail "the daemon changed the keystore's mode itself"
done
chmod 600 "$ks"
th_pass "a keystore readable or writable by group/others (0640, 0604, 0660) refuses start: exit 1, says chmod 600"

mv "$ks" "$ks.real"
ln -s "$ks.real" "$ks"
th_spawn badlink "$TOCSIND" --home "$h" --listen 127.0.0.1:0 --foreground
th_wait_exit "${TH_PID[badlink]}" 10 || th_fail "daemon with a symlinked keystore did not exit"
[ "$TH_STATUS" = 1 ] || th_fail "symlinked keystore: exit $TH_STATUS, want 1"
grep -q 'keystore_error' "${TH_LOG[badlink]}" || th_fail "symlink: $(cat "${TH_LOG[badlink]}")"
rm "$ks"
mv "$ks.real" "$ks"
th_pass "a symlinked keystore refuses start"

th_start_at n1 0
[ "$(tc id --json | jget fingerprint)" = "$fp" ] || th_fail "identity changed after chmod 600"
th_pass "after chmod 600 the daemon starts with the same identity"
