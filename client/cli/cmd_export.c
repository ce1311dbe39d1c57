/* carta export csv | vcard | json, and carta customer export: every card
 * the caller may read (or those of a filter or segment), page by page,
 * streamed to standard output or to a new file.
 *
 * CSV: one header row and one row per card, always the same columns;
 * cells of sections the caller may not read are empty. Quoting follows
 * RFC 4180 (a cell with a comma, a quote, CR or LF is quoted, quotes
 * doubled; lines end with CRLF). A cell that starts with = + - @, a tab
 * or CR gets a leading apostrophe so that a spreadsheet shows it as text
 * and never runs it as a formula; phones in E.164 ("+34...") are written
 * "'+34..." for that reason, and the CSV importer drops an apostrophe
 * that comes before one of = + - @.
 *
 * JSON: one card per line (docs/CARD.md) with every purchase,
 * interaction and note: the lists a card says have older items are
 * fetched whole and the card's "more_items" is then empty. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "card_json.h"
#include "cli.h"
#include "vcard.h"

/* Cards (and list items) asked for per page. */
#define EXPORT_PAGE 500

int check_export(const cli_args *a, char *err, size_t errlen)
{
	if (a->where != NULL && a->segment != NULL) {
		snprintf(err, errlen,
			 "give --where or --segment, not both (a segment "
			 "already is a filter)");
		return -1;
	}
	return 0;
}

/* ---- The output ------------------------------------------------------ */

typedef struct {
	FILE *f;
	const char *path; /* NULL for standard output */
} export_out;

/* Opens --out as a new file (never overwriting one: personal data, mode
 * 0600), or standard output. Returns 0 or an exit status already
 * printed. */
static int out_open(const cli_args *a, export_out *o)
{
	int fd;

	o->f = stdout;
	o->path = NULL;
	if (a->out == NULL || strcmp(a->out, "-") == 0)
		return 0;
	fd = open(a->out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return cli_fail(a, "%s already exists", cli_safe(a->out));
	if (fd < 0)
		return cli_fail(a, "cannot create %s: %s", cli_safe(a->out),
				strerror(errno));
	o->f = fdopen(fd, "w");
	if (o->f == NULL) {
		int e = errno;

		close(fd);
		unlink(a->out);
		o->f = stdout;
		return cli_fail(a, "cannot write %s: %s", cli_safe(a->out),
				strerror(e));
	}
	o->path = a->out;
	return 0;
}

/* Closes the file; after a failure it is removed, so that a partial
 * export is never taken for a whole one. Returns the final status. */
static int out_close(const cli_args *a, export_out *o, int status)
{
	if (o->path == NULL) {
		if (status == 0 && (fflush(stdout) != 0 || ferror(stdout)))
			status = cli_fail(a, "cannot write the output: %s",
					  strerror(errno));
		return status;
	}
	if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0) {
		if (status == 0)
			status = cli_fail(a, "cannot write %s: %s",
					  cli_safe(o->path), strerror(errno));
	}
	if (fclose(o->f) != 0 && status == 0)
		status = cli_fail(a, "cannot write %s: %s", cli_safe(o->path),
				  strerror(errno));
	if (status != 0)
		unlink(o->path);
	o->f = NULL;
	return status;
}

/* ---- CSV ------------------------------------------------------------- */

/* The columns, named as the CSV importer maps them back. */
enum {
	COL_NUMBER,
	COL_EXTERNAL_ID,
	COL_GIVEN_NAME,
	COL_FAMILY_NAME,
	COL_COMPANY,
	COL_STATUS,
	COL_HOME_BRANCH,
	COL_EMAIL,
	COL_EMAIL_2,
	COL_PHONE,
	COL_PHONE_2,
	COL_STREET,
	COL_CITY,
	COL_POSTAL_CODE,
	COL_REGION,
	COL_COUNTRY,
	COL_BIRTH_DATE,
	COL_GENDER,
	COL_PROFESSION,
	COL_LANGUAGE,
	COL__COUNT,
};

