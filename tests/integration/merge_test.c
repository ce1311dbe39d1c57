/* Merge and unmerge through the server, with the CLI: two cards of one
 * person (an email that differs only in case, one phone written two ways,
 * conflicting single values, preferences, a conflicting consent, custom
 * values, and more than a page of purchases). The merge loses nothing:
 * every related row is counted before and after and every non-empty
 * value is on the survivor or in its history; the other card's number,
 * email and phone land on the survivor; the dry run shows exactly what
 * the merge then does; unmerge gives back both cards as they were, and is
 * refused once a section the merge changed was edited; a department that
 * may not write a section the merge changes is refused and nothing
 * changes. */
#include <ctype.h>
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
static char marketing[PATH_MAX + 32], desk[PATH_MAX + 32];
static char out[1 << 18];

/* Both cards as they were before any merge: customer show --json and the
 * full lists of purchases, interactions and notes. */
static char *show_before[2], *lists_before[2][3];

static int carta(const char *profile, const char *args)
{
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "'%s' --profile '%s' --server %s %s 2>&1",
		 CARTA_CLI_PATH, profile, srv.addr, args);
	int rc = harness_run(cmd, out, sizeof(out));
	print_message("$ carta %s\n%.3000s[exit %d]\n", args, out, rc);
	return rc;
}

static int admin(const char *args)
{
	return carta(srv.admin_profile, args);
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

static int enrol(const char *name, const char *dept, char *profile, size_t cap)
{
	char args[PATH_MAX + 128];
	snprintf(profile, cap, "%s/%s.profile", srv.dir, name);
	snprintf(args, sizeof(args),
		 "admin enrol %s --department %s --out '%s'", name, dept,
		 profile);
	return admin(args);
}

/* A department that may write everything but purchases. */
static int make_desk(void)
{
	static const char *const sections[] = {
	    "identity",	    "contact", "demographics", "preferences",
	    "interactions", "notes",   "consent"};
	char args[128];

	if (admin("admin department add desk") != 0)
		return -1;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		snprintf(args, sizeof(args), "admin policy set desk %s write",
			 sections[i]);
		if (admin(args) != 0)
			return -1;
	}
	if (admin("admin policy set desk purchases read") != 0)
		return -1;
	return enrol("dan", "desk", desk, sizeof(desk));
}

