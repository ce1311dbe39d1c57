/* carta import: reads records with an import_reader, sends them to the
 * server in batches (each applied atomically there) and accounts for every
 * record: created, updated, unchanged, rejected or skipped, with the line
 * and the reason of each one that did not land. */
#include <signal.h>
#include <stdint.h>
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
	char *text; /* owned */
	unsigned long count;
} import_note;

typedef struct {
	const cli_args *a;
	const char *path;
	carta_client *client;
	int upsert_by;
	bool create_missing;

	/* every record read, then the order to send them in and the group
	 * (first record) of each */
	import_rec *recs;
	size_t nrecs, caprecs;
	size_t *order, *group;
	size_t norder;

	/* the batch being filled */
	Carta__V1__ImportItem **items;
	size_t nitems;
	size_t bytes;
	unsigned long sent, to_send; /* records, for the progress bar */

	/* the tally */
	unsigned long records, rows, created, updated, unchanged, rejected;
	unsigned long skipped, added, present, duplicates, suppressed;
	unsigned long phones_left_out; /* --skip-bad-phones */
	size_t not_sent;	       /* records an interruption kept back */
	import_note notes[NOTES_MAX];
	size_t nnotes;

	/* progress */
	bool bar, plain;
	struct timespec start, last;
	const import_reader *rd;
	import_src *src;
	bool bar_shown;
	bool sending; /* reading the file done: progress counts records */
} importer;

void import_rec_clear(import_rec *rec)
{
	if (rec->card != NULL)
		carta__v1__card__free_unpacked(rec->card, NULL);
	free(rec->note);
	memset(rec, 0, sizeof(*rec));
}

int import_rec_note(import_rec *rec, const char *text)
{
	size_t old = rec->note != NULL ? strlen(rec->note) : 0;
	size_t add = strlen(text);
	char *n = realloc(rec->note, old + 2 + add + 1);

	if (n == NULL)
		return -1;
	if (old > 0)
		memcpy(n + old, "; ", 2);
	memcpy(n + (old > 0 ? old + 2 : 0), text, add + 1);
	rec->note = n;
	return 0;
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
	/* The lines already reported go out first: where both streams
	 * share a pipe, a progress line never splits one. */
	fflush(stdout);
	unsigned long count = im->sending ? im->sent : im->records;
	if (im->sending) {
		done = im->sent;
		total = im->to_send;
	} else if (im->rd->progress != NULL) {
		im->rd->progress(im->src, &done, &total);
	}

	double elapsed = seconds_since(&im->start);
	double rate = elapsed > 0 ? (double)count / elapsed : 0;
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
		fprintf(stderr, "\r%s [%s] %3d%% %lu records %.0f/s left %s ",
			im->sending ? "sending" : "reading", bar,
			(int)(frac * 100), count, rate, left);
		im->bar_shown = true;
	} else {
		fprintf(stderr,
			"progress: %s %lu records (%d%%), %.0f/s, left %s\n",
			im->sending ? "sent" : "read", count, (int)(frac * 100),
			rate, left);
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

/* Counts a record's note for the summary; the first NOTES_MAX kinds are
 * kept (a copy of text that fails for lack of memory is not). */
static void note(importer *im, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	for (size_t i = 0; i < im->nnotes; i++) {
		if (strcmp(im->notes[i].text, text) == 0) {
			im->notes[i].count++;
			return;
		}
	}
	if (im->nnotes < NOTES_MAX) {
		im->notes[im->nnotes].text = strdup(text);
		if (im->notes[im->nnotes].text != NULL)
			im->notes[im->nnotes++].count = 1;
	}
}

/* Prints "  note: TEXT (COUNT)", the text wrapped at spaces to lines of
 * about 80 columns, each after the first indented: a note can list every
 * column of a wide file. */
static void print_note(const char *text, unsigned long count)
{
	const size_t width = 80, indent = 8;
	size_t col = strlen("  note:");

	fputs("  note:", stdout);
	while (*text != '\0') {
		size_t word = strcspn(text, " "), chars = 0;

		for (size_t k = 0; k < word; k++)
			chars += ((unsigned char)text[k] & 0xC0) != 0x80;
		if (col + 1 + chars > width && col > indent) {
			printf("\n%*s", (int)indent, "");
			col = indent;
		} else {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)word, text);
		col += chars;
		text += word;
		while (*text == ' ')
			text++;
	}
	printf(" (%lu)\n", count);
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
		if (o != NULL && a->skip_bad_phones)
			json_object_set_new(
			    o, "phones_left_out",
			    json_integer((json_int_t)im->phones_left_out));
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
	printf("%s %s: %lu record%s", a->dry_run ? "Dry run of" : "Imported",
	       cli_safe(im->path), im->records, im->records == 1 ? "" : "s");
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
	if (im->phones_left_out)
		printf("  phones left out %lu (not valid numbers; their cards "
		       "went on without them)\n",
		       im->phones_left_out);
	if (im->added || im->present)
		printf("  purchases, interactions and notes added %lu; "
		       "purchases already there %lu\n",
		       im->added, im->present);
	for (size_t i = 0; i < im->nnotes; i++)
		print_note(cli_safe(im->notes[i].text), im->notes[i].count);
	if (stopped != NULL)
		printf("  stopped: %s\n", cli_safe(stopped));
	if (a->dry_run)
		printf("  nothing was written (--dry-run)\n");
	/* The rate of the records dealt with: an interruption leaves some
	 * unsent. */
	double s = seconds_since(&im->start);
	double done = (double)(im->records - im->not_sent);
	printf("  %.1f s, %.0f records/s\n", s, s > 0 ? done / s : 0);
}

