/* carta export csv | json | vcard and carta customer export against a real
 * server, as departments use them: sales exports three known cards (one
 * with a formula for a company, quotes, commas and a newline) byte for
 * byte; billing's CSV has empty cells where demographics are withheld;
 * JSON lines carry every purchase (25, more than a card shows) and read
 * back to the same cards; marketing's have no purchases; a customer's
 * whole card for a data-subject request; --out never overwrites. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "harness.h"

#define PURCHASES 25

static harness srv;
static char sales[PATH_MAX + 32], marketing[PATH_MAX + 32],
    billing[PATH_MAX + 32];

/* Runs "carta --profile P --server ADDR ARGS" and returns its exit code;
 * stdout goes to out, and stderr too unless err is given (then stderr
 * goes there). */
static int carta2(const char *profile, const char *args, char *out, size_t cap,
		  char *err, size_t errcap)
{
	char cmd[4 * PATH_MAX], errpath[PATH_MAX + 32];
	int rc;

	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", srv.dir);
	snprintf(cmd, sizeof(cmd), "'%s' --profile '%s' --server %s %s %s%s%s",
		 CARTA_CLI_PATH, profile, srv.addr, args,
		 err != NULL ? "2>'" : "2>&1", err != NULL ? errpath : "",
		 err != NULL ? "'" : "");
	rc = harness_run(cmd, out, cap);
	if (err != NULL) {
		FILE *f = fopen(errpath, "r");
		size_t n = f != NULL ? fread(err, 1, errcap - 1, f) : 0;

		err[n] = '\0';
		if (f != NULL)
			fclose(f);
	}
	print_message("$ carta %s\n%s%s[exit %d]\n", args, out,
		      err != NULL ? err : "", rc);
	return rc;
}