/* The two cards: C-000001 (the survivor) and C-000002, one person. */
static int make_cards(void)
{
	char *text = malloc(1 << 16);
	size_t n = 0, cap = 1 << 16;

	if (text == NULL)
		return -1;
#define ADD(...) n += (size_t)snprintf(text + n, cap - n, __VA_ARGS__)
	ADD("{\"identity\":{\"given_name\":\"Jose\",\"family_name\":"
	    "\"Garcia\",\"external_id\":\"A-1\",\"home_branch\":\"MAD\"},"
	    "\"contact\":{\"emails\":[{\"address\":\"jose@example.es\","
	    "\"primary\":true},{\"address\":\"j.garcia@work.example\","
	    "\"label\":\"work\"}],\"phones\":[{\"number\":\"612 34 56 78\","
	    "\"label\":\"mobile\"}],\"addresses\":[{\"street\":\"Calle Mayor "
	    "1\",\"city\":\"Madrid\",\"postal_code\":\"28013\",\"country\":"
	    "\"ES\"}],\"preferred_channels\":[\"email\"]},"
	    "\"demographics\":{\"birth_date\":\"1980-05-01\",\"profession\":"
	    "\"architect\",\"language\":\"es\"},"
	    "\"preferences\":{\"colour\":\"blue\",\"size\":\"M\"},"
	    "\"consents\":[{\"purpose\":\"marketing\",\"channel\":\"email\","
	    "\"state\":\"granted\",\"at\":\"2023-01-01T00:00:00Z\","
	    "\"source\":\"form\"},{\"purpose\":\"newsletter\",\"channel\":"
	    "\"email\",\"state\":\"granted\",\"at\":\"2023-02-01T00:00:00Z\","
	    "\"source\":\"form\"}],"
	    "\"custom\":[{\"field\":\"loyalty\",\"value\":\"gold\"}],"
	    "\"purchases\":[");
	for (int i = 1; i <= 3; i++)
		ADD("%s{\"date\":\"2024-01-%02d\",\"product\":\"Mesa %d\","
		    "\"amount\":\"12%d.00\",\"currency\":\"EUR\",\"invoice\":"
		    "\"A-%d\"}",
		    i > 1 ? "," : "", i, i, i, i);
	ADD("],\"interactions\":[{\"at\":\"2024-03-01T10:00:00Z\","
	    "\"channel\":\"phone\",\"summary\":\"asked about delivery\"},"
	    "{\"at\":\"2024-03-05T10:00:00Z\",\"channel\":\"email\","
	    "\"summary\":\"sent the invoice\"}],"
	    "\"notes\":[{\"at\":\"2024-03-02T10:00:00Z\",\"text\":\"prefers "
	    "mornings\"}]}\n");

	ADD("{\"identity\":{\"given_name\":\"Jos\xc3\xa9\",\"family_name\":"
	    "\"Garcia\",\"company\":\"Acme\"},"
	    "\"contact\":{\"emails\":[{\"address\":\"JOSE@example.es\","
	    "\"label\":\"home\"},{\"address\":\"jose.private@example.org\"}],"
	    "\"phones\":[{\"number\":\"+34 612 34 56 78\"},{\"number\":"
	    "\"699 12 34 56\"}],\"addresses\":[{\"street\":\"Calle Sol 2\","
	    "\"city\":\"Sevilla\",\"postal_code\":\"41001\",\"country\":"
	    "\"ES\"}],\"preferred_channels\":[\"sms\"]},"
	    "\"demographics\":{\"gender\":\"m\",\"profession\":\"engineer\"},"
	    "\"preferences\":{\"colour\":\"red\",\"seat\":\"aisle\"},"
	    "\"consents\":[{\"purpose\":\"marketing\",\"channel\":\"email\","
	    "\"state\":\"withdrawn\",\"at\":\"2024-01-01T00:00:00Z\","
	    "\"source\":\"phone\"},{\"purpose\":\"marketing\",\"channel\":"
	    "\"sms\",\"state\":\"granted\",\"at\":\"2023-03-01T00:00:00Z\","
	    "\"source\":\"shop\"}],"
	    "\"custom\":[{\"field\":\"loyalty\",\"value\":\"silver\"},"
	    "{\"field\":\"shoe_size\",\"value\":\"42\"}],"
	    "\"purchases\":[");
	for (int i = 1; i <= 22; i++)
		ADD("%s{\"date\":\"2024-02-%02d\",\"product\":\"Silla %d\","
		    "\"amount\":\"%d.50\",\"currency\":\"EUR\",\"invoice\":"
		    "\"B-%d\"}",
		    i > 1 ? "," : "", i, i, 30 + i, i);
	ADD("],\"interactions\":[{\"at\":\"2024-04-01T10:00:00Z\","
	    "\"channel\":\"visit\",\"summary\":\"came to the shop\"}],"
	    "\"notes\":[{\"at\":\"2024-04-02T10:00:00Z\",\"text\":\"tall\"},"
	    "{\"at\":\"2024-04-03T10:00:00Z\",\"text\":\"likes oak\"}]}\n");
#undef ADD
	char args[PATH_MAX + 128];
	snprintf(args, sizeof(args), "import json '%s' --force",
		 file("two.jsonl", text));
	free(text);
	return admin(args);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	if (enrol("mia", "marketing", marketing, sizeof(marketing)) != 0 ||
	    make_desk() != 0)
		return -1;
	if (admin("field define loyalty --type text --section preferences") !=
		0 ||
	    admin("field define shoe_size --type text --section "
		  "demographics") != 0)
		return -1;
	return make_cards();
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		free(show_before[i]);
		for (int k = 0; k < 3; k++)
			free(lists_before[i][k]);
	}
	return harness_stop(&srv) == 0 ? 0 : -1;
}

/* ---- helpers --------------------------------------------------------- */

static json_t *parse_out(void)
{
	json_error_t e;
	json_t *v = json_loads(out, JSON_DISABLE_EOF_CHECK, &e);
	if (v == NULL)
		print_error("not JSON: %s\n", e.text);
	assert_non_null(v);
	return v;
}

/* Removes what an unmerge may move on (versions, update times) and what
 * differs between two runs of the same plan (the times of history). */
