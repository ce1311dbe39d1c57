#include "dispatch.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "carta_error.h"
#include "log.h"
#include "policy.h"
#include "secure.h"
#include "store_card.h"

/* Principals per streamed response of ListPrincipals: ~100 bytes each. */
#define PRINCIPALS_PER_MSG 200
#define PING_ECHO_MAX	   1024

int dispatch_reply(dispatch_out *out, const Carta__V1__Response *resp)
{
	size_t len = carta__v1__response__get_packed_size(resp);

	if (len > SECURE_MAX_PLAINTEXT)
		return CARTA_ETOOBIG;
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 4;
		dispatch_msg *m = realloc(out->msgs, cap * sizeof(*m));
		if (m == NULL)
			return CARTA_ENOMEM;
		out->msgs = m;
		out->cap = cap;
	}
	/* An empty Response packs to 0 bytes; keep at least one. */
	uint8_t *data = malloc(len ? len : 1);
	if (data == NULL)
		return CARTA_ENOMEM;
	carta__v1__response__pack(resp, data);
	out->msgs[out->n].data = data;
	out->msgs[out->n].len = len;
	out->n++;
	return 0;
}

int dispatch_error(dispatch_out *out, uint64_t id, Carta__V1__Status__Code code,
		   const char *message, const char *field)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Status status = CARTA__V1__STATUS__INIT;

	status.code = code;
	status.message = (char *)message;
	if (field != NULL)
		status.field = (char *)field;
	resp.id = id;
	resp.status = &status;
	return dispatch_reply(out, &resp);
}

void dispatch_out_free(dispatch_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		free(out->msgs[i].data);
	free(out->msgs);
	memset(out, 0, sizeof(*out));
}

static Carta__V1__Status ok_status = CARTA__V1__STATUS__INIT;

static void handle_ping(const store_principal *caller,
			const Carta__V1__Request *req, dispatch_out *out)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Pong pong = CARTA__V1__PONG__INIT;
	Carta__V1__ServerInfo info = CARTA__V1__SERVER_INFO__INIT;

	if (req->ping->echo.len > PING_ECHO_MAX) {
		dispatch_error(out, req->id,
			       CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
			       "echo is longer than 1024 bytes", "ping.echo");
		return;
	}
	info.server_version = (char *)CARTA_VERSION;
	info.protocol_version = CARTA_PROTOCOL_VERSION;
	info.principal = (char *)caller->name;
	info.department = (char *)caller->department;
	info.role = (Carta__V1__Role)caller->role;
	pong.echo = req->ping->echo;
	pong.info = &info;
	resp.id = req->id;
	resp.status = &ok_status;
	resp.body_case = CARTA__V1__RESPONSE__BODY_PONG;
	resp.pong = &pong;
	dispatch_reply(out, &resp);
}

static void principal_to_msg(const store_principal *p, Carta__V1__Principal *m)
{
	carta__v1__principal__init(m);
	m->name = (char *)p->name;
	m->department = (char *)p->department;
	m->role = (Carta__V1__Role)p->role;
	m->state = (Carta__V1__PrincipalState)p->state;
	m->public_key.data = (uint8_t *)p->public_key;
	m->public_key.len = KEY_LEN;
	m->created_at = p->created_at;
	m->revoked_at = p->revoked_at;
}

static void reply_principal(uint64_t id, const store_principal *p,
			    dispatch_out *out)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Principal msg;

	principal_to_msg(p, &msg);
	resp.id = id;
	resp.status = &ok_status;
	resp.body_case = CARTA__V1__RESPONSE__BODY_PRINCIPAL;
	resp.principal = &msg;
	dispatch_reply(out, &resp);
}

/* A principal or department name: 1..64 of [A-Za-z0-9._-], starting with
 * a letter or digit. */
static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STORE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

/* True when key is a point of small order (the all-zero key among them):
 * X25519 of any scalar with it is all zeros, so a handshake with it would
 * prove nothing, and libsodium says so by returning -1. The scalar is no
 * secret; any will do. */
static bool key_is_low_order(const uint8_t key[KEY_LEN])
{
	static const uint8_t scalar[crypto_scalarmult_SCALARBYTES] = {
	    0x3c, 0x91, 0x5e, 0x07, 0xa8, 0x2d, 0xf4, 0x66, 0x19, 0xc2, 0x8b,
	    0x50, 0xe3, 0x74, 0x0f, 0xb6, 0x2a, 0xd9, 0x45, 0x8e, 0x71, 0x03,
	    0xcc, 0x5a, 0x97, 0x28, 0xe1, 0x6d, 0xb0, 0x4f, 0x13, 0x62};
	uint8_t shared[crypto_scalarmult_BYTES];

	return crypto_scalarmult(shared, scalar, key) != 0;
}

