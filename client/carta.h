/* libcarta: the blocking client library for Carta's server, cartad.
 *
 * One carta_client is one long-lived, encrypted connection (Noise XK over
 * TCP, see docs/PROTOCOL.md). Calls block; every wait is bounded by a
 * deadline measured on CLOCK_MONOTONIC. Requests and responses are the
 * protobuf-c messages of proto/carta.proto (carta.pb-c.h).
 *
 * Errors: every function that can fail returns 0 or a negative code from
 * carta_error.h. After a failure, carta_client_errmsg() says what went
 * wrong in one line (never containing key material). What a handle is good
 * for after an error depends on the kind:
 *
 *   CARTA_ESTATUS   the server refused this one request (status code, message
 *                   and field are kept); the handle stays usable.
 *   CARTA_EINVAL,   a bad argument or a request too large to send was caught
 *   CARTA_ETOOBIG   before anything was written; the handle stays usable.
 *   anything else   (CARTA_EIO, CARTA_EPROTO, CARTA_ECRYPTO, CARTA_ETIMEDOUT,
 *                   CARTA_ECLOSED, CARTA_EAUTH, CARTA_ENOMEM while
 *                   receiving) the connection is closed and its keys wiped;
 *                   further calls return CARTA_ESTATE. Only carta_close and
 *                   the errmsg accessors remain useful.
 *
 * CARTA_EAUTH means the server refused our key (not enrolled, revoked):
 * it sends an unasked Response with id 0 and closes; its message becomes
 * the error message.
 *
 * Threads: a handle must be used by one thread at a time. Different
 * handles are independent.
 *
 * Secrets: the secret key and the session keys live inside the handle, in
 * memory from sodium_malloc; carta_close wipes them. carta_options holds a
 * secret key too: wipe it with carta_options_wipe once connected. */
#ifndef CARTA_H
#define CARTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "carta_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CARTA_KEY_LEN		 32
#define CARTA_DEFAULT_PORT	 7420
#define CARTA_SERVER_MAX	 256 /* "HOST:PORT" with its NUL */
#define CARTA_NAME_MAX		 128 /* a profile's principal name with its NUL */
#define CARTA_PATH_MAX		 4096
#define CARTA_ERRMSG_MAX	 512
#define CARTA_CONNECT_TIMEOUT_MS 5000  /* default connect + handshake */
#define CARTA_REQUEST_TIMEOUT_MS 30000 /* default wait for one response */

/* What is needed to connect. */
typedef struct {
	/* "HOST:PORT": an IPv4 address, an IPv6 address in [brackets] or a
	 * host name (resolved with getaddrinfo, which is not bounded by the
	 * connect deadline). Without ":PORT" the port is 7420. */
	char server[CARTA_SERVER_MAX];
	uint8_t server_key[CARTA_KEY_LEN]; /* the server's pinned public key */
	uint8_t secret_key[CARTA_KEY_LEN]; /* our static secret key */
	/* Bound on TCP connect plus handshake; <= 0 means the default. */
	int connect_timeout_ms;
	/* Bound on each wait for a response: from the send, or from the
	 * previous response of a stream; <= 0 means the default. */
	int request_timeout_ms;
} carta_options;

/* Wipes opts (it holds the secret key). */
void carta_options_wipe(carta_options *opts);

/* ---- Profiles ------------------------------------------------------ */

enum carta_profile_source {
	CARTA_PROFILE_FLAG,    /* the explicit path (--profile FILE) */
	CARTA_PROFILE_ENV,     /* the CARTA_PROFILE environment variable */
	CARTA_PROFILE_DEFAULT, /* ~/.config/carta/profile */
};

/* Picks the profile file: explicit_path when not NULL, else the non-empty
 * environment variable CARTA_PROFILE, else ~/.config/carta/profile. Writes
 * the path into out (outlen bytes) and, when source is not NULL, where it
 * came from. Does not look at the file. Returns 0, CARTA_ENOENT when no
 * home directory is known, or CARTA_ETOOBIG when out is too small. */
int carta_profile_resolve(const char *explicit_path, char *out, size_t outlen,
			  enum carta_profile_source *source);

/* Where carta_options_load takes each item from; NULL members are not
 * given. The strings are borrowed for the duration of the call. */
