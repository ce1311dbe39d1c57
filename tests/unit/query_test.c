/* The query compiler alone: what it binds (never SQL text from input),
 * dates relative to an injected today, errors with their field, limits,
 * the sections a query reads, and cursors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carta_error.h"
#include "query.h"

#define BIT(s) (1u << CARTA__V1__SECTION__SECTION_##s)

static int custom(void *arg, const char *name, Carta__V1__FieldDef **def)
{
	(void)arg;
	if (strcmp(name, "tier") != 0)
		return CARTA_ENOENT;
	*def = malloc(sizeof(**def));
	assert_non_null(*def);
	carta__v1__field_def__init(*def);
	(*def)->name = strdup(name);
	assert_non_null((*def)->name);
	(*def)->section = CARTA__V1__SECTION__SECTION_PREFERENCES;
	(*def)->type = CARTA__V1__FIELD_TYPE__FIELD_NUMBER;
	return 0;
}

static const query_ctx ctx = {.today = "2024-03-31", .custom = custom};

static int compile(const char *where, query_plan *p, char *err,
		   const char **field)
{
	return query_compile(&ctx, "", where, "", "", p, err, 256, field);
}

/* Whether the plan binds this text value. */
static bool binds_text(const query_plan *p, const char *s)
{
	for (size_t i = 0; i < p->nbinds; i++)
		if (p->binds[i].kind == QUERY_TEXT &&
		    strcmp(p->binds[i].s, s) == 0)
			return true;
	return false;
}

static bool binds_int(const query_plan *p, int64_t v)
{
	for (size_t i = 0; i < p->nbinds; i++)
		if (p->binds[i].kind == QUERY_INT && p->binds[i].i == v)
			return true;
	return false;
}

static void test_dates_relative_to_today(void **state)
{
	static const struct {
		const char *expr, *date;
	} cases[] = {
	    {"last_purchase < today", "2024-03-31"},
	    {"last_purchase < today - 180d", "2023-10-03"},
	    {"last_purchase < today-180d", "2023-10-03"},
	    {"last_purchase < today +1d", "2024-04-01"},
	    {"last_purchase < today - 2w", "2024-03-17"},
	    {"last_purchase < today - 1m", "2024-02-29"},
	    {"last_purchase < today - 1y", "2023-03-31"},
	    {"last_purchase < TODAY - 13m", "2023-02-28"},
	    {"birth_date = 2000-02-29", "2000-02-29"},
	    {"birth_date = '1999-12-31'", "1999-12-31"},
	};
	char err[256];
	const char *field;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		query_plan p;
		int rv = compile(cases[i].expr, &p, err, &field);
		if (rv != 0)
			fail_msg("%s: %s", cases[i].expr, err);
		if (!binds_text(&p, cases[i].date))
			fail_msg("%s: no %s bound", cases[i].expr,
				 cases[i].date);
		query_plan_free(&p);
	}
}

static void test_values_are_bound_never_inlined(void **state)
{
	const char *hostile[] = {"'; DROP TABLE cards; --'", "'%Stran_ge'",
				 "\"a\"\"b\"", "'?1'", "'NEAR OR *'"};
	char err[256], where[128];
	const char *field;
	(void)state;

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		query_plan p;
		snprintf(where, sizeof(where), "family_name = %s", hostile[i]);
		assert_int_equal(compile(where, &p, err, &field), 0);
		/* The SQL holds no quote and no value. */
		assert_null(strchr(p.where, '\''));
		assert_null(strstr(p.where, "DROP"));
		assert_null(strstr(p.where, "stran"));
		query_plan_free(&p);
	}
	query_plan p;
	assert_int_equal(compile("family_name = 'O''Brien'", &p, err, &field),
			 0);
	assert_true(binds_text(&p, "o'brien"));
	query_plan_free(&p);
	assert_int_equal(compile("company = \"A \"\"B\"\"\"", &p, err, &field),
			 0);
	assert_true(binds_text(&p, "a \"b\""));
	query_plan_free(&p);
	/* Amounts in major units become minor units. */
	assert_int_equal(compile("total_spent.EUR > 49.90", &p, err, &field),
			 0);
	assert_true(binds_int(&p, 4990));
	assert_true(binds_text(&p, "EUR"));
	query_plan_free(&p);
	assert_int_equal(compile("total_spent.jpy >= 500", &p, err, &field), 0);
	assert_true(binds_int(&p, 500));
	query_plan_free(&p);
	assert_int_equal(
	    compile("consent.newsletter.sms = withdrawn", &p, err, &field), 0);
	assert_true(binds_int(&p, 2));
	assert_true(binds_text(&p, "newsletter"));
	assert_true(binds_text(&p, "sms"));
	query_plan_free(&p);
}

