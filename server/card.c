#include "card.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "carta_error.h"
#include "validate.h"

static const char *const section_names[CARD_SECTIONS] = {
    NULL,	   "identity",	   "contact", "demographics", "purchases",
    "preferences", "interactions", "notes",   "consent",
};

const char *card_section_name(int section)
{
	if (section <= 0 || section >= CARD_SECTIONS)
		return NULL;
	return section_names[section];
}

int card_section_parse(const char *name)
{
	for (int i = 1; i < CARD_SECTIONS; i++)
		if (strcasecmp(name, section_names[i]) == 0)
			return i;
	return 0;
}

int card_mark_more(Carta__V1__Card *c, int section)
{
	for (size_t i = 0; i < c->n_more_items; i++)
		if ((int)c->more_items[i] == section)
			return 0;
	Carta__V1__Section *grown =
	    realloc(c->more_items, (c->n_more_items + 1) * sizeof(*grown));
	if (grown == NULL)
		return CARTA_ENOMEM;
	grown[c->n_more_items++] = (Carta__V1__Section)section;
	c->more_items = grown;
	return 0;
}

uint32_t card_new_sections(const Carta__V1__Card *c)
{
	uint32_t bits = 1u << CARTA__V1__SECTION__SECTION_IDENTITY;

	if (card_has_contact(c))
		bits |= 1u << CARTA__V1__SECTION__SECTION_CONTACT;
	if (card_has_demographics(c))
		bits |= 1u << CARTA__V1__SECTION__SECTION_DEMOGRAPHICS;
	if (c->n_preferences > 0)
		bits |= 1u << CARTA__V1__SECTION__SECTION_PREFERENCES;
	if (c->n_consents > 0)
		bits |= 1u << CARTA__V1__SECTION__SECTION_CONSENT;
	if (c->n_purchases > 0)
		bits |= 1u << CARTA__V1__SECTION__SECTION_PURCHASES;
	if (c->n_interactions > 0)
		bits |= 1u << CARTA__V1__SECTION__SECTION_INTERACTIONS;
	if (c->n_notes > 0)
		bits |= 1u << CARTA__V1__SECTION__SECTION_NOTES;
	for (size_t i = 0; i < c->n_custom; i++)
		if (card_section_name(c->custom[i]->section))
			bits |= 1u << c->custom[i]->section;
	return bits;
}

int card_has_contact(const Carta__V1__Card *c)
{
	return c->contact != NULL &&
	       protobuf_c_message_get_packed_size(&c->contact->base) > 0;
}

int card_has_demographics(const Carta__V1__Card *c)
{
	return c->demographics != NULL &&
	       protobuf_c_message_get_packed_size(&c->demographics->base) > 0;
}

void card_ctx_init(card_ctx *ctx, const char *region)
{
	time_t now = time(NULL);
	struct tm tm;

	memset(ctx, 0, sizeof(*ctx));
	ctx->region = region;
	gmtime_r(&now, &tm);
	strftime(ctx->today, sizeof(ctx->today), "%Y-%m-%d", &tm);
	/* Allows for clients a time zone ahead of UTC. */
	now += 86400;
	gmtime_r(&now, &tm);
	strftime(ctx->tomorrow, sizeof(ctx->tomorrow), "%Y-%m-%d", &tm);
}

