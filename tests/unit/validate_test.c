/* Validation and normalisation of card fields: for each validator a table
 * of inputs with the exact value stored, or the exact reason refused. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "carta_error.h"
#include "validate.h"

#define OK    0
#define EINV  CARTA_EINVAL
#define E2BIG CARTA_ETOOBIG

/* Ten characters of two bytes, "é" ten times, composed and decomposed. */
#define E10                                                                    \
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3" \
	"\xa9\xc3\xa9"
#define E10_D                                                                  \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"                                                            \
	"e\xcc\x81"

/* A table row: rv, and then the stored value (rv == 0) or the reason. */
static void check(const char *what, int rv, const char *out, const char *err,
		  int want_rv, const char *want)
{
	if (rv != want_rv || strcmp(want_rv == 0 ? out : err, want) != 0) {
		print_error("%s: got rv %d out \"%s\" err \"%s\"; want rv %d "
			    "\"%s\"\n",
			    what, rv, out, err, want_rv, want);
		fail();
	}
}

/* ---- Text ---- */

static const struct {
	const char *in;
	size_t max;
	unsigned flags;
	int rv;
	const char *want;
} text_cases[] = {
    {"Ana", 10, 0, OK, "Ana"},
    /* A right-to-left override, an isolate, a noncharacter and private
     * use would make a name read other than it is. */
    {"Ana\xe2\x80\xae", 10, 0, EINV,
     "invisible or reserved character U+202E at character 4"},
    {"\xe2\x81\xa6"
     "Ana",
     10, 0, EINV, "invisible or reserved character U+2066 at character 1"},
    {"A\xef\xbf\xbe", 10, 0, EINV,
     "invisible or reserved character U+FFFE at character 2"},
    {"A\xee\x80\x80", 10, 0, EINV,
     "invisible or reserved character U+E000 at character 2"},
    {"  Ana Mar\xc3\xad"
     "a \t",
     20, 0, OK,
     "Ana Mar\xc3\xad"
     "a"},
    /* NBSP and an ideographic space are white space too. */
    {"\xe3\x80\x80"
     "Ana\xc2\xa0",
     10, 0, OK, "Ana"},
    /* "José" with a combining acute (NFD) is stored composed (NFC). */
    {"Jose\xcc\x81", 4, 0, OK, "Jos\xc3\xa9"},
    {"Jos\xc3\xa9", 4, 0, OK, "Jos\xc3\xa9"},
    /* ANGSTROM SIGN is a singleton: NFC maps it to A with ring. */
    {"\xe2\x84\xab", 1, 0, OK, "\xc3\x85"},
    /* Hangul jamo compose into one syllable. */
    {"\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", 1, 0, OK, "\xed\x95\x9c"},
    /* Characters, not bytes: 10 two-byte characters fit 10, 11 do not. */
    {E10, 10, 0, OK, E10},
    {E10 "\xc3\xa9", 10, 0, EINV, "is 11 characters long; at most 10 allowed"},
    /* 20 code points in NFD are 10 characters once composed. */
    {E10_D, 10, 0, OK, E10},
    {E10_D "e\xcc\x81", 10, 0, EINV,
     "is 11 characters long; at most 10 allowed"},
    /* Four-byte characters. */
    {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 2, 0, OK,
     "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"},
    {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 1, 0, EINV,
     "is 2 characters long; at most 1 allowed"},
    {"", 10, 0, EINV, "is empty"},
    {" \t ", 10, 0, EINV, "is empty"},
    {"", 10, VALIDATE_ALLOW_EMPTY, OK, ""},
    {"  ", 10, VALIDATE_ALLOW_EMPTY, OK, ""},
    /* Control characters. */
    {"a\x07z", 10, 0, EINV, "control character U+0007 at character 2"},
    {"a\x1b[31mz", 10, 0, EINV, "control character U+001B at character 2"},
    {"a\x7fz", 10, 0, EINV, "control character U+007F at character 2"},
    {"ab\xc2\x9bz", 10, 0, EINV, "control character U+009B at character 3"},
    {"line 1\nline 2", 20, 0, EINV, "control character U+000A at character 7"},
    {"line 1\nline 2", 20, VALIDATE_MULTILINE, OK, "line 1\nline 2"},
    {"a\tb", 10, 0, EINV, "control character U+0009 at character 2"},
    {"a\tb", 10, VALIDATE_MULTILINE, OK, "a\tb"},
    {"a\r\nb\r\n", 10, VALIDATE_MULTILINE, OK, "a\nb"},
    {"a\rb", 10, VALIDATE_MULTILINE, EINV,
     "control character U+000D at character 2"},
    {"a\x07z", 10, VALIDATE_MULTILINE, EINV,
     "control character U+0007 at character 2"},
    {"a\xe2\x80\xa8z", 10, 0, EINV,
     "line or paragraph separator U+2028 at character 2"},
    {"a\xe2\x80\xa8z", 10, VALIDATE_MULTILINE, OK, "a\xe2\x80\xa8z"},
    /* Invalid UTF-8, with the byte offset in the original input. */
    {"ab\xc0\xaf", 10, 0, EINV,
     "invalid UTF-8 at byte offset 2: an overlong encoding"},
    {"\xe0\x80\xaf", 10, 0, EINV,
     "invalid UTF-8 at byte offset 0: an overlong encoding"},
    {"abc\xf0\x80\x80\xaf", 10, 0, EINV,
     "invalid UTF-8 at byte offset 3: an overlong encoding"},
    {"x\x80", 10, 0, EINV,
     "invalid UTF-8 at byte offset 1: a continuation byte without a lead "
     "byte"},
    {"Jos\xc3\xa9\xa9", 10, 0, EINV,
     "invalid UTF-8 at byte offset 5: a continuation byte without a lead "
     "byte"},
    {"a\xed\xa0\x80", 10, 0, EINV,
     "invalid UTF-8 at byte offset 1: an encoded UTF-16 surrogate"},
    {"\xed\xbf\xbf", 10, 0, EINV,
     "invalid UTF-8 at byte offset 0: an encoded UTF-16 surrogate"},
    {"abc\xe2\x82", 10, 0, EINV,
     "invalid UTF-8 at byte offset 3: a truncated sequence"},
    {"\xc3(", 10, 0, EINV,
     "invalid UTF-8 at byte offset 0: a truncated sequence"},
    {"\xf4\x90\x80\x80", 10, 0, EINV,
     "invalid UTF-8 at byte offset 0: a value beyond U+10FFFF"},
    {"ok \xff", 10, 0, EINV,
     "invalid UTF-8 at byte offset 3: a byte that never occurs in UTF-8"},
};

