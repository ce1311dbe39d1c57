/* CSV rows for the import readers: loading, encodings, libcsv. */
#include "csv_table.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct csv_table {
	char *buf; /* the file as UTF-8, BOM removed */
	size_t len;
	size_t pos;		     /* next byte to feed to the parser */
	unsigned long line;	     /* physical line of buf[pos] */
	unsigned long long filesize; /* 0 for a pipe */
	bool converted;		     /* an encoding was named */
	char delim;
	struct csv_parser p;
	bool parser_ready;
	bool failed;
	char failure[256];

	/* The row being built by the libcsv callbacks. */
	char **fields;
	size_t n, cap;
	size_t cells; /* n, and those past CSV_TABLE_MAX_FIELDS */
	bool row_done;
	bool nomem;
};

static int space_no_tab(unsigned char c)
{
	return c == ' ';
}

static int space_tab(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* LF, CR LF and a CR alone (old Macintosh files) end a row outside
 * quotes. A line is fed to the parser with its whole end (line_end), so
 * it ends at most one row: the LF of a CR LF comes after the row ended at
 * the CR, and libcsv reports no empty row for it. */
static int term_cr_lf(unsigned char c)
{
	return c == '\n' || c == '\r';
}

/* Offset just past the line starting at from: past its LF, its CR LF or
 * its lone CR; len for a last line with no end. */
static size_t line_end(const char *buf, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++) {
		if (buf[i] == '\n')
			return i + 1;
		if (buf[i] == '\r')
			return i + 1 < len && buf[i + 1] == '\n' ? i + 2
								 : i + 1;
	}
	return len;
}

static void free_fields(csv_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->fields[i]);
	t->n = 0;
	t->cells = 0;
}

static void on_field(void *s, size_t len, void *data)
{
	csv_table *t = data;
	char *v;

	/* Past the limit a cell is only counted: the reader rejects the
	 * row, and the next one is read. */
	t->cells++;
	if (t->n >= CSV_TABLE_MAX_FIELDS)
		return;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 32;
		char **nf = realloc(t->fields, ncap * sizeof *nf);

		if (!nf) {
			t->nomem = true;
			return;
		}
		t->fields = nf;
		t->cap = ncap;
	}

	/* Trim: quoted values keep their spaces in libcsv, not here. */
	const char *b = s ? s : "";
	while (len > 0 &&
	       (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')) {
		b++;
		len--;
	}
	while (len > 0 && (b[len - 1] == ' ' || b[len - 1] == '\t' ||
			   b[len - 1] == '\r' || b[len - 1] == '\n'))
		len--;
	/* 'carta export csv' writes '=, '+, '-, '@ so that a spreadsheet
	 * never runs a cell: read such a cell back as it was. */
	if (len >= 2 && b[0] == '\'' && strchr("=+-@\t\r'", b[1]) != NULL) {
		b++;
		len--;
	}
	v = malloc(len + 1);
	if (!v) {
		t->nomem = true;
		return;
	}
	memcpy(v, b, len);
	v[len] = '\0';
	t->fields[t->n++] = v;
}

static void on_row(int c, void *data)
{
	csv_table *t = data;

	(void)c;
	t->row_done = true;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. NUL
 * counts as invalid: no card field may hold it. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min, cp;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		min = 0x80;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		min = 0x800;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		min = 0x10000;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* Offset of the first byte in [from, to) that is not UTF-8, or to. */
static size_t utf8_bad(const char *buf, size_t from, size_t to)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t i = from;

	while (i < to) {
		size_t k = utf8_seq(u + i, to - i);

		if (k == 0)
			return i;
		i += k;
	}
	return to;
}

/* 1-based column, in characters, of byte off within the line starting at
 * line_start. */
static unsigned long char_column(const char *buf, size_t line_start, size_t off)
{
	unsigned long col = 1;

	for (size_t i = line_start; i < off; i++)
		if (((unsigned char)buf[i] & 0xC0) != 0x80)
			col++;
	return col;
}

