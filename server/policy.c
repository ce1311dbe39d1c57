#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "carta_error.h"
#include "store_card.h"

#define R CARTA__V1__ACCESS__ACCESS_READ
#define W CARTA__V1__ACCESS__ACCESS_WRITE
#define N CARTA__V1__ACCESS__ACCESS_NONE

/* The default policy: rows are sections 1..8 in Carta__V1__Section order. */
static const struct {
	const char *department;
	uint8_t access[CARD_SECTIONS];
} defaults[] = {
    /*                  -  iden con dem pur pref int not cons */
    {"sales", {N, W, W, R, W, W, W, W, R}},
    {"support", {N, W, W, R, R, R, W, W, W}},
    {"marketing", {N, R, R, R, N, W, R, N, W}},
    {"billing", {N, R, W, N, W, N, R, N, R}},
};

int policy_default_access(const char *department, int section)
{
	if (section <= 0 || section >= CARD_SECTIONS)
		return N;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (strcmp(defaults[i].department, department) == 0)
			return defaults[i].access[section];
	return N;
}

int policy_view_load(store *db, const store_principal *caller,
		     policy_view *view)
{
	policy_view_role_only(caller, view);
	if (view->admin)
		return 0;
	return store_policy_get(db, caller->department, view->access);
}

void policy_view_role_only(const store_principal *caller, policy_view *view)
{
	memset(view, 0, sizeof(*view));
	view->admin = caller->role == STORE_ROLE_ADMIN;
	if (view->admin)
		memset(view->access, W, sizeof(view->access));
}

bool policy_needs_view(const policy_needs *needs)
{
	return needs->read != 0 || needs->write != 0 || needs->returns_card ||
	       needs->checks_more;
}

#define BIT(section) (1u << (section))

/* Whether an imported identity carries nothing but the key that finds
 * its card: using it as a key reads the identity, it does not write it. */
static bool identity_only_key(const Carta__V1__Identity *id, int key)
{
	if (id == NULL)
		return true;
	Carta__V1__Identity rest = *id;
	if (key == CARTA__V1__UPSERT_KEY__UPSERT_NUMBER)
		rest.number = (char *)"";
	else if (key == CARTA__V1__UPSERT_KEY__UPSERT_EXTERNAL_ID)
		rest.external_id = (char *)"";
	return !rest.number[0] && !rest.external_id[0] && !rest.given_name[0] &&
	       !rest.family_name[0] && !rest.company[0] && !rest.status[0] &&
	       !rest.home_branch[0];
}

/* An import reads the section of the key that finds existing cards; what
 * each record writes is decided per record (policy_import_record), so
 * that a record the department may not write is reported, not a whole
 * file half-applied. */
static policy_needs import_needs(const Carta__V1__ImportRequest *r)
{
	policy_needs n = {.known = true, .checks_more = true};

	switch (r->upsert_by) {
	case CARTA__V1__UPSERT_KEY__UPSERT_NONE:
		break;
	case CARTA__V1__UPSERT_KEY__UPSERT_EMAIL:
		n.read |= BIT(CARTA__V1__SECTION__SECTION_CONTACT);
		break;
	case CARTA__V1__UPSERT_KEY__UPSERT_NUMBER:
	case CARTA__V1__UPSERT_KEY__UPSERT_EXTERNAL_ID:
		n.read |= BIT(CARTA__V1__SECTION__SECTION_IDENTITY);
		break;
	default:
		n.known = false; /* the handler refuses it as malformed */
		break;
	}
	return n;
}

policy_needs policy_import_record(const policy_view *view,
				  const Carta__V1__ImportRequest *r,
				  const Carta__V1__Card *c, uint32_t *unchanged)
{
	policy_needs n = {.known = true};
	bool creates = r->upsert_by == CARTA__V1__UPSERT_KEY__UPSERT_NONE ||
		       r->create_missing;

	n.write = card_new_sections(c);
	if (!creates && identity_only_key(c->identity, r->upsert_by))
		n.write &= ~BIT(CARTA__V1__SECTION__SECTION_IDENTITY);

	/* Only sections the view may read: whether a record changes a
	 * section it may not read would tell what the section holds. */
	*unchanged = 0;
	if (view->admin || r->upsert_by == CARTA__V1__UPSERT_KEY__UPSERT_NONE)
		return n;
	for (int s = 1; s < CARD_SECTIONS; s++)
		if ((n.write & BIT(s)) &&
		    view->access[s] == CARTA__V1__ACCESS__ACCESS_READ) {
			n.write &= ~BIT(s);
			n.read |= BIT(s);
			*unchanged |= BIT(s);
		}
	return n;
}

