/* search_bench: import and search figures against a real cartad on this
 * machine.
 *
 *   search_bench [--cards N] [--seed S] [--reps R] [--keep DIR]
 *
 * Makes a data directory (under $TMPDIR or /tmp, or DIR with --keep),
 * runs `cartad init` and `cartad`, generates N demo cards (default
 * 100000) with carta-demo-gen and imports them with `carta import json`,
 * timing it. Then, through libcarta as the admin, times R (default 50)
 * queries of each kind with inputs drawn from the generated cards (text
 * search by name prefix, full name, phone in three formats and email
 * fragment; filters; a count-only of each; a sort paged with cursors) and
 * prints median, p95 and max latency and result counts. Last, it opens
 * carta.db read-only beside the server and times a range scan on the
 * folded name words against FTS5 prefix queries for the same prefixes.
 * Prints figures; asserts nothing about time. cartad, carta and
 * carta-demo-gen are taken from the directory this program is in. The
 * server is stopped at the end and the directory removed, unless --keep. */
/* nftw and FTW_DEPTH. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "carta.h"
#include "query.h"

#define CURSOR_MAX   4096
#define FIELD_MAX    256
#define SORT_PAGES   20
#define WORDS_MAX    8
#define START_WAIT_S 30

typedef struct {
	long cards;
	uint64_t seed;
	int reps;
	char keep[PATH_MAX]; /* "" unless --keep */
} options;

/* What one demo card gives the queries. */
typedef struct {
	char given[FIELD_MAX], family[FIELD_MAX];
	char phone[FIELD_MAX], phone_orig[FIELD_MAX];
	char email[FIELD_MAX], city[FIELD_MAX];
} sample;

typedef struct {
	char bin[PATH_MAX];  /* where cartad, carta and carta-demo-gen are */
	char dir[PATH_MAX];  /* the bench's directory */
	char data[PATH_MAX]; /* dir/data, the server's */
	char cards[PATH_MAX + 16];
	char addr[CARTA_SERVER_MAX];
	pid_t server;
	bool reuse; /* a --keep directory with cards already imported */
	sample *samples;
	size_t nsamples;
} bench;

/* Latencies of one kind of request, and the results each answered. */
typedef struct {
	uint64_t *us;
	uint64_t *results;
	size_t n, cap;
	size_t errors;
} series;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- series ---- */

static int series_add(series *s, uint64_t us, uint64_t results)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *a = realloc(s->us, cap * sizeof(*a));
		if (a == NULL)
			return -1;
		s->us = a;
		uint64_t *b = realloc(s->results, cap * sizeof(*b));
		if (b == NULL)
			return -1;
		s->results = b;
		s->cap = cap;
	}
	s->us[s->n] = us;
	s->results[s->n++] = results;
	return 0;
}

static void series_free(series *s)
{
	free(s->us);
	free(s->results);
	memset(s, 0, sizeof(*s));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints median, p95 and max in ms and the results (median, min..max).
 * Sorts the series. */
static void print_series(const char *name, series *s, const char *what)
{
	if (s->n == 0) {
		printf("  %-36s no samples (%zu errors)\n", name, s->errors);
		return;
	}
	qsort(s->us, s->n, sizeof(*s->us), cmp_u64);
	qsort(s->results, s->n, sizeof(*s->results), cmp_u64);
	size_t p95 = s->n * 95 / 100;
	if (p95 >= s->n)
		p95 = s->n - 1;
	printf("  %-36s %4zu x  p50 %9.3f  p95 %9.3f  max %9.3f ms  %s "
	       "%llu (%llu..%llu)%s\n",
	       name, s->n, (double)s->us[s->n / 2] / 1000.0,
	       (double)s->us[p95] / 1000.0, (double)s->us[s->n - 1] / 1000.0,
	       what, (unsigned long long)s->results[s->n / 2],
	       (unsigned long long)s->results[0],
	       (unsigned long long)s->results[s->n - 1],
	       s->errors > 0 ? "  ERRORS" : "");
	if (s->errors > 0)
		printf("  %-36s %zu requests failed\n", "", s->errors);
}

/* ---- processes ---- */

/* Starts argv[0] with stdout to out and stderr to err (NULL: inherited).
 * A server child dies with us. Returns the pid or -1. */
static pid_t spawn(char *const argv[], const char *out, const char *err,
		   int server)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (server) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
	}
	const char *paths[2] = {out, err};
	for (int i = 0; i < 2; i++) {
		if (paths[i] == NULL)
			continue;
		int fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, i + 1) < 0)
			_exit(127);
		close(fd);
	}
	execv(argv[0], argv);
	_exit(127);
}

