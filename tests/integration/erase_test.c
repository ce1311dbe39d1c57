/* Erasure against a real cartad, through the carta CLI: a card with data
 * in every section and an audit trail of edits is erased by an admin (a
 * member is refused); its name, email and phone then find nothing, the
 * card shows only its tombstone, the audit keeps "erased" values and one
 * erase entry with the reason; and once the server has stopped, the raw
 * bytes of the database (after a checkpoint and VACUUM) hold none of the
 * values, the FTS index none of the terms, the suppressions only hashes.
 * Then the same person comes back through an import and a create:
 * reported, not applied. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "harness.h"

static harness srv;
static char sales[PATH_MAX + 32];
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

static int setup(void **state)
{
	char args[PATH_MAX + 128];
	(void)state;

	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	snprintf(sales, sizeof(sales), "%s/sam.profile", srv.dir);
	snprintf(args, sizeof(args),
		 "admin enrol sam --department sales --out '%s'", sales);
	return carta(srv.admin_profile, args) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	/* test_erase_leaves_no_trace stops its server itself. */
	if (srv.dir[0] == '\0')
		return 0;
	return harness_stop(&srv) == 0 ? 0 : -1;
}

/* The person: data in every section, all of it unusual enough that a
 * byte scan cannot find it by chance. */
static const char person[] =
    "{\"identity\":{\"given_name\":\"Zebulonia\","
    "\"family_name\":\"Quiggleworth\",\"company\":\"Xylocorpa\","
    "\"home_branch\":\"Branchwick\",\"external_id\":\"EXT-77Q\"},"
    "\"contact\":{\"emails\":[{\"address\":\"Zebulonia.Q@Example.org\"},"
    "{\"address\":\"zq.second@example.net\"}],"
    "\"phones\":[{\"number\":\"+34 612 987 654\"},"
    "{\"number\":\"+44 20 7946 0321\"}],"
    "\"addresses\":[{\"street\":\"Calle Falsaria 77\",\"city\":"
    "\"Villaquimera\",\"postal_code\":\"28999\",\"country\":\"ES\"}]},"
    "\"demographics\":{\"birth_date\":\"1971-03-14\",\"profession\":"
    "\"Taxidermista\",\"gender\":\"female\"},"
    "\"preferences\":{\"favourite_colour\":\"Chartreusine\"},"
    "\"consents\":[{\"purpose\":\"marketing\",\"channel\":\"email\","
    "\"state\":\"granted\",\"source\":\"form\"}],"
    "\"purchases\":[{\"date\":\"2024-01-02\",\"product\":\"Stuffed "
    "Owlbear\",\"amount\":\"120.00\",\"currency\":\"EUR\",\"invoice\":"
    "\"INV-Q1\",\"lines\":[{\"code\":\"OWL1\",\"description\":"
    "\"Owlbear deluxe\",\"quantity\":1,\"unit_price_minor\":12000}]}]}\n";

static const char control[] =
    "{\"identity\":{\"given_name\":\"Controla\",\"family_name\":"
    "\"Keepsworth\"},\"contact\":{\"emails\":[{\"address\":"
    "\"controla@example.com\"}],\"addresses\":[{\"city\":"
    "\"Controlville\"}]}}\n";

/* What must be gone, as stored and as the search index folds it. */
static const char *const erased_values[] = {
    "Zebulonia",
    "zebulonia",
    "Quiggleworth",
    "quiggleworth",
    "Xylocorpa",
    "xylocorpa",
    "Branchwick",
    "EXT-77Q",
    "Zebulonia.Q",
    "zebulonia.q",
    "zq.second",
    "612987654",
    "2079460321",
    "456789216",
    "Falsaria",
    "Villaquimera",
    "villaquimera",
    "28999",
    "1971-03-14",
    "Taxidermista",
    "Chartreusine",
    "Owlbear",
    "INV-Q1",
    "OWL1",
    "velvet curtains",
    "Hypnotiq",
    "Xylocorpa Holdings",
    /* Tails of the folded terms: the FTS5 index stores a term as what
     * it does not share with the term before it. */
    "gleworth",
    "ulonia",
    "laquimera",
    "locorpa",
    "rreusine",
};

