/* Verification against a real cartad: cards due for confirmation with the
 * channel each prefers and has consented to, confirmations as each
 * department may make them (and refusals), times relative to a fixed
 * clock (as_of), `carta admin stats` with exact figures, and the JSON
 * shapes. An edit through a channel is checked on a store opened in this
 * process (store_verify_edit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "carta.h"
#include "harness.h"
#include "store_card.h"
#include "store_verify.h"

#define DAY	86400
#define OK	CARTA__V1__STATUS__CODE__OK
#define DENIED	CARTA__V1__STATUS__CODE__PERMISSION_DENIED
#define INVALID CARTA__V1__STATUS__CODE__INVALID_ARGUMENT
#define CONTACT CARTA__V1__SECTION__SECTION_CONTACT

static harness srv;
static char support[PATH_MAX + 32], marketing[PATH_MAX + 32],
    billing[PATH_MAX + 32], outsider[PATH_MAX + 32];
static carta_client *admin, *sol;
/* When C-000002 was confirmed by phone: between these two. */
static int64_t confirmed_from, confirmed_to;

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
	return carta(srv.admin_profile, args, out, sizeof(out));
}

static carta_client *connect_profile(const char *profile)
{
	carta_profile_args pa = {.profile = profile, .server = srv.addr};
	carta_options opts;
	carta_client *c = NULL;
	char err[256];

	if (carta_options_load(&pa, &opts, NULL, 0, NULL, 0, err,
			       sizeof(err)) != 0)
		return NULL;
	int rv = carta_connect(&opts, &c);
	carta_options_wipe(&opts);
	if (rv != 0) {
		carta_close(c);
		return NULL;
	}
	return c;
}

static carta_client *connect_admin(void)
{
	carta_options opts;
	carta_client *c = NULL;

	memset(&opts, 0, sizeof(opts));
	snprintf(opts.server, sizeof(opts.server), "%s", srv.addr);
	memcpy(opts.server_key, srv.server_pub, 32);
	memcpy(opts.secret_key, srv.admin_priv, 32);
	int rv = carta_connect(&opts, &c);
	carta_options_wipe(&opts);
	return rv == 0 ? c : NULL;
}

static Carta__V1__Response *call(carta_client *c, Carta__V1__Request *req)
{
	Carta__V1__Response *resp = NULL;
	uint64_t id = 0;

	assert_int_equal(carta_send(c, req, &id), 0);
	assert_int_equal(carta_recv(c, &resp), 0);
	assert_int_equal(resp->id, id);
	assert_non_null(resp->status);
	return resp;
}

/* One page of cards due, as c, at as_of. */
static Carta__V1__Response *due(carta_client *c, int section, int64_t as_of,
				const char *cursor, uint32_t limit)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__VerifyDueRequest r = CARTA__V1__VERIFY_DUE_REQUEST__INIT;

	r.section = (Carta__V1__Section)section;
	r.as_of = as_of;
	r.cursor = (char *)(cursor ? cursor : "");
	r.limit = limit;
	req.body_case = CARTA__V1__REQUEST__BODY_VERIFY_DUE;
	req.verify_due = &r;
	return call(c, &req);
}

/* The numbers of a page joined with spaces. */
static void numbers_of(const Carta__V1__Response *resp, char *out, size_t cap)
{
	out[0] = '\0';
	assert_int_equal(resp->status->code, OK);
	assert_int_equal(resp->body_case, CARTA__V1__RESPONSE__BODY_VERIFY_DUE);
	for (size_t i = 0; i < resp->verify_due->n_items; i++) {
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s%s", i ? " " : "",
			 resp->verify_due->items[i]->number);
	}
}

static Carta__V1__Card *get_card(carta_client *c, const char *ref,
				 Carta__V1__Response **resp)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__CustomerGetRequest g = CARTA__V1__CUSTOMER_GET_REQUEST__INIT;

	g.ref = (char *)ref;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_GET;
	req.customer_get = &g;
	*resp = call(c, &req);
	assert_int_equal((*resp)->status->code, OK);
	assert_non_null((*resp)->card);
	return (*resp)->card;
}

