#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carta_error.h"
#include "log.h"
#include "store_internal.h"

struct store {
	sqlite3 *db;
	/* One connection serialised by a mutex: enough for principals and
	 * pings. Reader connections in parallel come with the card store. */
	pthread_mutex_t lock;
};

/* Migration N brings the schema from version N-1 to N. */
static const char *const migrations[] = {
    /* 1: principals and departments */
    "CREATE TABLE departments ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE principals ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  department_id INTEGER NOT NULL REFERENCES departments(id),"
    "  role INTEGER NOT NULL CHECK (role IN (1, 2, 3)),"
    "  state INTEGER NOT NULL CHECK (state IN (1, 2)),"
    "  public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),"
    "  created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER);",

    /* 2: cards, their sections, policies, custom fields, audit */
    "CREATE TABLE counters ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL);"
    "INSERT INTO counters VALUES ('customer_number', 0);"
    /* Identity and demographics are one row per card. */
    "CREATE TABLE cards ("
    "  id TEXT PRIMARY KEY CHECK (length(id) = 32),"
    "  number TEXT NOT NULL UNIQUE,"
    "  version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  given_name TEXT NOT NULL DEFAULT '',"
    "  family_name TEXT NOT NULL DEFAULT '',"
    "  company TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'active',"
    "  home_branch TEXT NOT NULL DEFAULT '',"
    "  birth_date TEXT NOT NULL DEFAULT '',"
    "  gender TEXT NOT NULL DEFAULT '',"
    "  profession TEXT NOT NULL DEFAULT '',"
    "  language TEXT NOT NULL DEFAULT '',"
    "  preferred_channels TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE card_sections ("
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  section INTEGER NOT NULL CHECK (section BETWEEN 1 AND 8),"
    "  version INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (card_id, section)) WITHOUT ROWID;"
    /* kind: 1 email, 2 phone, 3 postal address. value: the address,
     * the E.164 number, or '' for postal addresses. */
    "CREATE TABLE contact_points ("
    "  id INTEGER PRIMARY KEY,"
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),"
    "  position INTEGER NOT NULL,"
    "  label TEXT NOT NULL DEFAULT '',"
    "  is_primary INTEGER NOT NULL DEFAULT 0,"
    "  value TEXT NOT NULL DEFAULT '',"
    "  original TEXT NOT NULL DEFAULT '',"
    "  street TEXT NOT NULL DEFAULT '',"
    "  city TEXT NOT NULL DEFAULT '',"
    "  postal_code TEXT NOT NULL DEFAULT '',"
    "  region TEXT NOT NULL DEFAULT '',"
    "  country TEXT NOT NULL DEFAULT '',"
    "  verified_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX contact_points_card ON contact_points(card_id, kind,"
    "  position);"
    /* Emails are found whatever the case of their letters. */
    "CREATE INDEX contact_points_value ON contact_points(kind,"
    "  value COLLATE NOCASE);"
    "CREATE TABLE purchases ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  date TEXT NOT NULL,"
    "  product TEXT NOT NULL,"
    "  quantity INTEGER NOT NULL,"
    "  amount_minor INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  channel TEXT NOT NULL DEFAULT '',"
    "  remarks TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL);"
    "CREATE INDEX purchases_card ON purchases(card_id, seq);"
    "CREATE TABLE interactions ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  at INTEGER NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  department TEXT NOT NULL,"
    "  author TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  outcome TEXT NOT NULL DEFAULT '',"
    "  satisfaction INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX interactions_card ON interactions(card_id, seq);"
    "CREATE TABLE notes ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  at INTEGER NOT NULL,"
    "  author TEXT NOT NULL,"
    "  text TEXT NOT NULL);"
    "CREATE INDEX notes_card ON notes(card_id, seq);"
    "CREATE TABLE preferences ("
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (card_id, key)) WITHOUT ROWID;"
    "CREATE TABLE consents ("
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  purpose TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  state INTEGER NOT NULL CHECK (state IN (1, 2)),"
    "  at INTEGER NOT NULL,"
    "  source TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (card_id, purpose, channel)) WITHOUT ROWID;"
    "CREATE TABLE custom_fields ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  type INTEGER NOT NULL,"
    "  section INTEGER NOT NULL,"
    "  max_length INTEGER NOT NULL DEFAULT 0,"
    "  choices TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE custom_values ("
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  field_id INTEGER NOT NULL REFERENCES custom_fields(id),"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (card_id, field_id)) WITHOUT ROWID;"
    /* Idempotency: a principal's request key names one result. */
    "CREATE TABLE request_keys ("
    "  principal TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  card_id TEXT NOT NULL,"
    "  section INTEGER NOT NULL,"
    "  item_id TEXT NOT NULL,"
    "  PRIMARY KEY (principal, key)) WITHOUT ROWID;"
    "CREATE TABLE policies ("
    "  department_id INTEGER NOT NULL REFERENCES departments(id),"
    "  section INTEGER NOT NULL CHECK (section BETWEEN 1 AND 8),"
    "  access INTEGER NOT NULL CHECK (access IN (0, 1, 2)),"
    "  PRIMARY KEY (department_id, section)) WITHOUT ROWID;"
    /* Append-only: no request can change or remove an entry. */
    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  principal TEXT NOT NULL,"
    "  department TEXT NOT NULL,"
    "  card_id TEXT NOT NULL DEFAULT '',"
    "  section INTEGER NOT NULL DEFAULT 0,"
    "  action TEXT NOT NULL,"
    "  old_value TEXT NOT NULL DEFAULT '',"
    "  new_value TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_card ON audit(card_id, seq);"
    "CREATE INDEX audit_principal ON audit(principal, seq);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
    "  SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
    "  SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
};

