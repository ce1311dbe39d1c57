/* The customer card against a real cartad: department policies on every
 * request kind and section, lost-update protection, idempotent appends,
 * validation with field paths, and the audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Sections in Carta__V1__Section order, 1..8. */
#define NSECT 9
static const char *const sect_names[NSECT] = {
    "",		 "identity",	"contact",	"demographics",
    "purchases", "preferences", "interactions", "notes",
    "consent"};

/* The default policy, as README.md states it: N none, R read, W write. */
static const char policy[NSECT][NDEPT + 1] = {
    /*               sales support marketing billing */
    [1] = "WWRR", /* identity */
    [2] = "WWRW", /* contact */
    [3] = "RRRN", /* demographics */
    [4] = "WRNW", /* purchases */
    [5] = "WRWN", /* preferences */
    [6] = "WWRR", /* interactions */
    [7] = "WWNN", /* notes */
    [8] = "RWWR", /* consent */
};

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

/* Sends req and returns its one response (caller frees). */
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

static int code_of(Carta__V1__Response *r)
{
	return r->status ? (int)r->status->code : -1;
}

#define OK	 CARTA__V1__STATUS__CODE__OK
#define DENIED	 CARTA__V1__STATUS__CODE__PERMISSION_DENIED
#define CONFLICT CARTA__V1__STATUS__CODE__CONFLICT
#define INVALID	 CARTA__V1__STATUS__CODE__INVALID_ARGUMENT

/* ---- building requests ----------------------------------------------------
 */

static Carta__V1__Email email_msg;
static Carta__V1__Email *email_ptr = &email_msg;
static Carta__V1__Phone phone_msg;
static Carta__V1__Phone *phone_ptr = &phone_msg;

/* Adds a card with a name, an email and a phone; returns the response. */
static Carta__V1__Response *add_card(carta_client *c, const char *given,
				     const char *family, const char *email,
				     const char *phone)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__CustomerAddRequest add =
	    CARTA__V1__CUSTOMER_ADD_REQUEST__INIT;
	Carta__V1__Card card = CARTA__V1__CARD__INIT;
	Carta__V1__Identity id = CARTA__V1__IDENTITY__INIT;
	Carta__V1__Contact contact = CARTA__V1__CONTACT__INIT;

	carta__v1__email__init(&email_msg);
	carta__v1__phone__init(&phone_msg);
	id.given_name = (char *)given;
	id.family_name = (char *)family;
	card.identity = &id;
	if (email != NULL || phone != NULL) {
		card.contact = &contact;
		if (email != NULL) {
			email_msg.address = (char *)email;
			email_msg.primary = 1;
			contact.emails = &email_ptr;
			contact.n_emails = 1;
		}
		if (phone != NULL) {
			phone_msg.number = (char *)phone;
			contact.phones = &phone_ptr;
			contact.n_phones = 1;
		}
	}
	add.card = &card;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_ADD;
	req.customer_add = &add;
	/* These tests are about sections and permissions; the duplicate
	 * check has its own tests (dedup_test). */
	add.force = true;
	return call(c, &req);
}

static Carta__V1__Response *get_card(carta_client *c, const char *ref)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__CustomerGetRequest get =
	    CARTA__V1__CUSTOMER_GET_REQUEST__INIT;

	get.ref = (char *)ref;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_GET;
	req.customer_get = &get;
	return call(c, &req);
}

static Carta__V1__Response *edit_card(carta_client *c, const char *ref,
				      int section, const char *path,
				      const char *value, uint64_t if_version)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__CustomerEditRequest e =
	    CARTA__V1__CUSTOMER_EDIT_REQUEST__INIT;
	Carta__V1__FieldSet set = CARTA__V1__FIELD_SET__INIT;
	Carta__V1__FieldSet *sets[1] = {&set};

	set.path = (char *)path;
	set.value = (char *)value;
	e.ref = (char *)ref;
	e.section = section;
	e.sets = sets;
	e.n_sets = 1;
	e.if_version = if_version;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_EDIT;
	req.customer_edit = &e;
	return call(c, &req);
}

static Carta__V1__Response *add_purchase(carta_client *c, const char *ref,
					 const char *product, int64_t minor,
					 const char *key)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__PurchaseAddRequest add =
	    CARTA__V1__PURCHASE_ADD_REQUEST__INIT;
	Carta__V1__Purchase p = CARTA__V1__PURCHASE__INIT;

	p.product = (char *)product;
	p.amount_minor = minor;
	p.currency = "EUR";
	add.ref = (char *)ref;
	add.purchase = &p;
	add.request_key = (char *)(key ? key : "");
	req.body_case = CARTA__V1__REQUEST__BODY_PURCHASE_ADD;
	req.purchase_add = &add;
	return call(c, &req);
}

static uint64_t section_version(const Carta__V1__Card *card, int section)
{
	for (size_t i = 0; i < card->n_sections; i++)
		if ((int)card->sections[i]->section == section)
			return card->sections[i]->version;
	return 0;
}

static int withheld(const Carta__V1__Card *card, int section)
{
	for (size_t i = 0; i < card->n_withheld; i++)
		if ((int)card->withheld[i] == section)
			return 1;
	return 0;
}

