/* The CLI's card conversions without a server: a full card to JSON and
 * back, the JSON form of each section, the errors for bad JSON (with the
 * line and column, or the path of the bad value), amounts in minor units
 * per currency, and TIME arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "card_enum.h"
#include "card_json.h"
#include "cli.h"
#include "money.h"

/* 2026-12-01T10:00:00Z */
#define T0 INT64_C(1796119200)

static char err[CLI_ERR_MAX];

/* Packs m into a malloc'd buffer, for comparing two messages. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len + 1);
	assert_non_null(buf);
	protobuf_c_message_pack(m, buf);
	return buf;
}

static void assert_same_msg(const ProtobufCMessage *a,
			    const ProtobufCMessage *b)
{
	size_t la, lb;
	uint8_t *pa = pack(a, &la), *pb = pack(b, &lb);

	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

/* A card with every field of every section set. */
struct full_card {
	Carta__V1__Card card;
	Carta__V1__Identity identity;
	Carta__V1__Contact contact;
	Carta__V1__Email email[2], *emails[2];
	Carta__V1__Phone phone, *phones[1];
	Carta__V1__Address address, *addresses[1];
	char *channels[2];
	Carta__V1__Demographics demo;
	Carta__V1__Purchase purchase[2], *purchases[2];
	Carta__V1__Preference pref[2], *prefs[2];
	Carta__V1__Interaction interaction, *interactions[1];
	Carta__V1__Note note, *notes[1];
	Carta__V1__Consent consent[2], *consents[2];
	Carta__V1__CustomValue custom, *customs[1];
	Carta__V1__SectionVersion sv[2], *svs[2];
};

