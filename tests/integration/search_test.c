/* Search against a real cartad: listing every card, text search without
 * accents or case, phones in any format, the filter language (every example
 * of docs/QUERIES.md, with its expected count), permissions inside the
 * query engine, pagination while cards are added, and segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "carta.h"
#include "harness.h"
#include "noise.h"

enum { SALES, SUPPORT, MARKETING, BILLING, NDEPT };
static const char *const dept_names[NDEPT] = {"sales", "support", "marketing",
					      "billing"};

#define OK	CARTA__V1__STATUS__CODE__OK
#define DENIED	CARTA__V1__STATUS__CODE__PERMISSION_DENIED
#define INVALID CARTA__V1__STATUS__CODE__INVALID_ARGUMENT
#define MISSING CARTA__V1__STATUS__CODE__NOT_FOUND

static harness srv;
static carta_client *admin;
static carta_client *dept[NDEPT];

static carta_client *connect_as(const uint8_t *priv)
{
	carta_options opts;
	carta_client *c = NULL;

	memset(&opts, 0, sizeof(opts));
	snprintf(opts.server, sizeof(opts.server), "%s", srv.addr);
	memcpy(opts.server_key, srv.server_pub, 32);
	memcpy(opts.secret_key, priv, 32);
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

/* A date relative to today (UTC), as the server computes "today". */
static void date_rel(int days, char out[11])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

typedef struct {
	const char *given, *family, *company, *email, *phone, *city;
	const char *birth;
	const char *consent_email; /* "granted", "withdrawn" or NULL */
	int purchase_days;	   /* days ago of a EUR purchase; 0: none */
	int64_t amount;		   /* minor units */
	int64_t refund;		   /* minor units refunded; 0: none */
} person;

/* The fixed data set the examples of docs/QUERIES.md count against. */
static const person people[] = {
    {"José", "García", "", "jose.garcia@example.com", "+34 612 34 56 78",
     "Madrid", "1980-05-01", "granted", 30, 60000, 0},
    {"Ana", "Garciaperez", "Acme", "ana@example.org", "+34 699 000 111",
     "Barcelona", "1995-11-20", "withdrawn", 400, 10000, 5000},
    {"%Stran_ge", "Name", "", NULL, NULL, "Madrid", NULL, NULL, 0, 0, 0},
    {"Strange", "Name", "", "strange@example.net", NULL, "Sevilla", NULL,
     "granted", 200, 2500, 0},
    {"Łukasz", "Øster", "", NULL, "+44 20 7183 8750", "Oslo", "1970-01-31",
     NULL, 0, 0, 0},
    {"Inés", "Muñoz", "Muñoz e Hijos", "ines@example.com", NULL, "", NULL, NULL,
     0, 0, 0},
};
#define NPEOPLE (sizeof(people) / sizeof(people[0]))
static char numbers[NPEOPLE][32];