static int fail(card_ctx *ctx, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(card_ctx *ctx, const char *field, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(ctx->msg, sizeof(ctx->msg), "%s%s%s: %s", ctx->path,
		 field[0] ? "." : "", field, why);
	return CARTA_EINVAL;
}

int card_check_unique(card_ctx *ctx, const Carta__V1__Card *c)
{
	for (size_t i = 0; i < c->n_preferences; i++)
		for (size_t j = i + 1; j < c->n_preferences; j++)
			if (strcmp(c->preferences[i]->key,
				   c->preferences[j]->key) == 0)
				return fail(ctx, "preferences",
					    "'%.40s' is given twice",
					    c->preferences[i]->key);
	for (size_t i = 0; i < c->n_consents; i++)
		for (size_t j = i + 1; j < c->n_consents; j++)
			if (strcmp(c->consents[i]->purpose,
				   c->consents[j]->purpose) == 0 &&
			    strcmp(c->consents[i]->channel,
				   c->consents[j]->channel) == 0)
				return fail(ctx, "consents",
					    "%.40s by %.10s is given twice",
					    c->consents[i]->purpose,
					    c->consents[i]->channel);
	for (size_t i = 0; i < c->n_custom; i++)
		for (size_t j = i + 1; j < c->n_custom; j++)
			if (strcmp(c->custom[i]->field, c->custom[j]->field) ==
			    0)
				return fail(ctx, "custom",
					    "'%.40s' is given twice",
					    c->custom[i]->field);
	return 0;
}

/* Replaces *slot (a protobuf string) with a copy of text. */
static int replace(char **slot, const char *text)
{
	if (strcmp(*slot, text) == 0)
		return 0;
	char *copy = strdup(text);
	if (copy == NULL)
		return CARTA_ENOMEM;
	if (*slot != protobuf_c_empty_string)
		free(*slot);
	*slot = copy;
	return 0;
}

/* Validates and normalises a text field in place. */
static int text(card_ctx *ctx, const char *field, char **slot, size_t max_chars,
		int flags)
{
	char out[VALIDATE_TEXT_SIZE(4000)], why[CARD_ERR_MAX];

	if (validate_text(*slot, max_chars, flags | VALIDATE_ALLOW_EMPTY, out,
			  sizeof(out), why, sizeof(why)) != 0)
		return fail(ctx, field, "%s", why);
	return replace(slot, out);
}

/* A value from a fixed vocabulary (empty allowed when may_be_empty). */
static int one_of(card_ctx *ctx, const char *field, char **slot,
		  const char *const *words, int may_be_empty)
{
	if ((*slot)[0] == '\0' && may_be_empty)
		return 0;
	for (int i = 0; words[i] != NULL; i++) {
		if (strcasecmp(*slot, words[i]) == 0)
			return replace(slot, words[i]);
	}
	char list[200] = "";
	for (int i = 0; words[i] != NULL; i++) {
		strcat(list, i ? ", " : "");
		strcat(list, words[i]);
	}
	return fail(ctx, field, "must be one of %s", list);
}

/* Pushes "name" or "name.N" onto the context's path; returns the old
 * length to restore. */
static size_t push(card_ctx *ctx, const char *name, long index)
{
	size_t old = strlen(ctx->path);
	size_t cap = sizeof(ctx->path) - old;

	if (index >= 0)
		snprintf(ctx->path + old, cap, "%s%s.%ld", old ? "." : "", name,
			 index);
	else
		snprintf(ctx->path + old, cap, "%s%s", old ? "." : "", name);
	return old;
}

static void pop(card_ctx *ctx, size_t old)
{
	ctx->path[old] = '\0';
}

static const char *const statuses[] = {"active", "prospect", "inactive",
				       "archived", NULL};
static const char *const channels[] = {"email", "phone", "sms",
				       "post",	"visit", NULL};
static const char *const consent_channels[] = {"email", "phone", "sms", "post",
					       NULL};
static const char *const interaction_channels[] = {
    "phone", "email", "visit", "chat", "letter", "sms", "other", NULL};

bool card_named(const Carta__V1__Identity *m)
{
	return m != NULL &&
	       (m->given_name[0] != '\0' || m->family_name[0] != '\0' ||
		m->company[0] != '\0' || m->external_id[0] != '\0');
}

int card_check_identity(card_ctx *ctx, Carta__V1__Identity *m)
{
	size_t old = push(ctx, "identity", -1);
	int rv = text(ctx, "given_name", &m->given_name, 100, 0);
	if (rv == 0)
		rv = text(ctx, "family_name", &m->family_name, 100, 0);
	if (rv == 0)
		rv = text(ctx, "company", &m->company, 200, 0);
	if (rv == 0)
		rv = text(ctx, "home_branch", &m->home_branch, 64, 0);
	if (rv == 0)
		rv = text(ctx, "external_id", &m->external_id, 64, 0);
	if (rv == 0 && m->status[0] == '\0')
		rv = replace(&m->status, "active");
	if (rv == 0)
		rv = one_of(ctx, "status", &m->status, statuses, 0);
	/* A card imported with purchases may know its customer by another
	 * system's key alone. */
	if (rv == 0 && !ctx->update && !card_named(m))
		rv = fail(ctx, "",
			  "a card needs a given name, a family name, "
			  "a company or an external id");
	pop(ctx, old);
	return rv;
}

static int check_primary(card_ctx *ctx, const char *list, size_t n,
			 int primaries)
{
	if (n > CARD_LIST_MAX)
		return fail(ctx, list, "at most %d entries", CARD_LIST_MAX);
	if (primaries > 1)
		return fail(ctx, list, "only one entry may be primary");
	return 0;
}

static int check_email(card_ctx *ctx, Carta__V1__Email *e)
{
	char out[VALIDATE_EMAIL_SIZE], why[CARD_ERR_MAX];

	if (validate_email(e->address, out, sizeof(out), why, sizeof(why)) != 0)
		return fail(ctx, "address", "%s", why);
	int rv = replace(&e->address, out);
	return rv ? rv : text(ctx, "label", &e->label, 40, 0);
}

/* The region a phone without an international prefix is read in: the
 * country of the card's primary address, else of its first address with
 * a country, else fallback (the server's default_country). Returns out
 * or fallback. */
static const char *phone_region(const Carta__V1__Contact *m,
				const char *fallback, char out[3])
{
	bool found = false;
	char cc[3], why[CARD_ERR_MAX];

	for (size_t i = 0; i < m->n_addresses; i++) {
		const Carta__V1__Address *a = m->addresses[i];
		if (a->country[0] == '\0' ||
		    validate_country(a->country, cc, why, sizeof(why)) != 0 ||
		    (found && !a->primary))
			continue;
		memcpy(out, cc, 3);
		found = true;
		if (a->primary)
			break;
	}
	return found ? out : fallback;
}

/* Whether the text typed for a phone can be what its E.164 number was
 * read from: their last six digits agree (a changed number makes the
 * old text a stale one). */
static bool typed_for(const char *typed, const char *e164)
{
	char a[8] = "", b[8] = "";
	size_t na = 0, nb = 0;

	for (const char *s = typed + strlen(typed); s > typed && na < 6;)
		if (*--s >= '0' && *s <= '9')
			a[5 - na++] = *s;
	for (const char *s = e164 + strlen(e164); s > e164 && nb < 6;)
		if (*--s >= '0' && *s <= '9')
			b[5 - nb++] = *s;
	return na == 6 && nb == 6 && memcmp(a, b, 6) == 0;
}

static int check_phone(card_ctx *ctx, const char *region, Carta__V1__Phone *p)
{
	char out[VALIDATE_E164_SIZE], why[CARD_ERR_MAX];
	/* A number in E.164 as stored (a card's own phones coming back in
	 * an edit, a changed number in an exported file) is kept: read
	 * again from what was typed, it would move to another country when
	 * the address did. Anything else is what was typed ("original",
	 * else "number"), read in region; what was typed is kept for
	 * display. */
	bool e164 = p->number[0] == '+' &&
		    validate_phone(p->number, region, out, sizeof(out), why,
				   sizeof(why)) == 0 &&
		    strcmp(out, p->number) == 0;
	const char *typed = e164	     ? p->number
			    : p->original[0] ? p->original
					     : p->number;

	if (typed[0] == '\0')
		return fail(ctx, "number", "is empty");
	if (validate_phone(typed, region, out, sizeof(out), why, sizeof(why)) !=
	    0)
		return fail(ctx, "number", "%s", why);
	int rv = !e164 || !typed_for(p->original, p->number)
		     ? replace(&p->original, typed)
		     : 0;
	if (rv == 0)
		rv = replace(&p->number, out);
	if (rv == 0)
		rv = text(ctx, "original", &p->original, 40, 0);
	return rv ? rv : text(ctx, "label", &p->label, 40, 0);
}

static int check_address(card_ctx *ctx, Carta__V1__Address *a)
{
	int rv = text(ctx, "street", &a->street, 200, VALIDATE_MULTILINE);
	if (rv == 0)
		rv = text(ctx, "city", &a->city, 100, 0);
	if (rv == 0)
		rv = text(ctx, "postal_code", &a->postal_code, 20, 0);
	if (rv == 0)
		rv = text(ctx, "region", &a->region, 100, 0);
	if (rv == 0)
		rv = text(ctx, "label", &a->label, 40, 0);
	if (rv == 0 && a->country[0] != '\0') {
		char cc[3], why[CARD_ERR_MAX];
		if (validate_country(a->country, cc, why, sizeof(why)) != 0)
			return fail(ctx, "country", "%s", why);
		rv = replace(&a->country, cc);
	}
	/* A transaction file may know no more of a customer than the
	 * country. */
	if (rv == 0 && a->street[0] == '\0' && a->city[0] == '\0' &&
	    a->postal_code[0] == '\0' && a->country[0] == '\0')
		rv = fail(ctx, "",
			  "an address needs a street, a city, a postal code "
			  "or a country");
	return rv;
}

int card_check_contact(card_ctx *ctx, Carta__V1__Contact *m)
{
	size_t old = push(ctx, "contact", -1), at;
	int rv = 0, prim = 0;

	for (size_t i = 0; rv == 0 && i < m->n_emails; i++) {
		at = push(ctx, "emails", (long)i);
		rv = check_email(ctx, m->emails[i]);
		prim += m->emails[i]->primary;
		pop(ctx, at);
	}
	if (rv == 0)
		rv = check_primary(ctx, "emails", m->n_emails, prim);
	/* Addresses first: their countries read the phones. */
	prim = 0;
	for (size_t i = 0; rv == 0 && i < m->n_addresses; i++) {
		at = push(ctx, "addresses", (long)i);
		rv = check_address(ctx, m->addresses[i]);
		prim += m->addresses[i]->primary;
		pop(ctx, at);
	}
	if (rv == 0)
		rv = check_primary(ctx, "addresses", m->n_addresses, prim);
	prim = 0;
	char cc[3];
	const char *region = phone_region(m, ctx->region, cc);
	for (size_t i = 0; rv == 0 && i < m->n_phones; i++) {
		at = push(ctx, "phones", (long)i);
		rv = check_phone(ctx, region, m->phones[i]);
		prim += m->phones[i]->primary;
		pop(ctx, at);
	}
	if (rv == 0)
		rv = check_primary(ctx, "phones", m->n_phones, prim);
	if (rv == 0 && m->n_preferred_channels > 5)
		rv = fail(ctx, "preferred_channels", "at most 5 entries");
	for (size_t i = 0; rv == 0 && i < m->n_preferred_channels; i++) {
		char field[48];
		snprintf(field, sizeof(field), "preferred_channels.%zu", i);
		rv = one_of(ctx, field, &m->preferred_channels[i], channels, 0);
	}
	pop(ctx, old);
	return rv;
}

int card_check_demographics(card_ctx *ctx, Carta__V1__Demographics *m)
{
	char why[CARD_ERR_MAX], buf[64];
	size_t old = push(ctx, "demographics", -1);
	int rv = 0;

	if (m->birth_date[0] != '\0') {
		if (validate_birth_date(m->birth_date, ctx->today, buf, why,
					sizeof(why)) != 0)
			rv = fail(ctx, "birth_date", "%s", why);
		else
			rv = replace(&m->birth_date, buf);
	}
	if (rv == 0)
		rv = text(ctx, "gender", &m->gender, 40, 0);
	if (rv == 0)
		rv = text(ctx, "profession", &m->profession, 100, 0);
	if (rv == 0 && m->language[0] != '\0') {
		if (validate_language(m->language, buf, sizeof(buf), why,
				      sizeof(why)) != 0)
			rv = fail(ctx, "language", "%s", why);
		else
			rv = replace(&m->language, buf);
	}
	pop(ctx, old);
	return rv;
}

static int check_line(card_ctx *ctx, size_t i, Carta__V1__PurchaseLine *l)
{
	size_t old = push(ctx, "lines", (long)i);
	int rv = text(ctx, "code", &l->code, 40, 0);

	if (rv == 0)
		rv = text(ctx, "description", &l->description, 200, 0);
	if (rv == 0 && (l->quantity < 1 || l->quantity > 1000000))
		rv = fail(ctx, "quantity", "must be from 1 to 1000000");
	if (rv == 0 &&
	    (l->unit_price_minor < 0 || l->unit_price_minor > 100000000000LL))
		rv = fail(ctx, "unit_price_minor", "is out of range");
	pop(ctx, old);
	return rv;
}

int card_check_purchase(card_ctx *ctx, Carta__V1__Purchase *m)
{
	char why[CARD_ERR_MAX], date[11], cur[4];
	int exponent = 0;
	size_t old = push(ctx, "purchase", -1);
	int rv = 0;

	/* No date: the store records the day it is stored. */
	if (m->date[0] == '\0')
		rv = 0;
	else if (validate_date(m->date, date, why, sizeof(why)) != 0)
		rv = fail(ctx, "date", "%s", why);
	else if (strcmp(date, "1900-01-01") < 0 ||
		 strcmp(date, ctx->tomorrow) > 0)
		rv = fail(ctx, "date", "must be between 1900-01-01 and today");
	else
		rv = replace(&m->date, date);
	if (rv == 0)
		rv = text(ctx, "product", &m->product, 200, 0);
	if (rv == 0 && m->product[0] == '\0')
		rv = fail(ctx, "product", "is empty");
	if (rv == 0 && m->quantity == 0)
		m->quantity = 1;
	/* A refund is marked as one and says what went back: never a
	 * negative quantity or amount, which sums would take as a sale. */
	if (rv == 0 && (m->quantity < 1 || m->quantity > 1000000))
		rv = fail(ctx, "quantity",
			  "must be from 1 to 1000000 (a refund is marked "
			  "refund, with what went back)");
	if (rv == 0 && validate_currency(m->currency, cur, &exponent, why,
					 sizeof(why)) != 0)
		rv = fail(ctx, "currency", "%s", why);
	else if (rv == 0)
		rv = replace(&m->currency, cur);
	if (rv == 0 && m->amount_minor < 0)
		rv = fail(ctx, "amount_minor",
			  "is negative (a refund is marked refund, with the "
			  "amount that went back)");
	else if (rv == 0 && m->amount_minor > 100000000000000LL)
		rv = fail(ctx, "amount_minor", "is out of range");
	if (rv == 0)
		rv = text(ctx, "channel", &m->channel, 40, 0);
	if (rv == 0)
		rv = text(ctx, "remarks", &m->remarks, 500, VALIDATE_MULTILINE);
	if (rv == 0)
		rv = text(ctx, "invoice", &m->invoice, 64, 0);
	if (rv == 0 && m->n_lines > CARD_PURCHASE_LINES)
		rv =
		    fail(ctx, "lines", "at most %d lines", CARD_PURCHASE_LINES);
	for (size_t i = 0; rv == 0 && i < m->n_lines; i++)
		rv = check_line(ctx, i, m->lines[i]);
	pop(ctx, old);
	return rv;
}

int card_check_interaction(card_ctx *ctx, Carta__V1__Interaction *m)
{
	size_t old = push(ctx, "interaction", -1);
	int rv = one_of(ctx, "channel", &m->channel, interaction_channels, 0);

	if (rv == 0)
		rv =
		    text(ctx, "summary", &m->summary, 2000, VALIDATE_MULTILINE);
	if (rv == 0 && m->summary[0] == '\0')
		rv = fail(ctx, "summary", "is empty");
	if (rv == 0)
		rv = text(ctx, "outcome", &m->outcome, 200, 0);
	if (rv == 0 && m->satisfaction > 5)
		rv = fail(ctx, "satisfaction", "must be 1 to 5 (0: none)");
	/* 0 means now, set when stored; otherwise a time that happened. */
	if (rv == 0 && m->at != 0 &&
	    (m->at < CARD_TIME_MIN || m->at > (int64_t)time(NULL) + 86400))
		rv = fail(ctx, "at", "must be between 1900 and now");
	pop(ctx, old);
	return rv;
}

int card_check_note(card_ctx *ctx, Carta__V1__Note *m)
{
	size_t old = push(ctx, "note", -1);
	int rv = text(ctx, "text", &m->text, 4000, VALIDATE_MULTILINE);

	if (rv == 0 && m->text[0] == '\0')
		rv = fail(ctx, "text", "is empty");
	/* 0 means now, set when stored; an imported note keeps its time. */
	if (rv == 0 && m->at != 0 &&
	    (m->at < CARD_TIME_MIN || m->at > (int64_t)time(NULL) + 86400))
		rv = fail(ctx, "at", "must be between 1900 and now");
	pop(ctx, old);
	return rv;
}

/* A lower-case identifier: [a-z][a-z0-9_.-]{0,max-1}. */
/* dot: whether '.' may be part of it; not in what a filter names after
 * a dot of its own (consent.PURPOSE.CHANNEL, custom.NAME). */
static int identifier(card_ctx *ctx, const char *field, const char *s,
		      size_t max, bool dot)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] < 'a' || s[0] > 'z')
		goto bad;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || (dot && c == '.')))
			goto bad;
	}
	return 0;
