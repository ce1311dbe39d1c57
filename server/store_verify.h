/* Verification and freshness: when each section and contact point of a
 * card was last confirmed with the customer, and how; the cards due for a
 * confirmation, with the channel to ask by; the figures of
 * `carta admin stats`. docs/VERIFY.md has the rules.
 *
 * A confirmation changes no data: it moves no version, so it never makes
 * a concurrent edit conflict. Every confirmation is audited ("verify").
 * Like the rest of the store this layer enforces no permissions: the
 * caller says which sections it may confirm. */
#ifndef CARTAD_STORE_VERIFY_H
#define CARTAD_STORE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "store.h"

/* Sections that hold current facts about the person and so can go stale:
 * identity, contact, demographics, preferences and consent (purchases,
 * interactions and notes record events; nothing in them is confirmed). */
#define STORE_VERIFY_SECTIONS                                                  \
	((1u << CARTA__V1__SECTION__SECTION_IDENTITY) |                        \
	 (1u << CARTA__V1__SECTION__SECTION_CONTACT) |                         \
	 (1u << CARTA__V1__SECTION__SECTION_DEMOGRAPHICS) |                    \
	 (1u << CARTA__V1__SECTION__SECTION_PREFERENCES) |                     \
	 (1u << CARTA__V1__SECTION__SECTION_CONSENT))

/* Whether source names a way of confirming: phone, email, visit or form. */
bool store_verify_source_valid(const char *source);

/* Records that the customer confirmed the card ref (resolved as
 * store_card_get does) by source at time now, in one write transaction.
 * With section != 0 that section is confirmed (it must be in
 * STORE_VERIFY_SECTIONS: CARTA_EINVAL otherwise); with section 0 every
 * section of STORE_VERIFY_SECTIONS in writable (a mask of 1 << section)
 * in which the card holds data. Confirming the contact section confirms
 * each of its contact points too. *confirmed receives the mask of the
 * sections confirmed and *out the card after it (the caller's).
 * CARTA_ENOENT: no such card; CARTA_EEXIST: the ref matches several;
 * CARTA_ESTATE: the card was erased; CARTA_EPERM: section 0 and the card
 * holds data in none of the writable sections. */
int store_verify_confirm(store *s, const store_actor *who, const char *ref,
			 int section, uint32_t writable, const char *source,
			 int64_t now, uint32_t *confirmed,
			 Carta__V1__Card **out);

/* Records that an edit made through a channel (source, already checked
 * with store_verify_source_valid) confirmed what it set: the section
 * edited, and for the contact section the contact points at the positions
 * the sets (paths such as "phones.1.number", applied in order; "LIST.N"
 * with an empty value removes item N) added or changed. card is the card
 * store_card_edit returned; it is updated in place to show the
 * verification. When the section moved on since that edit (another write
 * came between) nothing is recorded and 0 is returned: the points at
 * those positions may no longer be the ones the edit set. */
int store_verify_edit(store *s, const store_actor *who, int section,
		      const char *source, Carta__V1__FieldSet *const *sets,
		      size_t nsets, Carta__V1__Card *card);

/* One page of the cards due for confirmation of section (in
 * STORE_VERIFY_SECTIONS): not merged, not erased, not archived, and the
 * section last confirmed before cutoff (Unix seconds) or never. Oldest
 * confirmation first (never first of all), then by number. cursor is ""
 * or a next_cursor of a previous page (CARTA_EINVAL when malformed).
 * *out is the caller's. */
int store_verify_due(store *s, int section, int64_t cutoff, const char *cursor,
		     unsigned limit, Carta__V1__VerifyDuePage **out);

/* The figures of `carta admin stats` at time as_of. */
typedef struct {
	uint64_t cards;		  /* not merged and not erased */
	uint64_t verified_within; /* of those, contact confirmed in
				     [as_of - period, as_of] */
	uint64_t merged;	  /* merged into another card */
	uint64_t erased;
	uint64_t suppressions;
} store_verify_stats;

int store_verify_stats_get(store *s, int64_t as_of, int64_t period,
			   store_verify_stats *out);

#endif