static void add_person(const person *p, char *number, size_t cap)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__CustomerAddRequest add =
	    CARTA__V1__CUSTOMER_ADD_REQUEST__INIT;
	Carta__V1__Card card = CARTA__V1__CARD__INIT;
	Carta__V1__Identity id = CARTA__V1__IDENTITY__INIT;
	Carta__V1__Contact contact = CARTA__V1__CONTACT__INIT;
	Carta__V1__Demographics dem = CARTA__V1__DEMOGRAPHICS__INIT;
	Carta__V1__Email email = CARTA__V1__EMAIL__INIT, *emails = &email;
	Carta__V1__Phone phone = CARTA__V1__PHONE__INIT, *phones = &phone;
	Carta__V1__Address addr = CARTA__V1__ADDRESS__INIT, *addrs = &addr;
	Carta__V1__Consent k = CARTA__V1__CONSENT__INIT, *ks = &k;

	id.given_name = (char *)p->given;
	id.family_name = (char *)p->family;
	id.company = (char *)p->company;
	card.identity = &id;
	card.contact = &contact;
	if (p->email) {
		email.address = (char *)p->email;
		contact.emails = &emails;
		contact.n_emails = 1;
	}
	if (p->phone) {
		phone.number = (char *)p->phone;
		contact.phones = &phones;
		contact.n_phones = 1;
	}
	if (p->city[0]) {
		addr.city = (char *)p->city;
		contact.addresses = &addrs;
		contact.n_addresses = 1;
	}
	if (p->birth) {
		dem.birth_date = (char *)p->birth;
		card.demographics = &dem;
	}
	if (p->consent_email) {
		k.purpose = "marketing";
		k.channel = "email";
		k.state = strcmp(p->consent_email, "granted") == 0
			      ? CARTA__V1__CONSENT_STATE__CONSENT_GRANTED
			      : CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN;
		k.source = "form";
		card.consents = &ks;
		card.n_consents = 1;
	}
	add.card = &card;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_ADD;
	req.customer_add = &add;
	Carta__V1__Response *r = call(admin, &req);
	if (r->status->code != OK)
		fail_msg("add %s: %s", p->given, r->status->message);
	snprintf(number, cap, "%s", r->card->identity->number);
	carta__v1__response__free_unpacked(r, NULL);

	for (int i = 0; i < 2 && p->purchase_days; i++) {
		Carta__V1__PurchaseAddRequest pa =
		    CARTA__V1__PURCHASE_ADD_REQUEST__INIT;
		Carta__V1__Purchase pu = CARTA__V1__PURCHASE__INIT;
		char date[11];
		if (i == 1 && p->refund == 0)
			break;
		date_rel(-p->purchase_days, date);
		pu.date = date;
		pu.product = "thing";
		pu.amount_minor = i ? p->refund : p->amount;
		pu.currency = "EUR";
		pu.refund = i == 1;
		pa.ref = number;
		pa.purchase = &pu;
		req.body_case = CARTA__V1__REQUEST__BODY_PURCHASE_ADD;
		req.purchase_add = &pa;
		r = call(admin, &req);
		if (r->status->code != OK)
			fail_msg("purchase %s: %s", p->given,
				 r->status->message);
		carta__v1__response__free_unpacked(r, NULL);
	}
}

static int setup(void **state)
{
	uint8_t priv[32], pub[32];
	(void)state;

	if (sodium_init() < 0 || harness_start(&srv, NULL) != 0)
		return -1;
	admin = connect_as(srv.admin_priv);
	if (admin == NULL)
		return -1;
	for (int d = 0; d < NDEPT; d++) {
		char name[32];
		snprintf(name, sizeof(name), "%s-user", dept_names[d]);
		noise_keypair(priv, pub);
		if (carta_admin_enrol(admin, name, dept_names[d], 0, pub,
				      NULL) != 0)
			return -1;
		dept[d] = connect_as(priv);
		if (dept[d] == NULL)
			return -1;
	}
	for (size_t i = 0; i < NPEOPLE; i++)
		add_person(&people[i], numbers[i], sizeof(numbers[i]));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int d = 0; d < NDEPT; d++)
		carta_close(dept[d]);
	carta_close(admin);
	return harness_stop(&srv) == 0 ? 0 : -1;
}

typedef struct {
	const char *text, *where, *segment, *sort, *cursor, *channel;
	unsigned limit;
	bool count_only;
} q;

static Carta__V1__Response *run(carta_client *c, const q *in)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__QueryRequest qr = CARTA__V1__QUERY_REQUEST__INIT;

	qr.text = (char *)(in->text ? in->text : "");
	qr.where = (char *)(in->where ? in->where : "");
	qr.segment = (char *)(in->segment ? in->segment : "");
	qr.sort = (char *)(in->sort ? in->sort : "");
	qr.cursor = (char *)(in->cursor ? in->cursor : "");
	qr.channel = (char *)(in->channel ? in->channel : "");
	qr.limit = in->limit;
	qr.count_only = in->count_only;
	req.body_case = CARTA__V1__REQUEST__BODY_QUERY;
	req.query = &qr;
	return call(c, &req);
}