static const Carta__V1__SectionVersion *section_of(const Carta__V1__Card *c,
						   int section)
{
	for (size_t i = 0; i < c->n_sections; i++)
		if ((int)c->sections[i]->section == section)
			return c->sections[i];
	fail_msg("the card has no section %d", section);
	return NULL;
}

/* The merge and erasure commands are other parts of the work: a merged
 * card, an erased one and two suppressions are planted in the database
 * as those commands leave them. */
static int plant(void)
{
	char path[PATH_MAX + 16];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/carta.db", srv.dir);
	rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 5000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
		    db,
		    "UPDATE cards SET merged_into = (SELECT id FROM cards "
		    "WHERE number = 'C-000001') WHERE number = 'C-000004';"
		    "UPDATE cards SET erased_at = 1700000000 WHERE number = "
		    "'C-000005';"
		    "INSERT INTO suppressions (hash, kind, at) VALUES "
		    "(x'01', 1, 1700000000), (x'02', 2, 1700000000);",
		    NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int setup(void **state)
{
	char out[4096];
	(void)state;

	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	if (carta(srv.admin_profile, "admin department add auditors", out,
		  sizeof(out)) != 0 ||
	    enrol("sol", "support", support, sizeof(support)) != 0 ||
	    enrol("mia", "marketing", marketing, sizeof(marketing)) != 0 ||
	    enrol("bruno", "billing", billing, sizeof(billing)) != 0 ||
	    enrol("otto", "auditors", outsider, sizeof(outsider)) != 0)
		return -1;
	if (add_card("ana",
		     "{\"identity\": {\"given_name\": \"Ana\", "
		     "\"family_name\": \"Ruiz\"}, \"contact\": {\"emails\": "
		     "[{\"address\": \"ana@example.es\"}], \"phones\": "
		     "[{\"number\": \"612 34 56 78\"}], "
		     "\"preferred_channels\": [\"sms\", \"email\"]}}") != 0 ||
	    add_card("bob",
		     "{\"identity\": {\"given_name\": \"Bob\", "
		     "\"family_name\": \"Stone\"}, \"contact\": "
		     "{\"phones\": [{\"number\": \"699 11 22 33\"}], "
		     "\"preferred_channels\": [\"post\", \"phone\"]}}") != 0 ||
	    add_card("acme", "{\"identity\": {\"company\": \"Acme SL\"}}") !=
		0 ||
	    add_card("eva", "{\"identity\": {\"given_name\": \"Eva\"}}") != 0 ||
	    add_card("zoe", "{\"identity\": {\"given_name\": \"Zoe\"}}") != 0)
		return -1;
	/* Ana prefers sms but withdrew it; email is granted. Bob prefers
	 * post, has no address, and granted phone. */
	if (carta(srv.admin_profile,
		  "consent set C-000001 withdrawn --purpose marketing "
		  "--channel sms",
		  out, sizeof(out)) != 0 ||
	    carta(srv.admin_profile,
		  "consent set C-000001 granted --purpose newsletter "
		  "--channel email",
		  out, sizeof(out)) != 0 ||
	    carta(srv.admin_profile,
		  "consent set C-000002 granted --purpose marketing "
		  "--channel phone",
		  out, sizeof(out)) != 0 ||
	    carta(srv.admin_profile,
		  "consent set C-000002 granted --purpose marketing "
		  "--channel post",
		  out, sizeof(out)) != 0 ||
	    carta(srv.admin_profile, "pref set C-000001 colour blue", out,
		  sizeof(out)) != 0)
		return -1;
	if (plant() != 0)
		return -1;
	admin = connect_admin();
	sol = connect_profile(support);
	return admin != NULL && sol != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	size_t n = strlen(srv.dir);
	(void)state;

	carta_close(admin);
	carta_close(sol);
	/* harness_stop removes the parent of srv.dir: only once it is the
	 * data directory of a started server. */
	if (srv.pid <= 0 || n < 5 || strcmp(srv.dir + n - 5, "/data") != 0)
		return -1;
	return harness_stop(&srv) == 0 ? 0 : -1;
}

#define HEADER "NUMBER    NAME       SECTION  VERIFIED  CHANNEL  CONTACT\n"
#define ROW1   "C-000001  Ana Ruiz   contact  never     email    ana@example.es\n"
#define ROW2   "C-000002  Bob Stone  contact  never     phone    +34699112233\n"
#define ROW3   "C-000003  Acme SL    contact  never     -        -\n"

/* Nobody confirmed anything: every live card is due, never confirmed,
 * with the channel it prefers and consented to; merged and erased cards
 * are not. */
static void test_due_never(void **state)
{
	static char out[16384];
	(void)state;

	assert_int_equal(carta(support, "verify due", out, sizeof(out)), 0);
	assert_string_equal(out, HEADER ROW1 ROW2 ROW3);

	assert_int_equal(carta(support, "verify due --json", out, sizeof(out)),
			 0);
	assert_string_equal(
	    out, "{\"number\":\"C-000001\",\"name\":\"Ana Ruiz\","
		 "\"section\":\"contact\",\"verified_at\":null,"
		 "\"channel\":\"email\",\"contact\":\"ana@example.es\"}\n"
		 "{\"number\":\"C-000002\",\"name\":\"Bob Stone\","
		 "\"section\":\"contact\",\"verified_at\":null,"
		 "\"channel\":\"phone\",\"contact\":\"+34699112233\"}\n"
		 "{\"number\":\"C-000003\",\"name\":\"Acme SL\","
		 "\"section\":\"contact\",\"verified_at\":null,"
		 "\"channel\":null,\"contact\":null}\n");
}

/* Pages of one card follow each other with their cursors. */
static void test_due_pages(void **state)
{
	static char out[16384];
	char cursor[64];
	(void)state;

	assert_int_equal(
	    carta(support, "verify due --limit 2", out, sizeof(out)), 0);
	const char *more = strstr(out, "(more: add --cursor ");
	assert_non_null(more);
	assert_int_equal(sscanf(more, "(more: add --cursor %63s", cursor), 1);
	assert_string_equal(cursor, "0:C-000002,");
	assert_string_equal(out, HEADER ROW1 ROW2
			    "(more: add --cursor 0:C-000002, or --all)\n");

	assert_int_equal(carta(support,
			       "verify due --limit 2 --cursor 0:C-000002 "
			       "--json",
			       out, sizeof(out)),
			 0);
	assert_string_equal(out, "{\"number\":\"C-000003\",\"name\":\"Acme "
				 "SL\",\"section\":\"contact\",\"verified_"
				 "at\":null,\"channel\":null,\"contact\":"
				 "null}\n");
}

static void test_confirm_phone(void **state)
{
	static char out[16384];
	Carta__V1__Response *before = NULL, *after = NULL, *r = NULL;
	char nums[256];
	(void)state;

	const Carta__V1__Card *c0 = get_card(sol, "C-000002", &before);
	uint64_t version = section_of(c0, CONTACT)->version;

	confirmed_from = (int64_t)time(NULL);
	assert_int_equal(carta(support,
			       "verify confirm C-000002 --section contact "
			       "--source phone",
			       out, sizeof(out)),
			 0);
	confirmed_to = (int64_t)time(NULL);
	assert_non_null(strstr(out, "C-000002 confirmed by phone\n"));
	assert_non_null(strstr(out, "  contact "));

	/* The section and its contact point are confirmed; no version
	 * moved, so an edit made from what was read before still goes. */
	const Carta__V1__Card *c1 = get_card(sol, "C-000002", &after);
	const Carta__V1__SectionVersion *sv = section_of(c1, CONTACT);
	assert_int_equal(sv->version, version);
	assert_true(sv->verified_at >= confirmed_from &&
		    sv->verified_at <= confirmed_to);
	assert_string_equal(sv->verified_source, "phone");
	assert_int_equal(c1->contact->n_phones, 1);
	assert_int_equal(c1->contact->phones[0]->verified_at, sv->verified_at);
	assert_string_equal(c1->contact->phones[0]->verified_source, "phone");
	assert_int_equal(
	    section_of(c1, CARTA__V1__SECTION__SECTION_IDENTITY)->verified_at,
	    0);
	carta__v1__response__free_unpacked(before, NULL);
	carta__v1__response__free_unpacked(after, NULL);

	/* Ten days on it is not due; a year and a day on it is again,
	 * after the cards never confirmed. */
	r = due(sol, 0, confirmed_to + 10 * DAY, "", 0);
	numbers_of(r, nums, sizeof(nums));
	assert_string_equal(nums, "C-000001 C-000003");
	carta__v1__response__free_unpacked(r, NULL);

	r = due(sol, 0, confirmed_to + 366 * DAY, "", 0);
	numbers_of(r, nums, sizeof(nums));
	assert_string_equal(nums, "C-000001 C-000003 C-000002");
	assert_true(r->verify_due->items[2]->verified_at >= confirmed_from &&
		    r->verify_due->items[2]->verified_at <= confirmed_to);
	assert_string_equal(r->verify_due->next_cursor, "");
	carta__v1__response__free_unpacked(r, NULL);

	/* The confirmation is in the audit log. */
	assert_int_equal(carta(srv.admin_profile,
			       "audit --customer C-000002 --json", out,
			       sizeof(out)),
			 0);
	assert_non_null(strstr(out, "\"action\":\"verify\""));
	assert_non_null(strstr(out, "{\"source\":\"phone\"}"));

	/* The CLI's JSON: how current each section is. */
	assert_int_equal(carta(support,
			       "verify confirm C-000002 --section contact "
			       "--source visit --json",
			       out, sizeof(out)),
			 0);
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "number")),
			    "C-000002");
	json_t *secs = json_object_get(o, "sections");
	assert_int_equal(json_object_size(secs), 5);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(secs, "contact"), "source")),
			    "visit");
	assert_true(json_is_null(
	    json_object_get(json_object_get(secs, "identity"), "verified_at")));
	json_decref(o);
}