static void strip(json_t *v, int history_times)
{
	const char *key;
	json_t *x;
	void *tmp;
	size_t i;

	if (json_is_object(v)) {
		json_object_del(v, "version");
		json_object_del(v, "updated_at");
		json_object_foreach_safe(v, tmp, key, x)
		{
			if (history_times && strcmp(key, "history") == 0) {
				json_t *h;
				json_array_foreach(x, i, h)
				    json_object_del(h, "at");
				continue;
			}
			strip(x, history_times);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) strip(x, history_times);
	}
}

static json_t *show(const char *ref)
{
	char args[128];
	snprintf(args, sizeof(args), "customer show %s --json", ref);
	assert_int_equal(admin(args), 0);
	return parse_out();
}

static const char *const list_kinds[3] = {"purchase", "interaction", "note"};

/* The full list (every page) as printed, one JSON line per item. */
static char *list_all(const char *ref, int kind)
{
	char args[128];
	snprintf(args, sizeof(args), "%s list %s --all --json --limit 7",
		 list_kinds[kind], ref);
	assert_int_equal(admin(args), 0);
	char *copy = strdup(out);
	assert_non_null(copy);
	return copy;
}

static size_t lines(const char *s)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, "{\"")) != NULL; p++)
		if (p == s || p[-1] == '\n')
			n++;
	return n;
}

static char *lower_dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	assert_non_null(s);
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Every non-empty text of the card's sections (not numbers, ids, times,
 * versions) must appear in hay (lower-case). */
static void values_kept(const json_t *v, const char *key, const char *hay)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) values_kept(x, k, hay);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) values_kept(x, key, hay);
	} else if (json_is_string(v) && key != NULL && strcmp(key, "id") != 0 &&
		   strcmp(key, "number") != 0 && strstr(key, "_at") == NULL &&
		   strcmp(key, "at") != 0) {
		char *low = strdup(json_string_value(v));
		assert_non_null(low);
		for (char *p = low; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (low[0] != '\0' && strstr(hay, low) == NULL)
			fail_msg("value of %s lost: %s", key, low);
		free(low);
	}
}

static size_t array_size(json_t *card, const char *a, const char *b)
{
	json_t *x = json_object_get(card, a);
	if (b != NULL)
		x = json_object_get(x, b);
	assert_true(json_is_array(x) || x == NULL);
	return json_array_size(x);
}

static const char *str_at(json_t *card, const char *a, const char *b)
{
	const char *s =
	    json_string_value(json_object_get(json_object_get(card, a), b));
	return s ? s : "";
}

/* Whether the card's history has (field, value). */
static int in_history(json_t *card, const char *field, const char *value)
{
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(card, "history"), i, h)
	{
		if (strcmp(json_string_value(json_object_get(h, "field")),
			   field) == 0 &&
		    strcmp(json_string_value(json_object_get(h, "value")),
			   value) == 0)
			return 1;
	}
	return 0;
}

static void snapshot(void)
{
	const char *refs[2] = {"C-000001", "C-000002"};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(admin(i ? "customer show C-000002 --json"
					 : "customer show C-000001 --json"),
				 0);
		free(show_before[i]);
		show_before[i] = strdup(out);
		for (int k = 0; k < 3; k++) {
			free(lists_before[i][k]);
			lists_before[i][k] = list_all(refs[i], k);
		}
	}
}

/* Both cards and their lists as snapshot() saw them, versions and update
 * times apart. */
static void same_as_snapshot(void)
{
	const char *refs[2] = {"C-000001", "C-000002"};
	for (int i = 0; i < 2; i++) {
		json_error_t e;
		json_t *before = json_loads(show_before[i], 0, &e);
		json_t *now = show(refs[i]);
		assert_non_null(before);
		strip(before, 0);
		strip(now, 0);
		if (!json_equal(before, now)) {
			char *x = json_dumps(before, JSON_SORT_KEYS);
			char *y = json_dumps(now, JSON_SORT_KEYS);
			print_error("before: %s\nnow:    %s\n", x, y);
			free(x);
			free(y);
			fail_msg("%s differs from before the merge", refs[i]);
		}
		json_decref(before);
		json_decref(now);
		for (int k = 0; k < 3; k++) {
			char *l = list_all(refs[i], k);
			assert_string_equal(l, lists_before[i][k]);
			free(l);
		}
	}
}

