/* A stand-in for libFuzzer's driver, so that every fuzz target builds with
 * gcc and runs in the test suite: it replays the files named on the
 * command line, then feeds -runs=N pseudo-random inputs (seeded with
 * -seed=S) made by mutating those files or from scratch. Real coverage-
 * guided fuzzing: configure with -DCARTA_FUZZ=ON and CC=clang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 70000
#define MAX_SEEDS 64

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic for a given seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "fuzz: cannot open %s\n", path);
		exit(2);
	}
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t seeds[MAX_SEEDS][MAX_INPUT], input[MAX_INPUT];
	size_t seed_len[MAX_SEEDS];
	size_t nseeds = 0;
	unsigned long runs = 1000;

	rng_state = 1;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "-runs=", 6) == 0) {
			runs = strtoul(argv[i] + 6, NULL, 10);
		} else if (strncmp(argv[i], "-seed=", 6) == 0) {
			rng_state = strtoull(argv[i] + 6, NULL, 10) | 1;
		} else if (argv[i][0] != '-' && nseeds < MAX_SEEDS) {
			seed_len[nseeds] =
			    read_file(argv[i], seeds[nseeds], MAX_INPUT);
			LLVMFuzzerTestOneInput(seeds[nseeds], seed_len[nseeds]);
			nseeds++;
		}
	}

	for (unsigned long r = 0; r < runs; r++) {
		size_t len;
		if (nseeds > 0 && (rng() & 1)) {
			size_t s = rng() % nseeds;
			len = seed_len[s];
			memcpy(input, seeds[s], len);
			/* A few byte flips, a cut or a growth. */
			for (int k = (int)(rng() % 4); k >= 0 && len > 0; k--)
				input[rng() % len] ^=
				    (uint8_t)(1u << (rng() % 8));
			if (rng() % 4 == 0 && len > 0)
				len = rng() % len;
		} else {
			/* Mostly short inputs: that is where parsers branch. */
			len =
			    (rng() % 8 == 0) ? rng() % MAX_INPUT : rng() % 300;
			for (size_t k = 0; k < len; k++)
				input[k] = (uint8_t)rng();
		}
		LLVMFuzzerTestOneInput(input, len);
	}
	printf("fuzz: %lu random inputs and %zu seed files ran cleanly\n", runs,
	       nseeds);
	return 0;
}