/* A card with something in every section, made by the admin. */
static void make_full_card(char number[32])
{
	Carta__V1__Response *r = add_card(
	    admin, "Ana", "Full", "ana.full@example.es", "+34 600 000 001");
	assert_int_equal(code_of(r), OK);
	snprintf(number, 32, "%s", r->card->identity->number);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	r = edit_card(admin, number, CARTA__V1__SECTION__SECTION_DEMOGRAPHICS,
		      "birth_date", "1980-05-17", 1);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);
	r = add_purchase(admin, number, "Lamp", 4990, NULL);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__PrefSetRequest pref = CARTA__V1__PREF_SET_REQUEST__INIT;
	pref.ref = number;
	pref.key = "colour";
	pref.value = "green";
	req.body_case = CARTA__V1__REQUEST__BODY_PREF_SET;
	req.pref_set = &pref;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__InteractionAddRequest ia =
	    CARTA__V1__INTERACTION_ADD_REQUEST__INIT;
	Carta__V1__Interaction in = CARTA__V1__INTERACTION__INIT;
	in.channel = "phone";
	in.summary = "Asked about delivery";
	ia.ref = number;
	ia.interaction = &in;
	req.body_case = CARTA__V1__REQUEST__BODY_INTERACTION_ADD;
	req.interaction_add = &ia;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__NoteAddRequest na = CARTA__V1__NOTE_ADD_REQUEST__INIT;
	Carta__V1__Note note = CARTA__V1__NOTE__INIT;
	note.text = "Prefers mornings";
	na.ref = number;
	na.note = &note;
	req.body_case = CARTA__V1__REQUEST__BODY_NOTE_ADD;
	req.note_add = &na;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__ConsentSetRequest cs = CARTA__V1__CONSENT_SET_REQUEST__INIT;
	Carta__V1__Consent k = CARTA__V1__CONSENT__INIT;
	k.purpose = "marketing";
	k.channel = "email";
	k.state = CARTA__V1__CONSENT_STATE__CONSENT_GRANTED;
	k.source = "form";
	cs.ref = number;
	cs.consent = &k;
	req.body_case = CARTA__V1__REQUEST__BODY_CONSENT_SET;
	req.consent_set = &cs;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);
}

/* Whether the card shows the section's data (it has some in each). */
static int shows(const Carta__V1__Card *c, int s)
{
	switch (s) {
	case 1:
		return c->identity && c->identity->given_name[0] != '\0';
	case 2:
		return c->contact && c->contact->n_emails > 0;
	case 3:
		return c->demographics && c->demographics->birth_date[0];
	case 4:
		return c->n_purchases > 0;
	case 5:
		return c->n_preferences > 0;
	case 6:
		return c->n_interactions > 0;
	case 7:
		return c->n_notes > 0;
	case 8:
		return c->n_consents > 0;
	}
	return 0;
}

/* ---- the permission matrix ------------------------------------------------
 */

/* get: every readable section is served, every other one is withheld
 * (and named as such); the customer number always shows. */
static void test_matrix_get(void **state)
{
	char number[32];
	(void)state;

	make_full_card(number);
	for (int d = 0; d < NDEPT; d++) {
		Carta__V1__Response *r = get_card(dept[d], number);
		assert_int_equal(code_of(r), OK);
		const Carta__V1__Card *c = r->card;
		assert_string_equal(c->identity->number, number);
		for (int s = 1; s < NSECT; s++) {
			int readable = policy[s][d] != 'N';
			print_message("get %-9s %-12s %s\n", dept_names[d],
				      sect_names[s],
				      readable ? "served" : "withheld");
			assert_int_equal(shows(c, s), readable);
			assert_int_equal(withheld(c, s), !readable);
			assert_int_equal(section_version(c, s) != 0, readable);
		}
		carta__v1__response__free_unpacked(r, NULL);
	}
}

/* Writes something to section s of card number as c; returns the code. */
static int write_section(carta_client *c, const char *number, int s)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Response *r = NULL;

	switch (s) {
	case 1:
		r = edit_card(c, number, s, "company", "ACME", 0xffffff);
		break;
	case 2:
		r = edit_card(c, number, s, "emails.1.address",
			      "second@example.es", 0xffffff);
		break;
	case 3:
		r = edit_card(c, number, s, "profession", "Baker", 0xffffff);
		break;
	case 4:
		r = add_purchase(c, number, "Chair", 1500, NULL);
		break;
	case 5: {
		Carta__V1__PrefSetRequest p = CARTA__V1__PREF_SET_REQUEST__INIT;
		p.ref = (char *)number;
		p.key = "typeface";
		p.value = "serif";
		req.body_case = CARTA__V1__REQUEST__BODY_PREF_SET;
		req.pref_set = &p;
		r = call(c, &req);
		break;
	}
	case 6: {
		Carta__V1__InteractionAddRequest a =
		    CARTA__V1__INTERACTION_ADD_REQUEST__INIT;
		Carta__V1__Interaction i = CARTA__V1__INTERACTION__INIT;
		i.channel = "email";
		i.summary = "Sent a brochure";
		a.ref = (char *)number;
		a.interaction = &i;
		req.body_case = CARTA__V1__REQUEST__BODY_INTERACTION_ADD;
		req.interaction_add = &a;
		r = call(c, &req);
		break;
	}
	case 7: {
		Carta__V1__NoteAddRequest a = CARTA__V1__NOTE_ADD_REQUEST__INIT;
		Carta__V1__Note n = CARTA__V1__NOTE__INIT;
		n.text = "A note";
		a.ref = (char *)number;
		a.note = &n;
		req.body_case = CARTA__V1__REQUEST__BODY_NOTE_ADD;
		req.note_add = &a;
		r = call(c, &req);
		break;
	}
	case 8: {
		Carta__V1__ConsentSetRequest a =
		    CARTA__V1__CONSENT_SET_REQUEST__INIT;
		Carta__V1__Consent k = CARTA__V1__CONSENT__INIT;
		k.purpose = "newsletter";
		k.channel = "post";
		k.state = CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN;
		a.ref = (char *)number;
		a.consent = &k;
		req.body_case = CARTA__V1__REQUEST__BODY_CONSENT_SET;
		req.consent_set = &a;
		r = call(c, &req);
		break;
	}
	}
	int code = code_of(r);
	if (code == DENIED)
		assert_string_equal(r->status->field, sect_names[s]);
	carta__v1__response__free_unpacked(r, NULL);
	return code;
}

