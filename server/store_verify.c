#include "store_verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carta_error.h"
#include "pbreflect.h"
#include "store_internal.h"

enum { KIND_EMAIL = 1, KIND_PHONE = 2, KIND_ADDRESS = 3 };

#define BIT(section) (1u << (section))

/* Contact points an edit may mark, per kind; more than any card holds. */
#define MARKS_MAX 64

static const char *const sources[] = {"phone", "email", "visit", "form"};

bool store_verify_source_valid(const char *source)
{
	for (size_t i = 0; source != NULL && i < 4; i++)
		if (strcmp(source, sources[i]) == 0)
			return true;
	return false;
}

/* ---- small helpers ---------------------------------------------------- */

/* One count(*) query with up to two integer parameters. */
static int count(sqlite3 *conn, const char *sql, int64_t a, int64_t b,
		 uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, sql, &st);

	if (rv != 0)
		return rv;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_map_rc(rc);
}

/* ---- recording a confirmation ----------------------------------------- */

/* Marks one section confirmed and audits it. */
static int mark_section(sqlite3 *conn, const store_actor *who, const char *id,
			int section, const char *source, int64_t now)
{
	sqlite3_stmt *st = NULL;
	char json[64];
	int rv =
	    store_prep(conn,
		       "UPDATE card_sections SET verified_at = ?, "
		       "verified_source = ? WHERE card_id = ? AND section = ?",
		       &st);

	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, source);
	store_bind_text(st, 3, id);
	sqlite3_bind_int(st, 4, section);
	rv = store_step_done(st);
	if (rv == 0 && sqlite3_changes(conn) != 1)
		rv = CARTA_ENOENT;

	/* The source is one of four fixed words: no escaping needed. */
	snprintf(json, sizeof(json), "{\"source\": \"%s\"}", source);
	return rv ? rv
		  : store_audit_append(conn, who, id, section, "verify", "",
				       json);
}

/* Marks the contact points of kind (0: every kind) at position (-1:
 * every position) confirmed. */
static int mark_points(sqlite3 *conn, const char *id, int kind,
		       int64_t position, const char *source, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "UPDATE contact_points SET verified_at = ?1, "
		       "verified_source = ?2 WHERE card_id = ?3 AND "
		       "(?4 = 0 OR kind = ?4) AND (?5 < 0 OR position = ?5)",
		       &st);

	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, source);
	store_bind_text(st, 3, id);
	sqlite3_bind_int(st, 4, kind);
	sqlite3_bind_int64(st, 5, position);
	return store_step_done(st);
}

static bool has_custom(const Carta__V1__Card *c, int section)
{
	for (size_t i = 0; i < c->n_custom; i++)
		if ((int)c->custom[i]->section == section)
			return true;
	return false;
}

/* Whether the card holds anything in section to confirm. Every card has
 * an identity (at least its number). */
static bool has_data(const Carta__V1__Card *c, int section)
{
	const Carta__V1__Contact *k = c->contact;
	const Carta__V1__Demographics *d = c->demographics;

	if (has_custom(c, section))
		return true;
	switch (section) {
	case CARTA__V1__SECTION__SECTION_IDENTITY:
		return true;
	case CARTA__V1__SECTION__SECTION_CONTACT:
		return k != NULL && (k->n_emails || k->n_phones ||
				     k->n_addresses || k->n_preferred_channels);
	case CARTA__V1__SECTION__SECTION_DEMOGRAPHICS:
		return d != NULL && (d->birth_date[0] || d->gender[0] ||
				     d->profession[0] || d->language[0]);
	case CARTA__V1__SECTION__SECTION_PREFERENCES:
		return c->n_preferences > 0;
	case CARTA__V1__SECTION__SECTION_CONSENT:
		return c->n_consents > 0;
	default:
		return false;
	}
}

