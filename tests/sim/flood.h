/* The flood host: a trivial gossip protocol that proves the ENGINE, not
 * Tocsin. Each host keeps the set of items it holds (on its "disk", so a
 * crash loses nothing), links to its overlay neighbours, and:
 *   - on a new item: sends it on every open connection but the source;
 *   - on connect: sends a summary (the set it holds); on a summary: sends
 *     every item the other side lacks;
 *   - on a lost or refused connection: redials its missing neighbours after
 *     a jittered interval, until they are back.
 * At first boot a host dials only its higher-numbered neighbours, so each
 * overlay edge gets one connection; after a crash, a wake or a loss it dials
 * every neighbour it has no connection with.
 *
 * Wire: frames of type (1 byte), body length (2 bytes, big-endian), body.
 * SUMMARY's body is the 64-bit set; ITEM's is the item index then `payload`
 * filler bytes. Every frame sent is counted with sim_note_frames. */
#ifndef TOCSIN_SIM_FLOOD_H
#define TOCSIN_SIM_FLOOD_H

#include "overlay.h"
#include "sim.h"

enum {
	FLOOD_MAX_ITEMS = 64,
	FLOOD_MAX_PAYLOAD = 4096,
};

typedef struct flood_cfg {
	const sim_overlay *ov; /* host i's neighbours; must outlive the flood */
	size_t payload;        /* ITEM filler bytes, <= FLOOD_MAX_PAYLOAD */
	tn_time redial;        /* redial after redial + uniform [0, redial) */
} flood_cfg;

typedef struct flood flood;

/* TN_OK, TN_ERR_INVAL (payload too big, redial 0), TN_ERR_NOMEM. */
TN_NODISCARD tn_err flood_new(flood **out, sim *s, const flood_cfg *cfg);
/* Frees the class (the sim must be deleted first: it halts the hosts). */
void flood_del(flood *f);

/* Add ov->n hosts; the sim must have none yet, so host i is vertex i. */
TN_NODISCARD tn_err flood_add_hosts(flood *f);

/* A new item at origin (online), live until expiry: recorded with
 * sim_item_new, held by origin, pushed to its open connections. Not from
 * inside a host callback (use sim_at). *item gets the sim item id.
 * TN_ERR_STATE (origin not online), TN_ERR_LIMIT (64 items), TN_ERR_NOMEM. */
TN_NODISCARD tn_err flood_inject(flood *f, sim_host_id origin, tn_time expiry, sim_item_id *item);

/* Open connections of host h (0 when down). */
size_t flood_open_links(const flood *f, sim_host_id h);

#endif
