/* carta-demo-gen (tools/demo): the program is run as built, from the
 * directory this test runs from (both land in bin/), and its output is
 * read back as `carta import json` would read it. Asserts: the same count
 * and seed give the same bytes, other seeds other bytes; N lines for
 * --count N; every line is a card that round-trips through the card JSON
 * and passes the server's own checks (server/card.c) and common/validate.h;
 * the planted near-duplicates are in the truth file and differ only as it
 * says; several "José García" in 500 cards. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <utf8proc.h>

#include "card.h"
#include "card_json.h"
#include "validate.h"

static char gen_path[PATH_MAX];
static char dir[] = "/tmp/demo_gen_test.XXXXXX";

/* Runs the generator with args (a printf format); returns its exit
 * status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char args[512], cmd[PATH_MAX + 600];
	va_list ap;
	int rv;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", gen_path, args);
	rv = system(cmd);
	assert_true(rv != -1 && WIFEXITED(rv));
	return WEXITSTATUS(rv);
}

/* The whole file at dir/name, NUL-terminated. */
static char *slurp(const char *name, size_t *len)
{
	char path[PATH_MAX];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Generates count cards with seed into dir/cards-<tag> and
 * dir/truth-<tag>. */
static void generate(unsigned count, unsigned long long seed, const char *tag)
{
	assert_int_equal(run("--count %u --seed %llu --out '%s/cards-%s' "
			     "--truth '%s/truth-%s'",
			     count, seed, dir, tag, dir, tag),
			 0);
}

static int setup(void **state)
{
	ssize_t n = readlink("/proc/self/exe", gen_path, sizeof gen_path - 1);
	char *slash;

	(void)state;
	if (n <= 0)
		return -1;
	gen_path[n] = '\0';
	slash = strrchr(gen_path, '/');
	if (slash == NULL)
		return -1;
	snprintf(slash + 1, sizeof gen_path - (size_t)(slash + 1 - gen_path),
		 "carta-demo-gen");
	if (access(gen_path, X_OK) != 0) {
		fprintf(stderr, "%s is not built (target carta_demo_gen)\n",
			gen_path);
		return -1;
	}
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- Determinism and counts -------------------------------------------- */

static void test_same_seed_same_bytes(void **state)
{
	size_t la, lb, ta, tb;

	(void)state;
	generate(300, 7, "a");
	generate(300, 7, "b");
	char *a = slurp("cards-a", &la), *b = slurp("cards-b", &lb);
	char *x = slurp("truth-a", &ta), *y = slurp("truth-b", &tb);

	assert_true(la > 300 * 200);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(ta, tb);
	assert_memory_equal(x, y, ta);

	/* Standard output gets the same bytes as --out. */
	assert_int_equal(run("--count 300 --seed 7 > '%s/cards-c'", dir), 0);
	char *c = slurp("cards-c", &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, c, la);
	free(a);
	free(b);
	free(c);
	free(x);
	free(y);
}

static void test_other_seed_other_cards(void **state)
{
	(void)state;
	generate(50, 7, "s7");
	generate(50, 8, "s8");
	char *a = slurp("cards-s7", NULL), *b = slurp("cards-s8", NULL);
	char *nl_a = strchr(a, '\n'), *nl_b = strchr(b, '\n');

	assert_string_not_equal(a, b);
	/* Not one card the same: the first lines already differ. */
	*nl_a = *nl_b = '\0';
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_count_lines_and_pairs(void **state)
{
	static const struct {
		unsigned count, pairs;
	} cases[] = {{0, 0},  {1, 0},	{9, 0},	  {10, 1},  {37, 1},
		     {99, 1}, {100, 3}, {250, 3}, {420, 4}, {1000, 10}};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char tag[16];
		snprintf(tag, sizeof tag, "n%u", cases[i].count);
		generate(cases[i].count, 99, tag);

		char name[32];
		snprintf(name, sizeof name, "cards-%s", tag);
		char *cards = slurp(name, NULL);
		snprintf(name, sizeof name, "truth-%s", tag);
		char *truth = slurp(name, NULL);
		assert_int_equal(count_lines(cards), cases[i].count);
		assert_int_equal(count_lines(truth), cases[i].pairs);
		free(cards);
		free(truth);
	}
}

static void test_usage_errors(void **state)
{
	(void)state;
	assert_int_equal(run("--count 5"), 2);
	assert_int_equal(run("--seed 5"), 2);
	assert_int_equal(run("--count x --seed 5"), 2);
	assert_int_equal(run("--count -1 --seed 5"), 2);
	assert_int_equal(run("--count 1000001 --seed 5"), 2);
	assert_int_equal(run("--count 5 --seed 18446744073709551616"), 2);
	assert_int_equal(run("--count 5 --seed 5 --colour blue"), 2);
	assert_int_equal(run("--count 5 --seed"), 2);
	assert_int_equal(run("--help > /dev/null"), 0);
	assert_int_equal(run("--count 5 --seed 1 --out /nonexistent/dir/x"), 1);
	/* The largest seed is fine. */
	assert_int_equal(
	    run("--count 2 --seed 18446744073709551615 > /dev/null"), 0);
}

/* ---- Every card is valid ----------------------------------------------- */

/* The cards of a file, parsed; n set to how many. */
static Carta__V1__Card **parse_all(const char *name, size_t *n)
{
	char *text = slurp(name, NULL), *line = text, err[256];
	size_t cap = count_lines(text) + 1, k = 0;
	Carta__V1__Card **cards = calloc(cap, sizeof *cards);

	assert_non_null(cards);
	while (*line) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		if (card_json_parse(line, (size_t)(nl - line), &cards[k], err,
				    sizeof err) != 0)
			fail_msg("line %zu: %s", k + 1, err);
		k++;
		line = nl + 1;
	}
	free(text);
	*n = k;
	return cards;
}

static void free_all(Carta__V1__Card **cards, size_t n)
{
	for (size_t i = 0; i < n; i++)
		carta__v1__card__free_unpacked(cards[i], NULL);
	free(cards);
}

static const char *const branches[] = {"madrid", "barcelona", "sevilla",
				       "valencia", "bilbao"};
static const char *const statuses[] = {"active", "prospect", "inactive"};
static const char *const languages[] = {
    "es", "ca", "eu", "gl",    "en",	"fr",	 "de",	 "pt",
    "no", "el", "ja", "es-ES", "es-MX", "en-GB", "en-US"};

static int one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}
#define ONE_OF(s, set) one_of(s, set, sizeof(set) / sizeof((set)[0]))

