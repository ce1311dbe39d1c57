#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <utf8proc.h>

#include "carta_error.h"
#include "fold.h"
#include "validate.h"

#define S_IDENTITY     CARTA__V1__SECTION__SECTION_IDENTITY
#define S_CONTACT      CARTA__V1__SECTION__SECTION_CONTACT
#define S_DEMOGRAPHICS CARTA__V1__SECTION__SECTION_DEMOGRAPHICS
#define S_PURCHASES    CARTA__V1__SECTION__SECTION_PURCHASES
#define S_INTERACTIONS CARTA__V1__SECTION__SECTION_INTERACTIONS
#define S_CONSENT      CARTA__V1__SECTION__SECTION_CONSENT

/* ---- building SQL text ---- */

typedef struct {
	char *s;
	size_t n, cap;
	bool oom;
} sb;

static void sb_add(sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_add(sb *b, const char *fmt, ...)
{
	va_list ap;

	if (b->oom)
		return;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0) {
		b->oom = true;
		return;
	}
	if (b->n + (size_t)len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->n + (size_t)len + 1 > cap)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (s == NULL) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)len;
}

/* Adds a parameter; returns its number (?N), or 0 when out of memory. */
static int bind_add(query_plan *p, int kind, int64_t i, const char *s,
		    size_t slen)
{
	if (p->nbinds == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		query_value *v = realloc(p->binds, cap * sizeof(*v));
		if (v == NULL)
			return 0;
		p->binds = v;
		p->cap = cap;
	}
	query_value *v = &p->binds[p->nbinds];
	v->kind = kind;
	v->i = i;
	v->s = NULL;
	if (kind == QUERY_TEXT) {
		v->s = malloc(slen + 1);
		if (v->s == NULL)
			return 0;
		memcpy(v->s, s, slen);
		v->s[slen] = '\0';
	}
	return (int)++p->nbinds;
}

static int bind_text(query_plan *p, const char *s)
{
	return bind_add(p, QUERY_TEXT, 0, s, strlen(s));
}

static int bind_int(query_plan *p, int64_t i)
{
	return bind_add(p, QUERY_INT, i, NULL, 0);
}

/* The least string greater than every string starting with s: s with its
 * last byte one higher (s is not empty; folded text never holds 0xFF). */
static int bind_upper(query_plan *p, const char *s)
{
	size_t n = strlen(s);
	int k = bind_add(p, QUERY_TEXT, 0, s, n);
	if (k != 0 && n > 0)
		p->binds[k - 1].s[n - 1]++;
	return k;
}

static void note_read(query_plan *p, int section, const char *field)
{
	if (section <= 0 || section >= CARD_SECTIONS)
		return;
	if (!(p->reads & (1u << section)))
		snprintf(p->fields[section], sizeof(p->fields[section]), "%s",
			 field);
	p->reads |= 1u << section;
}

/* ---- folding helpers ---- */

/* Folds s into a malloc'd string; NULL on error (*rv says which). */
static char *fold_dup(const char *s, int *rv)
{
	char *out = NULL;
	*rv = fold_text(s, strlen(s), &out, NULL);
	return out;
}

/* Whether code point c is part of a word: a letter or a digit. Everything
 * else (punctuation of any script: the Catalan middle dot of Col·lell,
 * Spanish ¿ and ¡, guillemets, line separators) splits words. */
static bool word_code_point(utf8proc_int32_t c)
{
	if (c < 0x80)
		return isalnum((unsigned char)c) != 0;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

/* Folds and turns every character that is not a letter or digit into a
 * space, collapsing runs: the words the name index holds. */
static char *words_dup(const char *s, int *rv)
{
	char *f = fold_dup(s, rv);
	if (f == NULL)
		return NULL;
	size_t w = 0, len = strlen(f);
	bool space = false;
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k =
		    utf8proc_iterate((const utf8proc_uint8_t *)f + i,
				     (utf8proc_ssize_t)(len - i), &c);
		if (k <= 0) /* fold_text's output is valid UTF-8 */
			break;
		if (!word_code_point(c)) {
			space = w > 0;
			i += (size_t)k;
			continue;
		}
		if (space)
			f[w++] = ' ';
		space = false;
		memmove(f + w, f + i, (size_t)k);
		w += (size_t)k;
		i += (size_t)k;
	}
	f[w] = '\0';
	return f;
}

