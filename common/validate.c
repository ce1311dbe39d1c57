#include "validate.h"

#include <idn2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "carta_error.h"
#include "phone.h"

static void say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void clear(char *out, size_t cap)
{
	if (cap > 0)
		out[0] = '\0';
}

/* Copies n bytes of s and a NUL into out, or says how much room it needs. */
static int put(const void *s, size_t n, char *out, size_t cap, char *err,
	       size_t errlen)
{
	if (n + 1 > cap) {
		say(err, errlen, "needs %zu bytes of room, have %zu", n + 1,
		    cap);
		clear(out, cap);
		return CARTA_ETOOBIG;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static bool is_ascii_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_digit(int c)
{
	return c >= '0' && c <= '9';
}

static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Leading and trailing ASCII white space off a short code; returns the
 * length left from *start. */
static size_t ascii_trim(const char *in, const char **start)
{
	size_t len;

	while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
		in++;
	len = strlen(in);
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t' ||
			   in[len - 1] == '\r' || in[len - 1] == '\n'))
		len--;
	*start = in;
	return len;
}

/* ---- Text ---- */

/* What is wrong with the sequence at p, which utf8proc_iterate refused. */
static const char *utf8_problem(const uint8_t *p, size_t left)
{
	uint8_t b = p[0];
	size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;

	if (b >= 0x80 && b <= 0xBF)
		return "a continuation byte without a lead byte";
	if (b == 0xC0 || b == 0xC1)
		return "an overlong encoding";
	if (b >= 0xF5)
		return "a byte that never occurs in UTF-8";
	for (size_t i = 1; i < need; i++)
		if (i >= left || (p[i] & 0xC0) != 0x80)
			return "a truncated sequence";
	if ((b == 0xE0 && p[1] < 0xA0) || (b == 0xF0 && p[1] < 0x90))
		return "an overlong encoding";
	if (b == 0xED && p[1] >= 0xA0)
		return "an encoded UTF-16 surrogate";
	if (b == 0xF4 && p[1] >= 0x90)
		return "a value beyond U+10FFFF";
	return "an invalid sequence";
}

static bool is_space(utf8proc_int32_t c)
{
	if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85)
		return true;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_ZS:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		return true;
	default:
		return false;
	}
}

/* The cleaned form of a text: buf (malloc'd, free() it) holds the NFC
 * form, NUL-terminated at the end of the trimmed part. */
struct text {
	uint8_t *buf;
	size_t start, len; /* trimmed part, in bytes */
	size_t chars;	   /* code points in the trimmed part */
};

/* Checks in is UTF-8 of at most input_max bytes, normalises it to NFC,
 * trims it and applies the control-character rules of flags. An empty
 * result is not refused here. */