/* write (edit, add, set): allowed with write access, refused whole
 * otherwise, naming the section; a refused write changes nothing. */
static void test_matrix_write(void **state)
{
	char number[32];
	(void)state;

	for (int d = 0; d < NDEPT; d++) {
		make_full_card(number);
		for (int s = 1; s < NSECT; s++) {
			Carta__V1__Response *before = get_card(admin, number);
			uint64_t v = before->card->version;
			carta__v1__response__free_unpacked(before, NULL);

			int writable = policy[s][d] == 'W';
			/* Edits name the version: use the current one. */
			int code;
			if (s <= 3) {
				Carta__V1__Response *g =
				    get_card(admin, number);
				uint64_t sv = section_version(g->card, s);
				carta__v1__response__free_unpacked(g, NULL);
				const char *path = s == 1   ? "company"
						   : s == 2 ? "emails.1.address"
							    : "profession";
				const char *value = s == 1   ? "ACME"
						    : s == 2 ? "two@example.es"
							     : "Baker";
				Carta__V1__Response *r = edit_card(
				    dept[d], number, s, path, value, sv);
				code = code_of(r);
				if (code == DENIED)
					assert_string_equal(r->status->field,
							    sect_names[s]);
				carta__v1__response__free_unpacked(r, NULL);
			} else {
				code = write_section(dept[d], number, s);
			}
			print_message("write %-9s %-12s %s\n", dept_names[d],
				      sect_names[s],
				      code == OK ? "applied" : "refused");
			assert_int_equal(code, writable ? OK : DENIED);

			Carta__V1__Response *after = get_card(admin, number);
			assert_int_equal(after->card->version,
					 writable ? v + 1 : v);
			carta__v1__response__free_unpacked(after, NULL);
		}
	}
}

/* list: purchases, interactions, notes and consents need read access. */
static void test_matrix_list(void **state)
{
	char number[32];
	const int sections[] = {4, 6, 7, 8};
	(void)state;

	make_full_card(number);
	for (int d = 0; d < NDEPT; d++) {
		for (size_t i = 0; i < 4; i++) {
			int s = sections[i];
			Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
			Carta__V1__ListRequest l =
			    CARTA__V1__LIST_REQUEST__INIT;
			Carta__V1__CustomerGetRequest g =
			    CARTA__V1__CUSTOMER_GET_REQUEST__INIT;
			l.ref = number;
			g.ref = number;
			if (s == 4) {
				req.body_case =
				    CARTA__V1__REQUEST__BODY_PURCHASE_LIST;
				req.purchase_list = &l;
			} else if (s == 6) {
				req.body_case =
				    CARTA__V1__REQUEST__BODY_INTERACTION_LIST;
				req.interaction_list = &l;
			} else if (s == 7) {
				req.body_case =
				    CARTA__V1__REQUEST__BODY_NOTE_LIST;
				req.note_list = &l;
			} else {
				req.body_case =
				    CARTA__V1__REQUEST__BODY_CONSENT_LIST;
				req.consent_list = &g;
			}
			Carta__V1__Response *r = call(dept[d], &req);
			int readable = policy[s][d] != 'N';
			print_message("list %-9s %-12s %s\n", dept_names[d],
				      sect_names[s],
				      readable ? "served" : "refused");
			assert_int_equal(code_of(r), readable ? OK : DENIED);
			carta__v1__response__free_unpacked(r, NULL);
		}
	}
}

/* Creating a card writes identity and every section it carries: a
 * department that may not write one of them creates nothing at all. */
static void test_matrix_create(void **state)
{
	char email[64];
	(void)state;

	for (int d = 0; d < NDEPT; d++) {
		snprintf(email, sizeof(email), "new.%s@example.es",
			 dept_names[d]);
		Carta__V1__Response *r =
		    add_card(dept[d], "New", dept_names[d], email, NULL);
		int allowed = policy[1][d] == 'W' && policy[2][d] == 'W';
		assert_int_equal(code_of(r), allowed ? OK : DENIED);
		carta__v1__response__free_unpacked(r, NULL);
		r = get_card(admin, email);
		assert_int_equal(code_of(r),
				 allowed ? OK
					 : CARTA__V1__STATUS__CODE__NOT_FOUND);
		carta__v1__response__free_unpacked(r, NULL);
	}
}

