#include "profile.h"

#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "carta_error.h"

struct profile_parse {
	profile *p;
	int bad_line;
	char bad_what[96];
};

static int copy_text(char *dst, size_t cap, const char *value)
{
	size_t len = strlen(value);
	if (len == 0 || len >= cap)
		return CARTA_EINVAL;
	memcpy(dst, value, len + 1);
	return 0;
}

static int profile_handler(void *user, const char *section, const char *name,
			   const char *value)
{
	struct profile_parse *pp = user;
	profile *p = pp->p;
	int rv = 0;

	if (pp->bad_line != 0)
		return 0;
	if (strcmp(section, "profile") != 0) {
		snprintf(pp->bad_what, sizeof(pp->bad_what),
			 "unknown section (expected [profile])");
		rv = CARTA_EINVAL;
	} else if (strcmp(name, "name") == 0) {
		rv = copy_text(p->name, sizeof(p->name), value);
	} else if (strcmp(name, "server") == 0) {
		rv = copy_text(p->server, sizeof(p->server), value);
		p->has_server = rv == 0;
	} else if (strcmp(name, "server_key") == 0) {
		rv = key_from_base64(value, p->server_key);
		p->has_server_key = rv == 0;
	} else if (strcmp(name, "secret_key") == 0) {
		rv = key_from_base64(value, p->secret_key);
		p->has_secret_key = rv == 0;
	} else {
		snprintf(pp->bad_what, sizeof(pp->bad_what),
			 "unknown field '%.40s'", name);
		rv = CARTA_EINVAL;
	}
	if (rv != 0) {
		if (pp->bad_what[0] == '\0')
			snprintf(pp->bad_what, sizeof(pp->bad_what),
				 "invalid value for '%s'", name);
		pp->bad_line = 1;
		return 0;
	}
	return 1;
}

int profile_parse(const char *text, profile *p, char *err, size_t errlen)
{
	struct profile_parse pp;

	memset(p, 0, sizeof(*p));
	memset(&pp, 0, sizeof(pp));
	pp.p = p;

	int line = ini_parse_string(text, profile_handler, &pp);
	if (pp.bad_line != 0 || line != 0) {
		snprintf(err, errlen, "line %d: %s", line,
			 pp.bad_what[0] ? pp.bad_what : "syntax error");
		profile_wipe(p);
		return CARTA_EINVAL;
	}
	return 0;
}

int profile_read(const char *path, profile *p, char *err, size_t errlen)
{
	char *text = NULL;
	char why[160];
	int rv = secret_file_read(path, 16384, &text);

	if (rv == CARTA_EPERM) {
		snprintf(err, errlen,
			 "%s: group or others may access this profile, which "
			 "holds a secret key; run chmod 600 on it",
			 path);
		return rv;
	}
	if (rv != 0) {
		snprintf(err, errlen, "%s: %s", path, carta_strerror(rv));
		return rv;
	}
	rv = profile_parse(text, p, why, sizeof(why));
	if (rv != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	sodium_free(text);
	return rv;
}

int profile_write(const char *path, const profile *p)
{
	char sk[KEY_B64_SIZE], pk[KEY_B64_SIZE];
	char text[1024];

	if (!p->has_server || !p->has_server_key || !p->has_secret_key)
		return CARTA_EINVAL;
	key_to_base64(p->server_key, pk);
	key_to_base64(p->secret_key, sk);
	int n = snprintf(text, sizeof(text),
			 "# Carta profile. It holds a secret key: keep it "
			 "private (mode 0600).\n"
			 "[profile]\nname = %s\nserver = %s\n"
			 "server_key = %s\nsecret_key = %s\n",
			 p->name[0] ? p->name : "unnamed", p->server, pk, sk);
	int rv = n > 0 && (size_t)n < sizeof(text)
		     ? secret_file_write(path, text, (size_t)n)
		     : CARTA_ETOOBIG;
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(text, sizeof(text));
	return rv;
}

void profile_wipe(profile *p)
{
	sodium_memzero(p, sizeof(*p));
}
