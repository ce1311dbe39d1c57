/* Helpers shared by the commands: errors, connecting, output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <utf8proc.h>

#include "cli.h"

int cli_fail(const cli_args *a, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (a->path[0] != '\0')
		fprintf(stderr, "carta: %s: ", a->path);
	else
		fprintf(stderr, "carta: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int cli_fail_client(const cli_args *a, carta_client *c)
{
	const char *msg = carta_client_errmsg(c);

	return cli_fail(a, "%s", msg[0] != '\0' ? msg : "failed");
}

int cli_load_options(const cli_args *a, carta_options *opts)
{
	carta_profile_args pa = {
	    .profile = a->profile,
	    .server = a->server,
	    .server_key = a->server_key,
	    .key_file = a->key,
	};
	char err[CLI_ERR_MAX];
	int rv;

	rv = carta_options_load(&pa, opts, NULL, 0, NULL, 0, err, sizeof err);
	if (rv == CARTA_ENOENT && strncmp(err, "no profile", 10) == 0)
		return cli_fail(a,
				"%s; give --profile FILE, or --server, "
				"--server-key and --key",
				err);
	if (rv != 0)
		return cli_fail(a, "%s", err);
	opts->connect_timeout_ms = (int)a->timeout_ms;
	opts->request_timeout_ms = (int)a->timeout_ms;
	return 0;
}

int cli_connect(const cli_args *a, const carta_options *opts, carta_client **c)
{
	int rv = carta_connect(opts, c);

	if (rv == 0)
		return 0;
	if (*c == NULL || rv == CARTA_ENOMEM) {
		carta_close(*c);
		*c = NULL;
		return cli_fail(a, "%s", carta_strerror(rv));
	}
	cli_fail_client(a, *c);
	carta_close(*c);
	*c = NULL;
	return CLI_EXIT_FAIL;
}

/* Length of the valid UTF-8 sequence at s (1..4) with its code point, or
 * 0 when s does not start one. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	unsigned char b = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
		*cp = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		*cp = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;
		if (b == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		*cp = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;
		if (b == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		unsigned char cb = s[i];

		if (cb < (i == 1 ? lo : 0x80) || cb > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (cb & 0x3f);
	}
	return len;
}

size_t cli_sanitize(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, cols = 0;

	if (cap == 0)
		return 0;
	while (*p != '\0') {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);
		bool bad = len == 0 || cp < 0x20 || cp == 0x7f ||
			   (cp >= 0x80 && cp <= 0x9f);

		if (bad) {
			if (o + 1 >= cap)
				break;
			out[o++] = '?';
			p += len == 0 ? 1 : len;
		} else {
			if (o + len >= cap)
				break;
			memcpy(out + o, p, len);
			o += len;
			p += len;
		}
		/* Columns on a terminal: two for wide (CJK) characters,
		 * none for combining marks. */
		int w = bad ? 1 : utf8proc_charwidth((utf8proc_int32_t)cp);
		cols += w > 0 ? (size_t)w : 0;
	}
	out[o] = '\0';
	return cols;
}

json_t *cli_json_str(const char *s)
{
	json_t *v = json_string(s);

	if (v != NULL)
		return v;

	/* Invalid UTF-8: replace each bad byte with U+FFFD (3 bytes). */
	size_t n = strlen(s);
	char *fixed = malloc(n * 3 + 1);
	if (fixed == NULL)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	while (*p != '\0') {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);

		if (len == 0) {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(fixed + o, p, len);
		o += len;
		p += len;
	}
	fixed[o] = '\0';
	v = json_string(fixed);
	free(fixed);
	return v;
}

int cli_print_json(const cli_args *a, json_t *v)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (text == NULL)
		return cli_fail(a, "out of memory");
	puts(text);
	free(text);
	return 0;
}

void cli_time(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "-");
}

/* ---- Times ----------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* "YYYY-MM-DD" at *p, a real calendar date. */
static bool read_date(const char **p, int *y, int *m, int *d)
{
	return digits(p, 4, y) && *(*p)++ == '-' && digits(p, 2, m) &&
	       *(*p)++ == '-' && digits(p, 2, d) && *m >= 1 && *m <= 12 &&
	       *d >= 1 && *d <= days_in_month(*y, *m);
}

bool cli_date_valid(const char *s)
{
	int y, m, d;

	return read_date(&s, &y, &m, &d) && *s == '\0';
}