/* What validate.h and the card format say of one card, field by field;
 * values must already be in their stored form. */
static void check_values(const Carta__V1__Card *c, size_t index)
{
	char out[VALIDATE_EMAIL_SIZE], why[VALIDATE_ERR_SIZE], id[32];
	char cc[VALIDATE_COUNTRY_SIZE], cur[VALIDATE_CURRENCY_SIZE];
	int exponent;
	const Carta__V1__Identity *idn = c->identity;

	assert_non_null(idn);
	snprintf(id, sizeof id, "DEMO-%06zu", index + 1);
	assert_string_equal(idn->external_id, id);
	assert_true(ONE_OF(idn->status, statuses));
	assert_true(ONE_OF(idn->home_branch, branches));
	assert_true(idn->given_name[0] != '\0' || idn->company[0] != '\0');

	if (c->contact != NULL) {
		const Carta__V1__Contact *m = c->contact;
		/* Stored as written but for the domain's case (a planted
		 * duplicate may write it in upper case). */
		for (size_t i = 0; i < m->n_emails; i++) {
			assert_int_equal(validate_email(m->emails[i]->address,
							out, sizeof out, why,
							sizeof why),
					 0);
			assert_int_equal(strlen(out),
					 strlen(m->emails[i]->address));
			assert_memory_equal(out, m->emails[i]->address,
					    (size_t)(strchr(out, '@') - out));
			assert_int_equal(strcasecmp(out, m->emails[i]->address),
					 0);
		}
		assert_true(m->n_phones <= 2);
		for (size_t i = 0; i < m->n_phones; i++) {
			const Carta__V1__Phone *p = m->phones[i];
			if (validate_phone(p->original, "ES", out, sizeof out,
					   why, sizeof why) != 0)
				fail_msg("card %zu phone '%s': %s", index + 1,
					 p->original, why);
			assert_string_equal(out, p->number);
		}
		for (size_t i = 0; i < m->n_addresses; i++) {
			const Carta__V1__Address *a = m->addresses[i];
			assert_int_equal(
			    validate_country(a->country, cc, why, sizeof why),
			    0);
			assert_string_equal(cc, a->country);
			assert_true(a->street[0] && a->city[0] &&
				    a->postal_code[0]);
			if (strcmp(a->country, "ES") == 0) {
				/* Five digits, leading zero kept. */
				assert_int_equal(strlen(a->postal_code), 5);
				assert_int_equal(
				    strspn(a->postal_code, "0123456789"), 5);
			}
		}
	}
	if (c->demographics != NULL) {
		const Carta__V1__Demographics *d = c->demographics;
		if (d->birth_date[0]) {
			assert_int_equal(validate_birth_date(d->birth_date,
							     "2026-12-01", out,
							     why, sizeof why),
					 0);
			assert_true(strcmp(d->birth_date, "1940-01-01") >= 0);
			assert_true(strcmp(d->birth_date, "2006-12-31") <= 0);
		}
		if (d->language[0]) {
			assert_int_equal(validate_language(d->language, out,
							   sizeof out, why,
							   sizeof why),
					 0);
			assert_string_equal(out, d->language);
			assert_true(ONE_OF(d->language, languages));
		}
	}

	assert_true(c->n_purchases <= 15);
	for (size_t i = 0; i < c->n_purchases; i++) {
		const Carta__V1__Purchase *p = c->purchases[i];
		int64_t sum = 0, qty = 0;

		assert_int_equal(validate_date(p->date, out, why, sizeof why),
				 0);
		assert_true(strcmp(p->date, "2019-01-01") >= 0);
		assert_true(strcmp(p->date, "2026-11-30") <= 0);
		assert_int_equal(validate_currency(p->currency, cur, &exponent,
						   why, sizeof why),
				 0);
		assert_string_equal(cur, p->currency);
		assert_true(p->amount_minor > 0 && p->quantity > 0);
		/* Newest first; invoices unique in the card and dated. */
		if (i > 0)
			assert_true(
			    strcmp(c->purchases[i - 1]->date, p->date) >= 0);
		assert_int_equal(strlen(p->invoice), 13);
		assert_memory_equal(p->invoice + 2, p->date, 4);
		assert_int_equal(p->invoice[0], p->refund ? 'R' : 'F');
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(c->purchases[k]->invoice,
						p->invoice);
		for (size_t k = 0; k < p->n_lines; k++) {
			sum += p->lines[k]->quantity *
			       p->lines[k]->unit_price_minor;
			qty += p->lines[k]->quantity;
		}
		assert_true(p->n_lines >= 1);
		assert_int_equal(sum, p->amount_minor);
		assert_int_equal(qty, p->quantity);
		assert_true(
		    ONE_OF(p->channel,
			   ((const char *const[]){"shop", "online", "phone"})));
	}
	assert_true(c->n_interactions <= 6);
	for (size_t i = 0; i < c->n_interactions; i++)
		assert_true(c->interactions[i]->satisfaction <= 5);
	assert_true(c->n_notes <= 2);
}

