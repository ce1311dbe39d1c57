/* carta search and carta segment: a QueryRequest, its cards shown as a
 * table (one row per card, only what the card carries) or as JSON lines,
 * and the segments of a department. */
#include <stdio.h>
#include <string.h>

#include "card_json.h"
#include "cli.h"

/* Rows kept for one aligned table with --all, as reply.c does. */
#define SEARCH_KEEP_ROWS 2000

/* ---- Showing cards ------------------------------------------------- */

static const char *const card_titles[] = {"NUMBER", "NAME",  "COMPANY",
					  "EMAIL",  "PHONE", "CITY"};

/* The primary email of c, else the first; NULL when it has none. */
static const char *first_email(const Carta__V1__Contact *c)
{
	if (c == NULL || c->n_emails == 0)
		return NULL;
	for (size_t i = 0; i < c->n_emails; i++)
		if (c->emails[i]->primary)
			return c->emails[i]->address;
	return c->emails[0]->address;
}

static const char *first_phone(const Carta__V1__Contact *c)
{
	const Carta__V1__Phone *p = NULL;

	if (c == NULL || c->n_phones == 0)
		return NULL;
	for (size_t i = 0; i < c->n_phones && p == NULL; i++)
		if (c->phones[i]->primary)
			p = c->phones[i];
	if (p == NULL)
		p = c->phones[0];
	return p->number[0] != '\0' ? p->number : p->original;
}

static const char *first_city(const Carta__V1__Contact *c)
{
	if (c == NULL || c->n_addresses == 0)
		return NULL;
	for (size_t i = 0; i < c->n_addresses; i++)
		if (c->addresses[i]->primary)
			return c->addresses[i]->city;
	return c->addresses[0]->city;
}

/* One row of the table; sections the card withholds give "-". */
static int card_row(cli_table *t, const Carta__V1__Card *card)
{
	const Carta__V1__Identity *id = card->identity;
	char name[512] = "";
	const char *cells[6] = {NULL};

	if (id != NULL) {
		snprintf(name, sizeof name, "%s%s%s", id->given_name,
			 id->given_name[0] && id->family_name[0] ? " " : "",
			 id->family_name);
		cells[0] = id->number;
		cells[2] = id->company;
	}
	cells[1] = name;
	cells[3] = first_email(card->contact);
	cells[4] = first_phone(card->contact);
	cells[5] = first_city(card->contact);
	return cli_table_add(t, cells);
}

struct search_ctx {
	cli_table table;
	bool table_ready;
	const char *channel; /* for the left-out message */
	uint64_t left_out;
	uint64_t count;
	bool counted;
};

static int search_page(const cli_args *a, void *ud,
		       const Carta__V1__Response *r, const char **next)
{
	struct search_ctx *s = ud;
	const Carta__V1__CardPage *page = r->cards;

	*next = NULL;
	if (r->body_case != CARTA__V1__RESPONSE__BODY_CARDS || page == NULL)
		return cli_fail(a, "the server answered with something else");
	*next = page->next_cursor;
	/* Every page says how many of the whole query were left out. */
	if (page->left_out > s->left_out)
		s->left_out = page->left_out;
	for (size_t i = 0; i < page->n_cards; i++) {
		const Carta__V1__Card *card = page->cards[i];
		int rv;

		if (card == NULL)
			return cli_fail(a, "the server sent an empty card");
		if (a->json) {
			rv = cli_print_json(a, card_json_from_card(card));
			if (rv != 0)
				return rv;
			continue;
		}
		if (card_row(&s->table, card) != 0)
			return cli_fail(a, "out of memory");
	}
	/* With --all the pages make one aligned table, up to a bound. */
	if (!a->json && s->table.nrows > 0 &&
	    (!a->all || s->table.nrows >= SEARCH_KEEP_ROWS))
		cli_table_flush(&s->table);
	return 0;
}

static int count_reply(const cli_args *a, void *ud,
		       const Carta__V1__Response *r)
{
	struct search_ctx *s = ud;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_CARDS || r->cards == NULL)
		return cli_fail(a, "the server answered with something else");
	s->count = r->cards->count;
	s->left_out = r->cards->left_out;
	s->counted = true;
	return 0;
}

/* Says on stderr how many cards a --channel left out. */
static void say_left_out(const struct search_ctx *s)
{
	if (s->left_out == 0 || s->channel == NULL)
		return;
	fprintf(
	    stderr,
	    "%llu card%s left out: no consent for %s, or no address for it\n",
	    (unsigned long long)s->left_out, s->left_out == 1 ? "" : "s",
	    cli_safe(s->channel));
}

/* Sends q and shows its cards (or their count with --count). */
static int run_query(const cli_args *a, Carta__V1__QueryRequest *q)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	struct search_ctx s = {.channel = a->channel};
	int status;

	q->count_only = a->count_only;
	if (a->sort != NULL)
		q->sort = (char *)a->sort;
	q->limit = (uint32_t)a->limit;
	if (a->channel != NULL)
		q->channel = (char *)a->channel;
	req.body_case = CARTA__V1__REQUEST__BODY_QUERY;
	req.query = q;

	if (a->count_only) {
		cli_handler h = {.each = count_reply, .ud = &s, .retry = true};

		status = cli_request(a, &req, &h);
		if (status == 0 && !s.counted)
			status = cli_fail(a, "the server sent no count");
		if (status == 0 && a->json) {
			json_t *o =
			    json_pack("{s:I}", "count", (json_int_t)s.count);
			if (o != NULL && a->channel != NULL)
				json_object_set_new(
				    o, "left_out",
				    json_integer((json_int_t)s.left_out));
			status = cli_print_json(a, o);
		} else if (status == 0)
			printf("%llu\n", (unsigned long long)s.count);
		/* --json has it in the object. */
		if (status == 0 && !a->json)
			say_left_out(&s);
		return status;
	}

	if (cli_table_init(&s.table, card_titles, 6, 0) != 0) {
		cli_table_free(&s.table);
		return cli_fail(a, "out of memory");
	}
	status = cli_pages(a, &req, &q->cursor, search_page, &s);
	if (!a->json && s.table.nrows > 0)
		cli_table_flush(&s.table);
	if (!a->json && !s.table.started && status == 0)
		printf("no cards\n");
	cli_table_free(&s.table);
	if (status == 0)
		say_left_out(&s);
	return status;
}

