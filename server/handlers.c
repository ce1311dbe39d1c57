/* The card requests: each checks and normalises its input (card.c), runs
 * one store call (store_card.c) and answers. Permissions were checked by
 * dispatch_request through policy.c before any handler runs; every card
 * that leaves goes through reply_card, which filters it by the same
 * policy. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card.h"
#include "carta_error.h"
#include "dispatch.h"
#include "log.h"
#include "pbreflect.h"
#include "secure.h"
#include "store_card.h"
#include "store_erase.h"
#include "store_match.h"
#include "store_verify.h"
#include "validate.h"

#define LIST_DEFAULT  50
#define LIST_MAX      500
#define AUDIT_DEFAULT 100

#define C(name) CARTA__V1__STATUS__CODE__##name

/* A validation failure: msg is "PATH: reason"; the path also goes in the
 * status's field, for programs. */
static void fail_invalid(dispatch_call *call, const char *msg)
{
	char field[96] = "";
	const char *colon = strstr(msg, ": ");

	if (colon != NULL && (size_t)(colon - msg) < sizeof(field) &&
	    memchr(msg, ' ', (size_t)(colon - msg)) == NULL)
		snprintf(field, sizeof(field), "%.*s", (int)(colon - msg), msg);
	dispatch_fail(call, C(INVALID_ARGUMENT), msg, field[0] ? field : NULL);
}

/* Answers a store error with the status a client can act on. */
static void fail_store(dispatch_call *call, int rv, const char *ref_field)
{
	switch (rv) {
	case CARTA_ENOENT:
		dispatch_fail(call, C(NOT_FOUND),
			      "no card matches this reference", ref_field);
		break;
	case CARTA_EEXIST:
		dispatch_fail(
		    call, C(FAILED_PRECONDITION),
		    "several cards match this reference; use the customer "
		    "number",
		    ref_field);
		break;
	case CARTA_ESTATE:
		dispatch_fail(call, C(FAILED_PRECONDITION),
			      "this request key was used for another request",
			      "request_key");
		break;
	case CARTA_EINVAL:
		dispatch_fail(call, C(INVALID_ARGUMENT), "invalid request",
			      NULL);
		break;
	case CARTA_EGONE:
		dispatch_fail(
		    call, C(FAILED_PRECONDITION),
		    "this card was erased: nothing can be added to it",
		    ref_field);
		break;
	case CARTA_ETOOBIG:
		dispatch_fail(
		    call, C(RESOURCE_EXHAUSTED),
		    "the card would be larger than one answer can carry; "
		    "remove something from it first",
		    NULL);
		break;
	default:
		log_event(LOG_ERROR, 0, "event=store_failed error=%s",
			  carta_strerror(rv));
		dispatch_fail(call, C(INTERNAL), "store error", NULL);
	}
}

/* A card answer must fit in one message: the most recent purchases,
 * interactions and notes it carries are cut, oldest first, until it does
 * (the lists have their own paged requests). A write that was stored is
 * then never reported as failed for the size of its answer. */
static void fit_card(Carta__V1__Response *resp)
{
	while (carta__v1__response__get_packed_size(resp) >
		   SECURE_MAX_PLAINTEXT &&
	       card_drop_oldest(resp->card))
		;
}

/* The one way a card leaves the server: filtered by the caller's policy. */
/* Answers with card, filtered for the caller; the OK status may carry
 * the cards it now looks like (a warning: the write is done). */
static void reply_card_dups(dispatch_call *call, Carta__V1__Card *card,
			    Carta__V1__DuplicateCandidate **dups, size_t n)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;

	if (policy_filter_card(call->view, card) != 0) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
		return;
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_CARD;
	resp.card = card;
	fit_card(&resp);
	dispatch_ok(call, &resp, dups, n);
}

static void reply_card(dispatch_call *call, Carta__V1__Card *card)
{
	reply_card_dups(call, card, NULL, 0);
}

/* Normalises a card reference: an email or phone to its stored form. */
int handlers_norm_ref(dispatch_call *call, const policy_view *view,
		      const char *ref, char *out, size_t cap, const char *field)
{
	char why[CARD_ERR_MAX];
	size_t n = strlen(ref);
	int hex = n == 32 && strspn(ref, "0123456789abcdef") == 32;

	if (n == 0 || n >= cap) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "give a customer number, id, email or phone",
			      field);
		return CARTA_EINVAL;
	}
	int rv = 0;
	/* A number typed in lower case ("c-000042") is still a number. */
	int number = (ref[0] == 'C' || ref[0] == 'c') && ref[1] == '-';
	int by_contact = strchr(ref, '@') != NULL || (!hex && !number);
	/* Finding a card by an email or phone tells whether that contact
	 * point exists: only for those who may read contact data. */
	if (by_contact && view->access[CARTA__V1__SECTION__SECTION_CONTACT] <
			      CARTA__V1__ACCESS__ACCESS_READ) {
		dispatch_fail(
		    call, C(PERMISSION_DENIED),
		    "your department may not read contact data: use the "
		    "customer number",
		    "contact");
		return CARTA_EPERM;
	}
	if (strchr(ref, '@') != NULL)
		rv = validate_email(ref, out, cap, why, sizeof(why));
	else if (by_contact)
		rv = validate_phone(ref, call->env->region, out, cap, why,
				    sizeof(why));
	else
		snprintf(out, cap, "%s%s", number ? "C" : "", ref + number);
	if (rv != 0) {
		char msg[CARD_ERR_MAX + 64];
		snprintf(msg, sizeof(msg),
			 "not a customer number, id, email or phone: %s", why);
		dispatch_fail(call, C(INVALID_ARGUMENT), msg, field);
	}
	return rv;
}

static int norm_ref(dispatch_call *call, const char *ref, char *out, size_t cap,
		    const char *field)
{
	return handlers_norm_ref(call, call->view, ref, out, cap, field);
}

static const store_actor *actor(dispatch_call *call, store_actor *a)
{
	a->principal = call->caller->name;
	a->department = call->caller->department;
	a->hidden = policy_hidden(call->view);
	return a;
}

/* ---- custom values ---------------------------------------------------- */