/* Where a quote left open at the end of the file opens, in the record
 * starting at from: libcsv (strict) read every quote before it as one
 * opening a field, closing it or doubled inside it. */
static size_t open_quote(const char *buf, size_t from, size_t len)
{
	size_t at = from;
	bool quoted = false;

	for (size_t i = from; i < len; i++) {
		if (buf[i] != '"')
			continue;
		if (!quoted) {
			quoted = true;
			at = i;
		} else if (i + 1 < len && buf[i + 1] == '"') {
			i++;
		} else {
			quoted = false;
		}
	}
	return at;
}

static int load(const char *path, char **out, size_t *outlen,
		unsigned long long *filesize, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int rv = -1;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	*filesize = 0;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		*filesize = (unsigned long long)st.st_size;

	for (;;) {
		if (cap - len < 65536) {
			size_t ncap = cap ? cap * 2 : 65536 * 2;
			char *nb;

			if (ncap > CSV_TABLE_MAX_BYTES + 65536u)
				ncap = CSV_TABLE_MAX_BYTES + 65536u;
			if (ncap <= cap) {
				snprintf(err, errlen, "%s: larger than %u MiB",
					 path, CSV_TABLE_MAX_BYTES / 1048576u);
				goto out;
			}
			nb = realloc(buf, ncap + 1);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory",
					 path);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > CSV_TABLE_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %u MiB", path,
				 CSV_TABLE_MAX_BYTES / 1048576u);
			goto out;
		}
		if (got == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: read error", path);
				goto out;
			}
			break;
		}
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rv = 0;
out:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rv;
}

/* Converts in (len bytes, encoding enc) to UTF-8 into a new buffer. */
static int convert(const char *path, const char *enc, const char *in,
		   size_t len, char **out, size_t *outlen, char *err,
		   size_t errlen)
{
	iconv_t cd = iconv_open("UTF-8", enc);
	char *buf = NULL;
	size_t cap;
	int rv = -1;

	if (cd == (iconv_t)-1) {
		snprintf(err, errlen, "%s: unknown encoding '%s'", path, enc);
		return -1;
	}

	/* UTF-8 takes at most 3 bytes for a BMP character of any single-byte
	 * or two-byte source, 4 for a surrogate pair (4 source bytes). */
	cap = len * 3 + 4;
	buf = malloc(cap + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}

	char *ip = (char *)in, *op = buf;
	size_t il = len, ol = cap;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		unsigned long line = 1;
		size_t at = (size_t)(ip - in);
		size_t done = (size_t)(op - buf);

		/* Lines of what was converted so far. */
		for (size_t i = 0; i < done; i++)
			if (buf[i] == '\n' ||
			    (buf[i] == '\r' &&
			     (i + 1 == done || buf[i + 1] != '\n')))
				line++;
		snprintf(err, errlen,
			 "%s: line %lu: byte 0x%02X (offset %zu) is not "
			 "valid %s",
			 path, line, at < len ? (unsigned char)in[at] : 0u, at,
			 enc);
		goto out;
	}
	*outlen = (size_t)(op - buf);
	buf[*outlen] = '\0';
	*out = buf;
	buf = NULL;
	rv = 0;
out:
	free(buf);
	iconv_close(cd);
	return rv;
}

static char detect_delimiter(const char *buf, size_t len)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (c == '\n' || c == '\r')
			break;
		else if (c == ',')
			comma++;
		else if (c == ';')
			semi++;
		else if (c == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma && tab > semi)
		return '\t';
	return ',';
}

static int parser_start(csv_table *t)
{
	if (t->parser_ready)
		csv_free(&t->p);
	t->parser_ready = false;
	if (csv_init(&t->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) !=
	    0)
		return -1;
	csv_set_delim(&t->p, (unsigned char)t->delim);
	csv_set_space_func(&t->p, t->delim == '\t' ? space_no_tab : space_tab);
	csv_set_term_func(&t->p, term_cr_lf);
	t->parser_ready = true;
	return 0;
}

