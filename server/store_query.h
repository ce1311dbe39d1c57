/* Running compiled queries (query.h) on the store, and saved segments.
 * Like the rest of the store, this layer enforces no permissions: the
 * handler checks query_needs against the policy before calling it. Every
 * function returns 0 or a negative CARTA_E* code. */
#ifndef CARTAD_STORE_QUERY_H
#define CARTAD_STORE_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "query.h"
#include "store.h"

typedef struct {
	char id[33];
	query_value keys[QUERY_SORT_MAX + 1]; /* plan->nkeys of them */
} store_query_row;

typedef struct {
	store_query_row *rows; /* in sort order */
	size_t n;
	bool more;	   /* cards follow the last row */
	uint64_t count;	   /* with count: cards matching */
	uint64_t left_out; /* with a channel: matching, but no consent */
} store_query_result;

/* Runs plan: at most limit rows after the cursor position (after/after_id;
 * after NULL: from the start), all in one snapshot. With count, only
 * counts (no rows). Free *out with store_query_result_free. */
int store_query_run(store *s, const query_plan *plan, const query_value *after,
		    const char *after_id, unsigned limit, bool count,
		    store_query_result *out);
void store_query_result_free(const query_plan *plan, store_query_result *r);

/* A query_custom_fn over the store's custom fields (arg: the store). */
int store_query_custom_field(void *arg, const char *name,
			     Carta__V1__FieldDef **def);

/* Segments belong to a department; saving a name again replaces it.
 * seg's name, where and text are used (already checked); *out (may be
 * NULL) gets the stored segment. CARTA_ENOENT when a name is unknown. */
int store_segment_save(store *s, const store_actor *who,
		       const Carta__V1__Segment *seg, Carta__V1__Segment **out);
int store_segment_get(store *s, const char *department, const char *name,
		      Carta__V1__Segment **out);
int store_segment_list(store *s, const char *department,
		       Carta__V1__SegmentList **out);
int store_segment_delete(store *s, const store_actor *who, const char *name);

#endif
