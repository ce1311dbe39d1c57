#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carta_error.h"
#include "db.h"
#include "log.h"
#include "store_internal.h"

/* Reads run on reader connections in parallel; writes go through db's
 * single writer thread, which commits waiting writes together. */
#define STORE_READERS 4

struct store {
	db *d;
};

/* Migration N brings the schema from version N-1 to N. */
static const db_migration migrations[] = {
    /* 1: principals and departments */
    {1, "CREATE TABLE departments ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE principals ("
	"  id INTEGER PRIMARY KEY,"
	/* Admin and admin are one name: people read them as one. */
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  department_id INTEGER NOT NULL REFERENCES departments(id),"
	"  role INTEGER NOT NULL CHECK (role IN (1, 2, 3)),"
	"  state INTEGER NOT NULL CHECK (state IN (1, 2)),"
	"  public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER);"},

    /* 2: cards, their sections, policies, custom fields, audit */
    {2, "CREATE TABLE counters ("
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
	/* A hash of what the request asked, to tell a retry from a reuse. */
	"  digest TEXT NOT NULL,"
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
	"  SELECT RAISE(ABORT, 'the audit log is append-only'); END;"},

    /* 3: what imports bring: another system's customer key, invoices,
     * refunds and the items of a purchase */
    {3, "ALTER TABLE cards ADD COLUMN external_id TEXT NOT NULL DEFAULT '';"
	"CREATE UNIQUE INDEX cards_external_id ON cards(external_id)"
	"  WHERE external_id != '';"
	"ALTER TABLE purchases ADD COLUMN invoice TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE purchases ADD COLUMN refund INTEGER NOT NULL DEFAULT 0"
	"  CHECK (refund IN (0, 1));"
	"CREATE UNIQUE INDEX purchases_invoice ON purchases(card_id, invoice)"
	"  WHERE invoice != '';"
	/* position orders the lines as the invoice had them. */
	"CREATE TABLE purchase_lines ("
	"  purchase_seq INTEGER NOT NULL REFERENCES purchases(seq),"
	"  position INTEGER NOT NULL,"
	"  code TEXT NOT NULL DEFAULT '',"
	"  description TEXT NOT NULL DEFAULT '',"
	"  quantity INTEGER NOT NULL,"
	"  unit_price_minor INTEGER NOT NULL,"
	"  PRIMARY KEY (purchase_seq, position)) WITHOUT ROWID;"},

    /* 4: search. Folded name words (prefix look-ups by range), phone keys
     * (reversed digits: a number typed without its country code is a
     * prefix), a full-text index of folded names and contact points, and
     * saved segments. Triggers keep the indexes current through the view
     * search_reindex, whose INSERT re-indexes one card; carta_fold and
     * carta_phone_key are registered on every connection (db.c). */
    {4, "CREATE TABLE name_keys ("
	"  key TEXT NOT NULL,"
	"  card_id TEXT NOT NULL,"
	"  PRIMARY KEY (key, card_id)) WITHOUT ROWID;"
	"CREATE INDEX name_keys_card ON name_keys(card_id);"
	"CREATE TABLE phone_keys ("
	"  key TEXT NOT NULL,"
	"  card_id TEXT NOT NULL,"
	"  PRIMARY KEY (key, card_id)) WITHOUT ROWID;"
	"CREATE INDEX phone_keys_card ON phone_keys(card_id);"
	"CREATE VIRTUAL TABLE card_fts USING fts5(names, contact,"
	"  tokenize = 'unicode61 remove_diacritics 2');"
	"CREATE TABLE segments ("
	"  department TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  where_expr TEXT NOT NULL DEFAULT '',"
	"  text TEXT NOT NULL DEFAULT '',"
	"  created_by TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (department, name)) WITHOUT ROWID;"
	"CREATE VIEW search_reindex (card_id) AS SELECT NULL WHERE 0;"
	"CREATE TRIGGER search_reindex_card INSTEAD OF INSERT ON"
	"  search_reindex BEGIN"
	"  DELETE FROM name_keys WHERE card_id = new.card_id;"
	"  INSERT OR IGNORE INTO name_keys (key, card_id)"
	"    SELECT word, new.card_id FROM (WITH RECURSIVE w(rest, word) AS ("
	"      SELECT (SELECT carta_words(given_name || ' ' ||"
	"        family_name || ' ' || company) FROM cards"
	"        WHERE id = new.card_id) || ' ', ''"
	"      UNION ALL SELECT substr(rest, instr(rest, ' ') + 1),"
	"        substr(rest, 1, instr(rest, ' ') - 1) FROM w"
	"        WHERE rest != '')"
	"      SELECT word FROM w WHERE word != '');"
	"  DELETE FROM phone_keys WHERE card_id = new.card_id;"
	"  INSERT OR IGNORE INTO phone_keys (key, card_id)"
	"    SELECT carta_phone_key(value), card_id FROM contact_points"
	"    WHERE card_id = new.card_id AND kind = 2 AND value != '';"
	"  DELETE FROM card_fts WHERE rowid ="
	"    (SELECT rowid FROM cards WHERE id = new.card_id);"
	"  INSERT INTO card_fts (rowid, names, contact)"
	"    SELECT c.rowid, carta_fold(c.given_name || ' ' || c.family_name"
	"      || ' ' || c.company),"
	"      coalesce((SELECT group_concat(carta_fold(cp.value || ' ' ||"
	"        cp.city), ' ') FROM contact_points cp"
	"        WHERE cp.card_id = c.id), '')"
	"    FROM cards c WHERE c.id = new.card_id;"
	"  END;"
	"CREATE TRIGGER search_cards_insert AFTER INSERT ON cards BEGIN"
	"  INSERT INTO search_reindex VALUES (new.id); END;"
	"CREATE TRIGGER search_cards_update AFTER UPDATE OF given_name,"
	"  family_name, company ON cards BEGIN"
	"  INSERT INTO search_reindex VALUES (new.id); END;"
	"CREATE TRIGGER search_cards_delete AFTER DELETE ON cards BEGIN"
	"  DELETE FROM name_keys WHERE card_id = old.id;"
	"  DELETE FROM phone_keys WHERE card_id = old.id;"
	"  DELETE FROM card_fts WHERE rowid = old.rowid; END;"
	"CREATE TRIGGER search_contact_insert AFTER INSERT ON contact_points"
	"  BEGIN INSERT INTO search_reindex VALUES (new.card_id); END;"
	"CREATE TRIGGER search_contact_update AFTER UPDATE ON contact_points"
	"  BEGIN INSERT INTO search_reindex VALUES (new.card_id); END;"
	"CREATE TRIGGER search_contact_delete AFTER DELETE ON contact_points"
	"  BEGIN INSERT INTO search_reindex VALUES (old.card_id); END;"
	/* Cards stored before this version. */
	"INSERT INTO search_reindex SELECT id FROM cards;"},

    /* 5: keeping the card current: verification of sections and contact
     * points, merges (a merged card points to its survivor; single
     * values that lost are kept in the card's history), erasure
     * (suppressions hold keyed hashes, never the data; an erasure may
     * blank the old and new values of audit entries, nothing else). */
    {5, "ALTER TABLE cards ADD COLUMN merged_into TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE cards ADD COLUMN erased_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE card_sections ADD COLUMN verified_at INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE card_sections ADD COLUMN verified_source TEXT NOT NULL"
	"  DEFAULT '';"
	"ALTER TABLE contact_points ADD COLUMN verified_source TEXT NOT NULL"
	"  DEFAULT '';"
	"CREATE TABLE card_history ("
	"  seq INTEGER PRIMARY KEY,"
	"  card_id TEXT NOT NULL REFERENCES cards(id),"
	"  at INTEGER NOT NULL,"
	"  section INTEGER NOT NULL,"
	"  field TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  source TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX card_history_card ON card_history(card_id, seq);"
	"CREATE TABLE suppressions ("
	"  hash BLOB PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  at INTEGER NOT NULL) WITHOUT ROWID;"
	"DROP TRIGGER audit_no_update;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN NOT ("
	"  NEW.seq IS OLD.seq AND NEW.at IS OLD.at AND"
	"  NEW.principal IS OLD.principal AND"
	"  NEW.department IS OLD.department AND"
	"  NEW.card_id IS OLD.card_id AND NEW.section IS OLD.section AND"
	"  NEW.action IS OLD.action AND"
	"  NEW.old_value IN (OLD.old_value, '\"erased\"') AND"
	"  NEW.new_value IN (OLD.new_value, '\"erased\"')) BEGIN"
	"  SELECT RAISE(ABORT, 'the audit log is append-only'); END;"},
    /* 6: merges (store_merge.c), 7: an index for verification
     * (store_verify.c), 8: reserved for the erasure work, which needed
     * nothing beyond 5; kept so that version numbers stay one meaning. */
    /* 6: merges (store_merge.c). A merge keeps what undoing it needs:
     * both cards' sections as they were (packed Card messages), the
     * sections it changed on each card with the versions it left them
     * at, the items and history entries it moved and the history
     * entries it added. */
    {6, "INSERT INTO counters VALUES ('merge_number', 0);"
	"CREATE TABLE merges ("
	"  id TEXT PRIMARY KEY,"
	"  survivor TEXT NOT NULL REFERENCES cards(id),"
	"  other TEXT NOT NULL REFERENCES cards(id),"
	"  at INTEGER NOT NULL,"
	"  principal TEXT NOT NULL,"
	"  plan BLOB NOT NULL,"
	"  survivor_before BLOB NOT NULL,"
	"  other_before BLOB NOT NULL,"
	"  versions TEXT NOT NULL,"
	"  moved TEXT NOT NULL,"
	"  undone_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX merges_survivor ON merges(survivor);"
	"CREATE INDEX merges_other ON merges(other);"},
    /* 7: cards due for confirmation are found by section and age */
    {7, "CREATE INDEX card_sections_verified ON card_sections(section,"
	"  verified_at);"},
    {8, "SELECT 1;"}, /* nothing to change */
    /* 9: the names folded (carta_fold, query.c), kept by triggers in
     * plain columns with plain indexes: a filter or sort on a name uses
     * them instead of folding every card's name, and the file stays
     * readable and VACUUMable by any SQLite (an expression index would
     * need the function there too). */
    {9, "ALTER TABLE cards ADD COLUMN given_fold TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE cards ADD COLUMN family_fold TEXT NOT NULL DEFAULT '';"
	"UPDATE cards SET given_fold = carta_fold(given_name),"
	"  family_fold = carta_fold(family_name);"
	"CREATE TRIGGER cards_fold_insert AFTER INSERT ON cards BEGIN"
	"  UPDATE cards SET given_fold = carta_fold(NEW.given_name),"
	"  family_fold = carta_fold(NEW.family_name) WHERE id = NEW.id; END;"
	"CREATE TRIGGER cards_fold_update AFTER UPDATE OF given_name,"
	"  family_name ON cards BEGIN"
	"  UPDATE cards SET given_fold = carta_fold(NEW.given_name),"
	"  family_fold = carta_fold(NEW.family_name) WHERE id = NEW.id; END;"
	"CREATE INDEX cards_given_fold ON cards(given_fold, id);"
	"CREATE INDEX cards_family_fold ON cards(family_fold, id);"},
    /* 10: the duplicate look-up finds cards born the same day */
    {10, "CREATE INDEX cards_birth ON cards(birth_date)"
	 "  WHERE birth_date != '';"},
};

