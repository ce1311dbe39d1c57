/* Duplicates: the bulk scan (DedupScanRequest). Each request scans the
 * cards afresh (store_match_scan: blocking keys, one snapshot) and
 * answers one page of pairs after the cursor, in as many responses as the
 * pairs need to fit a frame (all but the last marked more). A filter goes
 * through the query engine and its reads are checked against the policy
 * like a search's; the scan itself needs identity, contact and
 * demographics (policy.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carta_error.h"
#include "dispatch.h"
#include "log.h"
#include "match.h"
#include "query.h"
#include "store_match.h"
#include "store_query.h"

#define SCAN_LIMIT_DEFAULT 50
#define SCAN_LIMIT_MAX	   500
/* Bytes of pairs per response, well under a frame. */
#define PAGE_BYTES 48000

#define C(name) CARTA__V1__STATUS__CODE__##name

/* A cursor names the last pair sent: "GROUP:SCORE:A:B". */
typedef struct {
	uint32_t group;
	int score;
	char a[64], b[64];
} scan_cursor;

static int cursor_parse(const char *s, scan_cursor *c)
{
	unsigned g = 0;
	int score = 0, n = 0;

	if (strlen(s) > 200 ||
	    sscanf(s, "%u:%d:%63[^:]:%63[^:]%n", &g, &score, c->a, c->b, &n) !=
		4 ||
	    s[n] != '\0' || g == 0 || score < 0 || score > MATCH_SCORE_SCALE)
		return CARTA_EINVAL;
	c->group = g;
	c->score = score;
	return 0;
}

/* Whether pair p comes after the cursor in the scan's order. */
static bool after(const store_match_scan_result *r, const store_match_pair *p,
		  const scan_cursor *c)
{
	if (p->group != c->group)
		return p->group > c->group;
	if (p->m.score != c->score)
		return p->m.score < c->score;
	int k = store_match_number_cmp(r->numbers[p->a], c->a);
	if (k != 0)
		return k > 0;
	return store_match_number_cmp(r->numbers[p->b], c->b) > 0;
}

static void free_pairs(Carta__V1__DuplicatePage *page)
{
	for (size_t i = 0; i < page->n_pairs; i++) {
		match_reasons_free(page->pairs[i]->reasons,
				   page->pairs[i]->n_reasons);
		free(page->pairs[i]);
	}
	free(page->pairs);
	page->pairs = NULL;
	page->n_pairs = 0;
}

/* Sends page (more: further responses follow). */
static int send_page(dispatch_call *call, Carta__V1__DuplicatePage *page,
		     bool more)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Status ok = CARTA__V1__STATUS__INIT;

	resp.id = call->req->id;
	resp.status = &ok;
	resp.more = more;
	resp.body_case = CARTA__V1__RESPONSE__BODY_DUPLICATES;
	resp.duplicates = page;
	return dispatch_reply(call->out, &resp);
}