/* ---- the tests ------------------------------------------------------- */

static void test_cards_as_imported(void **state)
{
	(void)state;
	json_t *a = show("C-000001"), *b = show("C-000002");

	assert_int_equal(array_size(a, "contact", "emails"), 2);
	assert_int_equal(array_size(b, "contact", "emails"), 2);
	assert_int_equal(array_size(b, "contact", "phones"), 2);
	assert_int_equal(array_size(b, "custom", NULL), 2);
	json_decref(a);
	json_decref(b);
	snapshot();
	assert_int_equal(lines(lists_before[0][0]), 3);
	assert_int_equal(lines(lists_before[1][0]), 22);
	assert_int_equal(lines(lists_before[0][1]), 2);
	assert_int_equal(lines(lists_before[1][1]), 1);
	assert_int_equal(lines(lists_before[0][2]), 1);
	assert_int_equal(lines(lists_before[1][2]), 2);
}

static void test_refusals_change_nothing(void **state)
{
	(void)state;

	/* Marketing may not write identities: refused before any plan. */
	assert_int_equal(carta(marketing, "merge C-000001 C-000002"), 1);
	assert_non_null(strstr(out, "identity: your department may not "
				    "write"));
	/* The desk may write all but purchases, which this merge moves:
	 * the real merge and the dry run (it shows the data) are both
	 * refused. */
	assert_int_equal(carta(desk, "merge C-000001 C-000002"), 1);
	assert_non_null(strstr(out, "purchases: your department may not "
				    "write"));
	assert_int_equal(carta(desk, "merge C-000001 C-000002 --dry-run"), 1);
	assert_non_null(strstr(out, "purchases: your department may not "
				    "write"));
	/* A department that may write identities but not see notes is
	 * refused before the cards are looked at: whether a merge would
	 * move notes would tell that the cards have some. */
	char probe[PATH_MAX + 32];
	assert_int_equal(admin("admin department add probe"), 0);
	assert_int_equal(admin("admin policy set probe identity write"), 0);
	assert_int_equal(admin("admin policy set probe contact write"), 0);
	assert_int_equal(enrol("pete", "probe", probe, sizeof(probe)), 0);
	assert_int_equal(carta(probe, "merge C-000001 C-000002 --dry-run"), 1);
	assert_non_null(strstr(out, "may not read"));
	assert_non_null(strstr(out, "demographics"));
	assert_int_equal(carta(probe, "merge C-000001 C-000099 --dry-run"), 1);
	assert_non_null(strstr(out, "may not read"));

	/* Clear errors for impossible merges. */
	assert_int_equal(admin("merge C-000001 C-000001"), 1);
	assert_non_null(strstr(out, "same card (C-000001)"));
	assert_int_equal(admin("merge C-000001 C-000099"), 1);
	assert_non_null(strstr(out, "other: no card matches it"));
	assert_int_equal(admin("merge C-000001 C-000002 --prefer nope=other"),
			 1);
	assert_non_null(strstr(out, "is not SECTION.FIELD"));
	assert_int_equal(admin("merge C-000001 C-000002 --prefer "
			       "identity.given_name=mine"),
			 1);
	/* Lists are joined and consents go by date: nothing to prefer. */
	assert_int_equal(
	    admin("merge C-000001 C-000002 --prefer purchases.x=other"), 1);
	assert_non_null(strstr(out, "is not SECTION.FIELD"));
	assert_int_equal(
	    admin("merge C-000001 C-000002 --prefer contact.emails=other"), 1);
	assert_non_null(strstr(out, "is not SECTION.FIELD"));
	assert_int_equal(admin("unmerge M-000009"), 1);
	assert_non_null(strstr(out, "no merge M-000009"));

	same_as_snapshot();
}

static json_t *dry_plan;
static char dry_text[8192];

