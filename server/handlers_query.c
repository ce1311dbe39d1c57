/* Queries and segments: text search, filters, sorting, counts. A query is
 * compiled (query.c), its reads checked against the caller's policy before
 * anything runs (a refusal names the field: even a count would leak it),
 * run on the store (store_query.c), and every card it answers is filtered
 * by policy_filter_card like any other card. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "carta_error.h"
#include "dispatch.h"
#include <sodium.h>

#include "log.h"
#include "query.h"
#include "secure.h"
#include "store_card.h"
#include "store_query.h"

#define QUERY_LIMIT_DEFAULT 50
#define QUERY_LIMIT_MAX	    500
/* A page stops growing past this many bytes, so that it fits one
 * message (a card without its recent lists is at most STORE_CARD_BYTES). */
#define PAGE_BYTES 56000

/* Cursors are sealed: a keyed BLAKE2b tag over the caller's department
 * and the cursor (which names its query), with a key drawn when the
 * server starts. A forged cursor, or one another department was given,
 * is refused; after a restart the client starts from the first page. */
#define CURSOR_TAG_BYTES 16

static uint8_t cursor_key[crypto_generichash_KEYBYTES];
static pthread_once_t cursor_once = PTHREAD_ONCE_INIT;

static void cursor_key_init(void)
{
	randombytes_buf(cursor_key, sizeof(cursor_key));
}

static void cursor_tag(const char *department, const char *body, size_t len,
		       uint8_t tag[CURSOR_TAG_BYTES])
{
	crypto_generichash_state st;

	pthread_once(&cursor_once, cursor_key_init);
	crypto_generichash_init(&st, cursor_key, sizeof(cursor_key),
				CURSOR_TAG_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)department,
				  strlen(department) + 1);
	crypto_generichash_update(&st, (const uint8_t *)body, len);
	crypto_generichash_final(&st, tag, CURSOR_TAG_BYTES);
}

/* Appends ".TAG" to *cursor (reallocated). 0 or CARTA_ENOMEM. */
static int cursor_seal(const char *department, char **cursor)
{
	uint8_t tag[CURSOR_TAG_BYTES];
	size_t len = strlen(*cursor);
	char *sealed = realloc(*cursor, len + 2 * CURSOR_TAG_BYTES + 2);

	if (sealed == NULL)
		return CARTA_ENOMEM;
	*cursor = sealed;
	cursor_tag(department, sealed, len, tag);
	sealed[len] = '.';
	sodium_bin2hex(sealed + len + 1, 2 * CURSOR_TAG_BYTES + 1, tag,
		       sizeof(tag));
	return 0;
}

/* The length of the body of a sealed cursor whose tag holds for
 * department, or 0. */
static size_t cursor_open(const char *department, const char *cursor)
{
	uint8_t tag[CURSOR_TAG_BYTES], want[CURSOR_TAG_BYTES];
	const char *dot = strrchr(cursor, '.');
	size_t len = dot ? (size_t)(dot - cursor) : 0;

	if (dot == NULL || strlen(dot + 1) != 2 * CURSOR_TAG_BYTES ||
	    sodium_hex2bin(tag, sizeof(tag), dot + 1, 2 * CURSOR_TAG_BYTES,
			   NULL, NULL, NULL) != 0)
		return 0;
	cursor_tag(department, cursor, len, want);
	return sodium_memcmp(tag, want, sizeof(tag)) == 0 ? len : 0;
}

#define C(name) CARTA__V1__STATUS__CODE__##name

/* Compiles and checks a query for the caller. Returns 0, or answers the
 * refusal and returns non-zero. */
int handlers_query_prepare(dispatch_call *call, const char *text,
			   const char *where, const char *sort,
			   const char *channel, const char *prefix,
			   query_plan *plan)
{
	query_ctx ctx = {.custom = store_query_custom_field,
			 .custom_arg = call->env->db};
	const char *field = NULL, *fields[CARD_SECTIONS], *why = NULL;
	char err[256], path[64];
	int section = 0;

	int rv = query_compile(&ctx, text, where, sort, channel, plan, err,
			       sizeof(err), &field);
	if (rv == CARTA_EINVAL) {
		/* query.where -> segment_save.where for segments */
		snprintf(path, sizeof(path), "%s%s", prefix,
			 field ? strchr(field, '.') + 1 : "");
		dispatch_fail(call, C(INVALID_ARGUMENT), err, path);
		return rv;
	}
	if (rv != 0) {
		dispatch_fail_store(call, rv, "query_failed");
		return rv;
	}
	policy_needs needs = query_needs(plan, fields);
	if (policy_check(call->view, &needs, &why, &section) != 0) {
		char msg[200];
		const char *sname = card_section_name(section);
		snprintf(msg, sizeof(msg),
			 "the query reads %s, in %s, which your department "
			 "may not read",
			 fields[section], sname ? sname : "-");
		/* prefix is "query." or "segment_save.": the request. */
		log_limited(LOG_CLASS_AUTH, LOG_WARN, call->out->conn,
			    "event=permission_denied principal=%s "
			    "department=%s request=%.*s section=%s",
			    call->caller->name, call->caller->department,
			    (int)strcspn(prefix, "."), prefix,
			    sname ? sname : "-");
		dispatch_fail(call, C(PERMISSION_DENIED), msg, fields[section]);
		return CARTA_EPERM;
	}
	return 0;
}