static void test_text_table(void **state)
{
	char out[128], err[VALIDATE_ERR_SIZE], what[32];
	(void)state;

	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]);
	     i++) {
		err[0] = '\0';
		int rv = validate_text(text_cases[i].in, text_cases[i].max,
				       text_cases[i].flags, out, sizeof(out),
				       err, sizeof(err));
		snprintf(what, sizeof(what), "text case %zu", i);
		check(what, rv, out, err, text_cases[i].rv, text_cases[i].want);
	}
}

static void test_text_bounds(void **state)
{
	static char big[VALIDATE_TEXT_INPUT_MAX + 2];
	char out[VALIDATE_TEXT_SIZE(10)], small[4], err[VALIDATE_ERR_SIZE];
	(void)state;

	/* VALIDATE_TEXT_SIZE always fits: 10 four-byte characters. */
	assert_int_equal(validate_text("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
				       "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
				       "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
				       "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
				       "\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
				       10, 0, out, sizeof(out), err,
				       sizeof(err)),
			 0);
	assert_int_equal(strlen(out), 40);

	/* Too small an out buffer is not a refusal, and never truncates. */
	assert_int_equal(validate_text("Jos\xc3\xa9", 10, 0, small,
				       sizeof(small), err, sizeof(err)),
			 E2BIG);
	assert_string_equal(small, "");
	assert_string_equal(err, "needs 6 bytes of room, have 4");

	/* Input is bounded before any work. */
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(
	    validate_text(big, 10, 0, out, sizeof(out), err, sizeof(err)),
	    EINV);
	assert_string_equal(err, "longer than 65536 bytes");

	/* err may be NULL. */
	assert_int_equal(validate_text("", 10, 0, out, sizeof(out), NULL, 0),
			 EINV);
}

/* ---- Email ---- */