int store_map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return CARTA_EEXIST;
	case SQLITE_NOMEM:
		return CARTA_ENOMEM;
	case SQLITE_CANTOPEN:
		return CARTA_ENOENT;
	default:
		return CARTA_EDB;
	}
}

static int exec(store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_event(LOG_ERROR, 0, "event=db_error rc=%d msg=\"%s\"", rc,
			  msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
	}
	return store_map_rc(rc);
}

static int user_version(store *s)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(store *s)
{
	const int target = (int)(sizeof(migrations) / sizeof(migrations[0]));
	char sql[64];
	int v = user_version(s);

	if (v < 0)
		return CARTA_EDB;
	if (v > target) {
		log_event(LOG_ERROR, 0,
			  "event=schema_too_new version=%d supported=%d", v,
			  target);
		return CARTA_EDB;
	}
	for (; v < target; v++) {
		int rv = exec(s, "BEGIN IMMEDIATE");
		if (rv == 0)
			rv = exec(s, migrations[v]);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (rv == 0)
			rv = exec(s, sql);
		if (rv == 0)
			rv = exec(s, "COMMIT");
		if (rv != 0) {
			exec(s, "ROLLBACK");
			return rv;
		}
		log_event(LOG_INFO, 0, "event=migrated schema_version=%d",
			  v + 1);
	}
	return 0;
}

int store_open(const char *path, int create, store **out)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	store *s = calloc(1, sizeof(*s));
	int rv;

	if (s == NULL)
		return CARTA_ENOMEM;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		rv = store_map_rc(rc);
		goto err_after_open;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	rv = exec(s, "PRAGMA journal_mode = WAL;"
		     "PRAGMA synchronous = NORMAL;"
		     "PRAGMA foreign_keys = ON;");
	if (rv != 0)
		goto err_after_open;
	rv = migrate(s);
	if (rv != 0)
		goto err_after_open;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;

err_after_open:
	sqlite3_close(s->db);
	free(s);
	return rv;
}

