/* carta import: reads records with an import_reader, sends them to the
 * server in batches (each applied atomically there) and accounts for every
 * record: created, updated, unchanged, rejected or skipped, with the line
 * and the reason of each one that did not land. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "import.h"

/* A batch stops at this many records or this many encoded bytes, so that
 * the request fits one transport message with room to spare. */
#define BATCH_RECORDS 200
#define BATCH_BYTES   56000
/* The largest request a transport message can carry. */
#define REQUEST_BYTES_MAX 65000
#define NOTES_MAX	  16

typedef struct {
	char text[64];
	unsigned long count;
} import_note;

typedef struct {
	const cli_args *a;
	const char *path;
	carta_client *client;
	int upsert_by;
	bool create_missing;

	/* the batch being filled: items and their encoded sizes; the last
	 * run_start.. items share one key (run_key) */
	Carta__V1__ImportItem **items;
	size_t *sizes;
	size_t nitems;
	size_t bytes;
	size_t run_start;
	char run_key[128];

	/* the tally */
	unsigned long records, rows, created, updated, unchanged, rejected;
	unsigned long skipped, added, present, duplicates, suppressed;
	import_note notes[NOTES_MAX];
	size_t nnotes;

	/* progress */
	bool bar, plain;
	struct timespec start, last;
	const import_reader *rd;
	import_src *src;
	bool bar_shown;
} importer;

void import_rec_clear(import_rec *rec)
{
	if (rec->card != NULL)
		carta__v1__card__free_unpacked(rec->card, NULL);
	memset(rec, 0, sizeof(*rec));
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- progress ------------------------------------------------------- */

static void progress_clear(importer *im)
{
	if (im->bar && im->bar_shown) {
		fprintf(stderr, "\r%79s\r", "");
		im->bar_shown = false;
	}
}

/* A bar on a terminal (rows, rate, time left), redrawn at most ten times
 * a second; elsewhere a plain line every five seconds. */
static void progress(importer *im, bool force)
{
	unsigned long long done = 0, total = 0;
	double since_last = seconds_since(&im->last);

	if (!im->bar && !im->plain)
		return;
	if (!force && since_last < (im->bar ? 0.1 : 5.0))
		return;
	clock_gettime(CLOCK_MONOTONIC, &im->last);
	if (im->rd->progress != NULL)
		im->rd->progress(im->src, &done, &total);

	double elapsed = seconds_since(&im->start);
	double rate = elapsed > 0 ? (double)im->records / elapsed : 0;
	double frac = total > 0 ? (double)done / (double)total : 0;
	if (frac > 1)
		frac = 1;
	char left[32] = "-";
	if (frac > 0.01 && elapsed > 0.5) {
		long s = (long)(elapsed / frac - elapsed + 0.5);
		snprintf(left, sizeof(left), "%ld:%02ld", s / 60, s % 60);
	}
	if (im->bar) {
		char bar[31];
		int fill = (int)(frac * 30);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %3d%% %lu records %.0f/s left %s ", bar,
			(int)(frac * 100), im->records, rate, left);
		im->bar_shown = true;
	} else {
		fprintf(stderr,
			"carta: import: %lu records (%d%%), %.0f/s, left %s\n",
			im->records, (int)(frac * 100), rate, left);
	}
	fflush(stderr);
}

/* ---- reporting ------------------------------------------------------- */

static void report(importer *im, const char *what, unsigned long line,
		   const char *field, const char *reason)
{
	progress_clear(im);
	if (im->a->json) {
		json_t *o = json_pack("{s:s, s:I}", "outcome", what, "line",
				      (json_int_t)line);
		if (o != NULL && field != NULL && field[0] != '\0')
			json_object_set_new(o, "field", cli_json_str(field));
		if (o != NULL)
			json_object_set_new(o, "reason", cli_json_str(reason));
		cli_print_json(im->a, o);
		return;
	}
	if (field != NULL && field[0] != '\0')
		printf("line %lu: %s: %s: %s\n", line, what, cli_safe(field),
		       cli_safe(reason));
	else
		printf("line %lu: %s: %s\n", line, what, cli_safe(reason));
}

static void note(importer *im, const char *text)
{
	if (text[0] == '\0')
		return;
	for (size_t i = 0; i < im->nnotes; i++) {
		if (strcmp(im->notes[i].text, text) == 0) {
			im->notes[i].count++;
			return;
		}
	}
	if (im->nnotes < NOTES_MAX) {
		snprintf(im->notes[im->nnotes].text,
			 sizeof(im->notes[im->nnotes].text), "%s", text);
		im->notes[im->nnotes++].count = 1;
	}
}

