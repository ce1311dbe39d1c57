/* Shared by the store's own files only: running work on a connection
 * inside a transaction. Nothing outside server/store*.c includes it. */
#ifndef CARTAD_STORE_INTERNAL_H
#define CARTAD_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

typedef int (*store_fn)(sqlite3 *conn, void *arg);

/* Runs fn inside a transaction: a write transaction when write is
 * non-zero (committed when fn returns 0, rolled back otherwise), a read
 * snapshot otherwise. Returns fn's result or a CARTA_E* code. */
int store_run(store *s, int write, store_fn fn, void *arg);

/* Appends one audit entry inside the caller's write transaction. */
int store_audit_append(sqlite3 *conn, const store_actor *who,
		       const char *card_id, int section, const char *action,
		       const char *old_value, const char *new_value);

/* Maps an SQLite result code to a CARTA_E* code (0 for OK/ROW/DONE). */
int store_map_rc(int rc);

#endif