int query_words(const char *text, char **words, int max)
{
	int rv = 0, n = 0;
	char *all = words_dup(text, &rv);

	if (all == NULL)
		return rv;
	for (char *save = NULL, *w = strtok_r(all, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		if (n == max) {
			rv = CARTA_ETOOBIG;
			break;
		}
		words[n] = strdup(w);
		if (words[n] == NULL) {
			rv = CARTA_ENOMEM;
			break;
		}
		n++;
	}
	free(all);
	if (rv != 0) {
		while (n > 0)
			free(words[--n]);
		return rv;
	}
	return n;
}

/* ---- dates ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* "today", "today-180d", "today+2w", "today-6m", "today-1y" (no spaces)
 * relative to today ("YYYY-MM-DD"), or a date. 0 or CARTA_EINVAL. */
static int eval_date(const char *today, const char *in, char out[11])
{
	char err[VALIDATE_ERR_SIZE];
	int y, m, d;

	if (strncasecmp(in, "today", 5) != 0)
		return validate_date(in, out, err, sizeof(err)) == 0
			   ? 0
			   : CARTA_EINVAL;
	if (sscanf(today, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return CARTA_EINVAL;
	const char *r = in + 5;
	if (*r != '\0') {
		int sign = *r == '-' ? -1 : *r == '+' ? 1 : 0;
		char unit = 0, extra = 0;
		long n = 0;
		if (sign == 0 ||
		    sscanf(r + 1, "%5ld%c%c", &n, &unit, &extra) != 2 ||
		    !isdigit((unsigned char)r[1]) || n > 36500)
			return CARTA_EINVAL;
		unit = (char)tolower((unsigned char)unit);
		if (unit == 'd' || unit == 'w') {
			int64_t z = days_from_civil(y, m, d) +
				    sign * n * (unit == 'w' ? 7 : 1);
			civil_from_days(z, &y, &m, &d);
		} else if (unit == 'm' || unit == 'y') {
			long months = y * 12L + (m - 1) +
				      sign * n * (unit == 'y' ? 12 : 1);
			y = (int)(months / 12);
			m = (int)(months % 12) + 1;
			if (d > month_days(y, m))
				d = month_days(y, m);
		} else {
			return CARTA_EINVAL;
		}
	}
	if (y < 1 || y > 9999)
		return CARTA_EINVAL;
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return 0;
}

/* ---- the lexer ---- */

enum { T_END, T_LP, T_RP, T_OP, T_WORD, T_STRING, T_BAD };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_CONTAINS, OP_STARTS };

typedef struct {
	const query_ctx *ctx;
	query_plan *p;
	sb *w;
	const char *src;
	size_t pos, len;
	int depth, terms;
	char today[11];
	char *err;
	size_t errlen;
	int rv;
	/* The current token: kind, start, and text (words and strings). */
	int tok, op;
	size_t at;
	char *text;
} parser;

static int fail(parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(parser *ps, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (ps->rv != 0)
		return ps->rv;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "at %zu: %s", ps->at + 1, msg);
	ps->rv = CARTA_EINVAL;
	return ps->rv;
}

static bool word_char(char c)
{
	return c != '\0' && !isspace((unsigned char)c) &&
	       strchr("()=!<>'\"", c) == NULL;
}

static int next(parser *ps)
{
	const char *s = ps->src;
	size_t i = ps->pos;

	free(ps->text);
	ps->text = NULL;
	while (i < ps->len && isspace((unsigned char)s[i]))
		i++;
	ps->at = i;
	if (i >= ps->len) {
		ps->tok = T_END;
		ps->pos = i;
		return 0;
	}
	char c = s[i];
	if (c == '(' || c == ')') {
		ps->tok = c == '(' ? T_LP : T_RP;
		ps->pos = i + 1;
		return 0;
	}
	if (strchr("=!<>", c) != NULL) {
		bool eq = i + 1 < ps->len && s[i + 1] == '=';
		ps->tok = T_OP;
		ps->pos = i + 1 + eq;
		switch (c) {
		case '=':
			ps->op = OP_EQ;
			ps->pos = i + 1 + (eq ? 1 : 0); /* "==" is "=" */
			break;
		case '!':
			if (!eq)
				return fail(ps, "'!' must be followed by '='");
			ps->op = OP_NE;
			break;
		case '<':
			ps->op = eq ? OP_LE : OP_LT;
			if (!eq && i + 1 < ps->len && s[i + 1] == '>') {
				ps->op = OP_NE;
				ps->pos = i + 2;
			}
			break;
		default:
			ps->op = eq ? OP_GE : OP_GT;
		}
		return 0;
	}
	sb t = {0};
	if (c == '\'' || c == '"') {
		/* A doubled quote stands for itself. */
		size_t j = i + 1;
		for (;;) {
			if (j >= ps->len) {
				free(t.s);
				return fail(ps, "unterminated string");
			}
			if (s[j] == c) {
				if (j + 1 < ps->len && s[j + 1] == c) {
					sb_add(&t, "%c", c);
					j += 2;
					continue;
				}
				break;
			}
			sb_add(&t, "%c", s[j]);
			j++;
		}
		sb_add(&t, "%s", "");
		ps->tok = T_STRING;
		ps->pos = j + 1;
	} else {
		size_t j = i;
		while (j < ps->len && word_char(s[j]))
			j++;
		/* "city = madrid," would look for "madrid,": a separator
		 * that is no part of the grammar is a mistake, not a
		 * letter. */
		for (size_t k = i; k < j; k++)
			if (s[k] == ',' || s[k] == ';') {
				ps->at = k;
				return fail(ps,
					    "'%c' outside quotes; put a value "
					    "holding it in quotes (decimals "
					    "take a dot)",
					    s[k]);
			}
		sb_add(&t, "%.*s", (int)(j - i), s + i);
		ps->tok = T_WORD;
		ps->pos = j;
	}
	if (t.oom) {
		free(t.s);
		ps->rv = CARTA_ENOMEM;
		return ps->rv;
	}
	ps->text = t.s;
	return 0;
}

static bool is_word(const parser *ps, const char *w)
{
	return ps->tok == T_WORD && strcasecmp(ps->text, w) == 0;
}

/* ---- fields ---- */

enum { FT_TEXT, FT_DATE, FT_INT, FT_MONEY, FT_CONSENT, FT_PHONE };
/* How "is empty" reads: '' or NULL, NULL, or 0. */
enum { E_TEXT, E_NULL, E_ZERO };

typedef struct {
	int type, section, kind, empty, exponent;
	char expr[320];
	Carta__V1__FieldDef *def; /* a custom field's (owned), else NULL */
} qfield;

static void qfield_free(qfield *f)
{
	if (f->def != NULL)
		carta__v1__field_def__free_unpacked(f->def, NULL);
	f->def = NULL;
}

static const struct {
	const char *name;
	int type, section, kind, empty;
	const char *expr;
} fields[] = {
    /* The number names the card: every department sees it. */
    {"number", FT_TEXT, 0, 0, E_TEXT, "c.number"},
    {"given_name", FT_TEXT, S_IDENTITY, 0, E_TEXT, "c.given_name"},
    {"family_name", FT_TEXT, S_IDENTITY, 0, E_TEXT, "c.family_name"},
    {"company", FT_TEXT, S_IDENTITY, 0, E_TEXT, "c.company"},
    {"status", FT_TEXT, S_IDENTITY, 0, E_TEXT, "c.status"},
    {"home_branch", FT_TEXT, S_IDENTITY, 0, E_TEXT, "c.home_branch"},
    {"external_id", FT_TEXT, S_IDENTITY, 0, E_TEXT, "c.external_id"},
    {"birth_date", FT_DATE, S_DEMOGRAPHICS, 0, E_TEXT, "c.birth_date"},
    {"gender", FT_TEXT, S_DEMOGRAPHICS, 0, E_TEXT, "c.gender"},
    {"profession", FT_TEXT, S_DEMOGRAPHICS, 0, E_TEXT, "c.profession"},
    {"language", FT_TEXT, S_DEMOGRAPHICS, 0, E_TEXT, "c.language"},
    {"email", FT_TEXT, S_CONTACT, 1, E_TEXT, "cp.value"},
    {"phone", FT_PHONE, S_CONTACT, 2, E_TEXT, "cp.value"},
    {"street", FT_TEXT, S_CONTACT, 3, E_TEXT, "cp.street"},
    {"city", FT_TEXT, S_CONTACT, 3, E_TEXT, "cp.city"},
    {"postal_code", FT_TEXT, S_CONTACT, 3, E_TEXT, "cp.postal_code"},
    {"region", FT_TEXT, S_CONTACT, 3, E_TEXT, "cp.region"},
    {"country", FT_TEXT, S_CONTACT, 3, E_TEXT, "cp.country"},
    {"last_purchase", FT_DATE, S_PURCHASES, 0, E_TEXT,
     "(SELECT max(p.date) FROM purchases p WHERE p.card_id = c.id AND "
     "p.refund = 0)"},
    {"first_purchase", FT_DATE, S_PURCHASES, 0, E_TEXT,
     "(SELECT min(p.date) FROM purchases p WHERE p.card_id = c.id AND "
     "p.refund = 0)"},
    {"purchase_count", FT_INT, S_PURCHASES, 0, E_ZERO,
     "(SELECT count(*) FROM purchases p WHERE p.card_id = c.id AND "
     "p.refund = 0)"},
    {"last_contact", FT_DATE, S_INTERACTIONS, 0, E_TEXT,
     "(SELECT date(max(i.at), 'unixepoch') FROM interactions i WHERE "
     "i.card_id = c.id)"},
    {"interaction_count", FT_INT, S_INTERACTIONS, 0, E_ZERO,
     "(SELECT count(*) FROM interactions i WHERE i.card_id = c.id)"},
};

static bool channel_ok(const char *c)
{
	return strcmp(c, "email") == 0 || strcmp(c, "phone") == 0 ||
	       strcmp(c, "sms") == 0 || strcmp(c, "post") == 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* The latest consent state (1 granted, 2 withdrawn) on a channel, of one
 * purpose or any; a withdrawal wins a tie. */
static int consent_expr(query_plan *p, const char *channel, const char *purpose,
			char *out, size_t cap)
{
	int kc = bind_text(p, channel);
	int kp = purpose != NULL ? bind_text(p, purpose) : 0;
	if (kc == 0 || (purpose != NULL && kp == 0))
		return CARTA_ENOMEM;
	char extra[32] = "";
	if (kp != 0)
		snprintf(extra, sizeof(extra), " AND k.purpose = ?%d", kp);
	snprintf(out, cap,
		 "(SELECT k.state FROM consents k WHERE k.card_id = c.id AND "
		 "k.channel = ?%d%s ORDER BY k.at DESC, k.state DESC LIMIT 1)",
		 kc, extra);
	return 0;
}

/* Resolves a field name; notes the section it reads. */
static int resolve(parser *ps, const char *name, qfield *f)
{
	query_plan *p = ps->p;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].name, name) != 0)
			continue;
		f->type = fields[i].type;
		f->section = fields[i].section;
		f->kind = fields[i].kind;
		f->empty = fields[i].empty;
		snprintf(f->expr, sizeof(f->expr), "%s", fields[i].expr);
		note_read(p, f->section, name);
		return 0;
	}
	if (strncmp(name, "total_spent.", 12) == 0) {
		char cur[VALIDATE_CURRENCY_SIZE], err[VALIDATE_ERR_SIZE];
		if (validate_currency(name + 12, cur, &f->exponent, err,
				      sizeof(err)) != 0)
			return fail(ps, "unknown currency in %.40s", name);
		int k = bind_text(p, cur);
		if (k == 0)
			return ps->rv = CARTA_ENOMEM;
		f->type = FT_MONEY;
		f->section = S_PURCHASES;
		f->empty = E_NULL;
		/* Refunds subtract; NULL when the card has no purchase in
		 * this currency. */
		snprintf(
		    f->expr, sizeof(f->expr),
		    "(SELECT sum(CASE p.refund WHEN 1 THEN -p.amount_minor "
		    "ELSE p.amount_minor END) FROM purchases p WHERE "
		    "p.card_id = c.id AND p.currency = ?%d)",
		    k);
		note_read(p, f->section, name);
		return 0;
	}
	if (strncmp(name, "consent.", 8) == 0) {
		char buf[QUERY_FIELD_SIZE];
		snprintf(buf, sizeof(buf), "%s", name + 8);
		char *dot = strchr(buf, '.');
		const char *purpose = NULL, *channel = buf;
		if (dot != NULL) {
			*dot = '\0';
			purpose = buf;
			channel = dot + 1;
			if (!name_ok(purpose))
				return fail(ps, "bad consent purpose");
		}
		if (!channel_ok(channel))
			return fail(ps,
				    "consent channels are email, phone, sms "
				    "and post");
		f->type = FT_CONSENT;
		f->section = S_CONSENT;
		f->empty = E_NULL;
		if (consent_expr(p, channel, purpose, f->expr,
				 sizeof(f->expr)) != 0)
			return ps->rv = CARTA_ENOMEM;
		note_read(p, f->section, name);
		return 0;
	}
	if (strncmp(name, "custom.", 7) == 0 && ps->ctx->custom != NULL) {
		if (!name_ok(name + 7) ||
		    ps->ctx->custom(ps->ctx->custom_arg, name + 7, &f->def) !=
			0)
			return fail(ps, "no custom field %.40s", name + 7);
		f->section = f->def->section;
		int type = f->def->type;
		int k = bind_text(p, name + 7);
		if (k == 0)
			return ps->rv = CARTA_ENOMEM;
		char tmp[256];
		snprintf(tmp, sizeof(tmp),
			 "(SELECT v.value FROM custom_values v JOIN "
			 "custom_fields f ON f.id = v.field_id WHERE "
			 "v.card_id = c.id AND f.name = ?%d)",
			 k);
		if (type == CARTA__V1__FIELD_TYPE__FIELD_NUMBER) {
			f->type = FT_INT;
			f->empty = E_NULL;
			snprintf(f->expr, sizeof(f->expr),
				 "CAST(%s AS INTEGER)", tmp);
		} else {
			f->type = type == CARTA__V1__FIELD_TYPE__FIELD_DATE
				      ? FT_DATE
				      : FT_TEXT;
			f->empty = E_TEXT;
			snprintf(f->expr, sizeof(f->expr), "%s", tmp);
		}
		note_read(p, f->section, name);
		return 0;
	}
	return fail(ps, "unknown field '%.40s'", name);
}