/* Runs argv to its end. Returns its exit status, or -1. */
static int run(char *const argv[], const char *out, const char *err)
{
	int st = 0;
	pid_t pid = spawn(argv, out, err, 0);

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int read_addr(bench *b)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/cartad.addr", b->data);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	int ok = fgets(b->addr, sizeof(b->addr), f) != NULL;
	fclose(f);
	b->addr[strcspn(b->addr, "\n")] = '\0';
	return ok && strchr(b->addr, ':') != NULL ? 0 : -1;
}

static int start_server(bench *b)
{
	char exe[PATH_MAX + 16], log[PATH_MAX + 16];

	snprintf(exe, sizeof(exe), "%s/cartad", b->bin);
	snprintf(log, sizeof(log), "%s/cartad.log", b->dir);
	if (!b->reuse) {
		char *init[] = {exe,	    "init",	   "--data", b->data,
				"--listen", "127.0.0.1:0", NULL};
		if (run(init, "/dev/null", NULL) != 0) {
			fprintf(stderr, "search_bench: cartad init failed\n");
			return -1;
		}
	}
	/* An address left by an earlier run is not this server's. */
	char addr[PATH_MAX + 16];
	snprintf(addr, sizeof(addr), "%s/cartad.addr", b->data);
	unlink(addr);
	char *serve[] = {exe, "--data", b->data, NULL};
	b->server = spawn(serve, "/dev/null", log, 1);
	if (b->server < 0)
		return -1;
	uint64_t deadline = now_us() + START_WAIT_S * 1000000ULL;
	while (now_us() < deadline) {
		if (read_addr(b) == 0)
			return 0;
		if (waitpid(b->server, NULL, WNOHANG) == b->server) {
			fprintf(stderr, "search_bench: cartad exited; see %s\n",
				log);
			b->server = 0;
			return -1;
		}
		usleep(10000);
	}
	fprintf(stderr, "search_bench: cartad did not start listening\n");
	return -1;
}

static void stop_server(bench *b)
{
	if (b->server <= 0)
		return;
	kill(b->server, SIGTERM);
	waitpid(b->server, NULL, 0);
	b->server = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- the demo cards ---- */

static void copy_str(json_t *o, const char *path, char *out)
{
	char buf[64];
	json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	out[0] = '\0';
	for (char *save = NULL, *k = strtok_r(buf, ".", &save);
	     k != NULL && v != NULL; k = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, (size_t)atoi(k));
		else
			v = json_object_get(v, k);
	}
	if (json_is_string(v))
		snprintf(out, FIELD_MAX, "%s", json_string_value(v));
}

static void sample_from(json_t *card, sample *s)
{
	copy_str(card, "identity.given_name", s->given);
	copy_str(card, "identity.family_name", s->family);
	copy_str(card, "contact.phones.0.number", s->phone);
	copy_str(card, "contact.phones.0.original", s->phone_orig);
	copy_str(card, "contact.emails.0.address", s->email);
	copy_str(card, "contact.addresses.0.city", s->city);
}

/* Reads n samples from random lines of the generated file. */
static int load_samples(bench *b, const options *o, size_t n)
{
	long *slot = malloc((size_t)o->cards * sizeof(*slot));
	uint64_t r = o->seed * 0x9e3779b97f4a7c15ULL + 1;
	char *line = NULL;
	size_t cap = 0;
	int rv = -1;

	if ((size_t)o->cards < n)
		n = (size_t)o->cards;
	b->samples = calloc(n, sizeof(*b->samples));
	FILE *f = fopen(b->cards, "r");
	if (slot == NULL || b->samples == NULL || f == NULL)
		goto out;
	for (long i = 0; i < o->cards; i++)
		slot[i] = -1;
	for (size_t i = 0; i < n; i++) {
		long at;
		do
			at = (long)(next_rand(&r) % (uint64_t)o->cards);
		while (slot[at] >= 0);
		slot[at] = (long)i;
	}
	for (long i = 0; i < o->cards && getline(&line, &cap, f) > 0; i++) {
		if (slot[i] < 0)
			continue;
		json_error_t err;
		json_t *card = json_loads(line, 0, &err);
		if (card == NULL) {
			fprintf(stderr, "search_bench: line %ld: %s\n", i + 1,
				err.text);
			goto out;
		}
		sample_from(card, &b->samples[slot[i]]);
		json_decref(card);
	}
	b->nsamples = n;
	rv = 0;
out:
	if (f != NULL)
		fclose(f);
	free(line);
	free(slot);
	return rv;
}