static void test_every_operator_and_combination(void **state)
{
	const char *ok[] = {
	    "city = a",
	    "city != a",
	    "city <> a",
	    "city < a",
	    "city <= a",
	    "city > a",
	    "city >= a",
	    "city contains a",
	    "city starts-with a",
	    "city is empty",
	    "city IS NOT EMPTY",
	    "a_b = 1 or 1", /* unknown field: refused below */
	};
	char err[256];
	const char *field;
	(void)state;

	for (size_t i = 0; i + 1 < sizeof(ok) / sizeof(ok[0]); i++) {
		query_plan p;
		if (compile(ok[i], &p, err, &field) != 0)
			fail_msg("%s: %s", ok[i], err);
		query_plan_free(&p);
	}
	const char *combos[] = {
	    "city = a and city = b or not city = c",
	    "not not (city = a)",
	    "(city = a or (gender = f and (birth_date < today)))",
	    "NOT (purchase_count = 0) AND custom.tier >= 2",
	    "phone = '612 34 56 78' or phone contains 612 or phone "
	    "starts-with +34 or phone is empty",
	};
	for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
		query_plan p;
		if (compile(combos[i], &p, err, &field) != 0)
			fail_msg("%s: %s", combos[i], err);
		query_plan_free(&p);
	}
	query_plan p;
	assert_int_equal(compile(ok[11], &p, err, &field), CARTA_EINVAL);
	assert_string_equal(field, "query.where");
	query_plan_free(&p);
}

static void test_errors_name_position_and_field(void **state)
{
	static const struct {
		const char *expr, *err;
	} cases[] = {
	    {"city", "query.where: at 5: expected an operator after city"},
	    {"city =", "query.where: at 7: expected a value"},
	    {"nosuch = 1", "query.where: at 1: unknown field 'nosuch'"},
	    {"city = 'x", "query.where: at 8: unterminated string"},
	    {"(city = x", "query.where: at 10: expected ')'"},
	    {"city = x)", "query.where: at 9: unexpected ')'"},
	    {"city = x >", "query.where: at 10: unexpected '>'"},
	    {"city = madrid,",
	     "query.where: at 14: ',' outside quotes; put a value holding it "
	     "in quotes (decimals take a dot)"},
	    {"city = madrid;barcelona",
	     "query.where: at 14: ';' outside quotes; put a value holding it "
	     "in quotes (decimals take a dot)"},
	    {"total_spent.EUR > 1,5",
	     "query.where: at 20: ',' outside quotes; put a value holding it "
	     "in quotes (decimals take a dot)"},
	    {"purchase_count contains 1",
	     "query.where: at 25: contains and starts-with apply to text"},
	    {"consent.fax = granted",
	     "query.where: at 1: consent channels are email, phone, sms and "
	     "post"},
	    {"custom.nope = 1", "query.where: at 1: no custom field nope"},
	    {"birth_date < today - 5x",
	     "query.where: at 22: expected a date (YYYY-MM-DD or today-180d)"},
	};
	char err[256];
	const char *field;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		query_plan p;
		assert_int_equal(compile(cases[i].expr, &p, err, &field),
				 CARTA_EINVAL);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("%s: got '%s' want '%s'", cases[i].expr, err,
				 cases[i].err);
		assert_string_equal(field, "query.where");
		query_plan_free(&p);
	}
}

