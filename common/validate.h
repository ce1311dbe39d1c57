/* Validation and normalisation of the values on a customer card. Every
 * write of a card passes each field through one of these before it is
 * stored, and stores what they write out, never the raw input.
 *
 * Common contract:
 *   - Return 0, CARTA_EINVAL when the input is refused, CARTA_ETOOBIG when
 *     it is acceptable but the out buffer is too small, or CARTA_ENOMEM.
 *   - On any error err (errlen bytes; may be NULL) holds a short English
 *     reason that does not name the field, so the caller prefixes the
 *     field path ("contact.emails[0].address: has no @"). Reasons quote
 *     no more than a few characters of the input, and never raw bytes.
 *   - in is a NUL-terminated string, borrowed; outputs are NUL-terminated
 *     and must not overlap in. On error out holds "" (when cap > 0).
 *   - Surrounding white space is trimmed; nothing is ever truncated.
 *   - Pure and thread-safe: no global state, no clock, no locale.
 *
 * Text is stored as UTF-8 in Unicode normalisation form C (NFC). Lengths
 * are counted in characters, meaning Unicode code points of the stored
 * NFC form: "José" is 4 characters (5 bytes) whether it came in composed
 * or decomposed. Code points, not user-perceived characters (grapheme
 * clusters): a flag emoji counts 2. */
#ifndef CARTA_VALIDATE_H
#define CARTA_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "phone.h"

/* A good size for err. */
#define VALIDATE_ERR_SIZE 160

/* Text. Input longer than this many bytes is refused before any work. */
#define VALIDATE_TEXT_INPUT_MAX 65536
/* Bytes of out that always fit a text of max_chars characters. */
#define VALIDATE_TEXT_SIZE(max_chars) ((size_t)(max_chars)*4 + 1)

/* validate_text flags. */
#define VALIDATE_MULTILINE   1u /* allow \n (CR LF becomes LF) and \t */
#define VALIDATE_ALLOW_EMPTY 2u /* "" and white space alone give "" */

/* Email, in octets (RFC 5321): local part, one domain label, the domain
 * and the whole address, the last two in the ASCII (A-label) form. */
#define VALIDATE_EMAIL_LOCAL_MAX 64
#define VALIDATE_LABEL_MAX	 63
#define VALIDATE_DOMAIN_MAX	 253
#define VALIDATE_EMAIL_MAX	 254
/* Out sizes that always fit: the Unicode form can be longer in bytes than
 * the ASCII form (a U-label character takes up to 4 bytes). */
#define VALIDATE_EMAIL_SIZE                                                    \
	(VALIDATE_EMAIL_LOCAL_MAX + 1 + 4 * VALIDATE_DOMAIN_MAX + 1)
#define VALIDATE_EMAIL_ASCII_SIZE (VALIDATE_EMAIL_MAX + 1)
/* Input longer than this many bytes is refused unread. */
#define VALIDATE_EMAIL_INPUT_MAX 1024

/* Phones: input longer than this many bytes is refused. */
#define VALIDATE_PHONE_INPUT_MAX 100
#define VALIDATE_E164_SIZE	 PHONE_E164_SIZE

#define VALIDATE_COUNTRY_SIZE  3  /* "ES" */
#define VALIDATE_CURRENCY_SIZE 4  /* "EUR" */
#define VALIDATE_DATE_SIZE     11 /* "2024-02-29" */
#define VALIDATE_LANGUAGE_SIZE 16 /* the longest is "abc-Abcd-123" */

/* Largest ISO 4217 minor-unit exponent (CLF, UYW). */
#define VALIDATE_EXPONENT_MAX 4

#define VALIDATE_YEAR_MIN	 1000
#define VALIDATE_YEAR_MAX	 9999
#define VALIDATE_BIRTH_YEARS_MAX 150

/* Free text (names, notes, addresses): valid UTF-8 (the reason gives the
 * byte offset of the first bad sequence: overlong forms, encoded
 * surrogates, stray continuation bytes, truncated sequences and values
 * past U+10FFFF are all refused), normalised to NFC, trimmed of white
 * space at both ends, then refused if longer than max_chars characters.
 * Control characters are refused, except \n and \t with
 * VALIDATE_MULTILINE (which also turns CR LF into LF); so are U+2028 and
 * U+2029 without it. Empty or all-white-space text is refused unless
 * VALIDATE_ALLOW_EMPTY. cap >= VALIDATE_TEXT_SIZE(max_chars) always
 * suffices. */
int validate_text(const char *in, size_t max_chars, unsigned flags, char *out,
		  size_t cap, char *err, size_t errlen);

