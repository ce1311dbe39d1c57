/* carta customer add | show | edit | archive, and how a card is shown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_enum.h"
#include "card_json.h"
#include "cli.h"

/* ---- Showing a card ------------------------------------------------ */

static void kv(const char *label, const char *value)
{
	if (value != NULL && value[0] != '\0')
		printf("  %-13s %s\n", label, cli_safe(value));
}

static void kv_time(const char *label, int64_t t)
{
	char when[32];

	if (t == 0)
		return;
	cli_time(t, when, sizeof when);
	kv(label, when);
}

static void print_identity(const Carta__V1__Card *card)
{
	const Carta__V1__Identity *id = card->identity;
	const char *number = id != NULL ? id->number : "";
	char name[512] = "";

	if (id != NULL)
		snprintf(name, sizeof name, "%s%s%s", id->given_name,
			 id->given_name[0] && id->family_name[0] ? " " : "",
			 id->family_name);
	if (id != NULL && name[0] == '\0')
		snprintf(name, sizeof name, "%s", id->company);
	/* A card with no name at all, readable identity or not: an erased
	 * card's tombstone, or one known by another system's key only. */
	bool withheld = false;
	for (size_t i = 0; i < card->n_withheld; i++)
		withheld |=
		    card->withheld[i] == CARTA__V1__SECTION__SECTION_IDENTITY;
	printf("%s  %s\n", number[0] ? cli_safe(number) : "(no number)",
	       name[0]	  ? cli_safe(name)
	       : withheld ? "(identity withheld)"
			  : "(no name)");
	kv("id:", card->id);
	if (id != NULL) {
		kv("company:", id->company);
		kv("status:", id->status);
		kv("home branch:", id->home_branch);
	}
	kv_time("created:", card->created_at);
	kv_time("updated:", card->updated_at);
}

/* Prints "label a, b, c" and then tail, wrapped at 80 columns. */
typedef struct {
	int col;
	bool first;
} wrapline;

static void wrap_start(wrapline *w, const char *label)
{
	w->col = printf("%s", label);
	w->first = true;
}

static void wrap_item(wrapline *w, const char *item)
{
	int len = (int)strlen(item);

	if (w->first)
		w->col += printf(" ");
	else if (w->col + 2 + len > 79)
		w->col = printf(",\n  ") - 2;
	else
		w->col += printf(", ");
	w->col += printf("%s", item);
	w->first = false;
}

static void wrap_end(wrapline *w, const char *tail)
{
	if (w->col + (int)strlen(tail) > 80)
		printf("\n  ");
	printf("%s\n", tail);
}

static const char *const contact_titles[] = {"KIND", "VALUE", "LABEL",
					     "PRIMARY", "VERIFIED"};

static int contact_row(cli_table *t, const char *kind, const char *value,
		       const char *label, bool primary, int64_t verified)
{
	char when[32];
	const char *cells[5] = {kind, value, label, primary ? "yes" : "", when};

	cli_time(verified, when, sizeof when);
	return cli_table_add(t, cells);
}

static int print_contact(const cli_args *a, const Carta__V1__Contact *c)
{
	cli_table t;
	int rv = 0;

	printf("\ncontact\n");
	if (cli_table_init(&t, contact_titles, 5, 2) != 0)
		rv = -1;
	for (size_t i = 0; i < c->n_emails && rv == 0; i++) {
		const Carta__V1__Email *e = c->emails[i];

		rv = contact_row(&t, "email", e->address, e->label, e->primary,
				 e->verified_at);
	}
	for (size_t i = 0; i < c->n_phones && rv == 0; i++) {
		const Carta__V1__Phone *p = c->phones[i];

		rv = contact_row(&t, "phone",
				 p->number[0] ? p->number : p->original,
				 p->label, p->primary, p->verified_at);
	}
	for (size_t i = 0; i < c->n_addresses && rv == 0; i++) {
		const Carta__V1__Address *ad = c->addresses[i];
		const char *parts[] = {ad->street, ad->postal_code, ad->city,
				       ad->region, ad->country};
		char line[1024];
		size_t n = 0;

		line[0] = '\0';
		for (size_t k = 0; k < 5 && n < sizeof line; k++) {
			int w;

			if (parts[k][0] == '\0')
				continue;
			/* "Street, 28013 Madrid, Region, ES" */
			w = snprintf(line + n, sizeof line - n, "%s%s",
				     n == 0 ? "" : (k == 2 ? " " : ", "),
				     parts[k]);
			n = w < 0 ? sizeof line : n + (size_t)w;
		}
		rv = contact_row(&t, "address", line, ad->label, ad->primary,
				 ad->verified_at);
	}
	if (rv != 0) {
		cli_table_free(&t);
		return cli_fail(a, "out of memory");
	}
	if (c->n_emails + c->n_phones + c->n_addresses > 0)
		cli_table_flush(&t);
	cli_table_free(&t);

	if (c->n_preferred_channels > 0) {
		wrapline w;

		wrap_start(&w, "  preferred channels:");
		for (size_t i = 0; i < c->n_preferred_channels; i++)
			wrap_item(&w, cli_safe(c->preferred_channels[i]));
		wrap_end(&w, "");
	}
	return 0;
}