/* Checks every custom value of a card against its field. */
static int check_custom_values(dispatch_call *call, card_ctx *ctx,
			       Carta__V1__Card *card)
{
	for (size_t i = 0; i < card->n_custom; i++) {
		Carta__V1__CustomValue *v = card->custom[i];
		Carta__V1__FieldDef *def = NULL;
		if (store_field_get(call->env->db, v->field, &def) != 0) {
			snprintf(ctx->msg, sizeof(ctx->msg),
				 "custom.%.60s: no such field", v->field);
			return CARTA_EINVAL;
		}
		int rv = card_check_custom(ctx, def, &v->value);
		v->section = def->section;
		carta__v1__field_def__free_unpacked(def, NULL);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* ---- duplicates ---------------------------------------------------------- */

/* A candidate's name is identity: gone when the caller may not read it. */
static void dup_names(dispatch_call *call, Carta__V1__DuplicateCandidate **d,
		      size_t n)
{
	if (call->view->access[CARTA__V1__SECTION__SECTION_IDENTITY] >=
	    CARTA__V1__ACCESS__ACCESS_READ)
		return;
	for (size_t i = 0; i < n; i++) {
		if (d[i]->name != protobuf_c_empty_string)
			free(d[i]->name);
		d[i]->name = (char *)protobuf_c_empty_string;
	}
}

/* Refuses a new card that looks like existing ones, saying which. */
static void fail_duplicates(dispatch_call *call,
			    Carta__V1__DuplicateCandidate **d, size_t n)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Status st = CARTA__V1__STATUS__INIT;
	char msg[200];

	dup_names(call, d, n);
	snprintf(msg, sizeof(msg),
		 "looks like %s%s (score %.3f); to add it anyway, set force "
		 "(carta customer add --force)",
		 d[0]->number, n > 1 ? " and others" : "", d[0]->score);
	st.code = C(ALREADY_EXISTS);
	st.message = msg;
	st.field = "customer_add.card";
	st.duplicates = d;
	st.n_duplicates = n;
	resp.id = call->req->id;
	resp.status = &st;
	dispatch_reply(call->out, &resp);
}

/* ---- customer add, get, edit, archive ---------------------------------- */

/* Checks a card to create. An imported card may bring its purchases,
 * interactions and notes, and keeps the times its consents were given. */
static int check_card(dispatch_call *call, card_ctx *ctx, Carta__V1__Card *c,
		      bool imported)
{
	int rv = 0;
	int64_t now = (int64_t)time(NULL);

	if (!imported && (c->n_purchases || c->n_interactions || c->n_notes)) {
		snprintf(ctx->msg, sizeof(ctx->msg),
			 "card: add purchases, interactions and notes with "
			 "their own requests");
		return CARTA_EINVAL;
	}
	if (c->identity == NULL) {
		c->identity = malloc(sizeof(*c->identity));
		if (c->identity == NULL)
			return CARTA_ENOMEM;
		carta__v1__identity__init(c->identity);
	}
	/* Verification and consent times are the server's to record. */
	for (size_t i = 0; c->contact && i < c->contact->n_emails; i++)
		c->contact->emails[i]->verified_at = 0;
	for (size_t i = 0; c->contact && i < c->contact->n_phones; i++)
		c->contact->phones[i]->verified_at = 0;
	for (size_t i = 0; c->contact && i < c->contact->n_addresses; i++)
		c->contact->addresses[i]->verified_at = 0;
	for (size_t i = 0; i < c->n_consents; i++) {
		Carta__V1__Consent *k = c->consents[i];
		if (!imported || k->at < CARD_TIME_MIN || k->at > now)
			k->at = now;
	}
	rv = card_check_unique(ctx, c);
	if (rv != 0)
		return rv;
	rv = card_check_identity(ctx, c->identity);
	if (rv == 0 && c->contact != NULL)
		rv = card_check_contact(ctx, c->contact);
	if (rv == 0 && c->demographics != NULL)
		rv = card_check_demographics(ctx, c->demographics);
	for (size_t i = 0; rv == 0 && i < c->n_preferences; i++)
		rv = card_check_preference(ctx, c->preferences[i]);
	for (size_t i = 0; rv == 0 && i < c->n_consents; i++)
		rv = card_check_consent(ctx, c->consents[i]);
	for (size_t i = 0; rv == 0 && i < c->n_purchases; i++)
		rv = card_check_purchase(ctx, c->purchases[i]);
	for (size_t i = 0; rv == 0 && i < c->n_interactions; i++)
		rv = card_check_interaction(ctx, c->interactions[i]);
	for (size_t i = 0; rv == 0 && i < c->n_notes; i++)
		rv = card_check_note(ctx, c->notes[i]);
	if (rv == 0)
		rv = check_custom_values(call, ctx, c);
	return rv;
}

static void customer_add(dispatch_call *call)
{
	const Carta__V1__CustomerAddRequest *r = call->req->customer_add;
	Carta__V1__Card *card = NULL, *stored = NULL;
	store_actor who;
	card_ctx ctx;

	if (r->card == NULL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "no card given",
			      "customer_add.card");
		return;
	}
	if (strlen(r->request_key) > 64) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "at most 64 characters",
			      "customer_add.request_key");
		return;
	}
	card = (Carta__V1__Card *)pb_clone(&r->card->base);
	if (card == NULL) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
		return;
	}
	card_ctx_init(&ctx, call->env->region);
	int rv = check_card(call, &ctx, card, false);
	if (rv == CARTA_EINVAL) {
		fail_invalid(call, ctx.msg);
		goto out;
	}
	/* Custom values belong to their field's section, known only now:
	 * writing them needs write access there too. */
	policy_needs needs = {.known = true};
	for (size_t i = 0; i < card->n_custom; i++)
		needs.write |= 1u << card->custom[i]->section;
	const char *why = NULL;
	int section = 0;
	if (rv == 0 && policy_check(call->view, &needs, &why, &section) != 0) {
		dispatch_fail(call, C(PERMISSION_DENIED), why,
			      card_section_name(section));
		goto out;
	}
	/* An erased person is not created again. */
	int suppressed = 0;
	if (rv == 0)
		rv = store_suppressed(call->env->db, card, &suppressed);
	if (rv == 0 && suppressed) {
		dispatch_fail(call, C(FAILED_PRECONDITION),
			      "this person was erased", "customer_add.card");
		goto out;
	}
	Carta__V1__DuplicateCandidate **dups = NULL;
	size_t ndups = 0;
	if (rv == 0)
		rv = store_card_add_checked(call->env->db, actor(call, &who),
					    r->request_key, card, r->force,
					    &dups, &ndups, &stored);
	if (rv == CARTA_EEXIST && ndups > 0) {
		fail_duplicates(call, dups, ndups);
		store_match_free(dups, ndups);
		goto out;
	}
	store_match_free(dups, ndups);
	if (rv != 0) {
		fail_store(call, rv, "customer_add.request_key");
		goto out;
	}
	reply_card(call, stored);
	carta__v1__card__free_unpacked(stored, NULL);
out:
	carta__v1__card__free_unpacked(card, NULL);
}

/* ---- import ------------------------------------------------------------ */

#define IMPORT_ITEMS_MAX 200

/* "contact.emails.0.address: not an email" into its field and reason. */
static void outcome_reason(store_import_outcome *o, const char *msg)
{
	const char *colon = strstr(msg, ": ");
	size_t n = colon ? (size_t)(colon - msg) : 0;

	o->kind = STORE_IMPORT_REJECTED;
	if (n >= sizeof(o->field))
		n = 0;
	memcpy(o->field, msg, n);
	o->field[n] = '\0';
	snprintf(o->message, sizeof(o->message), "%s", n ? colon + 2 : msg);
}

