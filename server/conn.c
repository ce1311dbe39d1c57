#include "conn.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "carta.pb-c.h"
#include "carta_error.h"
#include "dispatch.h"
#include "frame.h"
#include "log.h"
#include "secure.h"

/* Raw bytes read but not yet consumed. */
#define CONN_IN_CAP 16384

/* The kernel's receive and send buffers per connection (Linux doubles
 * the figure for its bookkeeping, so 256 KiB each). Left alone, the kernel
 * grows them to several MiB: a peer that sends without reading would park
 * that much on our side, in our receive buffer once we stop reading, and
 * in our send buffer, full of answers it does not take. A LAN round trip
 * still fills 256 KiB many times over. */
#define CONN_SOCKBUF (128 * 1024)

typedef enum {
	CONN_PREFACE,
	CONN_HS_MSG1,
	CONN_HS_MSG3,
	CONN_AUTH, /* looking up the client's key off the loop */
	CONN_OPEN,
	CONN_CLOSING,
} conn_state;

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer; /* handshake deadline, then idle and session age */
	server *srv;
	conn *prev, *next;
	uint64_t id;
	conn_state state;
	int handles_open; /* tcp and timer, until their close callbacks */
	unsigned inflight;
	bool reading;
	bool draining;
	bool close_after_write; /* saying goodbye: see refuse() */
	uv_shutdown_t shutdown_req;
	size_t write_pending;
	uint64_t opened_ms;
	uint64_t hs_started_ms; /* when its handshake began */
	char peer[64];
	uint8_t peer_addr[16]; /* v4 as ::ffff:a.b.c.d; v6 by its /64 */
	bool in_handshake;     /* on srv->handshakes */
	conn *hs_prev, *hs_next;
	/* srv->revocations when this connection last knew its principal to
	 * be active; written and read by workers. */
	_Atomic uint64_t revocations_seen;

	uint8_t preface[SECURE_PREFACE_LEN];
	size_t preface_have;
	noise_hs *hs;	    /* sodium_malloc'd during the handshake */
	secure_channel *ch; /* sodium_malloc'd once established */
	frame_decoder *dec; /* fixed 64 KiB buffer */
	uint8_t *plain;	    /* one decrypted message */
	uint8_t client_pub[KEY_LEN];
	store_principal principal;
	bool authed;

	uint8_t in[CONN_IN_CAP];
	size_t in_off, in_len;
};

typedef struct {
	uv_write_t req;
	conn *c;
	size_t len;
	uint8_t data[];
} conn_write;

/* What a queued write costs the connection's budget: its bytes and the
 * bookkeeping around them, so that many small answers are counted at
 * what they really hold. Not counted: answers still being built on a
 * worker, up to max_inflight requests' worth, which join the budget (and
 * may overshoot it) only once queued. */
#define WRITE_OVERHEAD (sizeof(conn_write) + 64)

typedef enum { WORK_AUTH, WORK_REQUEST } work_kind;

typedef struct {
	uv_work_t req;
	conn *c;
	work_kind kind;
	store_principal principal; /* the caller, or the auth result */
	int rv;
	bool revoked; /* the caller was revoked while this was queued */
	Carta__V1__Request *request;
	dispatch_out out;
} conn_work;

static void pump(conn *c);
static void update_reading(conn *c);

int64_t conn_principal_id(const conn *c)
{
	return c->authed ? c->principal.id : 0;
}

conn *conn_next(const conn *c)
{
	return c->next;
}

/* The connection has authenticated or is closing: it no longer holds a
 * handshake slot. */
static void handshake_leave(conn *c)
{
	server *srv = c->srv;

	if (!c->in_handshake)
		return;
	if (c->hs_prev != NULL)
		c->hs_prev->hs_next = c->hs_next;
	else
		srv->handshakes = c->hs_next;
	if (c->hs_next != NULL)
		c->hs_next->hs_prev = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
	c->in_handshake = false;
	srv->nhandshakes--;
}

static void handshake_enter(conn *c)
{
	server *srv = c->srv;

	c->hs_started_ms = uv_now(&srv->loop);
	c->hs_next = srv->handshakes;
	if (srv->handshakes != NULL)
		srv->handshakes->hs_prev = c;
	srv->handshakes = c;
	c->in_handshake = true;
	srv->nhandshakes++;
}

