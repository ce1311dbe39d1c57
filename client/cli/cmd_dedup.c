/* carta dedup scan: pairs of cards that look like one person, grouped
 * (pairs sharing a card share a group) and best first, as a table or as
 * one JSON object per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Rows kept for one aligned table with --all, as the search does. */
#define DEDUP_KEEP_ROWS 2000
/* With --all and no --limit, pages as large as the server allows: each
 * page is a scan of its own. */
#define DEDUP_ALL_LIMIT 500

static const char *const titles[] = {"GROUP", "SCORE",	"A",	  "A NAME",
				     "B",     "B NAME", "REASONS"};

struct dedup_ctx {
	cli_table table;
	uint64_t pairs, cards;
	uint32_t last_group;
};

static json_t *pair_json(const Carta__V1__DuplicatePair *p)
{
	json_t *o = json_object(), *why = json_array();

	for (size_t i = 0; i < p->n_reasons; i++)
		json_array_append_new(why, cli_json_str(p->reasons[i]));
	json_object_set_new(o, "group", json_integer(p->group));
	json_object_set_new(o, "score", json_real(p->score));
	json_object_set_new(o, "a", cli_json_str(p->a));
	json_object_set_new(o, "a_name", cli_json_str(p->a_name));
	json_object_set_new(o, "b", cli_json_str(p->b));
	json_object_set_new(o, "b_name", cli_json_str(p->b_name));
	json_object_set_new(o, "reasons", why);
	return o;
}

/* One JSON line; scores in thousandths print as such ("0.817"). */
static int print_pair(const cli_args *a, json_t *v)
{
	char *text = v != NULL
			 ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(3))
			 : NULL;

	json_decref(v);
	if (text == NULL)
		return cli_fail(a, "out of memory");
	puts(text);
	free(text);
	return 0;
}

static int pair_row(struct dedup_ctx *s, const Carta__V1__DuplicatePair *p)
{
	char group[16], score[16], why[1024] = "";
	const char *cells[7];

	/* The group number shows on its first pair only. */
	snprintf(group, sizeof(group), "%u", p->group);
	snprintf(score, sizeof(score), "%.3f", p->score);
	for (size_t i = 0; i < p->n_reasons; i++)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
			 i ? "; " : "", p->reasons[i]);
	cells[0] = p->group != s->last_group ? group : "";
	cells[1] = score;
	cells[2] = p->a;
	cells[3] = p->a_name;
	cells[4] = p->b;
	cells[5] = p->b_name;
	cells[6] = why;
	s->last_group = p->group;
	return cli_table_add(&s->table, cells);
}

static int scan_page(const cli_args *a, void *ud, const Carta__V1__Response *r,
		     const char **next)
{
	struct dedup_ctx *s = ud;
	const Carta__V1__DuplicatePage *page = r->duplicates;

	*next = NULL;
	if (r->body_case != CARTA__V1__RESPONSE__BODY_DUPLICATES ||
	    page == NULL)
		return cli_fail(a, "the server answered with something else");
	*next = page->next_cursor;
	s->cards = page->cards_scanned;
	for (size_t i = 0; i < page->n_pairs; i++) {
		const Carta__V1__DuplicatePair *p = page->pairs[i];
		int rv;

		if (p == NULL)
			return cli_fail(a, "the server sent an empty pair");
		s->pairs++;
		if (a->json) {
			rv = print_pair(a, pair_json(p));
			if (rv != 0)
				return rv;
			continue;
		}
		if (pair_row(s, p) != 0)
			return cli_fail(a, "out of memory");
	}
	if (!a->json && s->table.nrows > 0 &&
	    (!a->all || s->table.nrows >= DEDUP_KEEP_ROWS))
		cli_table_flush(&s->table);
	return 0;
}

/* --min-score: a number from 0 to 1. */
static int parse_score(const char *s, double *out)
{
	char *end = NULL;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

int cmd_dedup_scan(const cli_args *a)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__DedupScanRequest q = CARTA__V1__DEDUP_SCAN_REQUEST__INIT;
	struct dedup_ctx s = {0};
	int status;

	if (a->min_score != NULL && parse_score(a->min_score, &q.min_score)) {
		fprintf(stderr,
			"carta: %s: --min-score: give a number from 0 to 1\n",
			a->path);
		return CLI_EXIT_USAGE;
	}
	if (a->where != NULL)
		q.where = (char *)a->where;
	q.limit = (uint32_t)a->limit;
	if (q.limit == 0 && a->all)
		q.limit = DEDUP_ALL_LIMIT;
	req.body_case = CARTA__V1__REQUEST__BODY_DEDUP_SCAN;
	req.dedup_scan = &q;

	if (cli_table_init(&s.table, titles, 7, 0) != 0) {
		cli_table_free(&s.table);
		return cli_fail(a, "out of memory");
	}
	status = cli_pages(a, &req, &q.cursor, scan_page, &s);
	if (!a->json && s.table.nrows > 0)
		cli_table_flush(&s.table);
	if (!a->json && status == 0)
		fprintf(stderr, "%llu pair%s shown, %llu cards scanned\n",
			(unsigned long long)s.pairs, s.pairs == 1 ? "" : "s",
			(unsigned long long)s.cards);
	cli_table_free(&s.table);
	return status;
}
