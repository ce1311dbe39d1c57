/* CSV readers for carta import: customers (one row, one card) and
 * purchases (the rows of one invoice, one purchase on the customer's
 * card). docs/IMPORT.md describes what a user sees; csv_table.c does the
 * bytes (encodings, quoting, lines). */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv_country.h"
#include "csv_table.h"
#include "import.h"
#include "validate.h"

/* Items of one purchase the card can hold (the proto's limit). */
#define PURCHASE_LINES_MAX 500
/* Emails, phones and custom values taken from one row. */
#define ROW_MULTI_MAX 16
/* Addresses of one row: home, work, other. */
#define ROW_ADDR_MAX 3

enum target {
	T_NONE,
	T_GIVEN,
	T_FAMILY,
	T_FULL,
	T_COMPANY,
	T_EXTID,
	T_NUMBER,
	T_STATUS,
	T_BRANCH,
	T_EMAIL,
	T_PHONE,
	T_STREET,
	T_CITY,
	T_POSTAL,
	T_REGION,
	T_COUNTRY,
	T_LABEL,      /* the labels of another column's values */
	T_ADDR_LABEL, /* the label of an address */
	T_BIRTH,
	T_BYEAR,
	T_BMONTH,
	T_BDAY,
	T_GENDER,
	T_PROFESSION,
	T_LANGUAGE,
	T_CUSTOM,
	P_INVOICE,
	P_CODE,
	P_DESC,
	P_QTY,
	P_PRICE,
	P_DATE,
	P_CUSTOMER,
	P_COUNTRY,
	P_CURRENCY,
};

/* Day, month and year order of dates in a column. */
enum order { O_NONE, O_DMY, O_MDY, O_YMD };

/* No column: a colmap's label_col when its values have no label column. */
#define NO_COL SIZE_MAX

typedef struct {
	enum target t;
	int addr;	   /* address index for street..country, T_ADDR_LABEL */
	const char *label; /* "home", "work", "mobile", or NULL */
	char *custom;	   /* custom field name (owned), T_CUSTOM */
	enum order order;  /* date columns: the order to read them in */
	bool split;	   /* several values in a cell, "a ::: b" */
	size_t label_col;  /* the column labelling each value, or NO_COL */
} colmap;

/* Automatic mapping: header names (lower case) of the layouts the issue
 * names, and Carta's own export. Google's numbered columns ("E-mail 2 -
 * Value", "Address 1 - City") are read by google_target. */
static const struct {
	const char *name;
	enum target t;
	int addr;
	const char *label;
} auto_map[] = {
    /* Carta's export. */
    {"number", T_NUMBER, 0, NULL},
    {"external_id", T_EXTID, 0, NULL},
    {"given_name", T_GIVEN, 0, NULL},
    {"family_name", T_FAMILY, 0, NULL},
    {"company", T_COMPANY, 0, NULL},
    {"status", T_STATUS, 0, NULL},
    {"home_branch", T_BRANCH, 0, NULL},
    {"email", T_EMAIL, 0, NULL},
    {"email_2", T_EMAIL, 0, NULL},
    {"phone", T_PHONE, 0, NULL},
    {"phone_2", T_PHONE, 0, NULL},
    {"street", T_STREET, 0, NULL},
    {"city", T_CITY, 0, NULL},
    {"postal_code", T_POSTAL, 0, NULL},
    {"region", T_REGION, 0, NULL},
    {"country", T_COUNTRY, 0, NULL},
    {"birth_date", T_BIRTH, 0, NULL},
    {"gender", T_GENDER, 0, NULL},
    {"profession", T_PROFESSION, 0, NULL},
    {"language", T_LANGUAGE, 0, NULL},
    /* Plain English headers of hand-made files. */
    {"postal code", T_POSTAL, 0, NULL},
    {"postcode", T_POSTAL, 0, NULL},
    {"zip", T_POSTAL, 0, NULL},
    {"zip code", T_POSTAL, 0, NULL},
    {"town", T_CITY, 0, NULL},
    {"province", T_REGION, 0, NULL},
    {"state", T_REGION, 0, NULL},
    {"address", T_STREET, 0, NULL},
    {"email address", T_EMAIL, 0, NULL},
    {"e-mail", T_EMAIL, 0, NULL},
    {"phone number", T_PHONE, 0, NULL},
    {"telephone", T_PHONE, 0, NULL},
    {"mobile", T_PHONE, 0, NULL},
    {"surname", T_FAMILY, 0, NULL},
    {"company name", T_COMPANY, 0, NULL},
    {"birth date", T_BIRTH, 0, NULL},
    {"birthdate", T_BIRTH, 0, NULL},
    /* datablist customers and people. */
    {"customer id", T_EXTID, 0, NULL},
    {"user id", T_EXTID, 0, NULL},
    {"first name", T_GIVEN, 0, NULL},
    {"last name", T_FAMILY, 0, NULL},
    {"phone 1", T_PHONE, 0, NULL},
    {"phone 2", T_PHONE, 0, NULL},
    {"sex", T_GENDER, 0, NULL},
    {"date of birth", T_BIRTH, 0, NULL},
    {"job title", T_PROFESSION, 0, NULL},
    /* Google Contacts: the older layout (Given Name, Organization 1 -
     * Name) and the current one (First Name, Organization Name). */
    {"name", T_FULL, 0, NULL},
    {"given name", T_GIVEN, 0, NULL},
    {"family name", T_FAMILY, 0, NULL},
    {"birthday", T_BIRTH, 0, NULL},
    {"occupation", T_PROFESSION, 0, NULL},
    {"organization 1 - name", T_COMPANY, 0, NULL},
    {"organization 1 - title", T_PROFESSION, 0, NULL},
    {"organization name", T_COMPANY, 0, NULL},
    {"organization title", T_PROFESSION, 0, NULL},
    /* Outlook. */
    {"display name", T_FULL, 0, NULL},
    {"e-mail address", T_EMAIL, 0, NULL},
    {"e-mail 2 address", T_EMAIL, 0, NULL},
    {"e-mail 3 address", T_EMAIL, 0, NULL},
    {"email home", T_EMAIL, 0, "home"},
    {"email work", T_EMAIL, 0, "work"},
    {"email other", T_EMAIL, 0, "other"},
    {"primary phone", T_PHONE, 0, NULL},
    {"mobile phone", T_PHONE, 0, "mobile"},
    {"home mobile", T_PHONE, 0, "mobile"},
    {"home phone", T_PHONE, 0, "home"},
    {"home phone 2", T_PHONE, 0, "home"},
    {"business phone", T_PHONE, 0, "work"},
    {"business phone 2", T_PHONE, 0, "work"},
    {"car phone", T_PHONE, 0, NULL},
    {"other phone", T_PHONE, 0, "other"},
    {"home street", T_STREET, 0, NULL},
    {"home street 2", T_STREET, 0, NULL},
    {"home street 3", T_STREET, 0, NULL},
    {"home city", T_CITY, 0, NULL},
    {"home state", T_REGION, 0, NULL},
    {"home zip", T_POSTAL, 0, NULL},
    {"home postal code", T_POSTAL, 0, NULL},
    {"home country", T_COUNTRY, 0, NULL},
    {"home country/region", T_COUNTRY, 0, NULL},
    {"business street", T_STREET, 1, NULL},
    {"business street 2", T_STREET, 1, NULL},
    {"business street 3", T_STREET, 1, NULL},
    {"business city", T_CITY, 1, NULL},
    {"business state", T_REGION, 1, NULL},
    {"business postal code", T_POSTAL, 1, NULL},
    {"business country", T_COUNTRY, 1, NULL},
    {"business country/region", T_COUNTRY, 1, NULL},
    {"work city", T_CITY, 1, NULL},
    {"work state", T_REGION, 1, NULL},
    {"work zip", T_POSTAL, 1, NULL},
    {"work country", T_COUNTRY, 1, NULL},
    {"other street", T_STREET, 2, NULL},
    {"other street 2", T_STREET, 2, NULL},
    {"other street 3", T_STREET, 2, NULL},
    {"other city", T_CITY, 2, NULL},
    {"other state", T_REGION, 2, NULL},
    {"other postal code", T_POSTAL, 2, NULL},
    {"other country", T_COUNTRY, 2, NULL},
    {"other country/region", T_COUNTRY, 2, NULL},
    /* Thunderbird. */
    {"primary email", T_EMAIL, 0, NULL},
    {"secondary email", T_EMAIL, 0, NULL},
    {"work phone", T_PHONE, 0, "work"},
    {"mobile number", T_PHONE, 0, "mobile"},
    {"home address", T_STREET, 0, NULL},
    {"home address 2", T_STREET, 0, NULL},
    {"home zipcode", T_POSTAL, 0, NULL},
    {"work address", T_STREET, 1, NULL},
    {"work address 2", T_STREET, 1, NULL},
    {"work zipcode", T_POSTAL, 1, NULL},
    {"organization", T_COMPANY, 0, NULL},
    {"birth year", T_BYEAR, 0, NULL},
    {"birth month", T_BMONTH, 0, NULL},
    {"birth day", T_BDAY, 0, NULL},
};

/* Automatic mapping of the purchases reader: the UCI Online Retail
 * header, and the mapping file's target names without "purchase.". */
static const struct {
	const char *name;
	enum target t;
} auto_purchase[] = {
    {"invoiceno", P_INVOICE},	{"invoice", P_INVOICE},
    {"stockcode", P_CODE},	{"code", P_CODE},
    {"description", P_DESC},	{"quantity", P_QTY},
    {"invoicedate", P_DATE},	{"date", P_DATE},
    {"unitprice", P_PRICE},	{"unit_price", P_PRICE},
    {"customerid", P_CUSTOMER}, {"customer", P_CUSTOMER},
    {"country", P_COUNTRY},	{"currency", P_CURRENCY},
};