static int erased(sqlite3 *conn, const char *id, bool *out)
{
	uint64_t n = 0;
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn, "SELECT erased_at != 0 FROM cards WHERE id = ?", &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	*out = n != 0;
	return rc == SQLITE_ROW ? 0 : CARTA_ENOENT;
}

struct confirm_args {
	const store_actor *who;
	const char *ref, *source;
	int section;
	uint32_t writable, confirmed;
	int64_t now;
	Carta__V1__Card *out;
};

static int confirm_fn(sqlite3 *conn, void *arg)
{
	struct confirm_args *a = arg;
	Carta__V1__Card *card = NULL;
	uint32_t mask = 0;
	bool gone = false;
	char id[33];

	int rv = store_conn_find(conn, a->ref, id);
	if (rv == 0)
		rv = erased(conn, id, &gone);
	if (rv == 0 && gone)
		rv = CARTA_ESTATE;
	if (rv == 0)
		rv = store_conn_load(conn, id, &card);
	if (rv != 0)
		return rv;

	/* Without a section: what the caller may write and the card holds. */
	if (a->section != 0) {
		mask = BIT(a->section);
	} else {
		for (int s = 1; s < 9; s++)
			if ((a->writable & STORE_VERIFY_SECTIONS & BIT(s)) &&
			    has_data(card, s))
				mask |= BIT(s);
		if (mask == 0)
			rv = CARTA_EPERM;
	}
	carta__v1__card__free_unpacked(card, NULL);

	for (int s = 1; rv == 0 && s < 9; s++) {
		if (!(mask & BIT(s)))
			continue;
		rv = mark_section(conn, a->who, id, s, a->source, a->now);
		if (rv == 0 && s == CARTA__V1__SECTION__SECTION_CONTACT)
			rv = mark_points(conn, id, 0, -1, a->source, a->now);
	}
	a->confirmed = mask;
	return rv ? rv : store_conn_load(conn, id, &a->out);
}

int store_verify_confirm(store *s, const store_actor *who, const char *ref,
			 int section, uint32_t writable, const char *source,
			 int64_t now, uint32_t *confirmed,
			 Carta__V1__Card **out)
{
	struct confirm_args a = {.who = who,
				 .ref = ref,
				 .source = source,
				 .section = section,
				 .writable = writable,
				 .now = now};

	if (section != 0 && (section < 1 || section > 8 ||
			     !(STORE_VERIFY_SECTIONS & BIT(section))))
		return CARTA_EINVAL;
	if (!store_verify_source_valid(source))
		return CARTA_EINVAL;
	int rv = store_run(s, 1, confirm_fn, &a);
	if (rv == 0) {
		*confirmed = a.confirmed;
		*out = a.out;
	}
	return rv;
}

/* ---- an edit through a channel ---------------------------------------- */

/* Positions of one kind of contact point an edit set, as they are after
 * the sets applied so far. */
typedef struct {
	size_t pos[MARKS_MAX];
	size_t n;
} marks;

static void marks_add(marks *m, size_t k)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pos[i] == k)
			return;
	if (m->n < MARKS_MAX)
		m->pos[m->n++] = k;
}

/* Item k went: later items move up one. */
static void marks_remove(marks *m, size_t k)
{
	size_t w = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->pos[i] == k)
			continue;
		m->pos[w++] = m->pos[i] > k ? m->pos[i] - 1 : m->pos[i];
	}
	m->n = w;
}

/* Follows the sets of a contact edit: which kind (index 0 emails,
 * 1 phones, 2 addresses) and positions each touched. */
static void follow_sets(Carta__V1__FieldSet *const *sets, size_t nsets,
			marks m[3])
{
	static const char *const lists[3] = {"emails.", "phones.",
					     "addresses."};

	for (size_t i = 0; i < nsets; i++) {
		const char *path = sets[i]->path, *value = sets[i]->value;
		for (int k = 0; k < 3; k++) {
			size_t n = strlen(lists[k]);
			if (path == NULL || strncmp(path, lists[k], n) != 0)
				continue;
			char *end = NULL;
			errno = 0;
			unsigned long pos = strtoul(path + n, &end, 10);
			if (end == path + n || errno != 0 ||
			    (*end != '\0' && *end != '.'))
				continue;
			if (*end == '\0' && (value == NULL || !value[0]))
				marks_remove(&m[k], pos);
			else
				marks_add(&m[k], pos);
		}
	}
}