/* One email address, local@domain. The local part is a dot-atom (RFC
 * 5322) whose characters may also be any non-ASCII letter, mark, number,
 * punctuation or symbol (RFC 6531); its case is kept. Quoted local parts,
 * comments, display names and address literals ("[192.0.2.1]") are
 * refused. The domain goes through IDNA2008 with UTS #46 non-transitional
 * processing (libidn2): it must have at least two labels, each of letters,
 * digits and hyphens once converted, with a non-numeric top label.
 * validate_email writes the address with the domain in lower-case Unicode
 * (U-labels, NFC): "josé@bücher.example". Out of cap >=
 * VALIDATE_EMAIL_SIZE. */
int validate_email(const char *in, char *out, size_t cap, char *err,
		   size_t errlen);

/* The same checks; writes the domain in its ASCII form (A-labels),
 * "josé@xn--bcher-kva.example", as DNS and SMTP want it. A non-ASCII local
 * part stays as it is (it needs SMTPUTF8). cap >= VALIDATE_EMAIL_ASCII_SIZE
 * always suffices. */
int validate_email_ascii(const char *in, char *out, size_t cap, char *err,
			 size_t errlen);

/* A phone number in any human formatting ("+34 612 34 56 78",
 * "0034-612-345-678", "(020) 7946 0018") into E.164 ("+34612345678") via
 * libphonenumber (see phone.h). default_region, an ISO 3166 alpha-2 code
 * in any case (the server's configured country), is assumed when the
 * number has no international prefix; NULL or "" means numbers must have
 * one. Numbers that libphonenumber does not consider valid, and numbers
 * with an extension (which E.164 cannot carry), are refused. The caller
 * keeps the original text for display; this only normalises.
 * CARTA_EINVAL too when default_region is not an assigned code. */
int validate_phone(const char *in, const char *default_region, char *e164_out,
		   size_t cap, char *err, size_t errlen);

/* An ISO 3166-1 alpha-2 code currently assigned to a country or territory,
 * in any case ("es"); out gets it upper-case ("ES"). User-assigned codes
 * such as XK are refused. */
int validate_country(const char *in, char out[VALIDATE_COUNTRY_SIZE], char *err,
		     size_t errlen);

/* An active ISO 4217 currency code, in any case; out gets it upper-case
 * and *exponent its minor unit (EUR 2, JPY 0, KWD 3, CLF 4). Codes
 * without a minor unit (gold XAU, XDR, XXX and the like) are refused:
 * amounts on a card are kept in minor units. */
int validate_currency(const char *in, char out[VALIDATE_CURRENCY_SIZE],
		      int *exponent, char *err, size_t errlen);

/* A decimal amount ("49.90", "49.9", "-5", "+1234.5", or "49,90" when ','
 * is the only separator) into integer minor units for a currency with
 * this exponent (0 to VALIDATE_EXPONENT_MAX): "49.9" with 2 gives 4990.
 * Refused: more decimals than exponent, no digit before or after the
 * separator, thousands separators, exponents, letters, and amounts whose
 * minor units do not fit int64_t. */
int validate_amount(const char *in, int exponent, int64_t *minor, char *err,
		    size_t errlen);

/* A date written "YYYY-MM-DD", nothing else, that exists in the Gregorian
 * calendar (2024-02-29 yes, 2025-02-29 no), year VALIDATE_YEAR_MIN to
 * VALIDATE_YEAR_MAX. out gets the same ten characters. */
int validate_date(const char *in, char out[VALIDATE_DATE_SIZE], char *err,
		  size_t errlen);

/* A validate_date that is not after today ("YYYY-MM-DD", the caller's
 * current date, so that this stays pure) and not more than
 * VALIDATE_BIRTH_YEARS_MAX years before it. CARTA_EINVAL also when today
 * is not a valid date. */
int validate_birth_date(const char *in, const char *today,
			char out[VALIDATE_DATE_SIZE], char *err, size_t errlen);

/* A simple BCP 47 language tag: a 2 or 3 letter language, then optionally
 * a 4 letter script, then optionally a region (an assigned ISO 3166
 * alpha-2 code or 3 UN M.49 digits), separated by '-' (or '_'). Written
 * with the usual case: "en-GB", "zh-Hant-TW", "es-419". Variants,
 * extensions, private use and grandfathered tags are refused. cap >=
 * VALIDATE_LANGUAGE_SIZE always suffices. */
int validate_language(const char *in, char *out, size_t cap, char *err,
		      size_t errlen);

#endif