static const char *const csv_columns[COL__COUNT] = {
    "number",  "external_id", "given_name", "family_name", "company",
    "status",  "home_branch", "email",	    "email_2",	   "phone",
    "phone_2", "street",      "city",	    "postal_code", "region",
    "country", "birth_date",  "gender",	    "profession",  "language",
};

/* Writes one cell: neutralised and quoted as the header comment says. */
static void csv_cell(FILE *f, const char *s)
{
	bool neutral, quote;

	if (s == NULL)
		s = "";
	/* A cell that starts with an apostrophe before one of those gets
	 * one more, so that the importer, which removes one, gives it back
	 * as it was. */
	neutral = s[0] != '\0' && (strchr("=+-@\t\r", s[0]) != NULL ||
				   (s[0] == '\'' && s[1] != '\0' &&
				    strchr("=+-@\t\r'", s[1]) != NULL));
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		fputc('"', f);
	if (neutral)
		fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
}

static void csv_row(FILE *f, const char *const *cells)
{
	for (int i = 0; i < COL__COUNT; i++) {
		if (i > 0)
			fputc(',', f);
		csv_cell(f, cells[i]);
	}
	fputs("\r\n", f);
}

/* The index of the primary item of n (else the first) as which 0, and of
 * the first other one as which 1; -1 when there is none. */
static int pick(size_t n, bool (*primary)(const void *items, size_t i),
		const void *items, int which)
{
	size_t first = 0;

	for (size_t i = 0; i < n; i++)
		if (primary(items, i)) {
			first = i;
			break;
		}
	if (which == 0)
		return n > 0 ? (int)first : -1;
	for (size_t i = 0; i < n; i++)
		if (i != first)
			return (int)i;
	return -1;
}

static bool email_primary(const void *items, size_t i)
{
	return ((Carta__V1__Email *const *)items)[i]->primary;
}

static bool phone_primary(const void *items, size_t i)
{
	return ((Carta__V1__Phone *const *)items)[i]->primary;
}

static bool address_primary(const void *items, size_t i)
{
	return ((Carta__V1__Address *const *)items)[i]->primary;
}

static const char *phone_text(const Carta__V1__Phone *p)
{
	return p->number[0] != '\0' ? p->number : p->original;
}

static void csv_card(FILE *f, const Carta__V1__Card *card)
{
	const char *cells[COL__COUNT] = {NULL};
	const Carta__V1__Identity *id = card->identity;
	const Carta__V1__Contact *c = card->contact;
	const Carta__V1__Demographics *d = card->demographics;

	if (id != NULL) {
		cells[COL_NUMBER] = id->number;
		cells[COL_EXTERNAL_ID] = id->external_id;
		cells[COL_GIVEN_NAME] = id->given_name;
		cells[COL_FAMILY_NAME] = id->family_name;
		cells[COL_COMPANY] = id->company;
		cells[COL_STATUS] = id->status;
		cells[COL_HOME_BRANCH] = id->home_branch;
	}
	if (c != NULL) {
		int e0 = pick(c->n_emails, email_primary, c->emails, 0);
		int e1 = pick(c->n_emails, email_primary, c->emails, 1);
		int p0 = pick(c->n_phones, phone_primary, c->phones, 0);
		int p1 = pick(c->n_phones, phone_primary, c->phones, 1);
		int ad = pick(c->n_addresses, address_primary, c->addresses, 0);

		if (e0 >= 0)
			cells[COL_EMAIL] = c->emails[e0]->address;
		if (e1 >= 0)
			cells[COL_EMAIL_2] = c->emails[e1]->address;
		if (p0 >= 0)
			cells[COL_PHONE] = phone_text(c->phones[p0]);
		if (p1 >= 0)
			cells[COL_PHONE_2] = phone_text(c->phones[p1]);
		if (ad >= 0) {
			const Carta__V1__Address *x = c->addresses[ad];

			cells[COL_STREET] = x->street;
			cells[COL_CITY] = x->city;
			cells[COL_POSTAL_CODE] = x->postal_code;
			cells[COL_REGION] = x->region;
			cells[COL_COUNTRY] = x->country;
		}
	}
	if (d != NULL) {
		cells[COL_BIRTH_DATE] = d->birth_date;
		cells[COL_GENDER] = d->gender;
		cells[COL_PROFESSION] = d->profession;
		cells[COL_LANGUAGE] = d->language;
	}
	csv_row(f, cells);
}