/* The numbers of the cards a query answers, space-separated. */
static void numbers_of(const Carta__V1__Response *r, char *out, size_t cap)
{
	out[0] = '\0';
	assert_int_equal(r->body_case, CARTA__V1__RESPONSE__BODY_CARDS);
	for (size_t i = 0; i < r->cards->n_cards; i++) {
		size_t l = strlen(out);
		snprintf(out + l, cap - l, "%s%s", i ? " " : "",
			 r->cards->cards[i]->identity->number);
	}
}

/* Runs a query and expects these card indexes (into people), in order. */
static void expect(carta_client *c, const q *in, const int *idx, size_t n)
{
	char want[512] = "", got[512];

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(want);
		snprintf(want + l, sizeof(want) - l, "%s%s", i ? " " : "",
			 numbers[idx[i]]);
	}
	Carta__V1__Response *r = run(c, in);
	if (r->status->code != OK)
		fail_msg("query text=%s where=%s: %s", in->text, in->where,
			 r->status->message);
	numbers_of(r, got, sizeof(got));
	if (strcmp(want, got) != 0)
		fail_msg("query text=%s where=%s: want [%s] got [%s]",
			 in->text ? in->text : "", in->where ? in->where : "",
			 want, got);
	carta__v1__response__free_unpacked(r, NULL);
}

#define EXPECT(c, query, ...)                                                  \
	do {                                                                   \
		const int idx_[] = {__VA_ARGS__};                              \
		expect(c, query, idx_, sizeof(idx_) / sizeof(idx_[0]));        \
	} while (0)

static void expect_none(carta_client *c, const q *in)
{
	Carta__V1__Response *r = run(c, in);
	assert_int_equal(r->status->code, OK);
	assert_int_equal(r->cards->n_cards, 0);
	assert_string_equal(r->cards->next_cursor, "");
	carta__v1__response__free_unpacked(r, NULL);
}

static void expect_status(carta_client *c, const q *in, int code,
			  const char *field)
{
	Carta__V1__Response *r = run(c, in);
	if ((int)r->status->code != code)
		fail_msg("where=%s text=%s sort=%s: want code %d got %d (%s)",
			 in->where ? in->where : "", in->text ? in->text : "",
			 in->sort ? in->sort : "", code, r->status->code,
			 r->status->message);
	assert_string_equal(r->status->field, field);
	carta__v1__response__free_unpacked(r, NULL);
}

/* ---- tests ---- */

static void test_list_all_by_number(void **state)
{
	(void)state;
	for (int d = 0; d < NDEPT; d++)
		EXPECT(dept[d], (&(q){0}), 0, 1, 2, 3, 4, 5);
	Carta__V1__Response *r = run(admin, &(q){.count_only = true});
	assert_int_equal(r->cards->count, NPEOPLE);
	assert_int_equal(r->cards->n_cards, 0);
	carta__v1__response__free_unpacked(r, NULL);
}

static void test_text_ignores_case_and_accents(void **state)
{
	(void)state;
	EXPECT(dept[SUPPORT], (&(q){.text = "jose"}), 0);
	EXPECT(dept[SUPPORT], (&(q){.text = "JOSÉ"}), 0);
	/* NFD spelling of José. */
	EXPECT(dept[SUPPORT], (&(q){.text = "Jose\xcc\x81"}), 0);
	EXPECT(dept[SUPPORT], (&(q){.text = "munoz"}), 5);
	EXPECT(dept[SUPPORT], (&(q){.text = "oster"}), 4);
	EXPECT(dept[SUPPORT], (&(q){.text = "lukasz"}), 4);
	EXPECT(dept[SUPPORT], (&(q){.text = "jose garcia"}), 0);
	EXPECT(dept[SUPPORT], (&(q){.text = "garcia jose"}), 0);
	/* Prefixes, ranked: a whole name word before a prefix only. */
	EXPECT(dept[SUPPORT], (&(q){.text = "garc"}), 0, 1);
	EXPECT(dept[SUPPORT], (&(q){.text = "garciaperez"}), 1);
	EXPECT(dept[SUPPORT], (&(q){.text = "garcia"}), 0, 1);
	/* Email fragments and cities. */
	EXPECT(dept[SUPPORT], (&(q){.text = "example.com"}), 0, 5);
	EXPECT(dept[SUPPORT], (&(q){.text = "jose.garcia@"}), 0);
	EXPECT(dept[SUPPORT], (&(q){.text = "sevilla"}), 3);
	EXPECT(dept[SUPPORT], (&(q){.text = "madr"}), 0, 2);
}