/* Adds the person (C-000001) and the control card (C-000002), and edits
 * them so that the audit holds old and new values. */
static void add_people(void)
{
	char args[PATH_MAX + 64];

	snprintf(args, sizeof(args), "import json '%s' --json",
		 file("person.jsonl", person));
	assert_int_equal(carta(srv.admin_profile, args), 0);
	assert_non_null(strstr(out, "\"created\":1"));
	snprintf(args, sizeof(args), "import json '%s' --json",
		 file("control.jsonl", control));
	assert_int_equal(carta(srv.admin_profile, args), 0);
	assert_int_equal(
	    carta(srv.admin_profile,
		  "customer edit C-000001 --section identity "
		  "--if-version 1 --set 'company=Xylocorpa Holdings'"),
	    0);
	assert_int_equal(carta(srv.admin_profile,
			       "note add C-000001 'wants velvet curtains'"),
			 0);
	assert_int_equal(
	    carta(srv.admin_profile,
		  "interaction add C-000001 --channel phone --summary "
		  "'asked about Hypnotiq lamps'"),
	    0);
	assert_int_equal(
	    carta(srv.admin_profile, "pref set C-000001 newsletter weekly"), 0);
}

/* Whether an audit value (as the CLI shows it: the JSON itself) is
 * there and not the redaction mark. */
static int has_value(json_t *v)
{
	if (v == NULL)
		return 0;
	if (json_is_string(v))
		return json_string_value(v)[0] != '\0' &&
		       strcmp(json_string_value(v), "erased") != 0;
	return 1;
}

