#include "store_card.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carta_error.h"
#include "card.h"
#include "pbreflect.h"
#include "store_internal.h"
#include "store_match.h"

enum { KIND_EMAIL = 1, KIND_PHONE = 2, KIND_ADDRESS = 3 };

/* ---- small helpers ---------------------------------------------------- */

/* A malloc'd copy of a text column, or protobuf's shared empty string. */
static char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	if (t == NULL || t[0] == '\0')
		return (char *)protobuf_c_empty_string;
	return strdup(t);
}

static void new_id(char out[33])
{
	uint8_t raw[16];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, 33, raw, sizeof(raw));
}

int store_audit_append(sqlite3 *conn, const store_actor *who,
		       const char *card_id, int section, const char *action,
		       const char *old_value, const char *new_value)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "INSERT INTO audit (at, principal, department, card_id, "
		       "section, action, old_value, new_value) VALUES "
		       "(?, ?, ?, ?, ?, ?, ?, ?)",
		       &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	store_bind_text(st, 2, who->principal);
	store_bind_text(st, 3, who->department);
	store_bind_text(st, 4, card_id);
	sqlite3_bind_int(st, 5, section);
	store_bind_text(st, 6, action);
	store_bind_text(st, 7, old_value);
	store_bind_text(st, 8, new_value);
	return store_step_done(st);
}

/* ---- loading a card --------------------------------------------------- */

static int load_contact_points(sqlite3 *conn, const char *id,
			       Carta__V1__Contact *c)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn,
	    "SELECT kind, label, is_primary, value, original, "
	    "street, city, postal_code, region, country, verified_at, "
	    "verified_source "
	    "FROM contact_points WHERE card_id = ? "
	    "ORDER BY kind, position",
	    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int kind = sqlite3_column_int(st, 0);
		if (kind == KIND_EMAIL) {
			Carta__V1__Email *e = malloc(sizeof(*e));
			if (e == NULL)
				break;
			carta__v1__email__init(e);
			e->label = col(st, 1);
			e->primary = sqlite3_column_int(st, 2) != 0;
			e->address = col(st, 3);
			e->verified_at = sqlite3_column_int64(st, 10);
			e->verified_source = col(st, 11);
			rv = PB_PUSH(c->emails, c->n_emails, e);
		} else if (kind == KIND_PHONE) {
			Carta__V1__Phone *p = malloc(sizeof(*p));
			if (p == NULL)
				break;
			carta__v1__phone__init(p);
			p->label = col(st, 1);
			p->primary = sqlite3_column_int(st, 2) != 0;
			p->number = col(st, 3);
			p->original = col(st, 4);
			p->verified_at = sqlite3_column_int64(st, 10);
			p->verified_source = col(st, 11);
			rv = PB_PUSH(c->phones, c->n_phones, p);
		} else {
			Carta__V1__Address *a = malloc(sizeof(*a));
			if (a == NULL)
				break;
			carta__v1__address__init(a);
			a->label = col(st, 1);
			a->primary = sqlite3_column_int(st, 2) != 0;
			a->street = col(st, 5);
			a->city = col(st, 6);
			a->postal_code = col(st, 7);
			a->region = col(st, 8);
			a->country = col(st, 9);
			a->verified_at = sqlite3_column_int64(st, 10);
			a->verified_source = col(st, 11);
			rv = PB_PUSH(c->addresses, c->n_addresses, a);
		}
	}
	sqlite3_finalize(st);
	return rv;
}

/* Splits "a,b,c" into a repeated string field. */
static int split_channels(const char *text, Carta__V1__Contact *c)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok(buf, ","); t != NULL; t = strtok(NULL, ",")) {
		char *copy = strdup(t);
		if (copy == NULL ||
		    PB_PUSH(c->preferred_channels, c->n_preferred_channels,
			    copy) != 0) {
			free(copy);
			return CARTA_ENOMEM;
		}
	}
	return 0;
}

static Carta__V1__Purchase *row_purchase(sqlite3_stmt *st)
{
	Carta__V1__Purchase *p = malloc(sizeof(*p));
	if (p == NULL)
		return NULL;
	carta__v1__purchase__init(p);
	p->id = col(st, 1);
	p->date = col(st, 2);
	p->product = col(st, 3);
	p->quantity = sqlite3_column_int64(st, 4);
	p->amount_minor = sqlite3_column_int64(st, 5);
	p->currency = col(st, 6);
	p->channel = col(st, 7);
	p->remarks = col(st, 8);
	p->created_at = sqlite3_column_int64(st, 9);
	p->created_by = col(st, 10);
	p->invoice = col(st, 11);
	p->refund = sqlite3_column_int(st, 12) != 0;
	return p;
}

static Carta__V1__Interaction *row_interaction(sqlite3_stmt *st)
{
	Carta__V1__Interaction *i = malloc(sizeof(*i));
	if (i == NULL)
		return NULL;
	carta__v1__interaction__init(i);
	i->id = col(st, 1);
	i->at = sqlite3_column_int64(st, 2);
	i->channel = col(st, 3);
	i->department = col(st, 4);
	i->author = col(st, 5);
	i->summary = col(st, 6);
	i->outcome = col(st, 7);
	i->satisfaction = (uint32_t)sqlite3_column_int(st, 8);
	return i;
}

static Carta__V1__Note *row_note(sqlite3_stmt *st)
{
	Carta__V1__Note *n = malloc(sizeof(*n));
	if (n == NULL)
		return NULL;
	carta__v1__note__init(n);
	n->id = col(st, 1);
	n->at = sqlite3_column_int64(st, 2);
	n->author = col(st, 3);
	n->text = col(st, 4);
	return n;
}

/* Column lists start with seq so that a row's cursor is column 0. */
static const char *const list_sql[CARD_SECTIONS] = {
    [CARTA__V1__SECTION__SECTION_PURCHASES] =
	"SELECT seq, id, date, product, quantity, amount_minor, currency, "
	"channel, remarks, created_at, created_by, invoice, refund "
	"FROM purchases",
    [CARTA__V1__SECTION__SECTION_INTERACTIONS] =
	"SELECT seq, id, at, channel, department, author, summary, outcome, "
	"satisfaction FROM interactions",
    [CARTA__V1__SECTION__SECTION_NOTES] =
	"SELECT seq, id, at, author, text FROM notes",
};

/* The lines of the purchase stored as seq. */
static int load_lines(sqlite3 *conn, int64_t seq, Carta__V1__Purchase *p)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "SELECT code, description, quantity, unit_price_minor "
		       "FROM purchase_lines WHERE purchase_seq = ? "
		       "ORDER BY position",
		       &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, seq);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__PurchaseLine *l = malloc(sizeof(*l));
		if (l == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		carta__v1__purchase_line__init(l);
		l->code = col(st, 0);
		l->description = col(st, 1);
		l->quantity = sqlite3_column_int64(st, 2);
		l->unit_price_minor = sqlite3_column_int64(st, 3);
		rv = PB_PUSH(p->lines, p->n_lines, l);
		if (rv != 0)
			carta__v1__purchase_line__free_unpacked(l, NULL);
	}
	sqlite3_finalize(st);
	return rv;
}

static void *row_item(int section, sqlite3_stmt *st)
{
	switch (section) {
	case CARTA__V1__SECTION__SECTION_PURCHASES:
		return row_purchase(st);
	case CARTA__V1__SECTION__SECTION_INTERACTIONS:
		return row_interaction(st);
	default:
		return row_note(st);
	}
}

/* Where a page of items starts: after the item of date or time when
 * (purchases: YYYY-MM-DD; interactions and notes: seconds) and seq, in
 * the order of load_items; seq 0: from the newest. As a cursor: "SEQ@WHEN". */
typedef struct {
	int64_t seq;
	char when[24];
} item_pos;

/* Loads up to limit items of an append-only section after from, newest
 * first: by date (purchases) or time, then by the order they were
 * stored. *more tells whether older items exist; *last is where the last
 * item returned stands. */
