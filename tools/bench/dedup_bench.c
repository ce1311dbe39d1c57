/* dedup_bench: how long the duplicate scan and the per-card look-up take.
 * Stores N demo cards (default 100,000, seed 5, with their planted
 * near-duplicates) in a fresh store in a temporary directory through
 * store_import, then times store_match_scan over all of them and
 * store_match_card for the first 1,000 demo cards again (each finds at
 * least itself). Prints figures; asserts nothing.
 *
 * usage: dedup_bench [COUNT [DB [print]]]: with DB, the store is kept
 * there (and reused when it exists: no loading); with print, the pairs
 * are listed. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "carta_error.h"
#include "demo.h"
#include "store.h"
#include "store_card.h"
#include "store_match.h"

#define BATCH	1000
#define LOOKUPS 1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void free_batch(Carta__V1__Card **cards, size_t n)
{
	for (size_t i = 0; i < n; i++)
		carta__v1__card__free_unpacked(cards[i], NULL);
}

/* Stores count demo cards. Returns 0 or a CARTA_E* code. */
static int load(store *s, unsigned count)
{
	static Carta__V1__Card *cards[BATCH];
	static store_import_outcome outs[BATCH];
	store_actor who = {"bench", "admin", 0};
	demo_gen *g = NULL;
	demo_info info;
	size_t n = 0;
	int rv = demo_gen_new(5, count, &g);

	while (rv == 0) {
		int more = demo_gen_next(g, &cards[n], &info);
		if (more < 0) {
			rv = more;
			break;
		}
		n += (size_t)more;
		if (n == BATCH || (more == 0 && n > 0)) {
			rv = store_import(s, &who,
					  CARTA__V1__UPSERT_KEY__UPSERT_NONE, 0,
					  0, 1, cards, NULL, n, outs);
			free_batch(cards, n);
			n = 0;
		}
		if (more == 0)
			break;
	}
	free_batch(cards, n);
	demo_gen_free(g);
	return rv;
}

/* Times store_match_card for the first LOOKUPS demo cards. */
static int lookups(store *s, unsigned count)
{
	demo_gen *g = NULL;
	demo_info info;
	unsigned done = 0, found = 0;
	int rv = demo_gen_new(5, count, &g);
	double t0 = now_s();

	while (rv == 0 && done < LOOKUPS && done < count) {
		Carta__V1__Card *card = NULL;
		Carta__V1__DuplicateCandidate **v = NULL;
		size_t n = 0;

		if (demo_gen_next(g, &card, &info) != 1)
			break;
		rv = store_match_card(s, card, 0, 0, &v, &n);
		found += n > 0;
		store_match_free(v, n);
		carta__v1__card__free_unpacked(card, NULL);
		done++;
	}
	double t1 = now_s();
	demo_gen_free(g);
	if (rv == 0 && done > 0)
		printf("match one card (provider dots %s): %.2f ms each (%u "
		       "look-ups, %u found a card)\n",
		       match_config()->provider_dots ? "on" : "off",
		       (t1 - t0) * 1000 / done, done, found);
	return rv;
}

int main(int argc, char **argv)
{
	unsigned count =
	    argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	char dir[] = "/tmp/carta-dedup-bench-XXXXXX", path[PATH_MAX + 64];
	const char *keep = argc > 2 ? argv[2] : NULL;
	bool print = argc > 3 && strcmp(argv[3], "print") == 0;
	store *s = NULL;
	store_match_scan_result res;

	if (count == 0 || mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/carta.db", dir);
	bool reuse = keep != NULL && access(keep, F_OK) == 0;
	int rv = store_open(keep != NULL ? keep : path, 1, &s);
	double t0 = now_s();
	if (rv == 0 && !reuse)
		rv = load(s, count);
	double t1 = now_s();
	if (rv != 0) {
		fprintf(stderr, "dedup_bench: loading: %s\n",
			carta_strerror(rv));
		goto out;
	}
	printf("stored %u demo cards in %.1f s\n", count, t1 - t0);

	for (int run = 0; run < 3; run++) {
		t0 = now_s();
		rv = store_match_scan(s, NULL, 0, &res);
		t1 = now_s();
		if (rv != 0) {
			fprintf(stderr, "dedup_bench: scan: %s\n",
				carta_strerror(rv));
			goto out;
		}
		printf("scan %d: %.3f s, %llu cards, %zu pairs at >= %.2f, "
		       "%llu keys skipped\n",
		       run + 1, t1 - t0, (unsigned long long)res.cards, res.n,
		       match_config()->min_score,
		       (unsigned long long)res.blocks_skipped);
		for (size_t i = 0; print && run == 0 && i < res.n; i++) {
			const store_match_pair *p = &res.pairs[i];
			char **why = NULL;
			size_t nw = 0;

			printf("%u %.3f %s %s | %s | %s |", p->group,
			       (double)p->m.score / MATCH_SCORE_SCALE,
			       res.numbers[p->a], res.numbers[p->b],
			       res.names[p->a], res.names[p->b]);
			if (match_reasons(&p->m, &why, &nw) == 0)
				for (size_t k = 0; k < nw; k++)
					printf(" %s;", why[k]);
			match_reasons_free(why, nw);
			printf("\n");
		}
		store_match_scan_free(&res);
	}

	/* Look-ups as create and import make them, with the provider dot
	 * rule (the default) and without it. */
	for (int dots = 1; rv == 0 && dots >= 0; dots--) {
		match_options o = *match_config();
		o.provider_dots = dots;
		match_configure(&o);
		rv = lookups(s, count);
	}
out:
	store_close(s);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "dedup_bench: could not remove %s\n", dir);
	return rv == 0 ? 0 : 1;
}