/* Audit entries of C-000001 with a value to redact. */
static long audit_with_values(void)
{
	long n = 0;
	char *line = out;

	assert_int_equal(
	    carta(srv.admin_profile, "audit --customer C-000001 --all --json"),
	    0);
	while (line != NULL && *line != '\0') {
		json_error_t e;
		json_t *v = json_loads(line, JSON_DISABLE_EOF_CHECK, &e);
		if (v != NULL) {
			const char *action =
			    json_string_value(json_object_get(v, "action"));
			if (action == NULL || strcmp(action, "erase") != 0)
				n += has_value(
					 json_object_get(v, "old_value")) ||
				     has_value(json_object_get(v, "new_value"));
			json_decref(v);
		}
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return n;
}

static void assert_search_empty(const char *text)
{
	char args[256];

	snprintf(args, sizeof(args), "search '%s' --json", text);
	assert_int_equal(carta(srv.admin_profile, args), 0);
	assert_null(strstr(out, "C-000001"));
	assert_null(strstr(out, "Zebulonia"));
}

/* The database file after the server stopped: a hard link taken while
 * it ran (the harness removes the data directory on stop). */
static char db_copy[PATH_MAX + 64];

static void stop_keeping_db(void)
{
	char db[PATH_MAX + 16], dir[PATH_MAX];

	snprintf(db, sizeof(db), "%s/carta.db", srv.dir);
	snprintf(dir, sizeof(dir), "%s", srv.dir);
	/* Beside the harness's own temporary directory: same file system. */
	char *slash = strrchr(dir, '/');
	assert_non_null(slash);
	*slash = '\0';
	slash = strrchr(dir, '/');
	assert_non_null(slash);
	*slash = '\0';
	char tmpl[PATH_MAX + 32];
	snprintf(tmpl, sizeof(tmpl), "%s/carta-erase-XXXXXX", dir);
	assert_non_null(mkdtemp(tmpl));
	snprintf(db_copy, sizeof(db_copy), "%s/carta.db", tmpl);
	assert_int_equal(link(db, db_copy), 0);
	/* A clean stop checkpoints the WAL into carta.db and removes it. */
	assert_int_equal(harness_stop(&srv), 0);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		print_message("%s: %s\n", sql, err ? err : "?");
	sqlite3_free(err);
	assert_int_equal(rc, SQLITE_OK);
}

static long query_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	char *buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void scan_database(void)
{
	sqlite3 *db = NULL;
	size_t len = 0;
	char wal[sizeof(db_copy) + 8];

	assert_int_equal(sqlite3_open(db_copy, &db), SQLITE_OK);
	exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	exec_ok(db, "VACUUM");

	/* No term of the person is left in the full-text index. */
	exec_ok(db, "CREATE VIRTUAL TABLE temp.terms USING "
		    "fts5vocab(main, card_fts, row)");
	assert_int_equal(query_count(db, "SELECT count(*) FROM temp.terms "
					 "WHERE term GLOB 'zebulon*' OR "
					 "term GLOB 'quiggle*' OR "
					 "term GLOB 'villaquim*' OR "
					 "term GLOB 'xylocorp*'"),
			 0);
	assert_int_equal(query_count(db, "SELECT count(*) FROM temp.terms "
					 "WHERE term = 'controlville'"),
			 1);
	exec_ok(db, "DROP TABLE temp.terms");

	/* The tombstone and the suppressions: 2 emails, 2 phones. */
	assert_int_equal(query_count(db, "SELECT count(*) FROM cards WHERE "
					 "number = 'C-000001' AND "
					 "erased_at > 0 AND status = "
					 "'archived' AND given_name = ''"),
			 1);
	assert_int_equal(query_count(db, "SELECT count(*) FROM suppressions "
					 "WHERE length(hash) = 32"),
			 4);
	assert_int_equal(
	    query_count(db, "SELECT count(*) FROM audit WHERE card_id = "
			    "(SELECT id FROM cards WHERE number = 'C-000001') "
			    "AND action = 'erase' AND new_value = "
			    "'{\"reason\":\"GDPR art. 17 request 42\"}'"),
	    1);
	exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	/* The raw bytes: none of the values, while the control card's are
	 * there (the scan does see data). */
	char *bytes = read_all(db_copy, &len);
	for (size_t i = 0; i < sizeof(erased_values) / sizeof(*erased_values);
	     i++) {
		if (memmem(bytes, len, erased_values[i],
			   strlen(erased_values[i])) != NULL)
			print_message("found in carta.db: %s\n",
				      erased_values[i]);
		assert_null(memmem(bytes, len, erased_values[i],
				   strlen(erased_values[i])));
	}
	assert_non_null(memmem(bytes, len, "Keepsworth", 10));
	assert_non_null(memmem(bytes, len, "Controlville", 12));
	assert_non_null(memmem(bytes, len, "C-000001", 8));
	free(bytes);

	/* A WAL, if one is left, holds none of them either. */
	snprintf(wal, sizeof(wal), "%s-wal", db_copy);
	if (access(wal, F_OK) == 0) {
		bytes = read_all(wal, &len);
		for (size_t i = 0;
		     i < sizeof(erased_values) / sizeof(*erased_values); i++)
			assert_null(memmem(bytes, len, erased_values[i],
					   strlen(erased_values[i])));
		free(bytes);
	}

	/* Our link and its directory: nothing else is removed. */
	char cmd[sizeof(db_copy) + 32], dir[sizeof(db_copy)];
	snprintf(dir, sizeof(dir), "%s", db_copy);
	*strrchr(dir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	harness_run(cmd, NULL, 0);
}

static void test_erase_leaves_no_trace(void **state)
{
	json_error_t e;
	(void)state;

	add_people();
	assert_int_equal(carta(srv.admin_profile, "search Quiggleworth --json"),
			 0);
	assert_non_null(strstr(out, "C-000001"));
	long redactable = audit_with_values();
	assert_true(redactable >= 5);

	/* Merged into the control card and unmerged: the control card's
	 * audit quoted the person's values meanwhile. */
	assert_int_equal(carta(srv.admin_profile, "merge C-000002 C-000001"),
			 0);
	assert_non_null(strstr(out, "M-000001"));
	assert_int_equal(carta(srv.admin_profile, "unmerge M-000001"), 0);
	assert_int_equal(
	    carta(srv.admin_profile, "audit --customer C-000002 --all --json"),
	    0);
	assert_non_null(strstr(out, "Villaquimera"));

	/* A member may not erase, even with write access everywhere. */
	assert_int_not_equal(
	    carta(sales, "customer erase C-000001 --reason 'asked to'"), 0);
	assert_non_null(strstr(out, "only admins may do this"));
	assert_int_equal(carta(srv.admin_profile, "customer show C-000001"), 0);
	assert_non_null(strstr(out, "Zebulonia"));

	/* An empty reason is refused; the erasure is by email, any case. */
	assert_int_not_equal(
	    carta(srv.admin_profile, "customer erase C-000001 --reason ' '"),
	    0);
	assert_int_equal(carta(srv.admin_profile,
			       "customer erase ZEBULONIA.Q@example.org "
			       "--reason 'GDPR art. 17 request 42' --json"),
			 0);
	json_t *res = json_loads(out, JSON_DISABLE_EOF_CHECK, &e);
	assert_non_null(res);
	assert_string_equal(json_string_value(json_object_get(res, "number")),
			    "C-000001");
	/* The person's own entries, and the control card's from the merge
	 * to the unmerge. */
	assert_true(json_integer_value(json_object_get(
			res, "audit_entries_redacted")) > redactable);
	assert_int_equal(
	    json_integer_value(json_object_get(res, "suppressions_added")), 4);
	json_decref(res);

	/* Search finds nothing of the person; the control card is there. */
	assert_search_empty("Quiggleworth");
	assert_search_empty("zebulonia");
	assert_search_empty("zebulonia.q@example.org");
	assert_search_empty("+34612987654");
	assert_search_empty("612 987 654");
	assert_search_empty("Villaquimera");
	assert_int_equal(carta(srv.admin_profile, "search Keepsworth --json"),
			 0);
	assert_non_null(strstr(out, "C-000002"));
	assert_int_not_equal(
	    carta(srv.admin_profile, "customer show zq.second@example.net"), 0);
	/* The tombstone is no result, nor counted, nor exported. */
	assert_int_equal(carta(srv.admin_profile,
			       "search --where 'number = C-000001' --count"),
			 0);
	assert_int_equal(atoi(out), 0);
	assert_int_equal(carta(srv.admin_profile, "search --count"), 0);
	assert_int_equal(atoi(out), 1);
	assert_int_equal(carta(srv.admin_profile, "export json"), 0);
	assert_null(strstr(out, "C-000001"));
	assert_non_null(strstr(out, "C-000002"));

	/* The card is its tombstone: number, archived, nothing else. */
	assert_int_equal(
	    carta(srv.admin_profile, "customer show C-000001 --json"), 0);
	json_t *card = json_loads(out, JSON_DISABLE_EOF_CHECK, &e);
	assert_non_null(card);
	json_t *id = json_object_get(card, "identity");
	assert_string_equal(json_string_value(json_object_get(id, "number")),
			    "C-000001");
	assert_string_equal(json_string_value(json_object_get(id, "status")),
			    "archived");
	const char *gone[] = {"given_name", "family_name", "company",
			      "home_branch", "external_id"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(*gone); i++)
		assert_null(json_object_get(id, gone[i]));
	const char *empty[] = {"purchases", "interactions", "notes",
			       "consents",  "preferences",  "custom",
			       "history"};
	for (size_t i = 0; i < sizeof(empty) / sizeof(*empty); i++) {
		json_t *v = json_object_get(card, empty[i]);
		assert_true(v == NULL || json_array_size(v) == 0 ||
			    json_object_size(v) == 0);
	}
	json_t *contact = json_object_get(card, "contact");
	assert_true(contact == NULL || json_object_size(contact) == 0);
	json_t *dem = json_object_get(card, "demographics");
	assert_true(dem == NULL || json_object_size(dem) == 0);
	json_decref(card);
	for (size_t i = 0; i < sizeof(erased_values) / sizeof(*erased_values);
	     i++)
		assert_null(strstr(out, erased_values[i]));

	/* The audit: only "erased" values, and one erase entry with the
	 * reason and who did it. */
	assert_int_equal(audit_with_values(), 0);
	assert_int_equal(
	    carta(srv.admin_profile, "audit --customer C-000001 --all --json"),
	    0);
	for (size_t i = 0; i < sizeof(erased_values) / sizeof(*erased_values);
	     i++)
		assert_null(strstr(out, erased_values[i]));
	char *erase = strstr(out, "\"action\":\"erase\"");
	assert_non_null(erase);
	assert_null(strstr(erase + 1, "\"action\":\"erase\""));
	assert_non_null(strstr(erase, "\"new_value\":{\"reason\":\"GDPR "
				      "art. 17 request 42\"}"));
	assert_non_null(strstr(out, "\"new_value\":\"erased\""));
	assert_int_equal(
	    carta(srv.admin_profile, "audit --customer C-000002 --all --json"),
	    0);
	for (size_t i = 0; i < sizeof(erased_values) / sizeof(*erased_values);
	     i++)
		assert_null(strstr(out, erased_values[i]));
	assert_non_null(strstr(out, "Keepsworth"));

	stop_keeping_db();
	scan_database();
}

/* Needs the lead's part (issue 6): store_import.c and customer_add
 * checking store_suppressed. */
static void test_erased_person_is_not_recreated(void **state)
{
	char args[2 * PATH_MAX + 64];
	(void)state;

	add_people();
	assert_int_equal(carta(srv.admin_profile,
			       "customer erase C-000001 --reason 'asked to'"),
			 0);
	assert_non_null(strstr(out, "erased C-000001"));
	assert_non_null(strstr(out, "suppressions added:     4"));

	/* The same person again, with the email's case changed: reported,
	 * not created. */
	snprintf(args, sizeof(args), "import json '%s' --json",
		 file("again.jsonl",
		      "{\"identity\":{\"given_name\":\"Zebulonia\"},"
		      "\"contact\":{\"emails\":[{\"address\":"
		      "\"ZEBULONIA.Q@example.ORG\"}]}}\n"
		      "{\"identity\":{\"given_name\":\"Zeb\"},"
		      "\"contact\":{\"phones\":[{\"number\":"
		      "\"0034 612 987 654\"}]}}\n"));
	carta(srv.admin_profile, args);
	assert_non_null(strstr(out, "\"suppressed\":2"));
	assert_non_null(strstr(out, "\"created\":0"));
	assert_int_not_equal(carta(srv.admin_profile, "customer show C-000003"),
			     0);

	/* A create of the same phone is refused. */
	assert_int_not_equal(carta(srv.admin_profile,
				   "customer add --given-name Zeb "
				   "--phone '+44 20 7946 0321'"),
			     0);
	assert_non_null(strstr(out, "this person was erased"));
	assert_int_not_equal(carta(srv.admin_profile, "customer show C-000003"),
			     0);

	/* Someone else is created as before. */
	assert_int_equal(carta(srv.admin_profile,
			       "customer add --given-name Other "
			       "--email other@example.org"),
			 0);
	assert_non_null(strstr(out, "C-000003"));

	/* An email with a +tag is still the erased person's. */
	snprintf(args, sizeof(args), "import json '%s' --json --force",
		 file("tagged.jsonl",
		      "{\"identity\":{\"given_name\":\"Zebulonia\"},"
		      "\"contact\":{\"emails\":[{\"address\":"
		      "\"zebulonia.q+news@example.org\"}]}}\n"));
	carta(srv.admin_profile, args);
	assert_non_null(strstr(out, "\"suppressed\":1"));
	assert_non_null(strstr(out, "\"created\":0"));

	/* Nor can an edit put the erased email or phone on another card. */
	assert_int_not_equal(
	    carta(srv.admin_profile,
		  "customer edit C-000003 --section contact --set "
		  "emails.1.address=zebulonia.q@example.org --if-version 1"),
	    0);
	assert_non_null(strstr(out, "belonged to an erased person"));
	assert_int_not_equal(
	    carta(srv.admin_profile,
		  "customer edit C-000003 --section contact --set "
		  "'phones.0.number=+44 20 7946 0321' --if-version 1"),
	    0);
	assert_non_null(strstr(out, "belonged to an erased person"));
	assert_int_equal(
	    carta(srv.admin_profile, "customer show C-000003 --json"), 0);
	assert_null(strstr(out, "zebulonia"));
	assert_null(strstr(out, "+442079460321"));

	/* Marketing may not write contact: whether an email was erased
	 * makes no difference to what it is told. */
	char mkt[PATH_MAX + 32];
	snprintf(mkt, sizeof(mkt), "%s/mia.profile", srv.dir);
	snprintf(args, sizeof(args),
		 "admin enrol mia --department marketing --out '%s'", mkt);
	assert_int_equal(carta(srv.admin_profile, args), 0);
	static const char *const guesses[] = {"zebulonia.q@example.org",
					      "nobody.else@example.org"};
	char first[512] = "";
	for (size_t i = 0; i < 2; i++) {
		char line[256];
		snprintf(line, sizeof(line),
			 "{\"identity\":{\"number\":\"C-000003\"},"
			 "\"contact\":{\"emails\":[{\"address\":\"%s\"}]}}\n",
			 guesses[i]);
		snprintf(args, sizeof(args),
			 "import json '%s' --upsert-by number --dry-run --json",
			 file("guess.jsonl", line));
		assert_int_equal(carta(mkt, args), 1);
		assert_null(strstr(out, "suppressed\":1"));
		const char *o = strstr(out, "{\"outcome\"");
		assert_non_null(o);
		if (i == 0)
			snprintf(first, sizeof(first), "%.*s",
				 (int)strcspn(o, "\n"), o);
		else
			assert_int_equal(strncmp(o, first, strlen(first)), 0);
	}
	assert_non_null(strstr(first, "\"outcome\":\"rejected\""));
	assert_non_null(strstr(first, "contact"));
}

/* A phone and an email that another card in use still holds (a
 * household's phone, a duplicate card not erased) are not kept out by
 * an erasure: that card's own values can be written back onto it, and
 * a new card may share the phone as before. */
static void test_values_still_held_elsewhere(void **state)
{
	char args[PATH_MAX + 64];
	(void)state;

	assert_int_equal(carta(srv.admin_profile,
			       "customer add --given-name Ulrike --family-name "
			       "Quastenberg --email shared.home@example.org "
			       "--phone '+34 600 111 222'"),
			 0);
	assert_int_equal(carta(srv.admin_profile,
			       "customer add --force --given-name Otto "
			       "--family-name Quastenberg --email "
			       "shared.home@example.org --phone '+34 600 111 "
			       "222'"),
			 0);
	assert_int_equal(carta(srv.admin_profile,
			       "customer erase C-000001 --reason 'asked to'"),
			 0);

	/* C-000002 updated by its email, with its own email and phone. */
	snprintf(args, sizeof(args),
		 "import json '%s' --json --upsert-by email",
		 file("otto.jsonl",
		      "{\"identity\":{\"given_name\":\"Otto\",\"family_name\":"
		      "\"Quastenberg-Ruiz\"},\"contact\":{\"emails\":[{"
		      "\"address\":\"shared.home@example.org\"}],\"phones\":[{"
		      "\"number\":\"+34600111222\"}]}}\n"));
	carta(srv.admin_profile, args);
	assert_non_null(strstr(out, "\"updated\":1"));
	assert_non_null(strstr(out, "\"suppressed\":0"));
	assert_int_equal(
	    carta(srv.admin_profile, "customer show C-000002 --json"), 0);
	assert_non_null(strstr(out, "Quastenberg-Ruiz"));

	/* Someone new in the household: the phone is not refused. */
	assert_int_equal(carta(srv.admin_profile,
			       "customer add --force --given-name Greta "
			       "--family-name Quastenberg --phone '600 111 "
			       "222'"),
			 0);
	assert_null(strstr(out, "erased"));

	/* Once no card holds them, they are kept out again. */
	assert_int_equal(carta(srv.admin_profile,
			       "customer erase C-000002 --reason 'asked to'"),
			 0);
	assert_int_equal(carta(srv.admin_profile,
			       "customer erase C-000003 --reason 'asked to'"),
			 0);
	assert_int_not_equal(carta(srv.admin_profile,
				   "customer add --force --given-name Hans "
				   "--phone '+34 600 111 222'"),
			     0);
	assert_non_null(strstr(out, "this person was erased"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_erase_leaves_no_trace, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_erased_person_is_not_recreated,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values_still_held_elsewhere,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