static int load_items(sqlite3 *conn, const char *id, int section,
		      const item_pos *from, unsigned limit, void ***items,
		      size_t *n, int *more, item_pos *last)
{
	const char *when =
	    section == CARTA__V1__SECTION__SECTION_PURCHASES ? "date" : "at";
	char sql[640];
	sqlite3_stmt *st = NULL;

	snprintf(sql, sizeof(sql),
		 "%s WHERE card_id = ?1 AND (?2 = 0 OR %s < ?4 OR (%s = ?4 "
		 "AND seq < ?2)) ORDER BY %s DESC, seq DESC LIMIT ?3",
		 list_sql[section], when, when, when);
	int rv = store_prep(conn, sql, &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, from != NULL ? from->seq : 0);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1);
	if (from == NULL)
		sqlite3_bind_null(st, 4);
	else if (section == CARTA__V1__SECTION__SECTION_PURCHASES)
		store_bind_text(st, 4, from->when);
	else
		sqlite3_bind_int64(st, 4, strtoll(from->when, NULL, 10));
	*more = 0;
	size_t bytes = 0;
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		/* A page ends at limit items or when it would no longer fit
		 * in one message, whichever comes first. */
		if (*n == limit || bytes > STORE_PAGE_BYTES) {
			*more = 1;
			break;
		}
		void *item = row_item(section, st);
		if (item == NULL)
			rv = CARTA_ENOMEM;
		else
			rv = pb_push(items, n, item);
		if (rv == 0 && section == CARTA__V1__SECTION__SECTION_PURCHASES)
			rv =
			    load_lines(conn, sqlite3_column_int64(st, 0), item);
		if (item != NULL)
			bytes += protobuf_c_message_get_packed_size(item) + 8;
		last->seq = sqlite3_column_int64(st, 0);
		/* Column 2 of every list_sql is the date or time. */
		const char *w = (const char *)sqlite3_column_text(st, 2);
		snprintf(last->when, sizeof(last->when), "%s", w ? w : "");
	}
	sqlite3_finalize(st);
	return rv;
}

/* The single values merges replaced, oldest first. */
static int load_history(sqlite3 *conn, const char *id, Carta__V1__Card *c)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn,
			    "SELECT at, section, field, value, source FROM "
			    "card_history WHERE card_id = ? ORDER BY seq",
			    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__HistoryEntry *h = malloc(sizeof(*h));
		if (h == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		carta__v1__history_entry__init(h);
		h->at = sqlite3_column_int64(st, 0);
		h->section = sqlite3_column_int(st, 1);
		h->field = col(st, 2);
		h->value = col(st, 3);
		h->source = col(st, 4);
		rv = PB_PUSH(c->history, c->n_history, h);
		if (rv != 0)
			carta__v1__history_entry__free_unpacked(h, NULL);
	}
	sqlite3_finalize(st);
	return rv;
}

/* The numbers of the cards merged into this one, and into those (a
 * chain of merges leads here too), oldest merge first. */
static int load_merged(sqlite3 *conn, const char *id, Carta__V1__Card *c)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn,
	    "WITH RECURSIVE fam(id, at, mid) AS (SELECT ?1, 0, '' UNION "
	    "SELECT m.other, m.at, m.id FROM merges m JOIN fam ON "
	    "m.survivor = fam.id JOIN cards o ON o.id = m.other "
	    "WHERE m.undone_at = 0 AND o.merged_into = m.survivor) "
	    "SELECT c.number FROM fam JOIN cards c ON c.id = fam.id "
	    "WHERE fam.id != ?1 ORDER BY fam.at, fam.mid",
	    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char *n = col(st, 0);
		if (n == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		rv = PB_PUSH(c->merged, c->n_merged, n);
		if (rv != 0)
			free(n);
	}
	sqlite3_finalize(st);
	return rv;
}

static int load_rest(sqlite3 *conn, const char *id, Carta__V1__Card *c)
{
	sqlite3_stmt *st = NULL;
	int more = 0, rv;
	item_pos last;

	rv = load_items(conn, id, CARTA__V1__SECTION__SECTION_PURCHASES, NULL,
			STORE_RECENT_ITEMS, (void ***)&c->purchases,
			&c->n_purchases, &more, &last);
	if (rv == 0 && more)
		rv = card_mark_more(c, CARTA__V1__SECTION__SECTION_PURCHASES);
	if (rv == 0)
		rv = load_items(conn, id,
				CARTA__V1__SECTION__SECTION_INTERACTIONS, NULL,
				STORE_RECENT_ITEMS, (void ***)&c->interactions,
				&c->n_interactions, &more, &last);
	if (rv == 0 && more)
		rv =
		    card_mark_more(c, CARTA__V1__SECTION__SECTION_INTERACTIONS);
	if (rv == 0)
		rv = load_items(conn, id, CARTA__V1__SECTION__SECTION_NOTES,
				NULL, STORE_RECENT_ITEMS, (void ***)&c->notes,
				&c->n_notes, &more, &last);
	if (rv == 0 && more)
		rv = card_mark_more(c, CARTA__V1__SECTION__SECTION_NOTES);
	if (rv != 0)
		return rv;

	rv = store_prep(conn,
			"SELECT key, value FROM preferences WHERE card_id = ? "
			"ORDER BY key",
			&st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__Preference *p = malloc(sizeof(*p));
		if (p == NULL)
			break;
		carta__v1__preference__init(p);
		p->key = col(st, 0);
		p->value = col(st, 1);
		rv = PB_PUSH(c->preferences, c->n_preferences, p);
	}
	sqlite3_finalize(st);

	rv = rv ? rv
		: store_prep(
		      conn,
		      "SELECT purpose, channel, state, at, source FROM "
		      "consents WHERE card_id = ? ORDER BY purpose, channel",
		      &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__Consent *k = malloc(sizeof(*k));
		if (k == NULL)
			break;
		carta__v1__consent__init(k);
		k->purpose = col(st, 0);
		k->channel = col(st, 1);
		k->state = sqlite3_column_int(st, 2);
		k->at = sqlite3_column_int64(st, 3);
		k->source = col(st, 4);
		rv = PB_PUSH(c->consents, c->n_consents, k);
	}
	sqlite3_finalize(st);

	rv = rv ? rv
		: store_prep(
		      conn,
		      "SELECT f.name, v.value, f.section FROM custom_values v "
		      "JOIN custom_fields f ON f.id = v.field_id "
		      "WHERE v.card_id = ? ORDER BY f.name",
		      &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__CustomValue *v = malloc(sizeof(*v));
		if (v == NULL)
			break;
		carta__v1__custom_value__init(v);
		v->field = col(st, 0);
		v->value = col(st, 1);
		v->section = sqlite3_column_int(st, 2);
		rv = PB_PUSH(c->custom, c->n_custom, v);
	}
	sqlite3_finalize(st);

	rv =
	    rv ? rv
	       : store_prep(conn,
			    "SELECT section, version, updated_at, verified_at, "
			    "verified_source FROM card_sections "
			    "WHERE card_id = ? ORDER BY section",
			    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__SectionVersion *v = malloc(sizeof(*v));
		if (v == NULL)
			break;
		carta__v1__section_version__init(v);
		v->section = sqlite3_column_int(st, 0);
		v->version = (uint64_t)sqlite3_column_int64(st, 1);
		v->updated_at = sqlite3_column_int64(st, 2);
		v->verified_at = sqlite3_column_int64(st, 3);
		v->verified_source = col(st, 4);
		rv = PB_PUSH(c->sections, c->n_sections, v);
	}
	sqlite3_finalize(st);
	rv = rv ? rv : load_history(conn, id, c);
	return rv ? rv : load_merged(conn, id, c);
}

static int load_card(sqlite3 *conn, const char *id, Carta__V1__Card **out)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn,
	    "SELECT id, number, version, created_at, updated_at, "
	    "given_name, family_name, company, status, home_branch, "
	    "birth_date, gender, profession, language, "
	    "preferred_channels, external_id FROM cards WHERE id = ?",
	    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return CARTA_ENOENT;
	}

	Carta__V1__Card *c = store_card_skeleton();
	if (c == NULL) {
		sqlite3_finalize(st);
		return CARTA_ENOMEM;
	}
	Carta__V1__Identity *i = c->identity;
	Carta__V1__Contact *k = c->contact;
	Carta__V1__Demographics *d = c->demographics;

	c->id = col(st, 0);
	i->number = col(st, 1);
	c->version = (uint64_t)sqlite3_column_int64(st, 2);
	c->created_at = sqlite3_column_int64(st, 3);
	c->updated_at = sqlite3_column_int64(st, 4);
	i->given_name = col(st, 5);
	i->family_name = col(st, 6);
	i->company = col(st, 7);
	i->status = col(st, 8);
	i->home_branch = col(st, 9);
	d->birth_date = col(st, 10);
	d->gender = col(st, 11);
	d->profession = col(st, 12);
	d->language = col(st, 13);
	i->external_id = col(st, 15);
	rv = split_channels((const char *)sqlite3_column_text(st, 14), k);
	sqlite3_finalize(st);

	if (rv == 0)
		rv = load_contact_points(conn, id, k);
	if (rv == 0)
		rv = load_rest(conn, id, c);
	if (rv != 0) {
		carta__v1__card__free_unpacked(c, NULL);
		return rv;
	}
	*out = c;
	return 0;
}

