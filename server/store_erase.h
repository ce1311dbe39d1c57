/* Erasure and suppression: removing a person's personal data from the
 * store (every section, the search index, the audit log's old and new
 * values) in one write transaction, and remembering keyed hashes of their
 * normalised emails and phones so that a later import or create of the
 * same person is reported instead of silently recreating them.
 *
 * The suppression key is derived (crypto_kdf, context "cartasup") from the
 * server's static private key, read from server.key beside the database
 * (the data directory's layout, init.h) when it is needed, and wiped after
 * use: no key is kept in memory between calls and none is stored in the
 * database. A store without server.key beside it can erase nothing
 * (CARTA_ESTATE); it can still check, as long as nothing was suppressed.
 * See docs/ERASURE.md for what is erased and what is kept. */
#ifndef CARTAD_STORE_ERASE_H
#define CARTAD_STORE_ERASE_H

#include <sqlite3.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "store.h"

#define STORE_SUPPRESSION_KEY_LEN 32

/* Kinds of suppressions rows: the contact point kinds they came from. */
enum { STORE_SUPPRESS_EMAIL = 1, STORE_SUPPRESS_PHONE = 2 };

typedef struct {
	char number[32];	 /* the erased card's customer number */
	uint64_t cards;		 /* the card and those merged into it */
	uint64_t audit_redacted; /* audit entries whose values were blanked */
	uint64_t suppressions;	 /* suppression hashes newly added */
} store_erase_result;

/* Erases the card ref resolves to (following merge pointers to the
 * survivor) and every card merged into it, keeping number, id, dates and
 * merge pointers as a tombstone (status "archived", erased_at set), and
 * appends one audit entry (action "erase", new value {"reason": reason}).
 * An already erased card may be erased again (new data written to the
 * tombstone since is removed; the reason is audited once more).
 * CARTA_ENOENT: no card matches; CARTA_EEXIST: several do; CARTA_ESTATE:
 * no suppression key (server.key missing beside the database). */
int store_erase(store *s, const store_actor *who, const char *ref,
		const char *reason, store_erase_result *out);

/* Derives the suppression key of the database conn belongs to into key
 * (the caller wipes it with sodium_memzero). 0, CARTA_ENOENT when there
 * is no server.key beside the database, or the error of reading it. */
int store_suppression_key(sqlite3 *conn,
			  uint8_t key[STORE_SUPPRESSION_KEY_LEN]);

/* Sets *suppressed to 1 when one of card's emails or phones (as stored:
 * validated by card.c, phones in E.164) was erased before, 0 otherwise.
 * key NULL: derived here when needed (when the suppressions table is
 * empty, no key is needed and *suppressed is 0); pass a key from
 * store_suppression_key to check many cards in one transaction. Runs on
 * the caller's connection, inside its transaction. */
int store_suppressed_conn(sqlite3 *conn, const uint8_t *key,
			  const Carta__V1__Card *card, int *suppressed);

/* store_suppressed_conn in a read transaction of its own. */
int store_suppressed(store *s, const Carta__V1__Card *card, int *suppressed);

#endif