static void handle_enrol(const dispatch_env *env, const store_principal *caller,
			 const Carta__V1__Request *req, dispatch_out *out)
{
	store_actor who = {caller->name, caller->department, 0};
	const Carta__V1__EnrolRequest *e = req->enrol;
	store_principal p;
	char fp[KEY_FP_SIZE];
	int role = e->role == CARTA__V1__ROLE__ROLE_UNSPECIFIED
		       ? STORE_ROLE_MEMBER
		       : (int)e->role;

	if (!valid_name(e->name)) {
		dispatch_error(out, req->id,
			       CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
			       "name must be 1-64 letters, digits, '.', '_' "
			       "or '-', starting with a letter or digit",
			       "enrol.name");
		return;
	}
	if (!valid_name(e->department)) {
		dispatch_error(
		    out, req->id, CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
		    "department is not a valid name", "enrol.department");
		return;
	}
	if (role < STORE_ROLE_MEMBER || role > STORE_ROLE_BRANCH) {
		dispatch_error(out, req->id,
			       CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
			       "unknown role", "enrol.role");
		return;
	}
	if (e->public_key.len != KEY_LEN) {
		dispatch_error(
		    out, req->id, CARTA__V1__STATUS__CODE__INVALID_ARGUMENT,
		    "public key must be 32 bytes", "enrol.public_key");
		return;
	}
	/* A key anyone can "own" (small order), or the server's own key,
	 * would let a handshake pass without proving who is on the other
	 * end. */
	const char *bad_key = NULL, *why = NULL;
	if (key_is_low_order(e->public_key.data)) {
		bad_key = "low_order";
		why = "public key is a point of small order (such as all "
		      "zeros) and proves nothing";
	} else if (env->server_pub != NULL &&
		   memcmp(e->public_key.data, env->server_pub, KEY_LEN) == 0) {
		bad_key = "server_key";
		why = "public key is the server's own key";
	}
	if (bad_key != NULL) {
		log_limited(LOG_CLASS_AUTH, LOG_WARN, out->conn,
			    "event=enrol_refused reason=%s name=%s by=%s",
			    bad_key, e->name, caller->name);
		dispatch_error(out, req->id,
			       CARTA__V1__STATUS__CODE__INVALID_ARGUMENT, why,
			       "enrol.public_key");
		return;
	}

	int rv = store_principal_add(env->db, &who, e->name, e->department,
				     role, e->public_key.data, &p);
	if (rv == CARTA_ENOENT)
		dispatch_error(out, req->id, CARTA__V1__STATUS__CODE__NOT_FOUND,
			       "no such department", "enrol.department");
	else if (rv == CARTA_EEXIST &&
		 store_principal_by_name(env->db, e->name, &p) == 0)
		dispatch_error(
		    out, req->id, CARTA__V1__STATUS__CODE__ALREADY_EXISTS,
		    "a principal with this name exists", "enrol.name");
	else if (rv == CARTA_EEXIST)
		dispatch_error(
		    out, req->id, CARTA__V1__STATUS__CODE__ALREADY_EXISTS,
		    "this public key is already enrolled", "enrol.public_key");
	else if (rv != 0)
		dispatch_error(out, req->id, CARTA__V1__STATUS__CODE__INTERNAL,
			       "store error", NULL);
	if (rv != 0)
		return;

	key_fingerprint(p.public_key, fp);
	log_event(LOG_INFO, out->conn,
		  "event=principal_enrolled principal=%s department=%s "
		  "role=%s key_fp=%s by=%s",
		  p.name, p.department, store_role_name(p.role), fp,
		  caller->name);
	reply_principal(req->id, &p, out);
}

struct admin_count {
	int64_t except;
	unsigned n;
};

static int count_active_admin(void *user, const store_principal *p)
{
	struct admin_count *ac = user;

	if (p->role == STORE_ROLE_ADMIN && p->state == STORE_STATE_ACTIVE &&
	    p->id != ac->except)
		ac->n++;
	return 0;
}

static void revoke_refused(const store_principal *caller,
			   const store_principal *target,
			   const Carta__V1__Request *req, dispatch_out *out,
			   const char *reason, const char *message)
{
	log_limited(LOG_CLASS_AUTH, LOG_WARN, out->conn,
		    "event=revoke_refused reason=%s principal=%s by=%s", reason,
		    target->name, caller->name);
	dispatch_error(out, req->id,
		       CARTA__V1__STATUS__CODE__FAILED_PRECONDITION, message,
		       "revoke.name");
}

/* Runs with no other request in progress (dispatch.h), so that no second
 * revocation can slip between the checks and the write. */
