/* Fuzz target: the query language as a client sends it: the input is
 * split at NUL bytes into a filter, a text, a sort and a cursor. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const query_ctx ctx = {.today = "2024-03-31"};
	const char *parts[4] = {"", "", "", ""};
	char *buf = malloc(size + 1);
	char err[256];
	const char *field;
	query_plan p;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	size_t at = 0;
	for (int i = 0; i < 4 && at <= size; i++) {
		parts[i] = buf + at;
		at += strlen(buf + at) + 1;
	}
	if (query_compile(&ctx, parts[1], parts[0], parts[2], "", &p, err,
			  sizeof(err), &field) == 0) {
		query_value vals[QUERY_SORT_MAX + 1];
		char id[33];
		if (query_cursor_decode(&p, parts[3], vals, id) == 0)
			query_values_free(vals, p.nkeys);
	}
	query_plan_free(&p);
	free(buf);
	return 0;
}