int store_map_rc(int rc)
{
	return rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE
		   ? 0
		   : db_error(rc);
}

int store_prep(sqlite3 *conn, const char *sql, sqlite3_stmt **st)
{
	return store_map_rc(sqlite3_prepare_v2(conn, sql, -1, st, NULL));
}

int store_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_map_rc(rc);
}

Carta__V1__Card *store_card_skeleton(void)
{
	Carta__V1__Card *c = malloc(sizeof(*c));
	Carta__V1__Identity *i = malloc(sizeof(*i));
	Carta__V1__Contact *k = malloc(sizeof(*k));
	Carta__V1__Demographics *d = malloc(sizeof(*d));

	if (c == NULL || i == NULL || k == NULL || d == NULL) {
		free(c), free(i), free(k), free(d);
		return NULL;
	}
	carta__v1__card__init(c);
	carta__v1__identity__init(i);
	carta__v1__contact__init(k);
	carta__v1__demographics__init(d);
	c->identity = i;
	c->contact = k;
	c->demographics = d;
	return c;
}

int store_next_number(sqlite3 *conn, const char *name, char prefix, char *out,
		      size_t cap)
{
	sqlite3_stmt *st = NULL;
	int64_t seq = 0;
	int rv = store_prep(conn,
			    "UPDATE counters SET value = value + 1 WHERE "
			    "name = ? RETURNING value",
			    &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (seq <= 0)
		return CARTA_EDB;
	snprintf(out, cap, "%c-%06lld", prefix, (long long)seq);
	return 0;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *t)
{
	sqlite3_bind_text(st, i, t ? t : "", -1, SQLITE_STATIC);
}

int store_conn_section_version(sqlite3 *conn, const char *id, int section,
			       int64_t *version)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn,
			    "SELECT version FROM card_sections WHERE card_id = "
			    "? AND section = ?",
			    &st);

	*version = 0;
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, section);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	else
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	return rv;
}

