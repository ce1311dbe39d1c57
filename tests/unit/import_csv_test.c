/* The CSV readers of carta import: encodings, delimiters, quoting, line
 * numbers, header mapping, dates, and every row of the sample files
 * accounted for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "import.h"

static char dir[64];

static const char *write_file(const char *name, const char *data, size_t n)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return path;
}

#define WRITE(name, lit) write_file(name, lit, sizeof(lit) - 1)

/* Reads every record; keeps the first 16 (cards owned by the caller). */
typedef struct {
	int rv;	       /* of the last next(), or of open */
	char err[512]; /* as the CLI gives (CLI_ERR_MAX) */
	size_t n, cards, rejected, skipped, refunds;
	unsigned long lines;
	import_rec rec[16];
	Carta__V1__Card *watched; /* the purchase of invoice 'watch' */
	unsigned long watched_line;
} result;

static const char *watch;

static void run(const import_reader *r, const char *path, const import_opts *o,
		result *res)
{
	import_src *s = NULL;
	import_rec rec;
	import_opts none = {0};

	memset(res, 0, sizeof *res);
	memset(&rec, 0, sizeof rec);
	res->rv = r->open(path, o ? o : &none, &s, res->err, sizeof res->err);
	if (res->rv != 0)
		return;
	while ((res->rv = r->next(s, &rec, res->err, sizeof res->err)) == 1) {
		if (rec.card) {
			res->cards++;
			for (size_t i = 0; i < rec.card->n_purchases; i++)
				res->refunds += rec.card->purchases[i]->refund;
		} else if (rec.skipped)
			res->skipped++;
		else
			res->rejected++;
		res->lines += rec.lines;
		if (watch && rec.card && rec.card->n_purchases &&
		    strcmp(rec.card->purchases[0]->invoice, watch) == 0) {
			res->watched = rec.card;
			res->watched_line = rec.line;
			rec.card = NULL;
		}
		if (res->n < 16) {
			res->rec[res->n] = rec;
			rec.card = NULL;
			rec.note = NULL;
		}
		res->n++;
		import_rec_clear(&rec);
	}
	unsigned long long done, total;
	r->progress(s, &done, &total);
	if (res->rv == 0)
		assert_true(done == total);
	r->close(s);
}

static void result_free(result *res)
{
	for (size_t i = 0; i < res->n && i < 16; i++)
		import_rec_clear(&res->rec[i]);
	if (res->watched)
		carta__v1__card__free_unpacked(res->watched, NULL);
	res->watched = NULL;
}

static const char *given(const result *res, size_t i)
{
	const Carta__V1__Card *c = res->rec[i].card;

	return c && c->identity ? c->identity->given_name : "(none)";
}

