/* Merge and unmerge (store_merge.h, docs/MERGE.md). The survivor's new
 * sections are planned in memory on copies of both cards, then written
 * with SQL on the tables of store.c in the same transaction; purchases,
 * interactions, notes and history entries move by changing their card,
 * so that they keep their ids and order. */
#include "store_merge.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "card.h"
#include "carta_error.h"
#include "pbreflect.h"
#include "store_card.h"
#include "store_internal.h"

/* What the job returns for a dry run once the plan is made: non-zero, so
 * that the writer rolls every change back (as store_import.c does). */
#define DRY_RUN_DONE 1

#define S_IDENTITY     CARTA__V1__SECTION__SECTION_IDENTITY
#define S_CONTACT      CARTA__V1__SECTION__SECTION_CONTACT
#define S_DEMOGRAPHICS CARTA__V1__SECTION__SECTION_DEMOGRAPHICS
#define S_PURCHASES    CARTA__V1__SECTION__SECTION_PURCHASES
#define S_PREFERENCES  CARTA__V1__SECTION__SECTION_PREFERENCES
#define S_INTERACTIONS CARTA__V1__SECTION__SECTION_INTERACTIONS
#define S_NOTES	       CARTA__V1__SECTION__SECTION_NOTES
#define S_CONSENT      CARTA__V1__SECTION__SECTION_CONSENT
#define BIT(s)	       (1u << (s))

enum { KIND_EMAIL = 1, KIND_PHONE = 2, KIND_ADDRESS = 3 };

/* ---- small helpers ---------------------------------------------------- */

/* A malloc'd copy, or protobuf's shared empty string; NULL when out of
 * memory. */
static char *dup_or_empty(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return (char *)protobuf_c_empty_string;
	return strdup(s);
}

static void iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int text_of(sqlite3 *conn, const char *sql, const char *arg, char *out,
		   size_t cap)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, sql, &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, arg);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, cap, "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW	   ? 0
	       : rc == SQLITE_DONE ? CARTA_ENOENT
				   : store_map_rc(rc);
}

static int count_of(sqlite3 *conn, const char *sql, const char *id, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, sql, &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_map_rc(rc);
}

/* ---- sections as JSON: what changed, and the audit's values ----------- */

static json_t *history_json(const Carta__V1__Card *c, int section)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n_history; i++)
		if ((int)c->history[i]->section == section)
			json_array_append_new(a,
					      pb_to_json(&c->history[i]->base));
	return a;
}

/* The JSON of one section of a card (its custom values included, and
 * with history its history entries); malloc'd, NULL when out of memory.
 * Purchases, interactions and notes are not in it: they move whole. */