/* Connections in their handshake from c's address (c not counted). */
static unsigned handshakes_from(const conn *c)
{
	unsigned n = 0;

	for (const conn *o = c->srv->handshakes; o != NULL; o = o->hs_next)
		n += memcmp(o->peer_addr, c->peer_addr, sizeof(c->peer_addr)) ==
		     0;
	return n;
}

static void conn_free(conn *c)
{
	server *srv = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;

	if (c->hs != NULL)
		sodium_free(c->hs); /* sodium_free wipes */
	if (c->ch != NULL)
		sodium_free(c->ch);
	free(c->dec);
	free(c->plain);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* Freed once both handles are closed and no work item refers to it. */
static void maybe_free(conn *c)
{
	if (c->state == CONN_CLOSING && c->handles_open == 0 &&
	    c->inflight == 0 && c->write_pending == 0)
		conn_free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
	conn *c = h->data;

	c->handles_open--;
	maybe_free(c);
}

void conn_close(conn *c, const char *reason)
{
	if (c->state == CONN_CLOSING)
		return;
	log_limited(LOG_CLASS_CONN, LOG_INFO, c->id,
		    "event=closed reason=%s principal=%s", reason,
		    c->authed ? c->principal.name : "-");
	handshake_leave(c);
	c->state = CONN_CLOSING;
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

void conn_drain(conn *c)
{
	c->draining = true;
	if (c->inflight == 0)
		conn_close(c, "shutdown");
}

static void on_timer(uv_timer_t *t)
{
	conn *c = t->data;

	if (c->close_after_write) {
		conn_close(c, "refused");
	} else if (c->state == CONN_OPEN) {
		uint64_t age = uv_now(&c->srv->loop) - c->opened_ms;
		conn_close(c, age >= c->srv->cfg.session_max_age_ms
				  ? "session_max_age"
				  : "idle_timeout");
	} else {
		log_limited(LOG_CLASS_PROTOCOL, LOG_WARN, c->id,
			    "event=handshake_timeout peer=%s", c->peer);
		conn_close(c, "handshake_timeout");
	}
}

/* After each request: the sooner of the idle and the session deadline. */
static void arm_idle_timer(conn *c)
{
	const server_config *cfg = &c->srv->cfg;
	uint64_t age = uv_now(&c->srv->loop) - c->opened_ms;
	uint64_t left =
	    age < cfg->session_max_age_ms ? cfg->session_max_age_ms - age : 0;
	uv_timer_start(
	    &c->timer, on_timer,
	    left < cfg->idle_timeout_ms ? left : cfg->idle_timeout_ms, 0);
}

static void on_write(uv_write_t *req, int status)
{
	conn_write *w = (conn_write *)req;
	conn *c = w->c;

	c->write_pending -= w->len + WRITE_OVERHEAD;
	free(w);
	if (c->state == CONN_CLOSING) {
		maybe_free(c);
		return;
	}
	if (status < 0) {
		conn_close(c, "write_error");
		return;
	}
	/* Saying goodbye: the shutdown follows the last write by itself. */
	if (c->close_after_write)
		return;
	pump(c);
}

/* Allocates a write for up to cap bytes of framed data. */
static conn_write *write_new(conn *c, size_t cap)
{
	conn_write *w = malloc(sizeof(*w) + cap);
	if (w != NULL) {
		w->c = c;
		w->len = 0;
	}
	return w;
}

/* Queues w (w->len bytes) and charges the connection for it. */
static int write_queue(conn *c, conn_write *w)
{
	uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);

	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write)) {
		free(w);
		return CARTA_EIO;
	}
	c->write_pending += w->len + WRITE_OVERHEAD;
	return 0;
}

/* Queues data (already framed) for writing. */
static int send_raw(conn *c, const uint8_t *data, size_t len)
{
	conn_write *w = write_new(c, len);
	if (w == NULL)
		return CARTA_ENOMEM;
	memcpy(w->data, data, len);
	w->len = len;
	return write_queue(c, w);
}