static void full_card_init(struct full_card *f)
{
	Carta__V1__Card *c = &f->card;

	memset(f, 0, sizeof *f);
	carta__v1__card__init(c);
	c->id = "0123456789abcdef0123456789abcdef";
	c->version = 7;
	c->created_at = T0;
	c->updated_at = T0 + 60;

	carta__v1__identity__init(&f->identity);
	f->identity.number = "C-000001";
	f->identity.given_name = "Mar\xc3\xad"
				 "a";
	f->identity.family_name = "Garc\xc3\xad"
				  "a L\xc3\xb3pez";
	f->identity.company = "Acme";
	f->identity.status = "active";
	f->identity.home_branch = "MAD";
	c->identity = &f->identity;

	carta__v1__contact__init(&f->contact);
	for (int i = 0; i < 2; i++) {
		carta__v1__email__init(&f->email[i]);
		f->emails[i] = &f->email[i];
	}
	f->email[0].address = "maria@example.com";
	f->email[0].label = "work";
	f->email[0].primary = 1;
	f->email[0].verified_at = T0 - 86400;
	f->email[1].address = "m@example.org";
	carta__v1__phone__init(&f->phone);
	f->phone.number = "+34600111222";
	f->phone.original = "600 111 222";
	f->phone.label = "mobile";
	f->phone.primary = 1;
	f->phone.verified_at = T0;
	f->phones[0] = &f->phone;
	carta__v1__address__init(&f->address);
	f->address.street = "Calle Mayor 1";
	f->address.city = "Madrid";
	f->address.postal_code = "08001";
	f->address.region = "Madrid";
	f->address.country = "ES";
	f->address.label = "home";
	f->address.primary = 1;
	f->address.verified_at = T0;
	f->addresses[0] = &f->address;
	f->channels[0] = "email";
	f->channels[1] = "sms";
	f->contact.n_emails = 2;
	f->contact.emails = f->emails;
	f->contact.n_phones = 1;
	f->contact.phones = f->phones;
	f->contact.n_addresses = 1;
	f->contact.addresses = f->addresses;
	f->contact.n_preferred_channels = 2;
	f->contact.preferred_channels = f->channels;
	c->contact = &f->contact;

	carta__v1__demographics__init(&f->demo);
	f->demo.birth_date = "1980-05-01";
	f->demo.gender = "f";
	f->demo.profession = "architect";
	f->demo.language = "es";
	c->demographics = &f->demo;

	for (int i = 0; i < 2; i++) {
		carta__v1__purchase__init(&f->purchase[i]);
		f->purchases[i] = &f->purchase[i];
	}
	f->purchase[0].id = "p1";
	f->purchase[0].date = "2026-11-30";
	f->purchase[0].product = "Shoes";
	f->purchase[0].quantity = 2;
	f->purchase[0].amount_minor = 4990;
	f->purchase[0].currency = "EUR";
	f->purchase[0].channel = "shop";
	f->purchase[0].remarks = "gift";
	f->purchase[0].created_at = T0;
	f->purchase[0].created_by = "ana";
	f->purchase[1].product = "Tea";
	f->purchase[1].amount_minor = 1500;
	f->purchase[1].currency = "JPY";
	c->n_purchases = 2;
	c->purchases = f->purchases;

	for (int i = 0; i < 2; i++) {
		carta__v1__preference__init(&f->pref[i]);
		f->prefs[i] = &f->pref[i];
	}
	f->pref[0].key = "colour";
	f->pref[0].value = "blue";
	f->pref[1].key = "typography";
	f->pref[1].value = "serif";
	c->n_preferences = 2;
	c->preferences = f->prefs;

	carta__v1__interaction__init(&f->interaction);
	f->interaction.id = "i1";
	f->interaction.at = T0;
	f->interaction.channel = "phone";
	f->interaction.department = "support";
	f->interaction.author = "ana";
	f->interaction.summary = "asked about the order";
	f->interaction.outcome = "resolved";
	f->interaction.satisfaction = 4;
	f->interactions[0] = &f->interaction;
	c->n_interactions = 1;
	c->interactions = f->interactions;

	carta__v1__note__init(&f->note);
	f->note.id = "n1";
	f->note.at = T0;
	f->note.author = "bob";
	f->note.text = "prefers mornings\nand tea";
	f->notes[0] = &f->note;
	c->n_notes = 1;
	c->notes = f->notes;

	for (int i = 0; i < 2; i++) {
		carta__v1__consent__init(&f->consent[i]);
		f->consents[i] = &f->consent[i];
	}
	f->consent[0].purpose = "marketing";
	f->consent[0].channel = "email";
	f->consent[0].state = CARTA__V1__CONSENT_STATE__CONSENT_GRANTED;
	f->consent[0].at = T0;
	f->consent[0].source = "form";
	f->consent[1].purpose = "profiling";
	f->consent[1].channel = "phone";
	f->consent[1].state = CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN;
	c->n_consents = 2;
	c->consents = f->consents;

	carta__v1__custom_value__init(&f->custom);
	f->custom.field = "loyalty_tier";
	f->custom.value = "gold";
	f->custom.section = CARTA__V1__SECTION__SECTION_PREFERENCES;
	f->customs[0] = &f->custom;
	c->n_custom = 1;
	c->custom = f->customs;

	for (int i = 0; i < 2; i++) {
		carta__v1__section_version__init(&f->sv[i]);
		f->svs[i] = &f->sv[i];
	}
	f->sv[0].section = CARTA__V1__SECTION__SECTION_IDENTITY;
	f->sv[0].version = 3;
	f->sv[0].updated_at = T0;
	f->sv[1].section = CARTA__V1__SECTION__SECTION_CONTACT;
	f->sv[1].version = 4;
	c->n_sections = 2;
	c->sections = f->svs;
}

static json_t *path(json_t *v, const char *p)
{
	char key[64];

	while (v != NULL && *p != '\0') {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof key, "%.*s", (int)n, p);
		if (json_is_array(v))
			v = json_array_get(v, (size_t)atoi(key));
		else
			v = json_object_get(v, key);
		p += n + (p[n] == '.');
	}
	return v;
}

static void assert_json_str(json_t *root, const char *p, const char *want)
{
	json_t *v = path(root, p);

	if (v == NULL || !json_is_string(v))
		fail_msg("%s: not a string", p);
	assert_string_equal(json_string_value(v), want);
}

