/* cartad's configuration: DIR/cartad.conf, an INI file, with defaults for
 * everything it does not say. Command-line flags override it. */
#ifndef CARTAD_CONFIG_H
#define CARTAD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONFIG_LISTEN_MAX  256
#define CARTA_DEFAULT_PORT 7420

typedef struct {
	char listen[CONFIG_LISTEN_MAX]; /* HOST:PORT, [V6]:PORT */
	unsigned max_connections;
	/* Authenticated connections one principal may hold at once. */
	unsigned max_connections_per_principal;
	/* Connections beyond max_connections kept for admins, so that a
	 * full server can still be administered. */
	unsigned admin_reserve;
	unsigned max_handshakes; /* connections not yet authenticated */
	unsigned max_handshakes_per_address; /* of those, from one address */
	uint64_t handshake_timeout_ms; /* preface to last handshake message */
	uint64_t idle_timeout_ms;      /* no complete frame for this long */
	uint64_t session_max_age_ms;   /* then the client must reconnect */
	unsigned max_inflight;	       /* requests queued per connection */
	size_t max_write_buffer; /* response bytes queued per connection */
	log_level level;
	char default_country[3]; /* phones without a prefix, e.g. ES */
	/* [dedup]: the duplicate matcher's rules (server/match.h) */
	bool dedup_plus_tags;	  /* "ana+x@d" is "ana@d" */
	bool dedup_provider_dots; /* gmail.com ignores dots */
	double dedup_min_score;	  /* default threshold, 0 to 1 */
} server_config;

void config_defaults(server_config *cfg);

/* Reads path over the defaults. Returns 0, or CARTA_ENOENT/CARTA_EIO/
 * CARTA_EINVAL with err naming the line and the field. */
int config_load(const char *path, server_config *cfg, char *err, size_t errlen);

/* Writes a commented default config listening on listen. Never
 * overwrites (CARTA_EEXIST). */
int config_write_default(const char *path, const char *listen);

/* Splits "HOST:PORT" or "[V6]:PORT" into host (hostcap bytes) and port.
 * Returns 0 or CARTA_EINVAL. */
int config_split_address(const char *addr, char *host, size_t hostcap,
			 int *port);

/* Checks that addr is one cartad can listen on: an IP address (v4, or v6
 * in brackets) and a port 0-65535; names are not resolved. Returns 0, or
 * CARTA_EINVAL with err saying what is wrong. */
int config_check_listen(const char *addr, char *err, size_t errlen);

#endif
