#include "store_erase.h"

#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "carta_error.h"
#include "fold.h"
#include "match.h"
#include "init.h"
#include "keys.h"
#include "store_internal.h"

/* crypto_kdf wants exactly 8 characters of context. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = "cartasup";
#define KDF_SUBKEY_SUPPRESSION 1

/* ---- small helpers ---------------------------------------------------- */

/* Runs sql with ?1 = id and ?2 = now; *changes (when not NULL) gets the
 * rows it changed. */
static int exec_card(sqlite3 *conn, const char *sql, const char *id,
		     int64_t now, uint64_t *changes)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, sql, &st);
	if (rv != 0)
		return rv;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_map_rc(rc);
	if (changes != NULL)
		*changes += (uint64_t)sqlite3_changes(conn);
	return 0;
}

/* ---- the key and the hashes ------------------------------------------- */

int store_suppression_key(sqlite3 *conn, uint8_t key[STORE_SUPPRESSION_KEY_LEN])
{
	char path[PATH_MAX];
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	char err[PATH_MAX + 128];
	int rv;

	/* The key file lives beside the database (init.h's layout). */
	const char *db = sqlite3_db_filename(conn, "main");
	if (db == NULL || db[0] == '\0')
		return CARTA_ENOENT;
	const char *slash = strrchr(db, '/');
	int dir_len = slash != NULL ? (int)(slash - db) : 1;
	int n = snprintf(path, sizeof(path), "%.*s/%s", dir_len,
			 slash != NULL ? db : ".", DATA_SERVER_KEY);
	if (n < 0 || (size_t)n >= sizeof(path))
		return CARTA_ETOOBIG;

	/* err may name the file; it is not logged, the code says enough. */
	rv = keyfile_read(path, priv, pub, err, sizeof(err));
	if (rv == 0 && crypto_kdf_derive_from_key(
			   key, STORE_SUPPRESSION_KEY_LEN,
			   KDF_SUBKEY_SUPPRESSION, kdf_context, priv) != 0)
		rv = CARTA_ECRYPTO;
	sodium_memzero(priv, sizeof(priv));
	return rv;
}

/* The keyed hash of one email (case folded, NFC, then the duplicate
 * check's key with its rules always on: "+tags" dropped, gmail dots
 * dropped, so that ana+x@ and a.na@gmail.com are the erased ana@) or
 * phone (its digits: stored phones are E.164, so digits alone name the
 * number). The kind is hashed too, so that an email and a phone never
 * share a hash. */
