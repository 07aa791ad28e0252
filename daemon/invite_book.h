/* tocsind: the coordinator's invite book at rest (docs/daemon.md "The
 * invite book").
 *
 * The node keeps the outstanding invites (their one-time secrets, used or
 * not); one-time use must survive a restart, so the book is written to the
 * store's meta table whenever it changes. It is sealed there
 * (XChaCha20-Poly1305, random nonce) under a key derived with
 * crypto_kdf_derive_from_key from this device's link secret: a copy of
 * the database alone does not give the invite secrets. With a
 * passphrase-protected keystore that key is as safe as the keystore;
 * without one, it is as safe as the keystore file next to it.
 *
 * Alongside each invite the book keeps the name the coordinator gave
 * (`tocsin invite --name`), and once the invite is used, which member it
 * admitted under that name, so the audit log can show both the name the
 * newcomer chose and the one she was invited as. */
#ifndef TD_INVITE_BOOK_H
#define TD_INVITE_BOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "store.h"
#include "tocsin/identity.h"
#include "tocsin/invite.h"
#include "tocsin/node.h"

typedef struct td_invbook td_invbook;

TN_NODISCARD tn_err td_invbook_new(td_invbook **out, td_store *store, td_log *log);
/* Wipes everything. NULL is fine. */
void td_invbook_del(td_invbook *b);

/* Read the stored book into node. A sealed book that does not open (another
 * identity, damage) or a malformed one is ignored with a warning. A book
 * written unsealed by an earlier version is taken over and at once written
 * back sealed (the migration). TN_OK or TN_ERR_NOMEM / a store error. */
TN_NODISCARD tn_err td_invbook_load(td_invbook *b, tn_node *node, const tn_identity *id);

/* The stored book alone (tests/tools/secrets): TN_OK with *out and the
 * format it was in (1 unsealed, 2 sealed; dropped: format-1 invites left
 * out), TN_ERR_NOTFOUND (none stored), TN_ERR_AUTH (does not open or is
 * malformed), a store error. Wipe *out with tn_invite_book_free. */
TN_NODISCARD tn_err td_invbook_read(td_invbook *b, const tn_identity *id, tn_invite_book *out,
                                    int *version, size_t *dropped);

/* Write the node's book if it changed since the last write. */
void td_invbook_save(td_invbook *b, const tn_node *node, const tn_identity *id);

/* The invite just made is for name (kept until the invite leaves the book). */
void td_invbook_named(td_invbook *b, const tn_invite *inv, tn_view name);

/* Our node admitted member (JOINED, coordinator side): tie her to the
 * invite that was redeemed (the most recently used one not tied yet: the
 * node redeems the invite and emits JOINED in the same call, and the
 * daemon handles events after each call, so that is hers).
 * Returns the name she was invited as, or NULL. */
const char *td_invbook_joined(td_invbook *b, const tn_node *node, const tn_pubkey *member);

/* The name member was invited as on this device, or NULL. */
const char *td_invbook_invited_as(const td_invbook *b, const tn_pubkey *member);

#endif
