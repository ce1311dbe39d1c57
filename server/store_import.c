/* Import into the store: many records in one transaction, each applied or
 * rolled back alone (store_card.h). */
#include <sodium.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carta_error.h"
#include "card.h"
#include "pbreflect.h"
#include "store_card.h"
#include "store_erase.h"
#include "store_internal.h"
#include "store_match.h"

/* What the whole job returns for a dry run once the outcomes are known:
 * non-zero, so that the writer rolls every change back. */
#define DRY_RUN_DONE 1

struct import_args {
	const uint8_t *suppression_key; /* NULL: the store has none */
	const store_actor *who;
	int upsert_by, create_missing, dry_run, force;
	Carta__V1__Card *const *cards;
	const uint32_t *unchanged; /* per record; NULL: none */
	size_t n;
	store_import_outcome *out;
};

static int exec(sqlite3 *conn, const char *sql)
{
	return store_map_rc(sqlite3_exec(conn, sql, NULL, NULL, NULL));
}

/* Runs sql with one text parameter; *found = rows (at most 2), id = the
 * first row's first column. */
static int find_one(sqlite3 *conn, const char *sql, const char *value,
		    char id[33], int *found)
{
	sqlite3_stmt *st = NULL;
	int rv = store_map_rc(sqlite3_prepare_v2(conn, sql, -1, &st, NULL));

	*found = 0;
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	while (*found < 2 && sqlite3_step(st) == SQLITE_ROW) {
		if ((*found)++ == 0)
			snprintf(id, 33, "%s", sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return 0;
}

/* The card a record's key finds: 0 with *found 0 or 1, or CARTA_EEXIST
 * when the key matches several cards. */
static int find_by_key(sqlite3 *conn, int key, const Carta__V1__Card *c,
		       char id[33], int *found, const char **field,
		       int *missing)
{
	const char *sql = NULL, *value = "";

	*found = 0;
	switch (key) {
	case CARTA__V1__UPSERT_KEY__UPSERT_EMAIL:
		*field = "contact.emails.0.address";
		if (c->contact && c->contact->n_emails > 0)
			value = c->contact->emails[0]->address;
		sql = "SELECT DISTINCT card_id FROM contact_points "
		      "WHERE kind = 1 AND value = ? COLLATE NOCASE";
		break;
	case CARTA__V1__UPSERT_KEY__UPSERT_NUMBER:
		*field = "identity.number";
		value = c->identity ? c->identity->number : "";
		sql = "SELECT id FROM cards WHERE number = ?";
		break;
	case CARTA__V1__UPSERT_KEY__UPSERT_EXTERNAL_ID:
		*field = "identity.external_id";
		value = c->identity ? c->identity->external_id : "";
		sql = "SELECT id FROM cards WHERE external_id = ?";
		break;
	default:
		return 0;
	}
	*missing = value[0] == '\0';
	if (*missing)
		return 0;
	int rv = find_one(conn, sql, value, id, found);
	if (rv == 0 && *found > 1)
		return CARTA_EEXIST;
	return rv;
}

/* Whether record c carries the number or id of a card in the store
 * (*field: which). */
static int names_a_card(sqlite3 *conn, const Carta__V1__Card *c, int *known,
			const char **field)
{
	char id[33];
	int rv = 0;

	*known = 0;
	if (c->identity != NULL && c->identity->number[0] != '\0') {
		*field = "identity.number";
		rv = find_one(conn, "SELECT id FROM cards WHERE number = ?",
			      c->identity->number, id, known);
	}
	if (rv == 0 && !*known && c->id[0] != '\0') {
		*field = "id";
		rv = find_one(conn, "SELECT id FROM cards WHERE id = ?", c->id,
			      id, known);
	}
	return rv;
}

static int64_t card_version(sqlite3 *conn, const char *id)
{
	char v[33];
	int found = 0;

	find_one(conn, "SELECT CAST(version AS TEXT) FROM cards WHERE id = ?",
		 id, v, &found);
	return found ? strtoll(v, NULL, 10) : 0;
}

/* ---- merging a record into a card ---------------------------------------- */

static int set_text(char **dst, const char *src)
{
	if (src == NULL || src[0] == '\0' || strcmp(*dst, src) == 0)
		return 0;
	return pb_set_string(dst, src);
}

static int merge_identity(Carta__V1__Identity *to,
			  const Carta__V1__Identity *from)
{
	int rv = set_text(&to->given_name, from->given_name);
	if (rv == 0)
		rv = set_text(&to->family_name, from->family_name);
	if (rv == 0)
		rv = set_text(&to->company, from->company);
	if (rv == 0)
		rv = set_text(&to->status, from->status);
	if (rv == 0)
		rv = set_text(&to->home_branch, from->home_branch);
	if (rv == 0)
		rv = set_text(&to->external_id, from->external_id);
	return rv;
}

static int merge_demographics(Carta__V1__Demographics *to,
			      const Carta__V1__Demographics *from)
{
	int rv = set_text(&to->birth_date, from->birth_date);
	if (rv == 0)
		rv = set_text(&to->gender, from->gender);
	if (rv == 0)
		rv = set_text(&to->profession, from->profession);
	if (rv == 0)
		rv = set_text(&to->language, from->language);
	return rv;
}

/* Whether b tells nothing a does not: each of b's fields is empty or
 * a's. */
static bool covered_address(const Carta__V1__Address *a,
			    const Carta__V1__Address *b)
{
	const char *const fa[] = {a->street, a->city, a->postal_code, a->region,
				  a->country};
	const char *const fb[] = {b->street, b->city, b->postal_code, b->region,
				  b->country};

	for (size_t i = 0; i < sizeof(fa) / sizeof(fa[0]); i++)
		if (fb[i][0] != '\0' && strcmp(fa[i], fb[i]) != 0)
			return false;
	return true;
}

/* An address that is only a country (a transaction file's): it adds
 * nothing to a card that has an address already. */
static bool country_only(const Carta__V1__Address *b)
{
	return b->street[0] == '\0' && b->city[0] == '\0' &&
	       b->postal_code[0] == '\0' && b->region[0] == '\0';
}

/* Adds the contact points the card does not have yet; an added point is
 * primary only when the card has no primary of its kind. */
static int merge_contact(Carta__V1__Contact *to, const Carta__V1__Contact *from)
{
	int rv = 0;
	bool primary = false;

	for (size_t i = 0; i < to->n_emails; i++)
		primary |= to->emails[i]->primary;
	for (size_t i = 0; rv == 0 && i < from->n_emails; i++) {
		bool have = false;
		for (size_t j = 0; j < to->n_emails; j++)
			have |= strcasecmp(to->emails[j]->address,
					   from->emails[i]->address) == 0;
		if (have)
			continue;
		rv = PB_PUSH_CLONE(to->emails, to->n_emails, from->emails[i]);
		if (rv == 0 && primary)
			to->emails[to->n_emails - 1]->primary = false;
		primary |= rv == 0 && to->emails[to->n_emails - 1]->primary;
	}

	primary = false;
	for (size_t i = 0; i < to->n_phones; i++)
		primary |= to->phones[i]->primary;
	for (size_t i = 0; rv == 0 && i < from->n_phones; i++) {
		bool have = false;
		for (size_t j = 0; j < to->n_phones; j++)
			have |= strcmp(to->phones[j]->number,
				       from->phones[i]->number) == 0;
		if (have)
			continue;
		rv = PB_PUSH_CLONE(to->phones, to->n_phones, from->phones[i]);
		if (rv == 0 && primary)
			to->phones[to->n_phones - 1]->primary = false;
		primary |= rv == 0 && to->phones[to->n_phones - 1]->primary;
	}

	primary = false;
	for (size_t i = 0; i < to->n_addresses; i++)
		primary |= to->addresses[i]->primary;
	for (size_t i = 0; rv == 0 && i < from->n_addresses; i++) {
		bool have =
		    to->n_addresses > 0 && country_only(from->addresses[i]);
		for (size_t j = 0; j < to->n_addresses; j++)
			have |= covered_address(to->addresses[j],
						from->addresses[i]);
		if (have)
			continue;
		rv = PB_PUSH_CLONE(to->addresses, to->n_addresses,
				   from->addresses[i]);
		if (rv == 0 && primary)
			to->addresses[to->n_addresses - 1]->primary = false;
		primary |=
		    rv == 0 && to->addresses[to->n_addresses - 1]->primary;
	}

	for (size_t i = 0; rv == 0 && i < from->n_preferred_channels; i++) {
		bool have = false;
		for (size_t j = 0; j < to->n_preferred_channels; j++)
			have |= strcmp(to->preferred_channels[j],
				       from->preferred_channels[i]) == 0;
		if (have)
			continue;
		char *c = strdup(from->preferred_channels[i]);
		char **grown =
		    c ? realloc(to->preferred_channels,
				(to->n_preferred_channels + 1) * sizeof(char *))
		      : NULL;
		if (grown == NULL) {
			free(c);
			return CARTA_ENOMEM;
		}
		grown[to->n_preferred_channels++] = c;
		to->preferred_channels = grown;
	}
	return rv;
}

static int merge_preferences(Carta__V1__Card *to, const Carta__V1__Card *from)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < from->n_preferences; i++) {
		const Carta__V1__Preference *p = from->preferences[i];
		size_t j = 0;
		while (j < to->n_preferences &&
		       strcmp(to->preferences[j]->key, p->key) != 0)
			j++;
		if (j < to->n_preferences)
			rv = set_text(&to->preferences[j]->value, p->value);
		else
			rv = PB_PUSH_CLONE(to->preferences, to->n_preferences,
					   p);
	}
	return rv;
}