static const struct {
	const char *in;
	int rv;
	const char *want;	/* Unicode form, or the reason */
	const char *want_ascii; /* ASCII form (NULL: as want) */
} email_cases[] = {
    {"ana@example.com", OK, "ana@example.com", NULL},
    {"  Ana.Garcia@Example.COM ", OK, "Ana.Garcia@example.com", NULL},
    {"user+tag@mail.sub.example.org", OK, "user+tag@mail.sub.example.org",
     NULL},
    {"o'brien@example.ie", OK, "o'brien@example.ie", NULL},
    {"a!#$%&'*+-/=?^_`{|}~z@example.com", OK,
     "a!#$%&'*+-/=?^_`{|}~z@example.com", NULL},
    /* Internationalised domains: stored in Unicode, lower-case, NFC. */
    {"jos\xc3\xa9@b\xc3\xbc"
     "cher.example",
     OK,
     "jos\xc3\xa9@b\xc3\xbc"
     "cher.example",
     "jos\xc3\xa9@xn--bcher-kva.example"},
    {"jose\xcc\x81@BU\xcc\x88"
     "CHER.Example",
     OK,
     "jos\xc3\xa9@b\xc3\xbc"
     "cher.example",
     "jos\xc3\xa9@xn--bcher-kva.example"},
    {"user@XN--BCHER-KVA.example", OK,
     "user@b\xc3\xbc"
     "cher.example",
     "user@xn--bcher-kva.example"},
    /* Non-transitional: ß stays ß (transitional would give fass.de). */
    {"info@fa\xc3\x9f.de", OK, "info@fa\xc3\x9f.de", "info@xn--fa-hia.de"},
    {"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf"
     "\x95",
     OK,
     "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf"
     "\x95",
     "\xe7\x94\xa8\xe6\x88\xb7@xn--fsqu00a.xn--0zwm56d"},
    /* UTS #46 maps a full-width letter and an ideographic full stop. */
    {"ana@\xef\xbc\xa5xample\xe3\x80\x82"
     "com",
     OK, "ana@example.com", NULL},
    {"", EINV, "is empty", NULL},
    {"ana", EINV, "has no @", NULL},
    {"ana@@example.com", EINV, "has more than one @", NULL},
    {"a@b@example.com", EINV, "has more than one @", NULL},
    {"@example.com", EINV, "nothing before the @", NULL},
    {"ana@", EINV, "nothing after the @", NULL},
    {"ana@localhost", EINV, "domain has no dot", NULL},
    {".ana@example.com", EINV, "part before the @ starts or ends with a dot",
     NULL},
    {"ana.@example.com", EINV, "part before the @ starts or ends with a dot",
     NULL},
    {"ana..garcia@example.com", EINV, "two dots in a row before the @", NULL},
    {"\"ana garcia\"@example.com", EINV, "contains white space", NULL},
    {"\"ana\"@example.com", EINV, "quoted local parts are not accepted", NULL},
    {"ana(x)@example.com", EINV, "'(' is not allowed before the @", NULL},
    {"Ana <ana@example.com>", EINV, "contains white space", NULL},
    {"ana@exa mple.com", EINV, "contains white space", NULL},
    {"ana\xc2\xa0garcia@example.com", EINV, "contains white space", NULL},
    {"ana\x07@example.com", EINV, "control character U+0007 at character 4",
     NULL},
    {"\xee\x80\x80@example.com", EINV,
     "invisible or reserved character U+E000 at character 1", NULL},
    {"ana@[192.0.2.1]", EINV, "address literals are not accepted", NULL},
    {"ana@192.0.2.1", EINV, "top-level domain is a number", NULL},
    {"ana@exa_mple.com", EINV, "domain contains '_'", NULL},
    {"ana@example.com.", EINV, "domain ends with a dot", NULL},
    {"ana@example..com", EINV, "domain has an empty label", NULL},
    {"ana@.example.com", EINV, "domain has an empty label", NULL},
    {"ana@-example.com", EINV, "a domain label starts or ends with a hyphen",
     NULL},
    {"ana@example-.com", EINV, "a domain label starts or ends with a hyphen",
     NULL},
    {"ana@\xe2\x98\x83.example", EINV,
     "domain has a character not allowed in domain names", NULL},
    {"ana@xn--zzzz.example", EINV,
     "a domain label is not a valid xn-- (punycode) label", NULL},
    /* Decodes to a label with a no-break space, which libidn2 2.3.3's
     * lookup alone lets through; one that decodes to a capital; and an
     * A-label written in capitals, which is fine. */
    {"ana@xn--zbaa-02-bcher-kvabcher-kva.com", EINV,
     "a domain label is not a valid xn-- (punycode) label", NULL},
    {"ana@xn--bcher-2pa.example", EINV, /* bÜcher, with a capital */
     "a domain label is not a valid xn-- (punycode) label", NULL},
    {"ana@xn--Bcher-kva.example", OK,
     "ana@b\xc3\xbc"
     "cher.example",
     "ana@xn--bcher-kva.example"},
    {"ana@a\xe2\x80\x8d"
     "b.example",
     EINV,
     "domain has a joiner or other character out of the context IDNA "
     "allows",
     NULL},
    {"ana@jos\xc3\xa9@example.com", EINV, "has more than one @", NULL},
};

static void test_email_table(void **state)
{
	char out[VALIDATE_EMAIL_SIZE], aout[VALIDATE_EMAIL_ASCII_SIZE];
	char err[VALIDATE_ERR_SIZE], aerr[VALIDATE_ERR_SIZE], what[48];
	(void)state;

	for (size_t i = 0; i < sizeof(email_cases) / sizeof(email_cases[0]);
	     i++) {
		const char *wa = email_cases[i].want_ascii
				     ? email_cases[i].want_ascii
				     : email_cases[i].want;
		err[0] = aerr[0] = '\0';
		int rv = validate_email(email_cases[i].in, out, sizeof(out),
					err, sizeof(err));
		snprintf(what, sizeof(what), "email case %zu", i);
		check(what, rv, out, err, email_cases[i].rv,
		      email_cases[i].want);
		rv = validate_email_ascii(email_cases[i].in, aout, sizeof(aout),
					  aerr, sizeof(aerr));
		snprintf(what, sizeof(what), "email case %zu (ASCII)", i);
		check(what, rv, aout, aerr, email_cases[i].rv, wa);
	}
}

