/* Merge and unmerge requests (docs/MERGE.md). policy.c lets them through
 * with write on identity; the sections a merge changes on either card
 * are known only inside the store's transaction, which asks check_write
 * before it writes anything (a dry run too: it shows the data). The
 * survivor that leaves passes policy_filter_card. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "carta_error.h"
#include "dispatch.h"
#include "log.h"
#include "secure.h"
#include "store_merge.h"
#include "validate.h"

#define C(name) CARTA__V1__STATUS__CODE__##name

#define REF_MAX 320

/* What check_write learnt when it refused. */
struct check_state {
	const policy_view *view;
	const char *why;
	int section;
};

static int check_write(void *ud, uint32_t sections)
{
	struct check_state *c = ud;
	policy_needs needs = {.known = true, .write = sections};

	return policy_check(c->view, &needs, &c->why, &c->section);
}

static void fail_store(dispatch_call *call, int rv, const char *msg,
		       const struct check_state *check)
{
	switch (rv) {
	case CARTA_EPERM:
		dispatch_fail(call, C(PERMISSION_DENIED),
			      check->why ? check->why : "not allowed",
			      card_section_name(check->section));
		break;
	case CARTA_ENOENT:
		dispatch_fail(call, C(NOT_FOUND), msg[0] ? msg : "not found",
			      NULL);
		break;
	case CARTA_EINVAL:
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      msg[0] ? msg : "invalid", NULL);
		break;
	case CARTA_EEXIST:
	case CARTA_ESTATE:
		dispatch_fail(call, C(FAILED_PRECONDITION),
			      msg[0] ? msg : "not possible now", NULL);
		break;
	case CARTA_ETOOBIG:
		dispatch_fail(
		    call, C(RESOURCE_EXHAUSTED),
		    "the merged card would be larger than one answer can "
		    "carry; remove something from it first",
		    NULL);
		break;
	default:
		log_event(LOG_ERROR, call->out->conn,
			  "event=store_failed request=merge error=%s",
			  carta_strerror(rv));
		dispatch_fail(call, C(INTERNAL), "store error", NULL);
	}
}

/* Answers with the plan, its card filtered by the caller's policy. */
static void reply_plan(dispatch_call *call, Carta__V1__MergePlan *plan)
{
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	Carta__V1__Status ok = CARTA__V1__STATUS__INIT;

	if (plan->result != NULL &&
	    policy_filter_card(call->view, plan->result) != 0) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
		return;
	}
	resp.id = call->req->id;
	resp.status = &ok;
	resp.body_case = CARTA__V1__RESPONSE__BODY_MERGE_PLAN;
	resp.merge_plan = plan;
	while (plan->result != NULL &&
	       carta__v1__response__get_packed_size(&resp) >
		   SECURE_MAX_PLAINTEXT &&
	       card_drop_oldest(plan->result))
		;
	int rv = dispatch_reply(call->out, &resp);
	if (rv == CARTA_ETOOBIG)
		dispatch_fail(call, C(RESOURCE_EXHAUSTED),
			      "the plan is larger than one message", NULL);
	else if (rv != 0)
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
}

static void handle_merge(dispatch_call *call)
{
	const Carta__V1__MergeRequest *r = call->req->merge;
	char survivor[REF_MAX], other[REF_MAX], msg[STORE_MERGE_MSG_MAX];
	struct check_state check = {.view = call->view};
	Carta__V1__MergePlan *plan = NULL;
	store_actor who = {.principal = call->caller->name,
			   .department = call->caller->department};

	if (r->n_prefer_other > 64) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "at most 64 prefer_other", "merge.prefer_other");
		return;
	}
	if (handlers_norm_ref(call, call->view, r->survivor, survivor, REF_MAX,
			      "merge.survivor") != 0 ||
	    handlers_norm_ref(call, call->view, r->other, other, REF_MAX,
			      "merge.other") != 0)
		return;
	store_merge_req req = {.survivor = survivor,
			       .other = other,
			       .prefer_other = r->prefer_other,
			       .n_prefer = r->n_prefer_other,
			       .dry_run = r->dry_run,
			       .check = check_write,
			       .check_ud = &check};
	int rv = store_merge(call->env->db, &who, &req, &plan, msg);
	if (rv != 0) {
		fail_store(call, rv, msg, &check);
		return;
	}
	if (!r->dry_run)
		log_event(LOG_INFO, call->out->conn,
			  "event=merge merge_id=%s principal=%s",
			  plan->merge_id, call->caller->name);
	reply_plan(call, plan);
	carta__v1__merge_plan__free_unpacked(plan, NULL);
}

static void handle_unmerge(dispatch_call *call)
{
	const char *id = call->req->unmerge->merge_id;
	char msg[STORE_MERGE_MSG_MAX];
	struct check_state check = {.view = call->view};
	Carta__V1__MergePlan *plan = NULL;
	store_actor who = {.principal = call->caller->name,
			   .department = call->caller->department};

	if (id[0] == '\0' || strlen(id) > 32) {
		dispatch_fail(call, C(INVALID_ARGUMENT),
			      "give a merge id (M-000001)", "unmerge.merge_id");
		return;
	}
	int rv = store_unmerge(call->env->db, &who, id, check_write, &check,
			       &plan, msg);
	if (rv != 0) {
		fail_store(call, rv, msg, &check);
		return;
	}
	log_event(LOG_INFO, call->out->conn,
		  "event=unmerge merge_id=%s principal=%s", plan->merge_id,
		  call->caller->name);
	reply_plan(call, plan);
	carta__v1__merge_plan__free_unpacked(plan, NULL);
}

bool handlers_merge(dispatch_call *call)
{
	switch (call->req->body_case) {
	case CARTA__V1__REQUEST__BODY_MERGE:
		handle_merge(call);
		return true;
	case CARTA__V1__REQUEST__BODY_UNMERGE:
		handle_unmerge(call);
		return true;
	default:
		return false;
	}
}
