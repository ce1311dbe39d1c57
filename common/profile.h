/* A client profile: where the server is, its pinned public key, and the
 * principal's secret key. An INI file with one [profile] section:
 *
 *   name = alice
 *   server = 127.0.0.1:7420
 *   server_key = <base64 public key>
 *   secret_key = <base64 secret key>
 *
 * It holds a secret key, so it is written 0600 and refused when the group
 * or others may read it. */
#ifndef CARTA_PROFILE_H
#define CARTA_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "keys.h"

#define PROFILE_NAME_MAX   128
#define PROFILE_SERVER_MAX 256

typedef struct {
	char name[PROFILE_NAME_MAX];
	char server[PROFILE_SERVER_MAX];
	uint8_t server_key[KEY_LEN];
	uint8_t secret_key[KEY_LEN];
	bool has_server, has_server_key, has_secret_key;
} profile;

/* Parses the profile at path into p (zeroed first). Returns 0, or an error
 * code with err (errlen bytes) naming the file, the line and the field.
 * The caller wipes p with profile_wipe. */
int profile_read(const char *path, profile *p, char *err, size_t errlen);

/* Parses profile text (for the fuzz driver and tests); same contract. */
int profile_parse(const char *text, profile *p, char *err, size_t errlen);

/* Creates path (0600, never overwriting) from p, which must have all
 * fields. */
int profile_write(const char *path, const profile *p);

void profile_wipe(profile *p);

#endif