static void repeat(char *out, char c, size_t n)
{
	memset(out, c, n);
	out[n] = '\0';
}

static void test_email_lengths(void **state)
{
	char local[80], l63[64], l64[65], in[600], out[VALIDATE_EMAIL_SIZE];
	char err[VALIDATE_ERR_SIZE];
	(void)state;

	repeat(l63, 'b', 63);
	repeat(l64, 'b', 64);

	/* 64 bytes of local part pass, 65 do not. */
	repeat(local, 'a', 64);
	snprintf(in, sizeof(in), "%s@example.com", local);
	assert_int_equal(validate_email(in, out, sizeof(out), err, sizeof(err)),
			 0);
	assert_string_equal(out, in);
	repeat(local, 'a', 65);
	snprintf(in, sizeof(in), "%s@example.com", local);
	assert_int_equal(validate_email(in, out, sizeof(out), err, sizeof(err)),
			 EINV);
	assert_string_equal(err, "part before the @ is longer than 64 bytes");

	/* Labels: 63 pass, 64 do not. */
	snprintf(in, sizeof(in), "ana@%s.com", l63);
	assert_int_equal(validate_email(in, out, sizeof(out), err, sizeof(err)),
			 0);
	snprintf(in, sizeof(in), "ana@%s.com", l64);
	assert_int_equal(validate_email(in, out, sizeof(out), err, sizeof(err)),
			 EINV);
	assert_string_equal(err, "a domain label is longer than 63 characters");

	/* A domain of 255 characters. */
	snprintf(in, sizeof(in), "ana@%s.%s.%s.%s", l63, l63, l63, l63);
	assert_int_equal(validate_email(in, out, sizeof(out), err, sizeof(err)),
			 EINV);
	assert_string_equal(err, "domain is longer than 253 characters");

	/* 64 + 1 + 191 = 256 bytes in all. */
	repeat(local, 'a', 64);
	snprintf(in, sizeof(in), "%s@%s.%s.%.59s.com", local, l63, l63, l63);
	assert_int_equal(validate_email(in, out, sizeof(out), err, sizeof(err)),
			 EINV);
	assert_string_equal(err, "address is longer than 254 bytes");

	/* Out too small. */
	assert_int_equal(
	    validate_email("ana@example.com", out, 8, err, sizeof(err)), E2BIG);
	assert_string_equal(out, "");
}

/* ---- Phones ---- */