static char *sec_json(const Carta__V1__Card *c, int section, int history)
{
	json_t *o = store_section_json(c, section);

	if (o == NULL)
		return NULL;
	if (history) {
		json_t *h = history_json(c, section);
		if (h != NULL && json_array_size(h) > 0)
			json_object_set_new(o, "history", h);
		else
			json_decref(h);
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* ---- writing sections (as store_card.c stores them) -------------------- */

/* A card's sections packed without its recent lists (the items are put
 * back by id, not from this). malloc'd into *out. */
static int pack_sections(Carta__V1__Card *c, uint8_t **out, size_t *len)
{
	size_t np = c->n_purchases, ni = c->n_interactions, nn = c->n_notes;

	c->n_purchases = c->n_interactions = c->n_notes = 0;
	*len = carta__v1__card__get_packed_size(c);
	*out = malloc(*len ? *len : 1);
	if (*out != NULL)
		carta__v1__card__pack(c, *out);
	c->n_purchases = np;
	c->n_interactions = ni;
	c->n_notes = nn;
	return *out ? 0 : CARTA_ENOMEM;
}

/* ---- the plan ---------------------------------------------------------- */

/* The single values, by section and name. */
static const struct single {
	int section;
	const char *name;
	size_t off;
} singles[] = {
    {S_IDENTITY, "given_name", offsetof(Carta__V1__Identity, given_name)},
    {S_IDENTITY, "family_name", offsetof(Carta__V1__Identity, family_name)},
    {S_IDENTITY, "company", offsetof(Carta__V1__Identity, company)},
    {S_IDENTITY, "status", offsetof(Carta__V1__Identity, status)},
    {S_IDENTITY, "home_branch", offsetof(Carta__V1__Identity, home_branch)},
    {S_IDENTITY, "external_id", offsetof(Carta__V1__Identity, external_id)},
    {S_DEMOGRAPHICS, "birth_date",
     offsetof(Carta__V1__Demographics, birth_date)},
    {S_DEMOGRAPHICS, "gender", offsetof(Carta__V1__Demographics, gender)},
    {S_DEMOGRAPHICS, "profession",
     offsetof(Carta__V1__Demographics, profession)},
    {S_DEMOGRAPHICS, "language", offsetof(Carta__V1__Demographics, language)},
};
#define N_SINGLES (sizeof(singles) / sizeof(singles[0]))

static char **single_ptr(Carta__V1__Card *c, const struct single *f)
{
	char *base = f->section == S_IDENTITY ? (char *)c->identity
					      : (char *)c->demographics;
	return (char **)(base + f->off);
}

/* A value that lost, for the survivor's history. */
struct hist {
	int section;
	char field[112];
	char *value;
};

struct merge_args {
	const store_actor *who;
	const store_merge_req *req;
	char *msg;
	/* the cards: ids, numbers, before (0) and planned (1) */
	char sid[33], oid[33], snum[32], onum[32];
	Carta__V1__Card *s0, *o0, *s1, *o1;
	Carta__V1__MergePlan *plan;
	struct hist *hist;
	size_t nhist;
	uint32_t cs, co; /* sections changed on survivor and other */
	int64_t items[CARD_SECTIONS]; /* other's purchases, ... */
	char merge_id[24];
	char source[96];
};

static int change(struct merge_args *m, int section, const char *field,
		  const char *action, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int change(struct merge_args *m, int section, const char *field,
		  const char *action, const char *fmt, ...)
{
	char detail[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	Carta__V1__MergeChange *c = malloc(sizeof(*c));
	if (c == NULL)
		return CARTA_ENOMEM;
	carta__v1__merge_change__init(c);
	c->section = (Carta__V1__Section)section;
	int rv = pb_set_string(&c->field, field);
	if (rv == 0)
		rv = pb_set_string(&c->action, action);
	if (rv == 0)
		rv = pb_set_string(&c->detail, detail);
	if (rv == 0)
		rv = PB_PUSH(m->plan->changes, m->plan->n_changes, c);
	if (rv != 0)
		carta__v1__merge_change__free_unpacked(c, NULL);
	return rv;
}

static int add_hist(struct merge_args *m, int section, const char *field,
		    const char *value)
{
	struct hist *grown =
	    realloc(m->hist, (m->nhist + 1) * sizeof(*m->hist));
	if (grown == NULL)
		return CARTA_ENOMEM;
	m->hist = grown;
	struct hist *h = &m->hist[m->nhist];
	h->section = section;
	snprintf(h->field, sizeof(h->field), "%s", field);
	h->value = strdup(value);
	if (h->value == NULL)
		return CARTA_ENOMEM;
	m->nhist++;
	m->cs |= BIT(section);
	return 0;
}

/* Whether the request asked for other's value of section.field. */
static int prefers(const struct merge_args *m, const char *section,
		   const char *field)
{
	char key[160];

	snprintf(key, sizeof(key), "%s.%s", section, field);
	for (size_t i = 0; i < m->req->n_prefer; i++)
		if (strcmp(m->req->prefer_other[i], key) == 0)
			return 1;
	return 0;
}

/* Never an empty value over a full one; when both are full and differ,
 * the survivor's stays unless other's is preferred, and the loser goes
 * to history. */
static int merge_singles(struct merge_args *m)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < N_SINGLES; i++) {
		const struct single *f = &singles[i];
		const char *sec = card_section_name(f->section);
		char **sv = single_ptr(m->s1, f);
		const char *ov = *single_ptr(m->o0, f);

		if (ov[0] == '\0' || strcmp(*sv, ov) == 0)
			continue;
		if ((*sv)[0] == '\0') {
			rv = change(m, f->section, f->name, "take",
				    "'%s' from %s", ov, m->onum);
			if (rv == 0)
				rv = pb_set_string(sv, ov);
		} else if (prefers(m, sec, f->name)) {
			rv = change(m, f->section, f->name, "take",
				    "'%s' replaced by '%s' (kept in history)",
				    *sv, ov);
			if (rv == 0)
				rv = add_hist(m, f->section, f->name, *sv);
			if (rv == 0)
				rv = pb_set_string(sv, ov);
		} else {
			rv = change(m, f->section, f->name, "keep",
				    "'%s' kept; %s's '%s' kept in history", *sv,
				    m->onum, ov);
			if (rv == 0)
				rv = add_hist(m, f->section, f->name, ov);
		}
	}
	return rv;
}

/* A joined contact point keeps the newer verification of the two. */
static int join_verified(int64_t *at, char **source, int64_t oat,
			 const char *osource)
{
	if (oat <= *at)
		return 0;
	*at = oat;
	return pb_set_string(source, osource);
}

/* A text of a joined contact point: the survivor's stays when it has
 * one, other's differing text goes to history. */
static int join_text(struct merge_args *m, char **text, const char *other,
		     const char *field)
{
	if (other[0] == '\0' || strcmp(*text, other) == 0)
		return 0;
	if ((*text)[0] == '\0')
		return pb_set_string(text, other);
	return add_hist(m, S_CONTACT, field, other);
}

static int same_address(const Carta__V1__Address *a,
			const Carta__V1__Address *b)
{
	return strcmp(a->street, b->street) == 0 &&
	       strcmp(a->city, b->city) == 0 &&
	       strcmp(a->postal_code, b->postal_code) == 0 &&
	       strcmp(a->region, b->region) == 0 &&
	       strcmp(a->country, b->country) == 0;
}

static int merge_emails(struct merge_args *m, Carta__V1__Contact *to,
			const Carta__V1__Contact *from)
{
	int rv = 0, primary = 0;

	for (size_t i = 0; i < to->n_emails; i++)
		primary |= to->emails[i]->primary;
	for (size_t i = 0; rv == 0 && i < from->n_emails; i++) {
		const Carta__V1__Email *e = from->emails[i];
		Carta__V1__Email *same = NULL;
		for (size_t j = 0; same == NULL && j < to->n_emails; j++)
			if (strcasecmp(to->emails[j]->address, e->address) == 0)
				same = to->emails[j];
		if (same != NULL) {
			rv = change(m, S_CONTACT, "emails", "join",
				    "%s is on both cards: one kept, newest "
				    "verification",
				    e->address);
			if (rv == 0)
				rv = join_verified(
				    &same->verified_at, &same->verified_source,
				    e->verified_at, e->verified_source);
			if (rv == 0 && strcmp(same->address, e->address))
				rv = add_hist(m, S_CONTACT, "emails.address",
					      e->address);
			if (rv == 0)
				rv = join_text(m, &same->label, e->label,
					       "emails.label");
			continue;
		}
		rv = change(m, S_CONTACT, "emails", "add", "%s", e->address);
		if (rv == 0)
			rv = PB_PUSH_CLONE(to->emails, to->n_emails, e);
		/* One primary of a kind: the survivor's. */
		if (rv == 0 && primary)
			to->emails[to->n_emails - 1]->primary = 0;
	}
	return rv;
}

static int merge_phones(struct merge_args *m, Carta__V1__Contact *to,
			const Carta__V1__Contact *from)
{
	int rv = 0, primary = 0;

	for (size_t i = 0; i < to->n_phones; i++)
		primary |= to->phones[i]->primary;
	for (size_t i = 0; rv == 0 && i < from->n_phones; i++) {
		const Carta__V1__Phone *p = from->phones[i];
		Carta__V1__Phone *same = NULL;
		for (size_t j = 0; same == NULL && j < to->n_phones; j++)
			if (strcmp(to->phones[j]->number, p->number) == 0)
				same = to->phones[j];
		if (same != NULL) {
			rv = change(m, S_CONTACT, "phones", "join",
				    "%s is on both cards: one kept, newest "
				    "verification",
				    p->number);
			if (rv == 0)
				rv = join_verified(
				    &same->verified_at, &same->verified_source,
				    p->verified_at, p->verified_source);
			if (rv == 0)
				rv = join_text(m, &same->original, p->original,
					       "phones.original");
			if (rv == 0)
				rv = join_text(m, &same->label, p->label,
					       "phones.label");
			continue;
		}
		rv = change(m, S_CONTACT, "phones", "add", "%s", p->number);
		if (rv == 0)
			rv = PB_PUSH_CLONE(to->phones, to->n_phones, p);
		if (rv == 0 && primary)
			to->phones[to->n_phones - 1]->primary = 0;
	}
	return rv;
}

static int merge_addresses(struct merge_args *m, Carta__V1__Contact *to,
			   const Carta__V1__Contact *from)
{
	int rv = 0, primary = 0;

	for (size_t i = 0; i < to->n_addresses; i++)
		primary |= to->addresses[i]->primary;
	for (size_t i = 0; rv == 0 && i < from->n_addresses; i++) {
		const Carta__V1__Address *a = from->addresses[i];
		Carta__V1__Address *same = NULL;
		for (size_t j = 0; same == NULL && j < to->n_addresses; j++)
			if (same_address(to->addresses[j], a))
				same = to->addresses[j];
		if (same != NULL) {
			rv = change(m, S_CONTACT, "addresses", "join",
				    "%s, %s %s is on both cards: one kept, "
				    "newest verification",
				    a->street, a->postal_code, a->city);
			if (rv == 0)
				rv = join_verified(
				    &same->verified_at, &same->verified_source,
				    a->verified_at, a->verified_source);
			if (rv == 0)
				rv = join_text(m, &same->label, a->label,
					       "addresses.label");
			continue;
		}
		rv = change(m, S_CONTACT, "addresses", "add", "%s, %s %s",
			    a->street, a->postal_code, a->city);
		if (rv == 0)
			rv = PB_PUSH_CLONE(to->addresses, to->n_addresses, a);
		if (rv == 0 && primary)
			to->addresses[to->n_addresses - 1]->primary = 0;
	}
	return rv;
}

static int merge_contact(struct merge_args *m)
{
	Carta__V1__Contact *to = m->s1->contact;
	const Carta__V1__Contact *from = m->o0->contact;
	int rv = merge_emails(m, to, from);

	if (rv == 0)
		rv = merge_phones(m, to, from);
	if (rv == 0)
		rv = merge_addresses(m, to, from);
	for (size_t i = 0; rv == 0 && i < from->n_preferred_channels; i++) {
		const char *ch = from->preferred_channels[i];
		int have = 0;
		for (size_t j = 0; j < to->n_preferred_channels; j++)
			have |= strcmp(to->preferred_channels[j], ch) == 0;
		if (have)
			continue;
		char *copy = strdup(ch);
		rv = copy ? PB_PUSH(to->preferred_channels,
				    to->n_preferred_channels, copy)
			  : CARTA_ENOMEM;
		if (rv != 0)
			free(copy);
		if (rv == 0)
			rv = change(m, S_CONTACT, "preferred_channels", "add",
				    "%s", ch);
	}
	if (rv == 0 &&
	    (to->n_emails > CARD_LIST_MAX || to->n_phones > CARD_LIST_MAX ||
	     to->n_addresses > CARD_LIST_MAX)) {
		snprintf(m->msg, STORE_MERGE_MSG_MAX,
			 "the merged card would have more than %d emails, "
			 "phones or addresses: remove some first",
			 CARD_LIST_MAX);
		rv = CARTA_ESTATE;
	}
	return rv;
}

static const char *consent_state(int state)
{
	return state == CARTA__V1__CONSENT_STATE__CONSENT_GRANTED ? "granted"
	       : state == CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN
		   ? "withdrawn"
		   : "unspecified";
}

static void consent_text(const Carta__V1__Consent *k, char *out, size_t cap)
{
	char at[32];

	iso_time(k->at, at);
	snprintf(out, cap, "%s at %s%s%s", consent_state(k->state), at,
		 k->source[0] ? " by " : "", k->source);
}

/* Per purpose and channel, the newer decision wins (a withdrawal wins a
 * tie); the loser goes to history. */
static int merge_consents(struct merge_args *m)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < m->o0->n_consents; i++) {
		const Carta__V1__Consent *k = m->o0->consents[i];
		Carta__V1__Consent *f = NULL;
		char key[160], kt[160], ft[160];

		snprintf(key, sizeof(key), "%s.%s", k->purpose, k->channel);
		for (size_t j = 0; f == NULL && j < m->s1->n_consents; j++)
			if (strcmp(m->s1->consents[j]->purpose, k->purpose) ==
				0 &&
			    strcmp(m->s1->consents[j]->channel, k->channel) ==
				0)
				f = m->s1->consents[j];
		consent_text(k, kt, sizeof(kt));
		if (f == NULL) {
			rv = change(m, S_CONSENT, key, "add", "%s", kt);
			if (rv == 0)
				rv = PB_PUSH_CLONE(m->s1->consents,
						   m->s1->n_consents, k);
			continue;
		}
		consent_text(f, ft, sizeof(ft));
		if (strcmp(kt, ft) == 0)
			continue;
		const Carta__V1__ConsentState withdrawn =
		    CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN;
		int other_wins =
		    k->at > f->at || (k->at == f->at && k->state == withdrawn &&
				      f->state != withdrawn);
		if (other_wins) {
			rv = change(m, S_CONSENT, key, "take",
				    "%s's %s is %s; %s kept in history",
				    m->onum, kt,
				    k->at > f->at ? "newer"
						  : "a withdrawal at the same "
						    "time",
				    ft);
			if (rv == 0)
				rv = add_hist(m, S_CONSENT, key, ft);
			f->state = k->state;
			f->at = k->at;
			if (rv == 0)
				rv = pb_set_string(&f->source, k->source);
		} else {
			rv = change(m, S_CONSENT, key, "keep",
				    "%s kept; %s's %s kept in history", ft,
				    m->onum, kt);
			if (rv == 0)
				rv = add_hist(m, S_CONSENT, key, kt);
		}
	}
	return rv;
}