static uint64_t section_version(const Carta__V1__Card *c, int section,
				Carta__V1__SectionVersion **sv)
{
	for (size_t i = 0; i < c->n_sections; i++)
		if ((int)c->sections[i]->section == section) {
			*sv = c->sections[i];
			return c->sections[i]->version;
		}
	*sv = NULL;
	return 0;
}

struct edit_args {
	const store_actor *who;
	const char *source;
	int section;
	Carta__V1__FieldSet *const *sets;
	size_t nsets;
	Carta__V1__Card *card;
	int64_t now;
	bool done;
};

/* Updates the card the edit answers with, as stored. */
static int show_points(Carta__V1__Card *card, const marks m[3],
		       const char *source, int64_t now)
{
	Carta__V1__Contact *k = card->contact;
	int rv = 0;

	for (size_t i = 0; rv == 0 && k != NULL && i < m[0].n; i++)
		if (m[0].pos[i] < k->n_emails) {
			k->emails[m[0].pos[i]]->verified_at = now;
			rv = pb_set_string(
			    &k->emails[m[0].pos[i]]->verified_source, source);
		}
	for (size_t i = 0; rv == 0 && k != NULL && i < m[1].n; i++)
		if (m[1].pos[i] < k->n_phones) {
			k->phones[m[1].pos[i]]->verified_at = now;
			rv = pb_set_string(
			    &k->phones[m[1].pos[i]]->verified_source, source);
		}
	for (size_t i = 0; rv == 0 && k != NULL && i < m[2].n; i++)
		if (m[2].pos[i] < k->n_addresses) {
			k->addresses[m[2].pos[i]]->verified_at = now;
			rv = pb_set_string(
			    &k->addresses[m[2].pos[i]]->verified_source,
			    source);
		}
	return rv;
}

static int edit_fn(sqlite3 *conn, void *arg)
{
	struct edit_args *a = arg;
	Carta__V1__SectionVersion *sv = NULL;
	uint64_t ours = section_version(a->card, a->section, &sv);
	int64_t now_v = 0;
	marks m[3] = {0};

	/* Another write came between the edit and this: leave it be. */
	int rv =
	    store_conn_section_version(conn, a->card->id, a->section, &now_v);
	if (rv != 0)
		return rv;
	if (sv == NULL || (uint64_t)now_v != ours)
		return 0;

	rv = mark_section(conn, a->who, a->card->id, a->section, a->source,
			  a->now);
	if (a->section == CARTA__V1__SECTION__SECTION_CONTACT) {
		follow_sets(a->sets, a->nsets, m);
		for (int k = 0; k < 3; k++)
			for (size_t i = 0; rv == 0 && i < m[k].n; i++)
				rv = mark_points(conn, a->card->id, k + 1,
						 (int64_t)m[k].pos[i],
						 a->source, a->now);
	}
	if (rv != 0)
		return rv;

	/* The answer shows what was stored. */
	sv->verified_at = a->now;
	rv = pb_set_string(&sv->verified_source, a->source);
	if (rv == 0 && a->section == CARTA__V1__SECTION__SECTION_CONTACT)
		rv = show_points(a->card, m, a->source, a->now);
	a->done = rv == 0;
	return rv;
}

