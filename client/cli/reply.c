/* Showing what the server answers: one table per kind of item (purchases,
 * interactions, notes, ...), driven by the table of kinds below, or the
 * items as JSON lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_enum.h"
#include "card_json.h"
#include "cli.h"
#include "money.h"

#define TABLE_KEEP_ROWS 2000
#define SCRATCH		4
#define SCRATCH_LEN	64

/* Fills the cells of one row; formatted cells are written into scratch. */
typedef void (*row_fn)(const ProtobufCMessage *m, const char **cells,
		       char scratch[SCRATCH][SCRATCH_LEN]);

static void purchase_row(const ProtobufCMessage *m, const char **cells,
			 char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__Purchase *p = (const Carta__V1__Purchase *)m;
	char amount[MONEY_TEXT_MAX];

	money_format(p->amount_minor, p->currency, amount, sizeof amount);
	snprintf(scratch[0], SCRATCH_LEN, "%lld",
		 (long long)(p->quantity != 0 ? p->quantity : 1));
	snprintf(scratch[1], SCRATCH_LEN, "%s%s %.8s",
		 p->refund ? "refund " : "", amount, p->currency);
	cells[0] = p->date;
	cells[1] = p->product;
	cells[2] = scratch[0];
	cells[3] = scratch[1];
	cells[4] = p->channel;
}

static void interaction_row(const ProtobufCMessage *m, const char **cells,
			    char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__Interaction *i = (const Carta__V1__Interaction *)m;

	cli_time(i->at, scratch[0], SCRATCH_LEN);
	if (i->satisfaction != 0)
		snprintf(scratch[1], SCRATCH_LEN, "%u/5", i->satisfaction);
	else
		scratch[1][0] = '\0';
	cells[0] = scratch[0];
	cells[1] = i->channel;
	cells[2] = i->department;
	cells[3] = i->author;
	cells[4] = scratch[1];
	cells[5] = i->outcome;
	cells[6] = i->summary;
}

static void note_row(const ProtobufCMessage *m, const char **cells,
		     char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__Note *n = (const Carta__V1__Note *)m;

	cli_time(n->at, scratch[0], SCRATCH_LEN);
	cells[0] = scratch[0];
	cells[1] = n->author;
	cells[2] = n->text;
}

static void consent_row(const ProtobufCMessage *m, const char **cells,
			char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__Consent *c = (const Carta__V1__Consent *)m;

	cli_time(c->at, scratch[0], SCRATCH_LEN);
	cells[0] = c->purpose;
	cells[1] = c->channel;
	cells[2] = card_enum_name(card_enum_consent, (int)c->state);
	cells[3] = scratch[0];
	cells[4] = c->source;
}

static void preference_row(const ProtobufCMessage *m, const char **cells,
			   char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__Preference *p = (const Carta__V1__Preference *)m;

	(void)scratch;
	cells[0] = p->key;
	cells[1] = p->value;
}

static void custom_row(const ProtobufCMessage *m, const char **cells,
		       char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__CustomValue *c = (const Carta__V1__CustomValue *)m;

	(void)scratch;
	cells[0] = c->field;
	cells[1] = card_enum_name(card_enum_sections, (int)c->section);
	cells[2] = c->value;
}

static void history_row(const ProtobufCMessage *m, const char **cells,
			char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__HistoryEntry *h = (const Carta__V1__HistoryEntry *)m;

	cli_time(h->at, scratch[0], SCRATCH_LEN);
	cells[0] = scratch[0];
	cells[1] = card_enum_name(card_enum_sections, (int)h->section);
	cells[2] = h->field;
	cells[3] = h->value;
	cells[4] = h->source;
}

static void field_row(const ProtobufCMessage *m, const char **cells,
		      char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__FieldDef *f = (const Carta__V1__FieldDef *)m;
	size_t n = 0;

	scratch[0][0] = '\0';
	if (f->type == CARTA__V1__FIELD_TYPE__FIELD_TEXT)
		snprintf(scratch[0], SCRATCH_LEN, "%u",
			 f->max_length != 0 ? f->max_length : 200);
	scratch[1][0] = '\0';
	for (size_t i = 0; i < f->n_choices && n < SCRATCH_LEN; i++) {
		int w = snprintf(scratch[1] + n, SCRATCH_LEN - n, "%s%s",
				 i > 0 ? "," : "", f->choices[i]);

		n = w < 0 ? SCRATCH_LEN : n + (size_t)w;
	}
	cells[0] = f->name;
	cells[1] = card_enum_name(card_enum_field_types, (int)f->type);
	cells[2] = card_enum_name(card_enum_sections, (int)f->section);
	cells[3] = scratch[0];
	cells[4] = scratch[1];
}