int cmd_search(const cli_args *a)
{
	Carta__V1__QueryRequest q = CARTA__V1__QUERY_REQUEST__INIT;
	char text[1024] = "";

	/* carta search jose garcia: the words, as if quoted. */
	for (int i = 0; i < a->npos; i++) {
		size_t n = strlen(text);
		snprintf(text + n, sizeof(text) - n, "%s%s", i ? " " : "",
			 a->pos[i]);
	}
	if (a->npos > 0)
		q.text = text;
	if (a->where != NULL)
		q.where = (char *)a->where;
	if (a->segment != NULL)
		q.segment = (char *)a->segment;
	return run_query(a, &q);
}

/* ---- segment ------------------------------------------------------- */

static void kv(const char *label, const char *value)
{
	if (value != NULL && value[0] != '\0')
		printf("  %-12s %s\n", label, cli_safe(value));
}

static int print_segment(const cli_args *a, const Carta__V1__Segment *seg)
{
	char when[32];

	if (a->json)
		return cli_print_json(a, card_json_from_msg(&seg->base));
	printf("segment %s\n", cli_safe(seg->name));
	kv("department:", seg->department);
	kv("where:", seg->where);
	kv("text:", seg->text);
	kv("created by:", seg->created_by);
	if (seg->created_at != 0) {
		cli_time(seg->created_at, when, sizeof when);
		kv("created:", when);
	}
	return 0;
}

static int segment_reply(const cli_args *a, void *ud,
			 const Carta__V1__Response *r)
{
	const char *done = ud;

	if (r->body_case == CARTA__V1__RESPONSE__BODY_SEGMENT &&
	    r->segment != NULL)
		return print_segment(a, r->segment);
	if (r->body_case != CARTA__V1__RESPONSE__BODY__NOT_SET)
		return cli_fail(a, "the server answered with something else");
	if (a->json)
		return cli_print_json(a, json_pack("{s:b}", "ok", 1));
	printf("%s\n", done);
	return 0;
}

static int segment_call(const cli_args *a, Carta__V1__Request *req, bool retry,
			const char *done)
{
	cli_handler h = {
	    .each = segment_reply, .ud = (void *)done, .retry = retry};

	return cli_request(a, req, &h);
}

int cmd_segment_save(const cli_args *a)
{
	Carta__V1__Segment seg = CARTA__V1__SEGMENT__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	seg.name = (char *)a->pos[0];
	seg.where = (char *)a->pos[1];
	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_SAVE;
	req.segment_save = &seg;
	/* Saving again replaces the segment: safe to send twice. */
	return segment_call(a, &req, true, "saved");
}

static const char *const segment_titles[] = {"NAME", "WHERE", "TEXT",
					     "CREATED BY", "CREATED"};

static int list_reply(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	cli_table *t = ud;
	const Carta__V1__SegmentList *l = r->segments;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_SEGMENTS || l == NULL)
		return cli_fail(a, "the server answered with something else");
	for (size_t i = 0; i < l->n_segments; i++) {
		const Carta__V1__Segment *seg = l->segments[i];
		char when[32];
		int rv;

		if (seg == NULL)
			return cli_fail(a, "the server sent an empty segment");
		if (a->json) {
			rv = cli_print_json(a, card_json_from_msg(&seg->base));
			if (rv != 0)
				return rv;
			continue;
		}
		cli_time(seg->created_at, when, sizeof when);
		const char *cells[5] = {seg->name, seg->where, seg->text,
					seg->created_by, when};
		if (cli_table_add(t, cells) != 0)
			return cli_fail(a, "out of memory");
	}
	return 0;
}

int cmd_segment_list(const cli_args *a)
{
	Carta__V1__Empty empty = CARTA__V1__EMPTY__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	cli_table t;
	cli_handler h = {.each = list_reply, .ud = &t, .retry = true};
	int status;

	if (cli_table_init(&t, segment_titles, 5, 0) != 0) {
		cli_table_free(&t);
		return cli_fail(a, "out of memory");
	}
	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_LIST;
	req.segment_list = &empty;
	status = cli_request(a, &req, &h);
	if (status == 0 && !a->json && t.nrows == 0)
		printf("no segments\n");
	else if (status == 0 && !a->json)
		cli_table_flush(&t);
	cli_table_free(&t);
	return status;
}

int cmd_segment_show(const cli_args *a)
{
	Carta__V1__SegmentRef ref = CARTA__V1__SEGMENT_REF__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	ref.name = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_SHOW;
	req.segment_show = &ref;
	return segment_call(a, &req, true, "no such segment");
}

int cmd_segment_run(const cli_args *a)
{
	Carta__V1__QueryRequest q = CARTA__V1__QUERY_REQUEST__INIT;

	q.segment = (char *)a->pos[0];
	return run_query(a, &q);
}

int cmd_segment_delete(const cli_args *a)
{
	Carta__V1__SegmentRef ref = CARTA__V1__SEGMENT_REF__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	ref.name = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_SEGMENT_DELETE;
	req.segment_delete = &ref;
	return segment_call(a, &req, false, "deleted");
}