/* Finds the card id for a ref: number, id, email or E.164 phone. A card
 * merged into another stands for it: the ref lands on the survivor. */
static int resolve(sqlite3 *conn, const char *ref, char id[33])
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "SELECT id FROM cards WHERE id = ?1 OR number = ?1 "
		       "UNION SELECT card_id FROM contact_points "
		       "WHERE kind IN (1, 2) AND value = ?1 COLLATE NOCASE "
		       "LIMIT 2",
		       &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, ref);
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (rows++ == 0)
			snprintf(id, 33, "%s", sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rows == 0)
		return CARTA_ENOENT;
	/* Two cards share this email or phone: the caller must say which. */
	if (rows > 1)
		return CARTA_EEXIST;

	/* A merged card keeps its number as a pointer; chains are short
	 * (a survivor merged later), and bounded here. */
	for (int hops = 0; hops < 16; hops++) {
		rv = store_prep(
		    conn, "SELECT merged_into FROM cards WHERE id = ?", &st);
		if (rv != 0)
			return rv;
		store_bind_text(st, 1, id);
		const char *next =
		    sqlite3_step(st) == SQLITE_ROW
			? (const char *)sqlite3_column_text(st, 0)
			: NULL;
		int more = next != NULL && next[0] != '\0';
		if (more)
			snprintf(id, 33, "%s", next);
		sqlite3_finalize(st);
		if (!more)
			return 0;
	}
	return CARTA_EDB;
}

struct get_args {
	const char *ref;
	Carta__V1__Card *card;
};

static int get_fn(sqlite3 *conn, void *arg)
{
	struct get_args *a = arg;
	char id[33];
	int rv = resolve(conn, a->ref, id);
	return rv ? rv : load_card(conn, id, &a->card);
}

int store_card_get(store *s, const char *ref, Carta__V1__Card **out)
{
	struct get_args a = {.ref = ref};
	int rv = store_run(s, 0, get_fn, &a);
	if (rv == 0)
		*out = a.card;
	return rv;
}

/* ---- writing sections ------------------------------------------------- */

static int write_identity(sqlite3 *conn, const char *id,
			  const Carta__V1__Identity *m)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn,
			    "UPDATE cards SET given_name = ?, family_name = ?, "
			    "company = ?, status = ?, home_branch = ?, "
			    "external_id = ? WHERE id = ?",
			    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, m->given_name);
	store_bind_text(st, 2, m->family_name);
	store_bind_text(st, 3, m->company);
	store_bind_text(st, 4, m->status);
	store_bind_text(st, 5, m->home_branch);
	store_bind_text(st, 6, m->external_id);
	store_bind_text(st, 7, id);
	return store_step_done(st);
}

static int write_demographics(sqlite3 *conn, const char *id,
			      const Carta__V1__Demographics *m)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn,
			    "UPDATE cards SET birth_date = ?, gender = ?, "
			    "profession = ?, language = ? WHERE id = ?",
			    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, m->birth_date);
	store_bind_text(st, 2, m->gender);
	store_bind_text(st, 3, m->profession);
	store_bind_text(st, 4, m->language);
	store_bind_text(st, 5, id);
	return store_step_done(st);
}

static int insert_point(sqlite3 *conn, const char *id, int kind, size_t pos,
			const char *label, int primary, const char *value,
			const char *original, const Carta__V1__Address *a,
			int64_t verified_at, const char *verified_source)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "INSERT INTO contact_points (card_id, kind, position, "
		       "label, is_primary, value, original, street, city, "
		       "postal_code, region, country, verified_at, "
		       "verified_source) VALUES "
		       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, kind);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)pos);
	store_bind_text(st, 4, label);
	sqlite3_bind_int(st, 5, primary);
	store_bind_text(st, 6, value);
	store_bind_text(st, 7, original);
	store_bind_text(st, 8, a ? a->street : "");
	store_bind_text(st, 9, a ? a->city : "");
	store_bind_text(st, 10, a ? a->postal_code : "");
	store_bind_text(st, 11, a ? a->region : "");
	store_bind_text(st, 12, a ? a->country : "");
	sqlite3_bind_int64(st, 13, verified_at);
	store_bind_text(st, 14, verified_source);
	return store_step_done(st);
}

static int write_contact(sqlite3 *conn, const char *id,
			 const Carta__V1__Contact *m)
{
	sqlite3_stmt *st = NULL;
	char channels[256] = "";
	int rv = store_prep(
	    conn, "DELETE FROM contact_points WHERE card_id = ?", &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	rv = store_step_done(st);
	for (size_t i = 0; rv == 0 && i < m->n_emails; i++) {
		const Carta__V1__Email *e = m->emails[i];
		rv = insert_point(conn, id, KIND_EMAIL, i, e->label, e->primary,
				  e->address, "", NULL, e->verified_at,
				  e->verified_source);
	}
	for (size_t i = 0; rv == 0 && i < m->n_phones; i++) {
		const Carta__V1__Phone *p = m->phones[i];
		rv = insert_point(conn, id, KIND_PHONE, i, p->label, p->primary,
				  p->number, p->original, NULL, p->verified_at,
				  p->verified_source);
	}
	for (size_t i = 0; rv == 0 && i < m->n_addresses; i++) {
		const Carta__V1__Address *a = m->addresses[i];
		rv = insert_point(conn, id, KIND_ADDRESS, i, a->label,
				  a->primary, "", "", a, a->verified_at,
				  a->verified_source);
	}
	for (size_t i = 0; rv == 0 && i < m->n_preferred_channels; i++) {
		if (strlen(channels) + strlen(m->preferred_channels[i]) + 2 >
		    sizeof(channels))
			return CARTA_ETOOBIG;
		strcat(channels, i ? "," : "");
		strcat(channels, m->preferred_channels[i]);
	}
	rv = rv ? rv
		: store_prep(
		      conn,
		      "UPDATE cards SET preferred_channels = ? WHERE id = ?",
		      &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, channels);
	store_bind_text(st, 2, id);
	return store_step_done(st);
}

static int write_preferences(sqlite3 *conn, const char *id,
			     const Carta__V1__Card *c)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn, "DELETE FROM preferences WHERE card_id = ?", &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	rv = store_step_done(st);
	for (size_t i = 0; rv == 0 && i < c->n_preferences; i++) {
		rv = store_prep(conn,
				"INSERT INTO preferences (card_id, key, value) "
				"VALUES (?, ?, ?)",
				&st);
		if (rv != 0)
			break;
		store_bind_text(st, 1, id);
		store_bind_text(st, 2, c->preferences[i]->key);
		store_bind_text(st, 3, c->preferences[i]->value);
		rv = store_step_done(st);
	}
	return rv;
}

static int write_consents(sqlite3 *conn, const char *id,
			  const Carta__V1__Card *c)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn, "DELETE FROM consents WHERE card_id = ?", &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	rv = store_step_done(st);
	for (size_t i = 0; rv == 0 && i < c->n_consents; i++) {
		const Carta__V1__Consent *k = c->consents[i];
		rv = store_prep(
		    conn,
		    "INSERT INTO consents (card_id, purpose, channel, "
		    "state, at, source) VALUES (?, ?, ?, ?, ?, ?)",
		    &st);
		if (rv != 0)
			break;
		store_bind_text(st, 1, id);
		store_bind_text(st, 2, k->purpose);
		store_bind_text(st, 3, k->channel);
		sqlite3_bind_int(st, 4, k->state);
		sqlite3_bind_int64(st, 5, k->at);
		store_bind_text(st, 6, k->source);
		rv = store_step_done(st);
	}
	return rv;
}

/* The custom values of one section: replaced as a whole. Values of
 * unknown fields make the write fail (CARTA_ENOENT). */