/* A consent replaces the card's for the same purpose and channel unless
 * the card's is newer. */
static int merge_consents(Carta__V1__Card *to, const Carta__V1__Card *from)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < from->n_consents; i++) {
		const Carta__V1__Consent *k = from->consents[i];
		size_t j = 0;
		while (j < to->n_consents &&
		       (strcmp(to->consents[j]->purpose, k->purpose) != 0 ||
			strcmp(to->consents[j]->channel, k->channel) != 0))
			j++;
		if (j == to->n_consents) {
			rv = PB_PUSH_CLONE(to->consents, to->n_consents, k);
		} else if (to->consents[j]->at <= k->at) {
			Carta__V1__Consent *c = (Carta__V1__Consent *)pb_clone(
			    (const ProtobufCMessage *)k);
			if (c == NULL)
				return CARTA_ENOMEM;
			carta__v1__consent__free_unpacked(to->consents[j],
							  NULL);
			to->consents[j] = c;
		}
	}
	return rv;
}

static int merge_custom(Carta__V1__Card *to, const Carta__V1__Card *from,
			int section)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < from->n_custom; i++) {
		const Carta__V1__CustomValue *v = from->custom[i];
		if ((int)v->section != section)
			continue;
		size_t j = 0;
		while (j < to->n_custom &&
		       strcmp(to->custom[j]->field, v->field) != 0)
			j++;
		if (j < to->n_custom)
			rv = set_text(&to->custom[j]->value, v->value);
		else
			rv = PB_PUSH_CLONE(to->custom, to->n_custom, v);
	}
	return rv;
}