/* Admin-only requests are refused to every department. */
static void test_matrix_admin_only(void **state)
{
	(void)state;
	for (int d = 0; d < NDEPT; d++) {
		Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
		Carta__V1__AuditRequest a = CARTA__V1__AUDIT_REQUEST__INIT;
		req.body_case = CARTA__V1__REQUEST__BODY_AUDIT;
		req.audit = &a;
		Carta__V1__Response *r = call(dept[d], &req);
		assert_int_equal(code_of(r), DENIED);
		carta__v1__response__free_unpacked(r, NULL);

		Carta__V1__PolicySetRequest p =
		    CARTA__V1__POLICY_SET_REQUEST__INIT;
		p.department = (char *)dept_names[d];
		p.section = CARTA__V1__SECTION__SECTION_NOTES;
		p.access = CARTA__V1__ACCESS__ACCESS_WRITE;
		req.body_case = CARTA__V1__REQUEST__BODY_POLICY_SET;
		req.policy_set = &p;
		r = call(dept[d], &req);
		assert_int_equal(code_of(r), DENIED);
		carta__v1__response__free_unpacked(r, NULL);
	}
}

/* ---- versions, idempotency, validation, audit -----------------------------
 */

static void test_concurrent_edit_one_wins(void **state)
{
	(void)state;
	Carta__V1__Response *r =
	    add_card(dept[SALES], "Luis", "Conflicto", "luis@example.es", NULL);
	assert_int_equal(code_of(r), OK);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	uint64_t v =
	    section_version(r->card, CARTA__V1__SECTION__SECTION_IDENTITY);
	carta__v1__response__free_unpacked(r, NULL);

	/* Both read version v; both write from it. */
	Carta__V1__Response *a =
	    edit_card(dept[SALES], number, CARTA__V1__SECTION__SECTION_IDENTITY,
		      "company", "Alfa", v);
	Carta__V1__Response *b = edit_card(dept[SUPPORT], number,
					   CARTA__V1__SECTION__SECTION_IDENTITY,
					   "company", "Beta", v);
	assert_int_equal(code_of(a), OK);
	assert_int_equal(code_of(b), CONFLICT);
	assert_int_equal(b->status->current_version, v + 1);
	assert_string_equal(b->status->field, "if_version");
	carta__v1__response__free_unpacked(a, NULL);
	carta__v1__response__free_unpacked(b, NULL);

	/* Nothing lost: the winner's value stands, and the loser can retry
	 * from the version it was told. */
	r = get_card(admin, number);
	assert_string_equal(r->card->identity->company, "Alfa");
	carta__v1__response__free_unpacked(r, NULL);
	b = edit_card(dept[SUPPORT], number,
		      CARTA__V1__SECTION__SECTION_IDENTITY, "company", "Beta",
		      v + 1);
	assert_int_equal(code_of(b), OK);
	assert_string_equal(b->card->identity->company, "Beta");
	carta__v1__response__free_unpacked(b, NULL);
}

static void test_retried_purchase_recorded_once(void **state)
{
	(void)state;
	Carta__V1__Response *r =
	    add_card(dept[SALES], "Eva", "Reintento", "eva@example.es", NULL);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__Response *p1 =
	    add_purchase(dept[SALES], number, "Sofa", 89900, "key-sofa-1");
	Carta__V1__Response *p2 =
	    add_purchase(dept[SALES], number, "Sofa", 89900, "key-sofa-1");
	assert_int_equal(code_of(p1), OK);
	assert_int_equal(code_of(p2), OK);
	assert_string_equal(p1->purchase->id, p2->purchase->id);
	carta__v1__response__free_unpacked(p1, NULL);
	carta__v1__response__free_unpacked(p2, NULL);

	r = get_card(dept[SALES], number);
	assert_int_equal(r->card->n_purchases, 1);
	assert_int_equal(r->card->purchases[0]->amount_minor, 89900);
	assert_string_equal(r->card->purchases[0]->currency, "EUR");
	assert_string_equal(r->card->purchases[0]->created_by, "sales-user");
	carta__v1__response__free_unpacked(r, NULL);

	/* A refund is marked as one: a negative amount is refused. */
	p1 = add_purchase(dept[SALES], number, "Sofa", -89900, NULL);
	assert_int_equal(code_of(p1), INVALID);
	assert_string_equal(p1->status->field, "purchase.amount_minor");
	carta__v1__response__free_unpacked(p1, NULL);
	r = get_card(dept[SALES], number);
	assert_int_equal(r->card->n_purchases, 1);
	carta__v1__response__free_unpacked(r, NULL);
}

struct add_case {
	const char *given, *email, *phone;
	int code;
	const char *stored_email, *stored_phone; /* when OK */
	const char *error_part;			 /* when refused */
};