static void free_page(Carta__V1__CardPage *page)
{
	for (size_t i = 0; i < page->n_cards; i++)
		carta__v1__card__free_unpacked(page->cards[i], NULL);
	free(page->cards);
	if (page->next_cursor != protobuf_c_empty_string)
		free(page->next_cursor);
}

static void query(dispatch_call *call)
{
	const Carta__V1__QueryRequest *r = call->req->query;
	Carta__V1__Segment *seg = NULL;
	query_plan plan;
	store_query_result res = {0};
	query_value after[QUERY_SORT_MAX + 1];
	char after_id[33];
	bool have_after = false;
	char *where = NULL, *text = NULL;
	Carta__V1__CardPage page = CARTA__V1__CARD_PAGE__INIT;
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;

	memset(&plan, 0, sizeof(plan));
	/* A segment's filter and text join the request's own. */
	if (r->segment[0] != '\0') {
		int rv = store_segment_get(
		    call->env->db, call->caller->department, r->segment, &seg);
		if (rv != 0) {
			if (rv == CARTA_ENOENT)
				dispatch_fail(
				    call, C(NOT_FOUND),
				    "your department has no such segment",
				    "query.segment");
			else
				dispatch_fail_store(call, rv, "query_failed");
			return;
		}
	}
	/* The request's own filter must stand alone: joined as text to the
	 * segment's, an unbalanced one ("x) or (y") would reach outside. */
	if (seg != NULL && seg->where[0] && r->where[0]) {
		query_plan alone;
		memset(&alone, 0, sizeof(alone));
		int rv = handlers_query_prepare(call, "", r->where, "", "",
						"query.", &alone);
		query_plan_free(&alone);
		if (rv != 0)
			goto out;
	}
	size_t wl = strlen(r->where) + (seg ? strlen(seg->where) : 0) + 16;
	size_t tl = strlen(r->text) + (seg ? strlen(seg->text) : 0) + 2;
	where = malloc(wl);
	text = malloc(tl);
	if (where == NULL || text == NULL) {
		dispatch_fail_store(call, CARTA_ENOMEM, "query_failed");
		goto out;
	}
	if (seg != NULL && seg->where[0] && r->where[0])
		snprintf(where, wl, "(%s) and (%s)", seg->where, r->where);
	else
		snprintf(where, wl, "%s",
			 seg && seg->where[0] ? seg->where : r->where);
	snprintf(text, tl, "%s%s%s", seg ? seg->text : "",
		 seg && seg->text[0] && r->text[0] ? " " : "", r->text);

	if (handlers_query_prepare(call, text, where, r->sort, r->channel,
				   "query.", &plan) != 0)
		goto out;
	if (r->cursor[0] != '\0') {
		char cursor[QUERY_CURSOR_MAX + 1];
		size_t body =
		    strlen(r->cursor) <= QUERY_CURSOR_MAX
			? cursor_open(call->caller->department, r->cursor)
			: 0;
		memcpy(cursor, r->cursor, body);
		cursor[body] = '\0';
		if (body == 0 ||
		    query_cursor_decode(&plan, cursor, after, after_id) != 0) {
			dispatch_fail(
			    call, C(INVALID_ARGUMENT),
			    "query.cursor: not a cursor of this query",
			    "query.cursor");
			goto out;
		}
		have_after = true;
	}
	unsigned limit = r->limit == 0 ? QUERY_LIMIT_DEFAULT : r->limit;
	if (limit > QUERY_LIMIT_MAX)
		limit = QUERY_LIMIT_MAX;

	int rv =
	    store_query_run(call->env->db, &plan, have_after ? after : NULL,
			    after_id, limit, r->count_only, &res);
	if (rv != 0) {
		dispatch_fail_store(call, rv, "query_failed");
		goto out;
	}
	page.count = res.count;
	page.left_out = res.left_out;

	/* Cards in order while the page fits one message; at least one. */
	size_t last = 0;
	bool cut = false;
	if (!r->count_only && res.n > 0) {
		page.cards = calloc(res.n, sizeof(*page.cards));
		if (page.cards == NULL) {
			dispatch_fail_store(call, CARTA_ENOMEM, "query_failed");
			goto out;
		}
	}
	size_t bytes = 0;
	for (size_t i = 0; !r->count_only && i < res.n; i++) {
		Carta__V1__Card *card = NULL;
		rv = store_card_get(call->env->db, res.rows[i].id, &card);
		if (rv == CARTA_ENOENT)
			continue; /* gone since the query ran */
		if (rv == 0)
			rv = policy_filter_card(call->view, card);
		if (rv != 0) {
			if (card != NULL)
				carta__v1__card__free_unpacked(card, NULL);
			dispatch_fail_store(call, rv, "query_failed");
			goto out;
		}
		size_t size = carta__v1__card__get_packed_size(card);
		while (size > PAGE_BYTES && card_drop_oldest(card))
			size = carta__v1__card__get_packed_size(card);
		if (page.n_cards > 0 && bytes + size + 8 > PAGE_BYTES) {
			carta__v1__card__free_unpacked(card, NULL);
			cut = true;
			break;
		}
		bytes += size + 8;
		page.cards[page.n_cards++] = card;
		last = i;
	}
	if (!r->count_only && res.n > 0 && (cut || res.more)) {
		if (query_cursor_encode(&plan, res.rows[last].keys,
					res.rows[last].id,
					&page.next_cursor) != 0 ||
		    cursor_seal(call->caller->department, &page.next_cursor) !=
			0) {
			dispatch_fail_store(call, CARTA_ENOMEM, "query_failed");
			goto out;
		}
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_CARDS;
	resp.cards = &page;
	dispatch_ok(call, &resp, NULL, 0);
out:
	free_page(&page);
	store_query_result_free(&plan, &res);
	if (have_after)
		query_values_free(after, plan.nkeys);
	query_plan_free(&plan);
	free(where);
	free(text);
	if (seg != NULL)
		carta__v1__segment__free_unpacked(seg, NULL);
}

static bool segment_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 ||
	    !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static void actor(dispatch_call *call, store_actor *a)
{
	a->principal = call->caller->name;
	a->department = call->caller->department;
}

static void reply_segment(dispatch_call *call, Carta__V1__Segment *seg)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;

	resp.body_case = CARTA__V1__RESPONSE__BODY_SEGMENT;
	resp.segment = seg;
	dispatch_ok(call, &resp, NULL, 0);
}