/* Encrypts the encoded responses of one request into one write. */
static void send_outputs(conn *c, dispatch_out *out)
{
	size_t cap = 0;

	for (size_t i = 0; i < out->n; i++)
		cap += out->msgs[i].len + FRAME_HEADER_LEN + NOISE_TAG_LEN;
	conn_write *w = write_new(c, cap);
	int rv = w ? 0 : CARTA_ENOMEM;
	for (size_t i = 0; rv == 0 && i < out->n; i++) {
		size_t n = 0;
		rv = secure_seal(c->ch, out->msgs[i].data, out->msgs[i].len,
				 w->data + w->len, cap - w->len, &n);
		w->len += n;
	}
	if (rv == 0)
		rv = write_queue(c, w);
	else
		free(w);
	if (rv != 0)
		conn_close(c, "send_failed");
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	conn *c = req->data;

	if (status < 0 && c->state != CONN_CLOSING)
		conn_close(c, "refused");
}

/* An unsolicited error (id 0) and then goodbye: for refused keys. Nothing
 * more is answered. The message is followed by a FIN, and what the peer
 * still sends is read and dropped until it closes too: closing at once
 * with its bytes unread would send a reset, which can destroy the message
 * before the peer reads it. A peer that has not closed within
 * REFUSE_GRACE_MS is cut off anyway. */
#define REFUSE_GRACE_MS 1000
static void refuse(conn *c, Carta__V1__Status__Code code, const char *why)
{
	dispatch_out out = {0};

	/* Already saying goodbye (revoked twice: by the revocation and by a
	 * request that found it): nothing more can be written. */
	if (c->state == CONN_CLOSING || c->close_after_write)
		return;
	if (dispatch_error(&out, 0, code, why, NULL) == 0)
		send_outputs(c, &out);
	dispatch_out_free(&out);
	if (c->state == CONN_CLOSING)
		return;
	c->close_after_write = true;
	uv_timer_start(&c->timer, on_timer, REFUSE_GRACE_MS, 0);
	c->shutdown_req.data = c;
	if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
			on_shutdown) != 0) {
		conn_close(c, "refused");
		return;
	}
	update_reading(c);
}

void conn_revoke(conn *c)
{
	if (c->close_after_write || c->state == CONN_CLOSING)
		return;
	log_event(LOG_INFO, c->id, "event=revoked principal=%s",
		  c->principal.name);
	refuse(c, CARTA__V1__STATUS__CODE__UNAUTHENTICATED,
	       "this key has been revoked");
}

/* On a worker, before a request runs: true when its caller is still
 * active. The principal was copied at authentication; it is looked up
 * again only when some principal was revoked since this connection last
 * looked. Otherwise w->out holds the refusal. */
static bool caller_still_active(conn_work *w)
{
	conn *c = w->c;
	uint64_t now = atomic_load(&c->srv->revocations);
	store_principal p;

	if (now == atomic_load(&c->revocations_seen))
		return true;
	int rv = store_principal_by_key(c->srv->db, c->client_pub, &p);
	if (rv == 0 && p.state == STORE_STATE_ACTIVE) {
		atomic_store(&c->revocations_seen, now);
		return true;
	}
	if (rv == 0 || rv == CARTA_ENOENT) {
		w->revoked = true;
		dispatch_error(&w->out, w->request->id,
			       CARTA__V1__STATUS__CODE__UNAUTHENTICATED,
			       "this key has been revoked", NULL);
	} else {
		dispatch_error(&w->out, w->request->id,
			       CARTA__V1__STATUS__CODE__UNAVAILABLE,
			       "the server could not check the key", NULL);
	}
	return false;
}

static void work_run(uv_work_t *req)
{
	conn_work *w = req->data;
	server *srv = w->c->srv;

	if (w->kind == WORK_AUTH) {
		/* Read the counter first: a revocation that commits after
		 * the look-up below moves it, and the next request checks. */
		atomic_store(&w->c->revocations_seen,
			     atomic_load(&srv->revocations));
		w->rv = store_principal_by_key(srv->db, w->c->client_pub,
					       &w->principal);
		return;
	}

	/* Only an admin's revocation goes exclusive (everyone else's is
	 * refused by the policy), so that nobody else can stall the server
	 * by asking for one. */
	bool revoke =
	    w->request->body_case == CARTA__V1__REQUEST__BODY_REVOKE &&
	    w->principal.role == STORE_ROLE_ADMIN;
	if (revoke)
		pthread_rwlock_wrlock(&srv->revoke_lock);
	else
		pthread_rwlock_rdlock(&srv->revoke_lock);
	w->out.conn = w->c->id;
	if (caller_still_active(w))
		dispatch_request(&srv->env, &w->principal, w->request, &w->out);
	pthread_rwlock_unlock(&srv->revoke_lock);
	if (w->out.n == 0)
		dispatch_error(&w->out, w->request->id,
			       CARTA__V1__STATUS__CODE__INTERNAL,
			       "the server could not build a response", NULL);
}