static void test_validation_on_create(void **state)
{
	static const struct add_case cases[] = {
	    {"Ana", "Ana.Perez@Example.ES", "612 34 56 78", OK,
	     "Ana.Perez@example.es", "+34612345678", NULL},
	    {"Ben", "ben@bücher.example", "+44 20 7946 0018", OK,
	     "ben@bücher.example", "+442079460018", NULL},
	    {"Cara", "not-an-email", NULL, INVALID, NULL, NULL,
	     "contact.emails.0.address"},
	    {"Dan", "dan@example.es", "12", INVALID, NULL, NULL,
	     "contact.phones.0.number"},
	    /* NFD "José" is stored in NFC. */
	    {"Jose\xcc\x81", NULL, NULL, OK, NULL, NULL, NULL},
	    {"Bad\xff", NULL, NULL, INVALID, NULL, NULL, "identity.given_name"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct add_case *k = &cases[i];
		Carta__V1__Response *r =
		    add_card(admin, k->given, "Prueba", k->email, k->phone);
		print_message("create %zu: %s\n", i,
			      r->status->message[0] ? r->status->message
						    : "ok");
		assert_int_equal(code_of(r), k->code);
		if (k->code == OK && k->stored_email != NULL)
			assert_string_equal(
			    r->card->contact->emails[0]->address,
			    k->stored_email);
		if (k->code == OK && k->stored_phone != NULL) {
			assert_string_equal(r->card->contact->phones[0]->number,
					    k->stored_phone);
			assert_string_equal(
			    r->card->contact->phones[0]->original, k->phone);
		}
		if (k->code == OK && k->email == NULL && k->phone == NULL)
			assert_string_equal(r->card->identity->given_name,
					    "Jos\xc3\xa9");
		if (k->code != OK) {
			assert_non_null(
			    strstr(r->status->message, k->error_part));
			assert_string_equal(r->status->field, k->error_part);
		}
		carta__v1__response__free_unpacked(r, NULL);
	}

	/* A card needs a name or a company. */
	Carta__V1__Response *r = add_card(admin, "", "", NULL, NULL);
	assert_int_equal(code_of(r), INVALID);
	assert_non_null(strstr(r->status->message, "identity"));
	carta__v1__response__free_unpacked(r, NULL);
}

static void test_lookup_by_email_phone_number(void **state)
{
	(void)state;
	Carta__V1__Response *r = add_card(dept[SALES], "Marta", "Busca",
					  "marta@example.es", "699 11 22 33");
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	carta__v1__response__free_unpacked(r, NULL);

	const char *refs[] = {"MARTA@EXAMPLE.ES", "+34 699 112 233",
			      "699112233", number};
	for (size_t i = 0; i < 4; i++) {
		r = get_card(dept[SUPPORT], refs[i]);
		assert_int_equal(code_of(r), OK);
		assert_string_equal(r->card->identity->number, number);
		carta__v1__response__free_unpacked(r, NULL);
	}
}

static void test_audit_records_each_write(void **state)
{
	(void)state;
	Carta__V1__Response *r =
	    add_card(dept[SALES], "Olga", "Auditada", "olga@example.es", NULL);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	uint64_t v =
	    section_version(r->card, CARTA__V1__SECTION__SECTION_CONTACT);
	carta__v1__response__free_unpacked(r, NULL);
	r = edit_card(dept[SUPPORT], number,
		      CARTA__V1__SECTION__SECTION_CONTACT, "emails.0.address",
		      "olga.new@example.es", v);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);
	r = add_purchase(dept[BILLING], number, "Desk", 25000, NULL);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__AuditRequest a = CARTA__V1__AUDIT_REQUEST__INIT;
	a.customer = number;
	req.body_case = CARTA__V1__REQUEST__BODY_AUDIT;
	req.audit = &a;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	const Carta__V1__AuditPage *page = r->audit;
	int creates = 0, edits = 0, purchases = 0;
	for (size_t i = 0; i < page->n_items; i++) {
		const Carta__V1__AuditEntry *e = page->items[i];
		if (strcmp(e->action, "create") == 0) {
			creates++;
			assert_string_equal(e->principal, "sales-user");
			assert_string_equal(e->department, "sales");
		} else if (strcmp(e->action, "edit") == 0) {
			edits++;
			assert_string_equal(e->principal, "support-user");
			assert_int_equal(e->section,
					 CARTA__V1__SECTION__SECTION_CONTACT);
			assert_non_null(
			    strstr(e->old_value, "olga@example.es"));
			assert_non_null(
			    strstr(e->new_value, "olga.new@example.es"));
		} else if (strcmp(e->action, "purchase.add") == 0) {
			purchases++;
			assert_string_equal(e->department, "billing");
			assert_non_null(strstr(e->new_value, "Desk"));
			assert_string_equal(e->old_value, "");
		}
	}
	assert_int_equal(creates, 2); /* identity and contact */
	assert_int_equal(edits, 1);
	assert_int_equal(purchases, 1);
	carta__v1__response__free_unpacked(r, NULL);
}

static Carta__V1__Response *add_note(carta_client *c, const char *ref,
				     const char *text)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__NoteAddRequest a = CARTA__V1__NOTE_ADD_REQUEST__INIT;
	Carta__V1__Note n = CARTA__V1__NOTE__INIT;
	n.text = (char *)text;
	a.ref = (char *)ref;
	a.note = &n;
	req.body_case = CARTA__V1__REQUEST__BODY_NOTE_ADD;
	req.note_add = &a;
	return call(c, &req);
}

/* Big notes never make a card unreadable, nor a stored edit look failed:
 * answers cut the recent lists to fit, and list pages stop by size. */
