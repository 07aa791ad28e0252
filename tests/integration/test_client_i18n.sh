#!/usr/bin/env bash
# The client in Arabic (issue 7): LANG=ar_IQ.UTF-8 with the catalogs meson
# built in the build tree (TOCSIN_LOCALEDIR). Asserts Arabic for the
# no-daemon error, a usage error, --help, wipe's refusals and confirmation,
# status (with the reachability line), peers, audit, a refusal hint, a
# plural (ngettext) and an online wipe, byte-exact; and that --json keys and values stay the
# untranslated ASCII protocol words. The locale must exist (scripts/deps.sh
# generates it): a missing locale is a failure, not a skip.
. "$TH_LIB"
: "${TOCSIN:?}" "${MKMESH:?}" "${TOCSIN_PO:?}"
th_init

locale -a | grep -qix 'ar_IQ.utf8' ||
	th_fail "locale ar_IQ.UTF-8 missing: run scripts/deps.sh (localedef -i ar_IQ -f UTF-8 ar_IQ.UTF-8)"
[ -f "$TOCSIN_PO/ar/LC_MESSAGES/tocsin.mo" ] || th_fail "no catalog in $TOCSIN_PO"

export LANG=ar_IQ.UTF-8 TOCSIN_LOCALEDIR=$TOCSIN_PO
unset LC_ALL LC_MESSAGES LANGUAGE
tc() { local n=$1; shift; "$TOCSIN" --home "$TH_DIR/$n" "$@"; }
has() { # FILE TEXT: the file holds TEXT byte for byte
	grep -qF -- "$2" "$1" || th_fail "$(basename "$1") lacks \"$2\": $(cat "$1")"
}

tc n1 status >"$TH_DIR/nd.out" 2>"$TH_DIR/nd.err"; rc=$?
[ "$rc" = 3 ] || th_fail "no daemon: exit $rc"
has "$TH_DIR/nd.err" "tocsin: الخدمة tocsind لا تعمل للمجلد $TH_DIR/n1؛ شغّلوها بالأمر: tocsind --home $TH_DIR/n1"
"$TOCSIN" frobnicate >/dev/null 2>"$TH_DIR/u.err"; rc=$?
[ "$rc" = 2 ] || th_fail "unknown command: exit $rc"
has "$TH_DIR/u.err" "tocsin: أمر غير معروف 'frobnicate'"
has "$TH_DIR/u.err" "الاستخدام: tocsin [--home DIR] COMMAND [OPTIONS]"
"$TOCSIN" --help >"$TH_DIR/h.out" || th_fail "--help"
has "$TH_DIR/h.out" "  panic      يرسل نداء استغاثة إلى كل الأعضاء فورًا (من دون أي سؤال)"
has "$TH_DIR/h.out" "  3  الخدمة tocsind لا تعمل أو تعذّر الوصول إليها"
"$TOCSIN" status --bogus >/dev/null 2>"$TH_DIR/o.err" && th_fail "unknown option accepted"
has "$TH_DIR/o.err" "tocsin: خيار غير معروف '--bogus'"
LANG=C "$TOCSIN" frobnicate 2>"$TH_DIR/c.err" >/dev/null
has "$TH_DIR/c.err" "tocsin: unknown command 'frobnicate'"
th_pass "no-daemon error, usage errors and --help in Arabic (English with LANG=C)"

# wipe needs no daemon to refuse: without a terminal and without --yes, and
# on a terminal (script(1)) when the word typed is not "wipe".
tc n1 wipe </dev/null >/dev/null 2>"$TH_DIR/w.err"; rc=$?
[ "$rc" = 2 ] || th_fail "wipe without a terminal: exit $rc"
has "$TH_DIR/w.err" "tocsin: يحذف الأمر wipe مفاتيح هذا الجهاز وسجلّه نهائيًا؛ ومن دون طرفية للتأكيد فيها أضيفوا --yes"
tc n1 status --yes >/dev/null 2>"$TH_DIR/y.err" && th_fail "--yes accepted for status"
has "$TH_DIR/y.err" "tocsin: الخيار --yes للأمر wipe فقط"
rc=0
printf 'no\n' | script -qec "'$TOCSIN' --home '$TH_DIR/n1' wipe" /dev/null >"$TH_DIR/wt.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || th_fail "wipe, typed no: exit $rc: $(cat "$TH_DIR/wt.out")"
has "$TH_DIR/wt.out" "اكتبوا wipe للمتابعة: "
has "$TH_DIR/wt.out" "tocsin: لم يُؤكَّد الأمر: لم يُمحَ شيء"
th_pass "wipe refusals and its confirmation prompt in Arabic"

# A three-member mesh: status, a hint and a plural.
mapfile -t PORTS < <(th_free_ports 3)
"$MKMESH" --name ar-net "$TH_DIR/n1:${PORTS[0]}" "$TH_DIR/n2:${PORTS[1]}" "$TH_DIR/n3:${PORTS[2]}" \
	>/dev/null || th_fail "mkmesh"