int store_verify_edit(store *s, const store_actor *who, int section,
		      const char *source, Carta__V1__FieldSet *const *sets,
		      size_t nsets, Carta__V1__Card *card)
{
	struct edit_args a = {.who = who,
			      .source = source,
			      .section = section,
			      .sets = sets,
			      .nsets = nsets,
			      .card = card,
			      .now = (int64_t)time(NULL)};

	if (!store_verify_source_valid(source) || card == NULL ||
	    card->id == NULL || section < 1 || section > 8 ||
	    !(STORE_VERIFY_SECTIONS & BIT(section)))
		return CARTA_EINVAL;
	return store_run(s, 1, edit_fn, &a);
}

/* ---- cards due --------------------------------------------------------- */

/* The latest consent state on a channel, of any purpose; a withdrawal
 * wins a tie (the rule of the query engine's consent filters). */
static int consented(sqlite3 *conn, const char *id, const char *channel,
		     bool *out)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn,
			    "SELECT state FROM consents WHERE card_id = ? AND "
			    "channel = ? ORDER BY at DESC, state DESC LIMIT 1",
			    &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, channel);
	int rc = sqlite3_step(st);
	*out =
	    rc == SQLITE_ROW && sqlite3_column_int(st, 0) ==
				    CARTA__V1__CONSENT_STATE__CONSENT_GRANTED;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_map_rc(rc);
}

/* The contact point to use on channel: the primary one of its kind, else
 * the first. *out is malloc'd, or NULL when the card has none. */
static int contact_for(sqlite3 *conn, const char *id, const char *channel,
		       char **out)
{
	sqlite3_stmt *st = NULL;
	int kind = strcmp(channel, "email") == 0  ? KIND_EMAIL
		   : strcmp(channel, "post") == 0 ? KIND_ADDRESS
						  : KIND_PHONE;
	int rv =
	    store_prep(conn,
		       "SELECT value, street, postal_code, city, country "
		       "FROM contact_points WHERE card_id = ? AND kind = ? AND "
		       "(value != '' OR street != '' OR city != '') "
		       "ORDER BY is_primary DESC, position LIMIT 1",
		       &st);

	*out = NULL;
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, kind);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && kind != KIND_ADDRESS) {
		*out = strdup((const char *)sqlite3_column_text(st, 0));
		rv = *out ? 0 : CARTA_ENOMEM;
	} else if (rc == SQLITE_ROW) {
		/* "Calle Mayor 1, 28013 Madrid, ES", skipping empty parts. */
		const char *street = (const char *)sqlite3_column_text(st, 1);
		const char *postal = (const char *)sqlite3_column_text(st, 2);
		const char *city = (const char *)sqlite3_column_text(st, 3);
		const char *country = (const char *)sqlite3_column_text(st, 4);
		size_t cap = strlen(street) + strlen(postal) + strlen(city) +
			     strlen(country) + 8;
		char *t = malloc(cap);
		if (t == NULL) {
			rv = CARTA_ENOMEM;
		} else {
			snprintf(t, cap, "%s%s%s%s%s%s%s", street,
				 street[0] && (postal[0] || city[0]) ? ", "
								     : "",
				 postal, postal[0] && city[0] ? " " : "", city,
				 country[0] ? ", " : "", country);
			*out = t;
		}
	} else if (rc != SQLITE_DONE) {
		rv = store_map_rc(rc);
	}
	sqlite3_finalize(st);
	return rv;
}

/* The first preferred channel the card has consented to and holds a
 * contact point for. Leaves item's channel and contact empty when none. */
static int pick_channel(sqlite3 *conn, const char *id, const char *preferred,
			Carta__V1__VerifyDueItem *item)
{
	char buf[256];
	int rv = 0;

	snprintf(buf, sizeof(buf), "%s", preferred ? preferred : "");
	for (char *save = NULL, *t = strtok_r(buf, ",", &save);
	     rv == 0 && t != NULL; t = strtok_r(NULL, ",", &save)) {
		bool ok = false;
		char *contact = NULL;
		/* Consent is given per email, phone, sms and post. */
		if (strcmp(t, "email") != 0 && strcmp(t, "phone") != 0 &&
		    strcmp(t, "sms") != 0 && strcmp(t, "post") != 0)
			continue;
		rv = consented(conn, id, t, &ok);
		if (rv != 0 || !ok)
			continue;
		rv = contact_for(conn, id, t, &contact);
		if (rv != 0 || contact == NULL)
			continue;
		item->contact = contact;
		rv = pb_set_string(&item->channel, t);
		break;
	}
	return rv;
}

