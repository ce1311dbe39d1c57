/* Merging two cards of one person into one, and undoing it
 * (docs/MERGE.md). A merge runs in one write transaction: it plans what
 * moves where, asks the caller whether the sections it would change may
 * be written, writes, bumps the versions of every changed section of
 * both cards, audits and keeps what undoing it needs. A dry run takes the
 * same path and rolls back at the end, so its plan is the real one.
 *
 * Like the rest of the store, this layer enforces no permissions itself:
 * the check callback does, before anything is written. */
#ifndef CARTAD_STORE_MERGE_H
#define CARTAD_STORE_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "store.h"

/* Called once the sections a merge or unmerge changes are known (bits
 * 1 << section, of both cards together), before anything is written.
 * Returns 0 to go on; anything else stops the request with that result
 * and nothing is written. */
typedef int (*store_merge_check_fn)(void *ud, uint32_t sections);

/* Error texts for a person: they name cards by number and sections by
 * name, never values. */
#define STORE_MERGE_MSG_MAX 200

typedef struct {
	const char *survivor; /* refs: number, id, stored email or E.164 */
	const char *other;
	/* "identity.given_name", "preferences.KEY", "custom.FIELD" or
	 * "SECTION.FIELD" for a custom field: other's value wins there. */
	char *const *prefer_other;
	size_t n_prefer;
	int dry_run;
	store_merge_check_fn check;
	void *check_ud;
} store_merge_req;

/* Merges req->other into req->survivor. *out (the caller's, free with
 * carta__v1__merge_plan__free_unpacked) is the plan: every change, and
 * the survivor as it is after (or would be, for a dry run: merge_id is
 * then empty). Errors, with msg saying why: CARTA_ENOENT (a ref finds no
 * card), CARTA_EEXIST (a ref matches several cards), CARTA_EINVAL (the
 * same card twice, a malformed prefer), CARTA_ESTATE (a card merged or
 * erased already, an invoice on both cards, too many contact points),
 * CARTA_ETOOBIG (the merged card would be too large), or what check
 * returned. */
int store_merge(store *s, const store_actor *who, const store_merge_req *req,
		Carta__V1__MergePlan **out, char msg[STORE_MERGE_MSG_MAX]);

/* Undoes the merge merge_id: both cards as they were before it (apart
 * from versions and update times), the items and history entries moved
 * back, the history entries it added removed. CARTA_ENOENT when there is
 * no such merge; CARTA_ESTATE when it was undone already or a section it
 * changed was edited since (msg names the section, card and versions).
 * *out has merge_id, the numbers, one change per restored section and
 * the survivor as it is after. */
int store_unmerge(store *s, const store_actor *who, const char *merge_id,
		  store_merge_check_fn check, void *check_ud,
		  Carta__V1__MergePlan **out, char msg[STORE_MERGE_MSG_MAX]);

#endif