/* Leaves the phones of c whose bit is set in drop out of it. */
static void drop_phones(Carta__V1__Card *c, uint64_t drop)
{
	Carta__V1__Contact *k = c->contact;
	size_t kept = 0;

	for (size_t i = 0; k != NULL && i < k->n_phones; i++) {
		if (i < 64 && (drop >> i) & 1)
			carta__v1__phone__free_unpacked(k->phones[i], NULL);
		else
			k->phones[kept++] = k->phones[i];
	}
	if (k == NULL)
		return;
	k->n_phones = kept;
	/* The primary one left out: the first left is primary. */
	bool primary = false;
	for (size_t i = 0; i < kept; i++)
		primary |= k->phones[i]->primary;
	if (!primary && kept > 0)
		k->phones[0]->primary = true;
}

/* The index in the record of the k-th phone left after drop. */
static size_t phone_index(uint64_t drop, unsigned k)
{
	size_t i = 0;

	for (;; i++)
		if (i >= 64 || !((drop >> i) & 1)) {
			if (k == 0)
				return i;
			k--;
		}
}

/* The section a validation message's path starts with
 * ("contact.phones.0.number: ..."), or 0. */
static int msg_section(const char *msg)
{
	char first[32];
	size_t n = strcspn(msg, ".: ");

	if (n == 0 || n >= sizeof(first))
		return 0;
	memcpy(first, msg, n);
	first[n] = '\0';
	return card_section_parse(first);
}

/* Checks import record given into *out (a copy; the caller frees it,
 * whatever the result). keep: the sections the department may read but
 * not write (policy_import_record's unchanged). With skip_bad_phones, a
 * phone the card rules refuse is left out and the record checked again;
 * o->message notes what was left out, as typed, and why. Returns 0, or
 * check_card's error with ctx->msg saying why. */
static int check_record(dispatch_call *call, const Carta__V1__ImportRequest *r,
			const Carta__V1__Card *given, uint32_t keep,
			card_ctx *ctx, Carta__V1__Card **out,
			store_import_outcome *o)
{
	uint64_t drop = 0;
	unsigned k;

	for (;;) {
		Carta__V1__Card *c = (Carta__V1__Card *)pb_clone(&given->base);

		*out = c;
		if (c == NULL)
			return CARTA_ENOMEM;
		drop_phones(c, drop);
		card_ctx_init(ctx, call->env->region);
		ctx->update =
		    r->upsert_by != CARTA__V1__UPSERT_KEY__UPSERT_NONE;
		int rv = check_card(call, ctx, c, true);
		/* A value refused in a section the department may not write
		 * (keep) could never leave it unchanged: the permission is
		 * the reason. */
		int sec = rv == CARTA_EINVAL ? msg_section(ctx->msg) : 0;
		if (sec != 0 && ((keep >> sec) & 1u)) {
			snprintf(ctx->msg, sizeof(ctx->msg),
				 "%s: " STORE_IMPORT_UNWRITABLE "changes it",
				 card_section_name(sec));
			return rv;
		}
		/* An email refused is named as the record gave it. */
		if (rv == CARTA_EINVAL && given->contact != NULL &&
		    sscanf(ctx->msg, "contact.emails.%u.", &k) == 1 &&
		    k < given->contact->n_emails) {
			size_t n = strlen(ctx->msg);
			snprintf(ctx->msg + n, sizeof(ctx->msg) - n,
				 " ('%.60s')",
				 given->contact->emails[k]->address);
		}
		if (rv != CARTA_EINVAL ||
		    sscanf(ctx->msg, "contact.phones.%u.", &k) != 1)
			return rv;
		size_t i = phone_index(drop, k);
		const char *why = strstr(ctx->msg, ": ");
		if (i >= 64 || i >= given->contact->n_phones || why == NULL)
			return rv;

		const Carta__V1__Phone *p = given->contact->phones[i];
		const char *typed = p->original[0] ? p->original : p->number;
		if (!r->skip_bad_phones) {
			/* Say which phone, and how to keep the card. */
			size_t n = strlen(ctx->msg);
			snprintf(ctx->msg + n, sizeof(ctx->msg) - n,
				 " ('%.40s'; --skip-bad-phones imports the "
				 "card without it)",
				 typed);
			return rv;
		}
		size_t n = strlen(o->message);
		snprintf(o->message + n, sizeof(o->message) - n,
			 "%sphone '%.40s' left out: %s", n ? "; " : "", typed,
			 why + 2);
		drop |= 1ull << i;
		o->phones_left_out++;
		carta__v1__card__free_unpacked(c, NULL);
		*out = NULL;
	}
}

/* Whether the policy refuses what record c writes: then o says so. */
static bool import_refused(dispatch_call *call,
			   const Carta__V1__ImportRequest *r,
			   const Carta__V1__Card *c, uint32_t *unchanged,
			   store_import_outcome *o)
{
	const char *why = NULL;
	int section = 0;
	policy_needs needs = policy_import_record(call->view, r, c, unchanged);

	if (policy_check(call->view, &needs, &why, &section) == 0)
		return false;
	char msg[CARD_ERR_MAX];
	snprintf(msg, sizeof(msg), "%s: %s", card_section_name(section), why);
	outcome_reason(o, msg);
	return true;
}

static int import_reply(dispatch_call *call, const Carta__V1__ImportRequest *r,
			const store_import_outcome *o)
{
	Carta__V1__ImportOutcome *items = calloc(r->n_items, sizeof(*items));
	Carta__V1__ImportOutcome **ptrs = calloc(r->n_items, sizeof(*ptrs));
	Carta__V1__ImportResult result = CARTA__V1__IMPORT_RESULT__INIT;
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;

	if (r->n_items > 0 && (items == NULL || ptrs == NULL)) {
		free(items);
		free(ptrs);
		return CARTA_ENOMEM;
	}
	for (size_t i = 0; i < r->n_items; i++) {
		carta__v1__import_outcome__init(&items[i]);
		items[i].line = r->items[i]->line;
		items[i].kind = (Carta__V1__ImportOutcome__Kind)o[i].kind;
		items[i].number = (char *)o[i].number;
		items[i].field = (char *)o[i].field;
		items[i].message = (char *)o[i].message;
		items[i].items_added = o[i].added;
		items[i].items_present = o[i].present;
		items[i].phones_left_out = o[i].phones_left_out;
		dup_names(call, o[i].dups, o[i].ndups);
		items[i].duplicates = o[i].dups;
		items[i].n_duplicates = o[i].ndups;
		ptrs[i] = &items[i];
	}
	result.outcomes = ptrs;
	result.n_outcomes = r->n_items;
	resp.body_case = CARTA__V1__RESPONSE__BODY_IMPORT_RESULT;
	resp.import_result = &result;
	dispatch_ok(call, &resp, NULL, 0);
	free(items);
	free(ptrs);
	return 0;
}