struct merge {
	int section;
	const Carta__V1__Card *from;
};

static int merge_fn(void *arg, Carta__V1__Card *to)
{
	const struct merge *m = arg;
	const Carta__V1__Card *from = m->from;
	int rv = 0;

	switch (m->section) {
	case CARTA__V1__SECTION__SECTION_IDENTITY:
		if (from->identity != NULL)
			rv = merge_identity(to->identity, from->identity);
		break;
	case CARTA__V1__SECTION__SECTION_CONTACT:
		if (from->contact != NULL)
			rv = merge_contact(to->contact, from->contact);
		break;
	case CARTA__V1__SECTION__SECTION_DEMOGRAPHICS:
		if (from->demographics != NULL)
			rv = merge_demographics(to->demographics,
						from->demographics);
		break;
	case CARTA__V1__SECTION__SECTION_PREFERENCES:
		rv = merge_preferences(to, from);
		break;
	case CARTA__V1__SECTION__SECTION_CONSENT:
		rv = merge_consents(to, from);
		break;
	default:
		break;
	}
	return rv ? rv : merge_custom(to, from, m->section);
}

/* ---- appending a record's purchases, interactions and notes -------------- */

static int has_row(sqlite3 *conn, const char *sql, const char *id,
		   const char *text, int64_t at, int *found)
{
	sqlite3_stmt *st = NULL;
	int rv = store_map_rc(sqlite3_prepare_v2(conn, sql, -1, &st, NULL));

	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, at);
	*found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return 0;
}

/* Whether card id has purchase p already: one of its invoice; and on a
 * card that existed before (!fresh), one of the same id (an export's
 * purchase, back) or, without an invoice, of the same day, product,
 * amount, quantity and kind (sale or refund). */