/* "VERIFIED_AT:NUMBER" of the last item of a page. */
static int parse_cursor(const char *cursor, int64_t *at, char number[32])
{
	char *end = NULL;

	errno = 0;
	long long v = strtoll(cursor, &end, 10);
	if (end == cursor || errno != 0 || *end != ':' || v < 0 ||
	    strlen(end + 1) == 0 || strlen(end + 1) >= 32)
		return CARTA_EINVAL;
	*at = v;
	snprintf(number, 32, "%s", end + 1);
	return 0;
}

struct due_args {
	int section;
	int64_t cutoff;
	const char *cursor;
	unsigned limit;
	Carta__V1__VerifyDuePage *out;
};

static int due_row(sqlite3 *conn, sqlite3_stmt *st, int section,
		   Carta__V1__VerifyDuePage *page)
{
	Carta__V1__VerifyDueItem *item = malloc(sizeof(*item));
	Carta__V1__VerifyDueItem **grown =
	    realloc(page->items, (page->n_items + 1) * sizeof(*grown));
	const char *id = (const char *)sqlite3_column_text(st, 0);
	const char *given = (const char *)sqlite3_column_text(st, 2);
	const char *family = (const char *)sqlite3_column_text(st, 3);
	const char *company = (const char *)sqlite3_column_text(st, 4);
	char name[1024];

	if (grown != NULL)
		page->items = grown;
	if (item == NULL || grown == NULL) {
		free(item);
		return CARTA_ENOMEM;
	}
	carta__v1__verify_due_item__init(item);
	page->items[page->n_items++] = item;

	/* Given and family name, else the company. */
	snprintf(name, sizeof(name), "%s%s%s", given,
		 given[0] && family[0] ? " " : "", family);
	if (name[0] == '\0')
		snprintf(name, sizeof(name), "%s", company);
	item->section = (Carta__V1__Section)section;
	item->verified_at = sqlite3_column_int64(st, 5);
	int rv = pb_set_string(&item->number,
			       (const char *)sqlite3_column_text(st, 1));
	if (rv == 0)
		rv = pb_set_string(&item->name, name);
	if (rv == 0)
		rv = pick_channel(
		    conn, id, (const char *)sqlite3_column_text(st, 6), item);
	return rv;
}