static int suppression_hash(const uint8_t *key, int kind, const char *value,
			    uint8_t out[crypto_generichash_BYTES])
{
	crypto_generichash_state st;
	uint8_t tag = (uint8_t)kind;
	utf8proc_uint8_t *folded = NULL;
	char digits[64];
	const uint8_t *norm;
	size_t len;

	char keyed[320];
	keyed[0] = '\0';
	if (kind == STORE_SUPPRESS_EMAIL) {
		utf8proc_ssize_t n =
		    utf8proc_map((const utf8proc_uint8_t *)value, 0, &folded,
				 UTF8PROC_NULLTERM | UTF8PROC_STABLE |
				     UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
		if (n < 0)
			return CARTA_EINVAL;
		norm = folded;
		len = (size_t)n;
		const match_options all = {.plus_tags = true,
					   .provider_dots = true};
		if (match_email_key(&all, (const char *)folded, keyed,
				    sizeof(keyed)) == 0) {
			norm = (const uint8_t *)keyed;
			len = strlen(keyed);
		}
	} else {
		if (fold_digits(value, digits, sizeof(digits)) >=
		    sizeof(digits))
			return CARTA_EINVAL;
		norm = (const uint8_t *)digits;
		len = strlen(digits);
	}

	crypto_generichash_init(&st, key, STORE_SUPPRESSION_KEY_LEN,
				crypto_generichash_BYTES);
	crypto_generichash_update(&st, &tag, 1);
	crypto_generichash_update(&st, norm, len);
	crypto_generichash_final(&st, out, crypto_generichash_BYTES);

	/* The normalised value is personal data: leave no copy behind. */
	if (folded != NULL) {
		sodium_memzero(folded, strlen((const char *)folded));
		free(folded);
	}
	sodium_memzero(keyed, sizeof(keyed));
	sodium_memzero(digits, sizeof(digits));
	return 0;
}

/* ---- checking --------------------------------------------------------- */

static int hash_known(sqlite3 *conn, const uint8_t *key, int kind,
		      const char *value, int *found)
{
	uint8_t h[crypto_generichash_BYTES];
	sqlite3_stmt *st = NULL;

	if (value == NULL || value[0] == '\0')
		return 0;
	int rv = suppression_hash(key, kind, value, h);
	if (rv != 0)
		return rv;
	rv = store_prep(conn, "SELECT 1 FROM suppressions WHERE hash = ?", &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : store_map_rc(rc);

	/* A value that a card in use still holds is not the erased
	 * person's alone (a household's phone, a duplicate card not
	 * erased): refusing it would not keep the person out, only stop
	 * that card's own value from being written back onto it. */
	rv = store_prep(conn,
			"SELECT 1 FROM contact_points cp"
			" JOIN cards c ON c.id = cp.card_id"
			" WHERE cp.kind = ?1 AND cp.value = ?2 COLLATE NOCASE"
			" AND c.erased_at = 0 LIMIT 1",
			&st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int(st, 1, kind);
	store_bind_text(st, 2, value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		*found = 1;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_map_rc(rc);
}

static int any_suppression(sqlite3 *conn, int *any)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn, "SELECT EXISTS (SELECT 1 FROM suppressions)", &st);
	if (rv != 0)
		return rv;
	int rc = sqlite3_step(st);
	*any = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_map_rc(rc);
}

int store_suppressed_conn(sqlite3 *conn, const uint8_t *key,
			  const Carta__V1__Card *card, int *suppressed)
{
	uint8_t own[STORE_SUPPRESSION_KEY_LEN];
	const Carta__V1__Contact *c = card->contact;
	int any = 0, found = 0, rv = 0;

	*suppressed = 0;
	if (c == NULL || c->n_emails + c->n_phones == 0)
		return 0;

	/* Nothing erased yet: no key needed (and none read). */
	if (key == NULL) {
		rv = any_suppression(conn, &any);
		if (rv != 0 || !any)
			return rv;
		rv = store_suppression_key(conn, own);
		if (rv != 0)
			goto out;
		key = own;
	}

	for (size_t i = 0; rv == 0 && !found && i < c->n_emails; i++)
		rv = hash_known(conn, key, STORE_SUPPRESS_EMAIL,
				c->emails[i]->address, &found);
	for (size_t i = 0; rv == 0 && !found && i < c->n_phones; i++)
		rv = hash_known(conn, key, STORE_SUPPRESS_PHONE,
				c->phones[i]->number, &found);
	if (rv == 0)
		*suppressed = found;
out:
	sodium_memzero(own, sizeof(own));
	return rv;
}

struct check_args {
	const Carta__V1__Card *card;
	int suppressed;
};

static int check_fn(sqlite3 *conn, void *arg)
{
	struct check_args *a = arg;
	return store_suppressed_conn(conn, NULL, a->card, &a->suppressed);
}

int store_suppressed(store *s, const Carta__V1__Card *card, int *suppressed)
{
	struct check_args a = {.card = card};
	int rv = store_run(s, 0, check_fn, &a);
	*suppressed = rv == 0 ? a.suppressed : 0;
	return rv;
}

/* ---- erasing ---------------------------------------------------------- */

struct erase_args {
	const store_actor *who;
	const char *ref;
	const char *reason;
	store_erase_result *out;
};

/* The card and every card merged into it, directly or through a chain:
 * the person's card numbers. *ids (33 bytes each) is the caller's. */
static int collect_cards(sqlite3 *conn, const char *id, char (**ids)[33],
			 size_t *n)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rv = store_prep(
	    conn,
	    "WITH RECURSIVE s(id) AS (SELECT ?1 UNION "
	    "SELECT c.id FROM cards c JOIN s ON c.merged_into = s.id) "
	    "SELECT id FROM s",
	    &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			char(*grown)[33] = realloc(*ids, cap * sizeof(**ids));
			if (grown == NULL) {
				rv = CARTA_ENOMEM;
				break;
			}
			*ids = grown;
		}
		snprintf((*ids)[(*n)++], 33, "%s", sqlite3_column_text(st, 0));
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	return rv;
}

/* Suppresses the card's emails and phones: keyed hashes, never values. */
static int suppress_card(sqlite3 *conn, const uint8_t *key, const char *id,
			 int64_t now, uint64_t *added)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	uint8_t h[crypto_generichash_BYTES];
	int rv = store_prep(
	    conn,
	    "SELECT kind, value FROM contact_points WHERE card_id = ? "
	    "AND kind IN (1, 2) AND value != ''",
	    &sel);
	if (rv == 0)
		rv = store_prep(
		    conn,
		    "INSERT OR IGNORE INTO suppressions (hash, kind, at) "
		    "VALUES (?, ?, ?)",
		    &ins);
	if (rv != 0)
		goto out;

	sqlite3_bind_text(sel, 1, id, -1, SQLITE_STATIC);
	int rc;
	while (rv == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(sel, 0);
		rv = suppression_hash(
		    key, kind, (const char *)sqlite3_column_text(sel, 1), h);
		if (rv != 0)
			break;
		sqlite3_reset(ins);
		sqlite3_bind_blob(ins, 1, h, sizeof(h), SQLITE_STATIC);
		sqlite3_bind_int(ins, 2, kind);
		sqlite3_bind_int64(ins, 3, (sqlite3_int64)now);
		rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			rv = store_map_rc(rc);
		else
			*added += (uint64_t)sqlite3_changes(conn);
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return rv;
}

/* What an erasure does to one card, in order: the single values first,
 * so that the search triggers fired by the deletes that follow index
 * nothing of the person; then every related row; then the search rows
 * the triggers keep (removed outright: a tombstone is never a match). */
static const char *const erase_sql[] = {
    "UPDATE cards SET given_name = '', family_name = '', company = '', "
    "home_branch = '', external_id = '', birth_date = '', gender = '', "
    "profession = '', language = '', preferred_channels = '', "
    "status = 'archived', erased_at = ?2, version = version + 1, "
    "updated_at = ?2 WHERE id = ?1",
    "DELETE FROM purchase_lines WHERE purchase_seq IN "
    "(SELECT seq FROM purchases WHERE card_id = ?1)",
    "DELETE FROM purchases WHERE card_id = ?1",
    "DELETE FROM interactions WHERE card_id = ?1",
    "DELETE FROM notes WHERE card_id = ?1",
    "DELETE FROM preferences WHERE card_id = ?1",
    "DELETE FROM consents WHERE card_id = ?1",
    "DELETE FROM custom_values WHERE card_id = ?1",
    "DELETE FROM card_history WHERE card_id = ?1",
    "DELETE FROM contact_points WHERE card_id = ?1",
    /* Their digests are unkeyed hashes of requests that carried the
     * person's values: guessable, so they go too. */
    "DELETE FROM request_keys WHERE card_id = ?1",
    /* A merge keeps both cards as they were, for unmerge: personal data.
     * Erased, the merge can no longer be undone (nothing to restore). */
    "DELETE FROM merges WHERE survivor = ?1 OR other = ?1",
    "UPDATE card_sections SET version = version + 1, updated_at = ?2, "
    "verified_at = 0, verified_source = '' WHERE card_id = ?1",
    "DELETE FROM name_keys WHERE card_id = ?1",
    "DELETE FROM phone_keys WHERE card_id = ?1",
    "DELETE FROM card_fts WHERE rowid = (SELECT rowid FROM cards "
    "WHERE id = ?1)",
};

/* The trigger of migration 5 lets exactly this change through. */
static const char redact_sql[] =
    "UPDATE audit SET "
    "old_value = CASE old_value WHEN '' THEN '' ELSE '\"erased\"' END, "
    "new_value = CASE new_value WHEN '' THEN '' ELSE '\"erased\"' END "
    "WHERE card_id = ?1 AND (old_value NOT IN ('', '\"erased\"') OR "
    "new_value NOT IN ('', '\"erased\"'))";

/* A card merged into another and unmerged again left its data in the
 * survivor's audit log: in the merge's entries, in edits while the two
 * were one card, and in the unmerge's. Every entry of the survivor from
 * the merge's first (its section entries come just before its summary,
 * in one transaction) to the unmerge's summary is redacted: some of the
 * survivor's own values go too, rather than any of the person's stay. */
static const char redact_partners_sql[] =
    "WITH m AS ("
    "  SELECT survivor AS card,"
    "    (SELECT max(seq) FROM audit WHERE card_id = merges.survivor AND "
    "     section = 0 AND action = 'merge' AND CASE WHEN "
    "     json_valid(new_value) THEN json_extract(new_value, '$.merge_id') "
    "     END = merges.id) AS merged,"
    "    (SELECT max(seq) FROM audit WHERE card_id = merges.survivor AND "
    "     section = 0 AND action = 'unmerge' AND CASE WHEN "
    "     json_valid(new_value) THEN json_extract(new_value, '$.merge_id') "
    "     END = merges.id) AS undone"
    "  FROM merges WHERE other = ?1 AND undone_at != 0), "
    "w AS ("
    "  SELECT card, undone, (SELECT coalesce(max(seq), 0) + 1 FROM audit a "
    "    WHERE a.card_id = m.card AND a.seq < m.merged AND NOT "
    "    (a.action = 'merge' AND a.section != 0)) AS first "
    "  FROM m WHERE merged IS NOT NULL AND undone IS NOT NULL) "
    "UPDATE audit SET "
    "old_value = CASE old_value WHEN '' THEN '' ELSE '\"erased\"' END, "
    "new_value = CASE new_value WHEN '' THEN '' ELSE '\"erased\"' END "
    "WHERE EXISTS (SELECT 1 FROM w WHERE audit.card_id = w.card AND "
    "audit.seq BETWEEN w.first AND w.undone) AND NOT (section = 0 AND "
    "action IN ('merge', 'unmerge')) AND "
    "(old_value NOT IN ('', '\"erased\"') OR "
    "new_value NOT IN ('', '\"erased\"'))";

static int erase_card(sqlite3 *conn, const uint8_t *key, const char *id,
		      int64_t now, store_erase_result *out)
{
	int rv = suppress_card(conn, key, id, now, &out->suppressions);

	/* Before the merges go (erase_sql). */
	if (rv == 0)
		rv = exec_card(conn, redact_partners_sql, id, now,
			       &out->audit_redacted);
	for (size_t i = 0;
	     rv == 0 && i < sizeof(erase_sql) / sizeof(erase_sql[0]); i++)
		rv = exec_card(conn, erase_sql[i], id, now, NULL);
	if (rv == 0)
		rv = exec_card(conn, redact_sql, id, now, &out->audit_redacted);
	if (rv == 0)
		out->cards++;
	return rv;
}

/* Reads the current secure_delete setting so that it can be restored. */
static int secure_delete(sqlite3 *conn, int on, int *was)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn, on ? "PRAGMA secure_delete = 1" : "PRAGMA secure_delete",
	    &st);
	if (rv != 0)
		return rv;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && was != NULL)
		*was = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_map_rc(rc);
}