static void print_demographics(const Carta__V1__Demographics *d)
{
	if (d->birth_date[0] == '\0' && d->gender[0] == '\0' &&
	    d->profession[0] == '\0' && d->language[0] == '\0')
		return;
	printf("\ndemographics\n");
	kv("birth date:", d->birth_date);
	kv("gender:", d->gender);
	kv("profession:", d->profession);
	kv("language:", d->language);
}

/* A list of the card under its title; nothing when it is empty (the
 * versions line says which sections are readable). */
static int print_list(const cli_args *a, const char *title, const void *items,
		      size_t n)
{
	if (n == 0)
		return 0;
	printf("\n%s\n", title);
	return cli_print_msgs(a, (const ProtobufCMessage *const *)items, n, 2);
}

static void print_versions(const Carta__V1__Card *card)
{
	wrapline w;
	char item[64];

	if (card->n_sections > 0) {
		printf("\n");
		wrap_start(&w, "versions:");
		for (size_t i = 0; i < card->n_sections; i++) {
			snprintf(
			    item, sizeof item, "%s v%llu",
			    card_enum_name(card_enum_sections,
					   (int)card->sections[i]->section),
			    (unsigned long long)card->sections[i]->version);
			wrap_item(&w, item);
		}
		wrap_end(&w, "");
	}
	if (card->n_withheld > 0) {
		wrap_start(&w, "withheld:");
		for (size_t i = 0; i < card->n_withheld; i++)
			wrap_item(&w, card_enum_name(card_enum_sections,
						     (int)card->withheld[i]));
		wrap_end(&w, " (not readable by your department)");
	}
	if (card->n_more_items > 0) {
		wrap_start(&w, "older items:");
		for (size_t i = 0; i < card->n_more_items; i++)
			wrap_item(&w, card_enum_name(card_enum_sections,
						     (int)card->more_items[i]));
		wrap_end(&w, " (see purchase, interaction or note list)");
	}
	if (card->n_merged > 0) {
		wrap_start(&w, "merged into this card:");
		for (size_t i = 0; i < card->n_merged; i++)
			wrap_item(&w, cli_safe(card->merged[i]));
		wrap_end(&w, " (their numbers, emails and phones lead here)");
	}
}

int cli_print_card(const cli_args *a, const Carta__V1__Card *card)
{
	int rv = 0;

	if (a->json)
		return cli_print_json(a, card_json_from_card(card));

	print_identity(card);
	const Carta__V1__Contact *k = card->contact;
	if (k != NULL && k->n_emails + k->n_phones + k->n_addresses +
				 k->n_preferred_channels >
			     0)
		rv = print_contact(a, k);
	if (rv == 0 && card->demographics != NULL)
		print_demographics(card->demographics);
	if (rv == 0)
		rv = print_list(a, "purchases (most recent)", card->purchases,
				card->n_purchases);
	if (rv == 0)
		rv = print_list(a, "preferences", card->preferences,
				card->n_preferences);
	if (rv == 0)
		rv = print_list(a, "interactions (most recent)",
				card->interactions, card->n_interactions);
	if (rv == 0)
		rv = print_list(a, "notes (most recent)", card->notes,
				card->n_notes);
	if (rv == 0)
		rv =
		    print_list(a, "consents", card->consents, card->n_consents);
	if (rv == 0)
		rv = print_list(a, "custom fields", card->custom,
				card->n_custom);
	if (rv == 0)
		rv = print_list(a, "history (values a merge replaced)",
				card->history, card->n_history);
	if (rv == 0)
		print_versions(card);
	return rv;
}

/* ---- customer add -------------------------------------------------- */

/* The options that fill a card, for "cannot be combined" and "nothing to
 * add". */
#define CARD_OPTS                                                              \
	(OPT(O_GIVEN_NAME) | OPT(O_FAMILY_NAME) | OPT(O_COMPANY) |             \
	 OPT(O_STATUS) | OPT(O_HOME_BRANCH) | OPT(O_EMAIL) | OPT(O_PHONE) |    \
	 OPT(O_BIRTH_DATE) | OPT(O_LANGUAGE))

