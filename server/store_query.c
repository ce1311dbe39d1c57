#include "store_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carta_error.h"
#include "store_card.h"
#include "store_internal.h"

typedef struct {
	char *s;
	size_t n, cap;
	bool oom;
} buf;

static void add(buf *b, const char *s)
{
	size_t len = strlen(s);

	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (b->n + len + 1 > cap)
			cap *= 2;
		char *t = realloc(b->s, cap);
		if (t == NULL) {
			b->oom = true;
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, len + 1);
	b->n += len;
}

static void addn(buf *b, int n)
{
	char num[16];

	snprintf(num, sizeof(num), "?%d", n);
	add(b, num);
}

static void bind_value(sqlite3_stmt *st, int i, const query_value *v)
{
	if (v->kind == QUERY_INT)
		sqlite3_bind_int64(st, i, v->i);
	else
		sqlite3_bind_text(st, i, v->s ? v->s : "", -1, SQLITE_STATIC);
}

static int bind_plan(sqlite3_stmt *st, const query_plan *p)
{
	for (size_t i = 0; i < p->nbinds; i++)
		bind_value(st, (int)i + 1, &p->binds[i]);
	return 0;
}

struct run_args {
	const query_plan *plan;
	const query_value *after;
	const char *after_id;
	unsigned limit;
	bool count;
	store_query_result *out;
};

/* A merged card is only a pointer to its survivor (store_merge.c), an
 * erased one a tombstone with nothing of the person (store_erase.c):
 * neither is ever a result, nor counted. Opens the parenthesis of the
 * query's own condition. */
#define LIVE_CARDS "c.merged_into = '' AND c.erased_at = 0 AND ("