static int has_purchase(sqlite3 *conn, const char *id,
			const Carta__V1__Purchase *p, bool fresh, int *found)
{
	sqlite3_stmt *st = NULL;

	*found = 0;
	if (fresh && p->invoice[0] == '\0')
		return 0; /* nothing to look for */
	int rv = store_prep(
	    conn,
	    "SELECT 1 FROM purchases WHERE card_id = ?1 AND "
	    "((?3 != '' AND invoice = ?3) OR (?10 AND (id = ?2 OR "
	    "(?3 = '' AND invoice = '' AND date = ?4 AND product = ?5 AND "
	    "amount_minor = ?6 AND currency = ?7 AND quantity = ?8 AND "
	    "refund = ?9)))) LIMIT 1",
	    &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, p->id);
	store_bind_text(st, 3, p->invoice);
	store_bind_text(st, 4, p->date);
	store_bind_text(st, 5, p->product);
	sqlite3_bind_int64(st, 6, p->amount_minor);
	store_bind_text(st, 7, p->currency);
	sqlite3_bind_int64(st, 8, p->quantity);
	sqlite3_bind_int(st, 9, p->refund ? 1 : 0);
	sqlite3_bind_int(st, 10, fresh ? 0 : 1);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	*found = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_map_rc(rc);
}

/* Appends c's purchases, interactions and notes to card id. On a card
 * that existed before (fresh is false) an item the card already has is
 * not added again: an interaction or note with the same text (and time,
 * when it has one), a purchase as has_purchase finds it. A purchase whose
 * invoice the card has is never added twice. */
static int append_items(sqlite3 *conn, const store_actor *who, const char *id,
			const Carta__V1__Card *c, bool fresh,
			store_import_outcome *o)
{
	const int P = CARTA__V1__SECTION__SECTION_PURCHASES;
	const int I = CARTA__V1__SECTION__SECTION_INTERACTIONS;
	const int N = CARTA__V1__SECTION__SECTION_NOTES;
	int rv = 0, found = 0;

	/* A card lists its items newest first, as it shows them: the last
	 * is the oldest and is appended first. */
	for (size_t k = c->n_purchases; rv == 0 && k > 0; k--) {
		const Carta__V1__Purchase *p = c->purchases[k - 1];
		rv = has_purchase(conn, id, p, fresh, &found);
		if (rv == 0 && found)
			o->present++;
		else if (rv == 0)
			rv = store_conn_append(conn, who, id, P, &p->base);
		o->added += rv == 0 && !found;
	}
	/* The same dated interaction or note twice is one: importing an
	 * export again adds nothing. */
	for (size_t k = c->n_interactions; rv == 0 && k > 0; k--) {
		const Carta__V1__Interaction *it = c->interactions[k - 1];
		/* Without a time (a vCard NOTE, a CSV), the same text is
		 * the same item. */
		found = 0;
		if (!fresh)
			rv = has_row(
			    conn,
			    "SELECT 1 FROM interactions WHERE card_id = ?1 "
			    "AND summary = ?2 AND (?3 = 0 OR at = ?3)",
			    id, it->summary, it->at, &found);
		if (rv == 0 && !found)
			rv = store_conn_append(conn, who, id, I, &it->base);
		o->added += rv == 0 && !found;
	}
	for (size_t k = c->n_notes; rv == 0 && k > 0; k--) {
		const Carta__V1__Note *nt = c->notes[k - 1];
		found = 0;
		if (!fresh)
			rv = has_row(
			    conn,
			    "SELECT 1 FROM notes WHERE card_id = ?1 AND "
			    "text = ?2 AND (?3 = 0 OR at = ?3)",
			    id, nt->text, nt->at, &found);
		if (rv == 0 && !found)
			rv = store_conn_append(conn, who, id, N, &nt->base);
		o->added += rv == 0 && !found;
	}
	return rv;
}

/* ---- one record ------------------------------------------------------------
 */

static int create(sqlite3 *conn, const store_actor *who,
		  const Carta__V1__Card *c, store_import_outcome *o)
{
	Carta__V1__Card shell = *c;
	Carta__V1__Identity identity;
	Carta__V1__Card *stored = NULL;

	/* The lists are appended after, as their own writes. */
	shell.n_purchases = shell.n_interactions = shell.n_notes = 0;
	if (c->identity != NULL && c->identity->status[0] == '\0') {
		identity = *c->identity;
		identity.status = (char *)"active";
		shell.identity = &identity;
	}
	int rv = store_conn_add(conn, who, &shell, &stored);
	if (rv != 0)
		return rv;
	char id[33];
	snprintf(o->number, sizeof(o->number), "%s", stored->identity->number);
	snprintf(id, sizeof(id), "%s", stored->id);
	carta__v1__card__free_unpacked(stored, NULL);
	o->kind = STORE_IMPORT_CREATED;
	return append_items(conn, who, id, c, true, o);
}

