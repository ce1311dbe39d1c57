/* The query language: a text search, a filter expression and a sort,
 * parsed and compiled to one SQL condition over `cards c` with bound
 * parameters (?1, ?2, ...) and the sort keys of keyset pagination. Input
 * never becomes SQL text: every value is a parameter, every field comes
 * from a fixed table. docs/QUERIES.md describes the language.
 *
 * Pure: no store access (custom fields are resolved through a callback). */
#ifndef CARTAD_QUERY_H
#define CARTAD_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "card.h"
#include "policy.h"

#define QUERY_WHERE_MAX	 4096 /* bytes of a filter expression */
#define QUERY_TEXT_MAX	 256  /* bytes of a text search */
#define QUERY_SORT_MAX	 4    /* fields in a sort */
#define QUERY_DEPTH_MAX	 16   /* nesting of parentheses and not */
#define QUERY_TERMS_MAX	 64   /* comparisons in one filter */
#define QUERY_TOKENS_MAX 8    /* words of a text search */
#define QUERY_CURSOR_MAX 2048
#define QUERY_FIELD_SIZE 80

enum { QUERY_INT = 1, QUERY_TEXT = 2 };

typedef struct {
	int kind; /* QUERY_INT or QUERY_TEXT */
	int64_t i;
	char *s; /* malloc'd, with QUERY_TEXT */
} query_value;

typedef struct {
	char *expr; /* SQL over cards c, never NULL for the given kind */
	int kind;
	bool desc;
} query_key;

/* The definition of custom field name into *def (the caller frees it with
 * carta__v1__field_def__free_unpacked); returns 0 or CARTA_ENOENT. */
typedef int (*query_custom_fn)(void *arg, const char *name,
			       Carta__V1__FieldDef **def);

typedef struct {
	const char *today; /* "YYYY-MM-DD"; NULL: today's UTC date */
	query_custom_fn custom;
	void *custom_arg;
} query_ctx;

typedef struct query_plan {
	char *where; /* SQL condition over cards c ("1" for none) */
	/* With a channel: its consent condition, which where does not
	 * include (the store counts the cards it leaves out); else NULL. */
	char *consent;
	query_value *binds; /* bound as ?1 .. ?nbinds */
	size_t nbinds, cap;
	query_key keys[QUERY_SORT_MAX + 1]; /* then c.id */
	size_t nkeys;
	/* A hash of the text, filter, sort and channel: a cursor carries it,
	 * so that it only fits the query that made it. */
	uint32_t fingerprint;
	uint32_t reads; /* sections read, 1 << Carta__V1__Section */
	/* Per section, the first field that reads it (for refusals). */
	char fields[CARD_SECTIONS][QUERY_FIELD_SIZE];
} query_plan;

/* Compiles a query. text, where and sort may be "" (none); channel is ""
 * or email/phone/sms/post (only cards whose latest consent on that channel
 * is a grant). Returns 0, CARTA_EINVAL with err ("where: at 12: ...")
 * and *field the request field at fault (query.text, query.where,
 * query.sort, query.channel), or CARTA_ENOMEM. *out is freed with
 * query_plan_free in every case. */
int query_compile(const query_ctx *ctx, const char *text, const char *where,
		  const char *sort, const char *channel, query_plan *out,
		  char *err, size_t errlen, const char **field);

void query_plan_free(query_plan *p);

/* What running plan reads; fields[s] is then the field that needs section
 * s ("" when none). */
policy_needs query_needs(const query_plan *p,
			 const char *fields[CARD_SECTIONS]);

/* Cursors: the sort key values of the last card, then its id. */
int query_cursor_encode(const query_plan *p, const query_value *vals,
			const char *id, char **out);
/* Parses cursor for plan into vals (p->nkeys values, freed with
 * query_values_free) and id (33 bytes). CARTA_EINVAL when malformed. */
int query_cursor_decode(const query_plan *p, const char *cursor,
			query_value *vals, char id[33]);
void query_values_free(query_value *vals, size_t n);

/* The words of a text search as the index holds them: folded, split at
 * anything that is not a letter or digit. Returns the number of words
 * written to words (each malloc'd), at most max, or a CARTA_E* code. */
int query_words(const char *text, char **words, int max);

/* The SQL functions the index and the plans use, registered on conn:
 * carta_fold(x), carta_words(x), carta_digits(x), carta_phone_key(x). */
int query_sql_functions(sqlite3 *conn);

#endif