int store_run(store *s, int write, store_fn fn, void *arg)
{
	pthread_mutex_lock(&s->lock);
	int rv = exec(s, write ? "BEGIN IMMEDIATE" : "BEGIN");
	if (rv == 0) {
		rv = fn(s->db, arg);
		if (rv == 0)
			rv = exec(s, "COMMIT");
		if (rv != 0)
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return rv;
}

void store_close(store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int store_schema_version(store *s)
{
	pthread_mutex_lock(&s->lock);
	int v = user_version(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

int store_department_add(store *s, const char *name)
{
	sqlite3_stmt *st = NULL;

	pthread_mutex_lock(&s->lock);
	int rc = sqlite3_prepare_v2(
	    s->db, "INSERT INTO departments (name, created_at) VALUES (?, ?)",
	    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return store_map_rc(rc);
}

#define PRINCIPAL_COLUMNS                                                      \
	"p.id, p.name, d.name, p.role, p.state, p.public_key, p.created_at, "  \
	"coalesce(p.revoked_at, 0) FROM principals p JOIN departments d ON "   \
	"d.id = p.department_id "

static void read_principal(sqlite3_stmt *st, store_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	snprintf(p->name, sizeof(p->name), "%s",
		 (const char *)sqlite3_column_text(st, 1));
	snprintf(p->department, sizeof(p->department), "%s",
		 (const char *)sqlite3_column_text(st, 2));
	p->role = sqlite3_column_int(st, 3);
	p->state = sqlite3_column_int(st, 4);
	if (sqlite3_column_bytes(st, 5) == KEY_LEN)
		memcpy(p->public_key, sqlite3_column_blob(st, 5), KEY_LEN);
	p->created_at = sqlite3_column_int64(st, 6);
	p->revoked_at = sqlite3_column_int64(st, 7);
}

/* Runs a one-row principal query whose only parameter is bound by bind. */
static int principal_query(store *s, const char *sql, const void *arg,
			   int arg_len, store_principal *out)
{
	sqlite3_stmt *st = NULL;
	int rv;

	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rv = store_map_rc(rc);
		goto out;
	}
	if (arg_len < 0)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	else
		sqlite3_bind_blob(st, 1, arg, arg_len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_principal(st, out);
		rv = 0;
	} else {
		rv = rc == SQLITE_DONE ? CARTA_ENOENT : store_map_rc(rc);
	}
out:
	sqlite3_finalize(st);
	return rv;
}

int store_principal_by_key(store *s, const uint8_t key[KEY_LEN],
			   store_principal *out)
{
	pthread_mutex_lock(&s->lock);
	int rv = principal_query(
	    s, "SELECT " PRINCIPAL_COLUMNS "WHERE p.public_key = ?", key,
	    KEY_LEN, out);
	pthread_mutex_unlock(&s->lock);
	return rv;
}

static int principal_by_name(store *s, const char *name, store_principal *out)
{
	return principal_query(
	    s, "SELECT " PRINCIPAL_COLUMNS "WHERE p.name = ?", name, -1, out);
}

int store_principal_by_name(store *s, const char *name, store_principal *out)
{
	pthread_mutex_lock(&s->lock);
	int rv = principal_by_name(s, name, out);
	pthread_mutex_unlock(&s->lock);
	return rv;
}

int store_principal_add(store *s, const char *name, const char *department,
			int role, const uint8_t key[KEY_LEN],
			store_principal *out)
{
	sqlite3_stmt *st = NULL;
	int rv;

	pthread_mutex_lock(&s->lock);
	int rc = sqlite3_prepare_v2(
	    s->db,
	    "INSERT INTO principals (name, department_id, role, state, "
	    "public_key, created_at) SELECT ?, id, ?, 1, ?, ? FROM "
	    "departments WHERE name = ?",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rv = store_map_rc(rc);
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, role);
	sqlite3_bind_blob(st, 3, key, KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 5, department, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		rv = store_map_rc(rc);
		goto out;
	}
	/* The INSERT ... SELECT inserts nothing for an unknown department. */
	rv = sqlite3_changes(s->db) == 1 ? principal_by_name(s, name, out)
					 : CARTA_ENOENT;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rv;
}

int store_principal_revoke(store *s, const char *name, store_principal *out)
{
	sqlite3_stmt *st = NULL;
	int rv;

	pthread_mutex_lock(&s->lock);
	int rc = sqlite3_prepare_v2(
	    s->db,
	    "UPDATE principals SET state = 2, revoked_at = ? WHERE name = "
	    "? AND state = 1",
	    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	rv = store_map_rc(rc);
	if (rv == 0)
		rv = principal_by_name(s, name, out);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rv;
}

int store_principal_each(store *s,
			 int (*fn)(void *user, const store_principal *p),
			 void *user)
{
	sqlite3_stmt *st = NULL;
	store_principal p;
	int rv = 0;

	pthread_mutex_lock(&s->lock);
	int rc = sqlite3_prepare_v2(
	    s->db, "SELECT " PRINCIPAL_COLUMNS "ORDER BY p.name", -1, &st,
	    NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_principal(st, &p);
		rv = fn(user, &p);
		if (rv != 0)
			break;
		rc = SQLITE_OK;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rv;
}