static void reject_why(store_import_outcome *o, const char *field,
		       const char *why);

static void reject_unwritable(store_import_outcome *o, int section,
			      const char *what)
{
	char why[sizeof o->message];

	snprintf(why, sizeof why, STORE_IMPORT_UNWRITABLE "%s", what);
	reject_why(o, card_section_name(section), why);
}

/* keep: the sections the record may carry but not change. */
static int update(sqlite3 *conn, const store_actor *who, const char *id,
		  const Carta__V1__Card *c, uint32_t keep,
		  store_import_outcome *o)
{
	int64_t before = card_version(conn, id), kept[CARD_SECTIONS] = {0};
	uint32_t sections = card_new_sections(c);
	int rv = 0;

	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (keep & (1u << s))
			rv = store_conn_section_version(conn, id, s, &kept[s]);

	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++) {
		if (!(sections & (1u << s)) ||
		    s == CARTA__V1__SECTION__SECTION_PURCHASES ||
		    s == CARTA__V1__SECTION__SECTION_INTERACTIONS ||
		    s == CARTA__V1__SECTION__SECTION_NOTES)
			continue;
		struct merge m = {.section = s, .from = c};
		rv = store_conn_edit(conn, who, id, s, merge_fn, &m);
	}
	if (rv == 0)
		rv = append_items(conn, who, id, c, false, o);
	if (rv != 0)
		return rv;
	for (int s = 1; s < CARD_SECTIONS; s++) {
		int64_t now = 0;
		if (!(keep & (1u << s)))
			continue;
		rv = store_conn_section_version(conn, id, s, &now);
		if (rv != 0)
			return rv;
		if (now != kept[s]) {
			reject_unwritable(o, s, "changes it");
			return 0;
		}
	}

	Carta__V1__Card *now = NULL;
	rv = store_conn_load(conn, id, &now);
	if (rv != 0)
		return rv;
	snprintf(o->number, sizeof(o->number), "%s", now->identity->number);
	carta__v1__card__free_unpacked(now, NULL);
	o->kind = card_version(conn, id) == before ? STORE_IMPORT_UNCHANGED
						   : STORE_IMPORT_UPDATED;
	return 0;
}

static void reject_why(store_import_outcome *o, const char *field,
		       const char *why)
{
	o->kind = STORE_IMPORT_REJECTED;
	o->number[0] = '\0';
	o->added = o->present = 0;
	snprintf(o->field, sizeof(o->field), "%s", field ? field : "");
	snprintf(o->message, sizeof(o->message), "%s", why);
}

static void reject(store_import_outcome *o, int rv, const char *field)
{
	o->kind = STORE_IMPORT_REJECTED;
	o->number[0] = '\0';
	o->added = o->present = 0;
	snprintf(o->field, sizeof(o->field), "%s", field ? field : "");
	switch (rv) {
	case CARTA_EEXIST:
		snprintf(o->message, sizeof(o->message), "%s",
			 field && strcmp(field, "identity.external_id") == 0
			     ? "another card has this external id"
			     : "matches several cards: give a key that "
			       "names one");
		break;
	case CARTA_ENOENT:
		snprintf(o->message, sizeof(o->message),
			 "no card has this key");
		break;
	case CARTA_ETOOBIG:
		snprintf(o->message, sizeof(o->message),
			 "the card would be too large");
		break;
	default:
		snprintf(o->message, sizeof(o->message), "could not be stored");
		break;
	}
}