policy_needs policy_needs_of(const Carta__V1__Request *req, int field_section)
{
	policy_needs n = {.known = true};

	/* Every request answered with a card. */
	n.returns_card =
	    req->body_case == CARTA__V1__REQUEST__BODY_CUSTOMER_GET ||
	    req->body_case == CARTA__V1__REQUEST__BODY_CUSTOMER_ADD ||
	    req->body_case == CARTA__V1__REQUEST__BODY_CUSTOMER_EDIT ||
	    req->body_case == CARTA__V1__REQUEST__BODY_CUSTOMER_ARCHIVE ||
	    req->body_case == CARTA__V1__REQUEST__BODY_CUSTOM_SET;

	switch (req->body_case) {
	case CARTA__V1__REQUEST__BODY_PING:
	case CARTA__V1__REQUEST__BODY_DEPARTMENT_LIST:
	case CARTA__V1__REQUEST__BODY_POLICY_SHOW:
	case CARTA__V1__REQUEST__BODY_FIELD_LIST:
		break;
	/* A card is filtered on the way out; asking needs no section. */
	case CARTA__V1__REQUEST__BODY_CUSTOMER_GET:
		break;
	case CARTA__V1__REQUEST__BODY_ENROL:
	case CARTA__V1__REQUEST__BODY_REVOKE:
	case CARTA__V1__REQUEST__BODY_LIST_PRINCIPALS:
	case CARTA__V1__REQUEST__BODY_DEPARTMENT_ADD:
	case CARTA__V1__REQUEST__BODY_POLICY_SET:
	case CARTA__V1__REQUEST__BODY_FIELD_DEFINE:
	case CARTA__V1__REQUEST__BODY_AUDIT:
		n.admin_only = true;
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOMER_ADD:
		/* Creating a card writes its identity, and every section
		 * the request fills in. */
		n.write = BIT(CARTA__V1__SECTION__SECTION_IDENTITY);
		if (req->customer_add->card != NULL)
			n.write = card_new_sections(req->customer_add->card);
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOMER_EDIT:
		if (card_section_name(req->customer_edit->section))
			n.write = BIT(req->customer_edit->section);
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOMER_ARCHIVE:
		n.write = BIT(CARTA__V1__SECTION__SECTION_IDENTITY);
		break;
	case CARTA__V1__REQUEST__BODY_PURCHASE_ADD:
		n.write = BIT(CARTA__V1__SECTION__SECTION_PURCHASES);
		break;
	case CARTA__V1__REQUEST__BODY_PURCHASE_LIST:
		n.read = BIT(CARTA__V1__SECTION__SECTION_PURCHASES);
		break;
	case CARTA__V1__REQUEST__BODY_INTERACTION_ADD:
		n.write = BIT(CARTA__V1__SECTION__SECTION_INTERACTIONS);
		break;
	case CARTA__V1__REQUEST__BODY_INTERACTION_LIST:
		n.read = BIT(CARTA__V1__SECTION__SECTION_INTERACTIONS);
		break;
	case CARTA__V1__REQUEST__BODY_NOTE_ADD:
		n.write = BIT(CARTA__V1__SECTION__SECTION_NOTES);
		break;
	case CARTA__V1__REQUEST__BODY_NOTE_LIST:
		n.read = BIT(CARTA__V1__SECTION__SECTION_NOTES);
		break;
	case CARTA__V1__REQUEST__BODY_CONSENT_SET:
		n.write = BIT(CARTA__V1__SECTION__SECTION_CONSENT);
		break;
	case CARTA__V1__REQUEST__BODY_CONSENT_LIST:
		n.read = BIT(CARTA__V1__SECTION__SECTION_CONSENT);
		break;
	case CARTA__V1__REQUEST__BODY_PREF_SET:
	case CARTA__V1__REQUEST__BODY_PREF_UNSET:
		n.write = BIT(CARTA__V1__SECTION__SECTION_PREFERENCES);
		break;
	case CARTA__V1__REQUEST__BODY_CUSTOM_SET:
		if (card_section_name(field_section))
			n.write = BIT(field_section);
		break;
	case CARTA__V1__REQUEST__BODY_IMPORT:
		n = import_needs(req->import);
		break;
	/* The query engine adds the sections its text, filter and sort
	 * read (query_needs) and filters every card it answers. */
	case CARTA__V1__REQUEST__BODY_QUERY:
	case CARTA__V1__REQUEST__BODY_SEGMENT_SAVE:
	case CARTA__V1__REQUEST__BODY_SEGMENT_SHOW:
		n.returns_card = true;
		break;
	/* Segments belong to the caller's department. */
	case CARTA__V1__REQUEST__BODY_SEGMENT_LIST:
	case CARTA__V1__REQUEST__BODY_SEGMENT_DELETE:
		break;
	/* The evidence of a pair is names, contact points and birth
	 * dates; a filter adds what it reads (query_needs). */
	case CARTA__V1__REQUEST__BODY_DEDUP_SCAN:
		n.read = BIT(CARTA__V1__SECTION__SECTION_IDENTITY) |
			 BIT(CARTA__V1__SECTION__SECTION_CONTACT) |
			 BIT(CARTA__V1__SECTION__SECTION_DEMOGRAPHICS);
		break;
	/* A merge or unmerge changes the identity of both cards (one
	 * becomes a pointer) and every section it moves: the handler adds
	 * those once it knows them. Which sections those are depends on
	 * what the cards hold, so a caller must be able to read them all:
	 * else a refusal would tell that an unreadable section has data. */
	case CARTA__V1__REQUEST__BODY_MERGE:
	case CARTA__V1__REQUEST__BODY_UNMERGE:
		for (int s = 1; s < CARD_SECTIONS; s++)
			n.read |= BIT(s);
		n.write = BIT(CARTA__V1__SECTION__SECTION_IDENTITY);
		n.returns_card = true;
		break;
	/* Due cards are shown with a contact point on a channel the person
	 * prefers and has consented to. */
	case CARTA__V1__REQUEST__BODY_VERIFY_DUE:
		n.read = BIT(CARTA__V1__SECTION__SECTION_IDENTITY) |
			 BIT(CARTA__V1__SECTION__SECTION_CONTACT) |
			 BIT(CARTA__V1__SECTION__SECTION_CONSENT);
		break;
	/* Confirming a section is writing it; with no section, the handler
	 * confirms the sections the caller may write. */
	case CARTA__V1__REQUEST__BODY_VERIFY_CONFIRM:
		if (card_section_name(req->verify_confirm->section))
			n.write = BIT(req->verify_confirm->section);
		n.checks_more = true;
		break;
	case CARTA__V1__REQUEST__BODY_STATS:
	case CARTA__V1__REQUEST__BODY_ERASE:
		n.admin_only = true;
		break;
	default:
		n.known = false;
		break;
	}
	return n;
}