int cli_time_parse(const char *s, int64_t now, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om;
	int64_t offset = 0;

	if (s[0] == '-') {
		static const struct {
			char unit;
			int64_t seconds;
		} units[] = {{'s', 1},
			     {'m', 60},
			     {'h', 3600},
			     {'d', 86400},
			     {'w', 604800}};
		char *end;
		long long n = strtoll(s + 1, &end, 10);

		if (end == s + 1 || s[1] < '0' || s[1] > '9' ||
		    end[0] == '\0' || end[1] != '\0' || n > 100000000)
			return -1;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (units[i].unit == end[0]) {
				*out = now - (int64_t)n * units[i].seconds;
				return 0;
			}
		return -1;
	}

	if (!read_date(&p, &y, &mo, &d))
		return -1;
	if (*p == 'T') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
		    h > 23 || mi > 59)
			return -1;
		if (*p == ':' && (p++, !digits(&p, 2, &sec) || sec > 60))
			return -1;
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1;

			if (!digits(&p, 2, &oh) || *p++ != ':' ||
			    !digits(&p, 2, &om) || oh > 23 || om > 59)
				return -1;
			offset = sign * ((int64_t)oh * 3600 + om * 60);
		} else {
			return -1;
		}
	}
	if (*p != '\0')
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       offset;
	return 0;
}

/* ---- Text for the terminal ------------------------------------------ */

#define SAFE_SLOTS 8

const char *cli_safe(const char *s)
{
	static char *slot[SAFE_SLOTS];
	static size_t cap[SAFE_SLOTS];
	static unsigned next;
	unsigned i = next++ % SAFE_SLOTS;
	size_t need = (s != NULL ? strlen(s) : 0) + 1;

	if (s == NULL)
		return "";
	if (cap[i] < need) {
		char *p = realloc(slot[i], need);

		if (p == NULL)
			return "?";
		slot[i] = p;
		cap[i] = need;
	}
	cli_sanitize(s, slot[i], need);
	return slot[i];
}

/* ---- Tables -------------------------------------------------------- */

int cli_table_init(cli_table *t, const char *const *titles, int ncol,
		   int indent)
{
	memset(t, 0, sizeof *t);
	t->titles = titles;
	t->indent = indent;
	t->width = calloc((size_t)ncol, sizeof *t->width);
	if (t->width == NULL)
		return -1;
	t->ncol = ncol;
	return 0;
}

int cli_table_add(cli_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cell, cap * (size_t)t->ncol * sizeof *c);
		size_t *w;

		if (c == NULL)
			return -1;
		t->cell = c;
		w = realloc(t->cellw, cap * (size_t)t->ncol * sizeof *w);
		if (w == NULL)
			return -1;
		t->cellw = w;
		t->cap = cap;
	}
	size_t base = t->nrows * (size_t)t->ncol;
	for (int i = 0; i < t->ncol; i++) {
		const char *s =
		    cells[i] != NULL && cells[i][0] != '\0' ? cells[i] : "-";
		size_t need = strlen(s) + 1;

		t->cell[base + (size_t)i] = malloc(need);
		if (t->cell[base + (size_t)i] == NULL) {
			for (int k = 0; k < i; k++)
				free(t->cell[base + (size_t)k]);
			return -1;
		}
		t->cellw[base + (size_t)i] =
		    cli_sanitize(s, t->cell[base + (size_t)i], need);
	}
	t->nrows++;
	return 0;
}

static void table_row(const cli_table *t, char *const *cell, const size_t *w)
{
	printf("%*s", t->indent, "");
	for (int i = 0; i < t->ncol; i++) {
		fputs(cell[i], stdout);
		if (i == t->ncol - 1)
			break;
		/* Widths are set by the first page: a wider cell of a later
		 * one still gets its two spaces. */
		size_t pad = (w[i] < t->width[i] ? t->width[i] - w[i] : 0) + 2;
		for (size_t k = 0; k < pad; k++)
			fputc(' ', stdout);
	}
	fputc('\n', stdout);
}

/* Columns a title takes on a terminal (as cli_sanitize counts them). */
static size_t text_cols(const char *s)
{
	char buf[256];

	return cli_sanitize(s, buf, sizeof buf);
}