/* ---- comparisons ---- */

static const char *const op_sql[] = {"=", "!=", "<", "<=", ">", ">="};
static const char *const op_text[] = {
    "=", "!=", "<", "<=", ">", ">=", "contains", "starts-with"};

/* Whether v is one of d's values (bool: true or false; choice: one of
 * its choices), folded as the comparison folds them. 0, CARTA_EINVAL or
 * CARTA_ENOMEM. */
static int custom_value_ok(const Carta__V1__FieldDef *d, const char *v)
{
	static const char *const bools[] = {"true", "false"};
	const char *const *values = (const char *const *)d->choices;
	size_t n = d->n_choices;
	int rv = 0;

	if (d->type == CARTA__V1__FIELD_TYPE__FIELD_BOOL) {
		values = bools;
		n = 2;
	}
	char *fv = fold_dup(v, &rv);
	if (fv == NULL)
		return rv == CARTA_ENOMEM ? rv : CARTA_EINVAL;
	rv = CARTA_EINVAL;
	for (size_t i = 0; i < n && rv == CARTA_EINVAL; i++) {
		int frv = 0;
		char *fc = fold_dup(values[i], &frv);
		if (fc == NULL && frv == CARTA_ENOMEM)
			rv = CARTA_ENOMEM;
		else if (fc != NULL && strcmp(fc, fv) == 0)
			rv = 0;
		free(fc);
	}
	free(fv);
	return rv;
}