static void test_large_items_keep_card_readable(void **state)
{
	static char big[4000 * 4 + 1];
	(void)state;

	for (int i = 0; i < 4000; i++)
		memcpy(big + 4 * i, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
	big[16000] = '\0';
	Carta__V1__Response *r =
	    add_card(dept[SALES], "Grande", "Notas", "grande@example.es", NULL);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	uint64_t v =
	    section_version(r->card, CARTA__V1__SECTION__SECTION_IDENTITY);
	carta__v1__response__free_unpacked(r, NULL);
	for (int i = 0; i < 6; i++) {
		r = add_note(dept[SALES], number, big);
		assert_int_equal(code_of(r), OK);
		carta__v1__response__free_unpacked(r, NULL);
	}

	r = get_card(dept[SALES], number);
	assert_int_equal(code_of(r), OK);
	assert_true(r->card->n_notes >= 1 && r->card->n_notes < 6);
	/* The card says older notes exist... */
	assert_int_equal(r->card->n_more_items, 1);
	assert_int_equal(r->card->more_items[0],
			 CARTA__V1__SECTION__SECTION_NOTES);
	carta__v1__response__free_unpacked(r, NULL);
	/* ...but not to those who may not read notes. */
	r = get_card(dept[MARKETING], number);
	assert_int_equal(code_of(r), OK);
	assert_int_equal(r->card->n_more_items, 0);
	carta__v1__response__free_unpacked(r, NULL);
	r = edit_card(dept[SALES], number, CARTA__V1__SECTION__SECTION_IDENTITY,
		      "company", "NewCo", v);
	assert_int_equal(code_of(r), OK);
	assert_string_equal(r->card->identity->company, "NewCo");
	carta__v1__response__free_unpacked(r, NULL);

	/* Paging by size still returns every note exactly once. */
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__ListRequest l = CARTA__V1__LIST_REQUEST__INIT;
	char cursor[32] = "";
	size_t total = 0;
	l.ref = number;
	l.limit = 5;
	req.body_case = CARTA__V1__REQUEST__BODY_NOTE_LIST;
	req.note_list = &l;
	do {
		l.cursor = cursor;
		r = call(dept[SALES], &req);
		assert_int_equal(code_of(r), OK);
		total += r->notes->n_items;
		snprintf(cursor, sizeof(cursor), "%s", r->notes->next_cursor);
		carta__v1__response__free_unpacked(r, NULL);
	} while (cursor[0] != '\0');
	assert_int_equal(total, 6);
}

/* What a department may not read does not leak through the side doors:
 * look-ups by contact values, and the card's own version. */
static void test_no_side_channels(void **state)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__PolicySetRequest ps = CARTA__V1__POLICY_SET_REQUEST__INIT;
	(void)state;

	Carta__V1__Response *r =
	    add_card(dept[SALES], "Lado", "Canal", "lado@example.es", NULL);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	carta__v1__response__free_unpacked(r, NULL);

	/* Marketing without contact access cannot probe by email. */
	ps.department = "marketing";
	ps.section = CARTA__V1__SECTION__SECTION_CONTACT;
	ps.access = CARTA__V1__ACCESS__ACCESS_NONE;
	req.body_case = CARTA__V1__REQUEST__BODY_POLICY_SET;
	req.policy_set = &ps;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);
	r = get_card(dept[MARKETING], "lado@example.es");
	assert_int_equal(code_of(r), DENIED);
	carta__v1__response__free_unpacked(r, NULL);
	r = get_card(dept[MARKETING], "nobody@example.es");
	assert_int_equal(code_of(r), DENIED);
	carta__v1__response__free_unpacked(r, NULL);
	ps.access = CARTA__V1__ACCESS__ACCESS_READ;
	r = call(admin, &req);
	carta__v1__response__free_unpacked(r, NULL);

	/* A department that does not exist is refused, whatever the access
	 * (none is what it has, but a typo must not look done). */
	ps.department = "mkt";
	for (int a = CARTA__V1__ACCESS__ACCESS_NONE;
	     a <= CARTA__V1__ACCESS__ACCESS_WRITE; a++) {
		ps.access = (Carta__V1__Access)a;
		r = call(admin, &req);
		assert_int_equal(code_of(r),
				 CARTA__V1__STATUS__CODE__NOT_FOUND);
		assert_string_equal(r->status->field, "policy_set.department");
		carta__v1__response__free_unpacked(r, NULL);
	}

	/* A note (withheld from marketing) leaves no trace in what
	 * marketing sees. */
	r = get_card(dept[MARKETING], number);
	Carta__V1__Card *before = r->card;
	assert_int_equal(before->version, 0);
	Carta__V1__Response *n = add_note(dept[SALES], number, "secret");
	carta__v1__response__free_unpacked(n, NULL);
	Carta__V1__Response *r2 = get_card(dept[MARKETING], number);
	assert_int_equal(r2->card->version, 0);
	assert_int_equal(r2->card->updated_at, before->updated_at);
	carta__v1__response__free_unpacked(r, NULL);
	carta__v1__response__free_unpacked(r2, NULL);
}