static int write_custom(sqlite3 *conn, const char *id, int section,
			const Carta__V1__Card *c)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn,
			    "DELETE FROM custom_values WHERE card_id = ? AND "
			    "field_id IN (SELECT id FROM custom_fields WHERE "
			    "section = ?)",
			    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, section);
	rv = store_step_done(st);
	for (size_t i = 0; rv == 0 && i < c->n_custom; i++) {
		const Carta__V1__CustomValue *v = c->custom[i];
		if ((int)v->section != section)
			continue;
		rv = store_prep(
		    conn,
		    "INSERT INTO custom_values (card_id, field_id, value) "
		    "SELECT ?, id, ? FROM custom_fields WHERE name = ? "
		    "AND section = ?",
		    &st);
		if (rv != 0)
			break;
		store_bind_text(st, 1, id);
		store_bind_text(st, 2, v->value);
		store_bind_text(st, 3, v->field);
		sqlite3_bind_int(st, 4, section);
		rv = store_step_done(st);
		if (rv == 0 && sqlite3_changes(conn) != 1)
			rv = CARTA_ENOENT;
	}
	return rv;
}

static int write_section(sqlite3 *conn, const char *id, int section,
			 const Carta__V1__Card *c)
{
	int rv = 0;

	switch (section) {
	case CARTA__V1__SECTION__SECTION_IDENTITY:
		rv = write_identity(conn, id, c->identity);
		break;
	case CARTA__V1__SECTION__SECTION_CONTACT:
		rv = write_contact(conn, id, c->contact);
		break;
	case CARTA__V1__SECTION__SECTION_DEMOGRAPHICS:
		rv = write_demographics(conn, id, c->demographics);
		break;
	case CARTA__V1__SECTION__SECTION_PREFERENCES:
		rv = write_preferences(conn, id, c);
		break;
	case CARTA__V1__SECTION__SECTION_CONSENT:
		rv = write_consents(conn, id, c);
		break;
	default:
		/* Purchases, interactions and notes are append-only. */
		return CARTA_EINVAL;
	}
	return rv ? rv : write_custom(conn, id, section, c);
}

/* Moves a section's version and the card's on; returns the new section
 * version in *version. */
static int bump(sqlite3 *conn, const char *id, int section, uint64_t *version)
{
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	int rv = store_prep(conn,
			    "UPDATE card_sections SET version = version + 1, "
			    "updated_at = ? WHERE card_id = ? AND section = ? "
			    "RETURNING version",
			    &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	sqlite3_bind_int(st, 3, section);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && version != NULL)
		*version = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? CARTA_ENOENT : store_map_rc(rc);

	rv =
	    store_prep(conn,
		       "UPDATE cards SET version = version + 1, updated_at = ? "
		       "WHERE id = ?",
		       &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	return store_step_done(st);
}

json_t *store_section_json(const Carta__V1__Card *c, int section)
{
	json_t *o = NULL;

	switch (section) {
	case CARTA__V1__SECTION__SECTION_IDENTITY:
		o = pb_to_json(&c->identity->base);
		break;
	case CARTA__V1__SECTION__SECTION_CONTACT:
		o = pb_to_json(&c->contact->base);
		break;
	case CARTA__V1__SECTION__SECTION_DEMOGRAPHICS:
		o = pb_to_json(&c->demographics->base);
		break;
	case CARTA__V1__SECTION__SECTION_PREFERENCES:
		o = json_object();
		for (size_t i = 0; o && i < c->n_preferences; i++)
			json_object_set_new(
			    o, c->preferences[i]->key,
			    json_string(c->preferences[i]->value));
		break;
	case CARTA__V1__SECTION__SECTION_CONSENT:
		o = json_object();
		for (size_t i = 0; o && i < c->n_consents; i++) {
			char key[128];
			snprintf(key, sizeof(key), "%s.%s",
				 c->consents[i]->purpose,
				 c->consents[i]->channel);
			json_object_set_new(o, key,
					    pb_to_json(&c->consents[i]->base));
		}
		break;
	default:
		o = json_object();
	}
	if (o == NULL)
		return NULL;
	json_t *custom = json_object();
	for (size_t i = 0; custom && i < c->n_custom; i++)
		if ((int)c->custom[i]->section == section)
			json_object_set_new(custom, c->custom[i]->field,
					    json_string(c->custom[i]->value));
	if (custom != NULL && json_object_size(custom) > 0)
		json_object_set_new(o, "custom", custom);
	else
		json_decref(custom);
	return o;
}

/* The JSON of one section of a card, for the audit log. */
static char *section_json(const Carta__V1__Card *c, int section)
{
	json_t *o = store_section_json(c, section);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return text;
}

/* What a request asked for, as a hash: the same key with another digest
 * is a reuse, not a retry. */
static void request_digest(int section, const char *card_id,
			   const ProtobufCMessage *m, char out[33])
{
	uint8_t h[16], tag = (uint8_t)section;
	crypto_generichash_blake2b_state st;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	crypto_generichash_blake2b_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_blake2b_update(&st, &tag, 1);
	crypto_generichash_blake2b_update(&st, (const uint8_t *)card_id,
					  strlen(card_id) + 1);
	if (buf != NULL) {
		protobuf_c_message_pack(m, buf);
		crypto_generichash_blake2b_update(&st, buf, len);
		free(buf);
	}
	crypto_generichash_blake2b_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

/* Looks up a request key this principal used. Returns 0 with *found = 0
 * when unused; *found = 1 with the earlier result's ids when the same
 * request comes again; CARTA_ESTATE when the key named another request. */
static int find_request_key(sqlite3 *conn, const store_actor *who,
			    const char *key, const char *digest,
			    char card_id[33], char item_id[33], int *found)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn,
			    "SELECT card_id, item_id, digest FROM request_keys "
			    "WHERE principal = ? AND key = ?",
			    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, who->principal);
	store_bind_text(st, 2, key);
	*found = sqlite3_step(st) == SQLITE_ROW;
	if (*found) {
		snprintf(card_id, 33, "%s", sqlite3_column_text(st, 0));
		snprintf(item_id, 33, "%s", sqlite3_column_text(st, 1));
		if (strcmp((const char *)sqlite3_column_text(st, 2), digest))
			rv = CARTA_ESTATE;
	}
	sqlite3_finalize(st);
	return rv;
}

static int save_request_key(sqlite3 *conn, const store_actor *who,
			    const char *key, const char *digest,
			    const char *card_id, int section,
			    const char *item_id)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "INSERT INTO request_keys (principal, key, card_id, "
		       "section, item_id, digest) VALUES (?, ?, ?, ?, ?, ?)",
		       &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, who->principal);
	store_bind_text(st, 2, key);
	store_bind_text(st, 3, card_id);
	sqlite3_bind_int(st, 4, section);
	store_bind_text(st, 5, item_id);
	store_bind_text(st, 6, digest);
	return store_step_done(st);
}

/* A card without its recent lists must fit in one answer with room to
 * spare: writes that would break this are refused, so that no stored
 * card is ever too large to show. */
static int card_fits(Carta__V1__Card *c)
{
	size_t np = c->n_purchases, ni = c->n_interactions, nn = c->n_notes;

	c->n_purchases = c->n_interactions = c->n_notes = 0;
	size_t size = carta__v1__card__get_packed_size(c);
	c->n_purchases = np;
	c->n_interactions = ni;
	c->n_notes = nn;
	return size <= STORE_CARD_BYTES ? 0 : CARTA_ETOOBIG;
}

/* ---- creating a card -------------------------------------------------- */

struct add_args {
	const store_actor *who;
	const char *key;
	const Carta__V1__Card *card;
	int check; /* look for duplicates first */
	Carta__V1__DuplicateCandidate **dups;
	size_t ndups;
	Carta__V1__Card *out;
};

/* Whether a new card writes section s: it carries data for it. */
static int add_writes(const Carta__V1__Card *c, int s)
{
	return (card_new_sections(c) & (1u << s)) != 0;
}

