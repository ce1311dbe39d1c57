/* The duplicate matcher; see match.h and docs/DEDUP.md. */
#include "match.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carta_error.h"
#include "fold.h"

/* Names compare at most this many words and bytes per word. */
#define WORDS_MAX 12
#define JW_MAX	  128
/* Two words at least this similar are one word mistyped. */
#define WORD_CLOSE 0.80

/* The weights of the evidence, in points; a pair's score is
 * 1 - exp(-points). Calibrated so that a name and one second key pass
 * 0.85 and a name alone does not (docs/DEDUP.md has the table). */
#define W_EMAIL	       2.0
#define W_PHONE	       1.6
#define W_NAME_SAME    1.1
#define W_NAME_SIMILAR 0.7 /* at MATCH_NAME_SIMILAR, rising to W_NAME_SAME */
#define W_NAME_DIFF    -1.5
#define W_BIRTH	       1.9
#define W_BIRTH_DIFF   -1.5
#define W_POSTAL       1.2
#define W_CITY	       0.9
#define W_COMPANY      1.2
#define W_GENDER_DIFF  -1.0
#define W_EMAILS_DIFF  -0.3
#define W_PHONES_DIFF  -0.3
/* Different names are never a likely duplicate on their own: two people
 * of one household share an email or a phone. */
#define CAP_NAME_DIFF 0.80

static match_options config = {true, true, MATCH_MIN_SCORE_DEFAULT};

void match_options_default(match_options *o)
{
	o->plus_tags = true;
	o->provider_dots = true;
	o->min_score = MATCH_MIN_SCORE_DEFAULT;
}

void match_configure(const match_options *o)
{
	config = *o;
}

const match_options *match_config(void)
{
	return &config;
}

int match_score_scale(double score)
{
	if (!(score > 0))
		return 0;
	if (score >= 1)
		return MATCH_SCORE_SCALE;
	return (int)lround(score * MATCH_SCORE_SCALE);
}

/* ---- Text ------------------------------------------------------------ */

static bool is_word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int match_fold_words(const char *s, char **out)
{
	char *f = NULL;
	size_t len = 0, o = 0;

	*out = NULL;
	int rv = fold_text(s, strlen(s), &f, &len);
	if (rv != 0)
		return rv;

	/* Punctuation separates words: "García-Castaño" is two. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)f[i];
		if (is_word_byte(c))
			f[o++] = (char)c;
		else if (o > 0 && f[o - 1] != ' ')
			f[o++] = ' ';
	}
	if (o > 0 && f[o - 1] == ' ')
		o--;
	f[o] = '\0';
	*out = f;
	return 0;
}

static int set_folded(char **slot, const char *s)
{
	char *f = NULL;

	int rv = match_fold_words(s != NULL ? s : "", &f);
	if (rv != 0)
		return rv;
	free(*slot);
	*slot = f;
	return 0;
}

/* Appends a copy of s to a list unless it is there already. */
static int list_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (nv == NULL)
		return CARTA_ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (nv[*n] == NULL)
		return CARTA_ENOMEM;
	(*n)++;
	return 0;
}

static void list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- Records --------------------------------------------------------- */

int match_rec_names(match_rec *r, const char *given, const char *family,
		    const char *company)
{
	int rv = set_folded(&r->given, given);
	if (rv == 0)
		rv = set_folded(&r->family, family);
	if (rv == 0)
		rv = set_folded(&r->company, company);
	return rv;
}

int match_rec_demographics(match_rec *r, const char *birth_date,
			   const char *gender)
{
	char *g = NULL;

	if (birth_date != NULL && strlen(birth_date) == 10)
		memcpy(r->birth, birth_date, 11);
	int rv = match_fold_words(gender != NULL ? gender : "", &g);
	if (rv != 0)
		return rv;
	snprintf(r->gender, sizeof(r->gender), "%s", g);
	free(g);
	return 0;
}

