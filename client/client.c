/* libcarta: connection, handshake, framing and the request calls. See
 * carta.h for the contract. */
#include "carta.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "frame.h"
#include "keys.h"
#include "noise.h"
#include "profile.h"
#include "secure.h"

_Static_assert(CARTA_KEY_LEN == KEY_LEN, "key sizes agree");
_Static_assert(CARTA_SERVER_MAX >= PROFILE_SERVER_MAX, "server fits");
_Static_assert(CARTA_NAME_MAX >= PROFILE_NAME_MAX, "name fits");

#define PING_ECHO_LEN 16
#define RBUF_LEN      16384
#define FIELD_MAX     128

/* Everything secret, kept apart in guarded, locked memory. */
struct carta_secrets {
	uint8_t secret_key[KEY_LEN];
	noise_hs hs;
	secure_channel ch;
};

enum client_state { ST_NEW, ST_OPEN, ST_DEAD };

struct carta_client {
	char server[CARTA_SERVER_MAX];
	uint8_t server_key[KEY_LEN];
	int connect_timeout_ms;
	int request_timeout_ms;
	struct carta_secrets *sec;
	int fd;
	enum client_state state;
	uint64_t next_id;

	int status_code;
	uint64_t current_version; /* with CONFLICT */
	char errfield[FIELD_MAX];
	char errmsg[CARTA_ERRMSG_MAX];

	/* Bytes received and not yet fed to the frame decoder. */
	size_t rpos, rlen;
	uint8_t rbuf[RBUF_LEN];
	frame_decoder dec;
	/* One plaintext message, and one sealed frame. */
	uint8_t pt[SECURE_MAX_PLAINTEXT];
	uint8_t wbuf[FRAME_HEADER_LEN + NOISE_MAX_MSG];
};

/* ---- Small helpers ------------------------------------------------- */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t deadline_after(int ms)
{
	return now_us() + (int64_t)ms * 1000;
}

/* Milliseconds left until deadline, rounded up, at least 0. */
static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_us();

	if (left <= 0)
		return 0;
	left = (left + 999) / 1000;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* strerror with a lower-case first letter, to fit inside a sentence. */