/* The first word of s as the name index holds it; "" when none. */
static void first_word(const char *s, char *out, size_t cap)
{
	char *words[WORDS_MAX];
	int n = query_words(s, words, WORDS_MAX);

	out[0] = '\0';
	if (n <= 0)
		return;
	snprintf(out, cap, "%s", words[0]);
	for (int i = 0; i < n; i++)
		free(words[i]);
}

/* The first chars characters of a UTF-8 string. */
static void utf8_prefix(char *s, int chars)
{
	size_t i = 0;

	for (int c = 0; s[i] != '\0' && c <= chars; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && c++ == chars)
			break;
	s[i] = '\0';
}

/* A value in single quotes for the filter language. */
static void quoted(const char *v, char *out, size_t cap)
{
	size_t o = 0;

	if (cap < 3)
		return;
	out[o++] = '\'';
	for (; *v != '\0' && o + 3 < cap; v++) {
		if (*v == '\'')
			out[o++] = '\'';
		out[o++] = *v;
	}
	out[o++] = '\'';
	out[o] = '\0';
}

/* ---- the import ---- */

static int import_cards(bench *b, const options *o)
{
	char gen[PATH_MAX + 32], carta[PATH_MAX + 16], count[32], seed[32];
	char profile[PATH_MAX + 32], out[PATH_MAX + 32], log[PATH_MAX + 32];

	snprintf(gen, sizeof(gen), "%s/carta-demo-gen", b->bin);
	snprintf(count, sizeof(count), "%ld", o->cards);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
	char *gen_argv[] = {gen,  "--count", count,    "--seed",
			    seed, "--out",   b->cards, NULL};
	uint64_t t0 = now_us();
	if (run(gen_argv, "/dev/null", NULL) != 0) {
		fprintf(stderr, "search_bench: carta-demo-gen failed\n");
		return -1;
	}
	struct stat st;
	stat(b->cards, &st);
	printf("generated %ld cards (%.1f MB of JSON lines) in %.1f s\n",
	       o->cards, (double)st.st_size / 1e6,
	       (double)(now_us() - t0) / 1e6);
	fflush(stdout);

	snprintf(carta, sizeof(carta), "%s/carta", b->bin);
	snprintf(profile, sizeof(profile), "%s/admin.profile", b->data);
	snprintf(out, sizeof(out), "%s/import.json", b->dir);
	snprintf(log, sizeof(log), "%s/import.log", b->dir);
	char *imp_argv[] = {carta,    "--profile", profile, "--server",
			    b->addr,  "import",	   "json",  b->cards,
			    "--json", NULL};
	t0 = now_us();
	int rc = run(imp_argv, out, log);
	double s = (double)(now_us() - t0) / 1e6;
	if (rc != 0) {
		fprintf(stderr,
			"search_bench: carta import exited %d; see %s\n", rc,
			log);
		return -1;
	}

	/* The summary is the last JSON object carta prints. */
	json_error_t err;
	FILE *f = fopen(out, "r");
	char *line = NULL, *last = NULL;
	size_t cap = 0;
	while (f != NULL && getline(&line, &cap, f) > 0)
		if (strstr(line, "\"summary\"") != NULL) {
			free(last);
			last = strdup(line);
		}
	if (f != NULL)
		fclose(f);
	free(line);
	json_t *sum = last != NULL ? json_loads(last, 0, &err) : NULL;
	free(last);
	if (sum == NULL) {
		fprintf(stderr, "search_bench: no import summary in %s\n", out);
		return -1;
	}
	json_int_t records =
	    json_integer_value(json_object_get(sum, "records"));
	json_int_t created =
	    json_integer_value(json_object_get(sum, "created"));
	json_int_t rejected =
	    json_integer_value(json_object_get(sum, "rejected"));
	json_int_t items =
	    json_integer_value(json_object_get(sum, "items_added"));
	json_decref(sum);

	char db[PATH_MAX + 16];
	snprintf(db, sizeof(db), "%s/carta.db", b->data);
	double mb = stat(db, &st) == 0 ? (double)st.st_size / 1e6 : 0;
	printf("import: %lld records in %.1f s: %lld cards created, %lld "
	       "rejected, %lld purchases/interactions/notes\n",
	       (long long)records, s, (long long)created, (long long)rejected,
	       (long long)items);
	printf("  %-36s %9.0f cards/s  %9.0f records/s  %9.0f items/s\n",
	       "carta import json (batches of 200)",
	       s > 0 ? (double)created / s : 0, s > 0 ? (double)records / s : 0,
	       s > 0 ? (double)items / s : 0);
	printf("  %-36s %.1f MB (without its WAL)\n", "carta.db", mb);

	/* The mark that lets a later run with --keep skip the import. */
	char done[PATH_MAX + 16];
	snprintf(done, sizeof(done), "%s/imported", b->dir);
	FILE *m = fopen(done, "w");
	if (m != NULL) {
		fprintf(m, "%ld %llu\n", o->cards, (unsigned long long)o->seed);
		fclose(m);
	}
	fflush(stdout);
	return 0;
}