static void test_section_filter(void **state)
{
	static char out[16384];
	Carta__V1__Response *r = NULL;
	char nums[256];
	(void)state;

	/* Identity was confirmed nowhere: every card is due for it. */
	assert_int_equal(carta(support, "verify due --section identity --json",
			       out, sizeof(out)),
			 0);
	assert_int_equal((int)(strstr(out, "C-000003") != NULL) +
			     (int)(strstr(out, "C-000002") != NULL) +
			     (int)(strstr(out, "C-000001") != NULL),
			 3);
	assert_null(strstr(out, "\"section\":\"contact\""));
	assert_non_null(strstr(out, "{\"number\":\"C-000001\",\"name\":\"Ana "
				    "Ruiz\",\"section\":\"identity\""));

	/* Contact, a year and a day on: C-000002 last. */
	r = due(sol, CONTACT, (int64_t)time(NULL) + 366 * DAY, "", 0);
	numbers_of(r, nums, sizeof(nums));
	assert_string_equal(nums, "C-000001 C-000003 C-000002");
	carta__v1__response__free_unpacked(r, NULL);

	/* Purchases are records, not facts to confirm. */
	assert_int_equal(
	    carta(support, "verify due --section purchases", out, sizeof(out)),
	    2);
	r = due(sol, CARTA__V1__SECTION__SECTION_PURCHASES, 0, "", 0);
	assert_int_equal(r->status->code, INVALID);
	assert_string_equal(r->status->field, "verify_due.section");
	carta__v1__response__free_unpacked(r, NULL);

	/* A cursor the server did not make. */
	r = due(sol, 0, 0, "nonsense", 0);
	assert_int_equal(r->status->code, INVALID);
	assert_string_equal(r->status->field, "verify_due.cursor");
	carta__v1__response__free_unpacked(r, NULL);
}