static int merge_preferences(struct merge_args *m)
{
	const char *sec = card_section_name(S_PREFERENCES);
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < m->o0->n_preferences; i++) {
		const Carta__V1__Preference *p = m->o0->preferences[i];
		Carta__V1__Preference *f = NULL;
		for (size_t j = 0; f == NULL && j < m->s1->n_preferences; j++)
			if (strcmp(m->s1->preferences[j]->key, p->key) == 0)
				f = m->s1->preferences[j];
		if (f == NULL) {
			rv = change(m, S_PREFERENCES, p->key, "add", "'%s'",
				    p->value);
			if (rv == 0)
				rv = PB_PUSH_CLONE(m->s1->preferences,
						   m->s1->n_preferences, p);
		} else if (strcmp(f->value, p->value) == 0) {
			continue;
		} else if (prefers(m, sec, p->key)) {
			rv = change(m, S_PREFERENCES, p->key, "take",
				    "'%s' replaced by '%s' (kept in history)",
				    f->value, p->value);
			if (rv == 0)
				rv = add_hist(m, S_PREFERENCES, p->key,
					      f->value);
			if (rv == 0)
				rv = pb_set_string(&f->value, p->value);
		} else {
			rv = change(m, S_PREFERENCES, p->key, "keep",
				    "'%s' kept; %s's '%s' kept in history",
				    f->value, m->onum, p->value);
			if (rv == 0)
				rv = add_hist(m, S_PREFERENCES, p->key,
					      p->value);
		}
	}
	return rv;
}

static int merge_custom(struct merge_args *m)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < m->o0->n_custom; i++) {
		const Carta__V1__CustomValue *v = m->o0->custom[i];
		int sec = (int)v->section;
		const char *sname = card_section_name(sec);
		Carta__V1__CustomValue *f = NULL;
		char field[112];

		snprintf(field, sizeof(field), "custom.%s", v->field);
		for (size_t j = 0; f == NULL && j < m->s1->n_custom; j++)
			if (strcmp(m->s1->custom[j]->field, v->field) == 0)
				f = m->s1->custom[j];
		if (f == NULL) {
			rv = change(m, sec, field, "add", "'%s'", v->value);
			if (rv == 0)
				rv = PB_PUSH_CLONE(m->s1->custom,
						   m->s1->n_custom, v);
		} else if (strcmp(f->value, v->value) == 0) {
			continue;
		} else if (prefers(m, "custom", v->field) ||
			   (sname && prefers(m, sname, v->field))) {
			rv = change(m, sec, field, "take",
				    "'%s' replaced by '%s' (kept in history)",
				    f->value, v->value);
			if (rv == 0)
				rv = add_hist(m, sec, field, f->value);
			if (rv == 0)
				rv = pb_set_string(&f->value, v->value);
		} else {
			rv = change(m, sec, field, "keep",
				    "'%s' kept; %s's '%s' kept in history",
				    f->value, m->onum, v->value);
			if (rv == 0)
				rv = add_hist(m, sec, field, v->value);
		}
	}
	return rv;
}

/* Purchases, interactions and notes of other, and its history: counted
 * here, moved when written. An invoice on both cards cannot be on one
 * (invoices are unique per card): the merge is refused. */
