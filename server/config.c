#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carta_error.h"
#include "validate.h"

void config_defaults(server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:%d",
		 CARTA_DEFAULT_PORT);
	cfg->max_connections = 256;
	cfg->max_connections_per_principal = 32;
	cfg->admin_reserve = 8;
	cfg->max_handshakes = 64;
	cfg->max_handshakes_per_address = 16;
	cfg->handshake_timeout_ms = 10000;
	cfg->idle_timeout_ms = 300000;
	cfg->session_max_age_ms = 86400000;
	cfg->max_inflight = 32;
	cfg->max_write_buffer = 4u << 20;
	cfg->level = LOG_INFO;
	snprintf(cfg->default_country, sizeof(cfg->default_country), "ES");
	cfg->dedup_plus_tags = true;
	cfg->dedup_provider_dots = true;
	cfg->dedup_min_score = 0.85;
}

struct config_parse {
	server_config *cfg;
	char what[256];
};

static int parse_uint(const char *value, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	char *end = NULL;

	if (value[0] < '0' || value[0] > '9')
		return CARTA_EINVAL;
	errno = 0;
	unsigned long long v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return CARTA_EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *value, bool *out)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "on") == 0 ||
	    strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
		*out = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "off") == 0 ||
		 strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
		*out = false;
	else
		return CARTA_EINVAL;
	return 0;
}

/* [dedup]: plus_tags, provider_dots, min_score (docs/DEDUP.md). */
static int dedup_field(server_config *cfg, const char *name, const char *value,
		       bool *known)
{
	*known = true;
	if (strcmp(name, "plus_tags") == 0)
		return parse_bool(value, &cfg->dedup_plus_tags);
	if (strcmp(name, "provider_dots") == 0)
		return parse_bool(value, &cfg->dedup_provider_dots);
	if (strcmp(name, "min_score") == 0) {
		char *end = NULL;
		double v = strtod(value, &end);
		if (end == value || *end != '\0' || !(v > 0 && v <= 1))
			return CARTA_EINVAL;
		cfg->dedup_min_score = v;
		return 0;
	}
	*known = false;
	return CARTA_EINVAL;
}

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config_parse *cp = user;
	server_config *cfg = cp->cfg;
	uint64_t v = 0;
	int rv = CARTA_EINVAL;

	if (cp->what[0] != '\0')
		return 0;
	if (strcmp(section, "dedup") == 0) {
		bool known;
		if (dedup_field(cfg, name, value, &known) == 0)
			return 1;
		if (known)
			snprintf(cp->what, sizeof(cp->what),
				 "invalid value for '%s': '%.40s'", name,
				 value);
		else
			snprintf(cp->what, sizeof(cp->what),
				 "unknown field '%.40s'", name);
		return 0;
	}
	if (strcmp(section, "server") != 0) {
		snprintf(cp->what, sizeof(cp->what),
			 "unknown section [%.40s] (expected [server] or "
			 "[dedup])",
			 section);
		return 0;
	}

	if (strcmp(name, "listen") == 0) {
		char why[200];
		rv = config_check_listen(value, why, sizeof(why));
		if (rv != 0) {
			snprintf(cp->what, sizeof(cp->what), "listen: %s", why);
			return 0;
		}
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", value);
	} else if (strcmp(name, "max_connections") == 0) {
		rv = parse_uint(value, 1, 100000, &v);
		cfg->max_connections = (unsigned)v;
	} else if (strcmp(name, "max_connections_per_principal") == 0) {
		rv = parse_uint(value, 1, 100000, &v);
		cfg->max_connections_per_principal = (unsigned)v;
	} else if (strcmp(name, "admin_reserve") == 0) {
		rv = parse_uint(value, 0, 1000, &v);
		cfg->admin_reserve = (unsigned)v;
	} else if (strcmp(name, "max_handshakes") == 0) {
		rv = parse_uint(value, 1, 100000, &v);
		cfg->max_handshakes = (unsigned)v;
	} else if (strcmp(name, "max_handshakes_per_address") == 0) {
		rv = parse_uint(value, 1, 100000, &v);
		cfg->max_handshakes_per_address = (unsigned)v;
	} else if (strcmp(name, "handshake_timeout_ms") == 0) {
		rv = parse_uint(value, 100, 600000, &v);
		cfg->handshake_timeout_ms = v;
	} else if (strcmp(name, "idle_timeout_ms") == 0) {
		rv = parse_uint(value, 100, 86400000, &v);
		cfg->idle_timeout_ms = v;
	} else if (strcmp(name, "session_max_age_ms") == 0) {
		rv = parse_uint(value, 1000, 604800000, &v);
		cfg->session_max_age_ms = v;
	} else if (strcmp(name, "max_inflight") == 0) {
		rv = parse_uint(value, 1, 1024, &v);
		cfg->max_inflight = (unsigned)v;
	} else if (strcmp(name, "max_write_buffer") == 0) {
		rv = parse_uint(value, 65536, 1u << 30, &v);
		cfg->max_write_buffer = (size_t)v;
	} else if (strcmp(name, "log_level") == 0) {
		rv = log_level_parse(value, &cfg->level);
	} else if (strcmp(name, "default_country") == 0) {
		char why[128];
		rv = validate_country(value, cfg->default_country, why,
				      sizeof(why));
	} else {
		snprintf(cp->what, sizeof(cp->what), "unknown field '%.40s'",
			 name);
		return 0;
	}
	if (rv != 0) {
		snprintf(cp->what, sizeof(cp->what),
			 "invalid value for '%s': '%.40s'", name, value);
		return 0;
	}
	return 1;
}

