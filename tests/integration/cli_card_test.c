/* The card through the carta CLI, as departments use it: sales creates a
 * card with contact data and two purchases; marketing sees it without
 * purchases and is told they were withheld, and may not add one; a stale
 * edit is refused with a conflict; the admin's audit shows each change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "harness.h"

static harness srv;
static char sales[PATH_MAX + 32], marketing[PATH_MAX + 32];

/* Runs "carta --profile P --server ADDR ARGS" and returns its exit code;
 * stdout and stderr go to out. */
static int carta(const char *profile, const char *args, char *out, size_t cap)
{
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "'%s' --profile '%s' --server %s %s 2>&1",
		 CARTA_CLI_PATH, profile, srv.addr, args);
	int rc = harness_run(cmd, out, cap);
	print_message("$ carta %s\n%s[exit %d]\n", args, out, rc);
	return rc;
}

static int setup(void **state)
{
	char out[4096], args[PATH_MAX + 128];
	(void)state;

	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	snprintf(sales, sizeof(sales), "%s/sam.profile", srv.dir);
	snprintf(marketing, sizeof(marketing), "%s/mia.profile", srv.dir);
	snprintf(args, sizeof(args),
		 "admin enrol sam --department sales --out '%s'", sales);
	if (carta(srv.admin_profile, args, out, sizeof(out)) != 0)
		return -1;
	snprintf(args, sizeof(args),
		 "admin enrol mia --department marketing --out '%s'",
		 marketing);
	return carta(srv.admin_profile, args, out, sizeof(out)) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return harness_stop(&srv) == 0 ? 0 : -1;
}

static void test_department_scenario(void **state)
{
	static char out[65536];
	json_error_t jerr;
	(void)state;

	/* Sales creates the card and records two purchases. */
	assert_int_equal(carta(sales,
			       "customer add --given-name Jos\xc3\xa9 "
			       "--family-name Garc\xc3\xad"
			       "a --email jose@example.es "
			       "--phone '612 34 56 78'",
			       out, sizeof(out)),
			 0);
	assert_non_null(strstr(out, "C-000001"));
	assert_non_null(strstr(out, "+34612345678"));
	assert_int_equal(carta(sales,
			       "purchase add C-000001 --product Lamp "
			       "--amount 49.90 --currency EUR",
			       out, sizeof(out)),
			 0);
	assert_int_equal(carta(sales,
			       "purchase add jose@example.es --product Table "
			       "--amount 120 --currency EUR --date 2026-11-02",
			       out, sizeof(out)),
			 0);

	/* Marketing: no purchases, and told so. */
	assert_int_equal(
	    carta(marketing, "customer show C-000001 --json", out, sizeof(out)),
	    0);
	json_t *card = json_loads(out, 0, &jerr);
	assert_non_null(card);
	assert_null(json_object_get(card, "purchases"));
	json_t *withheld = json_object_get(card, "withheld");
	assert_true(json_is_array(withheld));
	int says_purchases = 0;
	size_t i;
	json_t *v;
	json_array_foreach(withheld, i, v)
	{
		says_purchases |=
		    strcmp(json_string_value(v), "purchases") == 0;
	}
	assert_true(says_purchases);
	json_decref(card);
	assert_int_equal(
	    carta(marketing, "customer show C-000001", out, sizeof(out)), 0);
	assert_null(strstr(out, "Lamp"));
	assert_non_null(strstr(out, "withheld: purchases"));

	/* Sales sees them. */
	assert_int_equal(
	    carta(sales, "purchase list C-000001", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "49.90 EUR"));
	assert_non_null(strstr(out, "120.00 EUR"));

	/* Marketing may not add one; nothing is recorded. */
	assert_int_not_equal(carta(marketing,
				   "purchase add C-000001 --product Pen "
				   "--amount 1 --currency EUR",
				   out, sizeof(out)),
			     0);
	assert_non_null(strstr(out, "purchases"));
	assert_int_equal(
	    carta(sales, "purchase list C-000001 --json", out, sizeof(out)), 0);
	assert_null(strstr(out, "Pen"));

	/* Two edits from version 1 of contact: the second is stale. */
	assert_int_equal(carta(sales,
			       "customer edit C-000001 --section contact "
			       "--set emails.0.label=home --if-version 1",
			       out, sizeof(out)),
			 0);
	assert_int_not_equal(carta(sales,
				   "customer edit C-000001 --section contact "
				   "--set emails.0.label=work --if-version 1",
				   out, sizeof(out)),
			     0);
	assert_non_null(strstr(out, "conflict"));
	assert_non_null(strstr(out, "version 2"));

	/* The admin's audit shows each change. */
	assert_int_equal(carta(srv.admin_profile,
			       "audit --customer C-000001 --json", out,
			       sizeof(out)),
			 0);
	const char *actions[] = {"\"create\"", "\"purchase.add\"", "\"edit\""};
	for (size_t k = 0; k < 3; k++)
		assert_non_null(strstr(out, actions[k]));
	assert_non_null(strstr(out, "\"label\":\"home\""));
	int lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	/* identity and contact created, two purchases, one edit. */
	assert_int_equal(lines, 5);
}