/* Paths that do not name a field, and edits that change nothing. */
static void test_edit_paths_and_noops(void **state)
{
	(void)state;
	Carta__V1__Response *r =
	    add_card(dept[SUPPORT], "Ruta", "Vacia", "ruta@example.es", NULL);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	uint64_t v =
	    section_version(r->card, CARTA__V1__SECTION__SECTION_IDENTITY);
	carta__v1__response__free_unpacked(r, NULL);

	const char *bad[] = {"number.", ".number", "number", "emails..0",
			     "given_name.x"};
	for (size_t i = 0; i < 5; i++) {
		r = edit_card(dept[SUPPORT], number,
			      CARTA__V1__SECTION__SECTION_IDENTITY, bad[i],
			      "C-999999", v);
		assert_int_equal(code_of(r), INVALID);
		carta__v1__response__free_unpacked(r, NULL);
	}
	/* Setting a value it already has is no write. */
	r = edit_card(dept[SUPPORT], number,
		      CARTA__V1__SECTION__SECTION_IDENTITY, "given_name",
		      "Ruta", v);
	assert_int_equal(code_of(r), OK);
	assert_int_equal(
	    section_version(r->card, CARTA__V1__SECTION__SECTION_IDENTITY), v);
	carta__v1__response__free_unpacked(r, NULL);
}

static void test_request_key_reuse_refused(void **state)
{
	(void)state;
	Carta__V1__Response *r =
	    add_card(dept[SALES], "Clave", "Doble", "clave@example.es", NULL);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	carta__v1__response__free_unpacked(r, NULL);

	r = add_purchase(dept[SALES], number, "Sofa", 99900, "key-reuse");
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);
	r = add_purchase(dept[SALES], number, "Chair", 500, "key-reuse");
	assert_int_equal(code_of(r),
			 CARTA__V1__STATUS__CODE__FAILED_PRECONDITION);
	assert_string_equal(r->status->field, "request_key");
	carta__v1__response__free_unpacked(r, NULL);
	r = get_card(dept[SALES], number);
	assert_int_equal(r->card->n_purchases, 1);
	assert_string_equal(r->card->purchases[0]->product, "Sofa");
	carta__v1__response__free_unpacked(r, NULL);
}

/* However much a department writes, the card and its audit stay
 * readable: a write that would make the card too large is refused whole. */
static void test_card_size_bounded(void **state)
{
	static char value[501];
	char key[16];
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__PrefSetRequest p = CARTA__V1__PREF_SET_REQUEST__INIT;
	(void)state;

	memset(value, 'x', 500);
	Carta__V1__Response *r =
	    add_card(dept[SALES], "Mucho", "Peso", "peso@example.es", NULL);
	char number[32];
	snprintf(number, sizeof(number), "%s", r->card->identity->number);
	carta__v1__response__free_unpacked(r, NULL);

	p.ref = number;
	p.value = value;
	p.key = key;
	req.body_case = CARTA__V1__REQUEST__BODY_PREF_SET;
	req.pref_set = &p;
	int stored = 0, refused = 0;
	for (int i = 0; i < 200 && !refused; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		r = call(dept[MARKETING], &req);
		if (code_of(r) == OK)
			stored++;
		else if (code_of(r) ==
			 CARTA__V1__STATUS__CODE__RESOURCE_EXHAUSTED)
			refused = 1;
		else
			fail();
		carta__v1__response__free_unpacked(r, NULL);
	}
	print_message("%d preferences stored, then refused\n", stored);
	assert_true(refused);
	assert_true(stored > 50);

	r = get_card(admin, number);
	assert_int_equal(code_of(r), OK);
	assert_int_equal(r->card->n_preferences, (size_t)stored);
	carta__v1__response__free_unpacked(r, NULL);

	/* Every audit page of this card can be read, to the end. */
	Carta__V1__AuditRequest a = CARTA__V1__AUDIT_REQUEST__INIT;
	char cursor[32] = "";
	size_t entries = 0;
	a.customer = number;
	a.limit = 500;
	req.body_case = CARTA__V1__REQUEST__BODY_AUDIT;
	req.audit = &a;
	do {
		a.cursor = cursor;
		r = call(admin, &req);
		assert_int_equal(code_of(r), OK);
		entries += r->audit->n_items;
		snprintf(cursor, sizeof(cursor), "%s", r->audit->next_cursor);
		carta__v1__response__free_unpacked(r, NULL);
	} while (cursor[0] != '\0');
	assert_int_equal(entries, (size_t)stored + 2);
}

/* Finds the newest audit entry with action; NULL when none. The page is
 * the caller's to free. */
static const Carta__V1__AuditEntry *find_action(Carta__V1__AuditPage *page,
						const char *action)
{
	const Carta__V1__AuditEntry *found = NULL;
	for (size_t i = 0; i < page->n_items; i++)
		if (strcmp(page->items[i]->action, action) == 0)
			found = page->items[i];
	return found;
}

static Carta__V1__Response *audit_since(int64_t since)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__AuditRequest a = CARTA__V1__AUDIT_REQUEST__INIT;
	a.since = since;
	a.limit = 500;
	req.body_case = CARTA__V1__REQUEST__BODY_AUDIT;
	req.audit = &a;
	return call(admin, &req);
}