static const struct {
	const char *in;
	const char *region;
	int rv;
	const char *want;
} phone_cases[] = {
    /* Spain. */
    {"+34 612 34 56 78", "ES", OK, "+34612345678"},
    {"612345678", "ES", OK, "+34612345678"},
    {"612345678", "es", OK, "+34612345678"},
    {"0034-612-345-678", "ES", OK, "+34612345678"},
    {"  (+34) 912 34 56 78 ", "ES", OK, "+34912345678"},
    {"tel:+34-612-34-56-78", "ES", OK, "+34612345678"},
    /* Full-width digits. */
    {"\xef\xbc\x96\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc"
     "\x95\xef\xbc\x96\xef\xbc\x97\xef\xbc\x98",
     "ES", OK, "+34612345678"},
    {"+34 612 34 56 78", NULL, OK, "+34612345678"},
    {"+34 612 34 56 78", "GB", OK, "+34612345678"},
    /* United Kingdom: trunk 0, and "(0)" after the country code. */
    {"(020) 7946 0018", "GB", OK, "+442079460018"},
    {"07400 123456", "GB", OK, "+447400123456"},
    {"+44 (0)20 7946 0018", "ES", OK, "+442079460018"},
    {"00 44 20 7946 0018", "FR", OK, "+442079460018"},
    /* United States: with and without the 1. */
    {"(650) 253-0000", "US", OK, "+16502530000"},
    {"1-650-253-0000", "US", OK, "+16502530000"},
    {"+1 650 253 0000", "ES", OK, "+16502530000"},
    {"011 34 612 34 56 78", "US", OK, "+34612345678"},
    /* Mexico: the old mobile "1" after +52, the 044/045 mobile prefixes
     * and the 01 trunk prefix all drop out (numbering reform of 2019). */
    {"+52 1 55 1234 5678", "ES", OK, "+525512345678"},
    {"+52 55 1234 5678", "ES", OK, "+525512345678"},
    {"+52 1 33 1234 5678", NULL, OK, "+523312345678"},
    {"044 55 1234 5678", "MX", OK, "+525512345678"},
    {"045 33 1234 5678", "MX", OK, "+523312345678"},
    {"55 1234 5678", "MX", OK, "+525512345678"},
    {"01 55 1234 5678", "MX", OK, "+525512345678"},
    /* These format as +5215512345678 (the old 1 kept) unless the result
     * is parsed again: equal numbers must store equal. */
    {"+52 011 55 1234 5678", "ES", OK, "+525512345678"},
    {"+5215512345678", NULL, OK, "+525512345678"},
    /* France: trunk 0. */
    {"06 12 34 56 78", "FR", OK, "+33612345678"},
    {"01 23 45 67 89", "FR", OK, "+33123456789"},
    {"+33 6 12 34 56 78", "DE", OK, "+33612345678"},
    /* Germany: trunk 0, variable length. */
    {"030 1234567", "DE", OK, "+49301234567"},
    {"0151 23456789", "DE", OK, "+4915123456789"},
    {"+49 (0)30 1234567", "ES", OK, "+49301234567"},
    /* Refused. */
    {"", "ES", EINV, "is empty"},
    {"   ", "ES", EINV, "is empty"},
    {"hello", "ES", EINV, "not a phone number"},
    {"12345", "ES", EINV, "too few digits for +34 (ES)"},
    {"+34 612 34 56 78 9", "ES", EINV, "too many digits for +34 (ES)"},
    {"+999 1234567", "ES", EINV, "unknown country calling code"},
    {"612 34 56 78", NULL, EINV,
     "no country calling code (start with +) and no default country"},
    {"612345678", "AQ", EINV,
     "no country calling code (start with +), and the default country AQ "
     "has no numbering plan"},
    {"612345678", "XX", EINV, "the default country is not an ISO 3166 code"},
    {"612345678", "Spain", EINV, "the default country is not an ISO 3166 code"},
    /* Ofcom's range for drama is not in service. */
    {"07700 900123", "GB", EINV,
     "not a number in the numbering plan of +44 (GB)"},
    {"7946 0018", "GB", EINV,
     "a local number without its area code for +44 (GB)"},
    {"+34 612 34 56 78 ext. 4", "ES", EINV,
     "has an extension, which E.164 cannot hold; keep it in a note"},
    {"612\x07"
     "345678",
     "ES", EINV, "control character U+0007 at character 4"},
    {"612\xff", "ES", EINV,
     "invalid UTF-8 at byte offset 3: a byte that never occurs in UTF-8"},
};

static void test_phone_table(void **state)
{
	char out[VALIDATE_E164_SIZE], err[VALIDATE_ERR_SIZE], what[32];
	(void)state;

	for (size_t i = 0; i < sizeof(phone_cases) / sizeof(phone_cases[0]);
	     i++) {
		err[0] = '\0';
		int rv =
		    validate_phone(phone_cases[i].in, phone_cases[i].region,
				   out, sizeof(out), err, sizeof(err));
		snprintf(what, sizeof(what), "phone case %zu", i);
		check(what, rv, out, err, phone_cases[i].rv,
		      phone_cases[i].want);
	}
}

static void test_phone_bounds(void **state)
{
	char out[VALIDATE_E164_SIZE], err[VALIDATE_ERR_SIZE], big[200];
	(void)state;

	assert_int_equal(
	    validate_phone("+34612345678", "ES", out, 12, err, sizeof(err)),
	    E2BIG);
	assert_string_equal(out, "");
	assert_int_equal(
	    validate_phone("+34612345678", "ES", out, 13, err, sizeof(err)), 0);
	assert_string_equal(out, "+34612345678");

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(
	    validate_phone(big, "ES", out, sizeof(out), err, sizeof(err)),
	    EINV);
	assert_string_equal(err, "longer than 100 bytes");
}

/* ---- Countries, currencies, amounts ---- */

static void test_country(void **state)
{
	static const struct {
		const char *in;
		int rv;
		const char *want;
	} cases[] = {
	    {"ES", OK, "ES"},
	    {"es", OK, "ES"},
	    {" gB ", OK, "GB"},
	    {"AQ", OK, "AQ"},
	    {"SS", OK, "SS"},
	    {"UK", EINV, "UK is not an assigned ISO 3166 country code"},
	    {"XK", EINV, "XK is not an assigned ISO 3166 country code"},
	    {"ZZ", EINV, "ZZ is not an assigned ISO 3166 country code"},
	    {"E", EINV, "not a two-letter ISO 3166 country code"},
	    {"ESP", EINV, "not a two-letter ISO 3166 country code"},
	    {"E1", EINV, "not a two-letter ISO 3166 country code"},
	    {"", EINV, "not a two-letter ISO 3166 country code"},
	    {"\xc3\x89S", EINV, "not a two-letter ISO 3166 country code"},
	};
	char out[VALIDATE_COUNTRY_SIZE], err[VALIDATE_ERR_SIZE], what[32];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rv = validate_country(cases[i].in, out, err, sizeof(err));
		snprintf(what, sizeof(what), "country case %zu", i);
		check(what, rv, out, err, cases[i].rv, cases[i].want);
	}

	/* The whole table: 249 codes assigned (ISO 3166-1, 2024). */
	int n = 0;
	for (char a = 'A'; a <= 'Z'; a++)
		for (char b = 'A'; b <= 'Z'; b++) {
			char in[3] = {a, b, '\0'};
			n += validate_country(in, out, NULL, 0) == 0;
		}
	assert_int_equal(n, 249);
}