static int due_fn(sqlite3 *conn, void *arg)
{
	struct due_args *a = arg;
	Carta__V1__VerifyDuePage *page = malloc(sizeof(*page));
	sqlite3_stmt *st = NULL;
	char after[32] = "";
	int64_t after_at = 0;
	size_t bytes = 0;
	int rv = 0;

	if (page == NULL)
		return CARTA_ENOMEM;
	carta__v1__verify_due_page__init(page);
	if (a->cursor[0] != '\0')
		rv = parse_cursor(a->cursor, &after_at, after);
	/* Never confirmed (0) sorts first; numbers sort by length first so
	 * that C-1000000 comes after C-999999. */
	if (rv == 0)
		rv = store_prep(
		    conn,
		    "SELECT c.id, c.number, c.given_name, c.family_name, "
		    "c.company, s.verified_at, c.preferred_channels "
		    "FROM card_sections s JOIN cards c ON c.id = "
		    "s.card_id WHERE s.section = ?1 AND "
		    "(s.verified_at = 0 OR s.verified_at < ?2) AND "
		    "c.merged_into = '' AND c.erased_at = 0 AND "
		    "c.status != 'archived' AND (?3 = '' OR "
		    "(s.verified_at, length(c.number), c.number) > "
		    "(?4, length(?3), ?3)) ORDER BY s.verified_at, "
		    "length(c.number), c.number LIMIT ?5",
		    &st);
	if (rv != 0) {
		carta__v1__verify_due_page__free_unpacked(page, NULL);
		return rv;
	}
	sqlite3_bind_int(st, 1, a->section);
	sqlite3_bind_int64(st, 2, a->cutoff);
	store_bind_text(st, 3, after);
	sqlite3_bind_int64(st, 4, after_at);
	/* One row more than the page tells whether another page follows. */
	sqlite3_bind_int64(st, 5, (int64_t)a->limit + 1);

	int rc = SQLITE_DONE;
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* A row beyond a full page: the page ends, another follows.
		 * A page also ends at STORE_PAGE_BYTES, to fit one message. */
		if (page->n_items == a->limit || bytes >= STORE_PAGE_BYTES) {
			const Carta__V1__VerifyDueItem *last =
			    page->items[page->n_items - 1];
			char next[64];
			snprintf(next, sizeof(next), "%lld:%s",
				 (long long)last->verified_at, last->number);
			rv = pb_set_string(&page->next_cursor, next);
			rc = SQLITE_DONE;
			break;
		}
		rv = due_row(conn, st, a->section, page);
		if (rv == 0)
			bytes += carta__v1__verify_due_item__get_packed_size(
			    page->items[page->n_items - 1]);
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	if (rv != 0) {
		carta__v1__verify_due_page__free_unpacked(page, NULL);
		return rv;
	}
	a->out = page;
	return 0;
}

int store_verify_due(store *s, int section, int64_t cutoff, const char *cursor,
		     unsigned limit, Carta__V1__VerifyDuePage **out)
{
	struct due_args a = {.section = section,
			     .cutoff = cutoff,
			     .cursor = cursor ? cursor : "",
			     .limit = limit};

	if (section < 1 || section > 8 ||
	    !(STORE_VERIFY_SECTIONS & BIT(section)) || limit == 0)
		return CARTA_EINVAL;
	int rv = store_run(s, 0, due_fn, &a);
	if (rv == 0)
		*out = a.out;
	return rv;
}

/* ---- stats ------------------------------------------------------------- */

struct stats_args {
	int64_t as_of, period;
	store_verify_stats *out;
};

static int stats_fn(sqlite3 *conn, void *arg)
{
	struct stats_args *a = arg;
	store_verify_stats *o = a->out;
	int rv = count(conn,
		       "SELECT count(*) FROM cards WHERE merged_into = '' AND "
		       "erased_at = 0",
		       0, 0, &o->cards);

	if (rv == 0)
		rv = count(conn,
			   "SELECT count(*) FROM cards c JOIN card_sections s "
			   "ON s.card_id = c.id AND s.section = 2 WHERE "
			   "c.merged_into = '' AND c.erased_at = 0 AND "
			   "s.verified_at != 0 AND s.verified_at >= ?1 AND "
			   "s.verified_at <= ?2",
			   a->as_of - a->period, a->as_of, &o->verified_within);
	if (rv == 0)
		rv = count(conn,
			   "SELECT count(*) FROM cards WHERE merged_into != ''",
			   0, 0, &o->merged);
	if (rv == 0)
		rv = count(conn,
			   "SELECT count(*) FROM cards WHERE erased_at != 0", 0,
			   0, &o->erased);
	if (rv == 0)
		rv = count(conn, "SELECT count(*) FROM suppressions", 0, 0,
			   &o->suppressions);
	return rv;
}

int store_verify_stats_get(store *s, int64_t as_of, int64_t period,
			   store_verify_stats *out)
{
	struct stats_args a = {.as_of = as_of, .period = period, .out = out};

	memset(out, 0, sizeof(*out));
	return store_run(s, 0, stats_fn, &a);
}
