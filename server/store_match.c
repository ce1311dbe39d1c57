/* Finding likely duplicates in the store; see store_match.h. */
#include "store_match.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carta_error.h"
#include "db.h"
#include "store_internal.h"

#define ID_SIZE 33

static double threshold(double min_score)
{
	return min_score > 0 ? min_score : match_config()->min_score;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t != NULL ? (const char *)t : "";
}

int store_match_number_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* "given family", or the company when there is no person's name. */
static char *display_name(const char *given, const char *family,
			  const char *company)
{
	size_t n = strlen(given) + strlen(family) + strlen(company) + 2;
	char *s = malloc(n);

	if (s == NULL)
		return NULL;
	if (given[0] || family[0])
		snprintf(s, n, "%s%s%s", given,
			 given[0] && family[0] ? " " : "", family);
	else
		snprintf(s, n, "%s", company);
	return s;
}

/* ---- One card against the store -------------------------------------- */

typedef struct {
	char (*ids)[ID_SIZE];
	size_t n, cap;
} id_set;

static int ids_add(id_set *s, const char *id)
{
	if (strlen(id) != ID_SIZE - 1)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *p = realloc(s->ids, cap * sizeof(*s->ids));
		if (p == NULL)
			return CARTA_ENOMEM;
		s->ids = p;
		s->cap = cap;
	}
	memcpy(s->ids[s->n++], id, ID_SIZE);
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Cards with an email of the same key: the addresses from a prefix of it
 * on (the index compares without case), each keyed and compared. */
static int email_candidates(sqlite3 *conn, const match_options *o,
			    const char *address, id_set *ids)
{
	static const char sql[] =
	    "SELECT cp.card_id, cp.value FROM contact_points cp"
	    " JOIN cards c ON c.id = cp.card_id"
	    " WHERE cp.kind = 1 AND cp.value >= ?1 COLLATE NOCASE"
	    " AND cp.value < ?2 COLLATE NOCASE"
	    " AND c.merged_into = '' AND c.erased_at = 0";
	char key[512], lo[512], hi[512], other[512];
	sqlite3_stmt *st = NULL;

	if (match_email_key(o, address, key, sizeof(key)) != 0)
		return 0;
	/* With the dot rule, only the first letter is sure to be there. */
	size_t plen = strcspn(key, "@");
	if (strcmp(key + plen, "@gmail.com") == 0 && o->provider_dots)
		plen = 1;
	memcpy(lo, key, plen);
	lo[plen] = '\0';
	memcpy(hi, lo, plen + 1);
	hi[plen - 1]++;

	int rv = db_prepare(conn, sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && rv == 0)
		if (match_email_key(o, col(st, 1), other, sizeof(other)) == 0 &&
		    strcmp(other, key) == 0)
			rv = ids_add(ids, col(st, 0));
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = store_map_rc(rc);
	sqlite3_reset(st);
	return rv;
}

static int phone_candidates(sqlite3 *conn, const char *e164, id_set *ids)
{
	static const char sql[] =
	    "SELECT cp.card_id FROM contact_points cp"
	    " JOIN cards c ON c.id = cp.card_id"
	    " WHERE cp.kind = 2 AND cp.value = ?1 COLLATE NOCASE"
	    " AND c.merged_into = '' AND c.erased_at = 0";
	sqlite3_stmt *st = NULL;

	int rv = db_prepare(conn, sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, e164, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && rv == 0)
		rv = ids_add(ids, col(st, 0));
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = store_map_rc(rc);
	sqlite3_reset(st);
	return rv;
}

/* Steps st, whose rows are (card id, given name, family name, company),
 * adding the cards whose name is similar to r's (a person's to a
 * person's, a company's to a company's); resets st. */
