/* Request handlers. dispatch_request runs on a thread-pool worker: it
 * checks the caller against the policy, does the store work and encodes
 * the responses; the connection encrypts and writes them on the loop. */
#ifndef CARTAD_DISPATCH_H
#define CARTAD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "store.h"

typedef struct {
	uint8_t *data;
	size_t len;
} dispatch_msg;

/* What a request produced: encoded responses in order, and side effects
 * the loop must carry out. */
typedef struct {
	dispatch_msg *msgs;
	size_t n, cap;
	int64_t revoked_principal; /* > 0: close this principal's conns */
} dispatch_out;

void dispatch_request(store *db, const store_principal *caller,
		      const Carta__V1__Request *req, dispatch_out *out);

/* Appends one encoded error response (a Status with code, message and,
 * when not NULL, the field at fault). Returns 0 or CARTA_ENOMEM. */
int dispatch_error(dispatch_out *out, uint64_t id, Carta__V1__Status__Code code,
		   const char *message, const char *field);

void dispatch_out_free(dispatch_out *out);

#endif