struct bom {
	const char *bytes;
	size_t len;
	const char *mark, *name, *option;
};

/* The byte-order mark of an encoding other than UTF-8 that buf starts
 * with, or NULL. UTF-32's comes first: it starts as UTF-16's does. */
static const struct bom *other_bom(const char *buf, size_t len)
{
	static const struct bom boms[] = {
	    {"\xFF\xFE\0\0", 4, "FF FE 00 00", "UTF-32", "utf-32"},
	    {"\xFF\xFE", 2, "FF FE", "UTF-16", "utf-16"},
	    {"\xFE\xFF", 2, "FE FF", "UTF-16", "utf-16"},
	};

	for (size_t i = 0; i < sizeof boms / sizeof boms[0]; i++)
		if (len >= boms[i].len &&
		    memcmp(buf, boms[i].bytes, boms[i].len) == 0)
			return &boms[i];
	return NULL;
}

int csv_table_open(const char *path, const char *encoding, char delimiter,
		   csv_table **out, char *err, size_t errlen)
{
	csv_table *t;
	char *raw = NULL;
	size_t rawlen = 0;

	*out = NULL;
	t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (load(path, &raw, &rawlen, &t->filesize, err, errlen) != 0)
		goto fail;

	/* A named encoding (other than UTF-8 itself) is converted whole;
	 * UTF-8 is checked line by line as rows are read. */
	bool named = encoding && *encoding &&
		     strcasecmp(encoding, "utf-8") != 0 &&
		     strcasecmp(encoding, "utf8") != 0;
	const struct bom *bom = named ? NULL : other_bom(raw, rawlen);
	if (bom) {
		snprintf(err, errlen,
			 "%s: looks like %s (it starts with the byte-order "
			 "mark %s): pass --encoding %s; nothing was imported",
			 path, bom->name, bom->mark, bom->option);
		goto fail;
	}
	if (named) {
		if (convert(path, encoding, raw, rawlen, &t->buf, &t->len, err,
			    errlen) != 0)
			goto fail;
		free(raw);
		raw = NULL;
		t->converted = true;
	} else {
		t->buf = raw;
		t->len = rawlen;
		raw = NULL;
	}
	if (t->len >= 3 && memcmp(t->buf, "\xEF\xBB\xBF", 3) == 0) {
		memmove(t->buf, t->buf + 3, t->len - 3 + 1);
		t->len -= 3;
	}

	t->delim = delimiter ? delimiter : detect_delimiter(t->buf, t->len);
	t->line = 1;
	if (parser_start(t) != 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	free(raw);
	csv_table_close(t);
	return -1;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* Stops the file: t->failure holds the message, returned by every later
 * call. */
static int stop(csv_table *t, char *err, size_t errlen)
{
	t->failed = true;
	snprintf(err, errlen, "%s", t->failure);
	return -1;
}

int csv_table_next(csv_table *t, csv_row *row, char *err, size_t errlen)
{
	bool in_row = false;
	unsigned long start_line = t->line;
	size_t start_pos = t->pos;

	if (t->failed) {
		snprintf(err, errlen, "%s", t->failure);
		return -1;
	}
	free_fields(t);
	t->row_done = false;
	row->fields = NULL;
	row->n = 0;
	row->cells = 0;

	while (t->pos < t->len) {
		size_t end = line_end(t->buf, t->pos, t->len);
		char last = t->buf[end - 1];
		bool ended = last == '\n' || last == '\r';
		size_t bad;

		/* A blank line between rows is reported as a row of no
		 * fields; blank lines at the end of the file are not rows. */
		if (!in_row && blank(t->buf + t->pos, end - t->pos)) {
			start_line = t->line;
			t->pos = end;
			t->line++;
			if (blank(t->buf + t->pos, t->len - t->pos)) {
				t->pos = t->len;
				return 0;
			}
			row->line = start_line;
			return 1;
		}
		if (!in_row) {
			start_line = t->line;
			start_pos = t->pos;
		}

		bad = utf8_bad(t->buf, t->pos, end);
		if (bad < end) {
			unsigned long col = char_column(t->buf, t->pos, bad);
			unsigned byte = (unsigned char)t->buf[bad];

			/* No encoding has a NUL in text: naming one would
			 * not help. */
			if (byte == 0)
				snprintf(
				    t->failure, sizeof t->failure,
				    "line %lu, column %lu: the file holds a "
				    "NUL byte, which no text may contain",
				    t->line, col);
			else if (t->converted)
				snprintf(t->failure, sizeof t->failure,
					 "line %lu, column %lu: byte 0x%02X is "
					 "not allowed",
					 t->line, col, byte);
			else
				snprintf(
				    t->failure, sizeof t->failure,
				    "line %lu, column %lu: not valid UTF-8 "
				    "(byte 0x%02X); name the encoding with "
				    "--encoding",
				    t->line, col, byte);
			return stop(t, err, errlen);
		}

		size_t fed = csv_parse(&t->p, t->buf + t->pos, end - t->pos,
				       on_field, on_row, t);
		if (t->nomem || fed < end - t->pos) {
			if (t->nomem)
				snprintf(t->failure, sizeof t->failure,
					 "line %lu: out of memory", t->line);
			else
				snprintf(
				    t->failure, sizeof t->failure,
				    "line %lu, column %lu: a quote in the "
				    "middle of a field (quote the whole "
				    "field and double the quotes inside)",
				    t->line,
				    char_column(t->buf, t->pos, t->pos + fed));
			return stop(t, err, errlen);
		}
		t->pos = end;
		if (ended)
			t->line++;
		in_row = true;
		if (t->row_done) {
			row->fields = t->fields;
			row->n = t->n;
			row->cells = t->cells;
			row->line = start_line;
			return 1;
		}
	}

	if (!in_row)
		return 0;
	if (csv_fini(&t->p, on_field, on_row, t) != 0) {
		size_t at = open_quote(t->buf, start_pos, t->len);
		unsigned long line = start_line;
		size_t line_start = start_pos;

		for (size_t i = start_pos; i < at; i++) {
			if (t->buf[i] == '\n' ||
			    (t->buf[i] == '\r' && t->buf[i + 1] != '\n')) {
				line++;
				line_start = i + 1;
			}
		}
		snprintf(t->failure, sizeof t->failure,
			 "line %lu, column %lu: this quote opens a field "
			 "that is never closed",
			 line, char_column(t->buf, line_start, at));
		return stop(t, err, errlen);
	}
	if (t->nomem) {
		snprintf(t->failure, sizeof t->failure,
			 "line %lu: out of memory", start_line);
		return stop(t, err, errlen);
	}
	row->fields = t->fields;
	row->n = t->n;
	row->cells = t->cells;
	row->line = start_line;
	return 1;
}

void csv_table_rewind(csv_table *t)
{
	free_fields(t);
	t->pos = 0;
	t->line = 1;
	t->failed = false;
	t->row_done = false;
	/* Reinitialising cannot fail for lack of memory: libcsv allocates
	 * its buffer lazily. */
	(void)parser_start(t);
}

char csv_table_delimiter(const csv_table *t)
{
	return t->delim;
}

void csv_table_progress(const csv_table *t, unsigned long long *done,
			unsigned long long *total)
{
	*total = t->filesize;
	if (t->len == 0 || t->filesize == 0)
		*done = t->filesize ? t->filesize : t->pos;
	else
		*done = (unsigned long long)((double)t->pos / (double)t->len *
					     (double)t->filesize);
}

void csv_table_close(csv_table *t)
{
	if (!t)
		return;
	free_fields(t);
	free(t->fields);
	if (t->parser_ready)
		csv_free(&t->p);
	free(t->buf);
	free(t);
}