static void import(dispatch_call *call)
{
	const Carta__V1__ImportRequest *r = call->req->import;
	Carta__V1__Card **cards = NULL;
	store_import_outcome *out = NULL;
	uint32_t *unchanged = NULL;
	const bool upsert = r->upsert_by != CARTA__V1__UPSERT_KEY__UPSERT_NONE;
	store_actor who;
	int rv = 0;

	if (r->n_items > IMPORT_ITEMS_MAX) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "at most 200 records a request", "import.items");
		return;
	}
	cards = calloc(r->n_items + 1, sizeof(*cards));
	out = calloc(r->n_items + 1, sizeof(*out));
	unchanged = calloc(r->n_items + 1, sizeof(*unchanged));
	if (cards == NULL || out == NULL || unchanged == NULL) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
		goto done;
	}

	/* Each record is checked alone: a bad one is reported, the others
	 * go on. */
	for (size_t i = 0; i < r->n_items; i++) {
		const Carta__V1__Card *given = r->items[i]->card;
		card_ctx ctx;
		if (given == NULL) {
			outcome_reason(&out[i], "card: no card given");
			continue;
		}
		bool no_status =
		    given->identity == NULL || given->identity->status[0] == 0;
		/* What the department may not write is said first, before
		 * what is wrong with the values (custom values count once
		 * their fields are known, below). */
		Carta__V1__Card carried = *given;
		carried.custom = NULL;
		carried.n_custom = 0;
		if (import_refused(call, r, &carried, &unchanged[i], &out[i]))
			continue;
		rv = check_record(call, r, given, unchanged[i], &ctx, &cards[i],
				  &out[i]);
		if (rv == CARTA_ENOMEM) {
			dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
			goto done;
		}
		if (rv != 0) {
			outcome_reason(&out[i], ctx.msg);
			carta__v1__card__free_unpacked(cards[i], NULL);
			cards[i] = NULL;
			continue;
		}
		/* An update keeps the status unless the record names one. */
		if (upsert && no_status)
			cards[i]->identity->status[0] = '\0';

		/* A record the department may not write is reported, and
		 * the others go on. */
		if (import_refused(call, r, cards[i], &unchanged[i], &out[i])) {
			carta__v1__card__free_unpacked(cards[i], NULL);
			cards[i] = NULL;
		}
	}

	rv = store_import(call->env->db, actor(call, &who), (int)r->upsert_by,
			  r->create_missing, r->dry_run, r->force, cards,
			  unchanged, r->n_items, out);
	if (rv != 0) {
		fail_store(call, rv, NULL);
		goto done;
	}
	if (import_reply(call, r, out) != 0)
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
done:
	for (size_t i = 0; out != NULL && i < r->n_items; i++)
		store_match_free(out[i].dups, out[i].ndups);
	for (size_t i = 0; cards != NULL && i < r->n_items; i++)
		if (cards[i] != NULL)
			carta__v1__card__free_unpacked(cards[i], NULL);
	free(cards);
	free(out);
	free(unchanged);
}

static void customer_get(dispatch_call *call)
{
	Carta__V1__Card *card = NULL;
	char ref[256];

	if (norm_ref(call, call->req->customer_get->ref, ref, sizeof(ref),
		     "customer_get.ref") != 0)
		return;
	int rv = store_card_get(call->env->db, ref, &card);
	if (rv != 0) {
		fail_store(call, rv, "customer_get.ref");
		return;
	}
	reply_card(call, card);
	carta__v1__card__free_unpacked(card, NULL);
}

/* What an edit changes: applied to the card inside the store's
 * transaction. */
typedef struct {
	dispatch_call *call;
	int section;
	Carta__V1__FieldSet **sets;
	size_t nsets;
	card_ctx ctx;
	/* For consent, preference and custom value changes. */
	const Carta__V1__Consent *consent;
	const char *pref_key, *pref_value;
	const Carta__V1__FieldDef *field;
	const char *custom_value;
	int archive;
	/* Every custom field, loaded before the store's transaction starts
	 * (the store cannot be called again from inside it). */
	Carta__V1__FieldList *fields;
} edit;

static const Carta__V1__FieldDef *find_field(const edit *e, const char *name)
{
	for (size_t i = 0; e->fields && i < e->fields->n_fields; i++)
		if (strcmp(e->fields->fields[i]->name, name) == 0)
			return e->fields->fields[i];
	return NULL;
}

/* Whether path names a field only the server sets: the customer number,
 * a phone's text as typed, verification times. */
static bool server_set_path(int section, const char *path)
{
	char step[64];
	const char *p = path;

	if (section == CARTA__V1__SECTION__SECTION_IDENTITY &&
	    strcmp(path, "number") == 0)
		return true;
	while (*p != '\0') {
		size_t n = strcspn(p, ".");
		snprintf(step, sizeof(step), "%.*s", (int)n, p);
		if (strcmp(step, "original") == 0 ||
		    strcmp(step, "verified_at") == 0)
			return true;
		p += n + (p[n] == '.');
	}
	return false;
}

static int apply_set(edit *e, Carta__V1__Card *card, const char *path,
		     const char *value)
{
	ProtobufCMessage *m = NULL;
	char why[CARD_ERR_MAX];

	switch (e->section) {
	case CARTA__V1__SECTION__SECTION_IDENTITY:
		m = &card->identity->base;
		break;
	case CARTA__V1__SECTION__SECTION_CONTACT:
		m = &card->contact->base;
		break;
	case CARTA__V1__SECTION__SECTION_DEMOGRAPHICS:
		m = &card->demographics->base;
		break;
	default:
		snprintf(e->ctx.msg, sizeof(e->ctx.msg),
			 "%s: edit it with its own commands (pref, consent, "
			 "purchase, interaction, note)",
			 card_section_name(e->section));
		return CARTA_EINVAL;
	}
	if (server_set_path(e->section, path)) {
		snprintf(e->ctx.msg, sizeof(e->ctx.msg),
			 "%s.%.60s: set by the server, not by an edit",
			 card_section_name(e->section), path);
		return CARTA_EINVAL;
	}
	int rv = pb_set_path(m, path, value, why, sizeof(why));
	if (rv == CARTA_EINVAL)
		snprintf(e->ctx.msg, sizeof(e->ctx.msg), "%s.%.60s: %.200s",
			 card_section_name(e->section), path, why);
	if (rv != 0)
		return rv;

	/* A new number is what was typed: normalise it afresh. */
	size_t k;
	char tail[16];
	if (sscanf(path, "phones.%zu.%15s", &k, tail) == 2 &&
	    strcmp(tail, "number") == 0 && k < card->contact->n_phones) {
		Carta__V1__Phone *p = card->contact->phones[k];
		if (p->original != protobuf_c_empty_string)
			free(p->original);
		p->original = (char *)protobuf_c_empty_string;
	}
	return 0;
}