static int plan_items(struct merge_args *m, sqlite3 *conn)
{
	static const struct {
		int section;
		const char *sql, *what;
	} lists[] = {
	    {S_PURCHASES, "SELECT count(*) FROM purchases WHERE card_id = ?",
	     "purchases"},
	    {S_INTERACTIONS,
	     "SELECT count(*) FROM interactions WHERE card_id = ?",
	     "interactions"},
	    {S_NOTES, "SELECT count(*) FROM notes WHERE card_id = ?", "notes"},
	};
	sqlite3_stmt *st = NULL;
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < 3; i++) {
		int s = lists[i].section;
		rv = count_of(conn, lists[i].sql, m->oid, &m->items[s]);
		if (rv == 0 && m->items[s] > 0) {
			m->cs |= BIT(s);
			m->co |= BIT(s);
			rv = change(m, s, lists[i].what, "move",
				    "%lld %s of %s", (long long)m->items[s],
				    lists[i].what, m->onum);
		}
	}

	rv = rv ? rv
		: store_prep(
		      conn,
		      "SELECT o.invoice FROM purchases o JOIN purchases s ON "
		      "s.card_id = ?2 AND s.invoice = o.invoice WHERE "
		      "o.card_id = ?1 AND o.invoice != '' LIMIT 1",
		      &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, m->oid);
	store_bind_text(st, 2, m->sid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(m->msg, STORE_MERGE_MSG_MAX,
			 "both cards have a purchase with invoice %.60s: "
			 "settle it on one card first",
			 (const char *)sqlite3_column_text(st, 0));
		rv = CARTA_ESTATE;
	}
	sqlite3_finalize(st);

	for (size_t i = 0; rv == 0 && i < m->o0->n_history; i++) {
		const Carta__V1__HistoryEntry *h = m->o0->history[i];
		int s = (int)h->section;
		if (s <= 0 || s >= CARD_SECTIONS)
			continue;
		m->cs |= BIT(s);
		m->co |= BIT(s);
		rv = change(m, s, h->field, "history",
			    "%s's history entry '%s' (%s) moves along", m->onum,
			    h->value, h->source);
	}
	return rv;
}

/* Other as it is left: its number, and nothing else. */
static int empty_card(const char *number, Carta__V1__Card **out)
{
	Carta__V1__Card *c = store_card_skeleton();

	if (c == NULL)
		return CARTA_ENOMEM;
	c->identity->number = dup_or_empty(number);
	if (c->identity->number == NULL) {
		carta__v1__card__free_unpacked(c, NULL);
		return CARTA_ENOMEM;
	}
	*out = c;
	return 0;
}

/* Adds to *mask the sections whose content differs between a and b. */
static int diff_sections(const Carta__V1__Card *a, const Carta__V1__Card *b,
			 uint32_t *mask)
{
	for (int s = 1; s < CARD_SECTIONS; s++) {
		char *x = sec_json(a, s, 0), *y = sec_json(b, s, 0);
		int rv = x && y ? 0 : CARTA_ENOMEM;
		if (rv == 0 && strcmp(x, y) != 0)
			*mask |= BIT(s);
		free(x);
		free(y);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* ---- finding the two cards --------------------------------------------- */

/* Resolves ref to a card that is neither merged nor erased. */
static int find_card(sqlite3 *conn, const char *ref, const char *role,
		     char id[33], char number[32], char *msg)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "SELECT number, merged_into, (SELECT number FROM cards "
		       "s WHERE s.id = c.merged_into) FROM cards c WHERE "
		       "(id = ?1 OR number = ?1) AND merged_into != ''",
		       &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, ref);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *into = (const char *)sqlite3_column_text(st, 2);
		snprintf(msg, STORE_MERGE_MSG_MAX,
			 "%s: %s was merged into %s already", role,
			 (const char *)sqlite3_column_text(st, 0),
			 into ? into : "another card");
		rv = CARTA_ESTATE;
	}
	sqlite3_finalize(st);
	if (rv == CARTA_ESTATE) {
		/* Through a chain of merges: name where it leads now. */
		char end[33], end_number[32];
		if (store_conn_find(conn, ref, end) == 0 &&
		    text_of(conn, "SELECT number FROM cards WHERE id = ?", end,
			    end_number, sizeof(end_number)) == 0 &&
		    strstr(msg, end_number) == NULL) {
			size_t n = strlen(msg);
			snprintf(msg + n, STORE_MERGE_MSG_MAX - n,
				 ", which is now part of %s", end_number);
		}
	}
	if (rv != 0)
		return rv;

	rv = store_conn_find(conn, ref, id);
	if (rv == CARTA_ENOENT)
		snprintf(msg, STORE_MERGE_MSG_MAX, "%s: no card matches it",
			 role);
	else if (rv == CARTA_EEXIST)
		snprintf(msg, STORE_MERGE_MSG_MAX,
			 "%s: several cards match it; use the customer number",
			 role);
	if (rv != 0)
		return rv;

	rv = store_prep(
	    conn, "SELECT number, erased_at FROM cards WHERE id = ?", &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(number, 32, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_int64(st, 1) != 0) {
			snprintf(msg, STORE_MERGE_MSG_MAX, "%s: %s was erased",
				 role, number);
			rv = CARTA_ESTATE;
		}
	} else {
		rv = CARTA_ENOENT;
	}
	sqlite3_finalize(st);
	return rv;
}

/* ---- writing a merge --------------------------------------------------- */

/* Runs an UPDATE ... RETURNING of one text or integer column with two
 * text parameters, collecting what it returns into arr. */
static int update_collect(sqlite3 *conn, const char *sql, const char *p1,
			  const char *p2, json_t *arr)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(conn, sql, &st), rc;

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, p1);
	store_bind_text(st, 2, p2);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *v =
		    sqlite3_column_type(st, 0) == SQLITE_INTEGER
			? json_integer(sqlite3_column_int64(st, 0))
			: json_string((const char *)sqlite3_column_text(st, 0));
		if (v == NULL || json_array_append_new(arr, v) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_map_rc(rc);
}

static int insert_hist(sqlite3 *conn, const char *id, const struct hist *h,
		       const char *source, json_t *added)
{
	sqlite3_stmt *st = NULL;
	int rv =
	    store_prep(conn,
		       "INSERT INTO card_history (card_id, at, section, field, "
		       "value, source) VALUES (?, ?, ?, ?, ?, ?)",
		       &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(st, 3, h->section);
	store_bind_text(st, 4, h->field);
	store_bind_text(st, 5, h->value);
	store_bind_text(st, 6, source);
	rv = store_step_done(st);
	if (rv == 0 &&
	    json_array_append_new(
		added, json_integer(sqlite3_last_insert_rowid(conn))) != 0)
		rv = CARTA_ENOMEM;
	return rv;
}

static const char *items_word(int section)
{
	return section == S_PURCHASES	   ? "purchases"
	       : section == S_INTERACTIONS ? "interactions"
					   : "notes";
}

/* Audits each changed section of a card: old and new as JSON (moved
 * items as their count and the other card). */
static int audit_card(sqlite3 *conn, const store_actor *who, const char *action,
		      const char *id, uint32_t mask,
		      const Carta__V1__Card *before,
		      const Carta__V1__Card *after, const int64_t *moved,
		      const char *peer_key, const char *peer)
{
	int rv = 0;

	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++) {
		if (!(mask & BIT(s)))
			continue;
		char *old = sec_json(before, s, 1),
		     *new = sec_json(after, s, 1);
		if (old == NULL || new == NULL)
			rv = CARTA_ENOMEM;
		if (rv == 0 && moved != NULL && moved[s] > 0) {
			/* The items themselves are in their own audit
			 * entries; here is where they went. */
			json_t *o = json_loads(new, 0, NULL);
			if (o != NULL) {
				json_object_set_new(o, items_word(s),
						    json_integer(moved[s]));
				json_object_set_new(o, peer_key,
						    json_string(peer));
				free(new);
				new = json_dumps(o,
						 JSON_COMPACT | JSON_SORT_KEYS);
				json_decref(o);
			}
			if (new == NULL)
				rv = CARTA_ENOMEM;
		}
		if (rv == 0)
			rv = store_audit_append(conn, who, id, s, action, old,
						new);
		free(old);
		free(new);
	}
	return rv;
}