static int add_fn(sqlite3 *conn, void *arg)
{
	struct add_args *a = arg;
	char id[33], number[32], prev_card[33], item[33], digest[33];
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	int found = 0, rv;

	if (a->key[0] != '\0') {
		request_digest(0, "", &a->card->base, digest);
		rv = find_request_key(conn, a->who, a->key, digest, prev_card,
				      item, &found);
		if (rv != 0)
			return rv;
		if (found)
			return load_card(conn, prev_card, &a->out);
	}
	if (a->check) {
		rv = store_match_card_conn(conn, a->card, 0, a->who->hidden,
					   &a->dups, &a->ndups);
		if (rv != 0)
			return rv;
		if (a->ndups > 0)
			return CARTA_EEXIST;
	}

	rv = store_next_number(conn, "customer_number", 'C', number,
			       sizeof(number));
	if (rv != 0)
		return rv;
	new_id(id);

	rv = store_prep(conn,
			"INSERT INTO cards (id, number, version, created_at, "
			"updated_at) VALUES (?, ?, 1, ?, ?)",
			&st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, number);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now);
	rv = store_step_done(st);
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++) {
		rv = store_prep(conn,
				"INSERT INTO card_sections (card_id, section, "
				"version, updated_at) VALUES (?, ?, 1, ?)",
				&st);
		if (rv != 0)
			break;
		store_bind_text(st, 1, id);
		sqlite3_bind_int(st, 2, s);
		sqlite3_bind_int64(st, 3, now);
		rv = store_step_done(st);
	}

	/* Write each section the request carries, then audit each as
	 * stored (not as asked: the server sets some fields). */
	const Carta__V1__Card *c = a->card;
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (add_writes(c, s))
			rv = write_section(conn, id, s, c);
	if (rv == 0)
		rv = load_card(conn, id, &a->out);
	if (rv == 0)
		rv = card_fits(a->out);
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++) {
		if (!add_writes(c, s))
			continue;
		char *json = section_json(a->out, s);
		rv = json ? store_audit_append(conn, a->who, id, s, "create",
					       "", json)
			  : CARTA_ENOMEM;
		free(json);
	}
	if (rv == 0 && a->key[0] != '\0')
		rv = save_request_key(conn, a->who, a->key, digest, id, 0, id);
	if (rv != 0 && a->out != NULL) {
		carta__v1__card__free_unpacked(a->out, NULL);
		a->out = NULL;
	}
	return rv;
}

int store_card_add_checked(store *s, const store_actor *who,
			   const char *request_key, const Carta__V1__Card *card,
			   int force, Carta__V1__DuplicateCandidate ***dups,
			   size_t *ndups, Carta__V1__Card **out)
{
	struct add_args a = {.who = who,
			     .key = request_key ? request_key : "",
			     .card = card,
			     .check = !force};
	int rv = store_run(s, 1, add_fn, &a);
	*dups = a.dups;
	*ndups = a.ndups;
	if (rv == 0)
		*out = a.out;
	return rv;
}

int store_card_add(store *s, const store_actor *who, const char *request_key,
		   const Carta__V1__Card *card, Carta__V1__Card **out)
{
	struct add_args a = {
	    .who = who, .key = request_key ? request_key : "", .card = card};
	int rv = store_run(s, 1, add_fn, &a);
	if (rv == 0)
		*out = a.out;
	return rv;
}

/* ---- editing a section ------------------------------------------------ */

struct edit_args {
	const store_actor *who;
	const char *ref;
	int section;
	uint64_t if_version;
	store_apply_fn apply;
	void *arg;
	uint64_t current;
	Carta__V1__Card *out;
};

static uint64_t section_version(const Carta__V1__Card *c, int section)
{
	for (size_t i = 0; i < c->n_sections; i++)
		if ((int)c->sections[i]->section == section)
			return c->sections[i]->version;
	return 0;
}

/* CARTA_EGONE when card id was erased: a tombstone takes no data. */
static int not_erased(sqlite3 *conn, const char *id)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn, "SELECT erased_at FROM cards WHERE id = ?", &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) != 0)
		rv = CARTA_EGONE;
	sqlite3_finalize(st);
	return rv;
}

static int edit_fn(sqlite3 *conn, void *arg)
{
	struct edit_args *a = arg;
	Carta__V1__Card *card = NULL;
	char id[33];
	int rv = resolve(conn, a->ref, id);

	if (rv == 0)
		rv = not_erased(conn, id);
	if (rv == 0)
		rv = load_card(conn, id, &card);
	if (rv != 0)
		return rv;
	a->current = section_version(card, a->section);
	if (a->if_version != 0 && a->current != a->if_version) {
		carta__v1__card__free_unpacked(card, NULL);
		return CARTA_ECONFLICT;
	}

	char *before = section_json(card, a->section);
	rv = before ? a->apply(a->arg, card) : CARTA_ENOMEM;
	char *after = rv ? NULL : section_json(card, a->section);
	if (rv == 0 && after == NULL)
		rv = CARTA_ENOMEM;
	if (rv == 0)
		rv = card_fits(card);
	/* A change that changes nothing is no write: no version, no audit. */
	int same = rv == 0 && strcmp(before, after) == 0;
	if (rv == 0 && !same)
		rv = write_section(conn, id, a->section, card);
	if (rv == 0 && !same)
		rv = bump(conn, id, a->section, &a->current);
	if (rv == 0 && !same)
		rv = store_audit_append(conn, a->who, id, a->section, "edit",
					before, after);
	free(before);
	free(after);
	carta__v1__card__free_unpacked(card, NULL);
	return rv ? rv : load_card(conn, id, &a->out);
}

int store_card_edit(store *s, const store_actor *who, const char *ref,
		    int section, uint64_t if_version, store_apply_fn apply,
		    void *arg, uint64_t *current, Carta__V1__Card **out)
{
	struct edit_args a = {.who = who,
			      .ref = ref,
			      .section = section,
			      .if_version = if_version,
			      .apply = apply,
			      .arg = arg};
	int rv = store_run(s, 1, edit_fn, &a);
	if (current != NULL)
		*current = a.current;
	if (rv == 0)
		*out = a.out;
	return rv;
}

/* ---- appends and lists ------------------------------------------------ */

struct append_args {
	const store_actor *who;
	const char *ref;
	int section;
	const char *key;
	const ProtobufCMessage *item;
	ProtobufCMessage *out;
};

static int load_item(sqlite3 *conn, int section, const char *item_id,
		     ProtobufCMessage **out)
{
	char sql[512];
	sqlite3_stmt *st = NULL;

	snprintf(sql, sizeof(sql), "%s WHERE id = ?", list_sql[section]);
	int rv = store_prep(conn, sql, &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, item_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = row_item(section, st);
		rv = *out ? 0 : CARTA_ENOMEM;
		if (rv == 0 && section == CARTA__V1__SECTION__SECTION_PURCHASES)
			rv = load_lines(conn, sqlite3_column_int64(st, 0),
					(Carta__V1__Purchase *)*out);
	} else {
		rv = CARTA_ENOENT;
	}
	sqlite3_finalize(st);
	return rv;
}

static int insert_lines(sqlite3 *conn, int64_t seq,
			const Carta__V1__Purchase *p)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < p->n_lines; i++) {
		sqlite3_stmt *st = NULL;
		rv = store_prep(
		    conn,
		    "INSERT INTO purchase_lines (purchase_seq, position, "
		    "code, description, quantity, unit_price_minor) "
		    "VALUES (?, ?, ?, ?, ?, ?)",
		    &st);
		if (rv != 0)
			break;
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		store_bind_text(st, 3, p->lines[i]->code);
		store_bind_text(st, 4, p->lines[i]->description);
		sqlite3_bind_int64(st, 5, p->lines[i]->quantity);
		sqlite3_bind_int64(st, 6, p->lines[i]->unit_price_minor);
		rv = store_step_done(st);
	}
	return rv;
}