int check_customer_add(const cli_args *a, char *err, size_t errlen)
{
	if (a->from_json != NULL && (a->seen & CARD_OPTS)) {
		snprintf(err, errlen,
			 "--from-json cannot be combined with the card's "
			 "fields");
		return -1;
	}
	if (a->from_json == NULL && !(a->seen & CARD_OPTS)) {
		snprintf(err, errlen,
			 "nothing to add: give fields (--given-name, "
			 "--email, ...) or --from-json FILE");
		return -1;
	}
	if (a->birth_date != NULL && !cli_date_valid(a->birth_date)) {
		snprintf(err, errlen,
			 "--birth-date: '%s' is not a date (YYYY-MM-DD)",
			 a->birth_date);
		return -1;
	}
	return 0;
}

/* The first of the flags' values that is not UTF-8 (which the JSON form
 * cannot carry: it would be changed, not refused), named in err. */
static int flags_utf8(const cli_args *a, char *err, size_t errlen)
{
	const struct {
		const char *flag, *value;
	} one[] = {{"--given-name", a->given_name},
		   {"--family-name", a->family_name},
		   {"--company", a->company},
		   {"--status", a->status},
		   {"--home-branch", a->home_branch},
		   {"--birth-date", a->birth_date},
		   {"--language", a->language}};

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		json_t *v = one[i].value ? json_string(one[i].value) : NULL;
		if (one[i].value != NULL && v == NULL) {
			snprintf(err, errlen, "%s: not valid UTF-8",
				 one[i].flag);
			return -1;
		}
		json_decref(v);
	}
	const cli_list *lists[] = {&a->emails, &a->phones};
	const char *names[] = {"--email", "--phone"};
	for (size_t l = 0; l < 2; l++)
		for (int i = 0; i < lists[l]->n; i++) {
			json_t *v = json_string(lists[l]->v[i]);
			if (v == NULL) {
				snprintf(err, errlen, "%s: not valid UTF-8",
					 names[l]);
				return -1;
			}
			json_decref(v);
		}
	return 0;
}

/* Sets o[key] = s when s is given. */
static void set_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, json_string(s));
}

/* A contact list from repeated option values; the first is primary. */
static json_t *contact_list(const cli_list *l, const char *key)
{
	json_t *arr = json_array();

	for (int i = 0; i < l->n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:b}", key, l->v[i],
						     "primary", i == 0));
	return arr;
}

/* The card the options describe, in the JSON form, so that flags and
 * --from-json go through one conversion. Only sections given are set;
 * the values must have passed flags_utf8. */
static json_t *card_from_flags(const cli_args *a)
{
	json_t *card = json_object();

	if (a->seen & (OPT(O_GIVEN_NAME) | OPT(O_FAMILY_NAME) | OPT(O_COMPANY) |
		       OPT(O_STATUS) | OPT(O_HOME_BRANCH))) {
		json_t *id = json_object();

		set_str(id, "given_name", a->given_name);
		set_str(id, "family_name", a->family_name);
		set_str(id, "company", a->company);
		set_str(id, "status", a->status);
		set_str(id, "home_branch", a->home_branch);
		json_object_set_new(card, "identity", id);
	}
	if (a->emails.n > 0 || a->phones.n > 0) {
		json_t *c = json_object();

		if (a->emails.n > 0)
			json_object_set_new(
			    c, "emails", contact_list(&a->emails, "address"));
		if (a->phones.n > 0)
			json_object_set_new(c, "phones",
					    contact_list(&a->phones, "number"));
		json_object_set_new(card, "contact", c);
	}
	if (a->birth_date != NULL || a->language != NULL) {
		json_t *d = json_object();

		set_str(d, "birth_date", a->birth_date);
		set_str(d, "language", a->language);
		json_object_set_new(card, "demographics", d);
	}
	return card;
}

int cmd_customer_add(const cli_args *a)
{
	Carta__V1__CustomerAddRequest add =
	    CARTA__V1__CUSTOMER_ADD_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Card *card = NULL;
	char key[CLI_REQUEST_KEY_SIZE], err[CLI_ERR_MAX];
	int rv;

	if (a->from_json != NULL) {
		rv = card_json_load(a->from_json, &card, err, sizeof err);
	} else if ((rv = flags_utf8(a, err, sizeof err)) == 0) {
		json_t *j = card_from_flags(a);

		rv = card_json_to_card(j, &card, err, sizeof err);
		json_decref(j);
	}
	if (rv != 0)
		return cli_fail(a, "%s", err);

	add.force = a->force;
	if (a->request_key == NULL)
		cli_request_key(key);
	add.card = card;
	add.request_key = a->request_key != NULL ? (char *)a->request_key : key;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_ADD;
	req.customer_add = &add;
	rv = cli_run(a, &req, true, NULL);
	carta__v1__card__free_unpacked(card, NULL);
	return rv;
}