static void test_dry_run_then_merge(void **state)
{
	(void)state;
	const char *cmd = "merge C-000001 C-000002 --prefer "
			  "identity.given_name=other";
	char args[256];

	snprintf(args, sizeof(args), "%s --dry-run", cmd);
	assert_int_equal(admin(args), 0);
	assert_true(strlen(out) < sizeof(dry_text));
	memcpy(dry_text, out, strlen(out) + 1);
	assert_non_null(strstr(dry_text, "dry run: C-000002 into C-000001"));
	snprintf(args, sizeof(args), "%s --dry-run --json", cmd);
	assert_int_equal(admin(args), 0);
	dry_plan = parse_out();
	assert_null(json_object_get(dry_plan, "merge_id"));
	/* Nothing was written. */
	same_as_snapshot();

	snprintf(args, sizeof(args), "%s --json", cmd);
	assert_int_equal(admin(args), 0);
	json_t *plan = parse_out();
	assert_string_equal(
	    json_string_value(json_object_get(plan, "merge_id")), "M-000001");

	/* The dry run showed exactly this: the same changes, the same
	 * card (versions and times apart). */
	assert_true(json_equal(json_object_get(plan, "changes"),
			       json_object_get(dry_plan, "changes")));
	json_t *r1 = json_object_get(plan, "result");
	json_t *r0 = json_object_get(dry_plan, "result");
	strip(r1, 1);
	strip(r0, 1);
	json_object_del(r1, "sections");
	json_object_del(r0, "sections");
	if (!json_equal(r0, r1)) {
		char *x = json_dumps(r0, JSON_SORT_KEYS);
		char *y = json_dumps(r1, JSON_SORT_KEYS);
		print_error("dry: %s\nreal: %s\n", x, y);
		free(x);
		free(y);
		fail_msg("the dry run's card differs from the merged card");
	}
	/* And the text shows one line per change, then the verdict. */
	size_t nl = 0;
	for (const char *p = dry_text; *p; p++)
		nl += *p == '\n';
	assert_int_equal(nl,
			 json_array_size(json_object_get(plan, "changes")) + 1);
	json_decref(plan);
	json_decref(dry_plan);
	dry_plan = NULL;
}

/* How many cards the entries of an audit page in out are about. */
static int audit_cards(void)
{
	char ids[8][33];
	int n = 0;

	for (const char *p = strstr(out, "\"card_id\":\""); p != NULL;
	     p = strstr(p + 1, "\"card_id\":\"")) {
		char id[33];
		int seen = 0;

		assert_int_equal(sscanf(p, "\"card_id\":\"%32[0-9a-f]\"", id),
				 1);
		for (int i = 0; i < n; i++)
			seen |= strcmp(ids[i], id) == 0;
		if (!seen && n < 8)
			snprintf(ids[n++], sizeof(ids[0]), "%s", id);
	}
	return n;
}

