/* Minor units and their decimal text; see money.h. */
#include "money.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The ISO 4217 currencies whose minor unit is not a hundredth. */
static const struct {
	const char code[4];
	int exponent;
} exponents[] = {
    {"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0},
    {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0},
    {"KWD", 3}, {"LYD", 3}, {"OMR", 3}, {"PYG", 0}, {"RWF", 0}, {"TND", 3},
    {"UGX", 0}, {"UYI", 0}, {"UYW", 4}, {"VND", 0}, {"VUV", 0}, {"XAF", 0},
    {"XOF", 0}, {"XPF", 0},
};

int money_exponent(const char *currency)
{
	for (size_t i = 0; i < sizeof exponents / sizeof exponents[0]; i++)
		if (strcasecmp(exponents[i].code, currency) == 0)
			return exponents[i].exponent;
	return 2;
}

int money_parse(const char *text, const char *currency, int64_t *minor,
		char *err, size_t errlen)
{
	int exp = money_exponent(currency);
	const char *p = text;
	bool neg = false, dot = false;
	int digits = 0, decimals = 0;
	int64_t v = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p != '\0'; p++) {
		if (*p == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*p == ',' && !dot) {
			snprintf(err, errlen,
				 "'%s' is not an amount: write the decimals "
				 "after a dot, without thousands separators",
				 text);
			return -1;
		}
		if (*p < '0' || *p > '9') {
			snprintf(err, errlen,
				 "'%s' is not an amount (like 49.90)", text);
			return -1;
		}
		if (dot && ++decimals > exp) {
			if (exp == 0)
				snprintf(err, errlen,
					 "'%s': %s has no decimals", text,
					 currency);
			else
				snprintf(err, errlen,
					 "'%s': %s has at most %d decimal%s",
					 text, currency, exp,
					 exp == 1 ? "" : "s");
			return -1;
		}
		if (v > (INT64_MAX - 9) / 10) {
			snprintf(err, errlen, "'%s' is too large", text);
			return -1;
		}
		v = v * 10 + (*p - '0');
		digits++;
	}
	if (digits == 0) {
		snprintf(err, errlen, "'%s' is not an amount (like 49.90)",
			 text);
		return -1;
	}

	for (; decimals < exp; decimals++) {
		if (v > INT64_MAX / 10) {
			snprintf(err, errlen, "'%s' is too large", text);
			return -1;
		}
		v *= 10;
	}
	*minor = neg ? -v : v;
	return 0;
}

void money_format(int64_t minor, const char *currency, char *out, size_t cap)
{
	int exp = money_exponent(currency);
	/* The magnitude, without overflowing on INT64_MIN. */
	uint64_t mag =
	    minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	uint64_t scale = 1;

	for (int i = 0; i < exp; i++)
		scale *= 10;
	if (exp == 0)
		snprintf(out, cap, "%s%llu", minor < 0 ? "-" : "",
			 (unsigned long long)mag);
	else
		snprintf(out, cap, "%s%llu.%0*llu", minor < 0 ? "-" : "",
			 (unsigned long long)(mag / scale), exp,
			 (unsigned long long)(mag % scale));
}
