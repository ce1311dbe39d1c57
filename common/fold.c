#include "fold.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "carta_error.h"

/* Letters with no decomposition into base letter plus mark, as they are
 * after case folding. */
static const struct {
	utf8proc_int32_t c;
	const char *to;
} letters[] = {
    {0x00F8, "o"},  /* ø */
    {0x0111, "d"},  /* đ */
    {0x0142, "l"},  /* ł */
    {0x00E6, "ae"}, /* æ */
    {0x0153, "oe"}, /* œ */
    {0x00DF, "ss"}, /* ß (already ss after full case folding) */
    {0x00FE, "th"}, /* þ */
    {0x00F0, "d"},  /* ð */
    {0x0131, "i"},  /* ı */
    {0x0127, "h"},  /* ħ */
};

static bool is_space(utf8proc_int32_t c)
{
	if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
		return true;
	return utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

int fold_text(const char *in, size_t len, char **out, size_t *out_len)
{
	utf8proc_uint8_t *mapped = NULL;
	char *buf = NULL;
	size_t n = 0;

	*out = NULL;
	utf8proc_ssize_t r = utf8proc_map(
	    (const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len, &mapped,
	    UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
		UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_LUMP);
	if (r < 0)
		return r == UTF8PROC_ERROR_NOMEM ? CARTA_ENOMEM : CARTA_EINVAL;

	/* At most two bytes out per byte in: table entries grow a two-byte
	 * letter to at most two ASCII letters. */
	buf = malloc((size_t)r * 2 + 1);
	if (buf == NULL) {
		free(mapped);
		return CARTA_ENOMEM;
	}

	/* Runs of white space become one space; none at either end. */
	bool pending_space = false;
	for (utf8proc_ssize_t i = 0; i < r;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(mapped + i, r - i, &c);
		if (k <= 0)
			break; /* utf8proc_map's output is valid UTF-8 */
		i += k;
		if (is_space(c)) {
			pending_space = n > 0;
			continue;
		}
		if (pending_space) {
			buf[n++] = ' ';
			pending_space = false;
		}
		const char *to = NULL;
		for (size_t j = 0; j < sizeof(letters) / sizeof(letters[0]);
		     j++)
			if (letters[j].c == c)
				to = letters[j].to;
		if (to != NULL) {
			size_t tl = strlen(to);
			memcpy(buf + n, to, tl);
			n += tl;
		} else {
			memcpy(buf + n, mapped + i - k, (size_t)k);
			n += (size_t)k;
		}
	}
	free(mapped);
	buf[n] = '\0';
	*out = buf;
	if (out_len != NULL)
		*out_len = n;
	return 0;
}

size_t fold_digits(const char *in, char *out, size_t cap)
{
	size_t n = 0, w = 0;

	for (const char *p = in; *p; p++) {
		if (*p < '0' || *p > '9')
			continue;
		if (w + 1 < cap)
			out[w++] = *p;
		n++;
	}
	if (cap > 0)
		out[w] = '\0';
	return n;
}

size_t fold_phone_key(const char *in, char *out, size_t cap)
{
	char d[64];

	size_t n = fold_digits(in, d, sizeof(d));
	if (n >= sizeof(d))
		n = sizeof(d) - 1;
	const char *p = d;
	if (strncmp(p, "00", 2) == 0)
		p += 2;
	else if (p[0] == '0')
		p += 1;
	size_t len = strlen(p);
	if (len + 1 > cap)
		len = cap - 1;
	for (size_t i = 0; i < len; i++)
		out[i] = p[strlen(p) - 1 - i];
	out[len] = '\0';
	return len;
}