static int upsert_custom(Carta__V1__Card *card, const Carta__V1__FieldDef *def,
			 const char *value)
{
	Carta__V1__CustomValue *v = NULL;

	for (size_t i = 0; i < card->n_custom; i++)
		if (strcmp(card->custom[i]->field, def->name) == 0)
			v = card->custom[i];
	if (v == NULL) {
		Carta__V1__CustomValue **grown = realloc(
		    card->custom, (card->n_custom + 1) * sizeof(*grown));
		if (grown == NULL)
			return CARTA_ENOMEM;
		card->custom = grown;
		v = malloc(sizeof(*v));
		if (v == NULL)
			return CARTA_ENOMEM;
		carta__v1__custom_value__init(v);
		v->field = strdup(def->name);
		card->custom[card->n_custom++] = v;
		if (v->field == NULL)
			return CARTA_ENOMEM;
	}
	v->section = def->section;
	if (v->value != protobuf_c_empty_string)
		free(v->value);
	v->value = strdup(value);
	return v->value ? 0 : CARTA_ENOMEM;
}

static int upsert_pref(Carta__V1__Card *card, const char *key,
		       const char *value)
{
	for (size_t i = 0; i < card->n_preferences; i++) {
		if (strcmp(card->preferences[i]->key, key) != 0)
			continue;
		carta__v1__preference__free_unpacked(card->preferences[i],
						     NULL);
		memmove(&card->preferences[i], &card->preferences[i + 1],
			(card->n_preferences - i - 1) * sizeof(void *));
		card->n_preferences--;
		break;
	}
	if (value == NULL)
		return 0;
	Carta__V1__Preference **grown = realloc(
	    card->preferences, (card->n_preferences + 1) * sizeof(*grown));
	if (grown == NULL)
		return CARTA_ENOMEM;
	card->preferences = grown;
	Carta__V1__Preference *p = malloc(sizeof(*p));
	if (p == NULL)
		return CARTA_ENOMEM;
	carta__v1__preference__init(p);
	card->preferences[card->n_preferences++] = p;
	p->key = strdup(key);
	p->value = strdup(value);
	return p->key && p->value ? 0 : CARTA_ENOMEM;
}

static int upsert_consent(Carta__V1__Card *card, const Carta__V1__Consent *k)
{
	Carta__V1__Consent *copy = (Carta__V1__Consent *)pb_clone(&k->base);

	if (copy == NULL)
		return CARTA_ENOMEM;
	for (size_t i = 0; i < card->n_consents; i++) {
		Carta__V1__Consent *c = card->consents[i];
		if (strcmp(c->purpose, k->purpose) == 0 &&
		    strcmp(c->channel, k->channel) == 0) {
			carta__v1__consent__free_unpacked(c, NULL);
			card->consents[i] = copy;
			return 0;
		}
	}
	Carta__V1__Consent **grown =
	    realloc(card->consents, (card->n_consents + 1) * sizeof(*grown));
	if (grown == NULL) {
		carta__v1__consent__free_unpacked(copy, NULL);
		return CARTA_ENOMEM;
	}
	card->consents = grown;
	card->consents[card->n_consents++] = copy;
	return 0;
}

static int apply_edit(void *arg, Carta__V1__Card *card)
{
	edit *e = arg;
	int rv = 0;

	if (e->archive) {
		char *s = strdup("archived");
		if (s == NULL)
			return CARTA_ENOMEM;
		if (card->identity->status != protobuf_c_empty_string)
			free(card->identity->status);
		card->identity->status = s;
	}
	if (e->consent != NULL)
		rv = upsert_consent(card, e->consent);
	if (rv == 0 && e->pref_key != NULL)
		rv = upsert_pref(card, e->pref_key, e->pref_value);
	if (rv == 0 && e->field != NULL)
		rv = upsert_custom(card, e->field, e->custom_value);
	for (size_t i = 0; rv == 0 && i < e->nsets; i++) {
		const char *path = e->sets[i]->path;
		const char *value = e->sets[i]->value;
		if (strncmp(path, "custom.", 7) == 0) {
			const Carta__V1__FieldDef *def =
			    find_field(e, path + 7);
			if (def == NULL || (int)def->section != e->section) {
				snprintf(e->ctx.msg, sizeof(e->ctx.msg),
					 "%.60s: no such field in this section",
					 path);
				rv = CARTA_EINVAL;
			} else {
				rv = upsert_custom(card, def, value);
			}
			continue;
		}
		rv = apply_set(e, card, path, value);
	}
	if (rv != 0)
		return rv;

	/* The whole section is checked as it will be stored. */
	switch (e->section) {
	case CARTA__V1__SECTION__SECTION_IDENTITY:
		rv = card_check_identity(&e->ctx, card->identity);
		break;
	case CARTA__V1__SECTION__SECTION_CONTACT:
		rv = card_check_contact(&e->ctx, card->contact);
		break;
	case CARTA__V1__SECTION__SECTION_DEMOGRAPHICS:
		rv = card_check_demographics(&e->ctx, card->demographics);
		break;
	case CARTA__V1__SECTION__SECTION_PREFERENCES:
		for (size_t i = 0; rv == 0 && i < card->n_preferences; i++)
			rv = card_check_preference(&e->ctx,
						   card->preferences[i]);
		break;
	case CARTA__V1__SECTION__SECTION_CONSENT:
		for (size_t i = 0; rv == 0 && i < card->n_consents; i++)
			rv = card_check_consent(&e->ctx, card->consents[i]);
		break;
	}
	for (size_t i = 0; rv == 0 && i < card->n_custom; i++) {
		if ((int)card->custom[i]->section != e->section)
			continue;
		const Carta__V1__FieldDef *def =
		    find_field(e, card->custom[i]->field);
		if (def != NULL)
			rv = card_check_custom(&e->ctx, def,
					       &card->custom[i]->value);
	}
	return rv;
}

/* Runs an edit and answers with the card, or the reason it failed. */
static Carta__V1__Card *run_edit(dispatch_call *call, edit *e, const char *ref,
				 uint64_t if_version, const char *ref_field)
{
	Carta__V1__Card *card = NULL;
	store_actor who;
	uint64_t current = 0;
	char nref[256];

	if (norm_ref(call, ref, nref, sizeof(nref), ref_field) != 0)
		return NULL;
	e->call = call;
	card_ctx_init(&e->ctx, call->env->region);
	int rv = store_field_list(call->env->db, &e->fields);
	if (rv == 0)
		rv = store_card_edit(call->env->db, actor(call, &who), nref,
				     e->section, if_version, apply_edit, e,
				     &current, &card);
	if (e->fields != NULL)
		carta__v1__field_list__free_unpacked(e->fields, NULL);
	e->fields = NULL;
	if (rv == CARTA_ECONFLICT) {
		Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
		Carta__V1__Status st = CARTA__V1__STATUS__INIT;
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "the %s section is now at version %llu; you read "
			 "version %llu",
			 card_section_name(e->section),
			 (unsigned long long)current,
			 (unsigned long long)if_version);
		st.code = C(CONFLICT);
		st.message = msg;
		st.field = "if_version";
		st.current_version = current;
		resp.id = call->req->id;
		resp.status = &st;
		dispatch_reply(call->out, &resp);
		return NULL;
	}
	if (rv == CARTA_EINVAL && e->ctx.msg[0] != '\0') {
		fail_invalid(call, e->ctx.msg);
		return NULL;
	}
	if (rv != 0) {
		fail_store(call, rv, ref_field);
		return NULL;
	}
	return card;
}