static int carta(const char *profile, const char *args, char *out, size_t cap)
{
	return carta2(profile, args, out, cap, NULL, 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Reads path into out (NUL-terminated); returns its length or -1. */
static long read_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
	return (long)n;
}

static const char card1[] =
    "{\"identity\": {\"given_name\": \"Ana\", \"family_name\": "
    "\"Garc\xc3\xad"
    "a, L\xc3\xb3pez\", \"company\": "
    "\"=HYPERLINK(\\\"http://x.example\\\",\\\"click\\\")\", "
    "\"external_id\": \"ERP-1\"},"
    " \"contact\": {\"emails\": [{\"address\": \"ana@example.es\", "
    "\"primary\": true}, {\"address\": \"ana.work@example.com\"}],"
    " \"phones\": [{\"number\": \"+34 612 345 678\", \"primary\": true}],"
    " \"addresses\": [{\"street\": \"Calle Mayor 1\\n2\xc2\xba izq.\", "
    "\"city\": \"Madrid\", \"postal_code\": \"28013\", \"country\": "
    "\"ES\", \"primary\": true}]},"
    " \"demographics\": {\"birth_date\": \"1980-05-17\", \"language\": "
    "\"es\"}}";

static const char card2[] =
    "{\"identity\": {\"given_name\": \"Bob \\\"The Builder\\\"\", "
    "\"family_name\": \"Smith\", \"company\": \"@SUM(A1)\"},"
    " \"contact\": {\"emails\": [{\"address\": \"bob@example.com\"}],"
    " \"phones\": [{\"number\": \"+44 20 7946 0018\"}]}}";

static const char card3[] =
    "{\"identity\": {\"given_name\": \"Chlo\xc3\xa9\", \"family_name\": "
    "\"Martin\", \"company\": \"Plain SA\"},"
    " \"demographics\": {\"profession\": \"Engineer\", \"gender\": "
    "\"female\"}}";

static int add_card(const char *name, const char *json)
{
	char path[PATH_MAX + 64], args[PATH_MAX + 128], out[8192];

	snprintf(path, sizeof(path), "%s/%s.json", srv.dir, name);
	write_file(path, json);
	snprintf(args, sizeof(args), "customer add --from-json '%s'", path);
	/* The admin: no department writes demographics by default. */
	return carta(srv.admin_profile, args, out, sizeof(out));
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

static int setup(void **state)
{
	char out[8192], args[256];
	(void)state;

	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	if (enrol("sam", "sales", sales, sizeof(sales)) != 0 ||
	    enrol("mia", "marketing", marketing, sizeof(marketing)) != 0 ||
	    enrol("bea", "billing", billing, sizeof(billing)) != 0)
		return -1;
	if (add_card("ana", card1) != 0 || add_card("bob", card2) != 0 ||
	    add_card("chloe", card3) != 0)
		return -1;

	/* More purchases than a card shows (20), on distinct dates. */
	for (int i = 1; i <= PURCHASES; i++) {
		snprintf(args, sizeof(args),
			 "purchase add C-000001 --product Item%02d --amount "
			 "%d.50 --currency EUR --date 2026-01-%02d",
			 i, i, i);
		if (carta(sales, args, out, sizeof(out)) != 0)
			return -1;
	}
	if (carta(sales, "note add C-000001 'Prefers mornings'", out,
		  sizeof(out)) != 0 ||
	    carta(marketing,
		  "consent set C-000001 --purpose marketing --channel email "
		  "granted",
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

#define CSV_HEADER                                                             \
	"number,external_id,given_name,family_name,company,status,home_"       \
	"branch,email,email_2,phone,phone_2,street,city,postal_code,region,"   \
	"country,birth_date,gender,profession,language\r\n"

static void test_usage(void **state)
{
	static char out[4096];
	(void)state;

	/* Both a filter and a segment: a usage error, nothing sent. */
	assert_int_equal(carta(sales,
			       "export csv --where 'city = \"Madrid\"' "
			       "--segment madrid",
			       out, sizeof(out)),
			 2);
	assert_string_equal(out,
			    "carta: export csv: give --where or --segment, "
			    "not both (a segment already is a filter)\n");
}

static void test_csv_exact(void **state)
{
	static char out[65536], err[4096];
	(void)state;

	assert_int_equal(
	    carta2(sales, "export csv", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(
	    out, CSV_HEADER
	    "C-000001,ERP-1,Ana,\"Garc\xc3\xad"
	    "a, L\xc3\xb3pez\","
	    "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"click\"\")\","
	    "active,,ana@example.es,ana.work@example.com,'+34612345678,,"
	    "\"Calle Mayor 1\n2\xc2\xba izq.\",Madrid,28013,,ES,1980-05-17,,,"
	    "es\r\n"
	    "C-000002,,\"Bob \"\"The Builder\"\"\",Smith,'@SUM(A1),active,,"
	    "bob@example.com,,'+442079460018,,,,,,,,,,\r\n"
	    "C-000003,,Chlo\xc3\xa9,Martin,Plain SA,active,,,,,,,,,,,,female,"
	    "Engineer,\r\n");
}

static void test_csv_withheld_columns(void **state)
{
	static char out[65536];
	(void)state;

	/* Billing may not read demographics: those cells are empty, the
	 * columns stay. */
	assert_int_equal(carta(billing, "export csv", out, sizeof(out)), 0);
	assert_string_equal(
	    out, CSV_HEADER
	    "C-000001,ERP-1,Ana,\"Garc\xc3\xad"
	    "a, L\xc3\xb3pez\","
	    "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"click\"\")\","
	    "active,,ana@example.es,ana.work@example.com,'+34612345678,,"
	    "\"Calle Mayor 1\n2\xc2\xba izq.\",Madrid,28013,,ES,,,,\r\n"
	    "C-000002,,\"Bob \"\"The Builder\"\"\",Smith,'@SUM(A1),active,,"
	    "bob@example.com,,'+442079460018,,,,,,,,,,\r\n"
	    "C-000003,,Chlo\xc3\xa9,Martin,Plain SA,active,,,,,,,,,,,,,,\r\n");
}

static void test_out_file(void **state)
{
	static char out[65536], file[65536], again[65536];
	char path[PATH_MAX + 64], args[PATH_MAX + 128];
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/cards.csv", srv.dir);
	snprintf(args, sizeof(args), "export csv --out '%s'", path);
	assert_int_equal(carta(sales, args, out, sizeof(out)), 0);
	/* Only the confirmation, on stderr. */
	char said[2 * PATH_MAX];
	assert_int_equal(carta(sales, "search --count", said, sizeof(said)), 0);
	long n = atol(said);
	snprintf(said, sizeof(said), "exported %ld cards to %s\n", n, path);
	assert_string_equal(out, said);
	assert_true(read_file(path, file, sizeof(file)) > 0);
	assert_int_equal(carta(sales, "export csv", again, sizeof(again)), 0);
	assert_string_equal(file, again);
	/* "-" is standard output, not a file of that name. */
	assert_int_equal(
	    carta(sales, "export csv --out -", again, sizeof(again)), 0);
	assert_string_equal(file, again);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* With --json the confirmation is an object. */
	char path2[PATH_MAX + 64], args2[PATH_MAX + 128];
	snprintf(path2, sizeof(path2), "%s/cards2.jsonl", srv.dir);
	snprintf(args2, sizeof(args2), "export json --out '%s' --json", path2);
	assert_int_equal(carta(sales, args2, out, sizeof(out)), 0);
	snprintf(said, sizeof(said), "{\"exported\":%ld,\"out\":\"%s\"}\n", n,
		 path2);
	assert_string_equal(out, said);

	/* Never overwritten. */
	assert_int_equal(carta(sales, args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "already exists"));
	assert_true(read_file(path, again, sizeof(again)) > 0);
	assert_string_equal(file, again);
}

/* The JSON lines of out, parsed, in an array. */
static json_t *json_lines(const char *out)
{
	json_t *arr = json_array();
	const char *p = out;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		json_error_t jerr;
		json_t *v;

		assert_non_null(nl);
		v = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		assert_non_null(v);
		json_array_append_new(arr, v);
		p = nl + 1;
	}
	return arr;
}

/* Whether the JSON array arr holds the string s. */
static int has_str(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* Asserts a and b are equal JSON, showing both when they are not. */
static void assert_same_json(json_t *a, json_t *b)
{
	if (!json_equal(a, b)) {
		char *ta = json_dumps(a, JSON_SORT_KEYS);
		char *tb = json_dumps(b, JSON_SORT_KEYS);

		print_error("expected %s\n     got %s\n", ta, tb);
		free(ta);
		free(tb);
		fail();
	}
}

static void test_json_every_purchase(void **state)
{
	static char out[262144], one[65536], list[65536];
	json_t *cards, *card, *shown, *listed;
	json_error_t jerr;
	(void)state;

	assert_int_equal(carta(sales, "export json", out, sizeof(out)), 0);
	cards = json_lines(out);
	assert_int_equal(json_array_size(cards), 3);

	/* Card 1: all 25 purchases (newest first, as the list gives them),
	 * the note, and "more_items" empty. */
	card = json_array_get(cards, 0);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(card, "identity"), "number")),
			    "C-000001");
	assert_int_equal(json_array_size(json_object_get(card, "purchases")),
			 PURCHASES);
	assert_int_equal(json_array_size(json_object_get(card, "more_items")),
			 0);
	assert_true(json_is_array(json_object_get(card, "more_items")));
	assert_int_equal(json_array_size(json_object_get(card, "notes")), 1);
	assert_int_equal(
	    carta(sales, "purchase list C-000001 --all --limit 500 --json",
		  list, sizeof(list)),
	    0);
	listed = json_lines(list);
	assert_same_json(listed, json_object_get(card, "purchases"));
	json_decref(listed);

	/* Everything else is the card as shown. */
	assert_int_equal(
	    carta(sales, "customer show C-000001 --json", one, sizeof(one)), 0);
	shown = json_loads(one, 0, &jerr);
	assert_non_null(shown);
	json_object_del(shown, "purchases");
	assert_true(has_str(json_object_get(shown, "more_items"), "purchases"));
	json_object_set_new(shown, "more_items", json_array());
	json_object_del(card, "purchases");
	assert_same_json(shown, card);
	json_decref(shown);

	/* The other two are exactly as shown. */
	for (int i = 2; i <= 3; i++) {
		char args[64];

		snprintf(args, sizeof(args), "customer show C-00000%d --json",
			 i);
		assert_int_equal(carta(sales, args, one, sizeof(one)), 0);
		shown = json_loads(one, 0, &jerr);
		assert_non_null(shown);
		assert_same_json(shown, json_array_get(cards, (size_t)i - 1));
		json_decref(shown);
	}
	json_decref(cards);
}

static void test_json_marketing(void **state)
{
	static char out[262144];
	json_t *cards, *card;
	size_t i;
	(void)state;

	assert_int_equal(carta(marketing, "export json", out, sizeof(out)), 0);
	cards = json_lines(out);
	assert_int_equal(json_array_size(cards), 3);
	json_array_foreach(cards, i, card)
	{
		assert_null(json_object_get(card, "purchases"));
		assert_null(json_object_get(card, "notes"));
		assert_true(
		    has_str(json_object_get(card, "withheld"), "purchases"));
		assert_true(
		    has_str(json_object_get(card, "withheld"), "notes"));
	}
	assert_null(strstr(out, "Item01"));
	assert_null(strstr(out, "Prefers mornings"));
	json_decref(cards);
}

static void test_customer_export(void **state)
{
	static char out[262144], file[262144];
	char path[PATH_MAX + 64], args[PATH_MAX + 128];
	json_t *doc, *card;
	json_error_t jerr;
	const char *when;
	(void)state;

	/* Sales: the whole card with every purchase and the consent. */
	assert_int_equal(
	    carta(sales, "customer export C-000001", out, sizeof(out)), 0);
	doc = json_loads(out, 0, &jerr);
	assert_non_null(doc);
	/* Pretty-printed: one key per line. */
	assert_non_null(strstr(out, "\n  \"exported_at\": \""));
	when = json_string_value(json_object_get(doc, "exported_at"));
	assert_non_null(when);
	assert_int_equal(strlen(when), 20); /* 2026-12-01T10:00:00Z */
	assert_int_equal(when[19], 'Z');
	assert_int_equal(json_array_size(json_object_get(doc, "withheld")), 0);
	card = json_object_get(doc, "card");
	assert_int_equal(json_array_size(json_object_get(card, "purchases")),
			 PURCHASES);
	assert_int_equal(json_array_size(json_object_get(card, "more_items")),
			 0);
	assert_true(json_is_array(json_object_get(card, "more_items")));
	assert_int_equal(json_array_size(json_object_get(card, "consents")), 1);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(card, "notes"), 0), "text")),
	    "Prefers mornings");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(card, "purchases"),
			       PURCHASES - 1),
		"product")),
	    "Item01");
	json_decref(doc);

	/* Marketing: told what it may not see, and none of it. */
	assert_int_equal(carta(marketing, "customer export ana@example.es", out,
			       sizeof(out)),
			 0);
	doc = json_loads(out, 0, &jerr);
	assert_non_null(doc);
	assert_true(has_str(json_object_get(doc, "withheld"), "purchases"));
	assert_true(has_str(json_object_get(doc, "withheld"), "notes"));
	card = json_object_get(doc, "card");
	assert_null(json_object_get(card, "purchases"));
	assert_null(json_object_get(card, "notes"));
	assert_null(strstr(out, "Item"));
	json_decref(doc);

	/* The audit: withheld from departments, every change of the card
	 * (old and new values as JSON) for an admin. */
	assert_int_equal(
	    carta(sales, "customer export C-000001", out, sizeof(out)), 0);
	doc = json_loads(out, 0, &jerr);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "audit")),
			    "withheld: only admins may read the audit");
	json_decref(doc);
	assert_int_equal(carta(srv.admin_profile, "customer export C-000001",
			       out, sizeof(out)),
			 0);
	doc = json_loads(out, 0, &jerr);
	assert_non_null(doc);
	json_t *audit = json_object_get(doc, "audit");
	/* The card's creation and each purchase, note and consent. */
	assert_true(json_array_size(audit) >= PURCHASES + 2);
	bool created = false;
	for (size_t i = 0; i < json_array_size(audit); i++) {
		json_t *e = json_array_get(audit, i);
		created |=
		    strcmp(json_string_value(json_object_get(e, "action")),
			   "create") == 0;
	}
	assert_true(created);
	json_decref(doc);

	/* --out: a new file, never an existing one. */
	snprintf(path, sizeof(path), "%s/ana-dsar.json", srv.dir);
	snprintf(args, sizeof(args), "customer export C-000001 --out '%s'",
		 path);
	assert_int_equal(carta(sales, args, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_true(read_file(path, file, sizeof(file)) > 0);
	doc = json_loads(file, 0, &jerr);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(
			     json_object_get(doc, "card"), "purchases")),
			 PURCHASES);
	json_decref(doc);
	assert_int_equal(carta(sales, args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "already exists"));

	/* An unknown customer: a failure, and no file. */
	snprintf(path, sizeof(path), "%s/nobody.json", srv.dir);
	snprintf(args, sizeof(args), "customer export C-000099 --out '%s'",
		 path);
	assert_int_equal(carta(sales, args, out, sizeof(out)), 1);
	assert_int_equal(read_file(path, file, sizeof(file)), -1);
}