static void segment_save(dispatch_call *call)
{
	const Carta__V1__Segment *in = call->req->segment_save;
	Carta__V1__Segment *out = NULL;
	query_plan plan;
	store_actor who;

	if (!segment_name_ok(in->name)) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "segment_save.name: use [a-z0-9][a-z0-9_-]{0,63}",
			      "segment_save.name");
		return;
	}
	if (in->where[0] == '\0' && in->text[0] == '\0') {
		dispatch_fail(
		    call, C(INVALID_ARGUMENT),
		    "segment_save.where: a segment needs a filter or a text",
		    "segment_save.where");
		return;
	}
	/* Saved only when the saver could run it. */
	int rv = handlers_query_prepare(call, in->text, in->where, "", "",
					"segment_save.", &plan);
	query_plan_free(&plan);
	if (rv != 0)
		return;
	actor(call, &who);
	rv = store_segment_save(call->env->db, &who, in, &out);
	if (rv != 0) {
		dispatch_fail_store(call, rv, "query_failed");
		return;
	}
	reply_segment(call, out);
	carta__v1__segment__free_unpacked(out, NULL);
}

static void segment_show(dispatch_call *call)
{
	Carta__V1__Segment *seg = NULL;

	int rv = store_segment_get(call->env->db, call->caller->department,
				   call->req->segment_show->name, &seg);
	if (rv == CARTA_ENOENT) {
		dispatch_fail(call, C(NOT_FOUND),
			      "your department has no such segment",
			      "segment_show.name");
		return;
	}
	if (rv != 0) {
		dispatch_fail_store(call, rv, "query_failed");
		return;
	}
	reply_segment(call, seg);
	carta__v1__segment__free_unpacked(seg, NULL);
}

static void segment_list(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__SegmentList *list = NULL;

	int rv =
	    store_segment_list(call->env->db, call->caller->department, &list);
	if (rv != 0) {
		dispatch_fail_store(call, rv, "query_failed");
		return;
	}
	resp.body_case = CARTA__V1__RESPONSE__BODY_SEGMENTS;
	resp.segments = list;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__segment_list__free_unpacked(list, NULL);
}

static void segment_delete(dispatch_call *call)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	store_actor who;

	actor(call, &who);
	int rv = store_segment_delete(call->env->db, &who,
				      call->req->segment_delete->name);
	if (rv == CARTA_ENOENT) {
		dispatch_fail(call, C(NOT_FOUND),
			      "your department has no such segment",
			      "segment_delete.name");
		return;
	}
	if (rv != 0) {
		dispatch_fail_store(call, rv, "query_failed");
		return;
	}
	dispatch_ok(call, &resp, NULL, 0);
}

bool handlers_query(dispatch_call *call)
{
	switch (call->req->body_case) {
	case CARTA__V1__REQUEST__BODY_QUERY:
		query(call);
		return true;
	case CARTA__V1__REQUEST__BODY_SEGMENT_SAVE:
		segment_save(call);
		return true;
	case CARTA__V1__REQUEST__BODY_SEGMENT_LIST:
		segment_list(call);
		return true;
	case CARTA__V1__REQUEST__BODY_SEGMENT_SHOW:
		segment_show(call);
		return true;
	case CARTA__V1__REQUEST__BODY_SEGMENT_DELETE:
		segment_delete(call);
		return true;
	default:
		return false;
	}
}