/* Mapping file targets. */
static const struct {
	const char *name;
	enum target t;
} targets[] = {
    {"identity.given_name", T_GIVEN},
    {"identity.family_name", T_FAMILY},
    {"identity.full_name", T_FULL},
    {"identity.company", T_COMPANY},
    {"identity.external_id", T_EXTID},
    {"identity.number", T_NUMBER},
    {"identity.status", T_STATUS},
    {"identity.home_branch", T_BRANCH},
    {"contact.email", T_EMAIL},
    {"contact.phone", T_PHONE},
    {"contact.street", T_STREET},
    {"contact.city", T_CITY},
    {"contact.postal_code", T_POSTAL},
    {"contact.region", T_REGION},
    {"contact.country", T_COUNTRY},
    {"demographics.birth_date", T_BIRTH},
    {"demographics.gender", T_GENDER},
    {"demographics.profession", T_PROFESSION},
    {"demographics.language", T_LANGUAGE},
    {"purchase.invoice", P_INVOICE},
    {"purchase.code", P_CODE},
    {"purchase.description", P_DESC},
    {"purchase.quantity", P_QTY},
    {"purchase.unit_price", P_PRICE},
    {"purchase.date", P_DATE},
    {"purchase.customer", P_CUSTOMER},
    {"purchase.country", P_COUNTRY},
    {"purchase.currency", P_CURRENCY},
};

/* What a mapping file says. */
typedef struct {
	char **header; /* [columns]: header name, target text, file line */
	char **target;
	unsigned long *line;
	size_t n;
	char *delimiter, *encoding, *date_format, *currency; /* [options] */
	char **cname, **ccode;				     /* [countries] */
	size_t ncountries;
	unsigned long cur_line; /* line being read */
	char err[200];
} mapping;

/* One line item of the purchases file, kept until the file is grouped. */
typedef struct {
	unsigned long line;
	char *invoice, *code, *desc, *customer, *currency;
	const char *country; /* static ISO code or NULL */
	char country_buf[VALIDATE_COUNTRY_SIZE];
	int64_t qty; /* as written: negative on a cancellation */
	int64_t price_minor;
	char date[VALIDATE_DATE_SIZE];
} pline;

/* One record to return from the purchases file: a part of an invoice
 * (rows[] indexes into lines) or one skipped or rejected row. */
typedef struct {
	unsigned long line;
	size_t group; /* SIZE_MAX for a single row */
	size_t part, parts;
	bool skipped;
	char *reason;
	const char *customer; /* the group's customer key; NULL for a row */
} pout;

typedef struct {
	size_t *rows;
	size_t n, cap;
	char *key;
} pgroup;

struct import_src {
	csv_table *t;
	char *path;
	bool purchases;
	size_t ncols;
	char **headers;
	colmap *map;
	char *ignored; /* note for the first record, NULL when none */
	bool first_done;
	mapping m;

	/* Purchases: the whole file, grouped. */
	char currency[VALIDATE_CURRENCY_SIZE];
	int exponent;
	pline *lines;
	size_t nlines, capl;
	pgroup *groups;
	size_t ngroups, capg;
	size_t *hash; /* open addressing: group index + 1, 0 empty */
	size_t hashcap;
	pout *outs;
	size_t nouts, capo, nextout;
	unsigned long rows_total, rows_done;
	/* invoices with a rejected row, and the first such row's line */
	char **bad_inv;
	unsigned long *bad_line;
	size_t nbad, capbad;
};

/* --- small helpers ------------------------------------------------- */

static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 16;
	na = realloc(arr, ncap * size);
	if (na)
		*cap = ncap;
	return na;
}

/* s without the spaces and tabs at its ends: the start, and *n bytes. */
static const char *trimmed(const char *s, size_t *n)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*n = len;
	return s;
}

/* Whether two names (headers, countries) are the same once trimmed, in
 * any case of their ASCII letters; compared whole, however long. */
static bool same_name(const char *a, const char *b)
{
	size_t na, nb;

	a = trimmed(a, &na);
	b = trimmed(b, &nb);
	return na == nb && strncasecmp(a, b, na) == 0;
}

/* A new string (free it) as long as the format makes it: values joined
 * or copied with it are never cut. NULL when memory ran out. */
__attribute__((format(printf, 1, 2))) static char *str_printf(const char *fmt,
							      ...)
{
	va_list ap;
	int n;
	char *out;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	out = malloc((size_t)n + 1);
	if (!out)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}

/* Characters (code points) of UTF-8 text. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Copies at most max bytes of s into out without cutting a UTF-8
 * character, adding "..." when cut. */
static void quote_value(const char *s, char *out, size_t cap, size_t max)
{
	size_t n = strlen(s);

	if (n <= max) {
		snprintf(out, cap, "%s", s);
		return;
	}
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	snprintf(out, cap, "%.*s...", (int)max, s);
}

static void reason_col(import_src *s, import_rec *rec, size_t col,
		       const char *what, const char *value)
{
	char v[48], h[48];

	quote_value(value ? value : "", v, sizeof v, 40);
	quote_value(col < s->ncols ? s->headers[col] : "", h, sizeof h, 40);
	snprintf(rec->reason, sizeof rec->reason, "column %zu (%s): %s%s%s",
		 col + 1, h, value ? v : "", value ? " " : "", what);
}

static void row_reason(import_src *s, size_t col, const char *v,
		       const char *what, char *out, size_t cap)
{
	import_rec tmp;

	memset(&tmp, 0, sizeof tmp);
	reason_col(s, &tmp, col, what, v);
	snprintf(out, cap, "%s", tmp.reason);
}

/* Whether row has more cells than the table keeps, which rejects it;
 * the reason goes into reason. */
static bool too_wide(const csv_row *row, char *reason, size_t cap)
{
	if (row->cells <= row->n)
		return false;
	snprintf(reason, cap, "%zu fields; a row may have at most %d",
		 row->cells, CSV_TABLE_MAX_FIELDS);
	return true;
}

/* A mapped value longer than any card field may be (the server refuses
 * it unread) rejects its row here, with its real length; sent, it would
 * only make the record too large to send. */
static bool field_too_long(import_src *s, const csv_row *row, char *reason,
			   size_t cap)
{
	for (size_t i = 0; i < row->n && i < s->ncols; i++) {
		const char *v = row->fields[i];
		char what[128];

		if (s->map[i].t == T_NONE ||
		    strlen(v) <= VALIDATE_TEXT_INPUT_MAX)
			continue;
		snprintf(what, sizeof what,
			 "is %zu characters long; no card field holds more "
			 "than %d bytes",
			 utf8_chars(v), VALIDATE_TEXT_INPUT_MAX);
		row_reason(s, i, NULL, what, reason, cap);
		return true;
	}
	return false;
}

/* --- dates --------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* Splits "A/B/C" (separators / - ., the same twice; a time after a
 * space or T is dropped) into numbers with their digit counts. */
static bool split_date(const char *v, int num[3], size_t len[3])
{
	size_t end = strcspn(v, " T");
	size_t i = 0;
	char sep = 0;

	for (int k = 0; k < 3; k++) {
		size_t st = i;

		while (i < end && isdigit((unsigned char)v[i]))
			i++;
		len[k] = i - st;
		if (len[k] == 0 || len[k] > 4 || !digits(v + st, len[k]))
			return false;
		num[k] = atoi(v + st);
		if (k < 2) {
			if (i >= end || !strchr("/-.", v[i]))
				return false;
			if (sep && v[i] != sep)
				return false;
			sep = v[i++];
		}
	}
	return i == end;
}

/* Whether v is a date of zeros, which exports write for no date:
 * Outlook's "0/0/00", "0000-00-00". */
static bool zero_date(const char *v)
{
	int num[3];
	size_t len[3];

	return split_date(v, num, len) && num[0] == 0 && num[1] == 0 &&
	       num[2] == 0;
}

/* Reads v in order o into out ("YYYY-MM-DD"). Returns 0, -1 when it is
 * not a date, -2 when the order is unknown and day and month could be
 * swapped. Year first (four digits) reads without an order. */
static int parse_date(const char *v, enum order o, char out[VALIDATE_DATE_SIZE])
{
	int n[3], y, m, d;
	size_t len[3];
	char tmp[32];

	if (!split_date(v, n, len))
		return -1;
	if (len[0] == 4 && len[1] <= 2 && len[2] <= 2) {
		y = n[0];
		m = n[1];
		d = n[2];
	} else if (len[2] == 4 && len[0] <= 2 && len[1] <= 2) {
		if (o == O_NONE) {
			if (n[0] > 12 && n[1] <= 12)
				o = O_DMY;
			else if (n[1] > 12 && n[0] <= 12)
				o = O_MDY;
			else if (n[0] <= 12 && n[1] <= 12)
				return -2;
			else
				return -1;
		}
		if (o == O_YMD)
			return -1;
		y = n[2];
		d = o == O_DMY ? n[0] : n[1];
		m = o == O_DMY ? n[1] : n[0];
	} else {
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y, m, d);
	return validate_date(tmp, out, NULL, 0) == 0 ? 0 : -1;
}

/* "DD/MM/YYYY" and the like to an order; O_NONE when not understood. */
static enum order format_order(const char *f)
{
	char norm[16];
	size_t n = 0;

	for (; *f && n + 1 < sizeof norm; f++)
		norm[n++] = strchr("/-.", *f) ? '/' : (char)toupper(*f);
	norm[n] = '\0';
	if (strcmp(norm, "DD/MM/YYYY") == 0 || strcmp(norm, "D/M/YYYY") == 0)
		return O_DMY;
	if (strcmp(norm, "MM/DD/YYYY") == 0 || strcmp(norm, "M/D/YYYY") == 0)
		return O_MDY;
	if (strcmp(norm, "YYYY/MM/DD") == 0)
		return O_YMD;
	return O_NONE;
}

/* --- the mapping file ---------------------------------------------- */

static char *count_lines(char *str, int num, void *stream)
{
	mapping *m = ((void **)stream)[1];
	char *r = fgets(str, num, ((void **)stream)[0]);

	if (r)
		m->cur_line++;
	return r;
}

static bool known_target(const char *t)
{
	if (strncmp(t, "custom.", 7) == 0) {
		const char *n = t + 7;

		if (!*n || !islower((unsigned char)*n) || strlen(n) > 40)
			return false;
		for (; *n; n++)
			if (!islower((unsigned char)*n) &&
			    !isdigit((unsigned char)*n) && *n != '_')
				return false;
		return true;
	}
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
		if (strcmp(t, targets[i].name) == 0)
			return true;
	return false;
}