static void test_currency(void **state)
{
	static const struct {
		const char *in;
		int rv;
		const char *want;
		int exponent;
	} cases[] = {
	    {"EUR", OK, "EUR", 2},
	    {"eur", OK, "EUR", 2},
	    {" usd ", OK, "USD", 2},
	    {"JPY", OK, "JPY", 0},
	    {"KRW", OK, "KRW", 0},
	    {"ISK", OK, "ISK", 0},
	    {"KWD", OK, "KWD", 3},
	    {"BHD", OK, "BHD", 3},
	    {"TND", OK, "TND", 3},
	    {"CLF", OK, "CLF", 4},
	    {"UYW", OK, "UYW", 4},
	    {"MXN", OK, "MXN", 2},
	    {"XOF", OK, "XOF", 0},
	    {"VES", OK, "VES", 2},
	    {"ZWG", OK, "ZWG", 2},
	    {"HRK", EINV,
	     "HRK is not an ISO 4217 currency in use with a minor unit", 0},
	    {"XAU", EINV,
	     "XAU is not an ISO 4217 currency in use with a minor unit", 0},
	    {"XXX", EINV,
	     "XXX is not an ISO 4217 currency in use with a minor unit", 0},
	    {"EURO", EINV, "not a three-letter ISO 4217 currency code", 0},
	    {"\xe2\x82\xac", EINV, "not a three-letter ISO 4217 currency code",
	     0},
	    {"", EINV, "not a three-letter ISO 4217 currency code", 0},
	};
	char out[VALIDATE_CURRENCY_SIZE], err[VALIDATE_ERR_SIZE], what[32];
	int exponent;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		exponent = -1;
		int rv = validate_currency(cases[i].in, out, &exponent, err,
					   sizeof(err));
		snprintf(what, sizeof(what), "currency case %zu", i);
		check(what, rv, out, err, cases[i].rv, cases[i].want);
		assert_int_equal(exponent, cases[i].exponent);
	}

	/* The whole table, in order (bsearch finds every entry), and every
	 * exponent within bounds. */
	int n = 0;
	for (char a = 'A'; a <= 'Z'; a++)
		for (char b = 'A'; b <= 'Z'; b++)
			for (char c = 'A'; c <= 'Z'; c++) {
				char in[4] = {a, b, c, '\0'};
				if (validate_currency(in, out, &exponent, NULL,
						      0) != 0)
					continue;
				assert_true(exponent >= 0 &&
					    exponent <= VALIDATE_EXPONENT_MAX);
				n++;
			}
	assert_int_equal(n, 169);
}