/* The value after an operator, for a field of type: text and dates are
 * bound as text, numbers, amounts and consent states as integers.
 * Returns the parameter number or 0 (ps->rv says why). */
static int value(parser *ps, const qfield *f, int op)
{
	query_plan *p = ps->p;
	int rv = 0;

	if (ps->tok != T_WORD && ps->tok != T_STRING) {
		fail(ps, "expected a value");
		return 0;
	}
	char *v = ps->text;
	switch (f->type) {
	case FT_DATE: {
		char date[11], buf[64];
		/* "today - 180d" may come as three words. */
		snprintf(buf, sizeof(buf), "%s", v);
		if (ps->tok == T_WORD && strcasecmp(v, "today") == 0) {
			size_t save = ps->pos;
			if (next(ps) != 0)
				return 0;
			if (ps->tok == T_WORD &&
			    (ps->text[0] == '-' || ps->text[0] == '+')) {
				size_t l = strlen(buf);
				snprintf(buf + l, sizeof(buf) - l, "%s",
					 ps->text);
				if (ps->text[1] == '\0') {
					if (next(ps) != 0)
						return 0;
					if (ps->tok == T_WORD) {
						l = strlen(buf);
						snprintf(buf + l,
							 sizeof(buf) - l, "%s",
							 ps->text);
					}
				}
			} else {
				/* Not ours: step back to it. */
				ps->pos = save;
			}
		}
		if (op == OP_CONTAINS || op == OP_STARTS) {
			fail(ps, "contains and starts-with apply to text");
			return 0;
		}
		if (eval_date(ps->today, buf, date) != 0) {
			fail(ps, "expected a date (YYYY-MM-DD or today-180d)");
			return 0;
		}
		return bind_text(p, date) ? (int)p->nbinds
					  : (ps->rv = CARTA_ENOMEM, 0);
	}
	case FT_INT:
	case FT_MONEY: {
		char err[VALIDATE_ERR_SIZE];
		int64_t n = 0;
		if (op == OP_CONTAINS || op == OP_STARTS) {
			fail(ps, "contains and starts-with apply to text");
			return 0;
		}
		if (validate_amount(v, f->type == FT_MONEY ? f->exponent : 0,
				    &n, err, sizeof(err)) != 0) {
			fail(ps, "expected a number");
			return 0;
		}
		return bind_int(p, n) ? (int)p->nbinds
				      : (ps->rv = CARTA_ENOMEM, 0);
	}
	case FT_CONSENT: {
		int state = strcasecmp(v, "granted") == 0     ? 1
			    : strcasecmp(v, "withdrawn") == 0 ? 2
							      : 0;
		if (state == 0 || (op != OP_EQ && op != OP_NE)) {
			fail(ps, "consent compares with = or != to granted "
				 "or withdrawn");
			return 0;
		}
		return bind_int(p, state) ? (int)p->nbinds
					  : (ps->rv = CARTA_ENOMEM, 0);
	}
	case FT_PHONE: {
		char key[64];
		if (op != OP_EQ && op != OP_NE && op != OP_CONTAINS &&
		    op != OP_STARTS) {
			fail(ps, "phones compare with =, !=, contains and "
				 "starts-with");
			return 0;
		}
		char *fv = fold_dup(v, &rv); /* full-width digits too */
		if (fv == NULL && rv == CARTA_ENOMEM) {
			ps->rv = rv;
			return 0;
		}
		if (op == OP_EQ || op == OP_NE)
			fold_phone_key(fv ? fv : v, key, sizeof(key));
		else
			fold_digits(fv ? fv : v, key, sizeof(key));
		free(fv);
		if (key[0] == '\0') {
			fail(ps, "a phone number needs digits");
			return 0;
		}
		/* = matches numbers that end in these digits (a number
		 * given without its country code): too few would match
		 * many. */
		if ((op == OP_EQ || op == OP_NE) && strlen(key) < 6) {
			fail(ps, "a phone number to compare with = or != has "
				 "at least 6 digits; for part of one use "
				 "contains or starts-with");
			return 0;
		}
		return bind_text(p, key) ? (int)p->nbinds
					 : (ps->rv = CARTA_ENOMEM, 0);
	}
	default: {
		const Carta__V1__FieldDef *d = f->def;
		const bool unordered =
		    d != NULL &&
		    (d->type == CARTA__V1__FIELD_TYPE__FIELD_BOOL ||
		     d->type == CARTA__V1__FIELD_TYPE__FIELD_CHOICE);

		/* A bool or choice field has no order. */
		if (unordered && op != OP_EQ && op != OP_NE &&
		    op != OP_CONTAINS && op != OP_STARTS) {
			fail(ps,
			     "custom.%.40s has no order: compare it with "
			     "= or !=",
			     d->name);
			return 0;
		}
		/* A bool or choice field takes only its values: any other
		 * is a mistake that would silently match nothing. */
		if (unordered && (op == OP_EQ || op == OP_NE)) {
			rv = custom_value_ok(d, v);
			if (rv == CARTA_ENOMEM) {
				ps->rv = rv;
				return 0;
			}
			if (rv != 0) {
				fail(ps,
				     "'%.40s' is not a value of "
				     "custom.%.40s%s",
				     v, d->name,
				     d->type ==
					     CARTA__V1__FIELD_TYPE__FIELD_BOOL
					 ? " (true or false)"
					 : " (see carta field list)");
				return 0;
			}
		}
		char *folded = fold_dup(v, &rv);
		if (folded == NULL) {
			if (rv == CARTA_ENOMEM)
				ps->rv = rv;
			else
				fail(ps, "invalid UTF-8");
			return 0;
		}
		int k = bind_text(p, folded);
		free(folded);
		if (k == 0)
			ps->rv = CARTA_ENOMEM;
		return k;
	}
	}
}

/* The folded form of text expression e: for the names, a column the
 * store keeps folded and indexed (migration 9), so that an equality or a
 * sort does not fold every card's name; carta_fold(e) for the rest. */
static void folded(const char *e, char *out, size_t cap)
{
	if (strcmp(e, "c.given_name") == 0)
		snprintf(out, cap, "c.given_fold");
	else if (strcmp(e, "c.family_name") == 0)
		snprintf(out, cap, "c.family_fold");
	else
		snprintf(out, cap, "carta_fold(%s)", e);
}