/* ---- Every item of a card's lists -------------------------------------- */

/* The lists a card shows only the newest of, and how to fetch them. */
static const struct {
	const char *field; /* of the JSON card, and of Card.more_items */
	Carta__V1__Request__BodyCase request;
	Carta__V1__Response__BodyCase response;
} item_lists[] = {
    {"purchases", CARTA__V1__REQUEST__BODY_PURCHASE_LIST,
     CARTA__V1__RESPONSE__BODY_PURCHASES},
    {"interactions", CARTA__V1__REQUEST__BODY_INTERACTION_LIST,
     CARTA__V1__RESPONSE__BODY_INTERACTIONS},
    {"notes", CARTA__V1__REQUEST__BODY_NOTE_LIST,
     CARTA__V1__RESPONSE__BODY_NOTES},
};

struct list_ctx {
	Carta__V1__Response__BodyCase want;
	json_t *items; /* the JSON items so far */
	char *next;    /* the last page's next cursor */
	bool denied;   /* refused for the department: no items, no failure */
};

static int list_reply(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	struct list_ctx *l = ud;
	ProtobufCMessage **items;
	const char *next;
	size_t n;

	if (r->body_case != l->want)
		return cli_fail(a, "the server answered with something else");
	switch (r->body_case) {
	case CARTA__V1__RESPONSE__BODY_PURCHASES:
		items = (ProtobufCMessage **)r->purchases->items;
		n = r->purchases->n_items;
		next = r->purchases->next_cursor;
		break;
	case CARTA__V1__RESPONSE__BODY_INTERACTIONS:
		items = (ProtobufCMessage **)r->interactions->items;
		n = r->interactions->n_items;
		next = r->interactions->next_cursor;
		break;
	case CARTA__V1__RESPONSE__BODY_AUDIT:
		items = (ProtobufCMessage **)r->audit->items;
		n = r->audit->n_items;
		next = r->audit->next_cursor;
		break;
	default:
		items = (ProtobufCMessage **)r->notes->items;
		n = r->notes->n_items;
		next = r->notes->next_cursor;
		break;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = items[i] != NULL ? cli_item_json(items[i]) : NULL;

		if (o == NULL || json_array_append_new(l->items, o) != 0)
			return cli_fail(a, "out of memory");
	}
	if (next != NULL && next[0] != '\0') {
		free(l->next);
		l->next = strdup(next);
		if (l->next == NULL)
			return cli_fail(a, "out of memory");
	}
	return 0;
}

/* Sends req page after page, its cursor field (*cursor) set to the last
 * page's next, until a page has none, gathering the items in l. A
 * refusal that h->refused marks as l->denied ends it without failure.
 * Returns 0 or an exit status already printed. */
static int follow_pages(const cli_args *a, carta_client **c,
			Carta__V1__Request *req, char **cursor,
			const cli_handler *h, struct list_ctx *l)
{
	char *sent = NULL;
	int status = 0;

	for (;;) {
		*cursor = sent != NULL ? sent : (char *)"";
		status = cli_call(a, c, req, h);
		if (l->denied)
			status = 0;
		if (status != 0 || l->denied || l->next == NULL)
			break;
		if (sent != NULL && strcmp(sent, l->next) == 0) {
			status = cli_fail(a, "the server repeated a cursor");
			break;
		}
		free(sent);
		sent = l->next;
		l->next = NULL;
	}
	*cursor = (char *)"";
	free(sent);
	free(l->next);
	l->next = NULL;
	return status;
}