static void test_bom_and_note(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("bom.csv", "\xEF\xBB\xBF"
			     "First Name,Last Name,Website,Index\n"
			     "Ana,Ruiz,http://x,1\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_string_equal(given(&r, 0), "Ana");
	assert_string_equal(r.rec[0].card->identity->family_name, "Ruiz");
	assert_string_equal(r.rec[0].note, "ignored columns: Website, Index");
	assert_int_equal(r.rec[0].line, 2);
	result_free(&r);
}

/* Joined and copied values are never cut: a street of 190 euro signs
 * (570 bytes), two streets joined past 512 bytes, a long status, a full
 * name split after byte 256, a long purchase description; a value no
 * card field can hold is rejected with its real length. */
static void test_long_values(void **state)
{
	static char big[2100000];
	char euros[190 * 3 + 1], e300[300 * 2 + 1], want[2 * 600 + 32];
	result r;
	size_t n;
	(void)state;

	for (size_t i = 0; i < 190; i++)
		memcpy(euros + 3 * i, "\xE2\x82\xAC", 3);
	euros[190 * 3] = '\0';
	for (size_t i = 0; i < 300; i++)
		memcpy(e300 + 2 * i, "\xC3\xA9", 2);
	e300[300 * 2] = '\0';

	n = (size_t)snprintf(
	    big, sizeof big,
	    "given_name,family_name,street,status\n"
	    "Ana,Ruiz,%s,Gold Member Since The Very First Day\n",
	    euros);
	run(&import_csv_reader, write_file("euro.csv", big, n), NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.rec[0].card->contact->addresses[0]->street,
			    euros);
	assert_string_equal(r.rec[0].card->identity->status,
			    "gold member since the very first day");
	result_free(&r);

	n = (size_t)snprintf(big, sizeof big,
			     "First Name,Home Address,Home Address 2\n"
			     "Ana,%s,%s\n",
			     e300, e300);
	run(&import_csv_reader, write_file("two.csv", big, n), NULL, &r);
	assert_int_equal(r.rv, 0);
	snprintf(want, sizeof want, "%s, %s", e300, e300);
	assert_string_equal(r.rec[0].card->contact->addresses[0]->street, want);
	result_free(&r);

	n = (size_t)snprintf(big, sizeof big, "Name\nAna %s Ruiz\n", e300);
	run(&import_csv_reader, write_file("full.csv", big, n), NULL, &r);
	assert_int_equal(r.rv, 0);
	snprintf(want, sizeof want, "Ana %s", e300);
	assert_string_equal(r.rec[0].card->identity->given_name, want);
	assert_string_equal(r.rec[0].card->identity->family_name, "Ruiz");
	result_free(&r);

	/* 2,000,000 characters: rejected, with that length. */
	n = (size_t)snprintf(big, sizeof big, "given_name,street\nAna,");
	memset(big + n, 'x', 2000000);
	n += 2000000;
	memcpy(big + n, "\nBea,Calle 1\n", 13);
	n += 13;
	run(&import_csv_reader, write_file("huge.csv", big, n), NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_int_equal(r.rejected, 1);
	assert_string_equal(r.rec[0].reason,
			    "column 2 (street): is 2000000 characters long; no "
			    "card field holds more than 65536 bytes");
	assert_string_equal(given(&r, 1), "Bea");
	result_free(&r);

	/* The product of an invoice names its first item in full. */
	import_opts o = {.currency = "EUR"};
	n = (size_t)snprintf(big, sizeof big,
			     "invoice,code,description,quantity,unit_price,"
			     "customer\n"
			     "7,A,%s%s,1,1.00,5\n"
			     "7,B,Cup,1,1.00,5\n",
			     e300, e300);
	run(&import_purchases_reader, write_file("desc.csv", big, n), &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	snprintf(want, sizeof want, "%s%s and 1 more item", e300, e300);
	assert_string_equal(r.rec[0].card->purchases[0]->product, want);
	result_free(&r);
}

/* The first record's note names every ignored column, however many; a
 * note of the record itself comes after it. */
static void test_every_ignored_column_noted(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("wide.csv", "Index,First Name,Subscription Date,Website,"
			      "Loyalty Programme Membership Level,"
			      "Preferred Store Opening Hours,Fax,Birth Year,"
			      "Notes\n"
			      "1,Ana,2020-01-01,http://x,gold,9-5,1,1990,n\n"
			      "2,Bea,,,,,,,\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_string_equal(r.rec[0].note,
			    "ignored columns: Index, Subscription Date, "
			    "Website, Loyalty Programme Membership Level, "
			    "Preferred Store Opening Hours, Fax, Notes; "
			    "incomplete birth date left out");
	assert_null(r.rec[1].note);
	result_free(&r);
}

static void test_semicolon_and_tab(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("semi.csv", "given_name;family_name;company\n"
			      "Ana;Ruiz;\"Acme; Sons\"\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.rec[0].card->identity->company, "Acme; Sons");
	result_free(&r);

	run(&import_csv_reader,
	    WRITE("tab.csv", "given_name\tfamily_name\tcompany\n"
			     "Ana\tRuiz, Gil\tAcme\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.rec[0].card->identity->family_name, "Ruiz, Gil");
	assert_string_equal(r.rec[0].card->identity->company, "Acme");
	result_free(&r);
}

static void test_quotes_newlines_crlf(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("q.csv", "given_name,family_name,street\r\n"
			   "\"Ana \"\"the\"\" one\",Ruiz,\"Calle 1\r\n"
			   "Piso 2\"\r\n"
			   "Bea,Gil,\"a,\n\nb\"\r\n"
			   "Carla,Paz,x\r\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 3);
	assert_string_equal(given(&r, 0), "Ana \"the\" one");
	assert_string_equal(r.rec[0].card->contact->addresses[0]->street,
			    "Calle 1\r\nPiso 2");
	assert_int_equal(r.rec[0].line, 2);
	assert_int_equal(r.rec[1].line, 4);
	assert_string_equal(r.rec[1].card->contact->addresses[0]->street,
			    "a,\n\nb");
	assert_int_equal(r.rec[2].line, 7);
	assert_string_equal(given(&r, 2), "Carla");
	result_free(&r);
}

/* Old Macintosh files end lines with a CR alone: each is a line end,
 * for rows, line numbers and the delimiter; a CR or LF inside quotes
 * stays in the field. */
static void test_cr_line_ends(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("cr.csv", "given_name,family_name,email\r"
			    "A,B,cr1@example.com\r"
			    "C,D,cr2@example.com\r"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.cards, 2);
	assert_string_equal(given(&r, 0), "A");
	assert_int_equal(r.rec[0].line, 2);
	assert_string_equal(r.rec[1].card->contact->emails[0]->address,
			    "cr2@example.com");
	assert_int_equal(r.rec[1].line, 3);
	result_free(&r);

	/* Semicolons found on the first line only; a quoted CR kept; an
	 * empty last cell; a blank line; no end on the last line. */
	run(&import_csv_reader,
	    WRITE("cr2.csv", "given_name;family_name;street;city\r"
			     "Ana;Ruiz;\"Calle 1\rPiso 2\";\r"
			     "\r"
			     "Bea;Gil;x,y;Vic"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.cards, 2);
	assert_int_equal(r.skipped, 1);
	assert_string_equal(r.rec[0].card->contact->addresses[0]->street,
			    "Calle 1\rPiso 2");
	assert_string_equal(r.rec[0].card->contact->addresses[0]->city, "");
	assert_int_equal(r.rec[1].line, 4);
	assert_int_equal(r.rec[2].line, 5);
	assert_string_equal(r.rec[2].card->contact->addresses[0]->street,
			    "x,y");
	result_free(&r);
}

static void test_windows_1252(void **state)
{
	result r;
	import_opts o = {.encoding = "windows-1252"};
	const char *p;
	(void)state;

	p = WRITE("w.csv", "given_name,family_name\nAna,Ruiz\nJos\xE9,P\n");
	run(&import_csv_reader, p, &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_string_equal(given(&r, 1), "Jos\xC3\xA9");
	result_free(&r);

	/* Without the encoding: the first row stands, then the file stops
	 * at the byte. */
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.err, "line 3, column 4: not valid UTF-8 (byte "
				   "0xE9); name the encoding with --encoding");
	result_free(&r);
}

/* A NUL byte stops the file as what it is: no encoding would help. */
static void test_nul_byte(void **state)
{
	static const char data[] =
	    "given_name,family_name\nAna,Ruiz\nJo\0s,P\n";
	result r;
	(void)state;

	run(&import_csv_reader, write_file("nul.csv", data, sizeof data - 1),
	    NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.err, "line 3, column 3: the file holds a NUL "
				   "byte, which no text may contain");
	result_free(&r);
}

static void test_utf16(void **state)
{
	result r;
	import_opts o = {.encoding = "utf-16"};
	/* "given_name\nJosé\n" in UTF-16LE with a BOM. */
	static const char data[] =
	    "\xFF\xFEg\0i\0v\0e\0n\0_\0n\0a\0m\0e\0\n\0J\0o\0s\0\xE9\0\n\0";
	(void)state;

	run(&import_csv_reader, write_file("u16.csv", data, sizeof data - 1),
	    &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_string_equal(given(&r, 0), "Jos\xC3\xA9");
	result_free(&r);
}

/* A UTF-16 file given without --encoding is refused at once, saying
 * what it looks like and what to pass. */
static void test_utf16_without_encoding(void **state)
{
	static const char le[] = "\xFF\xFEg\0i\0v\0e\0n\0_\0n\0a\0m\0e\0\n\0"
				 "A\0n\0a\0\n\0";
	static const char be[] = "\xFE\xFF\0g\0i\0v\0e\0n\0_\0n\0a\0m\0e\0\n"
				 "\0A\0n\0a\0\n";
	char want[256];
	const char *p;
	result r;
	(void)state;

	p = write_file("u16le.csv", le, sizeof le - 1);
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_int_equal(r.n, 0);
	snprintf(want, sizeof want,
		 "%s: looks like UTF-16 (it starts with the byte-order mark "
		 "FF FE): pass --encoding utf-16; nothing was imported",
		 p);
	assert_string_equal(r.err, want);
	result_free(&r);

	p = write_file("u16be.csv", be, sizeof be - 1);
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	snprintf(want, sizeof want,
		 "%s: looks like UTF-16 (it starts with the byte-order mark "
		 "FE FF): pass --encoding utf-16; nothing was imported",
		 p);
	assert_string_equal(r.err, want);
	result_free(&r);

	/* Named, the same file reads. */
	import_opts o = {.encoding = "utf-16"};
	run(&import_csv_reader, p, &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_string_equal(given(&r, 0), "Ana");
	result_free(&r);

	p = write_file("u32.csv", "\xFF\xFE\0\0A\0\0\0", 8);
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	snprintf(want, sizeof want,
		 "%s: looks like UTF-32 (it starts with the byte-order mark "
		 "FF FE 00 00): pass --encoding utf-32; nothing was imported",
		 p);
	assert_string_equal(r.err, want);
	result_free(&r);
}

/* A quote left open at the end of the file stops it at the place where
 * the quote opens, line and column, even when its record began lines
 * before. */
static void test_unclosed_quote(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("open1.csv", "given_name,street\nAna,x\n"
			       "B\xC3\xA9\x61,\"Calle 1\nPiso 2\n"),
	    NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.err, "line 3, column 5: this quote opens a "
				   "field that is never closed");
	result_free(&r);

	run(&import_csv_reader,
	    WRITE("open2.csv", "given_name,street,city\nAna,x,y\n"
			       "Bea,\"a \"\"b\"\"\nc\",\"Vic\n\n"),
	    NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.err, "line 4, column 4: this quote opens a "
				   "field that is never closed");
	result_free(&r);
}

/* A row of more cells than a row may have is rejected with its line and
 * the limit; the rows after it are read. A header that wide refuses the
 * file. */
static void test_row_too_wide(void **state)
{
	static char data[16384];
	import_opts o = {.currency = "EUR"};
	result r;
	size_t n;
	(void)state;

	n = (size_t)snprintf(data, sizeof data,
			     "given_name,family_name\n"
			     "Ana,Ruiz\nBea");
	for (int i = 1; i < 5000; i++)
		data[n++] = ',';
	n += (size_t)snprintf(data + n, sizeof data - n, "\nCarla,Paz\n");
	run(&import_csv_reader, write_file("wide-row.csv", data, n), NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_int_equal(r.rejected, 1);
	assert_int_equal(r.rec[1].line, 3);
	assert_null(r.rec[1].card);
	assert_string_equal(r.rec[1].reason,
			    "5000 fields; a row may have at most 4096");
	assert_string_equal(given(&r, 2), "Carla");
	assert_int_equal(r.rec[2].line, 4);
	result_free(&r);

	/* Purchases: the row is rejected, and its invoice with it. */
	n = (size_t)snprintf(data, sizeof data,
			     "invoice,quantity,unit_price,customer\n"
			     "1,1,1.00,7\n2,1,1.00,8\n2,1,1.00,8");
	for (int i = 4; i < 5000; i++)
		data[n++] = ',';
	n += (size_t)snprintf(data + n, sizeof data - n, "\n");
	run(&import_purchases_reader, write_file("wide-p.csv", data, n), &o,
	    &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_int_equal(r.rejected, 2);
	result_free(&r);

	n = 0;
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(data + n, sizeof data - n, "%s%s",
				      i ? "," : "", i ? "" : "given_name");
	n += (size_t)snprintf(data + n, sizeof data - n, "\nAna\n");
	const char *p = write_file("wide-header.csv", data, n);
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	char want[256];
	snprintf(want, sizeof want,
		 "%s: line 1: the header has 5000 columns; a row may have at "
		 "most 4096",
		 p);
	assert_string_equal(r.err, want);
	result_free(&r);
}

static void test_dates(void **state)
{
	result r;
	import_opts dm = {.date_format = "DD/MM/YYYY"};
	import_opts md = {.date_format = "MM-DD-YYYY"};
	const char *p;
	(void)state;

	p = WRITE("amb.csv", "given_name,birth_date\nAna,03/04/2001\n"
			     "Bea,1990-12-01\n");
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_non_null(strstr(r.err, "line 2, column 2 (birth_date)"));
	assert_non_null(strstr(r.err, "--date-format"));
	result_free(&r);

	run(&import_csv_reader, p, &dm, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_string_equal(r.rec[0].card->demographics->birth_date,
			    "2001-04-03");
	assert_string_equal(r.rec[1].card->demographics->birth_date,
			    "1990-12-01");
	result_free(&r);

	run(&import_csv_reader, p, &md, &r);
	assert_int_equal(r.rv, 0);
	assert_string_equal(r.rec[0].card->demographics->birth_date,
			    "2001-03-04");
	result_free(&r);

	/* 25/04 settles day first for the whole column; 31/02 is no date. */
	p = WRITE("settle.csv", "given_name,Birthday\nAna,03/04/2001\n"
				"Bea,25.04.1999\nCarla,31/02/2020\n");
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_int_equal(r.rejected, 1);
	assert_string_equal(r.rec[0].card->demographics->birth_date,
			    "2001-04-03");
	assert_string_equal(r.rec[1].card->demographics->birth_date,
			    "1999-04-25");
	assert_null(r.rec[2].card);
	assert_int_equal(r.rec[2].line, 4);
	assert_string_equal(r.rec[2].reason,
			    "column 2 (Birthday): 31/02/2020 is not a date");
	result_free(&r);
}

/* A date column has one order for the whole file: values that can only
 * be month first (03/14/2001) and only day first (25/06/1990) refuse the
 * file, naming both lines; with --date-format the rows in the other order
 * are rejected, each with its line. */
static void test_dates_both_ways(void **state)
{
	result r;
	import_opts dm = {.date_format = "DD/MM/YYYY"};
	import_opts md = {.date_format = "MM/DD/YYYY"};
	const char *p;
	char want[256];
	(void)state;

	p = WRITE("both.csv", "given_name,birth_date\nAna,03/14/2001\n"
			      "Bea,25/06/1990\nCarla,1990-12-01\n");
	run(&import_csv_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_int_equal(r.n, 0);
	snprintf(want, sizeof want,
		 "%s: column 2 (birth_date) has dates both ways: 25/06/1990 "
		 "(line 3) can only be day/month and 03/14/2001 (line 2) only "
		 "month/day; pass --date-format DD/MM/YYYY or MM/DD/YYYY",
		 p);
	assert_string_equal(r.err, want);
	result_free(&r);

	run(&import_csv_reader, p, &dm, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_int_equal(r.rejected, 1);
	assert_int_equal(r.rec[0].line, 2);
	assert_string_equal(r.rec[0].reason,
			    "column 2 (birth_date): 03/14/2001 is not a date");
	assert_string_equal(r.rec[1].card->demographics->birth_date,
			    "1990-06-25");
	result_free(&r);

	run(&import_csv_reader, p, &md, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_string_equal(r.rec[0].card->demographics->birth_date,
			    "2001-03-14");
	assert_int_equal(r.rec[1].line, 3);
	assert_string_equal(r.rec[1].reason,
			    "column 2 (birth_date): 25/06/1990 is not a date");
	result_free(&r);
}

static void test_leading_zeros_and_bad_row(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("z.csv", "First Name,Phone,Home Zip,Country\n"
			   "Ana,0034 600 111 222,01234,Spain\n"
			   "Bea,,,Atlantis\n"
			   ",,,\n"
			   "Carla,,08001,es\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.cards, 2);
	assert_int_equal(r.rejected, 1);
	assert_int_equal(r.skipped, 1);
	const Carta__V1__Contact *c = r.rec[0].card->contact;
	assert_string_equal(c->phones[0]->original, "0034 600 111 222");
	assert_string_equal(c->phones[0]->number, "0034 600 111 222");
	assert_true(c->phones[0]->primary);
	assert_string_equal(c->addresses[0]->postal_code, "01234");
	assert_string_equal(c->addresses[0]->country, "ES");
	assert_null(r.rec[1].card);
	assert_string_equal(
	    r.rec[1].reason,
	    "column 4 (Country): Atlantis is not a country this reader "
	    "knows; use an ISO 3166 code or [countries] in a mapping");
	assert_true(r.rec[2].skipped);
	assert_string_equal(r.rec[2].reason, "empty row");
	assert_int_equal(r.rec[3].line, 5);
	assert_string_equal(r.rec[3].card->contact->addresses[0]->country,
			    "ES");
	result_free(&r);
}

/* Google Contacts puts several values in one cell, "a ::: b": each is an
 * email or phone of its own, with the label in the same place of the
 * label cell ("* Home ::: Work"), or the cell's only label. A row with
 * more than 16 of them is rejected, none dropped unsaid. This is the
 * older layout: Given Name, "- Type" for the labels, Organization 1. */
static void test_google_multi_values(void **state)
{
	static char data[4096];
	result r;
	size_t n;
	(void)state;

	run(&import_csv_reader,
	    WRITE("google.csv",
		  "Name,Given Name,Family Name,E-mail 1 - Type,"
		  "E-mail 1 - Value,E-mail 2 - Value,Phone 1 - Type,"
		  "Phone 1 - Value,Organization 1 - Type,Organization 1 - Name,"
		  "Organization 1 - Title\n"
		  "Ana Ruiz,Ana,Ruiz,* Home ::: Work,"
		  "a@example.com ::: b@example.com,c@example.com,Mobile,"
		  "+34 600 111 222 ::: +34 600 333 444,Work,Acme,Buyer\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_string_equal(r.rec[0].note,
			    "ignored columns: Organization 1 - Type");
	const Carta__V1__Card *card = r.rec[0].card;
	assert_string_equal(card->identity->company, "Acme");
	assert_string_equal(card->demographics->profession, "Buyer");
	const Carta__V1__Contact *c = card->contact;
	assert_int_equal(c->n_emails, 3);
	assert_string_equal(c->emails[0]->address, "a@example.com");
	assert_string_equal(c->emails[0]->label, "home");
	assert_true(c->emails[0]->primary);
	assert_string_equal(c->emails[1]->address, "b@example.com");
	assert_string_equal(c->emails[1]->label, "work");
	assert_false(c->emails[1]->primary);
	assert_string_equal(c->emails[2]->address, "c@example.com");
	assert_string_equal(c->emails[2]->label, "");
	assert_int_equal(c->n_phones, 2);
	assert_string_equal(c->phones[0]->original, "+34 600 111 222");
	assert_string_equal(c->phones[0]->label, "mobile");
	assert_string_equal(c->phones[1]->number, "+34 600 333 444");
	assert_string_equal(c->phones[1]->label, "mobile");
	result_free(&r);

	n = (size_t)snprintf(data, sizeof data,
			     "Given Name,E-mail 1 - Value\n"
			     "Ana,");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(data + n, sizeof data - n,
				      "%sa%d@example.com", i ? " ::: " : "", i);
	n += (size_t)snprintf(data + n, sizeof data - n, "\n");
	run(&import_csv_reader, write_file("g17.csv", data, n), NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.rejected, 1);
	assert_string_equal(r.rec[0].reason,
			    "column 2 (E-mail 1 - Value): makes more than 16 "
			    "emails or phones in one row");
	result_free(&r);
}

/* The current Google Contacts layout: First Name, Organization Name and
 * Title, "- Label" columns (a custom label kept as written), an address
 * with its own label and its extended address joined to the street, more
 * emails than the older layout had columns for, and a birthday without
 * its year ("--12-31"), left out with a note. */
static void test_google_current_layout(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("google-now.csv",
		  "First Name,Middle Name,Last Name,Phonetic First Name,"
		  "Nickname,File As,Organization Name,Organization Title,"
		  "Organization Department,Birthday,Notes,Photo,Labels,"
		  "E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,"
		  "E-mail 2 - Value,E-mail 5 - Label,E-mail 5 - Value,"
		  "Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,"
		  "Phone 2 - Value,Address 1 - Label,Address 1 - Formatted,"
		  "Address 1 - Street,Address 1 - City,Address 1 - PO Box,"
		  "Address 1 - Region,Address 1 - Postal Code,"
		  "Address 1 - Country,Address 1 - Extended Address\n"
		  "Ana,Maria,Ruiz,,Annie,,Acme,Buyer,Sales,--12-31,,,"
		  "* myContacts,* Home ::: Work,"
		  "ana@example.com ::: ana@acme.example,Other,"
		  "ana@example.org,,e5@example.com,Mobile,+34 600 111 222,"
		  "Casa,+34 930 000 003,Work,\"Gran Via 1\nMadrid\","
		  "Gran Via 1,Madrid,,Madrid,28013,Spain,Planta 3\n"
		  "Bea,,Gil,,,,,,,1990-05-06,,,,,,,,,,,,,,,,,,,,,,\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_string_equal(r.rec[0].note,
			    "ignored columns: Middle Name, Phonetic First "
			    "Name, Nickname, File As, Organization "
			    "Department, Notes, Photo, Labels, Address 1 - "
			    "Formatted, Address 1 - PO Box; incomplete birth "
			    "date left out");

	const Carta__V1__Card *card = r.rec[0].card;
	assert_string_equal(card->identity->given_name, "Ana");
	assert_string_equal(card->identity->family_name, "Ruiz");
	assert_string_equal(card->identity->company, "Acme");
	assert_string_equal(card->demographics->profession, "Buyer");
	assert_string_equal(card->demographics->birth_date, "");

	const Carta__V1__Contact *c = card->contact;
	assert_int_equal(c->n_emails, 4);
	assert_string_equal(c->emails[0]->address, "ana@example.com");
	assert_string_equal(c->emails[0]->label, "home");
	assert_true(c->emails[0]->primary);
	assert_string_equal(c->emails[1]->address, "ana@acme.example");
	assert_string_equal(c->emails[1]->label, "work");
	assert_string_equal(c->emails[2]->address, "ana@example.org");
	assert_string_equal(c->emails[2]->label, "other");
	assert_string_equal(c->emails[3]->address, "e5@example.com");
	assert_string_equal(c->emails[3]->label, "");
	assert_int_equal(c->n_phones, 2);
	assert_string_equal(c->phones[0]->original, "+34 600 111 222");
	assert_string_equal(c->phones[0]->label, "mobile");
	assert_string_equal(c->phones[1]->original, "+34 930 000 003");
	assert_string_equal(c->phones[1]->label, "Casa");

	assert_int_equal(c->n_addresses, 1);
	const Carta__V1__Address *a = c->addresses[0];
	assert_string_equal(a->street, "Gran Via 1, Planta 3");
	assert_string_equal(a->city, "Madrid");
	assert_string_equal(a->region, "Madrid");
	assert_string_equal(a->postal_code, "28013");
	assert_string_equal(a->country, "ES");
	assert_string_equal(a->label, "work");
	assert_true(a->primary);

	assert_null(r.rec[1].note);
	assert_string_equal(r.rec[1].card->demographics->birth_date,
			    "1990-05-06");
	assert_null(r.rec[1].card->contact);
	result_free(&r);
}

/* An Outlook export: Business, Home and Other addresses with Street 2
 * and 3 joined, "Business Country/Region" and the older "Business
 * Country", labelled phones, and what Outlook writes for no value
 * (Birthday "0/0/00", Gender "Unspecified"), left out. */
static void test_outlook_layout(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader,
	    WRITE("outlook.csv",
		  "\"Title\",\"First Name\",\"Middle Name\",\"Last Name\","
		  "\"Suffix\",\"Company\",\"Department\",\"Job Title\","
		  "\"Business Street\",\"Business Street 2\","
		  "\"Business Street 3\",\"Business City\",\"Business State\","
		  "\"Business Postal Code\",\"Business Country/Region\","
		  "\"Home Street\",\"Home Street 2\",\"Home Street 3\","
		  "\"Home City\",\"Home State\",\"Home Postal Code\","
		  "\"Home Country/Region\",\"Business Fax\","
		  "\"Business Phone\",\"Business Phone 2\",\"Home Phone\","
		  "\"Mobile Phone\",\"E-mail Address\","
		  "\"E-mail Display Name\",\"E-mail 2 Address\","
		  "\"Birthday\",\"Gender\",\"Notes\"\r\n"
		  "\"Ms.\",\"Ana\",\"Maria\",\"Ruiz\",\"\",\"Acme\",\"Sales\","
		  "\"Buyer\",\"Gran Via 1\",\"Planta 3\",\"\",\"Madrid\","
		  "\"Madrid\",\"28013\",\"Spain\",\"Calle Mayor 5\","
		  "\"Piso 2\",\"Puerta B\",\"Vic\",\"Barcelona\",\"08500\","
		  "\"Spain\",\"+34 910 000 001\",\"+34 910 000 002\",\"\","
		  "\"+34 930 000 003\",\"+34 600 000 004\","
		  "\"ana@example.com\",\"Ana Ruiz (ana@example.com)\","
		  "\"ana.ruiz@example.org\",\"0/0/00\",\"Unspecified\","
		  "\"likes tea\"\r\n"
		  "\"\",\"Bea\",\"\",\"Gil\",\"\",\"\",\"\",\"\",\"\",\"\","
		  "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
		  "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
		  "\"3/14/1990\",\"Female\",\"\"\r\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 2);
	assert_string_equal(r.rec[0].note,
			    "ignored columns: Title, Middle Name, Suffix, "
			    "Department, Business Fax, E-mail Display Name, "
			    "Notes");

	const Carta__V1__Card *card = r.rec[0].card;
	assert_string_equal(card->identity->company, "Acme");
	assert_string_equal(card->demographics->profession, "Buyer");
	assert_string_equal(card->demographics->birth_date, "");
	assert_string_equal(card->demographics->gender, "");

	const Carta__V1__Contact *c = card->contact;
	assert_int_equal(c->n_addresses, 2);
	assert_string_equal(c->addresses[0]->street,
			    "Calle Mayor 5, Piso 2, Puerta B");
	assert_string_equal(c->addresses[0]->postal_code, "08500");
	assert_string_equal(c->addresses[0]->country, "ES");
	assert_string_equal(c->addresses[0]->label, "home");
	assert_true(c->addresses[0]->primary);
	assert_string_equal(c->addresses[1]->street, "Gran Via 1, Planta 3");
	assert_string_equal(c->addresses[1]->city, "Madrid");
	assert_string_equal(c->addresses[1]->region, "Madrid");
	assert_string_equal(c->addresses[1]->postal_code, "28013");
	assert_string_equal(c->addresses[1]->country, "ES");
	assert_string_equal(c->addresses[1]->label, "work");
	assert_false(c->addresses[1]->primary);

	assert_int_equal(c->n_phones, 3);
	assert_string_equal(c->phones[0]->original, "+34 910 000 002");
	assert_string_equal(c->phones[0]->label, "work");
	assert_string_equal(c->phones[1]->original, "+34 930 000 003");
	assert_string_equal(c->phones[1]->label, "home");
	assert_string_equal(c->phones[2]->original, "+34 600 000 004");
	assert_string_equal(c->phones[2]->label, "mobile");
	assert_int_equal(c->n_emails, 2);
	assert_string_equal(c->emails[0]->address, "ana@example.com");
	assert_string_equal(c->emails[1]->address, "ana.ruiz@example.org");

	/* 0/0/00 says nothing about the column's order: 3/14 settles it. */
	assert_string_equal(r.rec[1].card->demographics->birth_date,
			    "1990-03-14");
	assert_string_equal(r.rec[1].card->demographics->gender, "f");
	result_free(&r);

	/* Older Outlook versions write "Business Country"; a business and
	 * an other address, the first primary. */
	run(&import_csv_reader,
	    WRITE("outlook-old.csv",
		  "First Name,Last Name,Business Street,Business City,"
		  "Business Postal Code,Business Country,Other Street,"
		  "Other Street 2,Other Street 3,Other Country\n"
		  "Bea,Gil,1 Main St,Leeds,LS1 1AA,United Kingdom,"
		  "2 Side Rd,,Flat 4,Ireland\n"),
	    NULL, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	assert_null(r.rec[0].note);
	c = r.rec[0].card->contact;
	assert_int_equal(c->n_addresses, 2);
	assert_string_equal(c->addresses[0]->street, "1 Main St");
	assert_string_equal(c->addresses[0]->country, "GB");
	assert_string_equal(c->addresses[0]->label, "work");
	assert_true(c->addresses[0]->primary);
	assert_string_equal(c->addresses[1]->street, "2 Side Rd, Flat 4");
	assert_string_equal(c->addresses[1]->country, "IE");
	assert_string_equal(c->addresses[1]->label, "other");
	result_free(&r);
}

static void test_mapping_file(void **state)
{
	result r;
	import_opts o;
	const char *csv;
	char map[128];
	(void)state;

	csv = WRITE("m.csv", "Nombre completo|Correo|Nivel|Pais|Nacido\n"
			     "Ana Ruiz Gil|ana@example.com|gold|Atlantis|"
			     "03.04.2001\n");
	char csvpath[128];
	snprintf(csvpath, sizeof csvpath, "%s", csv);
	/* '|' is no delimiter we know: the mapping file cannot name it
	 * either; use ; in a second file. */
	csv = WRITE("m2.csv", "Nombre completo;Correo;Nivel;Pais;Nacido\n"
			      "Ana Ruiz Gil;ana@example.com;gold;Atlantis;"
			      "03.04.2001\n");
	snprintf(csvpath, sizeof csvpath, "%s", csv);
	snprintf(map, sizeof map, "%s",
		 WRITE("m.ini", "[options]\n"
				"delimiter = semicolon\n"
				"date_format = DD.MM.YYYY\n"
				"[columns]\n"
				"Nombre completo = identity.full_name\n"
				"correo = contact.email\n"
				"Nivel = custom.loyalty_tier\n"
				"Pais = contact.country\n"
				"Nacido = demographics.birth_date\n"
				"[countries]\n"
				"Atlantis = GR\n"));
	o = (import_opts){.mapping = map};
	run(&import_csv_reader, csvpath, &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.cards, 1);
	const Carta__V1__Card *c = r.rec[0].card;
	assert_string_equal(c->identity->given_name, "Ana Ruiz");
	assert_string_equal(c->identity->family_name, "Gil");
	assert_string_equal(c->contact->emails[0]->address, "ana@example.com");
	assert_string_equal(c->contact->addresses[0]->country, "GR");
	assert_string_equal(c->demographics->birth_date, "2001-04-03");
	assert_int_equal(c->n_custom, 1);
	assert_string_equal(c->custom[0]->field, "loyalty_tier");
	assert_string_equal(c->custom[0]->value, "gold");
	result_free(&r);

	/* Mistakes name the file and the line. */
	snprintf(map, sizeof map, "%s",
		 WRITE("bad.ini", "[columns]\n"
				  "Correo = contact.email\n"
				  "Nivel = contact.fax\n"));
	o = (import_opts){.mapping = map};
	run(&import_csv_reader, csvpath, &o, &r);
	assert_int_equal(r.rv, -1);
	char want[256];
	snprintf(want, sizeof want,
		 "%s: line 3: unknown target 'contact.fax' for column 'Nivel'",
		 map);
	assert_string_equal(r.err, want);

	snprintf(map, sizeof map, "%s",
		 WRITE("miss.ini", "[columns]\nCorreo = contact.email\n"
				   "Telefono = contact.phone\n"));
	o = (import_opts){.mapping = map};
	run(&import_csv_reader, csvpath, &o, &r);
	assert_int_equal(r.rv, -1);
	assert_non_null(strstr(r.err, "line 3 of the mapping: column "
				      "'Telefono' is not in"));

	/* A column mapped twice (found by fuzzing: the first target
	 * leaked). */
	snprintf(map, sizeof map, "%s",
		 WRITE("twice.ini", "[columns]\nCorreo = contact.email\n"
				    "Correo = custom.nivel\n"));
	o = (import_opts){.mapping = map};
	run(&import_csv_reader, csvpath, &o, &r);
	assert_int_equal(r.rv, -1);
	assert_string_equal(r.err, "line 3 of the mapping: column 'Correo' is "
				   "mapped already, on line 2");
}

static void test_no_mappable_column(void **state)
{
	result r;
	(void)state;

	run(&import_csv_reader, WRITE("none.csv", "Foo,Bar\n1,2\n"), NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_non_null(strstr(r.err, "no column can be mapped (headers: Foo, "
				      "Bar)"));

	/* Many headers: as many as fit, then ", ..." (found by fuzzing:
	 * a list of 195 characters overflowed its buffer). */
	for (int width = 1; width < 12; width++) {
		char csv[600], name[16], want[256] = "", *p = csv;
		size_t shown = 0;

		for (int i = 0; i < 40; i++) {
			snprintf(name, sizeof name, "%0*d", width, i);
			p += sprintf(p, "%s%s", i ? "," : "", name);
		}
		strcpy(p, "\n1\n");
		run(&import_csv_reader,
		    write_file("many.csv", csv, strlen(csv)), NULL, &r);
		assert_int_equal(r.rv, -1);
		const char *list = strstr(r.err, "(headers: ");
		assert_non_null(list);
		list += strlen("(headers: ");
		const char *end = strstr(list, "); give --mapping");
		assert_non_null(end);
		shown = (size_t)(end - list);
		assert_true(shown < 200);
		for (int i = 0; strlen(want) < shown; i++) {
			snprintf(name, sizeof name, "%0*d", width, i);
			strcat(want, i ? ", " : "");
			strcat(want, name);
		}
		/* Every header shown whole, the list ending in ", ..." when
		 * the 40 did not fit. */
		if (width * 40 + 38 * 2 < 195)
			assert_int_equal(strncmp(list, want, shown), 0);
		else
			assert_int_equal(strncmp(end - 5, ", ...", 5), 0);
	}
}

static void test_purchases_small(void **state)
{
	result r;
	import_opts o = {.currency = "GBP"};
	const char *p;
	(void)state;

	p = WRITE("p.csv",
		  "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,"
		  "UnitPrice,CustomerID,Country\n"
		  "100,A1,Mug,2,2011-03-10 16:16:00,2.95,12621.0,Germany\n"
		  "200,B1,Pen,1,2011-03-11 10:00:00,0.10,NA,France\n"
		  "C300,A1,Mug,-1,2011-03-12 09:00:00,2.95,12621,Germany\n"
		  "100,B2,Cup,3,2011-03-10 16:16:00,1.05,12621.0,Germany\n");
	run(&import_purchases_reader, p, NULL, &r);
	assert_int_equal(r.rv, -1);
	assert_non_null(strstr(r.err, "--currency"));

	run(&import_purchases_reader, p, &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.cards, 2);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(r.lines, 4);
	/* Rows without a customer come first, then each customer's
	 * invoices in file order. */
	const Carta__V1__Card *c = r.rec[1].card;
	assert_int_equal(r.rec[1].line, 2);
	assert_int_equal(r.rec[1].lines, 2);
	assert_string_equal(c->identity->external_id, "12621");
	assert_string_equal(c->contact->addresses[0]->country, "DE");
	const Carta__V1__Purchase *pu = c->purchases[0];
	assert_string_equal(pu->invoice, "100");
	assert_string_equal(pu->date, "2011-03-10");
	assert_string_equal(pu->currency, "GBP");
	assert_int_equal(pu->amount_minor, 2 * 295 + 3 * 105);
	assert_int_equal(pu->quantity, 5);
	assert_false(pu->refund);
	assert_string_equal(pu->product, "Mug and 1 more item");
	assert_int_equal(pu->n_lines, 2);
	assert_int_equal(pu->lines[0]->unit_price_minor, 295);
	assert_string_equal(pu->lines[1]->code, "B2");
	assert_true(r.rec[0].skipped);
	assert_string_equal(r.rec[0].reason, "no customer key");
	pu = r.rec[2].card->purchases[0];
	assert_true(pu->refund);
	assert_int_equal(pu->quantity, 1);
	assert_int_equal(pu->amount_minor, 295);
	assert_int_equal(pu->lines[0]->quantity, 1);
	result_free(&r);
}

/* An invoice with one bad row is rejected whole: stored incomplete, a
 * corrected file could never complete it. */
static void test_purchases_bad_row_rejects_its_invoice(void **state)
{
	result r;
	import_opts o = {.currency = "EUR"};
	(void)state;

	run(&import_purchases_reader,
	    WRITE("bad.csv",
		  "InvoiceNo,StockCode,Description,Quantity,"
		  "InvoiceDate,UnitPrice,CustomerID,Country\n"
		  "600000,A,Mug,1,2011-03-10 10:00:00,2.00,7,Spain\n"
		  "600000,B,Cup,1,2011-03-10 10:00:00,3.005,7,Spain\n"
		  "600001,C,Pen,1,2011-03-10 10:00:00,1.00,7,Spain\n"),
	    &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.cards, 1);
	assert_int_equal(r.lines, 3);
	/* Lines 2 and 3 rejected, line 4 (invoice 600001) imported. */
	int rejected = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (r.rec[i].card != NULL) {
			assert_int_equal(r.rec[i].line, 4);
			continue;
		}
		rejected++;
		assert_true(r.rec[i].line == 2 || r.rec[i].line == 3);
		if (r.rec[i].line == 2)
			assert_non_null(
			    strstr(r.rec[i].reason, "rejected row (line 3)"));
	}
	assert_int_equal(rejected, 2);
	result_free(&r);
}

/* An invoice that sells some items and takes others back is neither a
 * sale nor a refund: rejected whole, naming a line of each. Cancellations
 * (C prefix, or every quantity negative) stay refunds. */
static void test_purchases_mixed_signs_rejected(void **state)
{
	result r;
	import_opts o = {.currency = "GBP"};
	(void)state;

	run(&import_purchases_reader,
	    WRITE("mixed.csv",
		  "InvoiceNo,StockCode,Description,Quantity,"
		  "InvoiceDate,UnitPrice,CustomerID,Country\n"
		  "900,A,Mug,-2,2011-03-10 10:00:00,2.00,7,Spain\n"
		  "900,B,Cup,3,2011-03-10 10:00:00,1.00,7,Spain\n"
		  "C901,A,Mug,-1,2011-03-11 10:00:00,2.00,7,Spain\n"
		  "902,A,Mug,-1,2011-03-12 10:00:00,2.00,7,Spain\n"
		  "902,B,Cup,-4,2011-03-12 10:00:00,1.00,7,Spain\n"
		  "903,B,Cup,5,2011-03-13 10:00:00,1.00,7,Spain\n"),
	    &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.cards, 3);
	assert_int_equal(r.rejected, 2);
	assert_int_equal(r.refunds, 2);
	assert_int_equal(r.lines, 6);
	for (size_t i = 0; i < r.n; i++) {
		const Carta__V1__Purchase *p;

		if (r.rec[i].card == NULL) {
			assert_true(r.rec[i].line == 2 || r.rec[i].line == 3);
			assert_string_equal(
			    r.rec[i].reason,
			    "invoice 900 mixes sales (line 3) and returns "
			    "(line 2): no row of it is imported; give the "
			    "returns an invoice of their own");
			continue;
		}
		p = r.rec[i].card->purchases[0];
		if (strcmp(p->invoice, "903") == 0) {
			assert_false(p->refund);
			assert_int_equal(p->quantity, 5);
		} else if (strcmp(p->invoice, "902") == 0) {
			assert_true(p->refund);
			assert_int_equal(p->quantity, 5);
			assert_int_equal(p->amount_minor, 600);
		} else {
			assert_string_equal(p->invoice, "C901");
			assert_true(p->refund);
		}
	}
	result_free(&r);
}

/* A line of no items, or at a negative price, is neither a sale nor a
 * return: its invoice is rejected naming the cell. */
static void test_purchases_zero_qty_negative_price(void **state)
{
	result r;
	import_opts o = {.currency = "EUR"};
	(void)state;

	run(&import_purchases_reader,
	    WRITE("zero.csv", "InvoiceNo,StockCode,Description,Quantity,"
			      "InvoiceDate,UnitPrice,CustomerID,Country\n"
			      "700,A,Mug,0,2011-03-10 10:00:00,2.00,7,Spain\n"
			      "701,B,Cup,1,2011-03-10 10:00:00,-3.00,7,Spain\n"
			      "702,C,Pen,1,2011-03-10 10:00:00,1.00,7,Spain\n"),
	    &o, &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.cards, 1);
	assert_int_equal(r.rejected, 2);
	for (size_t i = 0; i < r.n; i++) {
		if (r.rec[i].card != NULL) {
			assert_int_equal(r.rec[i].line, 4);
			continue;
		}
		if (r.rec[i].line == 2)
			assert_non_null(strstr(r.rec[i].reason, "is zero"));
		else {
			assert_int_equal(r.rec[i].line, 3);
			assert_non_null(strstr(r.rec[i].reason, "is negative"));
		}
	}
	result_free(&r);
}

/* The sample files: every row is a record (card, rejected or skipped). */
static const struct {
	const char *file;
	size_t cards, rejected, skipped;
	const char *date_format;
} samples[] = {
    /* 3 and 38 rows name "Channel Islands" or "Netherlands Antilles",
     * which have no ISO code: rejected naming the Country column. */
    {"datablist-customers-100.csv", 100, 0, 0, NULL},
    {"datablist-customers-1000.csv", 998, 3, 0, NULL},
    {"datablist-customers-10000.csv", 9962, 38, 0, NULL},
    {"datablist-people-1000.csv", 1000, 0, 0, NULL},
    /* Test fixtures whose address fields hold placeholders ("Home
     * Country", "home_country"): the one row is rejected. */
    {"roundcube-csv2vcard-all.csv", 0, 1, 0, NULL},
    {"roundcube-csv2vcard-gmail.csv", 0, 1, 0, NULL},
    {"roundcube-csv2vcard-tb_plain.csv", 1, 0, 0, NULL},
    {"thunderbird-basic_csv_addressbook.csv", 2, 0, 0, NULL},
    {"thunderbird-csv_semicolon.csv", 2, 0, 0, NULL},
    {"thunderbird-export.csv", 2, 0, 0, NULL},
};

static void test_sample_files(void **state)
{
	char path[512];
	struct stat st;
	(void)state;

	snprintf(path, sizeof path, "%s/../shared/data/csv", CARTA_SOURCE_DIR);
	if (stat(path, &st) != 0) {
		printf("SKIP: %s is absent\n", path);
		skip();
	}
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		result r;
		import_opts o = {.date_format = samples[i].date_format};

		snprintf(path, sizeof path, "%s/../shared/data/csv/%s",
			 CARTA_SOURCE_DIR, samples[i].file);
		run(&import_csv_reader, path, &o, &r);
		assert_int_equal(r.rv, 0);
		assert_int_equal(r.cards, samples[i].cards);
		assert_int_equal(r.rejected, samples[i].rejected);
		assert_int_equal(r.skipped, samples[i].skipped);
		result_free(&r);
	}

	/* Values of a few rows. */
	result r;
	snprintf(path, sizeof path,
		 "%s/../shared/data/csv/roundcube-csv2vcard-tb_plain.csv",
		 CARTA_SOURCE_DIR);
	run(&import_csv_reader, path, NULL, &r);
	const Carta__V1__Card *c = r.rec[0].card;
	assert_string_equal(c->identity->given_name, "Firstname");
	assert_string_equal(c->demographics->birth_date, "1970-11-15");
	assert_string_equal(c->demographics->profession, "title");
	assert_int_equal(c->contact->n_emails, 2);
	assert_true(c->contact->emails[0]->primary);
	assert_string_equal(c->contact->addresses[0]->postal_code, "xx-xxx");
	assert_string_equal(c->contact->addresses[0]->country, "US");
	assert_string_equal(c->contact->addresses[1]->country, "PL");
	assert_string_equal(c->identity->company, "Organization");
	result_free(&r);

	snprintf(path, sizeof path,
		 "%s/../shared/data/csv/roundcube-csv2vcard-all.csv",
		 CARTA_SOURCE_DIR);
	run(&import_csv_reader, path, NULL, &r);
	assert_string_equal(r.rec[0].reason,
			    "column 31 (Home Country): Home Country is not a "
			    "country this reader knows; use an ISO 3166 code "
			    "or [countries] in a mapping");
	result_free(&r);

	snprintf(path, sizeof path,
		 "%s/../shared/data/csv/thunderbird-export.csv",
		 CARTA_SOURCE_DIR);
	run(&import_csv_reader, path, NULL, &r);
	assert_int_equal(r.rec[0].line, 2);
	assert_int_equal(r.rec[1].line, 3);
	assert_string_equal(r.rec[1].card->demographics->profession,
			    "\"worker\"");
	result_free(&r);
}

static void test_uci_sample(void **state)
{
	char path[512];
	struct stat st;
	result r;
	import_opts o = {.currency = "GBP"};
	(void)state;

	snprintf(path, sizeof path,
		 "%s/../shared/data/csv/uci-online-retail-sample-20000.csv",
		 CARTA_SOURCE_DIR);
	if (stat(path, &st) != 0) {
		printf("SKIP: %s is absent\n", path);
		skip();
	}
	watch = "567183";
	run(&import_purchases_reader, path, &o, &r);
	watch = NULL;
	assert_int_equal(r.rv, 0);
	/* 20,000 rows: 5,078 without a customer key (NA), the other
	 * 14,922 in 8,449 invoices, 305 of them cancellations. */
	assert_int_equal(r.cards, 8449);
	assert_int_equal(r.skipped, 5078);
	assert_int_equal(r.rejected, 0);
	assert_int_equal(r.refunds, 305);
	assert_int_equal(r.lines, 20000);

	/* Invoice 567183, customer 14769, 29 rows spread over the file:
	 * 169 items for 272.98 GBP. */
	assert_non_null(r.watched);
	assert_int_equal(r.watched_line, 51);
	const Carta__V1__Purchase *p = r.watched->purchases[0];
	assert_string_equal(r.watched->identity->external_id, "14769");
	assert_string_equal(r.watched->contact->addresses[0]->country, "GB");
	assert_int_equal(p->n_lines, 29);
	assert_int_equal(p->quantity, 169);
	assert_int_equal(p->amount_minor, 27298);
	assert_string_equal(p->date, "2011-09-18");
	assert_string_equal(p->product,
			    "AIRLINE BAG VINTAGE TOKYO 78 and 28 more items");
	assert_false(p->refund);
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bom_and_note),
	    cmocka_unit_test(test_every_ignored_column_noted),
	    cmocka_unit_test(test_semicolon_and_tab),
	    cmocka_unit_test(test_long_values),
	    cmocka_unit_test(test_quotes_newlines_crlf),
	    cmocka_unit_test(test_cr_line_ends),
	    cmocka_unit_test(test_windows_1252),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_utf16),
	    cmocka_unit_test(test_utf16_without_encoding),
	    cmocka_unit_test(test_unclosed_quote),
	    cmocka_unit_test(test_row_too_wide),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_dates_both_ways),
	    cmocka_unit_test(test_leading_zeros_and_bad_row),
	    cmocka_unit_test(test_google_multi_values),
	    cmocka_unit_test(test_google_current_layout),
	    cmocka_unit_test(test_outlook_layout),
	    cmocka_unit_test(test_mapping_file),
	    cmocka_unit_test(test_no_mappable_column),
	    cmocka_unit_test(test_purchases_small),
	    cmocka_unit_test(test_purchases_bad_row_rejects_its_invoice),
	    cmocka_unit_test(test_purchases_mixed_signs_rejected),
	    cmocka_unit_test(test_purchases_zero_qty_negative_price),
	    cmocka_unit_test(test_sample_files),
	    cmocka_unit_test(test_uci_sample),
	};
	int rv;

	snprintf(dir, sizeof dir, "/tmp/carta_csv_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		rv = rv ? rv : 1;
	return rv;
}