static int insert_item(sqlite3 *conn, const store_actor *who, const char *id,
		       int section, const char *item_id,
		       const ProtobufCMessage *item)
{
	sqlite3_stmt *st = NULL;
	time_t now = time(NULL);
	char today[11];
	struct tm tm;
	int rv;

	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	if (section == CARTA__V1__SECTION__SECTION_PURCHASES) {
		const Carta__V1__Purchase *p =
		    (const Carta__V1__Purchase *)item;
		rv = store_prep(
		    conn,
		    "INSERT INTO purchases (id, card_id, date, product, "
		    "quantity, amount_minor, currency, channel, remarks, "
		    "created_at, created_by, invoice, refund) VALUES "
		    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    &st);
		if (rv != 0)
			return rv;
		store_bind_text(st, 3, p->date[0] ? p->date : today);
		store_bind_text(st, 4, p->product);
		sqlite3_bind_int64(st, 5, p->quantity);
		sqlite3_bind_int64(st, 6, p->amount_minor);
		store_bind_text(st, 7, p->currency);
		store_bind_text(st, 8, p->channel);
		store_bind_text(st, 9, p->remarks);
		sqlite3_bind_int64(st, 10, (int64_t)now);
		store_bind_text(st, 11, who->principal);
		store_bind_text(st, 12, p->invoice);
		sqlite3_bind_int(st, 13, p->refund);
	} else if (section == CARTA__V1__SECTION__SECTION_INTERACTIONS) {
		const Carta__V1__Interaction *i =
		    (const Carta__V1__Interaction *)item;
		rv = store_prep(
		    conn,
		    "INSERT INTO interactions (id, card_id, at, channel, "
		    "department, author, summary, outcome, satisfaction) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    &st);
		if (rv != 0)
			return rv;
		sqlite3_bind_int64(st, 3, i->at ? i->at : now);
		store_bind_text(st, 4, i->channel);
		store_bind_text(st, 5, who->department);
		store_bind_text(st, 6, who->principal);
		store_bind_text(st, 7, i->summary);
		store_bind_text(st, 8, i->outcome);
		sqlite3_bind_int(st, 9, (int)i->satisfaction);
	} else {
		const Carta__V1__Note *n = (const Carta__V1__Note *)item;
		rv = store_prep(
		    conn,
		    "INSERT INTO notes (id, card_id, at, author, text) "
		    "VALUES (?, ?, ?, ?, ?)",
		    &st);
		if (rv != 0)
			return rv;
		sqlite3_bind_int64(st, 3, n->at ? n->at : now);
		store_bind_text(st, 4, who->principal);
		store_bind_text(st, 5, n->text);
	}
	store_bind_text(st, 1, item_id);
	store_bind_text(st, 2, id);
	rv = store_step_done(st);
	if (rv == 0 && section == CARTA__V1__SECTION__SECTION_PURCHASES)
		rv = insert_lines(conn, sqlite3_last_insert_rowid(conn),
				  (const Carta__V1__Purchase *)item);
	return rv;
}

static const char *append_action(int section)
{
	switch (section) {
	case CARTA__V1__SECTION__SECTION_PURCHASES:
		return "purchase.add";
	case CARTA__V1__SECTION__SECTION_INTERACTIONS:
		return "interaction.add";
	default:
		return "note.add";
	}
}

static int append_fn(sqlite3 *conn, void *arg)
{
	struct append_args *a = arg;
	char id[33], item_id[33], prev_card[33], digest[33];
	int found = 0;
	int rv = resolve(conn, a->ref, id);

	if (rv == 0)
		rv = not_erased(conn, id);
	if (rv != 0)
		return rv;
	if (a->key[0] != '\0') {
		request_digest(a->section, id, a->item, digest);
		rv = find_request_key(conn, a->who, a->key, digest, prev_card,
				      item_id, &found);
		if (rv != 0)
			return rv;
		/* A retry: answer with what the first attempt stored. */
		if (found)
			return load_item(conn, a->section, item_id, &a->out);
	}

	new_id(item_id);
	rv = insert_item(conn, a->who, id, a->section, item_id, a->item);
	if (rv == 0)
		rv = bump(conn, id, a->section, NULL);
	if (rv == 0)
		rv = load_item(conn, a->section, item_id, &a->out);
	char *json = rv ? NULL : pb_to_json_text(a->out);
	if (rv == 0)
		rv = json ? store_audit_append(conn, a->who, id, a->section,
					       append_action(a->section), "",
					       json)
			  : CARTA_ENOMEM;
	free(json);
	if (rv == 0 && a->key[0] != '\0')
		rv = save_request_key(conn, a->who, a->key, digest, id,
				      a->section, item_id);
	if (rv != 0 && a->out != NULL) {
		protobuf_c_message_free_unpacked(a->out, NULL);
		a->out = NULL;
	}
	return rv;
}

int store_append(store *s, const store_actor *who, const char *ref, int section,
		 const char *request_key, const ProtobufCMessage *item,
		 ProtobufCMessage **out)
{
	struct append_args a = {.who = who,
				.ref = ref,
				.section = section,
				.key = request_key ? request_key : "",
				.item = item};

	if (section != CARTA__V1__SECTION__SECTION_PURCHASES &&
	    section != CARTA__V1__SECTION__SECTION_INTERACTIONS &&
	    section != CARTA__V1__SECTION__SECTION_NOTES)
		return CARTA_EINVAL;
	int rv = store_run(s, 1, append_fn, &a);
	if (rv == 0)
		*out = a.out;
	return rv;
}

struct list_args {
	const char *ref;
	int section;
	item_pos from;
	unsigned limit;
	ProtobufCMessage *out;
};

static int list_fn(sqlite3 *conn, void *arg)
{
	struct list_args *a = arg;
	char id[33], cursor[48] = "";
	void **items = NULL;
	size_t n = 0;
	int more = 0;
	item_pos last;
	int rv = resolve(conn, a->ref, id);

	if (rv == 0)
		rv = load_items(conn, id, a->section,
				a->from.seq != 0 ? &a->from : NULL, a->limit,
				&items, &n, &more, &last);
	if (more)
		snprintf(cursor, sizeof(cursor), "%lld@%s", (long long)last.seq,
			 last.when);
	char *next = strdup(cursor);
	if (rv == 0 && next == NULL)
		rv = CARTA_ENOMEM;

	/* Pages share one shape: items, then the next cursor. */
	if (rv == 0 && a->section == CARTA__V1__SECTION__SECTION_PURCHASES) {
		Carta__V1__PurchasePage *p = malloc(sizeof(*p));
		if (p != NULL) {
			carta__v1__purchase_page__init(p);
			p->items = (Carta__V1__Purchase **)items;
			p->n_items = n;
			p->next_cursor = next;
		}
		a->out = &p->base;
	} else if (rv == 0 &&
		   a->section == CARTA__V1__SECTION__SECTION_INTERACTIONS) {
		Carta__V1__InteractionPage *p = malloc(sizeof(*p));
		if (p != NULL) {
			carta__v1__interaction_page__init(p);
			p->items = (Carta__V1__Interaction **)items;
			p->n_items = n;
			p->next_cursor = next;
		}
		a->out = &p->base;
	} else if (rv == 0) {
		Carta__V1__NotePage *p = malloc(sizeof(*p));
		if (p != NULL) {
			carta__v1__note_page__init(p);
			p->items = (Carta__V1__Note **)items;
			p->n_items = n;
			p->next_cursor = next;
		}
		a->out = &p->base;
	}
	if (rv == 0 && a->out != NULL)
		return 0;

	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(items[i], NULL);
	free(items);
	free(next);
	return rv ? rv : CARTA_ENOMEM;
}

/* Whether when can be a cursor's date (purchases: YYYY-MM-DD or empty)
 * or time (an integer). */
static bool cursor_when_ok(int section, const char *when)
{
	size_t i = 0;

	if (section == CARTA__V1__SECTION__SECTION_PURCHASES) {
		for (; when[i] != '\0'; i++)
			if (!(when[i] >= '0' && when[i] <= '9') &&
			    !(when[i] == '-' && (i == 4 || i == 7)))
				return false;
		return i == 0 || i == 10;
	}
	if (when[0] == '-')
		i++;
	if (when[i] == '\0')
		return false;
	for (; when[i] != '\0'; i++)
		if (when[i] < '0' || when[i] > '9')
			return false;
	return true;
}

int store_list(store *s, const char *ref, int section, const char *cursor,
	       unsigned limit, ProtobufCMessage **out)
{
	struct list_args a = {.ref = ref, .section = section, .limit = limit};

	if (list_sql[section] == NULL || limit == 0)
		return CARTA_EINVAL;
	if (cursor != NULL && cursor[0] != '\0') {
		char *end = NULL;
		long long v = strtoll(cursor, &end, 10);
		if (*end != '@' || v <= 0 ||
		    strlen(end + 1) >= sizeof(a.from.when) ||
		    !cursor_when_ok(section, end + 1))
			return CARTA_EINVAL;
		a.from.seq = v;
		snprintf(a.from.when, sizeof(a.from.when), "%s", end + 1);
	}
	int rv = store_run(s, 0, list_fn, &a);
	if (rv == 0)
		*out = a.out;
	return rv;
}

/* ---- custom fields ---------------------------------------------------- */

struct field_args {
	const store_actor *who;
	const Carta__V1__FieldDef *def;
	const char *name;
	Carta__V1__FieldDef *one;
	Carta__V1__FieldList *list;
};

static Carta__V1__FieldDef *row_field(sqlite3_stmt *st)
{
	Carta__V1__FieldDef *f = malloc(sizeof(*f));
	json_error_t jerr;

	if (f == NULL)
		return NULL;
	carta__v1__field_def__init(f);
	f->name = col(st, 0);
	f->type = sqlite3_column_int(st, 1);
	f->section = sqlite3_column_int(st, 2);
	f->max_length = (uint32_t)sqlite3_column_int(st, 3);
	f->created_at = sqlite3_column_int64(st, 5);
	json_t *choices =
	    json_loads((const char *)sqlite3_column_text(st, 4), 0, &jerr);
	size_t i;
	json_t *v;
	json_array_foreach(choices, i, v)
	{
		char *copy = strdup(json_string_value(v));
		if (copy != NULL)
			PB_PUSH(f->choices, f->n_choices, copy);
	}
	json_decref(choices);
	return f;
}

static int field_define_fn(sqlite3 *conn, void *arg)
{
	struct field_args *a = arg;
	sqlite3_stmt *st = NULL;
	json_t *choices = json_array();

	for (size_t i = 0; choices && i < a->def->n_choices; i++)
		json_array_append_new(choices, json_string(a->def->choices[i]));
	char *ctext = choices ? json_dumps(choices, JSON_COMPACT) : NULL;
	json_decref(choices);
	int rv =
	    ctext
		? store_prep(conn,
			     "INSERT INTO custom_fields (name, type, section, "
			     "max_length, choices, created_at) VALUES "
			     "(?, ?, ?, ?, ?, ?)",
			     &st)
		: CARTA_ENOMEM;
	if (rv == 0) {
		store_bind_text(st, 1, a->def->name);
		sqlite3_bind_int(st, 2, a->def->type);
		sqlite3_bind_int(st, 3, a->def->section);
		sqlite3_bind_int(st, 4, (int)a->def->max_length);
		store_bind_text(st, 5, ctext);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
		rv = store_step_done(st);
	}
	free(ctext);
	char *json = rv ? NULL : pb_to_json_text(&a->def->base);
	if (rv == 0)
		rv = json ? store_audit_append(conn, a->who, "", 0,
					       "field.define", "", json)
			  : CARTA_ENOMEM;
	free(json);
	return rv;
}

int store_field_define(store *s, const store_actor *who,
		       const Carta__V1__FieldDef *def)
{
	struct field_args a = {.who = who, .def = def};
	return store_run(s, 1, field_define_fn, &a);
}

#define FIELD_COLUMNS                                                          \
	"SELECT name, type, section, max_length, choices, created_at FROM "    \
	"custom_fields "

static int field_get_fn(sqlite3 *conn, void *arg)
{
	struct field_args *a = arg;
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, FIELD_COLUMNS "WHERE name = ?", &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, a->name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		a->one = row_field(st);
		rv = a->one ? 0 : CARTA_ENOMEM;
	} else {
		rv = CARTA_ENOENT;
	}
	sqlite3_finalize(st);
	return rv;
}

