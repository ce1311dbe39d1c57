/* The duplicate matcher: a table of pairs that must match (accents, case,
 * NFC/NFD, spacing, phone formats, email case and plus-tags, provider
 * dots, swapped names, a name with a second key) and of near misses that
 * must not (namesakes in different cities with different birth dates),
 * with their exact scores, their order and their reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carta_error.h"
#include "match.h"

/* One side of a pair: NULL fields are absent. */
typedef struct {
	const char *given, *family, *company, *birth, *gender;
	const char *email, *phone, *postal, *city;
} side;

typedef struct {
	const char *what;
	side a, b;
	int score;	     /* exact, in thousandths */
	const char *reasons; /* joined by "; " */
} row;

static void build(const match_options *o, const side *s, match_rec *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(match_rec_names(r, s->given, s->family, s->company),
			 0);
	assert_int_equal(match_rec_demographics(r, s->birth, s->gender), 0);
	assert_int_equal(match_rec_email(o, r, s->email), 0);
	assert_int_equal(match_rec_phone(r, s->phone), 0);
	assert_int_equal(match_rec_address(r, s->postal, s->city, "ES"), 0);
}

static void joined(const match_result *res, char *out, size_t cap)
{
	char **v = NULL;
	size_t n = 0;

	assert_int_equal(match_reasons(res, &v, &n), 0);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s",
			 i ? "; " : "", v[i]);
	match_reasons_free(v, n);
}

static int score_of(const match_options *o, const row *t, char *why, size_t cap)
{
	match_rec a, b;
	match_result ab, ba;

	build(o, &t->a, &a);
	build(o, &t->b, &b);
	match_pair(&a, &b, &ab);
	match_pair(&b, &a, &ba);
	/* Symmetric. */
	assert_int_equal(ab.score, ba.score);
	assert_int_equal(ab.reasons, ba.reasons);
	joined(&ab, why, cap);
	match_rec_free(&a);
	match_rec_free(&b);
	return ab.score;
}

/* "José García", born 1980-05-17, in Madrid 28001, with an email and a
 * phone: the original of most rows. */
#define JOSE                                                                   \
	{                                                                      \
		"José", "García López", NULL, "1980-05-17", "m",               \
		    "jose.garcia@example.es", "+34612345678", "28001",         \
		    "Madrid"                                                   \
	}

static const row must_match[] = {
    {"accents dropped",
     JOSE,
     {"Jose", "Garcia Lopez", NULL, "1980-05-17", "m", "jose.garcia@example.es",
      "+34612345678", "28001", "Madrid"},
     1000,
     "same email; same phone; same name; same birth date; same postal "
     "code"},
    {"upper case, NFD and extra spaces, nothing else shared but the "
     "birth date",
     {"JOSE\xcc\x81 ",
      " GARCI\xcc\x81"
      "A   LO\xcc\x81PEZ",
      NULL, "1980-05-17", NULL, NULL, NULL, NULL, NULL},
     JOSE,
     950,
     "same name; same birth date"},
    {"words broken elsewhere: De la Fuente, Delafuente; Mari Carmen",
     {"Mari Carmen", "De la Fuentequilla", NULL, "1955-03-03", NULL, NULL, NULL,
      NULL, NULL},
     {"Maricarmen", "Delafuentequilla", NULL, "1955-03-03", NULL, NULL, NULL,
      NULL, NULL},
     950,
     "same name; same birth date"},
    {"email in upper case with a plus-tag, names only",
     {NULL, NULL, NULL, NULL, NULL, "JOSE.GARCIA+tienda@EXAMPLE.ES", NULL, NULL,
      NULL},
     JOSE,
     865,
     "same email"},
    {"gmail dots",
     {"José", "García", NULL, NULL, NULL, "j.o.se.garcia@googlemail.com", NULL,
      NULL, NULL},
     {"Jose", "Garcia", NULL, NULL, NULL, "JoseGarcia@gmail.com", NULL, NULL,
      NULL},
     955,
     "same email; same name"},
    {"phone typed another way (same E.164) and a similar name",
     {"Josep", "Garcia", NULL, NULL, NULL, NULL, "+34612345678", NULL, NULL},
     {"José", "García", NULL, NULL, NULL, NULL, "+34612345678", NULL, NULL},
     929,
     "same phone; similar name (0.98)"},
    {"given and family swapped",
     {"García López", "José", NULL, "1980-05-17", "m", NULL, NULL, "28001",
      "Madrid"},
     JOSE,
     985,
     "same name, given and family swapped; same birth date; same postal "
     "code"},
    {"similar name and the same birth date",
     {"Jose", "Garzia", NULL, "1980-05-17", NULL, NULL, NULL, NULL, NULL},
     {"José", "García", NULL, "1980-05-17", NULL, NULL, NULL, NULL, NULL},
     944,
     "similar name (0.96); same birth date"},
    {"same name and the same postal code",
     {"Ana", "Pérez", NULL, NULL, NULL, NULL, NULL, "28001", "Madrid"},
     {"ana", "perez", NULL, NULL, NULL, NULL, NULL, "28001", NULL},
     900,
     "same name; same postal code"},
    {"same name and the same city",
     {"Ana", "Pérez", NULL, NULL, NULL, NULL, NULL, NULL, "Málaga"},
     {"ANA", "PEREZ", NULL, NULL, NULL, NULL, NULL, "29001", "malaga"},
     865,
     "same name; same city"},
    {"same name and the same company",
     {"Ana", "Pérez", "Acme, S.L.", NULL, NULL, NULL, NULL, NULL, NULL},
     {"Ana", "Perez", "ACME SL", NULL, NULL, NULL, NULL, NULL, NULL},
     900,
     "same name; same company"},
    {"second family name missing, same birth date",
     {"José", "García", NULL, "1980-05-17", NULL, NULL, NULL, NULL, NULL},
     JOSE,
     942,
     "similar name (0.95); same birth date"},
};