static void test_amount(void **state)
{
	static const struct {
		const char *in;
		int exponent;
		int rv;
		int64_t want;
		const char *reason;
	} cases[] = {
	    {"49.90", 2, OK, 4990, NULL},
	    {"49.9", 2, OK, 4990, NULL},
	    {"49", 2, OK, 4900, NULL},
	    {"-5", 2, OK, -500, NULL},
	    {"+3.1", 3, OK, 3100, NULL},
	    {"1234.5", 2, OK, 123450, NULL},
	    {"49,90", 2, OK, 4990, NULL},
	    {" 7 ", 2, OK, 700, NULL},
	    {"007.05", 2, OK, 705, NULL},
	    {"-0", 2, OK, 0, NULL},
	    {"100", 0, OK, 100, NULL},
	    {"0.0001", 4, OK, 1, NULL},
	    {"1,234", 3, OK, 1234, NULL},
	    {"92233720368547758.07", 2, OK, INT64_MAX, NULL},
	    {"-92233720368547758.07", 2, OK, -INT64_MAX, NULL},
	    {"9223372036854775807", 0, OK, INT64_MAX, NULL},
	    {"92233720368547758.08", 2, EINV, 0, "is too large"},
	    {"9223372036854775808", 0, EINV, 0, "is too large"},
	    {"92233720368547758", 3, EINV, 0, "is too large"},
	    {"99999999999999999999999999", 2, EINV, 0, "is too large"},
	    {"1,234.50", 2, EINV, 0,
	     "more than one separator; write 1234.50, without thousands "
	     "separators"},
	    {"1.234,50", 2, EINV, 0,
	     "more than one separator; write 1234.50, without thousands "
	     "separators"},
	    {"49.999", 2, EINV, 0,
	     "has 3 decimals; this currency has at most 2"},
	    {"100.5", 0, EINV, 0,
	     "has 1 decimals; this currency has at most 0"},
	    {"1,234", 2, EINV, 0,
	     "has 3 decimals; this currency has at most 2"},
	    {".5", 2, EINV, 0, "needs digits before and after the separator"},
	    {"5.", 2, EINV, 0, "needs digits before and after the separator"},
	    {"-", 2, EINV, 0, "needs digits before and after the separator"},
	    {"", 2, EINV, 0, "is empty"},
	    {"  ", 2, EINV, 0, "is empty"},
	    {"1e5", 2, EINV, 0,
	     "not a plain decimal number (digits, a sign and one '.' or ',')"},
	    {"1 000", 2, EINV, 0,
	     "not a plain decimal number (digits, a sign and one '.' or ',')"},
	    {"--5", 2, EINV, 0,
	     "not a plain decimal number (digits, a sign and one '.' or ',')"},
	    {"12 EUR", 2, EINV, 0,
	     "not a plain decimal number (digits, a sign and one '.' or ',')"},
	    {"\xd9\xa1\xd9\xa2", 2, EINV, 0,
	     "not a plain decimal number (digits, a sign and one '.' or ',')"},
	    {"12", 5, EINV, 0, "currency exponent 5 is not 0 to 4"},
	    {"12", -1, EINV, 0, "currency exponent -1 is not 0 to 4"},
	};
	char err[VALIDATE_ERR_SIZE];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t minor = 42;
		err[0] = '\0';
		int rv = validate_amount(cases[i].in, cases[i].exponent, &minor,
					 err, sizeof(err));
		if (rv != cases[i].rv || minor != cases[i].want ||
		    (cases[i].reason != NULL &&
		     strcmp(err, cases[i].reason) != 0)) {
			print_error("amount case %zu \"%s\": rv %d minor %lld "
				    "err \"%s\"\n",
				    i, cases[i].in, rv, (long long)minor, err);
			fail();
		}
	}
}

/* ---- Dates and languages ---- */

static void test_date(void **state)
{
	static const struct {
		const char *in;
		int rv;
		const char *want;
	} cases[] = {
	    {"2024-02-29", OK, "2024-02-29"},
	    {"2000-02-29", OK, "2000-02-29"},
	    {" 2025-01-31\n", OK, "2025-01-31"},
	    {"1000-01-01", OK, "1000-01-01"},
	    {"9999-12-31", OK, "9999-12-31"},
	    {"2025-02-29", EINV, "day 29 does not exist in 2025-02"},
	    {"1900-02-29", EINV, "day 29 does not exist in 1900-02"},
	    {"2024-04-31", EINV, "day 31 does not exist in 2024-04"},
	    {"2024-01-00", EINV, "day 00 does not exist in 2024-01"},
	    {"2024-13-01", EINV, "month 13 does not exist"},
	    {"2024-00-10", EINV, "month 00 does not exist"},
	    {"0999-12-31", EINV, "year 999 is not 1000 to 9999"},
	    {"2024-2-3", EINV, "not a date written YYYY-MM-DD"},
	    {"20240203", EINV, "not a date written YYYY-MM-DD"},
	    {"2024/02/03", EINV, "not a date written YYYY-MM-DD"},
	    {"03-02-2024", EINV, "not a date written YYYY-MM-DD"},
	    {"2024-02-03T10:00", EINV, "not a date written YYYY-MM-DD"},
	    {"+2024-02-3", EINV, "not a date written YYYY-MM-DD"},
	    {"", EINV, "not a date written YYYY-MM-DD"},
	};
	char out[VALIDATE_DATE_SIZE], err[VALIDATE_ERR_SIZE], what[32];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rv = validate_date(cases[i].in, out, err, sizeof(err));
		snprintf(what, sizeof(what), "date case %zu", i);
		check(what, rv, out, err, cases[i].rv, cases[i].want);
	}
}

static void test_birth_date(void **state)
{
	static const struct {
		const char *in, *today;
		int rv;
		const char *want;
	} cases[] = {
	    {"1980-05-17", "2025-06-15", OK, "1980-05-17"},
	    {"2025-06-15", "2025-06-15", OK, "2025-06-15"},
	    {"2025-06-16", "2025-06-15", EINV, "is in the future"},
	    {"2030-01-01", "2025-06-15", EINV, "is in the future"},
	    {"1875-06-15", "2025-06-15", OK, "1875-06-15"},
	    {"1875-06-14", "2025-06-15", EINV, "is more than 150 years ago"},
	    {"1874-03-01", "2024-02-29", OK, "1874-03-01"},
	    {"1874-02-28", "2024-02-29", EINV, "is more than 150 years ago"},
	    {"2025-02-29", "2025-06-15", EINV,
	     "day 29 does not exist in 2025-02"},
	    {"1980-05-17", "2025-13-01", EINV, "today's date is not valid"},
	    {"1980-05-17", "", EINV, "today's date is not valid"},
	};
	char out[VALIDATE_DATE_SIZE], err[VALIDATE_ERR_SIZE], what[32];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rv = validate_birth_date(cases[i].in, cases[i].today, out,
					     err, sizeof(err));
		snprintf(what, sizeof(what), "birth date case %zu", i);
		check(what, rv, out, err, cases[i].rv, cases[i].want);
	}
}

