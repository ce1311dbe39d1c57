/* A CSV file as a sequence of rows, for the import readers: loads the
 * file, converts it to UTF-8 (a named encoding, or UTF-8 with or without
 * a BOM), finds the delimiter and splits rows with libcsv, keeping track
 * of the physical line where each row starts.
 *
 * The whole file is held in memory (plus a converted copy when an
 * encoding is named): import files are read once, and a file in memory
 * lets a reader look at a column twice (date order) and group rows. */
#ifndef CARTA_CLI_CSV_TABLE_H
#define CARTA_CLI_CSV_TABLE_H

#include <stddef.h>

/* Files larger than this are refused at open. */
#define CSV_TABLE_MAX_BYTES (512u * 1024u * 1024u)
/* Fields kept of one row: a row with more comes with these and its count
 * of cells, for the reader to reject it. */
#define CSV_TABLE_MAX_FIELDS 4096

typedef struct csv_table csv_table;

/* One row; fields (n of them, NUL-terminated, trimmed of white space) are
 * owned by the table and valid until the next csv_table_next or
 * csv_table_rewind. n is 0 for a blank line. cells is the row's count of
 * cells: more than n when it has more than CSV_TABLE_MAX_FIELDS, of which
 * only the first are kept. */
typedef struct {
	char **fields;
	size_t n;
	size_t cells;
	unsigned long line; /* physical line where the row starts */
} csv_row;

/* Opens path ("-" is standard input). encoding NULL or "" means UTF-8
 * (a BOM is skipped; a UTF-16 or UTF-32 BOM is refused, naming the
 * encoding to pass); any other name goes through iconv. delimiter 0
 * means detect it from the first line: the most frequent of comma,
 * semicolon and tab outside quotes (comma on a tie or when none).
 * Returns 0 and *out (free with csv_table_close), or -1 with a message
 * naming the file in err. */
int csv_table_open(const char *path, const char *encoding, char delimiter,
		   csv_table **out, char *err, size_t errlen);

/* The next row: 1 with *row filled, 0 at the end, -1 on an error that
 * stops the file (bytes that are not UTF-8, a quote left open, broken
 * quoting), with "line L, column C: ..." in err (for a quote left open,
 * where it opens). After -1 every call returns -1 again. */
int csv_table_next(csv_table *t, csv_row *row, char *err, size_t errlen);

/* Back to the first row, to read the file again. */
void csv_table_rewind(csv_table *t);

/* The delimiter in use. */
char csv_table_delimiter(const csv_table *t);

/* Bytes of the file consumed so far and its size (0 for a pipe). */
void csv_table_progress(const csv_table *t, unsigned long long *done,
			unsigned long long *total);

/* Frees everything; NULL is a no-op. */
void csv_table_close(csv_table *t);

#endif