/* ---- queries through libcarta ---- */

typedef struct {
	size_t cards;
	uint64_t count;
	char cursor[CURSOR_MAX];
} page_info;

static int on_page(void *ud, const Carta__V1__Response *resp)
{
	page_info *pi = ud;

	if (resp->body_case != CARTA__V1__RESPONSE__BODY_CARDS ||
	    resp->cards == NULL)
		return CARTA_EPROTO;
	pi->cards += resp->cards->n_cards;
	pi->count = resp->cards->count;
	snprintf(pi->cursor, sizeof(pi->cursor), "%s",
		 resp->cards->next_cursor);
	return 0;
}

/* One query, timed into s. Returns 0, or -1 when the connection is
 * gone. */
static int timed_query(carta_client *c, const char *text, const char *where,
		       const char *sort, const char *cursor, bool count,
		       series *s, page_info *pi)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__QueryRequest q = CARTA__V1__QUERY_REQUEST__INIT;

	q.text = (char *)text;
	q.where = (char *)where;
	q.sort = (char *)sort;
	q.cursor = (char *)cursor;
	q.count_only = count;
	req.body_case = CARTA__V1__REQUEST__BODY_QUERY;
	req.query = &q;
	memset(pi, 0, sizeof(*pi));

	uint64_t t0 = now_us();
	int rv = carta_call(c, &req, on_page, pi);
	uint64_t us = now_us() - t0;
	if (rv != 0) {
		if (s->errors++ == 0)
			fprintf(stderr,
				"search_bench: text '%s' where '%s': %s\n",
				text, where, carta_client_errmsg(c));
		return rv == CARTA_ESTATUS ? 0 : -1;
	}
	return series_add(s, us, count ? pi->count : pi->cards);
}

enum {
	K_PREFIX,
	K_FULL_NAME,
	K_PHONE_E164,
	K_PHONE_NATIONAL,
	K_PHONE_PUNCT,
	K_EMAIL_TEXT,
	K_FAMILY_EQ,
	K_EMAIL_CONTAINS,
	K_CITY,
	K_EUR,
	K_LAPSED,
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    "text: name prefix 'garc'",
    "text: full name 'jose garcia'",
    "text: phone +34612345678",
    "text: phone 612345678",
    "text: phone (+34) 612.345.678",
    "text: email fragment 'jose.garcia@'",
    "where: family_name = 'García'",
    "where: email contains 'garcia.6'",
    "where: city = Madrid",
    "where: total_spent.EUR > 500",
    "where: last_purchase < today - 180d and consent.email = granted",
};