static void errno_phrase(int e, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", strerror(e));
	if (out[0] >= 'A' && out[0] <= 'Z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* Records an error on c and returns code; the connection stays. */
static int set_err(carta_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(carta_client *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
	c->status_code = 0;
	c->errfield[0] = '\0';
	return code;
}

/* Closes the socket and wipes the session keys: the handle is dead. */
static void kill_conn(carta_client *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	noise_hs_wipe(&c->sec->hs);
	secure_channel_wipe(&c->sec->ch);
	sodium_memzero(c->pt, sizeof c->pt);
	c->state = ST_DEAD;
}

/* Records an error, kills the connection, and returns code. */
static int fail(carta_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(carta_client *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
	c->status_code = 0;
	c->errfield[0] = '\0';
	kill_conn(c);
	return code;
}

static int check_open(carta_client *c)
{
	if (c->state == ST_OPEN)
		return 0;
	if (c->state == ST_NEW)
		return set_err(c, CARTA_ESTATE, "not connected");
	/* errmsg still says why the connection died. */
	if (c->errmsg[0] == '\0')
		copy_str(c->errmsg, sizeof c->errmsg, "connection closed");
	return CARTA_ESTATE;
}

/* ---- Socket I/O with deadlines ------------------------------------ */

/* Waits until fd is ready for events. Returns 0, CARTA_ETIMEDOUT or
 * CARTA_EIO (errno kept). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, ms_left(deadline));

		if (n > 0)
			return 0;
		if (n == 0)
			return CARTA_ETIMEDOUT;
		if (errno != EINTR)
			return CARTA_EIO;
	}
}

/* Writes all of buf. Returns 0, CARTA_ETIMEDOUT, CARTA_ECLOSED (the peer
 * is gone) or CARTA_EIO; errno is kept for CARTA_EIO. */
static int write_all(carta_client *c, const uint8_t *buf, size_t len,
		     int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rv = wait_fd(c->fd, POLLOUT, deadline);

			if (rv != 0)
				return rv;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return CARTA_ECLOSED;
		return CARTA_EIO;
	}
	return 0;
}

/* Reads until one whole frame is held; *payload points into c->dec and is
 * valid until the next read. Returns 0, CARTA_ETIMEDOUT, CARTA_ECLOSED,
 * CARTA_ETOOBIG (a frame over the decoder's bound) or CARTA_EIO. */
static int read_frame(carta_client *c, int64_t deadline,
		      const uint8_t **payload, size_t *len)
{
	for (;;) {
		if (c->rpos < c->rlen) {
			size_t used = 0;
			int rv = frame_decoder_feed(&c->dec, c->rbuf + c->rpos,
						    c->rlen - c->rpos, &used,
						    payload, len);

			c->rpos += used;
			if (rv < 0)
				return rv;
			if (rv == 1)
				return 0;
		}
		c->rpos = 0;
		c->rlen = 0;

		ssize_t n = recv(c->fd, c->rbuf, sizeof c->rbuf, 0);
		if (n > 0) {
			c->rlen = (size_t)n;
			continue;
		}
		if (n == 0)
			return CARTA_ECLOSED;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rv = wait_fd(c->fd, POLLIN, deadline);

			if (rv != 0)
				return rv;
			continue;
		}
		if (errno == ECONNRESET)
			return CARTA_ECLOSED;
		return CARTA_EIO;
	}
}

/* ---- Connecting ----------------------------------------------------- */

/* Splits "HOST:PORT", "[V6]:PORT", "HOST" or "[V6]" into host and port.
 * Returns NULL, or what is wrong with server. */
static const char *split_server(const char *server, char *host, size_t hostlen,
				char *port, size_t portlen)
{
	const char *h = server, *p = NULL;
	size_t hlen;

	if (server[0] == '[') {
		const char *close_br = strchr(server, ']');

		if (close_br == NULL)
			return "missing ']'";
		h = server + 1;
		hlen = (size_t)(close_br - h);
		if (close_br[1] == ':')
			p = close_br + 2;
		else if (close_br[1] != '\0')
			return "want [IPV6]:PORT";
	} else {
		const char *colon = strchr(server, ':');

		/* A bare IPv6 address would be ambiguous. */
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return "put an IPv6 address in [brackets]";
		hlen =
		    colon != NULL ? (size_t)(colon - server) : strlen(server);
		if (colon != NULL)
			p = colon + 1;
	}
	if (hlen == 0)
		return "no host";
	if (hlen >= hostlen)
		return "host name too long";
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	if (p == NULL) {
		snprintf(port, portlen, "%d", CARTA_DEFAULT_PORT);
		return NULL;
	}
	size_t plen = strlen(p);
	if (plen == 0 || plen > 5 || strspn(p, "0123456789") != plen)
		return "the port must be a number from 1 to 65535";
	long v = strtol(p, NULL, 10);
	if (v == 0)
		return "port 0 (a server started on port 0 writes its real "
		       "address to DATA/cartad.addr)";
	if (v < 0 || v > 65535)
		return "the port must be a number from 1 to 65535";
	snprintf(port, portlen, "%ld", v);
	return NULL;
}

/* One non-blocking connect attempt. Returns the socket or -1 (errno). */
static int try_connect(const struct addrinfo *ai, int64_t deadline)
{
	int fd = socket(ai->ai_family,
			ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	int err = 0;
	socklen_t errlen = sizeof err;

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto err;

	int rv = wait_fd(fd, POLLOUT, deadline);
	if (rv == CARTA_ETIMEDOUT) {
		errno = ETIMEDOUT;
		goto err;
	}
	if (rv != 0)
		goto err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0)
		goto err;
	if (err != 0) {
		errno = err;
		goto err;
	}
	return fd;

err:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int open_socket(carta_client *c, int64_t deadline)
{
	char host[CARTA_SERVER_MAX], port[8], why[128];
	struct addrinfo hints, *res = NULL;
	int last = ECONNREFUSED;

	const char *bad =
	    split_server(c->server, host, sizeof host, port, sizeof port);
	if (bad != NULL)
		return fail(c, CARTA_EINVAL, "bad server address '%s': %s",
			    c->server, bad);

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	int g = getaddrinfo(host, port, &hints, &res);
	if (g != 0) {
		int code = g == EAI_NONAME ? CARTA_ENOENT : CARTA_EIO;

#ifdef EAI_NODATA
		if (g == EAI_NODATA)
			code = CARTA_ENOENT;
#endif
		return fail(c, code, "cannot resolve '%s': %s", host,
			    gai_strerror(g));
	}

	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		c->fd = try_connect(ai, deadline);
		if (c->fd >= 0)
			break;
		last = errno;
		if (ms_left(deadline) == 0)
			break;
	}
	freeaddrinfo(res);

	if (c->fd < 0) {
		errno_phrase(last, why, sizeof why);
		return fail(c, last == ETIMEDOUT ? CARTA_ETIMEDOUT : CARTA_EIO,
			    "%s (%s)",
			    last == ETIMEDOUT ? "connection timed out" : why,
			    c->server);
	}

	int one = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

/* Turns an I/O failure during the handshake into the error to report. */
static int handshake_io_error(carta_client *c, int rv, const char *step)
{
	char why[128];

	switch (rv) {
	case CARTA_ECLOSED:
		return fail(c, CARTA_ECLOSED,
			    "server closed the connection during the "
			    "handshake (wrong server key, protocol version "
			    "mismatch, or the server is busy)");
	case CARTA_ETIMEDOUT:
		return fail(c, CARTA_ETIMEDOUT, "handshake timed out (%s)",
			    c->server);
	case CARTA_ETOOBIG:
		return fail(c, CARTA_EPROTO,
			    "the server at %s does not speak the Carta "
			    "protocol (unexpected handshake reply)",
			    c->server);
	default:
		errno_phrase(errno, why, sizeof why);
		return fail(c, rv, "handshake: %s: %s (%s)", step, why,
			    c->server);
	}
}

static int handshake(carta_client *c, int64_t deadline)
{
	uint8_t out1[SECURE_PREFACE_LEN + FRAME_HEADER_LEN + SECURE_MSG1_LEN];
	uint8_t out3[FRAME_HEADER_LEN + SECURE_MSG3_LEN];
	const uint8_t *msg2;
	size_t len1, len2, len3;
	int rv;

	rv = secure_client_begin(&c->sec->hs, c->sec->secret_key, c->server_key,
				 out1, sizeof out1, &len1);
	if (rv != 0) {
		rv = fail(c, rv, "handshake: cannot start: %s",
			  carta_strerror(rv));
		goto out;
	}
	rv = write_all(c, out1, len1, deadline);
	if (rv != 0) {
		rv = handshake_io_error(c, rv, "sending");
		goto out;
	}

	/* Message 2 has a fixed size: anything larger is not Carta. */
	frame_decoder_init(&c->dec, SECURE_MSG2_LEN);
	rv = read_frame(c, deadline, &msg2, &len2);
	if (rv != 0) {
		rv = handshake_io_error(c, rv, "receiving");
		goto out;
	}

	rv = secure_client_finish(&c->sec->hs, msg2, len2, out3, sizeof out3,
				  &len3, &c->sec->ch);
	if (rv == CARTA_ECRYPTO) {
		rv = fail(c, rv,
			  "handshake failed: the server did not prove it "
			  "holds the pinned server key (%s)",
			  c->server);
		goto out;
	}
	if (rv != 0) {
		rv = fail(c, rv, "handshake failed: %s (%s)",
			  carta_strerror(rv), c->server);
		goto out;
	}
	rv = write_all(c, out3, len3, deadline);
	if (rv != 0) {
		rv = handshake_io_error(c, rv, "sending");
		goto out;
	}
	frame_decoder_set_max(&c->dec, FRAME_MAX_PAYLOAD);

out:
	noise_hs_wipe(&c->sec->hs);
	return rv;
}

/* ---- Public: options and profiles --------------------------------- */

void carta_options_wipe(carta_options *opts)
{
	if (opts != NULL)
		sodium_memzero(opts, sizeof *opts);
}

static const char *home_dir(void)
{
	const char *home = getenv("HOME");

	if (home != NULL && home[0] != '\0')
		return home;
	struct passwd *pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : NULL;
}

int carta_profile_resolve(const char *explicit_path, char *out, size_t outlen,
			  enum carta_profile_source *source)
{
	const char *env = getenv("CARTA_PROFILE");
	enum carta_profile_source src;
	int n;

	if (explicit_path != NULL) {
		src = CARTA_PROFILE_FLAG;
		n = snprintf(out, outlen, "%s", explicit_path);
	} else if (env != NULL && env[0] != '\0') {
		src = CARTA_PROFILE_ENV;
		n = snprintf(out, outlen, "%s", env);
	} else {
		const char *home = home_dir();

		if (home == NULL)
			return CARTA_ENOENT;
		src = CARTA_PROFILE_DEFAULT;
		n = snprintf(out, outlen, "%s/.config/carta/profile", home);
	}
	if (n < 0 || (size_t)n >= outlen)
		return CARTA_ETOOBIG;
	if (source != NULL)
		*source = src;
	return 0;
}

int carta_options_load(const carta_profile_args *args, carta_options *opts,
		       char *name, size_t namelen, char *path, size_t pathlen,
		       char *err, size_t errlen)
{
	char ppath[CARTA_PATH_MAX], perr[256];
	enum carta_profile_source src;
	uint8_t pub[KEY_LEN];
	profile p;
	bool have = false;
	int rv;

	memset(&p, 0, sizeof p);
	memset(opts, 0, sizeof *opts);
	if (name != NULL && namelen > 0)
		name[0] = '\0';
	if (path != NULL && pathlen > 0)
		path[0] = '\0';

	rv = carta_profile_resolve(args->profile, ppath, sizeof ppath, &src);
	if (rv != 0) {
		snprintf(err, errlen, "%s",
			 rv == CARTA_ENOENT
			     ? "no home directory to look for a profile in"
			     : "profile path too long");
		goto out;
	}

	/* The default profile is optional when everything is overridden. */
	bool all = args->server != NULL && args->server_key != NULL &&
		   args->key_file != NULL;
	if (!(all && src == CARTA_PROFILE_DEFAULT)) {
		perr[0] = '\0';
		rv = profile_read(ppath, &p, perr, sizeof perr);
		if (rv == 0) {
			have = true;
		} else if (!(rv == CARTA_ENOENT &&
			     src == CARTA_PROFILE_DEFAULT)) {
			if (rv == CARTA_ENOENT)
				snprintf(err, errlen,
					 "profile %s does not exist%s", ppath,
					 src == CARTA_PROFILE_ENV
					     ? " (from CARTA_PROFILE)"
					     : "");
			else if (perr[0] != '\0')
				snprintf(err, errlen, "%s", perr);
			else
				snprintf(err, errlen, "profile %s: %s", ppath,
					 carta_strerror(rv));
			goto out;
		}
	}
	if (have && path != NULL)
		snprintf(path, pathlen, "%s", ppath);
	if (have && name != NULL)
		snprintf(name, namelen, "%s", p.name);

	/* Server address. */
	if (args->server != NULL) {
		if (args->server[0] == '\0' ||
		    strlen(args->server) >= sizeof opts->server) {
			snprintf(err, errlen,
				 "server address: empty or too long");
			rv = CARTA_EINVAL;
			goto out;
		}
		copy_str(opts->server, sizeof opts->server, args->server);
	} else if (have && p.has_server) {
		copy_str(opts->server, sizeof opts->server, p.server);
	} else {
		rv = have ? CARTA_EINVAL : CARTA_ENOENT;
		if (have)
			snprintf(err, errlen, "profile %s has no server",
				 ppath);
		else
			snprintf(err, errlen,
				 "no profile (%s does not exist) and no "
				 "server address given",
				 ppath);
		goto out;
	}

	/* Server public key. */
	if (args->server_key != NULL) {
		if (key_from_base64(args->server_key, opts->server_key) != 0) {
			snprintf(err, errlen,
				 "server key: not a base64 public "
				 "key (44 characters)");
			rv = CARTA_EINVAL;
			goto out;
		}
	} else if (have && p.has_server_key) {
		memcpy(opts->server_key, p.server_key, KEY_LEN);
	} else {
		rv = have ? CARTA_EINVAL : CARTA_ENOENT;
		if (have)
			snprintf(err, errlen, "profile %s has no server_key",
				 ppath);
		else
			snprintf(err, errlen,
				 "no profile (%s does not exist) and no "
				 "server key given",
				 ppath);
		goto out;
	}

	/* Our secret key. */
	if (args->key_file != NULL) {
		perr[0] = '\0';
		rv = keyfile_read(args->key_file, opts->secret_key, pub, perr,
				  sizeof perr);
		if (rv != 0) {
			/* keyfile_read's message names the file. */
			if (perr[0] != '\0')
				snprintf(err, errlen, "key file %s", perr);
			else
				snprintf(err, errlen, "key file %s: %s",
					 args->key_file, carta_strerror(rv));
			goto out;
		}
	} else if (have && p.has_secret_key) {
		memcpy(opts->secret_key, p.secret_key, KEY_LEN);
	} else {
		rv = have ? CARTA_EINVAL : CARTA_ENOENT;
		if (have)
			snprintf(err, errlen, "profile %s has no secret_key",
				 ppath);
		else
			snprintf(err, errlen,
				 "no profile (%s does not exist) and no key "
				 "file given",
				 ppath);
		goto out;
	}
	rv = 0;

out:
	profile_wipe(&p);
	if (rv != 0)
		carta_options_wipe(opts);
	return rv;
}

/* ---- Public: connections ------------------------------------------- */

int carta_client_new(const carta_options *opts, carta_client **out)
{
	carta_client *c;

	if (opts == NULL || out == NULL || opts->server[0] == '\0' ||
	    memchr(opts->server, '\0', sizeof opts->server) == NULL)
		return CARTA_EINVAL;
	if (sodium_init() < 0)
		return CARTA_ENOMEM;

	c = calloc(1, sizeof *c);
	if (c == NULL)
		return CARTA_ENOMEM;
	c->sec = sodium_malloc(sizeof *c->sec);
	if (c->sec == NULL) {
		free(c);
		return CARTA_ENOMEM;
	}
	sodium_memzero(c->sec, sizeof *c->sec);

	copy_str(c->server, sizeof c->server, opts->server);
	memcpy(c->server_key, opts->server_key, KEY_LEN);
	memcpy(c->sec->secret_key, opts->secret_key, KEY_LEN);
	c->connect_timeout_ms = opts->connect_timeout_ms > 0
				    ? opts->connect_timeout_ms
				    : CARTA_CONNECT_TIMEOUT_MS;
	c->request_timeout_ms = opts->request_timeout_ms > 0
				    ? opts->request_timeout_ms
				    : CARTA_REQUEST_TIMEOUT_MS;
	c->fd = -1;
	c->state = ST_NEW;
	c->next_id = 1;
	frame_decoder_init(&c->dec, FRAME_MAX_PAYLOAD);
	*out = c;
	return 0;
}

int carta_client_connect(carta_client *c)
{
	int64_t deadline;
	int rv;

	if (c->state != ST_NEW)
		return set_err(c, CARTA_ESTATE, "already connected");
	deadline = deadline_after(c->connect_timeout_ms);

	rv = open_socket(c, deadline);
	if (rv != 0)
		return rv;
	rv = handshake(c, deadline);
	if (rv != 0)
		return rv;

	/* Our secret key is no longer needed once the channel exists. */
	sodium_memzero(c->sec->secret_key, KEY_LEN);
	c->state = ST_OPEN;
	c->errmsg[0] = '\0';
	return 0;
}

int carta_connect(const carta_options *opts, carta_client **out)
{
	int rv;

	*out = NULL;
	rv = carta_client_new(opts, out);

	if (rv != 0)
		return rv;
	return carta_client_connect(*out);
}

void carta_close(carta_client *c)
{
	if (c == NULL)
		return;
	kill_conn(c);
	sodium_free(c->sec);
	sodium_memzero(c, sizeof *c);
	free(c);
}

const char *carta_client_errmsg(const carta_client *c)
{
	return c != NULL ? c->errmsg : "out of memory";
}

int carta_client_status(const carta_client *c)
{
	return c != NULL ? c->status_code : 0;
}

uint64_t carta_client_current_version(const carta_client *c)
{
	return c != NULL && c->status_code != 0 ? c->current_version : 0;
}

const char *carta_client_errfield(const carta_client *c)
{
	return c != NULL ? c->errfield : "";
}

const char *carta_client_server(const carta_client *c)
{
	return c != NULL ? c->server : "";
}

/* ---- Public: requests ---------------------------------------------- */

/* Records a non-OK status as c's error (message, field, code). */
static void record_status(carta_client *c, const Carta__V1__Status *st)
{
	const char *msg = st->message != NULL ? st->message : "";
	const char *field = st->field != NULL ? st->field : "";

	c->status_code = (int)st->code;
	c->current_version = st->current_version;
	copy_str(c->errfield, sizeof c->errfield, field);
	if (msg[0] == '\0')
		msg = carta_status_name((int)st->code);
	size_t flen = strlen(field);
	if (flen > 0 && !(strncmp(msg, field, flen) == 0 && msg[flen] == ':'))
		snprintf(c->errmsg, sizeof c->errmsg, "%s (field %s)", msg,
			 field);
	else
		copy_str(c->errmsg, sizeof c->errmsg, msg);
}

/* Reads and decodes one message; id-0 messages are handled here. */
static int recv_until(carta_client *c, int64_t deadline,
		      Carta__V1__Response **resp)
{
	for (;;) {
		const uint8_t *ct;
		size_t ctlen, ptlen;
		int rv;

		rv = read_frame(c, deadline, &ct, &ctlen);
		if (rv == CARTA_ECLOSED)
			return fail(c, rv, "server closed the connection");
		if (rv == CARTA_ETIMEDOUT)
			return fail(c, rv, "no response within %d ms",
				    c->request_timeout_ms);
		if (rv == CARTA_ETOOBIG)
			return fail(c, CARTA_EPROTO,
				    "server sent a malformed frame");
		if (rv != 0) {
			char why[128];

			errno_phrase(errno, why, sizeof why);
			return fail(c, rv, "receiving: %s", why);
		}

		rv = secure_open(&c->sec->ch, ct, ctlen, c->pt, sizeof c->pt,
				 &ptlen);
		if (rv != 0)
			return fail(c, rv,
				    "cannot decrypt a message from the "
				    "server: %s",
				    carta_strerror(rv));
		Carta__V1__Response *r =
		    carta__v1__response__unpack(NULL, ptlen, c->pt);
		sodium_memzero(c->pt, ptlen);
		if (r == NULL)
			return fail(c, CARTA_EPROTO,
				    "server sent a malformed response");

		if (r->id >= c->next_id) {
			uint64_t id = r->id;

			carta__v1__response__free_unpacked(r, NULL);
			return fail(c, CARTA_EPROTO,
				    "server answered a request never sent "
				    "(id %" PRIu64 ")",
				    id);
		}
		if (r->id != 0) {
			*resp = r;
			return 0;
		}

		/* Unasked: a notice, or the reason the server hangs up. */
		if (r->status == NULL ||
		    r->status->code == CARTA__V1__STATUS__CODE__OK) {
			carta__v1__response__free_unpacked(r, NULL);
			continue;
		}
		int code =
		    r->status->code == CARTA__V1__STATUS__CODE__UNAUTHENTICATED
			? CARTA_EAUTH
			: CARTA_ECLOSED;
		record_status(c, r->status);
		carta__v1__response__free_unpacked(r, NULL);
		/* kill_conn, not fail: keep the server's message. */
		kill_conn(c);
		return code;
	}
}

/* The server hung up while we were writing: it may have said why first. */
static int closed_while_sending(carta_client *c)
{
	Carta__V1__Response *r = NULL;
	int rv = recv_until(c, deadline_after(1000), &r);

	if (rv == CARTA_EAUTH || (rv != 0 && c->status_code != 0))
		return rv;
	if (rv == 0) {
		carta__v1__response__free_unpacked(r, NULL);
		kill_conn(c);
	}
	copy_str(c->errmsg, sizeof c->errmsg, "server closed the connection");
	c->status_code = 0;
	c->errfield[0] = '\0';
	return CARTA_ECLOSED;
}

int carta_send(carta_client *c, Carta__V1__Request *req, uint64_t *id)
{
	size_t len, flen;
	int rv;

	rv = check_open(c);
	if (rv != 0)
		return rv;
	if (req == NULL)
		return set_err(c, CARTA_EINVAL, "no request");

	req->id = c->next_id;
	len = carta__v1__request__get_packed_size(req);
	if (len > SECURE_MAX_PLAINTEXT)
		return set_err(c, CARTA_ETOOBIG,
			       "request too large (%zu bytes, at most %d)", len,
			       SECURE_MAX_PLAINTEXT);
	carta__v1__request__pack(req, c->pt);
	c->next_id++;

	rv = secure_seal(&c->sec->ch, c->pt, len, c->wbuf, sizeof c->wbuf,
			 &flen);
	sodium_memzero(c->pt, len);
	if (rv != 0)
		return fail(c, rv, "cannot encrypt the request: %s",
			    carta_strerror(rv));

	rv = write_all(c, c->wbuf, flen, deadline_after(c->request_timeout_ms));
	if (rv == CARTA_ECLOSED)
		return closed_while_sending(c);
	if (rv == CARTA_ETIMEDOUT)
		return fail(c, rv, "cannot send within %d ms",
			    c->request_timeout_ms);
	if (rv != 0) {
		char why[128];

		errno_phrase(errno, why, sizeof why);
		return fail(c, rv, "sending: %s", why);
	}
	if (id != NULL)
		*id = req->id;
	return 0;
}

int carta_recv(carta_client *c, Carta__V1__Response **resp)
{
	int rv = check_open(c);

	if (rv != 0)
		return rv;
	return recv_until(c, deadline_after(c->request_timeout_ms), resp);
}

int carta_response_check(carta_client *c, const Carta__V1__Response *resp)
{
	if (resp->status == NULL ||
	    resp->status->code == CARTA__V1__STATUS__CODE__OK)
		return 0;
	record_status(c, resp->status);
	return CARTA_ESTATUS;
}

int carta_call(carta_client *c, Carta__V1__Request *req, carta_response_fn fn,
	       void *ud)
{
	uint64_t id;
	int rv;

	rv = carta_send(c, req, &id);
	if (rv != 0)
		return rv;

	int64_t deadline = deadline_after(c->request_timeout_ms);
	for (;;) {
		Carta__V1__Response *r = NULL;

		rv = recv_until(c, deadline, &r);
		if (rv != 0)
			return rv;
		/* The tail of a stream an earlier call stopped reading. */
		if (r->id != id) {
			carta__v1__response__free_unpacked(r, NULL);
			continue;
		}

		bool more = r->more;
		rv = carta_response_check(c, r);
		if (rv == 0 && fn != NULL)
			rv = fn(ud, r);
		carta__v1__response__free_unpacked(r, NULL);
		if (rv != 0 || !more)
			return rv;
		deadline = deadline_after(c->request_timeout_ms);
	}
}

/* ---- Public: convenience calls ------------------------------------- */

struct ping_ctx {
	carta_client *c;
	const uint8_t *echo;
	carta_server_info *info;
	bool got;
};

static int on_pong(void *ud, const Carta__V1__Response *r)
{
	struct ping_ctx *x = ud;
	const Carta__V1__Pong *pong = r->pong;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_PONG || pong == NULL)
		return fail(x->c, CARTA_EPROTO,
			    "server answered a ping without a pong");
	if (pong->echo.len != PING_ECHO_LEN ||
	    memcmp(pong->echo.data, x->echo, PING_ECHO_LEN) != 0)
		return fail(x->c, CARTA_EPROTO,
			    "server answered a ping with the wrong echo");
	if (pong->info != NULL) {
		const Carta__V1__ServerInfo *i = pong->info;

		copy_str(x->info->server_version,
			 sizeof x->info->server_version, i->server_version);
		x->info->protocol_version = i->protocol_version;
		copy_str(x->info->principal, sizeof x->info->principal,
			 i->principal);
		copy_str(x->info->department, sizeof x->info->department,
			 i->department);
		x->info->role = (int)i->role;
	}
	x->got = true;
	return 0;
}

int carta_ping(carta_client *c, carta_server_info *info)
{
	uint8_t echo[PING_ECHO_LEN];
	Carta__V1__Ping ping = CARTA__V1__PING__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	struct ping_ctx x = {.c = c, .echo = echo, .info = info};
	int64_t t0;
	int rv;

	memset(info, 0, sizeof *info);
	randombytes_buf(echo, sizeof echo);
	ping.echo.data = echo;
	ping.echo.len = sizeof echo;
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &ping;

	t0 = now_us();
	rv = carta_call(c, &req, on_pong, &x);
	if (rv != 0)
		return rv;
	info->rtt_us = (uint64_t)(now_us() - t0);
	if (!x.got)
		return fail(c, CARTA_EPROTO,
			    "server answered a ping without a pong");
	return 0;
}

void carta_principal_clear(carta_principal *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->department);
	memset(p, 0, sizeof *p);
}

void carta_principals_free(carta_principal *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		carta_principal_clear(&list[i]);
	free(list);
}

/* Copies a wire principal; returns 0 or CARTA_ENOMEM. */
static int principal_copy(carta_principal *dst, const Carta__V1__Principal *p)
{
	memset(dst, 0, sizeof *dst);
	dst->name = strdup(p->name != NULL ? p->name : "");
	dst->department = strdup(p->department != NULL ? p->department : "");
	if (dst->name == NULL || dst->department == NULL) {
		carta_principal_clear(dst);
		return CARTA_ENOMEM;
	}
	dst->role = (int)p->role;
	dst->state = (int)p->state;
	if (p->public_key.len == KEY_LEN) {
		memcpy(dst->public_key, p->public_key.data, KEY_LEN);
		dst->has_public_key = true;
	}
	dst->created_at = p->created_at;
	dst->revoked_at = p->revoked_at;
	return 0;
}

struct enrol_ctx {
	carta_principal *out;
	bool got;
};

static int on_enrolled(void *ud, const Carta__V1__Response *r)
{
	struct enrol_ctx *x = ud;

	if (x->out == NULL || x->got ||
	    r->body_case != CARTA__V1__RESPONSE__BODY_PRINCIPAL ||
	    r->principal == NULL)
		return 0;
	if (principal_copy(x->out, r->principal) != 0)
		return CARTA_ENOMEM;
	x->got = true;
	return 0;
}

int carta_admin_enrol(carta_client *c, const char *name, const char *department,
		      int role, const uint8_t public_key[CARTA_KEY_LEN],
		      carta_principal *out)
{
	Carta__V1__EnrolRequest en = CARTA__V1__ENROL_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	struct enrol_ctx x = {.out = out};
	int rv;

	if (out != NULL)
		memset(out, 0, sizeof *out);
	if (name == NULL || department == NULL || public_key == NULL)
		return set_err(c, CARTA_EINVAL,
			       "name, department and public key are needed");
	en.name = (char *)name;
	en.department = (char *)department;
	en.role =
	    role == 0 ? CARTA__V1__ROLE__ROLE_MEMBER : (Carta__V1__Role)role;
	en.public_key.data = (uint8_t *)public_key;
	en.public_key.len = CARTA_KEY_LEN;
	req.body_case = CARTA__V1__REQUEST__BODY_ENROL;
	req.enrol = &en;

	rv = carta_call(c, &req, on_enrolled, &x);
	if (rv == CARTA_ENOMEM)
		set_err(c, rv, "out of memory");
	if (rv != 0) {
		carta_principal_clear(out);
		return rv;
	}
	if (out != NULL && !x.got) {
		out->name = strdup(name);
		out->department = strdup(department);
		if (out->name == NULL || out->department == NULL) {
			carta_principal_clear(out);
			return set_err(c, CARTA_ENOMEM, "out of memory");
		}
		out->role = (int)en.role;
		out->state = CARTA__V1__PRINCIPAL_STATE__STATE_ACTIVE;
		memcpy(out->public_key, public_key, CARTA_KEY_LEN);
		out->has_public_key = true;
	}
	return 0;
}

int carta_admin_revoke(carta_client *c, const char *name)
{
	Carta__V1__RevokeRequest rq = CARTA__V1__REVOKE_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	if (name == NULL)
		return set_err(c, CARTA_EINVAL, "a name is needed");
	rq.name = (char *)name;
	req.body_case = CARTA__V1__REQUEST__BODY_REVOKE;
	req.revoke = &rq;
	return carta_call(c, &req, NULL, NULL);
}

struct list_ctx {
	carta_client *c;
	carta_principal *list;
	size_t n, cap;
	size_t bytes; /* of the strings copied so far */
};

static int list_push(struct list_ctx *x, const Carta__V1__Principal *p)
{
	size_t len = (p->name != NULL ? strlen(p->name) : 0) +
		     (p->department != NULL ? strlen(p->department) : 0);

	if (x->n == CARTA_PRINCIPALS_MAX)
		return set_err(x->c, CARTA_ETOOBIG, "more than %d principals",
			       CARTA_PRINCIPALS_MAX);
	if (len > CARTA_PRINCIPALS_MAX_BYTES - x->bytes)
		return set_err(x->c, CARTA_ETOOBIG,
			       "the list of principals exceeds %d bytes",
			       CARTA_PRINCIPALS_MAX_BYTES);
	x->bytes += len;
	if (x->n == x->cap) {
		size_t cap = x->cap == 0 ? 64 : x->cap * 2;
		carta_principal *l = reallocarray(x->list, cap, sizeof *l);

		if (l == NULL)
			return set_err(x->c, CARTA_ENOMEM, "out of memory");
		x->list = l;
		x->cap = cap;
	}
	if (principal_copy(&x->list[x->n], p) != 0)
		return set_err(x->c, CARTA_ENOMEM, "out of memory");
	x->n++;
	return 0;
}

static int on_principals(void *ud, const Carta__V1__Response *r)
{
	struct list_ctx *x = ud;
	int rv = 0;

	if (r->body_case == CARTA__V1__RESPONSE__BODY_PRINCIPALS &&
	    r->principals != NULL) {
		for (size_t i = 0; i < r->principals->n_principals && rv == 0;
		     i++)
			rv = list_push(x, r->principals->principals[i]);
	} else if (r->body_case == CARTA__V1__RESPONSE__BODY_PRINCIPAL &&
		   r->principal != NULL) {
		rv = list_push(x, r->principal);
	}
	return rv;
}

int carta_admin_principals(carta_client *c, carta_principal **list, size_t *n)
{
	Carta__V1__ListPrincipalsRequest lp =
	    CARTA__V1__LIST_PRINCIPALS_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	struct list_ctx x = {.c = c};
	int rv;

	*list = NULL;
	*n = 0;
	req.body_case = CARTA__V1__REQUEST__BODY_LIST_PRINCIPALS;
	req.list_principals = &lp;

	rv = carta_call(c, &req, on_principals, &x);
	if (rv != 0) {
		carta_principals_free(x.list, x.n);
		return rv;
	}
	*list = x.list;
	*n = x.n;
	return 0;
}

const char *carta_role_name(int role)
{
	switch (role) {
	case CARTA__V1__ROLE__ROLE_MEMBER:
		return "member";
	case CARTA__V1__ROLE__ROLE_ADMIN:
		return "admin";
	case CARTA__V1__ROLE__ROLE_BRANCH:
		return "branch";
	default:
		return "unspecified";
	}
}

const char *carta_state_name(int state)
{
	switch (state) {
	case CARTA__V1__PRINCIPAL_STATE__STATE_ACTIVE:
		return "active";
	case CARTA__V1__PRINCIPAL_STATE__STATE_REVOKED:
		return "revoked";
	default:
		return "unspecified";
	}
}

const char *carta_status_name(int code)
{
	static const char *const names[] = {
	    "ok",
	    "invalid argument",
	    "not found",
	    "already exists",
	    "permission denied",
	    "unauthenticated",
	    "conflict",
	    "resource exhausted",
	    "failed precondition",
	    "unavailable",
	    "internal error",
	    "unimplemented",
	};

	if (code < 0 || (size_t)code >= sizeof names / sizeof names[0])
		return "unknown status";
	return names[code];
}