/* Without a section a confirmation covers what the caller may write and
 * the card holds: marketing writes preferences and consent. */
static void test_confirm_writable_only(void **state)
{
	static char out[16384];
	Carta__V1__Response *r = NULL;
	(void)state;

	assert_int_equal(carta(marketing,
			       "verify confirm C-000001 --source email", out,
			       sizeof(out)),
			 0);
	const Carta__V1__Card *c = get_card(admin, "C-000001", &r);
	assert_string_equal(
	    section_of(c, CARTA__V1__SECTION__SECTION_PREFERENCES)
		->verified_source,
	    "email");
	assert_string_equal(
	    section_of(c, CARTA__V1__SECTION__SECTION_CONSENT)->verified_source,
	    "email");
	assert_int_equal(section_of(c, CONTACT)->verified_at, 0);
	assert_int_equal(
	    section_of(c, CARTA__V1__SECTION__SECTION_IDENTITY)->verified_at,
	    0);
	assert_int_equal(c->contact->emails[0]->verified_at, 0);
	carta__v1__response__free_unpacked(r, NULL);

	/* Support writes identity, contact and consent; Acme holds only an
	 * identity, so only that is confirmed. */
	assert_int_equal(carta(support, "verify confirm C-000003 --source form",
			       out, sizeof(out)),
			 0);
	c = get_card(admin, "C-000003", &r);
	assert_string_equal(section_of(c, CARTA__V1__SECTION__SECTION_IDENTITY)
				->verified_source,
			    "form");
	assert_int_equal(section_of(c, CONTACT)->verified_at, 0);
	assert_int_equal(
	    section_of(c, CARTA__V1__SECTION__SECTION_CONSENT)->verified_at, 0);
	carta__v1__response__free_unpacked(r, NULL);

	/* Marketing has nothing to confirm on a card without preferences
	 * or consents. */
	assert_int_equal(carta(marketing,
			       "verify confirm C-000003 --source email", out,
			       sizeof(out)),
			 1);
	assert_non_null(strstr(out, "holds nothing to confirm"));
}

