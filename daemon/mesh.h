/* tocsind: the member's protocol node driven over TCP (DESIGN §2, §4, §6-§8;
 * docs/daemon.md "The mesh").
 *
 * td_mesh owns the tn_roster (folded from the store's roster_records), the
 * tn_node_roster membership adapter, the tn_node, the sockets (conn.h) and
 * ONE uv_timer re-armed from tn_node_next_deadline after every node call.
 * The glue is the one STYLE §7 describes: read -> tn_node_link_recv, then
 * pump: drain events (DIAL, CLOSE_LINK, STORE_ALERT, NOTIFY, RECEIPT,
 * RECEIPTED, ...), flush tn_node_link_out into bounded uv_writes, re-arm
 * the timer. At every wakeup the monotonic and wall deltas are compared: a
 * jump (suspend, clock change) is reported with tn_node_wake.
 *
 * Before the device is in a network (no roster records) there is no node:
 * accepted sockets get the silent treatment (conn.h) and the network ops
 * answer "no_network". */
#ifndef TD_MESH_H
#define TD_MESH_H

#include <uv.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "store.h"
#include "tocsin/identity.h"

typedef struct td_mesh td_mesh;

/* Create the mesh; joins the network found in the store if any (replays
 * the roster records, then the stored alerts and receipts into the node).
 * identity may be NULL (not initialised: no network possible until
 * td_mesh_set_identity). Returns TN_OK or an error (logged). */
TN_NODISCARD tn_err td_mesh_new(td_mesh **out, uv_loop_t *loop, td_log *log, td_store *store,
                                const td_config *cfg, const tn_identity *identity);
/* After tocsin init: adopt the identity (and the network in the store). */
tn_err td_mesh_set_identity(td_mesh *m, const tn_identity *identity);
/* The bound listener address ("127.0.0.1:7450"): the founder's endpoint. */
void td_mesh_set_listen(td_mesh *m, const char *bound);
/* The config was reloaded ([network] advertise may have changed): publish
 * a new endpoint record if our address changed. */
void td_mesh_config_changed(td_mesh *m);
/* One line for status: "no network" or the network and its links. */
void td_mesh_describe(td_mesh *m, char *out, size_t cap);

/* Every nonzero drop and rejection counter since start, for status:
 * "group.name=value" separated by spaces (link.rej_mac=3 alert.bad_signature=1
 * conn.evicted=468 ...), in a fixed order; "" when none (without a network
 * only conn).
 * Groups: conn (sockets refused or evicted at the cap), link (tn_link_stats), alert
 * (tn_alert_reason), receipt (tn_receipt_reason), node (tn_node_counter). */
void td_mesh_counters(td_mesh *m, char *out, size_t cap);
/* Desktop notifications, for status: "connected", "off", ... (notify.h). */
const char *td_mesh_desktop_state(const td_mesh *m);
/* Where NOTIFY and receipt events go (may be NULL). */
void td_mesh_set_control(td_mesh *m, td_control *ctl);
/* The listener's connection callback (status 0). */
void td_mesh_accept(td_mesh *m, uv_stream_t *server);
/* Links up, for status. */
size_t td_mesh_links(const td_mesh *m);
/* The network ops of the control socket (td_ctl_host.net). */
td_ctl_code td_mesh_ctl(td_mesh *m, const td_ctl_req *req, td_ctl_msg *reply, char *msg,
                        size_t msglen);
/* Close every socket and the timer (shutdown); free after the loop ran. */
void td_mesh_stop(td_mesh *m);
void td_mesh_del(td_mesh *m);

#endif