int match_email_key(const match_options *o, const char *address, char *out,
		    size_t cap)
{
	const char *at = strrchr(address, '@');

	if (at == NULL || at == address)
		return CARTA_EINVAL;
	const char *domain = at + 1;
	size_t local_len = (size_t)(at - address);
	bool dots = false;

	/* Providers that deliver "a.n.a" to "ana". */
	if (o->provider_dots && (strcasecmp(domain, "gmail.com") == 0 ||
				 strcasecmp(domain, "googlemail.com") == 0)) {
		dots = true;
		domain = "gmail.com";
	}
	if (o->plus_tags) {
		const char *plus = memchr(address, '+', local_len);
		if (plus != NULL && plus > address)
			local_len = (size_t)(plus - address);
	}

	size_t n = 0;
	for (size_t i = 0; i < local_len; i++) {
		char c = address[i];
		if (dots && c == '.')
			continue;
		if (n + 1 >= cap)
			return CARTA_EINVAL;
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (n + 1 >= cap)
		return CARTA_EINVAL;
	out[n++] = '@';
	for (const char *d = domain; *d; d++) {
		if (n + 1 >= cap)
			return CARTA_EINVAL;
		out[n++] =
		    (*d >= 'A' && *d <= 'Z') ? (char)(*d - 'A' + 'a') : *d;
	}
	out[n] = '\0';
	return 0;
}

int match_rec_email(const match_options *o, match_rec *r, const char *address)
{
	char key[512];

	if (address == NULL || address[0] == '\0')
		return 0;
	/* An address that does not parse is compared as it is. */
	if (match_email_key(o, address, key, sizeof(key)) != 0)
		snprintf(key, sizeof(key), "%s", address);
	return list_add(&r->emails, &r->n_emails, key);
}

int match_rec_phone(match_rec *r, const char *e164)
{
	if (e164 == NULL || e164[0] == '\0')
		return 0;
	return list_add(&r->phones, &r->n_phones, e164);
}

int match_rec_address(match_rec *r, const char *postal_code, const char *city,
		      const char *country)
{
	char key[128];
	char *f = NULL;
	int rv = 0;

	if (postal_code != NULL && postal_code[0] != '\0') {
		/* Postal codes are compared without spaces, in upper case. */
		size_t n = snprintf(key, sizeof(key), "%s ",
				    country != NULL ? country : "") > 0
			       ? strlen(key)
			       : 0;
		for (const char *p = postal_code; *p && n + 1 < sizeof(key);
		     p++) {
			if (*p == ' ' || *p == '-')
				continue;
			key[n++] = (*p >= 'a' && *p <= 'z')
				       ? (char)(*p - 'a' + 'A')
				       : *p;
		}
		key[n] = '\0';
		rv = list_add(&r->postals, &r->n_postals, key);
	}
	if (rv == 0 && city != NULL && city[0] != '\0') {
		rv = match_fold_words(city, &f);
		if (rv == 0 && f[0] != '\0')
			rv = list_add(&r->cities, &r->n_cities, f);
		free(f);
	}
	return rv;
}

int match_rec_from_card(const match_options *o, const Carta__V1__Card *card,
			match_rec *out)
{
	const Carta__V1__Identity *id = card->identity;
	const Carta__V1__Contact *c = card->contact;
	const Carta__V1__Demographics *d = card->demographics;
	int rv = 0;

	memset(out, 0, sizeof(*out));
	rv = match_rec_names(out, id ? id->given_name : "",
			     id ? id->family_name : "", id ? id->company : "");
	if (rv == 0 && d != NULL)
		rv = match_rec_demographics(out, d->birth_date, d->gender);
	for (size_t i = 0; rv == 0 && c != NULL && i < c->n_emails; i++)
		rv = match_rec_email(o, out, c->emails[i]->address);
	for (size_t i = 0; rv == 0 && c != NULL && i < c->n_phones; i++)
		rv = match_rec_phone(out, c->phones[i]->number);
	for (size_t i = 0; rv == 0 && c != NULL && i < c->n_addresses; i++) {
		const Carta__V1__Address *a = c->addresses[i];
		rv =
		    match_rec_address(out, a->postal_code, a->city, a->country);
	}
	return rv;
}

void match_rec_free(match_rec *r)
{
	if (r == NULL)
		return;
	free(r->given);
	free(r->family);
	free(r->company);
	list_free(r->emails, r->n_emails);
	list_free(r->phones, r->n_phones);
	list_free(r->postals, r->n_postals);
	list_free(r->cities, r->n_cities);
	memset(r, 0, sizeof(*r));
}

void match_rec_hide(match_rec *r, uint32_t hidden)
{
	if (hidden & (1u << CARTA__V1__SECTION__SECTION_IDENTITY)) {
		free(r->given);
		free(r->family);
		free(r->company);
		r->given = r->family = r->company = NULL;
	}
	if (hidden & (1u << CARTA__V1__SECTION__SECTION_CONTACT)) {
		list_free(r->emails, r->n_emails);
		list_free(r->phones, r->n_phones);
		list_free(r->postals, r->n_postals);
		list_free(r->cities, r->n_cities);
		r->emails = r->phones = r->postals = r->cities = NULL;
		r->n_emails = r->n_phones = r->n_postals = r->n_cities = 0;
	}
	if (hidden & (1u << CARTA__V1__SECTION__SECTION_DEMOGRAPHICS)) {
		r->birth[0] = '\0';
		r->gender[0] = '\0';
	}
}

static const char *str(const char *s)
{
	return s != NULL ? s : "";
}

bool match_rec_has_person(const match_rec *r)
{
	return str(r->given)[0] != '\0' || str(r->family)[0] != '\0';
}

/* ---- Similarity ------------------------------------------------------ */

double match_jaro_winkler(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool ma[JW_MAX] = {false}, mb[JW_MAX] = {false};

	if (la > JW_MAX)
		la = JW_MAX;
	if (lb > JW_MAX)
		lb = JW_MAX;
	if (la == 0 && lb == 0)
		return 1.0;
	if (la == 0 || lb == 0)
		return 0.0;

	/* Matching bytes: equal, and no further apart than the window. */
	size_t window = (la > lb ? la : lb) / 2;
	window = window > 0 ? window - 1 : 0;
	size_t m = 0;
	for (size_t i = 0; i < la; i++) {
		size_t lo = i > window ? i - window : 0;
		size_t hi = i + window + 1 < lb ? i + window + 1 : lb;
		for (size_t j = lo; j < hi; j++) {
			if (mb[j] || a[i] != b[j])
				continue;
			ma[i] = mb[j] = true;
			m++;
			break;
		}
	}
	if (m == 0)
		return 0.0;

	/* Half the matches out of order are transpositions. */
	size_t t = 0, k = 0;
	for (size_t i = 0; i < la; i++) {
		if (!ma[i])
			continue;
		while (!mb[k])
			k++;
		if (a[i] != b[k])
			t++;
		k++;
	}
	double md = (double)m;
	double jaro =
	    (md / (double)la + md / (double)lb + (md - (double)t / 2) / md) /
	    3.0;

	/* Winkler: a common prefix of up to 4 bytes raises it. */
	size_t p = 0;
	while (p < 4 && p < la && p < lb && a[p] == b[p])
		p++;
	return jaro + (double)p * 0.1 * (1.0 - jaro);
}

/* Splits folded text into at most WORDS_MAX words (pointers into buf). */
static size_t split_words(const char *s, char *buf, size_t cap,
			  char *words[WORDS_MAX])
{
	size_t n = 0;

	snprintf(buf, cap, "%s", s);
	for (char *p = strtok(buf, " "); p != NULL && n < WORDS_MAX;
	     p = strtok(NULL, " "))
		words[n++] = p;
	return n;
}

/* Monge-Elkan on words: each word of a meets its best match in b; a word
 * without a close match (below WORD_CLOSE) counts as none. */
static double words_directed(char *const *wa, size_t na, char *const *wb,
			     size_t nb)
{
	double sum = 0;

	for (size_t i = 0; i < na; i++) {
		double best = 0;
		for (size_t j = 0; j < nb; j++) {
			double v = match_jaro_winkler(wa[i], wb[j]);
			if (v > best)
				best = v;
		}
		sum += best >= WORD_CLOSE ? best : 0;
	}
	return sum / (double)na;
}

/* Equal but for spaces: "acme s l" is "acme sl". */
static bool same_words(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

/* The words of the shorter name against the longer (both ways when they
 * have as many), lowered when words are left over (a second family name
 * missing), more so when the shorter has a single word. */
static double words_similarity(char *const *wa, size_t na, char *const *wb,
			       size_t nb)
{
	if (na == 0 || nb == 0)
		return 0;
	if (na == nb)
		return (words_directed(wa, na, wb, nb) +
			words_directed(wb, nb, wa, na)) /
		       2;
	if (na > nb)
		return words_similarity(wb, nb, wa, na);
	return words_directed(wa, na, wb, nb) * (na == 1 ? 0.85 : 0.95);
}

static double part_similarity(const char *a, const char *b)
{
	char ba[256], bb[256], *wa[WORDS_MAX], *wb[WORDS_MAX];
	size_t na = split_words(a, ba, sizeof(ba), wa);
	size_t nb = split_words(b, bb, sizeof(bb), wb);

	return words_similarity(wa, na, wb, nb);
}

double match_name_similarity(const char *given_a, const char *family_a,
			     const char *given_b, const char *family_b,
			     bool *swapped)
{
	char fa[512], fb[512], ba[512], bb[512];
	char *wa[WORDS_MAX], *wb[WORDS_MAX];

	*swapped = false;
	snprintf(fa, sizeof(fa), "%s %s", given_a, family_a);
	snprintf(fb, sizeof(fb), "%s %s", given_b, family_b);
	size_t na = split_words(fa, ba, sizeof(ba), wa);
	size_t nb = split_words(fb, bb, sizeof(bb), wb);
	double v = words_similarity(wa, na, wb, nb);

	/* Names that differ only in where their words break ("De la
	 * Fuente" and "Delafuente", "Mari Carmen" and "Maricarmen") are the
	 * same name. Only equality: joined words that are merely alike
	 * ("garcialopez", "garciamartin") are namesakes. */
	if (v < 1.0 && same_words(given_a, given_b) &&
	    same_words(family_a, family_b) && (given_a[0] || family_a[0]))
		v = 1.0;

	/* The words match whatever their order; say so when the given
	 * name of one is the family name of the other. */
	if (v >= MATCH_NAME_SIMILAR && given_a[0] && family_a[0] &&
	    given_b[0] && family_b[0] &&
	    part_similarity(given_a, given_b) < MATCH_NAME_SIMILAR &&
	    part_similarity(given_a, family_b) >= MATCH_NAME_SIMILAR &&
	    part_similarity(family_a, given_b) >= MATCH_NAME_SIMILAR)
		*swapped = true;
	return v;
}

/* ---- Scoring --------------------------------------------------------- */

static bool lists_share(char *const *a, size_t na, char *const *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				return true;
	return false;
}

/* The evidence that is not the names: points and reasons. */
static double other_points(const match_rec *a, const match_rec *b, bool pa,
			   bool pb, uint32_t *why)
{
	double points = 0;

	/* Contact points: shared ones are strong, disjoint ones weak
	 * evidence against (people change addresses, so only a little). */
	if (lists_share(a->emails, a->n_emails, b->emails, b->n_emails)) {
		points += W_EMAIL;
		*why |= MATCH_SAME_EMAIL;
	} else if (a->n_emails > 0 && b->n_emails > 0) {
		points += W_EMAILS_DIFF;
		*why |= MATCH_DIFF_EMAILS;
	}
	if (lists_share(a->phones, a->n_phones, b->phones, b->n_phones)) {
		points += W_PHONE;
		*why |= MATCH_SAME_PHONE;
	} else if (a->n_phones > 0 && b->n_phones > 0) {
		points += W_PHONES_DIFF;
		*why |= MATCH_DIFF_PHONES;
	}

	/* Second keys. */
	if (a->birth[0] && b->birth[0]) {
		if (strcmp(a->birth, b->birth) == 0) {
			points += W_BIRTH;
			*why |= MATCH_SAME_BIRTH;
		} else {
			points += W_BIRTH_DIFF;
			*why |= MATCH_DIFF_BIRTH;
		}
	}
	if (lists_share(a->postals, a->n_postals, b->postals, b->n_postals)) {
		points += W_POSTAL;
		*why |= MATCH_SAME_POSTAL;
	} else if (lists_share(a->cities, a->n_cities, b->cities,
			       b->n_cities)) {
		points += W_CITY;
		*why |= MATCH_SAME_CITY;
	}
	if (pa && pb && str(a->company)[0] &&
	    same_words(a->company, b->company)) {
		points += W_COMPANY;
		*why |= MATCH_SAME_COMPANY;
	}
	if (a->gender[0] && b->gender[0] && strcmp(a->gender, b->gender)) {
		points += W_GENDER_DIFF;
		*why |= MATCH_DIFF_GENDER;
	}
	return points;
}

static int to_score(double points, uint32_t why)
{
	double score = points > 0 ? 1.0 - exp(-points) : 0.0;
	if ((why & MATCH_DIFF_NAME) && score > CAP_NAME_DIFF)
		score = CAP_NAME_DIFF;
	return match_score_scale(score);
}

int match_pair_bound(const match_rec *a, const match_rec *b)
{
	uint32_t why = 0;
	double points = other_points(a, b, match_rec_has_person(a),
				     match_rec_has_person(b), &why);
	return to_score(points + W_NAME_SAME, 0);
}

void match_pair(const match_rec *a, const match_rec *b, match_result *out)
{
	uint32_t why = 0;
	bool pa = match_rec_has_person(a), pb = match_rec_has_person(b);
	double points = other_points(a, b, pa, pb, &why);

	/* Names: a person's name, or a company's when neither card has a
	 * person's (the company then is not counted again). */
	double ns = 0;
	bool swapped = false, names = false;
	if (pa && pb) {
		ns = match_name_similarity(str(a->given), str(a->family),
					   str(b->given), str(b->family),
					   &swapped);
		names = true;
	} else if (!pa && !pb && str(a->company)[0] && str(b->company)[0]) {
		ns = part_similarity(a->company, b->company);
		names = true;
	}
	if (names && ns >= MATCH_NAME_SAME) {
		points += W_NAME_SAME;
		why |= MATCH_SAME_NAME;
	} else if (names && ns >= MATCH_NAME_SIMILAR) {
		points +=
		    W_NAME_SIMILAR + (W_NAME_SAME - W_NAME_SIMILAR) *
					 (ns - MATCH_NAME_SIMILAR) /
					 (MATCH_NAME_SAME - MATCH_NAME_SIMILAR);
		why |= MATCH_SIMILAR_NAME;
	} else if (names && ns < MATCH_NAME_DIFFERENT) {
		points += W_NAME_DIFF;
		why |= MATCH_DIFF_NAME;
	}
	if (swapped && (why & (MATCH_SAME_NAME | MATCH_SIMILAR_NAME)))
		why |= MATCH_SWAPPED;

	out->score = to_score(points, why);
	out->name_sim = names ? ns : 0;
	out->reasons = why;
}

/* ---- Reasons --------------------------------------------------------- */

int match_reasons(const match_result *r, char ***out, size_t *n)
{
	static const struct {
		uint32_t bit;
		const char *text;
	} words[] = {
	    {MATCH_SAME_EMAIL, "same email"},
	    {MATCH_SAME_PHONE, "same phone"},
	    {MATCH_SAME_NAME, "same name"},
	    {MATCH_SIMILAR_NAME, "similar name"},
	    {MATCH_SAME_BIRTH, "same birth date"},
	    {MATCH_SAME_POSTAL, "same postal code"},
	    {MATCH_SAME_CITY, "same city"},
	    {MATCH_SAME_COMPANY, "same company"},
	    {MATCH_DIFF_NAME, "different names"},
	    {MATCH_DIFF_BIRTH, "different birth dates"},
	    {MATCH_DIFF_GENDER, "different gender"},
	    {MATCH_DIFF_EMAILS, "no email in common"},
	    {MATCH_DIFF_PHONES, "no phone in common"},
	};
	char **v = calloc(sizeof(words) / sizeof(words[0]), sizeof(*v));
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return CARTA_ENOMEM;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char buf[96];

		if (!(r->reasons & words[i].bit))
			continue;
		if (words[i].bit == MATCH_SIMILAR_NAME)
			snprintf(buf, sizeof(buf), "similar name (%.2f)%s",
				 floor(r->name_sim * 100) / 100,
				 (r->reasons & MATCH_SWAPPED)
				     ? ", given and family swapped"
				     : "");
		else if (words[i].bit == MATCH_SAME_NAME &&
			 (r->reasons & MATCH_SWAPPED))
			snprintf(buf, sizeof(buf),
				 "same name, given and family swapped");
		else
			snprintf(buf, sizeof(buf), "%s", words[i].text);
		v[k] = strdup(buf);
		if (v[k] == NULL) {
			match_reasons_free(v, k);
			return CARTA_ENOMEM;
		}
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

void match_reasons_free(char **v, size_t n)
{
	list_free(v, n);
}