/* The phone's digits as "(+CC) ddd.ddd.ddd". */
static void punct_phone(const char *e164, char *out, size_t cap)
{
	char d[64];
	size_t n = 0, o = 0;

	for (const char *p = e164; *p != '\0' && n + 1 < sizeof(d); p++)
		if (*p >= '0' && *p <= '9')
			d[n++] = *p;
	d[n] = '\0';
	if (n < 4) {
		snprintf(out, cap, "%s", e164);
		return;
	}
	o = (size_t)snprintf(out, cap, "(+%.2s) ", d);
	for (size_t i = 2; i < n && o + 2 < cap; i++) {
		if (i > 2 && (i - 2) % 3 == 0)
			out[o++] = '.';
		out[o++] = d[i];
	}
	out[o] = '\0';
}

/* The input of rep i of kind k from sample s; false when s lacks what k
 * needs. Rep 0 is the issue's own example where there is one. */
static bool make_input(int k, int i, const sample *s, char *text, char *where,
		       size_t cap)
{
	static const int eur[] = {500, 100, 250, 1000, 2000};
	static const int days[] = {180, 90, 365, 30, 730};
	char a[FIELD_MAX], b[FIELD_MAX], q[2 * FIELD_MAX + 3];

	text[0] = where[0] = '\0';
	switch (k) {
	case K_PREFIX:
		first_word(s->family, a, sizeof(a));
		utf8_prefix(a, 4);
		snprintf(text, cap, "%s", i == 0 ? "garc" : a);
		return a[0] != '\0';
	case K_FULL_NAME:
		first_word(s->given, a, sizeof(a));
		first_word(s->family, b, sizeof(b));
		if (i == 0)
			snprintf(text, cap, "jose garcia");
		else
			snprintf(text, cap, "%s %s", a, b);
		return a[0] != '\0' && b[0] != '\0';
	case K_PHONE_E164:
		snprintf(text, cap, "%s", s->phone);
		return s->phone[0] != '\0';
	case K_PHONE_NATIONAL:
		snprintf(text, cap, "%s",
			 s->phone_orig[0] ? s->phone_orig : s->phone);
		return s->phone[0] != '\0';
	case K_PHONE_PUNCT:
		punct_phone(s->phone, text, cap);
		return s->phone[0] != '\0';
	case K_EMAIL_TEXT:
		snprintf(text, cap, "%.*s@", (int)strcspn(s->email, "@"),
			 s->email);
		return s->email[0] != '\0';
	case K_FAMILY_EQ:
		quoted(i == 0 ? "García" : s->family, q, sizeof(q));
		snprintf(where, cap, "family_name = %s", q);
		return s->family[0] != '\0';
	case K_EMAIL_CONTAINS: {
		/* The part around the local part's end: "garrido.68@h". */
		size_t at = strcspn(s->email, "@");
		size_t from = at > 8 ? at - 8 : 0;
		snprintf(a, sizeof(a), "%.*s", (int)(at + 2 - from),
			 s->email + from);
		quoted(a, q, sizeof(q));
		snprintf(where, cap, "email contains %s", q);
		return s->email[0] != '\0';
	}
	case K_CITY:
		quoted(i == 0 ? "Madrid" : s->city, q, sizeof(q));
		snprintf(where, cap, "city = %s", q);
		return s->city[0] != '\0';
	case K_EUR:
		snprintf(where, cap, "total_spent.EUR > %d", eur[i % 5]);
		return true;
	case K_LAPSED:
		snprintf(where, cap,
			 "last_purchase < today - %dd and consent.email = "
			 "granted",
			 days[i % 5]);
		return true;
	default:
		return false;
	}
}

static int bench_queries(bench *b, const options *o, carta_client *c)
{
	char text[1024], where[1024];
	page_info pi;
	int rv = 0;

	printf("queries: %d of each kind through libcarta as admin; results "
	       "= cards on the page (at most 50, fewer when a page reaches "
	       "56 KB), or the count\n",
	       o->reps);
	for (int k = 0; k < K_COUNT && rv == 0; k++) {
		series page = {0}, count = {0};
		size_t si = 0;
		for (int i = 0; i < o->reps && rv == 0; i++) {
			/* Samples lacking the field are skipped. */
			size_t tries = 0;
			while (!make_input(k, i, &b->samples[si], text, where,
					   sizeof(text)) &&
			       tries++ < b->nsamples)
				si = (si + 1) % b->nsamples;
			si = (si + 1) % b->nsamples;
			if (timed_query(c, text, where, "", "", false, &page,
					&pi) != 0 ||
			    timed_query(c, text, where, "", "", true, &count,
					&pi) != 0)
				rv = -1;
		}
		printf("  %s\n", kind_names[k]);
		print_series("page", &page, "cards");
		print_series("count only", &count, "count");
		fflush(stdout);
		series_free(&page);
		series_free(&count);
	}
	return rv;
}