static void department_row(const ProtobufCMessage *m, const char **cells,
			   char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__Department *d = (const Carta__V1__Department *)m;

	cli_time(d->created_at, scratch[0], SCRATCH_LEN);
	cells[0] = d->name;
	cells[1] = scratch[0];
}

static void policy_row(const ProtobufCMessage *m, const char **cells,
		       char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__PolicyEntry *p = (const Carta__V1__PolicyEntry *)m;

	(void)scratch;
	cells[0] = p->department;
	cells[1] = card_enum_name(card_enum_sections, (int)p->section);
	cells[2] = card_enum_name(card_enum_access, (int)p->access);
}

static void audit_row(const ProtobufCMessage *m, const char **cells,
		      char scratch[SCRATCH][SCRATCH_LEN])
{
	const Carta__V1__AuditEntry *e = (const Carta__V1__AuditEntry *)m;

	cli_time(e->at, scratch[0], SCRATCH_LEN);
	cells[0] = scratch[0];
	cells[1] = e->principal;
	cells[2] = e->department;
	cells[3] = e->card_id;
	cells[4] = e->section != 0
		       ? card_enum_name(card_enum_sections, (int)e->section)
		       : "";
	cells[5] = e->action;
	/* The change is built by add_row: it may be long. */
	cells[6] = NULL;
}

static const struct kind {
	const ProtobufCMessageDescriptor *desc;
	row_fn row;
	int ncol;
	const char *titles[CLI_TABLE_MAXCOL];
} kinds[] = {
    {&carta__v1__purchase__descriptor,
     purchase_row,
     5,
     {"DATE", "PRODUCT", "QTY", "AMOUNT", "CHANNEL"}},
    {&carta__v1__interaction__descriptor,
     interaction_row,
     7,
     {"AT", "CHANNEL", "DEPARTMENT", "AUTHOR", "SCORE", "OUTCOME", "SUMMARY"}},
    {&carta__v1__note__descriptor, note_row, 3, {"AT", "AUTHOR", "TEXT"}},
    {&carta__v1__consent__descriptor,
     consent_row,
     5,
     {"PURPOSE", "CHANNEL", "STATE", "AT", "SOURCE"}},
    {&carta__v1__preference__descriptor, preference_row, 2, {"KEY", "VALUE"}},
    {&carta__v1__custom_value__descriptor,
     custom_row,
     3,
     {"FIELD", "SECTION", "VALUE"}},
    {&carta__v1__history_entry__descriptor,
     history_row,
     5,
     {"AT", "SECTION", "FIELD", "VALUE", "SOURCE"}},
    {&carta__v1__field_def__descriptor,
     field_row,
     5,
     {"NAME", "TYPE", "SECTION", "MAX", "CHOICES"}},
    {&carta__v1__department__descriptor,
     department_row,
     2,
     {"NAME", "CREATED"}},
    {&carta__v1__policy_entry__descriptor,
     policy_row,
     3,
     {"DEPARTMENT", "SECTION", "ACCESS"}},
    {&carta__v1__audit_entry__descriptor,
     audit_row,
     7,
     {"TIME", "PRINCIPAL", "DEPARTMENT", "CARD", "SECTION", "ACTION",
      "CHANGE"}},
};

static const struct kind *find_kind(const ProtobufCMessageDescriptor *desc)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].desc == desc)
			return &kinds[i];
	return NULL;
}