static int similar_names(sqlite3_stmt *st, const match_rec *r, id_set *ids)
{
	bool person = match_rec_has_person(r);
	int rv = 0, rc;

	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		match_rec o = {0};
		bool swapped;
		double v = 0;

		rv = match_rec_names(&o, col(st, 1), col(st, 2), col(st, 3));
		if (rv == 0 && person && match_rec_has_person(&o))
			v = match_name_similarity(r->given, r->family, o.given,
						  o.family, &swapped);
		else if (rv == 0 && !person && !match_rec_has_person(&o))
			v = match_name_similarity("", r->company, "", o.company,
						  &swapped);
		if (rv == 0 && v >= MATCH_NAME_SIMILAR)
			rv = ids_add(ids, col(st, 0));
		match_rec_free(&o);
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_reset(st);
	return rv;
}

/* Cards with the name word w (name_keys) whose name is similar to r's. */
static int name_candidates(sqlite3 *conn, const match_rec *r, const char *w,
			   id_set *ids)
{
	static const char sql[] =
	    "SELECT k.card_id, c.given_name, c.family_name, c.company"
	    " FROM name_keys k JOIN cards c ON c.id = k.card_id"
	    " WHERE k.key = ?1 AND c.merged_into = '' AND c.erased_at = 0"
	    /* A word of the other name with the given name's initial, as
	     * the scan's blocks: looked up by card (hence the +). */
	    " AND (?2 = '' OR EXISTS (SELECT 1 FROM name_keys k2"
	    "   WHERE k2.card_id = k.card_id AND +k2.key >= ?2"
	    "   AND +k2.key < ?3))"
	    " LIMIT 20000";
	_Static_assert(STORE_MATCH_NAME_ROWS_MAX == 20000, "the LIMIT above");
	bool person = match_rec_has_person(r);
	char initial[2] = "", next[2] = "";
	sqlite3_stmt *st = NULL;

	/* Words of the family name are looked up with the given name's
	 * initial (and the other way round when there is no family name). */
	const char *other = r->family && r->family[0] ? r->given : "";
	if (person && other && other[0]) {
		initial[0] = other[0];
		next[0] = (char)(other[0] + 1);
	}

	int rv = db_prepare(conn, sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, w, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, initial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, next, -1, SQLITE_STATIC);
	return similar_names(st, r, ids);
}

/* Cards born on r's birth date whose name is similar to r's: a typo in
 * a family name shares no word with it, but the scan meets the pair in
 * its birth-date block, and so must the look-up. */
static int birth_candidates(sqlite3 *conn, const match_rec *r, id_set *ids)
{
	static const char sql[] =
	    "SELECT id, given_name, family_name, company FROM cards"
	    " WHERE birth_date = ?1 AND birth_date != ''"
	    " AND merged_into = '' AND erased_at = 0 LIMIT 20000";
	sqlite3_stmt *st = NULL;

	if (r->birth[0] == '\0')
		return 0;
	int rv = db_prepare(conn, sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, r->birth, -1, SQLITE_STATIC);
	return similar_names(st, r, ids);
}