/* With --json, every record that landed is a line too: a script learns
 * the number of each card it created or updated. */
static void landed(importer *im, const Carta__V1__ImportOutcome *o)
{
	static const char *const kinds[] = {
	    [CARTA__V1__IMPORT_OUTCOME__KIND__CREATED] = "created",
	    [CARTA__V1__IMPORT_OUTCOME__KIND__UPDATED] = "updated",
	    [CARTA__V1__IMPORT_OUTCOME__KIND__UNCHANGED] = "unchanged",
	};

	if (!im->a->json || o->kind < 1 || o->kind > 3)
		return;
	json_t *j = json_pack("{s:s, s:I, s:s}", "outcome", kinds[o->kind],
			      "line", (json_int_t)o->line, "number", o->number);
	if (j != NULL && (o->items_added || o->items_present)) {
		json_object_set_new(j, "items_added",
				    json_integer(o->items_added));
		json_object_set_new(j, "items_present",
				    json_integer(o->items_present));
	}
	cli_print_json(im->a, j);
}

/* A record not created because it looks like existing cards. */
static void duplicate(importer *im, const Carta__V1__ImportOutcome *o)
{
	char why[512] = "";
	size_t n = 0;

	for (size_t i = 0; i < o->n_duplicates && n < sizeof(why) - 1; i++) {
		const Carta__V1__DuplicateCandidate *d = o->duplicates[i];
		int w =
		    snprintf(why + n, sizeof(why) - n, "%slooks like %s (%.3f)",
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
		landed(im, o);
		/* A record that landed says which phones it left out. */
		if (o->kind >= CARTA__V1__IMPORT_OUTCOME__KIND__CREATED &&
		    o->kind <= CARTA__V1__IMPORT_OUTCOME__KIND__UNCHANGED &&
		    o->message[0] != '\0') {
			im->phones_left_out += o->phones_left_out;
			report(im, "note", (unsigned long)o->line, NULL,
			       o->message);
		}
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

static void batch_free(importer *im)
{
	for (size_t i = 0; i < im->nitems; i++) {
		/* The cards belong to the records: only the items go. */
		im->items[i]->card = NULL;
		free(im->items[i]);
	}
	im->nitems = 0;
	im->bytes = 0;
}

static int flush(importer *im)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__ImportRequest body = CARTA__V1__IMPORT_REQUEST__INIT;
	cli_handler h = {.each = tally, .ud = im};

	if (im->nitems == 0)
		return 0;
	body.items = im->items;
	body.n_items = im->nitems;
	body.upsert_by = (Carta__V1__UpsertKey)im->upsert_by;
	body.dry_run = im->a->dry_run;
	body.create_missing = im->create_missing;
	body.force = im->a->force;
	body.skip_bad_phones = im->a->skip_bad_phones;
	req.body_case = CARTA__V1__REQUEST__BODY_IMPORT;
	req.import = &body;
	progress_clear(im);
	int status = cli_call(im->a, &im->client, &req, &h);
	im->sent += im->nitems;
	batch_free(im);
	progress(im, false);
	return status;
}

/* Adds record r to the batch (its card stays the record's). */
static int batch_add(importer *im, import_rec *r, size_t size)
{
	Carta__V1__ImportItem *item = malloc(sizeof(*item));

	if (item == NULL)
		return cli_fail(im->a, "out of memory");
	carta__v1__import_item__init(item);
	item->line = r->line;
	item->card = r->card;
	im->items[im->nitems++] = item;
	im->bytes += size;
	return 0;
}

/* ---- grouping: records that may touch one card travel together -------- */

typedef struct {
	char *key;
	size_t rec;
} keyed;

static size_t find_root(size_t *parent, size_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

static int cmp_keyed(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->rec > y->rec) - (x->rec < y->rec);
}

static int push_key(keyed **keys, size_t *n, size_t *cap, const char *kind,
		    const char *value, size_t rec)
{
	if (value == NULL || value[0] == '\0')
		return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		keyed *grown = realloc(*keys, ncap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		*keys = grown;
		*cap = ncap;
	}
	size_t len = strlen(kind) + strlen(value) + 2;
	char *k = malloc(len);
	if (k == NULL)
		return -1;
	snprintf(k, len, "%s:%s", kind, value);
	/* Emails are one whatever the case of their letters. */
	for (char *p = k; *p; p++)
		if (*p >= 'A' && *p <= 'Z' && strcmp(kind, "e") == 0)
			*p = (char)(*p - 'A' + 'a');
	(*keys)[(*n)++] = (keyed){k, rec};
	return 0;
}

/* The digits of a phone number, the last nine: formats differ, the
 * subscriber number does not. */
static void phone_digits(const char *in, char out[16])
{
	char all[64];
	size_t n = 0;
	for (; *in && n < sizeof(all) - 1; in++)
		if (*in >= '0' && *in <= '9')
			all[n++] = *in;
	size_t keep = n > 9 ? 9 : n;
	memcpy(out, all + n - keep, keep);
	out[keep] = '\0';
}

/* Orders the records to send so that records sharing an external id, a
 * number, an email or a phone are adjacent (in file order within, groups
 * in the order of their first record): each such group goes in one batch
 * where it fits. A batch is applied in one transaction, so a record sees
 * what the records before it in its batch did, in a dry run too, whose
 * batches are each rolled back. */
static int group_records(importer *im)
{
	keyed *keys = NULL;
	size_t nkeys = 0, capkeys = 0;
	size_t *parent = calloc(im->nrecs + 1, sizeof(*parent));
	size_t *root = calloc(im->nrecs + 1, sizeof(*root));
	int rv = -1;

	im->order = calloc(im->nrecs + 1, sizeof(*im->order));
	if (parent == NULL || root == NULL || im->order == NULL)
		goto out;
	for (size_t i = 0; i < im->nrecs; i++) {
		parent[i] = i;
		const Carta__V1__Card *c = im->recs[i].card;
		if (c == NULL)
			continue;
		if (c->identity != NULL &&
		    (push_key(&keys, &nkeys, &capkeys, "x",
			      c->identity->external_id, i) != 0 ||
		     push_key(&keys, &nkeys, &capkeys, "n", c->identity->number,
			      i) != 0))
			goto out;
		for (size_t k = 0; c->contact && k < c->contact->n_emails; k++)
			if (push_key(&keys, &nkeys, &capkeys, "e",
				     c->contact->emails[k]->address, i) != 0)
				goto out;
		for (size_t k = 0; c->contact && k < c->contact->n_phones;
		     k++) {
			char d[16];
			phone_digits(c->contact->phones[k]->number, d);
			if (push_key(&keys, &nkeys, &capkeys, "p", d, i) != 0)
				goto out;
		}
	}
	if (nkeys > 0)
		qsort(keys, nkeys, sizeof(*keys), cmp_keyed);
	for (size_t i = 1; i < nkeys; i++) {
		if (strcmp(keys[i].key, keys[i - 1].key) != 0)
			continue;
		size_t a = find_root(parent, keys[i - 1].rec);
		size_t b = find_root(parent, keys[i].rec);
		/* The root is the group's first record. */
		if (a < b)
			parent[b] = a;
		else if (b < a)
			parent[a] = b;
	}
	for (size_t i = 0; i < im->nrecs; i++)
		root[i] = find_root(parent, i);

	/* The root of a group is its first record, and has a card (its keys
	 * made the group): chain each group's records in file order (parent
	 * now links a record to the next of its group, tail to the last),
	 * then walk the groups in the order of their roots. */
	size_t *tail = calloc(im->nrecs + 1, sizeof(*tail));
	if (tail == NULL)
		goto out;
	for (size_t i = 0; i < im->nrecs; i++) {
		parent[i] = SIZE_MAX;
		if (im->recs[i].card == NULL)
			continue;
		if (root[i] != i)
			parent[tail[root[i]]] = i;
		tail[root[i]] = i;
	}
	for (size_t r = 0; r < im->nrecs; r++)
		if (root[r] == r && im->recs[r].card != NULL)
			for (size_t i = r; i != SIZE_MAX; i = parent[i])
				im->order[im->norder++] = i;
	free(tail);
	rv = 0;
out:
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i].key);
	free(keys);
	free(parent);
	if (rv == 0) {
		free(im->group);
		im->group = root;
	} else {
		free(root);
	}
	return rv;
}