typedef struct {
	const char *profile;	/* explicit profile file (--profile) */
	const char *server;	/* overrides the profile's server */
	const char *server_key; /* base64; overrides the profile's server_key */
	const char *key_file;	/* key file from `carta keygen`; overrides the
				   profile's secret_key */
} carta_profile_args;

/* Fills opts (timeouts set to 0, i.e. the defaults) from the profile chosen
 * by carta_profile_resolve and the overrides in args. A profile named by
 * --profile or CARTA_PROFILE must exist; the default one may be missing
 * when the overrides supply server, server key and secret key. When name
 * is not NULL it receives the profile's principal name ("" when none).
 * When path is not NULL it receives the profile file used ("" when none).
 * On error, err (errlen bytes) says what is missing or wrong (file, line,
 * field) and opts is wiped. Returns 0, CARTA_ENOENT, CARTA_EINVAL,
 * CARTA_EPERM (a secret file readable by others) or CARTA_EIO. */
int carta_options_load(const carta_profile_args *args, carta_options *opts,
		       char *name, size_t namelen, char *path, size_t pathlen,
		       char *err, size_t errlen);

/* ---- Connections --------------------------------------------------- */

/* Opaque. */
typedef struct carta_client carta_client;

/* Makes a handle holding a copy of opts (the caller still wipes its own).
 * Nothing is connected yet. Returns 0, CARTA_EINVAL (NULL or empty server)
 * or CARTA_ENOMEM; *out is set only on success. */
int carta_client_new(const carta_options *opts, carta_client **out);

/* Connects and runs the handshake within the connect deadline. On
 * failure the handle is dead (errmsg says why, with the address); close
 * it. Returns 0, CARTA_EINVAL (bad address), CARTA_ENOENT (host not
 * found), CARTA_EIO (refused, unreachable), CARTA_ETIMEDOUT, CARTA_ECLOSED
 * (the server hung up during the handshake: usually a wrong server key or
 * protocol version, or a server at its connection limits), CARTA_ECRYPTO or
 * CARTA_EPROTO; CARTA_ESTATE when called twice. A server that does not know our
 * key accepts the handshake and refuses the first request (CARTA_EAUTH). */
int carta_client_connect(carta_client *c);

/* carta_client_new then carta_client_connect. When the handle was made
 * but the connection failed, *out is still set so that the message can be
 * read; when carta_client_new failed (CARTA_ENOMEM, or CARTA_EINVAL for an
 * empty server) *out is NULL. Close *out in every case (carta_close(NULL)
 * is allowed). */
int carta_connect(const carta_options *opts, carta_client **out);

/* Closes the connection, wipes every secret and frees c. NULL is a
 * no-op. */
void carta_close(carta_client *c);

/* The last error in one line ("" when none). Valid until the next call on
 * c. For CARTA_ESTATUS it is the server's message, followed by
 * " (field NAME)" when the server named a field. */
const char *carta_client_errmsg(const carta_client *c);

/* For the last CARTA_ESTATUS or CARTA_EAUTH: the server's status code
 * (Carta__V1__Status__Code) and the field at fault ("" when none).
 * Otherwise 0 and "". */
int carta_client_status(const carta_client *c);

/* For the last CONFLICT status: the version of the object now in force
 * (read it again from there). Otherwise 0. */
uint64_t carta_client_current_version(const carta_client *c);
const char *carta_client_errfield(const carta_client *c);

/* The "HOST:PORT" the handle connects to (borrowed from c; "" for
 * NULL). */
const char *carta_client_server(const carta_client *c);

/* ---- Raw requests and pipelining ---------------------------------- */

/* Sends req without waiting. Sets req->id to a fresh non-zero id, which
 * is also stored in *id when id is not NULL. req stays the caller's.
 * Any number of requests may be sent before their responses are read,
 * provided the responses fit in the socket buffers or are read in
 * between. Returns 0, CARTA_ETOOBIG / CARTA_EINVAL (nothing sent, handle
 * usable), or a fatal error. When the server has already hung up after
 * refusing our key, its message is read and CARTA_EAUTH returned. */
int carta_send(carta_client *c, Carta__V1__Request *req, uint64_t *id);

