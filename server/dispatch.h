/* Request handlers. dispatch_request runs on a thread-pool worker: it
 * checks the caller against the policy, does the store work and encodes
 * the responses; the connection encrypts and writes them on the loop. */
#ifndef CARTAD_DISPATCH_H
#define CARTAD_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"
#include "policy.h"
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
	uint64_t conn;		   /* in: the caller's connection, for logs */
} dispatch_out;

/* What every handler may use. */
typedef struct {
	store *db;
	const char *region; /* default region for phone numbers, e.g. "ES" */
	const uint8_t *server_pub; /* never enrolled; NULL: not checked */
	/* Bumped once each revocation has committed, so that connections
	 * know to look their principal up again; NULL: not counted. */
	_Atomic uint64_t *revocations;
} dispatch_env;

/* Answers req for caller. A RevokeRequest must run with no other request
 * in progress (conn.c runs it under the server's exclusive lock): its
 * checks that an admin remains and its write are then one step. */
void dispatch_request(const dispatch_env *env, const store_principal *caller,
		      const Carta__V1__Request *req, dispatch_out *out);

/* Appends one encoded response. Returns 0, CARTA_ETOOBIG when it would not
 * fit in a transport frame, or CARTA_ENOMEM. */
int dispatch_reply(dispatch_out *out, const Carta__V1__Response *resp);

/* Appends one encoded error response (a Status with code, message and,
 * when not NULL, the field at fault). Returns 0 or CARTA_ENOMEM. */
int dispatch_error(dispatch_out *out, uint64_t id, Carta__V1__Status__Code code,
		   const char *message, const char *field);

void dispatch_out_free(dispatch_out *out);

/* One request being answered: what the card handlers (handlers.c) get. */
typedef struct {
	const dispatch_env *env;
	const store_principal *caller;
	const policy_view *view;
	const Carta__V1__Request *req;
	const Carta__V1__FieldDef *field; /* CustomSet: the field it names */
	dispatch_out *out;
} dispatch_call;

/* Answers call with an error: code, message and, when not NULL, the field
 * at fault. */
void dispatch_fail(dispatch_call *call, Carta__V1__Status__Code code,
		   const char *msg, const char *field);

/* Answers call with resp and an OK status carrying the n cards (n may be
 * 0) that the written card now looks like. An answer larger than one
 * message is refused RESOURCE_EXHAUSTED instead. */
void dispatch_ok(dispatch_call *call, Carta__V1__Response *resp,
		 Carta__V1__DuplicateCandidate **dups, size_t n);

/* Answers a store failure that the request itself did not cause: logs
 * event (rate-limited: a caller's request got here) with the error, then
 * RESOURCE_EXHAUSTED for CARTA_ENOMEM, else INTERNAL "store error". */
void dispatch_fail_store(dispatch_call *call, int rv, const char *event);

/* Answers the card, department, policy, field and audit requests. Returns
 * false for a request kind it does not handle. */
bool handlers_card(dispatch_call *call);

/* Answers queries and segments (handlers_query.c). Returns false for a
 * request kind it does not handle. */
bool handlers_query(dispatch_call *call);

/* Checks a REF (customer number, card id, email or phone) and writes its
 * normal form (email domain in lower case, phone in E.164) into out.
 * Finding a card by email or phone tells whether it exists: view must
 * let the caller read contact. On error the refusal is sent (INVALID_
 * ARGUMENT naming field, or PERMISSION_DENIED) and non-zero returned. */
int handlers_norm_ref(dispatch_call *call, const policy_view *view,
		      const char *ref, char *out, size_t cap,
		      const char *field);

/* Compiles a query's text, filter, sort and channel (query.h) and checks
 * with the policy every section they read. prefix names the request in
 * error fields ("query.", "segment_save.", "dedup_scan."). Returns 0, or
 * answers the refusal (INVALID_ARGUMENT naming the field, or
 * PERMISSION_DENIED naming what the query reads) and returns non-zero;
 * plan is then still freed with query_plan_free. */
struct query_plan;
int handlers_query_prepare(dispatch_call *call, const char *text,
			   const char *where, const char *sort,
			   const char *channel, const char *prefix,
			   struct query_plan *plan);

/* Keeping cards current, each returning false for a request kind it does
 * not handle: duplicates (handlers_dedup.c), merge and unmerge
 * (handlers_merge.c), verification and stats (handlers_verify.c),
 * erasure (handlers_erase.c). */
bool handlers_dedup(dispatch_call *call);
bool handlers_merge(dispatch_call *call);
bool handlers_verify(dispatch_call *call);
bool handlers_erase(dispatch_call *call);

#endif