/* Whether an edit of the contact section would put back an erased
 * person's email or phone (suppression, store_erase.h). Returns 0 with
 * *back set, or a store error. */
static int edit_brings_back(dispatch_call *call,
			    const Carta__V1__CustomerEditRequest *r, int *back)
{
	Carta__V1__Card card = CARTA__V1__CARD__INIT;
	Carta__V1__Contact contact = CARTA__V1__CONTACT__INIT;
	Carta__V1__Email emails[100], *ep[100];
	Carta__V1__Phone phones[100], *pp[100];
	char values[100][320], why[CARD_ERR_MAX];
	size_t nv = 0;

	*back = 0;
	if (r->section != CARTA__V1__SECTION__SECTION_CONTACT)
		return 0;
	for (size_t i = 0; i < r->n_sets && nv < 100; i++) {
		const char *path = r->sets[i]->path, *v = r->sets[i]->value;
		const char *dot = strrchr(path, '.');
		if (v[0] == '\0' || dot == NULL)
			continue;
		/* A value the edit's own checks refuse is refused there. */
		if (strncmp(path, "emails.", 7) == 0 &&
		    strcmp(dot, ".address") == 0) {
			if (validate_email(v, values[nv], sizeof(values[nv]),
					   why, sizeof(why)) != 0)
				continue;
			carta__v1__email__init(&emails[contact.n_emails]);
			emails[contact.n_emails].address = values[nv++];
			ep[contact.n_emails] = &emails[contact.n_emails];
			contact.n_emails++;
		} else if (strncmp(path, "phones.", 7) == 0 &&
			   strcmp(dot, ".number") == 0) {
			if (validate_phone(v, call->env->region, values[nv],
					   sizeof(values[nv]), why,
					   sizeof(why)) != 0)
				continue;
			carta__v1__phone__init(&phones[contact.n_phones]);
			phones[contact.n_phones].number = values[nv++];
			pp[contact.n_phones] = &phones[contact.n_phones];
			contact.n_phones++;
		}
	}
	if (nv == 0)
		return 0;
	contact.emails = ep;
	contact.phones = pp;
	card.contact = &contact;
	int rv = store_suppressed(call->env->db, &card, back);
	sodium_memzero(values, sizeof(values));
	return rv;
}

static void customer_edit(dispatch_call *call)
{
	const Carta__V1__CustomerEditRequest *r = call->req->customer_edit;
	edit e = {.section = r->section, .sets = r->sets, .nsets = r->n_sets};

	if (card_section_name(r->section) == NULL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "unknown section",
			      "customer_edit.section");
		return;
	}
	if (r->if_version == 0) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "name the version you read (--if-version)",
			      "customer_edit.if_version");
		return;
	}
	if (r->n_sets == 0 || r->n_sets > 100) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "give 1 to 100 changes", "customer_edit.sets");
		return;
	}
	if (r->source[0] != '\0' && !store_verify_source_valid(r->source)) {
		dispatch_fail(
		    call, C(INVALID_ARGUMENT),
		    "say how it was confirmed: phone, email, visit or form",
		    "customer_edit.source");
		return;
	}
	/* An edit may not put an erased person's email or phone back. */
	int back = 0;
	int brv = edit_brings_back(call, r, &back);
	if (brv != 0 || back) {
		if (brv != 0)
			fail_store(call, brv, "customer_edit.ref");
		else
			dispatch_fail(
			    call, C(FAILED_PRECONDITION),
			    "this email or phone belonged to an erased person",
			    "customer_edit.sets");
		return;
	}
	Carta__V1__Card *card =
	    run_edit(call, &e, r->ref, r->if_version, "customer_edit.ref");
	/* An edit made with the customer, through a channel, confirms what
	 * it set. */
	if (card != NULL && r->source[0] != '\0') {
		store_actor who;
		int vrv = store_verify_edit(call->env->db, actor(call, &who),
					    r->section, r->source, r->sets,
					    r->n_sets, card);
		if (vrv != 0)
			log_event(LOG_WARN, call->out->conn,
				  "event=verify_edit_failed error=%s",
				  carta_strerror(vrv));
	}
	/* The duplicate check runs on edits too: the edit stands, and the
	 * answer says which cards the card now looks like. */
	Carta__V1__DuplicateCandidate **dups = NULL;
	size_t ndups = 0;
	if (card != NULL &&
	    (r->section == CARTA__V1__SECTION__SECTION_IDENTITY ||
	     r->section == CARTA__V1__SECTION__SECTION_CONTACT ||
	     r->section == CARTA__V1__SECTION__SECTION_DEMOGRAPHICS) &&
	    store_match_card(call->env->db, card, 0, policy_hidden(call->view),
			     &dups, &ndups) == 0 &&
	    ndups > 0)
		dup_names(call, dups, ndups);
	if (card != NULL) {
		reply_card_dups(call, card, dups, ndups);
		carta__v1__card__free_unpacked(card, NULL);
	}
	store_match_free(dups, ndups);
}

static void customer_archive(dispatch_call *call)
{
	edit e = {.section = CARTA__V1__SECTION__SECTION_IDENTITY,
		  .archive = 1};
	Carta__V1__Card *card =
	    run_edit(call, &e, call->req->customer_archive->ref, 0,
		     "customer_archive.ref");
	if (card != NULL) {
		reply_card(call, card);
		carta__v1__card__free_unpacked(card, NULL);
	}
}

static void consent_set(dispatch_call *call)
{
	const Carta__V1__ConsentSetRequest *r = call->req->consent_set;
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	card_ctx ctx;

	if (r->consent == NULL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "no consent given",
			      "consent_set.consent");
		return;
	}
	Carta__V1__Consent *k =
	    (Carta__V1__Consent *)pb_clone(&r->consent->base);
	if (k == NULL) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
		return;
	}
	card_ctx_init(&ctx, call->env->region);
	k->at = 0; /* the server's clock says when */
	if (card_check_consent(&ctx, k) != 0) {
		fail_invalid(call, ctx.msg);
		goto out;
	}
	edit e = {.section = CARTA__V1__SECTION__SECTION_CONSENT, .consent = k};
	Carta__V1__Card *card =
	    run_edit(call, &e, r->ref, 0, "consent_set.ref");
	if (card != NULL) {
		resp.body_case = CARTA__V1__RESPONSE__BODY_CONSENT;
		resp.consent = k;
		dispatch_ok(call, &resp, NULL, 0);
		carta__v1__card__free_unpacked(card, NULL);
	}
out:
	carta__v1__consent__free_unpacked(k, NULL);
}