/* The record of the stored card id; *number and *name malloc'd. */
static int load_rec(sqlite3 *conn, const match_options *o, const char *id,
		    match_rec *r, char **number, char **name)
{
	static const char card_sql[] =
	    "SELECT number, given_name, family_name, company, birth_date,"
	    " gender FROM cards WHERE id = ?1";
	static const char cp_sql[] =
	    "SELECT kind, value, postal_code, city, country"
	    " FROM contact_points WHERE card_id = ?1";
	sqlite3_stmt *st = NULL;

	int rv = db_prepare(conn, card_sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*number = strdup(col(st, 0));
		*name = display_name(col(st, 1), col(st, 2), col(st, 3));
		rv = *number && *name ? 0 : CARTA_ENOMEM;
		if (rv == 0)
			rv = match_rec_names(r, col(st, 1), col(st, 2),
					     col(st, 3));
		if (rv == 0)
			rv = match_rec_demographics(r, col(st, 4), col(st, 5));
	} else {
		rv = rc == SQLITE_DONE ? CARTA_ENOENT : store_map_rc(rc);
	}
	sqlite3_reset(st);
	if (rv != 0)
		return rv;

	rv = db_prepare(conn, cp_sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(st, 0);
		if (kind == 1)
			rv = match_rec_email(o, r, col(st, 1));
		else if (kind == 2)
			rv = match_rec_phone(r, col(st, 1));
		else
			rv = match_rec_address(r, col(st, 2), col(st, 3),
					       col(st, 4));
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_reset(st);
	return rv;
}

static int cand_cmp(const void *x, const void *y)
{
	const Carta__V1__DuplicateCandidate *a =
	    *(Carta__V1__DuplicateCandidate *const *)x;
	const Carta__V1__DuplicateCandidate *b =
	    *(Carta__V1__DuplicateCandidate *const *)y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return store_match_number_cmp(a->number, b->number);
}

void store_match_free(Carta__V1__DuplicateCandidate **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		carta__v1__duplicate_candidate__free_unpacked(v[i], NULL);
	free(v);
}

/* A candidate message owning its strings (freed by free_unpacked). */
static int new_candidate(char *number, char *name, const match_result *m,
			 Carta__V1__DuplicateCandidate **out)
{
	Carta__V1__DuplicateCandidate *c = malloc(sizeof(*c));

	if (c == NULL)
		return CARTA_ENOMEM;
	carta__v1__duplicate_candidate__init(c);
	c->number = number;
	c->name = name;
	c->score = (double)m->score / MATCH_SCORE_SCALE;
	int rv = match_reasons(m, &c->reasons, &c->n_reasons);
	if (rv != 0) {
		carta__v1__duplicate_candidate__free_unpacked(c, NULL);
		return rv;
	}
	*out = c;
	return 0;
}

int store_match_card_conn(sqlite3 *conn, const Carta__V1__Card *card,
			  double min_score, uint32_t hidden,
			  Carta__V1__DuplicateCandidate ***out, size_t *n)
{
	const match_options *o = match_config();
	const Carta__V1__Contact *c = card->contact;
	int want = match_score_scale(threshold(min_score));
	Carta__V1__DuplicateCandidate **v = NULL;
	size_t nv = 0;
	id_set ids = {0};
	match_rec r;
	char *words = NULL;

	*out = NULL;
	*n = 0;
	int rv = match_rec_from_card(o, card, &r);

	/* Candidates by each blocking key: the card's own values, which the
	 * caller gave or may read. */
	for (size_t i = 0; rv == 0 && c != NULL && i < c->n_emails; i++)
		rv = email_candidates(conn, o, c->emails[i]->address, &ids);
	for (size_t i = 0; rv == 0 && c != NULL && i < c->n_phones; i++)
		if (c->phones[i]->number[0] != '\0')
			rv = phone_candidates(conn, c->phones[i]->number, &ids);
	/* The family name's words find swapped names too: name_keys holds
	 * the words of given and family names alike. */
	const char *from = r.family && r.family[0] ? r.family
			   : r.given && r.given[0] ? r.given
			   : r.company		   ? r.company
						   : "";
	if (rv == 0 && from[0] != '\0') {
		words = strdup(from);
		rv = words != NULL ? 0 : CARTA_ENOMEM;
	}
	char *save = NULL;
	for (char *w = words ? strtok_r(words, " ", &save) : NULL;
	     rv == 0 && w != NULL; w = strtok_r(NULL, " ", &save))
		rv = name_candidates(conn, &r, w, &ids);
	/* A birth date the caller may not read finds nothing: whether a
	 * card shares it is demographics. */
	if (rv == 0 &&
	    !(hidden & (1u << CARTA__V1__SECTION__SECTION_DEMOGRAPHICS)))
		rv = birth_candidates(conn, &r, &ids);
	if (rv != 0)
		goto out;
	match_rec_hide(&r, hidden);

	/* Each candidate once, never the card itself. */
	if (ids.n > 1)
		qsort(ids.ids, ids.n, sizeof(*ids.ids), id_cmp);
	for (size_t i = 0; i < ids.n; i++) {
		match_rec other = {0};
		match_result m;
		char *number = NULL, *name = NULL;

		if ((i > 0 && strcmp(ids.ids[i], ids.ids[i - 1]) == 0) ||
		    strcmp(ids.ids[i], card->id) == 0)
			continue;
		rv = load_rec(conn, o, ids.ids[i], &other, &number, &name);
		if (rv == CARTA_ENOENT) {
			rv = 0;
			continue;
		}
		if (rv == 0) {
			match_rec_hide(&other, hidden);
			match_pair(&r, &other, &m);
			if (m.score < want) {
				free(number);
				free(name);
				match_rec_free(&other);
				continue;
			}
		}
		if (rv == 0) {
			void *p = realloc(v, (nv + 1) * sizeof(*v));
			rv = p != NULL ? 0 : CARTA_ENOMEM;
			if (p != NULL)
				v = p;
		}
		if (rv == 0) {
			rv = new_candidate(number, name, &m, &v[nv]);
			if (rv == 0)
				nv++;
			number = name = NULL;
		}
		free(number);
		free(name);
		match_rec_free(&other);
		if (rv != 0)
			goto out;
	}

	if (nv > 1)
		qsort(v, nv, sizeof(*v), cand_cmp);
	while (nv > STORE_MATCH_CANDIDATES_MAX)
		carta__v1__duplicate_candidate__free_unpacked(v[--nv], NULL);
	*out = nv > 0 ? v : NULL;
	*n = nv;
	if (nv == 0)
		free(v);
	v = NULL;
	nv = 0;
out:
	store_match_free(v, nv);
	free(ids.ids);
	free(words);
	match_rec_free(&r);
	return rv;
}

struct match_args {
	const Carta__V1__Card *card;
	double min_score;
	uint32_t hidden;
	Carta__V1__DuplicateCandidate ***out;
	size_t *n;
};

static int match_fn(sqlite3 *conn, void *arg)
{
	struct match_args *a = arg;
	return store_match_card_conn(conn, a->card, a->min_score, a->hidden,
				     a->out, a->n);
}

int store_match_card(store *s, const Carta__V1__Card *card, double min_score,
		     uint32_t hidden, Carta__V1__DuplicateCandidate ***out,
		     size_t *n)
{
	struct match_args a = {card, min_score, hidden, out, n};

	*out = NULL;
	*n = 0;
	return store_run(s, 0, match_fn, &a);
}

/* ---- The scan -------------------------------------------------------- */

typedef struct {
	char id[ID_SIZE];
	match_rec rec;
} scan_card;

typedef struct {
	char *key; /* malloc'd */
	uint32_t card;
} scan_entry;

typedef struct {
	const query_plan *plan;
	const match_options *o;
	scan_card *cards;
	size_t n, cap;
	char **numbers, **names;
} scan_load;

static int load_cards(sqlite3 *conn, scan_load *l)
{
	static const char head[] =
	    "SELECT c.id, c.number, c.given_name, c.family_name, c.company,"
	    " c.birth_date, c.gender FROM cards c"
	    " WHERE c.merged_into = '' AND c.erased_at = 0 AND (";
	const char *where = l->plan != NULL ? l->plan->where : "1";
	size_t len = sizeof(head) + strlen(where) + 32;
	char *sql = malloc(len);
	sqlite3_stmt *st = NULL;
	int rv = 0, rc;

	if (sql == NULL)
		return CARTA_ENOMEM;
	snprintf(sql, len, "%s%s) ORDER BY c.id", head, where);
	rc = sqlite3_prepare_v2(conn, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	for (size_t i = 0; l->plan != NULL && i < l->plan->nbinds; i++) {
		const query_value *v = &l->plan->binds[i];
		if (v->kind == QUERY_INT)
			sqlite3_bind_int64(st, (int)i + 1, v->i);
		else
			sqlite3_bind_text(st, (int)i + 1, v->s ? v->s : "", -1,
					  SQLITE_STATIC);
	}

	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 1024;
			void *a = realloc(l->cards, cap * sizeof(*l->cards));
			void *b = a ? realloc(l->numbers, cap * sizeof(char *))
				    : NULL;
			void *c =
			    b ? realloc(l->names, cap * sizeof(char *)) : NULL;
			if (a)
				l->cards = a;
			if (b)
				l->numbers = b;
			if (c)
				l->names = c;
			if (c == NULL) {
				rv = CARTA_ENOMEM;
				break;
			}
			l->cap = cap;
		}
		scan_card *sc = &l->cards[l->n];
		memset(sc, 0, sizeof(*sc));
		snprintf(sc->id, sizeof(sc->id), "%s", col(st, 0));
		l->numbers[l->n] = strdup(col(st, 1));
		l->names[l->n] =
		    display_name(col(st, 2), col(st, 3), col(st, 4));
		l->n++;
		if (l->numbers[l->n - 1] == NULL || l->names[l->n - 1] == NULL)
			rv = CARTA_ENOMEM;
		if (rv == 0)
			rv = match_rec_names(&sc->rec, col(st, 2), col(st, 3),
					     col(st, 4));
		if (rv == 0)
			rv = match_rec_demographics(&sc->rec, col(st, 5),
						    col(st, 6));
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	return rv;
}

static int scan_card_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const scan_card *)elem)->id);
}