/* Walks SORT_PAGES pages with cursors, enough walks for reps pages. */
static int bench_sort(const options *o, carta_client *c)
{
	static const char *const sorts[] = {"family_name", "-family_name",
					    "family_name,given_name"};
	series pages = {0}, first = {0}, last = {0}, walks = {0};
	page_info pi;
	int nwalks = (o->reps + SORT_PAGES - 1) / SORT_PAGES, rv = 0;
	char cursor[CURSOR_MAX];

	printf("sort: %d walks of %d pages of 50 with cursors (%s, %s, %s)\n",
	       nwalks, SORT_PAGES, sorts[0], sorts[1], sorts[2]);
	for (int w = 0; w < nwalks && rv == 0; w++) {
		uint64_t t0 = now_us();
		size_t cards = 0;
		cursor[0] = '\0';
		for (int p = 0; p < SORT_PAGES; p++) {
			series *s = p == 0		  ? &first
				    : p == SORT_PAGES - 1 ? &last
							  : &pages;
			if (timed_query(c, "", "", sorts[w % 3], cursor, false,
					s, &pi) != 0) {
				rv = -1;
				break;
			}
			cards += pi.cards;
			snprintf(cursor, sizeof(cursor), "%s", pi.cursor);
			if (cursor[0] == '\0')
				break;
		}
		series_add(&walks, now_us() - t0, cards);
	}
	/* Every page in one series, the first and last apart too. */
	series all = {0};
	series *parts[] = {&first, &pages, &last};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < parts[i]->n; j++)
			series_add(&all, parts[i]->us[j], parts[i]->results[j]);
	all.errors = first.errors + pages.errors + last.errors;
	print_series("every page", &all, "cards");
	print_series("page 1", &first, "cards");
	print_series("page 20 (after 19 cursors)", &last, "cards");
	print_series("whole walk", &walks, "cards");
	fflush(stdout);
	series *every[] = {&all, &first, &pages, &last, &walks};
	for (size_t i = 0; i < 5; i++)
		series_free(every[i]);
	return rv;
}

/* ---- the same prefixes straight on SQLite ---- */

/* Steps st to its end. Returns the rows, or -1 on error. */
static long step_all(sqlite3_stmt *st)
{
	long rows = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rows++;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? rows : -1;
}

enum { S_RANGE, S_FTS_NAMES, S_FTS_ALL, S_SERVER_ONE, S_COUNT };