static void pref_change(dispatch_call *call, const char *ref, const char *key,
			const char *value)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Preference p = CARTA__V1__PREFERENCE__INIT;
	edit e = {.section = CARTA__V1__SECTION__SECTION_PREFERENCES,
		  .pref_key = key,
		  .pref_value = value};

	Carta__V1__Card *card = run_edit(call, &e, ref, 0, "ref");
	if (card == NULL)
		return;
	p.key = (char *)key;
	p.value = (char *)(value ? value : "");
	/* The stored form (normalised) is in the card. */
	for (size_t i = 0; i < card->n_preferences; i++)
		if (strcmp(card->preferences[i]->key, key) == 0)
			p.value = card->preferences[i]->value;
	resp.body_case = CARTA__V1__RESPONSE__BODY_PREFERENCE;
	resp.preference = &p;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__card__free_unpacked(card, NULL);
}

static void custom_set(dispatch_call *call)
{
	const Carta__V1__CustomSetRequest *r = call->req->custom_set;
	edit e = {.section = call->field->section,
		  .field = call->field,
		  .custom_value = r->value};

	Carta__V1__Card *card = run_edit(call, &e, r->ref, 0, "custom_set.ref");
	if (card != NULL) {
		reply_card(call, card);
		carta__v1__card__free_unpacked(card, NULL);
	}
}

/* ---- appends and lists -------------------------------------------------- */

static void append(dispatch_call *call, const char *ref, int section,
		   const ProtobufCMessage *item, const char *key,
		   const char *ref_field)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	ProtobufCMessage *copy = NULL, *stored = NULL;
	store_actor who;
	card_ctx ctx;
	char nref[256];
	int rv;

	if (item == NULL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "nothing to add",
			      ref_field);
		return;
	}
	if (strlen(key) > 64) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "request key: at most 64 characters",
			      "request_key");
		return;
	}
	if (norm_ref(call, ref, nref, sizeof(nref), ref_field) != 0)
		return;
	copy = pb_clone(item);
	if (copy == NULL) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
		return;
	}
	card_ctx_init(&ctx, call->env->region);
	if (section == CARTA__V1__SECTION__SECTION_PURCHASES)
		rv = card_check_purchase(&ctx, (Carta__V1__Purchase *)copy);
	else if (section == CARTA__V1__SECTION__SECTION_INTERACTIONS)
		rv = card_check_interaction(&ctx,
					    (Carta__V1__Interaction *)copy);
	else
		rv = card_check_note(&ctx, (Carta__V1__Note *)copy);
	if (rv == CARTA_EINVAL) {
		fail_invalid(call, ctx.msg);
		goto out;
	}
	if (rv == 0)
		rv = store_append(call->env->db, actor(call, &who), nref,
				  section, key, copy, &stored);
	if (rv != 0) {
		fail_store(call, rv, ref_field);
		goto out;
	}
	if (section == CARTA__V1__SECTION__SECTION_PURCHASES) {
		resp.body_case = CARTA__V1__RESPONSE__BODY_PURCHASE;
		resp.purchase = (Carta__V1__Purchase *)stored;
	} else if (section == CARTA__V1__SECTION__SECTION_INTERACTIONS) {
		resp.body_case = CARTA__V1__RESPONSE__BODY_INTERACTION;
		resp.interaction = (Carta__V1__Interaction *)stored;
	} else {
		resp.body_case = CARTA__V1__RESPONSE__BODY_NOTE;
		resp.note = (Carta__V1__Note *)stored;
	}
	dispatch_ok(call, &resp, NULL, 0);
	protobuf_c_message_free_unpacked(stored, NULL);
out:
	protobuf_c_message_free_unpacked(copy, NULL);
}

static void list(dispatch_call *call, const Carta__V1__ListRequest *r,
		 int section)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	ProtobufCMessage *page = NULL;
	char nref[256];
	unsigned limit = r->limit ? r->limit : LIST_DEFAULT;

	if (limit > LIST_MAX) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "at most 500 a page",
			      "limit");
		return;
	}
	if (norm_ref(call, r->ref, nref, sizeof(nref), "ref") != 0)
		return;
	int rv =
	    store_list(call->env->db, nref, section, r->cursor, limit, &page);
	if (rv == CARTA_EINVAL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "malformed cursor",
			      "cursor");
		return;
	}
	if (rv != 0) {
		fail_store(call, rv, "ref");
		return;
	}
	if (section == CARTA__V1__SECTION__SECTION_PURCHASES) {
		resp.body_case = CARTA__V1__RESPONSE__BODY_PURCHASES;
		resp.purchases = (Carta__V1__PurchasePage *)page;
	} else if (section == CARTA__V1__SECTION__SECTION_INTERACTIONS) {
		resp.body_case = CARTA__V1__RESPONSE__BODY_INTERACTIONS;
		resp.interactions = (Carta__V1__InteractionPage *)page;
	} else {
		resp.body_case = CARTA__V1__RESPONSE__BODY_NOTES;
		resp.notes = (Carta__V1__NotePage *)page;
	}
	dispatch_ok(call, &resp, NULL, 0);
	protobuf_c_message_free_unpacked(page, NULL);
}

static void consent_list(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__ConsentList list = CARTA__V1__CONSENT_LIST__INIT;
	Carta__V1__Card *card = NULL;
	char ref[256];

	if (norm_ref(call, call->req->consent_list->ref, ref, sizeof(ref),
		     "consent_list.ref") != 0)
		return;
	int rv = store_card_get(call->env->db, ref, &card);
	if (rv != 0) {
		fail_store(call, rv, "consent_list.ref");
		return;
	}
	list.items = card->consents;
	list.n_items = card->n_consents;
	resp.body_case = CARTA__V1__RESPONSE__BODY_CONSENTS;
	resp.consents = &list;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__card__free_unpacked(card, NULL);
}

/* ---- fields, departments, policies, audit -------------------------------- */

static void field_define(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	store_actor who;
	card_ctx ctx;
	Carta__V1__FieldDef *def =
	    (Carta__V1__FieldDef *)pb_clone(&call->req->field_define->base);

	if (def == NULL) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
		return;
	}
	card_ctx_init(&ctx, call->env->region);
	if (card_check_field_def(&ctx, def) != 0) {
		fail_invalid(call, ctx.msg);
		goto out;
	}
	int rv = store_field_define(call->env->db, actor(call, &who), def);
	if (rv == CARTA_EEXIST) {
		dispatch_fail(call, C(ALREADY_EXISTS),
			      "a field with this name exists", "field.name");
		goto out;
	}
	if (rv != 0) {
		fail_store(call, rv, NULL);
		goto out;
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_FIELD;
	resp.field = def;
	dispatch_ok(call, &resp, NULL, 0);
out:
	carta__v1__field_def__free_unpacked(def, NULL);
}