int config_load(const char *path, server_config *cfg, char *err, size_t errlen)
{
	struct config_parse cp = {.cfg = cfg};

	int line = ini_parse(path, config_handler, &cp);
	if (line == -1) {
		snprintf(err, errlen, "%s: cannot open", path);
		return access(path, F_OK) == 0 ? CARTA_EIO : CARTA_ENOENT;
	}
	if (line != 0) {
		snprintf(err, errlen, "%s: line %d: %s", path, line,
			 cp.what[0] ? cp.what : "syntax error");
		return CARTA_EINVAL;
	}
	return 0;
}

int config_write_default(const char *path, const char *listen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? CARTA_EEXIST : CARTA_EIO;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return CARTA_EIO;
	}
	fprintf(
	    f,
	    "# cartad configuration. Flags given to cartad override it.\n"
	    "[server]\n"
	    "# Address to listen on: HOST:PORT or [IPv6]:PORT.\n"
	    "listen = %s\n"
	    "# Connections beyond this are refused (beyond it plus\n"
	    "# admin_reserve at once; within the reserve, only admins\n"
	    "# are served). One principal holds at most\n"
	    "# max_connections_per_principal of them.\n"
	    "max_connections = 256\n"
	    "admin_reserve = 8\n"
	    "max_connections_per_principal = 32\n"
	    "# Connections still in their handshake, in all and from one\n"
	    "# address; beyond them the oldest handshake is closed.\n"
	    "max_handshakes = 64\n"
	    "max_handshakes_per_address = 16\n"
	    "# Time allowed from TCP connect to a finished handshake.\n"
	    "handshake_timeout_ms = 10000\n"
	    "# An authenticated connection silent this long is closed.\n"
	    "idle_timeout_ms = 300000\n"
	    "# A session older than this is closed; clients reconnect.\n"
	    "session_max_age_ms = 86400000\n"
	    "# Requests one connection may have queued at once.\n"
	    "max_inflight = 32\n"
	    "# Response bytes queued per connection before reading pauses.\n"
	    "max_write_buffer = 4194304\n"
	    "# debug, info, warn or error.\n"
	    "log_level = info\n"
	    "# ISO 3166 country for phone numbers given without a country "
	    "prefix.\n"
	    "default_country = ES\n"
	    "\n"
	    "# Duplicate detection (docs/DEDUP.md), with its defaults; a\n"
	    "# [dedup] section goes after every [server] field.\n"
	    "# [dedup]\n"
	    "# plus_tags = true      # ana+shop@x.com is ana@x.com\n"
	    "# provider_dots = true  # gmail.com ignores dots\n"
	    "# min_score = 0.85      # likely duplicates score this or more\n",
	    listen);
	return fclose(f) == 0 ? 0 : CARTA_EIO;
}

int config_split_address(const char *addr, char *host, size_t hostcap,
			 int *port)
{
	const char *colon, *hstart = addr;
	size_t hlen;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (close == NULL || close[1] != ':')
			return CARTA_EINVAL;
		hstart = addr + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL || memchr(addr, ':', (size_t)(colon - addr)))
			return CARTA_EINVAL;
		hlen = (size_t)(colon - addr);
	}
	if (hlen == 0 || hlen >= hostcap)
		return CARTA_EINVAL;

	uint64_t p = 0;
	if (parse_uint(colon + 1, 0, 65535, &p) != 0)
		return CARTA_EINVAL;
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return 0;
}

int config_check_listen(const char *addr, char *err, size_t errlen)
{
	char host[CONFIG_LISTEN_MAX];
	unsigned char bin[16];
	int port;

	if (config_split_address(addr, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen,
			 "'%.80s' is not HOST:PORT with a port 0-65535", addr);
		return CARTA_EINVAL;
	}
	/* A v6 address may name its interface (fe80::1%eth0). */
	bool v6 = addr[0] == '[';
	if (v6)
		host[strcspn(host, "%")] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) != 1) {
		snprintf(err, errlen,
			 "'%.80s': the host must be an IP address (such as "
			 "127.0.0.1 or [::1]); cartad does not resolve names",
			 addr);
		return CARTA_EINVAL;
	}
	return 0;
}