int store_field_get(store *s, const char *name, Carta__V1__FieldDef **out)
{
	struct field_args a = {.name = name};
	int rv = store_run(s, 0, field_get_fn, &a);
	if (rv == 0)
		*out = a.one;
	return rv;
}

static int field_list_fn(sqlite3 *conn, void *arg)
{
	struct field_args *a = arg;
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, FIELD_COLUMNS "ORDER BY name", &st);

	if (rv != 0)
		return rv;
	a->list = malloc(sizeof(*a->list));
	if (a->list == NULL) {
		sqlite3_finalize(st);
		return CARTA_ENOMEM;
	}
	carta__v1__field_list__init(a->list);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__FieldDef *f = row_field(st);
		rv = f ? PB_PUSH(a->list->fields, a->list->n_fields, f)
		       : CARTA_ENOMEM;
	}
	sqlite3_finalize(st);
	return rv;
}

int store_field_list(store *s, Carta__V1__FieldList **out)
{
	struct field_args a = {0};
	int rv = store_run(s, 0, field_list_fn, &a);
	if (rv == 0)
		*out = a.list;
	else if (a.list != NULL)
		carta__v1__field_list__free_unpacked(a.list, NULL);
	return rv;
}

/* ---- departments and policies ----------------------------------------- */

struct policy_args {
	const store_actor *who;
	const char *department;
	int section, access;
	uint8_t *table;
	bool found; /* policy_get_fn: the department exists */
	Carta__V1__DepartmentList *departments;
	Carta__V1__PolicyTable *policies;
};

static int department_create_fn(sqlite3 *conn, void *arg)
{
	struct policy_args *a = arg;
	sqlite3_stmt *st = NULL;
	char json[160];
	int rv = store_prep(
	    conn, "INSERT INTO departments (name, created_at) VALUES (?, ?)",
	    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, a->department);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	rv = store_step_done(st);
	snprintf(json, sizeof(json), "{\"name\":\"%s\"}", a->department);
	return rv ? rv
		  : store_audit_append(conn, a->who, "", 0, "department.add",
				       "", json);
}

int store_department_create(store *s, const store_actor *who, const char *name)
{
	struct policy_args a = {.who = who, .department = name};
	return store_run(s, 1, department_create_fn, &a);
}

static int department_list_fn(sqlite3 *conn, void *arg)
{
	struct policy_args *a = arg;
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn, "SELECT name, created_at FROM departments ORDER BY name",
	    &st);
	if (rv != 0)
		return rv;
	a->departments = malloc(sizeof(*a->departments));
	if (a->departments == NULL) {
		sqlite3_finalize(st);
		return CARTA_ENOMEM;
	}
	carta__v1__department_list__init(a->departments);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__Department *d = malloc(sizeof(*d));
		if (d == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		carta__v1__department__init(d);
		d->name = col(st, 0);
		d->created_at = sqlite3_column_int64(st, 1);
		rv = PB_PUSH(a->departments->departments,
			     a->departments->n_departments, d);
	}
	sqlite3_finalize(st);
	return rv;
}

int store_department_list(store *s, Carta__V1__DepartmentList **out)
{
	struct policy_args a = {0};
	int rv = store_run(s, 0, department_list_fn, &a);
	if (rv == 0)
		*out = a.departments;
	else if (a.departments != NULL)
		carta__v1__department_list__free_unpacked(a.departments, NULL);
	return rv;
}