uint32_t policy_hidden(const policy_view *view)
{
	uint32_t hidden = 0;

	if (view->admin)
		return 0;
	for (int s = 1; s < CARD_SECTIONS; s++)
		if (view->access[s] < CARTA__V1__ACCESS__ACCESS_READ)
			hidden |= BIT(s);
	return hidden;
}

int policy_check(const policy_view *view, const policy_needs *needs,
		 const char **why, int *section)
{
	*section = 0;
	if (!needs->known) {
		*why = "no policy covers this request";
		return CARTA_EPERM;
	}
	if (view->admin)
		return 0;
	if (needs->admin_only) {
		*why = "only admins may do this";
		return CARTA_EPERM;
	}
	for (int s = 1; s < CARD_SECTIONS; s++) {
		if ((needs->write & BIT(s)) &&
		    view->access[s] < CARTA__V1__ACCESS__ACCESS_WRITE) {
			*why = "your department may not write this section";
			*section = s;
			return CARTA_EPERM;
		}
		if ((needs->read & BIT(s)) &&
		    view->access[s] < CARTA__V1__ACCESS__ACCESS_READ) {
			*why = "your department may not read this section";
			*section = s;
			return CARTA_EPERM;
		}
	}
	return 0;
}

static void free_items(void **items, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		protobuf_c_message_free_unpacked(items[i], NULL);
	free(items);
	*n = 0;
}