/* A condition on one value E (a scalar, or cp.col of a contact point). */
static void emit_cmp(sb *w, const qfield *f, const char *e, int op, int k)
{
	char fe[600];
	switch (f->type) {
	case FT_DATE:
		if (op == OP_EQ || op == OP_NE)
			sb_add(w, "coalesce(%s, '') %s ?%d", e, op_sql[op], k);
		else
			sb_add(w, "(coalesce(%s, '') != '' AND %s %s ?%d)", e,
			       e, op_sql[op], k);
		break;
	case FT_INT:
		if (op == OP_NE)
			sb_add(w, "coalesce(%s, 0) != ?%d", e, k);
		else
			sb_add(w, "%s %s ?%d", e, op_sql[op], k);
		break;
	case FT_MONEY:
		/* No purchase in the currency is empty: only != holds. */
		if (op == OP_NE)
			sb_add(w, "(%s IS NULL OR %s != ?%d)", e, e, k);
		else
			sb_add(w, "%s %s ?%d", e, op_sql[op], k);
		break;
	case FT_CONSENT:
		sb_add(w, "coalesce(%s, 0) %s ?%d", e, op_sql[op], k);
		break;
	case FT_PHONE:
		/* Only contains and starts-with get here: on digits. */
		if (op == OP_CONTAINS)
			sb_add(w, "instr(carta_digits(%s), ?%d) > 0", e, k);
		else
			sb_add(w,
			       "substr(carta_digits(%s), 1, length(?%d)) = "
			       "?%d",
			       e, k, k);
		break;
	default:
		folded(e, fe, sizeof(fe));
		if (op == OP_CONTAINS)
			sb_add(w, "instr(%s, ?%d) > 0", fe, k);
		else if (op == OP_STARTS)
			sb_add(w, "substr(%s, 1, length(?%d)) = ?%d", fe, k, k);
		else if (op == OP_EQ || op == OP_NE)
			sb_add(w, "%s %s ?%d", fe, op_sql[op], k);
		else
			sb_add(w, "(coalesce(%s, '') != '' AND %s %s ?%d)", e,
			       fe, op_sql[op], k);
	}
}

static void emit_empty(sb *w, const qfield *f, const char *e)
{
	if (f->empty == E_NULL)
		sb_add(w, "%s IS NULL", e);
	else if (f->empty == E_ZERO)
		sb_add(w, "coalesce(%s, 0) = 0", e);
	else
		sb_add(w, "coalesce(%s, '') = ''", e);
}

#define CP_EXISTS                                                              \
	"EXISTS (SELECT 1 FROM contact_points cp WHERE "                       \
	"cp.card_id = c.id AND cp.kind = %d AND "

static int compare(parser *ps, const qfield *f, const char *name);

static int comparison(parser *ps)
{
	qfield f;

	if (ps->tok != T_WORD)
		return fail(ps, "expected a field name");
	if (++ps->terms > QUERY_TERMS_MAX)
		return fail(ps, "more than %d comparisons", QUERY_TERMS_MAX);
	char name[QUERY_FIELD_SIZE];
	if (strlen(ps->text) >= sizeof(name))
		return fail(ps, "field name too long");
	snprintf(name, sizeof(name), "%s", ps->text);
	int rv = resolve(ps, name, &f) != 0 ? ps->rv : compare(ps, &f, name);
	qfield_free(&f);
	return rv;
}

/* The rest of a comparison, once its field is resolved into *fp. */
static int compare(parser *ps, const qfield *f, const char *name)
{
	int op = -1;
	bool empty = false, negate = false;

	if (next(ps) != 0)
		return ps->rv;
	if (ps->tok == T_OP) {
		op = ps->op;
	} else if (is_word(ps, "contains")) {
		op = OP_CONTAINS;
	} else if (is_word(ps, "starts-with")) {
		op = OP_STARTS;
	} else if (is_word(ps, "is")) {
		if (next(ps) != 0)
			return ps->rv;
		if (is_word(ps, "not")) {
			negate = true;
			if (next(ps) != 0)
				return ps->rv;
		}
		if (!is_word(ps, "empty"))
			return fail(ps, "expected 'empty' after 'is'");
		empty = true;
	} else {
		return fail(ps, "expected an operator after %s", name);
	}
	int k = 0;
	if (!empty) {
		if (next(ps) != 0)
			return ps->rv;
		k = value(ps, f, op);
		if (k == 0)
			return ps->rv ? ps->rv : fail(ps, "bad value");
	}
	if (next(ps) != 0)
		return ps->rv;

	sb *w = ps->w;
	if (f->kind == 0) {
		if (empty) {
			sb_add(w, "%s(", negate ? "NOT " : "");
			emit_empty(w, f, f->expr);
			sb_add(w, ")");
		} else {
			emit_cmp(w, f, f->expr, op, k);
		}
		return 0;
	}

	/* A contact point field holds many values: a comparison holds
	 * when one of them matches; != and is empty when none does. */
	if (empty) {
		sb_add(w, "%s" CP_EXISTS "%s != '')", negate ? "" : "NOT ",
		       f->kind, f->expr);
		return 0;
	}
	if (f->type == FT_PHONE && (op == OP_EQ || op == OP_NE)) {
		sb_add(w,
		       "%sEXISTS (SELECT 1 FROM phone_keys pk WHERE "
		       "pk.card_id = c.id AND substr(pk.key, 1, length(?%d)) "
		       "= ?%d)",
		       op == OP_NE ? "NOT " : "", k, k);
		return 0;
	}
	sb_add(w, "%s" CP_EXISTS, op == OP_NE ? "NOT " : "", f->kind);
	emit_cmp(w, f, f->expr, op == OP_NE ? OP_EQ : op, k);
	sb_add(w, ")");
	return 0;
}

/* ---- the grammar ---- */

static int parse_or(parser *ps);

static int parse_primary(parser *ps)
{
	if (ps->tok == T_LP) {
		if (++ps->depth > QUERY_DEPTH_MAX)
			return fail(ps, "nested more than %d deep",
				    QUERY_DEPTH_MAX);
		if (next(ps) != 0)
			return ps->rv;
		sb_add(ps->w, "(");
		if (parse_or(ps) != 0)
			return ps->rv;
		if (ps->tok != T_RP)
			return fail(ps, "expected ')'");
		sb_add(ps->w, ")");
		ps->depth--;
		return next(ps);
	}
	return comparison(ps);
}