static void table_header(const cli_table *t)
{
	printf("%*s", t->indent, "");
	for (int i = 0; i < t->ncol; i++) {
		fputs(t->titles[i], stdout);
		if (i == t->ncol - 1)
			break;
		for (size_t k = text_cols(t->titles[i]); k < t->width[i] + 2;
		     k++)
			fputc(' ', stdout);
	}
	fputc('\n', stdout);
}

void cli_table_flush(cli_table *t)
{
	if (!t->started) {
		for (int i = 0; i < t->ncol; i++) {
			t->width[i] = text_cols(t->titles[i]);
			for (size_t r = 0; r < t->nrows; r++) {
				size_t w =
				    t->cellw[r * (size_t)t->ncol + (size_t)i];

				if (w > t->width[i])
					t->width[i] = w;
			}
		}
		table_header(t);
		t->started = true;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		size_t base = r * (size_t)t->ncol;

		table_row(t, t->cell + base, t->cellw + base);
		for (int i = 0; i < t->ncol; i++)
			free(t->cell[base + (size_t)i]);
	}
	t->nrows = 0;
}

void cli_table_free(cli_table *t)
{
	for (size_t k = 0; k < t->nrows * (size_t)t->ncol; k++)
		free(t->cell[k]);
	free(t->cell);
	free(t->cellw);
	free(t->width);
	t->cell = NULL;
	t->cellw = NULL;
	t->width = NULL;
	t->nrows = t->cap = 0;
}

/* ---- Requests ------------------------------------------------------ */

void cli_request_key(char out[CLI_REQUEST_KEY_SIZE])
{
	uint8_t raw[16];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, CLI_REQUEST_KEY_SIZE, raw, sizeof raw);
}

void cli_print_duplicates(const cli_args *a, const Carta__V1__Status *st)
{
	for (size_t i = 0; i < st->n_duplicates; i++) {
		const Carta__V1__DuplicateCandidate *d = st->duplicates[i];
		if (a->json) {
			json_t *o = json_pack("{s:s, s:f}", "duplicate_of",
					      d->number, "score", d->score);
			json_t *r = json_array();
			for (size_t k = 0; o && r && k < d->n_reasons; k++)
				json_array_append_new(
				    r, cli_json_str(d->reasons[k]));
			if (o != NULL && r != NULL) {
				json_object_set_new(o, "reasons", r);
				if (d->name[0])
					json_object_set_new(
					    o, "name", cli_json_str(d->name));
				cli_print_json(a, o);
			} else {
				json_decref(o);
				json_decref(r);
			}
			continue;
		}
		fprintf(stderr,
			"  looks like %s %s (score %.3f):", cli_safe(d->number),
			cli_safe(d->name), d->score);
		for (size_t k = 0; k < d->n_reasons; k++)
			fprintf(stderr, "%s %s", k ? ";" : "",
				cli_safe(d->reasons[k]));
		fputc('\n', stderr);
	}
}

int cli_fail_status(const cli_args *a, const Carta__V1__Status *st)
{
	const char *msg = st->message != NULL && st->message[0] != '\0'
			      ? st->message
			      : carta_status_name((int)st->code);

	/* A message that already starts with its field path says it once. */
	size_t flen = st->field != NULL ? strlen(st->field) : 0;
	int named =
	    flen > 0 && strncmp(msg, st->field, flen) == 0 && msg[flen] == ':';
	/* The status, for a reader who needs to tell a refusal from a
	 * mistake, unless the message is the status's name already. */
	const char *code = carta_status_name((int)st->code);
	char tail[48] = "";
	if (msg != code)
		snprintf(tail, sizeof(tail), " (%s)", code);
	int rv = flen > 0 && !named
		     ? cli_fail(a, "%s: %s%s", cli_safe(st->field),
				cli_safe(msg), tail)
		     : cli_fail(a, "%s%s", cli_safe(msg), tail);
	cli_print_duplicates(a, st);
	return rv;
}

int cli_open(const cli_args *a, carta_client **c)
{
	carta_options opts;
	int status;

	*c = NULL;
	status = cli_load_options(a, &opts);
	if (status != 0)
		return status;
	status = cli_connect(a, &opts, c);
	carta_options_wipe(&opts);
	return status;
}

/* Sends req and hands its responses to h. Returns 0, an exit status
 * already printed, CLI_STOP, or a negative libcarta code not yet printed;
 * *delivered counts the responses handed to h->each. */