static void test_refused(void **state)
{
	static char out[16384];
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__VerifyConfirmRequest vc =
	    CARTA__V1__VERIFY_CONFIRM_REQUEST__INIT;
	Carta__V1__Response *r = NULL;
	(void)state;

	/* Billing reads consent but may not write it. */
	assert_int_equal(carta(billing,
			       "verify confirm C-000001 --section consent "
			       "--source phone",
			       out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "may not write this section"));
	/* Marketing may not confirm contact data. */
	assert_int_equal(carta(marketing,
			       "verify confirm C-000001 --section contact "
			       "--source phone",
			       out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "contact: your department may not write"));
	/* A department writing nothing confirms nothing, and sees no list. */
	assert_int_equal(carta(outsider,
			       "verify confirm C-000001 --source phone", out,
			       sizeof(out)),
			 1);
	assert_non_null(strstr(out, "may write none of the sections"));
	assert_int_equal(carta(outsider, "verify due", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "may not read"));
	/* Statistics are for admins. */
	assert_int_equal(carta(support, "admin stats", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "only admins"));

	/* A source that is none of the four. */
	assert_int_equal(carta(support, "verify confirm C-000001 --source fax",
			       out, sizeof(out)),
			 2);
	vc.ref = "C-000001";
	vc.source = "fax";
	req.body_case = CARTA__V1__REQUEST__BODY_VERIFY_CONFIRM;
	req.verify_confirm = &vc;
	r = call(sol, &req);
	assert_int_equal(r->status->code, INVALID);
	assert_string_equal(r->status->field, "verify_confirm.source");
	carta__v1__response__free_unpacked(r, NULL);

	/* Nothing of the refusals was recorded: C-000001's contact and
	 * identity were never confirmed. */
	const Carta__V1__Card *c = get_card(admin, "C-000001", &r);
	assert_int_equal(section_of(c, CONTACT)->verified_at, 0);
	carta__v1__response__free_unpacked(r, NULL);
}