static void test_text_phones_any_format(void **state)
{
	(void)state;
	const char *forms[] = {"+34 612 34 56 78", "612345678",
			       "0034-612-345-678", "(+34) 612.345.678",
			       "34612345678",
			       /* full-width digits and a full-width plus */
			       "\xef\xbc\x8b\xef\xbc\x93\xef\xbc\x94 "
			       "\xef\xbc\x96\xef\xbc\x91\xef\xbc\x92"
			       "\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95"
			       "\xef\xbc\x96\xef\xbc\x97\xef\xbc\x98"};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		EXPECT(dept[SUPPORT], (&(q){.text = forms[i]}), 0);
	EXPECT(dept[SUPPORT], (&(q){.text = "020 7183 8750"}), 4);
	EXPECT(dept[SUPPORT], (&(q){.where = "phone = '612 345 678'"}), 0);
	EXPECT(dept[SUPPORT],
	       (&(q){.where = "phone = '\xef\xbc\x96\xef\xbc\x91\xef\xbc\x92"
			      "345678'"}),
	       0);
	EXPECT(dept[SUPPORT], (&(q){.where = "phone starts-with '+44'"}), 4);
	expect_none(dept[SUPPORT], &(q){.text = "612345679"});
}

static void test_hostile_text_is_literal(void **state)
{
	(void)state;
	EXPECT(dept[SUPPORT], (&(q){.text = "%Stran_ge Name"}), 2);
	EXPECT(dept[SUPPORT], (&(q){.text = "strange name"}), 3);
	const char *junk[] = {"%",	 "_",	     "*",      "\"",
			      "NEAR",	 "OR",	     "a OR b", "NEAR(a b)",
			      "'; DROP", "\"jose\"", "^jose",  "jose*"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		Carta__V1__Response *r =
		    run(dept[SUPPORT], &(q){.text = junk[i]});
		if (r->status->code != OK)
			fail_msg("text %s: %s", junk[i], r->status->message);
		carta__v1__response__free_unpacked(r, NULL);
	}
	expect_none(dept[SUPPORT], &(q){.text = "%"});
	EXPECT(dept[SUPPORT], (&(q){.text = "\"jose\""}), 0);
	EXPECT(dept[SUPPORT], (&(q){.where = "given_name = '%Stran_ge'"}), 2);
	EXPECT(dept[SUPPORT], (&(q){.where = "given_name contains '_'"}), 2);
	EXPECT(dept[SUPPORT], (&(q){.where = "given_name starts-with '%'"}), 2);
	expect_none(dept[SUPPORT], &(q){.where = "given_name = '%'"});
	expect_none(dept[SUPPORT],
		    &(q){.where = "family_name = 'x'' OR 1=1 --'"});
}