static void test_full_card_round_trip(void **state)
{
	struct full_card f;
	Carta__V1__Card *back = NULL;
	char *text;

	(void)state;
	full_card_init(&f);
	json_t *j = card_json_from_card(&f.card);
	assert_non_null(j);

	/* The JSON form of each section. */
	assert_json_str(j, "identity.number", "C-000001");
	assert_json_str(j, "identity.given_name",
			"Mar\xc3\xad"
			"a");
	assert_json_str(j, "created_at", "2026-12-01T10:00:00Z");
	assert_int_equal(json_integer_value(path(j, "version")), 7);
	assert_json_str(j, "contact.emails.0.address", "maria@example.com");
	assert_true(json_is_true(path(j, "contact.emails.0.primary")));
	assert_json_str(j, "contact.emails.0.verified_at",
			"2026-11-30T10:00:00Z");
	/* Empty and false values are left out. */
	assert_null(path(j, "contact.emails.1.primary"));
	assert_null(path(j, "contact.emails.1.label"));
	assert_json_str(j, "contact.addresses.0.postal_code", "08001");
	assert_json_str(j, "contact.preferred_channels.1", "sms");
	assert_json_str(j, "purchases.0.amount", "49.90");
	assert_int_equal(
	    json_integer_value(path(j, "purchases.0.amount_minor")), 4990);
	assert_json_str(j, "purchases.1.amount", "1500");
	assert_json_str(j, "preferences.colour", "blue");
	assert_int_equal(
	    json_integer_value(path(j, "interactions.0.satisfaction")), 4);
	assert_json_str(j, "consents.0.state", "granted");
	assert_json_str(j, "consents.1.state", "withdrawn");
	assert_json_str(j, "custom.0.section", "preferences");
	assert_int_equal(
	    json_integer_value(path(j, "sections.contact.version")), 4);
	assert_true(json_is_array(path(j, "withheld")));

	/* Through text and back: the same card, byte for byte. */
	text = json_dumps(j, JSON_INDENT(2));
	assert_non_null(text);
	assert_int_equal(
	    card_json_parse(text, strlen(text), &back, err, sizeof err), 0);
	assert_same_msg(&f.card.base, &back->base);

	/* And the JSON of the copy is the same JSON. */
	json_t *j2 = card_json_from_card(back);
	assert_true(json_equal(j, j2));

	free(text);
	json_decref(j);
	json_decref(j2);
	carta__v1__card__free_unpacked(back, NULL);
}

static void test_withheld_lists_are_left_out(void **state)
{
	struct full_card f;
	Carta__V1__Section withheld[] = {CARTA__V1__SECTION__SECTION_PURCHASES,
					 CARTA__V1__SECTION__SECTION_NOTES};

	(void)state;
	full_card_init(&f);
	f.card.n_purchases = 0;
	f.card.n_notes = 0;
	f.card.n_withheld = 2;
	f.card.withheld = withheld;
	json_t *j = card_json_from_card(&f.card);

	assert_null(json_object_get(j, "purchases"));
	assert_null(json_object_get(j, "notes"));
	assert_non_null(json_object_get(j, "interactions"));
	assert_json_str(j, "withheld.0", "purchases");
	assert_json_str(j, "withheld.1", "notes");
	json_decref(j);
}

static void test_minimal_card_sets_only_given_sections(void **state)
{
	const char *text = "{\"contact\": {\"emails\": [{\"address\": "
			   "\"a@b.es\", \"primary\": true}]},\n"
			   " \"preferences\": {\"colour\": \"red\"},\n"
			   " \"purchases\": [{\"product\": \"Tea\", "
			   "\"amount\": \"0.125\", \"currency\": \"KWD\"}],\n"
			   " \"interactions\": [{\"at\": \"2026-12-01\", "
			   "\"channel\": \"phone\"}]}";
	Carta__V1__Card *c = NULL;

	(void)state;
	assert_int_equal(
	    card_json_parse(text, strlen(text), &c, err, sizeof err), 0);
	assert_null(c->identity);
	assert_null(c->demographics);
	assert_non_null(c->contact);
	assert_int_equal(c->contact->n_emails, 1);
	assert_string_equal(c->contact->emails[0]->address, "a@b.es");
	assert_true(c->contact->emails[0]->primary);
	assert_int_equal(c->contact->n_phones, 0);
	assert_int_equal(c->n_preferences, 1);
	assert_string_equal(c->preferences[0]->key, "colour");
	assert_string_equal(c->preferences[0]->value, "red");
	assert_int_equal(c->purchases[0]->amount_minor, 125);
	assert_int_equal(c->interactions[0]->at, 1796083200);
	carta__v1__card__free_unpacked(c, NULL);
}