static int parse_not(parser *ps)
{
	if (is_word(ps, "not")) {
		if (++ps->depth > QUERY_DEPTH_MAX)
			return fail(ps, "nested more than %d deep",
				    QUERY_DEPTH_MAX);
		if (next(ps) != 0)
			return ps->rv;
		sb_add(ps->w, "NOT (");
		if (parse_not(ps) != 0)
			return ps->rv;
		sb_add(ps->w, ")");
		ps->depth--;
		return 0;
	}
	return parse_primary(ps);
}

static int parse_and(parser *ps)
{
	sb_add(ps->w, "(");
	if (parse_not(ps) != 0)
		return ps->rv;
	while (is_word(ps, "and")) {
		if (next(ps) != 0)
			return ps->rv;
		sb_add(ps->w, " AND ");
		if (parse_not(ps) != 0)
			return ps->rv;
	}
	sb_add(ps->w, ")");
	return 0;
}

static int parse_or(parser *ps)
{
	sb_add(ps->w, "(");
	if (parse_and(ps) != 0)
		return ps->rv;
	while (is_word(ps, "or")) {
		if (next(ps) != 0)
			return ps->rv;
		sb_add(ps->w, " OR ");
		if (parse_and(ps) != 0)
			return ps->rv;
	}
	sb_add(ps->w, ")");
	return 0;
}

/* ---- text search ---- */

static bool phone_like(const char *t)
{
	size_t digits = 0;
	for (const char *s = t; *s; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (strchr(" +-()./\t", *s) == NULL)
			return false;
	}
	return digits >= 6;
}

/* The text condition into w, and its relevance into rank (0 best). */
static int text_search(query_plan *p, const char *text, sb *w, sb *rank,
		       char *err, size_t errlen)
{
	char *words[QUERY_TOKENS_MAX];
	int rv = 0;

	note_read(p, S_IDENTITY, "text");
	note_read(p, S_CONTACT, "text");

	/* Digits of any width ("６１２", full-width) are digits: the text
	 * is folded (compatibility forms too) before it is looked at. */
	char *folded_text = fold_dup(text, &rv);
	if (folded_text == NULL && rv == CARTA_ENOMEM)
		return rv;
	rv = 0;
	bool phone = folded_text != NULL && phone_like(folded_text);
	if (phone) {
		char key[64];
		fold_phone_key(folded_text, key, sizeof(key));
		free(folded_text);
		int a = bind_text(p, key), b = bind_upper(p, key);
		if (a == 0 || b == 0)
			return CARTA_ENOMEM;
		sb_add(w,
		       "c.id IN (SELECT card_id FROM phone_keys WHERE key >= "
		       "?%d AND key < ?%d)",
		       a, b);
		sb_add(rank,
		       "CASE WHEN EXISTS (SELECT 1 FROM phone_keys pk WHERE "
		       "pk.card_id = c.id AND pk.key = ?%d) THEN 0 ELSE 1 END",
		       a);
		return 0;
	}
	free(folded_text);

	int n = query_words(text, words, QUERY_TOKENS_MAX);
	if (n == CARTA_ETOOBIG) {
		snprintf(err, errlen, "at most %d words", QUERY_TOKENS_MAX);
		return CARTA_EINVAL;
	}
	if (n < 0) {
		if (n == CARTA_EINVAL)
			snprintf(err, errlen, "invalid UTF-8");
		return n;
	}
	if (n == 0) {
		/* Nothing searchable (only punctuation): nothing matches. */
		sb_add(w, "0");
		sb_add(rank,
		       "length('')"); /* not "0": ORDER BY 0 names a column */
		return 0;
	}

	/* Every word is quoted and ends in *: FTS5 syntax in the input
	 * (NEAR, OR, quotes) is never more than letters. */
	sb m = {0};
	for (int i = 0; i < n; i++)
		sb_add(&m, "%s\"%s\"*", i ? " AND " : "", words[i]);
	if (n == 1) {
		sb one = {0};
		sb_add(&one, "contact : %s", m.s ? m.s : "");
		int a = bind_text(p, words[0]), b = bind_upper(p, words[0]);
		int k = one.oom ? 0 : bind_text(p, one.s);
		free(one.s);
		if (a == 0 || b == 0 || k == 0) {
			rv = CARTA_ENOMEM;
			goto out;
		}
		/* Names by a range on their folded words, the rest by the
		 * full-text index. */
		sb_add(w,
		       "c.rowid IN (SELECT c2.rowid FROM name_keys nk JOIN "
		       "cards c2 ON c2.id = nk.card_id WHERE nk.key >= ?%d AND "
		       "nk.key < ?%d UNION SELECT rowid FROM card_fts WHERE "
		       "card_fts MATCH ?%d)",
		       a, b, k);
	} else {
		int k = m.oom ? 0 : bind_text(p, m.s);
		if (k == 0) {
			rv = CARTA_ENOMEM;
			goto out;
		}
		sb_add(w,
		       "c.rowid IN (SELECT rowid FROM card_fts WHERE card_fts "
		       "MATCH ?%d)",
		       k);
	}

	/* 0: every word is a whole name word; 1: every word starts one; 2:
	 * the rest. */
	sb_add(rank, "CASE WHEN ");
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			int a = bind_text(p, words[i]);
			if (a == 0) {
				rv = CARTA_ENOMEM;
				goto out;
			}
			sb_add(rank,
			       "%sEXISTS (SELECT 1 FROM name_keys nk WHERE "
			       "nk.card_id = c.id AND ",
			       i ? " AND " : "");
			if (pass == 0)
				sb_add(rank, "nk.key = ?%d)", a);
			else
				sb_add(rank,
				       "substr(nk.key, 1, length(?%d)) = ?%d)",
				       a, a);
		}
		sb_add(rank,
		       pass == 0 ? " THEN 0 WHEN " : " THEN 1 ELSE 2 END");
	}
out:
	free(m.s);
	for (int i = 0; i < n; i++)
		free(words[i]);
	return rv;
}

/* ---- sorting ---- */

static int add_key(query_plan *p, const char *expr, int kind, bool desc)
{
	if (p->nkeys == QUERY_SORT_MAX + 1)
		return CARTA_EINVAL;
	p->keys[p->nkeys].expr = strdup(expr);
	if (p->keys[p->nkeys].expr == NULL)
		return CARTA_ENOMEM;
	p->keys[p->nkeys].kind = kind;
	p->keys[p->nkeys].desc = desc;
	p->nkeys++;
	return 0;
}