static int text_clean(const char *in, size_t input_max, unsigned flags,
		      struct text *t, char *err, size_t errlen)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t n = strnlen(in, input_max + 1);
	utf8proc_ssize_t r;

	memset(t, 0, sizeof(*t));
	if (n > input_max) {
		say(err, errlen, "longer than %zu bytes", input_max);
		return CARTA_EINVAL;
	}

	for (size_t i = 0; i < n;) {
		utf8proc_int32_t c;
		r = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &c);
		if (r < 0) {
			say(err, errlen, "invalid UTF-8 at byte offset %zu: %s",
			    i, utf8_problem(s + i, n - i));
			return CARTA_EINVAL;
		}
		i += (size_t)r;
	}

	if (n == 0) {
		t->buf = calloc(1, 1);
		r = t->buf == NULL ? UTF8PROC_ERROR_NOMEM : 0;
	} else {
		r = utf8proc_map(s, (utf8proc_ssize_t)n, &t->buf,
				 UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	}
	if (r < 0) {
		t->buf = NULL;
		say(err, errlen, "%s",
		    r == UTF8PROC_ERROR_NOMEM ? "out of memory"
					      : "cannot be normalised");
		return r == UTF8PROC_ERROR_NOMEM ? CARTA_ENOMEM : CARTA_EINVAL;
	}
	n = (size_t)r;

	/* Text pasted from Windows: CR LF is a line break like LF. */
	if (flags & VALIDATE_MULTILINE) {
		size_t w = 0;
		for (size_t i = 0; i < n; i++) {
			if (t->buf[i] == '\r' && i + 1 < n &&
			    t->buf[i + 1] == '\n')
				continue;
			t->buf[w++] = t->buf[i];
		}
		n = w;
		t->buf[n] = '\0';
	}

	size_t start = n, end = 0, chars = 0;
	for (size_t i = 0; i < n;) {
		utf8proc_int32_t c;
		r = utf8proc_iterate(t->buf + i, (utf8proc_ssize_t)(n - i), &c);
		if (r <= 0) {
			say(err, errlen, "cannot be normalised");
			return CARTA_EINVAL;
		}
		if (!is_space(c)) {
			if (start == n)
				start = i;
			end = i + (size_t)r;
		}
		i += (size_t)r;
	}
	if (start == n)
		start = end = 0;

	for (size_t i = start; i < end;) {
		utf8proc_int32_t c;
		utf8proc_category_t cat;
		r = utf8proc_iterate(t->buf + i, (utf8proc_ssize_t)(end - i),
				     &c);
		if (r <= 0) {
			say(err, errlen, "cannot be normalised");
			return CARTA_EINVAL;
		}
		chars++;
		cat = utf8proc_category(c);
		if (cat == UTF8PROC_CATEGORY_CC &&
		    !((flags & VALIDATE_MULTILINE) &&
		      (c == '\n' || c == '\t'))) {
			say(err, errlen,
			    "control character U+%04X at character %zu",
			    (unsigned)c, chars);
			return CARTA_EINVAL;
		}
		/* Characters that make text read other than it is: bidi
		 * overrides and isolates, noncharacters, private use. */
		if ((c >= 0x202A && c <= 0x202E) ||
		    (c >= 0x2066 && c <= 0x2069) ||
		    (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE ||
		    cat == UTF8PROC_CATEGORY_CO) {
			say(err, errlen,
			    "invisible or reserved character U+%04X at "
			    "character %zu",
			    (unsigned)c, chars);
			return CARTA_EINVAL;
		}
		if ((cat == UTF8PROC_CATEGORY_ZL ||
		     cat == UTF8PROC_CATEGORY_ZP) &&
		    !(flags & VALIDATE_MULTILINE)) {
			say(err, errlen,
			    "line or paragraph separator U+%04X at character "
			    "%zu",
			    (unsigned)c, chars);
			return CARTA_EINVAL;
		}
		i += (size_t)r;
	}

	t->buf[end] = '\0';
	t->start = start;
	t->len = end - start;
	t->chars = chars;
	return 0;
}

static void text_free(struct text *t)
{
	free(t->buf);
	t->buf = NULL;
}

int validate_text(const char *in, size_t max_chars, unsigned flags, char *out,
		  size_t cap, char *err, size_t errlen)
{
	struct text t;
	int rv;

	clear(out, cap);
	rv = text_clean(in, VALIDATE_TEXT_INPUT_MAX, flags, &t, err, errlen);
	if (rv != 0)
		goto out;

	if (t.len == 0 && !(flags & VALIDATE_ALLOW_EMPTY)) {
		say(err, errlen, "is empty");
		rv = CARTA_EINVAL;
		goto out;
	}
	if (t.chars > max_chars) {
		say(err, errlen, "is %zu characters long; at most %zu allowed",
		    t.chars, max_chars);
		rv = CARTA_EINVAL;
		goto out;
	}
	rv = put(t.buf + t.start, t.len, out, cap, err, errlen);
out:
	text_free(&t);
	return rv;
}

/* ---- Email ---- */

static bool is_atext_ascii(int c)
{
	return is_ascii_alpha(c) || is_ascii_digit(c) ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A dot-atom of ASCII atext and (RFC 6531) non-ASCII letters, marks,
 * numbers, punctuation and symbols. */
static int check_local(const uint8_t *s, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		say(err, errlen, "nothing before the @");
		return CARTA_EINVAL;
	}
	if (len > VALIDATE_EMAIL_LOCAL_MAX) {
		say(err, errlen, "part before the @ is longer than %d bytes",
		    VALIDATE_EMAIL_LOCAL_MAX);
		return CARTA_EINVAL;
	}
	if (s[0] == '.' || s[len - 1] == '.') {
		say(err, errlen, "part before the @ starts or ends with a dot");
		return CARTA_EINVAL;
	}

	for (size_t i = 0; i < len;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t r =
		    utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
		if (r < 0) {
			say(err, errlen, "invalid UTF-8 before the @");
			return CARTA_EINVAL;
		}
		if (c == '.' && s[i + 1] == '.') {
			say(err, errlen, "two dots in a row before the @");
			return CARTA_EINVAL;
		}
		if (c == '"') {
			say(err, errlen, "quoted local parts are not accepted");
			return CARTA_EINVAL;
		}
		if (c < 0x80 && c != '.' && !is_atext_ascii(c)) {
			say(err, errlen, "'%c' is not allowed before the @",
			    (char)c);
			return CARTA_EINVAL;
		}
		if (c >= 0x80) {
			switch (utf8proc_category(c)) {
			case UTF8PROC_CATEGORY_CN:
			case UTF8PROC_CATEGORY_ZS:
			case UTF8PROC_CATEGORY_ZL:
			case UTF8PROC_CATEGORY_ZP:
			case UTF8PROC_CATEGORY_CC:
			case UTF8PROC_CATEGORY_CF:
			case UTF8PROC_CATEGORY_CS:
			case UTF8PROC_CATEGORY_CO:
				say(err, errlen,
				    "U+%04X is not allowed before the @",
				    (unsigned)c);
				return CARTA_EINVAL;
			default:
				break;
			}
		}
		i += (size_t)r;
	}
	return 0;
}

static const char *idn2_reason(int rc)
{
	switch (rc) {
	case IDN2_DISALLOWED:
	case IDN2_UNASSIGNED:
		return "domain has a character not allowed in domain names";
	case IDN2_HYPHEN_STARTEND:
		return "a domain label starts or ends with a hyphen";
	case IDN2_2HYPHEN:
		return "a domain label has hyphens in 3rd and 4th position";
	case IDN2_LEADING_COMBINING:
		return "a domain label starts with a combining mark";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTO_NO_RULE:
		return "domain has a joiner or other character out of the "
		       "context IDNA allows";
	case IDN2_BIDI:
		return "domain mixes right-to-left and left-to-right text "
		       "as IDNA forbids";
	case IDN2_PUNYCODE_BAD_INPUT:
	case IDN2_PUNYCODE_BIG_OUTPUT:
	case IDN2_PUNYCODE_OVERFLOW:
	case IDN2_INVALID_ALABEL:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
	case IDN2_INVALID_TRANSITIONAL:
	case IDN2_INVALID_NONTRANSITIONAL:
		return "a domain label is not a valid xn-- (punycode) label";
	case IDN2_TOO_BIG_LABEL:
		return "a domain label is longer than 63 characters";
	case IDN2_TOO_BIG_DOMAIN:
		return "domain is longer than 253 characters";
	case IDN2_MALLOC:
		return "out of memory";
	default:
		return "domain is not a valid internationalised domain name";
	}
}

/* The ASCII form from libidn2 still needs the host-name rules: labels of
 * letters, digits and hyphens, at least two, and a top label that is not
 * a number (so that "1.2.3.4" is refused). */
static int check_ascii_domain(const char *a, char *err, size_t errlen)
{
	size_t len = strlen(a), label = 0, labels = 0;
	bool top_numeric = true;

	if (len > VALIDATE_DOMAIN_MAX) {
		say(err, errlen, "domain is longer than %d characters",
		    VALIDATE_DOMAIN_MAX);
		return CARTA_EINVAL;
	}
	for (size_t i = 0; i <= len; i++) {
		char c = a[i];
		if (c == '.' || c == '\0') {
			if (label == 0) {
				say(err, errlen, "domain has an empty label");
				return CARTA_EINVAL;
			}
			if (a[i - 1] == '-') {
				say(err, errlen,
				    "a domain label ends with a hyphen");
				return CARTA_EINVAL;
			}
			labels++;
			if (c == '.') {
				label = 0;
				top_numeric = true;
			}
			continue;
		}
		if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '-') {
			say(err, errlen, "domain contains '%c'", c);
			return CARTA_EINVAL;
		}
		if (c == '-' && label == 0) {
			say(err, errlen, "a domain label starts with a hyphen");
			return CARTA_EINVAL;
		}
		if (!is_ascii_digit(c))
			top_numeric = false;
		if (++label > VALIDATE_LABEL_MAX) {
			say(err, errlen,
			    "a domain label is longer than %d characters",
			    VALIDATE_LABEL_MAX);
			return CARTA_EINVAL;
		}
	}
	if (labels < 2) {
		say(err, errlen, "domain has no dot");
		return CARTA_EINVAL;
	}
	if (top_numeric) {
		say(err, errlen, "top-level domain is a number");
		return CARTA_EINVAL;
	}
	return 0;
}