static void test_bad_json_says_where(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* a part of the error */
	} cases[] = {
	    /* Syntax: the line and column. */
	    {"{\"identity\": {\n  \"given_name\": \"Ana\",\n}}", "line 3, "
								 "column 1"},
	    {"{\"identity\": {\"given_name\": \"Ana\"}", "line 1, column 34"},
	    {"{\"a\": 1, \"a\": 2}", "duplicate"},
	    /* Values: the path. */
	    {"[]", "expected an object"},
	    {"{\"identity\": {\"given_nam\": \"x\"}}",
	     "identity.given_nam: unknown field"},
	    {"{\"contact\": {\"emails\": [{\"address\": \"a@b\"}, "
	     "{\"address\": 5}]}}",
	     "contact.emails[1].address: expected a string"},
	    {"{\"contact\": {\"phones\": [{\"primary\": \"yes\"}]}}",
	     "contact.phones[0].primary: expected true or false"},
	    {"{\"consents\": [{\"state\": \"maybe\"}]}",
	     "consents[0].state: 'maybe' is not one of granted, withdrawn"},
	    {"{\"purchases\": [{\"quantity\": 1.5}]}",
	     "purchases[0].quantity: expected a whole number"},
	    {"{\"purchases\": [{\"amount\": \"1.5\", \"currency\": "
	     "\"JPY\"}]}",
	     "purchases[0].amount: '1.5': JPY has no decimals"},
	    {"{\"purchases\": [{\"amount\": \"1.50\"}]}",
	     "purchases[0].amount: needs a currency"},
	    {"{\"notes\": [{\"at\": \"2026-02-30\"}]}",
	     "notes[0].at: '2026-02-30' is not a time"},
	    {"{\"interactions\": [{\"satisfaction\": -1}]}",
	     "interactions[0].satisfaction: -1 is out of range"},
	    {"{\"sections\": {\"kitchen\": {\"version\": 1}}}",
	     "sections.kitchen: not a section"},
	    {"{\"preferences\": {\"colour\": 3}}",
	     "preferences.colour: expected a string"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Carta__V1__Card *c = (Carta__V1__Card *)1;

		err[0] = '\0';
		assert_int_equal(card_json_parse(cases[i].text,
						 strlen(cases[i].text), &c, err,
						 sizeof err),
				 -1);
		assert_null(c);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
				 cases[i].want);
	}
}

static void test_load_names_the_file(void **state)
{
	char path[] = "/tmp/card_json_testXXXXXX";
	Carta__V1__Card *c = NULL;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\n\"identity\": 1\n}", 17), 17);
	close(fd);
	assert_int_equal(card_json_load(path, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "identity: expected an object"));
	unlink(path);

	assert_int_equal(card_json_load(path, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
}

static void test_amounts_to_minor_units(void **state)
{
	static const struct {
		const char *text, *currency;
		int64_t minor;
	} good[] = {
	    {"49.90", "EUR", 4990}, {"49.9", "EUR", 4990},
	    {"49", "EUR", 4900},    {"0.05", "usd", 5},
	    {"1", "JPY", 1},	    {"1500", "JPY", 1500},
	    {"0.125", "KWD", 125},  {"2", "KWD", 2000},
	    {"-5.5", "EUR", -550},  {"1", "XXX", 100},
	    {"0.0001", "CLF", 1},
	};
	static const struct {
		const char *text, *currency, *why;
	} bad[] = {
	    {"1.5", "JPY", "JPY has no decimals"},
	    {"0.1234", "KWD", "KWD has at most 3 decimals"},
	    {"49.999", "EUR", "EUR has at most 2 decimals"},
	    {"49,90", "EUR", "after a dot"},
	    {"", "EUR", "not an amount"},
	    {"-", "EUR", "not an amount"},
	    {"1.2.3", "EUR", "not an amount"},
	    {"12a", "EUR", "not an amount"},
	    {" 1", "EUR", "not an amount"},
	    {"99999999999999999999", "EUR", "too large"},
	    {"92233720368547758.08", "EUR", "too large"},
	};
	int64_t minor;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(money_parse(good[i].text, good[i].currency,
					     &minor, err, sizeof err),
				 0);
		assert_int_equal(minor, good[i].minor);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(money_parse(bad[i].text, bad[i].currency,
					     &minor, err, sizeof err),
				 -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", bad[i].text, err,
				 bad[i].why);
	}
	assert_int_equal(money_exponent("jpy"), 0);
	assert_int_equal(money_exponent("EUR"), 2);
	assert_int_equal(money_exponent("BHD"), 3);
}