static void field_list(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__FieldList *list = NULL;

	int rv = store_field_list(call->env->db, &list);
	if (rv != 0) {
		fail_store(call, rv, NULL);
		return;
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_FIELDS;
	resp.fields = list;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__field_list__free_unpacked(list, NULL);
}

static void department_add(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Department d = CARTA__V1__DEPARTMENT__INIT;
	const char *name = call->req->department_add->name;
	store_actor who;
	card_ctx ctx;

	card_ctx_init(&ctx, call->env->region);
	size_t n = strlen(name);
	if (n == 0 || n > STORE_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
		dispatch_fail(
		    call, C(INVALID_ARGUMENT),
		    "a department name is 1-64 of a-z, 0-9, '_' or '-'",
		    "department_add.name");
		return;
	}
	int rv =
	    store_department_create(call->env->db, actor(call, &who), name);
	if (rv == CARTA_EEXIST) {
		dispatch_fail(call, C(ALREADY_EXISTS), "this department exists",
			      "department_add.name");
		return;
	}
	if (rv != 0) {
		fail_store(call, rv, NULL);
		return;
	}
	d.name = (char *)name;
	resp.body_case = CARTA__V1__RESPONSE__BODY_DEPARTMENT;
	resp.department = &d;
	dispatch_ok(call, &resp, NULL, 0);
}

static void department_list(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__DepartmentList *list = NULL;

	int rv = store_department_list(call->env->db, &list);
	if (rv != 0) {
		fail_store(call, rv, NULL);
		return;
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_DEPARTMENTS;
	resp.departments = list;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__department_list__free_unpacked(list, NULL);
}

static void policy_set(dispatch_call *call)
{
	const Carta__V1__PolicySetRequest *r = call->req->policy_set;
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__PolicyEntry e = CARTA__V1__POLICY_ENTRY__INIT;
	store_actor who;

	if (card_section_name(r->section) == NULL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "unknown section",
			      "policy_set.section");
		return;
	}
	if (r->access > CARTA__V1__ACCESS__ACCESS_WRITE) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "access is none, read or write",
			      "policy_set.access");
		return;
	}
	int rv = store_policy_set(call->env->db, actor(call, &who),
				  r->department, r->section, r->access);
	if (rv == CARTA_ENOENT) {
		dispatch_fail(call, C(NOT_FOUND), "no such department",
			      "policy_set.department");
		return;
	}
	if (rv != 0) {
		fail_store(call, rv, NULL);
		return;
	}
	e.department = r->department;
	e.section = r->section;
	e.access = r->access;
	resp.body_case = CARTA__V1__RESPONSE__BODY_POLICY;
	resp.policy = &e;
	dispatch_ok(call, &resp, NULL, 0);
}

static void policy_show(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__PolicyTable *table = NULL;

	int rv = store_policy_table(call->env->db, &table);
	if (rv != 0) {
		fail_store(call, rv, NULL);
		return;
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_POLICIES;
	resp.policies = table;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__policy_table__free_unpacked(table, NULL);
}

static void audit(dispatch_call *call)
{
	const Carta__V1__AuditRequest *r = call->req->audit;
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__AuditPage *page = NULL;
	char ref[256] = "";
	unsigned limit = r->limit ? r->limit : AUDIT_DEFAULT;

	if (limit > LIST_MAX) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "at most 500 a page",
			      "audit.limit");
		return;
	}
	if (r->customer[0] != '\0' &&
	    norm_ref(call, r->customer, ref, sizeof(ref), "audit.customer") !=
		0)
		return;
	int rv = store_audit_list(call->env->db, ref, r->principal, r->since,
				  r->cursor, limit, &page);
	if (rv == CARTA_EINVAL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "malformed cursor",
			      "audit.cursor");
		return;
	}
	if (rv != 0) {
		fail_store(call, rv, "audit.customer");
		return;
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_AUDIT;
	resp.audit = page;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__audit_page__free_unpacked(page, NULL);
}

bool handlers_card(dispatch_call *call)
{
	const Carta__V1__Request *r = call->req;

	switch (r->body_case) {
	case CARTA__V1__REQUEST__BODY_CUSTOMER_ADD:
		customer_add(call);
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOMER_GET:
		customer_get(call);
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOMER_EDIT:
		customer_edit(call);
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOMER_ARCHIVE:
		customer_archive(call);
		break;
	case CARTA__V1__REQUEST__BODY_PURCHASE_ADD:
		append(call, r->purchase_add->ref,
		       CARTA__V1__SECTION__SECTION_PURCHASES,
		       (const ProtobufCMessage *)r->purchase_add->purchase,
		       r->purchase_add->request_key, "purchase_add.ref");
		break;
	case CARTA__V1__REQUEST__BODY_INTERACTION_ADD:
		append(
		    call, r->interaction_add->ref,
		    CARTA__V1__SECTION__SECTION_INTERACTIONS,
		    (const ProtobufCMessage *)r->interaction_add->interaction,
		    r->interaction_add->request_key, "interaction_add.ref");
		break;
	case CARTA__V1__REQUEST__BODY_NOTE_ADD:
		append(call, r->note_add->ref,
		       CARTA__V1__SECTION__SECTION_NOTES,
		       (const ProtobufCMessage *)r->note_add->note,
		       r->note_add->request_key, "note_add.ref");
		break;
	case CARTA__V1__REQUEST__BODY_PURCHASE_LIST:
		list(call, r->purchase_list,
		     CARTA__V1__SECTION__SECTION_PURCHASES);
		break;
	case CARTA__V1__REQUEST__BODY_INTERACTION_LIST:
		list(call, r->interaction_list,
		     CARTA__V1__SECTION__SECTION_INTERACTIONS);
		break;
	case CARTA__V1__REQUEST__BODY_NOTE_LIST:
		list(call, r->note_list, CARTA__V1__SECTION__SECTION_NOTES);
		break;
	case CARTA__V1__REQUEST__BODY_CONSENT_SET:
		consent_set(call);
		break;
	case CARTA__V1__REQUEST__BODY_CONSENT_LIST:
		consent_list(call);
		break;
	case CARTA__V1__REQUEST__BODY_PREF_SET:
		pref_change(call, r->pref_set->ref, r->pref_set->key,
			    r->pref_set->value);
		break;
	case CARTA__V1__REQUEST__BODY_PREF_UNSET:
		pref_change(call, r->pref_unset->ref, r->pref_unset->key, NULL);
		break;
	case CARTA__V1__REQUEST__BODY_FIELD_DEFINE:
		field_define(call);
		break;
	case CARTA__V1__REQUEST__BODY_FIELD_LIST:
		field_list(call);
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOM_SET:
		custom_set(call);
		break;
	case CARTA__V1__REQUEST__BODY_DEPARTMENT_ADD:
		department_add(call);
		break;
	case CARTA__V1__REQUEST__BODY_DEPARTMENT_LIST:
		department_list(call);
		break;
	case CARTA__V1__REQUEST__BODY_POLICY_SET:
		policy_set(call);
		break;
	case CARTA__V1__REQUEST__BODY_POLICY_SHOW:
		policy_show(call);
		break;
	case CARTA__V1__REQUEST__BODY_AUDIT:
		audit(call);
		break;
	case CARTA__V1__REQUEST__BODY_IMPORT:
		import(call);
		break;
	default:
		return false;
	}
	return true;
}
