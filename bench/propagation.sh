#!/usr/bin/env bash
# bench/propagation.sh N: N real tocsind daemons (mkmesh, loopback, the
# `build` binaries), PANICS (100) panics from random members SPACING (0.2 s)
# apart within each author's rate limit; time to all from the author's send
# (before the client runs) to the last other member's on_alert hook; link
# bytes, frames and ALERT messages per node per alert (status counters);
# CPU (utime + stime of the daemons). bench/README.md has figures.
#   bench/propagation.sh 64
#   SEED=2 PANICS=50 SPACING=0.5 bench/propagation.sh 16
. "$(dirname "$0")/propagation_lib.sh"
N=${1:?usage: bench/propagation.sh N}
th_init
pb_schedule "$N"
rc=0
pb_tocsin "$N" || { rc=1; echo "LOST ALERTS: $(cat "$TH_DIR/report")"; }
cat "$TH_DIR/tocsin.lat" "$TH_DIR/tocsin.cost"
exit $rc