/* Ctrl-C (or SIGTERM) while sending: the batch in flight finishes, as
 * the server applies it whole or not at all; then the import stops and
 * says what was applied. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

#define SEND_INTERRUPTED (-100)

/* Sends the records in their order, a group never split across two
 * batches unless it alone is larger than one. Interrupted, it sends
 * nothing more: the records not sent are counted in im->not_sent. */
static int send_all(importer *im)
{
	int status = 0;
	size_t i;

	for (i = 0; status == 0 && !interrupted && i < im->norder; i++) {
		import_rec *r = &im->recs[im->order[i]];
		Carta__V1__ImportItem probe = CARTA__V1__IMPORT_ITEM__INIT;
		probe.line = r->line;
		probe.card = r->card;
		size_t size =
		    carta__v1__import_item__get_packed_size(&probe) + 8;
		if (size > REQUEST_BYTES_MAX) {
			im->rejected++;
			report(im, "rejected", r->line, NULL,
			       "the record is too large to send (over 64 KB "
			       "encoded): a field of it is far too long");
			continue;
		}

		/* The size of the group starting here, when it starts. */
		bool starts = i == 0 || im->group[im->order[i]] !=
					    im->group[im->order[i - 1]];
		size_t group_n = 0, group_bytes = 0;
		for (size_t j = i;
		     starts && j < im->norder &&
		     im->group[im->order[j]] == im->group[im->order[i]];
		     j++) {
			Carta__V1__ImportItem p = CARTA__V1__IMPORT_ITEM__INIT;
			p.card = im->recs[im->order[j]].card;
			group_n++;
			group_bytes +=
			    carta__v1__import_item__get_packed_size(&p) + 8;
		}
		bool fits =
		    im->nitems + (starts ? group_n : 1) <= BATCH_RECORDS &&
		    im->bytes + (starts ? group_bytes : size) <= BATCH_BYTES;
		if (!fits || im->nitems == BATCH_RECORDS ||
		    im->bytes + size > BATCH_BYTES)
			status = flush(im);
		if (status == 0)
			status = batch_add(im, r, size);
	}
	if (status == 0 && interrupted) {
		im->not_sent = im->norder - i + im->nitems;
		batch_free(im);
		return SEND_INTERRUPTED;
	}
	if (status == 0)
		status = flush(im);
	return status;
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
	if (a->update_only && a->upsert_by == NULL &&
	    strcmp(a->cmd->name, "purchases") != 0) {
		snprintf(err, errlen, "--update-only needs --upsert-by");
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

static void recs_free(importer *im)
{
	for (size_t i = 0; i < im->nrecs; i++)
		import_rec_clear(&im->recs[i]);
	free(im->recs);
	free(im->order);
	free(im->group);
	im->recs = NULL;
	im->order = NULL;
	im->group = NULL;
	im->nrecs = im->caprecs = im->norder = 0;
}

/* Reads every record of the file first: an error that stops the file
 * (bad bytes, an unterminated quote) stops it before anything is sent,
 * and records can be grouped by the card they touch. */
static int read_all(importer *im, char *err, size_t errlen)
{
	import_rec rec;
	int rv;

	memset(&rec, 0, sizeof(rec));
	while ((rv = im->rd->next(im->src, &rec, err, errlen)) == 1) {
		if (im->nrecs == im->caprecs) {
			size_t ncap = im->caprecs ? im->caprecs * 2 : 1024;
			import_rec *grown =
			    realloc(im->recs, ncap * sizeof(*grown));
			if (grown == NULL) {
				import_rec_clear(&rec);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			im->recs = grown;
			im->caprecs = ncap;
		}
		im->recs[im->nrecs++] = rec;
		memset(&rec, 0, sizeof(rec));

		import_rec *r = &im->recs[im->nrecs - 1];
		im->records++;
		im->rows += r->lines ? r->lines : 1;
		note(im, r->note);
		if (r->card == NULL && r->skipped) {
			im->skipped++;
			report(im, "skipped", r->line, NULL, r->reason);
		} else if (r->card == NULL) {
			im->rejected++;
			report(im, "rejected", r->line, NULL, r->reason);
		}
		progress(im, false);
	}
	return rv;
}

static int run_import(const cli_args *a, const import_reader *rd, int upsert_by,
		      bool create_missing)
{
	importer im = {.a = a,
		       .path = a->pos[0],
		       .upsert_by = upsert_by,
		       .create_missing = create_missing && !a->update_only,
		       .rd = rd};
	import_opts o = {.mapping = a->mapping,
			 .encoding = a->encoding,
			 .delimiter = (char)delimiter(a->delimiter),
			 .date_format = a->date_format,
			 .currency = a->currency};
	char err[CLI_ERR_MAX] = "";
	int status = 0;

	im.items = calloc(BATCH_RECORDS, sizeof(*im.items));
	if (im.items == NULL)
		return cli_fail(a, "out of memory");
	if (rd->open == NULL ||
	    rd->open(im.path, &o, &im.src, err, sizeof(err)) != 0) {
		free(im.items);
		return cli_fail(a, "%s",
				err[0] ? err : "cannot read this kind of file");
	}
	im.bar = !a->json && (isatty(STDERR_FILENO) || a->progress);
	im.plain = !im.bar && !a->json;
	clock_gettime(CLOCK_MONOTONIC, &im.start);
	im.last = im.start;

	/* 1. Read the whole file; a stop here sends nothing, so there are
	 * no counts to sum up: the stop is said once, naming the file (the
	 * reader names line and column). */
	if (read_all(&im, err, sizeof(err)) < 0) {
		char *stopped = NULL;
		size_t n = strlen(im.path) + strlen(err) + 32;

		progress_clear(&im);
		stopped = malloc(n);
		if (stopped == NULL) {
			status = cli_fail(a, "out of memory");
			goto out;
		}
		snprintf(stopped, n, "%s: %s; nothing was imported", im.path,
			 err);
		if (a->json) {
			json_t *js = json_pack("{s:s, s:b}", "summary", im.path,
					       "dry_run", a->dry_run);
			if (js != NULL)
				json_object_set_new(js, "stopped",
						    cli_json_str(stopped));
			cli_print_json(a, js);
		}
		status = cli_fail(a, "%s", cli_safe(stopped));
		free(stopped);
		goto out;
	}
	if (group_records(&im) != 0) {
		status = cli_fail(a, "out of memory");
		goto out;
	}

	/* 2. Send them. */
	status = cli_open(a, &im.client);
	if (status != 0)
		goto out;
	im.sending = true;
	im.to_send = im.norder;
	struct sigaction sa = {.sa_handler = on_interrupt}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	status = send_all(&im);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	progress(&im, true);
	if (status == SEND_INTERRUPTED) {
		char why[160];

		snprintf(why, sizeof(why),
			 "interrupted: the batches sent before were %s; "
			 "%zu records were not sent",
			 a->dry_run ? "checked" : "applied", im.not_sent);
		summary(&im, why);
		status = CLI_EXIT_FAIL;
		goto out;
	}
	if (status != 0) {
		/* What the server applied stands: say what it was. */
		summary(&im, "the server refused a batch (above); the batches "
			     "before it were applied");
		goto out;
	}
	summary(&im, NULL);
	if (im.rejected > 0 || im.duplicates > 0 || im.suppressed > 0)
		status = CLI_EXIT_FAIL;
out:
	progress_clear(&im);
	batch_free(&im);
	free(im.items);
	recs_free(&im);
	for (size_t i = 0; i < im.nnotes; i++)
		free(im.notes[i].text);
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