static int bench_sqlite(const bench *b, const options *o)
{
	static const char *const sql[S_COUNT] = {
	    "SELECT card_id FROM name_keys WHERE key >= ?1 AND key < ?2",
	    "SELECT rowid FROM card_fts WHERE card_fts MATCH ?3",
	    "SELECT rowid FROM card_fts WHERE card_fts MATCH ?4",
	    /* What the server runs for one word (query.c text_search). */
	    "SELECT c2.rowid FROM name_keys nk JOIN cards c2 ON c2.id = "
	    "nk.card_id WHERE nk.key >= ?1 AND nk.key < ?2 UNION SELECT rowid "
	    "FROM card_fts WHERE card_fts MATCH ?5",
	};
	static const char *const names[S_COUNT] = {
	    "range scan on name_keys",
	    "FTS5 'names : \"w\"*'",
	    "FTS5 '\"w\"*' (every column)",
	    "server's one-word plan",
	};
	char db[PATH_MAX + 16];
	sqlite3 *conn = NULL;
	sqlite3_stmt *st[S_COUNT] = {NULL};
	series s[S_COUNT];
	int rv = -1;

	memset(s, 0, sizeof(s));
	snprintf(db, sizeof(db), "%s/carta.db", b->data);
	if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "search_bench: %s: %s\n", db,
			sqlite3_errmsg(conn));
		goto out;
	}
	for (int i = 0; i < S_COUNT; i++)
		if (sqlite3_prepare_v2(conn, sql[i], -1, &st[i], NULL) !=
		    SQLITE_OK) {
			fprintf(stderr, "search_bench: %s\n",
				sqlite3_errmsg(conn));
			goto out;
		}

	printf("SQLite %s, carta.db read-only beside the server: %d name "
	       "prefixes (4 letters, folded), all rows of each\n",
	       sqlite3_libversion(), o->reps);
	size_t si = 0;
	char text[1024], where[1024], hi[sizeof(text)], m[3][sizeof(text) + 32];
	for (int i = -1; i < o->reps; i++) {
		/* Rep -1 warms the cache and is not counted. */
		size_t tries = 0;
		while (!make_input(K_PREFIX, i < 0 ? 0 : i, &b->samples[si],
				   text, where, sizeof(text)) &&
		       tries++ < b->nsamples)
			si = (si + 1) % b->nsamples;
		if (i >= 0)
			si = (si + 1) % b->nsamples;
		if (text[0] == '\0')
			continue;
		snprintf(hi, sizeof(hi), "%s", text);
		hi[strlen(hi) - 1]++;
		snprintf(m[0], sizeof(m[0]), "names : \"%s\"*", text);
		snprintf(m[1], sizeof(m[1]), "\"%s\"*", text);
		snprintf(m[2], sizeof(m[2]), "contact : \"%s\"*", text);
		for (int j = 0; j < S_COUNT; j++) {
			/* Unused parameters are ignored by SQLite. */
			sqlite3_bind_text(st[j], 1, text, -1, SQLITE_STATIC);
			sqlite3_bind_text(st[j], 2, hi, -1, SQLITE_STATIC);
			sqlite3_bind_text(st[j], 3, m[0], -1, SQLITE_STATIC);
			sqlite3_bind_text(st[j], 4, m[1], -1, SQLITE_STATIC);
			sqlite3_bind_text(st[j], 5, m[2], -1, SQLITE_STATIC);
		}
		for (int j = 0; j < S_COUNT; j++) {
			/* Alternate the order so neither warms the other. */
			int x = (i & 1) ? S_COUNT - 1 - j : j;
			uint64_t t0 = now_us();
			long rows = step_all(st[x]);
			uint64_t us = now_us() - t0;
			if (rows < 0) {
				fprintf(stderr, "search_bench: %s\n",
					sqlite3_errmsg(conn));
				goto out;
			}
			if (i >= 0)
				series_add(&s[x], us, (uint64_t)rows);
		}
	}
	uint64_t med[S_COUNT];
	for (int j = 0; j < S_COUNT; j++) {
		print_series(names[j], &s[j], "rows");
		med[j] = s[j].us[s[j].n / 2];
	}
	if (med[S_RANGE] > 0)
		printf(
		    "  %-36s FTS5 on names %.1fx, on every column %.1fx "
		    "the range scan (medians)\n",
		    "ratio:", (double)med[S_FTS_NAMES] / (double)med[S_RANGE],
		    (double)med[S_FTS_ALL] / (double)med[S_RANGE]);
	printf("  %-36s one word: name_keys range UNION FTS5 on contact "
	       "only;\n",
	       "the server (server/query.c):");
	printf("  %-36s several words, emails: FTS5 on every column; phones: "
	       "phone_keys range\n",
	       "");
	rv = 0;
out:
	for (int j = 0; j < S_COUNT; j++) {
		sqlite3_finalize(st[j]);
		series_free(&s[j]);
	}
	sqlite3_close(conn);
	return rv;
}

