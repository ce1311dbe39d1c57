/* Verification and stats: the cards due for confirmation (with the
 * channel each prefers and has consented to), recording a confirmation,
 * and the figures of `carta admin stats`. The store work is in
 * store_verify.c; the rules are in docs/VERIFY.md. policy.c decided who
 * may ask before these run; a confirmation without a section is limited
 * here to the sections the caller may write, and the card it answers
 * with is filtered by the caller's policy like any other. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "card.h"
#include "carta_error.h"
#include "dispatch.h"
#include "log.h"
#include "secure.h"
#include "store_verify.h"
#include "validate.h"

#define DUE_LIMIT_DEFAULT 50
#define DUE_LIMIT_MAX	  500
#define DEFAULT_PERIOD	  (365 * 86400LL)
/* Longer periods mean nothing and would overflow time arithmetic. */
#define MAX_PERIOD (1000 * 366 * 86400LL)
#define CURSOR_MAX 64

#define BIT(section) (1u << (section))

#define C(name) CARTA__V1__STATUS__CODE__##name

/* A period or time from the request: 0 gives dflt; negative or absurd
 * values are refused (answered here, non-zero returned). */
static int take_seconds(dispatch_call *call, int64_t v, int64_t dflt,
			int64_t max, const char *field, int64_t *out)
{
	if (v < 0 || v > max) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "out of range", field);
		return CARTA_EINVAL;
	}
	*out = v != 0 ? v : dflt;
	return 0;
}

/* ---- cards due ------------------------------------------------------- */

static void verify_due(dispatch_call *call)
{
	const Carta__V1__VerifyDueRequest *r = call->req->verify_due;
	Carta__V1__VerifyDuePage *page = NULL;
	int section = r->section != 0 ? (int)r->section
				      : CARTA__V1__SECTION__SECTION_CONTACT;
	int64_t older = 0, as_of = 0, now = (int64_t)time(NULL);

	if (section < 1 || section > 8 ||
	    !(STORE_VERIFY_SECTIONS & BIT(section))) {
		dispatch_fail(
		    call, C(INVALID_ARGUMENT),
		    "sections confirmed are identity, contact, demographics, "
		    "preferences and consent",
		    "verify_due.section");
		return;
	}
	/* When a section's data was confirmed says something about it:
	 * only for those who may read it. */
	if (call->view->access[section] < CARTA__V1__ACCESS__ACCESS_READ) {
		dispatch_fail(call, C(PERMISSION_DENIED),
			      "your department may not read this section",
			      card_section_name(section));
		return;
	}
	if (take_seconds(call, r->older_than, DEFAULT_PERIOD, MAX_PERIOD,
			 "verify_due.older_than", &older) != 0 ||
	    take_seconds(call, r->as_of, now, 2 * MAX_PERIOD,
			 "verify_due.as_of", &as_of) != 0)
		return;
	if (strlen(r->cursor) > CURSOR_MAX) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "malformed cursor",
			      "verify_due.cursor");
		return;
	}
	unsigned limit = r->limit == 0 ? DUE_LIMIT_DEFAULT : r->limit;
	if (limit > DUE_LIMIT_MAX)
		limit = DUE_LIMIT_MAX;

	int rv = store_verify_due(call->env->db, section, as_of - older,
				  r->cursor, limit, &page);
	if (rv == CARTA_EINVAL) {
		dispatch_fail(call, C(INVALID_ARGUMENT), "malformed cursor",
			      "verify_due.cursor");
		return;
	}
	if (rv != 0) {
		dispatch_fail_store(call, rv, "verify_failed");
		return;
	}
	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	resp.body_case = CARTA__V1__RESPONSE__BODY_VERIFY_DUE;
	resp.verify_due = page;
	dispatch_ok(call, &resp, NULL, 0);
	carta__v1__verify_due_page__free_unpacked(page, NULL);
}

/* ---- a confirmation -------------------------------------------------- */

/* Drops the recent purchases, interactions and notes from a card too
 * large for one answer: what it is for here is its verification. */
static void fit_card(Carta__V1__Response *resp)
{
	Carta__V1__Card *c = resp->card;

	if (carta__v1__response__get_packed_size(resp) <= SECURE_MAX_PLAINTEXT)
		return;
	for (size_t i = 0; i < c->n_purchases; i++)
		carta__v1__purchase__free_unpacked(c->purchases[i], NULL);
	for (size_t i = 0; i < c->n_interactions; i++)
		carta__v1__interaction__free_unpacked(c->interactions[i], NULL);
	for (size_t i = 0; i < c->n_notes; i++)
		carta__v1__note__free_unpacked(c->notes[i], NULL);
	c->n_purchases = c->n_interactions = c->n_notes = 0;
}