/* Bumps the changed sections of a card, recording the versions left. */
static int bump_all(sqlite3 *conn, const char *id, uint32_t mask,
		    json_t *versions)
{
	int rv = 0;

	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++) {
		if (!(mask & BIT(s)))
			continue;
		uint64_t v = 0;
		char key[4];
		rv = store_conn_bump(conn, id, s, &v);
		snprintf(key, sizeof(key), "%d", s);
		if (rv == 0 && versions != NULL &&
		    json_object_set_new(versions, key,
					json_integer((json_int_t)v)) != 0)
			rv = CARTA_ENOMEM;
	}
	return rv;
}

/* Records the current versions of a card's sections in mask. */
static int record_versions(sqlite3 *conn, const char *id, uint32_t mask,
			   json_t *versions)
{
	int rv = 0;

	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++) {
		if (!(mask & BIT(s)))
			continue;
		int64_t v = 0;
		rv = store_conn_section_version(conn, id, s, &v);
		if (rv != 0)
			break;
		char key[4];
		snprintf(key, sizeof(key), "%d", s);
		if (json_object_set_new(versions, key,
					json_integer((json_int_t)v)) != 0)
			rv = CARTA_ENOMEM;
	}
	return rv;
}

/* An unmerge puts card id's sections back as they were before that
 * merge, at new versions (after). An earlier merge of the card that was
 * left at the versions the undone merge found (before) is, again, what
 * the card is: it moves to the new versions, so that it can be undone in
 * turn. */
static int rebase_merges(sqlite3 *conn, const char *undone, const char *id,
			 json_t *before, json_t *after)
{
	sqlite3_stmt *st = NULL;
	int rv;

	if (!json_is_object(before) || !json_is_object(after))
		return 0; /* a merge recorded without its versions before */
	rv = store_prep(conn,
			"SELECT id, survivor = ?2, versions FROM merges WHERE "
			"undone_at = 0 AND id != ?1 AND (survivor = ?2 OR "
			"other = ?2)",
			&st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, undone);
	store_bind_text(st, 2, id);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char mid[64];
		snprintf(mid, sizeof(mid), "%s", sqlite3_column_text(st, 0));
		const char *side = sqlite3_column_int(st, 1) ? "s" : "o";
		json_t *all = json_loads(
		    (const char *)sqlite3_column_text(st, 2), 0, NULL);
		json_t *mine = json_object_get(all, side);
		const char *key;
		json_t *v;
		bool changed = false;
		json_object_foreach(after, key, v)
		{
			json_t *had = json_object_get(mine, key);
			json_t *was = json_object_get(before, key);
			if (json_is_integer(had) && json_is_integer(was) &&
			    json_integer_value(had) ==
				json_integer_value(was)) {
				json_object_set(mine, key, v);
				changed = true;
			}
		}
		char *text =
		    changed ? json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS)
			    : NULL;
		json_decref(all);
		if (!changed)
			continue;
		if (text == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		sqlite3_stmt *up = NULL;
		rv = store_prep(
		    conn, "UPDATE merges SET versions = ? WHERE id = ?", &up);
		if (rv == 0) {
			store_bind_text(up, 1, text);
			store_bind_text(up, 2, mid);
			rv = store_step_done(up);
		}
		free(text);
	}
	sqlite3_finalize(st);
	return rv;
}

static int set_merged_into(sqlite3 *conn, const char *id, const char *into)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn, "UPDATE cards SET merged_into = ? WHERE id = ?", &st);
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, into);
	store_bind_text(st, 2, id);
	return store_step_done(st);
}