/* Parses in and writes local@domain into out, the domain in Unicode or in
 * ASCII form. */
static int email_parse(const char *in, bool ascii, char *out, size_t cap,
		       char *err, size_t errlen)
{
	struct text t;
	uint8_t *alabels = NULL, *again = NULL;
	char *ulabels = NULL;
	const char *dom;
	size_t local_len, alen, dlen;
	int rv;

	clear(out, cap);
	rv = text_clean(in, VALIDATE_EMAIL_INPUT_MAX, 0, &t, err, errlen);
	if (rv != 0)
		goto out;

	const uint8_t *s = t.buf + t.start;
	const uint8_t *at = memchr(s, '@', t.len);
	if (t.len == 0) {
		say(err, errlen, "is empty");
		rv = CARTA_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < t.len;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t r =
		    utf8proc_iterate(s + i, (utf8proc_ssize_t)(t.len - i), &c);
		if (r > 0 && is_space(c)) {
			say(err, errlen, "contains white space");
			rv = CARTA_EINVAL;
			goto out;
		}
		i += r > 0 ? (size_t)r : 1;
	}
	if (at == NULL) {
		say(err, errlen, "has no @");
		rv = CARTA_EINVAL;
		goto out;
	}
	if (memchr(at + 1, '@', t.len - (size_t)(at - s) - 1) != NULL) {
		say(err, errlen, "has more than one @");
		rv = CARTA_EINVAL;
		goto out;
	}

	local_len = (size_t)(at - s);
	rv = check_local(s, local_len, err, errlen);
	if (rv != 0)
		goto out;

	dom = (const char *)at + 1;
	dlen = strlen(dom);
	if (dlen == 0) {
		say(err, errlen, "nothing after the @");
		rv = CARTA_EINVAL;
		goto out;
	}
	if (dom[0] == '[') {
		say(err, errlen, "address literals are not accepted");
		rv = CARTA_EINVAL;
		goto out;
	}
	if (dom[dlen - 1] == '.') {
		say(err, errlen, "domain ends with a dot");
		rv = CARTA_EINVAL;
		goto out;
	}
	/* libidn2 passes ASCII through untouched; refuse what no host name
	 * may hold before it maps anything. */
	for (size_t i = 0; i < dlen; i++) {
		char c = dom[i];
		if ((unsigned char)c < 0x80 && !is_ascii_alpha(c) &&
		    !is_ascii_digit(c) && c != '-' && c != '.') {
			say(err, errlen, "domain contains '%c'", c);
			rv = CARTA_EINVAL;
			goto out;
		}
	}

	int rc = idn2_lookup_u8((const uint8_t *)dom, &alabels,
				IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		say(err, errlen, "%s", idn2_reason(rc));
		rv = rc == IDN2_MALLOC ? CARTA_ENOMEM : CARTA_EINVAL;
		goto out;
	}
	rv = check_ascii_domain((const char *)alabels, err, errlen);
	if (rv != 0)
		goto out;
	alen = strlen((const char *)alabels);
	if (local_len + 1 + alen > VALIDATE_EMAIL_MAX) {
		say(err, errlen, "address is longer than %d bytes",
		    VALIDATE_EMAIL_MAX);
		rv = CARTA_EINVAL;
		goto out;
	}

	/* libidn2 2.3 lets through xn-- labels that decode to characters
	 * IDNA forbids (a no-break space, capitals): the Unicode form must
	 * convert back to the very same ASCII form. */
	rc = idn2_to_unicode_8z8z((const char *)alabels, &ulabels, 0);
	if (rc == IDN2_OK)
		rc = idn2_lookup_u8((const uint8_t *)ulabels, &again,
				    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc == IDN2_OK && strcmp((const char *)again, (const char *)alabels))
		rc = IDN2_ALABEL_ROUNDTRIP_FAILED;
	if (rc != IDN2_OK) {
		say(err, errlen, "%s", idn2_reason(rc));
		rv = rc == IDN2_MALLOC ? CARTA_ENOMEM : CARTA_EINVAL;
		goto out;
	}

	const char *d = ascii ? (const char *)alabels : ulabels;
	dlen = strlen(d);
	if (local_len + 1 + dlen + 1 > cap) {
		say(err, errlen, "needs %zu bytes of room, have %zu",
		    local_len + dlen + 2, cap);
		rv = CARTA_ETOOBIG;
		goto out;
	}
	memcpy(out, s, local_len);
	out[local_len] = '@';
	memcpy(out + local_len + 1, d, dlen + 1);
out:
	idn2_free(again);
	idn2_free(ulabels);
	idn2_free(alabels);
	text_free(&t);
	return rv;
}