static void verify_confirm(dispatch_call *call)
{
	const Carta__V1__VerifyConfirmRequest *r = call->req->verify_confirm;
	Carta__V1__Card *card = NULL;
	store_actor who = {.principal = call->caller->name,
			   .department = call->caller->department};
	uint32_t writable = 0, confirmed = 0;
	policy_view view;
	char ref[256];
	int section = (int)r->section;

	if (!store_verify_source_valid(r->source)) {
		dispatch_fail(
		    call, C(INVALID_ARGUMENT),
		    "say how it was confirmed: phone, email, visit or form",
		    "verify_confirm.source");
		return;
	}
	if (section != 0 && (section < 1 || section > 8 ||
			     !(STORE_VERIFY_SECTIONS & BIT(section)))) {
		dispatch_fail(
		    call, C(INVALID_ARGUMENT),
		    "sections confirmed are identity, contact, demographics, "
		    "preferences and consent",
		    "verify_confirm.section");
		return;
	}

	/* Without a section the policy asked for nothing, so the view
	 * dispatch holds may be the role's alone: load the department's. */
	if (policy_view_load(call->env->db, call->caller, &view) != 0) {
		dispatch_fail(call, C(UNAVAILABLE),
			      "the server could not load your policy", NULL);
		return;
	}
	for (int s = 1; s < 9; s++)
		if (view.access[s] >= CARTA__V1__ACCESS__ACCESS_WRITE)
			writable |= BIT(s);
	if (section != 0 && !(writable & BIT(section))) {
		dispatch_fail(call, C(PERMISSION_DENIED),
			      "your department may not write this section",
			      card_section_name(section));
		return;
	}
	if (section == 0 && !(writable & STORE_VERIFY_SECTIONS)) {
		dispatch_fail(
		    call, C(PERMISSION_DENIED),
		    "your department may write none of the sections a "
		    "confirmation covers",
		    NULL);
		return;
	}
	if (handlers_norm_ref(call, &view, r->ref, ref, sizeof(ref),
			      "verify_confirm.ref") != 0)
		return;

	int rv = store_verify_confirm(call->env->db, &who, ref, section,
				      writable, r->source, (int64_t)time(NULL),
				      &confirmed, &card);
	switch (rv) {
	case 0:
		break;
	case CARTA_ENOENT:
		dispatch_fail(call, C(NOT_FOUND),
			      "no card matches this reference",
			      "verify_confirm.ref");
		return;
	case CARTA_EEXIST:
		dispatch_fail(
		    call, C(FAILED_PRECONDITION),
		    "several cards match this reference; use the customer "
		    "number",
		    "verify_confirm.ref");
		return;
	case CARTA_ESTATE:
		dispatch_fail(call, C(FAILED_PRECONDITION),
			      "this card was erased", "verify_confirm.ref");
		return;
	case CARTA_EPERM:
		dispatch_fail(
		    call, C(FAILED_PRECONDITION),
		    "the card holds nothing to confirm in the sections your "
		    "department may write; name a section",
		    "verify_confirm.section");
		return;
	default:
		dispatch_fail_store(call, rv, "verify_failed");
		return;
	}
	log_event(LOG_INFO, call->out->conn,
		  "event=verify_confirm principal=%s sections=0x%x source=%s",
		  call->caller->name, (unsigned)confirmed, r->source);

	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	if (policy_filter_card(&view, card) != 0) {
		dispatch_fail(call, C(INTERNAL), "out of memory", NULL);
	} else {
		resp.body_case = CARTA__V1__RESPONSE__BODY_CARD;
		resp.card = card;
		fit_card(&resp);
		dispatch_ok(call, &resp, NULL, 0);
	}
	carta__v1__card__free_unpacked(card, NULL);
}

/* ---- stats ------------------------------------------------------------ */

static void stats(dispatch_call *call)
{
	const Carta__V1__StatsRequest *r = call->req->stats;
	Carta__V1__Stats out = CARTA__V1__STATS__INIT;
	store_verify_stats st;
	int64_t period = 0, as_of = 0;

	if (take_seconds(call, r->period, DEFAULT_PERIOD, MAX_PERIOD,
			 "stats.period", &period) != 0 ||
	    take_seconds(call, r->as_of, (int64_t)time(NULL), 2 * MAX_PERIOD,
			 "stats.as_of", &as_of) != 0)
		return;
	int rv = store_verify_stats_get(call->env->db, as_of, period, &st);
	if (rv != 0) {
		dispatch_fail_store(call, rv, "verify_failed");
		return;
	}
	out.cards = st.cards;
	out.verified_within = st.verified_within;
	out.verified_share =
	    st.cards ? (double)st.verified_within / (double)st.cards : 0.0;
	out.period = period;
	out.merged = st.merged;
	out.erased = st.erased;
	out.suppressions = st.suppressions;

	Carta__V1__Response resp = CARTA__V1__RESPONSE__INIT;
	resp.body_case = CARTA__V1__RESPONSE__BODY_STATS;
	resp.stats = &out;
	dispatch_ok(call, &resp, NULL, 0);
}

bool handlers_verify(dispatch_call *call)
{
	switch (call->req->body_case) {
	case CARTA__V1__REQUEST__BODY_VERIFY_DUE:
		verify_due(call);
		return true;
	case CARTA__V1__REQUEST__BODY_VERIFY_CONFIRM:
		verify_confirm(call);
		return true;
	case CARTA__V1__REQUEST__BODY_STATS:
		stats(call);
		return true;
	default:
		return false;
	}
}