static int sort_key(parser *ps, const char *item, const char *rank)
{
	bool desc = item[0] == '-';
	const char *name = item + (item[0] == '-' || item[0] == '+');
	char expr[640];
	qfield f;

	if (strcmp(name, "relevance") == 0) {
		if (rank == NULL)
			return fail(ps, "relevance needs a text search");
		return add_key(ps->p, rank, QUERY_INT, desc);
	}
	if (resolve(ps, name, &f) != 0) {
		qfield_free(&f);
		return ps->rv;
	}
	qfield_free(&f); /* what it knew of a custom field is in f.expr */
	const char *e = f.expr;
	char first[520];
	if (f.kind != 0) {
		/* A contact field sorts by its first value. */
		snprintf(first, sizeof(first),
			 "(SELECT %s FROM contact_points cp WHERE cp.card_id = "
			 "c.id AND cp.kind = %d ORDER BY cp.position LIMIT 1)",
			 f.expr, f.kind);
		e = first;
	}
	switch (f.type) {
	case FT_INT:
	case FT_MONEY:
	case FT_CONSENT:
		snprintf(expr, sizeof(expr), "coalesce(%s, 0)", e);
		return add_key(ps->p, expr, QUERY_INT, desc);
	case FT_DATE:
		snprintf(expr, sizeof(expr), "coalesce(%s, '')", e);
		return add_key(ps->p, expr, QUERY_TEXT, desc);
	default:
		if (strcmp(name, "number") == 0)
			snprintf(expr, sizeof(expr), "c.number");
		else
			folded(e, expr, sizeof(expr));
		return add_key(ps->p, expr, QUERY_TEXT, desc);
	}
}

static int parse_sort(parser *ps, const char *sort, const char *rank)
{
	char buf[256], *save = NULL;
	int n = 0;

	if (strlen(sort) >= sizeof(buf))
		return fail(ps, "too long");
	snprintf(buf, sizeof(buf), "%s", sort);
	for (char *it = strtok_r(buf, ",", &save); it != NULL;
	     it = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*it))
			it++;
		char *end = it + strlen(it);
		while (end > it && isspace((unsigned char)end[-1]))
			*--end = '\0';
		ps->at = (size_t)(it - buf);
		if (*it == '\0')
			return fail(ps, "empty sort field");
		if (++n > QUERY_SORT_MAX)
			return fail(ps, "at most %d sort fields",
				    QUERY_SORT_MAX);
		if (sort_key(ps, it, rank) != 0)
			return ps->rv ? ps->rv : fail(ps, "bad sort");
	}
	return 0;
}

/* ---- the whole query ---- */

static void today_utc(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* FNV-1a over the query's parts, each followed by a 0 byte. */
static uint32_t fingerprint(const char *const *parts, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		for (const char *s = parts[i] ? parts[i] : ""; *s; s++) {
			h ^= (unsigned char)*s;
			h *= 16777619u;
		}
		h ^= 0;
		h *= 16777619u;
	}
	return h;
}

int query_compile(const query_ctx *ctx, const char *text, const char *where,
		  const char *sort, const char *channel, query_plan *out,
		  char *err, size_t errlen, const char **field)
{
	static const query_ctx none = {0};
	sb w = {0}, rank = {0};
	char msg[200] = "";
	parser ps = {.ctx = ctx ? ctx : &none,
		     .p = out,
		     .w = &w,
		     .err = msg,
		     .errlen = sizeof(msg)};
	int rv = 0;

	memset(out, 0, sizeof(*out));
	const char *parts[] = {text, where, sort, channel};
	out->fingerprint = fingerprint(parts, 4);
	*field = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (ps.ctx->today != NULL)
		snprintf(ps.today, sizeof(ps.today), "%s", ps.ctx->today);
	else
		today_utc(ps.today);

	/* The text search. */
	sb_add(&w, "(");
	if (text[0] != '\0') {
		*field = "query.text";
		if (strlen(text) > QUERY_TEXT_MAX) {
			snprintf(msg, sizeof(msg), "longer than %d bytes",
				 QUERY_TEXT_MAX);
			rv = CARTA_EINVAL;
			goto out;
		}
		rv = text_search(out, text, &w, &rank, msg, sizeof(msg));
		if (rv != 0)
			goto out;
	} else {
		sb_add(&w, "1");
	}
	sb_add(&w, ")");

	/* The filter. */
	if (where[0] != '\0') {
		*field = "query.where";
		if (strlen(where) > QUERY_WHERE_MAX) {
			snprintf(msg, sizeof(msg), "longer than %d bytes",
				 QUERY_WHERE_MAX);
			rv = CARTA_EINVAL;
			goto out;
		}
		char *check = NULL;
		rv = fold_text(where, strlen(where), &check, NULL);
		free(check);
		if (rv != 0) {
			snprintf(msg, sizeof(msg), "invalid UTF-8");
			goto out;
		}
		ps.src = where;
		ps.len = strlen(where);
		sb_add(&w, " AND ");
		if (next(&ps) == 0 && ps.tok != T_END)
			parse_or(&ps);
		else if (ps.rv == 0)
			fail(&ps, "empty filter");
		if (ps.rv == 0 && ps.tok != T_END)
			fail(&ps, "unexpected '%.20s'",
			     ps.text	      ? ps.text
			     : ps.tok == T_RP ? ")"
			     : ps.tok == T_LP ? "("
					      : op_text[ps.op]);
		free(ps.text);
		ps.text = NULL;
		if ((rv = ps.rv) != 0)
			goto out;
	}

	/* The channel's consent ("email", or "marketing.email" for one
	 * purpose), and an address to reach the card on that channel. */
	if (channel[0] != '\0') {
		*field = "query.channel";
		char expr[320], buf[QUERY_FIELD_SIZE];
		const char *purpose = NULL, *ch = buf;
		snprintf(buf, sizeof(buf), "%s", channel);
		char *dot = strchr(buf, '.');
		if (dot != NULL) {
			*dot = '\0';
			purpose = buf;
			ch = dot + 1;
		}
		if (!channel_ok(ch) || (purpose != NULL && !name_ok(purpose))) {
			snprintf(msg, sizeof(msg),
				 "channels are email, phone, sms and post, "
				 "or PURPOSE.CHANNEL (marketing.email)");
			rv = CARTA_EINVAL;
			goto out;
		}
		note_read(out, S_CONSENT, "channel");
		note_read(out, S_CONTACT, "channel");
		if ((rv = consent_expr(out, ch, purpose, expr, sizeof(expr))) !=
		    0)
			goto out;
		/* email: an email address; phone and sms: a phone; post: a
		 * postal address (contact_points kinds 1, 2, 3). */
		int kind = strcmp(ch, "email") == 0  ? 1
			   : strcmp(ch, "post") == 0 ? 3
						     : 2;
		sb c = {0};
		sb_add(
		    &c,
		    "(coalesce(%s, 0) = 1 AND EXISTS (SELECT 1 FROM "
		    "contact_points cp WHERE cp.card_id = c.id AND cp.kind = "
		    "%d))",
		    expr, kind);
		if (c.oom) {
			rv = CARTA_ENOMEM;
			goto out;
		}
		out->consent = c.s;
	}

	/* The sort: given, else relevance for a text search, then the
	 * number. */
	*field = "query.sort";
	ps.rv = 0;
	msg[0] = '\0';
	if (sort[0] != '\0') {
		if ((rv = parse_sort(&ps, sort, text[0] ? rank.s : NULL)) != 0)
			goto out;
	} else {
		if (text[0] != '\0' &&
		    (rv = add_key(out, rank.s ? rank.s : "length('')",
				  QUERY_INT, false)) != 0)
			goto out;
		if ((rv = add_key(out, "c.number", QUERY_TEXT, false)) != 0)
			goto out;
	}
	if (w.oom || rank.oom) {
		rv = CARTA_ENOMEM;
		goto out;
	}
	*field = NULL;
	out->where = w.s;
	w.s = NULL;
out:
	if (rv == CARTA_ENOMEM && ps.rv == 0)
		snprintf(msg, sizeof(msg), "out of memory");
	if (rv != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", *field ? *field : "query", msg);
	free(w.s);
	free(rank.s);
	return rv;
}

void query_values_free(query_value *vals, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(vals[i].s);
		vals[i].s = NULL;
	}
}

