/* Import through the server: every record accounted for, bad records
 * reported by line and not applied while good ones land, a dry run that
 * reports exactly what a real run does without writing, updates by key,
 * purchases that are not imported twice, and departments' permissions on
 * every record. Uses 'carta import json' (JSON lines): the server side is
 * the same for every file format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "harness.h"

static harness srv;
static char sales[PATH_MAX + 32], marketing[PATH_MAX + 32];
static char billing[PATH_MAX + 32];
static char out[1 << 17];

static int carta(const char *profile, const char *args)
{
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "'%s' --profile '%s' --server %s %s 2>&1",
		 CARTA_CLI_PATH, profile, srv.addr, args);
	int rc = harness_run(cmd, out, sizeof(out));
	print_message("$ carta %s\n%s[exit %d]\n", args, out, rc);
	return rc;
}

/* Writes text to a file of the server's directory; returns its path. */
static const char *file(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", srv.dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int enrol(const char *name, const char *dept, char *profile, size_t cap)
{
	char args[PATH_MAX + 128];
	snprintf(profile, cap, "%s/%s.profile", srv.dir, name);
	snprintf(args, sizeof(args),
		 "admin enrol %s --department %s --out '%s'", name, dept,
		 profile);
	return carta(srv.admin_profile, args);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	if (enrol("sam", "sales", sales, sizeof(sales)) != 0 ||
	    enrol("mia", "marketing", marketing, sizeof(marketing)) != 0 ||
	    enrol("bea", "billing", billing, sizeof(billing)) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_stop(&srv) == 0 ? 0 : -1;
}

/* The last JSON line of out: the summary of an import with --json. */
static json_t *summary_of(void)
{
	char *last = out, *p;
	while ((p = strstr(last, "\n{")) != NULL)
		last = p + 1;
	json_error_t e;
	json_t *v = json_loads(last, JSON_DISABLE_EOF_CHECK, &e);
	assert_non_null(v);
	assert_non_null(json_object_get(v, "summary"));
	return v;
}

static long count(json_t *summary, const char *key)
{
	json_t *v = json_object_get(summary, key);
	assert_true(json_is_integer(v));
	return (long)json_integer_value(v);
}

static const char *const mixed =
    "{\"identity\":{\"given_name\":\"Jos\xc3\xa9\",\"family_name\":"
    "\"Garc\xc3\xad"
    "a\",\"external_id\":\"X1\"},\"contact\":{\"emails\":[{\"address\":"
    "\"jose@example.es\"}],\"phones\":[{\"number\":\"612 34 56 78\"}]},"
    "\"purchases\":[{\"date\":\"2024-01-02\",\"product\":\"Mesa\","
    "\"amount\":\"120.00\",\"currency\":\"EUR\",\"invoice\":\"F-1\","
    "\"lines\":[{\"code\":\"M1\",\"description\":\"Mesa\",\"quantity\":1,"
    "\"unit_price_minor\":12000}]}]}\n"
    "{\"identity\":{\"given_name\":\"Ana\",\"external_id\":\"X2\"},"
    "\"contact\":{\"emails\":[{\"address\":\"not-an-email\"}]}}\n"
    "\n"
    "{\"identity\":{\"given_name\":\"Luis\",\"external_id\":\"X3\"},"
    "\"consents\":[{\"purpose\":\"marketing\",\"channel\":\"email\","
    "\"state\":\"granted\",\"at\":\"2023-05-01T00:00:00Z\","
    "\"source\":\"form\"}]}\n"
    "{\"identity\":{\"nickname\":\"Zed\"}}\n";

static void test_bad_records_reported_good_ones_land(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	const char *path = file("mixed.jsonl", mixed);

	/* Sales may not write consents: the admin imports this one. */
	/* A dry run reports the outcomes and writes nothing. */
	snprintf(args, sizeof(args), "import json '%s' --dry-run --json", path);
	assert_int_equal(carta(srv.admin_profile, args), 1);
	json_t *s = summary_of();
	assert_int_equal(count(s, "records"), 4);
	assert_int_equal(count(s, "created"), 2);
	assert_int_equal(count(s, "rejected"), 2);
	assert_int_equal(count(s, "items_added"), 1);
	assert_true(json_is_true(json_object_get(s, "dry_run")));
	json_decref(s);
	assert_non_null(strstr(out, "\"line\":2,"));
	assert_non_null(strstr(out, "\"field\":\"contact.emails.0.address\""));
	assert_non_null(strstr(out, "('not-an-email')\""));
	assert_non_null(strstr(out, "\"line\":5,"));
	assert_int_not_equal(carta(srv.admin_profile, "customer show C-000001"),
			     0);

	/* The real run: the same outcomes, and the good records are there. */
	snprintf(args, sizeof(args), "import json '%s' --json", path);
	assert_int_equal(carta(srv.admin_profile, args), 1);
	s = summary_of();
	assert_int_equal(count(s, "created"), 2);
	assert_int_equal(count(s, "rejected"), 2);
	json_decref(s);
	assert_int_equal(
	    carta(srv.admin_profile, "customer show C-000001 --json"), 0);
	assert_non_null(strstr(out, "jose@example.es"));
	assert_non_null(strstr(out, "+34612345678"));
	assert_int_equal(
	    carta(srv.admin_profile, "purchase list C-000001 --json"), 0);
	assert_non_null(strstr(out, "\"invoice\":\"F-1\""));
	assert_non_null(strstr(out, "\"unit_price_minor\":12000"));
	assert_int_equal(
	    carta(srv.admin_profile, "customer show C-000002 --json"), 0);
	assert_non_null(strstr(out, "Luis"));
	/* The consent keeps the time it was given. */
	assert_non_null(strstr(out, "2023-05-01T00:00:00Z"));
	/* Ana was rejected: no third card. */
	assert_int_not_equal(carta(srv.admin_profile, "customer show C-000003"),
			     0);
}

static void test_upsert_by_external_id(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	/* X1 again with a new phone, the same invoice and a new one. */
	const char *path = file(
	    "again.jsonl",
	    "{\"identity\":{\"external_id\":\"X1\",\"company\":\"Muebles "
	    "SL\"},\"contact\":{\"phones\":[{\"number\":\"91 123 45 67\"}]},"
	    "\"purchases\":[{\"date\":\"2024-01-02\",\"product\":\"Mesa\","
	    "\"amount\":\"120.00\",\"currency\":\"EUR\",\"invoice\":\"F-1\"},"
	    "{\"date\":\"2024-02-02\",\"product\":\"Silla\",\"amount\":\"30\","
	    "\"currency\":\"EUR\",\"invoice\":\"F-2\"}]}\n"
	    "{\"identity\":{\"external_id\":\"X3\",\"given_name\":\"Luis\"}}\n"
	    "{\"identity\":{\"external_id\":\"X9\",\"given_name\":\"Eva\"}}\n");
	snprintf(args, sizeof(args),
		 "import json '%s' --upsert-by external-id --json", path);
	assert_int_equal(carta(sales, args), 0);
	json_t *s = summary_of();
	assert_int_equal(count(s, "updated"), 1);
	assert_int_equal(count(s, "unchanged"), 1);
	assert_int_equal(count(s, "created"), 1);
	assert_int_equal(count(s, "items_added"), 1);
	assert_int_equal(count(s, "items_present"), 1);
	json_decref(s);

	assert_int_equal(carta(sales, "customer show X1 --json"), 1);
	assert_int_equal(carta(sales, "customer show C-000001 --json"), 0);
	assert_non_null(strstr(out, "Muebles SL"));
	assert_non_null(strstr(out, "+34612345678"));
	assert_non_null(strstr(out, "+34911234567"));
	/* The name the record did not give is kept. */
	assert_non_null(strstr(out, "Jos\xc3\xa9"));
	assert_int_equal(carta(sales, "purchase list C-000001 --json"), 0);
	assert_non_null(strstr(out, "F-2"));
	assert_int_equal(carta(sales, "customer show C-000003 --json"), 0);
	assert_non_null(strstr(out, "Eva"));
}

static void test_departments_permissions(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	/* Marketing may not write identities (nor purchases): the whole
	 * request is refused, no card of it is created. */
	const char *path = file(
	    "mkt.jsonl",
	    "{\"identity\":{\"given_name\":\"Olga\",\"external_id\":\"M1\"}}\n"
	    "{\"identity\":{\"given_name\":\"Pia\"},\"purchases\":[{"
	    "\"product\":\"Pen\",\"amount\":\"1\",\"currency\":\"EUR\"}]}\n");
	snprintf(args, sizeof(args), "import json '%s'", path);
	assert_int_equal(carta(marketing, args), 1);
	assert_non_null(strstr(out, "identity: your department may not write"));
	assert_int_not_equal(carta(sales, "customer show C-000004"), 0);

	/* Billing may read identities but not write them: a record may
	 * carry the identity its card holds (as billing's own export does)
	 * and add a purchase, but not change the identity nor create a card
	 * for a key that finds none. */
	path = file("bill.jsonl",
		    "{\"identity\":{\"external_id\":\"X3\"},\"purchases\":[{"
		    "\"product\":\"Factura\",\"amount\":\"10\",\"currency\":"
		    "\"EUR\",\"invoice\":\"B-1\"}]}\n"
		    "{\"identity\":{\"external_id\":\"X3\",\"given_name\":"
		    "\"Luisa\"},\"purchases\":[{\"product\":\"Factura\","
		    "\"amount\":\"20\",\"currency\":\"EUR\",\"invoice\":"
		    "\"B-2\"}]}\n"
		    "{\"identity\":{\"external_id\":\"X77\"},\"purchases\":[{"
		    "\"product\":\"Factura\",\"amount\":\"30\",\"currency\":"
		    "\"EUR\",\"invoice\":\"B-3\"}]}\n");
	snprintf(args, sizeof(args),
		 "import json '%s' --upsert-by external-id --json", path);
	assert_int_equal(carta(billing, args), 1);
	json_t *s = summary_of();
	assert_int_equal(count(s, "records"), 3);
	assert_int_equal(count(s, "updated"), 1);
	assert_int_equal(count(s, "rejected"), 2);
	assert_int_equal(count(s, "created"), 0);
	json_decref(s);
	assert_non_null(strstr(out, "\"line\":1,\"number\":\"C-000002\""));
	assert_non_null(strstr(out, "\"field\":\"identity\",\"reason\":"
				    "\"your department may not write this "
				    "section, and the record changes it\""));
	assert_non_null(strstr(out, "\"field\":\"identity\",\"reason\":"
				    "\"your department may not write this "
				    "section, and the record finds no card to "
				    "update\""));
	assert_int_equal(carta(sales, "purchase list C-000002 --json"), 0);
	assert_non_null(strstr(out, "B-1"));
	assert_null(strstr(out, "B-2"));
	assert_null(strstr(out, "B-3"));
	assert_int_equal(carta(sales, "customer show C-000002 --json"), 0);
	assert_non_null(strstr(out, "\"given_name\":\"Luis\""));
	assert_int_not_equal(carta(sales, "customer show C-000004"), 0);

	/* Billing's own export imports back as it is: nothing to write. */
	snprintf(args, sizeof(args), "export json --out '%s/bill-export.jsonl'",
		 srv.dir);
	assert_int_equal(carta(billing, args), 0);
	snprintf(args, sizeof(args),
		 "import json '%s/bill-export.jsonl' --upsert-by number --json",
		 srv.dir);
	assert_int_equal(carta(billing, args), 0);
	s = summary_of();
	assert_true(count(s, "records") >= 3);
	assert_int_equal(count(s, "unchanged"), count(s, "records"));
	json_decref(s);

	/* Marketing may read contact but not write it: a bad value there
	 * is refused for the permission, not the value, flag or no flag. */
	path = file("mkt2.jsonl",
		    "{\"identity\":{\"number\":\"C-000002\"},\"contact\":{"
		    "\"emails\":[{\"address\":\"no-at-sign\"}]}}\n"
		    "{\"identity\":{\"number\":\"C-000002\"},\"contact\":{"
		    "\"phones\":[{\"number\":\"123\"}]}}\n");
	for (int flag = 0; flag < 2; flag++) {
		snprintf(args, sizeof(args),
			 "import json '%s' --upsert-by number --json%s", path,
			 flag ? " --skip-bad-phones" : "");
		assert_int_equal(carta(marketing, args), 1);
		s = summary_of();
		assert_int_equal(count(s, "rejected"), 2);
		json_decref(s);
		const char *want = "\"field\":\"contact\",\"reason\":\"your "
				   "department may not write this section, "
				   "and the record changes it\"";
		const char *first = strstr(out, want);
		assert_non_null(first);
		assert_non_null(strstr(first + 1, want));
	}
}

/* A CSV file end to end: a BOM, semicolons, a quoted newline, leading
 * zeros, and one bad row in the batch: the others land, the bad one is
 * reported with its line and not applied. */
static void test_csv_bad_row_in_a_batch(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	const char *path =
	    file("people.csv",
		 "\xef\xbb\xbf"
		 "First Name;Last Name;Email;Phone;Postal Code;City;Comment\r\n"
		 "Nuria;\"Ib\xc3\xa1\xc3\xb1\x65z\";nuria@example.es;0034 "
		 "612 000 111;08001;Barcelona;\"first line\nsecond; \"\"line"
		 "\"\"\"\r\n"
		 "Pau;Vidal;pau@example;612 000 222;08002;Barcelona;\r\n"
		 "Ona;Puig;ona@example.es;612 000 333;01001;Vitoria;\r\n");
	snprintf(args, sizeof(args), "import csv '%s' --json", path);
	assert_int_equal(carta(sales, args), 1);
	json_t *s = summary_of();
	assert_int_equal(count(s, "records"), 3);
	assert_int_equal(count(s, "created"), 2);
	assert_int_equal(count(s, "rejected"), 1);
	json_decref(s);
	/* Nuria's row spans lines 2 and 3: Pau's is on line 4. */
	assert_non_null(strstr(out, "\"line\":4,"));
	assert_non_null(strstr(out, "contact.emails.0.address"));

	assert_int_equal(carta(sales, "customer show nuria@example.es --json"),
			 0);
	assert_non_null(strstr(out, "Ib\xc3\xa1\xc3\xb1\x65z"));
	assert_non_null(strstr(out, "\"postal_code\":\"08001\""));
	assert_non_null(strstr(out, "\"number\":\"+34612000111\""));
	assert_non_null(strstr(out, "\"original\":\"0034 612 000 111\""));
	assert_int_equal(carta(sales, "customer show ona@example.es --json"),
			 0);
	assert_non_null(strstr(out, "\"postal_code\":\"01001\""));
	assert_int_not_equal(carta(sales, "customer show pau@example"), 0);
}

/* A file that stops on bytes that are not UTF-8 sends nothing: no summary
 * of counts that would not add up, the stop said once, with the file,
 * line and column. */
static void test_csv_stop_said_once(void **state)
{
	char args[PATH_MAX + 64], want[PATH_MAX + 160];
	(void)state;

	const char *path = file("bad8.csv", "given_name,family_name\n"
					    "Ana,Ruiz\nJos\xe9,P\n");
	snprintf(want, sizeof(want),
		 "%s: line 3, column 4: not valid UTF-8 (byte 0xE9); name the "
		 "encoding with --encoding; nothing was imported",
		 path);
	snprintf(args, sizeof(args), "import csv '%s' --dry-run", path);
	assert_int_equal(carta(sales, args), 1);
	assert_null(strstr(out, "records"));
	const char *at = strstr(out, want);
	assert_non_null(at);
	assert_null(strstr(at + strlen(want), "line 3, column 4"));
}

/* The duplicate check on add and on import: a card that looks like one
 * there is (here the same email in other case, a name without accents)
 * is not created unless forced, and the answer says which card it looks
 * like and why. */
static void test_duplicates_on_add_and_import(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	assert_int_equal(carta(sales, "customer add --given-name Rosal\xc3\xad"
				      "a --family-name Dur\xc3\xa1n "
				      "--email rosalia@example.es --json"),
			 0);
	char number[32] = "";
	const char *n = strstr(out, "\"number\":\"");
	assert_non_null(n);
	snprintf(number, sizeof(number), "%.8s", n + 10);

	assert_int_equal(carta(sales, "customer add --given-name Rosalia "
				      "--family-name Duran "
				      "--email ROSALIA@example.es"),
			 1);
	assert_non_null(strstr(out, "looks like"));
	assert_non_null(strstr(out, number));
	assert_non_null(strstr(out, "same email"));
	assert_int_equal(carta(sales, "customer add --given-name Rosalia "
				      "--family-name Duran "
				      "--email ROSALIA@example.es --force"),
			 0);

	/* On import: reported DUPLICATE with the card, not created; the
	 * dry run says the same; --force creates it. */
	const char *path = file(
	    "dup.jsonl", "{\"identity\":{\"given_name\":\"ROSALIA\","
			 "\"family_name\":\"duran\"},\"contact\":{\"emails\":"
			 "[{\"address\":\"rosalia@example.es\"}]}}\n");
	for (int dry = 1; dry >= 0; dry--) {
		snprintf(args, sizeof(args), "import json '%s' --json%s", path,
			 dry ? " --dry-run" : "");
		assert_int_equal(carta(sales, args), 1);
		json_t *s = summary_of();
		assert_int_equal(count(s, "duplicates"), 1);
		assert_int_equal(count(s, "created"), 0);
		json_decref(s);
		assert_non_null(strstr(out, number));
	}
	snprintf(args, sizeof(args), "import json '%s' --json --force", path);
	assert_int_equal(carta(sales, args), 0);
	json_t *s = summary_of();
	assert_int_equal(count(s, "created"), 1);
	json_decref(s);

	/* An edit is not refused, but told what the card now looks like. */
	assert_int_equal(carta(sales, "customer add --given-name Rosalia "
				      "--family-name Duran --force "
				      "--email otra@example.es --json"),
			 0);
	n = strstr(out, "\"number\":\"");
	assert_non_null(n);
	char other[16];
	snprintf(other, sizeof(other), "%.8s", n + 10);
	snprintf(args, sizeof(args),
		 "customer edit %s --section contact --set "
		 "emails.0.address=rosalia@example.es --if-version 1",
		 other);
	assert_int_equal(carta(sales, args), 0);
	assert_non_null(strstr(out, "now looks like"));
	assert_non_null(strstr(out, number));
}

/* An export imported again without a key copies no card: each record
 * names its card and is rejected, saying how to update instead. */
static void test_export_again_without_a_key(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	assert_int_equal(carta(sales, "search --count"), 0);
	long before = atol(out);
	assert_true(before >= 3);
	snprintf(args, sizeof(args), "export json --out '%s/all.jsonl'",
		 srv.dir);
	assert_int_equal(carta(sales, args), 0);
	snprintf(args, sizeof(args), "import json '%s/all.jsonl' --json",
		 srv.dir);
	assert_int_equal(carta(sales, args), 1);
	json_t *s = summary_of();
	assert_int_equal(count(s, "records"), before);
	assert_int_equal(count(s, "rejected"), before);
	assert_int_equal(count(s, "created"), 0);
	json_decref(s);
	assert_non_null(strstr(out, "\"field\":\"identity.number\""));
	assert_non_null(strstr(out, "import with --upsert-by number"));
	assert_int_equal(carta(sales, "search --count"), 0);
	assert_int_equal(atol(out), before);
}

/* A phone without an international prefix is read in the country of
 * the card's primary address (else its first with a country), and only
 * without one in the server's default_country (ES here). */
static void test_phones_in_the_address_country(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	const char *path = file(
	    "countries.jsonl",
	    "{\"identity\":{\"given_name\":\"Margaux\",\"family_name\":"
	    "\"Lefort\"},\"contact\":{\"addresses\":[{\"city\":\"Paris\","
	    "\"country\":\"FR\"}],\"phones\":[{\"number\":"
	    "\"06 12 34 56 78\"}]}}\n"
	    "{\"identity\":{\"given_name\":\"Henrik\",\"family_name\":"
	    "\"Vogel\"},\"contact\":{\"addresses\":[{\"city\":\"Bonn\","
	    "\"country\":\"DE\"},{\"city\":\"Boston\",\"country\":\"US\","
	    "\"primary\":true}],\"phones\":[{\"number\":\"(617) 555-0123\"}]}}"
	    "\n"
	    "{\"identity\":{\"given_name\":\"Nadia\",\"family_name\":"
	    "\"Sanz\"},\"contact\":{\"phones\":[{\"number\":"
	    "\"06 12 34 56 78\"}]}}\n");
	snprintf(args, sizeof(args), "import json '%s' --json", path);
	assert_int_equal(carta(sales, args), 1);
	json_t *s = summary_of();
	assert_int_equal(count(s, "created"), 2);
	assert_int_equal(count(s, "rejected"), 1);
	json_decref(s);
	assert_non_null(strstr(out, "\"line\":3,"));
	assert_non_null(strstr(out, "+34 (ES)"));

	assert_int_equal(carta(sales, "customer show +33612345678 --json"), 0);
	assert_non_null(strstr(out, "Margaux"));
	assert_non_null(strstr(out, "\"original\":\"06 12 34 56 78\""));
	assert_int_equal(carta(sales, "customer show +16175550123 --json"), 0);
	assert_non_null(strstr(out, "Henrik"));

	/* The customer moves: the stored number stays what it is. */
	assert_int_equal(carta(sales, "customer edit +33612345678 --section "
				      "contact --set addresses.0.country=NL "
				      "--if-version 1"),
			 0);
	assert_int_equal(carta(sales, "customer show +33612345678 --json"), 0);
	assert_non_null(strstr(out, "\"country\":\"NL\""));
	assert_non_null(strstr(out, "\"number\":\"+33612345678\""));
	assert_non_null(strstr(out, "\"original\":\"06 12 34 56 78\""));

	/* A country that is no code is named, not the phone it reads. */
	path =
	    file("name.jsonl",
		 "{\"identity\":{\"given_name\":\"Jules\"},\"contact\":{"
		 "\"addresses\":[{\"city\":\"Lyon\",\"country\":\"France\"}],"
		 "\"phones\":[{\"number\":\"06 12 34 56 79\"}]}}\n");
	snprintf(args, sizeof(args), "import json '%s' --json", path);
	assert_int_equal(carta(sales, args), 1);
	assert_non_null(
	    strstr(out, "\"field\":\"contact.addresses.0.country\""));
}

/* A phone that is no valid number rejects its record, naming the value
 * and the way to keep the card; with --skip-bad-phones the card lands
 * without it (the good phone kept), and the note and count say so. */
static void test_skip_bad_phones(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	const char *path =
	    file("phones.csv", "First Name,Last Name,Phone 1,Phone 2\n"
			       "Ottilie,Brandmeier,612 34 56 99,229.077.5154\n"
			       "Wendelin,Brandmeier,,612 34 56 98\n");
	snprintf(args, sizeof(args), "import csv '%s' --json --force", path);
	assert_int_equal(carta(sales, args), 1);
	json_t *s = summary_of();
	assert_int_equal(count(s, "created"), 1);
	assert_int_equal(count(s, "rejected"), 1);
	assert_null(json_object_get(s, "phones_left_out"));
	json_decref(s);
	assert_non_null(strstr(out, "\"field\":\"contact.phones.1.number\""));
	assert_non_null(strstr(out, "('229.077.5154'; --skip-bad-phones "
				    "imports the card without it)"));

	snprintf(args, sizeof(args),
		 "import csv '%s' --json --force --skip-bad-phones",
		 file("phones2.csv", "First Name,Last Name,Phone 1,Phone 2\n"
				     "Ottilie,Brandmeier,612 34 56 99,"
				     "229.077.5154\n"));
	assert_int_equal(carta(sales, args), 0);
	s = summary_of();
	assert_int_equal(count(s, "created"), 1);
	assert_int_equal(count(s, "phones_left_out"), 1);
	json_decref(s);
	assert_non_null(strstr(out, "\"outcome\":\"note\",\"line\":2"));
	assert_non_null(strstr(out, "phone '229.077.5154' left out: "));
	assert_int_equal(carta(sales, "customer show +34612345699 --json"), 0);
	assert_non_null(strstr(out, "Ottilie"));
	assert_null(strstr(out, "229"));

	/* The primary phone left out: the one kept becomes primary. */
	snprintf(args, sizeof(args),
		 "import csv '%s' --json --force --skip-bad-phones",
		 file("phones4.csv", "First Name,Last Name,Phone 1,Phone 2\n"
				     "Casimira,Brandmeier,229.077.5154,"
				     "612 34 56 97\n"));
	assert_int_equal(carta(sales, args), 0);
	assert_int_equal(carta(sales, "customer show +34612345697 --json"), 0);
	assert_non_null(strstr(out, "\"number\":\"+34612345697\",\"original\":"
				    "\"612 34 56 97\",\"primary\":true"));

	/* What sales may not write (demographics) is said before what is
	 * wrong with a phone it could not keep anyway. */
	snprintf(args, sizeof(args), "import csv '%s' --json --force",
		 file("phones3.csv", "First Name,Last Name,Phone,Birthday\n"
				     "Remedios,Brandmeier,229.077.5154,"
				     "1970-01-02\n"));
	assert_int_equal(carta(sales, args), 1);
	assert_non_null(strstr(out, "\"field\":\"demographics\""));
	assert_null(strstr(out, "229.077.5154"));
}

/* A transaction file's country adds no address to a card that has one:
 * neither a copy of its country nor another country-only address. */
static void test_purchases_add_no_country_address(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	snprintf(args, sizeof(args), "import json '%s'",
		 file("k1.jsonl",
		      "{\"identity\":{\"given_name\":\"Casilda\","
		      "\"external_id\":\"K-77\"},\"contact\":{\"addresses\":[{"
		      "\"city\":\"Madrid\",\"country\":\"ES\"}]}}\n"));
	assert_int_equal(carta(sales, args), 0);
	snprintf(args, sizeof(args),
		 "import purchases '%s' --currency EUR --json",
		 file("k1.csv", "InvoiceNo,StockCode,Description,Quantity,"
				"InvoiceDate,UnitPrice,CustomerID,Country\n"
				"T-1,S0,Mug,1,2024-05-06,10.00,K-77,Spain\n"
				"T-2,S0,Mug,1,2024-05-07,10.00,K-77,France\n"));
	assert_int_equal(carta(sales, args), 0);
	json_t *s = summary_of();
	assert_int_equal(count(s, "items_added"), 2);
	json_decref(s);
	assert_int_equal(
	    carta(sales, "search --where 'external_id = K-77' --json"), 0);
	json_error_t e;
	json_t *c = json_loads(out, 0, &e);
	assert_non_null(c);
	json_t *addr =
	    json_object_get(json_object_get(c, "contact"), "addresses");
	assert_int_equal(json_array_size(addr), 1);
	json_decref(c);
}

/* Ctrl-C while sending: the batch in flight finishes, the import stops
 * and its summary says what was applied, which is what the store holds. */
static void test_interrupted_import_says_what_landed(void **state)
{
	static char cmd[8 * PATH_MAX];
	char path[PATH_MAX + 64];
	(void)state;

	assert_int_equal(carta(sales, "search --count"), 0);
	long before = atol(out);
	snprintf(path, sizeof(path), "%s/many.csv", srv.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("First Name,Last Name,Email\n", f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "Nombre%d,Apellido%d,many%d@example.org\n", i, i, i);
	fclose(f);

	snprintf(cmd, sizeof(cmd),
		 "'%s' --profile '%s' --server %s import csv '%s' --json "
		 "--force > '%s.out' 2>&1 & pid=$!; sleep 1; kill -INT $pid; "
		 "wait $pid; cat '%s.out'",
		 CARTA_CLI_PATH, sales, srv.addr, path, path, path);
	harness_run(cmd, out, sizeof(out));
	json_t *s = summary_of();
	json_t *stopped = json_object_get(s, "stopped");
	assert_non_null(stopped);
	assert_non_null(strstr(json_string_value(stopped),
			       "interrupted: the batches sent before were "
			       "applied"));
	long created = count(s, "created");
	assert_true(created > 0 && created < 20000);
	json_decref(s);
	assert_int_equal(carta(sales, "search --count"), 0);
	assert_int_equal(atol(out), before + created);
}

/* An exported card imported again by number adds no purchase, invoice
 * or not, however often it is done. */
static void test_reimport_adds_no_purchase(void **state)
{
	char args[2 * PATH_MAX + 64], path[PATH_MAX + 64];
	(void)state;

	assert_int_equal(carta(sales, "customer add --given-name Leocadia "
				      "--family-name Urquijo --force --json"),
			 0);
	const char *n = strstr(out, "\"number\":\"");
	assert_non_null(n);
	char number[16];
	snprintf(number, sizeof(number), "%.8s", n + 10);
	snprintf(args, sizeof(args),
		 "purchase add %s --product Lamp --amount 49.90 "
		 "--currency EUR",
		 number);
	assert_int_equal(carta(sales, args), 0);
	snprintf(path, sizeof(path), "%s/leocadia.jsonl", srv.dir);
	snprintf(args, sizeof(args),
		 "export json --where 'number = %s' --out '%s'", number, path);
	assert_int_equal(carta(sales, args), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(args, sizeof(args),
			 "import json '%s' --upsert-by number --json", path);
		assert_int_equal(carta(sales, args), 0);
		json_t *s = summary_of();
		assert_int_equal(count(s, "unchanged"), 1);
		assert_int_equal(count(s, "items_added"), 0);
		json_decref(s);
	}
	snprintf(args, sizeof(args),
		 "search --where 'number = %s and purchase_count = 1' "
		 "--count",
		 number);
	assert_int_equal(carta(sales, args), 0);
	assert_string_equal(out, "1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_records_reported_good_ones_land),
	    cmocka_unit_test(test_upsert_by_external_id),
	    cmocka_unit_test(test_departments_permissions),
	    cmocka_unit_test(test_csv_bad_row_in_a_batch),
	    cmocka_unit_test(test_csv_stop_said_once),
	    cmocka_unit_test(test_duplicates_on_add_and_import),
	    cmocka_unit_test(test_phones_in_the_address_country),
	    cmocka_unit_test(test_export_again_without_a_key),
	    cmocka_unit_test(test_skip_bad_phones),
	    cmocka_unit_test(test_purchases_add_no_country_address),
	    cmocka_unit_test(test_interrupted_import_says_what_landed),
	    cmocka_unit_test(test_reimport_adds_no_purchase),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