static int import_one(sqlite3 *conn, const struct import_args *a,
		      const Carta__V1__Card *c, uint32_t keep,
		      store_import_outcome *o)
{
	const char *field = NULL;
	char id[33];
	int found = 0, key_missing = 0;
	int rv = find_by_key(conn, a->upsert_by, c, id, &found, &field,
			     &key_missing);

	/* An erased person is not brought back, neither as a new card nor
	 * onto another one. A department that may not write contact cannot
	 * bring anyone's email or phone anywhere (its record is rejected,
	 * or changes no contact): it is not told what was erased. */
	int suppressed = 0;
	const bool contact_kept =
	    (keep >> CARTA__V1__SECTION__SECTION_CONTACT) & 1u;
	if (rv == 0 && !contact_kept)
		rv = store_suppressed_conn(conn, a->suppression_key, c,
					   &suppressed);
	if (rv == 0 && suppressed) {
		o->kind = STORE_IMPORT_SUPPRESSED;
		snprintf(o->message, sizeof(o->message), "%s",
			 found ? "the person was erased; not written onto "
				 "another card"
			       : "the person was erased; not created again");
		return 0;
	}

	const bool upsert = a->upsert_by != CARTA__V1__UPSERT_KEY__UPSERT_NONE;

	/* A record of an export names its card: creating it again would
	 * copy the card, whatever the duplicate check says. */
	int known = 0;
	if (rv == 0 && !upsert)
		rv = names_a_card(conn, c, &known, &field);
	if (rv == 0 && known) {
		reject_why(o, field,
			   "the record names a card already in the store: "
			   "import with --upsert-by number to update it");
		return 0;
	}

	if (rv == 0 && upsert && !found && key_missing) {
		/* Creating it would make a new card on every run. */
		reject_why(o, field,
			   "the record has no value for the key "
			   "that finds its card");
		return 0;
	}
	if (rv == 0 && found) {
		rv = update(conn, a->who, id, c, keep, o);
	} else if (rv == 0 && upsert &&
		   (!a->create_missing ||
		    a->upsert_by == CARTA__V1__UPSERT_KEY__UPSERT_NUMBER)) {
		/* Numbers are the server's to give: a number that finds no
		 * card is a mistake, not a new customer. */
		reject(o, CARTA_ENOENT, field);
		return 0;
	} else if (rv == 0 && keep != 0) {
		reject_unwritable(o, __builtin_ctz(keep),
				  "finds no card to update");
		return 0;
	} else if (rv == 0 && !card_named(c->identity)) {
		reject_why(o, "identity",
			   "a card needs a given name, a family name, a "
			   "company or an external id");
		return 0;
	} else if (rv == 0 && !a->force &&
		   (rv = store_match_card_conn(conn, c, 0, a->who->hidden,
					       &o->dups, &o->ndups)) == 0 &&
		   o->ndups > 0) {
		/* Looks like a card there is (or one this batch made). */
		o->kind = STORE_IMPORT_DUPLICATE;
		snprintf(o->message, sizeof(o->message),
			 "looks like an existing card");
		return 0;
	} else if (rv == 0) {
		rv = create(conn, a->who, c, o);
		/* The one unique value a new card can clash on. */
		if (rv == CARTA_EEXIST)
			field = "identity.external_id";
	}
	if (rv != 0)
		reject(o, rv, field);
	return rv;
}

static int import_fn(sqlite3 *conn, void *arg)
{
	struct import_args *a = arg;
	uint8_t key[STORE_SUPPRESSION_KEY_LEN];
	int rv = 0;

	a->suppression_key = store_suppression_key(conn, key) == 0 ? key : NULL;

	for (size_t i = 0; rv == 0 && i < a->n; i++) {
		if (a->cards[i] == NULL)
			continue;
		rv = exec(conn, "SAVEPOINT record");
		if (rv != 0)
			break;
		int one =
		    import_one(conn, a, a->cards[i],
			       a->unchanged ? a->unchanged[i] : 0, &a->out[i]);
		if (one == CARTA_ENOMEM || one == CARTA_EDB) {
			rv = one;
			break;
		}
		if (one != 0 || a->out[i].kind == STORE_IMPORT_REJECTED)
			rv = exec(conn, "ROLLBACK TO record");
		if (rv == 0)
			rv = exec(conn, "RELEASE record");
	}
	sodium_memzero(key, sizeof(key));
	a->suppression_key = NULL;
	if (rv == 0 && a->dry_run)
		rv = DRY_RUN_DONE;
	return rv;
}

int store_import(store *s, const store_actor *who, int upsert_by,
		 int create_missing, int dry_run, int force,
		 Carta__V1__Card *const *cards, const uint32_t *unchanged,
		 size_t n, store_import_outcome *out)
{
	struct import_args a = {.who = who,
				.upsert_by = upsert_by,
				.create_missing = create_missing,
				.dry_run = dry_run,
				.force = force,
				.cards = cards,
				.unchanged = unchanged,
				.n = n,
				.out = out};
	int rv = store_run(s, 1, import_fn, &a);
	return rv == DRY_RUN_DONE && dry_run ? 0 : rv;
}