static int restore_secure_delete(sqlite3 *conn, int was)
{
	return sqlite3_exec(conn,
			    was ? "PRAGMA secure_delete = 1"
				: "PRAGMA secure_delete = 0",
			    NULL, NULL, NULL) == SQLITE_OK
		   ? 0
		   : CARTA_EDB;
}

static int read_number(sqlite3 *conn, const char *id, char *number, size_t cap)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, "SELECT number FROM cards WHERE id = ?", &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(number, cap, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW	   ? 0
	       : rc == SQLITE_DONE ? CARTA_ENOENT
				   : store_map_rc(rc);
}

static int erase_fn(sqlite3 *conn, void *arg)
{
	struct erase_args *a = arg;
	uint8_t key[STORE_SUPPRESSION_KEY_LEN];
	char id[33], (*ids)[33] = NULL;
	size_t n = 0;
	int64_t now = (int64_t)time(NULL);
	int was = 0, rv;
	char *json = NULL;

	memset(a->out, 0, sizeof(*a->out));
	rv = store_conn_find(conn, a->ref, id);
	if (rv != 0)
		return rv;
	rv = store_suppression_key(conn, key);
	if (rv != 0) {
		rv = CARTA_ESTATE;
		goto out;
	}

	/* Freed cells and pages are zeroed, not just unlinked. */
	rv = secure_delete(conn, 0, &was);
	if (rv == 0)
		rv = secure_delete(conn, 1, NULL);
	if (rv != 0)
		goto out;

	rv = read_number(conn, id, a->out->number, sizeof(a->out->number));
	if (rv == 0)
		rv = collect_cards(conn, id, &ids, &n);
	for (size_t i = 0; rv == 0 && i < n; i++)
		rv = erase_card(conn, key, ids[i], now, a->out);

	/* A deleted FTS5 row leaves its terms in the index segments (with
	 * delete markers) until they are merged: merging everything now
	 * drops them. Costs a rewrite of the index; erasures are rare. */
	if (rv == 0)
		rv = store_map_rc(sqlite3_exec(
		    conn, "INSERT INTO card_fts (card_fts) VALUES ('optimize')",
		    NULL, NULL, NULL));

	/* The reason is the business's, not the person's: it is kept. */
	if (rv == 0) {
		json_t *o = json_pack("{s:s}", "reason", a->reason);
		json = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		rv = json != NULL ? 0 : CARTA_EINVAL;
	}
	if (rv == 0)
		rv = store_audit_append(conn, a->who, id, 0, "erase", "", json);

	int rv2 = restore_secure_delete(conn, was);
	if (rv == 0)
		rv = rv2;
out:
	sodium_memzero(key, sizeof(key));
	free(ids);
	free(json);
	return rv;
}

int store_erase(store *s, const store_actor *who, const char *ref,
		const char *reason, store_erase_result *out)
{
	struct erase_args a = {
	    .who = who, .ref = ref, .reason = reason, .out = out};
	return store_run(s, 1, erase_fn, &a);
}
