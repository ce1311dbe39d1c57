/* vCard reader and writer; see vcard.h and docs/VCARD.md. */
#include "vcard.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <utf8proc.h>

#include "import.h"

/* ---- Small helpers ------------------------------------------------------ */

static bool ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static bool iprefix(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Strict UTF-8 (no overlong forms, surrogates or NUL). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* A byte no line of a vCard may hold: NUL, a control character but tab,
 * DEL. ESC passes, as ISO-2022-JP values need it; the value's check
 * below (text_bad) refuses it once decoded. */
static bool raw_bad(int c)
{
	return c == 0 || (c < 0x20 && c != '\t' && c != 0x1B) || c == 0x7F;
}

/* The first byte of v[0..n) no text of a card may hold: NUL, a control
 * character but tab, CR and LF (quoted-printable line breaks), DEL.
 * Returns its index, or n. */
static size_t text_bad(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7F)
			return i;
	}
	return n;
}

/* What byte c is, for a reason: "NUL byte", "control character 0x1B". */
static const char *byte_name(unsigned char c, char *buf, size_t cap)
{
	if (c == 0)
		return "NUL byte";
	snprintf(buf, cap, "control character 0x%02X", c);
	return buf;
}

/* ---- The source --------------------------------------------------------- */

enum {
	T_HOME = 1u << 0,
	T_WORK = 1u << 1,
	T_CELL = 1u << 2,
	T_FAX = 1u << 3,
	T_PAGER = 1u << 4,
	T_MAIN = 1u << 5,
	T_OTHER = 1u << 6,
};

enum { ENC_NONE, ENC_QP, ENC_B64 };

/* A property kept for the card, its value decoded to UTF-8 but still
 * escaped. */
typedef struct {
	char name[24];	/* upper case */
	char group[32]; /* upper case, "" when none */
	unsigned types; /* T_* */
	unsigned pref;	/* PREF=n; 1 for a bare PREF or TYPE=pref; 0 none */
	char *value;
	char *original; /* TEL's X-CARTA-ORIGINAL (owned), or NULL */
	unsigned long line;
} vprop;

struct import_src {
	FILE *f;
	bool own_f;
	char *wide; /* the file converted from UTF-16, or NULL */
	unsigned char head[4];
	size_t head_n, head_pos; /* bytes peeked before the stream */
	bool from_head;		 /* the last byte came from head */
	unsigned long long bytes, total;
	bool eof, read_error;
	char charset[48]; /* of values without CHARSET (--encoding) */

	/* One physical line of look-ahead, and the first byte in it that
	 * no line may hold (raw_bad), 0 when none. */
	char *pl;
	size_t pl_len, pl_cap;
	bool pl_have, pl_long;
	unsigned long pl_no, phys_lines;
	unsigned long pl_bad_col;
	unsigned char pl_bad;

	/* The logical line, whether the next call gives it again, and
	 * where its first bad byte is (ll_bad_col 0: none). */
	char *ll;
	size_t ll_len, ll_cap;
	bool ll_long, ll_replay;
	unsigned long ll_no;
	unsigned long ll_bad_no, ll_bad_col;
	unsigned char ll_bad;

	/* The card being read. */
	vprop *props;
	size_t n_props, n_seen, kept;
	unsigned long begin_line;
	bool broken;
	char reason[IMPORT_REASON_MAX];
	char note[64];
};

static int src_getc(import_src *s)
{
	int c;

	s->from_head = s->head_pos < s->head_n;
	if (s->from_head)
		return s->head[s->head_pos++];
	if (s->f == NULL)
		return EOF;
	c = getc(s->f);
	if (c == EOF && ferror(s->f))
		s->read_error = true;
	if (c != EOF)
		s->bytes++;
	return c;
}

/* Gives back c, the byte src_getc just returned. */
static void src_ungetc(import_src *s, int c)
{
	if (s->head_pos > 0 && s->head_pos <= s->head_n &&
	    s->head[s->head_pos - 1] == (unsigned char)c && s->from_head) {
		s->head_pos--;
		return;
	}
	s->head[0] = (unsigned char)c;
	s->head_n = 1;
	s->head_pos = 0;
	s->bytes--;
}

static bool grow(char **p, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 256;
	char *q;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	q = realloc(*p, n);
	if (q == NULL)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* Reads the next physical line into pl (without its end) unless one is
 * waiting. Returns 1, 0 at the end, -1 on a read error or out of memory.
 * A line past VCARD_LINE_MAX is cut and marked pl_long. */
static int phys_fill(import_src *s)
{
	unsigned long chars = 0;
	int c;

	if (s->pl_have)
		return 1;
	if (s->eof)
		return 0;
	s->pl_len = 0;
	s->pl_long = false;
	s->pl_bad_col = 0;
	c = src_getc(s);
	if (c == EOF) {
		s->eof = true;
		return s->read_error ? -1 : 0;
	}
	while (c != EOF && c != '\n') {
		if (c == '\r') {
			/* CRLF, a lone CR (old Mac files) or CRCRLF (some
			 * iPhone exports): one line end each. */
			do
				c = src_getc(s);
			while (c == '\r');
			if (c != '\n' && c != EOF)
				src_ungetc(s, c);
			break;
		}
		/* Columns count UTF-8 characters, as the CSV reader's do. */
		if (s->pl_bad_col == 0 && raw_bad(c)) {
			s->pl_bad_col = chars + 1;
			s->pl_bad = (unsigned char)c;
		}
		if ((c & 0xC0) != 0x80)
			chars++;
		if (s->pl_len < VCARD_LINE_MAX) {
			if (!grow(&s->pl, &s->pl_cap, s->pl_len + 2))
				return -1;
			s->pl[s->pl_len++] = (char)c;
		} else {
			s->pl_long = true;
		}
		c = src_getc(s);
	}
	if (s->read_error)
		return -1;
	if (!grow(&s->pl, &s->pl_cap, s->pl_len + 1))
		return -1;
	s->pl[s->pl_len] = '\0';
	s->pl_no = ++s->phys_lines;
	s->pl_have = true;
	return 1;
}

static bool ll_append(import_src *s, const char *p, size_t n)
{
	if (s->ll_len + n > VCARD_LINE_MAX) {
		s->ll_long = true;
		return true;
	}
	if (!grow(&s->ll, &s->ll_cap, s->ll_len + n + 1))
		return false;
	memcpy(s->ll + s->ll_len, p, n);
	s->ll_len += n;
	s->ll[s->ll_len] = '\0';
	return true;
}

/* Makes the first bad byte of the physical line being taken into the
 * logical line the logical line's, unless it has one. */
static void ll_take_bad(import_src *s)
{
	if (s->ll_bad_col != 0 || s->pl_bad_col == 0)
		return;
	s->ll_bad_no = s->pl_no;
	s->ll_bad_col = s->pl_bad_col;
	s->ll_bad = s->pl_bad;
}

/* The encoding named in the parameters of a property line: its text
 * before the first ':' outside quotes. */
static int line_encoding(const char *l)
{
	bool quoted = false;
	const char *p = l;
	int enc = ENC_NONE;

	for (; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == ':' && !quoted)
			break;
		else if (*p == ';' && !quoted) {
			const char *q = p + 1;

			if (iprefix(q, "ENCODING="))
				q += 9;
			if (iprefix(q, "QUOTED-PRINTABLE"))
				enc = ENC_QP;
			else if (iprefix(q, "BASE64") ||
				 ((q[0] == 'b' || q[0] == 'B') &&
				  (q[1] == ';' || q[1] == ':')))
				enc = ENC_B64;
		}
	}
	return enc;
}