static void test_amounts_formatted(void **state)
{
	char out[MONEY_TEXT_MAX];

	(void)state;
	money_format(4990, "EUR", out, sizeof out);
	assert_string_equal(out, "49.90");
	money_format(5, "EUR", out, sizeof out);
	assert_string_equal(out, "0.05");
	money_format(-550, "EUR", out, sizeof out);
	assert_string_equal(out, "-5.50");
	money_format(1, "JPY", out, sizeof out);
	assert_string_equal(out, "1");
	money_format(125, "KWD", out, sizeof out);
	assert_string_equal(out, "0.125");
	money_format(0, "EUR", out, sizeof out);
	assert_string_equal(out, "0.00");
	money_format(INT64_MIN, "EUR", out, sizeof out);
	assert_string_equal(out, "-92233720368547758.08");
}

static void test_time_arguments(void **state)
{
	static const struct {
		const char *text;
		int64_t want;
	} good[] = {
	    {"2026-12-01", 1796083200}, {"2026-12-01T10:00:00Z", T0},
	    {"2026-12-01T10:00Z", T0},	{"2026-12-01T11:00:00+01:00", T0},
	    {"2024-02-29", 1709164800}, {"1969-07-20T20:17:00Z", -14182980},
	    {"-7d", T0 - 7 * 86400},	{"-24h", T0 - 86400},
	    {"-30m", T0 - 1800},	{"-2w", T0 - 14 * 86400},
	};
	static const char *const bad[] = {
	    "",
	    "2026-13-01",
	    "2026-02-29",
	    "2026-12-1",
	    "2026-12-01T25:00Z",
	    "2026-12-01T10:00:00",
	    "yesterday",
	    "-7",
	    "-d",
	    "-7y",
	    "7d",
	    "2026-12-01 10:00:00Z",
	};
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(cli_time_parse(good[i].text, T0, &t), 0);
		assert_int_equal(t, good[i].want);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cli_time_parse(bad[i], T0, &t) == 0)
			fail_msg("'%s' was accepted", bad[i]);
	assert_true(cli_date_valid("2000-02-29"));
	assert_false(cli_date_valid("1900-02-29"));
	assert_false(cli_date_valid("2026-12-01T10:00:00Z"));
}

static void test_enum_names(void **state)
{
	char list[128];

	(void)state;
	assert_int_equal(card_enum_parse(card_enum_sections, "consent"),
			 CARTA__V1__SECTION__SECTION_CONSENT);
	assert_int_equal(card_enum_parse(card_enum_sections, "custom"), -1);
	assert_string_equal(card_enum_name(card_enum_access, 2), "write");
	assert_string_equal(card_enum_name(card_enum_access, 9), "?");
	card_enum_list(card_enum_access, list, sizeof list);
	assert_string_equal(list, "none, read, write");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_card_round_trip),
	    cmocka_unit_test(test_withheld_lists_are_left_out),
	    cmocka_unit_test(test_minimal_card_sets_only_given_sections),
	    cmocka_unit_test(test_bad_json_says_where),
	    cmocka_unit_test(test_load_names_the_file),
	    cmocka_unit_test(test_amounts_to_minor_units),
	    cmocka_unit_test(test_amounts_formatted),
	    cmocka_unit_test(test_time_arguments),
	    cmocka_unit_test(test_enum_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