/* Fetches every item of list k of the card with id ref into a new JSON
 * array *out. Returns 0 or an exit status already printed. */
static int fetch_list(const cli_args *a, carta_client **c, const char *ref,
		      size_t k, json_t **out)
{
	Carta__V1__ListRequest list = CARTA__V1__LIST_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	struct list_ctx l = {.want = item_lists[k].response};
	cli_handler h = {.each = list_reply, .ud = &l, .retry = true};

	*out = NULL;
	l.items = json_array();
	if (l.items == NULL)
		return cli_fail(a, "out of memory");
	list.ref = (char *)ref;
	list.limit = EXPORT_PAGE;
	req.body_case = item_lists[k].request;
	req.purchase_list = &list; /* the three share the oneof */
	int status = follow_pages(a, c, &req, &list.cursor, &h, &l);
	if (status != 0) {
		json_decref(l.items);
		return status;
	}
	*out = l.items;
	return 0;
}

/* Puts every item into the lists the JSON card says have older ones
 * ("more_items"), which is then empty: the card is now whole. */
static int fill_lists(const cli_args *a, carta_client **c, json_t *card)
{
	const char *id = json_string_value(json_object_get(card, "id"));
	json_t *more = json_object_get(card, "more_items");
	size_t i;
	json_t *v;

	if (!json_is_array(more) || json_array_size(more) == 0)
		return 0;
	if (id == NULL || id[0] == '\0')
		return cli_fail(a, "the server sent a card without an id");
	json_array_foreach(more, i, v)
	{
		const char *name = json_string_value(v);

		for (size_t k = 0; name != NULL &&
				   k < sizeof item_lists / sizeof item_lists[0];
		     k++) {
			json_t *items;
			int status;

			if (strcmp(name, item_lists[k].field) != 0)
				continue;
			status = fetch_list(a, c, id, k, &items);
			if (status != 0)
				return status;
			json_object_set_new(card, item_lists[k].field, items);
		}
	}
	json_object_set_new(card, "more_items", json_array());
	return 0;
}

/* ---- The export loop ------------------------------------------------- */

enum export_format { FORMAT_CSV, FORMAT_VCARD, FORMAT_JSON };

struct export
{
	enum export_format format;
	FILE *f;
	json_t *pending; /* FORMAT_JSON: the page's cards, to be filled */
	char *next;	 /* the page's next cursor; NULL at the end */
	uint64_t left_out;
	uint64_t cards; /* written */
	bool started;	/* the CSV header is out */
};

static int export_card(const cli_args *a, struct export *x,
		       const Carta__V1__Card *card)
{
	json_t *o;

	switch (x->format) {
	case FORMAT_CSV:
		csv_card(x->f, card);
		return 0;
	case FORMAT_VCARD:
		if (vcard_write(x->f, card) != 0)
			return cli_fail(a, "cannot write the vCard of %s",
					card->identity != NULL
					    ? cli_safe(card->identity->number)
					    : cli_safe(card->id));
		return 0;
	default:
		/* Printed once its lists are complete, after the page. */
		o = card_json_from_card(card);
		if (o == NULL || json_array_append_new(x->pending, o) != 0)
			return cli_fail(a, "out of memory");
		return 0;
	}
}

static int page_reply(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	struct export *x = ud;
	const Carta__V1__CardPage *page = r->cards;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_CARDS || page == NULL)
		return cli_fail(a, "the server answered with something else");
	/* Every page says how many of the whole query were left out. */
	if (page->left_out > x->left_out)
		x->left_out = page->left_out;
	/* The header once the server has accepted the query, so that a
	 * refused one prints only the reason. */
	if (x->format == FORMAT_CSV && !x->started)
		csv_row(x->f, csv_columns);
	x->started = true;
	for (size_t i = 0; i < page->n_cards; i++) {
		int rv;

		if (page->cards[i] == NULL)
			return cli_fail(a, "the server sent an empty card");
		rv = export_card(a, x, page->cards[i]);
		if (rv != 0)
			return rv;
		x->cards++;
	}
	if (page->next_cursor != NULL && page->next_cursor[0] != '\0') {
		free(x->next);
		x->next = strdup(page->next_cursor);
		if (x->next == NULL)
			return cli_fail(a, "out of memory");
	}
	if (ferror(x->f))
		return cli_fail(a, "cannot write the output: %s",
				strerror(errno));
	return 0;
}

