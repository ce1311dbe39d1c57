/* Erase requests: an admin removes a person's personal data from their
 * card (store_erase.c says what goes and what stays). */
#include <stdio.h>
#include <string.h>

#include "carta_error.h"
#include "dispatch.h"
#include "log.h"
#include "store_erase.h"
#include "validate.h"

#define ERASE_REASON_MAX 500 /* characters */

#define C(name) CARTA__V1__STATUS__CODE__##name

static void erase(dispatch_call *call)
{
	const Carta__V1__EraseRequest *r = call->req->erase;
	char reason[VALIDATE_TEXT_SIZE(ERASE_REASON_MAX)];
	char err[VALIDATE_ERR_SIZE], msg[VALIDATE_ERR_SIZE + 16];
	store_erase_result res;

	/* policy.c lets only admins through; an erasure cannot be undone,
	 * so the handler does not rely on that alone. */
	if (!call->view->admin) {
		dispatch_fail(call, C(PERMISSION_DENIED),
			      "only admins may do this", NULL);
		return;
	}
	char ref[320];
	if (handlers_norm_ref(call, call->view, r->ref, ref, sizeof(ref),
			      "erase.ref") != 0)
		return;
	if (validate_text(r->reason, ERASE_REASON_MAX, VALIDATE_MULTILINE,
			  reason, sizeof(reason), err, sizeof(err)) != 0) {
		snprintf(msg, sizeof(msg), "%s", err);
		dispatch_fail(call, C(INVALID_ARGUMENT), msg, "erase.reason");
		return;
	}

	store_actor who = {.principal = call->caller->name,
			   .department = call->caller->department};
	int rv = store_erase(call->env->db, &who, ref, reason, &res);
	switch (rv) {
	case 0:
		break;
	case CARTA_ENOENT:
		dispatch_fail(call, C(NOT_FOUND),
			      "no card matches this reference", "erase.ref");
		return;
	case CARTA_EEXIST:
		dispatch_fail(
		    call, C(FAILED_PRECONDITION),
		    "several cards match this reference; use the customer "
		    "number",
		    "erase.ref");
		return;
	case CARTA_ESTATE:
		log_event(LOG_ERROR, call->out->conn,
			  "event=erase_failed error=no_suppression_key");
		dispatch_fail(
		    call, C(FAILED_PRECONDITION),
		    "the server cannot read its key to record suppressions; "
		    "nothing was erased",
		    NULL);
		return;
	default:
		log_event(LOG_ERROR, call->out->conn,
			  "event=erase_failed error=%s", carta_strerror(rv));
		dispatch_fail(call, C(INTERNAL),
			      "store error; nothing was erased", NULL);
		return;
	}

	/* The number is no personal data; ids and counts only. */
	log_event(LOG_INFO, call->out->conn,
		  "event=card_erased principal=%s number=%s cards=%llu "
		  "audit_redacted=%llu suppressions=%llu",
		  call->caller->name, res.number, (unsigned long long)res.cards,
		  (unsigned long long)res.audit_redacted,
		  (unsigned long long)res.suppressions);

	Carta__V1__EraseResult out = CARTA__V1__ERASE_RESULT__INIT;
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Status ok = CARTA__V1__STATUS__INIT;
	out.number = res.number;
	out.audit_entries_redacted = res.audit_redacted;
	out.suppressions_added = res.suppressions;
	resp.id = call->req->id;
	resp.status = &ok;
	resp.body_case = CARTA__V1__RESPONSE__BODY_ERASE_RESULT;
	resp.erase_result = &out;
	if (dispatch_reply(call->out, &resp) != 0)
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
}

bool handlers_erase(dispatch_call *call)
{
	if (call->req->body_case != CARTA__V1__REQUEST__BODY_ERASE)
		return false;
	erase(call);
	return true;
}