static void summary(importer *im, const char *stopped)
{
	const cli_args *a = im->a;

	progress_clear(im);
	if (a->json) {
		json_t *o = json_pack(
		    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:I, "
		    "s:b}",
		    "summary", im->path, "records", (json_int_t)im->records,
		    "rows", (json_int_t)im->rows, "created",
		    (json_int_t)im->created, "updated", (json_int_t)im->updated,
		    "unchanged", (json_int_t)im->unchanged, "rejected",
		    (json_int_t)im->rejected, "skipped",
		    (json_int_t)im->skipped, "duplicates",
		    (json_int_t)im->duplicates, "suppressed",
		    (json_int_t)im->suppressed, "items_added",
		    (json_int_t)im->added, "items_present",
		    (json_int_t)im->present, "dry_run", a->dry_run);
		if (o != NULL && stopped != NULL)
			json_object_set_new(o, "stopped",
					    cli_json_str(stopped));
		for (size_t i = 0; o != NULL && i < im->nnotes; i++) {
			json_t *n = json_object_get(o, "notes");
			if (n == NULL) {
				n = json_object();
				json_object_set_new(o, "notes", n);
			}
			json_object_set_new(
			    n, im->notes[i].text,
			    json_integer((json_int_t)im->notes[i].count));
		}
		cli_print_json(a, o);
		return;
	}
	printf("%s %s: %lu records", a->dry_run ? "Dry run of" : "Imported",
	       cli_safe(im->path), im->records);
	if (im->rows != im->records)
		printf(" (%lu rows)", im->rows);
	printf("\n  created   %lu\n  updated   %lu\n  unchanged %lu\n"
	       "  rejected  %lu\n  skipped   %lu\n",
	       im->created, im->updated, im->unchanged, im->rejected,
	       im->skipped);
	if (im->duplicates)
		printf("  duplicates %lu (not created: they look like existing "
		       "cards; --force creates them)\n",
		       im->duplicates);
	if (im->suppressed)
		printf("  suppressed %lu (erased people, not created again)\n",
		       im->suppressed);
	if (im->added || im->present)
		printf("  purchases, interactions and notes added %lu; "
		       "purchases already there %lu\n",
		       im->added, im->present);
	for (size_t i = 0; i < im->nnotes; i++)
		printf("  note: %s (%lu)\n", cli_safe(im->notes[i].text),
		       im->notes[i].count);
	if (stopped != NULL)
		printf("  stopped: %s\n", cli_safe(stopped));
	if (a->dry_run)
		printf("  nothing was written (--dry-run)\n");
	double s = seconds_since(&im->start);
	printf("  %.1f s, %.0f records/s\n", s,
	       s > 0 ? (double)im->records / s : 0);
}

/* A record not created because it looks like existing cards. */
static void duplicate(importer *im, const Carta__V1__ImportOutcome *o)
{
	char why[512] = "";
	size_t n = 0;

	for (size_t i = 0; i < o->n_duplicates && n < sizeof(why) - 1; i++) {
		const Carta__V1__DuplicateCandidate *d = o->duplicates[i];
		int w =
		    snprintf(why + n, sizeof(why) - n, "%slooks like %s (%.2f)",
			     i ? "; " : "", d->number, d->score);
		for (size_t k = 0; w > 0 && k < d->n_reasons; k++)
			w += snprintf(why + n + (size_t)w,
				      sizeof(why) - n - (size_t)w, "%s %s",
				      k ? "," : ":", d->reasons[k]);
		if (w < 0)
			break;
		n += (size_t)w;
		if (n >= sizeof(why))
			n = sizeof(why) - 1;
	}
	report(im, "duplicate", (unsigned long)o->line, NULL,
	       why[0] ? why : o->message);
}

/* ---- batches --------------------------------------------------------- */

static int tally(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	importer *im = ud;
	(void)a;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_IMPORT_RESULT)
		return 0;
	const Carta__V1__ImportResult *res = r->import_result;
	for (size_t i = 0; i < res->n_outcomes; i++) {
		const Carta__V1__ImportOutcome *o = res->outcomes[i];
		im->added += o->items_added;
		im->present += o->items_present;
		switch (o->kind) {
		case CARTA__V1__IMPORT_OUTCOME__KIND__CREATED:
			im->created++;
			break;
		case CARTA__V1__IMPORT_OUTCOME__KIND__UPDATED:
			im->updated++;
			break;
		case CARTA__V1__IMPORT_OUTCOME__KIND__UNCHANGED:
			im->unchanged++;
			break;
		case CARTA__V1__IMPORT_OUTCOME__KIND__DUPLICATE:
			im->duplicates++;
			duplicate(im, o);
			break;
		case CARTA__V1__IMPORT_OUTCOME__KIND__SUPPRESSED:
			im->suppressed++;
			report(im, "suppressed", (unsigned long)o->line, NULL,
			       o->message);
			break;
		default:
			im->rejected++;
			report(im, "rejected", (unsigned long)o->line, o->field,
			       o->message);
			break;
		}
	}
	return 0;
}