/* The server's own checks, on a copy (they normalise in place). */
static void check_server_accepts(const Carta__V1__Card *orig, size_t index)
{
	size_t len = carta__v1__card__get_packed_size(orig);
	uint8_t *buf = malloc(len + 1);
	Carta__V1__Card *c;
	card_ctx ctx;
	int rv = 0;

	assert_non_null(buf);
	carta__v1__card__pack(orig, buf);
	c = carta__v1__card__unpack(NULL, len, buf);
	assert_non_null(c);
	card_ctx_init(&ctx, "ES");
	rv = card_check_identity(&ctx, c->identity);
	if (rv == 0 && c->contact)
		rv = card_check_contact(&ctx, c->contact);
	if (rv == 0 && c->demographics)
		rv = card_check_demographics(&ctx, c->demographics);
	for (size_t i = 0; rv == 0 && i < c->n_purchases; i++)
		rv = card_check_purchase(&ctx, c->purchases[i]);
	for (size_t i = 0; rv == 0 && i < c->n_interactions; i++)
		rv = card_check_interaction(&ctx, c->interactions[i]);
	for (size_t i = 0; rv == 0 && i < c->n_notes; i++)
		rv = card_check_note(&ctx, c->notes[i]);
	for (size_t i = 0; rv == 0 && i < c->n_consents; i++)
		rv = card_check_consent(&ctx, c->consents[i]);
	for (size_t i = 0; rv == 0 && i < c->n_preferences; i++)
		rv = card_check_preference(&ctx, c->preferences[i]);
	if (rv == 0)
		rv = card_check_unique(&ctx, c);
	if (rv != 0)
		fail_msg("card %zu refused: %s", index + 1, ctx.msg);
	carta__v1__card__free_unpacked(c, NULL);
	free(buf);
}