int policy_filter_card(const policy_view *view, Carta__V1__Card *c)
{
	Carta__V1__Section *withheld = NULL;
	size_t nwithheld = 0;

	for (int s = 1; s < CARD_SECTIONS; s++) {
		if (view->access[s] >= CARTA__V1__ACCESS__ACCESS_READ)
			continue;
		Carta__V1__Section *grown =
		    realloc(withheld, (nwithheld + 1) * sizeof(*grown));
		if (grown == NULL) {
			free(withheld);
			return CARTA_ENOMEM;
		}
		withheld = grown;
		withheld[nwithheld++] = (Carta__V1__Section)s;

		switch (s) {
		case CARTA__V1__SECTION__SECTION_IDENTITY:
			/* The number and id stay: they are how the card is
			 * named, not what it says. */
			if (c->identity != NULL) {
				char *number = c->identity->number;
				c->identity->number =
				    (char *)protobuf_c_empty_string;
				carta__v1__identity__free_unpacked(c->identity,
								   NULL);
				c->identity = malloc(sizeof(*c->identity));
				if (c->identity == NULL) {
					free(number);
					free(withheld);
					return CARTA_ENOMEM;
				}
				carta__v1__identity__init(c->identity);
				c->identity->number = number;
			}
			break;
		case CARTA__V1__SECTION__SECTION_CONTACT:
			carta__v1__contact__free_unpacked(c->contact, NULL);
			c->contact = NULL;
			break;
		case CARTA__V1__SECTION__SECTION_DEMOGRAPHICS:
			carta__v1__demographics__free_unpacked(c->demographics,
							       NULL);
			c->demographics = NULL;
			break;
		case CARTA__V1__SECTION__SECTION_PURCHASES:
			free_items((void **)c->purchases, &c->n_purchases);
			c->purchases = NULL;
			break;
		case CARTA__V1__SECTION__SECTION_PREFERENCES:
			free_items((void **)c->preferences, &c->n_preferences);
			c->preferences = NULL;
			break;
		case CARTA__V1__SECTION__SECTION_INTERACTIONS:
			free_items((void **)c->interactions,
				   &c->n_interactions);
			c->interactions = NULL;
			break;
		case CARTA__V1__SECTION__SECTION_NOTES:
			free_items((void **)c->notes, &c->n_notes);
			c->notes = NULL;
			break;
		case CARTA__V1__SECTION__SECTION_CONSENT:
			free_items((void **)c->consents, &c->n_consents);
			c->consents = NULL;
			break;
		}
	}

	/* Custom values and section versions of withheld sections go too. */
	size_t keep = 0;
	for (size_t i = 0; i < c->n_custom; i++) {
		int s = c->custom[i]->section;
		if (s > 0 && s < CARD_SECTIONS &&
		    view->access[s] >= CARTA__V1__ACCESS__ACCESS_READ)
			c->custom[keep++] = c->custom[i];
		else
			carta__v1__custom_value__free_unpacked(c->custom[i],
							       NULL);
	}
	c->n_custom = keep;
	keep = 0;
	for (size_t i = 0; i < c->n_sections; i++) {
		int s = c->sections[i]->section;
		if (s > 0 && s < CARD_SECTIONS &&
		    view->access[s] >= CARTA__V1__ACCESS__ACCESS_READ)
			c->sections[keep++] = c->sections[i];
		else
			carta__v1__section_version__free_unpacked(
			    c->sections[i], NULL);
	}
	c->n_sections = keep;
	keep = 0;
	for (size_t i = 0; i < c->n_more_items; i++) {
		int s = c->more_items[i];
		if (s > 0 && s < CARD_SECTIONS &&
		    view->access[s] >= CARTA__V1__ACCESS__ACCESS_READ)
			c->more_items[keep++] = c->more_items[i];
	}
	c->n_more_items = keep;
	keep = 0;
	for (size_t i = 0; i < c->n_history; i++) {
		int s = c->history[i]->section;
		if (s > 0 && s < CARD_SECTIONS &&
		    view->access[s] >= CARTA__V1__ACCESS__ACCESS_READ)
			c->history[keep++] = c->history[i];
		else
			carta__v1__history_entry__free_unpacked(c->history[i],
								NULL);
	}
	c->n_history = keep;

	/* The card's own version and time move with every section: with a
	 * section withheld they would tell when it changed. Show the latest
	 * readable section's time instead, and no card version. */
	if (nwithheld > 0) {
		c->version = 0;
		c->updated_at = c->created_at;
		for (size_t i = 0; i < c->n_sections; i++)
			if (c->sections[i]->updated_at > c->updated_at)
				c->updated_at = c->sections[i]->updated_at;
	}
	free(c->withheld);
	c->withheld = withheld;
	c->n_withheld = nwithheld;
	return 0;
}
