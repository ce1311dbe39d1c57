/* The lists and values of a card: carta purchase, interaction, note,
 * consent, pref and field. Each command fills its request and hands it to
 * cli_run or cli_run_pages, which send it and show the answer. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "card_enum.h"
#include "cli.h"
#include "money.h"

int cli_check_time(const char *opt, const char *s, char *err, size_t errlen)
{
	int64_t t;

	if (s == NULL || cli_time_parse(s, 0, &t) == 0)
		return 0;
	snprintf(err, errlen,
		 "%s: '%s' is not a time (2026-12-01, 2026-12-01T10:00:00Z, "
		 "-7d or -24h)",
		 opt, s);
	return -1;
}

/* The request key to send: --request-key, or a fresh random one in buf, so
 * that sending the request again never applies it twice. */
static char *request_key(const cli_args *a, char buf[CLI_REQUEST_KEY_SIZE])
{
	if (a->request_key != NULL)
		return (char *)a->request_key;
	cli_request_key(buf);
	return buf;
}

/* A list of REF's items (purchases, interactions or notes), page by
 * page. */
static int run_list(const cli_args *a, Carta__V1__Request__BodyCase body)
{
	Carta__V1__ListRequest list = CARTA__V1__LIST_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	list.ref = (char *)a->pos[0];
	list.limit = (uint32_t)a->limit;
	req.body_case = body;
	if (body == CARTA__V1__REQUEST__BODY_PURCHASE_LIST)
		req.purchase_list = &list;
	else if (body == CARTA__V1__REQUEST__BODY_INTERACTION_LIST)
		req.interaction_list = &list;
	else
		req.note_list = &list;
	return cli_run_pages(a, &req, &list.cursor);
}

/* ---- purchase ------------------------------------------------------ */

/* The currency in upper case into out (4 bytes), or -1 when it is not
 * three letters. */
static int currency_code(const char *s, char out[4])
{
	if (strlen(s) != 3)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (!isalpha((unsigned char)s[i]))
			return -1;
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[3] = '\0';
	return 0;
}

int check_purchase_add(const cli_args *a, char *err, size_t errlen)
{
	char code[4], why[CLI_ERR_MAX];
	int64_t minor;

	if (currency_code(a->currency, code) != 0) {
		snprintf(err, errlen,
			 "--currency: '%s' is not an ISO 4217 code (like EUR)",
			 a->currency);
		return -1;
	}
	if (money_parse(a->amount, code, &minor, why, sizeof why) != 0) {
		snprintf(err, errlen, "--amount: %s", why);
		return -1;
	}
	if (minor < 0) {
		snprintf(err, errlen,
			 "--amount: is negative; record a refund with --refund "
			 "and the amount that went back");
		return -1;
	}
	if (a->date != NULL && !cli_date_valid(a->date)) {
		snprintf(err, errlen, "--date: '%s' is not a date (YYYY-MM-DD)",
			 a->date);
		return -1;
	}
	return 0;
}

int cmd_purchase_add(const cli_args *a)
{
	Carta__V1__PurchaseAddRequest add =
	    CARTA__V1__PURCHASE_ADD_REQUEST__INIT;
	Carta__V1__Purchase p = CARTA__V1__PURCHASE__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	char code[4], key[CLI_REQUEST_KEY_SIZE], why[CLI_ERR_MAX];

	/* Both checked by check_purchase_add. */
	currency_code(a->currency, code);
	money_parse(a->amount, code, &p.amount_minor, why, sizeof why);
	p.currency = code;
	p.product = (char *)a->product;
	p.quantity = a->quantity;
	p.refund = a->refund;
	if (a->date != NULL)
		p.date = (char *)a->date;
	if (a->channel != NULL)
		p.channel = (char *)a->channel;
	if (a->remarks != NULL)
		p.remarks = (char *)a->remarks;

	add.ref = (char *)a->pos[0];
	add.purchase = &p;
	add.request_key = request_key(a, key);
	req.body_case = CARTA__V1__REQUEST__BODY_PURCHASE_ADD;
	req.purchase_add = &add;
	return cli_run(a, &req, true, NULL);
}