void query_plan_free(query_plan *p)
{
	free(p->where);
	free(p->consent);
	query_values_free(p->binds, p->nbinds);
	free(p->binds);
	for (size_t i = 0; i < p->nkeys; i++)
		free(p->keys[i].expr);
	memset(p, 0, sizeof(*p));
}

policy_needs query_needs(const query_plan *p,
			 const char *fields_out[CARD_SECTIONS])
{
	policy_needs n = {.known = true, .returns_card = true};

	n.read = p->reads;
	for (int s = 0; s < CARD_SECTIONS; s++)
		fields_out[s] = p->fields[s];
	return n;
}

/* ---- cursors: "i123.s6761.<id>" ---- */

int query_cursor_encode(const query_plan *p, const query_value *vals,
			const char *id, char **out)
{
	sb c = {0};

	sb_add(&c, "q%08" PRIx32 ".", p->fingerprint);
	for (size_t i = 0; i < p->nkeys; i++) {
		if (vals[i].kind == QUERY_INT) {
			sb_add(&c, "i%" PRId64 ".", vals[i].i);
		} else {
			sb_add(&c, "s");
			for (const char *s = vals[i].s ? vals[i].s : ""; *s;
			     s++)
				sb_add(&c, "%02x", (unsigned char)*s);
			sb_add(&c, ".");
		}
	}
	sb_add(&c, "%s", id);
	if (c.oom) {
		free(c.s);
		return CARTA_ENOMEM;
	}
	*out = c.s;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int query_cursor_decode(const query_plan *p, const char *cursor,
			query_value *vals, char id[33])
{
	const char *s = cursor;
	size_t i = 0;

	if (strlen(cursor) > QUERY_CURSOR_MAX)
		return CARTA_EINVAL;
	char q[16];
	snprintf(q, sizeof(q), "q%08" PRIx32 ".", p->fingerprint);
	if (strncmp(s, q, strlen(q)) != 0)
		return CARTA_EINVAL;
	s += strlen(q);
	for (i = 0; i < p->nkeys; i++) {
		const char *dot = strchr(s, '.');
		if (dot == NULL)
			goto bad;
		vals[i].s = NULL;
		vals[i].kind = p->keys[i].kind;
		if (p->keys[i].kind == QUERY_INT) {
			char num[24], *end = NULL;
			size_t n = (size_t)(dot - s);
			if (s[0] != 'i' || n < 2 || n > sizeof(num))
				goto bad;
			memcpy(num, s + 1, n - 1);
			num[n - 1] = '\0';
			errno = 0;
			long long v = strtoll(num, &end, 10);
			if (*end != '\0' || errno != 0 ||
			    (!isdigit((unsigned char)num[0]) && num[0] != '-'))
				goto bad;
			vals[i].i = v;
		} else {
			size_t n = (size_t)(dot - s) - 1;
			if (s[0] != 's' || n % 2 != 0)
				goto bad;
			vals[i].s = malloc(n / 2 + 1);
			if (vals[i].s == NULL) {
				query_values_free(vals, i);
				return CARTA_ENOMEM;
			}
			for (size_t j = 0; j < n / 2; j++) {
				int hi = hexval(s[1 + 2 * j]);
				int lo = hexval(s[2 + 2 * j]);
				if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
					i++;
					goto bad;
				}
				vals[i].s[j] = (char)(hi * 16 + lo);
			}
			vals[i].s[n / 2] = '\0';
		}
		s = dot + 1;
	}
	if (strlen(s) != 32)
		goto bad;
	for (int j = 0; j < 32; j++)
		if (hexval(s[j]) < 0)
			goto bad;
	memcpy(id, s, 33);
	return 0;
bad:
	query_values_free(vals, i);
	return CARTA_EINVAL;
}

/* ---- SQL functions ---- */

static void fn_fold(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *in = (const char *)sqlite3_value_text(argv[0]);
	int words = *(int *)sqlite3_user_data(cx);
	char *out = NULL;
	int rv = 0;

	if (in == NULL) {
		sqlite3_result_text(cx, "", 0, SQLITE_STATIC);
		return;
	}
	out = words ? words_dup(in, &rv) : fold_dup(in, &rv);
	if (out == NULL) {
		if (rv == CARTA_ENOMEM)
			sqlite3_result_error_nomem(cx);
		else /* not UTF-8: compared as it is */
			sqlite3_result_value(cx, argv[0]);
		return;
	}
	sqlite3_result_text(cx, out, -1, free);
}

static void fn_digits(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *in = (const char *)sqlite3_value_text(argv[0]);
	int key = *(int *)sqlite3_user_data(cx);
	char out[64];

	if (in == NULL)
		in = "";
	if (key)
		fold_phone_key(in, out, sizeof(out));
	else
		fold_digits(in, out, sizeof(out));
	sqlite3_result_text(cx, out, -1, SQLITE_TRANSIENT);
}

int query_sql_functions(sqlite3 *conn)
{
	static int zero = 0, one = 1;
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	int rc = sqlite3_create_function(conn, "carta_fold", 1, flags, &zero,
					 fn_fold, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(conn, "carta_words", 1, flags,
					     &one, fn_fold, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(conn, "carta_digits", 1, flags,
					     &zero, fn_digits, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(conn, "carta_phone_key", 1, flags,
					     &one, fn_digits, NULL, NULL);
	return rc == SQLITE_OK ? 0 : CARTA_EDB;
}
