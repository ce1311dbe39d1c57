/* One client connection: preface, Noise XK handshake, key look-up, then
 * encrypted requests handed to the thread pool and answered in any order.
 *
 * Memory per connection is fixed: an input buffer, the frame decoder and
 * one plaintext buffer, and kernel socket buffers of 256 KiB each way;
 * reading stops (uv_read_stop) while the input buffer is full,
 * max_inflight requests are queued, or max_write_buffer bytes of
 * responses (with what each queued write costs) wait to be written.
 *
 * Before each request the caller is looked up again when any principal
 * was revoked since the connection last looked: a request queued before
 * its principal's revocation is answered UNAUTHENTICATED, not run. */
#ifndef CARTAD_CONN_H
#define CARTAD_CONN_H

#include <stdint.h>
#include <uv.h>

#include "server.h"

typedef struct conn conn;

/* Accepts one pending connection from the listener. Returns 0 or a
 * negative code. A connection over max_connections, over max_handshakes
 * (connections not yet authenticated) or over max_handshakes_per_address
 * (those from its address; per /64 for IPv6) is closed at once. */
int conn_accept(server *srv);

/* Starts closing c; reason goes to the log. Safe to call twice. */
void conn_close(conn *c, const char *reason);

/* Tells c's peer that its key was revoked, then closes c; nothing more is
 * read or answered on it. */
void conn_revoke(conn *c);

/* Closes c once its queued requests are answered (shutdown). */
void conn_drain(conn *c);

int64_t conn_principal_id(const conn *c);
conn *conn_next(const conn *c);

#endif