static void auth_done(conn *c, conn_work *w)
{
	char fp[KEY_FP_SIZE];

	key_fingerprint(c->client_pub, fp);
	if (w->rv == CARTA_ENOENT) {
		log_limited(LOG_CLASS_AUTH, LOG_WARN, c->id,
			    "event=auth_refused reason=unknown_key key_fp=%s "
			    "peer=%s",
			    fp, c->peer);
		refuse(c, CARTA__V1__STATUS__CODE__UNAUTHENTICATED,
		       "this key is not enrolled on the server");
		return;
	}
	if (w->rv != 0) {
		refuse(c, CARTA__V1__STATUS__CODE__UNAVAILABLE,
		       "the server could not check the key");
		return;
	}
	if (w->principal.state != STORE_STATE_ACTIVE) {
		log_limited(LOG_CLASS_AUTH, LOG_WARN, c->id,
			    "event=auth_refused reason=revoked principal=%s "
			    "peer=%s",
			    w->principal.name, c->peer);
		refuse(c, CARTA__V1__STATUS__CODE__UNAUTHENTICATED,
		       "this key has been revoked");
		return;
	}

	/* One principal cannot take every connection, and the last ones
	 * are kept for admins. */
	unsigned mine = 0, authed = 0;
	for (const conn *o = c->srv->conns; o != NULL; o = o->next) {
		if (!o->authed || o->state == CONN_CLOSING)
			continue;
		authed++;
		mine += o->principal.id == w->principal.id;
	}
	const server_config *cfg = &c->srv->cfg;
	if (mine >= cfg->max_connections_per_principal) {
		log_limited(LOG_CLASS_CONN, LOG_WARN, c->id,
			    "event=refused reason=principal_cap principal=%s "
			    "connections=%u peer=%s",
			    w->principal.name, mine, c->peer);
		refuse(c, CARTA__V1__STATUS__CODE__RESOURCE_EXHAUSTED,
		       "this principal has as many connections open as it "
		       "may; close one");
		return;
	}
	if (w->principal.role != STORE_ROLE_ADMIN &&
	    authed >= cfg->max_connections) {
		log_limited(LOG_CLASS_CONN, LOG_WARN, c->id,
			    "event=refused reason=connection_cap principal=%s "
			    "peer=%s",
			    w->principal.name, c->peer);
		refuse(c, CARTA__V1__STATUS__CODE__UNAVAILABLE,
		       "the server is full; only admins are served now");
		return;
	}

	c->principal = w->principal;
	c->authed = true;
	c->state = CONN_OPEN;
	handshake_leave(c);
	c->opened_ms = uv_now(&c->srv->loop);
	frame_decoder_set_max(c->dec, FRAME_MAX_PAYLOAD);
	arm_idle_timer(c);
	log_event(LOG_INFO, c->id,
		  "event=authenticated principal=%s department=%s key_fp=%s",
		  c->principal.name, c->principal.department, fp);
}

static void work_after(uv_work_t *req, int status)
{
	conn_work *w = req->data;
	conn *c = w->c;

	c->inflight--;
	if (c->state != CONN_CLOSING && !c->close_after_write && status == 0) {
		if (w->kind == WORK_AUTH) {
			auth_done(c, w);
		} else {
			send_outputs(c, &w->out);
			if (w->out.revoked_principal > 0)
				server_close_principal(
				    c->srv, w->out.revoked_principal);
			if (w->revoked && c->state != CONN_CLOSING &&
			    !c->close_after_write)
				conn_revoke(c);
		}
	}
	if (w->request != NULL)
		carta__v1__request__free_unpacked(w->request, NULL);
	dispatch_out_free(&w->out);
	free(w);

	if (c->state == CONN_CLOSING) {
		maybe_free(c);
		return;
	}
	if (c->draining && c->inflight == 0) {
		conn_close(c, "shutdown");
		return;
	}
	pump(c);
}

