/* Likely duplicates in the store: the cards that look like a given card
 * (on create, import and edit), and every such pair at once (the bulk
 * scan). Candidates are found by blocking keys, never by comparing all
 * pairs: the same email key, the same E.164 phone, a shared folded name
 * word, and in the scan the same birth date; the matcher (match.h)
 * scores them. Merged cards (merged_into set) and erased cards are never
 * candidates. Like the rest of the store this layer enforces no
 * permissions. Every function returns 0 or a negative CARTA_E* code. */
#ifndef CARTAD_STORE_MATCH_H
#define CARTAD_STORE_MATCH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "match.h"
#include "query.h"
#include "store.h"

/* The most candidates store_match_card returns, and the most cards one
 * name word brings to be compared. */
#define STORE_MATCH_CANDIDATES_MAX 20
#define STORE_MATCH_NAME_ROWS_MAX  20000

/* The cards that look like card (not yet stored, or stored: its own id is
 * left out), scoring at least min_score (<= 0: match_config()'s), best
 * first (score, then number), at most STORE_MATCH_CANDIDATES_MAX, scored
 * without the sections in hidden (store_actor.hidden) on either side. card
 * must have been validated (phones in E.164). Each candidate has number,
 * score, reasons and name ("given family", or the company); the caller
 * MUST clear name (set it to "") when the caller may not read identity.
 * *out (an array of *n, NULL when none) is freed with
 * store_match_free. store_match_card runs in its own read snapshot;
 * store_match_card_conn on a connection inside the caller's transaction
 * (an import's write transaction: cards of the same batch see each
 * other). */
int store_match_card(store *s, const Carta__V1__Card *card, double min_score,
		     uint32_t hidden, Carta__V1__DuplicateCandidate ***out,
		     size_t *n);
int store_match_card_conn(sqlite3 *conn, const Carta__V1__Card *card,
			  double min_score, uint32_t hidden,
			  Carta__V1__DuplicateCandidate ***out, size_t *n);
void store_match_free(Carta__V1__DuplicateCandidate **v, size_t n);

/* The scan. */
#define STORE_MATCH_PAIRS_MAX 1000000 /* beyond: CARTA_ETOOBIG */
#define STORE_MATCH_BLOCK_MAX 2000    /* cards sharing one key */

typedef struct {
	uint32_t a, b; /* indexes into numbers and names; a's number first */
	match_result m;
	uint32_t group; /* from 1: pairs sharing a card share a group */
} store_match_pair;

typedef struct {
	store_match_pair *pairs; /* grouped (groups in order of their best
				    pair), best first within a group */
	size_t n;
	char **numbers, **names; /* per card scanned */
	uint64_t cards;		 /* cards scanned */
	uint64_t blocks_skipped; /* keys shared by too many cards */
} store_match_scan_result;

/* Every pair of cards scoring at least min_score (<= 0: the default),
 * among the cards that plan's filter selects (plan NULL: all cards), in
 * one snapshot. Keys shared by more than STORE_MATCH_BLOCK_MAX cards are
 * skipped (counted in blocks_skipped): their pairs are found only through
 * another key. Free *out with store_match_scan_free in every case. */
int store_match_scan(store *s, const query_plan *plan, double min_score,
		     store_match_scan_result *out);
void store_match_scan_free(store_match_scan_result *r);

/* Orders numbers as the store makes them: shorter first, then bytes. */
int store_match_number_cmp(const char *a, const char *b);

#endif