static void scan(dispatch_call *call)
{
	const Carta__V1__DedupScanRequest *r = call->req->dedup_scan;
	store_match_scan_result res = {0};
	Carta__V1__DuplicatePage page = CARTA__V1__DUPLICATE_PAGE__INIT;
	query_plan plan;
	scan_cursor cur;
	bool have_plan = false, have_cursor = false;
	char next[200] = "";
	bool names = call->view->admin ||
		     call->view->access[CARTA__V1__SECTION__SECTION_IDENTITY] >=
			 CARTA__V1__ACCESS__ACCESS_READ;

	memset(&plan, 0, sizeof(plan));
	if (r->min_score < 0 || r->min_score > 1) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "dedup_scan.min_score: give a score from 0 to 1",
			      "dedup_scan.min_score");
		return;
	}
	if (r->where[0] != '\0') {
		if (handlers_query_prepare(call, "", r->where, "", "",
					   "dedup_scan.", &plan) != 0)
			goto out;
		have_plan = true;
	}
	if (r->cursor[0] != '\0') {
		if (cursor_parse(r->cursor, &cur) != 0) {
			dispatch_fail(
			    call, C(INVALID_ARGUMENT),
			    "dedup_scan.cursor: not a cursor of a scan",
			    "dedup_scan.cursor");
			goto out;
		}
		have_cursor = true;
	}
	unsigned limit = r->limit == 0 ? SCAN_LIMIT_DEFAULT : r->limit;
	if (limit > SCAN_LIMIT_MAX)
		limit = SCAN_LIMIT_MAX;

	int rv = store_match_scan(call->env->db, have_plan ? &plan : NULL,
				  r->min_score, &res);
	if (rv == CARTA_ETOOBIG) {
		dispatch_fail(
		    call, C(RESOURCE_EXHAUSTED),
		    "dedup_scan.min_score: too many pairs score this low; "
		    "raise it or narrow the scan with a filter",
		    "dedup_scan.min_score");
		goto out;
	}
	if (rv != 0) {
		dispatch_fail_store(call, rv, "dedup_scan_failed");
		goto out;
	}
	log_event(LOG_INFO, call->out->conn,
		  "event=dedup_scan cards=%llu pairs=%zu blocks_skipped=%llu",
		  (unsigned long long)res.cards, res.n,
		  (unsigned long long)res.blocks_skipped);

	/* The pairs after the cursor, limit of them, in frames. */
	size_t i = 0;
	while (have_cursor && i < res.n && !after(&res, &res.pairs[i], &cur))
		i++;
	size_t end = i + limit < res.n ? i + limit : res.n;
	page.cards_scanned = res.cards;
	page.pairs = calloc(end > i ? end - i : 1, sizeof(*page.pairs));
	if (page.pairs == NULL) {
		dispatch_fail_store(call, CARTA_ENOMEM, "dedup_scan_failed");
		goto out;
	}
	size_t bytes = 0;
	for (; i < end; i++) {
		const store_match_pair *p = &res.pairs[i];
		Carta__V1__DuplicatePair *d = malloc(sizeof(*d));

		if (d == NULL) {
			dispatch_fail_store(call, CARTA_ENOMEM,
					    "dedup_scan_failed");
			goto out;
		}
		carta__v1__duplicate_pair__init(d);
		d->a = res.numbers[p->a];
		d->b = res.numbers[p->b];
		d->score = (double)p->m.score / MATCH_SCORE_SCALE;
		d->group = p->group;
		if (names) {
			d->a_name = res.names[p->a];
			d->b_name = res.names[p->b];
		}
		if (match_reasons(&p->m, &d->reasons, &d->n_reasons) != 0) {
			free(d);
			dispatch_fail_store(call, CARTA_ENOMEM,
					    "dedup_scan_failed");
			goto out;
		}
		size_t size = carta__v1__duplicate_pair__get_packed_size(d);
		if (page.n_pairs > 0 && bytes + size + 8 > PAGE_BYTES) {
			if (send_page(call, &page, true) != 0) {
				match_reasons_free(d->reasons, d->n_reasons);
				free(d);
				dispatch_fail_store(call, CARTA_ENOMEM,
						    "dedup_scan_failed");
				goto out;
			}
			free_pairs(&page);
			page.pairs = calloc(end - i, sizeof(*page.pairs));
			if (page.pairs == NULL) {
				match_reasons_free(d->reasons, d->n_reasons);
				free(d);
				dispatch_fail_store(call, CARTA_ENOMEM,
						    "dedup_scan_failed");
				goto out;
			}
			bytes = 0;
		}
		page.pairs[page.n_pairs++] = d;
		bytes += size + 8;
	}
	if (end < res.n && end > 0) {
		const store_match_pair *p = &res.pairs[end - 1];
		snprintf(next, sizeof(next), "%u:%d:%s:%s", p->group,
			 p->m.score, res.numbers[p->a], res.numbers[p->b]);
		page.next_cursor = next;
	}
	if (send_page(call, &page, false) != 0)
		dispatch_fail(call, C(INTERNAL),
			      "the answer could not be encoded", NULL);
out:
	free_pairs(&page);
	store_match_scan_free(&res);
	if (have_plan || r->where[0] != '\0')
		query_plan_free(&plan);
}

bool handlers_dedup(dispatch_call *call)
{
	switch (call->req->body_case) {
	case CARTA__V1__REQUEST__BODY_DEDUP_SCAN:
		scan(call);
		return true;
	default:
		return false;
	}
}