static int load_contacts(sqlite3 *conn, scan_load *l)
{
	static const char sql[] =
	    "SELECT card_id, kind, value, postal_code, city, country"
	    " FROM contact_points";
	sqlite3_stmt *st = NULL;
	int rv = 0, rc;

	rc = sqlite3_prepare_v2(conn, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		scan_card *sc = bsearch(col(st, 0), l->cards, l->n,
					sizeof(*l->cards), scan_card_cmp);
		if (sc == NULL)
			continue; /* merged, erased or filtered out */
		int kind = sqlite3_column_int(st, 1);
		if (kind == 1)
			rv = match_rec_email(l->o, &sc->rec, col(st, 2));
		else if (kind == 2)
			rv = match_rec_phone(&sc->rec, col(st, 2));
		else
			rv = match_rec_address(&sc->rec, col(st, 3), col(st, 4),
					       col(st, 5));
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	return rv;
}

static int scan_load_fn(sqlite3 *conn, void *arg)
{
	int rv = load_cards(conn, arg);
	return rv != 0 ? rv : load_contacts(conn, arg);
}

/* The blocking keys of one card, each a malloc'd string: e EMAILKEY,
 * p PHONE, b BIRTHDATE, and n WORD|INITIAL for each family word with the
 * given name's initial and each given word with the family name's (so
 * that swapped names meet); company words for a company's card. */
typedef struct {
	scan_entry *v;
	size_t n, cap;
} entries;

static int entry_add(entries *e, uint32_t card, const char *a, const char *b)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 4096;
		void *p = realloc(e->v, cap * sizeof(*e->v));
		if (p == NULL)
			return CARTA_ENOMEM;
		e->v = p;
		e->cap = cap;
	}
	size_t len = strlen(a) + strlen(b) + 1;
	char *k = malloc(len);
	if (k == NULL)
		return CARTA_ENOMEM;
	snprintf(k, len, "%s%s", a, b);
	e->v[e->n].key = k;
	e->v[e->n].card = card;
	e->n++;
	return 0;
}

