/* The store: everything cartad keeps, behind one narrow interface so that
 * no SQL leaks into the protocol, policy or connection code (and another
 * engine could stand behind it). SQLite in WAL mode today.
 *
 * A store handle may be used from several threads at once. Calls block:
 * make them on worker threads, never on the event loop. Reads run in
 * parallel on reader connections; writes go through one writer thread that
 * commits waiting writes together and returns once they are durable.
 * Every function returns 0 or a negative CARTA_E* code. */
#ifndef CARTAD_STORE_H
#define CARTAD_STORE_H

#include <stdint.h>

#include "keys.h"

#define STORE_SCHEMA_VERSION 9
#define STORE_NAME_MAX	     64

/* Values match carta.v1.Role and carta.v1.PrincipalState. */
enum { STORE_ROLE_MEMBER = 1, STORE_ROLE_ADMIN = 2, STORE_ROLE_BRANCH = 3 };
enum { STORE_STATE_ACTIVE = 1, STORE_STATE_REVOKED = 2 };

/* "member", "admin", "branch"; "active", "revoked"; "unknown" else. */
const char *store_role_name(int role);
const char *store_state_name(int state);

typedef struct store store;

/* Who writes: recorded in the audit log and on appended items. hidden:
 * the sections (1 << section) the actor may not read, which what the
 * store tells it besides the card (the duplicate check's evidence) must
 * not depend on; 0 for an admin or the store's own tools. */
typedef struct {
	const char *principal;
	const char *department;
	uint32_t hidden;
} store_actor;

typedef struct {
	int64_t id;
	char name[STORE_NAME_MAX + 1];
	char department[STORE_NAME_MAX + 1];
	int role;
	int state;
	uint8_t public_key[KEY_LEN];
	int64_t created_at;
	int64_t revoked_at;
} store_principal;

/* Opens (creating when create is non-zero, refusing otherwise when the file
 * is missing) the database at path and applies pending migrations, each in
 * its own transaction. *out is released with store_close. */
int store_open(const char *path, int create, store **out);
void store_close(store *s);

/* Begins shutdown without blocking (safe on the loop): queued writes
 * still commit; later calls fail with CARTA_ESTATE. */
void store_shutdown(store *s);

/* The schema version in force (after migrations). */
int store_schema_version(store *s);

int store_department_add(store *s, const char *name);

/* CARTA_ENOENT when no principal has this key. */
int store_principal_by_key(store *s, const uint8_t key[KEY_LEN],
			   store_principal *out);

/* CARTA_ENOENT when no principal has this name. */
int store_principal_by_name(store *s, const char *name, store_principal *out);

/* CARTA_ENOENT when the department does not exist, CARTA_EEXIST when the
 * name or the key is taken. */
int store_principal_add(store *s, const store_actor *who, const char *name,
			const char *department, int role,
			const uint8_t key[KEY_LEN], store_principal *out);

/* Marks the principal revoked (idempotent). CARTA_ENOENT when unknown.
 * Enrolments and revocations are audited. */
int store_principal_revoke(store *s, const store_actor *who, const char *name,
			   store_principal *out);

/* Calls fn for each principal by name; stops early when fn returns non-0
 * and returns that value. */
int store_principal_each(store *s,
			 int (*fn)(void *user, const store_principal *p),
			 void *user);

#endif
