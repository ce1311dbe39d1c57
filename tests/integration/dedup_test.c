/* carta dedup scan against a real server: 1000 demo cards (seed 5) with
 * their planted near-duplicates imported as admin; the scan finds every
 * planted pair at or above the default score and no other pair above it;
 * pages follow their cursors; --min-score and --where narrow it; a
 * department that may not read demographics is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "harness.h"

#define PLANTED_MAX 64

static harness srv;
static char work[PATH_MAX];
static char out[4 << 20];
static char billing[PATH_MAX + 64];

/* The planted pairs, as customer numbers (a's number first). */
static struct {
	char a[32], b[32];
} planted[PLANTED_MAX];
static size_t n_planted;

static int carta(const char *profile, const char *args)
{
	char cmd[4 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "'%s' --profile '%s' --server %s %s 2>&1",
		 CARTA_CLI_PATH, profile, srv.addr, args);
	int rc = harness_run(cmd, out, sizeof(out));
	size_t n = strlen(out);
	if (rc != 0)
		print_message("$ carta %s\n%s%s[exit %d]\n", args,
			      n > 2000 ? "...\n" : "",
			      n > 2000 ? out + n - 2000 : out, rc);
	return rc;
}

/* Numbers compare as the server orders them: shorter first. */
static int number_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

/* The customer number of the card with external id ext. */
static int number_of(const char *ext, char *number, size_t cap)
{
	char args[128];

	snprintf(args, sizeof(args), "search --json --where 'external_id = %s'",
		 ext);
	if (carta(srv.admin_profile, args) != 0)
		return -1;
	json_t *card = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	const char *n = json_string_value(
	    json_object_get(json_object_get(card, "identity"), "number"));
	int rv = n != NULL ? 0 : -1;
	if (n != NULL)
		snprintf(number, cap, "%s", n);
	json_decref(card);
	return rv;
}

static int setup(void **state)
{
	char cmd[PATH_MAX * 3], path[PATH_MAX + 32];
	(void)state;

	if (sodium_init() < 0)
		return -1;
	const char *tmp = getenv("TMPDIR");
	snprintf(work, sizeof(work), "%s/carta-dedup-XXXXXX",
		 tmp ? tmp : "/tmp");
	if (mkdtemp(work) == NULL)
		return -1;
	/* carta-demo-gen is built beside the carta CLI. */
	snprintf(cmd, sizeof(cmd),
		 "\"$(dirname '%s')/carta-demo-gen\" --count 1000 --seed 5 "
		 "--out '%s/demo.jsonl' --truth '%s/truth.jsonl'",
		 CARTA_CLI_PATH, work, work);
	if (harness_run(cmd, NULL, 0) != 0 || harness_start(&srv, NULL) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "import json --force '%s/demo.jsonl'", work);
	if (carta(srv.admin_profile, cmd) != 0)
		return -1;
	snprintf(billing, sizeof(billing), "%s/bea.profile", work);
	snprintf(cmd, sizeof(cmd),
		 "admin enrol bea --department billing --out '%s'", billing);
	if (carta(srv.admin_profile, cmd) != 0)
		return -1;

	/* The truth, in customer numbers. */
	snprintf(path, sizeof(path), "%s/truth.jsonl", work);
	FILE *f = fopen(path, "r");
	char line[512];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL &&
	       n_planted < PLANTED_MAX) {
		json_t *t = json_loads(line, 0, NULL);
		char a[32], b[32];
		int rv =
		    number_of(json_string_value(json_object_get(t, "original")),
			      a, sizeof(a));
		if (rv == 0)
			rv = number_of(
			    json_string_value(json_object_get(t, "duplicate")),
			    b, sizeof(b));
		json_decref(t);
		if (rv != 0) {
			fclose(f);
			return -1;
		}
		bool swap = number_cmp(a, b) > 0;
		snprintf(planted[n_planted].a, 32, "%s", swap ? b : a);
		snprintf(planted[n_planted].b, 32, "%s", swap ? a : b);
		n_planted++;
	}
	if (f != NULL)
		fclose(f);
	return n_planted > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 32];
	(void)state;

	int rv = harness_stop(&srv);
	if (strstr(work, "/carta-dedup-") != NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
		harness_run(cmd, NULL, 0);
	}
	return rv;
}

typedef struct {
	char a[32], b[32];
	double score;
	unsigned group;
	char reasons[512];
} pair;

/* Parses the JSON lines of a scan in out; a next_cursor line goes to
 * cursor (when not NULL). Returns the number of pairs. */