static void test_nothing_lost(void **state)
{
	(void)state;
	json_t *s = show("C-000001");
	char *hay = lower_dump(s);

	/* Every value of both cards is on the survivor or in its history. */
	for (int i = 0; i < 2; i++) {
		json_t *before = json_loads(show_before[i], 0, NULL);
		const char *keys[] = {"identity",    "contact",	 "demographics",
				      "preferences", "consents", "custom"};
		for (size_t k = 0; k < 6; k++)
			values_kept(json_object_get(before, keys[k]), keys[k],
				    hay);
		json_decref(before);
	}
	free(hay);

	/* Contact points: 2 + 2 emails, one the same but for case; 1 + 2
	 * phones, one the same number; 1 + 1 addresses. */
	assert_int_equal(array_size(s, "contact", "emails"), 3);
	assert_int_equal(array_size(s, "contact", "phones"), 2);
	assert_int_equal(array_size(s, "contact", "addresses"), 2);
	assert_int_equal(array_size(s, "contact", "preferred_channels"), 2);
	assert_int_equal(array_size(s, "consents", NULL), 3);
	assert_int_equal(json_object_size(json_object_get(s, "preferences")),
			 3);
	assert_int_equal(array_size(s, "custom", NULL), 2);

	/* Single values: never empty over full, other's preferred name,
	 * the survivor's profession; the losers in history. */
	assert_string_equal(str_at(s, "identity", "given_name"), "Jos\xc3\xa9");
	assert_string_equal(str_at(s, "identity", "company"), "Acme");
	assert_string_equal(str_at(s, "identity", "external_id"), "A-1");
	assert_string_equal(str_at(s, "demographics", "birth_date"),
			    "1980-05-01");
	assert_string_equal(str_at(s, "demographics", "gender"), "m");
	assert_string_equal(str_at(s, "demographics", "profession"),
			    "architect");
	assert_string_equal(str_at(s, "preferences", "colour"), "blue");
	assert_true(in_history(s, "given_name", "Jose"));
	assert_true(in_history(s, "profession", "engineer"));
	assert_true(in_history(s, "colour", "red"));
	assert_true(in_history(s, "custom.loyalty", "silver"));
	assert_true(in_history(s, "emails.address", "JOSE@example.es"));
	assert_true(in_history(s, "phones.original", "+34 612 34 56 78"));
	assert_true(in_history(s, "marketing.email",
			       "granted at 2023-01-01T00:00:00Z by form"));
	assert_int_equal(array_size(s, "history", NULL), 7);
	assert_non_null(strstr(out, "merge M-000001 of C-000002"));
	/* The newer consent won: withdrawn. */
	assert_non_null(strstr(out, "\"purpose\":\"marketing\",\"channel\":"
				    "\"email\",\"state\":\"withdrawn\""));
	json_decref(s);

	/* Purchases, interactions and notes add up, every one of them. */
	for (int k = 0; k < 3; k++) {
		char *l = list_all("C-000001", k);
		assert_int_equal(lines(l), lines(lists_before[0][k]) +
					       lines(lists_before[1][k]));
		for (int i = 0; i < 2; i++) {
			char *line = lists_before[i][k];
			for (char *p = line; p && *p;) {
				char *end = strchr(p, '\n');
				size_t len =
				    end ? (size_t)(end - p) : strlen(p);
				char item[4096];
				snprintf(item, sizeof(item), "%.*s", (int)len,
					 p);
				assert_non_null(strstr(l, item));
				p = end ? end + 1 : NULL;
			}
		}
		free(l);
	}

	/* The other card is a pointer: its number, email and phone land on
	 * the survivor. */
	const char *refs[] = {"C-000002", "jose.private@example.org",
			      "+34699123456", "jose@example.es"};
	for (size_t i = 0; i < 4; i++) {
		json_t *c = show(refs[i]);
		assert_string_equal(str_at(c, "identity", "number"),
				    "C-000001");
		/* and the survivor says which card stands for it */
		json_t *merged = json_object_get(c, "merged");
		assert_int_equal(json_array_size(merged), 1);
		assert_string_equal(
		    json_string_value(json_array_get(merged, 0)), "C-000002");
		json_decref(c);
	}
	assert_int_equal(admin("customer show C-000002"), 0);
	assert_non_null(strstr(out, "merged into this card: C-000002"));
	/* Searches know one card. */
	assert_int_equal(admin("search garcia --count"), 0);
	assert_string_equal(out, "1\n");

	/* A merged card cannot be merged again. */
	assert_int_equal(admin("merge C-000002 C-000001"), 1);
	assert_non_null(strstr(out, "survivor: C-000002 was merged into "
				    "C-000001 already"));
	assert_int_equal(admin("merge C-000001 C-000002"), 1);
	assert_non_null(strstr(out, "C-000002 was merged into C-000001"));
	/* The audit has it, and the survivor's history holds the merged
	 * card's own entries (its creation among them), whichever number
	 * names it. */
	assert_int_equal(admin("audit --customer C-000001 --json"), 0);
	assert_non_null(strstr(out, "\"action\":\"merge\""));
	assert_int_equal(audit_cards(), 2);
	assert_int_equal(admin("audit --customer C-000002 --json"), 0);
	assert_int_equal(audit_cards(), 2);
}

static void test_unmerge_restores_both(void **state)
{
	(void)state;

	assert_int_equal(admin("unmerge M-000001"), 0);
	assert_non_null(strstr(out, "unmerged M-000001: C-000001 and "
				    "C-000002"));
	same_as_snapshot();
	assert_int_equal(admin("search garcia --count"), 0);
	assert_string_equal(out, "2\n");
	assert_int_equal(admin("unmerge M-000001"), 1);
	assert_non_null(strstr(out, "merge M-000001 was undone already"));
}

/* A chain: M-000002 merges C-000001 into a third card; undoing it puts
 * C-000001 back as M-000001 left it, so M-000001 can be undone too. */
