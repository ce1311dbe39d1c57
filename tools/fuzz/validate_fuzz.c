/* Fuzz target: every card-field validator on the same bytes, as a client
 * may send them in any field. Checks the contracts a fuzzer can see: an
 * accepted value is NUL-terminated inside its buffer, is accepted again
 * unchanged (normalisation is idempotent), and a refusal leaves out empty
 * and says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		abort();
}

/* out was accepted: running it through again must give itself. */
static void same_again(int rv, const char *out, const char *again)
{
	if (rv == 0)
		must(strcmp(out, again) == 0);
}

/* Random bytes are rarely valid UTF-8, let alone an address or a phone
 * number, so each input is also read as a list of tokens from the pieces
 * these formats are made of, to reach libidn2 and libphonenumber. */
static const char *const tokens[8][8] = {
    {"a", "b", "z", "A", "0", "1", "5", "9"},
    {"@", ".", "-", "+", " ", "(", ")", "xn--"},
    {"\xc3\xbc", "\xc3\xa9", "e\xcc\x81", "\xc3\x9f", "\xe7\x94\xa8",
     "\xe2\x80\x8d", "\xef\xbc\x8e", "\xe3\x80\x82"},
    {"\n", "\t", "\r\n", "\x7f", "\xc2\x85", "\xe2\x80\xa8", "\xc2\xa0",
     "\xf0\x9f\x98\x80"},
    {"34", "612", "0034", "044", "52", "ext", "tel:", "(0)"},
    {"0151", "7946", "+52 1 ", "06", "_", ",", "'", "\""},
    {"2024", "-02-", "29", "[", "]", "..", "\xd9\x85", "\xe1\x84\x92"},
    {"example", "com", "bcher-kva", "Hant", "GB", "es", "0", "\xe1\x85\xa1"},
};

static void run_all(const char *in, unsigned flags, const char *region);

/* Writes prefix, then the tokens named by data[from] to data[to - 1]. */
static void tokenise(const uint8_t *data, size_t size, size_t from, size_t to,
		     const char *prefix, char *out, size_t cap)
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n + 1);
	for (size_t i = from; i < size && i < to; i++) {
		const char *t = tokens[(data[i] >> 3) & 7][data[i] & 7];
		size_t k = strlen(t);
		if (n + k >= cap)
			break;
		memcpy(out + n, t, k + 1);
		n += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[1024];
	size_t n;

	char *in = malloc(size + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	/* The first byte, when there is one, picks flags and the region. */
	unsigned flags = size > 0 ? data[0] & 3u : 0;
	static const char *const regions[] = {"ES", "GB", "US", "MX",
					      "FR", "DE", "",	NULL};
	const char *region = regions[size > 0 ? data[0] % 8 : 0];
	run_all(in, flags, region);

	/* Short texts: phone numbers and dates are short. Then the same
	 * tokens shaped as an address, local@domain.com. */
	tokenise(data, size, 1, 25, "", text, sizeof(text));
	run_all(text, flags, region);
	tokenise(data, size, 1, 9, "", text, sizeof(text));
	n = strlen(text);
	tokenise(data, size, 9, 17, "@", text + n, sizeof(text) - n);
	n = strlen(text);
	tokenise(data, size, 17, 17, ".com", text + n, sizeof(text) - n);
	run_all(text, flags, region);

	free(in);
	return 0;
}

static void run_all(const char *in, unsigned flags, const char *region)
{
	char err[VALIDATE_ERR_SIZE];
	char out[VALIDATE_TEXT_SIZE(200)], again[VALIDATE_TEXT_SIZE(200)];
	char email[VALIDATE_EMAIL_SIZE], ascii[VALIDATE_EMAIL_ASCII_SIZE];
	char e164[VALIDATE_E164_SIZE], e164b[VALIDATE_E164_SIZE];
	char cc[VALIDATE_COUNTRY_SIZE], cur[VALIDATE_CURRENCY_SIZE];
	char date[VALIDATE_DATE_SIZE], lang[VALIDATE_LANGUAGE_SIZE];
	int64_t minor;
	int rv, exponent;

	err[0] = '\0';
	rv = validate_text(in, 200, flags, out, sizeof(out), err, sizeof(err));
	must(rv == 0 || (out[0] == '\0' && err[0] != '\0'));
	if (rv == 0) {
		must(strlen(out) < sizeof(out));
		rv = validate_text(out, 200, flags, again, sizeof(again), err,
				   sizeof(err));
		must(rv == 0);
		same_again(rv, out, again);
	}

	err[0] = '\0';
	rv = validate_email(in, email, sizeof(email), err, sizeof(err));
	must(rv == 0 || (email[0] == '\0' && err[0] != '\0'));
	if (rv == 0) {
		rv = validate_email(email, again, sizeof(again), err,
				    sizeof(err));
		must(rv == 0);
		same_again(rv, email, again);
		must(validate_email_ascii(in, ascii, sizeof(ascii), err,
					  sizeof(err)) == 0);
	}

	err[0] = '\0';
	rv = validate_phone(in, region, e164, sizeof(e164), err, sizeof(err));
	must(rv == 0 || (e164[0] == '\0' && err[0] != '\0'));
	if (rv == 0) {
		must(e164[0] == '+');
		must(validate_phone(e164, NULL, e164b, sizeof(e164b), err,
				    sizeof(err)) == 0);
		same_again(0, e164, e164b);
	}

	rv = validate_country(in, cc, err, sizeof(err));
	must(rv != 0 || strlen(cc) == 2);
	rv = validate_currency(in, cur, &exponent, err, sizeof(err));
	must(rv != 0 || (strlen(cur) == 3 && exponent >= 0 &&
			 exponent <= VALIDATE_EXPONENT_MAX));
	for (int e = 0; e <= VALIDATE_EXPONENT_MAX; e++)
		(void)validate_amount(in, e, &minor, err, sizeof(err));
	rv = validate_date(in, date, err, sizeof(err));
	must(rv != 0 || strlen(date) == 10);
	(void)validate_birth_date(in, "2025-06-15", date, err, sizeof(err));
	rv = validate_language(in, lang, sizeof(lang), err, sizeof(err));
	if (rv == 0)
		must(validate_language(lang, again, sizeof(again), err,
				       sizeof(err)) == 0 &&
		     strcmp(lang, again) == 0);
}