static void items_free(Carta__V1__ImportItem **items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i]->card != NULL)
			carta__v1__card__free_unpacked(items[i]->card, NULL);
		free(items[i]);
	}
}

static void batch_free(importer *im)
{
	items_free(im->items, im->nitems);
	im->nitems = 0;
	im->bytes = 0;
	im->run_start = 0;
	im->run_key[0] = '\0';
}

/* Sends the first n items of the batch and keeps the others, which move
 * to its front. */
static int flush_first(importer *im, size_t n)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__ImportRequest body = CARTA__V1__IMPORT_REQUEST__INIT;
	cli_handler h = {.each = tally, .ud = im};

	if (n == 0)
		return 0;
	body.items = im->items;
	body.n_items = n;
	body.upsert_by = (Carta__V1__UpsertKey)im->upsert_by;
	body.dry_run = im->a->dry_run;
	body.create_missing = im->create_missing;
	body.force = im->a->force;
	req.body_case = CARTA__V1__REQUEST__BODY_IMPORT;
	req.import = &body;
	progress_clear(im);
	int status = cli_call(im->a, &im->client, &req, &h);

	items_free(im->items, n);
	for (size_t i = 0; i < n; i++)
		im->bytes -= im->sizes[i];
	memmove(im->items, im->items + n,
		(im->nitems - n) * sizeof(*im->items));
	memmove(im->sizes, im->sizes + n,
		(im->nitems - n) * sizeof(*im->sizes));
	im->nitems -= n;
	im->run_start = im->run_start >= n ? im->run_start - n : 0;
	return status;
}

static int flush(importer *im)
{
	return flush_first(im, im->nitems);
}

/* The key that finds a record's card, as the server will read it (""
 * when records do not depend on each other). */
static void record_key(const importer *im, const Carta__V1__Card *c, char *out,
		       size_t cap)
{
	const char *k = "";

	switch (im->upsert_by) {
	case CARTA__V1__UPSERT_KEY__UPSERT_EMAIL:
		if (c->contact && c->contact->n_emails > 0)
			k = c->contact->emails[0]->address;
		break;
	case CARTA__V1__UPSERT_KEY__UPSERT_NUMBER:
		k = c->identity ? c->identity->number : "";
		break;
	case CARTA__V1__UPSERT_KEY__UPSERT_EXTERNAL_ID:
		k = c->identity ? c->identity->external_id : "";
		break;
	default:
		break;
	}
	snprintf(out, cap, "%s", k);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

/* Takes rec's card into the batch, sending the batch first when the
 * card would not fit in it. */
static int add(importer *im, import_rec *rec)
{
	Carta__V1__ImportItem *item = malloc(sizeof(*item));

	if (item == NULL)
		return cli_fail(im->a, "out of memory");
	carta__v1__import_item__init(item);
	item->line = rec->line;
	item->card = rec->card;
	rec->card = NULL;

	size_t size = carta__v1__import_item__get_packed_size(item) + 8;
	if (size > REQUEST_BYTES_MAX) {
		carta__v1__card__free_unpacked(item->card, NULL);
		free(item);
		im->rejected++;
		report(im, "rejected", rec->line, NULL,
		       "the record is too large to send");
		return 0;
	}
	/* Records with one key stay in one batch where they fit: a dry run
	 * rolls each batch back, so a card one record creates would be
	 * missing for the next in another batch. */
	char key[sizeof(im->run_key)];
	record_key(im, item->card, key, sizeof(key));
	bool same =
	    key[0] != '\0' && im->nitems > 0 && strcmp(key, im->run_key) == 0;
	if (!same) {
		im->run_start = im->nitems;
		snprintf(im->run_key, sizeof(im->run_key), "%s", key);
	}
	if (im->nitems == BATCH_RECORDS || im->bytes + size > BATCH_BYTES) {
		size_t n = im->run_start > 0 ? im->run_start : im->nitems;
		int status = flush_first(im, n);
		if (status == 0 && (im->nitems == BATCH_RECORDS ||
				    im->bytes + size > BATCH_BYTES))
			status = flush(im);
		if (status != 0) {
			carta__v1__card__free_unpacked(item->card, NULL);
			free(item);
			return status;
		}
	}
	im->items[im->nitems] = item;
	im->sizes[im->nitems++] = size;
	im->bytes += size;
	return 0;
}

/* ---- the command ----------------------------------------------------- */

static int upsert_key(const char *s)
{
	if (s == NULL)
		return CARTA__V1__UPSERT_KEY__UPSERT_NONE;
	if (strcmp(s, "email") == 0)
		return CARTA__V1__UPSERT_KEY__UPSERT_EMAIL;
	if (strcmp(s, "number") == 0)
		return CARTA__V1__UPSERT_KEY__UPSERT_NUMBER;
	if (strcmp(s, "external-id") == 0)
		return CARTA__V1__UPSERT_KEY__UPSERT_EXTERNAL_ID;
	return -1;
}

static int delimiter(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 ||
	    strcmp(s, "\t") == 0)
		return '\t';
	if (strcmp(s, ",") == 0 || strcmp(s, ";") == 0 || strcmp(s, "|") == 0)
		return s[0];
	return -1;
}