static bool ends_in_odd_backslashes(const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[n - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

/* Reads the next logical line into ll. Returns 1, 0 at the end, -1 on a
 * read error or out of memory. */
static int logical_next(import_src *s)
{
	int rc, enc;

	if (s->ll_replay) {
		s->ll_replay = false;
		return 1;
	}
	rc = phys_fill(s);
	if (rc <= 0)
		return rc;
	s->ll_len = 0;
	s->ll_long = s->pl_long;
	s->ll_no = s->pl_no;
	s->ll_bad_col = 0;
	ll_take_bad(s);
	if (!ll_append(s, s->pl, s->pl_len))
		return -1;
	s->pl_have = false;
	enc = line_encoding(s->ll);

	for (;;) {
		const char *q;
		size_t qn;

		rc = phys_fill(s);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		q = s->pl;
		qn = s->pl_len;
		s->ll_long = s->ll_long || s->pl_long;
		if (enc == ENC_QP && s->ll_len > 0 &&
		    s->ll[s->ll_len - 1] == '=') {
			/* A soft line break: the next line goes on as is. */
			s->ll[--s->ll_len] = '\0';
			rc = ll_append(s, q, qn);
		} else if (qn > 0 && (q[0] == ' ' || q[0] == '\t')) {
			rc = ll_append(s, q + 1, qn - 1);
		} else if (enc == ENC_B64 && qn == 0) {
			/* 2.1 ends a base64 block with a blank line. */
			s->pl_have = false;
			break;
		} else if (enc == ENC_B64 && memchr(q, ':', qn) == NULL) {
			rc = ll_append(s, q, qn);
		} else if (qn > 0 && memchr(q, ':', qn) == NULL &&
			   ends_in_odd_backslashes(s->ll, s->ll_len)) {
			/* Some 2.1 writers break a value after a backslash:
			 * keep the break as an escaped newline. */
			rc = ll_append(s, "n", 1) && ll_append(s, q, qn);
		} else {
			break;
		}
		if (!rc)
			return -1;
		ll_take_bad(s);
		s->pl_have = false;
	}
	return 1;
}

/* ---- Parsing a property line -------------------------------------------- */

typedef struct {
	char name[24];
	char group[32];
	unsigned types;
	unsigned pref;
	int enc;
	char charset[48];
	const char *orig; /* X-CARTA-ORIGINAL's value, in the line; or NULL */
	size_t orig_n;
	char *value; /* points into the line */
} prop_head;

static unsigned type_bit(const char *t)
{
	static const struct {
		const char *word;
		unsigned bit;
	} words[] = {
	    {"home", T_HOME},	{"work", T_WORK},   {"cell", T_CELL},
	    {"mobile", T_CELL}, {"iphone", T_CELL}, {"fax", T_FAX},
	    {"pager", T_PAGER}, {"main", T_MAIN},   {"other", T_OTHER},
	};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (ieq(t, words[i].word))
			return words[i].bit;
	return 0;
}

static void param_value(prop_head *h, const char *pname, const char *v,
			bool bare)
{
	if (bare || ieq(pname, "TYPE")) {
		if (bare && ieq(v, "QUOTED-PRINTABLE"))
			h->enc = ENC_QP;
		else if (bare && ieq(v, "BASE64"))
			h->enc = ENC_B64;
		else if (ieq(v, "pref")) {
			if (h->pref == 0)
				h->pref = 1;
		} else
			h->types |= type_bit(v);
	} else if (ieq(pname, "PREF")) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);

		if (*end == '\0' && n >= 1 && n <= 100 &&
		    (h->pref == 0 || n < h->pref))
			h->pref = (unsigned)n;
	} else if (ieq(pname, "CHARSET")) {
		snprintf(h->charset, sizeof h->charset, "%s", v);
	} else if (ieq(pname, "ENCODING")) {
		if (ieq(v, "QUOTED-PRINTABLE"))
			h->enc = ENC_QP;
		else if (ieq(v, "BASE64") || ieq(v, "B"))
			h->enc = ENC_B64;
	}
}

/* Splits line (modified) into h. Returns 0, or -1 when it is not a
 * property line. */
static int parse_prop(char *line, prop_head *h)
{
	char *p = line, *name = line, *dot = NULL;
	size_t n;

	memset(h, 0, sizeof *h);
	while (isalnum((unsigned char)*p) || *p == '-' || *p == '_' ||
	       *p == '.') {
		if (*p == '.')
			dot = p;
		p++;
	}
	if (p == name || (*p != ';' && *p != ':'))
		return -1;
	if (dot != NULL) {
		n = (size_t)(dot - name);
		if (n >= sizeof h->group)
			n = sizeof h->group - 1;
		for (size_t i = 0; i < n; i++)
			h->group[i] = (char)toupper((unsigned char)name[i]);
		name = dot + 1;
	}
	n = (size_t)(p - name);
	if (n == 0)
		return -1;
	if (n >= sizeof h->name)
		n = sizeof h->name - 1; /* no property we keep is this long */
	for (size_t i = 0; i < n; i++)
		h->name[i] = (char)toupper((unsigned char)name[i]);

	while (*p == ';') {
		char pname[32] = "";
		const char *pn = ++p;
		bool bare;

		while (*p != '\0' && *p != '=' && *p != ';' && *p != ':')
			p++;
		n = (size_t)(p - pn);
		snprintf(pname, sizeof pname, "%.*s", (int)n, pn);
		bare = *p != '=';
		if (bare) {
			if (n > 0)
				param_value(h, "", pname, true);
			continue;
		}
		if (ieq(pname, "X-CARTA-ORIGINAL")) {
			/* One value, kept whole: commas and all. */
			bool quoted = p[1] == '"';

			p += quoted ? 2 : 1;
			h->orig = p;
			while (*p != '\0' &&
			       (quoted ? *p != '"' : *p != ';' && *p != ':'))
				p++;
			h->orig_n = (size_t)(p - h->orig);
			if (quoted) {
				if (*p != '"')
					return -1;
				p++;
			}
			continue;
		}
		/* Values: comma-separated, each maybe in double quotes. */
		do {
			char v[64];
			size_t vn = 0;

			p++;
			if (*p == '"') {
				p++;
				while (*p != '\0' && *p != '"') {
					if (vn + 1 < sizeof v)
						v[vn++] = *p;
					p++;
				}
				if (*p != '"')
					return -1;
				p++;
				/* TYPE="a,b" holds a list too. */
				v[vn] = '\0';
				if (ieq(pname, "TYPE")) {
					char *save, *t;

					for (t = strtok_r(v, ",", &save);
					     t != NULL;
					     t = strtok_r(NULL, ",", &save))
						param_value(h, pname, t, false);
					vn = 0;
					continue;
				}
			} else {
				while (*p != '\0' && *p != ',' && *p != ';' &&
				       *p != ':') {
					if (vn + 1 < sizeof v)
						v[vn++] = *p;
					p++;
				}
				v[vn] = '\0';
			}
			param_value(h, pname, v, false);
		} while (*p == ',');
	}
	if (*p != ':')
		return -1;
	h->value = p + 1;
	return 0;
}