static void test_errors(void **state)
{
	char big[5000];
	(void)state;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_status(dept[SALES], &(q){.where = big}, INVALID, "query.where");
	expect_status(dept[SALES], &(q){.text = big}, INVALID, "query.text");
	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "(");
	strcat(deep, "city = x");
	for (int i = 0; i < 40; i++)
		strcat(deep, ")");
	expect_status(dept[SALES], &(q){.where = deep}, INVALID, "query.where");
	const char *bad[] = {"city",
			     "city =",
			     "= x",
			     "nosuch = 1",
			     "city = 'x",
			     "(city = x",
			     "city = x)",
			     "city ! x",
			     "city = x and",
			     "birth_date < someday",
			     "purchase_count > many",
			     "consent.email = maybe",
			     "total_spent.ZZZ > 1",
			     "city is full"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_status(dept[SALES], &(q){.where = bad[i]}, INVALID,
			      "query.where");
	expect_status(dept[SALES], &(q){.sort = "nosuch"}, INVALID,
		      "query.sort");
	expect_status(dept[SALES], &(q){.sort = "relevance"}, INVALID,
		      "query.sort");
	expect_status(dept[SALES], &(q){.cursor = "garbage"}, INVALID,
		      "query.cursor");
	expect_status(dept[SALES], &(q){.cursor = "i1.0123"}, INVALID,
		      "query.cursor");

	/* A cursor is sealed for the department it was given to: another
	 * department's, or one altered, is refused. */
	Carta__V1__Response *r =
	    run(dept[SALES], &(q){.where = "city = madrid", .limit = 1});
	assert_int_equal(r->status->code, OK);
	char cursor[512];
	snprintf(cursor, sizeof(cursor), "%s", r->cards->next_cursor);
	carta__v1__response__free_unpacked(r, NULL);
	assert_true(cursor[0] != '\0');
	r = run(dept[SALES],
		&(q){.where = "city = madrid", .limit = 1, .cursor = cursor});
	assert_int_equal(r->status->code, OK);
	carta__v1__response__free_unpacked(r, NULL);
	expect_status(
	    dept[MARKETING],
	    &(q){.where = "city = madrid", .limit = 1, .cursor = cursor},
	    INVALID, "query.cursor");
	cursor[1] = cursor[1] == '0' ? '1' : '0';
	expect_status(
	    dept[SALES],
	    &(q){.where = "city = madrid", .limit = 1, .cursor = cursor},
	    INVALID, "query.cursor");
	expect_status(dept[SALES], &(q){.channel = "fax"}, INVALID,
		      "query.channel");
	expect_status(dept[SALES], &(q){.segment = "nosuch"}, MISSING,
		      "query.segment");
}

static void test_permissions(void **state)
{
	(void)state;
	/* Marketing reads no purchases: filter, sort and count refused. */
	expect_status(dept[MARKETING], &(q){.where = "total_spent.EUR > 100"},
		      DENIED, "total_spent.EUR");
	expect_status(
	    dept[MARKETING],
	    &(q){.where = "total_spent.EUR > 100", .count_only = true}, DENIED,
	    "total_spent.EUR");
	expect_status(dept[MARKETING], &(q){.sort = "-last_purchase"}, DENIED,
		      "last_purchase");
	expect_status(dept[MARKETING],
		      &(q){.where = "city = madrid or purchase_count > 0"},
		      DENIED, "purchase_count");
	/* Billing reads no demographics. */
	expect_status(dept[BILLING], &(q){.where = "birth_date < 1990-01-01"},
		      DENIED, "birth_date");
	expect_status(dept[BILLING], &(q){.sort = "gender"}, DENIED, "gender");
	/* What they may read works, and the answer carries only readable
	 * sections. */
	EXPECT(dept[MARKETING], (&(q){.where = "consent.email = granted"}), 0,
	       3);
	EXPECT(dept[BILLING], (&(q){.where = "total_spent.EUR >= 600"}), 0);
	Carta__V1__Response *r =
	    run(dept[BILLING], &(q){.where = "total_spent.EUR >= 600"});
	assert_null(r->cards->cards[0]->demographics);
	assert_int_equal(r->cards->cards[0]->n_notes, 0);
	carta__v1__response__free_unpacked(r, NULL);
	r = run(dept[MARKETING], &(q){.text = "jose"});
	assert_int_equal(r->cards->n_cards, 1);
	assert_int_equal(r->cards->cards[0]->n_purchases, 0);
	assert_true(r->cards->cards[0]->n_withheld > 0);
	carta__v1__response__free_unpacked(r, NULL);
}

static void test_channel_consent(void **state)
{
	(void)state;
	Carta__V1__Response *r =
	    run(dept[MARKETING],
		&(q){.where = "city = madrid", .channel = "email"});
	char got[256];
	numbers_of(r, got, sizeof(got));
	assert_string_equal(got, numbers[0]);
	assert_int_equal(r->cards->left_out, 1);
	carta__v1__response__free_unpacked(r, NULL);
	/* Billing may read consent; a department that may not is refused. */
	expect_status(dept[SALES], &(q){.channel = "post"}, OK, "");

	/* One purpose: the fixture's grants are for marketing. */
	EXPECT(dept[MARKETING], (&(q){.channel = "marketing.email"}), 0, 3);
	expect_none(dept[MARKETING], &(q){.channel = "newsletter.email"});
	expect_status(dept[MARKETING], &(q){.channel = "marketing.fax"},
		      INVALID, "query.channel");
	/* Consent without an address on the channel does not reach: no
	 * phone consents in the fixture, and post needs an address. */
	expect_none(dept[MARKETING], &(q){.channel = "sms"});
}