static const row must_not_match[] = {
    {"namesakes in different cities with different birth dates",
     {"José", "García López", NULL, "1975-02-03", "m", "pepe75@example.com",
      "+34699000111", "08001", "Barcelona"},
     JOSE,
     0,
     "same name; different birth dates; no email in common; no phone in "
     "common"},
    {"namesakes in one city, different birth dates",
     {"José", "García López", NULL, "1975-02-03", NULL, NULL, NULL, "28001",
      "Madrid"},
     JOSE,
     551,
     "same name; same postal code; different birth dates"},
    {"namesakes in one city, no birth date, other contacts",
     {"José", "García López", NULL, NULL, NULL, "pepe75@example.com",
      "+34699000111", NULL, "Madrid"},
     JOSE,
     753,
     "same name; same city; no email in common; no phone in common"},
    {"one household: the same phone, different names",
     {"María", "Ruiz Sanz", NULL, NULL, NULL, NULL, "+34612345678", NULL,
      "Madrid"},
     JOSE,
     632,
     "same phone; same city; different names"},
    {"a name alone",
     {"José", "García López", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
     JOSE,
     667,
     "same name"},
    {"another second family name, same city",
     {"José", "García Martín", NULL, NULL, NULL, NULL, NULL, NULL, "Madrid"},
     JOSE,
     0,
     "same city; different names"},
    {"similar names of a woman and a man, same city",
     {"Josefa", "García López", NULL, NULL, "f", NULL, NULL, NULL, "Madrid"},
     JOSE,
     609,
     "similar name (0.97); same city; different gender"},
};

static void check_rows(const row *rows, size_t n, bool above)
{
	match_options o;
	int threshold = match_score_scale(MATCH_MIN_SCORE_DEFAULT);
	bool bad = false;

	match_options_default(&o);
	for (size_t i = 0; i < n; i++) {
		char why[512];
		int s = score_of(&o, &rows[i], why, sizeof(why));

		printf("  %-60.60s %.3f  %s\n", rows[i].what,
		       (double)s / MATCH_SCORE_SCALE, why);
		if ((s >= threshold) != above) {
			printf("    ^ on the wrong side of %.2f\n",
			       MATCH_MIN_SCORE_DEFAULT);
			bad = true;
		}
		if (rows[i].reasons[0] != '\0' &&
		    (s != rows[i].score || strcmp(why, rows[i].reasons))) {
			printf("    ^ want %.3f  %s\n",
			       (double)rows[i].score / MATCH_SCORE_SCALE,
			       rows[i].reasons);
			bad = true;
		}
	}
	assert_false(bad);
}

static void test_must_match(void **state)
{
	(void)state;
	check_rows(must_match, sizeof(must_match) / sizeof(must_match[0]),
		   true);
}

static void test_must_not_match(void **state)
{
	(void)state;
	check_rows(must_not_match,
		   sizeof(must_not_match) / sizeof(must_not_match[0]), false);
}

/* The textbook values of Jaro-Winkler. */
static void test_jaro_winkler(void **state)
{
	(void)state;
	assert_float_equal(match_jaro_winkler("martha", "marhta"), 0.9611,
			   0.0001);
	assert_float_equal(match_jaro_winkler("dwayne", "duane"), 0.84, 0.0001);
	assert_float_equal(match_jaro_winkler("dixon", "dicksonx"), 0.8133,
			   0.0001);
	assert_float_equal(match_jaro_winkler("", ""), 1.0, 0);
	assert_float_equal(match_jaro_winkler("abc", ""), 0.0, 0);
}

static void key(const match_options *o, const char *in, const char *want)
{
	char out[128];

	assert_int_equal(match_email_key(o, in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

/* Both rules can be turned off ([dedup] in cartad.conf). */
static void test_email_keys(void **state)
{
	match_options o;
	char out[8];

	(void)state;
	match_options_default(&o);
	key(&o, "Ana.Ruiz+news@Example.COM", "ana.ruiz@example.com");
	key(&o, "A.na.Ruiz+x+y@GoogleMail.com", "anaruiz@gmail.com");
	key(&o, "+tag@example.com", "+tag@example.com");
	o.plus_tags = false;
	key(&o, "Ana.Ruiz+news@gmail.com", "anaruiz+news@gmail.com");
	o.provider_dots = false;
	key(&o, "Ana.Ruiz+news@gmail.com", "ana.ruiz+news@gmail.com");
	assert_int_equal(match_email_key(&o, "no-at-sign", out, sizeof(out)),
			 CARTA_EINVAL);
	assert_int_equal(
	    match_email_key(&o, "long.address@example.com", out, sizeof(out)),
	    CARTA_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jaro_winkler),
	    cmocka_unit_test(test_email_keys),
	    cmocka_unit_test(test_must_match),
	    cmocka_unit_test(test_must_not_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
