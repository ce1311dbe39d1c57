/* Folding text for search: case folded, accents and other marks removed,
 * compatibility forms (full-width letters, ligatures) mapped to their plain
 * letters, and white space collapsed, so that "JOSÉ  Muñoz", "jose munoz"
 * and its NFD spelling fold to one string ("jose munoz"). Letters that are
 * not a base letter plus a mark in Unicode fold by a small table: ø->o,
 * đ->d, ł->l, æ->ae, œ->oe, ß->ss, þ->th, ð->d, ı->i.
 *
 * Pure and thread-safe. in is borrowed. */
#ifndef CARTA_FOLD_H
#define CARTA_FOLD_H

#include <stddef.h>

/* Folds len bytes of UTF-8 at in into *out (malloc'd, NUL-terminated; the
 * caller frees it) and *out_len its length. Returns 0, CARTA_EINVAL for
 * invalid UTF-8 (*out is then NULL) or CARTA_ENOMEM. */
int fold_text(const char *in, size_t len, char **out, size_t *out_len);

/* Writes the ASCII digits of in (NUL-terminated), in order, to out (cap
 * bytes, NUL-terminated; digits beyond cap-1 are dropped). Returns the
 * number of digits in in. */
size_t fold_digits(const char *in, char *out, size_t cap);

/* The search key of a phone number, typed in any format: its digits
 * without an international prefix "00" or a national trunk "0", reversed
 * (so that a number given without its country code is a prefix of the
 * stored key). out needs cap >= 2. Returns the key's length. */
size_t fold_phone_key(const char *in, char *out, size_t cap);

#endif