/* Purchases are listed by date, newest first, whatever the order they
 * were recorded in; pages of one (each with its cursor) give the same. */
static void test_purchases_newest_first(void **state)
{
	static char out[65536];
	const char *dates[] = {"2025-01-01", "2020-01-01", "2022-01-01"};
	char args[256];
	(void)state;

	assert_int_equal(carta(sales,
			       "customer add --given-name Olvido --family-name "
			       "Ordenado --email olvido@example.es",
			       out, sizeof(out)),
			 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(args, sizeof(args),
			 "purchase add olvido@example.es --product P%zu "
			 "--amount 1 --currency EUR --date %s",
			 i, dates[i]);
		assert_int_equal(carta(sales, args, out, sizeof(out)), 0);
	}
	/* Pages of one, each from the cursor the one before gave. */
	char cursor[64] = "";
	for (size_t i = 0; i < 3; i++) {
		static const char *const want[] = {"2025-01-01", "2022-01-01",
						   "2020-01-01"};
		snprintf(args, sizeof(args),
			 "purchase list olvido@example.es --limit 1 --json%s%s",
			 cursor[0] ? " --cursor " : "", cursor);
		assert_int_equal(carta(sales, args, out, sizeof(out)), 0);
		assert_non_null(strstr(out, want[i]));
		const char *next = strstr(out, "\"next_cursor\":\"");
		cursor[0] = '\0';
		if (next != NULL)
			sscanf(next + 15, "%63[^\"]", cursor);
		assert_true(i == 2 ? cursor[0] == '\0' : cursor[0] != '\0');
	}
	const char *a, *b, *c;
	assert_int_equal(carta(sales, "customer show olvido@example.es --json",
			       out, sizeof(out)),
			 0);
	a = strstr(out, "2025-01-01");
	b = strstr(out, "2022-01-01");
	c = strstr(out, "2020-01-01");
	assert_true(a != NULL && b != NULL && c != NULL && a < b && b < c);
}

/* A flag that is not UTF-8 is refused naming it, not changed. */
static void test_flag_not_utf8(void **state)
{
	static char out[4096];
	(void)state;

	assert_int_equal(carta(sales,
			       "customer add --given-name 'Ra\xc3(' "
			       "--family-name Mal --force",
			       out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "--given-name: not valid UTF-8"));
	assert_int_equal(carta(sales,
			       "search --where 'family_name = mal' "
			       "--count",
			       out, sizeof(out)),
			 0);
	assert_string_equal(out, "0\n");
}

/* A customer number typed in lower case finds its card. */
static void test_number_in_lower_case(void **state)
{
	static char out[65536];
	(void)state;

	assert_int_equal(
	    carta(sales, "customer show c-000001", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "C-000001"));
	assert_non_null(strstr(out, "Garc\xc3\xad"));
}

/* A consent purpose is what a filter names between two dots
 * (consent.PURPOSE.CHANNEL): it may not hold one itself. */
static void test_purpose_without_dots(void **state)
{
	static char out[4096];
	(void)state;

	assert_int_equal(carta(sales,
			       "customer add --given-name Pura --family-name "
			       "Punto --email pura@example.es",
			       out, sizeof(out)),
			 0);
	assert_int_equal(carta(srv.admin_profile,
			       "consent set pura@example.es --purpose "
			       "news.letter --channel email granted",
			       out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "purpose: must be 1-40 of a-z, 0-9, '_' "
				    "or '-', starting with a letter"));
	assert_int_equal(carta(srv.admin_profile,
			       "consent set pura@example.es --purpose "
			       "news_letter --channel email granted",
			       out, sizeof(out)),
			 0);
	assert_int_equal(carta(srv.admin_profile,
			       "search --where 'consent.news_letter.email = "
			       "granted' --count",
			       out, sizeof(out)),
			 0);
	assert_string_equal(out, "1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_department_scenario),
	    cmocka_unit_test(test_purchases_newest_first),
	    cmocka_unit_test(test_flag_not_utf8),
	    cmocka_unit_test(test_number_in_lower_case),
	    cmocka_unit_test(test_purpose_without_dots),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