static void test_language(void **state)
{
	static const struct {
		const char *in;
		int rv;
		const char *want;
	} cases[] = {
	    {"en", OK, "en"},
	    {"EN", OK, "en"},
	    {"en-gb", OK, "en-GB"},
	    {"en_GB", OK, "en-GB"},
	    {"ZH-hant", OK, "zh-Hant"},
	    {"zh_hant_tw", OK, "zh-Hant-TW"},
	    {"es-419", OK, "es-419"},
	    {"ast", OK, "ast"},
	    {"sr-latn", OK, "sr-Latn"},
	    {" pt-BR ", OK, "pt-BR"},
	    {"", EINV, "is empty"},
	    {"e", EINV, "language must be 2 or 3 letters (ISO 639)"},
	    {"english", EINV, "language must be 2 or 3 letters (ISO 639)"},
	    {"x-klingon", EINV, "language must be 2 or 3 letters (ISO 639)"},
	    {"i-klingon", EINV, "language must be 2 or 3 letters (ISO 639)"},
	    {"e1", EINV, "language must be 2 or 3 letters (ISO 639)"},
	    {"en-", EINV, "has an empty subtag"},
	    {"en--GB", EINV, "has an empty subtag"},
	    {"en-ZZ", EINV, "region ZZ is not an assigned ISO 3166 code"},
	    {"en-uk", EINV, "region UK is not an assigned ISO 3166 code"},
	    {"en-GB-oxendict", EINV,
	     "only language, script and region subtags are accepted"},
	    {"en-GB-GB", EINV,
	     "only language, script and region subtags are accepted"},
	    {"de-1996", EINV,
	     "only language, script and region subtags are accepted"},
	    {"en-Latn-GB-x-a", EINV,
	     "only language, script and region subtags are accepted"},
	    {"en-Latn-GB-oxendict", EINV,
	     "longer than a language, script and region tag"},
	    {"fr-\xc3\xa9", EINV,
	     "only language, script and region subtags are accepted"},
	};
	char out[VALIDATE_LANGUAGE_SIZE], err[VALIDATE_ERR_SIZE], what[32];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rv = validate_language(cases[i].in, out, sizeof(out), err,
					   sizeof(err));
		snprintf(what, sizeof(what), "language case %zu", i);
		check(what, rv, out, err, cases[i].rv, cases[i].want);
	}
	assert_int_equal(
	    validate_language("zh-Hant-TW", out, 10, err, sizeof(err)), E2BIG);
	assert_string_equal(out, "");
}

/* ---- Threads ---- */

static void *hammer(void *arg)
{
	char out[VALIDATE_EMAIL_SIZE], err[VALIDATE_ERR_SIZE];
	long bad = 0;
	(void)arg;

	for (int i = 0; i < 300; i++) {
		bad += validate_phone("044 55 1234 5678", "MX", out,
				      sizeof(out), err, sizeof(err)) != 0 ||
		       strcmp(out, "+525512345678") != 0;
		bad += validate_phone("06 12 34 56 78", "FR", out, sizeof(out),
				      err, sizeof(err)) != 0 ||
		       strcmp(out, "+33612345678") != 0;
		bad += validate_email_ascii("jos\xc3\xa9@b\xc3\xbc"
					    "cher.example",
					    out, sizeof(out), err,
					    sizeof(err)) != 0 ||
		       strcmp(out, "jos\xc3\xa9@xn--bcher-kva.example") != 0;
		bad += validate_text("Jose\xcc\x81", 4, 0, out, sizeof(out),
				     err, sizeof(err)) != 0 ||
		       strcmp(out, "Jos\xc3\xa9") != 0;
	}
	return (void *)bad;
}

/* Several threads at once, as the server's workers call them. */
static void test_concurrent(void **state)
{
	pthread_t t[4];
	(void)state;

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_table),
	    cmocka_unit_test(test_text_bounds),
	    cmocka_unit_test(test_email_table),
	    cmocka_unit_test(test_email_lengths),
	    cmocka_unit_test(test_phone_table),
	    cmocka_unit_test(test_phone_bounds),
	    cmocka_unit_test(test_country),
	    cmocka_unit_test(test_currency),
	    cmocka_unit_test(test_amount),
	    cmocka_unit_test(test_date),
	    cmocka_unit_test(test_birth_date),
	    cmocka_unit_test(test_language),
	    cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