int validate_email(const char *in, char *out, size_t cap, char *err,
		   size_t errlen)
{
	return email_parse(in, false, out, cap, err, errlen);
}

int validate_email_ascii(const char *in, char *out, size_t cap, char *err,
			 size_t errlen)
{
	return email_parse(in, true, out, cap, err, errlen);
}

/* ---- Phone ---- */

int validate_phone(const char *in, const char *default_region, char *e164_out,
		   size_t cap, char *err, size_t errlen)
{
	char region[VALIDATE_COUNTRY_SIZE];
	const char *reg = NULL;
	struct text t;
	int has_ext = 0;
	int rv;

	clear(e164_out, cap);
	if (default_region != NULL && default_region[0] != '\0') {
		if (validate_country(default_region, region, NULL, 0) != 0) {
			say(err, errlen,
			    "the default country is not an ISO 3166 code");
			return CARTA_EINVAL;
		}
		reg = region;
	}

	rv = text_clean(in, VALIDATE_PHONE_INPUT_MAX, 0, &t, err, errlen);
	if (rv != 0)
		goto out;
	if (t.len == 0) {
		say(err, errlen, "is empty");
		rv = CARTA_EINVAL;
		goto out;
	}

	rv = phone_normalise((const char *)t.buf + t.start, reg, e164_out, cap,
			     &has_ext, err, errlen);
	if (rv == 0 && has_ext) {
		say(err, errlen,
		    "has an extension, which E.164 cannot hold; keep it in a "
		    "note");
		clear(e164_out, cap);
		rv = CARTA_EINVAL;
	}
out:
	text_free(&t);
	return rv;
}