static int call_once(const cli_args *a, carta_client *c,
		     Carta__V1__Request *req, const cli_handler *h,
		     size_t *delivered)
{
	uint64_t id;
	int rv;

	*delivered = 0;
	rv = carta_send(c, req, &id);
	if (rv != 0)
		return rv;
	for (;;) {
		Carta__V1__Response *r = NULL;

		rv = carta_recv(c, &r);
		if (rv != 0)
			return rv;
		if (r->id != id) {
			carta__v1__response__free_unpacked(r, NULL);
			continue;
		}

		bool more = r->more;
		if (r->status != NULL &&
		    r->status->code != CARTA__V1__STATUS__CODE__OK) {
			rv = h->refused != NULL
				 ? h->refused(a, h->ud, r->status)
				 : cli_fail_status(a, r->status);
			carta__v1__response__free_unpacked(r, NULL);
			return rv != 0 ? rv : CLI_EXIT_FAIL;
		}
		rv = h->each != NULL ? h->each(a, h->ud, r) : 0;
		(*delivered)++;
		carta__v1__response__free_unpacked(r, NULL);
		if (rv != 0 || !more)
			return rv;
	}
}

static bool connection_lost(int rv)
{
	return rv == CARTA_ECLOSED || rv == CARTA_ETIMEDOUT || rv == CARTA_EIO;
}

int cli_call(const cli_args *a, carta_client **c, Carta__V1__Request *req,
	     const cli_handler *h)
{
	size_t delivered;
	int rv = call_once(a, *c, req, h, &delivered);

	/* Safe to send again: the request is a read or carries a request
	 * key, and nothing of the first answer was used. */
	if (rv < 0 && h->retry && delivered == 0 && connection_lost(rv)) {
		fprintf(stderr, "carta: %s: %s; trying once more\n", a->path,
			carta_client_errmsg(*c));
		carta_close(*c);
		rv = cli_open(a, c);
		if (rv != 0)
			return rv;
		rv = call_once(a, *c, req, h, &delivered);
	}
	if (rv < 0)
		return cli_fail_client(a, *c);
	return rv;
}

int cli_request(const cli_args *a, Carta__V1__Request *req,
		const cli_handler *h)
{
	carta_client *c = NULL;
	int status = cli_open(a, &c);

	if (status == 0)
		status = cli_call(a, &c, req, h);
	carta_close(c);
	return status;
}

/* Follows the cursors of a listing. */
struct pager {
	cli_page_fn fn;
	void *ud;
	char *next; /* the last page's next cursor, "" at the end */
	bool stopped;
};

static int pager_each(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	struct pager *p = ud;
	const char *next = "";
	int rv = p->fn(a, p->ud, r, &next);

	if (rv != 0)
		return rv;
	free(p->next);
	p->next = strdup(next != NULL ? next : "");
	if (p->next == NULL)
		return cli_fail(a, "out of memory");
	/* One page unless --all; a server that streams every page on its
	 * own is simply not read further. */
	if (p->next[0] != '\0' && !a->all) {
		p->stopped = true;
		return CLI_STOP;
	}
	return 0;
}

int cli_pages(const cli_args *a, Carta__V1__Request *req, char **cursor,
	      cli_page_fn fn, void *ud)
{
	struct pager p = {.fn = fn, .ud = ud};
	cli_handler h = {.each = pager_each, .ud = &p, .retry = true};
	carta_client *c = NULL;
	char *sent = strdup(a->cursor != NULL ? a->cursor : "");
	int status;

	status = sent == NULL ? cli_fail(a, "out of memory") : cli_open(a, &c);
	while (status == 0) {
		*cursor = sent;
		status = cli_call(a, &c, req, &h);
		if (status == CLI_STOP) {
			status = 0;
			break;
		}
		if (status != 0 || p.next == NULL || p.next[0] == '\0')
			break;
		if (strcmp(p.next, sent) == 0) {
			status = cli_fail(a, "the server repeated a cursor");
			break;
		}
		free(sent);
		sent = p.next;
		p.next = NULL;
	}
	*cursor = (char *)protobuf_c_empty_string;

	if (status == 0 && p.stopped) {
		if (a->json) {
			json_t *o = json_object();

			json_object_set_new(o, "next_cursor",
					    cli_json_str(p.next));
			status = cli_print_json(a, o);
		} else {
			printf("(more: add --cursor %s, or --all)\n",
			       cli_safe(p.next));
		}
	}
	free(sent);
	free(p.next);
	carta_close(c);
	return status;
}