int cmd_purchase_list(const cli_args *a)
{
	return run_list(a, CARTA__V1__REQUEST__BODY_PURCHASE_LIST);
}

/* ---- interaction --------------------------------------------------- */

int check_interaction_add(const cli_args *a, char *err, size_t errlen)
{
	return cli_check_time("--at", a->at, err, errlen);
}

int cmd_interaction_add(const cli_args *a)
{
	Carta__V1__InteractionAddRequest add =
	    CARTA__V1__INTERACTION_ADD_REQUEST__INIT;
	Carta__V1__Interaction it = CARTA__V1__INTERACTION__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	char key[CLI_REQUEST_KEY_SIZE];

	it.channel = (char *)a->channel;
	it.summary = (char *)a->summary;
	if (a->outcome != NULL)
		it.outcome = (char *)a->outcome;
	it.satisfaction = (uint32_t)a->satisfaction;
	if (a->at != NULL)
		cli_time_parse(a->at, (int64_t)time(NULL), &it.at);

	add.ref = (char *)a->pos[0];
	add.interaction = &it;
	add.request_key = request_key(a, key);
	req.body_case = CARTA__V1__REQUEST__BODY_INTERACTION_ADD;
	req.interaction_add = &add;
	return cli_run(a, &req, true, NULL);
}

int cmd_interaction_list(const cli_args *a)
{
	return run_list(a, CARTA__V1__REQUEST__BODY_INTERACTION_LIST);
}

/* ---- note ---------------------------------------------------------- */

int cmd_note_add(const cli_args *a)
{
	Carta__V1__NoteAddRequest add = CARTA__V1__NOTE_ADD_REQUEST__INIT;
	Carta__V1__Note note = CARTA__V1__NOTE__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	char key[CLI_REQUEST_KEY_SIZE];

	note.text = (char *)a->pos[1];
	add.ref = (char *)a->pos[0];
	add.note = &note;
	add.request_key = request_key(a, key);
	req.body_case = CARTA__V1__REQUEST__BODY_NOTE_ADD;
	req.note_add = &add;
	return cli_run(a, &req, true, NULL);
}

int cmd_note_list(const cli_args *a)
{
	return run_list(a, CARTA__V1__REQUEST__BODY_NOTE_LIST);
}

/* ---- consent ------------------------------------------------------- */

int check_consent_set(const cli_args *a, char *err, size_t errlen)
{
	if (card_enum_parse(card_enum_consent, a->pos[1]) < 0) {
		snprintf(err, errlen, "'%s' is not granted or withdrawn",
			 a->pos[1]);
		return -1;
	}
	return 0;
}

int cmd_consent_set(const cli_args *a)
{
	Carta__V1__ConsentSetRequest set = CARTA__V1__CONSENT_SET_REQUEST__INIT;
	Carta__V1__Consent c = CARTA__V1__CONSENT__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	c.purpose = (char *)a->purpose;
	c.channel = (char *)a->channel;
	c.state = (Carta__V1__ConsentState)card_enum_parse(card_enum_consent,
							   a->pos[1]);
	if (a->source != NULL)
		c.source = (char *)a->source;
	set.ref = (char *)a->pos[0];
	set.consent = &c;
	req.body_case = CARTA__V1__REQUEST__BODY_CONSENT_SET;
	req.consent_set = &set;
	return cli_run(a, &req, false, NULL);
}

int cmd_consent_list(const cli_args *a)
{
	Carta__V1__CustomerGetRequest get =
	    CARTA__V1__CUSTOMER_GET_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	get.ref = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_CONSENT_LIST;
	req.consent_list = &get;
	return cli_run(a, &req, true, NULL);
}