static int word_keys(entries *e, uint32_t card, const char *words,
		     const char *other)
{
	char buf[512], k[300];
	char *save = NULL;
	int rv = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *w = strtok_r(buf, " ", &save); rv == 0 && w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		snprintf(k, sizeof(k), "n%.256s|%c", w,
			 other[0] ? other[0] : '-');
		rv = entry_add(e, card, k, "");
	}
	return rv;
}

static int card_keys(entries *e, uint32_t card, const match_rec *r)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < r->n_emails; i++)
		rv = entry_add(e, card, "e", r->emails[i]);
	for (size_t i = 0; rv == 0 && i < r->n_phones; i++)
		rv = entry_add(e, card, "p", r->phones[i]);
	if (rv == 0 && r->birth[0])
		rv = entry_add(e, card, "b", r->birth);
	if (rv == 0 && match_rec_has_person(r)) {
		rv = word_keys(e, card, r->family, r->given);
		if (rv == 0)
			rv = word_keys(e, card, r->given, r->family);
	} else if (rv == 0 && r->company && r->company[0]) {
		rv = word_keys(e, card, r->company, "");
	}
	return rv;
}

static int entry_cmp(const void *x, const void *y)
{
	const scan_entry *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	if (c != 0)
		return c;
	return a->card < b->card ? -1 : a->card > b->card;
}

