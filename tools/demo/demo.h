/* Deterministic demo cards: realistic customers (mostly Spanish, some
 * from elsewhere) with contact points, demographics, purchases,
 * interactions, notes, preferences and consents, all of them values the
 * server accepts, and a few planted near-duplicates of earlier cards for
 * the duplicate check and search to find.
 *
 * The same seed and count always give the same cards, on any machine and
 * on any day: there is no clock (dates are drawn before the fixed
 * DEMO_REF_DATE), no rand() and no locale. Card i (from 0) has the
 * external id "DEMO-%06u" of i + 1. */
#ifndef CARTA_DEMO_H
#define CARTA_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"

/* The day the data is as of: every date is before it. */
#define DEMO_REF_DATE "2026-12-01"

/* "DEMO-000001" and a NUL, with room to spare. */
#define DEMO_ID_SIZE 16

/* The most cards one generator makes. */
#define DEMO_COUNT_MAX 1000000u

/* What a planted near-duplicate varies from its original, as a
 * comma-separated list of these words:
 *   no_accents   names without their marks ("Jose Garcia")
 *   upper_case   names in upper case ("JOSÉ GARCÍA")
 *   nfd          names in Unicode NFD instead of NFC
 *   swapped      given and family name swapped
 *   phone_format the first phone typed another way (same E.164 number)
 *   email_upper  the first email in upper case
 *   email_tag    the first email with a "+tag" in its local part
 * Everything else of identity, contact and demographics is the same
 * (birth date, postal code, company ...), except the external id; the
 * lists (purchases, interactions, notes, preferences, consents) are the
 * duplicate's own. */
#define DEMO_VARIED_SIZE 96

typedef struct demo_gen demo_gen;

/* Why the card just made is there. */
typedef struct {
	int is_duplicate;	       /* a planted near-duplicate */
	unsigned original;	       /* then: its original's index */
	char varied[DEMO_VARIED_SIZE]; /* then: what differs */
} demo_info;

/* A generator of count cards (at most DEMO_COUNT_MAX) from seed. Returns
 * 0 with *out the caller's (free with demo_gen_free), CARTA_EINVAL for a
 * count too large, or CARTA_ENOMEM. */
int demo_gen_new(uint64_t seed, unsigned count, demo_gen **out);

/* Makes the next card. Returns 1 with *card the caller's (free with
 * carta__v1__card__free_unpacked(*card, NULL)) and *info saying whether
 * it is a planted duplicate; 0 when all count cards have been made; or
 * CARTA_ENOMEM (the generator may then be freed only). */
int demo_gen_next(demo_gen *g, Carta__V1__Card **card, demo_info *info);

/* How many near-duplicates a run of count cards plants: none below 10
 * cards, 1 below 100, then about 1 per 100 and at least 3. */
unsigned demo_duplicates(unsigned count);

/* The external id of card index: "DEMO-000001" for index 0. */
void demo_external_id(unsigned index, char out[DEMO_ID_SIZE]);

/* Frees g (NULL is a no-op). */
void demo_gen_free(demo_gen *g);

#endif