/* ---- pref ---------------------------------------------------------- */

int cmd_pref_set(const cli_args *a)
{
	Carta__V1__PrefSetRequest set = CARTA__V1__PREF_SET_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	set.ref = (char *)a->pos[0];
	set.key = (char *)a->pos[1];
	set.value = (char *)a->pos[2];
	req.body_case = CARTA__V1__REQUEST__BODY_PREF_SET;
	req.pref_set = &set;
	return cli_run(a, &req, true, "set");
}

/* The server answers an unset with the preference, now empty. */
static int unset_each(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	if (a->json || r->body_case != CARTA__V1__RESPONSE__BODY_PREFERENCE)
		return cli_printer_reply(a, ud, r);
	printf("unset: %s\n", cli_safe(r->preference->key));
	return 0;
}

int cmd_pref_unset(const cli_args *a)
{
	Carta__V1__PrefUnsetRequest unset = CARTA__V1__PREF_UNSET_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	cli_printer p = {.done = "unset"};
	cli_handler h = {.each = unset_each, .ud = &p, .retry = true};
	int status;

	unset.ref = (char *)a->pos[0];
	unset.key = (char *)a->pos[1];
	req.body_case = CARTA__V1__REQUEST__BODY_PREF_UNSET;
	req.pref_unset = &unset;
	status = cli_request(a, &req, &h);
	cli_printer_end(&p);
	return status;
}

/* ---- field --------------------------------------------------------- */

int check_field_define(const cli_args *a, char *err, size_t errlen)
{
	int type = card_enum_parse(card_enum_field_types, a->type);

	if (type < 0) {
		snprintf(err, errlen,
			 "--type: '%s' is not text, number, date, bool or "
			 "choice",
			 a->type);
		return -1;
	}
	if (cli_check_section("--section", a->section, err, errlen) != 0)
		return -1;
	if (type == CARTA__V1__FIELD_TYPE__FIELD_CHOICE && a->choices.n == 0) {
		snprintf(err, errlen, "a choice field needs --choice values");
		return -1;
	}
	if (type != CARTA__V1__FIELD_TYPE__FIELD_CHOICE && a->choices.n > 0) {
		snprintf(err, errlen, "--choice is only for --type choice");
		return -1;
	}
	if (type != CARTA__V1__FIELD_TYPE__FIELD_TEXT && a->max_length != 0) {
		snprintf(err, errlen, "--max-length is only for --type text");
		return -1;
	}
	return 0;
}

int cmd_field_define(const cli_args *a)
{
	Carta__V1__FieldDef def = CARTA__V1__FIELD_DEF__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	def.name = (char *)a->pos[0];
	def.type = (Carta__V1__FieldType)card_enum_parse(card_enum_field_types,
							 a->type);
	def.section =
	    (Carta__V1__Section)card_enum_parse(card_enum_sections, a->section);
	def.max_length = (uint32_t)a->max_length;
	def.n_choices = (size_t)a->choices.n;
	def.choices = (char **)a->choices.v;
	req.body_case = CARTA__V1__REQUEST__BODY_FIELD_DEFINE;
	req.field_define = &def;
	return cli_run(a, &req, false, NULL);
}

int cmd_field_list(const cli_args *a)
{
	Carta__V1__Empty empty = CARTA__V1__EMPTY__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	req.body_case = CARTA__V1__REQUEST__BODY_FIELD_LIST;
	req.field_list = &empty;
	return cli_run(a, &req, true, NULL);
}

int cmd_field_set(const cli_args *a)
{
	Carta__V1__CustomSetRequest set = CARTA__V1__CUSTOM_SET_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	set.ref = (char *)a->pos[0];
	set.field = (char *)a->pos[1];
	set.value = (char *)a->pos[2];
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOM_SET;
	req.custom_set = &set;
	return cli_run(a, &req, true, "set");
}
