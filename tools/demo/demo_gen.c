/* carta-demo-gen: writes demo customer cards as JSON lines, one card per
 * line in the form `carta customer show --json` prints and `carta import
 * json` reads (docs/CARD.md), and optionally the planted near-duplicate
 * pairs. The same --count and --seed always write the same bytes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "card_json.h"
#include "carta_error.h"
#include "demo.h"

static const char usage[] =
    "usage: carta-demo-gen --count N --seed S [--out FILE] [--truth FILE]\n"
    "\n"
    "Writes N demo customer cards as JSON lines (one card per line, as\n"
    "'carta import json' reads them) to FILE or standard output. The same\n"
    "N and S always give the same output.\n"
    "\n"
    "  --count N     how many cards (0 to 1000000)\n"
    "  --seed S      any whole number from 0 to 2^64-1\n"
    "  --out FILE    write the cards here instead of standard output\n"
    "  --truth FILE  write the planted near-duplicate pairs here, one JSON\n"
    "                object per line: {\"original\": \"DEMO-000012\",\n"
    "                \"duplicate\": \"DEMO-000047\", \"varied\": [...]}\n";

/* Parses a whole decimal number up to max; 0 or -1. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* One truth line: the pair and what differs, as a JSON object. */
static int write_truth(FILE *f, unsigned original, unsigned duplicate,
		       const char *varied)
{
	char a[DEMO_ID_SIZE], b[DEMO_ID_SIZE], word[DEMO_VARIED_SIZE];
	json_t *o = json_object(), *list = json_array();
	char *text = NULL;
	int rv = -1;

	if (o == NULL || list == NULL)
		goto out;
	demo_external_id(original, a);
	demo_external_id(duplicate, b);
	for (const char *p = varied; *p;) {
		size_t n = strcspn(p, ",");
		snprintf(word, sizeof word, "%.*s", (int)n, p);
		json_array_append_new(list, json_string(word));
		p += n + (p[n] == ',');
	}
	json_object_set_new(o, "original", json_string(a));
	json_object_set_new(o, "duplicate", json_string(b));
	json_object_set(o, "varied", list);
	text = json_dumps(o, JSON_COMPACT);
	if (text != NULL && fprintf(f, "%s\n", text) >= 0)
		rv = 0;
out:
	free(text);
	json_decref(list);
	json_decref(o);
	return rv;
}

static int close_out(FILE *f, const char *path)
{
	int bad = ferror(f);

	if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
		bad = 1;
	if (bad)
		fprintf(stderr, "carta-demo-gen: %s: write failed\n", path);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *truth_path = NULL;
	uint64_t count = 0, seed = 0;
	int have_count = 0, have_seed = 0, status = 1;
	FILE *out = stdout, *truth = NULL;
	demo_gen *g = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (v == NULL)
			goto usage_error;
		if (strcmp(a, "--count") == 0 &&
		    parse_u64(v, DEMO_COUNT_MAX, &count) == 0)
			have_count = 1;
		else if (strcmp(a, "--seed") == 0 &&
			 parse_u64(v, UINT64_MAX, &seed) == 0)
			have_seed = 1;
		else if (strcmp(a, "--out") == 0)
			out_path = v;
		else if (strcmp(a, "--truth") == 0)
			truth_path = v;
		else
			goto usage_error;
		i++;
	}
	if (!have_count || !have_seed)
		goto usage_error;

	if (out_path != NULL && (out = fopen(out_path, "w")) == NULL) {
		fprintf(stderr, "carta-demo-gen: %s: %s\n", out_path,
			strerror(errno));
		out = stdout;
		goto done;
	}
	if (truth_path != NULL && (truth = fopen(truth_path, "w")) == NULL) {
		fprintf(stderr, "carta-demo-gen: %s: %s\n", truth_path,
			strerror(errno));
		goto done;
	}
	if (demo_gen_new(seed, (unsigned)count, &g) != 0) {
		fprintf(stderr, "carta-demo-gen: out of memory\n");
		goto done;
	}

	for (unsigned i = 0;; i++) {
		Carta__V1__Card *card;
		demo_info info;
		int rv = demo_gen_next(g, &card, &info);
		json_t *v;
		char *text;

		if (rv == 0)
			break;
		if (rv < 0) {
			fprintf(stderr, "carta-demo-gen: out of memory\n");
			goto done;
		}
		v = card_json_from_card(card);
		text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
		json_decref(v);
		carta__v1__card__free_unpacked(card, NULL);
		if (text == NULL) {
			fprintf(stderr, "carta-demo-gen: out of memory\n");
			goto done;
		}
		fprintf(out, "%s\n", text);
		free(text);
		if (info.is_duplicate && truth != NULL &&
		    write_truth(truth, info.original, i, info.varied) != 0) {
			fprintf(stderr, "carta-demo-gen: %s: write failed\n",
				truth_path);
			goto done;
		}
	}
	status = 0;

done:
	demo_gen_free(g);
	if (truth != NULL && close_out(truth, truth_path) != 0)
		status = 1;
	if (close_out(out, out_path ? out_path : "standard output") != 0)
		status = 1;
	return status;

usage_error:
	fputs(usage, stderr);
	return 2;
}