static size_t parse(pair *v, size_t cap, char *cursor, size_t ccap)
{
	size_t n = 0;
	char *save = NULL;

	if (cursor != NULL)
		cursor[0] = '\0';
	for (char *l = strtok_r(out, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(l, 0, NULL);
		assert_non_null(o);
		const char *next =
		    json_string_value(json_object_get(o, "next_cursor"));
		if (next != NULL) {
			if (cursor != NULL)
				snprintf(cursor, ccap, "%s", next);
			json_decref(o);
			continue;
		}
		assert_true(n < cap);
		snprintf(v[n].a, 32, "%s",
			 json_string_value(json_object_get(o, "a")));
		snprintf(v[n].b, 32, "%s",
			 json_string_value(json_object_get(o, "b")));
		v[n].score = json_real_value(json_object_get(o, "score"));
		v[n].group =
		    (unsigned)json_integer_value(json_object_get(o, "group"));
		v[n].reasons[0] = '\0';
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(o, "reasons"), i, r)
		    snprintf(v[n].reasons + strlen(v[n].reasons),
			     sizeof(v[n].reasons) - strlen(v[n].reasons),
			     "%s%s", i ? "; " : "", json_string_value(r));
		json_decref(o);
		n++;
	}
	return n;
}

static bool is_planted(const pair *p)
{
	for (size_t i = 0; i < n_planted; i++)
		if (strcmp(planted[i].a, p->a) == 0 &&
		    strcmp(planted[i].b, p->b) == 0)
			return true;
	return false;
}

static pair all[4096];

/* Every planted pair at or above the default, nothing else above it. */
static void test_planted_found_no_false_pair(void **state)
{
	(void)state;
	assert_int_equal(carta(srv.admin_profile, "dedup scan --json --all"),
			 0);
	size_t n = parse(all, 4096, NULL, 0);
	size_t found = 0, false_pairs = 0;

	for (size_t i = 0; i < n; i++) {
		assert_true(all[i].score >= 0.85);
		if (is_planted(&all[i])) {
			found++;
			continue;
		}
		print_message("false pair: %s %s %.3f %s\n", all[i].a, all[i].b,
			      all[i].score, all[i].reasons);
		false_pairs++;
	}
	for (size_t i = 0; i < n_planted; i++) {
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = strcmp(all[k].a, planted[i].a) == 0 &&
			       strcmp(all[k].b, planted[i].b) == 0;
		if (!seen)
			print_message("planted pair missed: %s %s\n",
				      planted[i].a, planted[i].b);
	}
	assert_int_equal(n_planted, 10);
	assert_int_equal(found, n_planted);
	assert_int_equal(false_pairs, 0);
	assert_int_equal(n, n_planted);

	/* Best first, each pair a group of its own here. */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(all[i].group, i + 1);
		if (i > 0)
			assert_true(all[i].score <= all[i - 1].score);
		assert_non_null(strstr(all[i].reasons, "same email"));
	}
}

/* Pages of 3 follow their cursors to the same list. */
static void test_pages(void **state)
{
	pair page[8];
	char cursor[256], args[512];
	size_t at = 0;

	(void)state;
	assert_int_equal(carta(srv.admin_profile, "dedup scan --json --all"),
			 0);
	size_t n = parse(all, 4096, NULL, 0);
	assert_true(n >= 4);

	assert_int_equal(
	    carta(srv.admin_profile, "dedup scan --json --limit 3"), 0);
	size_t k = parse(page, 8, cursor, sizeof(cursor));
	for (;;) {
		assert_true(at + k <= n);
		for (size_t i = 0; i < k; i++, at++) {
			assert_string_equal(page[i].a, all[at].a);
			assert_string_equal(page[i].b, all[at].b);
		}
		if (cursor[0] == '\0')
			break;
		assert_int_equal(k, 3);
		snprintf(args, sizeof(args),
			 "dedup scan --json --limit 3 --cursor '%s'", cursor);
		assert_int_equal(carta(srv.admin_profile, args), 0);
		k = parse(page, 8, cursor, sizeof(cursor));
	}
	assert_int_equal(at, n);

	assert_int_not_equal(
	    carta(srv.admin_profile, "dedup scan --cursor nonsense"), 0);
	assert_non_null(strstr(out, "cursor"));
}

/* A lower score shows more pairs, every one at least that score, the
 * planted ones among them. */
static void test_min_score(void **state)
{
	(void)state;
	assert_int_equal(
	    carta(srv.admin_profile, "dedup scan --json --all --min-score 0.6"),
	    0);
	size_t n = parse(all, 4096, NULL, 0), found = 0;
	assert_true(n > n_planted);
	for (size_t i = 0; i < n; i++) {
		assert_true(all[i].score >= 0.6);
		found += is_planted(&all[i]);
	}
	assert_int_equal(found, n_planted);

	assert_int_equal(
	    carta(srv.admin_profile, "dedup scan --json --all --min-score 1.5"),
	    2);
}