static void test_unmerge_a_chain_in_reverse(void **state)
{
	(void)state;

	assert_int_equal(admin("merge C-000001 C-000002"), 0);
	assert_non_null(strstr(out, "M-000002"));
	assert_int_equal(admin("customer add --given-name Tercera "
			       "--family-name Persona --force --json"),
			 0);
	const char *n = strstr(out, "\"number\":\"");
	assert_non_null(n);
	char third[16];
	snprintf(third, sizeof(third), "%.8s", n + 10);
	char args[64];
	snprintf(args, sizeof(args), "merge %s C-000001", third);
	assert_int_equal(admin(args), 0);
	assert_non_null(strstr(out, "M-000003"));

	/* The survivor names both cards that lead to it; a merge of the
	 * first card names where it leads now. */
	snprintf(args, sizeof(args), "customer show %s", third);
	assert_int_equal(admin(args), 0);
	assert_non_null(strstr(out, "merged into this card: C-000002, "
				    "C-000001"));
	assert_int_equal(admin("merge C-000002 C-000003"), 1);
	char want[96];
	snprintf(want, sizeof(want),
		 "C-000002 was merged into C-000001 already, which is now "
		 "part of %s",
		 third);
	assert_non_null(strstr(out, want));

	/* The earlier one cannot go first... */
	assert_int_equal(admin("unmerge M-000002"), 1);
	assert_non_null(strstr(out, "changed after the merge"));
	assert_non_null(strstr(out, "undo M-000003 first"));
	/* ...but in reverse order both go, and the cards are as before. */
	assert_int_equal(admin("unmerge M-000003"), 0);
	assert_int_equal(admin("unmerge M-000002"), 0);
	same_as_snapshot();
}

static void test_unmerge_refused_after_edit(void **state)
{
	(void)state;
	json_t *plan;

	assert_int_equal(admin("merge C-000001 C-000002 --json"), 0);
	plan = parse_out();
	assert_string_equal(
	    json_string_value(json_object_get(plan, "merge_id")), "M-000004");
	json_decref(plan);
	plan = show("C-000001");
	long left = (long)json_integer_value(json_object_get(
	    json_object_get(json_object_get(plan, "sections"), "preferences"),
	    "version"));
	json_decref(plan);
	assert_true(left > 1);

	/* A later edit of a section the merge changed. */
	assert_int_equal(admin("pref set C-000001 newsletter weekly"), 0);
	char want[160];
	snprintf(want, sizeof(want),
		 "preferences of C-000001 changed after the merge (version "
		 "%ld, merge left %ld)",
		 left + 1, left);
	assert_int_equal(admin("unmerge M-000004"), 1);
	assert_non_null(strstr(out, want));
	/* Nothing was undone. */
	json_t *c = show("C-000002");
	assert_string_equal(str_at(c, "identity", "number"), "C-000001");
	json_decref(c);
}

/* A confirmation moves no version, but undoing the merge would lose it:
 * refused, saying so. */
static void test_unmerge_refused_after_confirmation(void **state)
{
	char a[16], b[16], args[96];
	(void)state;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(admin("customer add --given-name Vera "
				       "--family-name Confirmada --email "
				       "vera@example.es --force --json"),
				 0);
		const char *n = strstr(out, "\"number\":\"");
		assert_non_null(n);
		snprintf(i == 0 ? a : b, sizeof(a), "%.8s", n + 10);
	}
	snprintf(args, sizeof(args), "merge %s %s", a, b);
	assert_int_equal(admin(args), 0);
	assert_non_null(strstr(out, "M-000005"));
	snprintf(args, sizeof(args),
		 "verify confirm %s --section contact --source visit", b);
	assert_int_equal(admin(args), 0);
	assert_int_equal(admin("unmerge M-000005"), 1);
	char want[96];
	snprintf(want, sizeof(want),
		 "contact of %s was confirmed after the merge", a);
	assert_non_null(strstr(out, want));
	json_t *c = show(b);
	assert_string_equal(str_at(c, "identity", "number"), a);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cards_as_imported),
	    cmocka_unit_test(test_refusals_change_nothing),
	    cmocka_unit_test(test_dry_run_then_merge),
	    cmocka_unit_test(test_nothing_lost),
	    cmocka_unit_test(test_unmerge_restores_both),
	    cmocka_unit_test(test_unmerge_a_chain_in_reverse),
	    cmocka_unit_test(test_unmerge_refused_after_edit),
	    cmocka_unit_test(test_unmerge_refused_after_confirmation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
