#!/usr/bin/env bash
# Expired alerts are purged from the store (daemon/expiry.h; THREAT-MODEL:
# history on a seized laptop minimal and expiring). Alerts live up to 7
# days, so the test shortens two stored alerts' expires_ms in the database
# while the daemon is stopped: one already past (purged at start, before
# the mesh replays the store), one 3 s ahead (purged by the timer while the
# daemon runs), one left alone (kept). Then, after a clean stop, the ids
# of the purged ones are nowhere in tocsin.db (secure_delete).
. "$TH_LIB"
: "${TOCSIN:?}"
th_init

tc() { "$TOCSIN" --home "$TH_DIR/n1" "$@"; }
jget() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }
ids() { tc alerts --json | python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["id"] for l in sys.stdin if l.strip())))'; }

mkdir -m 700 "$TH_DIR/n1"
th_start n1
tc init --json >/dev/null || th_fail "init"
tc network create exp-net --json >/dev/null || th_fail "network create"
A=$(tc drill "past-expiry-text-4242" --json | jget alert) || th_fail "drill A"
B=$(tc drill "soon-expiry-text-4343" --json | jget alert) || th_fail "drill B"
C=$(tc panic "kept-text-4444" --json | jget alert) || th_fail "panic C"
[ "$(ids | wc -w)" = 3 ] || th_fail "3 alerts expected: $(ids)"
th_stop n1

python3 - "$TH_DIR/n1/data/tocsin.db" "$A" "$B" <<'PY' || th_fail "cannot edit the store"
import sqlite3, sys, time
db, a, b = sys.argv[1:]
now = int(time.time() * 1000)
c = sqlite3.connect(db)
assert c.execute("UPDATE alerts SET expires_ms=? WHERE hex(id)=upper(?)", (now - 1000, a)).rowcount == 1
assert c.execute("UPDATE alerts SET expires_ms=? WHERE hex(id)=upper(?)", (now + 3000, b)).rowcount == 1
c.commit()
c.close()
PY

t0=$(th_now_us)
th_start_at n1 0
th_wait_log n1 'alerts_expired purged=1' 5
left=$(ids)
case " $left " in *" $A "*) th_fail "the expired alert is still listed" ;; esac
case " $left " in *" $B "*) ;; *) th_fail "the alert not yet expired was purged: $left" ;; esac
th_pass "an alert past its expiry is purged at start"

gone_b() { ! ids | grep -q "$B"; }
th_poll 10 gone_b || th_fail "the alert did not go at its expiry (still: $(ids))"
t1=$(th_now_us)
[ "$(ids)" = "$C" ] || th_fail "the live alert was purged too: $(ids)"
th_pass "an alert is purged by the timer at its expiry ($(((t1 - t0) / 1000)) ms after start, due at ~3000 ms); the live one stays"

th_stop n1
# Alert texts are sealed in their envelopes; look for the alerts' ids (raw
# bytes: the primary key and the id index) instead.
python3 - "$TH_DIR/n1/data/tocsin.db" "$A" "$B" "$C" <<'PY' || th_fail "purged alerts left in tocsin.db"
import sys
db = open(sys.argv[1], "rb").read()
a, b, c = (bytes.fromhex(x) for x in sys.argv[2:])
assert c in db, "the kept alert's id is not in tocsin.db: the check proves nothing"
for x in (a, b):
    assert x not in db, "a purged alert's id is still in tocsin.db"
PY
th_pass "purged alerts' ids are gone from tocsin.db after a clean stop (secure_delete); the kept one is there"