static void test_consent_left_out(void **state)
{
	static char out[65536], err[4096];
	(void)state;

	/* Only Ana consents to email: the other two are left out, and the
	 * user is told. */
	assert_int_equal(carta2(marketing, "export csv --channel email", out,
				sizeof(out), err, sizeof(err)),
			 0);
	assert_string_equal(
	    err,
	    "2 cards left out: no consent for email, or no address for it\n");
	assert_non_null(strstr(out, "\r\nC-000001,"));
	assert_null(strstr(out, "C-000002"));
	assert_null(strstr(out, "C-000003"));
}

static void test_segment_export(void **state)
{
	static char out[65536];
	(void)state;

	assert_int_equal(carta(marketing,
			       "segment save madrid 'city = \"Madrid\"'", out,
			       sizeof(out)),
			 0);
	assert_int_equal(
	    carta(marketing, "export csv --segment madrid", out, sizeof(out)),
	    0);
	assert_non_null(strstr(out, "\r\nC-000001,"));
	assert_null(strstr(out, "C-000002"));
	assert_int_equal(carta(marketing,
			       "export csv --where 'city = \"Madrid\"'", out,
			       sizeof(out)),
			 0);
	assert_non_null(strstr(out, "\r\nC-000001,"));
	assert_null(strstr(out, "C-000002"));
}

static void test_vcard(void **state)
{
	static char out[65536];
	(void)state;

	/* One vCard 4.0 per card. */
	assert_int_equal(carta(sales, "export vcard", out, sizeof(out)), 0);
	int n = 0;
	for (const char *p = out; (p = strstr(p, "BEGIN:VCARD\r\n")) != NULL;
	     p++)
		n++;
	assert_int_equal(n, 3);
	assert_non_null(strstr(out, "VERSION:4.0\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_customer_export),
	    cmocka_unit_test(test_csv_exact),
	    cmocka_unit_test(test_csv_withheld_columns),
	    cmocka_unit_test(test_out_file),
	    cmocka_unit_test(test_json_every_purchase),
	    cmocka_unit_test(test_json_marketing),
	    cmocka_unit_test(test_consent_left_out),
	    cmocka_unit_test(test_segment_export),
	    cmocka_unit_test(test_vcard),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