/* Completes and prints the JSON cards of the page just read. */
static int flush_pending(const cli_args *a, carta_client **c, struct export *x)
{
	size_t i;
	json_t *card;

	json_array_foreach(x->pending, i, card)
	{
		int status = fill_lists(a, c, card);

		if (status != 0)
			return status;
		if (json_dumpf(card, x->f, JSON_COMPACT) != 0 ||
		    fputc('\n', x->f) == EOF)
			return cli_fail(a, "cannot write the output: %s",
					strerror(errno));
	}
	json_array_clear(x->pending);
	return 0;
}

static int run_export(const cli_args *a, enum export_format format)
{
	Carta__V1__QueryRequest q = CARTA__V1__QUERY_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	struct export x = {.format = format};
	cli_handler h = {.each = page_reply, .ud = &x, .retry = true};
	carta_client *c = NULL;
	export_out o;
	char *sent = NULL;
	int status;

	if (a->where != NULL)
		q.where = (char *)a->where;
	if (a->segment != NULL)
		q.segment = (char *)a->segment;
	if (a->channel != NULL)
		q.channel = (char *)a->channel;
	q.limit = EXPORT_PAGE;
	req.body_case = CARTA__V1__REQUEST__BODY_QUERY;
	req.query = &q;

	/* Connect first: a refused connection leaves no empty file. */
	status = cli_open(a, &c);
	if (status != 0)
		return status;
	x.pending = json_array();
	if (x.pending == NULL) {
		carta_close(c);
		return cli_fail(a, "out of memory");
	}
	status = out_open(a, &o);
	if (status != 0)
		goto out;
	x.f = o.f;

	for (;;) {
		q.cursor = sent != NULL ? sent : (char *)"";
		status = cli_call(a, &c, &req, &h);
		if (status == 0 && format == FORMAT_JSON)
			status = flush_pending(a, &c, &x);
		if (status != 0 || x.next == NULL)
			break;
		if (sent != NULL && strcmp(sent, x.next) == 0) {
			status = cli_fail(a, "the server repeated a cursor");
			break;
		}
		free(sent);
		sent = x.next;
		x.next = NULL;
	}
	status = out_close(a, &o, status);

	/* Said where the data does not go; with --json as an object. */
	if (status == 0 && o.path != NULL && a->json) {
		json_t *j = json_pack("{s:I, s:s}", "exported",
				      (json_int_t)x.cards, "out", o.path);
		if (j != NULL && a->channel != NULL)
			json_object_set_new(
			    j, "left_out",
			    json_integer((json_int_t)x.left_out));
		cli_print_json(a, j);
	}
	if (status == 0 && o.path != NULL && !a->json)
		fprintf(stderr, "exported %llu card%s to %s\n",
			(unsigned long long)x.cards, x.cards == 1 ? "" : "s",
			cli_safe(o.path));
	if (status == 0 && x.left_out > 0)
		fprintf(stderr,
			"%llu card%s left out: no consent for %s, or no "
			"address for it\n",
			(unsigned long long)x.left_out,
			x.left_out == 1 ? "" : "s", cli_safe(a->channel));
out:
	free(sent);
	free(x.next);
	json_decref(x.pending);
	carta_close(c);
	return status;
}

int cmd_export_csv(const cli_args *a)
{
	return run_export(a, FORMAT_CSV);
}

int cmd_export_vcard(const cli_args *a)
{
	return run_export(a, FORMAT_VCARD);
}