static int add_row(cli_table *t, const struct kind *k,
		   const ProtobufCMessage *m)
{
	char scratch[SCRATCH][SCRATCH_LEN];
	const char *cells[CLI_TABLE_MAXCOL] = {0};
	char *change = NULL;
	int rv;

	k->row(m, cells, scratch);
	if (k->desc == &carta__v1__audit_entry__descriptor) {
		const Carta__V1__AuditEntry *e =
		    (const Carta__V1__AuditEntry *)m;
		size_t need = strlen(e->old_value) + strlen(e->new_value) + 8;

		change = malloc(need);
		if (change == NULL)
			return -1;
		snprintf(change, need, "%s -> %s",
			 e->old_value[0] ? e->old_value : "-",
			 e->new_value[0] ? e->new_value : "-");
		cells[6] = change;
	}
	rv = cli_table_add(t, cells);
	free(change);
	return rv;
}

json_t *cli_item_json(const ProtobufCMessage *m)
{
	json_t *o = card_json_from_msg(m);

	if (o != NULL && m->descriptor == &carta__v1__audit_entry__descriptor) {
		const char *keys[] = {"old_value", "new_value"};

		for (size_t i = 0; i < 2; i++) {
			json_t *s = json_object_get(o, keys[i]);
			json_t *v = s != NULL
					? json_loads(json_string_value(s),
						     JSON_DECODE_ANY, NULL)
					: NULL;

			if (v != NULL)
				json_object_set_new(o, keys[i], v);
		}
	}
	return o;
}

/* Shows items: JSON lines, or rows of p's table (started anew when the
 * kind changes). */
static int show_items(const cli_args *a, cli_printer *p,
		      const ProtobufCMessage *const *items, size_t n,
		      const ProtobufCMessageDescriptor *desc, int indent)
{
	const struct kind *k = find_kind(desc);

	if (a->json) {
		for (size_t i = 0; i < n; i++) {
			int rv = cli_print_json(a, cli_item_json(items[i]));

			if (rv != 0)
				return rv;
		}
		return 0;
	}
	if (k == NULL)
		return cli_fail(a, "cannot show a %s", desc->short_name);
	if (p->kind != desc) {
		cli_printer_end(p);
		if (cli_table_init(&p->table, k->titles, k->ncol, indent) != 0)
			return cli_fail(a, "out of memory");
		p->kind = desc;
	}
	for (size_t i = 0; i < n; i++)
		if (add_row(&p->table, k, items[i]) != 0)
			return cli_fail(a, "out of memory");
	/* With --all the pages are kept for one aligned table, up to a
	 * bound; cli_printer_end prints the rest. */
	if (!a->all || p->table.nrows >= TABLE_KEEP_ROWS)
		cli_table_flush(&p->table);
	return 0;
}

int cli_print_msgs(const cli_args *a, const ProtobufCMessage *const *items,
		   size_t n, int indent)
{
	cli_printer p = {0};
	int rv;

	if (n == 0)
		return 0;
	rv = show_items(a, &p, items, n, items[0]->descriptor, indent);
	cli_printer_end(&p);
	return rv;
}

/* The items a response carries, as one list. */
typedef struct {
	const ProtobufCMessage *const *items;
	size_t n;
	const ProtobufCMessageDescriptor *desc;
	const char *next;
} reply_items;

#define LIST(body, field, type)                                                \
	(reply_items)                                                          \
	{                                                                      \
		(const ProtobufCMessage *const *)r->body->field,               \
		    r->body->n_##field, &type##__descriptor, NULL              \
	}
#define PAGE(body, type)                                                       \
	(reply_items)                                                          \
	{                                                                      \
		(const ProtobufCMessage *const *)r->body->items,               \
		    r->body->n_items, &type##__descriptor,                     \
		    r->body->next_cursor                                       \
	}
#define ONE(body, type)                                                        \
	(reply_items)                                                          \
	{                                                                      \
		(const ProtobufCMessage *const *)&r->body, 1,                  \
		    &type##__descriptor, NULL                                  \
	}