static void test_every_card_valid(void **state)
{
	char *text, *line, err[256];
	size_t n = 0;

	(void)state;
	generate(1000, 42, "v");
	text = slurp("cards-v", NULL);
	for (line = text; *line; n++) {
		char *nl = strchr(line, '\n');
		Carta__V1__Card *c;
		json_t *v;
		char *again;

		assert_non_null(nl);
		*nl = '\0';
		assert_true(nl - line < 40 * 1024);
		if (card_json_parse(line, (size_t)(nl - line), &c, err,
				    sizeof err) != 0)
			fail_msg("line %zu: %s", n + 1, err);

		/* Exactly the card JSON's own form: written back, the
		 * same line. */
		v = card_json_from_card(c);
		again = json_dumps(v, JSON_COMPACT);
		assert_string_equal(again, line);
		free(again);
		json_decref(v);

		check_values(c, n);
		check_server_accepts(c, n);
		carta__v1__card__free_unpacked(c, NULL);
		line = nl + 1;
	}
	assert_int_equal(n, 1000);
	free(text);
}

/* Across a run: the variety the brief asks for is there. */
static void test_variety(void **state)
{
	size_t n, foreign = 0, refunds = 0, company = 0, two_surnames = 0;
	size_t emails = 0, jose = 0, satisfaction = 0, prefs = 0;
	size_t withdrawn = 0, notes = 0, intl = 0, local = 0;
	Carta__V1__Card **cards;

	(void)state;
	generate(500, 2026, "var");
	cards = parse_all("cards-var", &n);
	assert_int_equal(n, 500);
	for (size_t i = 0; i < n; i++) {
		const Carta__V1__Card *c = cards[i];
		const Carta__V1__Identity *id = c->identity;
		utf8proc_uint8_t *g = NULL, *f = NULL;

		company += id->company[0] != '\0';
		two_surnames += strchr(id->family_name, ' ') != NULL;
		if (c->contact && c->contact->n_addresses &&
		    strcmp(c->contact->addresses[0]->country, "ES") != 0)
			foreign++;
		for (size_t k = 0; c->contact && k < c->contact->n_phones;
		     k++) {
			const char *o = c->contact->phones[k]->original;
			intl += o[0] == '+' || o[0] == '0';
			local += o[0] >= '6' && o[0] <= '9';
		}
		emails += c->contact && c->contact->n_emails > 0;
		for (size_t k = 0; k < c->n_purchases; k++)
			refunds += c->purchases[k]->refund;
		for (size_t k = 0; k < c->n_interactions; k++)
			satisfaction += c->interactions[k]->satisfaction > 0;
		for (size_t k = 0; k < c->n_consents; k++)
			withdrawn +=
			    c->consents[k]->state ==
			    CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN;
		prefs += c->n_preferences > 0;
		notes += c->n_notes;

		/* "jose garcia" as a search folds it: marks and case
		 * gone. */
		utf8proc_map((const utf8proc_uint8_t *)id->given_name, 0, &g,
			     UTF8PROC_NULLTERM | UTF8PROC_DECOMPOSE |
				 UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD);
		utf8proc_map((const utf8proc_uint8_t *)id->family_name, 0, &f,
			     UTF8PROC_NULLTERM | UTF8PROC_DECOMPOSE |
				 UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD);
		jose += g && f && strncmp((char *)g, "jose", 4) == 0 &&
			strncmp((char *)f, "garcia", 6) == 0;
		free(g);
		free(f);
	}
	assert_true(jose >= 3);
	assert_true(company >= 25 && company <= 150);
	assert_true(two_surnames >= 150);
	assert_true(foreign >= 20 && foreign <= 150);
	assert_true(emails >= 400);
	assert_true(refunds >= 10);
	assert_true(satisfaction >= 100);
	assert_true(withdrawn >= 20);
	assert_true(prefs >= 150);
	assert_true(notes >= 100);
	assert_true(intl >= 100 && local >= 100);
	free_all(cards, n);
}

/* ---- Planted near-duplicates ------------------------------------------- */

static char *fold(const char *s, utf8proc_option_t options)
{
	utf8proc_uint8_t *out = NULL;

	assert_true(utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
				 options | UTF8PROC_NULLTERM) >= 0);
	return (char *)out;
}