/* Each kind of write leaves its entry, with old and new values. */
static void test_audit_every_kind_of_write(void **state)
{
	char number[32];
	uint8_t priv[32], pub[32];
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Response *r;
	(void)state;

	int64_t since = (int64_t)time(NULL);
	make_full_card(number); /* create, edit, purchase, pref, interaction,
				   note, consent */

	Carta__V1__CustomerArchiveRequest ar =
	    CARTA__V1__CUSTOMER_ARCHIVE_REQUEST__INIT;
	ar.ref = number;
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_ARCHIVE;
	req.customer_archive = &ar;
	r = call(dept[SUPPORT], &req);
	assert_int_equal(code_of(r), OK);
	assert_string_equal(r->card->identity->status, "archived");
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__FieldDef fd = CARTA__V1__FIELD_DEF__INIT;
	fd.name = "shoe_size";
	fd.type = CARTA__V1__FIELD_TYPE__FIELD_NUMBER;
	fd.section = CARTA__V1__SECTION__SECTION_DEMOGRAPHICS;
	req.body_case = CARTA__V1__REQUEST__BODY_FIELD_DEFINE;
	req.field_define = &fd;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	/* Demographics: sales may only read it, so the admin sets it. */
	Carta__V1__CustomSetRequest cs = CARTA__V1__CUSTOM_SET_REQUEST__INIT;
	cs.ref = number;
	cs.field = "shoe_size";
	cs.value = "41";
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOM_SET;
	req.custom_set = &cs;
	r = call(dept[SALES], &req);
	assert_int_equal(code_of(r), DENIED);
	assert_string_equal(r->status->field, "demographics");
	carta__v1__response__free_unpacked(r, NULL);
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);
	cs.value = "huge";
	r = call(admin, &req);
	assert_int_equal(code_of(r), INVALID);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__DepartmentAddRequest da =
	    CARTA__V1__DEPARTMENT_ADD_REQUEST__INIT;
	da.name = "logistics";
	req.body_case = CARTA__V1__REQUEST__BODY_DEPARTMENT_ADD;
	req.department_add = &da;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	Carta__V1__PolicySetRequest ps = CARTA__V1__POLICY_SET_REQUEST__INIT;
	ps.department = "logistics";
	ps.section = CARTA__V1__SECTION__SECTION_CONTACT;
	ps.access = CARTA__V1__ACCESS__ACCESS_READ;
	req.body_case = CARTA__V1__REQUEST__BODY_POLICY_SET;
	req.policy_set = &ps;
	r = call(admin, &req);
	assert_int_equal(code_of(r), OK);
	carta__v1__response__free_unpacked(r, NULL);

	noise_keypair(priv, pub);
	assert_int_equal(
	    carta_admin_enrol(admin, "lola", "logistics", 0, pub, NULL), 0);
	assert_int_equal(carta_admin_revoke(admin, "lola"), 0);

	r = audit_since(since);
	assert_int_equal(code_of(r), OK);
	struct {
		const char *action, *old_part, *new_part;
	} want[] = {
	    {"create", "", "ana.full@example.es"},
	    {"purchase.add", "", "\"Lamp\""},
	    {"interaction.add", "", "Asked about delivery"},
	    {"note.add", "", "Prefers mornings"},
	    {"field.define", "", "shoe_size"},
	    {"department.add", "", "logistics"},
	    {"policy.set logistics", "\"none\"", "\"read\""},
	    {"principal.enrol", "", "\"lola\""},
	    {"principal.revoke", "", "\"state\":\"revoked\""},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const Carta__V1__AuditEntry *e =
		    find_action(r->audit, want[i].action);
		print_message("audit %-20s %s\n", want[i].action,
			      e ? "found" : "MISSING");
		assert_non_null(e);
		assert_non_null(strstr(e->old_value, want[i].old_part));
		assert_non_null(strstr(e->new_value, want[i].new_part));
	}
	/* Edits: birth date, preference, consent, archive, custom value. */
	int birth = 0, pref = 0, consent = 0, archive = 0, custom = 0;
	for (size_t i = 0; i < r->audit->n_items; i++) {
		const Carta__V1__AuditEntry *e = r->audit->items[i];
		if (strcmp(e->action, "edit") != 0)
			continue;
		birth |= strstr(e->new_value, "1980-05-17") != NULL;
		pref |= strstr(e->new_value, "\"colour\":\"green\"") != NULL;
		consent |= strstr(e->new_value, "marketing.email") != NULL;
		archive |= strstr(e->old_value, "\"active\"") != NULL &&
			   strstr(e->new_value, "\"archived\"") != NULL;
		custom |= strstr(e->new_value, "\"shoe_size\":\"41\"") != NULL;
	}
	assert_true(birth && pref && consent && archive && custom);
	carta__v1__response__free_unpacked(r, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matrix_get),
	    cmocka_unit_test(test_matrix_write),
	    cmocka_unit_test(test_matrix_list),
	    cmocka_unit_test(test_matrix_create),
	    cmocka_unit_test(test_matrix_admin_only),
	    cmocka_unit_test(test_concurrent_edit_one_wins),
	    cmocka_unit_test(test_retried_purchase_recorded_once),
	    cmocka_unit_test(test_validation_on_create),
	    cmocka_unit_test(test_lookup_by_email_phone_number),
	    cmocka_unit_test(test_audit_records_each_write),
	    cmocka_unit_test(test_audit_every_kind_of_write),
	    cmocka_unit_test(test_large_items_keep_card_readable),
	    cmocka_unit_test(test_no_side_channels),
	    cmocka_unit_test(test_edit_paths_and_noops),
	    cmocka_unit_test(test_request_key_reuse_refused),
	    cmocka_unit_test(test_card_size_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