static int push2(char ***a, char ***b, size_t n, const char *x, const char *y)
{
	char **na = realloc(*a, (n + 1) * sizeof *na);

	if (!na)
		return -1;
	*a = na;
	char **nb = realloc(*b, (n + 1) * sizeof *nb);
	if (!nb)
		return -1;
	*b = nb;
	(*a)[n] = strdup(x);
	(*b)[n] = strdup(y);
	if (!(*a)[n] || !(*b)[n]) {
		free((*a)[n]);
		free((*b)[n]);
		return -1;
	}
	return 0;
}

static int on_ini(void *user, const char *section, const char *name,
		  const char *value)
{
	mapping *m = user;

	if (strcasecmp(section, "columns") == 0) {
		if (!known_target(value)) {
			char qv[64], qn[64];

			quote_value(value, qv, sizeof qv, 60);
			quote_value(name, qn, sizeof qn, 60);
			snprintf(m->err, sizeof m->err,
				 "unknown target '%s' for column '%s'", qv, qn);
			return 0;
		}
		unsigned long *nl = realloc(m->line, (m->n + 1) * sizeof *nl);
		if (!nl)
			return 0;
		m->line = nl;
		m->line[m->n] = m->cur_line;
		if (push2(&m->header, &m->target, m->n, name, value) != 0)
			return 0;
		m->n++;
		return 1;
	}
	if (strcasecmp(section, "countries") == 0) {
		char code[VALIDATE_COUNTRY_SIZE], qv[32];

		if (validate_country(value, code, NULL, 0) != 0) {
			quote_value(value, qv, sizeof qv, 20);
			snprintf(m->err, sizeof m->err,
				 "'%s' is not an ISO 3166 country code", qv);
			return 0;
		}
		if (push2(&m->cname, &m->ccode, m->ncountries, name, code) != 0)
			return 0;
		m->ncountries++;
		return 1;
	}
	if (strcasecmp(section, "options") == 0) {
		char **slot = NULL;

		if (strcasecmp(name, "delimiter") == 0)
			slot = &m->delimiter;
		else if (strcasecmp(name, "encoding") == 0)
			slot = &m->encoding;
		else if (strcasecmp(name, "date_format") == 0)
			slot = &m->date_format;
		else if (strcasecmp(name, "currency") == 0)
			slot = &m->currency;
		if (!slot) {
			char qn[64];

			quote_value(name, qn, sizeof qn, 60);
			snprintf(m->err, sizeof m->err,
				 "unknown option '%s' (delimiter, encoding, "
				 "date_format, currency)",
				 qn);
			return 0;
		}
		free(*slot);
		*slot = strdup(value);
		return *slot != NULL;
	}
	char qn[64], qs[48];

	quote_value(name, qn, sizeof qn, 60);
	quote_value(section, qs, sizeof qs, 40);
	snprintf(m->err, sizeof m->err,
		 "'%s' is in section [%s]; use [columns], [options] or "
		 "[countries]",
		 qn, qs);
	return 0;
}

static int mapping_read(const char *path, mapping *m, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	void *stream[2] = {f, m};
	int rv;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rv = ini_parse_stream(count_lines, stream, on_ini, m);
	fclose(f);
	if (rv != 0) {
		snprintf(err, errlen, "%s: line %d: %s", path, rv,
			 m->err[0] ? m->err : "not a 'name = value' line");
		return -1;
	}
	if (m->n == 0) {
		snprintf(err, errlen, "%s: no [columns] entry", path);
		return -1;
	}
	return 0;
}

static void free_list(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

static void mapping_free(mapping *m)
{
	free_list(m->header, m->n);
	free_list(m->target, m->n);
	free(m->line);
	free_list(m->cname, m->ncountries);
	free_list(m->ccode, m->ncountries);
	free(m->delimiter);
	free(m->encoding);
	free(m->date_format);
	free(m->currency);
}

/* --- opening --------------------------------------------------------- */

static void src_free(import_src *s)
{
	if (!s)
		return;
	csv_table_close(s->t);
	for (size_t i = 0; i < s->ncols; i++) {
		free(s->headers[i]);
		if (s->map)
			free(s->map[i].custom);
	}
	free(s->headers);
	free(s->map);
	mapping_free(&s->m);
	for (size_t i = 0; i < s->nlines; i++) {
		pline *l = &s->lines[i];

		free(l->invoice);
		free(l->code);
		free(l->desc);
		free(l->customer);
		free(l->currency);
	}
	free(s->lines);
	for (size_t i = 0; i < s->ngroups; i++) {
		free(s->groups[i].rows);
		free(s->groups[i].key);
	}
	free(s->groups);
	free(s->hash);
	for (size_t i = 0; i < s->nbad; i++)
		free(s->bad_inv[i]);
	free(s->bad_inv);
	free(s->bad_line);
	for (size_t i = 0; i < s->nouts; i++)
		free(s->outs[i].reason);
	free(s->outs);
	free(s->ignored);
	free(s->path);
	free(s);
}

static char parse_delimiter(const char *d)
{
	if (!d || !*d)
		return 0;
	if (strcasecmp(d, "comma") == 0 || strcmp(d, ",") == 0)
		return ',';
	if (strcasecmp(d, "semicolon") == 0 || strcmp(d, ";") == 0)
		return ';';
	if (strcasecmp(d, "tab") == 0 || strcmp(d, "\\t") == 0 ||
	    strcmp(d, "\t") == 0)
		return '\t';
	return -1;
}

/* Maps column i from the mapping file's target text. */
static int map_target(colmap *c, const char *t)
{
	if (strncmp(t, "custom.", 7) == 0) {
		c->t = T_CUSTOM;
		c->custom = strdup(t + 7);
		return c->custom ? 0 : -1;
	}
	for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++)
		if (strcmp(t, targets[k].name) == 0)
			c->t = targets[k].t;
	return 0;
}

/* Whether the n bytes at s are word, in any case. */
static bool is_word(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Google Contacts numbers the columns of repeated fields: "E-mail 2 -
 * Value", "Phone 3 - Label", "Address 1 - City" (the older layout writes
 * "- Type" for "- Label"). Maps those of emails and phones, however many,
 * and of the first ROW_ADDR_MAX addresses; an address's extended address
 * (the second street line) joins its street. */
static void google_target(colmap *c, const char *header)
{
	static const struct {
		const char *part;
		enum target t;
	} addr_parts[] = {
	    {"street", T_STREET},      {"extended address", T_STREET},
	    {"city", T_CITY},	       {"region", T_REGION},
	    {"postal code", T_POSTAL}, {"country", T_COUNTRY},
	    {"label", T_ADDR_LABEL},   {"type", T_ADDR_LABEL},
	};
	enum target kind;
	size_t n, k = 0, num = 0;
	const char *h = trimmed(header, &n);

	if (n > 7 && strncasecmp(h, "e-mail ", 7) == 0) {
		kind = T_EMAIL;
		k = 7;
	} else if (n > 6 && strncasecmp(h, "phone ", 6) == 0) {
		kind = T_PHONE;
		k = 6;
	} else if (n > 8 && strncasecmp(h, "address ", 8) == 0) {
		kind = T_STREET;
		k = 8;
	} else {
		return;
	}
	for (; k < n && isdigit((unsigned char)h[k]) && num < 1000; k++)
		num = num * 10 + (size_t)(h[k] - '0');
	if (num == 0 || n - k < 3 || memcmp(h + k, " - ", 3) != 0)
		return;
	h += k + 3;
	n -= k + 3;

	if (kind != T_STREET) {
		if (is_word(h, n, "value")) {
			c->t = kind;
			/* "a@example.com ::: b@example.com" */
			c->split = true;
		} else if (is_word(h, n, "label") || is_word(h, n, "type")) {
			c->t = T_LABEL;
		}
		return;
	}
	if (num > ROW_ADDR_MAX)
		return;
	for (size_t i = 0; i < sizeof addr_parts / sizeof addr_parts[0]; i++)
		if (is_word(h, n, addr_parts[i].part)) {
			c->t = addr_parts[i].t;
			c->addr = (int)num - 1;
		}
}

static void auto_target(import_src *s, colmap *c, const char *header)
{
	if (s->purchases) {
		for (size_t k = 0;
		     k < sizeof auto_purchase / sizeof auto_purchase[0]; k++)
			if (same_name(header, auto_purchase[k].name))
				c->t = auto_purchase[k].t;
		return;
	}
	for (size_t k = 0; k < sizeof auto_map / sizeof auto_map[0]; k++)
		if (same_name(header, auto_map[k].name)) {
			c->t = auto_map[k].t;
			c->addr = auto_map[k].addr;
			c->label = auto_map[k].label;
			return;
		}
	google_target(c, header);
}

/* A Google header without its last part: "Phone 2" of "Phone 2 - Label";
 * the start, and *n bytes. */
static const char *google_stem(const char *header, size_t *n)
{
	const char *h = trimmed(header, n);

	while (*n >= 3 && memcmp(h + *n - 3, " - ", 3) != 0)
		(*n)--;
	*n = *n >= 3 ? *n - 3 : 0;
	return h;
}

/* Gives each Google label column ("Phone 2 - Label") to the value column
 * of the same stem ("Phone 2 - Value"), which reads it; a label column
 * without one is ignored. */
static void link_labels(import_src *s)
{
	for (size_t i = 0; i < s->ncols; i++) {
		size_t ni, nj;
		const char *hi = google_stem(s->headers[i], &ni);
		bool linked = false;

		if (s->map[i].t != T_LABEL)
			continue;
		for (size_t j = 0; j < s->ncols && !linked; j++) {
			const char *hj = google_stem(s->headers[j], &nj);

			if (!s->map[j].split || s->map[j].label_col != NO_COL ||
			    ni != nj || strncasecmp(hi, hj, ni) != 0)
				continue;
			s->map[j].label_col = i;
			linked = true;
		}
		if (!linked)
			s->map[i].t = T_NONE;
	}
}

/* Lists every unmapped header for the first record's note. Returns 0,
 * or -1 when memory ran out. */
