/* Amounts of money as the card stores them: an integer count of the
 * currency's minor units (cents for EUR) and an ISO 4217 code. This module
 * turns the text a person types ("49.90") into minor units and back, using
 * each currency's number of decimals (JPY 0, EUR 2, KWD 3). */
#ifndef CARTA_CLI_MONEY_H
#define CARTA_CLI_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Enough for any int64 amount, a sign, a dot and a NUL. */
#define MONEY_TEXT_MAX 32

/* The number of decimals of currency (case-insensitive), from ISO 4217;
 * 2 for a code the table does not know. */
int money_exponent(const char *currency);

/* Parses text ("49.90", "1", "-5.5", "0.125") as an amount of currency
 * into *minor. Digits with at most one dot; a leading '-' is allowed; no
 * thousands separators. Refuses more decimals than the currency has.
 * Returns 0, or -1 with a one-line reason in err. */
int money_parse(const char *text, const char *currency, int64_t *minor,
		char *err, size_t errlen);

/* Writes minor as a decimal number with the currency's decimals
 * ("49.90" for 4990 EUR, "1" for 1 JPY) into out (MONEY_TEXT_MAX
 * bytes is always enough). */
void money_format(int64_t minor, const char *currency, char *out, size_t cap);

#endif