static void test_stats(void **state)
{
	static char out[16384];
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__StatsRequest sr = CARTA__V1__STATS_REQUEST__INIT;
	Carta__V1__Response *r = NULL;
	(void)state;

	/* Three live cards (one merged and one erased planted); only
	 * C-000002's contact was confirmed. */
	assert_int_equal(
	    carta(srv.admin_profile, "admin stats --json", out, sizeof(out)),
	    0);
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "cards")), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(o, "verified_within")), 1);
	assert_true(json_real_value(json_object_get(o, "verified_share")) ==
		    1.0 / 3.0);
	assert_int_equal(json_integer_value(json_object_get(o, "period")),
			 365 * DAY);
	assert_int_equal(json_integer_value(json_object_get(o, "merged")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "erased")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "suppressions")),
			 2);
	json_decref(o);

	assert_int_equal(carta(srv.admin_profile, "admin stats --older-than 4w",
			       out, sizeof(out)),
			 0);
	assert_string_equal(out, "cards             3\n"
				 "verified within   1 (33.3%) in 4w\n"
				 "merged            1\n"
				 "erased            1\n"
				 "suppressions      2\n");

	/* A year and a day after the confirmation none is recent; a period
	 * of two years covers it again. */
	sr.as_of = confirmed_to + 366 * DAY;
	req.body_case = CARTA__V1__REQUEST__BODY_STATS;
	req.stats = &sr;
	r = call(admin, &req);
	assert_int_equal(r->status->code, OK);
	assert_int_equal(r->stats->cards, 3);
	assert_int_equal(r->stats->verified_within, 0);
	assert_true(r->stats->verified_share == 0.0);
	carta__v1__response__free_unpacked(r, NULL);
	sr.period = 2 * 365 * DAY;
	r = call(admin, &req);
	assert_int_equal(r->stats->verified_within, 1);
	assert_int_equal(r->stats->period, 2 * 365 * DAY);
	carta__v1__response__free_unpacked(r, NULL);
	/* Before the confirmation it had not happened yet. */
	sr.period = 0;
	sr.as_of = confirmed_from - 1;
	r = call(admin, &req);
	assert_int_equal(r->stats->verified_within, 0);
	carta__v1__response__free_unpacked(r, NULL);
}

/* ---- an edit through a channel, on a store in this process ---------- */

/* The edit of the test below: the second email changed, then the first
 * removed. */
static int set_email(void *arg, Carta__V1__Card *card)
{
	Carta__V1__Contact *k = card->contact;
	(void)arg;

	free(k->emails[1]->address);
	k->emails[1]->address = strdup("new@example.es");
	carta__v1__email__free_unpacked(k->emails[0], NULL);
	k->emails[0] = k->emails[1];
	k->n_emails = 1;
	return k->emails[0]->address ? 0 : CARTA_ENOMEM;
}

static int set_label(void *arg, Carta__V1__Card *card)
{
	Carta__V1__Phone *p = card->contact->phones[0];
	(void)arg;

	if (p->label != protobuf_c_empty_string)
		free(p->label);
	p->label = strdup("mobile");
	return p->label ? 0 : CARTA_ENOMEM;
}