int check_import(const cli_args *a, char *err, size_t errlen)
{
	if (upsert_key(a->upsert_by) < 0) {
		snprintf(err, errlen,
			 "--upsert-by: '%s' is not email, number or "
			 "external-id",
			 a->upsert_by);
		return -1;
	}
	if (delimiter(a->delimiter) < 0) {
		snprintf(err, errlen,
			 "--delimiter: '%s' is not ',', ';', '|' or 'tab'",
			 a->delimiter);
		return -1;
	}
	return 0;
}

static int run_import(const cli_args *a, const import_reader *rd, int upsert_by,
		      bool create_missing)
{
	importer im = {.a = a,
		       .path = a->pos[0],
		       .upsert_by = upsert_by,
		       .create_missing = create_missing,
		       .rd = rd};
	import_opts o = {.mapping = a->mapping,
			 .encoding = a->encoding,
			 .delimiter = (char)delimiter(a->delimiter),
			 .date_format = a->date_format,
			 .currency = a->currency};
	char err[CLI_ERR_MAX] = "";
	import_rec rec;
	int status = 0, rv;

	memset(&rec, 0, sizeof(rec));
	im.items = calloc(BATCH_RECORDS, sizeof(*im.items));
	im.sizes = calloc(BATCH_RECORDS, sizeof(*im.sizes));
	if (im.items == NULL || im.sizes == NULL) {
		free(im.items);
		free(im.sizes);
		return cli_fail(a, "out of memory");
	}
	if (rd->open == NULL ||
	    rd->open(im.path, &o, &im.src, err, sizeof(err)) != 0) {
		free(im.items);
		return cli_fail(a, "%s",
				err[0] ? err
				       : "cannot read this kind "
					 "of file yet");
	}
	status = cli_open(a, &im.client);
	if (status != 0)
		goto out;

	im.bar = !a->json && (isatty(STDERR_FILENO) || a->progress);
	im.plain = !im.bar && !a->json;
	clock_gettime(CLOCK_MONOTONIC, &im.start);
	im.last = im.start;

	const char *stopped = NULL;
	while ((rv = rd->next(im.src, &rec, err, sizeof(err))) == 1) {
		im.records++;
		im.rows += rec.lines ? rec.lines : 1;
		note(&im, rec.note);
		if (rec.card != NULL) {
			status = add(&im, &rec);
		} else if (rec.skipped) {
			im.skipped++;
			report(&im, "skipped", rec.line, NULL, rec.reason);
		} else {
			im.rejected++;
			report(&im, "rejected", rec.line, NULL, rec.reason);
		}
		import_rec_clear(&rec);
		if (status != 0)
			goto out;
		progress(&im, false);
	}
	if (rv < 0)
		stopped = err;
	status = flush(&im);
	if (status != 0)
		goto out;
	progress(&im, true);
	summary(&im, stopped);
	if (stopped != NULL)
		status = cli_fail(a, "%s", stopped);
	else if (im.rejected > 0 || im.duplicates > 0 || im.suppressed > 0)
		status = CLI_EXIT_FAIL;
out:
	progress_clear(&im);
	import_rec_clear(&rec);
	batch_free(&im);
	free(im.items);
	free(im.sizes);
	if (rd->close != NULL)
		rd->close(im.src);
	if (im.client != NULL)
		carta_close(im.client);
	return status;
}

int cmd_import_csv(const cli_args *a)
{
	int key = upsert_key(a->upsert_by);
	return run_import(a, &import_csv_reader, key,
			  key != CARTA__V1__UPSERT_KEY__UPSERT_NONE);
}

/* Purchases land on the card of their customer key, made when missing. */
int cmd_import_purchases(const cli_args *a)
{
	return run_import(a, &import_purchases_reader,
			  CARTA__V1__UPSERT_KEY__UPSERT_EXTERNAL_ID, true);
}

int cmd_import_vcard(const cli_args *a)
{
	int key = upsert_key(a->upsert_by);
	return run_import(a, &import_vcard_reader, key,
			  key != CARTA__V1__UPSERT_KEY__UPSERT_NONE);
}

int cmd_import_json(const cli_args *a)
{
	int key = upsert_key(a->upsert_by);
	return run_import(a, &import_json_reader, key,
			  key != CARTA__V1__UPSERT_KEY__UPSERT_NONE);
}