/* ---- Decoding values ----------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable, in place: "=XX" is a byte; any other "=" stays. */
static size_t qp_decode(char *v)
{
	char *w = v;
	const char *r = v;

	while (*r != '\0') {
		int hi, lo;

		if (*r == '=' && (hi = hexval((unsigned char)r[1])) >= 0 &&
		    (lo = hexval((unsigned char)r[2])) >= 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - v);
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64, in place; white space (left by folding) is skipped, padding
 * may be missing. Returns 0 with *n the length, or -1 when v is not
 * base64. */
static int b64_decode(char *v, size_t *n)
{
	char *w = v;
	const char *r = v;
	unsigned acc = 0, bits = 0;
	bool pad = false;

	for (; *r != '\0'; r++) {
		int d = b64val((unsigned char)*r);

		if (*r == ' ' || *r == '\t')
			continue;
		if (*r == '=') {
			pad = true;
			continue;
		}
		if (d < 0 || pad)
			return -1;
		acc = (acc << 6 | (unsigned)d) & 0xFFFFFF;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*w++ = (char)((acc >> bits) & 0xFF);
		}
	}
	if (bits >= 6)
		return -1; /* one character left over holds no byte */
	*w = '\0';
	*n = (size_t)(w - v);
	return 0;
}

/* RFC 6868's escapes in a parameter value, in place: ^^ ^n ^' give ^, a
 * line break and a double quote; any other ^ stays. */
static void caret_decode(char *v)
{
	char *w = v;
	const char *r = v;

	while (*r != '\0') {
		if (r[0] == '^' && (r[1] == '^' || r[1] == '\'')) {
			*w++ = r[1] == '^' ? '^' : '"';
			r += 2;
		} else if (r[0] == '^' && (r[1] == 'n' || r[1] == 'N')) {
			*w++ = '\n';
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* A charset name we hand to iconv: no options ("//IGNORE"). */
static bool charset_ok(const char *cs)
{
	if (cs[0] == '\0' || strlen(cs) > 40)
		return false;
	for (const char *p = cs; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.' && *p != ':')
			return false;
	return true;
}

/* Converts in[0..n) from cs to a malloc'd UTF-8 string of *outn octets
 * (which may hold a NUL if in did). Returns it, or NULL with why set
 * ("not valid in its charset", "unknown charset"). */
static char *to_utf8(const char *in, size_t n, const char *cs, size_t *outn,
		     const char **why)
{
	iconv_t cd;
	char *out, *ip = (char *)in, *op;
	size_t cap = n * 4 + 4, il = n, ol = cap - 1;

	if (!charset_ok(cs)) {
		*why = "unknown charset";
		return NULL;
	}
	cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1) {
		*why = "unknown charset";
		return NULL;
	}
	out = malloc(cap);
	if (out == NULL) {
		iconv_close(cd);
		*why = "out of memory";
		return NULL;
	}
	op = out;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		iconv_close(cd);
		free(out);
		*why = "not valid in its charset";
		return NULL;
	}
	iconv_close(cd);
	*op = '\0';
	*outn = (size_t)(op - out);
	return out;
}

/* Unescapes in place: \\ \, \; \: and \n or \N (a line break). */
static void unescape(char *v)
{
	char *w = v;
	const char *r = v;

	while (*r != '\0') {
		if (r[0] == '\\' && r[1] != '\0' && strchr("\\,;:nN", r[1])) {
			*w++ = (r[1] == 'n' || r[1] == 'N') ? '\n' : r[1];
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Splits v in place at unescaped ';' into at most max components (the
 * last one keeps the rest), unescapes and trims them; missing ones are
 * "". Returns how many the value had. */
static size_t components(char *v, char **out, size_t max)
{
	size_t k = 0;
	char *start = v, *p = v;
	bool end = false;

	for (size_t i = 0; i < max; i++)
		out[i] = (char *)"";
	while (k + 1 < max && !end) {
		if (*p == '\\' && p[1] != '\0') {
			p += 2;
			continue;
		}
		if (*p == ';' || *p == '\0') {
			end = *p == '\0';
			*p = '\0';
			out[k++] = start;
			start = p + 1;
		}
		p++;
	}
	if (!end)
		out[k++] = start;
	for (size_t i = 0; i < k; i++) {
		unescape(out[i]);
		out[i] = trim(out[i]);
	}
	return k;
}

/* ---- The card being read ------------------------------------------------ */

static void props_free(import_src *s)
{
	for (size_t i = 0; i < s->n_props; i++) {
		free(s->props[i].value);
		free(s->props[i].original);
	}
	s->n_props = 0;
}

static void card_reset(import_src *s)
{
	props_free(s);
	free(s->props);
	s->props = NULL;
	s->n_seen = 0;
	s->kept = 0;
	s->broken = false;
	s->reason[0] = '\0';
	s->note[0] = '\0';
}

/* Rejects the card being read: the reason is "line L: ..." or, when col
 * is not 0, "line L, column C: ...". */
static void card_break(import_src *s, unsigned long line, unsigned long col,
		       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void card_break(import_src *s, unsigned long line, unsigned long col,
		       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->broken)
		return; /* the first problem is the one reported */
	s->broken = true;
	if (col != 0)
		n = snprintf(s->reason, sizeof s->reason,
			     "line %lu, column %lu: ", line, col);
	else
		n = snprintf(s->reason, sizeof s->reason, "line %lu: ", line);
	va_start(ap, fmt);
	vsnprintf(s->reason + n, sizeof s->reason - (size_t)n, fmt, ap);
	va_end(ap);
	props_free(s);
}

/* The name of the property line l starts with (upper case, without its
 * group) in out, or "" when it starts with none. */
static void line_prop_name(const char *l, char *out, size_t cap)
{
	const char *p = l, *name = l;
	size_t n;

	while (isalnum((unsigned char)*p) || *p == '-' || *p == '_' ||
	       *p == '.') {
		if (*p == '.')
			name = p + 1;
		p++;
	}
	n = (size_t)(p - name);
	if (n == 0 || n >= cap || (*p != ';' && *p != ':'))
		n = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)name[i]);
	out[n] = '\0';
}

/* Rejects the card for the bad byte of its line in ll, naming where it
 * is and the property it is in. */
static void card_break_bad(import_src *s)
{
	char name[24], buf[32];

	line_prop_name(s->ll, name, sizeof name);
	card_break(s, s->ll_bad_no, s->ll_bad_col,
		   "%s%s%s, which no text may hold", name, name[0] ? ": " : "",
		   byte_name(s->ll_bad, buf, sizeof buf));
}

static void add_note(char *note, size_t cap, const char *what)
{
	size_t n = strlen(note);

	if (strstr(note, what) != NULL)
		return;
	if (n + strlen(what) + 3 > cap)
		return; /* the summary gets the first few */
	snprintf(note + n, cap - n, "%s%s", n > 0 ? "; " : "", what);
}

static bool kept_property(const char *name)
{
	static const char *const kept[] = {
	    "N",     "FN",   "ORG",    "EMAIL",	   "TEL",
	    "ADR",   "BDAY", "GENDER", "X-GENDER", "LANG",
	    "TITLE", "ROLE", "NOTE",   "UID",	   "X-ABLABEL"};
	/* What only Carta writes (docs/VCARD.md). */
	static const char *const carta[] = {"X-CARTA-NUMBER", "X-CARTA-STATUS",
					    "X-CARTA-HOME-BRANCH",
					    "X-CARTA-CUSTOM"};

	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (strcmp(name, kept[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof carta / sizeof carta[0]; i++)
		if (strcmp(name, carta[i]) == 0)
			return true;
	return false;
}

/* The UTF-8 text of raw[0..n), a value of property h on the line in ll
 * (what names it in a reason; decoded: a transfer encoding was undone):
 * converted from its CHARSET or the --encoding, else checked to be UTF-8;
 * refused when it holds a byte no text may (text_bad), before the UTF-8
 * check: a NUL is no charset's fault. Returns the malloc'd text; NULL
 * with the card broken, or with *oom set when memory ran out. */
static char *value_text(import_src *s, const prop_head *h, const char *what,
			const char *raw, size_t n, bool decoded, bool *oom)
{
	const char *cs = h->charset[0] != '\0' ? h->charset : s->charset;
	const char *why = NULL;
	char *conv = NULL, *text, bname[32];
	size_t bad;

	*oom = false;
	if (ieq(cs, "UTF-8") || ieq(cs, "UTF8"))
		cs = "";
	if (cs[0] != '\0') {
		conv = to_utf8(raw, n, cs, &n, &why);
		if (conv == NULL) {
			if (h->charset[0] != '\0')
				card_break(s, s->ll_no, 0,
					   "%s: %s (CHARSET=%.40s)", what, why,
					   h->charset);
			else
				card_break(s, s->ll_no, 0,
					   "%s: %s (--encoding %s)", what, why,
					   s->charset);
			return NULL;
		}
		raw = conv;
		decoded = true;
	}

	bad = text_bad(raw, n);
	if (bad < n) {
		card_break(
		    s, s->ll_no, 0, "%s: %s%s, which no text may hold", what,
		    byte_name((unsigned char)raw[bad], bname, sizeof bname),
		    decoded ? " in the decoded value" : "");
		free(conv);
		return NULL;
	}
	if (!utf8_valid((const unsigned char *)raw, n)) {
		card_break(s, s->ll_no, 0,
			   h->charset[0] != '\0' || conv != NULL
			       ? "%s: not valid UTF-8"
			       : "%s: not valid UTF-8 (give CHARSET or "
				 "--encoding)",
			   what);
		free(conv);
		return NULL;
	}
	if (conv != NULL)
		return conv;

	text = malloc(n + 1);
	if (text == NULL) {
		*oom = true;
		return NULL;
	}
	memcpy(text, raw, n);
	text[n] = '\0';
	return text;
}

/* Takes one property line of the card in ll. Returns 0, or -1 when memory
 * runs out. */
static int card_take(import_src *s)
{
	prop_head h;
	char *v, *conv = NULL, *orig = NULL;
	size_t vn;
	bool oom;
	vprop *np;

	if (s->ll_long) {
		card_break(s, s->ll_no, 0, "line longer than %d octets",
			   VCARD_LINE_MAX);
		return 0;
	}
	if (parse_prop(s->ll, &h) < 0) {
		char shown[41];
		size_t k;

		/* The line as printable ASCII, for the summary. */
		for (k = 0; k + 1 < sizeof shown && s->ll[k] != '\0'; k++)
			shown[k] = s->ll[k] >= 0x20 && s->ll[k] < 0x7f
				       ? s->ll[k]
				       : '?';
		shown[k] = '\0';
		card_break(s, s->ll_no, 0, "not a property: '%s'", shown);
		return 0;
	}
	if (++s->n_seen > VCARD_PROPS_MAX) {
		card_break(s, s->ll_no, 0, "more than %d properties",
			   VCARD_PROPS_MAX);
		return 0;
	}
	if (strcmp(h.name, "PHOTO") == 0 || strcmp(h.name, "LOGO") == 0 ||
	    strcmp(h.name, "SOUND") == 0 || strcmp(h.name, "KEY") == 0) {
		char what[32];

		snprintf(what, sizeof what, "%s skipped", h.name);
		add_note(s->note, sizeof s->note, what);
		return 0;
	}
	if (s->broken || !kept_property(h.name))
		return 0;

	/* Transfer encoding first, then the charset, then escapes (after
	 * conversion: a SHIFT_JIS byte can be a backslash). */
	v = h.value;
	if (h.enc == ENC_QP) {
		vn = qp_decode(v);
	} else if (h.enc == ENC_B64) {
		if (b64_decode(v, &vn) < 0) {
			card_break(s, s->ll_no, 0, "%s: not valid base64",
				   h.name);
			return 0;
		}
	} else {
		vn = strlen(v);
	}
	conv = value_text(s, &h, h.name, v, vn, h.enc != ENC_NONE, &oom);
	if (conv == NULL)
		return oom ? -1 : 0;
	s->kept += strlen(conv);

	/* What was typed for a phone Carta wrote in E.164 (RFC 6868 escapes,
	 * then as the value). */
	if (h.orig != NULL && strcmp(h.name, "TEL") == 0) {
		char *raw = strndup(h.orig, h.orig_n);

		if (raw == NULL)
			goto nomem;
		caret_decode(raw);
		orig = value_text(s, &h, "TEL X-CARTA-ORIGINAL", raw,
				  strlen(raw), false, &oom);
		free(raw);
		if (orig == NULL) {
			free(conv);
			return oom ? -1 : 0;
		}
		s->kept += strlen(orig);
	}
	if (s->kept > VCARD_CARD_MAX) {
		free(conv);
		free(orig);
		card_break(s, s->ll_no, 0, "card larger than %d octets",
			   VCARD_CARD_MAX);
		return 0;
	}

	np = realloc(s->props, (s->n_props + 1) * sizeof *np);
	if (np == NULL)
		goto nomem;
	s->props = np;
	np = &s->props[s->n_props++];
	memcpy(np->name, h.name, sizeof np->name);
	memcpy(np->group, h.group, sizeof np->group);
	np->types = h.types;
	np->pref = h.pref;
	np->value = conv;
	np->original = orig;
	np->line = s->ll_no;
	return 0;
nomem:
	free(conv);
	free(orig);
	return -1;
}

/* ---- Building the card --------------------------------------------------- */

static bool set_str(char **field, const char *v)
{
	char *d;

	if (v == NULL || v[0] == '\0')
		return true;
	d = strdup(v);
	if (d == NULL)
		return false;
	if (*field != NULL && *field != protobuf_c_empty_string)
		free(*field);
	*field = d;
	return true;
}

/* The label of a group (item1.X-ABLabel), or NULL. Apple's own labels
 * "_$!<Mobile>!$_" read as "mobile". */
static const char *group_label(const import_src *s, const char *group,
			       char *buf, size_t cap)
{
	if (group[0] == '\0')
		return NULL;
	for (size_t i = 0; i < s->n_props; i++) {
		const vprop *p = &s->props[i];
		char *v;
		size_t n;

		if (strcmp(p->name, "X-ABLABEL") != 0 ||
		    strcmp(p->group, group) != 0)
			continue;
		snprintf(buf, cap, "%s", p->value);
		unescape(buf);
		v = trim(buf);
		n = strlen(v);
		if (strncmp(v, "_$!<", 4) == 0 && n > 8 &&
		    strcmp(v + n - 4, ">!$_") == 0) {
			v[n - 4] = '\0';
			v += 4;
			for (char *c = v; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
		}
		return v[0] != '\0' ? v : NULL;
	}
	return NULL;
}

static const char *type_label(unsigned t)
{
	if (t & T_CELL)
		return "mobile";
	if (t & T_FAX)
		return "fax";
	if (t & T_PAGER)
		return "pager";
	if (t & T_HOME)
		return "home";
	if (t & T_WORK)
		return "work";
	if (t & T_MAIN)
		return "main";
	if (t & T_OTHER)
		return "other";
	return "";
}

static bool set_label(const import_src *s, const vprop *p, char **field)
{
	char buf[128];
	const char *l = group_label(s, p->group, buf, sizeof buf);

	return set_str(field, l != NULL ? l : type_label(p->types));
}

/* Index of the primary among count items of property name: the lowest
 * PREF, else the first; SIZE_MAX (none) in a card Carta exported
 * (X-CARTA-NUMBER), which marks every primary with PREF. */
static size_t primary_of(const import_src *s, const char *name,
			 const bool *used)
{
	size_t best = 0, k = 0;
	unsigned best_pref = 0;
	bool by_carta = false;

	for (size_t i = 0; i < s->n_props; i++)
		by_carta |= strcmp(s->props[i].name, "X-CARTA-NUMBER") == 0;

	for (size_t i = 0; i < s->n_props; i++) {
		const vprop *p = &s->props[i];

		if (strcmp(p->name, name) != 0 || !used[i])
			continue;
		if (p->pref != 0 && (best_pref == 0 || p->pref < best_pref)) {
			best_pref = p->pref;
			best = k;
		}
		k++;
	}
	return best_pref == 0 && by_carta ? SIZE_MAX : best;
}

/* ISO 3166 alpha-2 of a country's common name (folded: lower case, no
 * accents, letters only), or NULL. */
static const char *country_code(const char *name)
{
	static const struct {
		const char *name, *code;
	} names[] = {
	    {"argentina", "AR"},
	    {"australia", "AU"},
	    {"austria", "AT"},
	    {"osterreich", "AT"},
	    {"belgium", "BE"},
	    {"belgique", "BE"},
	    {"belgie", "BE"},
	    {"brazil", "BR"},
	    {"brasil", "BR"},
	    {"canada", "CA"},
	    {"chile", "CL"},
	    {"china", "CN"},
	    {"colombia", "CO"},
	    {"czechrepublic", "CZ"},
	    {"czechia", "CZ"},
	    {"denmark", "DK"},
	    {"danmark", "DK"},
	    {"egypt", "EG"},
	    {"finland", "FI"},
	    {"suomi", "FI"},
	    {"france", "FR"},
	    {"germany", "DE"},
	    {"deutschland", "DE"},
	    {"greece", "GR"},
	    {"hungary", "HU"},
	    {"india", "IN"},
	    {"indonesia", "ID"},
	    {"ireland", "IE"},
	    {"israel", "IL"},
	    {"italy", "IT"},
	    {"italia", "IT"},
	    {"japan", "JP"},
	    {"korea", "KR"},
	    {"southkorea", "KR"},
	    {"luxembourg", "LU"},
	    {"mexico", "MX"},
	    {"netherlands", "NL"},
	    {"thenetherlands", "NL"},
	    {"nederland", "NL"},
	    {"holland", "NL"},
	    {"newzealand", "NZ"},
	    {"norway", "NO"},
	    {"norge", "NO"},
	    {"peru", "PE"},
	    {"poland", "PL"},
	    {"polska", "PL"},
	    {"portugal", "PT"},
	    {"romania", "RO"},
	    {"russia", "RU"},
	    {"saudiarabia", "SA"},
	    {"singapore", "SG"},
	    {"southafrica", "ZA"},
	    {"spain", "ES"},
	    {"espana", "ES"},
	    {"sweden", "SE"},
	    {"sverige", "SE"},
	    {"switzerland", "CH"},
	    {"schweiz", "CH"},
	    {"suisse", "CH"},
	    {"svizzera", "CH"},
	    {"turkey", "TR"},
	    {"turkiye", "TR"},
	    {"ukraine", "UA"},
	    {"unitedkingdom", "GB"},
	    {"uk", "GB"},
	    {"greatbritain", "GB"},
	    {"england", "GB"},
	    {"scotland", "GB"},
	    {"wales", "GB"},
	    {"unitedstates", "US"},
	    {"unitedstatesofamerica", "US"},
	    {"usa", "US"},
	    {"us", "US"},
	    {"america", "US"},
	};
	utf8proc_uint8_t *folded = NULL;
	char key[64];
	size_t k = 0;
	const char *code = NULL;

	if (utf8proc_map((const utf8proc_uint8_t *)name, 0, &folded,
			 UTF8PROC_NULLTERM | UTF8PROC_CASEFOLD |
			     UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK) < 0)
		return NULL;
	for (const utf8proc_uint8_t *p = folded; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z' && k + 1 < sizeof key)
			key[k++] = (char)*p;
	key[k] = '\0';
	free(folded);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(key, names[i].name) == 0)
			code = names[i].code;
	return code;
}

/* A date of the calendar. */
static bool date_ok(int y, int m, int d)
{
	static const int days[] = {31, 29, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};

	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	return !(m == 2 && d == 29 &&
		 !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static bool digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return true;
}

/* BDAY: 1 with out "YYYY-MM-DD" for a full date (YYYY-MM-DD or YYYYMMDD,
 * maybe followed by a time), 0 for a date without year (--MMDD, --MM-DD),
 * -1 otherwise. */
static int parse_bday(const char *v, char out[16])
{
	int y, m, d;
	size_t n;

	if (strncmp(v, "--", 2) == 0)
		return digits(v + 2, 2) && (digits(v + 4, 2) ||
					    (v[4] == '-' && digits(v + 5, 2)))
			   ? 0
			   : -1;
	if (digits(v, 8)) {
		n = 8;
		y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 +
		    (v[2] - '0') * 10 + (v[3] - '0');
		m = (v[4] - '0') * 10 + (v[5] - '0');
		d = (v[6] - '0') * 10 + (v[7] - '0');
	} else if (digits(v, 4) && v[4] == '-' && digits(v + 5, 2) &&
		   v[7] == '-' && digits(v + 8, 2)) {
		n = 10;
		y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 +
		    (v[2] - '0') * 10 + (v[3] - '0');
		m = (v[5] - '0') * 10 + (v[6] - '0');
		d = (v[8] - '0') * 10 + (v[9] - '0');
	} else {
		return -1;
	}
	if ((v[n] != '\0' && v[n] != 'T') || !date_ok(y, m, d))
		return -1;
	/* date_ok() bounds the parts; the modulos show the compiler, which
	 * cannot see that in a debug build, that the text fits. */
	snprintf(out, 16, "%04u-%02u-%02u", (unsigned)y % 10000u,
		 (unsigned)m % 100u, (unsigned)d % 100u);
	return 1;
}

/* Cards write gender as one letter, m, f, o, n or u (docs/CARD.md), as
 * the CSV reader does: a vCard's M reads as m. */
static const char *gender_word(const char *g)
{
	static const char *const words[][2] = {
	    {"M", "m"},	   {"F", "f"},	     {"O", "o"},      {"N", "n"},
	    {"U", "u"},	   {"male", "m"},    {"female", "f"}, {"other", "o"},
	    {"none", "n"}, {"unknown", "u"},
	};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (ieq(g, words[i][0]))
			return words[i][1];
	return NULL;
}

/* The number of a TEL value: "tel:" dropped, ";ext=" as " ext ", other
 * URI parameters left out. In place. */
static char *tel_text(char *v)
{
	char *semi;

	if (iprefix(v, "tel:"))
		v += 4;
	semi = strchr(v, ';');
	if (semi != NULL) {
		if (iprefix(semi, ";ext=")) {
			char *end = strchr(semi + 5, ';');

			if (end != NULL)
				*end = '\0';
			memcpy(semi, " ext ", 5);
		} else {
			*semi = '\0';
		}
	}
	return trim(v);
}

/* An EMAIL value: "mailto:" dropped, "Name <a@b>" gives a@b. In place. */
static char *email_text(char *v)
{
	char *lt, *gt;

	if (iprefix(v, "mailto:"))
		v += 7;
	lt = strchr(v, '<');
	gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (gt != NULL) {
		*gt = '\0';
		v = lt + 1;
	}
	return trim(v);
}

#define NEW_MSG(p, kind)                                                       \
	do {                                                                   \
		(p) = malloc(sizeof *(p));                                     \
		if ((p) == NULL)                                               \
			goto oom;                                              \
		carta__v1__##kind##__init(p);                                  \
	} while (0)

static size_t count_props(const import_src *s, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_props; i++)
		n += strcmp(s->props[i].name, name) == 0;
	return n;
}

/* Appends "a, b" to *field (region with a country we cannot name). */
static bool append_str(char **field, const char *v)
{
	size_t a = strlen(*field), b = strlen(v);
	char *d;

	if (a == 0)
		return set_str(field, v);
	d = malloc(a + b + 3);
	if (d == NULL)
		return false;
	snprintf(d, a + b + 3, "%s, %s", *field, v);
	if (*field != protobuf_c_empty_string)
		free(*field);
	*field = d;
	return true;
}

static int add_address(import_src *s, vprop *p, Carta__V1__Address **out)
{
	char *c[7], street[1024];
	Carta__V1__Address *a = NULL;
	const char *code;
	size_t n = 0;

	*out = NULL;
	components(p->value, c, 7);
	for (size_t i = 0; i < 7; i++)
		n += strlen(c[i]);
	if (n == 0)
		return 0;
	NEW_MSG(a, address);

	/* One street line: the street, then the extended address and the
	 * post office box when there are. */
	street[0] = '\0';
	n = 0;
	{
		const char *parts[3] = {c[2], c[1], c[0]};

		for (size_t i = 0; i < 3; i++) {
			if (parts[i][0] == '\0')
				continue;
			n += (size_t)snprintf(street + n, sizeof street - n,
					      "%s%s", n > 0 ? ", " : "",
					      parts[i]);
			if (n >= sizeof street)
				n = sizeof street - 1;
		}
	}
	if (!set_str(&a->street, street) || !set_str(&a->city, c[3]) ||
	    !set_str(&a->region, c[4]) || !set_str(&a->postal_code, c[5]) ||
	    !set_label(s, p, &a->label))
		goto oom;
	if (strlen(c[6]) == 2 && isalpha((unsigned char)c[6][0]) &&
	    isalpha((unsigned char)c[6][1])) {
		char cc[3] = {(char)toupper((unsigned char)c[6][0]),
			      (char)toupper((unsigned char)c[6][1]), '\0'};

		if (!set_str(&a->country, cc))
			goto oom;
	} else if (c[6][0] != '\0') {
		code = country_code(c[6]);
		if (code != NULL) {
			if (!set_str(&a->country, code))
				goto oom;
		} else {
			if (!append_str(&a->region, c[6]))
				goto oom;
			add_note(s->note, sizeof s->note,
				 "ADR country kept in region");
		}
	}
	*out = a;
	return 0;
oom:
	if (a != NULL)
		carta__v1__address__free_unpacked(a, NULL);
	return -1;
}

/* Builds the card of s->props into *out (NULL with reason set when it has
 * nothing to know the customer by). Returns 0, or -1 out of memory. */
static int build_card(import_src *s, Carta__V1__Card **out, char *reason,
		      size_t rcap)
{
	Carta__V1__Card *card = NULL;
	Carta__V1__Identity *id = NULL;
	Carta__V1__Contact *ct = NULL;
	Carta__V1__Demographics *dm = NULL;
	bool *used = NULL;
	const char *fn = NULL, *lang = NULL, *title = NULL, *role = NULL;
	unsigned lang_pref = 0;
	bool have_n = false, have_org = false, have_gender = false;
	size_t ne, nt, na, nn, nc;

	*out = NULL;
	NEW_MSG(card, card);
	NEW_MSG(id, identity);
	NEW_MSG(ct, contact);
	NEW_MSG(dm, demographics);
	card->identity = id;
	card->contact = ct;
	card->demographics = dm;
	used = calloc(s->n_props + 1, sizeof *used);
	if (used == NULL)
		goto oom;

	ne = count_props(s, "EMAIL");
	nt = count_props(s, "TEL");
	na = count_props(s, "ADR");
	nn = count_props(s, "NOTE");
	nc = count_props(s, "X-CARTA-CUSTOM");
	if ((ne && !(ct->emails = calloc(ne, sizeof *ct->emails))) ||
	    (nt && !(ct->phones = calloc(nt, sizeof *ct->phones))) ||
	    (na && !(ct->addresses = calloc(na, sizeof *ct->addresses))) ||
	    (nn && !(card->notes = calloc(nn, sizeof *card->notes))) ||
	    (nc && !(card->custom = calloc(nc, sizeof *card->custom))))
		goto oom;

	for (size_t i = 0; i < s->n_props; i++) {
		vprop *p = &s->props[i];
		const char *name = p->name;
		char *c[5], *v;

		if (strcmp(name, "N") == 0 && !have_n) {
			components(p->value, c, 5);
			if (c[0][0] == '\0' && c[1][0] == '\0')
				continue;
			have_n = true;
			if (!set_str(&id->family_name, c[0]) ||
			    !set_str(&id->given_name, c[1]))
				goto oom;
		} else if (strcmp(name, "FN") == 0 && fn == NULL) {
			unescape(p->value);
			v = trim(p->value);
			if (v[0] != '\0')
				fn = v;
		} else if (strcmp(name, "ORG") == 0 && !have_org) {
			components(p->value, c, 2);
			if (c[0][0] == '\0')
				continue;
			have_org = true;
			if (!set_str(&id->company, c[0]))
				goto oom;
		} else if (strcmp(name, "EMAIL") == 0) {
			Carta__V1__Email *e;

			unescape(p->value);
			v = email_text(p->value);
			if (v[0] == '\0')
				continue;
			NEW_MSG(e, email);
			ct->emails[ct->n_emails++] = e;
			used[i] = true;
			if (!set_str(&e->address, v) ||
			    !set_label(s, p, &e->label))
				goto oom;
		} else if (strcmp(name, "TEL") == 0) {
			Carta__V1__Phone *t;

			unescape(p->value);
			v = tel_text(p->value);
			if (v[0] == '\0')
				continue;
			NEW_MSG(t, phone);
			ct->phones[ct->n_phones++] = t;
			used[i] = true;
			/* What was typed, when Carta wrote it apart. */
			if (!set_str(&t->number, v) ||
			    !set_str(&t->original,
				     p->original != NULL &&
					     p->original[0] != '\0'
					 ? p->original
					 : v) ||
			    !set_label(s, p, &t->label))
				goto oom;
		} else if (strcmp(name, "ADR") == 0) {
			Carta__V1__Address *a;

			if (add_address(s, p, &a) < 0)
				goto oom;
			if (a == NULL)
				continue;
			ct->addresses[ct->n_addresses++] = a;
			used[i] = true;
		} else if (strcmp(name, "BDAY") == 0) {
			char date[16];
			int r;

			unescape(p->value);
			v = trim(p->value);
			r = parse_bday(v, date);
			if (r == 1) {
				if (!set_str(&dm->birth_date, date))
					goto oom;
			} else if (r == 0) {
				add_note(s->note, sizeof s->note,
					 "BDAY without year left out");
			} else if (v[0] != '\0') {
				add_note(s->note, sizeof s->note,
					 "BDAY not a date left out");
			}
		} else if ((strcmp(name, "GENDER") == 0 ||
			    (strcmp(name, "X-GENDER") == 0)) &&
			   !have_gender) {
			const char *g;

			components(p->value, c, 2);
			g = gender_word(c[0]);
			if (g == NULL && strcmp(name, "GENDER") == 0 &&
			    c[0][0] == '\0' && c[1][0] != '\0')
				g = c[1]; /* only the identity text */
			if (g == NULL)
				continue;
			have_gender = strcmp(name, "GENDER") == 0;
			if (!set_str(&dm->gender, g))
				goto oom;
		} else if (strcmp(name, "LANG") == 0) {
			unescape(p->value);
			v = trim(p->value);
			if (v[0] != '\0' &&
			    (lang == NULL ||
			     (p->pref != 0 &&
			      (lang_pref == 0 || p->pref < lang_pref)))) {
				lang = v;
				lang_pref = p->pref;
			}
		} else if (strcmp(name, "TITLE") == 0 ||
			   strcmp(name, "ROLE") == 0) {
			const char **slot = name[0] == 'T' ? &title : &role;

			unescape(p->value);
			v = trim(p->value);
			if (v[0] != '\0' && *slot == NULL)
				*slot = v;
		} else if (strcmp(name, "NOTE") == 0) {
			Carta__V1__Note *note;

			unescape(p->value);
			v = trim(p->value);
			if (v[0] == '\0')
				continue;
			NEW_MSG(note, note);
			card->notes[card->n_notes++] = note;
			if (!set_str(&note->text, v))
				goto oom;
		} else if (strcmp(name, "UID") == 0) {
			unescape(p->value);
			v = trim(p->value);
			if (iprefix(v, "urn:uuid:"))
				v += 9;
			if (!set_str(&id->external_id, v))
				goto oom;
		} else if (strcmp(name, "X-CARTA-NUMBER") == 0) {
			unescape(p->value);
			if (!set_str(&id->number, trim(p->value)))
				goto oom;
		} else if (strcmp(name, "X-CARTA-STATUS") == 0) {
			unescape(p->value);
			if (!set_str(&id->status, trim(p->value)))
				goto oom;
		} else if (strcmp(name, "X-CARTA-HOME-BRANCH") == 0) {
			unescape(p->value);
			if (!set_str(&id->home_branch, trim(p->value)))
				goto oom;
		} else if (strcmp(name, "X-CARTA-CUSTOM") == 0) {
			Carta__V1__CustomValue *cv;

			/* FIELD;VALUE; the server knows the field's section. */
			components(p->value, c, 2);
			if (c[0][0] == '\0' || c[1][0] == '\0')
				continue;
			NEW_MSG(cv, custom_value);
			card->custom[card->n_custom++] = cv;
			if (!set_str(&cv->field, c[0]) ||
			    !set_str(&cv->value, c[1]))
				goto oom;
		}
	}

	/* FN when N says nothing: the last word is the family name; but an
	 * FN that is the ORG names a company, not a person. */
	if (!have_n && fn != NULL && strcmp(fn, id->company) != 0) {
		char *copy = strdup(fn), *sp;

		if (copy == NULL)
			goto oom;
		sp = strrchr(copy, ' ');
		if (sp != NULL) {
			*sp = '\0';
			if (!set_str(&id->given_name, trim(copy)) ||
			    !set_str(&id->family_name, trim(sp + 1))) {
				free(copy);
				goto oom;
			}
		} else if (!set_str(&id->given_name, copy)) {
			free(copy);
			goto oom;
		}
		free(copy);
	}
	if (!set_str(&dm->language, lang) ||
	    !set_str(&dm->profession, title != NULL ? title : role))
		goto oom;

	/* Primary: the lowest PREF, else the first. */
	size_t k;
	if (ct->n_emails > 0 && (k = primary_of(s, "EMAIL", used)) != SIZE_MAX)
		ct->emails[k]->primary = true;
	if (ct->n_phones > 0 && (k = primary_of(s, "TEL", used)) != SIZE_MAX)
		ct->phones[k]->primary = true;
	if (ct->n_addresses > 0 && (k = primary_of(s, "ADR", used)) != SIZE_MAX)
		ct->addresses[k]->primary = true;

	if (id->given_name[0] == '\0' && id->family_name[0] == '\0' &&
	    id->company[0] == '\0' && ct->n_emails == 0 && ct->n_phones == 0) {
		snprintf(reason, rcap,
			 "line %lu: no name, email, phone or organisation",
			 s->begin_line);
		carta__v1__card__free_unpacked(card, NULL);
		free(used);
		return 0;
	}

	/* Only the sections the file gave, so that a department that may
	 * not write one can still import the others. */
	if (protobuf_c_message_get_packed_size(&dm->base) == 0) {
		carta__v1__demographics__free_unpacked(dm, NULL);
		card->demographics = NULL;
	}
	if (protobuf_c_message_get_packed_size(&ct->base) == 0) {
		carta__v1__contact__free_unpacked(ct, NULL);
		card->contact = NULL;
	}
	if (protobuf_c_message_get_packed_size(&id->base) == 0) {
		carta__v1__identity__free_unpacked(id, NULL);
		card->identity = NULL;
	}
	free(used);
	*out = card;
	return 0;
oom:
	if (card != NULL) {
		if (card->identity == NULL && id != NULL)
			carta__v1__identity__free_unpacked(id, NULL);
		if (card->contact == NULL && ct != NULL)
			carta__v1__contact__free_unpacked(ct, NULL);
		if (card->demographics == NULL && dm != NULL)
			carta__v1__demographics__free_unpacked(dm, NULL);
		carta__v1__card__free_unpacked(card, NULL);
	}
	free(used);
	return -1;
}

/* ---- The reader -----------------------------------------------------------
 */

/* Whether the logical line is what (BEGIN:VCARD, END:VCARD), maybe
 * between blanks. A line with a bad byte is no marker: "END:VCARD" and
 * a NUL ends no card. */
static bool is_marker(const import_src *s, const char *what)
{
	char buf[32];

	if (s->ll_bad_col != 0 || s->ll_len >= sizeof buf)
		return false;
	memcpy(buf, s->ll, s->ll_len + 1);
	return ieq(trim(buf), what);
}

static bool blank(const import_src *s)
{
	for (size_t i = 0; i < s->ll_len; i++)
		if (s->ll[i] != ' ' && s->ll[i] != '\t')
			return false;
	return true;
}

static void rec_reset(import_rec *rec)
{
	import_rec_clear(rec);
	rec->lines = 1;
}

/* Skips what follows a broken start outside a card: up to and with an
 * END:VCARD, or up to a BEGIN:VCARD. Returns 0 or -1. */
static int skip_stray(import_src *s)
{
	for (;;) {
		int rc = logical_next(s);

		if (rc <= 0)
			return rc;
		if (is_marker(s, "END:VCARD"))
			return 0;
		if (is_marker(s, "BEGIN:VCARD")) {
			s->ll_replay = true;
			return 0;
		}
	}
}

static int vc_next(import_src *s, import_rec *rec, char *err, size_t errlen)
{
	int rc;

	rec_reset(rec);
	card_reset(s);

	/* Outside a card: blank lines, else BEGIN:VCARD. */
	for (;;) {
		rc = logical_next(s);
		if (rc < 0)
			goto read_error;
		if (rc == 0)
			return 0;
		if (blank(s))
			continue;
		if (is_marker(s, "BEGIN:VCARD"))
			break;
		rec->line = s->ll_no;
		if (s->ll_bad_col != 0) {
			char what[32];

			snprintf(rec->reason, sizeof rec->reason,
				 "line %lu, column %lu: %s outside a card",
				 s->ll_bad_no, s->ll_bad_col,
				 byte_name(s->ll_bad, what, sizeof what));
		} else {
			snprintf(rec->reason, sizeof rec->reason,
				 is_marker(s, "END:VCARD")
				     ? "line %lu: END:VCARD without BEGIN:VCARD"
				     : "line %lu: text outside a card",
				 s->ll_no);
		}
		if (!is_marker(s, "END:VCARD") && skip_stray(s) < 0)
			goto read_error;
		return 1;
	}
	s->begin_line = rec->line = s->ll_no;

	/* Inside: properties up to END:VCARD. */
	for (;;) {
		rc = logical_next(s);
		if (rc < 0)
			goto read_error;
		if (rc == 0) {
			card_break(s, s->begin_line, 0,
				   "BEGIN:VCARD without END:VCARD");
			break;
		}
		if (blank(s))
			continue;
		if (is_marker(s, "END:VCARD"))
			break;
		if (is_marker(s, "BEGIN:VCARD")) {
			/* Not lost: it starts the next record. */
			card_break(s, s->ll_no, 0, "BEGIN:VCARD inside a card");
			s->ll_replay = true;
			break;
		}
		/* Not read on: as a C string the line would stop short. */
		if (s->ll_bad_col != 0) {
			card_break_bad(s);
			continue;
		}
		if (card_take(s) < 0)
			goto oom;
	}

	if (s->broken) {
		snprintf(rec->reason, sizeof rec->reason, "%s", s->reason);
		return 1;
	}
	if (build_card(s, &rec->card, rec->reason, sizeof rec->reason) < 0)
		goto oom;
	if (rec->card != NULL && s->note[0] &&
	    import_rec_note(rec, s->note) != 0)
		goto oom;
	return 1;

read_error:
	if (!s->read_error)
		goto oom;
	snprintf(err, errlen, "line %lu: read error: %s", s->phys_lines + 1,
		 strerror(errno));
	return -1;
oom:
	snprintf(err, errlen, "line %lu: out of memory", s->ll_no);
	return -1;
}

static void vc_progress(import_src *s, unsigned long long *bytes_read,
			unsigned long long *bytes_total)
{
	*bytes_read = s->bytes;
	*bytes_total = s->total;
}

static void vc_close(import_src *s)
{
	if (s == NULL)
		return;
	card_reset(s);
	if (s->f != NULL && s->own_f)
		fclose(s->f);
	free(s->wide);
	free(s->pl);
	free(s->ll);
	free(s);
}

/* A UTF-16 file (with a BOM, or ASCII text whose every other byte is 0)
 * is read whole and converted, and the reader goes on over the result. */
static int read_wide(import_src *s, const char *cs, const char *what, char *err,
		     size_t errlen)
{
	char *in = NULL, *ip, *op;
	size_t n = 0, cap = 0, il, ol;
	iconv_t cd;
	int c;

	while ((c = src_getc(s)) != EOF) {
		if (n >= VCARD_WIDE_MAX) {
			snprintf(err, errlen,
				 "%s: UTF-16 file larger than %d "
				 "octets",
				 what, VCARD_WIDE_MAX);
			goto fail;
		}
		if (!grow(&in, &cap, n + 1))
			goto nomem;
		in[n++] = (char)c;
	}
	if (s->read_error) {
		snprintf(err, errlen, "%s: read error: %s", what,
			 strerror(errno));
		goto fail;
	}
	s->wide = malloc(n * 2 + 1);
	if (s->wide == NULL)
		goto nomem;
	cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1) {
		snprintf(err, errlen, "%s: no converter for %s", what, cs);
		goto fail;
	}
	ip = in;
	il = n;
	op = s->wide;
	ol = n * 2;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
		iconv_close(cd);
		snprintf(err, errlen, "%s: not valid %s near octet %zu", what,
			 cs, (size_t)(ip - in));
		goto fail;
	}
	iconv_close(cd);
	free(in);
	if (s->own_f)
		fclose(s->f);
	s->own_f = false;
	s->f = NULL;
	s->total = (unsigned long long)(op - s->wide);
	s->bytes = 0;
	if (op > s->wide) {
		s->f = fmemopen(s->wide, (size_t)(op - s->wide), "r");
		if (s->f == NULL)
			goto nomem;
		s->own_f = true;
	}
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", what);
fail:
	free(in);
	return -1;
}

/* Looks at the first bytes: a UTF-8 BOM is dropped, UTF-16 converted. */
static int src_start(import_src *s, const import_opts *o, const char *what,
		     char *err, size_t errlen)
{
	const unsigned char *h = s->head;
	int c;

	if (o != NULL && o->encoding != NULL && o->encoding[0] != '\0') {
		iconv_t cd = charset_ok(o->encoding)
				 ? iconv_open("UTF-8", o->encoding)
				 : (iconv_t)-1;

		if (cd == (iconv_t)-1) {
			snprintf(err, errlen, "%s: unknown encoding '%s'", what,
				 o->encoding);
			return -1;
		}
		iconv_close(cd);
		if (!ieq(o->encoding, "UTF-8") && !ieq(o->encoding, "UTF8"))
			snprintf(s->charset, sizeof s->charset, "%s",
				 o->encoding);
	}
	while (s->head_n < 3 && s->f != NULL && (c = getc(s->f)) != EOF) {
		s->head[s->head_n++] = (unsigned char)c;
		s->bytes++;
	}
	if (s->head_n == 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
		s->head_n = 0;
		return 0;
	}
	if (s->head_n >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
		s->head_pos = 2;
		return read_wide(s, "UTF-16BE", what, err, errlen);
	}
	if (s->head_n >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
		s->head_pos = 2;
		return read_wide(s, "UTF-16LE", what, err, errlen);
	}
	if (s->head_n >= 2 && h[0] == 0 && h[1] != 0)
		return read_wide(s, "UTF-16BE", what, err, errlen);
	if (s->head_n >= 2 && h[0] != 0 && h[1] == 0)
		return read_wide(s, "UTF-16LE", what, err, errlen);
	return 0;
}

static int vc_open(const char *path, const import_opts *o, import_src **out,
		   char *err, size_t errlen)
{
	import_src *s = calloc(1, sizeof *s);
	struct stat st;

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (strcmp(path, "-") == 0) {
		s->f = stdin;
	} else {
		s->f = fopen(path, "rb");
		if (s->f == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(s);
			return -1;
		}
		s->own_f = true;
		if (fstat(fileno(s->f), &st) == 0 && S_ISREG(st.st_mode))
			s->total = (unsigned long long)st.st_size;
	}
	if (src_start(s, o, path, err, errlen) < 0) {
		vc_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int vcard_open_mem(const void *data, size_t len, const import_opts *o,
		   import_src **out, char *err, size_t errlen)
{
	import_src *s = calloc(1, sizeof *s);

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (len > 0) {
		s->f = fmemopen((void *)data, len, "r");
		if (s->f == NULL) {
			snprintf(err, errlen, "fmemopen: %s", strerror(errno));
			free(s);
			return -1;
		}
		s->own_f = true;
	}
	s->total = len;
	if (src_start(s, o, "(memory)", err, errlen) < 0) {
		vc_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

const import_reader import_vcard_reader = {
    .name = "vcard",
    .open = vc_open,
    .next = vc_next,
    .progress = vc_progress,
    .close = vc_close,
};

/* ---- The writer ------------------------------------------------------------
 */

typedef struct {
	char *p;
	size_t n, cap;
	bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->oom || !grow(&b->p, &b->cap, b->n + n + 1)) {
		b->oom = true;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* A text value escaped per RFC 6350 3.4. */
static void sb_text(sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			sb_put(b, "\\\\", 2);
			break;
		case ',':
			sb_put(b, "\\,", 2);
			break;
		case ';':
			sb_put(b, "\\;", 2);
			break;
		case '\n':
			sb_put(b, "\\n", 2);
			break;
		case '\r':
			if (s[1] != '\n')
				sb_put(b, "\\n", 2);
			break;
		default:
			sb_put(b, s, 1);
		}
	}
}

/* A parameter value in double quotes, with RFC 6868's escapes (^^, ^n,
 * ^'): it may then hold any text. */
static void sb_param(sbuf *b, const char *s)
{
	sb_str(b, "\"");
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '^':
			sb_put(b, "^^", 2);
			break;
		case '"':
			sb_put(b, "^'", 2);
			break;
		case '\n':
			sb_put(b, "^n", 2);
			break;
		case '\r':
			if (s[1] != '\n')
				sb_put(b, "^n", 2);
			break;
		default:
			sb_put(b, s, 1);
		}
	}
	sb_str(b, "\"");
}

/* Writes line b as CRLF lines of at most 75 octets, each fold starting
 * with a space and never inside a UTF-8 sequence. */
static int fold_write(FILE *out, const sbuf *b)
{
	size_t pos = 0, room = 75;

	do {
		size_t end = pos + room;

		if (end >= b->n) {
			end = b->n;
		} else {
			while (end > pos &&
			       ((unsigned char)b->p[end] & 0xC0) == 0x80)
				end--;
			if (end == pos)
				end = pos + room; /* not UTF-8: cut anyway */
		}
		if (pos > 0 && fputc(' ', out) == EOF)
			return -1;
		if (fwrite(b->p + pos, 1, end - pos, out) != end - pos ||
		    fputs("\r\n", out) == EOF)
			return -1;
		pos = end;
		room = 74;
	} while (pos < b->n);
	return 0;
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* The vCard TYPE of one of our labels, or NULL when it has none (the
 * label then goes in an X-ABLabel of a group). */
static const char *label_type(const char *label, bool tel)
{
	if (ieq(label, "home") || ieq(label, "work"))
		return label;
	if (tel && ieq(label, "mobile"))
		return "cell";
	if (tel && (ieq(label, "fax") || ieq(label, "pager")))
		return label;
	return NULL;
}

/* Starts a property line with its label: "TEL;TYPE=cell" or
 * "item3.TEL" (the label written by emit_label afterwards). */
static void sb_start(sbuf *b, const char *name, const char *label, bool tel,
		     unsigned *item, bool *grouped)
{
	char g[32];

	b->n = 0;
	*grouped = false;
	if (!empty(label) && label_type(label, tel) == NULL) {
		snprintf(g, sizeof g, "item%u.", ++*item);
		sb_str(b, g);
		*grouped = true;
	}
	sb_str(b, name);
	if (!empty(label) && !*grouped) {
		sb_str(b, ";TYPE=");
		sb_str(b, label_type(label, tel));
	}
}

static int emit(FILE *out, sbuf *b)
{
	if (b->oom)
		return -1;
	return fold_write(out, b);
}

static int emit_label(FILE *out, sbuf *b, const char *label, unsigned item)
{
	char g[48];

	b->n = 0;
	snprintf(g, sizeof g, "item%u.X-ABLabel:", item);
	sb_str(b, g);
	sb_text(b, label);
	return emit(out, b);
}

static int emit_text(FILE *out, sbuf *b, const char *name, const char *v)
{
	if (empty(v))
		return 0;
	b->n = 0;
	sb_str(b, name);
	sb_str(b, ":");
	sb_text(b, v);
	return emit(out, b);
}

static const char *gender_letter(const char *g)
{
	static const char *const letters[][2] = {
	    {"male", "M"},    {"female", "F"}, {"other", "O"}, {"none", "N"},
	    {"unknown", "U"}, {"m", "M"},      {"f", "F"},     {"o", "O"},
	    {"n", "N"},	      {"u", "U"},
	};

	for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++)
		if (ieq(g, letters[i][0]))
			return letters[i][1];
	return NULL;
}

/* "+" and 2 to 15 digits: what a tel: URI may carry as it is. */
static bool is_e164(const char *n)
{
	size_t k = 0;

	if (n == NULL || n[0] != '+')
		return false;
	while (isdigit((unsigned char)n[1 + k]))
		k++;
	return n[1 + k] == '\0' && k >= 2 && k <= 15;
}

int vcard_write(FILE *out, const Carta__V1__Card *card)
{
	const Carta__V1__Identity *id = card->identity;
	const Carta__V1__Contact *ct = card->contact;
	const Carta__V1__Demographics *dm = card->demographics;
	sbuf b = {0};
	unsigned item = 0;
	bool grouped;
	int rv = -1;

	if (fputs("BEGIN:VCARD\r\nVERSION:4.0\r\n", out) == EOF)
		goto out;

	/* FN is required: the names, else the company, else the number. */
	b.n = 0;
	sb_str(&b, "FN:");
	if (id != NULL && (!empty(id->given_name) || !empty(id->family_name))) {
		sb_text(&b, id->given_name);
		if (!empty(id->given_name) && !empty(id->family_name))
			sb_str(&b, " ");
		sb_text(&b, id->family_name);
	} else if (id != NULL && !empty(id->company)) {
		sb_text(&b, id->company);
	} else if (id != NULL) {
		sb_text(&b, id->number);
	}
	if (emit(out, &b) < 0)
		goto out;

	if (id != NULL) {
		if (!empty(id->given_name) || !empty(id->family_name)) {
			b.n = 0;
			sb_str(&b, "N:");
			sb_text(&b, id->family_name);
			sb_str(&b, ";");
			sb_text(&b, id->given_name);
			sb_str(&b, ";;;");
			if (emit(out, &b) < 0)
				goto out;
		}
		if (emit_text(out, &b, "ORG", id->company) < 0)
			goto out;
	}

	for (size_t i = 0; ct != NULL && i < ct->n_emails; i++) {
		const Carta__V1__Email *e = ct->emails[i];

		if (empty(e->address))
			continue;
		sb_start(&b, "EMAIL", e->label, false, &item, &grouped);
		if (e->primary)
			sb_str(&b, ";PREF=1");
		sb_str(&b, ":");
		sb_text(&b, e->address);
		if (emit(out, &b) < 0 ||
		    (grouped && emit_label(out, &b, e->label, item) < 0))
			goto out;
	}
	for (size_t i = 0; ct != NULL && i < ct->n_phones; i++) {
		const Carta__V1__Phone *t = ct->phones[i];
		bool e164 = is_e164(t->number);
		const char *num = e164			? t->number
				  : !empty(t->original) ? t->original
							: t->number;

		if (empty(num))
			continue;
		sb_start(&b, "TEL", t->label, true, &item, &grouped);
		if (e164)
			sb_str(&b, ";VALUE=uri");
		if (t->primary)
			sb_str(&b, ";PREF=1");
		/* What was typed, when the number is not it: a parameter,
		 * which other readers leave alone. */
		if (e164 && !empty(t->original) &&
		    strcmp(t->original, t->number) != 0) {
			sb_str(&b, ";X-CARTA-ORIGINAL=");
			sb_param(&b, t->original);
		}
		sb_str(&b, e164 ? ":tel:" : ":");
		if (e164)
			sb_str(&b, num);
		else
			sb_text(&b, num);
		if (emit(out, &b) < 0 ||
		    (grouped && emit_label(out, &b, t->label, item) < 0))
			goto out;
	}
	for (size_t i = 0; ct != NULL && i < ct->n_addresses; i++) {
		const Carta__V1__Address *a = ct->addresses[i];

		sb_start(&b, "ADR", a->label, false, &item, &grouped);
		if (a->primary)
			sb_str(&b, ";PREF=1");
		sb_str(&b, ":;;");
		sb_text(&b, a->street);
		sb_str(&b, ";");
		sb_text(&b, a->city);
		sb_str(&b, ";");
		sb_text(&b, a->region);
		sb_str(&b, ";");
		sb_text(&b, a->postal_code);
		sb_str(&b, ";");
		sb_text(&b, a->country);
		if (emit(out, &b) < 0 ||
		    (grouped && emit_label(out, &b, a->label, item) < 0))
			goto out;
	}

	if (dm != NULL) {
		if (!empty(dm->birth_date) && strlen(dm->birth_date) == 10) {
			char d[9];

			memcpy(d, dm->birth_date, 4);
			memcpy(d + 4, dm->birth_date + 5, 2);
			memcpy(d + 6, dm->birth_date + 8, 2);
			d[8] = '\0';
			if (emit_text(out, &b, "BDAY", d) < 0)
				goto out;
		}
		if (!empty(dm->gender)) {
			const char *g = gender_letter(dm->gender);

			b.n = 0;
			sb_str(&b, "GENDER:");
			if (g != NULL) {
				sb_str(&b, g);
			} else {
				/* No sex letter: only the identity text. */
				sb_str(&b, ";");
				sb_text(&b, dm->gender);
			}
			if (emit(out, &b) < 0)
				goto out;
		}
		if (emit_text(out, &b, "LANG", dm->language) < 0 ||
		    emit_text(out, &b, "TITLE", dm->profession) < 0)
			goto out;
	}
	for (size_t i = 0; i < card->n_notes; i++)
		if (emit_text(out, &b, "NOTE", card->notes[i]->text) < 0)
			goto out;
	if (id != NULL &&
	    (emit_text(out, &b, "UID", id->external_id) < 0 ||
	     emit_text(out, &b, "X-CARTA-NUMBER", id->number) < 0 ||
	     emit_text(out, &b, "X-CARTA-STATUS", id->status) < 0 ||
	     emit_text(out, &b, "X-CARTA-HOME-BRANCH", id->home_branch) < 0))
		goto out;
	for (size_t i = 0; i < card->n_custom; i++) {
		const Carta__V1__CustomValue *v = card->custom[i];

		if (empty(v->field) || empty(v->value))
			continue;
		b.n = 0;
		sb_str(&b, "X-CARTA-CUSTOM:");
		sb_text(&b, v->field);
		sb_str(&b, ";");
		sb_text(&b, v->value);
		if (emit(out, &b) < 0)
			goto out;
	}

	if (fputs("END:VCARD\r\n", out) == EOF)
		goto out;
	rv = 0;
out:
	free(b.p);
	return rv;
}