int store_open(const char *path, int create, store **out)
{
	store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return CARTA_ENOMEM;
	int rv = db_open(path, create, migrations,
			 sizeof(migrations) / sizeof(migrations[0]),
			 STORE_READERS, &s->d);
	if (rv != 0) {
		free(s);
		return rv;
	}
	*out = s;
	return 0;
}

int store_run(store *s, int write, store_fn fn, void *arg)
{
	return write ? db_write(s->d, fn, arg) : db_read(s->d, fn, arg);
}

void store_shutdown(store *s)
{
	if (s != NULL)
		db_shutdown(s->d);
}

void store_close(store *s)
{
	if (s == NULL)
		return;
	db_close(s->d);
	free(s);
}

int store_schema_version(store *s)
{
	return db_schema_version(s->d);
}

struct principal_args {
	const store_actor *who;
	const char *name, *department;
	int role;
	const uint8_t *key;
	store_principal *out;
	int (*fn)(void *user, const store_principal *p);
	void *user;
};

static int department_add_fn(sqlite3 *conn, void *arg)
{
	struct principal_args *a = arg;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    conn, "INSERT INTO departments (name, created_at) VALUES (?, ?)",
	    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return store_map_rc(rc);
}

int store_department_add(store *s, const char *name)
{
	struct principal_args a = {.name = name};
	return store_run(s, 1, department_add_fn, &a);
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

/* A one-row principal query whose parameter is a name (arg_len < 0) or a
 * key. */
static int principal_query(sqlite3 *conn, const char *sql, const void *arg,
			   int arg_len, store_principal *out)
{
	sqlite3_stmt *st = NULL;
	int rv;

	int rc = sqlite3_prepare_v2(conn, sql, -1, &st, NULL);
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

static int by_key_fn(sqlite3 *conn, void *arg)
{
	struct principal_args *a = arg;
	return principal_query(
	    conn, "SELECT " PRINCIPAL_COLUMNS "WHERE p.public_key = ?", a->key,
	    KEY_LEN, a->out);
}

int store_principal_by_key(store *s, const uint8_t key[KEY_LEN],
			   store_principal *out)
{
	struct principal_args a = {.key = key, .out = out};
	return store_run(s, 0, by_key_fn, &a);
}

static int by_name_fn(sqlite3 *conn, void *arg)
{
	struct principal_args *a = arg;
	return principal_query(conn,
			       "SELECT " PRINCIPAL_COLUMNS "WHERE p.name = ?",
			       a->name, -1, a->out);
}

int store_principal_by_name(store *s, const char *name, store_principal *out)
{
	struct principal_args a = {.name = name, .out = out};
	return store_run(s, 0, by_name_fn, &a);
}

const char *store_role_name(int role)
{
	switch (role) {
	case STORE_ROLE_MEMBER:
		return "member";
	case STORE_ROLE_ADMIN:
		return "admin";
	case STORE_ROLE_BRANCH:
		return "branch";
	default:
		return "unknown";
	}
}

const char *store_state_name(int state)
{
	return state == STORE_STATE_ACTIVE    ? "active"
	       : state == STORE_STATE_REVOKED ? "revoked"
					      : "unknown";
}

/* The audit entry of an enrolment or revocation: who, and what now. */
static int audit_principal(sqlite3 *conn, const struct principal_args *a,
			   const char *action)
{
	char json[256], fp[KEY_FP_SIZE];

	key_fingerprint(a->out->public_key, fp);
	snprintf(json, sizeof(json),
		 "{\"name\":\"%s\",\"department\":\"%s\",\"role\":\"%s\","
		 "\"state\":\"%s\",\"key_fingerprint\":\"%s\"}",
		 a->out->name, a->out->department,
		 store_role_name(a->out->role), store_state_name(a->out->state),
		 fp);
	return store_audit_append(conn, a->who, "", 0, action, "", json);
}

static int principal_add_fn(sqlite3 *conn, void *arg)
{
	struct principal_args *a = arg;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    conn,
	    "INSERT INTO principals (name, department_id, role, state, "
	    "public_key, created_at) SELECT ?, id, ?, 1, ?, ? FROM "
	    "departments WHERE name = ?",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, a->role);
	sqlite3_bind_blob(st, 3, a->key, KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 5, a->department, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_map_rc(rc);
	/* The INSERT ... SELECT inserts nothing for an unknown department. */
	if (sqlite3_changes(conn) != 1)
		return CARTA_ENOENT;
	int rv = by_name_fn(conn, a);
	return rv ? rv : audit_principal(conn, a, "principal.enrol");
}

int store_principal_add(store *s, const store_actor *who, const char *name,
			const char *department, int role,
			const uint8_t key[KEY_LEN], store_principal *out)
{
	struct principal_args a = {.who = who,
				   .name = name,
				   .department = department,
				   .role = role,
				   .key = key,
				   .out = out};
	return store_run(s, 1, principal_add_fn, &a);
}

static int principal_revoke_fn(sqlite3 *conn, void *arg)
{
	struct principal_args *a = arg;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    conn,
	    "UPDATE principals SET state = 2, revoked_at = ? WHERE name = ? "
	    "AND state = 1",
	    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	int rv = store_map_rc(rc);
	int changed = rv == 0 && sqlite3_changes(conn) == 1;
	if (rv == 0)
		rv = by_name_fn(conn, a);
	return rv || !changed ? rv
			      : audit_principal(conn, a, "principal.revoke");
}

int store_principal_revoke(store *s, const store_actor *who, const char *name,
			   store_principal *out)
{
	struct principal_args a = {.who = who, .name = name, .out = out};
	return store_run(s, 1, principal_revoke_fn, &a);
}

static int principal_each_fn(sqlite3 *conn, void *arg)
{
	struct principal_args *a = arg;
	sqlite3_stmt *st = NULL;
	store_principal p;
	int rv = 0;

	int rc = sqlite3_prepare_v2(
	    conn, "SELECT " PRINCIPAL_COLUMNS "ORDER BY p.name", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_principal(st, &p);
		rv = a->fn(a->user, &p);
		if (rv != 0)
			break;
		rc = SQLITE_OK;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	return rv;
}

int store_principal_each(store *s,
			 int (*fn)(void *user, const store_principal *p),
			 void *user)
{
	struct principal_args a = {.fn = fn, .user = user};
	return store_run(s, 0, principal_each_fn, &a);
}