bad:
	return fail(ctx, field,
		    "must be 1-%zu of a-z, 0-9, '_'%s '-'%s, starting with a "
		    "letter",
		    max, dot ? "," : " or", dot ? " or '.'" : "");
}

int card_check_consent(card_ctx *ctx, Carta__V1__Consent *m)
{
	size_t old = push(ctx, "consent", -1);
	int rv = identifier(ctx, "purpose", m->purpose, 40, false);

	if (rv == 0)
		rv = one_of(ctx, "channel", &m->channel, consent_channels, 0);
	if (rv == 0 && m->state != CARTA__V1__CONSENT_STATE__CONSENT_GRANTED &&
	    m->state != CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN)
		rv = fail(ctx, "state", "must be granted or withdrawn");
	if (rv == 0)
		rv = text(ctx, "source", &m->source, 100, 0);
	if (rv == 0 && m->at == 0)
		m->at = (int64_t)time(NULL);
	pop(ctx, old);
	return rv;
}

int card_check_preference(card_ctx *ctx, Carta__V1__Preference *m)
{
	size_t old = push(ctx, "preferences", -1);
	int rv = identifier(ctx, "key", m->key, 64, true);

	if (rv == 0)
		rv = text(ctx, "value", &m->value, 500, 0);
	pop(ctx, old);
	return rv;
}