static int count_of(sqlite3 *conn, const query_plan *p, const char *extra,
		    uint64_t *n)
{
	buf b = {0};
	sqlite3_stmt *st = NULL;

	add(&b, "SELECT count(*) FROM cards c WHERE ");
	add(&b, LIVE_CARDS);
	add(&b, p->where);
	add(&b, ")");
	if (extra != NULL) {
		add(&b, " AND ");
		add(&b, extra);
	}
	if (b.oom) {
		free(b.s);
		return CARTA_ENOMEM;
	}
	int rc = sqlite3_prepare_v2(conn, b.s, -1, &st, NULL);
	free(b.s);
	if (rc == SQLITE_OK) {
		bind_plan(st, p);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*n = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_map_rc(rc);
}

/* Keyset position: rows strictly after the cursor in sort order. */
static void after_cond(buf *b, const query_plan *p, size_t i, int first)
{
	if (i == p->nkeys) {
		add(b, "c.id > ");
		addn(b, first + (int)i);
		return;
	}
	add(b, "(");
	add(b, p->keys[i].expr);
	add(b, p->keys[i].desc ? " < " : " > ");
	addn(b, first + (int)i);
	add(b, " OR (");
	add(b, p->keys[i].expr);
	add(b, " = ");
	addn(b, first + (int)i);
	add(b, " AND ");
	after_cond(b, p, i + 1, first);
	add(b, "))");
}

static int run_fn(sqlite3 *conn, void *arg)
{
	struct run_args *a = arg;
	const query_plan *p = a->plan;
	store_query_result *r = a->out;
	sqlite3_stmt *st = NULL;
	buf b = {0};
	int rv = 0;

	if (p->consent != NULL) {
		char *not = NULL;
		size_t len = strlen(p->consent) + 8;
		not = malloc(len);
		if (not == NULL)
			return CARTA_ENOMEM;
		snprintf(not, len, "NOT (%s)", p->consent);
		rv = count_of(conn, p, not, &r->left_out);
		free(not );
		if (rv != 0)
			return rv;
	}
	if (a->count)
		return count_of(conn, p, p->consent, &r->count);

	add(&b, "SELECT c.id");
	for (size_t i = 0; i < p->nkeys; i++) {
		add(&b, ", ");
		add(&b, p->keys[i].expr);
	}
	add(&b, " FROM cards c WHERE ");
	add(&b, LIVE_CARDS);
	add(&b, p->where);
	add(&b, ")");
	if (p->consent != NULL) {
		add(&b, " AND ");
		add(&b, p->consent);
	}
	int first = (int)p->nbinds + 1;
	if (a->after != NULL) {
		add(&b, " AND ");
		after_cond(&b, p, 0, first);
	}
	add(&b, " ORDER BY ");
	for (size_t i = 0; i < p->nkeys; i++) {
		add(&b, p->keys[i].expr);
		add(&b, p->keys[i].desc ? " DESC, " : ", ");
	}
	add(&b, "c.id LIMIT ");
	addn(&b, first + (int)p->nkeys + 1);
	if (b.oom) {
		free(b.s);
		return CARTA_ENOMEM;
	}
	int rc = sqlite3_prepare_v2(conn, b.s, -1, &st, NULL);
	free(b.s);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	bind_plan(st, p);
	if (a->after != NULL) {
		for (size_t i = 0; i < p->nkeys; i++)
			bind_value(st, first + (int)i, &a->after[i]);
		sqlite3_bind_text(st, first + (int)p->nkeys, a->after_id, -1,
				  SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, first + (int)p->nkeys + 1,
			   (sqlite3_int64)a->limit + 1);

	r->rows = calloc(a->limit + 1, sizeof(*r->rows));
	if (r->rows == NULL) {
		rv = CARTA_ENOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->n == a->limit) {
			r->more = true;
			break;
		}
		store_query_row *row = &r->rows[r->n++];
		snprintf(row->id, sizeof(row->id), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		for (size_t i = 0; i < p->nkeys; i++) {
			query_value *v = &row->keys[i];
			v->kind = p->keys[i].kind;
			if (v->kind == QUERY_INT) {
				v->i = sqlite3_column_int64(st, (int)i + 1);
				continue;
			}
			const char *t =
			    (const char *)sqlite3_column_text(st, (int)i + 1);
			v->s = strdup(t ? t : "");
			if (v->s == NULL) {
				rv = CARTA_ENOMEM;
				goto out;
			}
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
out:
	sqlite3_finalize(st);
	return rv;
}

int store_query_run(store *s, const query_plan *plan, const query_value *after,
		    const char *after_id, unsigned limit, bool count,
		    store_query_result *out)
{
	struct run_args a = {.plan = plan,
			     .after = after,
			     .after_id = after_id,
			     .limit = limit,
			     .count = count,
			     .out = out};

	memset(out, 0, sizeof(*out));
	int rv = store_run(s, 0, run_fn, &a);
	if (rv != 0)
		store_query_result_free(plan, out);
	return rv;
}

void store_query_result_free(const query_plan *plan, store_query_result *r)
{
	for (size_t i = 0; r->rows != NULL && i < r->n; i++)
		query_values_free(r->rows[i].keys, plan->nkeys);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

int store_query_custom_field(void *arg, const char *name,
			     Carta__V1__FieldDef **def)
{
	return store_field_get(arg, name, def);
}

/* ---- segments ---- */

struct seg_args {
	const store_actor *who;
	const char *department, *name;
	const Carta__V1__Segment *seg;
	Carta__V1__Segment **out;
	Carta__V1__SegmentList **list;
};

static char *dup_col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return strdup(t ? t : "");
}

static int read_segment(sqlite3_stmt *st, Carta__V1__Segment **out)
{
	Carta__V1__Segment *g = malloc(sizeof(*g));

	if (g == NULL)
		return CARTA_ENOMEM;
	carta__v1__segment__init(g);
	g->department = dup_col(st, 0);
	g->name = dup_col(st, 1);
	g->where = dup_col(st, 2);
	g->text = dup_col(st, 3);
	g->created_by = dup_col(st, 4);
	g->created_at = sqlite3_column_int64(st, 5);
	if (!g->department || !g->name || !g->where || !g->text ||
	    !g->created_by) {
		carta__v1__segment__free_unpacked(g, NULL);
		return CARTA_ENOMEM;
	}
	*out = g;
	return 0;
}

#define SEG_COLUMNS                                                            \
	"SELECT department, name, where_expr, text, created_by, created_at "   \
	"FROM segments "

static int get_fn(sqlite3 *conn, void *arg)
{
	struct seg_args *a = arg;
	sqlite3_stmt *st = NULL;
	int rv;

	int rc = sqlite3_prepare_v2(
	    conn, SEG_COLUMNS "WHERE department = ? AND name = ?", -1, &st,
	    NULL);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	sqlite3_bind_text(st, 1, a->department, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rv = a->out != NULL ? read_segment(st, a->out) : 0;
	else
		rv = rc == SQLITE_DONE ? CARTA_ENOENT : store_map_rc(rc);
	sqlite3_finalize(st);
	return rv;
}

static int save_fn(sqlite3 *conn, void *arg)
{
	struct seg_args *a = arg;
	sqlite3_stmt *st = NULL;
	char json[64];

	int rc = sqlite3_prepare_v2(
	    conn,
	    "INSERT OR REPLACE INTO segments (department, name, where_expr, "
	    "text, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	sqlite3_bind_text(st, 1, a->who->department, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->seg->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->seg->where, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->seg->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->who->principal, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_map_rc(rc);
	/* The audit names the segment; its expression is no card data. */
	snprintf(json, sizeof(json), "{\"segment\":\"%s\"}", a->seg->name);
	int rv =
	    store_audit_append(conn, a->who, "", 0, "segment.save", "", json);
	if (rv != 0 || a->out == NULL)
		return rv;
	a->department = a->who->department;
	a->name = a->seg->name;
	return get_fn(conn, a);
}

int store_segment_save(store *s, const store_actor *who,
		       const Carta__V1__Segment *seg, Carta__V1__Segment **out)
{
	struct seg_args a = {.who = who, .seg = seg, .out = out};
	return store_run(s, 1, save_fn, &a);
}

int store_segment_get(store *s, const char *department, const char *name,
		      Carta__V1__Segment **out)
{
	struct seg_args a = {
	    .department = department, .name = name, .out = out};
	return store_run(s, 0, get_fn, &a);
}

static int list_fn(sqlite3 *conn, void *arg)
{
	struct seg_args *a = arg;
	Carta__V1__SegmentList *l = malloc(sizeof(*l));
	sqlite3_stmt *st = NULL;
	int rv = 0;

	if (l == NULL)
		return CARTA_ENOMEM;
	carta__v1__segment_list__init(l);
	int rc = sqlite3_prepare_v2(
	    conn, SEG_COLUMNS "WHERE department = ? ORDER BY name", -1, &st,
	    NULL);
	if (rc == SQLITE_OK)
		sqlite3_bind_text(st, 1, a->department, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		Carta__V1__Segment **grown =
		    realloc(l->segments, (l->n_segments + 1) * sizeof(*grown));
		if (grown == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		l->segments = grown;
		rv = read_segment(st, &l->segments[l->n_segments]);
		if (rv != 0)
			break;
		l->n_segments++;
		rc = SQLITE_OK;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = store_map_rc(rc);
	sqlite3_finalize(st);
	if (rv != 0) {
		carta__v1__segment_list__free_unpacked(l, NULL);
		return rv;
	}
	*a->list = l;
	return 0;
}

int store_segment_list(store *s, const char *department,
		       Carta__V1__SegmentList **out)
{
	struct seg_args a = {.department = department, .list = out};
	return store_run(s, 0, list_fn, &a);
}

static int delete_fn(sqlite3 *conn, void *arg)
{
	struct seg_args *a = arg;
	sqlite3_stmt *st = NULL;
	char json[96];

	int rc = sqlite3_prepare_v2(
	    conn, "DELETE FROM segments WHERE department = ? AND name = ?", -1,
	    &st, NULL);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	sqlite3_bind_text(st, 1, a->who->department, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_map_rc(rc);
	if (sqlite3_changes(conn) == 0)
		return CARTA_ENOENT;
	snprintf(json, sizeof(json), "{\"segment\":\"%.64s\"}", a->name);
	return store_audit_append(conn, a->who, "", 0, "segment.delete", json,
				  "");
}

int store_segment_delete(store *s, const store_actor *who, const char *name)
{
	struct seg_args a = {.who = who, .name = name};
	return store_run(s, 1, delete_fn, &a);
}