static int save_merge(sqlite3 *conn, struct merge_args *m, json_t *versions,
		      json_t *moved)
{
	uint8_t *plan = NULL, *sb = NULL, *ob = NULL;
	size_t plen = 0, slen = 0, olen = 0;
	char *vtext = json_dumps(versions, JSON_COMPACT | JSON_SORT_KEYS);
	char *mtext = json_dumps(moved, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_stmt *st = NULL;
	int rv = vtext && mtext ? 0 : CARTA_ENOMEM;

	if (rv == 0) {
		plen = carta__v1__merge_plan__get_packed_size(m->plan);
		plan = malloc(plen ? plen : 1);
		rv = plan ? 0 : CARTA_ENOMEM;
	}
	if (rv == 0) {
		carta__v1__merge_plan__pack(m->plan, plan);
		rv = pack_sections(m->s0, &sb, &slen);
	}
	if (rv == 0)
		rv = pack_sections(m->o0, &ob, &olen);
	if (rv == 0)
		rv = store_prep(
		    conn,
		    "INSERT INTO merges (id, survivor, other, at, "
		    "principal, plan, survivor_before, other_before, "
		    "versions, moved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
		    "?, ?)",
		    &st);
	if (rv == 0) {
		store_bind_text(st, 1, m->merge_id);
		store_bind_text(st, 2, m->sid);
		store_bind_text(st, 3, m->oid);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
		store_bind_text(st, 5, m->who->principal);
		sqlite3_bind_blob(st, 6, plan, (int)plen, SQLITE_STATIC);
		sqlite3_bind_blob(st, 7, sb, (int)slen, SQLITE_STATIC);
		sqlite3_bind_blob(st, 8, ob, (int)olen, SQLITE_STATIC);
		store_bind_text(st, 9, vtext);
		store_bind_text(st, 10, mtext);
		rv = store_step_done(st);
	}
	free(plan);
	free(sb);
	free(ob);
	free(vtext);
	free(mtext);
	return rv;
}

/* Writes the plan: other first (it gives up its external id before the
 * survivor may take it), then the survivor, the moves, the history, the
 * versions, the audit and the merge's record. */
static int write_merge(sqlite3 *conn, struct merge_args *m)
{
	json_t *versions =
	    json_pack("{s:{},s:{},s:{},s:{}}", "s", "o", "sb", "ob");
	json_t *moved = json_pack("{s:[],s:[],s:[],s:[],s:[]}", "purchases",
				  "interactions", "notes", "history", "added");
	Carta__V1__Card *s2 = NULL, *o2 = NULL;
	int rv = versions && moved ? 0 : CARTA_ENOMEM;

	/* The versions found, for an unmerge of a later merge to tell that
	 * it put this one's state back (rebase_merges). */
	if (rv == 0)
		rv = record_versions(conn, m->sid, m->cs,
				     json_object_get(versions, "sb"));
	if (rv == 0)
		rv = record_versions(conn, m->oid, m->co,
				     json_object_get(versions, "ob"));

	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (m->co & BIT(s))
			rv = store_conn_write_section(conn, m->oid, s, m->o1);
	if (rv == 0)
		rv = set_merged_into(conn, m->oid, m->sid);
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (m->cs & BIT(s))
			rv = store_conn_write_section(conn, m->sid, s, m->s1);

	if (rv == 0)
		rv = update_collect(conn,
				    "UPDATE purchases SET card_id = ?1 WHERE "
				    "card_id = ?2 RETURNING id",
				    m->sid, m->oid,
				    json_object_get(moved, "purchases"));
	if (rv == 0)
		rv = update_collect(conn,
				    "UPDATE interactions SET card_id = ?1 "
				    "WHERE card_id = ?2 RETURNING id",
				    m->sid, m->oid,
				    json_object_get(moved, "interactions"));
	if (rv == 0)
		rv = update_collect(conn,
				    "UPDATE notes SET card_id = ?1 WHERE "
				    "card_id = ?2 RETURNING id",
				    m->sid, m->oid,
				    json_object_get(moved, "notes"));
	if (rv == 0)
		rv = update_collect(conn,
				    "UPDATE card_history SET card_id = ?1 "
				    "WHERE card_id = ?2 RETURNING seq",
				    m->sid, m->oid,
				    json_object_get(moved, "history"));
	for (size_t i = 0; rv == 0 && i < m->nhist; i++)
		rv = insert_hist(conn, m->sid, &m->hist[i], m->source,
				 json_object_get(moved, "added"));

	if (rv == 0)
		rv = bump_all(conn, m->oid, m->co,
			      json_object_get(versions, "o"));
	if (rv == 0)
		rv = bump_all(conn, m->sid, m->cs,
			      json_object_get(versions, "s"));
	if (rv == 0)
		rv = store_conn_load(conn, m->sid, &s2);
	if (rv == 0)
		rv = store_conn_load(conn, m->oid, &o2);
	if (rv == 0)
		rv = store_conn_card_fits(s2);
	if (rv == 0)
		rv = audit_card(conn, m->who, "merge", m->oid, m->co, m->o0, o2,
				m->items, "to", m->snum);
	if (rv == 0)
		rv = audit_card(conn, m->who, "merge", m->sid, m->cs, m->s0, s2,
				m->items, "from", m->onum);
	if (rv == 0) {
		char json[160];
		snprintf(json, sizeof(json),
			 "{\"merge_id\":\"%s\",\"other\":\"%s\","
			 "\"survivor\":\"%s\"}",
			 m->merge_id, m->onum, m->snum);
		rv = store_audit_append(conn, m->who, m->sid, 0, "merge", "",
					json);
	}
	if (rv == 0)
		rv = save_merge(conn, m, versions, moved);
	if (rv == 0) {
		m->plan->result = s2;
		s2 = NULL;
	}
	if (s2 != NULL)
		carta__v1__card__free_unpacked(s2, NULL);
	if (o2 != NULL)
		carta__v1__card__free_unpacked(o2, NULL);
	json_decref(versions);
	json_decref(moved);
	return rv;
}

static int merge_fn(sqlite3 *conn, void *arg)
{
	struct merge_args *m = arg;
	int rv = find_card(conn, m->req->survivor, "survivor", m->sid, m->snum,
			   m->msg);

	if (rv == 0)
		rv = find_card(conn, m->req->other, "other", m->oid, m->onum,
			       m->msg);
	if (rv == 0 && strcmp(m->sid, m->oid) == 0) {
		snprintf(m->msg, STORE_MERGE_MSG_MAX,
			 "survivor and other are the same card (%s)", m->snum);
		rv = CARTA_EINVAL;
	}
	if (rv == 0)
		rv = store_conn_load(conn, m->sid, &m->s0);
	if (rv == 0)
		rv = store_conn_load(conn, m->oid, &m->o0);
	if (rv == 0) {
		m->s1 = (Carta__V1__Card *)pb_clone(&m->s0->base);
		rv = m->s1 ? empty_card(m->onum, &m->o1) : CARTA_ENOMEM;
	}
	if (rv == 0)
		rv = store_next_number(conn, "merge_number", 'M', m->merge_id,
				       sizeof m->merge_id);
	if (rv != 0)
		return rv;
	snprintf(m->source, sizeof(m->source), "merge %s of %s", m->merge_id,
		 m->onum);
	m->plan->survivor = strdup(m->snum);
	m->plan->other = strdup(m->onum);
	m->plan->merge_id = m->req->dry_run ? (char *)protobuf_c_empty_string
					    : strdup(m->merge_id);
	if (!m->plan->survivor || !m->plan->other || !m->plan->merge_id)
		return CARTA_ENOMEM;

	/* Plan on the copies; the lists of the survivor's changes are the
	 * plan a dry run shows. */
	rv = merge_singles(m);
	if (rv == 0)
		rv = merge_contact(m);
	if (rv == 0)
		rv = merge_preferences(m);
	if (rv == 0)
		rv = merge_consents(m);
	if (rv == 0)
		rv = merge_custom(m);
	if (rv == 0)
		rv = plan_items(m, conn);
	if (rv == 0)
		rv = diff_sections(m->s0, m->s1, &m->cs);
	if (rv == 0)
		rv = diff_sections(m->o0, m->o1, &m->co);
	/* Other always changes: it becomes a pointer. */
	m->co |= BIT(S_IDENTITY);
	if (rv == 0 && m->req->check != NULL)
		rv = m->req->check(m->req->check_ud, m->cs | m->co);
	if (rv == 0)
		rv = write_merge(conn, m);
	if (rv == 0 && m->req->dry_run)
		rv = DRY_RUN_DONE;
	return rv;
}

/* A prefer names a section and a field: identity and demographics by
 * their single values, preferences and custom values by key. */
static int check_prefer(const char *p, char *msg)
{
	const char *dot = strchr(p, '.');
	char sec[32];

	if (dot == NULL || dot == p || dot[1] == '\0' ||
	    (size_t)(dot - p) >= sizeof(sec) || strlen(dot + 1) > 100)
		goto bad;
	snprintf(sec, sizeof(sec), "%.*s", (int)(dot - p), p);
	if (strcmp(sec, "custom") == 0)
		return 0;
	int s = card_section_parse(sec);
	if (s == 0 || strcmp(card_section_name(s), sec) != 0)
		goto bad;
	/* Lists are joined and consents go by date: only single values,
	 * preference keys and custom fields (by their section) have a side
	 * to prefer. */
	if (s == CARTA__V1__SECTION__SECTION_PURCHASES ||
	    s == CARTA__V1__SECTION__SECTION_INTERACTIONS ||
	    s == CARTA__V1__SECTION__SECTION_NOTES)
		goto bad;
	if (s == CARTA__V1__SECTION__SECTION_CONTACT &&
	    (strcmp(dot + 1, "emails") == 0 || strcmp(dot + 1, "phones") == 0 ||
	     strcmp(dot + 1, "addresses") == 0 ||
	     strcmp(dot + 1, "preferred_channels") == 0))
		goto bad;
	if (s != S_IDENTITY && s != S_DEMOGRAPHICS)
		return 0;
	for (size_t i = 0; i < N_SINGLES; i++)
		if (singles[i].section == s &&
		    strcmp(singles[i].name, dot + 1) == 0)
			return 0;
bad:
	snprintf(msg, STORE_MERGE_MSG_MAX,
		 "prefer_other: '%.60s' is not SECTION.FIELD (e.g. "
		 "identity.given_name, preferences.KEY, custom.FIELD)",
		 p);
	return CARTA_EINVAL;
}

int store_merge(store *s, const store_actor *who, const store_merge_req *req,
		Carta__V1__MergePlan **out, char msg[STORE_MERGE_MSG_MAX])
{
	struct merge_args m = {.who = who, .req = req, .msg = msg};
	int rv = 0;

	msg[0] = '\0';
	for (size_t i = 0; rv == 0 && i < req->n_prefer; i++)
		rv = check_prefer(req->prefer_other[i], msg);
	if (rv != 0)
		return rv;
	m.plan = malloc(sizeof(*m.plan));
	if (m.plan == NULL)
		return CARTA_ENOMEM;
	carta__v1__merge_plan__init(m.plan);

	rv = store_run(s, 1, merge_fn, &m);
	if (rv == DRY_RUN_DONE && req->dry_run)
		rv = 0;
	if (rv == 0)
		*out = m.plan;
	else
		carta__v1__merge_plan__free_unpacked(m.plan, NULL);
	Carta__V1__Card *cards[] = {m.s0, m.o0, m.s1, m.o1};
	for (size_t i = 0; i < 4; i++)
		if (cards[i] != NULL)
			carta__v1__card__free_unpacked(cards[i], NULL);
	for (size_t i = 0; i < m.nhist; i++)
		free(m.hist[i].value);
	free(m.hist);
	return rv;
}

/* ---- unmerge ----------------------------------------------------------- */

struct unmerge_args {
	const store_actor *who;
	const char *merge_id;
	store_merge_check_fn check;
	void *check_ud;
	char *msg;
	Carta__V1__MergePlan *plan;
};

/* The id of the latest merge of card id after merge_id that is not
 * undone, into later (empty when none). */
static int later_merge(sqlite3 *conn, const char *merge_id, const char *id,
		       char later[24])
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn,
	    /* M-000042: later ones are longer, or as long and greater. */
	    "SELECT id FROM merges WHERE undone_at = 0 AND (survivor = ?2 OR "
	    "other = ?2) AND (length(id) > length(?1) OR (length(id) = "
	    "length(?1) AND id > ?1)) ORDER BY length(id) DESC, id DESC "
	    "LIMIT 1",
	    &st);

	later[0] = '\0';
	if (rv != 0)
		return rv;
	store_bind_text(st, 1, merge_id);
	store_bind_text(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(later, 24, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

/* The sections of a versions object ({"2": 5, ...}) as a mask; refuses
 * when one moved on since, naming a later merge to undo first. */
static int check_versions(sqlite3 *conn, const char *merge_id, const char *id,
			  const char *number, json_t *versions, uint32_t *mask,
			  char *msg)
{
	const char *key;
	json_t *v;
	int rv = 0;

	json_object_foreach(versions, key, v)
	{
		int s = atoi(key);
		int64_t now = 0;
		if (s <= 0 || s >= CARD_SECTIONS || !json_is_integer(v))
			return CARTA_EDB;
		*mask |= BIT(s);
		rv = store_conn_section_version(conn, id, s, &now);
		if (rv != 0)
			return rv;
		if (now != json_integer_value(v)) {
			char later[24];
			rv = later_merge(conn, merge_id, id, later);
			if (rv != 0)
				return rv;
			snprintf(msg, STORE_MERGE_MSG_MAX,
				 "%s of %s changed after the merge (version "
				 "%lld, merge left %lld)%s%s%s",
				 card_section_name(s), number, (long long)now,
				 (long long)json_integer_value(v),
				 later[0] ? ": undo " : "", later,
				 later[0] ? " first" : "");
			return CARTA_ESTATE;
		}
	}
	return 0;
}

/* Refuses when a confirmation (verify confirm: it moves no version) was
 * recorded on either card after merge merge_id: undoing the merge would
 * put back sections without it, while the audit says it was made. */
static int check_confirmed(sqlite3 *conn, const char *merge_id, const char *sid,
			   const char *oid, char *msg)
{
	sqlite3_stmt *st = NULL;
	int rv = store_prep(
	    conn,
	    "SELECT a.section, c.number FROM audit a JOIN cards c ON c.id = "
	    "a.card_id WHERE a.card_id IN (?2, ?3) AND a.action = 'verify' "
	    "AND a.seq > (SELECT max(seq) FROM audit WHERE card_id = ?2 AND "
	    "section = 0 AND action = 'merge' AND CASE WHEN "
	    "json_valid(new_value) THEN json_extract(new_value, '$.merge_id') "
	    "END = ?1) ORDER BY a.seq LIMIT 1",
	    &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, merge_id);
	store_bind_text(st, 2, sid);
	store_bind_text(st, 3, oid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int s = sqlite3_column_int(st, 0);
		snprintf(msg, STORE_MERGE_MSG_MAX,
			 "%s of %s was confirmed after the merge (verify "
			 "confirm): undoing the merge would lose that",
			 s > 0 ? card_section_name(s) : "a section",
			 (const char *)sqlite3_column_text(st, 1));
		rv = CARTA_ESTATE;
	} else if (rc != SQLITE_DONE) {
		rv = store_map_rc(rc);
	}
	sqlite3_finalize(st);
	return rv;
}

/* Runs sql (two text parameters: ?1 a card id, ?2 an item id or seq)
 * for each element of arr. */
static int each_item(sqlite3 *conn, const char *sql, const char *id,
		     json_t *arr)
{
	size_t i;
	json_t *v;
	int rv = 0;

	json_array_foreach(arr, i, v)
	{
		sqlite3_stmt *st = NULL;
		rv = store_prep(conn, sql, &st);
		if (rv != 0)
			break;
		store_bind_text(st, 1, id);
		if (json_is_integer(v))
			sqlite3_bind_int64(st, 2, json_integer_value(v));
		else
			store_bind_text(st, 2, json_string_value(v));
		rv = store_step_done(st);
		if (rv != 0)
			break;
	}
	return rv;
}

static int restore_change(Carta__V1__MergePlan *plan, int section,
			  const char *number)
{
	Carta__V1__MergeChange *c = malloc(sizeof(*c));
	if (c == NULL)
		return CARTA_ENOMEM;
	carta__v1__merge_change__init(c);
	c->section = (Carta__V1__Section)section;
	char detail[64];
	snprintf(detail, sizeof(detail), "%s restored", number);
	int rv = pb_set_string(&c->action, "restore");
	if (rv == 0)
		rv = pb_set_string(&c->detail, detail);
	if (rv == 0)
		rv = PB_PUSH(plan->changes, plan->n_changes, c);
	if (rv != 0)
		carta__v1__merge_change__free_unpacked(c, NULL);
	return rv;
}

static int unmerge_fn(sqlite3 *conn, void *arg)
{
	struct unmerge_args *u = arg;
	sqlite3_stmt *st = NULL;
	char sid[33] = "", oid[33] = "", snum[32] = "", onum[32] = "";
	Carta__V1__Card *s0 = NULL, *o0 = NULL, *sn = NULL, *on = NULL;
	Carta__V1__Card *s2 = NULL, *o2 = NULL;
	json_t *versions = NULL, *moved = NULL;
	uint32_t cs = 0, co = 0;
	int64_t undone = 0;
	int rv =
	    store_prep(conn,
		       "SELECT survivor, other, survivor_before, other_before, "
		       "versions, moved, undone_at FROM merges WHERE id = ?",
		       &st);

	if (rv != 0)
		return rv;
	store_bind_text(st, 1, u->merge_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(sid, sizeof(sid), "%s", sqlite3_column_text(st, 0));
		snprintf(oid, sizeof(oid), "%s", sqlite3_column_text(st, 1));
		s0 = carta__v1__card__unpack(
		    NULL, (size_t)sqlite3_column_bytes(st, 2),
		    sqlite3_column_blob(st, 2));
		o0 = carta__v1__card__unpack(
		    NULL, (size_t)sqlite3_column_bytes(st, 3),
		    sqlite3_column_blob(st, 3));
		versions = json_loads((const char *)sqlite3_column_text(st, 4),
				      0, NULL);
		moved = json_loads((const char *)sqlite3_column_text(st, 5), 0,
				   NULL);
		undone = sqlite3_column_int64(st, 6);
		if (s0 == NULL || o0 == NULL || versions == NULL ||
		    moved == NULL)
			rv = CARTA_EDB;
	} else {
		snprintf(u->msg, STORE_MERGE_MSG_MAX, "no merge %.40s",
			 u->merge_id);
		rv = CARTA_ENOENT;
	}
	sqlite3_finalize(st);
	if (rv == 0 && undone != 0) {
		snprintf(u->msg, STORE_MERGE_MSG_MAX,
			 "merge %s was undone already", u->merge_id);
		rv = CARTA_ESTATE;
	}
	if (rv == 0)
		rv = text_of(conn, "SELECT number FROM cards WHERE id = ?", sid,
			     snum, sizeof(snum));
	if (rv == 0)
		rv = text_of(conn, "SELECT number FROM cards WHERE id = ?", oid,
			     onum, sizeof(onum));

	/* Only a merge nobody built on since can be undone as a whole. */
	if (rv == 0)
		rv =
		    check_versions(conn, u->merge_id, sid, snum,
				   json_object_get(versions, "s"), &cs, u->msg);
	if (rv == 0)
		rv =
		    check_versions(conn, u->merge_id, oid, onum,
				   json_object_get(versions, "o"), &co, u->msg);
	if (rv == 0)
		rv = check_confirmed(conn, u->merge_id, sid, oid, u->msg);
	if (rv == 0 && u->check != NULL)
		rv = u->check(u->check_ud, cs | co);
	if (rv == 0)
		rv = store_conn_load(conn, sid, &sn);
	if (rv == 0)
		rv = store_conn_load(conn, oid, &on);

	/* Items and history back where they were, then the sections. */
	if (rv == 0)
		rv = each_item(
		    conn, "UPDATE purchases SET card_id = ?1 WHERE id = ?2",
		    oid, json_object_get(moved, "purchases"));
	if (rv == 0)
		rv = each_item(conn,
			       "UPDATE interactions SET card_id = ?1 WHERE "
			       "id = ?2",
			       oid, json_object_get(moved, "interactions"));
	if (rv == 0)
		rv = each_item(conn,
			       "UPDATE notes SET card_id = ?1 WHERE id = ?2",
			       oid, json_object_get(moved, "notes"));
	if (rv == 0)
		rv = each_item(conn,
			       "UPDATE card_history SET card_id = ?1 WHERE "
			       "seq = ?2",
			       oid, json_object_get(moved, "history"));
	if (rv == 0)
		rv = each_item(conn,
			       "DELETE FROM card_history WHERE card_id = ?1 "
			       "AND seq = ?2",
			       sid, json_object_get(moved, "added"));
	/* The survivor first: it gives back an external id it took. */
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (cs & BIT(s))
			rv = store_conn_write_section(conn, sid, s, s0);
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (co & BIT(s))
			rv = store_conn_write_section(conn, oid, s, o0);
	if (rv == 0)
		rv = set_merged_into(conn, oid, "");
	json_t *snew = json_object(), *onew = json_object();
	if (snew == NULL || onew == NULL)
		rv = CARTA_ENOMEM;
	if (rv == 0)
		rv = bump_all(conn, sid, cs, snew);
	if (rv == 0)
		rv = bump_all(conn, oid, co, onew);
	if (rv == 0)
		rv = rebase_merges(conn, u->merge_id, sid,
				   json_object_get(versions, "sb"), snew);
	if (rv == 0)
		rv = rebase_merges(conn, u->merge_id, oid,
				   json_object_get(versions, "ob"), onew);
	json_decref(snew);
	json_decref(onew);
	if (rv == 0)
		rv = store_conn_load(conn, sid, &s2);
	if (rv == 0)
		rv = store_conn_load(conn, oid, &o2);
	if (rv == 0)
		rv = audit_card(conn, u->who, "unmerge", sid, cs, sn, s2, NULL,
				NULL, NULL);
	if (rv == 0)
		rv = audit_card(conn, u->who, "unmerge", oid, co, on, o2, NULL,
				NULL, NULL);
	if (rv == 0) {
		char json[160];
		snprintf(json, sizeof(json),
			 "{\"merge_id\":\"%s\",\"other\":\"%s\","
			 "\"survivor\":\"%s\"}",
			 u->merge_id, onum, snum);
		rv = store_audit_append(conn, u->who, sid, 0, "unmerge", "",
					json);
	}
	if (rv == 0)
		rv = store_prep(
		    conn, "UPDATE merges SET undone_at = ? WHERE id = ?", &st);
	if (rv == 0) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
		store_bind_text(st, 2, u->merge_id);
		rv = store_step_done(st);
	}

	if (rv == 0) {
		u->plan->merge_id = strdup(u->merge_id);
		u->plan->survivor = strdup(snum);
		u->plan->other = strdup(onum);
		if (!u->plan->merge_id || !u->plan->survivor || !u->plan->other)
			rv = CARTA_ENOMEM;
	}
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (cs & BIT(s))
			rv = restore_change(u->plan, s, snum);
	for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
		if (co & BIT(s))
			rv = restore_change(u->plan, s, onum);
	if (rv == 0) {
		u->plan->result = s2;
		s2 = NULL;
	}

	Carta__V1__Card *cards[] = {s0, o0, sn, on, s2, o2};
	for (size_t i = 0; i < 6; i++)
		if (cards[i] != NULL)
			carta__v1__card__free_unpacked(cards[i], NULL);
	json_decref(versions);
	json_decref(moved);
	return rv;
}

int store_unmerge(store *s, const store_actor *who, const char *merge_id,
		  store_merge_check_fn check, void *check_ud,
		  Carta__V1__MergePlan **out, char msg[STORE_MERGE_MSG_MAX])
{
	struct unmerge_args u = {.who = who,
				 .merge_id = merge_id,
				 .check = check,
				 .check_ud = check_ud,
				 .msg = msg};

	msg[0] = '\0';
	u.plan = malloc(sizeof(*u.plan));
	if (u.plan == NULL)
		return CARTA_ENOMEM;
	carta__v1__merge_plan__init(u.plan);
	int rv = store_run(s, 1, unmerge_fn, &u);
	/* The one unique value a restored card can clash on. */
	if (rv == CARTA_EEXIST && msg[0] == '\0')
		snprintf(msg, STORE_MERGE_MSG_MAX,
			 "another card has taken the external id the other "
			 "card had: change one first");
	if (rv == 0)
		*out = u.plan;
	else
		carta__v1__merge_plan__free_unpacked(u.plan, NULL);
	return rv;
}