for i in 1 2 3; do th_start_at "n$i" "${PORTS[$((i - 1))]}"; done
links2() { [ "$(tc n2 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"])')" = 2 ]; }
th_poll 20 links2 || th_fail "n2 not linked to both others"

tc n1 status >"$TH_DIR/st.out" || th_fail "status"
has "$TH_DIR/st.out" "الهوية: موجودة"
has "$TH_DIR/st.out" "الاتصالات: "
grep -q '^الخدمة: تعمل، رقم العملية [0-9]*، الإصدار ' "$TH_DIR/st.out" || th_fail "status line: $(cat "$TH_DIR/st.out")"
tc n1 status --json >"$TH_DIR/st.json" || th_fail "status --json"
python3 - "$TH_DIR/st.json" <<'PY' || th_fail "status --json is not untranslated ASCII keys: $(cat "$TH_DIR/st.json")"
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert all(k.isascii() for k in o), o.keys()
for k in ("pid", "version", "links", "initialised", "mesh", "fingerprint"):
    assert k in o, k
assert o["initialised"] is True
PY
# The dial-back check runs 3 s after the first link: the reachability line
# then names the member who checked.
checked() { tc n1 status >"$TH_DIR/r.out" && grep -Eq '^الوصول من الخارج: (نعم|لا|غير معروف) \((تمّ|لم يقبل أحد الاتصال|أجاب طرف آخر)؛ فحصته .* قبل [0-9]* ثانية\)$' "$TH_DIR/r.out"; }
th_poll 30 checked || th_fail "reachability line: $(cat "$TH_DIR/r.out")"
th_pass "status in Arabic; status --json keeps its ASCII keys"

tc n1 peers >"$TH_DIR/pe.out" || th_fail "peers"
grep -q '^اتصال [0-9]' "$TH_DIR/pe.out" || th_fail "peers: $(cat "$TH_DIR/pe.out")"
tc n1 audit >"$TH_DIR/au.out" || th_fail "audit"
grep -q '^ *1 .* بتوقيع ' "$TH_DIR/au.out" || th_fail "audit: $(cat "$TH_DIR/au.out")"
th_pass "the reachability line of status, peers and audit in Arabic"

TEXT='النجدة، أنا في خطر'
tc n2 panic "$TEXT" >"$TH_DIR/p.out" 2>&1 || th_fail "panic: $(cat "$TH_DIR/p.out")"
# ngettext: two links and two other members take the Arabic dual.
grep -q '^حُفظ وأُرسل: 2 اتصالان (2 عضوان آخران) - التنبيه [0-9a-f]\{16\}$' "$TH_DIR/p.out" ||
	th_fail "panic (plural forms): $(cat "$TH_DIR/p.out")"
tc n2 drill --json >"$TH_DIR/d.json" || th_fail "drill --json"
python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert all(k.isascii() for k in o) and o["kind"] == "drill", o' "$TH_DIR/d.json" ||
	th_fail "drill --json translated: $(cat "$TH_DIR/d.json")"
has_text() { tc n1 alerts --json | grep -qF "\"text\":\"$TEXT\""; }
th_poll 10 has_text || th_fail "the Arabic text did not arrive byte-exact"
tc n1 alerts --json >"$TH_DIR/a.json" || th_fail "alerts --json"
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    assert all(k.isascii() for k in o), o.keys()
    assert o["kind"] in ("panic", "drill"), o["kind"]' "$TH_DIR/a.json" || th_fail "alerts --json: $(cat "$TH_DIR/a.json")"
tc n1 alerts >"$TH_DIR/a.out" || th_fail "alerts"
has "$TH_DIR/a.out" "استغاثة"
has "$TH_DIR/a.out" "    $TEXT"
has "$TH_DIR/a.out" "    الخطورة حرجة، أخرى"
th_pass "panic with a plural in Arabic; alerts in Arabic with the text byte-exact; --json keys and kinds untranslated"

tc n2 notice "x" >/dev/null 2>"$TH_DIR/n.err"; rc=$?
[ "$rc" = 1 ] || th_fail "notice by a member: exit $rc"
has "$TH_DIR/n.err" "تلميح: هذا للمنسّقين فقط؛ يعرض tocsin members من هم المنسّقون"
th_pass "a refusal hint in Arabic, exit 1"

# An online wipe, last (it stops n3's daemon): the result and the note.
tc n3 wipe --yes >"$TH_DIR/wy.out" 2>&1 || th_fail "wipe --yes: $(cat "$TH_DIR/wy.out")"
th_wait_exit "${TH_PID[n3]}" 30 || th_fail "n3's daemon still runs after wipe"
has "$TH_DIR/wy.out" "كتبت الخدمة tocsind فوق $TH_DIR/n3/"
has "$TH_DIR/wy.out" "تشفير القرص كاملًا هو ما يحمي الحاسوب المصادَر"
th_pass "wipe --yes reports in Arabic"