static bool items_of(const Carta__V1__Response *r, reply_items *out)
{
	switch (r->body_case) {
	case CARTA__V1__RESPONSE__BODY_PURCHASES:
		*out = PAGE(purchases, carta__v1__purchase);
		return true;
	case CARTA__V1__RESPONSE__BODY_INTERACTIONS:
		*out = PAGE(interactions, carta__v1__interaction);
		return true;
	case CARTA__V1__RESPONSE__BODY_NOTES:
		*out = PAGE(notes, carta__v1__note);
		return true;
	case CARTA__V1__RESPONSE__BODY_AUDIT:
		*out = PAGE(audit, carta__v1__audit_entry);
		return true;
	case CARTA__V1__RESPONSE__BODY_CONSENTS:
		*out = LIST(consents, items, carta__v1__consent);
		return true;
	case CARTA__V1__RESPONSE__BODY_FIELDS:
		*out = LIST(fields, fields, carta__v1__field_def);
		return true;
	case CARTA__V1__RESPONSE__BODY_DEPARTMENTS:
		*out = LIST(departments, departments, carta__v1__department);
		return true;
	case CARTA__V1__RESPONSE__BODY_POLICIES:
		*out = LIST(policies, entries, carta__v1__policy_entry);
		return true;
	case CARTA__V1__RESPONSE__BODY_PURCHASE:
		*out = ONE(purchase, carta__v1__purchase);
		return true;
	case CARTA__V1__RESPONSE__BODY_INTERACTION:
		*out = ONE(interaction, carta__v1__interaction);
		return true;
	case CARTA__V1__RESPONSE__BODY_NOTE:
		*out = ONE(note, carta__v1__note);
		return true;
	case CARTA__V1__RESPONSE__BODY_CONSENT:
		*out = ONE(consent, carta__v1__consent);
		return true;
	case CARTA__V1__RESPONSE__BODY_PREFERENCE:
		*out = ONE(preference, carta__v1__preference);
		return true;
	case CARTA__V1__RESPONSE__BODY_FIELD:
		*out = ONE(field, carta__v1__field_def);
		return true;
	case CARTA__V1__RESPONSE__BODY_CUSTOM:
		*out = ONE(custom, carta__v1__custom_value);
		return true;
	case CARTA__V1__RESPONSE__BODY_DEPARTMENT:
		*out = ONE(department, carta__v1__department);
		return true;
	case CARTA__V1__RESPONSE__BODY_POLICY:
		*out = ONE(policy, carta__v1__policy_entry);
		return true;
	default:
		return false;
	}
}

int cli_printer_page(const cli_args *a, void *ud, const Carta__V1__Response *r,
		     const char **next)
{
	cli_printer *p = ud;
	reply_items it;

	*next = NULL;
	if (r->body_case == CARTA__V1__RESPONSE__BODY_CARD && r->card != NULL)
		return cli_print_card(a, r->card);
	if (r->body_case == CARTA__V1__RESPONSE__BODY__NOT_SET) {
		if (a->json)
			return cli_print_json(a, json_pack("{s:b}", "ok", 1));
		if (p->done != NULL)
			printf("%s\n", p->done);
		return 0;
	}
	if (!items_of(r, &it) || (it.n > 0 && it.items == NULL))
		return cli_fail(a, "the server answered with something else");
	*next = it.next;
	for (size_t i = 0; i < it.n; i++)
		if (it.items[i] == NULL)
			return cli_fail(a, "the server sent an empty item");
	return show_items(a, p, it.items, it.n, it.desc, 0);
}

int cli_printer_reply(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	const char *next;

	int rv = cli_printer_page(a, ud, r, &next);
	/* A write that went through may say what the card now looks like. */
	if (r->status != NULL && r->status->n_duplicates > 0) {
		if (!a->json)
			fprintf(stderr, "carta: note: this card now looks "
					"like another:\n");
		cli_print_duplicates(a, r->status);
	}
	return rv;
}

void cli_printer_end(cli_printer *p)
{
	if (p->kind != NULL) {
		cli_table_flush(&p->table);
		cli_table_free(&p->table);
	}
	p->kind = NULL;
}

int cli_run(const cli_args *a, Carta__V1__Request *req, bool retry,
	    const char *done)
{
	cli_printer p = {.done = done};
	cli_handler h = {.each = cli_printer_reply, .ud = &p, .retry = retry};
	int status = cli_request(a, req, &h);

	cli_printer_end(&p);
	return status;
}

int cli_run_pages(const cli_args *a, Carta__V1__Request *req, char **cursor)
{
	cli_printer p = {0};
	int status = cli_pages(a, req, cursor, cli_printer_page, &p);

	cli_printer_end(&p);
	return status;
}
