/* Shared by the store's own files only: running work on a connection
 * inside a transaction. Nothing outside server/store*.c includes it. */
#ifndef CARTAD_STORE_INTERNAL_H
#define CARTAD_STORE_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>

#include "store.h"
#include "store_card.h"

typedef int (*store_fn)(sqlite3 *conn, void *arg);

/* Runs fn inside a transaction: a write transaction when write is
 * non-zero (committed when fn returns 0, rolled back otherwise), a read
 * snapshot otherwise. Returns fn's result or a CARTA_E* code. */
int store_run(store *s, int write, store_fn fn, void *arg);

/* Appends one audit entry inside the caller's write transaction. */
int store_audit_append(sqlite3 *conn, const store_actor *who,
		       const char *card_id, int section, const char *action,
		       const char *old_value, const char *new_value);

/* The card steps of store_card.c on a connection already inside the
 * caller's write transaction (store_import.c strings several together).
 * find resolves a ref as store_card_get does; add, edit and append are
 * store_card_add (without request key), store_card_edit (without version
 * check, on a card id) and store_append (on a card id). *out of load and
 * add is the caller's. */
int store_conn_find(sqlite3 *conn, const char *ref, char id[33]);
int store_conn_load(sqlite3 *conn, const char *id, Carta__V1__Card **out);
int store_conn_add(sqlite3 *conn, const store_actor *who,
		   const Carta__V1__Card *card, Carta__V1__Card **out);
int store_conn_edit(sqlite3 *conn, const store_actor *who, const char *id,
		    int section, store_apply_fn apply, void *arg);
int store_conn_append(sqlite3 *conn, const store_actor *who, const char *id,
		      int section, const ProtobufCMessage *item);

/* Writes what c holds for section over what card id had (for purchases,
 * interactions and notes: their custom values; the items move on their
 * own); moves the section's and the card's versions on (*version: the
 * section's new one, may be NULL); whether c without its recent lists
 * fits one answer (CARTA_ETOOBIG otherwise). */
int store_conn_write_section(sqlite3 *conn, const char *id, int section,
			     const Carta__V1__Card *c);
int store_conn_bump(sqlite3 *conn, const char *id, int section,
		    uint64_t *version);
int store_conn_card_fits(Carta__V1__Card *c);

/* One section of a card as the audit log records it: a new JSON object
 * (its custom values under "custom"), or NULL when out of memory. */
json_t *store_section_json(const Carta__V1__Card *c, int section);

/* Maps an SQLite result code to a CARTA_E* code (0 for OK/ROW/DONE). */
int store_map_rc(int rc);

/* Statement helpers of the store's files. store_prep prepares sql on
 * conn (*st the caller's to finalize; NULL on error). store_step_done
 * steps a statement that returns no row and finalizes it, whatever the
 * result. store_bind_text binds t (NULL as "") without copying it: t
 * must outlive the statement's use. */
int store_prep(sqlite3 *conn, const char *sql, sqlite3_stmt **st);
int store_step_done(sqlite3_stmt *st);
void store_bind_text(sqlite3_stmt *st, int i, const char *t);

/* A new card with an empty identity, contact and demographics, which
 * every card read from the store has; NULL when out of memory. */
Carta__V1__Card *store_card_skeleton(void);

/* Takes the next number of the counter name (customer_number,
 * merge_number) and formats it as PREFIX-000042 into out. 0 or a CARTA_E*
 * code. */
int store_next_number(sqlite3 *conn, const char *name, char prefix, char *out,
		      size_t cap);

/* *version = the version of section of card id, 0 when the card has no
 * such section yet; 0 or a CARTA_E* code. */
int store_conn_section_version(sqlite3 *conn, const char *id, int section,
			       int64_t *version);

#endif
