/* carta search and carta segment against a real server: the table of
 * cards and its JSON lines, pages and cursors, --count, text search that
 * ignores accents, filters and sorting, and a department's segments saved,
 * listed, shown, run and deleted. */
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

static int enrol(const char *name, const char *dept, char *profile, size_t cap)
{
	char out[4096], args[PATH_MAX + 128];

	snprintf(profile, cap, "%s/%s.profile", srv.dir, name);
	snprintf(args, sizeof(args),
		 "admin enrol %s --department %s --out '%s'", name, dept,
		 profile);
	return carta(srv.admin_profile, args, out, sizeof(out));
}

static int add_card(const char *name, const char *json)
{
	char path[PATH_MAX + 64], args[PATH_MAX + 128], out[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", srv.dir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(json, f) < 0 || fclose(f) != 0)
		return -1;
	snprintf(args, sizeof(args), "customer add --from-json '%s'", path);
	return carta(sales, args, out, sizeof(out));
}

static int setup(void **state)
{
	char out[4096];
	(void)state;

	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	if (enrol("sam", "sales", sales, sizeof(sales)) != 0 ||
	    enrol("mia", "marketing", marketing, sizeof(marketing)) != 0)
		return -1;
	if (add_card("jose",
		     "{\"identity\": {\"given_name\": \"Jos\xc3\xa9\", "
		     "\"family_name\": \"Garc\xc3\xad"
		     "a\"}, \"contact\": {\"emails\": [{\"address\": "
		     "\"jose@example.es\", \"primary\": true}], \"phones\": "
		     "[{\"number\": \"612 34 56 78\"}], \"addresses\": "
		     "[{\"city\": \"Madrid\", \"country\": \"ES\"}]}}") != 0 ||
	    add_card("ana",
		     "{\"identity\": {\"given_name\": \"Ana\", "
		     "\"family_name\": \"N\xc3\xba\xc3\xb1"
		     "ez\", \"company\": \"N\xc3\xba\xc3\xb1"
		     "ez SL\"}, \"contact\": {\"emails\": [{\"address\": "
		     "\"ana@example.es\"}], \"addresses\": [{\"city\": "
		     "\"Sevilla\", \"country\": \"ES\"}]}}") != 0 ||
	    add_card("bob", "{\"identity\": {\"given_name\": \"Bob\", "
			    "\"family_name\": \"Smith\"}}") != 0)
		return -1;
	if (carta(sales,
		  "purchase add C-000001 --product Lamp --amount 49.90 "
		  "--currency EUR",
		  out, sizeof(out)) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	size_t n = strlen(srv.dir);
	(void)state;

	/* harness_stop removes the parent of srv.dir: only once it is the
	 * data directory of a started server (after a failed start srv.dir
	 * may be the mkdtemp one, whose parent is /tmp). */
	if (srv.pid <= 0 || n < 5 || strcmp(srv.dir + n - 5, "/data") != 0)
		return -1;
	return harness_stop(&srv) == 0 ? 0 : -1;
}

/* The table of all three cards; widths come from the rows shown. */
#define HEADER                                                                 \
	"NUMBER    NAME         COMPANY   EMAIL            PHONE         "     \
	"CITY\n"
#define ROW1                                                                   \
	"C-000001  Jos\xc3\xa9 Garc\xc3\xad"                                   \
	"a  -         jose@example.es  +34612345678  Madrid\n"
#define ROW2                                                                   \
	"C-000002  Ana N\xc3\xba\xc3\xb1"                                      \
	"ez    N\xc3\xba\xc3\xb1"                                              \
	"ez SL  ana@example.es   -             Sevilla\n"
#define ROW3                                                                   \
	"C-000003  Bob Smith    -         -                -             -\n"

/* José alone. */
#define ONLY1                                                                  \
	"NUMBER    NAME         COMPANY  EMAIL            PHONE         "      \
	"CITY\n"                                                               \
	"C-000001  Jos\xc3\xa9 Garc\xc3\xad"                                   \
	"a  -        jose@example.es  +34612345678  Madrid\n"

/* Bob alone. */
#define ONLY3                                                                  \
	"NUMBER    NAME       COMPANY  EMAIL  PHONE  CITY\n"                   \
	"C-000003  Bob Smith  -        -      -      -\n"

static void test_table(void **state)
{
	static char out[65536];
	(void)state;

	/* Every card the caller may read, by number. */
	assert_int_equal(carta(sales, "search", out, sizeof(out)), 0);
	assert_string_equal(out, HEADER ROW1 ROW2 ROW3);

	/* Marketing sees the same columns (identity and contact). */
	assert_int_equal(carta(marketing, "search", out, sizeof(out)), 0);
	assert_string_equal(out, HEADER ROW1 ROW2 ROW3);
}

static void test_pages(void **state)
{
	static char out[65536], args[512];
	char cursor[256];
	const char *more;
	(void)state;

	/* One page, and how to go on. */
	assert_int_equal(carta(sales, "search --limit 2", out, sizeof(out)), 0);
	more = strstr(out, "(more: add --cursor ");
	assert_non_null(more);
	/* The last line: "(more: add --cursor C, or --all)". */
	assert_int_equal(sscanf(more, "(more: add --cursor %255[^,]", cursor),
			 1);
	assert_string_equal(more + strlen("(more: add --cursor ") +
				strlen(cursor),
			    ", or --all)\n");
	assert_int_equal(more - out, (long)strlen(HEADER ROW1 ROW2));
	assert_memory_equal(out, HEADER ROW1 ROW2, strlen(HEADER ROW1 ROW2));

	snprintf(args, sizeof(args), "search --limit 2 --cursor '%s'", cursor);
	assert_int_equal(carta(sales, args, out, sizeof(out)), 0);
	assert_string_equal(out, ONLY3);

	/* --all: every page in one table. */
	assert_int_equal(
	    carta(sales, "search --limit 1 --all", out, sizeof(out)), 0);
	assert_string_equal(out, HEADER ROW1 ROW2 ROW3);

	/* JSON: the cursor as its own line. */
	assert_int_equal(
	    carta(sales, "search --limit 2 --json", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "{\"next_cursor\":"));
}

static void test_json(void **state)
{
	static char out[65536], one[16384];
	const char *p;
	int n = 0;
	(void)state;

	/* One card per line, as customer show --json gives it. */
	assert_int_equal(carta(sales, "search --json", out, sizeof(out)), 0);
	p = out;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		json_error_t jerr;
		json_t *card, *shown;
		char args[64];

		assert_non_null(nl);
		card = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		assert_non_null(card);
		n++;
		snprintf(args, sizeof(args), "customer show C-00000%d --json",
			 n);
		assert_int_equal(carta(sales, args, one, sizeof(one)), 0);
		shown = json_loads(one, 0, &jerr);
		assert_non_null(shown);
		assert_true(json_equal(card, shown));
		json_decref(card);
		json_decref(shown);
		p = nl + 1;
	}
	assert_int_equal(n, 3);

	/* Marketing's carry no purchases. */
	assert_int_equal(carta(marketing, "search --json", out, sizeof(out)),
			 0);
	assert_null(strstr(out, "Lamp"));
	assert_null(strstr(out, "\"purchases\":["));
	assert_non_null(strstr(out, "\"withheld\":[\"purchases\""));
}

static void test_count(void **state)
{
	static char out[4096];
	(void)state;

	assert_int_equal(carta(sales, "search --count", out, sizeof(out)), 0);
	assert_string_equal(out, "3\n");
	assert_int_equal(
	    carta(sales, "search --count --json", out, sizeof(out)), 0);
	assert_string_equal(out, "{\"count\":3}\n");
}

static void test_text_and_filters(void **state)
{
	static char out[65536];
	(void)state;

	/* Accents and case ignored; a word may be the start of one. */
	assert_int_equal(carta(sales, "search garcia", out, sizeof(out)), 0);
	assert_string_equal(out, ONLY1);
	assert_int_equal(carta(sales, "search NUNEZ", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "C-000002"));
	assert_null(strstr(out, "C-000001"));
	assert_int_equal(carta(sales, "search garc", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "C-000001"));
	assert_int_equal(carta(sales, "search nobody-at-all", out, sizeof(out)),
			 0);
	assert_string_equal(out, "no cards\n");

	/* A filter, a sort and a count of a filter. */
	assert_int_equal(carta(sales, "search --where 'city = \"Madrid\"'", out,
			       sizeof(out)),
			 0);
	assert_non_null(strstr(out, "C-000001"));
	assert_null(strstr(out, "C-000002"));
	assert_int_equal(
	    carta(sales, "search --sort -number", out, sizeof(out)), 0);
	assert_true(strstr(out, "C-000003") < strstr(out, "C-000001"));
	assert_int_equal(carta(sales,
			       "search --where 'city = \"Madrid\"' --count",
			       out, sizeof(out)),
			 0);
	assert_string_equal(out, "1\n");
}

/* A bool or choice custom field is compared only with its values, case
 * and accents aside; another value is a mistake, named. */
static void test_custom_values_checked(void **state)
{
	static char out[65536];
	(void)state;

	assert_int_equal(carta(srv.admin_profile,
			       "field define vip --type bool --section "
			       "preferences",
			       out, sizeof(out)),
			 0);
	assert_int_equal(carta(srv.admin_profile,
			       "field define nivel --type choice --choice oro "
			       "--choice básico --section identity",
			       out, sizeof(out)),
			 0);
	assert_int_equal(carta(srv.admin_profile, "field set C-000001 vip true",
			       out, sizeof(out)),
			 0);
	assert_int_equal(carta(srv.admin_profile,
			       "field set C-000002 nivel básico", out,
			       sizeof(out)),
			 0);

	assert_int_equal(carta(sales, "search --where 'custom.vip = TRUE'", out,
			       sizeof(out)),
			 0);
	assert_non_null(strstr(out, "C-000001"));
	assert_null(strstr(out, "C-000002"));
	assert_int_equal(carta(sales, "search --where 'custom.nivel = BASICO'",
			       out, sizeof(out)),
			 0);
	assert_non_null(strstr(out, "C-000002"));

	assert_int_equal(carta(sales, "search --where 'custom.vip = maybe'",
			       out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "'maybe' is not a value of custom.vip "
				    "(true or false)"));
	assert_int_equal(carta(sales, "search --where 'custom.nivel != plata'",
			       out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "'plata' is not a value of custom.nivel"));
	/* Nor are they ordered. */
	assert_int_equal(carta(sales, "search --where 'custom.nivel > oro'",
			       out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "custom.nivel has no order"));
	/* A phone compared with = has six digits at least. */
	assert_int_equal(
	    carta(sales, "search --where 'phone = 612'", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "at least 6 digits"));
	/* Text operators take any fragment. */
	assert_int_equal(carta(sales,
			       "search --where 'custom.nivel starts-with b' "
			       "--count",
			       out, sizeof(out)),
			 0);
	assert_string_equal(out, "1\n");
}

static void test_segments(void **state)
{
	static char out[65536];
	(void)state;

	assert_int_equal(carta(marketing,
			       "segment save madrid 'city = \"Madrid\"'", out,
			       sizeof(out)),
			 0);
	assert_int_equal(carta(marketing, "segment list", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "NAME    WHERE"));
	assert_non_null(strstr(out, "madrid  city = \"Madrid\""));
	assert_int_equal(
	    carta(marketing, "segment show madrid", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "segment madrid\n"));
	assert_non_null(strstr(out, "  where:       city = \"Madrid\"\n"));
	assert_non_null(strstr(out, "  department:  marketing\n"));
	assert_non_null(strstr(out, "  created by:  mia\n"));
	assert_int_equal(
	    carta(marketing, "segment show madrid --json", out, sizeof(out)),
	    0);
	assert_non_null(strstr(out, "\"name\":\"madrid\""));

	assert_int_equal(
	    carta(marketing, "segment run madrid", out, sizeof(out)), 0);
	assert_string_equal(out, ONLY1);
	assert_int_equal(
	    carta(marketing, "segment run madrid --count", out, sizeof(out)),
	    0);
	assert_string_equal(out, "1\n");
	/* José has not consented to email: left out, and said so. */
	assert_int_equal(carta(marketing, "segment run madrid --channel email",
			       out, sizeof(out)),
			 0);
	assert_non_null(strstr(out, "no cards\n"));
	assert_non_null(strstr(
	    out,
	    "1 card left out: no consent for email, or no address for it\n"));
	assert_null(strstr(out, "C-000001"));
	/* --count --json carries the number left out. */
	assert_int_equal(carta(marketing,
			       "segment run madrid --channel email --count "
			       "--json",
			       out, sizeof(out)),
			 0);
	assert_string_equal(out, "{\"count\":0,\"left_out\":1}\n");
	assert_int_equal(
	    carta(marketing, "search --segment madrid", out, sizeof(out)), 0);
	assert_string_equal(out, ONLY1);

	/* Sales has its own segments: marketing's is not there. */
	assert_int_not_equal(
	    carta(sales, "segment run madrid", out, sizeof(out)), 0);

	assert_int_equal(
	    carta(marketing, "segment delete madrid", out, sizeof(out)), 0);
	assert_int_not_equal(
	    carta(marketing, "segment show madrid", out, sizeof(out)), 0);
	assert_int_equal(carta(marketing, "segment list", out, sizeof(out)), 0);
	assert_string_equal(out, "no segments\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_pages),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_count),
	    cmocka_unit_test(test_text_and_filters),
	    cmocka_unit_test(test_custom_values_checked),
	    cmocka_unit_test(test_segments),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