static void test_limits(void **state)
{
	char *big = malloc(QUERY_WHERE_MAX + 2), err[256];
	const char *field;
	query_plan p;
	(void)state;

	memset(big, ' ', QUERY_WHERE_MAX + 1);
	memcpy(big, "city = a", 8);
	big[QUERY_WHERE_MAX + 1] = '\0';
	assert_int_equal(compile(big, &p, err, &field), CARTA_EINVAL);
	assert_string_equal(err, "query.where: longer than 4096 bytes");
	query_plan_free(&p);

	/* One level too deep: parentheses, then not. */
	char deep[256] = "";
	for (int i = 0; i < QUERY_DEPTH_MAX + 1; i++)
		strcat(deep, "(");
	strcat(deep, "city = a");
	for (int i = 0; i < QUERY_DEPTH_MAX + 1; i++)
		strcat(deep, ")");
	assert_int_equal(compile(deep, &p, err, &field), CARTA_EINVAL);
	assert_non_null(strstr(err, "nested more than 16 deep"));
	query_plan_free(&p);
	strcpy(deep, "");
	for (int i = 0; i < QUERY_DEPTH_MAX + 1; i++)
		strcat(deep, "not ");
	strcat(deep, "city = a");
	assert_int_equal(compile(deep, &p, err, &field), CARTA_EINVAL);
	query_plan_free(&p);

	/* 65 comparisons. */
	big[0] = '\0';
	for (int i = 0; i <= QUERY_TERMS_MAX; i++)
		strcat(big, i ? " or city = a" : "city = a");
	assert_int_equal(compile(big, &p, err, &field), CARTA_EINVAL);
	query_plan_free(&p);
	free(big);

	/* Text: 257 bytes, 9 words. */
	char text[300];
	memset(text, 'a', 257);
	text[257] = '\0';
	assert_int_equal(
	    query_compile(&ctx, text, "", "", "", &p, err, sizeof(err), &field),
	    CARTA_EINVAL);
	assert_string_equal(field, "query.text");
	query_plan_free(&p);
	assert_int_equal(query_compile(&ctx, "a b c d e f g h i", "", "", "",
				       &p, err, sizeof(err), &field),
			 CARTA_EINVAL);
	assert_string_equal(err, "query.text: at most 8 words");
	query_plan_free(&p);
}

static void test_needs_name_the_field(void **state)
{
	static const struct {
		const char *text, *where, *sort, *channel;
		uint32_t reads;
		int section;
		const char *field;
	} cases[] = {
	    {"", "", "", "", 0, 0, ""},
	    {"", "number = C-000001", "-number", "", 0, 0, ""},
	    {"", "total_spent.EUR > 100", "", "", BIT(PURCHASES),
	     CARTA__V1__SECTION__SECTION_PURCHASES, "total_spent.EUR"},
	    {"", "city = a and birth_date < today", "", "",
	     BIT(CONTACT) | BIT(DEMOGRAPHICS),
	     CARTA__V1__SECTION__SECTION_DEMOGRAPHICS, "birth_date"},
	    {"", "", "-last_contact", "", BIT(INTERACTIONS),
	     CARTA__V1__SECTION__SECTION_INTERACTIONS, "last_contact"},
	    {"jose", "", "", "", BIT(IDENTITY) | BIT(CONTACT),
	     CARTA__V1__SECTION__SECTION_CONTACT, "text"},
	    /* A channel reads the consent and the address to reach. */
	    {"", "", "", "sms", BIT(CONSENT) | BIT(CONTACT),
	     CARTA__V1__SECTION__SECTION_CONSENT, "channel"},
	    {"", "", "", "marketing.email", BIT(CONSENT) | BIT(CONTACT),
	     CARTA__V1__SECTION__SECTION_CONTACT, "channel"},
	    {"", "custom.tier > 1", "", "", BIT(PREFERENCES),
	     CARTA__V1__SECTION__SECTION_PREFERENCES, "custom.tier"},
	    {"", "consent.email = granted", "", "", BIT(CONSENT),
	     CARTA__V1__SECTION__SECTION_CONSENT, "consent.email"},
	};
	const char *fields[CARD_SECTIONS], *field;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		query_plan p;
		assert_int_equal(query_compile(&ctx, cases[i].text,
					       cases[i].where, cases[i].sort,
					       cases[i].channel, &p, err,
					       sizeof(err), &field),
				 0);
		policy_needs n = query_needs(&p, fields);
		assert_int_equal(n.read, cases[i].reads);
		assert_true(n.known);
		assert_int_equal(n.write, 0);
		if (cases[i].section)
			assert_string_equal(fields[cases[i].section],
					    cases[i].field);
		query_plan_free(&p);
	}
}