static void test_pagination_stable_while_adding(void **state)
{
	char cursor[512] = "", seen[64][32];
	size_t nseen = 0;
	(void)state;

	for (int page = 0; page < 20; page++) {
		Carta__V1__Response *r =
		    run(dept[SALES], &(q){.sort = "family_name,given_name",
					  .limit = 2,
					  .cursor = cursor});
		assert_int_equal(r->status->code, OK);
		for (size_t i = 0; i < r->cards->n_cards; i++) {
			const char *n = r->cards->cards[i]->identity->number;
			for (size_t j = 0; j < nseen; j++)
				assert_string_not_equal(seen[j], n);
			snprintf(seen[nseen++], 32, "%s", n);
		}
		snprintf(cursor, sizeof(cursor), "%s", r->cards->next_cursor);
		carta__v1__response__free_unpacked(r, NULL);
		/* A card added between pages, sorting before and after. */
		if (page == 0) {
			char num[32];
			person p = {"Zoe", "Aaron", "", NULL, NULL, "",
				    NULL,  NULL,    0,	0,    0};
			add_person(&p, num, sizeof(num));
			p.family = "Zzz";
			add_person(&p, num, sizeof(num));
		}
		if (cursor[0] == '\0')
			break;
	}
	/* Every original card once; the one sorting after the cursor
	 * too. */
	assert_int_equal(nseen, NPEOPLE + 1);
}

/* An ordering comparison on money never matches a card with no purchase
 * in that currency: "spent less than 100" is not "never bought". */
static void test_money_comparisons_leave_out_empty(void **state)
{
	(void)state;
	EXPECT(dept[SALES], (&(q){.where = "total_spent.EUR < 100"}), 1, 3);
	EXPECT(dept[SALES], (&(q){.where = "total_spent.EUR >= 0"}), 0, 1, 3);
	EXPECT(dept[SALES], (&(q){.where = "total_spent.EUR is empty"}), 2, 4,
	       5);
	EXPECT(dept[SALES], (&(q){.where = "total_spent.EUR != 600"}), 1, 2, 3,
	       4, 5);
}