static int queue_work(conn *c, work_kind kind, Carta__V1__Request *request)
{
	conn_work *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return CARTA_ENOMEM;
	w->req.data = w;
	w->c = c;
	w->kind = kind;
	w->request = request;
	w->principal = c->principal;
	if (uv_queue_work(&c->srv->loop, &w->req, work_run, work_after) != 0) {
		free(w);
		return CARTA_EIO;
	}
	c->inflight++;
	return 0;
}

static void handle_request(conn *c, const uint8_t *frame, size_t len)
{
	size_t plen = 0;

	if (secure_open(c->ch, frame, len, c->plain, SECURE_MAX_PLAINTEXT,
			&plen) != 0) {
		log_limited(LOG_CLASS_PROTOCOL, LOG_WARN, c->id,
			    "event=decrypt_failed peer=%s", c->peer);
		conn_close(c, "decrypt_failed");
		return;
	}
	arm_idle_timer(c);

	Carta__V1__Request *req =
	    carta__v1__request__unpack(NULL, plen, c->plain);
	if (req == NULL) {
		dispatch_out out = {0};
		log_limited(LOG_CLASS_PROTOCOL, LOG_WARN, c->id,
			    "event=bad_request reason=decode");
		dispatch_error(&out, 0,
			       CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
			       "request is not a valid carta.v1.Request", NULL);
		send_outputs(c, &out);
		dispatch_out_free(&out);
		return;
	}
	if (req->id == 0) {
		dispatch_out out = {0};
		dispatch_error(&out, 0,
			       CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
			       "request id must not be 0", "id");
		send_outputs(c, &out);
		dispatch_out_free(&out);
		carta__v1__request__free_unpacked(req, NULL);
		return;
	}
	/* Only the canonical encoding is accepted: protobuf-c ends strings at
	 * their first NUL, so "A\0B" would otherwise be taken as "A". A
	 * message that packs back to another size held such a string (or
	 * defaults sent explicitly, or padded numbers). */
	if (carta__v1__request__get_packed_size(req) != plen) {
		dispatch_out out = {0};
		log_limited(LOG_CLASS_PROTOCOL, LOG_WARN, c->id,
			    "event=bad_request reason=not_canonical");
		dispatch_error(&out, req->id,
			       CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
			       "the request is not in canonical encoding (a "
			       "string with a NUL byte, a default value sent "
			       "explicitly, or a padded number)",
			       NULL);
		send_outputs(c, &out);
		dispatch_out_free(&out);
		carta__v1__request__free_unpacked(req, NULL);
		return;
	}
	if (queue_work(c, WORK_REQUEST, req) != 0) {
		carta__v1__request__free_unpacked(req, NULL);
		conn_close(c, "queue_failed");
	}
}

static void handshake_failed(conn *c, const char *what, int rv)
{
	log_limited(LOG_CLASS_PROTOCOL, LOG_WARN, c->id,
		    "event=handshake_failed step=%s error=%s peer=%s", what,
		    carta_strerror(rv), c->peer);
	conn_close(c, "handshake_failed");
}

static void handle_frame(conn *c, const uint8_t *frame, size_t len)
{
	uint8_t reply[FRAME_HEADER_LEN + SECURE_MSG2_LEN];
	size_t n = 0;
	int rv;

	switch (c->state) {
	case CONN_HS_MSG1:
		rv = secure_server_respond(c->hs, frame, len, reply,
					   sizeof(reply), &n);
		if (rv == 0)
			rv = send_raw(c, reply, n);
		if (rv != 0) {
			handshake_failed(c, "message1", rv);
			return;
		}
		c->state = CONN_HS_MSG3;
		frame_decoder_set_max(c->dec, SECURE_MSG3_LEN);
		break;
	case CONN_HS_MSG3:
		c->ch = sodium_malloc(sizeof(*c->ch));
		rv = c->ch ? secure_server_finish(c->hs, frame, len, c->ch,
						  c->client_pub)
			   : CARTA_ENOMEM;
		sodium_free(c->hs);
		c->hs = NULL;
		if (rv == 0) {
			c->plain = malloc(SECURE_MAX_PLAINTEXT);
			rv = c->plain ? 0 : CARTA_ENOMEM;
		}
		if (rv == 0)
			rv = queue_work(c, WORK_AUTH, NULL);
		if (rv != 0) {
			handshake_failed(c, "message3", rv);
			return;
		}
		c->state = CONN_AUTH;
		break;
	case CONN_OPEN:
		handle_request(c, frame, len);
		break;
	default:
		break;
	}
}