static void test_cursor_round_trip_and_refusals(void **state)
{
	const char *id = "0123456789abcdef0123456789abcdef";
	query_value vals[2] = {{.kind = QUERY_INT, .i = -42},
			       {.kind = QUERY_TEXT, .s = "garcía"}};
	query_value back[QUERY_SORT_MAX + 1];
	char got_id[33], err[256], *cur = NULL;
	const char *field;
	query_plan p;
	(void)state;

	assert_int_equal(query_compile(&ctx, "", "", "purchase_count,city", "",
				       &p, err, sizeof(err), &field),
			 0);
	assert_int_equal(p.nkeys, 2);
	assert_int_equal(query_cursor_encode(&p, vals, id, &cur), 0);
	assert_int_equal(query_cursor_decode(&p, cur, back, got_id), 0);
	assert_int_equal(back[0].i, -42);
	assert_string_equal(back[1].s, "garcía");
	assert_string_equal(got_id, id);
	query_values_free(back, 2);
	free(cur);

	const char *bad[] = {
	    "",
	    "garbage",
	    "i1.0123456789abcdef0123456789abcdef",
	    "s61.i1.0123456789abcdef0123456789abcdef",
	    "i1.s6.0123456789abcdef0123456789abcdef",
	    "i1.s6x.0123456789abcdef0123456789abcdef",
	    "i1.s0061.0123456789abcdef0123456789abcdef",
	    "ix.s61.0123456789abcdef0123456789abcdef",
	    "i1.s61.0123456789abcdef0123456789abcdeZ",
	    "i1.s61.0123456789abcdef0123456789abcdef0",
	    "i99999999999999999999.s61.0123456789abcdef0123456789abcdef",
	};
	/* Each with the right query fingerprint, so that the part after
	 * it is what gets refused. */
	char pref[16], with[160];
	snprintf(pref, sizeof(pref), "q%08" PRIx32 ".", p.fingerprint);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(with, sizeof(with), "%s%s", pref, bad[i]);
		if (query_cursor_decode(&p, with, back, got_id) != CARTA_EINVAL)
			fail_msg("cursor '%s' accepted", with);
	}

	/* A cursor of another query does not fit this one, even with the
	 * same kinds of sort keys. */
	query_plan other;
	assert_int_equal(query_compile(&ctx, "", "city = madrid",
				       "purchase_count,city", "", &other, err,
				       sizeof(err), &field),
			 0);
	assert_int_equal(query_cursor_encode(&p, vals, id, &cur), 0);
	assert_int_equal(query_cursor_decode(&other, cur, back, got_id),
			 CARTA_EINVAL);
	free(cur);
	query_plan_free(&other);
	query_plan_free(&p);
}

static void test_text_words(void **state)
{
	char *w[QUERY_TOKENS_MAX];
	(void)state;

	int n = query_words("%Stran_ge  NAME \"NEAR\" OR*", w, 8);
	assert_int_equal(n, 5);
	assert_string_equal(w[0], "stran");
	assert_string_equal(w[1], "ge");
	assert_string_equal(w[2], "name");
	assert_string_equal(w[3], "near");
	assert_string_equal(w[4], "or");
	for (int i = 0; i < n; i++)
		free(w[i]);
	assert_int_equal(query_words("%_*\"", w, 8), 0);
	/* Punctuation of any script splits words: Col·lell, ¿garcia? */
	assert_int_equal(query_words("Col\xc2\xb7lell \xc2\xbfgarcia?", w, 8),
			 3);
	assert_string_equal(w[0], "col");
	assert_string_equal(w[1], "lell");
	assert_string_equal(w[2], "garcia");
	for (int i = 0; i < 3; i++)
		free(w[i]);
	assert_int_equal(query_words("José García", w, 8), 2);
	assert_string_equal(w[0], "jose");
	assert_string_equal(w[1], "garcia");
	free(w[0]);
	free(w[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dates_relative_to_today),
	    cmocka_unit_test(test_values_are_bound_never_inlined),
	    cmocka_unit_test(test_every_operator_and_combination),
	    cmocka_unit_test(test_errors_name_position_and_field),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_needs_name_the_field),
	    cmocka_unit_test(test_cursor_round_trip_and_refusals),
	    cmocka_unit_test(test_text_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
