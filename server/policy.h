/* Who may do what: the one place where the server decides whether a
 * principal may make a request and what of a card it may see. Every
 * request passes policy_check before its handler runs, and every card a
 * response carries passes policy_filter_card. A request kind without a
 * rule here is refused, so a request added later cannot slip through. */
#ifndef CARTAD_POLICY_H
#define CARTAD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "card.h"
#include "carta.pb-c.h"
#include "store.h"

/* What the caller may do, per section (Carta__V1__Access). */
typedef struct {
	bool admin;
	uint8_t access[CARD_SECTIONS];
} policy_view;

/* Loads the caller's view: admins may do everything; others get their
 * department's policy. Returns 0 or a store error. */
int policy_view_load(store *db, const store_principal *caller,
		     policy_view *view);

/* The sections a request reads and writes, as bit masks (1 << section),
 * and whether it is for admins only. */
typedef struct {
	uint32_t read, write;
	bool admin_only;
	bool known;
	bool returns_card; /* the answer carries a card to filter */
	bool checks_more;  /* the handler checks more with the policy */
} policy_needs;

/* Whether deciding on needs, or filtering its answer, depends on the
 * department's policy (and not only on the caller's role). */
bool policy_needs_view(const policy_needs *needs);

/* The view of a caller whose department's policy does not matter for the
 * request: admin or not, no section access. */
void policy_view_role_only(const store_principal *caller, policy_view *view);

/* The needs of req. field_section is the section of the custom field a
 * CustomSet request names (0 otherwise). */
policy_needs policy_needs_of(const Carta__V1__Request *req, int field_section);

/* What one record of an import writes: every section it carries, with
 * identity only when the record may create a card or sets more than the
 * key that finds it. Custom values count for the sections their fields
 * belong to (card->custom[i]->section, set once the field is known).
 * An update that brings a section back as the card holds it writes
 * nothing: so that a department can import its own export, a section the
 * view may read but not write is moved from the writes to the reads and
 * into *unchanged, the sections the store must find unchanged by the
 * record (or reject it, and never create a card with them). */
policy_needs policy_import_record(const policy_view *view,
				  const Carta__V1__ImportRequest *r,
				  const Carta__V1__Card *card,
				  uint32_t *unchanged);

/* Returns 0 when view allows needs; otherwise CARTA_EPERM with *why a
 * static reason and *section the first section refused (0 when the
 * refusal is not about a section). */
int policy_check(const policy_view *view, const policy_needs *needs,
		 const char **why, int *section);

/* The sections (1 << section) the view may not read; 0 for an admin. */
uint32_t policy_hidden(const policy_view *view);

/* Removes from card every section the view cannot read, including custom
 * values that belong to such sections, and lists them in card->withheld.
 * Returns 0 or CARTA_ENOMEM. */
int policy_filter_card(const policy_view *view, Carta__V1__Card *card);

/* The access a new store grants department to section (the default
 * table in README.md); ACCESS_NONE for departments not in it. */
int policy_default_access(const char *department, int section);

#endif
