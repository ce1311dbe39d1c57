/* Helpers shared by the commands: errors, connecting, output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_fail(const cli_args *a, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (a->path[0] != '\0')
		fprintf(stderr, "carta: %s: ", a->path);
	else
		fprintf(stderr, "carta: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int cli_fail_client(const cli_args *a, carta_client *c)
{
	const char *msg = carta_client_errmsg(c);

	return cli_fail(a, "%s", msg[0] != '\0' ? msg : "failed");
}

int cli_load_options(const cli_args *a, carta_options *opts)
{
	carta_profile_args pa = {
	    .profile = a->profile,
	    .server = a->server,
	    .server_key = a->server_key,
	    .key_file = a->key,
	};
	char err[CLI_ERR_MAX];
	int rv;

	rv = carta_options_load(&pa, opts, NULL, 0, NULL, 0, err, sizeof err);
	if (rv == CARTA_ENOENT && strncmp(err, "no profile", 10) == 0)
		return cli_fail(a,
				"%s; give --profile FILE, or --server, "
				"--server-key and --key",
				err);
	if (rv != 0)
		return cli_fail(a, "%s", err);
	opts->connect_timeout_ms = (int)a->timeout_ms;
	opts->request_timeout_ms = (int)a->timeout_ms;
	return 0;
}

int cli_connect(const cli_args *a, const carta_options *opts, carta_client **c)
{
	int rv = carta_connect(opts, c);

	if (rv == 0)
		return 0;
	if (*c == NULL || rv == CARTA_ENOMEM) {
		carta_close(*c);
		*c = NULL;
		return cli_fail(a, "%s", carta_strerror(rv));
	}
	cli_fail_client(a, *c);
	carta_close(*c);
	*c = NULL;
	return CLI_EXIT_FAIL;
}

/* Length of the valid UTF-8 sequence at s (1..4) with its code point, or
 * 0 when s does not start one. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	unsigned char b = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
		*cp = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		*cp = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;
		if (b == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		*cp = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;
		if (b == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		unsigned char cb = s[i];

		if (cb < (i == 1 ? lo : 0x80) || cb > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (cb & 0x3f);
	}
	return len;
}

size_t cli_sanitize(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, cols = 0;

	if (cap == 0)
		return 0;
	while (*p != '\0') {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);
		bool bad = len == 0 || cp < 0x20 || cp == 0x7f ||
			   (cp >= 0x80 && cp <= 0x9f);

		if (bad) {
			if (o + 1 >= cap)
				break;
			out[o++] = '?';
			p += len == 0 ? 1 : len;
		} else {
			if (o + len >= cap)
				break;
			memcpy(out + o, p, len);
			o += len;
			p += len;
		}
		cols++;
	}
	out[o] = '\0';
	return cols;
}

json_t *cli_json_str(const char *s)
{
	json_t *v = json_string(s);

	if (v != NULL)
		return v;

	/* Invalid UTF-8: replace each bad byte with U+FFFD (3 bytes). */
	size_t n = strlen(s);
	char *fixed = malloc(n * 3 + 1);
	if (fixed == NULL)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	while (*p != '\0') {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);

		if (len == 0) {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(fixed + o, p, len);
		o += len;
		p += len;
	}
	fixed[o] = '\0';
	v = json_string(fixed);
	free(fixed);
	return v;
}

int cli_print_json(const cli_args *a, json_t *v)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (text == NULL)
		return cli_fail(a, "out of memory");
	puts(text);
	free(text);
	return 0;
}

void cli_time(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "-");
}