/* Asserts that b is a written as the variation says; then makes b's
 * field equal to a's so that what is left can be compared whole. */
static void check_name_variation(const char *how, char **a, char **b)
{
	char *x = NULL, *y = NULL;

	assert_string_not_equal(*a, *b);
	if (strcmp(how, "no_accents") == 0) {
		x = fold(*a, UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK);
		assert_string_equal(x, *b);
		for (const char *p = *b; *p; p++)
			assert_true((unsigned char)*p < 0x80);
	} else if (strcmp(how, "upper_case") == 0) {
		x = fold(*a, UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
		y = fold(*b, UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
		assert_string_equal(x, y);
		free(y);
		/* Upper case is upper case still. */
		y = fold(*b, UTF8PROC_COMPOSE);
		assert_string_equal(y, *b);
		for (const char *p = *b; *p; p++)
			assert_false(*p >= 'a' && *p <= 'z');
	} else if (strcmp(how, "nfd") == 0) {
		x = fold(*b, UTF8PROC_COMPOSE);
		assert_string_equal(x, *a);
		y = fold(*a, UTF8PROC_DECOMPOSE);
		assert_string_equal(y, *b);
	} else {
		fail_msg("unknown name variation %s", how);
	}
	free(x);
	free(y);
}

static void set_same(char **dst, const char *src)
{
	free(*dst);
	*dst = strdup(src);
	assert_non_null(*dst);
}

static void assert_same_part(const ProtobufCMessage *a,
			     const ProtobufCMessage *b)
{
	size_t la = a ? protobuf_c_message_get_packed_size(a) : 0;
	size_t lb = b ? protobuf_c_message_get_packed_size(b) : 0;
	uint8_t *pa = malloc(la + 1), *pb = malloc(lb + 1);

	assert_int_equal(la, lb);
	if (a)
		protobuf_c_message_pack(a, pa);
	if (b)
		protobuf_c_message_pack(b, pb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

/* Checks one planted pair: b varies a only as varied says. */
static void check_pair(Carta__V1__Card *a, Carta__V1__Card *b,
		       const json_t *varied)
{
	size_t i;
	json_t *w;
	char e164[VALIDATE_E164_SIZE], why[VALIDATE_ERR_SIZE];
	int names = 0;

	assert_true(json_array_size(varied) >= 1);
	json_array_foreach(varied, i, w)
	{
		const char *how = json_string_value(w);
		Carta__V1__Identity *x = a->identity, *y = b->identity;

		assert_non_null(how);
		if (strcmp(how, "swapped") == 0) {
			assert_string_equal(x->given_name, y->family_name);
			assert_string_equal(x->family_name, y->given_name);
			set_same(&y->given_name, x->given_name);
			set_same(&y->family_name, x->family_name);
			names++;
		} else if (strcmp(how, "no_accents") == 0 ||
			   strcmp(how, "upper_case") == 0 ||
			   strcmp(how, "nfd") == 0) {
			/* At least one of the two names changed. */
			if (strcmp(x->given_name, y->given_name) != 0)
				check_name_variation(how, &x->given_name,
						     &y->given_name);
			if (strcmp(x->family_name, y->family_name) != 0)
				check_name_variation(how, &x->family_name,
						     &y->family_name);
			assert_true(strcmp(x->given_name, y->given_name) != 0 ||
				    strcmp(x->family_name, y->family_name) !=
					0);
			set_same(&y->given_name, x->given_name);
			set_same(&y->family_name, x->family_name);
			names++;
		} else if (strcmp(how, "phone_format") == 0) {
			Carta__V1__Phone *p = a->contact->phones[0];
			Carta__V1__Phone *q = b->contact->phones[0];
			assert_string_equal(p->number, q->number);
			assert_string_not_equal(p->original, q->original);
			assert_int_equal(validate_phone(q->original, "ES", e164,
							sizeof e164, why,
							sizeof why),
					 0);
			assert_string_equal(e164, p->number);
			set_same(&q->original, p->original);
		} else if (strcmp(how, "email_upper") == 0) {
			Carta__V1__Email *e = a->contact->emails[0];
			Carta__V1__Email *f = b->contact->emails[0];
			assert_string_not_equal(e->address, f->address);
			assert_int_equal(strcasecmp(e->address, f->address), 0);
			for (const char *p = f->address; *p; p++)
				assert_false(*p >= 'a' && *p <= 'z');
			set_same(&f->address, e->address);
		} else if (strcmp(how, "email_tag") == 0) {
			Carta__V1__Email *e = a->contact->emails[0];
			Carta__V1__Email *f = b->contact->emails[0];
			const char *plus = strchr(f->address, '+');
			const char *at = strchr(f->address, '@');
			char joined[VALIDATE_EMAIL_SIZE];
			assert_non_null(plus);
			assert_true(plus < at && at - plus > 1);
			snprintf(joined, sizeof joined, "%.*s%s",
				 (int)(plus - f->address), f->address, at);
			assert_string_equal(joined, e->address);
			set_same(&f->address, e->address);
		} else {
			fail_msg("unknown variation %s", how);
		}
	}
	assert_true(names <= 1);

	/* The rest is the same person: names, birth date, postal code,
	 * company, status, branch ... */
	set_same(&b->identity->external_id, a->identity->external_id);
	assert_same_part(&a->identity->base, &b->identity->base);
	assert_same_part(a->contact ? &a->contact->base : NULL,
			 b->contact ? &b->contact->base : NULL);
	assert_same_part(a->demographics ? &a->demographics->base : NULL,
			 b->demographics ? &b->demographics->base : NULL);
}

static void check_truth(unsigned count, unsigned long long seed, unsigned pairs)
{
	char tag[32], name[48];
	Carta__V1__Card **cards;
	size_t n, lines = 0;
	char *truth, *line;

	snprintf(tag, sizeof tag, "p%u-%llu", count, seed);
	generate(count, seed, tag);
	snprintf(name, sizeof name, "cards-%s", tag);
	cards = parse_all(name, &n);
	assert_int_equal(n, count);
	snprintf(name, sizeof name, "truth-%s", tag);
	truth = slurp(name, NULL);

	for (line = truth; *line; lines++) {
		char *nl = strchr(line, '\n');
		json_error_t je;
		json_t *o;
		unsigned ia, ib;
		char *a_id = NULL;

		assert_non_null(nl);
		o = json_loadb(line, (size_t)(nl - line), 0, &je);
		assert_non_null(o);
		assert_int_equal(json_object_size(o), 3);
		assert_int_equal(
		    sscanf(json_string_value(json_object_get(o, "original")),
			   "DEMO-%u", &ia),
		    1);
		assert_int_equal(
		    sscanf(json_string_value(json_object_get(o, "duplicate")),
			   "DEMO-%u", &ib),
		    1);
		assert_true(ia >= 1 && ia < ib && ib <= count);
		assert_string_equal(
		    cards[ia - 1]->identity->external_id,
		    json_string_value(json_object_get(o, "original")));
		a_id = strdup(cards[ib - 1]->identity->external_id);
		check_pair(cards[ia - 1], cards[ib - 1],
			   json_object_get(o, "varied"));
		assert_string_equal(
		    a_id, json_string_value(json_object_get(o, "duplicate")));
		free(a_id);
		json_decref(o);
		line = nl + 1;
	}
	assert_int_equal(lines, pairs);
	free(truth);
	free_all(cards, n);
}

static void test_planted_pairs(void **state)
{
	(void)state;
	check_truth(100, 1, 3);
	check_truth(500, 42, 5);
	check_truth(2000, 3, 20);
	check_truth(50, 5, 1);
}

/* Over many seeds, every kind of variation is planted. */
static void test_every_variation_occurs(void **state)
{
	static const char *const kinds[] = {
	    "no_accents",   "upper_case",  "nfd",      "swapped",
	    "phone_format", "email_upper", "email_tag"};
	size_t seen[sizeof kinds / sizeof kinds[0]] = {0};
	char *truth;

	(void)state;
	generate(3000, 11, "many");
	truth = slurp("truth-many", NULL);
	assert_int_equal(count_lines(truth), 30);
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		char quoted[32];
		snprintf(quoted, sizeof quoted, "\"%s\"", kinds[k]);
		for (const char *p = truth; (p = strstr(p, quoted)) != NULL;
		     p++)
			seen[k]++;
		if (seen[k] == 0)
			fail_msg("no pair varies %s", kinds[k]);
	}
	free(truth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_seed_same_bytes),
	    cmocka_unit_test(test_other_seed_other_cards),
	    cmocka_unit_test(test_count_lines_and_pairs),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_every_card_valid),
	    cmocka_unit_test(test_variety),
	    cmocka_unit_test(test_planted_pairs),
	    cmocka_unit_test(test_every_variation_occurs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