static int note_ignored(import_src *s)
{
	static const char pfx[] = "ignored columns: ";
	size_t len = sizeof pfx;
	char *o;

	for (size_t i = 0; i < s->ncols; i++)
		if (s->map[i].t == T_NONE && *s->headers[i])
			len += strlen(s->headers[i]) + 2;
	if (len == sizeof pfx)
		return 0;
	o = malloc(len);
	if (!o)
		return -1;
	memcpy(o, pfx, sizeof pfx);
	for (size_t i = 0, n = 0; i < s->ncols; i++) {
		if (s->map[i].t != T_NONE || !*s->headers[i])
			continue;
		if (n++ > 0)
			strcat(o, ", ");
		strcat(o, s->headers[i]);
	}
	s->ignored = o;
	return 0;
}

static int build_map(import_src *s, char *err, size_t errlen)
{
	bool any = false;

	s->map = calloc(s->ncols ? s->ncols : 1, sizeof *s->map);
	if (!s->map)
		goto nomem;
	for (size_t i = 0; i < s->ncols; i++) {
		s->map[i].label_col = NO_COL;
		if (s->m.n == 0) {
			auto_target(s, &s->map[i], s->headers[i]);
		} else {
			size_t first = s->m.n;

			for (size_t k = 0; k < s->m.n; k++) {
				if (!same_name(s->m.header[k], s->headers[i]))
					continue;
				/* One column, one target: a second is a
				 * mistake in the mapping. */
				if (first < s->m.n) {
					char qh[64];

					quote_value(s->m.header[k], qh,
						    sizeof qh, 60);
					snprintf(err, errlen,
						 "line %lu of the mapping: "
						 "column '%s' is mapped "
						 "already, on line %lu",
						 s->m.line[k], qh,
						 s->m.line[first]);
					return -1;
				}
				first = k;
				if (map_target(&s->map[i], s->m.target[k]) != 0)
					goto nomem;
			}
		}
	}
	link_labels(s);
	for (size_t i = 0; i < s->ncols; i++)
		if (s->map[i].t != T_NONE && s->map[i].t != T_ADDR_LABEL)
			any = true;

	/* A mapping entry for a column the file lacks is a mistake in the
	 * mapping (or the wrong file): say which. */
	for (size_t k = 0; k < s->m.n; k++) {
		bool found = false;

		for (size_t i = 0; i < s->ncols && !found; i++)
			found = same_name(s->m.header[k], s->headers[i]);
		if (!found) {
			char qh[64];

			quote_value(s->m.header[k], qh, sizeof qh, 60);
			snprintf(err, errlen,
				 "line %lu of the mapping: column '%s' is "
				 "not in %s's header",
				 s->m.line[k], qh, s->path);
			return -1;
		}
	}

	if (!any) {
		/* Headers while they fit, always leaving room for ", ...". */
		static const char more[] = ", ...";
		char list[200] = "";
		size_t len = 0;

		for (size_t i = 0; i < s->ncols; i++) {
			const char *sep = i ? ", " : "";
			size_t add = strlen(sep) + strlen(s->headers[i]);

			if (len + add + sizeof more > sizeof list) {
				memcpy(list + len, more, sizeof more);
				break;
			}
			len += (size_t)snprintf(list + len, sizeof list - len,
						"%s%s", sep, s->headers[i]);
		}
		snprintf(err, errlen,
			 "%s: no column can be mapped (headers: %s); give "
			 "--mapping",
			 s->path, list);
		return -1;
	}
	if (note_ignored(s) != 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", s->path);
	return -1;
}

static bool is_date_target(enum target t)
{
	return t == T_BIRTH || t == P_DATE;
}

/* The first value of a date column that can only be read day first,
 * only month first, and either way, with their lines. */
enum { SEEN_DM, SEEN_MD, SEEN_EITHER, SEEN_KINDS };
typedef struct {
	char *value[SEEN_KINDS];
	unsigned long line[SEEN_KINDS];
} date_seen;

/* Decides the day/month order of each date column, once for the whole
 * file. With a format, that format. Without, a column settles its own
 * order when some value can only be read one way (25/04/2021 is D/M) and
 * none the other way. A column that nothing settles (only values such as
 * 03/04/2021) or that has values of both ways stops the file here, before
 * any record is sent. */
static int date_orders(import_src *s, enum order fmt, char *err, size_t errlen)
{
	bool need = false;
	date_seen *seen;
	csv_row row;
	int rv = -1, r;

	for (size_t i = 0; i < s->ncols; i++) {
		if (is_date_target(s->map[i].t)) {
			s->map[i].order = fmt;
			need = true;
		}
	}
	if (!need || fmt != O_NONE)
		return 0;

	seen = calloc(s->ncols, sizeof *seen);
	if (!seen)
		goto nomem;

	/* The header was read already: the rest of the file follows; a row
	 * too wide to read is rejected when it comes. */
	while ((r = csv_table_next(s->t, &row, err, errlen)) == 1) {
		if (row.cells > row.n)
			continue;
		for (size_t i = 0; i < row.n && i < s->ncols; i++) {
			int n[3], kind;
			size_t len[3];

			if (!is_date_target(s->map[i].t) ||
			    !split_date(row.fields[i], n, len) || len[2] != 4 ||
			    zero_date(row.fields[i]))
				continue;
			if (n[0] > 12 && n[1] <= 12)
				kind = SEEN_DM;
			else if (n[1] > 12 && n[0] <= 12)
				kind = SEEN_MD;
			else if (n[0] <= 12 && n[1] <= 12)
				kind = SEEN_EITHER;
			else
				continue;
			if (seen[i].value[kind])
				continue;
			seen[i].value[kind] = strdup(row.fields[i]);
			if (!seen[i].value[kind])
				goto nomem;
			seen[i].line[kind] = row.line;
		}
	}
	/* A broken file is reported by next(), at its place. */
	err[0] = '\0';

	for (size_t i = 0; i < s->ncols; i++) {
		const date_seen *d = &seen[i];
		char qh[48], q1[32], q2[32];

		if (!is_date_target(s->map[i].t))
			continue;
		quote_value(s->headers[i], qh, sizeof qh, 40);
		if (d->value[SEEN_DM] && d->value[SEEN_MD]) {
			quote_value(d->value[SEEN_DM], q1, sizeof q1, 20);
			quote_value(d->value[SEEN_MD], q2, sizeof q2, 20);
			snprintf(err, errlen,
				 "%s: column %zu (%s) has dates both ways: "
				 "%s (line %lu) can only be day/month and %s "
				 "(line %lu) only month/day; pass "
				 "--date-format DD/MM/YYYY or MM/DD/YYYY",
				 s->path, i + 1, qh, q1, d->line[SEEN_DM], q2,
				 d->line[SEEN_MD]);
			goto out;
		}
		if (d->value[SEEN_DM])
			s->map[i].order = O_DMY;
		else if (d->value[SEEN_MD])
			s->map[i].order = O_MDY;
		else if (d->value[SEEN_EITHER]) {
			quote_value(d->value[SEEN_EITHER], q1, sizeof q1, 20);
			snprintf(err, errlen,
				 "%s: line %lu, column %zu (%s): dates "
				 "such as %s could be day/month or "
				 "month/day; pass --date-format DD/MM/YYYY "
				 "or MM/DD/YYYY",
				 s->path, d->line[SEEN_EITHER], i + 1, qh, q1);
			goto out;
		}
	}
	rv = 0;
	goto out;
nomem:
	snprintf(err, errlen, "%s: out of memory", s->path);
out:
	for (size_t i = 0; seen && i < s->ncols; i++)
		for (int k = 0; k < SEEN_KINDS; k++)
			free(seen[i].value[k]);
	free(seen);
	return rv;
}

/* Reads the header (the first row that is not blank). */
static int read_header(import_src *s, char *err, size_t errlen)
{
	csv_row row;
	int r;

	do {
		r = csv_table_next(s->t, &row, err, errlen);
	} while (r == 1 && row.n == 0);
	if (r < 0) {
		char tmp[300];

		snprintf(tmp, sizeof tmp, "%s: %s", s->path, err);
		snprintf(err, errlen, "%s", tmp);
		return -1;
	}
	if (r == 0) {
		snprintf(err, errlen, "%s: empty file, no header", s->path);
		return -1;
	}
	if (row.cells > row.n) {
		snprintf(err, errlen,
			 "%s: line %lu: the header has %zu columns; a row may "
			 "have at most %d",
			 s->path, row.line, row.cells, CSV_TABLE_MAX_FIELDS);
		return -1;
	}
	if (s->headers)
		return 0;
	s->headers = calloc(row.n, sizeof *s->headers);
	if (!s->headers)
		goto nomem;
	for (size_t i = 0; i < row.n; i++) {
		s->headers[i] = strdup(row.fields[i]);
		if (!s->headers[i])
			goto nomem;
		s->ncols++;
	}
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", s->path);
	return -1;
}

static int open_common(const char *path, const import_opts *o, bool purchases,
		       import_src **out, char *err, size_t errlen)
{
	import_src *s = calloc(1, sizeof *s);
	const char *enc, *fmt;
	char delim;
	enum order order = O_NONE;

	*out = NULL;
	if (!s || !(s->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	s->purchases = purchases;

	/* The command line wins over the mapping's [options]. */
	if (o->mapping && mapping_read(o->mapping, &s->m, err, errlen) != 0)
		goto fail;
	enc = o->encoding ? o->encoding : s->m.encoding;
	fmt = o->date_format ? o->date_format : s->m.date_format;
	delim = o->delimiter;
	if (!delim) {
		int d = parse_delimiter(s->m.delimiter);

		if (d < 0) {
			char qd[32];

			quote_value(s->m.delimiter, qd, sizeof qd, 20);
			snprintf(err, errlen,
				 "%s: delimiter must be comma, semicolon or "
				 "tab, not '%s'",
				 o->mapping, qd);
			goto fail;
		}
		delim = (char)d;
	}
	if (fmt && (order = format_order(fmt)) == O_NONE) {
		char qf[40];

		quote_value(fmt, qf, sizeof qf, 30);
		snprintf(err, errlen,
			 "date format '%s' is not one of DD/MM/YYYY, "
			 "MM/DD/YYYY, YYYY/MM/DD (any of / - . between)",
			 qf);
		goto fail;
	}
	if (purchases) {
		const char *cur = o->currency ? o->currency : s->m.currency;

		if (cur && validate_currency(cur, s->currency, &s->exponent,
					     NULL, 0) != 0) {
			char qc[32];

			quote_value(cur, qc, sizeof qc, 20);
			snprintf(err, errlen,
				 "'%s' is not an ISO 4217 currency", qc);
			goto fail;
		}
	}

	if (csv_table_open(path, enc, delim, &s->t, err, errlen) != 0)
		goto fail;
	if (read_header(s, err, errlen) != 0 || build_map(s, err, errlen) != 0)
		goto fail;
	if (date_orders(s, order, err, errlen) != 0)
		goto fail;

	/* Back to the first record. */
	csv_table_rewind(s->t);
	if (read_header(s, err, errlen) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	src_free(s);
	return -1;
}

/* --- customers: one row, one card ---------------------------------- */

typedef struct {
	size_t nstreet; /* street cells: build_card joins them */
	const char *city, *postal, *region, *country;
	size_t country_col;
	const char *label; /* the file's own label (Google), or NULL */
} row_addr;

typedef struct {
	const char *given, *family, *full, *company, *extid, *number, *status,
	    *branch, *gender, *profession, *language, *birth;
	size_t birth_col;
	bool birth_no_year; /* Google's "--12-31", left out */
	const char *by, *bm, *bd;
	size_t by_col;
	const char *email[ROW_MULTI_MAX], *email_label[ROW_MULTI_MAX];
	size_t nemail;
	const char *phone[ROW_MULTI_MAX], *phone_label[ROW_MULTI_MAX];
	size_t nphone;
	row_addr addr[ROW_ADDR_MAX];
	const char *cname[ROW_MULTI_MAX], *cvalue[ROW_MULTI_MAX];
	size_t ncustom;
	bool any;
	bool too_many; /* more emails or phones than ROW_MULTI_MAX */
	size_t too_many_col;
} row_vals;

static void take(const char **slot, const char *v)
{
	if (!*slot)
		*slot = v;
}

/* The next of the values of a cell separated by ":::", trimmed and cut
 * in place; *rest moves past it, to NULL after the last. */
static char *next_part(char **rest)
{
	char *part = *rest, *sep = strstr(part, ":::");
	size_t len;

	*rest = NULL;
	if (sep) {
		*sep = '\0';
		*rest = sep + 3;
	}
	while (*part == ' ' || *part == '\t')
		part++;
	len = strlen(part);
	while (len > 0 && (part[len - 1] == ' ' || part[len - 1] == '\t'))
		part[--len] = '\0';
	return part;
}

/* A label as Google writes it, "* Home" (the star marks the preferred
 * value), as the card keeps it: the labels vCard has too in lower case,
 * as the vCard reader writes them ("fax" for every fax), any other as
 * written. NULL when there is none. */
static const char *label_of(const char *v)
{
	static const struct {
		const char *name, *label;
	} known[] = {
	    {"home", "home"},	  {"work", "work"},
	    {"mobile", "mobile"}, {"work mobile", "mobile"},
	    {"main", "main"},	  {"other", "other"},
	    {"pager", "pager"},	  {"work pager", "pager"},
	    {"fax", "fax"},	  {"home fax", "fax"},
	    {"work fax", "fax"},  {"other fax", "fax"},
	};

	if (*v == '*')
		v++;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return NULL;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (same_name(v, known[i].name))
			return known[i].label;
	return v;
}

/* Adds the email or phone v of column col; a column marked split holds
 * several, separated by ":::" (Google Contacts writes "a@example.com :::
 * b@example.com"). Each takes the label in the same place of lcell, the
 * column's label cell (Google's "* Home ::: Work"), or lcell's only
 * label, or else the column's own. v and lcell are cut in place: the
 * row's fields are read once. */
static void add_contact(row_vals *r, const colmap *c, size_t col, char *v,
			char *lcell)
{
	bool email = c->t == T_EMAIL;
	const char **vals = email ? r->email : r->phone;
	const char **labels = email ? r->email_label : r->phone_label;
	size_t *n = email ? &r->nemail : &r->nphone;
	char *lrest = lcell && *lcell ? lcell : NULL;
	const char *every = NULL;

	if (lrest && !strstr(lrest, ":::"))
		every = label_of(next_part(&lrest));
	for (char *rest = v; rest != NULL;) {
		char *part = rest;
		const char *label = every ? every : c->label;

		if (c->split)
			part = next_part(&rest);
		else
			rest = NULL;
		if (lrest) {
			const char *l = label_of(next_part(&lrest));

			label = l ? l : label;
		}
		if (*part && *n == ROW_MULTI_MAX) {
			if (!r->too_many)
				r->too_many_col = col;
			r->too_many = true;
		} else if (*part) {
			labels[*n] = label;
			vals[(*n)++] = part;
		}
	}
}

/* Whether v, in a column of target t, is what an export writes for no
 * value: a date of zeros, Outlook's gender "Unspecified". */
static bool says_none(enum target t, const char *v)
{
	return (t == T_BIRTH && zero_date(v)) ||
	       (t == T_GENDER && strcasecmp(v, "unspecified") == 0);
}

static void collect(import_src *s, const csv_row *row, row_vals *r)
{
	for (size_t i = 0; i < row->n && i < s->ncols; i++) {
		char *v = row->fields[i];
		const colmap *c = &s->map[i];
		row_addr *a = &r->addr[c->addr];

		/* Label cells are read with their values. */
		if (!*v || c->t == T_NONE || c->t == T_LABEL ||
		    says_none(c->t, v))
			continue;
		if (c->t == T_ADDR_LABEL) {
			take(&a->label, label_of(v));
			continue;
		}
		r->any = true;
		switch (c->t) {
		case T_GIVEN:
			take(&r->given, v);
			break;
		case T_FAMILY:
			take(&r->family, v);
			break;
		case T_FULL:
			take(&r->full, v);
			break;
		case T_COMPANY:
			take(&r->company, v);
			break;
		case T_EXTID:
			take(&r->extid, v);
			break;
		case T_NUMBER:
			take(&r->number, v);
			break;
		case T_STATUS:
			take(&r->status, v);
			break;
		case T_BRANCH:
			take(&r->branch, v);
			break;
		case T_GENDER:
			take(&r->gender, v);
			break;
		case T_PROFESSION:
			take(&r->profession, v);
			break;
		case T_LANGUAGE:
			take(&r->language, v);
			break;
		case T_BIRTH:
			/* Google writes a birthday without its year as
			 * "--12-31": no birth date, but no mistake either. */
			if (strncmp(v, "--", 2) == 0) {
				r->birth_no_year = true;
			} else if (!r->birth) {
				r->birth = v;
				r->birth_col = i;
			}
			break;
		case T_BYEAR:
			take(&r->by, v);
			r->by_col = i;
			break;
		case T_BMONTH:
			take(&r->bm, v);
			break;
		case T_BDAY:
			take(&r->bd, v);
			break;
		case T_EMAIL:
		case T_PHONE:
			add_contact(r, c, i, v,
				    c->label_col < row->n
					? row->fields[c->label_col]
					: NULL);
			break;
		case T_STREET:
			a->nstreet++;
			break;
		case T_CITY:
			take(&a->city, v);
			break;
		case T_POSTAL:
			take(&a->postal, v);
			break;
		case T_REGION:
			take(&a->region, v);
			break;
		case T_COUNTRY:
			if (!a->country) {
				a->country = v;
				a->country_col = i;
			}
			break;
		case T_CUSTOM:
			if (r->ncustom < ROW_MULTI_MAX) {
				r->cname[r->ncustom] = c->custom;
				r->cvalue[r->ncustom++] = v;
			}
			break;
		default:
			break;
		}
	}
}

static int set_str(char **slot, const char *v)
{
	char *d = strdup(v ? v : "");

	if (!d)
		return -1;
	if (*slot && *slot != protobuf_c_empty_string)
		free(*slot);
	*slot = d;
	return 0;
}

/* Like set_str, taking v (allocated; NULL when memory ran out). */
static int set_own(char **slot, char *v)
{
	if (!v)
		return -1;
	if (*slot && *slot != protobuf_c_empty_string)
		free(*slot);
	*slot = v;
	return 0;
}

/* A copy of s in lower case (ASCII letters). */
static char *lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Looks a country up: an ISO code, the mapping's [countries], or the
 * table of names. NULL when unknown. */
static const char *country_of(import_src *s, const char *v,
			      char buf[VALIDATE_COUNTRY_SIZE])
{
	if (strlen(v) == 2 && validate_country(v, buf, NULL, 0) == 0)
		return buf;
	for (size_t i = 0; i < s->m.ncountries; i++)
		if (same_name(s->m.cname[i], v))
			return s->m.ccode[i];
	return csv_country_code(v);
}

static const char *gender_of(const char *g)
{
	if (strcasecmp(g, "male") == 0 || strcasecmp(g, "m") == 0)
		return "m";
	if (strcasecmp(g, "female") == 0 || strcasecmp(g, "f") == 0)
		return "f";
	return g;
}

/* The street of address k: every street cell of it (Street, Street 2 and
 * Street 3; Address and Address 2; Google's extended address) in column
 * order, joined with ", ". A new string, NULL when memory ran out. */
static char *join_street(const import_src *s, const csv_row *row, int k)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < row->n && i < s->ncols; i++)
		if (s->map[i].t == T_STREET && s->map[i].addr == k)
			len += strlen(row->fields[i]) + 2;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < row->n && i < s->ncols; i++) {
		size_t n = strlen(row->fields[i]);

		if (s->map[i].t != T_STREET || s->map[i].addr != k || n == 0)
			continue;
		if (p > out) {
			memcpy(p, ", ", 2);
			p += 2;
		}
		memcpy(p, row->fields[i], n);
		p += n;
	}
	*p = '\0';
	return out;
}

/* Builds rec->card from r (read from row), or fills rec->reason. Returns
 * 0, or -1 when memory ran out. */
static int build_card(import_src *s, const csv_row *row, row_vals *r,
		      import_rec *rec)
{
	Carta__V1__Card *c = malloc(sizeof *c);
	char birth[VALIDATE_DATE_SIZE] = "";
	const char *countries[ROW_ADDR_MAX] = {NULL};
	char cbuf[ROW_ADDR_MAX][VALIDATE_COUNTRY_SIZE];
	size_t naddr = 0;

	if (!c)
		return -1;
	carta__v1__card__init(c);
	rec->card = c;

	if (r->too_many) {
		char what[80];

		snprintf(what, sizeof what,
			 "makes more than %d emails or phones in one row",
			 ROW_MULTI_MAX);
		reason_col(s, rec, r->too_many_col, what, NULL);
		goto reject;
	}

	/* What only the file can settle: dates and country names. */
	if (r->birth) {
		int d = parse_date(r->birth, s->map[r->birth_col].order, birth);

		if (d != 0) {
			reason_col(s, rec, r->birth_col,
				   d == -2 ? "could be day/month or "
					     "month/day; pass --date-format"
					   : "is not a date",
				   r->birth);
			goto reject;
		}
	} else if (r->by && r->bm && r->bd) {
		char tmp[VALIDATE_DATE_SIZE];
		size_t nm = strlen(r->bm), nd = strlen(r->bd);

		/* Four digits, then one or two: the date fits tmp. */
		if (strlen(r->by) != 4 || !digits(r->by, 4) || nm > 2 ||
		    !digits(r->bm, nm) || nd > 2 || !digits(r->bd, nd) ||
		    snprintf(tmp, sizeof tmp, "%s-%02d-%02d", r->by,
			     atoi(r->bm), atoi(r->bd)) >= (int)sizeof tmp ||
		    validate_date(tmp, birth, NULL, 0) != 0) {
			char *v = str_printf("%s/%s/%s", r->by, r->bm, r->bd);

			if (!v)
				return -1;
			reason_col(s, rec, r->by_col,
				   "(year/month/day) is not a date", v);
			free(v);
			goto reject;
		}
	} else if ((r->by || r->bm || r->bd || r->birth_no_year) &&
		   import_rec_note(rec, "incomplete birth date left out") !=
		       0) {
		return -1;
	}
	for (size_t k = 0; k < ROW_ADDR_MAX; k++) {
		row_addr *a = &r->addr[k];

		if (a->country) {
			countries[k] = country_of(s, a->country, cbuf[k]);
			if (!countries[k]) {
				reason_col(s, rec, a->country_col,
					   "is not a country this reader "
					   "knows; use an ISO 3166 code or "
					   "[countries] in a mapping",
					   a->country);
				goto reject;
			}
		}
		if (a->nstreet || a->city || a->postal || a->region ||
		    a->country)
			naddr++;
	}

	/* Identity. */
	const char *given = r->given, *family = r->family;
	size_t given_len = given ? strlen(given) : 0;
	if (!given && !family && r->full) {
		const char *sp = strrchr(r->full, ' ');

		given = r->full;
		given_len = strlen(given);
		if (sp) {
			given_len = (size_t)(sp - r->full);
			family = sp + 1;
		}
	}
	if (given || family || r->company || r->extid || r->number ||
	    r->status || r->branch) {
		Carta__V1__Identity *id = malloc(sizeof *id);

		if (!id)
			return -1;
		carta__v1__identity__init(id);
		c->identity = id;
		if ((given &&
		     set_own(&id->given_name, strndup(given, given_len))) ||
		    (family && set_str(&id->family_name, family)) ||
		    (r->company && set_str(&id->company, r->company)) ||
		    (r->extid && set_str(&id->external_id, r->extid)) ||
		    (r->number && set_str(&id->number, r->number)) ||
		    (r->status && set_own(&id->status, lower_dup(r->status))) ||
		    (r->branch && set_str(&id->home_branch, r->branch)))
			return -1;
	}

	/* Contact. */
	if (r->nemail || r->nphone || naddr) {
		Carta__V1__Contact *ct = malloc(sizeof *ct);

		if (!ct)
			return -1;
		carta__v1__contact__init(ct);
		c->contact = ct;
		ct->emails = calloc(r->nemail + 1, sizeof *ct->emails);
		ct->phones = calloc(r->nphone + 1, sizeof *ct->phones);
		ct->addresses = calloc(naddr + 1, sizeof *ct->addresses);
		if (!ct->emails || !ct->phones || !ct->addresses)
			return -1;
		for (size_t k = 0; k < r->nemail; k++) {
			Carta__V1__Email *e = malloc(sizeof *e);

			if (!e)
				return -1;
			carta__v1__email__init(e);
			ct->emails[ct->n_emails++] = e;
			e->primary = k == 0;
			if (set_str(&e->address, r->email[k]) ||
			    (r->email_label[k] &&
			     set_str(&e->label, r->email_label[k])))
				return -1;
		}
		for (size_t k = 0; k < r->nphone; k++) {
			Carta__V1__Phone *p = malloc(sizeof *p);

			if (!p)
				return -1;
			carta__v1__phone__init(p);
			ct->phones[ct->n_phones++] = p;
			p->primary = k == 0;
			if (set_str(&p->number, r->phone[k]) ||
			    set_str(&p->original, r->phone[k]) ||
			    (r->phone_label[k] &&
			     set_str(&p->label, r->phone_label[k])))
				return -1;
		}
		static const char *const labels[] = {"home", "work", "other"};
		for (size_t k = 0; k < ROW_ADDR_MAX; k++) {
			row_addr *a = &r->addr[k];

			if (!a->nstreet && !a->city && !a->postal &&
			    !a->region && !a->country)
				continue;
			Carta__V1__Address *ad = malloc(sizeof *ad);
			if (!ad)
				return -1;
			carta__v1__address__init(ad);
			ad->primary = ct->n_addresses == 0;
			ct->addresses[ct->n_addresses++] = ad;
			const char *label = a->label;
			if (!label && naddr > 1)
				label = labels[k];
			if ((a->nstreet &&
			     set_own(&ad->street,
				     join_street(s, row, (int)k))) ||
			    (a->city && set_str(&ad->city, a->city)) ||
			    (a->postal &&
			     set_str(&ad->postal_code, a->postal)) ||
			    (a->region && set_str(&ad->region, a->region)) ||
			    (countries[k] &&
			     set_str(&ad->country, countries[k])) ||
			    (label && set_str(&ad->label, label)))
				return -1;
		}
	}

	/* Demographics. */
	if (birth[0] || r->gender || r->profession || r->language) {
		Carta__V1__Demographics *d = malloc(sizeof *d);

		if (!d)
			return -1;
		carta__v1__demographics__init(d);
		c->demographics = d;
		if ((birth[0] && set_str(&d->birth_date, birth)) ||
		    (r->gender && set_str(&d->gender, gender_of(r->gender))) ||
		    (r->profession && set_str(&d->profession, r->profession)) ||
		    (r->language && set_str(&d->language, r->language)))
			return -1;
	}

	/* Custom values: the server knows each field's section. */
	if (r->ncustom) {
		c->custom = calloc(r->ncustom, sizeof *c->custom);
		if (!c->custom)
			return -1;
		for (size_t k = 0; k < r->ncustom; k++) {
			Carta__V1__CustomValue *v = malloc(sizeof *v);

			if (!v)
				return -1;
			carta__v1__custom_value__init(v);
			c->custom[c->n_custom++] = v;
			if (set_str(&v->field, r->cname[k]) ||
			    set_str(&v->value, r->cvalue[k]))
				return -1;
		}
	}

	if (!c->identity && !c->contact && !c->demographics && !c->n_custom) {
		snprintf(rec->reason, sizeof rec->reason,
			 "no value in a mapped column");
		goto reject;
	}
	return 0;
reject:
	carta__v1__card__free_unpacked(c, NULL);
	rec->card = NULL;
	return 0;
}

static int csv_open(const char *path, const import_opts *o, import_src **out,
		    char *err, size_t errlen)
{
	return open_common(path, o, false, out, err, errlen);
}

static bool row_empty(const csv_row *row)
{
	for (size_t i = 0; i < row->n; i++)
		if (row->fields[i][0])
			return false;
	return true;
}

/* Extra fields past the header are an error unless empty (some exports
 * end every row with a delimiter). */
static bool extra_fields(import_src *s, const csv_row *row)
{
	for (size_t i = s->ncols; i < row->n; i++)
		if (row->fields[i][0])
			return true;
	return false;
}

static int csv_next(import_src *s, import_rec *rec, char *err, size_t errlen)
{
	csv_row row;
	row_vals r;
	int rv;

	import_rec_clear(rec);
	rv = csv_table_next(s->t, &row, err, errlen);
	if (rv <= 0)
		return rv;
	rec->line = row.line;
	rec->lines = 1;
	if (!s->first_done) {
		s->first_done = true;
		if (s->ignored && import_rec_note(rec, s->ignored) != 0)
			goto nomem;
	}

	/* Its cells past the limit are not kept: it may not be empty. */
	if (too_wide(&row, rec->reason, sizeof rec->reason))
		return 1;
	if (row.n == 0 || row_empty(&row)) {
		rec->skipped = true;
		snprintf(rec->reason, sizeof rec->reason, "empty row");
		return 1;
	}
	if (extra_fields(s, &row)) {
		snprintf(rec->reason, sizeof rec->reason,
			 "%zu fields, the header has %zu", row.n, s->ncols);
		return 1;
	}
	if (field_too_long(s, &row, rec->reason, sizeof rec->reason))
		return 1;

	memset(&r, 0, sizeof r);
	collect(s, &row, &r);
	if (!r.any) {
		snprintf(rec->reason, sizeof rec->reason,
			 "no value in a mapped column");
		return 1;
	}
	if (build_card(s, &row, &r, rec) != 0)
		goto nomem;
	return 1;
nomem:
	import_rec_clear(rec);
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void any_progress(import_src *s, unsigned long long *done,
			 unsigned long long *total)
{
	if (!s) {
		*done = *total = 0;
		return;
	}
	csv_table_progress(s->t, done, total);
	/* The purchases file is read whole at open: progress is records
	 * returned, in proportion. */
	if (s->purchases && s->rows_total)
		*done = *total ? *total * s->rows_done / s->rows_total : 0;
}

static void any_close(import_src *s)
{
	src_free(s);
}

const import_reader import_csv_reader = {
    .name = "csv",
    .open = csv_open,
    .next = csv_next,
    .progress = any_progress,
    .close = any_close,
};

/* --- purchases: the rows of an invoice, one purchase ---------------- */

static size_t hash_str(const char *k)
{
	uint64_t h = 1469598103934665603ull;

	for (; *k; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

/* The group of key, created when new. Returns its index or SIZE_MAX when
 * memory ran out. */
static size_t group_of(import_src *s, const char *key)
{
	size_t i;

	if ((s->ngroups + 1) * 2 > s->hashcap) {
		size_t ncap = s->hashcap ? s->hashcap * 2 : 1024;
		size_t *nh = calloc(ncap, sizeof *nh);

		if (!nh)
			return SIZE_MAX;
		for (size_t g = 0; g < s->ngroups; g++) {
			i = hash_str(s->groups[g].key) & (ncap - 1);
			while (nh[i])
				i = (i + 1) & (ncap - 1);
			nh[i] = g + 1;
		}
		free(s->hash);
		s->hash = nh;
		s->hashcap = ncap;
	}
	i = hash_str(key) & (s->hashcap - 1);
	while (s->hash[i]) {
		if (strcmp(s->groups[s->hash[i] - 1].key, key) == 0)
			return s->hash[i] - 1;
		i = (i + 1) & (s->hashcap - 1);
	}

	pgroup *ng = grow(s->groups, &s->capg, s->ngroups, sizeof *ng);
	if (!ng)
		return SIZE_MAX;
	s->groups = ng;
	memset(&ng[s->ngroups], 0, sizeof *ng);
	ng[s->ngroups].key = strdup(key);
	if (!ng[s->ngroups].key)
		return SIZE_MAX;
	s->hash[i] = s->ngroups + 1;
	return s->ngroups++;
}

static int add_out(import_src *s, unsigned long line, size_t group, size_t part,
		   size_t parts, bool skipped, const char *reason)
{
	pout *no = grow(s->outs, &s->capo, s->nouts, sizeof *no);

	if (!no)
		return -1;
	s->outs = no;
	pout *o = &no[s->nouts];
	o->line = line;
	o->group = group;
	o->part = part;
	o->parts = parts;
	o->skipped = skipped;
	o->customer = NULL;
	if (group != SIZE_MAX) {
		const char *sep = strchr(s->groups[group].key, '\x1f');
		o->customer = sep ? sep + 1 : s->groups[group].key;
	}
	o->reason = reason ? strdup(reason) : NULL;
	if (reason && !o->reason)
		return -1;
	s->nouts++;
	return 0;
}

/* A whole number, optionally written "12.0" (exports from tools that
 * think in floating point), within +-1e9. */
static bool parse_qty(const char *v, int64_t *q)
{
	const char *p = v;
	bool neg = false;
	int64_t n = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > 1000000000)
			return false;
	}
	if (*p == '.')
		for (p++; *p == '0'; p++)
			;
	if (*p)
		return false;
	*q = neg ? -n : n;
	return true;
}

/* "12621.0" is the key 12621. */
static void normalise_key(char *k)
{
	char *dot = strchr(k, '.');

	if (!dot || !digits(k, (size_t)(dot - k)))
		return;
	for (const char *p = dot + 1; *p; p++)
		if (*p != '0')
			return;
	*dot = '\0';
}

/* Reads one purchases row into a pline, or a reason. Returns 1 for a
 * line, 0 for a row to skip or reject (reason filled, *skip set), -1
 * when memory ran out. */
static int read_pline(import_src *s, const csv_row *row, pline *l, bool *skip,
		      char *reason, size_t cap)
{
	const char *val[P_CURRENCY + 1] = {NULL};
	size_t col[P_CURRENCY + 1] = {0};
	char cbuf[VALIDATE_COUNTRY_SIZE];

	for (size_t i = 0; i < row->n && i < s->ncols; i++) {
		enum target t = s->map[i].t;

		if (t >= P_INVOICE && !val[t]) {
			val[t] = row->fields[i];
			col[t] = i;
		}
	}
	memset(l, 0, sizeof *l);
	l->line = row->line;
	*skip = false;

	if (!val[P_CUSTOMER] || !*val[P_CUSTOMER] ||
	    strcmp(val[P_CUSTOMER], "NA") == 0) {
		*skip = true;
		snprintf(reason, cap, "no customer key");
		return 0;
	}
	if (!val[P_INVOICE] || !*val[P_INVOICE]) {
		row_reason(s, col[P_INVOICE], NULL, "no invoice", reason, cap);
		return 0;
	}
	if (field_too_long(s, row, reason, cap))
		return 0;
	if (!val[P_QTY] || !parse_qty(val[P_QTY], &l->qty)) {
		row_reason(s, col[P_QTY], val[P_QTY], "is not a whole quantity",
			   reason, cap);
		return 0;
	}
	if (l->qty == 0) {
		row_reason(s, col[P_QTY], val[P_QTY],
			   "is zero: a line sells or returns at least one",
			   reason, cap);
		return 0;
	}

	const char *cur = s->currency;
	int exponent = s->exponent;
	char rowcur[VALIDATE_CURRENCY_SIZE];
	if (val[P_CURRENCY] && *val[P_CURRENCY]) {
		if (validate_currency(val[P_CURRENCY], rowcur, &exponent, NULL,
				      0) != 0) {
			row_reason(s, col[P_CURRENCY], val[P_CURRENCY],
				   "is not an ISO 4217 currency", reason, cap);
			return 0;
		}
		cur = rowcur;
	}
	if (!val[P_PRICE] || validate_amount(val[P_PRICE], exponent,
					     &l->price_minor, NULL, 0) != 0) {
		row_reason(s, col[P_PRICE], val[P_PRICE],
			   "is not an amount in the currency", reason, cap);
		return 0;
	}
	if (l->price_minor < 0) {
		row_reason(s, col[P_PRICE], val[P_PRICE],
			   "is negative: a return is a negative quantity at "
			   "its price",
			   reason, cap);
		return 0;
	}
	if (val[P_DATE] && *val[P_DATE]) {
		int d =
		    parse_date(val[P_DATE], s->map[col[P_DATE]].order, l->date);

		if (d != 0) {
			row_reason(s, col[P_DATE], val[P_DATE],
				   d == -2 ? "could be day/month or "
					     "month/day; pass --date-format"
					   : "is not a date",
				   reason, cap);
			return 0;
		}
	}
	if (val[P_COUNTRY] && *val[P_COUNTRY]) {
		l->country = country_of(s, val[P_COUNTRY], cbuf);
		if (l->country == cbuf) {
			memcpy(l->country_buf, cbuf, sizeof cbuf);
			l->country = l->country_buf;
		}
	}

	l->invoice = strdup(val[P_INVOICE]);
	l->customer = strdup(val[P_CUSTOMER]);
	l->code = strdup(val[P_CODE] ? val[P_CODE] : "");
	l->desc = strdup(val[P_DESC] ? val[P_DESC] : "");
	l->currency = strdup(cur);
	if (!l->invoice || !l->customer || !l->code || !l->desc || !l->currency)
		return -1;
	normalise_key(l->customer);
	return 1;
}

/* Records go out grouped by customer (rows without one first), each
 * customer's in file order: an import keeps one customer's invoices in one
 * batch where they fit, so that a dry run, whose batches are each rolled
 * back, sees the card the first invoice creates. */
static int cmp_out(const void *a, const void *b)
{
	const pout *x = a, *y = b;
	int c = strcmp(x->customer ? x->customer : "",
		       y->customer ? y->customer : "");

	if (c != 0)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->part < y->part ? -1 : x->part > y->part;
}

/* The invoice a row names, or NULL. */
static const char *row_invoice(const import_src *s, const csv_row *row)
{
	for (size_t i = 0; i < row->n && i < s->ncols; i++)
		if (s->map[i].t == P_INVOICE && row->fields[i][0] != '\0')
			return row->fields[i];
	return NULL;
}

/* Remembers that invoice has a rejected row (at line): none of it is
 * imported, so that it is never stored incomplete and a corrected file
 * can bring it whole. Returns 0 or -1 (out of memory). */
static int mark_bad_invoice(import_src *s, const char *invoice,
			    unsigned long line)
{
	for (size_t i = 0; i < s->nbad; i++)
		if (strcmp(s->bad_inv[i], invoice) == 0)
			return 0;
	if (s->nbad == s->capbad) {
		size_t ncap = s->capbad ? s->capbad * 2 : 16;
		char **ni = realloc(s->bad_inv, ncap * sizeof(*ni));
		if (!ni)
			return -1;
		s->bad_inv = ni;
		unsigned long *nl = realloc(s->bad_line, ncap * sizeof(*nl));
		if (!nl)
			return -1;
		s->bad_line = nl;
		s->capbad = ncap;
	}
	s->bad_inv[s->nbad] = strdup(invoice);
	if (!s->bad_inv[s->nbad])
		return -1;
	s->bad_line[s->nbad++] = line;
	return 0;
}

/* The line of invoice's rejected row, or 0 when it has none. */
static unsigned long bad_invoice_line(const import_src *s, const char *key)
{
	const char *sep = strchr(key, '\x1f');
	size_t n = sep ? (size_t)(sep - key) : strlen(key);

	for (size_t i = 0; i < s->nbad; i++)
		if (strlen(s->bad_inv[i]) == n &&
		    memcmp(s->bad_inv[i], key, n) == 0)
			return s->bad_line[i];
	return 0;
}

static int purchases_load(import_src *s, char *err, size_t errlen)
{
	csv_row row;
	int r;
	char reason[IMPORT_REASON_MAX];

	while ((r = csv_table_next(s->t, &row, err, errlen)) == 1) {
		pline l;
		bool skip;
		size_t g;

		s->rows_total++;
		if (too_wide(&row, reason, sizeof reason)) {
			const char *inv = row_invoice(s, &row);

			if (add_out(s, row.line, SIZE_MAX, 0, 0, false,
				    reason) != 0 ||
			    (inv && mark_bad_invoice(s, inv, row.line) != 0))
				goto nomem;
			continue;
		}
		if (row.n == 0 || row_empty(&row)) {
			if (add_out(s, row.line, SIZE_MAX, 0, 0, true,
				    "empty row") != 0)
				goto nomem;
			continue;
		}
		int k = read_pline(s, &row, &l, &skip, reason, sizeof reason);
		if (k < 0) {
			free(l.invoice);
			free(l.customer);
			free(l.code);
			free(l.desc);
			free(l.currency);
			goto nomem;
		}
		if (k == 0) {
			const char *inv = skip ? NULL : row_invoice(s, &row);
			if (add_out(s, row.line, SIZE_MAX, 0, 0, skip,
				    reason) != 0 ||
			    (inv && mark_bad_invoice(s, inv, row.line) != 0))
				goto nomem;
			continue;
		}

		/* Group by invoice and customer (one invoice, one buyer). */
		pline *nl = grow(s->lines, &s->capl, s->nlines, sizeof *nl);
		if (!nl) {
			free(l.invoice);
			free(l.customer);
			free(l.code);
			free(l.desc);
			free(l.currency);
			goto nomem;
		}
		s->lines = nl;
		s->lines[s->nlines++] = l;

		char *key = str_printf("%s\x1f%s", l.invoice, l.customer);
		if (!key)
			goto nomem;
		g = group_of(s, key);
		free(key);
		if (g == SIZE_MAX)
			goto nomem;
		pgroup *gp = &s->groups[g];
		size_t *nr = grow(gp->rows, &gp->cap, gp->n, sizeof *nr);
		if (!nr)
			goto nomem;
		gp->rows = nr;
		gp->rows[gp->n++] = s->nlines - 1;
	}
	if (r < 0) {
		char tmp[300];

		snprintf(tmp, sizeof tmp, "%s: %s", s->path, err);
		snprintf(err, errlen, "%s", tmp);
		return -1;
	}

	/* One record per invoice part, in the order of first rows; the
	 * rows of an invoice with a rejected row are rejected with it. */
	for (size_t g = 0; g < s->ngroups; g++) {
		pgroup *gp = &s->groups[g];
		size_t parts =
		    (gp->n + PURCHASE_LINES_MAX - 1) / PURCHASE_LINES_MAX;
		unsigned long bad = bad_invoice_line(s, gp->key);

		if (bad != 0) {
			char why[IMPORT_REASON_MAX];
			snprintf(why, sizeof why,
				 "its invoice has a rejected row (line %lu): "
				 "no row of it is imported, so that it is "
				 "never stored incomplete",
				 bad);
			for (size_t k = 0; k < gp->n; k++)
				if (add_out(s, s->lines[gp->rows[k]].line,
					    SIZE_MAX, 0, 0, false, why) != 0)
					goto nomem;
			continue;
		}

		/* A purchase is a sale or a refund: an invoice selling some
		 * items and taking others back would be stored as a refund of
		 * them all. */
		unsigned long sale = 0, ret = 0;
		for (size_t k = 0; k < gp->n; k++) {
			const pline *l = &s->lines[gp->rows[k]];

			if (l->qty > 0 && sale == 0)
				sale = l->line;
			else if (l->qty < 0 && ret == 0)
				ret = l->line;
		}
		if (sale != 0 && ret != 0) {
			char why[IMPORT_REASON_MAX], qi[64];

			quote_value(s->lines[gp->rows[0]].invoice, qi,
				    sizeof qi, 60);
			snprintf(
			    why, sizeof why,
			    "invoice %s mixes sales (line %lu) and returns "
			    "(line %lu): no row of it is imported; give "
			    "the returns an invoice of their own",
			    qi, sale, ret);
			for (size_t k = 0; k < gp->n; k++)
				if (add_out(s, s->lines[gp->rows[k]].line,
					    SIZE_MAX, 0, 0, false, why) != 0)
					goto nomem;
			continue;
		}

		for (size_t p = 0; p < parts; p++)
			if (add_out(
				s,
				s->lines[gp->rows[p * PURCHASE_LINES_MAX]].line,
				g, p, parts, false, NULL) != 0)
				goto nomem;
	}
	if (s->nouts)
		qsort(s->outs, s->nouts, sizeof *s->outs, cmp_out);
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", s->path);
	return -1;
}

static int purchases_open(const char *path, const import_opts *o,
			  import_src **out, char *err, size_t errlen)
{
	import_src *s;
	bool have[P_CURRENCY + 1] = {false};

	if (open_common(path, o, true, &s, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < s->ncols; i++)
		have[s->map[i].t] = true;
	if (!have[P_INVOICE] || !have[P_CUSTOMER] || !have[P_QTY] ||
	    !have[P_PRICE]) {
		snprintf(err, errlen,
			 "%s: the header needs invoice, customer, quantity "
			 "and unit price columns (see --mapping)",
			 path);
		goto fail;
	}
	if (!s->currency[0] && !have[P_CURRENCY]) {
		snprintf(err, errlen,
			 "%s: prices need a currency: pass --currency (e.g. "
			 "--currency GBP)",
			 path);
		goto fail;
	}
	if (purchases_load(s, err, errlen) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	src_free(s);
	return -1;
}

/* Fills rec with one part of an invoice. Returns 0 or -1 (memory). */
static int build_purchase(import_src *s, const pout *o, import_rec *rec)
{
	pgroup *g = &s->groups[o->group];
	size_t from = o->part * PURCHASE_LINES_MAX;
	size_t n =
	    g->n - from < PURCHASE_LINES_MAX ? g->n - from : PURCHASE_LINES_MAX;
	const pline *first = &s->lines[g->rows[from]];
	Carta__V1__Card *c = malloc(sizeof *c);
	Carta__V1__Purchase *p;
	int64_t amount = 0, qty = 0;
	bool refund = first->invoice[0] == 'C' || first->invoice[0] == 'c';

	if (!c)
		return -1;
	carta__v1__card__init(c);
	rec->card = c;
	rec->lines = n;

	c->identity = malloc(sizeof *c->identity);
	if (!c->identity)
		return -1;
	carta__v1__identity__init(c->identity);
	if (set_str(&c->identity->external_id, first->customer))
		return -1;
	if (first->country) {
		Carta__V1__Contact *ct = malloc(sizeof *ct);

		if (!ct)
			return -1;
		carta__v1__contact__init(ct);
		c->contact = ct;
		ct->addresses = malloc(sizeof *ct->addresses);
		if (!ct->addresses)
			return -1;
		Carta__V1__Address *a = malloc(sizeof *a);
		if (!a)
			return -1;
		carta__v1__address__init(a);
		ct->addresses[ct->n_addresses++] = a;
		a->primary = true;
		if (set_str(&a->country, first->country))
			return -1;
	}

	c->purchases = malloc(sizeof *c->purchases);
	p = malloc(sizeof *p);
	if (!c->purchases || !p) {
		free(p);
		return -1;
	}
	carta__v1__purchase__init(p);
	c->purchases[c->n_purchases++] = p;
	p->lines = calloc(n, sizeof *p->lines);
	if (!p->lines)
		return -1;

	for (size_t k = 0; k < n; k++) {
		const pline *l = &s->lines[g->rows[from + k]];
		Carta__V1__PurchaseLine *pl = malloc(sizeof *pl);
		int64_t q = l->qty < 0 ? -l->qty : l->qty, t;

		if (!pl)
			return -1;
		carta__v1__purchase_line__init(pl);
		p->lines[p->n_lines++] = pl;
		if (l->qty < 0)
			refund = true;
		pl->quantity = q;
		pl->unit_price_minor = l->price_minor;
		if (set_str(&pl->code, l->code) ||
		    set_str(&pl->description, l->desc))
			return -1;
		/* Quantities are capped at 1e9 and prices fit int64: the
		 * product or the sum can still overflow. */
		if (__builtin_mul_overflow(q, l->price_minor, &t) ||
		    __builtin_add_overflow(amount, t, &amount)) {
			char qi[64];

			quote_value(first->invoice, qi, sizeof qi, 60);
			snprintf(rec->reason, sizeof rec->reason,
				 "invoice %s: the total does not fit", qi);
			carta__v1__card__free_unpacked(c, NULL);
			rec->card = NULL;
			return 0;
		}
		qty += q;
	}
	p->amount_minor = amount;
	p->quantity = qty;
	p->refund = refund;

	if ((o->parts > 1
		 ? set_own(&p->invoice,
			   str_printf("%s/%zu", first->invoice, o->part + 1))
		 : set_str(&p->invoice, first->invoice)) ||
	    set_str(&p->currency, first->currency))
		return -1;
	if (first->date[0] && set_str(&p->date, first->date))
		return -1;

	const char *d = first->desc[0] ? first->desc : first->code;
	if (n > 1 ? set_own(&p->product, str_printf("%s and %zu more item%s", d,
						    n - 1, n > 2 ? "s" : ""))
		  : set_str(&p->product, d))
		return -1;
	return 0;
}

static int purchases_next(import_src *s, import_rec *rec, char *err,
			  size_t errlen)
{
	const pout *o;

	import_rec_clear(rec);
	if (s->nextout >= s->nouts)
		return 0;
	o = &s->outs[s->nextout++];
	rec->line = o->line;
	rec->lines = 1;
	if (!s->first_done) {
		s->first_done = true;
		if (s->ignored && import_rec_note(rec, s->ignored) != 0)
			goto nomem;
	}
	if (o->group == SIZE_MAX) {
		rec->skipped = o->skipped;
		snprintf(rec->reason, sizeof rec->reason, "%s", o->reason);
	} else if (build_purchase(s, o, rec) != 0) {
		goto nomem;
	}
	s->rows_done += rec->lines;
	return 1;
nomem:
	import_rec_clear(rec);
	snprintf(err, errlen, "out of memory");
	return -1;
}

const import_reader import_purchases_reader = {
    .name = "purchases",
    .open = purchases_open,
    .next = purchases_next,
    .progress = any_progress,
    .close = any_close,
};