static int policy_get_fn(sqlite3 *conn, void *arg)
{
	struct policy_args *a = arg;
	sqlite3_stmt *st = NULL;
	/* A department without a row for a section has none of it; one
	 * without any row still comes back once (section NULL). */
	int rv = store_prep(
	    conn,
	    "SELECT p.section, p.access FROM departments d LEFT JOIN "
	    "policies p ON d.id = p.department_id WHERE d.name = ?",
	    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, a->department);
	memset(a->table, 0, CARD_SECTIONS);
	a->found = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int section = sqlite3_column_int(st, 0);
		a->found = true;
		if (section > 0 && section < CARD_SECTIONS)
			a->table[section] = (uint8_t)sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int store_policy_get(store *s, const char *department, uint8_t access[9])
{
	struct policy_args a = {.department = department, .table = access};
	return store_run(s, 0, policy_get_fn, &a);
}

static int policy_set_fn(sqlite3 *conn, void *arg)
{
	struct policy_args *a = arg;
	sqlite3_stmt *st = NULL;
	uint8_t before[CARD_SECTIONS];
	char old_json[64], new_json[64];

	a->table = before;
	int rv = policy_get_fn(conn, a);
	if (rv != 0)
		return rv;
	if (!a->found)
		return CARTA_ENOENT;
	/* Setting what is already in force is no write (no row means
	 * none). */
	if (before[a->section] == a->access)
		return 0;
	rv = store_prep(conn,
			"INSERT INTO policies (department_id, section, access) "
			"SELECT id, ?, ? FROM departments WHERE name = ? "
			"ON CONFLICT (department_id, section) DO UPDATE SET "
			"access = excluded.access",
			&st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int(st, 1, a->section);
	sqlite3_bind_int(st, 2, a->access);
	store_bind_text(st, 3, a->department);
	rv = store_step_done(st);
	static const char *const names[] = {"none", "read", "write"};
	snprintf(old_json, sizeof(old_json), "{\"access\":\"%s\"}",
		 names[before[a->section] % 3]);
	snprintf(new_json, sizeof(new_json), "{\"access\":\"%s\"}",
		 names[a->access % 3]);
	char action[96];
	snprintf(action, sizeof(action), "policy.set %s", a->department);
	return rv ? rv
		  : store_audit_append(conn, a->who, "", a->section, action,
				       old_json, new_json);
}

int store_policy_set(store *s, const store_actor *who, const char *department,
		     int section, int access)
{
	struct policy_args a = {.who = who,
				.department = department,
				.section = section,
				.access = access};
	return store_run(s, 1, policy_set_fn, &a);
}

static int policy_table_fn(sqlite3 *conn, void *arg)
{
	struct policy_args *a = arg;
	sqlite3_stmt *st = NULL;
	/* Every department and section, none where no row says more. */
	int rv =
	    store_prep(conn,
		       "WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT "
		       "value + 1 FROM s WHERE value < 8) "
		       "SELECT d.name, s.value, coalesce(p.access, 0) FROM "
		       "departments d CROSS JOIN s "
		       "LEFT JOIN policies p ON p.department_id = d.id AND "
		       "p.section = s.value ORDER BY d.name, s.value",
		       &st);
	if (rv != 0)
		return rv;
	a->policies = malloc(sizeof(*a->policies));
	if (a->policies == NULL) {
		sqlite3_finalize(st);
		return CARTA_ENOMEM;
	}
	carta__v1__policy_table__init(a->policies);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		Carta__V1__PolicyEntry *e = malloc(sizeof(*e));
		if (e == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		carta__v1__policy_entry__init(e);
		e->department = col(st, 0);
		e->section = sqlite3_column_int(st, 1);
		e->access = sqlite3_column_int(st, 2);
		rv = PB_PUSH(a->policies->entries, a->policies->n_entries, e);
	}
	sqlite3_finalize(st);
	return rv;
}

int store_policy_table(store *s, Carta__V1__PolicyTable **out)
{
	struct policy_args a = {0};
	int rv = store_run(s, 0, policy_table_fn, &a);
	if (rv == 0)
		*out = a.policies;
	else if (a.policies != NULL)
		carta__v1__policy_table__free_unpacked(a.policies, NULL);
	return rv;
}

/* ---- audit ------------------------------------------------------------ */

/* An audit value as shown: one too large to travel with its entry is
 * replaced by a note of its size (the log itself keeps it whole). */
static char *audit_value(sqlite3_stmt *st, int i)
{
	char note[64];
	int n = sqlite3_column_bytes(st, i);

	if (n <= STORE_AUDIT_VALUE_BYTES)
		return col(st, i);
	snprintf(note, sizeof(note), "{\"omitted_bytes\":%d}", n);
	return strdup(note);
}

struct audit_args {
	const char *ref, *principal;
	int64_t since, after;
	unsigned limit;
	Carta__V1__AuditPage *page;
};

static int audit_list_fn(sqlite3 *conn, void *arg)
{
	struct audit_args *a = arg;
	sqlite3_stmt *st = NULL;
	char id[33] = "", cursor[24] = "";
	int rv = 0;

	if (a->ref[0] != '\0')
		rv = resolve(conn, a->ref, id);
	if (rv == 0)
		rv = store_prep(
		    conn,
		    /* A card's history includes the cards merged into it
		     * (while the merges stand): their entries from before
		     * the merge are under their own ids. */
		    "WITH RECURSIVE fam(id) AS (SELECT ?1 UNION "
		    "SELECT m.other FROM merges m JOIN fam "
		    "ON m.survivor = fam.id WHERE m.undone_at = 0) "
		    "SELECT seq, at, principal, department, card_id, "
		    "section, action, old_value, new_value FROM audit "
		    "WHERE (?1 = '' OR card_id IN fam) AND (?2 = '' OR "
		    "principal = ?2) AND at >= ?3 AND seq > ?4 "
		    "ORDER BY seq LIMIT ?5",
		    &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, a->principal);
	sqlite3_bind_int64(st, 3, a->since);
	sqlite3_bind_int64(st, 4, a->after);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)a->limit + 1);
	a->page = malloc(sizeof(*a->page));
	if (a->page == NULL) {
		sqlite3_finalize(st);
		return CARTA_ENOMEM;
	}
	carta__v1__audit_page__init(a->page);
	size_t bytes = 0;
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (a->page->n_items == a->limit) {
			snprintf(cursor, sizeof(cursor), "%llu",
				 (unsigned long long)a->page
				     ->items[a->page->n_items - 1]
				     ->seq);
			break;
		}
		Carta__V1__AuditEntry *e = malloc(sizeof(*e));
		if (e == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		carta__v1__audit_entry__init(e);
		e->seq = (uint64_t)sqlite3_column_int64(st, 0);
		e->at = sqlite3_column_int64(st, 1);
		e->principal = col(st, 2);
		e->department = col(st, 3);
		e->card_id = col(st, 4);
		e->section = sqlite3_column_int(st, 5);
		e->action = col(st, 6);
		e->old_value = audit_value(st, 7);
		e->new_value = audit_value(st, 8);
		/* A page ends before the entry that would not fit with it. */
		size_t size = carta__v1__audit_entry__get_packed_size(e) + 8;
		if (a->page->n_items > 0 && bytes + size > STORE_PAGE_BYTES) {
			carta__v1__audit_entry__free_unpacked(e, NULL);
			snprintf(cursor, sizeof(cursor), "%llu",
				 (unsigned long long)a->page
				     ->items[a->page->n_items - 1]
				     ->seq);
			break;
		}
		bytes += size;
		rv = PB_PUSH(a->page->items, a->page->n_items, e);
	}
	sqlite3_finalize(st);
	if (rv == 0 && cursor[0] != '\0') {
		a->page->next_cursor = strdup(cursor);
		if (a->page->next_cursor == NULL)
			rv = CARTA_ENOMEM;
	}
	return rv;
}

int store_audit_list(store *s, const char *ref, const char *principal,
		     int64_t since, const char *cursor, unsigned limit,
		     Carta__V1__AuditPage **out)
{
	struct audit_args a = {.ref = ref ? ref : "",
			       .principal = principal ? principal : "",
			       .since = since,
			       .limit = limit};

	if (cursor != NULL && cursor[0] != '\0') {
		char *end = NULL;
		long long v = strtoll(cursor, &end, 10);
		if (*end != '\0' || v <= 0)
			return CARTA_EINVAL;
		a.after = v;
	}
	int rv = store_run(s, 0, audit_list_fn, &a);
	if (rv == 0)
		*out = a.page;
	else if (a.page != NULL)
		carta__v1__audit_page__free_unpacked(a.page, NULL);
	return rv;
}

/* ---- the same steps on a caller's connection (store_import.c) ---------- */

int store_conn_find(sqlite3 *conn, const char *ref, char id[33])
{
	return resolve(conn, ref, id);
}

int store_conn_load(sqlite3 *conn, const char *id, Carta__V1__Card **out)
{
	return load_card(conn, id, out);
}

int store_conn_add(sqlite3 *conn, const store_actor *who,
		   const Carta__V1__Card *card, Carta__V1__Card **out)
{
	struct add_args a = {.who = who, .key = "", .card = card};
	int rv = add_fn(conn, &a);
	if (rv == 0)
		*out = a.out;
	return rv;
}

int store_conn_edit(sqlite3 *conn, const store_actor *who, const char *id,
		    int section, store_apply_fn apply, void *arg)
{
	struct edit_args a = {.who = who,
			      .ref = id,
			      .section = section,
			      .apply = apply,
			      .arg = arg};
	int rv = edit_fn(conn, &a);
	if (a.out != NULL)
		carta__v1__card__free_unpacked(a.out, NULL);
	return rv;
}

int store_conn_append(sqlite3 *conn, const store_actor *who, const char *id,
		      int section, const ProtobufCMessage *item)
{
	struct append_args a = {
	    .who = who, .ref = id, .section = section, .key = "", .item = item};
	int rv = append_fn(conn, &a);
	if (a.out != NULL)
		protobuf_c_message_free_unpacked(a.out, NULL);
	return rv;
}

int store_conn_write_section(sqlite3 *conn, const char *id, int section,
			     const Carta__V1__Card *c)
{
	/* The lists move item by item; what the section holds besides is
	 * its custom values. */
	if (section == CARTA__V1__SECTION__SECTION_PURCHASES ||
	    section == CARTA__V1__SECTION__SECTION_INTERACTIONS ||
	    section == CARTA__V1__SECTION__SECTION_NOTES)
		return write_custom(conn, id, section, c);
	return write_section(conn, id, section, c);
}

int store_conn_bump(sqlite3 *conn, const char *id, int section,
		    uint64_t *version)
{
	return bump(conn, id, section, version);
}

int store_conn_card_fits(Carta__V1__Card *c)
{
	return card_fits(c);
}