/* ---- customer show / archive ----------------------------------------- */

int cmd_customer_show(const cli_args *a)
{
	Carta__V1__CustomerGetRequest get =
	    CARTA__V1__CUSTOMER_GET_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	get.ref = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_GET;
	req.customer_get = &get;
	return cli_run(a, &req, true, NULL);
}

int cmd_customer_archive(const cli_args *a)
{
	Carta__V1__CustomerArchiveRequest ar =
	    CARTA__V1__CUSTOMER_ARCHIVE_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	ar.ref = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_ARCHIVE;
	req.customer_archive = &ar;
	return cli_run(a, &req, false, "archived");
}

/* ---- customer edit ------------------------------------------------- */

int cli_check_section(const char *what, const char *s, char *err, size_t errlen)
{
	char names[160];

	if (card_enum_parse(card_enum_sections, s) >= 0)
		return 0;
	card_enum_list(card_enum_sections, names, sizeof names);
	snprintf(err, errlen, "%s: '%s' is not a section (%s)", what, s, names);
	return -1;
}

int check_customer_edit(const cli_args *a, char *err, size_t errlen)
{
	if (cli_check_section("--section", a->section, err, errlen) != 0)
		return -1;
	for (int i = 0; i < a->sets.n; i++) {
		const char *eq = strchr(a->sets.v[i], '=');

		if (eq == NULL || eq == a->sets.v[i]) {
			snprintf(err, errlen,
				 "--set: '%s' is not FIELD=VALUE (FIELD= "
				 "with nothing after removes an item)",
				 a->sets.v[i]);
			return -1;
		}
	}
	return 0;
}

struct edit_ctx {
	cli_printer p;
	const char *section;
	uint64_t read;
};

static int edit_each(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	struct edit_ctx *e = ud;

	return cli_printer_reply(a, &e->p, r);
}

static int edit_refused(const cli_args *a, void *ud,
			const Carta__V1__Status *st)
{
	const struct edit_ctx *e = ud;

	if (st->code != CARTA__V1__STATUS__CODE__CONFLICT)
		return cli_fail_status(a, st);
	if (st->current_version == 0)
		return cli_fail(a,
				"conflict: the %s section has moved on since "
				"version %llu; show the card again and retry",
				e->section, (unsigned long long)e->read);
	return cli_fail(a,
			"conflict: the %s section is now at version %llu (you "
			"read %llu); show the card again and retry",
			e->section, (unsigned long long)st->current_version,
			(unsigned long long)e->read);
}

int cmd_customer_edit(const cli_args *a)
{
	Carta__V1__CustomerEditRequest edit =
	    CARTA__V1__CUSTOMER_EDIT_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__FieldSet sets[CLI_LIST_MAX], *setp[CLI_LIST_MAX];
	char *paths[CLI_LIST_MAX] = {0};
	struct edit_ctx ctx = {.section = a->section,
			       .read = (uint64_t)a->if_version};
	cli_handler h = {edit_each, edit_refused, &ctx, false};
	int status = 0;

	for (int i = 0; i < a->sets.n; i++) {
		const char *eq = strchr(a->sets.v[i], '=');

		carta__v1__field_set__init(&sets[i]);
		paths[i] = strndup(a->sets.v[i], (size_t)(eq - a->sets.v[i]));
		if (paths[i] == NULL) {
			status = cli_fail(a, "out of memory");
			goto out;
		}
		sets[i].path = paths[i];
		sets[i].value = (char *)eq + 1;
		setp[i] = &sets[i];
	}
	edit.ref = (char *)a->pos[0];
	edit.section =
	    (Carta__V1__Section)card_enum_parse(card_enum_sections, a->section);
	edit.n_sets = (size_t)a->sets.n;
	edit.sets = setp;
	edit.if_version = (uint64_t)a->if_version;
	if (a->source != NULL)
		edit.source = (char *)a->source;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_EDIT;
	req.customer_edit = &edit;

	status = cli_request(a, &req, &h);
	cli_printer_end(&ctx.p);

out:
	for (int i = 0; i < a->sets.n; i++)
		free(paths[i]);
	return status;
}