typedef struct {
	store_match_pair *v;
	size_t n, cap;
} pairs;

/* The first key id two sorted key lists share. */
static uint32_t first_common(const uint32_t *a, size_t na, const uint32_t *b,
			     size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j])
			return a[i];
		if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return UINT32_MAX;
}

static const store_match_scan_result *sort_ctx;

static int pair_best_cmp(const void *x, const void *y)
{
	const store_match_pair *a = x, *b = y;

	if (a->m.score != b->m.score)
		return a->m.score > b->m.score ? -1 : 1;
	int c = store_match_number_cmp(sort_ctx->numbers[a->a],
				       sort_ctx->numbers[b->a]);
	if (c != 0)
		return c;
	return store_match_number_cmp(sort_ctx->numbers[a->b],
				      sort_ctx->numbers[b->b]);
}

static int pair_group_cmp(const void *x, const void *y)
{
	const store_match_pair *a = x, *b = y;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return pair_best_cmp(x, y);
}

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/* Numbers each group (cards joined by pairs) in the order of its best
 * pair, then orders the pairs by group. */
static int assign_groups(store_match_scan_result *r)
{
	uint32_t *parent = malloc((r->cards + 1) * sizeof(*parent));
	uint32_t *gid = calloc(r->cards + 1, sizeof(*gid));
	uint32_t next = 1;

	if (parent == NULL || gid == NULL) {
		free(parent);
		free(gid);
		return CARTA_ENOMEM;
	}
	for (uint32_t i = 0; i < r->cards; i++)
		parent[i] = i;
	for (size_t i = 0; i < r->n; i++) {
		uint32_t a = uf_find(parent, r->pairs[i].a);
		uint32_t b = uf_find(parent, r->pairs[i].b);
		if (a != b)
			parent[a < b ? b : a] = a < b ? a : b;
	}
	sort_ctx = r;
	if (r->n > 1)
		qsort(r->pairs, r->n, sizeof(*r->pairs), pair_best_cmp);
	for (size_t i = 0; i < r->n; i++) {
		uint32_t root = uf_find(parent, r->pairs[i].a);
		if (gid[root] == 0)
			gid[root] = next++;
		r->pairs[i].group = gid[root];
	}
	if (r->n > 1)
		qsort(r->pairs, r->n, sizeof(*r->pairs), pair_group_cmp);
	sort_ctx = NULL;
	free(parent);
	free(gid);
	return 0;
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

int store_match_scan(store *s, const query_plan *plan, double min_score,
		     store_match_scan_result *out)
{
	scan_load l = {.plan = plan, .o = match_config()};
	entries e = {0};
	pairs p = {0};
	uint32_t *koff = NULL, *kids = NULL, *fill = NULL;
	int want = match_score_scale(threshold(min_score));

	memset(out, 0, sizeof(*out));
	int rv = store_run(s, 0, scan_load_fn, &l);
	out->numbers = l.numbers;
	out->names = l.names;
	out->cards = l.n;
	if (rv != 0)
		goto out;

	/* Every card's keys, sorted: equal keys are a block. */
	for (size_t i = 0; rv == 0 && i < l.n; i++)
		rv = card_keys(&e, (uint32_t)i, &l.cards[i].rec);
	if (rv != 0)
		goto out;
	if (e.n > 1)
		qsort(e.v, e.n, sizeof(*e.v), entry_cmp);

	/* Key ids in sorted order, and each card's ids (ascending). */
	koff = calloc(l.n + 1, sizeof(*koff));
	kids = malloc((e.n + 1) * sizeof(*kids));
	fill = calloc(l.n + 1, sizeof(*fill));
	uint32_t *eid = malloc((e.n + 1) * sizeof(*eid));
	if (koff == NULL || kids == NULL || fill == NULL || eid == NULL) {
		free(eid);
		rv = CARTA_ENOMEM;
		goto out;
	}
	uint32_t id = 0;
	for (size_t i = 0; i < e.n; i++) {
		if (i > 0 && strcmp(e.v[i].key, e.v[i - 1].key) != 0)
			id++;
		eid[i] = id;
		koff[e.v[i].card + 1]++;
	}
	for (size_t i = 0; i < l.n; i++)
		koff[i + 1] += koff[i];
	for (size_t i = 0; i < e.n; i++) {
		uint32_t c = e.v[i].card;
		kids[koff[c] + fill[c]++] = eid[i];
	}

	/* Each block's pairs, scored once: in the first block they share. */
	for (size_t i = 0; rv == 0 && i < e.n;) {
		size_t j = i + 1;
		while (j < e.n && eid[j] == eid[i])
			j++;
		if (j - i > STORE_MATCH_BLOCK_MAX) {
			out->blocks_skipped++;
			i = j;
			continue;
		}
		for (size_t x = i; rv == 0 && x < j; x++) {
			uint32_t ca = e.v[x].card;
			for (size_t y = x + 1; rv == 0 && y < j; y++) {
				uint32_t cb = e.v[y].card;
				match_result m;

				if (cb == ca ||
				    first_common(kids + koff[ca],
						 koff[ca + 1] - koff[ca],
						 kids + koff[cb],
						 koff[cb + 1] - koff[cb]) !=
					eid[i])
					continue;
				/* Most pairs of a name block are namesakes
				 * that nothing else ties: skipped before
				 * their names are compared. */
				if (match_pair_bound(&l.cards[ca].rec,
						     &l.cards[cb].rec) < want)
					continue;
				match_pair(&l.cards[ca].rec, &l.cards[cb].rec,
					   &m);
				if (m.score < want)
					continue;
				if (p.n == STORE_MATCH_PAIRS_MAX) {
					rv = CARTA_ETOOBIG;
					break;
				}
				if (p.n == p.cap) {
					size_t cap = p.cap ? p.cap * 2 : 1024;
					void *q =
					    realloc(p.v, cap * sizeof(*p.v));
					if (q == NULL) {
						rv = CARTA_ENOMEM;
						break;
					}
					p.v = q;
					p.cap = cap;
				}
				bool swap =
				    store_match_number_cmp(l.numbers[ca],
							   l.numbers[cb]) > 0;
				p.v[p.n].a = swap ? cb : ca;
				p.v[p.n].b = swap ? ca : cb;
				p.v[p.n].m = m;
				p.v[p.n].group = 0;
				p.n++;
			}
		}
		i = j;
	}
	free(eid);
	if (rv != 0)
		goto out;

	out->pairs = p.v;
	out->n = p.n;
	p.v = NULL;
	/* qsort has no context argument: one scan sorts at a time. */
	pthread_mutex_lock(&sort_lock);
	rv = assign_groups(out);
	pthread_mutex_unlock(&sort_lock);
out:
	for (size_t i = 0; i < e.n; i++)
		free(e.v[i].key);
	free(e.v);
	free(p.v);
	free(koff);
	free(kids);
	free(fill);
	for (size_t i = 0; i < l.n; i++)
		match_rec_free(&l.cards[i].rec);
	free(l.cards);
	return rv;
}

void store_match_scan_free(store_match_scan_result *r)
{
	for (uint64_t i = 0; i < r->cards; i++) {
		free(r->numbers[i]);
		free(r->names[i]);
	}
	free(r->numbers);
	free(r->names);
	free(r->pairs);
	memset(r, 0, sizeof(*r));
}