/* ---- Countries and currencies ---- */

/* ISO 3166-1 alpha-2: every code officially assigned, in order. */
static const char countries[][3] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT",
    "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI",
    "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
    "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
    "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
    "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
    "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
    "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW",
    "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
    "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
    "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
    "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

/* ISO 4217 codes in use, with the number of digits after the decimal
 * point of their minor unit, in order. Codes with no minor unit (XAU,
 * XDR, XTS, XXX...) are left out on purpose. Kept as of 2025: HRK is gone
 * (Croatia uses EUR); ANG, SLL and ZWL stay while XCG, SLE and ZWG
 * replace them. Each ISO 4217 amendment needs a look here. */
static const struct currency {
	char code[4];
	unsigned char exponent;
} currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2},
    {"ARS", 2}, {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2},
    {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
    {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2},
    {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2},
    {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0},
    {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
    {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
    {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2},
    {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
    {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0},
    {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2},
    {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2},
    {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
    {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2},
    {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
    {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2},
    {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
    {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
    {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2},
    {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2},
    {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2},
    {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2},
    {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2},
    {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
    {"ZWL", 2},
};

static int cmp_country(const void *key, const void *elem)
{
	return strcmp(key, elem);
}

static int cmp_currency(const void *key, const void *elem)
{
	return strcmp(key, ((const struct currency *)elem)->code);
}

/* Copies n ASCII letters of in, upper-cased, into out (n + 1 bytes);
 * false if they are not all letters. */
static bool letters_upper(const char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_ascii_alpha(in[i]))
			return false;
		out[i] = ascii_upper(in[i]);
	}
	out[n] = '\0';
	return true;
}

int validate_country(const char *in, char out[VALIDATE_COUNTRY_SIZE], char *err,
		     size_t errlen)
{
	const char *s;
	size_t len = ascii_trim(in, &s);
	char code[VALIDATE_COUNTRY_SIZE];

	out[0] = '\0';
	if (len != 2 || !letters_upper(s, 2, code)) {
		say(err, errlen, "not a two-letter ISO 3166 country code");
		return CARTA_EINVAL;
	}
	if (bsearch(code, countries, sizeof(countries) / sizeof(countries[0]),
		    sizeof(countries[0]), cmp_country) == NULL) {
		say(err, errlen, "%s is not an assigned ISO 3166 country code",
		    code);
		return CARTA_EINVAL;
	}
	memcpy(out, code, sizeof(code));
	return 0;
}

int validate_currency(const char *in, char out[VALIDATE_CURRENCY_SIZE],
		      int *exponent, char *err, size_t errlen)
{
	const char *s;
	size_t len = ascii_trim(in, &s);
	char code[VALIDATE_CURRENCY_SIZE];
	const struct currency *c;

	out[0] = '\0';
	*exponent = 0;
	if (len != 3 || !letters_upper(s, 3, code)) {
		say(err, errlen, "not a three-letter ISO 4217 currency code");
		return CARTA_EINVAL;
	}
	c = bsearch(code, currencies,
		    sizeof(currencies) / sizeof(currencies[0]),
		    sizeof(currencies[0]), cmp_currency);
	if (c == NULL) {
		say(err, errlen,
		    "%s is not an ISO 4217 currency in use with a minor unit",
		    code);
		return CARTA_EINVAL;
	}
	memcpy(out, code, sizeof(code));
	*exponent = c->exponent;
	return 0;
}

/* ---- Amounts ---- */

int validate_amount(const char *in, int exponent, int64_t *minor, char *err,
		    size_t errlen)
{
	const char *s;
	size_t len = ascii_trim(in, &s), i = 0, seps = 0, sep = 0;
	bool negative = false;
	int64_t v = 0;
	int decimals = 0;

	*minor = 0;
	if (exponent < 0 || exponent > VALIDATE_EXPONENT_MAX) {
		say(err, errlen, "currency exponent %d is not 0 to %d",
		    exponent, VALIDATE_EXPONENT_MAX);
		return CARTA_EINVAL;
	}
	if (len == 0) {
		say(err, errlen, "is empty");
		return CARTA_EINVAL;
	}
	if (s[0] == '+' || s[0] == '-') {
		negative = s[0] == '-';
		i = 1;
	}
	for (size_t k = i; k < len; k++) {
		if (s[k] == '.' || s[k] == ',') {
			seps++;
			sep = k;
		} else if (!is_ascii_digit(s[k])) {
			say(err, errlen,
			    "not a plain decimal number (digits, a sign and "
			    "one '.' or ',')");
			return CARTA_EINVAL;
		}
	}
	if (seps > 1) {
		say(err, errlen,
		    "more than one separator; write 1234.50, without "
		    "thousands separators");
		return CARTA_EINVAL;
	}
	if (seps == 0)
		sep = len;
	if (sep == i || (seps == 1 && sep + 1 == len)) {
		say(err, errlen, "needs digits before and after the separator");
		return CARTA_EINVAL;
	}
	if (seps == 1 && len - sep - 1 > (size_t)exponent) {
		say(err, errlen,
		    "has %zu decimals; this currency has at most %d",
		    len - sep - 1, exponent);
		return CARTA_EINVAL;
	}

	for (size_t k = i; k < len || decimals < exponent; k++) {
		int d = 0;
		if (k == sep)
			continue;
		if (k > sep)
			decimals++;
		if (k < len)
			d = s[k] - '0';
		if (v > (INT64_MAX - d) / 10) {
			say(err, errlen, "is too large");
			return CARTA_EINVAL;
		}
		v = v * 10 + d;
	}
	*minor = negative ? -v : v;
	return 0;
}

/* ---- Dates ---- */

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int validate_date(const char *in, char out[VALIDATE_DATE_SIZE], char *err,
		  size_t errlen)
{
	const char *s;
	size_t len = ascii_trim(in, &s);
	int y, m, d;

	out[0] = '\0';
	for (size_t i = 0; len == 10 && i < len; i++) {
		if ((i == 4 || i == 7) ? s[i] != '-' : !is_ascii_digit(s[i]))
			len = 0;
	}
	if (len != 10) {
		say(err, errlen, "not a date written YYYY-MM-DD");
		return CARTA_EINVAL;
	}
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < VALIDATE_YEAR_MIN || y > VALIDATE_YEAR_MAX) {
		say(err, errlen, "year %d is not %d to %d", y,
		    VALIDATE_YEAR_MIN, VALIDATE_YEAR_MAX);
		return CARTA_EINVAL;
	}
	if (m < 1 || m > 12) {
		say(err, errlen, "month %02d does not exist", m);
		return CARTA_EINVAL;
	}
	if (d < 1 || d > days_in_month(y, m)) {
		say(err, errlen, "day %02d does not exist in %04d-%02d", d, y,
		    m);
		return CARTA_EINVAL;
	}
	memcpy(out, s, 10);
	out[10] = '\0';
	return 0;
}

int validate_birth_date(const char *in, const char *today,
			char out[VALIDATE_DATE_SIZE], char *err, size_t errlen)
{
	char now[VALIDATE_DATE_SIZE], limit[VALIDATE_DATE_SIZE + 8];
	int rv;

	out[0] = '\0';
	if (validate_date(today, now, NULL, 0) != 0) {
		say(err, errlen, "today's date is not valid");
		return CARTA_EINVAL;
	}
	rv = validate_date(in, out, err, errlen);
	if (rv != 0)
		return rv;

	/* Both are YYYY-MM-DD, so text order is date order; the limit may
	 * be a day that does not exist (a 29 February), which still
	 * compares right. */
	snprintf(limit, sizeof(limit), "%04d%s",
		 digits(now, 4) - VALIDATE_BIRTH_YEARS_MAX, now + 4);
	if (strcmp(out, now) > 0) {
		say(err, errlen, "is in the future");
		rv = CARTA_EINVAL;
	} else if (strcmp(out, limit) < 0) {
		say(err, errlen, "is more than %d years ago",
		    VALIDATE_BIRTH_YEARS_MAX);
		rv = CARTA_EINVAL;
	}
	if (rv != 0)
		out[0] = '\0';
	return rv;
}

/* ---- Languages ---- */

int validate_language(const char *in, char *out, size_t cap, char *err,
		      size_t errlen)
{
	const char *s;
	size_t len = ascii_trim(in, &s);
	char tag[VALIDATE_LANGUAGE_SIZE];
	size_t n = 0, pos = 0;
	int part = 0; /* 0 language, 1 script, 2 region, 3 nothing more */

	clear(out, cap);
	if (len == 0) {
		say(err, errlen, "is empty");
		return CARTA_EINVAL;
	}
	if (len >= sizeof(tag)) {
		say(err, errlen,
		    "longer than a language, script and region tag");
		return CARTA_EINVAL;
	}

	while (pos <= len) {
		size_t sub = pos;
		while (sub < len && s[sub] != '-' && s[sub] != '_')
			sub++;
		size_t k = sub - pos;
		const char *p = s + pos;
		bool alpha = true, digit = true;

		for (size_t i = 0; i < k; i++) {
			alpha = alpha && is_ascii_alpha(p[i]);
			digit = digit && is_ascii_digit(p[i]);
		}
		if (k == 0) {
			say(err, errlen, "has an empty subtag");
			return CARTA_EINVAL;
		}
		if (part == 0 && !(alpha && (k == 2 || k == 3))) {
			say(err, errlen,
			    "language must be 2 or 3 letters (ISO 639)");
			return CARTA_EINVAL;
		}
		if (part > 0)
			tag[n++] = '-';
		if (part == 0) {
			for (size_t i = 0; i < k; i++)
				tag[n++] = ascii_lower(p[i]);
			part = 1;
		} else if (part == 1 && alpha && k == 4) {
			tag[n++] = ascii_upper(p[0]);
			for (size_t i = 1; i < k; i++)
				tag[n++] = ascii_lower(p[i]);
			part = 2;
		} else if (part <= 2 && alpha && k == 2) {
			char in2[3] = {p[0], p[1], '\0'};
			char cc[VALIDATE_COUNTRY_SIZE];
			if (validate_country(in2, cc, NULL, 0) != 0) {
				say(err, errlen,
				    "region %c%c is not an assigned ISO 3166 "
				    "code",
				    ascii_upper(p[0]), ascii_upper(p[1]));
				return CARTA_EINVAL;
			}
			tag[n++] = cc[0];
			tag[n++] = cc[1];
			part = 3;
		} else if (part <= 2 && digit && k == 3) {
			memcpy(tag + n, p, 3);
			n += 3;
			part = 3;
		} else {
			say(err, errlen,
			    "only language, script and region subtags are "
			    "accepted");
			return CARTA_EINVAL;
		}
		pos = sub + 1;
	}
	return put(tag, n, out, cap, err, errlen);
}