/* ---- options and main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: search_bench [--cards N] [--seed S] "
			"[--reps R] [--keep DIR]\n");
}

static int parse_args(int argc, char **argv, options *o)
{
	static const struct option longs[] = {
	    {"cards", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 's'},
	    {"reps", required_argument, NULL, 'r'},
	    {"keep", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end = NULL;
	int c;

	*o = (options){100000, 1, 50, ""};
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'n':
			o->cards = strtol(optarg, &end, 10);
			if (*end != '\0' || o->cards < 10 || o->cards > 1000000)
				return -1;
			break;
		case 's':
			o->seed = strtoull(optarg, &end, 10);
			if (*end != '\0' || errno != 0)
				return -1;
			break;
		case 'r': {
			long r = strtol(optarg, &end, 10);
			if (*end != '\0' || r < 1 || r > 100000)
				return -1;
			o->reps = (int)r;
			break;
		}
		case 'k':
			snprintf(o->keep, sizeof(o->keep), "%s", optarg);
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The directory of this program, where the other binaries are. */
static int bin_dir(char *out, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", out, cap - 1);

	if (n <= 0)
		return -1;
	out[n] = '\0';
	char *slash = strrchr(out, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

static int make_dir(bench *b, const options *o)
{
	const char *tmp = getenv("TMPDIR");

	if (o->keep[0] != '\0') {
		if (mkdir(o->keep, 0700) != 0 && errno != EEXIST) {
			perror("search_bench: --keep");
			return -1;
		}
		snprintf(b->dir, sizeof(b->dir), "%s", o->keep);
	} else {
		snprintf(b->dir, sizeof(b->dir), "%s/search_bench-XXXXXX",
			 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
		if (mkdtemp(b->dir) == NULL) {
			perror("search_bench: mkdtemp");
			b->dir[0] = '\0';
			return -1;
		}
	}
	snprintf(b->data, sizeof(b->data), "%.*s/data", PATH_MAX - 6, b->dir);
	snprintf(b->cards, sizeof(b->cards), "%s/cards.jsonl", b->dir);

	/* What an earlier run with the same --keep left is reused. */
	char done[PATH_MAX + 16];
	snprintf(done, sizeof(done), "%s/imported", b->dir);
	b->reuse = o->keep[0] != '\0' && access(done, R_OK) == 0 &&
		   access(b->cards, R_OK) == 0;
	return 0;
}

static carta_client *connect_admin(const bench *b)
{
	carta_options opts;
	carta_client *c = NULL;
	char profile[PATH_MAX + 32], err[256];
	carta_profile_args args = {.profile = profile, .server = b->addr};

	snprintf(profile, sizeof(profile), "%s/admin.profile", b->data);
	if (carta_options_load(&args, &opts, NULL, 0, NULL, 0, err,
			       sizeof(err)) != 0) {
		fprintf(stderr, "search_bench: %s\n", err);
		return NULL;
	}
	/* A count over every card can take a while on a slow machine. */
	opts.request_timeout_ms = 300000;
	int rv = carta_connect(&opts, &c);
	carta_options_wipe(&opts);
	if (rv != 0) {
		fprintf(stderr, "search_bench: connect: %s\n",
			carta_client_errmsg(c));
		carta_close(c);
		return NULL;
	}
	return c;
}

int main(int argc, char **argv)
{
	options o;
	bench b;
	carta_client *c = NULL;
	int rv = 1;

	if (parse_args(argc, argv, &o) != 0) {
		usage();
		return 2;
	}
	memset(&b, 0, sizeof(b));
	if (sodium_init() < 0) {
		fprintf(stderr, "search_bench: sodium_init failed\n");
		return 1;
	}
	if (bin_dir(b.bin, sizeof(b.bin)) != 0 || make_dir(&b, &o) != 0)
		return 1;
	printf("search_bench: %ld cards, seed %llu, in %s\n", o.cards,
	       (unsigned long long)o.seed, b.dir);
	fflush(stdout);

	if (b.reuse)
		printf("reusing the cards imported there by an earlier run "
		       "(--cards and --seed must be the same)\n");
	if (start_server(&b) != 0 || (!b.reuse && import_cards(&b, &o) != 0) ||
	    load_samples(&b, &o, (size_t)o.reps * 4) != 0)
		goto out;
	c = connect_admin(&b);
	if (c == NULL || bench_queries(&b, &o, c) != 0 ||
	    bench_sort(&o, c) != 0)
		goto out;
	carta_close(c);
	c = NULL;
	if (bench_sqlite(&b, &o) != 0)
		goto out;
	rv = 0;
out:
	carta_close(c);
	stop_server(&b);
	free(b.samples);
	if (o.keep[0] != '\0')
		printf(
		    "kept %s (cartad stopped; start it again with: %s/cartad "
		    "--data %s)\n",
		    b.dir, b.bin, b.data);
	else if (b.dir[0] != '\0')
		nftw(b.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rv;
}