static void handle_revoke(const dispatch_env *env,
			  const store_principal *caller,
			  const Carta__V1__Request *req, dispatch_out *out)
{
	store_actor who = {caller->name, caller->department, 0};
	store_principal p;
	char fp[KEY_FP_SIZE];

	int rv = store_principal_by_name(env->db, req->revoke->name, &p);
	if (rv == 0 && p.id == caller->id) {
		revoke_refused(caller, &p, req, out, "self",
			       "you cannot revoke your own key; another admin "
			       "must do it");
		return;
	}
	/* Without an active admin nobody could enrol or revoke again. */
	if (rv == 0 && p.role == STORE_ROLE_ADMIN &&
	    p.state == STORE_STATE_ACTIVE) {
		struct admin_count ac = {.except = p.id};
		rv = store_principal_each(env->db, count_active_admin, &ac);
		if (rv == 0 && ac.n == 0) {
			revoke_refused(caller, &p, req, out, "last_admin",
				       "this is the last active admin; enrol "
				       "another admin first");
			return;
		}
	}
	int was_active = rv == 0 && p.state == STORE_STATE_ACTIVE;
	if (rv == 0)
		rv = store_principal_revoke(env->db, &who, req->revoke->name,
					    &p);
	if (rv == CARTA_ENOENT) {
		dispatch_error(out, req->id, CARTA__V1__STATUS__CODE__NOT_FOUND,
			       "no such principal", "revoke.name");
		return;
	}
	if (rv != 0) {
		dispatch_error(out, req->id, CARTA__V1__STATUS__CODE__INTERNAL,
			       "store error", NULL);
		return;
	}
	/* Committed: requests that start from now on check their caller
	 * again (conn.c). */
	if (env->revocations != NULL)
		atomic_fetch_add(env->revocations, 1);
	if (was_active) {
		key_fingerprint(p.public_key, fp);
		log_event(LOG_INFO, out->conn,
			  "event=principal_revoked principal=%s department=%s "
			  "key_fp=%s by=%s",
			  p.name, p.department, fp, caller->name);
	}
	out->revoked_principal = p.id;
	reply_principal(req->id, &p, out);
}

struct list_state {
	uint64_t id;
	dispatch_out *out;
	store_principal page[PRINCIPALS_PER_MSG];
	size_t n;
	int rv;
};

static int flush_principals(struct list_state *ls, int more)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__PrincipalList list = CARTA__V1__PRINCIPAL_LIST__INIT;
	Carta__V1__Principal msgs[PRINCIPALS_PER_MSG];
	Carta__V1__Principal *ptrs[PRINCIPALS_PER_MSG];

	for (size_t i = 0; i < ls->n; i++) {
		principal_to_msg(&ls->page[i], &msgs[i]);
		ptrs[i] = &msgs[i];
	}
	list.n_principals = ls->n;
	list.principals = ptrs;
	resp.id = ls->id;
	resp.status = &ok_status;
	resp.more = more != 0;
	resp.body_case = CARTA__V1__RESPONSE__BODY_PRINCIPALS;
	resp.principals = &list;
	ls->n = 0;
	return dispatch_reply(ls->out, &resp);
}

static int collect_principal(void *user, const store_principal *p)
{
	struct list_state *ls = user;

	if (ls->n == PRINCIPALS_PER_MSG) {
		int rv = flush_principals(ls, 1);
		if (rv != 0)
			return rv;
	}
	ls->page[ls->n++] = *p;
	return 0;
}

static void handle_list_principals(store *db, const Carta__V1__Request *req,
				   dispatch_out *out)
{
	struct list_state *ls = calloc(1, sizeof(*ls));

	if (ls == NULL) {
		dispatch_error(out, req->id, CARTA__V1__STATUS__CODE__INTERNAL,
			       "out of memory", NULL);
		return;
	}
	ls->id = req->id;
	ls->out = out;
	int rv = store_principal_each(db, collect_principal, ls);
	if (rv == 0)
		rv = flush_principals(ls, 0);
	if (rv != 0) {
		/* Drop the partial stream: an error is the final answer. */
		dispatch_out_free(out);
		dispatch_error(out, req->id, CARTA__V1__STATUS__CODE__INTERNAL,
			       "store error", NULL);
	}
	free(ls);
}

/* The request's kind as its field is named in carta.proto. */
static const char *request_name(const Carta__V1__Request *req)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field(
		&carta__v1__request__descriptor, (unsigned)req->body_case);
	return f != NULL ? f->name : "unknown";
}

