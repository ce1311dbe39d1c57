/* The JSON lines reader of 'carta import json': one card per line in the
 * format of docs/CARD.md ('carta export json' writes it). Blank lines are
 * skipped; a line that is not a card is rejected with the reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "card_json.h"
#include "import.h"

/* A line longer than this is rejected unread: no card is this large. */
#define JSON_LINE_MAX (4u << 20)

struct import_src {
	FILE *f;
	char *line;
	size_t cap;
	unsigned long lineno;
	unsigned long long read, total;
};

static int json_open(const char *path, const import_opts *o, import_src **out,
		     char *err, size_t errlen)
{
	struct stat sb;
	import_src *s = calloc(1, sizeof(*s));

	(void)o;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (s->f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(s);
		return -1;
	}
	if (fstat(fileno(s->f), &sb) == 0 && S_ISREG(sb.st_mode))
		s->total = (unsigned long long)sb.st_size;
	*out = s;
	return 0;
}

static int json_next(import_src *s, import_rec *rec, char *err, size_t errlen)
{
	char why[IMPORT_REASON_MAX];

	import_rec_clear(rec);
	for (;;) {
		errno = 0;
		ssize_t n = getline(&s->line, &s->cap, s->f);
		if (n < 0) {
			if (errno != 0 || ferror(s->f)) {
				snprintf(err, errlen, "line %lu: %s",
					 s->lineno + 1, strerror(errno));
				return -1;
			}
			return 0;
		}
		s->lineno++;
		s->read += (unsigned long long)n;
		rec->line = s->lineno;
		rec->lines = 1;

		size_t len = (size_t)n;
		while (len > 0 &&
		       (s->line[len - 1] == '\n' || s->line[len - 1] == '\r' ||
			s->line[len - 1] == ' '))
			len--;
		if (len == 0)
			continue;
		if (len > JSON_LINE_MAX) {
			snprintf(rec->reason, sizeof(rec->reason),
				 "the line is longer than %u bytes",
				 JSON_LINE_MAX);
			return 1;
		}
		if (card_json_parse(s->line, len, &rec->card, why,
				    sizeof(why)) != 0) {
			rec->card = NULL;
			/* One card per line: the parser's "line 1" is this
			 * record's line, already given. */
			const char *w = why;
			if (strncmp(w, "line 1, ", 8) == 0)
				w += 8;
			snprintf(rec->reason, sizeof(rec->reason), "%s", w);
		}
		return 1;
	}
}

static void json_progress(import_src *s, unsigned long long *read,
			  unsigned long long *total)
{
	*read = s->read;
	*total = s->total;
}

static void json_close(import_src *s)
{
	if (s == NULL)
		return;
	if (s->f != NULL && s->f != stdin)
		fclose(s->f);
	free(s->line);
	free(s);
}

const import_reader import_json_reader = {
    .name = "json",
    .open = json_open,
    .next = json_next,
    .progress = json_progress,
    .close = json_close,
};
