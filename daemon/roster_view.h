/* tocsind: what `tocsin members` and `tocsin audit` show of the roster, and
 * when each member was last seen (docs/control.md). Kept out of mesh.c:
 * pure views of a tn_roster plus one small persisted table. */
#ifndef TD_ROSTER_VIEW_H
#define TD_ROSTER_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "invite_book.h"
#include "log.h"
#include "store.h"
#include "tocsin/identity.h"
#include "tocsin/roster.h"

/* ---- last seen ------------------------------------------------------------
 *
 * The last time a link with a member was up, or something she signed (an
 * alert, a receipt, a roster record) arrived - the signed thing's own
 * created time, capped at now, so a roster handed over at a join does not
 * make everyone look seen at that moment. Kept in memory and written to
 * the store (member_seen) at most once a minute per member, at once when a
 * link goes down, and for everyone at td_seen_flush. */
typedef struct td_seen td_seen;

TN_NODISCARD tn_err td_seen_new(td_seen **out, td_store *store, td_log *log);
/* Write what is not written yet, then free. NULL is fine. */
void td_seen_del(td_seen *s);
/* Seen at ms (ignored when older than what is known). force: write now. */
void td_seen_touch(td_seen *s, const tn_pubkey *pk, uint64_t ms, uint64_t now_ms, bool force);
/* Something signed in a roster record: its issuer at its created time. */
void td_seen_record(td_seen *s, const uint8_t *rec, size_t len, uint64_t now_ms);
/* 0 when never seen. */
uint64_t td_seen_get(const td_seen *s, const tn_pubkey *pk);
void td_seen_flush(td_seen *s);

/* ---- lists ------------------------------------------------------------------ */

/* Is a link with pk up now? */
typedef bool (*td_linked_fn)(void *ud, const tn_pubkey *pk);

/* Every member ever admitted: id, fingerprint, name, role, active, revoked,
 * self, linked, safety_number (with self; not for self), last_seen_ms
 * (absent when never seen; now when linked), endpoint (her newest
 * unexpired address, when any). NULL on out of memory. */
json_t *td_members_json(tn_roster *ro, const tn_identity *self, td_seen *seen, td_linked_fn linked,
                        void *ud, uint64_t now_ms);

/* Every accepted roster record, ordered by (created_ms, id) like the
 * roster's audit (the same order on every node): n (position), id (16 hex
 * of the record id), type, status, issuer, issuer_name, iseq, created_ms,
 * and per type subject, subject_name, role, epoch, part, parts, pin_seq,
 * reason, endpoints, expires_ms, network (genesis), and invited_as (an add
 * of someone this device invited: the name given to tocsin invite). NULL
 * on out of memory. */
json_t *td_audit_json(tn_roster *ro, const td_invbook *book);

/* Short names for the audit and logs. */
const char *td_roster_type_name(unsigned type);
const char *td_roster_status_name(unsigned status);

#endif