void dispatch_request(const dispatch_env *env, const store_principal *caller,
		      const Carta__V1__Request *req, dispatch_out *out)
{
	const char *why = NULL;
	Carta__V1__FieldDef *field = NULL;
	policy_view view;
	int section = 0;

	if (req->body_case == CARTA__V1__REQUEST__BODY__NOT_SET) {
		dispatch_error(out, req->id,
			       CARTA__V1__STATUS__CODE__UNIMPLEMENTED,
			       "unknown or empty request body", "body");
		return;
	}
	/* A custom value's section is its field's: look it up first. */
	if (req->body_case == CARTA__V1__REQUEST__BODY_CUSTOM_SET) {
		int rv =
		    store_field_get(env->db, req->custom_set->field, &field);
		if (rv != 0) {
			dispatch_error(out, req->id,
				       rv == CARTA_ENOENT
					   ? CARTA__V1__STATUS__CODE__NOT_FOUND
					   : CARTA__V1__STATUS__CODE__INTERNAL,
				       rv == CARTA_ENOENT ? "no such field"
							  : "store error",
				       "custom_set.field");
			return;
		}
		section = field->section;
	}
	policy_needs needs = policy_needs_of(req, section);
	/* The department's policy is read only when it matters: a ping or
	 * an admin-only request is decided on the role alone. */
	if (!policy_needs_view(&needs)) {
		policy_view_role_only(caller, &view);
	} else if (policy_view_load(env->db, caller, &view) != 0) {
		dispatch_error(out, req->id,
			       CARTA__V1__STATUS__CODE__UNAVAILABLE,
			       "the server could not load your policy", NULL);
		goto out;
	}
	if (policy_check(&view, &needs, &why, &section) != 0) {
		const char *sname = card_section_name(section);
		log_limited(LOG_CLASS_AUTH, LOG_WARN, out->conn,
			    "event=permission_denied principal=%s "
			    "department=%s request=%s section=%s",
			    caller->name, caller->department, request_name(req),
			    sname ? sname : "-");
		dispatch_error(out, req->id,
			       CARTA__V1__STATUS__CODE__PERMISSION_DENIED, why,
			       sname);
		goto out;
	}

	switch (req->body_case) {
	case CARTA__V1__REQUEST__BODY_PING:
		handle_ping(caller, req, out);
		break;
	case CARTA__V1__REQUEST__BODY_ENROL:
		handle_enrol(env, caller, req, out);
		break;
	case CARTA__V1__REQUEST__BODY_REVOKE:
		handle_revoke(env, caller, req, out);
		break;
	case CARTA__V1__REQUEST__BODY_LIST_PRINCIPALS:
		handle_list_principals(env->db, req, out);
		break;
	default: {
		dispatch_call call = {.env = env,
				      .caller = caller,
				      .view = &view,
				      .req = req,
				      .field = field,
				      .out = out};
		if (!handlers_card(&call) && !handlers_query(&call) &&
		    !handlers_dedup(&call) && !handlers_merge(&call) &&
		    !handlers_verify(&call) && !handlers_erase(&call))
			dispatch_error(out, req->id,
				       CARTA__V1__STATUS__CODE__UNIMPLEMENTED,
				       "request not implemented", "body");
		break;
	}
	}
out:
	if (field != NULL)
		carta__v1__field_def__free_unpacked(field, NULL);
}

void dispatch_fail(dispatch_call *call, Carta__V1__Status__Code code,
		   const char *msg, const char *field)
{
	dispatch_error(call->out, call->req->id, code, msg, field);
}

void dispatch_ok(dispatch_call *call, Carta__V1__Response *resp,
		 Carta__V1__DuplicateCandidate **dups, size_t n)
{
	Carta__V1__Status ok = CARTA__V1__STATUS__INIT;

	ok.duplicates = dups;
	ok.n_duplicates = n;
	resp->id = call->req->id;
	resp->status = &ok;
	int rv = dispatch_reply(call->out, resp);
	if (rv == CARTA_ETOOBIG)
		dispatch_fail(call, CARTA__V1__STATUS__CODE__RESOURCE_EXHAUSTED,
			      "the answer is larger than one message", NULL);
	else if (rv != 0)
		dispatch_fail(call, CARTA__V1__STATUS__CODE__INTERNAL,
			      "out of memory", NULL);
}

void dispatch_fail_store(dispatch_call *call, int rv, const char *event)
{
	log_limited(LOG_CLASS_PROTOCOL, LOG_ERROR, call->out->conn,
		    "event=%s error=%s", event, carta_strerror(rv));
	dispatch_fail(call,
		      rv == CARTA_ENOMEM
			  ? CARTA__V1__STATUS__CODE__RESOURCE_EXHAUSTED
			  : CARTA__V1__STATUS__CODE__INTERNAL,
		      "store error", NULL);
}