int card_check_field_def(card_ctx *ctx, Carta__V1__FieldDef *m)
{
	size_t old = push(ctx, "field", -1);
	int rv = identifier(ctx, "name", m->name, 40, false);

	if (rv == 0 && (m->type < CARTA__V1__FIELD_TYPE__FIELD_TEXT ||
			m->type > CARTA__V1__FIELD_TYPE__FIELD_CHOICE))
		rv = fail(ctx, "type",
			  "must be text, number, date, bool or "
			  "choice");
	if (rv == 0 && card_section_name(m->section) == NULL)
		rv = fail(ctx, "section", "unknown section");
	/* Custom values live beside a section's own values; purchases,
	 * interactions and notes are lists of items, not a place for them. */
	if (rv == 0 &&
	    (m->section == CARTA__V1__SECTION__SECTION_PURCHASES ||
	     m->section == CARTA__V1__SECTION__SECTION_INTERACTIONS ||
	     m->section == CARTA__V1__SECTION__SECTION_NOTES))
		rv = fail(ctx, "section",
			  "custom fields belong to identity, contact, "
			  "demographics, preferences or consent");
	if (rv == 0 && m->max_length > 2000)
		rv = fail(ctx, "max_length", "at most 2000");
	if (rv == 0 && m->type == CARTA__V1__FIELD_TYPE__FIELD_CHOICE &&
	    (m->n_choices == 0 || m->n_choices > 50))
		rv = fail(ctx, "choices", "a choice field needs 1-50 choices");
	for (size_t i = 0; rv == 0 && i < m->n_choices; i++)
		rv = text(ctx, "choices", &m->choices[i], 100, 0);
	pop(ctx, old);
	return rv;
}

