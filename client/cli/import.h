/* Reading customer records from files for 'carta import': each reader
 * (CSV, purchases CSV, vCard, JSON lines) turns a file into a sequence of
 * records, each a card to send or a reason it cannot be one. The import
 * command batches the cards, sends them and accounts for every record.
 *
 * Readers validate what only the file can tell (encoding, quoting, dates
 * whose order is ambiguous, columns); the server validates the values
 * themselves and may still reject a record. */
#ifndef CARTA_CLI_IMPORT_H
#define CARTA_CLI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "carta.pb-c.h"

#define IMPORT_REASON_MAX 256

/* One record read from a file. */
typedef struct {
	unsigned long line;  /* the record's first line in the file */
	unsigned long lines; /* source rows it stands for (a purchases
				invoice groups several; 1 otherwise) */
	/* The card to send (owned: free with carta__v1__card__free_unpacked),
	 * or NULL when the record is rejected (reason says why) or skipped. */
	Carta__V1__Card *card;
	bool skipped; /* left out on purpose (reason says why), not an error */
	char reason[IMPORT_REASON_MAX]; /* "column 4 (Birthday): ..." */
	/* Something the reader left out of an accepted record, for the
	 * summary ("PHOTO skipped"), or the columns it ignores; owned, NULL
	 * when nothing. */
	char *note;
} import_rec;

/* Frees rec's card and note and clears it for the next record. */
void import_rec_clear(import_rec *rec);

/* Adds text to rec's note, after "; " when it has one. Returns 0, or -1
 * when memory ran out (the note is then as it was). */
int import_rec_note(import_rec *rec, const char *text);

/* The options every reader may take (NULL or 0 when not given). */
typedef struct {
	const char *mapping;	 /* --mapping FILE */
	const char *encoding;	 /* --encoding NAME */
	char delimiter;		 /* --delimiter, 0: detect */
	const char *date_format; /* --date-format, e.g. "DD/MM/YYYY" */
	const char *currency;	 /* --currency, for purchases */
} import_opts;

/* A reader. open returns 0, or -1 with a message in err naming the file
 * and, where it applies, line and column. next returns 1 with *rec
 * filled (cleared first), 0 at the end, or -1 on an error that stops the
 * whole file (err says why, with line and column: invalid UTF-8, an
 * unterminated quote); records already returned stand. close frees
 * everything (NULL is a no-op). bytes_read/bytes_total feed the progress
 * bar (bytes_total 0 when unknown, e.g. a pipe). */
typedef struct import_src import_src;
typedef struct {
	const char *name; /* "csv", "purchases", "vcard", "json" */
	int (*open)(const char *path, const import_opts *o, import_src **out,
		    char *err, size_t errlen);
	int (*next)(import_src *s, import_rec *rec, char *err, size_t errlen);
	void (*progress)(import_src *s, unsigned long long *bytes_read,
			 unsigned long long *bytes_total);
	void (*close)(import_src *s);
} import_reader;

extern const import_reader import_csv_reader;	    /* import_csv.c */
extern const import_reader import_purchases_reader; /* import_csv.c */
extern const import_reader import_vcard_reader;	    /* vcard.c */
extern const import_reader import_json_reader;	    /* import_json.c */

#endif