int cmd_export_json(const cli_args *a)
{
	return run_export(a, FORMAT_JSON);
}

/* ---- customer export ------------------------------------------------- */

static int card_reply(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	json_t **card = ud;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_CARD || r->card == NULL)
		return cli_fail(a, "the server answered with something else");
	json_decref(*card);
	*card = card_json_from_card(r->card);
	if (*card == NULL)
		return cli_fail(a, "out of memory");
	return 0;
}

/* A department may not read the audit (only admins may): it gets none,
 * and the document says so. */
static int audit_refused(const cli_args *a, void *ud,
			 const Carta__V1__Status *st)
{
	struct list_ctx *l = ud;

	if (st->code != CARTA__V1__STATUS__CODE__PERMISSION_DENIED)
		return cli_fail_status(a, st);
	l->denied = true;
	return 0;
}

/* Every audit entry of the card with id into l->items. */
static int fetch_audit(const cli_args *a, carta_client **c, const char *id,
		       struct list_ctx *l)
{
	Carta__V1__AuditRequest audit = CARTA__V1__AUDIT_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	cli_handler h = {.each = list_reply,
			 .refused = audit_refused,
			 .ud = l,
			 .retry = true};

	l->want = CARTA__V1__RESPONSE__BODY_AUDIT;
	l->items = json_array();
	if (l->items == NULL)
		return cli_fail(a, "out of memory");
	audit.customer = (char *)id;
	audit.limit = EXPORT_PAGE;
	req.body_case = CARTA__V1__REQUEST__BODY_AUDIT;
	req.audit = &audit;
	return follow_pages(a, c, &req, &audit.cursor, &h, l);
}

int cmd_customer_export(const cli_args *a)
{
	Carta__V1__CustomerGetRequest get =
	    CARTA__V1__CUSTOMER_GET_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	json_t *card = NULL, *doc = NULL, *withheld;
	cli_handler h = {.each = card_reply, .ud = &card, .retry = true};
	carta_client *c = NULL;
	char when[32];
	export_out o;
	int status;

	get.ref = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_CUSTOMER_GET;
	req.customer_get = &get;
	status = cli_open(a, &c);
	if (status == 0)
		status = cli_call(a, &c, &req, &h);
	if (status == 0 && card == NULL)
		status = cli_fail(a, "the server sent no card");
	if (status == 0)
		status = fill_lists(a, &c, card);
	struct list_ctx audit = {0};
	if (status == 0)
		status = fetch_audit(
		    a, &c, json_string_value(json_object_get(card, "id")),
		    &audit);
	if (status != 0) {
		json_decref(audit.items);
		goto out;
	}

	/* The card whole, when it was taken, and what the caller's
	 * department could not see of it. */
	cli_time((int64_t)time(NULL), when, sizeof when);
	withheld = json_object_get(card, "withheld");
	doc = json_pack(
	    "{s:s,s:O,s:o}", "exported_at", when, "card", card, "withheld",
	    json_is_array(withheld) ? json_copy(withheld) : json_array());
	/* Every change to the card, with old and new values: what was held
	 * about the person before, too (admins only). */
	if (doc != NULL && audit.denied)
		json_object_set_new(doc, "audit",
				    json_string("withheld: only admins may "
						"read the audit"));
	else if (doc != NULL)
		json_object_set_new(doc, "audit", audit.items);
	if (audit.denied || doc == NULL)
		json_decref(audit.items);
	if (doc == NULL) {
		status = cli_fail(a, "out of memory");
		goto out;
	}
	status = out_open(a, &o);
	if (status != 0)
		goto out;
	if (json_dumpf(doc, o.f, JSON_INDENT(2)) != 0 ||
	    fputc('\n', o.f) == EOF)
		status =
		    cli_fail(a, "cannot write the output: %s", strerror(errno));
	status = out_close(a, &o, status);

out:
	json_decref(doc);
	json_decref(card);
	carta_close(c);
	return status;
}