/* A filter narrows the scan to the cards it selects. */
static void test_where(void **state)
{
	char args[256];

	(void)state;
	snprintf(args, sizeof(args),
		 "dedup scan --json --all --where 'number = %s or number = "
		 "%s'",
		 planted[0].a, planted[0].b);
	assert_int_equal(carta(srv.admin_profile, args), 0);
	size_t n = parse(all, 4096, NULL, 0);
	assert_int_equal(n, 1);
	assert_string_equal(all[0].a, planted[0].a);
	assert_string_equal(all[0].b, planted[0].b);

	/* One card of the pair only: no pair. */
	snprintf(args, sizeof(args),
		 "dedup scan --json --all --where 'number "
		 "= %s'",
		 planted[0].a);
	assert_int_equal(carta(srv.admin_profile, args), 0);
	assert_int_equal(parse(all, 4096, NULL, 0), 0);

	assert_int_not_equal(
	    carta(srv.admin_profile, "dedup scan --where 'nosuchfield = 1'"),
	    0);
	assert_non_null(strstr(out, "where"));
}

/* Billing may not read demographics: refused, naming the section. */
static void test_department_refused(void **state)
{
	(void)state;
	assert_int_equal(carta(billing, "dedup scan"), 1);
	assert_non_null(strstr(out, "demographics"));
	assert_non_null(strstr(out, "may not read"));
}

/* Adds a card as the admin; its number into number. */
static void add_card(const char *args, char number[32])
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "customer add --force %s", args);
	assert_int_equal(carta(srv.admin_profile, cmd), 0);
	const char *c = strstr(out, "C-");
	assert_non_null(c);
	assert_int_equal(sscanf(c, "%31[C0-9-]", number), 1);
}

/* The evidence of the check on an edit comes only from what the editor
 * may read: billing, which may not read demographics, is never told
 * that two cards share a birth date (nor scored by it); the admin is. */
static void test_evidence_from_readable_sections_only(void **state)
{
	char a[32], b[32], c[32], args[256];
	(void)state;

	add_card("--given-name Luisa --family-name Pruebaleak --phone "
		 "'+34 699 000 111' --birth-date 1990-01-01",
		 a);
	add_card("--given-name Luisa --family-name Pruebaleak --birth-date "
		 "1990-01-01",
		 b);
	add_card("--given-name Luisa --family-name Pruebaleak --birth-date "
		 "1990-01-01",
		 c);

	snprintf(args, sizeof(args),
		 "customer edit %s --section contact --set "
		 "phones.0.number='+34 699 000 111' --if-version 1",
		 b);
	assert_int_equal(carta(billing, args), 0);
	assert_non_null(strstr(out, a));
	assert_non_null(strstr(out, "same phone"));
	assert_null(strstr(out, "birth"));

	snprintf(args, sizeof(args),
		 "customer edit %s --section contact --set "
		 "phones.0.number='+34 699 000 111' --if-version 1",
		 c);
	assert_int_equal(carta(srv.admin_profile, args), 0);
	assert_non_null(strstr(out, a));
	assert_non_null(strstr(out, "same birth date"));
}

/* A typo in a family name shares no word with it: the look-up of add,
 * import and edit meets the pair by the birth date, as the scan does. */
static void test_family_typo_found_by_birth_date(void **state)
{
	char a[32], b[32], args[PATH_MAX + 64], csv[PATH_MAX + 16];
	(void)state;

	add_card("--given-name Eustaquio --family-name Zabalbeascoa "
		 "--birth-date 1955-03-03 --email eus1@example.com",
		 a);

	assert_int_not_equal(
	    carta(srv.admin_profile,
		  "customer add --given-name Eustaquio --family-name "
		  "Zabalbeaskoa --birth-date 1955-03-03 --email "
		  "eus2@example.com"),
	    0);
	assert_non_null(strstr(out, a));
	assert_non_null(strstr(out, "same birth date"));

	snprintf(csv, sizeof(csv), "%s/typo.csv", work);
	FILE *f = fopen(csv, "w");
	assert_non_null(f);
	fputs("First Name,Last Name,Birthday\n"
	      "Eustaquio,Zabalbeascoo,1955-03-03\n",
	      f);
	fclose(f);
	snprintf(args, sizeof(args), "import csv '%s'", csv);
	carta(srv.admin_profile, args);
	assert_non_null(strstr(out, a));
	assert_non_null(strstr(out, "created   0"));
	assert_non_null(strstr(out, "duplicates 1"));

	add_card("--given-name Eustaquio --family-name Otxoa --birth-date "
		 "1955-03-03",
		 b);
	snprintf(args, sizeof(args),
		 "customer edit %s --section identity --set "
		 "family_name=Zabalbeascca --if-version 1",
		 b);
	assert_int_equal(carta(srv.admin_profile, args), 0);
	assert_non_null(strstr(out, a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_planted_found_no_false_pair),
	    cmocka_unit_test(test_pages),
	    cmocka_unit_test(test_min_score),
	    cmocka_unit_test(test_where),
	    cmocka_unit_test(test_department_refused),
	    cmocka_unit_test(test_evidence_from_readable_sections_only),
	    cmocka_unit_test(test_family_typo_found_by_birth_date),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