static void test_edit_through_channel(void **state)
{
	char dir[] = "/tmp/carta-verify-XXXXXX", path[64];
	store_actor who = {.principal = "sol", .department = "support"};
	Carta__V1__Card card = CARTA__V1__CARD__INIT, *added = NULL,
			*edited = NULL, *again = NULL;
	Carta__V1__Identity id = CARTA__V1__IDENTITY__INIT;
	Carta__V1__Contact contact = CARTA__V1__CONTACT__INIT;
	Carta__V1__Email e0 = CARTA__V1__EMAIL__INIT,
			 e1 = CARTA__V1__EMAIL__INIT;
	Carta__V1__Email *emails[2] = {&e0, &e1};
	Carta__V1__Phone p0 = CARTA__V1__PHONE__INIT, *phones = &p0;
	Carta__V1__FieldSet s0 = CARTA__V1__FIELD_SET__INIT,
			    s1 = CARTA__V1__FIELD_SET__INIT;
	Carta__V1__FieldSet *sets[2] = {&s0, &s1};
	store *st = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/carta.db", dir);
	assert_int_equal(store_open(path, 1, &st), 0);

	id.given_name = "Ana";
	e0.address = "a@example.es";
	e1.address = "b@example.es";
	p0.number = "+34612345678";
	contact.emails = emails;
	contact.n_emails = 2;
	contact.phones = &phones;
	contact.n_phones = 1;
	card.identity = &id;
	card.contact = &contact;
	assert_int_equal(store_card_add(st, &who, NULL, &card, &added), 0);

	/* The clerk, on the phone, changed the second email and removed
	 * the first: the email confirmed is the one left, now first. */
	assert_int_equal(store_card_edit(st, &who, added->id, CONTACT, 0,
					 set_email, NULL, NULL, &edited),
			 0);
	s0.path = "emails.1.address";
	s0.value = "new@example.es";
	s1.path = "emails.0";
	s1.value = "";
	assert_int_equal(
	    store_verify_edit(st, &who, CONTACT, "phone", sets, 2, edited), 0);
	assert_int_equal(edited->contact->n_emails, 1);
	assert_string_equal(edited->contact->emails[0]->verified_source,
			    "phone");
	assert_true(edited->contact->emails[0]->verified_at > 0);
	assert_int_equal(edited->contact->phones[0]->verified_at, 0);

	/* What the answer showed is what was stored; the phone was not
	 * part of the edit. */
	assert_int_equal(store_card_get(st, added->id, &again), 0);
	assert_int_equal(again->contact->emails[0]->verified_at,
			 edited->contact->emails[0]->verified_at);
	assert_int_equal(again->contact->phones[0]->verified_at, 0);
	assert_string_equal(section_of(again, CONTACT)->verified_source,
			    "phone");
	assert_int_equal(section_of(again, CONTACT)->version,
			 section_of(edited, CONTACT)->version);
	carta__v1__card__free_unpacked(again, NULL);

	/* A write that came between: nothing is recorded. */
	assert_int_equal(store_card_edit(st, &who, added->id, CONTACT, 0,
					 set_label, NULL, NULL, &again),
			 0);
	carta__v1__card__free_unpacked(again, NULL);
	s0.path = "phones.0.number";
	s0.value = "+34699112233";
	assert_int_equal(
	    store_verify_edit(st, &who, CONTACT, "email", sets, 1, edited), 0);
	assert_int_equal(store_card_get(st, added->id, &again), 0);
	assert_int_equal(again->contact->phones[0]->verified_at, 0);
	assert_string_equal(section_of(again, CONTACT)->verified_source,
			    "phone");
	carta__v1__card__free_unpacked(again, NULL);

	/* A source that is none of the four. */
	assert_int_equal(
	    store_verify_edit(st, &who, CONTACT, "fax", sets, 1, edited),
	    CARTA_EINVAL);

	carta__v1__card__free_unpacked(added, NULL);
	carta__v1__card__free_unpacked(edited, NULL);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_due_never),
	    cmocka_unit_test(test_due_pages),
	    cmocka_unit_test(test_confirm_phone),
	    cmocka_unit_test(test_section_filter),
	    cmocka_unit_test(test_confirm_writable_only),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_edit_through_channel),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
