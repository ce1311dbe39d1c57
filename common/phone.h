/* A thin C face on Google's libphonenumber (C++), so that C code can turn a
 * phone number as a person typed it into E.164 without per-country rules
 * of our own. Callers normally use validate_phone() in validate.h, which
 * checks the text and the region first; this is its engine.
 *
 * Thread-safe: libphonenumber's PhoneNumberUtil is a process-wide
 * singleton whose parsing and formatting calls may run concurrently. No
 * C++ exception crosses into C. */
#ifndef CARTA_PHONE_H
#define CARTA_PHONE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "+" and at most 15 digits (ITU-T E.164), and a NUL. */
#define PHONE_E164_SIZE 17

/* Parses in (UTF-8; the caller has checked it is valid) with region, an
 * upper-case ISO 3166 alpha-2 code, as the country assumed when the number
 * has no international prefix; region NULL means none, so only numbers
 * written with "+" or an international prefix parse. Trunk and carrier
 * prefixes are handled as libphonenumber's metadata says (FR "06...",
 * MX "044 55...", "+52 1 ..." and so on).
 *
 * Returns 0 and writes the E.164 form ("+34612345678") into e164 (cap
 * bytes), and sets *has_extension when the text carried an extension
 * ("ext. 12"), which E.164 cannot hold and which e164 leaves out.
 * CARTA_EINVAL when the text is not a number or not a valid one, with a
 * short English reason in err (errlen bytes) that quotes none of the
 * input; CARTA_ETOOBIG when cap is too small; CARTA_ENOMEM. */
int phone_normalise(const char *in, const char *region, char *e164, size_t cap,
		    int *has_extension, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