/* Receives the next response, whatever its id, within the request
 * deadline. On 0, *resp is the caller's: free it with
 * carta__v1__response__free_unpacked(*resp, NULL). A response with a
 * non-OK status is returned as such (0): check it with
 * carta_response_check. Unasked messages (id 0) are handled here: a
 * non-OK one ends the connection with its message as the error
 * (CARTA_EAUTH for UNAUTHENTICATED, else CARTA_ECLOSED); an OK one is
 * skipped. */
int carta_recv(carta_client *c, Carta__V1__Response **resp);

/* Returns 0 when resp's status is OK (or absent). Otherwise records the
 * status code, message and field as c's last error and returns
 * CARTA_ESTATUS. Does not free resp. */
int carta_response_check(carta_client *c, const Carta__V1__Response *resp);

/* Called by carta_call for each response of a request, in order. resp is
 * borrowed: it is freed when the callback returns. Return 0 to go on, or
 * a negative code to stop: carta_call then returns that code (the rest of
 * the stream is discarded by later calls). */
typedef int (*carta_response_fn)(void *ud, const Carta__V1__Response *resp);

/* Sends req and waits for its responses, calling fn (which may be NULL)
 * for each OK one until a response without `more`. A non-OK status ends
 * the call with CARTA_ESTATUS (see carta_client_errmsg). Responses to
 * other ids are discarded: do not mix carta_call with outstanding
 * carta_send requests. Each response must arrive within the request
 * deadline of the previous one (or of the send). */
int carta_call(carta_client *c, Carta__V1__Request *req, carta_response_fn fn,
	       void *ud);

/* ---- Convenience calls -------------------------------------------- */

#define CARTA_INFO_STR_MAX 256

/* What the server says about itself and about us. Strings longer than
 * CARTA_INFO_STR_MAX - 1 bytes are truncated. */
typedef struct {
	char server_version[CARTA_INFO_STR_MAX];
	uint32_t protocol_version;
	char principal[CARTA_INFO_STR_MAX];  /* our principal's name */
	char department[CARTA_INFO_STR_MAX]; /* our department */
	int role;			     /* Carta__V1__Role */
	uint64_t rtt_us; /* round trip of the ping, microseconds */
} carta_server_info;

/* Sends a Ping with a random echo, checks the echo and fills info. */
int carta_ping(carta_client *c, carta_server_info *info);

/* A principal as the server reports it. Strings are malloc'd and owned by
 * the struct: release with carta_principal_clear (one) or
 * carta_principals_free (an array from carta_admin_principals). */
typedef struct {
	char *name;
	char *department;
	int role;  /* Carta__V1__Role */
	int state; /* Carta__V1__PrincipalState */
	uint8_t public_key[CARTA_KEY_LEN];
	bool has_public_key; /* false when the server sent no 32-byte key */
	int64_t created_at;  /* Unix seconds */
	int64_t revoked_at;  /* Unix seconds, 0 while active */
} carta_principal;

void carta_principal_clear(carta_principal *p);
void carta_principals_free(carta_principal *list, size_t n);

/* Enrols public_key as principal name of department with role
 * (Carta__V1__Role; 0 means member). When out is not NULL and the server
 * answers with the principal, it is copied there (clear it after);
 * otherwise out is filled from the request. Admins only. */
int carta_admin_enrol(carta_client *c, const char *name, const char *department,
		      int role, const uint8_t public_key[CARTA_KEY_LEN],
		      carta_principal *out);

/* Revokes principal name; the server closes its connections. */
int carta_admin_revoke(carta_client *c, const char *name);

/* Collects the streamed list of principals into a malloc'd array (*list,
 * *n; release with carta_principals_free). At most CARTA_PRINCIPALS_MAX
 * entries with at most CARTA_PRINCIPALS_MAX_BYTES of names and departments
 * in all are accepted (CARTA_ETOOBIG beyond; the handle stays usable, the
 * rest of the stream is discarded by the next call). On error *list is
 * NULL and *n is 0. */
#define CARTA_PRINCIPALS_MAX	   1000000
#define CARTA_PRINCIPALS_MAX_BYTES (64 * 1024 * 1024)
int carta_admin_principals(carta_client *c, carta_principal **list, size_t *n);

/* Lower-case names for enum values ("member", "active", "not found"),
 * never NULL. */
const char *carta_role_name(int role);
const char *carta_state_name(int state);
const char *carta_status_name(int code);

#ifdef __cplusplus
}
#endif
#endif