int card_check_custom(card_ctx *ctx, const Carta__V1__FieldDef *def,
		      char **value)
{
	char why[CARD_ERR_MAX], date[11];
	size_t old = push(ctx, "custom", -1);
	int rv = 0;

	switch (def->type) {
	case CARTA__V1__FIELD_TYPE__FIELD_TEXT:
		rv = text(ctx, def->name, value,
			  def->max_length ? def->max_length : 200, 0);
		break;
	case CARTA__V1__FIELD_TYPE__FIELD_NUMBER: {
		/* Digits, an optional minus, no spaces or plus: one spelling
		 * per number. */
		const char *v = *value + ((*value)[0] == '-');
		size_t n = strlen(v);
		if (n == 0 || n > 18 || strspn(v, "0123456789") != n ||
		    (n > 1 && v[0] == '0') || strcmp(*value, "-0") == 0)
			rv = fail(ctx, def->name,
				  "must be a whole number of at most 18 "
				  "digits");
		break;
	}
	case CARTA__V1__FIELD_TYPE__FIELD_DATE:
		if (validate_date(*value, date, why, sizeof(why)) != 0)
			rv = fail(ctx, def->name, "%s", why);
		else
			rv = replace(value, date);
		break;
	case CARTA__V1__FIELD_TYPE__FIELD_BOOL: {
		static const char *const bools[] = {"true", "false", NULL};
		rv = one_of(ctx, def->name, value, bools, 0);
		break;
	}
	case CARTA__V1__FIELD_TYPE__FIELD_CHOICE: {
		rv = fail(ctx, def->name, "is not one of the field's choices");
		for (size_t i = 0; i < def->n_choices; i++)
			if (strcmp(*value, def->choices[i]) == 0)
				rv = 0;
		break;
	}
	default:
		rv = fail(ctx, def->name, "has an unknown type");
	}
	pop(ctx, old);
	return rv;
}

int card_drop_oldest(Carta__V1__Card *c)
{
	void **lists[3] = {(void **)c->purchases, (void **)c->interactions,
			   (void **)c->notes};
	size_t *counts[3] = {&c->n_purchases, &c->n_interactions, &c->n_notes};
	static const int sections[3] = {
	    CARTA__V1__SECTION__SECTION_PURCHASES,
	    CARTA__V1__SECTION__SECTION_INTERACTIONS,
	    CARTA__V1__SECTION__SECTION_NOTES};
	int longest = -1;

	for (int i = 0; i < 3; i++)
		if (*counts[i] > 0 &&
		    (longest < 0 || *counts[i] > *counts[longest]))
			longest = i;
	if (longest < 0)
		return 0;
	/* Lists are newest first: the last one is the oldest. */
	protobuf_c_message_free_unpacked(lists[longest][--*counts[longest]],
					 NULL);
	return card_mark_more(c, sections[longest]) == 0;
}