static void test_segments(void **state)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Segment seg = CARTA__V1__SEGMENT__INIT;
	Carta__V1__SegmentRef ref = CARTA__V1__SEGMENT_REF__INIT;
	Carta__V1__Empty empty = CARTA__V1__EMPTY__INIT;
	Carta__V1__Response *r;
	(void)state;

	seg.name = "madrid-email";
	seg.where = "city = madrid and consent.email = granted";
	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_SAVE;
	req.segment_save = &seg;
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, OK);
	assert_string_equal(r->segment->department, "marketing");
	assert_string_equal(r->segment->created_by, "marketing-user");
	carta__v1__response__free_unpacked(r, NULL);
	EXPECT(dept[MARKETING], (&(q){.segment = "madrid-email"}), 0);
	EXPECT(dept[MARKETING],
	       (&(q){.segment = "madrid-email", .text = "jose"}), 0);

	/* Saving again replaces. */
	seg.where = "city = madrid";
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, OK);
	carta__v1__response__free_unpacked(r, NULL);
	EXPECT(dept[MARKETING], (&(q){.segment = "madrid-email"}), 0, 2);

	/* The request's own filter stands alone: it cannot reach outside
	 * the segment's. */
	expect_status(
	    dept[MARKETING],
	    &(q){.segment = "madrid-email", .where = "city = x) or (city != x"},
	    INVALID, "query.where");
	EXPECT(dept[MARKETING],
	       (&(q){.segment = "madrid-email", .where = "city != sevilla"}), 0,
	       2);

	/* Another department does not see it. */
	expect_status(dept[SALES], &(q){.segment = "madrid-email"}, MISSING,
		      "query.segment");

	/* A filter the saver cannot read is not saved. */
	seg.name = "big-spenders";
	seg.where = "total_spent.EUR > 100";
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, DENIED);
	assert_string_equal(r->status->field, "total_spent.EUR");
	carta__v1__response__free_unpacked(r, NULL);
	seg.name = "Bad Name";
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, INVALID);
	assert_string_equal(r->status->field, "segment_save.name");
	carta__v1__response__free_unpacked(r, NULL);
	seg.name = "broken";
	seg.where = "city =";
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, INVALID);
	assert_string_equal(r->status->field, "segment_save.where");
	carta__v1__response__free_unpacked(r, NULL);

	/* Sales saves a purchase segment; the list shows each its own. */
	seg.name = "big-spenders";
	seg.where = "total_spent.EUR > 100";
	r = call(dept[SALES], &req);
	assert_int_equal(r->status->code, OK);
	carta__v1__response__free_unpacked(r, NULL);
	EXPECT(dept[SALES], (&(q){.segment = "big-spenders"}), 0);

	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_LIST;
	req.segment_list = &empty;
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, OK);
	assert_int_equal(r->segments->n_segments, 1);
	assert_string_equal(r->segments->segments[0]->name, "madrid-email");
	assert_string_equal(r->segments->segments[0]->where, "city = madrid");
	carta__v1__response__free_unpacked(r, NULL);

	ref.name = "madrid-email";
	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_SHOW;
	req.segment_show = &ref;
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, OK);
	assert_string_equal(r->segment->where, "city = madrid");
	carta__v1__response__free_unpacked(r, NULL);

	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_DELETE;
	req.segment_delete = &ref;
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, OK);
	carta__v1__response__free_unpacked(r, NULL);
	r = call(dept[MARKETING], &req);
	assert_int_equal(r->status->code, MISSING);
	carta__v1__response__free_unpacked(r, NULL);
}

/* Every example of docs/QUERIES.md between the example markers: lines
 * "where: EXPR => N" or "text: TEXT => N", run as sales on the data set
 * above (before the pagination test adds cards). */
static void test_docs_examples(void **state)
{
	char path[4096], line[1024];
	int run_n = 0;
	bool in = false;
	(void)state;

	snprintf(path, sizeof(path), "%s/docs/QUERIES.md", CARTA_SOURCE_DIR);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "<!-- examples begin -->"))
			in = true;
		else if (strstr(line, "<!-- examples end -->"))
			in = false;
		char *arrow = strstr(line, " => ");
		if (!in || arrow == NULL)
			continue;
		bool is_text = strncmp(line, "text: ", 6) == 0;
		if (!is_text && strncmp(line, "where: ", 7) != 0)
			continue;
		*arrow = '\0';
		long want = strtol(arrow + 4, NULL, 10);
		const char *expr = line + (is_text ? 6 : 7);
		q query = {.count_only = true};
		if (is_text)
			query.text = expr;
		else
			query.where = expr;
		Carta__V1__Response *r = run(dept[SALES], &query);
		if (r->status->code != OK)
			fail_msg("docs example '%s': %s", expr,
				 r->status->message);
		if ((long)r->cards->count != want)
			fail_msg("docs example '%s': want %ld got %llu", expr,
				 want, (unsigned long long)r->cards->count);
		carta__v1__response__free_unpacked(r, NULL);
		run_n++;
	}
	fclose(f);
	assert_true(run_n >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_all_by_number),
	    cmocka_unit_test(test_docs_examples),
	    cmocka_unit_test(test_text_ignores_case_and_accents),
	    cmocka_unit_test(test_text_phones_any_format),
	    cmocka_unit_test(test_hostile_text_is_literal),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_permissions),
	    cmocka_unit_test(test_channel_consent),
	    cmocka_unit_test(test_money_comparisons_leave_out_empty),
	    cmocka_unit_test(test_segments),
	    cmocka_unit_test(test_pagination_stable_while_adding),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