/* True when the connection should take in more bytes now. */
static bool can_process(const conn *c)
{
	if (c->state == CONN_CLOSING || c->state == CONN_AUTH ||
	    c->close_after_write || c->draining)
		return false;
	if (c->state == CONN_OPEN && c->inflight >= c->srv->cfg.max_inflight)
		return false;
	return c->write_pending <= c->srv->cfg.max_write_buffer;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	conn *c = h->data;
	(void)suggested;

	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	*buf = uv_buf_init((char *)c->in + c->in_len,
			   (unsigned)(CONN_IN_CAP - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Starts or stops reading to match what the connection can take. */
static void update_reading(conn *c)
{
	/* Saying goodbye, everything is read (and dropped) until EOF. */
	bool want = c->state != CONN_CLOSING &&
		    (c->close_after_write ||
		     (!c->draining && c->in_len - c->in_off < CONN_IN_CAP &&
		      c->write_pending <= c->srv->cfg.max_write_buffer));

	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) ==
		    0)
			c->reading = true;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

/* Consumes buffered input as far as the connection's state allows. */
static void pump(conn *c)
{
	while (can_process(c) && c->in_off < c->in_len) {
		const uint8_t *in = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;

		if (c->state == CONN_PREFACE) {
			size_t take = SECURE_PREFACE_LEN - c->preface_have;
			if (take > avail)
				take = avail;
			memcpy(c->preface + c->preface_have, in, take);
			c->preface_have += take;
			c->in_off += take;
			if (c->preface_have < SECURE_PREFACE_LEN)
				break;
			int rv = secure_check_preface(c->preface);
			if (rv != 0) {
				log_limited(LOG_CLASS_PROTOCOL, LOG_WARN, c->id,
					    "event=bad_preface reason=%s "
					    "peer=%s",
					    rv == CARTA_EINVAL ? "version"
							       : "magic",
					    c->peer);
				conn_close(c, "bad_preface");
				return;
			}
			c->state = CONN_HS_MSG1;
			continue;
		}

		const uint8_t *frame = NULL;
		size_t used = 0, flen = 0;
		int rv =
		    frame_decoder_feed(c->dec, in, avail, &used, &frame, &flen);
		c->in_off += used;
		if (rv < 0) {
			log_limited(LOG_CLASS_PROTOCOL, LOG_WARN, c->id,
				    "event=bad_frame reason=length peer=%s",
				    c->peer);
			conn_close(c, "bad_frame");
			return;
		}
		if (rv == 1)
			handle_frame(c, frame, flen);
	}
	if (c->state != CONN_CLOSING)
		update_reading(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	conn *c = s->data;
	(void)buf;

	if (nread < 0) {
		conn_close(c, c->close_after_write ? "refused"
			      : nread == UV_EOF	   ? "eof"
						   : "read_error");
		return;
	}
	if (c->close_after_write) {
		c->in_len = c->in_off = 0;
		return;
	}
	c->in_len += (size_t)nread;
	pump(c);
}

static void peer_name(conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[48] = "?";
	int port = 0;

	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, host, sizeof(host));
			port = ntohs(a->sin6_port);
			memcpy(c->peer_addr, &a->sin6_addr, 16);
			/* One host usually has a whole /64; a v4 peer on a
			 * dual-stack socket keeps its full address. */
			if (!IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
				memset(c->peer_addr + 8, 0, 8);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, host, sizeof(host));
			port = ntohs(a->sin_port);
			c->peer_addr[10] = c->peer_addr[11] = 0xff;
			memcpy(c->peer_addr + 12, &a->sin_addr, 4);
		}
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
}

/* A handshake that a second after it began is still waiting for the
 * client (not one whose key is being looked up): a real client finishes
 * in milliseconds. */
#define HANDSHAKE_STALLED_MS 1000

/* Closes the connection longest in its handshake: from addr when not
 * NULL, and only a stalled one (above) when stalled; reason names the cap
 * in the log. Returns whether one was closed. */
static bool evict_oldest_handshake(server *srv, const uint8_t *addr,
				   bool stalled, const char *reason)
{
	uint64_t now = uv_now(&srv->loop);
	conn *oldest = NULL;

	/* New handshakes go to the head: the oldest is the last one. */
	for (conn *o = srv->handshakes; o != NULL; o = o->hs_next)
		if ((addr == NULL ||
		     memcmp(o->peer_addr, addr, sizeof(o->peer_addr)) == 0) &&
		    (!stalled ||
		     (o->state != CONN_AUTH &&
		      now - o->hs_started_ms >= HANDSHAKE_STALLED_MS)))
			oldest = o;
	if (oldest == NULL)
		return false;
	log_limited(LOG_CLASS_CONN, LOG_WARN, oldest->id,
		    "event=evicted reason=%s peer=%s", reason, oldest->peer);
	conn_close(oldest, "handshake_evicted");
	return true;
}

int conn_accept(server *srv)
{
	conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CARTA_ENOMEM;

	c->srv = srv;
	c->id = ++srv->next_conn_id;
	c->tcp.data = c;
	c->timer.data = c;
	uv_tcp_init(&srv->loop, &c->tcp);
	uv_timer_init(&srv->loop, &c->timer);
	c->handles_open = 2;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;

	if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->tcp)) {
		conn_close(c, "accept_failed");
		return CARTA_EIO;
	}
	peer_name(c);
	const char *cap = NULL;
	if (srv->stopping)
		cap = "stopping";
	/* At the connection cap a stalled handshake makes room, as at the
	 * handshake caps: sockets that never finish one cannot keep clients
	 * (nor the admins the reserve is for) out. Only connections that
	 * authenticate, or are about to, make a new one wait. */
	if (cap == NULL &&
	    srv->nconns > srv->cfg.max_connections + srv->cfg.admin_reserve &&
	    !evict_oldest_handshake(srv, NULL, true, "connection_cap"))
		cap = "connection_cap";
	/* At a handshake cap the oldest handshake makes room (from the same
	 * address, for the per-address cap): a real client finishes in a
	 * few milliseconds, so idle sockets cannot keep it out. */
	if (cap == NULL &&
	    handshakes_from(c) >= srv->cfg.max_handshakes_per_address)
		evict_oldest_handshake(srv, c->peer_addr, false,
				       "handshake_cap");
	if (cap == NULL && srv->nhandshakes >= srv->cfg.max_handshakes)
		evict_oldest_handshake(srv, NULL, false, "handshake_cap");
	if (cap != NULL) {
		log_limited(LOG_CLASS_CONN, LOG_WARN, c->id,
			    "event=refused reason=%s peer=%s", cap, c->peer);
		conn_close(c, cap);
		return 0;
	}
	handshake_enter(c);

	c->dec = malloc(sizeof(*c->dec));
	c->hs = sodium_malloc(sizeof(*c->hs));
	if (c->dec == NULL || c->hs == NULL ||
	    secure_server_init(c->hs, srv->key_priv) != 0) {
		conn_close(c, "no_memory");
		return CARTA_ENOMEM;
	}
	frame_decoder_init(c->dec, SECURE_MSG1_LEN);
	uv_tcp_nodelay(&c->tcp, 1);
	int rcvbuf = CONN_SOCKBUF, sndbuf = CONN_SOCKBUF;
	uv_recv_buffer_size((uv_handle_t *)&c->tcp, &rcvbuf);
	uv_send_buffer_size((uv_handle_t *)&c->tcp, &sndbuf);
	uv_timer_start(&c->timer, on_timer, srv->cfg.handshake_timeout_ms, 0);
	log_limited(LOG_CLASS_CONN, LOG_INFO, c->id, "event=accepted peer=%s",
		    c->peer);
	update_reading(c);
	return 0;
}
